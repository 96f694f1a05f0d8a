// SPDX-License-Identifier: GPL-2.0
/*
 * The fbt provider: fbt:<module>:<function>:entry and :return on kprobes
 * and kretprobes, registered only while the probe is enabled.
 *
 * The module cannot list kernel functions (kallsyms_lookup_name and
 * kallsyms_on_each_symbol are not exported), so probes come from names:
 *
 *  - DTRACEIOC_FBTPROVIDE hands over many (function, address) pairs that
 *    user space read from /proc/kallsyms, for the functions ftrace can
 *    trace (available_filter_functions) less the kprobes blacklist.  A pair
 *    makes probes only when sprint_symbol() names that function at exactly
 *    that address; it also names the module ("vmlinux" for the kernel
 *    image).  A binary search per function: this is how `pydtrace -l`
 *    lists every function and how globs are provided.
 *  - A description naming one function exactly (no glob) is tried with a
 *    disabled kprobe on that symbol, which checks existence and the
 *    blacklist; its address is kept.
 *
 * Functions of the dtrace module itself are refused.  Nothing is armed
 * until enable: then a kprobe (or kretprobe) is allocated and registered
 * on the function's address, after sprint_symbol() confirms that the
 * function is still there (a module may have gone or moved; its probes
 * are provided again with the new address).  Disabled kprobes are
 * unregistered together when the framework flushes, before it drops
 * dtrace_lock: one RCU grace period for all the probes of a consumer.
 *
 * entry: arg0..arg5 are the function's register arguments (x86-64 ABI).
 * return: arg0 = 0 (a kretprobe does not say which return instruction was
 * taken), arg1 = the return value (rax).
 */
#include <linux/kernel.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "dtrace_impl.h"

#define FBT_RETURN	1UL		/* parg tag of a return probe */
#define FBT_HASH_BITS	14

struct dtrace_fbt_kp {
	struct kprobe kp;
	u32 id;
	struct dtrace_fbt_kp *next;	/* disabled, to unregister; dtrace_lock */
};

struct dtrace_fbt_krp {
	struct kretprobe krp;
	u32 id;
	struct dtrace_fbt_krp *next;	/* disabled, to unregister; dtrace_lock */
};

/* One function; its names live in its entry probe. */
struct dtrace_fbt {
	struct hlist_node node;		/* dtrace_fbt_hash; dtrace_lock */
	refcount_t refs;		/* one per probe */
	u32 entry_id;
	u32 return_id;
	unsigned long addr;		/* where the function starts */
	bool by_name;			/* found by name: armed by name */
	struct dtrace_fbt_kp *kp;	/* while entry is enabled */
	struct dtrace_fbt_krp *krp;	/* while return is enabled */
};

static DEFINE_HASHTABLE(dtrace_fbt_hash, FBT_HASH_BITS);
static unsigned int dtrace_fbt_armed;		/* dtrace_lock */
static unsigned int dtrace_fbt_count;		/* dtrace_lock */
/* Disabled since the last flush, still registered (dtrace_lock). */
static struct dtrace_fbt_kp *dtrace_fbt_dead_kps;
static struct dtrace_fbt_krp *dtrace_fbt_dead_krps;
static unsigned int dtrace_fbt_ndead_kps, dtrace_fbt_ndead_krps;

/*
 * ---------------------------------------------------------------------------
 * Probe context: kprobe handlers (preemption disabled).
 * ---------------------------------------------------------------------------
 */
static notrace int dtrace_fbt_entry(struct kprobe *kp, struct pt_regs *regs)
{
	struct dtrace_fbt_kp *fk = container_of(kp, struct dtrace_fbt_kp, kp);

	dtrace_probe_regs(fk->id, regs, DTRACE_REGS_ENTRY, regs->di,
			  regs->si, regs->dx, regs->cx, regs->r8, regs->r9);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_fbt_entry);

static notrace int dtrace_fbt_return(struct kretprobe_instance *ri,
				     struct pt_regs *regs)
{
	struct kretprobe *krp = get_kretprobe(ri);
	struct dtrace_fbt_krp *fr;

	if (!krp)
		return 0;
	fr = container_of(krp, struct dtrace_fbt_krp, krp);
	dtrace_probe_regs(fr->id, regs, 0, 0, regs_return_value(regs), 0, 0, 0,
			  0);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_fbt_return);

/*
 * ---------------------------------------------------------------------------
 * Symbols (process context)
 * ---------------------------------------------------------------------------
 */

/*
 * What the kernel's symbol table says is at addr: the symbol's name in
 * func (at most funclen - 1 bytes, else -ENAMETOOLONG), the offset of addr
 * in it, and its module ("vmlinux" for the kernel image).  sprint_symbol()
 * writes "name+0xoff/0xsize" and " [module]" for a module.
 */
static int dtrace_fbt_symbol(unsigned long addr, char *func, size_t funclen,
			     unsigned long *off, char *mod, size_t modlen)
{
	char sym[KSYM_SYMBOL_LEN];
	char *plus, *slash, *open, *close;

	sprint_symbol(sym, addr);
	plus = strrchr(sym, '+');
	slash = plus ? strchr(plus, '/') : NULL;
	if (!plus || !slash || plus == sym)
		return -ENOENT;
	*slash = '\0';
	if (kstrtoul(plus + 1, 16, off))
		return -ENOENT;
	if (plus - sym >= funclen)
		return -ENAMETOOLONG;
	memcpy(func, sym, plus - sym);
	func[plus - sym] = '\0';

	open = strchr(slash + 1, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close || close - open - 1 <= 0) {
		strscpy(mod, "vmlinux", modlen);
		return 0;
	}
	if (close - open - 1 >= modlen)
		return -ENAMETOOLONG;
	memcpy(mod, open + 1, close - open - 1);
	mod[close - open - 1] = '\0';
	return 0;
}

/* Does the kernel name func (of module mod) at exactly addr? */
static bool dtrace_fbt_at(unsigned long addr, const char *func,
			  const char *mod)
{
	char sfunc[DTRACE_FUNCNAMELEN], smod[DTRACE_MODNAMELEN];
	unsigned long off;

	return !dtrace_fbt_symbol(addr, sfunc, sizeof(sfunc), &off, smod,
				  sizeof(smod)) &&
	       off == 0 && !strcmp(sfunc, func) &&
	       (!mod || !strcmp(smod, mod));
}

/*
 * ---------------------------------------------------------------------------
 * Probe creation (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */
static struct dtrace_provider dtrace_fbt_prov;

static u32 dtrace_fbt_hashkey(const char *func)
{
	return jhash(func, strlen(func), 0);
}

static const struct dtrace_probe *dtrace_fbt_probe(const struct dtrace_fbt *fbt)
{
	return dtrace_probe_get(fbt->entry_id);
}

/* The function's probes, by name and (unless NULL) module. */
static struct dtrace_fbt *dtrace_fbt_lookup(const char *func, const char *mod)
{
	const struct dtrace_probe *probe;
	struct dtrace_fbt *fbt;

	hash_for_each_possible(dtrace_fbt_hash, fbt, node,
			       dtrace_fbt_hashkey(func)) {
		probe = dtrace_fbt_probe(fbt);
		if (probe && !strcmp(probe->func, func) &&
		    (!mod || !strcmp(probe->mod, mod)))
			return fbt;
	}
	return NULL;
}

/* A function whose probes exist: keep its address up to date. */
static void dtrace_fbt_refresh(struct dtrace_fbt *fbt, unsigned long addr)
{
	const struct dtrace_probe *probe = dtrace_fbt_probe(fbt);

	if (fbt->addr == addr || fbt->kp || fbt->krp || !probe)
		return;
	if (!dtrace_fbt_at(fbt->addr, probe->func, probe->mod))
		fbt->addr = addr;
}

static struct dtrace_fbt *dtrace_fbt_create(const char *func, const char *mod,
					    unsigned long addr)
{
	struct dtrace_fbt *fbt;

	if (!strcmp(mod, THIS_MODULE->name))
		return NULL;
	fbt = dtrace_zalloc(sizeof(*fbt));
	if (!fbt)
		return NULL;
	fbt->addr = addr;
	refcount_set(&fbt->refs, 1);
	fbt->entry_id = dtrace_probe_create(&dtrace_fbt_prov, mod, func,
					    "entry", fbt);
	if (!fbt->entry_id) {
		dtrace_free(fbt);
		return NULL;
	}
	hash_add(dtrace_fbt_hash, &fbt->node, dtrace_fbt_hashkey(func));
	dtrace_fbt_count++;
	refcount_inc(&fbt->refs);
	fbt->return_id = dtrace_probe_create(&dtrace_fbt_prov, mod, func,
					     "return",
					     (void *)((uintptr_t)fbt |
						      FBT_RETURN));
	if (!fbt->return_id)
		refcount_dec(&fbt->refs);	/* the entry probe's stays */
	return fbt;
}

/*
 * Can func be probed?  A disabled kprobe arms nothing; registering it
 * checks existence and the blacklist.  On success, its address and module.
 */
static int dtrace_fbt_try(const char *func, unsigned long *addr, char *mod,
			  size_t modlen)
{
	char sfunc[DTRACE_FUNCNAMELEN];
	struct kprobe kp = {
		.symbol_name = func,
		.flags = KPROBE_FLAG_DISABLED,
	};
	unsigned long off;
	int err;

	err = register_kprobe(&kp);
	if (err)
		return err;
	err = dtrace_fbt_symbol((unsigned long)kp.addr, sfunc, sizeof(sfunc),
				&off, mod, modlen);
	unregister_kprobe(&kp);
	if (err)
		return err;
	/* kp.addr may be past the function's endbr64 */
	*addr = (unsigned long)kp.addr - off;
	return 0;
}

static bool dtrace_fbt_is_glob(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static void dtrace_fbt_provide(struct dtrace_provider *prov,
			       const struct dtrace_probedesc *desc)
{
	const char *func, *mod;
	struct dtrace_fbt *fbt;
	char smod[DTRACE_MODNAMELEN];
	unsigned long addr;

	lockdep_assert_held(&dtrace_lock);
	if (!desc)
		return;
	if (desc->dtpd_provider[0] && strcmp(desc->dtpd_provider, prov->name))
		return;
	if (!memchr(desc->dtpd_func, 0, sizeof(desc->dtpd_func)) ||
	    !memchr(desc->dtpd_mod, 0, sizeof(desc->dtpd_mod)))
		return;
	func = desc->dtpd_func;
	if (!func[0] || dtrace_fbt_is_glob(func))
		return;
	mod = desc->dtpd_mod;
	if (!mod[0] || dtrace_fbt_is_glob(mod))
		mod = NULL;
	fbt = dtrace_fbt_lookup(func, mod);
	if (fbt) {
		const struct dtrace_probe *probe = dtrace_fbt_probe(fbt);

		if (!probe || fbt->by_name ||
		    dtrace_fbt_at(fbt->addr, func, probe->mod))
			return;
		/* its module went away or moved: look the function up again */
	}
	if (dtrace_fbt_try(func, &addr, smod, sizeof(smod)))
		return;
	fbt = dtrace_fbt_lookup(func, smod);	/* desc's module may differ */
	if (fbt) {
		dtrace_fbt_refresh(fbt, addr);
		return;
	}
	fbt = dtrace_fbt_create(func, smod, addr);
	/* the kernel's name for addr may be another (an alias) */
	if (fbt && !dtrace_fbt_at(addr, func, smod))
		fbt->by_name = true;
}

/*
 * DTRACEIOC_FBTPROVIDE: the probes of each (function, address) pair the
 * kernel's symbol table confirms.  Returns the number of functions given
 * new probes, or a negative error for a bad argument.
 */
static long dtrace_fbt_provide_one(const struct dtrace_fbtfunc *ff)
{
	char sfunc[DTRACE_FUNCNAMELEN], smod[DTRACE_MODNAMELEN];
	unsigned long off, addr = (unsigned long)ff->dtff_addr;
	struct dtrace_fbt *fbt;

	if (!memchr(ff->dtff_func, 0, sizeof(ff->dtff_func)))
		return -EINVAL;
	if (!ff->dtff_func[0] || addr != ff->dtff_addr)
		return 0;
	if (dtrace_fbt_symbol(addr, sfunc, sizeof(sfunc), &off, smod,
			      sizeof(smod)) ||
	    off || strcmp(sfunc, ff->dtff_func))
		return 0;
	fbt = dtrace_fbt_lookup(sfunc, smod);
	if (fbt) {
		dtrace_fbt_refresh(fbt, addr);
		return 0;
	}
	return dtrace_fbt_create(sfunc, smod, addr) ? 1 : 0;
}

#define FBT_CHUNK	32

long dtrace_fbt_provide_funcs(void __user *uarg)
{
	struct dtrace_fbtprovide fp;
	struct dtrace_fbtfunc *chunk;
	const struct dtrace_fbtfunc __user *src;
	u32 done, n, i, created = 0;
	long rv = 0;

	if (copy_from_user(&fp, uarg, sizeof(fp)))
		return -EFAULT;
	if (fp.dtfp_count > DTRACE_FBTPROVIDE_MAX || fp.dtfp_created)
		return -EINVAL;
	src = u64_to_user_ptr(fp.dtfp_funcs);
	chunk = kmalloc_array(FBT_CHUNK, sizeof(*chunk), GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	for (done = 0; done < fp.dtfp_count && rv >= 0; done += n) {
		n = min_t(u32, FBT_CHUNK, fp.dtfp_count - done);
		if (copy_from_user(chunk, src + done, n * sizeof(*chunk))) {
			rv = -EFAULT;
			break;
		}
		mutex_lock(&dtrace_lock);
		for (i = 0; i < n; i++) {
			rv = dtrace_fbt_provide_one(&chunk[i]);
			if (rv < 0)
				break;
			created += rv;
		}
		mutex_unlock(&dtrace_lock);
		cond_resched();
	}
	kfree(chunk);
	if (rv < 0)
		return rv;
	fp.dtfp_created = created;
	return copy_to_user(uarg, &fp, sizeof(fp)) ? -EFAULT : 0;
}

/*
 * ---------------------------------------------------------------------------
 * Enable, disable, destroy (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */
static struct dtrace_fbt *dtrace_fbt_of(void *parg, bool *ret)
{
	*ret = (uintptr_t)parg & FBT_RETURN;
	return (struct dtrace_fbt *)((uintptr_t)parg & ~FBT_RETURN);
}

static int dtrace_fbt_enable(struct dtrace_provider *prov, u32 id,
			     void *parg)
{
	const struct dtrace_probe *probe = dtrace_probe_get(id);
	bool ret;
	struct dtrace_fbt *fbt = dtrace_fbt_of(parg, &ret);
	struct dtrace_fbt_krp *fr;
	struct dtrace_fbt_kp *fk;
	int err;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(!probe || (ret ? !!fbt->krp : !!fbt->kp)))
		return -EBUSY;
	/*
	 * A function found by its name may be an alias (__x64_sys_getppid is
	 * also __ia32_sys_getppid), which sprint_symbol() does not give back:
	 * kprobes looks its name up again.  One found at an address is
	 * checked to be still there.
	 */
	if (!fbt->by_name && !dtrace_fbt_at(fbt->addr, probe->func, probe->mod))
		return -ENOENT;		/* gone: provide it again */
	if (ret) {
		fr = dtrace_zalloc(sizeof(*fr));
		if (!fr)
			return -ENOMEM;
		fr->id = id;
		if (fbt->by_name)
			fr->krp.kp.symbol_name = probe->func;
		else
			fr->krp.kp.addr = (kprobe_opcode_t *)fbt->addr;
		fr->krp.handler = dtrace_fbt_return;
		err = register_kretprobe(&fr->krp);
		if (err) {
			dtrace_free(fr);
			return err;
		}
		fbt->krp = fr;
	} else {
		fk = dtrace_zalloc(sizeof(*fk));
		if (!fk)
			return -ENOMEM;
		fk->id = id;
		if (fbt->by_name)
			fk->kp.symbol_name = probe->func;
		else
			fk->kp.addr = (kprobe_opcode_t *)fbt->addr;
		fk->kp.pre_handler = dtrace_fbt_entry;
		err = register_kprobe(&fk->kp);
		if (err) {
			dtrace_free(fk);
			return err;
		}
		fbt->kp = fk;
	}
	dtrace_fbt_armed++;
	return 0;
}

/*
 * The probe's kprobe goes on a list: dtrace_fbt_flush() unregisters the
 * whole list with one RCU grace period (unregister_kprobe() waits for one
 * each, ~100 ms under emulation).  Until then its handler may still run,
 * and finds no ECB.
 */
static void dtrace_fbt_disable(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	bool ret;
	struct dtrace_fbt *fbt = dtrace_fbt_of(parg, &ret);

	lockdep_assert_held(&dtrace_lock);
	if (ret) {
		if (WARN_ON_ONCE(!fbt->krp))
			return;
		fbt->krp->next = dtrace_fbt_dead_krps;
		dtrace_fbt_dead_krps = fbt->krp;
		dtrace_fbt_ndead_krps++;
		fbt->krp = NULL;
	} else {
		if (WARN_ON_ONCE(!fbt->kp))
			return;
		fbt->kp->next = dtrace_fbt_dead_kps;
		dtrace_fbt_dead_kps = fbt->kp;
		dtrace_fbt_ndead_kps++;
		fbt->kp = NULL;
	}
}

/* Unregister the disabled kprobes, one batch each for kprobes and kretprobes. */
static void dtrace_fbt_flush_kps(void)
{
	struct dtrace_fbt_kp *fk, *next;
	struct kprobe **kps;
	unsigned int i, n = dtrace_fbt_ndead_kps;

	if (!n)
		return;
	kps = kmalloc_array(n, sizeof(*kps), GFP_KERNEL);
	for (i = 0, fk = dtrace_fbt_dead_kps; fk; fk = fk->next) {
		if (kps && !WARN_ON_ONCE(i >= n))
			kps[i++] = &fk->kp;
		else
			unregister_kprobe(&fk->kp);	/* no memory: one by one */
	}
	if (kps)
		unregister_kprobes(kps, i);
	kfree(kps);
	for (fk = dtrace_fbt_dead_kps; fk; fk = next) {
		next = fk->next;
		dtrace_free(fk);
	}
	WARN_ON_ONCE(dtrace_fbt_armed < n);
	dtrace_fbt_armed -= n;
	dtrace_fbt_dead_kps = NULL;
	dtrace_fbt_ndead_kps = 0;
}

static void dtrace_fbt_flush_krps(void)
{
	struct dtrace_fbt_krp *fr, *next;
	struct kretprobe **krps;
	unsigned int i, n = dtrace_fbt_ndead_krps;

	if (!n)
		return;
	krps = kmalloc_array(n, sizeof(*krps), GFP_KERNEL);
	for (i = 0, fr = dtrace_fbt_dead_krps; fr; fr = fr->next) {
		if (krps && !WARN_ON_ONCE(i >= n))
			krps[i++] = &fr->krp;
		else
			unregister_kretprobe(&fr->krp);
	}
	/* Returns when no handler runs and no instance is pending. */
	if (krps)
		unregister_kretprobes(krps, i);
	kfree(krps);
	for (fr = dtrace_fbt_dead_krps; fr; fr = next) {
		next = fr->next;
		dtrace_free(fr);
	}
	WARN_ON_ONCE(dtrace_fbt_armed < n);
	dtrace_fbt_armed -= n;
	dtrace_fbt_dead_krps = NULL;
	dtrace_fbt_ndead_krps = 0;
}

static void dtrace_fbt_flush(struct dtrace_provider *prov)
{
	lockdep_assert_held(&dtrace_lock);
	dtrace_fbt_flush_kps();
	dtrace_fbt_flush_krps();
}

static void dtrace_fbt_destroy(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	bool ret;
	struct dtrace_fbt *fbt = dtrace_fbt_of(parg, &ret);

	lockdep_assert_held(&dtrace_lock);
	WARN_ON_ONCE(ret ? !!fbt->krp : !!fbt->kp);
	if (!refcount_dec_and_test(&fbt->refs))
		return;
	hash_del(&fbt->node);
	dtrace_fbt_count--;
	dtrace_free(fbt);
}

static const struct dtrace_provider_ops dtrace_fbt_ops = {
	.provide = dtrace_fbt_provide,
	.enable = dtrace_fbt_enable,
	.disable = dtrace_fbt_disable,
	.destroy = dtrace_fbt_destroy,
	.flush = dtrace_fbt_flush,
};

/*
 * Each armed probe is a kprobe registered under dtrace_lock (tens of ms
 * under emulation): an enabling may arm at most this many.  pydtrace
 * itself refuses a description naming more than 2000 functions.
 */
#define FBT_ENABLE_LIMIT	8192

static struct dtrace_provider dtrace_fbt_prov = {
	.name = "fbt",
	.ops = &dtrace_fbt_ops,
	.enable_limit = FBT_ENABLE_LIMIT,
};

int dtrace_prov_fbt_init(void)
{
	return dtrace_provider_register(&dtrace_fbt_prov);
}

void dtrace_prov_fbt_exit(void)
{
	WARN_ON_ONCE(dtrace_fbt_dead_kps || dtrace_fbt_dead_krps);
	WARN_ON_ONCE(dtrace_fbt_armed);
	dtrace_provider_unregister(&dtrace_fbt_prov);
	WARN_ON_ONCE(dtrace_fbt_count);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The fbt provider: fbt:<module>:<function>:entry and :return on kprobes
 * and kretprobes, registered only while the probe is enabled.
 *
 * The module cannot list kernel functions (kallsyms_lookup_name and
 * kallsyms_on_each_symbol are not exported), so probes are created on
 * demand: when a description names one function exactly (no glob), the
 * provider tries a disabled kprobe on that symbol.  Registration fails
 * for a symbol that does not exist, is blacklisted (NOKPROBE_SYMBOL,
 * notrace sections, the kprobes blacklist) or cannot be probed; otherwise
 * sprint_symbol() names its module ("vmlinux" for the kernel image) and
 * both probes are created.  Functions of the dtrace module itself are
 * refused.  Globbed function names match only probes created before:
 * for a glob, user space reads the probeable functions from tracefs
 * (available_filter_functions), matches them itself and names each one
 * exactly through DTRACEIOC_PROVIDE before it enables or lists.
 *
 * entry: arg0..arg5 are the function's register arguments (x86-64 ABI).
 * return: arg0 = 0 (a kretprobe does not say which return instruction was
 * taken), arg1 = the return value (rax).
 */
#include <linux/kernel.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/list.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <linux/string.h>

#include "dtrace_impl.h"

#define FBT_RETURN	1UL		/* parg tag of a return probe */

struct dtrace_fbt {
	struct list_head node;		/* dtrace_fbts; dtrace_lock */
	refcount_t refs;		/* one per probe */
	u32 entry_id;
	u32 return_id;
	bool entry_on;			/* kp registered */
	bool return_on;			/* krp registered */
	struct kprobe kp;
	struct kretprobe krp;
	char mod[DTRACE_MODNAMELEN];
	char func[DTRACE_FUNCNAMELEN];
};

static LIST_HEAD(dtrace_fbts);
static unsigned int dtrace_fbt_armed;		/* dtrace_lock */

/*
 * ---------------------------------------------------------------------------
 * Probe context: kprobe handlers (preemption disabled).
 * ---------------------------------------------------------------------------
 */
static notrace int dtrace_fbt_entry(struct kprobe *kp, struct pt_regs *regs)
{
	struct dtrace_fbt *fbt = container_of(kp, struct dtrace_fbt, kp);

	dtrace_probe_regs(fbt->entry_id, regs, DTRACE_REGS_ENTRY, regs->di,
			  regs->si, regs->dx, regs->cx, regs->r8, regs->r9);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_fbt_entry);

static notrace int dtrace_fbt_return(struct kretprobe_instance *ri,
				     struct pt_regs *regs)
{
	struct kretprobe *krp = get_kretprobe(ri);
	struct dtrace_fbt *fbt;

	if (!krp)
		return 0;
	fbt = container_of(krp, struct dtrace_fbt, krp);
	dtrace_probe_regs(fbt->return_id, regs, 0, 0,
			  regs_return_value(regs), 0, 0, 0, 0);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_fbt_return);

/*
 * ---------------------------------------------------------------------------
 * Probe creation (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */
static struct dtrace_provider dtrace_fbt_prov;

/*
 * Can func be probed?  On success, mod is its module's name.  A disabled
 * kprobe arms nothing; registering it checks existence and the blacklist.
 */
static int dtrace_fbt_try(const char *func, char *mod, size_t modlen)
{
	char sym[KSYM_SYMBOL_LEN];
	struct kprobe kp = {
		.symbol_name = func,
		.flags = KPROBE_FLAG_DISABLED,
	};
	const char *open, *close;
	int err;

	err = register_kprobe(&kp);
	if (err)
		return err;
	sprint_symbol(sym, (unsigned long)kp.addr);
	unregister_kprobe(&kp);

	/* "func+0x0/0x50 [module]", or no brackets for vmlinux */
	open = strchr(sym, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close || close - open - 1 <= 0 ||
	    close - open - 1 >= modlen) {
		strscpy(mod, "vmlinux", modlen);
		return 0;
	}
	memcpy(mod, open + 1, close - open - 1);
	mod[close - open - 1] = '\0';
	if (!strcmp(mod, THIS_MODULE->name))
		return -EPERM;
	return 0;
}

static bool dtrace_fbt_is_glob(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static void dtrace_fbt_provide(struct dtrace_provider *prov,
			       const struct dtrace_probedesc *desc)
{
	const char *func;
	struct dtrace_fbt *fbt;
	char mod[DTRACE_MODNAMELEN];

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
	list_for_each_entry(fbt, &dtrace_fbts, node) {
		if (!strcmp(fbt->func, func))
			return;
	}
	if (dtrace_fbt_try(func, mod, sizeof(mod)))
		return;

	fbt = dtrace_zalloc(sizeof(*fbt));
	if (!fbt)
		return;
	strscpy(fbt->func, func, sizeof(fbt->func));
	strscpy(fbt->mod, mod, sizeof(fbt->mod));
	refcount_set(&fbt->refs, 1);
	fbt->entry_id = dtrace_probe_create(prov, fbt->mod, fbt->func, "entry",
					    fbt);
	if (!fbt->entry_id) {
		dtrace_free(fbt);
		return;
	}
	list_add_tail(&fbt->node, &dtrace_fbts);
	refcount_inc(&fbt->refs);
	fbt->return_id = dtrace_probe_create(prov, fbt->mod, fbt->func,
					     "return",
					     (void *)((uintptr_t)fbt |
						      FBT_RETURN));
	if (!fbt->return_id)
		refcount_dec(&fbt->refs);	/* the entry probe's stays */
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
	bool ret;
	struct dtrace_fbt *fbt = dtrace_fbt_of(parg, &ret);
	int err;

	lockdep_assert_held(&dtrace_lock);
	if (ret) {
		if (WARN_ON_ONCE(fbt->return_on))
			return -EBUSY;
		memset(&fbt->krp, 0, sizeof(fbt->krp));
		fbt->krp.kp.symbol_name = fbt->func;
		fbt->krp.handler = dtrace_fbt_return;
		err = register_kretprobe(&fbt->krp);
		if (err)
			return err;
		fbt->return_on = true;
	} else {
		if (WARN_ON_ONCE(fbt->entry_on))
			return -EBUSY;
		memset(&fbt->kp, 0, sizeof(fbt->kp));
		fbt->kp.symbol_name = fbt->func;
		fbt->kp.pre_handler = dtrace_fbt_entry;
		err = register_kprobe(&fbt->kp);
		if (err)
			return err;
		fbt->entry_on = true;
	}
	dtrace_fbt_armed++;
	return 0;
}

static void dtrace_fbt_disable(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	bool ret;
	struct dtrace_fbt *fbt = dtrace_fbt_of(parg, &ret);

	lockdep_assert_held(&dtrace_lock);
	if (ret) {
		if (WARN_ON_ONCE(!fbt->return_on))
			return;
		/* Returns when no handler runs and no instance is pending. */
		unregister_kretprobe(&fbt->krp);
		fbt->return_on = false;
	} else {
		if (WARN_ON_ONCE(!fbt->entry_on))
			return;
		unregister_kprobe(&fbt->kp);
		fbt->entry_on = false;
	}
	WARN_ON_ONCE(!dtrace_fbt_armed);
	dtrace_fbt_armed--;
}

static void dtrace_fbt_destroy(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	bool ret;
	struct dtrace_fbt *fbt = dtrace_fbt_of(parg, &ret);

	lockdep_assert_held(&dtrace_lock);
	WARN_ON_ONCE(ret ? fbt->return_on : fbt->entry_on);
	if (!refcount_dec_and_test(&fbt->refs))
		return;
	list_del(&fbt->node);
	dtrace_free(fbt);
}

static const struct dtrace_provider_ops dtrace_fbt_ops = {
	.provide = dtrace_fbt_provide,
	.enable = dtrace_fbt_enable,
	.disable = dtrace_fbt_disable,
	.destroy = dtrace_fbt_destroy,
};

static struct dtrace_provider dtrace_fbt_prov = {
	.name = "fbt",
	.ops = &dtrace_fbt_ops,
};

int dtrace_prov_fbt_init(void)
{
	return dtrace_provider_register(&dtrace_fbt_prov);
}

void dtrace_prov_fbt_exit(void)
{
	WARN_ON_ONCE(dtrace_fbt_armed);
	dtrace_provider_unregister(&dtrace_fbt_prov);
	WARN_ON_ONCE(!list_empty(&dtrace_fbts));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The probe registry and probe context.
 *
 * Probe ids start at 1 and are never reused while the module is loaded.
 * The table of probes is an array published as one object, so probe
 * context reads it (and every ECB list) without a lock; see the locking
 * note in dtrace_impl.h.
 */
#include <linux/kernel.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <linux/kprobes.h>
#include <asm/unaligned.h>

#include "dtrace_impl.h"

DEFINE_MUTEX(dtrace_lock);

struct dtrace_probetab {
	u32 cap;
	struct dtrace_probe *probes[];	/* by id - 1 */
};

static struct dtrace_probetab *dtrace_probetab;	/* READ_ONCE in probe ctx */
static u32 dtrace_nprobes;			/* ids handed out */
static LIST_HEAD(dtrace_providers);

/* Per-CPU probe-context bookkeeping. */
struct dtrace_cpu {
	bool active;			/* recursion guard */
	unsigned long recursed;		/* firings refused by the guard */
	struct pt_regs *regs;		/* this firing's, or NULL (stack.c) */
	u32 rflags;			/* DTRACE_REGS_* of regs */
};

static DEFINE_PER_CPU(struct dtrace_cpu, dtrace_cpu);

/*
 * ---------------------------------------------------------------------------
 * Synchronisation
 * ---------------------------------------------------------------------------
 */
static void dtrace_sync_func(void *unused)
{
}

/*
 * Return when no CPU is in probe context any more with a view older than
 * this call: probe context runs with interrupts off, so every CPU taking
 * the IPI has left it.
 */
void dtrace_sync(void)
{
	might_sleep();
	smp_call_function(dtrace_sync_func, NULL, 1);
}

/*
 * ---------------------------------------------------------------------------
 * Providers and the probe table (process context, dtrace_lock)
 * ---------------------------------------------------------------------------
 */
int dtrace_probes_init(void)
{
	struct dtrace_probetab *tab;

	tab = dtrace_zalloc(struct_size(tab, probes, 64));
	if (!tab)
		return -ENOMEM;
	tab->cap = 64;
	dtrace_probetab = tab;
	return 0;
}

void dtrace_probes_exit(void)
{
	u32 i;

	mutex_lock(&dtrace_lock);
	WARN_ON_ONCE(!list_empty(&dtrace_providers));
	for (i = 0; i < dtrace_probetab->cap; i++)
		WARN_ON_ONCE(dtrace_probetab->probes[i]);
	dtrace_free(dtrace_probetab);
	dtrace_probetab = NULL;
	mutex_unlock(&dtrace_lock);
}

int dtrace_provider_register(struct dtrace_provider *prov)
{
	if (!prov->name || !prov->name[0] || !prov->ops)
		return -EINVAL;
	mutex_lock(&dtrace_lock);
	list_add_tail(&prov->node, &dtrace_providers);
	mutex_unlock(&dtrace_lock);
	return 0;
}

/* Remove the provider and its probes; none of them may be enabled. */
void dtrace_provider_unregister(struct dtrace_provider *prov)
{
	struct dtrace_probetab *tab;
	struct dtrace_probe *probe, *dead = NULL;
	u32 i;

	mutex_lock(&dtrace_lock);
	tab = dtrace_probetab;
	for (i = 0; i < dtrace_nprobes; i++) {
		probe = tab->probes[i];
		if (!probe || probe->prov != prov)
			continue;
		if (WARN_ON_ONCE(probe->necbs || probe->ecbs))
			continue;	/* leak rather than free in-use memory */
		if (prov->ops->destroy)
			prov->ops->destroy(prov, probe->id, probe->parg);
		WRITE_ONCE(tab->probes[i], NULL);
		probe->next_dead = dead;
		dead = probe;
	}
	list_del(&prov->node);
	dtrace_sync();
	while (dead) {
		probe = dead;
		dead = probe->next_dead;
		dtrace_free(probe);
	}
	mutex_unlock(&dtrace_lock);
}

/*
 * Return the new probe's id, or 0 when out of memory.  The names are
 * stored with the probe, truncated to the description's field sizes.
 */
u32 dtrace_probe_create(struct dtrace_provider *prov, const char *mod,
			const char *func, const char *name, void *parg)
{
	struct dtrace_probetab *tab = dtrace_probetab, *ntab;
	struct dtrace_probe *probe;
	size_t lmod, lfunc, lname;
	char *p;

	lockdep_assert_held(&dtrace_lock);
	mod = mod ?: "";
	func = func ?: "";
	name = name ?: "";
	lmod = strnlen(mod, DTRACE_MODNAMELEN - 1);
	lfunc = strnlen(func, DTRACE_FUNCNAMELEN - 1);
	lname = strnlen(name, DTRACE_NAMELEN - 1);
	probe = dtrace_zalloc(struct_size(probe, names, lmod + lfunc + lname + 3));
	if (!probe)
		return 0;
	if (dtrace_nprobes == tab->cap) {
		ntab = dtrace_zalloc(struct_size(ntab, probes, tab->cap * 2));
		if (!ntab) {
			dtrace_free(probe);
			return 0;
		}
		ntab->cap = tab->cap * 2;
		memcpy(ntab->probes, tab->probes,
		       tab->cap * sizeof(tab->probes[0]));
		/* Pairs with READ_ONCE() in dtrace_probe(): contents first. */
		smp_store_release(&dtrace_probetab, ntab);
		dtrace_sync();
		dtrace_free(tab);
		tab = ntab;
	}
	probe->id = ++dtrace_nprobes;
	probe->prov = prov;
	probe->parg = parg;
	p = probe->names;		/* zeroed: each copy stays terminated */
	probe->mod = p;
	memcpy(p, mod, lmod);
	p += lmod + 1;
	probe->func = p;
	memcpy(p, func, lfunc);
	p += lfunc + 1;
	probe->name = p;
	memcpy(p, name, lname);
	/* Probe context sees the probe only once it is filled in. */
	smp_store_release(&tab->probes[probe->id - 1], probe);
	return probe->id;
}

struct dtrace_probe *dtrace_probe_get(u32 id)
{
	lockdep_assert_held(&dtrace_lock);
	if (id == 0 || id > dtrace_nprobes)
		return NULL;
	return dtrace_probetab->probes[id - 1];
}

u32 dtrace_probe_max_id(void)
{
	lockdep_assert_held(&dtrace_lock);
	return dtrace_nprobes;
}

void dtrace_provide_all(void)
{
	struct dtrace_provider *prov;

	lockdep_assert_held(&dtrace_lock);
	list_for_each_entry(prov, &dtrace_providers, node) {
		if (prov->ops->provide)
			prov->ops->provide(prov, NULL);
	}
}

/* After ECBs were unlinked: let providers finish their disables. */
void dtrace_providers_flush(void)
{
	struct dtrace_provider *prov;

	lockdep_assert_held(&dtrace_lock);
	list_for_each_entry(prov, &dtrace_providers, node) {
		if (prov->ops->flush)
			prov->ops->flush(prov);
	}
}

/* Let every provider create probes desc names (e.g. profile-1234). */
void dtrace_provide_desc(const struct dtrace_probedesc *desc)
{
	struct dtrace_provider *prov;

	lockdep_assert_held(&dtrace_lock);
	list_for_each_entry(prov, &dtrace_providers, node) {
		if (prov->ops->provide)
			prov->ops->provide(prov, desc);
	}
}

/* DTRACEIOC_PROBES: the first probe with an id >= pd->dtpd_id. */
int dtrace_probe_describe(struct dtrace_probedesc *pd,
			  const struct dtrace_probedesc *pat)
{
	struct dtrace_probe *probe = NULL;
	u32 id = max_t(u32, pd->dtpd_id, 1);

	mutex_lock(&dtrace_lock);
	if (pd->dtpd_id == 0)
		dtrace_provide_all();
	for (; id <= dtrace_nprobes; id++) {
		probe = dtrace_probe_get(id);
		if (probe && (!pat || dtrace_probe_match(probe, pat)))
			break;
		probe = NULL;
	}
	if (probe) {
		memset(pd, 0, sizeof(*pd));
		pd->dtpd_id = probe->id;
		strscpy(pd->dtpd_provider, probe->prov->name,
			sizeof(pd->dtpd_provider));
		strscpy(pd->dtpd_mod, probe->mod, sizeof(pd->dtpd_mod));
		strscpy(pd->dtpd_func, probe->func, sizeof(pd->dtpd_func));
		strscpy(pd->dtpd_name, probe->name, sizeof(pd->dtpd_name));
	}
	mutex_unlock(&dtrace_lock);
	return probe ? 0 : -ESRCH;
}

/*
 * ---------------------------------------------------------------------------
 * Probe description matching: DTrace's globs (* ? [set] [!set] a-z \x)
 * ---------------------------------------------------------------------------
 */

/*
 * Match one pattern element at *pp against c.  Returns the number of
 * pattern bytes the element spans, with *hit set; 0 for a malformed set.
 */
static size_t dtrace_glob_elem(const char *p, char c, bool *hit)
{
	const char *q;
	bool neg, first = true;
	char lo, hi;

	switch (*p) {
	case '?':
		*hit = true;
		return 1;
	case '\\':
		if (p[1]) {
			*hit = p[1] == c;
			return 2;
		}
		*hit = c == '\\';
		return 1;
	case '[':
		break;
	default:
		*hit = *p == c;
		return 1;
	}

	q = p + 1;
	neg = *q == '!';
	if (neg)
		q++;
	*hit = false;
	while (*q && (*q != ']' || first)) {
		first = false;
		lo = *q;
		if (lo == '\\' && q[1])
			lo = *++q;
		q++;
		if (q[0] == '-' && q[1] && q[1] != ']') {
			hi = q[1];
			if (hi == '\\' && q[2]) {
				hi = q[2];	/* an escaped range end */
				q++;
			}
			q += 2;
			if (c >= lo && c <= hi)
				*hit = true;
		} else if (c == lo) {
			*hit = true;
		}
	}
	if (*q != ']')
		return 0;
	*hit ^= neg;
	return q + 1 - p;
}

/* Iterative glob match; backtracks to the last '*' only. */
static bool dtrace_gmatch(const char *s, const char *p)
{
	const char *star_p = NULL, *star_s = NULL;
	size_t n;
	bool hit;

	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (!*s)
			return !*p;
		if (*p) {
			n = dtrace_glob_elem(p, *s, &hit);
			if (n && hit) {
				p += n;
				s++;
				continue;
			}
		}
		if (!star_p)
			return false;
		p = star_p;
		s = ++star_s;
	}
}

static bool dtrace_field_match(const char *field, const char *pat)
{
	return !pat[0] || dtrace_gmatch(field, pat);
}

/*
 * Does probe match pattern pat?  An empty field matches anything; an
 * all-empty pattern matches only anchored probes (non-empty function), as
 * in DTrace.
 */
bool dtrace_probe_match(const struct dtrace_probe *probe,
			const struct dtrace_probedesc *pat)
{
	if (!pat->dtpd_provider[0] && !pat->dtpd_mod[0] &&
	    !pat->dtpd_func[0] && !pat->dtpd_name[0])
		return probe->func[0] != '\0';
	return dtrace_field_match(probe->prov->name, pat->dtpd_provider) &&
	       dtrace_field_match(probe->mod, pat->dtpd_mod) &&
	       dtrace_field_match(probe->func, pat->dtpd_func) &&
	       dtrace_field_match(probe->name, pat->dtpd_name);
}

/*
 * ---------------------------------------------------------------------------
 * ECB lists (process context, dtrace_lock)
 * ---------------------------------------------------------------------------
 */

/* Append ecb to its probe's list, enabling the probe on its first ECB. */
int dtrace_ecb_link(struct dtrace_ecb *ecb)
{
	struct dtrace_probe *probe = ecb->probe;
	struct dtrace_ecb **pp = &probe->ecbs;
	int err;

	lockdep_assert_held(&dtrace_lock);
	if (probe->necbs == 0 && probe->prov->ops->enable) {
		err = probe->prov->ops->enable(probe->prov, probe->id,
					       probe->parg);
		if (err)
			return err;
	}
	while (*pp)
		pp = &(*pp)->next;
	ecb->next = NULL;
	/* Probe context walks the list: publish a complete ECB. */
	smp_store_release(pp, ecb);
	probe->necbs++;
	return 0;
}

/*
 * Take ecb off its probe's list, disabling the probe with its last ECB.
 * The caller must dtrace_sync() before freeing the ECB.
 */
void dtrace_ecb_unlink(struct dtrace_ecb *ecb)
{
	struct dtrace_probe *probe = ecb->probe;
	struct dtrace_ecb **pp = &probe->ecbs;

	lockdep_assert_held(&dtrace_lock);
	while (*pp && *pp != ecb)
		pp = &(*pp)->next;
	if (WARN_ON_ONCE(!*pp))
		return;
	/* ecb->next stays valid for a CPU that is standing on ecb. */
	WRITE_ONCE(*pp, ecb->next);
	probe->necbs--;
	WARN_ON_ONCE(probe->necbs < 0);
	if (probe->necbs == 0 && probe->prov->ops->disable)
		probe->prov->ops->disable(probe->prov, probe->id, probe->parg);
}

/*
 * ---------------------------------------------------------------------------
 * Probe context.  Everything below runs with interrupts disabled, must not
 * sleep, allocate or take locks, and is kept away from ftrace and kprobes.
 * ---------------------------------------------------------------------------
 */
static void dtrace_probe_ecbs(struct dtrace_probe *probe,
			      struct dtrace_state *only, const u64 *args);

/* exit(): ACTIVE or WARMUP -> DRAINING exactly once; END may exit again. */
static notrace bool dtrace_exit_transition(struct dtrace_state *state)
{
	int cur;

	for (;;) {
		cur = READ_ONCE(state->activity);
		if (cur == DTRACE_ACTIVITY_COOLDOWN)
			return true;
		if (cur != DTRACE_ACTIVITY_ACTIVE &&
		    cur != DTRACE_ACTIVITY_WARMUP)
			return false;
		if (cmpxchg(&state->activity, cur,
			    DTRACE_ACTIVITY_DRAINING) == cur)
			return true;
	}
}
NOKPROBE_SYMBOL(dtrace_exit_transition);

static notrace int dtrace_load(const struct dtrace_action *act, void *dst,
			       u64 addr, u32 size, struct dif_mstate *ms)
{
	int err;

	if (act->user)
		err = dif_env_uload(ms->env, dst, addr, size);
	else
		err = dif_env_kload(ms->env, dst, addr, size);
	if (err) {
		ms->flags |= DIF_F_BADADDR;
		ms->illval = addr;
	}
	return err;
}
NOKPROBE_SYMBOL(dtrace_load);

/* String records are read in chunks of this many bytes (divides PAGE_SIZE). */
#define DTRACE_STR_CHUNK	64

/*
 * Zero dst[from, to): the bytes of a string's last chunk that were read
 * past its NUL (fewer than DTRACE_STR_CHUNK).  Stores, not a memset: a
 * rep stos costs more than the few words it clears.
 */
static __always_inline void dtrace_str_zero(char *dst, u32 from, u32 to)
{
	for (; from + 8 <= to; from += 8)
		put_unaligned((u64)0, (u64 *)(dst + from));
	if (from + 4 <= to) {
		put_unaligned((u32)0, (u32 *)(dst + from));
		from += 4;
	}
	if (from + 2 <= to) {
		put_unaligned((u16)0, (u16 *)(dst + from));
		from += 2;
	}
	if (from < to)
		dst[from] = '\0';
}

/*
 * Store an action's value into its record.  By-reference values are copied
 * from the address the DIFO returned; a string stops at its NUL.  The rest
 * of a string's record is not zero-padded (up to strsize bytes per firing):
 * every reader stops at the NUL (the consumer's printf() and setopt(), its
 * trace() of a string, which the compiler marks in ad_uarg, and an
 * aggregation key's hashing, matching and copying).  What is left there is
 * this consumer's own: its principal and speculation buffers are zeroed
 * when allocated and only ever hold its records and its DIF scratch.  The
 * bytes a chunk read past the NUL are not its own, so they are cleared.
 * Returns 0, or -1 with a fault set.
 */
static notrace int dtrace_store_ref(const struct dtrace_action *act,
				    char *dst, u64 val, struct dif_mstate *ms)
{
	u32 size = act->rec.dtrd_size, done = 0, chunk, i;

	if (!act->string)
		return dtrace_load(act, dst, val, size, ms);

	/*
	 * execname: this CPU's own copy of comm, NUL-terminated within
	 * TASK_COMM_LEN and zero after its NUL (dtrace_env_execname()).
	 */
	BUILD_BUG_ON(TASK_COMM_LEN != 2 * sizeof(u64));
	if (!act->user && size >= TASK_COMM_LEN &&
	    dtrace_env_is_execname(val)) {
		put_unaligned(*(const u64 *)(uintptr_t)val, (u64 *)dst);
		put_unaligned(*(const u64 *)(uintptr_t)(val + 8),
			      (u64 *)(dst + 8));
		return 0;
	}

	/*
	 * Read in aligned chunks up to the NUL: a short string (execname in
	 * a strsize record) costs one small read, and a chunk never crosses
	 * a page, so a string ending just before a hole works.
	 */
	while (done < size) {
		chunk = min_t(u64, size - done, DTRACE_STR_CHUNK -
			      ((val + done) & (DTRACE_STR_CHUNK - 1)));
		if (dtrace_load(act, dst + done, val + done, chunk, ms))
			return -1;
		for (i = done; i < done + chunk; i++) {
			if (dst[i] == '\0') {
				dtrace_str_zero(dst, i + 1, done + chunk);
				return 0;
			}
		}
		done += chunk;
	}
	return 0;
}
NOKPROBE_SYMBOL(dtrace_store_ref);

static __always_inline int dtrace_store(const struct dtrace_action *act,
					char *dst, u64 val,
					struct dif_mstate *ms)
{
	if (act->byref)
		return dtrace_store_ref(act, dst, val, ms);
	switch (act->rec.dtrd_size) {
	case 1:
		*(u8 *)dst = val;
		break;
	case 2:
		*(u16 *)dst = val;
		break;
	case 4:
		*(u32 *)dst = val;
		break;
	default:
		*(u64 *)dst = val;
		break;
	}
	return 0;
}

/* A fault in ECB ecb: count it and fire dtrace:::ERROR for its consumer. */
static notrace void dtrace_ecb_error(const struct dtrace_ecb *ecb,
				     struct dtrace_buffer *buf, u32 which,
				     s64 fltoffs, const struct dif_mstate *ms)
{
	struct dtrace_state *state = ecb->state;
	struct dtrace_probe *eprobe;
	u64 args[6];

	buf->errors++;
	if (ecb->probe->id == dtrace_probeid_error) {
		/* An error in an ERROR clause: nothing more we can do. */
		atomic64_inc(&state->dblerrors);
		return;
	}
	eprobe = READ_ONCE(dtrace_probetab)->probes[dtrace_probeid_error - 1];
	if (!eprobe)
		return;
	args[0] = 0;
	args[1] = ecb->epid;
	args[2] = which;
	args[3] = fltoffs;
	args[4] = dif_fault_code(ms->flags);
	args[5] = ms->illval;
	dtrace_probe_ecbs(eprobe, state, args);
}
NOKPROBE_SYMBOL(dtrace_ecb_error);

/*
 * An aggregating action: evaluate its expression, aggregate it with the
 * keys the preceding actions left at rec.  Returns non-zero on a fault or
 * drop (ms->flags says which).
 */
static __always_inline int dtrace_ecb_agg(const struct dtrace_ecb *ecb,
					  const struct dtrace_action *act,
					  const char *rec, u64 arg,
					  struct dif_mstate *ms, int cpu)
{
	struct dtrace_aggbuf *abufs = READ_ONCE(ecb->state->aggbufs);
	u64 v = 0;

	if (act->isconst && !act->aggnoeval) {
		v = act->constval;
	} else if (act->difo && !act->aggnoeval) {
		v = dif_emulate(act->difo, ms);
		if (ms->flags & (DIF_F_FAULT | DIF_F_DROP))
			return -1;
	}
	if (abufs) {
		ms->fltoffs = U32_MAX;	/* not in DIF */
		dtrace_aggregate(ecb, act, &abufs[cpu], rec, v, arg, ms);
	}
	return ms->flags & (DIF_F_FAULT | DIF_F_DROP) ? -1 : 0;
}

/*
 * speculate(), commit(), discard() with the id val.  speculate() moves rec
 * to the clause's record in the speculation buffer.  Non-zero: skip the
 * rest of the clause (a drop, or a fault in ms->flags).
 */
static notrace int dtrace_ecb_spec(const struct dtrace_ecb *ecb,
				   const struct dtrace_action *act,
				   struct dtrace_buffer *buf,
				   struct dtrace_mctx *mc, u64 val,
				   struct dif_mstate *ms, char **rec,
				   struct dtrace_spec_pending *spec,
				   bool *committed)
{
	struct dtrace_state *state = ecb->state;
	int cpu = mc->cpu;

	ms->fltoffs = U32_MAX;	/* a fault here is not in DIF */
	switch (act->kind) {
	case DTRACEACT_SPECULATE:
		*rec = dtrace_spec_speculate(state, ecb, cpu, val,
					     dtrace_mctx_now(mc), ms,
					     spec);
		return *rec ? 0 : -1;
	case DTRACEACT_COMMIT:
		*committed = true;
		dtrace_spec_commit(state, buf, cpu, val, ms);
		break;
	default:
		dtrace_spec_discard(state, cpu, val, ms);
		break;
	}
	return ms->flags & (DIF_F_FAULT | DIF_F_DROP) ? -1 : 0;
}
NOKPROBE_SYMBOL(dtrace_ecb_spec);

/*
 * A predicate "builtin op constant" (dtrace_difo_relconst()): what the
 * DIF's cmp and branch op compute.
 */
static __always_inline bool dtrace_pred_rel(u8 op, u64 a, u64 b)
{
	switch (op) {
	case DIF_OP_BE:
		return a == b;
	case DIF_OP_BNE:
		return a != b;
	case DIF_OP_BG:
		return (s64)a > (s64)b;
	case DIF_OP_BGU:
		return a > b;
	case DIF_OP_BGE:
		return (s64)a >= (s64)b;
	case DIF_OP_BGEU:
		return a >= b;
	case DIF_OP_BL:
		return (s64)a < (s64)b;
	case DIF_OP_BLU:
		return a < b;
	case DIF_OP_BLE:
		return (s64)a <= (s64)b;
	default:
		return a <= b;		/* DIF_OP_BLEU */
	}
}

/* Run one ECB on this CPU's buffer of its consumer. */
static notrace void dtrace_ecb_fire(const struct dtrace_ecb *ecb,
				    struct dtrace_buffer *buf,
				    struct dtrace_mctx *mc, const u64 *args)
{
	const struct dtrace_clause *cl = ecb->clause;
	struct dtrace_spec_pending spec = { NULL, 0 };
	const struct dtrace_action *act;
	struct dif_mstate ms DIF_UNINIT;	/* dtrace_mstate_start() */
	u64 offs, aligned, val;
	s64 fltoffs = -1;
	char *data, *rec;
	u32 i, which = 0;
	bool committed = false;

	/*
	 * Reserve needed bytes, padding with EPIDNONE words to the align.
	 * Past the limit: a drop, a full fill buffer or a ring that wraps.
	 */
	offs = buf->offset;
	aligned = ALIGN(offs, cl->align);
	if (unlikely(aligned + cl->needed > buf->limit)) {
		if (!dtrace_buffer_reserve(buf, ecb->state, cl->needed,
					   cl->align, &aligned))
			return;
		offs = buf->offset;
	}
	data = buf->data[buf->cur];
	for (; offs < aligned; offs += sizeof(u32))
		*(u32 *)(data + offs) = DTRACE_EPIDNONE;
	rec = data + aligned;
	if (cl->size)
		dtrace_rechdr_put(rec, ecb->epid, dtrace_mctx_now(mc));

	mc->ecb = ecb;
	if (cl->predop) {
		/* "pid == c" and the like: pid, tid and cpu never fault */
		ms.env = mc;
		if (!dtrace_pred_rel(cl->predop,
				     dif_env_builtin(&ms, cl->predvar),
				     cl->predval))
			return;
	}
	if (cl->nodif) {
		/*
		 * No DIF runs: stores, loads, built-in variables (not argN)
		 * and aggregating read only these (dtrace_clause_nodif()).
		 */
		ms.env = mc;
		ms.flags = 0;
		ms.illval = 0;
		ms.fltoffs = 0;
		goto acts;
	}
	dtrace_mstate_start(&ms, mc, args);
	if (likely(buf->policy == DTRACEOPT_BUFPOLICY_SWITCH)) {
		ms.scratch_base = (uintptr_t)rec + cl->needed;
		ms.scratch_size = buf->size - aligned - cl->needed;
	} else {
		/* fill and ring are never switched: the other half is free */
		ms.scratch_base = (uintptr_t)buf->data[buf->cur ^ 1];
		ms.scratch_size = buf->size;
	}

	if (cl->pred && !cl->predop) {
		val = dif_emulate(cl->pred, &ms);
		if (ms.flags & (DIF_F_FAULT | DIF_F_DROP)) {
			fltoffs = ms.fltoffs;
			goto fail;
		}
		if (!val)
			return;
	}

acts:
	for (i = 0; i < cl->nacts; i++) {
		act = &cl->acts[i];
		which = i + 1;
		if (DTRACEACT_CLASS(act->kind) == DTRACEACT_AGGREGATION) {
			/* val is still the previous action's: the argument */
			if (dtrace_ecb_agg(ecb, act, rec, val, &ms, mc->cpu)) {
				fltoffs = ms.fltoffs == U32_MAX ? -1 :
					  ms.fltoffs;
				goto fail;
			}
			continue;
		}
		if (!act->difo) {
			if (act->kind == DTRACEACT_STACK ||
			    act->kind == DTRACEACT_USTACK)
				dtrace_stack_record(mc, act,
						    rec + act->rec.dtrd_offset);
			else if (act->kind == DTRACEACT_STOP)
				dtrace_destr_act(mc, act->kind, 0, &ms);
			continue;
		}
		if (act->execname) {
			/* no fault: comm is always there */
			dtrace_env_execname_put(rec + act->rec.dtrd_offset);
			continue;
		}
		if (act->isconst) {
			val = act->constval;
		} else if (act->builtin) {
			val = dif_env_builtin(&ms, act->builtin);
			if (ms.flags & (DIF_F_FAULT | DIF_F_DROP)) {
				if (ms.flags & DIF_F_FAULT)
					ms.fltoffs = 0;
				fltoffs = ms.fltoffs;
				goto fail;
			}
		} else {
			val = dif_emulate(act->difo, &ms);
			if (ms.flags & (DIF_F_FAULT | DIF_F_DROP)) {
				fltoffs = ms.fltoffs;
				goto fail;
			}
		}
		if (DTRACEACT_CLASS(act->kind) == DTRACEACT_SPECULATIVE) {
			/* This clause's own record goes before the commit's. */
			if (act->kind == DTRACEACT_COMMIT && cl->size &&
			    !spec.buf)
				buf->offset = aligned + cl->size;
			if (dtrace_ecb_spec(ecb, act, buf, mc, val, &ms,
					    &rec, &spec, &committed))
				goto fail;
			continue;
		}
		if (act->kind == DTRACEACT_RAISE ||
		    act->kind == DTRACEACT_CHILL) {
			/* destr.c; a fault there is not in DIF */
			if (dtrace_destr_act(mc, act->kind, val, &ms)) {
				fltoffs = -1;
				goto fail;
			}
			continue;
		}
		if (act->kind == DTRACEACT_EXIT &&
		    !dtrace_exit_transition(ecb->state))
			return;		/* another exit() won: drop */
		if (DTRACEACT_CLASS(act->kind) == DTRACEACT_PROC) {
			/* usym(), umod(), uaddr(): (pid, address) */
			dtrace_stack_upair(rec + act->rec.dtrd_offset, val);
			continue;
		}
		if (act->rec.dtrd_size &&
		    dtrace_store(act, rec + act->rec.dtrd_offset, val, &ms))
			goto fail;
	}

	if (committed)
		return;		/* commit() committed this clause's record */
	if (spec.buf)
		dtrace_spec_done(&spec);
	else if (cl->size)
		buf->offset = aligned + cl->size;
	return;

fail:
	/* Nothing of this ECB is committed; a drop is silent. */
	if (ms.flags & DIF_F_FAULT)
		dtrace_ecb_error(ecb, buf, which, fltoffs, &ms);
}
NOKPROBE_SYMBOL(dtrace_ecb_fire);

static notrace void dtrace_probe_ecbs(struct dtrace_probe *probe,
				      struct dtrace_state *only,
				      const u64 *args)
{
	bool meta = dtrace_probe_is_dtrace(probe);
	struct dtrace_buffer *bufs;
	struct dtrace_state *state;
	struct dtrace_ecb *ecb;
	struct dtrace_mctx mc DIF_UNINIT;	/* every field set below */
	int activity;

	mc.probe = probe;
	mc.ecb = NULL;
	mc.now = 0;			/* dtrace_mctx_now() */
	mc.walltime = 0;
	mc.cpu = smp_processor_id();
	mc.regs = this_cpu_ptr(&dtrace_cpu)->regs;
	mc.rflags = this_cpu_ptr(&dtrace_cpu)->rflags;

	for (ecb = READ_ONCE(probe->ecbs); ecb; ecb = READ_ONCE(ecb->next)) {
		state = ecb->state;
		/* BEGIN, END and ERROR belong to the consumer that fired. */
		if (meta && state != only)
			continue;
		if (dtrace_state_deadman(state))
			continue;
		activity = READ_ONCE(state->activity);
		if (activity != DTRACE_ACTIVITY_ACTIVE) {
			if (!meta)
				continue;
			/* An exit() in BEGIN suppresses later BEGIN clauses. */
			if (probe->id == dtrace_probeid_begin &&
			    activity != DTRACE_ACTIVITY_WARMUP)
				continue;
		}
		bufs = READ_ONCE(state->buffers);
		if (!bufs)
			continue;
		dtrace_ecb_fire(ecb, &bufs[mc.cpu], &mc, args);
	}
}
NOKPROBE_SYMBOL(dtrace_probe_ecbs);

/* Fire probe id with the registers regs (or NULL) of the probed context. */
static notrace void dtrace_probe_fire(u32 id, struct dtrace_state *only,
				      struct pt_regs *regs, u32 rflags,
				      const u64 *args)
{
	struct dtrace_probetab *tab;
	struct dtrace_probe *probe;
	struct dtrace_cpu *cpu;
	unsigned long flags;

	local_irq_save(flags);
	cpu = this_cpu_ptr(&dtrace_cpu);
	if (cpu->active) {
		cpu->recursed++;
		goto out;
	}
	cpu->active = true;
	cpu->regs = regs;
	cpu->rflags = rflags;
	tab = READ_ONCE(dtrace_probetab);
	if (tab && id && id <= tab->cap) {
		probe = READ_ONCE(tab->probes[id - 1]);
		if (probe)
			dtrace_probe_ecbs(probe, only, args);
	}
	cpu->regs = NULL;
	cpu->active = false;
out:
	local_irq_restore(flags);
}
NOKPROBE_SYMBOL(dtrace_probe_fire);

/*
 * Fire probe id.  Callable from any context but NMI; only the consumer
 * only's ECBs run when it is not NULL (the dtrace provider's probes).
 */
notrace void dtrace_probe(u32 id, struct dtrace_state *only, u64 arg0,
			  u64 arg1, u64 arg2, u64 arg3, u64 arg4, u64 arg5)
{
	const u64 args[6] = { arg0, arg1, arg2, arg3, arg4, arg5 };

	dtrace_probe_fire(id, only, NULL, 0, args);
}
NOKPROBE_SYMBOL(dtrace_probe);

/* Fire probe id; stack() and caller start from regs (stack.c). */
notrace void dtrace_probe_regs(u32 id, struct pt_regs *regs, u32 rflags,
			       u64 arg0, u64 arg1, u64 arg2, u64 arg3,
			       u64 arg4, u64 arg5)
{
	const u64 args[6] = { arg0, arg1, arg2, arg3, arg4, arg5 };

	dtrace_probe_fire(id, NULL, regs, rflags, args);
}
NOKPROBE_SYMBOL(dtrace_probe_regs);

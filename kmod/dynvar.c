// SPDX-License-Identifier: GPL-2.0
/*
 * Dynamic variables (dtrace-internals.md 5): thread-locals and associative
 * arrays, in one region of dynvarsize bytes per consumer.
 *
 * Layout: [hash buckets][chunk][chunk]...  Every variable takes one chunk:
 * a header, its keys (by-ref key bytes copied in) and its data.  The chunk
 * size is fixed at GO from a static scan of every DIFO that stores a
 * dynamic variable.  Chunks start on per-CPU free lists.
 *
 * Probe context (interrupts off, no locks but the deallocation lock word
 * of a bucket, every loop bounded):
 *   lookup	walks the bucket's chain without a lock;
 *   insert	takes a chunk from this CPU's free list (refilled from its
 *		clean list, else taken from another CPU), fills it and links
 *		it at the head of the chain with cmpxchg; losing the race
 *		gives the chunk back and retries, so a key is never inserted
 *		twice;
 *   delete	(assigning 0) unlinks under the bucket's lock word, marks the
 *		chunk free and pushes it on this CPU's dirty list.
 * A deleted chunk keeps its chain link, so a CPU standing on it still
 * reaches the rest of the chain.  It is reused only after the cleaner
 * (process context, every cleanrate) has moved it dirty -> rinsing, waited
 * for every CPU to leave probe context (dtrace_sync()), and moved it to
 * clean.  A store that finds no chunk anywhere drops the ECB (DIF_F_DROP)
 * and counts a drop: "dirty" if chunks were waiting for the cleaner,
 * "rinsing" if they were being cleaned, else a plain dynamic drop.
 */
#include <linux/kernel.h>
#include <linux/cpumask.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>
#include <linux/atomic.h>
#include <linux/kprobes.h>

#include "dtrace_impl.h"

#define DTRACE_DEFAULT_DYNVARSIZE	(1ULL << 20)
#define DTRACE_DEFAULT_CLEANRATE	9900990LL	/* ns, ~101 Hz */
#define DTRACE_DYNVAR_MINCHUNK		256
#define DTRACE_DYNVAR_BUCKETCOST	64	/* bytes charged per bucket */
#define DTRACE_DYNVAR_RETRIES		64	/* insert races per store */

#define DTRACE_DYNHASH_FREE	0
#define DTRACE_DYNHASH_SINK	1
#define DTRACE_DYNHASH_VALID	2

/* A chunk's header, followed by its keys, key bytes and data. */
struct dtrace_dvar {
	u64 hashval;			/* FREE when not in a chain */
	struct dtrace_dvar *next;	/* hash chain (READ_ONCE) */
	struct dtrace_dvar *lnext;	/* free/dirty/rinsing/clean lists */
	u32 nkeys;
	u32 dsize;
	u32 data;			/* offset of the data in the chunk */
	u32 live;			/* published in a chain, not deleted */
	struct dif_tuple key[];		/* nkeys; by-ref vals point inside */
};

struct dtrace_dvbucket {
	struct dtrace_dvar *chain;	/* cmpxchg to insert at the head */
	u32 lock;			/* deallocation lock word */
	u32 pad;
};

struct dtrace_dvcpu {
	struct dtrace_dvar *free;	/* under flock */
	struct dtrace_dvar *dirty;	/* push: cmpxchg; cleaner: xchg */
	struct dtrace_dvar *rinsing;	/* cleaner only */
	struct dtrace_dvar *clean;	/* cleaner: cmpxchg; owner: xchg */
	atomic_t flock;			/* try-lock of the free list */
	u64 drops;
	u64 dirty_drops;
	u64 rinsing_drops;
} ____cacheline_aligned;

struct dtrace_dstate {
	char *base;			/* dynvarsize bytes */
	u64 size;
	u32 chunksize;
	u32 nbuckets;
	u64 nchunks;
	struct dtrace_dvbucket *buckets;
	char *chunks;			/* nchunks * chunksize bytes */
	struct dtrace_dvcpu *cpus;	/* nr_cpu_ids */
	struct delayed_work cleaner;
	unsigned long cleanrate;	/* jiffies */
};

/*
 * ---------------------------------------------------------------------------
 * Probe context
 * ---------------------------------------------------------------------------
 */
/* One step of Jenkins' one-at-a-time hash. */
static inline notrace u32 dtrace_oat(u32 h, u32 c)
{
	h += c;
	h += h << 10;
	h ^= h >> 6;
	return h;
}

/*
 * The hash of a key tuple; by-ref keys are read in chunks with the nofault
 * loader.  -1 with BADADDR when a key cannot be read.
 */
static notrace int dtrace_dvar_hash(struct dif_mstate *ms,
				    const struct dif_tuple *key, u32 nkeys,
				    u64 *hashp)
{
	u8 buf[32];
	u32 h = DTRACE_DYNHASH_VALID, i, j, n;
	u64 off, v;

	for (i = 0; i < nkeys; i++) {
		if (!key[i].size) {
			v = key[i].val;
			/* the four 16-bit pieces, high to low */
			for (j = 0; j < 4; j++)
				h = dtrace_oat(h, (v >> (48 - 16 * j)) & 0xffff);
			continue;
		}
		for (off = 0; off < key[i].size; off += n) {
			n = min_t(u64, sizeof(buf), key[i].size - off);
			if (dif_env_kload(ms->env, buf, key[i].val + off, n)) {
				ms->flags |= DIF_F_BADADDR;
				ms->illval = key[i].val + off;
				return -1;
			}
			for (j = 0; j < n; j++)
				h = dtrace_oat(h, buf[j]);
		}
	}
	h += h << 3;
	h ^= h >> 11;
	h += h << 15;
	if (h == DTRACE_DYNHASH_FREE || h == DTRACE_DYNHASH_SINK)
		h = DTRACE_DYNHASH_VALID;
	*hashp = h;
	return 0;
}

/* Do dv's keys equal key[]?  -1 (BADADDR) when a key cannot be read. */
static notrace int dtrace_dvar_match(struct dif_mstate *ms,
				     const struct dtrace_dvar *dv,
				     const struct dif_tuple *key, u32 nkeys)
{
	u8 buf[32];
	u32 i, n;
	u64 off;

	if (dv->nkeys != nkeys)
		return 0;
	for (i = 0; i < nkeys; i++) {
		if (dv->key[i].size != key[i].size)
			return 0;
		if (!key[i].size) {
			if (dv->key[i].val != key[i].val)
				return 0;
			continue;
		}
		for (off = 0; off < key[i].size; off += n) {
			n = min_t(u64, sizeof(buf), key[i].size - off);
			if (dif_env_kload(ms->env, buf, key[i].val + off, n)) {
				ms->flags |= DIF_F_BADADDR;
				ms->illval = key[i].val + off;
				return -1;
			}
			if (memcmp(buf, (const void *)(uintptr_t)
				   (dv->key[i].val + off), n))
				return 0;
		}
	}
	return 1;
}

/* Pop a chunk from cpu c's free list (refilled from its clean list). */
static notrace struct dtrace_dvar *dtrace_dvar_pop(struct dtrace_dvcpu *c)
{
	struct dtrace_dvar *dv;

	if (atomic_cmpxchg(&c->flock, 0, 1))
		return NULL;		/* another CPU is taking one */
	dv = c->free;
	if (!dv) {
		dv = xchg(&c->clean, NULL);
		c->free = dv;
	}
	if (dv)
		c->free = dv->lnext;
	atomic_set_release(&c->flock, 0);
	return dv;
}

/* Give a never-published chunk back to this CPU's free list. */
static notrace void dtrace_dvar_unpop(struct dtrace_dvcpu *c,
				      struct dtrace_dvar *dv)
{
	/* Only this CPU pops its own list while it holds flock. */
	while (atomic_cmpxchg(&c->flock, 0, 1))
		cpu_relax();
	dv->lnext = c->free;
	c->free = dv;
	atomic_set_release(&c->flock, 0);
}

static notrace void dtrace_dvar_push_dirty(struct dtrace_dvcpu *c,
					   struct dtrace_dvar *dv)
{
	struct dtrace_dvar *old;

	do {
		old = READ_ONCE(c->dirty);
		dv->lnext = old;
	} while (cmpxchg(&c->dirty, old, dv) != old);
}

/* A chunk from this CPU, else any other; NULL (and a drop) if none. */
static notrace struct dtrace_dvar *dtrace_dvar_get(struct dtrace_dstate *ds,
						   int cpu)
{
	struct dtrace_dvcpu *c = &ds->cpus[cpu];
	struct dtrace_dvar *dv;
	bool dirty = false, rinsing = false;
	unsigned int i;

	dv = dtrace_dvar_pop(c);
	if (dv)
		return dv;
	for_each_possible_cpu(i) {
		if (i == cpu)
			continue;
		dv = dtrace_dvar_pop(&ds->cpus[i]);
		if (dv)
			return dv;
	}
	for_each_possible_cpu(i) {
		dirty |= READ_ONCE(ds->cpus[i].dirty) != NULL;
		rinsing |= READ_ONCE(ds->cpus[i].rinsing) != NULL;
	}
	if (dirty)
		c->dirty_drops++;
	else if (rinsing)
		c->rinsing_drops++;
	else
		c->drops++;
	return NULL;
}

/* Bytes a variable with these keys and dsize bytes of data needs. */
static notrace u64 dtrace_dvar_need(const struct dif_tuple *key, u32 nkeys,
				    u32 dsize, u64 *dataoff)
{
	u64 need = sizeof(struct dtrace_dvar) + nkeys * sizeof(key[0]);
	u32 i;

	for (i = 0; i < nkeys; i++) {
		if (key[i].size > U32_MAX)
			return U64_MAX;
		need += ALIGN(key[i].size, sizeof(u64));
	}
	*dataoff = need;
	return need + ALIGN((u64)dsize, sizeof(u64));
}

static notrace void dtrace_dvar_delete(struct dtrace_dvbucket *b,
				       struct dtrace_dvar *dv,
				       struct dtrace_dvcpu *c)
{
	struct dtrace_dvar **pp;

	while (cmpxchg(&b->lock, 0, 1))
		cpu_relax();
	if (READ_ONCE(dv->hashval) == DTRACE_DYNHASH_FREE) {
		/* Another CPU deleted it first.  Unlock: orders our reads. */
		smp_store_release(&b->lock, 0);
		return;
	}
	for (;;) {
		/* Only the head can change under us (an insert). */
		if (cmpxchg(&b->chain, dv, dv->next) == dv)
			break;
		for (pp = &b->chain; *pp && *pp != dv; pp = &(*pp)->next)
			;
		if (*pp) {
			if (pp == &b->chain)
				continue;	/* became the head: retry */
			WRITE_ONCE(*pp, dv->next);
			break;
		}
		/* Not FREE yet not in the chain: cannot happen. */
		WARN_ON_ONCE(1);
		smp_store_release(&b->lock, 0);	/* unlock */
		return;
	}
	WRITE_ONCE(dv->live, 0);
	WRITE_ONCE(dv->hashval, DTRACE_DYNHASH_FREE);
	/* Unlock: the unlink and the FREE mark are seen before. */
	smp_store_release(&b->lock, 0);
	dtrace_dvar_push_dirty(c, dv);
}

/* dif_env_dvar() in the kernel: see kmod/dif/dif.h. */
notrace u64 dtrace_dynvar(struct dtrace_dstate *ds, struct dif_mstate *ms,
			  const struct dif_tuple *key, u32 nkeys, u32 dsize,
			  u32 op, int cpu)
{
	struct dtrace_dvbucket *b;
	struct dtrace_dvar *dv, *head;
	u64 hash, need, dataoff, kbytes;
	u32 i, tries;
	char *p;
	int m;

	if (WARN_ON_ONCE(nkeys > DIF_DVAR_MAXKEYS))
		return 0;
	if (dtrace_dvar_hash(ms, key, nkeys, &hash))
		return 0;
	b = &ds->buckets[hash % ds->nbuckets];

	for (tries = 0; tries < DTRACE_DYNVAR_RETRIES; tries++) {
		head = READ_ONCE(b->chain);
		for (dv = head; dv; dv = READ_ONCE(dv->next)) {
			if (READ_ONCE(dv->hashval) != hash)
				continue;
			m = dtrace_dvar_match(ms, dv, key, nkeys);
			if (m < 0)
				return 0;
			if (!m)
				continue;
			if (op == DIF_DVAR_DEALLOC) {
				dtrace_dvar_delete(b, dv, &ds->cpus[cpu]);
				return 0;
			}
			return (uintptr_t)dv + dv->data;
		}
		if (op != DIF_DVAR_ALLOC)
			return 0;

		need = dtrace_dvar_need(key, nkeys, dsize, &dataoff);
		if (need > ds->chunksize) {
			ds->cpus[cpu].drops++;
			ms->flags |= DIF_F_DROP;
			return 0;
		}
		dv = dtrace_dvar_get(ds, cpu);
		if (!dv) {
			ms->flags |= DIF_F_DROP;
			return 0;
		}
		dv->nkeys = nkeys;
		dv->dsize = dsize;
		dv->data = (u32)dataoff;
		p = (char *)&dv->key[nkeys];
		for (i = 0; i < nkeys; i++) {
			dv->key[i] = key[i];
			if (!key[i].size)
				continue;
			kbytes = key[i].size;
			if (dif_env_kload(ms->env, p, key[i].val, kbytes)) {
				ms->flags |= DIF_F_BADADDR;
				ms->illval = key[i].val;
				dtrace_dvar_unpop(&ds->cpus[cpu], dv);
				return 0;
			}
			dv->key[i].val = (uintptr_t)p;
			p += ALIGN(kbytes, sizeof(u64));
		}
		memset((char *)dv + dataoff, 0, ALIGN((u64)dsize, 8));
		dv->hashval = hash;
		dv->next = head;
		/* Publish the filled chunk; a lost race retries the lookup. */
		if (cmpxchg(&b->chain, head, dv) == head) {
			/*
			 * Its layout is fixed until a dtrace_sync(); the
			 * release pairs with dtrace_dynvar_canstore().
			 */
			smp_store_release(&dv->live, 1);
			return (uintptr_t)dv + dataoff;
		}
		dv->hashval = DTRACE_DYNHASH_FREE;
		dtrace_dvar_unpop(&ds->cpus[cpu], dv);
	}
	ds->cpus[cpu].drops++;
	ms->flags |= DIF_F_DROP;
	return 0;
}
NOKPROBE_SYMBOL(dtrace_dynvar);

/*
 * dif_env_dvar_canstore() in the kernel (dtrace_canstore()'s dynamic
 * variable part, made exact): does [addr, addr + size) lie in the dsize
 * bytes of data of one live chunk of ds?  Never in a chunk's header, its
 * key tuples or key bytes, the padding after its data, a free chunk or
 * one another CPU is still filling.  A live chunk keeps its layout while
 * this CPU is in probe context: deleting it clears live, and it is reused
 * only after the cleaner's dtrace_sync().  A chunk is live only once it is
 * in its chain, so a CPU that finds a just-inserted by-reference variable
 * before its inserter has marked it may be refused a store into it (the
 * inserting CPU itself never is).
 */
notrace int dtrace_dynvar_canstore(const struct dtrace_dstate *ds, u64 addr,
				   u64 size)
{
	const struct dtrace_dvar *dv;
	u64 base = (uintptr_t)ds->chunks, off, data, dsize;

	if (addr < base || addr - base >= ds->nchunks * ds->chunksize)
		return 0;
	off = (addr - base) % ds->chunksize;
	dv = (const struct dtrace_dvar *)(uintptr_t)(addr - off);
	/* pairs with the release in dtrace_dynvar(): the layout is seen */
	if (!smp_load_acquire(&dv->live))
		return 0;
	data = READ_ONCE(dv->data);
	dsize = READ_ONCE(dv->dsize);
	return off >= data && size <= dsize && off - data <= dsize - size;
}
NOKPROBE_SYMBOL(dtrace_dynvar_canstore);

/*
 * ---------------------------------------------------------------------------
 * Process context
 * ---------------------------------------------------------------------------
 */
static struct dtrace_dvar *dtrace_dvar_tail(struct dtrace_dvar *dv)
{
	while (dv->lnext)
		dv = dv->lnext;
	return dv;
}

/*
 * The cleaner: every CPU's dirty chunks become rinsing; once no CPU can be
 * in probe context with a view from before, they become clean (which
 * their CPU moves to its free list when it runs out).
 */
static void dtrace_dstate_clean(struct work_struct *work)
{
	struct dtrace_dstate *ds = container_of(to_delayed_work(work),
						struct dtrace_dstate, cleaner);
	struct dtrace_dvar *list, *tail, *old;
	struct dtrace_dvcpu *c;
	unsigned int cpu;
	bool any = false;

	for_each_possible_cpu(cpu) {
		c = &ds->cpus[cpu];
		WARN_ON_ONCE(c->rinsing);
		list = xchg(&c->dirty, NULL);
		WRITE_ONCE(c->rinsing, list);
		any |= list != NULL;
	}
	if (any) {
		dtrace_sync();
		for_each_possible_cpu(cpu) {
			c = &ds->cpus[cpu];
			list = c->rinsing;
			if (!list)
				continue;
			/*
			 * The tail before linking: after a lost race it would
			 * be the tail of the clean list a CPU took meanwhile,
			 * and that list would be in two places at once.  Only
			 * the cleaner adds to clean, so no ABA.
			 */
			tail = dtrace_dvar_tail(list);
			do {
				old = READ_ONCE(c->clean);
				tail->lnext = old;
			} while (cmpxchg(&c->clean, old, list) != old);
			WRITE_ONCE(c->rinsing, NULL);
		}
	}
	schedule_delayed_work(&ds->cleaner, ds->cleanrate);
}

/*
 * The chunk size: at least DTRACE_DYNVAR_MINCHUNK, and enough for the
 * largest store a DIFO can do (every tuple push a key, every by-ref push
 * a string of the string size, plus the variable id and thread key).
 * 0 when no DIFO stores a dynamic variable.
 */
static u64 dtrace_dstate_chunksize(struct dtrace_state *state, u32 *vmax)
{
	const struct dtrace_enabling *en;
	const struct dif_object *dp;
	u64 chunk = 0, need, strbytes;
	u32 d, pc, op, ntr, ntv, sc, i;
	s64 opt;
	bool stores;

	*vmax = sizeof(u64);
	for (sc = DIFV_SCOPE_GLOBAL; sc <= DIFV_SCOPE_THREAD; sc++) {
		for (i = 0; i < state->vstate.nvars[sc]; i++) {
			const struct dtrace_var *e = &state->vstate.vars[sc][i];

			if (e->used && (sc == DIFV_SCOPE_THREAD ||
					e->kind == DIFV_KIND_ARRAY))
				*vmax = max(*vmax, e->type.dtdt_size);
		}
	}
	opt = state->options[DTRACEOPT_STRSIZE];
	strbytes = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_STRSIZE : opt;
	strbytes = ALIGN(max_t(u64, strbytes, DTRACE_DEFAULT_STRSIZE) + 1, 8);
	list_for_each_entry(en, &state->enablings, node) {
		for (d = 0; d < en->ndifos; d++) {
			dp = &en->difos[d];
			stores = false;
			ntr = 0;
			ntv = 0;
			for (pc = 0; pc < dp->len; pc++) {
				op = DIF_INSTR_OP(dp->text[pc]);
				stores |= op == DIF_OP_STTS ||
					  op == DIF_OP_STGAA ||
					  op == DIF_OP_STTAA;
				ntr += op == DIF_OP_PUSHTR;
				ntv += op == DIF_OP_PUSHTV;
			}
			if (!stores)
				continue;
			ntr = min_t(u32, ntr, DIF_DTR_NREGS);
			ntv = min_t(u32, ntv, DIF_DTR_NREGS - ntr);
			need = sizeof(struct dtrace_dvar) +
			       (ntr + ntv + 2) * sizeof(struct dif_tuple) +
			       ntr * strbytes + ALIGN((u64)*vmax, 8);
			chunk = max(chunk, need);
		}
	}
	if (!chunk)
		return 0;
	return ALIGN(max_t(u64, chunk, DTRACE_DYNVAR_MINCHUNK), 64);
}

/* At GO: the dynamic variable space, if any DIFO stores to it. */
int dtrace_dstate_alloc(struct dtrace_state *state)
{
	s64 opt = state->options[DTRACEOPT_DYNVARSIZE];
	u64 size = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_DYNVARSIZE : opt;
	u64 chunksize, nb, nchunks, per, i, rate, limit;
	struct dtrace_dstate *ds;
	struct dtrace_dvar *dv;
	unsigned int cpu, last = 0, ncpu = 0;
	u32 vmax;
	char *p;

	lockdep_assert_held(&state->lock);
	if (WARN_ON_ONCE(state->dstate))
		return -EBUSY;
	chunksize = dtrace_dstate_chunksize(state, &vmax);
	if (!chunksize)
		return 0;
	if (chunksize > U32_MAX)
		return -E2BIG;
	size &= ~7ULL;
	limit = dtrace_size_limit(1);
	while (size > limit && state->options[DTRACEOPT_BUFRESIZE] != 1)
		size = (size / 2) & ~7ULL;
	if (size > limit)
		return -ENOMEM;
	ds = dtrace_zalloc(sizeof(*ds));
	if (!ds)
		return -ENOMEM;
	ds->cpus = dtrace_zalloc(array_size(nr_cpu_ids, sizeof(*ds->cpus)));
	for (;;) {
		if (!ds->cpus || size < sizeof(struct dtrace_dvbucket))
			goto nomem;
		ds->base = dtrace_zalloc_nowarn(size);
		if (ds->base)
			break;
		if (state->options[DTRACEOPT_BUFRESIZE] == 1)
			goto nomem;
		size = (size / 2) & ~7ULL;
	}
	ds->size = size;
	ds->chunksize = chunksize;
	nb = size / (chunksize + DTRACE_DYNVAR_BUCKETCOST);
	if (nb > 1 && (nb & 1))
		nb--;
	if (!nb)
		nb = 1;
	ds->nbuckets = nb;
	ds->buckets = (struct dtrace_dvbucket *)ds->base;
	p = ds->base + ALIGN(nb * sizeof(struct dtrace_dvbucket), 64);
	nchunks = p < ds->base + size ? (ds->base + size - p) / chunksize : 0;
	ds->chunks = p;
	ds->nchunks = nchunks;

	/* Split the chunks evenly; the remainder goes to the last CPU. */
	for_each_possible_cpu(cpu) {
		ncpu++;
		last = cpu;
	}
	per = nchunks < ncpu ? 0 : nchunks / ncpu;
	i = 0;
	for_each_possible_cpu(cpu) {
		u64 n = cpu == last ? nchunks - i : per;

		if (!per)
			n = cpu == cpumask_first(cpu_possible_mask) ?
				nchunks : 0;
		for (; n; n--, i++) {
			dv = (struct dtrace_dvar *)(p + i * chunksize);
			dv->lnext = ds->cpus[cpu].free;
			ds->cpus[cpu].free = dv;
		}
	}
	WARN_ON_ONCE(i != nchunks);

	opt = state->options[DTRACEOPT_CLEANRATE];
	rate = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_CLEANRATE : opt;
	if (!rate)
		rate = DTRACE_CLEANRATE_MAX;
	rate = clamp_t(u64, rate, DTRACE_CLEANRATE_MIN, DTRACE_CLEANRATE_MAX);
	ds->cleanrate = max_t(unsigned long, nsecs_to_jiffies(rate), 1);
	state->options[DTRACEOPT_DYNVARSIZE] = size;
	INIT_DELAYED_WORK(&ds->cleaner, dtrace_dstate_clean);
	state->dstate = ds;
	schedule_delayed_work(&ds->cleaner, ds->cleanrate);
	return 0;
nomem:
	dtrace_free(ds->cpus);
	dtrace_free(ds);
	return -ENOMEM;
}

/* Only once no CPU can be in probe context for this state any more. */
void dtrace_dstate_free(struct dtrace_state *state)
{
	struct dtrace_dstate *ds = state->dstate;

	if (!ds)
		return;
	cancel_delayed_work_sync(&ds->cleaner);
	dtrace_free(ds->base);
	dtrace_free(ds->cpus);
	dtrace_free(ds);
	state->dstate = NULL;
}

/* DTRACEIOC_STATUS: the drop counters, summed over the CPUs. */
void dtrace_dstate_drops(struct dtrace_state *state, struct dtrace_status *st)
{
	struct dtrace_dstate *ds = state->dstate;
	unsigned int cpu;

	if (!ds)
		return;
	for_each_possible_cpu(cpu) {
		st->dtst_dyndrops += READ_ONCE(ds->cpus[cpu].drops);
		st->dtst_dyndrops_dirty += READ_ONCE(ds->cpus[cpu].dirty_drops);
		st->dtst_dyndrops_rinsing +=
			READ_ONCE(ds->cpus[cpu].rinsing_drops);
	}
}

/* The consumers file: the dynamic variable space (state->lock). */
u64 dtrace_dstate_bytes(const struct dtrace_state *state, u64 *meta)
{
	const struct dtrace_dstate *ds = state->dstate;

	if (!ds)
		return 0;
	*meta += sizeof(*ds) + (u64)nr_cpu_ids * sizeof(*ds->cpus);
	return ds->size;
}

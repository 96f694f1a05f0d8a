// SPDX-License-Identifier: GPL-2.0
/*
 * Speculations (dtrace-internals.md 3.7): nspec slots per consumer, each
 * with a per-CPU buffer of specsize bytes (only when some clause of the
 * consumer speculates, as DTrace allocates them).
 *
 * A slot's state moves by cmpxchg only, lock-free in probe context, as in
 * illumos:
 *
 *   INACTIVE	free; speculation() takes it to ACTIVE
 *   ACTIVE	taken, no data yet
 *   ACTIVEONE	data on one CPU
 *   ACTIVEMANY	data on several CPUs
 *   COMMITTING	commit() on the one CPU holding data: copies it to that
 *		CPU's principal buffer, then INACTIVE
 *   COMMITTINGMANY commit() of data held elsewhere: the cleaner commits
 *		every CPU's part (on that CPU, in an IPI), then INACTIVE
 *   DISCARDING	the same for discard() of data on several CPUs
 *
 * A CPU's speculation buffer is only touched on that CPU with interrupts
 * off: in probe context or in the cleaner's IPI.  Drops in a speculation
 * buffer count as speculative drops once the speculation is committed.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>

#include "dtrace_impl.h"

#define DTRACE_DEFAULT_SPECSIZE		(32ULL << 10)
#define DTRACE_DEFAULT_NSPEC		1
#define DTRACE_NSPEC_MAX		65536
#define DTRACE_SPEC_CLEANRATE		9900990LL	/* ns, ~101 Hz */
#define DTRACE_SPEC_CLEANRATE_MIN	200000LL	/* 200 us */
#define DTRACE_SPEC_CLEANRATE_MAX	(60LL * NSEC_PER_SEC)

enum {
	DTRACESPEC_INACTIVE,
	DTRACESPEC_ACTIVE,
	DTRACESPEC_ACTIVEONE,
	DTRACESPEC_ACTIVEMANY,
	DTRACESPEC_COMMITTING,
	DTRACESPEC_COMMITTINGMANY,
	DTRACESPEC_DISCARDING,
};

struct dtrace_specbuf {
	char *data;			/* specsize bytes, or NULL */
	u64 offset;			/* bytes recorded */
	u64 drops;			/* since the last commit or discard */
	u64 committed_drops;		/* cumulative: STATUS dtst_specdrops */
};

struct dtrace_spec {
	int state;			/* DTRACESPEC_*; cmpxchg */
	bool cleaning;			/* the cleaner's; in its IPI round */
	struct dtrace_specbuf *bufs;	/* nr_cpu_ids entries */
};

struct dtrace_specs {
	u32 nspec;
	u64 size;			/* bytes per CPU per speculation */
	bool clean;			/* the cleaner runs (commit/discard) */
	unsigned long cleanrate;	/* jiffies */
	atomic64_t busy;
	atomic64_t unavail;
	struct delayed_work cleaner;
	struct dtrace_state *state;
	struct dtrace_spec spec[];
};

/* What the consumer's clauses use: 1 speculate, 2 commit/discard. */
static u32 dtrace_specs_used(const struct dtrace_state *state)
{
	const struct dtrace_clause *cl;
	u32 i, j, used = 0;

	for (i = 0; i < state->necbs; i++) {
		cl = state->ecbs[i]->clause;
		for (j = 0; j < cl->nacts; j++) {
			if (cl->acts[j].kind == DTRACEACT_SPECULATE)
				used |= 1;
			else if (cl->acts[j].kind == DTRACEACT_COMMIT ||
				 cl->acts[j].kind == DTRACEACT_DISCARD)
				used |= 2;
		}
	}
	return used;
}

static void dtrace_specs_free_data(struct dtrace_specs *ss)
{
	unsigned int cpu;
	u32 i;

	for (i = 0; i < ss->nspec; i++) {
		if (!ss->spec[i].bufs)
			continue;
		for_each_possible_cpu(cpu)
			dtrace_free(ss->spec[i].bufs[cpu].data);
		dtrace_free(ss->spec[i].bufs);
		ss->spec[i].bufs = NULL;
	}
}

/* Every slot's per-CPU buffers of size bytes: 0 or -ENOMEM. */
static int dtrace_specs_alloc_data(struct dtrace_specs *ss, u64 size)
{
	struct dtrace_specbuf *bufs;
	unsigned int cpu;
	u32 i;

	for (i = 0; i < ss->nspec; i++) {
		bufs = dtrace_zalloc(nr_cpu_ids * sizeof(*bufs));
		if (!bufs)
			goto nomem;
		ss->spec[i].bufs = bufs;
		for_each_possible_cpu(cpu) {
			bufs[cpu].data = dtrace_zalloc_nowarn(size);
			if (!bufs[cpu].data)
				goto nomem;
		}
	}
	return 0;
nomem:
	dtrace_specs_free_data(ss);
	return -ENOMEM;
}

static void dtrace_specs_clean_work(struct work_struct *work);

/*
 * At GO (state->lock, still INACTIVE): the slots, and their buffers if a
 * clause speculates.  With bufresize=auto the size is halved until it
 * fits (the specsize option says what was obtained).
 */
int dtrace_specs_alloc(struct dtrace_state *state)
{
	bool manual = state->options[DTRACEOPT_BUFRESIZE] == 1;
	u32 used = dtrace_specs_used(state);
	struct dtrace_specs *ss;
	u64 size = 0, want, limit;
	s64 opt;
	u32 n;

	lockdep_assert_held(&state->lock);
	opt = state->options[DTRACEOPT_NSPEC];
	n = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_NSPEC :
	    (u32)min_t(s64, opt, DTRACE_NSPEC_MAX);
	ss = dtrace_zalloc(struct_size(ss, spec, n));
	if (!ss)
		return -ENOMEM;
	ss->nspec = n;
	ss->state = state;
	atomic64_set(&ss->busy, 0);
	atomic64_set(&ss->unavail, 0);
	INIT_DELAYED_WORK(&ss->cleaner, dtrace_specs_clean_work);

	if ((used & 1) && n) {
		opt = state->options[DTRACEOPT_SPECSIZE];
		size = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_SPECSIZE : opt;
		size &= ~7ULL;
		limit = dtrace_size_limit((u64)n * num_possible_cpus());
		/* Smaller than a word (specsize=0): every speculate() drops. */
		if (size < DTRACE_MIN_BUFSIZE)
			size = 0;
		want = size;
		while (size > limit && !manual)
			size = (size / 2) & ~7ULL;
		if (size > limit || (want && size < DTRACE_MIN_BUFSIZE))
			goto nomem;
		while (size && dtrace_specs_alloc_data(ss, size)) {
			size = (size / 2) & ~7ULL;
			if (manual || size < DTRACE_MIN_BUFSIZE)
				goto nomem;
		}
		state->options[DTRACEOPT_SPECSIZE] = size;
	} else if (state->options[DTRACEOPT_SPECSIZE] != DTRACEOPT_UNSET) {
		/* No speculation buffers: none lowered (as DTrace says). */
		state->options[DTRACEOPT_SPECSIZE] = 0;
	}
	ss->size = size;

	opt = state->options[DTRACEOPT_CLEANRATE];
	if (opt == DTRACEOPT_UNSET)
		opt = DTRACE_SPEC_CLEANRATE;
	else if (!opt)
		opt = DTRACE_SPEC_CLEANRATE_MAX;	/* as dynvar.c */
	opt = clamp_t(s64, opt, DTRACE_SPEC_CLEANRATE_MIN,
		      DTRACE_SPEC_CLEANRATE_MAX);
	ss->cleanrate = max_t(unsigned long, nsecs_to_jiffies(opt), 1);
	ss->clean = used & 2;
	state->specs = ss;
	if (ss->clean)
		schedule_delayed_work(&ss->cleaner, ss->cleanrate);
	return 0;
nomem:
	dtrace_free(ss);
	return -ENOMEM;
}

/* Only once no CPU can be in probe context for this state any more. */
void dtrace_specs_free(struct dtrace_state *state)
{
	struct dtrace_specs *ss = state->specs;

	if (!ss)
		return;
	cancel_delayed_work_sync(&ss->cleaner);
	dtrace_specs_free_data(ss);
	dtrace_free(ss);
	state->specs = NULL;
}

/* DTRACEIOC_STATUS: the three speculation counters (state->lock). */
void dtrace_specs_status(struct dtrace_state *state, struct dtrace_status *st)
{
	struct dtrace_specs *ss = state->specs;
	unsigned int cpu;
	u32 i;

	if (!ss)
		return;
	for (i = 0; i < ss->nspec; i++) {
		if (!ss->spec[i].bufs)
			continue;
		for_each_possible_cpu(cpu)
			st->dtst_specdrops +=
			    READ_ONCE(ss->spec[i].bufs[cpu].committed_drops);
	}
	st->dtst_specdrops_busy = atomic64_read(&ss->busy);
	st->dtst_specdrops_unavail = atomic64_read(&ss->unavail);
}

/* The consumers file: the speculation buffers' bytes (state->lock). */
u64 dtrace_specs_bytes(const struct dtrace_state *state, u64 *meta)
{
	const struct dtrace_specs *ss = state->specs;
	u64 bytes = 0;
	u32 i;

	if (!ss)
		return 0;
	*meta += struct_size(ss, spec, ss->nspec);
	for (i = 0; i < ss->nspec; i++) {
		if (!ss->spec[i].bufs)
			continue;
		*meta += (u64)nr_cpu_ids * sizeof(*ss->spec[i].bufs);
		bytes += (u64)num_possible_cpus() * ss->size;
	}
	return bytes;
}

/*
 * Program intake (program.c): speculate() at most once and before any
 * record, at most one commit() and no record nor speculate() after it, no
 * aggregation in a clause that speculates or commits.  0 or -EINVAL.
 */
int dtrace_clause_spec_check(const struct dtrace_clause *cl)
{
	bool spec = false, commit = false, recorded = false, agg = false;
	const struct dtrace_action *act;
	u32 i;

	for (i = 0; i < cl->nacts; i++) {
		act = &cl->acts[i];
		if (act->kind == DTRACEACT_SPECULATE) {
			if (spec || commit || recorded)
				return -EINVAL;
			spec = true;
		} else if (act->kind == DTRACEACT_COMMIT) {
			if (commit)
				return -EINVAL;
			commit = true;
		} else if (DTRACEACT_CLASS(act->kind) ==
			   DTRACEACT_AGGREGATION) {
			agg = true;
		} else if (spec && dtrace_act_destructive(act->kind)) {
			return -EINVAL;	/* they cannot be speculative */
		} else if (act->rec.dtrd_size) {
			if (commit)
				return -EINVAL;
			recorded = true;
		}
	}
	return agg && (spec || commit) ? -EINVAL : 0;
}

/*
 * ---------------------------------------------------------------------------
 * Probe context (interrupts off, no locks) and the cleaner's IPI
 * ---------------------------------------------------------------------------
 */

/* id 1..nspec: its slot; else NULL, with ILLOP for id > nspec. */
static notrace struct dtrace_spec *dtrace_spec_get(struct dtrace_specs *ss,
						   u64 id,
						   struct dif_mstate *ms)
{
	if (!id)
		return NULL;
	if (!ss || id > ss->nspec) {
		ms->flags |= DIF_F_ILLOP;
		ms->illval = id;
		return NULL;
	}
	return &ss->spec[id - 1];
}
NOKPROBE_SYMBOL(dtrace_spec_get);

/* speculation(): a free slot's id, or 0 (counted busy or unavailable). */
notrace u64 dtrace_speculation(struct dtrace_state *state)
{
	struct dtrace_specs *ss = READ_ONCE(state->specs);
	bool busy = false;
	int cur;
	u32 i;

	if (!ss)
		return 0;
	for (i = 0; i < ss->nspec; i++) {
		cur = READ_ONCE(ss->spec[i].state);
		if (cur != DTRACESPEC_INACTIVE) {
			if (cur == DTRACESPEC_COMMITTINGMANY ||
			    cur == DTRACESPEC_COMMITTING ||
			    cur == DTRACESPEC_DISCARDING)
				busy = true;
			continue;
		}
		if (cmpxchg(&ss->spec[i].state, cur, DTRACESPEC_ACTIVE) == cur)
			return i + 1;
	}
	atomic64_inc(busy ? &ss->busy : &ss->unavail);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_speculation);

/*
 * speculate(id): the rest of the clause records into this CPU's buffer of
 * speculation id.  Reserves needed bytes (align) there and writes the record
 * header (EPID, the firing's time now) when the clause records anything.  Returns the record, or NULL: a drop
 * (DIF_F_DROP: id 0, a speculation not active, a full buffer) or a fault.
 */
notrace char *dtrace_spec_speculate(struct dtrace_state *state,
				    const struct dtrace_ecb *ecb, int cpu,
				    u64 id, u64 now, struct dif_mstate *ms,
				    struct dtrace_spec_pending *pend)
{
	const struct dtrace_clause *cl = ecb->clause;
	struct dtrace_spec *spec;
	struct dtrace_specbuf *buf;
	int cur, new;
	u64 offs, aligned;
	char *rec;

	spec = dtrace_spec_get(READ_ONCE(state->specs), id, ms);
	if (!spec || !spec->bufs)
		goto drop;
	buf = &spec->bufs[cpu];
	do {
		cur = READ_ONCE(spec->state);
		switch (cur) {
		case DTRACESPEC_ACTIVE:
			new = DTRACESPEC_ACTIVEONE;
			break;
		case DTRACESPEC_ACTIVEONE:
			/* Active on one CPU: if it is this one, no change. */
			if (buf->offset)
				goto reserve;
			new = DTRACESPEC_ACTIVEMANY;
			break;
		case DTRACESPEC_ACTIVEMANY:
			goto reserve;
		default:	/* inactive, committing, discarding */
			goto drop;
		}
	} while (cmpxchg(&spec->state, cur, new) != cur);
reserve:
	offs = buf->offset;
	aligned = ALIGN(offs, cl->align);
	if (aligned + cl->needed > state->specs->size) {
		buf->drops++;
		goto drop;
	}
	for (; offs < aligned; offs += sizeof(u32))
		*(u32 *)(buf->data + offs) = DTRACE_EPIDNONE;
	rec = buf->data + aligned;
	if (cl->size)
		dtrace_rechdr_put(rec, ecb->epid, now);
	pend->buf = buf;
	pend->end = aligned + cl->size;
	return rec;
drop:
	if (!(ms->flags & DIF_F_FAULT))
		ms->flags |= DIF_F_DROP;
	return NULL;
}
NOKPROBE_SYMBOL(dtrace_spec_speculate);

/* The clause ran to its end: commit its record in the speculation. */
notrace void dtrace_spec_done(const struct dtrace_spec_pending *pend)
{
	if (pend->buf && pend->end > pend->buf->offset)
		pend->buf->offset = pend->end;
}
NOKPROBE_SYMBOL(dtrace_spec_done);

/* Copy this CPU's part of spec to dest; a drop there when it has no room. */
static notrace void dtrace_spec_copy(struct dtrace_state *state,
				     struct dtrace_specbuf *src,
				     struct dtrace_buffer *dest)
{
	u64 n = src->offset, offs, aligned;
	char *data;

	if (!n)
		return;
	offs = dest->offset;
	aligned = ALIGN(offs, sizeof(u64));
	if (aligned + n > dest->limit) {
		if (n > U32_MAX ||
		    !dtrace_buffer_reserve(dest, state, n, sizeof(u64),
					   &aligned))
			return;
		offs = dest->offset;
	}
	data = dest->data[dest->cur];
	for (; offs < aligned; offs += sizeof(u32))
		*(u32 *)(data + offs) = DTRACE_EPIDNONE;
	memcpy(data + aligned, src->data, n);
	dest->offset = aligned + n;
}
NOKPROBE_SYMBOL(dtrace_spec_copy);

/* commit(id) on cpu, whose principal buffer is dest. */
notrace void dtrace_spec_commit(struct dtrace_state *state,
				struct dtrace_buffer *dest, int cpu, u64 id,
				struct dif_mstate *ms)
{
	struct dtrace_spec *spec;
	struct dtrace_specbuf *src;
	int cur, new;

	spec = dtrace_spec_get(READ_ONCE(state->specs), id, ms);
	if (!spec)
		return;
	src = spec->bufs ? &spec->bufs[cpu] : NULL;
	do {
		cur = READ_ONCE(spec->state);
		if (cur == DTRACESPEC_COMMITTINGMANY) {
			new = cur;
			break;
		}
		switch (cur) {
		case DTRACESPEC_ACTIVE:
			new = DTRACESPEC_COMMITTING;
			break;
		case DTRACESPEC_ACTIVEONE:
			/* Our data: the one CPU is us.  Else the cleaner's. */
			if (src && src->offset) {
				new = DTRACESPEC_COMMITTING;
				break;
			}
			fallthrough;
		case DTRACESPEC_ACTIVEMANY:
			new = DTRACESPEC_COMMITTINGMANY;
			break;
		case DTRACESPEC_COMMITTING:
			/* Another CPU commits its own data: none here. */
			WARN_ON_ONCE(src && src->offset);
			return;
		default:	/* inactive, discarding */
			return;
		}
	} while (cmpxchg(&spec->state, cur, new) != cur);

	if (src) {
		dtrace_spec_copy(state, src, dest);
		src->offset = 0;
		src->committed_drops += src->drops;
		src->drops = 0;
	}
	/* The last CPU to commit frees the slot. */
	if (new == DTRACESPEC_COMMITTING)
		WARN_ON_ONCE(cmpxchg(&spec->state, DTRACESPEC_COMMITTING,
				     DTRACESPEC_INACTIVE) !=
			     DTRACESPEC_COMMITTING);
}
NOKPROBE_SYMBOL(dtrace_spec_commit);

/* discard(id) on cpu. */
notrace void dtrace_spec_discard(struct dtrace_state *state, int cpu, u64 id,
				 struct dif_mstate *ms)
{
	struct dtrace_spec *spec;
	struct dtrace_specbuf *buf;
	int cur, new;

	spec = dtrace_spec_get(READ_ONCE(state->specs), id, ms);
	if (!spec)
		return;
	buf = spec->bufs ? &spec->bufs[cpu] : NULL;
	do {
		cur = READ_ONCE(spec->state);
		switch (cur) {
		case DTRACESPEC_ACTIVE:
		case DTRACESPEC_ACTIVEMANY:
			new = DTRACESPEC_DISCARDING;
			break;
		case DTRACESPEC_ACTIVEONE:
			new = buf && buf->offset ? DTRACESPEC_INACTIVE :
			      DTRACESPEC_DISCARDING;
			break;
		default:	/* inactive, committing, discarding */
			return;
		}
	} while (cmpxchg(&spec->state, cur, new) != cur);
	if (buf) {
		buf->offset = 0;
		buf->drops = 0;
	}
}
NOKPROBE_SYMBOL(dtrace_spec_discard);

/* On every CPU, in an IPI: commit or discard this CPU's parts. */
static notrace void dtrace_specs_clean_here(void *arg)
{
	struct dtrace_state *state = arg;
	struct dtrace_specs *ss = state->specs;
	struct dtrace_buffer *dest;
	struct dtrace_specbuf *src;
	struct dif_mstate ms;
	int cpu = smp_processor_id();
	u32 i;

	if (!state->buffers)
		return;
	dest = &state->buffers[cpu];
	memset(&ms, 0, sizeof(ms));
	for (i = 0; i < ss->nspec; i++) {
		if (!ss->spec[i].bufs)
			continue;
		src = &ss->spec[i].bufs[cpu];
		switch (READ_ONCE(ss->spec[i].state)) {
		case DTRACESPEC_DISCARDING:
			src->offset = 0;
			src->drops = 0;
			break;
		case DTRACESPEC_COMMITTINGMANY:
			if (src->offset)
				dtrace_spec_commit(state, dest, cpu, i + 1,
						   &ms);
			break;
		}
	}
}
NOKPROBE_SYMBOL(dtrace_specs_clean_here);

/*
 * The slots being committed or discarded on several CPUs: every CPU does
 * its part, then they are free again.  Process context; the caller keeps
 * the buffers alive (the cleaner is cancelled before they are freed).
 */
static void dtrace_specs_clean(struct dtrace_state *state)
{
	struct dtrace_specs *ss = state->specs;
	struct dtrace_spec *spec;
	bool work = false;
	int cur;
	u32 i;

	for (i = 0; i < ss->nspec; i++) {
		spec = &ss->spec[i];
		cur = READ_ONCE(spec->state);
		if (cur != DTRACESPEC_DISCARDING &&
		    cur != DTRACESPEC_COMMITTINGMANY)
			continue;
		spec->cleaning = true;
		work = true;
	}
	if (!work)
		return;
	on_each_cpu(dtrace_specs_clean_here, state, 1);
	for (i = 0; i < ss->nspec; i++) {
		spec = &ss->spec[i];
		if (!spec->cleaning)
			continue;
		cur = READ_ONCE(spec->state);
		WARN_ON_ONCE(cur != DTRACESPEC_DISCARDING &&
			     cur != DTRACESPEC_COMMITTINGMANY);
		WARN_ON_ONCE(cmpxchg(&spec->state, cur,
				     DTRACESPEC_INACTIVE) != cur);
		spec->cleaning = false;
	}
}

static void dtrace_specs_clean_work(struct work_struct *work)
{
	struct dtrace_specs *ss = container_of(to_delayed_work(work),
					       struct dtrace_specs, cleaner);

	dtrace_specs_clean(ss->state);
	schedule_delayed_work(&ss->cleaner, ss->cleanrate);
}

/*
 * STOP, after END (state->lock): stop the cleaner and do its last round,
 * so what was committed reaches the principal buffers before they are
 * read for the last time.
 */
void dtrace_specs_stop(struct dtrace_state *state)
{
	struct dtrace_specs *ss = state->specs;

	if (!ss || !ss->clean)
		return;
	cancel_delayed_work_sync(&ss->cleaner);
	dtrace_specs_clean(state);
}

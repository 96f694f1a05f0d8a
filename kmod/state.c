// SPDX-License-Identifier: GPL-2.0
/*
 * One consumer per open file: its options, ECBs, buffers and activity.
 *
 * Activity only moves forward (dtrace-internals.md 4.7):
 *
 *   INACTIVE --GO--> WARMUP --BEGIN done--> ACTIVE --exit()--> DRAINING
 *   WARMUP --exit() in BEGIN--> DRAINING
 *   ACTIVE/DRAINING --STOP--> DRAINING, COOLDOWN (END fires), STOPPED
 *   any running state --close--> KILLED, then the state is freed
 *
 * Process context changes activity with state->lock held; probe context
 * only moves WARMUP/ACTIVE to DRAINING (exit()), with cmpxchg.
 * Lock order: dtrace_states_lock, then state->lock, then dtrace_lock.
 *
 * Every state is on dtrace_states from create to destroy, with the id,
 * pid and comm of its opener: /sys/kernel/debug/dtrace/consumers lists
 * them with the bytes each one holds (dtrace_states_show()).
 */
#include <linux/kernel.h>
#include <linux/irqflags.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/kprobes.h>
#include <linux/seq_file.h>

#include "dtrace_impl.h"

static LIST_HEAD(dtrace_states);
static DEFINE_MUTEX(dtrace_states_lock);
static u64 dtrace_states_lastid;	/* dtrace_states_lock */

/*
 * The deadman (dtrace-internals.md 4.7): every deadman_interval_ms a work
 * item marks a running consumer alive, unless it has not called STATUS for
 * deadman_user_ms; a probe firing that finds the mark older than
 * deadman_timeout_ms kills the consumer (activity KILLED: its ECBs stop,
 * STATUS reports dtst_killed).  Module parameters, so tests can shorten
 * them.
 */
static unsigned int deadman_interval_ms = 1000;
module_param(deadman_interval_ms, uint, 0644);
MODULE_PARM_DESC(deadman_interval_ms, "deadman check period (ms)");
static unsigned int deadman_user_ms = 30000;
module_param(deadman_user_ms, uint, 0644);
MODULE_PARM_DESC(deadman_user_ms,
		 "a consumer silent (no STATUS) this long is not alive (ms)");
static unsigned int deadman_timeout_ms = 10000;
module_param(deadman_timeout_ms, uint, 0644);
MODULE_PARM_DESC(deadman_timeout_ms,
		 "kill a consumer not alive for this long when a probe fires (ms)");

/*
 * DTrace's dtrace_destructive_disallow: while set, the destructive actions
 * that act in the kernel (raise, stop, chill, copyout, copyoutstr) are
 * skipped, and no consumer is spared by the deadman.
 */
static bool destructive_disallow;
module_param(destructive_disallow, bool, 0644);
MODULE_PARM_DESC(destructive_disallow,
		 "skip destructive actions; the deadman spares no consumer");

notrace bool dtrace_destructive_disallowed(void)
{
	return READ_ONCE(destructive_disallow);
}
NOKPROBE_SYMBOL(dtrace_destructive_disallowed);

static unsigned long dtrace_deadman_period(void)
{
	return max_t(unsigned long,
		     msecs_to_jiffies(READ_ONCE(deadman_interval_ms)), 1);
}

static void dtrace_deadman_work(struct work_struct *work)
{
	struct dtrace_state *state = container_of(to_delayed_work(work),
						  struct dtrace_state, deadman);
	u64 now = ktime_get_mono_fast_ns();
	u64 user = (u64)READ_ONCE(deadman_user_ms) * NSEC_PER_MSEC;

	if (now - READ_ONCE(state->alive) < user)
		WRITE_ONCE(state->deadman_alive, get_jiffies_64());
	schedule_delayed_work(&state->deadman, dtrace_deadman_period());
}

/*
 * Probe context: has the deadman killed the consumer (now, or before)?
 * Only a running consumer (from GO) can be killed.  As DTrace, one that
 * holds kernel-destructive privilege (every consumer: opening the device
 * needs CAP_SYS_ADMIN) and enabled destructive actions (-w, recorded at GO)
 * is spared, unless destructive actions are disallowed.
 */
notrace bool dtrace_state_deadman(struct dtrace_state *state)
{
	u64 alive = READ_ONCE(state->deadman_alive);
	u64 now = get_jiffies_64();	/* a load: no clock read per firing */
	u64 limit = READ_ONCE(deadman_timeout_ms);
	int cur;

	/* now - alive jiffies within limit ms, without a division */
	if (!alive || now <= alive || (now - alive) * MSEC_PER_SEC <= limit * HZ)
		return false;
	if (READ_ONCE(state->deadman_spared) &&
	    !dtrace_destructive_disallowed())
		return false;
	for (;;) {
		cur = READ_ONCE(state->activity);
		if (cur == DTRACE_ACTIVITY_INACTIVE ||
		    cur == DTRACE_ACTIVITY_STOPPED)
			return false;
		if (cur == DTRACE_ACTIVITY_KILLED)
			return true;
		if (cmpxchg(&state->activity, cur,
			    DTRACE_ACTIVITY_KILLED) == cur)
			return true;
	}
}
NOKPROBE_SYMBOL(dtrace_state_deadman);

/* The irq_work a buffer past half queued: wake the consumer's poll(). */
static void dtrace_state_bufwake(struct irq_work *work)
{
	struct dtrace_state *state = container_of(work, struct dtrace_state,
						  bufwork);

	wake_up_interruptible(&state->bufwait);
}

struct dtrace_state *dtrace_state_create(void)
{
	struct dtrace_state *state;
	int i;

	state = dtrace_zalloc(sizeof(*state));
	if (!state)
		return NULL;
	mutex_init(&state->lock);
	INIT_LIST_HEAD(&state->enablings);
	state->activity = DTRACE_ACTIVITY_INACTIVE;
	for (i = 0; i < DTRACEOPT_MAX; i++)
		state->options[i] = DTRACEOPT_UNSET;
	state->strsize = DTRACE_DEFAULT_STRSIZE;
	atomic64_set(&state->dblerrors, 0);
	INIT_DELAYED_WORK(&state->deadman, dtrace_deadman_work);
	init_irq_work(&state->bufwork, dtrace_state_bufwake);
	init_waitqueue_head(&state->bufwait);

	/* Let providers create their probes before the consumer looks. */
	mutex_lock(&dtrace_lock);
	dtrace_provide_all();
	mutex_unlock(&dtrace_lock);

	state->pid = task_tgid_nr(current);
	get_task_comm(state->comm, current);
	mutex_lock(&dtrace_states_lock);
	state->id = ++dtrace_states_lastid;
	list_add_tail(&state->node, &dtrace_states);
	mutex_unlock(&dtrace_states_lock);
	return state;
}

static bool dtrace_var_byref(const struct dtrace_var *e)
{
	return e->used && e->type.dtdt_size &&
	       ((e->type.dtdt_flags & DIF_TF_BYREF) ||
		e->type.dtdt_kind == DIF_TYPE_KIND_STRING);
}

/* Bytes of static storage of a by-ref variable: the header, the data. */
static u64 dtrace_var_storage(const struct dtrace_var *e)
{
	return ALIGN((u64)e->type.dtdt_size + sizeof(u64), sizeof(u64));
}

void dtrace_vstate_free(struct dtrace_vstate *vs)
{
	int sc;

	for (sc = 0; sc < DTRACE_NSCOPES; sc++) {
		dtrace_free(vs->info[sc]);
		vs->info[sc] = NULL;
	}
	dtrace_free(vs->globals);
	dtrace_free(vs->locals);
	dtrace_free(vs->gstore);
	dtrace_free(vs->lstore);
	vs->globals = NULL;
	vs->locals = NULL;
	vs->gstore = NULL;
	vs->lstore = NULL;
	container_of(vs, struct dtrace_state, vstate)->vbytes = 0;
}

/*
 * At GO: the static variables (zero-filled global scalars, per-CPU
 * clause-local slots, by-ref storage with its 8-byte header) and the
 * by-ref descriptions the interpreter uses, from the variable tables
 * of every enabled DIFO (dtrace-internals.md 5.4).
 */
int dtrace_vstate_alloc(struct dtrace_state *state)
{
	struct dtrace_vstate *vs = &state->vstate;
	u32 ng = vs->nvars[DIFV_SCOPE_GLOBAL];
	u32 nl = vs->nvars[DIFV_SCOPE_LOCAL];
	const struct dtrace_var *e;
	u64 gbytes = 0, lbytes = 0, goff = 0, loff = 0;
	unsigned int cpu;
	u32 sc, i;

	lockdep_assert_held(&state->lock);
	for (sc = 0; sc < DTRACE_NSCOPES; sc++) {
		for (i = 0; i < vs->nvars[sc]; i++) {
			e = &vs->vars[sc][i];
			if (!dtrace_var_byref(e))
				continue;
			if (!vs->info[sc]) {
				vs->info[sc] = dtrace_zalloc_nowarn
					(array_size(vs->nvars[sc],
						    sizeof(*vs->info[sc])));
				if (!vs->info[sc])
					goto nomem;
			}
			vs->info[sc][i].size = e->type.dtdt_size;
			vs->info[sc][i].string =
				e->type.dtdt_kind == DIF_TYPE_KIND_STRING;
			if (e->kind != DIFV_KIND_SCALAR)
				continue;
			if (sc == DIFV_SCOPE_GLOBAL)
				gbytes += dtrace_var_storage(e);
			else if (sc == DIFV_SCOPE_LOCAL)
				lbytes += dtrace_var_storage(e);
		}
	}
	if (ng) {
		vs->globals = dtrace_zalloc_nowarn(array_size(ng, sizeof(u64)));
		if (!vs->globals)
			goto nomem;
	}
	if (nl) {
		vs->locals = dtrace_zalloc_nowarn(array3_size(nr_cpu_ids, nl,
							      sizeof(u64)));
		if (!vs->locals)
			goto nomem;
	}
	if (gbytes) {
		vs->gstore = dtrace_zalloc_nowarn(gbytes);
		if (!vs->gstore)
			goto nomem;
	}
	if (lbytes) {
		vs->lstore = dtrace_zalloc_nowarn(array_size(nr_cpu_ids,
							     lbytes));
		if (!vs->lstore)
			goto nomem;
	}
	for (i = 0; i < ng; i++) {
		e = &vs->vars[DIFV_SCOPE_GLOBAL][i];
		if (e->kind != DIFV_KIND_SCALAR || !dtrace_var_byref(e))
			continue;
		vs->globals[i] = (uintptr_t)(vs->gstore + goff);
		goff += dtrace_var_storage(e);
	}
	for (i = 0; i < nl; i++) {
		e = &vs->vars[DIFV_SCOPE_LOCAL][i];
		if (e->kind != DIFV_KIND_SCALAR || !dtrace_var_byref(e))
			continue;
		for_each_possible_cpu(cpu)
			vs->locals[(u64)cpu * nl + i] =
				(uintptr_t)(vs->lstore + cpu * lbytes + loff);
		loff += dtrace_var_storage(e);
	}
	WARN_ON_ONCE(goff != gbytes || loff != lbytes);
	state->vbytes = (u64)ng * sizeof(u64) +
		(u64)nr_cpu_ids * nl * sizeof(u64) + gbytes +
		(u64)nr_cpu_ids * lbytes;
	return 0;
nomem:
	dtrace_vstate_free(vs);
	return -ENOMEM;
}

/*
 * Close: stop without firing END (as DTrace does), take every ECB off its
 * probe, wait until no CPU can still see them, free everything.
 */
void dtrace_state_destroy(struct dtrace_state *state)
{
	struct dtrace_enabling *en, *tmp;
	int activity;
	u32 i;

	mutex_lock(&dtrace_states_lock);
	list_del(&state->node);
	mutex_unlock(&dtrace_states_lock);

	mutex_lock(&state->lock);
	activity = READ_ONCE(state->activity);
	if (activity != DTRACE_ACTIVITY_INACTIVE &&
	    activity != DTRACE_ACTIVITY_STOPPED)
		WRITE_ONCE(state->activity, DTRACE_ACTIVITY_KILLED);

	mutex_lock(&dtrace_lock);
	for (i = 0; i < state->necbs; i++)
		dtrace_ecb_unlink(state->ecbs[i]);
	dtrace_providers_flush();
	mutex_unlock(&dtrace_lock);
	dtrace_sync();
	/* No probe context queues it now; let a queued one finish. */
	irq_work_sync(&state->bufwork);

	cancel_delayed_work_sync(&state->deadman);
	dtrace_dstate_free(state);
	dtrace_aggbufs_free(state);
	dtrace_specs_free(state);
	dtrace_vstate_free(&state->vstate);
	for (i = 0; i < DTRACE_NSCOPES; i++)
		dtrace_free(state->vstate.vars[i]);
	dtrace_free(state->aggs);
	for (i = 0; i < state->necbs; i++)
		dtrace_free(state->ecbs[i]);
	dtrace_free(state->ecbs);
	list_for_each_entry_safe(en, tmp, &state->enablings, node) {
		list_del(&en->node);
		dtrace_enabling_destroy(en);
	}
	dtrace_buffers_free(state);
	mutex_unlock(&state->lock);
	mutex_destroy(&state->lock);
	dtrace_free(state);
}

/* Fire a dtrace provider probe for this consumer; returns the CPU. */
static u32 dtrace_state_fire(struct dtrace_state *state, u32 id)
{
	unsigned long flags;
	u32 cpu;

	local_irq_save(flags);
	cpu = smp_processor_id();
	dtrace_probe(id, state, 0, 0, 0, 0, 0, 0);
	local_irq_restore(flags);
	return cpu;
}

/*
 * Does any enabling of the state have a destructive action, or a DIFO that
 * calls copyout or copyoutstr?  state->lock
 */
static bool dtrace_state_destructive(const struct dtrace_state *state)
{
	const struct dtrace_enabling *en;
	const struct dtrace_clause *cl;
	u32 i, j;

	list_for_each_entry(en, &state->enablings, node) {
		for (i = 0; i < en->nclauses; i++) {
			cl = &en->clauses[i];
			if (cl->pred && cl->pred->destructive)
				return true;
			for (j = 0; j < cl->nacts; j++) {
				if (dtrace_act_destructive(cl->acts[j].kind))
					return true;
				if (cl->acts[j].difo &&
				    cl->acts[j].difo->destructive)
					return true;
			}
		}
	}
	return false;
}

/*
 * At GO: the rates the module enforces, written back to the options so the
 * consumer can tell (as DTrace: cleanrate 0 is the slowest, and clamped;
 * statusrate capped).
 */
static void dtrace_state_rates(struct dtrace_state *state)
{
	s64 *opt = state->options;

	if (opt[DTRACEOPT_CLEANRATE] == 0)
		opt[DTRACEOPT_CLEANRATE] = DTRACE_CLEANRATE_MAX;
	if (opt[DTRACEOPT_CLEANRATE] != DTRACEOPT_UNSET)
		opt[DTRACEOPT_CLEANRATE] = clamp_t(s64,
						   opt[DTRACEOPT_CLEANRATE],
						   DTRACE_CLEANRATE_MIN,
						   DTRACE_CLEANRATE_MAX);
	if (opt[DTRACEOPT_STATUSRATE] != DTRACEOPT_UNSET &&
	    opt[DTRACEOPT_STATUSRATE] > DTRACE_STATUSRATE_MAX)
		opt[DTRACEOPT_STATUSRATE] = DTRACE_STATUSRATE_MAX;
}

int dtrace_state_go(struct dtrace_state *state, u32 *cpu)
{
	s64 opt;
	u64 size;
	int err;

	mutex_lock(&state->lock);
	if (READ_ONCE(state->activity) != DTRACE_ACTIVITY_INACTIVE) {
		err = -EBUSY;
		goto out;
	}
	/* Destructive actions need the destructive option (-w). */
	if (state->options[DTRACEOPT_DESTRUCTIVE] == DTRACEOPT_UNSET &&
	    dtrace_state_destructive(state)) {
		err = -EACCES;
		goto out;
	}
	/* There is no anonymous state here for grabanon to claim. */
	if (state->options[DTRACEOPT_GRABANON] != DTRACEOPT_UNSET) {
		err = -ENOENT;
		goto out;
	}
	dtrace_state_rates(state);
	opt = state->options[DTRACEOPT_BUFSIZE];
	size = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_BUFSIZE : opt;
	err = dtrace_buffers_alloc(state, &size);
	if (err)
		goto out;
	err = dtrace_vstate_alloc(state);
	if (!err)
		err = dtrace_dstate_alloc(state);
	if (!err)
		err = dtrace_aggbufs_alloc(state);
	if (!err)
		err = dtrace_specs_alloc(state);
	if (err) {
		/* Still INACTIVE: no probe context looks at any of it. */
		dtrace_dstate_free(state);
		dtrace_aggbufs_free(state);
		dtrace_specs_free(state);
		dtrace_vstate_free(&state->vstate);
		dtrace_buffers_free(state);
		goto out;
	}
	state->options[DTRACEOPT_BUFSIZE] = size;
	opt = state->options[DTRACEOPT_STRSIZE];
	state->strsize = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_STRSIZE : opt;
	WRITE_ONCE(state->deadman_spared,
		   state->options[DTRACEOPT_DESTRUCTIVE] != DTRACEOPT_UNSET);
	WRITE_ONCE(state->alive, ktime_get_mono_fast_ns());
	WRITE_ONCE(state->deadman_alive, get_jiffies_64());
	schedule_delayed_work(&state->deadman, dtrace_deadman_period());

	/* Everything above is visible before any CPU sees us running. */
	smp_wmb();
	WRITE_ONCE(state->activity, DTRACE_ACTIVITY_WARMUP);
	*cpu = dtrace_state_fire(state, dtrace_probeid_begin);
	/* Unless exit() ran in BEGIN. */
	cmpxchg(&state->activity, DTRACE_ACTIVITY_WARMUP,
		DTRACE_ACTIVITY_ACTIVE);
out:
	mutex_unlock(&state->lock);
	return err;
}

int dtrace_state_stop(struct dtrace_state *state, u32 *cpu)
{
	int activity, err = 0;

	mutex_lock(&state->lock);
	activity = READ_ONCE(state->activity);
	if (activity != DTRACE_ACTIVITY_ACTIVE &&
	    activity != DTRACE_ACTIVITY_DRAINING) {
		err = -EINVAL;
		goto out;
	}
	WRITE_ONCE(state->activity, DTRACE_ACTIVITY_DRAINING);
	dtrace_sync();
	WRITE_ONCE(state->activity, DTRACE_ACTIVITY_COOLDOWN);
	dtrace_sync();
	*cpu = dtrace_state_fire(state, dtrace_probeid_end);
	dtrace_specs_stop(state);
	WRITE_ONCE(state->activity, DTRACE_ACTIVITY_STOPPED);
	dtrace_sync();
out:
	mutex_unlock(&state->lock);
	return err;
}

int dtrace_state_status(struct dtrace_state *state, struct dtrace_status *st)
{
	unsigned int cpu;
	int activity;
	u64 errors = 0, filled = 0;

	mutex_lock(&state->lock);
	activity = READ_ONCE(state->activity);
	if (activity == DTRACE_ACTIVITY_INACTIVE) {
		mutex_unlock(&state->lock);
		return -ENOENT;
	}
	if (state->buffers) {
		for_each_possible_cpu(cpu) {
			errors += READ_ONCE(state->buffers[cpu].errors);
			filled += READ_ONCE(state->buffers[cpu].full);
		}
	}
	memset(st, 0, sizeof(*st));
	st->dtst_errors = errors;
	st->dtst_filled = filled;
	st->dtst_dblerrors = atomic64_read(&state->dblerrors);
	dtrace_dstate_drops(state, st);
	dtrace_specs_status(state, st);
	st->dtst_killed = activity == DTRACE_ACTIVITY_KILLED;
	st->dtst_exiting = activity == DTRACE_ACTIVITY_DRAINING;
	st->dtst_activity = activity;
	WRITE_ONCE(state->alive, ktime_get_mono_fast_ns());
	mutex_unlock(&state->lock);
	return 0;
}

/* DTRACEIOC_OPTGET: copies out up to dtog_nopts option values. */
int dtrace_state_optget(struct dtrace_state *state, struct dtrace_optget *og)
{
	s64 opts[DTRACEOPT_MAX];
	u32 n;

	if (og->dtog_pad)
		return -EINVAL;
	mutex_lock(&state->lock);
	memcpy(opts, state->options, sizeof(opts));
	mutex_unlock(&state->lock);
	n = min_t(u32, og->dtog_nopts, DTRACEOPT_MAX);
	if (n && copy_to_user(u64_to_user_ptr(og->dtog_values), opts,
			      n * sizeof(opts[0])))
		return -EFAULT;
	og->dtog_nopts = DTRACEOPT_MAX;
	return 0;
}

/* DTRACEIOC_EPROBE: copies out up to dtepd_nrecs record descriptions. */
int dtrace_state_eprobe(struct dtrace_state *state,
			struct dtrace_eprobedesc *epd)
{
	const struct dtrace_action *act;
	const struct dtrace_clause *cl;
	const struct dtrace_ecb *ecb;
	struct dtrace_recdesc __user *urecs;
	u32 i, n = 0;
	int err = 0;

	mutex_lock(&state->lock);
	if (epd->dtepd_epid == DTRACE_EPIDNONE ||
	    epd->dtepd_epid > state->necbs) {
		err = -EINVAL;
		goto out;
	}
	ecb = state->ecbs[epd->dtepd_epid - 1];
	cl = ecb->clause;
	urecs = u64_to_user_ptr(epd->dtepd_recs);
	/* Aggregation keys and values are not principal buffer records. */
	for (i = 0; i < cl->nacts; i++) {
		act = &cl->acts[i];
		if (act->intuple ||
		    DTRACEACT_CLASS(act->kind) == DTRACEACT_AGGREGATION)
			continue;
		if (n < epd->dtepd_nrecs &&
		    copy_to_user(&urecs[n], &act->rec, sizeof(urecs[n]))) {
			err = -EFAULT;
			goto out;
		}
		n++;
	}
	epd->dtepd_probeid = ecb->probe->id;
	epd->dtepd_uarg = cl->uarg;
	epd->dtepd_size = cl->size;
	epd->dtepd_nrecs = n;
out:
	mutex_unlock(&state->lock);
	return err;
}

static const char *const dtrace_activity_names[] = {
	[DTRACE_ACTIVITY_INACTIVE] = "inactive",
	[DTRACE_ACTIVITY_WARMUP] = "warmup",
	[DTRACE_ACTIVITY_ACTIVE] = "active",
	[DTRACE_ACTIVITY_DRAINING] = "draining",
	[DTRACE_ACTIVITY_COOLDOWN] = "cooldown",
	[DTRACE_ACTIVITY_STOPPED] = "stopped",
	[DTRACE_ACTIVITY_KILLED] = "killed",
};

/*
 * One consumer's line of the consumers file; returns the bytes it holds.
 * principal, aggregation, dynvar: the buffers' data; static: variable
 * storage; ecb: the ECB and aggregation tables and the ECBs; program: the
 * enablings (program copies, DIFOs, string tables, clauses, actions) and
 * variable tables; meta: the state and the per-CPU bookkeeping of its
 * buffers.
 */
static u64 dtrace_state_show(struct seq_file *m, struct dtrace_state *state)
{
	u64 prin, agg, dyn, stat, ecb, spec, prog, total;
	u64 meta = sizeof(*state);
	int activity;
	u32 necbs;

	mutex_lock(&state->lock);
	activity = READ_ONCE(state->activity);
	necbs = state->necbs;
	prin = dtrace_buffers_bytes(state, &meta);
	agg = dtrace_aggbufs_bytes(state, &meta);
	dyn = dtrace_dstate_bytes(state, &meta);
	spec = dtrace_specs_bytes(state, &meta);
	stat = state->vbytes;
	ecb = (u64)state->ecbs_cap * sizeof(*state->ecbs) +
	      (u64)necbs * sizeof(**state->ecbs) +
	      (u64)state->aggs_cap * sizeof(*state->aggs);
	prog = dtrace_program_bytes(state);
	mutex_unlock(&state->lock);
	total = prin + agg + dyn + spec + stat + ecb + prog + meta;

	seq_printf(m, "consumer id=%llu pid=%d comm=", state->id, state->pid);
	seq_escape(m, state->comm, " \t\n\\=");
	seq_printf(m, " state=%s ecbs=%u principal=%llu aggregation=%llu",
		   activity >= 0 && activity < ARRAY_SIZE(dtrace_activity_names) ?
		   dtrace_activity_names[activity] : "?", necbs, prin, agg);
	seq_printf(m, " dynvar=%llu speculation=%llu static=%llu ecb=%llu",
		   dyn, spec, stat, ecb);
	seq_printf(m, " program=%llu meta=%llu bytes=%llu\n", prog, meta,
		   total);
	return total;
}

/*
 * /sys/kernel/debug/dtrace/consumers: a line per open consumer, then the
 * totals and the module's count of live allocations (dtrace_zalloc).
 */
int dtrace_states_show(struct seq_file *m)
{
	struct dtrace_state *state;
	u64 bytes = 0;
	u32 n = 0;
	int err;

	err = mutex_lock_interruptible(&dtrace_states_lock);
	if (err)
		return err;
	list_for_each_entry(state, &dtrace_states, node) {
		bytes += dtrace_state_show(m, state);
		n++;
	}
	mutex_unlock(&dtrace_states_lock);
	seq_printf(m, "total consumers=%u bytes=%llu\n", n, bytes);
	seq_printf(m, "allocations=%ld\n", atomic_long_read(&dtrace_nallocs));
	return 0;
}

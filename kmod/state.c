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
 * Lock order: state->lock, then dtrace_lock.
 */
#include <linux/kernel.h>
#include <linux/irqflags.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/ktime.h>

#include "dtrace_impl.h"

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

	/* Let providers create their probes before the consumer looks. */
	mutex_lock(&dtrace_lock);
	dtrace_provide_all();
	mutex_unlock(&dtrace_lock);
	return state;
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

	mutex_lock(&state->lock);
	activity = READ_ONCE(state->activity);
	if (activity != DTRACE_ACTIVITY_INACTIVE &&
	    activity != DTRACE_ACTIVITY_STOPPED)
		WRITE_ONCE(state->activity, DTRACE_ACTIVITY_KILLED);

	mutex_lock(&dtrace_lock);
	for (i = 0; i < state->necbs; i++)
		dtrace_ecb_unlink(state->ecbs[i]);
	mutex_unlock(&dtrace_lock);
	dtrace_sync();

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
	opt = state->options[DTRACEOPT_BUFSIZE];
	size = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_BUFSIZE : opt;
	err = dtrace_buffers_alloc(state, &size);
	if (err)
		goto out;
	state->options[DTRACEOPT_BUFSIZE] = size;
	opt = state->options[DTRACEOPT_STRSIZE];
	state->strsize = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_STRSIZE : opt;
	state->alive = ktime_get_mono_fast_ns();

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
	u64 errors = 0;

	mutex_lock(&state->lock);
	activity = READ_ONCE(state->activity);
	if (activity == DTRACE_ACTIVITY_INACTIVE) {
		mutex_unlock(&state->lock);
		return -ENOENT;
	}
	if (state->buffers) {
		for_each_possible_cpu(cpu)
			errors += READ_ONCE(state->buffers[cpu].errors);
	}
	memset(st, 0, sizeof(*st));
	st->dtst_errors = errors;
	st->dtst_dblerrors = atomic64_read(&state->dblerrors);
	st->dtst_killed = activity == DTRACE_ACTIVITY_KILLED;
	st->dtst_exiting = activity == DTRACE_ACTIVITY_DRAINING;
	st->dtst_activity = activity;
	state->alive = ktime_get_mono_fast_ns();
	mutex_unlock(&state->lock);
	return 0;
}

/* DTRACEIOC_EPROBE: copies out up to dtepd_nrecs record descriptions. */
int dtrace_state_eprobe(struct dtrace_state *state,
			struct dtrace_eprobedesc *epd)
{
	const struct dtrace_clause *cl;
	const struct dtrace_ecb *ecb;
	struct dtrace_recdesc __user *urecs;
	u32 i, n;
	int err = 0;

	mutex_lock(&state->lock);
	if (epd->dtepd_epid == DTRACE_EPIDNONE ||
	    epd->dtepd_epid > state->necbs) {
		err = -EINVAL;
		goto out;
	}
	ecb = state->ecbs[epd->dtepd_epid - 1];
	cl = ecb->clause;
	n = min(epd->dtepd_nrecs, cl->nacts);
	urecs = u64_to_user_ptr(epd->dtepd_recs);
	for (i = 0; i < n; i++) {
		if (copy_to_user(&urecs[i], &cl->acts[i].rec,
				 sizeof(urecs[i]))) {
			err = -EFAULT;
			goto out;
		}
	}
	epd->dtepd_probeid = ecb->probe->id;
	epd->dtepd_uarg = cl->uarg;
	epd->dtepd_size = cl->size;
	epd->dtepd_nrecs = cl->nacts;
out:
	mutex_unlock(&state->lock);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU principal buffers and the module's allocation accounting.
 *
 * Each possible CPU gets two halves of the bufsize option's size.  Probe
 * context appends records to the active half at offset.  The bufpolicy
 * option (dtrace-internals.md 4.5) says what happens then:
 *
 *   switch	DTRACEIOC_BUFSNAP swaps the halves on the owning CPU (in an
 *		IPI, so with interrupts off, which excludes probe context
 *		there) and copies the now inactive half out.  A record that
 *		does not fit is a drop.  The first record past half of a
 *		half wakes the consumer's poll() (an irq_work: probe context
 *		cannot take the wait queue's lock), so a consumer polling
 *		the device drains a fast-filling buffer before it drops,
 *		whatever its switchrate.
 *   fill	Never switched.  The first record that does not fit below the
 *		room kept for the consumer's END clauses marks the buffer
 *		full (STATUS counts it in dtst_filled, the consumer stops);
 *		from then on only END records, into that room.
 *   ring	Never switched.  A record that does not fit at the end makes
 *		the writer start again at 0; oldest chases ahead of it over
 *		whole records, so it always names the oldest whole record.
 *
 * fill and ring are read once, after STOP; their scratch space is the
 * other half.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include <linux/uaccess.h>
#include <linux/ktime.h>
#include <linux/kprobes.h>

#include "dtrace_impl.h"

atomic_long_t dtrace_nallocs = ATOMIC_LONG_INIT(0);

static void *dtrace_zalloc_gfp(size_t size, gfp_t gfp)
{
	void *ptr = kvzalloc(size, gfp);

	if (ptr)
		atomic_long_inc(&dtrace_nallocs);
	return ptr;
}

void *dtrace_zalloc(size_t size)
{
	return dtrace_zalloc_gfp(size, GFP_KERNEL_ACCOUNT);
}

/* For sizes chosen by a consumer: failure is an answer, not a warning. */
void *dtrace_zalloc_nowarn(size_t size)
{
	return dtrace_zalloc_gfp(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
				 __GFP_RETRY_MAYFAIL);
}

void dtrace_free(const void *ptr)
{
	if (!ptr)
		return;
	WARN_ON_ONCE(atomic_long_dec_return(&dtrace_nallocs) < 0);
	kvfree(ptr);
}

static void dtrace_buffers_free_data(struct dtrace_buffer *bufs)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		dtrace_free(bufs[cpu].data[0]);
		dtrace_free(bufs[cpu].data[1]);
		bufs[cpu].data[0] = NULL;
		bufs[cpu].data[1] = NULL;
	}
}

/*
 * The room a fill buffer keeps for END (illumos' dts_reserve): every END
 * clause of the consumer, with its worst alignment padding.
 */
static u64 dtrace_buffers_end_reserve(const struct dtrace_state *state)
{
	const struct dtrace_ecb *ecb;
	u64 reserve = 0;
	u32 i;

	for (i = 0; i < state->necbs; i++) {
		ecb = state->ecbs[i];
		if (ecb->probe->id == dtrace_probeid_end)
			reserve += ecb->clause->needed + ecb->clause->align;
	}
	return reserve;
}

/*
 * The cpu option (state->lock): is cpu one the consumer traces?  With it
 * set, only that CPU gets buffers; on every other one each firing is a
 * drop before its predicate runs, as DTrace: limit 0 and offset 1 (no
 * record ever starts there), so every reservation fails, even of the 0
 * bytes of a clause that records nothing.
 */
static bool dtrace_buffers_traced(const struct dtrace_state *state,
				  unsigned int cpu)
{
	s64 only = state->options[DTRACEOPT_CPU];

	return only == DTRACEOPT_UNSET || only < 0 || only == (s64)cpu;
}

/* Before GO publishes the consumer: the policy of every CPU's buffer. */
static void dtrace_buffers_policy(struct dtrace_state *state,
				  struct dtrace_buffer *bufs, u64 size)
{
	s64 opt = state->options[DTRACEOPT_BUFPOLICY];
	u32 policy = DTRACEOPT_BUFPOLICY_SWITCH;
	u64 limit = size, reserve;
	unsigned int cpu;

	if (opt == DTRACEOPT_BUFPOLICY_FILL || opt == DTRACEOPT_BUFPOLICY_RING)
		policy = opt;
	if (policy == DTRACEOPT_BUFPOLICY_FILL) {
		reserve = dtrace_buffers_end_reserve(state);
		limit = reserve < size ? size - reserve : 0;
	}
	for_each_possible_cpu(cpu) {
		bool traced = dtrace_buffers_traced(state, cpu);

		bufs[cpu].policy = traced ? policy : DTRACEOPT_BUFPOLICY_SWITCH;
		bufs[cpu].limit = traced ? limit : 0;
		bufs[cpu].offset = traced ? 0 : 1;
		if (traced && policy == DTRACEOPT_BUFPOLICY_SWITCH) {
			bufs[cpu].wake = &state->bufwork;
			bufs[cpu].limit = size / 2;
		}
	}
}

/*
 * The largest size each of nbufs buffers of one kind may have: all of them
 * together never take more than a quarter of RAM.  Sizes above it are not
 * even tried (a huge vmalloc would squeeze the whole machine first).
 */
u64 dtrace_size_limit(u64 nbufs)
{
	return ((u64)totalram_pages() << PAGE_SHIFT) / 4 / max_t(u64, nbufs, 1);
}

/*
 * Allocate both halves for every possible CPU.  *size is the wanted size
 * per half; with bufresize=auto a failure halves it until it fits, and the
 * size obtained is stored back.  Never more than a quarter of RAM in all.
 */
int dtrace_buffers_alloc(struct dtrace_state *state, u64 *size)
{
	bool manual = state->options[DTRACEOPT_BUFRESIZE] == 1;
	u64 want = *size & ~7ULL, limit, n = 0;
	struct dtrace_buffer *bufs;
	unsigned int cpu;
	bool ok;

	lockdep_assert_held(&state->lock);
	if (WARN_ON_ONCE(state->buffers))
		return -EBUSY;
	if (want < DTRACE_MIN_BUFSIZE)
		return -ENOSPC;
	for_each_possible_cpu(cpu)
		n += dtrace_buffers_traced(state, cpu);
	if (!n)
		return -EINVAL;		/* the cpu option names no CPU */
	limit = dtrace_size_limit(2 * n);
	while (want > limit && !manual)
		want = (want / 2) & ~7ULL;
	if (want > limit || want < DTRACE_MIN_BUFSIZE)
		return -ENOMEM;

	bufs = dtrace_zalloc(nr_cpu_ids * sizeof(*bufs));
	if (!bufs)
		return -ENOMEM;
	for (;;) {
		ok = true;
		for_each_possible_cpu(cpu) {
			if (!dtrace_buffers_traced(state, cpu))
				continue;
			bufs[cpu].data[0] = dtrace_zalloc_nowarn(want);
			bufs[cpu].data[1] = dtrace_zalloc_nowarn(want);
			if (!bufs[cpu].data[0] || !bufs[cpu].data[1]) {
				ok = false;
				break;
			}
		}
		if (ok)
			break;
		dtrace_buffers_free_data(bufs);
		want = (want / 2) & ~7ULL;
		if (manual || want < DTRACE_MIN_BUFSIZE) {
			dtrace_free(bufs);
			return -ENOMEM;
		}
	}
	for_each_possible_cpu(cpu) {
		bufs[cpu].cpu = cpu;
		bufs[cpu].size = bufs[cpu].data[0] ? want : 0;
	}
	dtrace_buffers_policy(state, bufs, want);
	*size = want;
	/* Probe context may use the buffers as soon as it sees them. */
	smp_store_release(&state->buffers, bufs);
	return 0;
}

/* Only once no CPU can be in probe context for this state any more. */
void dtrace_buffers_free(struct dtrace_state *state)
{
	if (!state->buffers)
		return;
	dtrace_buffers_free_data(state->buffers);
	dtrace_free(state->buffers);
	state->buffers = NULL;
}

/* Runs on the buffer's CPU with interrupts disabled. */
static notrace void dtrace_buffer_switch(void *arg)
{
	struct dtrace_buffer *buf = arg;

	buf->xamot_offset = buf->offset;
	buf->xamot_drops = buf->drops;
	buf->xamot_errors = buf->errors;
	buf->offset = 0;
	buf->drops = 0;
	buf->errors = 0;
	buf->cur ^= 1;
	buf->switched = ktime_get_mono_fast_ns();
	if (buf->wake)
		WRITE_ONCE(buf->limit, buf->size / 2);
}
NOKPROBE_SYMBOL(dtrace_buffer_switch);

/*
 * poll() on the device (process context): is a traced CPU's switch buffer
 * past half, i.e. should the consumer take a snapshot now?  Offline CPUs
 * do not count: their buffers cannot be switched.
 */
bool dtrace_buffers_ready(struct dtrace_state *state)
{
	const struct dtrace_buffer *bufs;
	unsigned int cpu;
	bool ready = false;

	mutex_lock(&state->lock);
	bufs = state->buffers;
	if (bufs) {
		for_each_online_cpu(cpu) {
			if (bufs[cpu].wake &&
			    READ_ONCE(bufs[cpu].limit) == bufs[cpu].size) {
				ready = true;
				break;
			}
		}
	}
	mutex_unlock(&state->lock);
	return ready;
}

/*
 * ---------------------------------------------------------------------------
 * Probe context: the slow path of a reservation (interrupts off, no locks)
 * ---------------------------------------------------------------------------
 */

/* fill: past the limit.  Only END, in COOLDOWN, may use the room kept. */
static notrace bool dtrace_fill_reserve(struct dtrace_buffer *buf,
					const struct dtrace_state *state,
					u32 needed, u32 align, u64 *aligned)
{
	u64 at = ALIGN(buf->offset, align);

	if (READ_ONCE(state->activity) == DTRACE_ACTIVITY_COOLDOWN) {
		if (at + needed <= buf->size) {
			*aligned = at;
			return true;
		}
		buf->drops++;
		return false;
	}
	/* Full: this and every later record is dropped, uncounted. */
	buf->limit = 0;
	WRITE_ONCE(buf->full, true);
	return false;
}
NOKPROBE_SYMBOL(dtrace_fill_reserve);

/*
 * switch: past the limit.  The first time in a half, the limit was its
 * middle: wake the consumer and take the rest of the half; then a drop.
 */
static notrace bool dtrace_switch_reserve(struct dtrace_buffer *buf,
					  u32 needed, u32 align, u64 *aligned)
{
	u64 at = ALIGN(buf->offset, align);

	if (buf->wake && buf->limit < buf->size) {
		WRITE_ONCE(buf->limit, buf->size);
		irq_work_queue(buf->wake);
		if (at + needed <= buf->size) {
			*aligned = at;
			return true;
		}
	}
	buf->drops++;
	return false;
}
NOKPROBE_SYMBOL(dtrace_switch_reserve);

/* ring: the size of the record at p (EPIDNONE padding: a word), or 0. */
static notrace u32 dtrace_ring_recsize(const struct dtrace_state *state,
				       const char *p)
{
	u32 epid = *(const u32 *)p;

	if (epid == DTRACE_EPIDNONE)
		return sizeof(u32);
	if (WARN_ON_ONCE(epid > state->necbs))
		return 0;
	return state->ecbs[epid - 1]->clause->size;
}
NOKPROBE_SYMBOL(dtrace_ring_recsize);

/*
 * ring: move oldest over whole records until it is at or past end.  False
 * when it ran off the records (no old record is left).
 */
static notrace bool dtrace_ring_chase(struct dtrace_buffer *buf,
				      const struct dtrace_state *state,
				      u64 end)
{
	const char *data = buf->data[buf->cur];
	u64 p = buf->oldest;
	u32 n;

	while (p < end) {
		if (p + sizeof(u32) > buf->size)
			return false;
		n = dtrace_ring_recsize(state, data + p);
		if (!n)
			return false;
		p += n;
	}
	if (p >= buf->size)
		return false;
	buf->oldest = p;
	return true;
}
NOKPROBE_SYMBOL(dtrace_ring_chase);

/*
 * ring: the records are [0, offset) while oldest is 0; once wrapped they
 * are [oldest, size) (a zeroed tail after the last one) then [0, offset),
 * with offset <= oldest, and limit = oldest.
 */
static notrace bool dtrace_ring_reserve(struct dtrace_buffer *buf,
					const struct dtrace_state *state,
					u32 needed, u32 align, u64 *aligned)
{
	char *data = buf->data[buf->cur];
	u64 at;

	if (needed > buf->size) {
		buf->drops++;
		return false;
	}
	if (!needed) {
		/* Records nothing and writes nothing: no padding either. */
		*aligned = buf->offset;
		return true;
	}
	for (;;) {
		at = ALIGN(buf->offset, align);
		if (buf->oldest) {
			/* Wrapped: overwrite the oldest records. */
			if (dtrace_ring_chase(buf, state, at + needed)) {
				buf->limit = buf->oldest;
				break;
			}
			/* Every old record is gone: [0, offset) is all. */
			buf->oldest = 0;
			buf->limit = buf->size;
			continue;
		}
		if (at + needed <= buf->size)
			break;
		/* Wrap: no record in the tail; the old ones start at 0. */
		memset(data + buf->offset, 0, buf->size - buf->offset);
		buf->offset = 0;
		at = 0;
		if (dtrace_ring_chase(buf, state, needed)) {
			buf->limit = buf->oldest;
		} else {
			buf->oldest = 0;
			buf->limit = buf->size;
		}
		break;
	}
	*aligned = at;
	return true;
}
NOKPROBE_SYMBOL(dtrace_ring_reserve);

/*
 * Called by dtrace_ecb_fire() when needed bytes aligned to align at
 * buf->offset would end past buf->limit.  True with *aligned set (a ring
 * may have moved buf->offset back to 0); false: skip the ECB.
 */
notrace bool dtrace_buffer_reserve(struct dtrace_buffer *buf,
				   const struct dtrace_state *state,
				   u32 needed, u32 align, u64 *aligned)
{
	switch (buf->policy) {
	case DTRACEOPT_BUFPOLICY_FILL:
		return dtrace_fill_reserve(buf, state, needed, align, aligned);
	case DTRACEOPT_BUFPOLICY_RING:
		return dtrace_ring_reserve(buf, state, needed, align, aligned);
	default:
		return dtrace_switch_reserve(buf, needed, align, aligned);
	}
}
NOKPROBE_SYMBOL(dtrace_buffer_reserve);

/*
 * fill and ring: the whole buffer, once, after STOP (EBUSY before: probe
 * context may still write anywhere in it).  A wrapped ring is copied whole
 * with dtbd_oldest where its oldest record starts, the bytes between the
 * newest record and that one zeroed first.
 */
/*
 * Hand size bytes of a buffer half (none: size 0) and its counts to the
 * consumer; oldest is where a ring's oldest record starts.
 */
int dtrace_snap_copyout(struct dtrace_bufdesc *desc, const void *data,
			u64 size, u64 oldest, u64 errors, u64 drops, u64 when)
{
	if (size && copy_to_user(u64_to_user_ptr(desc->dtbd_data), data, size))
		return -EFAULT;
	desc->dtbd_size = size;
	desc->dtbd_oldest = oldest;
	desc->dtbd_errors = errors;
	desc->dtbd_drops = drops;
	desc->dtbd_timestamp = when;
	return 0;
}

static int dtrace_buffer_snapshot_once(struct dtrace_state *state,
				       struct dtrace_buffer *buf,
				       struct dtrace_bufdesc *desc)
{
	u64 len = buf->offset, oldest = 0, now = ktime_get_mono_fast_ns();
	int err;

	if (READ_ONCE(state->activity) != DTRACE_ACTIVITY_STOPPED)
		return -EBUSY;
	if (buf->consumed)
		return dtrace_snap_copyout(desc, NULL, 0, 0, 0, 0, now);
	if (buf->policy == DTRACEOPT_BUFPOLICY_RING && buf->oldest) {
		if (WARN_ON_ONCE(buf->offset > buf->oldest))
			return -EIO;
		memset(buf->data[buf->cur] + buf->offset, 0,
		       buf->oldest - buf->offset);
		len = buf->size;
		oldest = buf->oldest;
	}
	err = dtrace_snap_copyout(desc, buf->data[buf->cur], len, oldest,
				  buf->errors, buf->drops, now);
	if (!err)
		buf->consumed = true;
	return err;
}

/*
 * DTRACEIOC_BUFSNAP.  The capacity must hold a whole half, so nothing is
 * ever switched out and then lost: a smaller one fails with ENOSPC before
 * switching, with dtbd_size set to the size needed (the bufsize option may
 * have been lowered at GO, so the consumer cannot always know it).
 */
int dtrace_buffer_snapshot(struct dtrace_state *state,
			   struct dtrace_bufdesc *desc)
{
	struct dtrace_buffer *buf;
	u32 cpu = desc->dtbd_cpu;

	lockdep_assert_held(&state->lock);
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return -EINVAL;
	if (!state->buffers)
		return -ENOENT;
	buf = &state->buffers[cpu];
	if (!buf->data[0])
		return -ENOENT;		/* not traced (the cpu option) */
	if (desc->dtbd_size < buf->size) {
		desc->dtbd_size = buf->size;
		return -ENOSPC;
	}
	if (buf->policy != DTRACEOPT_BUFPOLICY_SWITCH)
		return dtrace_buffer_snapshot_once(state, buf, desc);
	if (!READ_ONCE(buf->offset) && !READ_ONCE(buf->drops) &&
	    !READ_ONCE(buf->errors)) {
		/*
		 * Nothing to switch out: spare the CPU an IPI.  A firing that
		 * races with these reads is in the next snapshot.
		 */
		return dtrace_snap_copyout(desc, NULL, 0, 0, 0, 0,
					   ktime_get_mono_fast_ns());
	}
	if (smp_call_function_single(cpu, dtrace_buffer_switch, buf, 1))
		return -ENOENT;		/* offline */
	return dtrace_snap_copyout(desc, buf->data[buf->cur ^ 1],
				   buf->xamot_offset, 0, buf->xamot_errors,
				   buf->xamot_drops, buf->switched);
}

/* The consumers file: both halves of every CPU's buffer (state->lock). */
u64 dtrace_buffers_bytes(const struct dtrace_state *state, u64 *meta)
{
	const struct dtrace_buffer *buf;
	unsigned int cpu;
	u64 bytes = 0;

	if (!state->buffers)
		return 0;
	*meta += (u64)nr_cpu_ids * sizeof(*state->buffers);
	for_each_possible_cpu(cpu) {
		buf = &state->buffers[cpu];
		bytes += (buf->data[0] ? buf->size : 0) +
			 (buf->data[1] ? buf->size : 0);
	}
	return bytes;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU principal buffers (switch policy) and the module's allocation
 * accounting.
 *
 * Each possible CPU gets two halves of the bufsize option's size.  Probe
 * context appends records to the active half at offset; DTRACEIOC_BUFSNAP
 * swaps the halves on the owning CPU (in an IPI, so with interrupts off,
 * which excludes probe context there) and copies the now inactive half out.
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
 * Allocate both halves for every possible CPU.  *size is the wanted size
 * per half; with bufresize=auto a failure halves it until it fits, and the
 * size obtained is stored back.  Never more than a quarter of RAM in all.
 */
int dtrace_buffers_alloc(struct dtrace_state *state, u64 *size)
{
	bool manual = state->options[DTRACEOPT_BUFRESIZE] == 1;
	u64 want = *size & ~7ULL, limit;
	struct dtrace_buffer *bufs;
	unsigned int cpu;
	bool ok;

	lockdep_assert_held(&state->lock);
	if (WARN_ON_ONCE(state->buffers))
		return -EBUSY;
	if (want < DTRACE_MIN_BUFSIZE)
		return -ENOSPC;
	limit = ((u64)totalram_pages() << PAGE_SHIFT) / 4 /
		(2 * num_possible_cpus());
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
		bufs[cpu].size = want;
	}
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
}
NOKPROBE_SYMBOL(dtrace_buffer_switch);

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
	if (desc->dtbd_size < buf->size) {
		desc->dtbd_size = buf->size;
		return -ENOSPC;
	}
	if (!READ_ONCE(buf->offset) && !READ_ONCE(buf->drops) &&
	    !READ_ONCE(buf->errors)) {
		/*
		 * Nothing to switch out: spare the CPU an IPI.  A firing that
		 * races with these reads is in the next snapshot.
		 */
		desc->dtbd_size = 0;
		desc->dtbd_errors = 0;
		desc->dtbd_drops = 0;
		desc->dtbd_oldest = 0;
		desc->dtbd_timestamp = ktime_get_mono_fast_ns();
		return 0;
	}
	if (smp_call_function_single(cpu, dtrace_buffer_switch, buf, 1))
		return -ENOENT;		/* offline */
	if (copy_to_user(u64_to_user_ptr(desc->dtbd_data),
			 buf->data[buf->cur ^ 1], buf->xamot_offset))
		return -EFAULT;
	desc->dtbd_size = buf->xamot_offset;
	desc->dtbd_errors = buf->xamot_errors;
	desc->dtbd_drops = buf->xamot_drops;
	desc->dtbd_oldest = 0;
	desc->dtbd_timestamp = buf->switched;
	return 0;
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

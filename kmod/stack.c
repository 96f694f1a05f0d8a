// SPDX-License-Identifier: GPL-2.0
/*
 * Stacks in probe context: the stack() and ustack() records, the
 * user-address records of usym()/umod()/uaddr(), and the variables caller,
 * stackdepth, ucaller and ustackdepth (dtrace-internals.md 1.11, 3.2, 7.8).
 *
 * Kernel stacks come from the kernel's own unwinder (ORC on the test
 * kernel, which has no frame pointers).  When the provider passed the
 * registers of the probed context (dtrace_probe_regs()), the walk starts
 * there: at a function's entry (fbt entry) the first frame is the probed
 * function's caller, as DTrace shows it; elsewhere (profile, fbt return)
 * the first frame is the interrupted or returned-to PC.  Without
 * registers (dtrace, syscall and tracepoint-based probes) the walk starts
 * here and leaves out this module's own frames.
 *
 * User stacks are a frame-pointer walk from the thread's saved user
 * registers, every word read with copy_from_user_nofault(): a program
 * built without frame pointers (most of Debian's) shows its current PC and
 * little else.  Kernel threads have no user stack.
 *
 * A bad stack (DTRACEFLT_BADSTACK) is what DTrace calls a user stack walk
 * that does not end within its bound (illumos and FreeBSD:
 * dtrace_ustackdepth_max, there to stop at a circular stack): ustackdepth
 * of a stack deeper than DTRACE_STACK_MAXDEPTH frames faults with the
 * frame pointer where the walk stopped, rather than return a count that is
 * short.  A kernel stack cannot be that deep (a frame is at least two
 * words, the stack THREAD_SIZE), and the kernel's unwinder stops by
 * itself, so stackdepth never faults; nor do stack() and ustack(), whose
 * records simply hold the first frames.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/uaccess.h>
#include <linux/kprobes.h>
#include <asm/ptrace.h>
#include <asm/unwind.h>

#include "dtrace_impl.h"
#include "dif/dif_impl.h"

/* The most frames a walk visits (also for stackdepth and ustackdepth). */
#define DTRACE_STACK_MAXDEPTH	1024

/*
 * The record size of a stack()/ustack() action with argument arg
 * (dtrace-internals.md 3.2): -EINVAL for a bad argument.
 */
int dtrace_stack_recsize(u16 kind, u64 arg, u32 *size)
{
	u64 nframes = arg & U32_MAX, strsize = arg >> 32;

	if (nframes == 0 || nframes > DTRACE_STACK_MAXFRAMES)
		return -EINVAL;
	if (kind == DTRACEACT_STACK) {
		if (strsize)
			return -EINVAL;
		*size = nframes * sizeof(u64);
		return 0;
	}
	if (kind != DTRACEACT_USTACK || strsize > DTRACE_STACK_MAXSTRSIZE)
		return -EINVAL;
	*size = ALIGN((nframes + 1) * sizeof(u64) + strsize, sizeof(u64));
	return 0;
}

/*
 * Walk the kernel stack of this firing: store its first n PCs in pcs and
 * return how many were stored; with pcs NULL, count the frames (at most
 * DTRACE_STACK_MAXDEPTH).
 */
static notrace u32 dtrace_kstack(const struct dtrace_mctx *mc, u64 *pcs,
				 u32 n)
{
	struct pt_regs *regs = mc->regs;
	u32 limit = pcs ? min_t(u32, n, DTRACE_STACK_MAXDEPTH) :
			  DTRACE_STACK_MAXDEPTH;
	struct unwind_state state;
	unsigned long addr;
	bool skip = !regs;
	u32 depth = 0, steps = 0;

	if (!limit)
		return 0;
	if (regs) {
		if (user_mode(regs))
			return 0;
		if (!(mc->rflags & DTRACE_REGS_ENTRY)) {
			if (pcs)
				pcs[0] = regs->ip;
			depth++;
		}
	}
	for (unwind_start(&state, current, regs, NULL);
	     !unwind_done(&state) && depth < limit &&
	     steps++ < 2 * DTRACE_STACK_MAXDEPTH;
	     unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		if (skip && within_module(addr, THIS_MODULE))
			continue;
		skip = false;
		if (pcs)
			pcs[depth] = addr;
		depth++;
	}
	return depth;
}
NOKPROBE_SYMBOL(dtrace_kstack);

/*
 * Walk the user stack of the current thread by its frame pointers: store
 * its first n PCs in pcs and return how many were stored; with pcs NULL,
 * count the frames: more than DTRACE_STACK_MAXDEPTH is a bad stack, the
 * frame pointer where the walk stopped in *badfp (else 0) and
 * DTRACE_STACK_MAXDEPTH returned.
 */
static notrace u32 dtrace_ustack(u64 *pcs, u32 n, unsigned long *badfp)
{
	u32 limit = pcs ? min_t(u32, n, DTRACE_STACK_MAXDEPTH) :
			  DTRACE_STACK_MAXDEPTH + 1;
	struct pt_regs *regs;
	unsigned long fp, frame[2];
	u32 depth = 0;

	if (!limit || !current->mm || (current->flags & PF_KTHREAD))
		return 0;
	regs = task_pt_regs(current);
	if (!user_mode(regs))
		return 0;
	if (pcs)
		pcs[0] = regs->ip;
	depth++;
	fp = regs->bp;
	while (depth < limit) {
		if (!fp || (fp & (sizeof(long) - 1)) ||
		    copy_from_user_nofault(frame, (const void __user *)fp,
					   sizeof(frame)))
			break;
		if (!frame[1])
			break;
		if (pcs)
			pcs[depth] = frame[1];
		depth++;
		/* frames only go up the stack: no loops */
		if (frame[0] <= fp)
			break;
		fp = frame[0];
	}
	if (depth > DTRACE_STACK_MAXDEPTH) {
		*badfp = fp;
		return DTRACE_STACK_MAXDEPTH;
	}
	return depth;
}
NOKPROBE_SYMBOL(dtrace_ustack);

/* Fill the record of a stack()/ustack() action at dst (zero-padded). */
notrace void dtrace_stack_record(const struct dtrace_mctx *mc,
				 const struct dtrace_action *act, char *dst)
{
	u32 nframes = act->rec.dtrd_arg & U32_MAX;
	u64 *pcs = (u64 *)dst;

	memset(dst, 0, act->rec.dtrd_size);
	if (act->kind == DTRACEACT_STACK) {
		dtrace_kstack(mc, pcs, nframes);
		return;
	}
	if (WARN_ON_ONCE(act->kind != DTRACEACT_USTACK))
		return;
	if (!current->mm || (current->flags & PF_KTHREAD))
		return;
	pcs[0] = current->tgid;
	dtrace_ustack(pcs + 1, nframes, NULL);
}
NOKPROBE_SYMBOL(dtrace_stack_record);

/* usym()/umod()/uaddr(): (pid, address) pairs. */
notrace void dtrace_stack_upair(char *dst, u64 val)
{
	u64 *w = (u64 *)dst;

	w[0] = current->tgid;
	w[1] = val;
}
NOKPROBE_SYMBOL(dtrace_stack_upair);

/* caller, stackdepth, ucaller, ustackdepth (may fault: bad stack). */
notrace u64 dtrace_stack_var(struct dif_mstate *ms, u32 id)
{
	const struct dtrace_mctx *mc = ms->env;
	u64 pcs[2] = { 0, 0 };
	unsigned long badfp = 0;
	u32 depth;

	switch (id) {
	case DIF_VAR_CALLER:
		dtrace_kstack(mc, pcs, 1);
		return pcs[0];
	case DIF_VAR_STACKDEPTH:
		return dtrace_kstack(mc, NULL, 0);
	case DIF_VAR_UCALLER:
		dtrace_ustack(pcs, 2, NULL);
		return pcs[1];
	case DIF_VAR_USTACKDEPTH:
		depth = dtrace_ustack(NULL, 0, &badfp);
		if (badfp)
			dif_fault(ms, DIF_F_BADSTACK, badfp);
		return depth;
	}
	return 0;
}
NOKPROBE_SYMBOL(dtrace_stack_var);

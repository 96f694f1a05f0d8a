// SPDX-License-Identifier: GPL-2.0
/*
 * The destructive actions that act in the kernel: raise(sig), stop() and
 * chill(ns) (dtrace-internals.md 3.2, 3.5).  system() and freopen() only
 * record their arguments; the consumer acts on them.  breakpoint() and
 * panic() are refused (program.c never accepts them).
 *
 * raise() and stop() cannot signal from probe context: it runs with
 * interrupts off, maybe inside the scheduler or with the target's siglock
 * held.  The signal is queued in a per-CPU ring with a reference on the
 * current task, and a hard irq_work sends it as soon as this CPU takes
 * interrupts again, so it is pending before the thread returns to user
 * space, where it is delivered.  Probe context and the irq_work both run
 * with interrupts off on this CPU, so the ring needs no lock.
 *
 * chill(ns) busy-waits, at most DTRACE_CHILL_MAX ns per CPU in every
 * DTRACE_CHILL_INTERVAL (500 ms per second, as DTrace); asking for more
 * is an illegal operation.
 */
#include <linux/kernel.h>
#include <linux/irq_work.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/ktime.h>
#include <linux/kprobes.h>

#include "dtrace_impl.h"

#define DTRACE_SIGQ_LEN		16	/* a power of 2 */
#define DTRACE_CHILL_MAX	(500 * NSEC_PER_MSEC)
#define DTRACE_CHILL_INTERVAL	NSEC_PER_SEC

struct dtrace_sigq {
	struct irq_work work;
	u32 head;			/* next slot to fill */
	u32 tail;			/* next slot to send */
	struct {
		struct task_struct *task;	/* referenced */
		int sig;
	} slot[DTRACE_SIGQ_LEN];
	unsigned long lost;		/* raise()s that found the ring full */
	u64 chillmark;			/* start of this chill interval (ns) */
	u64 chilled;			/* ns chilled in it */
};

static void dtrace_sigq_send(struct irq_work *work);

/*
 * Initialised by dtrace_destr_init(): a module's per-CPU initialisers are
 * copied unrelocated, so a function pointer cannot be one.
 */
static DEFINE_PER_CPU(struct dtrace_sigq, dtrace_sigq);

/* The irq_work: send what probe context queued on this CPU. */
static void dtrace_sigq_send(struct irq_work *work)
{
	struct dtrace_sigq *q = container_of(work, struct dtrace_sigq, work);
	struct task_struct *task;
	unsigned long flags;
	int sig;

	local_irq_save(flags);
	while (q->tail != q->head) {
		task = q->slot[q->tail % DTRACE_SIGQ_LEN].task;
		sig = q->slot[q->tail % DTRACE_SIGQ_LEN].sig;
		q->tail++;
		send_sig_info(sig, SEND_SIG_PRIV, task);
		put_task_struct(task);
	}
	local_irq_restore(flags);
}

/* Probe context: signal sig to the current thread on its way out. */
static notrace void dtrace_sigq_raise(int sig)
{
	struct dtrace_sigq *q = this_cpu_ptr(&dtrace_sigq);

	/* Kernel threads take no signals; DTrace skips system processes. */
	if (current->flags & (PF_KTHREAD | PF_EXITING))
		return;
	if (q->head - q->tail >= DTRACE_SIGQ_LEN) {
		q->lost++;
		return;
	}
	q->slot[q->head % DTRACE_SIGQ_LEN].task = get_task_struct(current);
	q->slot[q->head % DTRACE_SIGQ_LEN].sig = sig;
	q->head++;
	irq_work_queue(&q->work);
}
NOKPROBE_SYMBOL(dtrace_sigq_raise);

/* Probe context: busy-wait ns nanoseconds, within this CPU's budget. */
static notrace int dtrace_chill(struct dtrace_mctx *mc, u64 ns,
				struct dif_mstate *ms)
{
	struct dtrace_sigq *q = this_cpu_ptr(&dtrace_sigq);
	u64 now = ktime_get_mono_fast_ns();

	if (now - q->chillmark > DTRACE_CHILL_INTERVAL) {
		q->chillmark = now;
		q->chilled = 0;
	}
	if (q->chilled + ns > DTRACE_CHILL_MAX || q->chilled + ns < q->chilled) {
		ms->flags |= DIF_F_ILLOP;
		return -1;
	}
	while (ktime_get_mono_fast_ns() - now < ns)
		cpu_relax();
	q->chilled += ns;
	/* timestamp moves on after a chill(), as in DTrace */
	mc->now = ktime_get_mono_fast_ns();
	return 0;
}
NOKPROBE_SYMBOL(dtrace_chill);

/*
 * Probe context: act for a raise(), stop() or chill() action whose
 * DIFO (if any) returned val.  Non-zero: a fault, set in ms->flags.
 */
notrace int dtrace_destr_act(struct dtrace_mctx *mc, u16 kind, u64 val,
			     struct dif_mstate *ms)
{
	if (dtrace_destructive_disallowed())
		return 0;
	switch (kind) {
	case DTRACEACT_RAISE:
		/* DTrace: a signal number out of range is illegal */
		if (val > _NSIG) {
			ms->flags |= DIF_F_ILLOP;
			ms->illval = val;
			return -1;
		}
		if (val)
			dtrace_sigq_raise(val);
		return 0;
	case DTRACEACT_STOP:
		dtrace_sigq_raise(SIGSTOP);
		return 0;
	case DTRACEACT_CHILL:
		return dtrace_chill(mc, val, ms);
	}
	WARN_ON_ONCE(1);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_destr_act);

/* Is kind a destructive action (classes PROC_ and KERNEL_DESTRUCTIVE)? */
bool dtrace_act_destructive(u16 kind)
{
	return DTRACEACT_CLASS(kind) == DTRACEACT_PROC_DESTRUCTIVE ||
	       DTRACEACT_CLASS(kind) == DTRACEACT_KERNEL_DESTRUCTIVE;
}

/* Module init, before any consumer. */
void dtrace_destr_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		per_cpu(dtrace_sigq, cpu).work =
			IRQ_WORK_INIT_HARD(dtrace_sigq_send);
}

/* Module exit, after the last consumer: no signal is left queued. */
void dtrace_destr_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		irq_work_sync(&per_cpu(dtrace_sigq, cpu).work);
}

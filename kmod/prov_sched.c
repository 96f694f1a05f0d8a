// SPDX-License-Identifier: GPL-2.0
/*
 * The sched provider (DTrace's sched probes, as Linux can give them):
 *
 *   on-cpu     kprobe on finish_task_switch: the thread now running,
 *              in its own context, right after the switch.
 *   off-cpu    sched_switch, in the thread leaving the CPU;
 *              args[0], args[1] = the thread switched to.
 *   sleep      sched_switch when the leaving thread blocks (it is
 *              not runnable), before off-cpu.
 *   preempt    sched_switch when the leaving thread stays runnable.
 *   wakeup     sched_wakeup, args[0], args[1] = the woken thread; it may
 *              fire on the woken thread's CPU rather than in the waker.
 *   enqueue    kprobes on enqueue_task_{fair,rt,dl}: a thread is put on a
 *              run queue; args[0], args[1] = the thread, args[2] = the
 *              CPU whose queue it joins.
 *   dequeue    kprobes on dequeue_task_{fair,rt,dl}: a thread leaves its
 *              run queue; arguments as enqueue.
 *
 * Arguments are struct task_struct pointers (DTrace's lwpsinfo_t and
 * psinfo_t come from translators in user space).  remain-cpu,
 * change-pri, surrender and tick have no tracepoint on
 * Linux 6.1 and are not provided.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/sched.h>

#include "sprov.h"

enum { SCHED_ON_CPU, SCHED_OFF_CPU, SCHED_SLEEP, SCHED_PREEMPT,
	SCHED_WAKEUP, SCHED_ENQUEUE, SCHED_DEQUEUE, SCHED_NPROBES };

static struct dtrace_sprobe dtrace_sched_probes[SCHED_NPROBES];

static notrace void dtrace_sched_switch(void *data, bool preempt,
					struct task_struct *prev,
					struct task_struct *next,
					unsigned int prev_state)
{
	struct dtrace_sprobe *p = dtrace_sched_probes;

	if (preempt || prev_state == TASK_RUNNING)
		dtrace_sprobe_fire(&p[SCHED_PREEMPT], 0, 0, 0, 0, 0);
	else
		dtrace_sprobe_fire(&p[SCHED_SLEEP], 0, 0, 0, 0, 0);
	dtrace_sprobe_fire(&p[SCHED_OFF_CPU], (uintptr_t)next,
			   (uintptr_t)next, 0, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_sched_switch);

static notrace void dtrace_sched_wakeup(void *data, struct task_struct *p)
{
	dtrace_sprobe_fire(&dtrace_sched_probes[SCHED_WAKEUP], (uintptr_t)p,
			   (uintptr_t)p, 0, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_sched_wakeup);

static notrace int dtrace_sched_on_cpu(struct kprobe *kp,
				       struct pt_regs *regs)
{
	dtrace_sprobe_fire(&dtrace_sched_probes[SCHED_ON_CPU], 0, 0, 0, 0, 0);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_sched_on_cpu);

/* enqueue_task_<class>, dequeue_task_<class>(struct rq *, struct task_struct *, int) */
static notrace void dtrace_sched_queue(int which, struct pt_regs *regs)
{
	struct task_struct *p = (struct task_struct *)regs->si;

	dtrace_sprobe_fire(&dtrace_sched_probes[which], (uintptr_t)p,
			   (uintptr_t)p, task_cpu(p), 0, 0);
}
NOKPROBE_SYMBOL(dtrace_sched_queue);

static notrace int dtrace_sched_enqueue(struct kprobe *kp,
					struct pt_regs *regs)
{
	dtrace_sched_queue(SCHED_ENQUEUE, regs);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_sched_enqueue);

static notrace int dtrace_sched_dequeue(struct kprobe *kp,
					struct pt_regs *regs)
{
	dtrace_sched_queue(SCHED_DEQUEUE, regs);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_sched_dequeue);

/* Every enqueue and dequeue goes through the thread's class's method. */
#define DTRACE_SCHED_QHOOK(cls, fn, handler)				\
	static const char *const dtrace_sched_##fn##_##cls##_syms[] = {	\
		#fn "_" #cls, NULL						\
	};									\
	static struct dtrace_hook dtrace_sched_##fn##_##cls = {		\
		.func = #fn "_" #cls,						\
		.syms = dtrace_sched_##fn##_##cls##_syms,			\
		.pre = handler,							\
	}

DTRACE_SCHED_QHOOK(fair, enqueue_task, dtrace_sched_enqueue);
DTRACE_SCHED_QHOOK(rt, enqueue_task, dtrace_sched_enqueue);
DTRACE_SCHED_QHOOK(dl, enqueue_task, dtrace_sched_enqueue);
DTRACE_SCHED_QHOOK(fair, dequeue_task, dtrace_sched_dequeue);
DTRACE_SCHED_QHOOK(rt, dequeue_task, dtrace_sched_dequeue);
DTRACE_SCHED_QHOOK(dl, dequeue_task, dtrace_sched_dequeue);

/* gcc makes finish_task_switch a .isra clone in Debian's kernel. */
static const char *const dtrace_sched_fts_syms[] = {
	"finish_task_switch.isra.0", "finish_task_switch", NULL
};

static struct dtrace_hook dtrace_sched_fts = {
	.func = "finish_task_switch",
	.syms = dtrace_sched_fts_syms,
	.pre = dtrace_sched_on_cpu,
};

static struct dtrace_hook dtrace_sched_switch_hook = {
	.func = "sched_switch",
	.tp_name = "sched_switch",
	.tp_cb = dtrace_sched_switch,
};

static struct dtrace_hook dtrace_sched_wakeup_hook = {
	.func = "sched_wakeup",
	.tp_name = "sched_wakeup",
	.tp_cb = dtrace_sched_wakeup,
};

static struct dtrace_sprobe dtrace_sched_probes[SCHED_NPROBES] = {
	[SCHED_ON_CPU] = { "on-cpu", &dtrace_sched_fts },
	[SCHED_OFF_CPU] = { "off-cpu", &dtrace_sched_switch_hook },
	[SCHED_SLEEP] = { "sleep", &dtrace_sched_switch_hook },
	[SCHED_PREEMPT] = { "preempt", &dtrace_sched_switch_hook },
	[SCHED_WAKEUP] = { "wakeup", &dtrace_sched_wakeup_hook },
	[SCHED_ENQUEUE] = { "enqueue", &dtrace_sched_enqueue_task_fair,
			    { &dtrace_sched_enqueue_task_rt,
			      &dtrace_sched_enqueue_task_dl } },
	[SCHED_DEQUEUE] = { "dequeue", &dtrace_sched_dequeue_task_fair,
			    { &dtrace_sched_dequeue_task_rt,
			      &dtrace_sched_dequeue_task_dl } },
};

static struct dtrace_sprov dtrace_sched_prov = {
	.probes = dtrace_sched_probes,
	.nprobes = SCHED_NPROBES,
};

int dtrace_prov_sched_init(void)
{
	return dtrace_sprov_register(&dtrace_sched_prov, "sched");
}

void dtrace_prov_sched_exit(void)
{
	dtrace_sprov_unregister(&dtrace_sched_prov);
}

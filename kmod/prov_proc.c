// SPDX-License-Identifier: GPL-2.0
/*
 * The proc provider (DTrace's proc probes, as Linux can give them):
 *
 *   create, lwp-create   sched_process_fork, in the parent; create for a
 *                        new process, lwp-create for a new thread;
 *                        args[0] (args[1]) = the child task.
 *   exec                 kprobe on bprm_execve, before the exec;
 *                        args[0] = the path (kernel string).
 *   exec-failure         kretprobe on bprm_execve when it fails;
 *                        args[0] = the positive errno.
 *   exec-success         sched_process_exec, in the new image.
 *   exit, lwp-exit       sched_process_exit, in the exiting thread: exit
 *                        when it is the last thread of its process
 *                        (args[0] = 1 exited, 2 killed, 3 dumped core),
 *                        lwp-exit for the other threads.
 *   signal-send          signal_generate, in the sender; args[0], args[1]
 *                        = the target task, args[2] = the signal.
 *   signal-handle        signal_deliver, in the receiving thread before
 *                        its handler runs; args[0] = the signal,
 *                        args[1] = the siginfo, args[2] = the handler.
 *   start, lwp-start     kprobe on finish_task_switch, in a new task's
 *                        first context (schedule_tail calls it before the
 *                        task returns from fork): the first switch to a
 *                        task that has not run yet (no sum_exec_runtime).
 *
 * signal-clear has no hook (nothing marks sigwait taking a signal) and is
 * not provided.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/uaccess.h>

#include "sprov.h"

enum { PROC_CREATE, PROC_LWP_CREATE, PROC_EXEC, PROC_EXEC_FAILURE,
	PROC_EXEC_SUCCESS, PROC_EXIT, PROC_LWP_EXIT, PROC_SIGNAL_SEND,
	PROC_SIGNAL_HANDLE, PROC_START, PROC_LWP_START, PROC_NPROBES };

static struct dtrace_sprobe dtrace_proc_probes[PROC_NPROBES];

static notrace void dtrace_proc_fork(void *data, struct task_struct *parent,
				     struct task_struct *child)
{
	bool thread = child->pid != child->tgid;

	dtrace_sprobe_fire(&dtrace_proc_probes[thread ? PROC_LWP_CREATE :
					       PROC_CREATE],
			   (uintptr_t)child, (uintptr_t)child, 0, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_proc_fork);

static notrace void dtrace_proc_exec(void *data, struct task_struct *p,
				     pid_t old_pid,
				     struct linux_binprm *bprm)
{
	dtrace_sprobe_fire(&dtrace_proc_probes[PROC_EXEC_SUCCESS], 0, 0, 0, 0,
			   0);
}
NOKPROBE_SYMBOL(dtrace_proc_exec);

static notrace void dtrace_proc_exit(void *data, struct task_struct *p)
{
	int code = p->exit_code, why = 1;
	bool last;

	last = !atomic_read(&p->signal->live);
	if (!last) {
		dtrace_sprobe_fire(&dtrace_proc_probes[PROC_LWP_EXIT], 0, 0, 0,
				   0, 0);
		return;
	}
	if (code & 0x80)
		why = 3;
	else if (code & 0x7f)
		why = 2;
	dtrace_sprobe_fire(&dtrace_proc_probes[PROC_EXIT], why, 0, 0, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_proc_exit);

static notrace void dtrace_proc_signal_generate(void *data, int sig,
						struct kernel_siginfo *info,
						struct task_struct *task,
						int group, int result)
{
	dtrace_sprobe_fire(&dtrace_proc_probes[PROC_SIGNAL_SEND],
			   (uintptr_t)task, (uintptr_t)task, sig, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_proc_signal_generate);

static notrace void dtrace_proc_signal_deliver(void *data, int sig,
					       struct kernel_siginfo *info,
					       struct k_sigaction *ka)
{
	dtrace_sprobe_fire(&dtrace_proc_probes[PROC_SIGNAL_HANDLE], sig,
			   (uintptr_t)info, (uintptr_t)ka->sa.sa_handler, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_proc_signal_deliver);

/* bprm_execve(bprm, fd, struct filename *filename, flags) */
static notrace int dtrace_proc_execve(struct kprobe *kp, struct pt_regs *regs)
{
	const struct filename *fn = (const struct filename *)regs->dx;
	const char *name = NULL;

	if (copy_from_kernel_nofault(&name, &fn->name, sizeof(name)))
		name = NULL;
	dtrace_sprobe_fire(&dtrace_proc_probes[PROC_EXEC], (uintptr_t)name, 0,
			   0, 0, 0);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_proc_execve);

static notrace int dtrace_proc_execve_ret(struct kretprobe_instance *ri,
					  struct pt_regs *regs)
{
	long ret = (long)regs_return_value(regs);

	if (ret < 0)
		dtrace_sprobe_fire(&dtrace_proc_probes[PROC_EXEC_FAILURE],
				   -ret, 0, 0, 0, 0);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_proc_execve_ret);

/* finish_task_switch(prev): current is the task switched to. */
static notrace int dtrace_proc_switched(struct kprobe *kp,
					struct pt_regs *regs)
{
	struct task_struct *p = current;

	if (p->se.sum_exec_runtime || (p->flags & PF_KTHREAD))
		return 0;
	dtrace_sprobe_fire(&dtrace_proc_probes[p->pid == p->tgid ? PROC_START :
					       PROC_LWP_START], 0, 0, 0, 0, 0);
	return 0;
}
NOKPROBE_SYMBOL(dtrace_proc_switched);

static const char *const dtrace_proc_execve_syms[] = { "bprm_execve", NULL };
/* gcc makes finish_task_switch a .isra clone in Debian's kernel. */
static const char *const dtrace_proc_fts_syms[] = {
	"finish_task_switch.isra.0", "finish_task_switch", NULL
};

static struct dtrace_hook dtrace_proc_hooks[] = {
	{ .func = "sched_process_fork", .tp_name = "sched_process_fork",
	  .tp_cb = dtrace_proc_fork },
	{ .func = "bprm_execve", .syms = dtrace_proc_execve_syms,
	  .pre = dtrace_proc_execve },
	{ .func = "bprm_execve", .syms = dtrace_proc_execve_syms,
	  .ret = dtrace_proc_execve_ret },
	{ .func = "sched_process_exec", .tp_name = "sched_process_exec",
	  .tp_cb = dtrace_proc_exec },
	{ .func = "sched_process_exit", .tp_name = "sched_process_exit",
	  .tp_cb = dtrace_proc_exit },
	{ .func = "signal_generate", .tp_name = "signal_generate",
	  .tp_cb = dtrace_proc_signal_generate },
	{ .func = "signal_deliver", .tp_name = "signal_deliver",
	  .tp_cb = dtrace_proc_signal_deliver },
	{ .func = "finish_task_switch", .syms = dtrace_proc_fts_syms,
	  .pre = dtrace_proc_switched },
};

static struct dtrace_sprobe dtrace_proc_probes[PROC_NPROBES] = {
	[PROC_CREATE] = { "create", &dtrace_proc_hooks[0] },
	[PROC_LWP_CREATE] = { "lwp-create", &dtrace_proc_hooks[0] },
	[PROC_EXEC] = { "exec", &dtrace_proc_hooks[1] },
	[PROC_EXEC_FAILURE] = { "exec-failure", &dtrace_proc_hooks[2] },
	[PROC_EXEC_SUCCESS] = { "exec-success", &dtrace_proc_hooks[3] },
	[PROC_EXIT] = { "exit", &dtrace_proc_hooks[4] },
	[PROC_LWP_EXIT] = { "lwp-exit", &dtrace_proc_hooks[4] },
	[PROC_SIGNAL_SEND] = { "signal-send", &dtrace_proc_hooks[5] },
	[PROC_SIGNAL_HANDLE] = { "signal-handle", &dtrace_proc_hooks[6] },
	[PROC_START] = { "start", &dtrace_proc_hooks[7] },
	[PROC_LWP_START] = { "lwp-start", &dtrace_proc_hooks[7] },
};

static struct dtrace_sprov dtrace_proc_prov = {
	.probes = dtrace_proc_probes,
	.nprobes = PROC_NPROBES,
};

int dtrace_prov_proc_init(void)
{
	return dtrace_sprov_register(&dtrace_proc_prov, "proc");
}

void dtrace_prov_proc_exit(void)
{
	dtrace_sprov_unregister(&dtrace_proc_prov);
}

/*
 * cpuinfo_t (DTrace's sched.d) and the inline curcpu: the CPU a task runs on
 * (for curthread, the current CPU), from Linux's struct task_struct.
 * Linux has no processor sets or locality groups here: cpu_pset is -1,
 * cpu_lgrp 0; cpu_chip is the CPU's number.
 */

typedef struct cpuinfo {
	processorid_t cpu_id;		/* CPU number */
	int cpu_pset;			/* processor set: -1 (none) */
	int cpu_chip;			/* the CPU number */
	int cpu_lgrp;			/* locality group: 0 */
} cpuinfo_t;

translator cpuinfo_t < struct task_struct *T > {
	cpu_id = T->thread_info.cpu;
	cpu_pset = -1;
	cpu_chip = T->thread_info.cpu;
	cpu_lgrp = 0;
};

inline cpuinfo_t *curcpu = xlate<cpuinfo_t *>(curthread);

/*
 * The types of kernel variables D programs read with the backquote
 * operator (`jiffies, `init_task.comm, `init_uts_ns.name.release).
 * DTrace takes a symbol's type from the kernel's CTF; Linux 6.1's BTF
 * describes functions and per-CPU variables but not other globals, so
 * their types are declared here, as C declares them in the kernel headers
 * (per-CPU variables, `runqueues, take theirs from BTF).
 * The addresses come from /proc/kallsyms (root).  A program may declare
 * more with `extern type name;`.
 */

extern volatile unsigned long jiffies;
extern uint64_t jiffies_64;
extern unsigned long loops_per_jiffy;
extern unsigned int nr_cpu_ids;
extern int nr_threads;
extern int max_threads;
extern unsigned long total_forks;
extern unsigned long avenrun[3];
extern unsigned long max_pfn;
extern int panic_timeout;
extern struct task_struct init_task;
extern struct mm_struct init_mm;
extern struct uts_namespace init_uts_ns;
extern struct pid_namespace init_pid_ns;

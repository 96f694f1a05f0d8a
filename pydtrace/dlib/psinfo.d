/*
 * psinfo_t and lwpsinfo_t (the layout of illumos <sys/procfs.h>, without the
 * timestruc_t members), translated from Linux's struct task_struct, and the
 * inlines curpsinfo and curlwpsinfo.
 *
 * Linux meanings: a process is a thread group (pr_pid = tgid), a "lwp" a
 * task (pr_lwpid = pid).  pr_psargs is the command name: the argument
 * strings live in the process's user memory, which a translator cannot
 * read for another process.  Members not listed in a translator have no
 * Linux meaning and are not translated (using one is D_XLATE_NOCONV).
 */

/* pr_state values (illumos <sys/thread.h> via DTrace's sched.d) */
inline char SSLEEP = 1;
inline char SRUN = 2;
inline char SZOMB = 3;
inline char SSTOP = 4;
inline char SIDL = 5;
inline char SONPROC = 6;
inline char SWAIT = 7;

/* pr_dmodel values */
inline char PR_MODEL_ILP32 = 1;
inline char PR_MODEL_LP64 = 2;

typedef struct lwpsinfo {
	int pr_flag;			/* task flags (PF_*) */
	id_t pr_lwpid;			/* task id */
	uintptr_t pr_addr;		/* address of the task_struct */
	uintptr_t pr_wchan;		/* not kept by Linux: 0 */
	char pr_stype;
	char pr_state;			/* SSLEEP SRUN SZOMB SSTOP SONPROC */
	char pr_sname;			/* 'S' 'R' 'Z' 'T' 'O' */
	char pr_nice;			/* nice value */
	short pr_syscall;
	char pr_oldpri;
	char pr_cpu;
	int pr_pri;			/* kernel priority (prio) */
	ushort_t pr_pctcpu;
	ushort_t pr_pad;
	char pr_clname[8];
	char pr_name[16];		/* task name (comm) */
	processorid_t pr_onpro;		/* CPU last run on */
	processorid_t pr_bindpro;
	int pr_bindpset;
	int pr_lgrp;
} lwpsinfo_t;

typedef struct psinfo {
	int pr_flag;			/* task flags of the thread group leader */
	int pr_nlwp;			/* threads in the thread group */
	pid_t pr_pid;			/* tgid */
	pid_t pr_ppid;			/* tgid of the (real) parent */
	pid_t pr_pgid;			/* process group */
	pid_t pr_sid;			/* session */
	uid_t pr_uid;
	uid_t pr_euid;
	gid_t pr_gid;
	gid_t pr_egid;
	uintptr_t pr_addr;		/* address of the task_struct */
	size_t pr_size;			/* virtual size in Kbytes */
	size_t pr_rssize;
	size_t pr_pad1;
	uintptr_t pr_ttydev;		/* the controlling tty_struct, or 0 */
	ushort_t pr_pctcpu;
	ushort_t pr_pctmem;
	char pr_fname[16];		/* comm */
	char pr_psargs[80];		/* comm (see above) */
	int pr_wstat;
	int pr_argc;
	uintptr_t pr_argv;		/* user address of the argument strings */
	uintptr_t pr_envp;		/* user address of the environment */
	char pr_dmodel;			/* PR_MODEL_LP64 */
	char pr_pad2[3];
	taskid_t pr_taskid;
	projid_t pr_projid;
	int pr_nzomb;
	int pr_poolid;
	zoneid_t pr_zoneid;
	id_t pr_contract;
	int pr_filler[1];
	lwpsinfo_t pr_lwp;
} psinfo_t;

translator psinfo_t < struct task_struct *T > {
	pr_flag = T->group_leader->flags;
	pr_nlwp = T->signal->nr_threads;
	pr_pid = T->tgid;
	pr_ppid = T->real_parent->tgid;
	pr_pgid = T->signal->pids[PIDTYPE_PGID]->numbers[0].nr;
	pr_sid = T->signal->pids[PIDTYPE_SID]->numbers[0].nr;
	pr_uid = T->cred->uid.val;
	pr_euid = T->cred->euid.val;
	pr_gid = T->cred->gid.val;
	pr_egid = T->cred->egid.val;
	pr_addr = (uintptr_t)T;
	pr_size = T->mm != NULL ? T->mm->total_vm * 4 : 0;
	pr_ttydev = (uintptr_t)T->signal->tty;
	pr_fname = T->comm;
	pr_psargs = T->comm;
	pr_wstat = T->exit_code;
	pr_argv = T->mm != NULL ? T->mm->arg_start : 0;
	pr_envp = T->mm != NULL ? T->mm->env_start : 0;
	pr_dmodel = PR_MODEL_LP64;
	pr_taskid = 0;
	pr_projid = 0;
	pr_poolid = 0;
	pr_zoneid = 0;
	pr_contract = 0;
};

translator lwpsinfo_t < struct task_struct *T > {
	pr_flag = T->flags;
	pr_lwpid = T->pid;
	pr_addr = (uintptr_t)T;
	pr_wchan = 0;
	pr_state = (T->exit_state & 0x30) ? SZOMB :
	    T->__state == 0 ? (T->on_cpu ? SONPROC : SRUN) :
	    (T->__state & 0xc) ? SSTOP : SSLEEP;
	pr_sname = (T->exit_state & 0x30) ? 'Z' :
	    T->__state == 0 ? (T->on_cpu ? 'O' : 'R') :
	    (T->__state & 0xc) ? 'T' : 'S';
	pr_nice = T->static_prio - 120;
	pr_pri = T->prio;
	pr_name = T->comm;
	pr_onpro = T->thread_info.cpu;
	pr_bindpro = -1;
	pr_bindpset = -1;
	pr_lgrp = 0;
};

inline psinfo_t *curpsinfo = xlate<psinfo_t *>(curthread);
inline lwpsinfo_t *curlwpsinfo = xlate<lwpsinfo_t *>(curthread);

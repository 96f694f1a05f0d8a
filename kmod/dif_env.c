// SPDX-License-Identifier: GPL-2.0
/*
 * The DIF environment (kmod/dif/dif.h) in the kernel: nofault memory
 * access and the built-in variables.  Runs in probe context only.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/cred.h>
#include <linux/uaccess.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <linux/kprobes.h>
#include <linux/preempt.h>
#include <asm/unaligned.h>

#include "dtrace_impl.h"

/*
 * execname is a by-reference string: its value is the address of this
 * CPU's copy of current->comm, taken when the variable is read.
 */
struct dtrace_execname {
	char comm[32];
};

static DEFINE_PER_CPU(struct dtrace_execname, dtrace_execname);

notrace int dif_env_kload(void *env, void *dst, __u64 addr, __u32 size)
{
	return copy_from_kernel_nofault(dst, (const void *)(uintptr_t)addr,
					size) ? -1 : 0;
}
NOKPROBE_SYMBOL(dif_env_kload);

notrace int dif_env_uload(void *env, void *dst, __u64 addr, __u32 size)
{
	return copy_from_user_nofault(dst,
				      (const void __user *)(uintptr_t)addr,
				      size) ? -1 : 0;
}
NOKPROBE_SYMBOL(dif_env_uload);

notrace int dif_env_ustore(void *env, __u64 addr, const void *src, __u32 size)
{
	/* dtrace_destructive_disallow: skipped, as DTrace does */
	if (dtrace_destructive_disallowed())
		return 0;
	return copy_to_user_nofault((void __user *)(uintptr_t)addr, src,
				    size) ? -1 : 0;
}
NOKPROBE_SYMBOL(dif_env_ustore);

static notrace u64 dtrace_env_execname(void)
{
	struct dtrace_execname *e = this_cpu_ptr(&dtrace_execname);

	BUILD_BUG_ON(sizeof(current->comm) != TASK_COMM_LEN ||
		     sizeof(e->comm) < TASK_COMM_LEN);
	/*
	 * comm may change under us (set_task_comm() pads it with NULs): take
	 * its TASK_COMM_LEN bytes in two word loads rather than byte by
	 * byte, and terminate the copy.  The bytes of e->comm past
	 * TASK_COMM_LEN are never written, so they stay zero.
	 */
	memcpy(e->comm, current->comm, TASK_COMM_LEN);
	e->comm[TASK_COMM_LEN - 1] = '\0';
	return (uintptr_t)e->comm;
}
NOKPROBE_SYMBOL(dtrace_env_execname);

/* Is addr this CPU's execname copy (dtrace_store() copies it directly)? */
notrace bool dtrace_env_is_execname(u64 addr)
{
	return addr == (uintptr_t)this_cpu_ptr(&dtrace_execname)->comm;
}
NOKPROBE_SYMBOL(dtrace_env_is_execname);

/*
 * Store execname into a string record of at least TASK_COMM_LEN bytes
 * (the bytes dtrace_store() would copy from this CPU's copy): comm's two
 * words, NUL-terminated.
 */
notrace void dtrace_env_execname_put(char *dst)
{
	u64 w0 = get_unaligned((const u64 *)current->comm);
	u64 w1 = get_unaligned((const u64 *)current->comm + 1);

	BUILD_BUG_ON(TASK_COMM_LEN != 2 * sizeof(u64));
	put_unaligned(w0, (u64 *)dst);
	put_unaligned(w1 & ~(0xffULL << 56), (u64 *)(dst + 8));
}
NOKPROBE_SYMBOL(dtrace_env_execname_put);

notrace __u64 dif_env_builtin(struct dif_mstate *ms, __u32 id)
{
	struct dtrace_mctx *mc = ms->env;
	struct task_struct *parent;

	switch (id) {
	case DIF_VAR_CURTHREAD:
		return (uintptr_t)current;
	case DIF_VAR_TIMESTAMP:
		return dtrace_mctx_now(mc);
	case DIF_VAR_WALLTIMESTAMP:
		if (!mc->walltime)
			mc->walltime = ktime_get_real_fast_ns();
		return mc->walltime;
	case DIF_VAR_EPID:
		return mc->ecb ? mc->ecb->epid : 0;
	case DIF_VAR_ID:
		return mc->probe->id;
	case DIF_VAR_PROBEPROV:
		return (uintptr_t)mc->probe->prov->name;
	case DIF_VAR_PROBEMOD:
		return (uintptr_t)mc->probe->mod;
	case DIF_VAR_PROBEFUNC:
		return (uintptr_t)mc->probe->func;
	case DIF_VAR_PROBENAME:
		return (uintptr_t)mc->probe->name;
	case DIF_VAR_PID:
		return current->tgid;
	case DIF_VAR_TID:
		return current->pid;
	case DIF_VAR_PPID:
		/* Tasks are freed after an RCU grace period; irqs are off. */
		parent = READ_ONCE(current->real_parent);
		return parent ? READ_ONCE(parent->tgid) : 0;
	case DIF_VAR_UID:
		return __kuid_val(current_cred()->uid);
	case DIF_VAR_GID:
		return __kgid_val(current_cred()->gid);
	case DIF_VAR_EXECNAME:
		return dtrace_env_execname();
	case DIF_VAR_CPU:
		return mc->cpu;
	case DIF_VAR_ERRNO:
		return dtrace_syscall_errno();
	case DIF_VAR_ARG0 ... DIF_VAR_ARG9:
		return ms->args[id - DIF_VAR_ARG0];
	case DIF_VAR_CALLER:
	case DIF_VAR_STACKDEPTH:
	case DIF_VAR_UCALLER:
	case DIF_VAR_USTACKDEPTH:
		return dtrace_stack_var(ms, id);
	default:
		ms->flags |= DIF_F_ILLOP;
		return 0;
	}
}
NOKPROBE_SYMBOL(dif_env_builtin);

notrace __u64 dif_env_speculation(struct dif_mstate *ms)
{
	struct dtrace_mctx *mc = ms->env;

	return mc->ecb ? dtrace_speculation(mc->ecb->state) : 0;
}
NOKPROBE_SYMBOL(dif_env_speculation);

/*
 * Start the machine state of ECB mc->ecb's firing on args: every field
 * written once, without the memset of the whole struct (and the compiler's
 * zeroing of it) that each firing paid before.  A new field of struct
 * dif_mstate must be set here.
 */
notrace void dtrace_mstate_start(struct dif_mstate *ms, struct dtrace_mctx *mc,
				 const u64 *args)
{
	struct dtrace_state *state = mc->ecb->state;

	BUILD_BUG_ON(sizeof(*ms) != 216);
	ms->env = mc;
	ms->args[0] = args[0];
	ms->args[1] = args[1];
	ms->args[2] = args[2];
	ms->args[3] = args[3];
	ms->args[4] = args[4];
	ms->args[5] = args[5];
	ms->args[6] = 0;
	ms->args[7] = 0;
	ms->args[8] = 0;
	ms->args[9] = 0;
	ms->strsize = state->strsize;
	ms->flags = 0;
	ms->pad = 0;
	ms->illval = 0;
	ms->fltoffs = 0;
	ms->pad2 = 0;
	ms->scratch_base = 0;
	ms->scratch_size = 0;
	ms->scratch_used = 0;
	ms->strtok = 0;
	ms->strtok_limit = 0;
	ms->rand = 0;
	ms->pad3 = 0;
	dtrace_mstate_init(state, ms, mc->cpu);
}
NOKPROBE_SYMBOL(dtrace_mstate_start);

/* The consumer's variables, as this CPU's firing sees them. */
notrace void dtrace_mstate_init(struct dtrace_state *state,
				struct dif_mstate *ms, int cpu)
{
	struct dtrace_vstate *vs = &state->vstate;
	u32 nl = vs->nvars[DIFV_SCOPE_LOCAL];

	ms->globals = vs->globals;
	ms->nglobals = vs->globals ? vs->nvars[DIFV_SCOPE_GLOBAL] : 0;
	ms->locals = vs->locals ? vs->locals + (u64)cpu * nl : NULL;
	ms->nlocals = vs->locals ? nl : 0;
	ms->ginfo = vs->info[DIFV_SCOPE_GLOBAL];
	ms->linfo = vs->info[DIFV_SCOPE_LOCAL];
	ms->tinfo = vs->info[DIFV_SCOPE_THREAD];
	ms->ntvars = vs->nvars[DIFV_SCOPE_THREAD];
}
NOKPROBE_SYMBOL(dtrace_mstate_init);

/*
 * The thread key (dtrace-internals.md 5.2): the task pointer plus
 * DIF_VARIABLE_MAX in the low 61 bits, the interrupt level above them, so
 * interrupt handlers get their own thread-locals.
 */
notrace __u64 dif_env_threadkey(struct dif_mstate *ms)
{
	u64 level = 0;

	if (in_nmi())
		level = 3;
	else if (in_hardirq())
		level = 2;
	else if (in_serving_softirq())
		level = 1;
	return (((u64)(uintptr_t)current + DIF_VARIABLE_MAX) &
		((1ULL << 61) - 1)) | (level << 61);
}
NOKPROBE_SYMBOL(dif_env_threadkey);

notrace __u64 dif_env_dvar(struct dif_mstate *ms, const struct dif_tuple *key,
			   __u32 nkeys, __u32 dsize, __u32 op)
{
	struct dtrace_mctx *mc = ms->env;
	struct dtrace_dstate *ds = mc->ecb ? mc->ecb->state->dstate : NULL;

	if (!ds) {
		/* No space (no DIFO stores a dynamic variable): drop. */
		if (op == DIF_DVAR_ALLOC)
			ms->flags |= DIF_F_DROP;
		return 0;
	}
	return dtrace_dynvar(ds, ms, key, nkeys, dsize, op, mc->cpu);
}
NOKPROBE_SYMBOL(dif_env_dvar);

notrace int dif_env_dvar_canstore(struct dif_mstate *ms, __u64 addr,
				  __u64 size)
{
	struct dtrace_mctx *mc = ms->env;
	struct dtrace_dstate *ds = mc->ecb ? mc->ecb->state->dstate : NULL;

	return ds && dtrace_dynvar_canstore(ds, addr, size);
}
NOKPROBE_SYMBOL(dif_env_dvar_canstore);

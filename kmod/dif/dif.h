/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DIF validator and interpreter: portable C.
 *
 * Nothing here includes a kernel header except the uapi contract
 * <linux/dtrace.h> (which needs only <linux/types.h>), so the same files
 * build into the module and into a host library for tests and fuzzing.
 * Everything that touches the machine (memory, built-in variables, time)
 * goes through the environment: the dif_env_*() functions below, which the
 * module implements in kmod/dif_env.c and the host build in
 * libdtrace/host/dif_env_host.c.  They are plain functions, not pointers,
 * so the probe path makes no indirect calls.
 *
 * Life of a DIFO: the module copies the tables out of the program, calls
 * dif_validate() once (which may rewrite nothing today, but is allowed to
 * rewrite opcodes, e.g. ld* -> rld*), and from then on calls dif_emulate()
 * in probe context without re-checking anything validation proved.
 */
#ifndef _DTRACE_DIF_H
#define _DTRACE_DIF_H

#include <linux/types.h>
#include <linux/dtrace.h>

#ifdef __KERNEL__
#include "dif_kernel.h"		/* DIF_NOTRACE: notrace + kept off kprobes */
#else
#define DIF_NOTRACE
#define DIF_UNINIT
#define NOKPROBE_SYMBOL(f)
#endif

/* A DIFO as the interpreter sees it; the tables are owned by the caller. */
struct dif_object {
	const __u32 *text;		/* len instructions */
	__u32 len;
	const __u64 *inttab;		/* intlen entries */
	__u32 intlen;
	const char *strtab;		/* strlen bytes, last one NUL */
	__u32 strlen;
	const struct dtrace_difv *vartab;	/* varlen entries */
	__u32 varlen;
	struct dtrace_diftype rtype;
	__u32 destructive;		/* set by dif_validate() */
};

/*
 * A by-reference user variable (dtrace-internals.md 1.8, 5.4).  Tables of
 * these, indexed by id - DIF_VAR_OTHER_UBASE, say how a variable is
 * stored; a NULL table means every variable of that scope is by value.
 *
 * Static by-ref variables (global scalars, clause-locals): the u64 slot in
 * globals/locals holds the address of size + 8 bytes of storage, an 8-byte
 * header (byte 0 is 0xff when the variable was last assigned NULL, a load
 * then yields 0) followed by the data.  A load yields the data address; a
 * store copies size bytes (strings: up to the NUL, zero-padded) from the
 * source address, read with dif_env_kload().
 *
 * Dynamic by-ref variables have size bytes of data in their chunk.
 */
struct dif_vinfo {
	__u32 size;			/* data bytes; 0 = by value */
	__u32 string;			/* a string: copies stop at the NUL */
};

/* One tuple stack entry, also one key of a dynamic variable. */
struct dif_tuple {
	__u64 val;			/* value, or address when size != 0 */
	__u64 size;			/* 0: by value; else bytes at val */
};

/* Fault flags (per firing). */
#define DIF_F_BADADDR	0x0004
#define DIF_F_BADALIGN	0x0008
#define DIF_F_DIVZERO	0x0010
#define DIF_F_ILLOP	0x0020
#define DIF_F_NOSCRATCH	0x0040
#define DIF_F_KPRIV	0x0080
#define DIF_F_UPRIV	0x0100
#define DIF_F_TUPOFLOW	0x0200
#define DIF_F_BADSTACK	0x1000
#define DIF_F_FAULT	(DIF_F_BADADDR | DIF_F_BADALIGN | DIF_F_DIVZERO | \
			 DIF_F_ILLOP | DIF_F_NOSCRATCH | DIF_F_KPRIV | \
			 DIF_F_UPRIV | DIF_F_TUPOFLOW | DIF_F_BADSTACK)
#define DIF_F_DROP	0x0002		/* drop the ECB silently */

/*
 * Per-firing machine state.  The caller fills the inputs; dif_emulate()
 * reports faults in flags/illval/fltoffs.  env is the environment's own
 * context (the kernel passes its probe-context state).
 */
struct dif_mstate {
	void *env;			/* for dif_env_*() */
	__u64 args[10];			/* arg0..arg9 */
	__u32 strsize;			/* string size bound (strsize option) */
	__u16 flags;			/* DIF_F_* set by faults */
	__u16 pad;
	__u64 illval;			/* faulting address or value */
	__u32 fltoffs;			/* byte offset of the faulting instruction */
	__u32 pad2;
	/* scratch space for allocs/string results: [scratch_base, +size) */
	__u64 scratch_base;
	__u64 scratch_size;
	__u64 scratch_used;
	/*
	 * By-value user variables, indexed by id - DIF_VAR_OTHER_UBASE: the
	 * global scalars of the consumer and this CPU's clause-locals.  An
	 * id outside [0, n) (or a NULL table) is an ILLOP fault.
	 */
	__u64 *globals;
	__u64 *locals;
	__u32 nglobals;
	__u32 nlocals;
	/*
	 * strtok() state, kept across the calls of one firing: where a
	 * strtok(NULL, ...) call resumes and where the strsize bound of
	 * that string ends; 0 when there is no string.  The caller zeroes
	 * both (with the rest of the struct) before each firing.
	 */
	__u64 strtok;
	__u64 strtok_limit;
	/*
	 * rand() state of this firing (zeroed with the rest): seeded from
	 * the timestamp by the first call, stepped by each call.
	 */
	__u64 rand;
	/*
	 * How user variables are stored (struct dif_vinfo above): ginfo
	 * has nglobals entries and covers global scalars and global
	 * associative arrays, linfo has nlocals entries, tinfo has ntvars
	 * entries for thread-local scalars and arrays.  NULL: by value.
	 */
	const struct dif_vinfo *ginfo;
	const struct dif_vinfo *linfo;
	const struct dif_vinfo *tinfo;
	__u32 ntvars;
	__u32 pad3;
};

/* Why a DIFO was refused: DTRACE_EPROG_* and the offending pc. */
struct dif_verr {
	__u32 err;			/* DTRACE_EPROG_* */
	__u32 pc;			/* instruction index, or DTRACE_NONE */
};

/*
 * Validate a DIFO (rules: dtrace-internals.md 2.3, plus: every variable
 * used by an instruction is in the variable table with the matching scope).
 * nregs is DIF_DIR_NREGS.  Returns 0, or -1 with *err filled.
 */
int dif_validate(struct dif_object *dp, struct dif_verr *err);

/*
 * Run a validated DIFO.  Returns the value of the ret register (an address
 * for by-reference results), or 0 with mstate->flags set on a fault.
 */
__u64 dif_emulate(const struct dif_object *dp, struct dif_mstate *ms);

/* Map fault flags to a DTRACEFLT_* code, in DTrace's priority order. */
__u32 dif_fault_code(__u16 flags);

/*
 * ---------------------------------------------------------------------------
 * The environment (implemented outside kmod/dif/)
 * ---------------------------------------------------------------------------
 */

/*
 * Read size (1, 2, 4, 8 or any for strings) bytes of kernel memory without
 * faulting.  Returns 0, or -1 when the address cannot be read.
 */
int dif_env_kload(void *env, void *dst, __u64 addr, __u32 size);

/* The same for user memory of the current process. */
int dif_env_uload(void *env, void *dst, __u64 addr, __u32 size);

/*
 * Write size bytes to user memory of the current process without faulting
 * (copyout, copyoutstr: destructive).  Returns 0 (also when the environment
 * disallows destructive actions and skips the write), or -1 when the
 * address cannot be written.
 */
int dif_env_ustore(void *env, __u64 addr, const void *src, __u32 size);

/*
 * Value of built-in scalar variable id (DIF_VAR_OTHER_MIN .. UBASE-1).
 * Unknown ids: set DIF_F_ILLOP in ms->flags and return 0.
 */
__u64 dif_env_builtin(struct dif_mstate *ms, __u32 id);

/*
 * The subroutines that need the kernel's types: mutex_owned, mutex_owner,
 * mutex_type_adaptive, mutex_type_spin, rw_read_held, rw_write_held,
 * rw_iswriter, progenyof and d_path, called with their arguments tup[0 ..
 * nt) (at least one).  Faults set ms->flags as dif_subr() would; an
 * environment without them (the host build) faults ILLOP.
 */
__u64 dif_env_subr(struct dif_mstate *ms, __u32 subr,
		   const struct dif_tuple *tup, __u32 nt);

/*
 * speculation(): a free speculation id of the consumer (1..nspec), or 0
 * when none is free (the environment counts the failure).
 */
__u64 dif_env_speculation(struct dif_mstate *ms);

/*
 * Dynamic variables (dtrace-internals.md 5): thread-locals and associative
 * arrays live in the environment's dynamic variable space.  The interpreter
 * builds the key tuple as section 5.2 says:
 *
 *   a[k1..kn]		k1 .. kn, (id - DIF_VAR_OTHER_UBASE, 0)
 *   self->x		(id - DIF_VAR_OTHER_UBASE, 0), (thread key, 0)
 *   self->a[k1..kn]	k1 .. kn, (id - DIF_VAR_OTHER_UBASE, 0), (thread key, 0)
 *
 * and calls dif_env_dvar() with one of these ops:
 *
 *   DIF_DVAR_LOOKUP	the data address of the variable, or 0 if absent;
 *   DIF_DVAR_ALLOC	the same, creating the variable (dsize zeroed bytes)
 *			when absent; 0 when there is no room, with DIF_F_DROP
 *			set in ms->flags (the ECB is dropped silently);
 *   DIF_DVAR_DEALLOC	delete the variable if present; returns 0.
 *
 * Keys with size != 0 are by reference: size bytes at val, read with the
 * environment's own nofault loads (an unreadable key sets DIF_F_BADADDR
 * with illval = its address and returns 0).  nkeys is at most
 * DIF_DVAR_MAXKEYS.  dsize is the data size (8 for by-value variables).
 * Probe-context safe, lock-free for lookups; never sleeps or allocates.
 */
#define DIF_DVAR_LOOKUP		0
#define DIF_DVAR_ALLOC		1
#define DIF_DVAR_DEALLOC	2
#define DIF_DVAR_MAXKEYS	(DIF_DTR_NREGS + 2)

__u64 dif_env_dvar(struct dif_mstate *ms, const struct dif_tuple *key,
		   __u32 nkeys, __u32 dsize, __u32 op);

/*
 * Does [addr, addr + size) lie in the data of one dynamic variable of
 * this consumer (the dsize bytes at an address DIF_DVAR_LOOKUP or
 * DIF_DVAR_ALLOC returned, while the variable exists)?  Never in the
 * environment's own bookkeeping (headers, keys).  The store check of
 * stb/sth/stw/stx uses it, so D can store into thread-local arrays.
 */
int dif_env_dvar_canstore(struct dif_mstate *ms, __u64 addr, __u64 size);

/*
 * The thread key of the current thread (section 5.2): unique per thread
 * and interrupt level, never equal to a variable id.
 */
__u64 dif_env_threadkey(struct dif_mstate *ms);

#endif /* _DTRACE_DIF_H */

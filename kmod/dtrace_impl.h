/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal types of the dtrace module: providers and probes, consumer
 * states, enablings, ECBs, actions and per-CPU buffers.
 *
 * Locking (outermost first):
 *
 *   state->lock	one consumer: its ioctls, ECB table, buffers, options.
 *   dtrace_lock	the provider list, the probe table and every probe's
 *			ECB list and ECB count.
 *
 * Probe context takes no lock.  It runs with interrupts disabled and reads
 * the probe table and the ECB lists with READ_ONCE(); writers publish with
 * smp_store_release() and, before freeing anything a CPU may still be
 * looking at, call dtrace_sync(), which returns only when every CPU has
 * left probe context (an IPI cannot be taken with interrupts disabled).
 */
#ifndef _DTRACE_IMPL_H
#define _DTRACE_IMPL_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/atomic.h>
#include <linux/sched.h>
#include <linux/workqueue.h>
#include <linux/irq_work.h>
#include <linux/wait.h>
#include <linux/dtrace.h>

#include "compat.h"
#include "dif/dif.h"

/* Refuse to build against any <linux/dtrace.h> other than ours. */
#if !defined(DTRACE_ABI_VERSION) || !defined(DTRACE_PROG_MAGIC)
#error "<linux/dtrace.h> is not kmod/include/uapi/linux/dtrace.h"
#endif

#define DTRACE_DEFAULT_BUFSIZE	(4ULL << 20)
#define DTRACE_DEFAULT_STRSIZE	256
#define DTRACE_MIN_BUFSIZE	8
/* Bounds of the cleanrate option, and the cap of statusrate (ns). */
#define DTRACE_CLEANRATE_MIN	200000LL		/* 200 us */
#define DTRACE_CLEANRATE_MAX	(60LL * NSEC_PER_SEC)
#define DTRACE_STATUSRATE_MAX	(10LL * NSEC_PER_SEC)

/*
 * ---------------------------------------------------------------------------
 * Providers and probes (probe.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_provider;

/*
 * Provider operations; every one is called with dtrace_lock held, in
 * process context (they may sleep).
 *   provide:	create probes (may be called repeatedly; desc may be NULL)
 *   enable:	the probe's first ECB was added; arm it (0 or -errno)
 *   disable:	its last ECB went away; no firing after this returns
 *   destroy:	the probe is being removed (never while enabled)
 */
struct dtrace_provider_ops {
	void (*provide)(struct dtrace_provider *prov,
			const struct dtrace_probedesc *desc);
	int (*enable)(struct dtrace_provider *prov, u32 id, void *parg);
	void (*disable)(struct dtrace_provider *prov, u32 id, void *parg);
	void (*destroy)(struct dtrace_provider *prov, u32 id, void *parg);
	/*
	 * Optional: finish the disables made since the last call, before
	 * dtrace_lock is dropped (fbt unregisters its kprobes in one batch,
	 * with one RCU grace period instead of one per probe).
	 */
	void (*flush)(struct dtrace_provider *prov);
};

struct dtrace_provider {
	const char *name;
	const struct dtrace_provider_ops *ops;
	void *priv;
	struct list_head node;		/* dtrace_providers */
	/*
	 * Most of its probes one enabling may arm (0: no limit): fbt's cost
	 * a kprobe each, registered under dtrace_lock.
	 */
	unsigned int enable_limit;
	unsigned int narming;		/* while counting; dtrace_lock */
};

struct dtrace_ecb;

struct dtrace_probe {
	u32 id;
	int necbs;			/* ECBs on the list; dtrace_lock */
	struct dtrace_provider *prov;
	void *parg;
	struct dtrace_ecb *ecbs;	/* READ_ONCE in probe context */
	struct dtrace_probe *next_dead;	/* unregister's free list */
	const char *mod;		/* these three point into names[] */
	const char *func;
	const char *name;
	char names[];			/* mod, func and name, NUL-terminated */
};

extern struct mutex dtrace_lock;

int dtrace_probes_init(void);
void dtrace_probes_exit(void);
int dtrace_provider_register(struct dtrace_provider *prov);
void dtrace_provider_unregister(struct dtrace_provider *prov);
u32 dtrace_probe_create(struct dtrace_provider *prov, const char *mod,
			const char *func, const char *name, void *parg);
struct dtrace_probe *dtrace_probe_get(u32 id);		/* dtrace_lock */
u32 dtrace_probe_max_id(void);				/* dtrace_lock */
void dtrace_provide_all(void);
void dtrace_provide_desc(const struct dtrace_probedesc *desc);
int dtrace_probe_describe(struct dtrace_probedesc *pd,
			  const struct dtrace_probedesc *pat);
bool dtrace_probe_match(const struct dtrace_probe *probe,
			const struct dtrace_probedesc *pat);
int dtrace_ecb_link(struct dtrace_ecb *ecb);		/* dtrace_lock */
void dtrace_ecb_unlink(struct dtrace_ecb *ecb);		/* dtrace_lock */
void dtrace_providers_flush(void);			/* dtrace_lock */
void dtrace_sync(void);

/* Fire probe id; state != NULL: run only that consumer's ECBs. */
struct dtrace_state;
void dtrace_probe(u32 id, struct dtrace_state *only, u64 arg0, u64 arg1,
		  u64 arg2, u64 arg3, u64 arg4, u64 arg5);
/*
 * Fire probe id with the registers of the probed context, where stack()
 * and caller start (stack.c); DTRACE_REGS_ENTRY: regs are at a function's
 * first instruction, so its caller is the first frame.
 */
#define DTRACE_REGS_ENTRY	0x1
struct pt_regs;
void dtrace_probe_regs(u32 id, struct pt_regs *regs, u32 rflags, u64 arg0,
		       u64 arg1, u64 arg2, u64 arg3, u64 arg4, u64 arg5);

/* The dtrace provider (prov_dtrace.c). */
extern u32 dtrace_probeid_begin, dtrace_probeid_end, dtrace_probeid_error;
int dtrace_prov_dtrace_init(void);
void dtrace_prov_dtrace_exit(void);
bool dtrace_probe_is_dtrace(const struct dtrace_probe *probe);

/* The profile and syscall providers (prov_profile.c, prov_syscall.c). */
int dtrace_prov_profile_init(void);
void dtrace_prov_profile_exit(void);
int dtrace_profile_armed_count(void);
int dtrace_prov_syscall_init(void);
void dtrace_prov_syscall_exit(void);
u64 dtrace_syscall_errno(void);	/* probe context: the errno built-in */
int dtrace_prov_fbt_init(void);		/* prov_fbt.c */
void dtrace_prov_fbt_exit(void);
long dtrace_fbt_provide_funcs(void __user *uarg);	/* DTRACEIOC_FBTPROVIDE */

/* Tracepoint providers: sdt (prov_sdt.c); proc, sched, io on sprov.c. */
int dtrace_prov_sdt_init(void);
void dtrace_prov_sdt_exit(void);
int dtrace_prov_proc_init(void);
void dtrace_prov_proc_exit(void);
int dtrace_prov_sched_init(void);
void dtrace_prov_sched_exit(void);
int dtrace_prov_io_init(void);
void dtrace_prov_io_exit(void);
unsigned int dtrace_tphook_registered(void);	/* dtrace_lock */

/*
 * ---------------------------------------------------------------------------
 * Enablings, ECBs and actions (program.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_action {
	struct dif_object *difo;	/* NULL: records nothing */
	u16 kind;			/* DTRACEACT_* */
	bool byref;			/* the value is an address */
	bool user;			/* ... of user memory */
	bool string;			/* copy stops at NUL, no padding */
	bool intuple;			/* a key of the next aggregation */
	bool hasarg;			/* aggregation: last key is the arg */
	bool aggnoeval;			/* aggregation: the value is unused */
	bool isconst;			/* difo's value is constval, run once */
	u16 builtin;			/* difo is "ldgs builtin; ret": its id */
	bool execname;			/* builtin execname into a string rec */
	u32 aggidx;			/* aggregation: index in its clause */
	u32 aggbase;			/* aggregation: offset of its base */
	u64 agginit;			/* aggregation: initial value word */
	u64 constval;			/* isconst: the value difo returns */
	const struct dtrace_action *first;	/* aggregation: first key */
	/*
	 * A key: its record's words from its aggregation's base (8-aligned):
	 * kwords words from kwoff, the first masked by kmask0, the last by
	 * kmaskn (the record's bytes in them), precomputed at enabling.
	 */
	u32 kwoff;
	u32 kwords;
	u64 kmask0;
	u64 kmaskn;
	struct dtrace_recdesc rec;
};

/* One ECB description: shared by every ECB it created. */
struct dtrace_clause {
	const struct dtrace_probedesc *pdesc;	/* pattern, in the program */
	struct dif_object *pred;	/* NULL: always true */
	struct dtrace_action *acts;
	u32 nacts;
	u32 size;			/* bytes committed per firing */
	u32 needed;			/* bytes reserved per firing */
	u32 align;
	u32 naggs;			/* aggregating actions */
	bool nodif;			/* runs no DIF: dtrace_mstate_lite() */
	u8 predop;			/* pred is "builtin predvar op predval" */
	u16 predvar;			/* ... (DIF_OP_BE...): run without DIF */
	u64 predval;
	u64 uarg;
};

/*
 * Per-record timestamps: write the header (struct dtrace_rechdr) of an ECB
 * record at rec: its EPID and the firing's time (mc->now).  rec is 4-aligned.
 */
static inline void dtrace_rechdr_put(char *rec, u32 epid, u64 now)
{
	struct dtrace_rechdr *hdr = (struct dtrace_rechdr *)rec;

	hdr->dtrh_epid = epid;
	hdr->dtrh_timestamp_hi = upper_32_bits(now);
	hdr->dtrh_timestamp_lo = lower_32_bits(now);
}

/* One DTRACEIOC_ENABLE: owns the program copy, DIFOs and clauses. */
struct dtrace_enabling {
	struct list_head node;		/* state->enablings */
	void *prog;			/* the program, copied in */
	u32 progsize;			/* its bytes */
	u32 nacts;			/* entries of acts */
	struct dif_object *difos;
	u32 ndifos;
	struct dtrace_action *acts;	/* all clauses' actions */
	struct dtrace_clause *clauses;
	u32 nclauses;
};

struct dtrace_ecb {
	struct dtrace_ecb *next;	/* probe->ecbs list */
	struct dtrace_state *state;
	struct dtrace_probe *probe;
	const struct dtrace_clause *clause;
	u32 epid;
	u32 aggid;			/* id of the clause's first aggregation */
};

int dtrace_enable(struct dtrace_state *state, struct dtrace_enable *de);
void dtrace_enabling_destroy(struct dtrace_enabling *en);

/*
 * ---------------------------------------------------------------------------
 * Per-CPU principal buffers (buffer.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_buffer {
	char *data[2];			/* the two halves */
	u32 cur;			/* index of the active half */
	u32 cpu;
	u64 size;			/* bytes per half */
	u64 offset;			/* active half: bytes committed */
	u64 drops;
	u64 errors;
	u64 xamot_offset;		/* inactive half, as of the switch */
	u64 xamot_drops;
	u64 xamot_errors;
	u64 switched;			/* ns of the last switch */
	/*
	 * Policies (dtrace-internals.md 4.5).  A reservation ending past
	 * limit takes dtrace_buffer_reserve(): switch: limit = size (a drop);
	 * fill: size - the END reserve, 0 once full; ring: size, or oldest
	 * once wrapped.
	 */
	u64 limit;
	u64 oldest;			/* ring: oldest whole record, or 0 */
	u32 policy;			/* DTRACEOPT_BUFPOLICY_* */
	/*
	 * switch: limit starts each half at size / 2, and the reservation
	 * crossing it queues wake (the consumer's poll) and sets it to size.
	 */
	struct irq_work *wake;
	bool full;			/* fill: stopped taking records */
	bool consumed;			/* fill/ring: snapshot taken */
};

int dtrace_buffers_alloc(struct dtrace_state *state, u64 *size);
bool dtrace_buffers_ready(struct dtrace_state *state);
u64 dtrace_size_limit(u64 nbufs);
void dtrace_buffers_free(struct dtrace_state *state);
int dtrace_snap_copyout(struct dtrace_bufdesc *desc, const void *data,
			u64 size, u64 oldest, u64 errors, u64 drops, u64 when);
int dtrace_buffer_snapshot(struct dtrace_state *state,
			   struct dtrace_bufdesc *desc);
bool dtrace_buffer_reserve(struct dtrace_buffer *buf,
			   const struct dtrace_state *state, u32 needed,
			   u32 align, u64 *aligned);

/*
 * ---------------------------------------------------------------------------
 * User variables (program.c: their descriptions; state.c: static storage)
 * ---------------------------------------------------------------------------
 */
#define DTRACE_NSCOPES		3	/* DIFV_SCOPE_GLOBAL .. LOCAL */

/* A user variable of a consumer, by (scope, id - DIF_VAR_OTHER_UBASE). */
struct dtrace_var {
	u8 used;
	u8 kind;			/* DIFV_KIND_* */
	u16 pad;
	struct dtrace_diftype type;
};

struct dtrace_vstate {
	struct dtrace_var *vars[DTRACE_NSCOPES];	/* descriptions */
	u32 nvars[DTRACE_NSCOPES];
	/* From GO until the state is freed (probe context reads them): */
	u64 *globals;			/* nvars[GLOBAL] slots */
	u64 *locals;			/* nr_cpu_ids * nvars[LOCAL] slots */
	struct dif_vinfo *info[DTRACE_NSCOPES];	/* NULL: all by value */
	char *gstore;			/* by-ref global scalars' storage */
	char *lstore;			/* by-ref clause-locals', all CPUs */
};

int dtrace_vars_merge(struct dtrace_vstate *vs, const struct dif_object *dp,
		      u32 ndifos, struct dtrace_var **nvars, u32 *nnvars,
		      u32 *bad);
int dtrace_vstate_alloc(struct dtrace_state *state);
void dtrace_vstate_free(struct dtrace_vstate *vs);
struct dtrace_mctx;
void dtrace_mstate_start(struct dif_mstate *ms, struct dtrace_mctx *mc,
			 const u64 *args);
void dtrace_mstate_init(struct dtrace_state *state, struct dif_mstate *ms,
			int cpu);

/*
 * ---------------------------------------------------------------------------
 * Dynamic variables (dynvar.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_dstate;

int dtrace_dstate_alloc(struct dtrace_state *state);
void dtrace_dstate_free(struct dtrace_state *state);
void dtrace_dstate_drops(struct dtrace_state *state, struct dtrace_status *st);
u64 dtrace_dynvar(struct dtrace_dstate *ds, struct dif_mstate *ms,
		  const struct dif_tuple *key, u32 nkeys, u32 dsize, u32 op,
		  int cpu);
int dtrace_dynvar_canstore(const struct dtrace_dstate *ds, u64 addr,
			   u64 size);

/*
 * ---------------------------------------------------------------------------
 * Aggregations (aggregate.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_aggid {
	const struct dtrace_ecb *ecb;
	const struct dtrace_action *act;
};

/* One CPU's aggregation buffer: two halves, switched like principal. */
struct dtrace_aggbuf {
	char *data[2];
	u32 cur;
	u32 nbuckets;			/* of the active half */
	u32 lastkey;			/* key number of the last hit; 0 none */
	u64 size;			/* bytes per half */
	u64 offset;			/* records end; 0: hash not set up */
	u64 free;			/* key headers start (grow down) */
	u64 drops;
	u64 xamot_offset;
	u64 xamot_drops;
	u64 switched;
};

bool dtrace_difo_const(const struct dif_object *dp, u64 *val);
bool dtrace_env_is_execname(u64 addr);
void dtrace_env_execname_put(char *dst);
int dtrace_agg_action(struct dtrace_action *act,
		      const struct dtrace_actdesc *ad, u32 *size);
int dtrace_aggbufs_alloc(struct dtrace_state *state);
void dtrace_aggbufs_free(struct dtrace_state *state);
void dtrace_aggregate(const struct dtrace_ecb *ecb,
		      const struct dtrace_action *act,
		      struct dtrace_aggbuf *ab, const char *rec, u64 expr,
		      u64 arg, struct dif_mstate *ms);
int dtrace_agg_snapshot(struct dtrace_state *state,
			struct dtrace_bufdesc *desc);
int dtrace_agg_describe(struct dtrace_state *state,
			struct dtrace_aggdesc *ad);

/*
 * ---------------------------------------------------------------------------
 * Consumer state (state.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_state {
	struct mutex lock;
	int activity;			/* DTRACE_ACTIVITY_*; cmpxchg */
	s64 options[DTRACEOPT_MAX];
	u32 strsize;			/* cached option, for probe context */
	struct dtrace_ecb **ecbs;	/* by EPID - 1 */
	u32 necbs;
	u32 ecbs_cap;
	struct list_head enablings;
	struct dtrace_buffer *buffers;	/* nr_cpu_ids entries, or NULL */
	atomic64_t dblerrors;
	u64 alive;			/* ns of the last STATUS */
	struct dtrace_vstate vstate;	/* user variables (state.c) */
	struct dtrace_dstate *dstate;	/* dynamic variables, or NULL */
	struct dtrace_aggid *aggs;	/* by aggregation id - 1 */
	u32 naggs;
	u32 aggs_cap;
	struct dtrace_aggbuf *aggbufs;	/* nr_cpu_ids entries, or NULL */
	struct delayed_work deadman;	/* from GO: refreshes deadman_alive */
	u64 deadman_alive;		/* jiffies; 0 before GO (READ_ONCE) */
	bool deadman_spared;		/* -w: the deadman spares it (GO) */
	/* For the consumers file (dtrace_states_lock): */
	struct list_head node;		/* dtrace_states */
	u64 id;				/* module-wide, from 1 */
	pid_t pid;			/* the opener's */
	char comm[TASK_COMM_LEN];
	u64 vbytes;			/* static variable storage; lock */
	struct dtrace_specs *specs;	/* speculations (spec.c), from GO */
	struct irq_work bufwork;	/* wakes bufwait (a buffer half full) */
	wait_queue_head_t bufwait;	/* poll() on the device */
};

struct dtrace_state *dtrace_state_create(void);
void dtrace_state_destroy(struct dtrace_state *state);
int dtrace_state_go(struct dtrace_state *state, u32 *cpu);
int dtrace_state_stop(struct dtrace_state *state, u32 *cpu);
int dtrace_state_status(struct dtrace_state *state, struct dtrace_status *st);
int dtrace_state_optget(struct dtrace_state *state, struct dtrace_optget *og);
int dtrace_state_eprobe(struct dtrace_state *state,
			struct dtrace_eprobedesc *epd);
bool dtrace_state_deadman(struct dtrace_state *state);

/* The device (dev.c). */
int dtrace_dev_init(void);
void dtrace_dev_exit(void);

/*
 * ---------------------------------------------------------------------------
 * Memory accounting: every allocation of the module goes through these, so
 * module exit can check that everything came back.
 * ---------------------------------------------------------------------------
 */
extern atomic_long_t dtrace_nallocs;
void *dtrace_zalloc(size_t size);
void *dtrace_zalloc_nowarn(size_t size);
void dtrace_free(const void *ptr);

/* Probe-context environment for dif_env_*() (dif_env.c). */
struct dtrace_mctx {
	const struct dtrace_probe *probe;
	const struct dtrace_ecb *ecb;
	u64 now;			/* 0 until read: dtrace_mctx_now() */
	u64 walltime;
	int cpu;
	struct pt_regs *regs;		/* probed context, or NULL (stack.c) */
	u32 rflags;			/* DTRACE_REGS_* */
};

/*
 * The firing's time (timestamp, record headers), read on first use: a
 * clause that records no header and reads no timestamp (an aggregation, a
 * false predicate) does not pay for the clock.  Every later use in the
 * firing sees the same value.
 */
static __always_inline u64 dtrace_mctx_now(struct dtrace_mctx *mc)
{
	if (!mc->now)
		mc->now = ktime_get_mono_fast_ns();
	return mc->now;
}

/*
 * Stacks (stack.c): record sizes of stack()/ustack() actions, their
 * records, usym()/umod()/uaddr() pairs, caller/stackdepth/ucaller/
 * ustackdepth.
 */
#define DTRACE_STACK_MAXFRAMES	8192
#define DTRACE_STACK_MAXSTRSIZE	(1U << 20)
int dtrace_stack_recsize(u16 kind, u64 arg, u32 *size);
void dtrace_stack_record(const struct dtrace_mctx *mc,
			 const struct dtrace_action *act, char *dst);
void dtrace_stack_upair(char *dst, u64 val);
u64 dtrace_stack_var(struct dif_mstate *ms, u32 id);

/*
 * ---------------------------------------------------------------------------
 * Consumers list and per-consumer accounting (state.c, debugfs.c).  The
 * *_bytes() accessors take state->lock held; they return the data bytes
 * and add their per-CPU bookkeeping to *meta.
 * ---------------------------------------------------------------------------
 */
struct seq_file;
struct dentry;

extern struct dentry *dtrace_debugfs_dir;	/* /sys/kernel/debug/dtrace */
int dtrace_debugfs_init(void);
void dtrace_debugfs_exit(void);
int dtrace_states_show(struct seq_file *m);
u64 dtrace_buffers_bytes(const struct dtrace_state *state, u64 *meta);
u64 dtrace_aggbufs_bytes(const struct dtrace_state *state, u64 *meta);
u64 dtrace_dstate_bytes(const struct dtrace_state *state, u64 *meta);
u64 dtrace_program_bytes(const struct dtrace_state *state);

/*
 * ---------------------------------------------------------------------------
 * Speculations (spec.c)
 * ---------------------------------------------------------------------------
 */
struct dtrace_specs;
struct dtrace_specbuf;

/* A clause's record in a speculation buffer, committed at its end. */
struct dtrace_spec_pending {
	struct dtrace_specbuf *buf;	/* NULL: the clause did not speculate */
	u64 end;
};

int dtrace_specs_alloc(struct dtrace_state *state);
void dtrace_specs_free(struct dtrace_state *state);
void dtrace_specs_stop(struct dtrace_state *state);
void dtrace_specs_status(struct dtrace_state *state, struct dtrace_status *st);
u64 dtrace_specs_bytes(const struct dtrace_state *state, u64 *meta);
int dtrace_clause_spec_check(const struct dtrace_clause *cl);
u64 dtrace_speculation(struct dtrace_state *state);
char *dtrace_spec_speculate(struct dtrace_state *state,
			    const struct dtrace_ecb *ecb, int cpu, u64 id,
			    u64 now, struct dif_mstate *ms,
			    struct dtrace_spec_pending *pend);
void dtrace_spec_done(const struct dtrace_spec_pending *pend);
void dtrace_spec_commit(struct dtrace_state *state, struct dtrace_buffer *dest,
			int cpu, u64 id, struct dif_mstate *ms);
void dtrace_spec_discard(struct dtrace_state *state, int cpu, u64 id,
			 struct dif_mstate *ms);

/*
 * ---------------------------------------------------------------------------
 * Destructive actions (destr.c): raise(), stop(), chill()
 * ---------------------------------------------------------------------------
 */
int dtrace_destr_act(struct dtrace_mctx *mc, u16 kind, u64 val,
		     struct dif_mstate *ms);
bool dtrace_act_destructive(u16 kind);
bool dtrace_destructive_disallowed(void);
void dtrace_destr_init(void);
void dtrace_destr_exit(void);

#endif /* _DTRACE_IMPL_H */

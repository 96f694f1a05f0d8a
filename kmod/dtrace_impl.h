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
};

struct dtrace_provider {
	const char *name;
	const struct dtrace_provider_ops *ops;
	void *priv;
	struct list_head node;		/* dtrace_providers */
};

struct dtrace_ecb;

struct dtrace_probe {
	u32 id;
	int necbs;			/* ECBs on the list; dtrace_lock */
	struct dtrace_provider *prov;
	void *parg;
	struct dtrace_ecb *ecbs;	/* READ_ONCE in probe context */
	struct dtrace_probe *next_dead;	/* unregister's free list */
	char mod[DTRACE_MODNAMELEN];
	char func[DTRACE_FUNCNAMELEN];
	char name[DTRACE_NAMELEN];
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
int dtrace_probe_describe(struct dtrace_probedesc *pd);
bool dtrace_probe_match(const struct dtrace_probe *probe,
			const struct dtrace_probedesc *pat);
int dtrace_ecb_link(struct dtrace_ecb *ecb);		/* dtrace_lock */
void dtrace_ecb_unlink(struct dtrace_ecb *ecb);		/* dtrace_lock */
void dtrace_sync(void);

/* Fire probe id; state != NULL: run only that consumer's ECBs. */
struct dtrace_state;
void dtrace_probe(u32 id, struct dtrace_state *only, u64 arg0, u64 arg1,
		  u64 arg2, u64 arg3, u64 arg4, u64 arg5);

/* The dtrace provider (prov_dtrace.c). */
extern u32 dtrace_probeid_begin, dtrace_probeid_end, dtrace_probeid_error;
int dtrace_prov_dtrace_init(void);
void dtrace_prov_dtrace_exit(void);
bool dtrace_probe_is_dtrace(const struct dtrace_probe *probe);

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
	bool string;			/* copy stops at NUL, zero-pads */
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
	u64 uarg;
};

/* One DTRACEIOC_ENABLE: owns the program copy, DIFOs and clauses. */
struct dtrace_enabling {
	struct list_head node;		/* state->enablings */
	void *prog;			/* the program, copied in */
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
};

int dtrace_buffers_alloc(struct dtrace_state *state, u64 *size);
void dtrace_buffers_free(struct dtrace_state *state);
int dtrace_buffer_snapshot(struct dtrace_state *state,
			   struct dtrace_bufdesc *desc);

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
};

struct dtrace_state *dtrace_state_create(void);
void dtrace_state_destroy(struct dtrace_state *state);
int dtrace_state_go(struct dtrace_state *state, u32 *cpu);
int dtrace_state_stop(struct dtrace_state *state, u32 *cpu);
int dtrace_state_status(struct dtrace_state *state, struct dtrace_status *st);
int dtrace_state_eprobe(struct dtrace_state *state,
			struct dtrace_eprobedesc *epd);

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
	u64 now;
	u64 walltime;
	int cpu;
};

#endif /* _DTRACE_IMPL_H */

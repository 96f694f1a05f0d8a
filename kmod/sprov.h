/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Static providers on kernel hooks (sprov.c): proc, sched and io have a
 * fixed set of probes, each fired from a tracepoint callback or a kprobe
 * that is registered only while one of its probes is enabled.
 */
#ifndef DTRACE_SPROV_H
#define DTRACE_SPROV_H

#include <linux/kprobes.h>
#include <linux/tracepoint.h>

#include "dtrace_impl.h"

/* A tracepoint callback, a kprobe or a kretprobe, shared by probes. */
struct dtrace_hook {
	const char *func;		/* the probes' function field */
	const char *tp_name;		/* a tracepoint of the kernel image */
	void *tp_cb;			/* its callback (the tracepoint's args) */
	const char *const *syms;	/* else kprobe symbols to try, NULL-ended */
	kprobe_pre_handler_t pre;	/* a kprobe's handler */
	kretprobe_handler_t ret;	/* or a kretprobe's */
	struct tracepoint *tp;
	struct kprobe kp;
	struct kretprobe krp;
	unsigned int users;		/* enabled probes; dtrace_lock */
};

#define DTRACE_SPROBE_HOOKS	3

struct dtrace_sprobe {
	const char *name;
	struct dtrace_hook *hook;	/* the first names the probe's function */
	struct dtrace_hook *more[DTRACE_SPROBE_HOOKS - 1];	/* or NULL */
	u32 id;
	bool on;			/* READ_ONCE in probe context */
};

struct dtrace_sprov {
	struct dtrace_provider prov;
	struct dtrace_sprobe *probes;
	size_t nprobes;
};

int dtrace_sprov_register(struct dtrace_sprov *sp, const char *name);
void dtrace_sprov_unregister(struct dtrace_sprov *sp);

/* Probe context: fire p if it is enabled. */
static __always_inline void dtrace_sprobe_fire(const struct dtrace_sprobe *p,
					       u64 a0, u64 a1, u64 a2, u64 a3,
					       u64 a4)
{
	if (READ_ONCE(p->on))
		dtrace_probe(p->id, NULL, a0, a1, a2, a3, a4, 0);
}

#endif /* DTRACE_SPROV_H */

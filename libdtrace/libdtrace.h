/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libdtrace: one small wrapper per /dev/dtrace ioctl.
 *
 * Every function returns 0 (or a count) on success and -errno on failure;
 * nothing here prints or allocates.  The structures are those of the uapi
 * contract <linux/dtrace.h>; Python reaches these through cffi.
 */
#ifndef _LIBDTRACE_H
#define _LIBDTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/dtrace.h>

int dt_open(const char *path);
int dt_close(int fd);
int dt_conf(int fd, struct dtrace_conf *conf);
int dt_probe_next(int fd, uint32_t id, struct dtrace_probedesc *pd);
int dt_probe_match(int fd, struct dtrace_probedesc *pd);
int dt_probe_list(int fd, const struct dtrace_probedesc *pat, uint32_t id,
		  struct dtrace_probedesc *out, uint32_t cap);
int dt_provide(int fd, const char *provider, const char *mod,
	       const char *func, const char *name);
int dt_fbt_provide(int fd, const struct dtrace_fbtfunc *funcs, uint32_t count,
		   uint32_t *created);
int dt_enable(int fd, const void *prog, uint32_t size,
	      struct dtrace_enable *en);
int dt_eprobe(int fd, uint32_t epid, struct dtrace_eprobedesc *ed,
	      struct dtrace_recdesc *recs, uint32_t nrecs);
int dt_go(int fd, uint32_t *cpu);
int dt_stop(int fd, uint32_t *cpu);
int dt_status(int fd, struct dtrace_status *st);
int dt_optget(int fd, int64_t *values, uint32_t nopts);
int dt_bufsnap(int fd, uint32_t cpu, void *buf, uint64_t size,
	       struct dtrace_bufdesc *bd);
int dt_aggsnap(int fd, uint32_t cpu, void *buf, uint64_t size,
	       struct dtrace_bufdesc *bd);
int dt_aggdesc(int fd, uint32_t aggid, struct dtrace_aggdesc *ad,
	       struct dtrace_recdesc *recs, uint32_t nrecs);

/*
 * BTF: the offset in blob of every type record of the type section at
 * [start, end), in id order, and the name offset of every typedef; the
 * number of records, or one of these.
 */
#define DT_BTF_EALIGN	(-1)	/* section length not a multiple of 4 */
#define DT_BTF_ETRUNC	(-2)	/* a record runs past the section's end */
#define DT_BTF_EKIND	(-3)	/* unknown kind */
#define DT_BTF_ESPACE	(-4)	/* more records than cap (or typedefs than tcap) */
long dt_btf_scan(const void *blob, size_t start, size_t end, uint32_t *offs,
		 size_t cap, uint32_t *tdefs, size_t tcap, size_t *ntdefs);

#endif /* _LIBDTRACE_H */

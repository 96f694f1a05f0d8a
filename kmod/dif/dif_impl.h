/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private helpers of the DIF validator and interpreter (kmod/dif/).
 * Portable: no kernel header besides <linux/types.h> via dif.h.
 */
#ifndef _DTRACE_DIF_IMPL_H
#define _DTRACE_DIF_IMPL_H

#include "dif.h"

#ifndef NULL
#define NULL ((void *)0)
#endif

/* String size used when neither the caller nor the program gives one. */
#define DIF_STRSIZE_DEFAULT	256

/* Largest by-reference global variable (dtrace_global_maxsize). */
#define DIF_GLOBAL_MAXSIZE	(16 * 1024)

/*
 * Largest variable table the validator accepts.  Checking that every
 * variable an instruction names is in the table is a linear search per
 * instruction, so this bounds validation at len * DIF_VARTAB_MAX steps.
 */
#define DIF_VARTAB_MAX		1024

/* Chunk size for reading strings through dif_env_kload(); a power of 2. */
#define DIF_STRCHUNK		32

/* arg0..arg9 in struct dif_mstate */
#define DIF_NARGS		10

#define DIF_INT64_MIN		((__s64)((__u64)1 << 63))

/* Page size used to split copyin()/copyinto() reads. */
#define DIF_PAGESIZE		4096

/*
 * A string being read in aligned chunks through dif_env_kload() (or
 * dif_env_uload() when user is set): see dif_str_byte().
 */
struct dif_strcur {
	__u64 addr;		/* start of the string */
	__u64 base;		/* address of buf[0] */
	__u32 n;		/* valid bytes in buf */
	int nullok;		/* a NULL string reads as "" */
	int user;		/* read user memory */
	__u8 buf[DIF_STRCHUNK];
};

static inline DIF_NOTRACE void dif_fault(struct dif_mstate *ms, __u16 flag,
					 __u64 illval)
{
	ms->flags |= flag;
	ms->illval = illval;
}

static inline DIF_NOTRACE __u64 dif_strsize(const struct dif_mstate *ms)
{
	return ms->strsize ? ms->strsize : DIF_STRSIZE_DEFAULT;
}

static inline DIF_NOTRACE void dif_strcur_init(struct dif_strcur *sc,
					       __u64 addr, int nullok)
{
	sc->addr = addr;
	sc->base = 0;
	sc->n = 0;
	sc->nullok = nullok;
	sc->user = 0;
}

/* Does [addr, addr + size) lie in the allocated part of scratch? */
static inline DIF_NOTRACE int dif_in_scratch(const struct dif_mstate *ms,
					     __u64 addr, __u64 size)
{
	__u64 end = ms->scratch_base + ms->scratch_used;

	return addr >= ms->scratch_base && addr <= end &&
	       size <= end - addr;
}

/* kmod/dif/emulate.c */

/* Byte i of a string; -1 with BADADDR (illval = its address) if unreadable. */
int dif_str_byte(struct dif_mstate *ms, struct dif_strcur *sc, __u64 i,
		 __u8 *c);
/* strlen(addr) bounded by lim; -1 (BADADDR) on an unreadable byte. */
int dif_strlen(struct dif_mstate *ms, __u64 addr, __u64 lim, __u64 *len);
/* Bump-allocate n zeroed, 8-aligned bytes of scratch; 0 + NOSCRATCH. */
__u64 dif_alloc(struct dif_mstate *ms, __u64 n);
/* Copy size bytes from readable memory src into allocated scratch dst. */
void dif_copy(struct dif_mstate *ms, __u64 dst, __u64 src, __u64 size);

/* kmod/dif/subr.c: call subr with the arguments tup[0 .. nt). */
__u64 dif_subr(struct dif_mstate *ms, __u32 subr, const struct dif_tuple *tup,
	       __u32 nt);

#endif /* _DTRACE_DIF_IMPL_H */

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

#endif /* _DTRACE_DIF_IMPL_H */

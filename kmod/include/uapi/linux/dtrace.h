/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pydtrace: the user/kernel contract of /dev/dtrace.
 *
 * This header is the only definition of the interface between the dtrace
 * module and user space, and of the DIF instruction set.  User space (the
 * cffi module of libdtrace, and through it Python) takes every number from
 * here; nothing is copied by hand.
 *
 * Device
 *   /dev/dtrace, mode 0600; open() also requires CAP_SYS_ADMIN.  Every open
 *   file is one independent consumer: its own enablings, EPIDs, options,
 *   per-CPU buffers and activity state.  Closing the file (also when the
 *   process is killed) stops tracing, disables everything the consumer
 *   enabled and frees all its memory.
 *
 * Protocol
 *   1. DTRACEIOC_CONF: DIF version and limits, number of CPU ids.
 *   2. DTRACEIOC_PROBES: list probes, iterating dtpd_id from 0 upward.
 *   3. DTRACEIOC_ENABLE: hand over one compiled program (struct
 *      dtrace_prog and what follows it, below).  Returns the number of
 *      probes matched in de_nmatched.  When the module refuses the
 *      program, the ioctl fails with EINVAL and de_err, de_ecb, de_difo
 *      and de_offset say why and where (DTRACE_EPROG_*).  It fails with
 *      E2BIG when the descriptions would arm more probes of a provider
 *      than it allows at once (fbt: 8192).  Several programs may be
 *      enabled before GO; their EPIDs continue one sequence.
 *   4. DTRACEIOC_EPROBE: the record layout of an EPID.
 *   5. DTRACEIOC_GO: fires dtrace:::BEGIN, returns its CPU.  Then
 *      DTRACEIOC_OPTGET tells the buffer sizes and rates the module chose
 *      (bufresize=auto may have lowered a size that did not fit).
 *   6. Loop: DTRACEIOC_STATUS (also tells the module the consumer is
 *      alive), DTRACEIOC_BUFSNAP on every CPU.  When dts_exiting is set
 *      (exit() ran), call DTRACEIOC_STOP.
 *   7. DTRACEIOC_STOP: fires dtrace:::END, returns its CPU; a last
 *      STATUS and BUFSNAP pass drains the buffers.
 *   DTRACEIOC_PROVIDE (any time, no consumer state): run every
 *      provider's provide operation on one exact struct dtrace_probedesc
 *      (dtpd_id must be zero, every string NUL-terminated, else EINVAL),
 *      so probes created on demand exist before ENABLE or PROBES looks
 *      for them.  The module cannot list kernel functions, so for an fbt
 *      glob user space reads the probeable functions from tracefs
 *      (available_filter_functions), matches the glob itself and calls
 *      PROVIDE with each exact fbt:<module>:<function>: it matches; a
 *      function kprobes refuses silently gets no probes.  Returns 0.
 *
 * ABI rules
 *   Every structure has fixed-width fields, explicit padding and __u64 for
 *   user pointers.  Reserved and padding fields must be zero (else EINVAL).
 *   Unknown ioctl commands fail with ENOTTY.  Offsets inside a program are
 *   byte offsets from the start of struct dtrace_prog.
 *
 * Principal buffer format
 *   Back-to-back ECB records.  Each starts with a __u32 EPID (0 =
 *   DTRACE_EPIDNONE is padding: skip 4 bytes), followed by the ECB's
 *   records at the offsets DTRACEIOC_EPROBE reports; dtepd_size bytes in
 *   all.  Records are aligned as their descriptions say.  The keys and
 *   values of aggregations are not in the principal buffer (DTRACEIOC_EPROBE
 *   does not list their records).
 *   Record header (per-record timestamps): every ECB record starts with a
 *   struct dtrace_rechdr (12 bytes, 4-aligned; its first word is the EPID
 *   above), so an ECB's records start at offset 12 or later.  Its timestamp
 *   is that firing's: the clock of the D variable `timestamp' (monotonic
 *   ns, CLOCK_MONOTONIC, ktime_get_mono_fast_ns()), the same value
 *   `timestamp' reads in that firing.  A speculative record keeps the time
 *   it fired when commit() copies it.  EPIDNONE padding words are
 *   unchanged (4 bytes each, no header).
 *
 * Aggregations (dtrace-internals.md 3.6)
 *   An aggregating action (DTRACEAGG_*) takes the ad_ntuple actions before
 *   it in its ECB description as its key (the first is the aggregation
 *   variable id; a last one whose DIFO returns void, size 0, is the
 *   increment argument of quantize/lquantize/llquantize).  Each
 *   (ECB, aggregating action) gets an aggregation id, 1 upward per consumer
 *   in EPID order.  DTRACEIOC_AGGDESC describes one: dtagd_epid, and the
 *   records of the keys (without the argument) followed by the value
 *   record, with offsets relative to the aggregation base (the u32
 *   aggregation id is at offset 0); dtagd_size bytes per record.
 *   lquantize ad_arg: step << 48 | levels << 32 | (u32)base; llquantize
 *   ad_arg: factor << 48 | low << 32 | high << 16 | nsteps.
 *
 * Aggregation buffer format (DTRACEIOC_AGGSNAP, struct dtrace_bufdesc)
 *   Each CPU aggregates into its own buffer (aggsize bytes, default 4m);
 *   a snapshot switches it, so every snapshot holds what that CPU
 *   aggregated since the previous one (the consumer adds them up).
 *   Back-to-back records, each 8-aligned, starting with its __u32
 *   aggregation id (0 = DTRACE_AGGIDNONE is padding: skip 4 bytes), then
 *   dtagd_size bytes in all: the keys at their offsets (strings zero-padded
 *   after their NUL), then the value in __u64 words:
 *     count, sum, min, max [v]; avg [n, sum]; stddev [n, sum, sumsq_lo,
 *     sumsq_hi]; quantize [127 buckets, 63 = zero]; lquantize [ad_arg,
 *     levels + 2 buckets]; llquantize [ad_arg, buckets].
 *   dtbd_drops counts the records that did not fit (aggregation drops).
 */
#ifndef _UAPI_LINUX_DTRACE_H
#define _UAPI_LINUX_DTRACE_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define DTRACE_ABI_VERSION	1

/*
 * ---------------------------------------------------------------------------
 * DIF: the instruction set (see dtrace-internals.md, section 1)
 * ---------------------------------------------------------------------------
 */
#define DIF_VERSION		2
#define DIF_DIR_NREGS		8	/* %r0 .. %r7; %r0 reads as 0 */
#define DIF_DTR_NREGS		8	/* tuple stack slots */

/* Instruction word: op 31..24, r1 23..16, r2 15..8, rd 7..0. */
#define DIF_INSTR_OP(i)		(((i) >> 24) & 0xff)
#define DIF_INSTR_R1(i)		(((i) >> 16) & 0xff)
#define DIF_INSTR_R2(i)		(((i) >> 8) & 0xff)
#define DIF_INSTR_RD(i)		((i) & 0xff)
#define DIF_INSTR_RS(i)		((i) & 0xff)
#define DIF_INSTR_LABEL(i)	((i) & 0xffffff)
#define DIF_INSTR_VAR(i)	(((i) >> 8) & 0xffff)
#define DIF_INSTR_INTEGER(i)	(((i) >> 8) & 0xffff)
#define DIF_INSTR_STRING(i)	(((i) >> 8) & 0xffff)
#define DIF_INSTR_SUBR(i)	(((i) >> 8) & 0xffff)
#define DIF_INSTR_TYPE(i)	(((i) >> 16) & 0xff)

#define DIF_INSTR_FMT(op, r1, r2, d) \
	(((__u32)(op) << 24) | ((__u32)(r1) << 16) | ((__u32)(r2) << 8) | \
	 (__u32)(d))

#define DIF_OP_OR	1	/* or	r1, r2, rd */
#define DIF_OP_XOR	2	/* xor	r1, r2, rd */
#define DIF_OP_AND	3	/* and	r1, r2, rd */
#define DIF_OP_SLL	4	/* sll	r1, r2, rd */
#define DIF_OP_SRL	5	/* srl	r1, r2, rd */
#define DIF_OP_SUB	6	/* sub	r1, r2, rd */
#define DIF_OP_ADD	7	/* add	r1, r2, rd */
#define DIF_OP_MUL	8	/* mul	r1, r2, rd */
#define DIF_OP_SDIV	9	/* sdiv	r1, r2, rd */
#define DIF_OP_UDIV	10	/* udiv	r1, r2, rd */
#define DIF_OP_SREM	11	/* srem	r1, r2, rd */
#define DIF_OP_UREM	12	/* urem	r1, r2, rd */
#define DIF_OP_NOT	13	/* not	r1, rd */
#define DIF_OP_MOV	14	/* mov	r1, rd */
#define DIF_OP_CMP	15	/* cmp	r1, r2 */
#define DIF_OP_TST	16	/* tst	r1 */
#define DIF_OP_BA	17	/* ba	label */
#define DIF_OP_BE	18	/* be	label */
#define DIF_OP_BNE	19	/* bne	label */
#define DIF_OP_BG	20	/* bg	label */
#define DIF_OP_BGU	21	/* bgu	label */
#define DIF_OP_BGE	22	/* bge	label */
#define DIF_OP_BGEU	23	/* bgeu	label */
#define DIF_OP_BL	24	/* bl	label */
#define DIF_OP_BLU	25	/* blu	label */
#define DIF_OP_BLE	26	/* ble	label */
#define DIF_OP_BLEU	27	/* bleu	label */
#define DIF_OP_LDSB	28	/* ldsb	[r1], rd */
#define DIF_OP_LDSH	29	/* ldsh	[r1], rd */
#define DIF_OP_LDSW	30	/* ldsw	[r1], rd */
#define DIF_OP_LDUB	31	/* ldub	[r1], rd */
#define DIF_OP_LDUH	32	/* lduh	[r1], rd */
#define DIF_OP_LDUW	33	/* lduw	[r1], rd */
#define DIF_OP_LDX	34	/* ldx	[r1], rd */
#define DIF_OP_RET	35	/* ret	rd */
#define DIF_OP_NOP	36	/* nop */
#define DIF_OP_SETX	37	/* setx	intindex, rd */
#define DIF_OP_SETS	38	/* sets	stroffset, rd */
#define DIF_OP_SCMP	39	/* scmp	r1, r2 */
#define DIF_OP_LDGA	40	/* ldga	var, ri, rd */
#define DIF_OP_LDGS	41	/* ldgs	var, rd */
#define DIF_OP_STGS	42	/* stgs	var, rs */
#define DIF_OP_LDTA	43	/* ldta	var, ri, rd */
#define DIF_OP_LDTS	44	/* ldts	var, rd */
#define DIF_OP_STTS	45	/* stts	var, rs */
#define DIF_OP_SRA	46	/* sra	r1, r2, rd */
#define DIF_OP_CALL	47	/* call	subr, rd */
#define DIF_OP_PUSHTR	48	/* pushtr type, rs, rv */
#define DIF_OP_PUSHTV	49	/* pushtv type, rs, rv */
#define DIF_OP_POPTS	50	/* popts */
#define DIF_OP_FLUSHTS	51	/* flushts */
#define DIF_OP_LDGAA	52	/* ldgaa var, rd */
#define DIF_OP_LDTAA	53	/* ldtaa var, rd */
#define DIF_OP_STGAA	54	/* stgaa var, rs */
#define DIF_OP_STTAA	55	/* sttaa var, rs */
#define DIF_OP_LDLS	56	/* ldls	var, rd */
#define DIF_OP_STLS	57	/* stls	var, rs */
#define DIF_OP_ALLOCS	58	/* allocs r1, rd */
#define DIF_OP_COPYS	59	/* copys r1, r2, rd */
#define DIF_OP_STB	60	/* stb	r1, [rd] */
#define DIF_OP_STH	61	/* sth	r1, [rd] */
#define DIF_OP_STW	62	/* stw	r1, [rd] */
#define DIF_OP_STX	63	/* stx	r1, [rd] */
#define DIF_OP_ULDSB	64	/* uldsb [r1], rd */
#define DIF_OP_ULDSH	65	/* uldsh [r1], rd */
#define DIF_OP_ULDSW	66	/* uldsw [r1], rd */
#define DIF_OP_ULDUB	67	/* uldub [r1], rd */
#define DIF_OP_ULDUH	68	/* ulduh [r1], rd */
#define DIF_OP_ULDUW	69	/* ulduw [r1], rd */
#define DIF_OP_ULDX	70	/* uldx	[r1], rd */
#define DIF_OP_RLDSB	71	/* rldsb [r1], rd */
#define DIF_OP_RLDSH	72	/* rldsh [r1], rd */
#define DIF_OP_RLDSW	73	/* rldsw [r1], rd */
#define DIF_OP_RLDUB	74	/* rldub [r1], rd */
#define DIF_OP_RLDUH	75	/* rlduh [r1], rd */
#define DIF_OP_RLDUW	76	/* rlduw [r1], rd */
#define DIF_OP_RLDX	77	/* rldx	[r1], rd */
#define DIF_OP_XLATE	78	/* compiler internal; illegal in the kernel */
#define DIF_OP_XLARG	79	/* compiler internal; illegal in the kernel */
#define DIF_OP_MAX	79

#define DIF_INTOFF_MAX		0xffff
#define DIF_STROFF_MAX		0xffff
#define DIF_REGISTER_MAX	0xff
#define DIF_VARIABLE_MAX	0xffff
#define DIF_SUBROUTINE_MAX	0xffff

/* Tuple element types (pushtr/pushtv "type" field). */
#define DIF_TYPE_CTF		0
#define DIF_TYPE_STRING		1

/* Variable id space. */
#define DIF_VAR_ARRAY_MIN	0x0000
#define DIF_VAR_ARRAY_UBASE	0x0080
#define DIF_VAR_ARRAY_MAX	0x00ff
#define DIF_VAR_OTHER_MIN	0x0100
#define DIF_VAR_OTHER_UBASE	0x0500
#define DIF_VAR_OTHER_MAX	0xffff

/* Built-in variables. */
#define DIF_VAR_ARGS		0x0000
#define DIF_VAR_REGS		0x0001
#define DIF_VAR_UREGS		0x0002
#define DIF_VAR_CURTHREAD	0x0100
#define DIF_VAR_TIMESTAMP	0x0101
#define DIF_VAR_VTIMESTAMP	0x0102
#define DIF_VAR_IPL		0x0103
#define DIF_VAR_EPID		0x0104
#define DIF_VAR_ID		0x0105
#define DIF_VAR_ARG0		0x0106
#define DIF_VAR_ARG1		0x0107
#define DIF_VAR_ARG2		0x0108
#define DIF_VAR_ARG3		0x0109
#define DIF_VAR_ARG4		0x010a
#define DIF_VAR_ARG5		0x010b
#define DIF_VAR_ARG6		0x010c
#define DIF_VAR_ARG7		0x010d
#define DIF_VAR_ARG8		0x010e
#define DIF_VAR_ARG9		0x010f
#define DIF_VAR_STACKDEPTH	0x0110
#define DIF_VAR_CALLER		0x0111
#define DIF_VAR_PROBEPROV	0x0112
#define DIF_VAR_PROBEMOD	0x0113
#define DIF_VAR_PROBEFUNC	0x0114
#define DIF_VAR_PROBENAME	0x0115
#define DIF_VAR_PID		0x0116
#define DIF_VAR_TID		0x0117
#define DIF_VAR_EXECNAME	0x0118
#define DIF_VAR_ZONENAME	0x0119
#define DIF_VAR_WALLTIMESTAMP	0x011a
#define DIF_VAR_USTACKDEPTH	0x011b
#define DIF_VAR_UCALLER		0x011c
#define DIF_VAR_PPID		0x011d
#define DIF_VAR_UID		0x011e
#define DIF_VAR_GID		0x011f
#define DIF_VAR_ERRNO		0x0120
#define DIF_VAR_CURCPU		0x0121
#define DIF_VAR_CPU		0x0122	/* pydtrace: current CPU id */

/* Subroutines (0..43 as in every DTrace; above that pydtrace's own). */
#define DIF_SUBR_RAND			0
#define DIF_SUBR_MUTEX_OWNED		1
#define DIF_SUBR_MUTEX_OWNER		2
#define DIF_SUBR_MUTEX_TYPE_ADAPTIVE	3
#define DIF_SUBR_MUTEX_TYPE_SPIN	4
#define DIF_SUBR_RW_READ_HELD		5
#define DIF_SUBR_RW_WRITE_HELD		6
#define DIF_SUBR_RW_ISWRITER		7
#define DIF_SUBR_COPYIN			8
#define DIF_SUBR_COPYINSTR		9
#define DIF_SUBR_SPECULATION		10
#define DIF_SUBR_PROGENYOF		11
#define DIF_SUBR_STRLEN			12
#define DIF_SUBR_COPYOUT		13
#define DIF_SUBR_COPYOUTSTR		14
#define DIF_SUBR_ALLOCA			15
#define DIF_SUBR_BCOPY			16
#define DIF_SUBR_COPYINTO		17
#define DIF_SUBR_MSGDSIZE		18
#define DIF_SUBR_MSGSIZE		19
#define DIF_SUBR_GETMAJOR		20
#define DIF_SUBR_GETMINOR		21
#define DIF_SUBR_DDI_PATHNAME		22
#define DIF_SUBR_STRJOIN		23
#define DIF_SUBR_LLTOSTR		24
#define DIF_SUBR_BASENAME		25
#define DIF_SUBR_DIRNAME		26
#define DIF_SUBR_CLEANPATH		27
#define DIF_SUBR_STRCHR			28
#define DIF_SUBR_STRRCHR		29
#define DIF_SUBR_STRSTR			30
#define DIF_SUBR_STRTOK			31
#define DIF_SUBR_SUBSTR			32
#define DIF_SUBR_INDEX			33
#define DIF_SUBR_RINDEX			34
#define DIF_SUBR_HTONS			35
#define DIF_SUBR_HTONL			36
#define DIF_SUBR_HTONLL			37
#define DIF_SUBR_NTOHS			38
#define DIF_SUBR_NTOHL			39
#define DIF_SUBR_NTOHLL			40
#define DIF_SUBR_INET_NTOP		41
#define DIF_SUBR_INET_NTOA		42
#define DIF_SUBR_INET_NTOA6		43
#define DIF_SUBR_TOUPPER		44
#define DIF_SUBR_TOLOWER		45
#define DIF_SUBR_GETF			46
#define DIF_SUBR_JSON			47
#define DIF_SUBR_STRTOLL		48
#define DIF_SUBR_D_PATH			49
#define DIF_SUBR_MAX			49

/* struct dtrace_diftype: the type of a DIFO's result or of a variable. */
#define DIF_TYPE_KIND_CTF	0
#define DIF_TYPE_KIND_STRING	1
#define DIF_TF_BYREF		0x1	/* value is an address of dtdt_size bytes */
#define DIF_TF_BYUREF		0x2	/* ... of user memory */

struct dtrace_diftype {
	__u8 dtdt_kind;		/* DIF_TYPE_KIND_* */
	__u8 dtdt_ckind;	/* CTF kind, informational */
	__u8 dtdt_flags;	/* DIF_TF_* */
	__u8 dtdt_pad;		/* must be zero */
	__u32 dtdt_size;	/* bytes; 0 = void */
};

#define DIFV_KIND_ARRAY		0
#define DIFV_KIND_SCALAR	1
#define DIFV_SCOPE_GLOBAL	0
#define DIFV_SCOPE_THREAD	1
#define DIFV_SCOPE_LOCAL	2
#define DIFV_F_REF		0x1
#define DIFV_F_MOD		0x2

/* One entry of a DIFO's variable table (20 bytes). */
struct dtrace_difv {
	__u32 dtdv_name;	/* offset of the name in the DIFO string table */
	__u32 dtdv_id;		/* variable id */
	__u8 dtdv_kind;		/* DIFV_KIND_* */
	__u8 dtdv_scope;	/* DIFV_SCOPE_* */
	__u16 dtdv_flags;	/* DIFV_F_* */
	struct dtrace_diftype dtdv_type;
};

/*
 * ---------------------------------------------------------------------------
 * Faults (reported to the ERROR probe as arg4)
 * ---------------------------------------------------------------------------
 */
#define DTRACEFLT_UNKNOWN	0
#define DTRACEFLT_BADADDR	1
#define DTRACEFLT_BADALIGN	2
#define DTRACEFLT_ILLOP		3
#define DTRACEFLT_DIVZERO	4
#define DTRACEFLT_NOSCRATCH	5
#define DTRACEFLT_KPRIV		6
#define DTRACEFLT_UPRIV		7
#define DTRACEFLT_TUPOFLOW	8
#define DTRACEFLT_BADSTACK	9
#define DTRACEFLT_LIBRARY	1000

/*
 * ---------------------------------------------------------------------------
 * Actions and records (section 3)
 * ---------------------------------------------------------------------------
 */
#define DTRACEACT_NONE			0
#define DTRACEACT_DIFEXPR		1	/* trace(), expression */
#define DTRACEACT_EXIT			2	/* exit(); 4-byte record */
#define DTRACEACT_PRINTF		3	/* one per argument */
#define DTRACEACT_PRINTA		4
#define DTRACEACT_LIBACT		5
#define DTRACEACT_TRACEMEM		6
#define DTRACEACT_TRACEMEM_DYNSIZE	7

#define DTRACEACT_PROC			0x0100
#define DTRACEACT_USTACK		(DTRACEACT_PROC + 1)
#define DTRACEACT_JSTACK		(DTRACEACT_PROC + 2)
#define DTRACEACT_USYM			(DTRACEACT_PROC + 3)
#define DTRACEACT_UMOD			(DTRACEACT_PROC + 4)
#define DTRACEACT_UADDR			(DTRACEACT_PROC + 5)

#define DTRACEACT_PROC_DESTRUCTIVE	0x0200
#define DTRACEACT_STOP			(DTRACEACT_PROC_DESTRUCTIVE + 1)
#define DTRACEACT_RAISE			(DTRACEACT_PROC_DESTRUCTIVE + 2)
#define DTRACEACT_SYSTEM		(DTRACEACT_PROC_DESTRUCTIVE + 3)
#define DTRACEACT_FREOPEN		(DTRACEACT_PROC_DESTRUCTIVE + 4)

#define DTRACEACT_PROC_CONTROL		0x0300

#define DTRACEACT_KERNEL		0x0400
#define DTRACEACT_STACK			(DTRACEACT_KERNEL + 1)
#define DTRACEACT_SYM			(DTRACEACT_KERNEL + 2)
#define DTRACEACT_MOD			(DTRACEACT_KERNEL + 3)

#define DTRACEACT_KERNEL_DESTRUCTIVE	0x0500
#define DTRACEACT_BREAKPOINT		(DTRACEACT_KERNEL_DESTRUCTIVE + 1)
#define DTRACEACT_PANIC			(DTRACEACT_KERNEL_DESTRUCTIVE + 2)
#define DTRACEACT_CHILL			(DTRACEACT_KERNEL_DESTRUCTIVE + 3)

#define DTRACEACT_SPECULATIVE		0x0600
#define DTRACEACT_SPECULATE		(DTRACEACT_SPECULATIVE + 1)
#define DTRACEACT_COMMIT		(DTRACEACT_SPECULATIVE + 2)
#define DTRACEACT_DISCARD		(DTRACEACT_SPECULATIVE + 3)

#define DTRACEACT_AGGREGATION		0x0700
#define DTRACEAGG_COUNT			(DTRACEACT_AGGREGATION + 1)
#define DTRACEAGG_MIN			(DTRACEACT_AGGREGATION + 2)
#define DTRACEAGG_MAX			(DTRACEACT_AGGREGATION + 3)
#define DTRACEAGG_AVG			(DTRACEACT_AGGREGATION + 4)
#define DTRACEAGG_SUM			(DTRACEACT_AGGREGATION + 5)
#define DTRACEAGG_STDDEV		(DTRACEACT_AGGREGATION + 6)
#define DTRACEAGG_QUANTIZE		(DTRACEACT_AGGREGATION + 7)
#define DTRACEAGG_LQUANTIZE		(DTRACEACT_AGGREGATION + 8)
#define DTRACEAGG_LLQUANTIZE		(DTRACEACT_AGGREGATION + 9)

#define DTRACEACT_CLASS(x)		((x) & 0xff00)

/*
 * Library actions: the ad_arg of a DTRACEACT_LIBACT action.  The module
 * only records them; the compiler and the consumer agree on them here.
 * Each is a pair of LIBACT records with the same code, except clear and
 * denormalize (one record):
 *   clear(@a)        CLEAR: aggregation variable id (8 bytes)
 *   denormalize(@a)  DENORMALIZE: aggregation variable id
 *   normalize(@a, n) NORMALIZE: id, then NORMALIZE: n
 *   trunc(@a[, n])   TRUNC: id, then TRUNC: n (0 = remove all)
 *   setopt(o[, v])   SETOPT: option name (string), then SETOPT: the value
 *                    (string), or an 8-byte 0 when none was given
 */
#define DTRACE_LIBACT_CLEAR		1
#define DTRACE_LIBACT_NORMALIZE		2
#define DTRACE_LIBACT_DENORMALIZE	3
#define DTRACE_LIBACT_TRUNC		4
#define DTRACE_LIBACT_SETOPT		5

#define DTRACE_EPIDNONE		0
#define DTRACE_AGGIDNONE	0
#define DTRACE_IDNONE		0
#define DTRACE_NONE		0xffffffffU	/* "no index" in a program */

/* One record of an ECB (32 bytes). */
struct dtrace_recdesc {
	__u16 dtrd_action;	/* DTRACEACT_* */
	__u16 dtrd_pad;
	__u32 dtrd_size;	/* bytes of data */
	__u32 dtrd_offset;	/* from the start of the ECB record (header at 0) */
	__u16 dtrd_alignment;
	__u16 dtrd_format;	/* the action's ad_format, passed through */
	__u64 dtrd_arg;		/* the action's ad_arg */
	__u64 dtrd_uarg;	/* the action's ad_uarg */
};

/*
 * Per-record timestamps: the header of every ECB record in the principal
 * (and speculative) buffers, as illumos' dtrace_rechdr_t.  The timestamp
 * is split into two words so the header stays 4-aligned:
 * timestamp = (__u64)dtrh_timestamp_hi << 32 | dtrh_timestamp_lo.
 */
struct dtrace_rechdr {
	__u32 dtrh_epid;		/* the EPID (never DTRACE_EPIDNONE) */
	__u32 dtrh_timestamp_hi;	/* high 32 bits of the firing's time */
	__u32 dtrh_timestamp_lo;	/* low 32 bits */
};

/*
 * ---------------------------------------------------------------------------
 * Options (section 4.9); values of ids the module does not enforce are kept
 * for the consumer and otherwise ignored.
 * ---------------------------------------------------------------------------
 */
#define DTRACEOPT_BUFSIZE	0
#define DTRACEOPT_BUFPOLICY	1
#define DTRACEOPT_DYNVARSIZE	2
#define DTRACEOPT_AGGSIZE	3
#define DTRACEOPT_SPECSIZE	4
#define DTRACEOPT_NSPEC		5
#define DTRACEOPT_STRSIZE	6
#define DTRACEOPT_CLEANRATE	7
#define DTRACEOPT_CPU		8
#define DTRACEOPT_BUFRESIZE	9
#define DTRACEOPT_GRABANON	10
#define DTRACEOPT_FLOWINDENT	11
#define DTRACEOPT_QUIET		12
#define DTRACEOPT_STACKFRAMES	13
#define DTRACEOPT_USTACKFRAMES	14
#define DTRACEOPT_AGGRATE	15
#define DTRACEOPT_SWITCHRATE	16
#define DTRACEOPT_STATUSRATE	17
#define DTRACEOPT_DESTRUCTIVE	18
#define DTRACEOPT_STACKINDENT	19
#define DTRACEOPT_RAWBYTES	20
#define DTRACEOPT_JSTACKFRAMES	21
#define DTRACEOPT_JSTACKSTRSIZE	22
#define DTRACEOPT_AGGSORTKEY	23
#define DTRACEOPT_AGGSORTREV	24
#define DTRACEOPT_AGGSORTPOS	25
#define DTRACEOPT_AGGSORTKEYPOS	26
#define DTRACEOPT_MAX		27

#define DTRACEOPT_UNSET		((__s64)-2)
#define DTRACEOPT_BUFPOLICY_RING	0
#define DTRACEOPT_BUFPOLICY_FILL	1
#define DTRACEOPT_BUFPOLICY_SWITCH	2

/*
 * ---------------------------------------------------------------------------
 * Programs: the argument of DTRACEIOC_ENABLE
 * ---------------------------------------------------------------------------
 *
 * One contiguous, 8-aligned byte buffer of dp_size bytes:
 *
 *   struct dtrace_prog            header, at offset 0
 *   struct dtrace_ecbdesc[]       at dp_ecboff, dp_necbs entries
 *   struct dtrace_actdesc[]       at dp_actoff, dp_nacts entries
 *   struct dtrace_difodesc[]      at dp_difooff, dp_ndifos entries
 *   struct dtrace_optdesc[]       at dp_optoff, dp_nopts entries
 *   data                          DIF text (4-aligned), integer tables
 *                                 (8-aligned), string and variable tables
 *
 * Each ECB description names a probe pattern, an optional predicate DIFO
 * and a run of actions [ed_act, ed_act + ed_nacts).  DIFOs may be shared.
 * An action's ad_format is an opaque number the module only passes
 * through into dtrd_format (the consumer keeps the format strings).
 * Every count, offset and size is checked against dp_size; string tables
 * must end with NUL; every DIFO is validated before anything is enabled.
 * A program is all-or-nothing: on any error nothing of it stays enabled.
 */
#define DTRACE_PROG_MAGIC	0x50525444U	/* "DTRP" */
#define DTRACE_PROG_VERSION	1
#define DTRACE_PROG_MAXSIZE	(1U << 20)
#define DTRACE_PROG_MAXECBS	4096
#define DTRACE_PROG_MAXACTS	16384
#define DTRACE_DIFO_MAXLEN	65536	/* instructions per DIFO */

#define DTRACE_PROVNAMELEN	64
#define DTRACE_MODNAMELEN	64
#define DTRACE_FUNCNAMELEN	128
#define DTRACE_NAMELEN		64

/* A probe, or a probe pattern (globs; empty field = any). 324 bytes. */
struct dtrace_probedesc {
	__u32 dtpd_id;
	char dtpd_provider[DTRACE_PROVNAMELEN];
	char dtpd_mod[DTRACE_MODNAMELEN];
	char dtpd_func[DTRACE_FUNCNAMELEN];
	char dtpd_name[DTRACE_NAMELEN];
};

struct dtrace_prog {
	__u32 dp_magic;		/* DTRACE_PROG_MAGIC */
	__u32 dp_version;	/* DTRACE_PROG_VERSION */
	__u32 dp_size;		/* total bytes, header included */
	__u32 dp_flags;		/* must be zero */
	__u32 dp_necbs;
	__u32 dp_ecboff;
	__u32 dp_nacts;
	__u32 dp_actoff;
	__u32 dp_ndifos;
	__u32 dp_difooff;
	__u32 dp_nopts;
	__u32 dp_optoff;
	__u32 dp_reserved[4];	/* must be zero */
};

struct dtrace_ecbdesc {
	__u32 ed_pred;		/* DIFO index, or DTRACE_NONE */
	__u32 ed_act;		/* index of the first action */
	__u32 ed_nacts;		/* number of actions (may be 0) */
	__u32 ed_pad;		/* must be zero */
	__u64 ed_uarg;		/* returned as dtepd_uarg */
	struct dtrace_probedesc ed_probe;	/* dtpd_id must be zero */
	__u32 ed_pad2;		/* must be zero */
};

struct dtrace_actdesc {
	__u32 ad_difo;		/* DIFO index, or DTRACE_NONE */
	__u16 ad_kind;		/* DTRACEACT_* */
	__u16 ad_ntuple;	/* aggregations: preceding tuple members */
	__u32 ad_format;	/* passed through to dtrd_format; 0 = none */
	__u32 ad_pad;		/* must be zero */
	__u64 ad_arg;		/* kind-specific argument */
	__u64 ad_uarg;		/* passed through to dtrd_uarg */
};

struct dtrace_difodesc {
	struct dtrace_diftype dd_rtype;	/* type of the result */
	__u32 dd_textoff;	/* DIF instructions, 4-aligned */
	__u32 dd_textlen;	/* number of instructions */
	__u32 dd_intoff;	/* integer table, 8-aligned */
	__u32 dd_intlen;	/* number of __u64 entries */
	__u32 dd_stroff;	/* string table */
	__u32 dd_strlen;	/* bytes; last byte NUL if non-zero */
	__u32 dd_varoff;	/* variable table, 4-aligned */
	__u32 dd_varlen;	/* number of struct dtrace_difv */
};

struct dtrace_optdesc {
	__u32 do_option;	/* DTRACEOPT_* */
	__u32 do_pad;		/* must be zero */
	__s64 do_value;
};

/* Why the module refused a program (de_err). */
#define DTRACE_EPROG_NONE	0
#define DTRACE_EPROG_HEADER	1	/* bad magic, version, size, flags */
#define DTRACE_EPROG_BOUNDS	2	/* a table lies outside the program */
#define DTRACE_EPROG_ALIGN	3	/* a table is misaligned */
#define DTRACE_EPROG_RESERVED	4	/* a reserved or pad field is not 0 */
#define DTRACE_EPROG_ECB	5	/* bad ECB description */
#define DTRACE_EPROG_ACTION	6	/* bad action description */
#define DTRACE_EPROG_OPTION	7	/* bad option */
#define DTRACE_EPROG_STRTAB	8	/* string table not NUL-terminated */
#define DTRACE_EPROG_DIFO	9	/* bad DIFO description */
#define DTRACE_EPROG_OPCODE	10	/* invalid opcode */
#define DTRACE_EPROG_REG	11	/* register out of range */
#define DTRACE_EPROG_R0	12	/* write to %r0 */
#define DTRACE_EPROG_RSVBITS	13	/* non-zero reserved bits */
#define DTRACE_EPROG_BRANCH	14	/* invalid or backward branch */
#define DTRACE_EPROG_INTIDX	15	/* integer table index out of range */
#define DTRACE_EPROG_STRIDX	16	/* string offset out of range */
#define DTRACE_EPROG_VAR	17	/* bad or undeclared variable */
#define DTRACE_EPROG_SUBR	18	/* bad subroutine */
#define DTRACE_EPROG_RET	19	/* missing ret, or bad return type */
#define DTRACE_EPROG_TUPLE	20	/* bad tuple type */
#define DTRACE_EPROG_VARTAB	21	/* bad variable table entry */
#define DTRACE_EPROG_NOMEM	22	/* out of memory (ioctl fails ENOMEM) */
#define DTRACE_EPROG_MAX	22

struct dtrace_enable {
	__u64 de_prog;		/* in: user pointer to the program */
	__u32 de_size;		/* in: bytes at de_prog (== dp_size) */
	__u32 de_nmatched;	/* out: probes matched */
	__u32 de_err;		/* out: DTRACE_EPROG_* */
	__u32 de_ecb;		/* out: ECB index, or DTRACE_NONE */
	__u32 de_difo;		/* out: DIFO index, or DTRACE_NONE */
	__u32 de_offset;	/* out: DIF byte offset, or DTRACE_NONE */
	__u32 de_reserved[4];	/* must be zero */
};

/*
 * ---------------------------------------------------------------------------
 * Other ioctl arguments
 * ---------------------------------------------------------------------------
 */
struct dtrace_conf {
	__u32 dtc_abiversion;	/* DTRACE_ABI_VERSION */
	__u32 dtc_difversion;	/* DIF_VERSION */
	__u32 dtc_difintregs;	/* DIF_DIR_NREGS */
	__u32 dtc_diftupregs;	/* DIF_DTR_NREGS */
	__u32 dtc_maxcpus;	/* number of possible CPU ids */
	__u32 dtc_pad;
	__u64 dtc_reserved[4];
};

/* Snapshot of one CPU's principal buffer. */
struct dtrace_bufdesc {
	__u64 dtbd_data;	/* in: user pointer */
	__u64 dtbd_size;	/* in: capacity; out: bytes copied */
	__u32 dtbd_cpu;		/* in: CPU id */
	__u32 dtbd_errors;	/* out: errors in this interval */
	__u64 dtbd_drops;	/* out: drops in this interval */
	__u64 dtbd_oldest;	/* out: offset of the oldest record */
	__u64 dtbd_timestamp;	/* out: ns when the snapshot was taken */
};

/* Layout of an EPID's records. */
struct dtrace_eprobedesc {
	__u32 dtepd_epid;	/* in */
	__u32 dtepd_probeid;	/* out */
	__u64 dtepd_uarg;	/* out: the ECB description's ed_uarg */
	__u32 dtepd_size;	/* out: bytes of the whole ECB record */
	__u32 dtepd_nrecs;	/* in: capacity of dtepd_recs; out: count */
	__u64 dtepd_recs;	/* in: user pointer to dtrace_recdesc[] */
};

/* Layout of an aggregation id (DTRACEIOC_AGGDESC). */
struct dtrace_aggdesc {
	__u32 dtagd_id;		/* in: aggregation id */
	__u32 dtagd_epid;	/* out: the ECB that aggregates */
	__u32 dtagd_size;	/* out: bytes of one aggregation record */
	__u32 dtagd_nrecs;	/* in: capacity of dtagd_recs; out: count */
	__u64 dtagd_recs;	/* in: user pointer to dtrace_recdesc[] */
};

/*
 * DTRACEIOC_OPTGET: the consumer's option values, DTRACEOPT_UNSET for those
 * never set.  After GO they are what the module chose: the buffer sizes
 * actually allocated (bufsize, aggsize, specsize, dynvarsize, lowered by
 * bufresize=auto; aggsize and specsize 0 when nothing aggregates or
 * speculates), cleanrate clamped, statusrate capped.
 */
struct dtrace_optget {
	__u64 dtog_values;	/* in: user pointer to __s64[dtog_nopts] */
	__u32 dtog_nopts;	/* in: capacity; out: DTRACEOPT_MAX */
	__u32 dtog_pad;		/* must be zero */
};

/* Activity states of a consumer. */
#define DTRACE_ACTIVITY_INACTIVE	0
#define DTRACE_ACTIVITY_WARMUP		1
#define DTRACE_ACTIVITY_ACTIVE		2
#define DTRACE_ACTIVITY_DRAINING	3
#define DTRACE_ACTIVITY_COOLDOWN	4
#define DTRACE_ACTIVITY_STOPPED		5
#define DTRACE_ACTIVITY_KILLED		6

struct dtrace_status {
	__u64 dtst_dyndrops;
	__u64 dtst_dyndrops_rinsing;
	__u64 dtst_dyndrops_dirty;
	__u64 dtst_specdrops;
	__u64 dtst_specdrops_busy;
	__u64 dtst_specdrops_unavail;
	__u64 dtst_errors;
	__u64 dtst_filled;
	__u64 dtst_stkstroverflows;
	__u64 dtst_dblerrors;
	__u8 dtst_killed;
	__u8 dtst_exiting;
	__u8 dtst_activity;	/* DTRACE_ACTIVITY_* */
	__u8 dtst_pad[5];
};

/*
 * DTRACEIOC_FBTPROVIDE: create the fbt probes of kernel functions user
 * space names with their addresses (from /proc/kallsyms), many per call.
 * The module creates fbt:<module>:<func>:entry and :return for an entry
 * only when its own symbol table names func at exactly that address (the
 * module it reports becomes the probe's module); other entries are
 * skipped.  dtfp_count is at most DTRACE_FBTPROVIDE_MAX; dtfp_created
 * says how many functions got new probes.
 */
struct dtrace_fbtfunc {
	__u64 dtff_addr;
	char dtff_func[DTRACE_FUNCNAMELEN];	/* NUL-terminated */
};

#define DTRACE_FBTPROVIDE_MAX	4096

struct dtrace_fbtprovide {
	__u64 dtfp_funcs;	/* in: user pointer to dtfp_count entries */
	__u32 dtfp_count;	/* in */
	__u32 dtfp_created;	/* out */
};

/*
 * ---------------------------------------------------------------------------
 * ioctl commands (magic 0xd4, numbers as in DTrace)
 * ---------------------------------------------------------------------------
 */
#define DTRACEIOC		0xd4
#define DTRACEIOC_PROBES	_IOWR(DTRACEIOC, 2, struct dtrace_probedesc)
#define DTRACEIOC_BUFSNAP	_IOWR(DTRACEIOC, 4, struct dtrace_bufdesc)
#define DTRACEIOC_ENABLE	_IOWR(DTRACEIOC, 6, struct dtrace_enable)
#define DTRACEIOC_EPROBE	_IOWR(DTRACEIOC, 8, struct dtrace_eprobedesc)
#define DTRACEIOC_CONF		_IOR(DTRACEIOC, 10, struct dtrace_conf)
#define DTRACEIOC_STATUS	_IOR(DTRACEIOC, 11, struct dtrace_status)
#define DTRACEIOC_GO		_IOR(DTRACEIOC, 12, __u32)
#define DTRACEIOC_STOP		_IOR(DTRACEIOC, 13, __u32)
#define DTRACEIOC_AGGSNAP	_IOWR(DTRACEIOC, 7, struct dtrace_bufdesc)
#define DTRACEIOC_AGGDESC	_IOWR(DTRACEIOC, 15, struct dtrace_aggdesc)
#define DTRACEIOC_PROVIDE	_IOW(DTRACEIOC, 16, struct dtrace_probedesc)
/*
 * The first probe whose id is >= dtpd_id (0: from the first, after letting
 * every provider create its probes, as PROBES) that the description's
 * fields match (DTrace's globs; an empty field matches anything): -ESRCH
 * when none does, -EINVAL when a field is not NUL-terminated.
 */
#define DTRACEIOC_PROBEMATCH	_IOWR(DTRACEIOC, 3, struct dtrace_probedesc)
#define DTRACEIOC_OPTGET	_IOWR(DTRACEIOC, 17, struct dtrace_optget)
#define DTRACEIOC_FBTPROVIDE	_IOWR(DTRACEIOC, 18, struct dtrace_fbtprovide)

#endif /* _UAPI_LINUX_DTRACE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the DIF validator and interpreter: random DIFOs go through
 * dif_validate(), and the accepted ones through dif_emulate().  Nothing
 * may crash, hang or touch memory outside the arena the host environment
 * is told is valid (under ASan/UBSan any such access aborts).
 *
 * libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -I kmod/include/uapi -I kmod/dif tests/fuzz/fuzz_dif.c \
 *     kmod/dif/validate.c kmod/dif/emulate.c kmod/dif/subr.c \
 *     libdtrace/host/dif_env_host.c -o fuzz_dif && \
 *     ./fuzz_dif -max_total_time=60
 * Without clang, a standalone random driver:
 *   gcc -g -O1 -fsanitize=address,undefined -DFUZZ_STANDALONE ... \
 *     -o fuzz_dif && ./fuzz_dif 200000
 *
 * Input layout: byte 0 = number of integers (low 4 bits), byte 1 = number
 * of variables (low 3 bits), byte 2 = string table length (low 5 bits),
 * then the integers (8 bytes each; a set top bit turns one into an
 * address inside the arena), the variables (4 bytes: id low byte, scope,
 * kind, flags), the string table, and the rest is DIF text.
 *
 * The first DATA_SIZE bytes of the arena are filled from the input with
 * path-like characters and NULs, so that string subroutines see strings.
 * Global 0x501 and clause-local 0x502 are by reference, with their storage
 * (8-byte header, then the data) in the arena at VAR_OFF, so stores
 * through pointers into static variables are exercised too.  After each
 * run every arena byte outside scratch space and that storage must be as
 * it was (the interpreter writes nowhere else).  Thread-local 0x503 is
 * by reference too (12 bytes), so stores into dynamic variables are
 * exercised: the bytes of every dynamic variable past its data must stay
 * 0 (dif_host_dvar_tails_clean()).  Seeds copy (copys) exactly each
 * variable's data and one byte more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "dif.h"

void dif_host_set_valid_range(__u64 lo, __u64 hi);
void dif_host_reset(void);
int dif_host_dvar_tails_clean(void);
int dif_host_set_builtin(__u32 id, __u64 value);

#define ARENA_SIZE	4096
#define DATA_SIZE	1024
#define SCRATCH_OFF	1024
#define SCRATCH_SIZE	1024
#define MAXTEXT		256
/* by-ref variable storage: global 0x501 (16 bytes), local 0x502 (8) */
#define VAR_OFF		3072
#define GVAR_SIZE	16
#define LVAR_OFF	(VAR_OFF + 8 + GVAR_SIZE)
#define LVAR_SIZE	8
#define VAR_END		(LVAR_OFF + 8 + LVAR_SIZE)

static __u64 arena[ARENA_SIZE / 8];
static __u8 before[ARENA_SIZE];
static unsigned long fuzz_accepted, fuzz_faulted;

static __u64 take(const uint8_t **p, size_t *n, size_t k)
{
	__u64 v = 0;
	size_t i;

	for (i = 0; i < k && *n; i++, (*p)++, (*n)--)
		v |= (__u64)**p << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u32 text[MAXTEXT];
	__u64 ints[16], globals[4] = { 0 }, locals[4] = { 0 };
	struct dif_vinfo ginfo[4] = { { 0 } }, linfo[4] = { { 0 } };
	struct dif_vinfo tinfo[4] = { { 0 } };
	struct dtrace_difv vars[8];
	char *strs = (char *)arena + 2048;
	struct dif_object dp;
	struct dif_verr err;
	struct dif_mstate ms;
	__u32 nint, nvar, nstr, i, op;
	__u64 a = (__u64)(unsigned long)arena;
	static const char alpha[8] = "ab/.\0,:1";
	__u8 *bytes = (__u8 *)arena;

	if (size < 3)
		return 0;
	for (i = 0; i < DATA_SIZE; i++)
		bytes[i] = (__u8)alpha[data[i % size] & 7];
	memset(bytes + SCRATCH_OFF, 0xa5, SCRATCH_SIZE);
	nint = data[0] & 15;
	nvar = data[1] & 7;
	nstr = data[2] & 31;
	data += 3;
	size -= 3;
	memset(&dp, 0, sizeof(dp));
	memset(vars, 0, sizeof(vars));
	for (i = 0; i < nint; i++) {
		ints[i] = take(&data, &size, 8);
		if (ints[i] >> 63)
			ints[i] = a + (ints[i] & (ARENA_SIZE - 1));
	}
	for (i = 0; i < nvar; i++) {
		vars[i].dtdv_id = DIF_VAR_OTHER_UBASE +
				  take(&data, &size, 1) % 8;
		vars[i].dtdv_scope = take(&data, &size, 1) % 4;
		vars[i].dtdv_kind = take(&data, &size, 1) % 3;
		vars[i].dtdv_type.dtdt_flags = take(&data, &size, 1) & 1;
		vars[i].dtdv_type.dtdt_size = 8;
	}
	for (i = 0; i < nstr; i++)
		strs[i] = (char)take(&data, &size, 1);
	if (nstr)
		strs[nstr - 1] = '\0';
	for (i = 0; i < MAXTEXT && size >= 4; i++)
		text[i] = (__u32)take(&data, &size, 4);

	dp.text = text;
	dp.len = i;
	dp.inttab = ints;
	dp.intlen = nint;
	dp.strtab = strs;
	dp.strlen = nstr;
	dp.vartab = vars;
	dp.varlen = nvar;
	dp.rtype.dtdt_size = 8;
	/*
	 * Validate the input as it is; then, so that the interpreter sees
	 * more programs, replace each refused instruction with a nop (a ret
	 * when it is the last one) and validate again.
	 */
	for (i = 0; dif_validate(&dp, &err); i++) {
		if (err.err == DTRACE_EPROG_VARTAB && dp.varlen) {
			dp.varlen = 0;
			continue;
		}
		if (err.pc >= dp.len || i > MAXTEXT + 1)
			return 0;
		op = err.pc == dp.len - 1 ? DIF_OP_RET : DIF_OP_NOP;
		text[err.pc] = op << 24;
	}
	fuzz_accepted++;

	dif_host_reset();
	dif_host_set_valid_range(a, a + ARENA_SIZE);
	dif_host_set_builtin(DIF_VAR_TIMESTAMP, 12345);
	memset(&ms, 0, sizeof(ms));
	for (i = 0; i < 10; i++)
		ms.args[i] = a + 8 * i;
	ms.strsize = 64;
	ms.scratch_base = a + SCRATCH_OFF;
	ms.scratch_size = SCRATCH_SIZE;
	memset(bytes + VAR_OFF, 0, VAR_END - VAR_OFF);
	globals[1] = a + VAR_OFF;
	ginfo[1].size = GVAR_SIZE;
	locals[2] = a + LVAR_OFF;
	linfo[2].size = LVAR_SIZE;
	ms.globals = globals;
	ms.nglobals = 4;
	ms.ginfo = ginfo;
	ms.locals = locals;
	ms.nlocals = 4;
	ms.linfo = linfo;
	tinfo[3].size = 12;
	ms.tinfo = tinfo;
	ms.ntvars = 4;
	memcpy(before, arena, ARENA_SIZE);
	(void)dif_emulate(&dp, &ms);
	if (ms.flags & DIF_F_FAULT)
		fuzz_faulted++;
	if (ms.scratch_used > ms.scratch_size || !dif_host_dvar_tails_clean())
		abort();
	if (memcmp(before, arena, SCRATCH_OFF) ||
	    memcmp(before + SCRATCH_OFF + SCRATCH_SIZE,
		   bytes + SCRATCH_OFF + SCRATCH_SIZE,
		   VAR_OFF - SCRATCH_OFF - SCRATCH_SIZE) ||
	    memcmp(before + VAR_END, bytes + VAR_END, ARENA_SIZE - VAR_END))
		abort();
	/* the static variables moved nowhere; headers hold 0 or 0xff */
	if (globals[1] != a + VAR_OFF || locals[2] != a + LVAR_OFF ||
	    memcmp(before + VAR_OFF + 1, bytes + VAR_OFF + 1, 7) ||
	    memcmp(before + LVAR_OFF + 1, bytes + LVAR_OFF + 1, 7))
		abort();
	return 0;
}

#ifdef FUZZ_STANDALONE
/*
 * Random programs biased towards valid ones: the header is fixed at the
 * largest tables (15 integers, 7 variables, 31 string bytes), opcodes are
 * 1..DIF_OP_MAX, register fields 0..7, branches go 1..4 forward, some
 * variable ids are user ids, and the last word is a ret.  A quarter of
 * the instructions build and make subroutine calls (setx, sets, pushtv,
 * pushtr, flushts, call with any subroutine number).
 */
static const __u8 callops[] = {
	DIF_OP_SETX, DIF_OP_SETS, DIF_OP_PUSHTV, DIF_OP_PUSHTR,
	DIF_OP_PUSHTR, DIF_OP_FLUSHTS, DIF_OP_CALL, DIF_OP_CALL,
};

#define HDR	(3 + 15 * 8 + 7 * 4 + 31)
#define NWORDS	16

static __u64 xorshift(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static __u32 word(__u32 op, __u32 rest)
{
	return op << 24 | rest;
}

/*
 * A subroutine call program: integers 0..2 are arena addresses (mostly in
 * the path-like data) or small numbers; r1..r3 = those; push 0..3 of them
 * (strings by reference or values); r4 = call of any subroutine; then a
 * second call with r4 (or NULL) as first argument; ret r4 or r5.
 */
static size_t call_prog(uint8_t *buf, __u64 *x)
{
	__u32 text[NWORDS], n = 0, k, nargs, sub;
	__u64 v;
	int second;

	for (k = 0; k < 3; k++) {
		v = xorshift(x);
		if (v & 3)
			v = 1ULL << 63 | (v >> 8) % 1100;
		else
			v = (v >> 8) % 300;
		memcpy(buf + 3 + 8 * k, &v, 8);
	}
	for (second = 0; second < 2; second++) {
		v = xorshift(x);
		if (!second) {
			for (k = 0; k < 3; k++)
				text[n++] = word(DIF_OP_SETX, k << 8 | (k + 1));
		}
		text[n++] = word(DIF_OP_FLUSHTS, 0);
		sub = (__u32)(v % (DIF_SUBR_MAX + 1));
		nargs = (__u32)((v >> 8) % 4);
		for (k = 0; k < nargs; k++) {
			__u32 rs = k + 1;

			if (second && !k)
				rs = (v >> 16) & 1 ? 4 : 0;
			if ((v >> (20 + k)) & 1)
				text[n++] = word(DIF_OP_PUSHTR,
						 DIF_TYPE_STRING << 16 | rs);
			else
				text[n++] = word(DIF_OP_PUSHTV, rs);
		}
		text[n++] = word(DIF_OP_CALL, sub << 8 | (4 + second));
	}
	text[n++] = word(DIF_OP_RET, (xorshift(x) & 1) ? 4 : 5);
	memcpy(buf + HDR, text, 4 * n);
	return n;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	uint8_t buf[HDR + 4 * NWORDS];
	__u64 x = 88172645463325252ULL;
	unsigned long it;
	size_t i, pc, len;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		buf[0] = 15;
		buf[1] = 7;
		buf[2] = 31;
		if (it & 1) {
			len = call_prog(buf, &x);
			LLVMFuzzerTestOneInput(buf, HDR + 4 * len);
			continue;
		}
		len = 1 + x % NWORDS;
		for (pc = 0; pc < len; pc++) {
			uint8_t *b = &buf[HDR + 4 * pc];
			__u32 op = 1 + b[3] % DIF_OP_MAX;
			__u32 w = ((__u32)b[0] | (__u32)b[1] << 8 |
				   (__u32)b[2] << 16) & 0x070707;

			if (b[2] & 0x80)	/* many forms want r2 == 0 */
				w &= ~(__u32)0xff00;
			if (b[2] & 0x40)	/* ... or r1 == 0 */
				w &= ~(__u32)0xff0000;
			if (b[2] & 0x38)	/* rd != 0 is usually wanted */
				w = (w & ~(__u32)0xff) | (1 + b[1] % 7);
			if (b[0] & 0x80)	/* a user variable id */
				w = (w & 0xff) | (__u32)(DIF_VAR_OTHER_UBASE +
							 b[1] % 8) << 8;
			if (b[0] & 0x40)	/* a table index */
				w = (w & 0xff) | (__u32)(b[1] % 16) << 8;
			if ((b[3] & 0xc0) == 0xc0)
				op = callops[b[3] & 7];
			if (op == DIF_OP_CALL)
				w = (w & 0xff) |
				    (__u32)(b[1] % (DIF_SUBR_MAX + 1)) << 8;
			if (op == DIF_OP_PUSHTV)
				w &= 0xffff;
			if (op == DIF_OP_PUSHTR)
				w = (w & 0xffff) | (__u32)(b[0] & 1) << 16;
			if (op >= DIF_OP_BA && op <= DIF_OP_BLEU)
				w = (__u32)(pc + 1 + b[0] % 4);
			if (pc == len - 1) {
				op = DIF_OP_RET;
				w &= 0xff;
			}
			w |= op << 24;
			memcpy(b, &w, 4);
		}
		LLVMFuzzerTestOneInput(buf, HDR + 4 * len);
	}
	printf("%lu programs, %lu accepted, %lu faulted\n", iters,
	       fuzz_accepted, fuzz_faulted);
	return 0;
}
#endif

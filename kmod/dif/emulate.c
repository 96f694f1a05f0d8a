// SPDX-License-Identifier: GPL-2.0
/*
 * The DIF interpreter (dtrace-internals.md 1.3 and 2.6).
 *
 * Runs a DIFO that dif_validate() accepted: every register field of every
 * instruction is < DIF_DIR_NREGS, every branch goes forward, every setx/sets
 * index is in range, so each instruction runs at most once.  Register
 * numbers are still masked with DIF_DIR_NREGS - 1 as a last line of
 * defence; nothing else is re-checked.
 *
 * D semantics chosen where C leaves things undefined:
 *   - arithmetic is done on __u64 and wraps;
 *   - x / 0 and x % 0 raise DIVZERO with result 0; INT64_MIN / -1 is
 *     INT64_MIN and INT64_MIN % -1 is 0 (no trap);
 *   - shift counts are masked with 63, as the x86 shift instructions do
 *     (illumos inherits the CPU's behaviour), so x << 64 == x;
 *   - cmp computes the signed and unsigned relations directly (not from a
 *     wrapped difference), so INT64_MIN < 1 holds.
 *
 * Memory is read only through dif_env_kload()/dif_env_uload(); memory is
 * written only inside the allocated part of scratch space
 * [scratch_base, scratch_base + scratch_used) and, by stb/sth/stw/stx and
 * copys, inside the data of the consumer's by-reference static variables
 * and of its dynamic variables (dif_canstore()).  Probe-context safe: no
 * allocation, no locks, no recursion, every loop bounded.
 *
 * User variables: global scalars and clause-locals are the caller's
 * static tables (by value, or by reference through struct dif_vinfo);
 * thread-locals and associative arrays go to dif_env_dvar() with the keys
 * of dtrace-internals.md 5.2.  Assigning 0 (for by-reference variables: a
 * NULL address) to a dynamic variable deletes it.  A dynamic variable that
 * cannot be allocated sets DIF_F_DROP, which stops the DIFO like a fault.
 *
 * Not implemented here (ILLOP fault): ldta and built-in arrays other than
 * args[].  The subroutines of call are in subr.c (which lists the ones
 * that still fault ILLOP).
 */
#include "dif_impl.h"

#define DIF_REGMASK	(DIF_DIR_NREGS - 1)

/*
 * Byte i of a string.  Chunks are aligned to DIF_STRCHUNK so they never
 * cross a page; a chunk holds the aligned block around the byte (not
 * before the start of the string), so scans in either direction hit the
 * cache.  If a chunk cannot be read, the byte alone is tried, so a string
 * that ends just before unreadable memory still reads correctly.
 */
DIF_NOTRACE int dif_str_byte(struct dif_mstate *ms, struct dif_strcur *sc,
			     __u64 i, __u8 *c)
{
	__u64 a = sc->addr + i;
	__u64 lo;
	__u32 n;
	int rc;

	if (!sc->addr && sc->nullok) {
		*c = 0;
		return 0;
	}
	if (a < sc->addr) {
		dif_fault(ms, DIF_F_BADADDR, a);
		return -1;
	}
	if (a < sc->base || a - sc->base >= sc->n) {
		lo = a & ~(__u64)(DIF_STRCHUNK - 1);
		if (lo < sc->addr)
			lo = sc->addr;
		n = DIF_STRCHUNK - (__u32)(lo & (DIF_STRCHUNK - 1));
		if (sc->user)
			rc = dif_env_uload(ms->env, sc->buf, lo, n);
		else
			rc = dif_env_kload(ms->env, sc->buf, lo, n);
		if (rc) {
			lo = a;
			n = 1;
			if (sc->user)
				rc = dif_env_uload(ms->env, sc->buf, lo, n);
			else
				rc = dif_env_kload(ms->env, sc->buf, lo, n);
		}
		if (rc) {
			sc->n = 0;
			dif_fault(ms, DIF_F_BADADDR, a);
			return -1;
		}
		sc->base = lo;
		sc->n = n;
	}
	*c = sc->buf[a - sc->base];
	return 0;
}
NOKPROBE_SYMBOL(dif_str_byte);

/* strlen(addr) bounded by lim; -1 (BADADDR) on an unreadable byte. */
DIF_NOTRACE int dif_strlen(struct dif_mstate *ms, __u64 addr, __u64 lim,
			   __u64 *len)
{
	struct dif_strcur sc DIF_UNINIT;	/* dif_strcur_init() */
	__u64 i;
	__u8 c;

	dif_strcur_init(&sc, addr, 0);
	for (i = 0; i < lim; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return -1;
		if (!c)
			break;
	}
	*len = i;
	return 0;
}
NOKPROBE_SYMBOL(dif_strlen);

/* Compare two strings bounded by strsize; NULL compares as "". */
static DIF_NOTRACE int dif_scmp(struct dif_mstate *ms, __u64 s1, __u64 s2,
				int *res)
{
	struct dif_strcur c1 DIF_UNINIT, c2 DIF_UNINIT;
	__u64 lim = dif_strsize(ms);
	__u64 i;
	__u8 b1, b2;

	dif_strcur_init(&c1, s1, 1);
	dif_strcur_init(&c2, s2, 1);
	*res = 0;
	for (i = 0; i < lim; i++) {
		if (dif_str_byte(ms, &c1, i, &b1) ||
		    dif_str_byte(ms, &c2, i, &b2))
			return -1;
		if (b1 != b2) {
			*res = (int)b1 - (int)b2;
			break;
		}
		if (!b1)
			break;
	}
	return 0;
}

/* Bump-allocate n zeroed, 8-aligned bytes of scratch; 0 + NOSCRATCH. */
DIF_NOTRACE __u64 dif_alloc(struct dif_mstate *ms, __u64 n)
{
	__u64 cur = ms->scratch_base + ms->scratch_used;
	__u64 ptr = (cur + 7) & ~(__u64)7;
	__u64 need = ptr - cur + n;

	if (!ms->scratch_base || ptr < cur || need < n ||
	    ms->scratch_used > ms->scratch_size ||
	    need > ms->scratch_size - ms->scratch_used) {
		dif_fault(ms, DIF_F_NOSCRATCH, 0);
		return 0;
	}
	__builtin_memset((void *)(unsigned long)cur, 0, need);
	ms->scratch_used += need;
	return ptr;
}
NOKPROBE_SYMBOL(dif_alloc);

/*
 * Copy size bytes from src (any readable memory) to dst, which the caller
 * found writable (dst_ok); a bad destination or source is BADADDR.
 */
static DIF_NOTRACE void dif_copy_to(struct dif_mstate *ms, __u64 dst,
				    __u64 src, __u64 size, int dst_ok)
{
	if (!dst_ok || size > 0xffffffffULL) {
		dif_fault(ms, DIF_F_BADADDR, dst);
		return;
	}
	if (size && dif_env_kload(ms->env, (void *)(unsigned long)dst, src,
				  (__u32)size))
		dif_fault(ms, DIF_F_BADADDR, src);
}
NOKPROBE_SYMBOL(dif_copy_to);

/* copy size bytes from src (any readable memory) to dst (scratch). */
DIF_NOTRACE void dif_copy(struct dif_mstate *ms, __u64 dst, __u64 src,
			  __u64 size)
{
	dif_copy_to(ms, dst, src, size, dif_in_scratch(ms, dst, size));
}
NOKPROBE_SYMBOL(dif_copy);

/*
 * Does [addr, addr + size) lie in the data of one by-reference static
 * variable of table t (slots of n entries, descriptions vi)?  The data is
 * the vi->size bytes after the 8-byte header the slot points at; the
 * header itself is not writable.  Slots of associative arrays (and of
 * variables never used) are 0 and skipped.
 */
static DIF_NOTRACE int dif_in_statvar(const __u64 *t,
				      const struct dif_vinfo *vi, __u32 n,
				      __u64 addr, __u64 size)
{
	__u64 data;
	__u32 i;

	if (!t || !vi)
		return 0;
	for (i = 0; i < n; i++) {
		if (!vi[i].size || !t[i])
			continue;
		data = t[i] + 8;
		if (addr >= data && size <= vi[i].size &&
		    addr - data <= vi[i].size - size)
			return 1;
	}
	return 0;
}

/*
 * canstore (dtrace-internals.md 2.7): the allocated part of scratch, or
 * the storage of a by-reference global scalar of the consumer, or of a
 * clause-local of this CPU, or the data of one of the consumer's dynamic
 * variables (D scalar arrays and structs: a[i] = v, self->a[i] = v).
 */
static DIF_NOTRACE int dif_canstore(struct dif_mstate *ms, __u64 addr,
				    __u64 size)
{
	return dif_in_scratch(ms, addr, size) ||
	       dif_in_statvar(ms->globals, ms->ginfo, ms->nglobals, addr,
			      size) ||
	       dif_in_statvar(ms->locals, ms->linfo, ms->nlocals, addr,
			      size) ||
	       dif_env_dvar_canstore(ms, addr, size);
}

/*
 * copys: size bytes from src (any readable memory) to dst, which must lie
 * where DIF may store (canstore, as DTrace's copys checks: scratch, the
 * data of a by-reference static variable or of a dynamic variable, never
 * a header).  D copies strings and structs into elements and members of
 * D variables with it.  An overlapping source only gives mixed bytes.
 */
static DIF_NOTRACE void dif_copys(struct dif_mstate *ms, __u64 dst,
				  __u64 src, __u64 size)
{
	dif_copy_to(ms, dst, src, size, dif_canstore(ms, dst, size));
}
NOKPROBE_SYMBOL(dif_copys);

/* stb/sth/stw/stx: only where canstore, naturally aligned. */
static DIF_NOTRACE void dif_store(struct dif_mstate *ms, __u64 addr,
				  __u64 val, __u32 size)
{
	void *p = (void *)(unsigned long)addr;
	__u8 b = (__u8)val;
	__u16 h = (__u16)val;
	__u32 w = (__u32)val;

	if (!dif_canstore(ms, addr, size)) {
		dif_fault(ms, DIF_F_BADADDR, addr);
		return;
	}
	if (addr & (size - 1)) {
		dif_fault(ms, DIF_F_BADALIGN, addr);
		return;
	}
	switch (size) {
	case 1:
		__builtin_memcpy(p, &b, 1);
		break;
	case 2:
		__builtin_memcpy(p, &h, 2);
		break;
	case 4:
		__builtin_memcpy(p, &w, 4);
		break;
	default:
		__builtin_memcpy(p, &val, 8);
		break;
	}
}

/*
 * ld*, uld*, rld*.  rld* is treated as ld*: every consumer is root, so the
 * validator never rewrites loads into restricted ones.
 */
static DIF_NOTRACE __u64 dif_load(struct dif_mstate *ms, __u32 op, __u64 addr)
{
	static const __u8 sizes[7] = { 1, 2, 4, 1, 2, 4, 8 };
	union {
		__u8 b;
		__u16 h;
		__u32 w;
		__u64 x;
	} v;
	__u32 kind;
	int rc;

	if (op >= DIF_OP_RLDSB)
		kind = op - DIF_OP_RLDSB;
	else if (op >= DIF_OP_ULDSB)
		kind = op - DIF_OP_ULDSB;
	else
		kind = op - DIF_OP_LDSB;
	v.x = 0;
	if (op >= DIF_OP_ULDSB && op <= DIF_OP_ULDX)
		rc = dif_env_uload(ms->env, &v, addr, sizes[kind]);
	else
		rc = dif_env_kload(ms->env, &v, addr, sizes[kind]);
	if (rc) {
		dif_fault(ms, DIF_F_BADADDR, addr);
		return 0;
	}
	switch (kind) {
	case 0:
		return (__u64)(__s64)(__s8)v.b;
	case 1:
		return (__u64)(__s64)(__s16)v.h;
	case 2:
		return (__u64)(__s64)(__s32)v.w;
	case 3:
		return v.b;
	case 4:
		return v.h;
	case 5:
		return v.w;
	default:
		return v.x;
	}
}

/* A user variable slot in table t of n entries, or NULL (ILLOP). */
static inline DIF_NOTRACE __u64 *dif_uvar(struct dif_mstate *ms, __u64 *t,
					  __u32 n, __u32 id)
{
	__u32 i = id - DIF_VAR_OTHER_UBASE;

	if (!t || id < DIF_VAR_OTHER_UBASE || i >= n) {
		dif_fault(ms, DIF_F_ILLOP, id);
		return NULL;
	}
	return &t[i];
}

/*
 * The by-reference description of user variable id in table t of n
 * entries: NULL when it is by value (or there is no table); an id outside
 * a table is an ILLOP fault (returns NULL too).
 */
static inline DIF_NOTRACE const struct dif_vinfo *
dif_vinfo(struct dif_mstate *ms, const struct dif_vinfo *t, __u32 n, __u32 id)
{
	__u32 i = id - DIF_VAR_OTHER_UBASE;

	if (!t)
		return NULL;
	if (id < DIF_VAR_OTHER_UBASE || i >= n) {
		dif_fault(ms, DIF_F_ILLOP, id);
		return NULL;
	}
	return t[i].size ? &t[i] : NULL;
}

/*
 * Copy a by-reference value from src (any readable memory) into variable
 * storage dst of vi->size bytes.  Strings stop at their NUL (bounded by
 * the size, the last byte always NUL) and are zero-padded.
 */
static DIF_NOTRACE void dif_vcopy(struct dif_mstate *ms, __u64 dst, __u64 src,
				  const struct dif_vinfo *vi)
{
	__u8 *d = (__u8 *)(unsigned long)dst;
	struct dif_strcur sc DIF_UNINIT;	/* dif_strcur_init() */
	__u32 i = 0;
	__u8 c = 1;

	if (!vi->string) {
		if (dif_env_kload(ms->env, d, src, vi->size))
			dif_fault(ms, DIF_F_BADADDR, src);
		return;
	}
	dif_strcur_init(&sc, src, 0);
	for (; i + 1 < vi->size && c; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return;
		d[i] = c;
	}
	for (; i < vi->size; i++)
		d[i] = 0;
}

/* Load a static user variable from slot (by value or by reference). */
static inline DIF_NOTRACE __u64 dif_sload(const __u64 *slot,
					  const struct dif_vinfo *vi)
{
	const __u8 *hdr;

	if (!slot)
		return 0;
	if (!vi)
		return *slot;
	hdr = (const __u8 *)(unsigned long)*slot;
	return hdr[0] == 0xff ? 0 : *slot + 8;
}

/* Store val into a static user variable. */
static inline DIF_NOTRACE void dif_sstore(struct dif_mstate *ms, __u64 *slot,
					  const struct dif_vinfo *vi,
					  __u64 val)
{
	__u8 *hdr;

	if (!slot)
		return;
	if (!vi) {
		*slot = val;
		return;
	}
	hdr = (__u8 *)(unsigned long)*slot;
	if (!val) {
		hdr[0] = 0xff;
		return;
	}
	dif_vcopy(ms, *slot + 8, val, vi);
	if (!(ms->flags & DIF_F_FAULT))
		hdr[0] = 0;
}

static DIF_NOTRACE __u64 dif_ldgs(struct dif_mstate *ms, __u32 id)
{
	const struct dif_vinfo *vi;
	__u64 *slot;

	if (id >= DIF_VAR_ARG0 && id <= DIF_VAR_ARG9)
		return ms->args[id - DIF_VAR_ARG0];
	if (id < DIF_VAR_OTHER_UBASE)
		return dif_env_builtin(ms, id);
	slot = dif_uvar(ms, ms->globals, ms->nglobals, id);
	vi = dif_vinfo(ms, ms->ginfo, ms->nglobals, id);
	return dif_sload(slot, vi);
}

/*
 * ldts, stts, ldgaa, stgaa, ldtaa, sttaa: build the key (section 5.2) and
 * go to the dynamic variable space.  Loads return the value (by-reference
 * variables: the data address), 0 when absent; stores of 0 delete.
 */
static DIF_NOTRACE __u64 dif_dvar(struct dif_mstate *ms, __u32 op, __u32 id,
				  const struct dif_tuple *tup, __u32 ttop,
				  __u64 val)
{
	struct dif_tuple key[DIF_DVAR_MAXKEYS];
	const struct dif_vinfo *vi;
	int thread = op == DIF_OP_LDTS || op == DIF_OP_STTS ||
		     op == DIF_OP_LDTAA || op == DIF_OP_STTAA;
	int store = op == DIF_OP_STTS || op == DIF_OP_STGAA ||
		    op == DIF_OP_STTAA;
	int array = op != DIF_OP_LDTS && op != DIF_OP_STTS;
	__u32 n = 0, i, dsize;
	__u64 p;

	if (id < DIF_VAR_OTHER_UBASE) {
		dif_fault(ms, DIF_F_ILLOP, id);
		return 0;
	}
	if (thread)
		vi = dif_vinfo(ms, ms->tinfo, ms->ntvars, id);
	else
		vi = dif_vinfo(ms, ms->ginfo, ms->nglobals, id);
	if (ms->flags & DIF_F_FAULT)
		return 0;
	if (array) {
		for (i = 0; i < ttop && i < DIF_DTR_NREGS; i++)
			key[n++] = tup[i];
	}
	key[n].val = id - DIF_VAR_OTHER_UBASE;
	key[n++].size = 0;
	if (thread) {
		key[n].val = dif_env_threadkey(ms);
		key[n++].size = 0;
	}
	dsize = vi ? vi->size : sizeof(__u64);

	if (!store) {
		p = dif_env_dvar(ms, key, n, dsize, DIF_DVAR_LOOKUP);
		if (!p || vi)
			return p;
		return *(const __u64 *)(unsigned long)p;
	}
	if (!val) {
		dif_env_dvar(ms, key, n, dsize, DIF_DVAR_DEALLOC);
		return 0;
	}
	p = dif_env_dvar(ms, key, n, dsize, DIF_DVAR_ALLOC);
	if (!p)
		return 0;
	if (vi)
		dif_vcopy(ms, p, val, vi);
	else
		*(__u64 *)(unsigned long)p = val;
	return 0;
}

static DIF_NOTRACE __u64 dif_pushtr_size(struct dif_mstate *ms, __u32 type,
					 __u64 addr, __u64 size)
{
	__u64 lim, cap, len;

	if (type != DIF_TYPE_STRING)
		return size;
	lim = size ? size : DIF_STRSIZE_DEFAULT;
	cap = dif_strsize(ms);
	if (cap < DIF_STRSIZE_DEFAULT)
		cap = DIF_STRSIZE_DEFAULT;
	if (lim > cap)
		lim = cap;
	if (dif_strlen(ms, addr, lim, &len))
		return 0;
	return len + 1;
}

/*
 * Signed divide or remainder with D semantics: x / 0 faults (result 0);
 * INT64_MIN / -1 = INT64_MIN and INT64_MIN % -1 = 0 instead of a trap.
 */
static DIF_NOTRACE __u64 dif_sdiv(struct dif_mstate *ms, __u64 a, __u64 b,
				  int rem)
{
	if (!b) {
		dif_fault(ms, DIF_F_DIVZERO, 0);
		return 0;
	}
	if ((__s64)a == DIF_INT64_MIN && (__s64)b == -1)
		return rem ? 0 : a;
	if (rem)
		return (__u64)((__s64)a % (__s64)b);
	return (__u64)((__s64)a / (__s64)b);
}

DIF_NOTRACE __u64 dif_emulate(const struct dif_object *dp,
			      struct dif_mstate *ms)
{
	__u64 regs[DIF_DIR_NREGS] DIF_UNINIT;
	/* only tup[0 .. ttop) is ever read, and pushtr/pushtv wrote it */
	struct dif_tuple tup[DIF_DTR_NREGS] DIF_UNINIT;
	__u32 ttop = 0, pc = 0, opc = 0;
	int cc_n = 0, cc_z = 0, cc_c = 0;
	__u64 *slot;
	int res;

	if (ms->flags & (DIF_F_FAULT | DIF_F_DROP))
		return 0;
	/* stores, not a memset: a rep stos is slow for 64 bytes */
	_Static_assert(DIF_DIR_NREGS == 8, "one store per register");
	regs[0] = 0;
	regs[1] = 0;
	regs[2] = 0;
	regs[3] = 0;
	regs[4] = 0;
	regs[5] = 0;
	regs[6] = 0;
	regs[7] = 0;

	while (pc < dp->len) {
		__u32 instr = dp->text[pc];
		__u32 op = DIF_INSTR_OP(instr);
		__u32 r1 = DIF_INSTR_R1(instr) & DIF_REGMASK;
		__u32 r2 = DIF_INSTR_R2(instr) & DIF_REGMASK;
		__u32 rd = DIF_INSTR_RD(instr) & DIF_REGMASK;
		__u32 id = DIF_INSTR_VAR(instr);
		__u64 a = regs[r1], b = regs[r2];
		int taken = 0;

		opc = pc++;
		switch (op) {
		case DIF_OP_OR:
			regs[rd] = a | b;
			break;
		case DIF_OP_XOR:
			regs[rd] = a ^ b;
			break;
		case DIF_OP_AND:
			regs[rd] = a & b;
			break;
		case DIF_OP_SLL:
			regs[rd] = a << (b & 63);
			break;
		case DIF_OP_SRL:
			regs[rd] = a >> (b & 63);
			break;
		case DIF_OP_SRA:
			regs[rd] = (__u64)((__s64)a >> (b & 63));
			break;
		case DIF_OP_SUB:
			regs[rd] = a - b;
			break;
		case DIF_OP_ADD:
			regs[rd] = a + b;
			break;
		case DIF_OP_MUL:
			regs[rd] = a * b;
			break;
		case DIF_OP_SDIV:
		case DIF_OP_SREM:
			regs[rd] = dif_sdiv(ms, a, b, op == DIF_OP_SREM);
			break;
		case DIF_OP_UDIV:
		case DIF_OP_UREM:
			if (!b) {
				regs[rd] = 0;
				dif_fault(ms, DIF_F_DIVZERO, 0);
			} else {
				regs[rd] = op == DIF_OP_UDIV ? a / b : a % b;
			}
			break;
		case DIF_OP_NOT:
			regs[rd] = ~a;
			break;
		case DIF_OP_MOV:
			regs[rd] = a;
			break;
		case DIF_OP_CMP:
			cc_n = (__s64)a < (__s64)b;
			cc_z = a == b;
			cc_c = a < b;
			break;
		case DIF_OP_TST:
			cc_n = 0;
			cc_z = a == 0;
			cc_c = 0;
			break;
		case DIF_OP_SCMP:
			if (dif_scmp(ms, a, b, &res))
				break;
			cc_n = res < 0;
			cc_z = res == 0;
			cc_c = 0;
			break;
		case DIF_OP_BA:
			taken = 1;
			break;
		case DIF_OP_BE:
			taken = cc_z;
			break;
		case DIF_OP_BNE:
			taken = !cc_z;
			break;
		case DIF_OP_BG:
			taken = !(cc_z | cc_n);
			break;
		case DIF_OP_BGU:
			taken = !(cc_c | cc_z);
			break;
		case DIF_OP_BGE:
			taken = !cc_n;
			break;
		case DIF_OP_BGEU:
			taken = !cc_c;
			break;
		case DIF_OP_BL:
			taken = cc_n;
			break;
		case DIF_OP_BLU:
			taken = cc_c;
			break;
		case DIF_OP_BLE:
			taken = cc_z | cc_n;
			break;
		case DIF_OP_BLEU:
			taken = cc_c | cc_z;
			break;
		case DIF_OP_LDSB ... DIF_OP_LDX:
		case DIF_OP_ULDSB ... DIF_OP_ULDX:
		case DIF_OP_RLDSB ... DIF_OP_RLDX:
			regs[rd] = dif_load(ms, op, a);
			break;
		case DIF_OP_RET:
			return regs[rd];
		case DIF_OP_NOP:
			break;
		case DIF_OP_SETX:
			regs[rd] = dp->inttab[DIF_INSTR_INTEGER(instr)];
			break;
		case DIF_OP_SETS:
			regs[rd] = (__u64)(unsigned long)
				(dp->strtab + DIF_INSTR_STRING(instr));
			break;
		case DIF_OP_LDGA:
			/* r1 is the array id, r2 the index register */
			if (DIF_INSTR_R1(instr) == DIF_VAR_ARGS &&
			    b < DIF_NARGS)
				regs[rd] = ms->args[b];
			else
				dif_fault(ms, DIF_F_ILLOP, b);
			break;
		case DIF_OP_LDGS:
			regs[rd] = dif_ldgs(ms, id);
			break;
		case DIF_OP_STGS:
			slot = dif_uvar(ms, ms->globals, ms->nglobals, id);
			dif_sstore(ms, slot,
				   dif_vinfo(ms, ms->ginfo, ms->nglobals, id),
				   regs[rd]);
			break;
		case DIF_OP_LDLS:
			regs[rd] = 0;
			if (id < DIF_VAR_OTHER_UBASE)
				break;
			slot = dif_uvar(ms, ms->locals, ms->nlocals, id);
			regs[rd] = dif_sload(slot, dif_vinfo(ms, ms->linfo,
							     ms->nlocals, id));
			break;
		case DIF_OP_STLS:
			slot = dif_uvar(ms, ms->locals, ms->nlocals, id);
			dif_sstore(ms, slot,
				   dif_vinfo(ms, ms->linfo, ms->nlocals, id),
				   regs[rd]);
			break;
		case DIF_OP_LDTS:
		case DIF_OP_LDGAA:
		case DIF_OP_LDTAA:
			regs[rd] = dif_dvar(ms, op, id, tup, ttop, 0);
			break;
		case DIF_OP_STTS:
		case DIF_OP_STGAA:
		case DIF_OP_STTAA:
			dif_dvar(ms, op, id, tup, ttop, regs[rd]);
			break;
		case DIF_OP_CALL:
			regs[rd] = dif_subr(ms, DIF_INSTR_SUBR(instr), tup,
					    ttop);
			break;
		case DIF_OP_PUSHTR:
		case DIF_OP_PUSHTV:
			if (ttop == DIF_DTR_NREGS) {
				dif_fault(ms, DIF_F_TUPOFLOW, 0);
				break;
			}
			tup[ttop].val = regs[rd];
			tup[ttop].size = op == DIF_OP_PUSHTV ? 0 :
				dif_pushtr_size(ms, DIF_INSTR_TYPE(instr),
						regs[rd], b);
			ttop++;
			break;
		case DIF_OP_POPTS:
			if (ttop)
				ttop--;
			break;
		case DIF_OP_FLUSHTS:
			ttop = 0;
			break;
		case DIF_OP_ALLOCS:
			regs[rd] = dif_alloc(ms, a);
			break;
		case DIF_OP_COPYS:
			/* copys r1 (src), r2 (size), rd (dst) */
			dif_copys(ms, regs[rd], a, b);
			break;
		case DIF_OP_STB:
			dif_store(ms, regs[rd], a, 1);
			break;
		case DIF_OP_STH:
			dif_store(ms, regs[rd], a, 2);
			break;
		case DIF_OP_STW:
			dif_store(ms, regs[rd], a, 4);
			break;
		case DIF_OP_STX:
			dif_store(ms, regs[rd], a, 8);
			break;
		default:
			/* ldta, and anything the validator refuses. */
			dif_fault(ms, DIF_F_ILLOP, op);
			break;
		}
		if (ms->flags & (DIF_F_FAULT | DIF_F_DROP)) {
			if (ms->flags & DIF_F_FAULT)
				ms->fltoffs = opc * (__u32)sizeof(__u32);
			return 0;
		}
		if (taken)
			pc = DIF_INSTR_LABEL(instr);
	}
	return 0;
}
NOKPROBE_SYMBOL(dif_emulate);

DIF_NOTRACE __u32 dif_fault_code(__u16 flags)
{
	if (flags & DIF_F_BADADDR)
		return DTRACEFLT_BADADDR;
	if (flags & DIF_F_ILLOP)
		return DTRACEFLT_ILLOP;
	if (flags & DIF_F_DIVZERO)
		return DTRACEFLT_DIVZERO;
	if (flags & DIF_F_KPRIV)
		return DTRACEFLT_KPRIV;
	if (flags & DIF_F_UPRIV)
		return DTRACEFLT_UPRIV;
	if (flags & DIF_F_TUPOFLOW)
		return DTRACEFLT_TUPOFLOW;
	if (flags & DIF_F_BADALIGN)
		return DTRACEFLT_BADALIGN;
	if (flags & DIF_F_NOSCRATCH)
		return DTRACEFLT_NOSCRATCH;
	if (flags & DIF_F_BADSTACK)
		return DTRACEFLT_BADSTACK;
	return DTRACEFLT_UNKNOWN;
}
NOKPROBE_SYMBOL(dif_fault_code);

// SPDX-License-Identifier: GPL-2.0
/*
 * DTRACEIOC_ENABLE: the only reader of program bytes from user space.
 *
 * The program is copied in once; every count, offset, alignment, pad and
 * string table is checked against that copy before anything is built, the
 * DIFOs are validated, and only then are ECBs created.  A program is
 * all-or-nothing: on any refusal nothing of it stays, and de_err, de_ecb,
 * de_difo and de_offset say why and where.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/overflow.h>

#include "dtrace_impl.h"

/* The largest ECB reservation we accept (bytes). */
#define DTRACE_ECB_MAXNEEDED	(1U << 30)

struct dtrace_progctx {
	struct dtrace_enable *de;
	const char *base;		/* the kernel copy */
	u32 size;
	const struct dtrace_prog *hdr;
	const struct dtrace_ecbdesc *ecbds;
	const struct dtrace_actdesc *actds;
	const struct dtrace_difodesc *difods;
	const struct dtrace_optdesc *optds;
};

static int dtrace_prog_refuse(struct dtrace_enable *de, u32 err, u32 ecb,
			      u32 difo, u32 offset)
{
	de->de_err = err;
	de->de_ecb = ecb;
	de->de_difo = difo;
	de->de_offset = offset;
	return -EINVAL;
}

/* A table of n entries of esize bytes at off: 0, or DTRACE_EPROG_*. */
static u32 dtrace_prog_table(const struct dtrace_progctx *pc, u32 off, u32 n,
			     size_t esize, u32 align)
{
	if (!n)
		return DTRACE_EPROG_NONE;
	if (off < sizeof(struct dtrace_prog) ||
	    (u64)off + (u64)n * esize > pc->size)
		return DTRACE_EPROG_BOUNDS;
	if (off % align)
		return DTRACE_EPROG_ALIGN;
	return DTRACE_EPROG_NONE;
}

static int dtrace_prog_header(struct dtrace_progctx *pc)
{
	const struct dtrace_prog *hdr = pc->hdr;
	struct dtrace_enable *de = pc->de;
	u32 err, i;

	if (hdr->dp_magic != DTRACE_PROG_MAGIC ||
	    hdr->dp_version != DTRACE_PROG_VERSION ||
	    hdr->dp_size != pc->size || hdr->dp_flags)
		return dtrace_prog_refuse(de, DTRACE_EPROG_HEADER, DTRACE_NONE,
					  DTRACE_NONE, DTRACE_NONE);
	for (i = 0; i < ARRAY_SIZE(hdr->dp_reserved); i++) {
		if (hdr->dp_reserved[i])
			return dtrace_prog_refuse(de, DTRACE_EPROG_RESERVED,
						  DTRACE_NONE, DTRACE_NONE,
						  DTRACE_NONE);
	}
	if (hdr->dp_necbs > DTRACE_PROG_MAXECBS ||
	    hdr->dp_nacts > DTRACE_PROG_MAXACTS)
		return dtrace_prog_refuse(de, DTRACE_EPROG_BOUNDS, DTRACE_NONE,
					  DTRACE_NONE, DTRACE_NONE);

	err = dtrace_prog_table(pc, hdr->dp_ecboff, hdr->dp_necbs,
				sizeof(struct dtrace_ecbdesc), 8);
	if (!err)
		err = dtrace_prog_table(pc, hdr->dp_actoff, hdr->dp_nacts,
					sizeof(struct dtrace_actdesc), 8);
	if (!err)
		err = dtrace_prog_table(pc, hdr->dp_difooff, hdr->dp_ndifos,
					sizeof(struct dtrace_difodesc), 4);
	if (!err)
		err = dtrace_prog_table(pc, hdr->dp_optoff, hdr->dp_nopts,
					sizeof(struct dtrace_optdesc), 8);
	if (err)
		return dtrace_prog_refuse(de, err, DTRACE_NONE, DTRACE_NONE,
					  DTRACE_NONE);

	pc->ecbds = (const void *)(pc->base + hdr->dp_ecboff);
	pc->actds = (const void *)(pc->base + hdr->dp_actoff);
	pc->difods = (const void *)(pc->base + hdr->dp_difooff);
	pc->optds = (const void *)(pc->base + hdr->dp_optoff);
	return 0;
}

static int dtrace_prog_options(struct dtrace_progctx *pc)
{
	const struct dtrace_optdesc *od;
	u32 i;

	for (i = 0; i < pc->hdr->dp_nopts; i++) {
		od = &pc->optds[i];
		if (od->do_pad)
			return dtrace_prog_refuse(pc->de, DTRACE_EPROG_RESERVED,
						  DTRACE_NONE, DTRACE_NONE,
						  DTRACE_NONE);
		if (od->do_option >= DTRACEOPT_MAX ||
		    (od->do_value < 0 && od->do_value != DTRACEOPT_UNSET &&
		     od->do_option != DTRACEOPT_CPU))
			return dtrace_prog_refuse(pc->de, DTRACE_EPROG_OPTION,
						  DTRACE_NONE, DTRACE_NONE,
						  DTRACE_NONE);
	}
	return 0;
}

/* Check DIFO description i and build en->difos[i] from it, validated. */
static int dtrace_prog_difo(struct dtrace_progctx *pc,
			    struct dtrace_enabling *en, u32 i)
{
	const struct dtrace_difodesc *dd = &pc->difods[i];
	struct dif_object *dp = &en->difos[i];
	struct dif_verr verr = { DTRACE_EPROG_NONE, DTRACE_NONE };
	u32 err;

	if (dd->dd_rtype.dtdt_pad)
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_RESERVED,
					  DTRACE_NONE, i, DTRACE_NONE);
	if (dd->dd_rtype.dtdt_kind > DIF_TYPE_KIND_STRING ||
	    (dd->dd_rtype.dtdt_flags & ~(DIF_TF_BYREF | DIF_TF_BYUREF)) ||
	    dd->dd_textlen == 0 || dd->dd_textlen > DTRACE_DIFO_MAXLEN)
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_DIFO,
					  DTRACE_NONE, i, DTRACE_NONE);

	err = dtrace_prog_table(pc, dd->dd_textoff, dd->dd_textlen,
				sizeof(u32), sizeof(u32));
	if (!err)
		err = dtrace_prog_table(pc, dd->dd_intoff, dd->dd_intlen,
					sizeof(u64), sizeof(u64));
	if (!err)
		err = dtrace_prog_table(pc, dd->dd_stroff, dd->dd_strlen, 1, 1);
	if (!err)
		err = dtrace_prog_table(pc, dd->dd_varoff, dd->dd_varlen,
					sizeof(struct dtrace_difv), 4);
	if (err)
		return dtrace_prog_refuse(pc->de, err, DTRACE_NONE, i,
					  DTRACE_NONE);
	if (dd->dd_strlen && pc->base[dd->dd_stroff + dd->dd_strlen - 1])
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_STRTAB,
					  DTRACE_NONE, i, DTRACE_NONE);

	dp->text = (const u32 *)(pc->base + dd->dd_textoff);
	dp->len = dd->dd_textlen;
	dp->inttab = dd->dd_intlen ?
		(const u64 *)(pc->base + dd->dd_intoff) : NULL;
	dp->intlen = dd->dd_intlen;
	dp->strtab = dd->dd_strlen ? pc->base + dd->dd_stroff : NULL;
	dp->strlen = dd->dd_strlen;
	dp->vartab = dd->dd_varlen ?
		(const struct dtrace_difv *)(pc->base + dd->dd_varoff) : NULL;
	dp->varlen = dd->dd_varlen;
	dp->rtype = dd->dd_rtype;

	if (dif_validate(dp, &verr)) {
		err = verr.err;
		if (err == DTRACE_EPROG_NONE || err > DTRACE_EPROG_MAX)
			err = DTRACE_EPROG_DIFO;
		return dtrace_prog_refuse(pc->de, err, DTRACE_NONE, i,
					  verr.pc == DTRACE_NONE ?
					  DTRACE_NONE : verr.pc * 4);
	}
	return 0;
}

/* Record alignment: the largest of 8, 4, 2, 1 that divides the size. */
static u16 dtrace_rec_align(u32 size)
{
	if (!size)
		return 1;
	if (!(size % 8))
		return 8;
	if (!(size % 4))
		return 4;
	if (!(size % 2))
		return 2;
	return 1;
}

/*
 * Is a validated DIFO's value a constant: only setx, mov, nop and ret, so
 * no load, store, call, branch or fault?  Then *val is what dif_emulate()
 * returns for it, every time (the same register semantics), and probe
 * context need not run it (count()'s 1, an aggregation's variable-id key).
 */
bool dtrace_difo_const(const struct dif_object *dp, u64 *val)
{
	u64 regs[DIF_DIR_NREGS] = { 0 };
	u32 i, instr;

	for (i = 0; i < dp->len; i++) {
		instr = dp->text[i];
		switch (DIF_INSTR_OP(instr)) {
		case DIF_OP_NOP:
			break;
		case DIF_OP_MOV:
			regs[DIF_INSTR_RD(instr) & (DIF_DIR_NREGS - 1)] =
				regs[DIF_INSTR_R1(instr) & (DIF_DIR_NREGS - 1)];
			break;
		case DIF_OP_SETX:
			if (DIF_INSTR_INTEGER(instr) >= dp->intlen)
				return false;	/* the validator refuses it */
			regs[DIF_INSTR_RD(instr) & (DIF_DIR_NREGS - 1)] =
				dp->inttab[DIF_INSTR_INTEGER(instr)];
			break;
		case DIF_OP_RET:
			*val = regs[DIF_INSTR_RD(instr) & (DIF_DIR_NREGS - 1)];
			return true;
		default:
			return false;
		}
	}
	*val = 0;			/* dif_emulate() falls off the end */
	return true;
}

/*
 * Is a validated DIFO "ldgs v, %rd; ret %rd" with v a built-in variable
 * (execname, pid, arg0, ...)?  Then probe context reads v directly, as
 * dif_emulate() would (a fault is at offset 0).  Returns v, or 0.
 */
static u16 dtrace_difo_builtin(const struct dif_object *dp)
{
	u32 ld, ret, id;

	if (dp->len != 2)
		return 0;
	ld = dp->text[0];
	ret = dp->text[1];
	id = DIF_INSTR_VAR(ld);
	if (DIF_INSTR_OP(ld) != DIF_OP_LDGS || DIF_INSTR_OP(ret) != DIF_OP_RET ||
	    (DIF_INSTR_RD(ld) & (DIF_DIR_NREGS - 1)) == 0 ||
	    (DIF_INSTR_RD(ld) & (DIF_DIR_NREGS - 1)) !=
	    (DIF_INSTR_RD(ret) & (DIF_DIR_NREGS - 1)) ||
	    id == 0 || id >= DIF_VAR_OTHER_UBASE)
		return 0;
	return id;
}

/*
 * Is dp the code the compiler makes of the predicate "v op c", with v
 * pid, tid or cpu (never a fault) and c an integer constant?
 *	ldgs v, %ra; setx c, %rb; cmp %ra, %rb; b<op> 6; mov %r0, %ra;
 *	ba 7; setx 1, %ra; ret %ra
 * Then *op is the branch and the predicate runs without DIF (probe.c).
 */
static bool dtrace_difo_relconst(const struct dif_object *dp, u8 *op,
				 u16 *var, u64 *val)
{
	const u32 *t = dp->text;
	u32 a, b, id, br;

	if (dp->len != 8)
		return false;
	a = DIF_INSTR_RD(t[0]);
	b = DIF_INSTR_RD(t[1]);
	id = DIF_INSTR_VAR(t[0]);
	br = DIF_INSTR_OP(t[3]);
	if (DIF_INSTR_OP(t[0]) != DIF_OP_LDGS ||
	    (id != DIF_VAR_PID && id != DIF_VAR_TID && id != DIF_VAR_CPU) ||
	    a == 0 || b == 0 || a == b || a >= DIF_DIR_NREGS ||
	    b >= DIF_DIR_NREGS ||
	    DIF_INSTR_OP(t[1]) != DIF_OP_SETX ||
	    DIF_INSTR_INTEGER(t[1]) >= dp->intlen ||
	    t[2] != DIF_INSTR_FMT(DIF_OP_CMP, a, b, 0) ||
	    br < DIF_OP_BE || br > DIF_OP_BLEU ||
	    DIF_INSTR_LABEL(t[3]) != 6 ||
	    t[4] != DIF_INSTR_FMT(DIF_OP_MOV, 0, 0, a) ||
	    DIF_INSTR_OP(t[5]) != DIF_OP_BA || DIF_INSTR_LABEL(t[5]) != 7 ||
	    DIF_INSTR_OP(t[6]) != DIF_OP_SETX || DIF_INSTR_RD(t[6]) != a ||
	    DIF_INSTR_INTEGER(t[6]) >= dp->intlen ||
	    dp->inttab[DIF_INSTR_INTEGER(t[6])] != 1 ||
	    t[7] != DIF_INSTR_FMT(DIF_OP_RET, 0, 0, a))
		return false;
	*op = br;
	*var = id;
	*val = dp->inttab[DIF_INSTR_INTEGER(t[1])];
	return true;
}

/* Check action description i; fill *act from it (offset still unset). */
static int dtrace_prog_action(struct dtrace_progctx *pc,
			      struct dtrace_enabling *en, u32 i,
			      struct dtrace_action *act)
{
	const struct dtrace_actdesc *ad = &pc->actds[i];
	const struct dtrace_diftype *rt;
	struct dif_object *dp = NULL;
	u32 size;

	if (ad->ad_pad)
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_RESERVED,
					  DTRACE_NONE, DTRACE_NONE,
					  DTRACE_NONE);
	if (ad->ad_difo != DTRACE_NONE) {
		if (ad->ad_difo >= pc->hdr->dp_ndifos)
			goto bad;
		dp = &en->difos[ad->ad_difo];
	}
	if (ad->ad_format > U16_MAX)
		goto bad;

	memset(act, 0, sizeof(*act));
	act->kind = ad->ad_kind;
	act->difo = dp;
	switch (ad->ad_kind) {
	case DTRACEACT_DIFEXPR:
	case DTRACEACT_PRINTF:
	case DTRACEACT_PRINTA:
	case DTRACEACT_LIBACT:
	case DTRACEACT_SYSTEM:		/* printf-like: the consumer acts */
	case DTRACEACT_FREOPEN:
		if (!dp) {
			size = 0;
			break;
		}
		rt = &dp->rtype;
		size = rt->dtdt_size;
		act->string = rt->dtdt_kind == DIF_TYPE_KIND_STRING;
		act->byref = act->string ||
			     (rt->dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF));
		act->user = rt->dtdt_flags & DIF_TF_BYUREF;
		if (act->byref ? size == 0 || size > DTRACE_ECB_MAXNEEDED :
		    size != 0 && size != 1 && size != 2 && size != 4 &&
		    size != 8)
			goto bad;
		break;
	case DTRACEAGG_COUNT ... DTRACEAGG_LLQUANTIZE:
		if (dtrace_agg_action(act, ad, &size))
			goto bad;
		break;
	case DTRACEACT_TRACEMEM:
		/* tracemem(addr, n): n bytes copied from the address. */
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    !(dp->rtype.dtdt_flags & DIF_TF_BYREF) ||
		    dp->rtype.dtdt_size == 0 ||
		    dp->rtype.dtdt_size > DTRACE_ECB_MAXNEEDED)
			goto bad;
		act->byref = true;
		act->user = dp->rtype.dtdt_flags & DIF_TF_BYUREF;
		size = dp->rtype.dtdt_size;
		break;
	case DTRACEACT_TRACEMEM_DYNSIZE:
		/* The number of bytes of the next tracemem() to print. */
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    (dp->rtype.dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF)))
			goto bad;
		size = sizeof(u64);
		break;
	case DTRACEACT_STACK:
	case DTRACEACT_USTACK:
		/* stack(n), ustack(n, strsize): no DIFO; stack.c fills them */
		if (dp || dtrace_stack_recsize(ad->ad_kind, ad->ad_arg, &size))
			goto bad;
		break;
	case DTRACEACT_SYM:
	case DTRACEACT_MOD:
	case DTRACEACT_USYM:
	case DTRACEACT_UMOD:
	case DTRACEACT_UADDR:
		/* an address; the user ones record (pid, address) */
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    (dp->rtype.dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF)))
			goto bad;
		size = DTRACEACT_CLASS(ad->ad_kind) == DTRACEACT_PROC ?
		       2 * sizeof(u64) : sizeof(u64);
		break;
	case DTRACEACT_SPECULATE:
	case DTRACEACT_COMMIT:
	case DTRACEACT_DISCARD:
		/* speculate(id), commit(id), discard(id): record nothing. */
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    (dp->rtype.dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF)))
			goto bad;
		size = 0;
		break;
	case DTRACEACT_RAISE:
	case DTRACEACT_CHILL:
		/* raise(sig), chill(ns): act on a value, record nothing */
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    (dp->rtype.dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF)))
			goto bad;
		size = 0;
		break;
	case DTRACEACT_STOP:
		if (dp)
			goto bad;
		size = 0;
		break;
	case DTRACEACT_EXIT:
		/* exit(n) records n as an int. */
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    (dp->rtype.dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF)))
			goto bad;
		size = sizeof(u32);
		break;
	default:
		goto bad;	/* not (yet) supported by this module */
	}
	/* A by-value constant is computed here, once. */
	if (dp && !act->byref)
		act->isconst = dtrace_difo_const(dp, &act->constval);
	if (dp && !act->isconst)
		act->builtin = dtrace_difo_builtin(dp);
	act->execname = act->builtin == DIF_VAR_EXECNAME && act->string &&
			!act->user && size >= TASK_COMM_LEN;
	act->rec.dtrd_action = ad->ad_kind;
	act->rec.dtrd_size = size;
	act->rec.dtrd_alignment = DTRACEACT_CLASS(act->kind) ==
		DTRACEACT_AGGREGATION ? sizeof(u64) : dtrace_rec_align(size);
	act->rec.dtrd_format = ad->ad_format;
	act->rec.dtrd_arg = ad->ad_arg;
	act->rec.dtrd_uarg = ad->ad_uarg;
	return 0;
bad:
	return dtrace_prog_refuse(pc->de, DTRACE_EPROG_ACTION, DTRACE_NONE,
				  DTRACE_NONE, DTRACE_NONE);
}

/*
 * The record layout of a clause (dtrace-internals.md 3.3 and 3.6, as
 * illumos' dtrace_ecb_resize()): records after the record header (struct
 * dtrace_rechdr: EPID and timestamp), each aligned to its own alignment;
 * an ECB whose actions record nothing records nothing at all, not even its
 * header.  The keys of an aggregation are laid out past the committed
 * records, from a base that is 8-aligned with the first key at 4 mod 8
 * (the aggregation id goes at the base); they are reserved (needed) but
 * never committed.
 */
static int dtrace_clause_layout(struct dtrace_clause *cl)
{
	const u64 hdr = sizeof(struct dtrace_rechdr);
	u64 size = hdr, needed = hdr, cur = U64_MAX;
	u64 aggbase = 0;
	u32 maxalign = sizeof(u32), i;
	struct dtrace_action *act;
	struct dtrace_recdesc *rec;

	for (i = 0; i < cl->nacts; i++) {
		act = &cl->acts[i];
		rec = &act->rec;
		maxalign = max_t(u32, maxalign, rec->dtrd_alignment);
		if (DTRACEACT_CLASS(act->kind) == DTRACEACT_AGGREGATION) {
			if (WARN_ON_ONCE(cur == U64_MAX))
				return -EINVAL;
			cur = ALIGN(cur, rec->dtrd_alignment);
			rec->dtrd_offset = cur;
			act->aggbase = aggbase;
			cur += rec->dtrd_size;
			needed = max(needed, cur);
			cur = U64_MAX;
		} else if (act->intuple) {
			if (cur == U64_MAX) {
				cur = ALIGN(size + sizeof(u32), sizeof(u64)) -
				      sizeof(u32);
				aggbase = cur - sizeof(u32);
			}
			cur = ALIGN(cur, rec->dtrd_alignment);
			rec->dtrd_offset = cur;
			cur += rec->dtrd_size;
			if (cur > DTRACE_ECB_MAXNEEDED)
				return -E2BIG;
		} else {
			if (rec->dtrd_size)
				size = ALIGN(size, rec->dtrd_alignment);
			rec->dtrd_offset = size;
			size += rec->dtrd_size;
			needed = max(needed, size);
		}
		if (needed > DTRACE_ECB_MAXNEEDED)
			return -E2BIG;
	}
	/* A lone speculate() still records its header (in the speculation). */
	if (cl->nacts && size == hdr &&
	    !(cl->nacts == 1 && cl->acts[0].kind == DTRACEACT_SPECULATE)) {
		size = 0;
		if (needed == hdr)
			needed = 0;
	}
	cl->size = ALIGN(size, sizeof(u32));
	cl->needed = ALIGN(needed, sizeof(u32));
	cl->align = maxalign;
	return 0;
}

/*
 * Can act be an aggregation key: a trace-like expression, a stack or a
 * symbol, not yet another aggregation's?
 */
static bool dtrace_act_is_key(const struct dtrace_action *act)
{
	if (act->intuple)
		return false;
	switch (act->kind) {
	case DTRACEACT_STACK:
	case DTRACEACT_USTACK:
		return true;
	case DTRACEACT_DIFEXPR:
	case DTRACEACT_SYM:
	case DTRACEACT_MOD:
	case DTRACEACT_USYM:
	case DTRACEACT_UMOD:
	case DTRACEACT_UADDR:
		return act->difo;
	}
	return false;
}

/*
 * The aggregating actions of clause cl, from ECB description ed: each
 * takes the ad_ntuple actions before it as its key (only trace-like
 * expressions; never another aggregation's), at least the variable id.
 */
static int dtrace_clause_aggs(struct dtrace_progctx *pc,
			      const struct dtrace_ecbdesc *ed,
			      struct dtrace_clause *cl)
{
	struct dtrace_action *act, *key;
	u32 j, k, nt;

	for (j = 0; j < cl->nacts; j++) {
		act = &cl->acts[j];
		if (DTRACEACT_CLASS(act->kind) != DTRACEACT_AGGREGATION)
			continue;
		nt = pc->actds[ed->ed_act + j].ad_ntuple;
		if (nt == 0 || nt > j)
			return -EINVAL;
		for (k = j - nt; k < j; k++) {
			key = &cl->acts[k];
			if (!dtrace_act_is_key(key))
				return -EINVAL;
			key->intuple = true;
		}
		key = &cl->acts[j - nt];
		key->rec.dtrd_alignment = max_t(u16, key->rec.dtrd_alignment,
						sizeof(u32));
		act->first = key;
		act->hasarg = nt > 1 && cl->acts[j - 1].rec.dtrd_size == 0;
		act->aggidx = cl->naggs++;
	}
	return 0;
}

/*
 * The key words of aggregation act (dtrace_aggregate() hashes and compares
 * a word at a time): for each key, the 8-aligned words its record covers
 * relative to the base and the masks of its bytes in the first and last.
 */
static void dtrace_clause_aggkeys(struct dtrace_clause *cl,
				  struct dtrace_action *act)
{
	struct dtrace_action *k;
	u32 o, end;

	for (k = cl->acts + (act->first - cl->acts); k < act; k++) {
		o = k->rec.dtrd_offset - act->aggbase;
		end = o + k->rec.dtrd_size;
		k->kwoff = round_down(o, sizeof(u64));
		k->kwords = k->rec.dtrd_size ?
			    (ALIGN(end, sizeof(u64)) - k->kwoff) / sizeof(u64) :
			    0;
		k->kmask0 = ~0ULL << (8 * (o % sizeof(u64)));
		k->kmaskn = end % sizeof(u64) ?
			    ~0ULL >> (64 - 8 * (end % sizeof(u64))) : ~0ULL;
		if (k->kwords == 1) {
			k->kmask0 &= k->kmaskn;
			k->kmaskn = k->kmask0;
		}
	}
}

/*
 * Does clause cl run no DIF at all: no predicate, and only trace-like and
 * aggregating actions whose values are constants, unused (count()) or a
 * built-in variable other than argN?  Then a firing needs only the part
 * of the machine state that stores and aggregation read (probe.c).
 */
static bool dtrace_clause_nodif(const struct dtrace_clause *cl)
{
	const struct dtrace_action *act;
	u32 i;

	if (cl->pred && !cl->predop)
		return false;
	for (i = 0; i < cl->nacts; i++) {
		act = &cl->acts[i];
		if (act->kind != DTRACEACT_DIFEXPR &&
		    DTRACEACT_CLASS(act->kind) != DTRACEACT_AGGREGATION)
			return false;
		if (!act->difo || act->isconst || act->aggnoeval)
			continue;
		if (!act->builtin || (act->builtin >= DIF_VAR_ARG0 &&
				      act->builtin <= DIF_VAR_ARG9))
			return false;
		if (DTRACEACT_CLASS(act->kind) == DTRACEACT_AGGREGATION)
			return false;	/* dtrace_ecb_agg() runs the DIFO */
	}
	return true;
}

/* Check ECB description i and build clause i from it. */
static int dtrace_prog_clause(struct dtrace_progctx *pc,
			      struct dtrace_enabling *en, u32 i,
			      struct dtrace_action **next)
{
	const struct dtrace_ecbdesc *ed = &pc->ecbds[i];
	const struct dtrace_probedesc *pd = &ed->ed_probe;
	struct dtrace_clause *cl = &en->clauses[i];
	u32 j;
	int err;

	if (ed->ed_pad || ed->ed_pad2 || pd->dtpd_id)
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_RESERVED, i,
					  DTRACE_NONE, DTRACE_NONE);
	if ((ed->ed_pred != DTRACE_NONE &&
	     ed->ed_pred >= pc->hdr->dp_ndifos) ||
	    (u64)ed->ed_act + ed->ed_nacts > pc->hdr->dp_nacts ||
	    !memchr(pd->dtpd_provider, 0, sizeof(pd->dtpd_provider)) ||
	    !memchr(pd->dtpd_mod, 0, sizeof(pd->dtpd_mod)) ||
	    !memchr(pd->dtpd_func, 0, sizeof(pd->dtpd_func)) ||
	    !memchr(pd->dtpd_name, 0, sizeof(pd->dtpd_name)))
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_ECB, i,
					  DTRACE_NONE, DTRACE_NONE);

	cl->pred = ed->ed_pred == DTRACE_NONE ? NULL : &en->difos[ed->ed_pred];
	cl->pdesc = pd;
	cl->uarg = ed->ed_uarg;
	cl->acts = *next;
	cl->nacts = ed->ed_nacts;
	*next += ed->ed_nacts;
	for (j = 0; j < cl->nacts; j++) {
		err = dtrace_prog_action(pc, en, ed->ed_act + j, &cl->acts[j]);
		if (err) {
			pc->de->de_ecb = i;
			return err;
		}
	}
	if (dtrace_clause_aggs(pc, ed, cl) || dtrace_clause_spec_check(cl))
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_ACTION, i,
					  DTRACE_NONE, DTRACE_NONE);
	if (dtrace_clause_layout(cl))
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_ECB, i,
					  DTRACE_NONE, DTRACE_NONE);
	for (j = 0; j < cl->nacts; j++) {
		if (DTRACEACT_CLASS(cl->acts[j].kind) == DTRACEACT_AGGREGATION)
			dtrace_clause_aggkeys(cl, &cl->acts[j]);
	}
	if (cl->pred && !dtrace_difo_relconst(cl->pred, &cl->predop,
					      &cl->predvar, &cl->predval))
		cl->predop = 0;
	cl->nodif = dtrace_clause_nodif(cl);
	return 0;
}

void dtrace_enabling_destroy(struct dtrace_enabling *en)
{
	dtrace_free(en->clauses);
	dtrace_free(en->acts);
	dtrace_free(en->difos);
	dtrace_free(en->prog);
	dtrace_free(en);
}

/*
 * The consumer's program memory (state->lock held): every enabling (its
 * copy of the program, with the DIF, integer and string tables, and the
 * DIFO, action and clause tables built from it) and the variable tables
 * merged from its DIFOs, with the by-ref descriptions made at GO.
 */
u64 dtrace_program_bytes(const struct dtrace_state *state)
{
	const struct dtrace_vstate *vs = &state->vstate;
	const struct dtrace_enabling *en;
	u64 bytes = 0;
	int sc;

	list_for_each_entry(en, &state->enablings, node) {
		bytes += sizeof(*en) + en->progsize;
		bytes += (u64)en->ndifos * sizeof(*en->difos);
		bytes += (u64)en->nacts * sizeof(*en->acts);
		bytes += (u64)en->nclauses * sizeof(*en->clauses);
	}
	for (sc = 0; sc < DTRACE_NSCOPES; sc++) {
		if (vs->vars[sc])
			bytes += (u64)vs->nvars[sc] * sizeof(*vs->vars[sc]);
		if (vs->info[sc])
			bytes += (u64)vs->nvars[sc] * sizeof(*vs->info[sc]);
	}
	return bytes;
}

/* Build the enabling from the program copy: everything but the ECBs. */
static int dtrace_prog_build(struct dtrace_progctx *pc,
			     struct dtrace_enabling *en)
{
	const struct dtrace_prog *hdr = pc->hdr;
	struct dtrace_action *next;
	u64 total = 0;
	u32 i;
	int err;

	err = dtrace_prog_header(pc);
	if (err)
		return err;
	err = dtrace_prog_options(pc);
	if (err)
		return err;

	for (i = 0; i < hdr->dp_necbs; i++)
		total += pc->ecbds[i].ed_nacts;
	if (total > DTRACE_PROG_MAXACTS)
		return dtrace_prog_refuse(pc->de, DTRACE_EPROG_ECB, DTRACE_NONE,
					  DTRACE_NONE, DTRACE_NONE);

	en->ndifos = hdr->dp_ndifos;
	en->nclauses = hdr->dp_necbs;
	en->nacts = total;
	en->difos = dtrace_zalloc_nowarn(array_size(en->ndifos,
						    sizeof(*en->difos)));
	en->acts = dtrace_zalloc_nowarn(array_size(total, sizeof(*en->acts)));
	en->clauses = dtrace_zalloc_nowarn(array_size(en->nclauses,
						      sizeof(*en->clauses)));
	if ((en->ndifos && !en->difos) || (total && !en->acts) ||
	    (en->nclauses && !en->clauses)) {
		pc->de->de_err = DTRACE_EPROG_NOMEM;
		return -ENOMEM;
	}

	for (i = 0; i < en->ndifos; i++) {
		err = dtrace_prog_difo(pc, en, i);
		if (err)
			return err;
	}
	/* Every action, also one no ECB uses, must be well formed. */
	for (i = 0; i < hdr->dp_nacts; i++) {
		struct dtrace_action scratch;

		err = dtrace_prog_action(pc, en, i, &scratch);
		if (err)
			return err;
	}
	next = en->acts;
	for (i = 0; i < en->nclauses; i++) {
		err = dtrace_prog_clause(pc, en, i, &next);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The user variables of the consumer after adding the DIFOs dp[0..ndifos):
 * new tables in nvars[]/nnvars[] (the old ones untouched).  Every (scope,
 * id) must be described alike by every DIFO (kind, type kind, flags,
 * size): else -EINVAL with *bad the DIFO index.  -ENOMEM when out of
 * memory.
 */
int dtrace_vars_merge(struct dtrace_vstate *vs, const struct dif_object *dp,
		      u32 ndifos, struct dtrace_var **nvars, u32 *nnvars,
		      u32 *bad)
{
	const struct dtrace_difv *v;
	struct dtrace_var *e;
	u32 i, j, sc, idx;

	for (sc = 0; sc < DTRACE_NSCOPES; sc++) {
		nvars[sc] = NULL;
		nnvars[sc] = vs->nvars[sc];
	}
	for (i = 0; i < ndifos; i++) {
		for (j = 0; j < dp[i].varlen; j++) {
			v = &dp[i].vartab[j];
			if (v->dtdv_id < DIF_VAR_OTHER_UBASE)
				continue;
			idx = v->dtdv_id - DIF_VAR_OTHER_UBASE;
			sc = v->dtdv_scope;
			if (WARN_ON_ONCE(sc >= DTRACE_NSCOPES))
				return -EINVAL;	/* dif_validate() refuses */
			nnvars[sc] = max(nnvars[sc], idx + 1);
		}
	}
	for (sc = 0; sc < DTRACE_NSCOPES; sc++) {
		if (!nnvars[sc])
			continue;
		nvars[sc] = dtrace_zalloc_nowarn(array_size(nnvars[sc],
							    sizeof(*e)));
		if (!nvars[sc])
			goto nomem;
		if (vs->nvars[sc])
			memcpy(nvars[sc], vs->vars[sc],
			       vs->nvars[sc] * sizeof(*e));
	}
	for (i = 0; i < ndifos; i++) {
		for (j = 0; j < dp[i].varlen; j++) {
			v = &dp[i].vartab[j];
			if (v->dtdv_id < DIF_VAR_OTHER_UBASE)
				continue;
			e = &nvars[v->dtdv_scope][v->dtdv_id -
						  DIF_VAR_OTHER_UBASE];
			if (!e->used) {
				e->used = 1;
				e->kind = v->dtdv_kind;
				e->type = v->dtdv_type;
				continue;
			}
			if (e->kind != v->dtdv_kind ||
			    e->type.dtdt_kind != v->dtdv_type.dtdt_kind ||
			    e->type.dtdt_flags != v->dtdv_type.dtdt_flags ||
			    e->type.dtdt_size != v->dtdv_type.dtdt_size) {
				*bad = i;
				for (sc = 0; sc < DTRACE_NSCOPES; sc++)
					dtrace_free(nvars[sc]);
				return -EINVAL;
			}
		}
	}
	return 0;
nomem:
	for (sc = 0; sc < DTRACE_NSCOPES; sc++)
		dtrace_free(nvars[sc]);
	return -ENOMEM;
}

/* Make room for n more aggregation ids in the state's table. */
static int dtrace_state_reserve_aggs(struct dtrace_state *state, u32 n)
{
	struct dtrace_aggid *tab;
	u64 cap;

	if ((u64)state->naggs + n <= state->aggs_cap)
		return 0;
	cap = max_t(u64, (u64)state->naggs + n, 2ULL * state->aggs_cap);
	if (cap > U32_MAX / 2)
		return -ENOMEM;
	tab = dtrace_zalloc_nowarn(array_size(cap, sizeof(*tab)));
	if (!tab)
		return -ENOMEM;
	if (state->naggs)
		memcpy(tab, state->aggs, state->naggs * sizeof(*tab));
	dtrace_free(state->aggs);
	state->aggs = tab;
	state->aggs_cap = cap;
	return 0;
}

/* Make room for n more ECBs in the state's EPID table. */
static int dtrace_state_reserve_ecbs(struct dtrace_state *state, u32 n)
{
	struct dtrace_ecb **tab;
	u64 cap;

	if ((u64)state->necbs + n <= state->ecbs_cap)
		return 0;
	cap = max_t(u64, (u64)state->necbs + n, 2ULL * state->ecbs_cap);
	if (cap > U32_MAX / 2)
		return -ENOMEM;
	tab = dtrace_zalloc_nowarn(array_size(cap, sizeof(*tab)));
	if (!tab)
		return -ENOMEM;
	if (state->necbs)
		memcpy(tab, state->ecbs, state->necbs * sizeof(*tab));
	dtrace_free(state->ecbs);
	state->ecbs = tab;
	state->ecbs_cap = cap;
	return 0;
}

/*
 * Create and link one ECB per (clause, matching probe), EPIDs in that
 * order.  All or nothing.
 */
static int dtrace_prog_ecbs(struct dtrace_state *state,
			    struct dtrace_enabling *en, u32 *nmatched)
{
	u32 base = state->necbs, n = 0, k = 0, maxid, i, id, nagg = 0, a;
	struct dtrace_probe *probe;
	struct dtrace_ecb *ecb;
	int err;

	mutex_lock(&dtrace_lock);
	for (i = 0; i < en->nclauses; i++)
		dtrace_provide_desc(en->clauses[i].pdesc);
	maxid = dtrace_probe_max_id();
	for (id = 1; id <= maxid; id++) {
		probe = dtrace_probe_get(id);
		if (probe)
			probe->prov->narming = 0;
	}
	err = 0;
	for (i = 0; i < en->nclauses; i++) {
		for (id = 1; id <= maxid; id++) {
			probe = dtrace_probe_get(id);
			if (!probe || !dtrace_probe_match(probe,
							 en->clauses[i].pdesc))
				continue;
			n++;
			nagg += en->clauses[i].naggs;
			if (probe->prov->enable_limit && !probe->necbs &&
			    ++probe->prov->narming > probe->prov->enable_limit)
				err = -E2BIG;
		}
	}
	if (err)
		goto unlock;
	/* Allocate everything before linking anything. */
	err = dtrace_state_reserve_ecbs(state, n);
	if (!err)
		err = dtrace_state_reserve_aggs(state, nagg);
	if (err)
		goto unlock;
	for (k = 0; k < n; k++) {
		state->ecbs[base + k] = dtrace_zalloc(sizeof(*ecb));
		if (!state->ecbs[base + k]) {
			err = -ENOMEM;
			goto free;
		}
	}

	k = 0;
	nagg = state->naggs;
	for (i = 0; i < en->nclauses; i++) {
		for (id = 1; id <= maxid; id++) {
			probe = dtrace_probe_get(id);
			if (!probe || !dtrace_probe_match(probe,
							  en->clauses[i].pdesc))
				continue;
			ecb = state->ecbs[base + k];
			ecb->epid = base + k + 1;
			ecb->state = state;
			ecb->probe = probe;
			ecb->clause = &en->clauses[i];
			ecb->aggid = en->clauses[i].naggs ? nagg + 1 : 0;
			for (a = 0; a < ecb->clause->nacts; a++) {
				const struct dtrace_action *act;

				act = &ecb->clause->acts[a];
				if (DTRACEACT_CLASS(act->kind) !=
				    DTRACEACT_AGGREGATION)
					continue;
				state->aggs[nagg].ecb = ecb;
				state->aggs[nagg++].act = act;
			}
			err = dtrace_ecb_link(ecb);
			if (err)
				goto unlink;
			k++;
		}
	}
	state->necbs += n;
	state->naggs = nagg;
	mutex_unlock(&dtrace_lock);
	*nmatched = n;
	return 0;

unlink:
	for (i = 0; i < k; i++)
		dtrace_ecb_unlink(state->ecbs[base + i]);
	dtrace_providers_flush();
	mutex_unlock(&dtrace_lock);
	dtrace_sync();
	mutex_lock(&dtrace_lock);
	k = n;
free:
	for (i = 0; i < k; i++) {
		dtrace_free(state->ecbs[base + i]);
		state->ecbs[base + i] = NULL;
	}
unlock:
	mutex_unlock(&dtrace_lock);
	return err;
}

/* DTRACEIOC_ENABLE; de is the caller's copy of the user's argument. */
int dtrace_enable(struct dtrace_state *state, struct dtrace_enable *de)
{
	struct dtrace_progctx pc = { .de = de };
	struct dtrace_var *nvars[DTRACE_NSCOPES];
	u32 nnvars[DTRACE_NSCOPES];
	struct dtrace_enabling *en;
	u32 i, nmatched = 0, bad = 0;
	int err;

	de->de_nmatched = 0;
	de->de_err = DTRACE_EPROG_NONE;
	de->de_ecb = DTRACE_NONE;
	de->de_difo = DTRACE_NONE;
	de->de_offset = DTRACE_NONE;
	for (i = 0; i < ARRAY_SIZE(de->de_reserved); i++) {
		if (de->de_reserved[i])
			return dtrace_prog_refuse(de, DTRACE_EPROG_RESERVED,
						  DTRACE_NONE, DTRACE_NONE,
						  DTRACE_NONE);
	}
	if (de->de_size > DTRACE_PROG_MAXSIZE) {
		de->de_err = DTRACE_EPROG_HEADER;
		return -E2BIG;
	}
	if (de->de_size < sizeof(struct dtrace_prog))
		return dtrace_prog_refuse(de, DTRACE_EPROG_HEADER, DTRACE_NONE,
					  DTRACE_NONE, DTRACE_NONE);

	mutex_lock(&state->lock);
	if (READ_ONCE(state->activity) != DTRACE_ACTIVITY_INACTIVE) {
		err = -EBUSY;
		goto unlock;
	}
	en = dtrace_zalloc(sizeof(*en));
	if (en)
		en->prog = dtrace_zalloc_nowarn(de->de_size);
	if (!en || !en->prog) {
		de->de_err = DTRACE_EPROG_NOMEM;
		err = -ENOMEM;
		goto free;
	}
	if (copy_from_user(en->prog, u64_to_user_ptr(de->de_prog),
			   de->de_size)) {
		err = -EFAULT;
		goto free;
	}
	en->progsize = de->de_size;
	pc.base = en->prog;
	pc.size = de->de_size;
	pc.hdr = en->prog;

	err = dtrace_prog_build(&pc, en);
	if (err)
		goto free;
	err = dtrace_vars_merge(&state->vstate, en->difos, en->ndifos, nvars,
				nnvars, &bad);
	if (err == -EINVAL) {
		dtrace_prog_refuse(de, DTRACE_EPROG_VARTAB, DTRACE_NONE, bad,
				   DTRACE_NONE);
		goto free;
	}
	if (err) {
		de->de_err = DTRACE_EPROG_NOMEM;
		goto free;
	}
	err = dtrace_prog_ecbs(state, en, &nmatched);
	if (err) {
		de->de_err = err == -ENOMEM ? DTRACE_EPROG_NOMEM :
			     DTRACE_EPROG_NONE;
		for (i = 0; i < DTRACE_NSCOPES; i++)
			dtrace_free(nvars[i]);
		goto free;
	}
	for (i = 0; i < DTRACE_NSCOPES; i++) {
		dtrace_free(state->vstate.vars[i]);
		state->vstate.vars[i] = nvars[i];
		state->vstate.nvars[i] = nnvars[i];
	}

	/* Accepted: the options take effect, the enabling stays. */
	for (i = 0; i < pc.hdr->dp_nopts; i++)
		state->options[pc.optds[i].do_option] = pc.optds[i].do_value;
	list_add_tail(&en->node, &state->enablings);
	de->de_nmatched = nmatched;
	mutex_unlock(&state->lock);
	return 0;

free:
	if (en)
		dtrace_enabling_destroy(en);
unlock:
	mutex_unlock(&state->lock);
	return err;
}

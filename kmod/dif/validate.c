// SPDX-License-Identifier: GPL-2.0
/*
 * The DIF validator: every check of dtrace_difo_validate() (see
 * dtrace-internals.md 2.3), plus the checks a robust implementation adds:
 * every user variable an instruction names is in the DIFO's variable table
 * with the matching scope and kind, the text is not longer than
 * DTRACE_DIFO_MAXLEN, and a non-empty string table ends in NUL.
 *
 * The first error wins: whole-object checks (sizes, tables, return type,
 * variable table) come first and report pc DTRACE_NONE, then instructions
 * in order, then "last instruction must be ret" at pc len - 1.
 *
 * Portable C: no allocation, no libc, nothing but the uapi contract.
 */
#include "dif_impl.h"

static inline DIF_NOTRACE int dif_verror(struct dif_verr *err, __u32 reason,
					 __u32 pc)
{
	err->err = reason;
	err->pc = pc;
	return -1;
}

/* Register fields: r1/r2/rd, each optionally required to be zero. */
#define DIF_R_USE	0	/* must be < nregs */
#define DIF_R_ZERO	1	/* reserved: must be 0 */
#define DIF_R_NONE	2	/* field is part of something else */

static inline DIF_NOTRACE int dif_vreg(struct dif_verr *err, __u32 pc,
				       __u32 reg, int how)
{
	if (how == DIF_R_USE && reg >= DIF_DIR_NREGS)
		return dif_verror(err, DTRACE_EPROG_REG, pc);
	if (how == DIF_R_ZERO && reg != 0)
		return dif_verror(err, DTRACE_EPROG_RSVBITS, pc);
	return 0;
}

/*
 * Check the three register fields in the order illumos does (r1, r2, rd),
 * then "rd must not be %r0" when wr0 is set.
 */
static DIF_NOTRACE int dif_vregs(struct dif_verr *err, __u32 pc, __u32 instr,
				 int h1, int h2, int hd, int wr0)
{
	if (dif_vreg(err, pc, DIF_INSTR_R1(instr), h1) ||
	    dif_vreg(err, pc, DIF_INSTR_R2(instr), h2) ||
	    dif_vreg(err, pc, DIF_INSTR_RD(instr), hd))
		return -1;
	if (wr0 && DIF_INSTR_RD(instr) == 0)
		return dif_verror(err, DTRACE_EPROG_R0, pc);
	return 0;
}

/* Is (id, scope, kind) declared in the variable table? */
static DIF_NOTRACE int dif_vartab_has(const struct dif_object *dp, __u32 id,
				      __u8 scope, __u8 kind)
{
	__u32 i;

	for (i = 0; i < dp->varlen; i++) {
		const struct dtrace_difv *v = &dp->vartab[i];

		if (v->dtdv_id == id && v->dtdv_scope == scope &&
		    v->dtdv_kind == kind)
			return 1;
	}
	return 0;
}

/*
 * A variable load or store: the id range, then (for user variables) the
 * variable table entry.  min is DIF_VAR_OTHER_MIN for loads and
 * DIF_VAR_OTHER_UBASE for stores (built-ins are read-only).
 */
static DIF_NOTRACE int dif_vvar(const struct dif_object *dp,
				struct dif_verr *err, __u32 pc, __u32 instr,
				__u32 min, __u8 scope, __u8 kind, int wr0)
{
	__u32 id = DIF_INSTR_VAR(instr);
	__u32 rd = DIF_INSTR_RD(instr);

	if (id < min || id > DIF_VAR_OTHER_MAX)
		return dif_verror(err, DTRACE_EPROG_VAR, pc);
	if (rd >= DIF_DIR_NREGS)
		return dif_verror(err, DTRACE_EPROG_REG, pc);
	if (wr0 && rd == 0)
		return dif_verror(err, DTRACE_EPROG_R0, pc);
	if (id >= DIF_VAR_OTHER_UBASE &&
	    !dif_vartab_has(dp, id, scope, kind))
		return dif_verror(err, DTRACE_EPROG_VAR, pc);
	return 0;
}

static DIF_NOTRACE int dif_vbranch(const struct dif_object *dp,
				   struct dif_verr *err, __u32 pc,
				   __u32 instr)
{
	__u32 label = DIF_INSTR_LABEL(instr);

	if (label >= dp->len || label <= pc)
		return dif_verror(err, DTRACE_EPROG_BRANCH, pc);
	return 0;
}

/* One instruction. */
static DIF_NOTRACE int dif_vinstr(struct dif_object *dp, struct dif_verr *err,
				  __u32 pc)
{
	__u32 instr = dp->text[pc];
	__u32 op = DIF_INSTR_OP(instr);

	switch (op) {
	case DIF_OP_OR:
	case DIF_OP_XOR:
	case DIF_OP_AND:
	case DIF_OP_SLL:
	case DIF_OP_SRL:
	case DIF_OP_SRA:
	case DIF_OP_SUB:
	case DIF_OP_ADD:
	case DIF_OP_MUL:
	case DIF_OP_SDIV:
	case DIF_OP_UDIV:
	case DIF_OP_SREM:
	case DIF_OP_UREM:
	case DIF_OP_COPYS:
		return dif_vregs(err, pc, instr, DIF_R_USE, DIF_R_USE,
				 DIF_R_USE, 1);
	case DIF_OP_NOT:
	case DIF_OP_MOV:
	case DIF_OP_ALLOCS:
	case DIF_OP_LDSB ... DIF_OP_LDX:
	case DIF_OP_ULDSB ... DIF_OP_ULDX:
	case DIF_OP_RLDSB ... DIF_OP_RLDX:
	case DIF_OP_STB ... DIF_OP_STX:
		/* stores: rd is the address, and it must not be %r0 */
		return dif_vregs(err, pc, instr, DIF_R_USE, DIF_R_ZERO,
				 DIF_R_USE, 1);
	case DIF_OP_CMP:
	case DIF_OP_SCMP:
		return dif_vregs(err, pc, instr, DIF_R_USE, DIF_R_USE,
				 DIF_R_ZERO, 0);
	case DIF_OP_TST:
		return dif_vregs(err, pc, instr, DIF_R_USE, DIF_R_ZERO,
				 DIF_R_ZERO, 0);
	case DIF_OP_BA ... DIF_OP_BLEU:
		return dif_vbranch(dp, err, pc, instr);
	case DIF_OP_RET:
		return dif_vregs(err, pc, instr, DIF_R_ZERO, DIF_R_ZERO,
				 DIF_R_USE, 0);
	case DIF_OP_NOP:
	case DIF_OP_POPTS:
	case DIF_OP_FLUSHTS:
		return dif_vregs(err, pc, instr, DIF_R_ZERO, DIF_R_ZERO,
				 DIF_R_ZERO, 0);
	case DIF_OP_SETX:
		if (DIF_INSTR_INTEGER(instr) >= dp->intlen)
			return dif_verror(err, DTRACE_EPROG_INTIDX, pc);
		return dif_vregs(err, pc, instr, DIF_R_NONE, DIF_R_NONE,
				 DIF_R_USE, 1);
	case DIF_OP_SETS:
		if (DIF_INSTR_STRING(instr) >= dp->strlen)
			return dif_verror(err, DTRACE_EPROG_STRIDX, pc);
		return dif_vregs(err, pc, instr, DIF_R_NONE, DIF_R_NONE,
				 DIF_R_USE, 1);
	case DIF_OP_LDGA:
	case DIF_OP_LDTA:
		/* r1 is the 8-bit array id: always <= DIF_VAR_ARRAY_MAX */
		return dif_vregs(err, pc, instr, DIF_R_NONE, DIF_R_USE,
				 DIF_R_USE, 1);
	case DIF_OP_LDGS:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_MIN,
				DIFV_SCOPE_GLOBAL, DIFV_KIND_SCALAR, 1);
	case DIF_OP_LDTS:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_MIN,
				DIFV_SCOPE_THREAD, DIFV_KIND_SCALAR, 1);
	case DIF_OP_LDLS:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_MIN,
				DIFV_SCOPE_LOCAL, DIFV_KIND_SCALAR, 1);
	case DIF_OP_LDGAA:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_MIN,
				DIFV_SCOPE_GLOBAL, DIFV_KIND_ARRAY, 1);
	case DIF_OP_LDTAA:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_MIN,
				DIFV_SCOPE_THREAD, DIFV_KIND_ARRAY, 1);
	case DIF_OP_STGS:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_UBASE,
				DIFV_SCOPE_GLOBAL, DIFV_KIND_SCALAR, 0);
	case DIF_OP_STTS:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_UBASE,
				DIFV_SCOPE_THREAD, DIFV_KIND_SCALAR, 0);
	case DIF_OP_STLS:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_UBASE,
				DIFV_SCOPE_LOCAL, DIFV_KIND_SCALAR, 0);
	case DIF_OP_STGAA:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_UBASE,
				DIFV_SCOPE_GLOBAL, DIFV_KIND_ARRAY, 0);
	case DIF_OP_STTAA:
		return dif_vvar(dp, err, pc, instr, DIF_VAR_OTHER_UBASE,
				DIFV_SCOPE_THREAD, DIFV_KIND_ARRAY, 0);
	case DIF_OP_CALL:
		if (DIF_INSTR_SUBR(instr) > DIF_SUBR_MAX)
			return dif_verror(err, DTRACE_EPROG_SUBR, pc);
		if (dif_vregs(err, pc, instr, DIF_R_NONE, DIF_R_NONE,
			      DIF_R_USE, 1))
			return -1;
		if (DIF_INSTR_SUBR(instr) == DIF_SUBR_COPYOUT ||
		    DIF_INSTR_SUBR(instr) == DIF_SUBR_COPYOUTSTR)
			dp->destructive = 1;
		return 0;
	case DIF_OP_PUSHTR:
		if (DIF_INSTR_TYPE(instr) != DIF_TYPE_CTF &&
		    DIF_INSTR_TYPE(instr) != DIF_TYPE_STRING)
			return dif_verror(err, DTRACE_EPROG_TUPLE, pc);
		return dif_vregs(err, pc, instr, DIF_R_NONE, DIF_R_USE,
				 DIF_R_USE, 0);
	case DIF_OP_PUSHTV:
		if (DIF_INSTR_TYPE(instr) != DIF_TYPE_CTF)
			return dif_verror(err, DTRACE_EPROG_TUPLE, pc);
		return dif_vregs(err, pc, instr, DIF_R_NONE, DIF_R_USE,
				 DIF_R_USE, 0);
	default:
		/* 0, xlate, xlarg and everything above DIF_OP_MAX */
		return dif_verror(err, DTRACE_EPROG_OPCODE, pc);
	}
}

/* One entry of the variable table. */
static DIF_NOTRACE int dif_vdifv(const struct dtrace_difv *v)
{
	const struct dtrace_diftype *t = &v->dtdv_type;

	if (v->dtdv_id > DIF_VARIABLE_MAX)
		return -1;
	if (v->dtdv_scope != DIFV_SCOPE_GLOBAL &&
	    v->dtdv_scope != DIFV_SCOPE_THREAD &&
	    v->dtdv_scope != DIFV_SCOPE_LOCAL)
		return -1;
	if (v->dtdv_kind != DIFV_KIND_ARRAY &&
	    v->dtdv_kind != DIFV_KIND_SCALAR)
		return -1;
	if (v->dtdv_id < DIF_VAR_OTHER_UBASE)
		return 0;
	if (t->dtdt_kind != DIF_TYPE_KIND_CTF &&
	    t->dtdt_kind != DIF_TYPE_KIND_STRING)
		return -1;
	if ((t->dtdt_flags & DIF_TF_BYREF) && t->dtdt_size == 0)
		return -1;		/* zero-sized variable */
	if (v->dtdv_scope == DIFV_SCOPE_GLOBAL &&
	    (t->dtdt_flags & DIF_TF_BYREF) &&
	    t->dtdt_size > DIF_GLOBAL_MAXSIZE)
		return -1;		/* oversized by-ref global */
	return 0;
}

static DIF_NOTRACE int dif_vobject(const struct dif_object *dp,
				   struct dif_verr *err)
{
	__u32 size = dp->rtype.dtdt_size;
	__u32 i;

	if (dp->len > DTRACE_DIFO_MAXLEN || (dp->len && !dp->text) ||
	    (dp->intlen && !dp->inttab) || (dp->strlen && !dp->strtab) ||
	    (dp->varlen && !dp->vartab) ||
	    dp->intlen > DIF_INTOFF_MAX + 1 || dp->strlen > DIF_STROFF_MAX + 1)
		return dif_verror(err, DTRACE_EPROG_DIFO, DTRACE_NONE);
	if (dp->strlen && dp->strtab[dp->strlen - 1] != '\0')
		return dif_verror(err, DTRACE_EPROG_STRTAB, DTRACE_NONE);
	if (!(dp->rtype.dtdt_flags & DIF_TF_BYREF) &&
	    size != 0 && size != 1 && size != 2 && size != 4 && size != 8)
		return dif_verror(err, DTRACE_EPROG_RET, DTRACE_NONE);
	if (dp->varlen > DIF_VARTAB_MAX)
		return dif_verror(err, DTRACE_EPROG_VARTAB, DTRACE_NONE);
	for (i = 0; i < dp->varlen; i++) {
		if (dif_vdifv(&dp->vartab[i]))
			return dif_verror(err, DTRACE_EPROG_VARTAB,
					  DTRACE_NONE);
	}
	return 0;
}

DIF_NOTRACE int dif_validate(struct dif_object *dp, struct dif_verr *err)
{
	__u32 pc;

	err->err = DTRACE_EPROG_NONE;
	err->pc = DTRACE_NONE;
	dp->destructive = 0;

	if (dif_vobject(dp, err))
		return -1;
	for (pc = 0; pc < dp->len; pc++) {
		if (dif_vinstr(dp, err, pc))
			return -1;
	}
	if (dp->len && DIF_INSTR_OP(dp->text[dp->len - 1]) != DIF_OP_RET)
		return dif_verror(err, DTRACE_EPROG_RET, dp->len - 1);
	return 0;
}
NOKPROBE_SYMBOL(dif_validate);

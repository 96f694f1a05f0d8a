// SPDX-License-Identifier: GPL-2.0
/*
 * libdtrace: one pass over a BTF type section (Documentation/bpf/btf.rst),
 * for the compiler's BTF reader (pydtrace/sema/btf.py).  Python looks types
 * up by name with a search of the raw bytes; what it cannot do quickly is
 * the walk that numbers the records (a type's id is its position), nor
 * telling typedef records from bytes that merely look like one.  This does
 * both in one pass over the 5 MB of a vmlinux blob.
 */
#include <stdint.h>
#include <string.h>

#include "libdtrace.h"

#define BTF_KIND_MAX	19

/* Bytes after struct btf_type: fixed, and per vlen item (btf.h). */
static const struct {
	unsigned char fixed, per;
} btf_extra[BTF_KIND_MAX + 1] = {
	[1] = { 4, 0 },		/* INT */
	[2] = { 0, 0 },		/* PTR */
	[3] = { 12, 0 },	/* ARRAY */
	[4] = { 0, 12 },	/* STRUCT */
	[5] = { 0, 12 },	/* UNION */
	[6] = { 0, 8 },		/* ENUM */
	[7] = { 0, 0 },		/* FWD */
	[8] = { 0, 0 },		/* TYPEDEF */
	[9] = { 0, 0 },		/* VOLATILE */
	[10] = { 0, 0 },	/* CONST */
	[11] = { 0, 0 },	/* RESTRICT */
	[12] = { 0, 0 },	/* FUNC */
	[13] = { 0, 8 },	/* FUNC_PROTO */
	[14] = { 4, 0 },	/* VAR */
	[15] = { 0, 12 },	/* DATASEC */
	[16] = { 0, 0 },	/* FLOAT */
	[17] = { 4, 0 },	/* DECL_TAG */
	[18] = { 0, 0 },	/* TYPE_TAG */
	[19] = { 0, 12 },	/* ENUM64 */
};

long dt_btf_scan(const void *blob, size_t start, size_t end, uint32_t *offs,
		 size_t cap, uint32_t *tdefs, size_t tcap, size_t *ntdefs)
{
	const unsigned char *p = (const unsigned char *)blob + start;
	size_t len = end - start, off = 0, n = 0, nt = 0;

	if (end < start || end > UINT32_MAX)
		return DT_BTF_ETRUNC;
	if (len % 4)
		return DT_BTF_EALIGN;
	while (off < len) {
		uint32_t name, info, kind;

		if (len - off < 12)
			return DT_BTF_ETRUNC;
		memcpy(&name, p + off, 4);
		memcpy(&info, p + off + 4, 4);
		kind = (info >> 24) & 0x1f;
		if (kind == 0 || kind > BTF_KIND_MAX)
			return DT_BTF_EKIND;
		if (n == cap)
			return DT_BTF_ESPACE;
		offs[n++] = start + off;
		if (kind == 8) {
			if (nt == tcap)
				return DT_BTF_ESPACE;
			tdefs[nt++] = name;
		}
		off += 12 + btf_extra[kind].fixed +
		       (size_t)btf_extra[kind].per * (info & 0xffff);
	}
	if (off != len)
		return DT_BTF_ETRUNC;
	*ntdefs = nt;
	return n;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * DIF subroutines: the call instruction (dtrace-internals.md 1.10).
 *
 * Semantics are illumos': every string is bounded by strsize; every string
 * result is a fresh scratch allocation (dif_alloc(): bump pointer, 8-byte
 * aligned) of strsize bytes (65 for lltostr(), 16 or 46 for the inet
 * ones, exactly the bytes needed for strjoin()); no room is NOSCRATCH with
 * result 0.  Every read of traced memory goes through dif_str_byte()
 * (strings, in chunks with a byte-by-byte fallback) or dif_env_kload() /
 * dif_env_uload(); an unreadable byte is BADADDR with illval = its
 * address.  Every consumer is privileged, so the canload() rules reduce to
 * "readable".
 *
 * The arguments are the tuple stack entries 0 .. nt - 1 (the compiler
 * flushes the stack before building each argument list), so the stack
 * depth is the argument count: fewer than a subroutine needs is ILLOP, and
 * optional arguments are present when the depth says so.
 *
 * Probe-context safe: no allocation, no locks, no recursion, no libc; every
 * loop is bounded by strsize, by a fixed size or by an explicit size that
 * was checked against scratch space.
 */
#include "dif_impl.h"

/*
 * Address families: the Linux values (AF_INET6 is 26 on illumos), since
 * D programs on Linux pass the values of the kernel they run on.
 */
#define DIF_AF_INET		2
#define DIF_AF_INET6		10

#define DIF_INET_ADDRSTRLEN	16
#define DIF_INET6_ADDRSTRLEN	46
#define DIF_LLTOSTR_SIZE	65	/* 64 binary digits and the NUL */

/*
 * Minimum number of arguments of each subroutine (optional ones are not
 * counted), or -1 for the subroutines not implemented, which fault ILLOP:
 *   msgdsize, msgsize, ddi_pathname, getf (the compiler refuses them).
 * Those that need the kernel's types (the lock subroutines, progenyof,
 * d_path) are the environment's: dif_env_subr().
 */
static DIF_NOTRACE int dif_subr_nargs(__u32 subr)
{
	switch (subr) {
	case DIF_SUBR_RAND:
	case DIF_SUBR_SPECULATION:
		return 0;
	case DIF_SUBR_STRLEN:
	case DIF_SUBR_ALLOCA:
	case DIF_SUBR_GETMAJOR:
	case DIF_SUBR_GETMINOR:
	case DIF_SUBR_HTONS:
	case DIF_SUBR_HTONL:
	case DIF_SUBR_HTONLL:
	case DIF_SUBR_NTOHS:
	case DIF_SUBR_NTOHL:
	case DIF_SUBR_NTOHLL:
	case DIF_SUBR_COPYINSTR:	/* [, size] */
	case DIF_SUBR_LLTOSTR:		/* [, base] */
	case DIF_SUBR_BASENAME:
	case DIF_SUBR_DIRNAME:
	case DIF_SUBR_CLEANPATH:
	case DIF_SUBR_INET_NTOA:
	case DIF_SUBR_INET_NTOA6:
	case DIF_SUBR_TOUPPER:
	case DIF_SUBR_TOLOWER:
	case DIF_SUBR_STRTOLL:		/* [, base] */
	case DIF_SUBR_MUTEX_OWNED:
	case DIF_SUBR_MUTEX_OWNER:
	case DIF_SUBR_MUTEX_TYPE_ADAPTIVE:
	case DIF_SUBR_MUTEX_TYPE_SPIN:
	case DIF_SUBR_RW_READ_HELD:
	case DIF_SUBR_RW_WRITE_HELD:
	case DIF_SUBR_RW_ISWRITER:
	case DIF_SUBR_PROGENYOF:
	case DIF_SUBR_D_PATH:
		return 1;
	case DIF_SUBR_COPYIN:
	case DIF_SUBR_STRJOIN:
	case DIF_SUBR_STRCHR:
	case DIF_SUBR_STRRCHR:
	case DIF_SUBR_STRSTR:
	case DIF_SUBR_STRTOK:
	case DIF_SUBR_SUBSTR:		/* [, len] */
	case DIF_SUBR_INDEX:		/* [, start] */
	case DIF_SUBR_RINDEX:		/* [, start] */
	case DIF_SUBR_INET_NTOP:
	case DIF_SUBR_JSON:
		return 2;
	case DIF_SUBR_BCOPY:
	case DIF_SUBR_COPYINTO:
	case DIF_SUBR_COPYOUT:
	case DIF_SUBR_COPYOUTSTR:
		return 3;
	default:
		return -1;
	}
}

static inline DIF_NOTRACE char *dif_ptr(__u64 addr)
{
	return (char *)(unsigned long)addr;
}

/* A string cursor over kernel memory (user = 1: user memory). */
static inline DIF_NOTRACE void dif_sc(struct dif_strcur *sc, __u64 addr,
				      int user)
{
	dif_strcur_init(sc, addr, 0);
	sc->user = user;
}

/* Byte i of sc, or NUL from lim on; -1 on a fault. */
static inline DIF_NOTRACE int dif_getc(struct dif_mstate *ms,
				       struct dif_strcur *sc, __u64 i,
				       __u64 lim, __u8 *c)
{
	if (i >= lim) {
		*c = 0;
		return 0;
	}
	return dif_str_byte(ms, sc, i, c);
}

/* Byte *i of sc (NUL from lim on), advancing *i up to lim. */
static inline DIF_NOTRACE int dif_next(struct dif_mstate *ms,
				       struct dif_strcur *sc, __u64 *i,
				       __u64 lim, __u8 *c)
{
	if (dif_getc(ms, sc, *i, lim, c))
		return -1;
	if (*i < lim)
		(*i)++;
	return 0;
}

/* strlen() of a cursor's string bounded by lim. */
static DIF_NOTRACE int dif_sclen(struct dif_mstate *ms, struct dif_strcur *sc,
				 __u64 lim, __u64 *len)
{
	__u64 i;
	__u8 c;

	for (i = 0; i < lim; i++) {
		if (dif_str_byte(ms, sc, i, &c))
			return -1;
		if (!c)
			break;
	}
	*len = i;
	return 0;
}
NOKPROBE_SYMBOL(dif_sclen);

/* Read size bytes of user memory into dst, a page at a time. */
static DIF_NOTRACE void dif_uread(struct dif_mstate *ms, __u64 dst,
				  __u64 uaddr, __u64 size)
{
	__u64 n;

	while (size) {
		n = DIF_PAGESIZE - (uaddr & (DIF_PAGESIZE - 1));
		if (n > size)
			n = size;
		if (uaddr + n < uaddr ||
		    dif_env_uload(ms->env, dif_ptr(dst), uaddr, (__u32)n)) {
			dif_fault(ms, DIF_F_BADADDR, uaddr);
			return;
		}
		dst += n;
		uaddr += n;
		size -= n;
	}
}
NOKPROBE_SYMBOL(dif_uread);

/* copyin(uaddr, size): size bytes of user memory in fresh scratch. */
static DIF_NOTRACE __u64 dif_copyin(struct dif_mstate *ms, __u64 uaddr,
				    __u64 size)
{
	__u64 dest = dif_alloc(ms, size);

	if (!dest)
		return 0;
	dif_uread(ms, dest, uaddr, size);
	return dest;
}
NOKPROBE_SYMBOL(dif_copyin);

/* copyinto(uaddr, size, dest): dest must be allocated scratch. */
static DIF_NOTRACE void dif_copyinto(struct dif_mstate *ms, __u64 uaddr,
				     __u64 size, __u64 dest)
{
	if (!dif_in_scratch(ms, dest, size)) {
		dif_fault(ms, DIF_F_BADADDR, dest);
		return;
	}
	dif_uread(ms, dest, uaddr, size);
}
NOKPROBE_SYMBOL(dif_copyinto);

/*
 * copyout(src, uaddr, size): size bytes of kernel memory at src written to
 * the current process at uaddr (destructive: GO needs the destructive
 * option).  Page by page through a bounce buffer; an unreadable source or
 * unwritable destination is BADADDR, what was written before it stays.
 */
static DIF_NOTRACE void dif_copyout(struct dif_mstate *ms, __u64 src,
				    __u64 uaddr, __u64 size)
{
	__u8 buf[DIF_STRCHUNK];
	__u64 n;

	if (src + size < src || uaddr + size < uaddr) {
		dif_fault(ms, DIF_F_BADADDR, uaddr);
		return;
	}
	while (size) {
		n = size < sizeof(buf) ? size : sizeof(buf);
		if (dif_env_kload(ms->env, buf, src, (__u32)n)) {
			dif_fault(ms, DIF_F_BADADDR, src);
			return;
		}
		if (dif_env_ustore(ms->env, uaddr, buf, (__u32)n)) {
			dif_fault(ms, DIF_F_BADADDR, uaddr);
			return;
		}
		src += n;
		uaddr += n;
		size -= n;
	}
}
NOKPROBE_SYMBOL(dif_copyout);

/*
 * copyoutstr(s, uaddr, size): the string s with its NUL, at most size
 * bytes (a longer string is cut, unterminated, as DTrace's copystr).
 */
static DIF_NOTRACE void dif_copyoutstr(struct dif_mstate *ms, __u64 s,
				       __u64 uaddr, __u64 size)
{
	__u8 buf[DIF_STRCHUNK];
	struct dif_strcur sc;
	__u32 n = 0;
	__u64 i;
	__u8 c = 1;

	if (uaddr + size < uaddr) {
		dif_fault(ms, DIF_F_BADADDR, uaddr);
		return;
	}
	dif_sc(&sc, s, 0);
	for (i = 0; i < size && c; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return;
		buf[n++] = c;
		if (n < sizeof(buf) && c && i + 1 < size)
			continue;
		if (dif_env_ustore(ms->env, uaddr + i + 1 - n, buf, n)) {
			dif_fault(ms, DIF_F_BADADDR, uaddr + i + 1 - n);
			return;
		}
		n = 0;
	}
}
NOKPROBE_SYMBOL(dif_copyoutstr);

/*
 * copyinstr(uaddr [, n]): strsize bytes of scratch, or n + 1 when n is
 * smaller; the copy stops at the NUL and the last byte is always NUL.
 */
static DIF_NOTRACE __u64 dif_copyinstr(struct dif_mstate *ms,
				       const struct dif_tuple *tup, __u32 nt)
{
	__u64 size = dif_strsize(ms), dest, i;
	struct dif_strcur sc;
	char *d;
	__u8 c;

	if (nt > 1 && tup[1].val < size)
		size = tup[1].val + 1;
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	dif_sc(&sc, tup[0].val, 1);
	for (i = 0; i + 1 < size; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		d[i] = (char)c;
		if (!c)
			break;
	}
	d[size - 1] = '\0';
	return dest;
}
NOKPROBE_SYMBOL(dif_copyinstr);

/*
 * strjoin(s1, s2): needs strsize bytes of room, keeps only what it uses;
 * a result of strsize characters or more is NOSCRATCH.
 */
static DIF_NOTRACE __u64 dif_strjoin(struct dif_mstate *ms, __u64 s1,
				     __u64 s2)
{
	__u64 size = dif_strsize(ms), used = ms->scratch_used;
	__u64 dest, i = 0, j;
	struct dif_strcur sc;
	char *d;
	int part;
	__u8 c;

	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	for (part = 0; part < 2; part++) {
		dif_sc(&sc, part ? s2 : s1, 0);
		for (j = 0; ; j++) {
			if (i >= size) {
				ms->scratch_used = used;
				dif_fault(ms, DIF_F_NOSCRATCH, 0);
				return 0;
			}
			if (dif_getc(ms, &sc, j, size, &c))
				return 0;
			if (!c)
				break;
			d[i++] = (char)c;
		}
	}
	d[i] = '\0';
	/* give back what the result does not use */
	ms->scratch_used = dest + i + 1 - ms->scratch_base;
	return dest;
}
NOKPROBE_SYMBOL(dif_strjoin);

/*
 * lltostr(val [, base]): base 2..36 (else ILLOP); only base 10 is
 * signed; base 16 gets "0x" and base 8 "0" in front.
 */
static DIF_NOTRACE __u64 dif_lltostr(struct dif_mstate *ms,
				     const struct dif_tuple *tup, __u32 nt)
{
	__s64 i = (__s64)tup[0].val;
	__u64 base = 10, val, digit, dest;
	char *end;

	if (nt > 1) {
		base = tup[1].val;
		if ((__s64)base < 2 || base > 36) {
			dif_fault(ms, DIF_F_ILLOP, base);
			return 0;
		}
	}
	val = (base == 10 && i < 0) ? -(__u64)i : (__u64)i;
	dest = dif_alloc(ms, DIF_LLTOSTR_SIZE);
	if (!dest)
		return 0;
	end = dif_ptr(dest) + DIF_LLTOSTR_SIZE - 1;
	*end-- = '\0';
	for (; val; val /= base) {
		digit = val % base;
		*end-- = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
	}
	if (i == 0 && base == 16)
		*end-- = '0';
	if (base == 16)
		*end-- = 'x';
	if (i == 0 || base == 8 || base == 16)
		*end-- = '0';
	if (i < 0 && base == 10)
		*end-- = '-';
	return (__u64)(unsigned long)(end + 1);
}
NOKPROBE_SYMBOL(dif_lltostr);

/*
 * basename(s) and dirname(s), as illumos: "" gives "." for both, a string
 * of slashes gives "/", dirname of a single component is ".", and
 * trailing slashes are ignored.  One forward pass finds the last
 * character of the last component (lb), its first character when a slash
 * precedes it (fb) and the last character before that slash run (ld).
 */
static DIF_NOTRACE __u64 dif_pathpart(struct dif_mstate *ms, __u64 src,
				      int dir)
{
	__u64 size = dif_strsize(ms), len, dest, i, j;
	__s64 lb = -1, fb = -1, ld = -1, start, end;
	struct dif_strcur sc;
	int slash = 0;
	char *d;
	__u8 c;

	dif_sc(&sc, src, 0);
	if (dif_sclen(ms, &sc, size, &len))
		return 0;
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	if (!len) {
		d[0] = size > 1 ? '.' : '\0';
		return dest;
	}
	for (i = 0; i < len; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		if (c != '/') {
			if (slash) {
				fb = (__s64)i;
				ld = lb;
			}
			lb = (__s64)i;
		}
		slash = c == '/';
	}
	if (lb == -1) {
		/* only slashes */
		start = 0;
		end = 0;
	} else if (dir && fb == -1) {
		d[0] = size > 1 ? '.' : '\0';
		return dest;
	} else if (dir) {
		start = 0;
		end = ld == -1 ? 0 : ld;	/* "/name" -> "/" */
	} else {
		start = fb == -1 ? 0 : fb;
		end = lb;
	}
	for (i = (__u64)start, j = 0; i <= (__u64)end && j + 1 < size;
	     i++, j++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		d[j] = (char)c;
	}
	d[j] = '\0';
	return dest;
}
NOKPROBE_SYMBOL(dif_pathpart);

/*
 * cleanpath(s): drop "//", "/./" and "/name/.." as illumos does (a
 * trailing "/.." leaves a trailing slash); the result stops growing 5
 * bytes before strsize.
 */
static DIF_NOTRACE __u64 dif_cleanpath(struct dif_mstate *ms, __u64 src)
{
	__u64 size = dif_strsize(ms), dest, i = 0, j = 0;
	struct dif_strcur sc;
	int reuse = 0;
	char *d;
	__u8 c = 0;

	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	dif_sc(&sc, src, 0);

	/* each pass consumes a byte or stops: at most size + 1 passes */
	for (;;) {
		if (!reuse && dif_next(ms, &sc, &i, size, &c))
			return 0;
		reuse = 0;
		if (j + 5 >= size)
			break;
		if (c != '/') {
			d[j++] = (char)c;
			if (!c)
				break;
			continue;
		}
		if (dif_next(ms, &sc, &i, size, &c))
			return 0;
		if (c == '/') {			/* "//" */
			reuse = 1;
			continue;
		}
		if (c != '.') {
			d[j++] = '/';
			d[j++] = (char)c;
			if (!c)
				break;
			continue;
		}
		if (dif_next(ms, &sc, &i, size, &c))
			return 0;
		if (c == '/') {			/* "/./" */
			reuse = 1;
			continue;
		}
		if (c != '.') {
			d[j++] = '/';
			d[j++] = '.';
			d[j++] = (char)c;
			if (!c)
				break;
			continue;
		}
		if (dif_next(ms, &sc, &i, size, &c))
			return 0;
		if (c != '/' && c) {		/* "/..name" */
			d[j++] = '/';
			d[j++] = '.';
			d[j++] = '.';
			d[j++] = (char)c;
			continue;
		}
		/* "/../" or "/..\0": back up to the previous slash */
		while (j && d[--j] != '/')
			continue;
		if (!c) {
			d[++j] = '/';
			break;
		}
		reuse = 1;
	}
	d[j] = '\0';
	return dest;
}
NOKPROBE_SYMBOL(dif_cleanpath);

/* strchr(s, c) / strrchr(s, c): an address inside s, or 0. */
static DIF_NOTRACE __u64 dif_strchr(struct dif_mstate *ms, __u64 s,
				    __u8 target, int last)
{
	__u64 size = dif_strsize(ms), i, found = 0;
	struct dif_strcur sc;
	__u8 c;

	dif_sc(&sc, s, 0);
	for (i = 0; i < size; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		if (c == target) {
			found = s + i;
			if (!last)
				break;
		}
		if (!c)
			break;
	}
	return found;
}
NOKPROBE_SYMBOL(dif_strchr);

/* Does the string at hay + pos start with the first n bytes of sub? */
static DIF_NOTRACE int dif_match(struct dif_mstate *ms, struct dif_strcur *h,
				 __u64 pos, struct dif_strcur *s, __u64 n,
				 int *res)
{
	__u64 k;
	__u8 c1, c2;

	*res = 1;
	if (h->addr + pos == s->addr)
		return 0;
	for (k = 0; k < n; k++) {
		if (dif_str_byte(ms, h, pos + k, &c1) ||
		    dif_str_byte(ms, s, k, &c2))
			return -1;
		if (c1 != c2) {
			*res = 0;
			break;
		}
		if (!c1)
			break;
	}
	return 0;
}
NOKPROBE_SYMBOL(dif_match);

/*
 * strstr(s, sub) (an address in s, or 0), index(s, sub [, start]) and
 * rindex(s, sub [, start]) (a position, or -1), with illumos' (Perl's)
 * rules for the start position and the empty substring.
 */
static DIF_NOTRACE __u64 dif_strstr(struct dif_mstate *ms, __u32 subr,
				    const struct dif_tuple *tup, __u32 nt)
{
	__u64 size = dif_strsize(ms), len, sublen;
	__u64 notfound = subr == DIF_SUBR_STRSTR ? 0 : (__u64)-1;
	struct dif_strcur hs, ss;
	__s64 pos = 0, limit, inc = 1, start;
	int res;

	dif_sc(&hs, tup[0].val, 0);
	dif_sc(&ss, tup[1].val, 0);
	if (dif_sclen(ms, &hs, size, &len) ||
	    dif_sclen(ms, &ss, size, &sublen))
		return 0;
	if (!len && !sublen)
		return subr == DIF_SUBR_STRSTR ? tup[0].val : 0;
	limit = (__s64)len;
	if (subr == DIF_SUBR_RINDEX) {
		limit = -1;
		pos = (__s64)len;
		inc = -1;
	}
	if (subr != DIF_SUBR_STRSTR && nt > 2) {
		start = (__s64)tup[2].val;
		if (subr == DIF_SUBR_RINDEX) {
			if (start < 0)
				return sublen ? notfound : 0;
			if (start > (__s64)len)
				start = (__s64)len;
		} else {
			if (start < 0)
				start = 0;
			if (start >= (__s64)len)
				return sublen ? notfound : len;
		}
		pos = start;
	}
	/* at most strsize + 1 positions of at most strsize bytes each */
	for (; pos != limit; pos += inc) {
		if (dif_match(ms, &hs, (__u64)pos, &ss, sublen, &res))
			return 0;
		if (res)
			return subr == DIF_SUBR_STRSTR ? tup[0].val + pos :
							 (__u64)pos;
	}
	return notfound;
}
NOKPROBE_SYMBOL(dif_strstr);

/*
 * strtok(s, delims): s == NULL continues the string of the previous call
 * of this firing (none: NULL).  The token is copied into scratch.
 */
static DIF_NOTRACE __u64 dif_strtok(struct dif_mstate *ms, __u64 addr,
				    __u64 tokaddr)
{
	__u64 size = dif_strsize(ms), limit, dest, used, i, k;
	struct dif_strcur sc, tc;
	__u8 map[32], c = 0;
	char *d;

	dif_sc(&tc, tokaddr, 0);
	for (i = 0; i < sizeof(map); i++)
		map[i] = 0;
	for (i = 0; i < size; i++) {
		if (dif_str_byte(ms, &tc, i, &c))
			return 0;
		if (!c)
			break;
		map[c >> 3] |= 1 << (c & 7);
	}
	if (addr) {
		limit = addr + size;
		if (limit < addr)
			limit = (__u64)-1;
	} else {
		addr = ms->strtok;
		limit = ms->strtok_limit;
	}
	used = ms->scratch_used;
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	dif_sc(&sc, addr, 0);
	/* skip leading delimiters */
	c = 0;
	for (i = 0; addr + i < limit; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		if (!c || !(map[c >> 3] & (1 << (c & 7))))
			break;
	}
	if (!c) {
		/* no token: NULL, and the room is not kept */
		ms->scratch_used = used;
		ms->strtok = 0;
		ms->strtok_limit = 0;
		return 0;
	}
	for (k = 0; addr + i < limit && k + 1 < size; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		if (!c || map[c >> 3] & (1 << (c & 7)))
			break;
		d[k++] = (char)c;
	}
	d[k] = '\0';
	ms->strtok = addr + i;
	ms->strtok_limit = limit;
	return dest;
}
NOKPROBE_SYMBOL(dif_strtok);

/*
 * substr(s, index [, len]): a negative index counts from the end (and is
 * clamped to the start, shortening len, when len reaches into the
 * string); a negative len leaves that many characters off the end.
 */
static DIF_NOTRACE __u64 dif_substr(struct dif_mstate *ms,
				    const struct dif_tuple *tup, __u32 nt)
{
	__u64 size = dif_strsize(ms), len, dest;
	__s64 index = (__s64)tup[1].val, rem, i;
	struct dif_strcur sc;
	char *d;
	__u8 c;

	dif_sc(&sc, tup[0].val, 0);
	if (dif_sclen(ms, &sc, size, &len))
		return 0;
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	rem = nt > 2 ? (__s64)tup[2].val : (__s64)size;
	if (index < 0) {
		index += (__s64)len;
		if (index < 0 && rem > 0 && index + rem > 0) {
			rem += index;
			index = 0;
		}
	}
	if (index < 0 || index >= (__s64)len)
		rem = 0;
	else if (rem < 0)
		rem += (__s64)len - index;
	else if (rem > (__s64)size - index)
		rem = (__s64)size - index;
	for (i = 0; i < rem && i + 1 < (__s64)size; i++) {
		if (dif_str_byte(ms, &sc, (__u64)(index + i), &c))
			return 0;
		d[i] = (char)c;
		if (!c)
			break;
	}
	d[i] = '\0';
	return dest;
}
NOKPROBE_SYMBOL(dif_substr);

/* toupper(s) / tolower(s): ASCII letters only. */
static DIF_NOTRACE __u64 dif_case(struct dif_mstate *ms, __u64 s, int upper)
{
	__u64 size = dif_strsize(ms), dest, i;
	__u8 lo = upper ? 'a' : 'A', to = upper ? 'A' : 'a', c;
	struct dif_strcur sc;
	char *d;

	dif_sc(&sc, s, 0);
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	for (i = 0; i + 1 < size; i++) {
		if (dif_str_byte(ms, &sc, i, &c))
			return 0;
		if (!c)
			break;
		if (c >= lo && c <= lo + 25)
			c = to + (c - lo);
		d[i] = (char)c;
	}
	d[i] = '\0';
	return dest;
}
NOKPROBE_SYMBOL(dif_case);

static inline DIF_NOTRACE int dif_digit(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * strtoll(s [, base]): blanks and tabs, a sign, for base 16 an optional
 * "0x"/"0X" (when a hex digit follows), then digits; wraps on overflow.
 */
static DIF_NOTRACE __u64 dif_strtoll(struct dif_mstate *ms,
				     const struct dif_tuple *tup, __u32 nt)
{
	__u64 size = dif_strsize(ms), base = 10, val = 0, i = 0;
	struct dif_strcur sc;
	__u8 c, c1, c2;
	int neg = 0;

	if (nt > 1) {
		base = tup[1].val;
		if ((__s64)base < 2 || base > 36) {
			dif_fault(ms, DIF_F_ILLOP, base);
			return 0;
		}
	}
	dif_sc(&sc, tup[0].val, 0);
	for (;; i++) {
		if (dif_getc(ms, &sc, i, size, &c))
			return 0;
		if (c != ' ' && c != '\t')
			break;
	}
	if (c == '-' || c == '+') {
		neg = c == '-';
		if (dif_getc(ms, &sc, ++i, size, &c))
			return 0;
	}
	if (base == 16 && c == '0') {
		if (dif_getc(ms, &sc, i + 1, size, &c1) ||
		    dif_getc(ms, &sc, i + 2, size, &c2))
			return 0;
		if ((c1 == 'x' || c1 == 'X') && dif_digit(c2) < 16) {
			i += 2;
			c = c2;
		}
	}
	while (i < size && c && (__u64)dif_digit(c) < base) {
		val = val * base + (__u64)dif_digit(c);
		if (dif_getc(ms, &sc, ++i, size, &c))
			return 0;
	}
	return neg ? -val : val;
}
NOKPROBE_SYMBOL(dif_strtoll);

/*
 * json(s, selector): the value the selector names in the JSON text s, as
 * illumos' json() returns it: a string's raw contents (escapes kept, but
 * checked), a number or literal as written, an object or array as its
 * text; NULL when the selector names nothing or the text is malformed
 * before the value ends.  Selector elements are "key", "n" and "[n]",
 * separated by '.' (or before a '['): an element of digits indexes an
 * array, any element names an object member.  Iterative: containers are
 * skipped with a depth count and a bit per level (object or array), at
 * most 64 levels; every position is below strsize.
 */
struct dif_json {
	struct dif_mstate *ms;
	struct dif_strcur sc;
	__u64 lim;
	int err;		/* a fault was raised */
};

static inline DIF_NOTRACE __u8 dif_jc(struct dif_json *j, __u64 i)
{
	__u8 c = 0;

	if (!j->err && dif_getc(j->ms, &j->sc, i, j->lim, &c))
		j->err = 1;
	return j->err ? 0 : c;
}

static inline DIF_NOTRACE int dif_jws(__u8 c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static DIF_NOTRACE __u64 dif_jskipws(struct dif_json *j, __u64 i)
{
	while (i < j->lim && dif_jws(dif_jc(j, i)))
		i++;
	return i;
}
NOKPROBE_SYMBOL(dif_jskipws);

/* The end of the string starting at the quote at i, or 0 if malformed. */
static DIF_NOTRACE __u64 dif_jstring(struct dif_json *j, __u64 i)
{
	__u8 c;
	int k;

	for (i++; i < j->lim; i++) {
		c = dif_jc(j, i);
		if (!c)
			return 0;
		if (c == '"')
			return i + 1;
		if (c != '\\')
			continue;
		c = dif_jc(j, ++i);
		if (c == 'u') {
			for (k = 0; k < 4; k++)
				if (dif_digit(dif_jc(j, ++i)) > 15)
					return 0;
		} else if (!c || !(c == '"' || c == '\\' || c == '/' ||
				   c == 'b' || c == 'f' || c == 'n' ||
				   c == 'r' || c == 't')) {
			return 0;
		}
	}
	return 0;
}
NOKPROBE_SYMBOL(dif_jstring);

static inline DIF_NOTRACE int dif_jdigit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/* The end of the number at i (JSON's grammar), or 0. */
static DIF_NOTRACE __u64 dif_jnumber(struct dif_json *j, __u64 i)
{
	__u64 start;
	__u8 c;

	if (dif_jc(j, i) == '-')
		i++;
	for (start = i; dif_jdigit(dif_jc(j, i)); i++)
		continue;
	if (i == start)
		return 0;
	if (dif_jc(j, i) == '.') {
		for (start = ++i; dif_jdigit(dif_jc(j, i)); i++)
			continue;
		if (i == start)
			return 0;
	}
	c = dif_jc(j, i);
	if (c == 'e' || c == 'E') {
		c = dif_jc(j, ++i);
		if (c == '+' || c == '-')
			i++;
		for (start = i; dif_jdigit(dif_jc(j, i)); i++)
			continue;
		if (i == start)
			return 0;
	}
	c = dif_jc(j, i);
	if (c && !dif_jws(c) && c != ',' && c != ']' && c != '}')
		return 0;
	return i;
}
NOKPROBE_SYMBOL(dif_jnumber);

/* The end of the value at i (no leading blanks), or 0 if malformed. */
static DIF_NOTRACE __u64 dif_jvalue(struct dif_json *j, __u64 i)
{
	static const char *const lit[] = { "true", "false", "null" };
	__u64 objs = 0, depth = 0;
	int k, n;
	__u8 c;

	c = dif_jc(j, i);
	if (c == '"')
		return dif_jstring(j, i);
	if (c == '-' || dif_jdigit(c))
		return dif_jnumber(j, i);
	if (c != '{' && c != '[') {
		for (k = 0; k < 3; k++) {
			for (n = 0; lit[k][n] && dif_jc(j, i + n) == lit[k][n];
			     n++)
				continue;
			if (!lit[k][n])
				return i + n;
		}
		return 0;
	}
	/* a container: brackets balanced, strings skipped */
	while (i < j->lim) {
		c = dif_jc(j, i);
		if (!c)
			return 0;
		if (c == '"') {
			i = dif_jstring(j, i);
			if (!i)
				return 0;
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth == 64)
				return 0;
			objs = objs << 1 | (c == '{');
			depth++;
		} else if (c == '}' || c == ']') {
			if ((objs & 1) != (c == '}'))
				return 0;
			objs >>= 1;
			if (!--depth)
				return i + 1;
		}
		i++;
	}
	return 0;
}
NOKPROBE_SYMBOL(dif_jvalue);

/* Are bytes [a, a + n) of the JSON text those of [b, b + n) of sel? */
static DIF_NOTRACE int dif_jsame(struct dif_json *j, __u64 a,
				 struct dif_json *sel, __u64 b, __u64 n)
{
	__u64 k;

	for (k = 0; k < n; k++)
		if (dif_jc(j, a + k) != dif_jc(sel, b + k))
			return 0;
	return !j->err && !sel->err;
}
NOKPROBE_SYMBOL(dif_jsame);

/* Where the selected value is: [*startp, *endp); 0 when nowhere. */
static DIF_NOTRACE int dif_json_find(struct dif_json *j, struct dif_json *sel,
				     __u64 *startp, __u64 *endp)
{
	__u64 i = dif_jskipws(j, 0), s = 0, e, ks, kl, idx, n, end;
	int isindex, digits;
	__u8 c;

	while (dif_jc(sel, s)) {
		/* the next element: [s, e), an index when isindex */
		isindex = dif_jc(sel, s) == '[';
		if (isindex)
			s++;
		idx = 0;
		digits = 1;
		for (e = s; e < sel->lim; e++) {
			c = dif_jc(sel, e);
			if (!c || c == '.' || c == '[' || c == ']')
				break;
			digits = digits && dif_jdigit(c);
			idx = idx * 10 + (__u64)(c - '0');
		}
		if (e == s || (isindex && (dif_jc(sel, e) != ']' || !digits)))
			return 0;
		ks = s;
		kl = e - s;
		s = e + isindex;
		if (dif_jc(sel, s) == '.')
			s++;
		c = dif_jc(j, i);
		if (c == '[' && digits) {
			for (i++, n = 0;; n++) {
				i = dif_jskipws(j, i);
				if (dif_jc(j, i) == ']' || !dif_jc(j, i))
					return 0;
				if (n == idx)
					break;
				i = dif_jvalue(j, i);
				if (!i)
					return 0;
				i = dif_jskipws(j, i);
				if (dif_jc(j, i) != ',')
					return 0;
				i++;
			}
			continue;
		}
		if (c != '{' || isindex)
			return 0;
		for (i++;;) {
			i = dif_jskipws(j, i);
			if (dif_jc(j, i) != '"')
				return 0;
			end = dif_jstring(j, i);
			if (!end)
				return 0;
			n = dif_jskipws(j, end);
			if (dif_jc(j, n) != ':')
				return 0;
			if (end - i - 2 == kl && dif_jsame(j, i + 1, sel, ks, kl)) {
				i = dif_jskipws(j, n + 1);
				break;
			}
			i = dif_jvalue(j, dif_jskipws(j, n + 1));
			if (!i)
				return 0;
			i = dif_jskipws(j, i);
			if (dif_jc(j, i) != ',')
				return 0;
			i++;
		}
	}
	*startp = i;
	*endp = dif_jvalue(j, i);
	return *endp != 0;
}
NOKPROBE_SYMBOL(dif_json_find);

static DIF_NOTRACE __u64 dif_json(struct dif_mstate *ms, __u64 s, __u64 selector)
{
	__u64 size = dif_strsize(ms), start = 0, end = 0, dest, k;
	struct dif_json j = { .ms = ms, .lim = size };
	struct dif_json sel = { .ms = ms, .lim = size };
	char *d;

	dif_sc(&j.sc, s, 0);
	dif_sc(&sel.sc, selector, 0);
	if (!dif_json_find(&j, &sel, &start, &end) || j.err || sel.err)
		return 0;
	if (dif_jc(&j, start) == '"') {
		start++;
		end--;
	}
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	d = dif_ptr(dest);
	for (k = 0; start + k < end && k + 1 < size; k++)
		d[k] = (char)dif_jc(&j, start + k);
	d[k] = '\0';
	return j.err ? 0 : dest;
}
NOKPROBE_SYMBOL(dif_json);

/* Write v in decimal backwards ending at *end, moving *end. */
static inline DIF_NOTRACE void dif_put_dec(char **end, __u8 v)
{
	if (!v)
		*(*end)-- = '0';
	for (; v; v /= 10)
		*(*end)-- = (char)('0' + v % 10);
}

/* An IPv4 address at addr as a dotted quad. */
static DIF_NOTRACE __u64 dif_ntoa(struct dif_mstate *ms, __u64 addr)
{
	__u8 ip[4];
	__u64 dest;
	char *end;
	int i;

	if (dif_env_kload(ms->env, ip, addr, sizeof(ip))) {
		dif_fault(ms, DIF_F_BADADDR, addr);
		return 0;
	}
	dest = dif_alloc(ms, DIF_INET_ADDRSTRLEN);
	if (!dest)
		return 0;
	end = dif_ptr(dest) + DIF_INET_ADDRSTRLEN - 1;
	*end-- = '\0';
	for (i = 3; i >= 0; i--) {
		dif_put_dec(&end, ip[i]);
		if (i)
			*end-- = '.';
	}
	return (__u64)(unsigned long)(end + 1);
}
NOKPROBE_SYMBOL(dif_ntoa);

/*
 * An IPv6 address at addr, the illumos way: lowercase hex groups without
 * leading zeros, the longest run of zero groups (the first of equal
 * ones, a single group included) as "::", and IPv4-mapped (::ffff:a.b.c.d)
 * and IPv4-compatible (::a.b.c.d, not :: or ::1) addresses with a dotted
 * quad; inet_ntoa6() (v4only) returns just the quad for those.
 */
static DIF_NOTRACE __u64 dif_ntoa6(struct dif_mstate *ms, __u64 addr,
				   int v4only)
{
	static const char hex[] = "0123456789abcdef";
	int first = -1, run = -1, nzero = 1, v6end = 14, i, mapped, compat;
	__u8 ip[16];
	__u64 dest;
	__u16 val;
	char *end;

	if (dif_env_kload(ms->env, ip, addr, sizeof(ip))) {
		dif_fault(ms, DIF_F_BADADDR, addr);
		return 0;
	}
	dest = dif_alloc(ms, DIF_INET6_ADDRSTRLEN);
	if (!dest)
		return 0;
	end = dif_ptr(dest) + DIF_INET6_ADDRSTRLEN - 1;
	*end-- = '\0';

	/* the longest zero run, in bytes, starting on a group boundary */
	for (i = 0; i < 16; i++) {
		if (!ip[i] && run == -1 && !(i & 1)) {
			run = i;
			continue;
		}
		if (run != -1 && (ip[i] || i == 15)) {
			if (i - run <= nzero) {
				run = -1;
				continue;
			}
			first = run;
			nzero = i - (i & 1) - run;
			run = -1;
			if (!ip[i] && i == 15)
				nzero += 2;
		}
	}

	for (i = 0, mapped = 1, compat = 1; i < 10; i++)
		if (ip[i])
			mapped = compat = 0;
	if (ip[10] != 0xff || ip[11] != 0xff)
		mapped = 0;
	if (ip[10] || ip[11] || (!ip[12] && !ip[13] && !ip[14] && ip[15] < 2))
		compat = 0;
	if (mapped || compat) {
		for (i = 15; i >= 12; i--) {
			dif_put_dec(&end, ip[i]);
			if (i > 12)
				*end-- = '.';
		}
		if (v4only)
			return (__u64)(unsigned long)(end + 1);
		v6end = 10;
	}

	/* at most 8 groups of 5 bytes: end never passes the start */
	for (i = v6end; i >= 0; i -= 2) {
		if (i == first + nzero - 2) {
			*end-- = ':';
			*end-- = ':';
			i -= nzero - 2;
			continue;
		}
		if (i < 14 && i != first - 2)
			*end-- = ':';
		val = (__u16)(ip[i] << 8 | ip[i + 1]);
		if (!val)
			*end-- = '0';
		for (; val; val /= 16)
			*end-- = hex[val % 16];
	}
	return (__u64)(unsigned long)(end + 1);
}
NOKPROBE_SYMBOL(dif_ntoa6);

static inline DIF_NOTRACE __u64 dif_bswap16(__u64 x)
{
	return ((x & 0xff) << 8) | ((x >> 8) & 0xff);
}

static inline DIF_NOTRACE __u64 dif_bswap32(__u64 x)
{
	return (dif_bswap16(x) << 16) | dif_bswap16(x >> 16);
}

static inline DIF_NOTRACE __u64 dif_bswap64(__u64 x)
{
	return (dif_bswap32(x) << 32) | dif_bswap32(x >> 32);
}

DIF_NOTRACE __u64 dif_subr(struct dif_mstate *ms, __u32 subr,
			   const struct dif_tuple *tup, __u32 nt)
{
	int need = dif_subr_nargs(subr);
	__u64 v = nt ? tup[0].val : 0;
	__u64 w = nt > 1 ? tup[1].val : 0;
	__u64 len;

	if (need < 0 || nt < (__u32)need) {
		dif_fault(ms, DIF_F_ILLOP, subr);
		return 0;
	}
	switch (subr) {
	case DIF_SUBR_RAND:
		/*
		 * illumos' generator (dtrace_gethrtime() * 2416 + 374441) %
		 * 1771875, stepped from its last value so that the calls of
		 * one firing (one timestamp) differ.
		 */
		if (!ms->rand)
			ms->rand = dif_env_builtin(ms, DIF_VAR_TIMESTAMP) | 1;
		ms->rand = (ms->rand * 2416 + 374441) % 1771875;
		return ms->rand;
	case DIF_SUBR_SPECULATION:
		return dif_env_speculation(ms);
	case DIF_SUBR_STRLEN:
		if (dif_strlen(ms, v, dif_strsize(ms), &len))
			return 0;
		return len;
	case DIF_SUBR_ALLOCA:
		return dif_alloc(ms, v);
	case DIF_SUBR_BCOPY:
		/* bcopy(src, dst, size) */
		dif_copy(ms, w, v, tup[2].val);
		return 0;
	case DIF_SUBR_COPYIN:
		return dif_copyin(ms, v, w);
	case DIF_SUBR_COPYINTO:
		dif_copyinto(ms, v, w, tup[2].val);
		return 0;
	case DIF_SUBR_COPYINSTR:
		return dif_copyinstr(ms, tup, nt);
	case DIF_SUBR_COPYOUT:
		dif_copyout(ms, v, w, tup[2].val);
		return 0;
	case DIF_SUBR_COPYOUTSTR:
		dif_copyoutstr(ms, v, w, tup[2].val);
		return 0;
	case DIF_SUBR_GETMAJOR:
		return v >> 20;		/* Linux kernel dev_t: 12:20 */
	case DIF_SUBR_GETMINOR:
		return v & 0xfffff;
	case DIF_SUBR_STRJOIN:
		return dif_strjoin(ms, v, w);
	case DIF_SUBR_LLTOSTR:
		return dif_lltostr(ms, tup, nt);
	case DIF_SUBR_BASENAME:
	case DIF_SUBR_DIRNAME:
		return dif_pathpart(ms, v, subr == DIF_SUBR_DIRNAME);
	case DIF_SUBR_CLEANPATH:
		return dif_cleanpath(ms, v);
	case DIF_SUBR_STRCHR:
	case DIF_SUBR_STRRCHR:
		return dif_strchr(ms, v, (__u8)w, subr == DIF_SUBR_STRRCHR);
	case DIF_SUBR_STRSTR:
	case DIF_SUBR_INDEX:
	case DIF_SUBR_RINDEX:
		return dif_strstr(ms, subr, tup, nt);
	case DIF_SUBR_STRTOK:
		return dif_strtok(ms, v, w);
	case DIF_SUBR_SUBSTR:
		return dif_substr(ms, tup, nt);
	case DIF_SUBR_TOUPPER:
	case DIF_SUBR_TOLOWER:
		return dif_case(ms, v, subr == DIF_SUBR_TOUPPER);
	case DIF_SUBR_STRTOLL:
		return dif_strtoll(ms, tup, nt);
	case DIF_SUBR_INET_NTOP:
		if ((int)v == DIF_AF_INET)
			return dif_ntoa(ms, w);
		if ((int)v == DIF_AF_INET6)
			return dif_ntoa6(ms, w, 0);
		dif_fault(ms, DIF_F_ILLOP, v);
		return 0;
	case DIF_SUBR_INET_NTOA:
		return dif_ntoa(ms, v);
	case DIF_SUBR_JSON:
		return dif_json(ms, v, w);
	case DIF_SUBR_INET_NTOA6:
		return dif_ntoa6(ms, v, 1);
	case DIF_SUBR_MUTEX_OWNED:
	case DIF_SUBR_MUTEX_OWNER:
	case DIF_SUBR_MUTEX_TYPE_ADAPTIVE:
	case DIF_SUBR_MUTEX_TYPE_SPIN:
	case DIF_SUBR_RW_READ_HELD:
	case DIF_SUBR_RW_WRITE_HELD:
	case DIF_SUBR_RW_ISWRITER:
	case DIF_SUBR_PROGENYOF:
	case DIF_SUBR_D_PATH:
		return dif_env_subr(ms, subr, tup, nt);
	case DIF_SUBR_HTONS:
	case DIF_SUBR_NTOHS:
		return dif_bswap16(v);
	case DIF_SUBR_HTONL:
	case DIF_SUBR_NTOHL:
		return dif_bswap32(v);
	default:
		return dif_bswap64(v);
	}
}
NOKPROBE_SYMBOL(dif_subr);

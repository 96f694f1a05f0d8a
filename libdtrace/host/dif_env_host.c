// SPDX-License-Identifier: GPL-2.0
/*
 * The DIF environment for host builds (tests and fuzzing): what the kernel
 * does in kmod/dif_env.c, done with plain memory.
 *
 * Loads are memcpy() from the host address space, refused (-1) for
 * addresses below 4096, for any byte inside the fault range the test set
 * with dif_host_set_fault_range(), and, once a valid range was set with
 * dif_host_set_valid_range(), for any byte outside it (the fuzzer uses
 * this so that no load can touch memory it does not own).  User loads
 * behave the same; user stores (copyout) only go inside the range set with
 * dif_host_set_user_range().
 * Built-in variables come from a table the test fills
 * with dif_host_set_builtin(); an id never set is ILLOP.
 *
 * Dynamic variables live in a small table (HOST_NDVARS entries, linear
 * search, by-ref key bytes copied in); dif_host_set_dvar_capacity() lowers
 * the number of entries so a test can see DIF_F_DROP, and
 * dif_host_dvar_count() says how many exist.  The thread key is whatever
 * dif_host_set_threadkey() set (default 0x10000).
 */
#include <string.h>

#include "dif.h"

#define HOST_BUILTIN_MIN	DIF_VAR_OTHER_MIN
#define HOST_NBUILTINS		(DIF_VAR_OTHER_UBASE - DIF_VAR_OTHER_MIN)

static __u64 fault_lo, fault_hi;	/* [lo, hi): unreadable */
static __u64 valid_lo, valid_hi;	/* if hi > lo: only this is readable */
static __u64 user_lo, user_hi;		/* [lo, hi): copyout may write */
static __u64 builtin_val[HOST_NBUILTINS];
static unsigned char builtin_set[HOST_NBUILTINS];
static unsigned long kload_calls;

#define HOST_NDVARS	64
#define HOST_KEYBYTES	512
#define HOST_DATABYTES	2048

struct host_dvar {
	int used;
	__u32 nkeys;
	__u32 dsize;
	struct dif_tuple key[DIF_DVAR_MAXKEYS];
	unsigned char keybytes[DIF_DVAR_MAXKEYS][HOST_KEYBYTES];
	__u64 data[HOST_DATABYTES / 8];
};

static struct host_dvar dvars[HOST_NDVARS];
static unsigned int dvar_cap = HOST_NDVARS;
static __u64 threadkey = 0x10000;

void dif_host_set_fault_range(__u64 lo, __u64 hi)
{
	fault_lo = lo;
	fault_hi = hi;
}

void dif_host_set_valid_range(__u64 lo, __u64 hi)
{
	valid_lo = lo;
	valid_hi = hi;
}

void dif_host_set_user_range(__u64 lo, __u64 hi)
{
	user_lo = lo;
	user_hi = hi;
}

int dif_host_set_builtin(__u32 id, __u64 value)
{
	if (id < HOST_BUILTIN_MIN || id >= DIF_VAR_OTHER_UBASE)
		return -1;
	builtin_val[id - HOST_BUILTIN_MIN] = value;
	builtin_set[id - HOST_BUILTIN_MIN] = 1;
	return 0;
}

void dif_host_reset(void)
{
	fault_lo = fault_hi = 0;
	valid_lo = valid_hi = 0;
	user_lo = user_hi = 0;
	memset(builtin_set, 0, sizeof(builtin_set));
	kload_calls = 0;
	memset(dvars, 0, sizeof(dvars));
	dvar_cap = HOST_NDVARS;
	threadkey = 0x10000;
}

void dif_host_set_dvar_capacity(unsigned int n)
{
	dvar_cap = n < HOST_NDVARS ? n : HOST_NDVARS;
}

void dif_host_set_threadkey(__u64 key)
{
	threadkey = key;
}

unsigned int dif_host_dvar_count(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < HOST_NDVARS; i++)
		n += dvars[i].used;
	return n;
}

/*
 * Have the bytes of every dynamic variable after its dsize bytes of data
 * stayed 0 (as allocation left them)?  The fuzzer checks that stores into
 * dynamic variables never go past their data.
 */
int dif_host_dvar_tails_clean(void)
{
	unsigned int i, j;
	const unsigned char *d;

	for (i = 0; i < HOST_NDVARS; i++) {
		d = (const unsigned char *)dvars[i].data;
		for (j = dvars[i].used ? dvars[i].dsize : 0;
		     j < HOST_DATABYTES; j++)
			if (d[j])
				return 0;
	}
	return 1;
}

unsigned long dif_host_kload_calls(void)
{
	return kload_calls;
}

static int host_readable(__u64 addr, __u32 size)
{
	__u64 end = addr + size;

	if (end < addr || addr < 4096)
		return 0;
	if (fault_hi > fault_lo && addr < fault_hi && end > fault_lo)
		return 0;
	if (valid_hi > valid_lo && (addr < valid_lo || end > valid_hi))
		return 0;
	return 1;
}

int dif_env_kload(void *env, void *dst, __u64 addr, __u32 size)
{
	(void)env;
	kload_calls++;
	if (!host_readable(addr, size))
		return -1;
	memmove(dst, (const void *)(unsigned long)addr, size);
	return 0;
}

int dif_env_uload(void *env, void *dst, __u64 addr, __u32 size)
{
	return dif_env_kload(env, dst, addr, size);
}

/*
 * User stores (copyout) go only inside the writable range the test set
 * with dif_host_set_user_range(): with none set (the fuzzer), every store
 * is refused, so no program writes host memory it does not own.
 */
int dif_env_ustore(void *env, __u64 addr, const void *src, __u32 size)
{
	__u64 end = addr + size;

	(void)env;
	if (end < addr || user_hi <= user_lo || addr < user_lo || end > user_hi)
		return -1;
	memmove((void *)(unsigned long)addr, src, size);
	return 0;
}

__u64 dif_env_builtin(struct dif_mstate *ms, __u32 id)
{
	if (id < HOST_BUILTIN_MIN || id >= DIF_VAR_OTHER_UBASE ||
	    !builtin_set[id - HOST_BUILTIN_MIN]) {
		ms->flags |= DIF_F_ILLOP;
		return 0;
	}
	return builtin_val[id - HOST_BUILTIN_MIN];
}

/* No consumer on the host: speculation() never finds a free one. */
__u64 dif_env_speculation(struct dif_mstate *ms)
{
	(void)ms;
	return 0;
}

/* No kernel types on the host: the lock subroutines, progenyof, d_path. */
__u64 dif_env_subr(struct dif_mstate *ms, __u32 subr,
		   const struct dif_tuple *tup, __u32 nt)
{
	(void)tup;
	(void)nt;
	ms->flags |= DIF_F_ILLOP;
	ms->illval = subr;
	return 0;
}

__u64 dif_env_threadkey(struct dif_mstate *ms)
{
	(void)ms;
	return threadkey;
}

/* Read the by-ref keys into buf (one HOST_KEYBYTES slot per key). */
static int host_keys(struct dif_mstate *ms, const struct dif_tuple *key,
		     __u32 nkeys, unsigned char buf[][HOST_KEYBYTES])
{
	__u32 i;

	for (i = 0; i < nkeys; i++) {
		if (!key[i].size)
			continue;
		if (key[i].size > HOST_KEYBYTES ||
		    dif_env_kload(ms->env, buf[i], key[i].val,
				  (__u32)key[i].size)) {
			ms->flags |= DIF_F_BADADDR;
			ms->illval = key[i].val;
			return -1;
		}
	}
	return 0;
}

static int host_match(const struct host_dvar *v, const struct dif_tuple *key,
		      __u32 nkeys, unsigned char buf[][HOST_KEYBYTES])
{
	__u32 i;

	if (!v->used || v->nkeys != nkeys)
		return 0;
	for (i = 0; i < nkeys; i++) {
		if (v->key[i].size != key[i].size)
			return 0;
		if (!key[i].size && v->key[i].val != key[i].val)
			return 0;
		if (key[i].size &&
		    memcmp(v->keybytes[i], buf[i], key[i].size))
			return 0;
	}
	return 1;
}

/* Stores go only inside the dsize bytes of data of a live variable. */
int dif_env_dvar_canstore(struct dif_mstate *ms, __u64 addr, __u64 size)
{
	__u64 data;
	unsigned int i;

	(void)ms;
	for (i = 0; i < HOST_NDVARS; i++) {
		data = (__u64)(unsigned long)dvars[i].data;
		if (dvars[i].used && addr >= data && size <= dvars[i].dsize &&
		    addr - data <= dvars[i].dsize - size)
			return 1;
	}
	return 0;
}

__u64 dif_env_dvar(struct dif_mstate *ms, const struct dif_tuple *key,
		   __u32 nkeys, __u32 dsize, __u32 op)
{
	static unsigned char buf[DIF_DVAR_MAXKEYS][HOST_KEYBYTES];
	struct host_dvar *v;
	unsigned int i, n = 0;

	if (nkeys > DIF_DVAR_MAXKEYS || dsize > HOST_DATABYTES) {
		ms->flags |= DIF_F_DROP;
		return 0;
	}
	if (host_keys(ms, key, nkeys, buf))
		return 0;
	for (i = 0; i < HOST_NDVARS; i++) {
		v = &dvars[i];
		if (!host_match(v, key, nkeys, buf))
			continue;
		if (op == DIF_DVAR_DEALLOC) {
			memset(v, 0, sizeof(*v));
			return 0;
		}
		return (__u64)(unsigned long)v->data;
	}
	if (op != DIF_DVAR_ALLOC)
		return 0;
	for (i = 0; i < HOST_NDVARS; i++)
		n += dvars[i].used;
	for (i = 0; i < HOST_NDVARS && n < dvar_cap; i++) {
		v = &dvars[i];
		if (v->used)
			continue;
		memset(v, 0, sizeof(*v));
		v->used = 1;
		v->nkeys = nkeys;
		v->dsize = dsize;
		memcpy(v->key, key, nkeys * sizeof(key[0]));
		memcpy(v->keybytes, buf, sizeof(v->keybytes));
		return (__u64)(unsigned long)v->data;
	}
	ms->flags |= DIF_F_DROP;
	return 0;
}

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
 * behave the same.  Built-in variables come from a table the test fills
 * with dif_host_set_builtin(); an id never set is ILLOP.
 */
#include <string.h>

#include "dif.h"

#define HOST_BUILTIN_MIN	DIF_VAR_OTHER_MIN
#define HOST_NBUILTINS		(DIF_VAR_OTHER_UBASE - DIF_VAR_OTHER_MIN)

static __u64 fault_lo, fault_hi;	/* [lo, hi): unreadable */
static __u64 valid_lo, valid_hi;	/* if hi > lo: only this is readable */
static __u64 builtin_val[HOST_NBUILTINS];
static unsigned char builtin_set[HOST_NBUILTINS];
static unsigned long kload_calls;

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
	memset(builtin_set, 0, sizeof(builtin_set));
	kload_calls = 0;
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

__u64 dif_env_builtin(struct dif_mstate *ms, __u32 id)
{
	if (id < HOST_BUILTIN_MIN || id >= DIF_VAR_OTHER_UBASE ||
	    !builtin_set[id - HOST_BUILTIN_MIN]) {
		ms->flags |= DIF_F_ILLOP;
		return 0;
	}
	return builtin_val[id - HOST_BUILTIN_MIN];
}

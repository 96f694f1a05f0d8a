// SPDX-License-Identifier: GPL-2.0
/*
 * The DIF subroutines that need the kernel's types (kmod/dif/dif.h,
 * dif_env_subr()): the lock subroutines, progenyof() and d_path().
 * Probe context: irqs off, no locks, every read of a kernel object through
 * copy_from_kernel_nofault() (an unreadable one is BADADDR with its
 * address), every walk bounded.
 *
 * The lock subroutines on Linux (pydtrace(1), SUBROUTINES):
 *   mutex_owned(m), mutex_owner(m), mutex_type_adaptive(m),
 *   mutex_type_spin(m): m is a struct mutex *.  The owner is the task in
 *   mutex->owner without its flag bits; a struct mutex is always adaptive
 *   (its waiters spin while the owner runs), never a spin lock.
 *   rw_read_held(l), rw_write_held(l), rw_iswriter(l): l is a
 *   struct rw_semaphore *.  Held for writing: RWSEM_WRITER_LOCKED in
 *   count; held for reading: readers counted (bits 8-62 of count) and no
 *   writer;
 *   rw_iswriter() is rw_write_held() (a waiting writer cannot be seen
 *   without the wait list's lock).
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/path.h>
#include <linux/dcache.h>
#include <linux/mount.h>
#include <linux/fs_struct.h>
#include <linux/uaccess.h>
#include <linux/kprobes.h>

#include "dtrace_impl.h"
#include "dif/dif_impl.h"

/* kernel/locking/rwsem.c */
#define DT_RWSEM_WRITER_LOCKED	(1UL << 0)
#define DT_RWSEM_READER_SHIFT	8
#define DT_RWSEM_READFAIL	(1UL << (BITS_PER_LONG - 1))
/* include/linux/mutex.h: the low bits of mutex->owner are flags */
#define DT_MUTEX_FLAGS		0x07UL

/* Deepest process ancestry progenyof() walks, and d_path()'s steps. */
#define DT_PROGENY_MAX		1024
#define DT_DPATH_STEPS		1024

/*
 * The start of fs/mount.h's struct mount (private to fs/), unchanged since
 * 3.x: d_path() must cross mount points without the kernel's locks.
 */
struct dt_mount_head {
	struct hlist_node mnt_hash;
	void *mnt_parent;		/* struct mount * */
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
};

static notrace int dt_rd(struct dif_mstate *ms, void *dst, const void *src,
			 size_t size)
{
	if (!copy_from_kernel_nofault(dst, src, size))
		return 0;
	dif_fault(ms, DIF_F_BADADDR, (uintptr_t)src);
	return -1;
}
NOKPROBE_SYMBOL(dt_rd);

#define DT_RD(ms, dst, ptr, member) \
	dt_rd(ms, &(dst), &(ptr)->member, sizeof(dst))

static notrace __u64 dt_mutex(struct dif_mstate *ms, __u32 subr, __u64 addr)
{
	struct mutex *m = (struct mutex *)(uintptr_t)addr;
	unsigned long owner;

	if (DT_RD(ms, owner, m, owner))
		return 0;
	owner &= ~DT_MUTEX_FLAGS;
	switch (subr) {
	case DIF_SUBR_MUTEX_OWNED:
		return owner == (uintptr_t)current;
	case DIF_SUBR_MUTEX_OWNER:
		return owner;
	case DIF_SUBR_MUTEX_TYPE_ADAPTIVE:
		return 1;
	default:
		return 0;	/* MUTEX_TYPE_SPIN */
	}
}
NOKPROBE_SYMBOL(dt_mutex);

static notrace __u64 dt_rwsem(struct dif_mstate *ms, __u32 subr, __u64 addr)
{
	struct rw_semaphore *l = (struct rw_semaphore *)(uintptr_t)addr;
	unsigned long count;

	if (DT_RD(ms, count, l, count))
		return 0;
	if (subr == DIF_SUBR_RW_READ_HELD)
		return !(count & DT_RWSEM_WRITER_LOCKED) &&
		       ((count & ~DT_RWSEM_READFAIL) >>
			DT_RWSEM_READER_SHIFT) != 0;
	return !!(count & DT_RWSEM_WRITER_LOCKED);
}
NOKPROBE_SYMBOL(dt_rwsem);

/* Is the current process pid, or one of its ancestors? */
static notrace __u64 dt_progenyof(struct dif_mstate *ms, __u64 pid)
{
	struct task_struct *t = current, *parent;
	pid_t tgid;
	int i;

	for (i = 0; i < DT_PROGENY_MAX && t; i++) {
		if (DT_RD(ms, tgid, t, tgid))
			return 0;
		if (tgid == (pid_t)pid)
			return 1;
		if (DT_RD(ms, parent, t, real_parent))
			return 0;
		if (parent == t)
			break;		/* the idle task is its own parent */
		t = parent;
	}
	return 0;
}
NOKPROBE_SYMBOL(dt_progenyof);

/*
 * Put the name of dentry d, after a '/', in front of *pos in [buf, ...):
 * 0, 1 when it does not fit (the path so far stays), -1 on a fault.
 */
static notrace int dt_prepend_name(struct dif_mstate *ms, char *buf,
				   char **pos, struct dentry *d)
{
	const unsigned char *name;
	u32 len;

	if (DT_RD(ms, name, d, d_name.name) || DT_RD(ms, len, d, d_name.len))
		return -1;
	if ((u64)len + 1 > (u64)(*pos - buf))
		return 1;
	*pos -= len;
	if (dt_rd(ms, *pos, name, len))
		return -1;
	*--(*pos) = '/';
	return 0;
}
NOKPROBE_SYMBOL(dt_prepend_name);

/*
 * d_path(path): the path name as the kernel's d_path() writes it (from the
 * current task's root; " (deleted)" after an unlinked file's name), built
 * by walking dentries and mounts with nofault reads.  A name longer than
 * strsize - 1 keeps its last components: whole ones that fit.
 */
static notrace __u64 dt_d_path(struct dif_mstate *ms, __u64 addr)
{
	static const char deleted[] = " (deleted)";
	const struct path *p = (const struct path *)(uintptr_t)addr;
	__u64 size = dif_strsize(ms), dest;
	struct dentry *d, *parent, *mnt_root, *root_d = NULL;
	struct vfsmount *vmnt, *root_m = NULL;
	struct dt_mount_head *mnt, *mparent;
	struct hlist_bl_node **pprev;
	struct fs_struct *fs;
	char *buf, *pos;
	int i, r;

	if (DT_RD(ms, vmnt, p, mnt) || DT_RD(ms, d, p, dentry))
		return 0;
	if (DT_RD(ms, fs, current, fs))
		return 0;
	if (fs && (DT_RD(ms, root_d, fs, root.dentry) ||
		   DT_RD(ms, root_m, fs, root.mnt)))
		return 0;
	dest = dif_alloc(ms, size);
	if (!dest)
		return 0;
	buf = (char *)(uintptr_t)dest;
	pos = buf + size - 1;
	*pos = '\0';

	/* unlinked: unhashed, and not a root */
	if (DT_RD(ms, parent, d, d_parent) || DT_RD(ms, pprev, d, d_hash.pprev))
		return 0;
	if (parent != d && !pprev && pos - buf > (long)sizeof(deleted)) {
		pos -= sizeof(deleted) - 1;
		memcpy(pos, deleted, sizeof(deleted) - 1);
	}

	for (i = 0; i < DT_DPATH_STEPS; i++) {
		if (d == root_d && vmnt == root_m)
			break;
		if (DT_RD(ms, mnt_root, vmnt, mnt_root) ||
		    DT_RD(ms, parent, d, d_parent))
			return 0;
		if (d == mnt_root || d == parent) {
			/* the top of a mount: continue at its mount point */
			mnt = container_of(vmnt, struct dt_mount_head, mnt);
			if (DT_RD(ms, mparent, mnt, mnt_parent))
				return 0;
			if (mparent == mnt)
				break;	/* the global root */
			if (DT_RD(ms, d, mnt, mnt_mountpoint))
				return 0;
			vmnt = &mparent->mnt;
			continue;
		}
		r = dt_prepend_name(ms, buf, &pos, d);
		if (r < 0)
			return 0;
		if (r > 0)
			break;
		d = parent;
	}
	if ((!*pos || *pos == ' ') && pos > buf)
		*--pos = '/';
	return (uintptr_t)pos;
}
NOKPROBE_SYMBOL(dt_d_path);

notrace __u64 dif_env_subr(struct dif_mstate *ms, __u32 subr,
			   const struct dif_tuple *tup, __u32 nt)
{
	__u64 v = nt ? tup[0].val : 0;

	switch (subr) {
	case DIF_SUBR_MUTEX_OWNED:
	case DIF_SUBR_MUTEX_OWNER:
	case DIF_SUBR_MUTEX_TYPE_ADAPTIVE:
	case DIF_SUBR_MUTEX_TYPE_SPIN:
		return dt_mutex(ms, subr, v);
	case DIF_SUBR_RW_READ_HELD:
	case DIF_SUBR_RW_WRITE_HELD:
	case DIF_SUBR_RW_ISWRITER:
		return dt_rwsem(ms, subr, v);
	case DIF_SUBR_PROGENYOF:
		return dt_progenyof(ms, v);
	case DIF_SUBR_D_PATH:
		return dt_d_path(ms, v);
	default:
		dif_fault(ms, DIF_F_ILLOP, subr);
		return 0;
	}
}
NOKPROBE_SYMBOL(dif_env_subr);

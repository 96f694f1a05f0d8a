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
#include <linux/dma-buf.h>
#include <uapi/linux/dma-buf.h>
#include <linux/magic.h>
#include <linux/proc_ns.h>
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

/* A bounded string being written: at most cap bytes, the rest dropped. */
struct dt_sbuf {
	char *p;
	size_t len, cap;
};

static notrace void dt_put(struct dt_sbuf *b, const char *s, size_t n)
{
	n = min(n, b->cap - b->len);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}
NOKPROBE_SYMBOL(dt_put);

static notrace void dt_put_ulong(struct dt_sbuf *b, unsigned long v)
{
	char digits[20];
	int n = 0;

	do {
		digits[sizeof(digits) - ++n] = '0' + v % 10;
		v /= 10;
	} while (v);
	dt_put(b, digits + sizeof(digits) - n, n);
}
NOKPROBE_SYMBOL(dt_put_ulong);

/*
 * Append the kernel string at s (at most max bytes, up to its NUL),
 * read a chunk at a time so a short string at the end of a page reads
 * only that page: 0, -1 on a fault.
 */
static notrace int dt_put_kstr(struct dif_mstate *ms, struct dt_sbuf *b,
			       const char *s, size_t max)
{
	char chunk[16];
	size_t i, n;

	while (max && b->len < b->cap) {
		n = min3(max, sizeof(chunk),
			 (size_t)(PAGE_SIZE - offset_in_page(s)));
		if (dt_rd(ms, chunk, s, n))
			return -1;
		for (i = 0; i < n && chunk[i]; i++)
			;
		dt_put(b, chunk, i);
		if (i < n)
			break;
		s += n;
		max -= n;
	}
	return 0;
}
NOKPROBE_SYMBOL(dt_put_kstr);

/* Append dentry d's name: 0, -1 on a fault. */
static notrace int dt_put_dname(struct dif_mstate *ms, struct dt_sbuf *b,
				struct dentry *d)
{
	const unsigned char *name;
	u32 len;

	if (DT_RD(ms, name, d, d_name.name) || DT_RD(ms, len, d, d_name.len))
		return -1;
	len = min_t(u64, len, b->cap - b->len);
	if (dt_rd(ms, b->p + b->len, name, len))
		return -1;
	b->len += len;
	return 0;
}
NOKPROBE_SYMBOL(dt_put_dname);

#define DT_PUTS(b, s)	dt_put(b, s, sizeof(s) - 1)

/*
 * The name of a file on a filesystem that is never mounted, as its
 * dentry's d_op->d_dname() writes it for the kernel's d_path() (which
 * must not be called here: those take locks or call vsnprintf()).  The
 * filesystem is told by its superblock's magic:
 *   pipefs		pipe:[<ino>]		(fs/pipe.c)
 *   sockfs		socket:[<ino>]		(net/socket.c)
 *   anon_inodefs	anon_inode:<name>	(fs/anon_inodes.c), e.g.
 *			anon_inode:[eventfd]
 *   nsfs		<ns type>:[<ino>]	(fs/nsfs.c), e.g. net:[4026531840]
 *   dma-buf		/<name>:<buffer name>	(drivers/dma-buf; the buffer
 *			name read without its name_lock)
 *   any other		/<name> (deleted)	(simple_dname(), the d_op that
 *			alloc_file_pseudo() gives files on shmem, aio,
 *			secretmem, ...: memfd:x, SYSV..., dev/zero)
 * The name is written into buf (size bytes with its NUL), truncated as
 * DTrace truncates strings to strsize.  Returns 0, -1 on a fault.
 */
static notrace int dt_dname(struct dif_mstate *ms, struct dentry *d,
			    char *buf, size_t size)
{
	struct dt_sbuf b = { .p = buf, .cap = size - 1 };
	const struct proc_ns_operations *ns_ops;
	struct dma_buf *dmabuf;
	struct super_block *sb;
	struct inode *inode;
	unsigned long magic, ino = 0;
	const char *name;
	int r = 0;

	if (DT_RD(ms, sb, d, d_sb) || DT_RD(ms, magic, sb, s_magic) ||
	    DT_RD(ms, inode, d, d_inode))
		return -1;
	if (inode && DT_RD(ms, ino, inode, i_ino))
		return -1;
	switch (magic) {
	case PIPEFS_MAGIC:
		DT_PUTS(&b, "pipe:[");
		break;
	case SOCKFS_MAGIC:
		DT_PUTS(&b, "socket:[");
		break;
	case ANON_INODE_FS_MAGIC:
		DT_PUTS(&b, "anon_inode:");
		r = dt_put_dname(ms, &b, d);
		break;
	case NSFS_MAGIC:
		if (DT_RD(ms, ns_ops, d, d_fsdata) ||
		    DT_RD(ms, name, ns_ops, name) ||
		    dt_put_kstr(ms, &b, name, 64))
			return -1;
		DT_PUTS(&b, ":[");
		break;
	case DMA_BUF_MAGIC:
		DT_PUTS(&b, "/");
		if (dt_put_dname(ms, &b, d) ||
		    DT_RD(ms, dmabuf, d, d_fsdata) ||
		    DT_RD(ms, name, dmabuf, name))
			return -1;
		DT_PUTS(&b, ":");
		if (name)
			r = dt_put_kstr(ms, &b, name, DMA_BUF_NAME_LEN - 1);
		break;
	default:
		DT_PUTS(&b, "/");
		r = dt_put_dname(ms, &b, d);
		DT_PUTS(&b, " (deleted)");
		break;
	}
	if (magic == PIPEFS_MAGIC || magic == SOCKFS_MAGIC ||
	    magic == NSFS_MAGIC) {
		dt_put_ulong(&b, ino);
		DT_PUTS(&b, "]");
	}
	buf[b.len] = '\0';
	return r;
}
NOKPROBE_SYMBOL(dt_dname);

/*
 * d_path(path): the path name as the kernel's d_path() writes it (from the
 * current task's root; " (deleted)" after an unlinked file's name), built
 * by walking dentries and mounts with nofault reads.  A name longer than
 * strsize - 1 keeps its last components: whole ones that fit.  A dentry
 * with a d_op->d_dname() that is not a mounted root (a pipe, a socket, an
 * anonymous inode, ...) is named as that d_dname() names it: dt_dname().
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
	const struct dentry_operations *d_op = NULL;
	char *(*d_dname)(struct dentry *d, char *buf, int len) = NULL;
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

	if (DT_RD(ms, parent, d, d_parent) || DT_RD(ms, pprev, d, d_hash.pprev))
		return 0;
	/* fs/d_path.c: d_path() asks d_dname() unless d is a mounted root */
	if (DT_RD(ms, d_op, d, d_op))
		return 0;
	if (d_op && DT_RD(ms, d_dname, d_op, d_dname))
		return 0;
	if (d_dname) {
		if (DT_RD(ms, mnt_root, vmnt, mnt_root))
			return 0;
		if (parent != d || d != mnt_root)
			return dt_dname(ms, d, buf, size) ? 0 : dest;
	}

	/* unlinked: unhashed, and not a root */
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

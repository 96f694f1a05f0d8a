// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall provider: syscall:vmlinux:<name>:entry and :return for every
 * 64-bit system call of the kernel, named as the kernel names them
 * (newfstatat, not fstatat), as Oracle's DTrace for Linux does.  Numbers
 * and names come at build time from the kernel headers' generated
 * <asm/syscalls_64.h>; compat (ia32, x32) system calls are not traced.
 *
 * Built on the raw tracepoints sys_enter and sys_exit, each registered
 * only while some probe of its direction is enabled.  While registered,
 * every system call of every task takes the slow path into our callback,
 * which tests one bit of a per-direction bitmap first thing.
 *
 * entry: arg0..arg5 are the call's arguments.
 * return: arg0 = arg1 = the value the kernel returns (-errno on failure,
 * as Oracle's DTrace for Linux); the errno built-in is the positive error
 * number while a return probe fires for a failed call
 * (-4095 <= ret < 0), and 0 everywhere else (see dtrace_syscall_errno()).
 */
#include <linux/kernel.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/irqflags.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <asm/compat.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "dtrace_impl.h"

/* The kernel's own table, as arch/x86/entry/syscall_64.c builds it. */
static const struct {
	unsigned long nr;
	const char *name;
} dtrace_syscall_table[] = {
#define __SYSCALL(nr, sym) { nr, #sym },
#include <asm/syscalls_64.h>
#undef __SYSCALL
};

#define DTRACE_NSYSCALLS	NR_syscalls
#define DTRACE_SYSCALL_ENTRY	0
#define DTRACE_SYSCALL_RETURN	1

static u32 dtrace_syscall_ids[DTRACE_NSYSCALLS][2];
/* Probe context reads these with test_bit(); dtrace_lock writes them. */
static DECLARE_BITMAP(dtrace_syscall_on_entry, DTRACE_NSYSCALLS);
static DECLARE_BITMAP(dtrace_syscall_on_return, DTRACE_NSYSCALLS);
static unsigned int dtrace_syscall_nenabled[2];		/* dtrace_lock */
static bool dtrace_syscall_registered[2];		/* dtrace_lock */
static struct tracepoint *dtrace_syscall_tp[2];

/* errno for the return probe firing on this CPU, else 0. */
static DEFINE_PER_CPU(u64, dtrace_syscall_err);

static struct dentry *dtrace_syscall_debugfs;

/*
 * ---------------------------------------------------------------------------
 * Probe context: the tracepoint callbacks (preemption disabled).
 * ---------------------------------------------------------------------------
 */
static notrace void dtrace_syscall_enter(void *data, struct pt_regs *regs,
					 long nr)
{
	unsigned long args[6] DIF_UNINIT;	/* syscall_get_arguments() */

	if ((unsigned long)nr >= DTRACE_NSYSCALLS ||
	    !test_bit(nr, dtrace_syscall_on_entry) || in_32bit_syscall())
		return;
	syscall_get_arguments(current, regs, args);
	dtrace_probe(dtrace_syscall_ids[nr][DTRACE_SYSCALL_ENTRY], NULL,
		     args[0], args[1], args[2], args[3], args[4], args[5]);
}
NOKPROBE_SYMBOL(dtrace_syscall_enter);

static notrace void dtrace_syscall_exit(void *data, struct pt_regs *regs,
					long ret)
{
	long nr = syscall_get_nr(current, regs);
	unsigned long flags;

	if ((unsigned long)nr >= DTRACE_NSYSCALLS ||
	    !test_bit(nr, dtrace_syscall_on_return) || in_32bit_syscall())
		return;
	/* Interrupts off: no other probe on this CPU sees this errno. */
	local_irq_save(flags);
	this_cpu_write(dtrace_syscall_err,
		       IS_ERR_VALUE(ret) ? (u64)-ret : 0);
	dtrace_probe(dtrace_syscall_ids[nr][DTRACE_SYSCALL_RETURN], NULL,
		     ret, ret, 0, 0, 0, 0);
	this_cpu_write(dtrace_syscall_err, 0);
	local_irq_restore(flags);
}
NOKPROBE_SYMBOL(dtrace_syscall_exit);

/* The errno built-in: nonzero only inside a failed call's return probe. */
notrace u64 dtrace_syscall_errno(void)
{
	return this_cpu_read(dtrace_syscall_err);
}
NOKPROBE_SYMBOL(dtrace_syscall_errno);

/*
 * ---------------------------------------------------------------------------
 * Enable and disable (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */
static void *const dtrace_syscall_cbs[2] = {
	dtrace_syscall_enter,
	dtrace_syscall_exit,
};

static unsigned long *dtrace_syscall_map(int dir)
{
	return dir == DTRACE_SYSCALL_ENTRY ? dtrace_syscall_on_entry :
					     dtrace_syscall_on_return;
}

static int dtrace_syscall_enable(struct dtrace_provider *prov, u32 id,
				 void *parg)
{
	unsigned long nr = (uintptr_t)parg >> 1;
	int dir = (uintptr_t)parg & 1, err;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(nr >= DTRACE_NSYSCALLS ||
			 test_bit(nr, dtrace_syscall_map(dir))))
		return -EINVAL;
	/* The bit first: the callback is useless without it. */
	set_bit(nr, dtrace_syscall_map(dir));
	if (!dtrace_syscall_registered[dir]) {
		err = tracepoint_probe_register(dtrace_syscall_tp[dir],
						dtrace_syscall_cbs[dir], NULL);
		if (err) {
			clear_bit(nr, dtrace_syscall_map(dir));
			return err;
		}
		dtrace_syscall_registered[dir] = true;
	}
	dtrace_syscall_nenabled[dir]++;
	return 0;
}

static void dtrace_syscall_disable(struct dtrace_provider *prov, u32 id,
				   void *parg)
{
	unsigned long nr = (uintptr_t)parg >> 1;
	int dir = (uintptr_t)parg & 1;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(nr >= DTRACE_NSYSCALLS ||
			 !test_bit(nr, dtrace_syscall_map(dir)) ||
			 !dtrace_syscall_nenabled[dir] ||
			 !dtrace_syscall_registered[dir]))
		return;
	clear_bit(nr, dtrace_syscall_map(dir));
	if (--dtrace_syscall_nenabled[dir])
		return;
	WARN_ON_ONCE(tracepoint_probe_unregister(dtrace_syscall_tp[dir],
						 dtrace_syscall_cbs[dir],
						 NULL));
	/* No CPU is in the callback when this returns. */
	tracepoint_synchronize_unregister();
	dtrace_syscall_registered[dir] = false;
}

static const struct dtrace_provider_ops dtrace_syscall_ops = {
	.enable = dtrace_syscall_enable,
	.disable = dtrace_syscall_disable,
};

static struct dtrace_provider dtrace_syscall_prov = {
	.name = "syscall",
	.ops = &dtrace_syscall_ops,
};

/*
 * ---------------------------------------------------------------------------
 * debugfs: dtrace_syscall shows what is armed, so tests can check that
 * nothing stays registered.
 * ---------------------------------------------------------------------------
 */
static int dtrace_syscall_show(struct seq_file *m, void *unused)
{
	mutex_lock(&dtrace_lock);
	seq_printf(m, "sys_enter_registered %d\n",
		   dtrace_syscall_registered[DTRACE_SYSCALL_ENTRY]);
	seq_printf(m, "sys_exit_registered %d\n",
		   dtrace_syscall_registered[DTRACE_SYSCALL_RETURN]);
	seq_printf(m, "entry_enabled %u\n",
		   dtrace_syscall_nenabled[DTRACE_SYSCALL_ENTRY]);
	seq_printf(m, "return_enabled %u\n",
		   dtrace_syscall_nenabled[DTRACE_SYSCALL_RETURN]);
	mutex_unlock(&dtrace_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dtrace_syscall);

/*
 * ---------------------------------------------------------------------------
 * Init and exit
 * ---------------------------------------------------------------------------
 */
static void dtrace_syscall_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sys_enter"))
		dtrace_syscall_tp[DTRACE_SYSCALL_ENTRY] = tp;
	else if (!strcmp(tp->name, "sys_exit"))
		dtrace_syscall_tp[DTRACE_SYSCALL_RETURN] = tp;
}

int dtrace_prov_syscall_init(void)
{
	const char *name;
	unsigned long nr;
	int err = 0, dir;
	size_t i;

	for_each_kernel_tracepoint(dtrace_syscall_find_tp, NULL);
	if (!dtrace_syscall_tp[0] || !dtrace_syscall_tp[1]) {
		pr_err("dtrace: no sys_enter/sys_exit tracepoints\n");
		return -ENOENT;
	}
	err = dtrace_provider_register(&dtrace_syscall_prov);
	if (err)
		return err;

	mutex_lock(&dtrace_lock);
	for (i = 0; i < ARRAY_SIZE(dtrace_syscall_table); i++) {
		nr = dtrace_syscall_table[i].nr;
		name = dtrace_syscall_table[i].name;
		if (WARN_ON_ONCE(nr >= DTRACE_NSYSCALLS) ||
		    !strcmp(name, "sys_ni_syscall"))
			continue;
		if (str_has_prefix(name, "sys_"))
			name += 4;
		for (dir = 0; dir < 2; dir++) {
			dtrace_syscall_ids[nr][dir] =
				dtrace_probe_create(&dtrace_syscall_prov,
						    "vmlinux", name,
						    dir ? "return" : "entry",
						    (void *)(uintptr_t)
						    (nr << 1 | dir));
			if (!dtrace_syscall_ids[nr][dir])
				err = -ENOMEM;
		}
		if (err)
			break;
	}
	mutex_unlock(&dtrace_lock);
	if (err) {
		dtrace_provider_unregister(&dtrace_syscall_prov);
		return err;
	}
	dtrace_syscall_debugfs = debugfs_create_file("dtrace_syscall", 0444,
						     NULL, NULL,
						     &dtrace_syscall_fops);
	return 0;
}

void dtrace_prov_syscall_exit(void)
{
	debugfs_remove(dtrace_syscall_debugfs);
	WARN_ON_ONCE(dtrace_syscall_registered[0] ||
		     dtrace_syscall_registered[1]);
	dtrace_provider_unregister(&dtrace_syscall_prov);
}

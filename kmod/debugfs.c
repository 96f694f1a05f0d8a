// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/dtrace/: the module's debugfs directory.
 *
 *   consumers	one line per open consumer (id, opener's pid and comm,
 *		activity, ECBs, bytes held by kind), the totals, and the
 *		module's count of live allocations (state.c)
 *
 * debugfs failures are not fatal (the module works without the files).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "dtrace_impl.h"

struct dentry *dtrace_debugfs_dir;

static int dtrace_consumers_show(struct seq_file *m, void *unused)
{
	return dtrace_states_show(m);
}
DEFINE_SHOW_ATTRIBUTE(dtrace_consumers);

int dtrace_debugfs_init(void)
{
	dtrace_debugfs_dir = debugfs_create_dir("dtrace", NULL);
	debugfs_create_file("consumers", 0400, dtrace_debugfs_dir, NULL,
			    &dtrace_consumers_fops);
	return 0;
}

void dtrace_debugfs_exit(void)
{
	debugfs_remove_recursive(dtrace_debugfs_dir);
	dtrace_debugfs_dir = NULL;
}

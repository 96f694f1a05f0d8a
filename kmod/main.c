// SPDX-License-Identifier: GPL-2.0
/*
 * dtrace: DTrace for Linux as a loadable module.  Init and exit only; each
 * step is undone in reverse order.
 */
#include <linux/module.h>
#include <linux/init.h>

#include "dtrace_impl.h"

static int __init dtrace_init(void)
{
	int err;

	dtrace_destr_init();	/* cannot fail */
	err = dtrace_debugfs_init();
	if (err)
		goto err_debugfs;
	err = dtrace_probes_init();
	if (err)
		goto err_probes;
	err = dtrace_prov_dtrace_init();
	if (err)
		goto err_prov_dtrace;
	err = dtrace_prov_profile_init();
	if (err)
		goto err_prov_profile;
	err = dtrace_prov_syscall_init();
	if (err)
		goto err_prov_syscall;
	err = dtrace_prov_fbt_init();
	if (err)
		goto err_prov_fbt;
	err = dtrace_prov_sdt_init();
	if (err)
		goto err_prov_sdt;
	err = dtrace_prov_proc_init();
	if (err)
		goto err_prov_proc;
	err = dtrace_prov_sched_init();
	if (err)
		goto err_prov_sched;
	err = dtrace_prov_io_init();
	if (err)
		goto err_prov_io;
	err = dtrace_dev_init();
	if (err)
		goto err_dev;
	return 0;

err_dev:
	dtrace_prov_io_exit();
err_prov_io:
	dtrace_prov_sched_exit();
err_prov_sched:
	dtrace_prov_proc_exit();
err_prov_proc:
	dtrace_prov_sdt_exit();
err_prov_sdt:
	dtrace_prov_fbt_exit();
err_prov_fbt:
	dtrace_prov_syscall_exit();
err_prov_syscall:
	dtrace_prov_profile_exit();
err_prov_profile:
	dtrace_prov_dtrace_exit();
err_prov_dtrace:
	dtrace_probes_exit();
err_probes:
	dtrace_debugfs_exit();
err_debugfs:
	WARN_ON_ONCE(atomic_long_read(&dtrace_nallocs));
	return err;
}

static void __exit dtrace_exit(void)
{
	dtrace_dev_exit();
	dtrace_prov_io_exit();
	dtrace_prov_sched_exit();
	dtrace_prov_proc_exit();
	dtrace_prov_sdt_exit();
	dtrace_prov_fbt_exit();
	dtrace_prov_syscall_exit();
	dtrace_prov_profile_exit();
	dtrace_prov_dtrace_exit();
	dtrace_destr_exit();
	dtrace_probes_exit();
	dtrace_debugfs_exit();
	/* Every allocation of the module must have come back. */
	WARN_ON_ONCE(atomic_long_read(&dtrace_nallocs));
}

module_init(dtrace_init);
module_exit(dtrace_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("DTrace: dynamic tracing with D programs");
MODULE_AUTHOR("pydtrace developers");

// SPDX-License-Identifier: GPL-2.0
/*
 * The io provider (DTrace's io probes on Linux block requests):
 *
 *   start   block_rq_issue, when a request goes to the device driver.
 *   done    block_rq_complete, when the device completes it (often in
 *           interrupt context, not in the thread that issued it).
 *
 * args[0], args[1], args[2] = the struct request (bufinfo_t, devinfo_t
 * and fileinfo_t come from translators in user space).  wait-start and
 * wait-done are not provided: Linux threads wait for a bio or a page, not
 * for a request, and no tracepoint marks that wait.
 */
#include <linux/kernel.h>
#include <linux/blk-mq.h>
#include <linux/kprobes.h>

#include "sprov.h"

enum { IO_START, IO_DONE, IO_NPROBES };

static struct dtrace_sprobe dtrace_io_probes[IO_NPROBES];

static notrace void dtrace_io_issue(void *data, struct request *rq)
{
	dtrace_sprobe_fire(&dtrace_io_probes[IO_START], (uintptr_t)rq,
			   (uintptr_t)rq, (uintptr_t)rq, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_io_issue);

static notrace void dtrace_io_complete(void *data, struct request *rq,
				       blk_status_t error,
				       unsigned int nr_bytes)
{
	dtrace_sprobe_fire(&dtrace_io_probes[IO_DONE], (uintptr_t)rq,
			   (uintptr_t)rq, (uintptr_t)rq, 0, 0);
}
NOKPROBE_SYMBOL(dtrace_io_complete);

static struct dtrace_hook dtrace_io_hooks[] = {
	{ .func = "block_rq_issue", .tp_name = "block_rq_issue",
	  .tp_cb = dtrace_io_issue },
	{ .func = "block_rq_complete", .tp_name = "block_rq_complete",
	  .tp_cb = dtrace_io_complete },
};

static struct dtrace_sprobe dtrace_io_probes[IO_NPROBES] = {
	[IO_START] = { "start", &dtrace_io_hooks[0] },
	[IO_DONE] = { "done", &dtrace_io_hooks[1] },
};

static struct dtrace_sprov dtrace_io_prov = {
	.probes = dtrace_io_probes,
	.nprobes = IO_NPROBES,
};

int dtrace_prov_io_init(void)
{
	return dtrace_sprov_register(&dtrace_io_prov, "io");
}

void dtrace_prov_io_exit(void)
{
	dtrace_sprov_unregister(&dtrace_io_prov);
}

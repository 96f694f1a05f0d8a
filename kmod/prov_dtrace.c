// SPDX-License-Identifier: GPL-2.0
/*
 * The dtrace provider: BEGIN (id 1), END (id 2) and ERROR (id 3), with
 * empty module and function.  The framework fires them itself (GO, STOP,
 * faults), always for one consumer.
 */
#include <linux/kernel.h>

#include "dtrace_impl.h"

u32 dtrace_probeid_begin, dtrace_probeid_end, dtrace_probeid_error;

/* The probes exist from registration on; enabling them arms nothing. */
static const struct dtrace_provider_ops dtrace_prov_ops = {
};

static struct dtrace_provider dtrace_prov = {
	.name = "dtrace",
	.ops = &dtrace_prov_ops,
};

bool dtrace_probe_is_dtrace(const struct dtrace_probe *probe)
{
	return probe->prov == &dtrace_prov;
}

int dtrace_prov_dtrace_init(void)
{
	int err;

	err = dtrace_provider_register(&dtrace_prov);
	if (err)
		return err;
	mutex_lock(&dtrace_lock);
	dtrace_probeid_begin = dtrace_probe_create(&dtrace_prov, NULL, NULL,
						   "BEGIN", NULL);
	dtrace_probeid_end = dtrace_probe_create(&dtrace_prov, NULL, NULL,
						 "END", NULL);
	dtrace_probeid_error = dtrace_probe_create(&dtrace_prov, NULL, NULL,
						   "ERROR", NULL);
	mutex_unlock(&dtrace_lock);
	if (!dtrace_probeid_begin || !dtrace_probeid_end ||
	    !dtrace_probeid_error) {
		dtrace_provider_unregister(&dtrace_prov);
		return -ENOMEM;
	}
	/* The probe table is empty before us: the ids are DTrace's 1, 2, 3. */
	WARN_ON_ONCE(dtrace_probeid_begin != 1 || dtrace_probeid_end != 2 ||
		     dtrace_probeid_error != 3);
	return 0;
}

void dtrace_prov_dtrace_exit(void)
{
	dtrace_provider_unregister(&dtrace_prov);
}

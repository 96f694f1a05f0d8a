/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version conditional of the module lives here, and nowhere
 * else.  The module is written against Linux 6.1 (Debian 12's kernel), so
 * there is none yet; add them here, not in the .c files.
 */
#ifndef _DTRACE_COMPAT_H
#define _DTRACE_COMPAT_H

#include <linux/version.h>

#endif /* _DTRACE_COMPAT_H */

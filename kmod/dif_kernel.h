/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kmod/dif/dif.h needs from the kernel when it is built into the
 * module: code reachable from probe context must be invisible to ftrace
 * (notrace) and to kprobes (NOKPROBE_SYMBOL), or tracing the tracer would
 * recurse.
 */
#ifndef _DTRACE_DIF_KERNEL_H
#define _DTRACE_DIF_KERNEL_H

#include <linux/compiler.h>
#include <linux/kprobes.h>

#define DIF_NOTRACE	notrace

/*
 * A local that the code fully writes before reading: exempt from the
 * kernel's CONFIG_INIT_STACK_ALL_ZERO, whose zeroing of arrays and structs
 * (a rep stos) would otherwise run on every firing.
 */
#define DIF_UNINIT	__uninitialized

#endif /* _DTRACE_DIF_KERNEL_H */

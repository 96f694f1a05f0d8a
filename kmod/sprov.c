// SPDX-License-Identifier: GPL-2.0
/*
 * Static providers on kernel hooks: the probes of proc, sched and io are
 * created at load time as <provider>:vmlinux:<hook>:<name>, where <hook>
 * is the tracepoint or kernel function they fire from.  A hook (tracepoint
 * callback, kprobe or kretprobe) is registered while at least one of its
 * probes is enabled, and each probe has its own on flag, so a hook shared
 * by several probes fires only the enabled ones.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "sprov.h"

static unsigned int dtrace_hooks_registered;	/* dtrace_lock */

unsigned int dtrace_tphook_registered(void)
{
	return dtrace_hooks_registered;
}

static void dtrace_hook_find_tp(struct tracepoint *tp, void *priv)
{
	struct dtrace_hook *hook = priv;

	if (!strcmp(tp->name, hook->tp_name))
		hook->tp = tp;
}

static int dtrace_hook_register(struct dtrace_hook *hook)
{
	const char *const *sym;
	int err = -ENOENT;

	if (hook->tp_name) {
		if (!hook->tp)
			for_each_kernel_tracepoint(dtrace_hook_find_tp, hook);
		if (!hook->tp)
			return -ENOENT;
		return tracepoint_probe_register(hook->tp, hook->tp_cb, NULL);
	}
	for (sym = hook->syms; sym && *sym; sym++) {
		if (hook->pre) {
			memset(&hook->kp, 0, sizeof(hook->kp));
			hook->kp.symbol_name = *sym;
			hook->kp.pre_handler = hook->pre;
			err = register_kprobe(&hook->kp);
		} else {
			memset(&hook->krp, 0, sizeof(hook->krp));
			hook->krp.kp.symbol_name = *sym;
			hook->krp.handler = hook->ret;
			err = register_kretprobe(&hook->krp);
		}
		if (!err)
			return 0;
	}
	return err;
}

static void dtrace_hook_unregister(struct dtrace_hook *hook)
{
	if (hook->tp_name) {
		WARN_ON_ONCE(tracepoint_probe_unregister(hook->tp, hook->tp_cb,
							 NULL));
		/* No CPU is in the callback when this returns. */
		tracepoint_synchronize_unregister();
	} else if (hook->pre) {
		unregister_kprobe(&hook->kp);
	} else {
		unregister_kretprobe(&hook->krp);
	}
}

static struct dtrace_hook *dtrace_sprobe_hook(struct dtrace_sprobe *p, int i)
{
	return i ? p->more[i - 1] : p->hook;
}

static int dtrace_hook_get(struct dtrace_hook *hook)
{
	int err;

	if (!hook->users) {
		err = dtrace_hook_register(hook);
		if (err)
			return err;
		dtrace_hooks_registered++;
	}
	hook->users++;
	return 0;
}

static void dtrace_hook_put(struct dtrace_hook *hook)
{
	if (WARN_ON_ONCE(!hook->users) || --hook->users)
		return;
	dtrace_hook_unregister(hook);
	dtrace_hooks_registered--;
}

static int dtrace_sprov_enable(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	struct dtrace_sprobe *p = parg;
	struct dtrace_hook *hook;
	int err, i;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(p->on))
		return -EBUSY;
	for (i = 0; i < DTRACE_SPROBE_HOOKS; i++) {
		hook = dtrace_sprobe_hook(p, i);
		if (!hook)
			break;
		err = dtrace_hook_get(hook);
		if (err) {
			while (i--)
				dtrace_hook_put(dtrace_sprobe_hook(p, i));
			return err;
		}
	}
	WRITE_ONCE(p->on, true);
	return 0;
}

static void dtrace_sprov_disable(struct dtrace_provider *prov, u32 id,
				 void *parg)
{
	struct dtrace_sprobe *p = parg;
	struct dtrace_hook *hook;
	int i;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(!p->on))
		return;
	WRITE_ONCE(p->on, false);
	for (i = 0; i < DTRACE_SPROBE_HOOKS; i++) {
		hook = dtrace_sprobe_hook(p, i);
		if (!hook)
			break;
		dtrace_hook_put(hook);
	}
}

static const struct dtrace_provider_ops dtrace_sprov_ops = {
	.enable = dtrace_sprov_enable,
	.disable = dtrace_sprov_disable,
};

int dtrace_sprov_register(struct dtrace_sprov *sp, const char *name)
{
	struct dtrace_sprobe *p;
	int err = 0;
	size_t i;

	sp->prov.name = name;
	sp->prov.ops = &dtrace_sprov_ops;
	err = dtrace_provider_register(&sp->prov);
	if (err)
		return err;
	mutex_lock(&dtrace_lock);
	for (i = 0; i < sp->nprobes; i++) {
		p = &sp->probes[i];
		p->id = dtrace_probe_create(&sp->prov, "vmlinux", p->hook->func,
					    p->name, p);
		if (!p->id) {
			err = -ENOMEM;
			break;
		}
	}
	mutex_unlock(&dtrace_lock);
	if (err)
		dtrace_provider_unregister(&sp->prov);
	return err;
}

void dtrace_sprov_unregister(struct dtrace_sprov *sp)
{
	size_t i;

	for (i = 0; i < sp->nprobes; i++)
		WARN_ON_ONCE(sp->probes[i].on);
	dtrace_provider_unregister(&sp->prov);
}

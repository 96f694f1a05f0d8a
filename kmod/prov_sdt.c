// SPDX-License-Identifier: GPL-2.0
/*
 * The sdt provider: every kernel tracepoint as sdt:<system>::<event>.
 *
 * A struct tracepoint knows its event name but not its trace system (the
 * "system" of tracefs's available_events lives in the trace_event_call,
 * which modules cannot reach).  So probes are created on demand, as fbt's
 * are: user space reads available_events ("system:event" lines) and names
 * each probe exactly through DTRACEIOC_PROVIDE; the provider creates
 * sdt:<system>::<event> when <event> is the name of a tracepoint of the
 * kernel image or of a loaded module.  The module field is taken from the
 * description as given.
 *
 * A probe's tracepoint callback is registered only while it is enabled; a
 * module's tracepoint holds a reference on that module while enabled.
 * When a module goes away its probes stay listed but cannot be enabled
 * until it is loaded again and they are provided again.
 *
 * arg0..arg4 are the tracepoint's first five arguments (see dtrace_sdt_fire).
 */
#include <linux/kernel.h>
#include <linux/bsearch.h>
#include <linux/debugfs.h>
#include <linux/kprobes.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "dtrace_impl.h"

struct dtrace_sdt {
	struct list_head node;		/* dtrace_sdts; dtrace_lock */
	struct tracepoint *tp;		/* NULL once its module is gone */
	struct module *owner;		/* NULL: the kernel image */
	u32 id;
	bool on;
};

/* The kernel image's tracepoints, sorted by name. */
struct dtrace_sdt_tp {
	struct tracepoint *tp;
	struct dtrace_sdt *sdt;		/* its probe, if created; dtrace_lock */
};

/* A loaded module with tracepoints (the tracepoint module notifier). */
struct dtrace_sdt_mod {
	struct list_head node;		/* dtrace_sdt_mods; dtrace_lock */
	struct module *mod;
};

static struct dtrace_sdt_tp *dtrace_sdt_tps;
static size_t dtrace_sdt_ntps;
static LIST_HEAD(dtrace_sdts);
static LIST_HEAD(dtrace_sdt_mods);
static unsigned int dtrace_sdt_armed;		/* dtrace_lock */
static struct dentry *dtrace_sdt_debugfs;

/*
 * ---------------------------------------------------------------------------
 * Probe context: the tracepoint callback (preemption disabled).
 * ---------------------------------------------------------------------------
 */

/*
 * One callback serves every tracepoint.  Tracepoints call their probes as
 * probe(data, args...), and on x86-64 the first six integer or pointer
 * arguments travel in registers (rdi = data, then rsi rdx rcx r8 r9), so a
 * function declared with five u64s after data reads the first five
 * arguments of any tracepoint whose arguments are integers or pointers.
 * Slots beyond a tracepoint's own arguments hold stale register values,
 * and an argument narrower than 64 bits leaves the upper bits undefined:
 * typed args[] narrow them to the argument's type.
 */
static notrace void dtrace_sdt_fire(void *data, u64 a0, u64 a1, u64 a2,
				    u64 a3, u64 a4)
{
	const struct dtrace_sdt *sdt = data;

	/* dtrace_probe() is not for NMI context (nmi:nmi_handler fires there). */
	if (in_nmi())
		return;
	dtrace_probe(sdt->id, NULL, a0, a1, a2, a3, a4, 0);
}
NOKPROBE_SYMBOL(dtrace_sdt_fire);

/*
 * ---------------------------------------------------------------------------
 * Finding tracepoints (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */
static void dtrace_sdt_count_tp(struct tracepoint *tp, void *priv)
{
	(*(size_t *)priv)++;
}

static void dtrace_sdt_add_tp(struct tracepoint *tp, void *priv)
{
	size_t *n = priv;

	if (*n < dtrace_sdt_ntps)
		dtrace_sdt_tps[(*n)++].tp = tp;
}

static int dtrace_sdt_cmp(const void *a, const void *b)
{
	const struct dtrace_sdt_tp *x = a, *y = b;

	return strcmp(x->tp->name, y->tp->name);
}

static int dtrace_sdt_key_cmp(const void *key, const void *elt)
{
	const struct dtrace_sdt_tp *e = elt;

	return strcmp(key, e->tp->name);
}

static struct dtrace_sdt *dtrace_sdt_of_tp(struct tracepoint *tp)
{
	struct dtrace_sdt *sdt;

	list_for_each_entry(sdt, &dtrace_sdts, node) {
		if (sdt->tp == tp)
			return sdt;
	}
	return NULL;
}

/* A module's tracepoint named event, or NULL; *owner is its module. */
static struct tracepoint *dtrace_sdt_mod_tp(const char *event,
					    struct module **owner)
{
	struct dtrace_sdt_mod *m;
	struct tracepoint *tp;
	unsigned int i;

	list_for_each_entry(m, &dtrace_sdt_mods, node) {
		for (i = 0; i < m->mod->num_tracepoints; i++) {
			tp = tracepoint_ptr_deref(&m->mod->tracepoints_ptrs[i]);
			if (!strcmp(tp->name, event)) {
				*owner = m->mod;
				return tp;
			}
		}
	}
	return NULL;
}

/* The probe of a module's tracepoint named event whose module went away. */
static struct dtrace_sdt *dtrace_sdt_stale(const char *event)
{
	struct dtrace_probe *probe;
	struct dtrace_sdt *sdt;

	list_for_each_entry(sdt, &dtrace_sdts, node) {
		if (sdt->tp)
			continue;
		probe = dtrace_probe_get(sdt->id);
		if (probe && !strcmp(probe->name, event))
			return sdt;
	}
	return NULL;
}

static bool dtrace_sdt_is_glob(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static void dtrace_sdt_provide(struct dtrace_provider *prov,
			       const struct dtrace_probedesc *desc)
{
	struct dtrace_sdt_tp *ent = NULL;
	struct module *owner = NULL;
	struct tracepoint *tp;
	struct dtrace_sdt *sdt;

	lockdep_assert_held(&dtrace_lock);
	if (!desc || strcmp(desc->dtpd_provider, prov->name) ||
	    !desc->dtpd_mod[0] || desc->dtpd_func[0] || !desc->dtpd_name[0] ||
	    !memchr(desc->dtpd_mod, 0, sizeof(desc->dtpd_mod)) ||
	    !memchr(desc->dtpd_name, 0, sizeof(desc->dtpd_name)) ||
	    dtrace_sdt_is_glob(desc->dtpd_mod) ||
	    dtrace_sdt_is_glob(desc->dtpd_name))
		return;
	if (dtrace_sdt_tps)
		ent = bsearch(desc->dtpd_name, dtrace_sdt_tps, dtrace_sdt_ntps,
			      sizeof(*ent), dtrace_sdt_key_cmp);
	if (ent) {
		if (ent->sdt)
			return;
		tp = ent->tp;
	} else {
		tp = dtrace_sdt_mod_tp(desc->dtpd_name, &owner);
		if (!tp || dtrace_sdt_of_tp(tp))
			return;
		/* A module loaded again: its old probe gets the tracepoint. */
		sdt = dtrace_sdt_stale(tp->name);
		if (sdt) {
			sdt->tp = tp;
			sdt->owner = owner;
			return;
		}
	}
	sdt = dtrace_zalloc(sizeof(*sdt));
	if (!sdt)
		return;
	sdt->tp = tp;
	sdt->owner = owner;
	sdt->id = dtrace_probe_create(prov, desc->dtpd_mod, "", tp->name, sdt);
	if (!sdt->id) {
		dtrace_free(sdt);
		return;
	}
	list_add_tail(&sdt->node, &dtrace_sdts);
	if (ent)
		ent->sdt = sdt;
}

/*
 * ---------------------------------------------------------------------------
 * Enable, disable, destroy (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */
static int dtrace_sdt_enable(struct dtrace_provider *prov, u32 id, void *parg)
{
	struct dtrace_sdt *sdt = parg;
	int err;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(sdt->on))
		return -EBUSY;
	if (!sdt->tp)
		return -ENOENT;
	if (sdt->owner && !try_module_get(sdt->owner))
		return -ENOENT;
	err = tracepoint_probe_register(sdt->tp, dtrace_sdt_fire, sdt);
	if (err) {
		module_put(sdt->owner);
		return err;
	}
	sdt->on = true;
	dtrace_sdt_armed++;
	return 0;
}

static void dtrace_sdt_disable(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	struct dtrace_sdt *sdt = parg;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(!sdt->on || !sdt->tp || !dtrace_sdt_armed))
		return;
	WARN_ON_ONCE(tracepoint_probe_unregister(sdt->tp, dtrace_sdt_fire,
						 sdt));
	/* No CPU is in the callback when this returns. */
	tracepoint_synchronize_unregister();
	module_put(sdt->owner);
	sdt->on = false;
	dtrace_sdt_armed--;
}

static void dtrace_sdt_destroy(struct dtrace_provider *prov, u32 id,
			       void *parg)
{
	struct dtrace_sdt *sdt = parg;
	struct dtrace_sdt_tp *ent;

	lockdep_assert_held(&dtrace_lock);
	WARN_ON_ONCE(sdt->on);
	if (sdt->tp && !sdt->owner && dtrace_sdt_tps) {
		ent = bsearch(sdt->tp->name, dtrace_sdt_tps, dtrace_sdt_ntps,
			      sizeof(*ent), dtrace_sdt_key_cmp);
		if (ent && ent->sdt == sdt)
			ent->sdt = NULL;
	}
	list_del(&sdt->node);
	dtrace_free(sdt);
}

static const struct dtrace_provider_ops dtrace_sdt_ops = {
	.provide = dtrace_sdt_provide,
	.enable = dtrace_sdt_enable,
	.disable = dtrace_sdt_disable,
	.destroy = dtrace_sdt_destroy,
};

static struct dtrace_provider dtrace_sdt_prov = {
	.name = "sdt",
	.ops = &dtrace_sdt_ops,
};

/*
 * ---------------------------------------------------------------------------
 * Modules coming and going (the tracepoint module notifier)
 * ---------------------------------------------------------------------------
 */
static void dtrace_sdt_mod_coming(struct module *mod)
{
	struct dtrace_sdt_mod *m;

	if (mod == THIS_MODULE || !mod->num_tracepoints)
		return;
	m = dtrace_zalloc(sizeof(*m));
	if (!m)
		return;		/* its tracepoints get no probes */
	m->mod = mod;
	mutex_lock(&dtrace_lock);
	list_add_tail(&m->node, &dtrace_sdt_mods);
	mutex_unlock(&dtrace_lock);
}

static void dtrace_sdt_mod_going(struct module *mod)
{
	struct dtrace_sdt_mod *m, *tmp;
	struct dtrace_sdt *sdt;

	mutex_lock(&dtrace_lock);
	list_for_each_entry(sdt, &dtrace_sdts, node) {
		if (sdt->owner != mod || !sdt->tp)
			continue;
		/* An enabled probe holds a reference: only a failed load. */
		if (WARN_ON_ONCE(sdt->on))
			continue;
		sdt->tp = NULL;
	}
	list_for_each_entry_safe(m, tmp, &dtrace_sdt_mods, node) {
		if (m->mod != mod)
			continue;
		list_del(&m->node);
		dtrace_free(m);
	}
	mutex_unlock(&dtrace_lock);
}

static int dtrace_sdt_mod_notify(struct notifier_block *nb,
				 unsigned long val, void *data)
{
	struct tp_module *tp_mod = data;

	if (val == MODULE_STATE_COMING)
		dtrace_sdt_mod_coming(tp_mod->mod);
	else if (val == MODULE_STATE_GOING)
		dtrace_sdt_mod_going(tp_mod->mod);
	return NOTIFY_OK;
}

static struct notifier_block dtrace_sdt_mod_nb = {
	.notifier_call = dtrace_sdt_mod_notify,
};

/*
 * ---------------------------------------------------------------------------
 * debugfs: dtrace_sdt shows what is armed, so tests can check that nothing
 * stays registered.
 * ---------------------------------------------------------------------------
 */
static int dtrace_sdt_show(struct seq_file *m, void *unused)
{
	struct dtrace_sdt *sdt;
	unsigned int n = 0;

	mutex_lock(&dtrace_lock);
	list_for_each_entry(sdt, &dtrace_sdts, node)
		n++;
	seq_printf(m, "tracepoints %zu\n", dtrace_sdt_ntps);
	seq_printf(m, "probes %u\n", n);
	seq_printf(m, "sdt_registered %u\n", dtrace_sdt_armed);
	seq_printf(m, "hooks_registered %u\n", dtrace_tphook_registered());
	mutex_unlock(&dtrace_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dtrace_sdt);

/*
 * ---------------------------------------------------------------------------
 * Init and exit
 * ---------------------------------------------------------------------------
 */
int dtrace_prov_sdt_init(void)
{
	size_t n = 0;
	int err;

	for_each_kernel_tracepoint(dtrace_sdt_count_tp, &n);
	if (n) {
		dtrace_sdt_tps = dtrace_zalloc(array_size(n,
							  sizeof(*dtrace_sdt_tps)));
		if (!dtrace_sdt_tps)
			return -ENOMEM;
		dtrace_sdt_ntps = n;
		n = 0;
		for_each_kernel_tracepoint(dtrace_sdt_add_tp, &n);
		dtrace_sdt_ntps = n;
		sort(dtrace_sdt_tps, n, sizeof(*dtrace_sdt_tps),
		     dtrace_sdt_cmp, NULL);
	}
	err = dtrace_provider_register(&dtrace_sdt_prov);
	if (err)
		goto err_free;
	err = register_tracepoint_module_notifier(&dtrace_sdt_mod_nb);
	if (err)
		goto err_prov;
	dtrace_sdt_debugfs = debugfs_create_file("dtrace_sdt", 0444, NULL,
						 NULL, &dtrace_sdt_fops);
	return 0;

err_prov:
	dtrace_provider_unregister(&dtrace_sdt_prov);
err_free:
	dtrace_free(dtrace_sdt_tps);
	dtrace_sdt_tps = NULL;
	return err;
}

void dtrace_prov_sdt_exit(void)
{
	struct dtrace_sdt_mod *m, *tmp;

	debugfs_remove(dtrace_sdt_debugfs);
	WARN_ON_ONCE(unregister_tracepoint_module_notifier(&dtrace_sdt_mod_nb));
	WARN_ON_ONCE(dtrace_sdt_armed);
	dtrace_provider_unregister(&dtrace_sdt_prov);
	WARN_ON_ONCE(!list_empty(&dtrace_sdts));
	list_for_each_entry_safe(m, tmp, &dtrace_sdt_mods, node) {
		list_del(&m->node);
		dtrace_free(m);
	}
	dtrace_free(dtrace_sdt_tps);
	dtrace_sdt_tps = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The profile provider: profile-N fires on every CPU, tick-N on one CPU,
 * at a rate (bare N or Nhz: N per second) or an interval (Nns, Nus, Nms,
 * Ns, Nm, Nh, Nd and their long forms), as DTrace's profile provider.
 *
 * Probes are unanchored (empty module and function).  A default set is
 * created at load; any other rate is created on demand when a program's
 * description names it exactly (provide with a description).  Intervals
 * under 200us are refused: the probe is not created.
 *
 * Each probe is backed by hard-irq hrtimers that exist only while the
 * probe is enabled: one pinned timer per online CPU for profile-N, one
 * unpinned timer for tick-N.  Their callbacks are probe context: arg0 is
 * the interrupted kernel PC (0 in user mode), arg1 the user PC (0 in kernel
 * mode), and for profile-N arg2 is how many ns late the firing is.
 *
 * CPU hotplug is not handled: a profile-N probe fires on the CPUs that were
 * online when it was enabled (a timer of a CPU going offline migrates).
 */
#include <linux/kernel.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/kprobes.h>
#include <asm/irq_regs.h>
#include <asm/ptrace.h>

#include "dtrace_impl.h"

#define PROFILE_INTERVAL_MIN	(200 * NSEC_PER_USEC)
#define PROFILE_MAX		1000	/* probes, as illumos' profile_max */

enum dtrace_profile_kind {
	PROFILE_PROFILE,
	PROFILE_TICK,
};

struct dtrace_profile;

struct dtrace_profile_timer {
	struct hrtimer timer;
	struct dtrace_profile *prof;
};

struct dtrace_profile {
	struct list_head node;		/* dtrace_profiles; dtrace_lock */
	u32 id;
	enum dtrace_profile_kind kind;
	u64 interval;			/* ns */
	/* While enabled: nr_cpu_ids timers (profile) or one (tick). */
	struct dtrace_profile_timer *timers;
	char name[DTRACE_NAMELEN];
};

static LIST_HEAD(dtrace_profiles);
static unsigned int dtrace_profile_nprobes;
static atomic_t dtrace_profile_armed = ATOMIC_INIT(0);	/* timers running */

static const int dtrace_profile_rates[] = {
	97, 199, 499, 997, 1999, 4001, 4999,
};

static const int dtrace_tick_rates[] = {
	1, 10, 100, 500, 1000, 5000,
};

static const struct {
	const char *name;
	u64 mult;			/* ns per unit; 0: per second */
} dtrace_profile_units[] = {
	{ "ns", 1 },
	{ "nsec", 1 },
	{ "us", NSEC_PER_USEC },
	{ "usec", NSEC_PER_USEC },
	{ "ms", NSEC_PER_MSEC },
	{ "msec", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
	{ "sec", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "min", 60 * NSEC_PER_SEC },
	{ "h", 60 * 60 * NSEC_PER_SEC },
	{ "hour", 60 * 60 * NSEC_PER_SEC },
	{ "d", 24 * 60 * 60 * NSEC_PER_SEC },
	{ "day", 24 * 60 * 60 * NSEC_PER_SEC },
	{ "hz", 0 },
};

/*
 * ---------------------------------------------------------------------------
 * Probe context: the hrtimer callbacks, in hard irq with interrupts off.
 * ---------------------------------------------------------------------------
 */
static notrace void dtrace_profile_pcs(u64 *kpc, u64 *upc)
{
	struct pt_regs *regs = get_irq_regs();

	*kpc = 0;
	*upc = 0;
	if (!regs)
		return;
	if (user_mode(regs))
		*upc = instruction_pointer(regs);
	else
		*kpc = instruction_pointer(regs);
}
NOKPROBE_SYMBOL(dtrace_profile_pcs);

static notrace enum hrtimer_restart dtrace_profile_fire(struct hrtimer *timer)
{
	struct dtrace_profile_timer *t =
		container_of(timer, struct dtrace_profile_timer, timer);
	struct dtrace_profile *prof = t->prof;
	ktime_t now = hrtimer_cb_get_time(timer);
	s64 late = ktime_to_ns(ktime_sub(now, hrtimer_get_expires(timer)));
	u64 kpc, upc;

	dtrace_profile_pcs(&kpc, &upc);
	if (prof->kind == PROFILE_PROFILE)
		dtrace_probe_regs(prof->id, get_irq_regs(), 0, kpc, upc,
				  late > 0 ? late : 0, 0, 0, 0);
	else
		dtrace_probe_regs(prof->id, get_irq_regs(), 0, kpc, upc, 0,
				  0, 0, 0);
	hrtimer_forward(timer, now, ns_to_ktime(prof->interval));
	return HRTIMER_RESTART;
}
NOKPROBE_SYMBOL(dtrace_profile_fire);

/*
 * ---------------------------------------------------------------------------
 * Probe creation (dtrace_lock)
 * ---------------------------------------------------------------------------
 */
static struct dtrace_provider dtrace_profile_prov;

static void dtrace_profile_create(const char *name, u64 interval,
				  enum dtrace_profile_kind kind)
{
	struct dtrace_profile *prof;

	lockdep_assert_held(&dtrace_lock);
	if (interval < PROFILE_INTERVAL_MIN)
		return;
	list_for_each_entry(prof, &dtrace_profiles, node) {
		if (!strcmp(prof->name, name))
			return;
	}
	if (dtrace_profile_nprobes >= PROFILE_MAX)
		return;
	prof = dtrace_zalloc(sizeof(*prof));
	if (!prof)
		return;
	prof->kind = kind;
	prof->interval = interval;
	strscpy(prof->name, name, sizeof(prof->name));
	prof->id = dtrace_probe_create(&dtrace_profile_prov, NULL, NULL, name,
				       prof);
	if (!prof->id) {
		dtrace_free(prof);
		return;
	}
	list_add_tail(&prof->node, &dtrace_profiles);
	dtrace_profile_nprobes++;
}

/* Parse "profile-<N>[unit]" or "tick-<N>[unit]", as illumos does. */
static void dtrace_profile_provide_name(const char *name)
{
	static const struct {
		const char *prefix;
		enum dtrace_profile_kind kind;
	} types[] = {
		{ "profile-", PROFILE_PROFILE },
		{ "tick-", PROFILE_TICK },
	};
	const char *p, *suffix;
	u64 val = 0, mult = 0;
	size_t i, len = 0;
	bool known = false;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		len = strlen(types[i].prefix);
		if (!strncmp(name, types[i].prefix, len))
			break;
	}
	if (i == ARRAY_SIZE(types))
		return;

	p = name + len;
	if (*p < '0' || *p > '9')
		return;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (check_mul_overflow(val, 10ULL, &val) ||
		    check_add_overflow(val, (u64)(*p - '0'), &val))
			return;
	}
	if (val == 0)
		return;
	suffix = p;
	if (*suffix) {
		for (len = 0; len < ARRAY_SIZE(dtrace_profile_units); len++) {
			if (!strcasecmp(dtrace_profile_units[len].name,
					suffix)) {
				mult = dtrace_profile_units[len].mult;
				known = true;
				break;
			}
		}
		if (!known)
			return;
	}
	if (mult == 0)
		val = NSEC_PER_SEC / val;	/* a rate: per second */
	else if (check_mul_overflow(val, mult, &val))
		return;
	dtrace_profile_create(name, val, types[i].kind);
}

static void dtrace_profile_provide(struct dtrace_provider *prov,
				   const struct dtrace_probedesc *desc)
{
	char name[DTRACE_NAMELEN];
	size_t i;

	if (desc) {
		/* Only exact names are created on demand, as in DTrace. */
		if (desc->dtpd_provider[0] &&
		    strcmp(desc->dtpd_provider, prov->name))
			return;
		if (!memchr(desc->dtpd_name, 0, sizeof(desc->dtpd_name)))
			return;
		dtrace_profile_provide_name(desc->dtpd_name);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(dtrace_profile_rates); i++) {
		snprintf(name, sizeof(name), "profile-%d",
			 dtrace_profile_rates[i]);
		dtrace_profile_create(name,
				      NSEC_PER_SEC / dtrace_profile_rates[i],
				      PROFILE_PROFILE);
	}
	for (i = 0; i < ARRAY_SIZE(dtrace_tick_rates); i++) {
		snprintf(name, sizeof(name), "tick-%d", dtrace_tick_rates[i]);
		dtrace_profile_create(name, NSEC_PER_SEC / dtrace_tick_rates[i],
				      PROFILE_TICK);
	}
}

/*
 * ---------------------------------------------------------------------------
 * Enable and disable (dtrace_lock, process context)
 * ---------------------------------------------------------------------------
 */

/* on_each_cpu(): start this CPU's timer, pinned here. */
static void dtrace_profile_start_cpu(void *arg)
{
	struct dtrace_profile *prof = arg;
	struct dtrace_profile_timer *t = &prof->timers[smp_processor_id()];

	hrtimer_start(&t->timer, ns_to_ktime(prof->interval),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static int dtrace_profile_enable(struct dtrace_provider *prov, u32 id,
				 void *parg)
{
	struct dtrace_profile *prof = parg;
	unsigned int n, i;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(prof->timers))
		return -EBUSY;
	n = prof->kind == PROFILE_PROFILE ? nr_cpu_ids : 1;
	prof->timers = dtrace_zalloc(n * sizeof(*prof->timers));
	if (!prof->timers)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		hrtimer_init(&prof->timers[i].timer, CLOCK_MONOTONIC,
			     prof->kind == PROFILE_PROFILE ?
			     HRTIMER_MODE_REL_PINNED_HARD :
			     HRTIMER_MODE_REL_HARD);
		prof->timers[i].timer.function = dtrace_profile_fire;
		prof->timers[i].prof = prof;
	}
	atomic_inc(&dtrace_profile_armed);
	if (prof->kind == PROFILE_PROFILE)
		on_each_cpu(dtrace_profile_start_cpu, prof, 1);
	else
		hrtimer_start(&prof->timers[0].timer,
			      ns_to_ktime(prof->interval),
			      HRTIMER_MODE_REL_HARD);
	return 0;
}

static void dtrace_profile_disable(struct dtrace_provider *prov, u32 id,
				   void *parg)
{
	struct dtrace_profile *prof = parg;
	unsigned int n, i;

	lockdep_assert_held(&dtrace_lock);
	if (WARN_ON_ONCE(!prof->timers))
		return;
	n = prof->kind == PROFILE_PROFILE ? nr_cpu_ids : 1;
	/* Waits for a running callback; a never-started timer is a no-op. */
	for (i = 0; i < n; i++)
		hrtimer_cancel(&prof->timers[i].timer);
	dtrace_free(prof->timers);
	prof->timers = NULL;
	atomic_dec(&dtrace_profile_armed);
}

static void dtrace_profile_destroy(struct dtrace_provider *prov, u32 id,
				   void *parg)
{
	struct dtrace_profile *prof = parg;

	lockdep_assert_held(&dtrace_lock);
	WARN_ON_ONCE(prof->timers);
	list_del(&prof->node);
	dtrace_profile_nprobes--;
	dtrace_free(prof);
}

static const struct dtrace_provider_ops dtrace_profile_ops = {
	.provide = dtrace_profile_provide,
	.enable = dtrace_profile_enable,
	.disable = dtrace_profile_disable,
	.destroy = dtrace_profile_destroy,
};

static struct dtrace_provider dtrace_profile_prov = {
	.name = "profile",
	.ops = &dtrace_profile_ops,
};

/* How many profile probes have their timers armed (for debugfs/tests). */
int dtrace_profile_armed_count(void)
{
	return atomic_read(&dtrace_profile_armed);
}

int dtrace_prov_profile_init(void)
{
	int err;

	err = dtrace_provider_register(&dtrace_profile_prov);
	if (err)
		return err;
	mutex_lock(&dtrace_lock);
	dtrace_profile_provide(&dtrace_profile_prov, NULL);
	mutex_unlock(&dtrace_lock);
	return 0;
}

void dtrace_prov_profile_exit(void)
{
	WARN_ON_ONCE(atomic_read(&dtrace_profile_armed));
	dtrace_provider_unregister(&dtrace_profile_prov);
	WARN_ON_ONCE(dtrace_profile_nprobes || !list_empty(&dtrace_profiles));
}

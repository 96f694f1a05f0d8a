// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/dtrace: one consumer state per open file, one switch over the ioctl
 * commands.  Arguments are copied in whole, checked, handed to the state,
 * and copied back out; unknown commands fail with ENOTTY.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/miscdevice.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/uaccess.h>
#include <linux/module.h>
#include <linux/string.h>

#include "dtrace_impl.h"

static int dtrace_open(struct inode *inode, struct file *file)
{
	struct dtrace_state *state;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	state = dtrace_state_create();
	if (!state)
		return -ENOMEM;
	file->private_data = state;
	return nonseekable_open(inode, file);
}

static int dtrace_release(struct inode *inode, struct file *file)
{
	dtrace_state_destroy(file->private_data);
	return 0;
}

static long dtrace_ioctl_conf(void __user *uarg)
{
	struct dtrace_conf conf;

	memset(&conf, 0, sizeof(conf));
	conf.dtc_abiversion = DTRACE_ABI_VERSION;
	conf.dtc_difversion = DIF_VERSION;
	conf.dtc_difintregs = DIF_DIR_NREGS;
	conf.dtc_diftupregs = DIF_DTR_NREGS;
	conf.dtc_maxcpus = nr_cpu_ids;
	return copy_to_user(uarg, &conf, sizeof(conf)) ? -EFAULT : 0;
}

static long dtrace_ioctl_probes(void __user *uarg)
{
	struct dtrace_probedesc pd;
	int err;

	if (copy_from_user(&pd, uarg, sizeof(pd)))
		return -EFAULT;
	err = dtrace_probe_describe(&pd, NULL);
	if (err)
		return err;
	return copy_to_user(uarg, &pd, sizeof(pd)) ? -EFAULT : 0;
}

static bool dtrace_desc_terminated(const struct dtrace_probedesc *pd)
{
	return memchr(pd->dtpd_provider, 0, sizeof(pd->dtpd_provider)) &&
	       memchr(pd->dtpd_mod, 0, sizeof(pd->dtpd_mod)) &&
	       memchr(pd->dtpd_func, 0, sizeof(pd->dtpd_func)) &&
	       memchr(pd->dtpd_name, 0, sizeof(pd->dtpd_name));
}

/* PROBEMATCH: the first probe from dtpd_id on that the description matches. */
static long dtrace_ioctl_probematch(void __user *uarg)
{
	struct dtrace_probedesc pd, pat;
	int err;

	if (copy_from_user(&pat, uarg, sizeof(pat)))
		return -EFAULT;
	if (!dtrace_desc_terminated(&pat))
		return -EINVAL;
	pd = pat;
	err = dtrace_probe_describe(&pd, &pat);
	if (err)
		return err;
	return copy_to_user(uarg, &pd, sizeof(pd)) ? -EFAULT : 0;
}

/* PROVIDE: let every provider create the probes one exact description names. */
static long dtrace_ioctl_provide(void __user *uarg)
{
	struct dtrace_probedesc pd;

	if (copy_from_user(&pd, uarg, sizeof(pd)))
		return -EFAULT;
	if (pd.dtpd_id || !dtrace_desc_terminated(&pd))
		return -EINVAL;
	mutex_lock(&dtrace_lock);
	dtrace_provide_desc(&pd);
	mutex_unlock(&dtrace_lock);
	return 0;
}

static long dtrace_ioctl_enable(struct dtrace_state *state, void __user *uarg)
{
	struct dtrace_enable de;
	int err;

	if (copy_from_user(&de, uarg, sizeof(de)))
		return -EFAULT;
	err = dtrace_enable(state, &de);
	if (err == -EFAULT)
		return err;
	if (copy_to_user(uarg, &de, sizeof(de)))
		return -EFAULT;
	return err;
}

static long dtrace_ioctl_eprobe(struct dtrace_state *state, void __user *uarg)
{
	struct dtrace_eprobedesc epd;
	int err;

	if (copy_from_user(&epd, uarg, sizeof(epd)))
		return -EFAULT;
	err = dtrace_state_eprobe(state, &epd);
	if (err)
		return err;
	return copy_to_user(uarg, &epd, sizeof(epd)) ? -EFAULT : 0;
}

/*
 * BUFSNAP and AGGSNAP: copy one CPU's snapshot out.  ENOSPC still copies
 * the descriptor back, because it carries the capacity needed.
 */
static long dtrace_ioctl_snap(struct dtrace_state *state, void __user *uarg,
			      int (*snap)(struct dtrace_state *,
					  struct dtrace_bufdesc *))
{
	struct dtrace_bufdesc desc;
	int err;

	if (copy_from_user(&desc, uarg, sizeof(desc)))
		return -EFAULT;
	mutex_lock(&state->lock);
	err = snap(state, &desc);
	mutex_unlock(&state->lock);
	if (err && err != -ENOSPC)
		return err;
	if (copy_to_user(uarg, &desc, sizeof(desc)))
		return -EFAULT;
	return err;
}

static long dtrace_ioctl_aggdesc(struct dtrace_state *state,
				 void __user *uarg)
{
	struct dtrace_aggdesc ad;
	int err;

	if (copy_from_user(&ad, uarg, sizeof(ad)))
		return -EFAULT;
	err = dtrace_agg_describe(state, &ad);
	if (err)
		return err;
	return copy_to_user(uarg, &ad, sizeof(ad)) ? -EFAULT : 0;
}

static long dtrace_ioctl_status(struct dtrace_state *state, void __user *uarg)
{
	struct dtrace_status st;
	int err;

	err = dtrace_state_status(state, &st);
	if (err)
		return err;
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long dtrace_ioctl_optget(struct dtrace_state *state, void __user *uarg)
{
	struct dtrace_optget og;
	int err;

	if (copy_from_user(&og, uarg, sizeof(og)))
		return -EFAULT;
	err = dtrace_state_optget(state, &og);
	if (err)
		return err;
	return copy_to_user(uarg, &og, sizeof(og)) ? -EFAULT : 0;
}

static long dtrace_ioctl_gostop(struct dtrace_state *state, void __user *uarg,
				bool go)
{
	u32 cpu = 0;
	int err;

	err = go ? dtrace_state_go(state, &cpu) :
		   dtrace_state_stop(state, &cpu);
	if (err)
		return err;
	return put_user(cpu, (u32 __user *)uarg) ? -EFAULT : 0;
}

static long dtrace_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct dtrace_state *state = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DTRACEIOC_CONF:
		return dtrace_ioctl_conf(uarg);
	case DTRACEIOC_PROBES:
		return dtrace_ioctl_probes(uarg);
	case DTRACEIOC_PROBEMATCH:
		return dtrace_ioctl_probematch(uarg);
	case DTRACEIOC_ENABLE:
		return dtrace_ioctl_enable(state, uarg);
	case DTRACEIOC_EPROBE:
		return dtrace_ioctl_eprobe(state, uarg);
	case DTRACEIOC_GO:
		return dtrace_ioctl_gostop(state, uarg, true);
	case DTRACEIOC_STOP:
		return dtrace_ioctl_gostop(state, uarg, false);
	case DTRACEIOC_STATUS:
		return dtrace_ioctl_status(state, uarg);
	case DTRACEIOC_BUFSNAP:
		return dtrace_ioctl_snap(state, uarg, dtrace_buffer_snapshot);
	case DTRACEIOC_AGGSNAP:
		return dtrace_ioctl_snap(state, uarg, dtrace_agg_snapshot);
	case DTRACEIOC_AGGDESC:
		return dtrace_ioctl_aggdesc(state, uarg);
	case DTRACEIOC_PROVIDE:
		return dtrace_ioctl_provide(uarg);
	case DTRACEIOC_OPTGET:
		return dtrace_ioctl_optget(state, uarg);
	case DTRACEIOC_FBTPROVIDE:
		return dtrace_fbt_provide_funcs(uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * Readable while a CPU's principal buffer is past half: the consumer's cue
 * to snapshot before its switchrate comes round (dtrace_switch_reserve).
 */
static __poll_t dtrace_poll(struct file *file, poll_table *wait)
{
	struct dtrace_state *state = file->private_data;

	poll_wait(file, &state->bufwait, wait);
	return dtrace_buffers_ready(state) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations dtrace_fops = {
	.owner = THIS_MODULE,
	.open = dtrace_open,
	.release = dtrace_release,
	.poll = dtrace_poll,
	.unlocked_ioctl = dtrace_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice dtrace_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dtrace",
	.fops = &dtrace_fops,
	.mode = 0600,
};

int dtrace_dev_init(void)
{
	return misc_register(&dtrace_miscdev);
}

void dtrace_dev_exit(void)
{
	misc_deregister(&dtrace_miscdev);
}

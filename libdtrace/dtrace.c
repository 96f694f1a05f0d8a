// SPDX-License-Identifier: GPL-2.0
/*
 * libdtrace: one small wrapper per /dev/dtrace ioctl (see libdtrace.h).
 *
 * The wrappers zero every reserved and padding field themselves, so a
 * caller cannot get EINVAL for leaving garbage there, and they retry
 * interrupted calls.  Errors come back as -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "libdtrace.h"

static int dt_ioctl(int fd, unsigned long cmd, void *arg)
{
	int rv;

	do {
		rv = ioctl(fd, cmd, arg);
	} while (rv < 0 && errno == EINTR);
	return rv < 0 ? -errno : rv;
}

int dt_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dt_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

int dt_conf(int fd, struct dtrace_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	return dt_ioctl(fd, DTRACEIOC_CONF, conf);
}

/* The first probe whose id is >= id; -ESRCH when there is none. */
int dt_probe_next(int fd, uint32_t id, struct dtrace_probedesc *pd)
{
	memset(pd, 0, sizeof(*pd));
	pd->dtpd_id = id;
	return dt_ioctl(fd, DTRACEIOC_PROBES, pd);
}

/* The first probe from pd->dtpd_id on matching pd's fields (globs); -ESRCH. */
int dt_probe_match(int fd, struct dtrace_probedesc *pd)
{
	return dt_ioctl(fd, DTRACEIOC_PROBEMATCH, pd);
}

/*
 * Up to cap probes, in id order from id on, into out: every probe (pat
 * NULL) or those matching pat.  Id 0 first lets every provider create its
 * probes.  Returns how many (fewer than cap: there are no more), or -errno.
 */
int dt_probe_list(int fd, const struct dtrace_probedesc *pat, uint32_t id,
		  struct dtrace_probedesc *out, uint32_t cap)
{
	uint32_t n = 0;
	int rv;

	while (n < cap) {
		if (pat) {
			out[n] = *pat;
			out[n].dtpd_id = id;
			rv = dt_ioctl(fd, DTRACEIOC_PROBEMATCH, &out[n]);
		} else {
			rv = dt_probe_next(fd, id, &out[n]);
		}
		if (rv == -ESRCH || rv == -ENOENT)
			break;
		if (rv < 0)
			return rv;
		id = out[n].dtpd_id + 1;
		n++;
	}
	return n;
}

/* Let the providers create the probes of one exact description. */
int dt_provide(int fd, const char *provider, const char *mod,
	       const char *func, const char *name)
{
	struct dtrace_probedesc pd;

	memset(&pd, 0, sizeof(pd));
	if (strlen(provider) >= sizeof(pd.dtpd_provider) ||
	    strlen(mod) >= sizeof(pd.dtpd_mod) ||
	    strlen(func) >= sizeof(pd.dtpd_func) ||
	    strlen(name) >= sizeof(pd.dtpd_name))
		return -ENAMETOOLONG;
	strcpy(pd.dtpd_provider, provider);
	strcpy(pd.dtpd_mod, mod);
	strcpy(pd.dtpd_func, func);
	strcpy(pd.dtpd_name, name);
	return dt_ioctl(fd, DTRACEIOC_PROVIDE, &pd);
}

/* The number of probes matched, or -errno (en says why on -EINVAL). */
/*
 * Create the fbt probes of count (function, address) pairs; *created says
 * how many functions got new probes.
 */
int dt_fbt_provide(int fd, const struct dtrace_fbtfunc *funcs, uint32_t count,
		   uint32_t *created)
{
	struct dtrace_fbtprovide fp;
	int rv;

	memset(&fp, 0, sizeof(fp));
	fp.dtfp_funcs = (uintptr_t)funcs;
	fp.dtfp_count = count;
	rv = dt_ioctl(fd, DTRACEIOC_FBTPROVIDE, &fp);
	if (rv == 0 && created)
		*created = fp.dtfp_created;
	return rv;
}

int dt_enable(int fd, const void *prog, uint32_t size,
	      struct dtrace_enable *en)
{
	int rv;

	memset(en, 0, sizeof(*en));
	en->de_prog = (uint64_t)(uintptr_t)prog;
	en->de_size = size;
	rv = dt_ioctl(fd, DTRACEIOC_ENABLE, en);
	return rv < 0 ? rv : (int)en->de_nmatched;
}

int dt_eprobe(int fd, uint32_t epid, struct dtrace_eprobedesc *ed,
	      struct dtrace_recdesc *recs, uint32_t nrecs)
{
	memset(ed, 0, sizeof(*ed));
	ed->dtepd_epid = epid;
	ed->dtepd_nrecs = nrecs;
	ed->dtepd_recs = (uint64_t)(uintptr_t)recs;
	return dt_ioctl(fd, DTRACEIOC_EPROBE, ed);
}

int dt_go(int fd, uint32_t *cpu)
{
	*cpu = 0;
	return dt_ioctl(fd, DTRACEIOC_GO, cpu);
}

int dt_stop(int fd, uint32_t *cpu)
{
	*cpu = 0;
	return dt_ioctl(fd, DTRACEIOC_STOP, cpu);
}

int dt_status(int fd, struct dtrace_status *st)
{
	memset(st, 0, sizeof(*st));
	return dt_ioctl(fd, DTRACEIOC_STATUS, st);
}

/* Up to nopts option values; the number the module has, or -errno. */
int dt_optget(int fd, int64_t *values, uint32_t nopts)
{
	struct dtrace_optget og;
	int rv;

	memset(&og, 0, sizeof(og));
	og.dtog_values = (uint64_t)(uintptr_t)values;
	og.dtog_nopts = nopts;
	rv = dt_ioctl(fd, DTRACEIOC_OPTGET, &og);
	return rv < 0 ? rv : (int)og.dtog_nopts;
}

int dt_bufsnap(int fd, uint32_t cpu, void *buf, uint64_t size,
	       struct dtrace_bufdesc *bd)
{
	memset(bd, 0, sizeof(*bd));
	bd->dtbd_data = (uint64_t)(uintptr_t)buf;
	bd->dtbd_size = size;
	bd->dtbd_cpu = cpu;
	return dt_ioctl(fd, DTRACEIOC_BUFSNAP, bd);
}

int dt_aggsnap(int fd, uint32_t cpu, void *buf, uint64_t size,
	       struct dtrace_bufdesc *bd)
{
	memset(bd, 0, sizeof(*bd));
	bd->dtbd_data = (uint64_t)(uintptr_t)buf;
	bd->dtbd_size = size;
	bd->dtbd_cpu = cpu;
	return dt_ioctl(fd, DTRACEIOC_AGGSNAP, bd);
}

int dt_aggdesc(int fd, uint32_t aggid, struct dtrace_aggdesc *ad,
	       struct dtrace_recdesc *recs, uint32_t nrecs)
{
	memset(ad, 0, sizeof(*ad));
	ad->dtagd_id = aggid;
	ad->dtagd_nrecs = nrecs;
	ad->dtagd_recs = (uint64_t)(uintptr_t)recs;
	return dt_ioctl(fd, DTRACEIOC_AGGDESC, ad);
}

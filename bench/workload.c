// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's workload: getppid() N times, then read(2) one byte from
 * /dev/zero M times, each call timed with CLOCK_MONOTONIC.
 *
 * Usage: workload N M [--wait] [--rate R]
 *   --wait: read one byte from stdin before starting (the harness starts
 *           the process first, so a tracer can use its pid, then says go).
 *   --rate: pace the getppid() calls at R per second (call i is made no
 *           earlier than i/R s after the first; a late call is not made up
 *           for by a burst beyond catching up).  The getppid phase's wall
 *           time says the rate achieved.
 * Prints one line:  WORKLOAD {"pid": ..., "getppid": {...}, "read": {...}}
 * with per-call nanosecond statistics (n, median, mean, min, p10, p90, max)
 * and the wall time of each phase.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_stats(const char *name, uint64_t *v, long n, uint64_t wall)
{
	long double sum = 0;
	long i;

	for (i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("\"%s\": {\"n\": %ld, \"median\": %llu, \"mean\": %.1Lf, "
	       "\"min\": %llu, \"p10\": %llu, \"p90\": %llu, \"max\": %llu, "
	       "\"wall\": %llu}",
	       name, n, (unsigned long long)v[n / 2], n ? sum / n : 0.0L,
	       (unsigned long long)v[0], (unsigned long long)v[n / 10],
	       (unsigned long long)v[n * 9 / 10],
	       (unsigned long long)v[n - 1], (unsigned long long)wall);
}

/* Sleep until the absolute CLOCK_MONOTONIC time t (ns). */
static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000ull,
			       .tv_nsec = t % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	long n, m, i;
	uint64_t *tg, *tr, t0, t1, w0, wg, wr, period = 0;
	double rate = 0;
	int wait = 0, a;
	char c;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s N M [--wait] [--rate R]\n", argv[0]);
		return 2;
	}
	n = atol(argv[1]);
	m = atol(argv[2]);
	for (a = 3; a < argc; a++) {
		if (strcmp(argv[a], "--wait") == 0) {
			wait = 1;
		} else if (strcmp(argv[a], "--rate") == 0 && a + 1 < argc) {
			rate = atof(argv[++a]);
		} else {
			fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[a]);
			return 2;
		}
	}
	if (n < 1 || m < 1 || rate < 0) {
		fprintf(stderr, "%s: N and M must be positive, R not negative\n", argv[0]);
		return 2;
	}
	if (rate > 0)
		period = (uint64_t)(1e9 / rate);
	tg = calloc(n, sizeof(*tg));
	tr = calloc(m, sizeof(*tr));
	fd = open("/dev/zero", O_RDONLY);
	if (!tg || !tr || fd < 0) {
		perror("workload");
		return 1;
	}
	if (wait && read(0, &c, 1) != 1) {
		fprintf(stderr, "%s: no go byte on stdin\n", argv[0]);
		return 1;
	}

	w0 = now_ns();
	for (i = 0; i < n; i++) {
		if (period && now_ns() < w0 + (uint64_t)i * period)
			sleep_until(w0 + (uint64_t)i * period);
		t0 = now_ns();
		syscall(SYS_getppid);	/* not glibc's wrapper: never cached */
		t1 = now_ns();
		tg[i] = t1 - t0;
	}
	wg = now_ns() - w0;

	w0 = now_ns();
	for (i = 0; i < m; i++) {
		t0 = now_ns();
		if (read(fd, &c, 1) != 1) {
			perror("read /dev/zero");
			return 1;
		}
		t1 = now_ns();
		tr[i] = t1 - t0;
	}
	wr = now_ns() - w0;

	printf("WORKLOAD {\"pid\": %d, ", (int)getpid());
	print_stats("getppid", tg, n, wg);
	printf(", ");
	print_stats("read", tr, m, wr);
	printf("}\n");
	return 0;
}

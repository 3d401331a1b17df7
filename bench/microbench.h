/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The timing harness of the host micro-benchmarks (bench/parser,
 * bench/h2): batches of about batch_ms of the thread's own CPU time, their
 * results folded into a checksum that is printed (so the compiler cannot
 * drop the work), and quantiles of the repetitions.
 */
#ifndef KMESH_MICROBENCH_H
#define KMESH_MICROBENCH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPAQUE(p)	__asm__ volatile("" : : "r"(p) : "memory")

static int reps = 31;
static double batch_ms = 8;
static uint64_t checksum;

/* One batch of @iters calls on @arg; returns a checksum of the results. */
typedef uint64_t (*run_fn)(const void *arg, long iters);

/*
 * The thread's CPU time: on a machine shared with other jobs, time spent
 * preempted is not ours (caches and the memory bus are still shared, hence
 * the interleaving of the sides being compared).
 */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q of n values (sorts a copy). */
static inline double quantile(const double *v, int n, double q)
{
	double *s = malloc(n * sizeof(*s)), r;
	double pos = q * (n - 1);
	int i = (int)pos;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	r = i + 1 < n ? s[i] + (pos - i) * (s[i + 1] - s[i]) : s[i];
	free(s);
	return r;
}

/* Iterations for one batch of about batch_ms, at least @min_iters. */
static inline long calibrate(run_fn fn, const void *arg, long min_iters)
{
	long iters = min_iters;
	uint64_t t;

	for (;;) {
		t = now_ns();
		checksum += fn(arg, iters);
		t = now_ns() - t;
		if (t > 2000000 || iters > (1L << 40))
			break;
		iters *= 2;
	}
	iters = (long)(iters * (batch_ms * 1e6 / (double)t));
	return iters < min_iters ? min_iters : iters;
}

/* Nanoseconds per call of one batch. */
static inline double time_batch(run_fn fn, const void *arg, long iters)
{
	uint64_t t = now_ns();

	checksum += fn(arg, iters);
	return (double)(now_ns() - t) / iters;
}

#endif /* KMESH_MICROBENCH_H */

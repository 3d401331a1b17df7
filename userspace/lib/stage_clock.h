/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where an apply's time goes: each stage of the pipeline (pipeline.h)
 * marks its end on one clock, started where the caller's measurement
 * starts (kmesh-agent: a response's last byte off the stream; kmeshctl
 * apply: the command's start). The marks cost one clock_gettime each and
 * are always taken; the caller prints them (the agent's log line of every
 * switch, `kmeshctl apply --timings`), and bench/xds.sh reports their
 * medians. One clock per process (both are single-threaded).
 */
#ifndef KMESH_STAGE_CLOCK_H
#define KMESH_STAGE_CLOCK_H

#include <stddef.h>
#include <time.h>

/* In pipeline order; each mark is the end of its stage. */
enum stage {
	STAGE_DECODE,		/* the source's bytes to their own structures */
	STAGE_MODEL,		/* those to struct mesh_config (translate/read) */
	STAGE_LOCK,		/* l4_txn_begin(): the lock, the id registry */
	STAGE_L4_BUILD,		/* l4_build() */
	STAGE_L7_COMPILE,	/* l7_compile() or l7_rebind() */
	STAGE_L7_MAPS,		/* l7_fill(): L7 policies, address lists, names */
	STAGE_L4_MAPS,		/* fill_inner(): services, clusters, endpoints, maglev */
	STAGE_REGISTRY,		/* the id registry and fresh counters */
	STAGE_SWITCH,		/* module route tables, the slot stamp, the flip */
	STAGE_NR,
};

/* Start the clock at @t0 (CLOCK_MONOTONIC), or now when NULL; forget the marks. */
void stage_clock_start(const struct timespec *t0);
/* @s ends now. */
void stage_mark(enum stage s);
/* Milliseconds since the start. */
double stage_clock_ms(void);
/*
 * "decode 1.2 model 0.4 lock - ..." : each stage's own duration in ms
 * (from the previous mark taken), "-" for a stage not marked since the
 * start. Returns @buf.
 */
const char *stage_clock_format(char *buf, size_t size);
const char *stage_name(enum stage s);

#endif /* KMESH_STAGE_CLOCK_H */

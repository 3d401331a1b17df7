/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the load and fault areas share (defined in load.c): a meshed cgroup
 * this process joins, kmeshctl, the benchmark's static helpers (benchsrv
 * as backends, loadgen as the client) run as children, the counters of
 * `kmeshctl stats`, and samples of kernel memory.
 */
#ifndef KMESH_TORTURE_H
#define KMESH_TORTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Kernel memory and BPF objects, in KiB and counts. */
struct tt_mem {
	long long slab_kb, sunreclaim_kb, vmalloc_kb;
	long long bpf_maps, bpf_map_memlock_kb, bpf_progs;
	long long kmesh_refcnt;
	long long local_socks;		/* entries in kmesh_local_socks */
	long long route_tables, route_table_bytes;	/* in the module */
	long long map_entries;		/* in kmesh's pinned hash maps */
};

/* Create (or reuse) the meshed cgroup @name and note the home cgroup. */
int tt_cgroup_setup(const char *name);
int tt_join_meshed(void);
const char *tt_cgroup(void);
/* Back to the home cgroup; the meshed one removed. */
void tt_cgroup_free(void);

/* kmeshctl, its stats and generations: net_helpers.h (ctl, ctl_stat). */
/* Write @yaml to @file and apply it (`kmeshctl up` first if @up). */
int tt_apply(const char *file, const char *yaml, bool up);

/* A child running @argv (stdout and stderr to @log), remembered for
 * tt_stop_all(); the benchsrv variant waits for its "ready". */
pid_t tt_spawn(const char *log, char *const argv[]);
pid_t tt_benchsrv(const char *addr, int port, const char *tag);
void tt_stop(pid_t pid);
void tt_stop_all(void);

/* A network namespace of our own for the traffic (its sysctls raised for
 * many connections); leaving it frees every socket it held. */
int tt_netns_enter(void);
void tt_netns_leave(void);

void tt_mem_sample(struct tt_mem *m);
/* Route tables the module holds now (-1 without the module). */
long long tt_mem_route_tables(void);
void tt_mem_diag(const char *what, const struct tt_mem *m);

#endif

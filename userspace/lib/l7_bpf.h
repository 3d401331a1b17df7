/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The L7 per-request plane's kernel side: the sk_msg variant picked at
 * `up`, the per-generation policy maps and the module's route tables at
 * `apply`, and reading counters, names and the request log back. The maps
 * are pinned with the L4 ones (l4_bpf.h); an apply builds the L7 part of
 * the next generation aside and installs it in the same slot before L4
 * flips to it, so requests see either the old or the new config whole.
 */
#ifndef KMESH_L7_BPF_H
#define KMESH_L7_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "gen_maps.h"
#include "kmesh_maps.h"
#include "l4_build.h"
#include "l7_build.h"
#include "mesh_config.h"

/* The L7 maps of one install, between l7_fill() and l7_install(). */
struct l7_apply {
	int policy_fd;		/* the slot's inner maps, refilled */
	int cidrs_fd;
	bool policy_fresh;	/* new: to install (gen_maps.h) */
	bool cidrs_fresh;
	int inbound_fd;		/* the slot's protected workloads (inbound_bpf.h) */
	bool inbound_fresh;
	size_t nr_workloads;
	size_t nr_policies;
	size_t nr_tables;
};

/* What the slot's L7 maps and the names hold (l4_install_cache). */
struct l7_images {
	struct gen_map_image *policy, *cidrs, *inbound, *names;
};

/*
 * The install stage's L7 part: @l7 (l7_compile()) into the module's
 * route tables (@dev_fd, -1 without the module) and @slot's inner maps,
 * with the workloads inbound checks protect; with @img, only what differs
 * from it (the route tables are all sent again: the module may have been
 * reloaded since). Nothing live changes. 0, or -1 with @err.
 */
int l7_fill(const struct mesh_config *cfg, const struct l4_gen *gen,
	    __u32 slot, struct l7_gen *l7, int dev_fd,
	    const struct l7_images *img, struct l7_apply *a,
	    char *err, size_t err_size);
/* Put new inner maps into @slot (before L4 flips to it). */
int l7_install(struct l7_apply *a, __u32 slot, char *err, size_t err_size);
void l7_apply_free(struct l7_apply *a);

/* Counters summed over CPUs. */
struct l7_stat_entry {
	struct kmesh_l7_stats_key key;
	struct kmesh_l7_stats val;
};
int l7_read_stats(struct l7_stat_entry **v, size_t *n);
int l7_read_global(__u64 out[KMESH_L7_G_MAX]);
/* The route limits of service @service_id's policy in generation slot
 * @slot, as the kernel holds them: the count (up to @max into @out), or
 * -errno (-ENOENT: no policy). */
int l7_read_route_limits(__u32 slot, __u32 service_id,
			 struct kmesh_l7_route_limit *out, size_t max);
/* Name of a route or policy, or NULL. */
const char *l7_name(int names_fd, __u32 kind, __u32 service_id, __u32 id,
		    char *buf, size_t size);

const char *l7_reason_name(unsigned int reason);
const char *l7_method_name(unsigned int method);

#endif /* KMESH_L7_BPF_H */

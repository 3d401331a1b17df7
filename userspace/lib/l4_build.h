/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * L4 generation builder: a validated mesh config becomes the exact
 * contents of one generation's maps (services, clusters, endpoints,
 * maglev tables), with stable ids taken from, and added to, the id
 * registry. Pure C: no BPF calls, so unit tests can check every table.
 */
#ifndef KMESH_L4_BUILD_H
#define KMESH_L4_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "kmesh_maps.h"
#include "mesh_config.h"

struct l4_id_entry {
	struct kmesh_l4_id_key key;
	struct kmesh_l4_id val;
};

struct l4_vip {
	struct kmesh_service_key key;
	struct kmesh_service val;
};

struct l4_ep {
	struct kmesh_endpoint_key key;
	struct kmesh_endpoint val;
};

struct l4_maglev {
	__u32 cluster_id;
	struct kmesh_maglev *table;
};

struct l4_gen {
	__u64 generation;
	struct l4_vip *vips;
	size_t nr_vips;
	struct kmesh_cluster *clusters;
	size_t nr_clusters;
	struct l4_ep *eps;
	size_t nr_eps;
	struct l4_maglev *maglev;
	size_t nr_maglev;
	/* Ids of the config's services and clusters, by their index in it. */
	__u32 *service_ids;
	__u32 *cluster_ids;
	/* The registry as it must be after this generation is live. */
	struct l4_id_entry *ids;
	size_t nr_ids;
	/* Registry entries to delete (their ids were handed to new objects). */
	struct l4_id_entry *evicted;
	size_t nr_evicted;
	/* Ids new to their object: their counters start from zero. */
	struct l4_id_entry *fresh;
	size_t nr_fresh;
};

/*
 * Build generation @generation of @cfg. @registry holds the ids handed
 * out so far. 0, or -1 with @err set (only when ids run out).
 */
int l4_build(const struct mesh_config *cfg, const struct l4_id_entry *registry,
	     size_t nr_registry, __u64 generation, struct l4_gen *gen,
	     char *err, size_t err_size);
/*
 * The same, taking from @prev (or NULL) the clusters not @changed (one
 * flag per cluster of @cfg): @prev must be this function's output for a
 * model that differs from @cfg in the changed clusters only (the same
 * node locality, services and cluster list), built from a registry that
 * held the ids @registry holds (so its unchanged clusters' entries are
 * what a build of them gives; prev->ids is that registry). The output is
 * l4_build()'s for the same arguments, in the time of the changed
 * clusters' endpoints. kmesh-agent, for updates of endpoints alone.
 */
int l4_build_reusing(const struct mesh_config *cfg, const struct l4_id_entry *registry,
		     size_t nr_registry, __u64 generation, const struct l4_gen *prev,
		     const bool *changed, struct l4_gen *gen, char *err, size_t err_size);
void l4_gen_free(struct l4_gen *gen);

/* The id @gen gives the service or cluster @name (@kind), or 0. */
__u32 l4_gen_id(const struct l4_gen *gen, __u32 kind, const char *name);

/* Highest id + 1 of a kind (ids start at 1). */
__u32 l4_id_limit(__u32 kind);

/* A model rate limit (service or route) as the maps hold it. */
void l4_rate_limit_of(struct kmesh_ratelimit *out,
		      const struct mesh_rate_limit *in);

/* Identity of an endpoint in the registry: "cluster/address:port". */
void l4_endpoint_identity(const char *cluster, const struct mesh_endpoint *ep,
			  char *buf, size_t size);

/*
 * Weighted Maglev: fill @table (@size slots, @size prime) with indexes
 * 0..n-1 of @eps, each endpoint's share proportional to its weight. Each
 * endpoint's preference order depends only on its own address and port,
 * so removing one endpoint moves few slots of the others.
 */
void l4_maglev_populate(const struct mesh_endpoint *const *eps, size_t n,
			__u16 *table, size_t size);

#endif /* KMESH_L4_BUILD_H */

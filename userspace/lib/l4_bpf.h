/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The L4 data plane in the kernel: load and attach (up), adopt what an
 * earlier kmeshctl left pinned, detach (down), switch generations
 * (apply), and read it all back (dump, stats, log, status).
 *
 * Everything lives pinned under the pin directory (KMESH_PIN_DIR, default
 * /sys/fs/bpf/kmesh): maps/ (every map), progs/ (every program), links/
 * (the cgroup attachments). kmeshctl itself holds no state: it can die at
 * any moment and traffic goes on; the next `up` adopts what is pinned.
 */
#ifndef KMESH_L4_BPF_H
#define KMESH_L4_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "gen_maps.h"
#include "kmesh_maps.h"
#include "l4_build.h"
#include "mesh_config.h"
#include "pins.h"

enum l4_map {
	L4_MAP_SERVICES,
	L4_MAP_CLUSTERS,
	L4_MAP_ENDPOINTS,
	L4_MAP_MAGLEV,
	L4_MAP_GENERATION,
	L4_MAP_CLUSTER_STATE,
	L4_MAP_SERVICE_STATS,
	L4_MAP_CLUSTER_STATS,
	L4_MAP_ENDPOINT_STATS,
	L4_MAP_GLOBAL,
	L4_MAP_IDS,
	L4_MAP_SK_STATE,
	L4_MAP_SOCKHASH,
	L4_MAP_LOCAL_SOCKS,
	L4_MAP_ACCESS_LOG,
	L4_MAP_OUTLIER,
	L4_NR_MAPS,
};

/* Services, clusters, endpoints, maglev: the per-slot (generation) maps. */
#define L4_NR_GEN_MAPS	(L4_MAP_MAGLEV - L4_MAP_SERVICES + 1)

enum l4_prog {
	L4_PROG_CONNECT4,
	L4_PROG_CONNECT6,
	L4_PROG_GETPEERNAME4,
	L4_PROG_GETPEERNAME6,
	L4_PROG_SOCKOPS,
	L4_PROG_SK_MSG,		/* attached to the sockhash, no link */
	L4_NR_PROGS,
};

/* Pinned maps, opened by name. */
struct l4_handle {
	int fd[L4_NR_MAPS];
};

const char *l4_map_name(enum l4_map map);
const char *l4_prog_name(enum l4_prog prog);
/* Root of the first cgroup2 mount, for `up` without --cgroup. */
int l4_default_cgroup(char *buf, size_t size);

/* Load, attach and pin; or adopt a pinned state (*adopted), replacing
 * its programs in place. Traffic never stops. */
int l4_up(const char *cgroup, bool *adopted, char *err, size_t err_size);
/* Detach everything and remove every pin. *was_up false: nothing to do. */
int l4_down(bool *was_up, char *err, size_t err_size);
/*
 * The pinned state an apply compiles against (ids, the next generation
 * and slot) and installs into, locked from l4_txn_begin() to
 * l4_txn_end(): applies and ups exclude each other. pipeline.h runs it.
 */
struct l4_txn {
	struct l4_handle h;
	int lock_fd;
	struct kmesh_l4_generation cur, next;
	struct l4_id_entry *reg;	/* the id registry (l4_txn_read_registry()) */
	size_t nr_reg;
	bool reg_from_cache;		/* known, not read: see there */
};
int l4_txn_begin(struct l4_txn *t, char *err, size_t err_size);
struct l4_install_cache;
/*
 * The id registry into @t->reg. Read from the kernel; or, for a process
 * that keeps @cache and the l4 part of the generation it switched to
 * last (@last), taken from @last->ids (the registry that install left)
 * when @cache proves nobody installed since (the same proof that lets
 * the install write differences only: the live generation is the one it
 * switched to and the next slot's fill stamp is the one it left: every
 * install resets that stamp before it writes the registry). 0 or -1.
 */
int l4_txn_read_registry(struct l4_txn *t, const struct l4_install_cache *cache,
			 const struct l4_gen *last, char *err, size_t err_size);
void l4_txn_end(struct l4_txn *t);
/* A slot's inner maps, as l4_install_cache keeps their images. */
enum l4_slot_map {
	L4_SLOT_SERVICES,	/* the order of L4_MAP_SERVICES .. L4_MAP_MAGLEV */
	L4_SLOT_CLUSTERS,
	L4_SLOT_ENDPOINTS,
	L4_SLOT_MAGLEV,
	L4_SLOT_L7_POLICY,
	L4_SLOT_L7_CIDRS,
	L4_SLOT_INBOUND,
	L4_NR_SLOT_MAPS,
};

/*
 * What a long-running process (kmesh-agent) installed, kept from one
 * install to the next so that the next one writes only what differs from
 * what the slot holds (gen_maps.h: images). Used only while nobody else
 * has switched or started to fill a slot since (the live generation is
 * the one this process switched to, and maps/kmesh_slot_fill says the
 * slot still holds what this process filled it with); otherwise the
 * install writes the slot whole, as without a cache. Zero-initialize.
 */
struct l4_install_cache {
	__u64 switched;			/* the generation this process switched to last */
	__u64 filled[KMESH_L4_SLOTS];	/* the generation it filled each slot with */
	struct gen_map_image map[KMESH_L4_SLOTS][L4_NR_SLOT_MAPS];
	struct gen_map_image names;	/* kmesh_l7_names (one map for every slot) */
	bool incremental;		/* the last install wrote differences only */
};
void l4_install_cache_free(struct l4_install_cache *c);

/*
 * The install stage: @gen and @l7 (compiled against @t) into the next
 * slot's maps and the module (@dev_fd, -1 without it), then the switch
 * to it in one map update. A failure before the switch leaves the live
 * generation as it was. @cache (or NULL): see above. 0, or -1 with @err.
 */
struct l7_gen;
int l4_install(struct l4_txn *t, const struct mesh_config *cfg,
	       struct l4_gen *gen, struct l7_gen *l7, int dev_fd,
	       struct l4_install_cache *cache, char *err, size_t err_size);

/* Is kmesh up (anything pinned)? */
bool l4_is_up(void);
int l4_open(struct l4_handle *h, char *err, size_t err_size);
void l4_close(struct l4_handle *h);

int l4_read_generation(struct l4_handle *h, struct kmesh_l4_generation *g);
int l4_read_registry(struct l4_handle *h, struct l4_id_entry **v, size_t *n);
/* The live generation's contents as the kernel holds them (ids too). */
int l4_read_active(struct l4_handle *h, struct l4_gen *gen);
/* Counters of one id summed over CPUs; zeros when it has none. */
int l4_read_stats(struct l4_handle *h, __u32 kind, __u32 id,
		  struct kmesh_l4_stats *out);
int l4_read_global(struct l4_handle *h, __u64 out[KMESH_L4_G_MAX]);
/* Is endpoint @id ejected by outlier detection now? */
bool l4_endpoint_ejected(struct l4_handle *h, __u32 id);
/* A service's rate-limit counters of @kind (enum kmesh_rl_kind; the
 * route @route_id's for KMESH_RL_ROUTE_REQUESTS, else 0); -ENOENT when
 * that limit never counted anything. */
int l4_read_rate_limit(__u32 service_id, __u32 kind, __u32 route_id,
		       struct kmesh_rl_stats *out);
/* The route limits that counted something: their keys, sorted by
 * service and route id (malloc'd into *@v). 0 or -errno. */
int l4_list_route_limits(struct kmesh_rl_stats_key **v, size_t *n);
int l4_read_cluster_state(struct l4_handle *h, __u32 id,
			  struct kmesh_cluster_state *out);

/* A pinned link's program id and cgroup id, for status. */
struct l4_link_info {
	bool attached;
	__u32 prog_id;
	__u32 link_id;
	__u64 cgroup_id;
};
int l4_link_info(enum l4_prog prog, struct l4_link_info *info);

/* Name of an id from the registry, or NULL. */
const char *l4_id_name(const struct l4_id_entry *v, size_t n, __u32 kind,
		       __u32 id);

#endif /* KMESH_L4_BPF_H */

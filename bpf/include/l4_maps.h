/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of the L4 data plane. l4_maps.bpf.c defines them (it defines
 * KMESH_L4_MAPS_DEFINE); every entry file sees extern declarations, and
 * linking the entry files into one object (bpftool gen object) resolves
 * them to that one instance. Userspace pins them under
 * /sys/fs/bpf/kmesh/maps/.
 */
#ifndef KMESH_L4_MAPS_H
#define KMESH_L4_MAPS_H

#include "kmesh_bpf.h"

#ifdef KMESH_L4_MAPS_DEFINE
#define KMESH_MAP(type, name)	struct type name SEC(".maps")
#else
#define KMESH_MAP(type, name)	extern struct type name SEC(".maps")
#endif

/* ---- config, one inner map per generation slot ---- */

/*
 * Inner maps are created by userspace on apply; these are the templates.
 * Sizes, not __type(): clang emits key and value structs this deep behind
 * pointers only as forward declarations, which libbpf cannot size.
 */
struct kmesh_services_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_VIPS);
	__uint(key_size, sizeof(struct kmesh_service_key));
	__uint(value_size, sizeof(struct kmesh_service));
};

struct kmesh_clusters_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_CLUSTERS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct kmesh_cluster));
};

struct kmesh_endpoints_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_ENDPOINTS);
	__uint(key_size, sizeof(struct kmesh_endpoint_key));
	__uint(value_size, sizeof(struct kmesh_endpoint));
};

struct kmesh_maglev_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_MAGLEV_CLUSTERS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct kmesh_maglev));
};

struct kmesh_services_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_services_inner);
};
KMESH_MAP(kmesh_services_map, kmesh_services);

struct kmesh_clusters_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_clusters_inner);
};
KMESH_MAP(kmesh_clusters_map, kmesh_clusters);

struct kmesh_endpoints_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_endpoints_inner);
};
KMESH_MAP(kmesh_endpoints_map, kmesh_endpoints);

struct kmesh_maglev_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_maglev_inner);
};
KMESH_MAP(kmesh_maglev_map, kmesh_maglev);

struct kmesh_generation_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmesh_l4_generation);
};
KMESH_MAP(kmesh_generation_map, kmesh_generation);

/* ---- state outside generations, keyed by stable ids ---- */

struct kmesh_cluster_state_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KMESH_L4_MAX_CLUSTERS);
	__type(key, __u32);
	__type(value, struct kmesh_cluster_state);
};
KMESH_MAP(kmesh_cluster_state_map, kmesh_cluster_state);

struct kmesh_outlier_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KMESH_L4_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct kmesh_outlier_state);
};
KMESH_MAP(kmesh_outlier_map, kmesh_outlier);

struct kmesh_service_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kmesh_l4_stats);
};
KMESH_MAP(kmesh_service_stats_map, kmesh_service_stats);

struct kmesh_cluster_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_CLUSTERS);
	__type(key, __u32);
	__type(value, struct kmesh_l4_stats);
};
KMESH_MAP(kmesh_cluster_stats_map, kmesh_cluster_stats);

struct kmesh_endpoint_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct kmesh_l4_stats);
};
KMESH_MAP(kmesh_endpoint_stats_map, kmesh_endpoint_stats);

struct kmesh_l4_global_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KMESH_L4_G_MAX);
	__type(key, __u32);
	__type(value, __u64);
};
KMESH_MAP(kmesh_l4_global_map, kmesh_l4_global);

/* Rate-limit buckets and their counters (ratelimit.h). */
struct kmesh_rl_buckets_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KMESH_RL_MAX_BUCKETS);
	__type(key, struct kmesh_rl_key);
	__type(value, struct kmesh_rl_bucket);
};
KMESH_MAP(kmesh_rl_buckets_map, kmesh_rl_buckets);

struct kmesh_rl_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_SERVICES * 2);	/* two kinds */
	__type(key, struct kmesh_rl_stats_key);
	__type(value, struct kmesh_rl_stats);
};
KMESH_MAP(kmesh_rl_stats_map, kmesh_rl_stats);

/* Userspace only: stable ids by identity (see kmesh_maps.h). */
struct kmesh_l4_ids_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMESH_L4_MAX_SERVICES + KMESH_L4_MAX_CLUSTERS +
			    KMESH_L4_MAX_ENDPOINTS);
	__type(key, struct kmesh_l4_id_key);
	__type(value, struct kmesh_l4_id);
};
KMESH_MAP(kmesh_l4_ids_map, kmesh_l4_ids);

/* ---- sockets ---- */

struct kmesh_sk_state_map {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kmesh_sk_state);
};
KMESH_MAP(kmesh_sk_state_map, kmesh_sk_state);

struct kmesh_sockhash_map {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, KMESH_L4_MAX_LOCAL_SOCKS);
	__type(key, struct kmesh_sock_key);
	__type(value, __u64);
};
KMESH_MAP(kmesh_sockhash_map, kmesh_sockhash);

struct kmesh_local_socks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMESH_L4_MAX_LOCAL_SOCKS);
	__type(key, struct kmesh_sock_key);
	__type(value, struct kmesh_local_sock);
};
KMESH_MAP(kmesh_local_socks_map, kmesh_local_socks);

struct kmesh_access_log_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KMESH_L4_LOG_BYTES);
};
KMESH_MAP(kmesh_access_log_map, kmesh_access_log);

#endif /* KMESH_L4_MAPS_H */

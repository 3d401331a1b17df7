/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* L4 data plane: addresses, the live config generation, counters. */
#ifndef KMESH_L4_COMMON_H
#define KMESH_L4_COMMON_H

#include "l4_maps.h"

/* UAPI constants vmlinux.h cannot carry (they are macros). */
#define KMESH_AF_INET		2
#define KMESH_AF_INET6		10
#define KMESH_SOCK_STREAM	1
#define KMESH_ECONNREFUSED	111
#define KMESH_SOL_TCP		6
#define KMESH_TCP_USER_TIMEOUT	18

#define KMESH_READ_ONCE(x)	(*(const volatile typeof(x) *)&(x))

/*
 * 32-bit context field access at a fixed offset. clang likes to share one
 * "ctx + 24" pointer between neighbouring fields (local_ip6[0..3]); the
 * verifier refuses any access through a modified context pointer.
 */
#define KMESH_CTX_LOAD(ctx, field) ({					\
	__u32 __v;							\
	asm volatile("%0 = *(u32 *)(%1 + %2)"				\
		     : "=r"(__v)					\
		     : "r"(ctx),					\
		       "i"(__builtin_offsetof(typeof(*(ctx)), field)));	\
	__v;								\
})

#define KMESH_CTX_STORE(ctx, field, val) ({				\
	__u32 __v = (val);						\
	asm volatile("*(u32 *)(%0 + %1) = %2"				\
		     :							\
		     : "r"(ctx),					\
		       "i"(__builtin_offsetof(typeof(*(ctx)), field)),	\
		       "r"(__v)						\
		     : "memory");					\
})

/* ---- addresses: 4 x __u32 in network order, IPv4 v4-mapped ---- */

static __always_inline void kmesh_addr_set_v4(__u32 *a, __u32 ip4)
{
	a[0] = 0;
	a[1] = 0;
	a[2] = bpf_htonl(0xffff);
	a[3] = ip4;
}

static __always_inline bool kmesh_addr_is_v4(const __u32 *a)
{
	return !a[0] && !a[1] && a[2] == bpf_htonl(0xffff);
}

static __always_inline bool kmesh_addr_is_loopback(const __u32 *a)
{
	if (kmesh_addr_is_v4(a))
		return (bpf_ntohl(a[3]) >> 24) == 127;
	return !a[0] && !a[1] && !a[2] && a[3] == bpf_htonl(1);
}

static __always_inline void kmesh_addr_copy(__u32 *dst, const __u32 *src)
{
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	dst[3] = src[3];
}

/*
 * sock_ops and sk_msg give remote_port as the network-order port shifted
 * into the upper half on little-endian (6.1); take either layout.
 */
static __always_inline __u16 kmesh_remote_port(__u32 raw)
{
	return raw >> 16 ? bpf_ntohs(raw >> 16) : bpf_ntohs(raw);
}

/* ---- the live generation ---- */

/* The config of one generation: every lookup of a program run uses it. */
struct kmesh_l4_cfg {
	void *services;
	void *clusters;
	void *endpoints;
	void *maglev;
	__u64 generation;
	__u32 slot;
};

/*
 * Read the slot once, then take that slot's inner maps: a connect can
 * never see services of one generation and endpoints of another.
 */
static __always_inline int kmesh_l4_cfg_get(struct kmesh_l4_cfg *cfg)
{
	struct kmesh_l4_generation *gen;
	__u32 zero = 0, slot;

	gen = bpf_map_lookup_elem(&kmesh_generation, &zero);
	if (!gen)
		return -1;
	slot = KMESH_READ_ONCE(gen->slot);
	cfg->slot = slot;
	cfg->generation = KMESH_READ_ONCE(gen->generation);
	if (!cfg->generation)
		return -1;
	cfg->services = bpf_map_lookup_elem(&kmesh_services, &slot);
	cfg->clusters = bpf_map_lookup_elem(&kmesh_clusters, &slot);
	cfg->endpoints = bpf_map_lookup_elem(&kmesh_endpoints, &slot);
	cfg->maglev = bpf_map_lookup_elem(&kmesh_maglev, &slot);
	if (!cfg->services || !cfg->clusters || !cfg->endpoints)
		return -1;
	return 0;
}

/* ---- counters ---- */

static __always_inline void kmesh_global_add(__u32 idx, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&kmesh_l4_global, &idx);

	if (c)
		__sync_fetch_and_add(c, v);
}

/* The counters of one id, created on first use (ids come and go). */
static __always_inline struct kmesh_l4_stats *kmesh_stats(void *map, __u32 id)
{
	struct kmesh_l4_stats *s, zero = {};

	if (!id)
		return NULL;
	s = bpf_map_lookup_elem(map, &id);
	if (s)
		return s;
	bpf_map_update_elem(map, &id, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &id);
}

/* Counters of a service, its cluster and endpoint, fetched together. */
struct kmesh_l4_counters {
	struct kmesh_l4_stats *svc;
	struct kmesh_l4_stats *cluster;
	struct kmesh_l4_stats *ep;
};

static __always_inline void
kmesh_counters_get(struct kmesh_l4_counters *c, __u32 svc_id, __u32 cluster_id,
		   __u32 ep_id)
{
	c->svc = kmesh_stats(&kmesh_service_stats, svc_id);
	c->cluster = kmesh_stats(&kmesh_cluster_stats, cluster_id);
	c->ep = kmesh_stats(&kmesh_endpoint_stats, ep_id);
}

/* Add to one field of all three; atomic: softirq may race process context. */
#define KMESH_COUNT(c, field, v) do {					\
	if ((c)->svc)							\
		__sync_fetch_and_add(&(c)->svc->field, (v));		\
	if ((c)->cluster)						\
		__sync_fetch_and_add(&(c)->cluster->field, (v));	\
	if ((c)->ep)							\
		__sync_fetch_and_add(&(c)->ep->field, (v));		\
} while (0)

#endif /* KMESH_L4_COMMON_H */

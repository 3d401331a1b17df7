/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * L4 load balancing: choose a healthy endpoint index of a cluster.
 * Healthy endpoints are [0, nr_healthy) by construction (userspace sorts
 * draining ones last), so no policy ever needs to skip an entry.
 */
#ifndef KMESH_L4_LB_H
#define KMESH_L4_LB_H

#include "l4_common.h"

/* murmur3's finaliser: every input bit moves every output bit. */
static __always_inline __u32 kmesh_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Maglev key: the source address, and the source port when asked. */
static __always_inline __u32 kmesh_src_hash(const __u32 *addr, __u16 port)
{
	__u32 h = 0x6b6d6573;	/* "kmes" */

	h = kmesh_mix32(h ^ addr[0]);
	h = kmesh_mix32(h ^ addr[1]);
	h = kmesh_mix32(h ^ addr[2]);
	h = kmesh_mix32(h ^ addr[3]);
	return kmesh_mix32(h ^ port);
}

/* Smallest i with cum_weight[i] > r: binary search, log2(256) + 1 steps. */
static __always_inline __u32 kmesh_weight_search(const struct kmesh_cluster *c,
						 __u32 n, __u32 r)
{
	__u32 lo = 0, hi = n - 1, mid;
	int i;

	for (i = 0; i < 9; i++) {
		if (lo >= hi)
			break;
		mid = (lo + hi) / 2;
		if (c->cum_weight[mid & (KMESH_L4_MAX_CLUSTER_ENDPOINTS - 1)] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static __always_inline __u32 kmesh_rr_next(__u32 cluster_id)
{
	struct kmesh_cluster_state *st;

	st = bpf_map_lookup_elem(&kmesh_cluster_state, &cluster_id);
	if (!st)
		return bpf_get_prandom_u32();
	return (__u32)__sync_fetch_and_add(&st->rr_next, 1);
}

/*
 * Index of the endpoint that takes a new connection, or -1 when the
 * cluster has no healthy endpoint. Ejected endpoints are not looked at
 * here: l4_outlier.h picks again when this one is.
 */
static __always_inline int kmesh_lb_pick(const struct kmesh_l4_cfg *cfg,
					 const struct kmesh_cluster *c,
					 __u32 src_hash)
{
	__u32 n = c->nr_healthy, total = c->total_weight;
	struct kmesh_maglev *tbl;
	__u32 idx;

	if (!n || n > KMESH_L4_MAX_CLUSTER_ENDPOINTS)
		return -1;
	switch (c->lb) {
	case KMESH_LB_ROUND_ROBIN:
		idx = kmesh_rr_next(c->cluster_id) % n;
		break;
	case KMESH_LB_WEIGHTED:
		if (!total)
			return -1;
		idx = kmesh_weight_search(c, n, bpf_get_prandom_u32() % total);
		break;
	case KMESH_LB_MAGLEV:
		tbl = cfg->maglev ?
		      bpf_map_lookup_elem(cfg->maglev, &c->cluster_id) : NULL;
		if (!tbl)
			return -1;
		idx = src_hash % KMESH_L4_MAGLEV_SIZE;
		/* clang turns the modulo into mul/sub, which the verifier
		 * cannot bound: hide it and check the range explicitly. */
		asm volatile("" : "+r"(idx));
		if (idx >= KMESH_L4_MAGLEV_SIZE)
			return -1;
		idx = tbl->index[idx];
		break;
	default:
		idx = bpf_get_prandom_u32() % n;
		break;
	}
	return idx < n ? (int)idx : -1;
}

#endif /* KMESH_L4_LB_H */

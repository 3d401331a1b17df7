// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The route/policy conformance suite's BPF side (selftests/conformance/
 * route_conformance.c): the eBPF evaluation of bpf/include/l7_eval.h, run
 * by BPF_PROG_TEST_RUN on a head the test parsed with the core parser
 * (parsing has its own conformance vectors; this isolates evaluation).
 *
 *  - fallback_decide: fallback mode, authorization and routes in eBPF;
 *  - kfunc_decide: kfunc mode, authorization in eBPF, routes by the
 *    module's table through bpf_kmesh_route_match (loaded only where the
 *    module is: the host has none).
 */
#define KMESH_L7_MAPS_DEFINE
#include "l7_eval.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct kmesh_l7_policy);
} policy SEC(".maps");

/* in */
__u32 policy_idx;		/* which entry of the policy map */
__u8 head[KMESH_L7_MAX_HEAD];
__u32 head_len;
struct kmesh_http_req req;
__u32 port;
__u64 src_sets, dst_sets;
struct kmesh_route_query query;	/* kfunc: table_id, rand, stay_cluster */
/* out: struct l7_decision, field by field (a BPF-side type) */
int view_ret = 1;
int match_ret = 1;
__u8 reason, route_known;
__u16 status;
__u32 route_id, policy_id;

static __always_inline void output(const struct l7_decision *d)
{
	reason = d->reason;
	route_known = d->route_known;
	status = d->status;
	route_id = d->route_id;
	policy_id = d->policy_id;
}

static __always_inline struct l7_scratch *load(const struct kmesh_l7_policy **pol)
{
	struct l7_scratch *sc;
	__u32 zero = 0, idx = policy_idx, i;

	*pol = bpf_map_lookup_elem(&policy, &idx);
	sc = bpf_map_lookup_elem(&kmesh_l7_scratch, &zero);
	if (!sc || !*pol || head_len > KMESH_L7_MAX_HEAD)
		return NULL;
	for (i = 0; i < KMESH_L7_MAX_HEAD / 8; i++)
		*(__u64 *)&sc->buf[i * 8] = *(__u64 *)&head[i * 8];
	sc->len = head_len;
	__builtin_memcpy(&sc->req, &req, sizeof(req));
	__builtin_memset(&sc->d, 0, sizeof(sc->d));
	view_ret = kmesh_l7_view(sc, *pol, port);
	sc->view.src_sets = src_sets;
	sc->view.dst_sets = dst_sets;
	return view_ret ? NULL : sc;
}

SEC("syscall")
int fallback_decide(void *ctx)
{
	const struct kmesh_l7_policy *pol;
	struct l7_scratch *sc = load(&pol);

	if (!sc)
		return 0;
	kmesh_l7_decide(sc, pol, 1, &sc->d);
	output(&sc->d);
	return 0;
}

SEC("syscall")
int kfunc_decide(void *ctx)
{
	const struct kmesh_l7_policy *pol;
	struct l7_scratch *sc = load(&pol);

	if (!sc)
		return 0;
	kmesh_l7_decide(sc, pol, 0, &sc->d);
	if (pol->flags & KMESH_L7_PF_HAS_ROUTES)
		match_ret = l7_route_by_module(sc, pol, &query, &sc->d);
	output(&sc->d);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

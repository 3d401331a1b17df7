/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect in kfunc mode: an HTTP service with a route table is routed on
 * the connection's first request, not at connect time. The same program
 * runs twice for such a connect (kmesh_abi.h, "Deferred connect"):
 *
 *  - at connect(): bpf_kmesh_deferred_route() says -ESRCH (nothing to
 *    route yet), so we ask the module to hold the connect; it returns 0
 *    to the application without a SYN;
 *  - when the request head has been written, the module runs the hook
 *    again for the same address: now the kfunc matches the head against
 *    the service's routes and we balance the chosen cluster exactly as L4
 *    balances the service's own, or have the module answer the request.
 *
 * Verdicts: ROUTE -> its cluster; NO_VHOST (the Host is none of the
 * table's) -> the service's own cluster, as Istio sends traffic for hosts
 * without a VirtualService; DENY, DIRECT -> the route's response; NO_ROUTE
 * -> 404; no endpoint, circuit breaker open, or a cluster this node does
 * not know -> 503, what a proxy would answer. A table that is missing or
 * refuses the request falls back to the service's cluster (it is routing
 * that failed, not the service).
 */
#ifndef KMESH_L4_DEFER_H
#define KMESH_L4_DEFER_H

#include "l4_connect.h"

#define KMESH_EACCES	13
#define KMESH_ESRCH	3

/* Have the module answer; the connect itself is refused. */
static __always_inline int kmesh_l7_reply(struct bpf_sock_addr *ctx,
					  __u32 status)
{
	if (bpf_kmesh_deferred_reply(ctx, status))
		return kmesh_refuse();
	bpf_set_retval(-KMESH_EACCES);
	return 0;
}

static __always_inline int kmesh_l7_connect(struct bpf_sock_addr *ctx,
					    const struct kmesh_dial *d,
					    struct kmesh_endpoint *ep_out)
{
	struct kmesh_route_query q = {};
	struct kmesh_service *svc;
	struct kmesh_l4_cfg cfg;
	bool routed = false;
	__u32 cluster_id;
	int err, ret;

	svc = kmesh_l4_service(ctx, d, &cfg);
	if (!svc)
		return 1;
	cluster_id = svc->cluster_id;
	if ((svc->flags & KMESH_SVC_F_HTTP) && svc->route_table_id) {
		q.table_id = svc->route_table_id;
		q.rand = bpf_get_prandom_u32();
		err = bpf_kmesh_deferred_route(ctx, &q);
		if (err == -KMESH_ESRCH) {
			/* Plain L4 when the module cannot hold this socket. */
			if (!bpf_kmesh_defer_connect(ctx))
				return 1;
		} else {
			routed = true;
		}
		if (!err) {
			switch (q.verdict.kind) {
			case KMESH_RT_V_ROUTE:
				cluster_id = q.verdict.cluster_id;
				break;
			case KMESH_RT_V_DENY:
			case KMESH_RT_V_DIRECT:
				return kmesh_l7_reply(ctx, KMESH_DEFER_REPLY_ROUTE);
			case KMESH_RT_V_NO_ROUTE:
				return kmesh_l7_reply(ctx, 404);
			default:
				break;
			}
		}
	}
	ret = kmesh_l4_connect_to(ctx, d, &cfg, svc, cluster_id, ep_out);
	if (routed && (!ret || !ep_out->endpoint_id))
		return kmesh_l7_reply(ctx, 503);
	return ret;
}

#endif /* KMESH_L4_DEFER_H */

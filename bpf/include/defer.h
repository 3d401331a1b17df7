/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect in kfunc mode: an HTTP service with a route table is routed on
 * the connection's first request, not at connect time. The same program
 * runs twice for such a connect (kmesh_kfunc.h, "Deferred connect"):
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
#include "l7_maps.h"

#define KMESH_EACCES	13
#define KMESH_ESRCH	3

/*
 * A first request the module answers never reaches sk_msg: count and log
 * it here, as sk_msg does the others (no source port exists yet, and the
 * path stays in the module).
 */
static __always_inline void kmesh_l7_answered(const struct kmesh_dial *d,
					      __u32 service_id,
					      const struct kmesh_route_query *q,
					      __u8 reason, __u16 status)
{
	struct kmesh_l7_stats *s;
	struct kmesh_l7_log *r;

	l7_global(KMESH_L7_G_REQUESTS);
	l7_global(KMESH_L7_G_DENIED);
	l7_global(KMESH_L7_G_REPLIED);
	s = l7_stats(service_id, q->verdict.route_id, (__u8)q->method);
	if (s && reason == KMESH_L7_R_DIRECT)
		__sync_fetch_and_add(&s->direct, 1);
	else if (s)
		__sync_fetch_and_add(&s->denied, 1);
	r = l7_log_new();
	if (!r)
		return;
	kmesh_addr_copy(r->source_addr, d->src);
	r->source_port = d->src_port;
	kmesh_addr_copy(r->service_addr, d->dst);
	r->service_port = d->dst_port;
	r->service_id = service_id;
	r->route_id = q->verdict.route_id;
	r->method = (__u8)q->method;
	r->reason = reason;
	r->status = status;
	r->flags = KMESH_L7_LOG_F_REPLIED;
	bpf_ringbuf_submit(r, 0);
}

/* Have the module answer; the connect itself is refused. */
static __always_inline int kmesh_l7_reply(struct bpf_sock_addr *ctx,
					  const struct kmesh_dial *d,
					  __u32 service_id,
					  const struct kmesh_route_query *q,
					  __u8 reason, __u32 status)
{
	kmesh_l7_answered(d, service_id, q, reason,
			  status ? status : q->verdict.status);
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
		/* an errno: no route refusal (KMESH_KFUNC_ROUTE_ERR) can equal it */
		if (err == -KMESH_ESRCH) {
			/* Plain L4 when the module cannot hold this socket. */
			if (!bpf_kmesh_defer_connect(ctx,
					svc->flags & KMESH_SVC_F_PATH_ESCAPED_SLASHES ?
					KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES : 0))
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
				return kmesh_l7_reply(ctx, d, svc->service_id, &q,
						      KMESH_L7_R_ROUTE_DENY,
						      KMESH_DEFER_REPLY_ROUTE);
			case KMESH_RT_V_DIRECT:
				return kmesh_l7_reply(ctx, d, svc->service_id, &q,
						      KMESH_L7_R_DIRECT,
						      KMESH_DEFER_REPLY_ROUTE);
			case KMESH_RT_V_NO_ROUTE:
				return kmesh_l7_reply(ctx, d, svc->service_id, &q,
						      KMESH_L7_R_NO_ROUTE, 404);
			default:
				break;
			}
		}
	}
	ret = kmesh_l4_connect_to(ctx, d, &cfg, svc, cluster_id, ep_out);
	if (routed && (!ret || !ep_out->endpoint_id))
		return kmesh_l7_reply(ctx, d, svc->service_id, &q,
				      KMESH_L7_R_NO_ENDPOINT, 503);
	return ret;
}

#endif /* KMESH_L4_DEFER_H */

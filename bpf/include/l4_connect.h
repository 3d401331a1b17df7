/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * L4 connect: a TCP connect to a service address (VIP:port) is rewritten
 * to one endpoint of the service's cluster before the kernel routes it.
 * Shared by cgroup/connect4 and cgroup/connect6; getpeername undoes the
 * rewrite for the application.
 */
#ifndef KMESH_L4_CONNECT_H
#define KMESH_L4_CONNECT_H

#include "l4_outlier.h"
#include "ratelimit.h"

/*
 * Fail the connect with ECONNREFUSED, what a client gets from a host with
 * nothing listening. Returning 0 alone would make it EPERM; bpf_set_retval
 * (5.18+) replaces that errno for cgroup hooks.
 */
static __always_inline int kmesh_refuse(void)
{
	bpf_set_retval(-KMESH_ECONNREFUSED);
	return 0;
}

static __always_inline void kmesh_cluster_release(__u32 cluster_id)
{
	struct kmesh_cluster_state *st;

	st = bpf_map_lookup_elem(&kmesh_cluster_state, &cluster_id);
	if (st)
		__sync_fetch_and_add(&st->active, -1);
}

/*
 * Take an active-connection slot of the cluster; false when the circuit
 * breaker is open. Every connection is counted, limit or not, so that a
 * limit set by a later apply sees the connections already open.
 */
static __always_inline bool kmesh_cluster_acquire(const struct kmesh_cluster *c)
{
	struct kmesh_cluster_state *st;
	__s64 before;

	st = bpf_map_lookup_elem(&kmesh_cluster_state, &c->cluster_id);
	if (!st)
		return true;
	before = __sync_fetch_and_add(&st->active, 1);
	if (c->max_connections && before >= (__s64)c->max_connections) {
		__sync_fetch_and_add(&st->active, -1);
		return false;
	}
	return true;
}

/* What the hook knows about the connect being made. */

struct kmesh_dial {
	__u32 dst[4];		/* dialed address */
	__u32 src[4];		/* bound source address, or zeros */
	__u16 dst_port;
	__u16 src_port;		/* bound source port, or 0 */
	bool v4;		/* connect4: the endpoint must be IPv4 too */
};

static __always_inline void kmesh_sk_state_init(struct kmesh_sk_state *s,
						const struct kmesh_dial *d,
						const struct kmesh_service *svc,
						__u32 cluster_id,
						const struct kmesh_endpoint *ep,
						__u64 generation)
{
	/* A retried connect on the same socket: give back its old slot. */
	if (s->flags & KMESH_SK_F_COUNTED)
		kmesh_cluster_release(s->cluster_id);
	kmesh_addr_copy(s->svc_addr, d->dst);
	s->svc_port = d->dst_port;
	s->redir = KMESH_REDIR_UNDECIDED;
	s->flags = KMESH_SK_F_SERVICE | KMESH_SK_F_COUNTED |
		   (s->flags & KMESH_SK_F_CONNECT_FAILED ? KMESH_SK_F_FAILOVER : 0);
	s->connect_timeout_ms = 0;
	s->service_id = svc->service_id;
	s->cluster_id = cluster_id;
	s->endpoint_id = ep->endpoint_id;
	s->generation = generation;
	s->start_ns = bpf_ktime_get_ns();
	s->tx_redir = 0;
}

/*
 * The cluster's connect timeout. TCP_USER_TIMEOUT bounds the SYN's
 * retransmissions (tcp_write_timeout: the connect fails with ETIMEDOUT
 * once it has run out, instead of after the kernel's ~2 min of SYN
 * retries); sockops takes it back at ESTABLISHED, so it never bounds the
 * connection's data. An application's own TCP_USER_TIMEOUT stays.
 * @armed: a connect of this socket that failed before left ours set.
 */
static __always_inline void kmesh_arm_connect_timeout(struct bpf_sock_addr *ctx,
						      struct kmesh_sk_state *s,
						      __u32 ms, bool armed)
{
	int cur = 0;

	if (!armed && (bpf_getsockopt(ctx, KMESH_SOL_TCP, KMESH_TCP_USER_TIMEOUT,
				      &cur, sizeof(cur)) || cur))
		return;
	if (!ms) {
		if (armed)	/* this cluster has none: take ours back */
			bpf_setsockopt(ctx, KMESH_SOL_TCP, KMESH_TCP_USER_TIMEOUT,
				       &cur, sizeof(cur));
		return;
	}
	if (!bpf_setsockopt(ctx, KMESH_SOL_TCP, KMESH_TCP_USER_TIMEOUT, &ms,
			    sizeof(ms))) {
		s->flags |= KMESH_SK_F_CONNECT_TIMEOUT;
		s->connect_timeout_ms = ms;
	}
}

/*
 * A connect to a tcp port takes a token of the port's connection-rate
 * limit. Per source, the client is its bound address, or its netns
 * when it has none yet (see struct kmesh_rl_key).
 */
static __always_inline bool kmesh_connect_rate_ok(struct bpf_sock_addr *ctx,
						  const struct kmesh_dial *d,
						  const struct kmesh_service *svc)
{
	struct kmesh_rl_key key = {};

	if (!svc->rate_limit.interval_ns)
		return true;
	if (d->src[0] | d->src[1] | d->src[3] ||
	    (d->src[2] && d->src[2] != bpf_htonl(0xffff)))
		kmesh_addr_copy(key.src, d->src);
	else
		key.netns = bpf_get_netns_cookie(ctx);
	return !kmesh_rl_take(&svc->rate_limit, svc->service_id,
			      KMESH_RL_CONNECTIONS, &key);
}

/*
 * The service of the dialed address in the live generation @cfg, or NULL
 * (counted) when the connect is none of the mesh's business.
 */
static __always_inline struct kmesh_service *
kmesh_l4_service(struct bpf_sock_addr *ctx, const struct kmesh_dial *d,
		 struct kmesh_l4_cfg *cfg)
{
	struct kmesh_service_key key = {};
	struct kmesh_service *svc;

	if (ctx->type != KMESH_SOCK_STREAM || ctx->protocol != KMESH_PROTO_TCP)
		return NULL;
	if (kmesh_l4_cfg_get(cfg)) {
		kmesh_global_add(KMESH_L4_G_NO_CONFIG, 1);
		return NULL;
	}
	kmesh_addr_copy(key.addr, d->dst);
	key.port = d->dst_port;
	key.protocol = KMESH_PROTO_TCP;
	svc = bpf_map_lookup_elem(cfg->services, &key);
	if (!svc)
		kmesh_global_add(KMESH_L4_G_PASSTHROUGH, 1);
	return svc;
}

#define KMESH_CURRENT_NETNS	(-1L)	/* BPF_F_CURRENT_NETNS, a uapi macro */

/*
 * Does a socket listen for @ep on this node (in the connecting socket's
 * netns)? Responses of an http connection to it can then be paired with
 * their requests even when the client's first write beats the server's
 * side of the handshake and so stays on TCP.
 */
static __always_inline bool kmesh_ep_listens_here(struct bpf_sock_addr *ctx,
						  const struct kmesh_endpoint *ep,
						  __u16 port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 size;

	if (kmesh_addr_is_v4(ep->addr)) {
		t.ipv4.daddr = ep->addr[3];
		t.ipv4.dport = bpf_htons(port);
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.daddr, ep->addr, sizeof(t.ipv6.daddr));
		t.ipv6.dport = bpf_htons(port);
		size = sizeof(t.ipv6);
	}
	sk = bpf_sk_lookup_tcp(ctx, &t, size, KMESH_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	bpf_sk_release(sk);
	return true;
}

/*
 * Send a connect to service @svc to an endpoint of cluster @cluster_id
 * (the service's own, or the one an L7 route chose). Returns the hook's
 * verdict: 1 lets it proceed (rewritten or not), 0 fails it with the
 * errno set by kmesh_refuse(). On success *ep_out is the endpoint to
 * write into the context; ep_out->endpoint_id stays 0 when the connect
 * goes on unchanged.
 */
static __always_inline int kmesh_l4_connect_to(struct bpf_sock_addr *ctx,
					       const struct kmesh_dial *d,
					       const struct kmesh_l4_cfg *cfg,
					       const struct kmesh_service *svc,
					       __u32 cluster_id,
					       struct kmesh_endpoint *ep_out)
{
	struct kmesh_l4_counters cnt;
	struct kmesh_endpoint_key ek;
	struct kmesh_endpoint *ep;
	struct kmesh_cluster *c;
	struct kmesh_sk_state *s;
	__u32 flags_port;
	bool retry;
	int idx;

	c = bpf_map_lookup_elem(cfg->clusters, &cluster_id);
	if (!c)
		return 1;	/* userspace never writes such a generation */
	if (!(svc->flags & KMESH_SVC_F_HTTP) &&
	    !kmesh_connect_rate_ok(ctx, d, svc)) {
		kmesh_counters_get(&cnt, svc->service_id, c->cluster_id, 0);
		KMESH_COUNT(&cnt, refused_rate_limited, 1);
		return kmesh_refuse();
	}

	flags_port = c->flags & KMESH_CLUSTER_F_HASH_SRC_PORT ? d->src_port : 0;
	idx = kmesh_outlier_pick(cfg, c, kmesh_src_hash(d->src, flags_port));
	ek.cluster_id = c->cluster_id;
	ek.index = idx;
	ep = idx < 0 ? NULL : bpf_map_lookup_elem(cfg->endpoints, &ek);
	/*
	 * This socket's last connect failed at this endpoint: the next one
	 * in the cluster instead (any policy: a hash would pick it again).
	 */
	s = bpf_sk_storage_get(&kmesh_sk_state, ctx->sk, 0, 0);
	retry = s && (s->flags & KMESH_SK_F_CONNECT_FAILED);
	if (ep && retry && s->cluster_id == c->cluster_id &&
	    s->endpoint_id == ep->endpoint_id &&
	    c->nr_healthy > 1 && c->nr_healthy <= KMESH_L4_MAX_CLUSTER_ENDPOINTS) {
		ek.index = ((__u32)idx + 1) % c->nr_healthy;
		ep = bpf_map_lookup_elem(cfg->endpoints, &ek);
	}
	if (!ep) {
		kmesh_counters_get(&cnt, svc->service_id, c->cluster_id, 0);
		KMESH_COUNT(&cnt, refused_no_endpoint, 1);
		return kmesh_refuse();
	}
	if (d->v4 && !kmesh_addr_is_v4(ep->addr)) {
		kmesh_global_add(KMESH_L4_G_FAMILY, 1);
		return 1;
	}
	if (!kmesh_cluster_acquire(c)) {
		kmesh_counters_get(&cnt, svc->service_id, c->cluster_id, 0);
		KMESH_COUNT(&cnt, refused_overflow, 1);
		return kmesh_refuse();
	}

	s = bpf_sk_storage_get(&kmesh_sk_state, ctx->sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (s) {
		bool armed = s->flags & KMESH_SK_F_CONNECT_TIMEOUT;

		kmesh_sk_state_init(s, d, svc, c->cluster_id, ep, cfg->generation);
		kmesh_arm_connect_timeout(ctx, s, c->connect_timeout_ms, armed);
		if ((svc->flags & KMESH_SVC_F_HTTP) &&
		    kmesh_ep_listens_here(ctx, ep, ep->port ? ep->port : d->dst_port))
			s->flags |= KMESH_SK_F_EP_LOCAL;
	} else {
		/* Connect anyway; it just goes unaccounted. */
		kmesh_cluster_release(c->cluster_id);
		kmesh_global_add(KMESH_L4_G_NO_STORAGE, 1);
	}
	kmesh_counters_get(&cnt, svc->service_id, c->cluster_id, ep->endpoint_id);
	KMESH_COUNT(&cnt, connects, 1);
	if (retry)
		KMESH_COUNT(&cnt, failovers, 1);

	*ep_out = *ep;
	if (!ep_out->port)
		ep_out->port = d->dst_port;
	return 1;
}

/* Decide a connect at L4: the service's own cluster. */
static __always_inline int kmesh_l4_connect(struct bpf_sock_addr *ctx,
					    const struct kmesh_dial *d,
					    struct kmesh_endpoint *ep_out)
{
	struct kmesh_service *svc;
	struct kmesh_l4_cfg cfg;

	svc = kmesh_l4_service(ctx, d, &cfg);
	if (!svc)
		return 1;
	return kmesh_l4_connect_to(ctx, d, &cfg, svc, svc->cluster_id, ep_out);
}

/* getpeername: the application sees the service address it dialed. */
static __always_inline struct kmesh_sk_state *
kmesh_dialed_service(struct bpf_sock_addr *ctx)
{
	struct kmesh_sk_state *s;

	s = bpf_sk_storage_get(&kmesh_sk_state, ctx->sk, 0, 0);
	if (!s || !(s->flags & KMESH_SK_F_SERVICE))
		return NULL;
	return s;
}

#endif /* KMESH_L4_CONNECT_H */

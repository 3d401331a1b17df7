/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * L4 sockets: established service connections enter a sockhash keyed by
 * their 4-tuple so that when both ends live on this node, sk_msg can hand
 * data straight to the peer socket; on close each service connection is
 * accounted (counters, access log) and gives back its cluster slot.
 */
#ifndef KMESH_L4_SOCK_H
#define KMESH_L4_SOCK_H

#include "l4_connect.h"
#include "l7_maps.h"
#include "inbound.h"
#include "resp.h"

/*
 * Loopback addresses repeat in every netns: key them with the netns so a
 * socket can only pair with its own namespace's peer. Other addresses are
 * unique on the node, which lets pods in different netns pair up.
 */
static __always_inline void kmesh_key_finish(struct kmesh_sock_key *k,
					     __u64 netns)
{
	k->pad = 0;
	k->netns = kmesh_addr_is_loopback(k->remote) ? netns : 0;
}

static __always_inline void kmesh_key_from_ops(struct bpf_sock_ops *ops,
					       struct kmesh_sock_key *k)
{
	if (ops->family == KMESH_AF_INET) {
		kmesh_addr_set_v4(k->local, ops->local_ip4);
		kmesh_addr_set_v4(k->remote, ops->remote_ip4);
	} else {
		k->local[0] = KMESH_CTX_LOAD(ops, local_ip6[0]);
		k->local[1] = KMESH_CTX_LOAD(ops, local_ip6[1]);
		k->local[2] = KMESH_CTX_LOAD(ops, local_ip6[2]);
		k->local[3] = KMESH_CTX_LOAD(ops, local_ip6[3]);
		k->remote[0] = KMESH_CTX_LOAD(ops, remote_ip6[0]);
		k->remote[1] = KMESH_CTX_LOAD(ops, remote_ip6[1]);
		k->remote[2] = KMESH_CTX_LOAD(ops, remote_ip6[2]);
		k->remote[3] = KMESH_CTX_LOAD(ops, remote_ip6[3]);
	}
	k->local_port = ops->local_port;
	k->remote_port = kmesh_remote_port(ops->remote_port);
	kmesh_key_finish(k, bpf_get_netns_cookie(ops));
}

/* The key under which the other end of this connection is filed. */
static __always_inline void kmesh_key_reverse(const struct kmesh_sock_key *k,
					      struct kmesh_sock_key *r)
{
	kmesh_addr_copy(r->local, k->remote);
	kmesh_addr_copy(r->remote, k->local);
	r->local_port = k->remote_port;
	r->remote_port = k->local_port;
	r->pad = 0;
	r->netns = k->netns;
}

static __always_inline void kmesh_want_state_cb(struct bpf_sock_ops *ops)
{
	bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags |
				  BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* File the socket under its own 4-tuple: the peer may now redirect to it. */
static __always_inline void kmesh_sock_add(struct bpf_sock_ops *ops,
					   struct kmesh_sk_state *s,
					   struct kmesh_sock_key *k)
{
	struct kmesh_local_sock zero = {};

	/*
	 * Sockhash first: a peer's sk_msg that finds us in kmesh_local_socks
	 * redirects through the sockhash at once, and would drop the message
	 * (EACCES to its sender) if we were not there yet.
	 */
	if (bpf_sock_hash_update(ops, &kmesh_sockhash, k, BPF_ANY))
		goto fail;
	if (bpf_map_update_elem(&kmesh_local_socks, k, &zero, BPF_ANY))
		goto fail;
	s->flags |= KMESH_SK_F_LOCAL;
	return;
fail:
	kmesh_global_add(KMESH_L4_G_SOCKHASH, 1);
}

/* SYN about to leave: watch state changes so a failed connect is seen. */
static __always_inline void kmesh_on_connect(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct kmesh_sk_state *s;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&kmesh_sk_state, sk, 0, 0);
	if (s && (s->flags & KMESH_SK_F_SERVICE))
		kmesh_want_state_cb(ops);
}

static __always_inline void kmesh_on_active(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct kmesh_sock_key k;
	struct kmesh_sk_state *s;
	bool http;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&kmesh_sk_state, sk, 0, 0);
	if (!s || !(s->flags & KMESH_SK_F_SERVICE))
		return;
	s->flags |= KMESH_SK_F_ESTABLISHED;
	if (s->flags & KMESH_SK_F_CONNECT_TIMEOUT) {
		/* connected: the cluster's connect timeout is done */
		int none = 0;

		bpf_setsockopt(ops, KMESH_SOL_TCP, KMESH_TCP_USER_TIMEOUT,
			       &none, sizeof(none));
		s->flags &= ~KMESH_SK_F_CONNECT_TIMEOUT;
	}
	/* an http connection's responses are reported (resp_skb.h) */
	http = kmesh_resp_http(s);
	kmesh_outlier_report(s->cluster_id, s->endpoint_id,
			     http ? KMESH_OUTLIER_R_CONNECTED_HTTP :
			     KMESH_OUTLIER_R_CONNECTED);
	kmesh_want_state_cb(ops);
	kmesh_key_from_ops(ops, &k);
	kmesh_inbound_note_client(s, &k);
	kmesh_sock_add(ops, s, &k);
	if (http)
		kmesh_resp_on_active(ops, s, &k);	/* responses read on receive */
}

/*
 * Server side: join the sockhash only when the client is a local service
 * connection already filed (the client's ESTABLISHED runs first). A
 * protected workload's connection checked on receive (inbound.h) joins
 * it for its own sk_msg (responses) but is not filed as a redirect
 * target: its requests must arrive through the receive check.
 */
static __always_inline void kmesh_on_passive(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct kmesh_sock_key k, peer;
	struct kmesh_sk_state *s;
	bool inbound;

	if (!sk)
		return;
	kmesh_key_from_ops(ops, &k);
	kmesh_key_reverse(&k, &peer);
	inbound = kmesh_inbound_on_passive(ops, &k, &peer);
	if (!bpf_map_lookup_elem(&kmesh_local_socks, &peer))
		return;
	s = bpf_sk_storage_get(&kmesh_sk_state, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		kmesh_global_add(KMESH_L4_G_NO_STORAGE, 1);
		return;
	}
	s->redir = KMESH_REDIR_UNDECIDED;
	s->flags = KMESH_SK_F_ESTABLISHED;
	s->tx_redir = 0;
	kmesh_want_state_cb(ops);
	if (inbound) {
		if (bpf_sock_hash_update(ops, &kmesh_sockhash, &k, BPF_ANY))
			kmesh_global_add(KMESH_L4_G_SOCKHASH, 1);
		return;
	}
	kmesh_sock_add(ops, s, &k);
}

static __always_inline void kmesh_log_emit(struct bpf_sock_ops *ops,
					   const struct kmesh_sk_state *s,
					   __u64 now, __u64 sent, __u64 received,
					   __u8 result, bool ejected)
{
	struct kmesh_access_log *r;
	struct kmesh_sock_key k;

	r = bpf_ringbuf_reserve(&kmesh_access_log, sizeof(*r), 0);
	if (!r) {
		kmesh_global_add(KMESH_L4_G_LOG_DROPPED, 1);
		return;
	}
	kmesh_key_from_ops(ops, &k);
	r->timestamp_ns = now;
	r->duration_ns = now - s->start_ns;
	r->bytes_sent = sent;
	r->bytes_received = received;
	r->generation = s->generation;
	kmesh_addr_copy(r->service_addr, s->svc_addr);
	kmesh_addr_copy(r->source_addr, k.local);
	kmesh_addr_copy(r->endpoint_addr, k.remote);
	r->service_port = s->svc_port;
	r->source_port = k.local_port;
	r->endpoint_port = k.remote_port;
	r->result = result;
	r->flags = (s->redir == KMESH_REDIR_YES ? KMESH_LOG_F_REDIRECTED : 0) |
		   (ejected ? KMESH_LOG_F_EJECTED : 0) |
		   (s->flags & KMESH_SK_F_FAILOVER ? KMESH_LOG_F_FAILOVER : 0);
	/*
	 * A failed connect that lasted its whole armed timeout: timed out
	 * (a refusal or an unreachable route comes back well before).
	 */
	if (result == KMESH_CONN_FAILED && s->connect_timeout_ms &&
	    now - s->start_ns >= (__u64)s->connect_timeout_ms * 1000000ULL)
		r->flags |= KMESH_LOG_F_CONNECT_TIMEOUT;
	r->service_id = s->service_id;
	r->cluster_id = s->cluster_id;
	r->endpoint_id = s->endpoint_id;
	r->srtt_us = ops->srtt_us >> 3;		/* the kernel keeps it << 3 */
	r->retransmits = ops->total_retrans;
	r->reserved = 0;
	bpf_ringbuf_submit(r, 0);
}

/* Bytes redirected into this socket by its peer; forget the socket. */
static __always_inline __u64 kmesh_sock_remove(struct bpf_sock_ops *ops)
{
	struct kmesh_local_sock *l;
	struct kmesh_sock_key k;
	__u64 rx = 0;

	kmesh_key_from_ops(ops, &k);
	l = bpf_map_lookup_elem(&kmesh_local_socks, &k);
	if (l)
		rx = l->rx_redir;
	bpf_map_delete_elem(&kmesh_local_socks, &k);
	bpf_map_delete_elem(&kmesh_l7_conns, &k);	/* L7 request/response pairing */
	return rx;
}

#define KMESH_RCV_SHUTDOWN	1
#define KMESH_SEND_SHUTDOWN	2

/*
 * Payload bytes that went through TCP. bytes_acked and bytes_received
 * count sequence space, which has our SYN, our FIN once acked and the
 * peer's FIN once received in it: take those out.
 */
static __always_inline void kmesh_tcp_payload(struct bpf_sock_ops *ops,
					      struct bpf_sock *sk,
					      __u64 *sent, __u64 *received)
{
	__u64 acked = ops->bytes_acked, rcvd = ops->bytes_received;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u8 shut;

	if (acked)
		acked--;	/* SYN */
	if (tp) {
		shut = tp->inet_conn.icsk_inet.sk.sk_shutdown;
		if ((shut & KMESH_SEND_SHUTDOWN) && tp->snd_una == tp->write_seq &&
		    acked)
			acked--;
		if ((shut & KMESH_RCV_SHUTDOWN) && rcvd)
			rcvd--;
	}
	*sent = acked;
	*received = rcvd;
}

/*
 * TCP_CLOSE: the last state of every connection, established or not.
 * TCP counters cover what went through TCP, the redirect counters the rest.
 */
static __always_inline void kmesh_on_close(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct kmesh_l4_counters cnt;
	struct kmesh_sk_state *s;
	__u64 now, sent, received, rx_redir = 0;
	__u32 keep;
	bool ejected = false;
	__u8 result;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&kmesh_sk_state, sk, 0, 0);
	if (!s)
		return;
	if (s->flags & KMESH_SK_F_LOCAL)
		rx_redir = kmesh_sock_remove(ops);
	if (!(s->flags & KMESH_SK_F_SERVICE)) {
		s->flags = 0;
		return;
	}
	if (s->flags & KMESH_SK_F_COUNTED)
		kmesh_cluster_release(s->cluster_id);

	now = bpf_ktime_get_ns();
	kmesh_tcp_payload(ops, sk, &sent, &received);
	sent += s->tx_redir;
	received += rx_redir;
	kmesh_counters_get(&cnt, s->service_id, s->cluster_id, s->endpoint_id);
	if (s->flags & KMESH_SK_F_ESTABLISHED) {
		result = KMESH_CONN_CLOSED;
		KMESH_COUNT(&cnt, closed, 1);
		if (s->redir == KMESH_REDIR_YES || rx_redir)
			KMESH_COUNT(&cnt, redirected, 1);
		KMESH_COUNT(&cnt, bytes_sent, sent);
		KMESH_COUNT(&cnt, bytes_received, received);
		KMESH_COUNT(&cnt, duration_ns, now - s->start_ns);
		KMESH_COUNT(&cnt, retransmits, ops->total_retrans);
	} else {
		result = KMESH_CONN_FAILED;
		KMESH_COUNT(&cnt, connect_failed, 1);
		ejected = kmesh_outlier_report(s->cluster_id, s->endpoint_id,
					       KMESH_OUTLIER_R_CONNECT_FAILED);
	}
	keep = s->flags & KMESH_SK_F_CONNECT_TIMEOUT;
	if (result == KMESH_CONN_FAILED)
		keep |= KMESH_SK_F_CONNECT_FAILED;
	if (rx_redir)
		s->redir = KMESH_REDIR_YES;	/* either direction counts */
	kmesh_log_emit(ops, s, now, sent, received, result, ejected);
	/*
	 * Accounted once, even if the socket is used for another connect;
	 * a failed connect's timeout stays known as ours for that one
	 * (kmesh_arm_connect_timeout), and its endpoint as the one not to
	 * try again (kmesh_l4_connect_to: the deferred connect's failover,
	 * or an application connecting the same socket again).
	 */
	s->flags = keep;
}

/* ---- sk_msg ---- */

static __always_inline void kmesh_key_from_msg(struct sk_msg_md *msg,
					       struct kmesh_sock_key *k)
{
	if (msg->family == KMESH_AF_INET) {
		kmesh_addr_set_v4(k->local, msg->local_ip4);
		kmesh_addr_set_v4(k->remote, msg->remote_ip4);
	} else {
		k->local[0] = KMESH_CTX_LOAD(msg, local_ip6[0]);
		k->local[1] = KMESH_CTX_LOAD(msg, local_ip6[1]);
		k->local[2] = KMESH_CTX_LOAD(msg, local_ip6[2]);
		k->local[3] = KMESH_CTX_LOAD(msg, local_ip6[3]);
		k->remote[0] = KMESH_CTX_LOAD(msg, remote_ip6[0]);
		k->remote[1] = KMESH_CTX_LOAD(msg, remote_ip6[1]);
		k->remote[2] = KMESH_CTX_LOAD(msg, remote_ip6[2]);
		k->remote[3] = KMESH_CTX_LOAD(msg, remote_ip6[3]);
	}
	k->local_port = msg->local_port;
	k->remote_port = kmesh_remote_port(msg->remote_port);
	kmesh_key_finish(k, bpf_get_netns_cookie(msg));
}

/*
 * One path per direction for the connection's whole life: decided on the
 * first message, so bytes sent through TCP can never be overtaken by bytes
 * redirected later.
 */
/* @s's path, decided on its first message (see below). */
static __always_inline void kmesh_redir_decide(struct sk_msg_md *msg,
					       struct kmesh_sk_state *s)
{
	struct kmesh_sock_key k;

	if (s->redir != KMESH_REDIR_UNDECIDED)
		return;
	kmesh_key_from_msg(msg, &k);
	kmesh_key_reverse(&k, &s->peer);
	s->redir = bpf_map_lookup_elem(&kmesh_local_socks, &s->peer) ?
		   KMESH_REDIR_YES : KMESH_REDIR_NO;
}

/* Do @msg's socket's messages go socket to socket, past TCP? */
static __always_inline bool kmesh_msg_redirects(struct sk_msg_md *msg)
{
	struct kmesh_sk_state *s;

	s = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	if (!s)
		return false;
	kmesh_redir_decide(msg, s);
	return s->redir == KMESH_REDIR_YES;
}

static __always_inline int kmesh_msg_verdict_n(struct sk_msg_md *msg,
					       __u32 size)
{
	struct kmesh_local_sock *peer;
	struct kmesh_sk_state *s;

	s = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	if (!s)
		return SK_PASS;
	kmesh_redir_decide(msg, s);
	if (s->redir != KMESH_REDIR_YES)
		return SK_PASS;
	/* Peer gone: let TCP deliver the error the application expects. */
	peer = bpf_map_lookup_elem(&kmesh_local_socks, &s->peer);
	if (!peer)
		return SK_PASS;
	__sync_fetch_and_add(&peer->rx_redir, size);
	s->tx_redir += size;
	kmesh_global_add(KMESH_L4_G_REDIRECT_MSGS, 1);
	kmesh_global_add(KMESH_L4_G_REDIRECT_BYTES, size);
	return bpf_msg_redirect_hash(msg, &kmesh_sockhash, &s->peer,
				     BPF_F_INGRESS);
}

/* The verdict for the whole message (@size: the bytes it covers, which
 * the L7 plane may cut short with bpf_msg_apply_bytes()). */
static __always_inline int kmesh_msg_verdict(struct sk_msg_md *msg)
{
	return kmesh_msg_verdict_n(msg, msg->size);
}

#endif /* KMESH_L4_SOCK_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Responses read on the client's side: the client role of the receive
 * path that inbound authorization built (inbound.h, inbound_skb.h).
 *
 * A meshed client's connection to an http service port is filed at its
 * ESTABLISHED in kmesh_inbound_socks as well, the sockhash that carries
 * the sk_skb stream parser and verdict, with its state here (by socket
 * cookie) instead of in kmesh_inbound_conns: the state map says the role.
 * The parser (resp_skb.h) reads each response head that arrives over TCP
 * and pairs it, in order, with the requests its own sk_msg recorded
 * (struct l7_conn, keyed by this socket's 4-tuple): status class, latency
 * and the access-log record, as the server's sk_msg does for a local
 * meshed server. The verdict always passes.
 *
 * Who reads which response:
 *  - a local meshed server: its sk_msg pairs the response and redirects
 *    it into this socket's receive queue, past the stream parser (so it
 *    is never read twice);
 *  - any other server (another node or netns, an unmeshed process on
 *    this node): the response arrives over TCP and the parser reads it.
 * tcp service ports, and every socket that is no meshed http client,
 * never enter the receive path for this.
 *
 * Maps: bpf/resp_maps.bpf.c defines them (KMESH_RESP_MAPS_DEFINE).
 */
#ifndef KMESH_RESP_H
#define KMESH_RESP_H

#include "inbound.h"

#ifdef KMESH_RESP_MAPS_DEFINE
#define KMESH_RESP_MAP(type, name)	struct type name SEC(".maps")
#else
#define KMESH_RESP_MAP(type, name)	extern struct type name SEC(".maps")
#endif

/* One client connection whose responses are read on receive. */
struct resp_conn {
	struct inbound_fr fr;		/* where the response stream stands */
	struct inbound_fr tmp;		/* the parser's run over the frame */
	struct kmesh_sock_key key;	/* this socket's: its l7_conn */
	__u32 seen;			/* final responses walked in this run */
	/* final responses of a held frame already counted: the next run
	 * walks the same bytes again and counts only those after them */
	__u32 counted;
};

struct kmesh_resp_conns_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMESH_INBOUND_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct resp_conn);
};
KMESH_RESP_MAP(kmesh_resp_conns_map, kmesh_resp_conns);

/* One zeroed struct resp_conn, never written: new entries copy it. */
struct kmesh_resp_zero_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct resp_conn);
};
KMESH_RESP_MAP(kmesh_resp_zero_map, kmesh_resp_zero);

#ifdef KMESH_L4_SOCK_H	/* the sockops side, included by l4_sock.h */

static __always_inline bool kmesh_resp_http(const struct kmesh_sk_state *s)
{
	struct kmesh_service_key key = {};
	struct kmesh_service *svc;
	struct kmesh_l4_cfg cfg;

	if (kmesh_l4_cfg_get(&cfg))
		return false;
	kmesh_addr_copy(key.addr, s->svc_addr);
	key.port = s->svc_port;
	key.protocol = KMESH_PROTO_TCP;
	svc = bpf_map_lookup_elem(cfg.services, &key);
	return svc && (svc->flags & KMESH_SVC_F_HTTP);
}

/*
 * Client side, at ESTABLISHED (@k: this socket's key): an http service
 * connection reads its responses on receive. Without state or a place
 * in the sockhash it stays out (its responses then go unseen, counted
 * as unknown): telemetry never holds a connection back.
 */
static __always_inline void kmesh_resp_on_active(struct bpf_sock_ops *ops,
						 struct kmesh_sk_state *s,
						 const struct kmesh_sock_key *k)
{
	struct resp_conn *rc, *z;
	__u64 cookie;
	__u32 zero = 0, idx;

	if (!kmesh_resp_http(s))
		return;
	cookie = bpf_get_socket_cookie(ops);
	z = bpf_map_lookup_elem(&kmesh_resp_zero, &zero);
	if (!z || bpf_map_update_elem(&kmesh_resp_conns, &cookie, z, BPF_ANY))
		goto fail;
	rc = bpf_map_lookup_elem(&kmesh_resp_conns, &cookie);
	if (!rc)
		goto fail;
	rc->key = *k;
	if (bpf_sock_hash_update(ops, &kmesh_inbound_socks, &cookie, BPF_ANY)) {
		bpf_map_delete_elem(&kmesh_resp_conns, &cookie);
		goto fail;
	}
	s->flags |= KMESH_SK_F_RESP_RX;
	idx = KMESH_L7_G_RX_CONNS;
	goto count;
fail:
	idx = KMESH_L7_G_RX_OPAQUE;
count:
	{
		__u64 *v = bpf_map_lookup_elem(&kmesh_l7_global, &idx);

		if (v)
			__sync_fetch_and_add(v, 1);
	}
}

/* TCP_CLOSE of any socket. */
static __always_inline void kmesh_resp_close(struct bpf_sock_ops *ops)
{
	__u64 cookie = bpf_get_socket_cookie(ops);

	bpf_map_delete_elem(&kmesh_resp_conns, &cookie);
}
#endif

#endif /* KMESH_RESP_H */

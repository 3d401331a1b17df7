/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Responses read on the client's side: the client role of the receive
 * path, in the door of the meshed cgroup (cgroup_skb/ingress,
 * inbound_skb.h), which sees every segment the client's TCP receives.
 *
 * A meshed client's connection to an http service port gets state here
 * (by socket cookie) at its ESTABLISHED. The reader (resp_skb.h) follows
 * the bytes the connection receives, in sequence order, reads each
 * response head and pairs it, in order, with the requests its own sk_msg
 * recorded (struct l7_conn, keyed by this socket's 4-tuple): status
 * class, latency, the access-log record and the endpoint's outlier
 * detection, as the server's sk_msg does for a local meshed server. It
 * only reads: a segment passes the door as it came, whatever the reader
 * makes of it, so telemetry can never hold a connection back.
 *
 * Who reads which response:
 *  - whatever arrives over TCP, from any server (another node or netns,
 *    a meshed or unmeshed process on this node): the reader;
 *  - a local meshed server whose sk_msg redirects its responses into
 *    this socket's receive queue, past TCP: that sk_msg (it marks the
 *    client's l7_conn server_pairs, and the reader stays away).
 * l7_conn.client_reads tells the server's sk_msg which it is.
 * tcp service ports, and every socket that is no meshed http client,
 * never enter the receive path for this.
 *
 * Maps: bpf/resp_maps.bpf.c defines them (KMESH_RESP_MAPS_DEFINE).
 */
#ifndef KMESH_RESP_H
#define KMESH_RESP_H

#include "inbound.h"
#include "l7_maps.h"

#ifdef KMESH_RESP_MAPS_DEFINE
#define KMESH_RESP_MAP(type, name)	struct type name SEC(".maps")
#else
#define KMESH_RESP_MAP(type, name)	extern struct type name SEC(".maps")
#endif

/* One client connection whose responses are read on receive. */
struct resp_conn {
	struct inbound_fr fr;		/* where the response stream stands */
	struct kmesh_sock_key key;	/* this socket's: its l7_conn */
	__u64 cookie;			/* this socket's: its stash */
	__u32 rx_next;			/* TCP sequence of the next byte to read */
	__u8 stashed;			/* a head's start is in kmesh_resp_stash */
	__u8 server_pairs;		/* l7_conn.server_pairs: not read here */
	__u8 pad[2];
};

struct kmesh_resp_conns_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMESH_INBOUND_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct resp_conn);
};
KMESH_RESP_MAP(kmesh_resp_conns_map, kmesh_resp_conns);

/*
 * The start of a response head that a segment ended inside, by socket
 * cookie, kept until the segments after it complete the head (the
 * reader cannot hold a segment back, so it keeps a copy). A struct
 * l7_scratch, so the parser runs on it in place: sc->len bytes of
 * sc->buf. Only heads split over segments take an entry; when the map
 * is full the connection is read no further (KMESH_L7_G_RX_OPAQUE).
 */
#define KMESH_RESP_MAX_STASHED	1024

struct kmesh_resp_stash_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_RESP_MAX_STASHED);
	__type(key, __u64);
	__type(value, struct l7_scratch);
};
KMESH_RESP_MAP(kmesh_resp_stash_map, kmesh_resp_stash);

/* One zeroed struct resp_conn, never written: new entries copy it. */
struct kmesh_resp_zero_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct resp_conn);
};
KMESH_RESP_MAP(kmesh_resp_zero_map, kmesh_resp_zero);

/* Is the service port @s dialed an http port (in the live config)? */
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

#ifdef KMESH_L4_SOCK_H	/* the sockops side, included by l4_sock.h */

/*
 * Client side, at ESTABLISHED (@k: this socket's key) of an http service
 * connection (kmesh_resp_http): it reads its responses on receive, from the first byte the
 * server sends (rcv_nxt now). Without state it is not read (its
 * responses then go unseen, counted as unknown).
 */
static __always_inline void kmesh_resp_on_active(struct bpf_sock_ops *ops,
						 struct kmesh_sk_state *s,
						 const struct kmesh_sock_key *k)
{
	struct resp_conn *rc, *z;
	struct l7_conn *c;
	__u64 cookie;
	__u32 zero = 0, idx;

	cookie = bpf_get_socket_cookie(ops);
	z = bpf_map_lookup_elem(&kmesh_resp_zero, &zero);
	if (!z || bpf_map_update_elem(&kmesh_resp_conns, &cookie, z, BPF_ANY))
		goto fail;
	rc = bpf_map_lookup_elem(&kmesh_resp_conns, &cookie);
	if (!rc)
		goto fail;
	rc->key = *k;
	rc->cookie = cookie;
	rc->rx_next = ops->rcv_nxt;
	s->flags |= KMESH_SK_F_RESP_RX;
	/* a deferred connect's first request was recorded before this */
	c = bpf_map_lookup_elem(&kmesh_l7_conns, k);
	if (c)
		c->client_reads = 1;
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

	if (!bpf_map_delete_elem(&kmesh_resp_conns, &cookie))
		bpf_map_delete_elem(&kmesh_resp_stash, &cookie);
}
#endif

#endif /* KMESH_RESP_H */

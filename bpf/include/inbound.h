/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inbound authorization: the destination's check (issue 18).
 *
 * sockops files every connection accepted in the meshed cgroup whose
 * local address:port is a protected workload (kmesh_inbound_ws of the
 * live generation) in kmesh_inbound_socks, a sockhash keyed by socket
 * cookie that carries an sk_skb stream parser and verdict
 * (inbound_skb.h): each request head is checked on receive, before the
 * application can read it.
 *
 * One exception: a connection from a local meshed client to an http
 * service port (kmesh_inbound_clients, noted at the client's
 * ESTABLISHED). That client's sk_msg checks every request with the same
 * maps and generation already, and its data may be redirected socket to
 * socket, past any receive hook; checking again would count twice.
 * Every other client (dialing the endpoint address, unmeshed, another
 * netns or node, a tcp service port) reaches the receive check: such
 * connections are never filed in kmesh_local_socks, so no sk_msg
 * redirects into them.
 *
 * Maps: bpf/inbound_maps.bpf.c defines them (KMESH_INBOUND_MAPS_DEFINE).
 */
#ifndef KMESH_INBOUND_H
#define KMESH_INBOUND_H

#include "l4_common.h"
#include "kmesh_maps.h"

#ifdef KMESH_INBOUND_MAPS_DEFINE
#define KMESH_IN_MAP(type, name)	struct type name SEC(".maps")
#else
#define KMESH_IN_MAP(type, name)	extern struct type name SEC(".maps")
#endif

struct kmesh_inbound_ws_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_INBOUND_MAX_WORKLOADS);
	__uint(key_size, sizeof(struct kmesh_inbound_key));
	__uint(value_size, sizeof(struct kmesh_inbound_workload));
};

/* Workloads of each generation slot (filled by the L7 apply). */
struct kmesh_inbound_ws_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_inbound_ws_inner);
};
KMESH_IN_MAP(kmesh_inbound_ws_map, kmesh_inbound_ws);

/* Checked connections, by socket cookie: the sk_skb programs attach here. */
struct kmesh_inbound_socks_map {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, KMESH_INBOUND_MAX_CONNS);
	__type(key, __u64);
	__type(value, __u64);
};
KMESH_IN_MAP(kmesh_inbound_socks_map, kmesh_inbound_socks);

/* Framing of the request stream (committed at each frame's end). */
struct inbound_fr {
	__u64 body_left;		/* Content-Length bytes still to come */
	struct kmesh_chunk_state chunk;	/* chunked body in progress */
	__u8 chunked;
	__u8 opaque;			/* passed unchecked from here on */
	__u8 pad[6];
};

/* One checked connection (sk_skb programs have no socket storage). */
struct inbound_conn {
	struct inbound_fr fr;		/* where the stream stands */
	struct inbound_fr tmp;		/* the parser's run over the frame */
	__u32 local[4];			/* the workload */
	__u32 remote[4];		/* the client */
	__u16 local_port;
	__u16 remote_port;
	__u8 dead;			/* refused: everything after is dropped */
	__u8 refuse;			/* the frame just framed is refused */
	__u8 reason;			/* enum kmesh_l7_reason of the refusal */
	__u8 method;
	__u16 status;			/* 403, 400, 431 */
	__u16 allowed;			/* requests allowed in the frame */
	__u32 service_id;		/* the refusing service */
	__u32 policy_id;
	__u32 nr;			/* services the workload had at the head */
	__u32 sids[KMESH_INBOUND_MAX_SERVICES];
	__u8 path_len;
	__u8 accepted;			/* the application has accepted it */
	__u8 early;			/* enum inbound_early: the door, before accept() */
	__u8 pad[5];
	__u32 early_next;		/* sequence of the next byte the door may pass */
	__u32 pad2;
	__u64 early_body;		/* body bytes after what the door passed */
	char path[KMESH_L7_LOG_PATH];
};

/* What the door did with data before accept() (inbound_skb.h). */
enum inbound_early {
	IN_EARLY_NONE = 0,		/* none arrived yet */
	IN_EARLY_PASSING,		/* all so far checked and passed */
	IN_EARLY_DROPPING,		/* dropped from here until accept() */
};

struct kmesh_inbound_conns_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMESH_INBOUND_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct inbound_conn);
};
KMESH_IN_MAP(kmesh_inbound_conns_map, kmesh_inbound_conns);

/* One zeroed struct inbound_conn, never written: new entries copy it. */
struct kmesh_inbound_zero_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inbound_conn);
};
KMESH_IN_MAP(kmesh_inbound_zero_map, kmesh_inbound_zero);

/*
 * The door's check of data before accept(), per CPU: a connection of its
 * own, since the stream parser may run on the real one as soon as
 * accept() returns.
 */
struct kmesh_inbound_door_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inbound_conn);
};
KMESH_IN_MAP(kmesh_inbound_door_map, kmesh_inbound_door);

/*
 * Workloads (address:port) whose last accepted socket was non-blocking:
 * an event-driven server, which takes EAGAIN for "not yet" (the door
 * learns it after accept() and uses it for data before the next one).
 */
struct kmesh_inbound_nonblock_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KMESH_INBOUND_MAX_WORKLOADS);
	__type(key, struct kmesh_inbound_key);
	__type(value, __u8);
};
KMESH_IN_MAP(kmesh_inbound_nonblock_map, kmesh_inbound_nonblock);

/* Local meshed clients of http service ports, by their own 4-tuple. */
struct kmesh_inbound_clients_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KMESH_INBOUND_MAX_CLIENTS);
	__type(key, struct kmesh_sock_key);
	__type(value, struct kmesh_inbound_client);
};
KMESH_IN_MAP(kmesh_inbound_clients_map, kmesh_inbound_clients);

struct kmesh_inbound_global_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KMESH_IN_G_MAX);
	__type(key, __u32);
	__type(value, __u64);
};
KMESH_IN_MAP(kmesh_inbound_global_map, kmesh_inbound_global);

struct kmesh_inbound_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kmesh_inbound_stats);
};
KMESH_IN_MAP(kmesh_inbound_stats_map, kmesh_inbound_stats);

static __always_inline void inbound_global(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&kmesh_inbound_global, &idx);

	if (v)
		*v += n;	/* per CPU */
}

/* The workload entry of local address @addr:@port in the live slot. */
static __always_inline const struct kmesh_inbound_workload *
inbound_workload(const __u32 *addr, __u16 port)
{
	struct kmesh_inbound_key key = {};
	struct kmesh_l4_generation *gen;
	__u32 zero = 0, slot;
	void *inner;

	gen = bpf_map_lookup_elem(&kmesh_generation, &zero);
	if (!gen)
		return NULL;
	slot = KMESH_READ_ONCE(gen->slot);
	inner = bpf_map_lookup_elem(&kmesh_inbound_ws, &slot);
	if (!inner)
		return NULL;
	kmesh_addr_copy(key.addr, addr);
	key.port = port;
	return bpf_map_lookup_elem(inner, &key);
}

/*
 * Client side, at ESTABLISHED: note an http service connection, so that
 * the server end (if it is on this node) knows its requests are checked
 * by this socket's sk_msg.
 */
static __always_inline void kmesh_inbound_note_client(const struct kmesh_sk_state *s,
						      const struct kmesh_sock_key *k)
{
	struct kmesh_service_key key = {};
	struct kmesh_inbound_client c = {};
	struct kmesh_service *svc;
	struct kmesh_l4_cfg cfg;

	if (kmesh_l4_cfg_get(&cfg))
		return;
	kmesh_addr_copy(key.addr, s->svc_addr);
	key.port = s->svc_port;
	key.protocol = KMESH_PROTO_TCP;
	svc = bpf_map_lookup_elem(cfg.services, &key);
	if (!svc || !(svc->flags & KMESH_SVC_F_HTTP))
		return;
	c.service_id = s->service_id;
	c.svc_port = s->svc_port;
	c.http = 1;
	bpf_map_update_elem(&kmesh_inbound_clients, k, &c, BPF_ANY);
}

/*
 * Server side, at PASSIVE_ESTABLISHED (@k: this socket, @peer: the
 * client's key). Returns true when the connection is checked on receive
 * (then no local sk_msg may redirect into it).
 */
static __always_inline bool kmesh_inbound_on_passive(struct bpf_sock_ops *ops,
						     const struct kmesh_sock_key *k,
						     const struct kmesh_sock_key *peer)
{
	const struct kmesh_inbound_workload *w;
	const struct kmesh_inbound_client *c;
	struct inbound_conn *st, *z;
	__u32 zero = 0, i;
	bool http = false;
	__u64 cookie;

	w = inbound_workload(k->local, k->local_port);
	if (!w || !w->nr)
		return false;
	/* reached through tcp ports only: the door was the whole check */
	for (i = 0; i < KMESH_INBOUND_MAX_SERVICES; i++)
		if (i < w->nr && !(w->l4[i] & KMESH_IN_L4_TCP))
			http = true;
	if (!http)
		return false;
	/* the client's socket is alive: its entry is not a left-over */
	c = bpf_map_lookup_elem(&kmesh_inbound_clients, peer);
	if (c && c->http && bpf_map_lookup_elem(&kmesh_local_socks, peer)) {
		inbound_global(KMESH_IN_G_SOURCE, 1);
		return false;
	}
	cookie = bpf_get_socket_cookie(ops);
	/* a zeroed value from a map: the struct is too big for the stack */
	z = bpf_map_lookup_elem(&kmesh_inbound_zero, &zero);
	if (!z || bpf_map_update_elem(&kmesh_inbound_conns, &cookie, z, BPF_ANY) ||
	    !(st = bpf_map_lookup_elem(&kmesh_inbound_conns, &cookie))) {
		/* without state the verdict drops everything (fail closed) */
		inbound_global(KMESH_IN_G_NO_STATE, 1);
	} else {
		kmesh_addr_copy(st->local, k->local);
		kmesh_addr_copy(st->remote, k->remote);
		st->local_port = k->local_port;
		st->remote_port = k->remote_port;
	}
	if (bpf_sock_hash_update(ops, &kmesh_inbound_socks, &cookie, BPF_ANY)) {
		inbound_global(KMESH_IN_G_INTERNAL, 1);
		bpf_map_delete_elem(&kmesh_inbound_conns, &cookie);
		return false;
	}
	bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags |
				  BPF_SOCK_OPS_STATE_CB_FLAG);
	inbound_global(KMESH_IN_G_CONNS, 1);
	return true;
}

#ifdef KMESH_L4_SOCK_H	/* the sockops side, included by l4_sock.h */
static __always_inline void kmesh_key_from_ops(struct bpf_sock_ops *ops,
					       struct kmesh_sock_key *k);

/* TCP_CLOSE of any socket: forget what inbound kept for it. */
static __always_inline void kmesh_inbound_close(struct bpf_sock_ops *ops)
{
	struct kmesh_sock_key k;
	__u64 cookie = bpf_get_socket_cookie(ops);

	bpf_map_delete_elem(&kmesh_inbound_conns, &cookie);
	kmesh_key_from_ops(ops, &k);
	bpf_map_delete_elem(&kmesh_inbound_clients, &k);
}
#endif

#endif /* KMESH_INBOUND_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of the L7 per-request plane. bpf/l7_maps.bpf.c defines them
 * (KMESH_L7_MAPS_DEFINE); the sk_msg programs (fallback in the L4 object,
 * kfunc variant in its own object that reuses the pinned maps) and L4's
 * close path see extern declarations. Pinned under maps/ with the L4 ones.
 */
#ifndef KMESH_L7_MAPS_H
#define KMESH_L7_MAPS_H

#include "kmesh_bpf.h"

#ifdef KMESH_L7_MAPS_DEFINE
#define KMESH_L7_MAP(type, name)	struct type name SEC(".maps")
#else
#define KMESH_L7_MAP(type, name)	extern struct type name SEC(".maps")
#endif

/* ---- config, one inner map per generation slot (like L4) ---- */

struct kmesh_l7_policy_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_SERVICES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct kmesh_l7_policy));
};

struct kmesh_l7_cidrs_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L7_MAX_CIDRS);
	__uint(key_size, sizeof(struct kmesh_l7_cidr_key));
	__uint(value_size, sizeof(__u64));
};

struct kmesh_l7_policy_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_l7_policy_inner);
};
KMESH_L7_MAP(kmesh_l7_policy_map, kmesh_l7_policy);

struct kmesh_l7_cidrs_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, KMESH_L4_SLOTS);
	__type(key, __u32);
	__array(values, struct kmesh_l7_cidrs_inner);
};
KMESH_L7_MAP(kmesh_l7_cidrs_map, kmesh_l7_cidrs);

/* ---- per connection ---- */

/* Framing of one direction of one socket (requests or responses). */
enum l7_role {
	L7_ROLE_UNDECIDED	= 0,	/* decided on the socket's first message */
	L7_ROLE_OFF		= 1,	/* not HTTP, or tracking gave up: L4 only */
	L7_ROLE_CLIENT		= 2,	/* requests of an http service port */
	L7_ROLE_SERVER		= 3,	/* responses to an L7 client (local) */
	L7_ROLE_H2		= 4,	/* an HTTP/2 client, kfunc mode (l7_h2.h) */
};

struct kmesh_l7_sk {
	__u8 role;		/* enum l7_role */
	__u8 dead;		/* client: refused once, sends nothing more */
	__u8 chunked;		/* in a chunked body (chunk holds the state) */
	__u8 tracked;		/* client: a conn entry pairs responses */
	__u32 service_id;
	__u32 passed;		/* client: requests passed to the server */
	__u16 svc_port;
	__u8 corked;		/* the program asked to hold this message */
	__u8 pad;
	__u64 body_left;	/* Content-Length bytes still to pass */
	struct kmesh_chunk_state chunk;
	struct kmesh_sock_key key;	/* this socket's own 4-tuple key */
	struct kmesh_sock_key peer;	/* and its peer's */
};

struct kmesh_l7_sk_map {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kmesh_l7_sk);
};
KMESH_L7_MAP(kmesh_l7_sk_map, kmesh_l7_sk);

/* A request passed to a local server, waiting for its response. */
struct l7_pending {
	__u64 start_ns;
	__u32 route_id;
	__u8 method;
	__u8 path_len;
	__u16 pad;
	char path[KMESH_L7_LOG_PATH];
};

/*
 * Both ends of a tracked connection (client's socket key): the client's
 * sk_msg appends requests, the server's sk_msg takes them off as their
 * responses go out. Single producer, single consumer: only the client
 * moves tail, only the server moves head. Deleted when the client closes.
 */
struct l7_conn {
	__u32 head;
	__u32 tail;
	__u8 opaque;		/* server switched protocols (101): pass all */
	__u8 broken;		/* a request went unrecorded: pairing is off */
	/* who pairs the responses: the client's receive path (resp_skb.h)
	 * reads whatever arrives over TCP; a meshed server on this node
	 * pairs in its sk_msg only what it redirects past TCP */
	__u8 client_reads;
	__u8 server_pairs;
	__u32 service_id;
	__u32 src_addr[4];
	__u32 svc_addr[4];
	__u16 src_port;
	__u16 svc_port;
	__u32 cluster_id;
	__u32 endpoint_id;
	__u32 pad2;
	struct l7_pending fifo[KMESH_L7_FIFO];
};

struct kmesh_l7_conns_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L4_MAX_LOCAL_SOCKS);
	__type(key, struct kmesh_sock_key);
	__type(value, struct l7_conn);
};
KMESH_L7_MAP(kmesh_l7_conns_map, kmesh_l7_conns);

/* Zeroes to create entries from (stack space is short): never written. */
struct l7_zero {
	union {
		struct l7_conn conn;
		struct kmesh_l7_stats stats;
	};
};

struct kmesh_l7_zero_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct l7_zero);
};
KMESH_L7_MAP(kmesh_l7_zero_map, kmesh_l7_zero);

/*
 * @x & @mask as the verifier sees it: the barrier hides what clang knows
 * about @x, so the AND is really emitted (older verifiers do not keep the
 * bounds clang relied on to drop it).
 */
#define L7_BOUND(x, mask) ({						\
	__u32 __b = (x);						\
									\
	asm volatile("" : "+r"(__b));					\
	__b & (mask);							\
})

/* Zero @words 8-byte words at @p (clang will not inline big memsets). */
#define L7_ZERO(p, bytes) do {						\
	__u64 *__w = (__u64 *)(p);					\
	__u32 __i;							\
									\
	_Static_assert((bytes) % 8 == 0, "whole words");		\
	for (__i = 0; __i < (bytes) / 8; __i++)				\
		__w[__i] = 0;						\
} while (0)

/* ---- per-CPU scratch: a request head and what is derived from it ---- */

#define L7_BUF_SIZE	(2 * KMESH_L7_MAX_HEAD)	/* power of two: indexes mask */
#define L7_BUF_MASK	(L7_BUF_SIZE - 1)
#define L7_ROOT_OFF	KMESH_L7_MAX_HEAD	/* a '/' for absolute-form "http://h" */
#define L7_RESP_OFF	(KMESH_L7_MAX_HEAD + 64)	/* a local reply is built here */
#define L7_WIN_OFF	(KMESH_L7_MAX_HEAD + 4096)	/* chunk-size windows */

/* Fallback parser state (bpf/include/l7_http.h). */
struct l7_pstate {
	__u8 st;
	__u8 resp;		/* parsing a response head */
	__u8 known;		/* candidates among host, content-length, transfer-encoding */
	__u8 hkind;		/* the current header's known kind */
	__u8 sub;		/* host / CL / TE value sub-state */
	__u8 pct;		/* target: hex digits still due after '%' */
	__u8 te_match;		/* TE: bytes of "chunked" matched in this token */
	__u8 te_chunked;	/* TE: the token just ended was "chunked" */
	__u16 line;		/* start of the current line */
	__u16 tok;		/* start of the current token */
	__u16 vstart;		/* header value: first byte after OWS */
	__u16 vend;		/* header value: after the last non-OWS byte */
	__u16 qmark;		/* target: offset of '?', 0: none yet */
	__u16 status;		/* response status code */
	/* Host: an IPv6 literal, checked as the core's valid_ipv6() */
	__u8 v6;		/* sub-state */
	__u8 v6_groups;
	__u8 v6_digits;		/* hex digits of the current group */
	__u8 v6_gap;		/* "::" seen */
	__u8 v6_octets;		/* embedded IPv4: octets done */
	__u8 v6_nondec;		/* the current group has a hex letter */
	__u16 v6_dec;		/* its decimal value, for an IPv4 octet */
	__u8 v6_first;		/* its first digit */
	__u8 pct_hi;		/* target: value of the first hex digit */
	__u16 seg;		/* path: offset of the last '/' */
	__u32 port;
	__u64 word;		/* method bytes */
	__u64 cl;
	__u8 unsupported;	/* refused a form only the core parses */
	__u8 perr;		/* a syntax error due when its line ends */
	__u16 perr_off;		/* ... and where it is */
	__u16 trail;		/* Content-Length: first trailing OWS */
	__u8 rl_err;		/* perr is in the request-target */
	__u8 escaped_slashes;	/* KMESH_L7_PARSE_ESCAPED_SLASHES was asked for */
	__u32 pos;		/* the next byte to parse (l7_parse_step()) */
};

/* What conditions look at, derived from a parsed head. */
struct l7_view {
	__u32 path_off;		/* in buf */
	__u32 path_len;
	__u32 query_off;
	__u32 query_len;
	__u8 has_path;
	__u8 has_query;
	__u8 method;
	__u8 host_len;
	__u16 port;		/* service port the client dialed */
	__u8 nr_segs;		/* path segments indexed */
	__u8 segs_more;		/* the path has more than KMESH_L7_PATH_SEGS */
	__u16 seg_off[KMESH_L7_PATH_SEGS + 1];
	__u16 seg_len[KMESH_L7_PATH_SEGS + 1];
	__u8 nr_params;
	__u8 params_more;
	__u8 host_long;		/* over KMESH_L7_MAX_HOST: host items undecidable */
	__u8 pad;
	__u16 param_off[KMESH_L7_QUERY_PARAMS];
	__u16 param_len[KMESH_L7_QUERY_PARAMS];	/* whole "name[=value]" */
	__u16 param_name[KMESH_L7_QUERY_PARAMS];	/* bytes before '=' */
	__u64 src_sets;
	__u64 dst_sets;
	__u8 hdr_seen[KMESH_L7_MAX_HDRS];
	__u16 hdr_len[KMESH_L7_MAX_HDRS];	/* joined length, may exceed kept */
	__u8 hdr_val[KMESH_L7_MAX_HDRS][KMESH_L7_HDR_VALUE];
	__u8 host[KMESH_L7_MAX_HOST + 1];
};

/* A request's fate (bpf/include/l7_eval.h). */
struct l7_decision {
	__u8 reason;		/* enum kmesh_l7_reason */
	__u8 route_known;	/* route_id is the request's route */
	__u16 status;		/* local reply status */
	__u32 route_id;
	__u32 policy_id;
	/* the reply: in pol->strings, or built in (pol_reply false) */
	__u16 resp_off;
	__u16 resp_head;
	__u16 resp_len;
	__u8 pol_reply;
	__u8 pad;
	__u32 retry_after;	/* 429: seconds until the bucket has a token */
	/* the route's own request limit, copied from the policy (here, not
	 * on the stack: the request path's call chain is at 512 bytes) */
	struct kmesh_ratelimit route_limit;
};

struct l7_scratch {
	__u32 busy;
	__u32 len;		/* head bytes copied into buf */
	__u64 hits;		/* conditions with a matching item */
	__u8 undecidable;	/* an item could not be evaluated */
	__u8 pad[3];
	__u32 wused;		/* chunk scanner: window bytes consumed */
	__u32 found;		/* route search: index + 1 */
	__u64 conds;		/* conditions that hold */
	__u64 blocks;		/* blocks that hold */
	__u64 rules;		/* rules that hold */
	/* fallback routing around conditions it cannot evaluate */
	__u64 undec_conds;	/* route conditions with an undecidable item */
	__u64 maybe_blocks;	/* blocks that hold if those do */
	__u64 maybe_rules;	/* rules that hold only if those do */
	__u32 deny_id;		/* first DENY rule's policy */
	__u8 deny_hit;
	__u8 allow_hit;
	__u8 cmp_ne;		/* l7_eq: a byte differed */
	__u8 pad2;
	__u32 cmp_a;		/* l7_eq: scratch offset of the request bytes */
	__u32 cmp_b;		/* l7_eq: policy strings offset */
	struct kmesh_http_req req;
	struct l7_pstate ps;
	struct l7_view view;
	/* per request, here to keep the verifier's stack budget */
	struct l7_decision d;
	struct kmesh_route_query q;
	__u8 buf[L7_BUF_SIZE];
};

struct kmesh_l7_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct l7_scratch);
};
KMESH_L7_MAP(kmesh_l7_scratch_map, kmesh_l7_scratch);

/* ---- telemetry ---- */

struct kmesh_l7_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KMESH_L7_MAX_STATS);
	__type(key, struct kmesh_l7_stats_key);
	__type(value, struct kmesh_l7_stats);
};
KMESH_L7_MAP(kmesh_l7_stats_map, kmesh_l7_stats);

struct kmesh_l7_global_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KMESH_L7_G_MAX);
	__type(key, __u32);
	__type(value, __u64);
};
KMESH_L7_MAP(kmesh_l7_global_map, kmesh_l7_global);

struct kmesh_l7_log_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KMESH_L7_LOG_BYTES);
};
KMESH_L7_MAP(kmesh_l7_log_map, kmesh_l7_log);

/* Userspace only: names of routes and policies. */
struct kmesh_l7_names_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMESH_L7_MAX_NAMES);
	__type(key, struct kmesh_l7_name_key);
	__type(value, struct kmesh_l7_name);
};
KMESH_L7_MAP(kmesh_l7_names_map, kmesh_l7_names);

/* Count a node-wide event (enum kmesh_l7_global). */
static __always_inline void l7_global(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&kmesh_l7_global, &idx);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/* A zeroed, timestamped request record, or NULL (counted) if the ring is full. */
static __always_inline struct kmesh_l7_log *l7_log_new(void)
{
	struct kmesh_l7_log *r;

	r = bpf_ringbuf_reserve(&kmesh_l7_log, sizeof(*r), 0);
	if (!r) {
		l7_global(KMESH_L7_G_LOG_DROPPED);
		return NULL;
	}
	L7_ZERO(r, sizeof(*r));
	r->timestamp_ns = bpf_ktime_get_ns();
	return r;
}

/* The counters of (service, route, method), created on first use. */
static __always_inline struct kmesh_l7_stats *
l7_stats(__u32 service_id, __u32 route_id, __u8 method)
{
	struct kmesh_l7_stats_key key = {
		.service_id = service_id,
		.route_id = route_id,
		.method = method,
	};
	struct kmesh_l7_stats *s;
	struct l7_zero *z;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&kmesh_l7_stats, &key);
	if (s)
		return s;
	z = bpf_map_lookup_elem(&kmesh_l7_zero, &zero);
	if (!z)
		return NULL;
	bpf_map_update_elem(&kmesh_l7_stats, &key, &z->stats, BPF_NOEXIST);
	return bpf_map_lookup_elem(&kmesh_l7_stats, &key);
}

#endif /* KMESH_L7_MAPS_H */

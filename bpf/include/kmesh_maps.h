/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kmesh map interface: the boundary between the eBPF programs and
 * userspace. Keys, values and records of every map the data plane pins
 * (config generations, counters, socket state, access logs, compiled L7
 * policies) and the limits that size them. The module never reads these.
 *
 * Included by BPF programs (bpf/include/kmesh_bpf.h, after vmlinux.h) and
 * by userspace (userspace/lib/l4_*, l7_*, kmeshctl, selftests: C11).
 * Layouts use fixed-width types only, naturally aligned, no pointers.
 */
#ifndef KMESH_MAPS_H
#define KMESH_MAPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/*
 * Version of the map interface, bumped whenever a key, value or record
 * below changes incompatibly; selftests/unit/abi_layout.txt records their
 * layouts under it (the unit test test_abi checks). A kmeshctl binary embeds
 * the BPF objects it loads, so both sides of one binary agree; what can
 * disagree is the pinned state another kmeshctl left behind (an upgrade,
 * systemctl restart). Every apply records the version in
 * kmesh_l4_generation.maps_abi, and kmeshctl refuses to adopt or update
 * pinned state of another version (kmeshctl down, then up).
 *  1: first release.
 *  2: struct kmesh_l7_policy and struct kmesh_l7_log changed;
 *     kmesh_l4_generation.maps_abi.
 *  3: kmesh_cluster.connect_timeout_ms (was reserved), read by the connect
 *     programs.
 *  4: passive outlier detection (kmesh_cluster.outlier, the kmesh_outlier
 *     map, kmesh_cluster_state.ejected, .recount_ns and
 *     .recount_generation, three counters at the end of kmesh_l4_stats,
 *     KMESH_LOG_F_EJECTED); rate limits (kmesh_service.rate_limit,
 *     kmesh_l4_stats.refused_rate_limited, the rate-limit bucket and
 *     counter maps, KMESH_L7_R_RATE_LIMITED, struct
 *     l7_decision.retry_after (scratch)); connect failover
 *     (KMESH_SK_F_CONNECT_FAILED, KMESH_SK_F_FAILOVER,
 *     kmesh_sk_state.connect_timeout_ms (was reserved),
 *     kmesh_l4_stats.failovers, KMESH_LOG_F_FAILOVER,
 *     KMESH_LOG_F_CONNECT_TIMEOUT).
 *  5: responses read on the client's receive path: struct
 *     kmesh_l7_stats.unparsed, KMESH_SK_F_RESP_RX; 5xx outlier reports.
 *     Per-route request limits (kmesh_l7_policy.route_limits,
 *     .nr_route_limits (was pad), KMESH_RL_ROUTE_REQUESTS,
 *     KMESH_RL_F_REPLACES_SERVICE, kmesh_rl_key.route_id,
 *     kmesh_rl_stats_key.route_id; struct l7_decision.route_limit
 *     (scratch)).
 *  6: HTTP/2 where kmesh reads no HTTP/2 (l7_h2_detect.h):
 *     kmesh_l7_stats.h2_l4, .h2_refused; KMESH_L7_G_H2_L4,
 *     KMESH_L7_G_H2_REFUSED; KMESH_L7_LOG_F_H2.
 */
#define KMESH_MAPS_ABI_VERSION	6

/* ---- L4 data plane (bpf/include/l4_*.h, userspace/lib/l4_*.c) ---- */

/*
 * Addresses are 16 bytes in network byte order everywhere: IPv6 as is,
 * IPv4 as v4-mapped (::ffff:a.b.c.d), so one key type serves both families.
 * Ports are in host byte order in every struct below.
 */
#define KMESH_NAME_MAX			64	/* service/cluster name, NUL included */
#define KMESH_L4_MAX_SERVICES		1024	/* service ids */
#define KMESH_L4_MAX_VIPS		4096	/* VIP:port entries per generation */
#define KMESH_L4_MAX_CLUSTERS		1024	/* cluster ids */
#define KMESH_L4_MAX_ENDPOINTS		8192	/* endpoint ids, and per generation */
#define KMESH_L4_MAX_CLUSTER_ENDPOINTS	256	/* endpoints in one cluster */
#define KMESH_L4_MAX_MAGLEV_CLUSTERS	256	/* maglev clusters per generation */
/*
 * Prime, about 64 slots per endpoint at the cluster maximum: keeps maglev's
 * imbalance small while one table stays 32 KiB.
 */
#define KMESH_L4_MAGLEV_SIZE		16381
#define KMESH_L4_MAX_WEIGHT		65535
#define KMESH_L4_MAX_LOCAL_SOCKS	65536	/* sockets in the sockhash */
#define KMESH_L4_LOG_BYTES		(256 * 1024)	/* access-log ring buffer */
#define KMESH_L4_SLOTS			2	/* generation slots */

#define KMESH_PROTO_TCP			6	/* IPPROTO_TCP */

/* Load-balancing policies (kmesh_cluster.lb). */
enum kmesh_lb {
	KMESH_LB_RANDOM		= 0,	/* uniform over healthy endpoints */
	KMESH_LB_WEIGHTED	= 1,	/* random, proportional to weight */
	KMESH_LB_ROUND_ROBIN	= 2,	/* strict rotation, weights ignored */
	KMESH_LB_MAGLEV		= 3,	/* consistent hash of the source (weighted) */
};

/* kmesh_cluster.flags */
#define KMESH_CLUSTER_F_HASH_SRC_PORT	(1U << 0)	/* maglev key adds the source port */
#define KMESH_CLUSTER_F_OUTLIER		(1U << 1)	/* kmesh_cluster.outlier applies */

enum kmesh_ep_state {
	KMESH_EP_HEALTHY	= 0,
	KMESH_EP_DRAINING	= 1,	/* no new connections, existing ones continue */
};

/* kmesh_service.flags */
#define KMESH_SVC_F_HTTP	(1U << 0)	/* port declared http: L7 may take over */
/* path_normalization: escaped_slashes_literal (KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES) */
#define KMESH_SVC_F_PATH_ESCAPED_SLASHES	(1U << 1)

/*
 * Config generations: every config map below is an ARRAY_OF_MAPS with
 * KMESH_L4_SLOTS slots; this one-element array says which slot is live.
 * Userspace fills the other slot, then rewrites this value; BPF reads it
 * once per program run. generation 0 means no config was ever applied.
 */
struct kmesh_l4_generation {
	__u64 generation;
	__u32 slot;		/* 0 .. KMESH_L4_SLOTS - 1 */
	__u32 maps_abi;		/* KMESH_MAPS_ABI_VERSION of its writer, 0: 1 */
};

/* services: VIP:port -> service. */
struct kmesh_service_key {
	__u32 addr[4];
	__u16 port;
	__u8 protocol;		/* KMESH_PROTO_TCP */
	__u8 pad;
};

/*
 * Local rate limit of one service port: a token bucket of @burst tokens
 * refilled with one token every @interval_ns. On a tcp port a token is a
 * connect, on an http port a request. Kept as GCRA (the "virtual
 * scheduling" form of a token bucket): one timestamp per bucket, the
 * theoretical arrival time (TAT) of the next conforming event, moved by
 * compare-and-swap; no lock, no per-refill work. A bucket is shared by
 * every address and port of the service of the same kind (tcp, http),
 * or one per client address with KMESH_RL_F_PER_SOURCE.
 */
#define KMESH_RL_F_PER_SOURCE	(1U << 0)	/* one bucket per source address */
/* a route's limit only: the service's request limit does not apply to
 * the route's requests (Envoy's per-route config replacing the
 * listener's); with interval_ns 0 the route is exempt from it */
#define KMESH_RL_F_REPLACES_SERVICE	(1U << 1)
#define KMESH_RL_MAX_INTERVAL_NS	(3600ULL * 1000000000ULL)	/* 1 token/hour */
#define KMESH_RL_MAX_BURST	65535	/* interval * burst stays far below 2^64 */
#define KMESH_RL_MAX_BUCKETS	65536	/* LRU: per-source buckets evict the idlest */

struct kmesh_ratelimit {
	__u64 interval_ns;	/* ns per token, 1 .. KMESH_RL_MAX_INTERVAL_NS; 0: no limit */
	__u32 burst;		/* bucket size, 1 .. KMESH_RL_MAX_BURST */
	__u32 flags;		/* KMESH_RL_F_* */
};

struct kmesh_service {
	__u32 service_id;	/* stable across generations (counters) */
	__u32 cluster_id;	/* stable; L7 routes name clusters by id too */
	__u32 flags;		/* KMESH_SVC_F_* */
	__u32 route_table_id;	/* L7 route table, 0: none (reserved for L7) */
	/* tcp port: connects per interval; http port: requests */
	struct kmesh_ratelimit rate_limit;
};

/* What a bucket counts (kmesh_rl_key.kind, kmesh_rl_stats_key.kind). */
enum kmesh_rl_kind {
	KMESH_RL_CONNECTIONS	= 1,	/* connects to a tcp port */
	KMESH_RL_REQUESTS	= 2,	/* requests to an http port */
	KMESH_RL_ROUTE_REQUESTS	= 3,	/* requests of one route (route_id) */
};

/*
 * Buckets (LRU hash, outside generations: a reapply keeps them). With
 * KMESH_RL_F_PER_SOURCE the client is its address; a connect has one
 * only when its socket was bound (the kernel picks it after the connect
 * hook), else its network namespace stands for it (a pod's own).
 */
struct kmesh_rl_key {
	__u32 service_id;
	__u32 kind;		/* enum kmesh_rl_kind */
	__u32 route_id;		/* KMESH_RL_ROUTE_REQUESTS: the route, else 0 */
	__u32 pad;
	__u32 src[4];		/* per source: the client's address, else zeros */
	__u64 netns;		/* per source, unbound connect: its netns cookie */
};

struct kmesh_rl_bucket {
	__u64 tat_ns;		/* CLOCK_MONOTONIC; the bucket is full when <= now */
};

/* Counters per limit (per-CPU hash; userspace sums the CPUs). */
struct kmesh_rl_stats_key {
	__u32 service_id;
	__u32 kind;		/* enum kmesh_rl_kind */
	__u32 route_id;		/* KMESH_RL_ROUTE_REQUESTS: the route, else 0 */
};

struct kmesh_rl_stats {
	__u64 passed;		/* took a token */
	__u64 limited;		/* found the bucket empty: refused or 429 */
};

/*
 * Passive outlier detection of a cluster (Envoy's consecutive-error
 * detectors). An endpoint whose results go wrong this many times in a row
 * is ejected: the connect programs pick other endpoints until
 * base_ejection_ms x (its ejections in a row) have passed, capped at
 * max_ejection_ms. A connect failure is a connect that never reached
 * ESTABLISHED (refused, reset, timed out); it counts towards all three
 * thresholds (Envoy counts it as a 503: a 5xx and a gateway error), or
 * with KMESH_OUTLIER_F_SPLIT towards connect_failures only (5xx and
 * gateway errors then are HTTP responses, which are not reported yet). An
 * established connection ends every run. A threshold of 0 is off.
 */
#define KMESH_OUTLIER_F_SPLIT	(1U << 0)	/* connect failures are not 5xx */

struct kmesh_outlier_config {
	__u16 connect_failures;		/* in a row (local origin) */
	__u16 consecutive_5xx;
	__u16 gateway_errors;
	__u8 max_ejection_percent;	/* of the cluster's healthy endpoints */
	/* below this share of endpoints in service, ejections are ignored
	 * and every endpoint is picked (Envoy's panic threshold) */
	__u8 min_health_percent;
	__u32 base_ejection_ms;
	__u32 max_ejection_ms;
	/* an endpoint in service this long takes one off its ejection
	 * multiplier (Envoy's interval) */
	__u32 interval_ms;
	__u16 flags;			/* KMESH_OUTLIER_F_* */
	__u16 pad;
};

/* clusters: cluster_id -> cluster. */
struct kmesh_cluster {
	__u32 cluster_id;
	__u8 lb;		/* enum kmesh_lb */
	__u8 flags;		/* KMESH_CLUSTER_F_* */
	__u16 nr_endpoints;	/* all endpoints, healthy ones first */
	__u16 nr_healthy;	/* endpoints [0, nr_healthy) take new connections */
	__u16 connect_timeout_ms;	/* 0: the kernel's SYN retries */
	__u32 max_connections;	/* active connections allowed, 0: unlimited */
	__u32 total_weight;	/* sum of the healthy endpoints' weights */
	struct kmesh_outlier_config outlier;	/* with KMESH_CLUSTER_F_OUTLIER */
	/* cum_weight[i]: weights of healthy endpoints 0..i summed. */
	__u32 cum_weight[KMESH_L4_MAX_CLUSTER_ENDPOINTS];
};

/* endpoints: (cluster_id, index) -> endpoint. */
struct kmesh_endpoint_key {
	__u32 cluster_id;
	__u32 index;		/* 0 .. nr_endpoints - 1 */
};

struct kmesh_endpoint {
	__u32 addr[4];
	__u16 port;		/* 0: the port the client dialed */
	__u16 weight;		/* 1 .. KMESH_L4_MAX_WEIGHT */
	__u8 state;		/* enum kmesh_ep_state */
	__u8 pad[3];
	__u32 endpoint_id;	/* stable across generations (counters) */
};

/* maglev: cluster_id -> lookup table of healthy endpoint indexes. */
struct kmesh_maglev {
	__u16 index[KMESH_L4_MAGLEV_SIZE];
	__u16 pad;
};

/* Outside generations, by cluster id: what the breaker and RR share. */
struct kmesh_cluster_state {
	__s64 active;		/* connections counted against max_connections */
	__u64 rr_next;		/* round-robin cursor */
	/* outlier detection: healthy endpoints ejected at the last recount,
	 * when the first of them returns (recount then), and the generation
	 * counted (another one: recount, its endpoints may differ) */
	__u64 ejected;
	__u64 recount_ns;	/* CLOCK_MONOTONIC */
	__u64 recount_generation;
};

/*
 * Outlier state of an endpoint, by endpoint id (an array: ids are below
 * KMESH_L4_MAX_ENDPOINTS), outside generations like the counters.
 */
struct kmesh_outlier_state {
	__u64 ejected_until;	/* CLOCK_MONOTONIC ns: ejected while now < it */
	__u32 connect_failures;	/* results in a row, as kmesh_outlier_config */
	__u32 errors_5xx;
	__u32 gateway_errors;
	__u32 ejections;	/* in a row: the ejection time multiplier */
	__u32 ejected;		/* 1 from an ejection until its return is counted */
	__u32 pad;
};

/*
 * Per-service, per-cluster and per-endpoint counters (per-CPU hashes keyed
 * by the stable id; userspace sums the CPUs). Not every field applies to
 * every kind: refusals are counted for services and clusters only.
 */
struct kmesh_l4_stats {
	__u64 connects;		/* connects sent to an endpoint */
	__u64 refused_overflow;	/* refused: cluster at max_connections */
	__u64 refused_no_endpoint; /* refused: no healthy endpoint */
	__u64 refused_rate_limited; /* refused: the tcp port's connect bucket was empty */
	__u64 connect_failed;	/* sent to an endpoint, never established */
	__u64 closed;		/* established connections closed */
	__u64 redirected;	/* of those, carried socket to socket */
	__u64 bytes_sent;	/* client to endpoint */
	__u64 bytes_received;	/* endpoint to client */
	__u64 duration_ns;	/* summed over closed connections */
	__u64 retransmits;
	/* outlier detection (clusters and endpoints only) */
	__u64 ejections;	/* endpoints ejected */
	__u64 ejections_overflow; /* not ejected: max_ejection_percent reached */
	__u64 returns;		/* ejected endpoints back in service */
	__u64 failovers;	/* connects of a socket whose last connect failed */
};

/* Node-wide counters (per-CPU array indexed by this enum). */
enum kmesh_l4_global {
	KMESH_L4_G_PASSTHROUGH	= 0,	/* TCP connects to no service address */
	KMESH_L4_G_NO_CONFIG	= 1,	/* connects before any apply */
	KMESH_L4_G_FAMILY	= 2,	/* IPv4 connect, IPv6 endpoint: passed */
	KMESH_L4_G_NO_STORAGE	= 3,	/* socket storage allocation failed */
	KMESH_L4_G_SOCKHASH	= 4,	/* sockhash insert failed */
	KMESH_L4_G_LOG_DROPPED	= 5,	/* access-log ring buffer full */
	KMESH_L4_G_REDIRECT_MSGS = 6,	/* sk_msg messages redirected */
	KMESH_L4_G_REDIRECT_BYTES = 7,
	KMESH_L4_G_MAX,
};

/* Id registry (userspace only, pinned): object identity -> stable id. */
enum kmesh_l4_kind {
	KMESH_L4_KIND_SERVICE	= 1,
	KMESH_L4_KIND_CLUSTER	= 2,
	KMESH_L4_KIND_ENDPOINT	= 3,
};

struct kmesh_l4_id_key {
	__u32 kind;		/* enum kmesh_l4_kind */
	/* service or cluster name; endpoint: "cluster/address:port" */
	char name[124];
};

struct kmesh_l4_id {
	__u32 id;		/* 1 .. max of its kind; 0 is never used */
	__u32 reserved;
	__u64 generation;	/* the generation that gave it to this object */
};

/* Per-socket state (socket storage), set on a connect to a service. */
#define KMESH_SK_F_SERVICE	(1U << 0)	/* connect was rewritten */
#define KMESH_SK_F_COUNTED	(1U << 1)	/* holds a cluster active slot */
#define KMESH_SK_F_ESTABLISHED	(1U << 2)
#define KMESH_SK_F_LOCAL	(1U << 3)	/* in the sockhash */
#define KMESH_SK_F_EP_LOCAL	(1U << 4)	/* http: the endpoint listens on this node */
#define KMESH_SK_F_CONNECT_TIMEOUT (1U << 5)	/* TCP_USER_TIMEOUT is the cluster's, until ESTABLISHED */
#define KMESH_SK_F_CONNECT_FAILED (1U << 6)	/* the last connect failed, at endpoint_id */
#define KMESH_SK_F_FAILOVER	(1U << 7)	/* this connect follows a failed one */
/* http client whose responses are read on receive (resp.h) */
#define KMESH_SK_F_RESP_RX	(1U << 8)

enum kmesh_redir {
	KMESH_REDIR_UNDECIDED	= 0,	/* decided on the first message */
	KMESH_REDIR_NO		= 1,	/* peer not local: TCP all along */
	KMESH_REDIR_YES		= 2,	/* every message goes to the peer socket */
};

/* Sockhash key: the socket's own 4-tuple. netns only for loopback peers. */
struct kmesh_sock_key {
	__u32 local[4];
	__u32 remote[4];
	__u16 local_port;
	__u16 remote_port;
	__u32 pad;
	__u64 netns;		/* netns cookie for loopback, else 0 */
};

struct kmesh_sk_state {
	__u32 svc_addr[4];	/* what the client dialed */
	__u16 svc_port;
	__u8 redir;		/* enum kmesh_redir */
	__u8 pad;
	__u32 flags;		/* KMESH_SK_F_* */
	__u32 service_id;
	__u32 cluster_id;
	__u32 endpoint_id;
	__u32 connect_timeout_ms;	/* armed for this connect, 0: none */
	__u64 generation;	/* that routed the connect */
	__u64 start_ns;		/* connect, CLOCK_MONOTONIC */
	__u64 tx_redir;		/* bytes sent by redirect */
	struct kmesh_sock_key peer;	/* redirect target */
};

/* Local sockets (sockhash peers): bytes redirected into each. */
struct kmesh_local_sock {
	__u64 rx_redir;
};

/* Access log: one record per service connection, at close. */
enum kmesh_conn_result {
	KMESH_CONN_CLOSED	= 0,	/* established, then closed */
	KMESH_CONN_FAILED	= 1,	/* never established */
};

#define KMESH_LOG_F_REDIRECTED	(1U << 0)
#define KMESH_LOG_F_EJECTED	(1U << 1)	/* this failure ejected the endpoint */
#define KMESH_LOG_F_FAILOVER	(1U << 2)	/* the socket's previous connect failed */
#define KMESH_LOG_F_CONNECT_TIMEOUT (1U << 3)	/* failed: the cluster's connect timeout ran out */

struct kmesh_access_log {
	__u64 timestamp_ns;	/* close, CLOCK_MONOTONIC */
	__u64 duration_ns;	/* from connect */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 generation;
	__u32 service_addr[4];
	__u32 source_addr[4];
	__u32 endpoint_addr[4];
	__u16 service_port;
	__u16 source_port;
	__u16 endpoint_port;
	__u8 result;		/* enum kmesh_conn_result */
	__u8 flags;		/* KMESH_LOG_F_* */
	__u32 service_id;
	__u32 cluster_id;
	__u32 endpoint_id;
	__u32 srtt_us;
	__u32 retransmits;
	__u32 reserved;
};

/* ---- L7 policy (bpf/l7_*.bpf.c, bpf/include/l7_*.h, userspace/lib/l7_*.c) ---- */

/*
 * Per-request work on established meshed connections, in the sk_msg
 * program: every request head of an http port is parsed, checked against
 * the service's authorization rules (and routes), counted, and answered
 * or dropped when refused; responses of local servers are matched to
 * their requests for status classes and latency. Userspace compiles the
 * config (userspace/lib/l7_build.h) into one struct kmesh_l7_policy per
 * service and one LPM trie of source/destination CIDRs, both per
 * generation slot like the L4 maps. The same form is evaluated in kfunc
 * and fallback mode; only parsing (and, in kfunc mode, route matching,
 * which then uses the module's route table) differs.
 */
#define KMESH_L7_MAX_HEAD		8192	/* largest head kmesh can police */
#define KMESH_L7_MAX_RULES		64	/* routes + authorization rules, per service */
#define KMESH_L7_MAX_BLOCKS		64	/* match blocks (OR), per service */
#define KMESH_L7_MAX_CONDS		64	/* conditions (AND), per service */
#define KMESH_L7_MAX_ITEMS		128	/* condition values (OR), per service */
#define KMESH_L7_MAX_HDRS		8	/* header names conditions look at */
#define KMESH_L7_MAX_TSEGS		64	/* path template segments, per service */
#define KMESH_L7_TEMPLATE_SEGS		16	/* segments of one path template */
#define KMESH_L7_STR_BYTES		8192	/* strings of one service */
#define KMESH_L7_STR_MAX		256	/* one compared string */
#define KMESH_L7_HDR_NAME		64	/* header name */
#define KMESH_L7_HDR_VALUE		256	/* joined header value bytes kept */
#define KMESH_L7_MAX_HOST		255
#define KMESH_L7_PATH_SEGS		(KMESH_L7_TEMPLATE_SEGS + 1)
#define KMESH_L7_QUERY_PARAMS		32	/* query parameters looked at */
#define KMESH_L7_MAX_RESP		2048	/* a local reply (deny, direct response) */
#define KMESH_L7_MAX_CIDR_SETS		64	/* CIDR lists, per service */
#define KMESH_L7_MAX_CIDRS		16384	/* LPM entries per generation */
#define KMESH_L7_MAX_STATS		65536	/* (service, route, method) counters */
#define KMESH_L7_MAX_NAMES		16384	/* route and policy names */
#define KMESH_L7_LAT_BUCKETS		24	/* log2 latency: < 1us .. < 4.2s, +Inf */
#define KMESH_L7_LOG_PATH		64	/* path bytes kept in the access log */
#define KMESH_L7_LOG_BYTES		(256 * 1024)	/* request-log ring buffer */
#define KMESH_L7_FIFO			8	/* requests awaiting a response */
#define KMESH_L7_MAX_ROUTE_LIMITS	64	/* routes with a request limit, per service */

/* Condition value kinds (kmesh_l7_item.kind); 0 is invalid. */
enum kmesh_l7_item_kind {
	KMESH_L7_I_TRUE		= 1,	/* always holds */
	KMESH_L7_I_METHOD	= 2,	/* arg: KMESH_RT_METHOD_BIT()s */
	KMESH_L7_I_PATH_EXACT	= 3,	/* str == path */
	KMESH_L7_I_PATH_PREFIX	= 4,	/* str starts path; KMESH_L7_IF_SEGMENT */
	KMESH_L7_I_PATH_SUFFIX	= 5,	/* str ends path */
	KMESH_L7_I_PATH_TEMPLATE = 6,	/* arg: first tsegs[], len: how many */
	KMESH_L7_I_HOST_EXACT	= 7,	/* str (lower-case) == host */
	KMESH_L7_I_HOST_PREFIX	= 8,	/* str starts host */
	KMESH_L7_I_HOST_SUFFIX	= 9,	/* str ends host; KMESH_L7_IF_LONGER */
	KMESH_L7_I_HDR_EXACT	= 10,	/* hdr: slot; joined values == str */
	KMESH_L7_I_HDR_PREFIX	= 11,
	KMESH_L7_I_HDR_SUFFIX	= 12,
	KMESH_L7_I_HDR_PRESENT	= 13,
	KMESH_L7_I_QUERY_EXACT	= 14,	/* str: name; arg: value off << 16 | len */
	KMESH_L7_I_SRC_SET	= 15,	/* arg: CIDR set bit of the source address */
	KMESH_L7_I_DST_SET	= 16,	/* arg: CIDR set bit of the endpoint address */
	KMESH_L7_I_PORT		= 17,	/* arg: service port the client dialed */
	KMESH_L7_I_MAX,
};

/* kmesh_l7_item.flags */
#define KMESH_L7_IF_SEGMENT	(1U << 0)	/* PATH_PREFIX ends at a segment */
#define KMESH_L7_IF_LONGER	(1U << 1)	/* HOST_SUFFIX: host longer than str */
#define KMESH_L7_IF_ROUTE	(1U << 2)	/* used by routes only (fallback) */

/* One value of a condition: the condition holds when any of its items does. */
struct kmesh_l7_item {
	__u8 kind;		/* enum kmesh_l7_item_kind */
	__u8 cond;		/* index of its condition */
	__u8 hdr;		/* header slot (HDR_*) */
	__u8 flags;		/* KMESH_L7_IF_* */
	__u16 off;		/* string at strings[off, off + len) */
	__u16 len;
	__u32 arg;
};

/* One literal or wildcard segment of a path template. */
enum kmesh_l7_tseg_kind {
	KMESH_L7_TS_LIT		= 0,	/* these bytes */
	KMESH_L7_TS_ONE		= 1,	/* one non-empty segment */
	KMESH_L7_TS_REST	= 2,	/* the rest of the path, even nothing */
};

struct kmesh_l7_tseg {
	__u8 kind;		/* enum kmesh_l7_tseg_kind */
	__u8 pad;
	__u16 len;
	__u16 off;		/* LIT: bytes at strings[off, off + len) */
	__u16 pad2;
};

/* Rule kinds (kmesh_l7_rule.kind): ordered routes first, then policies. */
enum kmesh_l7_rule_kind {
	KMESH_L7_RK_ROUTE	= 1,
	KMESH_L7_RK_ALLOW	= 2,
	KMESH_L7_RK_DENY	= 3,
};

/* A route or an authorization rule: holds when any of its blocks does. */
struct kmesh_l7_rule {
	__u64 blocks;		/* bit i: blocks[i] */
	__u32 id;		/* route id, or policy id */
	__u8 kind;		/* enum kmesh_l7_rule_kind */
	__u8 action;		/* routes: enum kmesh_rt_action */
	__u16 index;		/* policies: the rule's index in the policy */
	/* DENY and DIRECT routes: the reply at strings[resp_off...]: its
	 * head without the blank line, then "\r\n" and the body. */
	__u16 resp_off;
	__u16 resp_head;	/* bytes of the head part */
	__u16 resp_len;		/* bytes in all */
	__u16 status;
};

/*
 * A route's request limit (routes[].http[].rate_limit): its own token
 * bucket, taken after the route is chosen and authorization passed, and
 * before the service's (struct kmesh_service.rate_limit).
 */
struct kmesh_l7_route_limit {
	__u32 route_id;
	__u32 pad;
	struct kmesh_ratelimit limit;	/* KMESH_RL_F_PER_SOURCE, _REPLACES_SERVICE */
};

/* kmesh_l7_policy.flags */
#define KMESH_L7_PF_HAS_ALLOW	(1U << 0)	/* an ALLOW policy exists */
#define KMESH_L7_PF_HAS_ROUTES	(1U << 1)	/* routes: unmatched requests get 404 */
#define KMESH_L7_PF_DEFAULT	(1U << 2)	/* dflt holds a default route */
#define KMESH_L7_PF_VHOST_ANY	(1U << 3)	/* routes take every host */
#define KMESH_L7_PF_TEMPLATES	(1U << 4)	/* items need path segments */
#define KMESH_L7_PF_QUERY	(1U << 5)	/* items need query parameters */
#define KMESH_L7_PF_SRC_SETS	(1U << 6)	/* items need the source's CIDR sets */
#define KMESH_L7_PF_DST_SETS	(1U << 7)	/* items need the endpoint's CIDR sets */
#define KMESH_L7_PF_REFUSE_OTHER_CLUSTER (1U << 8)	/* such requests get 421 */
#define KMESH_L7_PF_FAIL_OPEN	(1U << 9)	/* pass what cannot be checked */
/* the service's path_normalization is escaped_slashes_literal (inbound parse) */
#define KMESH_L7_PF_PATH_ESCAPED_SLASHES	(1U << 10)

/*
 * The compiled L7 config of one service (per generation: inner map keyed
 * by service id). A condition holds when any of its items holds (or, in
 * neg_conds, when none does); a block when all conditions in its mask
 * hold; a rule when any block in its mask holds. Items of authorization
 * conditions come first: kfunc mode, which routes with the module's
 * table, evaluates only those (nr_authz_items).
 */
struct kmesh_l7_policy {
	__u32 service_id;
	__u32 flags;		/* KMESH_L7_PF_* */
	__u8 nr_rules;
	__u8 nr_routes;		/* rules [0, nr_routes) are the ordered routes */
	__u8 nr_blocks;
	__u8 nr_conds;
	__u8 nr_items;
	__u8 nr_authz_items;
	__u8 nr_hdrs;
	__u8 vhost_cond;	/* condition "host is one of the routes' hosts" */
	__u64 neg_conds;
	__u64 block_conds[KMESH_L7_MAX_BLOCKS];
	struct kmesh_l7_rule dflt;	/* with KMESH_L7_PF_DEFAULT */
	struct kmesh_l7_rule rules[KMESH_L7_MAX_RULES];
	struct kmesh_l7_item items[KMESH_L7_MAX_ITEMS];
	struct kmesh_l7_tseg tsegs[KMESH_L7_MAX_TSEGS];
	__u8 hdr_len[KMESH_L7_MAX_HDRS];
	char hdr_name[KMESH_L7_MAX_HDRS][KMESH_L7_HDR_NAME];	/* lower-case */
	/* The authorization deny reply (403), same layout as a rule's. */
	__u16 deny_off;
	__u16 deny_head;
	__u16 deny_len;
	__u16 nr_route_limits;	/* route_limits[0, nr_route_limits) */
	struct kmesh_l7_route_limit route_limits[KMESH_L7_MAX_ROUTE_LIMITS];
	__u8 strings[KMESH_L7_STR_BYTES];
};

/* CIDR sets: LPM trie per generation; value: bitmask of the sets. */
enum kmesh_l7_dir {
	KMESH_L7_DIR_SRC	= 0,	/* the client's address */
	KMESH_L7_DIR_DST	= 1,	/* the endpoint's address */
};

struct kmesh_l7_cidr_key {
	__u32 prefixlen;	/* 64 + bits of addr */
	__u32 service_id;	/* network byte order: matched in full */
	__u32 dir;		/* enum kmesh_l7_dir, network byte order */
	__u32 addr[4];		/* as everywhere: IPv4 v4-mapped */
};

/* Why a request was refused, or KMESH_L7_R_ALLOW. Values are fixed. */
enum kmesh_l7_reason {
	KMESH_L7_R_ALLOW	= 0,
	KMESH_L7_R_DENY_POLICY	= 1,	/* a DENY rule matched (403) */
	KMESH_L7_R_NO_ALLOW	= 2,	/* ALLOW policies exist, none matched (403) */
	KMESH_L7_R_ROUTE_DENY	= 3,	/* the route's action is deny */
	KMESH_L7_R_DIRECT	= 4,	/* the route answers directly */
	KMESH_L7_R_NO_ROUTE	= 5,	/* routes exist, none takes it (404) */
	KMESH_L7_R_BAD_REQUEST	= 6,	/* head not valid HTTP/1.x (400) */
	KMESH_L7_R_TOO_LARGE	= 7,	/* head over KMESH_L7_MAX_HEAD (431) */
	KMESH_L7_R_BAD_BODY	= 8,	/* chunked framing broken */
	KMESH_L7_R_UNDECIDABLE	= 9,	/* a condition could not be evaluated */
	KMESH_L7_R_CLOSED	= 10,	/* sending after a refusal */
	KMESH_L7_R_OTHER_CLUSTER = 11,	/* kept-alive connection, route elsewhere (421) */
	KMESH_L7_R_NO_ENDPOINT	= 12,	/* deferred connect: no endpoint to take it (503) */
	KMESH_L7_R_RATE_LIMITED	= 13,	/* the service's request bucket was empty (429) */
	KMESH_L7_R_MAX,
};

/* Per-route counters (per-CPU hash; userspace sums the CPUs). */
struct kmesh_l7_stats_key {
	__u32 service_id;
	__u32 route_id;		/* 0: no route (service without routes, refused early) */
	__u8 method;		/* enum kmesh_http_method */
	__u8 pad[3];
};

struct kmesh_l7_stats {
	__u64 allowed;		/* requests passed to the server */
	__u64 denied;		/* refused by authorization, framing or routes */
	__u64 direct;		/* answered by a direct-response route */
	__u64 status[5];	/* responses seen: 1xx (101 only) .. 5xx */
	__u64 latency_ns;	/* summed over responses seen */
	/* bucket i < KMESH_L7_LAT_BUCKETS - 1: latency < 2^i us, else +Inf */
	__u64 latency[KMESH_L7_LAT_BUCKETS];
	/* requests whose route sends them to another cluster than the one
	 * their kept-alive connection is open to (kfunc mode) */
	__u64 other_cluster;
	/* responses whose head kmesh cannot parse (never guessed a class) */
	__u64 unparsed;
	/* HTTP/2 connections (client preface) where kmesh reads no HTTP/2
	 * (route 0, method 0): carried at L4, or refused with GOAWAY */
	__u64 h2_l4;
	__u64 h2_refused;
};

/* Node-wide L7 counters (per-CPU array indexed by this enum). */
enum kmesh_l7_global {
	KMESH_L7_G_REQUESTS	= 0,	/* request heads checked */
	KMESH_L7_G_DENIED	= 1,
	KMESH_L7_G_REPLIED	= 2,	/* refusals answered with a response */
	KMESH_L7_G_DROPPED	= 3,	/* refusals answered by dropping (EACCES) */
	KMESH_L7_G_CORKED	= 4,	/* messages held for the rest of a head */
	KMESH_L7_G_RESPONSES	= 5,	/* responses matched to requests */
	KMESH_L7_G_UNTRACKED	= 6,	/* requests whose response kmesh cannot see */
	KMESH_L7_G_FIFO_FULL	= 7,	/* pipelined beyond KMESH_L7_FIFO */
	KMESH_L7_G_RESP_ERROR	= 8,	/* response tracking gave up on a connection */
	KMESH_L7_G_SCRATCH_BUSY	= 9,	/* no per-CPU scratch (fails closed) */
	KMESH_L7_G_LOG_DROPPED	= 10,	/* request-log ring buffer full */
	KMESH_L7_G_INTERNAL	= 11,	/* fail-closed drops no policy decided:
					   storage, pull or redirect failures */
	KMESH_L7_G_UNCHECKED	= 12,	/* passed unchecked (failure_mode_allow) */
	KMESH_L7_G_TUNNELS	= 13,	/* CONNECT answered 2xx: a tunnel from there */
	/* the client's receive path (resp.h, resp_skb.h) */
	KMESH_L7_G_RX_CONNS	= 14,	/* client connections reading responses */
	KMESH_L7_G_RX_RESPONSES	= 15,	/* responses paired there */
	KMESH_L7_G_RX_UNPARSED	= 16,	/* response heads kmesh cannot parse */
	KMESH_L7_G_RX_OPAQUE	= 17,	/* connections passed unread from a point on */
	/* HTTP/2 where kmesh reads no HTTP/2 (bpf/include/l7_h2_detect.h) */
	KMESH_L7_G_H2_L4	= 18,	/* connections carried at L4 */
	KMESH_L7_G_H2_REFUSED	= 19,	/* refused: policy needs L7 (GOAWAY) */
	KMESH_L7_G_MAX,
};

_Static_assert(KMESH_L7_G_MAX == 20, "L7 counters ABI");
_Static_assert(sizeof(struct kmesh_l7_stats) == (13 + KMESH_L7_LAT_BUCKETS) * 8,
	       "L7 stats ABI");

/* Names of routes and policies, for stats and logs (userspace only). */
enum kmesh_l7_name_kind {
	KMESH_L7_NAME_ROUTE	= 1,
	KMESH_L7_NAME_POLICY	= 2,
};

struct kmesh_l7_name_key {
	__u32 kind;		/* enum kmesh_l7_name_kind */
	__u32 service_id;
	__u32 id;
};

struct kmesh_l7_name {
	char name[KMESH_NAME_MAX];
};

/* Request log: one record per request, when its fate is known. */
#define KMESH_L7_LOG_F_TRACKED	(1U << 0)	/* status and latency are real */
#define KMESH_L7_LOG_F_REPLIED	(1U << 1)	/* kmesh answered (status is kmesh's) */
#define KMESH_L7_LOG_F_UNPARSED	(1U << 2)	/* a response came; its head kmesh cannot parse */
/* an HTTP/2 connection, not a request: carried at L4 (reason ALLOW) or
 * refused with GOAWAY (reason UNDECIDABLE) */
#define KMESH_L7_LOG_F_H2	(1U << 3)

struct kmesh_l7_log {
	__u64 timestamp_ns;	/* CLOCK_MONOTONIC */
	__u64 latency_ns;	/* request head to response head, if tracked */
	__u32 source_addr[4];
	__u32 service_addr[4];
	__u16 source_port;
	__u16 service_port;
	__u32 service_id;
	__u32 route_id;
	__u32 policy_id;	/* DENY_POLICY: the policy that matched */
	__u16 status;		/* response status, 0: none seen */
	__u8 method;		/* enum kmesh_http_method */
	__u8 reason;		/* enum kmesh_l7_reason */
	__u8 flags;		/* KMESH_L7_LOG_F_* */
	__u8 path_len;		/* bytes in path (truncated) */
	__u16 pad;
	__u32 cluster_id;	/* where the connection went, 0: not yet */
	__u32 endpoint_id;
	char path[KMESH_L7_LOG_PATH];
};

/*
 * ---- Inbound authorization (the destination's check) ----
 * Between the BPF programs (bpf/include/inbound.h) and kmeshctl
 * (userspace/lib/inbound_bpf.c).
 *
 * A *workload* is a local endpoint address:port of a cluster of an http
 * port of a service that has authorization. The compile path
 * (userspace/lib/inbound_bpf.c, called from the L7 apply) fills one inner
 * map per generation slot: workload -> the protected services it serves.
 * A connection accepted in the meshed cgroup whose local address:port is
 * a workload is checked on receive.
 */

#define KMESH_INBOUND_MAX_WORKLOADS	8192	/* per generation */
#define KMESH_INBOUND_MAX_SERVICES	4	/* protected services per workload */
#define KMESH_INBOUND_MAX_CONNS		65536	/* checked connections at once */
#define KMESH_INBOUND_MAX_CLIENTS	65536	/* local meshed clients, by 4-tuple */
#define KMESH_INBOUND_MAX_REQS		16	/* request heads per received frame */

/* Workload key: the endpoint address (IPv4 v4-mapped, network order) and
 * port (host order), as the accepted socket sees its own address. */
struct kmesh_inbound_key {
	__u32 addr[4];
	__u16 port;
	__u16 pad;
};

/* The protected services a workload serves, and the service port that
 * reaches it in each (what `ports:` / destination.port rules see). */
struct kmesh_inbound_workload {
	__u32 nr;
	__u32 service_id[KMESH_INBOUND_MAX_SERVICES];
	__u16 svc_port[KMESH_INBOUND_MAX_SERVICES];
	__u8 l4[KMESH_INBOUND_MAX_SERVICES];	/* KMESH_IN_L4_* per service */
};

/*
 * L4 at the door: what a service's policies decide from the source
 * address alone, checked on the SYN. Entries in the generation's
 * kmesh_l7_cidrs LPM trie (value: the policy id, or 1), under two more
 * directions than the L7 ones:
 *  - L4_DENY: sources a DENY rule refuses whatever the request (a rule
 *    with nothing but from.source.ip_blocks);
 *  - L4_ALLOW: when every ALLOW rule of the service names its sources
 *    (from.source.ip_blocks only), the union of them: any other source
 *    can match no ALLOW rule, so no request of it can pass.
 */
#define KMESH_IN_L4_DENY	(1U << 0)	/* the service has L4_DENY entries */
#define KMESH_IN_L4_ALLOW	(1U << 1)	/* ... and an L4_ALLOW list */
/* The service reaches the workload through a tcp port: the door is its
 * whole check there, from its TCP_* entries (each rule as Istio reads it
 * on TCP traffic; a service with http ports too has other rules there),
 * and nothing is parsed on receive for it. */
#define KMESH_IN_L4_TCP		(1U << 2)
enum {
	KMESH_IN_DIR_L4_DENY	= 2,	/* after enum kmesh_l7_dir */
	KMESH_IN_DIR_L4_ALLOW	= 3,
	KMESH_IN_DIR_TCP_DENY	= 4,	/* the same on the service's tcp ports */
	KMESH_IN_DIR_TCP_ALLOW	= 5,
};

/* A local meshed client's http service connection, by its own 4-tuple
 * (struct kmesh_sock_key): its sk_msg checks every request already. */
struct kmesh_inbound_client {
	__u32 service_id;
	__u16 svc_port;
	__u16 http;		/* the service port is an http port */
};

/* Node-wide inbound counters (per-CPU array, summed by kmeshctl). */
enum kmesh_inbound_global {
	KMESH_IN_G_CONNS	= 0,	/* accepted connections checked on receive */
	KMESH_IN_G_SOURCE	= 1,	/* accepted from a local meshed http client: its
					 * sk_msg checks (not redirected into otherwise) */
	KMESH_IN_G_REQUESTS	= 2,	/* request heads checked */
	KMESH_IN_G_ALLOWED	= 3,
	KMESH_IN_G_DENIED	= 4,	/* refused by policy */
	KMESH_IN_G_BAD		= 5,	/* refused: invalid HTTP, too large, bad body */
	KMESH_IN_G_REPLIED	= 6,	/* refusals answered (403/400/431 + close) */
	KMESH_IN_G_DROPPED	= 7,	/* refusals dropped (too short to answer in
					 * place; the connection goes dead) */
	KMESH_IN_G_DEAD		= 8,	/* frames dropped after a refusal */
	KMESH_IN_G_UNCHECKED	= 9,	/* passed unchecked (failure_mode_allow) */
	KMESH_IN_G_INTERNAL	= 10,	/* fail-closed drops: no state or scratch */
	KMESH_IN_G_NO_STATE	= 11,	/* workload connection not tracked (map full) */
	KMESH_IN_G_EARLY	= 12,	/* data segments dropped before accept()
					 * (the client retransmits them) */
	KMESH_IN_G_L4_REFUSED	= 13,	/* SYNs dropped by an L4 rule (before accept) */
	KMESH_IN_G_MAX,
};

/* Per protected service (per-CPU hash by service id). */
struct kmesh_inbound_stats {
	__u64 allowed;
	__u64 denied;		/* by policy */
	__u64 bad;		/* invalid HTTP, too large, bad body */
	__u64 l4_refused;	/* connections refused at the door (SYN dropped) */
};

/* Request-log records (struct kmesh_l7_log) written by the destination's
 * check carry this flag: reporter=destination. */
#define KMESH_L7_LOG_F_INBOUND	(1U << 7)
/* ... and this one when the refusal was the connection's SYN (L4). */
#define KMESH_L7_LOG_F_L4	(1U << 6)

_Static_assert(sizeof(struct kmesh_outlier_config) == 24, "outlier config ABI");
_Static_assert(sizeof(struct kmesh_outlier_state) == 32, "outlier state ABI");
_Static_assert(sizeof(struct kmesh_cluster_state) == 40, "cluster state ABI");
_Static_assert(sizeof(struct kmesh_l4_stats) == 15 * 8, "l4 stats ABI");
_Static_assert(__builtin_offsetof(struct kmesh_cluster, cum_weight) == 44, "cluster ABI");
_Static_assert(sizeof(struct kmesh_ratelimit) == 16, "rate limit ABI");
_Static_assert(sizeof(struct kmesh_service) == 32, "service ABI");
_Static_assert(sizeof(struct kmesh_rl_key) == 40, "rate-limit bucket key ABI");
_Static_assert(sizeof(struct kmesh_rl_bucket) == 8, "rate-limit bucket ABI");
_Static_assert(sizeof(struct kmesh_rl_stats_key) == 12, "rate-limit counter key ABI");
_Static_assert(sizeof(struct kmesh_l7_route_limit) == 24, "route limit ABI");
_Static_assert(__builtin_offsetof(struct kmesh_l7_route_limit, limit) == 8, "route limit ABI");
_Static_assert(KMESH_L7_MAX_ROUTE_LIMITS >= KMESH_L7_MAX_RULES, "every route may have a limit");
_Static_assert(sizeof(struct kmesh_rl_stats) == 16, "rate-limit counter ABI");
_Static_assert(sizeof(struct kmesh_inbound_key) == 20, "inbound key ABI");
_Static_assert(sizeof(struct kmesh_inbound_workload) == 32, "inbound workload ABI");
_Static_assert(sizeof(struct kmesh_inbound_client) == 8, "inbound client ABI");
_Static_assert(sizeof(struct kmesh_inbound_stats) == 32, "inbound stats ABI");
_Static_assert((int)KMESH_IN_DIR_L4_DENY > (int)KMESH_L7_DIR_DST, "L4 directions follow the L7 ones");
_Static_assert(KMESH_IN_G_MAX == 14, "inbound counters ABI");

#endif /* KMESH_MAPS_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mesh config file (YAML, Istio-flavoured; every field documented in
 * docs/config.md) parsed into a plain model and validated. Nothing here
 * touches BPF: l4_build.h turns a model into map contents.
 *
 *	struct mesh_config cfg;
 *	char err[256];
 *
 *	if (mesh_config_parse("mesh.yaml", text, len, &cfg, err, sizeof(err)))
 *		fprintf(stderr, "%s\n", err);	// "mesh.yaml:12: clusters[1]...: ..."
 *	...
 *	mesh_config_free(&cfg);
 *
 * Errors name the file, the line and the field path, and say what was
 * expected. Only the first error is reported.
 */
#ifndef KMESH_MESH_CONFIG_H
#define KMESH_MESH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "kmesh_dev.h"
#include "kmesh_maps.h"
#include "mesh_limits.h"

/* "region/zone/subzone", as Istio writes a locality; "" when unknown. */
#define MESH_LOCALITY_LEN	192

struct mesh_endpoint {
	__u32 addr[4];		/* network order, IPv4 v4-mapped */
	__u16 port;		/* 0: the port the client dialed */
	__u16 weight;
	__u8 state;		/* enum kmesh_ep_state */
	__u8 priority;		/* 0 first; a higher one only when no lower is healthy */
	char locality[MESH_LOCALITY_LEN];
	int line;
};

/* localityLbSetting.failover: past its own region, @from's node goes to @to. */
struct mesh_locality_failover {
	char from[64];
	char to[64];
};

struct mesh_cluster {
	char name[KMESH_NAME_MAX];
	__u8 lb;		/* enum kmesh_lb */
	__u8 flags;		/* KMESH_CLUSTER_F_* */
	__u32 max_connections;	/* 0: unlimited */
	__u16 connect_timeout_ms;	/* 0: the kernel's SYN retries */
	/* locality_lb: new connections stay in the nearest locality tier
	 * with a healthy endpoint (mesh_locality_tier()) */
	bool locality_lb;
	struct mesh_locality_failover *failover;
	size_t nr_failover;
	/* with KMESH_CLUSTER_F_OUTLIER in flags */
	struct kmesh_outlier_config outlier;
	struct mesh_endpoint *endpoints;
	size_t nr_endpoints;
	int line;
};

struct mesh_port {
	__u16 port;
	bool http;		/* protocol: http (L7 later; L4 treats it as tcp) */
	int cluster;		/* index into mesh_config.clusters */
	int line;
};

/* A local rate limit, a token bucket (docs/config.md "Rate limits"). */
struct mesh_rate_limit {
	__u64 interval_ns;	/* one token per interval_ns; 0: no limit */
	__u32 burst;		/* tokens the bucket holds */
	bool per_source;	/* one bucket per client */
	/* a route's limit: its requests take no token of the service's
	 * request limit (service_limit: skip; xDS: a per-route config,
	 * which replaces the listener's); with interval_ns 0, exempt */
	bool replaces_service;
};

struct mesh_service {
	char name[KMESH_NAME_MAX];
	__u32 (*addrs)[4];
	size_t nr_addrs;
	struct mesh_port *ports;
	size_t nr_ports;
	/* keepalive_route_change: refuse (421) a later request on a
	 * connection whose route picks another cluster, rather than keep it */
	bool refuse_route_change;
	/* failure_mode_allow: pass (unchecked) requests kmesh cannot check */
	bool fail_open;
	/* path_normalization (docs/config.md "Paths") */
	enum mesh_path_norm {
		MESH_PATH_REFUSE,		/* "//", dot segments, %2F: 400 */
		MESH_PATH_ESCAPED_SLASHES_LITERAL,	/* %2F matched as sent */
	} path_norm;
	/* rate_limit: requests to its http ports, connects to its tcp ports */
	struct mesh_rate_limit request_limit;
	struct mesh_rate_limit connect_limit;
	int rate_limit_line;
	int line;
};

/* ---- L7: routes (VirtualService-like) and authorization ---- */

/* How a string pattern matches (uri, hosts, paths, header values). */
enum mesh_match {
	MESH_M_EXACT,
	MESH_M_PREFIX,
	MESH_M_SEGMENT_PREFIX,	/* prefix ending at a '/' or the path's end */
	MESH_M_SUFFIX,
	MESH_M_TEMPLATE,	/* "/users/{id}/orders", "/static/{rest=**}" */
	MESH_M_PRESENT,		/* anything, as long as it is there */
	MESH_M_ABSENT,		/* headers only */
};

struct mesh_pattern {
	__u8 kind;		/* enum mesh_match */
	char *text;		/* malloc'd; NULL for PRESENT and ABSENT */
};

struct mesh_header_match {
	char name[KMESH_RT_MAX_NAME_LEN + 1];	/* lower-case */
	struct mesh_pattern value;
};

struct mesh_query_match {
	char *name;
	char *value;		/* exact */
};

/* One entry of a route's match list: every field given must hold. */
struct mesh_route_match {
	struct mesh_pattern uri;
	bool has_uri;
	__u32 methods;		/* KMESH_RT_METHOD_BIT()s; 0: any */
	struct mesh_header_match *headers;
	size_t nr_headers;
	struct mesh_query_match *query;
	size_t nr_query;
	int line;
};

struct mesh_destination {
	int cluster;		/* index into mesh_config.clusters */
	__u32 weight;
};

struct mesh_http_route {
	char name[KMESH_NAME_MAX];
	__u32 id;		/* stable: from the service and route names */
	struct mesh_route_match *match;	/* any of them; none: default route */
	size_t nr_match;
	__u8 action;		/* enum kmesh_rt_action */
	struct mesh_destination *dests;
	size_t nr_dests;
	__u16 status;		/* deny and direct_response */
	char *body;		/* direct_response, malloc'd, may be NULL */
	size_t body_len;
	struct mesh_rate_limit rate_limit;	/* rate_limit: requests of this route */
	int rate_limit_line;
	int line;
	char path[160];		/* "routes[0].http[2]", for messages */
};

struct mesh_routes {
	int service;		/* index into mesh_config.services */
	char **hosts;		/* lower-case; default {"*"} */
	size_t nr_hosts;
	struct mesh_http_route *http;	/* in match order, default last */
	size_t nr_http;
	int line;
};

struct mesh_cidr {
	__u32 addr[4];		/* network order, IPv4 v4-mapped, host bits 0 */
	__u8 bits;		/* of the 128-bit form: IPv4 /n is 96 + n */
};

struct mesh_cidr_list {
	struct mesh_cidr *v;
	size_t n;
};

struct mesh_pattern_list {
	struct mesh_pattern *v;
	size_t n;
};

struct mesh_port_list {
	__u16 *v;
	size_t n;
};

/* from[].source: fields AND, values OR. */
struct mesh_authz_source {
	struct mesh_cidr_list ip_blocks, not_ip_blocks;
};

/* to[].operation */
struct mesh_authz_operation {
	__u32 methods, not_methods;	/* KMESH_RT_METHOD_BIT()s, 0: not given */
	struct mesh_pattern_list paths, not_paths;
	struct mesh_pattern_list hosts, not_hosts;	/* lower-case */
	struct mesh_port_list ports, not_ports;
};

enum mesh_when_key {
	MESH_WHEN_HEADER,	/* request.headers[NAME] */
	MESH_WHEN_SOURCE_IP,	/* source.ip */
	MESH_WHEN_DEST_IP,	/* destination.ip: the endpoint */
	MESH_WHEN_DEST_PORT,	/* destination.port: the service port */
};

struct mesh_authz_when {
	__u8 key;		/* enum mesh_when_key */
	char header[KMESH_RT_MAX_NAME_LEN + 1];	/* lower-case */
	struct mesh_pattern_list values, not_values;	/* headers */
	struct mesh_cidr_list cidrs, not_cidrs;		/* source/destination.ip */
	struct mesh_port_list ports, not_ports;		/* destination.port */
	int line;
};

struct mesh_authz_rule {
	struct mesh_authz_source *from;		/* any of them; none: any source */
	size_t nr_from;
	struct mesh_authz_operation *to;	/* any of them; none: any request */
	size_t nr_to;
	struct mesh_authz_when *when;		/* all of them */
	size_t nr_when;
	int line;
};

enum mesh_authz_action {
	MESH_AUTHZ_ALLOW,
	MESH_AUTHZ_DENY,
};

struct mesh_authz {
	char name[KMESH_NAME_MAX];
	__u32 id;		/* stable: from the service and policy names */
	int service;		/* index into mesh_config.services */
	__u8 action;		/* enum mesh_authz_action */
	struct mesh_authz_rule *rules;	/* any of them; none: matches nothing */
	size_t nr_rules;
	int line;
	char path[160];		/* "authorization[1]", for messages */
};

struct l7_compiled;	/* l7_build.h */

struct mesh_config {
	struct mesh_service *services;
	size_t nr_services;
	struct mesh_cluster *clusters;
	size_t nr_clusters;
	struct mesh_routes *routes;	/* at most one per service */
	size_t nr_routes;
	struct mesh_authz *authz;
	size_t nr_authz;
	/* the L7 rules compiled once, by the parse (l7_check()) */
	struct l7_compiled *l7;
	/* this node's own locality (node.locality, --locality); "": none */
	char node_locality[MESH_LOCALITY_LEN];
};

/*
 * Locality: @s checked as "region[/zone[/subzone]]" (each part 1..63 of
 * A-Z a-z 0-9 - _ .) and copied to @out; NULL when fine, else why not.
 */
const char *mesh_locality_check(const char *s, char out[MESH_LOCALITY_LEN]);
/*
 * How far endpoint locality @ep is from the node's, @node, as Istio ranks
 * them for failover: 0 the same subzone, 1 the same zone, 2 the same
 * region, 3 the region @failover names for the node's region, 4 any other
 * (or no locality).
 */
unsigned int mesh_locality_tier(const char *node, const char *ep,
				const struct mesh_locality_failover *failover,
				size_t nr_failover);

/* 0 or -1 with @err filled ("FILE:LINE: PATH: message"); @name stands
 * for the file in messages. Files, directories and stdin: mesh_input.h. */
int mesh_config_parse(const char *name, const char *text, size_t len,
		      struct mesh_config *cfg, char *err, size_t err_size);
/* One document already loaded by libyaml (mesh_input.c reads streams of
 * several); its marks give the lines. */
struct yaml_document_s;
int mesh_config_parse_document(const char *name, struct yaml_document_s *doc,
			       struct mesh_config *cfg, char *err,
			       size_t err_size);
void mesh_config_free(struct mesh_config *cfg);

/* The service has no http port: its policies are checked at L4 only (the
 * door), so they may name nothing but sources. */
bool mesh_service_tcp_only(const struct mesh_service *s);
bool mesh_service_has_tcp(const struct mesh_service *s);

/* A policy rule on its service's tcp ports (the door, Istio's reading of a
 * rule on TCP traffic: see mesh_authz.c). */
enum mesh_tcp_rule {
	MESH_TCP_RULE_NEVER,	/* holds on no tcp connection */
	MESH_TCP_RULE_SOURCES,	/* holds for its from[].ip_blocks, or any source */
	MESH_TCP_RULE_UNCHECKED,	/* the door cannot decide it */
};

struct mesh_tcp_unchecked {
	char path[64];		/* rules[i]... within the policy */
	const char *field, *why;
};

enum mesh_tcp_rule mesh_authz_tcp_rule(const struct mesh_config *cfg,
				       const struct mesh_authz *a, size_t ri,
				       struct mesh_tcp_unchecked *why);

/* "10.0.0.1" or "fd00::1" to 16 bytes (IPv4 v4-mapped); 0 or -1. */
int mesh_addr_parse(const char *text, __u32 addr[4]);
/* The reverse: "10.0.0.1", "fd00::1"; @with_port gives "1.2.3.4:80" and
 * "[fd00::1]:80". */
void mesh_addr_format(const __u32 addr[4], __u16 port, bool with_port,
		      char *buf, size_t size);
bool mesh_addr_is_v4(const __u32 addr[4]);

const char *mesh_lb_name(unsigned int lb);
/* Envoy's outlier detection defaults, which outlier_detection: starts from. */
void mesh_outlier_defaults(struct kmesh_outlier_config *o);

/* "10.0.0.0/8", "fd00::/16" or a bare address (a /32 or /128). */
int mesh_cidr_parse(const char *text, struct mesh_cidr *out);
/* Stable 31-bit id of a route or policy name within a service, never 0. */
__u32 mesh_l7_id(const char *service, const char *name);

#endif /* KMESH_MESH_CONFIG_H */

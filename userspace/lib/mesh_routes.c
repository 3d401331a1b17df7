// SPDX-License-Identifier: GPL-2.0-only
/* The routes: section of the mesh file (VirtualService-like): hosts, and
 * http routes with their matches and one action each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_reader.h"

/* ---- match: uri, grpc, methods, headers, query_params ---- */

/* uri: exactly one of exact, prefix, segment_prefix, template. */
static int read_uri(struct mesh_reader *r, yaml_node_t *v, const char *path,
		    struct mesh_pattern *pat, __u8 kind)
{
	const char *why;

	if (pat->text)
		return mesh_fail(r, v, path, "give only one of exact, prefix, segment_prefix, template");
	pat->kind = kind;
	if (mesh_read_text(r, v, path, MESH_MAX_VALUE_LEN, false, &pat->text))
		return -1;
	why = pat->text[0] != '/' ? "does not start with '/'" :
	      mesh_path_chars_problem(pat->text);
	if (why)
		return mesh_fail(r, v, path, "\"%s\" %s", pat->text, why);
	return 0;
}

#define URI_READER(fn, kind)						\
static int fn(struct mesh_reader *r, yaml_node_t *v, const char *path,	\
	      void *obj, void *ctx)					\
{									\
	(void)ctx;							\
	return read_uri(r, v, path, obj, kind);				\
}
URI_READER(uri_exact, MESH_M_EXACT)
URI_READER(uri_prefix, MESH_M_PREFIX)
URI_READER(uri_segment_prefix, MESH_M_SEGMENT_PREFIX)
URI_READER(uri_template, MESH_M_TEMPLATE)

static const struct mesh_field uri_fields[] = {
	MESH_CUSTOM("exact", uri_exact, false),
	MESH_CUSTOM("prefix", uri_prefix, false),
	MESH_CUSTOM("segment_prefix", uri_segment_prefix, false),
	MESH_CUSTOM("template", uri_template, false),
};
static const struct mesh_schema uri_schema = MESH_SCHEMA(uri_fields);

/* A route header condition: exact, prefix, present: true, absent: true. */
static int read_header_cond(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, struct mesh_pattern *pat,
			    bool *set, __u8 kind)
{
	bool yes = false;

	if (*set)
		return mesh_fail(r, v, path, "give only one of exact, prefix, present, absent");
	*set = true;
	pat->kind = kind;
	if (kind == MESH_M_PRESENT || kind == MESH_M_ABSENT) {
		if (mesh_read_bool(r, v, path, &yes))
			return -1;
		if (!yes)
			return mesh_fail(r, v, path, "expected true (leave the header out instead)");
		return 0;
	}
	return mesh_read_text(r, v, path, MESH_MAX_VALUE_LEN, true, &pat->text);
}

#define HEADER_READER(fn, kind)						\
static int fn(struct mesh_reader *r, yaml_node_t *v, const char *path,	\
	      void *obj, void *ctx)					\
{									\
	return read_header_cond(r, v, path, obj, ctx, kind);		\
}
HEADER_READER(header_exact, MESH_M_EXACT)
HEADER_READER(header_prefix, MESH_M_PREFIX)
HEADER_READER(header_present, MESH_M_PRESENT)
HEADER_READER(header_absent, MESH_M_ABSENT)

static const struct mesh_field header_fields[] = {
	MESH_CUSTOM("exact", header_exact, false),
	MESH_CUSTOM("prefix", header_prefix, false),
	MESH_CUSTOM("present", header_present, false),
	MESH_CUSTOM("absent", header_absent, false),
};
static const struct mesh_schema header_schema = MESH_SCHEMA(header_fields);

static int read_match_uri(struct mesh_reader *r, yaml_node_t *v,
			  const char *path, void *obj, void *ctx)
{
	struct mesh_route_match *m = obj;
	unsigned int seen;

	(void)ctx;
	if (m->has_uri)
		return mesh_fail(r, v, path, "give uri or grpc, not both (grpc is a path match: /package.Service/Method)");
	m->has_uri = true;
	if (mesh_read_fields(r, v, path, &uri_schema, &m->uri, NULL, &seen))
		return -1;
	if (!seen)
		return mesh_fail(r, v, path, "expected one of exact, prefix, segment_prefix, template");
	return 0;
}

/*
 * grpc: {service: package.Service, method: Method}: a gRPC call's path,
 * /package.Service/Method (exact), or with the service alone every method
 * of it (prefix /package.Service/). Names as protobuf writes them:
 * identifiers ([A-Za-z_][A-Za-z0-9_]*), the service's dot-separated.
 */
struct grpc_match {
	char *service;
	char *method;
};

static bool grpc_ident(const char *s, size_t n)
{
	size_t i;

	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int grpc_service(struct mesh_reader *r, yaml_node_t *v, const char *path,
			void *obj, void *ctx)
{
	struct grpc_match *g = obj;
	const char *p, *dot;

	(void)ctx;
	if (mesh_read_text(r, v, path, MESH_MAX_VALUE_LEN, false, &g->service))
		return -1;
	for (p = g->service;; p = dot + 1) {
		dot = strchr(p, '.');
		if (!grpc_ident(p, dot ? (size_t)(dot - p) : strlen(p)))
			return mesh_fail(r, v, path, "'%s': expected a gRPC service name, package.Service (identifiers joined by '.')",
					 g->service);
		if (!dot)
			return 0;
	}
}

static int grpc_method(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       void *obj, void *ctx)
{
	struct grpc_match *g = obj;

	(void)ctx;
	if (mesh_read_text(r, v, path, MESH_MAX_VALUE_LEN, false, &g->method))
		return -1;
	if (!grpc_ident(g->method, strlen(g->method)))
		return mesh_fail(r, v, path, "'%s': expected a gRPC method name (letters, digits, '_'; not starting with a digit)",
				 g->method);
	return 0;
}

static const struct mesh_field grpc_fields[] = {
	MESH_CUSTOM("service", grpc_service, true),
	MESH_CUSTOM("method", grpc_method, false),
};
static const struct mesh_schema grpc_schema = MESH_SCHEMA(grpc_fields);

static int read_match_grpc(struct mesh_reader *r, yaml_node_t *v,
			   const char *path, void *obj, void *ctx)
{
	struct mesh_route_match *m = obj;
	struct grpc_match g = {};
	size_t n;
	int rc = -1;

	(void)ctx;
	if (m->has_uri)
		return mesh_fail(r, v, path, "give uri or grpc, not both (grpc is a path match: /package.Service/Method)");
	if (mesh_read_fields(r, v, path, &grpc_schema, &g, NULL, NULL))
		goto out;
	n = 1 + strlen(g.service) + 1 + (g.method ? strlen(g.method) : 0);
	if (n > KMESH_RT_MAX_STR_LEN) {
		mesh_fail(r, v, path, "/%s/%s: longer than %d bytes", g.service,
			  g.method ? g.method : "", KMESH_RT_MAX_STR_LEN);
		goto out;
	}
	m->uri.text = malloc(n + 1);
	if (!m->uri.text) {
		mesh_fail(r, v, path, "out of memory");
		goto out;
	}
	snprintf(m->uri.text, n + 1, "/%s/%s", g.service, g.method ? g.method : "");
	m->uri.kind = g.method ? MESH_M_EXACT : MESH_M_PREFIX;
	m->has_uri = true;
	rc = 0;
out:
	free(g.service);
	free(g.method);
	return rc;
}

/* headers: and query_params: map names to conditions. */
static int read_conds(struct mesh_reader *r, yaml_node_t *v, const char *path,
		      struct mesh_route_match *m, bool headers)
{
	char ipath[MESH_PATH_LEN], epath[MESH_PATH_LEN + 8];
	yaml_node_pair_t *pair;
	unsigned int seen;
	size_t nr, i;

	if (v->type != YAML_MAPPING_NODE)
		return mesh_fail(r, v, path, "expected a mapping of names to conditions");
	nr = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	if (!nr)
		return mesh_fail(r, v, path, "expected at least one name");
	if (nr > MESH_MAX_MATCH_CONDS)
		return mesh_fail(r, v, path, "at most %d entries", MESH_MAX_MATCH_CONDS);
	if (headers)
		m->headers = calloc(nr, sizeof(*m->headers));
	else
		m->query = calloc(nr, sizeof(*m->query));
	if (headers ? !m->headers : !m->query)
		return mesh_fail(r, v, path, "out of memory");
	for (pair = v->data.mapping.pairs.start, i = 0;
	     pair < v->data.mapping.pairs.top; pair++, i++) {
		yaml_node_t *k = mesh_node(r, pair->key);
		yaml_node_t *val = mesh_node(r, pair->value);
		const char *key = k ? mesh_scalar(k) : NULL;

		if (!key || !val)
			return mesh_fail(r, k ? k : v, path, "expected names as keys");
		mesh_subpath(ipath, path, key);
		if (headers) {
			struct mesh_header_match *h = &m->headers[i];
			bool set = false;
			size_t j;

			m->nr_headers = i + 1;
			if (mesh_read_header_name(r, k, ipath, key, h->name))
				return -1;
			for (j = 0; j < i; j++)
				if (!strcmp(m->headers[j].name, h->name))
					return mesh_fail(r, k, ipath, "header listed twice");
			if (mesh_read_fields(r, val, ipath, &header_schema,
					     &h->value, &set, &seen))
				return -1;
			if (!seen)
				return mesh_fail(r, val, ipath, "expected one of exact, prefix, present, absent");
		} else {
			struct mesh_query_match *q = &m->query[i];
			yaml_node_t *ek, *ev;

			m->nr_query = i + 1;
			if (mesh_read_text(r, k, ipath, KMESH_RT_MAX_NAME_LEN,
					   false, &q->name))
				return -1;
			ek = val->type == YAML_MAPPING_NODE &&
			     val->data.mapping.pairs.top -
			     val->data.mapping.pairs.start == 1 ?
			     mesh_node(r, val->data.mapping.pairs.start->key) : NULL;
			if (!ek || !mesh_scalar(ek) || strcmp(mesh_scalar(ek), "exact"))
				return mesh_fail(r, val, ipath, "expected {exact: VALUE}");
			ev = mesh_node(r, val->data.mapping.pairs.start->value);
			mesh_subpath(epath, ipath, "exact");
			if (!ev || mesh_read_text(r, ev, epath, MESH_MAX_VALUE_LEN,
						  true, &q->value))
				return -1;
		}
	}
	return 0;
}

static int read_match_headers(struct mesh_reader *r, yaml_node_t *v,
			      const char *path, void *obj, void *ctx)
{
	(void)ctx;
	return read_conds(r, v, path, obj, true);
}

static int read_match_query(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	(void)ctx;
	return read_conds(r, v, path, obj, false);
}

static const struct mesh_field match_fields[] = {
	MESH_CUSTOM("uri", read_match_uri, false),
	MESH_CUSTOM("grpc", read_match_grpc, false),
	MESH_LIST("methods", MESH_T_METHODS, struct mesh_route_match, methods),
	MESH_CUSTOM("headers", read_match_headers, false),
	MESH_CUSTOM("query_params", read_match_query, false),
};
static const struct mesh_schema match_schema = MESH_SCHEMA(match_fields);

static int match_item(struct mesh_reader *r, yaml_node_t *item,
		      const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_route_match *m = &((struct mesh_route_match *)items)[i];
	unsigned int seen;

	(void)ctx;
	m->line = mesh_line(item);
	if (mesh_read_fields(r, item, path, &match_schema, m, NULL, &seen))
		return -1;
	if (!seen)
		return mesh_fail(r, item, path, "expected at least one of uri, grpc, methods, headers, query_params");
	return 0;
}

/* ---- actions: route (a weighted split), deny, direct_response ---- */

static int read_dest_cluster(struct mesh_reader *r, yaml_node_t *v,
			     const char *path, void *obj, void *ctx)
{
	struct mesh_destination *d = obj;

	return mesh_add_ref(r, v, path, ctx, &d->cluster, false);
}

static const struct mesh_field dest_fields[] = {
	MESH_CUSTOM("cluster", read_dest_cluster, true),
	MESH_UINT("weight", struct mesh_destination, weight, 0,
		  MESH_MAX_SPLIT_WEIGHT),
};
static const struct mesh_schema dest_schema = MESH_SCHEMA(dest_fields);

static int dest_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_destination *d = &((struct mesh_destination *)items)[i];

	d->weight = 1;
	d->cluster = -1;
	return mesh_read_fields(r, item, path, &dest_schema, d, ctx, NULL);
}

/* The route being read and the references it makes. */
struct route_read {
	struct mesh_http_route *route;
	struct mesh_l7_refs *refs;
};

static int one_action(struct mesh_reader *r, yaml_node_t *v, const char *path,
		      const struct mesh_http_route *route)
{
	if (route->action)
		return mesh_fail(r, v, path, "a route has one action: route, deny or direct_response");
	return 0;
}

static int read_route_action(struct mesh_reader *r, yaml_node_t *v,
			     const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_ROUTE_SPLIT, sizeof(struct mesh_destination),
		"expected at least one cluster",
	};
	struct mesh_http_route *route = obj;
	struct route_read *rr = ctx;
	unsigned long weight = 0;
	size_t i;

	if (one_action(r, v, path, route))
		return -1;
	route->action = KMESH_RT_A_ROUTE;
	if (mesh_read_list(r, v, path, &l, &route->dests, &route->nr_dests,
			   dest_item, rr->refs))
		return -1;
	for (i = 0; i < route->nr_dests; i++)
		weight += route->dests[i].weight;
	if (!weight)
		return mesh_fail(r, v, path, "weights sum to 0: give at least one cluster a weight");
	return 0;
}

static int read_body(struct mesh_reader *r, yaml_node_t *v, const char *path,
		     void *obj, void *ctx)
{
	struct mesh_http_route *route = obj;

	(void)ctx;
	if (route->action != KMESH_RT_A_DIRECT)
		return mesh_fail(r, v, path, "only direct_response has a body");
	if (mesh_read_text(r, v, path, MESH_MAX_BODY_LEN, true, &route->body))
		return -1;
	route->body_len = strlen(route->body);
	return 0;
}

/* deny: {status: 400..599, default 403}; direct_response: {status, body} */
static const struct mesh_field deny_fields[] = {
	MESH_UINT("status", struct mesh_http_route, status, 400, 599),
	MESH_CUSTOM("body", read_body, false),
};
static const struct mesh_field direct_fields[] = {
	{ .name = "status", .type = MESH_T_UINT, .required = true,
	  .offset = offsetof(struct mesh_http_route, status),
	  .size = MESH_SIZEOF(struct mesh_http_route, status),
	  .min = 200, .max = 599 },
	MESH_CUSTOM("body", read_body, false),
};
static const struct mesh_schema deny_schema = MESH_SCHEMA(deny_fields);
static const struct mesh_schema direct_schema = MESH_SCHEMA(direct_fields);

static int read_reply_action(struct mesh_reader *r, yaml_node_t *v,
			     const char *path, struct mesh_http_route *route,
			     __u8 action, const struct mesh_schema *schema)
{
	if (one_action(r, v, path, route))
		return -1;
	route->action = action;
	route->status = 403;
	return mesh_read_fields(r, v, path, schema, route, NULL, NULL);
}

static int read_deny(struct mesh_reader *r, yaml_node_t *v, const char *path,
		     void *obj, void *ctx)
{
	(void)ctx;
	return read_reply_action(r, v, path, obj, KMESH_RT_A_DENY, &deny_schema);
}

static int read_direct(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       void *obj, void *ctx)
{
	(void)ctx;
	return read_reply_action(r, v, path, obj, KMESH_RT_A_DIRECT,
				 &direct_schema);
}

static int read_route_match(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_ROUTE_MATCHES, sizeof(struct mesh_route_match),
		"expected at least one match (leave match out for the default route)",
	};
	struct mesh_http_route *route = obj;

	(void)ctx;
	return mesh_read_list(r, v, path, &l, &route->match, &route->nr_match,
			      match_item, NULL);
}

/* rate_limit of a route: as written; the model keeps the bucket. */
struct route_limit_file {
	__u32 requests_per_second;
	__u32 burst;
	bool per_source;
	__u8 skip_service;	/* service_limit: apply (0) | skip (1) */
};

static const char *const service_limits[] = { "apply", "skip" };

static int route_limit_no_connections(struct mesh_reader *r, yaml_node_t *v,
				      const char *path, void *obj, void *ctx)
{
	(void)obj;
	(void)ctx;
	return mesh_fail(r, v, path,
			 "a route limits requests only; connections_per_second is the service's (services[].rate_limit)");
}

static const struct mesh_field route_limit_fields[] = {
	MESH_UINT("requests_per_second", struct route_limit_file,
		  requests_per_second, 1, MESH_MAX_RATE_PER_SECOND),
	MESH_UINT("burst", struct route_limit_file, burst, 1,
		  MESH_MAX_RATE_BURST),
	MESH_BOOL("per_source", struct route_limit_file, per_source),
	MESH_ENUM("service_limit", struct route_limit_file, skip_service,
		  service_limits),
	MESH_CUSTOM("connections_per_second", route_limit_no_connections, false),
};
static const struct mesh_schema route_limit_schema = MESH_SCHEMA(route_limit_fields);

static int read_route_limit(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	struct mesh_http_route *route = obj;
	struct route_limit_file f = {};

	(void)ctx;
	if (mesh_read_fields(r, v, path, &route_limit_schema, &f, NULL, NULL))
		return -1;
	if (!f.requests_per_second && !f.skip_service)
		return mesh_fail(r, v, path,
				 "expected requests_per_second (or service_limit: skip alone, to exempt the route from the service's limit)");
	if (!f.requests_per_second && (f.burst || f.per_source))
		return mesh_fail(r, v, path,
				 "burst and per_source need requests_per_second");
	mesh_rate_limit_set(&route->rate_limit, f.requests_per_second, f.burst,
			    f.per_source);
	route->rate_limit.replaces_service = f.skip_service;
	route->rate_limit_line = mesh_line(v);
	return 0;
}

static const struct mesh_field http_fields[] = {
	MESH_NAME("name", struct mesh_http_route, name, false),
	MESH_CUSTOM("match", read_route_match, false),
	MESH_CUSTOM("route", read_route_action, false),
	MESH_CUSTOM("deny", read_deny, false),
	MESH_CUSTOM("direct_response", read_direct, false),
	MESH_CUSTOM("rate_limit", read_route_limit, false),
};
static const struct mesh_schema http_schema = MESH_SCHEMA(http_fields);

struct routes_read {
	struct mesh_l7_refs *refs;
	const char *path;	/* "routes[i].http" */
	size_t nr;
};

static int http_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_http_route *http = items, *route = &http[i];
	struct routes_read *rs = ctx;
	struct route_read rr = { route, rs->refs };
	size_t j;

	route->line = mesh_line(item);
	snprintf(route->path, sizeof(route->path), "%s", path);
	if (mesh_read_fields(r, item, path, &http_schema, route, &rr, NULL))
		return -1;
	if (!route->action)
		return mesh_fail(r, item, path, "missing an action: route, deny or direct_response");
	if ((route->rate_limit.interval_ns || route->rate_limit.replaces_service) &&
	    route->action != KMESH_RT_A_ROUTE) {
		char lpath[MESH_PATH_LEN];

		snprintf(lpath, sizeof(lpath), "%s.rate_limit", path);
		return mesh_fail_at(r, route->rate_limit_line, lpath,
				    "only a route that forwards (route:) takes a rate limit; kmesh answers a deny or direct_response route itself");
	}
	if (!route->name[0])
		snprintf(route->name, sizeof(route->name),
			 route->nr_match ? "route-%zu" : "default", i);
	if (!route->nr_match && i + 1 != rs->nr)
		return mesh_fail(r, item, path, "a route without match is the default route: it must be the last");
	for (j = 0; j < i; j++)
		if (!strcmp(http[j].name, route->name))
			return mesh_fail(r, item, path, "name '%s' is also %s.http[%zu]",
					 route->name, rs->path[0] ? rs->path : "routes", j);
	return 0;
}

/* ---- one entry of routes: ---- */

static int read_routes_service(struct mesh_reader *r, yaml_node_t *v,
			       const char *path, void *obj, void *ctx)
{
	struct mesh_routes *rt = obj;
	struct routes_read *rs = ctx;

	return mesh_add_ref(r, v, path, rs->refs, &rt->service, true);
}

static int host_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	char **hosts = items, *h;
	const char *why;
	size_t n, j;

	(void)ctx;
	if (mesh_read_text(r, item, path, KMESH_RT_MAX_HOST_LEN + 1, false,
			   &hosts[i]))
		return -1;
	h = hosts[i];
	for (n = 0; h[n]; n++)
		if (h[n] >= 'A' && h[n] <= 'Z')
			h[n] = (char)(h[n] + ('a' - 'A'));
	if (n > 1 && h[n - 1] == '.')
		h[--n] = '\0';
	if (strcmp(h, "*") && (strchr(h + 1, '*') || (h[0] == '*' && h[1] != '.')))
		why = "is not a name, \"*.suffix\" or \"*\"";
	else if (n > KMESH_RT_MAX_HOST_LEN)
		why = "is longer than 255 bytes";
	else
		why = mesh_host_chars_problem(h[0] == '*' ? h + 1 : h);
	if (why)
		return mesh_fail(r, item, path, "\"%s\" %s", mesh_scalar(item), why);
	for (j = 0; j < i; j++)
		if (!strcmp(hosts[j], h))
			return mesh_fail(r, item, path, "listed twice");
	return 0;
}

static int read_routes_hosts(struct mesh_reader *r, yaml_node_t *v,
			     const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_ROUTE_HOSTS, sizeof(char *),
		"expected at least one host (leave hosts out for any host)",
	};
	struct mesh_routes *rt = obj;

	(void)ctx;
	return mesh_read_list(r, v, path, &l, &rt->hosts, &rt->nr_hosts,
			      host_item, NULL);
}

static int read_routes_http(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_HTTP_ROUTES, sizeof(struct mesh_http_route),
		"expected at least one route",
	};
	struct mesh_routes *rt = obj;
	struct routes_read *rs = ctx;

	rs->path = path;
	rs->nr = mesh_seq_len(v);
	return mesh_read_list(r, v, path, &l, &rt->http, &rt->nr_http,
			      http_item, rs);
}

static const struct mesh_field routes_fields[] = {
	MESH_CUSTOM("service", read_routes_service, true),
	MESH_CUSTOM("hosts", read_routes_hosts, false),
	MESH_CUSTOM("http", read_routes_http, true),
};
static const struct mesh_schema routes_schema = MESH_SCHEMA(routes_fields);

static int routes_item(struct mesh_reader *r, yaml_node_t *item,
		       const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_routes *rt = &((struct mesh_routes *)items)[i];
	struct routes_read rs = { .refs = ctx };

	rt->line = mesh_line(item);
	rt->service = -1;
	return mesh_read_fields(r, item, path, &routes_schema, rt, &rs, NULL);
}

int mesh_read_routes(struct mesh_reader *r, yaml_node_t *v, const char *path,
		     struct mesh_config *cfg, struct mesh_l7_refs *refs)
{
	static const struct mesh_list l = {
		MESH_MAX_ROUTES, sizeof(struct mesh_routes), NULL,
	};

	return mesh_read_list(r, v, path, &l, &cfg->routes, &cfg->nr_routes,
			      routes_item, refs);
}

/* One routes: entry per service; default hosts; stable route ids. */
int mesh_check_routes(struct mesh_reader *r, struct mesh_config *cfg)
{
	char path[MESH_PATH_LEN + 16];
	size_t i, j, k;

	for (i = 0; i < cfg->nr_routes; i++) {
		struct mesh_routes *rt = &cfg->routes[i];
		const char *svc = cfg->services[rt->service].name;

		snprintf(path, sizeof(path), "routes[%zu].service", i);
		for (k = 0; k < i; k++)
			if (cfg->routes[k].service == rt->service)
				return mesh_fail_at(r, rt->line, path,
						    "service '%s' already has routes (routes[%zu])",
						    svc, k);
		if (!rt->nr_hosts) {
			rt->hosts = calloc(1, sizeof(*rt->hosts));
			if (!rt->hosts || !(rt->hosts[0] = strdup("*")))
				return mesh_fail_at(r, rt->line, path, "out of memory");
			rt->nr_hosts = 1;
		}
		for (j = 0; j < rt->nr_http; j++) {
			rt->http[j].id = mesh_l7_id(svc, rt->http[j].name);
			for (k = 0; k < j; k++)
				if (rt->http[k].id == rt->http[j].id)
					return mesh_fail_at(r, rt->http[j].line,
							    rt->http[j].path,
							    "route names '%s' and '%s' hash to the same id: rename one",
							    rt->http[k].name, rt->http[j].name);
		}
	}
	return 0;
}

void mesh_routes_free(struct mesh_config *cfg)
{
	size_t i, j, k, l;

	for (i = 0; i < cfg->nr_routes; i++) {
		struct mesh_routes *rt = &cfg->routes[i];

		for (j = 0; j < rt->nr_hosts; j++)
			free(rt->hosts[j]);
		free(rt->hosts);
		for (j = 0; j < rt->nr_http; j++) {
			struct mesh_http_route *route = &rt->http[j];

			for (k = 0; k < route->nr_match; k++) {
				struct mesh_route_match *m = &route->match[k];

				free(m->uri.text);
				for (l = 0; l < m->nr_headers; l++)
					free(m->headers[l].value.text);
				free(m->headers);
				for (l = 0; l < m->nr_query; l++) {
					free(m->query[l].name);
					free(m->query[l].value);
				}
				free(m->query);
			}
			free(route->match);
			free(route->dests);
			free(route->body);
		}
		free(rt->http);
	}
	free(cfg->routes);
}

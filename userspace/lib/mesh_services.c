// SPDX-License-Identifier: GPL-2.0-only
/* The services: section of the mesh file, its ports, and the checks
 * across services and clusters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mesh_reader.h"

/*
 * "http2" and "grpc" name an http port too: kmesh tells HTTP/1.1 from
 * h2c (prior knowledge) by the connection's first bytes on any http port
 * (docs/http2.md), so the names say what the port carries, nothing more.
 */
static const char *const protocols[] = { "tcp", "http", "http2", "grpc" };
static const char *const route_changes[] = { "keep", "refuse" };
/* enum mesh_path_norm order */
static const char *const path_norms[] = { "refuse", "escaped_slashes_literal" };

static int read_port_cluster(struct mesh_reader *r, yaml_node_t *v,
			     const char *path, void *obj, void *ctx)
{
	(void)obj;
	return mesh_read_ref(r, v, path, ctx);
}

static int read_port_protocol(struct mesh_reader *r, yaml_node_t *v,
			      const char *path, void *obj, void *ctx)
{
	struct mesh_port *p = obj;
	unsigned int e;

	(void)ctx;
	if (mesh_read_enum(r, v, path, protocols,
			   sizeof(protocols) / sizeof(protocols[0]), &e))
		return -1;
	p->http = e != 0;
	return 0;
}

static const struct mesh_field port_fields[] = {
	MESH_UINT("port", struct mesh_port, port, 1, 65535),
	MESH_CUSTOM("protocol", read_port_protocol, false),
	MESH_CUSTOM("cluster", read_port_cluster, false),
};
static const struct mesh_schema port_schema = MESH_SCHEMA(port_fields);

static int port_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_port *ports = items;
	struct mesh_service_refs *refs = ctx;
	size_t j;

	ports[i].line = mesh_line(item);
	ports[i].cluster = -1;
	if (mesh_read_fields(r, item, path, &port_schema, &ports[i],
			     &refs->port_clusters[i], NULL))
		return -1;
	for (j = 0; j < i; j++)
		if (ports[j].port == ports[i].port)
			return mesh_fail(r, item, path, "port %u listed twice",
					 ports[i].port);
	return 0;
}

static int read_ports(struct mesh_reader *r, yaml_node_t *v, const char *path,
		      void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_SERVICE_PORTS, sizeof(struct mesh_port),
		"expected at least one port",
	};
	struct mesh_service *s = obj;
	struct mesh_service_refs *refs = ctx;
	size_t nr = mesh_seq_len(v);

	refs->port_clusters = calloc(nr ? nr : 1, sizeof(*refs->port_clusters));
	if (!refs->port_clusters)
		return mesh_fail(r, v, path, "out of memory");
	return mesh_read_list(r, v, path, &l, &s->ports, &s->nr_ports,
			      port_item, refs);
}

static int address_item(struct mesh_reader *r, yaml_node_t *item,
			const char *path, void *items, size_t i, void *ctx)
{
	__u32 (*addrs)[4] = items;
	size_t j;

	(void)ctx;
	if (mesh_read_addr(r, item, path, addrs[i]))
		return -1;
	for (j = 0; j < i; j++)
		if (!memcmp(addrs[j], addrs[i], 16))
			return mesh_fail(r, item, path, "listed twice");
	return 0;
}

static int read_addresses(struct mesh_reader *r, yaml_node_t *v,
			  const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_SERVICE_ADDRESSES, sizeof(__u32[4]),
		"expected at least one address",
	};
	struct mesh_service *s = obj;

	(void)ctx;
	return mesh_read_list(r, v, path, &l, &s->addrs, &s->nr_addrs,
			      address_item, NULL);
}

/*
 * Istio's MeshConfig pathNormalization names, said in kmesh's terms: the
 * ones that rewrite the path cannot be honoured, the others are spelled
 * differently here (and resolve nothing: dot segments stay refused).
 */
static int read_path_norm(struct mesh_reader *r, yaml_node_t *v,
			  const char *path, void *obj, void *ctx)
{
	struct mesh_service *s = obj;
	const char *name = mesh_scalar(v);
	unsigned int e;

	(void)ctx;
	if (name && (!strcasecmp(name, "MERGE_SLASHES") ||
		     !strcasecmp(name, "DECODE_AND_MERGE_SLASHES")))
		return mesh_fail(r, v, path,
				 "Istio's %s rewrites the path, which kmesh does not do; use refuse or escaped_slashes_literal",
				 name);
	if (name && (!strcasecmp(name, "NONE") || !strcasecmp(name, "BASE") ||
		     !strcasecmp(name, "DEFAULT")))
		return mesh_fail(r, v, path,
				 "Istio's %s is escaped_slashes_literal here (%%2F kept as sent; dot segments and // are refused, not resolved)",
				 name);
	if (mesh_read_enum(r, v, path, path_norms, 2, &e))
		return -1;
	s->path_norm = e;
	return 0;
}

/* rate_limit: as written; the model keeps the bucket (interval, burst). */
struct rate_limit_file {
	__u32 requests_per_second;
	__u32 connections_per_second;
	__u32 burst;
	bool per_source;
};

static const struct mesh_field rate_limit_fields[] = {
	MESH_UINT("requests_per_second", struct rate_limit_file,
		  requests_per_second, 1, MESH_MAX_RATE_PER_SECOND),
	MESH_UINT("connections_per_second", struct rate_limit_file,
		  connections_per_second, 1, MESH_MAX_RATE_PER_SECOND),
	MESH_UINT("burst", struct rate_limit_file, burst, 1,
		  MESH_MAX_RATE_BURST),
	MESH_BOOL("per_source", struct rate_limit_file, per_source),
};
static const struct mesh_schema rate_limit_schema = MESH_SCHEMA(rate_limit_fields);

/* One token every 1/rate s; without burst, one second's worth. */
void mesh_rate_limit_set(struct mesh_rate_limit *out, __u32 per_second,
			 __u32 burst, bool per_source)
{
	if (!per_second)
		return;
	out->interval_ns = 1000000000ULL / per_second;
	out->burst = burst ? burst :
		     per_second < MESH_MAX_RATE_BURST ? per_second : MESH_MAX_RATE_BURST;
	out->per_source = per_source;
}

static int read_rate_limit(struct mesh_reader *r, yaml_node_t *v,
			   const char *path, void *obj, void *ctx)
{
	struct mesh_service *s = obj;
	struct rate_limit_file f = {};

	(void)ctx;
	if (mesh_read_fields(r, v, path, &rate_limit_schema, &f, NULL, NULL))
		return -1;
	if (!f.requests_per_second && !f.connections_per_second)
		return mesh_fail(r, v, path,
				 "expected requests_per_second (http ports) or connections_per_second (tcp ports)");
	mesh_rate_limit_set(&s->request_limit, f.requests_per_second, f.burst,
			    f.per_source);
	mesh_rate_limit_set(&s->connect_limit, f.connections_per_second, f.burst,
			    f.per_source);
	s->rate_limit_line = mesh_line(v);
	return 0;
}

static int read_service_cluster(struct mesh_reader *r, yaml_node_t *v,
				const char *path, void *obj, void *ctx)
{
	struct mesh_service_refs *refs = ctx;

	(void)obj;
	return mesh_read_ref(r, v, path, &refs->cluster);
}

static const struct mesh_field service_fields[] = {
	MESH_NAME("name", struct mesh_service, name, true),
	MESH_CUSTOM("addresses", read_addresses, true),
	MESH_CUSTOM("ports", read_ports, true),
	MESH_CUSTOM("cluster", read_service_cluster, false),
	MESH_ENUM("keepalive_route_change", struct mesh_service,
		  refuse_route_change, route_changes),
	MESH_BOOL("failure_mode_allow", struct mesh_service, fail_open),
	MESH_CUSTOM("path_normalization", read_path_norm, false),
	MESH_CUSTOM("rate_limit", read_rate_limit, false),
};
static const struct mesh_schema service_schema = MESH_SCHEMA(service_fields);

static int service_item(struct mesh_reader *r, yaml_node_t *item,
			const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_service *s = &((struct mesh_service *)items)[i];
	struct mesh_service_refs *refs = *(struct mesh_service_refs **)ctx;

	s->line = mesh_line(item);
	return mesh_read_fields(r, item, path, &service_schema, s, &refs[i],
				NULL);
}

int mesh_read_services(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       struct mesh_config *cfg, struct mesh_service_refs **refs)
{
	static const struct mesh_list l = {
		MESH_MAX_SERVICES, sizeof(struct mesh_service), NULL,
	};
	size_t nr = mesh_seq_len(v);

	*refs = calloc(nr ? nr : 1, sizeof(**refs));
	if (!*refs)
		return mesh_fail(r, v, path, "out of memory");
	return mesh_read_list(r, v, path, &l, &cfg->services, &cfg->nr_services,
			      service_item, refs);
}

void mesh_service_refs_free(struct mesh_service_refs *refs, size_t n)
{
	size_t i;

	for (i = 0; refs && i < n; i++)
		free(refs[i].port_clusters);
	free(refs);
}

/* A limit must have ports of its kind: none would be a limit ignored. */
static int check_rate_limit(struct mesh_reader *r, const struct mesh_service *s,
			    size_t i)
{
	char path[MESH_PATH_LEN];
	bool http = false, tcp = false;
	size_t j;

	for (j = 0; j < s->nr_ports; j++) {
		http |= s->ports[j].http;
		tcp |= !s->ports[j].http;
	}
	if (s->request_limit.interval_ns && !http) {
		snprintf(path, sizeof(path), "services[%zu].rate_limit.requests_per_second", i);
		return mesh_fail_at(r, s->rate_limit_line, path,
				    "the service has no http port: requests are counted on http ports only");
	}
	if (s->connect_limit.interval_ns && !tcp) {
		snprintf(path, sizeof(path), "services[%zu].rate_limit.connections_per_second", i);
		return mesh_fail_at(r, s->rate_limit_line, path,
				    "the service has no tcp port: connections are counted on tcp ports only");
	}
	return 0;
}

/* Checks across services: clusters exist, VIP:ports unique, families fit. */
int mesh_check_services(struct mesh_reader *r, struct mesh_config *cfg,
			struct mesh_service_refs *refs)
{
	char path[MESH_PATH_LEN];
	size_t i, j, a, b, k, l, nr_vips = 0;

	for (i = 0; i < cfg->nr_services; i++) {
		struct mesh_service *s = &cfg->services[i];

		for (j = 0; j < s->nr_ports; j++) {
			struct mesh_ref *ref = &refs[i].port_clusters[j];
			struct mesh_port *pt = &s->ports[j];

			if (!ref->name[0])
				ref = &refs[i].cluster;
			if (!ref->name[0]) {
				snprintf(path, sizeof(path), "services[%zu].ports[%zu]", i, j);
				return mesh_fail_at(r, pt->line, path,
					            "no cluster: set services[%zu].cluster or this port's cluster", i);
			}
			pt->cluster = mesh_resolve_cluster(r, ref);
			if (pt->cluster < 0)
				return -1;
		}
		if (check_rate_limit(r, s, i))
			return -1;
		nr_vips += s->nr_addrs * s->nr_ports;
		if (nr_vips > KMESH_L4_MAX_VIPS) {
			snprintf(path, sizeof(path), "services[%zu]", i);
			return mesh_fail_at(r, s->line, path,
				            "more than %d address:port pairs in all services",
				            KMESH_L4_MAX_VIPS);
		}
		for (k = 0; k < i; k++) {
			if (!strcmp(cfg->services[k].name, s->name)) {
				snprintf(path, sizeof(path), "services[%zu].name", i);
				return mesh_fail_at(r, s->line, path,
					            "'%s' is also services[%zu]", s->name, k);
			}
		}
		/* VIP:port unique over every service. */
		for (a = 0; a < s->nr_addrs; a++) {
			for (k = 0; k <= i; k++) {
				struct mesh_service *o = &cfg->services[k];

				for (b = 0; b < (k == i ? 0 : o->nr_addrs); b++) {
					if (memcmp(o->addrs[b], s->addrs[a], 16))
						continue;
					for (j = 0; j < s->nr_ports; j++)
						for (l = 0; l < o->nr_ports; l++)
							if (s->ports[j].port == o->ports[l].port) {
								char text[64];

								mesh_addr_format(s->addrs[a], s->ports[j].port,
										 true, text, sizeof(text));
								snprintf(path, sizeof(path),
									 "services[%zu].addresses[%zu]", i, a);
								return mesh_fail_at(r, s->line, path,
									            "%s is also served by services[%zu] (%s)",
									            text, k, o->name);
							}
				}
			}
		}
		/* An IPv4 socket cannot be connected to an IPv6 endpoint. */
		for (a = 0; a < s->nr_addrs; a++) {
			if (!mesh_addr_is_v4(s->addrs[a]))
				continue;
			for (j = 0; j < s->nr_ports; j++) {
				struct mesh_cluster *c = &cfg->clusters[s->ports[j].cluster];

				for (k = 0; k < c->nr_endpoints; k++) {
					if (mesh_addr_is_v4(c->endpoints[k].addr))
						continue;
					snprintf(path, sizeof(path),
						 "services[%zu].addresses[%zu]", i, a);
					return mesh_fail_at(r, s->line, path,
						            "IPv4 address, but cluster '%s' has an IPv6 endpoint (line %d)",
						            c->name, c->endpoints[k].line);
				}
			}
		}
	}
	return 0;
}


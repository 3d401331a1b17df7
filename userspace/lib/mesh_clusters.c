// SPDX-License-Identifier: GPL-2.0-only
/* The clusters: section of the mesh file, and its endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_reader.h"

static const char *const ep_states[] = {
	[KMESH_EP_HEALTHY] = "healthy",
	[KMESH_EP_DRAINING] = "draining",
};

/* A locality string into @out (char[MESH_LOCALITY_LEN]). */
int mesh_read_locality(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       char *out)
{
	const char *s = mesh_scalar(v), *why;

	if (!s)
		return mesh_fail(r, v, path, "expected region, region/zone or region/zone/subzone");
	why = strlen(s) >= MESH_LOCALITY_LEN ? "longer than region/zone/subzone can be" :
	      mesh_locality_check(s, out);
	return why ? mesh_fail(r, v, path, "'%s': %s", s, why) : 0;
}

static int read_ep_locality(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	struct mesh_endpoint *ep = obj;

	(void)ctx;
	return mesh_read_locality(r, v, path, ep->locality);
}

static const struct mesh_field endpoint_fields[] = {
	MESH_ADDR("address", struct mesh_endpoint, addr, true),
	MESH_UINT("port", struct mesh_endpoint, port, 0, 65535),
	MESH_UINT("weight", struct mesh_endpoint, weight, 1,
		  MESH_MAX_ENDPOINT_WEIGHT),
	MESH_ENUM("state", struct mesh_endpoint, state, ep_states),
	MESH_CUSTOM("locality", read_ep_locality, false),
	MESH_UINT("priority", struct mesh_endpoint, priority, 0,
		  MESH_MAX_ENDPOINT_PRIORITY),
};
static const struct mesh_schema endpoint_schema = MESH_SCHEMA(endpoint_fields);

static const char *const lb_names[] = {
	[KMESH_LB_RANDOM] = "random",
	[KMESH_LB_WEIGHTED] = "weighted",
	[KMESH_LB_ROUND_ROBIN] = "round_robin",
	[KMESH_LB_MAGLEV] = "maglev",
};
static const char *const hash_keys[] = { "source_ip", "source_ip_port" };

const char *mesh_lb_name(unsigned int lb)
{
	return lb < sizeof(lb_names) / sizeof(lb_names[0]) ? lb_names[lb] : "?";
}

static int endpoint_item(struct mesh_reader *r, yaml_node_t *item,
			 const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_endpoint *eps = items, *ep = &eps[i];
	const char *list_path = ctx;
	size_t j;

	ep->weight = 1;
	ep->state = KMESH_EP_HEALTHY;
	ep->line = mesh_line(item);
	if (mesh_read_fields(r, item, path, &endpoint_schema, ep, NULL, NULL))
		return -1;
	for (j = 0; j < i; j++)
		if (!memcmp(eps[j].addr, ep->addr, 16) && eps[j].port == ep->port)
			return mesh_fail(r, item, path,
					 "same address and port as %s[%zu]",
					 list_path, j);
	return 0;
}

static int read_endpoints(struct mesh_reader *r, yaml_node_t *v,
			  const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_CLUSTER_ENDPOINTS, sizeof(struct mesh_endpoint), NULL,
	};
	struct mesh_cluster *c = obj;

	(void)ctx;
	return mesh_read_list(r, v, path, &l, &c->endpoints, &c->nr_endpoints,
			      endpoint_item, (void *)path);
}

static int read_hash_key(struct mesh_reader *r, yaml_node_t *v,
			 const char *path, void *obj, void *ctx)
{
	struct mesh_cluster *c = obj;
	struct mesh_cluster_extra *x = ctx;
	unsigned int e;

	if (mesh_read_enum(r, v, path, hash_keys, 2, &e))
		return -1;
	if (e)
		c->flags |= KMESH_CLUSTER_F_HASH_SRC_PORT;
	x->hash_line = mesh_line(v);
	snprintf(x->hash_path, sizeof(x->hash_path), "%s", path);
	return 0;
}

static int read_region(struct mesh_reader *r, yaml_node_t *v,
		       const char *path, char out[64])
{
	char l[MESH_LOCALITY_LEN];

	if (mesh_read_locality(r, v, path, l))
		return -1;
	if (strchr(l, '/'))
		return mesh_fail(r, v, path, "'%s': a region, without zone", l);
	/* one part: at most 63 characters (mesh_locality_check) */
	memcpy(out, l, strlen(l) + 1);
	return 0;
}

static int read_failover_from(struct mesh_reader *r, yaml_node_t *v,
			      const char *path, void *obj, void *ctx)
{
	(void)ctx;
	return read_region(r, v, path, ((struct mesh_locality_failover *)obj)->from);
}

static int read_failover_to(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	(void)ctx;
	return read_region(r, v, path, ((struct mesh_locality_failover *)obj)->to);
}

static const struct mesh_field failover_fields[] = {
	MESH_CUSTOM("from", read_failover_from, true),
	MESH_CUSTOM("to", read_failover_to, true),
};
static const struct mesh_schema failover_schema = MESH_SCHEMA(failover_fields);

static int failover_item(struct mesh_reader *r, yaml_node_t *item,
			 const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_locality_failover *f = items;
	size_t j;

	(void)ctx;
	if (mesh_read_fields(r, item, path, &failover_schema, &f[i], NULL, NULL))
		return -1;
	if (!strcmp(f[i].from, f[i].to))
		return mesh_fail(r, item, path, "from and to are the same region");
	for (j = 0; j < i; j++)
		if (!strcmp(f[j].from, f[i].from))
			return mesh_fail(r, item, path, "region '%s' already has a failover",
					 f[i].from);
	return 0;
}

static int read_failover(struct mesh_reader *r, yaml_node_t *v,
			 const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_LOCALITY_FAILOVER, sizeof(struct mesh_locality_failover), NULL,
	};
	struct mesh_cluster *c = obj;

	(void)ctx;
	return mesh_read_list(r, v, path, &l, &c->failover, &c->nr_failover,
			      failover_item, NULL);
}

static const struct mesh_field locality_lb_fields[] = {
	MESH_CUSTOM("failover", read_failover, false),
};
static const struct mesh_schema locality_lb_schema = MESH_SCHEMA(locality_lb_fields);

static int read_locality_lb(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	struct mesh_cluster *c = obj;

	(void)ctx;
	c->locality_lb = true;
	return mesh_read_fields(r, v, path, &locality_lb_schema, c, NULL, NULL);
}

static int read_split(struct mesh_reader *r, yaml_node_t *v, const char *path,
		      void *obj, void *ctx)
{
	struct kmesh_outlier_config *o = obj;
	bool split;

	(void)ctx;
	if (mesh_read_bool(r, v, path, &split))
		return -1;
	if (split)
		o->flags |= KMESH_OUTLIER_F_SPLIT;
	return 0;
}

static const struct mesh_field outlier_fields[] = {
	MESH_UINT("consecutive_5xx", struct kmesh_outlier_config, consecutive_5xx,
		  0, MESH_MAX_OUTLIER_CONSECUTIVE),
	MESH_UINT("consecutive_gateway_errors", struct kmesh_outlier_config,
		  gateway_errors, 0, MESH_MAX_OUTLIER_CONSECUTIVE),
	MESH_UINT("consecutive_connect_failures", struct kmesh_outlier_config,
		  connect_failures, 0, MESH_MAX_OUTLIER_CONSECUTIVE),
	MESH_CUSTOM("split_external_local_origin_errors", read_split, false),
	MESH_UINT("interval_ms", struct kmesh_outlier_config, interval_ms, 1,
		  MESH_MAX_OUTLIER_MS),
	MESH_UINT("base_ejection_ms", struct kmesh_outlier_config,
		  base_ejection_ms, 1, MESH_MAX_OUTLIER_MS),
	MESH_UINT("max_ejection_ms", struct kmesh_outlier_config,
		  max_ejection_ms, 1, MESH_MAX_OUTLIER_MS),
	MESH_UINT("max_ejection_percent", struct kmesh_outlier_config,
		  max_ejection_percent, 0, 100),
	MESH_UINT("min_health_percent", struct kmesh_outlier_config,
		  min_health_percent, 0, 100),
};
static const struct mesh_schema outlier_schema = MESH_SCHEMA(outlier_fields);

void mesh_outlier_defaults(struct kmesh_outlier_config *o)
{
	/* Envoy's defaults (Istio's too) */
	memset(o, 0, sizeof(*o));
	o->consecutive_5xx = 5;
	o->interval_ms = 10000;
	o->base_ejection_ms = 30000;
	o->max_ejection_ms = 300000;
	o->max_ejection_percent = 10;
}

static int read_outlier(struct mesh_reader *r, yaml_node_t *v,
			const char *path, void *obj, void *ctx)
{
	struct mesh_cluster *c = obj;

	(void)ctx;
	mesh_outlier_defaults(&c->outlier);
	c->flags |= KMESH_CLUSTER_F_OUTLIER;
	return mesh_read_fields(r, v, path, &outlier_schema, &c->outlier, NULL,
				NULL);
}

static const struct mesh_field cluster_fields[] = {
	MESH_NAME("name", struct mesh_cluster, name, true),
	MESH_ENUM("lb", struct mesh_cluster, lb, lb_names),
	MESH_UINT("max_connections", struct mesh_cluster, max_connections, 0,
		  0xffffffffUL),
	MESH_UINT("connect_timeout_ms", struct mesh_cluster, connect_timeout_ms, 1,
		  MESH_MAX_CONNECT_TIMEOUT_MS),
	MESH_CUSTOM("outlier_detection", read_outlier, false),
	MESH_CUSTOM("hash_key", read_hash_key, false),
	MESH_CUSTOM("locality_lb", read_locality_lb, false),
	MESH_CUSTOM("endpoints", read_endpoints, false),
};
static const struct mesh_schema cluster_schema = MESH_SCHEMA(cluster_fields);

static int cluster_item(struct mesh_reader *r, yaml_node_t *item,
			const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_cluster *c = &((struct mesh_cluster *)items)[i];
	struct mesh_cluster_extra *extra = *(struct mesh_cluster_extra **)ctx;

	c->lb = KMESH_LB_ROUND_ROBIN;
	c->line = mesh_line(item);
	return mesh_read_fields(r, item, path, &cluster_schema, c, &extra[i],
				NULL);
}

int mesh_read_clusters(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       struct mesh_config *cfg,
		       struct mesh_cluster_extra **extra)
{
	static const struct mesh_list l = {
		MESH_MAX_CLUSTERS, sizeof(struct mesh_cluster), NULL,
	};
	size_t nr = mesh_seq_len(v);

	*extra = calloc(nr ? nr : 1, sizeof(**extra));
	if (!*extra)
		return mesh_fail(r, v, path, "out of memory");
	return mesh_read_list(r, v, path, &l, &cfg->clusters, &cfg->nr_clusters,
			      cluster_item, extra);
}

int mesh_check_clusters(struct mesh_reader *r, struct mesh_config *cfg,
			const struct mesh_cluster_extra *extra)
{
	char path[MESH_PATH_LEN];
	size_t i, k, nr_eps = 0, nr_maglev = 0;

	for (i = 0; i < cfg->nr_clusters; i++) {
		struct mesh_cluster *c = &cfg->clusters[i];

		for (k = 0; k < i; k++) {
			if (!strcmp(cfg->clusters[k].name, c->name)) {
				snprintf(path, sizeof(path), "clusters[%zu].name", i);
				return mesh_fail_at(r, c->line, path,
						    "'%s' is also clusters[%zu]",
						    c->name, k);
			}
		}
		if (extra[i].hash_line && c->lb != KMESH_LB_MAGLEV)
			return mesh_fail_at(r, extra[i].hash_line,
					    extra[i].hash_path,
					    "only meaningful with lb: maglev");
		nr_eps += c->nr_endpoints;
		nr_maglev += c->lb == KMESH_LB_MAGLEV;
		snprintf(path, sizeof(path), "clusters[%zu]", i);
		if (nr_eps > KMESH_L4_MAX_ENDPOINTS)
			return mesh_fail_at(r, c->line, path,
					    "more than %d endpoints in all clusters",
					    KMESH_L4_MAX_ENDPOINTS);
		if (nr_maglev > KMESH_L4_MAX_MAGLEV_CLUSTERS)
			return mesh_fail_at(r, c->line, path,
					    "more than %d maglev clusters",
					    KMESH_L4_MAX_MAGLEV_CLUSTERS);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mesh file as a whole: its sections (each read by its own file
 * against its field tables: mesh_services.c, mesh_clusters.c,
 * mesh_routes.c, mesh_authz.c; the reader is mesh_reader.c), the checks
 * across sections once all are read (names resolved, ids), and the L7
 * compile of every service, once (l7_check(): its limits get a place).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "l7_build.h"
#include "mesh_reader.h"

/* ---- the top level: one entry per section ---- */

/* What reading the sections leaves for the checks across them. */
struct mesh_read_state {
	struct mesh_config *cfg;
	struct mesh_service_refs *service_refs;
	struct mesh_cluster_extra *cluster_extra;
	struct mesh_l7_refs l7_refs;
};

static int read_services(struct mesh_reader *r, yaml_node_t *v,
			 const char *path, void *obj, void *ctx)
{
	struct mesh_read_state *st = ctx;

	return mesh_read_services(r, v, path, obj, &st->service_refs);
}

static int read_clusters(struct mesh_reader *r, yaml_node_t *v,
			 const char *path, void *obj, void *ctx)
{
	struct mesh_read_state *st = ctx;

	return mesh_read_clusters(r, v, path, obj, &st->cluster_extra);
}

static int read_routes(struct mesh_reader *r, yaml_node_t *v,
		       const char *path, void *obj, void *ctx)
{
	struct mesh_read_state *st = ctx;

	return mesh_read_routes(r, v, path, obj, &st->l7_refs);
}

static int read_authz(struct mesh_reader *r, yaml_node_t *v,
		      const char *path, void *obj, void *ctx)
{
	struct mesh_read_state *st = ctx;

	return mesh_read_authz(r, v, path, obj, &st->l7_refs);
}

static int read_node_locality(struct mesh_reader *r, yaml_node_t *v,
			      const char *path, void *obj, void *ctx)
{
	struct mesh_config *cfg = obj;

	(void)ctx;
	return mesh_read_locality(r, v, path, cfg->node_locality);
}

static const struct mesh_field node_fields[] = {
	MESH_CUSTOM("locality", read_node_locality, false),
};
static const struct mesh_schema node_schema = MESH_SCHEMA(node_fields);

/* node: what this node is (the mesh file is the node's own) */
static int read_node(struct mesh_reader *r, yaml_node_t *v, const char *path,
		     void *obj, void *ctx)
{
	(void)ctx;
	return mesh_read_fields(r, v, path, &node_schema, obj, NULL, NULL);
}

static const struct mesh_field sections[] = {
	MESH_CUSTOM("node", read_node, false),
	MESH_CUSTOM("services", read_services, false),
	MESH_CUSTOM("clusters", read_clusters, false),
	MESH_CUSTOM("routes", read_routes, false),
	MESH_CUSTOM("authorization", read_authz, false),
};
static const struct mesh_schema file_schema = MESH_SCHEMA(sections);

__u32 mesh_l7_id(const char *service, const char *name)
{
	__u32 h = 2166136261U;
	const char *s;

	for (s = service; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619U;
	h = (h ^ '/') * 16777619U;
	for (s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619U;
	h = (h ^ (h >> 16)) & 0x7fffffffU;
	return h ? h : 1;
}


/* ---- names ---- */

static int cmp_named(const void *a, const void *b)
{
	const struct mesh_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* @n names, @stride bytes apart from @first, sorted (then by index). */
static struct mesh_named *index_names(const char *first, size_t stride, size_t n)
{
	struct mesh_named *v = malloc((n + 1) * sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = (struct mesh_named){ first + i * stride, (int)i };
	qsort(v, n, sizeof(*v), cmp_named);
	return v;
}

static int index_config(struct mesh_reader *r, const struct mesh_config *cfg)
{
	r->nr_clusters = cfg->nr_clusters;
	r->nr_services = cfg->nr_services;
	r->clusters_by_name = index_names(cfg->clusters[0].name,
					  sizeof(*cfg->clusters), cfg->nr_clusters);
	r->services_by_name = index_names(cfg->services[0].name,
					  sizeof(*cfg->services), cfg->nr_services);
	if (!r->clusters_by_name || !r->services_by_name)
		return mesh_fail_at(r, 1, "", "out of memory");
	return 0;
}

bool mesh_service_has_tcp(const struct mesh_service *s)
{
	size_t i;

	for (i = 0; i < s->nr_ports; i++)
		if (!s->ports[i].http)
			return true;
	return false;
}

bool mesh_service_tcp_only(const struct mesh_service *s)
{
	size_t i;

	for (i = 0; i < s->nr_ports; i++)
		if (s->ports[i].http)
			return false;
	return true;
}

/* Services and clusters named by routes and policies. */
static int resolve_l7_refs(struct mesh_reader *r, struct mesh_config *cfg,
			   struct mesh_l7_refs *refs)
{
	size_t i;

	for (i = 0; i < refs->n; i++) {
		struct mesh_l7_ref *ref = &refs->v[i];

		if (!ref->service) {
			*ref->out = mesh_resolve_cluster(r, &ref->ref);
			if (*ref->out < 0)
				return -1;
			continue;
		}
		*ref->out = mesh_find_service(r, ref->ref.name);
		if (*ref->out < 0)
			return mesh_fail_at(r, ref->ref.line, ref->ref.path,
					    "unknown service '%s'", ref->ref.name);
		if (mesh_service_tcp_only(&cfg->services[*ref->out]) && !ref->authz)
			return mesh_fail_at(r, ref->ref.line, ref->ref.path,
					    "service '%s' has no http port (L7 rules apply to ports with protocol: http)",
					    ref->ref.name);
	}
	return 0;
}

static int parse_doc(struct mesh_reader *r, struct mesh_config *cfg)
{
	struct mesh_read_state st = { .cfg = cfg };
	yaml_node_t *root = yaml_document_get_root_node(r->doc);
	struct l7_check_err ce;
	int err = -1;

	if (!root) {
		mesh_fail_at(r, 1, "", "empty file: expected a mapping with services: and clusters:");
		return -1;
	}
	if (mesh_read_fields(r, root, "", &file_schema, cfg, &st, NULL))
		goto out;
	if (!cfg->clusters)
		cfg->clusters = calloc(1, sizeof(*cfg->clusters));
	if (!cfg->services)
		cfg->services = calloc(1, sizeof(*cfg->services));
	if (!cfg->clusters || !cfg->services) {
		mesh_fail_at(r, 1, "", "out of memory");
		goto out;
	}
	if (mesh_check_clusters(r, cfg, st.cluster_extra) ||
	    index_config(r, cfg) ||
	    mesh_check_services(r, cfg, st.service_refs) ||
	    resolve_l7_refs(r, cfg, &st.l7_refs) ||
	    mesh_check_routes(r, cfg) || mesh_check_authz(r, cfg))
		goto out;
	/* Compile every service once, as apply will: limits with a place. */
	if (l7_check(cfg, &ce)) {
		mesh_fail_at(r, ce.line, ce.path, "%s", ce.msg);
		goto out;
	}
	err = 0;
out:
	free(r->clusters_by_name);
	free(r->services_by_name);
	r->clusters_by_name = r->services_by_name = NULL;
	free(st.l7_refs.v);
	mesh_service_refs_free(st.service_refs, cfg->nr_services);
	free(st.cluster_extra);
	return err;
}

int mesh_config_parse(const char *name, const char *text, size_t len,
		      struct mesh_config *cfg, char *err, size_t err_size)
{
	struct mesh_reader r = { .file = name, .err = err, .err_size = err_size };
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_size, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		mesh_fail_at(&r, (int)parser.problem_mark.line + 1, "",
			     "YAML syntax error: %s%s%s",
			     parser.problem ? parser.problem : "?",
			     parser.context ? " " : "",
			     parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	r.doc = &doc;
	rc = parse_doc(&r, cfg);
	yaml_document_delete(&doc);
	/* One document: whatever follows a "---" must not go unread. */
	if (!rc && !yaml_parser_load(&parser, &doc)) {
		rc = mesh_fail_at(&r, (int)parser.problem_mark.line + 1, "",
				  "YAML syntax error: %s",
				  parser.problem ? parser.problem : "?");
	} else if (!rc) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);

		if (root && !(root->type == YAML_SCALAR_NODE &&
			      !root->data.scalar.length))
			rc = mesh_fail_at(&r, mesh_line(root), "",
					  "a second YAML document: the mesh file is one document (kmeshctl apply -f reads several files and Istio resources: see docs/config.md)");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (rc)
		mesh_config_free(cfg);
	return rc;
}

int mesh_config_parse_document(const char *name, struct yaml_document_s *doc,
			       struct mesh_config *cfg, char *err,
			       size_t err_size)
{
	struct mesh_reader r = { .doc = doc, .file = name, .err = err,
				 .err_size = err_size };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = parse_doc(&r, cfg);
	if (rc)
		mesh_config_free(cfg);
	return rc;
}

void mesh_config_free(struct mesh_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_services; i++) {
		free(cfg->services[i].addrs);
		free(cfg->services[i].ports);
	}
	for (i = 0; i < cfg->nr_clusters; i++) {
		free(cfg->clusters[i].endpoints);
		free(cfg->clusters[i].failover);
	}
	mesh_routes_free(cfg);
	mesh_authz_free(cfg);
	l7_compiled_free(cfg->l7);
	free(cfg->services);
	free(cfg->clusters);
	memset(cfg, 0, sizeof(*cfg));
}


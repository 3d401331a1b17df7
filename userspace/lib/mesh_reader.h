/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The schema-driven reader of the mesh file (internal to mesh_*.c).
 *
 * Each section (mesh_services.c, mesh_clusters.c, mesh_routes.c,
 * mesh_authz.c) describes its mappings as tables of struct mesh_field:
 * name, type, required, where the value goes, its limits, or a handler
 * for what no type says. mesh_read_fields() walks a mapping against such
 * a table and mesh_read_list() a list against its limit, so unknown and
 * repeated fields, missing required ones, type and range errors and list
 * lengths are reported the same way everywhere:
 *
 *	FILE:LINE: FIELD.PATH[2].name: expected ...
 */
#ifndef KMESH_MESH_READER_H
#define KMESH_MESH_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <yaml.h>

#include "mesh_config.h"
#include "mesh_limits.h"

#define MESH_PATH_LEN	160

struct mesh_named {
	const char *name;
	int idx;
};

struct mesh_reader {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t err_size;
	/* Cluster and service indexes sorted by name (then index), once the
	 * file is read: thousands of references would be thousands of scans. */
	struct mesh_named *clusters_by_name;
	size_t nr_clusters;
	struct mesh_named *services_by_name;
	size_t nr_services;
};

/* ---- errors and paths ---- */

int mesh_fail_at(struct mesh_reader *r, int line, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline int mesh_line(const yaml_node_t *node)
{
	return (int)node->start_mark.line + 1;
}

#define mesh_fail(r, node, path, ...) \
	mesh_fail_at(r, mesh_line(node), path, __VA_ARGS__)

static inline yaml_node_t *mesh_node(struct mesh_reader *r, int idx)
{
	return yaml_document_get_node(r->doc, idx);
}

static inline const char *mesh_scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE ?
	       (const char *)node->data.scalar.value : NULL;
}

/* "path.field" and "path[i]", cut at MESH_PATH_LEN. */
void mesh_subpath(char *out, const char *path, const char *field);
void mesh_itempath(char *out, const char *path, size_t i);

/* ---- scalars ---- */

int mesh_read_uint(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   unsigned long min, unsigned long max, unsigned long *out);
int mesh_read_name(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   char out[KMESH_NAME_MAX]);
int mesh_read_bool(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   bool *out);
int mesh_read_enum(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   const char *const *names, size_t n, unsigned int *out);
int mesh_read_addr(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   __u32 addr[4]);
/* Any scalar, 1..@max bytes (0..@max with @empty_ok), no NUL; malloc'd. */
int mesh_read_text(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   size_t max, bool empty_ok, char **out);

/* "region[/zone[/subzone]]" into char[MESH_LOCALITY_LEN] @out. */
int mesh_read_locality(struct mesh_reader *r, yaml_node_t *node,
		       const char *path, char *out);

/* ---- the schema of a mapping ---- */

enum mesh_type {
	MESH_T_NAME,	/* char[KMESH_NAME_MAX] */
	MESH_T_UINT,	/* an unsigned integer of .size bytes, .min .. .max */
	MESH_T_BOOL,	/* bool */
	MESH_T_ENUM,	/* one of .names, its index stored in .size bytes */
	MESH_T_ADDR,	/* __u32[4] */
	MESH_T_METHODS,	/* __u32 of KMESH_RT_METHOD_BIT()s */
	MESH_T_PORTS,	/* struct mesh_port_list */
	MESH_T_CIDRS,	/* struct mesh_cidr_list */
	MESH_T_PATTERNS,	/* struct mesh_pattern_list; .min: enum mesh_pat_use */
	MESH_T_CUSTOM,	/* .read does it all */
};

/* @obj: what the mapping fills; @ctx: the section's own reading state. */
typedef int (*mesh_read_fn)(struct mesh_reader *r, yaml_node_t *value,
			    const char *path, void *obj, void *ctx);

struct mesh_field {
	const char *name;
	enum mesh_type type;
	bool required;
	size_t offset;		/* typed fields: where in @obj */
	size_t size;		/* MESH_T_UINT, MESH_T_ENUM: bytes at offset */
	unsigned long min, max;	/* MESH_T_UINT */
	const char *const *names;	/* MESH_T_ENUM */
	size_t nr_names;
	mesh_read_fn read;	/* MESH_T_CUSTOM */
};

#define MESH_SIZEOF(T, member)	sizeof(((T *)0)->member)
#define MESH_NAME(n, T, member, req) \
	{ .name = n, .type = MESH_T_NAME, .required = req, \
	  .offset = offsetof(T, member) }
#define MESH_UINT(n, T, member, lo, hi) \
	{ .name = n, .type = MESH_T_UINT, .offset = offsetof(T, member), \
	  .size = MESH_SIZEOF(T, member), .min = lo, .max = hi }
#define MESH_BOOL(n, T, member) \
	{ .name = n, .type = MESH_T_BOOL, .offset = offsetof(T, member) }
#define MESH_ENUM(n, T, member, list) \
	{ .name = n, .type = MESH_T_ENUM, .offset = offsetof(T, member), \
	  .size = MESH_SIZEOF(T, member), .names = list, \
	  .nr_names = sizeof(list) / sizeof(list[0]) }
#define MESH_ADDR(n, T, member, req) \
	{ .name = n, .type = MESH_T_ADDR, .required = req, \
	  .offset = offsetof(T, member) }
/* MESH_T_METHODS, _PORTS, _CIDRS: the list types of routes and policies */
#define MESH_LIST(n, t, T, member) \
	{ .name = n, .type = t, .offset = offsetof(T, member) }
#define MESH_PATTERNS(n, T, member, use) \
	{ .name = n, .type = MESH_T_PATTERNS, .offset = offsetof(T, member), \
	  .min = use }
#define MESH_CUSTOM(n, fn, req) \
	{ .name = n, .type = MESH_T_CUSTOM, .required = req, .read = fn }

struct mesh_schema {
	const struct mesh_field *fields;
	size_t nr;
};

#define MESH_SCHEMA(table) { table, sizeof(table) / sizeof(table[0]) }

/*
 * Walk mapping @node: every key must be a field of @schema, given once;
 * required fields must be there. *@seen (may be NULL) gets a bit per
 * field given, in table order.
 */
int mesh_read_fields(struct mesh_reader *r, yaml_node_t *node,
		     const char *path, const struct mesh_schema *schema,
		     void *obj, void *ctx, unsigned int *seen);

/* ---- lists ---- */

struct mesh_list {
	size_t max;		/* a mesh_limits.h name */
	size_t item_size;	/* 0: read, nothing allocated */
	const char *if_empty;	/* the error for [], NULL: [] is fine */
};

/* One item of a list; @items is the array, @i the index. */
typedef int (*mesh_item_fn)(struct mesh_reader *r, yaml_node_t *item,
			    const char *path, void *items, size_t i, void *ctx);

/* Is @node a sequence? Its length, or 0. */
size_t mesh_seq_len(const yaml_node_t *node);
static inline yaml_node_t *mesh_seq_item(struct mesh_reader *r,
					 yaml_node_t *seq, size_t i)
{
	return mesh_node(r, seq->data.sequence.items.start[i]);
}

/*
 * A list of at most @l->max items, each read by @fn in a zeroed array
 * *@items (malloc'd) whose *@n counts the items read so far, so that
 * what was read is freed whatever fails.
 */
int mesh_read_list(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   const struct mesh_list *l, void *items, size_t *n,
		   mesh_item_fn fn, void *ctx);

/* ---- values of routes and policies (mesh_l7_values.c) ---- */

enum mesh_pat_use { MESH_PAT_PATH, MESH_PAT_HOST, MESH_PAT_VALUE };

const char *mesh_path_chars_problem(const char *s);
const char *mesh_host_chars_problem(const char *s);
int mesh_read_header_name(struct mesh_reader *r, yaml_node_t *node,
			  const char *path, const char *name,
			  char out[KMESH_RT_MAX_NAME_LEN + 1]);
int mesh_read_methods(struct mesh_reader *r, yaml_node_t *node,
		      const char *path, __u32 *out);
int mesh_read_ports(struct mesh_reader *r, yaml_node_t *node,
		    const char *path, struct mesh_port_list *out);
int mesh_read_cidrs(struct mesh_reader *r, yaml_node_t *node,
		    const char *path, struct mesh_cidr_list *out);
int mesh_read_patterns(struct mesh_reader *r, yaml_node_t *node,
		       const char *path, enum mesh_pat_use use,
		       struct mesh_pattern_list *out);
void mesh_pattern_list_free(struct mesh_pattern_list *l);

/* ---- references by name, resolved once the whole file is read ---- */

struct mesh_ref {
	char name[KMESH_NAME_MAX];
	int line;
	char path[MESH_PATH_LEN];
};

int mesh_read_ref(struct mesh_reader *r, yaml_node_t *v, const char *path,
		  struct mesh_ref *ref);

/* A service or cluster named by a route or a policy. */
struct mesh_l7_ref {
	int *out;
	bool service;		/* else a cluster */
	bool authz;		/* a policy's service: tcp ports are fine */
	struct mesh_ref ref;
};

struct mesh_l7_refs {
	struct mesh_l7_ref *v;
	size_t n, cap;
};

int mesh_add_ref(struct mesh_reader *r, yaml_node_t *v, const char *path,
		 struct mesh_l7_refs *refs, int *out, bool service);

/* Index of cluster @name, or -1 (once mesh_index() ran). */
int mesh_find_cluster(const struct mesh_reader *r, const char *name);
int mesh_find_service(const struct mesh_reader *r, const char *name);
/* The cluster @ref names, or -1 with the error. */
int mesh_resolve_cluster(struct mesh_reader *r, const struct mesh_ref *ref);

/* ---- the sections ---- */

/* What reading services and clusters leaves for the checks across them. */
struct mesh_service_refs {
	struct mesh_ref cluster;	/* the service-wide default */
	struct mesh_ref *port_clusters;
};

struct mesh_cluster_extra {
	int hash_line;			/* hash_key given: where */
	char hash_path[MESH_PATH_LEN];
};

int mesh_read_services(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       struct mesh_config *cfg, struct mesh_service_refs **refs);
/* A token bucket of @per_second (0: none) holding @burst (0: one second's
 * worth), as services[].rate_limit and routes[].http[].rate_limit read it. */
void mesh_rate_limit_set(struct mesh_rate_limit *out, __u32 per_second,
			 __u32 burst, bool per_source);
int mesh_check_services(struct mesh_reader *r, struct mesh_config *cfg,
			struct mesh_service_refs *refs);
void mesh_service_refs_free(struct mesh_service_refs *refs, size_t n);

int mesh_read_clusters(struct mesh_reader *r, yaml_node_t *v, const char *path,
		       struct mesh_config *cfg,
		       struct mesh_cluster_extra **extra);
int mesh_check_clusters(struct mesh_reader *r, struct mesh_config *cfg,
			const struct mesh_cluster_extra *extra);

int mesh_read_routes(struct mesh_reader *r, yaml_node_t *v, const char *path,
		     struct mesh_config *cfg, struct mesh_l7_refs *refs);
int mesh_check_routes(struct mesh_reader *r, struct mesh_config *cfg);
void mesh_routes_free(struct mesh_config *cfg);

int mesh_read_authz(struct mesh_reader *r, yaml_node_t *v, const char *path,
		    struct mesh_config *cfg, struct mesh_l7_refs *refs);
int mesh_check_authz(struct mesh_reader *r, struct mesh_config *cfg);
void mesh_authz_free(struct mesh_config *cfg);

#endif /* KMESH_MESH_READER_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The schema-driven reader of the mesh file (mesh_reader.h): libyaml's
 * document API gives a node tree with line marks; the sections' field
 * tables say what each mapping may hold.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_reader.h"

int mesh_fail_at(struct mesh_reader *r, int line, const char *path,
		 const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(r->err, r->err_size, "%s:%d: %s%s", r->file, line,
			     path, path[0] ? ": " : "");
	if (n < r->err_size) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->err_size - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void mesh_subpath(char *out, const char *path, const char *field)
{
	/* truncation is fine: MESH_PATH_LEN is far more than any real path
	 * (no snprintf: every field of every item passes here) */
	size_t n = strnlen(path, MESH_PATH_LEN - 1), f;

	memmove(out, path, n);
	if (n && n < MESH_PATH_LEN - 1)
		out[n++] = '.';
	f = strnlen(field, MESH_PATH_LEN - 1 - n);
	memcpy(out + n, field, f);
	out[n + f] = '\0';
}

void mesh_itempath(char *out, const char *path, size_t i)
{
	snprintf(out, MESH_PATH_LEN, "%s[%zu]", path, i);
}

/* ---- scalars ---- */

int mesh_read_uint(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s = mesh_scalar(node);
	unsigned long v = 0;
	size_t i;

	if (!s || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !s[0] ||
	    strlen(s) > 10)
		goto bad;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return mesh_fail(r, node, path, "expected an integer %lu..%lu", min, max);
}

static bool valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n >= KMESH_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int mesh_read_name(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   char out[KMESH_NAME_MAX])
{
	const char *s = mesh_scalar(node);

	if (!s || !valid_name(s))
		return mesh_fail(r, node, path,
				 "expected a name of 1..%d letters, digits, '-', '_' or '.'",
				 KMESH_NAME_MAX - 1);
	snprintf(out, KMESH_NAME_MAX, "%s", s);
	return 0;
}

int mesh_read_bool(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   bool *out)
{
	const char *s = mesh_scalar(node);

	if (s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = s[0] == 't';
		return 0;
	}
	return mesh_fail(r, node, path, "expected true or false");
}

int mesh_read_enum(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   const char *const *names, size_t n, unsigned int *out)
{
	const char *s = mesh_scalar(node);
	char list[160] = "";
	size_t i;

	for (i = 0; s && i < n; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*out = (unsigned int)i;
			return 0;
		}
	}
	for (i = 0; i < n; i++) {
		if (!names[i])
			continue;
		if (list[0])
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	return mesh_fail(r, node, path, "expected one of: %s", list);
}

int mesh_read_addr(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   __u32 addr[4])
{
	const char *s = mesh_scalar(node);

	if (!s || mesh_addr_parse(s, addr))
		return mesh_fail(r, node, path, "expected an IPv4 or IPv6 address");
	return 0;
}

int mesh_read_text(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   size_t max, bool empty_ok, char **out)
{
	const char *s = mesh_scalar(node);
	size_t n;

	if (!s)
		return mesh_fail(r, node, path, "expected a string");
	n = node->data.scalar.length;
	if (strlen(s) != n)
		return mesh_fail(r, node, path, "expected a string without NUL bytes");
	if ((!n && !empty_ok) || n > max)
		return mesh_fail(r, node, path, "expected a string of %d..%zu bytes",
				 empty_ok ? 0 : 1, max);
	*out = strdup(s);
	if (!*out)
		return mesh_fail(r, node, path, "out of memory");
	return 0;
}

/* ---- mappings ---- */

static void store_uint(void *at, size_t size, unsigned long v)
{
	switch (size) {
	case 1:
		*(__u8 *)at = (__u8)v;
		break;
	case 2:
		*(__u16 *)at = (__u16)v;
		break;
	default:
		*(__u32 *)at = (__u32)v;
		break;
	}
}

static int read_field(struct mesh_reader *r, const struct mesh_field *f,
		      yaml_node_t *v, const char *path, void *obj, void *ctx)
{
	char *at = (char *)obj + f->offset;
	unsigned long n;
	unsigned int e;

	switch (f->type) {
	case MESH_T_NAME:
		return mesh_read_name(r, v, path, at);
	case MESH_T_UINT:
		if (mesh_read_uint(r, v, path, f->min, f->max, &n))
			return -1;
		store_uint(at, f->size, n);
		return 0;
	case MESH_T_BOOL:
		return mesh_read_bool(r, v, path, (bool *)at);
	case MESH_T_ENUM:
		if (mesh_read_enum(r, v, path, f->names, f->nr_names, &e))
			return -1;
		store_uint(at, f->size, e);
		return 0;
	case MESH_T_ADDR:
		return mesh_read_addr(r, v, path, (__u32 *)at);
	case MESH_T_METHODS:
		return mesh_read_methods(r, v, path, (__u32 *)at);
	case MESH_T_PORTS:
		return mesh_read_ports(r, v, path, (struct mesh_port_list *)at);
	case MESH_T_CIDRS:
		return mesh_read_cidrs(r, v, path, (struct mesh_cidr_list *)at);
	case MESH_T_PATTERNS:
		return mesh_read_patterns(r, v, path, (enum mesh_pat_use)f->min,
					  (struct mesh_pattern_list *)at);
	default:
		return f->read(r, v, path, obj, ctx);
	}
}

int mesh_read_fields(struct mesh_reader *r, yaml_node_t *node,
		     const char *path, const struct mesh_schema *schema,
		     void *obj, void *ctx, unsigned int *seen_out)
{
	const struct mesh_field *fields = schema->fields;
	size_t nr = schema->nr, i;
	yaml_node_pair_t *pair;
	char fpath[MESH_PATH_LEN], list[200] = "";
	unsigned int seen = 0;

	if (node->type != YAML_MAPPING_NODE)
		return mesh_fail(r, node, path, "expected a mapping");
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = mesh_node(r, pair->key);
		yaml_node_t *v = mesh_node(r, pair->value);
		const char *key = k ? mesh_scalar(k) : NULL;

		if (!key || !v)
			return mesh_fail(r, k ? k : node, path,
					 "expected field names as keys");
		mesh_subpath(fpath, path, key);
		for (i = 0; i < nr; i++)
			if (!strcmp(key, fields[i].name))
				break;
		if (i == nr) {
			for (i = 0; i < nr; i++) {
				if (list[0])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, fields[i].name,
					sizeof(list) - strlen(list) - 1);
			}
			return mesh_fail(r, k, fpath,
					 "unknown field (expected one of: %s)", list);
		}
		if (seen & (1U << i))
			return mesh_fail(r, k, fpath, "given twice");
		seen |= 1U << i;
		if (seen_out)
			*seen_out = seen;
		if (read_field(r, &fields[i], v, fpath, obj, ctx))
			return -1;
	}
	if (seen_out)
		*seen_out = seen;
	for (i = 0; i < nr; i++)
		if (fields[i].required && !(seen & (1U << i)))
			return mesh_fail(r, node, path,
					 "missing required field '%s'",
					 fields[i].name);
	return 0;
}

/* ---- lists ---- */

size_t mesh_seq_len(const yaml_node_t *node)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(node->data.sequence.items.top -
			node->data.sequence.items.start);
}

int mesh_read_list(struct mesh_reader *r, yaml_node_t *node, const char *path,
		   const struct mesh_list *l, void *items, size_t *n,
		   mesh_item_fn fn, void *ctx)
{
	char ipath[MESH_PATH_LEN];
	void *v = NULL;
	size_t nr, i;

	if (node->type != YAML_SEQUENCE_NODE)
		return mesh_fail(r, node, path, "expected a list");
	nr = mesh_seq_len(node);
	if (nr > l->max)
		return mesh_fail(r, node, path, "at most %zu entries", l->max);
	if (!nr && l->if_empty)
		return mesh_fail(r, node, path, "%s", l->if_empty);
	if (l->item_size) {
		v = calloc(nr ? nr : 1, l->item_size);
		if (!v)
			return mesh_fail(r, node, path, "out of memory");
		*(void **)items = v;
	}
	for (i = 0; i < nr; i++) {
		if (n)
			*n = i + 1;
		mesh_itempath(ipath, path, i);
		if (fn(r, mesh_seq_item(r, node, i), ipath, v, i, ctx))
			return -1;
	}
	return 0;
}

/* ---- references ---- */

int mesh_read_ref(struct mesh_reader *r, yaml_node_t *v, const char *path,
		  struct mesh_ref *ref)
{
	if (mesh_read_name(r, v, path, ref->name))
		return -1;
	ref->line = mesh_line(v);
	snprintf(ref->path, sizeof(ref->path), "%s", path);
	return 0;
}

int mesh_add_ref(struct mesh_reader *r, yaml_node_t *v, const char *path,
		 struct mesh_l7_refs *refs, int *out, bool service)
{
	struct mesh_l7_ref *ref;

	if (refs->n == refs->cap) {
		size_t cap = refs->cap ? refs->cap * 2 : 16;

		ref = realloc(refs->v, cap * sizeof(*ref));
		if (!ref)
			return mesh_fail(r, v, path, "out of memory");
		refs->v = ref;
		refs->cap = cap;
	}
	ref = &refs->v[refs->n];
	memset(ref, 0, sizeof(*ref));
	ref->out = out;
	ref->service = service;
	if (mesh_read_ref(r, v, path, &ref->ref))
		return -1;
	refs->n++;
	return 0;
}

/* Index of the first of @n sorted names equal to @name, or -1. */
static int find_named(const struct mesh_named *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {	/* the first one not below @name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(v[lo].name, name) ? v[lo].idx : -1;
}

int mesh_find_cluster(const struct mesh_reader *r, const char *name)
{
	return find_named(r->clusters_by_name, r->nr_clusters, name);
}

int mesh_find_service(const struct mesh_reader *r, const char *name)
{
	return find_named(r->services_by_name, r->nr_services, name);
}

int mesh_resolve_cluster(struct mesh_reader *r, const struct mesh_ref *ref)
{
	int c = mesh_find_cluster(r, ref->name);

	if (c < 0)
		return mesh_fail_at(r, ref->line, ref->path,
				    "unknown cluster '%s'", ref->name);
	return c;
}

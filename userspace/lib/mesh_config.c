// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mesh config: libyaml's document API gives a node tree with line marks;
 * this file walks it with the schema in hand (docs/config.md) and checks
 * everything that can be checked without the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "l7_build.h"
#include "mesh_config.h"
#include "route_build.h"

#define PATH_MAX_LEN	160

struct pctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t err_size;
	/* Cluster and service indexes sorted by name (then index), once the
	 * file is read: thousands of references would be thousands of scans. */
	struct named *clusters_by_name;
	size_t nr_clusters;
	struct named *services_by_name;
	size_t nr_services;
};

struct named {
	const char *name;
	int idx;
};

/* A cluster reference, resolved once every cluster is known. */
struct cluster_ref {
	char name[KMESH_NAME_MAX];
	int line;
	char path[PATH_MAX_LEN];
};

static int fail_at(struct pctx *p, int line, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(struct pctx *p, int line, const char *path,
		   const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(p->err, p->err_size, "%s:%d: %s%s", p->file, line,
			     path, path[0] ? ": " : "");
	if (n < p->err_size) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->err_size - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int line_of(const yaml_node_t *node)
{
	return (int)node->start_mark.line + 1;
}

#define fail(p, node, path, ...) fail_at(p, line_of(node), path, __VA_ARGS__)

static yaml_node_t *node_at(struct pctx *p, int idx)
{
	return yaml_document_get_node(p->doc, idx);
}

static const char *scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE ?
	       (const char *)node->data.scalar.value : NULL;
}

static void subpath(char *out, const char *path, const char *field)
{
	/* truncation is fine: PATH_MAX_LEN is far more than any real path
	 * (no snprintf: every field of every item passes here) */
	size_t n = strnlen(path, PATH_MAX_LEN - 1), f;

	memmove(out, path, n);
	if (n && n < PATH_MAX_LEN - 1)
		out[n++] = '.';
	f = strnlen(field, PATH_MAX_LEN - 1 - n);
	memcpy(out + n, field, f);
	out[n + f] = '\0';
}

static void itempath(char *out, const char *path, size_t i)
{
	snprintf(out, PATH_MAX_LEN, "%s[%zu]", path, i);
}

/* ---- scalars ---- */

static int get_uint(struct pctx *p, yaml_node_t *node, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s = scalar(node);
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
	return fail(p, node, path, "expected an integer %lu..%lu", min, max);
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

static int get_name(struct pctx *p, yaml_node_t *node, const char *path,
		    char out[KMESH_NAME_MAX])
{
	const char *s = scalar(node);

	if (!s || !valid_name(s))
		return fail(p, node, path,
			    "expected a name of 1..%d letters, digits, '-', '_' or '.'",
			    KMESH_NAME_MAX - 1);
	snprintf(out, KMESH_NAME_MAX, "%s", s);
	return 0;
}

static int get_bool(struct pctx *p, yaml_node_t *node, const char *path,
		    bool *out)
{
	const char *s = scalar(node);

	if (s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = s[0] == 't';
		return 0;
	}
	return fail(p, node, path, "expected true or false");
}

static int get_enum(struct pctx *p, yaml_node_t *node, const char *path,
		    const char *const *names, size_t n, unsigned int *out)
{
	const char *s = scalar(node);
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
	return fail(p, node, path, "expected one of: %s", list);
}

static int get_addr(struct pctx *p, yaml_node_t *node, const char *path,
		    __u32 addr[4])
{
	const char *s = scalar(node);

	if (!s || mesh_addr_parse(s, addr))
		return fail(p, node, path, "expected an IPv4 or IPv6 address");
	return 0;
}

/* ---- mappings and sequences ---- */

/*
 * Walk a mapping whose keys must all be in @fields; @fn handles one
 * field. Duplicate and unknown keys are errors.
 */
typedef int (*field_fn)(struct pctx *p, size_t field, yaml_node_t *value,
			const char *path, void *obj);

static int walk_mapping(struct pctx *p, yaml_node_t *node, const char *path,
			const char *const *fields, size_t nr_fields,
			unsigned int *seen, field_fn fn, void *obj)
{
	yaml_node_pair_t *pair;
	char fpath[PATH_MAX_LEN], list[200] = "";
	size_t i;

	if (node->type != YAML_MAPPING_NODE)
		return fail(p, node, path, "expected a mapping");
	*seen = 0;
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(p, pair->key);
		yaml_node_t *v = node_at(p, pair->value);
		const char *key = k ? scalar(k) : NULL;

		if (!key || !v)
			return fail(p, k ? k : node, path, "expected field names as keys");
		subpath(fpath, path, key);
		for (i = 0; i < nr_fields; i++)
			if (!strcmp(key, fields[i]))
				break;
		if (i == nr_fields) {
			for (i = 0; i < nr_fields; i++) {
				if (list[0])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, fields[i], sizeof(list) - strlen(list) - 1);
			}
			return fail(p, k, fpath, "unknown field (expected one of: %s)", list);
		}
		if (*seen & (1U << i))
			return fail(p, k, fpath, "given twice");
		*seen |= 1U << i;
		if (fn(p, i, v, fpath, obj))
			return -1;
	}
	return 0;
}

static int need(struct pctx *p, yaml_node_t *node, const char *path,
		unsigned int seen, const char *const *fields, size_t field)
{
	if (seen & (1U << field))
		return 0;
	return fail(p, node, path, "missing required field '%s'", fields[field]);
}

static int get_seq(struct pctx *p, yaml_node_t *node, const char *path,
		   size_t max, size_t *n)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return fail(p, node, path, "expected a list");
	*n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (*n > max)
		return fail(p, node, path, "at most %zu entries", max);
	return 0;
}

static yaml_node_t *seq_item(struct pctx *p, yaml_node_t *seq, size_t i)
{
	return node_at(p, seq->data.sequence.items.start[i]);
}

/* ---- endpoints ---- */

enum { EP_ADDRESS, EP_PORT, EP_WEIGHT, EP_STATE, EP_NR };
static const char *const ep_fields[EP_NR] = {
	"address", "port", "weight", "state",
};
static const char *const ep_states[] = {
	[KMESH_EP_HEALTHY] = "healthy",
	[KMESH_EP_DRAINING] = "draining",
};

static int ep_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct mesh_endpoint *ep = obj;
	unsigned long n;
	unsigned int e;

	switch (f) {
	case EP_ADDRESS:
		return get_addr(p, v, path, ep->addr);
	case EP_PORT:
		if (get_uint(p, v, path, 0, 65535, &n))
			return -1;
		ep->port = (__u16)n;
		return 0;
	case EP_WEIGHT:
		if (get_uint(p, v, path, 1, KMESH_L4_MAX_WEIGHT, &n))
			return -1;
		ep->weight = (__u16)n;
		return 0;
	default:
		if (get_enum(p, v, path, ep_states, 2, &e))
			return -1;
		ep->state = (__u8)e;
		return 0;
	}
}

/* ---- clusters ---- */

enum { CL_NAME, CL_LB, CL_MAXCONN, CL_HASH, CL_ENDPOINTS, CL_NR };
static const char *const cl_fields[CL_NR] = {
	"name", "lb", "max_connections", "hash_key", "endpoints",
};
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

struct cluster_parse {
	struct mesh_cluster *c;
	int hash_line;
	char hash_path[PATH_MAX_LEN];
};

static int cl_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct cluster_parse *cp = obj;
	struct mesh_cluster *c = cp->c;
	char ipath[PATH_MAX_LEN];
	unsigned long n;
	unsigned int e, seen;
	size_t i, nr;

	switch (f) {
	case CL_NAME:
		return get_name(p, v, path, c->name);
	case CL_LB:
		if (get_enum(p, v, path, lb_names, 4, &e))
			return -1;
		c->lb = (__u8)e;
		return 0;
	case CL_MAXCONN:
		if (get_uint(p, v, path, 0, 0xffffffffUL, &n))
			return -1;
		c->max_connections = (__u32)n;
		return 0;
	case CL_HASH:
		if (get_enum(p, v, path, hash_keys, 2, &e))
			return -1;
		if (e)
			c->flags |= KMESH_CLUSTER_F_HASH_SRC_PORT;
		cp->hash_line = line_of(v);
		snprintf(cp->hash_path, sizeof(cp->hash_path), "%s", path);
		return 0;
	default:
		if (get_seq(p, v, path, KMESH_L4_MAX_CLUSTER_ENDPOINTS, &nr))
			return -1;
		c->endpoints = calloc(nr ? nr : 1, sizeof(*c->endpoints));
		if (!c->endpoints)
			return fail(p, v, path, "out of memory");
		c->nr_endpoints = nr;
		for (i = 0; i < nr; i++) {
			struct mesh_endpoint *ep = &c->endpoints[i];
			yaml_node_t *item = seq_item(p, v, i);
			size_t j;

			itempath(ipath, path, i);
			ep->weight = 1;
			ep->state = KMESH_EP_HEALTHY;
			ep->line = line_of(item);
			if (walk_mapping(p, item, ipath, ep_fields, EP_NR, &seen,
					 ep_field, ep) ||
			    need(p, item, ipath, seen, ep_fields, EP_ADDRESS))
				return -1;
			for (j = 0; j < i; j++) {
				if (!memcmp(c->endpoints[j].addr, ep->addr, 16) &&
				    c->endpoints[j].port == ep->port)
					return fail(p, item, ipath,
						    "same address and port as %s[%zu]",
						    path, j);
			}
		}
		return 0;
	}
}

/* ---- services ---- */

enum {
	SV_NAME, SV_ADDRESSES, SV_PORTS, SV_CLUSTER, SV_ROUTE_CHANGE,
	SV_FAIL_OPEN, SV_PATH_NORM, SV_NR
};
static const char *const sv_fields[SV_NR] = {
	"name", "addresses", "ports", "cluster", "keepalive_route_change",
	"failure_mode_allow", "path_normalization",
};
static const char *const route_changes[] = { "keep", "refuse" };
/* enum mesh_path_norm order */
static const char *const path_norms[] = { "refuse", "escaped_slashes_literal" };

/*
 * Istio's MeshConfig pathNormalization names, said in kmesh's terms: the
 * ones that rewrite the path cannot be honoured, the others are spelled
 * differently here (and resolve nothing: dot segments stay refused).
 */
static int istio_path_norm(struct pctx *p, yaml_node_t *v, const char *path)
{
	const char *s = scalar(v);

	if (!s)
		return 0;
	if (!strcasecmp(s, "MERGE_SLASHES") ||
	    !strcasecmp(s, "DECODE_AND_MERGE_SLASHES"))
		return fail(p, v, path,
			    "Istio's %s rewrites the path, which kmesh does not do; use refuse or escaped_slashes_literal",
			    s);
	if (!strcasecmp(s, "NONE") || !strcasecmp(s, "BASE") ||
	    !strcasecmp(s, "DEFAULT"))
		return fail(p, v, path,
			    "Istio's %s is escaped_slashes_literal here (%%2F kept as sent; dot segments and // are refused, not resolved)",
			    s);
	return 0;
}

enum { PT_PORT, PT_PROTOCOL, PT_CLUSTER, PT_NR };
static const char *const pt_fields[PT_NR] = { "port", "protocol", "cluster" };
static const char *const protocols[] = { "tcp", "http" };

struct port_parse {
	struct mesh_port *pt;
	struct cluster_ref *ref;
};

static int get_ref(struct pctx *p, yaml_node_t *v, const char *path,
		   struct cluster_ref *ref)
{
	if (get_name(p, v, path, ref->name))
		return -1;
	ref->line = line_of(v);
	snprintf(ref->path, sizeof(ref->path), "%s", path);
	return 0;
}

static int pt_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct port_parse *pp = obj;
	unsigned long n;
	unsigned int e;

	switch (f) {
	case PT_PORT:
		if (get_uint(p, v, path, 1, 65535, &n))
			return -1;
		pp->pt->port = (__u16)n;
		return 0;
	case PT_PROTOCOL:
		if (get_enum(p, v, path, protocols, 2, &e))
			return -1;
		pp->pt->http = e == 1;
		return 0;
	default:
		return get_ref(p, v, path, pp->ref);
	}
}

struct service_parse {
	struct mesh_service *s;
	struct cluster_ref ref;		/* service-wide default */
	struct cluster_ref *port_refs;
};

static int sv_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct service_parse *sp = obj;
	struct mesh_service *s = sp->s;
	char ipath[PATH_MAX_LEN];
	unsigned int seen;
	size_t i, j, nr;

	switch (f) {
	case SV_NAME:
		return get_name(p, v, path, s->name);
	case SV_ADDRESSES:
		if (get_seq(p, v, path, KMESH_L4_MAX_VIPS, &nr))
			return -1;
		if (!nr)
			return fail(p, v, path, "expected at least one address");
		s->addrs = calloc(nr, sizeof(*s->addrs));
		if (!s->addrs)
			return fail(p, v, path, "out of memory");
		s->nr_addrs = nr;
		for (i = 0; i < nr; i++) {
			itempath(ipath, path, i);
			if (get_addr(p, seq_item(p, v, i), ipath, s->addrs[i]))
				return -1;
			for (j = 0; j < i; j++)
				if (!memcmp(s->addrs[j], s->addrs[i], 16))
					return fail(p, seq_item(p, v, i), ipath,
						    "listed twice");
		}
		return 0;
	case SV_PORTS:
		if (get_seq(p, v, path, 256, &nr))
			return -1;
		if (!nr)
			return fail(p, v, path, "expected at least one port");
		s->ports = calloc(nr, sizeof(*s->ports));
		sp->port_refs = calloc(nr, sizeof(*sp->port_refs));
		if (!s->ports || !sp->port_refs)
			return fail(p, v, path, "out of memory");
		s->nr_ports = nr;
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct port_parse pp = { &s->ports[i], &sp->port_refs[i] };

			itempath(ipath, path, i);
			s->ports[i].line = line_of(item);
			s->ports[i].cluster = -1;
			if (walk_mapping(p, item, ipath, pt_fields, PT_NR, &seen,
					 pt_field, &pp) ||
			    need(p, item, ipath, seen, pt_fields, PT_PORT))
				return -1;
			for (j = 0; j < i; j++)
				if (s->ports[j].port == s->ports[i].port)
					return fail(p, item, ipath, "port %u listed twice",
						    s->ports[i].port);
		}
		return 0;
	case SV_ROUTE_CHANGE:
		if (get_enum(p, v, path, route_changes, 2, &seen))
			return -1;
		s->refuse_route_change = seen == 1;
		return 0;
	case SV_FAIL_OPEN:
		return get_bool(p, v, path, &s->fail_open);
	case SV_PATH_NORM:
		if (istio_path_norm(p, v, path) ||
		    get_enum(p, v, path, path_norms, 2, &seen))
			return -1;
		s->path_norm = seen;
		return 0;
	default:
		return get_ref(p, v, path, &sp->ref);
	}
}

/* ---- L7: shared pieces ---- */

/*
 * References to services and clusters by name from routes and
 * authorization, resolved once the whole file is read (it may list
 * services after the policies that name them).
 */
struct l7_ref {
	int *out;
	bool service;		/* else a cluster */
	bool authz;		/* a policy's service: tcp ports are fine */
	struct cluster_ref ref;
};

struct l7_refs {
	struct l7_ref *v;
	size_t n, cap;
};

static int add_ref(struct pctx *p, yaml_node_t *v, const char *path,
		   struct l7_refs *refs, int *out, bool service)
{
	struct l7_ref *r;

	if (refs->n == refs->cap) {
		size_t cap = refs->cap ? refs->cap * 2 : 16;

		r = realloc(refs->v, cap * sizeof(*r));
		if (!r)
			return fail(p, v, path, "out of memory");
		refs->v = r;
		refs->cap = cap;
	}
	r = &refs->v[refs->n];
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->service = service;
	if (get_ref(p, v, path, &r->ref))
		return -1;
	refs->n++;
	return 0;
}

/* Any scalar, 1..@max bytes (0..@max with @empty_ok), no NUL; malloc'd. */
static int get_text(struct pctx *p, yaml_node_t *node, const char *path,
		    size_t max, bool empty_ok, char **out)
{
	const char *s = scalar(node);
	size_t n;

	if (!s)
		return fail(p, node, path, "expected a string");
	n = node->data.scalar.length;
	if (strlen(s) != n)
		return fail(p, node, path, "expected a string without NUL bytes");
	if ((!n && !empty_ok) || n > max)
		return fail(p, node, path, "expected a string of %d..%zu bytes",
			    empty_ok ? 0 : 1, max);
	*out = strdup(s);
	if (!*out)
		return fail(p, node, path, "out of memory");
	return 0;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_vchar(char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Header name: a token of 1..64 bytes, stored lower-case. */
static int get_header_name(struct pctx *p, yaml_node_t *node, const char *path,
			   const char *name, char out[KMESH_RT_MAX_NAME_LEN + 1])
{
	size_t i, n = name ? strlen(name) : 0;

	/* The length first: @out has room for KMESH_RT_MAX_NAME_LEN only. */
	for (i = 0; n <= KMESH_RT_MAX_NAME_LEN && i < n && is_tchar(name[i]); i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] + ('a' - 'A') : name[i]);
	if (!n || i < n)
		return fail(p, node, path,
			    "expected a header name (a token of 1..%d bytes)",
			    KMESH_RT_MAX_NAME_LEN);
	out[n] = '\0';
	return 0;
}

/* A method list: tokens, case-sensitive as in HTTP. */
static int get_methods(struct pctx *p, yaml_node_t *node, const char *path,
		       __u32 *out)
{
	static const char *const known[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
		"TRACE", "PATCH",
	};
	char ipath[PATH_MAX_LEN];
	size_t nr, i, k;

	if (get_seq(p, node, path, MESH_L7_MAX_METHODS, &nr))
		return -1;
	if (!nr)
		return fail(p, node, path, "expected at least one method");
	*out = 0;
	for (i = 0; i < nr; i++) {
		yaml_node_t *item = seq_item(p, node, i);
		const char *s = scalar(item);
		__u32 bit;

		itempath(ipath, path, i);
		bit = s ? kmesh_rtb_method_bit(s) : 0;
		for (k = 0; bit && k < sizeof(known) / sizeof(known[0]); k++)
			if (strcasecmp(s, known[k]) == 0 && strcmp(s, known[k]))
				bit = 0;	/* "get": a typo, not a method */
		if (!bit)
			return fail(p, item, ipath,
				    "expected an HTTP method such as GET (a token; methods are case-sensitive)");
		*out |= bit;
	}
	return 0;
}

static int get_ports(struct pctx *p, yaml_node_t *node, const char *path,
		     struct mesh_port_list *out)
{
	char ipath[PATH_MAX_LEN];
	unsigned long v;
	size_t nr, i;

	if (get_seq(p, node, path, MESH_L7_MAX_PORTS, &nr))
		return -1;
	if (!nr)
		return fail(p, node, path, "expected at least one port");
	out->v = calloc(nr, sizeof(*out->v));
	if (!out->v)
		return fail(p, node, path, "out of memory");
	out->n = nr;
	for (i = 0; i < nr; i++) {
		itempath(ipath, path, i);
		if (get_uint(p, seq_item(p, node, i), ipath, 1, 65535, &v))
			return -1;
		out->v[i] = (__u16)v;
	}
	return 0;
}

int mesh_cidr_parse(const char *text, struct mesh_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	bool v4;
	int i;

	if (!text || strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (mesh_addr_parse(buf, out->addr))
		return -1;
	v4 = mesh_addr_is_v4(out->addr) && strchr(buf, '.');
	bits = v4 ? 32 : 128;
	if (slash) {
		if (!slash[1] || slash[1] == '+' || slash[1] == '-')
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > (v4 ? 32UL : 128UL) ||
		    (slash[1] == '0' && slash[2]))
			return -1;
	}
	out->bits = (__u8)(v4 ? 96 + bits : bits);
	/* host bits must be zero: "10.0.0.1/8" is most likely a typo */
	for (i = 0; i < 4; i++) {
		__u32 keep = out->bits >= (i + 1) * 32 ? 0xffffffffU :
			     out->bits <= i * 32 ? 0 :
			     0xffffffffU << (32 - (out->bits - i * 32));

		if (ntohl(out->addr[i]) & ~keep)
			return -1;
	}
	return 0;
}

static int get_cidrs(struct pctx *p, yaml_node_t *node, const char *path,
		     struct mesh_cidr_list *out)
{
	char ipath[PATH_MAX_LEN];
	size_t nr, i;

	if (get_seq(p, node, path, MESH_L7_MAX_CIDRS, &nr))
		return -1;
	if (!nr)
		return fail(p, node, path, "expected at least one address or CIDR");
	out->v = calloc(nr, sizeof(*out->v));
	if (!out->v)
		return fail(p, node, path, "out of memory");
	out->n = nr;
	for (i = 0; i < nr; i++) {
		yaml_node_t *item = seq_item(p, node, i);

		itempath(ipath, path, i);
		if (mesh_cidr_parse(scalar(item), &out->v[i]))
			return fail(p, item, ipath,
				    "expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8, fd00::/16) without host bits");
	}
	return 0;
}

/* Path bytes as a request can carry them, minus the query. */
static const char *path_chars_problem(const char *s)
{
	for (; *s; s++) {
		if (*s == '?')
			return "holds '?' (the query is never part of the path)";
		if (!is_vchar(*s) || *s == '#')
			return "holds a byte no request path can hold";
	}
	return NULL;
}

static const char *host_chars_problem(const char *s)
{
	for (; *s; s++) {
		if (*s == ':' && !strchr(s, ']'))
			return "has a port (ports are not part of the host here; leave it out)";
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr("-._~[]:", *s)))
			return "has a character a host name cannot hold";
	}
	return NULL;
}

enum pat_use { PAT_PATH, PAT_HOST, PAT_VALUE };

/*
 * Istio string match: "*" (present), "*suffix", "prefix*" or exact. Hosts
 * are lower-cased. Paths must start with '/' unless they are a suffix.
 */
static int get_istio_pattern(struct pctx *p, yaml_node_t *node,
			     const char *path, enum pat_use use,
			     struct mesh_pattern *out)
{
	const char *why = NULL;
	char *s = NULL, *body;
	size_t n, i;

	if (get_text(p, node, path, KMESH_RT_MAX_STR_LEN + 1, false, &s))
		return -1;
	n = strlen(s);
	if (use == PAT_HOST)
		for (i = 0; i < n; i++)
			if (s[i] >= 'A' && s[i] <= 'Z')
				s[i] = (char)(s[i] + ('a' - 'A'));
	if (!strcmp(s, "*")) {
		free(s);
		out->kind = MESH_M_PRESENT;
		out->text = NULL;
		return 0;
	}
	body = s;
	if (s[0] == '*') {
		out->kind = MESH_M_SUFFIX;
		memmove(s, s + 1, n--);
	} else if (s[n - 1] == '*') {
		out->kind = MESH_M_PREFIX;
		s[--n] = '\0';
	} else {
		out->kind = MESH_M_EXACT;
	}
	out->text = s;
	if (strchr(body, '*'))
		why = "has a '*' that is neither leading nor trailing";
	else if (n > KMESH_RT_MAX_STR_LEN)
		why = "is longer than 256 bytes";
	else if (use == PAT_PATH && out->kind != MESH_M_SUFFIX && body[0] != '/')
		why = "does not start with '/' (or '*' for a suffix)";
	else if (use == PAT_PATH)
		why = path_chars_problem(body);
	else if (use == PAT_HOST)
		why = host_chars_problem(body);
	else
		for (i = 0; i < n && !why; i++)
			if (!is_vchar(body[i]) && body[i] != ' ' &&
			    body[i] != '\t' && !((unsigned char)body[i] & 0x80))
				why = "holds a control byte";
	if (why)
		return fail(p, node, path, "\"%s\" %s", scalar(node), why);
	return 0;
}

static int get_pattern_list(struct pctx *p, yaml_node_t *node, const char *path,
			    enum pat_use use, struct mesh_pattern_list *out)
{
	char ipath[PATH_MAX_LEN];
	size_t nr, i;

	if (get_seq(p, node, path, MESH_L7_MAX_PATTERNS, &nr))
		return -1;
	if (!nr)
		return fail(p, node, path, "expected at least one value");
	out->v = calloc(nr, sizeof(*out->v));
	if (!out->v)
		return fail(p, node, path, "out of memory");
	out->n = nr;
	for (i = 0; i < nr; i++) {
		itempath(ipath, path, i);
		if (get_istio_pattern(p, seq_item(p, node, i), ipath, use,
				      &out->v[i]))
			return -1;
	}
	return 0;
}

static void free_pattern_list(struct mesh_pattern_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
}

/* ---- routes ---- */

/* uri: exactly one of exact, prefix, segment_prefix, template. */
enum { URI_EXACT, URI_PREFIX, URI_SEGMENT, URI_TEMPLATE, URI_NR };
static const char *const uri_fields[URI_NR] = {
	"exact", "prefix", "segment_prefix", "template",
};

static int uri_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		     void *obj)
{
	static const __u8 kinds[URI_NR] = {
		MESH_M_EXACT, MESH_M_PREFIX, MESH_M_SEGMENT_PREFIX, MESH_M_TEMPLATE,
	};
	struct mesh_pattern *pat = obj;
	const char *why;

	if (pat->text)
		return fail(p, v, path, "give only one of exact, prefix, segment_prefix, template");
	pat->kind = kinds[f];
	if (get_text(p, v, path, KMESH_RT_MAX_STR_LEN, false, &pat->text))
		return -1;
	why = pat->text[0] != '/' ? "does not start with '/'" :
	      path_chars_problem(pat->text);
	if (why)
		return fail(p, v, path, "\"%s\" %s", pat->text, why);
	return 0;
}

/* A route header condition: exact, prefix, present: true, absent: true. */
enum { HM_EXACT, HM_PREFIX, HM_PRESENT, HM_ABSENT, HM_NR };
static const char *const hm_fields[HM_NR] = {
	"exact", "prefix", "present", "absent",
};

struct hm_parse {
	struct mesh_pattern *pat;
	bool set;
};

static int hm_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct hm_parse *hp = obj;
	bool yes = false;

	if (hp->set)
		return fail(p, v, path, "give only one of exact, prefix, present, absent");
	hp->set = true;
	if (f == HM_PRESENT || f == HM_ABSENT) {
		if (get_bool(p, v, path, &yes))
			return -1;
		if (!yes)
			return fail(p, v, path, "expected true (leave the header out instead)");
		hp->pat->kind = f == HM_PRESENT ? MESH_M_PRESENT : MESH_M_ABSENT;
		return 0;
	}
	hp->pat->kind = f == HM_EXACT ? MESH_M_EXACT : MESH_M_PREFIX;
	if (get_text(p, v, path, KMESH_RT_MAX_STR_LEN, true, &hp->pat->text))
		return -1;
	return 0;
}

enum { RM_URI, RM_METHODS, RM_HEADERS, RM_QUERY, RM_NR };
static const char *const rm_fields[RM_NR] = {
	"uri", "methods", "headers", "query_params",
};

static int rm_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct mesh_route_match *m = obj;
	yaml_node_pair_t *pair;
	char ipath[PATH_MAX_LEN], epath[PATH_MAX_LEN + 8];
	unsigned int seen;
	size_t nr, i;

	switch (f) {
	case RM_URI:
		m->has_uri = true;
		if (walk_mapping(p, v, path, uri_fields, URI_NR, &seen,
				 uri_field, &m->uri))
			return -1;
		if (!seen)
			return fail(p, v, path, "expected one of exact, prefix, segment_prefix, template");
		return 0;
	case RM_METHODS:
		return get_methods(p, v, path, &m->methods);
	case RM_HEADERS:
	case RM_QUERY:
		if (v->type != YAML_MAPPING_NODE)
			return fail(p, v, path, "expected a mapping of names to conditions");
		nr = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
		if (!nr)
			return fail(p, v, path, "expected at least one name");
		if (nr > KMESH_RT_MAX_CONDS)
			return fail(p, v, path, "at most %d entries", KMESH_RT_MAX_CONDS);
		if (f == RM_HEADERS) {
			m->headers = calloc(nr, sizeof(*m->headers));
			if (!m->headers)
				return fail(p, v, path, "out of memory");
		} else {
			m->query = calloc(nr, sizeof(*m->query));
			if (!m->query)
				return fail(p, v, path, "out of memory");
		}
		for (pair = v->data.mapping.pairs.start, i = 0;
		     pair < v->data.mapping.pairs.top; pair++, i++) {
			yaml_node_t *k = node_at(p, pair->key);
			yaml_node_t *val = node_at(p, pair->value);
			const char *key = k ? scalar(k) : NULL;

			if (!key || !val)
				return fail(p, k ? k : v, path, "expected names as keys");
			subpath(ipath, path, key);
			if (f == RM_HEADERS) {
				struct mesh_header_match *h = &m->headers[i];
				struct hm_parse hp = { &h->value, false };
				size_t j;

				m->nr_headers = i + 1;
				if (get_header_name(p, k, ipath, key, h->name))
					return -1;
				for (j = 0; j < i; j++)
					if (!strcmp(m->headers[j].name, h->name))
						return fail(p, k, ipath, "header listed twice");
				if (walk_mapping(p, val, ipath, hm_fields, HM_NR,
						 &seen, hm_field, &hp))
					return -1;
				if (!seen)
					return fail(p, val, ipath, "expected one of exact, prefix, present, absent");
			} else {
				struct mesh_query_match *q = &m->query[i];
				static const char *const qf[] = { "exact" };
				yaml_node_t *ev;

				m->nr_query = i + 1;
				if (get_text(p, k, ipath, KMESH_RT_MAX_NAME_LEN, false,
					     &q->name))
					return -1;
				if (val->type != YAML_MAPPING_NODE ||
				    val->data.mapping.pairs.top -
				    val->data.mapping.pairs.start != 1 ||
				    !scalar(node_at(p, val->data.mapping.pairs.start->key)) ||
				    strcmp(scalar(node_at(p, val->data.mapping.pairs.start->key)), qf[0]))
					return fail(p, val, ipath, "expected {exact: VALUE}");
				ev = node_at(p, val->data.mapping.pairs.start->value);
				subpath(epath, ipath, "exact");
				if (!ev || get_text(p, ev, epath, KMESH_RT_MAX_STR_LEN,
						    true, &q->value))
					return -1;
			}
		}
		return 0;
	}
	return 0;
}

enum { DS_CLUSTER, DS_WEIGHT, DS_NR };
static const char *const ds_fields[DS_NR] = { "cluster", "weight" };

struct ds_parse {
	struct mesh_destination *d;
	struct l7_refs *refs;
};

static int ds_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct ds_parse *dp = obj;
	unsigned long w;

	if (f == DS_CLUSTER)
		return add_ref(p, v, path, dp->refs, &dp->d->cluster, false);
	if (get_uint(p, v, path, 0, 1000000, &w))
		return -1;
	dp->d->weight = (__u32)w;
	return 0;
}

enum { DR_STATUS, DR_BODY, DR_NR };
static const char *const dr_fields[DR_NR] = { "status", "body" };

struct dr_parse {
	struct mesh_http_route *r;
	unsigned long min, max;
};

static int dr_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct dr_parse *dp = obj;
	unsigned long st;

	if (f == DR_STATUS) {
		if (get_uint(p, v, path, dp->min, dp->max, &st))
			return -1;
		dp->r->status = (__u16)st;
		return 0;
	}
	if (dp->r->action != KMESH_RT_A_DIRECT)
		return fail(p, v, path, "only direct_response has a body");
	if (get_text(p, v, path, KMESH_RT_MAX_BODY_LEN, true, &dp->r->body))
		return -1;
	dp->r->body_len = strlen(dp->r->body);
	return 0;
}

enum { HR_NAME, HR_MATCH, HR_ROUTE, HR_DENY, HR_DIRECT, HR_NR };
static const char *const hr_fields[HR_NR] = {
	"name", "match", "route", "deny", "direct_response",
};

struct hr_parse {
	struct mesh_http_route *r;
	struct l7_refs *refs;
};

static int hr_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct hr_parse *hp = obj;
	struct mesh_http_route *r = hp->r;
	char ipath[PATH_MAX_LEN];
	unsigned long weight = 0;
	unsigned int seen;
	size_t nr, i;

	if (f >= HR_ROUTE && r->action)
		return fail(p, v, path, "a route has one action: route, deny or direct_response");
	switch (f) {
	case HR_NAME:
		return get_name(p, v, path, r->name);
	case HR_MATCH:
		if (get_seq(p, v, path, KMESH_RT_MAX_BLOCKS, &nr))
			return -1;
		if (!nr)
			return fail(p, v, path, "expected at least one match (leave match out for the default route)");
		r->match = calloc(nr, sizeof(*r->match));
		if (!r->match)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);

			r->nr_match = i + 1;
			r->match[i].line = line_of(item);
			itempath(ipath, path, i);
			if (walk_mapping(p, item, ipath, rm_fields, RM_NR, &seen,
					 rm_field, &r->match[i]))
				return -1;
			if (!seen)
				return fail(p, item, ipath, "expected at least one of uri, methods, headers, query_params");
		}
		return 0;
	case HR_ROUTE:
		r->action = KMESH_RT_A_ROUTE;
		if (get_seq(p, v, path, KMESH_RT_MAX_SPLIT, &nr))
			return -1;
		if (!nr)
			return fail(p, v, path, "expected at least one cluster");
		r->dests = calloc(nr, sizeof(*r->dests));
		if (!r->dests)
			return fail(p, v, path, "out of memory");
		r->nr_dests = nr;
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct ds_parse dp = { &r->dests[i], hp->refs };

			r->dests[i].weight = 1;
			r->dests[i].cluster = -1;
			itempath(ipath, path, i);
			if (walk_mapping(p, item, ipath, ds_fields, DS_NR, &seen,
					 ds_field, &dp) ||
			    need(p, item, ipath, seen, ds_fields, DS_CLUSTER))
				return -1;
			weight += r->dests[i].weight;
		}
		if (!weight)
			return fail(p, v, path, "weights sum to 0: give at least one cluster a weight");
		return 0;
	default: {
		struct dr_parse dp = { r, 400, 599 };

		r->action = f == HR_DENY ? KMESH_RT_A_DENY : KMESH_RT_A_DIRECT;
		r->status = 403;
		if (f == HR_DIRECT)
			dp.min = 200;
		if (walk_mapping(p, v, path, dr_fields, DR_NR, &seen, dr_field,
				 &dp))
			return -1;
		if (f == HR_DIRECT && !(seen & (1U << DR_STATUS)))
			return need(p, v, path, seen, dr_fields, DR_STATUS);
		return 0;
	}
	}
}

enum { RT_SERVICE, RT_HOSTS, RT_HTTP, RT_NR };
static const char *const rt_fields[RT_NR] = { "service", "hosts", "http" };

struct rt_parse {
	struct mesh_routes *rt;
	struct l7_refs *refs;
	int index;
};

static int rt_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct rt_parse *rp = obj;
	struct mesh_routes *rt = rp->rt;
	char ipath[PATH_MAX_LEN];
	unsigned int seen;
	size_t nr, i, j;

	switch (f) {
	case RT_SERVICE:
		return add_ref(p, v, path, rp->refs, &rt->service, true);
	case RT_HOSTS:
		if (get_seq(p, v, path, KMESH_RT_MAX_HOSTS, &nr))
			return -1;
		if (!nr)
			return fail(p, v, path, "expected at least one host (leave hosts out for any host)");
		rt->hosts = calloc(nr, sizeof(*rt->hosts));
		if (!rt->hosts)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			char *h;
			const char *why = NULL;
			size_t n;

			itempath(ipath, path, i);
			if (get_text(p, item, ipath, KMESH_RT_MAX_HOST_LEN + 1,
				     false, &rt->hosts[i]))
				return -1;
			rt->nr_hosts = i + 1;
			h = rt->hosts[i];
			for (n = 0; h[n]; n++)
				if (h[n] >= 'A' && h[n] <= 'Z')
					h[n] = (char)(h[n] + ('a' - 'A'));
			if (n > 1 && h[n - 1] == '.')
				h[--n] = '\0';
			if (strcmp(h, "*") && (strchr(h + 1, '*') ||
					       (h[0] == '*' && h[1] != '.')))
				why = "is not a name, \"*.suffix\" or \"*\"";
			else if (n > KMESH_RT_MAX_HOST_LEN)
				why = "is longer than 255 bytes";
			else
				why = host_chars_problem(h[0] == '*' ? h + 1 : h);
			if (why)
				return fail(p, item, ipath, "\"%s\" %s", scalar(item), why);
			for (j = 0; j < i; j++)
				if (!strcmp(rt->hosts[j], h))
					return fail(p, item, ipath, "listed twice");
		}
		return 0;
	default:
		if (get_seq(p, v, path, KMESH_L7_MAX_RULES, &nr))
			return -1;
		if (!nr)
			return fail(p, v, path, "expected at least one route");
		rt->http = calloc(nr, sizeof(*rt->http));
		if (!rt->http)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct mesh_http_route *r = &rt->http[i];
			struct hr_parse hp = { r, rp->refs };

			rt->nr_http = i + 1;
			r->line = line_of(item);
			itempath(ipath, path, i);
			snprintf(r->path, sizeof(r->path), "%s", ipath);
			if (walk_mapping(p, item, ipath, hr_fields, HR_NR, &seen,
					 hr_field, &hp))
				return -1;
			if (!r->action)
				return fail(p, item, ipath, "missing an action: route, deny or direct_response");
			if (!r->name[0])
				snprintf(r->name, sizeof(r->name),
					 r->nr_match ? "route-%zu" : "default", i);
			if (!r->nr_match && i + 1 != nr)
				return fail(p, item, ipath, "a route without match is the default route: it must be the last");
			for (j = 0; j < i; j++)
				if (!strcmp(rt->http[j].name, r->name))
					return fail(p, item, ipath, "name '%s' is also %s.http[%zu]",
						    r->name, path[0] ? path : "routes", j);
		}
		return 0;
	}
}

/* ---- authorization ---- */

enum { SRC_IP, SRC_NOT_IP, SRC_NR };
static const char *const src_fields[SRC_NR] = { "ip_blocks", "not_ip_blocks" };

static int src_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		     void *obj)
{
	struct mesh_authz_source *s = obj;

	return get_cidrs(p, v, path, f == SRC_IP ? &s->ip_blocks : &s->not_ip_blocks);
}

enum { OP_METHODS, OP_NOT_METHODS, OP_PATHS, OP_NOT_PATHS, OP_HOSTS,
       OP_NOT_HOSTS, OP_PORTS, OP_NOT_PORTS, OP_NR };
static const char *const op_fields[OP_NR] = {
	"methods", "not_methods", "paths", "not_paths", "hosts", "not_hosts",
	"ports", "not_ports",
};

static int op_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct mesh_authz_operation *o = obj;

	switch (f) {
	case OP_METHODS:
		return get_methods(p, v, path, &o->methods);
	case OP_NOT_METHODS:
		return get_methods(p, v, path, &o->not_methods);
	case OP_PATHS:
		return get_pattern_list(p, v, path, PAT_PATH, &o->paths);
	case OP_NOT_PATHS:
		return get_pattern_list(p, v, path, PAT_PATH, &o->not_paths);
	case OP_HOSTS:
		return get_pattern_list(p, v, path, PAT_HOST, &o->hosts);
	case OP_NOT_HOSTS:
		return get_pattern_list(p, v, path, PAT_HOST, &o->not_hosts);
	case OP_PORTS:
		return get_ports(p, v, path, &o->ports);
	default:
		return get_ports(p, v, path, &o->not_ports);
	}
}

/* from: [{source: {...}}] and to: [{operation: {...}}] wrap one mapping. */
static int get_wrapped(struct pctx *p, yaml_node_t *node, const char *path,
		       const char *wrapper, yaml_node_t **inner, char *ipath)
{
	yaml_node_t *k;
	const char *key;

	if (node->type != YAML_MAPPING_NODE ||
	    node->data.mapping.pairs.top - node->data.mapping.pairs.start != 1)
		return fail(p, node, path, "expected {%s: {...}}", wrapper);
	k = node_at(p, node->data.mapping.pairs.start->key);
	key = k ? scalar(k) : NULL;
	if (!key || strcmp(key, wrapper)) {
		subpath(ipath, path, key ? key : "?");
		return fail(p, k ? k : node, ipath,
			    "unknown field (expected one of: %s)", wrapper);
	}
	subpath(ipath, path, wrapper);
	*inner = node_at(p, node->data.mapping.pairs.start->value);
	if (!*inner)
		return fail(p, node, ipath, "expected a mapping");
	return 0;
}

enum { WH_KEY, WH_VALUES, WH_NOT_VALUES, WH_NR };
static const char *const wh_fields[WH_NR] = { "key", "values", "not_values" };

struct wh_parse {
	struct mesh_authz_when *w;
	yaml_node_t *values, *not_values;
	char vpath[PATH_MAX_LEN], npath[PATH_MAX_LEN];
	bool has_key;
};

static int wh_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	static const char hdr[] = "request.headers[";
	struct wh_parse *wp = obj;
	struct mesh_authz_when *w = wp->w;
	const char *s;
	char name[KMESH_RT_MAX_NAME_LEN + 2];
	size_t n;

	switch (f) {
	case WH_KEY:
		s = scalar(v);
		wp->has_key = true;
		if (s && !strcmp(s, "source.ip")) {
			w->key = MESH_WHEN_SOURCE_IP;
		} else if (s && !strcmp(s, "destination.ip")) {
			w->key = MESH_WHEN_DEST_IP;
		} else if (s && !strcmp(s, "destination.port")) {
			w->key = MESH_WHEN_DEST_PORT;
		} else if (s && !strncmp(s, hdr, sizeof(hdr) - 1) &&
			   (n = strlen(s)) > sizeof(hdr) && s[n - 1] == ']' &&
			   n - sizeof(hdr) <= KMESH_RT_MAX_NAME_LEN) {
			memcpy(name, s + sizeof(hdr) - 1, n - sizeof(hdr));
			name[n - sizeof(hdr)] = '\0';
			w->key = MESH_WHEN_HEADER;
			return get_header_name(p, v, path, name, w->header);
		} else {
			return fail(p, v, path, "expected request.headers[NAME], source.ip, destination.ip or destination.port");
		}
		return 0;
	case WH_VALUES:
		wp->values = v;
		snprintf(wp->vpath, sizeof(wp->vpath), "%s", path);
		return 0;
	default:
		wp->not_values = v;
		snprintf(wp->npath, sizeof(wp->npath), "%s", path);
		return 0;
	}
}

/* values/not_values are read once the key says what they hold. */
static int when_values(struct pctx *p, struct mesh_authz_when *w,
		       yaml_node_t *node, const char *path, bool not)
{
	switch (w->key) {
	case MESH_WHEN_HEADER:
		return get_pattern_list(p, node, path, PAT_VALUE,
					not ? &w->not_values : &w->values);
	case MESH_WHEN_DEST_PORT: {
		char ipath[PATH_MAX_LEN];
		struct mesh_port_list *l = not ? &w->not_ports : &w->ports;
		unsigned long v;
		size_t nr, i;

		/* Istio writes ports as strings: take "80" and 80 alike. */
		if (get_seq(p, node, path, MESH_L7_MAX_PORTS, &nr))
			return -1;
		if (!nr)
			return fail(p, node, path, "expected at least one port");
		l->v = calloc(nr, sizeof(*l->v));
		if (!l->v)
			return fail(p, node, path, "out of memory");
		l->n = nr;
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, node, i);
			const char *s = scalar(item);
			char *end;

			itempath(ipath, path, i);
			v = s && *s >= '1' && *s <= '9' ? strtoul(s, &end, 10) : 0;
			if (!v || *end || v > 65535)
				return fail(p, item, ipath, "expected a port 1..65535");
			l->v[i] = (__u16)v;
		}
		return 0;
	}
	default:
		return get_cidrs(p, node, path, not ? &w->not_cidrs : &w->cidrs);
	}
}

enum { AR_FROM, AR_TO, AR_WHEN, AR_NR };
static const char *const ar_fields[AR_NR] = { "from", "to", "when" };

static int ar_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct mesh_authz_rule *r = obj;
	char ipath[PATH_MAX_LEN], wpath[PATH_MAX_LEN];
	unsigned int seen;
	size_t nr, i;

	if (get_seq(p, v, path, MESH_L7_MAX_RULE_PARTS, &nr))
		return -1;
	if (!nr)
		return fail(p, v, path, "expected at least one entry (leave %s out instead)",
			    ar_fields[f]);
	for (i = 0; i < nr; i++) {
		yaml_node_t *item = seq_item(p, v, i), *inner;

		itempath(ipath, path, i);
		switch (f) {
		case AR_FROM:
			if (!r->from && !(r->from = calloc(nr, sizeof(*r->from))))
				return fail(p, v, path, "out of memory");
			r->nr_from = i + 1;
			if (get_wrapped(p, item, ipath, "source", &inner, wpath) ||
			    walk_mapping(p, inner, wpath, src_fields, SRC_NR,
					 &seen, src_field, &r->from[i]))
				return -1;
			break;
		case AR_TO:
			if (!r->to && !(r->to = calloc(nr, sizeof(*r->to))))
				return fail(p, v, path, "out of memory");
			r->nr_to = i + 1;
			if (get_wrapped(p, item, ipath, "operation", &inner, wpath) ||
			    walk_mapping(p, inner, wpath, op_fields, OP_NR,
					 &seen, op_field, &r->to[i]))
				return -1;
			break;
		default: {
			struct wh_parse wp = {};

			if (!r->when && !(r->when = calloc(nr, sizeof(*r->when))))
				return fail(p, v, path, "out of memory");
			r->nr_when = i + 1;
			wp.w = &r->when[i];
			wp.w->line = line_of(item);
			if (walk_mapping(p, item, ipath, wh_fields, WH_NR, &seen,
					 wh_field, &wp) ||
			    need(p, item, ipath, seen, wh_fields, WH_KEY))
				return -1;
			if (!wp.values && !wp.not_values)
				return fail(p, item, ipath, "expected values or not_values");
			if ((wp.values && when_values(p, wp.w, wp.values, wp.vpath, false)) ||
			    (wp.not_values && when_values(p, wp.w, wp.not_values, wp.npath, true)))
				return -1;
			break;
		}
		}
	}
	return 0;
}

enum { AZ_NAME, AZ_SERVICE, AZ_ACTION, AZ_RULES, AZ_NR };
static const char *const az_fields[AZ_NR] = { "name", "service", "action", "rules" };
static const char *const az_actions[] = {
	[MESH_AUTHZ_ALLOW] = "ALLOW",
	[MESH_AUTHZ_DENY] = "DENY",
};

struct az_parse {
	struct mesh_authz *a;
	struct l7_refs *refs;
};

static int az_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct az_parse *ap = obj;
	struct mesh_authz *a = ap->a;
	char ipath[PATH_MAX_LEN];
	unsigned int seen, e;
	size_t nr, i;

	switch (f) {
	case AZ_NAME:
		return get_name(p, v, path, a->name);
	case AZ_SERVICE:
	{
		int rc = add_ref(p, v, path, ap->refs, &a->service, true);

		if (!rc)
			ap->refs->v[ap->refs->n - 1].authz = true;
		return rc;
	}
	case AZ_ACTION:
		if (get_enum(p, v, path, az_actions, 2, &e))
			return -1;
		a->action = (__u8)e;
		return 0;
	default:
		if (get_seq(p, v, path, KMESH_L7_MAX_RULES, &nr))
			return -1;
		a->rules = calloc(nr ? nr : 1, sizeof(*a->rules));
		if (!a->rules)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);

			a->nr_rules = i + 1;
			a->rules[i].line = line_of(item);
			itempath(ipath, path, i);
			if (walk_mapping(p, item, ipath, ar_fields, AR_NR, &seen,
					 ar_field, &a->rules[i]))
				return -1;
		}
		return 0;
	}
}

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

static void free_cidrs(struct mesh_cidr_list *l)
{
	free(l->v);
}

static void free_l7(struct mesh_config *cfg)
{
	size_t i, j, k, l;

	for (i = 0; i < cfg->nr_routes; i++) {
		struct mesh_routes *rt = &cfg->routes[i];

		for (j = 0; j < rt->nr_hosts; j++)
			free(rt->hosts[j]);
		free(rt->hosts);
		for (j = 0; j < rt->nr_http; j++) {
			struct mesh_http_route *r = &rt->http[j];

			for (k = 0; k < r->nr_match; k++) {
				struct mesh_route_match *m = &r->match[k];

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
			free(r->match);
			free(r->dests);
			free(r->body);
		}
		free(rt->http);
	}
	free(cfg->routes);
	for (i = 0; i < cfg->nr_authz; i++) {
		struct mesh_authz *a = &cfg->authz[i];

		for (j = 0; j < a->nr_rules; j++) {
			struct mesh_authz_rule *r = &a->rules[j];

			for (k = 0; k < r->nr_from; k++) {
				free_cidrs(&r->from[k].ip_blocks);
				free_cidrs(&r->from[k].not_ip_blocks);
			}
			free(r->from);
			for (k = 0; k < r->nr_to; k++) {
				struct mesh_authz_operation *o = &r->to[k];

				free_pattern_list(&o->paths);
				free_pattern_list(&o->not_paths);
				free_pattern_list(&o->hosts);
				free_pattern_list(&o->not_hosts);
				free(o->ports.v);
				free(o->not_ports.v);
			}
			free(r->to);
			for (k = 0; k < r->nr_when; k++) {
				struct mesh_authz_when *w = &r->when[k];

				free_pattern_list(&w->values);
				free_pattern_list(&w->not_values);
				free_cidrs(&w->cidrs);
				free_cidrs(&w->not_cidrs);
				free(w->ports.v);
				free(w->not_ports.v);
			}
			free(r->when);
		}
		free(a->rules);
	}
	free(cfg->authz);
}

/* ---- the whole file ---- */

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* @n names, @stride bytes apart from @first, sorted (then by index). */
static struct named *index_names(const char *first, size_t stride, size_t n)
{
	struct named *v = malloc((n + 1) * sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = (struct named){ first + i * stride, (int)i };
	qsort(v, n, sizeof(*v), cmp_named);
	return v;
}

/* Index of the first of @n sorted names equal to @name, or -1. */
static int find_named(const struct named *v, size_t n, const char *name)
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

static int index_config(struct pctx *p, const struct mesh_config *cfg)
{
	p->nr_clusters = cfg->nr_clusters;
	p->nr_services = cfg->nr_services;
	p->clusters_by_name = index_names(cfg->clusters[0].name,
					  sizeof(*cfg->clusters), cfg->nr_clusters);
	p->services_by_name = index_names(cfg->services[0].name,
					  sizeof(*cfg->services), cfg->nr_services);
	if (!p->clusters_by_name || !p->services_by_name)
		return fail_at(p, 1, "", "out of memory");
	return 0;
}

static int find_cluster(const struct pctx *p, const char *name)
{
	return find_named(p->clusters_by_name, p->nr_clusters, name);
}

static int resolve_ref(struct pctx *p, const struct cluster_ref *ref)
{
	int c = find_cluster(p, ref->name);

	if (c < 0)
		return fail_at(p, ref->line, ref->path, "unknown cluster '%s'",
			       ref->name);
	return c;
}

/* Checks across services: clusters exist, VIP:ports unique, families fit. */
static int check_services(struct pctx *p, struct mesh_config *cfg,
			  struct service_parse *sps)
{
	char path[PATH_MAX_LEN];
	size_t i, j, a, b, k, l, nr_vips = 0;

	for (i = 0; i < cfg->nr_services; i++) {
		struct mesh_service *s = &cfg->services[i];

		for (j = 0; j < s->nr_ports; j++) {
			struct cluster_ref *ref = &sps[i].port_refs[j];
			struct mesh_port *pt = &s->ports[j];

			if (!ref->name[0])
				ref = &sps[i].ref;
			if (!ref->name[0]) {
				snprintf(path, sizeof(path), "services[%zu].ports[%zu]", i, j);
				return fail_at(p, pt->line, path,
					       "no cluster: set services[%zu].cluster or this port's cluster", i);
			}
			pt->cluster = resolve_ref(p, ref);
			if (pt->cluster < 0)
				return -1;
		}
		nr_vips += s->nr_addrs * s->nr_ports;
		if (nr_vips > KMESH_L4_MAX_VIPS) {
			snprintf(path, sizeof(path), "services[%zu]", i);
			return fail_at(p, s->line, path,
				       "more than %d address:port pairs in all services",
				       KMESH_L4_MAX_VIPS);
		}
		for (k = 0; k < i; k++) {
			if (!strcmp(cfg->services[k].name, s->name)) {
				snprintf(path, sizeof(path), "services[%zu].name", i);
				return fail_at(p, s->line, path,
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
								return fail_at(p, s->line, path,
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
					return fail_at(p, s->line, path,
						       "IPv4 address, but cluster '%s' has an IPv6 endpoint (line %d)",
						       c->name, c->endpoints[k].line);
				}
			}
		}
	}
	return 0;
}

static int check_clusters(struct pctx *p, struct mesh_config *cfg,
			  struct cluster_parse *cps)
{
	char path[PATH_MAX_LEN];
	size_t i, k, nr_eps = 0, nr_maglev = 0;

	for (i = 0; i < cfg->nr_clusters; i++) {
		struct mesh_cluster *c = &cfg->clusters[i];

		for (k = 0; k < i; k++) {
			if (!strcmp(cfg->clusters[k].name, c->name)) {
				snprintf(path, sizeof(path), "clusters[%zu].name", i);
				return fail_at(p, c->line, path,
					       "'%s' is also clusters[%zu]", c->name, k);
			}
		}
		if (cps[i].hash_line && c->lb != KMESH_LB_MAGLEV)
			return fail_at(p, cps[i].hash_line, cps[i].hash_path,
				       "only meaningful with lb: maglev");
		nr_eps += c->nr_endpoints;
		nr_maglev += c->lb == KMESH_LB_MAGLEV;
		snprintf(path, sizeof(path), "clusters[%zu]", i);
		if (nr_eps > KMESH_L4_MAX_ENDPOINTS)
			return fail_at(p, c->line, path,
				       "more than %d endpoints in all clusters",
				       KMESH_L4_MAX_ENDPOINTS);
		if (nr_maglev > KMESH_L4_MAX_MAGLEV_CLUSTERS)
			return fail_at(p, c->line, path,
				       "more than %d maglev clusters",
				       KMESH_L4_MAX_MAGLEV_CLUSTERS);
	}
	return 0;
}

enum { TOP_SERVICES, TOP_CLUSTERS, TOP_ROUTES, TOP_AUTHZ, TOP_NR };
static const char *const top_fields[TOP_NR] = {
	"services", "clusters", "routes", "authorization",
};

struct top_parse {
	struct mesh_config *cfg;
	struct service_parse *sps;
	struct cluster_parse *cps;
	struct l7_refs refs;
};

static int top_field(struct pctx *p, size_t f, yaml_node_t *v, const char *path,
		     void *obj)
{
	struct top_parse *tp = obj;
	struct mesh_config *cfg = tp->cfg;
	char ipath[PATH_MAX_LEN];
	unsigned int seen;
	size_t i, nr;

	switch (f) {
	case TOP_SERVICES:
		if (get_seq(p, v, path, KMESH_L4_MAX_SERVICES - 1, &nr))
			return -1;
		cfg->services = calloc(nr ? nr : 1, sizeof(*cfg->services));
		tp->sps = calloc(nr ? nr : 1, sizeof(*tp->sps));
		if (!cfg->services || !tp->sps)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct service_parse *sp = &tp->sps[i];

			sp->s = &cfg->services[i];
			sp->s->line = line_of(item);
			cfg->nr_services = i + 1;
			itempath(ipath, path, i);
			if (walk_mapping(p, item, ipath, sv_fields, SV_NR, &seen,
					 sv_field, sp) ||
			    need(p, item, ipath, seen, sv_fields, SV_NAME) ||
			    need(p, item, ipath, seen, sv_fields, SV_ADDRESSES) ||
			    need(p, item, ipath, seen, sv_fields, SV_PORTS))
				return -1;
		}
		return 0;
	case TOP_CLUSTERS:
		if (get_seq(p, v, path, KMESH_L4_MAX_CLUSTERS - 1, &nr))
			return -1;
		cfg->clusters = calloc(nr ? nr : 1, sizeof(*cfg->clusters));
		tp->cps = calloc(nr ? nr : 1, sizeof(*tp->cps));
		if (!cfg->clusters || !tp->cps)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct mesh_cluster *c = &cfg->clusters[i];

			tp->cps[i].c = c;
			c->lb = KMESH_LB_ROUND_ROBIN;
			c->line = line_of(item);
			cfg->nr_clusters = i + 1;
			itempath(ipath, path, i);
			if (walk_mapping(p, item, ipath, cl_fields, CL_NR, &seen,
					 cl_field, &tp->cps[i]) ||
			    need(p, item, ipath, seen, cl_fields, CL_NAME))
				return -1;
		}
		return 0;
	case TOP_ROUTES:
		if (get_seq(p, v, path, KMESH_L4_MAX_SERVICES - 1, &nr))
			return -1;
		cfg->routes = calloc(nr ? nr : 1, sizeof(*cfg->routes));
		if (!cfg->routes)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct rt_parse rp = { &cfg->routes[i], &tp->refs, (int)i };

			cfg->nr_routes = i + 1;
			cfg->routes[i].line = line_of(item);
			cfg->routes[i].service = -1;
			itempath(ipath, path, i);
			if (walk_mapping(p, item, ipath, rt_fields, RT_NR, &seen,
					 rt_field, &rp) ||
			    need(p, item, ipath, seen, rt_fields, RT_SERVICE) ||
			    need(p, item, ipath, seen, rt_fields, RT_HTTP))
				return -1;
		}
		return 0;
	default:
		if (get_seq(p, v, path, MESH_L7_MAX_POLICIES, &nr))
			return -1;
		cfg->authz = calloc(nr ? nr : 1, sizeof(*cfg->authz));
		if (!cfg->authz)
			return fail(p, v, path, "out of memory");
		for (i = 0; i < nr; i++) {
			yaml_node_t *item = seq_item(p, v, i);
			struct az_parse ap = { &cfg->authz[i], &tp->refs };

			cfg->nr_authz = i + 1;
			cfg->authz[i].line = line_of(item);
			cfg->authz[i].service = -1;
			itempath(ipath, path, i);
			snprintf(cfg->authz[i].path, sizeof(cfg->authz[i].path), "%s", ipath);
			if (walk_mapping(p, item, ipath, az_fields, AZ_NR, &seen,
					 az_field, &ap) ||
			    need(p, item, ipath, seen, az_fields, AZ_NAME) ||
			    need(p, item, ipath, seen, az_fields, AZ_SERVICE))
				return -1;
		}
		return 0;
	}
}

static bool has_http_port(const struct mesh_service *s)
{
	size_t i;

	for (i = 0; i < s->nr_ports; i++)
		if (s->ports[i].http)
			return true;
	return false;
}

/*
 * A policy of a service with tcp ports only is checked at the door (the
 * SYN), from the source address alone: each rule may only name
 * from.source.ip_blocks. Anything else is refused, naming the field,
 * never ignored: the fields that need a request (HTTP) cannot hold on a
 * byte stream, and the other L4 ones are not compiled for the door yet.
 */
static int check_tcp_authz(struct pctx *p, const struct mesh_config *cfg,
			   const struct mesh_authz *a)
{
	const struct mesh_service *s = &cfg->services[a->service];
	size_t r, k;

	for (r = 0; r < a->nr_rules; r++) {
		const struct mesh_authz_rule *ru = &a->rules[r];
		const char *field = NULL, *why = "needs an HTTP request";
		char path[PATH_MAX_LEN + 64];

		for (k = 0; k < ru->nr_to && !field; k++) {
			const struct mesh_authz_operation *o = &ru->to[k];

			snprintf(path, sizeof(path), "%s.rules[%zu].to[%zu].operation",
				 a->path, r, k);
			field = o->methods ? "methods" : o->not_methods ? "not_methods" :
				o->paths.n ? "paths" : o->not_paths.n ? "not_paths" :
				o->hosts.n ? "hosts" : o->not_hosts.n ? "not_hosts" : NULL;
			if (!field) {
				why = "is not checked at the door yet";
				field = o->ports.n ? "ports" : o->not_ports.n ? "not_ports" : NULL;
			} else {
				why = "needs an HTTP request";
			}
		}
		for (k = 0; k < ru->nr_when && !field; k++) {
			snprintf(path, sizeof(path), "%s.rules[%zu].when[%zu]", a->path, r, k);
			field = "key";
			why = ru->when[k].key == MESH_WHEN_HEADER ? "needs an HTTP request" :
			      "is not checked at the door yet";
		}
		for (k = 0; k < ru->nr_from && !field; k++) {
			snprintf(path, sizeof(path), "%s.rules[%zu].from[%zu].source",
				 a->path, r, k);
			why = "is not checked at the door yet";
			if (ru->from[k].not_ip_blocks.n)
				field = "not_ip_blocks";
			else if (!ru->from[k].ip_blocks.n)
				field = "ip_blocks";
			if (field && !ru->from[k].not_ip_blocks.n)
				why = "is required";
		}
		if (field)
			return fail_at(p, ru->line, path,
				       "%s %s: service '%s' has tcp ports only, where a policy is checked at L4 (the connection's SYN), from the source address alone (from.source.ip_blocks)",
				       field, why, s->name);
	}
	return 0;
}

bool mesh_service_tcp_only(const struct mesh_service *s)
{
	return !has_http_port(s);
}

/* Services and clusters named by routes and policies; ids; the L7 compile. */
static int check_l7(struct pctx *p, struct mesh_config *cfg,
		    struct l7_refs *refs)
{
	struct l7_check_err ce;
	char path[PATH_MAX_LEN + 16];
	size_t i, j, k;

	for (i = 0; i < refs->n; i++) {
		struct l7_ref *r = &refs->v[i];

		if (!r->service) {
			*r->out = resolve_ref(p, &r->ref);
			if (*r->out < 0)
				return -1;
			continue;
		}
		*r->out = find_named(p->services_by_name, p->nr_services, r->ref.name);
		if (*r->out < 0)
			return fail_at(p, r->ref.line, r->ref.path,
				       "unknown service '%s'", r->ref.name);
		if (!has_http_port(&cfg->services[*r->out]) && !r->authz)
			return fail_at(p, r->ref.line, r->ref.path,
				       "service '%s' has no http port (L7 rules apply to ports with protocol: http)",
				       r->ref.name);
	}
	for (i = 0; i < cfg->nr_routes; i++) {
		struct mesh_routes *rt = &cfg->routes[i];
		const char *svc = cfg->services[rt->service].name;

		snprintf(path, sizeof(path), "routes[%zu].service", i);
		for (k = 0; k < i; k++)
			if (cfg->routes[k].service == rt->service)
				return fail_at(p, rt->line, path,
					       "service '%s' already has routes (routes[%zu])", svc, k);
		if (!rt->nr_hosts) {
			rt->hosts = calloc(1, sizeof(*rt->hosts));
			if (!rt->hosts || !(rt->hosts[0] = strdup("*")))
				return fail_at(p, rt->line, path, "out of memory");
			rt->nr_hosts = 1;
		}
		for (j = 0; j < rt->nr_http; j++) {
			rt->http[j].id = mesh_l7_id(svc, rt->http[j].name);
			for (k = 0; k < j; k++)
				if (rt->http[k].id == rt->http[j].id)
					return fail_at(p, rt->http[j].line, rt->http[j].path,
						       "route names '%s' and '%s' hash to the same id: rename one",
						       rt->http[k].name, rt->http[j].name);
		}
	}
	for (i = 0; i < cfg->nr_authz; i++) {
		struct mesh_authz *a = &cfg->authz[i];
		char id_name[KMESH_NAME_MAX + 8];

		if (mesh_service_tcp_only(&cfg->services[a->service]) &&
		    check_tcp_authz(p, cfg, a))
			return -1;
		snprintf(id_name, sizeof(id_name), "authz/%s", a->name);
		a->id = mesh_l7_id(cfg->services[a->service].name, id_name);
		snprintf(path, sizeof(path), "%s.name", a->path);
		for (k = 0; k < i; k++) {
			if (cfg->authz[k].service != a->service)
				continue;
			if (!strcmp(cfg->authz[k].name, a->name))
				return fail_at(p, a->line, path,
					       "'%s' is also authorization[%zu] of service '%s'",
					       a->name, k, cfg->services[a->service].name);
			if (cfg->authz[k].id == a->id)
				return fail_at(p, a->line, path,
					       "policy names '%s' and '%s' hash to the same id: rename one",
					       cfg->authz[k].name, a->name);
		}
	}
	/* Compile every service once, as apply will: limits with a place. */
	if (l7_check(cfg, &ce))
		return fail_at(p, ce.line, ce.path, "%s", ce.msg);
	return 0;
}

static int parse_doc(struct pctx *p, struct mesh_config *cfg)
{
	struct top_parse tp = { .cfg = cfg };
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	unsigned int seen;
	size_t i;
	int err = -1;

	if (!root) {
		fail_at(p, 1, "", "empty file: expected a mapping with services: and clusters:");
		return -1;
	}
	if (walk_mapping(p, root, "", top_fields, TOP_NR, &seen, top_field, &tp))
		goto out;
	if (!cfg->clusters)
		cfg->clusters = calloc(1, sizeof(*cfg->clusters));
	if (!cfg->services)
		cfg->services = calloc(1, sizeof(*cfg->services));
	if (check_clusters(p, cfg, tp.cps) || index_config(p, cfg) ||
	    check_services(p, cfg, tp.sps) || check_l7(p, cfg, &tp.refs))
		goto out;
	err = 0;
out:
	free(p->clusters_by_name);
	free(p->services_by_name);
	p->clusters_by_name = p->services_by_name = NULL;
	free(tp.refs.v);
	if (tp.sps)
		for (i = 0; i < cfg->nr_services; i++)
			free(tp.sps[i].port_refs);
	free(tp.sps);
	free(tp.cps);
	return err;
}

int mesh_config_parse(const char *name, const char *text, size_t len,
		      struct mesh_config *cfg, char *err, size_t err_size)
{
	struct pctx p = { .file = name, .err = err, .err_size = err_size };
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
		fail_at(&p, (int)parser.problem_mark.line + 1, "",
			"YAML syntax error: %s%s%s", parser.problem ? parser.problem : "?",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	p.doc = &doc;
	rc = parse_doc(&p, cfg);
	yaml_document_delete(&doc);
	/* One document: whatever follows a "---" must not go unread. */
	if (!rc && !yaml_parser_load(&parser, &doc)) {
		rc = fail_at(&p, (int)parser.problem_mark.line + 1, "",
			     "YAML syntax error: %s", parser.problem ? parser.problem : "?");
	} else if (!rc) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);

		if (root && !(root->type == YAML_SCALAR_NODE &&
			      !root->data.scalar.length))
			rc = fail_at(&p, line_of(root), "",
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
	struct pctx p = { .doc = doc, .file = name, .err = err,
			  .err_size = err_size };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = parse_doc(&p, cfg);
	if (rc)
		mesh_config_free(cfg);
	return rc;
}

int mesh_config_load(const char *path, struct mesh_config *cfg,
		     char *err, size_t err_size)
{
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *nbuf;
	FILE *f;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 16384;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				fclose(f);
				snprintf(err, err_size, "%s: out of memory", path);
				return -1;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	rc = mesh_config_parse(path, buf ? buf : "", len, cfg, err, err_size);
	free(buf);
	return rc;
}

void mesh_config_free(struct mesh_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_services; i++) {
		free(cfg->services[i].addrs);
		free(cfg->services[i].ports);
	}
	for (i = 0; i < cfg->nr_clusters; i++)
		free(cfg->clusters[i].endpoints);
	free_l7(cfg);
	l7_compiled_free(cfg->l7);
	free(cfg->services);
	free(cfg->clusters);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- addresses ---- */

bool mesh_addr_is_v4(const __u32 addr[4])
{
	return !addr[0] && !addr[1] && addr[2] == htonl(0xffff);
}

int mesh_addr_parse(const char *text, __u32 addr[4])
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, text, &a4) == 1) {
		addr[0] = 0;
		addr[1] = 0;
		addr[2] = htonl(0xffff);
		addr[3] = a4.s_addr;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		memcpy(addr, &a6, 16);
		return 0;
	}
	return -1;
}

void mesh_addr_format(const __u32 addr[4], __u16 port, bool with_port,
		      char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	bool v4 = mesh_addr_is_v4(addr);

	if (v4)
		inet_ntop(AF_INET, &addr[3], text, sizeof(text));
	else
		inet_ntop(AF_INET6, addr, text, sizeof(text));
	if (!with_port)
		snprintf(buf, size, "%s", text);
	else if (v4)
		snprintf(buf, size, "%s:%u", text, port);
	else
		snprintf(buf, size, "[%s]:%u", text, port);
}

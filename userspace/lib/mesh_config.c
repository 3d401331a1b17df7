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

#include <yaml.h>

#include "mesh_config.h"

#define PATH_MAX_LEN	160

struct pctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t err_size;
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
	snprintf(out, PATH_MAX_LEN, "%s%s%s", path, path[0] ? "." : "", field);
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

enum { SV_NAME, SV_ADDRESSES, SV_PORTS, SV_CLUSTER, SV_NR };
static const char *const sv_fields[SV_NR] = {
	"name", "addresses", "ports", "cluster",
};

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
	default:
		return get_ref(p, v, path, &sp->ref);
	}
}

/* ---- the whole file ---- */

static int find_cluster(const struct mesh_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nr_clusters; i++)
		if (!strcmp(cfg->clusters[i].name, name))
			return (int)i;
	return -1;
}

static int resolve_ref(struct pctx *p, const struct mesh_config *cfg,
		       const struct cluster_ref *ref)
{
	int c = find_cluster(cfg, ref->name);

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
			pt->cluster = resolve_ref(p, cfg, ref);
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
	default:
		return fail(p, v, path, "not supported yet (L7 configuration)");
	}
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
	if (check_clusters(p, cfg, tp.cps) || check_services(p, cfg, tp.sps))
		goto out;
	err = 0;
out:
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
	yaml_parser_delete(&parser);
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

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Istio resources into kmesh's mesh config. Each resource is checked
 * field by field against what kmesh can do (the rest is an error naming
 * the field), cross-references are resolved (hosts to ServiceEntries,
 * subsets to DestinationRules, selectors to endpoints), and the result is
 * written as kmesh's own mesh file, which mesh_config.c compiles: one
 * compiler for both inputs. Each written item carries a comment naming
 * the resource and field it came from, so an error the compiler finds
 * still names the Istio file, line and field.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "istio.h"

#define PATH_LEN 192

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void bputs(struct buf *b, const char *s)
{
	size_t l = strlen(s);
	char *np;

	if (b->oom)
		return;
	if (b->n + l + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + l;

		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, l + 1);
	b->n += l;
}

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	bputs(b, tmp);
}

/* A YAML double-quoted string. */
static void bquote(struct buf *b, const char *s)
{
	char one[8];

	bputs(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			snprintf(one, sizeof(one), "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			snprintf(one, sizeof(one), "\\x%02x", ch);
		else
			snprintf(one, sizeof(one), "%c", ch);
		bputs(b, one);
	}
	bputs(b, "\"");
}

/* A field path (long ones cut: only messages use them). */
static void spath(char out[PATH_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void spath(char out[PATH_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PATH_LEN, fmt, ap);
	va_end(ap);
}

/* ---- one resource: fields and errors ---- */

struct ctx {
	const struct istio_resource *r;
	size_t ri;			/* index, for provenance comments */
	const char *kind;
	const char *name;
	const char *ns;
	yaml_document_t *doc;
	char *err;
	size_t err_size;
};

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static int fail(struct ctx *c, const yaml_node_t *n, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct ctx *c, const yaml_node_t *n, const char *path,
		const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len = (size_t)snprintf(c->err, c->err_size, "%s:%d: %s %s: %s%s",
			       c->r->file, line_of(n), c->kind,
			       c->name ? c->name : "(no name)", path,
			       path[0] ? ": " : "");
	if (len < c->err_size) {
		va_start(ap, fmt);
		vsnprintf(c->err + len, c->err_size - len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	       (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));

		if (k && !strcmp(k, key))
			return node(c, p->value);
	}
	return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/*
 * @map must be a mapping whose keys are in @ok; a key in @refused is a
 * field kmesh knows and cannot do, any other one is unknown.
 */
static int fields(struct ctx *c, yaml_node_t *map, const char *path,
		  const char *const *ok, const char *const *refused)
{
	yaml_node_pair_t *p;
	char sub[PATH_LEN];

	if (!map || map->type != YAML_MAPPING_NODE)
		return fail(c, map ? map : c->r->root, path, "expected a mapping");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(c, p->key);
		const char *k = scalar(kn);

		if (!k)
			return fail(c, kn, path, "expected a field name");
		if (in_list(ok, k))
			continue;
		spath(sub, "%s%s%s", path, path[0] ? "." : "", k);
		if (in_list(refused, k))
			return fail(c, kn, sub, "not supported");
		return fail(c, kn, sub, "unknown field");
	}
	return 0;
}

static int need_str(struct ctx *c, yaml_node_t *n, const char *path,
		    const char **out)
{
	*out = scalar(n);
	if (!*out || !(*out)[0])
		return fail(c, n ? n : c->r->root, path, n ? "expected a string" : "required");
	return 0;
}

static int need_seq(struct ctx *c, yaml_node_t *n, const char *path)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return fail(c, n ? n : c->r->root, path, n ? "expected a list" : "required");
	return 0;
}

#define SEQ_EACH(c, seq, i, item)					\
	for ((i) = 0; (seq) && (seq)->type == YAML_SEQUENCE_NODE &&	\
	     (i) < (size_t)((seq)->data.sequence.items.top -		\
			    (seq)->data.sequence.items.start) &&	\
	     ((item) = node(c, (seq)->data.sequence.items.start[i])); (i)++)

static int get_uint(struct ctx *c, yaml_node_t *n, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s = scalar(n);
	char *end;

	if (!s || !s[0] || s[0] == '-' || s[0] == '+')
		return fail(c, n ? n : c->r->root, path, "expected an integer %lu..%lu", min, max);
	*out = strtoul(s, &end, 10);
	if (*end || *out < min || *out > max)
		return fail(c, n, path, "expected an integer %lu..%lu", min, max);
	return 0;
}

/*
 * An Istio duration ("30ms", "1s", "1.5s", "2m", "1h") in milliseconds,
 * in 1..@max_ms: a connect timeout, which kmesh keeps in milliseconds.
 */
static int get_duration_ms(struct ctx *c, yaml_node_t *n, const char *path,
			   unsigned long max_ms, unsigned long *out)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	const char *s = scalar(n);
	double v, ms = -1;
	char *end;
	size_t i;

	if (s && (s[0] >= '0' && s[0] <= '9')) {
		v = strtod(s, &end);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].unit))
				ms = v * units[i].ms;
	}
	if (ms < 0)
		return fail(c, n ? n : c->r->root, path,
			    "expected a duration such as 250ms or 1.5s");
	if (ms < 1 || ms > (double)max_ms)
		return fail(c, n, path, "%s: kmesh takes 1ms..%lums", s, max_ms);
	*out = (unsigned long)ms;
	return 0;
}

/* ---- the model being built ---- */

/* A port of an endpoint: the service port of that name is served there. */
struct ep_port {
	const char *name;	/* "" for an unnamed port */
	unsigned long number;
};

struct ep {
	const char *addr;
	yaml_document_t *doc;	/* of the labels */
	yaml_node_t *labels;	/* mapping or NULL */
	struct ep_port ports[16];
	size_t nr_ports;
	unsigned long weight;	/* 0: not given */
	const char *locality;	/* Istio's "region/zone/subzone", or NULL */
	bool draining;		/* Kubernetes: not ready */
	size_t ri;
	int line;
};

struct port {
	unsigned long number, target;
	const char *name;
	bool http;
};

struct subset {
	const char *name;
	yaml_node_t *labels;
	yaml_node_t *policy;	/* trafficPolicy or NULL */
	int line;
};

struct svc {
	char name[KMESH_NAME_MAX];
	char fqdn[256];
	size_t ri;		/* the ServiceEntry */
	const char *ns;
	yaml_node_t *spec;
	struct port ports[64];
	size_t nr_ports;
	bool per_port;		/* endpoints listen on other ports: a cluster per port */
	bool client_ip;		/* Kubernetes sessionAffinity: ClientIP */
	yaml_node_t *addrs;	/* in the document of resource ri */
	const char *addrs_path;
	struct ep *eps;
	size_t nr_eps;
	/* DestinationRule */
	long dr;		/* resource index, -1: none */
	yaml_node_t *dr_policy;
	struct subset subsets[32];
	size_t nr_subsets;
	bool has_routes;
};

struct xl {
	const struct istio_resource *res;
	size_t nr;
	const char *domain;
	char *err;
	size_t err_size;
	struct svc *svcs;
	size_t nr_svcs;
	struct buf services, clusters, routes, authz;
};

static void ctx_init(struct xl *x, struct ctx *c, size_t ri)
{
	const struct istio_resource *r = &x->res[ri];
	yaml_node_t *md;

	memset(c, 0, sizeof(*c));
	c->r = r;
	c->ri = ri;
	c->doc = r->doc;
	c->err = x->err;
	c->err_size = x->err_size;
	c->kind = scalar(get(c, r->root, "kind"));
	md = get(c, r->root, "metadata");
	c->name = scalar(get(c, md, "name"));
	c->ns = scalar(get(c, md, "namespace"));
	if (!c->ns || !c->ns[0])
		c->ns = "default";
}

/* Provenance of what follows in a buffer: resource, line, field path. */
static void origin(struct buf *b, const struct ctx *c, const yaml_node_t *n,
		   const char *path)
{
	bprintf(b, "  # @%zu %d %s\n", c->ri, line_of(n), path);
}

/* Istio's host names: "reviews" and "reviews.NS" are names of the
 * namespace's Kubernetes services, anything else is a full name. */
static int fqdn(struct xl *x, struct ctx *c, yaml_node_t *n, const char *path,
		const char *host, char *out, size_t size)
{
	const char *dot = strchr(host, '.');
	size_t i;

	if (strchr(host, '*'))
		return fail(c, n, path, "'%s': wildcard hosts not supported (kmesh routes a service by its addresses)", host);
	if (!dot) {
		snprintf(out, size, "%s.%s.svc.%s", host, c->ns, x->domain);
		return 0;
	}
	if (!strchr(dot + 1, '.')) {
		for (i = 0; i < x->nr; i++) {
			struct ctx o;

			ctx_init(x, &o, i);
			if (!strcmp(o.ns, dot + 1)) {
				snprintf(out, size, "%s.svc.%s", host, x->domain);
				return 0;
			}
		}
	}
	snprintf(out, size, "%s", host);
	return 0;
}

static struct svc *find_svc(struct xl *x, const char *fq)
{
	size_t i;

	for (i = 0; i < x->nr_svcs; i++)
		if (!strcasecmp(x->svcs[i].fqdn, fq))
			return &x->svcs[i];
	return NULL;
}

/* Every label of @sel is in @labels with the same value. */
static bool labels_match(yaml_document_t *sd, yaml_node_t *sel,
			 yaml_document_t *ld, yaml_node_t *labels)
{
	yaml_node_pair_t *p, *q;

	if (!sel || sel->type != YAML_MAPPING_NODE)
		return true;
	for (p = sel->data.mapping.pairs.start; p < sel->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(sd, p->key));
		const char *v = scalar(yaml_document_get_node(sd, p->value));
		bool found = false;

		if (!labels || labels->type != YAML_MAPPING_NODE)
			return false;
		for (q = labels->data.mapping.pairs.start;
		     q < labels->data.mapping.pairs.top && !found; q++) {
			const char *lk = scalar(yaml_document_get_node(ld, q->key));
			const char *lv = scalar(yaml_document_get_node(ld, q->value));

			found = lk && lv && k && v && !strcmp(k, lk) && !strcmp(v, lv);
		}
		if (!found)
			return false;
	}
	return true;
}

static int check_labels(struct ctx *c, yaml_node_t *n, const char *path)
{
	yaml_node_pair_t *p;

	if (!n)
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, path, "expected a mapping of label: value");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		if (!scalar(node(c, p->key)) || !scalar(node(c, p->value)))
			return fail(c, node(c, p->key), path, "expected label: value strings");
	return 0;
}

/* ---- metadata, apiVersion ---- */

static const char *const net_versions[] = {
	"networking.istio.io/v1", "networking.istio.io/v1beta1",
	"networking.istio.io/v1alpha3", NULL };
static const char *const sec_versions[] = {
	"security.istio.io/v1", "security.istio.io/v1beta1", NULL };
static const char *const core_versions[] = { "v1", NULL };
static const char *const discovery_versions[] = { "discovery.k8s.io/v1", NULL };
static const char *const spec_top[] = {
	"apiVersion", "kind", "metadata", "spec", "status", NULL };
static const char *const slice_top[] = {
	"apiVersion", "kind", "metadata", "addressType", "endpoints", "ports", NULL };

static const struct kind {
	const char *name;
	const char *const *versions;
	const char *const *top;
	bool spec;		/* spec: required */
} kinds[] = {
	{ "ServiceEntry", net_versions, spec_top, true },
	{ "WorkloadEntry", net_versions, spec_top, true },
	{ "DestinationRule", net_versions, spec_top, true },
	{ "VirtualService", net_versions, spec_top, true },
	{ "AuthorizationPolicy", sec_versions, spec_top, true },
	{ "Service", core_versions, spec_top, true },
	{ "EndpointSlice", discovery_versions, slice_top, false },
	/* read for its labels only (subsets, selectors) */
	{ "Pod", core_versions, spec_top, false },
};

static int check_head(struct xl *x, size_t ri)
{
	/* Bookkeeping a cluster adds (kubectl get -o yaml prints it); no
	 * meaning for the data plane. */
	static const char *const md_ok[] = {
		"name", "namespace", "labels", "annotations", "uid",
		"resourceVersion", "generation", "creationTimestamp",
		"managedFields", "finalizers", "ownerReferences", "generateName",
		"deletionTimestamp", "deletionGracePeriodSeconds", NULL };
	const struct kind *k = NULL;
	struct ctx c;
	const char *api, *kind, *name;
	yaml_node_t *root = x->res[ri].root, *md;
	size_t j;

	ctx_init(x, &c, ri);
	c.kind = "resource";
	if (root->type != YAML_MAPPING_NODE)
		return fail(&c, root, "", "expected a mapping");
	if (need_str(&c, get(&c, root, "kind"), "kind", &kind))
		return -1;
	c.kind = kind;
	md = get(&c, root, "metadata");
	if (!md)
		return fail(&c, root, "metadata", "required");
	if (fields(&c, md, "metadata", md_ok, NULL) ||
	    need_str(&c, get(&c, md, "name"), "metadata.name", &name))
		return -1;
	c.name = name;
	for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
		if (!strcmp(kinds[j].name, kind))
			k = &kinds[j];
	if (!k)
		return fail(&c, get(&c, root, "kind"), "kind",
			    "unknown kind (kmesh reads ServiceEntry, WorkloadEntry, DestinationRule, VirtualService, AuthorizationPolicy, Service, EndpointSlice, Pod)");
	if (fields(&c, root, "", k->top, NULL))
		return -1;
	if (need_str(&c, get(&c, root, "apiVersion"), "apiVersion", &api))
		return -1;
	if (!in_list(k->versions, api))
		return fail(&c, get(&c, root, "apiVersion"), "apiVersion",
			    "'%s' is not an apiVersion of %s", api, kind);
	if (k->spec && !get(&c, root, "spec"))
		return fail(&c, root, "spec", "required");
	for (j = 0; j < ri; j++) {
		struct ctx o;

		ctx_init(x, &o, j);
		if (o.kind && o.name && !strcmp(o.kind, kind) &&
		    !strcmp(o.name, name) && !strcmp(o.ns, c.ns))
			return fail(&c, get(&c, md, "name"), "metadata.name",
				    "a second %s %s in namespace %s (the first: %s:%d)",
				    kind, name, c.ns, x->res[j].file,
				    line_of(x->res[j].root));
	}
	return 0;
}

/* exportTo: every client of a node sees every config; only "*" says so. */
static int check_export_to(struct ctx *c, yaml_node_t *spec)
{
	yaml_node_t *n = get(c, spec, "exportTo"), *item;
	size_t i;

	if (!n)
		return 0;
	if (need_seq(c, n, "spec.exportTo"))
		return -1;
	SEQ_EACH(c, n, i, item)
		if (!scalar(item) || strcmp(scalar(item), "*"))
			return fail(c, item, "spec.exportTo",
				    "'%s': only \"*\" (kmesh applies a config to every client of the node, whatever its namespace)",
				    scalar(item) ? scalar(item) : "?");
	return 0;
}

/* ---- ServiceEntry, WorkloadEntry ---- */

static const char *const http_protocols[] = {
	"HTTP", "HTTP2", "GRPC", "GRPC-WEB", NULL };

static int port_protocol(struct ctx *c, yaml_node_t *n, const char *path,
			 bool *http)
{
	static const char *const opaque[] = {
		"TCP", "HTTPS", "TLS", "MONGO", "MYSQL", "REDIS", NULL };
	const char *p = scalar(n);

	*http = false;
	if (!n)
		return 0;	/* no protocol sniffing: bytes, like TCP */
	if (!p)
		return fail(c, n, path, "expected a string");
	/* an http port: HTTP/1.1 and h2c are told apart by their first
	 * bytes (docs/http2.md) */
	if (in_list(http_protocols, p)) {
		*http = true;
		return 0;
	}
	if (in_list(opaque, p))
		return 0;
	return fail(c, n, path, "unknown protocol '%s'", p);
}

static struct ep *add_ep(struct svc *s, struct ctx *c, const char *addr,
			  yaml_document_t *ldoc, yaml_node_t *labels,
			  unsigned long weight, int line)
{
	struct ep *n = realloc(s->eps, (s->nr_eps + 1) * sizeof(*s->eps));

	if (!n) {
		fail(c, c->r->root, "", "out of memory");
		return NULL;
	}
	s->eps = n;
	n = &s->eps[s->nr_eps++];
	memset(n, 0, sizeof(*n));
	n->addr = addr;
	n->doc = ldoc;
	n->labels = labels;
	n->weight = weight;
	n->ri = c->ri;
	n->line = line;
	return n;
}

/* Istio's endpoint ports: {portName: number}, checked already. */
static struct ep *add_istio_ep(struct svc *s, struct ctx *c, yaml_node_t *e,
			       const char *addr, unsigned long weight)
{
	struct ep *n = add_ep(s, c, addr, c->doc, get(c, e, "labels"), weight,
			      line_of(e));

	if (n)
		n->locality = scalar(get(c, e, "locality"));
	yaml_node_t *ports = get(c, e, "ports");
	yaml_node_pair_t *p;

	for (p = ports ? ports->data.mapping.pairs.start : NULL;
	     n && ports && p < ports->data.mapping.pairs.top &&
	     n->nr_ports < 16; p++) {
		n->ports[n->nr_ports].name = scalar(node(c, p->key));
		n->ports[n->nr_ports++].number =
			strtoul(scalar(node(c, p->value)), NULL, 10);
	}
	return n;
}

/* Where endpoint @e serves service port @p. */
static unsigned long ep_target(const struct ep *e, const struct port *p)
{
	size_t i;

	for (i = 0; i < e->nr_ports; i++)
		if (!strcmp(e->ports[i].name, p->name ? p->name : ""))
			return e->ports[i].number;
	return p->target;
}

static int endpoint_fields(struct ctx *c, yaml_node_t *e, const char *path,
			   const char **addr, unsigned long *weight)
{
	static const char *const ok[] = {
		"address", "labels", "weight", "ports", "locality", NULL };
	static const char *const refused[] = {
		"network", "serviceAccount", NULL };
	char sub[PATH_LEN], loc[MESH_LOCALITY_LEN];
	yaml_node_t *w, *ports, *l;
	yaml_node_pair_t *p;
	unsigned long v;

	if (fields(c, e, path, ok, refused))
		return -1;
	if ((l = get(c, e, "locality"))) {
		const char *why = !scalar(l) ? "expected region/zone/subzone" :
				  strlen(scalar(l)) >= sizeof(loc) ? "too long" :
				  mesh_locality_check(scalar(l), loc);

		spath(sub, "%s.locality", path);
		if (why)
			return fail(c, l, sub, "%s%s%s", scalar(l) ? scalar(l) : "",
				    scalar(l) ? ": " : "", why);
	}
	spath(sub, "%s.address", path);
	if (need_str(c, get(c, e, "address"), sub, addr))
		return -1;
	spath(sub, "%s.labels", path);
	if (check_labels(c, get(c, e, "labels"), sub))
		return -1;
	*weight = 0;
	w = get(c, e, "weight");
	spath(sub, "%s.weight", path);
	if (w && get_uint(c, w, sub, 1, 65535, weight))
		return -1;
	ports = get(c, e, "ports");
	spath(sub, "%s.ports", path);
	if (ports && ports->type != YAML_MAPPING_NODE)
		return fail(c, ports, sub, "expected a mapping of port name: number");
	if (ports && ports->data.mapping.pairs.top - ports->data.mapping.pairs.start > 16)
		return fail(c, ports, sub, "more than 16 ports");
	for (p = ports ? ports->data.mapping.pairs.start : NULL;
	     ports && p < ports->data.mapping.pairs.top; p++)
		if (!scalar(node(c, p->key)) ||
		    get_uint(c, node(c, p->value), sub, 1, 65535, &v))
			return scalar(node(c, p->key)) ? -1 :
			       fail(c, node(c, p->key), sub, "expected a port name");
	return 0;
}

/* A new service for host @fq (a ServiceEntry's or a Kubernetes Service's). */
static struct svc *new_svc(struct xl *x, struct ctx *c, const char *fq,
			   yaml_node_t *where, const char *path)
{
	char suffix[128];
	size_t l = strlen(fq), sl;
	struct svc *s;

	if (find_svc(x, fq)) {
		fail(c, where, path, "host %s is also in another ServiceEntry or Service", fq);
		return NULL;
	}
	s = realloc(x->svcs, (x->nr_svcs + 1) * sizeof(*x->svcs));
	if (!s) {
		fail(c, where, "", "out of memory");
		return NULL;
	}
	x->svcs = s;
	s = &x->svcs[x->nr_svcs];
	memset(s, 0, sizeof(*s));
	s->ri = c->ri;
	s->ns = c->ns;
	s->dr = -1;
	snprintf(s->fqdn, sizeof(s->fqdn), "%s", fq);
	/* reviews.default.svc.cluster.local is "reviews.default" */
	snprintf(suffix, sizeof(suffix), ".svc.%s", x->domain);
	sl = strlen(suffix);
	if (l > sl && !strcasecmp(fq + l - sl, suffix))
		l -= sl;
	if (l >= KMESH_NAME_MAX) {
		fail(c, where, path, "'%s' is longer than a kmesh service name (63)", fq);
		return NULL;
	}
	memcpy(s->name, fq, l);
	s->name[l] = '\0';
	x->nr_svcs++;
	return s;
}

static int read_service_entry(struct xl *x, size_t ri)
{
	static const char *const ok[] = {
		"hosts", "addresses", "ports", "resolution", "endpoints",
		"workloadSelector", "location", "exportTo", NULL };
	static const char *const refused[] = { "subjectAltNames", NULL };
	static const char *const port_ok[] = {
		"number", "protocol", "name", "targetPort", NULL };
	struct ctx c;
	yaml_node_t *spec, *hosts, *ports, *eps, *item, *res, *ws;
	const char *h;
	char path[PATH_LEN], fq[256];
	struct svc *s;
	size_t i, j;

	ctx_init(x, &c, ri);
	spec = get(&c, c.r->root, "spec");
	if (fields(&c, spec, "spec", ok, refused) || check_export_to(&c, spec))
		return -1;
	hosts = get(&c, spec, "hosts");
	if (need_seq(&c, hosts, "spec.hosts"))
		return -1;
	if (hosts->data.sequence.items.top - hosts->data.sequence.items.start != 1)
		return fail(&c, hosts, "spec.hosts",
			    "one host per ServiceEntry (kmesh routes each service by its own addresses)");
	item = node(&c, hosts->data.sequence.items.start[0]);
	if (need_str(&c, item, "spec.hosts[0]", &h) ||
	    fqdn(x, &c, item, "spec.hosts[0]", h, fq, sizeof(fq)))
		return -1;
	res = get(&c, spec, "resolution");
	if (!res || !scalar(res) || strcmp(scalar(res), "STATIC"))
		return fail(&c, res ? res : spec, "spec.resolution",
			    "%s: only STATIC is supported (kmesh balances over listed endpoints)",
			    res && scalar(res) ? scalar(res) : "required");
	if (need_seq(&c, get(&c, spec, "addresses"), "spec.addresses"))
		return fail(&c, spec, "spec.addresses",
			    "required: kmesh routes a service by its addresses");
	s = new_svc(x, &c, fq, item, "spec.hosts[0]");
	if (!s)
		return -1;
	s->spec = spec;
	s->addrs = get(&c, spec, "addresses");
	s->addrs_path = "spec.addresses";
	ports = get(&c, spec, "ports");
	if (need_seq(&c, ports, "spec.ports"))
		return -1;
	SEQ_EACH(&c, ports, i, item) {
		struct port *p = &s->ports[s->nr_ports];
		char sub[PATH_LEN];

		spath(path, "spec.ports[%zu]", i);
		if (s->nr_ports == 64)
			return fail(&c, item, path, "more than 64 ports");
		if (fields(&c, item, path, port_ok, NULL))
			return -1;
		spath(sub, "%s.number", path);
		if (get_uint(&c, get(&c, item, "number"), sub, 1, 65535, &p->number))
			return -1;
		p->target = p->number;
		spath(sub, "%s.targetPort", path);
		if (get(&c, item, "targetPort") &&
		    get_uint(&c, get(&c, item, "targetPort"), sub, 1, 65535, &p->target))
			return -1;
		p->name = scalar(get(&c, item, "name"));
		spath(sub, "%s.protocol", path);
		if (port_protocol(&c, get(&c, item, "protocol"), sub, &p->http))
			return -1;
		for (j = 0; j < s->nr_ports; j++)
			if (s->ports[j].number == p->number)
				return fail(&c, item, path, "port %lu twice", p->number);
		s->nr_ports++;
	}
	eps = get(&c, spec, "endpoints");
	ws = get(&c, spec, "workloadSelector");
	if (eps && ws)
		return fail(&c, ws, "spec.workloadSelector",
			    "endpoints and workloadSelector together (Istio allows one)");
	if (eps && need_seq(&c, eps, "spec.endpoints"))
		return -1;
	SEQ_EACH(&c, eps, i, item) {
		const char *addr;
		unsigned long w;

		spath(path, "spec.endpoints[%zu]", i);
		if (endpoint_fields(&c, item, path, &addr, &w) ||
		    !add_istio_ep(s, &c, item, addr, w))
			return -1;
	}
	if (ws) {
		static const char *const ws_ok[] = { "labels", NULL };
		yaml_node_t *sel;

		if (fields(&c, ws, "spec.workloadSelector", ws_ok, NULL))
			return -1;
		sel = get(&c, ws, "labels");
		if (!sel || check_labels(&c, sel, "spec.workloadSelector.labels"))
			return sel ? -1 : fail(&c, ws, "spec.workloadSelector.labels", "required");
		for (j = 0; j < x->nr; j++) {
			struct ctx w;
			yaml_node_t *wspec;
			const char *addr;
			unsigned long wt;

			ctx_init(x, &w, j);
			if (strcmp(w.kind, "WorkloadEntry") || strcmp(w.ns, c.ns))
				continue;
			wspec = get(&w, w.r->root, "spec");
			if (endpoint_fields(&w, wspec, "spec", &addr, &wt))
				return -1;
			if (labels_match(c.doc, sel, w.doc, get(&w, wspec, "labels")) &&
			    !add_istio_ep(s, &w, wspec, addr, wt))
				return -1;
		}
	}
	return 0;
}

static int check_workload_entry(struct xl *x, size_t ri)
{
	struct ctx c;
	const char *addr;
	unsigned long w;

	ctx_init(x, &c, ri);
	return endpoint_fields(&c, get(&c, c.r->root, "spec"), "spec", &addr, &w);
}

/* ---- Kubernetes Service, EndpointSlice, Pod ---- */

/* Istio's protocol selection for Kubernetes ports: appProtocol, else the
 * port name's prefix ("http", "http-web", "http2-x", "grpc-x",
 * "grpc-web-x"); anything else is bytes. HTTP/2 and gRPC ports are http
 * ports: kmesh tells h2c from HTTP/1.1 by the first bytes. */
static bool k8s_http(const char *name, const char *app)
{
	static const char *const prefixes[] = { "http", "http2", "grpc", "grpc-web", NULL };
	size_t i, n;

	if (app)
		return !strcmp(app, "http") || !strcmp(app, "http2") ||
		       !strcmp(app, "grpc") || !strcmp(app, "grpc-web") ||
		       !strcmp(app, "kubernetes.io/h2c");
	for (i = 0; name && prefixes[i]; i++) {
		n = strlen(prefixes[i]);
		if (!strncmp(name, prefixes[i], n) && (!name[n] || name[n] == '-'))
			return true;
	}
	return false;
}

static int read_k8s_service(struct xl *x, size_t ri)
{
	static const char *const ok[] = {
		"ports", "selector", "clusterIP", "clusterIPs", "type",
		"sessionAffinity", "sessionAffinityConfig", "ipFamilies",
		"ipFamilyPolicy", "internalTrafficPolicy",
		"externalTrafficPolicy", "allocateLoadBalancerNodePorts",
		"loadBalancerClass", "healthCheckNodePort",
		"publishNotReadyAddresses", "trafficDistribution", NULL };
	static const char *const refused[] = {
		"externalName", "externalIPs", "loadBalancerIP",
		"loadBalancerSourceRanges", NULL };
	static const char *const port_ok[] = {
		"name", "port", "targetPort", "protocol", "appProtocol",
		"nodePort", NULL };
	struct ctx c;
	yaml_node_t *spec, *ports, *item, *n;
	char fq[256], path[PATH_LEN], sub[PATH_LEN];
	struct svc *s;
	size_t i, j;

	ctx_init(x, &c, ri);
	spec = get(&c, c.r->root, "spec");
	if (fields(&c, spec, "spec", ok, refused) || check_export_to(&c, spec))
		return -1;
	n = get(&c, spec, "type");
	if (n && (!scalar(n) || (strcmp(scalar(n), "ClusterIP") &&
				 strcmp(scalar(n), "NodePort") &&
				 strcmp(scalar(n), "LoadBalancer"))))
		return fail(&c, n, "spec.type", "%s: not supported (kmesh routes cluster IPs)",
			    scalar(n) ? scalar(n) : "?");
	n = get(&c, spec, "clusterIPs");
	s = NULL;
	if (!n) {
		n = get(&c, spec, "clusterIP");
		if (!n)
			return fail(&c, spec, "spec.clusterIP", "required: kmesh routes a service by its cluster IPs");
	}
	if ((scalar(n) && !strcmp(scalar(n), "None")) ||
	    (n->type == YAML_SEQUENCE_NODE && n->data.sequence.items.top > n->data.sequence.items.start &&
	     scalar(node(&c, n->data.sequence.items.start[0])) &&
	     !strcmp(scalar(node(&c, n->data.sequence.items.start[0])), "None")))
		return fail(&c, n, get(&c, spec, "clusterIPs") ? "spec.clusterIPs" : "spec.clusterIP",
			    "a headless service (None): not supported (kmesh routes a service by its cluster IPs)");
	snprintf(fq, sizeof(fq), "%s.%s.svc.%s", c.name, c.ns, x->domain);
	s = new_svc(x, &c, fq, get(&c, get(&c, c.r->root, "metadata"), "name"), "metadata.name");
	if (!s)
		return -1;
	s->addrs = n;
	s->addrs_path = get(&c, spec, "clusterIPs") ? "spec.clusterIPs" : "spec.clusterIP";
	n = get(&c, spec, "sessionAffinity");
	if (n && (!scalar(n) || (strcmp(scalar(n), "None") && strcmp(scalar(n), "ClientIP"))))
		return fail(&c, n, "spec.sessionAffinity", "expected None or ClientIP");
	s->client_ip = n && !strcmp(scalar(n), "ClientIP");
	ports = get(&c, spec, "ports");
	if (need_seq(&c, ports, "spec.ports"))
		return -1;
	SEQ_EACH(&c, ports, i, item) {
		struct port *p = &s->ports[s->nr_ports];
		const char *proto;

		spath(path, "spec.ports[%zu]", i);
		if (s->nr_ports == 64)
			return fail(&c, item, path, "more than 64 ports");
		if (fields(&c, item, path, port_ok, NULL))
			return -1;
		spath(sub, "%s.port", path);
		if (get_uint(&c, get(&c, item, "port"), sub, 1, 65535, &p->number))
			return -1;
		p->target = p->number;
		n = get(&c, item, "targetPort");
		spath(sub, "%s.targetPort", path);
		/* a named targetPort: the EndpointSlice says the number */
		if (n && scalar(n) && scalar(n)[0] >= '0' && scalar(n)[0] <= '9' &&
		    get_uint(&c, n, sub, 1, 65535, &p->target))
			return -1;
		p->name = scalar(get(&c, item, "name"));
		proto = scalar(get(&c, item, "protocol"));
		spath(sub, "%s.protocol", path);
		if (proto && strcmp(proto, "TCP"))
			return fail(&c, get(&c, item, "protocol"), sub,
				    "%s: not supported (kmesh routes TCP)", proto);
		p->http = k8s_http(p->name, scalar(get(&c, item, "appProtocol")));
		for (j = 0; j < s->nr_ports; j++)
			if (s->ports[j].number == p->number)
				return fail(&c, item, path, "port %lu twice", p->number);
		s->nr_ports++;
	}
	return 0;
}

/* The labels of the Pod an endpoint names (targetRef), if in the input. */
static const struct istio_resource *find_pod(struct xl *x, const char *name,
					     const char *ns)
{
	size_t i;

	for (i = 0; i < x->nr; i++) {
		struct ctx o;

		ctx_init(x, &o, i);
		if (!strcmp(o.kind, "Pod") && !strcmp(o.name, name) &&
		    !strcmp(o.ns, ns))
			return &x->res[i];
	}
	return NULL;
}

static int read_endpoint_slice(struct xl *x, size_t ri)
{
	static const char *const ep_ok[] = {
		"addresses", "conditions", "targetRef", "nodeName", "zone",
		"hints", "hostname", "deprecatedTopology", NULL };
	static const char *const cond_ok[] = { "ready", "serving", "terminating", NULL };
	static const char *const ref_ok[] = {
		"kind", "name", "namespace", "uid", "resourceVersion",
		"apiVersion", "fieldPath", NULL };
	static const char *const port_ok[] = { "name", "port", "protocol", "appProtocol", NULL };
	struct ctx c;
	yaml_node_t *root, *n, *eps, *ports, *item, *pi;
	const char *svcname, *at;
	char fq[256], path[PATH_LEN], sub[PATH_LEN];
	struct ep_port pp[16];
	size_t nr_pp = 0, i, j;
	struct svc *s;

	ctx_init(x, &c, ri);
	root = c.r->root;
	n = get(&c, get(&c, get(&c, root, "metadata"), "labels"), "kubernetes.io/service-name");
	if (need_str(&c, n, "metadata.labels.kubernetes.io/service-name", &svcname))
		return -1;
	snprintf(fq, sizeof(fq), "%s.%s.svc.%s", svcname, c.ns, x->domain);
	s = find_svc(x, fq);
	if (!s)
		return fail(&c, n, "metadata.labels.kubernetes.io/service-name",
			    "no Service %s in namespace %s", svcname, c.ns);
	n = get(&c, root, "addressType");
	if (need_str(&c, n, "addressType", &at))
		return -1;
	if (strcmp(at, "IPv4") && strcmp(at, "IPv6"))
		return fail(&c, n, "addressType", "%s: not supported (IPv4 or IPv6)", at);
	ports = get(&c, root, "ports");
	if (ports && ports->type == YAML_SEQUENCE_NODE &&
	    ports->data.sequence.items.top - ports->data.sequence.items.start > 16)
		return fail(&c, ports, "ports", "more than 16 ports");
	SEQ_EACH(&c, ports, i, pi) {
		const char *proto;

		spath(path, "ports[%zu]", i);
		if (fields(&c, pi, path, port_ok, NULL))
			return -1;
		spath(sub, "%s.port", path);
		if (get_uint(&c, get(&c, pi, "port"), sub, 1, 65535, &pp[nr_pp].number))
			return -1;
		proto = scalar(get(&c, pi, "protocol"));
		spath(sub, "%s.protocol", path);
		if (proto && strcmp(proto, "TCP"))
			return fail(&c, get(&c, pi, "protocol"), sub,
				    "%s: not supported (kmesh routes TCP)", proto);
		pp[nr_pp].name = scalar(get(&c, pi, "name"));
		if (!pp[nr_pp].name)
			pp[nr_pp].name = "";
		nr_pp++;
	}
	eps = get(&c, root, "endpoints");
	if (eps && need_seq(&c, eps, "endpoints"))
		return -1;
	SEQ_EACH(&c, eps, i, item) {
		yaml_node_t *addrs, *cond, *ref, *labels = NULL;
		yaml_document_t *ldoc = c.doc;
		const char *addr;
		bool ready = true;
		struct ep *e;

		spath(path, "endpoints[%zu]", i);
		if (fields(&c, item, path, ep_ok, NULL))
			return -1;
		addrs = get(&c, item, "addresses");
		spath(sub, "%s.addresses", path);
		if (need_seq(&c, addrs, sub))
			return -1;
		/* Kubernetes: consumers use the first address */
		spath(sub, "%s.addresses[0]", path);
		if (addrs->data.sequence.items.top == addrs->data.sequence.items.start)
			return fail(&c, addrs, sub, "required");
		if (need_str(&c, node(&c, addrs->data.sequence.items.start[0]), sub, &addr))
			return -1;
		cond = get(&c, item, "conditions");
		spath(sub, "%s.conditions", path);
		if (cond && fields(&c, cond, sub, cond_ok, NULL))
			return -1;
		/* not ready (or terminating): no new connections, as Kubernetes
		 * routes; a null ready means ready */
		if (scalar(get(&c, cond, "ready")) && !strcmp(scalar(get(&c, cond, "ready")), "false"))
			ready = false;
		ref = get(&c, item, "targetRef");
		spath(sub, "%s.targetRef", path);
		if (ref && fields(&c, ref, sub, ref_ok, NULL))
			return -1;
		if (ref && scalar(get(&c, ref, "kind")) && !strcmp(scalar(get(&c, ref, "kind")), "Pod") &&
		    scalar(get(&c, ref, "name"))) {
			const char *pns = scalar(get(&c, ref, "namespace"));
			const struct istio_resource *pod =
				find_pod(x, scalar(get(&c, ref, "name")), pns ? pns : c.ns);

			if (pod) {
				struct ctx pc;

				ctx_init(x, &pc, (size_t)(pod - x->res));
				labels = get(&pc, get(&pc, pod->root, "metadata"), "labels");
				ldoc = pod->doc;
				spath(sub, "metadata.labels");
				if (check_labels(&pc, labels, sub))
					return -1;
			}
		}
		e = add_ep(s, &c, addr, ldoc, labels, 0, line_of(item));
		if (!e)
			return -1;
		e->draining = !ready;
		for (j = 0; j < nr_pp; j++)
			e->ports[e->nr_ports++] = pp[j];
	}
	return 0;
}

/* ---- DestinationRule ---- */

/* localityLbSetting: enabled and failover; the rest has no kmesh form. */
static int check_locality_lb(struct ctx *c, yaml_node_t *l, const char *path)
{
	static const char *const ok[] = { "enabled", "failover", NULL };
	static const char *const refused[] = {
		"distribute", "failoverPriority", NULL };
	static const char *const fo_ok[] = { "from", "to", NULL };
	char sub[PATH_LEN], loc[MESH_LOCALITY_LEN];
	yaml_node_t *n, *item;
	size_t i;

	if (fields(c, l, path, ok, refused))
		return -1;
	n = get(c, l, "enabled");
	spath(sub, "%s.enabled", path);
	if (n && (!scalar(n) || (strcmp(scalar(n), "true") && strcmp(scalar(n), "false"))))
		return fail(c, n, sub, "expected true or false");
	n = get(c, l, "failover");
	spath(sub, "%s.failover", path);
	if (n && need_seq(c, n, sub))
		return -1;
	SEQ_EACH(c, n, i, item) {
		static const char *const parts[] = { "from", "to" };
		int k;

		spath(sub, "%s.failover[%zu]", path, i);
		if (fields(c, item, sub, fo_ok, NULL))
			return -1;
		for (k = 0; k < 2; k++) {
			yaml_node_t *r = get(c, item, parts[k]);
			const char *v = scalar(r);

			spath(sub, "%s.failover[%zu].%s", path, i, parts[k]);
			if (!r)
				return fail(c, item, sub, "required");
			if (!v || strchr(v, '/') || strlen(v) >= sizeof(loc) ||
			    mesh_locality_check(v, loc))
				return fail(c, r, sub, "%s: expected a region", v ? v : "");
		}
	}
	return 0;
}

/*
 * outlierDetection: kmesh sees connect failures (refused, reset, timed
 * out) and the HTTP responses it reads. Envoy counts a connect failure as
 * a 503 (a 5xx and a gateway error) unless splitExternalLocalOriginErrors,
 * where it counts as a local-origin failure only
 * (consecutiveLocalOriginFailures) and 5xx count responses alone.
 */
static int check_outlier(struct ctx *c, yaml_node_t *od, const char *path)
{
	static const char *const od_ok[] = {
		"consecutive5xxErrors", "consecutiveGatewayErrors",
		"consecutiveLocalOriginFailures", "splitExternalLocalOriginErrors",
		"interval", "baseEjectionTime", "maxEjectionPercent",
		"minHealthPercent", NULL };
	static const char *const od_refused[] = { "consecutiveErrors", NULL };
	static const struct { const char *name; unsigned long max; } counts[] = {
		{ "consecutive5xxErrors", MESH_MAX_OUTLIER_CONSECUTIVE },
		{ "consecutiveGatewayErrors", MESH_MAX_OUTLIER_CONSECUTIVE },
		{ "consecutiveLocalOriginFailures", MESH_MAX_OUTLIER_CONSECUTIVE },
		{ "maxEjectionPercent", 100 },
		{ "minHealthPercent", 100 },
	};
	static const char *const times[] = { "interval", "baseEjectionTime" };
	char sub[PATH_LEN];
	unsigned long v;
	yaml_node_t *n;
	bool split = false;
	size_t i;

	if (fields(c, od, path, od_ok, od_refused))
		return -1;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		spath(sub, "%s.%s", path, counts[i].name);
		if ((n = get(c, od, counts[i].name)) &&
		    get_uint(c, n, sub, 0, counts[i].max, &v))
			return -1;
	}
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		spath(sub, "%s.%s", path, times[i]);
		if ((n = get(c, od, times[i])) &&
		    get_duration_ms(c, n, sub, MESH_MAX_OUTLIER_MS, &v))
			return -1;
	}
	if ((n = get(c, od, "splitExternalLocalOriginErrors"))) {
		spath(sub, "%s.splitExternalLocalOriginErrors", path);
		if (!scalar(n) || (strcmp(scalar(n), "true") && strcmp(scalar(n), "false")))
			return fail(c, n, sub, "expected true or false");
		split = !strcmp(scalar(n), "true");
	}
	n = get(c, od, "consecutiveLocalOriginFailures");
	if (n && !split) {
		spath(sub, "%s.consecutiveLocalOriginFailures", path);
		return fail(c, n, sub, "takes effect only with splitExternalLocalOriginErrors: true (as in Envoy)");
	}
	return 0;
}

static int check_policy(struct ctx *c, yaml_node_t *tp, const char *path)
{
	static const char *const ok[] = {
		"loadBalancer", "connectionPool", "outlierDetection", NULL };
	static const char *const refused[] = {
		"tls", "portLevelSettings", "tunnel",
		"proxyProtocol", "retryBudget", NULL };
	static const char *const lb_ok[] = {
		"simple", "consistentHash", "localityLbSetting", NULL };
	static const char *const lb_refused[] = {
		"warmupDurationSecs", "warmup", NULL };
	static const char *const ch_ok[] = { "useSourceIp", NULL };
	static const char *const ch_refused[] = {
		"httpHeaderName", "httpCookie", "httpQueryParameterName",
		"ringHash", "maglev", "minimumRingSize", NULL };
	static const char *const cp_ok[] = { "tcp", NULL };
	static const char *const cp_refused[] = { "http", NULL };
	static const char *const tcp_ok[] = { "maxConnections", "connectTimeout", NULL };
	static const char *const tcp_refused[] = {
		"tcpKeepalive", "maxConnectionDuration",
		"idleTimeout", NULL };
	char sub[PATH_LEN], sub2[PATH_LEN];
	yaml_node_t *lb, *cp, *n;
	unsigned long v;

	if (fields(c, tp, path, ok, refused))
		return -1;
	spath(sub, "%s.outlierDetection", path);
	if ((n = get(c, tp, "outlierDetection")) && check_outlier(c, n, sub))
		return -1;
	lb = get(c, tp, "loadBalancer");
	spath(sub, "%s.loadBalancer", path);
	if (lb && fields(c, lb, sub, lb_ok, lb_refused))
		return -1;
	if (lb && get(c, lb, "simple") && get(c, lb, "consistentHash"))
		return fail(c, lb, sub, "simple and consistentHash together");
	if ((n = get(c, lb, "simple"))) {
		const char *s = scalar(n);

		spath(sub2, "%s.simple", sub);
		if (!s || (strcmp(s, "ROUND_ROBIN") && strcmp(s, "RANDOM") &&
			   strcmp(s, "UNSPECIFIED")))
			return fail(c, n, sub2, "%s: not supported (kmesh balances ROUND_ROBIN or RANDOM, or consistentHash.useSourceIp)",
				    s ? s : "?");
	}
	spath(sub2, "%s.localityLbSetting", sub);
	if ((n = get(c, lb, "localityLbSetting")) && check_locality_lb(c, n, sub2))
		return -1;
	if ((n = get(c, lb, "consistentHash"))) {
		spath(sub2, "%s.consistentHash", sub);
		if (fields(c, n, sub2, ch_ok, ch_refused))
			return -1;
		if (!scalar(get(c, n, "useSourceIp")) ||
		    strcmp(scalar(get(c, n, "useSourceIp")), "true"))
			return fail(c, n, sub2, "useSourceIp: true is required (the only hash kmesh has)");
	}
	cp = get(c, tp, "connectionPool");
	spath(sub, "%s.connectionPool", path);
	if (cp && fields(c, cp, sub, cp_ok, cp_refused))
		return -1;
	if ((n = get(c, cp, "tcp"))) {
		spath(sub2, "%s.tcp", sub);
		if (fields(c, n, sub2, tcp_ok, tcp_refused))
			return -1;
		spath(sub2, "%s.tcp.maxConnections", sub);
		if (get(c, n, "maxConnections") &&
		    get_uint(c, get(c, n, "maxConnections"), sub2, 0, 4294967295UL, &v))
			return -1;
		spath(sub2, "%s.tcp.connectTimeout", sub);
		if (get(c, n, "connectTimeout") &&
		    get_duration_ms(c, get(c, n, "connectTimeout"), sub2,
				    MESH_MAX_CONNECT_TIMEOUT_MS, &v))
			return -1;
	}
	return 0;
}

static int read_destination_rule(struct xl *x, size_t ri)
{
	static const char *const ok[] = {
		"host", "trafficPolicy", "subsets", "exportTo", NULL };
	static const char *const refused[] = { "workloadSelector", NULL };
	static const char *const ss_ok[] = { "name", "labels", "trafficPolicy", NULL };
	struct ctx c;
	yaml_node_t *spec, *h, *subsets, *item;
	const char *host, *name;
	char fq[256], path[PATH_LEN], sub[PATH_LEN];
	struct svc *s;
	size_t i, j;

	ctx_init(x, &c, ri);
	spec = get(&c, c.r->root, "spec");
	if (fields(&c, spec, "spec", ok, refused) || check_export_to(&c, spec))
		return -1;
	h = get(&c, spec, "host");
	if (need_str(&c, h, "spec.host", &host) ||
	    fqdn(x, &c, h, "spec.host", host, fq, sizeof(fq)))
		return -1;
	s = find_svc(x, fq);
	if (!s)
		return fail(&c, h, "spec.host", "no ServiceEntry or Service has host %s", fq);
	if (s->dr >= 0)
		return fail(&c, h, "spec.host",
			    "%s already has DestinationRule %s (%s)", fq,
			    scalar(get(&c, get(&c, x->res[s->dr].root, "metadata"), "name")),
			    x->res[s->dr].file);
	s->dr = (long)ri;
	s->dr_policy = get(&c, spec, "trafficPolicy");
	if (s->dr_policy && check_policy(&c, s->dr_policy, "spec.trafficPolicy"))
		return -1;
	subsets = get(&c, spec, "subsets");
	if (subsets && need_seq(&c, subsets, "spec.subsets"))
		return -1;
	SEQ_EACH(&c, subsets, i, item) {
		struct subset *ss;

		spath(path, "spec.subsets[%zu]", i);
		if (s->nr_subsets == 32)
			return fail(&c, item, path, "more than 32 subsets");
		if (fields(&c, item, path, ss_ok, NULL))
			return -1;
		spath(sub, "%s.name", path);
		if (need_str(&c, get(&c, item, "name"), sub, &name))
			return -1;
		for (j = 0; j < s->nr_subsets; j++)
			if (!strcmp(s->subsets[j].name, name))
				return fail(&c, item, sub, "subset %s twice", name);
		ss = &s->subsets[s->nr_subsets++];
		ss->name = name;
		ss->labels = get(&c, item, "labels");
		ss->policy = get(&c, item, "trafficPolicy");
		ss->line = line_of(item);
		spath(sub, "%s.labels", path);
		if (check_labels(&c, ss->labels, sub))
			return -1;
		spath(sub, "%s.trafficPolicy", path);
		if (ss->policy && check_policy(&c, ss->policy, sub))
			return -1;
	}
	return 0;
}

/* ---- writing services and clusters ---- */

/* "reviews.default", "reviews.default_v1"; a cluster per port when the
 * endpoints listen elsewhere: "reviews.default-9080_v1". */
static void cluster_name(const struct svc *s, const char *subset,
			 const struct port *port, char *out, size_t size)
{
	char base[2 * KMESH_NAME_MAX];

	if (port)
		snprintf(base, sizeof(base), "%s-%lu", s->name, port->number);
	else
		snprintf(base, sizeof(base), "%s", s->name);
	if (subset)
		snprintf(out, size, "%s_%s", base, subset);
	else
		snprintf(out, size, "%s", base);
}

/* Field @f2 of section @f1 of @a if @a has that section, else of @b: a
 * subset's loadBalancer or connectionPool replaces the rule's whole, as
 * Istio merges them. */
static yaml_node_t *policy_field(struct ctx *c, yaml_node_t *a, yaml_node_t *b,
				 const char *f1, const char *f2)
{
	yaml_node_t *sec = get(c, a, f1);

	return get(c, sec ? sec : get(c, b, f1), f2);
}

/* A DestinationRule's outlierDetection (checked by check_outlier()). */
static void write_outlier(struct buf *b, struct ctx *dc, yaml_node_t *od)
{
	static const struct { const char *istio, *kmesh; } counts[] = {
		{ "consecutive5xxErrors", "consecutive_5xx" },
		{ "consecutiveGatewayErrors", "consecutive_gateway_errors" },
		{ "consecutiveLocalOriginFailures", "consecutive_connect_failures" },
		{ "maxEjectionPercent", "max_ejection_percent" },
		{ "minHealthPercent", "min_health_percent" },
	}, times[] = {
		{ "interval", "interval_ms" },
		{ "baseEjectionTime", "base_ejection_ms" },
	};
	yaml_node_t *n;
	unsigned long ms;
	size_t i;

	bputs(b, "    outlier_detection:\n");
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if ((n = get(dc, od, counts[i].istio)))
			bprintf(b, "      %s: %s\n", counts[i].kmesh, scalar(n));
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if ((n = get(dc, od, times[i].istio)) &&
		    !get_duration_ms(dc, n, times[i].istio, MESH_MAX_OUTLIER_MS, &ms))
			bprintf(b, "      %s: %lu\n", times[i].kmesh, ms);
	n = get(dc, od, "splitExternalLocalOriginErrors");
	if (n && !strcmp(scalar(n), "true")) {
		bputs(b, "      split_external_local_origin_errors: true\n");
		/* Istio's default 5 for responses: 0 was required (kmesh sees none) */
		if (!get(dc, od, "consecutive5xxErrors"))
			bputs(b, "      consecutive_5xx: 0\n");
	}
}

static int write_cluster(struct xl *x, struct svc *s, const struct subset *ss,
			 const struct port *port)
{
	struct ctx c, dc;
	char name[4 * KMESH_NAME_MAX];
	yaml_node_t *simple = NULL, *hash = NULL, *maxc = NULL, *ctimeout = NULL;
	yaml_node_t *locality = NULL;
	yaml_node_t *od = NULL;
	bool weights = false;
	size_t i, nr = 0;

	ctx_init(x, &c, s->ri);
	cluster_name(s, ss ? ss->name : NULL, port, name, sizeof(name));
	if (s->dr >= 0) {
		ctx_init(x, &dc, (size_t)s->dr);
		simple = policy_field(&dc, ss ? ss->policy : NULL, s->dr_policy, "loadBalancer", "simple");
		hash = policy_field(&dc, ss ? ss->policy : NULL, s->dr_policy, "loadBalancer", "consistentHash");
		locality = policy_field(&dc, ss ? ss->policy : NULL, s->dr_policy, "loadBalancer", "localityLbSetting");
		maxc = get(&dc, policy_field(&dc, ss ? ss->policy : NULL, s->dr_policy, "connectionPool", "tcp"), "maxConnections");
		ctimeout = get(&dc, policy_field(&dc, ss ? ss->policy : NULL, s->dr_policy, "connectionPool", "tcp"), "connectTimeout");
		od = get(&dc, ss ? ss->policy : NULL, "outlierDetection");
		if (!od)
			od = get(&dc, s->dr_policy, "outlierDetection");
	}
	if (ss)
		origin(&x->clusters, &dc, x->res[s->dr].root, "spec.subsets");
	else
		origin(&x->clusters, &c, get(&c, c.r->root, "spec"), "spec");
	bputs(&x->clusters, "  - name: ");
	bquote(&x->clusters, name);
	bputs(&x->clusters, "\n");
	for (i = 0; i < s->nr_eps; i++)
		if (s->eps[i].weight && s->eps[i].weight != 1)
			weights = true;
	if (hash || (s->client_ip && !simple))
		bputs(&x->clusters, "    lb: maglev\n");
	else if (simple && !strcmp(scalar(simple), "RANDOM"))
		bputs(&x->clusters, weights ? "    lb: weighted\n" : "    lb: random\n");
	else
		/* Istio's default, and ROUND_ROBIN with weights, honour them */
		bputs(&x->clusters, weights ? "    lb: weighted\n" : "    lb: round_robin\n");
	if (maxc)
		bprintf(&x->clusters, "    max_connections: %s\n", scalar(maxc));
	if (locality && (!get(&dc, locality, "enabled") ||
			 strcmp(scalar(get(&dc, locality, "enabled")), "false"))) {
		yaml_node_t *fo = get(&dc, locality, "failover"), *item;
		size_t k;

		/* checked when the DestinationRule was read */
		bputs(&x->clusters, "    locality_lb:\n      failover:");
		bputs(&x->clusters, fo && fo->type == YAML_SEQUENCE_NODE &&
			  fo->data.sequence.items.top > fo->data.sequence.items.start ?
			  "\n" : " []\n");
		SEQ_EACH(&dc, fo, k, item) {
			bputs(&x->clusters, "        - {from: ");
			bquote(&x->clusters, scalar(get(&dc, item, "from")));
			bputs(&x->clusters, ", to: ");
			bquote(&x->clusters, scalar(get(&dc, item, "to")));
			bputs(&x->clusters, "}\n");
		}
	}
	if (ctimeout) {
		unsigned long ms = 0;

		/* checked when the DestinationRule was read */
		if (!get_duration_ms(&dc, ctimeout, "connectTimeout",
				     MESH_MAX_CONNECT_TIMEOUT_MS, &ms))
			bprintf(&x->clusters, "    connect_timeout_ms: %lu\n", ms);
	}
	if (od)
		write_outlier(&x->clusters, &dc, od);
	bputs(&x->clusters, "    endpoints:\n");
	for (i = 0; i < s->nr_eps; i++) {
		const struct ep *e = &s->eps[i];
		const struct port *p = port;
		unsigned long target = 0;

		if (ss && !labels_match(x->res[s->dr].doc, ss->labels, e->doc, e->labels))
			continue;
		/* one port, or a cluster per port: the port is known;
		 * else every port's endpoint port is its own (0: as dialed) */
		if (!p && s->nr_ports == 1)
			p = &s->ports[0];
		if (p)
			target = ep_target(e, p);
		bprintf(&x->clusters, "      - {address: ");
		bquote(&x->clusters, e->addr);
		if (target)
			bprintf(&x->clusters, ", port: %lu", target);
		if (e->weight)
			bprintf(&x->clusters, ", weight: %lu", e->weight);
		if (e->draining)
			bputs(&x->clusters, ", state: draining");
		if (e->locality) {
			bputs(&x->clusters, ", locality: ");
			bquote(&x->clusters, e->locality);
		}
		bputs(&x->clusters, "}\n");
		nr++;
	}
	if (!nr) {
		/* an empty list: the cluster refuses connects, as it should */
		x->clusters.n -= strlen("    endpoints:\n");
		x->clusters.p[x->clusters.n] = '\0';
	}
	return 0;
}

static int write_service(struct xl *x, struct svc *s)
{
	struct ctx c;
	yaml_node_t *item;
	char name[4 * KMESH_NAME_MAX];
	size_t i, j;

	ctx_init(x, &c, s->ri);
	for (i = 0; s->nr_ports > 1 && i < s->nr_ports; i++)
		for (j = 0; j < s->nr_eps; j++)
			if (ep_target(&s->eps[j], &s->ports[i]) != s->ports[i].number)
				s->per_port = true;
	origin(&x->services, &c, s->addrs, s->addrs_path);
	bputs(&x->services, "  - name: ");
	bquote(&x->services, s->name);
	bputs(&x->services, "\n    addresses: [");
	if (s->addrs->type == YAML_SCALAR_NODE) {
		bquote(&x->services, scalar(s->addrs));
	} else {
		SEQ_EACH(&c, s->addrs, i, item) {
			if (!scalar(item))
				return fail(&c, item, s->addrs_path, "expected an address");
			if (i)
				bputs(&x->services, ", ");
			bquote(&x->services, scalar(item));
		}
	}
	bputs(&x->services, "]\n");
	bputs(&x->services, "    ports:\n");
	for (i = 0; i < s->nr_ports; i++) {
		bprintf(&x->services, "      - {port: %lu, protocol: %s, cluster: ",
			s->ports[i].number, s->ports[i].http ? "http" : "tcp");
		cluster_name(s, NULL, s->per_port ? &s->ports[i] : NULL, name, sizeof(name));
		bquote(&x->services, name);
		bputs(&x->services, "}\n");
	}
	for (i = 0; i < (s->per_port ? s->nr_ports : 1); i++) {
		const struct port *p = s->per_port ? &s->ports[i] : NULL;

		if (write_cluster(x, s, NULL, p))
			return -1;
		for (j = 0; j < s->nr_subsets; j++)
			if (write_cluster(x, s, &s->subsets[j], p))
				return -1;
	}
	return 0;
}

/* ---- VirtualService ---- */

static int dest_cluster(struct xl *x, struct ctx *c, yaml_node_t *d,
			const char *path, char *out, size_t size)
{
	static const char *const ok[] = { "host", "subset", "port", NULL };
	static const char *const port_ok[] = { "number", NULL };
	yaml_node_t *h, *sub, *port;
	const char *host, *subset = NULL;
	char fq[256], p2[PATH_LEN];
	const struct port *p = NULL;
	unsigned long pn;
	struct svc *s;
	size_t i;

	if (fields(c, d, path, ok, NULL))
		return -1;
	h = get(c, d, "host");
	spath(p2, "%s.host", path);
	if (need_str(c, h, p2, &host) || fqdn(x, c, h, p2, host, fq, sizeof(fq)))
		return -1;
	s = find_svc(x, fq);
	if (!s)
		return fail(c, h, p2, "no ServiceEntry or Service has host %s", fq);
	sub = get(c, d, "subset");
	if (sub) {
		spath(p2, "%s.subset", path);
		if (need_str(c, sub, p2, &subset))
			return -1;
		for (i = 0; i < s->nr_subsets; i++)
			if (!strcmp(s->subsets[i].name, subset))
				break;
		if (i == s->nr_subsets)
			return fail(c, sub, p2, "no subset %s in a DestinationRule of %s",
				    subset, fq);
	}
	port = get(c, d, "port");
	if (port) {
		spath(p2, "%s.port", path);
		if (fields(c, port, p2, port_ok, NULL))
			return -1;
		spath(p2, "%s.port.number", path);
		if (get_uint(c, get(c, port, "number"), p2, 1, 65535, &pn))
			return -1;
		for (i = 0; i < s->nr_ports; i++)
			if (s->ports[i].number == pn)
				break;
		if (i == s->nr_ports)
			return fail(c, port, p2, "%s has no port %lu", fq, pn);
		p = &s->ports[i];
	} else if (s->per_port) {
		/* the clusters are per port: the one HTTP port, if one */
		for (i = 0; i < s->nr_ports; i++)
			if (s->ports[i].http) {
				if (p) {
					spath(p2, "%s.port", path);
					return fail(c, d, p2, "required: %s has several HTTP ports whose endpoints listen on other ports",
						    fq);
				}
				p = &s->ports[i];
			}
		if (!p)
			p = &s->ports[0];
	}
	cluster_name(s, subset, s->per_port ? p : NULL, out, size);
	return 0;
}

static int string_match(struct xl *x, struct ctx *c, yaml_node_t *m,
			const char *path, const char *const *ok, struct buf *b)
{
	static const char *const refused[] = { "regex", NULL };
	yaml_node_pair_t *p;

	(void)x;
	if (fields(c, m, path, ok, refused))
		return -1;
	if (m->data.mapping.pairs.top - m->data.mapping.pairs.start != 1)
		return fail(c, m, path, "expected exactly one of exact, prefix");
	p = m->data.mapping.pairs.start;
	if (!scalar(node(c, p->value)))
		return fail(c, node(c, p->value), path, "expected a string");
	bprintf(b, "{%s: ", scalar(node(c, p->key)));
	bquote(b, scalar(node(c, p->value)));
	bputs(b, "}");
	return 0;
}

static int write_match(struct xl *x, struct ctx *c, yaml_node_t *m,
		       const char *path, struct buf *b)
{
	static const char *const ok[] = {
		"name", "uri", "method", "headers", "queryParams", "authority", NULL };
	static const char *const refused[] = {
		"scheme", "port", "sourceLabels", "gateways",
		"ignoreUriCase", "withoutHeaders", "sourceNamespace",
		"statPrefix", NULL };
	static const char *const exact_prefix[] = { "exact", "prefix", NULL };
	static const char *const exact[] = { "exact", NULL };
	char sub[PATH_LEN], sub2[PATH_LEN];
	yaml_node_t *n;
	yaml_node_pair_t *p;
	bool any = false;

	if (fields(c, m, path, ok, refused))
		return -1;
	bputs(b, "          - ");
	if ((n = get(c, m, "uri"))) {
		spath(sub, "%s.uri", path);
		bputs(b, "uri: ");
		if (string_match(x, c, n, sub, exact_prefix, b))
			return -1;
		bputs(b, "\n            ");
		any = true;
	}
	if ((n = get(c, m, "method"))) {
		spath(sub, "%s.method", path);
		if (fields(c, n, sub, exact, (const char *const[]){ "prefix", "regex", NULL }))
			return -1;
		if (!scalar(get(c, n, "exact")))
			return fail(c, n, sub, "expected {exact: METHOD}");
		bputs(b, "methods: [");
		bquote(b, scalar(get(c, n, "exact")));
		bputs(b, "]\n            ");
		any = true;
	}
	n = get(c, m, "headers");
	if (n || get(c, m, "authority")) {
		yaml_node_t *auth = get(c, m, "authority");

		spath(sub, "%s.headers", path);
		if (n && n->type != YAML_MAPPING_NODE)
			return fail(c, n, sub, "expected a mapping of header: match");
		bputs(b, "headers: {");
		/* an HTTP/1.1 request's authority is its Host header, as sent
		 * (with a port if the client wrote one), which Istio matches */
		if (auth) {
			spath(sub2, "%s.authority", path);
			if (get(c, n, "host"))
				return fail(c, auth, sub2, "authority and headers.host together");
			bputs(b, "host: ");
			if (string_match(x, c, auth, sub2, exact_prefix, b))
				return -1;
		}
		for (p = n ? n->data.mapping.pairs.start : NULL;
		     n && p < n->data.mapping.pairs.top; p++) {
			const char *hn = scalar(node(c, p->key));

			spath(sub2, "%s.%s", sub, hn ? hn : "?");
			if (!hn)
				return fail(c, node(c, p->key), sub, "expected a header name");
			if (auth || p != n->data.mapping.pairs.start)
				bputs(b, ", ");
			bquote(b, hn);
			bputs(b, ": ");
			if (string_match(x, c, node(c, p->value), sub2, exact_prefix, b))
				return -1;
		}
		bputs(b, "}\n            ");
		any = true;
	}
	if ((n = get(c, m, "queryParams"))) {
		spath(sub, "%s.queryParams", path);
		if (n->type != YAML_MAPPING_NODE)
			return fail(c, n, sub, "expected a mapping of name: match");
		bputs(b, "query_params: {");
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			const char *qn = scalar(node(c, p->key));

			spath(sub2, "%s.%s", sub, qn ? qn : "?");
			if (!qn)
				return fail(c, node(c, p->key), sub, "expected a parameter name");
			if (p != n->data.mapping.pairs.start)
				bputs(b, ", ");
			bquote(b, qn);
			bputs(b, ": ");
			if (string_match(x, c, node(c, p->value), sub2, exact, b))
				return -1;
		}
		bputs(b, "}\n            ");
		any = true;
	}
	if (!any)
		return fail(c, m, path, "a match with no uri, method, headers, queryParams or authority: leave the match out for a default route");
	/* the last "\n            " becomes a plain newline */
	b->n -= 12;
	b->p[b->n] = '\0';
	return 0;
}

static int write_http_route(struct xl *x, struct ctx *c, yaml_node_t *h,
			    const char *path, struct buf *b)
{
	static const char *const ok[] = {
		"name", "match", "route", "fault", "directResponse", NULL };
	static const char *const refused[] = {
		"redirect", "rewrite", "timeout", "retries", "mirror", "mirrors",
		"mirrorPercentage", "mirror_percent", "mirrorPercent",
		"corsPolicy", "headers", "delegate", NULL };
	char sub[PATH_LEN], sub2[PATH_LEN], cl[4 * KMESH_NAME_MAX];
	yaml_node_t *n, *item, *fault, *dr;
	unsigned long v;
	size_t i;

	if (fields(c, h, path, ok, refused))
		return -1;
	origin(b, c, h, path);
	bputs(b, "      - ");
	if ((n = get(c, h, "name"))) {
		bputs(b, "name: ");
		bquote(b, scalar(n) ? scalar(n) : "");
		bputs(b, "\n        ");
	}
	if ((n = get(c, h, "match"))) {
		spath(sub, "%s.match", path);
		if (need_seq(c, n, sub))
			return -1;
		bputs(b, "match:\n");
		SEQ_EACH(c, n, i, item) {
			spath(sub2, "%s[%zu]", sub, i);
			if (write_match(x, c, item, sub2, b))
				return -1;
		}
		bputs(b, "        ");
	}
	fault = get(c, h, "fault");
	dr = get(c, h, "directResponse");
	if (fault) {
		static const char *const f_ok[] = { "abort", NULL };
		static const char *const f_refused[] = { "delay", NULL };
		static const char *const a_ok[] = { "httpStatus", "percentage", NULL };
		static const char *const a_refused[] = { "grpcStatus", "http2Error", NULL };
		yaml_node_t *abort, *pct;

		spath(sub, "%s.fault", path);
		if (fields(c, fault, sub, f_ok, f_refused))
			return -1;
		abort = get(c, fault, "abort");
		spath(sub, "%s.fault.abort", path);
		if (!abort)
			return fail(c, fault, sub, "required");
		if (fields(c, abort, sub, a_ok, a_refused))
			return -1;
		pct = get(c, abort, "percentage");
		if (pct) {
			const char *pv = scalar(get(c, pct, "value"));

			spath(sub2, "%s.percentage.value", sub);
			if (!pv || strtod(pv, NULL) != 100.0)
				return fail(c, pct, sub2, "only 100 is supported (kmesh aborts every request of the route or none)");
		}
		spath(sub2, "%s.httpStatus", sub);
		if (get_uint(c, get(c, abort, "httpStatus"), sub2, 400, 599, &v))
			return -1;
		bprintf(b, "deny: {status: %lu}\n", v);
		return 0;
	}
	if (dr) {
		static const char *const d_ok[] = { "status", "body", NULL };
		static const char *const body_ok[] = { "string", NULL };
		static const char *const body_refused[] = { "bytes", NULL };
		yaml_node_t *body;

		spath(sub, "%s.directResponse", path);
		if (get(c, h, "route"))
			return fail(c, dr, sub, "directResponse and route together");
		if (fields(c, dr, sub, d_ok, NULL))
			return -1;
		spath(sub2, "%s.status", sub);
		if (get_uint(c, get(c, dr, "status"), sub2, 200, 599, &v))
			return -1;
		bprintf(b, "direct_response: {status: %lu", v);
		body = get(c, dr, "body");
		if (body) {
			spath(sub2, "%s.body", sub);
			if (fields(c, body, sub2, body_ok, body_refused) ||
			    !scalar(get(c, body, "string")))
				return fail(c, body, sub2, "expected {string: TEXT}");
			bputs(b, ", body: ");
			bquote(b, scalar(get(c, body, "string")));
		}
		bputs(b, "}\n");
		return 0;
	}
	n = get(c, h, "route");
	spath(sub, "%s.route", path);
	if (!n)
		return fail(c, h, sub, "required (or directResponse, fault.abort)");
	if (need_seq(c, n, sub))
		return -1;
	bputs(b, "route:\n");
	SEQ_EACH(c, n, i, item) {
		static const char *const rd_ok[] = { "destination", "weight", NULL };
		static const char *const rd_refused[] = { "headers", NULL };

		spath(sub2, "%s[%zu]", sub, i);
		if (fields(c, item, sub2, rd_ok, rd_refused))
			return -1;
		strncat(sub2, ".destination", sizeof(sub2) - strlen(sub2) - 1);
		if (!get(c, item, "destination"))
			return fail(c, item, sub2, "required");
		if (dest_cluster(x, c, get(c, item, "destination"), sub2, cl, sizeof(cl)))
			return -1;
		bputs(b, "          - {cluster: ");
		bquote(b, cl);
		if (get(c, item, "weight")) {
			spath(sub2, "%s[%zu].weight", sub, i);
			if (get_uint(c, get(c, item, "weight"), sub2, 0, 100, &v))
				return -1;
			bprintf(b, ", weight: %lu", v);
		}
		bputs(b, "}\n");
	}
	return 0;
}

static int read_virtual_service(struct xl *x, size_t ri)
{
	static const char *const ok[] = {
		"hosts", "gateways", "http", "exportTo", NULL };
	static const char *const refused[] = { "tcp", "tls", NULL };
	struct ctx c;
	yaml_node_t *spec, *hosts, *item, *http, *g;
	const char *h;
	char fq[256], path[PATH_LEN];
	struct svc *s;
	size_t i, j;

	ctx_init(x, &c, ri);
	spec = get(&c, c.r->root, "spec");
	if (fields(&c, spec, "spec", ok, refused) || check_export_to(&c, spec))
		return -1;
	g = get(&c, spec, "gateways");
	SEQ_EACH(&c, g, i, item)
		if (!scalar(item) || strcmp(scalar(item), "mesh")) {
			spath(path, "spec.gateways[%zu]", i);
			return fail(&c, item, path, "only \"mesh\" (kmesh has no gateways)");
		}
	hosts = get(&c, spec, "hosts");
	if (need_seq(&c, hosts, "spec.hosts"))
		return -1;
	http = get(&c, spec, "http");
	if (need_seq(&c, http, "spec.http"))
		return -1;
	SEQ_EACH(&c, hosts, i, item) {
		spath(path, "spec.hosts[%zu]", i);
		if (need_str(&c, item, path, &h) ||
		    fqdn(x, &c, item, path, h, fq, sizeof(fq)))
			return -1;
		s = find_svc(x, fq);
		if (!s)
			return fail(&c, item, path, "no ServiceEntry or Service has host %s", fq);
		if (s->has_routes)
			return fail(&c, item, path,
				    "%s already has a VirtualService (kmesh takes one per host)", fq);
		s->has_routes = true;
		origin(&x->routes, &c, item, path);
		bputs(&x->routes, "  - service: ");
		bquote(&x->routes, s->name);
		bputs(&x->routes, "\n    http:\n");
		{
			yaml_node_t *hr;

			SEQ_EACH(&c, http, j, hr) {
				spath(path, "spec.http[%zu]", j);
				if (write_http_route(x, &c, hr, path, &x->routes))
					return -1;
			}
		}
	}
	return 0;
}

/* ---- AuthorizationPolicy ---- */

static int write_list(struct ctx *c, yaml_node_t *n, const char *path,
		      const char *key, struct buf *b)
{
	yaml_node_t *item;
	size_t i;

	if (need_seq(c, n, path))
		return -1;
	bprintf(b, "%s: [", key);
	SEQ_EACH(c, n, i, item) {
		if (!scalar(item))
			return fail(c, item, path, "expected a string");
		if (i)
			bputs(b, ", ");
		bquote(b, scalar(item));
	}
	bputs(b, "], ");
	return 0;
}

/*
 * Istio's policy ports are the workload's (where the endpoints listen);
 * kmesh checks the service port the client dialed: each becomes the
 * service ports served there. A port no endpoint serves is an error, not
 * a rule that silently never matches.
 */
static int write_ports(struct ctx *c, yaml_node_t *n, const char *path,
		       const char *key, const struct svc *s, struct buf *b)
{
	yaml_node_t *item;
	unsigned long port;
	size_t i, j, k, nr;

	if (need_seq(c, n, path))
		return -1;
	bprintf(b, "%s: [", key);
	nr = 0;
	SEQ_EACH(c, n, i, item) {
		size_t found = 0;

		if (get_uint(c, item, path, 1, 65535, &port))
			return -1;
		for (j = 0; j < s->nr_ports; j++) {
			bool served = !s->nr_eps && s->ports[j].target == port;

			for (k = 0; k < s->nr_eps && !served; k++)
				served = ep_target(&s->eps[k], &s->ports[j]) == port;
			if (!served)
				continue;
			bprintf(b, "%s%lu", nr++ ? ", " : "", s->ports[j].number);
			found++;
		}
		if (!found)
			return fail(c, item, path,
				    "no endpoint of %s serves port %lu (Istio's ports here are the workload's)",
				    s->fqdn, port);
	}
	bputs(b, "], ");
	return 0;
}

static int write_rule(struct ctx *c, yaml_node_t *r, const char *path,
		      const struct svc *s, struct buf *b)
{
	static const char *const ok[] = { "from", "to", "when", NULL };
	static const char *const src_ok[] = {
		"ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks", NULL };
	static const char *const src_refused[] = {
		"principals", "notPrincipals", "requestPrincipals",
		"notRequestPrincipals", "namespaces", "notNamespaces",
		"serviceAccounts", "notServiceAccounts", NULL };
	static const char *const op_ok[] = {
		"hosts", "notHosts", "ports", "notPorts", "methods",
		"notMethods", "paths", "notPaths", NULL };
	static const char *const when_ok[] = { "key", "values", "notValues", NULL };
	static const char *const op_keys[][2] = {
		{ "hosts", "hosts" }, { "notHosts", "not_hosts" },
		{ "ports", "ports" }, { "notPorts", "not_ports" },
		{ "methods", "methods" }, { "notMethods", "not_methods" },
		{ "paths", "paths" }, { "notPaths", "not_paths" },
	};
	char sub[PATH_LEN], sub2[PATH_LEN];
	yaml_node_t *n, *item, *in;
	size_t i, k;

	if (fields(c, r, path, ok, NULL))
		return -1;
	bputs(b, "      - {");
	if ((n = get(c, r, "from"))) {
		spath(sub, "%s.from", path);
		if (need_seq(c, n, sub))
			return -1;
		bputs(b, "from: [");
		SEQ_EACH(c, n, i, item) {
			static const char *const from_ok[] = { "source", NULL };
			yaml_node_t *ip, *nip;

			spath(sub2, "%s[%zu]", sub, i);
			if (fields(c, item, sub2, from_ok, NULL))
				return -1;
			strncat(sub2, ".source", sizeof(sub2) - strlen(sub2) - 1);
			in = get(c, item, "source");
			if (!in)
				return fail(c, item, sub2, "required");
			if (fields(c, in, sub2, src_ok, src_refused))
				return -1;
			/* Without proxies the peer's address is the client's:
			 * remoteIpBlocks and ipBlocks name the same address. */
			ip = get(c, in, "ipBlocks");
			if (get(c, in, "remoteIpBlocks")) {
				if (ip)
					return fail(c, in, sub2, "ipBlocks and remoteIpBlocks together: not supported (on a node both are the client's address)");
				ip = get(c, in, "remoteIpBlocks");
			}
			nip = get(c, in, "notIpBlocks");
			if (get(c, in, "notRemoteIpBlocks")) {
				if (nip)
					return fail(c, in, sub2, "notIpBlocks and notRemoteIpBlocks together: not supported (on a node both are the client's address)");
				nip = get(c, in, "notRemoteIpBlocks");
			}
			bputs(b, i ? ", {source: {" : "{source: {");
			if (ip && write_list(c, ip, sub2, "ip_blocks", b))
				return -1;
			if (nip && write_list(c, nip, sub2, "not_ip_blocks", b))
				return -1;
			bputs(b, "}}");
		}
		bputs(b, "], ");
	}
	if ((n = get(c, r, "to"))) {
		spath(sub, "%s.to", path);
		if (need_seq(c, n, sub))
			return -1;
		bputs(b, "to: [");
		SEQ_EACH(c, n, i, item) {
			static const char *const to_ok[] = { "operation", NULL };

			spath(sub2, "%s[%zu]", sub, i);
			if (fields(c, item, sub2, to_ok, NULL))
				return -1;
			strncat(sub2, ".operation", sizeof(sub2) - strlen(sub2) - 1);
			in = get(c, item, "operation");
			if (!in)
				return fail(c, item, sub2, "required");
			if (fields(c, in, sub2, op_ok, NULL))
				return -1;
			bputs(b, i ? ", {operation: {" : "{operation: {");
			for (k = 0; k < sizeof(op_keys) / sizeof(op_keys[0]); k++) {
				char p3[PATH_LEN];

				spath(p3, "%s.%s", sub2, op_keys[k][0]);
				if (!get(c, in, op_keys[k][0]))
					continue;
				if (strstr(op_keys[k][1], "ports") ?
				    write_ports(c, get(c, in, op_keys[k][0]), p3,
						op_keys[k][1], s, b) :
				    write_list(c, get(c, in, op_keys[k][0]), p3,
					       op_keys[k][1], b))
					return -1;
			}
			bputs(b, "}}");
		}
		bputs(b, "], ");
	}
	if ((n = get(c, r, "when"))) {
		spath(sub, "%s.when", path);
		if (need_seq(c, n, sub))
			return -1;
		bputs(b, "when: [");
		SEQ_EACH(c, n, i, item) {
			const char *key;

			spath(sub2, "%s[%zu]", sub, i);
			if (fields(c, item, sub2, when_ok, NULL))
				return -1;
			strncat(sub2, ".key", sizeof(sub2) - strlen(sub2) - 1);
			if (need_str(c, get(c, item, "key"), sub2, &key))
				return -1;
			if (!strcmp(key, "remote.ip"))
				key = "source.ip";
			if (strncmp(key, "request.headers[", 16) &&
			    strcmp(key, "source.ip") && strcmp(key, "destination.ip") &&
			    strcmp(key, "destination.port"))
				return fail(c, get(c, item, "key"), sub2,
					    "%s: not supported (kmesh has request.headers[NAME], source.ip, remote.ip, destination.ip, destination.port)",
					    key);
			bputs(b, i ? ", {key: " : "{key: ");
			bquote(b, key);
			bputs(b, ", ");
			spath(sub2, "%s[%zu]", sub, i);
			if (get(c, item, "values") &&
			    (!strcmp(key, "destination.port") ?
			     write_ports(c, get(c, item, "values"), sub2, "values", s, b) :
			     write_list(c, get(c, item, "values"), sub2, "values", b)))
				return -1;
			if (get(c, item, "notValues") &&
			    (!strcmp(key, "destination.port") ?
			     write_ports(c, get(c, item, "notValues"), sub2, "not_values", s, b) :
			     write_list(c, get(c, item, "notValues"), sub2, "not_values", b)))
				return -1;
			bputs(b, "}");
		}
		bputs(b, "], ");
	}
	bputs(b, "}\n");
	return 0;
}

static int read_authorization_policy(struct xl *x, size_t ri)
{
	static const char *const ok[] = { "selector", "action", "rules", NULL };
	static const char *const refused[] = {
		"targetRef", "targetRefs", "provider", NULL };
	static const char *const sel_ok[] = { "matchLabels", NULL };
	struct ctx c;
	yaml_node_t *spec, *sel = NULL, *act, *rules, *item;
	const char *action = "ALLOW";
	char path[PATH_LEN];
	size_t i, j, k, applied = 0;

	ctx_init(x, &c, ri);
	spec = get(&c, c.r->root, "spec");
	if (spec->type == YAML_SCALAR_NODE && !spec->data.scalar.length)
		spec = NULL;	/* "spec: {}" written as "spec:" */
	if (spec && fields(&c, spec, "spec", ok, refused))
		return -1;
	if ((item = get(&c, spec, "selector"))) {
		if (fields(&c, item, "spec.selector", sel_ok, NULL))
			return -1;
		sel = get(&c, item, "matchLabels");
		if (!sel || check_labels(&c, sel, "spec.selector.matchLabels"))
			return sel ? -1 : fail(&c, item, "spec.selector.matchLabels", "required");
	}
	if ((act = get(&c, spec, "action"))) {
		action = scalar(act);
		if (!action || (strcmp(action, "ALLOW") && strcmp(action, "DENY")))
			return fail(&c, act, "spec.action", "%s: not supported (ALLOW or DENY)",
				    action ? action : "?");
	}
	rules = get(&c, spec, "rules");
	if (rules && need_seq(&c, rules, "spec.rules"))
		return -1;
	for (i = 0; i < x->nr_svcs; i++) {
		struct svc *s = &x->svcs[i];
		size_t matched = 0;
		bool http = false;

		/* istio-system is the root namespace: mesh-wide */
		if (strcmp(s->ns, c.ns) && strcmp(c.ns, "istio-system"))
			continue;
		for (j = 0; j < s->nr_eps; j++)
			if (labels_match(c.doc, sel, s->eps[j].doc, s->eps[j].labels))
				matched++;
		if (sel && !matched)
			continue;
		if (sel && matched != s->nr_eps)
			return fail(&c, sel, "spec.selector",
				    "selects %zu of the %zu endpoints of %s: kmesh enforces a policy per service, on all its endpoints",
				    matched, s->nr_eps, s->fqdn);
		for (k = 0; k < s->nr_ports; k++)
			http |= s->ports[k].http;
		if (!http)
			return fail(&c, sel ? sel : c.r->root, sel ? "spec.selector" : "metadata.namespace",
				    "applies to %s, which has no HTTP port (kmesh checks requests on HTTP ports only)",
				    s->fqdn);
		applied++;
		origin(&x->authz, &c, spec ? spec : c.r->root, "spec");
		bputs(&x->authz, "  - name: ");
		bquote(&x->authz, c.name);
		bputs(&x->authz, "\n    service: ");
		bquote(&x->authz, s->name);
		bprintf(&x->authz, "\n    action: %s\n    rules:", action);
		if (!rules || rules->data.sequence.items.top == rules->data.sequence.items.start) {
			bputs(&x->authz, " []\n");
			continue;
		}
		bputs(&x->authz, "\n");
		SEQ_EACH(&c, rules, j, item) {
			spath(path, "spec.rules[%zu]", j);
			origin(&x->authz, &c, item, path);
			if (write_rule(&c, item, path, s, &x->authz))
				return -1;
		}
	}
	if (!applied)
		return fail(&c, sel ? sel : c.r->root, sel ? "spec.selector" : "metadata.namespace",
			    "applies to no service of this input (a policy that protects nothing is an error, not a no-op)");
	return 0;
}

/* ---- the compiler's errors, back to the resource they came from ---- */

static void reword(struct xl *x, const char *text, char *err, size_t size)
{
	char model[512], *colon;
	long line;
	const char *p, *best = NULL;
	unsigned long ri;
	int src_line, cur = 1;
	char src_path[PATH_LEN];

	snprintf(model, sizeof(model), "%s", err);
	/* "istio:LINE: PATH: message" */
	line = strtol(model + 6, &colon, 10);
	if (strncmp(model, "istio:", 6) || *colon != ':')
		return;
	for (p = text; *p && cur <= line; p++) {
		if (p == text || p[-1] == '\n') {
			if (!strncmp(p, "  # @", 5))
				best = p + 5;
		}
		if (*p == '\n')
			cur++;
	}
	if (!best || sscanf(best, "%lu %d %191s", &ri, &src_line, src_path) != 3 ||
	    ri >= x->nr) {
		/* a limit of the whole: no one resource to name */
		snprintf(err, size, "%s:%d: the resources together: %s",
			 x->res[0].file, line_of(x->res[0].root), colon + 2);
		return;
	}
	{
		struct ctx c;

		ctx_init(x, &c, ri);
		snprintf(err, size, "%s:%d: %s %s: %s: as %s", x->res[ri].file,
			 src_line, c.kind, c.name, src_path, colon + 2);
	}
}

int istio_translate(const struct istio_resource *res, size_t nr,
		    const char *domain, struct mesh_config *cfg,
		    char *err, size_t err_size)
{
	struct xl x = { .res = res, .nr = nr, .domain = domain, .err = err,
			.err_size = err_size };
	struct buf all = {};
	size_t i;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < nr; i++)
		if (check_head(&x, i))
			goto out;
	/* services first: everything else refers to them */
	for (i = 0; i < nr; i++) {
		struct ctx c;

		ctx_init(&x, &c, i);
		if (!strcmp(c.kind, "ServiceEntry") && read_service_entry(&x, i))
			goto out;
		if (!strcmp(c.kind, "WorkloadEntry") && check_workload_entry(&x, i))
			goto out;
		if (!strcmp(c.kind, "Service") && read_k8s_service(&x, i))
			goto out;
	}
	for (i = 0; i < nr; i++) {
		struct ctx c;

		ctx_init(&x, &c, i);
		if (!strcmp(c.kind, "EndpointSlice") && read_endpoint_slice(&x, i))
			goto out;
	}
	for (i = 0; i < nr; i++) {
		struct ctx c;

		ctx_init(&x, &c, i);
		if (!strcmp(c.kind, "DestinationRule") && read_destination_rule(&x, i))
			goto out;
	}
	for (i = 0; i < x.nr_svcs; i++)
		if (write_service(&x, &x.svcs[i]))
			goto out;
	for (i = 0; i < nr; i++) {
		struct ctx c;

		ctx_init(&x, &c, i);
		if (!strcmp(c.kind, "VirtualService") && read_virtual_service(&x, i))
			goto out;
		if (!strcmp(c.kind, "AuthorizationPolicy") &&
		    read_authorization_policy(&x, i))
			goto out;
	}
	bputs(&all, "services:\n");
	bputs(&all, x.services.p ? x.services.p : "");
	bputs(&all, x.nr_svcs ? "clusters:\n" : "clusters: []\n");
	bputs(&all, x.clusters.p ? x.clusters.p : "");
	if (x.routes.n) {
		bputs(&all, "routes:\n");
		bputs(&all, x.routes.p);
	}
	if (x.authz.n) {
		bputs(&all, "authorization:\n");
		bputs(&all, x.authz.p);
	}
	if (all.oom || x.services.oom || x.clusters.oom || x.routes.oom || x.authz.oom) {
		snprintf(err, err_size, "%s:%d: out of memory", res[0].file,
			 line_of(res[0].root));
		goto out;
	}
	if (!x.nr_svcs) {
		snprintf(err, err_size, "%s:%d: no ServiceEntry or Service: kmesh needs the services (addresses, ports, endpoints) the other resources refer to",
			 res[0].file, line_of(res[0].root));
		goto out;
	}
	rc = mesh_config_parse("istio", all.p, all.n, cfg, err, err_size);
	if (rc)
		reword(&x, all.p, err, err_size);
out:
	for (i = 0; i < x.nr_svcs; i++)
		free(x.svcs[i].eps);
	free(x.svcs);
	free(x.services.p);
	free(x.clusters.p);
	free(x.routes.p);
	free(x.authz.p);
	free(all.p);
	return rc;
}

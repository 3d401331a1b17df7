// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference authorization for the route/policy conformance suite: the
 * rules of docs/config.md ("authorization") evaluated on the mesh model
 * itself, not on its compiled form, so that the compiler (l7_build.c) and
 * the eBPF evaluation (l7_eval.h) are both checked against it. Written
 * for clarity, not speed; test code only (the data path has one
 * implementation of authorization, in eBPF, for both modes).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "policy_model.h"

struct view {
	const char *head;
	const struct kmesh_http_req *req;
	const char *path;	/* NULL: no path (CONNECT, OPTIONS *) */
	size_t path_len;
	char host[1024];	/* lower-case, one trailing dot dropped */
	size_t host_len;
	__u32 src[4], dst[4];
	__u16 port;
};

static bool pattern_match(const struct mesh_pattern *pt, const char *s,
			  size_t n)
{
	size_t k = pt->text ? strlen(pt->text) : 0;

	switch (pt->kind) {
	case MESH_M_PRESENT:
		return true;
	case MESH_M_PREFIX:
		return n >= k && !memcmp(s, pt->text, k);
	case MESH_M_SUFFIX:
		return n >= k && !memcmp(s + n - k, pt->text, k);
	default:
		return n == k && !memcmp(s, pt->text, k);
	}
}

static bool any_pattern(const struct mesh_pattern_list *l, const char *s,
			size_t n)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (pattern_match(&l->v[i], s, n))
			return true;
	return false;
}

static bool cidr_has(const struct mesh_cidr *c, const __u32 a[4])
{
	const __u8 *x = (const __u8 *)c->addr, *y = (const __u8 *)a;
	int b;

	for (b = 0; b < c->bits; b++)
		if ((x[b / 8] ^ y[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

static bool any_cidr(const struct mesh_cidr_list *l, const __u32 a[4])
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (cidr_has(&l->v[i], a))
			return true;
	return false;
}

static bool any_port(const struct mesh_port_list *l, __u16 port)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == port)
			return true;
	return false;
}

/* Lists that are given must hold; "not_" lists must not. */
#define HOLDS(l, test)		(!(l).n || (test))
#define HOLDS_NOT(l, test)	(!(l).n || !(test))

/* The request's values of header @name joined with ',', or false. */
static bool header_value(const struct view *v, const char *name, char *out,
			 size_t size, size_t *len)
{
	size_t i, n = 0, nl = strlen(name);
	bool seen = false;

	for (i = 0; i < v->req->nr_headers; i++) {
		const struct kmesh_http_hdr *h = &v->req->hdrs[i];

		if (h->name.len != nl || strncasecmp(v->head + h->name.off, name, nl))
			continue;
		if (seen && n < size)
			out[n++] = ',';
		if (n + h->value.len <= size)
			memcpy(out + n, v->head + h->value.off, h->value.len);
		n += h->value.len;
		seen = true;
	}
	*len = n < size ? n : size;
	return seen;
}

static bool source_holds(const struct mesh_authz_source *s, const struct view *v)
{
	return HOLDS(s->ip_blocks, any_cidr(&s->ip_blocks, v->src)) &&
	       HOLDS_NOT(s->not_ip_blocks, any_cidr(&s->not_ip_blocks, v->src));
}

static bool paths_hold(const struct mesh_pattern_list *l, const struct view *v)
{
	return v->path && any_pattern(l, v->path, v->path_len);
}

static bool op_holds(const struct mesh_authz_operation *o, const struct view *v)
{
	__u32 m = KMESH_RT_METHOD_BIT(v->req->method);

	return (!o->methods || (o->methods & m)) &&
	       (!o->not_methods || !(o->not_methods & m)) &&
	       HOLDS(o->paths, paths_hold(&o->paths, v)) &&
	       HOLDS_NOT(o->not_paths, paths_hold(&o->not_paths, v)) &&
	       HOLDS(o->hosts, any_pattern(&o->hosts, v->host, v->host_len)) &&
	       HOLDS_NOT(o->not_hosts, any_pattern(&o->not_hosts, v->host, v->host_len)) &&
	       HOLDS(o->ports, any_port(&o->ports, v->port)) &&
	       HOLDS_NOT(o->not_ports, any_port(&o->not_ports, v->port));
}

static bool when_holds(const struct mesh_authz_when *w, const struct view *v)
{
	char val[8192];
	size_t n;
	bool seen;

	switch (w->key) {
	case MESH_WHEN_HEADER:
		seen = header_value(v, w->header, val, sizeof(val), &n);
		return HOLDS(w->values, seen && any_pattern(&w->values, val, n)) &&
		       HOLDS_NOT(w->not_values, seen && any_pattern(&w->not_values, val, n));
	case MESH_WHEN_SOURCE_IP:
		return HOLDS(w->cidrs, any_cidr(&w->cidrs, v->src)) &&
		       HOLDS_NOT(w->not_cidrs, any_cidr(&w->not_cidrs, v->src));
	case MESH_WHEN_DEST_IP:
		return HOLDS(w->cidrs, any_cidr(&w->cidrs, v->dst)) &&
		       HOLDS_NOT(w->not_cidrs, any_cidr(&w->not_cidrs, v->dst));
	default:
		return HOLDS(w->ports, any_port(&w->ports, v->port)) &&
		       HOLDS_NOT(w->not_ports, any_port(&w->not_ports, v->port));
	}
}

/* One of the from entries (or none given), one of the to, every when. */
static bool rule_holds(const struct mesh_authz_rule *r, const struct view *v)
{
	bool from = !r->nr_from, to = !r->nr_to;
	size_t i;

	for (i = 0; i < r->nr_from && !from; i++)
		from = source_holds(&r->from[i], v);
	for (i = 0; i < r->nr_to && !to; i++)
		to = op_holds(&r->to[i], v);
	for (i = 0; i < r->nr_when && from && to; i++)
		if (!when_holds(&r->when[i], v))
			return false;
	return from && to;
}

struct policy_verdict policy_model_decide(const struct mesh_config *cfg,
					  int svc, const char *head,
					  const struct kmesh_http_req *req,
					  const char *src, const char *dst,
					  __u16 port)
{
	struct policy_verdict out = {};
	struct view v = { .head = head, .req = req, .port = port };
	bool has_allow = false, allowed = false;
	size_t i, j;

	if (req->target_form == KMESH_HTTP_FORM_ORIGIN ||
	    req->target_form == KMESH_HTTP_FORM_ABSOLUTE) {
		v.path = req->path.len ? head + req->path.off : "/";
		v.path_len = req->path.len ? req->path.len : 1;
	}
	v.host_len = req->host.len < sizeof(v.host) ? req->host.len : 0;
	for (i = 0; i < v.host_len; i++) {
		char c = head[req->host.off + i];

		v.host[i] = c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
	}
	if (v.host_len && v.host[v.host_len - 1] == '.')
		v.host_len--;
	mesh_addr_parse(src, v.src);
	mesh_addr_parse(dst, v.dst);

	for (i = 0; i < cfg->nr_authz; i++) {
		const struct mesh_authz *a = &cfg->authz[i];
		bool match = false;

		if (a->service != svc)
			continue;
		for (j = 0; j < a->nr_rules && !match; j++)
			match = rule_holds(&a->rules[j], &v);
		if (a->action == MESH_AUTHZ_DENY && match && !out.reason) {
			out.reason = KMESH_L7_R_DENY_POLICY;
			out.policy_id = a->id;
		}
		if (a->action == MESH_AUTHZ_ALLOW) {
			has_allow = true;
			allowed |= match;
		}
	}
	if (!out.reason && has_allow && !allowed)
		out.reason = KMESH_L7_R_NO_ALLOW;
	return out;
}

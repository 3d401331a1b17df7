// SPDX-License-Identifier: GPL-2.0-only
/* L7 compiler; the model is in l7_build.h, the layout in kmesh_maps.h. */
#define _GNU_SOURCE	/* memmem */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l4_build.h"
#include "l7_build.h"
#include "route_build.h"
#include "core/reply.h"

struct cspec {
	struct kmesh_l7_item items[KMESH_L7_MAX_ITEMS];
	size_t n;
	bool neg;
};

struct cset {
	__u32 dir;
	const struct mesh_cidr_list *list;
};

struct pc {
	const struct mesh_config *cfg;
	int svc;
	struct kmesh_l7_policy *pol;
	size_t nstr;
	struct cspec conds[KMESH_L7_MAX_CONDS];
	size_t nconds;
	size_t nitems;
	struct cset sets[KMESH_L7_MAX_CIDR_SETS];
	size_t nsets;
	size_t ntsegs;
	struct kmesh_l7_rule routes[KMESH_L7_MAX_RULES], authz[KMESH_L7_MAX_RULES];
	size_t nroutes, nauthz;
	bool route_pass;	/* conditions made now are for routes only */
	/* the route walk: the vhost condition, the rule and block being made */
	struct cspec vhost;
	struct kmesh_l7_rule *rule;
	__u64 mask;
	/* where we are, for messages */
	int line;
	const char *path;
	struct l7_check_err *err;
};

static int fail(struct pc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct pc *c, const char *fmt, ...)
{
	va_list ap;

	c->err->line = c->line;
	snprintf(c->err->path, sizeof(c->err->path), "%s", c->path);
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *svc_name(const struct pc *c)
{
	return c->cfg->services[c->svc].name;
}

/* ---- strings ---- */

static int str_add(struct pc *c, const void *s, size_t n, __u16 *off)
{
	const char *found;

	*off = 0;
	if (!n)
		return 0;
	found = c->nstr ? memmem(c->pol->strings, c->nstr, s, n) : NULL;
	if (found) {
		*off = (__u16)(found - (const char *)c->pol->strings);
		return 0;
	}
	if (c->nstr + n > KMESH_L7_STR_BYTES)
		return fail(c, "service '%s': more than %d bytes of strings in its routes and authorization",
			    svc_name(c), KMESH_L7_STR_BYTES);
	memcpy(c->pol->strings + c->nstr, s, n);
	*off = (__u16)c->nstr;
	c->nstr += n;
	return 0;
}

/* A reply in the strings, rendered as every reply kmesh writes. */
size_t l7_reply(__u16 status, const char *body, size_t body_len, char *buf,
		size_t size, size_t *head_len)
{
	__u32 n, h;

	if (body_len > size)
		return 0;
	n = kmesh_http_reply(buf, (__u32)size, status, body, (__u32)body_len,
			     0, &h);
	*head_len = h;
	return n;
}

static int add_reply(struct pc *c, __u16 status, const char *body,
		     size_t body_len, __u16 *off, __u16 *head, __u16 *len)
{
	char buf[KMESH_L7_MAX_RESP];
	size_t n, h;

	n = l7_reply(status, body, body_len, buf, sizeof(buf), &h);
	if (!n)
		return fail(c, "reply of status %u does not fit in %d bytes",
			    status, KMESH_L7_MAX_RESP);
	*head = (__u16)h;
	*len = (__u16)n;
	return str_add(c, buf, n, off);
}

/* ---- conditions ---- */

static struct kmesh_l7_item *item_new(struct pc *c, struct cspec *cs, __u8 kind)
{
	struct kmesh_l7_item *it;

	if (cs->n == KMESH_L7_MAX_ITEMS) {
		fail(c, "service '%s': more than %d values in one condition",
		     svc_name(c), KMESH_L7_MAX_ITEMS);
		return NULL;
	}
	it = &cs->items[cs->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (c->route_pass)
		it->flags |= KMESH_L7_IF_ROUTE;
	return it;
}

static int item_str(struct pc *c, struct cspec *cs, __u8 kind, const char *s,
		    size_t n, __u8 flags, __u8 hdr)
{
	struct kmesh_l7_item *it = item_new(c, cs, kind);

	if (!it)
		return -1;
	it->flags |= flags;
	it->hdr = hdr;
	it->len = (__u16)n;
	return str_add(c, s, n, &it->off);
}

static bool same_items(const struct cspec *a, const struct cspec *b)
{
	size_t i;

	if (a->n != b->n || a->neg != b->neg)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct kmesh_l7_item *x = &a->items[i], *y = &b->items[i];

		/* routes-only marks do not make a different condition */
		if (x->kind != y->kind || x->hdr != y->hdr || x->off != y->off ||
		    x->len != y->len || x->arg != y->arg ||
		    (x->flags & ~KMESH_L7_IF_ROUTE) != (y->flags & ~KMESH_L7_IF_ROUTE))
			return false;
	}
	return true;
}

/* Place a condition (sharing an identical one); its index, or -1. */
static int cond_put(struct pc *c, const struct cspec *cs)
{
	size_t i;

	for (i = 0; i < c->nconds; i++)
		if (same_items(&c->conds[i], cs))
			return (int)i;
	if (c->nconds == KMESH_L7_MAX_CONDS)
		return fail(c, "service '%s': more than %d distinct conditions in its routes and authorization",
			    svc_name(c), KMESH_L7_MAX_CONDS);
	if (c->nitems + cs->n > KMESH_L7_MAX_ITEMS)
		return fail(c, "service '%s': more than %d condition values in its routes and authorization",
			    svc_name(c), KMESH_L7_MAX_ITEMS);
	c->conds[c->nconds] = *cs;
	c->nitems += cs->n;
	return (int)c->nconds++;
}

/* Add condition @cs to block mask @mask. */
static int cond_add(struct pc *c, struct cspec *cs, __u64 *mask)
{
	int i;

	if (!cs->n)
		return 0;
	i = cond_put(c, cs);
	if (i < 0)
		return -1;
	*mask |= 1ULL << i;
	return 0;
}

static int hdr_slot(struct pc *c, const char *name)
{
	struct kmesh_l7_policy *p = c->pol;
	size_t n = strlen(name), i;

	for (i = 0; i < p->nr_hdrs; i++)
		if (p->hdr_len[i] == n && !memcmp(p->hdr_name[i], name, n))
			return (int)i;
	if (p->nr_hdrs == KMESH_L7_MAX_HDRS)
		return fail(c, "service '%s': conditions on more than %d different headers",
			    svc_name(c), KMESH_L7_MAX_HDRS);
	memcpy(p->hdr_name[p->nr_hdrs], name, n);
	p->hdr_len[p->nr_hdrs] = (__u8)n;
	return p->nr_hdrs++;
}

static bool same_cidrs(const struct mesh_cidr_list *a,
		       const struct mesh_cidr_list *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(*a->v));
}

static int cidr_set(struct pc *c, __u32 dir, const struct mesh_cidr_list *l)
{
	size_t i;

	for (i = 0; i < c->nsets; i++)
		if (c->sets[i].dir == dir && same_cidrs(c->sets[i].list, l))
			return (int)i;
	if (c->nsets == KMESH_L7_MAX_CIDR_SETS)
		return fail(c, "service '%s': more than %d different address lists",
			    svc_name(c), KMESH_L7_MAX_CIDR_SETS);
	c->sets[c->nsets].dir = dir;
	c->sets[c->nsets].list = l;
	return (int)c->nsets++;
}

static int cond_cidrs(struct pc *c, __u32 dir, const struct mesh_cidr_list *l,
		      bool neg, __u64 *mask)
{
	struct cspec cs = { .neg = neg };
	struct kmesh_l7_item *it;
	int set;

	if (!l->n)
		return 0;
	set = cidr_set(c, dir, l);
	if (set < 0)
		return -1;
	it = item_new(c, &cs, dir == KMESH_L7_DIR_SRC ? KMESH_L7_I_SRC_SET :
			       KMESH_L7_I_DST_SET);
	if (!it)
		return -1;
	it->arg = (__u32)set;
	return cond_add(c, &cs, mask);
}

static int cond_methods(struct pc *c, __u32 methods, bool neg, __u64 *mask)
{
	struct cspec cs = { .neg = neg };
	struct kmesh_l7_item *it;

	if (!methods)
		return 0;
	it = item_new(c, &cs, KMESH_L7_I_METHOD);
	if (!it)
		return -1;
	it->arg = methods;
	return cond_add(c, &cs, mask);
}

static int cond_ports(struct pc *c, const struct mesh_port_list *l, bool neg,
		      __u64 *mask)
{
	struct cspec cs = { .neg = neg };
	struct kmesh_l7_item *it;
	size_t i;

	for (i = 0; i < l->n; i++) {
		it = item_new(c, &cs, KMESH_L7_I_PORT);
		if (!it)
			return -1;
		it->arg = l->v[i];
	}
	return cond_add(c, &cs, mask);
}

/* Istio patterns for paths, hosts and header values. */
static int item_pattern(struct pc *c, struct cspec *cs, enum kmesh_l7_item_kind base,
			const struct mesh_pattern *pt, int hdr)
{
	/* base is the EXACT kind; PREFIX and SUFFIX follow it */
	__u8 kind = base;

	switch (pt->kind) {
	case MESH_M_PRESENT:
		if (base == KMESH_L7_I_HDR_EXACT)
			return item_str(c, cs, KMESH_L7_I_HDR_PRESENT, NULL, 0, 0,
					(__u8)hdr);
		if (base == KMESH_L7_I_HOST_EXACT)
			return item_new(c, cs, KMESH_L7_I_TRUE) ? 0 : -1;
		/* every request with a path */
		return item_str(c, cs, KMESH_L7_I_PATH_PREFIX, NULL, 0, 0, 0);
	case MESH_M_PREFIX:
		kind = base == KMESH_L7_I_PATH_EXACT ? KMESH_L7_I_PATH_PREFIX :
		       base == KMESH_L7_I_HOST_EXACT ? KMESH_L7_I_HOST_PREFIX :
		       KMESH_L7_I_HDR_PREFIX;
		break;
	case MESH_M_SUFFIX:
		kind = base == KMESH_L7_I_PATH_EXACT ? KMESH_L7_I_PATH_SUFFIX :
		       base == KMESH_L7_I_HOST_EXACT ? KMESH_L7_I_HOST_SUFFIX :
		       KMESH_L7_I_HDR_SUFFIX;
		break;
	default:
		break;
	}
	return item_str(c, cs, kind, pt->text, strlen(pt->text), 0,
			hdr < 0 ? 0 : (__u8)hdr);
}

static int cond_patterns(struct pc *c, enum kmesh_l7_item_kind base,
			 const struct mesh_pattern_list *l, int hdr, bool neg,
			 __u64 *mask)
{
	struct cspec cs = { .neg = neg };
	size_t i;

	for (i = 0; i < l->n; i++)
		if (item_pattern(c, &cs, base, &l->v[i], hdr))
			return -1;
	return cond_add(c, &cs, mask);
}

/* Split a validated template into segments. */
static int item_template(struct pc *c, struct cspec *cs, const char *t)
{
	struct kmesh_l7_policy *p = c->pol;
	struct kmesh_l7_item *it;
	size_t n = strlen(t), i = 1, e, first = c->ntsegs, k;
	__u16 off;

	if (str_add(c, t, n, &off))
		return -1;
	/* the same template again: share its segments */
	for (k = 0; k < c->nconds; k++) {
		size_t j;

		for (j = 0; j < c->conds[k].n; j++) {
			const struct kmesh_l7_item *o = &c->conds[k].items[j];

			if (o->kind == KMESH_L7_I_PATH_TEMPLATE &&
			    o->off == off && o->len == n) {
				it = item_new(c, cs, KMESH_L7_I_PATH_TEMPLATE);
				if (!it)
					return -1;
				*it = *o;
				it->flags = (__u8)(o->flags & ~KMESH_L7_IF_ROUTE) |
					    (c->route_pass ? KMESH_L7_IF_ROUTE : 0);
				return 0;
			}
		}
	}
	for (; i <= n; i = e + 1) {
		struct kmesh_l7_tseg *s;
		const char *seg = t + i;
		size_t sl;

		for (e = i; e < n && t[e] != '/'; e++)
			;
		sl = e - i;
		if (c->ntsegs - first == KMESH_L7_TEMPLATE_SEGS)
			return fail(c, "template \"%s\" has more than %d segments",
				    t, KMESH_L7_TEMPLATE_SEGS);
		if (c->ntsegs == KMESH_L7_MAX_TSEGS)
			return fail(c, "service '%s': more than %d template segments in all",
				    svc_name(c), KMESH_L7_MAX_TSEGS);
		s = &p->tsegs[c->ntsegs++];
		memset(s, 0, sizeof(*s));
		if ((sl == 2 && !memcmp(seg, "**", 2)) ||
		    (sl > 4 && seg[0] == '{' && !memcmp(seg + sl - 4, "=**}", 4))) {
			s->kind = KMESH_L7_TS_REST;
		} else if ((sl == 1 && seg[0] == '*') || (sl && seg[0] == '{')) {
			s->kind = KMESH_L7_TS_ONE;
		} else {
			s->kind = KMESH_L7_TS_LIT;
			s->len = (__u16)sl;
			s->off = (__u16)(off + i);
		}
		if (e == n)
			break;
	}
	it = item_new(c, cs, KMESH_L7_I_PATH_TEMPLATE);
	if (!it)
		return -1;
	it->off = off;
	it->len = (__u16)n;
	it->arg = (__u32)first | (__u32)(c->ntsegs - first) << 16;
	return 0;
}

/* ---- the routes of a service: one walk, both encodings ---- */

/*
 * The eBPF policy (compile_routes) and the module's table (l7_build_table)
 * encode the same routes; this walk gives both the same elements in the
 * same order: the hosts, then each ordered route with its match entries
 * and their conditions (uri, methods, headers, query parameters), its
 * action, and the default route last (the parse keeps it last).
 */
struct route_walker {
	int (*host)(void *ctx, const char *host);
	int (*hosts_end)(void *ctx);
	int (*route)(void *ctx, const struct mesh_http_route *r);
	int (*match)(void *ctx, const struct mesh_route_match *m, size_t j);
	int (*uri)(void *ctx, const struct mesh_pattern *uri);
	int (*methods)(void *ctx, __u32 methods);
	int (*header)(void *ctx, const struct mesh_header_match *h);
	int (*query)(void *ctx, const struct mesh_query_match *q);
	int (*match_end)(void *ctx);
	int (*action)(void *ctx, const struct mesh_http_route *r);
	/* @ordered: how many ordered routes came before */
	int (*dflt)(void *ctx, const struct mesh_http_route *r, size_t ordered);
};

static int walk_routes(const struct mesh_routes *rt,
		       const struct route_walker *w, void *ctx)
{
	const struct mesh_http_route *dflt = NULL;
	size_t i, j, k, ordered = 0;

	for (i = 0; i < rt->nr_hosts; i++)
		if (w->host(ctx, rt->hosts[i]))
			return -1;
	if (w->hosts_end(ctx))
		return -1;
	for (i = 0; i < rt->nr_http; i++) {
		const struct mesh_http_route *r = &rt->http[i];

		if (!r->nr_match) {
			dflt = r;
			continue;
		}
		ordered++;
		if (w->route(ctx, r))
			return -1;
		for (j = 0; j < r->nr_match; j++) {
			const struct mesh_route_match *m = &r->match[j];

			if (w->match(ctx, m, j) ||
			    (m->has_uri && w->uri(ctx, &m->uri)) ||
			    (m->methods && w->methods(ctx, m->methods)))
				return -1;
			for (k = 0; k < m->nr_headers; k++)
				if (w->header(ctx, &m->headers[k]))
					return -1;
			for (k = 0; k < m->nr_query; k++)
				if (w->query(ctx, &m->query[k]))
					return -1;
			if (w->match_end(ctx))
				return -1;
		}
		if (w->action(ctx, r))
			return -1;
	}
	return dflt ? w->dflt(ctx, dflt, ordered) : 0;
}

/* ---- routes, as the eBPF policy ---- */

static int pol_host(void *ctx, const char *h)
{
	struct pc *c = ctx;

	if (c->pol->flags & KMESH_L7_PF_VHOST_ANY)
		return 0;	/* "*" took every host already */
	if (!strcmp(h, "*")) {
		c->pol->flags |= KMESH_L7_PF_VHOST_ANY;
		return 0;
	}
	if (h[0] == '*')
		return item_str(c, &c->vhost, KMESH_L7_I_HOST_SUFFIX, h + 1,
				strlen(h + 1), KMESH_L7_IF_LONGER, 0);
	return item_str(c, &c->vhost, KMESH_L7_I_HOST_EXACT, h, strlen(h), 0, 0);
}

static int pol_hosts_end(void *ctx)
{
	struct pc *c = ctx;
	__u64 vmask = 0;

	if (c->pol->flags & KMESH_L7_PF_VHOST_ANY)
		return 0;
	if (cond_add(c, &c->vhost, &vmask))
		return -1;
	c->pol->vhost_cond = (__u8)__builtin_ctzll(vmask);
	return 0;
}

static int pol_route(void *ctx, const struct mesh_http_route *r)
{
	struct pc *c = ctx;

	c->line = r->line;
	c->path = r->path;
	c->rule = &c->routes[c->nroutes++];
	memset(c->rule, 0, sizeof(*c->rule));
	return 0;
}

static int pol_match(void *ctx, const struct mesh_route_match *m, size_t j)
{
	struct pc *c = ctx;

	(void)j;
	c->line = m->line;
	c->mask = 0;
	return 0;
}

static int pol_uri(void *ctx, const struct mesh_pattern *uri)
{
	struct pc *c = ctx;
	struct cspec cs;

	memset(&cs, 0, sizeof(cs));
	switch (uri->kind) {
	case MESH_M_EXACT:
		if (item_str(c, &cs, KMESH_L7_I_PATH_EXACT, uri->text,
			     strlen(uri->text), 0, 0))
			return -1;
		break;
	case MESH_M_PREFIX:
	case MESH_M_SEGMENT_PREFIX:
		if (item_str(c, &cs, KMESH_L7_I_PATH_PREFIX, uri->text,
			     strlen(uri->text),
			     uri->kind == MESH_M_SEGMENT_PREFIX ?
			     KMESH_L7_IF_SEGMENT : 0, 0))
			return -1;
		break;
	default:
		if (item_template(c, &cs, uri->text))
			return -1;
		break;
	}
	return cond_add(c, &cs, &c->mask);
}

static int pol_methods(void *ctx, __u32 methods)
{
	struct pc *c = ctx;

	return cond_methods(c, methods, false, &c->mask);
}

static int pol_header(void *ctx, const struct mesh_header_match *h)
{
	struct pc *c = ctx;
	int slot = hdr_slot(c, h->name);
	struct cspec cs;
	__u8 kind;

	if (slot < 0)
		return -1;
	memset(&cs, 0, sizeof(cs));
	kind = h->value.kind == MESH_M_EXACT ? KMESH_L7_I_HDR_EXACT :
	       h->value.kind == MESH_M_PREFIX ? KMESH_L7_I_HDR_PREFIX :
	       KMESH_L7_I_HDR_PRESENT;
	cs.neg = h->value.kind == MESH_M_ABSENT;
	if (item_str(c, &cs, kind, h->value.text,
		     h->value.text ? strlen(h->value.text) : 0, 0, (__u8)slot))
		return -1;
	return cond_add(c, &cs, &c->mask);
}

static int pol_query(void *ctx, const struct mesh_query_match *q)
{
	struct pc *c = ctx;
	struct kmesh_l7_item *it;
	struct cspec cs;
	__u16 voff;

	memset(&cs, 0, sizeof(cs));
	if (item_str(c, &cs, KMESH_L7_I_QUERY_EXACT, q->name, strlen(q->name),
		     0, 0) ||
	    str_add(c, q->value, strlen(q->value), &voff))
		return -1;
	it = &cs.items[cs.n - 1];
	it->arg = (__u32)voff << 16 | (__u32)strlen(q->value);
	return cond_add(c, &cs, &c->mask);
}

static int block_put(struct pc *c, __u64 mask)
{
	struct kmesh_l7_policy *p = c->pol;
	size_t i;

	for (i = 0; i < p->nr_blocks; i++)
		if (p->block_conds[i] == mask)
			return (int)i;
	if (p->nr_blocks == KMESH_L7_MAX_BLOCKS)
		return fail(c, "service '%s': more than %d distinct match blocks in its routes and authorization",
			    svc_name(c), KMESH_L7_MAX_BLOCKS);
	p->block_conds[p->nr_blocks] = mask;
	return p->nr_blocks++;
}

static int pol_match_end(void *ctx)
{
	struct pc *c = ctx;
	int b = block_put(c, c->mask);

	if (b < 0)
		return -1;
	c->rule->blocks |= 1ULL << b;
	return 0;
}

static int route_action(struct pc *c, const struct mesh_http_route *r,
			struct kmesh_l7_rule *rule)
{
	rule->kind = KMESH_L7_RK_ROUTE;
	rule->id = r->id;
	rule->action = r->action;
	rule->status = r->status;
	if (r->rate_limit.interval_ns || r->rate_limit.replaces_service) {
		struct kmesh_l7_policy *p = c->pol;
		struct kmesh_l7_route_limit *rl;

		/* at most one per route, and routes are at most
		 * KMESH_L7_MAX_RULES (asserted in kmesh_maps.h) */
		if (p->nr_route_limits >= KMESH_L7_MAX_ROUTE_LIMITS)
			return fail(c, "service '%s': more than %d routes with a rate limit",
				    svc_name(c), KMESH_L7_MAX_ROUTE_LIMITS);
		rl = &p->route_limits[p->nr_route_limits++];
		rl->route_id = r->id;
		l4_rate_limit_of(&rl->limit, &r->rate_limit);
	}
	if (r->action == KMESH_RT_A_ROUTE)
		return 0;
	return add_reply(c, r->status, r->body, r->body_len, &rule->resp_off,
			 &rule->resp_head, &rule->resp_len);
}

static int pol_action(void *ctx, const struct mesh_http_route *r)
{
	struct pc *c = ctx;

	c->line = r->line;
	return route_action(c, r, c->rule);
}

static int pol_default(void *ctx, const struct mesh_http_route *r,
		       size_t ordered)
{
	struct pc *c = ctx;

	(void)ordered;
	c->line = r->line;
	c->path = r->path;
	c->pol->flags |= KMESH_L7_PF_DEFAULT;
	return route_action(c, r, &c->pol->dflt);
}

static const struct route_walker policy_walker = {
	.host = pol_host,
	.hosts_end = pol_hosts_end,
	.route = pol_route,
	.match = pol_match,
	.uri = pol_uri,
	.methods = pol_methods,
	.header = pol_header,
	.query = pol_query,
	.match_end = pol_match_end,
	.action = pol_action,
	.dflt = pol_default,
};

static int compile_routes(struct pc *c, const struct mesh_routes *rt)
{
	struct kmesh_l7_policy *p = c->pol;

	p->flags |= KMESH_L7_PF_HAS_ROUTES;
	if (c->cfg->services[c->svc].refuse_route_change)
		p->flags |= KMESH_L7_PF_REFUSE_OTHER_CLUSTER;
	c->line = rt->line;
	c->path = "routes";
	memset(&c->vhost, 0, sizeof(c->vhost));
	return walk_routes(rt, &policy_walker, c);
}

/* ---- authorization ---- */

static int source_conds(struct pc *c, const struct mesh_authz_source *s,
			__u64 *mask)
{
	return cond_cidrs(c, KMESH_L7_DIR_SRC, &s->ip_blocks, false, mask) ||
	       cond_cidrs(c, KMESH_L7_DIR_SRC, &s->not_ip_blocks, true, mask);
}

static int op_conds(struct pc *c, const struct mesh_authz_operation *o,
		    __u64 *mask)
{
	return cond_methods(c, o->methods, false, mask) ||
	       cond_methods(c, o->not_methods, true, mask) ||
	       cond_patterns(c, KMESH_L7_I_PATH_EXACT, &o->paths, -1, false, mask) ||
	       cond_patterns(c, KMESH_L7_I_PATH_EXACT, &o->not_paths, -1, true, mask) ||
	       cond_patterns(c, KMESH_L7_I_HOST_EXACT, &o->hosts, -1, false, mask) ||
	       cond_patterns(c, KMESH_L7_I_HOST_EXACT, &o->not_hosts, -1, true, mask) ||
	       cond_ports(c, &o->ports, false, mask) ||
	       cond_ports(c, &o->not_ports, true, mask);
}

static int when_conds(struct pc *c, const struct mesh_authz_when *w,
		      __u64 *mask)
{
	int slot;

	switch (w->key) {
	case MESH_WHEN_HEADER:
		slot = hdr_slot(c, w->header);
		if (slot < 0)
			return -1;
		if (cond_patterns(c, KMESH_L7_I_HDR_EXACT, &w->values, slot,
				  false, mask) ||
		    cond_patterns(c, KMESH_L7_I_HDR_EXACT, &w->not_values, slot,
				  true, mask))
			return -1;
		return 0;
	case MESH_WHEN_DEST_PORT:
		return cond_ports(c, &w->ports, false, mask) ||
		       cond_ports(c, &w->not_ports, true, mask);
	default: {
		__u32 dir = w->key == MESH_WHEN_SOURCE_IP ? KMESH_L7_DIR_SRC :
			    KMESH_L7_DIR_DST;

		return cond_cidrs(c, dir, &w->cidrs, false, mask) ||
		       cond_cidrs(c, dir, &w->not_cidrs, true, mask);
	}
	}
}

static int compile_policy(struct pc *c, const struct mesh_authz *a)
{
	static const struct mesh_authz_source any_src;
	static const struct mesh_authz_operation any_op;
	char path[192];
	size_t r, s, o, w;

	if (a->action == MESH_AUTHZ_ALLOW)
		c->pol->flags |= KMESH_L7_PF_HAS_ALLOW;
	for (r = 0; r < a->nr_rules; r++) {
		const struct mesh_authz_rule *ru = &a->rules[r];
		struct kmesh_l7_rule *rule;
		__u64 wmask = 0;

		snprintf(path, sizeof(path), "%s.rules[%zu]", a->path, r);
		c->line = ru->line;
		c->path = path;
		if (c->nauthz + c->nroutes == KMESH_L7_MAX_RULES)
			return fail(c, "service '%s': more than %d routes and authorization rules",
				    svc_name(c), KMESH_L7_MAX_RULES);
		rule = &c->authz[c->nauthz++];
		memset(rule, 0, sizeof(*rule));
		rule->kind = a->action == MESH_AUTHZ_ALLOW ? KMESH_L7_RK_ALLOW :
			     KMESH_L7_RK_DENY;
		rule->id = a->id;
		rule->index = (__u16)r;
		for (w = 0; w < ru->nr_when; w++) {
			c->line = ru->when[w].line;
			if (when_conds(c, &ru->when[w], &wmask))
				return -1;
		}
		c->line = ru->line;
		for (s = 0; s < (ru->nr_from ? ru->nr_from : 1); s++) {
			for (o = 0; o < (ru->nr_to ? ru->nr_to : 1); o++) {
				__u64 mask = wmask;
				int b;

				if (source_conds(c, ru->nr_from ? &ru->from[s] : &any_src,
						 &mask) ||
				    op_conds(c, ru->nr_to ? &ru->to[o] : &any_op, &mask))
					return -1;
				b = block_put(c, mask);
				if (b < 0)
					return -1;
				rule->blocks |= 1ULL << b;
			}
		}
	}
	return 0;
}

/* ---- the service ---- */

const struct mesh_routes *l7_routes_of(const struct mesh_config *cfg, int svc)
{
	size_t i;

	for (i = 0; i < cfg->nr_routes; i++)
		if (cfg->routes[i].service == svc)
			return &cfg->routes[i];
	return NULL;
}

bool l7_service_has_rules(const struct mesh_config *cfg, int svc)
{
	size_t i;

	/* failure_mode_allow needs a policy to carry its flag */
	if (l7_routes_of(cfg, svc) || cfg->services[svc].fail_open)
		return true;
	for (i = 0; i < cfg->nr_authz; i++)
		if (cfg->authz[i].service == svc)
			return true;
	return false;
}

static bool cidr_contains(const struct mesh_cidr *outer,
			  const struct mesh_cidr *inner)
{
	int i;

	if (outer->bits > inner->bits)
		return false;
	for (i = 0; i < 4; i++) {
		int b = outer->bits - i * 32;
		__u32 keep = b >= 32 ? 0xffffffffU : b <= 0 ? 0 :
			     0xffffffffU << (32 - b);

		if ((ntohl(outer->addr[i]) ^ ntohl(inner->addr[i])) & keep)
			return false;
	}
	return true;
}

static int cidr_push(struct pc *c, struct l7_cidrs *out,
		     const struct l7_cidr_entry *e)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		if (!memcmp(&out->v[i].key, &e->key, sizeof(e->key)))
			return 0;
	if (out->n == KMESH_L7_MAX_CIDRS)
		return fail(c, "more than %d address list entries in all services",
			    KMESH_L7_MAX_CIDRS);
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		struct l7_cidr_entry *v = realloc(out->v, cap * sizeof(*v));

		if (!v)
			return fail(c, "out of memory");
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *e;
	return 0;
}

/*
 * One LPM entry per listed CIDR; its value holds every set with a CIDR
 * containing it, so the longest match of an address yields all its sets.
 */
static int emit_cidrs(struct pc *c, __u32 service_id, struct l7_cidrs *out)
{
	size_t s, i, t, j;

	for (s = 0; s < c->nsets; s++) {
		for (i = 0; i < c->sets[s].list->n; i++) {
			const struct mesh_cidr *cd = &c->sets[s].list->v[i];
			struct l7_cidr_entry e = {};

			e.key.prefixlen = 64 + cd->bits;
			e.key.service_id = htonl(service_id);
			e.key.dir = htonl(c->sets[s].dir);
			memcpy(e.key.addr, cd->addr, 16);
			for (t = 0; t < c->nsets; t++) {
				if (c->sets[t].dir != c->sets[s].dir)
					continue;
				for (j = 0; j < c->sets[t].list->n; j++)
					if (cidr_contains(&c->sets[t].list->v[j], cd))
						e.sets |= 1ULL << t;
			}
			if (cidr_push(c, out, &e))
				return -1;
		}
	}
	return 0;
}

int l7_build_policy(const struct mesh_config *cfg, int svc, __u32 service_id,
		    struct kmesh_l7_policy *out, struct l7_cidrs *cidrs,
		    struct l7_check_err *err)
{
	static const char deny_body[] = "RBAC: access denied";
	const struct mesh_routes *rt = l7_routes_of(cfg, svc);
	struct pc *c = calloc(1, sizeof(*c));
	size_t i, k, n;
	int rc = -1;

	memset(err, 0, sizeof(*err));
	if (!c) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	c->cfg = cfg;
	c->svc = svc;
	c->pol = out;
	c->err = err;
	c->line = cfg->services[svc].line;
	c->path = "services";
	out->service_id = service_id;
	if (cfg->services[svc].fail_open)
		out->flags |= KMESH_L7_PF_FAIL_OPEN;
	if (cfg->services[svc].path_norm == MESH_PATH_ESCAPED_SLASHES_LITERAL)
		out->flags |= KMESH_L7_PF_PATH_ESCAPED_SLASHES;
	if (add_reply(c, 403, deny_body, sizeof(deny_body) - 1, &out->deny_off,
		      &out->deny_head, &out->deny_len))
		goto out;
	/* Authorization first: its items lead, for kfunc mode. */
	for (i = 0; i < cfg->nr_authz; i++)
		if (cfg->authz[i].service == svc &&
		    compile_policy(c, &cfg->authz[i]))
			goto out;
	for (i = 0, n = 0; i < c->nconds; i++)
		n += c->conds[i].n;
	out->nr_authz_items = (__u8)n;
	c->route_pass = true;
	if (rt && compile_routes(c, rt))
		goto out;
	if (c->nroutes + c->nauthz > KMESH_L7_MAX_RULES) {
		c->line = rt ? rt->line : c->line;
		fail(c, "service '%s': more than %d routes and authorization rules",
		     svc_name(c), KMESH_L7_MAX_RULES);
		goto out;
	}
	/* Rules: ordered routes first, their bit order is match order. */
	memcpy(out->rules, c->routes, c->nroutes * sizeof(*c->routes));
	memcpy(out->rules + c->nroutes, c->authz, c->nauthz * sizeof(*c->authz));
	out->nr_routes = (__u8)c->nroutes;
	out->nr_rules = (__u8)(c->nroutes + c->nauthz);
	out->nr_conds = (__u8)c->nconds;
	for (i = 0, n = 0; i < c->nconds; i++) {
		if (c->conds[i].neg)
			out->neg_conds |= 1ULL << i;
		for (k = 0; k < c->conds[i].n; k++) {
			out->items[n] = c->conds[i].items[k];
			out->items[n].cond = (__u8)i;
			n++;
		}
	}
	out->nr_items = (__u8)n;
	for (i = 0; i < n; i++) {
		switch (out->items[i].kind) {
		case KMESH_L7_I_PATH_TEMPLATE:
			out->flags |= KMESH_L7_PF_TEMPLATES;
			break;
		case KMESH_L7_I_QUERY_EXACT:
			out->flags |= KMESH_L7_PF_QUERY;
			break;
		case KMESH_L7_I_SRC_SET:
			out->flags |= KMESH_L7_PF_SRC_SETS;
			break;
		case KMESH_L7_I_DST_SET:
			out->flags |= KMESH_L7_PF_DST_SETS;
			break;
		}
	}
	if (emit_cidrs(c, service_id, cidrs))
		goto out;
	rc = 0;
out:
	free(c);
	return rc;
}

/* ---- the module's route table ---- */

static int table_fail(struct l7_check_err *err, const struct mesh_http_route *r,
		      int line, struct kmesh_rtb *b)
{
	const char *msg = kmesh_rtb_error(b) ? kmesh_rtb_error(b) : "out of memory";
	const char *p;

	err->line = r ? r->line : line;
	snprintf(err->path, sizeof(err->path), "%s", r ? r->path : "routes");
	/* "route 3 (id 42), match 1, ...": the path already says which route */
	if (r && (!strncmp(msg, "route ", 6) || !strncmp(msg, "default route ", 14)) &&
	    (p = strstr(msg, ")")) && (p[1] == ',' || p[1] == ':') && p[2] == ' ')
		msg = p + 3;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -1;
}

static int table_action(struct kmesh_rtb *b, const struct mesh_http_route *r,
			const __u32 *cluster_ids)
{
	size_t i;

	switch (r->action) {
	case KMESH_RT_A_ROUTE:
		for (i = 0; i < r->nr_dests; i++)
			if (kmesh_rtb_cluster(b, cluster_ids[r->dests[i].cluster],
					      r->dests[i].weight))
				return -1;
		return 0;
	case KMESH_RT_A_DENY:
		return kmesh_rtb_deny(b, r->status);
	default:
		return kmesh_rtb_direct(b, r->status, r->body, r->body_len);
	}
}

/* The route walk, as the module's table. */
struct tc {
	struct kmesh_rtb *b;
	const __u32 *cluster_ids;
	const struct mesh_http_route *route;	/* where an error is */
};

static int tab_host(void *ctx, const char *h)
{
	return kmesh_rtb_host(((struct tc *)ctx)->b, h);
}

static int tab_none(void *ctx)
{
	(void)ctx;
	return 0;
}

static int tab_route(void *ctx, const struct mesh_http_route *r)
{
	struct tc *t = ctx;

	t->route = r;
	return kmesh_rtb_route(t->b, r->id);
}

static int tab_match(void *ctx, const struct mesh_route_match *m, size_t j)
{
	(void)m;
	return j ? kmesh_rtb_match(((struct tc *)ctx)->b) : 0;
}

static int tab_uri(void *ctx, const struct mesh_pattern *uri)
{
	struct kmesh_rtb *b = ((struct tc *)ctx)->b;

	return uri->kind == MESH_M_EXACT ? kmesh_rtb_path_exact(b, uri->text) :
	       uri->kind == MESH_M_TEMPLATE ? kmesh_rtb_path_template(b, uri->text) :
	       kmesh_rtb_path_prefix(b, uri->text,
				     uri->kind == MESH_M_SEGMENT_PREFIX);
}

static int tab_methods(void *ctx, __u32 methods)
{
	return kmesh_rtb_methods(((struct tc *)ctx)->b, methods);
}

static int tab_header(void *ctx, const struct mesh_header_match *h)
{
	enum kmesh_rt_match kind =
		h->value.kind == MESH_M_EXACT ? KMESH_RT_M_HEADER_EXACT :
		h->value.kind == MESH_M_PREFIX ? KMESH_RT_M_HEADER_PREFIX :
		h->value.kind == MESH_M_PRESENT ? KMESH_RT_M_HEADER_PRESENT :
		KMESH_RT_M_HEADER_ABSENT;

	return kmesh_rtb_header(((struct tc *)ctx)->b, kind, h->name,
				h->value.text);
}

static int tab_query(void *ctx, const struct mesh_query_match *q)
{
	return kmesh_rtb_query(((struct tc *)ctx)->b, q->name, q->value);
}

static int tab_action(void *ctx, const struct mesh_http_route *r)
{
	struct tc *t = ctx;

	return table_action(t->b, r, t->cluster_ids);
}

static int tab_default(void *ctx, const struct mesh_http_route *r,
		       size_t ordered)
{
	struct tc *t = ctx;

	t->route = r;
	/*
	 * A table needs an ordered route: a lone default becomes a
	 * catch-all route (every path) plus the default (no path:
	 * CONNECT, OPTIONS *), both with the default's id and action.
	 */
	if (!ordered && (kmesh_rtb_route(t->b, r->id) ||
			 kmesh_rtb_path_prefix(t->b, "/", false) ||
			 table_action(t->b, r, t->cluster_ids)))
		return -1;
	return kmesh_rtb_default_route(t->b, r->id) ||
	       table_action(t->b, r, t->cluster_ids) ? -1 : 0;
}

static const struct route_walker table_walker = {
	.host = tab_host,
	.hosts_end = tab_none,
	.route = tab_route,
	.match = tab_match,
	.uri = tab_uri,
	.methods = tab_methods,
	.header = tab_header,
	.query = tab_query,
	.match_end = tab_none,
	.action = tab_action,
	.dflt = tab_default,
};

int l7_build_table(const struct mesh_config *cfg, int svc, __u32 vhost_id,
		   const __u32 *cluster_ids, void **blob, __u32 *len,
		   struct l7_check_err *err)
{
	const struct mesh_routes *rt = l7_routes_of(cfg, svc);
	struct tc t = { .cluster_ids = cluster_ids };
	int rc = -1;

	memset(err, 0, sizeof(*err));
	*blob = NULL;
	*len = 0;
	if (!rt)
		return 0;
	t.b = kmesh_rtb_new(vhost_id);
	if (!t.b) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	if (walk_routes(rt, &table_walker, &t)) {
		table_fail(err, t.route, rt->line, t.b);
		goto out;
	}
	if (kmesh_rtb_finish(t.b, blob, len)) {
		table_fail(err, NULL, rt->line, t.b);
		goto out;
	}
	rc = 0;
out:
	kmesh_rtb_free(t.b);
	return rc;
}

/* ---- compiled once per config, ids bound per generation ---- */

/*
 * What l7_check() compiled for one service, with stand-in ids: the
 * service's is L7_STANDIN(service index), a cluster's L7_STANDIN(cluster
 * index). Binding replaces them with a generation's ids; nothing else in
 * either encoding depends on an id's value.
 */
#define L7_STANDIN(i)	((__u32)(i) + 1)

struct l7_compiled_service {
	struct kmesh_l7_policy *pol;	/* NULL: no L7 rules */
	size_t cidr_first, cidr_n;	/* its entries in l7_compiled.cidrs */
	void *blob;			/* NULL: no routes */
	__u32 len;
};

struct l7_compiled {
	struct l7_compiled_service *svc;	/* one per service */
	size_t n;
	struct l7_cidrs cidrs;
};

void l7_compiled_free(struct l7_compiled *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->svc[i].pol);
		free(c->svc[i].blob);
	}
	free(c->svc);
	l7_cidrs_free(&c->cidrs);
	free(c);
}

int l7_check(struct mesh_config *cfg, struct l7_check_err *err)
{
	struct l7_compiled *c = calloc(1, sizeof(*c));
	__u32 *ids = calloc(cfg->nr_clusters + 1, sizeof(*ids));
	size_t i;
	int rc = -1;

	memset(err, 0, sizeof(*err));
	l7_compiled_free(cfg->l7);
	cfg->l7 = NULL;
	if (c)
		c->svc = calloc(cfg->nr_services + 1, sizeof(*c->svc));
	if (!c || !c->svc || !ids) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		goto out;
	}
	c->n = cfg->nr_services;
	for (i = 0; i < cfg->nr_clusters; i++)
		ids[i] = L7_STANDIN(i);
	for (i = 0; i < cfg->nr_services; i++) {
		struct l7_compiled_service *cs = &c->svc[i];

		if (!l7_service_has_rules(cfg, (int)i))
			continue;
		cs->pol = malloc(sizeof(*cs->pol));
		if (!cs->pol) {
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			goto out;
		}
		cs->cidr_first = c->cidrs.n;
		if (l7_build_policy(cfg, (int)i, L7_STANDIN(i), cs->pol,
				    &c->cidrs, err) ||
		    l7_build_table(cfg, (int)i, L7_STANDIN(i), ids, &cs->blob,
				   &cs->len, err))
			goto out;
		cs->cidr_n = c->cidrs.n - cs->cidr_first;
	}
	cfg->l7 = c;
	c = NULL;
	rc = 0;
out:
	l7_compiled_free(c);
	free(ids);
	return rc;
}

int l7_policy_of(const struct mesh_config *cfg, int svc, __u32 service_id,
		 struct kmesh_l7_policy *out, struct l7_cidrs *cidrs,
		 struct l7_check_err *err)
{
	const struct l7_compiled *c = cfg->l7;
	const struct l7_compiled_service *cs;
	struct pc pc = { .err = err, .line = 0, .path = "services" };
	size_t i;

	if (!c || (size_t)svc >= c->n || !c->svc[svc].pol)
		return l7_build_policy(cfg, svc, service_id, out, cidrs, err);
	memset(err, 0, sizeof(*err));
	cs = &c->svc[svc];
	*out = *cs->pol;
	out->service_id = service_id;
	pc.line = cfg->services[svc].line;
	for (i = 0; i < cs->cidr_n; i++) {
		struct l7_cidr_entry e = c->cidrs.v[cs->cidr_first + i];

		e.key.service_id = htonl(service_id);
		if (cidr_push(&pc, cidrs, &e))
			return -1;
	}
	return 0;
}

int l7_table_of(const struct mesh_config *cfg, int svc, __u32 vhost_id,
		const __u32 *cluster_ids, void **blob, __u32 *len,
		struct l7_check_err *err)
{
	const struct l7_compiled *c = cfg->l7;
	const struct l7_compiled_service *cs;
	struct kmesh_rt_table *t;
	struct kmesh_rt_cluster *cl;
	size_t i;

	if (!c || (size_t)svc >= c->n || !c->svc[svc].pol)
		return l7_build_table(cfg, svc, vhost_id, cluster_ids, blob, len,
				      err);
	memset(err, 0, sizeof(*err));
	cs = &c->svc[svc];
	*blob = NULL;
	*len = 0;
	if (!cs->blob)
		return 0;
	t = malloc(cs->len);
	if (!t) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	memcpy(t, cs->blob, cs->len);
	t->vhost_id = vhost_id;
	cl = (struct kmesh_rt_cluster *)((__u8 *)t + t->clusters.off);
	for (i = 0; i < t->clusters.count; i++)
		cl[i].cluster_id = cluster_ids[cl[i].cluster_id - 1];
	*blob = t;
	*len = cs->len;
	return 0;
}

void l7_cidrs_free(struct l7_cidrs *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- the L7 part of one generation ---- */

static void add_name(struct l7_gen *g, __u32 kind, __u32 service_id, __u32 id,
		     const char *name)
{
	struct l7_name_rec *r;

	if (g->nr_names == g->cap_names) {
		size_t cap = g->cap_names ? g->cap_names * 2 : 256;

		r = realloc(g->names, cap * sizeof(*r));
		if (!r)
			return;		/* names only label stats */
		g->names = r;
		g->cap_names = cap;
	}
	r = &g->names[g->nr_names++];
	memset(r, 0, sizeof(*r));
	r->key = (struct kmesh_l7_name_key){ kind, service_id, id };
	snprintf(r->val.name, sizeof(r->val.name), "%s", name);
}

static void add_names(struct l7_gen *g, const struct mesh_config *cfg,
		      int svc, __u32 sid)
{
	const struct mesh_routes *rt = l7_routes_of(cfg, svc);
	size_t j;

	for (j = 0; rt && j < rt->nr_http; j++)
		add_name(g, KMESH_L7_NAME_ROUTE, sid, rt->http[j].id,
			 rt->http[j].name);
	for (j = 0; j < cfg->nr_authz; j++)
		if (cfg->authz[j].service == svc)
			add_name(g, KMESH_L7_NAME_POLICY, sid, cfg->authz[j].id,
				 cfg->authz[j].name);
}

/* The VIPs of service @sid lead to its route table @table (0: none). */
static void set_vip_tables(struct l4_gen *gen, __u32 sid, __u32 table)
{
	size_t j;

	for (j = 0; j < gen->nr_vips; j++)
		if (gen->vips[j].val.service_id == sid)
			gen->vips[j].val.route_table_id = table;
}

/*
 * The route table of each service's VIPs, noted per service id and set
 * in one pass over the VIPs: a pass per service took 1,000 x 1,000 steps
 * for 1,000 services. Without memory, a pass per service as before.
 */
struct vip_tables {
	__u64 *by_sid;		/* 1 << 32 | table; 0: not set */
};

static void vip_tables_init(struct vip_tables *v)
{
	v->by_sid = calloc(l4_id_limit(KMESH_L4_KIND_SERVICE), sizeof(*v->by_sid));
}

static void vip_tables_note(struct vip_tables *v, struct l4_gen *gen, __u32 sid,
			    __u32 table)
{
	if (v->by_sid && sid < l4_id_limit(KMESH_L4_KIND_SERVICE))
		v->by_sid[sid] = 1ULL << 32 | table;
	else
		set_vip_tables(gen, sid, table);
}

static void vip_tables_apply(struct vip_tables *v, struct l4_gen *gen)
{
	__u32 limit = l4_id_limit(KMESH_L4_KIND_SERVICE);
	size_t j;

	for (j = 0; v->by_sid && j < gen->nr_vips; j++) {
		__u32 sid = gen->vips[j].val.service_id;

		if (sid < limit && v->by_sid[sid])
			gen->vips[j].val.route_table_id = (__u32)v->by_sid[sid];
	}
	free(v->by_sid);
	v->by_sid = NULL;
}

/* What l7_rebind() compares: the ids, the slot, the tables. */
static int record_binding(const struct mesh_config *cfg, const struct l4_gen *gen,
			  __u32 slot, bool tables, struct l7_gen *out,
			  char *err, size_t err_size)
{
	out->bound_slot = slot;
	out->bound_tables = tables;
	out->bound_nr_services = cfg->nr_services;
	out->bound_nr_clusters = cfg->nr_clusters;
	out->bound_nr_cidrs = out->cidrs.n;
	out->bound_service_ids = malloc((cfg->nr_services + 1) * sizeof(__u32));
	out->bound_cluster_ids = malloc((cfg->nr_clusters + 1) * sizeof(__u32));
	if (!out->bound_service_ids || !out->bound_cluster_ids) {
		snprintf(err, err_size, "L7 policies: out of memory");
		return -1;
	}
	memcpy(out->bound_service_ids, gen->service_ids,
	       cfg->nr_services * sizeof(__u32));
	memcpy(out->bound_cluster_ids, gen->cluster_ids,
	       cfg->nr_clusters * sizeof(__u32));
	return 0;
}

int l7_compile(const struct mesh_config *cfg, struct l4_gen *gen, __u32 slot,
	       bool tables, struct l7_gen *out, char *err, size_t err_size)
{
	static __u64 serials;
	size_t n = cfg->nr_services + 1, i;
	struct vip_tables vt;
	struct l7_check_err ce;

	memset(out, 0, sizeof(*out));
	out->serial = ++serials;
	/* Policies are 13 KB each: only services with rules get one. */
	out->pols = malloc(n * sizeof(*out->pols));
	out->pol_ids = malloc(n * sizeof(*out->pol_ids));
	out->tables = calloc(n, sizeof(*out->tables));
	out->stale_tables = calloc(n, sizeof(*out->stale_tables));
	if (!out->pols || !out->pol_ids || !out->tables || !out->stale_tables) {
		snprintf(err, err_size, "L7 policies: out of memory");
		return -1;
	}
	vip_tables_init(&vt);
	for (i = 0; i < cfg->nr_services; i++) {
		const struct mesh_service *s = &cfg->services[i];
		const struct mesh_routes *rt = l7_routes_of(cfg, (int)i);
		__u32 sid = gen->service_ids[i], table = 0;

		if (!rt && tables)
			out->stale_tables[out->nr_stale++] = l7_table_id(slot, sid);
		if (!l7_service_has_rules(cfg, (int)i))
			continue;
		out->pol_ids[out->nr_pols] = sid;
		if (l7_policy_of(cfg, (int)i, sid, &out->pols[out->nr_pols],
				 &out->cidrs, &ce)) {
			snprintf(err, err_size, "service '%s': %s", s->name, ce.msg);
			goto fail;
		}
		out->nr_pols++;
		if (rt && tables) {
			struct l7_table_rec *t = &out->tables[out->nr_tables];

			table = l7_table_id(slot, sid);
			t->svc = (int)i;
			t->table = table;
			if (l7_table_of(cfg, (int)i, sid, gen->cluster_ids, &t->blob,
					&t->len, &ce)) {
				snprintf(err, err_size, "routes of service '%s': %s",
					 s->name, ce.msg);
				goto fail;
			}
			out->nr_tables++;
		}
		vip_tables_note(&vt, gen, sid, table);
		add_names(out, cfg, (int)i, sid);
	}
	vip_tables_apply(&vt, gen);
	return record_binding(cfg, gen, slot, tables, out, err, err_size);
fail:
	free(vt.by_sid);
	return -1;
}

bool l7_rebind(struct l7_gen *prev, const struct mesh_config *cfg,
	       struct l4_gen *gen, __u32 slot, bool tables, struct l7_gen *out)
{
	struct vip_tables vt;
	size_t i;

	if (!prev->bound_service_ids || prev->bound_slot != slot ||
	    prev->bound_tables != tables ||
	    prev->bound_nr_services != cfg->nr_services ||
	    prev->bound_nr_clusters != cfg->nr_clusters ||
	    memcmp(prev->bound_service_ids, gen->service_ids,
		   cfg->nr_services * sizeof(*gen->service_ids)) ||
	    memcmp(prev->bound_cluster_ids, gen->cluster_ids,
		   cfg->nr_clusters * sizeof(*gen->cluster_ids)))
		return false;
	*out = *prev;
	memset(prev, 0, sizeof(*prev));
	/* what the install appended (inbound address lists) goes */
	out->cidrs.n = out->bound_nr_cidrs;
	vip_tables_init(&vt);
	for (i = 0; i < cfg->nr_services; i++) {
		__u32 sid = gen->service_ids[i];

		if (l7_service_has_rules(cfg, (int)i))
			vip_tables_note(&vt, gen, sid, l7_routes_of(cfg, (int)i) && tables ?
					l7_table_id(slot, sid) : 0);
	}
	vip_tables_apply(&vt, gen);
	return true;
}

void l7_gen_free(struct l7_gen *g)
{
	size_t i;

	for (i = 0; i < g->nr_tables; i++)
		free(g->tables[i].blob);
	free(g->tables);
	free(g->pols);
	free(g->pol_ids);
	free(g->stale_tables);
	free(g->names);
	free(g->bound_service_ids);
	free(g->bound_cluster_ids);
	l7_cidrs_free(&g->cidrs);
	memset(g, 0, sizeof(*g));
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Route table builder; the API is in route_build.h. Records are appended
 * in the order the module's validator wants them (each route's blocks,
 * conditions and clusters right after the previous route's), so the
 * layout step only concatenates. The checks here mirror the validator's
 * so that a bad table is refused here, with a message that names the
 * route and field, rather than with a bare code from the kernel.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_build.h"

#define CUR_NONE	-1
#define CUR_DEFAULT	-2

struct arr {
	void *v;
	size_t n;
	size_t cap;
};

struct kmesh_rtb {
	__u32 vhost_id;
	struct arr hosts;	/* struct kmesh_rt_str */
	struct arr routes;	/* struct kmesh_rt_route */
	struct arr blocks;	/* struct kmesh_rt_block */
	struct arr conds;	/* struct kmesh_rt_cond */
	struct arr clusters;	/* struct kmesh_rt_cluster, but the default's */
	struct arr strings;	/* bytes */
	bool has_default;
	struct kmesh_rt_route dflt;
	struct kmesh_rt_cluster dflt_clusters[KMESH_RT_MAX_SPLIT];
	long cur;		/* route index, CUR_DEFAULT or CUR_NONE */
	__u64 weight;		/* of the current route's split so far */
	__u32 scans;		/* template and query conditions */
	bool failed;
	char err[320];
};

static const char *const kind_names[KMESH_RT_M_MAX] = {
	[KMESH_RT_M_PATH_EXACT] = "path exact",
	[KMESH_RT_M_PATH_PREFIX] = "path prefix",
	[KMESH_RT_M_PATH_TEMPLATE] = "path template",
	[KMESH_RT_M_METHOD] = "method",
	[KMESH_RT_M_HEADER_EXACT] = "header exact",
	[KMESH_RT_M_HEADER_PREFIX] = "header prefix",
	[KMESH_RT_M_HEADER_PRESENT] = "header present",
	[KMESH_RT_M_HEADER_ABSENT] = "header absent",
	[KMESH_RT_M_QUERY_EXACT] = "query exact",
};

static struct kmesh_rt_route *cur_route(struct kmesh_rtb *b)
{
	if (b->cur == CUR_DEFAULT)
		return &b->dflt;
	if (b->cur < 0)
		return NULL;
	return (struct kmesh_rt_route *)b->routes.v + b->cur;
}

/* "route 3 (id 42)" or "default route (id 9)" */
static int route_where(struct kmesh_rtb *b, char *buf, size_t n)
{
	struct kmesh_rt_route *r = cur_route(b);

	if (!r)
		return snprintf(buf, n, "table");
	if (b->cur == CUR_DEFAULT)
		return snprintf(buf, n, "default route (id %u)", r->route_id);
	return snprintf(buf, n, "route %ld (id %u)", b->cur, r->route_id);
}

static int fail(struct kmesh_rtb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Keep the first error; every later call returns -1 without effect. */
static int fail(struct kmesh_rtb *b, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return -1;
	b->failed = true;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Append one zeroed element; NULL (and the builder failed) without memory. */
static void *arr_push(struct kmesh_rtb *b, struct arr *a, size_t size)
{
	void *v;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;

		v = realloc(a->v, cap * size);
		if (!v) {
			fail(b, "out of memory");
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	v = (char *)a->v + a->n++ * size;
	memset(v, 0, size);
	return v;
}

/* Store @n bytes, sharing any copy already there. */
static int str_add(struct kmesh_rtb *b, const void *s, size_t n,
		   struct kmesh_rt_str *out)
{
	const char *found;
	size_t i;

	*out = (struct kmesh_rt_str){ 0, 0 };
	if (!n)
		return 0;
	found = b->strings.n ? memmem(b->strings.v, b->strings.n, s, n) : NULL;
	if (found) {
		out->off = found - (const char *)b->strings.v;
		out->len = n;
		return 0;
	}
	out->off = b->strings.n;
	out->len = n;
	for (i = 0; i < n; i++) {
		char *c = arr_push(b, &b->strings, 1);

		if (!c)
			return -1;
		*c = ((const char *)s)[i];
	}
	return 0;
}

struct kmesh_rtb *kmesh_rtb_new(__u32 vhost_id)
{
	struct kmesh_rtb *b = calloc(1, sizeof(*b));

	if (b) {
		b->vhost_id = vhost_id;
		b->cur = CUR_NONE;
	}
	return b;
}

void kmesh_rtb_free(struct kmesh_rtb *b)
{
	if (!b)
		return;
	free(b->hosts.v);
	free(b->routes.v);
	free(b->blocks.v);
	free(b->conds.v);
	free(b->clusters.v);
	free(b->strings.v);
	free(b);
}

const char *kmesh_rtb_error(const struct kmesh_rtb *b)
{
	return b->failed ? b->err : NULL;
}

/* ---- syntax, as the validator and the HTTP parser see it ---- */

static bool is_lower_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static bool is_tchar(unsigned char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* NULL if @h (lower-case, no trailing dot) is fine, else what is wrong. */
static const char *host_problem(const char *h, size_t n)
{
	size_t i = 0;

	if (!n)
		return "is empty";
	if (n > KMESH_RT_MAX_HOST_LEN)
		return "is longer than KMESH_RT_MAX_HOST_LEN";
	if (n == 1 && h[0] == '*')
		return NULL;
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']')
			return "is not a bracketed IPv6 address";
		for (i = 1; i < n - 1; i++)
			if (!h[i] || !strchr("0123456789abcdef:.", h[i]))
				return "is not a bracketed IPv6 address";
		return NULL;
	}
	if (h[0] == '*') {
		if (n < 3 || h[1] != '.')
			return "has a '*' other than a leading \"*.\"";
		i = 2;
	}
	if (h[n - 1] == '.')
		return "ends with '.'";
	for (; i < n; i++) {
		if (h[i] == ':')
			return "has a port (ports are ignored; leave it out)";
		if (!is_lower_alnum(h[i]) && !strchr("-._~", h[i]))
			return "has a character a host name cannot hold";
	}
	return NULL;
}

int kmesh_rtb_host(struct kmesh_rtb *b, const char *host)
{
	char low[KMESH_RT_MAX_HOST_LEN + 2];
	struct kmesh_rt_str *h, *all;
	const char *why;
	size_t n, i;

	if (b->failed)
		return -1;
	n = host ? strlen(host) : 0;
	if (n > KMESH_RT_MAX_HOST_LEN + 1)
		n = KMESH_RT_MAX_HOST_LEN + 1;
	for (i = 0; i < n; i++)
		low[i] = host[i] >= 'A' && host[i] <= 'Z' ?
			 host[i] + ('a' - 'A') : host[i];
	low[n] = '\0';
	/* "example.com." is "example.com": the matcher drops the request's */
	if (n > 1 && low[n - 1] == '.' && strcmp(low, "*."))
		low[--n] = '\0';
	why = host_problem(low, n);
	if (why)
		return fail(b, "host %zu \"%s\" %s", b->hosts.n,
			    host ? host : "(null)", why);
	all = b->hosts.v;
	for (i = 0; i < b->hosts.n; i++)
		if (all[i].len == n &&
		    !memcmp((char *)b->strings.v + all[i].off, low, n))
			return fail(b, "host %zu \"%s\" is listed twice",
				    b->hosts.n, host);
	if (b->hosts.n == KMESH_RT_MAX_HOSTS)
		return fail(b, "host %zu \"%s\": more than %d hosts",
			    b->hosts.n, host, KMESH_RT_MAX_HOSTS);
	h = arr_push(b, &b->hosts, sizeof(*h));
	if (!h)
		return -1;
	return str_add(b, low, n, h);
}

/* ---- routes ---- */

/* The current route is complete: its last block has conditions, its
 * action is set, its split weighs something. */
static int close_route(struct kmesh_rtb *b)
{
	struct kmesh_rt_route *r = cur_route(b);
	struct kmesh_rt_block *last;
	char where[64];

	if (!r)
		return 0;
	route_where(b, where, sizeof(where));
	if (b->cur != CUR_DEFAULT && !r->nr_blocks)
		return fail(b, "%s has no match conditions (only the default "
			    "route may match everything)", where);
	if (r->nr_blocks) {
		last = (struct kmesh_rt_block *)b->blocks.v + b->blocks.n - 1;
		if (!last->nr_conds)
			return fail(b, "%s, match %u has no conditions", where,
				    r->nr_blocks - 1);
	}
	if (!r->action)
		return fail(b, "%s has no action (cluster, deny or direct "
			    "response)", where);
	if (r->action == KMESH_RT_A_ROUTE && !b->weight)
		return fail(b, "%s: split weights sum to 0", where);
	b->cur = CUR_NONE;
	return 0;
}

int kmesh_rtb_route(struct kmesh_rtb *b, __u32 route_id)
{
	struct kmesh_rt_route *r;

	if (b->failed || close_route(b))
		return -1;
	if (b->routes.n == KMESH_RT_MAX_ROUTES)
		return fail(b, "route %zu (id %u): more than %d routes",
			    b->routes.n, route_id, KMESH_RT_MAX_ROUTES);
	r = arr_push(b, &b->routes, sizeof(*r));
	if (!r)
		return -1;
	r->route_id = route_id;
	r->first_block = b->blocks.n;
	b->cur = b->routes.n - 1;
	b->weight = 0;
	return 0;
}

int kmesh_rtb_default_route(struct kmesh_rtb *b, __u32 route_id)
{
	if (b->failed || close_route(b))
		return -1;
	if (b->has_default)
		return fail(b, "default route (id %u): there is one already "
			    "(id %u)", route_id, b->dflt.route_id);
	b->has_default = true;
	b->dflt.route_id = route_id;
	b->cur = CUR_DEFAULT;
	b->weight = 0;
	return 0;
}

int kmesh_rtb_match(struct kmesh_rtb *b)
{
	struct kmesh_rt_route *r = cur_route(b);
	struct kmesh_rt_block *blk;
	char where[64];

	if (b->failed)
		return -1;
	route_where(b, where, sizeof(where));
	if (!r)
		return fail(b, "match block outside a route");
	if (b->cur == CUR_DEFAULT)
		return fail(b, "%s: the default route takes no match "
			    "conditions", where);
	if (r->nr_blocks) {
		blk = (struct kmesh_rt_block *)b->blocks.v + b->blocks.n - 1;
		if (!blk->nr_conds)
			return fail(b, "%s, match %u has no conditions", where,
				    r->nr_blocks - 1);
	}
	if (r->nr_blocks == KMESH_RT_MAX_BLOCKS)
		return fail(b, "%s: more than %d match blocks", where,
			    KMESH_RT_MAX_BLOCKS);
	blk = arr_push(b, &b->blocks, sizeof(*blk));
	if (!blk)
		return -1;
	blk->first_cond = b->conds.n;
	r->nr_blocks++;
	return 0;
}

/* ---- conditions ---- */

/*
 * A new condition in the current block (opening the first block if
 * needed); on failure the builder has failed with @where set up for the
 * caller's own messages: "route 3 (id 42), match 1, condition 2 (kind)".
 */
static struct kmesh_rt_cond *cond_new(struct kmesh_rtb *b,
				      enum kmesh_rt_match kind,
				      char *where, size_t wn)
{
	struct kmesh_rt_route *r = cur_route(b);
	struct kmesh_rt_block *blk;
	struct kmesh_rt_cond *c;
	int k;

	if (b->failed)
		return NULL;
	k = route_where(b, where, wn);
	if (!r) {
		fail(b, "%s condition outside a route", kind_names[kind]);
		return NULL;
	}
	if (b->cur == CUR_DEFAULT) {
		fail(b, "%s: the default route takes no match conditions",
		     where);
		return NULL;
	}
	if (!r->nr_blocks && kmesh_rtb_match(b))
		return NULL;
	blk = (struct kmesh_rt_block *)b->blocks.v + b->blocks.n - 1;
	snprintf(where + k, wn - k, ", match %u, condition %u (%s)",
		 r->nr_blocks - 1, blk->nr_conds, kind_names[kind]);
	if (blk->nr_conds == KMESH_RT_MAX_CONDS) {
		fail(b, "%s: more than %d conditions in a match block", where,
		     KMESH_RT_MAX_CONDS);
		return NULL;
	}
	if (b->conds.n == KMESH_RT_MAX_TABLE_CONDS) {
		fail(b, "%s: more than %d conditions in the table", where,
		     KMESH_RT_MAX_TABLE_CONDS);
		return NULL;
	}
	c = arr_push(b, &b->conds, sizeof(*c));
	if (!c)
		return NULL;
	/* arr_push may have moved the blocks: look the block up again */
	blk = (struct kmesh_rt_block *)b->blocks.v + b->blocks.n - 1;
	blk->nr_conds++;
	c->kind = kind;
	return c;
}

/* NULL if @p is a path pattern a parsed path could equal or start with. */
static const char *path_problem(const char *p, size_t n)
{
	size_t i;

	if (!n)
		return "is empty";
	if (n > KMESH_RT_MAX_STR_LEN)
		return "is longer than KMESH_RT_MAX_STR_LEN";
	if (p[0] != '/')
		return "does not start with '/'";
	for (i = 0; i < n; i++) {
		if (p[i] == '?')
			return "holds '?' (the query is never part of the "
			       "path)";
		if (!is_vchar(p[i]) || p[i] == '#')
			return "holds a byte no request path can hold";
	}
	return NULL;
}

static int add_path(struct kmesh_rtb *b, enum kmesh_rt_match kind,
		    const char *path, __u8 flags)
{
	char where[160];
	struct kmesh_rt_cond *c = cond_new(b, kind, where, sizeof(where));
	size_t n = path ? strlen(path) : 0;
	const char *why;

	if (!c)
		return -1;
	why = path_problem(path, n);
	if (why)
		return fail(b, "%s: \"%s\" %s", where, path ? path : "(null)",
			    why);
	c->flags = flags;
	return str_add(b, path, n, &c->value);
}

int kmesh_rtb_path_exact(struct kmesh_rtb *b, const char *path)
{
	return add_path(b, KMESH_RT_M_PATH_EXACT, path, 0);
}

int kmesh_rtb_path_prefix(struct kmesh_rtb *b, const char *prefix,
			  bool segment)
{
	return add_path(b, KMESH_RT_M_PATH_PREFIX, prefix,
			segment ? KMESH_RT_CF_SEGMENT : 0);
}

/* Kind of one template segment: 0 bad, 1 literal or one segment, 2 rest. */
static int tmpl_seg(const char *s, size_t n)
{
	size_t i = 1;

	if ((n == 1 && s[0] == '*'))
		return 1;
	if (n == 2 && s[0] == '*' && s[1] == '*')
		return 2;
	if (n && s[0] == '{') {
		while (i < n && (is_lower_alnum(s[i]) ||
				 (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
			i++;
		if (i == 1 || s[n - 1] != '}')
			return 0;
		if (i == n - 1)
			return 1;
		if (n - 1 - i == 2 && !strncmp(s + i, "=*", 2))
			return 1;
		if (n - 1 - i == 3 && !strncmp(s + i, "=**", 3))
			return 2;
		return 0;
	}
	for (i = 0; i < n; i++)
		if (strchr("*{}", s[i]))
			return 0;
	return 1;
}

int kmesh_rtb_path_template(struct kmesh_rtb *b, const char *tmpl)
{
	char where[160];
	struct kmesh_rt_cond *c;
	size_t n = tmpl ? strlen(tmpl) : 0, i = 1, e, seg = 0;
	const char *why = NULL;
	int kind;

	c = cond_new(b, KMESH_RT_M_PATH_TEMPLATE, where, sizeof(where));
	if (!c)
		return -1;
	if (b->scans == KMESH_RT_MAX_SCAN_CONDS)
		return fail(b, "%s: more than %d template and query conditions "
			    "in the table", where, KMESH_RT_MAX_SCAN_CONDS);
	why = path_problem(tmpl, n);
	for (; !why && i <= n; i = e + 1, seg++) {
		for (e = i; e < n && tmpl[e] != '/'; e++)
			;
		kind = tmpl_seg(tmpl + i, e - i);
		if (!kind)
			why = "has a segment that is not a literal (without "
			      "'*', '{', '}'), *, **, {name}, {name=*} or "
			      "{name=**}";
		else if (kind == 2 && e != n)
			why = "has ** before its last segment";
	}
	if (why && seg)
		return fail(b, "%s: \"%s\" %s (segment %zu)", where, tmpl, why,
			    seg - 1);
	if (why)
		return fail(b, "%s: \"%s\" %s", where, tmpl ? tmpl : "(null)",
			    why);
	b->scans++;
	return str_add(b, tmpl, n, &c->value);
}

int kmesh_rtb_methods(struct kmesh_rtb *b, __u32 mask)
{
	char where[160];
	struct kmesh_rt_cond *c = cond_new(b, KMESH_RT_M_METHOD, where,
					   sizeof(where));

	if (!c)
		return -1;
	if (!mask || (mask & ~KMESH_RT_METHODS_ALL))
		return fail(b, "%s: method set 0x%x is empty or has unknown "
			    "bits", where, mask);
	c->methods = mask;
	return 0;
}

__u32 kmesh_rtb_method_bit(const char *method)
{
	static const char *const names[] = {
		[KMESH_HTTP_M_GET] = "GET", [KMESH_HTTP_M_HEAD] = "HEAD",
		[KMESH_HTTP_M_POST] = "POST", [KMESH_HTTP_M_PUT] = "PUT",
		[KMESH_HTTP_M_DELETE] = "DELETE",
		[KMESH_HTTP_M_CONNECT] = "CONNECT",
		[KMESH_HTTP_M_OPTIONS] = "OPTIONS",
		[KMESH_HTTP_M_TRACE] = "TRACE", [KMESH_HTTP_M_PATCH] = "PATCH",
	};
	size_t i;

	if (!method || !*method)
		return 0;
	for (i = 0; method[i]; i++)
		if (!is_tchar(method[i]))
			return 0;
	/* methods are case-sensitive: "get" is some other method */
	for (i = KMESH_HTTP_M_GET; i <= KMESH_HTTP_M_PATCH; i++)
		if (!strcmp(method, names[i]))
			return KMESH_RT_METHOD_BIT(i);
	return KMESH_RT_METHOD_BIT(KMESH_HTTP_M_OTHER);
}

static const char *header_value_problem(const char *v, size_t n)
{
	size_t i;

	if (n > KMESH_RT_MAX_STR_LEN)
		return "is longer than KMESH_RT_MAX_STR_LEN";
	if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
		  v[n - 1] == '\t'))
		return "has leading or trailing whitespace (removed from "
		       "every request)";
	for (i = 0; i < n; i++)
		if (!is_vchar(v[i]) && v[i] != ' ' && v[i] != '\t' &&
		    !((unsigned char)v[i] & 0x80))
			return "holds a control byte";
	return NULL;
}

int kmesh_rtb_header(struct kmesh_rtb *b, enum kmesh_rt_match kind,
		     const char *name, const char *value)
{
	bool has_value = kind == KMESH_RT_M_HEADER_EXACT ||
			 kind == KMESH_RT_M_HEADER_PREFIX;
	char where[160], low[KMESH_RT_MAX_NAME_LEN];
	size_t n = name ? strlen(name) : 0, vn, i;
	struct kmesh_rt_cond *c;
	const char *why;

	if (kind < KMESH_RT_M_HEADER_EXACT || kind > KMESH_RT_M_HEADER_ABSENT)
		return fail(b, "header condition of kind %d, not a header kind",
			    kind);
	c = cond_new(b, kind, where, sizeof(where));
	if (!c)
		return -1;
	if (!n || n > KMESH_RT_MAX_NAME_LEN)
		return fail(b, "%s: header name \"%s\" is empty or longer than "
			    "%d", where, name ? name : "(null)",
			    KMESH_RT_MAX_NAME_LEN);
	for (i = 0; i < n; i++) {
		if (!is_tchar(name[i]))
			return fail(b, "%s: header name \"%s\" is not a token",
				    where, name);
		low[i] = name[i] >= 'A' && name[i] <= 'Z' ?
			 name[i] + ('a' - 'A') : name[i];
	}
	if (has_value != (value != NULL))
		return fail(b, "%s: header \"%s\" %s", where, name,
			    has_value ? "needs a value" : "takes no value");
	vn = value ? strlen(value) : 0;
	why = value ? header_value_problem(value, vn) : NULL;
	if (why)
		return fail(b, "%s: header \"%s\" value \"%s\" %s", where, name,
			    value, why);
	if (str_add(b, low, n, &c->name))
		return -1;
	return str_add(b, value, vn, &c->value);
}

/* Query bytes as the parser may pass them, without '&' and @sep. */
static bool query_part_ok(const char *s, size_t n, char sep)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_vchar(s[i]) || s[i] == '#' || s[i] == '&' ||
		    s[i] == sep)
			return false;
	return true;
}

int kmesh_rtb_query(struct kmesh_rtb *b, const char *name, const char *value)
{
	char where[160];
	struct kmesh_rt_cond *c;
	size_t n = name ? strlen(name) : 0, vn = value ? strlen(value) : 0;

	c = cond_new(b, KMESH_RT_M_QUERY_EXACT, where, sizeof(where));
	if (!c)
		return -1;
	if (b->scans == KMESH_RT_MAX_SCAN_CONDS)
		return fail(b, "%s: more than %d template and query conditions "
			    "in the table", where, KMESH_RT_MAX_SCAN_CONDS);
	if (!n || n > KMESH_RT_MAX_NAME_LEN || !query_part_ok(name, n, '='))
		return fail(b, "%s: parameter name \"%s\" is empty, longer "
			    "than %d or holds '&', '=', '#' or a byte no query "
			    "holds", where, name ? name : "(null)",
			    KMESH_RT_MAX_NAME_LEN);
	if (!value || vn > KMESH_RT_MAX_STR_LEN ||
	    !query_part_ok(value, vn, '&'))
		return fail(b, "%s: parameter \"%s\" value \"%s\" is missing, "
			    "longer than %d or holds '&', '#' or a byte no "
			    "query holds", where, name,
			    value ? value : "(null)", KMESH_RT_MAX_STR_LEN);
	b->scans++;
	if (str_add(b, name, n, &c->name))
		return -1;
	return str_add(b, value, vn, &c->value);
}

/* ---- actions ---- */

static struct kmesh_rt_route *action_route(struct kmesh_rtb *b, __u8 action,
					   char *where, size_t wn)
{
	struct kmesh_rt_route *r = cur_route(b);

	if (b->failed)
		return NULL;
	route_where(b, where, wn);
	if (!r) {
		fail(b, "action outside a route");
		return NULL;
	}
	/* several clusters make a split; anything else is a second action */
	if (r->action && (r->action != action || action != KMESH_RT_A_ROUTE)) {
		fail(b, "%s has two actions", where);
		return NULL;
	}
	r->action = action;
	return r;
}

int kmesh_rtb_cluster(struct kmesh_rtb *b, __u32 cluster_id, __u32 weight)
{
	struct kmesh_rt_cluster *c;
	struct kmesh_rt_route *r;
	char where[64];

	r = action_route(b, KMESH_RT_A_ROUTE, where, sizeof(where));
	if (!r)
		return -1;
	if (r->nr_clusters == KMESH_RT_MAX_SPLIT)
		return fail(b, "%s: more than %d clusters in a split", where,
			    KMESH_RT_MAX_SPLIT);
	if (b->weight + weight > UINT32_MAX)
		return fail(b, "%s: split weights sum to more than %u", where,
			    UINT32_MAX);
	b->weight += weight;
	if (b->cur == CUR_DEFAULT) {
		c = &b->dflt_clusters[r->nr_clusters];
	} else {
		c = arr_push(b, &b->clusters, sizeof(*c));
		if (!c)
			return -1;
		if (!r->nr_clusters)
			r->first_cluster = b->clusters.n - 1;
	}
	c->cluster_id = cluster_id;
	c->weight = weight;
	r->nr_clusters++;
	return 0;
}

int kmesh_rtb_deny(struct kmesh_rtb *b, __u16 status)
{
	struct kmesh_rt_route *r;
	char where[64];

	r = action_route(b, KMESH_RT_A_DENY, where, sizeof(where));
	if (!r)
		return -1;
	if (status < 400 || status > 599)
		return fail(b, "%s: deny status %u is not 400..599", where,
			    status);
	r->status = status;
	return 0;
}

int kmesh_rtb_direct(struct kmesh_rtb *b, __u16 status, const void *body,
		     size_t len)
{
	struct kmesh_rt_route *r;
	char where[64];

	r = action_route(b, KMESH_RT_A_DIRECT, where, sizeof(where));
	if (!r)
		return -1;
	if (status < 200 || status > 599)
		return fail(b, "%s: direct response status %u is not 200..599",
			    where, status);
	if (len > KMESH_RT_MAX_BODY_LEN || (len && !body))
		return fail(b, "%s: direct response body of %zu bytes (at most "
			    "%d)", where, len, KMESH_RT_MAX_BODY_LEN);
	r->status = status;
	return str_add(b, body, len, &r->body);
}

/* ---- layout ---- */

static __u32 sect(struct kmesh_rt_section *s, __u32 off, size_t count,
		  size_t size)
{
	s->off = off;
	s->count = count;
	return off + count * size;
}

/* Copy @a to the start of its section (memcpy() wants no NULL, even for 0). */
static void put(char *p, const struct kmesh_rt_section *s,
		const struct arr *a, size_t size)
{
	if (a->n)
		memcpy(p + s->off, a->v, a->n * size);
}

int kmesh_rtb_finish(struct kmesh_rtb *b, void **blob, __u32 *len)
{
	struct kmesh_rt_table t = {
		.magic = KMESH_RT_MAGIC,
		.abi_version = KMESH_DEV_ABI_VERSION,
		.hdr_len = sizeof(t),
		.vhost_id = b->vhost_id,
	};
	size_t nr_dflt = b->has_default ? b->dflt.nr_clusters : 0;
	size_t total;
	__u32 off;
	char *p;

	*blob = NULL;
	*len = 0;
	if (b->failed || close_route(b))
		return -1;
	if (!b->hosts.n)
		return fail(b, "table has no hosts");
	if (!b->routes.n)
		return fail(b, "table has no routes (a catch-all is a route "
			    "with path prefix \"/\")");
	/* Sections are multiples of 4 bytes up to the strings, which end it. */
	total = sizeof(t) + b->hosts.n * sizeof(struct kmesh_rt_str) +
		b->routes.n * sizeof(struct kmesh_rt_route) +
		b->blocks.n * sizeof(struct kmesh_rt_block) +
		b->conds.n * sizeof(struct kmesh_rt_cond) +
		(b->clusters.n + nr_dflt) * sizeof(struct kmesh_rt_cluster) +
		b->strings.n;
	if (total > KMESH_RT_MAX_BLOB_BYTES)
		return fail(b, "table is %zu bytes, over the %u byte limit",
			    total, KMESH_RT_MAX_BLOB_BYTES);
	off = sect(&t.hosts, sizeof(t), b->hosts.n,
		   sizeof(struct kmesh_rt_str));
	off = sect(&t.routes, off, b->routes.n, sizeof(struct kmesh_rt_route));
	off = sect(&t.blocks, off, b->blocks.n, sizeof(struct kmesh_rt_block));
	off = sect(&t.conds, off, b->conds.n, sizeof(struct kmesh_rt_cond));
	off = sect(&t.clusters, off, b->clusters.n + nr_dflt,
		   sizeof(struct kmesh_rt_cluster));
	off = sect(&t.strings, off, b->strings.n, 1);
	t.total_len = off;
	if (b->has_default) {
		t.flags |= KMESH_RT_F_DEFAULT;
		t.dflt = b->dflt;
		if (nr_dflt)
			t.dflt.first_cluster = b->clusters.n;
	}
	p = malloc(total);
	if (!p)
		return fail(b, "out of memory");
	memcpy(p, &t, sizeof(t));
	put(p, &t.hosts, &b->hosts, sizeof(struct kmesh_rt_str));
	put(p, &t.routes, &b->routes, sizeof(struct kmesh_rt_route));
	put(p, &t.blocks, &b->blocks, sizeof(struct kmesh_rt_block));
	put(p, &t.conds, &b->conds, sizeof(struct kmesh_rt_cond));
	put(p, &t.clusters, &b->clusters, sizeof(struct kmesh_rt_cluster));
	/* the default route's clusters come last */
	memcpy(p + t.clusters.off +
	       b->clusters.n * sizeof(struct kmesh_rt_cluster),
	       b->dflt_clusters, nr_dflt * sizeof(struct kmesh_rt_cluster));
	put(p, &t.strings, &b->strings, 1);
	*blob = p;
	*len = off;
	return 0;
}

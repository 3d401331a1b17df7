// SPDX-License-Identifier: GPL-2.0-only
/*
 * L7 route matcher; the contract and the matching rules are in route.h,
 * the table layout in kmesh_dev.h.
 *
 * The validator is the only gate: it proves once that every index, range
 * and string of the table lies inside the blob, and that every pattern
 * has the syntax the matcher assumes, so the matcher indexes the blob
 * without checks. The matcher still clamps its loop counts to the limits
 * (free, and it bounds the work even if that contract is broken), and it
 * trusts nothing in the request.
 */
#include "route.h"

#define RTE(x)		(-KMESH_RT_E_##x)
#define ALIGN4(x)	(((x) + 3U) & ~3U)

/* One read of a field in BPF-writable memory, like READ_ONCE(). */
#define RD(x)		(*(const volatile __typeof__(x) *)&(x))

_Static_assert(sizeof(struct kmesh_rt_str) == 8, "ABI");
_Static_assert(sizeof(struct kmesh_rt_section) == 8, "ABI");
_Static_assert(sizeof(struct kmesh_rt_cond) == 24, "ABI");
_Static_assert(sizeof(struct kmesh_rt_block) == 8, "ABI");
_Static_assert(sizeof(struct kmesh_rt_cluster) == 8, "ABI");
_Static_assert(sizeof(struct kmesh_rt_route) == 28, "ABI");
_Static_assert(sizeof(struct kmesh_rt_table) == 100, "ABI");
_Static_assert(sizeof(struct kmesh_route_verdict) == 36, "ABI");
_Static_assert(sizeof(struct kmesh_rt_table) % 4 == 0,
	       "sections start 4-byte aligned after the header");
_Static_assert(KMESH_HTTP_M_OTHER < 32, "method set is a __u32 bitmask");
/* Sums below are done in __u32; these keep them from wrapping. */
_Static_assert((__u64)KMESH_RT_MAX_ROUTES * KMESH_RT_MAX_BLOCKS *
	       KMESH_RT_MAX_CONDS < (1ULL << 31), "limits");
_Static_assert(KMESH_RT_MAX_BLOB_BYTES < (1U << 31), "limits");

static inline __u8 lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static inline bool is_vchar(__u8 c)
{
	return c > 0x20 && c < 0x7f;
}

static inline bool is_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_lower_alnum(__u8 c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

/* ---- validation ---- */

struct vctx {
	const __u8 *base;
	const struct kmesh_rt_table *t;
	const __u8 *str;		/* strings section */
	__u32 str_len;
	/* Next block, cond and cluster a route must start at. */
	__u32 next_block;
	__u32 next_cond;
	__u32 next_cluster;
	__u32 scans;			/* template and query conditions */
};

static const __u32 sect_rec_size[] = {
	sizeof(struct kmesh_rt_str),		/* hosts */
	sizeof(struct kmesh_rt_route),		/* routes */
	sizeof(struct kmesh_rt_block),		/* blocks */
	sizeof(struct kmesh_rt_cond),		/* conds */
	sizeof(struct kmesh_rt_cluster),	/* clusters */
	1,					/* strings */
};

static int check_header(const struct kmesh_rt_table *t, __u32 len)
{
	if (t->magic != KMESH_RT_MAGIC)
		return RTE(MAGIC);
	if (t->abi_version != KMESH_DEV_ABI_VERSION || t->hdr_len != sizeof(*t))
		return RTE(VERSION);
	if (t->total_len != len)
		return RTE(LENGTH);
	if (t->flags & ~KMESH_RT_F_DEFAULT)
		return RTE(FLAGS);
	if (t->reserved)
		return RTE(RESERVED);
	return 0;
}

/* Sections in their fixed order, each at the aligned end of the last. */
static int check_sections(const struct kmesh_rt_table *t, __u32 len)
{
	const struct kmesh_rt_section *s[] = {
		&t->hosts, &t->routes, &t->blocks,
		&t->conds, &t->clusters, &t->strings,
	};
	__u32 prev = sizeof(*t), i;
	__u64 end;

	for (i = 0; i < ARRAY_SIZE(s); i++) {
		if (s[i]->off & 3)
			return RTE(SECT_ALIGN);
		end = (__u64)s[i]->off + (__u64)s[i]->count * sect_rec_size[i];
		if (end > len)
			return RTE(SECT_BOUNDS);
		if (s[i]->off < prev)
			return RTE(SECT_OVERLAP);
		if (s[i]->off > ALIGN4(prev))
			return RTE(SECT_GAP);
		prev = (__u32)end;
	}
	return prev == len ? 0 : RTE(SECT_GAP);
}

static int check_counts(const struct kmesh_rt_table *t)
{
	if (!t->hosts.count)
		return RTE(NO_HOSTS);
	if (t->hosts.count > KMESH_RT_MAX_HOSTS)
		return RTE(TOO_MANY_HOSTS);
	if (!t->routes.count)
		return RTE(NO_ROUTES);
	if (t->routes.count > KMESH_RT_MAX_ROUTES)
		return RTE(TOO_MANY_ROUTES);
	if (t->conds.count > KMESH_RT_MAX_TABLE_CONDS)
		return RTE(TABLE_CONDS);
	return 0;
}

/* @s lies in the strings section, and is 1..@max bytes (0.. if @empty_ok). */
static int check_str(const struct vctx *v, struct kmesh_rt_str s, __u32 max,
		     bool empty_ok)
{
	if (s.off > v->str_len || s.len > v->str_len - s.off)
		return RTE(STR_BOUNDS);
	if (!s.len && !empty_ok)
		return RTE(STR_EMPTY);
	if (s.len > max)
		return RTE(STR_TOO_LONG);
	return 0;
}

static inline bool str_unused(struct kmesh_rt_str s)
{
	return !s.off && !s.len;
}

/* "[" hex, ':' and '.' "]": what the parser keeps of an IPv6 literal. */
static bool ipv6_ok(const __u8 *p, __u32 n)
{
	__u32 i;

	if (n < 3 || p[n - 1] != ']')
		return false;
	for (i = 1; i < n - 1; i++)
		if (!is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f') &&
		    p[i] != ':' && p[i] != '.')
			return false;
	return true;
}

/*
 * Lower-case host names of unreserved characters, as the parser accepts
 * them; "*", "*.suffix" or an IPv6 literal. No trailing dot: the matcher
 * drops the request's, so a pattern with one could never match.
 */
static bool host_ok(const __u8 *p, __u32 n)
{
	__u32 i = 0;

	if (n == 1 && p[0] == '*')
		return true;
	if (p[0] == '[')
		return ipv6_ok(p, n);
	if (n > 2 && p[0] == '*' && p[1] == '.')
		i = 2;
	if (p[n - 1] == '.')
		return false;
	for (; i < n; i++)
		if (!is_lower_alnum(p[i]) && p[i] != '-' && p[i] != '.' &&
		    p[i] != '_' && p[i] != '~')
			return false;
	return true;
}

static int check_hosts(const struct vctx *v)
{
	const struct kmesh_rt_str *h;
	__u32 i;
	int err;

	h = (const void *)(v->base + v->t->hosts.off);

	for (i = 0; i < v->t->hosts.count; i++) {
		err = check_str(v, h[i], KMESH_RT_MAX_HOST_LEN, false);
		if (err)
			return err;
		if (!host_ok(v->str + h[i].off, h[i].len))
			return RTE(BAD_HOST);
	}
	return 0;
}

/* Bytes a parsed path can hold: VCHAR but '?' (starts the query) and '#'. */
static inline bool path_char(__u8 c)
{
	return is_vchar(c) && c != '?' && c != '#';
}

static bool path_ok(const __u8 *p, __u32 n)
{
	__u32 i;

	if (p[0] != '/')
		return false;
	for (i = 1; i < n; i++)
		if (!path_char(p[i]))
			return false;
	return true;
}

static inline bool var_char(__u8 c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

/* {name}, {name=*} or {name=**}; returns 1 for one segment, 2 for the rest. */
static int tmpl_var(const __u8 *s, __u32 n)
{
	__u32 i = 1;

	if (n < 3 || s[n - 1] != '}')
		return 0;
	while (i < n - 1 && var_char(s[i]))
		i++;
	if (i == 1)
		return 0;
	if (i == n - 1)
		return 1;
	if (n - 1 - i == 2 && s[i] == '=' && s[i + 1] == '*')
		return 1;
	if (n - 1 - i == 3 && s[i] == '=' && s[i + 1] == '*' && s[i + 2] == '*')
		return 2;
	return 0;
}

/* One template segment: 0 bad, 1 literal or one segment, 2 the rest. */
static int tmpl_seg(const __u8 *s, __u32 n)
{
	__u32 i;

	if (n == 1 && s[0] == '*')
		return 1;
	if (n == 2 && s[0] == '*' && s[1] == '*')
		return 2;
	if (n && s[0] == '{')
		return tmpl_var(s, n);
	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '{' || s[i] == '}')
			return 0;
	return 1;
}

static bool template_ok(const __u8 *p, __u32 n)
{
	__u32 i = 1, e;
	int kind;

	if (!path_ok(p, n))
		return false;
	while (i <= n) {
		for (e = i; e < n && p[e] != '/'; e++)
			;
		kind = tmpl_seg(p + i, e - i);
		if (!kind || (kind == 2 && e != n))
			return false;
		i = e + 1;
	}
	return true;
}

/* tchar, stored lower-case so that the matcher lowers one side only. */
static bool header_name_ok(const __u8 *p, __u32 n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	__u32 i;

	for (i = 0; i < n; i++)
		if (!is_lower_alnum(p[i]) &&
		    !memchr(extra, p[i], sizeof(extra) - 1))
			return false;
	return true;
}

/* A parsed value: VCHAR, SP, HTAB, obs-text; trimmed at both ends. */
static bool header_value_ok(const __u8 *p, __u32 n)
{
	__u32 i;

	if (n && (p[0] == ' ' || p[0] == '\t' ||
		  p[n - 1] == ' ' || p[n - 1] == '\t'))
		return false;
	for (i = 0; i < n; i++)
		if (!is_vchar(p[i]) && p[i] != ' ' && p[i] != '\t' &&
		    p[i] < 0x80)
			return false;
	return true;
}

/* Query bytes (VCHAR but '#'), without the separator @sep2 and '&'. */
static bool query_part_ok(const __u8 *p, __u32 n, __u8 sep2)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (!is_vchar(p[i]) || p[i] == '#' || p[i] == '&' ||
		    p[i] == sep2)
			return false;
	return true;
}

static int check_path_cond(struct vctx *v, const struct kmesh_rt_cond *c)
{
	const __u8 *p = v->str + c->value.off;
	int err;

	if (c->methods || !str_unused(c->name))
		return RTE(RESERVED);
	if (c->flags & ~(c->kind == KMESH_RT_M_PATH_PREFIX ?
			 KMESH_RT_CF_SEGMENT : 0))
		return RTE(COND_FLAGS);
	err = check_str(v, c->value, KMESH_RT_MAX_STR_LEN, false);
	if (err)
		return err;
	if (c->kind != KMESH_RT_M_PATH_TEMPLATE)
		return path_ok(p, c->value.len) ? 0 : RTE(BAD_PATH);
	v->scans++;
	return template_ok(p, c->value.len) ? 0 : RTE(BAD_TEMPLATE);
}

static int check_method_cond(const struct kmesh_rt_cond *c)
{
	if (c->flags)
		return RTE(COND_FLAGS);
	if (!str_unused(c->name) || !str_unused(c->value))
		return RTE(RESERVED);
	if (!c->methods || (c->methods & ~KMESH_RT_METHODS_ALL))
		return RTE(METHODS);
	return 0;
}

static int check_header_cond(const struct vctx *v,
			     const struct kmesh_rt_cond *c)
{
	bool has_value = c->kind == KMESH_RT_M_HEADER_EXACT ||
			 c->kind == KMESH_RT_M_HEADER_PREFIX;
	int err;

	if (c->flags)
		return RTE(COND_FLAGS);
	if (c->methods || (!has_value && !str_unused(c->value)))
		return RTE(RESERVED);
	err = check_str(v, c->name, KMESH_RT_MAX_NAME_LEN, false);
	if (err)
		return err;
	if (!header_name_ok(v->str + c->name.off, c->name.len))
		return RTE(BAD_NAME);
	if (!has_value)
		return 0;
	err = check_str(v, c->value, KMESH_RT_MAX_STR_LEN, true);
	if (err)
		return err;
	if (!header_value_ok(v->str + c->value.off, c->value.len))
		return RTE(BAD_VALUE);
	return 0;
}

static int check_query_cond(struct vctx *v, const struct kmesh_rt_cond *c)
{
	int err;

	if (c->flags)
		return RTE(COND_FLAGS);
	if (c->methods)
		return RTE(RESERVED);
	err = check_str(v, c->name, KMESH_RT_MAX_NAME_LEN, false);
	if (err)
		return err;
	if (!query_part_ok(v->str + c->name.off, c->name.len, '='))
		return RTE(BAD_NAME);
	err = check_str(v, c->value, KMESH_RT_MAX_STR_LEN, true);
	if (err)
		return err;
	if (!query_part_ok(v->str + c->value.off, c->value.len, '&'))
		return RTE(BAD_VALUE);
	v->scans++;
	return 0;
}

static int check_cond(struct vctx *v, const struct kmesh_rt_cond *c)
{
	if (c->reserved)
		return RTE(RESERVED);
	switch (c->kind) {
	case KMESH_RT_M_PATH_EXACT:
	case KMESH_RT_M_PATH_PREFIX:
	case KMESH_RT_M_PATH_TEMPLATE:
		return check_path_cond(v, c);
	case KMESH_RT_M_METHOD:
		return check_method_cond(c);
	case KMESH_RT_M_HEADER_EXACT:
	case KMESH_RT_M_HEADER_PREFIX:
	case KMESH_RT_M_HEADER_PRESENT:
	case KMESH_RT_M_HEADER_ABSENT:
		return check_header_cond(v, c);
	case KMESH_RT_M_QUERY_EXACT:
		return check_query_cond(v, c);
	}
	return RTE(COND_KIND);
}

static int check_block(struct vctx *v, const struct kmesh_rt_block *b)
{
	const struct kmesh_rt_cond *c;
	__u32 i;
	int err;

	if (!b->nr_conds)
		return RTE(EMPTY_BLOCK);
	if (b->nr_conds > KMESH_RT_MAX_CONDS)
		return RTE(TOO_MANY_CONDS);
	if (b->first_cond != v->next_cond)
		return RTE(COND_LINK);
	if (b->nr_conds > v->t->conds.count - v->next_cond)
		return RTE(COND_BOUNDS);
	c = (const void *)(v->base + v->t->conds.off);
	for (i = 0; i < b->nr_conds; i++) {
		err = check_cond(v, &c[v->next_cond + i]);
		if (err)
			return err;
	}
	v->next_cond += b->nr_conds;
	return 0;
}

static int check_match(struct vctx *v, const struct kmesh_rt_route *r)
{
	const struct kmesh_rt_block *b;
	__u32 i;
	int err;

	if (!r->nr_blocks)
		return RTE(NO_MATCH);
	if (r->nr_blocks > KMESH_RT_MAX_BLOCKS)
		return RTE(TOO_MANY_BLOCKS);
	if (r->first_block != v->next_block)
		return RTE(BLOCK_LINK);
	if (r->nr_blocks > v->t->blocks.count - v->next_block)
		return RTE(BLOCK_BOUNDS);
	b = (const void *)(v->base + v->t->blocks.off);
	for (i = 0; i < r->nr_blocks; i++) {
		err = check_block(v, &b[v->next_block + i]);
		if (err)
			return err;
	}
	v->next_block += r->nr_blocks;
	return 0;
}

static int check_split(struct vctx *v, const struct kmesh_rt_route *r)
{
	const struct kmesh_rt_cluster *c;
	__u64 total = 0;
	__u32 i;

	if (!r->nr_clusters)
		return RTE(NO_CLUSTERS);
	if (r->nr_clusters > KMESH_RT_MAX_SPLIT)
		return RTE(TOO_MANY_CLUSTERS);
	if (r->first_cluster != v->next_cluster)
		return RTE(CLUSTER_LINK);
	if (r->nr_clusters > v->t->clusters.count - v->next_cluster)
		return RTE(CLUSTER_BOUNDS);
	c = (const void *)(v->base + v->t->clusters.off);
	for (i = 0; i < r->nr_clusters; i++)
		total += c[v->next_cluster + i].weight;
	/* The pick multiplies a __u32 rand by the total in 64 bits. */
	if (!total || total > 0xffffffffULL)
		return RTE(WEIGHT);
	v->next_cluster += r->nr_clusters;
	return 0;
}

static int check_action(struct vctx *v, const struct kmesh_rt_route *r)
{
	bool no_split = !r->nr_clusters && !r->first_cluster;
	int err;

	switch (r->action) {
	case KMESH_RT_A_ROUTE:
		if (r->status || !str_unused(r->body))
			return RTE(RESERVED);
		return check_split(v, r);
	case KMESH_RT_A_DENY:
		if (!no_split || !str_unused(r->body))
			return RTE(RESERVED);
		return r->status >= 400 && r->status <= 599 ? 0 : RTE(STATUS);
	case KMESH_RT_A_DIRECT:
		if (!no_split)
			return RTE(RESERVED);
		err = check_str(v, r->body, 0xffffffffU, true);
		if (err)
			return err;
		if (r->body.len > KMESH_RT_MAX_BODY_LEN)
			return RTE(BODY_TOO_LONG);
		return r->status >= 200 && r->status <= 599 ? 0 : RTE(STATUS);
	}
	return RTE(ACTION);
}

static int check_route(struct vctx *v, const struct kmesh_rt_route *r)
{
	int err;

	if (r->reserved)
		return RTE(RESERVED);
	err = check_match(v, r);
	if (err)
		return err;
	return check_action(v, r);
}

static bool all_zero(const void *p, __u32 n)
{
	const __u8 *b = p;
	__u32 i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static int check_default(struct vctx *v)
{
	const struct kmesh_rt_route *r = &v->t->dflt;

	if (!(v->t->flags & KMESH_RT_F_DEFAULT))
		return all_zero(r, sizeof(*r)) ? 0 : RTE(RESERVED);
	if (r->reserved)
		return RTE(RESERVED);
	if (r->nr_blocks || r->first_block)
		return RTE(DEFAULT_MATCH);
	return check_action(v, r);
}

static int check_routes(struct vctx *v)
{
	const struct kmesh_rt_route *r;
	__u32 i;
	int err;

	r = (const void *)(v->base + v->t->routes.off);

	for (i = 0; i < v->t->routes.count; i++) {
		err = check_route(v, &r[i]);
		if (err)
			return err;
	}
	err = check_default(v);
	if (err)
		return err;
	if (v->scans > KMESH_RT_MAX_SCAN_CONDS)
		return RTE(TOO_MANY_SCANS);
	if (v->next_block != v->t->blocks.count ||
	    v->next_cond != v->t->conds.count ||
	    v->next_cluster != v->t->clusters.count)
		return RTE(UNREFERENCED);
	return 0;
}

int kmesh_route_validate(const void *blob, __u32 len)
{
	const struct kmesh_rt_table *t = blob;
	struct vctx v;
	int err;

	if (!blob)
		return RTE(INVAL);
	if ((unsigned long)blob & 3)
		return RTE(ALIGN);
	if (len < sizeof(*t))
		return RTE(TRUNCATED);
	if (len > KMESH_RT_MAX_BLOB_BYTES)
		return RTE(TOO_BIG);
	err = check_header(t, len);
	if (!err)
		err = check_sections(t, len);
	if (!err)
		err = check_counts(t);
	if (err)
		return err;
	v = (struct vctx) {
		.base = blob,
		.t = t,
		.str = (const __u8 *)blob + t->strings.off,
		.str_len = t->strings.count,
	};
	err = check_hosts(&v);
	if (err)
		return err;
	return check_routes(&v);
}

/* ---- matching ---- */

/* What the match uses of the request: read once, checked, then trusted. */
struct rq {
	const __u8 *host;
	const __u8 *path;	/* NULL: no path (CONNECT, OPTIONS *) */
	const __u8 *query;	/* NULL: no '?' */
	__u32 host_len;
	__u32 path_len;
	__u32 query_len;
	__u32 method;
	__u32 nr_hdrs;
	struct kmesh_http_hdr hdrs[KMESH_HTTP_MAX_HEADERS];
};

struct mctx {
	const __u8 *base;
	const struct kmesh_rt_table *t;
	const __u8 *str;
	const struct kmesh_rt_block *blocks;
	const struct kmesh_rt_cond *conds;
	const struct kmesh_rt_cluster *clusters;
	struct rq q;
};

static inline __u32 min_u32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

static inline struct kmesh_http_span load_span(const struct kmesh_http_span *s)
{
	return (struct kmesh_http_span){ .off = RD(s->off), .len = RD(s->len) };
}

static inline bool span_ok(struct kmesh_http_span s, __u32 head_len)
{
	return (__u32)s.off + s.len <= head_len;
}

static int load_headers(struct rq *q, const struct kmesh_http_req *req,
			__u32 head_len)
{
	__u32 i;

	q->nr_hdrs = RD(req->nr_headers);
	if (q->nr_hdrs > KMESH_HTTP_MAX_HEADERS)
		return RTE(REQ_CORRUPT);
	for (i = 0; i < q->nr_hdrs; i++) {
		q->hdrs[i].name = load_span(&req->hdrs[i].name);
		q->hdrs[i].value = load_span(&req->hdrs[i].value);
		if (!span_ok(q->hdrs[i].name, head_len) ||
		    !span_ok(q->hdrs[i].value, head_len))
			return RTE(REQ_CORRUPT);
	}
	return 0;
}

static int load_req(struct rq *q, const struct kmesh_http_req *req,
		    const __u8 *head, __u32 head_len)
{
	static const __u8 root[] = "/";
	struct kmesh_http_span host, path, query;
	__u8 form;

	if (RD(req->status) != KMESH_HTTP_OK)
		return RTE(REQ_STATUS);
	q->method = RD(req->method);
	form = RD(req->target_form);
	host = load_span(&req->host);
	path = load_span(&req->path);
	query = load_span(&req->query);
	if (q->method > KMESH_HTTP_M_OTHER || !span_ok(host, head_len) ||
	    !span_ok(path, head_len) || !span_ok(query, head_len))
		return RTE(REQ_CORRUPT);
	q->host = head + host.off;
	q->host_len = host.len;
	/* "example.com." names the same host as "example.com" */
	if (q->host_len && q->host[q->host_len - 1] == '.')
		q->host_len--;
	q->path = NULL;
	q->query = NULL;
	if (form == KMESH_HTTP_FORM_ORIGIN ||
	    form == KMESH_HTTP_FORM_ABSOLUTE) {
		q->path = path.len ? head + path.off : root;
		q->path_len = path.len ? path.len : 1;
		if (RD(req->flags) & KMESH_HTTP_F_HAS_QUERY) {
			q->query = head + query.off;
			q->query_len = query.len;
		}
	}
	return load_headers(q, req, head_len);
}

/* @lc is lower-case (validated); @p is as received. */
static bool eq_nocase(const __u8 *p, __u32 n, const __u8 *lc, __u32 lcn)
{
	__u32 i;

	if (n != lcn)
		return false;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != lc[i])
			return false;
	return true;
}

static bool host_match(const __u8 *pat, __u32 pn, const struct rq *q)
{
	if (!pn)
		return false;
	if (pat[0] != '*')
		return eq_nocase(q->host, q->host_len, pat, pn);
	if (pn == 1)
		return true;
	/* "*.suffix": compare ".suffix" with the end of a longer host */
	pat++;
	pn--;
	return q->host_len > pn &&
	       eq_nocase(q->host + q->host_len - pn, pn, pat, pn);
}

static bool vhost_match(const struct mctx *m)
{
	const struct kmesh_rt_str *h = (const void *)(m->base +
						      m->t->hosts.off);
	__u32 n = min_u32(m->t->hosts.count, KMESH_RT_MAX_HOSTS), i;

	for (i = 0; i < n; i++)
		if (host_match(m->str + h[i].off, h[i].len, &m->q))
			return true;
	return false;
}

static bool prefix_match(const struct rq *q, const __u8 *v, __u32 vn,
			 bool segment)
{
	if (!q->path || q->path_len < vn || memcmp(q->path, v, vn))
		return false;
	/* the prefix ends where the path does, or a '/' follows or ends it */
	return !segment || !vn || q->path_len == vn || v[vn - 1] == '/' ||
	       q->path[vn] == '/';
}

/* Bytes from @i to the next '/' or @n. */
static __u32 seg_len(const __u8 *p, __u32 i, __u32 n)
{
	const __u8 *e = memchr(p + i, '/', n - i);

	return e ? (__u32)(e - (p + i)) : n - i;
}

/* Validated segment: literal, one segment ("*", "{x}", "{x=*}") or rest. */
enum { SEG_LIT, SEG_ONE, SEG_REST };

static int seg_kind(const __u8 *s, __u32 n)
{
	if (!n || (s[0] != '*' && s[0] != '{'))
		return SEG_LIT;
	if ((n >= 2 && s[n - 1] == '*' && s[n - 2] == '*') ||
	    (n >= 3 && s[n - 1] == '}' && s[n - 2] == '*' && s[n - 3] == '*'))
		return SEG_REST;
	return SEG_ONE;
}

/*
 * One pass: each round takes "/segment" from both. Every path byte is
 * looked at once at most, so the cost is O(path + template).
 */
static bool template_match(const __u8 *t, __u32 tn, const __u8 *p, __u32 pn)
{
	__u32 ti = 0, pi = 0, tl, pl;
	int kind;

	while (ti < tn) {
		ti++;
		tl = seg_len(t, ti, tn);
		kind = seg_kind(t + ti, tl);
		if (kind == SEG_REST)
			return true;
		if (pi >= pn)
			return false;
		pi++;
		pl = seg_len(p, pi, pn);
		if (kind == SEG_ONE && !pl)
			return false;
		if (kind == SEG_LIT && (tl != pl || memcmp(t + ti, p + pi, tl)))
			return false;
		ti += tl;
		pi += pl;
	}
	return pi == pn;
}

/*
 * EXACT (@prefix false) or PREFIX against the values of every header
 * named @name joined with ',', compared as a stream: no copy.
 */
static bool header_values_match(const struct rq *q, const __u8 *name,
				__u32 nn, const __u8 *v, __u32 vn,
				const __u8 *head, bool prefix)
{
	bool seen = false;
	__u32 pos = 0, i, j;

	for (i = 0; i < q->nr_hdrs; i++) {
		const struct kmesh_http_span *hv = &q->hdrs[i].value;
		const __u8 *val = head + hv->off;

		if (!eq_nocase(head + q->hdrs[i].name.off, q->hdrs[i].name.len,
			       name, nn))
			continue;
		if (seen) {
			if (pos == vn)
				return prefix;
			if (v[pos++] != ',')
				return false;
		}
		seen = true;
		for (j = 0; j < hv->len; j++) {
			if (pos == vn)
				return prefix;
			if (val[j] != v[pos++])
				return false;
		}
	}
	return seen && pos == vn;
}

static bool header_present(const struct rq *q, const __u8 *name, __u32 nn,
			   const __u8 *head)
{
	__u32 i;

	for (i = 0; i < q->nr_hdrs; i++)
		if (eq_nocase(head + q->hdrs[i].name.off, q->hdrs[i].name.len,
			      name, nn))
			return true;
	return false;
}

static bool query_match(const struct rq *q, const __u8 *name, __u32 nn,
			const __u8 *v, __u32 vn)
{
	const __u8 *s = q->query, *eq;
	__u32 i = 0, pl, kl, n = q->query_len;

	if (!s)
		return false;
	while (i < n) {
		pl = n - i;
		eq = memchr(s + i, '&', pl);
		if (eq)
			pl = eq - (s + i);
		eq = memchr(s + i, '=', pl);
		kl = eq ? (__u32)(eq - (s + i)) : pl;
		if (kl == nn && !memcmp(s + i, name, nn)) {
			/* the first parameter with the name decides */
			kl += eq ? 1 : 0;
			return pl - kl == vn && !memcmp(s + i + kl, v, vn);
		}
		i += pl + 1;
	}
	return false;
}

static bool cond_match(const struct mctx *m, const struct kmesh_rt_cond *c,
		       const __u8 *head)
{
	const struct rq *q = &m->q;
	const __u8 *name = m->str + c->name.off, *v = m->str + c->value.off;
	__u32 nn = c->name.len, vn = c->value.len;

	switch (c->kind) {
	case KMESH_RT_M_PATH_EXACT:
		return q->path && q->path_len == vn && !memcmp(q->path, v, vn);
	case KMESH_RT_M_PATH_PREFIX:
		return prefix_match(q, v, vn, c->flags & KMESH_RT_CF_SEGMENT);
	case KMESH_RT_M_PATH_TEMPLATE:
		return q->path && template_match(v, vn, q->path, q->path_len);
	case KMESH_RT_M_METHOD:
		return c->methods & KMESH_RT_METHOD_BIT(q->method);
	case KMESH_RT_M_HEADER_EXACT:
	case KMESH_RT_M_HEADER_PREFIX:
		return header_values_match(q, name, nn, v, vn, head,
					   c->kind == KMESH_RT_M_HEADER_PREFIX);
	case KMESH_RT_M_HEADER_PRESENT:
		return header_present(q, name, nn, head);
	case KMESH_RT_M_HEADER_ABSENT:
		return !header_present(q, name, nn, head);
	case KMESH_RT_M_QUERY_EXACT:
		return query_match(q, name, nn, v, vn);
	}
	return false;
}

static bool route_match(const struct mctx *m, const struct kmesh_rt_route *r,
			const __u8 *head)
{
	__u32 nb = min_u32(r->nr_blocks, KMESH_RT_MAX_BLOCKS), i, j, nc;
	const struct kmesh_rt_block *b;
	const struct kmesh_rt_cond *c;

	for (i = 0; i < nb; i++) {
		b = &m->blocks[r->first_block + i];
		c = &m->conds[b->first_cond];
		nc = min_u32(b->nr_conds, KMESH_RT_MAX_CONDS);
		for (j = 0; j < nc && cond_match(m, &c[j], head); j++)
			;
		if (j == nc)
			return true;
	}
	return false;
}

/* Entry whose share of [0, 2^32) holds @rand; zero weights have none. */
static __u32 split_pick(const struct kmesh_rt_cluster *c, __u32 n, __u32 rand)
{
	__u64 total = 0;
	__u32 x, i;

	for (i = 0; i < n; i++)
		total += c[i].weight;
	x = (__u32)(((__u64)rand * total) >> 32);
	for (i = 0; i + 1 < n; i++) {
		if (x < c[i].weight)
			break;
		x -= c[i].weight;
	}
	return i;
}

static void take_route(const struct mctx *m, const struct kmesh_rt_route *r,
		       __u32 idx, __u32 rand, struct kmesh_route_verdict *out)
{
	const struct kmesh_rt_cluster *c;
	__u32 n;

	out->route_id = r->route_id;
	out->route_idx = idx;
	switch (r->action) {
	case KMESH_RT_A_ROUTE:
		c = &m->clusters[r->first_cluster];
		n = min_u32(r->nr_clusters, KMESH_RT_MAX_SPLIT);
		out->kind = KMESH_RT_V_ROUTE;
		out->split_idx = n ? split_pick(c, n, rand) : 0;
		out->cluster_id = n ? c[out->split_idx].cluster_id : 0;
		break;
	case KMESH_RT_A_DENY:
		out->kind = KMESH_RT_V_DENY;
		out->status = r->status;
		break;
	default:
		out->kind = KMESH_RT_V_DIRECT;
		out->status = r->status;
		out->body_off = m->t->strings.off + r->body.off;
		out->body_len = r->body.len;
		break;
	}
}

int kmesh_route_match(const void *blob, const struct kmesh_http_req *req,
		      const __u8 *head, __u32 head_len, __u32 rand,
		      struct kmesh_route_verdict *out)
{
	const struct kmesh_rt_route *routes;
	struct mctx m;
	__u32 n, i;
	int err;

	if (!out)
		return RTE(INVAL);
	memset(out, 0, sizeof(*out));
	if (!blob || !req || !head)
		return RTE(INVAL);
	m.base = blob;
	m.t = blob;
	if (m.t->magic != KMESH_RT_MAGIC)
		return RTE(MAGIC);
	err = load_req(&m.q, req, head, head_len);
	if (err)
		return err;
	m.str = m.base + m.t->strings.off;
	m.blocks = (const void *)(m.base + m.t->blocks.off);
	m.conds = (const void *)(m.base + m.t->conds.off);
	m.clusters = (const void *)(m.base + m.t->clusters.off);
	routes = (const void *)(m.base + m.t->routes.off);

	out->vhost_id = m.t->vhost_id;
	out->kind = KMESH_RT_V_NO_VHOST;
	if (!vhost_match(&m))
		return 0;
	n = min_u32(m.t->routes.count, KMESH_RT_MAX_ROUTES);
	for (i = 0; i < n; i++) {
		if (route_match(&m, &routes[i], head)) {
			take_route(&m, &routes[i], i, rand, out);
			return 0;
		}
	}
	out->kind = KMESH_RT_V_NO_ROUTE;
	if (m.t->flags & KMESH_RT_F_DEFAULT) {
		take_route(&m, &m.t->dflt, KMESH_RT_IDX_DEFAULT, rand, out);
		out->flags |= KMESH_RT_VF_DEFAULT;
	}
	return 0;
}

bool kmesh_route_keeps_cluster(const void *blob, struct kmesh_route_verdict *v,
			       __u32 cluster_id)
{
	const struct kmesh_rt_table *t = blob;
	const struct kmesh_rt_cluster *c;
	const struct kmesh_rt_route *r;
	__u32 idx = v->route_idx, n, i;

	if (v->kind != KMESH_RT_V_ROUTE || !cluster_id)
		return false;
	if (idx == KMESH_RT_IDX_DEFAULT) {
		if (!(t->flags & KMESH_RT_F_DEFAULT))
			return false;
		r = &t->dflt;
	} else if (idx < min_u32(t->routes.count, KMESH_RT_MAX_ROUTES)) {
		r = (const void *)((const __u8 *)blob + t->routes.off);
		r += idx;
	} else {
		return false;
	}
	if (r->action != KMESH_RT_A_ROUTE)
		return false;
	c = (const void *)((const __u8 *)blob + t->clusters.off);
	c += r->first_cluster;
	n = min_u32(r->nr_clusters, KMESH_RT_MAX_SPLIT);
	for (i = 0; i < n; i++) {
		if (c[i].cluster_id == cluster_id && c[i].weight) {
			v->split_idx = i;
			v->cluster_id = cluster_id;
			return true;
		}
	}
	return false;
}

static const char *const err_names[KMESH_RT_E_MAX] = {
	[KMESH_RT_OK] = "ok",
	[KMESH_RT_E_INVAL] = "invalid argument",
	[KMESH_RT_E_ALIGN] = "blob not 4-byte aligned",
	[KMESH_RT_E_TRUNCATED] = "blob shorter than its header",
	[KMESH_RT_E_TOO_BIG] = "blob over the size limit",
	[KMESH_RT_E_MAGIC] = "bad magic",
	[KMESH_RT_E_VERSION] = "ABI version or header size mismatch",
	[KMESH_RT_E_LENGTH] = "total_len is not the blob length",
	[KMESH_RT_E_FLAGS] = "unknown table flags",
	[KMESH_RT_E_RESERVED] = "reserved or unused field not zero",
	[KMESH_RT_E_SECT_ALIGN] = "section offset not 4-byte aligned",
	[KMESH_RT_E_SECT_BOUNDS] = "section past the end of the blob",
	[KMESH_RT_E_SECT_OVERLAP] = "sections overlap or are out of order",
	[KMESH_RT_E_SECT_GAP] = "slack bytes between or after sections",
	[KMESH_RT_E_NO_HOSTS] = "no hosts",
	[KMESH_RT_E_TOO_MANY_HOSTS] = "too many hosts",
	[KMESH_RT_E_NO_ROUTES] = "no routes",
	[KMESH_RT_E_TOO_MANY_ROUTES] = "too many routes",
	[KMESH_RT_E_STR_BOUNDS] = "string past the strings section",
	[KMESH_RT_E_STR_EMPTY] = "empty string where one is required",
	[KMESH_RT_E_STR_TOO_LONG] = "string too long",
	[KMESH_RT_E_BAD_HOST] = "bad host name",
	[KMESH_RT_E_NO_MATCH] = "route without match blocks",
	[KMESH_RT_E_DEFAULT_MATCH] = "default route with match blocks",
	[KMESH_RT_E_TOO_MANY_BLOCKS] = "too many match blocks in a route",
	[KMESH_RT_E_BLOCK_LINK] = "match blocks not contiguous in route order",
	[KMESH_RT_E_BLOCK_BOUNDS] = "match block index past the section",
	[KMESH_RT_E_EMPTY_BLOCK] = "match block without conditions",
	[KMESH_RT_E_TOO_MANY_CONDS] = "too many conditions in a match block",
	[KMESH_RT_E_TABLE_CONDS] = "too many conditions in the table",
	[KMESH_RT_E_COND_LINK] = "conditions not contiguous in block order",
	[KMESH_RT_E_COND_BOUNDS] = "condition index past the section",
	[KMESH_RT_E_COND_KIND] = "unknown match kind",
	[KMESH_RT_E_COND_FLAGS] = "condition flag not valid for its kind",
	[KMESH_RT_E_BAD_PATH] = "bad path pattern",
	[KMESH_RT_E_BAD_TEMPLATE] = "bad path template",
	[KMESH_RT_E_BAD_NAME] = "bad header or query parameter name",
	[KMESH_RT_E_BAD_VALUE] = "value no request can carry",
	[KMESH_RT_E_METHODS] = "empty or unknown method set",
	[KMESH_RT_E_TOO_MANY_SCANS] = "too many template and query conditions",
	[KMESH_RT_E_ACTION] = "unknown route action",
	[KMESH_RT_E_NO_CLUSTERS] = "route action without clusters",
	[KMESH_RT_E_TOO_MANY_CLUSTERS] = "too many clusters in a split",
	[KMESH_RT_E_CLUSTER_LINK] = "clusters not contiguous in route order",
	[KMESH_RT_E_CLUSTER_BOUNDS] = "cluster index past the section",
	[KMESH_RT_E_WEIGHT] = "split weights sum to 0 or over 2^32-1",
	[KMESH_RT_E_STATUS] = "status out of range for the action",
	[KMESH_RT_E_BODY_TOO_LONG] = "direct response body too long",
	[KMESH_RT_E_UNREFERENCED] = "records no route uses",
	[KMESH_RT_E_REQ_STATUS] = "request head not parsed",
	[KMESH_RT_E_REQ_CORRUPT] = "request result corrupt",
};

const char *kmesh_route_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= KMESH_RT_E_MAX || !err_names[err])
		return "unknown error";
	return err_names[err];
}

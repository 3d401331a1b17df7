/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-request evaluation of a struct kmesh_l7_policy (kmesh_maps.h) against
 * a parsed head: first a view of the request (path, lower-cased host, the
 * values of the headers conditions name, joined like the core's matcher,
 * path segments and query parameters when conditions need them, the CIDR
 * sets of the source and endpoint addresses), then items -> conditions ->
 * blocks -> rules. Semantics are kmod/core/route.h's for routes; hosts,
 * paths and header values of authorization use Istio's exact / prefix* /
 * *suffix / * forms. Loops are bounded by the limits of kmesh_maps.h; byte
 * loops run in bpf_loop callbacks so the verifier sees each once.
 */
#ifndef KMESH_L7_EVAL_H
#define KMESH_L7_EVAL_H

#include "l7_http.h"	/* first: kmesh_bpf.h brings the kernel types */
#include "kmesh_dev.h"

#define L7_STR_MASK	(KMESH_L7_STR_BYTES - 1)

/* Item results. */
enum { L7_NO = 0, L7_YES = 1, L7_UNDECIDABLE = 2 };

struct l7_eval_ctx {
	struct l7_scratch *sc;
	const struct kmesh_l7_policy *pol;
};

/* ---- the view ---- */

/* Value byte @i: from buf at cmp_a to the header slots at cmp_b. */
static long l7_view_copy(__u32 i, struct l7_eval_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	__u32 d;

	if (!sc)
		return 1;
	d = sc->cmp_b + i;
	if (d >= KMESH_L7_MAX_HDRS * KMESH_L7_HDR_VALUE)
		return 1;
	sc->view.hdr_val[0][d] = sc->buf[(sc->cmp_a + i) & L7_BUF_MASK];
	return 0;
}

/* Header @i of the request: append its value to every slot naming it. */
static long l7_view_header(__u32 i, struct l7_eval_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	const struct kmesh_l7_policy *pol = ctx->pol;
	const struct kmesh_http_hdr *h;
	struct l7_view *v;
	__u32 s, j, no, nl, vo, vl, kept;

	if (!sc || !pol)
		return 1;
	v = &sc->view;
	h = &sc->req.hdrs[i & (KMESH_HTTP_MAX_HEADERS - 1)];
	no = h->name.off;
	nl = h->name.len;
	vo = h->value.off;
	vl = h->value.len;
	for (s = 0; s < KMESH_L7_MAX_HDRS; s++) {
		if (s >= pol->nr_hdrs)
			break;
		if (pol->hdr_len[s] != nl)
			continue;
		for (j = 0; j < KMESH_L7_HDR_NAME; j++) {
			if (j >= nl)
				break;
			if (l7_lower(sc->buf[(no + j) & L7_BUF_MASK]) !=
			    (__u8)pol->hdr_name[s][j])
				break;
		}
		if (j < nl)
			continue;
		/* several lines: values joined with ',' */
		kept = v->hdr_len[s];
		if (v->hdr_seen[s]) {
			if (kept < KMESH_L7_HDR_VALUE)
				v->hdr_val[s][kept & (KMESH_L7_HDR_VALUE - 1)] = ',';
			kept++;
		}
		v->hdr_seen[s] = 1;
		if (kept < KMESH_L7_HDR_VALUE && vl) {
			j = KMESH_L7_HDR_VALUE - kept;
			if (j > vl)
				j = vl;
			/* bytes [vo, vo + j) to the slot at kept (l7_view_copy) */
			sc->cmp_a = vo;
			sc->cmp_b = s * KMESH_L7_HDR_VALUE + kept;
			bpf_loop(j, l7_view_copy, ctx, 0);
		}
		kept += vl;
		v->hdr_len[s] = kept > 0xffff ? 0xffff : (__u16)kept;
	}
	return 0;
}

/*
 * Path byte @i: where segments start (after each '/') and how long they
 * are, for the first KMESH_L7_TEMPLATE_SEGS; the count goes on to 255.
 */
static long l7_view_seg(__u32 i, struct l7_eval_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	struct l7_view *v;
	__u32 n;

	if (!sc)
		return 1;
	v = &sc->view;
	n = v->nr_segs;
	if (sc->buf[(v->path_off + i) & L7_BUF_MASK] != '/') {
		if (n >= 1 && n <= KMESH_L7_TEMPLATE_SEGS)
			v->seg_len[(n - 1) & 15]++;
		return 0;
	}
	if (n < KMESH_L7_TEMPLATE_SEGS)
		v->seg_off[n & 15] = (__u16)(v->path_off + i + 1);
	if (n < 255)
		v->nr_segs = n + 1;
	else
		v->segs_more = 1;
	return 0;
}

/* Query byte @i: split at '&', note name lengths (before the first '='). */
static long l7_view_param(__u32 i, struct l7_eval_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	struct l7_view *v;
	__u8 c;
	__u32 n;

	if (!sc)
		return 1;
	v = &sc->view;
	c = sc->buf[(v->query_off + i) & L7_BUF_MASK];
	n = v->nr_params;
	if (c == '&') {
		/* an empty parameter ("&&") is skipped: reuse its slot */
		if (n < KMESH_L7_QUERY_PARAMS && v->param_len[n & 31])
			v->nr_params = n + 1;
		else if (n >= KMESH_L7_QUERY_PARAMS)
			v->params_more = 1;
		if (v->nr_params < KMESH_L7_QUERY_PARAMS) {
			n = v->nr_params;
			v->param_off[n & 31] = (__u16)(v->query_off + i + 1);
			v->param_len[n & 31] = 0;
			v->param_name[n & 31] = 0xffff;
		}
		return 0;
	}
	if (n >= KMESH_L7_QUERY_PARAMS) {
		v->params_more = 1;
		return 0;
	}
	if (c == '=' && v->param_name[n & 31] == 0xffff)
		v->param_name[n & 31] = v->param_len[n & 31];
	v->param_len[n & 31]++;
	return 0;
}

/* Host byte @i, lower-cased (sc->wused: where the host starts). */
static long l7_view_host(__u32 i, struct l7_eval_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;

	if (!sc)
		return 1;
	sc->view.host[i & 255] = l7_lower(sc->buf[(sc->wused + i) & L7_BUF_MASK]);
	return 0;
}

/*
 * Build sc->view from the parsed head in sc->req and sc->buf. @pol may be
 * NULL (nothing to look at beyond path and host). A host longer than
 * KMESH_L7_MAX_HOST is not kept: conditions on it are undecidable, the
 * others still decide. Returns 0, or -1 without a scratch. Global, like
 * the other steps: verified once.
 */
__noinline int kmesh_l7_view(struct l7_scratch *sc,
			     const struct kmesh_l7_policy *pol, __u32 port)
{
	struct l7_eval_ctx ctx = { .sc = sc, .pol = pol };
	struct kmesh_http_req *req;
	struct l7_view *v;
	__u32 off, len, n;
	__u8 form;

	if (!sc)
		return -1;
	req = &sc->req;
	v = &sc->view;
	form = req->target_form;

	/* hdr_val and host (last) are read only within their lengths */
	L7_ZERO(v, sizeof(*v) - sizeof(v->hdr_val) - sizeof(v->host));
	v->method = req->method;
	v->port = port;
	if (form == KMESH_HTTP_FORM_ORIGIN || form == KMESH_HTTP_FORM_ABSOLUTE) {
		v->has_path = 1;
		v->path_off = req->path.off;
		v->path_len = req->path.len;
		if (!v->path_len) {	/* "http://host" means "/" */
			sc->buf[L7_ROOT_OFF] = '/';
			v->path_off = L7_ROOT_OFF;
			v->path_len = 1;
		}
		if (req->flags & KMESH_HTTP_F_HAS_QUERY) {
			v->has_query = 1;
			v->query_off = req->query.off;
			v->query_len = req->query.len;
		}
	}
	/* host: lower-case, one trailing dot dropped, as the matcher does */
	off = req->host.off;
	len = req->host.len;
	if (len && sc->buf[(off + len - 1) & L7_BUF_MASK] == '.')
		len--;
	if (len > KMESH_L7_MAX_HOST) {
		v->host_long = 1;
		len = 0;
	}
	v->host_len = (__u8)len;
	sc->wused = off;
	bpf_loop(len, l7_view_host, &ctx, 0);
	if (!pol)
		return 0;
	if (pol->nr_hdrs) {
		n = req->nr_headers;
		if (n > KMESH_HTTP_MAX_HEADERS)
			n = KMESH_HTTP_MAX_HEADERS;
		bpf_loop(n, l7_view_header, &ctx, 0);
	}
	if ((pol->flags & KMESH_L7_PF_TEMPLATES) && v->has_path)
		bpf_loop(v->path_len, l7_view_seg, &ctx, 0);
	if ((pol->flags & KMESH_L7_PF_QUERY) && v->has_query) {
		v->param_off[0] = (__u16)v->query_off;
		v->param_name[0] = 0xffff;
		bpf_loop(v->query_len, l7_view_param, &ctx, 0);
		n = v->nr_params;
		if (n < KMESH_L7_QUERY_PARAMS && v->param_len[n & 31])
			v->nr_params = n + 1;
	}
	return 0;
}

/* ---- comparisons (@n <= KMESH_L7_STR_MAX, checked by the callers) ---- */

#define L7_SC_OFF(field)	((__u32)__builtin_offsetof(struct l7_scratch, field))

/* Byte @i of the request bytes at sc + cmp_a against strings[cmp_b + i]. */
static long l7_eq_cb(__u32 i, struct l7_eval_ctx *ctx)
{
	const struct kmesh_l7_policy *pol = ctx->pol;
	struct l7_scratch *sc = ctx->sc;
	__u32 a;

	if (!sc || !pol)
		return 1;
	a = sc->cmp_a + i;
	if (a >= sizeof(*sc)) {
		sc->cmp_ne = 1;
		return 1;
	}
	if (((const __u8 *)sc)[a] !=
	    pol->strings[(sc->cmp_b + i) & L7_STR_MASK]) {
		sc->cmp_ne = 1;
		return 1;
	}
	return 0;
}

/*
 * Request bytes at scratch offset @a (in buf, view.host or view.hdr_val)
 * == policy strings[@b, @b + @n)? One loop callback, however many
 * conditions compare: the verifier sees it once.
 */
static __always_inline bool l7_eq(struct l7_scratch *sc,
				  const struct kmesh_l7_policy *pol, __u32 a,
				  __u32 b, __u32 n)
{
	struct l7_eval_ctx ctx = { .sc = sc, .pol = pol };

	if (n > KMESH_L7_STR_MAX)
		return false;
	sc->cmp_a = a;
	sc->cmp_b = b;
	sc->cmp_ne = 0;
	bpf_loop(n, l7_eq_cb, &ctx, 0);
	return !sc->cmp_ne;
}

static __always_inline bool l7_buf_eq(struct l7_scratch *sc, __u32 off,
				      const struct kmesh_l7_policy *pol,
				      __u32 soff, __u32 n)
{
	return l7_eq(sc, pol, L7_SC_OFF(buf) + (off & L7_BUF_MASK), soff, n);
}

static __always_inline bool l7_host_eq(struct l7_scratch *sc, __u32 off,
				       const struct kmesh_l7_policy *pol,
				       __u32 soff, __u32 n)
{
	return l7_eq(sc, pol, L7_SC_OFF(view.host) + (off & 255), soff, n);
}

static __always_inline bool l7_hdr_eq(struct l7_scratch *sc, __u32 slot,
				      __u32 off,
				      const struct kmesh_l7_policy *pol,
				      __u32 soff, __u32 n)
{
	return l7_eq(sc, pol, L7_SC_OFF(view.hdr_val) +
		     (slot & (KMESH_L7_MAX_HDRS - 1)) * KMESH_L7_HDR_VALUE +
		     (off & (KMESH_L7_HDR_VALUE - 1)), soff, n);
}

/* route.h's template semantics over the indexed path segments. */
static __always_inline int l7_template(struct l7_scratch *sc,
				       const struct kmesh_l7_policy *pol,
				       __u32 first, __u32 count)
{
	const struct l7_view *v = &sc->view;
	__u32 j, seg = 0, total = v->nr_segs;

	/*
	 * Decidable on any path: the first KMESH_L7_TEMPLATE_SEGS segments
	 * are indexed and a template has no more; a path with more than
	 * 255 segments (segs_more) cannot end where such a template does.
	 */
	for (j = 0; j < KMESH_L7_TEMPLATE_SEGS; j++) {
		const struct kmesh_l7_tseg *t;
		__u32 pl, po;

		if (j >= count)
			break;
		t = &pol->tsegs[(first + j) & (KMESH_L7_MAX_TSEGS - 1)];
		if (t->kind == KMESH_L7_TS_REST)
			return L7_YES;
		if (seg >= total)
			return L7_NO;
		pl = v->seg_len[seg & 15];
		po = v->seg_off[seg & 15];
		if (t->kind == KMESH_L7_TS_ONE) {
			if (!pl)
				return L7_NO;
		} else if (t->len != pl || pl > KMESH_L7_STR_MAX ||
			   !l7_buf_eq(sc, po, pol, t->off, pl)) {
			return L7_NO;
		}
		seg++;
	}
	return seg == total ? L7_YES : L7_NO;
}

/* The first parameter named like the item decides (route.h). */
static __always_inline int l7_query(struct l7_scratch *sc,
				    const struct kmesh_l7_policy *pol,
				    const struct kmesh_l7_item *it)
{
	const struct l7_view *v = &sc->view;
	__u32 p, nl, po, pl, eq, voff = it->arg >> 16, vlen = it->arg & 0xffff;

	if (!v->has_query || it->len > KMESH_L7_HDR_NAME ||
	    vlen > KMESH_L7_STR_MAX)
		return L7_NO;
	for (p = 0; p < KMESH_L7_QUERY_PARAMS; p++) {
		if (p >= v->nr_params)
			break;
		po = v->param_off[p & 31];
		pl = v->param_len[p & 31];
		nl = v->param_name[p & 31];
		eq = nl != 0xffff;
		if (!eq)
			nl = pl;
		if (nl != it->len || !l7_buf_eq(sc, po, pol, it->off, nl))
			continue;
		pl -= nl + eq;
		return pl == vlen && l7_buf_eq(sc, po + nl + eq, pol, voff, vlen) ?
		       L7_YES : L7_NO;
	}
	return v->params_more ? L7_UNDECIDABLE : L7_NO;
}

/*
 * One item. Kinds that compare bytes only work out where (@a, in the
 * scratch) and how many, and share one comparison at the end: each
 * l7_eq() site costs the verifier a pass over the compare callback.
 */
static __always_inline int l7_item(struct l7_scratch *sc,
				   const struct kmesh_l7_policy *pol,
				   const struct kmesh_l7_item *it)
{
	const struct l7_view *v = &sc->view;
	__u32 n = it->len, slot = it->hdr & (KMESH_L7_MAX_HDRS - 1), hl, a;

	if (n > KMESH_L7_STR_MAX)
		return L7_NO;
	switch (it->kind) {
	case KMESH_L7_I_HOST_EXACT:
	case KMESH_L7_I_HOST_PREFIX:
	case KMESH_L7_I_HOST_SUFFIX:
		if (v->host_long)
			return L7_UNDECIDABLE;
		break;
	}
	switch (it->kind) {
	case KMESH_L7_I_TRUE:
		return L7_YES;
	case KMESH_L7_I_METHOD:
		return (it->arg >> (v->method & 31)) & 1;
	case KMESH_L7_I_PATH_EXACT:
		if (!v->has_path || v->path_len != n)
			return L7_NO;
		a = L7_SC_OFF(buf) + (v->path_off & L7_BUF_MASK);
		break;
	case KMESH_L7_I_PATH_PREFIX:
		if (!v->has_path || v->path_len < n)
			return L7_NO;
		/* segment: the prefix ends at the path's end or a '/' */
		if ((it->flags & KMESH_L7_IF_SEGMENT) && n && v->path_len != n &&
		    pol->strings[(it->off + n - 1) & L7_STR_MASK] != '/' &&
		    sc->buf[(v->path_off + n) & L7_BUF_MASK] != '/')
			return L7_NO;
		a = L7_SC_OFF(buf) + (v->path_off & L7_BUF_MASK);
		break;
	case KMESH_L7_I_PATH_SUFFIX:
		if (!v->has_path || v->path_len < n)
			return L7_NO;
		a = L7_SC_OFF(buf) + ((v->path_off + v->path_len - n) & L7_BUF_MASK);
		break;
	case KMESH_L7_I_PATH_TEMPLATE:
		if (!v->has_path)
			return L7_NO;
		return l7_template(sc, pol, it->arg & 0xffff, it->arg >> 16);
	case KMESH_L7_I_HOST_EXACT:
		if (v->host_len != n)
			return L7_NO;
		a = L7_SC_OFF(view.host);
		break;
	case KMESH_L7_I_HOST_PREFIX:
		if (v->host_len < n)
			return L7_NO;
		a = L7_SC_OFF(view.host);
		break;
	case KMESH_L7_I_HOST_SUFFIX:
		if (v->host_len < n ||
		    ((it->flags & KMESH_L7_IF_LONGER) && v->host_len == n))
			return L7_NO;
		a = L7_SC_OFF(view.host) + ((v->host_len - n) & 255);
		break;
	case KMESH_L7_I_HDR_EXACT:
	case KMESH_L7_I_HDR_PREFIX:
	case KMESH_L7_I_HDR_SUFFIX:
		hl = v->hdr_len[slot];
		if (!v->hdr_seen[slot] || hl < n ||
		    (it->kind == KMESH_L7_I_HDR_EXACT && hl != n))
			return L7_NO;
		a = L7_SC_OFF(view.hdr_val) + slot * KMESH_L7_HDR_VALUE;
		if (it->kind == KMESH_L7_I_HDR_SUFFIX) {
			/* only the first KMESH_L7_HDR_VALUE bytes are kept */
			if (hl > KMESH_L7_HDR_VALUE)
				return L7_UNDECIDABLE;
			a += (hl - n) & (KMESH_L7_HDR_VALUE - 1);
		}
		break;
	case KMESH_L7_I_HDR_PRESENT:
		return v->hdr_seen[slot];
	case KMESH_L7_I_QUERY_EXACT:
		return l7_query(sc, pol, it);
	case KMESH_L7_I_SRC_SET:
		return (v->src_sets >> (it->arg & 63)) & 1;
	case KMESH_L7_I_DST_SET:
		return (v->dst_sets >> (it->arg & 63)) & 1;
	case KMESH_L7_I_PORT:
		return v->port == it->arg;
	default:
		return L7_NO;
	}
	return l7_eq(sc, pol, a, it->off, n) ? L7_YES : L7_NO;
}

static long l7_item_cb(__u32 i, struct l7_eval_ctx *ctx)
{
	const struct kmesh_l7_policy *pol = ctx->pol;
	struct l7_scratch *sc = ctx->sc;
	const struct kmesh_l7_item *it;
	int r;

	if (!sc || !pol)
		return 1;
	it = &pol->items[i & (KMESH_L7_MAX_ITEMS - 1)];
	r = l7_item(sc, pol, it);
	if (r == L7_YES)
		sc->hits |= 1ULL << (it->cond & 63);
	else if (r == L7_UNDECIDABLE && (it->flags & KMESH_L7_IF_ROUTE))
		sc->undec_conds |= 1ULL << (it->cond & 63);	/* see l7_undecided() */
	else if (r == L7_UNDECIDABLE)
		sc->undecidable = 1;
	return 0;
}

/* ---- the decision ---- */


/* Block @i: holds when every condition of its mask does. */
static long l7_block_cb(__u32 i, struct l7_eval_ctx *ctx)
{
	const struct kmesh_l7_policy *pol = ctx->pol;
	struct l7_scratch *sc = ctx->sc;
	__u64 m;

	if (!sc || !pol)
		return 1;
	m = pol->block_conds[i & (KMESH_L7_MAX_BLOCKS - 1)];
	if (m & sc->undec_conds) {
		if (((sc->conds | sc->undec_conds) & m) == m)
			sc->maybe_blocks |= 1ULL << (i & 63);
	} else if ((sc->conds & m) == m) {
		sc->blocks |= 1ULL << (i & 63);
	}
	return 0;
}

/* Rule @i: holds when any of its blocks does. */
static long l7_rule_cb(__u32 i, struct l7_eval_ctx *ctx)
{
	const struct kmesh_l7_policy *pol = ctx->pol;
	struct l7_scratch *sc = ctx->sc;
	const struct kmesh_l7_rule *ru;

	if (!sc || !pol)
		return 1;
	ru = &pol->rules[i & (KMESH_L7_MAX_RULES - 1)];
	if (!(ru->blocks & sc->blocks)) {
		if (ru->blocks & sc->maybe_blocks)
			sc->maybe_rules |= 1ULL << (i & 63);
		return 0;
	}
	sc->rules |= 1ULL << (i & 63);
	if (ru->kind == KMESH_L7_RK_DENY && !sc->deny_hit) {
		sc->deny_hit = 1;
		sc->deny_id = ru->id;
	} else if (ru->kind == KMESH_L7_RK_ALLOW) {
		sc->allow_hit = 1;
	}
	return 0;
}

/* Lowest set bit of a non-zero word: its index (binary search). */
static __always_inline __u32 l7_ffs64(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffULL)) { n += 32; x >>= 32; }
	if (!(x & 0xffffULL)) { n += 16; x >>= 16; }
	if (!(x & 0xffULL)) { n += 8; x >>= 8; }
	if (!(x & 0xfULL)) { n += 4; x >>= 4; }
	if (!(x & 0x3ULL)) { n += 2; x >>= 2; }
	if (!(x & 0x1ULL))
		n += 1;
	return n;
}

static __always_inline void l7_route_action(const struct kmesh_l7_rule *ru,
					    struct l7_decision *d)
{
	d->route_id = ru->id;
	d->route_known = 1;
	if (d->reason || ru->action == KMESH_RT_A_ROUTE)
		return;
	d->reason = ru->action == KMESH_RT_A_DENY ? KMESH_L7_R_ROUTE_DENY :
		    KMESH_L7_R_DIRECT;
	d->status = ru->status;
	d->pol_reply = 1;
	d->resp_off = ru->resp_off;
	d->resp_head = ru->resp_head;
	d->resp_len = ru->resp_len;
}

/*
 * A route condition that cannot be evaluated (a query over
 * KMESH_L7_QUERY_PARAMS parameters, a host over KMESH_L7_MAX_HOST bytes)
 * matters only when it could change the route: when it is the vhost's, or
 * belongs to a route before the first route that surely holds, or no
 * route surely holds. Then the request is undecidable: refused (true:
 * the decision is made), or, with failure_mode_allow, counted unchecked
 * and routed on what could be evaluated, as for authorization.
 */
static __always_inline bool l7_undecided(const struct kmesh_l7_policy *pol,
					 struct l7_decision *d)
{
	if (pol->flags & KMESH_L7_PF_FAIL_OPEN) {
		l7_global(KMESH_L7_G_UNCHECKED);
		return false;
	}
	if (!d->reason) {
		d->reason = KMESH_L7_R_UNDECIDABLE;
		d->status = 403;
		d->pol_reply = 1;
		d->resp_off = pol->deny_off;
		d->resp_head = pol->deny_head;
		d->resp_len = pol->deny_len;
	}
	return true;
}

/*
 * Evaluate @pol for the request in @sc (view built). @routes: evaluate the
 * routes too (fallback mode; kfunc mode asks the module's table). Fills
 * @d: authorization first (deny wins, then "an ALLOW policy exists and
 * none matched"), then routing.
 */
__noinline int kmesh_l7_decide(struct l7_scratch *sc,
			       const struct kmesh_l7_policy *pol,
			       __u32 routes, struct l7_decision *d)
{
	struct l7_eval_ctx ctx = { .sc = sc, .pol = pol };
	__u64 mask, maybe;
	__u32 n;

	if (!sc || !pol || !d)
		return -1;

	sc->hits = 0;
	sc->blocks = 0;
	sc->rules = 0;
	sc->undec_conds = 0;
	sc->maybe_blocks = 0;
	sc->maybe_rules = 0;
	sc->undecidable = 0;
	sc->deny_hit = 0;
	sc->allow_hit = 0;
	sc->deny_id = 0;
	n = routes ? pol->nr_items : pol->nr_authz_items;
	if (n > KMESH_L7_MAX_ITEMS)
		n = KMESH_L7_MAX_ITEMS;
	bpf_loop(n, l7_item_cb, &ctx, 0);
	/* an undecidable item does not matter when another one matched */
	sc->undec_conds &= ~sc->hits;
	sc->conds = sc->hits ^ pol->neg_conds;
	n = pol->nr_blocks;
	bpf_loop(n > KMESH_L7_MAX_BLOCKS ? KMESH_L7_MAX_BLOCKS : n, l7_block_cb,
		 &ctx, 0);
	n = pol->nr_rules;
	bpf_loop(n > KMESH_L7_MAX_RULES ? KMESH_L7_MAX_RULES : n, l7_rule_cb,
		 &ctx, 0);
	if (sc->undecidable && (pol->flags & KMESH_L7_PF_FAIL_OPEN)) {
		/* the operator chose to pass what kmesh cannot check */
		l7_global(KMESH_L7_G_UNCHECKED);
	} else if (sc->undecidable) {
		d->reason = KMESH_L7_R_UNDECIDABLE;
		d->status = 403;
	} else if (sc->deny_hit) {
		d->reason = KMESH_L7_R_DENY_POLICY;
		d->status = 403;
		d->policy_id = sc->deny_id;
	} else if ((pol->flags & KMESH_L7_PF_HAS_ALLOW) && !sc->allow_hit) {
		d->reason = KMESH_L7_R_NO_ALLOW;
		d->status = 403;
	}
	if (d->reason) {
		d->pol_reply = 1;
		d->resp_off = pol->deny_off;
		d->resp_head = pol->deny_head;
		d->resp_len = pol->deny_len;
	}
	if (!routes || !(pol->flags & KMESH_L7_PF_HAS_ROUTES))
		return 0;
	/* routing: the vhost, then the first route, then the default */
	if (!(pol->flags & KMESH_L7_PF_VHOST_ANY) &&
	    ((sc->undec_conds >> (pol->vhost_cond & 63)) & 1) &&
	    l7_undecided(pol, d))
		return 0;
	if (!(pol->flags & KMESH_L7_PF_VHOST_ANY) &&
	    !((sc->conds >> (pol->vhost_cond & 63)) & 1)) {
		if (!d->reason) {
			d->reason = KMESH_L7_R_NO_ROUTE;
			d->status = 404;
			d->pol_reply = 0;
		}
		return 0;
	}
	n = pol->nr_routes;
	mask = n >= 64 ? ~0ULL : (1ULL << n) - 1;
	/* maybe: routes before the first sure one (below its lowest bit) */
	maybe = sc->maybe_rules & mask;
	if (sc->rules & mask)
		maybe &= ((sc->rules & mask) & -(sc->rules & mask)) - 1;
	if (maybe && l7_undecided(pol, d))
		return 0;
	mask &= sc->rules;
	if (mask) {
		l7_route_action(&pol->rules[l7_ffs64(mask) & 63], d);
		return 0;
	}
	if (pol->flags & KMESH_L7_PF_DEFAULT) {
		l7_route_action(&pol->dflt, d);
		return 0;
	}
	if (!d->reason) {
		d->reason = KMESH_L7_R_NO_ROUTE;
		d->status = 404;
		d->pol_reply = 0;
	}
	return 0;
}

struct l7_find_ctx {
	const struct kmesh_l7_policy *pol;
	struct l7_scratch *sc;
	__u32 id;
};

static long l7_find_route_cb(__u32 i, struct l7_find_ctx *ctx)
{
	const struct kmesh_l7_policy *pol = ctx->pol;
	struct l7_scratch *sc = ctx->sc;

	if (!pol || !sc)
		return 1;
	if (pol->rules[i & (KMESH_L7_MAX_RULES - 1)].id != ctx->id)
		return 0;
	sc->found = i + 1;
	return 1;
}

/* kfunc mode: a route the module chose, as a decision (reply from @pol). */
static __always_inline void l7_take_route(struct l7_scratch *sc,
					  const struct kmesh_l7_policy *pol,
					  __u32 route_id, struct l7_decision *d)
{
	struct l7_find_ctx ctx = { .pol = pol, .sc = sc, .id = route_id };
	__u32 n = pol->nr_routes;

	if ((pol->flags & KMESH_L7_PF_DEFAULT) && pol->dflt.id == route_id) {
		l7_route_action(&pol->dflt, d);
		return;
	}
	sc->found = 0;
	bpf_loop(n > KMESH_L7_MAX_RULES ? KMESH_L7_MAX_RULES : n,
		 l7_find_route_cb, &ctx, 0);
	if (sc->found)
		l7_route_action(&pol->rules[(sc->found - 1) & 63], d);
	else {
		d->route_id = route_id;
		d->route_known = 1;
	}
}

/*
 * The request limit of route @route_id in @pol (routes[].http[].rate_limit)
 * into *@out: true, or false when the route has none. Both modes look it
 * up by the route id the decision names, whoever matched the route. A
 * copy into @out (the scratch): after the loop the verifier has one
 * state, not one per entry, and no call frame is added.
 */
static __always_inline bool l7_route_limit(const struct kmesh_l7_policy *pol,
					   __u32 route_id,
					   struct kmesh_ratelimit *out)
{
	__u32 i, n = pol->nr_route_limits;

	for (i = 0; i < KMESH_L7_MAX_ROUTE_LIMITS; i++) {
		if (i >= n)
			break;
		if (pol->route_limits[i].route_id == route_id) {
			*out = pol->route_limits[i].limit;
			return true;
		}
	}
	return false;
}

/*
 * kfunc mode: route the request in @sc with the module's table
 * @q->table_id (@q->rand and @q->stay_cluster set by the caller; the
 * verdict comes back in @q), after kmesh_l7_decide(..., routes = 0, @d).
 * No table answer (error, no vhost, no route) is a 404 unless
 * authorization refused first; a route takes its action from @pol, as in
 * fallback mode. Returns the kfunc's return value. sk_msg and the
 * conformance suite (selftests/conformance) both route through here.
 */
static __always_inline int l7_route_by_module(struct l7_scratch *sc,
					      const struct kmesh_l7_policy *pol,
					      struct kmesh_route_query *q,
					      struct l7_decision *d)
{
	int rc;

	rc = bpf_kmesh_route_match(&sc->req, sizeof(sc->req), sc->buf,
				   L7_BOUND(sc->len, KMESH_L7_MAX_HEAD * 2 - 1),
				   q);
	if (rc < 0 || q->verdict.kind == KMESH_RT_V_NO_VHOST ||
	    q->verdict.kind == KMESH_RT_V_NO_ROUTE) {
		if (!d->reason) {
			d->reason = KMESH_L7_R_NO_ROUTE;
			d->status = 404;
		}
	} else {
		l7_take_route(sc, pol, q->verdict.route_id, d);
	}
	return rc;
}

#endif /* KMESH_L7_EVAL_H */

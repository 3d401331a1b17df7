// SPDX-License-Identifier: GPL-2.0-only
/*
 * Route and policy conformance: the same mesh config, through both
 * compilers of userspace/lib/l7_build.c (the module's route table and the
 * eBPF policy), decided by
 *  - core:     kmesh_route_match() (kmod/core/route.c), here;
 *  - fallback: bpf/include/l7_eval.h, fallback mode, by BPF_PROG_TEST_RUN
 *              of selftests/progs/route_eval.bpf.c (the host's own kernel,
 *              or the VM's);
 *  - kfunc:    kfunc mode: authorization in eBPF, routes by the module's
 *              table through bpf_kmesh_route_match (only where the module
 *              is loaded: the VM lanes).
 * Requests are parsed once, by the core parser, and every implementation
 * decides on that parse: parsing has its own conformance vectors.
 *
 * The core has no authorization (the data path has one, in eBPF, for
 * both modes): its column takes authorization from a reference model of
 * docs/config.md's rules evaluated on the mesh model itself
 * (policy_model.c), so the compiler and the eBPF evaluation are both
 * checked. Compared in full: reason, status of kmesh's own reply, route,
 * cluster (and, core against kfunc, the whole route verdict byte for
 * byte), the policy that refused. The hand-written vectors (route_vectors.h) also
 * say what a user must see. Generated cases: random requests against
 * every table, and random tables (routes and authorization) with random
 * requests. A difference is a failure unless known_differences.h lists
 * it; a listed one that no longer shows is a failure too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "kmesh_dev.h"
#include "kmesh_maps.h"
#include "core/http1.h"
#include "core/route.h"
#include "l7_build.h"
#include "mesh_config.h"
#include "route_tables.h"
#include "route_eval.skel.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#include "known_differences.h"
#include "policy_model.h"
#include "route_vectors.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define TABLE_ID_BASE		7000	/* module table ids of this suite */
#define RANDOM_REQUESTS		64	/* per table */
#define RANDOM_TABLES		24
#define DEFAULT_SRC		"10.1.2.3"
#define DEFAULT_DST		"10.244.0.1"

/* One implementation's decision, in the terms a user sees. */
struct decision {
	int err;		/* the implementation could not decide */
	__u8 reason;		/* enum kmesh_l7_reason */
	__u16 status;
	__u32 route_id;		/* 0: no route */
	__u32 cluster_id;	/* 0: none (or not chosen per request) */
	__u32 policy_id;	/* 0: no policy refused */
};

struct table {
	const char *name;
	struct mesh_config cfg;
	__u32 cluster_ids[8];
	void *blob;		/* the module's table; NULL: no routes */
	__u32 len;
	__u32 table_id;		/* in the module, 0: not set */
	/* policy map entries: 0 full, 1 routes only (core comparison) */
	struct kmesh_l7_policy *pol[2];
	struct l7_cidrs cidrs;
};

struct suite {
	struct route_eval_bpf *skel;
	int dev_fd;		/* /dev/kmesh, -1: no kfunc column */
	int policy_fd;
	bool kfunc;
	bool diff_seen[ARRAY_SIZE(known_differences)];
	unsigned int compared, unknown, listed;
	unsigned int kinds[KMESH_L7_R_MAX];
	unsigned int took_default, split_beyond_first;	/* core verdicts */
	__u64 rng;
};

/* ---- differences ---- */

/* Refused by an authorization rule: the "policy" family. */
static bool authz_reason(__u8 r)
{
	return r == KMESH_L7_R_DENY_POLICY || r == KMESH_L7_R_NO_ALLOW;
}


/*
 * @impl's @field differs from the reference on vector @vec: listed (fine)
 * or not (a failure, with its values).
 */
static void differ(struct suite *s, const char *family, const char *vec,
		   const char *impl, const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_differences); i++) {
		const struct conformance_diff *d = &known_differences[i];

		if (!strcmp(d->family, family) && !strcmp(d->implementation, impl) &&
		    !strcmp(d->field, field) &&
		    (!strcmp(d->vector, "*") || !strcmp(d->vector, vec))) {
			s->diff_seen[i] = true;
			s->listed++;
			return;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->unknown++;
	tap_check(false, __FILE__, __LINE__, "%s %s: %s differs on %s: %s",
		  family, impl, field, vec, what);
}

/* What compare() looks at besides reason, status and route. */
#define CMP_CLUSTER	(1U << 0)	/* the cluster picked */
#define CMP_POLICY	(1U << 1)	/* the policy that refused */

/* Compare @got of @impl with @want (from @ref) field by field. */
static void compare(struct suite *s, const char *vec, const char *impl,
		    const char *ref, const struct decision *got,
		    const struct decision *want, unsigned int what)
{
	/*
	 * An undecidable refusal with the route agreed on came from an
	 * authorization condition; with the route lost, from a route one.
	 */
	bool undecided = (got->reason == KMESH_L7_R_UNDECIDABLE ||
			  want->reason == KMESH_L7_R_UNDECIDABLE) &&
			 got->route_id == want->route_id;
	const char *fam = authz_reason(got->reason) ||
			  authz_reason(want->reason) || undecided ?
			  "policy" : "route";

	s->compared++;
	if (got->err || want->err) {
		differ(s, fam, vec, impl, "error", "%s %d, %s %d", impl,
		       got->err, ref, want->err);
		return;
	}
	if (got->reason != want->reason)
		differ(s, fam, vec, impl, "reason", "%s %u, %s %u", impl,
		       got->reason, ref, want->reason);
	if (got->status != want->status)
		differ(s, fam, vec, impl, "status", "%s %u, %s %u", impl,
		       got->status, ref, want->status);
	if (got->route_id != want->route_id)
		differ(s, "route", vec, impl, "route", "%s %#x, %s %#x", impl,
		       got->route_id, ref, want->route_id);
	if ((what & CMP_CLUSTER) && got->cluster_id != want->cluster_id)
		differ(s, "route", vec, impl, "cluster", "%s %u, %s %u", impl,
		       got->cluster_id, ref, want->cluster_id);
	if ((what & CMP_POLICY) && got->policy_id != want->policy_id)
		differ(s, "policy", vec, impl, "policy", "%s %#x, %s %#x", impl,
		       got->policy_id, ref, want->policy_id);
}

/* ---- tables ---- */

/*
 * The parse compiled @t once with stand-in ids, and apply binds the real
 * ones: byte for byte a compile with those ids (other ids than the
 * suite's, so a stand-in left unbound shows).
 */
static int check_bound(const struct table *t)
{
	struct kmesh_l7_policy *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct l7_cidrs ca = {}, cb = {};
	struct l7_check_err ce;
	__u32 ids[ARRAY_SIZE(t->cluster_ids)], la = 0, lb = 0;
	void *ta = NULL, *tb = NULL;
	size_t i;
	int rc = -1;

	for (i = 0; i < ARRAY_SIZE(ids); i++)
		ids[i] = 900 + 7 * (__u32)i;
	if (!a || !b ||
	    l7_policy_of(&t->cfg, 0, 4242, a, &ca, &ce) ||
	    l7_table_of(&t->cfg, 0, 4242, ids, &ta, &la, &ce) ||
	    l7_build_policy(&t->cfg, 0, 4242, b, &cb, &ce) ||
	    l7_build_table(&t->cfg, 0, 4242, ids, &tb, &lb, &ce))
		goto out;
	if (memcmp(a, b, sizeof(*a)) || ca.n != cb.n ||
	    (ca.n && memcmp(ca.v, cb.v, ca.n * sizeof(*ca.v))) || la != lb ||
	    (la && memcmp(ta, tb, la))) {
		tap_check(false, __FILE__, __LINE__,
			  "table %s: the bound compile differs from a compile with the ids",
			  t->name);
		goto out;
	}
	rc = 0;
out:
	free(a);
	free(b);
	free(ta);
	free(tb);
	l7_cidrs_free(&ca);
	l7_cidrs_free(&cb);
	return rc;
}

static int table_load(struct table *t, const char *name, const char *yaml)
{
	struct mesh_config routes_only;
	struct l7_cidrs discard = {};
	struct l7_check_err ce;
	char text[16384], err[512];
	size_t i;
	int n;

	memset(t, 0, sizeof(*t));
	t->name = name;
	n = snprintf(text, sizeof(text), "%s%s", ROUTE_VEC_BASE, yaml);
	if (n >= (int)sizeof(text) ||
	    mesh_config_parse(name, text, (size_t)n, &t->cfg, err, sizeof(err))) {
		tap_diag("table %s: %s", name, err);
		return -1;
	}
	for (i = 0; i < t->cfg.nr_clusters && i < ARRAY_SIZE(t->cluster_ids); i++)
		t->cluster_ids[i] = (__u32)i + 1;
	t->pol[0] = calloc(1, sizeof(*t->pol[0]));
	t->pol[1] = calloc(1, sizeof(*t->pol[1]));
	if (!t->pol[0] || !t->pol[1])
		return -1;
	/* service 0 is svc, its id 1: what apply installs, the parse's compile */
	if (l7_policy_of(&t->cfg, 0, 1, t->pol[0], &t->cidrs, &ce) ||
	    l7_table_of(&t->cfg, 0, 1, t->cluster_ids, &t->blob, &t->len, &ce)) {
		tap_diag("table %s: %d: %s: %s", name, ce.line, ce.path, ce.msg);
		return -1;
	}
	if (check_bound(t))
		return -1;
	routes_only = t->cfg;
	routes_only.nr_authz = 0;
	if (l7_build_policy(&routes_only, 0, 1, t->pol[1], &discard, &ce)) {
		tap_diag("table %s, routes only: %s", name, ce.msg);
		return -1;
	}
	l7_cidrs_free(&discard);
	if (t->blob && kmesh_route_validate(t->blob, t->len)) {
		tap_diag("table %s: the blob does not validate", name);
		return -1;
	}
	return 0;
}

static void table_free(struct suite *s, struct table *t)
{
	if (t->table_id && s->dev_fd >= 0)
		kmesh_table_del(s->dev_fd, t->table_id);
	mesh_config_free(&t->cfg);
	l7_cidrs_free(&t->cidrs);
	free(t->blob);
	free(t->pol[0]);
	free(t->pol[1]);
}

/* Install @t for the BPF columns: its policies, its module table. */
static int table_install(struct suite *s, struct table *t, __u32 id)
{
	__u32 k;
	int ferr;

	for (k = 0; k < 2; k++)
		if (bpf_map_update_elem(s->policy_fd, &k, t->pol[k], 0)) {
			tap_diag("policy map: %s", strerror(errno));
			return -1;
		}
	if (s->kfunc && t->blob) {
		if (kmesh_table_set(s->dev_fd, id, t->blob, t->len, &ferr)) {
			tap_diag("table %s refused: %s", t->name,
				 kmesh_route_strerror(ferr));
			return -1;
		}
		t->table_id = id;
	}
	return 0;
}

/* The CIDR sets of @addr, as the LPM trie of the policy map answers. */
static __u64 sets_of(const struct table *t, __u32 dir, const char *addr)
{
	__u32 a[4];
	__u64 sets = 0;
	int best = -1;
	size_t i;

	if (mesh_addr_parse(addr, a))
		return 0;
	for (i = 0; i < t->cidrs.n; i++) {
		const struct kmesh_l7_cidr_key *k = &t->cidrs.v[i].key;
		int bits = (int)k->prefixlen - 64, b;
		const __u8 *x = (const __u8 *)k->addr, *y = (const __u8 *)a;

		if (ntohl(k->dir) != dir || ntohl(k->service_id) != 1 || bits <= best)
			continue;
		for (b = 0; b < bits; b++)
			if ((x[b / 8] ^ y[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == bits) {
			best = bits;
			sets = t->cidrs.v[i].sets;
		}
	}
	return sets;
}

/* ---- the three implementations ---- */

static int parse(const char *head, struct kmesh_http_req *req)
{
	kmesh_http1_init(req);
	return kmesh_http1_parse(req, (const __u8 *)head, strlen(head), NULL);
}

static struct decision core_decide(const struct table *t, const char *head,
				   const struct kmesh_http_req *req, __u32 rand,
				   struct kmesh_route_verdict *v)
{
	struct decision d = {};

	memset(v, 0, sizeof(*v));
	if (!t->blob)
		return d;	/* no routes: nothing to decide */
	d.err = kmesh_route_match(t->blob, req, (const __u8 *)head,
				  strlen(head), rand, v);
	switch (v->kind) {
	case KMESH_RT_V_NO_VHOST:
	case KMESH_RT_V_NO_ROUTE:
		d.reason = KMESH_L7_R_NO_ROUTE;
		d.status = 404;
		break;
	case KMESH_RT_V_ROUTE:
		d.route_id = v->route_id;
		d.cluster_id = v->cluster_id;
		break;
	case KMESH_RT_V_DENY:
	case KMESH_RT_V_DIRECT:
		d.reason = v->kind == KMESH_RT_V_DENY ? KMESH_L7_R_ROUTE_DENY :
			   KMESH_L7_R_DIRECT;
		d.status = v->status;
		d.route_id = v->route_id;
		break;
	}
	return d;
}

/*
 * Run @prog on @head (parsed into @req) with policy entry @idx; the
 * decision, with the module's verdict in @v for kfunc_decide.
 */
static struct decision bpf_decide(struct suite *s, const struct table *t,
				  struct bpf_program *prog, __u32 idx,
				  const char *head,
				  const struct kmesh_http_req *req, __u32 rand,
				  const char *src, struct kmesh_route_verdict *v)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct route_eval_bpf *k = s->skel;
	struct decision d = {};
	size_t n = strlen(head);

	memset(k->bss->head, 0, sizeof(k->bss->head));
	memcpy(k->bss->head, head, n);
	k->bss->head_len = (__u32)n;
	k->bss->req = *req;
	k->bss->port = 80;
	k->bss->policy_idx = idx;
	k->bss->src_sets = sets_of(t, KMESH_L7_DIR_SRC, src ? src : DEFAULT_SRC);
	k->bss->dst_sets = sets_of(t, KMESH_L7_DIR_DST, DEFAULT_DST);
	memset(&k->bss->query, 0, sizeof(k->bss->query));
	k->bss->query.table_id = t->table_id;
	k->bss->query.rand = rand;
	k->data->view_ret = 1;
	k->data->match_ret = 1;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		d.err = -errno;
		return d;
	}
	if (k->data->view_ret) {
		/* what sk_msg answers when it cannot build the view */
		d.reason = KMESH_L7_R_BAD_REQUEST;
		d.status = 400;
		return d;
	}
	d.reason = k->bss->reason;
	d.status = k->bss->status;
	d.route_id = k->bss->route_known ? k->bss->route_id : 0;
	d.policy_id = k->bss->policy_id;
	if (v) {
		*v = k->bss->query.verdict;
		if (k->bss->route_known && v->kind == KMESH_RT_V_ROUTE)
			d.cluster_id = v->cluster_id;
		if (k->data->match_ret != 1 && k->data->match_ret < 0 &&
		    k->data->match_ret != -ENOENT)
			d.err = k->data->match_ret;
	}
	return d;
}

/* ---- one request ---- */

/* What a user sees, from a hand-written vector. */
static struct decision expected(const struct table *t,
				const struct route_case_vec *c)
{
	struct decision d = { .reason = c->reason, .status = c->status };
	size_t i;

	if (c->route)
		d.route_id = mesh_l7_id("svc", c->route);
	if (c->policy) {
		char n[KMESH_NAME_MAX + 8];

		snprintf(n, sizeof(n), "authz/%s", c->policy);
		d.policy_id = mesh_l7_id("svc", n);
	}
	for (i = 0; c->cluster && i < t->cfg.nr_clusters; i++)
		if (!strcmp(t->cfg.clusters[i].name, c->cluster))
			d.cluster_id = t->cluster_ids[i];
	return d;
}

/*
 * Decide @head everywhere and compare. @want: a hand-written vector's
 * expectation, or NULL for a generated case (implementations against
 * each other). Returns false when the core parser refuses the head.
 */
static bool run_case(struct suite *s, const struct table *t, const char *vec,
		     const char *head, __u32 rand, const char *src,
		     const struct decision *want)
{
	struct kmesh_route_verdict cv, kv;
	struct kmesh_http_req req;
	struct decision core, core_routes, fb_routes, fb, kf;
	struct policy_verdict pm;

	if (strlen(head) > KMESH_L7_MAX_HEAD || parse(head, &req) != KMESH_HTTP_OK)
		return false;
	core = core_routes = core_decide(t, head, &req, rand, &cv);
	/* the core column's authorization: the reference model */
	pm = policy_model_decide(&t->cfg, 0, head, &req, src ? src : DEFAULT_SRC,
				 DEFAULT_DST, 80);
	if (pm.reason) {
		core.reason = pm.reason;
		core.status = 403;
		core.policy_id = pm.policy_id;
	}
	if (cv.flags & KMESH_RT_VF_DEFAULT)
		s->took_default++;
	if (cv.kind == KMESH_RT_V_ROUTE && cv.split_idx)
		s->split_beyond_first++;
	fb_routes = bpf_decide(s, t, s->skel->progs.fallback_decide, 1, head,
			       &req, rand, src, NULL);
	fb = bpf_decide(s, t, s->skel->progs.fallback_decide, 0, head, &req,
			rand, src, NULL);
	if (fb.reason < KMESH_L7_R_MAX)
		s->kinds[fb.reason]++;
	if (want) {
		compare(s, vec, "core", "vector", &core, want,
			CMP_CLUSTER | CMP_POLICY);
		compare(s, vec, "fallback", "vector", &fb, want,
			CMP_CLUSTER | CMP_POLICY);
	} else {
		compare(s, vec, "fallback", "core", &fb_routes, &core_routes,
			CMP_CLUSTER | CMP_POLICY);
		compare(s, vec, "fallback", "core", &fb, &core, CMP_POLICY);
	}
	if (!s->kfunc)
		return true;
	kf = bpf_decide(s, t, s->skel->progs.kfunc_decide, 0, head, &req, rand,
			src, &kv);
	if (want)
		compare(s, vec, "kfunc", "vector", &kf, want,
			CMP_CLUSTER | CMP_POLICY);
	else
		compare(s, vec, "kfunc", "fallback", &kf, &fb, CMP_POLICY);
	/* the module's verdict is the core's, byte for byte */
	if (t->blob && memcmp(&kv, &cv, sizeof(cv)))
		differ(s, "route", vec, "kfunc", "verdict",
		       "kind %u/%u route %#x/%#x cluster %u/%u split %u/%u status %u/%u flags %#x/%#x (kfunc/core)",
		       kv.kind, cv.kind, kv.route_id, cv.route_id, kv.cluster_id,
		       cv.cluster_id, kv.split_idx, cv.split_idx, kv.status,
		       cv.status, kv.flags, cv.flags);
	return true;
}

/* ---- generated requests ---- */

static __u32 rnd(struct suite *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (__u32)(s->rng >> 16);
}

#define PICK(s, a)	((a)[rnd(s) % ARRAY_SIZE(a)])

static const char *const gen_paths[] = {
	"/", "/a", "/ab", "/api", "/api/", "/api/v1", "/api/v1/items", "/apix",
	"/admin", "/admin/x", "/b", "/bxyz", "/c", "/c/", "/cx", "/d/", "/d/x",
	"/users/42/orders", "/users/42/orders/", "/users/7/x", "/static",
	"/static/a/b.css", "/health", "/p/q", "/m", "/x", "/x.php",
	"/private/k", "/q/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16",
	"/a%20b", "/api/a%2Fb", "/API", "/static/x/", "/users//orders",
	"/api/v1/items/", "/x/v1", "/x/v1/", "/admin.php",
};
static const char *const gen_queries[] = {
	"", "", "", "?debug=1", "?v=2&flag", "?debug", "?a&debug=1", "?",
	"?v=2&v=3", "?&&flag=&v=2", "?v=%32", "?debug=1&debug=2", "?=x&v=2",
	"?debug=", "?v=2+", "?flag=&&",
};
static const char *const gen_hosts[] = {
	"shop.example.com", "SHOP.Example.com.", "x.shop.internal:8080",
	"api.test", "evil.com", "a.b.example.com", "h", "only.test",
	"reviews.default.svc", "a.wild.test", "wild.test", "[::1]",
	"example.com", "API.TEST", "api.test.", "a.shop.internal.",
	"[::1]:8080", "SHOP.EXAMPLE.COM:80", "x.example.com",
};
static const char *const gen_headers[] = {
	"X-Canary: 1\r\n", "x-canary: 2\r\n", "x-env: prod\r\n",
	"X-Env: dev\r\n", "User-Agent: curl/8\r\n", "x-multi: 1\r\n",
	"x-multi: 2\r\n", "x-a: y\r\n", "x-b: \r\n", "x-user: bad-x\r\n",
	"x-user: evil\r\n", "X-Token: t\r\n", "x-team: a-ext\r\n",
	"Cookie: a=1\r\n", "X-CANARY:1\r\n", "x-canary: 1 \r\n",
	"x-multi: 1,2\r\n", "x-a:\r\n", "x-env: prod\r\n", "X-User: me-root\r\n",
	"x-token:\r\n",
};
static const char *const gen_methods[] = {
	"GET", "POST", "DELETE", "PUT", "HEAD", "PROPFIND", "PATCH", "MKCOL",
};
static const char *const gen_srcs[] = {
	"10.1.2.3", "10.9.1.1", "10.66.0.1", "192.168.0.1", "fd00::1",
};

static void gen_request(struct suite *s, char *buf, size_t size)
{
	size_t n;
	unsigned int i, nh;

	switch (rnd(s) % 16) {
	case 0:
		snprintf(buf, size, "GET http://%s%s%s HTTP/1.1\r\nHost: x\r\n\r\n",
			 PICK(s, gen_hosts), PICK(s, gen_paths), PICK(s, gen_queries));
		return;
	case 1:
		snprintf(buf, size, "CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n");
		return;
	case 2:
		snprintf(buf, size, "OPTIONS * HTTP/1.1\r\nHost: %s\r\n\r\n",
			 PICK(s, gen_hosts));
		return;
	}
	n = (size_t)snprintf(buf, size, "%s %s%s HTTP/1.1\r\nHost: %s\r\n",
			     PICK(s, gen_methods), PICK(s, gen_paths),
			     PICK(s, gen_queries), PICK(s, gen_hosts));
	nh = rnd(s) % 4;
	for (i = 0; i < nh && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s", PICK(s, gen_headers));
	if (n < size)
		snprintf(buf + n, size - n, "\r\n");
}

static unsigned int random_requests(struct suite *s, const struct table *t,
				    unsigned int count)
{
	static const __u32 rands[] = { 0, 0x7fffffff, 0x80000000, 0xffffffff };
	char head[1024], vec[96];
	unsigned int i, done = 0;

	for (i = 0; i < count; i++) {
		gen_request(s, head, sizeof(head));
		snprintf(vec, sizeof(vec), "%s/random-%u", t->name, i);
		done += run_case(s, t, vec, head,
				 i & 1 ? rnd(s) : PICK(s, rands),
				 PICK(s, gen_srcs), NULL);
	}
	return done;
}

/* ---- generated tables ---- */

static const char *const gen_uris[] = {
	"{exact: /}", "{exact: /api}", "{exact: /admin}", "{prefix: /}",
	"{prefix: /api}", "{prefix: /adm}", "{segment_prefix: /api}",
	"{segment_prefix: /static}", "{segment_prefix: /d/}",
	"{template: \"/users/{id}/orders\"}", "{template: \"/static/{f=**}\"}",
	"{template: \"/api/*/items\"}", "{template: \"/*/v1/**\"}",
	"{template: \"/{a}/{b}\"}",
};
static const char *const gen_hdr_conds[] = {
	"x-canary: {exact: \"1\"}", "x-env: {prefix: pro}",
	"user-agent: {prefix: curl/}", "x-multi: {exact: \"1,2\"}",
	"x-a: {present: true}", "x-b: {absent: true}", "cookie: {exact: a=1}",
	"x-canary: {prefix: \"\"}", "x-multi: {prefix: \"1,\"}",
	"x-a: {exact: \"\"}",
};
static const char *const gen_query_conds[] = {
	"debug: {exact: \"1\"}", "v: {exact: \"2\"}", "flag: {exact: \"\"}",
	"v: {exact: \"2+\"}", "debug: {exact: \"\"}",
};
static const char *const gen_authz_ops[] = {
	"{paths: [\"/admin*\"]}", "{paths: [\"*.php\", /x]}",
	"{methods: [GET, HEAD]}", "{not_methods: [DELETE]}",
	"{hosts: [\"*.example.com\"]}", "{not_hosts: [evil.com]}",
	"{hosts: [\"shop*\"], paths: [\"*\"]}", "{ports: [8080]}",
	"{hosts: [\"*.internal\", api.test]}", "{not_paths: [\"*\"]}",
	"{paths: [/api, \"/api/*\"], not_hosts: [\"*.com\"]}",
	"{not_paths: [\"/api*\"], methods: [POST]}",
};
static const char *const gen_authz_when[] = {
	"{key: \"request.headers[x-user]\", values: [evil, \"bad-*\"]}",
	"{key: \"request.headers[x-token]\", values: [\"*\"]}",
	"{key: \"request.headers[x-team]\", not_values: [\"*-ext\"]}",
	"{key: source.ip, values: [10.0.0.0/8]}",
	"{key: source.ip, not_values: [10.66.0.0/16]}",
	"{key: \"request.headers[x-user]\", values: [\"*-root\"]}",
	"{key: \"request.headers[x-multi]\", values: [\"1,2\", \"*,2\"]}",
	"{key: destination.port, not_values: [\"8080\"]}",
};
static const char *const gen_authz_from[] = {
	"{source: {ip_blocks: [10.9.0.0/16]}}",
	"{source: {not_ip_blocks: [\"10.66.0.0/16\", \"fd00::/8\"]}}",
};
static const char *const gen_vhosts[] = {
	"shop.example.com", "\"*.example.com\"", "api.test", "\"*.shop.internal\"",
	"h", "\"[::1]\"",
};
static const char *const gen_clusters[] = {
	"c-default", "c-api", "c-b", "c-canary", "c-orders", "c-static",
};

#define APPEND(...)	(n += (size_t)snprintf(y + n, size > n ? size - n : 0, __VA_ARGS__))

static void gen_action(struct suite *s, char *y, size_t size, size_t *np)
{
	size_t n = *np;
	unsigned int k, nd;

	switch (rnd(s) % 6) {
	case 0:
		APPEND("        deny: {status: %u}\n", rnd(s) & 1 ? 403 : 503);
		break;
	case 1:
		APPEND("        direct_response: {status: 200, body: \"ok\"}\n");
		break;
	default:
		nd = 1 + rnd(s) % 3;
		APPEND("        route:\n");
		for (k = 0; k < nd; k++)
			APPEND("          - {cluster: %s, weight: %u}\n",
			       gen_clusters[(k + rnd(s) % 2) % ARRAY_SIZE(gen_clusters)],
			       k ? rnd(s) % 50 : 1 + rnd(s) % 50);
		break;
	}
	*np = n;
}

/* A random table: routes (1-3 hosts, 1-8 routes of 1-3 entries) and/or policies. */
static void gen_table(struct suite *s, char *y, size_t size)
{
	size_t n = 0;
	unsigned int i, j, k, nr, nm, nc, seen, what = rnd(s) % 4;

	if (what != 3) {
		APPEND("routes:\n  - service: svc\n    hosts: [");
		nr = 1 + rnd(s) % 3;
		for (i = 0, seen = 0; i < nr; i++) {
			k = rnd(s) % ARRAY_SIZE(gen_vhosts);
			if (seen & (1U << k))
				continue;
			APPEND("%s%s", seen ? ", " : "", gen_vhosts[k]);
			seen |= 1U << k;
		}
		if (rnd(s) % 4 == 0)
			APPEND(", \"*\"");
		APPEND("]\n    http:\n");
		nr = 1 + rnd(s) % 8;
		for (i = 0; i < nr; i++) {
			APPEND("      - name: r%u\n        match:\n", i);
			nm = 1 + rnd(s) % 3;
			for (j = 0; j < nm; j++) {
				const char *sep = "          - ";

				nc = 1 + rnd(s) % 3;
				seen = 0;
				for (k = 0; k < nc; k++) {
					unsigned int kind = rnd(s) % 4;

					if (seen & (1U << kind))
						continue;
					seen |= 1U << kind;
					switch (kind) {
					case 0:
						APPEND("%suri: %s\n", sep, PICK(s, gen_uris));
						break;
					case 1:
						APPEND("%smethods: [%s, %s]\n", sep,
						       PICK(s, gen_methods), PICK(s, gen_methods));
						break;
					case 2:
						APPEND("%sheaders: {%s}\n", sep, PICK(s, gen_hdr_conds));
						break;
					default:
						APPEND("%squery_params: {%s}\n", sep,
						       PICK(s, gen_query_conds));
						break;
					}
					sep = "            ";
				}
			}
			gen_action(s, y, size, &n);
		}
		if (rnd(s) & 1) {
			APPEND("      - name: default\n");
			gen_action(s, y, size, &n);
		}
	}
	if (what == 0)
		return;
	APPEND("authorization:\n");
	nr = 1 + rnd(s) % 3;
	for (i = 0; i < nr; i++) {
		APPEND("  - name: p%u\n    service: svc\n    action: %s\n    rules:\n",
		       i, rnd(s) % 3 ? "DENY" : "ALLOW");
		nm = 1 + rnd(s) % 3;
		for (j = 0; j < nm; j++) {
			APPEND("      - to: [{operation: %s}]\n", PICK(s, gen_authz_ops));
			if (rnd(s) % 3 == 0)
				APPEND("        from: [%s]\n", PICK(s, gen_authz_from));
			if (rnd(s) % 3 == 0)
				APPEND("        when: [%s]\n", PICK(s, gen_authz_when));
		}
	}
}

/* The largest route list a service may have: 63 segment prefixes, a default. */
static void gen_big_table(char *y, size_t size)
{
	size_t n = 0;
	unsigned int i;

	APPEND("routes:\n  - service: svc\n    http:\n");
	for (i = 0; i < KMESH_L7_MAX_RULES - 1; i++)
		APPEND("      - name: r%u\n        match: [{uri: {segment_prefix: /r%u}}]\n"
		       "        route: [{cluster: %s}]\n", i, i,
		       gen_clusters[i % ARRAY_SIZE(gen_clusters)]);
	APPEND("      - name: default\n        deny: {status: 404}\n");
}

static unsigned int big_requests(struct suite *s, const struct table *t,
				 unsigned int count)
{
	char head[256], vec[64];
	unsigned int i, done = 0;

	for (i = 0; i < count; i++) {
		snprintf(head, sizeof(head), "GET /r%u%s HTTP/1.1\r\nHost: h\r\n\r\n",
			 rnd(s) % 80, rnd(s) & 1 ? "/x" : "");
		snprintf(vec, sizeof(vec), "%s/random-%u", t->name, i);
		done += run_case(s, t, vec, head, rnd(s), NULL, NULL);
	}
	return done;
}

/* ---- the area ---- */

static void check_listed(struct suite *s)
{
	size_t i;

	tap_begin("route/policy conformance: every listed difference still shows (else delete its row)");
	for (i = 0; i < ARRAY_SIZE(known_differences); i++) {
		const struct conformance_diff *d = &known_differences[i];

		if (strcmp(d->family, "route") && strcmp(d->family, "policy"))
			continue;
		if (!strcmp(d->implementation, "kfunc") && !s->kfunc)
			continue;
		if (!tap_check(s->diff_seen[i], __FILE__, __LINE__,
			       "listed %s difference (%s, %s, %s) no longer occurs",
			       d->family, d->vector, d->implementation, d->field))
			continue;
		tap_diag("listed: %s %s %s %s: %s", d->family, d->vector,
			 d->implementation, d->field, d->why);
	}
	tap_end();
}

static void run_vectors(struct suite *s)
{
	struct table t;
	char vec[128];
	size_t i, j;
	unsigned int cases = 0, random = 0, before = s->unknown;

	tap_begin("route/policy conformance: %zu tables x hand-written vectors and %u random requests each, core = fallback%s = expected",
		  ARRAY_SIZE(route_tables), RANDOM_REQUESTS,
		  s->kfunc ? " = kfunc" : "");
	for (i = 0; i < ARRAY_SIZE(route_tables); i++) {
		if (!EXPECT_EQ(table_load(&t, route_tables[i].name,
					  route_tables[i].yaml), 0) ||
		    !EXPECT_EQ(table_install(s, &t, TABLE_ID_BASE + (__u32)i), 0)) {
			table_free(s, &t);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(route_cases); j++) {
			const struct route_case_vec *c = &route_cases[j];
			struct decision want;

			if (strcmp(c->table, t.name))
				continue;
			want = expected(&t, c);
			snprintf(vec, sizeof(vec), "%s/%s", c->table, c->name);
			if (!tap_check(run_case(s, &t, vec, c->head, c->rand,
						c->src, &want),
				       __FILE__, __LINE__, "%s: the core parser refuses the head", vec))
				continue;
			cases++;
		}
		random += random_requests(s, &t, RANDOM_REQUESTS);
		table_free(s, &t);
	}
	EXPECT_EQ(cases, ARRAY_SIZE(route_cases));
	EXPECT(random > ARRAY_SIZE(route_tables) * RANDOM_REQUESTS * 3 / 4);
	tap_diag("%u vectors, %u random requests; %u unlisted differences",
		 cases, random, s->unknown - before);
	tap_end();
}

static void run_random_tables(struct suite *s)
{
	char yaml[12288], name[32];
	struct table t;
	unsigned int i, built = 0, requests = 0, before = s->unknown;
	unsigned int r;

	tap_begin("route/policy conformance: a 64-route table (63 and a default) and %u random tables (routes, authorization) x %u random requests, core = fallback%s",
		  RANDOM_TABLES, RANDOM_REQUESTS, s->kfunc ? " = kfunc" : "");
	memset(s->kinds, 0, sizeof(s->kinds));
	s->took_default = s->split_beyond_first = 0;
	gen_big_table(yaml, sizeof(yaml));
	if (EXPECT_EQ(table_load(&t, "64-routes", yaml), 0) &&
	    EXPECT_EQ(table_install(s, &t, TABLE_ID_BASE + 99), 0))
		requests += big_requests(s, &t, RANDOM_REQUESTS);
	table_free(s, &t);
	for (i = 0; i < RANDOM_TABLES; i++) {
		gen_table(s, yaml, sizeof(yaml));
		snprintf(name, sizeof(name), "random-%u", i);
		if (table_load(&t, name, yaml) ||
		    table_install(s, &t, TABLE_ID_BASE + 100 + i)) {
			tap_diag("%s not built (a generated config may break a limit):\n%s",
				 name, yaml);
			table_free(s, &t);
			continue;
		}
		built++;
		requests += random_requests(s, &t, RANDOM_REQUESTS);
		table_free(s, &t);
	}
	EXPECT(built >= RANDOM_TABLES * 3 / 4);
	/* the sample is worth something: these outcomes all came up */
	for (r = KMESH_L7_R_ALLOW; r <= KMESH_L7_R_NO_ROUTE; r++)
		if (!EXPECT(s->kinds[r]))
			tap_diag("no generated request got reason %u", r);
	EXPECT(s->took_default);
	EXPECT(s->split_beyond_first);
	tap_diag("%u tables, %u requests; %u unlisted differences", built,
		 requests, s->unknown - before);
	tap_end();
}

void test_route_policy(void)
{
	struct suite s = { .dev_fd = -1, .rng = 0x9e3779b97f4a7c15ULL };
	const char *seed = getenv("KMESH_CONFORMANCE_SEED");
	struct route_eval_bpf *skel;

	/* another sample of generated cases, to explore (reported, so a
	 * failure can be replayed) */
	if (seed && strtoull(seed, NULL, 0))
		s.rng = strtoull(seed, NULL, 0);
	tap_diag("route/policy conformance: generated cases from seed %#llx",
		 (unsigned long long)s.rng);

	tap_begin("route/policy conformance: the evaluation program loads");
	/* kfunc column: where the module is (the VM lanes), never on the host */
	if (vm_lane() && !kmesh_loaded())
		kmesh_modprobe(NULL);
	s.kfunc = kmesh_loaded();
	skel = route_eval_bpf__open();
	if (skel && !s.kfunc)
		bpf_program__set_autoload(skel->progs.kfunc_decide, false);
	bpf_log_capture_begin();
	if (skel && route_eval_bpf__load(skel)) {
		tap_diag("load failed:\n%s", bpf_log_capture_end());
		route_eval_bpf__destroy(skel);
		skel = NULL;
	} else {
		bpf_log_capture_end();
	}
	EXPECT(skel);
	if (s.kfunc) {
		s.dev_fd = kmesh_dev_open();
		if (!EXPECT(s.dev_fd >= 0))
			s.kfunc = false;
	}
	tap_end();
	if (!skel)
		return;
	s.skel = skel;
	s.policy_fd = bpf_map__fd(skel->maps.policy);
	tap_begin("route/policy conformance: the kfunc column (kfunc mode, bpf_kmesh_route_match) takes part");
	if (!s.kfunc)
		tap_skip("no kmesh module here: the VM lanes compare the kfunc");
	tap_end();
	run_vectors(&s);
	run_random_tables(&s);
	check_listed(&s);
	tap_diag("%u comparisons, %u listed differences seen, %u unlisted",
		 s.compared, s.listed, s.unknown);
	if (s.dev_fd >= 0)
		close(s.dev_fd);
	route_eval_bpf__destroy(skel);
}

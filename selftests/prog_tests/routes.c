// SPDX-License-Identifier: GPL-2.0-only
/*
 * Route tables: handed to the module through /dev/kmesh, matched by the
 * bpf_kmesh_route_match kfunc from a BPF program.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "kmesh_dev.h"
#include "core/http1.h"
#include "core/route.h"
#include "route_build.h"
#include "route_match.skel.h"
#include "route_tables.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define SHOP_TABLE 7

/* The shop's routes; @api_cluster lets a second version differ. */
static int build_shop(__u32 api_cluster, void **blob, __u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(SHOP_TABLE);
	int rc;

	kmesh_rtb_host(b, "shop.example.com");
	kmesh_rtb_host(b, "*.shop.internal");
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_prefix(b, "/api", true);
	kmesh_rtb_cluster(b, api_cluster, 90);
	kmesh_rtb_cluster(b, 11, 10);
	kmesh_rtb_route(b, 2);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, "X-Canary", "1");
	kmesh_rtb_match(b);
	kmesh_rtb_query(b, "debug", "1");
	kmesh_rtb_cluster(b, 12, 1);
	kmesh_rtb_route(b, 3);
	kmesh_rtb_path_exact(b, "/admin");
	kmesh_rtb_methods(b, kmesh_rtb_method_bit("DELETE"));
	kmesh_rtb_deny(b, 403);
	kmesh_rtb_route(b, 4);
	kmesh_rtb_path_template(b, "/users/{id}/orders");
	kmesh_rtb_cluster(b, 13, 1);
	kmesh_rtb_route(b, 5);
	kmesh_rtb_path_exact(b, "/health");
	kmesh_rtb_direct(b, 200, "ok\n", 3);
	kmesh_rtb_default_route(b, 99);
	kmesh_rtb_cluster(b, 14, 1);
	rc = kmesh_rtb_finish(b, blob, len);
	if (rc)
		tap_diag("route build: %s", kmesh_rtb_error(b));
	kmesh_rtb_free(b);
	return rc;
}

struct match_case {
	const char *head;
	__u32 rand;
	__u32 kind;
	__u32 route_id;
	__u32 cluster_id;
	__u16 status;
};

static int match(struct route_match_bpf *skel, __u32 table, const char *head,
		 __u32 rand)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memset(skel->bss->head, 0, sizeof(skel->bss->head));
	memcpy(skel->bss->head, head, strlen(head));
	skel->bss->head_len = strlen(head);
	memset(&skel->bss->query, 0, sizeof(skel->bss->query));
	skel->bss->query.table_id = table;
	skel->bss->query.rand = rand;
	skel->data->match_ret = 1;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.parse_and_match),
				   &opts))
		return -1000;
	if (skel->data->parse_ret != KMESH_HTTP_OK)
		return -2000 - skel->data->parse_ret;
	return skel->data->match_ret;
}

static void expect_cases(struct route_match_bpf *skel,
			 const struct match_case *c, size_t n)
{
	const struct kmesh_route_verdict *v = &skel->bss->query.verdict;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!EXPECT_EQ(match(skel, SHOP_TABLE, c[i].head, c[i].rand), 0) ||
		    !EXPECT_EQ(v->kind, c[i].kind) ||
		    !EXPECT_EQ(v->route_id, c[i].route_id) ||
		    !EXPECT_EQ(v->cluster_id, c[i].cluster_id) ||
		    !EXPECT_EQ(v->status, c[i].status))
			tap_diag("case %zu: %.40s", i, c[i].head);
	}
}

#define REQ(line, extra) line " HTTP/1.1\r\nHost: shop.example.com\r\n" extra "\r\n"

static const struct match_case shop_cases[] = {
	{ REQ("GET /api/v1/items", ""), 0, KMESH_RT_V_ROUTE, 1, 10, 0 },
	{ REQ("GET /api", ""), 0, KMESH_RT_V_ROUTE, 1, 10, 0 },
	{ REQ("GET /api/x", ""), 0xffffffff, KMESH_RT_V_ROUTE, 1, 11, 0 },
	{ REQ("GET /apix", ""), 0, KMESH_RT_V_ROUTE, 99, 14, 0 },
	{ REQ("GET /cart", "x-canary: 1\r\n"), 0, KMESH_RT_V_ROUTE, 2, 12, 0 },
	{ REQ("GET /cart?a=2&debug=1", ""), 0, KMESH_RT_V_ROUTE, 2, 12, 0 },
	{ REQ("GET /cart", "X-Canary: 2\r\n"), 0, KMESH_RT_V_ROUTE, 99, 14, 0 },
	{ REQ("DELETE /admin", ""), 0, KMESH_RT_V_DENY, 3, 0, 403 },
	{ REQ("GET /admin", ""), 0, KMESH_RT_V_ROUTE, 99, 14, 0 },
	{ REQ("GET /users/42/orders", ""), 0, KMESH_RT_V_ROUTE, 4, 13, 0 },
	{ REQ("GET /users/42/orders/x", ""), 0, KMESH_RT_V_ROUTE, 99, 14, 0 },
	{ REQ("GET /health", ""), 0, KMESH_RT_V_DIRECT, 5, 0, 200 },
	{ "GET /api HTTP/1.1\r\nHost: a.shop.internal:8080\r\n\r\n", 0,
	  KMESH_RT_V_ROUTE, 1, 10, 0 },
	{ "GET /api HTTP/1.1\r\nHost: SHOP.Example.COM\r\n\r\n", 0,
	  KMESH_RT_V_ROUTE, 1, 10, 0 },
	{ "GET /api HTTP/1.1\r\nHost: evil.example.com\r\n\r\n", 0,
	  KMESH_RT_V_NO_VHOST, 0, 0, 0 },
};

static struct route_match_bpf *load_skel(void)
{
	struct route_match_bpf *skel;

	bpf_log_capture_begin();
	skel = route_match_bpf__open_and_load();
	if (!skel)
		tap_diag("load failed:\n%s", bpf_log_capture_end());
	else
		bpf_log_capture_end();
	return skel;
}

static void test_set_and_match(int fd, struct route_match_bpf *skel)
{
	struct kmesh_table_info info = {};
	void *blob;
	__u32 len;
	int ferr;

	tap_begin("routes: /dev/kmesh takes a table and the kfunc matches against it");
	if (!EXPECT_EQ(build_shop(10, &blob, &len), 0))
		goto out;
	EXPECT_EQ(kmesh_table_set(fd, SHOP_TABLE, blob, len, &ferr), 0);
	free(blob);
	EXPECT_EQ(kmesh_table_info(fd, &info), 0);
	EXPECT_EQ(info.tables, 1);
	EXPECT(info.bytes >= len);
	expect_cases(skel, shop_cases, sizeof(shop_cases) / sizeof(shop_cases[0]));
out:
	tap_end();
}

static void test_replace(int fd, struct route_match_bpf *skel)
{
	static const struct match_case v2[] = {
		{ REQ("GET /api/v1/items", ""), 0, KMESH_RT_V_ROUTE, 1, 20, 0 },
	};
	void *blob, *back;
	__u32 len, back_len;
	int ferr;

	tap_begin("routes: replacing a table switches verdicts; it reads back byte for byte");
	if (!EXPECT_EQ(build_shop(20, &blob, &len), 0))
		goto out;
	EXPECT_EQ(kmesh_table_set(fd, SHOP_TABLE, blob, len, &ferr), 0);
	expect_cases(skel, v2, 1);
	back_len = len;
	back = calloc(1, len);
	EXPECT_EQ(kmesh_table_get(fd, SHOP_TABLE, back, &back_len), 0);
	EXPECT_EQ(back_len, len);
	EXPECT(!memcmp(back, blob, len));
	back_len = len - 1;
	EXPECT_EQ(kmesh_table_get(fd, SHOP_TABLE, back, &back_len), -ENOSPC);
	EXPECT_EQ(back_len, len);
	free(back);
	free(blob);
out:
	tap_end();
}

static void test_bad_table_keeps_old(int fd, struct route_match_bpf *skel)
{
	static const struct match_case v2[] = {
		{ REQ("GET /api/v1/items", ""), 0, KMESH_RT_V_ROUTE, 1, 20, 0 },
	};
	void *blob;
	__u32 len;
	int ferr = 0;

	tap_begin("routes: a malformed table is refused with its reason; the running one stays");
	if (!EXPECT_EQ(build_shop(30, &blob, &len), 0))
		goto out;
	/* Truncated: the header's length no longer matches. */
	EXPECT_EQ(kmesh_table_set(fd, SHOP_TABLE, blob, len - 8, &ferr), -EINVAL);
	EXPECT(ferr > 0);
	tap_diag("truncated table refused: %s", kmesh_route_strerror(ferr));
	/* Bad magic. */
	((unsigned char *)blob)[0] ^= 0xff;
	EXPECT_EQ(kmesh_table_set(fd, SHOP_TABLE, blob, len, &ferr), -EINVAL);
	EXPECT(ferr > 0);
	EXPECT_EQ(kmesh_table_set(fd, SHOP_TABLE, blob, 0, &ferr), -EMSGSIZE);
	free(blob);
	expect_cases(skel, v2, 1);
out:
	tap_end();
}

static void test_missing_table(struct route_match_bpf *skel)
{
	tap_begin("routes: matching against a table id nobody set gives -ENOENT");
	EXPECT_EQ(match(skel, 4242, REQ("GET /", ""), 0), -ENOENT);
	tap_end();
}

/*
 * The matcher's refusal of a request comes back in its own range
 * (kmesh_kfunc.h): not an errno, not a verdict, and the code inside says why.
 */
static void test_refusal_range(struct route_match_bpf *skel)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int ret;

	tap_begin("routes: a request result that is no parse result gets KMESH_KFUNC_ROUTE_ERR(REQ_STATUS), outside the errno range");
	memset(&skel->bss->query, 0, sizeof(skel->bss->query));
	skel->bss->query.table_id = SHOP_TABLE;
	skel->data->match_ret = 1;
	EXPECT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.match_unparsed),
					 &opts), 0);
	ret = skel->data->match_ret;
	EXPECT_EQ(ret, KMESH_KFUNC_ROUTE_ERR(KMESH_RT_E_REQ_STATUS));
	EXPECT(KMESH_KFUNC_IS_ROUTE_ERR(ret));
	EXPECT(ret < -KMESH_KFUNC_ERRNO_MAX);
	EXPECT_EQ(KMESH_KFUNC_ROUTE_CODE(ret), KMESH_RT_E_REQ_STATUS);
	/* the same request against no table: the errno, as before */
	skel->bss->query.table_id = 4242;
	EXPECT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.match_unparsed),
					 &opts), 0);
	EXPECT_EQ(skel->data->match_ret, -ENOENT);
	tap_end();
}

/* ---- kfunc verdicts against kmesh_route_match() run here ---- */

#define EQ_TABLE_BASE	5000	/* ids of the equivalence tables */
#define EQ_RANDOM	24	/* random tables */
#define EQ_REQUESTS	48	/* random requests per table, two rands each */

static __u32 eq_rng_state;

static __u32 eq_rng(void)
{
	eq_rng_state ^= eq_rng_state << 13;
	eq_rng_state ^= eq_rng_state >> 17;
	eq_rng_state ^= eq_rng_state << 5;
	return eq_rng_state;
}

#define PICK(a)	((a)[eq_rng() % (sizeof(a) / sizeof((a)[0]))])

static const char *const eq_hosts[] = {
	"shop.example.com", "*.example.com", "*", "api.internal",
	"*.internal", "a.b.example.com",
};
static const char *const eq_prefixes[] = {
	"/", "/api", "/api/v1", "/users", "/static", "/adm",
};
static const char *const eq_exact[] = {
	"/", "/api", "/admin", "/health", "/users/42/orders",
};
static const char *const eq_templates[] = {
	"/users/{id}/orders", "/static/{f=**}", "/api/*/items", "/*/v1/**",
	"/{a}/{b}",
};
static const char *const eq_hdr_names[] = {
	"x-canary", "X-Env", "user-agent", "cookie",
};
static const char *const eq_hdr_values[] = {
	"1", "prod", "curl/8", "a=1", "",
};
static const char *const eq_query[][2] = {
	{ "debug", "1" }, { "v", "2" }, { "a", "" }, { "debug", "0" },
};
static const char *const eq_methods[] = {
	"GET", "POST", "DELETE", "PUT", "HEAD", "PROPFIND", "PATCH",
};

/* One random condition into the current block. */
static void eq_cond(struct kmesh_rtb *b)
{
	int q;

	switch (eq_rng() % 8) {
	case 0: kmesh_rtb_path_prefix(b, PICK(eq_prefixes), eq_rng() & 1); break;
	case 1: kmesh_rtb_path_exact(b, PICK(eq_exact)); break;
	case 2: kmesh_rtb_path_template(b, PICK(eq_templates)); break;
	case 3: kmesh_rtb_methods(b, kmesh_rtb_method_bit(PICK(eq_methods)) |
				     kmesh_rtb_method_bit(PICK(eq_methods))); break;
	case 4: kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, PICK(eq_hdr_names),
				 PICK(eq_hdr_values)); break;
	case 5: kmesh_rtb_header(b, KMESH_RT_M_HEADER_PREFIX, PICK(eq_hdr_names),
				 PICK(eq_hdr_values)); break;
	case 6: kmesh_rtb_header(b, eq_rng() & 1 ? KMESH_RT_M_HEADER_PRESENT :
				 KMESH_RT_M_HEADER_ABSENT, PICK(eq_hdr_names), NULL);
		break;
	default:
		q = eq_rng() % 4;
		kmesh_rtb_query(b, eq_query[q][0], eq_query[q][1]);
		break;
	}
}

static void eq_action(struct kmesh_rtb *b, __u32 id)
{
	unsigned int k, n;

	switch (eq_rng() % 6) {
	case 0: kmesh_rtb_deny(b, eq_rng() & 1 ? 403 : 503); break;
	case 1: kmesh_rtb_direct(b, 200, "ok\n", 3); break;
	default:
		n = 1 + eq_rng() % 3;
		for (k = 0; k < n; k++)
			kmesh_rtb_cluster(b, 100 * id + k, k ? eq_rng() % 50 : 1 + eq_rng() % 50);
		break;
	}
}

/* A random table: 1-3 hosts, 1-10 routes of 1-3 blocks of 1-3 conditions. */
static int eq_build_random(__u32 vhost, void **blob, __u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(vhost);
	unsigned int h, r, k, c, nr_routes, nr_blocks, nr_conds, hosts, seen = 0;
	int rc;

	hosts = 1 + eq_rng() % 3;
	for (h = 0; h < hosts; h++) {
		k = eq_rng() % 6;
		if (!(seen & (1U << k)))
			kmesh_rtb_host(b, eq_hosts[k]);
		seen |= 1U << k;
	}
	nr_routes = 1 + eq_rng() % 10;
	for (r = 0; r < nr_routes; r++) {
		kmesh_rtb_route(b, r + 1);
		nr_blocks = 1 + eq_rng() % 3;
		for (k = 0; k < nr_blocks; k++) {
			if (k)
				kmesh_rtb_match(b);
			nr_conds = 1 + eq_rng() % 3;
			for (c = 0; c < nr_conds; c++)
				eq_cond(b);
		}
		eq_action(b, r + 1);
	}
	if (eq_rng() & 1) {
		kmesh_rtb_default_route(b, 99);
		eq_action(b, 99);
	}
	rc = kmesh_rtb_finish(b, blob, len);
	if (rc)
		tap_diag("random table %u not built: %s", vhost, kmesh_rtb_error(b));
	kmesh_rtb_free(b);
	return rc;
}

/* The ABI's largest route list: 256 segment prefixes, and a default. */
static int eq_build_big(__u32 vhost, void **blob, __u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(vhost);
	char path[32];
	unsigned int r;
	int rc;

	kmesh_rtb_host(b, "shop.example.com");
	for (r = 0; r < KMESH_RT_MAX_ROUTES; r++) {
		kmesh_rtb_route(b, r + 1);
		snprintf(path, sizeof(path), "/r%u", r);
		kmesh_rtb_path_prefix(b, path, true);
		kmesh_rtb_cluster(b, 1000 + r, 1);
	}
	kmesh_rtb_default_route(b, 99);
	kmesh_rtb_deny(b, 404);
	rc = kmesh_rtb_finish(b, blob, len);
	if (rc)
		tap_diag("256-route table not built: %s", kmesh_rtb_error(b));
	kmesh_rtb_free(b);
	return rc;
}

static size_t eq_request(char *buf, size_t size, bool big_table)
{
	static const char *const paths[] = {
		"/", "/api", "/api/", "/api/v1", "/api/v1/items", "/apix",
		"/users/42/orders", "/users//orders", "/users/42/orders/",
		"/static", "/static/a/b.css", "/admin", "/health", "/x/v1/y",
		"/a/b",
	};
	static const char *const queries[] = {
		"", "", "?debug=1", "?v=2&debug=0", "?debug", "?a&debug=1", "?",
	};
	static const char *const hosts[] = {
		"shop.example.com", "SHOP.Example.com.", "x.example.com:8080",
		"api.internal", "evil.com", "a.b.example.com", "svc.internal",
	};
	static const char *const headers[] = {
		"X-Canary: 1\r\n", "x-canary: 2\r\n", "x-env: prod\r\n",
		"X-Env: dev\r\n", "User-Agent: curl/8\r\n", "Cookie: a=1\r\n",
		"x-env: pro\r\n",
	};
	char path[32];
	size_t n;
	unsigned int i, nh;

	switch (eq_rng() % 16) {
	case 0:
		return snprintf(buf, size, "GET http://%s/api/v1?debug=1 HTTP/1.1\r\nHost: x\r\n\r\n",
				PICK(hosts));
	case 1:
		return snprintf(buf, size, "CONNECT api.internal:443 HTTP/1.1\r\nHost: api.internal:443\r\n\r\n");
	case 2:
		return snprintf(buf, size, "OPTIONS * HTTP/1.1\r\nHost: %s\r\n\r\n", PICK(hosts));
	}
	if (big_table)
		snprintf(path, sizeof(path), "/r%u%s", eq_rng() % 300,
			 eq_rng() & 1 ? "/x" : "");
	else
		snprintf(path, sizeof(path), "%s", PICK(paths));
	n = snprintf(buf, size, "%s %s%s HTTP/1.1\r\nHost: %s\r\n",
		     PICK(eq_methods), path, PICK(queries), PICK(hosts));
	nh = eq_rng() % 4;
	for (i = 0; i < nh; i++)
		n += snprintf(buf + n, size - n, "%s", PICK(headers));
	n += snprintf(buf + n, size - n, "\r\n");
	return n;
}

struct route_equiv {
	struct route_match_bpf *skel;
	struct kmesh_http1_limits lim;
	unsigned int tables, matches, mismatches;
	bool kinds[KMESH_RT_V_DIRECT + 1];
	bool took_default, split_beyond_first;
};

static unsigned int eq_param(const char *name)
{
	char path[128], text[32] = "";

	snprintf(path, sizeof(path), "/sys/module/kmesh/parameters/%s", name);
	if (read_text(path, text, sizeof(text)))
		return 0;
	return strtoul(text, NULL, 10);
}

/* One request against table @id: the kfunc's verdict and ours. */
static void eq_compare(struct route_equiv *e, __u32 id, const void *blob,
		       const char *head, __u32 rand)
{
	struct kmesh_route_verdict u = {};
	const struct kmesh_route_verdict *k = &e->skel->bss->query.verdict;
	struct kmesh_http_req req = {};
	size_t n = strlen(head);
	int kret, uret, pret;

	kret = match(e->skel, id, head, rand);
	pret = kmesh_http1_parse(&req, (const __u8 *)head, n, &e->lim);
	if (pret != KMESH_HTTP_OK)
		uret = -2000 - pret;
	else
		uret = kmesh_route_match(blob, &req, (const __u8 *)head, n,
					 rand, &u);
	e->matches++;
	if (kret == uret && (kret < -1000 || !memcmp(k, &u, sizeof(u)))) {
		if (!kret && k->kind <= KMESH_RT_V_DIRECT)
			e->kinds[k->kind] = true;
		if (!kret && (k->flags & KMESH_RT_VF_DEFAULT))
			e->took_default = true;
		if (!kret && k->kind == KMESH_RT_V_ROUTE && k->split_idx)
			e->split_beyond_first = true;
		return;
	}
	if (e->mismatches++ < 10)
		tap_diag("table %u, rand %#x: kfunc %d (kind %u route %u cluster %u), here %d (kind %u route %u cluster %u): %.60s",
			 id, rand, kret, k->kind, k->route_id, k->cluster_id,
			 uret, u.kind, u.route_id, u.cluster_id, head);
}

static void eq_table(struct route_equiv *e, int fd, __u32 id, void *blob,
		     __u32 len, bool big)
{
	static const __u32 rands[] = { 0, 0x7fffffff, 0x80000000, 0xffffffff };
	char head[512];
	unsigned int i;
	int ferr;

	if (!EXPECT_EQ(kmesh_table_set(fd, id, blob, len, &ferr), 0)) {
		tap_diag("table %u refused: %s", id, kmesh_route_strerror(ferr));
		return;
	}
	e->tables++;
	for (i = 0; i < EQ_REQUESTS; i++) {
		eq_request(head, sizeof(head), big);
		eq_compare(e, id, blob, head, PICK(rands));
		eq_compare(e, id, blob, head, eq_rng());
	}
}

static void test_equivalence(int fd, struct route_match_bpf *skel)
{
	struct route_equiv e = { .skel = skel };
	unsigned int t, k;
	void *blob;
	__u32 len;

	tap_begin("routes: kfunc verdict == userspace kmesh_route_match, byte for byte, on route_build tables (shop, 256 routes, %d random) x random requests and rands",
		  EQ_RANDOM);
	eq_rng_state = 0x9e3779b9;
	e.lim = (struct kmesh_http1_limits) {
		.max_head_bytes = eq_param("max_head_bytes"),
		.max_headers = eq_param("max_headers"),
	};
	if (EXPECT_EQ(build_shop(10, &blob, &len), 0)) {
		eq_table(&e, fd, EQ_TABLE_BASE, blob, len, false);
		for (k = 0; k < sizeof(shop_cases) / sizeof(shop_cases[0]); k++)
			eq_compare(&e, EQ_TABLE_BASE, blob, shop_cases[k].head,
				   shop_cases[k].rand);
		free(blob);
	}
	if (EXPECT_EQ(eq_build_big(EQ_TABLE_BASE + 1, &blob, &len), 0)) {
		eq_table(&e, fd, EQ_TABLE_BASE + 1, blob, len, true);
		free(blob);
	}
	for (t = 0; t < EQ_RANDOM; t++) {
		if (eq_build_random(EQ_TABLE_BASE + 2 + t, &blob, &len))
			continue;
		eq_table(&e, fd, EQ_TABLE_BASE + 2 + t, blob, len, false);
		free(blob);
	}
	EXPECT_EQ(e.mismatches, 0);
	EXPECT(e.tables >= EQ_RANDOM / 2 + 2);
	/* The sample is worth something: every verdict kind came up. */
	for (k = KMESH_RT_V_NO_VHOST; k <= KMESH_RT_V_DIRECT; k++)
		if (!EXPECT(e.kinds[k]))
			tap_diag("no request got verdict kind %u", k);
	EXPECT(e.took_default);
	EXPECT(e.split_beyond_first);
	tap_diag("%u tables, %u requests matched, %u mismatches",
		 e.tables, e.matches, e.mismatches);
	for (t = 0; t < EQ_RANDOM + 2; t++)
		kmesh_table_del(fd, EQ_TABLE_BASE + t);
	tap_end();
}

static int set_param(const char *name, unsigned int v)
{
	return run_cmd(NULL, 0, "echo %u > /sys/module/kmesh/parameters/%s",
		       v, name);
}

static void test_limits(int fd)
{
	struct kmesh_table_info info = {};
	void *blob;
	__u32 len, id;
	int ferr, rc = 0;

	tap_begin("routes: max_tables and max_table_kbytes refuse more, keeping what is there");
	if (!EXPECT_EQ(build_shop(10, &blob, &len), 0))
		goto out;
	EXPECT_EQ(set_param("max_tables", 3), 0);
	EXPECT_EQ(kmesh_table_set(fd, 100, blob, len, &ferr), 0);
	EXPECT_EQ(kmesh_table_set(fd, 101, blob, len, &ferr), 0);
	EXPECT_EQ(kmesh_table_set(fd, 102, blob, len, &ferr), -ENOSPC);
	/* Replacing an existing table is not a new one. */
	EXPECT_EQ(kmesh_table_set(fd, 101, blob, len, &ferr), 0);
	EXPECT_EQ(set_param("max_tables", 16384), 0);

	EXPECT_EQ(set_param("max_table_kbytes", 64), 0);
	for (id = 200; id < 1200 && !rc; id++)
		rc = kmesh_table_set(fd, id, blob, len, &ferr);
	EXPECT_EQ(rc, -ENOSPC);
	EXPECT_EQ(kmesh_table_info(fd, &info), 0);
	EXPECT(info.bytes <= 64 * 1024);
	EXPECT(info.bytes + len + 64 > 64 * 1024);
	tap_diag("%u tables of %u bytes fill 64 KiB (%llu bytes held)",
		 info.tables, len, (unsigned long long)info.bytes);
	EXPECT_EQ(set_param("max_table_kbytes", 65536), 0);
	while (--id >= 100)
		kmesh_table_del(fd, id);
	EXPECT_EQ(kmesh_table_del(fd, 100), -ENOENT);
	EXPECT_EQ(kmesh_table_info(fd, &info), 0);
	EXPECT_EQ(info.tables, 1);
	free(blob);
out:
	tap_end();
}

void test_routes(void)
{
	struct route_match_bpf *skel;
	int fd;

	/* Run alone (vmtest.sh -- routes), the area loads the module itself. */
	if (!kmesh_loaded())
		kmesh_modprobe(NULL);
	tap_begin("routes: /dev/kmesh opens and the match program loads");
	fd = kmesh_dev_open();
	EXPECT(fd >= 0);
	skel = load_skel();
	EXPECT(skel);
	tap_end();
	if (fd < 0 || !skel) {
		route_match_bpf__destroy(skel);
		return;
	}
	test_set_and_match(fd, skel);
	test_replace(fd, skel);
	test_bad_table_keeps_old(fd, skel);
	test_missing_table(skel);
	test_refusal_range(skel);
	test_equivalence(fd, skel);
	test_limits(fd);
	kmesh_table_del(fd, SHOP_TABLE);
	route_match_bpf__destroy(skel);
	close(fd);
}

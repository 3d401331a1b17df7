// SPDX-License-Identifier: GPL-2.0-only
/*
 * Route tables: handed to the module through /dev/kmesh, matched by the
 * bpf_kmesh_route_match kfunc from a BPF program. That the kfunc decides
 * as the core does, on tables compiled from mesh configs and random
 * requests, is the route/policy conformance suite's job
 * (selftests/conformance/route_conformance.c).
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
	test_limits(fd);
	kmesh_table_del(fd, SHOP_TABLE);
	route_match_bpf__destroy(skel);
	close(fd);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the route matcher (kmod/core/route.c) and the table
 * builder (userspace/lib/route_build.c).
 *
 * Requests are real heads run through the HTTP parser, tables are built
 * with the builder (and every blob it finishes must validate). Hostile
 * tables are made by decoding a valid blob into plain arrays, breaking one
 * thing, and encoding it again with the canonical layout, so each one
 * breaks exactly the rule it is named after.
 *
 * With KMESH_ROUTE_CORPUS=DIR set, also writes fuzz seeds (see
 * selftests/fuzz/fuzz_route.c for their format) into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "route.h"
#include "route_build.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define RT_E(x)		(-KMESH_RT_E_##x)
#define BIT(m)		KMESH_RT_METHOD_BIT(KMESH_HTTP_M_##m)

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* Finish @b (which must succeed), check the blob validates, free @b. */
static void *finish(struct kmesh_rtb *b, __u32 *len)
{
	void *blob = NULL;
	int rc;

	*len = 0;
	rc = kmesh_rtb_finish(b, &blob, len);
	if (!EXPECT_EQ(rc, 0))
		tap_diag("builder: %s", kmesh_rtb_error(b));
	kmesh_rtb_free(b);
	if (blob && !EXPECT_EQ(kmesh_route_validate(blob, *len), 0))
		tap_diag("validate: %s",
			 kmesh_route_strerror(kmesh_route_validate(blob, *len)));
	return blob;
}

/* ---- requests ---- */

/*
 * Parse @head (an exact-size heap copy, so ASan sees any overread) and
 * match it. Returns the match's return value; a head that does not parse
 * fails the test.
 */
static int match_rand(const void *blob, const char *head, __u32 rand,
		      struct kmesh_route_verdict *v)
{
	size_t n = strlen(head);
	struct kmesh_http_req req;
	__u8 *buf = xmalloc(n);
	int rc;

	memcpy(buf, head, n);
	kmesh_http1_init(&req);
	rc = kmesh_http1_parse(&req, buf, n, NULL);
	if (!EXPECT_EQ(rc, KMESH_HTTP_OK))
		tap_diag("parse \"%s\": %s", head, kmesh_http1_strstatus(rc));
	rc = kmesh_route_match(blob, &req, buf, n, rand, v);
	free(buf);
	return rc;
}

static struct kmesh_route_verdict match(const void *blob, const char *head)
{
	struct kmesh_route_verdict v;

	EXPECT_EQ(match_rand(blob, head, 0, &v), 0);
	return v;
}

/* "GET /x HTTP/1.1\r\nHost: h\r\n" + @extra + "\r\n" in a small ring. */
static const char *rq(const char *method, const char *target,
		      const char *host, const char *extra)
{
	static char ring[8][2048];
	static int k;
	char *o = ring[k++ % 8];

	snprintf(o, sizeof(ring[0]), "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
		 method, target, host, extra ? extra : "");
	return o;
}

/* Route id the request is sent to, or -(verdict kind) without a route. */
static long route_of(const void *blob, const char *head)
{
	struct kmesh_route_verdict v = match(blob, head);

	if (v.kind == KMESH_RT_V_ROUTE || v.kind == KMESH_RT_V_DENY ||
	    v.kind == KMESH_RT_V_DIRECT)
		return v.route_id;
	return -(long)v.kind;
}

#define NO_VHOST	(-(long)KMESH_RT_V_NO_VHOST)
#define NO_ROUTE	(-(long)KMESH_RT_V_NO_ROUTE)

/* Expect @target on host "h" to take route @want (or NO_ROUTE). */
#define EXPECT_PATH(blob, target, want) ({				\
	long __r = route_of(blob, rq("GET", target, "h", NULL));	\
	tap_check(__r == (want), __FILE__, __LINE__,			\
		  "%s: got %ld, want %ld", target, __r, (long)(want));	\
})

/* A table on host "h" whose only route (id 1) has one condition. */
#define ONE_COND_TABLE(call) ({						\
	struct kmesh_rtb *__b = kmesh_rtb_new(1);			\
	__u32 __len;							\
	kmesh_rtb_host(__b, "h");					\
	kmesh_rtb_route(__b, 1);					\
	call;								\
	kmesh_rtb_cluster(__b, 1, 1);					\
	finish(__b, &__len);						\
})

/* ---- matching ---- */

static void test_hosts(void)
{
	struct kmesh_rtb *b = kmesh_rtb_new(7);
	struct kmesh_route_verdict v;
	void *t;
	__u32 len;

	tap_begin("route: hosts, wildcards, case, port, trailing dot");
	kmesh_rtb_host(b, "Reviews.Default.svc");	/* stored lower-case */
	kmesh_rtb_host(b, "*.wild.test");
	kmesh_rtb_host(b, "[::1]");
	kmesh_rtb_host(b, "dot.test.");			/* dot dropped */
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_prefix(b, "/", false);
	kmesh_rtb_cluster(b, 1, 1);
	t = finish(b, &len);

	v = match(t, rq("GET", "/", "reviews.default.svc", NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_ROUTE);
	EXPECT_EQ(v.vhost_id, 7);
	EXPECT_EQ(route_of(t, rq("GET", "/", "REVIEWS.default.SVC", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "reviews.default.svc:9080", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "reviews.default.svc.", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "reviews.default", NULL)), NO_VHOST);
	EXPECT_EQ(route_of(t, rq("GET", "/", "xreviews.default.svc", NULL)), NO_VHOST);
	EXPECT_EQ(route_of(t, rq("GET", "/", "a.wild.test", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "a.b.WILD.test:80", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "wild.test", NULL)), NO_VHOST);
	EXPECT_EQ(route_of(t, rq("GET", "/", "awild.test", NULL)), NO_VHOST);
	EXPECT_EQ(route_of(t, rq("GET", "/", ".wild.test", NULL)), NO_VHOST);
	EXPECT_EQ(route_of(t, rq("GET", "/", "[::1]:8080", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "[::2]", NULL)), NO_VHOST);
	EXPECT_EQ(route_of(t, rq("GET", "/", "dot.test", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "", NULL)), NO_VHOST);
	/* the target's authority is the routing host (RFC 9112 3.2.2) */
	EXPECT_EQ(route_of(t, rq("GET", "http://a.wild.test/", "other", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "http://other/", "a.wild.test", NULL)),
		  NO_VHOST);
	v = match(t, rq("GET", "/", "nope", NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_NO_VHOST);
	EXPECT_EQ(v.vhost_id, 7);
	free(t);

	/* "*" takes any host, even none (HTTP/1.0 without Host) */
	b = kmesh_rtb_new(8);
	kmesh_rtb_host(b, "*");
	kmesh_rtb_route(b, 2);
	kmesh_rtb_path_prefix(b, "/", false);
	kmesh_rtb_deny(b, 403);
	t = finish(b, &len);
	EXPECT_EQ(route_of(t, rq("GET", "/", "anything.at.all", NULL)), 2);
	EXPECT_EQ(route_of(t, rq("GET", "/", "", NULL)), 2);
	EXPECT_EQ(route_of(t, "GET / HTTP/1.0\r\n\r\n"), 2);
	free(t);
	tap_end();
}

static void test_path_exact_prefix(void)
{
	void *t;

	tap_begin("route: path exact and byte prefix, case-sensitive, no query");
	t = ONE_COND_TABLE(kmesh_rtb_path_exact(__b, "/a/b"));
	EXPECT_PATH(t, "/a/b", 1);
	EXPECT_PATH(t, "/a/b?x=1", 1);
	EXPECT_PATH(t, "/a/b/", NO_ROUTE);
	EXPECT_PATH(t, "/a", NO_ROUTE);
	EXPECT_PATH(t, "/A/b", NO_ROUTE);
	EXPECT_PATH(t, "/a/b%2C", NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_path_prefix(__b, "/api", false));
	EXPECT_PATH(t, "/api", 1);
	EXPECT_PATH(t, "/apix", 1);	/* Istio "prefix" is a byte prefix */
	EXPECT_PATH(t, "/api/v1?x", 1);
	EXPECT_PATH(t, "/ap", NO_ROUTE);
	EXPECT_PATH(t, "/API", NO_ROUTE);
	EXPECT_PATH(t, "/x/api", NO_ROUTE);	/* not a substring search */
	free(t);

	/* absolute-form without a path is "/" */
	t = ONE_COND_TABLE(kmesh_rtb_path_exact(__b, "/"));
	EXPECT_EQ(route_of(t, rq("GET", "http://h", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "http://h?q=1", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "http://h/", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "http://h/x", "h", NULL)), NO_ROUTE);
	/* CONNECT and OPTIONS * have no path */
	EXPECT_EQ(route_of(t, rq("CONNECT", "h:443", "h", NULL)), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("OPTIONS", "*", "h", NULL)), NO_ROUTE);
	free(t);
	tap_end();
}

static void test_path_segment_prefix(void)
{
	void *t;

	tap_begin("route: segment-aware prefix");
	t = ONE_COND_TABLE(kmesh_rtb_path_prefix(__b, "/api", true));
	EXPECT_PATH(t, "/api", 1);
	EXPECT_PATH(t, "/api/", 1);
	EXPECT_PATH(t, "/api/x", 1);
	EXPECT_PATH(t, "/api?q", 1);
	EXPECT_PATH(t, "/api/x/y?z=1", 1);
	EXPECT_PATH(t, "/apix", NO_ROUTE);
	EXPECT_PATH(t, "/api.json", NO_ROUTE);
	EXPECT_PATH(t, "/ap", NO_ROUTE);
	EXPECT_PATH(t, "/", NO_ROUTE);
	free(t);

	/* a prefix ending in '/' already ends at a boundary */
	t = ONE_COND_TABLE(kmesh_rtb_path_prefix(__b, "/api/", true));
	EXPECT_PATH(t, "/api/", 1);
	EXPECT_PATH(t, "/api/x", 1);
	EXPECT_PATH(t, "/api", NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_path_prefix(__b, "/", true));
	EXPECT_PATH(t, "/", 1);
	EXPECT_PATH(t, "/anything/at/all", 1);
	free(t);
	tap_end();
}

static void test_path_template(void)
{
	void *t;

	tap_begin("route: path templates");
	t = ONE_COND_TABLE(kmesh_rtb_path_template(__b, "/users/{id}/orders"));
	EXPECT_PATH(t, "/users/42/orders", 1);
	EXPECT_PATH(t, "/users/a%20b/orders?x=1", 1);
	EXPECT_PATH(t, "/users/42/orders/", NO_ROUTE);
	EXPECT_PATH(t, "/users/42/43/orders", NO_ROUTE);
	EXPECT_PATH(t, "/users/42", NO_ROUTE);
	EXPECT_PATH(t, "/users/42/Orders", NO_ROUTE);
	EXPECT_PATH(t, "/users", NO_ROUTE);
	EXPECT_PATH(t, "/", NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_path_template(__b, "/*/x/{v=*}"));
	EXPECT_PATH(t, "/a/x/b", 1);
	EXPECT_PATH(t, "/a/x/", NO_ROUTE);
	EXPECT_PATH(t, "/a/y/b", NO_ROUTE);
	EXPECT_PATH(t, "/a/x/b/c", NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_path_template(__b, "/static/{f=**}"));
	EXPECT_PATH(t, "/static", 1);
	EXPECT_PATH(t, "/static/", 1);
	EXPECT_PATH(t, "/static/a", 1);
	EXPECT_PATH(t, "/static/a/b/c.css?v=2", 1);
	EXPECT_PATH(t, "/staticx", NO_ROUTE);
	EXPECT_PATH(t, "/stat", NO_ROUTE);
	EXPECT_PATH(t, "/", NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_path_template(__b, "/{a}/**"));
	EXPECT_PATH(t, "/x", 1);
	EXPECT_PATH(t, "/x/y/z", 1);
	EXPECT_PATH(t, "/", NO_ROUTE);
	free(t);

	/* without wildcards a template is an exact path */
	t = ONE_COND_TABLE(kmesh_rtb_path_template(__b, "/"));
	EXPECT_PATH(t, "/", 1);
	EXPECT_PATH(t, "/a", NO_ROUTE);
	free(t);
	tap_end();
}

static void test_methods(void)
{
	void *t;

	tap_begin("route: method sets, OTHER");
	t = ONE_COND_TABLE(kmesh_rtb_methods(__b, BIT(GET) | BIT(HEAD) |
						   BIT(OTHER)));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("HEAD", "/", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("PURGE", "/", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("POST", "/", "h", NULL)), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("DELETE", "/", "h", NULL)), NO_ROUTE);
	free(t);

	EXPECT_EQ(kmesh_rtb_method_bit("GET"), BIT(GET));
	EXPECT_EQ(kmesh_rtb_method_bit("PATCH"), BIT(PATCH));
	EXPECT_EQ(kmesh_rtb_method_bit("PURGE"), BIT(OTHER));
	EXPECT_EQ(kmesh_rtb_method_bit("get"), BIT(OTHER));
	EXPECT_EQ(kmesh_rtb_method_bit("G T"), 0);
	EXPECT_EQ(kmesh_rtb_method_bit(""), 0);
	EXPECT_EQ(KMESH_RT_METHODS_ALL, 0x7fe);
	tap_end();
}

static void test_headers(void)
{
	void *t;

	tap_begin("route: headers exact, prefix, present, absent; case rules");
	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_EXACT,
					    "X-User", "Alice"));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-user: Alice\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "X-USER:  Alice \r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-user: alice\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-user: Alicex\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-user: Alic\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-users: Alice\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", NULL)), NO_ROUTE);
	/* several lines are their values joined with ',' (as Envoy) */
	EXPECT_EQ(route_of(t, rq("GET", "/", "h",
				 "x-user: Alice\r\nx-user: Bob\r\n")), NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_EXACT,
					    "x-a", "1,2"));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-a: 1\r\nx-b: 0\r\nX-A: 2\r\n")),
		  1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-a: 1,2\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-a: 1\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-a: 1\r\nx-a: 2\r\nx-a: 3\r\n")),
		  NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_EXACT,
					    "x-e", ""));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-e:\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-e: v\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", NULL)), NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_PREFIX,
					    "user-agent", "curl/"));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "User-Agent: curl/8.1\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "User-Agent: curl/\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "User-Agent: Curl/8\r\n")),
		  NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "User-Agent: cur\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h",
				 "user-agent: cu\r\nuser-agent: rl/\r\n")),
		  NO_ROUTE);	/* "cu,rl/" */
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_PRESENT,
					    "X-Debug", NULL));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-debug:\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "X-DEBUG: 0\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-debugx: 1\r\n")), NO_ROUTE);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", NULL)), NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_ABSENT,
					    "authorization", NULL));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "x-authorization: 1\r\n")), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", "Authorization: x\r\n")),
		  NO_ROUTE);
	free(t);

	/* "host" is an ordinary header name here */
	t = ONE_COND_TABLE(kmesh_rtb_header(__b, KMESH_RT_M_HEADER_EXACT,
					    "host", "h:80"));
	EXPECT_EQ(route_of(t, rq("GET", "/", "h:80", NULL)), 1);
	EXPECT_EQ(route_of(t, rq("GET", "/", "h", NULL)), NO_ROUTE);
	free(t);
	tap_end();
}

static void test_query(void)
{
	void *t;

	tap_begin("route: query parameters, not decoded");
	t = ONE_COND_TABLE(kmesh_rtb_query(__b, "b", "2"));
	EXPECT_PATH(t, "/?b=2", 1);
	EXPECT_PATH(t, "/x?a=1&b=2", 1);
	EXPECT_PATH(t, "/x?b=2&a=1", 1);
	EXPECT_PATH(t, "/x?a=1&&b=2&", 1);
	EXPECT_PATH(t, "/x?b=2&b=3", 1);	/* the first one decides */
	EXPECT_PATH(t, "/x?b=3&b=2", NO_ROUTE);
	EXPECT_PATH(t, "/x?b=22", NO_ROUTE);
	EXPECT_PATH(t, "/x?bb=2", NO_ROUTE);
	EXPECT_PATH(t, "/x?ab=2", NO_ROUTE);
	EXPECT_PATH(t, "/x?B=2", NO_ROUTE);
	EXPECT_PATH(t, "/x?b", NO_ROUTE);
	EXPECT_PATH(t, "/x?", NO_ROUTE);
	EXPECT_PATH(t, "/x", NO_ROUTE);
	EXPECT_PATH(t, "/b=2", NO_ROUTE);
	free(t);

	/* a bare name has the empty value */
	t = ONE_COND_TABLE(kmesh_rtb_query(__b, "debug", ""));
	EXPECT_PATH(t, "/?debug", 1);
	EXPECT_PATH(t, "/?debug=", 1);
	EXPECT_PATH(t, "/?x=1&debug", 1);
	EXPECT_PATH(t, "/?debug=1", NO_ROUTE);
	free(t);

	/* percent-encoding and '+' are compared as sent */
	t = ONE_COND_TABLE(kmesh_rtb_query(__b, "q", "a%20b"));
	EXPECT_PATH(t, "/?q=a%20b", 1);
	EXPECT_PATH(t, "/?q=a+b", NO_ROUTE);
	EXPECT_PATH(t, "/?q=a%20B", NO_ROUTE);
	free(t);

	t = ONE_COND_TABLE(kmesh_rtb_query(__b, "eq", "a=b"));
	EXPECT_PATH(t, "/?eq=a=b", 1);
	EXPECT_PATH(t, "/?eq=a", NO_ROUTE);
	free(t);
	tap_end();
}

/* The table most tests below share. */
static void *shared_table(__u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(42);

	kmesh_rtb_host(b, "a.example.com");
	kmesh_rtb_host(b, "*.wild.test");
	/* 0 (id 100): /api/... with GET, or x-a: 1 */
	kmesh_rtb_route(b, 100);
	kmesh_rtb_path_prefix(b, "/api", true);
	kmesh_rtb_methods(b, BIT(GET));
	kmesh_rtb_match(b);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, "x-a", "1");
	kmesh_rtb_cluster(b, 1, 1);
	/* 1 (id 101): /u/{id} with q=1, split 3:1 */
	kmesh_rtb_route(b, 101);
	kmesh_rtb_path_template(b, "/u/{id}");
	kmesh_rtb_query(b, "q", "1");
	kmesh_rtb_cluster(b, 2, 3);
	kmesh_rtb_cluster(b, 3, 1);
	/* 2 (id 102): x-deny present: 403 */
	kmesh_rtb_route(b, 102);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_PRESENT, "x-deny", NULL);
	kmesh_rtb_deny(b, 403);
	/* 3 (id 103): /teapot: 418 with a body */
	kmesh_rtb_route(b, 103);
	kmesh_rtb_path_exact(b, "/teapot");
	kmesh_rtb_direct(b, 418, "short and stout\n", 16);
	/* 4 (id 104): anything under /api: shadowed by 0 for GET */
	kmesh_rtb_route(b, 104);
	kmesh_rtb_path_prefix(b, "/api", false);
	kmesh_rtb_cluster(b, 4, 1);
	/* default (id 199) */
	kmesh_rtb_default_route(b, 199);
	kmesh_rtb_cluster(b, 9, 1);
	return finish(b, len);
}

static void test_precedence_actions(void)
{
	struct kmesh_route_verdict v;
	const char *h = "a.example.com";
	__u32 len;
	void *t = shared_table(&len);

	tap_begin("route: first match wins, OR of blocks, AND in a block, actions");
	v = match(t, rq("GET", "/api/x", h, NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_ROUTE);
	EXPECT_EQ(v.route_id, 100);
	EXPECT_EQ(v.route_idx, 0);
	EXPECT_EQ(v.cluster_id, 1);
	EXPECT_EQ(v.vhost_id, 42);
	EXPECT_EQ(v.flags, 0);
	/* block 0 fails on the method, route 4 takes it */
	EXPECT_EQ(route_of(t, rq("POST", "/api/x", h, NULL)), 104);
	/* block 1 */
	EXPECT_EQ(route_of(t, rq("POST", "/other", h, "x-a: 1\r\n")), 100);
	/* route 0 wins over route 2 although both match */
	EXPECT_EQ(route_of(t, rq("GET", "/api", h, "x-deny: 1\r\n")), 100);
	EXPECT_EQ(route_of(t, rq("GET", "/apix", h, "x-deny: 1\r\n")), 102);
	EXPECT_EQ(route_of(t, rq("GET", "/apix", h, NULL)), 104);

	v = match(t, rq("PUT", "/x", h, "X-Deny: yes\r\n"));
	EXPECT_EQ(v.kind, KMESH_RT_V_DENY);
	EXPECT_EQ(v.status, 403);
	EXPECT_EQ(v.route_id, 102);
	EXPECT_EQ(v.route_idx, 2);

	v = match(t, rq("GET", "/teapot", h, NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_DIRECT);
	EXPECT_EQ(v.status, 418);
	EXPECT_EQ(v.route_id, 103);
	EXPECT_EQ(v.body_len, 16);
	EXPECT(v.body_off + v.body_len <= len);
	EXPECT(!memcmp((char *)t + v.body_off, "short and stout\n", 16));

	v = match(t, rq("GET", "/u/7?q=1", "x.wild.test", NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_ROUTE);
	EXPECT_EQ(v.route_id, 101);
	EXPECT_EQ(v.cluster_id, 2);
	EXPECT_EQ(v.split_idx, 0);

	/* default route */
	v = match(t, rq("GET", "/u/7?q=2", h, NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_ROUTE);
	EXPECT_EQ(v.route_id, 199);
	EXPECT_EQ(v.route_idx, KMESH_RT_IDX_DEFAULT);
	EXPECT_EQ(v.flags, KMESH_RT_VF_DEFAULT);
	EXPECT_EQ(v.cluster_id, 9);
	v = match(t, rq("GET", "/", "nope.example.com", NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_NO_VHOST);
	EXPECT_EQ(v.flags, 0);
	free(t);
	tap_end();
}

static void test_keeps_cluster(void)
{
	struct kmesh_route_verdict v, w;
	const char *h = "a.example.com";
	__u32 len;
	void *t = shared_table(&len);

	tap_begin("route: a connection's cluster is kept when the route's split holds it");
	/* split 3:1 over clusters 2 and 3: either may stay */
	v = match(t, rq("GET", "/u/7?q=1", h, NULL));
	w = v;
	EXPECT(kmesh_route_keeps_cluster(t, &w, 3));
	EXPECT_EQ(w.cluster_id, 3);
	EXPECT_EQ(w.split_idx, 1);
	w = v;
	EXPECT(kmesh_route_keeps_cluster(t, &w, 2));
	EXPECT_EQ(w.cluster_id, 2);
	EXPECT_EQ(w.split_idx, 0);
	/* not in the split: the verdict is left alone */
	w = v;
	EXPECT(!kmesh_route_keeps_cluster(t, &w, 1));
	EXPECT(!memcmp(&w, &v, sizeof(v)));
	EXPECT(!kmesh_route_keeps_cluster(t, &w, 0));
	/* one cluster, and the default route */
	v = match(t, rq("GET", "/api/x", h, NULL));
	EXPECT(kmesh_route_keeps_cluster(t, &v, 1));
	EXPECT(!kmesh_route_keeps_cluster(t, &v, 4));
	v = match(t, rq("GET", "/u/7?q=2", h, NULL));
	EXPECT(kmesh_route_keeps_cluster(t, &v, 9));
	EXPECT(!kmesh_route_keeps_cluster(t, &v, 2));
	/* not a route verdict, or indexes that are not the table's */
	v = match(t, rq("GET", "/teapot", h, NULL));
	EXPECT(!kmesh_route_keeps_cluster(t, &v, 1));
	v = match(t, rq("GET", "/api/x", h, NULL));
	v.route_idx = 5;
	EXPECT(!kmesh_route_keeps_cluster(t, &v, 1));
	v.route_idx = 1u << 31;
	EXPECT(!kmesh_route_keeps_cluster(t, &v, 1));
	free(t);
	tap_end();
}

static void test_no_route(void)
{
	struct kmesh_route_verdict v;
	struct kmesh_rtb *b;
	__u32 len;
	void *t;

	tap_begin("route: no default route gives NO_ROUTE; default deny/direct");
	t = ONE_COND_TABLE(kmesh_rtb_path_exact(__b, "/only"));
	v = match(t, rq("GET", "/other", "h", NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_NO_ROUTE);
	EXPECT_EQ(v.vhost_id, 1);
	EXPECT_EQ(v.route_id, 0);
	EXPECT_EQ(v.flags, 0);
	free(t);

	b = kmesh_rtb_new(3);
	kmesh_rtb_host(b, "h");
	kmesh_rtb_default_route(b, 55);	/* declared first: still last */
	kmesh_rtb_direct(b, 404, NULL, 0);
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_exact(b, "/only");
	kmesh_rtb_cluster(b, 1, 1);
	t = finish(b, &len);
	v = match(t, rq("GET", "/other", "h", NULL));
	EXPECT_EQ(v.kind, KMESH_RT_V_DIRECT);
	EXPECT_EQ(v.status, 404);
	EXPECT_EQ(v.body_len, 0);
	EXPECT_EQ(v.route_id, 55);
	EXPECT_EQ(v.flags, KMESH_RT_VF_DEFAULT);
	EXPECT_EQ(route_of(t, rq("GET", "/only", "h", NULL)), 1);
	free(t);
	tap_end();
}

/* How often each entry of @t's route @path is picked over @n rands, the
 * midpoints of @n equal slices of [0, 2^32). */
static void pick_counts(const void *t, const char *path, unsigned n,
			unsigned *count, unsigned nc)
{
	const char *head = rq("GET", path, "h", NULL);
	struct kmesh_route_verdict v;
	unsigned i;

	memset(count, 0, nc * sizeof(*count));
	for (i = 0; i < n; i++) {
		__u32 r = (__u32)(((2ULL * i + 1) << 32) / (2ULL * n));

		if (match_rand(t, head, r, &v) || v.kind != KMESH_RT_V_ROUTE ||
		    v.split_idx >= nc) {
			EXPECT(!"a split pick");
			return;
		}
		EXPECT_EQ(v.cluster_id, 100 + v.split_idx);
		count[v.split_idx]++;
	}
}

static void test_split(void)
{
	struct kmesh_route_verdict v;
	struct kmesh_rtb *b = kmesh_rtb_new(1);
	unsigned c[4];
	__u32 len;
	void *t;

	tap_begin("route: weighted split picks by rand");
	kmesh_rtb_host(b, "h");
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_exact(b, "/a");
	kmesh_rtb_cluster(b, 100, 90);
	kmesh_rtb_cluster(b, 101, 10);
	kmesh_rtb_route(b, 2);
	kmesh_rtb_path_exact(b, "/b");
	kmesh_rtb_cluster(b, 100, 1);
	kmesh_rtb_cluster(b, 101, 0);	/* Istio weight 0: never */
	kmesh_rtb_cluster(b, 102, 1);
	kmesh_rtb_cluster(b, 103, 2);
	kmesh_rtb_route(b, 3);
	kmesh_rtb_path_exact(b, "/c");
	kmesh_rtb_cluster(b, 100, 0xffffffffU);	/* the largest total */
	t = finish(b, &len);

	pick_counts(t, "/a", 1000, c, 2);
	EXPECT_EQ(c[0], 900);
	EXPECT_EQ(c[1], 100);
	pick_counts(t, "/b", 4000, c, 4);
	EXPECT_EQ(c[0], 1000);
	EXPECT_EQ(c[1], 0);
	EXPECT_EQ(c[2], 1000);
	EXPECT_EQ(c[3], 2000);
	pick_counts(t, "/c", 100, c, 1);
	EXPECT_EQ(c[0], 100);

	/* the edges of the rand range */
	EXPECT_EQ(match_rand(t, rq("GET", "/a", "h", NULL), 0, &v), 0);
	EXPECT_EQ(v.cluster_id, 100);
	EXPECT_EQ(match_rand(t, rq("GET", "/a", "h", NULL), 0xffffffffU, &v), 0);
	EXPECT_EQ(v.cluster_id, 101);
	EXPECT_EQ(v.split_idx, 1);
	/* 90% of 2^32 is 3865470566.4: the share of entry 0 ends there */
	EXPECT_EQ(match_rand(t, rq("GET", "/a", "h", NULL), 3865470566U, &v), 0);
	EXPECT_EQ(v.cluster_id, 100);
	EXPECT_EQ(match_rand(t, rq("GET", "/a", "h", NULL), 3865470567U, &v), 0);
	EXPECT_EQ(v.cluster_id, 101);
	EXPECT_EQ(match_rand(t, rq("GET", "/b", "h", NULL), 0xffffffffU, &v), 0);
	EXPECT_EQ(v.cluster_id, 103);
	free(t);
	tap_end();
}

/* ---- hostile requests ---- */

static void test_bad_requests(void)
{
	static const char head[] = "GET /api?q=1 HTTP/1.1\r\nHost: a.example.com\r\n"
				   "x-a: 1\r\n\r\n";
	__u32 n = sizeof(head) - 1, len;
	struct kmesh_http_req req, bad;
	struct kmesh_route_verdict v;
	void *t = shared_table(&len);
	__u8 *buf = xmalloc(n);
	__u32 i;

	tap_begin("route: corrupt request results never read outside the head");
	memcpy(buf, head, n);
	kmesh_http1_init(&req);
	EXPECT_EQ(kmesh_http1_parse(&req, buf, n, NULL), KMESH_HTTP_OK);
	EXPECT_EQ(kmesh_route_match(t, &req, buf, n, 0, &v), 0);
	EXPECT_EQ(v.route_id, 100);

	EXPECT_EQ(kmesh_route_match(NULL, &req, buf, n, 0, &v), RT_E(INVAL));
	EXPECT_EQ(v.kind, KMESH_RT_V_NONE);
	EXPECT_EQ(kmesh_route_match(t, NULL, buf, n, 0, &v), RT_E(INVAL));
	EXPECT_EQ(kmesh_route_match(t, &req, NULL, n, 0, &v), RT_E(INVAL));
	EXPECT_EQ(kmesh_route_match(t, &req, buf, n, 0, NULL), RT_E(INVAL));
	EXPECT_EQ(kmesh_route_match(buf, &req, buf, n, 0, &v), RT_E(MAGIC));

	/* the head must be complete: an absent header may just be late */
	bad = req;
	bad.status = KMESH_HTTP_NEED_MORE;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_STATUS));
	bad.status = KMESH_HTTP_E_BARE_CR;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_STATUS));

	/* the head buffer handed in is the bound, not req->head_len */
	EXPECT_EQ(kmesh_route_match(t, &req, buf, req.host.off + 3, 0, &v),
		  RT_E(REQ_CORRUPT));
	EXPECT_EQ(v.kind, KMESH_RT_V_NONE);

	bad = req;
	bad.method = KMESH_HTTP_M_OTHER + 1;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_CORRUPT));
	bad = req;
	bad.nr_headers = KMESH_HTTP_MAX_HEADERS + 1;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_CORRUPT));
	bad = req;
	bad.path.off = n;
	bad.path.len = 1;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_CORRUPT));
	bad = req;
	bad.query.off = 0xffff;
	bad.query.len = 0xffff;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_CORRUPT));
	bad = req;
	bad.hdrs[1].value.len = n;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), RT_E(REQ_CORRUPT));
	/* a header past nr_headers is never looked at */
	bad = req;
	bad.hdrs[5].name.off = 0xffff;
	EXPECT_EQ(kmesh_route_match(t, &bad, buf, n, 0, &v), 0);

	/* every span within bounds but nonsense: no crash, some verdict */
	for (i = 0; i < 2000; i++) {
		__u8 *p = (__u8 *)&bad;
		__u32 j, s = i * 2654435761U;

		bad = req;
		for (j = 0; j < sizeof(bad); j++) {
			s = s * 1103515245U + 12345U;
			if ((s >> 16) % 4 == 0)
				p[j] = s >> 24;
		}
		bad.status = KMESH_HTTP_OK;
		bad.method %= KMESH_HTTP_M_OTHER + 1;
		bad.nr_headers %= KMESH_HTTP_MAX_HEADERS + 1;
		bad.host.off %= n;
		bad.host.len %= n - bad.host.off + 1;
		bad.path.off %= n;
		bad.path.len %= n - bad.path.off + 1;
		bad.query.off %= n;
		bad.query.len %= n - bad.query.off + 1;
		for (j = 0; j < KMESH_HTTP_MAX_HEADERS; j++) {
			struct kmesh_http_hdr *h = &bad.hdrs[j];

			h->name.off %= n;
			h->name.len %= n - h->name.off + 1;
			h->value.off %= n;
			h->value.len %= n - h->value.off + 1;
		}
		if (kmesh_route_match(t, &bad, buf, n, s, &v) != 0 ||
		    v.kind < KMESH_RT_V_NO_VHOST || v.kind > KMESH_RT_V_DIRECT) {
			EXPECT(!"a verdict for in-bounds spans");
			break;
		}
	}
	free(buf);
	free(t);
	tap_end();
}

/* ---- hostile tables ---- */

/* Validation error codes some test below expects. */
static bool covered[KMESH_RT_E_MAX];

#define EXPECT_VERR(got, code) ({					\
	covered[-(code)] = true;					\
	EXPECT_EQ(got, code);						\
})

/* A table as plain arrays, encoded with the canonical layout. */
struct raw {
	struct kmesh_rt_table hdr;
	__u32 n_hosts, n_routes, n_blocks, n_conds, n_clusters, n_strings;
	struct kmesh_rt_str hosts[KMESH_RT_MAX_HOSTS + 2];
	struct kmesh_rt_route routes[KMESH_RT_MAX_ROUTES + 2];
	struct kmesh_rt_block blocks[KMESH_RT_MAX_TABLE_CONDS + 10];
	struct kmesh_rt_cond conds[KMESH_RT_MAX_TABLE_CONDS + 10];
	struct kmesh_rt_cluster clusters[KMESH_RT_MAX_TABLE_CONDS + 64];
	char strings[8192];
};

static void raw_decode(struct raw *r, const void *blob)
{
	const struct kmesh_rt_table *t = blob;
	const char *b = blob;

	memset(r, 0, sizeof(*r));
	r->hdr = *t;
#define DEC(field, sect)						\
	r->n_##field = t->sect.count;					\
	memcpy(r->field, b + t->sect.off, t->sect.count * sizeof(r->field[0]))
	DEC(hosts, hosts);
	DEC(routes, routes);
	DEC(blocks, blocks);
	DEC(conds, conds);
	DEC(clusters, clusters);
	DEC(strings, strings);
#undef DEC
}

/* Returns an 8-byte aligned heap blob, header fields recomputed. */
static void *raw_encode(const struct raw *r, __u32 *len)
{
	struct kmesh_rt_table t = r->hdr;
	__u32 off = sizeof(t);
	char *b;

#define SECT(field, sect)						\
	t.sect.off = off;						\
	t.sect.count = r->n_##field;					\
	off += r->n_##field * sizeof(r->field[0])
	SECT(hosts, hosts);
	SECT(routes, routes);
	SECT(blocks, blocks);
	SECT(conds, conds);
	SECT(clusters, clusters);
	SECT(strings, strings);
	t.total_len = off;
	*len = off;
	b = xmalloc(off);
	memcpy(b, &t, sizeof(t));
	memcpy(b + t.hosts.off, r->hosts, r->n_hosts * sizeof(r->hosts[0]));
	memcpy(b + t.routes.off, r->routes, r->n_routes * sizeof(r->routes[0]));
	memcpy(b + t.blocks.off, r->blocks, r->n_blocks * sizeof(r->blocks[0]));
	memcpy(b + t.conds.off, r->conds, r->n_conds * sizeof(r->conds[0]));
	memcpy(b + t.clusters.off, r->clusters,
	       r->n_clusters * sizeof(r->clusters[0]));
	memcpy(b + t.strings.off, r->strings, r->n_strings);
#undef SECT
	return b;
}

/* Add @s to the strings, return where. */
static struct kmesh_rt_str raw_str(struct raw *r, const char *s, size_t n)
{
	struct kmesh_rt_str ref = { r->n_strings, n };

	memcpy(r->strings + r->n_strings, s, n);
	r->n_strings += n;
	return ref;
}

#define RSTR(r, lit)	raw_str(r, lit, sizeof(lit) - 1)

/*
 * Layout of the shared table, which every raw case starts from:
 *  hosts 0 "a.example.com", 1 "*.wild.test"
 *  route 0: blocks 0 (conds 0 prefix, 1 method), 1 (cond 2 header exact);
 *	     cluster 0
 *  route 1: block 2 (conds 3 template, 4 query); clusters 1, 2
 *  route 2: block 3 (cond 5 header present); deny
 *  route 3: block 4 (cond 6 path exact); direct
 *  route 4: block 5 (cond 7 prefix); cluster 3
 *  default: cluster 4
 */
struct hostile {
	const char *name;
	int err;
	void (*mutate)(struct raw *r);
};

/* Append a route sending to cluster 7, with one block of one condition: a
 * path prefix on cond 0's string. */
static void raw_add_route(struct raw *r)
{
	struct kmesh_rt_route *rt = &r->routes[r->n_routes++];

	/* keep the default route's cluster last */
	r->clusters[r->n_clusters] = r->clusters[r->n_clusters - 1];
	*rt = (struct kmesh_rt_route){
		.route_id = 500 + r->n_routes, .first_block = r->n_blocks,
		.nr_blocks = 1, .first_cluster = r->n_clusters - 1,
		.nr_clusters = 1, .action = KMESH_RT_A_ROUTE,
	};
	r->clusters[r->n_clusters - 1] = (struct kmesh_rt_cluster){ 7, 1 };
	r->n_clusters++;
	r->hdr.dflt.first_cluster = r->n_clusters - 1;
	r->blocks[r->n_blocks++] = (struct kmesh_rt_block){ r->n_conds, 1 };
	r->conds[r->n_conds++] = (struct kmesh_rt_cond){
		.kind = KMESH_RT_M_PATH_PREFIX, .value = r->conds[0].value,
	};
}

/* Add @n conditions (copies of cond 0) to the block of the last route. */
static void raw_grow_block(struct raw *r, __u32 n)
{
	while (n--) {
		r->conds[r->n_conds] = r->conds[0];
		r->n_conds++;
		r->blocks[r->n_blocks - 1].nr_conds++;
	}
}

#define M(fn)	static void fn(struct raw *r)

M(no_hosts) { r->n_hosts = 0; }
M(many_hosts)
{
	while (r->n_hosts <= KMESH_RT_MAX_HOSTS)
		r->hosts[r->n_hosts++] = r->hosts[0];
}
M(no_routes)
{
	r->n_routes = r->n_blocks = r->n_conds = 0;
	r->hdr.dflt.first_cluster = 0;
	r->clusters[0] = r->clusters[4];
	r->n_clusters = 1;
}
M(many_routes)
{
	while (r->n_routes <= KMESH_RT_MAX_ROUTES)
		raw_add_route(r);
}
M(many_table_conds)
{
	while (r->n_conds <= KMESH_RT_MAX_TABLE_CONDS) {
		raw_add_route(r);
		raw_grow_block(r, KMESH_RT_MAX_CONDS - 1);
	}
}
M(many_block_conds) { raw_add_route(r); raw_grow_block(r, KMESH_RT_MAX_CONDS); }
M(many_blocks)
{
	raw_add_route(r);
	while (r->routes[r->n_routes - 1].nr_blocks <= KMESH_RT_MAX_BLOCKS) {
		r->blocks[r->n_blocks++] = (struct kmesh_rt_block){ r->n_conds, 1 };
		r->conds[r->n_conds++] = r->conds[0];
		r->routes[r->n_routes - 1].nr_blocks++;
	}
}
M(many_scans)
{
	__u32 scans = 2;	/* conds 3 and 4 */

	for (; scans <= KMESH_RT_MAX_SCAN_CONDS; scans++) {
		raw_add_route(r);
		r->conds[r->n_conds - 1] = r->conds[3];	/* template */
	}
}
M(host_off_past) { r->hosts[1].off = r->n_strings; r->hosts[1].len = 1; }
M(host_len_past) { r->hosts[0].len = r->n_strings - r->hosts[0].off + 1; }
M(host_off_wrap) { r->hosts[0].off = 0xffffffffU; r->hosts[0].len = 2; }
M(host_empty) { r->hosts[0].len = 0; }
M(host_long)
{
	char h[KMESH_RT_MAX_HOST_LEN + 1];

	memset(h, 'a', sizeof(h));
	r->hosts[0] = raw_str(r, h, sizeof(h));
}
M(host_upper) { r->hosts[0] = RSTR(r, "A.example.com"); }
M(host_port) { r->hosts[0] = RSTR(r, "a.example.com:80"); }
M(host_star_mid) { r->hosts[0] = RSTR(r, "a.*.com"); }
M(host_star_bare) { r->hosts[0] = RSTR(r, "*."); }
M(host_dot) { r->hosts[0] = RSTR(r, "a.example.com."); }
M(host_v6) { r->hosts[0] = RSTR(r, "[::g]"); }
M(route_no_blocks) { r->routes[2].nr_blocks = 0; }
M(dflt_blocks) { r->hdr.dflt.nr_blocks = 1; }
M(dflt_first_block) { r->hdr.dflt.first_block = 3; }
M(block_back) { r->routes[1].first_block = 0; }	/* aliases route 0's */
M(block_skip) { r->routes[1].first_block = 3; }
M(block_past) { r->routes[4].nr_blocks = 2; }
M(block_empty) { r->blocks[3].nr_conds = 0; }
M(cond_back) { r->blocks[1].first_cond = 1; }
M(cond_loop) { r->blocks[4].first_cond = 0; }
M(cond_past) { r->blocks[5].nr_conds = 2; }
M(cond_kind0) { r->conds[5].kind = 0; }
M(cond_kind_big) { r->conds[5].kind = KMESH_RT_M_MAX; }
M(cond_flag_exact) { r->conds[6].flags = KMESH_RT_CF_SEGMENT; }
M(cond_flag_unknown) { r->conds[0].flags |= 0x80; }
M(cond_reserved) { r->conds[2].reserved = 1; }
M(path_with_name) { r->conds[6].name = r->conds[6].value; }
M(path_with_methods) { r->conds[0].methods = 2; }
M(method_with_value) { r->conds[1].value = r->conds[0].value; }
M(present_with_value) { r->conds[5].value = r->conds[0].value; }
M(path_empty) { r->conds[6].value.len = 0; }
M(path_no_slash) { r->conds[6].value = RSTR(r, "teapot"); }
M(path_query) { r->conds[6].value = RSTR(r, "/a?b"); }
M(path_space) { r->conds[0].value = RSTR(r, "/a b"); }
M(path_long)
{
	char p[KMESH_RT_MAX_STR_LEN + 1];

	memset(p, 'p', sizeof(p));
	p[0] = '/';
	r->conds[6].value = raw_str(r, p, sizeof(p));
}
M(tmpl_open) { r->conds[3].value = RSTR(r, "/u/{id"); }
M(tmpl_rest_mid) { r->conds[3].value = RSTR(r, "/u/**/x"); }
M(tmpl_star_in) { r->conds[3].value = RSTR(r, "/u/a*b"); }
M(tmpl_bad_var) { r->conds[3].value = RSTR(r, "/u/{x=***}"); }
M(tmpl_empty_var) { r->conds[3].value = RSTR(r, "/u/{}"); }
M(hdr_upper) { r->conds[2].name = RSTR(r, "X-A"); }
M(hdr_space) { r->conds[2].name = RSTR(r, "x a"); }
M(hdr_name_empty) { r->conds[5].name.len = 0; }
M(hdr_name_long)
{
	char n[KMESH_RT_MAX_NAME_LEN + 1];

	memset(n, 'n', sizeof(n));
	r->conds[5].name = raw_str(r, n, sizeof(n));
}
M(hdr_value_ws) { r->conds[2].value = RSTR(r, " 1"); }
M(hdr_value_ctl) { r->conds[2].value = RSTR(r, "1\x01"); }
M(query_name_eq) { r->conds[4].name = RSTR(r, "a=b"); }
M(query_name_amp) { r->conds[4].name = RSTR(r, "a&b"); }
M(query_value_amp) { r->conds[4].value = RSTR(r, "1&2"); }
M(methods_zero) { r->conds[1].methods = 0; }
M(methods_none) { r->conds[1].methods |= 1; }
M(methods_high) { r->conds[1].methods |= 1U << (KMESH_HTTP_M_OTHER + 1); }
M(action_zero) { r->routes[2].action = 0; }
M(action_big) { r->routes[2].action = KMESH_RT_A_MAX; }
M(route_reserved) { r->routes[0].reserved = 1; }
M(no_clusters) { r->routes[4].nr_clusters = 0; r->routes[4].first_cluster = 0; }
M(many_clusters)
{
	struct kmesh_rt_route *rt = &r->routes[r->n_routes - 1];

	while (rt->nr_clusters <= KMESH_RT_MAX_SPLIT) {
		r->clusters[r->n_clusters] = r->clusters[r->n_clusters - 1];
		r->n_clusters++;
		rt->nr_clusters++;
		r->hdr.dflt.first_cluster++;
	}
}
M(cluster_back) { r->routes[1].first_cluster = 0; }
M(cluster_past) { r->hdr.dflt.nr_clusters = 2; }
M(weight_zero) { r->clusters[1].weight = 0; r->clusters[2].weight = 0; }
M(weight_wrap) { r->clusters[1].weight = 0xffffffffU; }
M(deny_status_low) { r->routes[2].status = 399; }
M(deny_status_high) { r->routes[2].status = 600; }
M(direct_status_low) { r->routes[3].status = 199; }
M(direct_status_zero) { r->routes[3].status = 0; }
M(deny_with_cluster) { r->routes[2].nr_clusters = 1; }
M(deny_with_body) { r->routes[2].body = r->routes[3].body; }
M(route_with_status) { r->routes[0].status = 200; }
M(body_long)
{
	char body[KMESH_RT_MAX_BODY_LEN + 1];

	memset(body, 'b', sizeof(body));
	r->routes[3].body = raw_str(r, body, sizeof(body));
}
M(body_past) { r->routes[3].body.off = r->n_strings - 1; }
M(no_default_left) { r->hdr.flags &= ~KMESH_RT_F_DEFAULT; }
M(stray_block) { r->blocks[r->n_blocks++] = (struct kmesh_rt_block){ r->n_conds, 1 }; r->conds[r->n_conds++] = r->conds[0]; }
M(stray_cond) { r->conds[r->n_conds++] = r->conds[0]; }
M(stray_cluster) { r->clusters[r->n_clusters++] = r->clusters[0]; }
M(hdr_flags) { r->hdr.flags |= 2; }
M(hdr_reserved) { r->hdr.reserved = 1; }
M(hdr_magic) { r->hdr.magic ^= 1; }
M(hdr_version) { r->hdr.abi_version++; }
M(hdr_hdr_len) { r->hdr.hdr_len -= 4; }

static const struct hostile hostile[] = {
	{ "no hosts", RT_E(NO_HOSTS), no_hosts },
	{ "65 hosts", RT_E(TOO_MANY_HOSTS), many_hosts },
	{ "no routes, only a default", RT_E(NO_ROUTES), no_routes },
	{ "257 routes", RT_E(TOO_MANY_ROUTES), many_routes },
	{ "1025 conditions in the table", RT_E(TABLE_CONDS), many_table_conds },
	{ "9 conditions in a block", RT_E(TOO_MANY_CONDS), many_block_conds },
	{ "5 match blocks", RT_E(TOO_MANY_BLOCKS), many_blocks },
	{ "33 template/query conditions", RT_E(TOO_MANY_SCANS), many_scans },
	{ "host offset past strings", RT_E(STR_BOUNDS), host_off_past },
	{ "host length past strings", RT_E(STR_BOUNDS), host_len_past },
	{ "host offset wraps", RT_E(STR_BOUNDS), host_off_wrap },
	{ "empty host", RT_E(STR_EMPTY), host_empty },
	{ "256-byte host", RT_E(STR_TOO_LONG), host_long },
	{ "upper-case host", RT_E(BAD_HOST), host_upper },
	{ "host with port", RT_E(BAD_HOST), host_port },
	{ "host with inner *", RT_E(BAD_HOST), host_star_mid },
	{ "host \"*.\"", RT_E(BAD_HOST), host_star_bare },
	{ "host with trailing dot", RT_E(BAD_HOST), host_dot },
	{ "bad IPv6 host", RT_E(BAD_HOST), host_v6 },
	{ "ordered route without blocks", RT_E(NO_MATCH), route_no_blocks },
	{ "default route with a block", RT_E(DEFAULT_MATCH), dflt_blocks },
	{ "default route with first_block", RT_E(DEFAULT_MATCH), dflt_first_block },
	{ "route reuses earlier blocks", RT_E(BLOCK_LINK), block_back },
	{ "route skips blocks", RT_E(BLOCK_LINK), block_skip },
	{ "blocks past the section", RT_E(BLOCK_BOUNDS), block_past },
	{ "block without conditions", RT_E(EMPTY_BLOCK), block_empty },
	{ "block reuses earlier conds", RT_E(COND_LINK), cond_back },
	{ "block loops to cond 0", RT_E(COND_LINK), cond_loop },
	{ "conds past the section", RT_E(COND_BOUNDS), cond_past },
	{ "match kind 0", RT_E(COND_KIND), cond_kind0 },
	{ "match kind past the last", RT_E(COND_KIND), cond_kind_big },
	{ "SEGMENT on an exact path", RT_E(COND_FLAGS), cond_flag_exact },
	{ "unknown condition flag", RT_E(COND_FLAGS), cond_flag_unknown },
	{ "condition reserved field", RT_E(RESERVED), cond_reserved },
	{ "path condition with a name", RT_E(RESERVED), path_with_name },
	{ "path condition with methods", RT_E(RESERVED), path_with_methods },
	{ "method condition with a value", RT_E(RESERVED), method_with_value },
	{ "present condition with a value", RT_E(RESERVED), present_with_value },
	{ "empty path", RT_E(STR_EMPTY), path_empty },
	{ "path without '/'", RT_E(BAD_PATH), path_no_slash },
	{ "path with '?'", RT_E(BAD_PATH), path_query },
	{ "path with a space", RT_E(BAD_PATH), path_space },
	{ "257-byte path", RT_E(STR_TOO_LONG), path_long },
	{ "template \"/u/{id\"", RT_E(BAD_TEMPLATE), tmpl_open },
	{ "template \"/u/**/x\"", RT_E(BAD_TEMPLATE), tmpl_rest_mid },
	{ "template \"/u/a*b\"", RT_E(BAD_TEMPLATE), tmpl_star_in },
	{ "template \"/u/{x=***}\"", RT_E(BAD_TEMPLATE), tmpl_bad_var },
	{ "template \"/u/{}\"", RT_E(BAD_TEMPLATE), tmpl_empty_var },
	{ "upper-case header name", RT_E(BAD_NAME), hdr_upper },
	{ "header name with a space", RT_E(BAD_NAME), hdr_space },
	{ "empty header name", RT_E(STR_EMPTY), hdr_name_empty },
	{ "65-byte header name", RT_E(STR_TOO_LONG), hdr_name_long },
	{ "header value with leading space", RT_E(BAD_VALUE), hdr_value_ws },
	{ "header value with a control byte", RT_E(BAD_VALUE), hdr_value_ctl },
	{ "query name with '='", RT_E(BAD_NAME), query_name_eq },
	{ "query name with '&'", RT_E(BAD_NAME), query_name_amp },
	{ "query value with '&'", RT_E(BAD_VALUE), query_value_amp },
	{ "empty method set", RT_E(METHODS), methods_zero },
	{ "method set with NONE", RT_E(METHODS), methods_none },
	{ "method set past OTHER", RT_E(METHODS), methods_high },
	{ "action 0", RT_E(ACTION), action_zero },
	{ "action past the last", RT_E(ACTION), action_big },
	{ "route reserved field", RT_E(RESERVED), route_reserved },
	{ "route action without clusters", RT_E(NO_CLUSTERS), no_clusters },
	{ "split of 17", RT_E(TOO_MANY_CLUSTERS), many_clusters },
	{ "route reuses earlier clusters", RT_E(CLUSTER_LINK), cluster_back },
	{ "clusters past the section", RT_E(CLUSTER_BOUNDS), cluster_past },
	{ "weights sum to 0", RT_E(WEIGHT), weight_zero },
	{ "weights sum past 2^32-1", RT_E(WEIGHT), weight_wrap },
	{ "deny 399", RT_E(STATUS), deny_status_low },
	{ "deny 600", RT_E(STATUS), deny_status_high },
	{ "direct 199", RT_E(STATUS), direct_status_low },
	{ "direct 0", RT_E(STATUS), direct_status_zero },
	{ "deny with a cluster", RT_E(RESERVED), deny_with_cluster },
	{ "deny with a body", RT_E(RESERVED), deny_with_body },
	{ "route action with a status", RT_E(RESERVED), route_with_status },
	{ "1025-byte body", RT_E(BODY_TOO_LONG), body_long },
	{ "body past strings", RT_E(STR_BOUNDS), body_past },
	{ "default route without the flag", RT_E(RESERVED), no_default_left },
	{ "stray block", RT_E(UNREFERENCED), stray_block },
	{ "stray condition", RT_E(UNREFERENCED), stray_cond },
	{ "stray cluster", RT_E(UNREFERENCED), stray_cluster },
	{ "unknown table flag", RT_E(FLAGS), hdr_flags },
	{ "table reserved field", RT_E(RESERVED), hdr_reserved },
	{ "bad magic", RT_E(MAGIC), hdr_magic },
	{ "other ABI version", RT_E(VERSION), hdr_version },
	{ "other header size", RT_E(VERSION), hdr_hdr_len },
};

static void test_hostile_records(void)
{
	struct raw *r = xmalloc(sizeof(*r));
	void *base, *blob;
	__u32 len, i;
	int err;

	base = shared_table(&len);
	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		tap_begin("validate: refuses %s", hostile[i].name);
		raw_decode(r, base);
		hostile[i].mutate(r);
		blob = raw_encode(r, &len);
		err = kmesh_route_validate(blob, len);
		if (!EXPECT_EQ(err, hostile[i].err))
			tap_diag("got \"%s\", want \"%s\"",
				 kmesh_route_strerror(err),
				 kmesh_route_strerror(hostile[i].err));
		covered[-hostile[i].err] = true;
		free(blob);
		tap_end();
	}

	tap_begin("validate: decoding and encoding a valid table keeps it valid");
	raw_decode(r, base);
	blob = raw_encode(r, &len);
	EXPECT_EQ(kmesh_route_validate(blob, len), 0);
	free(blob);
	free(base);
	free(r);
	tap_end();
}

/* A copy of @blob with @fn applied to its header; validate the result. */
static int hdr_case(const void *blob, __u32 len, __u32 new_len,
		    void (*fn)(struct kmesh_rt_table *t, __u32 len))
{
	char *b = xmalloc(len > new_len ? len : new_len);
	int err;

	memset(b, 0, len > new_len ? len : new_len);
	memcpy(b, blob, len);
	if (fn)
		fn((struct kmesh_rt_table *)b, len);
	err = kmesh_route_validate(b, new_len);
	free(b);
	return err;
}

#define H(fn)	static void fn(struct kmesh_rt_table *t, __u32 len)

H(total_short) { (void)len; t->total_len--; }
H(routes_misaligned) { (void)len; t->routes.off += 2; }
H(strings_past_end) { (void)len; t->strings.count += 1; }
H(conds_count_huge) { (void)len; t->conds.count = 0xffffffffU; }
H(hosts_off_huge) { (void)len; t->hosts.off = 0xfffffff0U; }
H(routes_over_hosts) { (void)len; t->routes.off = t->hosts.off; }
H(routes_in_header) { (void)len; t->hosts.off = 4; }
H(sections_swapped)
{
	struct kmesh_rt_section s = t->blocks;

	(void)len;
	t->blocks = t->conds;
	t->conds = s;
}
H(strings_gap) { (void)len; t->strings.off += 4; t->strings.count -= 4; }
H(strings_short) { (void)len; t->strings.count -= 1; }
H(trailing) { t->total_len = len + 4; }
H(dflt_zero_body) { (void)len; t->dflt.body.len = 1; t->dflt.body.off = 0; }

static void test_hostile_layout(void)
{
	__u32 len;
	void *t = shared_table(&len);
	char *odd;

	tap_begin("validate: refuses bad arguments, sizes and headers");
	EXPECT_VERR(kmesh_route_validate(NULL, len), RT_E(INVAL));
	EXPECT_VERR(hdr_case(t, len, 0, NULL), RT_E(TRUNCATED));
	EXPECT_VERR(hdr_case(t, len, sizeof(struct kmesh_rt_table) - 1, NULL),
		  RT_E(TRUNCATED));
	EXPECT_VERR(hdr_case(t, len, len - 1, NULL), RT_E(LENGTH));
	EXPECT_VERR(hdr_case(t, len, len + 4, NULL), RT_E(LENGTH));
	EXPECT_VERR(hdr_case(t, len, len, total_short), RT_E(LENGTH));
	EXPECT_VERR(hdr_case(t, len, KMESH_RT_MAX_BLOB_BYTES + 1, NULL),
		  RT_E(TOO_BIG));
	/* a blob one byte into an allocation is misaligned */
	odd = xmalloc(len + 1);
	memcpy(odd + 1, t, len);
	EXPECT_VERR(kmesh_route_validate(odd + 1, len), RT_E(ALIGN));
	free(odd);
	tap_end();

	tap_begin("validate: refuses sections out of place");
	EXPECT_VERR(hdr_case(t, len, len, routes_misaligned), RT_E(SECT_ALIGN));
	EXPECT_VERR(hdr_case(t, len, len, strings_past_end), RT_E(SECT_BOUNDS));
	EXPECT_VERR(hdr_case(t, len, len, conds_count_huge), RT_E(SECT_BOUNDS));
	EXPECT_VERR(hdr_case(t, len, len, hosts_off_huge), RT_E(SECT_BOUNDS));
	EXPECT_VERR(hdr_case(t, len, len, routes_over_hosts), RT_E(SECT_OVERLAP));
	EXPECT_VERR(hdr_case(t, len, len, routes_in_header), RT_E(SECT_OVERLAP));
	/* the first of two swapped sections starts past where it should */
	EXPECT_VERR(hdr_case(t, len, len, sections_swapped), RT_E(SECT_GAP));
	EXPECT_VERR(hdr_case(t, len, len, strings_gap), RT_E(SECT_GAP));
	EXPECT_VERR(hdr_case(t, len, len, strings_short), RT_E(SECT_GAP));
	EXPECT_VERR(hdr_case(t, len, len + 4, trailing), RT_E(SECT_GAP));
	EXPECT_VERR(hdr_case(t, len, len, dflt_zero_body), RT_E(RESERVED));
	tap_end();

	tap_begin("validate: every byte of the blob matters or is checked");
	{
		/* flipping any one byte either still validates or is refused;
		 * matching a blob that still validates never fails */
		char *b = xmalloc(len);
		struct kmesh_route_verdict v;
		__u32 i, bit, ok = 0;

		for (i = 0; i < len; i++) {
			for (bit = 0; bit < 8; bit++) {
				memcpy(b, t, len);
				b[i] ^= 1 << bit;
				if (kmesh_route_validate(b, len))
					continue;
				ok++;
				if (match_rand(b, rq("GET", "/api/x?q=1",
						     "a.example.com",
						     "x-a: 1\r\n"), i, &v)) {
					EXPECT(!"matching a valid blob");
					break;
				}
			}
		}
		tap_diag("%u of %u single-bit flips still validate", ok, len * 8);
		free(b);
	}
	free(t);
	tap_end();
}

static void test_coverage(void)
{
	int i;

	tap_begin("validate: every validation error code is tested");
	for (i = 1; i <= KMESH_RT_E_UNREFERENCED; i++)
		tap_check(covered[i], __FILE__, __LINE__, "no test expects %d, %s",
			  i, kmesh_route_strerror(i));
	tap_end();
}

static void test_strerror(void)
{
	int i;

	tap_begin("validate: every error code has a description");
	for (i = 0; i < KMESH_RT_E_MAX; i++)
		EXPECT(strcmp(kmesh_route_strerror(i), "unknown error") != 0);
	EXPECT_STR_EQ(kmesh_route_strerror(RT_E(SECT_GAP)),
		      "slack bytes between or after sections");
	EXPECT_STR_EQ(kmesh_route_strerror(KMESH_RT_E_MAX), "unknown error");
	EXPECT_STR_EQ(kmesh_route_strerror(-1000), "unknown error");
	tap_end();
}

/* ---- builder ---- */

typedef void (*build_fn)(struct kmesh_rtb *b);

/* Run @fn on a fresh builder with host "h" and route 7 open; finish. */
static const char *builder_error(build_fn fn)
{
	static char msg[400];
	struct kmesh_rtb *b = kmesh_rtb_new(1);
	void *blob = (void *)1;
	__u32 len = 1;
	int rc;

	kmesh_rtb_host(b, "h");
	kmesh_rtb_route(b, 7);
	fn(b);
	rc = kmesh_rtb_finish(b, &blob, &len);
	snprintf(msg, sizeof(msg), "%s", rc ? kmesh_rtb_error(b) : "(no error)");
	EXPECT(rc ? !blob && !len : blob && len);
	free(rc ? NULL : blob);
	kmesh_rtb_free(b);
	return msg;
}

#define B(fn)	static void fn(struct kmesh_rtb *b)

B(b_no_action) { kmesh_rtb_path_exact(b, "/"); }
B(b_no_cond) { kmesh_rtb_cluster(b, 1, 1); }
B(b_empty_block)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_match(b);
	kmesh_rtb_cluster(b, 1, 1);
}
B(b_bad_header)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_match(b);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, "a b", "1");
}
B(b_header_no_value) { kmesh_rtb_header(b, KMESH_RT_M_HEADER_PREFIX, "x", NULL); }
B(b_present_value) { kmesh_rtb_header(b, KMESH_RT_M_HEADER_PRESENT, "x", "1"); }
B(b_value_ws) { kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, "x", "1 "); }
B(b_not_header) { kmesh_rtb_header(b, KMESH_RT_M_PATH_EXACT, "x", "1"); }
B(b_path) { kmesh_rtb_path_prefix(b, "api", true); }
B(b_path_query) { kmesh_rtb_path_exact(b, "/a?b=1"); }
B(b_template)
{
	kmesh_rtb_path_exact(b, "/x");
	kmesh_rtb_path_template(b, "/a/**/b");
}
B(b_template2) { kmesh_rtb_path_template(b, "/a/{id/b"); }
B(b_methods) { kmesh_rtb_methods(b, 1); }
B(b_query) { kmesh_rtb_query(b, "a=b", "1"); }
B(b_query_value) { kmesh_rtb_query(b, "a", NULL); }
B(b_two_actions)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_cluster(b, 1, 1);
	kmesh_rtb_deny(b, 403);
}
B(b_weight_zero)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_cluster(b, 1, 0);
}
B(b_weight_wrap)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_cluster(b, 1, 0xffffffffU);
	kmesh_rtb_cluster(b, 2, 1);
}
B(b_split)
{
	int i;

	kmesh_rtb_path_exact(b, "/");
	for (i = 0; i <= KMESH_RT_MAX_SPLIT; i++)
		kmesh_rtb_cluster(b, i, 1);
}
B(b_deny) { kmesh_rtb_path_exact(b, "/"); kmesh_rtb_deny(b, 302); }
B(b_direct) { kmesh_rtb_path_exact(b, "/"); kmesh_rtb_direct(b, 100, "", 0); }
B(b_body)
{
	static char body[KMESH_RT_MAX_BODY_LEN + 1];

	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_direct(b, 200, body, sizeof(body));
}
B(b_default_cond)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_cluster(b, 1, 1);
	kmesh_rtb_default_route(b, 9);
	kmesh_rtb_path_exact(b, "/x");
}
B(b_two_defaults)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_cluster(b, 1, 1);
	kmesh_rtb_default_route(b, 9);
	kmesh_rtb_deny(b, 403);
	kmesh_rtb_default_route(b, 10);
}
B(b_blocks)
{
	int i;

	for (i = 0; i <= KMESH_RT_MAX_BLOCKS; i++) {
		kmesh_rtb_match(b);
		kmesh_rtb_path_exact(b, "/");
	}
}
B(b_conds)
{
	int i;

	for (i = 0; i <= KMESH_RT_MAX_CONDS; i++)
		kmesh_rtb_path_exact(b, "/");
}
B(b_scans)
{
	int i;

	for (i = 0; i < KMESH_RT_MAX_SCAN_CONDS; i++) {
		if (i % KMESH_RT_MAX_CONDS == 0)
			kmesh_rtb_match(b);
		kmesh_rtb_query(b, "a", "b");
	}
	kmesh_rtb_deny(b, 403);
	kmesh_rtb_route(b, 8);
	kmesh_rtb_path_template(b, "/{x}");
}
B(b_sticky)
{
	kmesh_rtb_path_exact(b, "nope");
	kmesh_rtb_path_exact(b, "/");	/* ignored: already failed */
	kmesh_rtb_cluster(b, 1, 1);
}
B(b_second_route_bad)
{
	kmesh_rtb_path_exact(b, "/");
	kmesh_rtb_cluster(b, 1, 1);
	kmesh_rtb_route(b, 8);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_PRESENT, "ok", NULL);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_ABSENT, "x:y", NULL);
}
B(b_ok) { kmesh_rtb_path_exact(b, "/"); kmesh_rtb_deny(b, 451); }

static const struct {
	build_fn fn;
	const char *msg;
} builder_cases[] = {
	{ b_ok, "(no error)" },
	{ b_no_action, "route 0 (id 7) has no action (cluster, deny or direct "
		       "response)" },
	{ b_no_cond, "route 0 (id 7) has no match conditions (only the "
		     "default route may match everything)" },
	{ b_empty_block, "route 0 (id 7), match 1 has no conditions" },
	{ b_bad_header, "route 0 (id 7), match 1, condition 0 (header exact): "
			"header name \"a b\" is not a token" },
	{ b_header_no_value, "route 0 (id 7), match 0, condition 0 (header "
			     "prefix): header \"x\" needs a value" },
	{ b_present_value, "route 0 (id 7), match 0, condition 0 (header "
			   "present): header \"x\" takes no value" },
	{ b_value_ws, "route 0 (id 7), match 0, condition 0 (header exact): "
		      "header \"x\" value \"1 \" has leading or trailing "
		      "whitespace (removed from every request)" },
	{ b_not_header, "header condition of kind 1, not a header kind" },
	{ b_path, "route 0 (id 7), match 0, condition 0 (path prefix): \"api\" "
		  "does not start with '/'" },
	{ b_path_query, "route 0 (id 7), match 0, condition 0 (path exact): "
			"\"/a?b=1\" holds '?' (the query is never part of "
			"the path)" },
	{ b_template, "route 0 (id 7), match 0, condition 1 (path template): "
		      "\"/a/**/b\" has ** before its last segment (segment 1)" },
	{ b_template2, "route 0 (id 7), match 0, condition 0 (path template): "
		       "\"/a/{id/b\" has a segment that is not a literal "
		       "(without '*', '{', '}'), *, **, {name}, {name=*} or "
		       "{name=**} (segment 1)" },
	{ b_methods, "route 0 (id 7), match 0, condition 0 (method): method "
		     "set 0x1 is empty or has unknown bits" },
	{ b_query, "route 0 (id 7), match 0, condition 0 (query exact): "
		   "parameter name \"a=b\" is empty, longer than 64 or holds "
		   "'&', '=', '#' or a byte no query holds" },
	{ b_query_value, "route 0 (id 7), match 0, condition 0 (query exact): "
			 "parameter \"a\" value \"(null)\" is missing, longer "
			 "than 256 or holds '&', '#' or a byte no query holds" },
	{ b_two_actions, "route 0 (id 7) has two actions" },
	{ b_weight_zero, "route 0 (id 7): split weights sum to 0" },
	{ b_weight_wrap, "route 0 (id 7): split weights sum to more than "
			 "4294967295" },
	{ b_split, "route 0 (id 7): more than 16 clusters in a split" },
	{ b_deny, "route 0 (id 7): deny status 302 is not 400..599" },
	{ b_direct, "route 0 (id 7): direct response status 100 is not "
		    "200..599" },
	{ b_body, "route 0 (id 7): direct response body of 1025 bytes (at "
		  "most 1024)" },
	{ b_default_cond, "default route (id 9): the default route takes no "
			  "match conditions" },
	{ b_two_defaults, "default route (id 10): there is one already (id 9)" },
	{ b_blocks, "route 0 (id 7): more than 4 match blocks" },
	{ b_conds, "route 0 (id 7), match 0, condition 8 (path exact): more "
		   "than 8 conditions in a match block" },
	{ b_scans, "route 1 (id 8), match 0, condition 0 (path template): more "
		   "than 32 template and query conditions in the table" },
	{ b_sticky, "route 0 (id 7), match 0, condition 0 (path exact): "
		    "\"nope\" does not start with '/'" },
	{ b_second_route_bad, "route 1 (id 8), match 0, condition 1 (header "
			      "absent): header name \"x:y\" is not a token" },
};

static void test_builder_errors(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(builder_cases); i++) {
		tap_begin("builder: message \"%.60s\"", builder_cases[i].msg);
		EXPECT_STR_EQ(builder_error(builder_cases[i].fn),
			      builder_cases[i].msg);
		tap_end();
	}
}

static const char *table_error(const char *const *hosts, size_t n,
			       bool route)
{
	static char msg[400];
	struct kmesh_rtb *b = kmesh_rtb_new(1);
	void *blob = NULL;
	__u32 len;
	size_t i;

	for (i = 0; i < n; i++)
		kmesh_rtb_host(b, hosts[i]);
	if (route) {
		kmesh_rtb_route(b, 1);
		kmesh_rtb_path_exact(b, "/");
		kmesh_rtb_deny(b, 403);
	}
	if (kmesh_rtb_finish(b, &blob, &len))
		snprintf(msg, sizeof(msg), "%s", kmesh_rtb_error(b));
	else
		snprintf(msg, sizeof(msg), "(no error)");
	free(blob);
	kmesh_rtb_free(b);
	return msg;
}

static void test_builder_tables(void)
{
	static const char *const dup[] = { "a.com", "A.COM." };
	static const char *const port[] = { "a.com:80" };
	static const char *const star[] = { "a.*" };
	static const char *const dot[] = { "*." };
	static const char *const empty[] = { "" };
	static const char *const ok[] = { "Example.COM.", "*.X.y", "*", "[::AB]" };
	const char *many[KMESH_RT_MAX_HOSTS + 1];
	char names[KMESH_RT_MAX_HOSTS + 1][16];
	size_t i;

	tap_begin("builder: table-level messages");
	EXPECT_STR_EQ(table_error(NULL, 0, true), "table has no hosts");
	EXPECT_STR_EQ(table_error(ok, 1, false), "table has no routes (a "
		      "catch-all is a route with path prefix \"/\")");
	EXPECT_STR_EQ(table_error(ok, 4, true), "(no error)");
	EXPECT_STR_EQ(table_error(dup, 2, true), "host 1 \"A.COM.\" is listed twice");
	EXPECT_STR_EQ(table_error(port, 1, true), "host 0 \"a.com:80\" has a port "
		      "(ports are ignored; leave it out)");
	EXPECT_STR_EQ(table_error(star, 1, true), "host 0 \"a.*\" has a character "
		      "a host name cannot hold");
	EXPECT_STR_EQ(table_error(dot, 1, true), "host 0 \"*.\" has a '*' other "
		      "than a leading \"*.\"");
	EXPECT_STR_EQ(table_error(empty, 1, true), "host 0 \"\" is empty");
	for (i = 0; i < ARRAY_SIZE(many); i++) {
		snprintf(names[i], sizeof(names[i]), "h%zu", i);
		many[i] = names[i];
	}
	EXPECT_STR_EQ(table_error(many, ARRAY_SIZE(many), true),
		      "host 64 \"h64\": more than 64 hosts");
	tap_end();

	tap_begin("builder: route limit, condition outside a route");
	{
		struct kmesh_rtb *b = kmesh_rtb_new(1);

		EXPECT_EQ(kmesh_rtb_path_exact(b, "/"), -1);
		EXPECT_STR_EQ(kmesh_rtb_error(b),
			      "path exact condition outside a route");
		kmesh_rtb_free(b);

		b = kmesh_rtb_new(1);
		EXPECT(kmesh_rtb_error(b) == NULL);
		EXPECT_EQ(kmesh_rtb_cluster(b, 1, 1), -1);
		EXPECT_STR_EQ(kmesh_rtb_error(b), "action outside a route");
		kmesh_rtb_free(b);

		b = kmesh_rtb_new(1);
		kmesh_rtb_host(b, "h");
		for (i = 0; i <= KMESH_RT_MAX_ROUTES; i++) {
			kmesh_rtb_route(b, i);
			kmesh_rtb_path_exact(b, "/");
			kmesh_rtb_deny(b, 403);
		}
		EXPECT_STR_EQ(kmesh_rtb_error(b),
			      "route 256 (id 256): more than 256 routes");
		kmesh_rtb_free(b);
	}
	tap_end();
}

/* ---- random tables: whatever the builder accepts validates ---- */

static __u32 rnd(__u64 *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Mostly one of the first @valid entries of @v, sometimes any. */
static const char *pick(__u64 *s, const char *const *v, size_t n,
			size_t valid)
{
	return v[rnd(s) % (rnd(s) % 16 ? valid : n)];
}

#define PICK(s, v, valid)	pick(s, v, ARRAY_SIZE(v), valid)

/* Valid entries first: hosts 6, paths 11 (templates 9), header names 3
 * (query 4), header values 6 (query 4). */
static const char *const r_hosts[] = {
	"a", "B.c", "*.d", "*", "[::1]", "f.", "e:1", "*.", "", "g h",
};
static const char *const r_paths[] = {
	"/", "/a", "/a/", "/a/b", "/%41", "/{x}", "/a/{x=**}", "/**",
	"/a/*/c", "/{x}/**/y", "/a{b}", "a", "/a?b", "/a b", "",
};
static const char *const r_names[] = {
	"x", "X-Y", "~!#", "ab:", "a b", "", "k=v", "x&y",
};
static const char *const r_values[] = {
	"", "1", "a,b", "a=b", "a&b", "caf\xc3\xa9", " x", "x ", "\x7f",
};

static void random_cond(struct kmesh_rtb *b, __u64 *s)
{
	__u32 k, m;

	switch (rnd(s) % 8) {
	case 0:
		kmesh_rtb_path_exact(b, PICK(s, r_paths, 11));
		break;
	case 1:
		kmesh_rtb_path_prefix(b, PICK(s, r_paths, 11), rnd(s) % 2);
		break;
	case 2:
		kmesh_rtb_path_template(b, PICK(s, r_paths, 9));
		break;
	case 3:
		m = rnd(s) & KMESH_RT_METHODS_ALL;
		if (rnd(s) % 16 == 0)
			m |= rnd(s) & 0xf801;
		kmesh_rtb_methods(b, m);
		break;
	case 4:
		kmesh_rtb_query(b, PICK(s, r_names, 4), PICK(s, r_values, 4));
		break;
	default:
		k = KMESH_RT_M_HEADER_EXACT + rnd(s) % 4;
		kmesh_rtb_header(b, k, PICK(s, r_names, 3),
				 k <= KMESH_RT_M_HEADER_PREFIX ?
				 PICK(s, r_values, 6) : NULL);
	}
}

static void random_table(__u64 *s, unsigned *accepted)
{
	struct kmesh_rtb *b = kmesh_rtb_new(rnd(s));
	__u32 nh = rnd(s) % 3, nr = rnd(s) % 5 + (rnd(s) % 8 == 0 ? 0 : 1);
	__u32 i, j, k;
	void *blob = NULL;
	__u32 len;

	for (i = 0; i < nh + 1; i++)
		kmesh_rtb_host(b, PICK(s, r_hosts, 6));
	for (i = 0; i < nr; i++) {
		if (rnd(s) % 6 == 0) {
			kmesh_rtb_default_route(b, i);
		} else {
			kmesh_rtb_route(b, i);
			for (j = 1 + rnd(s) % 4; j; j--) {
				if (rnd(s) % 3 == 0)
					kmesh_rtb_match(b);
				random_cond(b, s);
			}
		}
		switch (rnd(s) % 4) {
		case 0:
			kmesh_rtb_deny(b, 390 + rnd(s) % 220);
			break;
		case 1:
			kmesh_rtb_direct(b, 190 + rnd(s) % 420, "body",
					 rnd(s) % 5);
			break;
		default:
			for (k = 1 + rnd(s) % 3; k; k--)
				kmesh_rtb_cluster(b, rnd(s), rnd(s) % 4);
		}
	}
	if (!kmesh_rtb_finish(b, &blob, &len)) {
		struct kmesh_route_verdict v;

		if (!EXPECT_EQ(kmesh_route_validate(blob, len), 0))
			tap_diag("validate: %s", kmesh_route_strerror(
					 kmesh_route_validate(blob, len)));
		EXPECT_EQ(match_rand(blob, rq("GET", "/a/b?x=1&a=b", "a",
					      "x: a,b\r\n"), rnd(s), &v), 0);
		(*accepted)++;
	}
	free(blob);
	kmesh_rtb_free(b);
}

static void test_builder_random(void)
{
	unsigned accepted = 0, i;
	__u64 s = 1;

	tap_begin("builder: every table it finishes validates (random tables)");
	for (i = 0; i < 20000 && !tap_failed_now(); i++)
		random_table(&s, &accepted);
	tap_diag("%u of %u random tables accepted", accepted, i);
	EXPECT(accepted > 1000);
	tap_end();
}

/* ---- fuzz seeds ---- */

/*
 * [__u32 blob length][__u32 rand][blob][head], as fuzz_route.c reads it;
 * each seed twice, the second time with its "repair the layout" bit.
 */
static void write_seed(const char *dir, unsigned *k, const void *blob,
		       __u32 len, __u32 rand, const char *head)
{
	char path[4096];
	unsigned i;
	__u32 n;
	FILE *f;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/seed-%03u", dir, (*k)++);
		f = fopen(path, "wb");
		if (!f) {
			perror(path);
			EXPECT(!"writing a seed");
			return;
		}
		n = len | (i ? 1U << 31 : 0);
		fwrite(&n, sizeof(n), 1, f);
		fwrite(&rand, sizeof(rand), 1, f);
		fwrite(blob, 1, len, f);
		fwrite(head, 1, strlen(head), f);
		EXPECT(!ferror(f));
		EXPECT(!fclose(f));
	}
}

static void write_corpus(const char *dir)
{
	static const char *const heads[] = {
		"GET /api/x HTTP/1.1\r\nHost: a.example.com\r\n\r\n",
		"POST /other HTTP/1.1\r\nHost: a.example.com\r\nx-a: 1\r\n\r\n",
		"GET /u/7?q=1 HTTP/1.1\r\nHost: x.wild.test:80\r\n\r\n",
		"PUT /x HTTP/1.1\r\nHost: A.Example.Com\r\nX-Deny: y\r\n\r\n",
		"GET /teapot HTTP/1.1\r\nHost: a.example.com\r\n\r\n",
		"GET http://a.example.com HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT a.example.com:443 HTTP/1.1\r\nHost: a.example.com:443\r\n\r\n",
		"GET /apix?q=1&q=2 HTTP/1.0\r\n\r\n",
	};
	struct kmesh_rtb *b;
	unsigned k = 0, i;
	__u32 len;
	void *t;

	tap_begin("fuzz seeds written to %s", dir);
	t = shared_table(&len);
	for (i = 0; i < ARRAY_SIZE(heads); i++)
		write_seed(dir, &k, t, len, i * 0x20000000U, heads[i]);
	free(t);

	b = kmesh_rtb_new(2);
	kmesh_rtb_host(b, "*");
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_template(b, "/users/{id}/orders/{rest=**}");
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_PREFIX, "x-b", "1,2");
	kmesh_rtb_cluster(b, 1, 1);
	kmesh_rtb_cluster(b, 2, 0);
	kmesh_rtb_cluster(b, 3, 5);
	kmesh_rtb_route(b, 2);
	kmesh_rtb_query(b, "debug", "");
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_ABSENT, "authorization", NULL);
	kmesh_rtb_direct(b, 200, "ok", 2);
	t = finish(b, &len);
	write_seed(dir, &k, t, len, 7, "GET /users/1/orders/a/b HTTP/1.1\r\n"
		   "Host: h\r\nx-b: 1\r\nX-B: 2\r\n\r\n");
	write_seed(dir, &k, t, len, 9, "GET /?debug HTTP/1.1\r\nHost: h\r\n\r\n");
	free(t);
	tap_end();
}

static void test_abi(void)
{
	tap_begin("route: ABI sizes and limits");
	EXPECT_EQ(sizeof(struct kmesh_rt_table), 100);
	EXPECT_EQ(sizeof(struct kmesh_rt_route), 28);
	EXPECT_EQ(sizeof(struct kmesh_rt_cond), 24);
	EXPECT_EQ(sizeof(struct kmesh_route_verdict), 36);
	EXPECT_EQ(KMESH_ROUTE_MAX_BLOB, KMESH_RT_MAX_BLOB_BYTES);
	EXPECT(KMESH_RT_MAX_SCAN_CONDS <= KMESH_RT_MAX_TABLE_CONDS);
	EXPECT(KMESH_RT_MAX_TABLE_CONDS <=
	       KMESH_RT_MAX_ROUTES * KMESH_RT_MAX_BLOCKS * KMESH_RT_MAX_CONDS);
	tap_end();
}

int main(void)
{
	const char *corpus = getenv("KMESH_ROUTE_CORPUS");

	tap_header();
	test_abi();
	test_hosts();
	test_path_exact_prefix();
	test_path_segment_prefix();
	test_path_template();
	test_methods();
	test_headers();
	test_query();
	test_precedence_actions();
	test_keeps_cluster();
	test_no_route();
	test_split();
	test_bad_requests();
	test_hostile_records();
	test_hostile_layout();
	test_coverage();
	test_strerror();
	test_builder_errors();
	test_builder_tables();
	test_builder_random();
	if (corpus)
		write_corpus(corpus);
	return tap_finish();
}

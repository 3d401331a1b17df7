/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Route and policy conformance vectors: mesh config snippets (the routes
 * and authorization of one service "svc", in the mesh file's own YAML,
 * docs/config.md) and requests with the decision a user sees. The tables
 * are those of the matcher's unit tests (selftests/unit/test_route.c) and
 * of the VM routes area (selftests/prog_tests/routes.c), written once here
 * as config so that both compilers (userspace/lib/l7_build.c: the module's
 * route table and the eBPF policy) take the same input.
 *
 * A request's expected decision: reason (enum kmesh_l7_reason; ALLOW for
 * a forwarded request), status of kmesh's own reply (0 when forwarded),
 * the route (by name; NULL: none), the cluster the module's table picks
 * (kfunc and core; NULL: none) and the policy that refused (by name).
 */
#ifndef KMESH_ROUTE_VECTORS_H
#define KMESH_ROUTE_VECTORS_H

#include <linux/types.h>

struct route_table_vec {
	const char *name;
	const char *yaml;	/* routes: and authorization: of service svc */
};

struct route_case_vec {
	const char *table;
	const char *name;
	const char *head;
	__u32 rand;		/* picks within a weighted split */
	const char *src;	/* client address (authorization), NULL: 10.1.2.3 */
	__u8 reason;		/* enum kmesh_l7_reason */
	__u16 status;
	const char *route;
	const char *cluster;
	const char *policy;
};

/* The service and clusters every table is written against. */
#define ROUTE_VEC_BASE							\
	"services:\n"							\
	"  - {name: svc, addresses: [10.96.0.1], cluster: c-default,\n"	\
	"     ports: [{port: 80, protocol: http}, {port: 8080, protocol: http}]}\n" \
	"clusters:\n"							\
	"  - {name: c-default, endpoints: []}\n"			\
	"  - {name: c-api, endpoints: []}\n"				\
	"  - {name: c-b, endpoints: []}\n"				\
	"  - {name: c-canary, endpoints: []}\n"			\
	"  - {name: c-orders, endpoints: []}\n"			\
	"  - {name: c-static, endpoints: []}\n"

static const struct route_table_vec route_tables[] = {
	/* prog_tests/routes.c's shop */
	{ "shop",
	  "routes:\n"
	  "  - service: svc\n"
	  "    hosts: [shop.example.com, \"*.shop.internal\"]\n"
	  "    http:\n"
	  "      - name: api\n"
	  "        match: [{uri: {segment_prefix: /api}}]\n"
	  "        route: [{cluster: c-api, weight: 90}, {cluster: c-b, weight: 10}]\n"
	  "      - name: canary\n"
	  "        match: [{headers: {X-Canary: {exact: \"1\"}}}, {query_params: {debug: {exact: \"1\"}}}]\n"
	  "        route: [{cluster: c-canary}]\n"
	  "      - name: admin\n"
	  "        match: [{uri: {exact: /admin}, methods: [DELETE]}]\n"
	  "        deny: {status: 403}\n"
	  "      - name: orders\n"
	  "        match: [{uri: {template: \"/users/{id}/orders\"}}]\n"
	  "        route: [{cluster: c-orders}]\n"
	  "      - name: health\n"
	  "        match: [{uri: {exact: /health}}]\n"
	  "        direct_response: {status: 200, body: \"ok\\n\"}\n"
	  "      - name: default\n"
	  "        route: [{cluster: c-default}]\n" },
	/* unit/test_route.c: hosts, wildcards, case, port, trailing dot */
	{ "hosts",
	  "routes:\n"
	  "  - service: svc\n"
	  "    hosts: [Reviews.Default.svc, \"*.wild.test\", \"[::1]\"]\n"
	  "    http:\n"
	  "      - name: all\n"
	  "        match: [{uri: {prefix: /}}]\n"
	  "        route: [{cluster: c-api}]\n" },
	/* unit/test_route.c: exact, prefix, segment prefix, templates */
	{ "paths",
	  "routes:\n"
	  "  - service: svc\n"
	  "    http:\n"
	  "      - name: exact\n"
	  "        match: [{uri: {exact: /a}}]\n"
	  "        route: [{cluster: c-api}]\n"
	  "      - name: prefix\n"
	  "        match: [{uri: {prefix: /b}}]\n"
	  "        route: [{cluster: c-b}]\n"
	  "      - name: segment\n"
	  "        match: [{uri: {segment_prefix: /c}}]\n"
	  "        route: [{cluster: c-canary}]\n"
	  "      - name: slash-segment\n"
	  "        match: [{uri: {segment_prefix: /d/}}]\n"
	  "        route: [{cluster: c-canary}]\n"
	  "      - name: rest\n"
	  "        match: [{uri: {template: \"/static/{f=**}\"}}]\n"
	  "        route: [{cluster: c-static}]\n"
	  "      - name: one\n"
	  "        match: [{uri: {template: \"/users/*/x\"}}]\n"
	  "        route: [{cluster: c-orders}]\n"
	  "      - name: two\n"
	  "        match: [{uri: {template: \"/{a}/{b}\"}}]\n"
	  "        route: [{cluster: c-default}]\n"
	  "      - name: deep\n"
	  "        match: [{uri: {template: \"/q/**\"}}]\n"
	  "        deny: {status: 410}\n" },
	/* unit/test_route.c: methods, headers (joined lines), query */
	{ "conds",
	  "routes:\n"
	  "  - service: svc\n"
	  "    http:\n"
	  "      - name: methods\n"
	  "        match: [{uri: {prefix: /m}, methods: [POST, PROPFIND]}]\n"
	  "        route: [{cluster: c-api}]\n"
	  "      - name: hdr-exact\n"
	  "        match: [{headers: {x-env: {exact: prod}}}]\n"
	  "        route: [{cluster: c-b}]\n"
	  "      - name: hdr-joined\n"
	  "        match: [{headers: {x-multi: {exact: \"1,2\"}}}]\n"
	  "        route: [{cluster: c-canary}]\n"
	  "      - name: hdr-prefix\n"
	  "        match: [{headers: {user-agent: {prefix: curl/}}}]\n"
	  "        route: [{cluster: c-orders}]\n"
	  "      - name: hdr-present-absent\n"
	  "        match: [{headers: {x-a: {present: true}, x-b: {absent: true}}}]\n"
	  "        route: [{cluster: c-static}]\n"
	  "      - name: query\n"
	  "        match: [{query_params: {v: {exact: \"2\"}, flag: {exact: \"\"}}}]\n"
	  "        direct_response: {status: 202, body: q}\n" },
	/* unit/test_route.c: no host, no route, no default */
	{ "noroute",
	  "routes:\n"
	  "  - service: svc\n"
	  "    hosts: [only.test]\n"
	  "    http:\n"
	  "      - name: x\n"
	  "        match: [{uri: {exact: /x}}]\n"
	  "        route: [{cluster: c-api}]\n" },
	/* unit/test_route.c: a lone default route */
	{ "lone-default",
	  "routes:\n"
	  "  - service: svc\n"
	  "    http:\n"
	  "      - name: everything\n"
	  "        deny: {status: 503}\n" },
	/* unit/test_route.c: weighted split, zero weights never picked */
	{ "split",
	  "routes:\n"
	  "  - service: svc\n"
	  "    http:\n"
	  "      - name: split\n"
	  "        route: [{cluster: c-api, weight: 1}, {cluster: c-b, weight: 0},\n"
	  "                {cluster: c-canary, weight: 2}, {cluster: c-orders, weight: 1}]\n" },
	/* authorization: deny wins, then "an ALLOW exists and none matched" */
	{ "authz",
	  "routes:\n"
	  "  - service: svc\n"
	  "    http:\n"
	  "      - name: api\n"
	  "        match: [{uri: {segment_prefix: /api}}]\n"
	  "        route: [{cluster: c-api}]\n"
	  "      - name: default\n"
	  "        route: [{cluster: c-default}]\n"
	  "authorization:\n"
	  "  - name: no-admin\n"
	  "    service: svc\n"
	  "    action: DENY\n"
	  "    rules:\n"
	  "      - to: [{operation: {paths: [\"/admin*\", \"*.php\"]}}]\n"
	  "      - when: [{key: \"request.headers[x-user]\", values: [evil, \"bad-*\", \"*-root\"]}]\n"
	  "  - name: readers\n"
	  "    service: svc\n"
	  "    rules:\n"
	  "      - to: [{operation: {methods: [GET, HEAD], hosts: [\"*.example.com\", api.test]}}]\n"
	  "      - from: [{source: {ip_blocks: [10.9.0.0/16]}}]\n"
	  "        to: [{operation: {ports: [8080]}}]\n" },
	/* authorization without routes: not_ forms, source and header sets */
	{ "authz-only",
	  "authorization:\n"
	  "  - name: inside\n"
	  "    service: svc\n"
	  "    rules:\n"
	  "      - from: [{source: {ip_blocks: [10.0.0.0/8], not_ip_blocks: [10.66.0.0/16]}}]\n"
	  "        to: [{operation: {not_paths: [\"/private*\"], not_methods: [DELETE]}}]\n"
	  "      - when: [{key: \"request.headers[x-token]\", values: [\"*\"]},\n"
	  "               {key: \"request.headers[x-team]\", not_values: [\"*-ext\"]}]\n" },
};

/* Requests at the fallback's limits (KMESH_L7_QUERY_PARAMS, 255 path
 * segments, KMESH_L7_MAX_HOST). */
#define Q10	"a&a&a&a&a&a&a&a&a&a&"
#define S10	"/x/x/x/x/x/x/x/x/x/x"
#define S100	S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define L10	"aaaaaaaaa."
#define L100	L10 L10 L10 L10 L10 L10 L10 L10 L10 L10

#define SHOP(line, extra) line " HTTP/1.1\r\nHost: shop.example.com\r\n" extra "\r\n"
#define H(line, extra) line " HTTP/1.1\r\nHost: h\r\n" extra "\r\n"
#define OK	KMESH_L7_R_ALLOW

static const struct route_case_vec route_cases[] = {
	/* shop */
	{ "shop", "segment prefix, first split entry", SHOP("GET /api/v1/items", ""), 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "shop", "segment prefix equal", SHOP("GET /api", ""), 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "shop", "split: last rand, last entry", SHOP("GET /api/x", ""), 0xffffffff, NULL, OK, 0, "api", "c-b", NULL },
	{ "shop", "not at a segment: default", SHOP("GET /apix", ""), 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "shop", "header, name case-insensitive", SHOP("GET /cart", "x-canary: 1\r\n"), 0, NULL, OK, 0, "canary", "c-canary", NULL },
	{ "shop", "second match block: query", SHOP("GET /cart?a=2&debug=1", ""), 0, NULL, OK, 0, "canary", "c-canary", NULL },
	{ "shop", "header value case-sensitive", SHOP("GET /cart", "X-Canary: 2\r\n"), 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "shop", "deny route", SHOP("DELETE /admin", ""), 0, NULL, KMESH_L7_R_ROUTE_DENY, 403, "admin", NULL, NULL },
	{ "shop", "deny route: other method", SHOP("GET /admin", ""), 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "shop", "template", SHOP("GET /users/42/orders", ""), 0, NULL, OK, 0, "orders", "c-orders", NULL },
	{ "shop", "template: one more segment", SHOP("GET /users/42/orders/x", ""), 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "shop", "direct response", SHOP("GET /health", ""), 0, NULL, KMESH_L7_R_DIRECT, 200, "health", NULL, NULL },
	{ "shop", "wildcard host with port", "GET /api HTTP/1.1\r\nHost: a.shop.internal:8080\r\n\r\n", 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "shop", "host case", "GET /api HTTP/1.1\r\nHost: SHOP.Example.COM\r\n\r\n", 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "shop", "other host: no route", "GET /api HTTP/1.1\r\nHost: evil.example.com\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "shop", "host of 300 bytes, wildcard", "GET /api HTTP/1.1\r\nHost: " L100 L100 L100 "shop.internal\r\n\r\n", 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "shop", "absolute-form: the target's authority", "GET http://shop.example.com/api/v1?debug=1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "shop", "absolute-form without path is /", "GET http://shop.example.com HTTP/1.1\r\nHost: x\r\n\r\n", 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "shop", "CONNECT: no path, the default", "CONNECT a.shop.internal:443 HTTP/1.1\r\nHost: a.shop.internal:443\r\n\r\n", 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "shop", "OPTIONS *: no path", "OPTIONS * HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", 0, NULL, OK, 0, "default", "c-default", NULL },
	/* hosts */
	{ "hosts", "exact host lower-cased", "GET / HTTP/1.1\r\nHost: reviews.default.SVC\r\n\r\n", 0, NULL, OK, 0, "all", "c-api", NULL },
	{ "hosts", "trailing dot ignored", "GET / HTTP/1.1\r\nHost: reviews.default.svc.\r\n\r\n", 0, NULL, OK, 0, "all", "c-api", NULL },
	{ "hosts", "wildcard: one label", "GET / HTTP/1.1\r\nHost: a.wild.test\r\n\r\n", 0, NULL, OK, 0, "all", "c-api", NULL },
	{ "hosts", "wildcard: two labels", "GET / HTTP/1.1\r\nHost: a.b.wild.test:81\r\n\r\n", 0, NULL, OK, 0, "all", "c-api", NULL },
	{ "hosts", "wildcard: not the bare suffix", "GET / HTTP/1.1\r\nHost: wild.test\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "hosts", "wildcard: not a longer label", "GET / HTTP/1.1\r\nHost: xwild.test\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "hosts", "IPv6 literal with port", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0, NULL, OK, 0, "all", "c-api", NULL },
	{ "hosts", "IPv6: another address", "GET / HTTP/1.1\r\nHost: [::2]\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	/* paths */
	{ "paths", "exact", H("GET /a", ""), 0, NULL, OK, 0, "exact", "c-api", NULL },
	{ "paths", "exact: query is not the path", H("GET /a?x=1", ""), 0, NULL, OK, 0, "exact", "c-api", NULL },
	{ "paths", "exact: longer", H("GET /ab", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "paths", "byte prefix", H("GET /bxyz", ""), 0, NULL, OK, 0, "prefix", "c-b", NULL },
	{ "paths", "segment prefix: slash", H("GET /c/", ""), 0, NULL, OK, 0, "segment", "c-canary", NULL },
	{ "paths", "segment prefix: query", H("GET /c?q", ""), 0, NULL, OK, 0, "segment", "c-canary", NULL },
	{ "paths", "segment prefix: longer segment", H("GET /cx", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "paths", "segment prefix ending in /", H("GET /d/x", ""), 0, NULL, OK, 0, "slash-segment", "c-canary", NULL },
	{ "paths", "segment prefix ending in /: without it", H("GET /d", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "paths", "template **: nothing", H("GET /static", ""), 0, NULL, OK, 0, "rest", "c-static", NULL },
	{ "paths", "template **: slash", H("GET /static/", ""), 0, NULL, OK, 0, "rest", "c-static", NULL },
	{ "paths", "template **: deep", H("GET /static/a/b/c.css", ""), 0, NULL, OK, 0, "rest", "c-static", NULL },
	{ "paths", "template *", H("GET /users/7/x", ""), 0, NULL, OK, 0, "one", "c-orders", NULL },
	{ "paths", "template {a}/{b}", H("GET /p/q", ""), 0, NULL, OK, 0, "two", "c-default", NULL },
	{ "paths", "template {a}/{b}: trailing slash", H("GET /p/q/", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "paths", "template {a}/{b}: empty segment", H("GET /p/", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "paths", "template deny, 18 segments", H("GET /q/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", ""), 0, NULL, KMESH_L7_R_ROUTE_DENY, 410, "deep", NULL, NULL },
	{ "paths", "template {a}/{b}: 20 segments", H("GET /1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "paths", "template: 300 segments", H("GET /q" S100 S100 S100, ""), 0, NULL, KMESH_L7_R_ROUTE_DENY, 410, "deep", NULL, NULL },
	{ "paths", "prefix before any template: 300 segments", H("GET /b" S100 S100 S100, ""), 0, NULL, OK, 0, "prefix", "c-b", NULL },
	/* conds */
	{ "conds", "method in the set", H("POST /m", ""), 0, NULL, OK, 0, "methods", "c-api", NULL },
	{ "conds", "unknown method token is OTHER", H("PROPFIND /m", ""), 0, NULL, OK, 0, "methods", "c-api", NULL },
	{ "conds", "OTHER matches any unknown token", H("MKCOL /m", ""), 0, NULL, OK, 0, "methods", "c-api", NULL },
	{ "conds", "method not in the set", H("GET /m", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "conds", "header exact", H("GET /", "X-Env: prod\r\n"), 0, NULL, OK, 0, "hdr-exact", "c-b", NULL },
	{ "conds", "header exact: prefix only", H("GET /", "X-Env: production\r\n"), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "conds", "header exact: two lines joined", H("GET /", "x-env: prod\r\nx-env: prod\r\n"), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "conds", "header lines joined with ,", H("GET /", "x-multi: 1\r\nX-Multi: 2\r\n"), 0, NULL, OK, 0, "hdr-joined", "c-canary", NULL },
	{ "conds", "header prefix", H("GET /", "User-Agent: curl/8.1\r\n"), 0, NULL, OK, 0, "hdr-prefix", "c-orders", NULL },
	{ "conds", "present and absent", H("GET /", "x-a: \r\n"), 0, NULL, OK, 0, "hdr-present-absent", "c-static", NULL },
	{ "conds", "present and absent: both there", H("GET /", "x-a: 1\r\nx-b: 1\r\n"), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "conds", "query: bare name is empty", H("GET /x?flag&v=2", ""), 0, NULL, KMESH_L7_R_DIRECT, 202, "query", NULL, NULL },
	{ "conds", "query: empty params skipped", H("GET /x?&&v=2&&flag=", ""), 0, NULL, KMESH_L7_R_DIRECT, 202, "query", NULL, NULL },
	{ "conds", "query: the first one decides", H("GET /x?v=3&v=2&flag", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "conds", "query: not decoded", H("GET /x?v=%32&flag", ""), 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "conds", "query: 40 parameters, the named ones last", H("GET /x?" Q10 Q10 Q10 Q10 "v=2&flag", ""), 0, NULL, KMESH_L7_R_DIRECT, 202, "query", NULL, NULL },
	{ "conds", "query: 40 parameters, an earlier route takes it", H("GET /x?" Q10 Q10 Q10 Q10 "v=2&flag", "x-env: prod\r\n"), 0, NULL, OK, 0, "hdr-exact", "c-b", NULL },
	{ "conds", "query: 40 parameters, the named ones first", H("GET /x?v=2&flag&" Q10 Q10 Q10 Q10 "b", ""), 0, NULL, KMESH_L7_R_DIRECT, 202, "query", NULL, NULL },
	/* noroute */
	{ "noroute", "no vhost", "GET /x HTTP/1.1\r\nHost: other.test\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "noroute", "no route, no default", "GET /y HTTP/1.1\r\nHost: only.test\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ROUTE, 404, NULL, NULL, NULL },
	{ "noroute", "the route", "GET /x HTTP/1.1\r\nHost: ONLY.test\r\n\r\n", 0, NULL, OK, 0, "x", "c-api", NULL },
	/* lone-default */
	{ "lone-default", "a path", H("GET /anything", ""), 0, NULL, KMESH_L7_R_ROUTE_DENY, 503, "everything", NULL, NULL },
	{ "lone-default", "no path", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0, NULL, KMESH_L7_R_ROUTE_DENY, 503, "everything", NULL, NULL },
	{ "lone-default", "host of 300 bytes", "GET / HTTP/1.1\r\nHost: " L100 L100 L100 "test\r\n\r\n", 0, NULL, KMESH_L7_R_ROUTE_DENY, 503, "everything", NULL, NULL },
	/* split: total 4; rand * 4 >> 32 picks 0 | 1 1 | 2 */
	{ "split", "rand 0", H("GET /", ""), 0, NULL, OK, 0, "split", "c-api", NULL },
	{ "split", "rand 1/4 - 1", H("GET /", ""), 0x3fffffff, NULL, OK, 0, "split", "c-api", NULL },
	{ "split", "rand 1/4: zero weight skipped", H("GET /", ""), 0x40000000, NULL, OK, 0, "split", "c-canary", NULL },
	{ "split", "rand 3/4 - 1", H("GET /", ""), 0xbfffffff, NULL, OK, 0, "split", "c-canary", NULL },
	{ "split", "rand max", H("GET /", ""), 0xffffffff, NULL, OK, 0, "split", "c-orders", NULL },
	/* authz */
	{ "authz", "allowed GET", "GET /api/x HTTP/1.1\r\nHost: a.example.com\r\n\r\n", 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "authz", "deny wins over allow", "GET /admin/x HTTP/1.1\r\nHost: api.test\r\n\r\n", 0, NULL, KMESH_L7_R_DENY_POLICY, 403, "default", "c-default", "no-admin" },
	{ "authz", "deny: path suffix", "HEAD /a/b.php HTTP/1.1\r\nHost: api.test\r\n\r\n", 0, NULL, KMESH_L7_R_DENY_POLICY, 403, "default", "c-default", "no-admin" },
	{ "authz", "deny: header value prefix", "GET / HTTP/1.1\r\nHost: api.test\r\nx-user: bad-guy\r\n\r\n", 0, NULL, KMESH_L7_R_DENY_POLICY, 403, "default", "c-default", "no-admin" },
	{ "authz", "deny: header suffix", "GET / HTTP/1.1\r\nHost: api.test\r\nx-user: me-root\r\n\r\n", 0, NULL, KMESH_L7_R_DENY_POLICY, 403, "default", "c-default", "no-admin" },
	{ "authz", "header suffix on a 300-byte value", "GET / HTTP/1.1\r\nHost: api.test\r\nx-user: " L100 L100 L100 "\r\n\r\n", 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "authz", "deny: header exact, other value", "GET / HTTP/1.1\r\nHost: api.test\r\nx-user: evil2\r\n\r\n", 0, NULL, OK, 0, "default", "c-default", NULL },
	{ "authz", "no allow: method", "POST /api HTTP/1.1\r\nHost: api.test\r\nContent-Length: 0\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ALLOW, 403, "api", "c-api", NULL },
	{ "authz", "no allow: host", "GET /api HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, NULL, KMESH_L7_R_NO_ALLOW, 403, "api", "c-api", NULL },
	{ "authz", "allow: host case and port", "GET /api HTTP/1.1\r\nHost: X.Example.com:80\r\n\r\n", 0, NULL, OK, 0, "api", "c-api", NULL },
	{ "authz", "no allow: source outside, port 80", "POST /api HTTP/1.1\r\nHost: api.test\r\nContent-Length: 0\r\n\r\n", 0, "10.9.1.1", KMESH_L7_R_NO_ALLOW, 403, "api", "c-api", NULL },
	/* authz-only (no routes: never a 404) */
	{ "authz-only", "inside", H("GET /x", ""), 0, "10.1.2.3", OK, 0, NULL, NULL, NULL },
	{ "authz-only", "excluded subnet", H("GET /x", ""), 0, "10.66.0.1", KMESH_L7_R_NO_ALLOW, 403, NULL, NULL, NULL },
	{ "authz-only", "outside", H("GET /x", ""), 0, "192.168.0.1", KMESH_L7_R_NO_ALLOW, 403, NULL, NULL, NULL },
	{ "authz-only", "outside with a token", H("GET /x", "X-Token: t\r\n"), 0, "192.168.0.1", OK, 0, NULL, NULL, NULL },
	{ "authz-only", "token, but an external team", H("GET /x", "X-Token: t\r\nx-team: a-ext\r\n"), 0, "192.168.0.1", KMESH_L7_R_NO_ALLOW, 403, NULL, NULL, NULL },
	{ "authz-only", "not_paths", H("GET /private/x", ""), 0, "10.1.2.3", KMESH_L7_R_NO_ALLOW, 403, NULL, NULL, NULL },
	{ "authz-only", "not_methods", H("DELETE /x", ""), 0, "10.1.2.3", KMESH_L7_R_NO_ALLOW, 403, NULL, NULL, NULL },
};

#undef SHOP
#undef H
#undef OK
#undef Q10
#undef S10
#undef S100
#undef L10
#undef L100

#endif /* KMESH_ROUTE_VECTORS_H */

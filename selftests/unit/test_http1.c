// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the HTTP/1.1 request-head parser (kmod/core/http1.c).
 *
 * Every accepted and rejected request below is also fed at every split
 * point and byte by byte, and must give exactly the result it gives whole.
 * Buffers are exact-size heap copies so ASan sees any read past the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "tap.h"

/* A string literal as (pointer, length), so that it may hold NUL bytes. */
#define S(lit)		lit, sizeof(lit) - 1
#define F(x)		KMESH_HTTP_F_##x
#define E(x)		KMESH_HTTP_E_##x
#define NO_PORT		-1

static __u8 *dup_bytes(const char *s, size_t n)
{
	__u8 *b = malloc(n ? n : 1);

	if (!b) {
		perror("malloc");
		exit(2);
	}
	memcpy(b, s, n);
	return b;
}

/* One call on a fresh req with an exact-size copy of the bytes. */
static int parse_n(struct kmesh_http_req *r, const char *s, size_t n,
		   const struct kmesh_http1_limits *lim)
{
	__u8 *b = dup_bytes(s, n);
	int rc;

	kmesh_http1_init(r);
	rc = kmesh_http1_parse(r, b, n, lim);
	free(b);
	return rc;
}

static int parse_s(struct kmesh_http_req *r, const char *s,
		   const struct kmesh_http1_limits *lim)
{
	return parse_n(r, s, strlen(s), lim);
}

/* Text of a span, from a small ring so that several fit in one EXPECT. */
static const char *sp(const char *buf, struct kmesh_http_span s)
{
	static char ring[8][1024];
	static int k;
	char *o = ring[k++ % 8];

	snprintf(o, sizeof(ring[0]), "%.*s", (int)s.len, buf + s.off);
	return o;
}

/* Structural invariants that hold after any call. */
static void check_invariants(const struct kmesh_http_req *r, int rc, size_t n)
{
	unsigned int i;

	EXPECT(rc >= 0 && rc < KMESH_HTTP_STATUS_MAX);
	EXPECT_EQ(r->status, rc);
	EXPECT(r->consumed <= n);
	EXPECT(r->nr_headers <= KMESH_HTTP_MAX_HEADERS);
	if (rc == KMESH_HTTP_NEED_MORE)
		EXPECT(r->scan <= n && r->consumed <= r->scan);
	if (rc != KMESH_HTTP_OK)
		return;
	EXPECT_EQ(r->consumed, r->head_len);
	EXPECT(r->head_len >= 4 && r->head_len <= n);
	for (i = 0; i < r->nr_headers; i++) {
		EXPECT(r->hdrs[i].name.off + r->hdrs[i].name.len <= r->head_len);
		EXPECT(r->hdrs[i].value.off + r->hdrs[i].value.len <= r->head_len);
	}
	EXPECT(r->host.off + r->host.len <= r->head_len);
	EXPECT(r->target.off + r->target.len <= r->head_len);
}

/*
 * The whole result against two deliveries: a prefix then everything, for
 * every prefix length, and one byte more per call.
 */
static void check_splits(const char *s, size_t n,
			 const struct kmesh_http1_limits *lim)
{
	struct kmesh_http_req whole, part;
	__u8 *full = dup_bytes(s, n), *pre;
	int rc, rc1, rc2;
	size_t k, bad_k = (size_t)-1;

	kmesh_http1_init(&whole);
	rc = kmesh_http1_parse(&whole, full, n, lim);
	check_invariants(&whole, rc, n);

	for (k = 0; k <= n && bad_k == (size_t)-1; k++) {
		pre = dup_bytes(s, k);
		kmesh_http1_init(&part);
		rc1 = kmesh_http1_parse(&part, pre, k, lim);
		free(pre);
		if (rc1 == KMESH_HTTP_NEED_MORE) {
			if (part.consumed > k || part.scan > k)
				bad_k = k;
		} else if (rc1 != rc || memcmp(&part, &whole, sizeof(part))) {
			bad_k = k;	/* a prefix verdict must be final */
		}
		rc2 = kmesh_http1_parse(&part, full, n, lim);
		if (rc2 != rc || memcmp(&part, &whole, sizeof(part)))
			bad_k = k;
	}
	EXPECT_EQ(bad_k, (size_t)-1);

	kmesh_http1_init(&part);
	rc2 = KMESH_HTTP_NEED_MORE;
	for (k = 0; k <= n && rc2 == KMESH_HTTP_NEED_MORE; k++)
		rc2 = kmesh_http1_parse(&part, full, k, lim);
	/* a final verdict ignores the rest; a last full call must agree */
	rc2 = kmesh_http1_parse(&part, full, n, lim);
	EXPECT_EQ(rc2, rc);
	EXPECT(!memcmp(&part, &whole, sizeof(part)));
	free(full);
}

/* ---- accepted requests: every field checked ---- */

struct accept_case {
	const char *name;
	const char *req;
	int method;
	const char *method_tok;
	int version;
	int form;
	const char *target, *path, *query, *host;
	int port;
	__u32 flags;
	__u64 cl;
	int nr_headers;
};

#define H11 KMESH_HTTP_V_11
#define H10 KMESH_HTTP_V_10
#define M(x) KMESH_HTTP_M_##x, #x
#define ORIGIN KMESH_HTTP_FORM_ORIGIN
#define ABSOLUTE KMESH_HTTP_FORM_ABSOLUTE
#define AUTHORITY KMESH_HTTP_FORM_AUTHORITY
#define ASTERISK KMESH_HTTP_FORM_ASTERISK
#define HP (F(HAS_HOST) | F(PERSISTENT))

static const struct accept_case accepts[] = {
	{ "minimal GET",
	  "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "example.com", NO_PORT,
	  HP, 0, 1 },
	{ "path and query split at the first '?'",
	  "GET /a/b;p=1?x=1&y=%2F?z HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "/a/b;p=1?x=1&y=%2F?z", "/a/b;p=1",
	  "x=1&y=%2F?z", "h", NO_PORT, HP | F(HAS_QUERY), 0, 1 },
	{ "empty query is still a query",
	  "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "/p?", "/p", "", "h", NO_PORT,
	  HP | F(HAS_QUERY), 0, 1 },
	{ "every pchar and sub-delim in the path",
	  "GET /AZaz09-._~!$&'()*+,;=:@%aF/ HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "/AZaz09-._~!$&'()*+,;=:@%aF/",
	  "/AZaz09-._~!$&'()*+,;=:@%aF/", "", "h", NO_PORT, HP, 0, 1 },
	{ "POST with Content-Length and Host port",
	  "POST /upload HTTP/1.1\r\nHost: h:8080\r\nContent-Length: 42\r\n\r\n",
	  M(POST), H11, ORIGIN, "/upload", "/upload", "", "h", 8080,
	  HP | F(HAS_PORT) | F(HAS_CL) | F(HAS_BODY), 42, 2 },
	{ "Content-Length 0 has no body",
	  "PUT /x HTTP/1.1\r\nHost: h\r\ncontent-LENGTH: 0\r\n\r\n",
	  M(PUT), H11, ORIGIN, "/x", "/x", "", "h", NO_PORT,
	  HP | F(HAS_CL), 0, 2 },
	{ "Content-Length leading zeros",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n",
	  M(POST), H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP | F(HAS_CL) | F(HAS_BODY), 7, 2 },
	{ "Content-Length 2^63-1",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n",
	  M(POST), H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP | F(HAS_CL) | F(HAS_BODY), 9223372036854775807ULL, 2 },
	{ "chunked",
	  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
	  M(POST), H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP | F(CHUNKED) | F(HAS_BODY), 0, 2 },
	{ "chunked, case and OWS trimmed",
	  "POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding:\t CHUNKED \t\r\n\r\n",
	  M(POST), H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP | F(CHUNKED) | F(HAS_BODY), 0, 2 },
	{ "gzip, chunked",
	  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip ,\tchunked\r\n\r\n",
	  M(POST), H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP | F(CHUNKED) | F(HAS_BODY), 0, 2 },
	{ "absolute-form with port and query",
	  "GET http://example.com:8080/p?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://example.com:8080/p?q=1", "/p", "q=1",
	  "example.com", 8080, HP | F(HAS_PORT) | F(HAS_QUERY), 0, 1 },
	{ "absolute-form https, Host disagrees: target wins",
	  "GET https://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "https://a.example/x", "/x", "", "a.example",
	  NO_PORT, HP | F(HTTPS) | F(HOST_MISMATCH), 0, 1 },
	{ "absolute-form scheme and host case-insensitive",
	  "GET HTTP://Example.COM/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "HTTP://Example.COM/", "/", "", "Example.COM",
	  NO_PORT, HP, 0, 1 },
	{ "absolute-form explicit vs implied port differ",
	  "GET http://h:80/ HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://h:80/", "/", "", "h", 80,
	  HP | F(HAS_PORT) | F(HOST_MISMATCH), 0, 1 },
	{ "absolute-form ports differ",
	  "GET http://h:80/ HTTP/1.1\r\nHost: h:81\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://h:80/", "/", "", "h", 80,
	  HP | F(HAS_PORT) | F(HOST_MISMATCH), 0, 1 },
	{ "absolute-form same port",
	  "GET http://h:80/ HTTP/1.1\r\nHost: H:080\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://h:80/", "/", "", "h", 80,
	  HP | F(HAS_PORT), 0, 1 },
	{ "absolute-form without path",
	  "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://h", "", "", "h", NO_PORT, HP, 0, 1 },
	{ "absolute-form query without path",
	  "GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://h?x", "", "x", "h", NO_PORT,
	  HP | F(HAS_QUERY), 0, 1 },
	{ "absolute-form IPv6 literal",
	  "GET http://[::1]:8443/ HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
	  M(GET), H11, ABSOLUTE, "http://[::1]:8443/", "/", "", "[::1]", 8443,
	  HP | F(HAS_PORT) | F(HOST_IPV6), 0, 1 },
	{ "absolute-form in HTTP/1.0 needs no Host",
	  "GET http://h/x HTTP/1.0\r\n\r\n",
	  M(GET), H10, ABSOLUTE, "http://h/x", "/x", "", "h", NO_PORT,
	  0, 0, 0 },
	{ "CONNECT authority-form",
	  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	  M(CONNECT), H11, AUTHORITY, "example.com:443", "", "",
	  "example.com", 443, HP | F(HAS_PORT), 0, 1 },
	{ "CONNECT IPv6, Host differs",
	  "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n",
	  M(CONNECT), H11, AUTHORITY, "[2001:db8::1]:443", "", "",
	  "[2001:db8::1]", 443,
	  HP | F(HAS_PORT) | F(HOST_IPV6) | F(HOST_MISMATCH), 0, 1 },
	{ "OPTIONS asterisk-form",
	  "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(OPTIONS), H11, ASTERISK, "*", "", "", "h", NO_PORT, HP, 0, 1 },
	{ "OPTIONS origin-form",
	  "OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(OPTIONS), H11, ORIGIN, "/x", "/x", "", "h", NO_PORT, HP, 0, 1 },
	{ "HTTP/1.0 without Host, not persistent",
	  "GET /x HTTP/1.0\r\n\r\n",
	  M(GET), H10, ORIGIN, "/x", "/x", "", "", NO_PORT, 0, 0, 0 },
	{ "HTTP/1.0 keep-alive",
	  "HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	  M(HEAD), H10, ORIGIN, "/", "/", "", "", NO_PORT,
	  F(CONN_KEEP_ALIVE) | F(PERSISTENT), 0, 1 },
	{ "HTTP/1.1 Connection: close",
	  "DELETE /r/1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	  M(DELETE), H11, ORIGIN, "/r/1", "/r/1", "", "h", NO_PORT,
	  F(HAS_HOST) | F(CONN_CLOSE), 0, 2 },
	{ "Connection list and Upgrade",
	  "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive \t, Upgrade\r\n"
	  "Upgrade: websocket\r\n\r\n",
	  M(GET), H11, ORIGIN, "/ws", "/ws", "", "h", NO_PORT,
	  HP | F(CONN_KEEP_ALIVE) | F(CONN_UPGRADE) | F(UPGRADE), 0, 3 },
	{ "Connection close wins over keep-alive in HTTP/1.0",
	  "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: ,close,\r\n\r\n",
	  M(GET), H10, ORIGIN, "/", "/", "", "", NO_PORT,
	  F(CONN_KEEP_ALIVE) | F(CONN_CLOSE), 0, 2 },
	{ "Expect: 100-continue",
	  "PATCH /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
	  "Content-Length: 3\r\n\r\n",
	  M(PATCH), H11, ORIGIN, "/x", "/x", "", "h", NO_PORT,
	  HP | F(EXPECT_CONTINUE) | F(HAS_CL) | F(HAS_BODY), 3, 3 },
	{ "Expect: 100-continue ignored in HTTP/1.0",
	  "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
	  M(POST), H10, ORIGIN, "/", "/", "", "", NO_PORT, 0, 0, 1 },
	{ "other Expect",
	  "GET / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP | F(EXPECT_OTHER), 0, 2 },
	{ "empty Host is valid",
	  "GET / HTTP/1.1\r\nHost:\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "", NO_PORT, HP, 0, 1 },
	{ "Host with empty port",
	  "GET / HTTP/1.1\r\nHost: h.example.:\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "h.example.", NO_PORT, HP, 0, 1 },
	{ "Host IPv6 with port, OWS trimmed",
	  "GET / HTTP/1.1\r\nHost: \t[fe80::1:2]:0 \r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "[fe80::1:2]", 0,
	  HP | F(HAS_PORT) | F(HOST_IPV6), 0, 1 },
	{ "Host IPv4 and port 65535",
	  "GET / HTTP/1.1\r\nHost: 10.0.0.1:65535\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "10.0.0.1", 65535,
	  HP | F(HAS_PORT), 0, 1 },
	{ "leading empty lines are skipped",
	  "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "h", NO_PORT, HP, 0, 1 },
	{ "other method token",
	  "PROPFIND /dav HTTP/1.1\r\nHost: h\r\n\r\n",
	  KMESH_HTTP_M_OTHER, "PROPFIND", H11, ORIGIN, "/dav", "/dav", "", "h",
	  NO_PORT, HP, 0, 1 },
	{ "methods are case-sensitive",
	  "get / HTTP/1.1\r\nHost: h\r\n\r\n",
	  KMESH_HTTP_M_OTHER, "get", H11, ORIGIN, "/", "/", "", "h", NO_PORT,
	  HP, 0, 1 },
	{ "TRACE",
	  "TRACE / HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(TRACE), H11, ORIGIN, "/", "/", "", "h", NO_PORT, HP, 0, 1 },
	{ "underscore name is just another header",
	  "GET / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: gzip\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "h", NO_PORT, HP, 0, 2 },
	{ "obs-text and HTAB in values",
	  "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\tau lait\r\n\r\n",
	  M(GET), H11, ORIGIN, "/", "/", "", "h", NO_PORT, HP, 0, 2 },
	{ "double slash path",
	  "GET // HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "//", "//", "", "h", NO_PORT, HP, 0, 1 },
};

static void test_accepts(void)
{
	const struct accept_case *c;
	struct kmesh_http_req r;
	size_t i, n;
	int rc;

	for (i = 0; i < ARRAY_SIZE(accepts); i++) {
		c = &accepts[i];
		n = strlen(c->req);
		tap_begin("accept: %s", c->name);
		rc = parse_n(&r, c->req, n, NULL);
		EXPECT_EQ(rc, KMESH_HTTP_OK);
		check_invariants(&r, rc, n);
		EXPECT_EQ(r.method, c->method);
		EXPECT_STR_EQ(sp(c->req, r.method_tok), c->method_tok);
		EXPECT_EQ(r.version, c->version);
		EXPECT_EQ(r.target_form, c->form);
		EXPECT_STR_EQ(sp(c->req, r.target), c->target);
		EXPECT_STR_EQ(sp(c->req, r.path), c->path);
		EXPECT_STR_EQ(sp(c->req, r.query), c->query);
		EXPECT_STR_EQ(sp(c->req, r.host), c->host);
		if (c->port == NO_PORT) {
			EXPECT(!(r.flags & F(HAS_PORT)));
			EXPECT_EQ(r.port, 0);
		} else {
			EXPECT_EQ(r.port, c->port);
		}
		EXPECT_EQ(r.flags, c->flags);
		EXPECT_EQ(r.content_length, c->cl);
		EXPECT_EQ(r.nr_headers, c->nr_headers);
		EXPECT_EQ(r.head_len, n);
		EXPECT_EQ(r.err_off, 0);
		check_splits(c->req, n, NULL);
		tap_end();
	}
}

static void test_every_method(void)
{
	static const struct { const char *tok; int code; } m[] = {
		{ "GET", KMESH_HTTP_M_GET }, { "HEAD", KMESH_HTTP_M_HEAD },
		{ "POST", KMESH_HTTP_M_POST }, { "PUT", KMESH_HTTP_M_PUT },
		{ "DELETE", KMESH_HTTP_M_DELETE },
		{ "OPTIONS", KMESH_HTTP_M_OPTIONS },
		{ "TRACE", KMESH_HTTP_M_TRACE }, { "PATCH", KMESH_HTTP_M_PATCH },
		{ "GETS", KMESH_HTTP_M_OTHER }, { "GE", KMESH_HTTP_M_OTHER },
		{ "Post", KMESH_HTTP_M_OTHER },
		{ "!#$%&'*+-.^_`|~09azAZ", KMESH_HTTP_M_OTHER },
	};
	struct kmesh_http_req r;
	char buf[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(m); i++) {
		tap_begin("method: %s", m[i].tok);
		snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: h\r\n\r\n",
			 m[i].tok);
		EXPECT_EQ(parse_s(&r, buf, NULL), KMESH_HTTP_OK);
		EXPECT_EQ(r.method, m[i].code);
		EXPECT_STR_EQ(sp(buf, r.method_tok), m[i].tok);
		tap_end();
	}
	tap_begin("method: CONNECT needs authority-form");
	EXPECT_EQ(parse_s(&r, "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n\r\n",
			  NULL), KMESH_HTTP_OK);
	EXPECT_EQ(r.method, KMESH_HTTP_M_CONNECT);
	tap_end();
}

static void test_header_spans(void)
{
	static const char req[] =
		"GET / HTTP/1.1\r\n"
		"Host: h\r\n"
		"X-Empty:\r\n"
		"X-Ows: \t \r\n"
		"x-tight:v\r\n"
		"Cookie: a=1; b=2\r\n"
		"X-Inner:  a  b  \r\n"
		"Date: d\r\n"
		"Accept: */*\r\n"
		"Referer: /r\r\n"
		"User-Agent: ua\r\n"
		"Accept-Charset: utf-8\r\n"
		"If-Modified-Since: never\r\n"
		"\r\n";
	static const char *const want[][2] = {
		{ "Host", "h" }, { "X-Empty", "" }, { "X-Ows", "" },
		{ "x-tight", "v" }, { "Cookie", "a=1; b=2" },
		{ "X-Inner", "a  b" }, { "Date", "d" }, { "Accept", "*/*" },
		{ "Referer", "/r" }, { "User-Agent", "ua" },
		{ "Accept-Charset", "utf-8" }, { "If-Modified-Since", "never" },
	};
	struct kmesh_http_req r;
	size_t i;

	tap_begin("headers: name and trimmed value spans, in order");
	EXPECT_EQ(parse_s(&r, req, NULL), KMESH_HTTP_OK);
	EXPECT_EQ(r.nr_headers, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want) && i < r.nr_headers; i++) {
		EXPECT_STR_EQ(sp(req, r.hdrs[i].name), want[i][0]);
		EXPECT_STR_EQ(sp(req, r.hdrs[i].value), want[i][1]);
	}
	check_splits(req, sizeof(req) - 1, NULL);
	tap_end();
}

static void test_body_not_read(void)
{
	static const char req[] =
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhe\0\n\r";
	struct kmesh_http_req r;

	tap_begin("head: bytes after the head are never read");
	EXPECT_EQ(parse_n(&r, S(req), NULL), KMESH_HTTP_OK);
	EXPECT_EQ(r.head_len, sizeof(req) - 1 - 5);
	EXPECT_EQ(r.content_length, 5);
	check_splits(S(req), NULL);
	tap_end();
}

/* ---- rejections: one code each, in byte order ---- */

static const struct kmesh_http1_limits lim_small = {
	.max_head_bytes = 64, .max_line_bytes = 20, .max_headers = 2,
};

struct reject_case {
	const char *name;
	const char *req;
	size_t len;
	int want;
	const struct kmesh_http1_limits *lim;
};

#define RQ(tail)	"GET / HTTP/1.1\r\nHost: h\r\n" tail
#define POST(tail)	"POST / HTTP/1.1\r\nHost: h\r\n" tail

static const struct reject_case rejects[] = {
	/* limits */
	{ "head over the limit", S(RQ("X-Long: 0123456789012345678901234567890123\r\n\r\n")), E(HEAD_TOO_LARGE), &lim_small },
	{ "no CRLF within the head limit", S("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), E(HEAD_TOO_LARGE), &(struct kmesh_http1_limits){ .max_head_bytes = 64, .max_line_bytes = 100 } },
	{ "request line over the limit", S("GET /0123456789abcdef HTTP/1.1\r\nHost: h\r\n\r\n"), E(LINE_TOO_LONG), &lim_small },
	{ "request line limit also before CRLF", S("GET /0123456789abcdef"), E(LINE_TOO_LONG), &lim_small },
	{ "too many headers", S(RQ("A: 1\r\nB: 2\r\n\r\n")), E(TOO_MANY_HEADERS), &lim_small },
	/* bytes */
	{ "NUL in a value", S(RQ("X: a\0b\r\n\r\n")), E(NUL), NULL },
	{ "NUL in the target", S("GET /\0 HTTP/1.1\r\n"), E(NUL), NULL },
	{ "NUL before CRLF", S(RQ("X: a\0\r\n\r\n")), E(NUL), NULL },
	{ "TLS ClientHello", S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), E(CTL), NULL },
	{ "VT after chunked", S(POST("Transfer-Encoding: chunked\x0b\r\n\r\n")), E(CTL), NULL },
	{ "VT before chunked", S(POST("Transfer-Encoding:\x0b" "chunked\r\n\r\n")), E(CTL), NULL },
	{ "form feed in a value", S(RQ("X: a\x0c\r\n\r\n")), E(CTL), NULL },
	{ "DEL in a value", S(RQ("X: a\x7f\r\n\r\n")), E(CTL), NULL },
	{ "ESC in the target", S("GET /\x1b[0m HTTP/1.1\r\nHost: h\r\n\r\n"), E(CTL), NULL },
	{ "bare CR ends the request line", S("GET / HTTP/1.1\rHost: h\r\n\r\n"), E(BARE_CR), NULL },
	{ "bare CR inside a value", S(RQ("X: a\rb\r\n\r\n")), E(BARE_CR), NULL },
	{ "CR CR LF", S(RQ("X: a\r\r\n\r\n")), E(BARE_CR), NULL },
	{ "bare CR as the empty line", S(RQ("\r\r\n")), E(BARE_CR), NULL },
	{ "bare LF line ends", S("GET / HTTP/1.1\nHost: h\n\n"), E(BARE_LF), NULL },
	{ "bare LF as the empty line", S(RQ("\n")), E(BARE_LF), NULL },
	{ "bare LF inside a value", S(RQ("X: a\nb\r\n\r\n")), E(BARE_LF), NULL },
	{ "bare LF before the request", S("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BARE_LF), NULL },
	{ "LF CR", S(RQ("X: a\n\r\n\r\n")), E(BARE_LF), NULL },
	/* request line */
	{ "non-token method byte", S("G@T / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_METHOD), NULL },
	{ "quoted method", S("\"GET\" / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_METHOD), NULL },
	{ "non-ASCII method", S("G\xc9T / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_METHOD), NULL },
	{ "method with parenthesis", S("GET(1) / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_METHOD), NULL },
	{ "leading space", S(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "two spaces after method", S("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "two spaces before version", S("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "HTAB separator", S("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "trailing space", S("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "HTTP/0.9 request", S("GET /\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "method only", S("GET\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "space inside the target", S("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_REQUEST_LINE), NULL },
	{ "whitespace-only request line", S(" \r\n"), E(BAD_REQUEST_LINE), NULL },
	/* target */
	{ "double quote in the target", S("GET /a\"b HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "fragment in the target", S("GET /a#f HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "bad percent escape", S("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "half-hex percent escape", S("GET /%4g HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "truncated percent escape", S("GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "percent at the end", S("GET /a?% HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "non-ASCII in the target", S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "HTAB in the target", S("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "braces and pipe in the query", S("GET /?q={a|b} HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "backslash in the path", S("GET /a\\..\\b HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "relative target", S("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "other scheme", S("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "authority-form for GET", S("GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "asterisk with more", S("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "bad byte in absolute path", S("GET http://h/a<b HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "asterisk for GET", S("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), E(TARGET_FORM), NULL },
	{ "CONNECT origin-form", S("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), E(TARGET_FORM), NULL },
	{ "CONNECT absolute-form", S("CONNECT http://h:80/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(TARGET_FORM), NULL },
	{ "CONNECT asterisk", S("CONNECT * HTTP/1.1\r\nHost: h\r\n\r\n"), E(TARGET_FORM), NULL },
	{ "userinfo", S("GET http://user:pw@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "empty host", S("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "empty host with port", S("GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "port over 65535", S("GET http://h:65536/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "non-digit port", S("GET http://h:8o/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "unclosed IPv6 literal", S("GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "bad IPv6 literal", S("GET http://[1::2::3]/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "escaped host name", S("GET http://ex%61mple.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "comma in host name", S("GET http://a,b/ HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "CONNECT without port", S("CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "CONNECT with empty port", S("CONNECT h: HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "CONNECT without host", S("CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	{ "CONNECT with userinfo", S("CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_AUTHORITY), NULL },
	/* version */
	{ "lower-case version", S("GET / http/1.1\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "version letter", S("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "version without dot", S("GET / HTTP/11\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "version two-digit minor", S("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "empty version", S("GET / \r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "version comma", S("GET / HTTP/1,1\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "version letter major", S("GET / HTTP/x.1\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "HTTPS/1.1", S("GET / HTTPS/1.1\r\nHost: h\r\n\r\n"), E(BAD_VERSION), NULL },
	{ "HTTP/2 preface", S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), E(UNSUPPORTED_VERSION), NULL },
	{ "HTTP/1.2", S("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), E(UNSUPPORTED_VERSION), NULL },
	{ "HTTP/0.9 with version", S("GET / HTTP/0.9\r\n\r\n"), E(UNSUPPORTED_VERSION), NULL },
	/* header lines */
	{ "obs-fold with SP", S(RQ("X: a\r\n b\r\n\r\n")), E(OBS_FOLD), NULL },
	{ "obs-fold with HTAB", S(RQ("X: a\r\n\tb\r\n\r\n")), E(OBS_FOLD), NULL },
	{ "whitespace before the first header", S("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), E(OBS_FOLD), NULL },
	{ "folded Transfer-Encoding", S(POST("Transfer-Encoding:\r\n chunked\r\n\r\n")), E(BAD_TE), NULL },
	{ "empty header name", S(RQ(": v\r\n\r\n")), E(EMPTY_HEADER_NAME), NULL },
	{ "colon only", S(RQ(":\r\n\r\n")), E(EMPTY_HEADER_NAME), NULL },
	{ "slash in a name", S(RQ("X/Y: v\r\n\r\n")), E(BAD_HEADER_NAME), NULL },
	{ "non-ASCII name", S(RQ("X\xc3\xa9: v\r\n\r\n")), E(BAD_HEADER_NAME), NULL },
	{ "quote in a name", S(RQ("Ho\"st: v\r\n\r\n")), E(BAD_HEADER_NAME), NULL },
	{ "bracket name", S(RQ("[X]: v\r\n\r\n")), E(BAD_HEADER_NAME), NULL },
	{ "space before colon", S("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), E(WS_BEFORE_COLON), NULL },
	{ "HTAB before colon", S(POST("Transfer-Encoding\t: chunked\r\n\r\n")), E(WS_BEFORE_COLON), NULL },
	{ "space inside a name", S(POST("Content Length: 5\r\n\r\n")), E(WS_BEFORE_COLON), NULL },
	{ "no colon", S(RQ("X-No-Colon\r\n\r\n")), E(NO_COLON), NULL },
	/* Host */
	{ "HTTP/1.1 without Host", S("GET / HTTP/1.1\r\nX: y\r\n\r\n"), E(NO_HOST), NULL },
	{ "absolute-form without Host", S("GET http://h/ HTTP/1.1\r\n\r\n"), E(NO_HOST), NULL },
	{ "two equal Hosts", S(RQ("Host: h\r\n\r\n")), E(DUP_HOST), NULL },
	{ "two Hosts differing in case", S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), E(DUP_HOST), NULL },
	{ "Host with space", S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host list", S("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host with userinfo", S("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host with path", S("GET / HTTP/1.1\r\nHost: h/x\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host with escape", S("GET / HTTP/1.1\r\nHost: ex%61mple\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host port only", S("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host two ports", S("GET / HTTP/1.1\r\nHost: h:80:80\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host port too big", S("GET / HTTP/1.1\r\nHost: h:99999\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host port 65536 with zeros", S("GET / HTTP/1.1\r\nHost: h:0065536\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host unclosed bracket", S("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host junk after bracket", S("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host IPvFuture", S("GET / HTTP/1.1\r\nHost: [v1.fe]\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host IPv6 zone", S("GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n"), E(BAD_HOST), NULL },
	{ "Host non-ASCII", S("GET / HTTP/1.1\r\nHost: b\xc3\xbc" "cher.de\r\n\r\n"), E(BAD_HOST), NULL },
	/* Content-Length */
	{ "CL letters", S(POST("Content-Length: abc\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL plus sign", S(POST("Content-Length: +5\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL negative", S(POST("Content-Length: -1\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL list", S(POST("Content-Length: 5, 5\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL inner space", S(POST("Content-Length: 5 5\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL hex", S(POST("Content-Length: 0x10\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL empty", S(POST("Content-Length:\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL decimal point", S(POST("Content-Length: 1.0\r\n\r\n")), E(BAD_CL), NULL },
	{ "CL 2^63", S(POST("Content-Length: 9223372036854775808\r\n\r\n")), E(CL_OVERFLOW), NULL },
	{ "CL 2^64", S(POST("Content-Length: 18446744073709551616\r\n\r\n")), E(CL_OVERFLOW), NULL },
	{ "CL huge", S(POST("Content-Length: 99999999999999999999999999\r\n\r\n")), E(CL_OVERFLOW), NULL },
	{ "CL twice, equal", S(POST("Content-Length: 5\r\nContent-Length: 5\r\n\r\n")), E(DUP_CL), NULL },
	{ "CL twice, different", S(POST("Content-Length: 5\r\ncontent-length: 6\r\n\r\n")), E(DUP_CL), NULL },
	{ "CL then TE", S(POST("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")), E(CL_AND_TE), NULL },
	{ "TE then CL", S(POST("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")), E(CL_AND_TE), NULL },
	/* Transfer-Encoding */
	{ "TE gzip alone", S(POST("Transfer-Encoding: gzip\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE chunked not last", S(POST("Transfer-Encoding: chunked, gzip\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE chunked twice", S(POST("Transfer-Encoding: chunked, chunked\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE xchunked", S(POST("Transfer-Encoding: xchunked\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE chunkedx", S(POST("Transfer-Encoding: chunkedx\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE chunk ed", S(POST("Transfer-Encoding: chunk ed\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE with parameter", S(POST("Transfer-Encoding: chunked;q=1\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE quoted", S(POST("Transfer-Encoding: \"chunked\"\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE leading empty element", S(POST("Transfer-Encoding: ,chunked\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE trailing comma", S(POST("Transfer-Encoding: chunked,\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE inner empty element", S(POST("Transfer-Encoding: gzip,,chunked\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE empty", S(POST("Transfer-Encoding:\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE identity", S(POST("Transfer-Encoding: identity\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE NBSP before chunked", S(POST("Transfer-Encoding: \xa0" "chunked\r\n\r\n")), E(BAD_TE), NULL },
	{ "TE on two lines", S(POST("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")), E(DUP_TE), NULL },
	{ "TE in HTTP/1.0", S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), E(TE_HTTP10), NULL },
	{ "TE and CL in HTTP/1.0", S("POST / HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), E(TE_HTTP10), NULL },
};

static void test_rejects(void)
{
	const struct reject_case *c;
	struct kmesh_http_req r;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(rejects); i++) {
		c = &rejects[i];
		tap_begin("reject %s: %s", kmesh_http1_strstatus(c->want),
			  c->name);
		rc = parse_n(&r, c->req, c->len, c->lim);
		EXPECT_EQ(rc, c->want);
		if (rc != c->want)
			tap_diag("got \"%s\" at offset %u",
				 kmesh_http1_strstatus(rc), r.err_off);
		check_invariants(&r, rc, c->len);
		EXPECT(r.err_off <= c->len);
		check_splits(c->req, c->len, c->lim);
		tap_end();
	}
}

/* Every rejection code has at least one case above. */
static void test_reject_coverage(void)
{
	bool seen[KMESH_HTTP_STATUS_MAX] = { false };
	int code;
	size_t i;

	tap_begin("reject: every error code is exercised");
	for (i = 0; i < ARRAY_SIZE(rejects); i++)
		seen[rejects[i].want] = true;
	seen[KMESH_HTTP_E_INVAL] = true;	/* test_inval() */
	for (code = KMESH_HTTP_E_INVAL; code < KMESH_HTTP_STATUS_MAX; code++)
		if (!EXPECT(seen[code]))
			tap_diag("no test for %s", kmesh_http1_strstatus(code));
	tap_end();
}

static void test_err_off(void)
{
	static const struct { const char *req; size_t len; int want; int off; } c[] = {
		{ S("GET / HTTP/1.1\r\nHost: h\0\r\n\r\n"), E(NUL), 23 },
		{ S("GET / HTTP/1.1\r\nHost: h\rx"), E(BARE_CR), 23 },
		{ S("GET / HTTP/1.1\n"), E(BARE_LF), 14 },
		{ S("GET /a\"b HTTP/1.1\r\n"), E(BAD_TARGET), 6 },
		{ S("GET / HTTP/1.1\r\nHost : h\r\n"), E(WS_BEFORE_COLON), 20 },
		{ S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n"), E(BAD_CL), 43 },
	};
	struct kmesh_http_req r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		tap_begin("err_off: %s at %d", kmesh_http1_strstatus(c[i].want),
			  c[i].off);
		EXPECT_EQ(parse_n(&r, c[i].req, c[i].len, NULL), c[i].want);
		EXPECT_EQ(r.err_off, c[i].off);
		tap_end();
	}
}

/* ---- Host and authority syntax ---- */

static void test_ipv6(void)
{
	static const char *const good[] = {
		"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
		"::2:3:4:5:6:7:8", "1::8", "fe80::1:2", "FFFF::abcd",
		"::ffff:10.0.0.1", "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4",
		"2001:db8:0:0:1:0:0:1", "0000:0000::0000",
	};
	static const char *const bad_[] = {
		"", ":", ":1", "1:", "1:::", ":::", "1::2::3",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"12345::", "g::", "1.2.3.4", "::1.2.3", "::1.2.3.256",
		"::01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:1",
		"::1.2.3.4.5", "::1.2.3.999", "::1:", "v1.x", "[::1]",
	};
	struct kmesh_http_req r;
	char buf[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		tap_begin("ipv6: [%s] accepted", good[i]);
		snprintf(buf, sizeof(buf),
			 "GET / HTTP/1.1\r\nHost: [%s]:1\r\n\r\n", good[i]);
		EXPECT_EQ(parse_s(&r, buf, NULL), KMESH_HTTP_OK);
		EXPECT(r.flags & F(HOST_IPV6));
		EXPECT_EQ(r.host.len, strlen(good[i]) + 2);
		EXPECT_EQ(r.port, 1);
		tap_end();
	}
	for (i = 0; i < ARRAY_SIZE(bad_); i++) {
		tap_begin("ipv6: [%s] rejected", bad_[i]);
		snprintf(buf, sizeof(buf),
			 "GET / HTTP/1.1\r\nHost: [%s]\r\n\r\n", bad_[i]);
		EXPECT_EQ(parse_s(&r, buf, NULL), KMESH_HTTP_E_BAD_HOST);
		snprintf(buf, sizeof(buf),
			 "GET http://[%s]/ HTTP/1.1\r\nHost: h\r\n\r\n",
			 bad_[i]);
		EXPECT_EQ(parse_s(&r, buf, NULL), KMESH_HTTP_E_BAD_AUTHORITY);
		tap_end();
	}
}

/* ---- incremental delivery and resume state ---- */

static void test_need_more(void)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
	/* a CR that ends the buffer is scanned again with the next byte */
	static const struct { size_t len; unsigned int consumed, scan; } c[] = {
		{ 0, 0, 0 }, { 1, 0, 1 }, { 15, 0, 15 }, { 16, 0, 15 },
		{ 17, 17, 17 }, { 24, 17, 24 }, { 25, 17, 24 },
		{ 26, 26, 26 }, { 27, 26, 26 },
	};
	struct kmesh_http_req r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		tap_begin("need more: %zu of %zu bytes, %u consumed",
			  c[i].len, sizeof(req) - 1, c[i].consumed);
		EXPECT_EQ(parse_n(&r, req, c[i].len, NULL),
			  KMESH_HTTP_NEED_MORE);
		EXPECT_EQ(r.consumed, c[i].consumed);
		EXPECT_EQ(r.scan, c[i].scan);
		EXPECT_EQ(r.head_len, 0);
		if (c[i].consumed)
			EXPECT_EQ(r.method, KMESH_HTTP_M_GET);
		tap_end();
	}

	tap_begin("need more: a CR at the end waits for its LF");
	EXPECT_EQ(parse_n(&r, S("GET / HTTP/1.1\r"), NULL),
		  KMESH_HTTP_NEED_MORE);
	EXPECT_EQ(r.scan, 14);
	EXPECT_EQ(parse_n(&r, S("GET / HTTP/1.1\r\nHost: h\r\n\r"), NULL),
		  KMESH_HTTP_NEED_MORE);
	EXPECT_EQ(r.consumed, 25);
	tap_end();

	tap_begin("need more: a NUL is rejected before its line ends");
	EXPECT_EQ(parse_n(&r, S("GET / HTTP/1.1\r\nX: \0"), NULL),
		  KMESH_HTTP_E_NUL);
	EXPECT_EQ(parse_n(&r, S("\x16"), NULL), KMESH_HTTP_E_CTL);
	tap_end();

	tap_begin("need more: a complete line is never judged early");
	/* "GET / HTTP/1.1" could still become "... HTTP/1.1x": invalid,
	 * but only the full line may say so */
	EXPECT_EQ(parse_n(&r, S("GET / HTTP/1.1"), NULL),
		  KMESH_HTTP_NEED_MORE);
	EXPECT_EQ(parse_n(&r, S("GET / HTTP/1.1\r\nHost: a\r\nHost"), NULL),
		  KMESH_HTTP_NEED_MORE);
	tap_end();
}

static void test_resume(void)
{
	static const char req[] =
		"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
	struct kmesh_http_req r, z;
	size_t n = sizeof(req) - 1;
	__u8 *b = dup_bytes(req, n);

	tap_begin("resume: a zeroed req needs no init");
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(kmesh_http1_parse(&r, b, 20, NULL), KMESH_HTTP_NEED_MORE);
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_OK);
	EXPECT_EQ(r.content_length, 3);
	tap_end();

	tap_begin("resume: OK is final");
	EXPECT_EQ(kmesh_http1_parse(&r, NULL, 0, NULL), KMESH_HTTP_OK);
	EXPECT_EQ(kmesh_http1_parse(&r, (const __u8 *)"x", 1, NULL),
		  KMESH_HTTP_OK);
	EXPECT_EQ(r.head_len, n - 3);
	tap_end();

	tap_begin("resume: errors are final");
	kmesh_http1_init(&r);
	EXPECT_EQ(kmesh_http1_parse(&r, (const __u8 *)"GET\t", 4, NULL),
		  KMESH_HTTP_NEED_MORE);
	EXPECT_EQ(kmesh_http1_parse(&r, (const __u8 *)"GET\t/ HTTP/1.1\r\n",
				    16, NULL), KMESH_HTTP_E_BAD_REQUEST_LINE);
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL),
		  KMESH_HTTP_E_BAD_REQUEST_LINE);
	EXPECT_EQ(r.status, KMESH_HTTP_E_BAD_REQUEST_LINE);
	tap_end();

	tap_begin("resume: init resets everything");
	kmesh_http1_init(&r);
	memset(&z, 0, sizeof(z));
	z.status = KMESH_HTTP_NEED_MORE;
	EXPECT(!memcmp(&r, &z, sizeof(r)));
	tap_end();

	tap_begin("resume: limits may change between calls");
	kmesh_http1_init(&r);
	EXPECT_EQ(kmesh_http1_parse(&r, b, 30, NULL), KMESH_HTTP_NEED_MORE);
	EXPECT_EQ(kmesh_http1_parse(&r, b, n,
				    &(struct kmesh_http1_limits){ .max_headers = 1 }),
		  KMESH_HTTP_E_TOO_MANY_HEADERS);
	tap_end();
	free(b);
}

static void test_inval(void)
{
	static const char req[] = "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t n = sizeof(req) - 1;
	struct kmesh_http_req r, saved;
	__u8 *b = dup_bytes(req, n);

	tap_begin("inval: NULL arguments");
	EXPECT_EQ(kmesh_http1_parse(NULL, b, n, NULL), KMESH_HTTP_E_INVAL);
	kmesh_http1_init(&r);
	EXPECT_EQ(kmesh_http1_parse(&r, NULL, 5, NULL), KMESH_HTTP_E_INVAL);
	EXPECT_EQ(kmesh_http1_parse(&r, NULL, 0, NULL), KMESH_HTTP_NEED_MORE);
	tap_end();

	tap_begin("inval: a buffer that shrank leaves req untouched");
	kmesh_http1_init(&r);
	EXPECT_EQ(kmesh_http1_parse(&r, b, 30, NULL), KMESH_HTTP_NEED_MORE);
	saved = r;
	EXPECT_EQ(kmesh_http1_parse(&r, b, 29, NULL), KMESH_HTTP_E_INVAL);
	EXPECT(!memcmp(&r, &saved, sizeof(r)));
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_OK);
	tap_end();

	tap_begin("inval: corrupted resume state");
	kmesh_http1_init(&r);
	EXPECT_EQ(kmesh_http1_parse(&r, b, 30, NULL), KMESH_HTTP_NEED_MORE);
	saved = r;
	r.state = 77;
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	r = saved;
	r.nr_headers = 200;
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	r = saved;
	r.consumed = r.scan + 1;
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	r = saved;
	r.scan = 0xffff;
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	r = saved;
	r.host.len = 0xffff;	/* read back when Host is compared */
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	r = saved;
	r.state = 3;		/* error state with a status that is no error */
	r.status = KMESH_HTTP_OK;
	EXPECT_EQ(kmesh_http1_parse(&r, b, n, NULL), KMESH_HTTP_E_INVAL);
	tap_end();
	free(b);
}

/* ---- limits ---- */

/* A request of exactly @len bytes: the filler header makes up the rest. */
static char *make_req(size_t len, int headers)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\n";
	char *s = malloc(len + 1), *p;
	int i;

	if (!s)
		exit(2);
	p = s + sprintf(s, "%s", head);
	for (i = 0; i < headers; i++)
		p += sprintf(p, "H%02d: v\r\n", i);
	p += sprintf(p, "X: ");
	memset(p, 'a', len - (p - s) - 4);
	memcpy(s + len - 4, "\r\n\r\n", 5);
	return s;
}

static void test_limits(void)
{
	struct kmesh_http1_limits lim = { 0 };
	struct kmesh_http_req r;
	size_t i, n, bad_i;
	char *s;

	tap_begin("limits: head of exactly max_head_bytes, each size");
	s = make_req(200, 0);
	bad_i = 0;
	for (i = 1; i <= 210; i++) {
		lim.max_head_bytes = i;
		if (parse_s(&r, s, &lim) !=
		    (i >= 200 ? KMESH_HTTP_OK : KMESH_HTTP_E_HEAD_TOO_LARGE))
			bad_i = i;
	}
	EXPECT_EQ(bad_i, 0);
	free(s);
	tap_end();

	tap_begin("limits: default head limit %d", KMESH_HTTP_DEFAULT_HEAD_BYTES);
	s = make_req(KMESH_HTTP_DEFAULT_HEAD_BYTES, 0);
	EXPECT_EQ(parse_s(&r, s, NULL), KMESH_HTTP_OK);
	free(s);
	s = make_req(KMESH_HTTP_DEFAULT_HEAD_BYTES + 1, 0);
	EXPECT_EQ(parse_s(&r, s, NULL), KMESH_HTTP_E_HEAD_TOO_LARGE);
	EXPECT_EQ(r.err_off, KMESH_HTTP_DEFAULT_HEAD_BYTES);
	free(s);
	tap_end();

	tap_begin("limits: head limit clamped to %d", KMESH_HTTP_MAX_HEAD_BYTES);
	lim = (struct kmesh_http1_limits){ .max_head_bytes = 1U << 30 };
	s = make_req(KMESH_HTTP_MAX_HEAD_BYTES, 0);
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_OK);
	EXPECT_EQ(r.head_len, KMESH_HTTP_MAX_HEAD_BYTES);
	EXPECT_EQ(r.hdrs[1].value.off + r.hdrs[1].value.len,
		  KMESH_HTTP_MAX_HEAD_BYTES - 4);
	free(s);
	s = make_req(KMESH_HTTP_MAX_HEAD_BYTES + 1, 0);
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_E_HEAD_TOO_LARGE);
	free(s);
	tap_end();

	tap_begin("limits: request line of exactly max_line_bytes");
	s = "GET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n";
	n = strlen("GET /123456789 HTTP/1.1");
	lim = (struct kmesh_http1_limits){ .max_line_bytes = n };
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_OK);
	lim.max_line_bytes = n - 1;
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_E_LINE_TOO_LONG);
	EXPECT_EQ(r.err_off, n - 1);
	/* leading empty lines do not count towards the request line */
	lim.max_line_bytes = n;
	EXPECT_EQ(parse_s(&r, "\r\n\r\nGET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n",
			  &lim), KMESH_HTTP_OK);
	/* header lines are bounded by the head limit only */
	lim.max_line_bytes = 16;
	EXPECT_EQ(parse_s(&r, "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789012345678\r\n\r\n",
			  &lim), KMESH_HTTP_OK);
	tap_end();

	tap_begin("limits: max_headers boundary");
	s = make_req(300, 5);	/* Host, 5 fillers, X: 7 headers */
	lim = (struct kmesh_http1_limits){ .max_headers = 7 };
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_OK);
	EXPECT_EQ(r.nr_headers, 7);
	lim.max_headers = 6;
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_E_TOO_MANY_HEADERS);
	EXPECT_EQ(r.nr_headers, 6);
	check_splits(s, 300, &lim);
	free(s);
	tap_end();

	tap_begin("limits: %d headers by default, clamped", KMESH_HTTP_MAX_HEADERS);
	s = make_req(1000, KMESH_HTTP_MAX_HEADERS - 2);
	EXPECT_EQ(parse_s(&r, s, NULL), KMESH_HTTP_OK);
	EXPECT_EQ(r.nr_headers, KMESH_HTTP_MAX_HEADERS);
	free(s);
	s = make_req(1000, KMESH_HTTP_MAX_HEADERS - 1);
	EXPECT_EQ(parse_s(&r, s, NULL), KMESH_HTTP_E_TOO_MANY_HEADERS);
	lim = (struct kmesh_http1_limits){ .max_headers = 1000 };
	EXPECT_EQ(parse_s(&r, s, &lim), KMESH_HTTP_E_TOO_MANY_HEADERS);
	free(s);
	tap_end();
}

static void test_lax_target(void)
{
	static const struct kmesh_http1_limits lax = {
		.opts = KMESH_HTTP1_OPT_LAX_TARGET,
	};
	static const struct { const char *target; int strict, lax; } c[] = {
		{ "/?q={\"a\":[1|2]}", E(BAD_TARGET), KMESH_HTTP_OK },
		{ "/a%zz", E(BAD_TARGET), KMESH_HTTP_OK },
		{ "/a^b`c\\d", E(BAD_TARGET), KMESH_HTTP_OK },
		{ "/a#b", E(BAD_TARGET), E(BAD_TARGET) },
		{ "/caf\xc3\xa9", E(BAD_TARGET), E(BAD_TARGET) },
		{ "http://h/{x}", E(BAD_TARGET), KMESH_HTTP_OK },
		{ "http://h{x}/", E(BAD_AUTHORITY), E(BAD_AUTHORITY) },
	};
	struct kmesh_http_req r;
	char buf[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		tap_begin("lax target: %s", c[i].target);
		snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n",
			 c[i].target);
		EXPECT_EQ(parse_s(&r, buf, NULL), c[i].strict);
		EXPECT_EQ(parse_s(&r, buf, &lax), c[i].lax);
		tap_end();
	}
}

static void test_strstatus(void)
{
	const char *a, *b;
	int i, j;

	tap_begin("strstatus: every code has its own text");
	for (i = 0; i < KMESH_HTTP_STATUS_MAX; i++) {
		a = kmesh_http1_strstatus(i);
		EXPECT(strcmp(a, "unknown"));
		for (j = 0; j < i; j++) {
			b = kmesh_http1_strstatus(j);
			if (!EXPECT(strcmp(a, b)))
				tap_diag("%d and %d share \"%s\"", i, j, a);
		}
	}
	EXPECT_STR_EQ(kmesh_http1_strstatus(-1), "unknown");
	EXPECT_STR_EQ(kmesh_http1_strstatus(KMESH_HTTP_STATUS_MAX), "unknown");
	tap_end();
}

static void test_abi(void)
{
	tap_begin("abi: layout of struct kmesh_http_req");
	EXPECT_EQ(sizeof(struct kmesh_http_req), 312);
	EXPECT(sizeof(struct kmesh_http_req) <= 512);
	EXPECT_EQ(offsetof(struct kmesh_http_req, content_length) % 8, 0);
	EXPECT_EQ(offsetof(struct kmesh_http_req, hdrs) % 8, 0);
	EXPECT_EQ(sizeof(struct kmesh_http_hdr), 8);
	tap_end();
}

int main(void)
{
	tap_header();
	test_abi();
	test_accepts();
	test_every_method();
	test_header_spans();
	test_body_not_read();
	test_rejects();
	test_reject_coverage();
	test_err_off();
	test_ipv6();
	test_need_more();
	test_resume();
	test_inval();
	test_limits();
	test_lax_target();
	test_strstatus();
	return tap_finish();
}

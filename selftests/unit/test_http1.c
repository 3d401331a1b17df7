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
#include "http_vectors.h"	/* accepts[], rejects[] and their macros */
#include "tap.h"

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

/* ---- accepted requests (accepts[]): every field checked ---- */

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

/* ---- rejections (rejects[]): one code each, in byte order ---- */

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
		{ "/a^b`c|d", E(BAD_TARGET), KMESH_HTTP_OK },
		{ "/a\\..\\b", E(BAD_TARGET), E(PATH_NOT_CANONICAL) },
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

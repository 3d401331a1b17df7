/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/1.1 request-head test vectors, shared by the host unit tests
 * (selftests/unit/test_http1.c, which checks every expectation below
 * against kmod/core/http1.c) and the conformance suite
 * (selftests/conformance/conformance.c, which feeds the same bytes to the
 * core, the eBPF fallback and the parser kfunc and compares their full
 * results; selftests/prog_tests/http.c also runs them through the kfunc
 * at several module limits).
 *
 * Include it once per program: it defines static tables and the short
 * macros they are written with (S, F, E, M, RQ, POST, ...).
 */
#ifndef KMESH_HTTP_VECTORS_H
#define KMESH_HTTP_VECTORS_H

#include <stddef.h>

#include "core/http1.h"

/* A string literal as (pointer, length), so that it may hold NUL bytes. */
#define S(lit)		lit, sizeof(lit) - 1
#define F(x)		KMESH_HTTP_F_##x
#define E(x)		KMESH_HTTP_E_##x
#define NO_PORT		-1

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
	{ "dots inside segments, reserved escapes, trailing slash",
	  "GET /.a/b../.../%2C%20/ HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "/.a/b../.../%2C%20/", "/.a/b../.../%2C%20/", "",
	  "h", NO_PORT, HP, 0, 1 },
	{ "the query is not a path: //, .. and %2F stay",
	  "GET /a?b=//../%2F%61 HTTP/1.1\r\nHost: h\r\n\r\n",
	  M(GET), H11, ORIGIN, "/a?b=//../%2F%61", "/a", "b=//../%2F%61", "h",
	  NO_PORT, HP | F(HAS_QUERY), 0, 1 },
};

/* ---- rejections: one code each, in byte order ---- */

static const struct kmesh_http1_limits lim_small = {
	.max_head_bytes = 64, .max_line_bytes = 20, .max_headers = 2,
};

/*
 * Paths under both path_normalization modes: the status with the default
 * (refuse) and with KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES
 * (escaped_slashes_literal), where %2F is three literal bytes and every
 * other needless escape, "//" and dot segments stay refused.
 */
struct path_opt_case {
	const char *name;
	const char *req;
	int refuse, literal;	/* status: 0 is OK */
	const char *path;	/* with literal OK: the path as sent */
};

#define PQ(t)	"GET " t " HTTP/1.1\r\nHost: h\r\n\r\n"
static const struct path_opt_case path_opt_cases[] = {
	{ "escaped slash in an identifier", PQ("/files/a%2Fb"), E(PATH_NOT_CANONICAL), 0, "/files/a%2Fb" },
	{ "lower-case escaped slash", PQ("/files/a%2fb"), E(PATH_NOT_CANONICAL), 0, "/files/a%2fb" },
	{ "escaped slash after admin", PQ("/admin%2Fx"), E(PATH_NOT_CANONICAL), 0, "/admin%2Fx" },
	{ "escaped slash alone", PQ("/%2F"), E(PATH_NOT_CANONICAL), 0, "/%2F" },
	{ "escaped slashes twice", PQ("/a%2F%2Fb?q=%2F"), E(PATH_NOT_CANONICAL), 0, "/a%2F%2Fb" },
	{ "escaped slash in absolute-form", "GET http://h/a%2Fb HTTP/1.1\r\nHost: h\r\n\r\n", E(PATH_NOT_CANONICAL), 0, "/a%2Fb" },
	{ "escaped backslash stays refused", PQ("/a%5Cb"), E(PATH_NOT_CANONICAL), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped dot-dot stays refused", PQ("/a%2F%2e%2e/b"), E(PATH_NOT_CANONICAL), E(PATH_NOT_CANONICAL), NULL },
	{ "dot-dot beside an escaped slash", PQ("/a%2Fb/../admin"), E(PATH_NOT_CANONICAL), E(PATH_NOT_CANONICAL), NULL },
	{ "double slash beside an escaped slash", PQ("/a%2Fb//admin"), E(PATH_NOT_CANONICAL), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped letter stays refused", PQ("/a%2Fb/%61dmin"), E(PATH_NOT_CANONICAL), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped NUL stays refused", PQ("/a%00"), E(PATH_NOT_CANONICAL), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped slash in the query only", PQ("/a?b=%2F"), 0, 0, "/a" },
	{ "escaped question mark", PQ("/a%3Fb"), 0, 0, "/a%3Fb" },
};
#undef PQ

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
	{ "HTAB inside a percent escape", S("GET /a%2\tb HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "truncated percent escape", S("GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "percent at the end", S("GET /a?% HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "non-ASCII in the target", S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "HTAB in the target", S("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "braces and pipe in the query", S("GET /?q={a|b} HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "backslash in the path", S("GET /a\\..\\b HTTP/1.1\r\nHost: h\r\n\r\n"), E(BAD_TARGET), NULL },
	{ "double slash", S("GET // HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "empty segment inside", S("GET /a//admin HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "dot-dot segment", S("GET /api/../admin HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "dot segment", S("GET /./admin HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "dot-dot at the end", S("GET /admin/x/.. HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "dot at the end before the query", S("GET /admin/.?a HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped dot-dot", S("GET /api/%2e%2E/admin HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped letter", S("GET /%61dmin HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped slash", S("GET /admin%2Fx HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped lower-case slash", S("GET /admin%2fx HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped backslash", S("GET /admin%5cx HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped NUL", S("GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "escaped tilde", S("GET /%7Euser HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
	{ "dot-dot in an absolute-form path", S("GET http://h/a/../b HTTP/1.1\r\nHost: h\r\n\r\n"), E(PATH_NOT_CANONICAL), NULL },
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
	/* RFC 9110 9.3.6: CONNECT has no content (llhttp takes a body) */
	{ "CONNECT with Content-Length", S("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 39\r\n\r\nGET /admin HTTP/1.1\r\nHost: a.example\r\n\r\n"), E(CONNECT_BODY), NULL },
	{ "CONNECT with Content-Length: 0", S("CONNECT a:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), E(CONNECT_BODY), NULL },
	{ "CONNECT with Transfer-Encoding", S("CONNECT a:443 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), E(CONNECT_BODY), NULL },
	{ "CONNECT HTTP/1.0 with Transfer-Encoding", S("CONNECT a:443 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), E(CONNECT_BODY), NULL },
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
	/* a reg-name may hold sub-delims (RFC 3986 3.2.2); kmesh's host names
	 * do not (docs/config.md): llhttp takes this one */
	{ "Host with '=' (sub-delim)", S("GET / HTTP/1.1\r\nHost: 0.0.0.0=5000\r\n\r\n"), E(BAD_HOST), NULL },
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

#endif /* KMESH_HTTP_VECTORS_H */

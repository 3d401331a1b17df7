/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Response-head vectors: what the core (kmesh_http1_parse_response()) and
 * the eBPF fallback, which reads responses in both modes, must make of a
 * server's head: the status code and the framing (Content-Length,
 * Transfer-Encoding: chunked), or which rule refuses it and where.
 * Framing matters: the end of one response is where the next begins.
 */
#ifndef KMESH_RESPONSE_VECTORS_H
#define KMESH_RESPONSE_VECTORS_H

#include "kmesh_kfunc.h"

struct response_vector {
	const char *name;
	const char *head;
	__u32 len;
	int want;		/* enum kmesh_http_status */
	int err_off;		/* with an error */
	__u16 code;		/* with OK: the status code */
	__u32 framing;		/* with OK: KMESH_HTTP_F_HAS_CL / CHUNKED */
	__u64 cl;
};

#define RS(lit)		lit, sizeof(lit) - 1
#define RV_OK(code, fr, cl)	KMESH_HTTP_OK, 0, code, fr, cl
#define RV_ERR(e, off)	KMESH_HTTP_E_##e, off, 0, 0, 0
#define RV_CL		KMESH_HTTP_F_HAS_CL
#define RV_CHUNKED	KMESH_HTTP_F_CHUNKED

static const struct response_vector response_vectors[] = {
	{ "200 with Content-Length", RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), RV_OK(200, RV_CL, 5) },
	{ "200 chunked", RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), RV_OK(200, RV_CHUNKED, 0) },
	{ "gzip, chunked", RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), RV_OK(200, RV_CHUNKED, 0) },
	{ "204 without framing", RS("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"), RV_OK(204, 0, 0) },
	{ "404, empty phrase", RS("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"), RV_OK(404, RV_CL, 0) },
	{ "no SP before an empty phrase", RS("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"), RV_OK(200, RV_CL, 2) },
	{ "phrase with SP, HTAB and obs-text", RS("HTTP/1.1 503 Service\tUn \xe9v\r\n\r\n"), RV_OK(503, 0, 0) },
	{ "HTTP/1.0 response", RS("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"), RV_OK(200, RV_CL, 3) },
	{ "HTTP/1.0 with Transfer-Encoding (read for its end only)", RS("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), RV_OK(200, RV_CHUNKED, 0) },
	{ "101 Switching Protocols", RS("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), RV_OK(101, 0, 0) },
	{ "100 Continue", RS("HTTP/1.1 100 Continue\r\n\r\n"), RV_OK(100, 0, 0) },
	{ "Host in a response is just a field", RS("HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\n\r\n"), RV_OK(200, 0, 0) },
	{ "40 fields (no field limit for responses)", RS("HTTP/1.1 200 OK\r\n"
	  "A: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
	  "A: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
	  "A: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
	  "A: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n\r\n"), RV_OK(200, 0, 0) },
	{ "incomplete", RS("HTTP/1.1 200 OK\r\nContent-Le"), KMESH_HTTP_NEED_MORE, 0, 0, 0, 0 },
	/* refusals */
	{ "HTTP/2 status line", RS("HTTP/2 200\r\n\r\n"), RV_ERR(BAD_VERSION, 0) },
	{ "HTTP/2.0 status line", RS("HTTP/2.0 200 OK\r\n\r\n"), RV_ERR(UNSUPPORTED_VERSION, 0) },
	{ "lower-case version", RS("http/1.1 200 OK\r\n\r\n"), RV_ERR(BAD_VERSION, 0) },
	{ "empty line first", RS("\r\nHTTP/1.1 200 OK\r\n\r\n"), RV_ERR(BAD_VERSION, 0) },
	{ "no status code", RS("HTTP/1.1\r\n\r\n"), RV_ERR(BAD_REQUEST_LINE, 8) },
	{ "two-digit status", RS("HTTP/1.1 20 OK\r\n\r\n"), RV_ERR(BAD_REQUEST_LINE, 11) },
	{ "four-digit status", RS("HTTP/1.1 2000 OK\r\n\r\n"), RV_ERR(BAD_REQUEST_LINE, 12) },
	{ "letter in the status", RS("HTTP/1.1 2x0 OK\r\n\r\n"), RV_ERR(BAD_REQUEST_LINE, 10) },
	{ "two SP before the status", RS("HTTP/1.1  200 OK\r\n\r\n"), RV_ERR(BAD_REQUEST_LINE, 9) },
	{ "status ends at CR", RS("HTTP/1.1 20\r\n\r\n"), RV_ERR(BAD_REQUEST_LINE, 11) },
	{ "bare LF", RS("HTTP/1.1 200 OK\nContent-Length: 1\n\n"), RV_ERR(BARE_LF, 15) },
	/* busybox httpd passes a CGI's own bare-LF fields after its CRLF
	 * status line: the receive path counts it unparsed */
	{ "CRLF status line, bare-LF fields", RS("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\n\ndown\n"), RV_ERR(BARE_LF, 58) },
	{ "NUL in the phrase", RS("HTTP/1.1 200 O\0K\r\n\r\n"), RV_ERR(NUL, 14) },
	{ "CL and TE", RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), RV_ERR(CL_AND_TE, 55) },
	{ "TE and CL", RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), RV_ERR(CL_AND_TE, 61) },
	{ "two Content-Length", RS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), RV_ERR(DUP_CL, 52) },
	{ "bad Content-Length", RS("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n"), RV_ERR(BAD_CL, 34) },
	{ "Content-Length overflow", RS("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n"), RV_ERR(CL_OVERFLOW, 51) },
	{ "chunked, gzip", RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), RV_ERR(BAD_TE, 36) },
	{ "obs-fold", RS("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), RV_ERR(OBS_FOLD, 23) },
	{ "SP before a colon", RS("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"), RV_ERR(WS_BEFORE_COLON, 31) },
	{ "field without colon", RS("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), RV_ERR(NO_COLON, 24) },
	{ "HTTP/1.1 request instead", RS("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), RV_ERR(BAD_VERSION, 0) },
};

#undef RS
#undef RV_OK
#undef RV_ERR
#undef RV_CL
#undef RV_CHUNKED

#endif /* KMESH_RESPONSE_VECTORS_H */

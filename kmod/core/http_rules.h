/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The HTTP/1.1 rules kmesh applies, written once: included by the C cores
 * (kmod/core/http1.c, chunk.c; built into the module, host tests, fuzzers
 * and benchmarks), by the eBPF fallback (bpf/include/l7_http.h,
 * l7_chunk.h, l7_msg.h; BPF_CFLAGS has -Ikmod) and by userspace.
 *
 *  - byte classes of RFC 9110/9112/3986 as kmesh reads them;
 *  - the chunked-body scanner's states and its per-byte step, which the
 *    core and the fallback both run (they differ only in how they get the
 *    bytes and skip chunk data);
 *  - reason phrases and the replies kmesh writes itself (kmod/core/reply.c
 *    renders them for the module and userspace; the fallback's built-in
 *    replies are these strings).
 *
 * Plain C with no includes but kmesh_kfunc.h: BPF programs include it after
 * vmlinux.h. Everything here is static and const; nothing needs linking.
 */
#ifndef KMESH_HTTP_RULES_H
#define KMESH_HTTP_RULES_H

#include "../kmesh_kfunc.h"

#ifdef __bpf__
#define KMESH_RULES_INLINE	static __always_inline
#else
#define KMESH_RULES_INLINE	static inline
#endif

/* Statuses are kept in __u8s (the fallback's pending error, logs). */
_Static_assert(KMESH_HTTP_STATUS_MAX <= 0xff, "HTTP statuses fit a __u8");

/* ---- byte classes ---- */

#define KMESH_C_TCHAR	0x01	/* token (RFC 9110 5.6.2) */
#define KMESH_C_PATH	0x02	/* pchar except '%', and '/' (RFC 3986) */
#define KMESH_C_QUERY	0x04	/* KMESH_C_PATH and '?' */
#define KMESH_C_HOST	0x08	/* unreserved: all a host name may hold here */
#define KMESH_C_DIGIT	0x10
#define KMESH_C_HEX	0x20
#define KMESH_C_CTL	0x40	/* CTL but HTAB, and DEL: never in a head */
#define KMESH_C_VCHAR	0x80	/* visible ASCII */

#define KMESH_C_ALNUM__	(KMESH_C_TCHAR | KMESH_C_PATH | KMESH_C_QUERY | \
			 KMESH_C_HOST | KMESH_C_VCHAR)
#define KMESH_C_TSUB__	(KMESH_C_TCHAR | KMESH_C_PATH | KMESH_C_QUERY | \
			 KMESH_C_VCHAR)
#define KMESH_C_SUB__	(KMESH_C_PATH | KMESH_C_QUERY | KMESH_C_VCHAR)
#define KMESH_C_TOK__	(KMESH_C_TCHAR | KMESH_C_VCHAR)

/*
 * Host names take KMESH_C_HOST bytes only (unreserved), not the sub-delims
 * RFC 3986 allows in a reg-name ("0.0.0.0=5000" is refused): see
 * docs/config.md, "What kmesh accepts as HTTP".
 */
static const __u8 kmesh_http_cls[256] = {
	[0x00 ... 0x08] = KMESH_C_CTL,
	[0x0a ... 0x1f] = KMESH_C_CTL,
	[0x7f] = KMESH_C_CTL,
	['0' ... '9'] = KMESH_C_ALNUM__ | KMESH_C_DIGIT | KMESH_C_HEX,
	['A' ... 'F'] = KMESH_C_ALNUM__ | KMESH_C_HEX,
	['G' ... 'Z'] = KMESH_C_ALNUM__,
	['a' ... 'f'] = KMESH_C_ALNUM__ | KMESH_C_HEX,
	['g' ... 'z'] = KMESH_C_ALNUM__,
	['-'] = KMESH_C_ALNUM__, ['.'] = KMESH_C_ALNUM__,
	['_'] = KMESH_C_ALNUM__, ['~'] = KMESH_C_ALNUM__,
	/* sub-delims that are also tchars */
	['!'] = KMESH_C_TSUB__, ['$'] = KMESH_C_TSUB__, ['&'] = KMESH_C_TSUB__,
	['\''] = KMESH_C_TSUB__, ['*'] = KMESH_C_TSUB__, ['+'] = KMESH_C_TSUB__,
	/* the other sub-delims, and the rest of pchar */
	['('] = KMESH_C_SUB__, [')'] = KMESH_C_SUB__, [','] = KMESH_C_SUB__,
	[';'] = KMESH_C_SUB__, ['='] = KMESH_C_SUB__, [':'] = KMESH_C_SUB__,
	['@'] = KMESH_C_SUB__, ['/'] = KMESH_C_SUB__,
	['?'] = KMESH_C_QUERY | KMESH_C_VCHAR,
	/* '%' is a tchar, but valid in a target only as %XX: checked apart */
	['%'] = KMESH_C_TOK__, ['#'] = KMESH_C_TOK__, ['^'] = KMESH_C_TOK__,
	['`'] = KMESH_C_TOK__, ['|'] = KMESH_C_TOK__,
	['"'] = KMESH_C_VCHAR, ['<'] = KMESH_C_VCHAR, ['>'] = KMESH_C_VCHAR,
	['['] = KMESH_C_VCHAR, [']'] = KMESH_C_VCHAR, ['\\'] = KMESH_C_VCHAR,
	['{'] = KMESH_C_VCHAR, ['}'] = KMESH_C_VCHAR,
};

KMESH_RULES_INLINE int kmesh_http_hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

KMESH_RULES_INLINE int kmesh_http_ows(__u8 c)
{
	return c == ' ' || c == '\t';
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

/*
 * States of the scanner, kept in kmesh_chunk_state.state (a __u8 in BPF
 * map memory: the module and the fallback resume each other's numbers
 * never, but both check them against KMESH_CS_ERROR).
 */
enum kmesh_chunk_scan_state {
	KMESH_CS_SIZE0 = 0,	/* first hex digit of a size (all-zero state) */
	KMESH_CS_SIZE,		/* more digits, ';', BWS or CR */
	KMESH_CS_SIZE_WS,	/* BWS after the digits: more of it or ';' */
	KMESH_CS_EXT_NAME0,	/* after ';': BWS, then a name's first tchar */
	KMESH_CS_EXT_NAME,	/* name: tchar, '=', ';', BWS or CR */
	KMESH_CS_EXT_NAME_WS,	/* BWS after a name: '=' or ';' */
	KMESH_CS_EXT_VAL0,	/* after '=': BWS, then a token or '"' */
	KMESH_CS_EXT_TOKEN,	/* token value: tchar, ';', BWS or CR */
	KMESH_CS_EXT_QUOTED,	/* inside a quoted-string */
	KMESH_CS_EXT_QPAIR,	/* after '\\' in a quoted-string */
	KMESH_CS_EXT_END,	/* after the closing '"': ';', BWS or CR */
	KMESH_CS_EXT_WS,	/* BWS after a value: more of it or ';' */
	KMESH_CS_SIZE_LF,	/* LF ending the size line */
	KMESH_CS_DATA,		/* chunk data, skipped by count (by the caller) */
	KMESH_CS_DATA_CR,	/* CR after the data */
	KMESH_CS_DATA_LF,	/* LF after the data */
	KMESH_CS_TRAILER,	/* start of a trailer line, or CR of the final CRLF */
	KMESH_CS_TNAME,		/* trailer field name */
	KMESH_CS_TVALUE,	/* trailer field value up to CR */
	KMESH_CS_TLF,		/* LF ending a trailer line */
	KMESH_CS_END_LF,	/* LF of the final CRLF */
	KMESH_CS_DONE,
	KMESH_CS_ERROR,
};

/* 15 hex digits keep a size below 2^60. */
#define KMESH_CHUNK_MAX_DIGITS	15

_Static_assert(KMESH_CS_ERROR <= 0xff, "kmesh_chunk_state.state is a __u8");
_Static_assert(KMESH_CHUNK_STATUS_MAX <= 0xff,
	       "kmesh_chunk_state.status is a __u8");
_Static_assert(KMESH_CHUNK_MAX_DIGITS <= 0xff,
	       "kmesh_chunk_state.digits is a __u8");

/* Extension bytes a quoted-string may hold (qdtext, RFC 9110 5.6.4). */
KMESH_RULES_INLINE int kmesh_chunk_qdtext(__u8 c)
{
	return c == '\t' || c == ' ' || c == 0x21 ||
	       (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
	       c >= 0x80;
}

/* Field value bytes: VCHAR, SP, HTAB, obs-text. */
KMESH_RULES_INLINE int kmesh_chunk_text(__u8 c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A CR or LF where the grammar has no place for one. */
KMESH_RULES_INLINE int kmesh_chunk_crlf_err(__u8 c, int otherwise)
{
	return c == '\r' || c == '\n' ? KMESH_CHUNK_E_CRLF : otherwise;
}

/* In an extension a CR ends the line too early: the extension is wrong. */
KMESH_RULES_INLINE int kmesh_chunk_ext_err(__u8 c)
{
	return c == '\n' ? KMESH_CHUNK_E_CRLF : KMESH_CHUNK_E_EXT;
}

/*
 * One byte @c of a size line, of the CRLF after chunk data or of the
 * trailers: never called in KMESH_CS_DATA, DONE or ERROR. Returns 0 to go
 * on (st->state may now be KMESH_CS_DATA: the caller skips st->remaining
 * bytes), KMESH_CHUNK_DONE when @c ended the body, or an error status; on
 * DONE and errors st->state and st->status are final.
 *
 * The size line is RFC 9112 7.1 and 7.1.1 to the letter:
 *   chunk-size *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ) CRLF
 * so "2;" and an unbalanced quote are refused (E_EXT).
 */
KMESH_RULES_INLINE int kmesh_chunk_step(struct kmesh_chunk_state *st, __u8 c)
{
	int rc = 0, v;
	__u8 k = kmesh_http_cls[c];

	switch (st->state) {
	case KMESH_CS_SIZE0:
		v = kmesh_http_hexval(c);
		if (v < 0) {
			rc = kmesh_chunk_crlf_err(c, KMESH_CHUNK_E_SIZE);
			break;
		}
		st->remaining = (__u64)v;
		st->digits = 1;
		st->line = 0;
		st->state = KMESH_CS_SIZE;
		break;
	case KMESH_CS_SIZE:
		v = kmesh_http_hexval(c);
		if (v >= 0) {
			if (st->digits >= KMESH_CHUNK_MAX_DIGITS) {
				rc = KMESH_CHUNK_E_OVERFLOW;
				break;
			}
			st->digits++;
			st->remaining = st->remaining << 4 | (__u64)v;
		} else if (c == '\r') {
			st->state = KMESH_CS_SIZE_LF;
		} else if (c == ';') {
			st->state = KMESH_CS_EXT_NAME0;
		} else if (kmesh_http_ows(c)) {
			st->state = KMESH_CS_SIZE_WS;
		} else {
			rc = kmesh_chunk_crlf_err(c, KMESH_CHUNK_E_SIZE);
		}
		break;
	case KMESH_CS_SIZE_WS:
		if (c == ';')
			st->state = KMESH_CS_EXT_NAME0;
		else if (!kmesh_http_ows(c))
			rc = kmesh_chunk_crlf_err(c, KMESH_CHUNK_E_SIZE);
		break;
	case KMESH_CS_EXT_NAME0:
		if (k & KMESH_C_TCHAR)
			st->state = KMESH_CS_EXT_NAME;
		else if (!kmesh_http_ows(c))
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_NAME:
		if (k & KMESH_C_TCHAR)
			break;
		if (c == '=')
			st->state = KMESH_CS_EXT_VAL0;
		else if (c == ';')
			st->state = KMESH_CS_EXT_NAME0;
		else if (kmesh_http_ows(c))
			st->state = KMESH_CS_EXT_NAME_WS;
		else if (c == '\r')
			st->state = KMESH_CS_SIZE_LF;
		else
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_NAME_WS:
		if (c == '=')
			st->state = KMESH_CS_EXT_VAL0;
		else if (c == ';')
			st->state = KMESH_CS_EXT_NAME0;
		else if (!kmesh_http_ows(c))
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_VAL0:
		if (c == '"')
			st->state = KMESH_CS_EXT_QUOTED;
		else if (k & KMESH_C_TCHAR)
			st->state = KMESH_CS_EXT_TOKEN;
		else if (!kmesh_http_ows(c))
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_TOKEN:
		if (k & KMESH_C_TCHAR)
			break;
		if (c == ';')
			st->state = KMESH_CS_EXT_NAME0;
		else if (kmesh_http_ows(c))
			st->state = KMESH_CS_EXT_WS;
		else if (c == '\r')
			st->state = KMESH_CS_SIZE_LF;
		else
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_QUOTED:
		if (c == '"')
			st->state = KMESH_CS_EXT_END;
		else if (c == '\\')
			st->state = KMESH_CS_EXT_QPAIR;
		else if (!kmesh_chunk_qdtext(c))
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_QPAIR:
		/* HTAB, SP, VCHAR, obs-text */
		if (kmesh_chunk_text(c))
			st->state = KMESH_CS_EXT_QUOTED;
		else
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_END:
		if (c == ';')
			st->state = KMESH_CS_EXT_NAME0;
		else if (kmesh_http_ows(c))
			st->state = KMESH_CS_EXT_WS;
		else if (c == '\r')
			st->state = KMESH_CS_SIZE_LF;
		else
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_EXT_WS:
		if (c == ';')
			st->state = KMESH_CS_EXT_NAME0;
		else if (!kmesh_http_ows(c))
			rc = kmesh_chunk_ext_err(c);
		break;
	case KMESH_CS_SIZE_LF:
		if (c != '\n') {
			rc = KMESH_CHUNK_E_CRLF;
			break;
		}
		st->line = 0;
		st->digits = 0;
		st->state = st->remaining ? KMESH_CS_DATA : KMESH_CS_TRAILER;
		break;
	case KMESH_CS_DATA_CR:
		if (c != '\r')
			rc = KMESH_CHUNK_E_CRLF;
		else
			st->state = KMESH_CS_DATA_LF;
		break;
	case KMESH_CS_DATA_LF:
		if (c != '\n')
			rc = KMESH_CHUNK_E_CRLF;
		else
			st->state = KMESH_CS_SIZE0;
		break;
	case KMESH_CS_TRAILER:
		if (c == '\r')
			st->state = KMESH_CS_END_LF;
		else if (k & KMESH_C_TCHAR)
			st->state = KMESH_CS_TNAME;
		else
			rc = kmesh_chunk_crlf_err(c, KMESH_CHUNK_E_TRAILER);
		break;
	case KMESH_CS_TNAME:
		if (c == ':')
			st->state = KMESH_CS_TVALUE;
		else if (!(k & KMESH_C_TCHAR))
			rc = kmesh_chunk_crlf_err(c, KMESH_CHUNK_E_TRAILER);
		break;
	case KMESH_CS_TVALUE:
		if (c == '\r')
			st->state = KMESH_CS_TLF;
		else if (!kmesh_chunk_text(c))
			rc = kmesh_chunk_crlf_err(c, KMESH_CHUNK_E_TRAILER);
		break;
	case KMESH_CS_TLF:
		if (c != '\n')
			rc = KMESH_CHUNK_E_CRLF;
		else
			st->state = KMESH_CS_TRAILER;
		break;
	case KMESH_CS_END_LF:
		if (c != '\n') {
			rc = KMESH_CHUNK_E_CRLF;
			break;
		}
		st->state = KMESH_CS_DONE;
		st->status = KMESH_CHUNK_DONE;
		return KMESH_CHUNK_DONE;
	default:
		rc = KMESH_CHUNK_E_INVAL;
		break;
	}
	if (!rc) {
		/* line limits: size lines alone, trailers all together */
		if (st->state >= KMESH_CS_SIZE && st->state <= KMESH_CS_EXT_WS) {
			if (++st->line > KMESH_CHUNK_MAX_LINE)
				rc = KMESH_CHUNK_E_TOO_LONG;
		} else if (st->state >= KMESH_CS_TRAILER &&
			   st->state <= KMESH_CS_END_LF) {
			if (++st->line > KMESH_CHUNK_MAX_TRAILERS)
				rc = KMESH_CHUNK_E_TOO_LONG;
		}
	}
	if (rc) {
		st->state = KMESH_CS_ERROR;
		st->status = rc;
	}
	return rc;
}

/* ---- the replies kmesh writes itself ---- */

/* Reason phrases (RFC 9110 15) of every status kmesh may send. */
#define KMESH_PHRASE_200	"OK"
#define KMESH_PHRASE_201	"Created"
#define KMESH_PHRASE_202	"Accepted"
#define KMESH_PHRASE_204	"No Content"
#define KMESH_PHRASE_301	"Moved Permanently"
#define KMESH_PHRASE_302	"Found"
#define KMESH_PHRASE_304	"Not Modified"
#define KMESH_PHRASE_307	"Temporary Redirect"
#define KMESH_PHRASE_308	"Permanent Redirect"
#define KMESH_PHRASE_400	"Bad Request"
#define KMESH_PHRASE_401	"Unauthorized"
#define KMESH_PHRASE_403	"Forbidden"
#define KMESH_PHRASE_404	"Not Found"
#define KMESH_PHRASE_405	"Method Not Allowed"
#define KMESH_PHRASE_408	"Request Timeout"
#define KMESH_PHRASE_409	"Conflict"
#define KMESH_PHRASE_410	"Gone"
#define KMESH_PHRASE_418	"I'm a teapot"
#define KMESH_PHRASE_421	"Misdirected Request"
#define KMESH_PHRASE_429	"Too Many Requests"
#define KMESH_PHRASE_431	"Request Header Fields Too Large"
#define KMESH_PHRASE_500	"Internal Server Error"
#define KMESH_PHRASE_501	"Not Implemented"
#define KMESH_PHRASE_502	"Bad Gateway"
#define KMESH_PHRASE_503	"Service Unavailable"
#define KMESH_PHRASE_504	"Gateway Timeout"

/*
 * The phrase of @status, "" for codes without one here (RFC 9112 4: the
 * phrase may be empty; clients must not depend on it).
 */
#ifndef __bpf__
static inline const char *kmesh_http_phrase(unsigned int status)
{
	switch (status) {
#define KMESH_PHRASE_CASE(n)	case n: return KMESH_PHRASE_##n
	KMESH_PHRASE_CASE(200); KMESH_PHRASE_CASE(201);
	KMESH_PHRASE_CASE(202); KMESH_PHRASE_CASE(204);
	KMESH_PHRASE_CASE(301); KMESH_PHRASE_CASE(302);
	KMESH_PHRASE_CASE(304); KMESH_PHRASE_CASE(307);
	KMESH_PHRASE_CASE(308); KMESH_PHRASE_CASE(400);
	KMESH_PHRASE_CASE(401); KMESH_PHRASE_CASE(403);
	KMESH_PHRASE_CASE(404); KMESH_PHRASE_CASE(405);
	KMESH_PHRASE_CASE(408); KMESH_PHRASE_CASE(409);
	KMESH_PHRASE_CASE(410); KMESH_PHRASE_CASE(418);
	KMESH_PHRASE_CASE(421); KMESH_PHRASE_CASE(429);
	KMESH_PHRASE_CASE(431); KMESH_PHRASE_CASE(500);
	KMESH_PHRASE_CASE(501); KMESH_PHRASE_CASE(502);
	KMESH_PHRASE_CASE(503); KMESH_PHRASE_CASE(504);
#undef KMESH_PHRASE_CASE
	}
	return "";
}
#endif

/*
 * Every reply kmesh writes has this layout (kmesh_http_reply() renders
 * it; the built-ins below are it, spelled out for BPF):
 *
 *   HTTP/1.1 <status> <phrase>\r\n
 *   content-length: <n>\r\n             (not for 204 and 304)
 *   content-type: text/plain\r\n        (when there is a body)
 *   connection: close\r\n               (when kmesh closes after it)
 *   \r\n
 *   <body>                              (not for 204, 304, or a HEAD request)
 *
 * "head" is everything before "connection: close", so that the sk_msg
 * program can insert that line when it decides to close.
 */
#define KMESH_REPLY_CONN_CLOSE	"connection: close\r\n"
#define KMESH_REPLY_TYPE	"content-type: text/plain\r\n"

/*
 * The replies the sk_msg program writes without a policy (a head kmesh
 * cannot read, no route, a connection routed elsewhere), and the
 * deferred-connect path's default body ("<status> <phrase>\n").
 */
#define KMESH_REPLY_HEAD__(code, len)					\
	"HTTP/1.1 " #code " " KMESH_PHRASE_##code "\r\n"		\
	"content-length: " #len "\r\n" KMESH_REPLY_TYPE
#define KMESH_REPLY_400_HEAD	KMESH_REPLY_HEAD__(400, 12)
#define KMESH_REPLY_400_BODY	"bad request\n"
#define KMESH_REPLY_404_HEAD	KMESH_REPLY_HEAD__(404, 9)
#define KMESH_REPLY_404_BODY	"no route\n"
#define KMESH_REPLY_421_HEAD	KMESH_REPLY_HEAD__(421, 12)
#define KMESH_REPLY_421_BODY	"misdirected\n"
#define KMESH_REPLY_431_HEAD	KMESH_REPLY_HEAD__(431, 15)
#define KMESH_REPLY_431_BODY	"head too large\n"
/* A rate-limited request: the sk_msg program adds "retry-after: N". */
#define KMESH_REPLY_429_HEAD	KMESH_REPLY_HEAD__(429, 18)
#define KMESH_REPLY_429_BODY	"too many requests\n"
#define KMESH_REPLY_RETRY_AFTER	"retry-after: "

_Static_assert(sizeof(KMESH_REPLY_400_BODY) - 1 == 12, "400 content-length");
_Static_assert(sizeof(KMESH_REPLY_404_BODY) - 1 == 9, "404 content-length");
_Static_assert(sizeof(KMESH_REPLY_421_BODY) - 1 == 12, "421 content-length");
_Static_assert(sizeof(KMESH_REPLY_431_BODY) - 1 == 15, "431 content-length");
_Static_assert(sizeof(KMESH_REPLY_429_BODY) - 1 == 18, "429 content-length");

#endif /* KMESH_HTTP_RULES_H */

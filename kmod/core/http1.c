// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/1.1 request-head parser; the contract is in http1.h.
 *
 * Two paths give the same results. A call that starts a head and finds all
 * of it in the buffer takes the fast path, parse_whole_head(): each line is
 * parsed in one pass, header values are scanned eight bytes at a time. On
 * anything else (a head not all there yet, a rejection) the fast path
 * gives up without a trace and the incremental path starts over: there,
 * every line goes through two steps. scan_line() walks the bytes not seen
 * before, rejecting those no continuation could make valid and looking for
 * CRLF; its position is saved in the request, so each byte is scanned once
 * however the head is delivered. Only a complete line is then parsed, once.
 * So the incremental path alone decides every rejection and its offset, and
 * the fast path only has to be right about heads that pass.
 */
#include "http1.h"
#include "http_rules.h"

enum {
	ST_START = 0,	/* before the request line: an all-zero req is valid */
	ST_HEADERS,
	ST_DONE,
	ST_ERROR,
};

/* Largest Content-Length: what a signed 64-bit off_t backend can hold. */
#define CL_MAX		0x7fffffffffffffffULL

/* Limits of one call, defaults applied and clamped. */
struct lims {
	__u32 head;
	__u32 line;
	__u32 headers;
	__u32 opts;
	bool resp;	/* a response head (kmesh_http1_parse_response()) */
	/* the caller's req->hdrs: written in place, never read back */
	struct kmesh_http_hdr *hdrs;
};

/* A host[:port] as found in a target authority or a Host value. */
struct hostport {
	__u32 off;
	__u32 len;
	__u32 port;
	bool has_port;
	bool ipv6;
};

_Static_assert(sizeof(struct kmesh_http_req) == 312,
	       "struct kmesh_http_req is ABI: update users when it changes");
_Static_assert(__builtin_offsetof(struct kmesh_http_req,
				 content_length) % 8 == 0,
	       "content_length must be naturally aligned for BPF");
_Static_assert(KMESH_HTTP_MAX_HEAD_BYTES <= 0xffff,
	       "spans and offsets are __u16");
_Static_assert(KMESH_HTTP_MAX_HEADERS <= 0xff, "nr_headers is __u8");
_Static_assert(offsetof(struct kmesh_http_req, hdrs) == 56 &&
	       sizeof(struct kmesh_http_req) ==
	       56 + sizeof(((struct kmesh_http_req *)0)->hdrs),
	       "parse() copies everything before hdrs[], the last field");

static inline bool cls_is(__u8 c, __u8 mask)
{
	return kmesh_http_cls[c] & mask;
}

/*
 * From @i, the offset of the first byte not in class @mask, or @end.
 * Eight bytes are looked up before one branch: header names, host names
 * and queries are mostly longer than that.
 */
static inline __u32 skip_class(const __u8 *buf, __u32 i, __u32 end,
			       __u8 mask)
{
	const __u8 *p;

	for (; i + 8 <= end; i += 8) {
		p = buf + i;
		if (!(kmesh_http_cls[p[0]] & kmesh_http_cls[p[1]] &
		      kmesh_http_cls[p[2]] & kmesh_http_cls[p[3]] &
		      kmesh_http_cls[p[4]] & kmesh_http_cls[p[5]] &
		      kmesh_http_cls[p[6]] & kmesh_http_cls[p[7]] & mask))
			break;
	}
	while (i < end && cls_is(buf[i], mask))
		i++;
	return i;
}

static inline __u8 lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Eight bytes from any alignment: memcpy compiles to one load. */
static inline __u64 load64(const __u8 *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#define ONES64		0x0101010101010101ULL
#define HIGHS64		0x8080808080808080ULL

/*
 * Header names and codings are case-insensitive. @lc holds lower-case
 * letters, digits and "-:/" only, bytes with 0x20 set, and @p bytes that
 * passed the line scan (no CTL): then c | 0x20 equals such a byte only if
 * c is it or its upper case (what else sets to it is a CTL), so one OR
 * folds case, eight bytes at a time.
 */
static bool eq_lower(const __u8 *p, __u32 n, const char *lc, __u32 lcn)
{
	const __u8 *l = (const __u8 *)lc;

	if (n != lcn)
		return false;
	for (; n >= 8; n -= 8, p += 8, l += 8)
		if ((load64(p) | ONES64 * 0x20) != load64(l))
			return false;
	for (; n; n--)
		if ((*p++ | 0x20) != *l++)
			return false;
	return true;
}

#define EQ_LOWER(p, n, lit)	eq_lower(p, n, lit, sizeof(lit) - 1)

/*
 * Nonzero if some byte of @v is below 0x20 or is 0x7f: the KMESH_C_CTL
 * bytes, CR, and HTAB (which the caller then looks at byte by byte).
 * (v - 0x2020..) & ~v & 0x8080.. flags each byte below 0x20, and (v ^
 * 0x7f7f..) - 0x0101.. flags 0x7f the same way. A borrow can only flag
 * bytes more significant than a real one, so the least significant flag
 * is exact: on little-endian, the first such byte in memory.
 */
static inline __u64 ctl_in_word(__u64 v)
{
	__u64 del = v ^ (ONES64 * 0x7f);

	return ((v - ONES64 * 0x20) | (del - ONES64)) & ~v & HIGHS64;
}

static inline struct kmesh_http_span span(__u32 s, __u32 e)
{
	return (struct kmesh_http_span){ .off = s, .len = e - s };
}

/* Note where a rejection was found; kmesh_http1_parse() makes it final. */
static int bad(struct kmesh_http_req *req, int status, __u32 off)
{
	req->err_off = off;
	return status;
}

/*
 * Find the CRLF ending the line that starts at req->consumed, scanning
 * from req->scan. On OK, *eol is the offset of its CR.
 */
static int scan_line(struct kmesh_http_req *req, const __u8 *buf, __u32 len,
		     const struct lims *l, __u32 *eol)
{
	__u32 end = len < l->head ? len : l->head;
	__u32 line_end = 0xffffffff;
	__u32 i;
	__u8 c;

	/* Header lines are bounded by the head limit alone. */
	if (req->state == ST_START)
		line_end = req->consumed + l->line;
	for (i = req->scan; i < end; i++) {
		/* words of plain bytes (no CTL, CR, HTAB), all within the limit */
		while (i + 8 <= end && i + 8 <= line_end &&
		       !ctl_in_word(load64(buf + i)))
			i += 8;
		if (i >= end)
			break;
		c = buf[i];
		if (!cls_is(c, KMESH_C_CTL)) {
			if (i >= line_end)
				return bad(req, KMESH_HTTP_E_LINE_TOO_LONG, i);
			continue;
		}
		if (c == '\n')
			return bad(req, KMESH_HTTP_E_BARE_LF, i);
		if (c != '\r')
			return bad(req, c ? KMESH_HTTP_E_CTL :
					    KMESH_HTTP_E_NUL, i);
		/* the LF would be past the limit, whatever follows */
		if (i + 1 >= l->head)
			return bad(req, KMESH_HTTP_E_HEAD_TOO_LARGE, i + 1);
		if (i + 1 >= len)
			break;	/* see this CR again with the next byte */
		if (buf[i + 1] != '\n')
			return bad(req, KMESH_HTTP_E_BARE_CR, i);
		*eol = i;
		return KMESH_HTTP_OK;
	}
	req->scan = i;
	if (i >= l->head)
		return bad(req, KMESH_HTTP_E_HEAD_TOO_LARGE, i);
	return KMESH_HTTP_NEED_MORE;
}

static const struct {
	char name[8];
	__u8 len;
	__u8 code;
} methods[] = {
	{ "GET", 3, KMESH_HTTP_M_GET },
	{ "HEAD", 4, KMESH_HTTP_M_HEAD },
	{ "POST", 4, KMESH_HTTP_M_POST },
	{ "PUT", 3, KMESH_HTTP_M_PUT },
	{ "DELETE", 6, KMESH_HTTP_M_DELETE },
	{ "CONNECT", 7, KMESH_HTTP_M_CONNECT },
	{ "OPTIONS", 7, KMESH_HTTP_M_OPTIONS },
	{ "TRACE", 5, KMESH_HTTP_M_TRACE },
	{ "PATCH", 5, KMESH_HTTP_M_PATCH },
};

/*
 * Methods are case-sensitive (RFC 9110 9.1): "get" is some other method.
 * GET and POST first, with compares of constant size the compiler inlines.
 */
static __u8 method_code(const __u8 *p, __u32 n)
{
	__u32 i;

	if (n == 3 && !memcmp(p, "GET", 3))
		return KMESH_HTTP_M_GET;
	if (n == 4 && !memcmp(p, "POST", 4))
		return KMESH_HTTP_M_POST;
	for (i = 0; i < ARRAY_SIZE(methods); i++)
		if (methods[i].len == n && !memcmp(p, methods[i].name, n))
			return methods[i].code;
	return KMESH_HTTP_M_OTHER;
}

static int parse_version(struct kmesh_http_req *req, const __u8 *buf,
			 __u32 s, __u32 e)
{
	const __u8 *p = buf + s;

	if (e - s != 8 || memcmp(p, "HTTP/", 5) || !cls_is(p[5], KMESH_C_DIGIT) ||
	    p[6] != '.' || !cls_is(p[7], KMESH_C_DIGIT))
		return bad(req, KMESH_HTTP_E_BAD_VERSION, s);
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return bad(req, KMESH_HTTP_E_UNSUPPORTED_VERSION, s);
	req->version = p[7] == '1' ? KMESH_HTTP_V_11 : KMESH_HTTP_V_10;
	return 0;
}

static bool parse_port(const __u8 *buf, __u32 s, __u32 e, struct hostport *hp)
{
	__u32 port = 0;
	__u32 i;

	for (i = s; i < e; i++) {
		if (!cls_is(buf[i], KMESH_C_DIGIT))
			return false;
		port = port * 10 + (buf[i] - '0');
		if (port > 0xffff)
			return false;
	}
	/* "host:" is allowed by RFC 3986 and means no port. */
	hp->has_port = s < e;
	hp->port = port;
	return true;
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros */
static bool valid_ipv4(const __u8 *p, __u32 n)
{
	__u32 i = 0, octets = 0, v, d;

	for (;;) {
		for (v = 0, d = 0; i < n && d < 4 && cls_is(p[i], KMESH_C_DIGIT); d++)
			v = v * 10 + (p[i++] - '0');
		if (!d || d > 3 || v > 255 || (d > 1 && p[i - d] == '0'))
			return false;
		if (++octets == 4)
			return i == n;
		if (i == n || p[i] != '.')
			return false;
		i++;
	}
}

/* IPv6address of RFC 3986 3.2.2, the inside of an IP-literal. */
static bool valid_ipv6(const __u8 *p, __u32 n)
{
	__u32 i = 0, groups = 0, start;
	bool gap = false;

	if (n >= 2 && p[0] == ':' && p[1] == ':') {
		gap = true;
		i = 2;
	}
	while (i < n) {
		if (groups == 8)
			return false;
		start = i;
		while (i < n && i - start < 5 && cls_is(p[i], KMESH_C_HEX))
			i++;
		if (i < n && p[i] == '.') {
			/* an embedded IPv4 address ends it: 2 groups */
			if (!valid_ipv4(p + start, n - start))
				return false;
			groups += 2;
			break;
		}
		if (i == start || i - start > 4)
			return false;
		groups++;
		if (i == n)
			break;
		if (p[i] != ':' || ++i == n)
			return false;
		if (p[i] == ':') {
			if (gap)
				return false;
			gap = true;
			i++;
		}
	}
	/* "::" stands for at least one group */
	return gap ? groups <= 7 : groups == 8;
}

/* host [ ":" port ], host being an [IPv6] literal or unreserved bytes. */
static bool parse_hostport(const __u8 *buf, __u32 s, __u32 e,
			   struct hostport *hp)
{
	const __u8 *rb;
	__u32 i = s;

	memset(hp, 0, sizeof(*hp));
	if (i < e && buf[i] == '[') {
		/* from s + 1: no underflow even if buf changes under us */
		rb = memchr(buf + s + 1, ']', e - s - 1);
		if (!rb || !valid_ipv6(buf + s + 1, rb - buf - s - 1))
			return false;
		i = rb - buf + 1;
		hp->ipv6 = true;
	} else {
		i = skip_class(buf, i, e, KMESH_C_HOST);
	}
	hp->off = s;
	hp->len = i - s;
	if (i == e)
		return true;
	if (buf[i] != ':' || i == s)
		return false;
	return parse_port(buf, i + 1, e, hp);
}

static void set_host(struct kmesh_http_req *req, const struct hostport *hp)
{
	req->host = span(hp->off, hp->off + hp->len);
	req->port = hp->port;
	if (hp->has_port)
		req->flags |= KMESH_HTTP_F_HAS_PORT;
	if (hp->ipv6)
		req->flags |= KMESH_HTTP_F_HOST_IPV6;
}

static __u8 hex_value(__u8 c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * An escape a server decodes before it routes (RFC 3986 6.2.2.2: an
 * unreserved byte), or one servers disagree on ('/', '\\', NUL).
 */
static bool pct_not_canonical(const __u8 *p, bool escaped_slashes)
{
	__u8 v = hex_value(p[1]) << 4 | hex_value(p[2]);

	if (v == '/')
		return !escaped_slashes;
	return cls_is(v, KMESH_C_HOST) || v == '\\' || !v;
}

static bool dot_segment(const __u8 *seg, __u32 len)
{
	return (len == 1 && seg[0] == '.') ||
	       (len == 2 && seg[0] == '.' && seg[1] == '.');
}

/*
 * Policy compares the path as sent, so it must be the path every server
 * resolves: refuse empty segments ("//", merged by nginx), "." and ".."
 * segments (removed by servers, RFC 3986 5.2.4) and escapes that decode
 * to something significant. The query is left alone.
 */
static int check_canonical_path(struct kmesh_http_req *req, const __u8 *buf,
				__u32 s, __u32 e, bool escaped_slashes)
{
	__u32 seg = s, i;

	for (i = s; i < e; i++) {
		if (buf[i] == '\\')	/* a separator on some servers */
			return bad(req, KMESH_HTTP_E_PATH_NOT_CANONICAL, i);
		if (buf[i] == '%' && e - i >= 3 && cls_is(buf[i + 1], KMESH_C_HEX) &&
		    cls_is(buf[i + 2], KMESH_C_HEX) &&
		    pct_not_canonical(buf + i, escaped_slashes))
			return bad(req, KMESH_HTTP_E_PATH_NOT_CANONICAL, i);
		if (buf[i] != '/')
			continue;
		if (i > s && (i == seg + 1 ||
			      dot_segment(buf + seg + 1, i - seg - 1)))
			return bad(req, KMESH_HTTP_E_PATH_NOT_CANONICAL, seg);
		seg = i;
	}
	if (e > s && dot_segment(buf + seg + 1, e - seg - 1))
		return bad(req, KMESH_HTTP_E_PATH_NOT_CANONICAL, seg);
	return 0;
}

/* absolute-path [ "?" query ], or path-abempty after an authority */
static int parse_path_query(struct kmesh_http_req *req, const __u8 *buf,
			    __u32 s, __u32 e, const struct lims *l)
{
	bool lax = l->opts & KMESH_HTTP1_OPT_LAX_TARGET;
	__u8 want = KMESH_C_PATH;
	__u32 q = e, i;
	int rc;
	__u8 c;

	for (i = s; i < e; i++) {
		c = buf[i];
		if (c == '?' && q == e) {
			q = i;
			want = KMESH_C_QUERY;
		} else if (lax) {
			/* '#' would end the target for the backend */
			if (!cls_is(c, KMESH_C_VCHAR) || c == '#')
				return bad(req, KMESH_HTTP_E_BAD_TARGET, i);
		} else if (c == '%') {
			if (e - i < 3 || !cls_is(buf[i + 1], KMESH_C_HEX) ||
			    !cls_is(buf[i + 2], KMESH_C_HEX))
				return bad(req, KMESH_HTTP_E_BAD_TARGET, i);
			i += 2;
		} else if (!cls_is(c, want)) {
			return bad(req, KMESH_HTTP_E_BAD_TARGET, i);
		}
	}
	rc = check_canonical_path(req, buf, s, q,
				  l->opts & KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES);
	if (rc)
		return rc;
	req->path = span(s, q);
	if (q < e) {
		req->flags |= KMESH_HTTP_F_HAS_QUERY;
		req->query = span(q + 1, e);
	}
	return 0;
}

/* Length of a leading "http://" or "https://" (case-insensitive), or 0. */
static __u32 http_scheme(struct kmesh_http_req *req, const __u8 *p, __u32 n)
{
	if (n >= 7 && EQ_LOWER(p, 7, "http://"))
		return 7;
	if (n >= 8 && EQ_LOWER(p, 8, "https://")) {
		req->flags |= KMESH_HTTP_F_HTTPS;
		return 8;
	}
	return 0;
}

static int parse_absolute(struct kmesh_http_req *req, const __u8 *buf,
			  __u32 s, __u32 e, const struct lims *l)
{
	struct hostport hp;
	__u32 i = s;

	while (i < e && buf[i] != '/' && buf[i] != '?')
		i++;
	/* userinfo and empty hosts fail here (RFC 9110 4.2.1, 4.2.4) */
	if (!parse_hostport(buf, s, i, &hp) || !hp.len)
		return bad(req, KMESH_HTTP_E_BAD_AUTHORITY, s);
	set_host(req, &hp);
	req->target_form = KMESH_HTTP_FORM_ABSOLUTE;
	return parse_path_query(req, buf, i, e, l);
}

static int parse_target(struct kmesh_http_req *req, const __u8 *buf,
			__u32 s, __u32 e, const struct lims *l)
{
	bool connect = req->method == KMESH_HTTP_M_CONNECT;
	struct hostport hp;
	__u32 n;

	req->target = span(s, e);
	if (buf[s] == '/') {
		if (connect)
			return bad(req, KMESH_HTTP_E_TARGET_FORM, s);
		req->target_form = KMESH_HTTP_FORM_ORIGIN;
		return parse_path_query(req, buf, s, e, l);
	}
	if (buf[s] == '*' && e - s == 1) {
		if (req->method != KMESH_HTTP_M_OPTIONS)
			return bad(req, KMESH_HTTP_E_TARGET_FORM, s);
		req->target_form = KMESH_HTTP_FORM_ASTERISK;
		return 0;
	}
	n = http_scheme(req, buf + s, e - s);
	if (n) {
		if (connect)
			return bad(req, KMESH_HTTP_E_TARGET_FORM, s);
		return parse_absolute(req, buf, s + n, e, l);
	}
	if (!connect)
		return bad(req, KMESH_HTTP_E_BAD_TARGET, s);
	if (!parse_hostport(buf, s, e, &hp) || !hp.len || !hp.has_port)
		return bad(req, KMESH_HTTP_E_BAD_AUTHORITY, s);
	set_host(req, &hp);
	req->target_form = KMESH_HTTP_FORM_AUTHORITY;
	return 0;
}

/* method SP request-target SP HTTP-version, exactly one SP each */
static int parse_request_line(struct kmesh_http_req *req, const __u8 *buf,
			      __u32 s, __u32 e, const struct lims *l)
{
	const __u8 *sp;
	__u32 i = s, t, v;
	int rc;

	while (i < e && cls_is(buf[i], KMESH_C_TCHAR))
		i++;
	if (i == e || buf[i] == '\t' || (buf[i] == ' ' && i == s))
		return bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, i);
	if (buf[i] != ' ')
		return bad(req, KMESH_HTTP_E_BAD_METHOD, i);
	req->method_tok = span(s, i);
	req->method = method_code(buf + s, i - s);

	t = i + 1;
	sp = memchr(buf + t, ' ', e - t);
	if (!sp || sp == buf + t)
		return bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, t);
	v = sp - buf + 1;
	sp = memchr(buf + v, ' ', e - v);
	if (sp)
		return bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, sp - buf);

	rc = parse_version(req, buf, v, e);
	if (rc)
		return rc;
	return parse_target(req, buf, t, v - 1, l);
}

static bool same_host(const struct kmesh_http_req *req, const __u8 *buf,
		      const struct hostport *hp)
{
	const __u8 *a = buf + req->host.off, *b = buf + hp->off;
	bool has_port = req->flags & KMESH_HTTP_F_HAS_PORT;
	__u32 i;

	if (req->host.len != hp->len || has_port != hp->has_port ||
	    (has_port && req->port != hp->port))
		return false;
	for (i = 0; i < hp->len; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static int host_header(struct kmesh_http_req *req, const __u8 *buf,
		       __u32 vs, __u32 ve)
{
	struct hostport hp;

	if (req->flags & KMESH_HTTP_F_HAS_HOST)
		return bad(req, KMESH_HTTP_E_DUP_HOST, vs);
	if (!parse_hostport(buf, vs, ve, &hp))
		return bad(req, KMESH_HTTP_E_BAD_HOST, vs);
	req->flags |= KMESH_HTTP_F_HAS_HOST;
	if (req->target_form != KMESH_HTTP_FORM_ABSOLUTE &&
	    req->target_form != KMESH_HTTP_FORM_AUTHORITY) {
		set_host(req, &hp);
		return 0;
	}
	/* The target's authority wins (RFC 9112 3.2.2); note disagreement. */
	if (req->host.off + req->host.len > req->consumed)
		return bad(req, KMESH_HTTP_E_INVAL, vs); /* req corrupted */
	if (!same_host(req, buf, &hp))
		req->flags |= KMESH_HTTP_F_HOST_MISMATCH;
	return 0;
}

static int cl_header(struct kmesh_http_req *req, const __u8 *v, __u32 n,
		     __u32 off)
{
	__u64 cl = 0;
	__u32 i, d;

	/* RFC 9110 9.3.6: CONNECT has no content; "body" bytes would be a
	 * request that policy never saw, for a server that refuses the tunnel */
	if (req->method == KMESH_HTTP_M_CONNECT)
		return bad(req, KMESH_HTTP_E_CONNECT_BODY, off);
	if (req->flags & KMESH_HTTP_F_HAS_CL)
		return bad(req, KMESH_HTTP_E_DUP_CL, off);
	if (req->flags & KMESH_HTTP_F_CHUNKED)
		return bad(req, KMESH_HTTP_E_CL_AND_TE, off);
	if (!n)
		return bad(req, KMESH_HTTP_E_BAD_CL, off);
	for (i = 0; i < n; i++) {
		if (!cls_is(v[i], KMESH_C_DIGIT))
			return bad(req, KMESH_HTTP_E_BAD_CL, off + i);
		d = v[i] - '0';
		/* constants only: no 64-bit division on 32-bit kernels */
		if (cl > CL_MAX / 10 || (cl == CL_MAX / 10 && d > CL_MAX % 10))
			return bad(req, KMESH_HTTP_E_CL_OVERFLOW, off + i);
		cl = cl * 10 + d;
	}
	req->content_length = cl;
	req->flags |= KMESH_HTTP_F_HAS_CL;
	return 0;
}

/* 1#token with OWS around commas; true if the last one alone is chunked */
static bool te_chunked_last(const __u8 *v, __u32 n)
{
	bool chunked;
	__u32 i = 0, s;

	for (;;) {
		s = i;
		while (i < n && cls_is(v[i], KMESH_C_TCHAR))
			i++;
		if (i == s)
			return false;
		chunked = EQ_LOWER(v + s, i - s, "chunked");
		while (i < n && kmesh_http_ows(v[i]))
			i++;
		if (i == n)
			return chunked;
		if (v[i] != ',' || chunked)
			return false;
		i++;
		while (i < n && kmesh_http_ows(v[i]))
			i++;
	}
}

static int te_header(struct kmesh_http_req *req, const __u8 *v, __u32 n,
		     __u32 off)
{
	if (req->method == KMESH_HTTP_M_CONNECT)
		return bad(req, KMESH_HTTP_E_CONNECT_BODY, off);
	/* RFC 9112 6.1: HTTP/1.0 framing with TE cannot be trusted (a
	 * response, method NONE, is only scanned for its end) */
	if (req->version != KMESH_HTTP_V_11 &&
	    req->method != KMESH_HTTP_M_NONE)
		return bad(req, KMESH_HTTP_E_TE_HTTP10, off);
	/* F_CHUNKED is set by the first (valid) TE line */
	if (req->flags & KMESH_HTTP_F_CHUNKED)
		return bad(req, KMESH_HTTP_E_DUP_TE, off);
	if (req->flags & KMESH_HTTP_F_HAS_CL)
		return bad(req, KMESH_HTTP_E_CL_AND_TE, off);
	if (!te_chunked_last(v, n))
		return bad(req, KMESH_HTTP_E_BAD_TE, off);
	req->flags |= KMESH_HTTP_F_CHUNKED;
	return 0;
}

/* Connection options are advisory: unknown or malformed ones are ignored. */
static void connection_header(struct kmesh_http_req *req, const __u8 *v,
			      __u32 n)
{
	__u32 i = 0, s, e;

	while (i < n) {
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i++;
		while (s < e && kmesh_http_ows(v[s]))
			s++;
		while (e > s && kmesh_http_ows(v[e - 1]))
			e--;
		if (EQ_LOWER(v + s, e - s, "close"))
			req->flags |= KMESH_HTTP_F_CONN_CLOSE;
		else if (EQ_LOWER(v + s, e - s, "keep-alive"))
			req->flags |= KMESH_HTTP_F_CONN_KEEP_ALIVE;
		else if (EQ_LOWER(v + s, e - s, "upgrade"))
			req->flags |= KMESH_HTTP_F_CONN_UPGRADE;
	}
}

static void expect_header(struct kmesh_http_req *req, const __u8 *v, __u32 n)
{
	if (!EQ_LOWER(v, n, "100-continue"))
		req->flags |= KMESH_HTTP_F_EXPECT_OTHER;
	else if (req->version == KMESH_HTTP_V_11)	/* RFC 9110 10.1.1 */
		req->flags |= KMESH_HTTP_F_EXPECT_CONTINUE;
}

static int known_header(struct kmesh_http_req *req, const __u8 *buf,
			const struct kmesh_http_hdr *h, bool resp)
{
	const __u8 *n = buf + h->name.off, *v = buf + h->value.off;
	__u32 vs = h->value.off, vn = h->value.len;

	/* of a response, only its framing matters */
	if (resp) {
		if (h->name.len == 14 && EQ_LOWER(n, 14, "content-length"))
			return cl_header(req, v, vn, vs);
		if (h->name.len == 17 && EQ_LOWER(n, 17, "transfer-encoding"))
			return te_header(req, v, vn, vs);
		return 0;
	}
	switch (h->name.len) {
	case 4:
		if (EQ_LOWER(n, 4, "host"))
			return host_header(req, buf, vs, vs + vn);
		break;
	case 6:
		if (EQ_LOWER(n, 6, "expect"))
			expect_header(req, v, vn);
		break;
	case 7:
		if (EQ_LOWER(n, 7, "upgrade"))
			req->flags |= KMESH_HTTP_F_UPGRADE;
		break;
	case 10:
		if (EQ_LOWER(n, 10, "connection"))
			connection_header(req, v, vn);
		break;
	case 14:
		if (EQ_LOWER(n, 14, "content-length"))
			return cl_header(req, v, vn, vs);
		break;
	case 17:
		if (EQ_LOWER(n, 17, "transfer-encoding"))
			return te_header(req, v, vn, vs);
		break;
	}
	return 0;
}

/* field-name ":" OWS field-value OWS; value bytes were vetted by the scan */
static int parse_field_line(struct kmesh_http_req *req, const __u8 *buf,
			    __u32 s, __u32 e, const struct lims *l)
{
	struct kmesh_http_hdr *h, rh;
	__u32 i = s, vs, ve;

	if (kmesh_http_ows(buf[s]))
		return bad(req, KMESH_HTTP_E_OBS_FOLD, s);
	while (i < e && cls_is(buf[i], KMESH_C_TCHAR))
		i++;
	if (i == e)
		return bad(req, KMESH_HTTP_E_NO_COLON, e);
	if (kmesh_http_ows(buf[i]))
		return bad(req, KMESH_HTTP_E_WS_BEFORE_COLON, i);
	if (buf[i] != ':')
		return bad(req, KMESH_HTTP_E_BAD_HEADER_NAME, i);
	if (i == s)
		return bad(req, KMESH_HTTP_E_EMPTY_HEADER_NAME, s);
	/* an over-full head is an error, never a silent truncation */
	if (!l->resp && req->nr_headers >= l->headers)
		return bad(req, KMESH_HTTP_E_TOO_MANY_HEADERS, s);

	vs = i + 1;
	ve = e;
	while (vs < ve && kmesh_http_ows(buf[vs]))
		vs++;
	while (ve > vs && kmesh_http_ows(buf[ve - 1]))
		ve--;
	/* a response's fields are not kept: nothing routes on them */
	h = l->resp ? &rh : &l->hdrs[req->nr_headers++];
	h->name = span(s, i);
	h->value = span(vs, ve);
	return known_header(req, buf, h, l->resp);
}

/* The empty line: checks that need the whole head, then the verdict. */
static int finish(struct kmesh_http_req *req, __u32 end, bool resp)
{
	__u32 f = req->flags;
	bool persist;

	if (!resp && req->version == KMESH_HTTP_V_11 &&
	    !(f & KMESH_HTTP_F_HAS_HOST))
		return bad(req, KMESH_HTTP_E_NO_HOST, end - 2);
	/* RFC 9112 9.3, as the client asked */
	if (req->version == KMESH_HTTP_V_11)
		persist = !(f & KMESH_HTTP_F_CONN_CLOSE);
	else
		persist = (f & KMESH_HTTP_F_CONN_KEEP_ALIVE) &&
			  !(f & KMESH_HTTP_F_CONN_CLOSE);
	if (persist)
		f |= KMESH_HTTP_F_PERSISTENT;
	if ((f & KMESH_HTTP_F_CHUNKED) || req->content_length)
		f |= KMESH_HTTP_F_HAS_BODY;
	req->flags = f;
	req->head_len = end;
	req->consumed = end;
	req->scan = end;
	req->state = ST_DONE;
	return KMESH_HTTP_OK;
}

/*
 * HTTP-version SP 3DIGIT [ SP reason-phrase ] (RFC 9112 4; a missing SP
 * before an empty phrase is taken, as most clients do). The status code
 * goes to req->port.
 */
static int parse_status_line(struct kmesh_http_req *req, const __u8 *buf,
			     __u32 s, __u32 e)
{
	__u32 v, i, code = 0;
	int rc;

	v = s;
	while (v < e && buf[v] != ' ')
		v++;
	rc = parse_version(req, buf, s, v);
	if (rc)
		return rc;
	if (v == e)
		return bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, e);
	/* the first byte that is not the status code's: where it fails */
	for (i = v + 1; i < v + 4; i++) {
		if (i >= e || !cls_is(buf[i], KMESH_C_DIGIT))
			return bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, i);
		code = code * 10 + (buf[i] - '0');
	}
	if (i < e && buf[i] != ' ')
		return bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, i);
	req->port = code;
	return 0;
}

static int parse_lines(struct kmesh_http_req *req, const __u8 *buf,
		       __u32 len, const struct lims *l)
{
	__u32 s, eol;
	int rc;

	/* ends: every line moves consumed on, the head limit stops scan */
	for (;;) {
		rc = scan_line(req, buf, len, l, &eol);
		if (rc != KMESH_HTTP_OK)
			return rc;
		s = req->consumed;
		if (req->state == ST_HEADERS) {
			if (eol == s)
				return finish(req, eol + 2, l->resp);
			rc = parse_field_line(req, buf, s, eol, l);
		} else if (l->resp) {
			rc = parse_status_line(req, buf, s, eol);
			req->state = ST_HEADERS;
		} else if (eol != s) {	/* else: empty line before request */
			rc = parse_request_line(req, buf, s, eol, l);
			req->state = ST_HEADERS;
		}
		if (rc)
			return rc;
		req->consumed = eol + 2;
		req->scan = eol + 2;
	}
}

/* ---- fast path: the whole head in @buf, parsed in one pass ---- */

/* The fast path gave up: the incremental path decides instead. */
#define FAST_GIVE_UP	(-1)

/*
 * From @i, the offset of the first byte that is KMESH_C_CTL (so CR ends
 * the run; HTAB, SP, VCHAR and obs-text do not), or @end.
 */
static inline __u32 skip_text(const __u8 *buf, __u32 i, __u32 end)
{
	__u64 m;

	for (;;) {
		while (i + 8 <= end) {
			m = ctl_in_word(load64(buf + i));
			if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* the lowest flag is exact: the first such byte */
				i += __builtin_ctzll(m) >> 3;
#endif
				break;
			}
			i += 8;
		}
		/* HTAB, or the end: one byte at a time */
		if (i >= end || cls_is(buf[i], KMESH_C_CTL))
			return i;
		i++;
	}
}

/*
 * The line at @s is CRLF-terminated within @end with no other control
 * byte: returns the offset of its CR, or FAST_GIVE_UP.
 */
static inline int fast_eol(const __u8 *buf, __u32 s, __u32 end, __u32 *eol)
{
	__u32 i = skip_text(buf, s, end);

	if (i + 1 >= end || buf[i] != '\r' || buf[i + 1] != '\n')
		return FAST_GIVE_UP;
	*eol = i;
	return 0;
}

/*
 * A field line at @s, as parse_field_line() takes it, in one pass: name
 * up to ':', OWS, value bytes up to CRLF, trailing OWS. Sets *eol.
 */
static int fast_field_line(struct kmesh_http_req *req, const __u8 *buf,
			   __u32 s, __u32 end, const struct lims *l,
			   __u32 *eol)
{
	struct kmesh_http_hdr *h;
	__u32 i = skip_class(buf, s, end, KMESH_C_TCHAR), ne, vs, ve;

	if (i == s || i >= end || buf[i] != ':' ||
	    req->nr_headers >= l->headers)
		return FAST_GIVE_UP;
	ne = i++;
	while (i < end && kmesh_http_ows(buf[i]))
		i++;
	vs = i;
	if (fast_eol(buf, i, end, eol))
		return FAST_GIVE_UP;
	ve = *eol;
	while (ve > vs && kmesh_http_ows(buf[ve - 1]))
		ve--;
	h = &l->hdrs[req->nr_headers++];
	h->name = span(s, ne);
	h->value = span(vs, ve);
	return known_header(req, buf, h, false) ? FAST_GIVE_UP : 0;
}

/*
 * The request line of the common case, in one pass: a method, an
 * origin-form target with the strict RFC 3986 rules and a canonical path
 * (parse_path_query() and check_canonical_path() in one walk), HTTP/1.1
 * or HTTP/1.0, CRLF. Sets *eol. Anything else (other target forms, lax
 * targets, a byte out of place) is FAST_GIVE_UP, and the caller tries the
 * general parse_request_line() on the line; @req is written only on
 * success, so that one starts from where this one did.
 */
static int fast_request_line(struct kmesh_http_req *req, const __u8 *buf,
			     __u32 s, __u32 end, const struct lims *l,
			     __u32 *eol)
{
	bool escaped_slashes = l->opts & KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES;
	__u32 i = s, t, seg, p, q = 0;
	__u8 method, c;

	if (l->opts & KMESH_HTTP1_OPT_LAX_TARGET)
		return FAST_GIVE_UP;
	while (i < end && cls_is(buf[i], KMESH_C_TCHAR))
		i++;
	if (i == s || i + 1 >= end || buf[i] != ' ' || buf[i + 1] != '/')
		return FAST_GIVE_UP;
	method = method_code(buf + s, i - s);
	if (method == KMESH_HTTP_M_CONNECT)
		return FAST_GIVE_UP;
	t = i + 1;
	seg = t;
	for (i = t + 1; i < end; i++) {
		c = buf[i];
		if (cls_is(c, KMESH_C_PATH)) {
			if (c != '/')
				continue;
			if (i == seg + 1 ||
			    dot_segment(buf + seg + 1, i - seg - 1))
				return FAST_GIVE_UP;
			seg = i;
		} else if (c == '%') {
			if (end - i < 3 || !cls_is(buf[i + 1], KMESH_C_HEX) ||
			    !cls_is(buf[i + 2], KMESH_C_HEX) ||
			    pct_not_canonical(buf + i, escaped_slashes))
				return FAST_GIVE_UP;
			i += 2;
		} else {
			break;
		}
	}
	if (dot_segment(buf + seg + 1, i - seg - 1))
		return FAST_GIVE_UP;
	p = i;
	if (i < end && buf[i] == '?') {
		q = i++;
		for (;;) {
			i = skip_class(buf, i, end, KMESH_C_QUERY);
			if (i >= end || buf[i] != '%')
				break;
			if (end - i < 3 || !cls_is(buf[i + 1], KMESH_C_HEX) ||
			    !cls_is(buf[i + 2], KMESH_C_HEX))
				return FAST_GIVE_UP;
			i += 3;
		}
	}
	/* SP "HTTP/1.x" CR LF, within the limits of a request line */
	if (end - i < 11 || buf[i] != ' ' || memcmp(buf + i + 1, "HTTP/1.", 7) ||
	    (buf[i + 8] != '1' && buf[i + 8] != '0') ||
	    buf[i + 9] != '\r' || buf[i + 10] != '\n' ||
	    i + 9 - s > l->line)
		return FAST_GIVE_UP;
	req->method = method;
	req->method_tok = span(s, t - 1);
	req->version = buf[i + 8] == '1' ? KMESH_HTTP_V_11 : KMESH_HTTP_V_10;
	req->target = span(t, i);
	req->target_form = KMESH_HTTP_FORM_ORIGIN;
	req->path = span(t, p);
	if (q) {
		req->flags |= KMESH_HTTP_F_HAS_QUERY;
		req->query = span(q + 1, i);
	}
	*eol = i + 9;
	return 0;
}

/*
 * A request head that starts at @buf[0] and ends within @len and the head
 * limit, parsed with exactly the checks of parse_lines(); FAST_GIVE_UP as
 * soon as something is not plainly valid or the head is not all there.
 * What it writes to @req is then thrown away by the caller; what it wrote
 * to l->hdrs is what the incremental path writes there again.
 */
static int parse_whole_head(struct kmesh_http_req *req, const __u8 *buf,
			    __u32 len, const struct lims *l)
{
	__u32 end = len < l->head ? len : l->head;
	__u32 s = 0, eol;

	/* empty lines before the request line (RFC 9112 2.2) */
	while (s + 1 < end && buf[s] == '\r' && buf[s + 1] == '\n')
		s += 2;
	req->consumed = s;
	if (fast_request_line(req, buf, s, end, l, &eol) &&
	    (fast_eol(buf, s, end, &eol) || eol == s || eol - s > l->line ||
	     parse_request_line(req, buf, s, eol, l)))
		return FAST_GIVE_UP;
	req->state = ST_HEADERS;
	for (;;) {
		s = eol + 2;
		req->consumed = s;
		req->scan = s;
		if (s + 1 < end && buf[s] == '\r' && buf[s + 1] == '\n')
			return finish(req, s + 2, false) ? FAST_GIVE_UP :
			       KMESH_HTTP_OK;
		if (fast_field_line(req, buf, s, end, l, &eol))
			return FAST_GIVE_UP;
	}
}

static void get_limits(struct lims *l, const struct kmesh_http1_limits *lim)
{
	struct kmesh_http1_limits z = { 0 };

	if (!lim)
		lim = &z;
	l->head = lim->max_head_bytes ?: KMESH_HTTP_DEFAULT_HEAD_BYTES;
	if (l->head > KMESH_HTTP_MAX_HEAD_BYTES)
		l->head = KMESH_HTTP_MAX_HEAD_BYTES;
	l->line = lim->max_line_bytes ?: KMESH_HTTP1_DEFAULT_LINE_BYTES;
	if (l->line > l->head)
		l->line = l->head;
	l->headers = lim->max_headers ?: KMESH_HTTP_DEFAULT_HEADERS;
	if (l->headers > KMESH_HTTP_MAX_HEADERS)
		l->headers = KMESH_HTTP_MAX_HEADERS;
	l->opts = lim->opts;
}

/* Everything the parser will use as an index must be sane. */
static bool resumable(const struct kmesh_http_req *req, __u32 len)
{
	return req->state <= ST_HEADERS && req->consumed <= req->scan &&
	       req->scan <= len && req->nr_headers <= KMESH_HTTP_MAX_HEADERS;
}

/* The part of struct kmesh_http_req a call reads and writes as a whole. */
#define REQ_SCALARS	offsetof(struct kmesh_http_req, hdrs)

void kmesh_http1_init(struct kmesh_http_req *req)
{
	/*
	 * Two memsets of constant size: the scalars, which parse() reads
	 * right away, get plain stores it can load from without a stall.
	 */
	memset(req, 0, REQ_SCALARS);
	memset(req->hdrs, 0, sizeof(req->hdrs));
	req->status = KMESH_HTTP_NEED_MORE;
}

static int parse(struct kmesh_http_req *req, const __u8 *buf, __u32 len,
		 const struct kmesh_http1_limits *lim, bool resp)
{
	struct kmesh_http_req r;	/* up to hdrs[] only */
	__u8 fresh[REQ_SCALARS];
	struct lims l;
	int rc;

	if (!req || (!buf && len))
		return KMESH_HTTP_E_INVAL;
	/*
	 * @req may be BPF memory that another CPU writes meanwhile: parse a
	 * private snapshot of its scalars, so that what was validated is what
	 * gets used. Header spans are only written (to req->hdrs, in place).
	 */
	memcpy(&r, req, REQ_SCALARS);
	if (r.state == ST_DONE)
		return KMESH_HTTP_OK;
	if (r.state == ST_ERROR)
		return r.status > KMESH_HTTP_NEED_MORE &&
		       r.status < KMESH_HTTP_STATUS_MAX ?
		       r.status : KMESH_HTTP_E_INVAL;
	if (!resumable(&r, len))
		return KMESH_HTTP_E_INVAL;
	get_limits(&l, lim);
	l.resp = resp;
	l.hdrs = req->hdrs;

	rc = FAST_GIVE_UP;
	if (!resp && r.state == ST_START && !r.scan) {
		memcpy(fresh, &r, REQ_SCALARS);
		rc = parse_whole_head(&r, buf, len, &l);
		if (rc != KMESH_HTTP_OK)	/* start over, from the snapshot */
			memcpy(&r, fresh, REQ_SCALARS);
	}
	if (rc != KMESH_HTTP_OK)
		rc = parse_lines(&r, buf, len, &l);
	if (rc != KMESH_HTTP_OK && rc != KMESH_HTTP_NEED_MORE) {
		/* how far an earlier call scanned must not show */
		r.scan = r.consumed;
		r.state = ST_ERROR;
	}
	r.status = rc;
	memcpy(req, &r, REQ_SCALARS);
	return rc;
}

int kmesh_http1_parse(struct kmesh_http_req *req, const __u8 *buf, __u32 len,
		      const struct kmesh_http1_limits *lim)
{
	return parse(req, buf, len, lim, false);
}

int kmesh_http1_parse_response(struct kmesh_http_req *req, const __u8 *buf,
			       __u32 len, const struct kmesh_http1_limits *lim)
{
	return parse(req, buf, len, lim, true);
}

static const char *const status_str[KMESH_HTTP_STATUS_MAX] = {
	[KMESH_HTTP_OK] = "ok",
	[KMESH_HTTP_NEED_MORE] = "need more",
	[KMESH_HTTP_E_INVAL] = "invalid argument or state",
	[KMESH_HTTP_E_HEAD_TOO_LARGE] = "head too large",
	[KMESH_HTTP_E_LINE_TOO_LONG] = "request line too long",
	[KMESH_HTTP_E_TOO_MANY_HEADERS] = "too many headers",
	[KMESH_HTTP_E_NUL] = "NUL byte",
	[KMESH_HTTP_E_CTL] = "control byte",
	[KMESH_HTTP_E_BARE_CR] = "bare CR",
	[KMESH_HTTP_E_BARE_LF] = "bare LF",
	[KMESH_HTTP_E_BAD_METHOD] = "bad method",
	[KMESH_HTTP_E_BAD_REQUEST_LINE] = "bad request line",
	[KMESH_HTTP_E_BAD_TARGET] = "bad request target",
	[KMESH_HTTP_E_TARGET_FORM] = "target form not allowed for method",
	[KMESH_HTTP_E_BAD_AUTHORITY] = "bad authority in target",
	[KMESH_HTTP_E_BAD_VERSION] = "bad HTTP version",
	[KMESH_HTTP_E_UNSUPPORTED_VERSION] = "unsupported HTTP version",
	[KMESH_HTTP_E_OBS_FOLD] = "obsolete line folding",
	[KMESH_HTTP_E_EMPTY_HEADER_NAME] = "empty header name",
	[KMESH_HTTP_E_BAD_HEADER_NAME] = "bad header name",
	[KMESH_HTTP_E_WS_BEFORE_COLON] = "whitespace before colon",
	[KMESH_HTTP_E_NO_COLON] = "header line without colon",
	[KMESH_HTTP_E_NO_HOST] = "missing Host",
	[KMESH_HTTP_E_DUP_HOST] = "duplicate Host",
	[KMESH_HTTP_E_BAD_HOST] = "bad Host",
	[KMESH_HTTP_E_BAD_CL] = "bad Content-Length",
	[KMESH_HTTP_E_CL_OVERFLOW] = "Content-Length overflow",
	[KMESH_HTTP_E_DUP_CL] = "duplicate Content-Length",
	[KMESH_HTTP_E_CL_AND_TE] = "Content-Length with Transfer-Encoding",
	[KMESH_HTTP_E_BAD_TE] = "bad Transfer-Encoding",
	[KMESH_HTTP_E_DUP_TE] = "duplicate Transfer-Encoding",
	[KMESH_HTTP_E_TE_HTTP10] = "Transfer-Encoding in HTTP/1.0",
	[KMESH_HTTP_E_PATH_NOT_CANONICAL] = "path not canonical",
	[KMESH_HTTP_E_CONNECT_BODY] = "CONNECT with Content-Length or Transfer-Encoding",
};

const char *kmesh_http1_strstatus(int status)
{
	if (status < 0 || status >= KMESH_HTTP_STATUS_MAX ||
	    !status_str[status])
		return "unknown";
	return status_str[status];
}

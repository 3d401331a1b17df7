/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fallback HTTP/1.x head parser in plain eBPF, for kernels where sk_msg
 * programs cannot call the module's parser (Linux 6.1). It reads bytes
 * with the core's tables (kmod/core/http_rules.h), fills the same struct
 * kmesh_http_req and returns the same enum kmesh_http_status codes at the
 * same offsets as kmod/core/http1.c; the conformance suite
 * (selftests/conformance/) holds it to that, field by field, and lists
 * what differs in known_differences.h. Like the core it reports a syntax
 * error once its line is complete, so that a NUL, control byte or bare
 * CR/LF later in the line wins, and checks a request line's shape and
 * version before its target. It takes the same decisions on everything
 * policy and framing depend on: CRLF-only lines, no NUL/CTL bytes, exactly
 * one SP in the request line, token methods, RFC 3986 targets with valid %XX,
 * canonical paths (no "//", no "." or ".." segment, no needless %XX),
 * HTTP/1.0 and 1.1 only, token header names, no whitespace before the
 * colon, no obs-fold, at most 32 header lines, one valid Host (required in
 * 1.1), Content-Length digits only below 2^63, no duplicate CL or TE, no
 * CL with TE, TE a token list ending in chunked (and only in 1.1); and it
 * sets the same flags (Connection options, persistence, Upgrade, Expect).
 *
 * What it refuses that the core takes (rather than guessing): absolute-
 * and authority-form targets (proxy requests, CONNECT), and heads over
 * KMESH_L7_MAX_HEAD. It also parses response heads (status line,
 * Content-Length, Transfer-Encoding: the end of a response) in both modes,
 * as kmesh_http1_parse_response() does.
 *
 * One bpf_loop callback per decision over the copied head: a byte step,
 * then the run of bytes after it that need none (kmesh_l7_run(): tokens,
 * path and query characters, host names, header values 8 bytes a step).
 * All state is in the per-CPU scratch (map memory), so the verifier sees
 * the callback once.
 */
#ifndef KMESH_L7_HTTP_H
#define KMESH_L7_HTTP_H

#include "l7_maps.h"
#include "core/http_rules.h"	/* byte classes, shared with the core */

/*
 * Known header names, and the words looked for in values. One table: clang
 * 14 puts a small lone constant in a mergeable section (.rodata.cst8) but
 * describes it in .rodata's BTF, which the kernel then refuses.
 */
enum {
	W_HOST = 0, W_CL, W_TE, W_CHUNKED, W_CONNECTION, W_UPGRADE, W_EXPECT,
	W_CLOSE, W_KEEP_ALIVE, W_CONTINUE, W_MAX,
};
static const char l7_known[W_MAX][32] = {
	[W_HOST] = "host", [W_CL] = "content-length",
	[W_TE] = "transfer-encoding", [W_CHUNKED] = "chunked",
	[W_CONNECTION] = "connection", [W_UPGRADE] = "upgrade",
	[W_EXPECT] = "expect", [W_CLOSE] = "close",
	[W_KEEP_ALIVE] = "keep-alive", [W_CONTINUE] = "100-continue",
};

/* ps->known: header names still possible (rows W_HOST..W_EXPECT) */
#define KN_HOST		0x01
#define KN_CL		0x02
#define KN_TE		0x04
#define KN_CONNECTION	0x08
#define KN_UPGRADE	0x10
#define KN_EXPECT	0x20
#define KN_ALL		0x3f

/* ps->te_chunked in a Connection or Expect value: words still possible */
#define WD_CLOSE	0x01
#define WD_KEEP_ALIVE	0x02
#define WD_UPGRADE	0x04
#define WD_CONTINUE	0x08

enum {
	HK_NONE = 0,
	HK_HOST = 1,
	HK_CL = 2,
	HK_TE = 3,
	/* HK_ERR = 4, below */
	HK_CONN = 5,	/* Connection: a list of options */
	HK_EXPECT = 6,
};

/* Parser states. */
enum {
	P_START = 0,	/* empty lines before the request line */
	P_START_LF,
	P_METHOD,
	P_TARGET0,	/* first byte of the target */
	P_PATH,
	P_QUERY,
	P_ASTERISK,
	P_VERSION,
	P_RL_LF,
	P_HDR,		/* start of a header line, or the final CR */
	P_NAME,
	P_OWS,		/* whitespace before the value */
	P_VALUE,
	P_HDR_LF,
	P_END_LF,
	/* response status line */
	R_VERSION,
	R_STATUS,
	R_REASON,
	/* a syntax error was found: the rest of the line, then report it */
	P_SKIP_LINE,
	P_SKIP_LF,
};

/* HK_*: a known header whose mere presence is an error (perr) */
#define HK_ERR	4

/* Host value sub-states. */
enum { H_START = 0, H_NAME, H_V6, H_V6END, H_PORT, H_TRAIL, H_BAD };
/* IPv6 literal sub-states (RFC 3986 IPv6address, as the core checks it). */
enum { V6_START = 0, V6_LEAD, V6_GROUP, V6_COLON, V6_SEP, V6_V4 };

/*
 * One byte inside "[...]" (@c is not ']'): 0, or -1 when no address can
 * follow. The core walks groups of 1..4 hex digits split by ':', one
 * "::" at most, maybe a dotted IPv4 address last (two groups); at the
 * ']' l7_v6_end() counts the groups.
 */
static __always_inline int l7_v6_byte(struct l7_pstate *ps, __u8 c, __u8 k)
{
	switch (ps->v6) {
	case V6_START:
		if (c == ':') {
			ps->v6 = V6_LEAD;
			return 0;
		}
		/* fall through: a first group */
	case V6_COLON:
	case V6_SEP:
		if (c == ':') {
			/* "::" (once), never ":::" */
			if (ps->v6 != V6_COLON || ps->v6_gap)
				return -1;
			ps->v6_gap = 1;
			ps->v6 = V6_SEP;
			return 0;
		}
		if (!(k & KMESH_C_HEX) || ps->v6_groups >= 8)
			return -1;
		ps->v6 = V6_GROUP;
		ps->v6_digits = 0;
		ps->v6_nondec = 0;
		ps->v6_dec = 0;
		ps->v6_first = c;
		/* fall through: its first digit */
	case V6_GROUP:
		if (k & KMESH_C_HEX) {
			/* up to 5: a 4-digit group or a 3-digit octet + '.' */
			if (++ps->v6_digits > 5)
				return -1;
			if (k & KMESH_C_DIGIT)
				ps->v6_dec = ps->v6_dec * 10 + (c - '0');
			else
				ps->v6_nondec = 1;
			return 0;
		}
		if (c == ':') {
			if (ps->v6_digits > 4)
				return -1;
			ps->v6_groups++;
			ps->v6 = V6_COLON;
			return 0;
		}
		if (c == '.') {
			/* an IPv4 address ends it: this group is its first octet */
			if (ps->v6_nondec || ps->v6_digits > 3 || ps->v6_dec > 255 ||
			    (ps->v6_digits > 1 && ps->v6_first == '0'))
				return -1;
			ps->v6_octets = 1;
			ps->v6_digits = 0;
			ps->v6_dec = 0;
			ps->v6 = V6_V4;
			return 0;
		}
		return -1;
	case V6_LEAD:
		if (c != ':')
			return -1;
		ps->v6_gap = 1;
		ps->v6 = V6_SEP;
		return 0;
	case V6_V4:
		if (k & KMESH_C_DIGIT) {
			if (!ps->v6_digits)
				ps->v6_first = c;
			if (++ps->v6_digits > 3)
				return -1;
			ps->v6_dec = ps->v6_dec * 10 + (c - '0');
			if (ps->v6_dec > 255 || (ps->v6_digits > 1 && ps->v6_first == '0'))
				return -1;
			return 0;
		}
		if (c == '.' && ps->v6_digits && ps->v6_octets < 3) {
			ps->v6_octets++;
			ps->v6_digits = 0;
			ps->v6_dec = 0;
			return 0;
		}
		return -1;
	}
	return -1;
}

/* The ']': is what came a whole address? */
static __always_inline bool l7_v6_end(struct l7_pstate *ps)
{
	__u32 groups = ps->v6_groups;

	switch (ps->v6) {
	case V6_GROUP:
		if (ps->v6_digits > 4)
			return false;
		groups++;
		break;
	case V6_V4:
		if (ps->v6_octets != 3 || !ps->v6_digits)
			return false;
		groups += 2;
		break;
	case V6_SEP:		/* ends in "::" */
		break;
	default:		/* "[]", "[:", "[1:" */
		return false;
	}
	return ps->v6_gap ? groups <= 7 : groups == 8;
}
/* Content-Length sub-states. */
enum { L_START = 0, L_DIGITS, L_TRAIL };
/* Transfer-Encoding sub-states. */
enum { T_START = 0, T_TOKEN, T_OWS, T_COMMA };

#define L7_METHOD(a)	((__u64)(a))

static __always_inline __u8 l7_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* @c is a hex digit (checked by the caller) */
static __always_inline __u8 l7_hex_value(__u8 c)
{
	return (__u8)kmesh_http_hexval(c);
}

/*
 * The core's canonical-path rule (check_canonical_path() in http1.c), a
 * byte at a time: the segment that ends at @end is "." or "..".
 */
static __always_inline bool l7_dot_segment(struct l7_scratch *sc, __u32 end)
{
	__u32 seg = sc->ps.seg, n = end - seg - 1;

	if (n == 0 || n > 2 || sc->buf[(seg + 1) & L7_BUF_MASK] != '.')
		return false;
	return n == 1 || sc->buf[(seg + 2) & L7_BUF_MASK] == '.';
}

/*
 * %XX in a path that decodes to unreserved, '/' (unless @escaped_slashes:
 * KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES), '\\' or NUL
 */
static __always_inline bool l7_pct_not_canonical(__u8 hi, __u8 lo,
						 bool escaped_slashes)
{
	__u8 v = hi << 4 | l7_hex_value(lo);

	if (v == '/')
		return !escaped_slashes;
	return (kmesh_http_cls[v] & KMESH_C_HOST) || v == '\\' || !v;
}

static __always_inline __u8 l7_method_code(__u64 w, __u32 n)
{
	/* bytes shifted in big-endian order: "GET" is 0x474554 */
	switch (n) {
	case 3:
		if (w == 0x474554)
			return KMESH_HTTP_M_GET;
		if (w == 0x505554)
			return KMESH_HTTP_M_PUT;
		break;
	case 4:
		if (w == 0x48454144)
			return KMESH_HTTP_M_HEAD;
		if (w == 0x504f5354)
			return KMESH_HTTP_M_POST;
		break;
	case 5:
		if (w == 0x5452414345ULL)
			return KMESH_HTTP_M_TRACE;
		if (w == 0x5041544348ULL)
			return KMESH_HTTP_M_PATCH;
		break;
	case 6:
		if (w == 0x44454c455445ULL)
			return KMESH_HTTP_M_DELETE;
		break;
	case 7:
		if (w == 0x434f4e4e454354ULL)
			return KMESH_HTTP_M_CONNECT;
		if (w == 0x4f5054494f4e53ULL)
			return KMESH_HTTP_M_OPTIONS;
		break;
	}
	return KMESH_HTTP_M_OTHER;
}

struct l7_parse_ctx {
	struct l7_scratch *sc;
	__u32 len;	/* bytes in the head buffer */
};

static __always_inline long l7_bad(struct kmesh_http_req *req, __u16 status,
				   __u32 off)
{
	req->status = status;
	req->err_off = (__u16)off;
	return 1;
}

/*
 * A syntax error in the current line. As the core does, it is reported
 * once the line is complete (its CRLF seen): a byte no line may hold (NUL,
 * CTL, bare CR or LF) later in the same line wins, and a partial line is
 * NEED_MORE. @c is the byte at hand: a CR ends the line already. Returns
 * L7_DEFERRED, which l7_parse_byte() turns into "go on".
 */
#define L7_DEFERRED	2

static __always_inline long l7_defer(struct l7_scratch *sc, __u16 status,
				     __u32 off, __u8 c, __u32 i)
{
	struct l7_pstate *ps = &sc->ps;

	/*
	 * The core checks the request line's shape (SPs) and version before
	 * its target: a target error waits for them (l7_rl_error()), and
	 * vstart/vend, unused before the headers, note the SPs after it.
	 */
	ps->rl_err = ps->st >= P_TARGET0 && ps->st <= P_ASTERISK;
	ps->vstart = 0;
	ps->vend = 0;
	if (ps->rl_err && c == ' ')
		ps->vstart = (__u16)i;
	ps->perr = (__u8)status;
	ps->perr_off = (__u16)off;
	ps->st = c == '\r' ? P_SKIP_LF : P_SKIP_LINE;
	return L7_DEFERRED;
}

/*
 * The path is not canonical at @off. The core checks that only once every
 * byte of the target is known good: remember the first, report it at the
 * target's end unless a bad byte comes first.
 */
static __always_inline void l7_not_canonical(struct l7_pstate *ps, __u32 off)
{
	if (!ps->perr) {
		ps->perr = KMESH_HTTP_E_PATH_NOT_CANONICAL;
		ps->perr_off = (__u16)off;
	}
}

/* l7_defer() from the byte callback, which may only return 0 or 1 */
static __always_inline long l7_defer0(struct l7_scratch *sc, __u16 status,
				      __u32 off, __u8 c, __u32 i)
{
	l7_defer(sc, status, off, c, i);
	return 0;
}

static __always_inline __u8 l7_byte(const struct l7_scratch *sc, __u32 off)
{
	return sc->buf[off & L7_BUF_MASK];
}

/* "HTTP/D.D" at [s, e): 0 (req->version set) or a status. */
static __always_inline __u16 l7_version(struct l7_scratch *sc, __u32 s,
					__u32 e)
{
	__u8 c5 = l7_byte(sc, s + 5), c7 = l7_byte(sc, s + 7);

	if (e - s != 8 || l7_byte(sc, s) != 'H' || l7_byte(sc, s + 1) != 'T' ||
	    l7_byte(sc, s + 2) != 'T' || l7_byte(sc, s + 3) != 'P' ||
	    l7_byte(sc, s + 4) != '/' || !(kmesh_http_cls[c5] & KMESH_C_DIGIT) ||
	    l7_byte(sc, s + 6) != '.' || !(kmesh_http_cls[c7] & KMESH_C_DIGIT))
		return KMESH_HTTP_E_BAD_VERSION;
	if (c5 != '1' || (c7 != '0' && c7 != '1'))
		return KMESH_HTTP_E_UNSUPPORTED_VERSION;
	sc->req.version = c7 == '1' ? KMESH_HTTP_V_11 : KMESH_HTTP_V_10;
	return 0;
}

/* The request line with a target error ended at @cr: which error first. */
static __always_inline long l7_rl_error(struct l7_scratch *sc, __u32 cr)
{
	struct kmesh_http_req *req = &sc->req;
	struct l7_pstate *ps = &sc->ps;
	__u16 v;

	if (!ps->vstart || ps->vstart == ps->tok)	/* no target, or empty */
		return l7_bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, ps->tok);
	if (ps->vend)					/* a third SP */
		return l7_bad(req, KMESH_HTTP_E_BAD_REQUEST_LINE, ps->vend);
	v = l7_version(sc, ps->vstart + 1, cr);
	if (v)
		return l7_bad(req, v, ps->vstart + 1);
	return l7_bad(req, ps->perr, ps->perr_off);
}

/*
 * One byte of a Connection option or an Expect value, as the core reads
 * them: an element is what lies between commas (Connection) or the whole
 * value (Expect), without outer OWS, compared case-insensitively. ps->sub:
 * 0 before the element, 1 in it, 2 after OWS in it; te_match: its length
 * so far; te_chunked: WD_* words it may still be.
 */
static __always_inline void l7_word_byte(struct l7_pstate *ps, __u8 c)
{
	__u8 lc = l7_lower(c), j = ps->te_match;

	if (kmesh_http_ows(c)) {
		if (ps->sub == 1)
			ps->sub = 2;
		return;
	}
	if (ps->sub == 2)	/* OWS inside: no word */
		ps->te_chunked = 0;
	ps->sub = 1;
	if (j >= 16) {
		ps->te_chunked = 0;
		return;
	}
	if (lc != (__u8)l7_known[W_CLOSE][j & 15])
		ps->te_chunked &= ~WD_CLOSE;
	if (lc != (__u8)l7_known[W_KEEP_ALIVE][j & 15])
		ps->te_chunked &= ~WD_KEEP_ALIVE;
	if (lc != (__u8)l7_known[W_UPGRADE][j & 15])
		ps->te_chunked &= ~WD_UPGRADE;
	if (lc != (__u8)l7_known[W_CONTINUE][j & 15])
		ps->te_chunked &= ~WD_CONTINUE;
	ps->te_match = j + 1;
}

/* A Connection option ended: the flag of the word it is, if any. */
static __always_inline void l7_conn_option(struct l7_scratch *sc)
{
	struct l7_pstate *ps = &sc->ps;
	__u8 n = ps->te_match, w = ps->te_chunked;

	if ((w & WD_CLOSE) && n == 5)
		sc->req.flags |= KMESH_HTTP_F_CONN_CLOSE;
	if ((w & WD_KEEP_ALIVE) && n == 10)
		sc->req.flags |= KMESH_HTTP_F_CONN_KEEP_ALIVE;
	if ((w & WD_UPGRADE) && n == 7)
		sc->req.flags |= KMESH_HTTP_F_CONN_UPGRADE;
	ps->sub = 0;
	ps->te_match = 0;
	ps->te_chunked = WD_CLOSE | WD_KEEP_ALIVE | WD_UPGRADE;
}

/* A header line ends (CR seen at @i): record it, apply known headers. */
static __always_inline long l7_header_end(struct l7_scratch *sc, __u32 i)
{
	struct kmesh_http_req *req = &sc->req;
	struct l7_pstate *ps = &sc->ps;
	__u32 n = req->nr_headers, vs = ps->vstart, ve = ps->vend;

	if (ps->st == P_OWS)
		vs = ve = i;	/* empty value */
	if (!ps->resp) {
		struct kmesh_http_hdr *h = &req->hdrs[n & (KMESH_HTTP_MAX_HEADERS - 1)];

		h->name.off = ps->line;
		h->name.len = ps->tok - ps->line;
		h->value.off = (__u16)vs;
		h->value.len = (__u16)(ve - vs);
		req->nr_headers = n + 1;
	}
	switch (ps->hkind) {
	case HK_HOST:
		if (ps->sub == H_V6 || ps->sub == H_BAD)
			return l7_defer(sc, KMESH_HTTP_E_BAD_HOST, vs, '\r', i);
		if (ps->sub == H_START)
			req->host.off = (__u16)vs;	/* empty: RFC 9112 allows it */
		break;
	case HK_CL:
		if (ps->sub == L_START)
			return l7_defer(sc, KMESH_HTTP_E_BAD_CL, vs, '\r', i);
		req->content_length = ps->cl;
		req->flags |= KMESH_HTTP_F_HAS_CL;
		break;
	case HK_TE:
		if ((ps->sub != T_TOKEN && ps->sub != T_OWS) ||
		    !(ps->sub == T_TOKEN ? ps->te_match == 7 : ps->te_chunked))
			return l7_defer(sc, KMESH_HTTP_E_BAD_TE, vs, '\r', i);
		req->flags |= KMESH_HTTP_F_CHUNKED;
		break;
	case HK_CONN:
		l7_conn_option(sc);
		break;
	case HK_EXPECT:
		/* RFC 9110 10.1.1: an HTTP/1.0 client's 100-continue is ignored */
		if ((ps->te_chunked & WD_CONTINUE) && ps->te_match == 12) {
			if (req->version == KMESH_HTTP_V_11)
				req->flags |= KMESH_HTTP_F_EXPECT_CONTINUE;
		} else {
			req->flags |= KMESH_HTTP_F_EXPECT_OTHER;
		}
		break;
	}
	return 0;
}

/* The name just ended at ':' (@i): which known header, and its checks. */
static __always_inline long l7_name_end(struct l7_scratch *sc, __u32 i)
{
	struct kmesh_http_req *req = &sc->req;
	struct l7_pstate *ps = &sc->ps;
	__u32 len = i - ps->line;

	ps->tok = (__u16)i;
	ps->hkind = HK_NONE;
	ps->sub = 0;
	/* as the core: the name is valid before the count is checked */
	if (!ps->resp && req->nr_headers >= KMESH_HTTP_MAX_HEADERS)
		return l7_defer(sc, KMESH_HTTP_E_TOO_MANY_HEADERS, ps->line, ':', i);
	/* errors of presence: reported at the value, as the core does */
	ps->perr = 0;
	if ((ps->known & KN_HOST) && len == 4 && !ps->resp) {
		if (req->flags & KMESH_HTTP_F_HAS_HOST)
			ps->perr = KMESH_HTTP_E_DUP_HOST;
		req->flags |= KMESH_HTTP_F_HAS_HOST;
		ps->hkind = HK_HOST;
	} else if ((ps->known & KN_CL) && len == 14) {
		if (req->flags & KMESH_HTTP_F_HAS_CL)
			ps->perr = KMESH_HTTP_E_DUP_CL;
		else if (req->flags & KMESH_HTTP_F_CHUNKED)
			ps->perr = KMESH_HTTP_E_CL_AND_TE;
		ps->hkind = HK_CL;
		ps->cl = 0;
	} else if ((ps->known & KN_TE) && len == 17) {
		if (!ps->resp && req->version != KMESH_HTTP_V_11)
			ps->perr = KMESH_HTTP_E_TE_HTTP10;
		else if (req->flags & KMESH_HTTP_F_CHUNKED)
			ps->perr = KMESH_HTTP_E_DUP_TE;
		else if (req->flags & KMESH_HTTP_F_HAS_CL)
			ps->perr = KMESH_HTTP_E_CL_AND_TE;
		ps->hkind = HK_TE;
		ps->te_match = 0;
		ps->te_chunked = 0;
	} else if ((ps->known & KN_CONNECTION) && len == 10 && !ps->resp) {
		ps->hkind = HK_CONN;
		ps->te_match = 0;
		ps->te_chunked = WD_CLOSE | WD_KEEP_ALIVE | WD_UPGRADE;
	} else if ((ps->known & KN_UPGRADE) && len == 7 && !ps->resp) {
		req->flags |= KMESH_HTTP_F_UPGRADE;
	} else if ((ps->known & KN_EXPECT) && len == 6 && !ps->resp) {
		ps->hkind = HK_EXPECT;
		ps->te_match = 0;
		ps->te_chunked = WD_CONTINUE;
	}
	if (ps->perr)
		ps->hkind = HK_ERR;
	return 0;
}

/* One byte of a known header's value (after leading OWS). */
static __always_inline long l7_value_byte(struct l7_scratch *sc, __u32 i,
					  __u8 c)
{
	struct kmesh_http_req *req = &sc->req;
	struct l7_pstate *ps = &sc->ps;
	__u8 k = kmesh_http_cls[c];

	switch (ps->hkind) {
	case HK_HOST:
		switch (ps->sub) {
		case H_START:
			if (c == '[') {
				ps->sub = H_V6;
				ps->v6 = V6_START;
				ps->v6_groups = 0;
				ps->v6_gap = 0;
			} else if (k & KMESH_C_HOST)
				ps->sub = H_NAME;
			else
				ps->sub = H_BAD;
			break;
		case H_NAME:
			if (c == ':') {
				ps->sub = H_PORT;
				ps->port = 0;
				req->host.len = i - req->host.off;
			} else if (kmesh_http_ows(c)) {
				ps->sub = H_TRAIL;
				req->host.len = i - req->host.off;
			} else if (!(k & KMESH_C_HOST)) {
				ps->sub = H_BAD;
			}
			break;
		case H_V6:
			if (c == ']') {
				if (!l7_v6_end(ps)) {
					ps->sub = H_BAD;
					break;
				}
				ps->sub = H_V6END;
				req->host.len = i + 1 - req->host.off;
				req->flags |= KMESH_HTTP_F_HOST_IPV6;
			} else if (l7_v6_byte(ps, c, k)) {
				ps->sub = H_BAD;
			}
			break;
		case H_V6END:
			if (c == ':') {
				ps->sub = H_PORT;
				ps->port = 0;
			} else {
				ps->sub = kmesh_http_ows(c) ? H_TRAIL : H_BAD;
			}
			break;
		case H_PORT:
			if (k & KMESH_C_DIGIT) {
				ps->port = ps->port * 10 + (c - '0');
				if (ps->port > 0xffff)
					ps->sub = H_BAD;
				req->port = (__u16)ps->port;
				req->flags |= KMESH_HTTP_F_HAS_PORT;
			} else {
				ps->sub = kmesh_http_ows(c) ? H_TRAIL : H_BAD;
			}
			break;
		case H_TRAIL:
			if (!kmesh_http_ows(c))
				ps->sub = H_BAD;
			break;
		}
		break;
	case HK_CL:
		if (k & KMESH_C_DIGIT) {
			__u64 d = c - '0';

			/* the core trims OWS, so "1 2" fails at the SP */
			if (ps->sub == L_TRAIL)
				return l7_defer(sc, KMESH_HTTP_E_BAD_CL, ps->trail, c, i);
			if (ps->cl > 0x7fffffffffffffffULL / 10 ||
			    (ps->cl == 0x7fffffffffffffffULL / 10 && d > 7))
				return l7_defer(sc, KMESH_HTTP_E_CL_OVERFLOW, i, c, i);
			ps->cl = ps->cl * 10 + d;
			ps->sub = L_DIGITS;
		} else if (kmesh_http_ows(c) && ps->sub == L_DIGITS) {
			ps->sub = L_TRAIL;
			ps->trail = (__u16)i;
		} else if (!kmesh_http_ows(c) || ps->sub != L_TRAIL) {
			return l7_defer(sc, KMESH_HTTP_E_BAD_CL,
					ps->sub == L_TRAIL ? ps->trail : i, c, i);
		}
		break;
	case HK_TE:
		if (k & KMESH_C_TCHAR) {
			if (ps->sub == T_OWS)
				return l7_defer(sc, KMESH_HTTP_E_BAD_TE, ps->vstart, c, i);
			if (ps->sub != T_TOKEN) {
				ps->sub = T_TOKEN;
				ps->te_match = 0;
			}
			/* count matched bytes of "chunked"; 8 means no match */
			if (ps->te_match < 7 &&
			    l7_lower(c) == (__u8)l7_known[W_CHUNKED][ps->te_match & 7])
				ps->te_match++;
			else
				ps->te_match = 8;
		} else if (c == ',') {
			if (ps->sub == T_START || ps->sub == T_COMMA)
				return l7_defer(sc, KMESH_HTTP_E_BAD_TE, ps->vstart, c, i);
			/* chunked must be the last coding */
			if (ps->sub == T_TOKEN ? ps->te_match == 7 : ps->te_chunked)
				return l7_defer(sc, KMESH_HTTP_E_BAD_TE, ps->vstart, c, i);
			ps->sub = T_COMMA;
		} else if (kmesh_http_ows(c)) {
			if (ps->sub == T_TOKEN) {
				ps->te_chunked = ps->te_match == 7;
				ps->sub = T_OWS;
			}
		} else {
			return l7_defer(sc, KMESH_HTTP_E_BAD_TE, ps->vstart, c, i);
		}
		break;
	case HK_CONN:
		if (c == ',')
			l7_conn_option(sc);
		else
			l7_word_byte(ps, c);
		break;
	case HK_EXPECT:
		l7_word_byte(ps, c);
		break;
	}
	return 0;
}

/* The final CRLF: checks that need the whole head. */
static __always_inline long l7_finish(struct l7_scratch *sc, __u32 i)
{
	struct kmesh_http_req *req = &sc->req;
	struct l7_pstate *ps = &sc->ps;

	if (!ps->resp && req->version == KMESH_HTTP_V_11 &&
	    !(req->flags & KMESH_HTTP_F_HAS_HOST))
		return l7_bad(req, KMESH_HTTP_E_NO_HOST, i - 1);
	if ((req->flags & KMESH_HTTP_F_CHUNKED) || req->content_length)
		req->flags |= KMESH_HTTP_F_HAS_BODY;
	/* RFC 9112 9.3, as the client asked */
	if (!ps->resp &&
	    (req->version == KMESH_HTTP_V_11 ?
	     !(req->flags & KMESH_HTTP_F_CONN_CLOSE) :
	     (req->flags & KMESH_HTTP_F_CONN_KEEP_ALIVE) &&
	     !(req->flags & KMESH_HTTP_F_CONN_CLOSE)))
		req->flags |= KMESH_HTTP_F_PERSISTENT;
	req->head_len = (__u16)(i + 1);
	req->consumed = (__u16)(i + 1);
	req->status = KMESH_HTTP_OK;
	return 1;
}

/*
 * Byte @j of a header name (@c, a tchar): which known names it still may
 * be (ps->known).
 */
static __always_inline void l7_name_byte(struct l7_pstate *ps, __u8 c, __u32 j)
{
	__u8 lc = l7_lower(c);

	if (!ps->known)
		return;
	if (j >= 17) {
		ps->known = 0;
		return;
	}
	j &= 31;
	barrier_var(j);	/* index with the masked value, not a copy */
	if (lc != (__u8)l7_known[W_HOST][j & 31])
		ps->known &= ~KN_HOST;
	if (lc != (__u8)l7_known[W_CL][j & 31])
		ps->known &= ~KN_CL;
	if (lc != (__u8)l7_known[W_TE][j & 31])
		ps->known &= ~KN_TE;
	if (lc != (__u8)l7_known[W_CONNECTION][j & 31])
		ps->known &= ~KN_CONNECTION;
	if (lc != (__u8)l7_known[W_UPGRADE][j & 31])
		ps->known &= ~KN_UPGRADE;
	if (lc != (__u8)l7_known[W_EXPECT][j & 31])
		ps->known &= ~KN_EXPECT;
}

static __always_inline long l7_parse_byte(__u32 i, struct l7_scratch *sc)
{
	struct kmesh_http_req *req;
	struct l7_pstate *ps;
	__u8 c, k;
	__u32 j;
	bool lf;

	if (!sc)
		return 1;
	req = &sc->req;
	ps = &sc->ps;
	c = sc->buf[i & L7_BUF_MASK];
	k = kmesh_http_cls[c];

	/* bytes that no line may hold, wherever they are */
	lf = ps->st == P_START_LF || ps->st == P_RL_LF || ps->st == P_HDR_LF ||
	     ps->st == P_END_LF || ps->st == P_SKIP_LF;
	if ((k & KMESH_C_CTL) && c != '\n' && c != '\r') {
		/* as the core: the CR before it is the first fault */
		if (lf)
			return l7_bad(req, KMESH_HTTP_E_BARE_CR, i - 1);
		return l7_bad(req, c ? KMESH_HTTP_E_CTL : KMESH_HTTP_E_NUL, i);
	}
	if (c == '\n' && !lf)
		return l7_bad(req, KMESH_HTTP_E_BARE_LF, i);

	switch (ps->st) {
	case P_START:
		if (c == '\r') {
			ps->st = P_START_LF;
			break;
		}
		ps->line = (__u16)i;
		ps->word = 0;
		ps->st = P_METHOD;
		/* fall through: this byte starts the method */
		if (!(k & KMESH_C_TCHAR))
			return l7_defer0(sc, c == ' ' || c == '\t' ?
				      KMESH_HTTP_E_BAD_REQUEST_LINE :
				      KMESH_HTTP_E_BAD_METHOD, i, c, i);
		ps->word = c;
		break;
	case P_START_LF:
		if (c != '\n')
			return l7_bad(req, KMESH_HTTP_E_BARE_CR, i - 1);
		ps->st = P_START;
		break;
	case P_METHOD:
		if (k & KMESH_C_TCHAR) {
			ps->word = ps->word << 8 | c;
			break;
		}
		if (c != ' ')
			return l7_defer0(sc, c == '\t' || c == '\r' ?
				      KMESH_HTTP_E_BAD_REQUEST_LINE :
				      KMESH_HTTP_E_BAD_METHOD, i, c, i);
		req->method_tok.off = ps->line;
		req->method_tok.len = (__u16)(i - ps->line);
		req->method = l7_method_code(ps->word, i - ps->line);
		ps->st = P_TARGET0;
		break;
	case P_TARGET0:
		ps->tok = (__u16)i;
		ps->perr = 0;
		if (c == '/') {
			if (req->method == KMESH_HTTP_M_CONNECT)
				return l7_defer0(sc, KMESH_HTTP_E_TARGET_FORM, i, c, i);
			req->target_form = KMESH_HTTP_FORM_ORIGIN;
			ps->qmark = 0;
			ps->seg = (__u16)i;
			ps->st = P_PATH;
		} else if (c == '*') {
			ps->st = P_ASTERISK;
		} else if (c == ' ' || c == '\r') {
			return l7_defer0(sc, KMESH_HTTP_E_BAD_REQUEST_LINE, i, c, i);
		} else {
			/* absolute- and authority-form: not in the fallback */
			ps->unsupported = 1;
			return l7_bad(req, KMESH_HTTP_E_TARGET_FORM, i);
		}
		break;
	case P_PATH:
	case P_QUERY:
		if (c == ' ') {
			/* a bad %XX fails at its '%', as in the core */
			if (ps->pct)
				return l7_defer0(sc, KMESH_HTTP_E_BAD_TARGET,
						 i - 3 + ps->pct, c, i);
			if (ps->st == P_PATH && l7_dot_segment(sc, i))
				l7_not_canonical(ps, ps->seg);
			if (ps->perr)
				return l7_defer0(sc, ps->perr, ps->perr_off, c, i);
			req->target.off = ps->tok;
			req->target.len = (__u16)(i - ps->tok);
			req->path.off = ps->tok;
			if (ps->qmark) {
				req->path.len = ps->qmark - ps->tok;
				req->query.off = ps->qmark + 1;
				req->query.len = (__u16)(i - ps->qmark - 1);
				req->flags |= KMESH_HTTP_F_HAS_QUERY;
			} else {
				req->path.len = (__u16)(i - ps->tok);
			}
			ps->tok = (__u16)(i + 1);
			ps->st = P_VERSION;
			break;
		}
		/* a bad %XX fails at its '%', HTAB included, as in the core */
		if (c == '\t' && ps->pct)
			return l7_defer0(sc, KMESH_HTTP_E_BAD_TARGET,
					 i - 3 + ps->pct, c, i);
		if (c == '\r' || c == '\t')
			return l7_defer0(sc, c == '\r' ?
				      KMESH_HTTP_E_BAD_REQUEST_LINE :
				      KMESH_HTTP_E_BAD_TARGET, i, c, i);
		if (ps->pct) {
			if (!(k & KMESH_C_HEX))
				return l7_defer0(sc, KMESH_HTTP_E_BAD_TARGET,
						 i - 3 + ps->pct, c, i);
			if (ps->pct == 2)
				ps->pct_hi = l7_hex_value(c);
			else if (ps->st == P_PATH &&
				 l7_pct_not_canonical(ps->pct_hi, c,
						      ps->escaped_slashes))
				l7_not_canonical(ps, i - 2);
			ps->pct--;
		} else if (c == '%') {
			ps->pct = 2;
		} else if (c == '?' && ps->st == P_PATH) {
			if (l7_dot_segment(sc, i))
				l7_not_canonical(ps, ps->seg);
			ps->qmark = (__u16)i;
			ps->st = P_QUERY;
		} else if (c == '/' && ps->st == P_PATH) {
			if (i == ps->seg + 1u || l7_dot_segment(sc, i))
				l7_not_canonical(ps, ps->seg);
			ps->seg = (__u16)i;
		} else if (!(k & (ps->st == P_PATH ? KMESH_C_PATH : KMESH_C_QUERY))) {
			return l7_defer0(sc, KMESH_HTTP_E_BAD_TARGET, i, c, i);
		}
		break;
	case P_ASTERISK:
		/* "*x" is no asterisk-form: the whole target is bad */
		if (c != ' ')
			return l7_defer0(sc, KMESH_HTTP_E_BAD_TARGET, ps->tok, c, i);
		if (req->method != KMESH_HTTP_M_OPTIONS)
			return l7_defer0(sc, KMESH_HTTP_E_TARGET_FORM, i - 1, c, i);
		req->target_form = KMESH_HTTP_FORM_ASTERISK;
		req->target.off = ps->tok;
		req->target.len = 1;
		ps->tok = (__u16)(i + 1);
		ps->st = P_VERSION;
		break;
	case P_VERSION:
		if (c == ' ')
			return l7_defer0(sc, KMESH_HTTP_E_BAD_REQUEST_LINE, i, c, i);
		if (c != '\r')
			break;
		j = l7_version(sc, ps->tok, i);
		if (j)
			return l7_defer0(sc, (__u16)j, ps->tok, c, i);
		ps->st = P_RL_LF;
		break;
	case P_RL_LF:
	case P_HDR_LF:
		if (c != '\n')
			return l7_bad(req, KMESH_HTTP_E_BARE_CR, i - 1);
		ps->st = P_HDR;
		break;
	case P_HDR:
		ps->line = (__u16)i;
		if (c == '\r') {
			ps->st = P_END_LF;
			break;
		}
		if (kmesh_http_ows(c))
			return l7_defer0(sc, KMESH_HTTP_E_OBS_FOLD, i, c, i);
		if (c == ':')
			return l7_defer0(sc, KMESH_HTTP_E_EMPTY_HEADER_NAME, i, c, i);
		if (!(k & KMESH_C_TCHAR))
			return l7_defer0(sc, KMESH_HTTP_E_BAD_HEADER_NAME, i, c, i);
		ps->known = KN_ALL;
		ps->st = P_NAME;
		goto name_byte;
	case P_NAME:
		if (c == ':') {
			j = l7_name_end(sc, i);
			if (j)
				return j == 1;
			ps->st = P_OWS;
			break;
		}
		if (kmesh_http_ows(c))
			return l7_defer0(sc, KMESH_HTTP_E_WS_BEFORE_COLON, i, c, i);
		if (c == '\r')
			return l7_defer0(sc, KMESH_HTTP_E_NO_COLON, i, c, i);
		if (!(k & KMESH_C_TCHAR))
			return l7_defer0(sc, KMESH_HTTP_E_BAD_HEADER_NAME, i, c, i);
name_byte:
		l7_name_byte(ps, c, i - ps->line);
		break;
	case P_OWS:
		if (kmesh_http_ows(c))
			break;
		if (ps->hkind == HK_ERR)	/* at the value, as the core */
			return l7_defer0(sc, ps->perr, i, c, i);
		if (c == '\r') {
			j = l7_header_end(sc, i);
			if (j)
				return j == 1;
			ps->st = P_HDR_LF;
			break;
		}
		ps->vstart = (__u16)i;
		ps->vend = (__u16)(i + 1);
		if (ps->hkind == HK_HOST) {
			req->host.off = (__u16)i;
			req->host.len = 0;
		}
		ps->st = P_VALUE;
		j = l7_value_byte(sc, i, c);
		if (j)
			return j == 1;
		if (ps->hkind == HK_HOST && ps->sub == H_NAME)
			req->host.len = 1;
		break;
	case P_VALUE:
		if (c == '\r') {
			if (ps->hkind == HK_HOST && ps->sub == H_NAME)
				req->host.len = ps->vend - req->host.off;
			j = l7_header_end(sc, i);
			if (j)
				return j == 1;
			ps->st = P_HDR_LF;
			break;
		}
		if (!kmesh_http_ows(c))
			ps->vend = (__u16)(i + 1);
		j = l7_value_byte(sc, i, c);
		if (j)
			return j == 1;
		break;
	case P_END_LF:
		if (c != '\n')
			return l7_bad(req, KMESH_HTTP_E_BARE_CR, i - 1);
		return l7_finish(sc, i);
	case R_VERSION:
		if (c != ' ' && c != '\r')
			break;
		j = l7_version(sc, 0, i);
		if (j)
			return l7_defer0(sc, (__u16)j, 0, c, i);
		if (c == '\r')	/* no status code */
			return l7_defer0(sc, KMESH_HTTP_E_BAD_REQUEST_LINE, i, c, i);
		ps->status = 0;
		ps->tok = (__u16)(i + 1);
		ps->st = R_STATUS;
		break;
	case R_STATUS:
		/* the first byte that is not the status code's fails */
		if (i - ps->tok < 3) {
			if (!(k & KMESH_C_DIGIT))
				return l7_defer0(sc, KMESH_HTTP_E_BAD_REQUEST_LINE, i, c, i);
			ps->status = ps->status * 10 + (c - '0');
			break;
		}
		if (c != ' ' && c != '\r')
			return l7_defer0(sc, KMESH_HTTP_E_BAD_REQUEST_LINE, i, c, i);
		ps->st = c == ' ' ? R_REASON : P_RL_LF;
		break;
	case R_REASON:
		if (c == '\r')
			ps->st = P_RL_LF;
		break;
	case P_SKIP_LINE:
		if (c == '\r') {
			ps->st = P_SKIP_LF;
		} else if (c == ' ' && ps->rl_err) {
			if (!ps->vstart)
				ps->vstart = (__u16)i;
			else if (!ps->vend)
				ps->vend = (__u16)i;
		}
		break;
	case P_SKIP_LF:
		if (c != '\n')
			return l7_bad(req, KMESH_HTTP_E_BARE_CR, i - 1);
		if (ps->rl_err)
			return l7_rl_error(sc, i - 1);
		return l7_bad(req, ps->perr, ps->perr_off);
	default:
		return l7_bad(req, KMESH_HTTP_E_INVAL, i);
	}
	return 0;
}

/*
 * Runs: bytes that l7_parse_byte() would take without a decision, in the
 * states where they come in long stretches. l7_run() takes them in one go
 * after a byte step (what the byte step would do to each, no more) and
 * stops before the first byte that may need a decision: a byte of another
 * class, the end of the buffer, or L7_RUN_WORDS / L7_RUN_BYTES steps.
 * Every class in a run excludes KMESH_C_CTL (so CR and LF too), the bytes
 * the byte step checks before its state.
 */
#define L7_RUN_WORDS	8	/* 8-byte words of a header value or reason */
#define L7_RUN_BYTES	8	/* byte steps of the other runs */

#define L7_ONES		0x0101010101010101ULL
#define L7_HIGHS	0x8080808080808080ULL

/*
 * All 8 bytes of @w are in 0x20..0x7e: SP or VCHAR, never CTL. A byte
 * below 0x20 is the first to borrow in w - 0x20..., one of 0x7f carries
 * into its high bit in w + 0x01..., one of 0x80..0xff has it already
 * (obs-text: the byte loop takes those).
 */
static __always_inline bool l7_word_plain(__u64 w)
{
	return !(((w - 0x20 * L7_ONES) | w | (w + L7_ONES)) & L7_HIGHS);
}

/* A plain word (l7_word_plain()) at @p: the header value ends after its last non-SP byte. */
static __always_inline void l7_word_vend(struct l7_pstate *ps, __u64 w, __u32 p)
{
	__u64 y = w ^ (0x20 * L7_ONES), nz;
	__u32 idx = 0;

	if ((w >> 56) != ' ') {
		ps->vend = (__u16)(p + 8);
		return;
	}
	/* high bit of every byte that is not SP (all bytes are below 0x80) */
	nz = (((y & ~L7_HIGHS) + ~L7_HIGHS) | y) & L7_HIGHS;
	if (!nz)
		return;
	if (nz >> 32) {
		idx = 4;
		nz >>= 32;
	}
	if (nz >> 16) {
		idx += 2;
		nz >>= 16;
	}
	if (nz >> 8)
		idx += 1;
	ps->vend = (__u16)(p + idx + 1);
}

/*
 * A header value of no known header, or a status line's reason, from @p:
 * any byte but a CTL (HTAB and obs-text included). 8 bytes a step while
 * they are plain, then a byte at a time. @vend: track the value's end.
 */
static __always_inline __u32 l7_run_text(struct l7_scratch *sc, __u32 p,
					 __u32 len, bool vend)
{
	struct l7_pstate *ps = &sc->ps;
	__u32 n, off;
	__u64 w;
	__u8 c;

	for (n = 0; n < L7_RUN_WORDS; n++) {
		if (p + 8 > len)
			break;
		/*
		 * p < KMESH_L7_MAX_HEAD, half the buffer: the word is inside.
		 * The mask is for the verifier: keep clang from dropping it.
		 */
		off = p;
		barrier_var(off);
		w = *(const __u64 *)&sc->buf[off & (KMESH_L7_MAX_HEAD - 1)];
		if (!l7_word_plain(w))
			break;
		if (vend)
			l7_word_vend(ps, w, p);
		p += 8;
	}
	for (n = 0; n < 8; n++) {
		if (p >= len)
			break;
		c = l7_byte(sc, p);
		if (kmesh_http_cls[c] & KMESH_C_CTL)
			break;
		if (vend && !kmesh_http_ows(c))
			ps->vend = (__u16)(p + 1);
		p++;
	}
	return p;
}

/* Bytes of class @cls from @p, @except excluded. */
static __always_inline __u32 l7_run_class(struct l7_scratch *sc, __u32 p,
					  __u32 len, __u8 cls, __u8 except)
{
	__u32 n;
	__u8 c;

	for (n = 0; n < L7_RUN_BYTES; n++) {
		if (p >= len)
			break;
		c = l7_byte(sc, p);
		if (!(kmesh_http_cls[c] & cls) || c == except)
			break;
		p++;
	}
	return p;
}

/* A method's or header name's tchars from @p, as the byte step takes them. */
static __always_inline __u32 l7_run_token(struct l7_scratch *sc, __u32 p,
					  __u32 len, bool name)
{
	struct l7_pstate *ps = &sc->ps;
	__u32 n;
	__u8 c;

	for (n = 0; n < L7_RUN_BYTES; n++) {
		if (p >= len)
			break;
		c = l7_byte(sc, p);
		if (!(kmesh_http_cls[c] & KMESH_C_TCHAR))
			break;
		if (name)
			l7_name_byte(ps, c, p - ps->line);
		else
			ps->word = ps->word << 8 | c;
		p++;
	}
	return p;
}

/* A host name's bytes in a Host value (H_NAME): the value ends after each. */
static __always_inline __u32 l7_run_host(struct l7_scratch *sc, __u32 p,
					 __u32 len)
{
	__u32 n;
	__u8 c;

	for (n = 0; n < L7_RUN_BYTES; n++) {
		if (p >= len)
			break;
		c = l7_byte(sc, p);
		if (!(kmesh_http_cls[c] & KMESH_C_HOST))
			break;
		sc->ps.vend = (__u16)(p + 1);
		p++;
	}
	return p;
}

/* A version's bytes (request or status line): up to a SP or a CTL. */
static __always_inline __u32 l7_run_version(struct l7_scratch *sc, __u32 p,
					    __u32 len)
{
	__u32 n;
	__u8 c;

	for (n = 0; n < 8; n++) {
		if (p >= len)
			break;
		c = l7_byte(sc, p);
		if ((kmesh_http_cls[c] & KMESH_C_CTL) || c == ' ')
			break;
		p++;
	}
	return p;
}

/* After a byte step: the run that follows from @p, if the state has one. */
static __always_inline __u32 l7_run(struct l7_scratch *sc, __u32 p, __u32 len)
{
	struct l7_pstate *ps = &sc->ps;

	switch (ps->st) {
	case P_METHOD:
		return l7_run_token(sc, p, len, false);
	case P_NAME:
		return l7_run_token(sc, p, len, true);
	case P_PATH:
		/* '/' ends a segment: the byte step checks it */
		if (!ps->pct)
			return l7_run_class(sc, p, len, KMESH_C_PATH, '/');
		break;
	case P_QUERY:
		if (!ps->pct)
			return l7_run_class(sc, p, len, KMESH_C_QUERY, 0);
		break;
	case P_VALUE:
		if (ps->hkind == HK_NONE)
			return l7_run_text(sc, p, len, true);
		if (ps->hkind == HK_HOST && ps->sub == H_NAME)
			return l7_run_host(sc, p, len);
		break;
	case P_VERSION:
	case R_VERSION:
		return l7_run_version(sc, p, len);
	case R_REASON:
		return l7_run_text(sc, p, len, false);
	}
	return p;
}

/*
 * Global: the verifier checks the runs once, on their own, not inside
 * every pass over the callback (Linux 6.18 checks a callback until its
 * states converge; kmesh_sk_msg must stay below 1M instructions checked).
 * Returns where the run ends, @p when there is none.
 */
__noinline int kmesh_l7_run(struct l7_scratch *sc, __u32 p, __u32 len)
{
	if (!sc || len > KMESH_L7_MAX_HEAD)
		return p;
	return l7_run(sc, p, len);
}

/*
 * The bpf_loop callback: a byte step at ps->pos, then the run after it.
 * Each call takes one byte at least: len calls are enough. The position
 * lives in map memory, not in @ctx: Linux 6.1's verifier checks a
 * callback once, with the stack as at the bpf_loop call, and would take
 * a position kept there for the constant 0 and drop the code it rules
 * out.
 */
static long l7_parse_step(__u32 n, struct l7_parse_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	__u32 i, len = ctx->len;

	if (!sc)
		return 1;
	i = sc->ps.pos;
	if (i >= len || len > KMESH_L7_MAX_HEAD)
		return 1;
	if (l7_parse_byte(i, sc))
		return 1;
	sc->ps.pos = kmesh_l7_run(sc, i + 1, len);
	return 0;
}

/* kmesh_l7_parse() @how */
#define KMESH_L7_PARSE_RESP		(1U << 0)	/* a response head */
#define KMESH_L7_PARSE_ESCAPED_SLASHES	(1U << 1)	/* the core's OPT_PATH_ESCAPED_SLASHES */

/* The parse options of a service's KMESH_SVC_F_* flags. */
static __always_inline __u32 kmesh_l7_parse_opts(__u32 svc_flags)
{
	return svc_flags & KMESH_SVC_F_PATH_ESCAPED_SLASHES ?
	       KMESH_L7_PARSE_ESCAPED_SLASHES : 0;
}

/*
 * Parse the head in sc->buf[0, sc->len): a request, or with
 * KMESH_L7_PARSE_RESP in @how a response. Returns the enum
 * kmesh_http_status also left in req->status. NEED_MORE means every byte
 * was valid so far and the head goes on.
 * Global: the verifier checks it once, not once per path to it.
 */
__noinline int kmesh_l7_parse(struct l7_scratch *sc, __u32 how)
{
	__u32 resp = how & KMESH_L7_PARSE_RESP;
	struct l7_parse_ctx ctx = { .sc = sc };
	__u32 len;

	if (!sc)
		return KMESH_HTTP_E_INVAL;
	len = sc->len;

	L7_ZERO(&sc->req, sizeof(sc->req));
	L7_ZERO(&sc->ps, sizeof(sc->ps));
	sc->req.status = KMESH_HTTP_NEED_MORE;
	sc->ps.resp = resp;
	sc->ps.escaped_slashes = !!(how & KMESH_L7_PARSE_ESCAPED_SLASHES);
	sc->ps.st = resp ? R_VERSION : P_START;
	if (len > KMESH_L7_MAX_HEAD)
		len = KMESH_L7_MAX_HEAD;
	ctx.len = len;
	bpf_loop(len, l7_parse_step, &ctx, 0);
	if (sc->req.status == KMESH_HTTP_NEED_MORE && len == KMESH_L7_MAX_HEAD) {
		sc->req.status = KMESH_HTTP_E_HEAD_TOO_LARGE;
		sc->req.err_off = KMESH_L7_MAX_HEAD;	/* the limit, as the core */
	}
	return sc->req.status;
}

#endif /* KMESH_L7_HTTP_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/1.1 request-head parser (RFC 9112, strict).
 *
 * A mesh that frames a request differently from the backend is a request
 * smuggling hole, so anything ambiguous is rejected with its own
 * KMESH_HTTP_E_* code rather than interpreted.
 *
 * Incremental use: the caller keeps the head bytes received so far in one
 * buffer and calls kmesh_http1_parse() with the whole buffer every time it
 * grows (same bytes, more of them; same limits). The parser remembers in
 * @req how far it got, so the total work stays linear in the head length
 * however the bytes are delivered, and it returns
 *  - KMESH_HTTP_NEED_MORE: no error so far; req->consumed bytes of complete
 *    lines are validated (never more than @len). A partial line is never
 *    judged complete, but a byte that no continuation can make valid (a
 *    NUL, a control byte, a CR followed by something else than LF, a limit
 *    crossed) is reported as soon as it is seen, so garbage such as a TLS
 *    ClientHello fails on its first byte.
 *  - KMESH_HTTP_OK: the head ends at req->head_len; the body (if any)
 *    starts there. Bytes after the head are never read.
 *  - an error: req->err_off locates the offending byte (or its line).
 * OK and errors are final: later calls return them again without reading
 * the buffer. Because rejections are decided in byte order, feeding a head
 * in any number of pieces gives exactly the result of feeding it whole.
 *
 * Decisions where RFC 9112 leaves a choice or where backends differ:
 *  - Line ends must be CRLF. A bare LF is rejected (E_BARE_LF) although
 *    RFC 9112 2.2 lets a recipient accept it: backends disagree on it, and
 *    a disagreement about where a line ends is a smuggling vector.
 *  - Empty lines (CRLF) before the request line are skipped (RFC 9112 2.2
 *    SHOULD); they count towards head_len and the head limit.
 *  - A second Content-Length is rejected even when equal (E_DUP_CL), and so
 *    is a second Transfer-Encoding line (E_DUP_TE). Content-Length is
 *    capped at 2^63 - 1 (E_CL_OVERFLOW), the off_t range of most backends.
 *  - CONNECT takes no Content-Length or Transfer-Encoding (E_CONNECT_BODY,
 *    RFC 9110 9.3.6): what follows an allowed CONNECT is a tunnel, never
 *    a body that a server refusing the tunnel would read as a request.
 *  - Transfer-Encoding must be a comma-separated list of plain tokens (no
 *    parameters, no empty elements) whose last element, and only that one,
 *    is "chunked" (case-insensitive): "gzip, chunked" is accepted,
 *    "chunked, gzip", "gzip" and "chunked, chunked" are not.
 *  - Method, request line and version are case-sensitive, single SP only.
 *  - Request-target bytes are RFC 3986 strict (pchar, '/', '?', valid %XX);
 *    KMESH_HTTP1_OPT_LAX_TARGET relaxes that to any VCHAR except '#'.
 *    Absolute-form takes only http and https, without userinfo, with a
 *    non-empty host; authority-form requires a port.
 *  - Paths must be canonical (E_PATH_NOT_CANONICAL), because routes and
 *    authorization compare them as sent and servers resolve them before
 *    use: no empty segment ("//"), no "." or ".." segment, no %XX that
 *    decodes to an unreserved byte, '/', '\\' or NUL, no raw '\\'. The
 *    query is not checked. KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES lets
 *    %2F through, compared as sent.
 *  - Host names accept only unreserved characters (ALPHA DIGIT - . _ ~),
 *    stricter than reg-name: %-escapes and sub-delims in a name used for
 *    routing would let two parties see two different hosts (so
 *    "Host: 0.0.0.0=5000" is E_BAD_HOST; docs/config.md says why). IP literals
 *    must be IPv6 (no IPvFuture, no zone). An empty Host value is valid
 *    (RFC 9112 3.2); an empty port ("host:") counts as no port.
 *  - Host mismatch with the target authority compares the host
 *    case-insensitively and the explicit port; no default-port folding.
 *  - Lines starting with SP/HTAB after the request line (obs-fold or
 *    whitespace before the first header) are rejected (E_OBS_FOLD).
 *  - Header values may hold HTAB and obs-text (0x80-0xff) but no other
 *    control byte; names must be tokens.
 *
 * @req lives in memory a BPF program can write, even while the parser
 * runs on another CPU: each call parses a private snapshot of its scalars
 * (everything before hdrs[], 56 bytes), validates the resume state first
 * and writes them back at the end; header spans go to req->hdrs[] in
 * place and are never read back. A corrupted @req yields E_INVAL or a
 * wrong verdict, never an access outside @buf or @req; neither does a
 * buffer that changes during the call.
 *
 * Speed: a head found whole in the first call's buffer is parsed in one
 * pass, header values eight bytes at a time (http1.c says how, and why
 * the incremental path alone decides every rejection).
 */
#ifndef KMESH_HTTP1_H
#define KMESH_HTTP1_H

#include "core.h"
#include "../kmesh_kfunc.h"

/* Request line limit when the caller gives none (bytes, without CRLF). */
#define KMESH_HTTP1_DEFAULT_LINE_BYTES	8192

/* kmesh_http1_limits.opts */
#define KMESH_HTTP1_OPT_LAX_TARGET	(1U << 0)
/*
 * %2F / %2f in a path segment is taken as three literal bytes instead of
 * E_PATH_NOT_CANONICAL (a service's path_normalization:
 * escaped_slashes_literal, docs/config.md "Paths"). Empty and dot
 * segments, %5C and the other needless escapes are still refused.
 */
#define KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES	(1U << 1)

/*
 * Zero fields take the defaults (KMESH_HTTP_DEFAULT_HEAD_BYTES,
 * KMESH_HTTP1_DEFAULT_LINE_BYTES, KMESH_HTTP_DEFAULT_HEADERS); larger
 * values are clamped to what the result can hold (KMESH_HTTP_MAX_*).
 */
struct kmesh_http1_limits {
	__u32 max_head_bytes;	/* whole head including the final CRLF */
	__u32 max_line_bytes;	/* request line, without its CRLF */
	__u32 max_headers;	/* header field lines */
	__u32 opts;		/* KMESH_HTTP1_OPT_* */
};

/*
 * Reset @req for a new request head. Zeroing it works as well; this also
 * sets status to NEED_MORE so that nobody mistakes a fresh @req for OK.
 */
void kmesh_http1_init(struct kmesh_http_req *req);

/*
 * Parse the head bytes received so far, buf[0..len); @len may exceed the
 * head (body bytes) or the head limit, nothing past either is read. @lim
 * may be NULL for the defaults. Returns an enum kmesh_http_status, also
 * left in req->status. E_INVAL means bad arguments (NULL @req, NULL @buf
 * with @len, a buffer shorter than in the previous call) or a resume state
 * that is not the parser's own; @req is then left untouched unless the
 * inconsistency only showed mid-parse, in which case E_INVAL is final.
 */
int kmesh_http1_parse(struct kmesh_http_req *req, const __u8 *buf, __u32 len,
		      const struct kmesh_http1_limits *lim);

/*
 * The same for a response head (RFC 9112 4), read for its framing only:
 * status line, then Content-Length and Transfer-Encoding with the
 * request's rules (E_BAD_REQUEST_LINE names a bad status line). With OK,
 * req->port holds the status code, version, flags (HAS_CL, CHUNKED,
 * HAS_BODY), content_length and head_len are set; header fields are not
 * kept (nr_headers stays 0) and not counted against max_headers. The eBPF
 * fallback reads responses in both modes; this one is what it is checked
 * against (selftests/conformance/).
 */
int kmesh_http1_parse_response(struct kmesh_http_req *req, const __u8 *buf,
			       __u32 len, const struct kmesh_http1_limits *lim);

/* Short static description of a status code, for logs and tests. */
const char *kmesh_http1_strstatus(int status);

#endif /* KMESH_HTTP1_H */

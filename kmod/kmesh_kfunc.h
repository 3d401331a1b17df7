/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kmesh kfunc interface: the boundary between the kernel module and the
 * eBPF programs that call its kfuncs. Every struct a kfunc reads or writes
 * in BPF-owned memory, the values it returns, and the kfuncs' declarations
 * (__ksym for BPF programs, prototypes for the module) are defined here, once.
 *
 * Included by the module (its kfuncs, the C core: kernel headers), by BPF
 * programs (bpf/include/kmesh_bpf.h, after vmlinux.h, which already provides
 * the __u8..__u64 types) and by userspace that reads what the kfuncs write
 * (the C core's host builds, selftests, kmeshctl: C11).
 * Layouts use fixed-width types only, naturally aligned, no pointers.
 */
#ifndef KMESH_KFUNC_H
#define KMESH_KFUNC_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/*
 * Version of this interface, bumped whenever a struct, a constant or a
 * return value below changes incompatibly. selftests/unit/abi_layout.txt
 * records the layout of every struct here under its version; the unit test
 * test_abi fails when a layout changes and the version does not. The module
 * reports it in struct kmesh_caps and /sys/module/kmesh/caps/kfunc_abi_version;
 * kmeshctl refuses a module of another version.
 *  1: first release.
 *  2: struct kmesh_route_query grew (stay_cluster, method); struct
 *     kmesh_chunk_state; route matcher errors out of the errno range
 *     (KMESH_KFUNC_E_ROUTE).
 *  3: struct kmesh_http_req.reserved became parse_opts (in: a service's
 *     path_normalization for the parser kfuncs); same layout.
 *     bpf_kmesh_defer_connect() takes the same options (parse_opts).
 *  4: bpf_kmesh_inbound_accepted() (tracing programs: fexit on
 *     inet_accept) and bpf_kmesh_inbound_listener() (cgroup_skb, through
 *     the common hook); no struct changed.
 *  5: HTTP/2 per connection (kmod/h2_conn.c): bpf_kmesh_h2_begin(),
 *     bpf_kmesh_h2_step(), bpf_kmesh_h2_info(), bpf_kmesh_h2_deny(),
 *     bpf_kmesh_h2_edits(), bpf_kmesh_h2_write(), bpf_kmesh_h2_watch(),
 *     bpf_kmesh_h2_release();
 *     struct kmesh_h2_info, struct kmesh_h2_edits.
 */
#define KMESH_KFUNC_ABI_VERSION	5

/* Release of the module and tools built from this tree. */
#define KMESH_VERSION_MAJOR	0
#define KMESH_VERSION_MINOR	1
#define KMESH_VERSION_PATCH	0

/* ---- kfunc return values (docs/kfuncs.md, "Return values") ---- */

/*
 * Every kfunc returns an int in one of three ranges that never overlap, so
 * a caller can always tell an outcome from a refused call from a refused
 * request, whatever the numbers inside each range:
 *
 *   0 .. KMESH_KFUNC_OUTCOME_MAX - 1	an outcome: enum kmesh_http_status,
 *					enum kmesh_chunk_status, or 0
 *   -1 .. -KMESH_KFUNC_ERRNO_MAX	-errno: the call itself was wrong or
 *					impossible (sizes, NULL, no such
 *					table, wrong socket or state)
 *   KMESH_KFUNC_ROUTE_ERR(code)	the route matcher refused the request:
 *					-(KMESH_KFUNC_E_ROUTE + enum kmesh_rt_err)
 *
 * The errno range is the kernel's (MAX_ERRNO); the route range starts far
 * below it. kmesh_dev.h and kmod/kfuncs.c pin the ranges with static asserts.
 */
#define KMESH_KFUNC_OUTCOME_MAX		256
#define KMESH_KFUNC_ERRNO_MAX		4095
#define KMESH_KFUNC_E_ROUTE		0x10000
#define KMESH_KFUNC_ROUTE_ERR(code)	(-(KMESH_KFUNC_E_ROUTE + (int)(code)))
#define KMESH_KFUNC_IS_ROUTE_ERR(ret)	((ret) <= -KMESH_KFUNC_E_ROUTE)
/* enum kmesh_rt_err of a return for which KMESH_KFUNC_IS_ROUTE_ERR() holds */
#define KMESH_KFUNC_ROUTE_CODE(ret)	(-(ret) - KMESH_KFUNC_E_ROUTE)

/* ---- Module capabilities (bpf_kmesh_get_caps kfunc, sysfs caps/) ---- */

/*
 * Program types the module's kfunc set was registered for. The loader
 * combines these with a load-time probe to decide kfunc or fallback mode.
 */
#define KMESH_HOOK_COMMON	(1U << 0)	/* BPF_PROG_TYPE_UNSPEC (>= 6.2 or backport) */
#define KMESH_HOOK_SYSCALL	(1U << 1)
#define KMESH_HOOK_SCHED_CLS	(1U << 2)

struct kmesh_caps {
	__u32 abi_version;	/* KMESH_KFUNC_ABI_VERSION of the module */
	__u32 hooks;		/* KMESH_HOOK_* registered successfully */
	__u32 version_major;
	__u32 version_minor;
	__u32 version_patch;
	__u32 reserved;
};


/* ---- HTTP limits (module parameters range within these) ---- */

/* Spans into the head are __u16, so a head can never exceed 64 KiB. */
#define KMESH_HTTP_MIN_HEAD_BYTES	256
#define KMESH_HTTP_MAX_HEAD_BYTES	65535
#define KMESH_HTTP_DEFAULT_HEAD_BYTES	8192
/* The parse result holds at most this many header spans. */
#define KMESH_HTTP_MAX_HEADERS		32
#define KMESH_HTTP_DEFAULT_HEADERS	32

/* ---- HTTP parser (HTTP/1.1 request head, kmod/core/http1.h) ---- */

/*
 * Parser verdicts, returned and kept in kmesh_http_req.status. Every
 * rejection has its own code so that a dropped request can be explained.
 * Values are fixed: they are stored in maps and compared by BPF programs.
 */
enum kmesh_http_status {
	KMESH_HTTP_OK			= 0,	/* head complete and valid */
	KMESH_HTTP_NEED_MORE		= 1,	/* valid so far, incomplete */
	KMESH_HTTP_E_INVAL		= 2,	/* bad arguments or state */
	KMESH_HTTP_E_HEAD_TOO_LARGE	= 3,	/* head longer than the limit */
	KMESH_HTTP_E_LINE_TOO_LONG	= 4,	/* request line too long */
	KMESH_HTTP_E_TOO_MANY_HEADERS	= 5,
	KMESH_HTTP_E_NUL		= 6,	/* NUL anywhere in the head */
	KMESH_HTTP_E_CTL		= 7,	/* other control byte, DEL */
	KMESH_HTTP_E_BARE_CR		= 8,	/* CR not followed by LF */
	KMESH_HTTP_E_BARE_LF		= 9,	/* LF not preceded by CR */
	KMESH_HTTP_E_BAD_METHOD		= 10,	/* empty or non-token method */
	KMESH_HTTP_E_BAD_REQUEST_LINE	= 11,	/* not 3 parts split by 1 SP */
	KMESH_HTTP_E_BAD_TARGET		= 12,	/* bad byte or syntax */
	KMESH_HTTP_E_TARGET_FORM	= 13,	/* form wrong for the method */
	KMESH_HTTP_E_BAD_AUTHORITY	= 14,	/* bad host[:port] in target */
	KMESH_HTTP_E_BAD_VERSION	= 15,	/* not HTTP/DIGIT.DIGIT */
	KMESH_HTTP_E_UNSUPPORTED_VERSION = 16,	/* well-formed, not 1.0/1.1 */
	KMESH_HTTP_E_OBS_FOLD		= 17,	/* line starts with SP/HTAB */
	KMESH_HTTP_E_EMPTY_HEADER_NAME	= 18,
	KMESH_HTTP_E_BAD_HEADER_NAME	= 19,	/* non-token byte in the name */
	KMESH_HTTP_E_WS_BEFORE_COLON	= 20,	/* whitespace in/after name */
	KMESH_HTTP_E_NO_COLON		= 21,
	KMESH_HTTP_E_NO_HOST		= 22,	/* HTTP/1.1 without Host */
	KMESH_HTTP_E_DUP_HOST		= 23,
	KMESH_HTTP_E_BAD_HOST		= 24,	/* Host value not host[:port] */
	KMESH_HTTP_E_BAD_CL		= 25,	/* Content-Length not 1*DIGIT */
	KMESH_HTTP_E_CL_OVERFLOW	= 26,	/* Content-Length > 2^63 - 1 */
	KMESH_HTTP_E_DUP_CL		= 27,	/* 2nd CL, even if equal */
	KMESH_HTTP_E_CL_AND_TE		= 28,
	KMESH_HTTP_E_BAD_TE		= 29,	/* not a list ending chunked */
	KMESH_HTTP_E_DUP_TE		= 30,	/* 2nd Transfer-Encoding line */
	KMESH_HTTP_E_TE_HTTP10		= 31,	/* TE in HTTP/1.0 */
	KMESH_HTTP_E_PATH_NOT_CANONICAL	= 32,	/* "//", dot-segment, needless %XX */
	KMESH_HTTP_E_CONNECT_BODY	= 33,	/* CONNECT with CL or TE (RFC 9110 9.3.6) */
	KMESH_HTTP_STATUS_MAX,			/* number of codes */
};

enum kmesh_http_method {
	KMESH_HTTP_M_NONE	= 0,	/* request line not parsed yet */
	KMESH_HTTP_M_GET	= 1,
	KMESH_HTTP_M_HEAD	= 2,
	KMESH_HTTP_M_POST	= 3,
	KMESH_HTTP_M_PUT	= 4,
	KMESH_HTTP_M_DELETE	= 5,
	KMESH_HTTP_M_CONNECT	= 6,
	KMESH_HTTP_M_OPTIONS	= 7,
	KMESH_HTTP_M_TRACE	= 8,
	KMESH_HTTP_M_PATCH	= 9,
	KMESH_HTTP_M_OTHER	= 10,	/* any other token; see method_tok */
};

/* kmesh_http_req.version: the major and minor digits, as a number. */
#define KMESH_HTTP_V_10		10
#define KMESH_HTTP_V_11		11

/* Request-target forms (RFC 9112 section 3.2). */
enum kmesh_http_target_form {
	KMESH_HTTP_FORM_NONE		= 0,
	KMESH_HTTP_FORM_ORIGIN		= 1,	/* /path?query */
	KMESH_HTTP_FORM_ABSOLUTE	= 2,	/* http[s]://host/path?query */
	KMESH_HTTP_FORM_AUTHORITY	= 3,	/* host:port, CONNECT only */
	KMESH_HTTP_FORM_ASTERISK	= 4,	/* *, OPTIONS only */
};

/* kmesh_http_req.flags */
#define KMESH_HTTP_F_HAS_CL		(1U << 0)	/* Content-Length */
#define KMESH_HTTP_F_CHUNKED		(1U << 1)	/* TE ends in chunked */
#define KMESH_HTTP_F_HAS_HOST		(1U << 2)	/* Host header given */
/* port is valid (and may then be 0) */
#define KMESH_HTTP_F_HAS_PORT		(1U << 3)
#define KMESH_HTTP_F_HOST_IPV6		(1U << 4)	/* host is [IPv6] */
/* Target authority and Host differ; the target's won (RFC 9112 3.2.2). */
#define KMESH_HTTP_F_HOST_MISMATCH	(1U << 5)
#define KMESH_HTTP_F_HTTPS		(1U << 6)	/* https:// target */
/* A '?' was present: tells an empty query from none. */
#define KMESH_HTTP_F_HAS_QUERY		(1U << 7)
#define KMESH_HTTP_F_CONN_CLOSE		(1U << 8)	/* Connection: close */
#define KMESH_HTTP_F_CONN_KEEP_ALIVE	(1U << 9)	/* ... keep-alive */
#define KMESH_HTTP_F_CONN_UPGRADE	(1U << 10)	/* ... upgrade */
#define KMESH_HTTP_F_UPGRADE		(1U << 11)	/* Upgrade header */
/* Expect: 100-continue in HTTP/1.1 (HTTP/1.0 must ignore it) */
#define KMESH_HTTP_F_EXPECT_CONTINUE	(1U << 12)
#define KMESH_HTTP_F_EXPECT_OTHER	(1U << 13)	/* any other Expect */
/* Set with OK: the client wants the connection kept after this exchange. */
#define KMESH_HTTP_F_PERSISTENT		(1U << 14)
#define KMESH_HTTP_F_HAS_BODY		(1U << 15)	/* chunked or CL > 0 */

/* Bytes [off, off + len) of the buffer given to the parser. */
struct kmesh_http_span {
	__u16 off;
	__u16 len;
};

struct kmesh_http_hdr {
	struct kmesh_http_span name;	/* as sent; case-insensitive */
	struct kmesh_http_span value;	/* without outer SP/HTAB */
};

/*
 * Parse state and result of one request head, written by the parser into
 * BPF-owned memory (typically a per-CPU map value). All-zero is a valid
 * fresh state, so a zeroed map value needs no initialisation call.
 * Spans point into the caller's head buffer, which only ever grows.
 */
/* kmesh_http_req.parse_opts: %2F in a path taken literally */
#define KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES	(1U << 1)

struct kmesh_http_req {
	__u16 status;		/* enum kmesh_http_status of the last call */
	__u16 err_off;		/* offset of the offending byte on error */
	/* Bytes of complete lines validated so far; == head_len with OK. */
	__u16 consumed;
	__u16 head_len;		/* with OK: up to the final CRLF, inclusive */
	__u32 flags;		/* KMESH_HTTP_F_* */
	__u8 method;		/* enum kmesh_http_method */
	__u8 version;		/* KMESH_HTTP_V_* */
	__u8 target_form;	/* enum kmesh_http_target_form */
	__u8 nr_headers;	/* valid entries in hdrs[] */
	__u16 port;		/* of host; valid with KMESH_HTTP_F_HAS_PORT */
	/* Parser-private resume state: BPF must not write these. */
	__u16 scan;		/* current line is checked up to here */
	__u8 state;
	__u8 pad[3];		/* zero; keeps content_length 8-byte aligned */
	__u64 content_length;	/* with KMESH_HTTP_F_HAS_CL, else 0 */
	struct kmesh_http_span method_tok;	/* as sent, also for OTHER */
	struct kmesh_http_span target;		/* whole request-target */
	/*
	 * Empty in authority- and asterisk-form, and in absolute-form
	 * without a path, which means "/".
	 */
	struct kmesh_http_span path;
	struct kmesh_http_span query;		/* after '?', see HAS_QUERY */
	/*
	 * Routing host, port stripped: from the target in absolute- and
	 * authority-form, else from Host; brackets kept for IPv6.
	 */
	struct kmesh_http_span host;
	/*
	 * In, for the kfuncs: KMESH_HTTP_REQ_OPT_* the BPF caller sets after
	 * zeroing @req, before the first call (a service's path_normalization);
	 * kept across calls. The plain-C parser takes its options from
	 * kmesh_http1_limits.opts instead. Unknown bits are ignored, so a
	 * module older than the field parses as with 0 (refusing %2F).
	 */
	__u32 parse_opts;
	struct kmesh_http_hdr hdrs[KMESH_HTTP_MAX_HEADERS];
};


/* ---- Chunked body scanner (kmod/core/chunk.h) ---- */

/*
 * Incremental scan of a chunked body (RFC 9112 7.1) to find where it
 * ends: chunk-size lines and trailers are read and checked, chunk data is
 * skipped by count. Strict like the head parser: CRLF only, hex digits
 * only, at most 15 of them (no overflow), extensions as RFC 9112 7.1.1
 * (token [= token / quoted-string]), no bare CR or LF anywhere. All-zero
 * is a fresh state.
 */
enum kmesh_chunk_status {
	KMESH_CHUNK_NEED_MORE	= 0,	/* every byte given was consumed */
	KMESH_CHUNK_DONE	= 1,	/* the body ends after @consumed bytes */
	KMESH_CHUNK_E_SIZE	= 2,	/* no hex digit, or a bad byte after it */
	KMESH_CHUNK_E_OVERFLOW	= 3,	/* more than 15 hex digits */
	KMESH_CHUNK_E_EXT	= 4,	/* extension not token [= token / quoted] */
	KMESH_CHUNK_E_CRLF	= 5,	/* bare CR or LF, or no CRLF after data */
	KMESH_CHUNK_E_TRAILER	= 6,	/* bad byte in a trailer line */
	KMESH_CHUNK_E_TOO_LONG	= 7,	/* size line or trailers over the limit */
	KMESH_CHUNK_E_INVAL	= 8,	/* bad arguments or state */
	KMESH_CHUNK_STATUS_MAX,
};

#define KMESH_CHUNK_MAX_LINE		4096	/* size line with extensions */
#define KMESH_CHUNK_MAX_TRAILERS	8192	/* all trailer lines */

struct kmesh_chunk_state {
	__u64 remaining;	/* data bytes left in the current chunk */
	__u32 consumed;		/* out: bytes of the last call's input used */
	__u32 line;		/* bytes of the current size line / trailers */
	__u8 state;		/* enum kmesh_chunk_scan_state, core/http_rules.h */
	__u8 status;		/* enum kmesh_chunk_status of the last call */
	__u8 digits;		/* hex digits of the current size */
	__u8 pad[5];
};

/* ---- HTTP/2 (kmod/core/h2_frame.h, hpack.h; docs/http2.md) ---- */

/*
 * Why an HTTP/2 connection or stream was refused. 0 is "no error"; one
 * space for the frame parser and HPACK, so that one __u8 names any
 * refusal. kmesh_h2_reasons[] in core/h2_rules.h gives each its scope,
 * RFC 9113 error code and text. Values are fixed.
 */
enum kmesh_h2_reason {
	KMESH_H2_OK = 0,
	/* framing: connection errors */
	KMESH_H2_E_INVAL,		/* bad arguments or state */
	KMESH_H2_E_PREFACE,		/* not the client connection preface */
	KMESH_H2_E_FIRST_NOT_SETTINGS,	/* first frame not SETTINGS (3.4) */
	KMESH_H2_E_FRAME_SIZE,		/* length over SETTINGS_MAX_FRAME_SIZE */
	KMESH_H2_E_FRAME_LEN,		/* length wrong for the type (6.x) */
	KMESH_H2_E_STREAM0,		/* stream frame on stream 0 */
	KMESH_H2_E_NOT_STREAM0,		/* SETTINGS/PING/GOAWAY on a stream */
	KMESH_H2_E_SETTINGS_ACK_LEN,	/* SETTINGS ack with a payload */
	KMESH_H2_E_SETTINGS_VALUE,	/* ENABLE_PUSH, window or frame size */
	KMESH_H2_E_PADDING,		/* pad length >= what it pads */
	KMESH_H2_E_CONTINUATION_MISSING,/* other frame inside a header block */
	KMESH_H2_E_CONTINUATION_UNEXPECTED, /* no header block open (or other stream) */
	KMESH_H2_E_CONTINUATION_FLOOD,	/* too many CONTINUATION frames */
	KMESH_H2_E_HEADER_BLOCK_SIZE,	/* compressed block over the limit */
	KMESH_H2_E_STREAM_ID_PARITY,	/* even id from a client, odd push */
	KMESH_H2_E_STREAM_ID_ORDER,	/* new stream id not above the last */
	KMESH_H2_E_STREAM_IDLE,		/* DATA/RST/WINDOW_UPDATE on an idle stream */
	KMESH_H2_E_WINDOW_ZERO_CONN,	/* WINDOW_UPDATE 0 on stream 0 */
	KMESH_H2_E_PUSH_PROMISE,	/* push is not accepted (ENABLE_PUSH 0) */
	/* HPACK (RFC 7541): connection errors, COMPRESSION_ERROR */
	KMESH_H2_E_HPACK_TRUNCATED,	/* block ends inside a representation */
	KMESH_H2_E_HPACK_INT,		/* integer over 2^31 - 1 or too long */
	KMESH_H2_E_HPACK_INDEX,		/* index 0 or beyond both tables */
	KMESH_H2_E_HPACK_STRING_LEN,	/* string runs past the block */
	KMESH_H2_E_HPACK_HUFFMAN,	/* padding over 7 bits or not EOS' prefix */
	KMESH_H2_E_HPACK_HUFFMAN_EOS,	/* EOS symbol decoded */
	KMESH_H2_E_HPACK_TABLE_SIZE,	/* size update over the allowed maximum */
	KMESH_H2_E_HPACK_UPDATE_POS,	/* size update after a field */
	KMESH_H2_E_HPACK_UPDATE_MISSING,/* limit lowered, no update first */
	KMESH_H2_E_HEADER_LIST_SIZE,	/* decoded list over the limit */
	/* stream errors */
	KMESH_H2_E_STREAM_CLOSED,	/* DATA/HEADERS after END_STREAM */
	KMESH_H2_E_TOO_MANY_STREAMS,	/* over the streams tracked: refused */
	KMESH_H2_E_FRAME_LEN_STREAM,	/* PRIORITY length not 5 */
	KMESH_H2_E_SELF_DEPENDENCY,	/* stream depends on itself (5.3.1) */
	KMESH_H2_E_WINDOW_ZERO,		/* WINDOW_UPDATE 0 on a stream */
	/* fields (8.2, 8.3): stream errors, PROTOCOL_ERROR; malformed */
	KMESH_H2_E_NAME_UPPERCASE,	/* uppercase letter in a name */
	KMESH_H2_E_NAME_BAD,		/* empty, or not a token */
	KMESH_H2_E_VALUE_BAD,		/* NUL, CR, LF, or outer SP/HTAB */
	KMESH_H2_E_CONNECTION_HEADER,	/* connection, keep-alive, ... */
	KMESH_H2_E_TE,			/* te other than "trailers" */
	KMESH_H2_E_PSEUDO_AFTER_REGULAR,
	KMESH_H2_E_PSEUDO_DUP,
	KMESH_H2_E_PSEUDO_UNKNOWN,	/* or one of the other direction */
	KMESH_H2_E_PSEUDO_MISSING,
	KMESH_H2_E_PSEUDO_IN_TRAILERS,
	KMESH_H2_E_PATH_EMPTY,		/* :path "" */
	KMESH_H2_E_PATH_BAD,		/* not origin-form, nor "*" for OPTIONS */
	KMESH_H2_E_METHOD_BAD,		/* :method not a token */
	KMESH_H2_E_STATUS_BAD,		/* :status not 3 digits */
	KMESH_H2_E_CONNECT,		/* CONNECT with :scheme/:path or no :authority */
	KMESH_H2_E_HOST_MISMATCH,	/* host differs from :authority */
	KMESH_H2_E_CONTENT_LENGTH,	/* not digits, or a second one */
	KMESH_H2_E_CONTENT_LENGTH_DATA,	/* DATA lengths differ from it */
	KMESH_H2_E_TRAILERS_NO_END,	/* second HEADERS without END_STREAM */
	KMESH_H2_REASON_MAX,
};

/* bpf_kmesh_h2_parse(): what came of the bytes given */
enum kmesh_h2_req_status {
	KMESH_H2_REQ_OK		= 0,	/* the first request's header block is in */
	KMESH_H2_REQ_NEED_MORE	= 1,	/* valid so far, no complete request yet */
	KMESH_H2_REQ_REFUSED	= 2,	/* connection or first stream refused: reason */
	KMESH_H2_REQ_TOO_LARGE	= 3,	/* its pseudo-headers overflow text[] */
	KMESH_H2_REQ_STATUS_MAX,
};

/* Longest client byte stream bpf_kmesh_h2_parse() reads. */
#define KMESH_H2_REQ_MAX_BYTES	65536
/* Room for the first request's method, scheme, authority and path. */
#define KMESH_H2_REQ_TEXT	1024

/* kmesh_h2_req.flags */
#define KMESH_H2_REQ_F_END_STREAM	(1U << 0)	/* no body follows */
#define KMESH_H2_REQ_F_HAS_CL		(1U << 1)	/* content_length is set */
#define KMESH_H2_REQ_F_CONNECT		(1U << 2)
/* authority is from the host field: the request had no :authority */
#define KMESH_H2_REQ_F_HOST		(1U << 3)

/*
 * The first request of an HTTP/2 connection, as bpf_kmesh_h2_parse()
 * writes it (into BPF-owned memory): for routing a connection by its first
 * request, as the HTTP/1.1 parser does. Spans index text[].
 */
struct kmesh_h2_req {
	__u32 status;		/* enum kmesh_h2_req_status */
	__u32 reason;		/* REFUSED: enum kmesh_h2_reason */
	__u32 stream_id;	/* OK: the request's stream */
	/* OK: bytes up to the end of its header block; REFUSED: the offset
	 * of the frame that was refused */
	__u32 consumed;
	__u32 flags;		/* KMESH_H2_REQ_F_* */
	__u32 pad;		/* zero */
	__u64 content_length;	/* with KMESH_H2_REQ_F_HAS_CL */
	struct kmesh_http_span method, scheme, authority, path;
	__u8 text[KMESH_H2_REQ_TEXT];
};

/* ---- HTTP/2 per connection (kmod/h2_conn.c, docs/http2.md) ---- */

/*
 * The client->server direction of an HTTP/2 connection, parsed by the
 * module with state kept per socket (HPACK table, stream slots) from the
 * first message to the socket's close. An sk_msg program calls, per
 * message: bpf_kmesh_h2_begin() once, then bpf_kmesh_h2_step() until it
 * says DONE (each REQUEST is one request's header block, given as an
 * HTTP/1.1 head so that the same evaluator and route table judge it),
 * bpf_kmesh_h2_deny() for each refused stream, and at the end
 * bpf_kmesh_h2_edits() for what to cut from the message and add to it.
 */
enum kmesh_h2_step_status {
	KMESH_H2_STEP_DONE	= 0,	/* every byte of the message is read */
	KMESH_H2_STEP_REQUEST	= 1,	/* a request's header block: req, head */
	KMESH_H2_STEP_NEED_MORE	= 2,	/* ends inside a header block: cork
					 * info.need more bytes; nothing read */
	KMESH_H2_STEP_CLOSE	= 3,	/* connection error (info.reason): the
					 * state is freed; close the connection */
	KMESH_H2_STEP_NO_STATE	= 4,	/* over h2_max_conns, or no memory */
	KMESH_H2_STEP_NOT_H2	= 5,	/* the first bytes are not the preface */
	KMESH_H2_STEP_PAUSE	= 6,	/* the edits are (nearly) full: apply
					 * them, pass the info.pos bytes read,
					 * and read the rest in another run */
	KMESH_H2_STEP_MAX,
};

/* kmesh_h2_info.flags */
#define KMESH_H2_INFO_F_GRPC		(1U << 0)	/* content-type application/grpc* */
#define KMESH_H2_INFO_F_END_STREAM	(1U << 1)
/* the header block changed the HPACK dynamic table: it cannot be cut */
#define KMESH_H2_INFO_F_TABLE_CHANGED	(1U << 2)
/* RFC 9113 refused the stream (info.reason): refuse it (400) */
#define KMESH_H2_INFO_F_STREAM_ERROR	(1U << 3)

struct kmesh_h2_info {
	__u32 status;		/* enum kmesh_h2_step_status of the last call */
	__u32 reason;		/* CLOSE, STREAM_ERROR: enum kmesh_h2_reason */
	__u32 stream_id;	/* REQUEST */
	__u32 flags;		/* KMESH_H2_INFO_F_* */
	__u32 pos;		/* message bytes read so far */
	__u32 need;		/* NEED_MORE: at least this many more bytes */
	__u32 head_status;	/* REQUEST: enum kmesh_http_status of the head */
	__u32 head_len;		/* REQUEST: bytes of the head in @head */
};

/*
 * bpf_kmesh_h2_deny() @how: the HTTP status (100..599) the client gets
 * (HEADERS :status, END_STREAM), or with KMESH_H2_DENY_GRPC a
 * trailers-only gRPC response (:status 200, grpc-status from the HTTP
 * status: 403 -> 7 PERMISSION_DENIED, 429 -> 8 RESOURCE_EXHAUSTED, 404 ->
 * 12 UNIMPLEMENTED, 400/431 -> 13 INTERNAL, else 14 UNAVAILABLE).
 */
#define KMESH_H2_DENY_GRPC	(1U << 16)

/*
 * kmesh_h2_edit.kind. Frames kept from the server are hidden in place by
 * the module (an experimental frame type the server discards), never cut:
 * bpf_msg_pop_data() corrupts messages and crashes 6.1 kernels.
 */
#define KMESH_H2_EDIT_RST	2	/* bpf_msg_push_data(off - 1, len), then
					 * bpf_kmesh_h2_write(off - 1, KMESH_H2_WRITE_RST) */
#define KMESH_H2_MAX_EDITS	16

/* bpf_kmesh_h2_write() @what */
#define KMESH_H2_WRITE_RST	1	/* RST_STREAM(CANCEL) of edit @arg */
#define KMESH_H2_WRITE_REPLY	2	/* the reply to the client */

/* 13: an RST_STREAM frame */
#define KMESH_H2_RST_LEN	13

struct kmesh_h2_edit {
	__u32 off;		/* in the message as it is before any edit */
	__u32 len;
	__u32 kind;		/* KMESH_H2_EDIT_* */
	__u32 stream_id;
};

/* Edits in descending offset order: apply them as listed. */
struct kmesh_h2_edits {
	__u32 nr;
	__u32 reply_len;	/* bytes of the reply to the client, 0: none */
	__u32 reply_ready;	/* 1: safe to deliver now (docs/http2.md) */
	__u32 pad;
	struct kmesh_h2_edit e[KMESH_H2_MAX_EDITS];
};

/* ---- Route lookup through the kfunc ---- */

/* Outcome of one match (kmesh_route_verdict.kind); 0: no verdict (error). */
enum kmesh_rt_verdict {
	KMESH_RT_V_NONE		= 0,
	KMESH_RT_V_NO_VHOST	= 1,	/* host is none of the table's: caller decides */
	KMESH_RT_V_NO_ROUTE	= 2,	/* no route and no default: 404 */
	KMESH_RT_V_ROUTE	= 3,	/* forward to cluster_id */
	KMESH_RT_V_DENY		= 4,	/* refuse with status */
	KMESH_RT_V_DIRECT	= 5,	/* answer status and body */
};

/* kmesh_route_verdict.flags */
#define KMESH_RT_VF_DEFAULT	(1U << 0)	/* the default route was taken */
#define KMESH_RT_VF_OTHER_CLUSTER (1U << 1)	/* ROUTE, not to query.stay_cluster */

/* kmesh_route_verdict.route_idx of the default route */
#define KMESH_RT_IDX_DEFAULT	0xffffffffU

/* Written by kmesh_route_match(), typically into BPF-owned memory. */
struct kmesh_route_verdict {
	__u32 kind;		/* enum kmesh_rt_verdict */
	__u32 vhost_id;		/* of the table, with every kind but NONE */
	__u32 route_id;		/* ROUTE, DENY, DIRECT: the route taken */
	__u32 route_idx;	/* its index, or KMESH_RT_IDX_DEFAULT */
	__u32 cluster_id;	/* ROUTE: the cluster picked */
	__u16 split_idx;	/* ROUTE: which entry of the split */
	__u16 status;		/* DENY, DIRECT: HTTP status */
	__u32 body_off;		/* DIRECT: body at blob offset body_off */
	__u32 body_len;
	__u32 flags;		/* KMESH_RT_VF_* */
};

/* In and out of bpf_kmesh_route_match(). */
struct kmesh_route_query {
	__u32 table_id;		/* in: the table userspace set under this id */
	__u32 rand;		/* in: uniformly random; picks within a split */
	/*
	 * in, bpf_kmesh_route_match() only: the cluster the request's
	 * connection is open to, 0 for none. A split that includes it picks
	 * it; a ROUTE verdict without it gets KMESH_RT_VF_OTHER_CLUSTER.
	 */
	__u32 stay_cluster;
	__u32 method;	/* out, bpf_kmesh_deferred_route(): the request's
			   enum kmesh_http_method (for counters and logs) */
	struct kmesh_route_verdict verdict;	/* out */
};

/* ---- Deferred connect (kfunc mode, kmod/defer.c, docs/deferred-connect.md) ---- */

/*
 * A connect to an HTTP service with a route table is held by the module
 * until the application has written its first request head; the head then
 * picks the route, and BPF the endpoint, before the real connect:
 *
 *  1. cgroup/connect4|6 (BPF) calls bpf_kmesh_defer_connect(ctx): connect()
 *     returns 0 at once, no SYN leaves, getpeername() reports the dialed
 *     address and poll() says writable.
 *  2. Writes are kept (reported as written) until the request head parses
 *     (max_head_bytes, max_headers). A head the parser rejects fails the
 *     write with EBADMSG, one over the limits with EMSGSIZE.
 *  3. The module runs the connect hook again for the dialed address. There
 *     bpf_kmesh_deferred_route() matches the kept head against a route
 *     table; BPF balances the verdict's cluster and rewrites the address
 *     as for any connect, or calls bpf_kmesh_deferred_reply() to have the
 *     module answer the request itself (deny, direct response, 404, 503).
 *  4. The module connects for real and sends the kept bytes first, through
 *     the socket's own send path (sockhash and sk_msg included).
 *
 * Every function returns 0 or a negative errno. The context must be the
 * connect program's own (the verifier refuses anything else); the module
 * also checks that it is a TCP socket in the state each step needs.
 * bpf_kmesh_deferred_route() returns -ESRCH when the hook runs for an
 * ordinary connect (nothing is being routed), which is how one program
 * tells step 1 from step 3; -ENOENT when no table has query->table_id.
 */

/* bpf_kmesh_deferred_reply() status: take the route's (DENY, DIRECT). */
#define KMESH_DEFER_REPLY_ROUTE		0

/*
 * The kfuncs are declared once for both sides, as selftests/bpf's
 * bpf_testmod_kfunc.h does: BPF programs see them as __ksym (include after
 * <bpf/bpf_helpers.h>), and the module compiles its definitions against
 * the same prototypes, so a changed argument cannot go unnoticed on one side.
 */
#if defined(__KERNEL__)
#define KMESH_KSYM
#define KMESH_KSYM_WEAK
#elif defined(__bpf__)
#define KMESH_KSYM	__ksym
#define KMESH_KSYM_WEAK	__ksym __weak
#endif

#ifdef KMESH_KSYM
/*
 * Weak: the L4 object carries the kfunc-mode connect programs beside the
 * plain ones and must still open where the module is absent; only the
 * programs that are loaded need these resolved.
 */
struct bpf_sock_addr;
struct sk_msg_md;
/* @parse_opts: KMESH_HTTP_REQ_OPT_* for the head the module will parse */
extern int bpf_kmesh_defer_connect(struct bpf_sock_addr *ctx, __u32 parse_opts) KMESH_KSYM_WEAK;
extern int bpf_kmesh_deferred_route(struct bpf_sock_addr *ctx,
				    struct kmesh_route_query *query) KMESH_KSYM_WEAK;
extern int bpf_kmesh_deferred_reply(struct bpf_sock_addr *ctx,
				    __u32 status) KMESH_KSYM_WEAK;
/*
 * For the fexit program on inet_accept (kmod/inbound.c): an accepted
 * socket of the inbound check. Weak: that program loads only with the
 * module.
 */
struct socket;
struct __sk_buff;
extern int bpf_kmesh_inbound_accepted(struct socket *sock) KMESH_KSYM_WEAK;
/* For the door (cgroup_skb/ingress) on a SYN, where kfuncs are callable
 * from cgroup_skb programs (the common hook). */
extern int bpf_kmesh_inbound_listener(struct __sk_buff *ctx) KMESH_KSYM_WEAK;
#endif

#ifdef KMESH_KSYM
/*
 * The module's kfuncs as BPF programs see them (include after
 * <bpf/bpf_helpers.h>); defined and documented in kmod/kfuncs.c. Result
 * structs that hold arrays of structs are passed as void * with a size,
 * the only form the 6.1 verifier accepts for them.
 */
extern int bpf_kmesh_get_caps(struct kmesh_caps *caps, __u32 caps__sz) KMESH_KSYM;
/*
 * Weak: an object holding programs that call them still loads without the
 * module, as long as those programs are not loaded (kmesh_sk_msg_l7 in the
 * L4 object is loaded only in kfunc mode).
 */
extern int bpf_kmesh_http_parse(void *req, __u32 req__sz, const void *buf,
				__u32 buf__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_msg_parse(struct sk_msg_md *md, void *req,
			       __u32 req__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_route_match(const void *req, __u32 req__sz,
				 const void *head, __u32 head__sz,
				 struct kmesh_route_query *query) KMESH_KSYM_WEAK;
extern int bpf_kmesh_chunk_scan(void *st, __u32 st__sz, const void *buf,
				__u32 buf__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_msg_chunks(struct sk_msg_md *md, __u32 off, void *st,
				__u32 st__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_parse(void *req, __u32 req__sz, const void *buf,
			      __u32 buf__sz) KMESH_KSYM_WEAK;
struct bpf_sock_ops;
extern int bpf_kmesh_h2_begin(struct sk_msg_md *md) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_step(struct sk_msg_md *md, void *req, __u32 req__sz,
			     void *head, __u32 head__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_info(struct sk_msg_md *md, struct kmesh_h2_info *info,
			     __u32 info__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_deny(struct sk_msg_md *md, __u32 stream_id,
			     __u32 how) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_edits(struct sk_msg_md *md, void *edits,
			      __u32 edits__sz) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_write(struct sk_msg_md *md, __u32 off, __u32 what,
			      __u32 arg) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_watch(struct bpf_sock_ops *ops) KMESH_KSYM_WEAK;
extern int bpf_kmesh_h2_release(struct bpf_sock_ops *ops) KMESH_KSYM_WEAK;
#endif

#endif /* KMESH_KFUNC_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kmesh ABI: every struct and constant that crosses the boundary between
 * the kernel module, the eBPF programs and userspace is defined here, once.
 *
 * Included by the module (kernel headers), by BPF programs (after vmlinux.h,
 * which already provides the __u8..__u64 types) and by userspace (C11).
 * Layouts use fixed-width types only, naturally aligned, no pointers.
 */
#ifndef KMESH_ABI_H
#define KMESH_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Bumped whenever a struct or constant below changes incompatibly. */
#define KMESH_ABI_VERSION	1

/* Release of the module and tools built from this tree. */
#define KMESH_VERSION_MAJOR	0
#define KMESH_VERSION_MINOR	1
#define KMESH_VERSION_PATCH	0

/* ---- Module capabilities (bpf_kmesh_get_caps kfunc, sysfs caps/) ---- */

/*
 * Program types the module's kfunc set was registered for. The loader
 * combines these with a load-time probe to decide kfunc or fallback mode.
 */
#define KMESH_HOOK_COMMON	(1U << 0)	/* BPF_PROG_TYPE_UNSPEC (>= 6.2 or backport) */
#define KMESH_HOOK_SYSCALL	(1U << 1)
#define KMESH_HOOK_SCHED_CLS	(1U << 2)

struct kmesh_caps {
	__u32 abi_version;	/* KMESH_ABI_VERSION of the module */
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
	__u32 reserved;		/* zero; pads hdrs[] to 8 bytes */
	struct kmesh_http_hdr hdrs[KMESH_HTTP_MAX_HEADERS];
};

/* ---- Route table hand-off: ioctls on /dev/kmesh (CAP_NET_ADMIN) ---- */

#define KMESH_DEV_NAME		"kmesh"

/* Set (replace atomically), read back, or describe one route table. */
struct kmesh_table_io {
	__u32 id;		/* table id, chosen by userspace (one per service) */
	__u32 len;		/* blob bytes; GET: buffer room in, size out */
	__u64 data;		/* userspace address of the blob */
	__s32 error;		/* SET refused with EINVAL: which format rule */
	__u32 reserved;		/* zero */
};

struct kmesh_table_info {
	__u64 bytes;		/* kernel memory held by tables */
	__u64 max_bytes;	/* module parameter max_table_kbytes */
	__u32 tables;
	__u32 max_tables;	/* module parameter max_tables */
};

#ifndef __bpf__
#include <linux/ioctl.h>
#define KMESH_IOC_MAGIC		0xb7
#define KMESH_IOC_TABLE_SET	_IOWR(KMESH_IOC_MAGIC, 1, struct kmesh_table_io)
#define KMESH_IOC_TABLE_GET	_IOWR(KMESH_IOC_MAGIC, 2, struct kmesh_table_io)
#define KMESH_IOC_TABLE_DEL	_IOW(KMESH_IOC_MAGIC, 3, __u32)
#define KMESH_IOC_TABLE_INFO	_IOR(KMESH_IOC_MAGIC, 4, struct kmesh_table_info)
#endif

/* ---- Route table format and matcher verdict (kmod/core/route.h) ---- */

/*
 * A compiled route table for one service (virtual host), in Istio
 * VirtualService terms: the service's hosts, an ordered list of routes
 * (first match wins) and an optional default route. It travels as one
 * flat blob built in userspace (userspace/lib/route_build.h): a header,
 * then six sections of fixed-size records in a fixed order, each starting
 * at the 4-byte aligned end of the previous one, nothing after the last.
 * Records refer to records by index and to strings by (offset, length)
 * in the strings section, never by pointer. Every route owns a contiguous
 * run of blocks, conditions and clusters that directly follows its
 * predecessor's, so nothing can loop, alias or go unchecked: the module
 * checks the whole blob once (kmesh_route_validate) and then matches in
 * place without bounds checks. Host byte order: built and used on one node.
 */
#define KMESH_RT_MAGIC		0x54524d4bU	/* "KMRT" in little-endian memory */

/*
 * Limits. They bound the work of one match (see route.h for the worst
 * case) and the memory a table may pin in the kernel.
 */
#define KMESH_RT_MAX_BLOB_BYTES		(1U << 20)
#define KMESH_RT_MAX_HOSTS		64
#define KMESH_RT_MAX_ROUTES		256	/* ordered routes, default not counted */
#define KMESH_RT_MAX_BLOCKS		4	/* alternative match blocks per route */
#define KMESH_RT_MAX_CONDS		8	/* conditions per match block */
#define KMESH_RT_MAX_TABLE_CONDS	1024	/* conditions in the whole table */
/* Path template and query conditions cost O(request) each, not O(table). */
#define KMESH_RT_MAX_SCAN_CONDS		32
#define KMESH_RT_MAX_SPLIT		16	/* clusters of one weighted split */
#define KMESH_RT_MAX_HOST_LEN		255	/* DNS name plus a "*." */
#define KMESH_RT_MAX_NAME_LEN		64	/* header and query parameter names */
#define KMESH_RT_MAX_STR_LEN		256	/* paths, header and query values */
#define KMESH_RT_MAX_BODY_LEN		1024	/* direct response body */

/* Bytes [off, off + len) of the strings section. */
struct kmesh_rt_str {
	__u32 off;
	__u32 len;
};

/* A run of @count records (bytes for the strings section) at blob offset @off. */
struct kmesh_rt_section {
	__u32 off;
	__u32 count;
};

/* Match condition kinds (kmesh_rt_cond.kind); 0 is invalid so zeroed records fail. */
enum kmesh_rt_match {
	KMESH_RT_M_PATH_EXACT		= 1,	/* value == path (query excluded) */
	KMESH_RT_M_PATH_PREFIX		= 2,	/* value is a prefix of path; see F_SEGMENT */
	KMESH_RT_M_PATH_TEMPLATE	= 3,	/* "/users/{id}/orders", "/s/{rest=**}" */
	KMESH_RT_M_METHOD		= 4,	/* method's bit is in .methods */
	KMESH_RT_M_HEADER_EXACT		= 5,	/* name present, values == value */
	KMESH_RT_M_HEADER_PREFIX	= 6,	/* name present, values start with value */
	KMESH_RT_M_HEADER_PRESENT	= 7,
	KMESH_RT_M_HEADER_ABSENT	= 8,
	KMESH_RT_M_QUERY_EXACT		= 9,	/* first name=value in the query */
	KMESH_RT_M_MAX,				/* number of kinds + 1, not a kind */
};

/* kmesh_rt_cond.flags */
/* PATH_PREFIX only: match whole segments, "/api" takes "/api/x" but not "/apix". */
#define KMESH_RT_CF_SEGMENT	(1U << 0)

/* KMESH_RT_M_METHOD: bit (1 << enum kmesh_http_method); NONE (bit 0) is invalid. */
#define KMESH_RT_METHOD_BIT(m)	(1U << (m))
#define KMESH_RT_METHODS_ALL	(((1U << (KMESH_HTTP_M_OTHER + 1)) - 1) & ~1U)

/*
 * One condition. Fields a kind does not use must be zero, so that one
 * table has exactly one encoding. Header names are stored lower-case (and
 * compared case-insensitively), values and paths exactly (case-sensitive).
 */
struct kmesh_rt_cond {
	__u8 kind;		/* enum kmesh_rt_match */
	__u8 flags;		/* KMESH_RT_CF_* */
	__u16 reserved;
	__u32 methods;		/* KMESH_RT_M_METHOD */
	struct kmesh_rt_str name;	/* header or query parameter name */
	struct kmesh_rt_str value;	/* path, template, header or query value */
};

/* All conditions [first_cond, first_cond + nr_conds) must hold. */
struct kmesh_rt_block {
	__u32 first_cond;
	__u32 nr_conds;
};

/* One destination of a route action; a single cluster is a split of one. */
struct kmesh_rt_cluster {
	__u32 cluster_id;
	__u32 weight;		/* relative; 0 = never picked (Istio weight: 0) */
};

/* Route actions (kmesh_rt_route.action); 0 is invalid. */
enum kmesh_rt_action {
	KMESH_RT_A_ROUTE	= 1,	/* to a cluster, or a weighted split */
	KMESH_RT_A_DENY		= 2,	/* refuse with status (400..599) */
	KMESH_RT_A_DIRECT	= 3,	/* answer status (200..599) and body */
	KMESH_RT_A_MAX,			/* number of actions + 1, not an action */
};

/*
 * A route matches when any of its match blocks does (OR of ANDs, like
 * Istio's match list). Ordered routes have 1..KMESH_RT_MAX_BLOCKS blocks;
 * the default route has none. Clusters are used by A_ROUTE only, status by
 * DENY and DIRECT, body by DIRECT only; unused fields are zero.
 */
struct kmesh_rt_route {
	__u32 route_id;		/* caller's id, reported for counters and logs */
	__u32 first_block;	/* index into the blocks section */
	__u32 first_cluster;	/* index into the clusters section */
	__u16 nr_blocks;
	__u16 nr_clusters;
	__u8 action;		/* enum kmesh_rt_action */
	__u8 reserved;
	__u16 status;		/* HTTP status for DENY and DIRECT */
	struct kmesh_rt_str body;	/* DIRECT response body, may be empty */
};

/* kmesh_rt_table.flags */
#define KMESH_RT_F_DEFAULT	(1U << 0)	/* dflt holds a default route */

/*
 * Blob header. Sections, in this order: hosts (struct kmesh_rt_str each:
 * "name" or "*.suffix" or "*", lower-case), routes, blocks, conds,
 * clusters (records) and strings (bytes). Blocks, conds and clusters are
 * used in route order, the default route's clusters last.
 */
struct kmesh_rt_table {
	__u32 magic;		/* KMESH_RT_MAGIC */
	__u16 abi_version;	/* KMESH_ABI_VERSION */
	__u16 hdr_len;		/* sizeof(struct kmesh_rt_table) */
	__u32 total_len;	/* bytes in the blob, header included */
	__u32 flags;		/* KMESH_RT_F_* */
	__u32 vhost_id;		/* caller's id of the service, echoed in verdicts */
	__u32 reserved;
	struct kmesh_rt_section hosts;
	struct kmesh_rt_section routes;
	struct kmesh_rt_section blocks;
	struct kmesh_rt_section conds;
	struct kmesh_rt_section clusters;
	struct kmesh_rt_section strings;
	struct kmesh_rt_route dflt;	/* with KMESH_RT_F_DEFAULT, else all zero */
};

/*
 * Validation errors, and the errors of a match; kmesh_route_validate()
 * and kmesh_route_match() return them negated. Each has its own code so
 * a refused table can be explained. Values are fixed.
 */
enum kmesh_rt_err {
	KMESH_RT_OK			= 0,
	KMESH_RT_E_INVAL		= 1,	/* NULL argument */
	KMESH_RT_E_ALIGN		= 2,	/* blob not 4-byte aligned in memory */
	KMESH_RT_E_TRUNCATED		= 3,	/* shorter than the header */
	KMESH_RT_E_TOO_BIG		= 4,	/* over KMESH_RT_MAX_BLOB_BYTES */
	KMESH_RT_E_MAGIC		= 5,
	KMESH_RT_E_VERSION		= 6,	/* abi_version or hdr_len */
	KMESH_RT_E_LENGTH		= 7,	/* total_len is not the blob length */
	KMESH_RT_E_FLAGS		= 8,	/* unknown flag bits */
	KMESH_RT_E_RESERVED		= 9,	/* reserved or unused field not zero */
	KMESH_RT_E_SECT_ALIGN		= 10,	/* section offset not 4-byte aligned */
	KMESH_RT_E_SECT_BOUNDS		= 11,	/* section ends past the blob */
	KMESH_RT_E_SECT_OVERLAP		= 12,	/* section starts before the previous ends */
	KMESH_RT_E_SECT_GAP		= 13,	/* slack between or after sections */
	KMESH_RT_E_NO_HOSTS		= 14,
	KMESH_RT_E_TOO_MANY_HOSTS	= 15,
	KMESH_RT_E_NO_ROUTES		= 16,
	KMESH_RT_E_TOO_MANY_ROUTES	= 17,
	KMESH_RT_E_STR_BOUNDS		= 18,	/* string past the strings section */
	KMESH_RT_E_STR_EMPTY		= 19,	/* empty string where one is required */
	KMESH_RT_E_STR_TOO_LONG		= 20,
	KMESH_RT_E_BAD_HOST		= 21,	/* host name syntax */
	KMESH_RT_E_NO_MATCH		= 22,	/* ordered route without match blocks */
	KMESH_RT_E_DEFAULT_MATCH	= 23,	/* default route with match blocks */
	KMESH_RT_E_TOO_MANY_BLOCKS	= 24,
	KMESH_RT_E_BLOCK_LINK		= 25,	/* blocks not contiguous in route order */
	KMESH_RT_E_BLOCK_BOUNDS		= 26,	/* block index past the section */
	KMESH_RT_E_EMPTY_BLOCK		= 27,	/* match block without conditions */
	KMESH_RT_E_TOO_MANY_CONDS	= 28,	/* in one match block */
	KMESH_RT_E_TABLE_CONDS		= 29,	/* over KMESH_RT_MAX_TABLE_CONDS in all */
	KMESH_RT_E_COND_LINK		= 30,	/* conds not contiguous in block order */
	KMESH_RT_E_COND_BOUNDS		= 31,	/* cond index past the section */
	KMESH_RT_E_COND_KIND		= 32,	/* unknown match kind */
	KMESH_RT_E_COND_FLAGS		= 33,	/* flag not valid for the kind */
	KMESH_RT_E_BAD_PATH		= 34,	/* path pattern syntax */
	KMESH_RT_E_BAD_TEMPLATE		= 35,	/* path template syntax */
	KMESH_RT_E_BAD_NAME		= 36,	/* header or query name syntax */
	KMESH_RT_E_BAD_VALUE		= 37,	/* value no request can carry */
	KMESH_RT_E_METHODS		= 38,	/* empty or unknown method bits */
	KMESH_RT_E_TOO_MANY_SCANS	= 39,	/* over KMESH_RT_MAX_SCAN_CONDS */
	KMESH_RT_E_ACTION		= 40,	/* unknown action */
	KMESH_RT_E_NO_CLUSTERS		= 41,	/* A_ROUTE without clusters */
	KMESH_RT_E_TOO_MANY_CLUSTERS	= 42,
	KMESH_RT_E_CLUSTER_LINK		= 43,	/* clusters not contiguous in route order */
	KMESH_RT_E_CLUSTER_BOUNDS	= 44,	/* cluster index past the section */
	KMESH_RT_E_WEIGHT		= 45,	/* split weights sum to 0 or over 2^32-1 */
	KMESH_RT_E_STATUS		= 46,	/* status out of range for the action */
	KMESH_RT_E_BODY_TOO_LONG	= 47,
	KMESH_RT_E_UNREFERENCED		= 48,	/* records no route uses */
	/* Match-time errors: the request, not the table. */
	KMESH_RT_E_REQ_STATUS		= 49,	/* request head not parsed OK */
	KMESH_RT_E_REQ_CORRUPT		= 50,	/* span outside the head, field out of range */
	KMESH_RT_E_MAX,				/* number of codes, not a code */
};

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

/* ---- L4 data plane (bpf/l4_*.bpf.c, userspace/lib/l4_*.c) ---- */

/*
 * Addresses are 16 bytes in network byte order everywhere: IPv6 as is,
 * IPv4 as v4-mapped (::ffff:a.b.c.d), so one key type serves both families.
 * Ports are in host byte order in every struct below.
 */
#define KMESH_NAME_MAX			64	/* service/cluster name, NUL included */
#define KMESH_L4_MAX_SERVICES		1024	/* service ids */
#define KMESH_L4_MAX_VIPS		4096	/* VIP:port entries per generation */
#define KMESH_L4_MAX_CLUSTERS		1024	/* cluster ids */
#define KMESH_L4_MAX_ENDPOINTS		8192	/* endpoint ids, and per generation */
#define KMESH_L4_MAX_CLUSTER_ENDPOINTS	256	/* endpoints in one cluster */
#define KMESH_L4_MAX_MAGLEV_CLUSTERS	256	/* maglev clusters per generation */
/*
 * Prime, about 64 slots per endpoint at the cluster maximum: keeps maglev's
 * imbalance small while one table stays 32 KiB.
 */
#define KMESH_L4_MAGLEV_SIZE		16381
#define KMESH_L4_MAX_WEIGHT		65535
#define KMESH_L4_MAX_LOCAL_SOCKS	65536	/* sockets in the sockhash */
#define KMESH_L4_LOG_BYTES		(256 * 1024)	/* access-log ring buffer */
#define KMESH_L4_SLOTS			2	/* generation slots */

#define KMESH_PROTO_TCP			6	/* IPPROTO_TCP */

/* Load-balancing policies (kmesh_cluster.lb). */
enum kmesh_lb {
	KMESH_LB_RANDOM		= 0,	/* uniform over healthy endpoints */
	KMESH_LB_WEIGHTED	= 1,	/* random, proportional to weight */
	KMESH_LB_ROUND_ROBIN	= 2,	/* strict rotation, weights ignored */
	KMESH_LB_MAGLEV		= 3,	/* consistent hash of the source (weighted) */
};

/* kmesh_cluster.flags */
#define KMESH_CLUSTER_F_HASH_SRC_PORT	(1U << 0)	/* maglev key adds the source port */

enum kmesh_ep_state {
	KMESH_EP_HEALTHY	= 0,
	KMESH_EP_DRAINING	= 1,	/* no new connections, existing ones continue */
};

/* kmesh_service.flags */
#define KMESH_SVC_F_HTTP	(1U << 0)	/* port declared http: L7 may take over */

/*
 * Config generations: every config map below is an ARRAY_OF_MAPS with
 * KMESH_L4_SLOTS slots; this one-element array says which slot is live.
 * Userspace fills the other slot, then rewrites this value; BPF reads it
 * once per program run. generation 0 means no config was ever applied.
 */
struct kmesh_l4_generation {
	__u64 generation;
	__u32 slot;		/* 0 .. KMESH_L4_SLOTS - 1 */
	__u32 reserved;
};

/* services: VIP:port -> service. */
struct kmesh_service_key {
	__u32 addr[4];
	__u16 port;
	__u8 protocol;		/* KMESH_PROTO_TCP */
	__u8 pad;
};

struct kmesh_service {
	__u32 service_id;	/* stable across generations (counters) */
	__u32 cluster_id;	/* stable; L7 routes name clusters by id too */
	__u32 flags;		/* KMESH_SVC_F_* */
	__u32 route_table_id;	/* L7 route table, 0: none (reserved for L7) */
};

/* clusters: cluster_id -> cluster. */
struct kmesh_cluster {
	__u32 cluster_id;
	__u8 lb;		/* enum kmesh_lb */
	__u8 flags;		/* KMESH_CLUSTER_F_* */
	__u16 nr_endpoints;	/* all endpoints, healthy ones first */
	__u16 nr_healthy;	/* endpoints [0, nr_healthy) take new connections */
	__u16 reserved;
	__u32 max_connections;	/* active connections allowed, 0: unlimited */
	__u32 total_weight;	/* sum of the healthy endpoints' weights */
	/* cum_weight[i]: weights of healthy endpoints 0..i summed. */
	__u32 cum_weight[KMESH_L4_MAX_CLUSTER_ENDPOINTS];
};

/* endpoints: (cluster_id, index) -> endpoint. */
struct kmesh_endpoint_key {
	__u32 cluster_id;
	__u32 index;		/* 0 .. nr_endpoints - 1 */
};

struct kmesh_endpoint {
	__u32 addr[4];
	__u16 port;		/* 0: the port the client dialed */
	__u16 weight;		/* 1 .. KMESH_L4_MAX_WEIGHT */
	__u8 state;		/* enum kmesh_ep_state */
	__u8 pad[3];
	__u32 endpoint_id;	/* stable across generations (counters) */
};

/* maglev: cluster_id -> lookup table of healthy endpoint indexes. */
struct kmesh_maglev {
	__u16 index[KMESH_L4_MAGLEV_SIZE];
	__u16 pad;
};

/* Outside generations, by cluster id: what the breaker and RR share. */
struct kmesh_cluster_state {
	__s64 active;		/* connections counted against max_connections */
	__u64 rr_next;		/* round-robin cursor */
};

/*
 * Per-service, per-cluster and per-endpoint counters (per-CPU hashes keyed
 * by the stable id; userspace sums the CPUs). Not every field applies to
 * every kind: refusals are counted for services and clusters only.
 */
struct kmesh_l4_stats {
	__u64 connects;		/* connects sent to an endpoint */
	__u64 refused_overflow;	/* refused: cluster at max_connections */
	__u64 refused_no_endpoint; /* refused: no healthy endpoint */
	__u64 connect_failed;	/* sent to an endpoint, never established */
	__u64 closed;		/* established connections closed */
	__u64 redirected;	/* of those, carried socket to socket */
	__u64 bytes_sent;	/* client to endpoint */
	__u64 bytes_received;	/* endpoint to client */
	__u64 duration_ns;	/* summed over closed connections */
	__u64 retransmits;
};

/* Node-wide counters (per-CPU array indexed by this enum). */
enum kmesh_l4_global {
	KMESH_L4_G_PASSTHROUGH	= 0,	/* TCP connects to no service address */
	KMESH_L4_G_NO_CONFIG	= 1,	/* connects before any apply */
	KMESH_L4_G_FAMILY	= 2,	/* IPv4 connect, IPv6 endpoint: passed */
	KMESH_L4_G_NO_STORAGE	= 3,	/* socket storage allocation failed */
	KMESH_L4_G_SOCKHASH	= 4,	/* sockhash insert failed */
	KMESH_L4_G_LOG_DROPPED	= 5,	/* access-log ring buffer full */
	KMESH_L4_G_REDIRECT_MSGS = 6,	/* sk_msg messages redirected */
	KMESH_L4_G_REDIRECT_BYTES = 7,
	KMESH_L4_G_MAX,
};

/* Id registry (userspace only, pinned): object identity -> stable id. */
enum kmesh_l4_kind {
	KMESH_L4_KIND_SERVICE	= 1,
	KMESH_L4_KIND_CLUSTER	= 2,
	KMESH_L4_KIND_ENDPOINT	= 3,
};

struct kmesh_l4_id_key {
	__u32 kind;		/* enum kmesh_l4_kind */
	/* service or cluster name; endpoint: "cluster/address:port" */
	char name[124];
};

struct kmesh_l4_id {
	__u32 id;		/* 1 .. max of its kind; 0 is never used */
	__u32 reserved;
	__u64 generation;	/* last generation that used it */
};

/* Per-socket state (socket storage), set on a connect to a service. */
#define KMESH_SK_F_SERVICE	(1U << 0)	/* connect was rewritten */
#define KMESH_SK_F_COUNTED	(1U << 1)	/* holds a cluster active slot */
#define KMESH_SK_F_ESTABLISHED	(1U << 2)
#define KMESH_SK_F_LOCAL	(1U << 3)	/* in the sockhash */
#define KMESH_SK_F_EP_LOCAL	(1U << 4)	/* http: the endpoint listens on this node */

enum kmesh_redir {
	KMESH_REDIR_UNDECIDED	= 0,	/* decided on the first message */
	KMESH_REDIR_NO		= 1,	/* peer not local: TCP all along */
	KMESH_REDIR_YES		= 2,	/* every message goes to the peer socket */
};

/* Sockhash key: the socket's own 4-tuple. netns only for loopback peers. */
struct kmesh_sock_key {
	__u32 local[4];
	__u32 remote[4];
	__u16 local_port;
	__u16 remote_port;
	__u32 pad;
	__u64 netns;		/* netns cookie for loopback, else 0 */
};

struct kmesh_sk_state {
	__u32 svc_addr[4];	/* what the client dialed */
	__u16 svc_port;
	__u8 redir;		/* enum kmesh_redir */
	__u8 pad;
	__u32 flags;		/* KMESH_SK_F_* */
	__u32 service_id;
	__u32 cluster_id;
	__u32 endpoint_id;
	__u32 reserved;
	__u64 generation;	/* that routed the connect */
	__u64 start_ns;		/* connect, CLOCK_MONOTONIC */
	__u64 tx_redir;		/* bytes sent by redirect */
	struct kmesh_sock_key peer;	/* redirect target */
};

/* Local sockets (sockhash peers): bytes redirected into each. */
struct kmesh_local_sock {
	__u64 rx_redir;
};

/* Access log: one record per service connection, at close. */
enum kmesh_conn_result {
	KMESH_CONN_CLOSED	= 0,	/* established, then closed */
	KMESH_CONN_FAILED	= 1,	/* never established */
};

#define KMESH_LOG_F_REDIRECTED	(1U << 0)

struct kmesh_access_log {
	__u64 timestamp_ns;	/* close, CLOCK_MONOTONIC */
	__u64 duration_ns;	/* from connect */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 generation;
	__u32 service_addr[4];
	__u32 source_addr[4];
	__u32 endpoint_addr[4];
	__u16 service_port;
	__u16 source_port;
	__u16 endpoint_port;
	__u8 result;		/* enum kmesh_conn_result */
	__u8 flags;		/* KMESH_LOG_F_* */
	__u32 service_id;
	__u32 cluster_id;
	__u32 endpoint_id;
	__u32 srtt_us;
	__u32 retransmits;
	__u32 reserved;
};

/* ---- L7 policy (bpf/l7_*.bpf.c, bpf/include/l7_*.h, userspace/lib/l7_*.c) ---- */

/*
 * Per-request work on established meshed connections, in the sk_msg
 * program: every request head of an http port is parsed, checked against
 * the service's authorization rules (and routes), counted, and answered
 * or dropped when refused; responses of local servers are matched to
 * their requests for status classes and latency. Userspace compiles the
 * config (userspace/lib/l7_build.h) into one struct kmesh_l7_policy per
 * service and one LPM trie of source/destination CIDRs, both per
 * generation slot like the L4 maps. The same form is evaluated in kfunc
 * and fallback mode; only parsing (and, in kfunc mode, route matching,
 * which then uses the module's route table) differs.
 */
#define KMESH_L7_MAX_HEAD		8192	/* largest head kmesh can police */
#define KMESH_L7_MAX_RULES		64	/* routes + authorization rules, per service */
#define KMESH_L7_MAX_BLOCKS		64	/* match blocks (OR), per service */
#define KMESH_L7_MAX_CONDS		64	/* conditions (AND), per service */
#define KMESH_L7_MAX_ITEMS		128	/* condition values (OR), per service */
#define KMESH_L7_MAX_HDRS		8	/* header names conditions look at */
#define KMESH_L7_MAX_TSEGS		64	/* path template segments, per service */
#define KMESH_L7_TEMPLATE_SEGS		16	/* segments of one path template */
#define KMESH_L7_STR_BYTES		8192	/* strings of one service */
#define KMESH_L7_STR_MAX		256	/* one compared string */
#define KMESH_L7_HDR_NAME		64	/* header name */
#define KMESH_L7_HDR_VALUE		256	/* joined header value bytes kept */
#define KMESH_L7_MAX_HOST		255
#define KMESH_L7_PATH_SEGS		(KMESH_L7_TEMPLATE_SEGS + 1)
#define KMESH_L7_QUERY_PARAMS		32	/* query parameters looked at */
#define KMESH_L7_MAX_RESP		2048	/* a local reply (deny, direct response) */
#define KMESH_L7_MAX_CIDR_SETS		64	/* CIDR lists, per service */
#define KMESH_L7_MAX_CIDRS		16384	/* LPM entries per generation */
#define KMESH_L7_MAX_STATS		65536	/* (service, route, method) counters */
#define KMESH_L7_MAX_NAMES		16384	/* route and policy names */
#define KMESH_L7_LAT_BUCKETS		24	/* log2 latency: < 1us .. < 4.2s, +Inf */
#define KMESH_L7_LOG_PATH		64	/* path bytes kept in the access log */
#define KMESH_L7_LOG_BYTES		(256 * 1024)	/* request-log ring buffer */
#define KMESH_L7_FIFO			8	/* requests awaiting a response */

/* Condition value kinds (kmesh_l7_item.kind); 0 is invalid. */
enum kmesh_l7_item_kind {
	KMESH_L7_I_TRUE		= 1,	/* always holds */
	KMESH_L7_I_METHOD	= 2,	/* arg: KMESH_RT_METHOD_BIT()s */
	KMESH_L7_I_PATH_EXACT	= 3,	/* str == path */
	KMESH_L7_I_PATH_PREFIX	= 4,	/* str starts path; KMESH_L7_IF_SEGMENT */
	KMESH_L7_I_PATH_SUFFIX	= 5,	/* str ends path */
	KMESH_L7_I_PATH_TEMPLATE = 6,	/* arg: first tsegs[], len: how many */
	KMESH_L7_I_HOST_EXACT	= 7,	/* str (lower-case) == host */
	KMESH_L7_I_HOST_PREFIX	= 8,	/* str starts host */
	KMESH_L7_I_HOST_SUFFIX	= 9,	/* str ends host; KMESH_L7_IF_LONGER */
	KMESH_L7_I_HDR_EXACT	= 10,	/* hdr: slot; joined values == str */
	KMESH_L7_I_HDR_PREFIX	= 11,
	KMESH_L7_I_HDR_SUFFIX	= 12,
	KMESH_L7_I_HDR_PRESENT	= 13,
	KMESH_L7_I_QUERY_EXACT	= 14,	/* str: name; arg: value off << 16 | len */
	KMESH_L7_I_SRC_SET	= 15,	/* arg: CIDR set bit of the source address */
	KMESH_L7_I_DST_SET	= 16,	/* arg: CIDR set bit of the endpoint address */
	KMESH_L7_I_PORT		= 17,	/* arg: service port the client dialed */
	KMESH_L7_I_MAX,
};

/* kmesh_l7_item.flags */
#define KMESH_L7_IF_SEGMENT	(1U << 0)	/* PATH_PREFIX ends at a segment */
#define KMESH_L7_IF_LONGER	(1U << 1)	/* HOST_SUFFIX: host longer than str */
#define KMESH_L7_IF_ROUTE	(1U << 2)	/* used by routes only (fallback) */

/* One value of a condition: the condition holds when any of its items does. */
struct kmesh_l7_item {
	__u8 kind;		/* enum kmesh_l7_item_kind */
	__u8 cond;		/* index of its condition */
	__u8 hdr;		/* header slot (HDR_*) */
	__u8 flags;		/* KMESH_L7_IF_* */
	__u16 off;		/* string at strings[off, off + len) */
	__u16 len;
	__u32 arg;
};

/* One literal or wildcard segment of a path template. */
enum kmesh_l7_tseg_kind {
	KMESH_L7_TS_LIT		= 0,	/* these bytes */
	KMESH_L7_TS_ONE		= 1,	/* one non-empty segment */
	KMESH_L7_TS_REST	= 2,	/* the rest of the path, even nothing */
};

struct kmesh_l7_tseg {
	__u8 kind;		/* enum kmesh_l7_tseg_kind */
	__u8 pad;
	__u16 len;
	__u16 off;		/* LIT: bytes at strings[off, off + len) */
	__u16 pad2;
};

/* Rule kinds (kmesh_l7_rule.kind): ordered routes first, then policies. */
enum kmesh_l7_rule_kind {
	KMESH_L7_RK_ROUTE	= 1,
	KMESH_L7_RK_ALLOW	= 2,
	KMESH_L7_RK_DENY	= 3,
};

/* A route or an authorization rule: holds when any of its blocks does. */
struct kmesh_l7_rule {
	__u64 blocks;		/* bit i: blocks[i] */
	__u32 id;		/* route id, or policy id */
	__u8 kind;		/* enum kmesh_l7_rule_kind */
	__u8 action;		/* routes: enum kmesh_rt_action */
	__u16 index;		/* policies: the rule's index in the policy */
	/* DENY and DIRECT routes: the reply at strings[resp_off...]: its
	 * head without the blank line, then "\r\n" and the body. */
	__u16 resp_off;
	__u16 resp_head;	/* bytes of the head part */
	__u16 resp_len;		/* bytes in all */
	__u16 status;
};

/* kmesh_l7_policy.flags */
#define KMESH_L7_PF_HAS_ALLOW	(1U << 0)	/* an ALLOW policy exists */
#define KMESH_L7_PF_HAS_ROUTES	(1U << 1)	/* routes: unmatched requests get 404 */
#define KMESH_L7_PF_DEFAULT	(1U << 2)	/* dflt holds a default route */
#define KMESH_L7_PF_VHOST_ANY	(1U << 3)	/* routes take every host */
#define KMESH_L7_PF_TEMPLATES	(1U << 4)	/* items need path segments */
#define KMESH_L7_PF_QUERY	(1U << 5)	/* items need query parameters */
#define KMESH_L7_PF_SRC_SETS	(1U << 6)	/* items need the source's CIDR sets */
#define KMESH_L7_PF_DST_SETS	(1U << 7)	/* items need the endpoint's CIDR sets */
#define KMESH_L7_PF_REFUSE_OTHER_CLUSTER (1U << 8)	/* such requests get 421 */
#define KMESH_L7_PF_FAIL_OPEN	(1U << 9)	/* pass what cannot be checked */

/*
 * The compiled L7 config of one service (per generation: inner map keyed
 * by service id). A condition holds when any of its items holds (or, in
 * neg_conds, when none does); a block when all conditions in its mask
 * hold; a rule when any block in its mask holds. Items of authorization
 * conditions come first: kfunc mode, which routes with the module's
 * table, evaluates only those (nr_authz_items).
 */
struct kmesh_l7_policy {
	__u32 service_id;
	__u32 flags;		/* KMESH_L7_PF_* */
	__u8 nr_rules;
	__u8 nr_routes;		/* rules [0, nr_routes) are the ordered routes */
	__u8 nr_blocks;
	__u8 nr_conds;
	__u8 nr_items;
	__u8 nr_authz_items;
	__u8 nr_hdrs;
	__u8 vhost_cond;	/* condition "host is one of the routes' hosts" */
	__u64 neg_conds;
	__u64 block_conds[KMESH_L7_MAX_BLOCKS];
	struct kmesh_l7_rule dflt;	/* with KMESH_L7_PF_DEFAULT */
	struct kmesh_l7_rule rules[KMESH_L7_MAX_RULES];
	struct kmesh_l7_item items[KMESH_L7_MAX_ITEMS];
	struct kmesh_l7_tseg tsegs[KMESH_L7_MAX_TSEGS];
	__u8 hdr_len[KMESH_L7_MAX_HDRS];
	char hdr_name[KMESH_L7_MAX_HDRS][KMESH_L7_HDR_NAME];	/* lower-case */
	/* The authorization deny reply (403), same layout as a rule's. */
	__u16 deny_off;
	__u16 deny_head;
	__u16 deny_len;
	__u16 pad;
	__u8 strings[KMESH_L7_STR_BYTES];
};

/* CIDR sets: LPM trie per generation; value: bitmask of the sets. */
enum kmesh_l7_dir {
	KMESH_L7_DIR_SRC	= 0,	/* the client's address */
	KMESH_L7_DIR_DST	= 1,	/* the endpoint's address */
};

struct kmesh_l7_cidr_key {
	__u32 prefixlen;	/* 64 + bits of addr */
	__u32 service_id;	/* network byte order: matched in full */
	__u32 dir;		/* enum kmesh_l7_dir, network byte order */
	__u32 addr[4];		/* as everywhere: IPv4 v4-mapped */
};

/* Why a request was refused, or KMESH_L7_R_ALLOW. Values are fixed. */
enum kmesh_l7_reason {
	KMESH_L7_R_ALLOW	= 0,
	KMESH_L7_R_DENY_POLICY	= 1,	/* a DENY rule matched (403) */
	KMESH_L7_R_NO_ALLOW	= 2,	/* ALLOW policies exist, none matched (403) */
	KMESH_L7_R_ROUTE_DENY	= 3,	/* the route's action is deny */
	KMESH_L7_R_DIRECT	= 4,	/* the route answers directly */
	KMESH_L7_R_NO_ROUTE	= 5,	/* routes exist, none takes it (404) */
	KMESH_L7_R_BAD_REQUEST	= 6,	/* head not valid HTTP/1.x (400) */
	KMESH_L7_R_TOO_LARGE	= 7,	/* head over KMESH_L7_MAX_HEAD (431) */
	KMESH_L7_R_BAD_BODY	= 8,	/* chunked framing broken */
	KMESH_L7_R_UNDECIDABLE	= 9,	/* a condition could not be evaluated */
	KMESH_L7_R_CLOSED	= 10,	/* sending after a refusal */
	KMESH_L7_R_OTHER_CLUSTER = 11,	/* kept-alive connection, route elsewhere (421) */
	KMESH_L7_R_NO_ENDPOINT	= 12,	/* deferred connect: no endpoint to take it (503) */
	KMESH_L7_R_MAX,
};

/* Per-route counters (per-CPU hash; userspace sums the CPUs). */
struct kmesh_l7_stats_key {
	__u32 service_id;
	__u32 route_id;		/* 0: no route (service without routes, refused early) */
	__u8 method;		/* enum kmesh_http_method */
	__u8 pad[3];
};

struct kmesh_l7_stats {
	__u64 allowed;		/* requests passed to the server */
	__u64 denied;		/* refused by authorization, framing or routes */
	__u64 direct;		/* answered by a direct-response route */
	__u64 status[5];	/* responses seen: 1xx (101 only) .. 5xx */
	__u64 latency_ns;	/* summed over responses seen */
	/* bucket i < KMESH_L7_LAT_BUCKETS - 1: latency < 2^i us, else +Inf */
	__u64 latency[KMESH_L7_LAT_BUCKETS];
	/* requests whose route sends them to another cluster than the one
	 * their kept-alive connection is open to (kfunc mode) */
	__u64 other_cluster;
};

/* Node-wide L7 counters (per-CPU array indexed by this enum). */
enum kmesh_l7_global {
	KMESH_L7_G_REQUESTS	= 0,	/* request heads checked */
	KMESH_L7_G_DENIED	= 1,
	KMESH_L7_G_REPLIED	= 2,	/* refusals answered with a response */
	KMESH_L7_G_DROPPED	= 3,	/* refusals answered by dropping (EACCES) */
	KMESH_L7_G_CORKED	= 4,	/* messages held for the rest of a head */
	KMESH_L7_G_RESPONSES	= 5,	/* responses matched to requests */
	KMESH_L7_G_UNTRACKED	= 6,	/* requests whose response kmesh cannot see */
	KMESH_L7_G_FIFO_FULL	= 7,	/* pipelined beyond KMESH_L7_FIFO */
	KMESH_L7_G_RESP_ERROR	= 8,	/* response tracking gave up on a connection */
	KMESH_L7_G_SCRATCH_BUSY	= 9,	/* no per-CPU scratch (fails closed) */
	KMESH_L7_G_LOG_DROPPED	= 10,	/* request-log ring buffer full */
	KMESH_L7_G_INTERNAL	= 11,	/* fail-closed drops no policy decided:
					   storage, pull or redirect failures */
	KMESH_L7_G_UNCHECKED	= 12,	/* passed unchecked (failure_mode_allow) */
	KMESH_L7_G_TUNNELS	= 13,	/* CONNECT answered 2xx: a tunnel from there */
	KMESH_L7_G_MAX,
};

/* Names of routes and policies, for stats and logs (userspace only). */
enum kmesh_l7_name_kind {
	KMESH_L7_NAME_ROUTE	= 1,
	KMESH_L7_NAME_POLICY	= 2,
};

struct kmesh_l7_name_key {
	__u32 kind;		/* enum kmesh_l7_name_kind */
	__u32 service_id;
	__u32 id;
};

struct kmesh_l7_name {
	char name[KMESH_NAME_MAX];
};

/* Request log: one record per request, when its fate is known. */
#define KMESH_L7_LOG_F_TRACKED	(1U << 0)	/* status and latency are real */
#define KMESH_L7_LOG_F_REPLIED	(1U << 1)	/* kmesh answered (status is kmesh's) */

struct kmesh_l7_log {
	__u64 timestamp_ns;	/* CLOCK_MONOTONIC */
	__u64 latency_ns;	/* request head to response head, if tracked */
	__u32 source_addr[4];
	__u32 service_addr[4];
	__u16 source_port;
	__u16 service_port;
	__u32 service_id;
	__u32 route_id;
	__u32 policy_id;	/* DENY_POLICY: the policy that matched */
	__u16 status;		/* response status, 0: none seen */
	__u8 method;		/* enum kmesh_http_method */
	__u8 reason;		/* enum kmesh_l7_reason */
	__u8 flags;		/* KMESH_L7_LOG_F_* */
	__u8 path_len;		/* bytes in path (truncated) */
	__u16 pad;
	__u32 cluster_id;	/* where the connection went, 0: not yet */
	__u32 endpoint_id;
	char path[KMESH_L7_LOG_PATH];
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

/* ---- Route lookup through the kfunc ---- */

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

#ifdef __bpf__
/*
 * Weak: the L4 object carries the kfunc-mode connect programs beside the
 * plain ones and must still open where the module is absent; only the
 * programs that are loaded need these resolved.
 */
struct bpf_sock_addr;
extern int bpf_kmesh_defer_connect(struct bpf_sock_addr *ctx) __ksym __weak;
extern int bpf_kmesh_deferred_route(struct bpf_sock_addr *ctx,
				    struct kmesh_route_query *query) __ksym __weak;
extern int bpf_kmesh_deferred_reply(struct bpf_sock_addr *ctx,
				    __u32 status) __ksym __weak;
#endif

#ifdef __bpf__
/*
 * The module's kfuncs as BPF programs see them (include after
 * <bpf/bpf_helpers.h>); defined and documented in kmod/kfuncs.c. Result
 * structs that hold arrays of structs are passed as void * with a size,
 * the only form the 6.1 verifier accepts for them.
 */
extern int bpf_kmesh_get_caps(struct kmesh_caps *caps, __u32 caps__sz) __ksym;
/*
 * Weak: an object holding programs that call them still loads without the
 * module, as long as those programs are not loaded (kmesh_sk_msg_l7 in the
 * L4 object is loaded only in kfunc mode).
 */
extern int bpf_kmesh_http_parse(void *req, __u32 req__sz, const void *buf,
				__u32 buf__sz) __ksym __weak;
extern int bpf_kmesh_msg_parse(struct sk_msg_md *md, void *req,
			       __u32 req__sz) __ksym __weak;
extern int bpf_kmesh_route_match(const void *req, __u32 req__sz,
				 const void *head, __u32 head__sz,
				 struct kmesh_route_query *query) __ksym __weak;
extern int bpf_kmesh_chunk_scan(void *st, __u32 st__sz, const void *buf,
				__u32 buf__sz) __ksym __weak;
extern int bpf_kmesh_msg_chunks(struct sk_msg_md *md, __u32 off, void *st,
				__u32 st__sz) __ksym __weak;
#endif

#endif /* KMESH_ABI_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kmesh device interface: the boundary between the kernel module and
 * userspace. The ioctls of /dev/kmesh and the route table blob userspace
 * compiles (userspace/lib/route_build.c) and hands over through them,
 * which the module validates and matches in place (kmod/core/route.c).
 * BPF programs never see a blob: they reach a table by id through
 * bpf_kmesh_route_match() (kmesh_kfunc.h).
 *
 * Included by the module (kmod/table.c, kmod/core/route.h), by userspace
 * (userspace/lib/route_*.c, kmeshctl, selftests, fuzzers: C11), and by the
 * eBPF fallback for the route action numbers it shares with the blob
 * (bpf/include/l7_eval.h).
 * Layouts use fixed-width types only, naturally aligned, no pointers.
 */
#ifndef KMESH_DEV_H
#define KMESH_DEV_H

#include "kmesh_kfunc.h"

/*
 * Version of the device interface (the ioctls and the route table blob),
 * bumped whenever either changes incompatibly; selftests/unit/abi_layout.txt
 * records their layouts under it (the unit test test_abi checks). Every blob
 * carries it (kmesh_rt_table.abi_version): the module refuses another
 * (KMESH_RT_E_VERSION). The module reports it in
 * /sys/module/kmesh/caps/dev_abi_version; kmeshctl refuses a module of
 * another version before it touches /dev/kmesh.
 *  1: first release (unchanged since).
 */
#define KMESH_DEV_ABI_VERSION	1

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
	__u16 abi_version;	/* KMESH_DEV_ABI_VERSION */
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

/* The kfunc return ranges (kmesh_kfunc.h) hold every code and never meet. */
_Static_assert(KMESH_HTTP_STATUS_MAX <= KMESH_KFUNC_OUTCOME_MAX,
	       "parser verdicts fit the kfunc outcome range");
_Static_assert(KMESH_CHUNK_STATUS_MAX <= KMESH_KFUNC_OUTCOME_MAX,
	       "chunk verdicts fit the kfunc outcome range");
_Static_assert(KMESH_KFUNC_E_ROUTE > KMESH_KFUNC_ERRNO_MAX,
	       "route errors start below every -errno");
_Static_assert(KMESH_RT_E_MAX < 0x7fffffff - KMESH_KFUNC_E_ROUTE,
	       "route errors stay within int");

#endif /* KMESH_DEV_H */

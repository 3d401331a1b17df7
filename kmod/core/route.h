/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * L7 route matcher: a compiled route table (layout in kmesh_dev.h, built
 * by userspace/lib/route_build.h) is validated once, then matched against
 * parsed request heads in place, without allocation and in bounded time,
 * so that kmesh_route_match() is safe in softirq context.
 *
 * Semantics, in Istio VirtualService terms:
 *  - Hosts: exact names, "*.suffix" (one or more labels before the
 *    suffix, not the bare suffix) and "*" (any host, even none). Compared
 *    case-insensitively with the request's routing host (port already
 *    stripped by the parser); one trailing dot of the request host is
 *    ignored. No host matches: KMESH_RT_V_NO_VHOST.
 *  - Routes are tried in order, the first one with a matching block wins;
 *    a block matches when all its conditions hold. No route matches: the
 *    default route if there is one (verdict flag KMESH_RT_VF_DEFAULT),
 *    else KMESH_RT_V_NO_ROUTE.
 *  - Paths are matched as sent: no percent-decoding, no dot-segment
 *    removal, no slash merging; the parser refuses paths a server would
 *    resolve differently (E_PATH_NOT_CANONICAL). The query is never part
 *    of the path. Absolute-form
 *    without a path is "/"; authority-form (CONNECT) and asterisk-form
 *    (OPTIONS *) have no path, so every path condition fails for them.
 *  - PATH_PREFIX is a byte prefix (Istio "prefix"); with KMESH_RT_CF_SEGMENT
 *    it must end at a segment boundary (Envoy path_separated_prefix):
 *    "/api" matches "/api", "/api/", "/api/x" and "/api?q", not "/apix".
 *  - PATH_TEMPLATE (chosen over globs because it matches in one linear
 *    pass, without backtracking): '/'-separated segments, each one of
 *      literal              the same bytes, case-sensitive
 *      {name} {name=*} *    exactly one non-empty segment
 *      {name=**} **         the rest of the path, zero or more
 *                           segments; only as the last segment
 *    "/users/{id}/orders" matches "/users/42/orders" but neither
 *    "/users//orders" nor "/users/42/orders/"; "/static/{f=**}"
 *    matches "/static", "/static/" and "/static/a/b". Names are only
 *    documentation (nothing is captured). A literal segment cannot hold
 *    '*', '{' or '}'.
 *  - METHOD: bit KMESH_RT_METHOD_BIT(method) of the set; any method token
 *    the parser does not know is KMESH_HTTP_M_OTHER.
 *  - Headers: names case-insensitive, values case-sensitive. Like Envoy,
 *    several lines with the same name are matched as their values joined
 *    with ',' in order ("a: 1" + "a: 2" is "1,2"). PRESENT and ABSENT look
 *    at the name only; EXACT and PREFIX need the header present (PREFIX
 *    "" is PRESENT).
 *  - QUERY_EXACT: the query is split at '&'; a parameter is name=value or
 *    a bare name, whose value is empty ("?debug" equals "?debug="). The
 *    first parameter with the name decides (as in Envoy); names and values
 *    are compared as sent: '+' and %XX are not decoded, so "a%20b" matches
 *    only the pattern "a%20b". Empty parameters ("&&") are skipped.
 *  - Weighted split: the caller passes a uniformly random @rand; entry i
 *    is picked when ((u64)rand * total_weight) >> 32 falls in its share,
 *    so entries get exactly weight/total of the 2^32 rand values (to
 *    within one value) and zero weights are never picked. The choice is
 *    made here so that BPF need not walk the split.
 *
 * Worst case of one match, at the limits of kmesh_dev.h (byte steps,
 * roughly): hosts 64 x 255 = 16 K; then at most 1024 conditions, of which
 * a header one scans 32 header names of up to 64 bytes plus up to 256
 * value bytes (~2.3 K) and a path or method one at most 256 bytes; the at
 * most 32 template and query conditions walk the path or the query once
 * each (up to 64 K). About 4.5 M in all: ~1 ms measured (x86-64, -O2) for
 * a 40 KB head against a 1024-condition table built to be slow. A request
 * can only push a table towards that table's own worst case; ten routes
 * with a header condition each take ~0.3 us. Nothing recurses or
 * allocates; stack use is ~600 bytes (x86-64), mostly the request copy.
 */
#ifndef KMESH_ROUTE_H
#define KMESH_ROUTE_H

#include "core.h"
#include "../kmesh_kfunc.h"
#include "../kmesh_dev.h"

/* Largest blob the module accepts (kmod/table.c uses this name). */
#define KMESH_ROUTE_MAX_BLOB	KMESH_RT_MAX_BLOB_BYTES

/*
 * Check every count, offset, length, index and string of the @len bytes
 * at @blob (4-byte aligned). Returns 0, or a negated enum kmesh_rt_err
 * naming the first rule broken. Linear in @len.
 */
int kmesh_route_validate(const void *blob, __u32 len);

/*
 * Match one parsed request against a blob that passed
 * kmesh_route_validate() and has not changed since. @req must hold
 * KMESH_HTTP_OK; its spans index @head[0..head_len). @req may sit in
 * memory a BPF program writes: every field used is read once and checked,
 * so a corrupted @req gives an error, never an access outside @head.
 * @rand picks within a weighted split.
 *
 * Returns 0 with @out filled (kind NO_VHOST, NO_ROUTE, ROUTE, DENY or
 * DIRECT), or a negated enum kmesh_rt_err with @out->kind KMESH_RT_V_NONE:
 * E_INVAL (NULL argument), E_MAGIC (not a table), E_REQ_STATUS,
 * E_REQ_CORRUPT.
 */
int kmesh_route_match(const void *blob, const struct kmesh_http_req *req,
		      const __u8 *head, __u32 head_len, __u32 rand,
		      struct kmesh_route_verdict *out);

/*
 * For a request on a connection already open to @cluster_id: when @v is a
 * ROUTE verdict of @blob whose split gives @cluster_id a non-zero weight,
 * make @cluster_id the verdict's pick (the connection stays where it is,
 * which the split allows) and return true. Return false when the route
 * sends the request to other clusters only, or @v is not a ROUTE verdict
 * of @blob (@v may sit in BPF-writable memory: its indexes are checked).
 */
bool kmesh_route_keeps_cluster(const void *blob, struct kmesh_route_verdict *v,
			       __u32 cluster_id);

/* Short static description of an enum kmesh_rt_err (either sign). */
const char *kmesh_route_strerror(int err);

#endif /* KMESH_ROUTE_H */

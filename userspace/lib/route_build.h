/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Builder of route table blobs (layout in kmesh_dev.h, matching rules in
 * kmod/core/route.h). kmeshctl calls it after parsing an Istio-style
 * VirtualService; every blob it finishes passes kmesh_route_validate().
 *
 *	b = kmesh_rtb_new(vhost_id);
 *	kmesh_rtb_host(b, "reviews.default.svc");
 *	kmesh_rtb_route(b, 1);                    // routes in match order
 *	kmesh_rtb_path_prefix(b, "/api", true);   // match block 0
 *	kmesh_rtb_match(b);                       // OR match block 1
 *	kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT,
 *	                 "x-canary", "1");
 *	kmesh_rtb_cluster(b, 10, 90);             // weighted split
 *	kmesh_rtb_cluster(b, 11, 10);
 *	kmesh_rtb_default_route(b, 99);           // optional
 *	kmesh_rtb_direct(b, 404, "none\n", 5);
 *	if (kmesh_rtb_finish(b, &blob, &len))
 *	        fprintf(stderr, "%s\n", kmesh_rtb_error(b));
 *	kmesh_rtb_free(b);                        // the blob stays: free() it
 *
 * Errors are sticky: the first one is kept with where it happened
 * ("route 3 (id 42), match 1, condition 2 (header exact): ..."), later
 * calls do nothing and return -1, and kmesh_rtb_finish() fails with it.
 * So a compiler may check each call or only the final one.
 *
 * Normalisation: hosts and header names are lower-cased and a host's
 * trailing dot is dropped (both compare case-insensitively); paths,
 * values and query parameters are kept as given. Strings are shared in
 * the blob when one is part of another.
 */
#ifndef KMESH_ROUTE_BUILD_H
#define KMESH_ROUTE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "kmesh_dev.h"

struct kmesh_rtb;

/* NULL only when out of memory. */
struct kmesh_rtb *kmesh_rtb_new(__u32 vhost_id);
void kmesh_rtb_free(struct kmesh_rtb *b);

/* "name", "*.suffix" or "*"; no port (ports are ignored when matching). */
int kmesh_rtb_host(struct kmesh_rtb *b, const char *host);

/* Start the next ordered route; conditions and the action follow. */
int kmesh_rtb_route(struct kmesh_rtb *b, __u32 route_id);
/* Start the default route: no conditions, an action only. At most one. */
int kmesh_rtb_default_route(struct kmesh_rtb *b, __u32 route_id);
/*
 * Start another match block of the current route (OR). The first block
 * opens by itself with the route's first condition.
 */
int kmesh_rtb_match(struct kmesh_rtb *b);

/* Conditions of the current block (AND). */
int kmesh_rtb_path_exact(struct kmesh_rtb *b, const char *path);
int kmesh_rtb_path_prefix(struct kmesh_rtb *b, const char *prefix,
			  bool segment);
int kmesh_rtb_path_template(struct kmesh_rtb *b, const char *tmpl);
/* @mask: KMESH_RT_METHOD_BIT()s, see kmesh_rtb_method_bit(). */
int kmesh_rtb_methods(struct kmesh_rtb *b, __u32 mask);
/* @kind: KMESH_RT_M_HEADER_*; @value NULL for PRESENT and ABSENT. */
int kmesh_rtb_header(struct kmesh_rtb *b, enum kmesh_rt_match kind,
		     const char *name, const char *value);
int kmesh_rtb_query(struct kmesh_rtb *b, const char *name, const char *value);

/* Action of the current route: one or more clusters (a split), or ... */
int kmesh_rtb_cluster(struct kmesh_rtb *b, __u32 cluster_id, __u32 weight);
/* ... deny (400..599), or ... */
int kmesh_rtb_deny(struct kmesh_rtb *b, __u16 status);
/* ... a direct response (200..599, body up to KMESH_RT_MAX_BODY_LEN). */
int kmesh_rtb_direct(struct kmesh_rtb *b, __u16 status, const void *body,
		     size_t len);

/*
 * Lay out the table: *@blob is malloc'd (the caller frees it), *@len its
 * size. Returns 0, or -1 with kmesh_rtb_error() saying why.
 */
int kmesh_rtb_finish(struct kmesh_rtb *b, void **blob, __u32 *len);

/* The first error, or NULL. */
const char *kmesh_rtb_error(const struct kmesh_rtb *b);

/* Bit of a method token for kmesh_rtb_methods() ("PATCH", any other
 * token is OTHER), or 0 if @method is not a token. */
__u32 kmesh_rtb_method_bit(const char *method);

#endif /* KMESH_ROUTE_BUILD_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replies kmesh writes itself (a deny, a direct response, no route),
 * rendered once for the module's deferred-connect path (kmod/defer_ops.c)
 * and for userspace, which stores policy replies in the map the sk_msg
 * program copies them from (userspace/lib/l7_build.c). The layout and the
 * reason phrases are in http_rules.h, where the eBPF built-ins take them.
 */
#ifndef KMESH_REPLY_H
#define KMESH_REPLY_H

#include "core.h"

/* kmesh_http_reply() flags */
#define KMESH_REPLY_F_CLOSE	(1U << 0)	/* add "connection: close" */
#define KMESH_REPLY_F_NO_BODY	(1U << 1)	/* HEAD request: length, no bytes */

/*
 * Render the reply for @status with @body into buf[0..size) (see the
 * layout in http_rules.h). *@head_len (may be NULL) gets the length of
 * the part before "connection: close" / the empty line. Returns the
 * length, or 0 when it does not fit.
 */
__u32 kmesh_http_reply(char *buf, __u32 size, __u16 status, const void *body,
		       __u32 body_len, __u32 flags, __u32 *head_len);

/* "<status> <phrase>\n": the deferred path's default body. Same returns. */
__u32 kmesh_http_reply_default_body(char *buf, __u32 size, __u16 status);

#endif /* KMESH_REPLY_H */

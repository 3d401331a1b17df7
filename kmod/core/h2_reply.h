/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP/2 frames kmesh writes to a client itself (kmod/h2_conn.c): the
 * response on a stream it refused, RST_STREAM, WINDOW_UPDATE. The header
 * blocks use only static-table indexes and literals "without indexing"
 * (RFC 7541 6.1, 6.2.2), so the client's HPACK dynamic table, which only
 * the server's encoder may change, is never touched.
 */
#ifndef KMESH_H2_REPLY_H
#define KMESH_H2_REPLY_H

#include "core.h"

/* kmesh_h2_reply_refused() @how: an HTTP status, maybe with this flag */
#define KMESH_H2_REPLY_GRPC	(1U << 16)
/* The longest refused-stream reply (gRPC, two-digit grpc-status). */
#define KMESH_H2_REPLY_MAX_LEN	96
#define KMESH_H2_RST_FRAME_LEN	13

/*
 * The response on refused stream @id into @b (at least
 * KMESH_H2_REPLY_MAX_LEN bytes): one HEADERS frame with END_HEADERS and
 * END_STREAM holding ":status <status>" (100..599), or with
 * KMESH_H2_REPLY_GRPC a trailers-only gRPC response (:status 200,
 * content-type application/grpc, grpc-status from
 * kmesh_h2_grpc_status_of(status), grpc-message). Returns its length, 0
 * for a status out of range.
 */
__u32 kmesh_h2_reply_refused(__u8 *b, __u32 id, __u32 how);

/* 403 -> 7 PERMISSION_DENIED, 429 -> 8, 404 -> 12, 400/431 -> 13, else 14. */
__u32 kmesh_h2_grpc_status_of(__u32 status);

/* RST_STREAM(@id, @code) and WINDOW_UPDATE(@id, @inc): 13 bytes each. */
__u32 kmesh_h2_frame_rst(__u8 *b, __u32 id, __u32 code);
__u32 kmesh_h2_frame_window_update(__u8 *b, __u32 id, __u32 inc);

#endif /* KMESH_H2_REPLY_H */

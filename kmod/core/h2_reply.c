// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 frames kmesh writes itself; the contract is in h2_reply.h.
 */
#include "h2_reply.h"
#include "h2_frame.h"

static void put_be32(__u8 *b, __u32 v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static void put_frame_header(__u8 *b, __u32 len, __u8 type, __u8 flags,
			     __u32 id)
{
	b[0] = len >> 16;
	b[1] = len >> 8;
	b[2] = len;
	b[3] = type;
	b[4] = flags;
	put_be32(b + 5, id & 0x7fffffff);
}

/* A literal without indexing, new name: 0x00, name, value (each < 128). */
static __u32 put_literal(__u8 *b, const char *name, const char *value)
{
	__u32 n = (__u32)strlen(name), v = (__u32)strlen(value);

	b[0] = 0x00;
	b[1] = (__u8)n;
	memcpy(b + 2, name, n);
	b[2 + n] = (__u8)v;
	memcpy(b + 3 + n, value, v);
	return 3 + n + v;
}

__u32 kmesh_h2_grpc_status_of(__u32 status)
{
	switch (status) {
	case 403:
		return 7;	/* PERMISSION_DENIED */
	case 429:
		return 8;	/* RESOURCE_EXHAUSTED */
	case 404:
		return 12;	/* UNIMPLEMENTED */
	case 400:
	case 431:
		return 13;	/* INTERNAL */
	}
	return 14;		/* UNAVAILABLE */
}

__u32 kmesh_h2_reply_refused(__u8 *b, __u32 id, __u32 how)
{
	static const char ctype[] = "application/grpc";
	__u32 status = how & 0xffff, len = 0, g;
	__u8 *p = b + KMESH_H2_FRAME_HEADER_LEN;
	char num[4];

	if (status < 100 || status > 599 || (how & ~(KMESH_H2_REPLY_GRPC | 0xffff)))
		return 0;
	if (how & KMESH_H2_REPLY_GRPC) {
		p[len++] = 0x88;	/* :status 200, static index 8 */
		/* content-type (index 31), no indexing: 4-bit prefix, 15 + 16 */
		p[len++] = 0x0f;
		p[len++] = 0x10;
		p[len++] = sizeof(ctype) - 1;
		memcpy(p + len, ctype, sizeof(ctype) - 1);
		len += sizeof(ctype) - 1;
		g = kmesh_h2_grpc_status_of(status);
		num[0] = g >= 10 ? '0' + g / 10 : '0' + g;
		num[1] = g >= 10 ? '0' + g % 10 : 0;
		num[2] = 0;
		len += put_literal(p + len, "grpc-status", num);
		len += put_literal(p + len, "grpc-message", "denied by kmesh policy");
	} else {
		p[len++] = 0x08;	/* :status (static index 8), no indexing */
		p[len++] = 3;
		p[len++] = '0' + status / 100;
		p[len++] = '0' + status / 10 % 10;
		p[len++] = '0' + status % 10;
	}
	put_frame_header(b, len, KMESH_H2_HEADERS,
			 KMESH_H2_FLAG_END_HEADERS | KMESH_H2_FLAG_END_STREAM, id);
	return KMESH_H2_FRAME_HEADER_LEN + len;
}

__u32 kmesh_h2_frame_rst(__u8 *b, __u32 id, __u32 code)
{
	put_frame_header(b, 4, KMESH_H2_RST_STREAM, 0, id);
	put_be32(b + KMESH_H2_FRAME_HEADER_LEN, code);
	return KMESH_H2_RST_FRAME_LEN;
}

__u32 kmesh_h2_frame_window_update(__u8 *b, __u32 id, __u32 inc)
{
	put_frame_header(b, 4, KMESH_H2_WINDOW_UPDATE, 0, id);
	put_be32(b + KMESH_H2_FRAME_HEADER_LEN, inc & 0x7fffffff);
	return KMESH_H2_RST_FRAME_LEN;
}

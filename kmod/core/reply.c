// SPDX-License-Identifier: GPL-2.0-only
/* kmesh's own replies; the contract is in reply.h, the layout in http_rules.h. */
#include "reply.h"
#include "http_rules.h"

struct out {
	char *buf;
	__u32 size;
	__u32 len;
	bool full;
};

static void put(struct out *o, const void *p, __u32 n)
{
	if (o->full || n > o->size - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u32(struct out *o, __u32 v)
{
	char d[10];
	int i = sizeof(d);

	do {
		d[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	put(o, d + i, sizeof(d) - i);
}

__u32 kmesh_http_reply(char *buf, __u32 size, __u16 status, const void *body,
		       __u32 body_len, __u32 flags, __u32 *head_len)
{
	/* 204 and 304 have neither a body nor its length (RFC 9110 6.4.1) */
	bool bodyless = status == 204 || status == 304;
	struct out o = { .buf = buf, .size = size };

	put_str(&o, "HTTP/1.1 ");
	put_u32(&o, status);
	put_str(&o, " ");
	put_str(&o, kmesh_http_phrase(status));
	put_str(&o, "\r\n");
	if (!bodyless) {
		put_str(&o, "content-length: ");
		put_u32(&o, body_len);
		put_str(&o, "\r\n");
		if (body_len)
			put_str(&o, KMESH_REPLY_TYPE);
	}
	if (head_len)
		*head_len = o.len;
	if (flags & KMESH_REPLY_F_CLOSE)
		put_str(&o, KMESH_REPLY_CONN_CLOSE);
	put_str(&o, "\r\n");
	if (!bodyless && !(flags & KMESH_REPLY_F_NO_BODY) && body_len)
		put(&o, body, body_len);
	return o.full ? 0 : o.len;
}

__u32 kmesh_http_reply_default_body(char *buf, __u32 size, __u16 status)
{
	struct out o = { .buf = buf, .size = size };

	put_u32(&o, status);
	put_str(&o, " ");
	put_str(&o, kmesh_http_phrase(status));
	put_str(&o, "\n");
	return o.full ? 0 : o.len;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the HTTP/2 core's host tests: frames and header blocks built
 * by hand (literal fields, no table: what each test means is what it
 * sends), and the parser's events written as one line of text, so that
 * two runs compare with strcmp.
 */
#ifndef KMESH_H2_UTIL_H
#define KMESH_H2_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h2_frame.h"

struct h2buf {
	__u8 b[1 << 20];
	size_t n;
};

static inline void h2b_put(struct h2buf *w, const void *p, size_t n)
{
	if (w->n + n > sizeof(w->b))
		abort();
	if (n)
		memcpy(w->b + w->n, p, n);
	w->n += n;
}

static inline void h2b_frame(struct h2buf *w, __u8 type, __u8 flags,
			     __u32 id, const void *payload, size_t len)
{
	__u8 h[9] = {
		(__u8)(len >> 16), (__u8)(len >> 8), (__u8)len, type, flags,
		(__u8)(id >> 24), (__u8)(id >> 16), (__u8)(id >> 8), (__u8)id,
	};

	h2b_put(w, h, 9);
	h2b_put(w, payload, len);
}

static inline void h2b_preface(struct h2buf *w)
{
	h2b_put(w, KMESH_H2_PREFACE, KMESH_H2_PREFACE_LEN);
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, NULL, 0);
}

static inline size_t h2_int(__u8 *b, __u8 first, __u8 prefix, __u32 v)
{
	__u32 max = (1U << prefix) - 1;
	size_t n = 0;

	if (v < max) {
		b[n++] = first | (__u8)v;
		return n;
	}
	b[n++] = first | (__u8)max;
	v -= max;
	while (v >= 128) {
		b[n++] = (__u8)(v % 128 + 128);
		v /= 128;
	}
	b[n++] = (__u8)v;
	return n;
}

/* Literal without indexing, new name, raw strings (RFC 7541 6.2.2). */
static inline size_t h2_lit(__u8 *b, const char *name, const char *value)
{
	size_t n = 0, nl = strlen(name), vl = strlen(value);

	b[n++] = 0;
	n += h2_int(b + n, 0, 7, (__u32)nl);
	memcpy(b + n, name, nl);
	n += nl;
	n += h2_int(b + n, 0, 7, (__u32)vl);
	memcpy(b + n, value, vl);
	return n + vl;
}

/* A header block of name, value, ..., NULL. */
static inline size_t h2_block(__u8 *b, ...)
{
	const char *name, *value;
	size_t n = 0;
	va_list ap;

	va_start(ap, b);
	while ((name = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		n += h2_lit(b + n, name, value);
	}
	va_end(ap);
	return n;
}

#define H2_GET(path)	":method", "GET", ":scheme", "http", ":path", path, \
			":authority", "svc"

/* The events as text: "type:stream:..." separated by spaces. */
struct h2log {
	char s[1 << 14];
	size_t n;
	int stop_at;	/* stop the parser at this event number (0: never) */
	int count;
};

static inline void h2log_add(struct h2log *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n >= sizeof(l->s) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n += (size_t)k < sizeof(l->s) - l->n ? (size_t)k :
			sizeof(l->s) - l->n - 1;
}

static inline void h2log_span(struct h2log *l, const struct kmesh_h2_msg *m,
			      struct kmesh_h2_span s)
{
	h2log_add(l, "%.*s", (int)s.len, (const char *)m->text + s.off);
}

static inline int h2log_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct h2log *l = ctx;
	const struct kmesh_h2_msg *m = ev->msg;
	__u32 i;

	switch (ev->type) {
	case KMESH_H2_EV_SETTINGS:
		h2log_add(l, "set:%u=%u ", ev->id, ev->value);
		break;
	case KMESH_H2_EV_SETTINGS_ACK:
		h2log_add(l, "setack ");
		break;
	case KMESH_H2_EV_HEADERS:
		h2log_add(l, "hdr:%u:", ev->stream_id);
		if (m->flags & KMESH_H2_M_TRAILERS)
			h2log_add(l, "trailers");
		h2log_span(l, m, m->method);
		h2log_add(l, ",");
		h2log_span(l, m, m->scheme);
		h2log_add(l, ",");
		h2log_span(l, m, m->authority);
		h2log_add(l, ",");
		h2log_span(l, m, m->path);
		if (m->status)
			h2log_add(l, "status=%u", m->status);
		if (m->flags & KMESH_H2_M_HAS_GRPC_STATUS)
			h2log_add(l, ",grpc=%u", m->grpc_status);
		if (m->flags & KMESH_H2_M_HAS_CL)
			h2log_add(l, ",cl=%llu",
				  (unsigned long long)m->content_length);
		for (i = 0; i < m->nr_fields; i++) {
			h2log_add(l, ";");
			h2log_span(l, m, m->fields[i].name);
			h2log_add(l, "=");
			h2log_span(l, m, m->fields[i].value);
		}
		h2log_add(l, " ");
		break;
	case KMESH_H2_EV_DATA:
		h2log_add(l, "data:%u:%u ", ev->stream_id, ev->value);
		break;
	case KMESH_H2_EV_END_STREAM:
		h2log_add(l, "end:%u ", ev->stream_id);
		break;
	case KMESH_H2_EV_RST_STREAM:
		h2log_add(l, "rst:%u:%u ", ev->stream_id, ev->value);
		break;
	case KMESH_H2_EV_GOAWAY:
		h2log_add(l, "goaway:%u:%u ", ev->id, ev->value);
		break;
	case KMESH_H2_EV_PING:
		h2log_add(l, "ping:%u ", ev->flags & KMESH_H2_FLAG_ACK);
		break;
	case KMESH_H2_EV_WINDOW_UPDATE:
		h2log_add(l, "win:%u:%u ", ev->stream_id, ev->value);
		break;
	case KMESH_H2_EV_PRIORITY:
		h2log_add(l, "prio:%u:%u ", ev->stream_id, ev->id);
		break;
	case KMESH_H2_EV_STREAM_ERROR:
		h2log_add(l, "serr:%u:%s ", ev->stream_id,
			  kmesh_h2_strreason(ev->reason));
		break;
	default:
		h2log_add(l, "?%u ", ev->type);
	}
	if (l->stop_at && ++l->count >= l->stop_at)
		return KMESH_H2_E_INVAL;
	return 0;
}

/* A parser with its memory. */
struct h2p {
	struct kmesh_h2_parser p;
	void *mem;
	struct h2log log;
};

static inline int h2p_init(struct h2p *t, enum kmesh_h2_dir dir,
			   const struct kmesh_h2_limits *lim)
{
	__u32 n = kmesh_h2_mem_size(lim);

	memset(&t->log, 0, sizeof(t->log));
	t->mem = aligned_alloc(8, (n + 7) & ~7U);
	if (!n || !t->mem)
		abort();
	return kmesh_h2_init(&t->p, dir, lim, t->mem, n, h2log_event, &t->log);
}

static inline void h2p_free(struct h2p *t)
{
	free(t->mem);
	t->mem = NULL;
}

#endif /* KMESH_H2_UTIL_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HTTP/2 frame parser (kmod/core/h2_frame.c,
 * with the HPACK decoder under it).
 *
 * The first input byte picks the direction, the limits, and whether the
 * client preface and an empty SETTINGS are put before the rest (so that
 * inputs reach frames without having to find the preface first). Besides
 * memory safety (ASan, UBSan, exact-size copies), every input checks that:
 *  - the bytes fed whole, in two or three pieces, and byte by byte (short
 *    inputs) give the identical event log and verdict: decisions depend
 *    on the bytes, never on how they arrive;
 *  - a connection error is final: the next call returns it again and
 *    reports nothing; its frame offset is inside the input;
 *  - every HEADERS event's spans lie inside the message text, which fits
 *    the header list limit; streams tracked never exceed max_streams;
 *  - every stream error is a stream-scoped reason, every connection
 *    error a connection-scoped one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "../unit/h2_util.h"

struct run {
	struct h2p t;
	int rc;
};

static struct kmesh_h2_limits pick_limits(uint8_t b)
{
	struct kmesh_h2_limits lim = { 0 };

	switch ((b >> 2) % 4) {
	case 1:		/* small: limits bite */
		lim.table_max = 64;
		lim.max_header_list = 128;
		lim.max_header_block = 96;
		lim.max_streams = 2;
		lim.max_continuations = 2;
		break;
	case 2:
		lim.table_max = 65536;
		lim.max_frame_size = 1 << 20;
		break;
	case 3:
		lim.table_max = 0;	/* default */
		lim.max_header_list = 64;
		break;
	}
	return lim;
}

static int check_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct h2p *t = ctx;
	const struct kmesh_h2_msg *m = ev->msg;
	__u32 i;

	CHECK(t->p.nr_streams <= t->p.lim.max_streams);
	if (ev->type == KMESH_H2_EV_STREAM_ERROR)
		CHECK(kmesh_h2_reason_is_stream(ev->reason));
	if (ev->type == KMESH_H2_EV_HEADERS) {
		__u32 tl = t->p.text_len;

		CHECK(tl <= t->p.lim.max_header_list);
		CHECK(m->method.off + m->method.len <= tl);
		CHECK(m->path.off + m->path.len <= tl);
		CHECK(m->authority.off + m->authority.len <= tl);
		CHECK(m->scheme.off + m->scheme.len <= tl);
		CHECK(m->host.off + m->host.len <= tl);
		CHECK(m->nr_fields <= KMESH_H2_MAX_FIELDS);
		for (i = 0; i < m->nr_fields; i++)
			CHECK(m->fields[i].value.off + m->fields[i].value.len <= tl);
	}
	return h2log_event(&t->log, ev);
}

static void start(struct run *r, int dir, const struct kmesh_h2_limits *lim)
{
	__u32 n = kmesh_h2_mem_size(lim);

	memset(&r->t.log, 0, sizeof(r->t.log));
	r->t.mem = aligned_alloc(8, (n + 7) & ~7U);
	CHECK(r->t.mem);
	CHECK(!kmesh_h2_init(&r->t.p, dir, lim, r->t.mem, n, check_event, &r->t));
	r->rc = 0;
}

/* Feed [from, to) as an exact-size copy. */
static void feed(struct run *r, const uint8_t *d, size_t from, size_t to)
{
	uint8_t *b;

	if (r->rc || from >= to)
		return;
	b = malloc(to - from);
	CHECK(b);
	memcpy(b, d + from, to - from);
	r->rc = kmesh_h2_parse(&r->t.p, b, (__u32)(to - from));
	free(b);
}

static void finish(struct run *r, const struct run *ref)
{
	if (ref) {
		CHECK(r->rc == ref->rc);
		CHECK(!strcmp(r->t.log.s, ref->t.log.s));
	}
	if (r->rc) {
		size_t before = r->t.log.n;

		CHECK(r->t.p.reason == r->rc);
		CHECK(kmesh_h2_parse(&r->t.p, (const __u8 *)"x", 1) == r->rc);
		CHECK(r->t.log.n == before);
		if (r->rc != KMESH_H2_E_INVAL)
			CHECK(!kmesh_h2_reason_is_stream(r->rc));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmesh_h2_limits lim;
	struct run *whole, *other;
	uint8_t *in;
	size_t n, a, b, i;
	int dir;

	if (!size)
		return 0;
	dir = data[0] & 1;
	lim = pick_limits(data[0]);
	/* bit 1: the preface (client) / nothing, then an empty SETTINGS */
	in = malloc(size + 64);
	CHECK(in);
	n = 0;
	if (data[0] & 2) {
		if (dir == KMESH_H2_FROM_CLIENT) {
			memcpy(in, KMESH_H2_PREFACE, KMESH_H2_PREFACE_LEN);
			n = KMESH_H2_PREFACE_LEN;
		}
		memcpy(in + n, "\0\0\0\x04\0\0\0\0\0", 9);
		n += 9;
	}
	memcpy(in + n, data + 1, size - 1);
	n += size - 1;

	whole = malloc(sizeof(*whole));
	other = malloc(sizeof(*other));
	CHECK(whole && other);
	start(whole, dir, &lim);
	feed(whole, in, 0, n);
	finish(whole, NULL);
	if (whole->rc && whole->rc != KMESH_H2_E_INVAL)
		CHECK(whole->t.p.err_off < n);

	/* two and three pieces, at points from the input */
	a = n ? (size * 7919 + data[size - 1]) % (n + 1) : 0;
	b = n ? (size * 104729 + data[size / 2]) % (n + 1) : 0;
	if (a > b) {
		size_t t = a;

		a = b;
		b = t;
	}
	start(other, dir, &lim);
	feed(other, in, 0, a);
	feed(other, in, a, n);
	finish(other, whole);
	free(other->t.mem);
	start(other, dir, &lim);
	feed(other, in, 0, a);
	feed(other, in, a, b);
	feed(other, in, b, n);
	finish(other, whole);
	free(other->t.mem);
	if (n <= 512) {
		start(other, dir, &lim);
		for (i = 0; i < n; i++)
			feed(other, in, i, i + 1);
		finish(other, whole);
		free(other->t.mem);
	}
	free(whole->t.mem);
	free(whole);
	free(other);
	free(in);
	return 0;
}

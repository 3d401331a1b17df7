// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the HTTP/2 frame parser (kmod/core/h2_frame.c): what a
 * valid exchange reports, that any split of the bytes reports the same,
 * and every connection and stream error of RFC 9113 it detects, each with
 * its reason, on frames built by hand.
 */
#include "h2_util.h"
#include "h2_reply.h"
#include "tap.h"

static int h2p_split_pieces(const struct h2buf *w, enum kmesh_h2_dir dir,
			    const struct kmesh_h2_limits *lim, struct h2p *u)
{
	__u32 st = kmesh_h2_state_size(lim), sn = kmesh_h2_scratch_size(lim);
	unsigned int seed = 11;
	__u8 *scratch;
	size_t i, piece;
	int rc = 0;

	memset(&u->log, 0, sizeof(u->log));
	u->mem = aligned_alloc(8, (st + 7) & ~7U);
	scratch = aligned_alloc(8, (sn + 7) & ~7U);
	if (!st || !sn || !u->mem || !scratch)
		abort();
	if (kmesh_h2_init_state(&u->p, dir, lim, u->mem, st, h2log_event,
				&u->log))
		abort();
	EXPECT_EQ(kmesh_h2_parse(&u->p, w->b, 1), KMESH_H2_E_INVAL);
	for (i = 0; i < w->n && !rc; i += piece) {
		seed = seed * 1103515245 + 12345;
		piece = 1 + (seed >> 16) % 29;
		if (piece > w->n - i)
			piece = w->n - i;
		if (!kmesh_h2_in_block(&u->p))
			memset(scratch, 0xa5, sn);
		else
			EXPECT_EQ(kmesh_h2_attach_scratch(&u->p, scratch, sn),
				  KMESH_H2_E_INVAL);
		if (!kmesh_h2_in_block(&u->p) &&
		    kmesh_h2_attach_scratch(&u->p, scratch, sn))
			abort();
		rc = kmesh_h2_parse(&u->p, w->b + i, (__u32)piece);
		if (!kmesh_h2_in_block(&u->p))
			kmesh_h2_detach_scratch(&u->p);
	}
	free(scratch);
	return rc;
}

/* Whole, then byte by byte, then in pieces of 1..13: the same log. */
static int parse_all(const struct h2buf *w, enum kmesh_h2_dir dir,
		     const struct kmesh_h2_limits *lim, char *log, size_t cap)
{
	struct h2p t, u;
	int rc, rc2 = 0;
	size_t i, piece;
	unsigned int seed = 7;

	h2p_init(&t, dir, lim);
	rc = kmesh_h2_parse(&t.p, w->b, (__u32)w->n);
	snprintf(log, cap, "%s", t.log.s);

	h2p_init(&u, dir, lim);
	for (i = 0; i < w->n && !rc2; i++)
		rc2 = kmesh_h2_parse(&u.p, w->b + i, 1);
	if (rc2 != rc || strcmp(u.log.s, t.log.s))
		tap_check(false, __FILE__, __LINE__,
			  "byte by byte: rc %d log \"%s\", whole: rc %d", rc2,
			  u.log.s, rc);
	h2p_free(&u);

	h2p_init(&u, dir, lim);
	rc2 = 0;
	for (i = 0; i < w->n && !rc2; i += piece) {
		seed = seed * 1103515245 + 12345;
		piece = 1 + (seed >> 16) % 13;
		if (piece > w->n - i)
			piece = w->n - i;
		rc2 = kmesh_h2_parse(&u.p, w->b + i, (__u32)piece);
	}
	if (rc2 != rc || strcmp(u.log.s, t.log.s))
		tap_check(false, __FILE__, __LINE__,
			  "in pieces: rc %d log \"%s\", whole: rc %d", rc2,
			  u.log.s, rc);
	h2p_free(&u);

	/*
	 * Split memory (the module's per-connection state): the scratch is
	 * lent for each piece and overwritten between pieces, except while
	 * a header block is partly gathered.
	 */
	rc2 = h2p_split_pieces(w, dir, lim, &u);
	if (rc2 != rc || strcmp(u.log.s, t.log.s))
		tap_check(false, __FILE__, __LINE__,
			  "split memory: rc %d log \"%s\", whole: rc %d", rc2,
			  u.log.s, rc);
	if (rc)
		EXPECT_EQ(kmesh_h2_parse(&t.p, (const __u8 *)"x", 1), rc);
	h2p_free(&u);
	h2p_free(&t);
	return rc;
}

#define EXPECT_LOG(log, want) EXPECT_STR_EQ(log, want)

static void test_valid(void)
{
	struct h2buf *w = calloc(1, sizeof(*w));
	__u8 blk[512], pl[1024];
	char log[4096];
	size_t n;

	tap_begin("h2: a GET with END_STREAM on HEADERS: opened, headers, end");
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/a"), "user-agent", "t", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
	EXPECT_EQ(parse_all(w, KMESH_H2_FROM_CLIENT, NULL, log, sizeof(log)), 0);
	EXPECT_LOG(log, "hdr:1:GET,http,svc,/a;user-agent=t end:1 ");
	tap_end();

	tap_begin("h2: HEADERS (padded, priority) + CONTINUATION, DATA (padded) to content-length");
	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, ":method", "POST", ":scheme", "http", ":path", "/p",
		     ":authority", "svc", "content-length", "7", "te", "trailers",
		     NULL);
	/* HEADERS: pad 3, priority (dep 0, weight 16), first 10 block bytes */
	pl[0] = 3;
	memset(pl + 1, 0, 5);
	pl[5] = 16;
	memcpy(pl + 6, blk, 10);
	memset(pl + 16, 0, 3);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_PADDED | KMESH_H2_FLAG_PRIORITY,
		  1, pl, 19);
	h2b_frame(w, KMESH_H2_CONTINUATION, 0, 1, blk + 10, 5);
	h2b_frame(w, KMESH_H2_CONTINUATION, KMESH_H2_FLAG_END_HEADERS, 1,
		  blk + 15, n - 15);
	pl[0] = 2;
	memcpy(pl + 1, "abcd", 4);
	memset(pl + 5, 0, 2);
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_PADDED, 1, pl, 7);
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_END_STREAM, 1, "efg", 3);
	EXPECT_EQ(parse_all(w, KMESH_H2_FROM_CLIENT, NULL, log, sizeof(log)), 0);
	EXPECT_LOG(log, "hdr:1:POST,http,svc,/p,cl=7;content-length=7;te=trailers "
		   "data:1:4 data:1:3 end:1 ");
	tap_end();

	tap_begin("h2: control frames, unknown types skipped, trailers, two streams");
	w->n = 0;
	h2b_put(w, KMESH_H2_PREFACE, KMESH_H2_PREFACE_LEN);
	memcpy(pl, "\x00\x01\x00\x00\x10\x00\x00\x04\x00\x01\x00\x00", 12);
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, pl, 12);
	h2b_frame(w, KMESH_H2_SETTINGS, KMESH_H2_FLAG_ACK, 0, NULL, 0);
	h2b_frame(w, 0xfa, 0xff, 0, "junk", 4);
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 0, "\x00\x01\x00\x00", 4);
	h2b_frame(w, KMESH_H2_PING, 0, 0, "12345678", 8);
	h2b_frame(w, KMESH_H2_PRIORITY, 0, 3, "\x00\x00\x00\x00\x10", 5);
	n = h2_block(blk, H2_GET("/x"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	n = h2_block(blk, ":method", "POST", ":scheme", "http", ":path",
		     "/pkg.Svc/Call", ":authority", "svc", "content-type",
		     "application/grpc", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 3, blk, n);
	h2b_frame(w, KMESH_H2_DATA, 0, 3, "\x00\x00\x00\x00\x00", 5);
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 3, "\x00\x00\x00\x05", 4);
	n = h2_block(blk, "x-trailer", "1", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 3, blk, n);
	h2b_frame(w, KMESH_H2_RST_STREAM, 0, 1, "\x00\x00\x00\x08", 4);
	h2b_frame(w, KMESH_H2_GOAWAY, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00" "dbg", 11);
	EXPECT_EQ(parse_all(w, KMESH_H2_FROM_CLIENT, NULL, log, sizeof(log)), 0);
	EXPECT_LOG(log, "set:1=4096 set:4=65536 setack win:0:65536 ping:0 prio:3:0 "
		   "hdr:1:GET,http,svc,/x hdr:3:POST,http,svc,/pkg.Svc/Call;"
		   "content-type=application/grpc data:3:5 win:3:5 "
		   "hdr:3:trailers,,,;x-trailer=1 end:3 rst:1:8 goaway:3:0 ");
	tap_end();

	tap_begin("h2: responses: 1xx then final, DATA, grpc-status in trailers");
	w->n = 0;
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, NULL, 0);
	n = h2_block(blk, ":status", "100", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	n = h2_block(blk, ":status", "200", "content-type", "application/grpc", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	h2b_frame(w, KMESH_H2_DATA, 0, 1, "\x00\x00\x00\x00\x00", 5);
	n = h2_block(blk, "grpc-status", "7", "grpc-message", "denied", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
	EXPECT_EQ(parse_all(w, KMESH_H2_FROM_SERVER, NULL, log, sizeof(log)), 0);
	EXPECT_LOG(log, "hdr:1:,,,status=100 hdr:1:,,,status=200;content-type=application/grpc "
		   "data:1:5 hdr:1:trailers,,,,grpc=7;grpc-status=7;grpc-message=denied end:1 ");
	tap_end();

	tap_begin("h2: a callback's non-zero return stops the parse with it");
	{
		struct h2p t;

		w->n = 0;
		h2b_preface(w);
		n = h2_block(blk, H2_GET("/"), NULL);
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
			  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
		h2p_init(&t, KMESH_H2_FROM_CLIENT, NULL);
		t.log.stop_at = 1;
		EXPECT_EQ(kmesh_h2_parse(&t.p, w->b, (__u32)w->n), KMESH_H2_E_INVAL);
		EXPECT_LOG(t.log.s, "hdr:1:GET,http,svc,/ ");
		h2p_free(&t);
	}
	tap_end();
	free(w);
}

/* ---- connection errors ---- */

struct conn_case {
	const char *name;
	int dir;
	int want;
};

static void conn_case(const struct conn_case *c, struct h2buf *w,
		      const struct kmesh_h2_limits *lim)
{
	char log[4096];
	struct h2p t;
	int rc;

	tap_begin("h2: connection error: %s -> %s", c->name,
		  kmesh_h2_strreason(c->want));
	rc = parse_all(w, c->dir, lim, log, sizeof(log));
	EXPECT_EQ(rc, c->want);
	EXPECT(kmesh_h2_reason_is_stream(c->want) == 0);
	/* err_off names the frame: its header is inside the input */
	h2p_init(&t, c->dir, lim);
	kmesh_h2_parse(&t.p, w->b, (__u32)w->n);
	EXPECT(t.p.err_off < w->n);
	h2p_free(&t);
	tap_end();
}

static void test_conn_errors(void)
{
	struct h2buf *w = calloc(1, sizeof(*w));
	struct kmesh_h2_limits lim = { 0 };
	__u8 blk[40000];
	size_t n, i;

#define CASE(nm, d, r) do {						\
		struct conn_case c_ = { nm, d, r };			\
		conn_case(&c_, w, NULL);				\
	} while (0)
#define START()	do { w->n = 0; h2b_preface(w); } while (0)
#define GET1()	do { n = h2_block(blk, H2_GET("/"), NULL);		\
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n); \
	} while (0)

	w->n = 0;
	h2b_put(w, "GET / HTTP/1.1\r\n\r\n", 18);
	CASE("HTTP/1.1 instead of the preface", 0, KMESH_H2_E_PREFACE);

	w->n = 0;
	h2b_put(w, KMESH_H2_PREFACE, KMESH_H2_PREFACE_LEN);
	h2b_frame(w, KMESH_H2_PING, 0, 0, "12345678", 8);
	CASE("PING before SETTINGS", 0, KMESH_H2_E_FIRST_NOT_SETTINGS);

	w->n = 0;
	h2b_frame(w, KMESH_H2_SETTINGS, KMESH_H2_FLAG_ACK, 0, NULL, 0);
	CASE("server starts with a SETTINGS ack", 1, KMESH_H2_E_FIRST_NOT_SETTINGS);

	START();
	memset(blk, 0, 16385);
	h2b_frame(w, KMESH_H2_DATA, 0, 1, blk, 16385);
	CASE("frame of 16385 bytes at the default SETTINGS_MAX_FRAME_SIZE", 0,
	     KMESH_H2_E_FRAME_SIZE);

	START();
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 1, NULL, 0);
	CASE("SETTINGS on stream 1", 0, KMESH_H2_E_NOT_STREAM0);

	START();
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x00", 5);
	CASE("SETTINGS of 5 bytes", 0, KMESH_H2_E_FRAME_LEN);

	START();
	h2b_frame(w, KMESH_H2_SETTINGS, KMESH_H2_FLAG_ACK, 0, "\x00\x01\x00\x00\x00\x00", 6);
	CASE("SETTINGS ack with a payload", 0, KMESH_H2_E_SETTINGS_ACK_LEN);

	START();
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, "\x00\x02\x00\x00\x00\x02", 6);
	CASE("SETTINGS_ENABLE_PUSH 2", 0, KMESH_H2_E_SETTINGS_VALUE);

	w->n = 0;
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, "\x00\x02\x00\x00\x00\x01", 6);
	CASE("a server enabling push", 1, KMESH_H2_E_SETTINGS_VALUE);

	START();
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, "\x00\x05\x00\x00\x3f\xff", 6);
	CASE("SETTINGS_MAX_FRAME_SIZE 16383", 0, KMESH_H2_E_SETTINGS_VALUE);

	START();
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, "\x00\x04\x80\x00\x00\x00", 6);
	CASE("SETTINGS_INITIAL_WINDOW_SIZE 2^31", 0, KMESH_H2_E_SETTINGS_VALUE);

	START();
	h2b_frame(w, KMESH_H2_PING, 0, 0, "1234567", 7);
	CASE("PING of 7 bytes", 0, KMESH_H2_E_FRAME_LEN);

	START();
	h2b_frame(w, KMESH_H2_PING, 0, 1, "12345678", 8);
	CASE("PING on stream 1", 0, KMESH_H2_E_NOT_STREAM0);

	START();
	h2b_frame(w, KMESH_H2_GOAWAY, 0, 0, "1234567", 7);
	CASE("GOAWAY of 7 bytes", 0, KMESH_H2_E_FRAME_LEN);

	START();
	GET1();
	h2b_frame(w, KMESH_H2_RST_STREAM, 0, 1, "\x00\x00\x00", 3);
	CASE("RST_STREAM of 3 bytes", 0, KMESH_H2_E_FRAME_LEN);

	START();
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 0, "\x00\x00\x00", 3);
	CASE("WINDOW_UPDATE of 3 bytes", 0, KMESH_H2_E_FRAME_LEN);

	START();
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 0, "\x80\x00\x00\x00", 4);
	CASE("WINDOW_UPDATE of 0 on the connection", 0, KMESH_H2_E_WINDOW_ZERO_CONN);

	START();
	h2b_frame(w, KMESH_H2_DATA, 0, 0, "x", 1);
	CASE("DATA on stream 0", 0, KMESH_H2_E_STREAM0);

	START();
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 0, blk, n);
	CASE("HEADERS on stream 0", 0, KMESH_H2_E_STREAM0);

	START();
	h2b_frame(w, KMESH_H2_PRIORITY, 0, 0, "\x00\x00\x00\x01\x10", 5);
	CASE("PRIORITY on stream 0", 0, KMESH_H2_E_STREAM0);

	START();
	h2b_frame(w, KMESH_H2_RST_STREAM, 0, 0, "\x00\x00\x00\x08", 4);
	CASE("RST_STREAM on stream 0", 0, KMESH_H2_E_STREAM0);

	START();
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 2, blk, n);
	CASE("HEADERS on even stream 2 from a client", 0, KMESH_H2_E_STREAM_ID_PARITY);

	START();
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 5, blk, n);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 3, blk, n);
	/* 3 < 5: a closed stream (5.1.1); its block is still decoded */
	{
		char log[4096];

		tap_begin("h2: stream 3 after stream 5 is closed: stream error, connection goes on");
		EXPECT_EQ(parse_all(w, 0, NULL, log, sizeof(log)), 0);
		EXPECT_LOG(log, "hdr:5:GET,http,svc,/ serr:3:frame after END_STREAM ");
		tap_end();
	}

	START();
	h2b_frame(w, KMESH_H2_DATA, 0, 1, "x", 1);
	CASE("DATA on idle stream 1", 0, KMESH_H2_E_STREAM_IDLE);

	START();
	h2b_frame(w, KMESH_H2_RST_STREAM, 0, 1, "\x00\x00\x00\x08", 4);
	CASE("RST_STREAM on idle stream 1", 0, KMESH_H2_E_STREAM_IDLE);

	START();
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 7, "\x00\x00\x00\x01", 4);
	CASE("WINDOW_UPDATE on idle stream 7", 0, KMESH_H2_E_STREAM_IDLE);

	START();
	GET1();
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_PADDED, 1, "\x05xxxx", 5);
	CASE("DATA pad length 5 in a payload of 5", 0, KMESH_H2_E_PADDING);

	START();
	GET1();
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_PADDED, 1, NULL, 0);
	CASE("padded DATA without its pad length", 0, KMESH_H2_E_FRAME_LEN);

	START();
	n = h2_block(blk, H2_GET("/"), NULL);
	{
		__u8 f[256];

		f[0] = (__u8)(n + 1);
		memcpy(f + 1, blk, n);
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
			  KMESH_H2_FLAG_PADDED, 1, f, n + 1);
	}
	CASE("HEADERS padding longer than the fragment", 0, KMESH_H2_E_PADDING);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_PRIORITY, 1, "\x00\x00\x00", 3);
	CASE("HEADERS with PRIORITY shorter than 5 bytes", 0, KMESH_H2_E_FRAME_LEN);

	START();
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_CONTINUATION, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	CASE("CONTINUATION without HEADERS", 0, KMESH_H2_E_CONTINUATION_UNEXPECTED);

	START();
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, 4);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 3, blk, n);
	CASE("HEADERS of stream 3 inside stream 1's header block", 0,
	     KMESH_H2_E_CONTINUATION_MISSING);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, 4);
	h2b_frame(w, KMESH_H2_CONTINUATION, KMESH_H2_FLAG_END_HEADERS, 3, blk + 4, n - 4);
	CASE("CONTINUATION on another stream", 0, KMESH_H2_E_CONTINUATION_MISSING);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, 4);
	h2b_frame(w, KMESH_H2_PING, 0, 0, "12345678", 8);
	CASE("PING inside a header block", 0, KMESH_H2_E_CONTINUATION_MISSING);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, 4);
	h2b_frame(w, 0xfa, 0, 0, "junk", 4);
	CASE("unknown frame type inside a header block", 0,
	     KMESH_H2_E_CONTINUATION_MISSING);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, 4);
	for (i = 0; i < 17; i++)
		h2b_frame(w, KMESH_H2_CONTINUATION, 0, 1, NULL, 0);
	CASE("17 empty CONTINUATIONs", 0, KMESH_H2_E_CONTINUATION_FLOOD);

	START();
	n = h2_lit(blk, "x-big", "");
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, n);
	memset(blk, 'a', 16384);
	for (i = 0; i < 2; i++)
		h2b_frame(w, KMESH_H2_CONTINUATION, 0, 1, blk, 16384);
	CASE("header block over 16384 compressed bytes", 0,
	     KMESH_H2_E_HEADER_BLOCK_SIZE);

	START();
	h2b_frame(w, KMESH_H2_PUSH_PROMISE, KMESH_H2_FLAG_END_HEADERS, 1,
		  "\x00\x00\x00\x02\x82", 5);
	CASE("PUSH_PROMISE", 0, KMESH_H2_E_PUSH_PROMISE);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, "\xbe", 1);
	CASE("HPACK index 62 with an empty table", 0, KMESH_H2_E_HPACK_INDEX);

	START();
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, "\x82\x3f\xe1\x1f", 4);
	CASE("HPACK size update after a field", 0, KMESH_H2_E_HPACK_UPDATE_POS);

	/* a header list over a 256-byte limit */
	lim.max_header_list = 256;
	lim.max_header_block = 1024;
	START();
	n = h2_block(blk, H2_GET("/"), "x-long", "", NULL);
	blk[n - 1] = 0x7f;	/* value length 127 + ... */
	blk[n++] = 100;		/* = 227 bytes */
	memset(blk + n, 'v', 227);
	n += 227;
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	{
		struct conn_case c = { "header list over max_header_list", 0,
				       KMESH_H2_E_HEADER_LIST_SIZE };

		conn_case(&c, w, &lim);
	}

	tap_begin("h2: peer SETTINGS_MAX_FRAME_SIZE raises the frame limit up to the parser's");
	{
		struct h2p t;

		lim = (struct kmesh_h2_limits){ .max_frame_size = 65536 };
		h2p_init(&t, KMESH_H2_FROM_CLIENT, &lim);
		EXPECT_EQ(kmesh_h2_peer_setting(&t.p, KMESH_H2_SETTINGS_MAX_FRAME_SIZE, 32768), 0);
		START();
		GET1();
		memset(blk, 0, 32768);
		h2b_frame(w, KMESH_H2_DATA, 0, 1, blk, 32768);
		EXPECT_EQ(kmesh_h2_parse(&t.p, w->b, (__u32)w->n), 0);
		EXPECT_EQ(kmesh_h2_peer_setting(&t.p, KMESH_H2_SETTINGS_MAX_FRAME_SIZE, 1 << 20),
			  KMESH_H2_E_SETTINGS_VALUE);
		EXPECT_EQ(t.p.max_frame, 65536);
		EXPECT_EQ(kmesh_h2_peer_setting(&t.p, KMESH_H2_SETTINGS_HEADER_TABLE_SIZE, 8192),
			  KMESH_H2_E_SETTINGS_VALUE);
		h2p_free(&t);
	}
	tap_end();
	free(w);
#undef CASE
}

/* ---- stream errors: the stream is refused, the connection goes on ---- */

static void stream_case(const char *name, int dir, const struct h2buf *w,
			const char *want_log)
{
	char log[8192];

	tap_begin("h2: stream error: %s", name);
	EXPECT_EQ(parse_all(w, dir, NULL, log, sizeof(log)), 0);
	EXPECT_LOG(log, want_log);
	tap_end();
}

/* Request on stream 1 with these fields, then a good GET on stream 3. */
#define REQ(...) do {							\
		w->n = 0;						\
		h2b_preface(w);						\
		n = h2_block(blk, __VA_ARGS__, NULL);			\
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS | \
			  KMESH_H2_FLAG_END_STREAM, 1, blk, n);		\
		n = h2_block(blk, H2_GET("/ok"), NULL);			\
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS | \
			  KMESH_H2_FLAG_END_STREAM, 3, blk, n);		\
	} while (0)
#define THEN_OK	"end:1 hdr:3:GET,http,svc,/ok end:3 "

static void test_stream_errors(void)
{
	struct h2buf *w = calloc(1, sizeof(*w));
	char want[512];
	__u8 blk[1024];
	size_t n, i;
	static const struct {
		const char *name;
		const char *f[8];	/* extra name, value pairs */
		int reason;
	} fields[] = {
		{ "uppercase name", { "User-Agent", "x" }, KMESH_H2_E_NAME_UPPERCASE },
		{ "name with a space", { "x y", "1" }, KMESH_H2_E_NAME_BAD },
		{ "empty name", { "", "1" }, KMESH_H2_E_NAME_BAD },
		{ "value with CR", { "x", "a\rb" }, KMESH_H2_E_VALUE_BAD },
		{ "value with LF", { "x", "a\nb" }, KMESH_H2_E_VALUE_BAD },
		{ "value with a leading space", { "x", " a" }, KMESH_H2_E_VALUE_BAD },
		{ "value with a trailing tab", { "x", "a\t" }, KMESH_H2_E_VALUE_BAD },
		{ "connection", { "connection", "close" }, KMESH_H2_E_CONNECTION_HEADER },
		{ "keep-alive", { "keep-alive", "5" }, KMESH_H2_E_CONNECTION_HEADER },
		{ "proxy-connection", { "proxy-connection", "x" }, KMESH_H2_E_CONNECTION_HEADER },
		{ "transfer-encoding", { "transfer-encoding", "chunked" },
		  KMESH_H2_E_CONNECTION_HEADER },
		{ "upgrade", { "upgrade", "h2c" }, KMESH_H2_E_CONNECTION_HEADER },
		{ "te: gzip", { "te", "gzip" }, KMESH_H2_E_TE },
		{ "te: trailers, gzip", { "te", "trailers, gzip" }, KMESH_H2_E_TE },
		{ "pseudo-header after a regular field", { "x", "1", ":foo", "1" },
		  KMESH_H2_E_PSEUDO_AFTER_REGULAR },
		{ "content-length not digits", { "content-length", "1x" },
		  KMESH_H2_E_CONTENT_LENGTH },
		{ "content-length twice", { "content-length", "0", "content-length", "0" },
		  KMESH_H2_E_CONTENT_LENGTH },
		{ "content-length 1 without DATA", { "content-length", "1" },
		  KMESH_H2_E_CONTENT_LENGTH_DATA },
		{ "host differs from :authority", { "host", "other" },
		  KMESH_H2_E_HOST_MISMATCH },
	};
	static const struct {
		const char *name;
		const char *f[10];
		int reason;
	} pseudo[] = {
		{ "duplicate :path", { ":method", "GET", ":scheme", "http", ":path", "/",
		  ":path", "/b" }, KMESH_H2_E_PSEUDO_DUP },
		{ "unknown :protocol", { ":method", "GET", ":scheme", "http", ":path", "/",
		  ":protocol", "ws" }, KMESH_H2_E_PSEUDO_UNKNOWN },
		{ ":status in a request", { ":status", "200" }, KMESH_H2_E_PSEUDO_UNKNOWN },
		{ "no :scheme", { ":method", "GET", ":path", "/" }, KMESH_H2_E_PSEUDO_MISSING },
		{ "no :method", { ":scheme", "http", ":path", "/" }, KMESH_H2_E_PSEUDO_MISSING },
		{ ":path empty", { ":method", "GET", ":scheme", "http", ":path", "" },
		  KMESH_H2_E_PATH_EMPTY },
		{ ":path not origin-form", { ":method", "GET", ":scheme", "http",
		  ":path", "a/b" }, KMESH_H2_E_PATH_BAD },
		{ ":path * for GET", { ":method", "GET", ":scheme", "http", ":path", "*" },
		  KMESH_H2_E_PATH_BAD },
		{ ":method with a space", { ":method", "G T", ":scheme", "http",
		  ":path", "/" }, KMESH_H2_E_METHOD_BAD },
		{ "CONNECT with :path", { ":method", "CONNECT", ":authority", "a:1",
		  ":path", "/" }, KMESH_H2_E_CONNECT },
		{ "CONNECT without :authority", { ":method", "CONNECT" }, KMESH_H2_E_CONNECT },
	};

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *const *f = fields[i].f;

		REQ(H2_GET("/"), f[0], f[1], f[2] ? f[2] : NULL, f[3]);
		snprintf(want, sizeof(want), "serr:1:%s " THEN_OK,
			 kmesh_h2_strreason(fields[i].reason));
		if (fields[i].reason == KMESH_H2_E_CONTENT_LENGTH_DATA)
			snprintf(want, sizeof(want),
				 "hdr:1:GET,http,svc,/,cl=1;content-length=1 serr:1:%s " THEN_OK,
				 kmesh_h2_strreason(fields[i].reason));
		stream_case(fields[i].name, 0, w, want);
	}
	for (i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++) {
		const char *const *f = pseudo[i].f;

		w->n = 0;
		h2b_preface(w);
		n = 0;
		for (size_t k = 0; k < 10 && f[k]; k += 2)
			n += h2_lit(blk + n, f[k], f[k + 1]);
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
			  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
		n = h2_block(blk, H2_GET("/ok"), NULL);
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
			  KMESH_H2_FLAG_END_STREAM, 3, blk, n);
		snprintf(want, sizeof(want), "serr:1:%s " THEN_OK,
			 kmesh_h2_strreason(pseudo[i].reason));
		stream_case(pseudo[i].name, 0, w, want);
	}

	/* accepted variants */
	REQ(H2_GET("/"), "te", "Trailers", "host", "SVC");
	stream_case("(none) te: Trailers and a host equal to :authority", 0, w,
		    "hdr:1:GET,http,svc,/;te=Trailers;host=SVC " THEN_OK);
	REQ(":method", "OPTIONS", ":scheme", "http", ":path", "*");
	stream_case("(none) OPTIONS *", 0, w, "hdr:1:OPTIONS,http,,* " THEN_OK);
	REQ(":method", "CONNECT", ":authority", "db:5432");
	stream_case("(none) CONNECT with :authority only", 0, w,
		    "hdr:1:CONNECT,,db:5432, " THEN_OK);

	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, ":method", "POST", ":scheme", "http", ":path", "/",
		     ":authority", "svc", "content-length", "3", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	h2b_frame(w, KMESH_H2_DATA, 0, 1, "abcd", 4);
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_END_STREAM, 1, "e", 1);
	stream_case("DATA over content-length", 0, w,
		    "hdr:1:POST,http,svc,/,cl=3;content-length=3 data:1:4 "
		    "serr:1:DATA lengths differ from content-length data:1:1 end:1 ");

	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
	h2b_frame(w, KMESH_H2_DATA, 0, 1, "x", 1);
	n = h2_block(blk, "x", "1", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	stream_case("DATA and HEADERS after END_STREAM", 0, w,
		    "hdr:1:GET,http,svc,/ end:1 serr:1:frame after END_STREAM "
		    "serr:1:frame after END_STREAM ");

	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	n = h2_block(blk, "x", "1", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_END_STREAM, 1, "x", 1);
	stream_case("trailers without END_STREAM", 0, w,
		    "hdr:1:GET,http,svc,/ serr:1:trailers without END_STREAM data:1:1 end:1 ");

	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	n = h2_block(blk, ":path", "/x", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
	stream_case("pseudo-header in trailers", 0, w,
		    "hdr:1:GET,http,svc,/ serr:1:pseudo-header in trailers end:1 ");

	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/"), NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 1, "\x00\x00\x00\x00", 4);
	h2b_frame(w, KMESH_H2_PRIORITY, 0, 1, "\x00\x00\x00\x01\x10", 5);
	h2b_frame(w, KMESH_H2_PRIORITY, 0, 1, "\x00\x00\x00\x00", 4);
	stream_case("WINDOW_UPDATE 0, PRIORITY on itself, PRIORITY of 4 bytes", 0, w,
		    "hdr:1:GET,http,svc,/ serr:1:WINDOW_UPDATE of 0 on a stream "
		    "serr:1:stream depends on itself serr:1:PRIORITY length not 5 ");

	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/"), NULL);
	{
		__u8 f[256] = { 0, 0, 0, 1, 16 };

		memcpy(f + 5, blk, n);
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
			  KMESH_H2_FLAG_PRIORITY | KMESH_H2_FLAG_END_STREAM,
			  1, f, n + 5);
	}
	stream_case("HEADERS depending on itself", 0, w,
		    "serr:1:stream depends on itself end:1 ");

	/* more streams than tracked: 100 open, the 101st is refused */
	w->n = 0;
	h2b_preface(w);
	n = h2_block(blk, H2_GET("/"), NULL);
	for (i = 0; i < 101; i++)
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS,
			  (__u32)(2 * i + 1), blk, n);
	{
		char log[16384];

		tap_begin("h2: stream error: the 101st open stream is refused");
		EXPECT_EQ(parse_all(w, 0, NULL, log, sizeof(log)), 0);
		EXPECT(strstr(log, "hdr:199:") != NULL);
		EXPECT(strstr(log, "serr:201:more streams than tracked") != NULL);
		tap_end();
	}

	/* responses */
	w->n = 0;
	h2b_frame(w, KMESH_H2_SETTINGS, 0, 0, NULL, 0);
	n = h2_block(blk, ":status", "20", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	n = h2_block(blk, ":status", "103", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 3, blk, n);
	n = h2_block(blk, ":method", "GET", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 5, blk, n);
	n = h2_block(blk, "content-type", "text/plain", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 7, blk, n);
	n = h2_block(blk, ":status", "200", "content-length", "1", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 9, blk, n);
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_END_STREAM, 9, "ab", 2);
	n = h2_block(blk, ":status", "204", "content-length", "10", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
		  KMESH_H2_FLAG_END_STREAM, 11, blk, n);
	stream_case("responses: bad :status, 1xx ending the stream, :method, no :status, "
		    "DATA over content-length (and HEAD's empty body accepted)", 1, w,
		    "serr:1::status not three digits serr:3::status not three digits end:3 "
		    "serr:5:unknown pseudo-header serr:7:required pseudo-header missing "
		    "hdr:9:,,,status=200,cl=1;content-length=1 data:9:2 "
		    "serr:9:DATA lengths differ from content-length end:9 "
		    "hdr:11:,,,status=204,cl=10;content-length=10 end:11 ");
	free(w);
}

static void test_api(void)
{
	struct kmesh_h2_limits lim = { .max_frame_size = 100 };
	struct kmesh_h2_parser p;
	__u64 mem[64];

	tap_begin("h2: init refuses bad limits, small or misaligned memory");
	EXPECT_EQ(kmesh_h2_mem_size(&lim), 0);
	lim.max_frame_size = 0;
	lim.max_streams = KMESH_H2_MAX_STREAMS + 1;
	EXPECT_EQ(kmesh_h2_mem_size(&lim), 0);
	EXPECT(kmesh_h2_mem_size(NULL) > 16384);
	EXPECT_EQ(kmesh_h2_init(&p, KMESH_H2_FROM_CLIENT, NULL, mem, sizeof(mem),
				NULL, NULL), KMESH_H2_E_INVAL);
	EXPECT_EQ(kmesh_h2_init(&p, 2, NULL, mem, sizeof(mem), NULL, NULL),
		  KMESH_H2_E_INVAL);
	EXPECT_EQ(kmesh_h2_parse(NULL, NULL, 0), KMESH_H2_E_INVAL);
	tap_end();

	tap_begin("h2: every reason has a text; scopes and codes as RFC 9113 says");
	for (unsigned int r = 0; r < KMESH_H2_REASON_MAX; r++)
		EXPECT(strcmp(kmesh_h2_strreason(r), "unknown") != 0);
	EXPECT_EQ(kmesh_h2_reason_code(KMESH_H2_E_FRAME_SIZE), KMESH_H2_FRAME_SIZE_ERROR);
	EXPECT_EQ(kmesh_h2_reason_code(KMESH_H2_E_HPACK_HUFFMAN), KMESH_H2_COMPRESSION_ERROR);
	EXPECT_EQ(kmesh_h2_reason_code(KMESH_H2_E_STREAM_CLOSED), KMESH_H2_STREAM_CLOSED);
	EXPECT_EQ(kmesh_h2_reason_code(KMESH_H2_E_TOO_MANY_STREAMS), KMESH_H2_REFUSED_STREAM);
	EXPECT(kmesh_h2_reason_is_stream(KMESH_H2_E_TE));
	EXPECT(!kmesh_h2_reason_is_stream(KMESH_H2_E_CONTINUATION_FLOOD));
	EXPECT_STR_EQ(kmesh_h2_strreason(KMESH_H2_REASON_MAX), "unknown");
	tap_end();
}

/* A response on stream 1, as a client's parser reads it. */
struct reply_seen {
	int headers, end;
	__u16 status, grpc_status;
	__u32 flags, stream;
	char ctype[32];
};

static int reply_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct reply_seen *r = ctx;
	const struct kmesh_h2_msg *m = ev->msg;

	if (ev->type == KMESH_H2_EV_END_STREAM)
		r->end++;
	if (ev->type != KMESH_H2_EV_HEADERS)
		return 0;
	r->headers++;
	r->stream = ev->stream_id;
	r->status = m->status;
	r->grpc_status = m->grpc_status;
	r->flags = m->flags;
	if (m->content_type.len < sizeof(r->ctype))
		memcpy(r->ctype, m->text + m->content_type.off, m->content_type.len);
	return 0;
}

static int parse_reply(const __u8 *b, __u32 n, struct reply_seen *r)
{
	static const __u8 settings[9] = { 0, 0, 0, KMESH_H2_SETTINGS };
	struct kmesh_h2_parser p;
	__u32 len = kmesh_h2_mem_size(NULL);
	void *mem = aligned_alloc(8, (len + 7) & ~7U);
	int rc;

	memset(r, 0, sizeof(*r));
	if (!mem || kmesh_h2_init(&p, KMESH_H2_FROM_SERVER, NULL, mem, len,
				  reply_event, r))
		abort();
	rc = kmesh_h2_parse(&p, settings, sizeof(settings));
	if (!rc)
		rc = kmesh_h2_parse(&p, b, n);
	/* the client's decoder table: untouched */
	EXPECT_EQ(p.hpack.count, 0);
	EXPECT_EQ(p.hpack.size, 0);
	free(mem);
	return rc;
}

static void test_reply(void)
{
	struct reply_seen r;
	__u8 b[KMESH_H2_REPLY_MAX_LEN + 32];
	__u32 n;

	tap_begin("h2 reply: a refused stream's 403 parses as a response that ends the stream, the client's table untouched");
	n = kmesh_h2_reply_refused(b, 13, 403);
	EXPECT(n > 9 && n <= KMESH_H2_REPLY_MAX_LEN);
	EXPECT_EQ(parse_reply(b, n, &r), 0);
	EXPECT_EQ(r.headers, 1);
	EXPECT_EQ(r.stream, 13);
	EXPECT_EQ(r.status, 403);
	EXPECT_EQ(r.end, 1);
	n = kmesh_h2_reply_refused(b, 7, 451);
	EXPECT_EQ(parse_reply(b, n, &r), 0);
	EXPECT_EQ(r.status, 451);
	EXPECT_EQ(kmesh_h2_reply_refused(b, 1, 99), 0);
	EXPECT_EQ(kmesh_h2_reply_refused(b, 1, 600), 0);
	tap_end();

	tap_begin("h2 reply: a refused gRPC call is trailers-only: 200, application/grpc, grpc-status 7 (12 for 404, 14 for 503)");
	n = kmesh_h2_reply_refused(b, 15, 403 | KMESH_H2_REPLY_GRPC);
	EXPECT(n <= KMESH_H2_REPLY_MAX_LEN);
	EXPECT_EQ(parse_reply(b, n, &r), 0);
	EXPECT_EQ(r.status, 200);
	EXPECT(r.flags & KMESH_H2_M_HAS_GRPC_STATUS);
	EXPECT_EQ(r.grpc_status, 7);
	EXPECT_STR_EQ(r.ctype, "application/grpc");
	EXPECT_EQ(r.end, 1);
	n = kmesh_h2_reply_refused(b, 15, 404 | KMESH_H2_REPLY_GRPC);
	EXPECT_EQ(parse_reply(b, n, &r), 0);
	EXPECT_EQ(r.grpc_status, 12);
	n = kmesh_h2_reply_refused(b, 15, 503 | KMESH_H2_REPLY_GRPC);
	EXPECT(n <= KMESH_H2_REPLY_MAX_LEN);
	EXPECT_EQ(parse_reply(b, n, &r), 0);
	EXPECT_EQ(r.grpc_status, 14);
	tap_end();

	tap_begin("h2 reply: RST_STREAM and WINDOW_UPDATE frames as a parser reads them");
	n = kmesh_h2_frame_window_update(b, 0, 1234);
	n += kmesh_h2_frame_rst(b + n, 1, KMESH_H2_CANCEL);
	EXPECT_EQ(n, 26);
	EXPECT_EQ(b[3], KMESH_H2_WINDOW_UPDATE);
	EXPECT_EQ(b[12] | b[11] << 8, 1234);
	EXPECT_EQ(b[13 + 3], KMESH_H2_RST_STREAM);
	EXPECT_EQ(b[13 + 12], KMESH_H2_CANCEL);
	tap_end();
}

int main(void)
{
	tap_header();
	test_valid();
	test_conn_errors();
	test_stream_errors();
	test_api();
	test_reply();
	return tap_finish();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf_kmesh_h2_parse(), called from a syscall program (both lanes: 6.1
 * registers module kfuncs for syscall programs): the first request of an
 * HTTP/2 connection as the module's core reads it, every prefix of it
 * still valid, refusals with their reason, and the sizes it refuses.
 * The same bytes through the core on the host must give the same verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "h2_parse.skel.h"
#include "tap.h"
#include "tests.h"
#include "util.h"
#include "../unit/h2_util.h"

static struct h2_parse_bpf *open_and_load(const char *extra_prog)
{
	struct h2_parse_bpf *skel = h2_parse_bpf__open();

	if (skel && skel_load_logged(skel->skeleton, extra_prog)) {
		h2_parse_bpf__destroy(skel);
		skel = NULL;
	}
	return skel;
}

static int run(struct h2_parse_bpf *skel, struct bpf_program *prog,
	       const void *bytes, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memcpy(skel->bss->buf, bytes, len);
	skel->bss->buf_len = (__u32)len;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -1000;
	return skel->data->ret;
}

static const char *span(const struct kmesh_h2_req *r, struct kmesh_http_span s)
{
	static char out[4][KMESH_H2_REQ_TEXT + 1];
	static int k;
	char *o = out[k++ % 4];

	if (s.off + s.len > KMESH_H2_REQ_TEXT)
		return "(out of text)";
	memcpy(o, r->text + s.off, s.len);
	o[s.len] = 0;
	return o;
}

/* The core on the host: the reason it stops with on these bytes. */
static int core_verdict(const struct h2buf *w)
{
	struct h2p t;
	int rc;

	h2p_init(&t, KMESH_H2_FROM_CLIENT, NULL);
	rc = kmesh_h2_parse(&t.p, w->b, (__u32)w->n);
	if (!rc) {
		const char *e = strstr(t.log.s, "serr:");

		rc = e ? -1 : 0;	/* a stream error: compared by text below */
	}
	h2p_free(&t);
	return rc;
}

static void test_first_request(struct h2_parse_bpf *skel)
{
	struct h2buf *w = calloc(1, sizeof(*w));
	const struct kmesh_h2_req *r = &skel->bss->req;
	__u8 blk[256];
	size_t n, end, i;
	int bad = 0;

	h2b_preface(w);
	h2b_frame(w, KMESH_H2_WINDOW_UPDATE, 0, 0, "\x00\x0f\x00\x01", 4);
	n = h2_block(blk, ":method", "POST", ":scheme", "http", ":path",
		     "/shop.v1.Catalog/GetItem", ":authority", "catalog:8080",
		     "content-type", "application/grpc", "te", "trailers",
		     "content-length", "12", NULL);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, blk, n);
	end = w->n;
	h2b_frame(w, KMESH_H2_DATA, KMESH_H2_FLAG_END_STREAM, 1, "\0\0\0\0\x07message", 12);

	tap_begin("h2: the first request: method, scheme, authority, path, stream, where it ends");
	EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n), KMESH_H2_REQ_OK);
	EXPECT_EQ(r->status, KMESH_H2_REQ_OK);
	EXPECT_EQ(r->stream_id, 1);
	EXPECT_EQ(r->consumed, end);
	EXPECT_STR_EQ(span(r, r->method), "POST");
	EXPECT_STR_EQ(span(r, r->scheme), "http");
	EXPECT_STR_EQ(span(r, r->authority), "catalog:8080");
	EXPECT_STR_EQ(span(r, r->path), "/shop.v1.Catalog/GetItem");
	EXPECT_EQ(r->flags, KMESH_H2_REQ_F_HAS_CL);
	EXPECT_EQ(r->content_length, 12);
	tap_end();

	tap_begin("h2: every shorter prefix is NEED_MORE, never a verdict");
	for (i = 0; i < end; i++)
		if (run(skel, skel->progs.h2_parse, w->b, i) != KMESH_H2_REQ_NEED_MORE)
			bad++;
	EXPECT_EQ(bad, 0);
	tap_end();

	/* RFC 7541 C.4.1, Huffman-coded, split over HEADERS + CONTINUATION */
	w->n = 0;
	h2b_preface(w);
	{
		static const __u8 c41[] = { 0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1,
			0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff };

		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_STREAM, 3, c41, 6);
		h2b_frame(w, KMESH_H2_CONTINUATION, KMESH_H2_FLAG_END_HEADERS, 3,
			  c41 + 6, sizeof(c41) - 6);
	}
	tap_begin("h2: RFC 7541 C.4.1 (Huffman) over HEADERS + CONTINUATION, stream 3");
	EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n), KMESH_H2_REQ_OK);
	EXPECT_EQ(r->stream_id, 3);
	EXPECT_STR_EQ(span(r, r->method), "GET");
	EXPECT_STR_EQ(span(r, r->authority), "www.example.com");
	EXPECT_STR_EQ(span(r, r->path), "/");
	EXPECT_EQ(r->flags, KMESH_H2_REQ_F_END_STREAM);
	EXPECT_EQ(r->consumed, w->n);
	tap_end();
	free(w);
}

static void test_refusals(struct h2_parse_bpf *skel)
{
	static const struct {
		const char *name;
		const char *f[6];	/* extra field pairs */
		int reason;
	} fields[] = {
		{ "uppercase field name", { "X-Up", "1" }, KMESH_H2_E_NAME_UPPERCASE },
		{ "connection-specific field", { "transfer-encoding", "chunked" },
		  KMESH_H2_E_CONNECTION_HEADER },
		{ "te: gzip", { "te", "gzip" }, KMESH_H2_E_TE },
		{ "host differing from :authority", { "host", "evil" },
		  KMESH_H2_E_HOST_MISMATCH },
	};
	struct h2buf *w = calloc(1, sizeof(*w));
	const struct kmesh_h2_req *r = &skel->bss->req;
	__u8 blk[256];
	size_t i, n;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		w->n = 0;
		h2b_preface(w);
		n = h2_block(blk, H2_GET("/"), fields[i].f[0], fields[i].f[1], NULL);
		h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
			  KMESH_H2_FLAG_END_STREAM, 1, blk, n);
		tap_begin("h2: refused: %s -> %s", fields[i].name,
			  kmesh_h2_strreason(fields[i].reason));
		EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n), KMESH_H2_REQ_REFUSED);
		EXPECT_EQ(r->reason, fields[i].reason);
		EXPECT_EQ(r->stream_id, 1);
		EXPECT_EQ(core_verdict(w), -1);
		tap_end();
	}

	w->n = 0;
	h2b_put(w, "GET / HTTP/1.1\r\nhost: x\r\n\r\n", 27);
	tap_begin("h2: refused: HTTP/1.1 bytes -> not the preface, at offset 0");
	EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n), KMESH_H2_REQ_REFUSED);
	EXPECT_EQ(r->reason, KMESH_H2_E_PREFACE);
	EXPECT_EQ(r->consumed, 0);
	EXPECT_EQ(core_verdict(w), KMESH_H2_E_PREFACE);
	tap_end();

	w->n = 0;
	h2b_preface(w);
	h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS, 1, "\xbe", 1);
	tap_begin("h2: refused: HPACK index out of range -> the connection, at its frame");
	EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n), KMESH_H2_REQ_REFUSED);
	EXPECT_EQ(r->reason, KMESH_H2_E_HPACK_INDEX);
	EXPECT_EQ(r->consumed, KMESH_H2_PREFACE_LEN + 9);
	EXPECT_EQ(core_verdict(w), KMESH_H2_E_HPACK_INDEX);
	tap_end();

	w->n = 0;
	h2b_preface(w);
	n = h2_lit(blk, "x", "");
	h2b_frame(w, KMESH_H2_HEADERS, 0, 1, blk, n);
	for (i = 0; i < 17; i++)
		h2b_frame(w, KMESH_H2_CONTINUATION, 0, 1, NULL, 0);
	tap_begin("h2: refused: CONTINUATION flood");
	EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n), KMESH_H2_REQ_REFUSED);
	EXPECT_EQ(r->reason, KMESH_H2_E_CONTINUATION_FLOOD);
	tap_end();

	/* a long :path overflows text[] */
	{
		char path[1100];

		memset(path, 'a', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = 0;
		w->n = 0;
		h2b_preface(w);
		n = 0;
		{
			static __u8 big[2048];

			n = h2_block(big, ":method", "GET", ":scheme", "http",
				     ":authority", "a", NULL);
			big[n++] = 0;
			n += h2_int(big + n, 0, 7, 5);
			memcpy(big + n, ":path", 5);
			n += 5;
			n += h2_int(big + n, 0, 7, (__u32)strlen(path));
			memcpy(big + n, path, strlen(path));
			n += strlen(path);
			h2b_frame(w, KMESH_H2_HEADERS, KMESH_H2_FLAG_END_HEADERS |
				  KMESH_H2_FLAG_END_STREAM, 1, big, n);
		}
		tap_begin("h2: a :path longer than the result's text is TOO_LARGE");
		EXPECT_EQ(run(skel, skel->progs.h2_parse, w->b, w->n),
			  KMESH_H2_REQ_TOO_LARGE);
		tap_end();
	}
	free(w);
}

static void test_sizes(struct h2_parse_bpf *skel)
{
	static __u8 big[KMESH_H2_REQ_MAX_BYTES + 1];
	struct h2_parse_bpf *s;

	tap_begin("h2: sizes: more than KMESH_H2_REQ_MAX_BYTES is -EINVAL");
	EXPECT_EQ(run(skel, skel->progs.h2_parse, big, sizeof(big)), -EINVAL);
	EXPECT_EQ(run(skel, skel->progs.h2_parse, big, 0), KMESH_H2_REQ_NEED_MORE);
	tap_end();

	tap_begin("h2: sizes: a result struct of the wrong size is -EINVAL");
	s = open_and_load("h2_parse_bad_size");
	EXPECT(s);
	if (s) {
		EXPECT_EQ(run(s, s->progs.h2_parse_bad_size, KMESH_H2_PREFACE, 24), -EINVAL);
		h2_parse_bpf__destroy(s);
	}
	tap_end();

	tap_begin("h2: sizes: a NULL result of size 0 is -EINVAL");
	s = open_and_load("h2_parse_null");
	EXPECT(s);
	if (s) {
		EXPECT_EQ(run(s, s->progs.h2_parse_null, KMESH_H2_PREFACE, 24), -EINVAL);
		h2_parse_bpf__destroy(s);
	}
	tap_end();
}

void test_h2(void)
{
	struct h2_parse_bpf *skel;

	if (!kmesh_loaded())
		kmesh_modprobe(NULL);
	tap_begin("h2: bpf_kmesh_h2_parse program loads");
	skel = open_and_load(NULL);
	EXPECT(skel);
	tap_end();
	if (!skel)
		return;
	test_first_request(skel);
	test_refusals(skel);
	test_sizes(skel);
	h2_parse_bpf__destroy(skel);
}

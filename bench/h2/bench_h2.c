// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host micro-benchmark of kmesh's HTTP/2 core (kmod/core/hpack.c and
 * h2_frame.c, the very sources the module builds) against Debian's
 * libnghttp2 on the same bytes, run by bench/h2/run.sh (`make bench-h2`):
 *
 *  1. HPACK: sequences of header blocks produced by nghttp2's deflater
 *     (gRPC calls; browser-like requests with cookies; responses),
 *     decoded from a fresh table by kmesh_hpack_decode() and by
 *     nghttp2_hd_inflate_hd2();
 *  2. frames: the bytes a real nghttp2 client session writes for 100
 *     requests on one connection, parsed by kmesh_h2_parse() (client
 *     side: frames, HPACK, the RFC 9113 checks, a summary per stream) and
 *     by an nghttp2 server session's nghttp2_session_mem_recv() (frames,
 *     HPACK, its HTTP checks, stream state, callbacks per header).
 *
 * Method as bench/parser/bench_parser.c: every figure is a median over
 * REPS repetitions, the candidates' batches interleaved with their order
 * rotated, ratios the median of per-repetition ratios; inputs are heap
 * copies, an empty asm with a "memory" clobber keeps the compiler from
 * dropping work, results feed a printed checksum, no LTO. Both sides
 * start from a fresh decoder or session in every iteration and touch
 * every field they are handed (lengths summed).
 *
 *	bench_h2 [--reps N] [--batch-ms MS] [--plot-data FILE]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

#include "../microbench.h"
#include "core/h2_frame.h"
#include "core/hpack.h"

static void die(const char *msg)
{
	fprintf(stderr, "bench_h2: %s\n", msg);
	exit(1);
}

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng = rng * 1103515245 + 12345;
	return rng >> 8;
}

/* ---------------- HPACK inputs ---------------- */

#define NBLOCKS 100
#define MAXNV 24

struct hcase {
	const char *key, *name;
	int response;
	uint8_t *buf;			/* blocks back to back */
	size_t off[NBLOCKS + 1];	/* block i: [off[i], off[i + 1]) */
	size_t fields, plain_bytes;	/* per sequence */
};

static struct hcase hcases[3];

struct nvset {
	nghttp2_nv nv[MAXNV];
	char store[MAXNV][2][320];
	int n;
};

static void nv(struct nvset *s, const char *name, const char *value)
{
	int i = s->n++;

	snprintf(s->store[i][0], sizeof(s->store[i][0]), "%s", name);
	snprintf(s->store[i][1], sizeof(s->store[i][1]), "%s", value);
	s->nv[i] = (nghttp2_nv){ (uint8_t *)s->store[i][0], (uint8_t *)s->store[i][1],
				 strlen(name), strlen(s->store[i][1]), 0 };
}

static void fill_nv(struct nvset *s, int kind, int i)
{
	char v[320];

	s->n = 0;
	switch (kind) {
	case 0:		/* gRPC unary calls, a handful of methods */
		nv(s, ":method", "POST");
		nv(s, ":scheme", "http");
		snprintf(v, sizeof(v), "/shop.v1.Catalog/%s",
			 (const char *[]){ "GetItem", "ListItems", "Search", "Price" }[rnd() % 4]);
		nv(s, ":path", v);
		nv(s, ":authority", "catalog.shop.svc.cluster.local:8080");
		nv(s, "content-type", "application/grpc");
		nv(s, "te", "trailers");
		nv(s, "user-agent", "grpc-go/1.58.3");
		snprintf(v, sizeof(v), "%uS", 1 + rnd() % 30);
		nv(s, "grpc-timeout", v);
		snprintf(v, sizeof(v), "00-%08x%08x%08x%08x-%08x%08x-01", rnd(), rnd(),
			 rnd(), rnd(), rnd(), rnd());
		nv(s, "traceparent", v);
		snprintf(v, sizeof(v), "req-%u", i);
		nv(s, "x-request-id", v);
		break;
	case 1:		/* browser-like GETs through a front end */
		nv(s, ":method", "GET");
		nv(s, ":scheme", "https");
		snprintf(v, sizeof(v), "/products/%u?color=blue&size=%u&sort=price_asc",
			 rnd() % 1000, 36 + rnd() % 10);
		nv(s, ":path", v);
		nv(s, ":authority", "shop.example.com");
		nv(s, "user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0");
		nv(s, "accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
		nv(s, "accept-language", "en-US,en;q=0.5");
		nv(s, "accept-encoding", "gzip, deflate, br");
		snprintf(v, sizeof(v), "session_id=%08x%08x%08x%08x; csrftoken=Zx8uQm3kT1vB7pLw9sRj2yHc4nDf6gAe; _ga=GA1.2.%u.1690000000; cart=sku-%u:2",
			 rnd(), rnd(), rnd(), rnd(), rnd(), rnd() % 5000);
		nv(s, "cookie", v);
		nv(s, "referer", "https://shop.example.com/products");
		nv(s, "sec-fetch-dest", "document");
		nv(s, "sec-fetch-mode", "navigate");
		break;
	default:	/* gRPC responses and their trailers, alternating */
		if (i % 2 == 0) {
			nv(s, ":status", "200");
			nv(s, "content-type", "application/grpc");
			snprintf(v, sizeof(v), "%u", rnd());
			nv(s, "x-envoy-upstream-service-time", v);
			nv(s, "date", "Mon, 07 Dec 2026 05:30:00 GMT");
			nv(s, "server", "envoy");
		} else {
			snprintf(v, sizeof(v), "%u", rnd() % 3 ? 0 : 5);
			nv(s, "grpc-status", v);
			nv(s, "grpc-message", rnd() % 3 ? "" : "item not found");
		}
	}
}

static void make_hcases(void)
{
	static const char *const keys[] = { "grpc", "browser", "responses" };
	static const char *const names[] = {
		"gRPC calls (10 fields)", "browser GETs (12 fields, cookie)",
		"gRPC responses + trailers",
	};
	uint8_t *tmp = malloc(1 << 20);
	int k, i;

	for (k = 0; k < 3; k++) {
		struct hcase *c = &hcases[k];
		nghttp2_hd_deflater *def;
		struct nvset s;
		size_t len = 0;

		c->key = keys[k];
		c->name = names[k];
		c->response = k == 2;
		nghttp2_hd_deflate_new(&def, 4096);
		for (i = 0; i < NBLOCKS; i++) {
			ssize_t n;
			int j;

			fill_nv(&s, k, i);
			c->off[i] = len;
			n = nghttp2_hd_deflate_hd(def, tmp + len, (1 << 20) - len, s.nv, s.n);
			if (n < 0)
				die("deflate failed");
			len += n;
			c->fields += s.n;
			for (j = 0; j < s.n; j++)
				c->plain_bytes += s.nv[j].namelen + s.nv[j].valuelen;
		}
		c->off[NBLOCKS] = len;
		c->buf = malloc(len);
		memcpy(c->buf, tmp, len);
		nghttp2_hd_deflate_del(def);
	}
	free(tmp);
}

/* ---------------- HPACK: kmesh ---------------- */

static void *hp_mem;
static uint32_t hp_mem_len;

static int sum_field(void *ctx, const struct kmesh_hpack_field *f)
{
	*(uint64_t *)ctx += f->name_len + f->value_len + f->name[0] +
			    (f->value_len ? f->value[0] : 0);
	return 0;
}

static uint64_t run_hpack_kmesh(const void *arg, long iters)
{
	const struct hcase *c = arg;
	struct kmesh_hpack h;
	uint64_t sum = 0;
	long it;
	int i;

	for (it = 0; it < iters; it++) {
		OPAQUE(c->buf);
		kmesh_hpack_init(&h, hp_mem, hp_mem_len, 4096, 16384);
		for (i = 0; i < NBLOCKS; i++)
			sum += kmesh_hpack_decode(&h, c->buf + c->off[i],
						  c->off[i + 1] - c->off[i],
						  sum_field, &sum);
		OPAQUE(&h);
	}
	return sum;
}

/* ---------------- HPACK: nghttp2 ---------------- */

static uint64_t run_hpack_nghttp2(const void *arg, long iters)
{
	const struct hcase *c = arg;
	uint64_t sum = 0;
	long it;
	int i;

	for (it = 0; it < iters; it++) {
		nghttp2_hd_inflater *inf;

		OPAQUE(c->buf);
		nghttp2_hd_inflate_new(&inf);
		for (i = 0; i < NBLOCKS; i++) {
			const uint8_t *p = c->buf + c->off[i];
			size_t left = c->off[i + 1] - c->off[i];

			for (;;) {
				nghttp2_nv out;
				int fl = 0;
				ssize_t r = nghttp2_hd_inflate_hd2(inf, &out, &fl, p, left, 1);

				if (r < 0)
					die("nghttp2 inflate failed");
				p += r;
				left -= r;
				if (fl & NGHTTP2_HD_INFLATE_EMIT)
					sum += out.namelen + out.valuelen + out.name[0] +
					       (out.valuelen ? out.value[0] : 0);
				if (fl & NGHTTP2_HD_INFLATE_FINAL) {
					nghttp2_hd_inflate_end_headers(inf);
					break;
				}
				if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !left)
					break;
			}
		}
		nghttp2_hd_inflate_del(inf);
	}
	return sum;
}

/* ---------------- frames ---------------- */

struct fcase {
	uint8_t *buf;
	size_t len;
	int streams;
	uint64_t body;
};

static struct fcase fcase;

static ssize_t to_buf(nghttp2_session *s, const uint8_t *d, size_t n, int f,
		      void *u)
{
	struct fcase *c = u;

	(void)s;
	(void)f;
	memcpy(c->buf + c->len, d, n);
	c->len += n;
	return (ssize_t)n;
}

static ssize_t body_cb(nghttp2_session *s, int32_t id, uint8_t *b, size_t len,
		       uint32_t *flags, nghttp2_data_source *src, void *u)
{
	size_t *left = src->ptr, n = *left < len ? *left : len;

	(void)s;
	(void)id;
	(void)u;
	memset(b, 0, n);
	*left -= n;
	if (!*left)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void make_fcase(void)
{
	static size_t bodies[100];
	nghttp2_session_callbacks *cb;
	nghttp2_session *cli;
	struct nvset s;
	int i;

	fcase.buf = malloc(1 << 20);
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, to_buf);
	nghttp2_session_client_new(&cli, cb, &fcase);
	nghttp2_submit_settings(cli, NGHTTP2_FLAG_NONE, NULL, 0);
	for (i = 0; i < 100; i++) {
		nghttp2_data_provider dp = { .source.ptr = &bodies[i],
					     .read_callback = body_cb };

		fill_nv(&s, 0, i);
		/* gRPC messages: a 5-byte prefix and a small protobuf */
		bodies[i] = 5 + rnd() % 400;
		fcase.body += bodies[i];
		if (nghttp2_submit_request(cli, NULL, s.nv, s.n, &dp, NULL) < 0)
			die("submit failed");
	}
	if (nghttp2_session_send(cli))
		die("send failed");
	fcase.streams = 100;
	nghttp2_session_del(cli);
	nghttp2_session_callbacks_del(cb);
}

static void *h2_mem;
static uint32_t h2_mem_len;

struct h2_sum {
	uint64_t sum;
	int headers, ends;
};

static int h2_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct h2_sum *s = ctx;

	switch (ev->type) {
	case KMESH_H2_EV_HEADERS:
		s->headers++;
		s->sum += ev->msg->path.len + ev->msg->nr_fields;
		break;
	case KMESH_H2_EV_DATA:
		s->sum += ev->value;
		break;
	case KMESH_H2_EV_END_STREAM:
		s->ends++;
		break;
	case KMESH_H2_EV_STREAM_ERROR:
		die("kmesh refused a stream of the benchmark");
	}
	return 0;
}

static uint64_t run_frames_kmesh(const void *arg, long iters)
{
	const struct fcase *c = arg;
	struct kmesh_h2_parser *p = malloc(sizeof(*p));
	uint64_t sum = 0;
	long it;

	for (it = 0; it < iters; it++) {
		struct h2_sum s = { 0 };

		OPAQUE(c->buf);
		kmesh_h2_init(p, KMESH_H2_FROM_CLIENT, NULL, h2_mem, h2_mem_len,
			      h2_event, &s);
		if (kmesh_h2_parse(p, c->buf, c->len))
			die("kmesh refused the benchmark's connection");
		OPAQUE(p);
		sum += s.sum + s.headers + s.ends;
	}
	free(p);
	return sum;
}

struct ng_sum {
	uint64_t sum;
	int headers, ends;
};

static int ng_header(nghttp2_session *s, const nghttp2_frame *f,
		     const uint8_t *name, size_t nl, const uint8_t *value,
		     size_t vl, uint8_t flags, void *u)
{
	struct ng_sum *x = u;

	(void)s;
	(void)f;
	(void)flags;
	x->sum += nl + vl + name[0];
	(void)value;
	return 0;
}

static int ng_frame(nghttp2_session *s, const nghttp2_frame *f, void *u)
{
	struct ng_sum *x = u;

	(void)s;
	if (f->hd.type == NGHTTP2_HEADERS)
		x->headers++;
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM &&
	    (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA))
		x->ends++;
	return 0;
}

static int ng_data(nghttp2_session *s, uint8_t flags, int32_t id,
		   const uint8_t *d, size_t len, void *u)
{
	(void)s;
	(void)flags;
	(void)id;
	(void)d;
	((struct ng_sum *)u)->sum += len;
	return 0;
}

static nghttp2_session_callbacks *ng_cb;

static uint64_t run_frames_nghttp2(const void *arg, long iters)
{
	const struct fcase *c = arg;
	uint64_t sum = 0;
	long it;

	for (it = 0; it < iters; it++) {
		struct ng_sum x = { 0 };
		nghttp2_session *srv;

		OPAQUE(c->buf);
		nghttp2_session_server_new(&srv, ng_cb, &x);
		if (nghttp2_session_mem_recv(srv, c->buf, c->len) != (ssize_t)c->len)
			die("nghttp2 refused the benchmark's connection");
		nghttp2_session_del(srv);
		sum += x.sum + x.headers + x.ends;
	}
	return sum;
}

/* ---------------- runs ---------------- */

struct cand {
	const char *name;
	run_fn ours, theirs;
	const void *arg;
	const char *key;
	double units;		/* per iteration: blocks or requests */
	double ns[2][256];
};

static void bench(struct cand *cs, int n)
{
	long iters[8][2];
	int c, r, k;

	for (c = 0; c < n; c++) {
		iters[c][0] = calibrate(cs[c].ours, cs[c].arg, 4);
		iters[c][1] = calibrate(cs[c].theirs, cs[c].arg, 4);
	}
	for (r = 0; r < reps; r++)
		for (c = 0; c < n; c++)
			for (k = 0; k < 2; k++) {
				int j = (k + r) % 2;

				cs[c].ns[j][r] = time_batch(j ? cs[c].theirs : cs[c].ours,
							    cs[c].arg, iters[c][j]) /
						 cs[c].units;
			}
}

int main(int argc, char **argv)
{
	const char *plot = NULL;
	struct cand cs[4];
	double ratio[4][256];
	FILE *pf = NULL;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--batch-ms") && i + 1 < argc)
			batch_ms = atof(argv[++i]);
		else if (!strcmp(argv[i], "--plot-data") && i + 1 < argc)
			plot = argv[++i];
		else
			die("usage: bench_h2 [--reps N] [--batch-ms MS] [--plot-data FILE]");
	}
	if (reps < 3 || reps > 256 || batch_ms <= 0)
		die("--reps must be 3..256, --batch-ms positive");
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_hcases();
	make_fcase();
	hp_mem_len = kmesh_hpack_mem_size(4096, 16384);
	hp_mem = aligned_alloc(8, (hp_mem_len + 7) & ~7U);
	h2_mem_len = kmesh_h2_mem_size(NULL);
	h2_mem = aligned_alloc(8, (h2_mem_len + 7) & ~7U);
	nghttp2_session_callbacks_new(&ng_cb);
	nghttp2_session_callbacks_set_on_header_callback(ng_cb, ng_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(ng_cb, ng_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(ng_cb, ng_data);

	/* both must see the same thing before anything is timed */
	for (i = 0; i < 3; i++) {
		uint64_t a = run_hpack_kmesh(&hcases[i], 1);
		uint64_t b = run_hpack_nghttp2(&hcases[i], 1);

		if (a != b)
			die("kmesh and nghttp2 decode an HPACK sequence differently");
		cs[i] = (struct cand){ .name = hcases[i].name,
				       .ours = run_hpack_kmesh,
				       .theirs = run_hpack_nghttp2,
				       .arg = &hcases[i], .key = hcases[i].key,
				       .units = NBLOCKS };
	}
	{
		struct kmesh_h2_parser *p = malloc(sizeof(*p));
		struct h2_sum s = { 0 };
		struct ng_sum x = { 0 };
		nghttp2_session *srv;

		kmesh_h2_init(p, KMESH_H2_FROM_CLIENT, NULL, h2_mem, h2_mem_len,
			      h2_event, &s);
		if (kmesh_h2_parse(p, fcase.buf, fcase.len))
			die("kmesh refused the benchmark's connection");
		nghttp2_session_server_new(&srv, ng_cb, &x);
		nghttp2_session_mem_recv(srv, fcase.buf, fcase.len);
		nghttp2_session_del(srv);
		if (s.headers != 100 || x.headers != 100 || s.ends != 100 ||
		    x.ends != 100)
			die("kmesh and nghttp2 see different streams");
		free(p);
	}
	cs[3] = (struct cand){ .name = "100 gRPC calls on one connection (frames + HPACK)",
			       .ours = run_frames_kmesh,
			       .theirs = run_frames_nghttp2, .arg = &fcase,
			       .key = "frames", .units = 100 };
	bench(cs, 4);

	printf("## HPACK decoding and frame parsing: kmesh vs nghttp2 %s\n\n",
	       nghttp2_version(0)->version_str);
	printf("| input | bytes | kmesh ns/unit | nghttp2 ns/unit | ratio (p25-p75) |\n");
	printf("|---|---:|---:|---:|---:|\n");
	if (plot)
		pf = fopen(plot, "w");
	for (i = 0; i < 4; i++) {
		double k = quantile(cs[i].ns[0], reps, 0.5);
		double t = quantile(cs[i].ns[1], reps, 0.5);
		size_t bytes = i < 3 ? hcases[i].off[NBLOCKS] : fcase.len;

		for (r = 0; r < reps; r++)
			ratio[i][r] = cs[i].ns[1][r] / cs[i].ns[0][r];
		printf("| %s | %zu | %.0f | %.0f | **%.2f** (%.2f-%.2f) |\n",
		       cs[i].name, bytes, k, t, quantile(ratio[i], reps, 0.5),
		       quantile(ratio[i], reps, 0.25), quantile(ratio[i], reps, 0.75));
		if (pf)
			fprintf(pf, "\"%s\" %.1f %.1f\n", cs[i].key, k, t);
	}
	if (pf)
		fclose(pf);
	printf("\nunit: one header block (HPACK rows, %d blocks from a fresh table) or one request "
	       "(frames row: %zu bytes, %d streams, %llu body bytes). ratio = nghttp2 time / "
	       "kmesh time (>1: kmesh faster), the median of the per-repetition ratios.\n\n",
	       NBLOCKS, fcase.len, fcase.streams, (unsigned long long)fcase.body);
	{
		/* the figure: all HPACK inputs together (geometric mean) */
		double g = 1;

		for (i = 0; i < 3; i++)
			g *= quantile(ratio[i], reps, 0.5);
		for (i = 0; i < 3; i++)
			printf("kmesh-figure: hpack_decode_vs_nghttp2_%s %.2f\n", cs[i].key,
			       quantile(ratio[i], reps, 0.5));
		printf("kmesh-figure: hpack_decode_vs_nghttp2 %.2f\n", __builtin_cbrt(g));
		printf("kmesh-figure: h2_frame_parse_vs_nghttp2 %.2f\n",
		       quantile(ratio[3], reps, 0.5));
	}
	printf("<!-- checksum %llx -->\n", (unsigned long long)checksum);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host micro-benchmark of kmesh's L7 core (kmod/core/, the very sources the
 * module builds), run by bench/parser/run.sh (`make bench-parser`):
 *
 *  1. the HTTP/1.1 request-head parser against the legacy Node.js
 *     http-parser (Debian's libhttp-parser-dev) on the same bytes;
 *  2. route matching on a node holding 10 .. 10,000 routes.
 *
 * Every figure is a median over REPS repetitions, and the repetitions of
 * all candidates are interleaved (rep 1 of everything, then rep 2, ...,
 * with the order of the candidates rotated each time), so that a load
 * change on a busy machine hits them alike; ratios are the median of the
 * per-repetition ratios of neighbouring batches.
 *
 * The compiler cannot drop or hoist the work: the inputs are heap copies
 * made at run time, an empty asm with a "memory" clobber before every
 * call makes the buffer and the result look changed, every call's result
 * is folded into a checksum that is printed, and the core sources are
 * separate translation units (no LTO).
 *
 *	bench_parser [--reps N] [--batch-ms MS] [--plot-data FILE] [--parser-only]
 *
 * Prints markdown (tables, method notes) and the kmesh-figure lines.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "../microbench.h"
#include "core/http1.h"
#include "core/route.h"
#include "route_build.h"

#if __has_include("core/chunk.h")
#include "core/chunk.h"
#define HAVE_CHUNK 1
#else
#define HAVE_CHUNK 0
#endif

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench_parser: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static double median(const double *v, int n)
{
	return quantile(v, n, 0.5);
}

/* ---------------- inputs ---------------- */

static const char small_get[] =
	"GET /api/v1/items?id=7 HTTP/1.1\r\n"
	"Host: shop.example.com\r\n"
	"User-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n"
	"\r\n";

static const char browser_get[] =
	"GET /products/shoes/running?color=blue&size=42&sort=price_asc HTTP/1.1\r\n"
	"Host: shop.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate, br\r\n"
	"Referer: https://shop.example.com/products/shoes\r\n"
	"Connection: keep-alive\r\n"
	"Cookie: session_id=8f14e45fceea167a5a36dedd4bea2543; "
	"csrftoken=Zx8uQm3kT1vB7pLw9sRj2yHc4nDf6gAe; "
	"_ga=GA1.2.1234567890.1690000000; _gid=GA1.2.987654321.1690000000; "
	"cart=sku-1042:2|sku-2211:1; prefs=lang%3Den%26cur%3DEUR%26theme%3Ddark\r\n"
	"Upgrade-Insecure-Requests: 1\r\n"
	"Sec-Fetch-Dest: document\r\n"
	"Sec-Fetch-Mode: navigate\r\n"
	"Sec-Fetch-Site: same-origin\r\n"
	"Sec-Fetch-User: ?1\r\n"
	"\r\n";

static const char post_head[] =
	"POST /api/v1/orders HTTP/1.1\r\n"
	"Host: shop.example.com\r\n"
	"User-Agent: shop-client/2.3\r\n"
	"Content-Type: application/json\r\n"
	"Accept: application/json\r\n"
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl\r\n"
	"Transfer-Encoding: chunked\r\n"
	"\r\n";

/* Chunk sizes of the POST body (JSON filler), then "0\r\n\r\n". */
static const unsigned int post_chunks[] = { 512, 256, 64 };

struct pcase {
	const char *key;	/* kmesh-figure suffix */
	const char *name;
	__u8 *buf;		/* heap copy, exact size */
	size_t len, head_len, body_len;
};

static struct pcase pcases[3];

static __u8 *heap_copy(const void *p, size_t n)
{
	__u8 *b = malloc(n);

	if (!b)
		die("%s", "out of memory");
	memcpy(b, p, n);
	return b;
}

static void make_cases(void)
{
	char body[2048], *p = body;
	size_t i, j, hl = strlen(post_head);
	char *all;

	for (i = 0; i < sizeof(post_chunks) / sizeof(post_chunks[0]); i++) {
		p += sprintf(p, "%x\r\n", post_chunks[i]);
		for (j = 0; j < post_chunks[i]; j++)
			*p++ = "{\"sku\":\"1042\",\"qty\":2},"[j % 23];
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "0\r\n\r\n");

	pcases[0] = (struct pcase){ "small", "small GET",
		heap_copy(small_get, strlen(small_get)), strlen(small_get),
		strlen(small_get), 0 };
	pcases[1] = (struct pcase){ "browser", "browser GET, long Cookie",
		heap_copy(browser_get, strlen(browser_get)),
		strlen(browser_get), strlen(browser_get), 0 };
	all = malloc(hl + (p - body));
	memcpy(all, post_head, hl);
	memcpy(all + hl, body, p - body);
	pcases[2] = (struct pcase){ "chunked_post",
		HAVE_CHUNK ? "POST head + chunked body" :
			     "POST head (body not scanned: no chunk.h)",
		heap_copy(all, hl + (p - body)), hl + (p - body), hl,
		p - body };
	free(all);
}

/* ---------------- kmesh ---------------- */

static uint64_t run_kmesh(const void *arg, long iters)
{
	const struct pcase *c = arg;
	struct kmesh_http_req req;
	uint64_t sum = 0;
	long i;
	int rc;

	for (i = 0; i < iters; i++) {
		OPAQUE(c->buf);
		kmesh_http1_init(&req);
		rc = kmesh_http1_parse(&req, c->buf, c->len, NULL);
		OPAQUE(&req);
		sum += rc + req.head_len + req.nr_headers + req.path.len;
#if HAVE_CHUNK
		if (c->body_len) {
			struct kmesh_chunk_state st;

			kmesh_chunk_init(&st);
			rc = kmesh_chunk_scan(&st, c->buf + req.head_len,
					      c->len - req.head_len);
			OPAQUE(&st);
			sum += rc + st.consumed;
		}
#endif
	}
	return sum;
}

/* ---------------- http-parser ---------------- */

#define HP_MAX_HDRS 64

struct hp_span {
	uint32_t off, len;
};

/* What a proxy keeps from http-parser: the spans kmesh's result holds. */
struct hp_ctx {
	const char *base;
	struct hp_span url;
	struct hp_span name[HP_MAX_HDRS], value[HP_MAX_HDRS];
	unsigned int nr_headers;
	uint64_t body;
	int in_value, complete;
};

static void hp_extend(struct hp_span *s, const struct hp_ctx *x,
		      const char *at, size_t len)
{
	if (!s->len)
		s->off = at - x->base;
	s->len += len;
}

static int hp_on_url(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *x = p->data;

	hp_extend(&x->url, x, at, len);
	return 0;
}

static int hp_on_field(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *x = p->data;

	if (x->in_value) {
		x->in_value = 0;
		x->nr_headers++;
	}
	if (x->nr_headers >= HP_MAX_HDRS)
		return 1;
	hp_extend(&x->name[x->nr_headers], x, at, len);
	return 0;
}

static int hp_on_value(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *x = p->data;

	x->in_value = 1;
	hp_extend(&x->value[x->nr_headers], x, at, len);
	return 0;
}

static int hp_on_headers_complete(http_parser *p)
{
	struct hp_ctx *x = p->data;

	if (x->in_value) {
		x->in_value = 0;
		x->nr_headers++;
	}
	return 0;
}

static int hp_on_body(http_parser *p, const char *at, size_t len)
{
	struct hp_ctx *x = p->data;

	(void)at;
	x->body += len;
	return 0;
}

static int hp_on_complete(http_parser *p)
{
	((struct hp_ctx *)p->data)->complete = 1;
	return 0;
}

static const http_parser_settings hp_spans = {
	.on_url = hp_on_url,
	.on_header_field = hp_on_field,
	.on_header_value = hp_on_value,
	.on_headers_complete = hp_on_headers_complete,
	.on_body = hp_on_body,
	.on_message_complete = hp_on_complete,
};

/* Only "is it complete": the parser's floor, nothing kept. */
static const http_parser_settings hp_bare = {
	.on_message_complete = hp_on_complete,
};

static void hp_reset(struct hp_ctx *x, const struct pcase *c)
{
	/* Only what the callbacks read-modify-write; like kmesh's init. */
	x->base = (const char *)c->buf;
	x->url.len = 0;
	memset(x->name, 0, sizeof(x->name));
	memset(x->value, 0, sizeof(x->value));
	x->nr_headers = 0;
	x->body = 0;
	x->in_value = x->complete = 0;
}

static uint64_t run_hp(const struct pcase *c, long iters,
		       const http_parser_settings *settings)
{
	static struct hp_ctx x;
	http_parser p;
	uint64_t sum = 0;
	size_t n;
	long i;

	for (i = 0; i < iters; i++) {
		OPAQUE(c->buf);
		hp_reset(&x, c);
		http_parser_init(&p, HTTP_REQUEST);
		p.data = &x;
		n = http_parser_execute(&p, settings, (const char *)c->buf,
					c->len);
		OPAQUE(&x);
		sum += n + HTTP_PARSER_ERRNO(&p) + x.nr_headers + x.body +
		       x.complete;
	}
	return sum;
}

static uint64_t run_hp_spans(const void *c, long iters)
{
	return run_hp(c, iters, &hp_spans);
}

static uint64_t run_hp_bare(const void *c, long iters)
{
	return run_hp(c, iters, &hp_bare);
}

/* Both parsers agree on the inputs before anything is timed. */
static void check_case(const struct pcase *c)
{
	struct kmesh_http_req req;
	struct hp_ctx x;
	http_parser p;
	size_t n;
	unsigned int i;

	kmesh_http1_init(&req);
	if (kmesh_http1_parse(&req, c->buf, c->len, NULL) != KMESH_HTTP_OK ||
	    req.head_len != c->head_len)
		die("kmesh does not parse the %s input", c->name);
#if HAVE_CHUNK
	if (c->body_len) {
		struct kmesh_chunk_state st;

		kmesh_chunk_init(&st);
		if (kmesh_chunk_scan(&st, c->buf + c->head_len, c->body_len) !=
		    KMESH_CHUNK_DONE || st.consumed != c->body_len)
			die("kmesh's chunk scanner does not end the %s body",
			    c->name);
	}
#endif
	hp_reset(&x, c);
	http_parser_init(&p, HTTP_REQUEST);
	p.data = &x;
	n = http_parser_execute(&p, &hp_spans, (const char *)c->buf, c->len);
	if (n != c->len || HTTP_PARSER_ERRNO(&p) != HPE_OK || !x.complete ||
	    x.body != (c->body_len ? 512 + 256 + 64 : 0))
		die("http-parser does not parse the %s input", c->name);
	if (x.nr_headers != req.nr_headers || x.url.off != req.target.off ||
	    x.url.len != req.target.len)
		die("the parsers disagree on the %s input", c->name);
	for (i = 0; i < x.nr_headers; i++)
		if (x.name[i].off != req.hdrs[i].name.off ||
		    x.name[i].len != req.hdrs[i].name.len ||
		    x.value[i].off != req.hdrs[i].value.off ||
		    x.value[i].len != req.hdrs[i].value.len)
			die("the parsers disagree on a header of the %s input",
			    c->name);
}

/* ---------------- timing ---------------- */

/* ---------------- parser benchmark ---------------- */

enum { IMPL_KMESH, IMPL_HP_SPANS, IMPL_HP_BARE, NR_IMPLS };

static const run_fn impls[NR_IMPLS] = {
	run_kmesh, run_hp_spans, run_hp_bare,
};

static void bench_parsers(void)
{
	double *ns[3][NR_IMPLS], ratio[3][2][256], med[3][NR_IMPLS];
	long iters[3][NR_IMPLS];
	int c, k, r, j;

	for (c = 0; c < 3; c++) {
		check_case(&pcases[c]);
		for (k = 0; k < NR_IMPLS; k++) {
			ns[c][k] = calloc(reps, sizeof(double));
			iters[c][k] = calibrate(impls[k], &pcases[c], 16);
		}
	}
	for (r = 0; r < reps; r++)
		for (c = 0; c < 3; c++)
			for (j = 0; j < NR_IMPLS; j++) {
				k = (j + r) % NR_IMPLS;
				ns[c][k][r] = time_batch(impls[k], &pcases[c],
							 iters[c][k]);
			}

	printf("## HTTP/1.1 request head: kmesh vs http-parser %d.%d.%d\n\n",
	       HTTP_PARSER_VERSION_MAJOR, HTTP_PARSER_VERSION_MINOR,
	       HTTP_PARSER_VERSION_PATCH);
	printf("| input | bytes | kmesh ns/req | kmesh MB/s | http-parser ns/req | http-parser MB/s | ratio (p25-p75) | http-parser, no callbacks ns/req |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (c = 0; c < 3; c++) {
		for (r = 0; r < reps; r++) {
			ratio[c][0][r] = ns[c][IMPL_HP_SPANS][r] / ns[c][IMPL_KMESH][r];
			ratio[c][1][r] = ns[c][IMPL_HP_BARE][r] / ns[c][IMPL_KMESH][r];
		}
		for (k = 0; k < NR_IMPLS; k++)
			med[c][k] = median(ns[c][k], reps);
		printf("| %s | %zu | %.0f | %.0f | %.0f | %.0f | **%.2f** (%.2f-%.2f) | %.0f |\n",
		       pcases[c].name, pcases[c].len, med[c][IMPL_KMESH],
		       pcases[c].len * 1e3 / med[c][IMPL_KMESH],
		       med[c][IMPL_HP_SPANS],
		       pcases[c].len * 1e3 / med[c][IMPL_HP_SPANS],
		       median(ratio[c][0], reps),
		       quantile(ratio[c][0], reps, 0.25),
		       quantile(ratio[c][0], reps, 0.75),
		       med[c][IMPL_HP_BARE]);
	}
	printf("\nratio = kmesh speed / http-parser speed (>1: kmesh faster), the median of the per-repetition ratios. "
	       "Without callbacks http-parser keeps nothing; kmesh against it: %.2f, %.2f, %.2f.\n\n",
	       median(ratio[0][1], reps), median(ratio[1][1], reps),
	       median(ratio[2][1], reps));
	for (c = 0; c < 3; c++)
		printf("kmesh-figure: parser_vs_http_parser_%s %.2f\n",
		       pcases[c].key, median(ratio[c][0], reps));
	/* bits of the browser head per ns of kmesh's median: Gbit/s */
	printf("kmesh-figure: parser_gbps_browser %.2f\n",
	       pcases[1].len * 8.0 / med[1][IMPL_KMESH]);
	printf("\n(parser_gbps_browser: the %zu-byte browser head through kmesh's parser, "
	       "in Gbit/s (10^9 bits per second) of one core, from the median ns/req above.)\n\n",
	       pcases[1].len);
	for (c = 0; c < 3; c++)
		for (k = 0; k < NR_IMPLS; k++)
			free(ns[c][k]);
}

/* ---------------- route matching ---------------- */

#define ROUTES_PER_TABLE 100
#define NR_POS 3

struct rt_table {
	void *blob;
	__u32 len;
};

/*
 * The node's tables by id. The module keeps them in an xarray and does
 * xa_load(id) under RCU; here a plain array indexed by id stands for it
 * (ids are dense, as kmeshctl hands them out), bounds-checked the same.
 */
struct rt_node {
	struct rt_table *tables;
	__u32 nr_tables;
	__u32 nr_routes;
};

static const void *node_table_get(const struct rt_node *n, __u32 id,
				  __u32 *len)
{
	if (id >= n->nr_tables || !n->tables[id].blob)
		return NULL;
	*len = n->tables[id].len;
	return n->tables[id].blob;
}

/* One request per table, aimed at the route at some position of it. */
struct rt_req {
	__u32 table_id;
	__u32 want_route;
	__u32 len;
	struct kmesh_http_req req;
	__u8 *head;
};

struct rt_work {
	const struct rt_node *node;
	struct rt_req *reqs;	/* in a shuffled table order */
	__u32 nr;
};

static __u32 table_size(__u32 nr_routes, __u32 nr_tables, __u32 t)
{
	return nr_routes / nr_tables + (t < nr_routes % nr_tables);
}

static void build_node(struct rt_node *n, __u32 nr_routes)
{
	__u32 t, i, sz, first = 0;
	char buf[128];

	n->nr_routes = nr_routes;
	n->nr_tables = (nr_routes + ROUTES_PER_TABLE - 1) / ROUTES_PER_TABLE;
	n->tables = calloc(n->nr_tables, sizeof(*n->tables));
	for (t = 0; t < n->nr_tables; t++) {
		struct kmesh_rtb *b = kmesh_rtb_new(t);

		snprintf(buf, sizeof(buf), "svc-%u", t);
		kmesh_rtb_host(b, buf);
		snprintf(buf, sizeof(buf), "svc-%u.default", t);
		kmesh_rtb_host(b, buf);
		snprintf(buf, sizeof(buf), "svc-%u.default.svc.cluster.local", t);
		kmesh_rtb_host(b, buf);
		sz = table_size(nr_routes, n->nr_tables, t);
		for (i = 0; i < sz; i++) {
			kmesh_rtb_route(b, first + i + 1);
			snprintf(buf, sizeof(buf), "/api/v1/route-%u", i);
			kmesh_rtb_path_prefix(b, buf, true);
			kmesh_rtb_methods(b, KMESH_RT_METHOD_BIT(KMESH_HTTP_M_GET) |
					     KMESH_RT_METHOD_BIT(KMESH_HTTP_M_HEAD) |
					     KMESH_RT_METHOD_BIT(KMESH_HTTP_M_POST));
			kmesh_rtb_cluster(b, 1000 + first + i, 1);
		}
		if (kmesh_rtb_finish(b, &n->tables[t].blob, &n->tables[t].len))
			die("route build: %s", kmesh_rtb_error(b));
		kmesh_rtb_free(b);
		/* What the module checks before it publishes a table. */
		if (kmesh_route_validate(n->tables[t].blob, n->tables[t].len))
			die("%s", "a built table does not validate");
		first += sz;
	}
}

static void free_node(struct rt_node *n)
{
	__u32 t;

	for (t = 0; t < n->nr_tables; t++)
		free(n->tables[t].blob);
	free(n->tables);
}

static __u32 rng_state = 0x2545f491;

static __u32 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void make_work(struct rt_work *w, const struct rt_node *n, int pos)
{
	__u32 *order = malloc(n->nr_tables * sizeof(*order));
	__u32 i, j, tmp, t, sz, idx, first;
	char head[512];
	int len;

	for (i = 0; i < n->nr_tables; i++)
		order[i] = i;
	for (i = n->nr_tables; i > 1; i--) {
		j = rng() % i;
		tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	w->node = n;
	w->nr = n->nr_tables;
	w->reqs = calloc(w->nr, sizeof(*w->reqs));
	for (i = 0; i < w->nr; i++) {
		struct rt_req *q = &w->reqs[i];

		t = order[i];
		sz = table_size(n->nr_routes, n->nr_tables, t);
		idx = pos == 0 ? 0 : pos == 1 ? sz / 2 : sz - 1;
		for (first = 0, j = 0; j < t; j++)
			first += table_size(n->nr_routes, n->nr_tables, j);
		len = snprintf(head, sizeof(head),
			       "GET /api/v1/route-%u/items?id=42 HTTP/1.1\r\n"
			       "Host: svc-%u.default.svc.cluster.local\r\n"
			       "User-Agent: shop-client/2.3\r\n"
			       "Accept: */*\r\n"
			       "\r\n", idx, t);
		q->table_id = t;
		q->want_route = first + idx + 1;
		q->len = len;
		q->head = heap_copy(head, len);
		kmesh_http1_init(&q->req);
		if (kmesh_http1_parse(&q->req, q->head, len, NULL) != KMESH_HTTP_OK)
			die("%s", "a route request does not parse");
	}
	free(order);
}

static void free_work(struct rt_work *w)
{
	__u32 i;

	for (i = 0; i < w->nr; i++)
		free(w->reqs[i].head);
	free(w->reqs);
}

/* One lookup: table by id, then the match; what the kfunc does. */
static inline int lookup(const struct rt_node *n, const struct rt_req *q,
			 struct kmesh_route_verdict *v)
{
	const void *blob;
	__u32 len;

	blob = node_table_get(n, q->table_id, &len);
	if (!blob)
		return -ENOENT;
	return kmesh_route_match(blob, &q->req, q->head, q->len, 0, v);
}

static void check_work(const struct rt_work *w)
{
	struct kmesh_route_verdict v;
	__u32 i;

	for (i = 0; i < w->nr; i++)
		if (lookup(w->node, &w->reqs[i], &v) || v.kind != KMESH_RT_V_ROUTE ||
		    v.route_id != w->reqs[i].want_route)
			die("%s", "a route lookup picks the wrong route");
}

static uint64_t run_routes(const void *arg, long iters)
{
	const struct rt_work *w = arg;
	struct kmesh_route_verdict v;
	uint64_t sum = 0;
	__u32 j = 0;
	long i;

	for (i = 0; i < iters; i++) {
		const struct rt_req *q = &w->reqs[j];

		OPAQUE(q);
		sum += lookup(w->node, q, &v) + v.route_id + v.cluster_id;
		OPAQUE(&v);
		if (++j == w->nr)
			j = 0;
	}
	return sum;
}

static void bench_routes(const char *plot_path)
{
	static const __u32 sizes[] = { 10, 100, 1000, 3000, 10000 };
	enum { NR_SIZES = sizeof(sizes) / sizeof(sizes[0]) };
	struct rt_node nodes[NR_SIZES];
	struct rt_work work[NR_SIZES][NR_POS];
	long iters[NR_SIZES][NR_POS];
	double *ns[NR_SIZES][NR_POS], med[NR_SIZES][NR_POS];
	FILE *plot = NULL;
	int s, p, r, j;
	size_t bytes;
	__u32 t;

	for (s = 0; s < NR_SIZES; s++) {
		build_node(&nodes[s], sizes[s]);
		for (p = 0; p < NR_POS; p++) {
			make_work(&work[s][p], &nodes[s], p);
			check_work(&work[s][p]);
			ns[s][p] = calloc(reps, sizeof(double));
			iters[s][p] = calibrate(run_routes, &work[s][p], 16);
		}
	}
	for (r = 0; r < reps; r++)
		for (s = 0; s < NR_SIZES; s++)
			for (j = 0; j < NR_POS; j++) {
				p = (j + r) % NR_POS;
				ns[s][p][r] = time_batch(run_routes,
							 &work[s][p], iters[s][p]);
			}

	printf("## Route matching: ns per lookup (table by id, then match)\n\n");
	printf("| routes on the node | tables x routes | table blob bytes | matching route at start | middle (p25-p75) | end |\n");
	printf("|---:|---|---:|---:|---:|---:|\n");
	if (plot_path) {
		plot = fopen(plot_path, "w");
		if (!plot)
			die("cannot write %s", plot_path);
		fprintf(plot, "# routes start middle end (ns per lookup, medians)\n");
	}
	for (s = 0; s < NR_SIZES; s++) {
		for (p = 0; p < NR_POS; p++)
			med[s][p] = median(ns[s][p], reps);
		for (bytes = 0, t = 0; t < nodes[s].nr_tables; t++)
			bytes += nodes[s].tables[t].len;
		printf("| %u | %u x %u | %zu | %.0f | **%.0f** (%.0f-%.0f) | %.0f |\n",
		       sizes[s], nodes[s].nr_tables,
		       table_size(sizes[s], nodes[s].nr_tables, 0),
		       bytes / nodes[s].nr_tables, med[s][0], med[s][1],
		       quantile(ns[s][1], reps, 0.25),
		       quantile(ns[s][1], reps, 0.75), med[s][2]);
		if (plot)
			fprintf(plot, "%u %.1f %.1f %.1f\n", sizes[s],
				med[s][0], med[s][1], med[s][2]);
	}
	if (plot)
		fclose(plot);
	printf("\nEach route: a segment path prefix \"/api/v1/route-<i>\" and a method set, one cluster; "
	       "each table also has 3 host names. A request names its route's table (Host) and path; "
	       "lookups cycle over one request per table, in shuffled table order, so the larger nodes "
	       "also pay for their cache footprint. Request parsing is not included (see above).\n\n");
	/* What the figures say, computed: the position decides, not N. */
	printf("Every route passed over costs about %.1f ns (100-route tables, start to end, at %u routes); "
	       "from %u to %u routes on the node the middle case changes by %+.0f%%.\n\n",
	       (med[NR_SIZES - 1][2] - med[NR_SIZES - 1][0]) /
	       (table_size(sizes[NR_SIZES - 1], nodes[NR_SIZES - 1].nr_tables, 0) - 1),
	       sizes[NR_SIZES - 1], sizes[1], sizes[NR_SIZES - 1],
	       100.0 * (med[NR_SIZES - 1][1] / med[1][1] - 1));
	for (s = 0; s < NR_SIZES; s++)
		if (sizes[s] == 10 || sizes[s] == 1000 || sizes[s] == 10000)
			printf("kmesh-figure: route_match_ns_%u %.0f\n", sizes[s],
			       med[s][1]);
	printf("\n(route_match_ns_N: matching route in the middle of its table.)\n\n");
	for (s = 0; s < NR_SIZES; s++) {
		for (p = 0; p < NR_POS; p++) {
			free_work(&work[s][p]);
			free(ns[s][p]);
		}
		free_node(&nodes[s]);
	}
}

int main(int argc, char **argv)
{
	const char *plot_path = NULL;
	bool parser_only = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--batch-ms") && i + 1 < argc)
			batch_ms = atof(argv[++i]);
		else if (!strcmp(argv[i], "--plot-data") && i + 1 < argc)
			plot_path = argv[++i];
		else if (!strcmp(argv[i], "--parser-only"))
			parser_only = true;
		else
			die("usage: bench_parser [--reps N] [--batch-ms MS] [--plot-data FILE] [--parser-only] (got %s)",
			    argv[i]);
	}
	if (reps < 3 || reps > 256 || batch_ms <= 0)
		die("%s", "--reps must be 3..256, --batch-ms positive");
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_cases();
	bench_parsers();
	if (!parser_only)
		bench_routes(plot_path);
	printf("<!-- checksum %llx -->\n", (unsigned long long)checksum);
	for (i = 0; i < 3; i++)
		free(pcases[i].buf);
	return 0;
}

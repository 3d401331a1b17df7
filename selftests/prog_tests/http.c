// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP parser kfuncs, called from BPF programs; and the equivalence of
 * the kfunc with the same parser (kmod/core/http1.c) linked into this
 * program, on the unit tests' vectors (selftests/lib/http_vectors.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "core/http1.h"
#include "http_parse.skel.h"
#include "http_vectors.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

static struct http_parse_bpf *open_and_load(const char *extra_prog)
{
	struct http_parse_bpf *skel = http_parse_bpf__open();
	const char *log;

	if (!skel)
		return NULL;
	if (extra_prog) {
		struct bpf_program *p;

		bpf_object__for_each_program(p, skel->obj)
			if (!strcmp(bpf_program__name(p), extra_prog))
				bpf_program__set_autoload(p, true);
	}
	bpf_log_capture_begin();
	if (http_parse_bpf__load(skel)) {
		log = bpf_log_capture_end();
		tap_diag("load failed:\n%s", log);
		http_parse_bpf__destroy(skel);
		return NULL;
	}
	bpf_log_capture_end();
	return skel;
}

/* Parse @len bytes of @text; the state in skel->bss->req carries over. */
static int parse(struct http_parse_bpf *skel, struct bpf_program *prog,
		 const char *text, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memcpy(skel->bss->head, text, len);
	skel->bss->head_len = len;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -1000;
	return skel->data->parse_ret;
}

static int span_is(const __u8 *buf, struct kmesh_http_span s, const char *want)
{
	return s.len == strlen(want) && !memcmp(buf + s.off, want, s.len);
}

static const char get_req[] =
	"GET /api/v1/items?id=7 HTTP/1.1\r\n"
	"Host: Shop.Example.com:8080\r\n"
	"User-Agent: curl/7.88\r\n"
	"X-Canary: yes\r\n"
	"\r\n";

static void test_parse_get(struct http_parse_bpf *skel)
{
	struct kmesh_http_req *r = &skel->bss->req;
	const __u8 *h = skel->bss->head;

	tap_begin("http: kfunc parses a GET head: method, path, query, host, port, headers");
	memset(r, 0, sizeof(*r));
	EXPECT_EQ(parse(skel, skel->progs.parse_head, get_req, strlen(get_req)),
		  KMESH_HTTP_OK);
	EXPECT_EQ(r->method, KMESH_HTTP_M_GET);
	EXPECT_EQ(r->version, KMESH_HTTP_V_11);
	EXPECT_EQ(r->head_len, strlen(get_req));
	EXPECT(span_is(h, r->path, "/api/v1/items"));
	EXPECT(span_is(h, r->query, "id=7"));
	EXPECT(span_is(h, r->host, "Shop.Example.com"));
	EXPECT(r->flags & KMESH_HTTP_F_HAS_PORT);
	EXPECT_EQ(r->port, 8080);
	EXPECT_EQ(r->nr_headers, 3);
	EXPECT(span_is(h, r->hdrs[2].name, "X-Canary"));
	EXPECT(span_is(h, r->hdrs[2].value, "yes"));
	tap_end();
}

static void test_parse_split(struct http_parse_bpf *skel)
{
	struct kmesh_http_req *r = &skel->bss->req;
	size_t cut;

	tap_begin("http: a head arriving in pieces parses the same as whole");
	for (cut = 1; cut < strlen(get_req); cut += 7) {
		memset(r, 0, sizeof(*r));
		if (!EXPECT_EQ(parse(skel, skel->progs.parse_head, get_req, cut),
			       KMESH_HTTP_NEED_MORE))
			break;
		EXPECT(r->consumed <= cut);
		EXPECT_EQ(parse(skel, skel->progs.parse_head, get_req,
				strlen(get_req)), KMESH_HTTP_OK);
		EXPECT_EQ(r->nr_headers, 3);
	}
	tap_end();
}

static void test_smuggling(struct http_parse_bpf *skel)
{
	static const struct {
		const char *head;
		int want;
	} bad[] = {
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		  KMESH_HTTP_E_CL_AND_TE },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
		  KMESH_HTTP_E_DUP_CL },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		  KMESH_HTTP_E_BAD_TE },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",
		  KMESH_HTTP_E_OBS_FOLD },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", KMESH_HTTP_E_WS_BEFORE_COLON },
		{ "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", KMESH_HTTP_E_BARE_CR },
		{ "GET / HTTP/1.1\r\n\r\n", KMESH_HTTP_E_NO_HOST },
	};
	size_t i;

	tap_begin("http: smuggling vectors are rejected with their own codes");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&skel->bss->req, 0, sizeof(skel->bss->req));
		if (!EXPECT_EQ(parse(skel, skel->progs.parse_head, bad[i].head,
				     strlen(bad[i].head)), bad[i].want))
			tap_diag("vector %zu", i);
	}
	tap_end();
}

static int set_param(const char *name, const char *value)
{
	return run_cmd(NULL, 0, "echo %s > /sys/module/kmesh/parameters/%s",
		       value, name);
}

static void test_limit_param(struct http_parse_bpf *skel)
{
	char big[600];
	int n;

	tap_begin("http: max_head_bytes set at runtime bounds the head");
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: %0400d\r\n\r\n", 0);
	EXPECT_EQ(set_param("max_head_bytes", "256"), 0);
	memset(&skel->bss->req, 0, sizeof(skel->bss->req));
	EXPECT_EQ(parse(skel, skel->progs.parse_head, big, n),
		  KMESH_HTTP_E_HEAD_TOO_LARGE);
	EXPECT_EQ(set_param("max_head_bytes", "8192"), 0);
	memset(&skel->bss->req, 0, sizeof(skel->bss->req));
	EXPECT_EQ(parse(skel, skel->progs.parse_head, big, n), KMESH_HTTP_OK);
	tap_end();
}

/* ---- the kfunc against the parser run here, on the same bytes ---- */

#define PARAMS "/sys/module/kmesh/parameters/"

struct vec {
	const char *name;
	const char *buf;
	size_t len;
};

struct equiv {
	struct http_parse_bpf *skel;
	struct kmesh_http1_limits lim;	/* what the kfunc applies */
	bool seen[KMESH_HTTP_STATUS_MAX];	/* statuses the kfunc returned */
	unsigned int calls, vectors, mismatches;
};

static unsigned int read_param(const char *name)
{
	char path[128], text[32] = "";

	snprintf(path, sizeof(path), PARAMS "%s", name);
	if (read_text(path, text, sizeof(text)))
		return 0;
	return strtoul(text, NULL, 10);
}

/* The limits bpf_kmesh_http_parse() uses: the module parameters. */
static void module_limits(struct kmesh_http1_limits *lim)
{
	*lim = (struct kmesh_http1_limits) {
		.max_head_bytes = read_param("max_head_bytes"),
		.max_headers = read_param("max_headers"),
	};
}

/* First byte where two results differ, or -1. */
static int first_diff(const void *a, const void *b, size_t n)
{
	const __u8 *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return i;
	return -1;
}

/*
 * Feed buf[0..cuts[i]) for each i in turn to the kfunc (state carried in
 * the BPF program's req) and to kmesh_http1_parse() here (state in @u),
 * both starting from a zeroed req, or from *@start when given. After every
 * call the return values and the whole result structs must be equal.
 */
static bool equiv_run(struct equiv *e, const char *name, const char *buf,
		      size_t n, const size_t *cuts, int nr_cuts,
		      const struct kmesh_http_req *start)
{
	struct kmesh_http_req *k = &e->skel->bss->req, u;
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int i, kret, uret, at;

	if (n > sizeof(e->skel->bss->head)) {
		tap_diag("%s: %zu bytes do not fit the program's buffer", name, n);
		e->mismatches++;
		return false;
	}
	memcpy(e->skel->bss->head, buf, n);
	if (start)
		u = *start;
	else
		memset(&u, 0, sizeof(u));
	*k = u;
	for (i = 0; i < nr_cuts; i++) {
		e->skel->bss->head_len = cuts[i];
		e->skel->data->parse_ret = -1000;
		if (bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.parse_head),
					   &opts))
			kret = -1000 - errno;
		else
			kret = e->skel->data->parse_ret;
		uret = kmesh_http1_parse(&u, (const __u8 *)buf, cuts[i], &e->lim);
		e->calls++;
		if (kret >= 0 && kret < KMESH_HTTP_STATUS_MAX)
			e->seen[kret] = true;
		at = first_diff(k, &u, sizeof(u));
		if (kret == uret && at < 0)
			continue;
		if (e->mismatches++ < 10)
			tap_diag("%s: call %d (%zu of %zu bytes): kfunc %d (%s), here %d (%s), structs differ at byte %d",
				 name, i + 1, cuts[i], n, kret,
				 kmesh_http1_strstatus(kret), uret,
				 kmesh_http1_strstatus(uret), at);
		return false;
	}
	return true;
}

/* Whole, then split in two at up to nine points. */
static void equiv_vector(struct equiv *e, const struct vec *v)
{
	size_t pts[9], cuts[2], n = v->len, k, crlf;
	int i, j, nr = 0;

	e->vectors++;
	cuts[0] = n;
	if (!equiv_run(e, v->name, v->buf, n, cuts, 1, NULL))
		return;
	for (crlf = 0; crlf + 1 < n; crlf++)
		if (v->buf[crlf] == '\r' && v->buf[crlf + 1] == '\n')
			break;
	pts[nr++] = 1;
	pts[nr++] = n / 4;
	pts[nr++] = n / 3;
	pts[nr++] = n / 2;
	pts[nr++] = 2 * n / 3;
	pts[nr++] = 3 * n / 4;
	pts[nr++] = n - 2;			/* between the final CR and LF */
	pts[nr++] = n - 1;
	pts[nr++] = crlf + 1;			/* inside the first CRLF */
	for (i = 0; i < nr; i++) {
		k = pts[i];
		if (k == 0 || k >= n)
			continue;
		for (j = 0; j < i && pts[j] != k; j++)
			;
		if (j < i)
			continue;	/* that split was done */
		cuts[0] = k;
		cuts[1] = n;
		if (!equiv_run(e, v->name, v->buf, n, cuts, 2, NULL))
			return;
	}
}

/* Heads generated here: the limits at their default values, and more. */
static char *gen_head(size_t line_len, size_t total, int extra_headers,
		      size_t *len)
{
	char *s = malloc(total + line_len + 64 * extra_headers + 64), *p = s;
	int i;

	p += sprintf(p, "GET /");
	memset(p, 'a', line_len - 14);
	p += line_len - 14;
	p += sprintf(p, " HTTP/1.1\r\nHost: h\r\n");
	for (i = 0; i < extra_headers; i++)
		p += sprintf(p, "H%02d: v\r\n", i);
	if ((size_t)(p - s) + 7 < total) {
		p += sprintf(p, "X: ");
		memset(p, 'b', total - (p - s) - 4);
		p += total - (p - s) - 4;
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "\r\n");
	*len = p - s;
	return s;
}

struct gen_vec {
	const char *name;
	size_t line_len, total;
	int extra_headers;
};

static const struct gen_vec gen_vecs[] = {
	{ "head of exactly 8192 bytes", 14, 8192, 0 },
	{ "head of 8193 bytes", 14, 8193, 0 },
	{ "request line of 8192 bytes", 8192, 0, 0 },
	{ "request line of 8193 bytes", 8193, 0, 0 },
	{ "32 headers", 14, 0, 31 },
	{ "33 headers", 14, 0, 32 },
	{ "head of 12000 bytes", 14, 12000, 0 },
};

/* Edge cases beyond the unit tests' tables: what follows a head. */
static const struct vec edge_vecs[] = {
	{ "body bytes after the head", S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhe\0\n\r") },
	{ "pipelined second request", S("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n") },
	{ "chunked body after the head", S("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n") },
	{ "empty buffer", "", 0 },
	{ "only CRLFs", S("\r\n\r\n\r\n") },
	{ "TLS ClientHello", S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") },
	{ "HTTP/2 preface", S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") },
	{ "a method that never ends", S("GETGETGETGETGETGETGETGETGETGETGET") },
};

/* Every vector once, with the module's current limits. */
static void equiv_all(struct equiv *e)
{
	struct vec v;
	size_t i, len;
	char *s;

	module_limits(&e->lim);
	for (i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		v = (struct vec){ accepts[i].name, accepts[i].req,
				  strlen(accepts[i].req) };
		equiv_vector(e, &v);
	}
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		v = (struct vec){ rejects[i].name, rejects[i].req, rejects[i].len };
		equiv_vector(e, &v);
	}
	for (i = 0; i < sizeof(edge_vecs) / sizeof(edge_vecs[0]); i++)
		equiv_vector(e, &edge_vecs[i]);
	for (i = 0; i < sizeof(gen_vecs) / sizeof(gen_vecs[0]); i++) {
		s = gen_head(gen_vecs[i].line_len, gen_vecs[i].total,
			     gen_vecs[i].extra_headers, &len);
		v = (struct vec){ gen_vecs[i].name, s, len };
		equiv_vector(e, &v);
		free(s);
	}
}

/*
 * E_INVAL: a buffer shorter than in the previous call, and resume state
 * that BPF corrupted between two calls (the unit tests' test_inval()).
 */
static void test_equiv_inval(struct equiv *e)
{
	static const char req[] = "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char *const what[] = {
		"unknown state", "nr_headers 200", "consumed past scan",
		"scan 0xffff", "host span past the buffer",
		"error state with status OK",
	};
	const size_t n = sizeof(req) - 1, shrink[] = { 30, 29, n };
	struct kmesh_http_req r;
	size_t i;

	tap_begin("http: kfunc == userspace on a shrinking buffer and on resume state BPF corrupted: E_INVAL alike");
	module_limits(&e->lim);
	e->mismatches = 0;
	EXPECT(equiv_run(e, "shrinking buffer", req, n, shrink, 3, NULL));
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		memset(&r, 0, sizeof(r));
		kmesh_http1_parse(&r, (const __u8 *)req, 30, &e->lim);
		switch (i) {
		case 0: r.state = 77; break;
		case 1: r.nr_headers = 200; break;
		case 2: r.consumed = r.scan + 1; break;
		case 3: r.scan = 0xffff; break;
		case 4: r.host.len = 0xffff; break;
		case 5: r.state = 3; r.status = KMESH_HTTP_OK; break;
		}
		EXPECT(equiv_run(e, what[i], req, n, &n, 1, &r));
		if (!EXPECT_EQ(e->skel->data->parse_ret, KMESH_HTTP_E_INVAL))
			tap_diag("%s", what[i]);
	}
	EXPECT_EQ(e->mismatches, 0);
	tap_end();
}

static void test_equiv(struct http_parse_bpf *skel)
{
	static const struct {
		const char *head_bytes, *headers;
	} params[] = {
		{ "8192", "32" },	/* the defaults */
		{ "256", "2" },		/* the lowest: limits hit early */
		{ "16384", "32" },	/* room for an over-long request line */
	};
	struct equiv e = { .skel = skel };
	char old_head[16] = "", old_hdrs[16] = "";
	size_t i;
	int code;

	read_text(PARAMS "max_head_bytes", old_head, sizeof(old_head));
	read_text(PARAMS "max_headers", old_hdrs, sizeof(old_hdrs));
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		tap_begin("http: kfunc == userspace parser, result byte for byte, every vector whole and split in two (max_head_bytes=%s max_headers=%s)",
			  params[i].head_bytes, params[i].headers);
		e.calls = e.vectors = e.mismatches = 0;
		if (EXPECT_EQ(set_param("max_head_bytes", params[i].head_bytes), 0) &&
		    EXPECT_EQ(set_param("max_headers", params[i].headers), 0))
			equiv_all(&e);
		EXPECT_EQ(e.mismatches, 0);
		EXPECT(e.vectors >= 40);
		tap_diag("%u vectors, %u kfunc calls, %u mismatches",
			 e.vectors, e.calls, e.mismatches);
		tap_end();
	}
	set_param("max_head_bytes", old_head[0] ? old_head : "8192");
	set_param("max_headers", old_hdrs[0] ? old_hdrs : "32");

	test_equiv_inval(&e);

	tap_begin("http: the equivalence runs met every status code, every rejection class included");
	for (code = 0; code < KMESH_HTTP_STATUS_MAX; code++)
		if (!EXPECT(e.seen[code]))
			tap_diag("no vector made the kfunc return %s",
				 kmesh_http1_strstatus(code));
	tap_end();
}

static void test_bad_size(void)
{
	struct http_parse_bpf *skel;

	tap_begin("http: a result struct of the wrong size gets -EINVAL");
	skel = open_and_load("parse_bad_size");
	if (EXPECT(skel)) {
		EXPECT_EQ(parse(skel, skel->progs.parse_bad_size, get_req,
				strlen(get_req)), -EINVAL);
		http_parse_bpf__destroy(skel);
	}
	tap_end();
}

/* A connected loopback TCP pair: *cli and *srv. */
static int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &alen))
		return -1;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (void *)&a, sizeof(a)))
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

static void test_msg_parse(void)
{
	struct http_parse_bpf *skel = NULL;
	int sockhash = -1, cli = -1, srv = -1, key = 0;
	char got[sizeof(get_req)];

	tap_begin("http: sk_msg parses the request in place (zero copy)");
	if (!kfunc_common_hook()) {
		tap_skip("sk_msg cannot call module kfuncs on this kernel (no common kfunc hook)");
		tap_end();
		return;
	}
	skel = open_and_load("parse_msg");
	if (!EXPECT(skel))
		goto out;
	sockhash = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "test_sockhash",
				  sizeof(int), sizeof(int), 4, NULL);
	if (!EXPECT(sockhash >= 0) ||
	    !EXPECT_EQ(bpf_prog_attach(bpf_program__fd(skel->progs.parse_msg),
				       sockhash, BPF_SK_MSG_VERDICT, 0), 0) ||
	    !EXPECT_EQ(tcp_pair(&cli, &srv), 0))
		goto out;
	EXPECT_EQ(bpf_map_update_elem(sockhash, &key, &cli, BPF_ANY), 0);
	EXPECT_EQ(write(cli, get_req, strlen(get_req)), (long)strlen(get_req));
	EXPECT_EQ(read(srv, got, sizeof(got)), (long)strlen(get_req));
	EXPECT_EQ(skel->bss->msg_calls, 1);
	EXPECT_EQ(skel->data->msg_ret, KMESH_HTTP_OK);
	EXPECT_EQ(skel->bss->msg_req.method, KMESH_HTTP_M_GET);
	EXPECT_EQ(skel->bss->msg_req.nr_headers, 3);
	EXPECT_EQ(skel->bss->msg_req.head_len, strlen(get_req));
out:
	if (cli >= 0)
		close(cli);
	if (srv >= 0)
		close(srv);
	if (sockhash >= 0)
		close(sockhash);
	http_parse_bpf__destroy(skel);
	tap_end();
}

void test_http(void)
{
	struct http_parse_bpf *skel;

	/* Run alone (vmtest.sh -- http), the area loads the module itself. */
	if (!kmesh_loaded())
		kmesh_modprobe(NULL);
	tap_begin("http: parser kfunc program loads");
	skel = open_and_load(NULL);
	EXPECT(skel);
	tap_end();
	if (skel) {
		test_parse_get(skel);
		test_parse_split(skel);
		test_smuggling(skel);
		test_limit_param(skel);
		test_equiv(skel);
		http_parse_bpf__destroy(skel);
	}
	test_bad_size();
	test_msg_parse();
}

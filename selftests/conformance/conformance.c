// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP conformance suite: the same vectors (request heads,
 * http_vectors.h; chunked bodies, chunk_vectors.h; response heads,
 * response_vectors.h; mutations of all of them and the request fuzz
 * corpus) fed to
 *  - the C core (kmod/core/http1.c, chunk.c), linked in here;
 *  - the eBPF fallback (bpf/include/l7_http.h, l7_chunk.h), through
 *    BPF_PROG_TEST_RUN of syscall programs (selftests/progs/
 *    conformance_fb.bpf.c): no module needed, so this part also runs on
 *    the host's own kernel (selftests/host/conformance.sh);
 *  - the kfuncs (bpf_kmesh_http_parse, bpf_kmesh_chunk_scan) when the
 *    module is loaded (the VM lanes).
 * Every result is compared field by field with the core's; a difference
 * is a failure unless known_differences.h lists it, and a listed
 * difference that no longer occurs is a failure too. The core itself is
 * held to the vectors' expectations here and in selftests/unit/. With the
 * module loaded, the kfunc is also fed every request vector in two pieces
 * at three settings of the module's limits, result byte for byte.
 *
 * KMESH_CONFORMANCE_DUMP=1 prints the input of each difference reported.
 */
#include <errno.h>
#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "kmesh_maps.h"
#include "core/chunk.h"
#include "core/http1.h"
#include "conformance_fb.skel.h"
#include "conformance_kf.skel.h"
#include "chunk_vectors.h"
#include "http_vectors.h"
#include "known_differences.h"
#include "response_vectors.h"
#include "tap.h"
#include "util.h"

#define NR_KNOWN	(sizeof(known_differences) / sizeof(known_differences[0]))
#define MUTATIONS	24	/* one-byte mutations of each vector */
#define CONF_MAX_INPUT	16384

enum impl { FALLBACK, KFUNC, NR_IMPLS };
static const char *const impl_name[NR_IMPLS] = { "fallback", "kfunc" };

struct suite {
	struct conformance_fb_bpf *fb;
	struct conformance_kf_bpf *kf;
	struct kmesh_http1_limits kf_lim;	/* the module's parameters */
	/* KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES for the run, or 0 */
	__u32 path_opts;
	unsigned int hits[NR_KNOWN];
	/* family x implementation compared at least once */
	bool ran[3][NR_IMPLS];
	/* per test */
	unsigned int runs, unexplained, explained;
};

static const char *const families[3] = { "request", "chunk", "response" };
enum { REQUEST, CHUNK, RESPONSE };

/* ---- differences ---- */

/* the input at hand, for KMESH_CONFORMANCE_DUMP=1 */
static const char *dump_buf;
static size_t dump_len;

static bool known(struct suite *s, int fam, const char *vector, enum impl im,
		  const char *field)
{
	size_t i;
	bool hit = false;

	for (i = 0; i < NR_KNOWN; i++) {
		const struct conformance_diff *d = &known_differences[i];

		if (strcmp(d->family, families[fam]) ||
		    strcmp(d->implementation, impl_name[im]) ||
		    strcmp(d->field, field) || fnmatch(d->vector, vector, 0))
			continue;
		s->hits[i]++;
		hit = true;
	}
	return hit;
}

static void differ(struct suite *s, int fam, const char *vector, enum impl im,
		   const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void differ(struct suite *s, int fam, const char *vector, enum impl im,
		   const char *field, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (known(s, fam, vector, im, field)) {
		s->explained++;
		return;
	}
	if (s->unexplained++ >= 12)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	tap_diag("%s \"%s\": %s differs from the core in %s: %s",
		 families[fam], vector, impl_name[im], field, what);
	if (getenv("KMESH_CONFORMANCE_DUMP"))
		tap_diag("  input: %.*s", (int)dump_len, dump_buf);
}

/* ---- request and response heads ---- */

struct head_result {
	int status;
	struct kmesh_http_req req;
	__u16 code;		/* responses */
};

static void core_head(const void *buf, size_t n, bool resp,
		      const struct kmesh_http1_limits *lim,
		      struct head_result *r)
{
	memset(r, 0, sizeof(*r));
	if (resp) {
		r->status = kmesh_http1_parse_response(&r->req, buf, (__u32)n, lim);
		r->code = r->req.port;
	} else {
		r->status = kmesh_http1_parse(&r->req, buf, (__u32)n, lim);
	}
}

static int fallback_head(struct suite *s, const void *buf, size_t n, bool resp,
			 struct head_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct conformance_fb_bpf *fb = s->fb;

	/* what l7_msg.h copies of a message: at most KMESH_L7_MAX_HEAD */
	if (n > sizeof(fb->bss->input))
		n = sizeof(fb->bss->input);
	memset(fb->bss->input, 0, sizeof(fb->bss->input));
	memcpy(fb->bss->input, buf, n);
	fb->bss->input_len = (__u32)n;
	fb->bss->resp = resp;
	fb->bss->path_opts = s->path_opts;
	if (bpf_prog_test_run_opts(bpf_program__fd(fb->progs.parse), &opts) ||
	    opts.retval)
		return -1;
	memset(r, 0, sizeof(*r));
	r->status = fb->data->status;
	r->req = fb->bss->req;
	r->code = fb->bss->resp_status;
	return 0;
}

static int kfunc_head(struct suite *s, const void *buf, size_t n,
		      struct head_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct conformance_kf_bpf *kf = s->kf;

	if (n > sizeof(kf->bss->head))
		return -1;
	memcpy(kf->bss->head, buf, n);
	kf->bss->head_len = (__u32)n;
	memset(&kf->bss->req, 0, sizeof(kf->bss->req));
	if (s->path_opts & KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES)
		kf->bss->req.parse_opts = KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES;
	if (bpf_prog_test_run_opts(bpf_program__fd(kf->progs.parse_head), &opts) ||
	    opts.retval)
		return -1;
	memset(r, 0, sizeof(*r));
	r->status = kf->data->parse_ret;
	r->req = kf->bss->req;
	return 0;
}

static bool span_eq(struct kmesh_http_span a, struct kmesh_http_span b)
{
	return a.off == b.off && a.len == b.len;
}

static const struct {
	__u32 bit;
	const char *name;
} flag_names[] = {
#define FL(x) { KMESH_HTTP_F_##x, "flags:" #x }
	FL(HAS_CL), FL(CHUNKED), FL(HAS_HOST), FL(HAS_PORT), FL(HOST_IPV6),
	FL(HOST_MISMATCH), FL(HTTPS), FL(HAS_QUERY), FL(CONN_CLOSE),
	FL(CONN_KEEP_ALIVE), FL(CONN_UPGRADE), FL(UPGRADE),
	FL(EXPECT_CONTINUE), FL(EXPECT_OTHER), FL(PERSISTENT), FL(HAS_BODY),
#undef FL
};

/*
 * A proxy-form target the fallback refuses by design (known_differences.h):
 * E_TARGET_FORM at a target that starts with neither '/' nor '*', or any
 * refusal of a CONNECT, whose target is always authority-form.
 */
static bool proxy_form(const void *buf, size_t n, const struct head_result *o)
{
	const __u8 *b = buf;

	if (n >= 8 && !memcmp(b, "CONNECT ", 8) && o->status > KMESH_HTTP_NEED_MORE)
		return true;
	return o->status == KMESH_HTTP_E_TARGET_FORM && o->req.err_off < n &&
	       b[o->req.err_off] != '/' && b[o->req.err_off] != '*';
}

#define SPAN(f)								\
	do {								\
		if (!span_eq(c->req.f, o->req.f))			\
			differ(s, fam, name, im, #f, "%u+%u, core %u+%u", \
			       o->req.f.off, o->req.f.len, c->req.f.off, \
			       c->req.f.len);				\
	} while (0)
#define NUM(f, a, b)							\
	do {								\
		if ((a) != (b))						\
			differ(s, fam, name, im, f, "%llu, core %llu",	\
			       (unsigned long long)(a), (unsigned long long)(b)); \
	} while (0)

static void compare_heads(struct suite *s, int fam, const char *name,
			  enum impl im, const void *buf, size_t n,
			  const struct head_result *c,
			  const struct head_result *o)
{
	const char *field = "status";
	size_t i;

	s->runs++;
	if (c->status != o->status) {
		if (fam == REQUEST && im == FALLBACK && proxy_form(buf, n, o))
			field = "status:proxy-form";
		differ(s, fam, name, im, field, "%d (%s) at %u, core %d (%s) at %u",
		       o->status, kmesh_http1_strstatus(o->status),
		       o->req.err_off, c->status,
		       kmesh_http1_strstatus(c->status), c->req.err_off);
		return;
	}
	if (c->status > KMESH_HTTP_NEED_MORE) {
		if (o->req.err_off != c->req.err_off)
			differ(s, fam, name, im, "err_off", "%s at %u, core at %u",
			       kmesh_http1_strstatus(c->status), o->req.err_off,
			       c->req.err_off);
		return;
	}
	if (c->status != KMESH_HTTP_OK)
		return;
	NUM("head_len", o->req.head_len, c->req.head_len);
	NUM("version", o->req.version, c->req.version);
	NUM("content_length", o->req.content_length, c->req.content_length);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		__u32 b = flag_names[i].bit;

		if (fam == RESPONSE && b != KMESH_HTTP_F_HAS_CL &&
		    b != KMESH_HTTP_F_CHUNKED && b != KMESH_HTTP_F_HAS_BODY)
			continue;	/* a response is read for its framing */
		if ((o->req.flags & b) != (c->req.flags & b))
			differ(s, fam, name, im, flag_names[i].name, "%s, core %s",
			       o->req.flags & b ? "set" : "clear",
			       c->req.flags & b ? "set" : "clear");
	}
	if (fam == RESPONSE) {
		NUM("code", o->code, c->code);
		return;
	}
	NUM("method", o->req.method, c->req.method);
	NUM("target_form", o->req.target_form, c->req.target_form);
	NUM("nr_headers", o->req.nr_headers, c->req.nr_headers);
	if (c->req.flags & KMESH_HTTP_F_HAS_PORT)
		NUM("port", o->req.port, c->req.port);
	SPAN(method_tok);
	SPAN(target);
	SPAN(path);
	SPAN(query);
	SPAN(host);
	for (i = 0; i < c->req.nr_headers && i < o->req.nr_headers; i++) {
		if (!span_eq(c->req.hdrs[i].name, o->req.hdrs[i].name) ||
		    !span_eq(c->req.hdrs[i].value, o->req.hdrs[i].value)) {
			differ(s, fam, name, im, "hdrs", "header %zu", i);
			break;
		}
	}
}

#undef SPAN
#undef NUM

static void run_head(struct suite *s, int fam, const char *name,
		     const void *buf, size_t n)
{
	struct kmesh_http1_limits lim = { .opts = s->path_opts };
	struct head_result c, o;

	core_head(buf, n, fam == RESPONSE, &lim, &c);
	if (s->fb) {
		if (fallback_head(s, buf, n, fam == RESPONSE, &o))
			differ(s, fam, name, FALLBACK, "run", "test run failed");
		else
			compare_heads(s, fam, name, FALLBACK, buf, n, &c, &o);
		s->ran[fam][FALLBACK] = true;
	}
	/* responses have no kfunc: the fallback reads them in both modes */
	if (s->kf && fam == REQUEST) {
		lim = s->kf_lim;
		lim.opts = s->path_opts;
		core_head(buf, n, false, &lim, &c);
		if (kfunc_head(s, buf, n, &o))
			differ(s, fam, name, KFUNC, "run", "test run failed");
		else
			compare_heads(s, fam, name, KFUNC, buf, n, &c, &o);
		s->ran[fam][KFUNC] = true;
	}
}

/* ---- chunked bodies ---- */

struct chunk_result {
	int status;
	__u32 consumed;	/* DONE/NEED_MORE: bytes used; error: its offset */
};

static void core_chunks(const void *buf, size_t n, struct chunk_result *r)
{
	struct kmesh_chunk_state st;

	kmesh_chunk_init(&st);
	r->status = kmesh_chunk_scan(&st, buf, (__u32)n);
	r->consumed = st.consumed;
}

/* Run after run, as the kernel reruns sk_msg on the rest of a message. */
static int fallback_chunks(struct suite *s, const void *buf, size_t n,
			   struct chunk_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct conformance_fb_bpf *fb = s->fb;
	__u32 off = 0;
	int runs;

	if (n > sizeof(fb->bss->body) - 64)
		return -1;
	memset(fb->bss->body, 0, sizeof(fb->bss->body));
	memcpy(fb->bss->body, buf, n);
	fb->bss->body_len = (__u32)n;
	memset(&fb->bss->chunk, 0, sizeof(fb->bss->chunk));
	for (runs = 0; runs < 1000; runs++) {
		fb->bss->off = off;
		if (bpf_prog_test_run_opts(bpf_program__fd(fb->progs.scan_chunks),
					   &opts) || opts.retval)
			return -1;
		off += fb->bss->found;
		if (fb->data->chunk_ret != KMESH_CHUNK_NEED_MORE || off >= n)
			break;
		if (!fb->bss->found)
			return -1;	/* no progress */
	}
	r->status = fb->data->chunk_ret;
	/* the fallback passes the offending byte with the error */
	r->consumed = r->status > KMESH_CHUNK_DONE && off ? off - 1 : off;
	return 0;
}

static int kfunc_chunks(struct suite *s, const void *buf, size_t n,
			struct chunk_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct conformance_kf_bpf *kf = s->kf;

	if (n > sizeof(kf->bss->body))
		return -1;
	memcpy(kf->bss->body, buf, n);
	kf->bss->body_len = (__u32)n;
	memset(&kf->bss->chunk, 0, sizeof(kf->bss->chunk));
	if (bpf_prog_test_run_opts(bpf_program__fd(kf->progs.scan_chunks), &opts) ||
	    opts.retval)
		return -1;
	r->status = kf->data->chunk_ret;
	r->consumed = kf->bss->chunk.consumed;
	return 0;
}

static void compare_chunks(struct suite *s, const char *name, enum impl im,
			   const struct chunk_result *c,
			   const struct chunk_result *o)
{
	s->runs++;
	if (c->status != o->status)
		differ(s, CHUNK, name, im, "status", "%d (%s), core %d (%s)",
		       o->status, kmesh_chunk_strstatus(o->status), c->status,
		       kmesh_chunk_strstatus(c->status));
	else if (c->consumed != o->consumed)
		differ(s, CHUNK, name, im, "consumed", "%u, core %u",
		       o->consumed, c->consumed);
}

static void run_chunk(struct suite *s, const char *name, const void *buf,
		      size_t n)
{
	struct chunk_result c, o;

	core_chunks(buf, n, &c);
	if (s->fb) {
		if (fallback_chunks(s, buf, n, &o))
			differ(s, CHUNK, name, FALLBACK, "run", "test run failed");
		else
			compare_chunks(s, name, FALLBACK, &c, &o);
		s->ran[CHUNK][FALLBACK] = true;
	}
	if (s->kf) {
		if (kfunc_chunks(s, buf, n, &o))
			differ(s, CHUNK, name, KFUNC, "run", "test run failed");
		else
			compare_chunks(s, name, KFUNC, &c, &o);
		s->ran[CHUNK][KFUNC] = true;
	}
}

/* ---- vectors, mutated ---- */

static void run_one(struct suite *s, int fam, const char *name,
		    const void *buf, size_t n)
{
	dump_buf = buf;
	dump_len = n;
	if (fam == CHUNK)
		run_chunk(s, name, buf, n);
	else
		run_head(s, fam, name, buf, n);
}

/* The vector, then MUTATIONS copies with one byte replaced. */
static void run_mutated(struct suite *s, int fam, const char *name,
			const void *buf, size_t n, unsigned int *seed)
{
	static const char pool[] = " \t\r\n:;,=\"\\/?%*[]x0Hk.2\x7f\x80";
	static char m[CONF_MAX_INPUT];
	char mname[256];
	int k;

	run_one(s, fam, name, buf, n);
	if (!n || n > sizeof(m))
		return;
	for (k = 1; k <= MUTATIONS; k++) {
		memcpy(m, buf, n);
		*seed = *seed * 1103515245 + 12345;
		m[(*seed >> 8) % n] = pool[(*seed >> 20) % (sizeof(pool) - 1)];
		snprintf(mname, sizeof(mname), "%s ~ mutation %d", name, k);
		run_one(s, fam, mname, m, n);
	}
}

/* ---- the kfunc, incrementally, at the module's limits ---- */

#define PARAMS "/sys/module/kmesh/parameters/"

struct vec {
	const char *name;
	const char *buf;
	size_t len;
};

struct equiv {
	struct conformance_kf_bpf *skel;
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

static int set_param(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return write_file(path, value);
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
	{ "HTTP/2 preface, first line only", S("PRI * HTTP/2.0\r\n") },
	{ "a method that never ends", S("GETGETGETGETGETGETGETGETGETGETGET") },
	{ "upgrade to h2c", S("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n") },
	{ "expect 100-continue", S("PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n") },
	{ "HTTP/1.0 keep-alive", S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") },
	{ "Connection: close", S("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") },
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

	tap_begin("conformance: kfunc == core on a shrinking buffer and on resume state BPF corrupted: E_INVAL alike");
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

static void test_equiv(struct conformance_kf_bpf *skel)
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
		tap_begin("conformance: kfunc == core, result byte for byte, every request vector whole and split in two (max_head_bytes=%s max_headers=%s)",
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

	tap_begin("conformance: the kfunc runs met every status code, every rejection class included");
	for (code = 0; code < KMESH_HTTP_STATUS_MAX; code++)
		if (!EXPECT(e.seen[code]))
			tap_diag("no vector made the kfunc return %s",
				 kmesh_http1_strstatus(code));
	tap_end();
}

/* Inputs libFuzzer kept for fuzz_http1 (selftests/fuzz/corpus/http1). */
static void run_corpus(struct suite *s, unsigned int *nr)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64], path[PATH_MAX * 2], *slash;
	static char buf[CONF_MAX_INPUT];
	struct dirent *e;
	ssize_t len;
	FILE *f;
	DIR *d;
	size_t n;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return;
	exe[len] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = 0;
	/* the binary is build/kmesh_selftests in the checkout */
	snprintf(dir, sizeof(dir), "%s/../selftests/fuzz/corpus/http1", exe);
	d = opendir(dir);
	if (!d) {
		tap_diag("no fuzz corpus at %s: hand-written vectors only", dir);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		snprintf(path, sizeof(path), "fuzz corpus %s", e->d_name);
		run_one(s, REQUEST, path, buf, n);
		(*nr)++;
	}
	closedir(d);
}

static void begin(struct suite *s)
{
	s->runs = s->unexplained = s->explained = 0;
}

static void finish(struct suite *s, unsigned int vectors)
{
	EXPECT_EQ(s->unexplained, 0);
	tap_diag("%u vectors, %u comparisons, %u known differences met, %u unexplained",
		 vectors, s->runs, s->explained, s->unexplained);
	tap_end();
}

static const char *impls_run(const struct suite *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", s->fb ? "fallback" : "",
		 s->fb && s->kf ? " and " : "", s->kf ? "kfunc" : "");
	return buf;
}

static void test_requests(struct suite *s)
{
	unsigned int seed = 1, nr = 0;
	char impls[32], *g;
	size_t i, n = 0;

	tap_begin("conformance: request heads: %s == core, every field, on the shared vectors, their mutations and the fuzz corpus",
		  impls_run(s, impls, sizeof(impls)));
	if (!s->fb && !s->kf) {
		tap_skip("neither the fallback nor the kfuncs can run here");
		tap_end();
		return;
	}
	begin(s);
	for (i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++, nr++)
		run_mutated(s, REQUEST, accepts[i].name, accepts[i].req,
			    strlen(accepts[i].req), &seed);
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++, nr++) {
		/* limits of their own: the core's defaults are what the
		 * fallback and the kfunc (module defaults) apply */
		if (rejects[i].lim)
			continue;
		run_mutated(s, REQUEST, rejects[i].name, rejects[i].req,
			    rejects[i].len, &seed);
	}
	for (i = 0; i < sizeof(edge_vecs) / sizeof(edge_vecs[0]); i++, nr++)
		run_mutated(s, REQUEST, edge_vecs[i].name, edge_vecs[i].buf,
			    edge_vecs[i].len, &seed);
	for (i = 0; i < sizeof(gen_vecs) / sizeof(gen_vecs[0]); i++, nr++) {
		g = gen_head(gen_vecs[i].line_len, gen_vecs[i].total,
			     gen_vecs[i].extra_headers, &n);
		if (EXPECT(g))
			run_one(s, REQUEST, gen_vecs[i].name, g, n);
		free(g);
	}
	run_corpus(s, &nr);
	finish(s, nr);
}

/*
 * path_normalization: escaped_slashes_literal. The core meets the path
 * vectors in both modes, and the fallback and the kfunc, told the option
 * as a service's flags tell it, equal the core on them and on every
 * request vector.
 */
static void test_path_option(struct suite *s)
{
	struct kmesh_http1_limits lim = { 0 };
	const struct path_opt_case *v;
	unsigned int seed = 7, nr = 0;
	struct kmesh_http_req req;
	char impls[32];
	int st, want;
	size_t i, m;

	tap_begin("conformance: paths: the core meets every path vector with path_normalization refuse and escaped_slashes_literal");
	for (m = 0; m < 2; m++) {
		lim.opts = m ? KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES : 0;
		for (i = 0; i < sizeof(path_opt_cases) / sizeof(path_opt_cases[0]); i++) {
			v = &path_opt_cases[i];
			want = m ? v->literal : v->refuse;
			memset(&req, 0, sizeof(req));
			st = kmesh_http1_parse(&req, (const __u8 *)v->req,
					       (__u32)strlen(v->req), &lim);
			if (st != want ||
			    (!st && (req.path.len != strlen(v->path) ||
				     memcmp(v->req + req.path.off, v->path,
					    req.path.len)))) {
				tap_check(false, __FILE__, __LINE__,
					  "path vector \"%s\" (%s): %s, want %s",
					  v->name, m ? "literal" : "refuse",
					  kmesh_http1_strstatus(st),
					  kmesh_http1_strstatus(want));
			}
		}
	}
	tap_end();

	tap_begin("conformance: paths: with escaped_slashes_literal, %s == core on the path vectors, every request vector and their mutations",
		  impls_run(s, impls, sizeof(impls)));
	if (!s->fb && !s->kf) {
		tap_skip("neither the fallback nor the kfuncs can run here");
		tap_end();
		return;
	}
	s->path_opts = KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES;
	begin(s);
	for (i = 0; i < sizeof(path_opt_cases) / sizeof(path_opt_cases[0]); i++, nr++)
		run_mutated(s, REQUEST, path_opt_cases[i].name, path_opt_cases[i].req,
			    strlen(path_opt_cases[i].req), &seed);
	for (i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++, nr++)
		run_mutated(s, REQUEST, accepts[i].name, accepts[i].req,
			    strlen(accepts[i].req), &seed);
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++, nr++) {
		if (rejects[i].lim)
			continue;
		run_mutated(s, REQUEST, rejects[i].name, rejects[i].req,
			    rejects[i].len, &seed);
	}
	finish(s, nr);
	s->path_opts = 0;
}

static void test_chunks(struct suite *s)
{
	unsigned int seed = 7;
	char impls[32];
	size_t i;

	tap_begin("conformance: chunked bodies: %s == core, status and offset, on the chunk vectors and their mutations",
		  impls_run(s, impls, sizeof(impls)));
	if (!s->fb && !s->kf) {
		tap_skip("neither the fallback nor the kfuncs can run here");
		tap_end();
		return;
	}
	begin(s);
	for (i = 0; i < sizeof(chunk_vectors) / sizeof(chunk_vectors[0]); i++)
		run_mutated(s, CHUNK, chunk_vectors[i].name, chunk_vectors[i].body,
			    strlen(chunk_vectors[i].body), &seed);
	finish(s, i);
}

static void test_responses(struct suite *s)
{
	const struct response_vector *v;
	unsigned int seed = 11;
	struct head_result c;
	size_t i;

	tap_begin("conformance: response heads: the core meets every response vector (status code, framing, refusal and its offset)");
	for (i = 0; i < sizeof(response_vectors) / sizeof(response_vectors[0]); i++) {
		v = &response_vectors[i];
		core_head(v->head, v->len, true, NULL, &c);
		if (!EXPECT_EQ(c.status, v->want) ||
		    (v->want > KMESH_HTTP_NEED_MORE && !EXPECT_EQ(c.req.err_off, v->err_off)) ||
		    (v->want == KMESH_HTTP_OK &&
		     (!EXPECT_EQ(c.code, v->code) ||
		      !EXPECT_EQ(c.req.flags & (KMESH_HTTP_F_HAS_CL | KMESH_HTTP_F_CHUNKED), v->framing) ||
		      !EXPECT_EQ(c.req.content_length, v->cl))))
			tap_diag("response vector \"%s\": %s at %u", v->name,
				 kmesh_http1_strstatus(c.status), c.req.err_off);
	}
	tap_end();

	tap_begin("conformance: response heads: fallback == core (status code, framing, refusal and offset), vectors and mutations");
	if (!s->fb) {
		tap_skip("the fallback programs did not load (not root?)");
		tap_end();
		return;
	}
	begin(s);
	for (i = 0; i < sizeof(response_vectors) / sizeof(response_vectors[0]); i++)
		run_mutated(s, RESPONSE, response_vectors[i].name,
			    response_vectors[i].head, response_vectors[i].len,
			    &seed);
	finish(s, i);
}

/* Listed differences that did not occur, for what ran. */
static void test_stale(struct suite *s)
{
	unsigned int stale = 0;
	size_t i;
	int fam, im;

	tap_begin("conformance: every difference listed in known_differences.h still occurs");
	for (i = 0; i < NR_KNOWN; i++) {
		const struct conformance_diff *d = &known_differences[i];

		for (fam = 0; fam < 3; fam++)
			if (!strcmp(d->family, families[fam]))
				break;
		for (im = 0; im < NR_IMPLS; im++)
			if (!strcmp(d->implementation, impl_name[im]))
				break;
		if (fam == 3)
			continue;	/* route, policy: their runner checks them */
		if (!EXPECT(im < NR_IMPLS)) {
			tap_diag("row %zu names implementation \"%s\"", i,
				 d->implementation);
			continue;
		}
		if (!s->ran[fam][im])
			continue;
		if (!s->hits[i]) {
			stale++;
			tap_diag("stale: %s \"%s\" %s %s (%s)", d->family, d->vector,
				 d->implementation, d->field, d->why);
		}
	}
	EXPECT_EQ(stale, 0);
	tap_end();
}

void test_conformance(void)
{
	struct suite s = { 0 };
	const char *log;

	tap_begin("conformance: the eBPF fallback's syscall programs load");
	bpf_log_capture_begin();
	s.fb = conformance_fb_bpf__open_and_load();
	log = bpf_log_capture_end();
	if (!s.fb) {
		tap_skip("cannot load BPF programs here (%s): core only",
			 strerror(errno));
		/* the verifier's verdict is at the end of its log */
		tap_diag("%s", strlen(log) > 3000 ? log + strlen(log) - 3000 : log);
	}
	tap_end();

	tap_begin("conformance: the kfunc syscall programs load");
	if (!kmesh_loaded()) {
		tap_skip("no kmesh module here: the VM lanes compare the kfuncs");
	} else {
		bpf_log_capture_begin();
		s.kf = conformance_kf_bpf__open_and_load();
		log = bpf_log_capture_end();
		if (!EXPECT(s.kf))
			tap_diag("%s", strlen(log) > 3000 ?
				 log + strlen(log) - 3000 : log);
		module_limits(&s.kf_lim);
	}
	tap_end();

	test_requests(&s);
	test_path_option(&s);
	test_chunks(&s);
	test_responses(&s);
	test_stale(&s);
	if (s.kf)
		test_equiv(s.kf);
	conformance_kf_bpf__destroy(s.kf);
	conformance_fb_bpf__destroy(s.fb);
}

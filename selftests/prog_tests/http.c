// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP parser kfuncs, called from BPF programs: results, pieces,
 * limits set at runtime, sizes, sk_msg. Their equivalence with the core on
 * every vector is the conformance suite's (selftests/conformance/).
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
#include "tap.h"
#include "tests.h"
#include "util.h"

static struct http_parse_bpf *open_and_load(const char *extra_prog)
{
	struct http_parse_bpf *skel = http_parse_bpf__open();

	if (skel && skel_load_logged(skel->skeleton, extra_prog)) {
		http_parse_bpf__destroy(skel);
		skel = NULL;
	}
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
		http_parse_bpf__destroy(skel);
	}
	test_bad_size();
	test_msg_parse();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 and gRPC through kmesh where kmesh reads no HTTP/2 (issue 17,
 * the fallback: bpf/include/l7_h2_detect.h), with real tools: nghttp ->
 * nghttpd (nghttp2) and grpc_client -> grpc_server (bench/src/, on
 * Debian's gRPC core), through kmesh service addresses in the meshed
 * cgroup. An http port carries HTTP/1.1 and h2c alike: the services'
 * endpoint is a small server here that answers HTTP/1.1 itself and
 * relays a connection starting with the HTTP/2 preface to nghttpd, so
 * one port serves both. gRPC services go to grpc_server directly.
 *
 *  - no L7 rules: HTTP/2 passes at L4 and is counted (stats, metrics, log);
 *  - a DENY rule, default failure mode: refused with the server preface
 *    and GOAWAY HTTP_1_1_REQUIRED, nothing reaches the server;
 *  - failure_mode_allow: passed at L4, counted;
 *  - HTTP/1.1 on the same port is still checked per request;
 *  - a preface split over writes is held back and detected whole.
 *
 * What HTTP/2 gets depends on the node, not the lane: `kmeshctl status`
 * says "HTTP/2: L4 only" or "per-stream" (the module's HTTP/2 plane,
 * kfunc mode). Where it is per-stream, the L4-only expectations are
 * skipped (the per-stream plane has its own area); connectivity and
 * HTTP/1.1 are checked either way. Runs on both VM lanes and on the host
 * (selftests/host/h2l4.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_helpers.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-h2l4.yaml"
#define SEEN_FILE	"/tmp/kmesh-h2l4-seen.log"
#define DOC_DIR		"/tmp/kmesh-h2l4-doc"
#define NGHTTPD_LOG	"/tmp/kmesh-h2l4-nghttpd.log"
#define GRPC_LOG	"/tmp/kmesh-h2l4-grpc.log"
#define OPEN		"10.96.3.10"	/* http2, no rules */
#define GUARDED		"10.96.3.11"	/* http, a DENY rule */
#define LENIENT		"10.96.3.12"	/* http, a DENY rule, failure_mode_allow */
#define G_OPEN		"10.96.3.13"	/* grpc, no rules */
#define G_GUARDED	"10.96.3.14"	/* grpc, DENY on one method */
#define G_LENIENT	"10.96.3.15"	/* grpc, the same, failure_mode_allow */
#define G_ROUTED	"10.96.3.16"	/* grpc, routes by gRPC service and method */
#define DUAL_PORT	18311		/* HTTP/1.1 here, h2c relayed to nghttpd */
#define NGHTTPD_PORT	18312
#define GRPC_PORT	18313
#define BODY		"hello-h2l4"

static struct test_cgroup cg;
static bool is_up, per_stream;
static const char *kmeshctl;
static char nghttp[PATH_MAX], nghttpd[PATH_MAX], grpc_server[PATH_MAX],
	    grpc_client[PATH_MAX];
static pid_t nghttpd_pid = -1, grpc_pid = -1;

#define MESH								\
	"services:\n"							\
	"  - name: h2open\n"						\
	"    addresses: [" OPEN "]\n"					\
	"    ports: [{port: 80, protocol: http2}]\n"			\
	"    cluster: dual\n"						\
	"  - name: h2guarded\n"						\
	"    addresses: [" GUARDED "]\n"				\
	"    ports: [{port: 80, protocol: http}]\n"			\
	"    cluster: dual\n"						\
	"  - name: h2lenient\n"						\
	"    addresses: [" LENIENT "]\n"				\
	"    ports: [{port: 80, protocol: http}]\n"			\
	"    cluster: dual\n"						\
	"    failure_mode_allow: true\n"				\
	"  - name: gopen\n"						\
	"    addresses: [" G_OPEN "]\n"					\
	"    ports: [{port: 80, protocol: grpc}]\n"			\
	"    cluster: grpc\n"						\
	"  - name: gguarded\n"						\
	"    addresses: [" G_GUARDED "]\n"				\
	"    ports: [{port: 80, protocol: grpc}]\n"			\
	"    cluster: grpc\n"						\
	"  - name: glenient\n"						\
	"    addresses: [" G_LENIENT "]\n"				\
	"    ports: [{port: 80, protocol: grpc}]\n"			\
	"    cluster: grpc\n"						\
	"    failure_mode_allow: true\n"				\
	"  - name: grouted\n"						\
	"    addresses: [" G_ROUTED "]\n"				\
	"    ports: [{port: 80, protocol: grpc}]\n"			\
	"    cluster: grpc\n"						\
	"clusters:\n"							\
	"  - name: dual\n"						\
	"    endpoints: [{address: 127.0.0.1, port: 18311}]\n"	\
	"  - name: grpc\n"						\
	"    endpoints: [{address: 127.0.0.1, port: 18313}]\n"	\
	"routes:\n"							\
	"  - service: grouted\n"					\
	"    http:\n"							\
	"      - name: hello\n"					\
	"        match: [{grpc: {service: kmesh.test.Greeter, method: Hello}}]\n" \
	"        route: [{cluster: grpc}]\n"				\
	"      - name: vault\n"					\
	"        match: [{grpc: {service: kmesh.test.Vault}}]\n"	\
	"        deny: {status: 403}\n"				\
	"      - route: [{cluster: grpc}]\n"				\
	"authorization:\n"						\
	"  - name: no-admin\n"						\
	"    service: h2guarded\n"					\
	"    action: DENY\n"						\
	"    rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]\n"	\
	"  - name: no-admin-lenient\n"					\
	"    service: h2lenient\n"					\
	"    action: DENY\n"						\
	"    rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]\n"	\
	"  - name: no-secret\n"						\
	"    service: gguarded\n"					\
	"    action: DENY\n"						\
	"    rules: [{to: [{operation: {paths: [/kmesh.test.Vault/Secret]}}]}]\n" \
	"  - name: no-secret-lenient\n"					\
	"    service: glenient\n"					\
	"    action: DENY\n"						\
	"    rules: [{to: [{operation: {paths: [/kmesh.test.Vault/Secret]}}]}]\n"

/* ---- tools ---- */

/* @name on PATH, or next to this binary (build/bench/ on the host). */
static bool find_tool(const char *name, char *out, size_t size)
{
	char self[PATH_MAX], cmd[256];
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "command -v %s", name);
	if (!run_cmd(out, size, "%s", cmd) && out[0] == '/') {
		out[strcspn(out, "\n")] = '\0';
		return true;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(out, size, "%s/bench/%s", dirname(self), name);
		if (access(out, X_OK) == 0)
			return true;
	}
	out[0] = '\0';
	return false;
}

static pid_t spawn(const char *log, char *const argv[])
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

/* Can something be dialed at 127.0.0.1:@port yet? */
static bool listening(int port)
{
	int fd = dial("127.0.0.1", port, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A command's output into @out; its exit status (-1: did not run). */
static int run(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return run_cmd(out, size, "%s 2>&1", cmd);
}

/* How many HTTP/2 connections reached the endpoint (relayed to nghttpd). */
static int h2_relayed(void)
{
	static char buf[65536];
	const char *p;
	int n = 0;

	if (read_text(SEEN_FILE, buf, sizeof(buf)))
		return 0;
	for (p = buf; (p = strstr(p, "PRI h2")); p++)
		n++;
	return n;
}

/* The calls grpc_server answered for @method (its control method). */
static long grpc_count(const char *method)
{
	static char out[65536];
	char key[256], *p;

	if (run(out, sizeof(out), "%s -p 127.0.0.1:%d /kmesh.test.Control/Counts",
		grpc_client, GRPC_PORT))
		return -1;
	snprintf(key, sizeof(key), "count %s ", method);
	p = strstr(out, key);
	return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

static long long h2_stat(const char *service, const char *field)
{
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "http %s route - -:", service);
	return ctl_stat(prefix, field, 0);
}

/* A command's output as diagnostics, line by line. */
static void diag_lines(const char *what, const char *out)
{
	const char *p = out, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		tap_diag("%s: %.*s", what, (int)(nl ? nl - p : (long)strlen(p)), p);
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* ---- the endpoint: HTTP/1.1 here, HTTP/2 relayed to nghttpd ---- */

static void relay(int a, int b)
{
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	char buf[16384];
	bool open[2] = { true, true };

	while (open[0] || open[1]) {
		int i;

		if (poll(p, 2, 30000) <= 0)
			return;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (!open[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				open[i] = false;
				p[i].events = 0;
				shutdown(p[!i].fd, SHUT_WR);
				continue;
			}
			if (write_all(p[!i].fd, buf, (size_t)n))
				return;
		}
	}
}

static ssize_t serve_recv(void *ctx, void *buf, size_t size)
{
	return srv_recv(ctx, buf, size);
}

static void serve_dual(struct srv_conn *c)
{
	struct http_request_seen q;
	struct http_reader *rd;
	char peek[3], out[512];
	int tries, up;

	/* the first bytes, left in the queue for whoever reads them */
	for (tries = 0; tries < 500; tries++) {
		ssize_t n = recv(c->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);

		if (n == (ssize_t)sizeof(peek))
			break;
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return;
		usleep(10000);
	}
	if (!memcmp(peek, "PRI", 3)) {
		seen_log_append(SEEN_FILE, "PRI", "h2");
		up = dial("127.0.0.1", NGHTTPD_PORT, NULL);
		if (up >= 0) {
			relay(c->fd, up);
			close(up);
		}
		return;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return;
	rd->recv = serve_recv;
	rd->ctx = c;
	while (!http_read_request(rd, &q)) {
		int n;

		seen_log_append(SEEN_FILE, q.method, q.path);
		n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\ncontent-length: %zu\r\n\r\nh1 %s\n",
			     strlen(q.path) + 4, q.path);
		if (write_all(c->fd, out, (size_t)n) || q.close)
			break;
	}
	free(rd);
}

/* One HTTP/1.1 GET on a new connection: the status, or -1. */
static int get1(const char *addr, const char *path)
{
	char req[256], line[256];
	int fd = dial(addr, 80, NULL), st = -1;

	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	if (!write_all(fd, req, strlen(req)) && !fd_read_line(fd, line, sizeof(line)))
		sscanf(line, "HTTP/1.1 %d", &st);
	close(fd);
	return st;
}

/* ---- tests ---- */

static bool base(void)
{
	if (!is_up) {
		if (!EXPECT_EQ(ctl_up(cg.path, MESH_FILE, MESH), 0))
			return false;
		is_up = true;
	}
	return EXPECT_EQ(join_cgroup(cg.path), 0);
}

static bool l4_only(void)
{
	if (!per_stream)
		return true;
	tap_skip("the module's HTTP/2 plane runs (kmeshctl status: per-stream): its own area checks it");
	return false;
}

static void test_status(void)
{
	static char out[8192];

	tap_begin("h2l4: kmeshctl status says what HTTP/2 gets on this node");
	if (!base()) {
		tap_end();
		return;
	}
	EXPECT_EQ(ctl(out, sizeof(out), "status"), 0);
	per_stream = strstr(out, "HTTP/2:        per-stream") != NULL;
	EXPECT(per_stream || strstr(out, "HTTP/2:        L4 only (fallback)"));
	/* per-stream only where sk_msg may call the module */
	if (!kfunc_common_hook())
		EXPECT(!per_stream);
	if (tap_failed_now())
		tap_diag("%s", out);
	tap_end();
}

static void test_open_nghttp(void)
{
	static char out[65536];
	long long g0, s0;
	int relayed;

	tap_begin("h2l4: nghttp -> nghttpd through a service without L7 rules: passes at L4, counted");
	if (!base() || (!nghttp[0] || !nghttpd[0] ? (tap_skip("no nghttp/nghttpd here"), 1) : 0)) {
		tap_end();
		return;
	}
	g0 = ctl_stat("http node:", "h2_l4", 0);
	s0 = h2_stat("h2open", "http2_l4");
	relayed = h2_relayed();
	EXPECT_EQ(run(out, sizeof(out), "%s -v http://" OPEN "/hello", nghttp), 0);
	EXPECT(strstr(out, BODY));
	EXPECT_EQ(h2_relayed(), relayed + 1);
	if (!per_stream) {
		EXPECT_EQ(ctl_stat("http node:", "h2_l4", 0), g0 + 1);
		EXPECT_EQ(h2_stat("h2open", "http2_l4"), s0 + 1);
	}
	if (tap_failed_now())
		diag_lines("nghttp", out);
	tap_end();
}

static void test_open_grpc(void)
{
	static char out[65536];
	long long s0;
	long a0;

	tap_begin("h2l4: grpc_client -> grpc_server through a grpc service without L7 rules: 8 concurrent calls on one connection all OK, counted");
	if (!base()) {
		tap_end();
		return;
	}
	s0 = h2_stat("gopen", "http2_l4");
	a0 = grpc_count("/kmesh.test.Open/A");
	EXPECT_EQ(run(out, sizeof(out), "%s -n 8 -c 4 -e 0,0 " G_OPEN ":80 /kmesh.test.Open/A /kmesh.test.Open/B",
		      grpc_client), 0);
	EXPECT(strstr(out, "calls 8 ok 8 failed 0 mismatched 0"));
	EXPECT_EQ(grpc_count("/kmesh.test.Open/A"), a0 + 4);
	if (!per_stream)
		EXPECT_EQ(h2_stat("gopen", "http2_l4"), s0 + 1);	/* one channel */
	if (tap_failed_now())
		diag_lines("grpc_client", out);
	tap_end();
}

static void test_guarded_refused(void)
{
	static char out[65536];
	long long g0, s0, gs0;
	long secret0, plain0;
	int relayed;

	tap_begin("h2l4: a service with an L7 DENY refuses HTTP/2 (default failure mode): GOAWAY HTTP_1_1_REQUIRED, nothing reaches the server");
	if (!base() || !l4_only()) {
		tap_end();
		return;
	}
	g0 = ctl_stat("http node:", "h2_refused", 0);
	s0 = h2_stat("h2guarded", "http2_refused");
	gs0 = h2_stat("gguarded", "http2_refused");
	relayed = h2_relayed();
	if (nghttp[0]) {
		run(out, sizeof(out), "%s -v http://" GUARDED "/hello", nghttp);
		EXPECT(strstr(out, "processed=0"));	/* nghttp: "not processed" */
		EXPECT(strstr(out, "GOAWAY"));
		EXPECT(strstr(out, "HTTP_1_1_REQUIRED"));
		EXPECT(strstr(out, "kmesh: HTTP/2 is carried at L4 only"));
		EXPECT(!strstr(out, BODY));
		if (tap_failed_now())
			diag_lines("nghttp", out);
		EXPECT_EQ(h2_stat("h2guarded", "http2_refused"), s0 + 1);
		if (tap_failed_now())
			tap_diag("stats h2guarded http2_refused %lld -> %lld", s0,
				 h2_stat("h2guarded", "http2_refused"));
	}
	secret0 = grpc_count("/kmesh.test.Vault/Secret");
	plain0 = grpc_count("/kmesh.test.Vault/Plain");
	/* every call fails: the connection is refused before any stream */
	EXPECT(run(out, sizeof(out), "%s -n 4 -c 2 " G_GUARDED ":80 /kmesh.test.Vault/Plain /kmesh.test.Vault/Secret",
		   grpc_client) != 0);
	EXPECT(strstr(out, "calls 4 ok 0 failed 4"));
	EXPECT(!strstr(out, "status 0"));
	EXPECT_EQ(grpc_count("/kmesh.test.Vault/Secret"), secret0);
	EXPECT_EQ(grpc_count("/kmesh.test.Vault/Plain"), plain0);
	EXPECT(h2_stat("gguarded", "http2_refused") >= gs0 + 1);	/* gRPC may reconnect */
	EXPECT(ctl_stat("http node:", "h2_refused", 0) >= g0 + 2 - !nghttp[0]);
	EXPECT_EQ(h2_relayed(), relayed);
	if (tap_failed_now())
		diag_lines("grpc_client", out);
	tap_end();
}

/*
 * Routes that choose by gRPC method need each call read: refused as a
 * whole here. In kfunc mode the service's connect is deferred to its
 * first request (the module routes it), which answers first: the calls
 * fail there too, without kmesh's GOAWAY counter.
 */
static void test_grpc_routes_refused(void)
{
	static char out[65536];
	long long s0;
	long hello0;

	tap_begin("h2l4: gRPC to a service with grpc method routes is refused as a whole: no call reaches the server");
	if (!base() || !l4_only()) {
		tap_end();
		return;
	}
	s0 = h2_stat("grouted", "http2_refused");
	hello0 = grpc_count("/kmesh.test.Greeter/Hello");
	EXPECT(run(out, sizeof(out), "%s -n 2 -t 5 " G_ROUTED ":80 /kmesh.test.Greeter/Hello", grpc_client) != 0);
	EXPECT(strstr(out, "calls 2 ok 0 failed 2"));
	EXPECT_EQ(grpc_count("/kmesh.test.Greeter/Hello"), hello0);
	if (!kfunc_common_hook())
		EXPECT(h2_stat("grouted", "http2_refused") >= s0 + 1);
	if (tap_failed_now())
		diag_lines("grpc_client", out);
	tap_end();
}

static void test_lenient_l4(void)
{
	static char out[65536];
	long long s0, gs0;
	long secret0;

	tap_begin("h2l4: failure_mode_allow: HTTP/2 to a service with an L7 DENY passes at L4 (unchecked), counted");
	if (!base() || !l4_only()) {
		tap_end();
		return;
	}
	s0 = h2_stat("h2lenient", "http2_l4");
	gs0 = h2_stat("glenient", "http2_l4");
	if (nghttp[0] && nghttpd[0]) {
		EXPECT_EQ(run(out, sizeof(out), "%s http://" LENIENT "/hello", nghttp), 0);
		EXPECT(strstr(out, BODY));
		EXPECT_EQ(h2_stat("h2lenient", "http2_l4"), s0 + 1);
		if (tap_failed_now())
			diag_lines("nghttp", out);
	}
	secret0 = grpc_count("/kmesh.test.Vault/Secret");
	/* L4: the DENY on Secret is not applied: the operator chose so */
	EXPECT_EQ(run(out, sizeof(out), "%s -n 4 -c 2 -e 0,0 " G_LENIENT ":80 /kmesh.test.Vault/Plain /kmesh.test.Vault/Secret",
		      grpc_client), 0);
	EXPECT_EQ(grpc_count("/kmesh.test.Vault/Secret"), secret0 + 2);
	EXPECT_EQ(h2_stat("glenient", "http2_l4"), gs0 + 1);
	if (tap_failed_now())
		diag_lines("grpc_client", out);
	tap_end();
}

static void test_http1_same_port(void)
{
	tap_begin("h2l4: HTTP/1.1 on the same ports is still checked per request");
	if (!base()) {
		tap_end();
		return;
	}
	EXPECT_EQ(get1(GUARDED, "/ok/h1"), 200);
	EXPECT_EQ(get1(GUARDED, "/admin/h1"), 403);
	EXPECT_EQ(get1(LENIENT, "/admin/h1l"), 403);
	EXPECT_EQ(get1(OPEN, "/ok/h1o"), 200);
	EXPECT(seen_log_has(SEEN_FILE, "/ok/h1", true));
	EXPECT(!seen_log_has(SEEN_FILE, "/admin/h1", true));
	tap_end();
}

/* Frames from @fd until @type is seen (its payload into @pl); 0 or -1. */
static int read_frame(int fd, unsigned char type, unsigned char *pl, size_t size,
		      size_t *len)
{
	unsigned char h[9];
	size_t n;

	for (;;) {
		if (read_full(fd, h, sizeof(h)))
			return -1;
		n = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
		if (n > size || (n && read_full(fd, pl, n)))
			return -1;
		if (h[3] == type) {
			*len = n;
			return 0;
		}
	}
}

static void test_split_preface(void)
{
	/* the preface in three writes, then an empty SETTINGS */
	static const char p1[] = "PRI * HTTP/2.0\r\n", p2[] = "\r\nSM", p3[] = "\r\n\r\n";
	static const unsigned char settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	unsigned char pl[512];
	size_t len = 0;
	int fd;

	tap_begin("h2l4: a preface split over writes is held until whole, then detected");
	if (!base()) {
		tap_end();
		return;
	}
	if (nghttpd[0]) {
		fd = dial(OPEN, 80, NULL);
		EXPECT(fd >= 0);
		if (fd >= 0) {
			EXPECT(!write_all(fd, p1, strlen(p1)));
			usleep(50000);
			EXPECT(!write_all(fd, p2, strlen(p2)));
			usleep(50000);
			EXPECT(!write_all(fd, p3, strlen(p3)) &&
			       !write_all(fd, settings, sizeof(settings)));
			/* nghttpd's own SETTINGS: it read a valid preface */
			EXPECT_EQ(read_frame(fd, 4, pl, sizeof(pl), &len), 0);
			close(fd);
		}
	}
	if (per_stream) {
		tap_end();
		return;
	}
	fd = dial(GUARDED, 80, NULL);
	EXPECT(fd >= 0);
	if (fd >= 0) {
		EXPECT(!write_all(fd, p1, strlen(p1)));
		usleep(50000);
		EXPECT(!write_all(fd, p2, strlen(p2)));
		usleep(50000);
		EXPECT(!write_all(fd, p3, strlen(p3)));
		/* kmesh's answer: SETTINGS, then GOAWAY(last 0, HTTP_1_1_REQUIRED) */
		EXPECT_EQ(read_frame(fd, 4, pl, sizeof(pl), &len), 0);
		EXPECT_EQ(len, 0);
		if (EXPECT_EQ(read_frame(fd, 7, pl, sizeof(pl), &len), 0) && EXPECT(len >= 8)) {
			EXPECT_EQ(pl[0] | pl[1] | pl[2] | pl[3], 0);
			EXPECT_EQ((pl[4] << 24 | pl[5] << 16 | pl[6] << 8 | pl[7]), 0xd);
		}
		close(fd);
	}
	tap_end();
}

static void test_log_metrics(void)
{
	static char out[262144];

	tap_begin("h2l4: the access log says HTTP/2 at L4 or refused; metrics count HTTP/2 connections per service");
	if (!base() || !l4_only()) {
		tap_end();
		return;
	}
	ctl(NULL, 0, "log --wait 0");	/* drain */
	EXPECT_EQ(run(out, sizeof(out), "%s -n 1 -e 0 " G_OPEN ":80 /kmesh.test.Log/A", grpc_client), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "log --count 2 --wait 3"), 0);
	EXPECT(strstr(out, "http gopen HTTP/2 at L4: connection carried at L4"));
	if (tap_failed_now())
		diag_lines("log", out);
	EXPECT(run(out, sizeof(out), "%s -n 1 " G_GUARDED ":80 /kmesh.test.Log/B", grpc_client) != 0);
	EXPECT_EQ(ctl(out, sizeof(out), "log --json --count 2 --wait 3"), 0);
	EXPECT(strstr(out, "\"type\":\"http2\"") && strstr(out, "\"service\":\"gguarded\"") &&
	       strstr(out, "\"decision\":\"deny\",\"reason\":\"http2_needs_l7\""));
	if (tap_failed_now())
		diag_lines("log", out);
	/* the whole text is large (histograms): only the HTTP/2 lines */
	EXPECT_EQ(run(out, sizeof(out), "%s stats --prometheus | grep -e http2_connections -e h2_", kmeshctl), 0);
	EXPECT(strstr(out, "kmesh_http2_connections_total{service=\"gopen\",outcome=\"l4\"}"));
	EXPECT(strstr(out, "kmesh_http2_connections_total{service=\"gguarded\",outcome=\"refused\"}"));
	EXPECT(strstr(out, "kmesh_http_node_h2_l4_total "));
	if (tap_failed_now())
		diag_lines("prometheus", out);
	tap_end();
}

static void cleanup(void)
{
	stop(&grpc_pid);
	stop(&nghttpd_pid);
	mesh_teardown(&cg, NULL);
	is_up = false;
	unlink(SEEN_FILE);
}

static const struct subtest subtests[] = {
	SUBTEST(status),
	SUBTEST(open_nghttp),
	SUBTEST(open_grpc),
	SUBTEST(guarded_refused),
	SUBTEST(grpc_routes_refused),
	SUBTEST(lenient_l4),
	SUBTEST(http1_same_port),
	SUBTEST(split_preface),
	SUBTEST(log_metrics),
};

void test_h2l4(void)
{
	struct server_opts meshed = {};
	char port[16], grpc_addr[64];

	kmeshctl = kmeshctl_path();
	signal(SIGPIPE, SIG_IGN);
	run_cmd(NULL, 0, "ip link set lo up");
	tap_begin("h2l4: topology: meshed cgroup, an HTTP/1.1 + h2c endpoint, nghttpd, grpc_server");
	find_tool("nghttp", nghttp, sizeof(nghttp));
	find_tool("nghttpd", nghttpd, sizeof(nghttpd));
	if (!EXPECT(find_tool("grpc_server", grpc_server, sizeof(grpc_server)) &&
		    find_tool("grpc_client", grpc_client, sizeof(grpc_client)))) {
		tap_diag("grpc_server/grpc_client: build with make -C bench");
		tap_end();
		return;
	}
	if (!nghttp[0] || !nghttpd[0])
		tap_diag("no nghttp/nghttpd (Debian nghttp2-client, nghttp2-server): their checks are skipped");
	if (!EXPECT_EQ(test_cgroup_setup(&cg, "kmesh-h2l4-test"), 0)) {
		tap_end();
		return;
	}
	unlink(SEEN_FILE);
	mkdir(DOC_DIR, 0755);
	write_file(DOC_DIR "/hello", BODY "\n");
	if (nghttpd[0]) {
		char *argv[] = { nghttpd, "--no-tls", "-d", DOC_DIR, "-a", "127.0.0.1",
				 port, NULL };

		snprintf(port, sizeof(port), "%d", NGHTTPD_PORT);
		nghttpd_pid = spawn(NGHTTPD_LOG, argv);
		EXPECT(WAIT_UNTIL(listening(NGHTTPD_PORT), 5000));
	}
	{
		char *argv[] = { grpc_server, "-q", grpc_addr, NULL };

		snprintf(grpc_addr, sizeof(grpc_addr), "127.0.0.1:%d", GRPC_PORT);
		grpc_pid = spawn(GRPC_LOG, argv);
		EXPECT(WAIT_UNTIL(listening(GRPC_PORT), 10000));
	}
	meshed.cgroup = cg.path;
	EXPECT(server_start("127.0.0.1", DUAL_PORT, "dual", serve_dual, &meshed) >= 0);
	if (tap_failed_now()) {
		tap_end();
		cleanup();
		return;
	}
	tap_end();
	run_subtests("h2l4", subtests, ARRAY_LEN(subtests));
	cleanup();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Responses read on the client's side (bpf/include/resp.h, resp_skb.h):
 * a meshed client calls http services whose servers are not meshed
 * sockets on this node, and kmesh's per-route status classes, latency
 * and access log must say what those servers answered.
 *
 * Servers (all outside the mesh; "remote" ones behind a veth in another
 * netns, one unmeshed on this node's loopback):
 *  - python3's http.server (HTTP/1.1, keep-alive) where python3 exists
 *    (the host lane; the VM guests have none: skipped there);
 *  - busybox httpd (files, a CGI answering 503), on every lane;
 *  - a scripted server answering fixed bytes, for what no well-behaved
 *    server sends on demand: a head split over segments, a garbage head,
 *    interim 100, a close-delimited body, pipelining with HEAD and 204.
 *
 * Runs on both VM lanes and on the host (selftests/host/resp.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_helpers.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-resp.yaml"
#define WWW		"/tmp/kmesh-resp-www"
#define PY_FILE		"/tmp/kmesh-resp-server.py"
#define PY_VIP		"10.96.2.10"
#define BB_VIP		"10.96.2.11"
#define RAW_VIP		"10.96.2.12"
#define LO_VIP		"10.96.2.13"	/* the unmeshed server on this node */
#define TCP_VIP		"10.96.2.14"	/* a tcp port: no response reading */
#define EJ_VIP		"10.96.2.15"	/* outlier detection on 5xx responses */
#define REMOTE		"10.99.0.2"
#define PY_PORT		18201
#define BB_PORT		18202
#define RAW_PORT	18203
#define LO_PORT		18204

static struct test_cgroup cg;
static struct remote_ns remote;
static bool have_remote, have_py, have_bb, is_up;
static pid_t py_pid, bb_pid;

/* ---- the scripted server ---- */

/* One request head into @head (NUL-terminated); -1 at EOF. */
static int srv_head(struct srv_conn *c, char *head, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		if (srv_recv(c, head + n, 1) != 1)
			return -1;
		n++;
		head[n] = '\0';
		if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
			return 0;
	}
	return -1;
}

static void srv_put(struct srv_conn *c, const char *s)
{
	if (write_all(c->fd, s, strlen(s)))
		return;
}

/* Pieces with a pause between them: separate segments (TCP_NODELAY). */
static void srv_pieces(struct srv_conn *c, const char *const *p, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i)
			usleep(50000);
		srv_put(c, p[i]);
	}
}

static void raw_serve(struct srv_conn *c)
{
	char head[2048], method[16], path[256], buf[256];
	int one = 1, code;
	bool is_head;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!srv_head(c, head, sizeof(head))) {
		if (sscanf(head, "%15s %255s", method, path) != 2)
			return;
		is_head = !strcmp(method, "HEAD");
		if (!strncmp(path, "/chunk", 6)) {
			static const char *const p[] = {
				"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
				"5\r\nhel",
				"lo\r\n3\r\nabc\r\n",
				"0\r\n\r\n",
			};
			srv_pieces(c, p, 4);
		} else if (!strncmp(path, "/split", 6)) {
			static const char *const p[] = {
				"HTTP/1.1 20", "2 Accepted\r\nContent-Le",
				"ngth: 2\r\n\r\n", "ok",
			};
			srv_pieces(c, p, 4);
		} else if (!strncmp(path, "/garbage", 8)) {
			srv_put(c, "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok");
			return;
		} else if (!strncmp(path, "/continue", 9)) {
			static const char *const p[] = {
				"HTTP/1.1 100 Continue\r\n\r\n",
				"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
			};
			srv_pieces(c, p, 2);
		} else if (!strncmp(path, "/close", 6)) {
			srv_put(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end");
			return;
		} else if (!strncmp(path, "/eject", 6)) {
			/* the remote instance fails, the local one answers */
			struct sockaddr_in a;
			socklen_t alen = sizeof(a);

			code = !getsockname(c->fd, (struct sockaddr *)&a, &alen) &&
			       ntohs(a.sin_port) == RAW_PORT ? 503 : 200;
			snprintf(buf, sizeof(buf),
				 "HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\nhello", code);
			srv_put(c, buf);
		} else if (!strncmp(path, "/delay", 6)) {
			usleep(150000);
			srv_put(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
		} else {
			/* .../CODE: that status */
			const char *slash = strrchr(path, '/');

			code = slash ? atoi(slash + 1) : 0;
			if (code < 200 || code > 599)
				code = 200;
			if (code == 204 || code == 304)
				snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\n\r\n", code);
			else
				snprintf(buf, sizeof(buf),
					 "HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n%s",
					 code, is_head ? "" : "hello");
			srv_put(c, buf);
		}
	}
}

/* ---- real servers ---- */

static const char py_src[] =
	"import sys, time\n"
	"from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
	"class H(BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"    def answer(self, code, data=b'hello'):\n"
	"        self.send_response(code)\n"
	"        self.send_header('Content-Length', str(len(data)))\n"
	"        self.end_headers()\n"
	"        if self.command != 'HEAD':\n"
	"            self.wfile.write(data)\n"
	"    def do_HEAD(self):\n"
	"        self.do_GET()\n"
	"    def do_GET(self):\n"
	"        p = self.path\n"
	"        if p.startswith('/ok'):\n"
	"            self.answer(200)\n"
	"        elif p.startswith('/fail'):\n"
	"            self.answer(503, b'unavailable')\n"
	"        elif p.startswith('/slow'):\n"
	"            time.sleep(0.15)\n"
	"            self.answer(200)\n"
	"        elif p.startswith('/chunked'):\n"
	"            self.send_response(200)\n"
	"            self.send_header('Transfer-Encoding', 'chunked')\n"
	"            self.end_headers()\n"
	"            for part in (b'he', b'llo, ', b'world'):\n"
	"                self.wfile.write(b'%x\\r\\n%s\\r\\n' % (len(part), part))\n"
	"                time.sleep(0.02)\n"
	"            self.wfile.write(b'0\\r\\n\\r\\n')\n"
	"        else:\n"
	"            self.answer(404, b'not here')\n"
	"ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()\n";

/* Run @argv outside the mesh, in the remote netns; its pid or -1. */
static pid_t spawn_remote(char *const argv[])
{
	pid_t pid;
	int ns;

	fflush(NULL);
	pid = fork();
	if (pid)
		return pid;
	if (join_cgroup(cg.home))
		_exit(126);
	ns = open(remote.path, O_RDONLY);
	if (ns < 0 || setns(ns, CLONE_NEWNET))
		_exit(126);
	close(ns);
	ns = open("/dev/null", O_WRONLY);
	if (ns >= 0)
		dup2(ns, STDOUT_FILENO);
	execvp(argv[0], argv);
	_exit(127);
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* A server answers a plain TCP connect on @port of the remote address
 * (from the host's side, unmeshed: this process is not in the mesh yet). */
static bool listening(int port)
{
	int fd = dial(REMOTE, port, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool start_py(void)
{
	char port[16];
	char *argv[] = { "python3", PY_FILE, REMOTE, port, NULL };

	if (run_cmd(NULL, 0, "python3 -c 'import http.server'"))
		return false;
	if (write_file(PY_FILE, py_src))
		return false;
	snprintf(port, sizeof(port), "%d", PY_PORT);
	py_pid = spawn_remote(argv);
	return py_pid > 0 && WAIT_UNTIL(listening(PY_PORT), 10000);
}

static bool start_bb(void)
{
	char addr[64];
	char *argv[] = { "busybox", "httpd", "-f", "-p", addr, "-h", WWW, NULL };

	run_cmd(NULL, 0, "rm -rf " WWW);
	if (mkdir(WWW, 0755) || mkdir(WWW "/cgi-bin", 0755) ||
	    write_file(WWW "/index.html", "<p>busybox</p>\n") ||
	    write_file(WWW "/cgi-bin/fail",
		       /* CRLF: bare LF heads are not HTTP/1.1 (kmesh counts
			* them unparsed, strict clients refuse them) */
		       "#!/bin/sh\nprintf 'Status: 503 Service Unavailable\\r\\n"
		       "Content-Type: text/plain\\r\\n\\r\\ndown\\n'\n") ||
	    chmod(WWW "/cgi-bin/fail", 0755))
		return false;
	snprintf(addr, sizeof(addr), "%s:%d", REMOTE, BB_PORT);
	bb_pid = spawn_remote(argv);
	return bb_pid > 0 && WAIT_UNTIL(listening(BB_PORT), 10000);
}

/* ---- the client ---- */

/*
 * The client reads as real ones do: whatever is there, into a buffer
 * (one recvmsg() per arrival, not one per byte).
 */
static struct {
	char b[8192];
	size_t off, len;
} rb;

/* A connection to @vip:80 with an empty read buffer. */
static int cdial(const char *vip)
{
	rb.off = rb.len = 0;
	return dial(vip, 80, NULL);
}

static int rb_getc(int fd, char *c)
{
	ssize_t n;

	if (rb.off == rb.len) {
		n = read(fd, rb.b, sizeof(rb.b));
		if (n <= 0)
			return -1;
		rb.off = 0;
		rb.len = (size_t)n;
	}
	*c = rb.b[rb.off++];
	return 0;
}

/* Exactly @n bytes into @buf (discarded when NULL); 0 or -1. */
static int rb_read(int fd, char *buf, size_t n)
{
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		if (rb_getc(fd, &c))
			return -1;
		if (buf)
			buf[i] = c;
	}
	return 0;
}

/* Bytes until the head's end into @buf (NUL-terminated); length or -1. */
static int read_head(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		if (rb_getc(fd, buf + n))
			return -1;
		n++;
		buf[n] = '\0';
		if (n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4))
			return (int)n;
	}
	return -1;
}

/*
 * One response, a final one after any 1xx: its status, its body skipped
 * by its framing (none for HEAD, 1xx, 204, 304; to EOF without any).
 * -1 if it could not be read.
 */
static int read_resp(int fd, bool head_req)
{
	char head[4096], line[64], *p;
	long cl = -1, sz;
	int code;
	char c;

	do {
		if (read_head(fd, head, sizeof(head)) < 0 ||
		    sscanf(head, "HTTP/1.%*d %d", &code) != 1)
			return -1;
	} while (code >= 100 && code < 200);
	if (head_req || code == 204 || code == 304)
		return code;
	for (p = head; (p = strchr(p, '\n')); p++) {
		if (!strncasecmp(p + 1, "content-length:", 15))
			cl = strtol(p + 16, NULL, 10);
		if (!strncasecmp(p + 1, "transfer-encoding:", 18))
			cl = -2;
	}
	if (cl >= 0)
		return rb_read(fd, NULL, (size_t)cl) ? -1 : code;
	if (cl == -1) {
		while (!rb_getc(fd, &c))
			;
		return code;
	}
	for (;;) {	/* chunked */
		size_t n = 0;

		while (n + 1 < sizeof(line) && !rb_getc(fd, line + n) &&
		       line[n] != '\n')
			n++;
		line[n] = '\0';
		sz = strtol(line, NULL, 16);
		if (rb_read(fd, NULL, (size_t)sz + 2))
			return -1;
		if (!sz)
			return code;
	}
}

static int send_all(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

#define REQ(m, p, host)	m " " p " HTTP/1.1\r\nHost: " host "\r\n\r\n"

/* One request on a new connection: the status, or -1. */
static int one(const char *vip, const char *method, const char *path,
	       const char *host)
{
	char req[512];
	int fd = cdial(vip), code;

	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n",
		 method, path, host);
	code = send_all(fd, req) ? -1 : read_resp(fd, !strcmp(method, "HEAD"));
	close(fd);
	return code;
}

static long long st(const char *svc, const char *route, const char *method,
		    const char *field)
{
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "http %s route %s %s:", svc, route, method);
	return ctl_stat(prefix, field, 0);
}

static long long node(const char *field)
{
	return ctl_stat("http node:", field, 0);
}

/* The node-wide L7 counters, for a failure's diagnosis. */
static void node_diag(void)
{
	static char out[131072];
	char *p;

	if (ctl(out, sizeof(out), "stats"))
		return;
	p = strstr(out, "http node:");
	if (p)
		tap_diag("%.*s", (int)strcspn(p, "\n"), p);
}

/* Counters of one (service, route, method), read before and after. */
struct snap {
	long long c[5], unparsed, unknown, lat;
};

static void snap(struct snap *s, const char *svc, const char *route,
		 const char *method)
{
	static const char *const cls[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	int i;

	for (i = 0; i < 5; i++)
		s->c[i] = st(svc, route, method, cls[i]);
	s->unparsed = st(svc, route, method, "unparsed");
	s->unknown = st(svc, route, method, "unknown");
}

/* What changed since @b: 2xx, 4xx, 5xx, unparsed, unknown, as a string
 * ("2xx+1 5xx+1"), for one comparison that shows the whole picture. */
static const char *delta(const struct snap *b, const char *svc,
			 const char *route, const char *method)
{
	static char out[128];
	static const char *const cls[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct snap a;
	size_t n = 0;
	int i;

	snap(&a, svc, route, method);
	out[0] = '\0';
	for (i = 0; i < 5; i++)
		if (a.c[i] != b->c[i])
			n += snprintf(out + n, sizeof(out) - n, "%s%s+%lld",
				      n ? " " : "", cls[i], a.c[i] - b->c[i]);
	if (a.unparsed != b->unparsed)
		n += snprintf(out + n, sizeof(out) - n, "%sunparsed+%lld",
			      n ? " " : "", a.unparsed - b->unparsed);
	if (a.unknown != b->unknown)
		snprintf(out + n, sizeof(out) - n, "%sunknown+%lld",
			 n ? " " : "", a.unknown - b->unknown);
	return out;
}

/* Does @got ("2xx+2 unknown+1") match @want exactly? */
static bool delta_ok(const char *got, const char *want)
{
	return !strcmp(got, want);
}

#define EXPECT_DELTA(b, svc, route, method, want) do {			\
	const char *__d = delta(b, svc, route, method);			\
	if (!EXPECT(delta_ok(__d, want)))				\
		tap_diag("%s %s %s: got \"%s\", want \"%s\"", svc, route, \
			 method, __d, want);				\
} while (0)

/* ---- the mesh ---- */

#define ROUTE(name, prefix, cluster)					\
	"      - name: " name "\n"					\
	"        match: [{uri: {prefix: " prefix "}}]\n"		\
	"        route: [{cluster: " cluster "}]\n"

static const char mesh[] =
	"services:\n"
	"  - name: py\n"
	"    addresses: [" PY_VIP "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: py\n"
	"  - name: bb\n"
	"    addresses: [" BB_VIP "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: bb\n"
	"  - name: raw\n"
	"    addresses: [" RAW_VIP "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: raw\n"
	"  - name: lo\n"
	"    addresses: [" LO_VIP "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: lo\n"
	"  - name: ej\n"
	"    addresses: [" EJ_VIP "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: ej\n"
	"  - name: plain\n"
	"    addresses: [" TCP_VIP "]\n"
	"    ports: [{port: 80, protocol: tcp}]\n"
	"    cluster: raw\n"
	"clusters:\n"
	"  - name: py\n"
	"    endpoints: [{address: " REMOTE ", port: 18201}]\n"
	"  - name: bb\n"
	"    endpoints: [{address: " REMOTE ", port: 18202}]\n"
	"  - name: raw\n"
	"    endpoints: [{address: " REMOTE ", port: 18203}]\n"
	"  - name: lo\n"
	"    endpoints: [{address: 127.0.0.1, port: 18204}]\n"
	"  - name: ej\n"
	"    lb: round_robin\n"
	"    outlier_detection: {consecutive_5xx: 3, base_ejection_ms: 2000, max_ejection_percent: 50}\n"
	"    endpoints:\n"
	"      - {address: " REMOTE ", port: 18203}\n"
	"      - {address: 127.0.0.1, port: 18204}\n"
	"routes:\n"
	"  - service: py\n"
	"    http:\n"
	ROUTE("ok", "/ok", "py")
	ROUTE("fail", "/fail", "py")
	ROUTE("slow", "/slow", "py")
	ROUTE("chunked", "/chunked", "py")
	"      - name: default\n"
	"        route: [{cluster: py}]\n"
	"  - service: bb\n"
	"    http:\n"
	ROUTE("cgi", "/cgi-bin", "bb")
	"      - name: default\n"
	"        route: [{cluster: bb}]\n"
	"  - service: raw\n"
	"    http:\n"
	ROUTE("ka", "/ka", "raw")
	ROUTE("pipe", "/pipe", "raw")
	ROUTE("chunk", "/chunk", "raw")
	ROUTE("split", "/split", "raw")
	ROUTE("garbage", "/garbage", "raw")
	ROUTE("continue", "/continue", "raw")
	ROUTE("close", "/close", "raw")
	ROUTE("delay", "/delay", "raw")
	"      - name: default\n"
	"        route: [{cluster: raw}]\n";

static bool base(void)
{
	static char out[4096];

	if (!is_up) {
		run_cmd(NULL, 0, "%s down", kmeshctl_path());
		if (!EXPECT_EQ(write_file(MESH_FILE, mesh), 0) ||
		    !EXPECT_EQ(ctl(out, sizeof(out), "up --cgroup %s -f " MESH_FILE,
				   cg.path), 0)) {
			tap_diag("kmeshctl up: %s", out);
			return false;
		}
		is_up = true;
		/* which parser read the requests: the responses' is the same */
		if (!ctl(out, sizeof(out), "status") && strstr(out, "l7 requests:"))
			tap_diag("%.*s", (int)strcspn(strstr(out, "l7 requests:"), "\n"),
				 strstr(out, "l7 requests:"));
	}
	return EXPECT_EQ(join_cgroup(cg.path), 0);
}

static bool need_remote(void)
{
	if (have_remote)
		return true;
	tap_skip("no veth + netns here");
	tap_end();
	return false;
}

/* ---- tests ---- */

static void test_keepalive(void)
{
	struct snap b;
	long long rx;
	int fd;

	tap_begin("resp: keep-alive to a remote server: 200, 404, 503 and 200 on one connection, each counted for its route");
	if (!base() || !need_remote())
		return;
	snap(&b, "raw", "ka", "GET");
	rx = node("rx_responses");
	fd = cdial(RAW_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/200", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/404", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 404);
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/503", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 503);
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/200", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		close(fd);
	}
	EXPECT_DELTA(&b, "raw", "ka", "GET", "2xx+2 4xx+1 5xx+1");
	EXPECT_EQ(node("rx_responses"), rx + 4);
	EXPECT(st("raw", "ka", "GET", "latency_avg_us") > 0);
	tap_end();
}

static void test_pipelining(void)
{
	struct snap g, h;
	int fd;

	tap_begin("resp: pipelined GET, HEAD, 500, 204 in one write: paired in order, HEAD and 204 bodiless");
	if (!base() || !need_remote())
		return;
	snap(&g, "raw", "pipe", "GET");
	snap(&h, "raw", "pipe", "HEAD");
	fd = cdial(RAW_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/pipe/200", "raw")
				       REQ("HEAD", "/pipe/200", "raw")
				       REQ("GET", "/pipe/500", "raw")
				       REQ("GET", "/pipe/204", "raw")
				       REQ("GET", "/pipe/201", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		EXPECT_EQ(read_resp(fd, true), 200);
		EXPECT_EQ(read_resp(fd, false), 500);
		EXPECT_EQ(read_resp(fd, false), 204);
		EXPECT_EQ(read_resp(fd, false), 201);
		close(fd);
	}
	EXPECT_DELTA(&g, "raw", "pipe", "GET", "2xx+3 5xx+1");
	EXPECT_DELTA(&h, "raw", "pipe", "HEAD", "2xx+1");
	tap_end();
}

static void test_chunked(void)
{
	struct snap c, k;
	int fd;

	tap_begin("resp: a chunked body in pieces is skipped by its framing; the next response pairs");
	if (!base() || !need_remote())
		return;
	snap(&c, "raw", "chunk", "GET");
	snap(&k, "raw", "ka", "GET");
	fd = cdial(RAW_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/chunk", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/502", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 502);
		close(fd);
	}
	EXPECT_DELTA(&c, "raw", "chunk", "GET", "2xx+1");
	EXPECT_DELTA(&k, "raw", "ka", "GET", "5xx+1");
	tap_end();
}

static void test_split(void)
{
	struct snap s, k;
	char head[256];
	int fd;

	tap_begin("resp: a head split over segments is read whole, delivered intact; the next response pairs");
	if (!base() || !need_remote())
		return;
	snap(&s, "raw", "split", "GET");
	snap(&k, "raw", "ka", "GET");
	fd = cdial(RAW_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/split", "raw")), 0);
		EXPECT(read_head(fd, head, sizeof(head)) > 0);
		EXPECT(!strcmp(head, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n"));
		EXPECT_EQ(rb_read(fd, head, 2), 0);
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/200", "raw")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		close(fd);
	}
	EXPECT_DELTA(&s, "raw", "split", "GET", "2xx+1");
	EXPECT_DELTA(&k, "raw", "ka", "GET", "2xx+1");
	tap_end();
}

static void test_garbage(void)
{
	static const char want[] = "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok";
	long long un, op;
	char got[128];
	struct snap g;
	ssize_t n;
	size_t off = 0;
	int fd;

	tap_begin("resp: a garbage response head is counted as unparsed (no class guessed) and delivered unchanged");
	if (!base() || !need_remote())
		return;
	snap(&g, "raw", "garbage", "GET");
	un = node("rx_unparsed");
	op = node("rx_opaque");
	fd = cdial(RAW_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/garbage", "raw")), 0);
		while (off < sizeof(got) - 1 &&
		       (n = read(fd, got + off, sizeof(got) - 1 - off)) > 0)
			off += (size_t)n;
		got[off] = '\0';
		EXPECT(!strcmp(got, want));
		close(fd);
	}
	EXPECT_DELTA(&g, "raw", "garbage", "GET", "unparsed+1");
	EXPECT_EQ(node("rx_unparsed"), un + 1);
	EXPECT(node("rx_opaque") >= op + 1);
	tap_end();
}

static void test_interim_close(void)
{
	struct snap c, d;
	long long op;

	tap_begin("resp: 100 then 201 counts once (2xx); a close-delimited body is counted, the rest opaque");
	if (!base() || !need_remote())
		return;
	snap(&c, "raw", "continue", "GET");
	snap(&d, "raw", "close", "GET");
	op = node("rx_opaque");
	EXPECT_EQ(one(RAW_VIP, "GET", "/continue", "raw"), 201);
	EXPECT_EQ(one(RAW_VIP, "GET", "/close", "raw"), 200);
	EXPECT_DELTA(&c, "raw", "continue", "GET", "2xx+1");
	EXPECT_DELTA(&d, "raw", "close", "GET", "2xx+1");
	EXPECT_EQ(node("rx_opaque"), op + 1);
	tap_end();
}

static void test_latency(void)
{
	long long n2, avg;
	int i;

	tap_begin("resp: latency is the server's time to answer (150 ms delay: average 150..1000 ms)");
	if (!base() || !need_remote())
		return;
	n2 = st("raw", "delay", "GET", "2xx");
	for (i = 0; i < 3; i++)
		EXPECT_EQ(one(RAW_VIP, "GET", "/delay", "raw"), 200);
	EXPECT_EQ(st("raw", "delay", "GET", "2xx"), n2 + 3);
	avg = st("raw", "delay", "GET", "latency_avg_us");
	EXPECT(avg >= 150000 && avg < 1000000);
	if (tap_failed_now())
		tap_diag("latency_avg_us %lld", avg);
	tap_end();
}

static void test_access_log(void)
{
	static char out[65536];
	size_t n;
	int i;

	tap_begin("resp: the access log has the remote server's status and latency; unparsed says so");
	if (!base() || !need_remote())
		return;
	ctl(NULL, 0, "log --wait 0");	/* drain */
	EXPECT_EQ(one(RAW_VIP, "GET", "/ka/503", "raw"), 503);
	one(RAW_VIP, "GET", "/garbage", "raw");	/* what it reads is no status */
	/* two L4 records (the connections) and two L7 ones, after any
	 * record of an earlier subtest's connection closing late */
	for (i = 0, n = 0; i < 4 && n < sizeof(out) - 1; i++) {
		ctl(out + n, sizeof(out) - n, "log --json --count 4 --wait 2");
		n += strlen(out + n);
		if (strstr(out, "\"route\":\"garbage\"") &&
		    strstr(out, "\"path\":\"/ka/503\""))
			break;
	}
	EXPECT(strstr(out, "\"path\":\"/ka/503\",\"path_truncated\":false,\"route\":\"ka\",\"status\":503,\"decision\":\"allow\""));
	EXPECT(strstr(out, "\"route\":\"garbage\",\"status\":0,"));
	EXPECT(strstr(out, "\"response_unparsed\":true"));
	EXPECT(strstr(out, "\"response_seen\":true"));
	if (tap_failed_now()) {
		for (i = 0; out[i]; i++)
			if (out[i] == '\n')
				out[i] = ' ';
		tap_diag("log said: %s", out);
	}
	tap_end();
}

static void test_busybox(void)
{
	struct snap d, dh, c;

	tap_begin("resp: busybox httpd (remote): 200, HEAD 200, 404, CGI 503 counted per route");
	if (!base() || !need_remote())
		return;
	if (!have_bb) {
		tap_skip("busybox httpd did not start");
		tap_end();
		return;
	}
	snap(&d, "bb", "default", "GET");
	snap(&dh, "bb", "default", "HEAD");
	snap(&c, "bb", "cgi", "GET");
	EXPECT_EQ(one(BB_VIP, "GET", "/index.html", "bb"), 200);
	/* busybox writes a HEAD's head in pieces: stashed and completed */
	EXPECT_EQ(one(BB_VIP, "HEAD", "/index.html", "bb"), 200);
	EXPECT_EQ(one(BB_VIP, "GET", "/missing.html", "bb"), 404);
	EXPECT_EQ(one(BB_VIP, "GET", "/cgi-bin/fail", "bb"), 503);
	EXPECT_DELTA(&d, "bb", "default", "GET", "2xx+1 4xx+1");
	EXPECT_DELTA(&dh, "bb", "default", "HEAD", "2xx+1");
	EXPECT_DELTA(&c, "bb", "cgi", "GET", "5xx+1");
	tap_end();
}

/*
 * @want responses of class @cls (index: 1 = 2xx) since @b, each counted
 * in that class: none in another, none unknown, nothing unparsed.
 */
static void py_check(const struct snap *b, const char *route,
		     const char *method, int cls, long long want)
{
	struct snap a;
	int i;

	snap(&a, "py", route, method);
	for (i = 0; i < 5; i++)
		if (i != cls && !EXPECT_EQ(a.c[i] - b->c[i], 0))
			tap_diag("py %s %s: class %dxx counted", route, method, i + 1);
	EXPECT_EQ(a.unparsed - b->unparsed, 0);
	if (!EXPECT_EQ(a.c[cls] - b->c[cls], want) ||
	    !EXPECT_EQ(a.unknown - b->unknown, 0))
		tap_diag("py %s %s: %s", route, method, delta(b, "py", route, method));
}

static void test_python(void)
{
	struct snap ok, okh, fail, ch, slow;
	long long avg;
	int fd;

	tap_begin("resp: python3 http.server (remote, HTTP/1.1): keep-alive and pipelined GET, HEAD, 503, chunked, slow");
	if (!base() || !need_remote())
		return;
	if (!have_py) {
		tap_skip("no python3 here");
		tap_end();
		return;
	}
	snap(&ok, "py", "ok", "GET");
	snap(&okh, "py", "ok", "HEAD");
	snap(&fail, "py", "fail", "GET");
	snap(&ch, "py", "chunked", "GET");
	snap(&slow, "py", "slow", "GET");
	fd = cdial(PY_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/ok", "py")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		EXPECT_EQ(send_all(fd, REQ("HEAD", "/ok", "py")), 0);
		EXPECT_EQ(read_resp(fd, true), 200);
		EXPECT_EQ(send_all(fd, REQ("GET", "/fail", "py")), 0);
		EXPECT_EQ(read_resp(fd, false), 503);
		EXPECT_EQ(send_all(fd, REQ("GET", "/chunked", "py")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		/* pipelined */
		EXPECT_EQ(send_all(fd, REQ("GET", "/ok/1", "py") REQ("HEAD", "/ok/2", "py")
				       REQ("GET", "/fail/3", "py") REQ("GET", "/slow", "py")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		EXPECT_EQ(read_resp(fd, true), 200);
		EXPECT_EQ(read_resp(fd, false), 503);
		EXPECT_EQ(read_resp(fd, false), 200);
		close(fd);
	}
	py_check(&ok, "ok", "GET", 1, 2);
	py_check(&okh, "ok", "HEAD", 1, 2);
	py_check(&fail, "fail", "GET", 4, 2);
	py_check(&ch, "chunked", "GET", 1, 1);
	py_check(&slow, "slow", "GET", 1, 1);
	avg = st("py", "slow", "GET", "latency_avg_us");
	EXPECT(avg >= 150000 && avg < 2000000);
	if (tap_failed_now())
		node_diag();
	tap_end();
}

static void test_local_unmeshed(void)
{
	struct snap b;
	int fd;

	tap_begin("resp: an unmeshed server on this node (loopback) is read on receive too");
	if (!base())
		return;
	snap(&b, "lo", "-", "GET");
	fd = cdial(LO_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/200", "lo")), 0);
		EXPECT_EQ(read_resp(fd, false), 200);
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/503", "lo")), 0);
		EXPECT_EQ(read_resp(fd, false), 503);
		close(fd);
	}
	EXPECT_DELTA(&b, "lo", "-", "GET", "2xx+1 5xx+1");
	tap_end();
}

/*
 * Outlier detection from responses read on receive: of a cluster's two
 * endpoints, the remote one answers 503 to everything; round robin, one
 * connection per request. Its third 503 in a row ejects it (the 200s of
 * the other endpoint are no part of its run), so no fourth request
 * reaches it; it is back after base_ejection_ms.
 */
#define EJ_BAD "endpoint ej/" REMOTE ":18203 "
static void test_eject_5xx(void)
{
	int i, code, n503 = 0, n200 = 0, after = 0;
	double t0;

	tap_begin("resp: a remote endpoint answering 503 is ejected after consecutive_5xx responses, and back after base_ejection_ms");
	if (!base() || !need_remote())
		return;
	for (i = 0; i < 16; i++) {
		code = one(EJ_VIP, "GET", "/eject", "ej");
		if (code == 503)
			n503++;
		else if (code == 200)
			n200++;
		else if (!EXPECT(0))
			tap_diag("request %d: status %d", i, code);
	}
	t0 = now_s();
	if (!EXPECT_EQ(n503, 3) || !EXPECT_EQ(n200, 13))
		tap_diag("503: %d, 200: %d", n503, n200);
	EXPECT_EQ(ctl_stat(EJ_BAD, "ejections", -1), 1);
	EXPECT_EQ(ctl_stat(EJ_BAD, "ejected", -1), 1);
	EXPECT_EQ(ctl_stat(EJ_BAD, "connects", -1), 3);
	/* back once its 2 s are up: round robin sends it one of two */
	while (now_s() - t0 < 2.2)
		usleep(50000);
	for (i = 0; i < 4; i++)
		if (one(EJ_VIP, "GET", "/eject", "ej") == 503)
			after++;
	EXPECT(after >= 1 && after <= 2);
	EXPECT_EQ(ctl_stat(EJ_BAD, "returns", -1), 1);
	tap_end();
}

static void test_tcp_port(void)
{
	long long conns;
	char buf[64];
	int fd;

	tap_begin("resp: a tcp service port stays off the receive path (no response reading)");
	if (!base() || !need_remote())
		return;
	conns = node("rx_connections");
	fd = cdial(TCP_VIP);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send_all(fd, REQ("GET", "/ka/200", "raw")), 0);
		EXPECT(recv_wait(fd, buf, sizeof(buf), 5000) > 0);
		close(fd);
	}
	EXPECT_EQ(node("rx_connections"), conns);
	/* and an http port joins it: the counter works */
	EXPECT_EQ(one(RAW_VIP, "GET", "/ka/200", "raw"), 200);
	EXPECT_EQ(node("rx_connections"), conns + 1);
	tap_end();
}

static void test_no_internal_drops(void)
{
	tap_begin("resp: nothing was dropped on the receive path (inbound internal drops 0)");
	if (!base())
		return;
	EXPECT_EQ(node("internal_drops"), 0);
	EXPECT_EQ(ctl_stat("inbound node:", "internal_drops", 0), 0);
	tap_end();
}

static void cleanup(void)
{
	stop(&py_pid);
	stop(&bb_pid);
	mesh_teardown(&cg, &remote);
	is_up = false;
	run_cmd(NULL, 0, "rm -rf " WWW " " PY_FILE " " MESH_FILE);
}

static const struct subtest subtests[] = {
	SUBTEST(keepalive),
	SUBTEST(pipelining),
	SUBTEST(chunked),
	SUBTEST(split),
	SUBTEST(garbage),
	SUBTEST(interim_close),
	SUBTEST(latency),
	SUBTEST(access_log),
	SUBTEST(busybox),
	SUBTEST(python),
	SUBTEST(local_unmeshed),
	SUBTEST(eject_5xx),
	SUBTEST(tcp_port),
	SUBTEST(no_internal_drops),
};

void test_resp(void)
{
	struct server_opts outside = {}, lo = {};

	signal(SIGPIPE, SIG_IGN);
	run_cmd(NULL, 0, "ip link set lo up");
	tap_begin("resp: topology: meshed client; remote python3, busybox and scripted servers; an unmeshed local one");
	if (!EXPECT_EQ(test_cgroup_setup(&cg, "kmesh-resp-test"), 0)) {
		tap_end();
		return;
	}
	lo.cgroup = cg.home;
	EXPECT(server_start("127.0.0.1", LO_PORT, "lo", raw_serve, &lo) >= 0);
	have_remote = remote_ns_setup(&remote, "kmr0", "10.99.0.1", REMOTE);
	if (have_remote) {
		outside.netns = remote.path;
		outside.cgroup = cg.home;
		have_remote = server_start(REMOTE, RAW_PORT, "raw", raw_serve,
					   &outside) >= 0;
	}
	if (have_remote) {
		have_py = start_py();
		have_bb = start_bb();
	}
	if (!have_remote)
		tap_diag("no veth + netns: remote-server checks are skipped");
	tap_diag("python3 http.server: %s; busybox httpd: %s",
		 have_py ? "yes" : "no", have_bb ? "yes" : "no");
	tap_end();
	run_subtests("resp", subtests, ARRAY_LEN(subtests));
	cleanup();
}

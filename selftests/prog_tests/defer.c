// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deferred connect (kfunc lane): a connect to an HTTP service with routes
 * is held until the first request head is written; the head picks the
 * route, BPF the endpoint, then the module connects and replays.
 *
 * Real sockets end to end: small HTTP servers on loopback (each answers
 * every request with its own name, the request line, and the length and
 * FNV-1a of the body it read), run in a meshed cgroup together with this
 * process; `kmeshctl up` + `apply` for services and clusters; route tables
 * built with route_build and handed over through /dev/kmesh; the services'
 * route_table_id set in the live generation directly (the config file
 * cannot name tables yet).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "l4_bpf.h"
#include "net_helpers.h"
#include "route_build.h"
#include "route_tables.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-defer.yaml"
#define VIP4		"10.96.7.10"
#define VIP6		"fd00:96::7:10"
#define VIP_PLAIN	"10.96.7.20"
#define TABLE_WEB	7001
#define TABLE_WEB6	7002
#define HOST		"web.test"

#ifndef TCP_ULP
#define TCP_ULP		31
#endif

static const char mesh_yaml[] =
	"services:\n"
	"  - name: dweb\n"
	"    addresses: [" VIP4 "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: dv1\n"
	"  - name: dweb6\n"
	"    addresses: [\"" VIP6 "\"]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: dv6\n"
	"  - name: dplain\n"
	"    addresses: [" VIP_PLAIN "]\n"
	"    ports: [{port: 80}]\n"
	"    cluster: dv2\n"
	"clusters:\n"
	"  - name: dv1\n"
	"    lb: round_robin\n"
	"    endpoints:\n"
	"      - {address: 127.0.0.1, port: 19001}\n"
	"      - {address: 127.0.0.1, port: 19002}\n"
	"  - name: dv2\n"
	"    endpoints: [{address: 127.0.0.1, port: 19003}]\n"
	"  - name: dcanary\n"
	"    endpoints: [{address: 127.0.0.1, port: 19004}]\n"
	"  - name: dv6\n"
	"    endpoints: [{address: \"::1\", port: 19011}]\n"
	"  - name: ddead\n"
	"    endpoints: [{address: 127.0.0.1, port: 19099}]\n"
	"  - name: dempty\n"
	"    endpoints: []\n"
	"  - name: dslow\n"
	"    endpoints: [{address: 127.0.0.1, port: 19005}]\n"
	"  - name: dhole\n"
	"    lb: round_robin\n"
	"    connect_timeout_ms: 500\n"
	"    endpoints:\n"
	"      - {address: 127.0.0.1, port: 19006}\n"
	"      - {address: 127.0.0.1, port: 19003}\n"
	"  - name: dfail\n"
	"    lb: round_robin\n"
	"    endpoints:\n"
	"      - {address: 127.0.0.1, port: 19099}\n"
	"      - {address: 127.0.0.1, port: 19003}\n"
	"  - name: dout\n"
	"    outlier_detection: {consecutive_connect_failures: 1, split_external_local_origin_errors: true,\n"
	"                        consecutive_5xx: 0, max_ejection_percent: 50}\n"
	"    endpoints: [{address: 127.0.0.1, port: 19003}, {address: 127.0.0.1, port: 19098}]\n";

static struct test_cgroup cg;
static bool is_up;

/* ---- small helpers ---- */

static unsigned int fnv(unsigned int h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

#define FNV0 2166136261u

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

/* Header @name's value in a head (case-insensitive name), or NULL. */
static const char *header(const char *head, size_t len, const char *name,
			  char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memmem(p, end - p, "\r\n", 2);

		if (!eol)
			break;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t n;

			while (v < eol && *v == ' ')
				v++;
			n = eol - v < (long)size - 1 ? (size_t)(eol - v) : size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
		p = eol + 2;
	}
	return NULL;
}

/* ---- servers ---- */

/* Answer every request on one connection until it closes. */
static void serve(struct srv_conn *c)
{
	size_t cap = 1 << 16, have = 0;
	char *buf = malloc(cap), tmp[16384], val[64], out[512], text[400];

	while (buf) {
		char method[16] = "", path[256] = "", *end;
		size_t head_len, got;
		long clen = 0;
		unsigned int h = FNV0;
		bool close_after;
		ssize_t n;
		int len;

		while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
			if (have == cap)
				goto out;
			n = read(c->fd, buf + have, cap - have);
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		head_len = (size_t)(end + 4 - buf);
		sscanf(buf, "%15s %255s", method, path);
		if (header(buf, head_len, "content-length", val, sizeof(val)))
			clen = strtol(val, NULL, 10);
		close_after = header(buf, head_len, "connection", val, sizeof(val)) &&
			      !strcasecmp(val, "close");
		got = have - head_len < (size_t)clen ? have - head_len : (size_t)clen;
		h = fnv(h, buf + head_len, got);
		memmove(buf, buf + head_len + got, have - head_len - got);
		have -= head_len + got;
		for (clen -= (long)got; clen > 0; clen -= n) {
			n = read(c->fd, tmp, clen < (long)sizeof(tmp) ? (size_t)clen : sizeof(tmp));
			if (n <= 0)
				goto out;
			h = fnv(h, tmp, (size_t)n);
			got += (size_t)n;
		}
		snprintf(text, sizeof(text), "%s %s %s %zu %u\n", c->tag, method,
			 path, got, h);
		len = snprintf(out, sizeof(out),
			       "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Server: %s\r\n\r\n%s",
			       strlen(text), c->tag, text);
		if (write(c->fd, out, (size_t)len) != len || close_after)
			goto out;
	}
out:
	free(buf);
}

/* ---- clients ---- */

/* A socket connected to @addr:80; -errno on failure. */
static int dial_vip(const char *addr, bool nonblock)
{
	struct dial_opts o = { .nonblock = nonblock };

	return dial_opts(addr, 80, &o);
}

/* The module's recent messages, to explain a failure. */
static void kernel_log_diag(void)
{
	char out[2048];

	run_cmd(out, sizeof(out), "dmesg | grep 'kmesh:' | tail -n 8");
	tap_diag("kernel log:\n%s", out);
}

static socklen_t vip_addr(const char *addr, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(80);
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		return sizeof(*s);
	} else {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(80);
		inet_pton(AF_INET, addr, &s->sin_addr);
		return sizeof(*s);
	}
}

struct resp {
	int status;
	long clen;
	char body[2048];
	size_t body_len;
	/* what our servers put in the body */
	char server[16];
	char method[16];
	char path[128];
	long req_body;
	unsigned int req_fnv;
};

/* Read one response; the body only when @has_body. 0 or -errno. */
static int read_resp(int fd, struct resp *r, bool has_body)
{
	char buf[8192], val[32], *end;
	size_t have = 0, head_len;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->clen = -1;
	/* Byte by byte up to the blank line: never into the next response. */
	while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
		if (have == sizeof(buf))
			return -EMSGSIZE;
		n = recv_wait(fd, buf + have, 1, 5000);
		if (n <= 0)
			return n ? (int)n : -ECONNRESET;
		have += (size_t)n;
	}
	head_len = (size_t)(end + 4 - buf);
	if (sscanf(buf, "HTTP/1.1 %d", &r->status) != 1)
		return -EPROTO;
	if (header(buf, head_len, "content-length", val, sizeof(val)))
		r->clen = strtol(val, NULL, 10);
	r->body_len = have - head_len;
	memcpy(r->body, buf + head_len, r->body_len);
	while (has_body && r->clen >= 0 && (long)r->body_len < r->clen &&
	       r->body_len < sizeof(r->body) - 1) {
		size_t want = (size_t)r->clen - r->body_len;

		if (want > sizeof(r->body) - 1 - r->body_len)
			want = sizeof(r->body) - 1 - r->body_len;
		n = recv_wait(fd, r->body + r->body_len, want, 5000);
		if (n <= 0)
			return n ? (int)n : -ECONNRESET;
		r->body_len += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	sscanf(r->body, "%15s %15s %127s %ld %u", r->server, r->method, r->path,
	       &r->req_body, &r->req_fnv);
	return 0;
}

/* One GET on a fresh connection; the answering server's name in @r. */
static int get(const char *addr, const char *path, const char *extra,
	       struct resp *r)
{
	char req[512];
	int fd, rc, len;

	fd = dial_vip(addr, false);
	if (fd < 0)
		return fd;
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
		       path, HOST, extra ? extra : "");
	rc = write_all(fd, req, (size_t)len);
	if (!rc)
		rc = read_resp(fd, r, true);
	if (rc) {
		struct tcp_info ti = {};
		socklen_t tlen = sizeof(ti);

		getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen);
		tap_diag("GET %s: %s; state %u, segs out %u in %u, acked %llu, received %llu",
			 path, strerror(-rc), ti.tcpi_state, ti.tcpi_segs_out,
			 ti.tcpi_segs_in, (unsigned long long)ti.tcpi_bytes_acked,
			 (unsigned long long)ti.tcpi_bytes_received);
		kernel_log_diag();
	}
	close(fd);
	return rc;
}

/* A request head plus @body_len patterned body bytes, malloc'd. */
static char *post_request(const char *path, size_t body_len, size_t *len)
{
	char head[256];
	size_t hl, i;
	char *buf;

	hl = (size_t)snprintf(head, sizeof(head),
			      "POST %s HTTP/1.1\r\nHost: " HOST "\r\nContent-Length: %zu\r\n\r\n",
			      path, body_len);
	buf = malloc(hl + body_len);
	if (!buf)
		return NULL;
	memcpy(buf, head, hl);
	for (i = 0; i < body_len; i++)
		buf[hl + i] = (char)pattern(i);
	*len = hl + body_len;
	return buf;
}

static unsigned int body_fnv(size_t body_len)
{
	unsigned int h = FNV0;
	unsigned char c;
	size_t i;

	for (i = 0; i < body_len; i++) {
		c = pattern(i);
		h = fnv(h, &c, 1);
	}
	return h;
}

static bool is_v1(const char *server)
{
	return !strcmp(server, "a1") || !strcmp(server, "a2");
}

/* ---- setup ---- */

static __u32 cluster_id(const struct l4_gen *gen, const char *name)
{
	size_t i;

	for (i = 0; i < gen->nr_ids; i++)
		if (gen->ids[i].key.kind == KMESH_L4_KIND_CLUSTER &&
		    !strcmp(gen->ids[i].key.name, name))
			return gen->ids[i].val.id;
	return 0;
}

static int build_web_table(const struct l4_gen *gen, void **blob, __u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(1);
	int rc;

	kmesh_rtb_host(b, HOST);
	kmesh_rtb_host(b, "*." HOST);
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_prefix(b, "/v2", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dv2"), 1);
	kmesh_rtb_route(b, 2);
	kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, "x-canary", "1");
	kmesh_rtb_cluster(b, cluster_id(gen, "dcanary"), 1);
	kmesh_rtb_route(b, 3);
	kmesh_rtb_path_prefix(b, "/split", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dv1"), 3);
	kmesh_rtb_cluster(b, cluster_id(gen, "dv2"), 1);
	kmesh_rtb_route(b, 4);
	kmesh_rtb_path_exact(b, "/admin");
	kmesh_rtb_deny(b, 403);
	kmesh_rtb_route(b, 5);
	kmesh_rtb_path_exact(b, "/health");
	kmesh_rtb_direct(b, 200, "ok\n", 3);
	kmesh_rtb_route(b, 6);
	kmesh_rtb_path_prefix(b, "/dead", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "ddead"), 1);
	kmesh_rtb_route(b, 7);
	kmesh_rtb_path_prefix(b, "/empty", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dempty"), 1);
	kmesh_rtb_route(b, 8);
	kmesh_rtb_path_prefix(b, "/unknown", true);
	kmesh_rtb_cluster(b, 999, 1);
	kmesh_rtb_route(b, 9);
	kmesh_rtb_path_prefix(b, "/slow", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dslow"), 1);
	kmesh_rtb_route(b, 10);
	kmesh_rtb_path_prefix(b, "/failover", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dfail"), 1);
	kmesh_rtb_route(b, 11);
	kmesh_rtb_path_prefix(b, "/hole", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dhole"), 1);
	kmesh_rtb_route(b, 12);
	kmesh_rtb_path_prefix(b, "/outlier", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dout"), 1);
	kmesh_rtb_default_route(b, 99);
	kmesh_rtb_cluster(b, cluster_id(gen, "dv1"), 1);
	rc = kmesh_rtb_finish(b, blob, len);
	if (rc)
		tap_diag("route build: %s", kmesh_rtb_error(b));
	kmesh_rtb_free(b);
	return rc;
}

/* IPv6 service: one route, no default (other paths get 404). */
static int build_web6_table(const struct l4_gen *gen, void **blob, __u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(2);
	int rc;

	kmesh_rtb_host(b, "*");
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_prefix(b, "/v6", true);
	kmesh_rtb_cluster(b, cluster_id(gen, "dv6"), 1);
	rc = kmesh_rtb_finish(b, blob, len);
	if (rc)
		tap_diag("route build: %s", kmesh_rtb_error(b));
	kmesh_rtb_free(b);
	return rc;
}

static int set_table(int dev, __u32 id, int (*build)(const struct l4_gen *,
						       void **, __u32 *),
		     const struct l4_gen *gen)
{
	void *blob;
	__u32 len;
	int rc, ferr = 0;

	if (build(gen, &blob, &len))
		return -1;
	rc = kmesh_table_set(dev, id, blob, len, &ferr);
	if (rc)
		tap_diag("table %u refused: %d (format error %d)", id, rc, ferr);
	free(blob);
	return rc;
}

/* Give the live generation's services at @vip:80 route table @table. */
static int attach_table(struct l4_handle *h, const char *vip, __u32 table)
{
	struct kmesh_l4_generation g;
	struct kmesh_service_key key = {};
	struct kmesh_service val;
	__u32 id;
	int fd, rc;

	if (l4_read_generation(h, &g) ||
	    bpf_map_lookup_elem(h->fd[L4_MAP_SERVICES], &g.slot, &id))
		return -1;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	if (mesh_addr_parse(vip, key.addr))
		return -1;
	key.port = 80;
	key.protocol = KMESH_PROTO_TCP;
	rc = bpf_map_lookup_elem(fd, &key, &val);
	if (!rc) {
		val.route_table_id = table;
		rc = bpf_map_update_elem(fd, &key, &val, BPF_EXIST);
	}
	close(fd);
	return rc;
}

static int mesh_setup(void)
{
	struct l4_handle h;
	struct l4_gen gen;
	char out[4096], err[256];
	int dev, rc = -1;

	if (write_file(MESH_FILE, mesh_yaml))
		return -1;
	run_cmd(NULL, 0, "kmeshctl down");
	if (run_cmd(out, sizeof(out), "kmeshctl up --cgroup %s -f " MESH_FILE, cg.path)) {
		tap_diag("kmeshctl up: %s", out);
		return -1;
	}
	is_up = true;
	if (l4_open(&h, err, sizeof(err))) {
		tap_diag("%s", err);
		return -1;
	}
	dev = kmesh_dev_open();
	if (dev >= 0 && !l4_read_active(&h, &gen)) {
		rc = set_table(dev, TABLE_WEB, build_web_table, &gen) ||
		     set_table(dev, TABLE_WEB6, build_web6_table, &gen) ||
		     attach_table(&h, VIP4, TABLE_WEB) ||
		     attach_table(&h, VIP6, TABLE_WEB6) ? -1 : 0;
		l4_gen_free(&gen);
	}
	if (dev >= 0)
		close(dev);
	l4_close(&h);
	return rc;
}

static void cleanup(void)
{
	mesh_teardown(&cg, NULL);
	is_up = false;
}

/*
 * What every subtest starts from, whatever ran before it: the module
 * loaded, kmesh up with the route tables attached, this process meshed.
 */
static bool defer_base(void)
{
	if (!kmesh_loaded() && !EXPECT_EQ(kmesh_modprobe(NULL), 0))
		return false;
	if (!is_up && !EXPECT_EQ(mesh_setup(), 0))
		return false;
	return EXPECT_EQ(join_cgroup(cg.path), 0);
}

/* ---- tests ---- */

static void test_l7_program(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct l4_link_info li;
	int fd;

	tap_begin("defer: kmeshctl up attaches the kfunc-mode connect programs");
	defer_base();
	EXPECT_EQ(l4_link_info(L4_PROG_CONNECT4, &li), 0);
	fd = bpf_prog_get_fd_by_id(li.prog_id);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
		/* BPF_OBJ_NAME_LEN cuts "kmesh_connect4_l7" to 15 bytes. */
		EXPECT_STR_EQ(info.name, "kmesh_connect4_");
		close(fd);
	}
	tap_end();
}

static void test_connect_returns_at_once(void)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	struct tcp_info ti = {};
	socklen_t tlen = sizeof(ti);
	struct pollfd p;
	struct resp r;
	char addr[32];
	int fd;

	tap_begin("defer: connect() returns 0 without a SYN; getpeername shows the VIP; poll says writable");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (!EXPECT(fd >= 0)) {
		tap_diag("connect: %s", strerror(-fd));
		tap_end();
		return;
	}
	EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
	inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
	EXPECT_STR_EQ(addr, VIP4);
	EXPECT_EQ(ntohs(peer.sin_port), 80);
	EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen), 0);
	EXPECT_EQ(ti.tcpi_state, 2);		/* TCP_SYN_SENT, as for fast open */
	EXPECT_EQ(ti.tcpi_segs_out, 0);		/* nothing left the host */
	p = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
	EXPECT_EQ(write_all(fd, "GET / HTTP/1.1\r\nHost: " HOST "\r\n\r\n", 34), 0);
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	EXPECT_EQ(r.status, 200);
	EXPECT(is_v1(r.server));
	len = sizeof(peer);
	EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
	EXPECT_EQ(peer.sin_addr.s_addr, inet_addr(VIP4));
	tlen = sizeof(ti);
	EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen), 0);
	EXPECT_EQ(ti.tcpi_state, 1);		/* TCP_ESTABLISHED */
	close(fd);
	tap_end();
}

static void expect_route(const char *path, const char *extra, const char *want)
{
	struct resp r;
	int rc = get(VIP4, path, extra, &r);

	if (!EXPECT_EQ(rc, 0) || !EXPECT_EQ(r.status, 200) ||
	    !(want ? EXPECT_STR_EQ(r.server, want) : EXPECT(is_v1(r.server))))
		tap_diag("GET %s (%s): rc %d, status %d, server '%s'", path,
			 extra ? extra : "", rc, r.status, r.server);
	else
		EXPECT_STR_EQ(r.path, path);
}

static void test_routes_pick_cluster(void)
{
	tap_begin("defer: the request's path and headers pick the cluster");
	defer_base();
	expect_route("/v2", NULL, "b1");
	expect_route("/v2/items?x=1", NULL, "b1");
	expect_route("/v2x", NULL, NULL);		/* segment prefix */
	expect_route("/", "x-canary: 1\r\n", "c1");
	expect_route("/v2/a", "x-canary: 1\r\n", "b1");	/* first match wins */
	expect_route("/anything", NULL, NULL);		/* default route */
	tap_end();
}

static void test_no_vhost(void)
{
	char req[] = "GET /v2 HTTP/1.1\r\nHost: other.test\r\n\r\n";
	struct resp r;
	int fd;

	tap_begin("defer: a Host the table does not serve goes to the service's own cluster");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT(is_v1(r.server));
		close(fd);
	}
	tap_end();
}

static void test_weighted_split(void)
{
	int i, v1 = 0, v2 = 0, fails = 0;
	struct resp r;

	/* 750 expected, sd 13.7: +-60 is over 4 sd */
	tap_begin("defer: a 3:1 split sends 750 +- 60 of 1000 connections to the first cluster");
	defer_base();
	for (i = 0; i < 1000; i++) {
		if (get(VIP4, "/split", NULL, &r) || r.status != 200) {
			fails++;
			continue;
		}
		if (is_v1(r.server))
			v1++;
		else if (!strcmp(r.server, "b1"))
			v2++;
	}
	EXPECT_EQ(fails, 0);
	EXPECT_EQ(v1 + v2, 1000);
	EXPECT(v1 >= 690 && v1 <= 810);
	tap_diag("3:1 split: %d to the first cluster, %d to the second", v1, v2);
	tap_end();
}

static void test_split_head(void)
{
	static const char *const parts[] = {
		"GET /v2/three HT", "TP/1.1\r\nHost: " HOST "\r\n", "x-a: 1\r\n\r\n",
	};
	struct resp r;
	size_t i;
	int fd;

	tap_begin("defer: a head written in three pieces routes like a whole one");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (!EXPECT(fd >= 0)) {
		tap_end();
		return;
	}
	/* each write is its own sendmsg: the module gathers the head */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(write(fd, parts[i], strlen(parts[i])), (ssize_t)strlen(parts[i]));
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	EXPECT_STR_EQ(r.server, "b1");
	EXPECT_STR_EQ(r.path, "/v2/three");
	close(fd);
	tap_end();
}

/* POST @body_len bytes in writes of @chunk; check what the server read. */
static void post_blocking(const char *path, size_t body_len, size_t chunk,
			  const char *want)
{
	size_t len = 0, off = 0;
	struct resp r;
	char *req;
	int fd;

	req = post_request(path, body_len, &len);
	fd = dial_vip(VIP4, false);
	if (!EXPECT(fd >= 0) || !EXPECT(req)) {
		free(req);
		return;
	}
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t w = write(fd, req + off, n);

		/* Blocking: every write goes out whole, the first included. */
		if (!EXPECT_EQ(w, (ssize_t)n))
			break;
		off += n;
	}
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	if (!(want ? EXPECT_STR_EQ(r.server, want) : EXPECT(is_v1(r.server))))
		tap_diag("POST %s: server '%s'", path, r.server);
	EXPECT_EQ(r.req_body, (long)body_len);
	EXPECT_EQ(r.req_fnv, body_fnv(body_len));
	close(fd);
	free(req);
}

static void test_blocking_body(void)
{
	tap_begin("defer: blocking client, a 300 KiB body in 64 KiB writes (head in the first)");
	defer_base();
	post_blocking("/v2/upload", 300000, 65536, "b1");
	post_blocking("/v2/one", 1000, 1 << 20, "b1");	/* head and body in one */
	post_blocking("/upload", 70000, 100, NULL);	/* many small writes */
	tap_end();
}

/* The same over a non-blocking socket and epoll, as event loops do. */
static void test_nonblocking_epoll(void)
{
	size_t len = 0, off = 0, body_len = 200000, head_len;
	struct epoll_event ev = {}, out;
	int fd, ep, eagain = 0, n;
	struct resp r;
	char *req;

	tap_begin("defer: non-blocking client with epoll, head in two writes, 200 KB body");
	defer_base();
	req = post_request("/v2/nb", body_len, &len);
	fd = dial_vip(VIP4, true);
	ep = epoll_create1(0);
	if (!EXPECT(fd >= 0) || !EXPECT(req) || !EXPECT(ep >= 0))
		goto out;
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.fd = fd;
	EXPECT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	EXPECT_EQ(epoll_wait(ep, &out, 1, 1000), 1);
	EXPECT(out.events & EPOLLOUT);
	/* The first piece is kept and reported written. */
	EXPECT_EQ(send(fd, req, 10, 0), 10);
	off = 10;
	/* The write that completes the head stops at its end. */
	head_len = (size_t)((char *)memmem(req, len, "\r\n\r\n", 4) - req) + 4;
	EXPECT_EQ(send(fd, req + off, len - off, 0), (ssize_t)(head_len - off));
	off = head_len;
	while (off < len) {
		ssize_t w = send(fd, req + off, len - off, 0);

		if (w < 0 && errno == EAGAIN) {
			eagain++;
			n = epoll_wait(ep, &out, 1, 5000);
			if (!EXPECT_EQ(n, 1))
				break;
			continue;
		}
		if (!EXPECT(w > 0))
			break;
		off += (size_t)w;
	}
	EXPECT_EQ(off, len);
	tap_diag("%d EAGAIN while sending the body", eagain);
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	EXPECT_STR_EQ(r.server, "b1");
	EXPECT_EQ(r.req_body, (long)body_len);
	EXPECT_EQ(r.req_fnv, body_fnv(body_len));
out:
	if (fd >= 0)
		close(fd);
	if (ep >= 0)
		close(ep);
	free(req);
	tap_end();
}

static void test_keepalive(void)
{
	const char *req1 = "GET /first HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	const char *req2 = "GET /v2/second HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	struct resp r1, r2;
	int fd;

	tap_begin("defer: keep-alive: the second request goes where the first went (routing is per connection)");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(write_all(fd, req1, strlen(req1)), 0);
		EXPECT_EQ(read_resp(fd, &r1, true), 0);
		EXPECT(is_v1(r1.server));
		EXPECT_EQ(write_all(fd, req2, strlen(req2)), 0);
		EXPECT_EQ(read_resp(fd, &r2, true), 0);
		EXPECT_STR_EQ(r2.server, r1.server);
		EXPECT_STR_EQ(r2.path, "/v2/second");
		close(fd);
	}
	tap_end();
}

static void test_dead_endpoint(void)
{
	const char *req = "GET /dead HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int fd, ep, err = 0;
	socklen_t elen = sizeof(err);
	char c;

	tap_begin("defer: an endpoint nobody listens on gives ECONNREFUSED, blocking or not");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		errno = 0;
		EXPECT_EQ(send(fd, req, strlen(req), MSG_NOSIGNAL), -1);
		EXPECT_EQ(errno, ECONNREFUSED);
		close(fd);
	}
	fd = dial_vip(VIP4, true);
	ep = epoll_create1(0);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		EXPECT_EQ(epoll_wait(ep, &out, 1, 5000), 1);
		EXPECT(out.events & EPOLLERR);
		EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen), 0);
		EXPECT_EQ(err, ECONNREFUSED);
		EXPECT_EQ(recv(fd, &c, 1, 0), 0);	/* then it is closed */
		close(fd);
	}
	close(ep);
	tap_end();
}

static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* @n requests for /failover, a connection each: how many got b1's 200. */
static int failover_round(int n)
{
	const char *req = "GET /failover HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	int i, fd, ok = 0;
	struct resp r;

	for (i = 0; i < n; i++) {
		fd = dial_vip(VIP4, false);
		if (fd < 0)
			continue;
		if (!write_all(fd, req, strlen(req)) && !read_resp(fd, &r, true) &&
		    r.status == 200 && !strcmp(r.server, "b1"))
			ok++;
		close(fd);
	}
	return ok;
}

static int set_connect_failover(unsigned int n)
{
	return run_cmd(NULL, 0, "echo %u > /sys/module/kmesh/parameters/connect_failover", n);
}

static void test_failover(void)
{
	long long failed0, failed1, over0;
	int ok;

	tap_begin("defer: a refused connect is tried again on another endpoint before the application sees it (connect_failover)");
	defer_base();
	/* round robin over a dead endpoint and b1: every other connect
	 * reaches the dead one first */
	failed0 = ctl_stat("cluster dfail ", "connect_failed", 0);
	over0 = ctl_stat("cluster dfail ", "failovers", 0);
	ok = failover_round(20);
	failed1 = ctl_stat("cluster dfail ", "connect_failed", 0);
	if (!EXPECT_EQ(ok, 20))
		kernel_log_diag();
	/* each failed connect was followed by one elsewhere, counted */
	EXPECT_EQ(ctl_stat("cluster dfail ", "failovers", 0) - over0, failed1 - failed0);
	/* the dead one was tried (round robin turns on every attempt, so
	 * here each connection's first one), never twice for one request */
	if (!EXPECT(failed1 - failed0 >= 1 && failed1 - failed0 <= 20))
		tap_diag("connect_failed grew by %lld", failed1 - failed0);
	/* without failover the application sees those refusals */
	if (EXPECT_EQ(set_connect_failover(0), 0)) {
		ok = failover_round(20);
		if (!EXPECT(ok >= 5 && ok <= 15))
			tap_diag("without failover %d of 20 got through", ok);
	}
	EXPECT_EQ(set_connect_failover(2), 0);
	tap_end();
}

static void test_failover_timeout(void)
{
	const char *req = "GET /hole HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	long long failed0, failed1;
	int lfd, filler, fd, i;
	struct timespec t0, t1;
	struct resp r;
	double s;

	static char log[16384];

	tap_begin("defer: a connect to a black hole fails in the cluster's connect_timeout_ms and the request goes to another endpoint");
	defer_base();
	/* a listener whose queue is full: its SYNs are dropped, unanswered */
	lfd = listen_tcp("127.0.0.1", 19006, 0);
	filler = dial("127.0.0.1", 19006, NULL);	/* no VIP: left alone */
	if (!EXPECT(lfd >= 0) || !EXPECT(filler >= 0))
		goto out;
	failed0 = ctl_stat("cluster dhole ", "connect_failed", 0);
	run_cmd(NULL, 0, "kmeshctl log --wait 0");	/* drain what earlier tests left */
	for (i = 0; i < 3; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fd = dial_vip(VIP4, false);
		if (!EXPECT(fd >= 0))
			continue;
		EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
		if (EXPECT_EQ(read_resp(fd, &r, true), 0)) {
			EXPECT_EQ(r.status, 200);
			EXPECT_STR_EQ(r.server, "b1");
		}
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		/* round robin: each request's first attempt is the black hole's */
		if (!EXPECT(s >= 0.4 && s < 3.0))
			tap_diag("request %d took %.2f s (connect timeout 0.5 s)", i, s);
	}
	failed1 = ctl_stat("cluster dhole ", "connect_failed", 0);
	EXPECT_EQ(failed1 - failed0, 3);
	/* the log says which failed by timing out, and which took over */
	EXPECT_EQ(run_cmd(log, sizeof(log), "kmeshctl log --json --wait 1"), 0);
	if (!EXPECT(count_str(log, "\"result\":\"failed\"") >= 3 &&
		    count_str(log, "\"connect_timeout\":true") >= 3 &&
		    count_str(log, "\"failover\":true") >= 3))
		tap_diag("log: %.600s", log);
out:
	if (filler >= 0)
		close(filler);
	if (lfd >= 0)
		close(lfd);
	tap_end();
}

/*
 * The deferred connect runs the connect program again to pick the routed
 * cluster's endpoint: that pick skips an ejected endpoint too. Cluster
 * dout (route /outlier) is b1 and a dead endpoint in round robin; one
 * refused connect ejects the dead one (its request fails over to b1),
 * then every request reaches b1 at once.
 */
static void test_outlier_pick(void)
{
	int i, refused = 0, served = 0, rc;
	struct resp r;

	tap_begin("defer: a routed request's deferred connect skips an ejected endpoint");
	defer_base();
	for (i = 0; i < 20; i++) {
		memset(&r, 0, sizeof(r));
		rc = get(VIP4, "/outlier", NULL, &r);
		if (rc == -ECONNREFUSED)
			refused++;
		else if (!rc && r.status == 200 && !strcmp(r.server, "b1"))
			served++;
	}
	/* the request whose connect was refused failed over to b1 */
	EXPECT_EQ(refused, 0);
	EXPECT_EQ(served, 20);
	EXPECT_EQ(ctl_stat("endpoint dout/127.0.0.1:19098 ", "ejected", -1), 1);
	EXPECT_EQ(ctl_stat("endpoint dout/127.0.0.1:19098 ", "connects", -1), 1);
	tap_end();
}

/* Send @req, expect the module's @status with @body (NULL: no body check). */
static void expect_reply(const char *addr, const char *req, int status,
			 const char *body, bool has_body)
{
	struct resp r;
	char c;
	int fd;

	fd = dial_vip(addr, false);
	if (!EXPECT(fd >= 0))
		return;
	EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
	if (!EXPECT_EQ(read_resp(fd, &r, has_body), 0)) {
		close(fd);
		return;
	}
	EXPECT_EQ(r.status, status);
	if (body) {
		EXPECT_EQ(r.clen, (long)strlen(body));
		if (has_body)
			EXPECT_STR_EQ(r.body, body);
	}
	/* connection: close, and it is */
	EXPECT_EQ(recv_wait(fd, &c, 1, 5000), 0);
	close(fd);
}

static void test_replies(void)
{
	size_t len;
	char *post;
	int fd;
	struct resp r;

	tap_begin("defer: deny, direct response, no route, no endpoint: the application reads an HTTP response");
	defer_base();
	expect_reply(VIP4, "DELETE /admin HTTP/1.1\r\nHost: " HOST "\r\n\r\n",
		     403, "403 Forbidden\n", true);
	expect_reply(VIP4, "GET /health HTTP/1.1\r\nHost: " HOST "\r\n\r\n",
		     200, "ok\n", true);
	expect_reply(VIP4, "HEAD /health HTTP/1.1\r\nHost: " HOST "\r\n\r\n",
		     200, "ok\n", false);
	expect_reply(VIP6, "GET /nothing HTTP/1.1\r\nHost: " HOST "\r\n\r\n",
		     404, "404 Not Found\n", true);
	expect_reply(VIP4, "GET /empty HTTP/1.1\r\nHost: " HOST "\r\n\r\n",
		     503, "503 Service Unavailable\n", true);
	expect_reply(VIP4, "GET /unknown HTTP/1.1\r\nHost: " HOST "\r\n\r\n",
		     503, NULL, true);
	/* A body after a denied head is drained (one blocking write takes
	 * it all), then the 403 is read. */
	post = post_request("/admin", 100000, &len);
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0) && EXPECT(post)) {
		EXPECT_EQ(write(fd, post, len), (ssize_t)len);
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT_EQ(r.status, 403);
		close(fd);
	}
	free(post);
	tap_end();
}

static void test_ipv6(void)
{
	const char *req = "GET /v6/x HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	struct sockaddr_in6 peer;
	socklen_t len = sizeof(peer);
	char addr[64];
	struct resp r;
	int fd;

	tap_begin("defer: IPv6: routed on the first request, getpeername shows the VIP");
	defer_base();
	fd = dial_vip(VIP6, false);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
		inet_ntop(AF_INET6, &peer.sin6_addr, addr, sizeof(addr));
		EXPECT_STR_EQ(addr, VIP6);
		EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT_STR_EQ(r.server, "s6");
		len = sizeof(peer);
		EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
		inet_ntop(AF_INET6, &peer.sin6_addr, addr, sizeof(addr));
		EXPECT_STR_EQ(addr, VIP6);
		close(fd);
	}
	/* A dual-stack socket dialing the IPv4 VIP (v4-mapped). */
	fd = dial_vip("::ffff:" VIP4, false);
	if (EXPECT(fd >= 0)) {
		const char *req4 = "GET /v2/mapped HTTP/1.1\r\nHost: " HOST "\r\n\r\n";

		EXPECT_EQ(write_all(fd, req4, strlen(req4)), 0);
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT_STR_EQ(r.server, "b1");
		close(fd);
	}
	tap_end();
}

static void test_sockhash_redirect(void)
{
	size_t len = 0, body_len = 100000;
	struct tcp_info ti = {};
	socklen_t tlen = sizeof(ti);
	struct resp r;
	char *req;
	int fd;

	tap_begin("defer: after the real connect the socket is in the sockhash: head and body go socket to socket");
	defer_base();
	req = post_request("/v2/redirect", body_len, &len);
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0) && EXPECT(req)) {
		EXPECT_EQ(write_all(fd, req, len), 0);
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT_STR_EQ(r.server, "b1");
		EXPECT_EQ(r.req_fnv, body_fnv(body_len));
		EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen), 0);
		/* TCP carried the handshake only: sk_msg redirected the rest. */
		EXPECT_EQ(ti.tcpi_bytes_received, 0);
		EXPECT(ti.tcpi_bytes_acked <= 1);
		if (tap_failed_now())
			tap_diag("bytes_acked %llu, bytes_received %llu",
				 (unsigned long long)ti.tcpi_bytes_acked,
				 (unsigned long long)ti.tcpi_bytes_received);
	}
	if (fd >= 0)
		close(fd);
	free(req);
	tap_end();
}

static void test_socket_calls_while_deferred(void)
{
	const char *req = "GET /v2 HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	struct sockaddr_storage ss;
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	struct tcp_info ti;
	socklen_t len;
	int fd, i, one = 1, err;
	struct resp r;
	char c;

	tap_begin("defer: close before any write, socket options, reads, shutdown, reconnect while deferred");
	defer_base();
	for (i = 0; i < 50; i++) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		fd = dial_vip(VIP4, i % 2);
		if (!EXPECT(fd >= 0))
			break;
		/* Every third one aborts (SO_LINGER 0): tcp_disconnect on close. */
		if (i % 3 == 0)
			EXPECT_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
		close(fd);
	}
	fd = dial_vip(VIP4, false);
	if (!EXPECT(fd >= 0)) {
		tap_end();
		return;
	}
	EXPECT_EQ(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	len = sizeof(ti);
	EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	len = sizeof(err);
	EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0);
	errno = 0;
	EXPECT_EQ(setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", 3), -1);
	EXPECT_EQ(errno, EOPNOTSUPP);
	/* Nothing to read before the request: EAGAIN now, timeout when blocking. */
	errno = 0;
	EXPECT_EQ(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EAGAIN);
	{
		struct timeval tv = { .tv_usec = 100000 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		errno = 0;
		EXPECT_EQ(recv(fd, &c, 1, 0), -1);
		EXPECT_EQ(errno, EAGAIN);
	}
	/* connect() again: already connected, as far as anyone can tell. */
	len = vip_addr(VIP4, &ss);
	errno = 0;
	EXPECT_EQ(connect(fd, (void *)&ss, len), -1);
	EXPECT_EQ(errno, EISCONN);
	/* A disconnect drops the deferral; the next connect is plain L4. */
	EXPECT_EQ(connect(fd, &sa, sizeof(sa)), 0);
	EXPECT_EQ(connect(fd, (void *)&ss, len), 0);
	EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	EXPECT(is_v1(r.server));	/* the service's own cluster */
	close(fd);
	/* shutdown() before the head is complete: nothing can be routed. */
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(send(fd, "GET / HT", 8, 0), 8);
		errno = 0;
		EXPECT_EQ(shutdown(fd, SHUT_WR), -1);
		EXPECT_EQ(errno, ENOTCONN);
		errno = 0;
		EXPECT_EQ(send(fd, "TP/1.1\r\n", 8, MSG_NOSIGNAL), -1);
		EXPECT_EQ(errno, EPIPE);
		close(fd);
	}
	tap_end();
}

static void test_shutdown_after_request(void)
{
	const char *req = "GET /v2/half HTTP/1.0\r\nHost: " HOST "\r\n\r\n";
	struct resp r;
	int fd, k;

	tap_begin("defer: shutdown(SHUT_WR) right after the request waits for it to go out");
	defer_base();
	for (k = 0; k < 2; k++) {
		fd = dial_vip(VIP4, k);
		if (!EXPECT(fd >= 0))
			break;
		EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
		EXPECT_EQ(shutdown(fd, SHUT_WR), 0);
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT_STR_EQ(r.server, "b1");
		close(fd);
	}
	tap_end();
}

static void test_bad_heads(void)
{
	static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	const char *bare_lf = "GET / HTTP/1.1\nHost: " HOST "\n\n";
	char *huge;
	int fd;
	char c;

	tap_begin("defer: malformed heads fail the write with EBADMSG, over-long ones with EMSGSIZE");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		errno = 0;
		EXPECT_EQ(send(fd, bare_lf, strlen(bare_lf), MSG_NOSIGNAL), -1);
		EXPECT_EQ(errno, EBADMSG);
		errno = 0;
		EXPECT_EQ(send(fd, "x", 1, MSG_NOSIGNAL), -1);
		EXPECT_EQ(errno, EPIPE);
		EXPECT_EQ(recv(fd, &c, 1, 0), 0);
		close(fd);
	}
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		errno = 0;
		EXPECT_EQ(send(fd, tls_hello, sizeof(tls_hello) - 1, MSG_NOSIGNAL), -1);
		EXPECT_EQ(errno, EBADMSG);
		close(fd);
	}
	huge = malloc(20000);
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0) && EXPECT(huge)) {
		int n = snprintf(huge, 20000, "GET / HTTP/1.1\r\nHost: " HOST "\r\nx-big: ");

		memset(huge + n, 'a', 20000 - n);
		/* The first 4 KiB are kept, the limit (8 KiB) falls in the second. */
		EXPECT_EQ(send(fd, huge, 4096, MSG_NOSIGNAL), 4096);
		errno = 0;
		EXPECT_EQ(send(fd, huge + 4096, 20000 - 4096, MSG_NOSIGNAL), -1);
		EXPECT_EQ(errno, EMSGSIZE);
		close(fd);
	}
	free(huge);
	tap_end();
}

static void test_sendfile(void)
{
	const char *req = "GET /v2/file HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	const char *path = "/tmp/kmesh-defer-req";
	struct resp r;
	int fd, file;

	tap_begin("defer: a request sent with sendfile() is routed too");
	defer_base();
	EXPECT_EQ(write_file(path, req), 0);
	file = open(path, O_RDONLY);
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0) && EXPECT(file >= 0)) {
		EXPECT_EQ(sendfile(fd, file, NULL, strlen(req)), (ssize_t)strlen(req));
		EXPECT_EQ(read_resp(fd, &r, true), 0);
		EXPECT_STR_EQ(r.server, "b1");
		EXPECT_STR_EQ(r.path, "/v2/file");
	}
	if (fd >= 0)
		close(fd);
	if (file >= 0)
		close(file);
	unlink(path);
	tap_end();
}

static void test_plain_service(void)
{
	struct resp r;

	tap_begin("defer: a tcp (non-HTTP) service is not deferred: balanced at connect");
	defer_base();
	{
		struct tcp_info ti = {};
		socklen_t len = sizeof(ti);
		int fd = dial_vip(VIP_PLAIN, false);

		if (EXPECT(fd >= 0)) {
			EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
			EXPECT_EQ(ti.tcpi_state, 1);	/* TCP_ESTABLISHED at once */
			close(fd);
		}
	}
	EXPECT_EQ(get(VIP_PLAIN, "/whatever", NULL, &r), 0);
	EXPECT_STR_EQ(r.server, "b1");
	tap_end();
}

/*
 * Hold a deferred connection in CONNECTING: its endpoint's accept queue is
 * full (backlog 0, one connection waiting), so the SYN is dropped and
 * retried a second later.
 */
static void test_connecting_phase(void)
{
	const char *req = "GET /slow HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	const char *answer = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow";
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct tcp_info ti = {};
	socklen_t tlen = sizeof(ti);
	int lfd, filler, fd = -1, c = -1, a;
	char got[512];
	size_t have = 0;
	struct pollfd p;
	struct resp r;
	ssize_t n;

	tap_begin("defer: while the real connect is under way, writes wait, poll hides POLLOUT, shutdown waits for the head");
	defer_base();
	lfd = listen_tcp("127.0.0.1", 19005, 0);
	filler = dial("127.0.0.1", 19005, NULL);	/* no VIP: left alone */
	if (!EXPECT(lfd >= 0) || !EXPECT(filler >= 0))
		goto out;
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fd = dial_vip(VIP4, true);
	if (!EXPECT(fd >= 0))
		goto out;
	EXPECT_EQ(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	/* the real connect starts: a SYN leaves (and is dropped) */
	EXPECT(WAIT_UNTIL((tlen = sizeof(ti),
			   !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) &&
			   ti.tcpi_segs_out >= 1), 2000));
	EXPECT_EQ(ti.tcpi_state, 2);		/* SYN_SENT for real now */
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	EXPECT_EQ(poll(&p, 1, 0), 0);
	errno = 0;
	EXPECT_EQ(send(fd, "x", 1, 0), -1);
	EXPECT_EQ(errno, EAGAIN);
	EXPECT_EQ(getpeername(fd, (void *)&peer, &plen), 0);
	EXPECT_EQ(peer.sin_addr.s_addr, inet_addr(VIP4));
	/* Half-close now: the FIN must come after the kept head. */
	EXPECT_EQ(shutdown(fd, SHUT_WR), 0);
	/* Make room: the retried SYN gets through. */
	a = accept(lfd, NULL, NULL);
	if (a >= 0)
		close(a);
	c = accept(lfd, NULL, NULL);
	if (!EXPECT(c >= 0))
		goto out;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = read(c, got + have, sizeof(got) - 1 - have)) > 0)
		have += (size_t)n;
	got[have] = '\0';
	if (!EXPECT_EQ(n, 0))			/* the FIN */
		tap_diag("server read: %s", strerror(errno));
	EXPECT_STR_EQ(got, req);
	EXPECT_EQ(write(c, answer, strlen(answer)), (ssize_t)strlen(answer));
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	EXPECT_EQ(r.status, 200);
	EXPECT_STR_EQ(r.body, "slow");
	if (tap_failed_now())
		kernel_log_diag();
out:
	if (c >= 0)
		close(c);
	if (fd >= 0)
		close(fd);
	if (filler >= 0)
		close(filler);
	if (lfd >= 0)
		close(lfd);
	tap_end();
}

static void test_pipelined(void)
{
	const char *reqs = "GET /v2/one HTTP/1.1\r\nHost: " HOST "\r\n\r\n"
			   "GET /two HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	struct resp r1, r2;
	int fd;

	tap_begin("defer: two pipelined requests in one write: both answered, by the first one's backend");
	defer_base();
	fd = dial_vip(VIP4, false);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(write(fd, reqs, strlen(reqs)), (ssize_t)strlen(reqs));
		EXPECT_EQ(read_resp(fd, &r1, true), 0);
		EXPECT_EQ(read_resp(fd, &r2, true), 0);
		EXPECT_STR_EQ(r1.server, "b1");
		EXPECT_STR_EQ(r1.path, "/v2/one");
		EXPECT_STR_EQ(r2.server, "b1");
		EXPECT_STR_EQ(r2.path, "/two");
		close(fd);
	}
	tap_end();
}

static void test_fastopen_left_alone(void)
{
	const char *req = "GET /v2/tfo HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	struct sockaddr_storage ss;
	socklen_t len = vip_addr(VIP4, &ss);
	struct resp r;
	int fd, one = 1;

	tap_begin("defer: a TCP_FASTOPEN_CONNECT socket is not deferred (the kernel defers it its own way)");
	defer_base();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!EXPECT(fd >= 0)) {
		tap_end();
		return;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one))) {
		tap_skip("TCP_FASTOPEN_CONNECT: %s", strerror(errno));
		close(fd);
		tap_end();
		return;
	}
	EXPECT_EQ(connect(fd, (void *)&ss, len), 0);
	EXPECT_EQ(write_all(fd, req, strlen(req)), 0);
	EXPECT_EQ(read_resp(fd, &r, true), 0);
	/* Balanced at connect like any L4 service: the path did not count. */
	EXPECT(is_v1(r.server));
	close(fd);
	tap_end();
}

/* curl, when the VM has it: a real client, its own connect and writes. */
static void test_curl(void)
{
	char out[4096], *body;
	size_t i;
	FILE *f;

	tap_begin("defer: curl (a real client) is routed by path, header and method, and reads module replies");
	defer_base();
	if (!path_exists("/usr/bin/curl")) {
		tap_skip("no curl in this VM");
		tap_end();
		return;
	}
	EXPECT_EQ(run_cmd(out, sizeof(out),
			  "curl -sS --max-time 10 -H 'Host: " HOST "' http://" VIP4 "/v2/curl"), 0);
	EXPECT(!strncmp(out, "b1 GET /v2/curl 0 ", 18));
	for (i = 0; i < 10; i++) {
		if (!EXPECT_EQ(run_cmd(out, sizeof(out),
				       "curl -sS --max-time 10 -H 'Host: " HOST "' -H 'x-canary: 1' http://" VIP4 "/"), 0) ||
		    !EXPECT(!strncmp(out, "c1 GET / 0 ", 11))) {
			tap_diag("curl #%zu said: %s", i, out);
			run_cmd(out, sizeof(out), "netstat -tn");
			tap_diag("%s", out);
			kernel_log_diag();
			break;
		}
	}
	EXPECT_EQ(run_cmd(out, sizeof(out),
			  "curl -sS --max-time 10 -o /dev/null -w '%%{http_code}' -X DELETE -H 'Host: " HOST "' http://" VIP4 "/admin"), 0);
	EXPECT_STR_EQ(out, "403");
	EXPECT_EQ(run_cmd(out, sizeof(out),
			  "curl -sS --max-time 10 -H 'Host: " HOST "' http://[" VIP6 "]/v6/curl"), 0);
	EXPECT(!strncmp(out, "s6 GET /v6/curl 0 ", 18));
	/* A 100 KB upload (curl sends head and body in separate writes). */
	body = malloc(100000);
	f = fopen("/tmp/kmesh-defer-body", "w");
	if (EXPECT(body && f)) {
		for (i = 0; i < 100000; i++)
			body[i] = (char)pattern(i);
		EXPECT_EQ(fwrite(body, 1, 100000, f), 100000);
	}
	if (f)
		fclose(f);
	free(body);
	EXPECT_EQ(run_cmd(out, sizeof(out),
			  "curl -sS --max-time 10 -H 'Host: " HOST "' -H 'Expect:' --data-binary @/tmp/kmesh-defer-body http://" VIP4 "/v2/up"), 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "b1 POST /v2/up 100000 %u\n", body_fnv(100000));
		EXPECT_STR_EQ(out, want);
	}
	if (tap_failed_now())
		tap_diag("curl said: %s", out);
	unlink("/tmp/kmesh-defer-body");
	tap_end();
}

/* Non-blocking clients as event loops (curl) use them, many times over. */
static void test_nonblocking_many(void)
{
	const char *req = "GET /v2/nb HTTP/1.1\r\nHost: " HOST "\r\n\r\n";
	int i, fd, bad = 0;
	struct resp r;

	tap_begin("defer: 200 non-blocking connections: connect, one write, poll for the answer");
	defer_base();
	for (i = 0; i < 200; i++) {
		struct tcp_info ti = {};
		socklen_t len = sizeof(ti);
		ssize_t n;
		int rc;

		fd = dial_vip(VIP4, true);
		if (fd < 0) {
			bad++;
			continue;
		}
		n = send(fd, req, strlen(req), MSG_NOSIGNAL);
		rc = n == (ssize_t)strlen(req) ? read_resp(fd, &r, true) : -EIO;
		if (rc || strcmp(r.server, "b1")) {
			getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
			tap_diag("connection %d: send %zd, rc %d, server '%s'; state %u, segs out %u in %u, acked %llu, received %llu",
				 i, n, rc, r.server, ti.tcpi_state, ti.tcpi_segs_out,
				 ti.tcpi_segs_in, (unsigned long long)ti.tcpi_bytes_acked,
				 (unsigned long long)ti.tcpi_bytes_received);
			if (++bad == 3)
				break;
		}
		close(fd);
	}
	if (!EXPECT_EQ(bad, 0))
		kernel_log_diag();
	tap_end();
}

struct hammer {
	int ok, bad;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct resp r;
	int i;

	for (i = 0; i < 40; i++) {
		bool v2 = i % 2;

		int rc = get(VIP4, v2 ? "/v2/h" : "/h", NULL, &r);

		if (!rc && r.status == 200 &&
		    (v2 ? !strcmp(r.server, "b1") : is_v1(r.server))) {
			h->ok++;
		} else {
			h->bad++;
			tap_diag("request %d: rc %d, status %d, server '%s'", i,
				 rc, r.status, r.server);
		}
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct hammer h[4] = {};
	pthread_t t[4];
	int i, ok = 0, bad = 0;

	tap_begin("defer: 4 threads x 40 deferred connections, each routed right");
	defer_base();
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer_run, &h[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += h[i].ok;
		bad += h[i].bad;
	}
	EXPECT_EQ(ok, 160);
	if (!EXPECT_EQ(bad, 0))
		kernel_log_diag();
	tap_end();
}

/*
 * A deferred socket holds a reference on the module (its ops are the
 * module's): rmmod must wait for it. The connect programs hold the module
 * too, so first show that one socket is worth exactly one reference, then
 * take the programs away and watch the count fall to that one socket.
 */
static void test_rmmod_refused(void)
{
	long base, with_second;
	char out[512];
	int fd, second;

	tap_begin("defer: only the open deferred socket holds the module: rmmod gets EAGAIN until it is closed");
	defer_base();
	fd = dial_vip(VIP4, false);
	EXPECT(fd >= 0);
	base = kmesh_refcnt();
	second = dial_vip(VIP4, false);
	EXPECT(second >= 0);
	with_second = kmesh_refcnt();
	if (second >= 0)
		close(second);
	EXPECT_EQ(with_second, base + 1);
	EXPECT(WAIT_UNTIL(kmesh_refcnt() == base, 2000));
	/* The connect programs go; their deferred free drops their references. */
	EXPECT_EQ(run_cmd(out, sizeof(out), "kmeshctl down"), 0);
	is_up = false;
	if (!EXPECT(WAIT_UNTIL(kmesh_refcnt() == 1, 5000)))
		tap_diag("refcnt %ld after down (%ld before), wanted 1: the socket's",
			 kmesh_refcnt(), base);
	EXPECT_EQ(kmesh_unload_once(), -EAGAIN);
	EXPECT(kmesh_loaded());
	/* Still usable as a socket (now plain: nothing routes the VIP). */
	if (fd >= 0)
		close(fd);
	EXPECT(WAIT_UNTIL(kmesh_refcnt() == 0, 2000));
	EXPECT_EQ(kmesh_unload_once(), 0);
	EXPECT(!kmesh_loaded());
	EXPECT_EQ(kmesh_modprobe(NULL), 0);
	tap_end();
}

static void test_kmemleak(void)
{
	char out[8192];

	tap_begin("defer: kmemleak finds nothing of ours");
	if (!path_exists("/sys/kernel/debug/kmemleak")) {
		/* the debug lane's kernel must have it */
		if (getenv("KMESH_KERNEL_DEBUG"))
			EXPECT(!"kmemleak missing on the debug kernel");
		else
			tap_skip("no kmemleak in this kernel (debug lane only)");
		tap_end();
		return;
	}
	/*
	 * Before rmmod, so that backtraces still name our functions; objects
	 * younger than 5 s are never reported, hence the wait.
	 */
	sleep(6);
	run_cmd(NULL, 0, "echo scan > /sys/kernel/debug/kmemleak");
	run_cmd(NULL, 0, "echo scan > /sys/kernel/debug/kmemleak");
	run_cmd(out, sizeof(out), "cat /sys/kernel/debug/kmemleak");
	/* ours by a backtrace frame in the module, not by comm (kmesh_selftests) */
	if (!EXPECT(!strstr(out, " [kmesh]\n")))
		tap_diag("%s", out);
	else if (out[0])
		tap_diag("kmemleak reports objects not ours:\n%.600s", out);
	tap_end();
}

static const struct subtest subtests[] = {
	SUBTEST(l7_program),
	SUBTEST(connect_returns_at_once),
	SUBTEST(routes_pick_cluster),
	SUBTEST(no_vhost),
	SUBTEST(weighted_split),
	SUBTEST(split_head),
	SUBTEST(blocking_body),
	SUBTEST(nonblocking_epoll),
	SUBTEST(keepalive),
	SUBTEST(dead_endpoint),
	SUBTEST(failover),
	SUBTEST(failover_timeout),
	SUBTEST(outlier_pick),
	SUBTEST(replies),
	SUBTEST(ipv6),
	SUBTEST(sockhash_redirect),
	SUBTEST(socket_calls_while_deferred),
	SUBTEST(shutdown_after_request),
	SUBTEST(bad_heads),
	SUBTEST(sendfile),
	SUBTEST(plain_service),
	SUBTEST(pipelined),
	SUBTEST(connecting_phase),
	SUBTEST(fastopen_left_alone),
	SUBTEST(curl),
	SUBTEST(nonblocking_many),
	SUBTEST(concurrent),
	SUBTEST(kmemleak),
	SUBTEST(rmmod_refused),
};

void test_defer(void)
{
	static const struct {
		const char *addr;
		int port;
		const char *name;
	} srv[] = {
		{ "127.0.0.1", 19001, "a1" },
		{ "127.0.0.1", 19002, "a2" },
		{ "127.0.0.1", 19003, "b1" },
		{ "127.0.0.1", 19004, "c1" },
		{ "::1", 19011, "s6" },
	};
	struct server_opts meshed = {};
	char hooks[128] = "";
	size_t i;
	bool ok = true;

	tap_begin("defer: topology: meshed cgroup, five HTTP servers, routes attached");
	if (!kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	if (!kfunc_common_hook()) {
		read_text("/sys/module/kmesh/caps/kfunc_hooks", hooks, sizeof(hooks));
		tap_skip("needs kfuncs callable from connect programs (the common kfunc hook); this kernel offers: %s",
			 hooks[0] ? hooks : "no module");
		tap_end();
		return;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Leak suspects from before this area are not ours to judge. */
	run_cmd(NULL, 0, "echo clear > /sys/kernel/debug/kmemleak");
	run_cmd(NULL, 0, "ip link set lo up");
	if (!EXPECT_EQ(test_cgroup_setup(&cg, "kmesh-defer-test"), 0)) {
		tap_end();
		return;
	}
	meshed.cgroup = cg.path;
	for (i = 0; i < ARRAY_LEN(srv); i++)
		ok &= EXPECT(server_start(srv[i].addr, srv[i].port, srv[i].name, serve,
					  &meshed) >= 0);
	tap_end();
	if (ok)
		run_subtests("defer", subtests, ARRAY_LEN(subtests));
	cleanup();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inbound authorization (issue 18): policy enforced where the request
 * arrives, however the client addressed the workload and whether or not
 * it is meshed. A real HTTP/1.1 server runs in the meshed cgroup, bound
 * to the wildcard address on one port that is the endpoint of service
 * `web` at two addresses (127.0.0.2, loopback; 10.99.0.1, a veth whose
 * peer sits in another network namespace). Clients are forked processes
 * that pick their cgroup and network namespace: a meshed client through
 * the VIP (the source's sk_msg check), a meshed client dialing the
 * endpoint address, an unmeshed client, a client in another netns, and a
 * meshed client through a *tcp* service port to the same endpoint (no
 * client-side L7 at all). Every one must be refused by a DENY and
 * admitted by an ALLOW exactly alike, and a refused request must never
 * reach the server (its log of parsed requests proves it).
 *
 * Runs on both VM lanes (the receive check is the eBPF parser on both)
 * and on the host (selftests/host/inbound.sh).
 *
 * Environment: KMESH_L4_CGROUP (cgroup to use), KMESHCTL (kmeshctl).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-inbound.yaml"
#define SEEN_FILE	"/tmp/kmesh-inbound-seen.log"
#define ERR_FILE	"/tmp/kmesh-inbound-server-errors.log"
#define VIP		"10.96.2.10"	/* web, http */
#define RAW_VIP		"10.96.2.11"	/* raw, tcp, same endpoints */
#define EP_LO		"127.0.0.2"
#define EP_VETH		"10.99.0.1"
#define PEER		"10.99.0.2"	/* the other netns */
#define PORT		18201
#define TCP_VIP		"10.96.2.12"	/* db: a tcp service, its own endpoint */
#define TCP_PORT	18202

static char cgroup[512], home_cgroup[1024], netns[64];
static bool own_cgroup, have_netns;
static bool accept_hooked;	/* the module's hook on accepted sockets */
static const char *kmeshctl;
static pid_t server;
static struct remote_ns peer_ns;	/* the other netns, behind kmi0 */
static long *accepts;		/* shared with the server */
static volatile long *accept_hold;	/* the server waits to accept while set */
/* the server takes its sockets non-blocking, as an event-driven one */
static volatile long *server_nonblock;

/* ---- config ---- */

#define MESH_HEAD							\
	"services:\n"							\
	"  - name: web\n"						\
	"    addresses: [" VIP "]\n"					\
	"    ports: [{port: 80, protocol: http}]\n"			\
	"    cluster: web\n"						\
	"  - name: raw\n"						\
	"    addresses: [" RAW_VIP "]\n"				\
	"    ports: [{port: 80}]\n"					\
	"    cluster: web-lo\n"						\
	"clusters:\n"							\
	"  - name: web\n"						\
	"    endpoints: [{address: " EP_LO ", port: 18201}, {address: " EP_VETH ", port: 18201}]\n" \
	"  - name: web-lo\n"						\
	"    endpoints: [{address: " EP_LO ", port: 18201}]\n"

static const char mesh_deny[] = MESH_HEAD
	"authorization:\n"
	"  - name: no-admin\n"
	"    service: web\n"
	"    action: DENY\n"
	"    rules:\n"
	"      - to: [{operation: {paths: [\"/admin*\"]}}]\n"
	"      - from: [{source: {ip_blocks: [127.0.0.3/32]}}]\n"
	"      - when: [{key: \"request.headers[x-evil]\", values: [\"*\"]}]\n";

static const char mesh_allow[] = MESH_HEAD
	"authorization:\n"
	"  - name: only-public\n"
	"    service: web\n"
	"    rules:\n"
	"      - to: [{operation: {paths: [\"/public*\"], methods: [GET, POST]}}]\n";

/* ---- helpers ---- */

static int apply(const char *yaml)
{
	char out[2048];
	int rc;

	if (write_file(MESH_FILE, yaml))
		return -1;
	rc = ctl(out, sizeof(out), "apply -f " MESH_FILE);
	if (rc)
		tap_diag("kmeshctl apply: %s", out);
	return rc;
}

/* Did the server parse a request for exactly @path? */
static bool seen(const char *path)
{
	return seen_log_has(SEEN_FILE, path, true);
}

/* A counter from `kmeshctl stats`: field @field of the line starting
 * with @prefix; 0 when there is no such line yet. */
static long long stat_get(const char *prefix, const char *field)
{
	static char out[131072];
	char key[64], *line, *p;

	if (ctl(out, sizeof(out), "stats"))
		return -1;
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		snprintf(key, sizeof(key), " %s ", field);
		p = strstr(line, key);
		return p ? strtoll(p + strlen(key), NULL, 10) : -1;
	}
	return 0;
}

/* ---- the server: every parsed request noted, answered "M PATH BODYLEN" ---- */

/* A failed read of the server (not EOF): noted, printed at the end. */
static void server_error(int fd, int err)
{
	int lf = open(ERR_FILE, O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (lf >= 0) {
		dprintf(lf, "server read on fd %d: %s\n", fd, strerror(err));
		close(lf);
	}
}

/*
 * Every failed read is noted (test_server_reads: with the module's hook
 * there must be none). A spurious EAGAIN on this blocking socket, which
 * the module-less host lane still gets from the stream parser, is read
 * again rather than taken for the end: the other tests check the
 * policy, not that kernel defect.
 */
static ssize_t serve_recv(void *ctx, void *buf, size_t size)
{
	int fd = (int)(long)ctx;
	ssize_t r;

	for (;;) {
		r = read(fd, buf, size);
		if (r >= 0)
			return r;
		if (errno == EAGAIN && (fcntl(fd, F_GETFL) & O_NONBLOCK)) {
			/* not yet, for a non-blocking socket: wait for more */
			struct pollfd pf = { .fd = fd, .events = POLLIN };

			poll(&pf, 1, 1000);
			continue;
		}
		server_error(fd, errno);
		if (errno != EAGAIN && errno != EINTR)
			return r;
		usleep(1000);
	}
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	struct http_reader *rd = calloc(1, sizeof(*rd));
	struct http_request_seen q;
	char out[4500], reply[2100];

	if (!rd)
		goto out;
	rd->recv = serve_recv;
	rd->ctx = arg;
	while (!http_read_request(rd, &q)) {
		int n;

		seen_log_append(SEEN_FILE, q.method, q.path);
		n = snprintf(reply, sizeof(reply), "%s %s %ld\n", q.method, q.path, q.body);
		n = snprintf(out, sizeof(out),
			     "HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s", n, reply);
		if (write(fd, out, (size_t)n) != n)
			break;
	}
	free(rd);
out:
	close(fd);
	return NULL;
}

static int web_server_start(void)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int pipefd[2], fd, one = 1;
	char ok = 0;

	accepts = mmap(NULL, 3 * sizeof(*accepts), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (accepts == MAP_FAILED || pipe(pipefd))
		return -1;
	accept_hold = accepts + 1;
	server_nonblock = accepts + 2;
	*accepts = 0;
	*accept_hold = 0;
	*server_nonblock = 0;
	server = fork();
	if (server < 0)
		return -1;
	if (!server) {
		close(pipefd[0]);
		if (join_cgroup(cgroup))
			_exit(1);
		/* the wildcard: the workload is the accepted socket's address */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (void *)&s, sizeof(s)) || listen(fd, 128))
			_exit(1);
		ok = 1;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		for (;;) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			pthread_t t;
			int c;

			/* not blocked in accept(): a hold counts at once */
			if (poll(&pf, 1, 10) <= 0 || *accept_hold)
				continue;
			c = accept4(fd, NULL, NULL, *server_nonblock ? SOCK_NONBLOCK : 0);

			if (c < 0)
				continue;
			__sync_fetch_and_add(accepts, 1);
			if (pthread_create(&t, NULL, serve, (void *)(long)c))
				close(c);
			else
				pthread_detach(t);
		}
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1 || !ok) {
		close(pipefd[0]);
		return -1;
	}
	close(pipefd[0]);
	return 0;
}

/* ---- clients ---- */

struct client {
	const char *name;
	const char *cg;		/* cgroup to dial from */
	const char *ns;		/* network namespace, NULL: ours */
	const char *addr;	/* what it dials */
	int port;
	const char *src;	/* bind address, NULL: any */
};

#define MAX_RESP 4

struct outcome {
	int err;		/* dial error (-errno), 0 */
	int nresp;		/* complete responses read */
	int status[MAX_RESP];
	bool closed;		/* EOF after them */
	bool held;		/* release_ms: nothing accepted while held */
	long after_release_ms;	/* release_ms: release to the last response */
	bool conn_close[MAX_RESP];	/* "connection: close" in the head */
	char body[MAX_RESP][96];
};

/* Complete responses at the start of @buf (@n bytes); fills @o. */
static void parse_resps(const char *buf, size_t n, struct outcome *o)
{
	size_t off = 0;

	o->nresp = 0;
	while (o->nresp < MAX_RESP && off < n) {
		const char *h = buf + off, *end, *cl;
		size_t hl, bl = 0;

		end = memmem(h, n - off, "\r\n\r\n", 4);
		if (!end)
			break;
		hl = (size_t)(end - h) + 4;
		cl = memmem(h, hl, "content-length:", 15);
		if (cl)
			bl = strtoul(cl + 15, NULL, 10);
		if (off + hl + bl > n)
			break;
		o->status[o->nresp] = atoi(h + 9);
		o->conn_close[o->nresp] = memmem(h, hl, "connection:close", 16) ||
					  memmem(h, hl, "connection: close", 17);
		snprintf(o->body[o->nresp], sizeof(o->body[0]), "%.*s",
			 (int)(bl < 95 ? bl : 95), h + hl);
		o->nresp++;
		off += hl + bl;
	}
}

/* Set: the client holds the server's accept()s from its first write for
 * this long, then lets them go (test_early_data). */
static long release_ms;

/*
 * Run one exchange as client @c in a child: dial, write @parts (waiting
 * @gap_ms between them, or until @wait_each responses came back), then
 * read until @expect responses, EOF or 5 s.
 */
static void exchange(const struct client *c, const char *const *parts, int nparts,
		     int gap_ms, bool wait_each, int expect, struct outcome *o)
{
	int pipefd[2];
	pid_t pid;

	memset(o, 0, sizeof(*o));
	o->err = -EIO;
	if (pipe(pipefd))
		return;
	pid = fork();
	if (!pid) {
		struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(c->port) };
		struct sockaddr_in b = { .sin_family = AF_INET };
		/* a connection's first bytes may wait one retransmission
		 * (data before accept() is held back at the door) */
		struct timeval tv = { .tv_sec = 5 };
		static char buf[65536];
		struct outcome r = { 0 };
		size_t n = 0;
		struct timespec t_rel = { 0 }, t_end;
		int fd, i;

		close(pipefd[0]);
		if (c->ns) {
			int nsfd = open(c->ns, O_RDONLY);

			if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
				_exit(1);
		}
		if (join_cgroup(c->cg))
			_exit(1);
		inet_pton(AF_INET, c->addr, &s.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (c->src) {
			inet_pton(AF_INET, c->src, &b.sin_addr);
			if (bind(fd, (void *)&b, sizeof(b)))
				r.err = -errno;
		}
		if (!r.err && connect(fd, (void *)&s, sizeof(s)))
			r.err = -errno;
		for (i = 0; !r.err && i < nparts; i++) {
			if (i && gap_ms)
				usleep((useconds_t)gap_ms * 1000);
			if (write(fd, parts[i], strlen(parts[i])) < 0)
				break;
			if (!i && release_ms) {
				long before = *accepts;

				usleep((useconds_t)release_ms * 1000);
				r.held = *accepts == before;
				*accept_hold = 0;
				clock_gettime(CLOCK_MONOTONIC, &t_rel);
			}
			while (wait_each && i + 1 < nparts) {
				ssize_t got;

				parse_resps(buf, n, &r);
				if (r.nresp > i)
					break;
				got = read(fd, buf + n, sizeof(buf) - n - 1);
				if (got <= 0)
					break;
				n += (size_t)got;
			}
		}
		while (!r.err) {
			ssize_t got;

			parse_resps(buf, n, &r);
			if (r.nresp >= expect)
				break;
			got = read(fd, buf + n, sizeof(buf) - n - 1);
			if (got <= 0) {
				r.closed = got == 0;
				break;
			}
			n += (size_t)got;
		}
		parse_resps(buf, n, &r);
		clock_gettime(CLOCK_MONOTONIC, &t_end);
		r.after_release_ms = (t_end.tv_sec - t_rel.tv_sec) * 1000 +
				     (t_end.tv_nsec - t_rel.tv_nsec) / 1000000;
		if (!r.err && !r.closed && r.nresp >= expect) {
			/* closed after the last response? (short wait) */
			struct timeval t2 = { .tv_usec = 300000 };
			char x;

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t2, sizeof(t2));
			r.closed = read(fd, &x, 1) == 0;
		}
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], o, sizeof(*o)) != sizeof(*o))
		o->err = -EIO;
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* One request on a new connection: its status, 0 if none came back. */
static int req(const struct client *c, const char *r, struct outcome *o)
{
	struct outcome tmp;

	if (!o)
		o = &tmp;
	exchange(c, &r, 1, 0, false, 1, o);
	if (o->err)
		return o->err;
	return o->nresp ? o->status[0] : 0;
}

#define GET(p)	"GET " p " HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\nAccept: */*\r\n\r\n"

enum { C_VIP, C_MESH_DIRECT, C_UNMESHED, C_UNMESHED_VETH, C_NETNS, C_RAW_VIP, C_NR };
static struct client clients[C_NR];

static void clients_init(void)
{
	clients[C_VIP] = (struct client){ "meshed client via the VIP", cgroup, NULL, VIP, 80, NULL };
	clients[C_MESH_DIRECT] = (struct client){ "meshed client dialing the endpoint", cgroup, NULL, EP_LO, PORT, NULL };
	clients[C_UNMESHED] = (struct client){ "unmeshed client", home_cgroup, NULL, EP_LO, PORT, NULL };
	clients[C_UNMESHED_VETH] = (struct client){ "unmeshed client, veth address", home_cgroup, NULL, EP_VETH, PORT, NULL };
	clients[C_NETNS] = (struct client){ "client in another netns", home_cgroup, netns, EP_VETH, PORT, NULL };
	clients[C_RAW_VIP] = (struct client){ "meshed client via a tcp service port", cgroup, NULL, RAW_VIP, 80, NULL };
}

/* ---- topology ---- */

static bool netns_setup(void)
{
	if (!remote_ns_setup(&peer_ns, "kmi0", EP_VETH, PEER))
		return false;
	snprintf(netns, sizeof(netns), "%s", peer_ns.path);
	return true;
}

static int cgroup_setup(void)
{
	char root[256];

	if (cgroup_home(root, sizeof(root), home_cgroup, sizeof(home_cgroup)))
		return -1;
	if (getenv("KMESH_L4_CGROUP")) {
		snprintf(cgroup, sizeof(cgroup), "%s", getenv("KMESH_L4_CGROUP"));
		return 0;
	}
	snprintf(cgroup, sizeof(cgroup), "%s/kmesh-inbound-test", root);
	if (mkdir(cgroup, 0755) && errno != EEXIST)
		return -1;
	own_cgroup = true;
	return 0;
}

static bool client_usable(int i)
{
	return i != C_NETNS || have_netns;
}

/* ---- tests ---- */

static void test_up(void)
{
	static char out[8192];

	tap_begin("inbound: up with a DENY policy; status says the receive check runs");
	run_cmd(NULL, 0, "%s down", kmeshctl);
	EXPECT_EQ(write_file(MESH_FILE, mesh_deny), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "up --cgroup %s -f " MESH_FILE, cgroup), 0);
	if (tap_failed_now())
		tap_diag("%s", out);
	EXPECT_EQ(ctl(out, sizeof(out), "status"), 0);
	EXPECT(strstr(out, "inbound authz: on receive at protected workloads"));
	/* the VM lanes load the module: its hook on accepted sockets runs */
	accept_hooked = strstr(out, "accepted sockets: the kmesh module's recvmsg");
	if (getenv("KMESH_LANE"))
		EXPECT(accept_hooked);
	if (tap_failed_now())
		tap_diag("%s", out);
	unlink(SEEN_FILE);
	unlink(ERR_FILE);
	tap_end();
}

static void test_deny_every_path(void)
{
	char path[64];
	struct outcome o;
	int i;

	for (i = 0; i < C_NR; i++) {
		if (!client_usable(i)) {
			tap_begin("inbound: DENY holds for a %s; other requests pass", clients[i].name);
			tap_skip("no veth + netns");
			tap_end();
			continue;
		}
		tap_begin("inbound: DENY holds for a %s; other requests pass", clients[i].name);
		snprintf(path, sizeof(path), "/admin/k%d", i);
		{
			char r[256];

			snprintf(r, sizeof(r), GET("%s"), path);
			EXPECT_EQ(req(&clients[i], r, &o), 403);
			EXPECT_STR_EQ(o.body[0], "RBAC: access denied");
		}
		EXPECT(!seen(path));
		snprintf(path, sizeof(path), "/ok/k%d", i);
		{
			char r[256], want[128];

			snprintf(r, sizeof(r), GET("%s"), path);
			EXPECT_EQ(req(&clients[i], r, &o), 200);
			snprintf(want, sizeof(want), "GET %s 0\n", path);
			EXPECT_STR_EQ(o.body[0], want);
		}
		EXPECT(seen(path));
		/* a header condition, too */
		EXPECT_EQ(req(&clients[i], "GET /hdr HTTP/1.1\r\nHost: web\r\nX-Evil: 1\r\nUser-Agent: kmesh-selftest/1.0\r\n\r\n", NULL), 403);
		tap_end();
	}
	EXPECT(!seen("/hdr"));
}

static void test_source_cidr(void)
{
	struct client c = clients[C_UNMESHED];
	struct client m = clients[C_MESH_DIRECT];
	struct client v = clients[C_VIP];
	long before;
	int st;

	tap_begin("inbound: L4 at the door: a DENY by source address drops the SYN before accept() (the server's accept count proves it)");
	before = *accepts;
	c.src = "127.0.0.3";
	st = req(&c, GET("/from3"), NULL);
	EXPECT(st < 0);		/* the connect timed out */
	m.src = "127.0.0.3";
	EXPECT(req(&m, GET("/from3m"), NULL) < 0);
	EXPECT_EQ(*accepts, before);
	EXPECT(stat_get("inbound node:", "l4_refused") >= 2);
	EXPECT(stat_get("inbound web:", "connections_refused") >= 2);
	/* another source passes the door */
	c.src = "127.0.0.4";
	EXPECT_EQ(req(&c, GET("/from4"), NULL), 200);
	EXPECT_EQ(*accepts, before + 1);
	EXPECT(!seen("/from3"));
	EXPECT(!seen("/from3m"));
	EXPECT(seen("/from4"));
	/* a meshed client through the VIP: its own sk_msg answers 403 */
	v.src = "127.0.0.3";
	EXPECT_EQ(req(&v, GET("/from3v"), NULL), 403);
	EXPECT(!seen("/from3v"));
	tap_end();
}

static const char mesh_allow_src[] = MESH_HEAD
	"authorization:\n"
	"  - name: only-4\n"
	"    service: web\n"
	"    rules:\n"
	"      - from: [{source: {ip_blocks: [127.0.0.4/32, " PEER "/32]}}]\n";

static void test_allow_source(void)
{
	struct client c = clients[C_UNMESHED];
	long before;

	tap_begin("inbound: L4 at the door: an ALLOW list of sources refuses every other source's SYN");
	EXPECT_EQ(apply(mesh_allow_src), 0);
	before = *accepts;
	c.src = "127.0.0.5";
	EXPECT(req(&c, GET("/from5"), NULL) < 0);
	EXPECT_EQ(*accepts, before);
	c.src = "127.0.0.4";
	EXPECT_EQ(req(&c, GET("/from4b"), NULL), 200);
	if (have_netns)
		EXPECT_EQ(req(&clients[C_NETNS], GET("/from-peer"), NULL), 200);
	EXPECT(!seen("/from5"));
	EXPECT_EQ(apply(mesh_deny), 0);
	tap_end();
}

static void test_allow_every_path(void)
{
	struct outcome o;
	int i;

	tap_begin("inbound: apply an ALLOW policy (the new generation protects the same workloads)");
	EXPECT_EQ(apply(mesh_allow), 0);
	tap_end();
	for (i = 0; i < C_NR; i++) {
		char r[256], p[64];

		if (!client_usable(i)) {
			tap_begin("inbound: ALLOW admits and refuses alike for a %s", clients[i].name);
			tap_skip("no veth + netns");
			tap_end();
			continue;
		}
		tap_begin("inbound: ALLOW admits and refuses alike for a %s", clients[i].name);
		snprintf(p, sizeof(p), "/public/a%d", i);
		snprintf(r, sizeof(r), GET("%s"), p);
		EXPECT_EQ(req(&clients[i], r, &o), 200);
		EXPECT(seen(p));
		snprintf(p, sizeof(p), "/private/a%d", i);
		snprintf(r, sizeof(r), GET("%s"), p);
		EXPECT_EQ(req(&clients[i], r, &o), 403);
		EXPECT(!seen(p));
		/* method outside the ALLOW rule */
		snprintf(p, sizeof(p), "/public/del%d", i);
		snprintf(r, sizeof(r), "DELETE %s HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\nAccept: */*\r\n\r\n", p);
		EXPECT_EQ(req(&clients[i], r, &o), 403);
		EXPECT(!seen(p));
		tap_end();
	}
	EXPECT_EQ(apply(mesh_deny), 0);
}

static void test_keepalive_pipelining(void)
{
	const struct client *c = &clients[C_UNMESHED];
	struct outcome o;

	tap_begin("inbound: keep-alive: allowed, allowed, then a denied request closes the connection");
	{
		const char *parts[] = { GET("/ka1"), GET("/ka2"), GET("/admin/ka3"), GET("/ka4") };

		exchange(c, parts, 4, 0, true, 4, &o);
		EXPECT_EQ(o.nresp, 3);
		EXPECT_EQ(o.status[0], 200);
		EXPECT_EQ(o.status[1], 200);
		EXPECT_EQ(o.status[2], 403);
		EXPECT(o.conn_close[2]);
		EXPECT(seen("/ka1") && seen("/ka2"));
		EXPECT(!seen("/admin/ka3"));
		EXPECT(!seen("/ka4"));
	}
	tap_end();

	tap_begin("inbound: pipelined in one write, a denied request after an allowed one never passes");
	{
		const char *parts[] = { GET("/pl1") GET("/admin/pl2") GET("/pl3") };

		exchange(c, parts, 1, 0, false, 3, &o);
		EXPECT(o.nresp >= 1);
		EXPECT_EQ(o.status[o.nresp ? o.nresp - 1 : 0], 403);
		EXPECT(o.conn_close[o.nresp ? o.nresp - 1 : 0]);
		EXPECT(!seen("/admin/pl2"));
		EXPECT(!seen("/pl3"));
	}
	tap_end();

	tap_begin("inbound: split heads are held until complete, then checked");
	{
		const char *deny[] = { "GET /adm", "in/split HTTP/1.1\r\nHo", "st: web\r\nUser-Agent: kmesh-selftest/1.0\r\nAccept: */*\r\n\r\n" };
		const char *ok[] = { "GET /spl", "it-ok HTTP/1.1\r\nHo", "st: web\r\nUser-Agent: kmesh-selftest/1.0\r\nAccept: */*\r\n\r\n" };

		exchange(c, deny, 3, 100, false, 1, &o);
		EXPECT_EQ(o.nresp, 1);
		EXPECT_EQ(o.status[0], 403);
		EXPECT(!seen("/admin/split"));
		exchange(c, ok, 3, 100, false, 1, &o);
		EXPECT_EQ(o.nresp, 1);
		EXPECT_EQ(o.status[0], 200);
		EXPECT(seen("/split-ok"));
	}
	tap_end();

	/* A held head moves the kernel's read bookkeeping (the stream
	 * parser's copied_seq): what comes after it on the connection must
	 * still be parsed, never delivered around the check. */
	tap_begin("inbound: after a split head is allowed, the next request on the connection is still checked");
	{
		const char *parts[] = {
			"GET /spl", "it-then HTTP/1.1\r\nHo",
			"st: web\r\nUser-Agent: kmesh-selftest/1.0\r\nAccept: */*\r\n\r\n",
			GET("/admin/after-split"),
		};

		exchange(c, parts, 4, 100, false, 2, &o);
		EXPECT_EQ(o.nresp, 2);
		EXPECT_EQ(o.status[0], 200);
		EXPECT_EQ(o.status[1], 403);
		EXPECT(seen("/split-then"));
		EXPECT(!seen("/admin/after-split"));
	}
	tap_end();
}

static void test_bodies(void)
{
	const struct client *c = &clients[C_UNMESHED];
	struct outcome o;

	tap_begin("inbound: bodies are skipped by Content-Length and chunked framing; the next head is found where the server finds it");
	{
		/* a body that looks like a request, then a real denied one */
		const char *parts[] = {
			"POST /upload HTTP/1.1\r\nHost: web\r\nContent-Length: 43\r\n\r\n"
			"GET /admin/inbody HTTP/1.1\r\nHost: web\r\n\r\n\r\n",
			GET("/admin/afterbody"),
		};

		exchange(c, parts, 2, 0, true, 2, &o);
		EXPECT_EQ(o.status[0], 200);
		EXPECT_STR_EQ(o.body[0], "POST /upload 43\n");
		EXPECT_EQ(o.status[1], 403);
		EXPECT(!seen("/admin/inbody"));
		EXPECT(!seen("/admin/afterbody"));
	}
	{
		const char *parts[] = {
			"POST /chunky HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5\r\nhello\r\n19\r\nGET /admin/c HTTP/1.1\r\n\r\n\r\n0\r\n\r\n",
			GET("/admin/afterchunks"),
		};

		exchange(c, parts, 2, 0, true, 2, &o);
		EXPECT_EQ(o.status[0], 200);
		EXPECT_STR_EQ(o.body[0], "POST /chunky 30\n");
		EXPECT_EQ(o.status[1], 403);
		EXPECT(!seen("/admin/afterchunks"));
	}
	{
		/* a body split over writes */
		const char *parts[] = {
			"POST /slow HTTP/1.1\r\nHost: web\r\nContent-Length: 10\r\n\r\n01234",
			"56789",
			GET("/after-slow"),
		};

		exchange(c, parts, 3, 100, false, 2, &o);
		EXPECT_EQ(o.nresp, 2);
		EXPECT_EQ(o.status[0], 200);
		EXPECT_STR_EQ(o.body[0], "POST /slow 10\n");
		EXPECT_EQ(o.status[1], 200);
	}
	tap_end();
}

static void test_smuggling(void)
{
	static const char *const tricks[] = {
		/* CL and TE both: ambiguous framing */
		"POST /ok HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/smug1 HTTP/1.1\r\nHost: web\r\n\r\n",
		/* two Content-Lengths */
		"POST /ok HTTP/1.1\r\nHost: web\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\nGET /admin/smug2 HTTP/1.1\r\nHost: web\r\n\r\n",
		/* obs-fold */
		"GET /ok HTTP/1.1\r\nHost: web\r\nX-A: 1\r\n  folded\r\n\r\n",
		/* bare LF line ends */
		"GET /admin/smug3 HTTP/1.1\nHost: web\n\n",
		/* TE not ending in chunked */
		"POST /ok HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
		/* path tricks */
		"GET /%61dmin/smug4 HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\n\r\n",
		"GET /./admin/smug5 HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\n\r\n",
		"GET /x/../admin/smug6 HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\n\r\n",
		"GET //admin/smug7 HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\n\r\n",
		"GET /ADMIN/smug8 HTTP/1.1\r\nHost: web\r\nUser-Agent: kmesh-selftest/1.0\r\n\r\n",
	};
	static const char *const never[] = {
		"/admin/smug1", "/admin/smug2", "/admin/smug3", "/%61dmin/smug4",
		"/./admin/smug5", "/x/../admin/smug6", "//admin/smug7",
	};
	const struct client *c = &clients[C_UNMESHED];
	long long before = stat_get("inbound node:", "bad");
	size_t i;
	int st;

	tap_begin("inbound: smuggling and path tricks sent straight to the workload never pass the DENY");
	for (i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		st = req(c, tricks[i], NULL);
		/* /ADMIN is another path (case matters): the only one passing */
		if (i == 9) {
			EXPECT_EQ(st, 200);
			continue;
		}
		/* 0: shorter than the shortest reply, dropped unanswered */
		if (!tap_check(st == 400 || st == 403 || (st == 0 && strlen(tricks[i]) < 53),
			       __FILE__, __LINE__, "trick %zu: got %d, want 400 or 403", i, st))
			tap_diag("trick: %s", tricks[i]);
	}
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (!tap_check(!seen(never[i]), __FILE__, __LINE__, "%s reached the server", never[i]))
			break;
	EXPECT(stat_get("inbound node:", "bad") > before);
	tap_end();
}

static void test_counted_once(void)
{
	static char out[262144];
	long long denied, source, vip_denied;

	tap_begin("inbound: a request the source already refused is not counted again; stats, metrics and log say who decided");
	denied = stat_get("inbound node:", "denied");
	source = stat_get("inbound node:", "source_checked");
	vip_denied = stat_get("inbound web:", "denied");
	EXPECT_EQ(req(&clients[C_VIP], GET("/admin/once"), NULL), 403);
	EXPECT_EQ(stat_get("inbound node:", "denied"), denied);
	EXPECT_EQ(stat_get("inbound web:", "denied"), vip_denied);
	EXPECT(stat_get("inbound node:", "source_checked") > source);
	ctl(NULL, 0, "log --wait 0");	/* drain */
	EXPECT_EQ(req(&clients[C_UNMESHED], GET("/admin/logged"), NULL), 403);
	EXPECT_EQ(stat_get("inbound web:", "denied"), vip_denied + 1);
	EXPECT_EQ(ctl(out, sizeof(out), "log --json --count 1 --wait 3"), 0);
	EXPECT(strstr(out, "\"path\":\"/admin/logged\""));
	EXPECT(strstr(out, "\"decision\":\"deny\",\"reason\":\"deny_policy\",\"policy\":\"no-admin\""));
	EXPECT(strstr(out, "\"reporter\":\"destination\""));
	if (tap_failed_now())
		tap_diag("log said: %s", out);
	EXPECT_EQ(ctl(out, sizeof(out), "stats --prometheus"), 0);
	EXPECT(strstr(out, "kmesh_http_authz_total{service=\"web\",reporter=\"destination\",direction=\"inbound\",decision=\"denied\"}"));
	EXPECT_EQ(stat_get("inbound node:", "internal_drops"), 0);
	EXPECT_EQ(stat_get("inbound node:", "no_state"), 0);
	tap_end();
}

/* ---- tcp ports: L4 policy at the door ---- */

#define MESH_TCP_HEAD							\
	"services:\n"							\
	"  - name: db\n"						\
	"    addresses: [" TCP_VIP "]\n"				\
	"    ports: [{port: 5432}]\n"					\
	"    cluster: db\n"						\
	"clusters:\n"							\
	"  - name: db\n"						\
	"    endpoints: [{address: " EP_LO ", port: 18202}]\n"	\
	"authorization:\n"

/* shop: an http port and a tcp port (db's endpoint) in one service */
#define MESH_MIXED_HEAD							\
	"services:\n"							\
	"  - name: shop\n"						\
	"    addresses: [" TCP_VIP "]\n"				\
	"    ports: [{port: 80, protocol: http, cluster: shopweb}, {port: 5432}]\n" \
	"    cluster: db\n"						\
	"clusters:\n"							\
	"  - name: db\n"						\
	"    endpoints: [{address: " EP_LO ", port: 18202}]\n"	\
	"  - name: shopweb\n"						\
	"    endpoints: [{address: 127.0.0.9, port: 18209}]\n"	\
	"authorization:\n"

/* db with a connect timeout, no policy yet */
#define DB_TIMEOUT_HEAD						\
	"services:\n"							\
	"  - {name: db, addresses: [" TCP_VIP "], ports: [{port: 5432}], cluster: db}\n" \
	"clusters:\n"							\
	"  - name: db\n"						\
	"    connect_timeout_ms: 1000\n"				\
	"    endpoints: [{address: " EP_LO ", port: 18202}]\n"

static pid_t tcp_server;
static long *tcp_accepts;	/* shared with the tcp server */

/*
 * A plain TCP server in the meshed cgroup (not HTTP: kmesh must not parse
 * a tcp port's bytes): counts accepts, answers whatever it reads with a
 * fixed 200 response and closes, so the clients' reader sees a status.
 */
static int tcp_server_start(void)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	static const char resp[] = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nraw";
	int pipefd[2], fd, one = 1;
	char ok = 0;

	tcp_accepts = mmap(NULL, sizeof(*tcp_accepts), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tcp_accepts == MAP_FAILED || pipe(pipefd))
		return -1;
	*tcp_accepts = 0;
	tcp_server = fork();
	if (tcp_server < 0)
		return -1;
	if (!tcp_server) {
		close(pipefd[0]);
		if (join_cgroup(cgroup))
			_exit(1);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (void *)&s, sizeof(s)) || listen(fd, 128))
			_exit(1);
		ok = 1;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		for (;;) {
			char buf[4096];
			int c = accept(fd, NULL, NULL);

			if (c < 0)
				continue;
			__sync_fetch_and_add(tcp_accepts, 1);
			if (read(c, buf, sizeof(buf)) > 0 &&
			    write(c, resp, sizeof(resp) - 1) < 0) {
				/* the client went away: nothing to do */
			}
			close(c);
		}
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1 || !ok) {
		close(pipefd[0]);
		return -1;
	}
	close(pipefd[0]);
	return 0;
}

/*
 * The tcp workload's door through each of @clients (NULL-terminated): a
 * connection from @refused times out before accept(), one from @admitted
 * is served; the server's accept count proves both.
 */
static void expect_door(struct client *const *clients, const char *refused,
			const char *admitted)
{
	long before = *tcp_accepts, n = 0;
	size_t i;

	for (i = 0; clients[i]; i++) {
		clients[i]->src = refused;
		EXPECT(req(clients[i], "hello\n", NULL) < 0);	/* connect timed out */
	}
	EXPECT_EQ(*tcp_accepts, before);
	for (i = 0; clients[i]; i++, n++) {
		clients[i]->src = admitted;
		EXPECT_EQ(req(clients[i], "hello\n", NULL), 200);
	}
	EXPECT_EQ(*tcp_accepts, before + n);
}

/* @yaml is refused at apply with both messages; the running config stays
 * (an ALLOW of 127.0.0.4 only). */
static void expect_refused_apply(const char *yaml, const char *where,
				 const char *service)
{
	struct client direct = { "unmeshed client, tcp workload", home_cgroup, NULL, EP_LO, TCP_PORT, NULL };
	struct client *const clients[] = { &direct, NULL };
	static char out[4096];

	EXPECT_EQ(write_file(MESH_FILE, yaml), 0);
	EXPECT(ctl(out, sizeof(out), "apply -f " MESH_FILE) != 0);
	EXPECT(strstr(out, where));
	EXPECT(strstr(out, service));
	if (tap_failed_now())
		tap_diag("%s", out);
	expect_door(clients, "127.0.0.5", "127.0.0.4");
}

/*
 * A meshed client from @src to the tcp VIP connects twice on one socket:
 * the first connect's result in *@first; then the parent applies @yaml;
 * then the second. Returns the socket's TCP_USER_TIMEOUT right after the
 * second connect returned (kmesh's connect timeout must be gone by then),
 * or -errno. The client's SO_SNDTIMEO is 5 s (EINPROGRESS after it).
 */
static int user_timeout_after_retry(const char *src, int *first, const char *yaml)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(5432) };
	struct sockaddr_in b = { .sin_family = AF_INET };
	int res[2], go[2], ret = -EIO;
	pid_t pid;

	*first = -EIO;
	if (pipe(res) || pipe(go))
		return -errno;
	pid = fork();
	if (!pid) {
		struct timeval tv = { .tv_sec = 5 };
		socklen_t len = sizeof(ret);
		char c;
		int fd;

		inet_pton(AF_INET, TCP_VIP, &s.sin_addr);
		inet_pton(AF_INET, src, &b.sin_addr);
		/* a socket belongs to the cgroup it was made in */
		fd = join_cgroup(cgroup) ? -1 : socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
		    bind(fd, (void *)&b, sizeof(b)))
			_exit(1);
		ret = connect(fd, (void *)&s, sizeof(s)) ? -errno : 0;
		if (write(res[1], &ret, sizeof(ret)) != sizeof(ret) ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		if (connect(fd, (void *)&s, sizeof(s)))
			ret = -errno;
		else if (getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ret, &len))
			ret = -errno;
		if (write(res[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(1);
		_exit(0);
	}
	close(res[1]);
	close(go[0]);
	if (pid > 0 && read(res[0], first, sizeof(*first)) == sizeof(*first) &&
	    !apply(yaml) && write(go[1], "g", 1) == 1 &&
	    read(res[0], &ret, sizeof(ret)) != sizeof(ret))
		ret = -EIO;
	close(res[0]);
	close(go[1]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return ret;
}

static void test_tcp_port(void)
{
	struct client direct = { "unmeshed client, tcp workload", home_cgroup, NULL, EP_LO, TCP_PORT, NULL };
	struct client vip = { "meshed client via the tcp VIP", cgroup, NULL, TCP_VIP, 5432, NULL };
	struct client *const both[] = { &direct, &vip, NULL };
	struct client *const unmeshed[] = { &direct, NULL };

	tap_begin("inbound: a tcp port gets L4 policy: a DENY by source address refuses the SYN before accept() (direct and via the VIP), other sources pass");
	if (!EXPECT_EQ(tcp_server_start(), 0)) {
		tap_end();
		return;
	}
	EXPECT_EQ(apply(MESH_TCP_HEAD
			"  - name: no-3\n"
			"    service: db\n"
			"    action: DENY\n"
			"    rules: [{from: [{source: {ip_blocks: [127.0.0.3/32]}}]}]\n"), 0);
	expect_door(both, "127.0.0.3", "127.0.0.4");
	EXPECT(stat_get("inbound db:", "connections_refused") >= 2);
	tap_end();

	tap_begin("inbound: a cluster's connect_timeout_ms: a connect whose SYN gets no answer fails with ETIMEDOUT then, not after the kernel's 2 min; once the socket connects the timeout is gone");
	EXPECT_EQ(apply(DB_TIMEOUT_HEAD
			"authorization:\n"
			"  - {name: no-3, service: db, action: DENY, rules: [{from: [{source: {ip_blocks: [127.0.0.3/32]}}]}]}\n"), 0);
	{
		int first, after;

		/* the door drops 127.0.0.3's SYN; then the DENY goes and
		 * the same socket connects */
		after = user_timeout_after_retry("127.0.0.3", &first, DB_TIMEOUT_HEAD);
		EXPECT_EQ(first, -ETIMEDOUT);
		EXPECT_EQ(after, 0);
		if (tap_failed_now())
			tap_diag("first connect: %s", strerror(-first));
	}
	tap_end();

	tap_begin("inbound: a tcp port's ALLOW list of sources admits them and refuses every other source before accept()");
	EXPECT_EQ(apply(MESH_TCP_HEAD
			"  - name: only-4\n"
			"    service: db\n"
			"    rules: [{from: [{source: {ip_blocks: [127.0.0.4/32]}}]}]\n"), 0);
	expect_door(unmeshed, "127.0.0.5", "127.0.0.4");
	tap_end();

	tap_begin("inbound: the tcp port of a service with an http port too: a DENY rule's HTTP fields are dropped there (its sources refused at the SYN), a rule for another port does not hold");
	EXPECT_EQ(apply(MESH_MIXED_HEAD
			"  - name: no-3-admin\n"
			"    service: shop\n"
			"    action: DENY\n"
			"    rules: [{from: [{source: {ip_blocks: [127.0.0.3/32]}}], to: [{operation: {paths: [\"/admin*\"]}}]}]\n"
			"  - name: web-only\n"
			"    service: shop\n"
			"    action: DENY\n"
			"    rules: [{to: [{operation: {ports: [80], methods: [DELETE]}}]}]\n"), 0);
	expect_door(both, "127.0.0.3", "127.0.0.4");
	tap_end();

	tap_begin("inbound: the tcp port of a service with an http port too: an ALLOW rule that needs a request admits nobody there, a rule of sources admits them");
	EXPECT_EQ(apply(MESH_MIXED_HEAD
			"  - name: reads\n"
			"    service: shop\n"
			"    rules: [{to: [{operation: {methods: [GET]}}]}, {from: [{source: {ip_blocks: [127.0.0.4/32]}}]}]\n"), 0);
	expect_door(unmeshed, "127.0.0.5", "127.0.0.4");
	tap_end();

	tap_begin("inbound: a rule the door cannot decide on a tcp port of a service with an http port too is refused at apply, naming it; the running config stays");
	expect_refused_apply(MESH_MIXED_HEAD
			     "  - name: not-3\n"
			     "    service: shop\n"
			     "    action: DENY\n"
			     "    rules: [{from: [{source: {not_ip_blocks: [127.0.0.3/32]}}]}]\n",
			     "authorization[0].rules[0].from[0].source: not_ip_blocks is not checked at the door yet",
			     "service 'shop' has tcp ports too");
	tap_end();

	tap_begin("inbound: an L7 field in a tcp port's policy is refused at apply, naming the field; the running config stays");
	expect_refused_apply(MESH_TCP_HEAD
			     "  - name: paths\n"
			     "    service: db\n"
			     "    action: DENY\n"
			     "    rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]\n",
			     "authorization[0].rules[0].to[0].operation: paths needs an HTTP request",
			     "service 'db' has tcp ports only");
	EXPECT_EQ(apply(mesh_deny), 0);
	tap_end();
}

static void test_bad_config(void)
{
	static char out[4096];
	char yaml[4096];

	tap_begin("inbound: an endpoint serving more than 4 services with authorization is refused, naming it; the running config stays");
	snprintf(yaml, sizeof(yaml),
		 "services:\n"
		 "  - {name: s1, addresses: [10.96.3.1], ports: [{port: 80, protocol: http}], cluster: c}\n"
		 "  - {name: s2, addresses: [10.96.3.2], ports: [{port: 80, protocol: http}], cluster: c}\n"
		 "  - {name: s3, addresses: [10.96.3.3], ports: [{port: 80, protocol: http}], cluster: c}\n"
		 "  - {name: s4, addresses: [10.96.3.4], ports: [{port: 80, protocol: http}], cluster: c}\n"
		 "  - {name: s5, addresses: [10.96.3.5], ports: [{port: 80, protocol: http}], cluster: c}\n"
		 "clusters:\n"
		 "  - {name: c, endpoints: [{address: 127.0.0.9, port: 9}]}\n"
		 "authorization:\n"
		 "  - {name: p, service: s1, action: DENY, rules: [{}]}\n"
		 "  - {name: p, service: s2, action: DENY, rules: [{}]}\n"
		 "  - {name: p, service: s3, action: DENY, rules: [{}]}\n"
		 "  - {name: p, service: s4, action: DENY, rules: [{}]}\n"
		 "  - {name: p, service: s5, action: DENY, rules: [{}]}\n");
	EXPECT_EQ(write_file(MESH_FILE, yaml), 0);
	EXPECT(ctl(out, sizeof(out), "apply -f " MESH_FILE) != 0);
	EXPECT(strstr(out, "endpoint 127.0.0.9:9"));
	if (tap_failed_now())
		tap_diag("%s", out);
	/* the DENY config is still live */
	EXPECT_EQ(req(&clients[C_UNMESHED], GET("/admin/still"), NULL), 403);
	tap_end();
}

static void test_unprotected(void)
{
	tap_begin("inbound: without authorization nothing is checked on receive");
	EXPECT_EQ(apply(MESH_HEAD), 0);
	EXPECT_EQ(req(&clients[C_UNMESHED], GET("/admin/open"), NULL), 200);
	EXPECT(seen("/admin/open"));
	EXPECT_EQ(apply(mesh_deny), 0);
	EXPECT_EQ(req(&clients[C_UNMESHED], GET("/admin/closed"), NULL), 403);
	tap_end();
}

static void cleanup(void)
{
	run_cmd(NULL, 0, "%s down", kmeshctl);
	join_cgroup(home_cgroup);
	if (tcp_server > 0) {
		kill(tcp_server, SIGKILL);
		waitpid(tcp_server, NULL, 0);
		tcp_server = 0;
	}
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = 0;
	}
	remote_ns_free(&peer_ns);
	run_cmd(NULL, 0, "ip addr del " EP_VETH "/32 dev lo");
	if (own_cgroup)
		rmdir(cgroup);
	unlink(SEEN_FILE);
	unlink(MESH_FILE);
}

/*
 * Data before accept(): the client's request is in the server's receive
 * queue before the application accepts (the client holds the server's
 * accept()s for 700 ms after its write). Where the module takes accepted
 * sockets the request is checked when accept() returns: the response
 * comes right after the late accept, not after a retransmission (the
 * door dropping it: retransmits about 0.2, 0.6, 1.4 s after the write,
 * so the next one 700 ms after the release), and the door's early-drop
 * counter does not move.
 */
static void test_early_data(void)
{
	static const struct { const char *path; int status; } cases[] = {
		{ "/early-ok", 200 }, { "/admin/early", 403 },
	};
	const struct client *c = &clients[C_UNMESHED];
	long long drops;
	size_t i;

	tap_begin("inbound: data before accept(): checked when the late accept() returns, answered without a retransmission wait");
	if (!accept_hooked) {
		tap_skip("no module hook on accepted sockets here: the door drops data before accept()");
		tap_end();
		return;
	}
	drops = stat_get("inbound node:", "early_drops");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;
		char r[256];

		snprintf(r, sizeof(r), GET("%s"), cases[i].path);
		*accept_hold = 1;
		release_ms = 700;
		EXPECT_EQ(req(c, r, &o), cases[i].status);
		release_ms = 0;
		*accept_hold = 0;
		EXPECT(o.held);		/* the request really came before accept() */
		/* well under the RTO (200 ms), let alone the next retransmission */
		EXPECT(o.after_release_ms < 150);
		if (tap_failed_now())
			tap_diag("%s: response %ld ms after the accept()s were let go",
				 cases[i].path, o.after_release_ms);
		EXPECT_EQ(seen(cases[i].path), cases[i].status == 200);
	}
	EXPECT_EQ(stat_get("inbound node:", "early_drops"), drops);
	tap_end();
}

/*
 * The same without the module, to a server that takes its sockets
 * non-blocking (an event-driven one): once the door has seen that (one
 * connection first), it checks data before accept() itself and passes an
 * allowed request, answered right after the late accept(); a refused one
 * is dropped there (early_drops) and refused on receive after its
 * retransmission, never reaching the application; and a blocking server
 * again gets its data only after accept() (dropped before).
 */
static void test_early_data_door(void)
{
	static const struct { const char *path; int status; bool fast; } cases[] = {
		{ "/early-door-ok", 200, true }, { "/admin/early-door", 403, false },
		{ "/early-door-ok2", 200, true },
	};
	const struct client *c = &clients[C_UNMESHED];
	long long drops, d;
	size_t i;

	tap_begin("inbound: data before accept() without the module, event-driven server: checked at the door, an allowed request answered without a retransmission wait, a refused one never served");
	if (accept_hooked) {
		tap_skip("the module hands data before accept() to the stream parser here");
		tap_end();
		return;
	}
	*server_nonblock = 1;
	/* one connection first: the door learns the server's sockets */
	EXPECT_EQ(req(c, GET("/early-door-learn"), NULL), 200);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;
		char r[256];

		drops = stat_get("inbound node:", "early_drops");
		snprintf(r, sizeof(r), GET("%s"), cases[i].path);
		*accept_hold = 1;
		release_ms = 700;
		EXPECT_EQ(req(c, r, &o), cases[i].status);
		release_ms = 0;
		*accept_hold = 0;
		EXPECT(o.held);		/* the request really came before accept() */
		d = stat_get("inbound node:", "early_drops") - drops;
		if (cases[i].fast) {
			EXPECT(o.after_release_ms < 150);
			EXPECT_EQ(d, 0);
		} else {
			EXPECT(d >= 1);
		}
		if (tap_failed_now())
			tap_diag("%s: response %ld ms after the accept()s were let go, %lld early drops",
				 cases[i].path, o.after_release_ms, d);
		EXPECT_EQ(seen(cases[i].path), cases[i].status == 200);
	}
	/* a blocking server: dropped before accept() again */
	*server_nonblock = 0;
	EXPECT_EQ(req(c, GET("/early-door-blocking-learn"), NULL), 200);
	drops = stat_get("inbound node:", "early_drops");
	{
		struct outcome o;

		*accept_hold = 1;
		release_ms = 700;
		EXPECT_EQ(req(c, GET("/early-door-blocking"), &o), 200);
		release_ms = 0;
		*accept_hold = 0;
		EXPECT(o.held);
		EXPECT(stat_get("inbound node:", "early_drops") > drops);
	}
	tap_end();
}

/*
 * The server is a plain blocking reader: a read that fails (EAGAIN on a
 * blocking socket, the stream parser's, kmod/inbound.c) would drop an
 * ordinary server's connection, and its client would see no response
 * (this server notes it and reads again). With the module's hook none
 * may fail; without it they are shown.
 */
static void test_server_reads(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(ERR_FILE, "r");

	tap_begin("inbound: the server's blocking reads never failed (no spurious EAGAIN from the stream parser)");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (n++ < 5)
			tap_diag("%s", line);
	}
	if (f)
		fclose(f);
	unlink(ERR_FILE);
	if (!accept_hooked)
		tap_skip("no module hook on accepted sockets here (%d failed reads)", n);
	else
		EXPECT_EQ(n, 0);
	tap_end();
}

void test_inbound(void)
{
	kmeshctl = getenv("KMESHCTL") ? getenv("KMESHCTL") : "kmeshctl";
	signal(SIGPIPE, SIG_IGN);
	run_cmd(NULL, 0, "ip link set lo up");
	tap_begin("inbound: topology: meshed cgroup, a server on the wildcard address, a netns behind a veth");
	if (!EXPECT_EQ(cgroup_setup(), 0)) {
		tap_end();
		return;
	}
	unlink(SEEN_FILE);
	/* the VM lanes run with the module (its hook on accepted sockets) */
	if (getenv("KMESH_LANE") && !kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	have_netns = netns_setup();
	if (!have_netns) {
		tap_diag("no veth + netns: the other-netns client is skipped");
		/* the cluster's second endpoint must still be reachable */
		run_cmd(NULL, 0, "ip addr add " EP_VETH "/32 dev lo");
	}
	EXPECT_EQ(web_server_start(), 0);
	clients_init();
	if (tap_failed_now()) {
		tap_end();
		cleanup();
		return;
	}
	tap_end();

	test_up();
	test_deny_every_path();
	test_source_cidr();
	test_allow_source();
	test_allow_every_path();
	test_keepalive_pipelining();
	test_bodies();
	test_smuggling();
	test_counted_once();
	test_bad_config();
	test_tcp_port();
	test_early_data();
	test_early_data_door();
	test_unprotected();
	test_server_reads();
	cleanup();
}

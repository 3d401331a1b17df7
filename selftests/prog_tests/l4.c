// SPDX-License-Identifier: GPL-2.0-only
/*
 * L4 data plane, end to end: kmeshctl up/apply/down against a child
 * cgroup this process joins; real TCP between real sockets. Endpoints are
 * small tagged echo servers (forked; each connection is greeted with
 * "TAG\n", then echoed): local ones on loopback, "remote" ones behind a
 * veth pair in another netns. Needs no kmesh module.
 *
 * Environment (the host lane sets these; the VM needs none):
 *	KMESH_L4_CGROUP	cgroup to use (created and removed by the caller)
 *	KMESHCTL	kmeshctl to run (default: from PATH)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "l4_bpf.h"
#include "net_helpers.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-l4.yaml"
#define VIP4		"10.96.0.10"
#define VIP6		"fd00:96::10"
#define VIP_PORT	80
#define LOCAL_PORT	18001		/* local endpoints 18001..18004: e1..e4 */
#define HALF_PORT	18005		/* h1: answers only after the client's FIN */
#define V6_PORT		18011		/* [::1]:18011, 18012: v6a, v6b */
#define REMOTE_ADDR	"10.99.0.2"
#define REMOTE_PORT	18021		/* r1, r2 behind the veth */

static struct test_cgroup cg;		/* the meshed cgroup, and home */
static const char *kmeshctl;
static struct remote_ns remote;
static bool have_remote;
static bool is_up;

static int apply(const char *yaml)
{
	return ctl_apply(MESH_FILE, yaml);
}

static long long stat_get(const char *line_prefix, const char *field)
{
	return ctl_stat(line_prefix, field, -1);
}

/* ---- servers ---- */

/* Greet with "TAG\n", then echo everything back. */
static void serve_conn(struct srv_conn *c)
{
	char buf[65536], hello[20];
	ssize_t n;
	int len;

	len = snprintf(hello, sizeof(hello), "%s\n", c->tag);
	if (write(c->fd, hello, (size_t)len) == len) {
		while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
			ssize_t off = 0;

			while (off < n) {
				ssize_t w = write(c->fd, buf + off, (size_t)(n - off));

				if (w <= 0)
					return;
				off += w;
			}
		}
	}
}

/*
 * read() on a blocking socket, except that EAGAIN before SO_RCVTIMEO's
 * 5 s is read again (and counted in @spurious): Linux 6.1's sockmap
 * receive path (tcp_bpf_recvmsg) answers EAGAIN when a wake-up brings no
 * data, e.g. the state change when our FIN is acked.
 */
static ssize_t read_blocking(int fd, void *buf, size_t len, int *spurious)
{
	double end = now_s() + 4.5;
	ssize_t n;

	while ((n = read(fd, buf, len)) < 0 && errno == EAGAIN && now_s() < end)
		if (spurious)
			(*spurious)++;
	return n;
}

/*
 * Greet, read everything up to the client's FIN, and only then send it
 * all back and close: a half-closed connection must still carry data the
 * other way, and its EOF must come after every byte.
 */
static void serve_at_eof(struct srv_conn *c)
{
	size_t have = 0, cap = 1 << 20, off = 0;
	char *buf = malloc(cap), hello[20];
	ssize_t n;
	int len;

	len = snprintf(hello, sizeof(hello), "%s\n", c->tag);
	if (!buf || write(c->fd, hello, (size_t)len) != len)
		goto out;
	for (;;) {
		if (have == cap) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				goto out;
			buf = more;
			cap *= 2;
		}
		n = read_blocking(c->fd, buf + have, cap - have, NULL);
		if (n < 0)
			goto out;
		if (!n)
			break;
		have += (size_t)n;
	}
	while (off < have) {
		n = write(c->fd, buf + off, have - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
out:
	free(buf);
}

/* ---- clients ---- */

/* Read the server's "TAG\n" greeting. */
static int read_tag(int fd, char *tag, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n') {
			tag[n] = '\0';
			return 0;
		}
		tag[n++] = c;
	}
	return -1;
}

/* Connect, learn which endpoint answered, close. 0 or -errno. */
static int which(const char *addr, int port, const char *src, char *tag,
		 size_t size)
{
	int fd = dial(addr, port, src), rc;

	if (fd < 0)
		return fd;
	rc = read_tag(fd, tag, size) ? -EIO : 0;
	close(fd);
	return rc;
}

/* Send @len patterned bytes, read them back; byte-exact or -1. */
static int echo_bytes(int fd, size_t len)
{
	size_t sent = 0, got = 0, i;
	static unsigned char out[65536], in[65536];

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (sent < len)
			p.events |= POLLOUT;
		if (poll(&p, 1, 5000) <= 0)
			return -1;
		if ((p.revents & POLLOUT) && sent < len) {
			size_t chunk = len - sent > sizeof(out) ? sizeof(out) : len - sent;
			ssize_t w;

			for (i = 0; i < chunk; i++)
				out[i] = (unsigned char)((sent + i) * 7 + 3);
			w = send(fd, out, chunk, MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN)
				return -1;
			if (w > 0)
				sent += (size_t)w;
		}
		if (p.revents & POLLIN) {
			ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);

			if (r <= 0)
				return -1;
			for (i = 0; i < (size_t)r; i++)
				if (in[i] != (unsigned char)((got + i) * 7 + 3))
					return -1;
			got += (size_t)r;
		}
	}
	return 0;
}

static int tag_index(const char *tag, const char *const *tags, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(tag, tags[i]))
			return i;
	return -1;
}

/* ---- topology ---- */


/* ---- configs ---- */

#define LOCAL_CLUSTER(name, lb, extra)					\
	"  - name: " name "\n"						\
	"    lb: " lb "\n" extra						\
	"    endpoints:\n"						\
	"      - {address: 127.0.0.1, port: 18001}\n"			\
	"      - {address: 127.0.0.1, port: 18002}\n"			\
	"      - {address: 127.0.0.1, port: 18003}\n"			\
	"      - {address: 127.0.0.1, port: 18004}\n"

static const char *const etags[] = { "e1", "e2", "e3", "e4" };

/* web -> cluster @lb over the four local endpoints; also v6 and remote. */
static void mesh_with(char *buf, size_t size, const char *cluster_body)
{
	snprintf(buf, size,
		 "# kmesh L4 selftest\n"
		 "services:\n"
		 "  - name: web\n"
		 "    addresses: [" VIP4 "]\n"
		 "    ports: [{port: 80, protocol: tcp}]\n"
		 "    cluster: local\n"
		 "  - name: web6\n"
		 "    addresses: [\"" VIP6 "\"]\n"
		 "    ports: [{port: 80}]\n"
		 "    cluster: v6\n"
		 "  - name: remote\n"
		 "    addresses: [10.96.0.20]\n"
		 "    ports: [{port: 80}]\n"
		 "    cluster: remote\n"
		 "clusters:\n"
		 "%s"
		 "  - name: v6\n"
		 "    endpoints:\n"
		 "      - {address: \"::1\", port: 18011}\n"
		 "      - {address: \"::1\", port: 18012}\n"
		 "  - name: remote\n"
		 "    endpoints:\n"
		 "      - {address: " REMOTE_ADDR ", port: 18021}\n"
		 "      - {address: " REMOTE_ADDR ", port: 18022}\n",
		 cluster_body);
}

static int apply_cluster(const char *cluster_body)
{
	static char buf[8192];

	mesh_with(buf, sizeof(buf), cluster_body);
	return apply(buf);
}

/*
 * What every subtest starts from, whatever ran before it: kmesh up on the
 * meshed cgroup (this process in it), web -> the four local endpoints in
 * round robin. Returns false (the test failed) when that cannot be had.
 */
static bool base_mesh(void)
{
	static char buf[8192];

	if (!is_up) {
		run_cmd(NULL, 0, "%s down", kmeshctl);
		mesh_with(buf, sizeof(buf), LOCAL_CLUSTER("local", "round_robin", ""));
		if (!EXPECT_EQ(write_file(MESH_FILE, buf), 0) ||
		    !EXPECT_EQ(ctl(buf, sizeof(buf), "up --cgroup %s -f " MESH_FILE,
				   cg.path), 0)) {
			tap_diag("kmeshctl up: %s", buf);
			return false;
		}
		is_up = true;
	}
	return EXPECT_EQ(join_cgroup(cg.path), 0) &&
	       EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
}

/* A cluster's active count reaching @want (closes are counted async). */
static bool wait_active(const char *prefix, long long want)
{
	return WAIT_UNTIL(stat_get(prefix, "active") == want, 5000);
}

/* ---- tests ---- */

static void test_up(void)
{
	char out[8192];

	tap_begin("l4: kmeshctl up attaches to the cgroup, pins, applies generation 1");
	run_cmd(NULL, 0, "%s down", kmeshctl);
	is_up = false;
	mesh_with(out, sizeof(out), LOCAL_CLUSTER("local", "round_robin", ""));
	EXPECT_EQ(write_file(MESH_FILE, out), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "up --cgroup %s -f " MESH_FILE, cg.path), 0);
	is_up = true;
	EXPECT(strstr(out, "kmesh up: attached to cgroup"));
	EXPECT(strstr(out, "as generation 1: 3 services (3 address:ports), 3 clusters, 8 endpoints"));
	EXPECT(path_exists("/sys/fs/bpf/kmesh/links/kmesh_connect4") ||
	       getenv("KMESH_PIN_DIR"));
	EXPECT_EQ(ctl(out, sizeof(out), "status"), 0);
	EXPECT(strstr(out, "l4 data plane: up"));
	EXPECT(!strstr(out, "NOT ATTACHED"));
	EXPECT(strstr(out, "kmesh_connect6       prog"));
	if (tap_failed_now())
		tap_diag("%s", out);
	EXPECT_EQ(join_cgroup(cg.path), 0);
	tap_end();
}

static void test_rewrite_v4(void)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char tag[16], addr[32];
	int fd;

	tap_begin("l4: IPv4 connect to a VIP reaches an endpoint, getpeername shows the VIP");
	if (!base_mesh())
		goto out;
	fd = dial(VIP4, VIP_PORT, NULL);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
		EXPECT(tag_index(tag, etags, 4) >= 0);
		EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
		inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
		EXPECT_STR_EQ(addr, VIP4);
		EXPECT_EQ(ntohs(peer.sin_port), VIP_PORT);
		EXPECT_EQ(echo_bytes(fd, 1000), 0);
		close(fd);
	} else {
		tap_diag("connect: %s", strerror(-fd));
	}
out:
	tap_end();
}

static void test_rewrite_remote(void)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char tag[16];
	int fd;

	tap_begin("l4: a VIP whose endpoints are on another host (veth) is reached over TCP");
	if (!have_remote) {
		tap_skip("no veth + netns here");
		goto out;
	}
	if (!base_mesh())
		goto out;
	fd = dial("10.96.0.20", VIP_PORT, NULL);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
		EXPECT(!strcmp(tag, "r1") || !strcmp(tag, "r2"));
		EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
		EXPECT_EQ(peer.sin_addr.s_addr, inet_addr("10.96.0.20"));
		EXPECT_EQ(echo_bytes(fd, 100000), 0);
		close(fd);
	}
out:
	tap_end();
}

static void test_rewrite_v6(void)
{
	struct sockaddr_in6 peer;
	socklen_t len = sizeof(peer);
	char tag[16], addr[64];
	int fd;

	tap_begin("l4: IPv6 connect to a VIP reaches an endpoint, getpeername shows the VIP");
	if (!base_mesh()) {
		tap_end();
		return;
	}
	fd = dial(VIP6, VIP_PORT, NULL);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
		EXPECT(!strcmp(tag, "v6a") || !strcmp(tag, "v6b"));
		EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
		inet_ntop(AF_INET6, &peer.sin6_addr, addr, sizeof(addr));
		EXPECT_STR_EQ(addr, VIP6);
		EXPECT_EQ(ntohs(peer.sin6_port), VIP_PORT);
		EXPECT_EQ(echo_bytes(fd, 1000), 0);
		close(fd);
	} else {
		tap_diag("connect: %s", strerror(-fd));
	}
	tap_end();
}

static void test_passthrough(void)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	long long before, after;
	char tag[16];
	int fd;

	tap_begin("l4: connects to non-service addresses pass untouched");
	base_mesh();
	before = stat_get("node:", "passthrough");
	fd = dial("127.0.0.1", LOCAL_PORT + 2, NULL);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
		EXPECT_STR_EQ(tag, "e3");
		EXPECT_EQ(getpeername(fd, (void *)&peer, &len), 0);
		EXPECT_EQ(ntohs(peer.sin_port), LOCAL_PORT + 2);
		close(fd);
	}
	/* A VIP port that is not a service port is not a service either. */
	fd = dial(VIP4, 81, NULL);
	EXPECT(fd < 0);
	if (fd >= 0)
		close(fd);
	after = stat_get("node:", "passthrough");
	EXPECT(after >= before + 2);
	tap_end();
}

static void test_round_robin(void)
{
	char tag[16];
	int i, prev = -1, bad = 0, fails = 0, count[4] = {};

	tap_begin("l4: round robin rotates through the endpoints exactly");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	for (i = 0; i < 100; i++) {
		int idx;

		if (which(VIP4, VIP_PORT, NULL, tag, sizeof(tag))) {
			fails++;
			continue;
		}
		idx = tag_index(tag, etags, 4);
		if (idx < 0)
			continue;
		count[idx]++;
		if (prev >= 0 && idx != (prev + 1) % 4)
			bad++;
		prev = idx;
	}
	EXPECT_EQ(fails, 0);
	EXPECT_EQ(bad, 0);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(count[i], 25);
	tap_end();
}

/* @n connects; counts per endpoint tag into @count. */
static int spread(int n, int count[4])
{
	char tag[16];
	int i, fails = 0, idx;

	memset(count, 0, 4 * sizeof(int));
	for (i = 0; i < n; i++) {
		if (which(VIP4, VIP_PORT, NULL, tag, sizeof(tag))) {
			fails++;
			continue;
		}
		idx = tag_index(tag, etags, 4);
		if (idx >= 0)
			count[idx]++;
	}
	return fails;
}

static void test_random(void)
{
	int count[4], i;

	tap_begin("l4: random spreads 600 connects evenly (each 150 +- 45)");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "random", "")), 0);
	EXPECT_EQ(spread(600, count), 0);
	for (i = 0; i < 4; i++)
		if (!EXPECT(count[i] >= 105 && count[i] <= 195))
			tap_diag("endpoint e%d got %d", i + 1, count[i]);
	tap_end();
}

static void test_weighted(void)
{
	int count[4];

	tap_begin("l4: weighted 3:1 gets 750 +- 60 of 1000 connects");
	base_mesh();
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    lb: weighted\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18001, weight: 3}\n"
				"      - {address: 127.0.0.1, port: 18002, weight: 1}\n"), 0);
	EXPECT_EQ(spread(1000, count), 0);
	EXPECT_EQ(count[0] + count[1], 1000);
	if (!EXPECT(count[0] >= 690 && count[0] <= 810))
		tap_diag("e1 got %d, e2 %d", count[0], count[1]);
	tap_end();
}

#define NR_SOURCES 100
#define NR_SOURCES_ADD 1000
/* maglev over e1..e3: LOCAL_CLUSTER's endpoints without e4 */
#define MAGLEV_E1_E3							\
	"  - name: local\n"						\
	"    lb: maglev\n"						\
	"    endpoints:\n"						\
	"      - {address: 127.0.0.1, port: 18001}\n"			\
	"      - {address: 127.0.0.1, port: 18002}\n"			\
	"      - {address: 127.0.0.1, port: 18003}\n"

/* Sources 127.1.0.1, 127.1.0.2, ...: endpoint index of each of @n. */
static int maglev_round(int *ep_of, int n)
{
	char src[32], tag[16];
	int i, fails = 0;

	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "127.1.%d.%d", i / 200, i % 200 + 1);
		if (which(VIP4, VIP_PORT, src, tag, sizeof(tag))) {
			fails++;
			ep_of[i] = -1;
			continue;
		}
		ep_of[i] = tag_index(tag, etags, 4);
	}
	return fails;
}

static void test_maglev(void)
{
	int first[NR_SOURCES], again[NR_SOURCES], after[NR_SOURCES];
	int i, same = 0, moved_ok = 0, kept = 0, on_removed = 0, used[4] = {};

	tap_begin("l4: maglev keeps a source on one endpoint; removing one moves few others");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "maglev", "")), 0);
	EXPECT_EQ(maglev_round(first, NR_SOURCES), 0);
	EXPECT_EQ(maglev_round(again, NR_SOURCES), 0);
	for (i = 0; i < NR_SOURCES; i++) {
		same += first[i] == again[i];
		if (first[i] >= 0)
			used[first[i]]++;
	}
	EXPECT_EQ(same, NR_SOURCES);
	for (i = 0; i < 4; i++)
		EXPECT(used[i] >= NR_SOURCES / 10);
	/* Take e4 out (draining = out of the table). */
	EXPECT_EQ(apply_cluster(MAGLEV_E1_E3), 0);
	EXPECT_EQ(maglev_round(after, NR_SOURCES), 0);
	for (i = 0; i < NR_SOURCES; i++) {
		if (first[i] == 3) {
			on_removed++;
			moved_ok += after[i] >= 0 && after[i] != 3;
		} else {
			kept += after[i] == first[i];
		}
	}
	EXPECT_EQ(moved_ok, on_removed);
	if (!EXPECT(kept * 100 >= (NR_SOURCES - on_removed) * 95))
		tap_diag("only %d of %d sources kept their endpoint", kept,
			 NR_SOURCES - on_removed);
	tap_end();
}

/*
 * Adding a 4th endpoint should take over about a quarter of the sources
 * and leave the rest alone. Maglev's table is near-minimal, not minimal:
 * a handful of its 16381 slots also change hands between the old
 * endpoints (0.1% here), hence a 1% allowance for that.
 */
static void test_maglev_add(void)
{
	static int before[NR_SOURCES_ADD], after[NR_SOURCES_ADD];
	const int share = NR_SOURCES_ADD / 4, slack = NR_SOURCES_ADD * 6 / 100;
	int i, to_new = 0, among_old = 0;

	tap_begin("l4: maglev: adding a 4th endpoint moves about 1/4 of 1000 sources, to the new one");
	base_mesh();
	EXPECT_EQ(apply_cluster(MAGLEV_E1_E3), 0);
	EXPECT_EQ(maglev_round(before, NR_SOURCES_ADD), 0);
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "maglev", "")), 0);
	EXPECT_EQ(maglev_round(after, NR_SOURCES_ADD), 0);
	for (i = 0; i < NR_SOURCES_ADD; i++) {
		if (before[i] == after[i])
			continue;
		if (after[i] == 3)
			to_new++;
		else
			among_old++;
	}
	EXPECT(to_new + among_old <= share + slack);
	EXPECT(to_new >= share - slack);
	EXPECT(among_old * 100 <= NR_SOURCES_ADD);
	tap_diag("%d of %d sources moved to the new endpoint, %d between old ones",
		 to_new, NR_SOURCES_ADD, among_old);
	tap_end();
}

static void test_draining(void)
{
	char tag[16];
	int fd = -1, i, to_e1 = 0;

	tap_begin("l4: a draining endpoint takes no new connections, its open one keeps working");
	base_mesh();
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    lb: round_robin\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18001}\n"
				"      - {address: 127.0.0.1, port: 18002}\n"), 0);
	for (i = 0; i < 4 && fd < 0; i++) {
		fd = dial(VIP4, VIP_PORT, NULL);
		if (fd >= 0 && (read_tag(fd, tag, sizeof(tag)) || strcmp(tag, "e1"))) {
			close(fd);
			fd = -1;
		}
	}
	if (!EXPECT(fd >= 0)) {
		tap_end();
		return;
	}
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    lb: round_robin\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18001, state: draining}\n"
				"      - {address: 127.0.0.1, port: 18002}\n"), 0);
	for (i = 0; i < 40; i++) {
		if (which(VIP4, VIP_PORT, NULL, tag, sizeof(tag)) || strcmp(tag, "e2"))
			to_e1++;
	}
	EXPECT_EQ(to_e1, 0);
	EXPECT_EQ(echo_bytes(fd, 50000), 0);
	close(fd);
	tap_end();
}

/*
 * This node is in r1/za/s1; e1..e4 are in r1/za/s1, r1/zb, r2/zc, r3/zd;
 * @draining names the endpoints taken out ("e1 e2"), @failover is the
 * cluster's locality_lb.failover.
 */
static int apply_localities(const char *lb, const char *draining,
			    const char *failover)
{
	static const char *const where[] = { "r1/za/s1", "r1/zb", "r2/zc", "r3/zd" };
	static char body[2048], buf[8192];
	size_t n;
	int i;

	n = (size_t)snprintf(body, sizeof(body),
			     "  - name: local\n    lb: %s\n"
			     "    locality_lb: {failover: [%s]}\n    endpoints:\n",
			     lb, failover);
	for (i = 0; i < 4; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
				      "      - {address: 127.0.0.1, port: %d, locality: %s%s}\n",
				      18001 + i, where[i],
				      strstr(draining, etags[i]) ? ", state: draining" : "");
	n = (size_t)snprintf(buf, sizeof(buf), "node: {locality: r1/za/s1}\n");
	mesh_with(buf + n, sizeof(buf) - n, body);
	return apply(buf);
}

static void test_locality(void)
{
	static const char *const lbs[] = { "round_robin", "maglev" };
	static const struct {
		const char *draining, *failover;
		int want[4];	/* connects of 40 each endpoint gets; -1: some */
	} steps[] = {
		{ "", "{from: r1, to: r3}", { 40, 0, 0, 0 } },
		{ "e1", "{from: r1, to: r3}", { 0, 40, 0, 0 } },
		{ "e1 e2", "{from: r1, to: r3}", { 0, 0, 0, 40 } },
		{ "e1 e2", "", { 0, 0, -1, -1 } },
		{ "", "", { 40, 0, 0, 0 } },
	};
	char out[8192];
	int count[4], l, i, k;

	tap_begin("l4: locality_lb keeps new connections in the nearest healthy locality, fails over to the named region");
	base_mesh();
	for (l = 0; l < 2; l++) {
		for (i = 0; i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
			if (!EXPECT_EQ(apply_localities(lbs[l], steps[i].draining,
							steps[i].failover), 0))
				continue;
			EXPECT_EQ(spread(40, count), 0);
			for (k = 0; k < 4; k++) {
				bool ok = steps[i].want[k] >= 0 ? count[k] == steps[i].want[k] :
					  count[k] > 0 || !strcmp(lbs[l], "maglev");

				if (!EXPECT(ok))
					tap_diag("%s, draining '%s', failover [%s]: e%d got %d",
						 lbs[l], steps[i].draining, steps[i].failover,
						 k + 1, count[k]);
			}
			/* maglev: one source, one endpoint, of the two */
			if (steps[i].want[2] < 0 && !strcmp(lbs[l], "maglev"))
				EXPECT_EQ(count[2] + count[3], 40);
		}
	}
	/* the farther endpoints are there, standing by */
	EXPECT_EQ(apply_localities("round_robin", "", ""), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "dump"), 0);
	for (i = 0, k = 0; out[i]; i++)
		k += !strncmp(out + i, " standby\n", 9);
	if (!EXPECT_EQ(k, 3))
		tap_diag("dump: %s", out);
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	tap_end();
}

/*
 * Locality and outlier detection together, as Istio's locality failover:
 * the node's only same-zone endpoint is dead (nothing on 18095); one
 * refused connect ejects it, and with the whole nearest rank ejected the
 * connects go to the nearest endpoint standing by (e2, same region), not
 * to the farther regions.
 */
static void test_locality_outlier(void)
{
	char buf[8192];
	int count[4], fails;
	size_t n;

	tap_begin("l4: locality with outlier detection: the nearest rank ejected, connects go to the next rank");
	base_mesh();
	n = (size_t)snprintf(buf, sizeof(buf), "node: {locality: r1/za}\n");
	mesh_with(buf + n, sizeof(buf) - n,
		  "  - name: local\n"
		  "    locality_lb: {}\n"
		  "    outlier_detection: {consecutive_connect_failures: 1, split_external_local_origin_errors: true,\n"
		  "                        consecutive_5xx: 0, max_ejection_percent: 100, base_ejection_ms: 4000}\n"
		  "    endpoints:\n"
		  "      - {address: 127.0.0.1, port: 18095, locality: r1/za}\n"
		  "      - {address: 127.0.0.1, port: 18002, locality: r1/zb}\n"
		  "      - {address: 127.0.0.1, port: 18003, locality: r2/zc}\n"
		  "      - {address: 127.0.0.1, port: 18004, locality: r3/zd}\n");
	if (!EXPECT_EQ(apply(buf), 0)) {
		tap_end();
		return;
	}
	fails = spread(20, count);
	/* the dead one's connect, refused once; then zone r1/zb alone */
	EXPECT_EQ(fails, 1);
	if (!EXPECT(count[1] == 19 && !count[2] && !count[3]))
		tap_diag("e2 %d e3 %d e4 %d", count[1], count[2], count[3]);
	EXPECT_EQ(stat_get("endpoint local/127.0.0.1:18095 ", "ejected"), 1);
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	/* the next tests count the cluster's ejected endpoints: wait it out */
	EXPECT(WAIT_UNTIL(stat_get("cluster local ", "ejected") <= 0, 8000));
	tap_end();
}

static void test_circuit_breaker(void)
{
	long long refused;
	char tag[16];
	int a, b, c;

	tap_begin("l4: over max_connections a connect fails with ECONNREFUSED and the counter says why");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin",
					      "    max_connections: 2\n")), 0);
	EXPECT(wait_active("cluster local ", 0));
	refused = stat_get("cluster local ", "refused_overflow");
	a = dial(VIP4, VIP_PORT, NULL);
	b = dial(VIP4, VIP_PORT, NULL);
	EXPECT(a >= 0 && b >= 0);
	c = dial(VIP4, VIP_PORT, NULL);
	EXPECT_EQ(c, -ECONNREFUSED);
	EXPECT_EQ(stat_get("cluster local ", "refused_overflow"), refused + 1);
	EXPECT_EQ(stat_get("service web ", "refused_overflow") >= 1, 1);
	EXPECT_EQ(stat_get("cluster local ", "active"), 2);
	if (a >= 0)
		close(a);
	EXPECT(wait_active("cluster local ", 1));
	EXPECT_EQ(which(VIP4, VIP_PORT, NULL, tag, sizeof(tag)), 0);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	EXPECT(wait_active("cluster local ", 0));
	tap_end();
}

/*
 * connections_per_second on a tcp port, per source: a client's connects
 * over its bucket fail with ECONNREFUSED, counted; another client's
 * bucket is its own; a service without a limit is not touched.
 */
#define METERED_VIP	"10.96.0.30"
static void test_rate_limit(void)
{
	static char buf[8192], cfg[8192];
	int fds[12], ok = 0, refused = 0, other = 0, most, i, fd;
	double start, elapsed;
	char tag[16];

	tap_begin("l4: connections_per_second: connects over a client's bucket fail with ECONNREFUSED, counted");
	if (!base_mesh()) {
		tap_end();
		return;
	}
	mesh_with(buf, sizeof(buf), LOCAL_CLUSTER("local", "round_robin", ""));
	snprintf(cfg, sizeof(cfg),
		 "services:\n"
		 "  - name: metered\n"
		 "    addresses: [" METERED_VIP "]\n"
		 "    ports: [{port: 80}]\n"
		 "    cluster: local\n"
		 "    rate_limit: {connections_per_second: 2, burst: 3, per_source: true}\n"
		 "%s", strstr(buf, "services:\n") + strlen("services:\n"));
	if (!EXPECT_EQ(apply(cfg), 0)) {
		tap_end();
		return;
	}
	EXPECT_EQ(ctl(buf, sizeof(buf), "dump"), 0);
	EXPECT(strstr(buf, "service metered (id ") &&
	       strstr(buf, METERED_VIP ":80/tcp -> cluster local (id ") &&
	       strstr(buf, ") rate_limit connections: 1 per 500000000 ns, burst 3, per source\n"));
	if (tap_failed_now())
		tap_diag("dump said: %s", buf);
	/*
	 * A full bucket of 3, then 2 a second: at most 3 + floor(2 * t)
	 * connects conform over t seconds (+1: our clock and the program's
	 * differ by one connect's time at either end), at least the 3 of
	 * the burst.
	 */
	start = now_s();
	for (i = 0; i < 12; i++) {
		fds[i] = dial(METERED_VIP, 80, "127.0.0.5");
		if (fds[i] >= 0)
			ok++;
		else if (fds[i] == -ECONNREFUSED)
			refused++;
		else
			other++;
	}
	elapsed = now_s() - start;
	most = 3 + (int)(elapsed * 2);
	tap_diag("12 connects from 127.0.0.5 in %.3f s: %d connected, %d refused (bound 3..%d)",
		 elapsed, ok, refused, most + 1);
	EXPECT_EQ(other, 0);
	EXPECT(ok >= 3 && ok <= most + 1);
	EXPECT(refused > 0);
	EXPECT_EQ(stat_get("service metered ", "refused_rate_limited"), refused);
	EXPECT_EQ(stat_get("cluster local ", "refused_rate_limited"), refused);
	EXPECT_EQ(stat_get("rate_limit service metered connections:", "passed"), ok);
	EXPECT_EQ(stat_get("rate_limit service metered connections:", "limited"), refused);
	/* another source has a full bucket of its own */
	for (i = 0; i < 3; i++) {
		fd = dial(METERED_VIP, 80, "127.0.0.6");
		EXPECT(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	/* a connection that got through works; web has no limit */
	for (i = 0; i < 12; i++) {
		if (fds[i] < 0)
			continue;
		EXPECT_EQ(read_tag(fds[i], tag, sizeof(tag)), 0);
		close(fds[i]);
	}
	for (i = 0; i < 6; i++)
		EXPECT_EQ(which(VIP4, VIP_PORT, "127.0.0.5", tag, sizeof(tag)), 0);
	EXPECT_EQ(stat_get("service web ", "refused_rate_limited"), 0);
	EXPECT(wait_active("cluster local ", 0));
	tap_end();
}

static void test_connect_failed(void)
{
	long long failed, overflow;
	int fd;

	tap_begin("l4: a connect the endpoint refuses counts as failed and frees its slot");
	base_mesh();
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    max_connections: 1\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18099}\n"), 0);
	failed = stat_get("cluster local ", "connect_failed");
	fd = dial(VIP4, VIP_PORT, NULL);
	EXPECT_EQ(fd, -ECONNREFUSED);	/* from the endpoint's TCP this time */
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(stat_get("cluster local ", "connect_failed"), failed + 1);
	EXPECT(wait_active("cluster local ", 0));
	/* The slot came back: the next try reaches the endpoint again. */
	overflow = stat_get("cluster local ", "refused_overflow");
	EXPECT_EQ(stat_get("endpoint local/127.0.0.1:18099 ", "connects"), 1);
	fd = dial(VIP4, VIP_PORT, NULL);
	EXPECT_EQ(fd, -ECONNREFUSED);
	EXPECT_EQ(stat_get("endpoint local/127.0.0.1:18099 ", "connects"), 2);
	EXPECT_EQ(stat_get("cluster local ", "refused_overflow"), overflow);
	tap_end();
}

/* ---- outlier detection ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* One connect to web: 1 reached a live endpoint, 0 refused, -1 other. */
static int try_once(const char *src)
{
	char tag[16];
	int rc = which(VIP4, VIP_PORT, src, tag, sizeof(tag));

	if (!rc)
		return tag_index(tag, etags, 4) >= 0 ? 1 : -1;
	return rc == -ECONNREFUSED ? 0 : -1;
}

/* @n connects: how many were refused (-1 on anything else). */
static int refused_of(int n, const char *src)
{
	int i, refused = 0, r;

	for (i = 0; i < n; i++) {
		r = try_once(src);
		if (r < 0)
			return -1;
		refused += !r;
	}
	return refused;
}

/*
 * e1..e3 and a dead endpoint (nothing listens on 18096) in round robin,
 * ejected after 3 connect failures in a row for 1.5 s, then 3 s. The
 * dead endpoint gets exactly 3 connects before it is ejected (every 4th
 * of the stream), none while ejected, and connects again once its time
 * is up.
 */
#define OUTLIER_DEAD "endpoint local/127.0.0.1:18096 "
static void test_outlier_eject(void)
{
	static char out[262144];
	long long t_eject, t_back = -1, got;
	int i, r, refused;

	tap_begin("l4: outlier detection ejects a dead endpoint after 3 refused connects, for base x ejections");
	base_mesh();
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    lb: round_robin\n"
				"    outlier_detection: {consecutive_connect_failures: 3, split_external_local_origin_errors: true,\n"
				"                        base_ejection_ms: 1500, max_ejection_percent: 25}\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18001}\n"
				"      - {address: 127.0.0.1, port: 18002}\n"
				"      - {address: 127.0.0.1, port: 18003}\n"
				"      - {address: 127.0.0.1, port: 18096}\n"), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "dump"), 0);
	if (!EXPECT(strstr(out, "outlier_detection consecutive_5xx 5 consecutive_gateway_errors 0 consecutive_connect_failures 3 split_external_local_origin_errors interval_ms 10000 base_ejection_ms 1500 max_ejection_ms 300000 max_ejection_percent 25 min_health_percent 0")))
		tap_diag("%s", out);
	/* a stream of connects: every 4th is refused, the 3rd such ejects */
	refused = 0;
	t_eject = -1;
	for (i = 0; i < 40 && refused < 3; i++) {
		r = try_once(NULL);
		if (!EXPECT(r >= 0))
			break;
		if (!r && ++refused == 3)
			t_eject = now_ms();	/* just after the ejection */
	}
	EXPECT_EQ(refused, 3);
	EXPECT_EQ(refused_of(8, NULL), 0);	/* two rounds past it */
	/* ejected: nothing reaches it; back after 1.5 s */
	for (i = 0; i < 400 && t_back < 0; i++) {
		r = try_once(NULL);
		if (!EXPECT(r >= 0))
			break;
		if (!r)
			t_back = now_ms();
		else
			usleep(10000);
	}
	got = t_back - t_eject;
	tap_diag("ejected for %lld ms (base_ejection_ms 1500)", got);
	/* the connect that ejected it returned a little after the ejection */
	EXPECT(t_eject >= 0 && t_back >= 0 && got >= 1450 && got <= 2500);
	EXPECT_EQ(stat_get(OUTLIER_DEAD, "connects"), 4);
	EXPECT_EQ(stat_get(OUTLIER_DEAD, "returns"), 1);
	EXPECT_EQ(stat_get(OUTLIER_DEAD, "ejected"), 0);
	/* two more failures eject it again, now for 2 x 1.5 s */
	refused = refused_of(12, NULL);
	t_eject = now_ms();
	EXPECT_EQ(refused, 2);
	EXPECT_EQ(stat_get(OUTLIER_DEAD, "ejections"), 2);
	EXPECT_EQ(stat_get(OUTLIER_DEAD, "ejected"), 1);
	EXPECT_EQ(stat_get("cluster local ", "ejected"), 1);
	EXPECT_EQ(ctl(out, sizeof(out), "stats --prometheus"), 0);
	EXPECT(strstr(out, "kmesh_cluster_ejected_endpoints{cluster=\"local\"} 1\n"));
	EXPECT(strstr(out, "kmesh_endpoint_ejected{cluster=\"local\",endpoint=\"127.0.0.1:18096\"} 1\n"));
	while (now_ms() - t_eject < 2500) {
		if (!EXPECT_EQ(try_once(NULL), 1))
			break;
		usleep(20000);
	}
	EXPECT(now_ms() - t_eject < 3000);	/* still inside its 3 s */
	EXPECT_EQ(stat_get(OUTLIER_DEAD, "connects"), 6);
	tap_end();
}

/*
 * Three of four endpoints dead, max_ejection_percent 50: two are
 * ejected, the third never (one more would be 75%), and keeps failing.
 */
static void test_outlier_max_percent(void)
{
	long long ejections, overflow;
	int refused;

	tap_begin("l4: outlier detection ejects no more than max_ejection_percent of a cluster");
	base_mesh();
	/*
	 * The cluster's ejected count includes an endpoint an earlier test
	 * left ejected (its 3 s run out natively faster than in a VM): wait.
	 */
	EXPECT(WAIT_UNTIL(stat_get("cluster local ", "ejected") <= 0, 8000));
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    lb: round_robin\n"
				"    outlier_detection: {consecutive_5xx: 2, base_ejection_ms: 60000, max_ejection_percent: 50}\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18001}\n"
				"      - {address: 127.0.0.1, port: 18097}\n"
				"      - {address: 127.0.0.1, port: 18098}\n"
				"      - {address: 127.0.0.1, port: 18099}\n"), 0);
	ejections = stat_get("cluster local ", "ejections");
	overflow = stat_get("cluster local ", "ejections_overflow");
	refused = refused_of(40, NULL);
	EXPECT(refused >= 6);
	EXPECT_EQ(stat_get("cluster local ", "ejections"), ejections + 2);
	EXPECT(stat_get("cluster local ", "ejections_overflow") > overflow);
	EXPECT_EQ(stat_get("cluster local ", "ejected"), 2);
	/* e1 and the dead one left take turns from then on */
	refused = refused_of(20, NULL);
	EXPECT_EQ(refused, 10);
	tap_end();
}

/*
 * Every policy picks around an ejected endpoint: one refused connect
 * ejects it (threshold 1), then 100 connects all reach live endpoints
 * (maglev: from 100 sources, some of which hash to the dead endpoint).
 */
static void test_outlier_policies(void)
{
	static const char *const lbs[] = { "random", "weighted", "maglev" };
	static char out[262144];
	char body[1024], src[32], *rec, *eol;
	int i, k, refused;

	tap_begin("l4: random, weighted and maglev skip an ejected endpoint; the log says which connect ejected it");
	base_mesh();
	ctl(NULL, 0, "log --wait 0");	/* drain what earlier tests left */
	for (k = 0; k < 3; k++) {
		snprintf(body, sizeof(body),
			 "  - name: local\n"
			 "    lb: %s\n"
			 "    outlier_detection: {consecutive_connect_failures: 1, max_ejection_percent: 50}\n"
			 "    endpoints:\n"
			 "      - {address: 127.0.0.1, port: 18001}\n"
			 "      - {address: 127.0.0.1, port: 18002}\n"
			 "      - {address: 127.0.0.1, port: 18003}\n"
			 "      - {address: 127.0.0.1, port: %d}\n", lbs[k], 18093 + k);
		EXPECT_EQ(apply_cluster(body), 0);
		refused = 0;
		for (i = 0; i < 100; i++) {
			snprintf(src, sizeof(src), "127.1.0.%d", i + 1);
			refused += try_once(src) == 0;
		}
		if (!EXPECT(refused <= 1))
			tap_diag("%s: %d refused", lbs[k], refused);
	}
	/* random's refused connect: "... -> 127.0.0.1:18093 via local ... failed ... ejected gen N" */
	EXPECT_EQ(ctl(out, sizeof(out), "log --wait 0"), 0);
	rec = strstr(out, "-> 127.0.0.1:18093 via local ");
	eol = rec ? strchr(rec, '\n') : NULL;
	if (eol)
		*eol = '\0';
	if (!EXPECT(rec && strstr(rec, " failed ") && strstr(rec, " ejected gen ")))
		tap_diag("record: %s", rec ? rec : "(none)");
	tap_end();
}

static void test_redirect(void)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	long long before;
	char tag[16];
	int fd;

	tap_begin("l4: between local sockets data goes socket to socket, byte-exact (8 MiB)");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	before = stat_get("node:", "redirect_bytes");
	fd = dial(VIP4, VIP_PORT, NULL);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
		EXPECT_EQ(echo_bytes(fd, 8 << 20), 0);
		/* TCP itself carried nothing: only the handshake. */
		EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
		EXPECT_EQ(ti.tcpi_bytes_received, 0);
		EXPECT(ti.tcpi_bytes_acked <= 1);
		close(fd);
	}
	EXPECT(stat_get("node:", "redirect_bytes") >= before + 2 * (8 << 20));
	tap_end();
}

/* A service's close counters, to see what a test moved them by. */
struct svc_counts {
	long long closed, sent, received, redirected;
};

static void svc_counts_get(const char *svc, struct svc_counts *c)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "service %s ", svc);
	c->closed = stat_get(prefix, "closed");
	c->sent = stat_get(prefix, "bytes_sent");
	c->received = stat_get(prefix, "bytes_received");
	c->redirected = stat_get(prefix, "redirected");
}

/*
 * Once @conns more connections of @svc are accounted (closes are async),
 * its counters must have moved by exactly these numbers.
 */
static void svc_counts_expect(const char *svc, const struct svc_counts *was,
			      long long conns, long long sent,
			      long long received, long long redirected)
{
	struct svc_counts now;

	WAIT_UNTIL((svc_counts_get(svc, &now), now.closed >= was->closed + conns), 5000);
	EXPECT_EQ(now.closed, was->closed + conns);
	EXPECT_EQ(now.sent, was->sent + sent);
	EXPECT_EQ(now.received, was->received + received);
	EXPECT_EQ(now.redirected, was->redirected + redirected);
}

/* Counters of service @svc move by exactly one connection's bytes. */
static void accounting_case(const char *vip, const char *svc, size_t n,
			    bool redirected)
{
	struct svc_counts was;
	char tag[16];
	int fd;

	svc_counts_get(svc, &was);
	fd = dial(vip, VIP_PORT, NULL);
	if (!EXPECT(fd >= 0))
		return;
	EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
	EXPECT_EQ(echo_bytes(fd, n), 0);
	close(fd);
	svc_counts_expect(svc, &was, 1, (long long)n,
			  (long long)(n + strlen(tag) + 1), redirected ? 1 : 0);
}

#define NR_LOCAL_CONNS	128

/* Which way TCP itself carried payload: bit 0 out, bit 1 in. */
static int tcp_carried(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 3;
	return (ti.tcpi_bytes_acked > 2) | (ti.tcpi_bytes_received > 1) << 1;
}

/* Nothing but the handshake (and FINs) went through TCP itself. */
static bool tcp_carried_nothing(int fd)
{
	return !tcp_carried(fd);
}

/*
 * NR_LOCAL_CONNS connections to the four local echo endpoints, 64 bytes
 * each way after the greeting (@client_first: sent before reading it).
 * Counts into @via_tcp[0] those whose request went through TCP, into
 * @via_tcp[1] those whose answers did; returns how many were intact.
 */
static int local_conns(bool client_first, int via_tcp[2])
{
	unsigned char msg[64], back[64];
	int i, fd, ok = 0, way;
	char tag[16];

	via_tcp[0] = via_tcp[1] = 0;
	for (i = 0; i < NR_LOCAL_CONNS; i++) {
		memset(msg, 'a' + i % 26, sizeof(msg));
		fd = dial(VIP4, VIP_PORT, NULL);
		if (fd < 0)
			continue;
		if ((!client_first || write(fd, msg, sizeof(msg)) == (ssize_t)sizeof(msg)) &&
		    !read_tag(fd, tag, sizeof(tag)) && strlen(tag) == 2 &&
		    (client_first || write(fd, msg, sizeof(msg)) == (ssize_t)sizeof(msg)) &&
		    !read_full(fd, back, sizeof(back)) && !memcmp(msg, back, sizeof(msg))) {
			ok++;
			way = tcp_carried(fd);
			via_tcp[0] += way & 1;
			via_tcp[1] += way >> 1;
		}
		close(fd);
	}
	return ok;
}

static void test_redirect_every_conn(void)
{
	struct svc_counts was;
	int via_tcp[2];

	tap_begin("l4: between local sockets every connection is redirected both ways (128 of 128)");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	svc_counts_get("web", &was);
	EXPECT_EQ(local_conns(false, via_tcp), NR_LOCAL_CONNS);
	EXPECT_EQ(via_tcp[0], 0);
	EXPECT_EQ(via_tcp[1], 0);
	/* 64 bytes each way, plus the "eN\n" greeting */
	svc_counts_expect("web", &was, NR_LOCAL_CONNS, NR_LOCAL_CONNS * 64,
			  NR_LOCAL_CONNS * (64 + 3), NR_LOCAL_CONNS);
	tap_end();
}

/*
 * A client that sends right after connect (as HTTP clients do) can beat
 * the server's socket into the sockhash: its own direction then stays on
 * TCP for the connection's life (one path per direction keeps the bytes
 * in order). The server's direction is always redirected, so every
 * connection still counts as redirected.
 */
static void test_redirect_client_first(void)
{
	struct svc_counts was;
	int via_tcp[2];

	tap_begin("l4: a client that sends first is redirected too (128 of 128; its own bytes only once the server is in)");
	base_mesh();
	svc_counts_get("web", &was);
	EXPECT_EQ(local_conns(true, via_tcp), NR_LOCAL_CONNS);
	EXPECT_EQ(via_tcp[1], 0);
	tap_diag("%d of %d requests went through TCP (sent before the server joined)",
		 via_tcp[0], NR_LOCAL_CONNS);
	svc_counts_expect("web", &was, NR_LOCAL_CONNS, NR_LOCAL_CONNS * 64,
			  NR_LOCAL_CONNS * (64 + 3), NR_LOCAL_CONNS);
	tap_end();
}

#define HALF_BYTES	1000003

/*
 * The client writes, then shuts its side: the server (serve_at_eof) must
 * read every byte and then EOF before it answers, and the client must
 * get the whole answer and then EOF, with the data redirected both ways.
 */
static void test_half_close(void)
{
	unsigned char *out = malloc(HALF_BYTES), *in = malloc(HALF_BYTES + 1);
	size_t i, off = 0, got = 0;
	struct svc_counts was;
	int fd, spurious = 0;
	char tag[16];
	ssize_t n = -1;

	tap_begin("l4: half-close over the redirect path: data, FIN, then the whole reply and EOF, byte-exact");
	base_mesh();
	if (!EXPECT(out && in))
		goto out;
	EXPECT_EQ(apply_cluster("  - name: local\n"
				"    endpoints:\n"
				"      - {address: 127.0.0.1, port: 18005}\n"), 0);
	for (i = 0; i < HALF_BYTES; i++)
		out[i] = (unsigned char)(i * 13 + i / 251);
	svc_counts_get("web", &was);
	fd = dial(VIP4, VIP_PORT, NULL);
	if (!EXPECT(fd >= 0))
		goto out;
	EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
	EXPECT_STR_EQ(tag, "h1");
	while (off < HALF_BYTES) {
		n = write(fd, out + off, HALF_BYTES - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	EXPECT_EQ(off, HALF_BYTES);
	EXPECT_EQ(shutdown(fd, SHUT_WR), 0);
	while (got <= HALF_BYTES) {
		n = read_blocking(fd, in + got, HALF_BYTES + 1 - got, &spurious);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	EXPECT_EQ(n, 0);	/* EOF: neither an error nor the 5 s timeout */
	EXPECT_EQ(got, HALF_BYTES);
	EXPECT(got == HALF_BYTES && !memcmp(in, out, HALF_BYTES));
	EXPECT(tcp_carried_nothing(fd));
	if (spurious)
		tap_diag("read() said EAGAIN %d times before the data came (the kernel's sockmap receive path)",
			 spurious);
	close(fd);
	svc_counts_expect("web", &was, 1, HALF_BYTES,
			  HALF_BYTES + (long long)strlen(tag) + 1, 1);
out:
	free(out);
	free(in);
	/* the four echo endpoints again, for the tests after this one */
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	tap_end();
}

static void test_accounting(void)
{
	tap_begin("l4: close accounting counts exactly the bytes sent and received (redirected)");
	if (base_mesh())
		accounting_case(VIP4, "web", 123457, true);
	tap_end();
}

static void test_accounting_tcp(void)
{
	tap_begin("l4: close accounting counts exactly the bytes sent and received (over TCP, remote endpoint)");
	if (!have_remote)
		tap_skip("no veth + netns here");
	else if (base_mesh())
		accounting_case("10.96.0.20", "remote", 654321, false);
	tap_end();
}

static void test_access_log(void)
{
	static char out[262144];
	char want[64], tag[16];
	int fd;

	tap_begin("l4: the access log gets a record per connection, with its numbers");
	base_mesh();
	ctl(NULL, 0, "log --wait 0");	/* drain what earlier tests left */
	fd = dial(VIP4, VIP_PORT, NULL);
	if (EXPECT(fd >= 0)) {
		EXPECT_EQ(read_tag(fd, tag, sizeof(tag)), 0);
		EXPECT_EQ(echo_bytes(fd, 4242), 0);
		close(fd);
	}
	EXPECT_EQ(ctl(out, sizeof(out), "log --json --count 1 --wait 3"), 0);
	EXPECT(strstr(out, "\"service\":\"web\""));
	EXPECT(strstr(out, "\"service_address\":\"" VIP4 ":80\""));
	EXPECT(strstr(out, "\"result\":\"closed\""));
	EXPECT(strstr(out, "\"bytes_sent\":4242,"));
	snprintf(want, sizeof(want), "\"bytes_received\":%zu,", 4242 + strlen(tag) + 1);
	EXPECT(strstr(out, want));
	EXPECT(strstr(out, "\"redirected\":true"));
	if (tap_failed_now())
		tap_diag("log said: %s", out);
	/* The plain format: one line per record. */
	fd = dial(VIP4, VIP_PORT, NULL);
	if (fd >= 0) {
		read_tag(fd, tag, sizeof(tag));
		close(fd);
	}
	EXPECT_EQ(ctl(out, sizeof(out), "log --count 1 --wait 3"), 0);
	EXPECT(strstr(out, " web " VIP4 ":80 -> 127.0.0.1:1800"));
	tap_end();
}

static void test_bad_apply(void)
{
	static char out[4096], good[8192];
	long long gen = ctl_generation();
	const char *bad =
		"services:\n"				/* 1 */
		"  - name: web\n"			/* 2 */
		"    addresses: [" VIP4 "]\n"		/* 3 */
		"    ports: [{port: 80}]\n"		/* 4 */
		"    cluster: local\n"			/* 5 */
		"clusters:\n"				/* 6 */
		"  - name: local\n"			/* 7 */
		"    endpoints:\n"			/* 8 */
		"      - address: 127.0.0.1\n"		/* 9 */
		"        port: 18003\n"			/* 10 */
		"      - address: 127.0.0.1\n"		/* 11 */
		"        port: 18004\n"			/* 12 */
		"        weight: 0\n";			/* 13 */
	char tag[16];
	int i, other = 0;

	tap_begin("l4: a bad file changes nothing and names its line and field");
	base_mesh();
	mesh_with(good, sizeof(good), "  - name: local\n"
		  "    endpoints:\n"
		  "      - {address: 127.0.0.1, port: 18001}\n");
	EXPECT_EQ(apply(good), 0);
	gen = ctl_generation();
	EXPECT_EQ(write_file("/tmp/l4-bad.yaml", bad), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "apply -f /tmp/l4-bad.yaml"), 1);
	if (!EXPECT(strstr(out, "/tmp/l4-bad.yaml:13: clusters[0].endpoints[1].weight: expected an integer 1..65535")))
		tap_diag("kmeshctl said: %s", out);
	EXPECT_EQ(write_file("/tmp/l4-bad.yaml", "services:\n  - name: web\n    adresses: []\n"), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "apply -f /tmp/l4-bad.yaml"), 1);
	EXPECT(strstr(out, "/tmp/l4-bad.yaml:3: services[0].adresses: unknown field"));
	EXPECT_EQ(ctl_generation(), gen);
	for (i = 0; i < 20; i++)
		if (which(VIP4, VIP_PORT, NULL, tag, sizeof(tag)) || strcmp(tag, "e1"))
			other++;
	EXPECT_EQ(other, 0);
	tap_end();
}

struct hammer {
	volatile bool stop;
	int ok, fails, seen[4];
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	char tag[16];
	int idx;

	while (!h->stop) {
		if (which(VIP4, VIP_PORT, NULL, tag, sizeof(tag))) {
			h->fails++;
			continue;
		}
		idx = tag_index(tag, etags, 4);
		if (idx < 0)
			h->fails++;
		else
			h->seen[idx]++;
		h->ok++;
	}
	return NULL;
}

static void test_switch_under_load(void)
{
	static char a[8192], b[8192];
	struct hammer h = {};
	long long gen;
	pthread_t t;
	int i;

	tap_begin("l4: good files switch generations atomically; no connect fails across 12 switches");
	base_mesh();
	mesh_with(a, sizeof(a), "  - name: local\n    endpoints:\n"
		  "      - {address: 127.0.0.1, port: 18001}\n"
		  "      - {address: 127.0.0.1, port: 18002}\n");
	/* Another cluster name: new cluster id, new endpoint ids. */
	snprintf(b, sizeof(b),
		 "services:\n"
		 "  - name: web\n"
		 "    addresses: [" VIP4 "]\n"
		 "    ports: [{port: 80}]\n"
		 "    cluster: other\n"
		 "clusters:\n"
		 "  - name: other\n"
		 "    lb: random\n"
		 "    endpoints:\n"
		 "      - {address: 127.0.0.1, port: 18003}\n"
		 "      - {address: 127.0.0.1, port: 18004}\n");
	gen = ctl_generation();
	pthread_create(&t, NULL, hammer_run, &h);
	for (i = 0; i < 12; i++) {
		int before = __atomic_load_n(&h.ok, __ATOMIC_RELAXED);

		EXPECT_EQ(apply(i % 2 ? a : b), 0);
		/* every generation carries traffic before the next switch */
		EXPECT(WAIT_UNTIL(__atomic_load_n(&h.ok, __ATOMIC_RELAXED) > before, 5000));
	}
	h.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(ctl_generation(), gen + 12);
	EXPECT_EQ(h.fails, 0);
	EXPECT(h.ok > 0);
	EXPECT(h.seen[0] + h.seen[1] > 0 && h.seen[2] + h.seen[3] > 0);
	tap_diag("%d connects during the switches", h.ok);
	tap_end();
}

static void test_adopt(void)
{
	static char out[8192];
	long long connects, gen;
	char tag[16];
	pid_t logger;
	int fd, status;

	tap_begin("l4: killing kmeshctl never stops traffic; up again adopts the pinned state");
	base_mesh();
	EXPECT_EQ(apply_cluster(LOCAL_CLUSTER("local", "round_robin", "")), 0);
	fd = dial(VIP4, VIP_PORT, NULL);
	EXPECT(fd >= 0 && !read_tag(fd, tag, sizeof(tag)));
	logger = fork();
	if (!logger) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp(kmeshctl, kmeshctl, "log", (char *)NULL);
		_exit(127);
	}
	/* killed while it waits for records, not before it got there */
	EXPECT(WAIT_UNTIL(proc_sleeping_as(logger, "kmeshctl"), 5000));
	EXPECT_EQ(kill(logger, SIGKILL), 0);
	EXPECT_EQ(waitpid(logger, &status, 0), logger);
	EXPECT(WIFSIGNALED(status));
	EXPECT_EQ(which(VIP4, VIP_PORT, NULL, tag, sizeof(tag)), 0);
	connects = stat_get("service web ", "connects");
	gen = ctl_generation();
	EXPECT_EQ(ctl(out, sizeof(out), "up --cgroup %s", cg.path), 0);
	EXPECT(strstr(out, "adopted the pinned state"));
	EXPECT_EQ(ctl_generation(), gen);
	EXPECT_EQ(stat_get("service web ", "connects"), connects);
	if (fd >= 0) {
		EXPECT_EQ(echo_bytes(fd, 300000), 0);
		close(fd);
	}
	EXPECT_EQ(which(VIP4, VIP_PORT, NULL, tag, sizeof(tag)), 0);
	EXPECT(tag_index(tag, etags, 4) >= 0);
	/* Another cgroup is refused while this state is up. */
	EXPECT(ctl(out, sizeof(out), "up --cgroup %s", cg.home) != 0);
	EXPECT(strstr(out, "kmesh is up on another cgroup"));
	tap_end();
}

static void test_down(void)
{
	char out[1024];
	int fd;

	tap_begin("l4: kmeshctl down detaches everything and removes the pins");
	base_mesh();
	EXPECT_EQ(ctl(out, sizeof(out), "down"), 0);
	is_up = false;
	EXPECT(strstr(out, "kmesh down: detached and unpinned"));
	EXPECT(!path_exists(getenv("KMESH_PIN_DIR") ? getenv("KMESH_PIN_DIR") :
			    "/sys/fs/bpf/kmesh"));
	fd = dial(VIP4, VIP_PORT, NULL);
	EXPECT(fd < 0);		/* nothing routes the VIP now */
	if (fd >= 0)
		close(fd);
	fd = dial("127.0.0.1", LOCAL_PORT, NULL);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(ctl(out, sizeof(out), "status"), 0);
	EXPECT(strstr(out, "l4 data plane: down"));
	tap_end();
}

static void cleanup(void)
{
	mesh_teardown(&cg, &remote);
	is_up = false;
}

static const struct subtest subtests[] = {
	SUBTEST(up),
	SUBTEST(rewrite_v4),
	SUBTEST(rewrite_remote),
	SUBTEST(rewrite_v6),
	SUBTEST(passthrough),
	SUBTEST(round_robin),
	SUBTEST(random),
	SUBTEST(weighted),
	SUBTEST(maglev),
	SUBTEST(maglev_add),
	SUBTEST(draining),
	SUBTEST(locality),
	SUBTEST(locality_outlier),
	SUBTEST(circuit_breaker),
	SUBTEST(rate_limit),
	SUBTEST(connect_failed),
	SUBTEST(outlier_eject),
	SUBTEST(outlier_max_percent),
	SUBTEST(outlier_policies),
	SUBTEST(redirect),
	SUBTEST(redirect_every_conn),
	SUBTEST(redirect_client_first),
	SUBTEST(half_close),
	SUBTEST(accounting),
	SUBTEST(accounting_tcp),
	SUBTEST(access_log),
	SUBTEST(bad_apply),
	SUBTEST(switch_under_load),
	SUBTEST(adopt),
	SUBTEST(down),
};

void test_l4(void)
{
	static const struct {
		const char *addr;
		int port;
		const char *tag;
		srv_handler serve;
	} local[] = {
		{ "127.0.0.1", 18001, "e1", serve_conn }, { "127.0.0.1", 18002, "e2", serve_conn },
		{ "127.0.0.1", 18003, "e3", serve_conn }, { "127.0.0.1", 18004, "e4", serve_conn },
		{ "127.0.0.1", HALF_PORT, "h1", serve_at_eof },
		{ "::1", 18011, "v6a", serve_conn }, { "::1", 18012, "v6b", serve_conn },
	};
	struct server_opts meshed = {}, outside = {};
	size_t i;
	bool ok = true;

	kmeshctl = kmeshctl_path();
	run_cmd(NULL, 0, "ip link set lo up");
	tap_begin("l4: topology: meshed cgroup, local and remote echo endpoints");
	if (!EXPECT_EQ(test_cgroup_setup(&cg, "kmesh-l4-test"), 0)) {
		tap_end();
		return;
	}
	/* Local servers run in the meshed cgroup: both ends are mesh sockets. */
	meshed.cgroup = cg.path;
	for (i = 0; i < ARRAY_LEN(local); i++)
		ok &= EXPECT(server_start(local[i].addr, local[i].port, local[i].tag,
					  local[i].serve, &meshed) >= 0);
	/* Remote servers live outside the mesh: they stay in the home cgroup. */
	have_remote = remote_ns_setup(&remote, "kmv0", "10.99.0.1", REMOTE_ADDR);
	outside.netns = remote.path;
	outside.cgroup = cg.home;
	have_remote = have_remote &&
		      server_start(REMOTE_ADDR, REMOTE_PORT, "r1", serve_conn, &outside) >= 0 &&
		      server_start(REMOTE_ADDR, REMOTE_PORT + 1, "r2", serve_conn, &outside) >= 0;
	if (!have_remote)
		tap_diag("no veth + netns: remote-endpoint checks are skipped");
	tap_end();
	if (ok)
		run_subtests("l4", subtests, ARRAY_LEN(subtests));
	cleanup();
}

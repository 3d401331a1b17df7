// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults injected while traffic flows, and what a user must see instead of
 * damage: kmeshctl killed with SIGKILL (mid-apply too), rmmod under L7
 * traffic, a storm of applies switching between two configs, a backend
 * killed with connections open, configs larger than the data plane holds,
 * module parameters changed at runtime.
 *
 * Backends are the benchmark's benchsrv (answers name themselves in an
 * "x-backend" header), background traffic is its loadgen; single requests
 * are made here with plain sockets so each outcome can be judged.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "torture.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-faults.yaml"
#define BIG_FILE	"/tmp/kmesh-faults-big.yaml"
#define VIP_L4		"10.96.10.10"
#define VIP_L7		"10.96.10.20"
#define VIP_STORM	"10.96.10.30"
#define PARAMS		"/sys/module/kmesh/parameters/"

/*
 * The base config, and the apply storm's two configs A and B on top of it.
 * A sends the storm service to cluster sa ("a") and denies /deny-a; B sends
 * it to sb ("b") and denies /deny-b. Under A, sb holds the trap backend,
 * under B, sa does: an answer from "trap" means a connect was balanced
 * with one generation's service and another's endpoints.
 */
#define BASE								\
	"services:\n"							\
	"  - name: f-l4\n"						\
	"    addresses: [" VIP_L4 "]\n"					\
	"    ports: [{port: 80}]\n"					\
	"    cluster: f-l4\n"						\
	"  - name: f-l7\n"						\
	"    addresses: [" VIP_L7 "]\n"					\
	"    ports: [{port: 80, protocol: http}]\n"			\
	"    cluster: f-web\n"						\
	"  - name: f-storm\n"						\
	"    addresses: [" VIP_STORM "]\n"				\
	"    ports: [{port: 80, protocol: http}]\n"

#define BASE_CLUSTERS							\
	"  - name: f-l4\n"						\
	"    endpoints: [{address: 127.0.0.1, port: 19201}]\n"	\
	"  - name: f-web\n"						\
	"    endpoints: [{address: 127.0.0.1, port: 19211}]\n"	\
	"  - name: f-api\n"						\
	"    endpoints: [{address: 127.0.0.1, port: 19221}]\n"

#define BASE_ROUTES							\
	"routes:\n"							\
	"  - service: f-l7\n"						\
	"    http:\n"							\
	"      - name: api\n"						\
	"        match: [{uri: {prefix: /api}}]\n"			\
	"        route: [{cluster: f-api}]\n"				\
	"      - name: web\n"						\
	"        route: [{cluster: f-web}]\n"

static const char config_a[] = BASE
	"    cluster: sa\n"
	"clusters:\n" BASE_CLUSTERS
	"  - name: sa\n"
	"    endpoints: [{address: 127.0.0.1, port: 19231}]\n"
	"  - name: sb\n"
	"    endpoints: [{address: 127.0.0.1, port: 19239}]\n"
	BASE_ROUTES
	"  - service: f-storm\n"
	"    http:\n"
	"      - name: all\n"
	"        route: [{cluster: sa}]\n"
	"authorization:\n"
	"  - name: storm-deny\n"
	"    service: f-storm\n"
	"    action: DENY\n"
	"    rules:\n"
	"      - to: [{operation: {paths: [/deny-a]}}]\n";

static const char config_b[] = BASE
	"    cluster: sb\n"
	"clusters:\n" BASE_CLUSTERS
	"  - name: sa\n"
	"    endpoints: [{address: 127.0.0.1, port: 19239}]\n"
	"  - name: sb\n"
	"    endpoints: [{address: 127.0.0.1, port: 19232}]\n"
	BASE_ROUTES
	"  - service: f-storm\n"
	"    http:\n"
	"      - name: all\n"
	"        route: [{cluster: sb}]\n"
	"authorization:\n"
	"  - name: storm-deny\n"
	"    service: f-storm\n"
	"    action: DENY\n"
	"    rules:\n"
	"      - to: [{operation: {paths: [/deny-b]}}]\n";

/* Config A and one more service with routes: one more route table. */
static const char config_c[] = BASE
	"    cluster: sa\n"
	"  - name: f-extra\n"
	"    addresses: [10.96.10.40]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: f-web\n"
	"clusters:\n" BASE_CLUSTERS
	"  - name: sa\n"
	"    endpoints: [{address: 127.0.0.1, port: 19231}]\n"
	"  - name: sb\n"
	"    endpoints: [{address: 127.0.0.1, port: 19239}]\n"
	BASE_ROUTES
	"  - service: f-extra\n"
	"    http:\n"
	"      - name: all\n"
	"        route: [{cluster: f-web}]\n";

static bool up;

/* What the /api route reaches: per request in kfunc mode; in fallback
 * mode the connection goes to the service's own cluster. */
static const char *api_expect(void)
{
	return kfunc_common_hook() ? "x-backend: api" : "x-backend: web";
}

/* ---- one request on a new connection ---- */

struct answer {
	int status;		/* 0: no HTTP answer */
	char backend[16];	/* x-backend, "" if none */
	int err;		/* errno of a failed connect/write/read */
};

static int dial_vip(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Read one answer on @fd (head + Content-Length body); 2 s at most. */
static void read_answer(int fd, struct answer *a)
{
	char buf[4096], *end, *p;
	size_t have = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 2000) != 1) {
			a->err = ETIMEDOUT;
			return;
		}
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0) {
			a->err = n ? errno : ECONNRESET;
			return;
		}
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &a->status) != 1)
		a->status = 0;
	p = strcasestr(buf, "\r\nx-backend: ");
	if (p && p < end)
		sscanf(p + 13, "%15[^\r]", a->backend);
}

static void request(const char *addr, const char *path, struct answer *a)
{
	char req[256];
	int fd, n;

	memset(a, 0, sizeof(*a));
	fd = dial_vip(addr);
	if (fd < 0) {
		a->err = errno;
		return;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: faults\r\n\r\n", path);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		a->err = errno;
	else
		read_answer(fd, a);
	close(fd);
}

static bool answered(const struct answer *a, int status, const char *backend)
{
	return !a->err && a->status == status &&
	       (!backend || !strcmp(a->backend, backend));
}

/* ---- background traffic ---- */

struct traffic {
	pid_t pid;
	char log[96];
};

/* loadgen for @seconds; @new_conn: a connection per request. */
static void traffic_start(struct traffic *t, const char *name, const char *target,
			  const char *path, const char *expect, int conns,
			  double seconds, bool new_conn)
{
	char c[16], d[16];
	char *argv[] = { "loadgen", "http", "--target", (char *)target,
			 "--conns", c, "--duration", d, "--warmup", "0",
			 "--host", "faults", "--paths", (char *)path,
			 "--expect", (char *)expect, new_conn ? "--new-conn" : NULL,
			 NULL };

	snprintf(c, sizeof(c), "%d", conns);
	snprintf(d, sizeof(d), "%.1f", seconds);
	snprintf(t->log, sizeof(t->log), "/tmp/kmesh-load/faults-%s.log", name);
	t->pid = tt_spawn(t->log, argv);
}

/* Wait for it; its requests (0 if it failed) and errors. */
static long long traffic_end(struct traffic *t, long long *errors)
{
	char buf[1024] = "", *p;
	int status;

	*errors = -1;
	if (t->pid <= 0 || waitpid(t->pid, &status, 0) != t->pid)
		return 0;
	tt_stop(t->pid);
	read_text(t->log, buf, sizeof(buf));
	p = strstr(buf, "errors=");
	if (p)
		*errors = strtoll(p + 7, NULL, 10);
	p = strstr(buf, "requests=");
	if (!p || !WIFEXITED(status) || WEXITSTATUS(status)) {
		tap_diag("loadgen: %s", buf);
		return 0;
	}
	return strtoll(p + 9, NULL, 10);
}

static void expect_clean(const char *what, struct traffic *t)
{
	long long errors, n = traffic_end(t, &errors);

	tap_diag("%s: %lld requests, %lld errors", what, n, errors);
	EXPECT(n > 0);
	EXPECT_EQ(errors, 0);
}

/* ---- the tests ---- */

static struct backend {
	int port;
	const char *tag;
	pid_t pid;
} backends[] = {
	{ 19201, "l4", 0 }, { 19211, "web", 0 }, { 19221, "api", 0 },
	{ 19231, "a", 0 }, { 19232, "b", 0 }, { 19239, "trap", 0 },
};

static void test_setup(void)
{
	size_t i;

	tap_begin("faults: topology: meshed cgroup, six backends, kmeshctl up");
	signal(SIGPIPE, SIG_IGN);
	run_cmd(NULL, 0, "kmeshctl down");
	if (!kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	EXPECT_EQ(tt_cgroup_setup("kmesh-faults-test"), 0);
	EXPECT_EQ(tt_join_meshed(), 0);
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		backends[i].pid = tt_benchsrv("127.0.0.1", backends[i].port,
					      backends[i].tag);
		EXPECT(backends[i].pid > 0);
	}
	EXPECT_EQ(tt_apply(MESH_FILE, config_a, true), 0);
	up = !tap_failed_now();
	tap_end();
}

/* Whatever ran before: the module loaded and config A applied. */
static bool faults_base(void)
{
	if (!up) {
		tap_skip("no mesh");
		return false;
	}
	if (!kmesh_loaded() && !EXPECT_EQ(kmesh_modprobe(NULL), 0))
		return false;
	return EXPECT_EQ(tt_join_meshed(), 0) &&
	       EXPECT_EQ(tt_apply(MESH_FILE, config_a, false), 0);
}

static void spawn_and_kill(char *const argv[], useconds_t after)
{
	pid_t pid = tt_spawn("/dev/null", argv);

	usleep(after);
	tt_stop(pid);
}

static void test_kill_kmeshctl(void)
{
	static char out[4096];
	char *apply[] = { "kmeshctl", "apply", "-f", MESH_FILE, NULL };
	char *logger[] = { "kmeshctl", "log", NULL };
	char *metrics[] = { "kmeshctl", "metrics", "--listen", "127.0.0.1:15099", NULL };
	struct traffic l4, l7;
	int i;

	tap_begin("faults: kill -9 of kmeshctl (apply, log, metrics) during L4 and L7 traffic loses no connection");
	if (!faults_base()) {
		tap_end();
		return;
	}
	traffic_start(&l4, "kill-l4", VIP_L4 ":80", "/", "x-backend: l4", 20, 6, false);
	traffic_start(&l7, "kill-l7", VIP_L7 ":80", "/api/x", api_expect(), 8, 6, true);
	for (i = 0; i < 12; i++) {
		/* Each apply is killed a little later: before, in and after
		 * its switch of generations. */
		spawn_and_kill(apply, 20000 + 25000 * (useconds_t)i);
		spawn_and_kill(i % 2 ? logger : metrics, 100000);
	}
	expect_clean("L4 keep-alive", &l4);
	expect_clean("L7 connection per request", &l7);
	/* Nothing is left locked or half-done. */
	EXPECT_EQ(ctl(out, sizeof(out), "apply -f " MESH_FILE), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "up --cgroup %s", tt_cgroup()), 0);
	EXPECT(strstr(out, "adopted the pinned state"));
	EXPECT_EQ(ctl_stat("cluster f-l4 ", "active", -1), 0);
	EXPECT_EQ(ctl_stat("cluster f-api ", "active", -1), 0);
	tap_end();
}

static void test_rmmod_under_traffic(void)
{
	struct traffic l7;
	struct answer a;
	char out[512];
	int i, refused = 0;

	tap_begin("faults: rmmod kmesh during L7 traffic is refused or harmless; no request lost");
	if (!faults_base()) {
		tap_end();
		return;
	}
	traffic_start(&l7, "rmmod-l7", VIP_L7 ":80", "/api/r", api_expect(), 8, 5, true);
	usleep(1000000);
	for (i = 0; i < 3 && kmesh_loaded(); i++) {
		refused += run_cmd(out, sizeof(out), "rmmod kmesh") != 0;
		usleep(300000);
	}
	expect_clean("L7 during rmmod", &l7);
	tap_diag("rmmod refused %d of %d times (%s); module %s", refused, i,
		 refused ? out : "", kmesh_loaded() ? "loaded" : "gone");
	if (kfunc_common_hook()) {
		/* The data plane calls the module's kfuncs: it must stay. */
		EXPECT_EQ(refused, 3);
		EXPECT(kmesh_loaded());
	}
	if (!kmesh_loaded()) {
		/* Fallback mode did not need it: bring it and the tables back. */
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
		EXPECT_EQ(tt_apply(MESH_FILE, config_a, false), 0);
	}
	request(VIP_L7, "/api/after", &a);
	EXPECT(answered(&a, 200, api_expect() + strlen("x-backend: ")));
	tap_end();
}

/* ---- apply storm ---- */

struct storm {
	volatile bool stop;
	int applies, apply_failures;
	int counts[3][5];	/* path x enum verdict */
	char first_bad[160];
};

static const char *const storm_paths[3] = { "/ok", "/deny-a", "/deny-b" };

enum verdict { AS_A, AS_B, MIXED, FAILED, SPLIT };

static enum verdict judge(int path, const struct answer *a)
{
	/* Under A: /deny-a 403, else "a"; under B: /deny-b 403, else "b". */
	bool as_a = path == 1 ? answered(a, 403, NULL) : answered(a, 200, "a");
	bool as_b = path == 2 ? answered(a, 403, NULL) : answered(a, 200, "b");

	if (a->err || !a->status)
		return FAILED;
	if (as_a)
		return AS_A;
	if (as_b)
		return AS_B;
	/*
	 * The endpoint is chosen once per connection (at connect(), or with
	 * deferred connect at the first request) and authorization is
	 * checked per request when sk_msg sees it, each with one generation:
	 * an apply in between legitimately pairs one generation's endpoint
	 * with the next one's policy (a new policy applies to the next
	 * request of an open connection). Still never the trap, never an
	 * error.
	 */
	if (a->status == 200 &&
	    (!strcmp(a->backend, "a") || !strcmp(a->backend, "b")))
		return SPLIT;
	return MIXED;
}

static void *storm_traffic(void *arg)
{
	struct storm *s = arg;
	enum verdict v;
	struct answer a;
	int i;

	for (i = 0; !s->stop; i++) {
		request(VIP_STORM, storm_paths[i % 3], &a);
		v = judge(i % 3, &a);
		__atomic_fetch_add(&s->counts[i % 3][v], 1, __ATOMIC_RELAXED);
		if ((v == MIXED || v == FAILED) && !s->first_bad[0])
			snprintf(s->first_bad, sizeof(s->first_bad),
				 "%s: status %d backend '%s' err %s",
				 storm_paths[i % 3], a.status, a.backend,
				 a.err ? strerror(a.err) : "none");
	}
	return NULL;
}

/* Apply B and A alternately (separate files: no rewrite races), for
 * @seconds and @min_applies at least; end on A. */
static void storm_applies(struct storm *s, double seconds, int min_applies)
{
	struct timespec t0, t;
	double el;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (ctl(NULL, 0, "apply -f %s",
			   s->applies % 2 ? "/tmp/kmesh-storm-a.yaml" :
					    "/tmp/kmesh-storm-b.yaml"))
			s->apply_failures++;
		s->applies++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
	} while (el < seconds || s->applies < min_applies || s->applies % 2);
}

static void settle_bpf(const struct tt_mem *want, struct tt_mem *got)
{
	/* Old generations' maps are freed after an RCU grace period. */
	WAIT_UNTIL((tt_mem_sample(got), got->bpf_maps == want->bpf_maps), 5000);
}

static void test_apply_storm(void)
{
	static struct storm s;
	struct tt_mem before, after;
	struct timespec t0, t1;
	pthread_t th[2];
	long long gen;
	double secs;
	int i, p;

	tap_begin("faults: apply storm (A, B, A, ... as fast as kmeshctl goes) under traffic: each answer is A's or B's, no error, nothing left over");
	if (!faults_base()) {
		tap_end();
		return;
	}
	EXPECT_EQ(write_file("/tmp/kmesh-storm-a.yaml", config_a), 0);
	EXPECT_EQ(write_file("/tmp/kmesh-storm-b.yaml", config_b), 0);
	/* Each config once with traffic, so that per-route counters of both
	 * exist before the first sample: what grows after that is left over. */
	for (i = 0; i < 3; i++) {
		struct answer a;

		EXPECT_EQ(ctl(NULL, 0, "apply -f /tmp/kmesh-storm-%c.yaml",
				 i % 2 ? 'b' : 'a'), 0);
		for (p = 0; p < 3; p++)
			request(VIP_STORM, storm_paths[p], &a);
	}
	tt_mem_sample(&before);
	tt_mem_diag("before", &before);
	gen = ctl_generation();
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, storm_traffic, &s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	storm_applies(&s, 3, 6);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s.stop = true;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	tap_diag("%d applies in %.2f s (%.0f/s), %d failed; generation %lld -> %lld",
		 s.applies, secs, s.applies / secs, s.apply_failures, gen, ctl_generation());
	for (p = 0; p < 3; p++)
		tap_diag("%-8s A's answer %d, B's answer %d, mixed %d, error %d, connect and request in successive generations %d",
			 storm_paths[p], s.counts[p][AS_A], s.counts[p][AS_B],
			 s.counts[p][MIXED], s.counts[p][FAILED], s.counts[p][SPLIT]);
	if (s.first_bad[0])
		tap_diag("first bad answer: %s", s.first_bad);
	EXPECT_EQ(s.apply_failures, 0);
	EXPECT_EQ(ctl_generation(), gen + s.applies);
	for (p = 0; p < 3; p++) {
		EXPECT_EQ(s.counts[p][MIXED], 0);
		EXPECT_EQ(s.counts[p][FAILED], 0);
		EXPECT(s.counts[p][AS_A] > 0);	/* both configs were seen */
		EXPECT(s.counts[p][AS_B] > 0);
	}
	settle_bpf(&before, &after);
	tt_mem_diag("after", &after);
	EXPECT_EQ(after.bpf_maps, before.bpf_maps);
	EXPECT_EQ(after.bpf_progs, before.bpf_progs);
	EXPECT_EQ(after.map_entries, before.map_entries);
	EXPECT_EQ(after.route_tables, before.route_tables);
	EXPECT_EQ(after.route_table_bytes, before.route_table_bytes);
	EXPECT(after.vmalloc_kb - before.vmalloc_kb < 1024);
	tap_end();
}

/* ---- a backend dies with connections open ---- */

static void test_backend_dies(void)
{
	static const struct { const char *vip, *svc, *cluster; int backend; } paths[] = {
		{ VIP_L4, "f-l4", "f-l4", 0 }, { VIP_L7, "f-l7", "f-web", 1 },
	};
	long long connects, closed, failed;
	int fds[16], i, k, seen_end;
	char prefix[64], cl[64];
	struct backend *b;
	struct answer a;

	tap_begin("faults: a backend killed mid-connection: clients see EOF or a reset, counters account it, nothing stays stuck");
	if (!faults_base()) {
		tap_end();
		return;
	}
	for (k = 0; k < 2; k++) {
		b = &backends[paths[k].backend];
		snprintf(prefix, sizeof(prefix), "service %s ", paths[k].svc);
		snprintf(cl, sizeof(cl), "cluster %s ", paths[k].cluster);
		connects = ctl_stat(prefix, "connects", -1);
		closed = ctl_stat(prefix, "closed", -1);
		failed = ctl_stat(prefix, "connect_failed", -1);
		for (i = 0; i < 16; i++) {
			char req[] = "GET /web/k HTTP/1.1\r\nHost: faults\r\n\r\n";

			memset(&a, 0, sizeof(a));
			fds[i] = dial_vip(paths[k].vip);
			if (fds[i] < 0 ||
			    send(fds[i], req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
				a.err = errno;
			else
				read_answer(fds[i], &a);
			EXPECT(answered(&a, 200, b->tag));
		}
		EXPECT_EQ(ctl_stat(cl, "active", -1), 16);
		tt_stop(b->pid);
		seen_end = 0;
		for (i = 0; i < 16; i++) {
			char buf[64];
			struct pollfd pfd = { .fd = fds[i], .events = POLLIN };

			if (fds[i] < 0)
				continue;
			/* EOF, or a reset: never silence. */
			if (poll(&pfd, 1, 3000) == 1 && read(fds[i], buf, sizeof(buf)) <= 0)
				seen_end++;
			close(fds[i]);
		}
		EXPECT_EQ(seen_end, 16);
		/* closes are counted as the kernel gets to them */
		EXPECT(WAIT_UNTIL(ctl_stat(cl, "active", -1) == 0, 5000));
		EXPECT_EQ(ctl_stat(prefix, "connects", -1), connects + 16);
		EXPECT_EQ(ctl_stat(prefix, "closed", -1), closed + 16);
		/* With the backend gone a new connection is refused (L4), or
		 * answered 503 (a deferred connect has a request to answer). */
		request(paths[k].vip, "/web/gone", &a);
		if (!EXPECT(a.err == ECONNREFUSED || a.status == 503))
			tap_diag("%s with its backend gone: status %d, %s", paths[k].svc,
				 a.status, a.err ? strerror(a.err) : "no error");
		EXPECT(ctl_stat(prefix, "connect_failed", -1) > failed || a.status == 503);
		/* A new backend on the same port serves again: no stuck state. */
		b->pid = tt_benchsrv("127.0.0.1", b->port, b->tag);
		EXPECT(b->pid > 0);
		request(paths[k].vip, "/web/again", &a);
		if (!EXPECT(answered(&a, 200, b->tag))) {
			tap_diag("%s after its backend came back: status %d, backend '%s', %s",
				 paths[k].svc, a.status, a.backend,
				 a.err ? strerror(a.err) : "no error");
			for (i = 1; i <= 10 && !answered(&a, 200, b->tag); i++) {
				usleep(200000);
				request(paths[k].vip, "/web/again", &a);
			}
			tap_diag("%s: %s after %d more tries", paths[k].svc,
				 answered(&a, 200, b->tag) ? "answered" : "still failing", i - 1);
		}
	}
	tap_end();
}

/* ---- configs bigger than the data plane ---- */

/* @n services with one address each, or one cluster set over the limit. */
static int write_big(const char *path, int services, int clusters, int eps,
		     int routes)
{
	FILE *f = fopen(path, "w");
	int i, j;

	if (!f)
		return -1;
	fprintf(f, "services:\n");
	fprintf(f, "  - name: big\n    addresses: [10.97.0.1]\n"
		   "    ports: [{port: 80, protocol: http}]\n    cluster: c0\n");
	for (i = 1; i < services; i++)
		fprintf(f, "  - name: s%d\n    addresses: [10.97.%d.%d]\n"
			   "    ports: [{port: 80}]\n    cluster: c0\n",
			i, i / 250 + 1, i % 250 + 1);
	fprintf(f, "clusters:\n");
	for (i = 0; i < clusters; i++) {
		fprintf(f, "  - name: c%d\n    endpoints:\n", i);
		for (j = 0; j < eps; j++)
			fprintf(f, "      - {address: 10.98.%d.%d, port: 80}\n",
				i, j % 250 + 1 + j / 250);
	}
	if (routes) {
		fprintf(f, "routes:\n  - service: big\n    http:\n");
		for (i = 0; i < routes; i++)
			fprintf(f, "      - name: r%d\n        match: [{uri: {exact: /r%d}}]\n"
				   "        route: [{cluster: c0}]\n", i, i);
	}
	return fclose(f);
}

static void expect_refused(const char *what, const char *message)
{
	static char out[8192];
	long long gen = ctl_generation();
	struct answer a;

	EXPECT(ctl(out, sizeof(out), "apply -f " BIG_FILE) != 0);
	if (!EXPECT(strstr(out, message)))
		tap_diag("%s: kmeshctl said: %.300s", what, out);
	else
		tap_diag("%s: %.200s", what, out);
	EXPECT_EQ(ctl_generation(), gen);
	/* The running config still works, L4 and L7. */
	request(VIP_L7, "/api/still", &a);
	EXPECT(answered(&a, 200, api_expect() + strlen("x-backend: ")));
	request(VIP_L4, "/", &a);
	EXPECT(answered(&a, 200, "l4"));
}

static void test_over_capacity(void)
{
	tap_begin("faults: more services, endpoints or routes than the data plane holds: a clear error, the old config keeps working");
	if (!faults_base()) {
		tap_end();
		return;
	}
	/* 1024 service names: ids exist for 1023. */
	EXPECT_EQ(write_big(BIG_FILE, 1024, 1, 1, 0), 0);
	expect_refused("1024 services", "at most 1023 entries");
	/* 33 clusters x 250 endpoints: 8250 > 8192 endpoints. */
	EXPECT_EQ(write_big(BIG_FILE, 1, 33, 250, 0), 0);
	expect_refused("8250 endpoints", "more than 8192 endpoints in all clusters");
	/* 257 endpoints in one cluster. */
	EXPECT_EQ(write_big(BIG_FILE, 1, 1, 257, 0), 0);
	expect_refused("257 endpoints in a cluster", "at most 256 entries");
	/* 65 routes on one service: 64 routes and rules together. */
	EXPECT_EQ(write_big(BIG_FILE, 1, 1, 1, 65), 0);
	expect_refused("65 routes", "at most 64");
	unlink(BIG_FILE);
	tap_end();
}

/* ---- module parameters at runtime ---- */

static int write_param(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return write_file(path, value);
}

static long long read_param(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return read_text(path, buf, sizeof(buf)) ? -1 : strtoll(buf, NULL, 10);
}

/* A GET with @extra header lines on a new connection to the L7 service. */
static void request_headers(int extra, struct answer *a)
{
	char req[1024];
	int fd, n, i;

	memset(a, 0, sizeof(*a));
	n = snprintf(req, sizeof(req), "GET /api/h HTTP/1.1\r\nHost: faults\r\n");
	for (i = 0; i < extra; i++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "X-H%d: %d\r\n", i, i);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	fd = dial_vip(VIP_L7);
	if (fd < 0) {
		a->err = errno;
		return;
	}
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		a->err = errno;
	else
		read_answer(fd, a);
	close(fd);
}

static void test_params(void)
{
	static char out[4096];
	static const struct { const char *name, *bad; } bad[] = {
		{ "max_tables", "0" }, { "max_tables", "1048577" },
		{ "max_table_kbytes", "63" }, { "max_table_kbytes", "lots" },
		{ "max_head_bytes", "255" }, { "max_head_bytes", "65536" },
		{ "max_headers", "0" }, { "max_headers", "33" },
		{ "connect_failover", "9" }, { "connect_failover", "-1" },
	};
	const char *api = api_expect() + strlen("x-backend: ");
	long long gen, tables;
	struct answer a;
	size_t i;

	tap_begin("faults: module parameters at runtime: bad values refused; max_tables and max_headers take effect at once");
	if (!faults_base()) {
		tap_end();
		return;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long long was = read_param(bad[i].name);

		EXPECT(write_param(bad[i].name, bad[i].bad) != 0);
		EXPECT_EQ(read_param(bad[i].name), was);
	}
	/* Fewer tables allowed than there are: a config with one more
	 * service with routes is refused; with room again it applies. */
	tables = tt_mem_route_tables();
	EXPECT(tables > 0);
	gen = ctl_generation();
	/* Replacing a table is always allowed; adding one needs room. */
	EXPECT_EQ(write_param("max_tables", "1"), 0);
	EXPECT_EQ(write_file(BIG_FILE, config_c), 0);
	EXPECT(ctl(out, sizeof(out), "apply -f " BIG_FILE) != 0);
	if (!EXPECT(strstr(out, "the module refused the table")))
		tap_diag("max_tables: %.300s", out);
	EXPECT_EQ(ctl_generation(), gen);
	request(VIP_L7, "/api/p", &a);
	EXPECT(answered(&a, 200, api));
	EXPECT_EQ(write_param("max_tables", "16384"), 0);
	EXPECT_EQ(ctl(out, sizeof(out), "apply -f " MESH_FILE), 0);
	EXPECT_EQ(ctl_generation(), gen + 1);
	EXPECT_EQ(tt_mem_route_tables(), tables);	/* none left behind */
	unlink(BIG_FILE);
	/* The module parses heads in kfunc mode only. */
	if (kfunc_common_hook()) {
		EXPECT_EQ(write_param("max_headers", "3"), 0);
		request_headers(1, &a);		/* Host + 1 */
		EXPECT(answered(&a, 200, api));
		request_headers(4, &a);		/* Host + 4 */
		if (!EXPECT(!answered(&a, 200, NULL)))
			tap_diag("5 headers under max_headers=3 were passed");
		tap_diag("5 headers, max_headers=3: status %d, %s", a.status,
			 a.err ? strerror(a.err) : "no error");
		EXPECT_EQ(write_param("max_headers", "32"), 0);
		request_headers(4, &a);
		EXPECT(answered(&a, 200, api));
	}
	tap_end();
}

static const struct subtest subtests[] = {
	SUBTEST(kill_kmeshctl),
	SUBTEST(rmmod_under_traffic),
	SUBTEST(apply_storm),
	SUBTEST(backend_dies),
	SUBTEST(over_capacity),
	SUBTEST(params),
};

void test_faults(void)
{
	test_setup();
	run_subtests("faults", subtests, ARRAY_LEN(subtests));
	run_cmd(NULL, 0, "kmeshctl down");
	tt_stop_all();
	tt_cgroup_free();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load: many concurrent keep-alive connections and many requests through
 * both data paths, with zero errors, and kernel memory as flat after as
 * before.
 *
 *   L4: a tcp service (VIP, connect-time round robin over four local
 *       backends); client and backends are in the meshed cgroup, so the
 *       data goes socket to socket through sk_msg redirect.
 *   L7: an http service with routes (/api to one cluster, the rest to
 *       another) and authorization (DENY /admin*, ALLOW GET for Host
 *       "load"); in kfunc mode each connection is routed by its first
 *       request (deferred connect), every request is checked in sk_msg.
 *
 * The client is the benchmark's loadgen (closed loop, one request in
 * flight per connection, each answer checked for status 2xx and for the
 * backend it names), the backends are benchsrv; both run as children in a
 * network namespace of their own, so that its sysctls can be raised for
 * many connections and leaving it frees every socket it held (TIME_WAIT
 * included) before memory is sampled again.
 *
 * Size (TCG is slow): KMESH_LOAD_SIZE=full (`make vmtest-load`) is 10,000
 * connections and 1,000,000 requests per path; otherwise the CI size,
 * 1,000 connections and 20,000 requests per path. KMESH_LOAD_CONNS and
 * KMESH_LOAD_REQUESTS override either.
 *
 * Memory bound after the run, against a sample taken after a warm-up
 * round of the same shape: unreclaimable slab grows by less than 4 MiB +
 * 4 bytes per request (an object leaked per connection or per request
 * shows at any size), vmalloc by less than 1 MiB, BPF maps and programs
 * and the module's reference count are back where they were, and kmesh's
 * table of local sockets is empty again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "l4_bpf.h"
#include "net_helpers.h"
#include "route_tables.h"
#include "tap.h"
#include "tests.h"
#include "torture.h"
#include "util.h"

#define MESH_FILE	"/tmp/kmesh-load.yaml"
#define LOG_DIR		"/tmp/kmesh-load"
#define VIP_L4		"10.96.9.10"
#define VIP_L7		"10.96.9.20"

/* What loadgen processes reported, summed. */
struct tt_loadgen {
	unsigned long long requests, errors;
	double seconds;
};

/* ---- shared with faults.c (torture.h) ---- */

static struct test_cgroup cg;
static pid_t children[64];
static int nr_children;
static int home_netns = -1;

int tt_join_meshed(void)
{
	return join_cgroup(cg.path);
}

const char *tt_cgroup(void)
{
	return cg.path;
}

int tt_cgroup_setup(const char *name)
{
	mkdir(LOG_DIR, 0755);
	return test_cgroup_setup(&cg, name);
}

void tt_cgroup_free(void)
{
	test_cgroup_free(&cg);
}

int tt_apply(const char *file, const char *yaml, bool up)
{
	static char out[4096];
	int rc;

	if (write_file(file, yaml))
		return -1;
	if (up)
		rc = ctl(out, sizeof(out), "up --cgroup %s -f %s", cg.path, file);
	else
		rc = ctl(out, sizeof(out), "apply -f %s", file);
	if (rc)
		tap_diag("kmeshctl %s: %s", up ? "up" : "apply", out);
	return rc;
}

pid_t tt_spawn(const char *log, char *const argv[])
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
		execvp(argv[0], argv);
		_exit(127);
	}
	if (nr_children < (int)(sizeof(children) / sizeof(children[0])))
		children[nr_children++] = pid;
	return pid;
}

static bool file_has(const char *path, const char *text)
{
	char buf[4096];

	return !read_text(path, buf, sizeof(buf)) && strstr(buf, text);
}

pid_t tt_benchsrv(const char *addr, int port, const char *tag)
{
	char log[128], portbuf[16];
	char *argv[] = { "benchsrv", "http", (char *)addr, portbuf, "--tag",
			 (char *)tag, "--max-seconds", "7200", NULL };
	bool exited = false;
	pid_t pid;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(log, sizeof(log), LOG_DIR "/benchsrv-%d.log", port);
	unlink(log);	/* an earlier server's "ready" must not count */
	pid = tt_spawn(log, argv);
	if (pid > 0 && WAIT_UNTIL(file_has(log, "benchsrv: ready") ||
				  (exited = waitpid(pid, NULL, WNOHANG) == pid), 5000) &&
	    !exited)
		return pid;
	tap_diag("benchsrv %s:%d did not start", addr, port);
	return -1;
}

static void forget(pid_t pid)
{
	int i;

	for (i = 0; i < nr_children; i++)
		if (children[i] == pid)
			children[i] = children[--nr_children];
}

void tt_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	forget(pid);
}

void tt_stop_all(void)
{
	while (nr_children)
		tt_stop(children[nr_children - 1]);
}

static void parse_loadgen(const char *log, struct tt_loadgen *r)
{
	char buf[4096];
	const char *p;

	r->requests = r->errors = 0;
	r->seconds = 0;
	if (read_text(log, buf, sizeof(buf)))
		return;
	if ((p = strstr(buf, "requests=")))
		r->requests = strtoull(p + 9, NULL, 10);
	if ((p = strstr(buf, "errors=")))
		r->errors = strtoull(p + 7, NULL, 10);
	if ((p = strstr(buf, "seconds=")))
		r->seconds = strtod(p + 8, NULL);
}

/* One kind of client traffic: loadgen processes against one target. */
struct load_group {
	const char *target, *path, *expect;
	int conns;
	long requests;
	struct tt_loadgen sum;
};

/*
 * Run every group's loadgen processes at once (@procs per group, each with
 * its share of connections and requests); sum each group's results.
 */
static int run_loadgens(struct load_group *g, int groups, int procs,
			double max_seconds)
{
	char log[8][32][128], c[8][16], n[8][24], d[24];
	pid_t pid[8][32];
	int i, k, status, rc = 0;

	if (procs < 1 || procs > 32 || groups < 1 || groups > 8)
		return -1;
	snprintf(d, sizeof(d), "%.0f", max_seconds);
	for (k = 0; k < groups; k++) {
		memset(&g[k].sum, 0, sizeof(g[k].sum));
		snprintf(c[k], sizeof(c[k]), "%d", g[k].conns / procs);
		snprintf(n[k], sizeof(n[k]), "%ld", g[k].requests / procs + 1);
		for (i = 0; i < procs; i++) {
			char *argv[] = { "loadgen", "http", "--target", (char *)g[k].target,
					 "--conns", c[k], "--requests", n[k], "--duration", d,
					 "--warmup", "0", "--host", "load", "--paths",
					 (char *)g[k].path, "--expect", (char *)g[k].expect, NULL };

			snprintf(log[k][i], sizeof(log[k][i]), LOG_DIR "/loadgen-%d-%d.log", k, i);
			pid[k][i] = tt_spawn(log[k][i], argv);
		}
	}
	for (k = 0; k < groups; k++) {
		for (i = 0; i < procs; i++) {
			struct tt_loadgen r;

			if (pid[k][i] < 0 || waitpid(pid[k][i], &status, 0) != pid[k][i] ||
			    !WIFEXITED(status) || WEXITSTATUS(status))
				rc = -1;
			forget(pid[k][i]);
			parse_loadgen(log[k][i], &r);
			if (!r.requests) {
				char buf[512] = "";

				read_text(log[k][i], buf, sizeof(buf));
				tap_diag("loadgen %s: %s", g[k].path, buf);
			}
			g[k].sum.requests += r.requests;
			g[k].sum.errors += r.errors;
			if (r.seconds > g[k].sum.seconds)
				g[k].sum.seconds = r.seconds;
		}
	}
	return rc;
}

int tt_netns_enter(void)
{
	home_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_netns < 0 || unshare(CLONE_NEWNET))
		return -1;
	/* Per namespace: backlogs and ports for thousands of connections. */
	if (write_file("/proc/sys/net/core/somaxconn", "65535") ||
	    write_file("/proc/sys/net/ipv4/tcp_max_syn_backlog", "65535") ||
	    write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535"))
		return -1;
	return run_cmd(NULL, 0, "ip link set lo up");
}

void tt_netns_leave(void)
{
	if (home_netns < 0)
		return;
	if (setns(home_netns, CLONE_NEWNET))
		tap_diag("setns back: %s", strerror(errno));
	close(home_netns);
	home_netns = -1;
}

/* ---- memory ---- */

static long long meminfo_kb(const char *name)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	size_t n = strlen(name);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtoll(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Give every slab cache's empty slabs back, so that what stays is in use. */
static void shrink_slabs(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
		write_file(path, "1");
	}
	closedir(d);
}

static long long fdinfo_value(int fd, const char *key)
{
	char path[64], line[128];
	long long v = -1;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n))
			v = strtoll(line + n, NULL, 10);
	fclose(f);
	return v;
}

static void sample_bpf(struct tt_mem *m)
{
	__u32 id = 0;
	long long memlock = 0;

	m->bpf_maps = m->bpf_progs = 0;
	while (!bpf_map_get_next_id(id, &id)) {
		int fd = bpf_map_get_fd_by_id(id);

		m->bpf_maps++;
		if (fd < 0)
			continue;
		memlock += fdinfo_value(fd, "memlock:");
		close(fd);
	}
	m->bpf_map_memlock_kb = memlock / 1024;
	id = 0;
	while (!bpf_prog_get_next_id(id, &id))
		m->bpf_progs++;
}

static long long count_entries(const char *pin)
{
	char key[512], next[512];
	long long n = 0;
	int fd = bpf_obj_get(pin);
	void *prev = NULL;

	if (fd < 0)
		return -1;
	while (!bpf_map_get_next_key(fd, prev, next) && n < 1000000) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	close(fd);
	return n;
}

/* Entries in every pinned kmesh map that has keys to walk (hashes). */
static long long count_all_entries(void)
{
	DIR *d = opendir("/sys/fs/bpf/kmesh/maps");
	struct bpf_map_info info;
	__u32 len;
	struct dirent *e;
	char path[512];
	long long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/bpf/kmesh/maps/%s", e->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_SOCKHASH ||
		     info.type == BPF_MAP_TYPE_LPM_TRIE))
			n += count_entries(path);
		close(fd);
	}
	closedir(d);
	return n;
}

static void sample_tables(struct tt_mem *m)
{
	struct kmesh_table_info info;
	int fd = kmesh_dev_open();

	m->route_tables = m->route_table_bytes = -1;
	if (fd < 0)
		return;
	if (!kmesh_table_info(fd, &info)) {
		m->route_tables = info.tables;
		m->route_table_bytes = (long long)info.bytes;
	}
	close(fd);
}

long long tt_mem_route_tables(void)
{
	struct tt_mem m;

	sample_tables(&m);
	return m.route_tables;
}

void tt_mem_sample(struct tt_mem *m)
{
	char buf[32];
	long long last = -1;
	int i;

	/* Sockets and netns teardown free through RCU and work queues:
	 * sample until unreclaimable slab stops falling (at most ~10 s). */
	for (i = 0; i < 20; i++) {
		shrink_slabs();
		m->sunreclaim_kb = meminfo_kb("SUnreclaim");
		if (last >= 0 && m->sunreclaim_kb >= last - 64)
			break;
		last = m->sunreclaim_kb;
		usleep(500000);
	}
	m->slab_kb = meminfo_kb("Slab");
	m->vmalloc_kb = meminfo_kb("VmallocUsed");
	sample_bpf(m);
	m->kmesh_refcnt = read_text("/sys/module/kmesh/refcnt", buf, sizeof(buf)) ?
			  -1 : strtoll(buf, NULL, 10);
	m->local_socks = count_entries("/sys/fs/bpf/kmesh/maps/kmesh_local_socks");
	m->map_entries = count_all_entries();
	sample_tables(m);
}

void tt_mem_diag(const char *what, const struct tt_mem *m)
{
	tap_diag("%s: slab %lld KiB (unreclaimable %lld), vmalloc %lld KiB, %lld BPF maps (memlock %lld KiB, %lld entries in kmesh's hashes), %lld BPF programs, kmesh refcnt %lld, local sockets %lld, route tables %lld (%lld bytes)",
		 what, m->slab_kb, m->sunreclaim_kb, m->vmalloc_kb, m->bpf_maps,
		 m->bpf_map_memlock_kb, m->map_entries, m->bpf_progs,
		 m->kmesh_refcnt, m->local_socks, m->route_tables,
		 m->route_table_bytes);
}

/* ---- the load area ---- */

static const char mesh[] =
	"services:\n"
	"  - name: load-l4\n"
	"    addresses: [" VIP_L4 "]\n"
	"    ports: [{port: 80}]\n"
	"    cluster: l4\n"
	"  - name: load-l7\n"
	"    addresses: [" VIP_L7 "]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: l7-web\n"
	"clusters:\n"
	"  - name: l4\n"
	"    lb: round_robin\n"
	"    endpoints:\n"
	"      - {address: 127.0.0.1, port: 19101}\n"
	"      - {address: 127.0.0.1, port: 19102}\n"
	"      - {address: 127.0.0.1, port: 19103}\n"
	"      - {address: 127.0.0.1, port: 19104}\n"
	"  - name: l7-web\n"
	"    endpoints:\n"
	"      - {address: 127.0.0.1, port: 19111}\n"
	"      - {address: 127.0.0.1, port: 19112}\n"
	"  - name: l7-api\n"
	"    endpoints:\n"
	"      - {address: 127.0.0.1, port: 19121}\n"
	"      - {address: 127.0.0.1, port: 19122}\n"
	"routes:\n"
	"  - service: load-l7\n"
	"    http:\n"
	"      - name: api\n"
	"        match: [{uri: {prefix: /api}}]\n"
	"        route: [{cluster: l7-api}]\n"
	"      - name: web\n"
	"        route: [{cluster: l7-web}]\n"
	"authorization:\n"
	"  - name: no-admin\n"
	"    service: load-l7\n"
	"    action: DENY\n"
	"    rules:\n"
	"      - to: [{operation: {paths: [\"/admin*\"]}}]\n"
	"  - name: load-only\n"
	"    service: load-l7\n"
	"    rules:\n"
	"      - to: [{operation: {methods: [GET], hosts: [load]}}]\n";

static const struct {
	int port;
	const char *tag;
} backends[] = {
	{ 19101, "l4" }, { 19102, "l4" }, { 19103, "l4" }, { 19104, "l4" },
	{ 19111, "web" }, { 19112, "web" }, { 19121, "api" }, { 19122, "api" },
};

static int load_conns, load_procs;
static long load_requests;
static bool load_up;

static void load_size(void)
{
	bool full = getenv("KMESH_LOAD_SIZE") &&
		    !strcmp(getenv("KMESH_LOAD_SIZE"), "full");

	load_conns = full ? 10000 : 1000;
	load_requests = full ? 1000000 : 20000;
	if (getenv("KMESH_LOAD_CONNS"))
		load_conns = atoi(getenv("KMESH_LOAD_CONNS"));
	if (getenv("KMESH_LOAD_REQUESTS"))
		load_requests = atol(getenv("KMESH_LOAD_REQUESTS"));
	/* loadgen holds at most 4096 connections: several processes, which
	 * also use both vCPUs. */
	load_procs = load_conns / 2500 + 2;
}

/* Backends, then the L4 path, then both L7 routes at once. */
struct round {
	struct load_group l4, l7[2];
	long long peak_sockets;
	int rc;
};

static long long tcp_inuse(void)
{
	char buf[512], *p;

	if (read_text("/proc/net/sockstat", buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "TCP: inuse ");
	return p ? strtoll(p + 11, NULL, 10) : -1;
}

/* Run loadgen groups while watching how many sockets are open. */
static int run_groups(struct load_group *g, int groups, long long *peak)
{
	pid_t watcher;
	int pipefd[2], rc;
	long long got = 0;

	if (pipe(pipefd))
		return -1;
	watcher = fork();
	if (!watcher) {
		long long max = 0, v;

		close(pipefd[0]);
		for (;;) {	/* until the parent's SIGTERM */
			v = tcp_inuse();
			if (v > max) {
				max = v;
				if (write(pipefd[1], &max, sizeof(max)) != sizeof(max))
					_exit(0);
			}
			usleep(200000);
		}
	}
	close(pipefd[1]);
	rc = run_loadgens(g, groups, load_procs, load_requests >= 1000000 ? 3000 : 600);
	kill(watcher, SIGTERM);
	waitpid(watcher, NULL, 0);
	while (read(pipefd[0], &got, sizeof(got)) == sizeof(got))
		if (got > *peak)
			*peak = got;
	close(pipefd[0]);
	return rc;
}

static void run_round(int conns, long requests, struct round *rd)
{
	size_t i;

	memset(rd, 0, sizeof(*rd));
	rd->l4 = (struct load_group){ VIP_L4 ":80", "/", "x-backend: l4",
				      conns, requests, {} };
	rd->l7[0] = (struct load_group){ VIP_L7 ":80", "/api/items",
					 kfunc_common_hook() ? "x-backend: api" : "x-backend: ",
					 conns / 2, requests / 2, {} };
	rd->l7[1] = (struct load_group){ VIP_L7 ":80", "/web/page", "x-backend: web",
					 conns / 2, requests / 2, {} };
	if (tt_netns_enter()) {
		tap_diag("netns: %s", strerror(errno));
		rd->rc = -1;
		return;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (tt_benchsrv("127.0.0.1", backends[i].port, backends[i].tag) < 0)
			rd->rc = -1;
	if (!rd->rc) {
		rd->rc |= run_groups(&rd->l4, 1, &rd->peak_sockets);
		rd->rc |= run_groups(rd->l7, 2, &rd->peak_sockets);
	}
	tt_stop_all();
	tt_netns_leave();
}

static void test_up(void)
{
	struct rlimit rl = { 1 << 17, 1 << 17 };

	tap_begin("load: kmeshctl up with a tcp service and an http service with routes and authorization");
	load_size();
	tap_diag("size: %d connections, %ld requests per path (KMESH_LOAD_SIZE=%s)",
		 load_conns, load_requests,
		 getenv("KMESH_LOAD_SIZE") ? getenv("KMESH_LOAD_SIZE") : "ci");
	/* Every connection is a descriptor at each end. */
	EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	run_cmd(NULL, 0, "kmeshctl down");
	if (!kmesh_loaded())
		kmesh_modprobe(NULL);
	EXPECT_EQ(tt_cgroup_setup("kmesh-load-test"), 0);
	EXPECT_EQ(tt_apply(MESH_FILE, mesh, true), 0);
	EXPECT_EQ(tt_join_meshed(), 0);
	load_up = !tap_failed_now();
	tap_end();
}

static void expect_no_errors(const char *what, const struct tt_loadgen *r,
			     long want)
{
	tap_diag("%s: %llu requests in %.1f s (%.0f/s), %llu errors", what,
		 r->requests, r->seconds, r->seconds > 0 ? r->requests / r->seconds : 0,
		 r->errors);
	EXPECT(r->requests >= (unsigned long long)want);
	EXPECT_EQ(r->errors, 0);
}

/* 4 MiB, plus 4 bytes per request of the run (both paths). */
/*
 * On the debug kernel KASAN's quarantine keeps freed objects as slab (up
 * to 1/32 of memory): growth says little there, kmemleak judges leaks.
 */
static long slab_bound_kb(void)
{
	long kb = 4096 + 4 * 2 * load_requests / 1024;

	return getenv("KMESH_KERNEL_DEBUG") ? kb + 64 * 1024 : kb;
}

static void test_load_run(void)
{
	struct tt_mem before, after;
	struct round warm, rd;
	long long grew;

	tap_begin("load: %d concurrent connections, %ld requests through L4 and through L7, no error, memory flat",
		  load_conns, load_requests);
	if (!load_up) {
		tap_skip("no mesh");
		tap_end();
		return;
	}
	/* Slab caches, per-CPU lists and maps grow to their working size on
	 * first use: warm up with a small round of the same shape. */
	run_round(load_conns / 10 + 2, load_requests / 50 + 100, &warm);
	EXPECT_EQ(warm.rc, 0);
	tt_mem_sample(&before);
	tt_mem_diag("before", &before);
	run_round(load_conns, load_requests, &rd);
	EXPECT_EQ(rd.rc, 0);
	expect_no_errors("L4 (VIP, round robin, sk_msg redirect)", &rd.l4.sum, load_requests);
	expect_no_errors("L7 /api (routed to l7-api), at the same time as", &rd.l7[0].sum,
			 load_requests / 2);
	expect_no_errors("L7 /web (default route)", &rd.l7[1].sum, load_requests / 2);
	tap_diag("TCP sockets open at the peak: %lld", rd.peak_sockets);
	/* Both ends of every connection at once, on each path. */
	EXPECT(rd.peak_sockets >= 2LL * load_conns * 9 / 10);
	tt_mem_sample(&after);
	tt_mem_diag("after", &after);
	grew = after.sunreclaim_kb - before.sunreclaim_kb;
	tap_diag("unreclaimable slab grew by %lld KiB (bound %ld KiB)", grew,
		 slab_bound_kb());
	EXPECT(grew < slab_bound_kb());
	EXPECT(after.vmalloc_kb - before.vmalloc_kb < 1024);
	EXPECT_EQ(after.bpf_maps, before.bpf_maps);
	EXPECT_EQ(after.bpf_map_memlock_kb, before.bpf_map_memlock_kb);
	EXPECT_EQ(after.bpf_progs, before.bpf_progs);
	EXPECT_EQ(after.kmesh_refcnt, before.kmesh_refcnt);
	EXPECT_EQ(after.local_socks, 0);
	EXPECT_EQ(after.map_entries, before.map_entries);
	EXPECT_EQ(after.route_tables, before.route_tables);
	tap_end();
}

static void test_counters(void)
{
	long long v;

	tap_begin("load: counters balance: every connection closed, no active slot, nothing dropped");
	if (!load_up) {
		tap_skip("no mesh");
		tap_end();
		return;
	}
	EXPECT_EQ(ctl_stat("cluster l4 ", "active", -1), 0);
	EXPECT_EQ(ctl_stat("cluster l7-web ", "active", -1), 0);
	EXPECT_EQ(ctl_stat("cluster l7-api ", "active", -1), 0);
	/* Every connect ends once: closed, or failed. */
	v = ctl_stat("service load-l4 ", "connects", -1);
	EXPECT(v > load_conns);
	EXPECT_EQ(ctl_stat("service load-l4 ", "closed", -1) +
		  ctl_stat("service load-l4 ", "connect_failed", -1), v);
	v = ctl_stat("service load-l7 ", "connects", -1);
	EXPECT(v > load_conns);
	EXPECT_EQ(ctl_stat("service load-l7 ", "closed", -1) +
		  ctl_stat("service load-l7 ", "connect_failed", -1), v);
	EXPECT(ctl_stat("service load-l4 ", "redirected", -1) > 0);
	EXPECT_EQ(ctl_stat("service load-l4 ", "connect_failed", -1), 0);
	EXPECT_EQ(ctl_stat("service load-l7 ", "connect_failed", -1), 0);
	EXPECT_EQ(ctl_stat("node:", "sockhash_failed", -1), 0);
	EXPECT_EQ(ctl_stat("node:", "no_socket_storage", -1), 0);
	EXPECT_EQ(ctl_stat("http node:", "internal_drops", -1), 0);
	EXPECT_EQ(ctl_stat("http node:", "scratch_busy", -1), 0);
	EXPECT(ctl_stat("http load-l7 route api GET", "allowed", -1) > 0);
	EXPECT_EQ(ctl_stat("http load-l7 route api GET", "denied", -1), 0);
	if (tap_failed_now()) {
		static char out[16384];

		ctl(out, sizeof(out), "stats");
		tap_diag("%s", out);
	}
	tap_end();
}

void test_load(void)
{
	signal(SIGPIPE, SIG_IGN);
	run_cmd(NULL, 0, "ip link set lo up");
	test_up();
	test_load_run();
	test_counters();
	run_cmd(NULL, 0, "kmeshctl down");
	tt_cgroup_free();
}

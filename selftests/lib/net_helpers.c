// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"
#include "tap.h"
#include "util.h"

/* ---- time and waiting ---- */

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void wait_backoff(unsigned int *step)
{
	/* 1, 2, 4 ... ms, then 50 ms a try */
	unsigned int ms = *step < 6 ? 1u << *step : 50;

	(*step)++;
	usleep(ms * 1000);
}

bool proc_sleeping_as(pid_t pid, const char *comm)
{
	char path[64], stat[256], name[64], state = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_text(path, stat, sizeof(stat)) ||
	    sscanf(stat, "%*d (%63[^)]) %c", name, &state) != 2)
		return false;
	return !strcmp(name, comm) && state == 'S';
}

/* ---- addresses, listeners, dialers ---- */

socklen_t make_sockaddr(const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		return inet_pton(AF_INET6, addr, &s->sin6_addr) == 1 ? sizeof(*s) : 0;
	} else {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		return inet_pton(AF_INET, addr, &s->sin_addr) == 1 ? sizeof(*s) : 0;
	}
}

int listen_tcp(const char *addr, int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = make_sockaddr(addr, port, &ss);
	int fd, one = 1;

	if (!len)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&ss, len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

int dial_opts(const char *addr, int port, const struct dial_opts *o)
{
	int ms = o && o->timeout_ms ? o->timeout_ms : 5000, fd, e;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
	struct sockaddr_storage ss, bs;
	socklen_t len = make_sockaddr(addr, port, &ss);

	if (!len)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		    (o && o->nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (o && o->src) {
		if (make_sockaddr(o->src, 0, &bs) != len) {
			close(fd);
			return -EINVAL;
		}
		if (bind(fd, (void *)&bs, len))
			goto fail;
	}
	if (connect(fd, (void *)&ss, len))
		goto fail;
	return fd;
fail:
	e = -errno;
	close(fd);
	return e;
}

int dial(const char *addr, int port, const char *src)
{
	struct dial_opts o = { .src = src };

	return dial_opts(addr, port, &o);
}

int read_full(int fd, void *buf, size_t n)
{
	char sink[4096];
	size_t got = 0;

	while (got < n) {
		size_t want = n - got;
		ssize_t r;

		if (!buf && want > sizeof(sink))
			want = sizeof(sink);
		r = read(fd, buf ? (char *)buf + got : sink, want);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if (poll(&pf, 1, 5000) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t recv_wait(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, size, 0);
	return n < 0 ? -errno : n;
}

/* ---- servers ---- */

#define MAX_SERVERS	32

/* Counters the forked servers write and the tests read. */
struct server_stats {
	long accepts;
	long bytes;
};

static struct server_stats *stats;
static pid_t server_pids[MAX_SERVERS];
static int nr_servers;

struct conn_start {
	struct srv_conn c;
	srv_handler handler;
};

static void *conn_thread(void *arg)
{
	struct conn_start *s = arg;

	s->handler(&s->c);
	close(s->c.fd);
	free(s);
	return NULL;
}

static void serve_forever(int lfd, int slot, const char *tag, srv_handler handler)
{
	for (;;) {
		struct conn_start *s = malloc(sizeof(*s));
		pthread_t t;

		if (!s)
			_exit(1);
		s->c.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (s->c.fd < 0) {
			free(s);
			continue;
		}
		__atomic_add_fetch(&stats[slot].accepts, 1, __ATOMIC_RELAXED);
		s->c.tag = tag;
		s->c.slot = slot;
		s->handler = handler;
		if (pthread_create(&t, NULL, conn_thread, s)) {
			close(s->c.fd);
			free(s);
			continue;
		}
		pthread_detach(t);
	}
}

int server_start(const char *addr, int port, const char *tag, srv_handler handler,
		 const struct server_opts *o)
{
	int pipefd[2], fd, slot = nr_servers;
	char ok = 0;
	pid_t pid;

	if (!stats) {
		stats = mmap(NULL, sizeof(*stats) * MAX_SERVERS, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (stats == MAP_FAILED) {
			stats = NULL;
			return -1;
		}
	}
	if (slot >= MAX_SERVERS || pipe2(pipefd, O_CLOEXEC))
		return -1;
	stats[slot] = (struct server_stats){};
	fflush(NULL);	/* nothing buffered is printed twice */
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(pipefd[0]);
		signal(SIGPIPE, SIG_IGN);
		if (o && o->netns) {
			int ns = open(o->netns, O_RDONLY);

			if (ns < 0 || setns(ns, CLONE_NEWNET))
				_exit(1);
		}
		if (o && o->cgroup && join_cgroup(o->cgroup))
			_exit(1);
		fd = listen_tcp(addr, port, o && o->backlog ? o->backlog : 1024);
		if (fd < 0)
			_exit(1);
		ok = 1;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		close(pipefd[1]);
		serve_forever(fd, slot, tag, handler);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1 || !ok) {
		close(pipefd[0]);
		waitpid(pid, NULL, 0);
		tap_diag("server %s on %s:%d did not start", tag, addr, port);
		return -1;
	}
	close(pipefd[0]);
	server_pids[nr_servers++] = pid;
	return slot;
}

ssize_t srv_recv(struct srv_conn *c, void *buf, size_t size)
{
	ssize_t n = read(c->fd, buf, size);

	if (n > 0) {
		int fd = open(RAW_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		/* one write per receive: threads and servers never interleave */
		if (fd >= 0) {
			if (write(fd, buf, (size_t)n) != n)
				tap_diag("raw log: short write");
			close(fd);
		}
		__atomic_add_fetch(&stats[c->slot].bytes, n, __ATOMIC_RELAXED);
	}
	return n;
}

long server_accepts(int slot)
{
	return stats && slot >= 0 && slot < nr_servers ?
	       __atomic_load_n(&stats[slot].accepts, __ATOMIC_RELAXED) : -1;
}

long server_bytes(int slot)
{
	return stats && slot >= 0 && slot < nr_servers ?
	       __atomic_load_n(&stats[slot].bytes, __ATOMIC_RELAXED) : -1;
}

void servers_stop(void)
{
	while (nr_servers) {
		pid_t pid = server_pids[--nr_servers];

		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

long raw_log_mark(void)
{
	struct stat st;

	return stat(RAW_LOG, &st) ? 0 : (long)st.st_size;
}

bool raw_log_has(long mark, const char *needle)
{
	size_t cap = 1 << 16, have = 0;
	char *buf = malloc(cap);
	bool hit = false;
	ssize_t n;
	int fd = open(RAW_LOG, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto out;
	if (lseek(fd, mark, SEEK_SET) != mark)
		goto out;
	for (;;) {
		if (have == cap) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
		n = read(fd, buf + have, cap - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	hit = memmem(buf, have, needle, strlen(needle)) != NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return hit;
}

/* ---- a "remote" host ---- */

bool remote_ns_setup(struct remote_ns *r, const char *link, const char *host_addr,
		     const char *peer_addr)
{
	int pipefd[2];
	char ok;

	memset(r, 0, sizeof(*r));
	snprintf(r->link, sizeof(r->link), "%s", link);
	run_cmd(NULL, 0, "modprobe veth");
	if (pipe2(pipefd, O_CLOEXEC))
		return false;
	fflush(NULL);
	r->holder = fork();
	if (r->holder < 0)
		return false;
	if (!r->holder) {
		ok = unshare(CLONE_NEWNET) ? 0 : 1;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1 || !ok) {
		close(pipefd[0]);
		remote_ns_free(r);
		return false;
	}
	close(pipefd[0]);
	snprintf(r->path, sizeof(r->path), "/proc/%d/ns/net", r->holder);
	run_cmd(NULL, 0, "ip link del %s", link);
	/* busybox ip names the peer itself (veth0): rename it */
	return !sh("ip link add name %s type veth", link) &&
	       !sh("ip link set veth0 name %s-p", link) &&
	       !sh("ip link set %s-p netns %d", link, r->holder) &&
	       !sh("ip addr add %s/24 dev %s", host_addr, link) &&
	       !sh("ip link set %s up", link) &&
	       !sh("nsenter --net=%s ip link set lo up", r->path) &&
	       !sh("nsenter --net=%s ip addr add %s/24 dev %s-p", r->path, peer_addr, link) &&
	       !sh("nsenter --net=%s ip link set %s-p up", r->path, link);
}

void remote_ns_free(struct remote_ns *r)
{
	if (r->holder > 0) {
		kill(r->holder, SIGKILL);
		waitpid(r->holder, NULL, 0);
	}
	r->holder = 0;
	if (r->link[0])
		run_cmd(NULL, 0, "ip link del %s", r->link);
	r->link[0] = '\0';
}

/* ---- the meshed cgroup ---- */

int test_cgroup_setup(struct test_cgroup *cg, const char *name)
{
	char root[256];

	memset(cg, 0, sizeof(*cg));
	if (cgroup_home(root, sizeof(root), cg->home, sizeof(cg->home)))
		return -1;
	if (getenv("KMESH_L4_CGROUP")) {
		snprintf(cg->path, sizeof(cg->path), "%s", getenv("KMESH_L4_CGROUP"));
		return 0;
	}
	snprintf(cg->path, sizeof(cg->path), "%s/%s", root, name);
	if (mkdir(cg->path, 0755) && errno != EEXIST)
		return -1;
	cg->own = true;
	return 0;
}

void test_cgroup_free(struct test_cgroup *cg)
{
	if (cg->home[0])
		join_cgroup(cg->home);
	/* the servers in it are gone: wait until the kernel lets it go */
	if (cg->own && !WAIT_UNTIL(!rmdir(cg->path) || errno == ENOENT, 2000))
		tap_diag("cgroup %s: rmdir: %s", cg->path, strerror(errno));
	cg->own = false;
}

void mesh_teardown(struct test_cgroup *cg, struct remote_ns *r)
{
	run_cmd(NULL, 0, "%s down", kmeshctl_path());
	if (cg->home[0])
		join_cgroup(cg->home);
	servers_stop();
	if (r)
		remote_ns_free(r);
	test_cgroup_free(cg);
}

/* ---- the test servers' HTTP/1.1 request reader ---- */

static int http_getc(struct http_reader *r, char *ch)
{
	if (r->off == r->len) {
		ssize_t n = r->recv(r->ctx, r->buf, sizeof(r->buf));

		if (n <= 0)
			return -1;
		r->off = 0;
		r->len = (size_t)n;
	}
	*ch = r->buf[r->off++];
	return 0;
}

/* Add @c to the line being read into @line (@n bytes so far): 1 when it
 * ends it (an LF; it and a CR before it are left out), else 0. */
static int line_add(char c, char *line, size_t size, size_t *n)
{
	if (c == '\n') {
		if (*n && line[*n - 1] == '\r')
			(*n)--;
		line[*n] = '\0';
		return 1;
	}
	if (*n + 1 < size)
		line[(*n)++] = c;
	return 0;
}

static int http_line(struct http_reader *r, char *line, size_t size)
{
	size_t n = 0;
	char c;

	while (!http_getc(r, &c))
		if (line_add(c, line, size, &n))
			return 0;
	return -1;
}

int fd_read_line(int fd, char *line, size_t size)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1)
		if (line_add(c, line, size, &n))
			return 0;
	return -1;
}

void seen_log_append(const char *file, const char *method, const char *path)
{
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd < 0)
		return;
	dprintf(fd, "%s %s\n", method, path);
	close(fd);
}

bool seen_log_has(const char *file, const char *path, bool exact)
{
	char line[2100], *p;
	bool hit = false;
	FILE *f = fopen(file, "r");

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		p = strchr(line, ' ');
		hit = p && (exact ? !strcmp(p + 1, path) : !!strstr(p + 1, path));
	}
	fclose(f);
	return hit;
}

static int http_skip(struct http_reader *r, size_t n)
{
	char c;

	while (n--)
		if (http_getc(r, &c))
			return -1;
	return 0;
}

int http_read_request(struct http_reader *r, struct http_request_seen *q)
{
	char line[4096];
	bool chunked = false;
	long cl = 0;

	memset(q, 0, sizeof(*q));
	do {
		if (http_line(r, line, sizeof(line)))
			return -1;
	} while (!line[0]);	/* blank lines before a request */
	if (sscanf(line, "%31s %2047s", q->method, q->path) != 2)
		return -1;
	while (!http_line(r, line, sizeof(line)) && line[0]) {
		if (!strncasecmp(line, "content-length:", 15))
			cl = strtol(line + 15, NULL, 10);
		else if (!strncasecmp(line, "transfer-encoding:", 18) &&
			 strstr(line, "chunked"))
			chunked = true;
		else if (!strncasecmp(line, "connection:", 11) &&
			 strstr(line, "close"))
			q->close = true;
	}
	if (!chunked) {
		if (cl > 0 && http_skip(r, (size_t)cl))
			return -1;
		q->body = cl > 0 ? cl : 0;
		return 0;
	}
	for (;;) {
		long sz;

		if (http_line(r, line, sizeof(line)))
			return -1;
		sz = strtol(line, NULL, 16);
		if (sz <= 0)
			break;
		if (http_skip(r, (size_t)sz) || http_line(r, line, sizeof(line)))
			return -1;
		q->body += sz;
	}
	while (!http_line(r, line, sizeof(line)) && line[0])
		;	/* trailers */
	return 0;
}

/* ---- commands ---- */

int sh(const char *fmt, ...)
{
	char cmd[512], out[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = run_cmd(out, sizeof(out), "%s", cmd);
	if (rc)
		tap_diag("'%s' failed: %s", cmd, out);
	return rc;
}

const char *kmeshctl_path(void)
{
	return getenv("KMESHCTL") ? getenv("KMESHCTL") : "kmeshctl";
}

int ctl(char *out, size_t size, const char *fmt, ...)
{
	char args[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return run_cmd(out, size, "%s %s", kmeshctl_path(), args);
}

int ctl_apply(const char *file, const char *yaml)
{
	static char out[4096];
	int rc;

	if (write_file(file, yaml))
		return -1;
	rc = ctl(out, sizeof(out), "apply -f %s", file);
	if (rc)
		tap_diag("kmeshctl apply: %s", out);
	return rc;
}

int ctl_up(const char *cgroup, const char *file, const char *yaml)
{
	static char out[4096];

	run_cmd(NULL, 0, "%s down", kmeshctl_path());
	if (write_file(file, yaml)) {
		tap_diag("cannot write %s", file);
		return -1;
	}
	if (ctl(out, sizeof(out), "up --cgroup %s -f %s", cgroup, file)) {
		tap_diag("kmeshctl up: %s", out);
		return -1;
	}
	return 0;
}

long long ctl_stat(const char *prefix, const char *field, long long absent)
{
	static char out[131072];
	char key[64], *line, *p, *save = NULL;

	if (ctl(out, sizeof(out), "stats"))
		return -1;
	snprintf(key, sizeof(key), " %s ", field);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		p = strstr(line, key);
		return p ? strtoll(p + strlen(key), NULL, 10) : -1;
	}
	return absent;
}

long long ctl_generation(void)
{
	char out[256], *p;

	if (ctl(out, sizeof(out), "dump"))
		return -1;
	p = strstr(out, "generation ");
	return p ? strtoll(p + 11, NULL, 10) : -1;
}

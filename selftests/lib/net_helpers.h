/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the VM and host selftests need around real sockets, in one place
 * (like the kernel's selftests/bpf/network_helpers.c): addresses, TCP
 * listeners and dialers with timeouts (IPv4 and IPv6 alike, picked by the
 * address), forked servers in a chosen cgroup and network namespace that
 * count what they accept and receive, a "remote" network namespace behind
 * a veth pair, the meshed test cgroup, kmeshctl, and waiting on a
 * condition instead of sleeping.
 */
#ifndef KMESH_NET_HELPERS_H
#define KMESH_NET_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* ---- time and waiting ---- */

/* Monotonic seconds. */
double now_s(void);

/*
 * Evaluate @cond until it holds or @timeout_ms passed; true when it held.
 * Polls quickly at first and backs off to 50 ms (a condition may run
 * kmeshctl), so a fast condition costs little and a slow one little CPU.
 */
#define WAIT_UNTIL(cond, timeout_ms) ({					\
	double __end = now_s() + (timeout_ms) / 1000.0;			\
	unsigned int __step = 0;					\
	bool __held;							\
	while (!(__held = !!(cond)) && now_s() < __end)			\
		wait_backoff(&__step);					\
	__held;								\
})
void wait_backoff(unsigned int *step);

/* Is process @pid running @comm (exec done) and asleep in a system call? */
bool proc_sleeping_as(pid_t pid, const char *comm);

/* ---- addresses, listeners, dialers ---- */

/* @addr (IPv6 when it has a ':') and @port into @ss; its length, 0 if bad. */
socklen_t make_sockaddr(const char *addr, int port, struct sockaddr_storage *ss);

/* A TCP socket listening on @addr:@port with @backlog (SO_REUSEADDR);
 * -1 on failure. */
int listen_tcp(const char *addr, int port, int backlog);

struct dial_opts {
	const char *src;	/* address to bind first, or NULL */
	int timeout_ms;		/* SO_RCVTIMEO/SO_SNDTIMEO; 0: 5000 */
	bool nonblock;		/* SOCK_NONBLOCK (connect may say EINPROGRESS) */
};

/* A connected TCP socket, or -errno of what failed. */
int dial_opts(const char *addr, int port, const struct dial_opts *o);
/* The same with a 5 s timeout, from @src (or any address when NULL). */
int dial(const char *addr, int port, const char *src);

/* Exactly @n bytes into @buf (discarded when NULL); 0 or -1 (EOF/error). */
int read_full(int fd, void *buf, size_t n);
/* All of @len bytes, waiting for POLLOUT on a non-blocking socket (5 s);
 * 0 or -errno. */
int write_all(int fd, const void *data, size_t len);
/* recv() once data is there (up to @timeout_ms): bytes, 0 at EOF, -errno. */
ssize_t recv_wait(int fd, void *buf, size_t size, int timeout_ms);

/* ---- servers ---- */

/* One accepted connection, handed to a server's handler on its own thread. */
struct srv_conn {
	int fd;
	const char *tag;	/* the server's name, as given to server_start */
	int slot;		/* the server's slot, for its counters */
};

typedef void (*srv_handler)(struct srv_conn *c);

struct server_opts {
	const char *netns;	/* /proc/PID/ns/net to enter, or NULL */
	const char *cgroup;	/* cgroup to serve from, or NULL: the caller's */
	int backlog;		/* 0: 1024 */
};

/*
 * Fork a server listening on @addr:@port that runs @handler on a thread
 * per connection (the connection is closed when it returns). Returns once
 * it listens: its slot (>= 0), or -1. Every server is stopped by
 * servers_stop().
 */
int server_start(const char *addr, int port, const char *tag, srv_handler handler,
		 const struct server_opts *o);

/* Receive on a server connection, counting the bytes for the observer. */
ssize_t srv_recv(struct srv_conn *c, void *buf, size_t size);

/* What a server has seen so far (shared with the forked servers). */
long server_accepts(int slot);
long server_bytes(int slot);
void servers_stop(void);

/*
 * The raw byte log: every byte any server received through srv_recv(), in
 * order, appended to one file. Tests assert what never reached a server,
 * whether or not it made a complete request.
 */
#define RAW_LOG "/tmp/kmesh-selftest-raw.log"
/* Current size of the raw log: a mark to search from. */
long raw_log_mark(void);
/* Did @needle reach a server after @mark? */
bool raw_log_has(long mark, const char *needle);

/*
 * ---- the test servers' HTTP/1.1 request reader ----
 * Reads what a lenient origin server would: a request line, the fields
 * that frame the body (Content-Length, Transfer-Encoding: chunked) and
 * Connection: close, then the body by that framing. Deliberately lenient,
 * not a conforming parser: it stands for the most permissive backend, so
 * whatever kmesh lets through reaches it and is recorded (a strict server
 * would hide a bypass by refusing the request itself). Clients and
 * servers of end-to-end tests are real ones (curl, busybox, python3).
 */
struct http_reader {
	/* bytes from the connection: > 0, 0 at EOF, < 0 on error */
	ssize_t (*recv)(void *ctx, void *buf, size_t size);
	void *ctx;
	char buf[4096];
	size_t off, len;
};

struct http_request_seen {
	char method[32], path[2048];
	long body;		/* body bytes read */
	bool close;		/* Connection: close */
};

/* The next request of the connection into @q: 0, or -1 (EOF, an error,
 * or bytes it cannot frame). */
int http_read_request(struct http_reader *r, struct http_request_seen *q);

/* One line from @fd up to LF (without it, or a CR before it), read a byte
 * at a time (nothing past it is taken); -1 at EOF or an error. */
int fd_read_line(int fd, char *line, size_t size);

/* What a test server parsed: one "METHOD PATH" line per request in @file. */
void seen_log_append(const char *file, const char *method, const char *path);
/* Did a request for @path (exactly, or one containing it) reach it? */
bool seen_log_has(const char *file, const char *path, bool exact);

/* ---- a "remote" host: a network namespace behind a veth pair ---- */

struct remote_ns {
	pid_t holder;		/* keeps the namespace alive */
	char path[64];		/* /proc/PID/ns/net */
	char link[16];		/* our end of the veth pair */
};

/*
 * A namespace with @peer_addr on its end of a veth pair named @link (here:
 * @link, @host_addr); both /24. false if this kernel or machine cannot.
 */
bool remote_ns_setup(struct remote_ns *r, const char *link, const char *host_addr,
		     const char *peer_addr);
void remote_ns_free(struct remote_ns *r);

/* ---- the meshed cgroup ---- */

struct test_cgroup {
	char path[512];		/* the meshed cgroup */
	char home[1024];	/* where this process started */
	bool own;		/* created here (removed by test_cgroup_free) */
};

/* KMESH_L4_CGROUP when the caller set it up, else ROOT/@name (created). */
int test_cgroup_setup(struct test_cgroup *cg, const char *name);
void test_cgroup_free(struct test_cgroup *cg);

/* An area's end: kmeshctl down, back home, servers stopped, the remote
 * namespace (when @r) and the meshed cgroup gone. */
void mesh_teardown(struct test_cgroup *cg, struct remote_ns *r);

/* ---- commands ---- */

/* A shell command; its output as a diagnostic when it fails. Exit status. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* kmeshctl ($KMESHCTL, else from PATH) with arguments; output into @out. */
const char *kmeshctl_path(void);
int ctl(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write @yaml to @file and `kmeshctl apply` it; 0 when accepted. */
int ctl_apply(const char *file, const char *yaml);
/* A fresh data plane: kmeshctl down, then up on @cgroup with @yaml written
 * to @file. 0, or -1 with kmeshctl's words in the TAP diagnostics. */
int ctl_up(const char *cgroup, const char *file, const char *yaml);
/*
 * A counter from `kmeshctl stats`: the first line that starts with
 * @prefix, the number after " @field ". @absent when there is no such
 * line (an HTTP route's line appears with its first request); -1 when the
 * line lacks the field or kmeshctl failed.
 */
long long ctl_stat(const char *prefix, const char *field, long long absent);
/* The live generation (`kmeshctl dump`), -1 if none. */
long long ctl_generation(void);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen: the benchmark's load generator. Static, one thread, one epoll
 * loop: the same binary drives every path on the host and in the VM.
 *
 *   loadgen http   --target ADDR:PORT --conns N --duration S [--warmup S]
 *                  [--rate R] [--host H] [--paths /a,/b,...] [--new-conn]
 *                  [--expect STRING]
 *       HTTP/1.1 GETs over N keep-alive connections (--new-conn: a new
 *       connection per request, closed by us after the response).
 *       Without --rate: closed loop, each connection sends its next request
 *       when the previous answer is complete (throughput at fixed
 *       concurrency). With --rate: open loop, request k is due at
 *       t0 + k/R whether or not earlier ones came back; a due request waits
 *       for an idle connection, and its latency counts from when it was
 *       due (no coordinated omission: queueing shows in the percentiles).
 *       --expect: count a response without STRING in its head as an error
 *       (checks that a route reached the right backend).
 *       --requests N: closed loop only; end once N answers came back (the
 *       duration is then only a bound; the load test counts, not times).
 *   loadgen stream --target ADDR:PORT --size B --duration S [--conns N]
 *       write() B-byte messages for S seconds, then shut down and wait
 *       until the sink server closed: bytes / time to the server's EOF.
 *   loadgen rr     --target ADDR:PORT --size B --duration S [--conns N]
 *       ping-pong of B bytes against an echo server: round trips per second.
 *
 * Prints one line of key=value: requests seconds rps p50_us p90_us p99_us
 * p999_us max_us errors [mbps] [saturated]. Every run is bounded: duration
 * at most 600 s (3600 s as the bound of a --requests run), at most 4096
 * connections.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	4096
#define MAX_PATHS	64
#define RESP_BUF	16384
#define MAX_SAMPLES	(8u << 20)	/* latencies kept: 32 MiB */
#define BACKLOG_MAX	(1u << 20)

struct conn {
	int fd;
	bool busy;		/* a request is outstanding */
	bool connecting;
	bool in_idle;		/* open loop: on the idle stack */
	uint64_t start_ns;	/* latency origin of the outstanding request */
	size_t have;
	char buf[RESP_BUF];
};

static struct sockaddr_storage target;
static socklen_t target_len;
static const char *host = "bench";
static char *paths[MAX_PATHS];
static int nr_paths = 1;
static unsigned int next_path;
static const char *expect;
static bool new_conn;
static double duration = 5, warmup = 0.5, rate;
static uint64_t max_requests;
static int nr_conns = 1;
static size_t msg_size = 1024;

static uint32_t *samples;
static size_t nr_samples;
static uint64_t requests, errors, measure_from, measure_to;
static struct conn *conns;
static int ep;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_target(const char *s)
{
	char addr[128];
	const char *colon = strrchr(s, ':');
	int port;

	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = 0;
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535)
		return -1;
	if (addr[0] == '[') {
		struct sockaddr_in6 *s6 = (void *)&target;
		size_t n = strlen(addr);

		if (addr[n - 1] != ']')
			return -1;
		addr[n - 1] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr + 1, &s6->sin6_addr) != 1)
			return -1;
		target_len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&target;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -1;
		target_len = sizeof(*s4);
	}
	return 0;
}

static int dial(bool nonblock)
{
	int fd, one = 1;

	fd = socket(target.ss_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (void *)&target, target_len) && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void record(uint64_t start, uint64_t end)
{
	uint64_t d = end - start;

	if (start < measure_from || start >= measure_to)
		return;
	requests++;
	if (nr_samples < MAX_SAMPLES)
		samples[nr_samples++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i;

	if (!nr_samples)
		return 0;
	i = (size_t)(p / 100.0 * (double)(nr_samples - 1) + 0.5);
	return samples[i] / 1000.0;
}

static void report(double seconds, double mbps, bool saturated)
{
	qsort(samples, nr_samples, sizeof(*samples), cmp_u32);
	printf("requests=%llu seconds=%.3f rps=%.1f p50_us=%.2f p90_us=%.2f p99_us=%.2f p999_us=%.2f max_us=%.2f errors=%llu",
	       (unsigned long long)requests, seconds, requests / seconds,
	       pct(50), pct(90), pct(99), pct(99.9),
	       nr_samples ? samples[nr_samples - 1] / 1000.0 : 0.0,
	       (unsigned long long)errors);
	if (mbps >= 0)
		printf(" mbps=%.2f", mbps);
	if (saturated)
		printf(" saturated=1");
	printf("\n");
}

/* ---- HTTP ---- */

static void conn_arm(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev))
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void conn_open(struct conn *c)
{
	c->fd = dial(true);
	c->have = 0;
	c->connecting = true;
	if (c->fd < 0) {
		errors++;
		return;
	}
	conn_arm(c, EPOLLOUT);
}

static void conn_reset(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->busy = false;
	c->have = 0;
}

static int conn_send(struct conn *c)
{
	char req[512];
	const char *path = paths[next_path++ % (unsigned int)nr_paths];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kmesh-loadgen\r\n\r\n",
			 path, host);

	/* A small request on an idle connection: the socket buffer takes it. */
	if (write(c->fd, req, (size_t)n) != n)
		return -1;
	return 0;
}

/*
 * Bytes of one complete response at the start of c->buf (head with a
 * Content-Length), 0 if incomplete, -1 if malformed.
 */
static long response_len(struct conn *c)
{
	char *end = memmem(c->buf, c->have, "\r\n\r\n", 4), *p;
	size_t head;
	long clen = -1;

	if (!end)
		return c->have == sizeof(c->buf) ? -1 : 0;
	head = (size_t)(end - c->buf) + 4;
	if (c->have < 12 || memcmp(c->buf, "HTTP/1.", 7) || c->buf[9] != '2')
		return -1;
	for (p = c->buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		p += *p == '\n';
		if (!strncasecmp(p, "content-length:", 15)) {
			clen = strtol(p + 15, NULL, 10);
			break;
		}
	}
	if (clen < 0)
		return -1;
	if (expect && !memmem(c->buf, head, expect, strlen(expect)))
		return -1;
	return c->have >= head + (size_t)clen ? (long)(head + (size_t)clen) : 0;
}

/* Open loop: scheduled start times waiting for an idle connection. */
static uint64_t *backlog;
static size_t bl_head, bl_tail;
static struct conn **idle;
static int nr_idle;

static void start_request(struct conn *c, uint64_t origin)
{
	c->busy = true;
	c->start_ns = origin;
	if (new_conn && c->fd < 0) {
		conn_open(c);
		if (c->fd < 0) {
			c->busy = false;
			return;
		}
		return;		/* sent once connected */
	}
	if (c->connecting)
		return;		/* the same */
	if (conn_send(c)) {
		errors++;
		conn_reset(c);
		conn_open(c);
		c->busy = false;
	}
}

static void conn_idle(struct conn *c)
{
	c->busy = false;
	if (rate > 0) {
		if (bl_head != bl_tail) {
			start_request(c, backlog[bl_head++ % BACKLOG_MAX]);
			return;
		}
		if (!c->in_idle) {
			c->in_idle = true;
			idle[nr_idle++] = c;
		}
	}
}

static void on_event(struct conn *c, uint32_t events, uint64_t now, uint64_t stop)
{
	long len;
	ssize_t n;

	if (c->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			errors++;
			conn_reset(c);
			if (now < stop)
				conn_open(c);
			return;
		}
		c->connecting = false;
		conn_arm(c, EPOLLIN);
		if (c->busy) {		/* new-conn: the request waits for us */
			if (conn_send(c)) {
				errors++;
				conn_reset(c);
				c->busy = false;
			}
			return;
		}
		if (rate > 0)
			conn_idle(c);
		else if (now < stop)
			start_request(c, now_ns());
		return;
	}
	n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		if (c->busy)
			errors++;
		conn_reset(c);
		if (now < stop)
			conn_open(c);
		return;
	}
	c->have += (size_t)n;
	len = response_len(c);
	if (len == 0)
		return;
	now = now_ns();
	if (len < 0) {
		errors++;
		conn_reset(c);
		if (now < stop)
			conn_open(c);
		return;
	}
	record(c->start_ns, now);
	memmove(c->buf, c->buf + len, c->have - (size_t)len);
	c->have -= (size_t)len;
	if (new_conn) {
		conn_reset(c);
		if (rate > 0) {
			conn_idle(c);
		} else if (now < stop) {
			start_request(c, now);
		}
		return;
	}
	if (rate > 0)
		conn_idle(c);
	else if (now < stop)
		start_request(c, now);
	else
		c->busy = false;
}

static int run_http(void)
{
	struct epoll_event evs[512], tev = { .events = EPOLLIN, .data.ptr = NULL };
	uint64_t t0, stop, hard_stop, interval = 0, next_due = 0;
	bool saturated = false;
	int i, tfd = -1;

	conns = calloc((size_t)nr_conns, sizeof(*conns));
	idle = calloc((size_t)nr_conns, sizeof(*idle));
	ep = epoll_create1(0);
	if (!conns || !idle || ep < 0)
		die("setup");
	for (i = 0; i < nr_conns; i++) {
		conns[i].fd = -1;
		if (!new_conn)
			conn_open(&conns[i]);
		else if (rate > 0) {
			conns[i].in_idle = true;
			idle[nr_idle++] = &conns[i];
		}
	}
	t0 = now_ns();
	measure_from = t0 + (uint64_t)(warmup * 1e9);
	stop = measure_from + (uint64_t)(duration * 1e9);
	measure_to = stop;
	hard_stop = stop + 5000000000ull;	/* answers still due: at most 5 s */
	if (rate > 0) {
		struct itimerspec its = {};

		backlog = malloc(BACKLOG_MAX * sizeof(*backlog));
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		if (!backlog || tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev))
			die("timer");
		interval = (uint64_t)(1e9 / rate);
		next_due = t0 + 2000000ull;	/* connections get 2 ms to open */
		its.it_value.tv_sec = (time_t)(next_due / 1000000000ull);
		its.it_value.tv_nsec = (long)(next_due % 1000000000ull);
		timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
	} else if (new_conn) {
		for (i = 0; i < nr_conns; i++)
			start_request(&conns[i], now_ns());
	}
	for (;;) {
		uint64_t now = now_ns();
		int n, busy = 0;

		if (now >= hard_stop)
			break;
		if (max_requests && requests >= max_requests && now < stop)
			stop = measure_to = now;
		if (now >= stop) {
			for (i = 0; i < nr_conns; i++)
				busy += conns[i].busy;
			if (!busy)
				break;
		}
		n = epoll_wait(ep, evs, 512, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		now = now_ns();
		for (i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				uint64_t exp;
				struct itimerspec its = {};

				if (read(tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
					die("timerfd");
				while (next_due <= now && next_due < stop) {
					if (nr_idle) {
						struct conn *c = idle[--nr_idle];

						c->in_idle = false;
						start_request(c, next_due);
					} else if (bl_tail - bl_head < BACKLOG_MAX) {
						backlog[bl_tail++ % BACKLOG_MAX] = next_due;
					} else {
						saturated = true;
						errors++;
					}
					next_due += interval;
				}
				if (next_due < stop) {
					its.it_value.tv_sec = (time_t)(next_due / 1000000000ull);
					its.it_value.tv_nsec = (long)(next_due % 1000000000ull);
					timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
				}
				continue;
			}
			on_event(evs[i].data.ptr, evs[i].events, now, stop);
		}
	}
	/* Requests due in the window that never got an answer are errors. */
	for (i = 0; i < nr_conns; i++)
		if (conns[i].busy)
			errors++;
	if (rate > 0 && bl_tail - bl_head > (size_t)(rate * 0.1))
		saturated = true;	/* more than 100 ms of work queued at the end */
	/* --requests: the window closed when the count was reached. */
	report(max_requests && measure_to > measure_from ?
	       (double)(measure_to - measure_from) / 1e9 : duration, -1, saturated);
	return requests ? 0 : 1;
}

/* ---- stream and rr ---- */

static int run_stream(bool rr)
{
	char *buf = malloc(msg_size);
	struct pollfd *pfd = calloc((size_t)nr_conns, sizeof(*pfd));
	uint64_t *sent_at = calloc((size_t)nr_conns, sizeof(*sent_at));
	size_t *got = calloc((size_t)nr_conns, sizeof(*got));
	uint64_t t0, stop, bytes = 0, end;
	int i, open = 0;

	if (!buf || !pfd || !sent_at || !got)
		die("malloc");
	memset(buf, 'm', msg_size);
	for (i = 0; i < nr_conns; i++) {
		pfd[i].fd = dial(false);
		if (pfd[i].fd < 0)
			die("connect");
		fcntl(pfd[i].fd, F_SETFL, O_NONBLOCK);
	}
	t0 = now_ns();
	measure_from = t0 + (uint64_t)(warmup * 1e9);
	stop = measure_from + (uint64_t)(duration * 1e9);
	measure_to = stop;
	if (rr) {
		for (i = 0; i < nr_conns; i++) {
			if (write(pfd[i].fd, buf, msg_size) != (ssize_t)msg_size)
				die("write");
			sent_at[i] = now_ns();
			pfd[i].events = POLLIN;
		}
		while (now_ns() < stop) {
			if (poll(pfd, (nfds_t)nr_conns, 1000) < 0 && errno != EINTR)
				die("poll");
			for (i = 0; i < nr_conns; i++) {
				ssize_t n;

				if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
					continue;
				n = read(pfd[i].fd, buf, msg_size - got[i]);
				if (n <= 0) {
					if (n < 0 && errno == EAGAIN)
						continue;
					die("echo server closed");
				}
				got[i] += (size_t)n;
				if (got[i] < msg_size)
					continue;
				got[i] = 0;
				end = now_ns();
				record(sent_at[i], end);
				if (write(pfd[i].fd, buf, msg_size) != (ssize_t)msg_size)
					die("write");
				sent_at[i] = end;
			}
		}
		report(duration, requests * msg_size * 2 * 8 / duration / 1e6, false);
		return 0;
	}
	/* stream: each write() is one message; count only the window's bytes */
	for (i = 0; i < nr_conns; i++)
		pfd[i].events = POLLOUT;
	uint64_t counted_from = 0;
	for (;;) {
		uint64_t now = now_ns();

		if (now >= stop)
			break;
		if (!counted_from && now >= measure_from)
			counted_from = now;
		if (poll(pfd, (nfds_t)nr_conns, 100) < 0 && errno != EINTR)
			die("poll");
		for (i = 0; i < nr_conns; i++) {
			int k;

			if (!(pfd[i].revents & POLLOUT))
				continue;
			for (k = 0; k < 64; k++) {
				ssize_t n = write(pfd[i].fd, buf, msg_size);

				if (n < 0 && errno == EAGAIN)
					break;
				if (n <= 0)
					die("write");
				if (counted_from) {
					bytes += (uint64_t)n;
					requests++;
				}
			}
		}
	}
	/* Everything written must reach the sink: wait for its close. */
	for (i = 0; i < nr_conns; i++) {
		shutdown(pfd[i].fd, SHUT_WR);
		pfd[i].events = POLLIN;
		open++;
	}
	while (open) {
		if (now_ns() > stop + 10000000000ull)
			die("sink did not close within 10 s");
		if (poll(pfd, (nfds_t)nr_conns, 200) < 0 && errno != EINTR)
			die("poll");
		for (i = 0; i < nr_conns; i++) {
			char junk[256];

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (read(pfd[i].fd, junk, sizeof(junk)) > 0)
				continue;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			open--;
		}
	}
	end = now_ns();
	{
		double secs = (double)(end - counted_from) / 1e9;

		/* bytes written before the window started are in flight too: a
		 * slight overestimate of secs, equal for every path. */
		printf("requests=%llu seconds=%.3f rps=%.1f mbps=%.2f errors=0\n",
		       (unsigned long long)requests, secs, requests / secs,
		       bytes * 8 / secs / 1e6);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen http|stream|rr --target ADDR:PORT [--conns N] [--duration S] [--warmup S]\n"
		"       [--rate R] [--host H] [--paths /a,/b] [--new-conn] [--expect S] [--size B]\n"
		"       [--requests N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;
	int i;

	if (argc < 2)
		usage();
	mode = argv[1];
	paths[0] = "/";
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--new-conn")) {
			new_conn = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(o, "--target")) {
			if (parse_target(v))
				usage();
		} else if (!strcmp(o, "--conns")) {
			nr_conns = atoi(v);
		} else if (!strcmp(o, "--duration")) {
			duration = atof(v);
		} else if (!strcmp(o, "--warmup")) {
			warmup = atof(v);
		} else if (!strcmp(o, "--rate")) {
			rate = atof(v);
		} else if (!strcmp(o, "--host")) {
			host = v;
		} else if (!strcmp(o, "--expect")) {
			expect = v;
		} else if (!strcmp(o, "--requests")) {
			max_requests = strtoull(v, NULL, 10);
		} else if (!strcmp(o, "--size")) {
			msg_size = (size_t)atol(v);
		} else if (!strcmp(o, "--paths")) {
			char *s = strdup(v), *tok, *save = NULL;

			nr_paths = 0;
			for (tok = strtok_r(s, ",", &save); tok && nr_paths < MAX_PATHS;
			     tok = strtok_r(NULL, ",", &save))
				paths[nr_paths++] = tok;
			if (!nr_paths)
				usage();
		} else {
			usage();
		}
	}
	if (!target_len || nr_conns < 1 || nr_conns > MAX_CONNS ||
	    duration <= 0 || duration > (max_requests ? 3600 : 600) ||
	    warmup < 0 || warmup > 60 ||
	    rate < 0 || rate > 1e6 || msg_size < 1 || msg_size > (1 << 20) ||
	    (max_requests && rate > 0))
		usage();
	signal(SIGPIPE, SIG_IGN);
	samples = malloc(MAX_SAMPLES * sizeof(*samples));
	if (!samples)
		die("malloc");
	if (!strcmp(mode, "http"))
		return run_http();
	if (!strcmp(mode, "stream"))
		return run_stream(false);
	if (!strcmp(mode, "rr"))
		return run_stream(true);
	usage();
	return 2;
}

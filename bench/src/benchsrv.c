// SPDX-License-Identifier: GPL-2.0-only
/*
 * benchsrv: the benchmark's backend. One process, one epoll loop (or
 * --threads N loops sharing the listener with SO_REUSEPORT), no allocation
 * per request, static: the same binary runs on the host and in the VM.
 *
 *   benchsrv http  ADDR PORT [--tag NAME] [--body BYTES] [--threads N]
 *       HTTP/1.1 keep-alive: each request head (up to CRLFCRLF; GET/HEAD,
 *       no request bodies) gets "200 OK" with a fixed body and the header
 *       "x-backend: NAME" (so a route can be checked). Pipelining works.
 *   benchsrv sink  ADDR PORT     read and discard until EOF, then close
 *   benchsrv echo  ADDR PORT     echo everything back
 *
 * Prints "benchsrv: ready" on stdout once listening. Exits on SIGTERM, or
 * by itself after --max-seconds (default 3600): it never outlives a run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_HTTP, M_SINK, M_ECHO };

#define BUF_SIZE	65536
#define MAX_EVENTS	256

struct conn {
	int fd;
	size_t have;		/* bytes of an unfinished request head */
	char buf[BUF_SIZE];
};

static enum mode mode;
static char response[1024];
static size_t response_len;
static int listen_fd;

static void die(const char *what)
{
	fprintf(stderr, "benchsrv: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_on(const char *addr, int port, bool reuseport)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	int fd, one = 1, v6 = !!strchr(addr, ':');

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (v6) {
		s6.sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &s6.sin6_addr) != 1)
			die("bad address");
		if (bind(fd, (void *)&s6, sizeof(s6)))
			die("bind");
	} else {
		s4.sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s4.sin_addr) != 1)
			die("bad address");
		if (bind(fd, (void *)&s4, sizeof(s4)))
			die("bind");
	}
	if (listen(fd, 4096))
		die("listen");
	return fd;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Blocking-ish write of a whole reply: replies are small, the socket
 * buffer takes them; on EAGAIN wait for room (rare, bounded by the peer). */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EAGAIN) {
			fd_set wf;

			FD_ZERO(&wf);
			FD_SET(fd, &wf);
			if (select(fd + 1, NULL, &wf, NULL, NULL) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Count complete request heads in c->buf, answer each, keep the rest. */
static int http_serve(struct conn *c)
{
	static __thread char out[64 * 1024];
	size_t off = 0, outn = 0;

	for (;;) {
		char *end = memmem(c->buf + off, c->have - off, "\r\n\r\n", 4);

		if (!end)
			break;
		off = (size_t)(end - c->buf) + 4;
		if (outn + response_len > sizeof(out)) {
			if (write_all(c->fd, out, outn))
				return -1;
			outn = 0;
		}
		memcpy(out + outn, response, response_len);
		outn += response_len;
	}
	if (outn && write_all(c->fd, out, outn))
		return -1;
	if (off) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	} else if (c->have == sizeof(c->buf)) {
		return -1;	/* a head larger than the buffer: not ours */
	}
	return 0;
}

static int on_readable(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (mode == M_HTTP)
			n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
		else
			n = read(c->fd, c->buf, sizeof(c->buf));
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0)
			return -1;
		switch (mode) {
		case M_HTTP:
			c->have += (size_t)n;
			if (http_serve(c))
				return -1;
			break;
		case M_SINK:
			break;
		case M_ECHO:
			if (write_all(c->fd, c->buf, (size_t)n))
				return -1;
			break;
		}
		if (mode != M_HTTP && n < (ssize_t)sizeof(c->buf))
			return 0;
	}
}

static void *loop(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[MAX_EVENTS];
	int ep = epoll_create1(0), i, n, lfd = (int)(long)arg;

	if (ep < 0)
		die("epoll_create1");
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		die("epoll_ctl");
	for (;;) {
		n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				int fd, one = 1;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = malloc(sizeof(*c));
					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					c->have = 0;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
						close(fd);
						free(c);
					}
				}
				continue;
			}
			if (on_readable(c))
				conn_close(ep, c);
		}
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *tag = "b1";
	int port, i, threads = 1, body = 64, max_seconds = 3600;
	char bodybuf[512];
	pthread_t t;

	if (argc < 4) {
		fprintf(stderr, "usage: benchsrv http|sink|echo ADDR PORT [--tag NAME] [--body BYTES] [--threads N] [--max-seconds S]\n");
		return 2;
	}
	if (!strcmp(argv[1], "http"))
		mode = M_HTTP;
	else if (!strcmp(argv[1], "sink"))
		mode = M_SINK;
	else if (!strcmp(argv[1], "echo"))
		mode = M_ECHO;
	else
		return 2;
	port = atoi(argv[3]);
	for (i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tag"))
			tag = argv[i + 1];
		else if (!strcmp(argv[i], "--body"))
			body = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--max-seconds"))
			max_seconds = atoi(argv[i + 1]);
		else
			return 2;
	}
	if (body < 0 || body >= (int)sizeof(bodybuf) || threads < 1 || threads > 16)
		return 2;
	memset(bodybuf, 'x', (size_t)body);
	if (body)
		bodybuf[body - 1] = '\n';
	response_len = (size_t)snprintf(response, sizeof(response),
		"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n"
		"x-backend: %s\r\n\r\n%.*s", body, tag, body, bodybuf);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((unsigned)max_seconds);
	listen_fd = listen_on(argv[2], port, threads > 1);
	for (i = 1; i < threads; i++) {
		int fd = listen_on(argv[2], port, true);

		if (pthread_create(&t, NULL, loop, (void *)(long)fd))
			die("pthread_create");
	}
	printf("benchsrv: ready\n");
	fflush(stdout);
	loop((void *)(long)listen_fd);
	return 0;
}

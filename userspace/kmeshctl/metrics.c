// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmeshctl metrics: serve the node's counters to Prometheus over HTTP
 * (libmicrohttpd), at /metrics, in the text exposition format.
 *
 * One renderer: a scrape runs exactly what `kmeshctl stats --prometheus`
 * runs, with its output captured, so the two can never disagree and every
 * counter added to `stats` is served without touching this file. Like the
 * other commands, this one holds no state: it reads the pinned maps on
 * each scrape, and may be restarted at any time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "kmeshctl.h"

#define METRICS_DEFAULT_LISTEN	"127.0.0.1:15020"
#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Scrapes are rendered one at a time: they swap the process's stdout. */
static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Run `kmeshctl stats --prometheus` in this process with stdout and stderr
 * going to memory. glibc documents stdout and stderr as ordinary variables
 * that may be assigned ("Standard Streams" in its manual); only this
 * thread prints while they are swapped (the main thread waits in
 * sigwait()). Returns the command's exit code; *out and *err are
 * malloc'ed, NUL-terminated.
 */
static int render(char **out, size_t *out_len, char **err, size_t *err_len)
{
	char *argv[] = { "stats", "--prometheus", NULL };
	FILE *mo, *me, *saved_out, *saved_err;
	int rc;

	*out = *err = NULL;
	*out_len = *err_len = 0;
	mo = open_memstream(out, out_len);
	me = open_memstream(err, err_len);
	if (!mo || !me) {
		if (mo)
			fclose(mo);
		if (me)
			fclose(me);
		free(*out);
		free(*err);
		*out = *err = NULL;
		return -1;
	}
	pthread_mutex_lock(&render_lock);
	fflush(stdout);
	fflush(stderr);
	saved_out = stdout;
	saved_err = stderr;
	stdout = mo;
	stderr = me;
	optind = 0;		/* getopt: start afresh on the new argv */
	rc = cmd_stats(2, argv);
	stdout = saved_out;
	stderr = saved_err;
	optind = 0;
	pthread_mutex_unlock(&render_lock);
	fclose(mo);
	fclose(me);
	return rc;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status,
			       const char *type, char *body, size_t len,
			       enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn,
				    unsigned int status, const char *text)
{
	return respond(conn, status, "text/plain; charset=utf-8", (char *)text,
		       strlen(text), MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	char *body, *err;
	size_t len, err_len;
	int rc;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "kmesh metrics: only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return respond_text(conn, MHD_HTTP_OK,
				    "kmesh metrics: Prometheus text at /metrics\n");
	if (strcmp(url, "/metrics"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND,
				    "kmesh metrics: not found; try /metrics\n");

	rc = render(&body, &len, &err, &err_len);
	if (rc < 0)
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "kmesh metrics: out of memory\n");
	if (rc) {
		/* Not up, or state unreadable: the scrape fails, saying why. */
		free(body);
		return respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			       "text/plain; charset=utf-8", err, err_len,
			       MHD_RESPMEM_MUST_FREE);
	}
	free(err);
	return respond(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, body, len,
		       MHD_RESPMEM_MUST_FREE);
}

/*
 * ADDR is HOST:PORT, [IPV6]:PORT or :PORT (every address, IPv4 and IPv6).
 * The socket is ours so that a refusal (port taken, address not local)
 * is reported with its errno.
 */
static int listen_on(const char *spec, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256] = "";
	const char *port, *colon;
	int fd = -1, one = 1, zero = 0, e;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host))
			goto syntax;
		memcpy(host, spec + 1, close - spec - 1);
		host[close - spec - 1] = '\0';
		port = close + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host))
			goto syntax;
		memcpy(host, spec, colon - spec);
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	if (!port[0] || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) < 1 || atoi(port) > 65535)
		goto syntax;
	/* Every address: one IPv6 socket that takes IPv4 too. */
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
	e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (e) {
		snprintf(err, err_size, "%s: %s", spec, gai_strerror(e));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6 && !host[0])
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64))
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	snprintf(err, err_size, "cannot listen on %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
syntax:
	snprintf(err, err_size, "--listen %s: expected HOST:PORT, [IPV6]:PORT or :PORT", spec);
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kmeshctl metrics [--listen ADDR]\n"
		"  serve `kmeshctl stats --prometheus` over HTTP at /metrics until\n"
		"  SIGINT/SIGTERM. ADDR: HOST:PORT, [IPV6]:PORT or :PORT (all\n"
		"  addresses); default " METRICS_DEFAULT_LISTEN ".\n");
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *addr = METRICS_DEFAULT_LISTEN;
	struct MHD_Daemon *d;
	sigset_t stop;
	char err[512];
	int c, fd, sig;

	while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			addr = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	fd = listen_on(addr, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "kmeshctl: metrics: %s\n", err);
		return 1;
	}
	/* Blocked here, so also in the server's thread: sigwait() gets them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	/*
	 * One polling thread serves every connection: scrapes are small and
	 * rare, and rendering swaps stdout (see render()).
	 */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "kmeshctl: metrics: cannot start the HTTP server on %s\n", addr);
		close(fd);
		return 1;
	}
	printf("kmeshctl metrics: serving Prometheus text at http://%s/metrics\n", addr);
	fflush(stdout);
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	close(fd);
	printf("kmeshctl metrics: stopped (%s)\n", strsignal(sig));
	return 0;
}

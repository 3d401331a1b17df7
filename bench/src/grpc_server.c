// SPDX-License-Identifier: GPL-2.0-only
/*
 * grpc_server: a gRPC server on Debian's gRPC C core for kmesh's tests
 * and benchmark (issue 17). Cleartext HTTP/2 (h2c), any method, raw byte
 * messages (no protobuf): each unary call gets one reply message and a
 * status, and is counted per method.
 *
 *	grpc_server [-q] ADDRESS		e.g. 127.0.0.1:18201
 *
 * Replies "METHOD BYTES" (the request's size) with status OK. A method
 * whose last part is Status<N> (/pkg.Svc/Status7) answers status N
 * instead; /kmesh.test.Control/Counts answers the counts so far. On
 * SIGTERM or SIGINT it prints the counts ("count METHOD N", then
 * "calls N") and exits 0. It prints "listening ADDRESS" once it serves.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#define MAX_METHODS	256
#define METHOD_MAX	200
#define CONTROL_COUNTS	"/kmesh.test.Control/Counts"

struct method_count {
	char name[METHOD_MAX];
	unsigned long n;
};

static struct method_count counts[MAX_METHODS];
static unsigned int nr_counts;
static unsigned long total, other;	/* other: methods past the table */
static volatile sig_atomic_t stop;
static bool quiet;

enum phase { P_NEW, P_READ, P_DONE };

struct call {
	enum phase phase;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array md;
	grpc_byte_buffer *req;
	grpc_byte_buffer *resp;
	grpc_slice details_text;
	int cancelled;
	char method[METHOD_MAX];
	char reply[4096];
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void count(const char *method)
{
	unsigned int i;

	total++;
	for (i = 0; i < nr_counts; i++)
		if (!strcmp(counts[i].name, method)) {
			counts[i].n++;
			return;
		}
	if (nr_counts == MAX_METHODS) {
		other++;
		return;
	}
	snprintf(counts[nr_counts].name, METHOD_MAX, "%s", method);
	counts[nr_counts++].n = 1;
}

static int print_counts(char *buf, size_t size)
{
	size_t off = 0;
	unsigned int i;

	for (i = 0; i < nr_counts && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "count %s %lu\n",
					counts[i].name, counts[i].n);
	if (off < size && other)
		off += (size_t)snprintf(buf + off, size - off, "count (others) %lu\n", other);
	if (off < size)
		off += (size_t)snprintf(buf + off, size - off, "calls %lu\n", total);
	return off < size ? (int)off : (int)size - 1;
}

static struct call *call_new(grpc_server *srv, grpc_completion_queue *cq)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c) {
		fprintf(stderr, "grpc_server: out of memory\n");
		exit(1);
	}
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->md);
	if (grpc_server_request_call(srv, &c->call, &c->details, &c->md, cq, cq,
				     c) != GRPC_CALL_OK) {
		fprintf(stderr, "grpc_server: cannot request a call\n");
		exit(1);
	}
	return c;
}

static void call_free(struct call *c)
{
	if (c->req)
		grpc_byte_buffer_destroy(c->req);
	if (c->resp)
		grpc_byte_buffer_destroy(c->resp);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->md);
	if (c->call)
		grpc_call_unref(c->call);
	free(c);
}

/* The status a method asks for: .../Status<N>, else OK. */
static grpc_status_code wanted_status(const char *method)
{
	const char *last = strrchr(method, '/');
	char *end;
	long n;

	if (!last || strncmp(last + 1, "Status", 6))
		return GRPC_STATUS_OK;
	n = strtol(last + 7, &end, 10);
	if (end == last + 7 || *end || n < 0 || n > 16)
		return GRPC_STATUS_OK;
	return (grpc_status_code)n;
}

static void answer(struct call *c)
{
	grpc_op ops[4] = {};
	grpc_status_code code = wanted_status(c->method);
	size_t len = c->req ? grpc_byte_buffer_length(c->req) : 0;
	grpc_slice s;
	int n;

	count(c->method);
	if (!strcmp(c->method, CONTROL_COUNTS))
		n = print_counts(c->reply, sizeof(c->reply));
	else
		n = snprintf(c->reply, sizeof(c->reply), "%s %zu", c->method, len);
	s = grpc_slice_from_copied_buffer(c->reply, (size_t)n);
	c->resp = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = c->resp;
	ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[2].data.send_status_from_server.status = code;
	c->details_text = grpc_slice_from_static_string(code ? "asked for" : "");
	ops[2].data.send_status_from_server.status_details = &c->details_text;
	ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[3].data.recv_close_on_server.cancelled = &c->cancelled;
	c->phase = P_DONE;
	if (grpc_call_start_batch(c->call, ops, 4, c, NULL) != GRPC_CALL_OK) {
		fprintf(stderr, "grpc_server: %s: cannot answer\n", c->method);
		call_free(c);
	}
}

int main(int argc, char **argv)
{
	grpc_server_credentials *creds;
	grpc_completion_queue *cq;
	grpc_server *srv;
	const char *addr;
	char buf[65536];
	int opt;

	while ((opt = getopt(argc, argv, "q")) != -1) {
		if (opt == 'q') {
			quiet = true;
			continue;
		}
		fprintf(stderr, "usage: grpc_server [-q] ADDRESS\n");
		return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: grpc_server [-q] ADDRESS\n");
		return 2;
	}
	addr = argv[optind];
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	grpc_init();
	srv = grpc_server_create(NULL, NULL);
	cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(srv, cq, NULL);
	creds = grpc_insecure_server_credentials_create();
	if (!grpc_server_add_http2_port(srv, addr, creds)) {
		fprintf(stderr, "grpc_server: cannot listen on %s\n", addr);
		return 1;
	}
	grpc_server_credentials_release(creds);
	grpc_server_start(srv);
	call_new(srv, cq);
	printf("listening %s\n", addr);
	fflush(stdout);
	while (!stop) {
		gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
					       gpr_time_from_millis(200, GPR_TIMESPAN));
		grpc_event ev = grpc_completion_queue_next(cq, dl, NULL);
		struct call *c = ev.tag;
		grpc_op op = {};

		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		switch (c->phase) {
		case P_NEW:
			call_new(srv, cq);	/* the next one */
			if (!ev.success) {
				call_free(c);
				break;
			}
			snprintf(c->method, sizeof(c->method), "%.*s",
				 (int)GRPC_SLICE_LENGTH(c->details.method),
				 (const char *)GRPC_SLICE_START_PTR(c->details.method));
			op.op = GRPC_OP_RECV_MESSAGE;
			op.data.recv_message.recv_message = &c->req;
			c->phase = P_READ;
			if (grpc_call_start_batch(c->call, &op, 1, c, NULL) != GRPC_CALL_OK)
				call_free(c);
			break;
		case P_READ:
			answer(c);
			break;
		case P_DONE:
			if (!quiet)
				printf("served %s\n", c->method);
			call_free(c);
			break;
		}
	}
	print_counts(buf, sizeof(buf));
	fputs(buf, stdout);
	fflush(stdout);
	grpc_server_shutdown_and_notify(srv, cq, NULL);
	grpc_server_cancel_all_calls(srv);
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(cq,
				gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
					     gpr_time_from_seconds(2, GPR_TIMESPAN)), NULL);

		if (ev.type != GRPC_OP_COMPLETE)
			break;
		if (ev.tag)
			call_free(ev.tag);
		else
			break;	/* shutdown done */
	}
	grpc_server_destroy(srv);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_past(GPR_CLOCK_MONOTONIC),
					  NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	grpc_shutdown();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * grpc_client: a gRPC client on Debian's gRPC C core for kmesh's tests
 * and benchmark (issue 17). One channel (one HTTP/2 connection, h2c),
 * unary calls with raw byte messages (no protobuf).
 *
 * Calls mode: N calls, C at once, spread in turn over the methods; one
 * line per call ("call I METHOD status CODE"), then a summary; exit 1
 * if a call failed. With -e, each method's calls must end with the
 * status given at its position instead (a comma list: -e 0,7): exit 1
 * on any mismatch.
 *
 *	grpc_client [-p] [-n N] [-c C] [-e CODES] [-t SECONDS] ADDRESS METHOD...
 *
 * -p prints each reply message after its call's line ("reply TEXT").
 *
 * Load mode (-d): calls for D seconds, C at once, at most R per second
 * when -r is given, spread over the methods; prints one line:
 *	"load calls N ok K failed F seconds S rps X p50_us A p99_us B"
 * and exits 1 if any call failed.
 *
 *	grpc_client -d D [-r R] [-c C] ADDRESS METHOD...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#define MAX_METHODS	64
#define MAX_INFLIGHT	1024
#define MAX_LAT		(1U << 22)	/* latencies kept for percentiles */

struct slot {
	bool busy;
	unsigned long index;
	unsigned int method;
	double start;
	grpc_call *call;
	grpc_byte_buffer *req;
	grpc_byte_buffer *resp;
	grpc_metadata_array initial_md;
	grpc_metadata_array trailing_md;
	grpc_status_code status;
	grpc_slice details;
};

static const char *methods[MAX_METHODS];
static int expected[MAX_METHODS];
static unsigned int nr_methods;
static bool have_expect, print_reply;
static grpc_channel *channel;
static grpc_completion_queue *cq;
static struct slot slots[MAX_INFLIGHT];
static double timeout_s = 10;
static double *lat;
static size_t nr_lat;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: grpc_client [-p] [-n N] [-c C] [-e CODES] [-t SECONDS] ADDRESS METHOD...\n"
		"       grpc_client -d SECONDS [-r PER_SECOND] [-c C] ADDRESS METHOD...\n");
	exit(2);
}

static unsigned long parse_ul(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "grpc_client: %s: '%s' is not a number up to %lu\n",
			what, s, max);
		exit(2);
	}
	return v;
}

static void parse_expect(const char *s)
{
	unsigned int i = 0;
	char *dup = strdup(s), *tok, *save = NULL;

	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (i == MAX_METHODS)
			usage();
		expected[i++] = (int)parse_ul(tok, "-e", 16);
	}
	free(dup);
	if (!i)
		usage();
	have_expect = true;
	nr_methods = i;	/* checked against the methods below */
}

static int start(struct slot *s, unsigned long index, unsigned int method)
{
	grpc_op ops[6] = {};
	char msg[64];
	grpc_slice body, m;
	int n;

	memset(s, 0, sizeof(*s));
	s->busy = true;
	s->index = index;
	s->method = method;
	s->start = now_s();
	m = grpc_slice_from_static_string(methods[method]);
	s->call = grpc_channel_create_call(channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, m,
					   NULL,
					   gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
							gpr_time_from_millis((int64_t)(timeout_s * 1000),
									     GPR_TIMESPAN)),
					   NULL);
	if (!s->call)
		return -1;
	n = snprintf(msg, sizeof(msg), "call %lu", index);
	body = grpc_slice_from_copied_buffer(msg, (size_t)n);
	s->req = grpc_raw_byte_buffer_create(&body, 1);
	grpc_slice_unref(body);
	grpc_metadata_array_init(&s->initial_md);
	grpc_metadata_array_init(&s->trailing_md);
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = s->req;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &s->resp;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
	ops[5].data.recv_status_on_client.status = &s->status;
	ops[5].data.recv_status_on_client.status_details = &s->details;
	return grpc_call_start_batch(s->call, ops, 6, s, NULL) == GRPC_CALL_OK ? 0 : -1;
}

static void finish(struct slot *s)
{
	if (s->req)
		grpc_byte_buffer_destroy(s->req);
	if (s->resp)
		grpc_byte_buffer_destroy(s->resp);
	grpc_metadata_array_destroy(&s->initial_md);
	grpc_metadata_array_destroy(&s->trailing_md);
	grpc_slice_unref(s->details);
	grpc_call_unref(s->call);
	s->busy = false;
}

/* Wait for one call to end (up to @wait_s); the slot, or NULL. */
static struct slot *reap(double wait_s)
{
	gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
				       gpr_time_from_micros((int64_t)(wait_s * 1e6),
							    GPR_TIMESPAN));
	grpc_event ev = grpc_completion_queue_next(cq, dl, NULL);

	if (ev.type != GRPC_OP_COMPLETE)
		return NULL;
	return ev.tag;
}

static void print_message(grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader rd;
	grpc_slice sl = grpc_empty_slice();

	if (!grpc_byte_buffer_reader_init(&rd, bb))
		return;
	sl = grpc_byte_buffer_reader_readall(&rd);
	printf("reply %.*s\n", (int)GRPC_SLICE_LENGTH(sl),
	       (const char *)GRPC_SLICE_START_PTR(sl));
	grpc_slice_unref(sl);
	grpc_byte_buffer_reader_destroy(&rd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double q)
{
	size_t i;

	if (!nr_lat)
		return 0;
	i = (size_t)(q * (double)(nr_lat - 1) + 0.5);
	return lat[i];
}

int main(int argc, char **argv)
{
	unsigned long n = 1, conc = 1, rate = 0, issued = 0, done = 0, ok = 0,
		      failed = 0, mismatched = 0, i;
	double duration = 0, t0, elapsed;
	unsigned int nr_expect = 0, inflight = 0;
	grpc_channel_credentials *creds;
	const char *addr;
	int opt;

	while ((opt = getopt(argc, argv, "pn:c:e:t:d:r:")) != -1) {
		switch (opt) {
		case 'p':
			print_reply = true;
			break;
		case 'n':
			n = parse_ul(optarg, "-n", 100000000);
			break;
		case 'c':
			conc = parse_ul(optarg, "-c", MAX_INFLIGHT);
			break;
		case 'e':
			parse_expect(optarg);
			nr_expect = nr_methods;
			break;
		case 't':
			timeout_s = (double)parse_ul(optarg, "-t", 3600);
			break;
		case 'd':
			duration = (double)parse_ul(optarg, "-d", 3600);
			break;
		case 'r':
			rate = parse_ul(optarg, "-r", 10000000);
			break;
		default:
			usage();
		}
	}
	if (optind + 2 > argc || !conc || (!duration && !n))
		usage();
	addr = argv[optind++];
	nr_methods = 0;
	for (; optind < argc; optind++) {
		if (nr_methods == MAX_METHODS || argv[optind][0] != '/') {
			fprintf(stderr, "grpc_client: '%s': methods are /package.Service/Method (at most %d)\n",
				argv[optind], MAX_METHODS);
			return 2;
		}
		methods[nr_methods++] = argv[optind];
	}
	if (have_expect && nr_expect != nr_methods) {
		fprintf(stderr, "grpc_client: -e gives %u codes for %u methods\n",
			nr_expect, nr_methods);
		return 2;
	}
	if (duration) {
		lat = malloc(MAX_LAT * sizeof(*lat));
		if (!lat)
			return 1;
	}
	grpc_init();
	creds = grpc_insecure_credentials_create();
	channel = grpc_channel_create(addr, creds, NULL);
	grpc_channel_credentials_release(creds);
	cq = grpc_completion_queue_create_for_next(NULL);
	t0 = now_s();
	for (;;) {
		double t = now_s() - t0;
		bool more = duration ? t < duration && (!rate || issued < (unsigned long)(t * rate) + 1) :
				       issued < n;
		struct slot *s;

		/* start what may start */
		while (more && inflight < conc) {
			for (i = 0; i < conc && slots[i].busy; i++)
				;
			if (start(&slots[i], issued, (unsigned int)(issued % nr_methods))) {
				fprintf(stderr, "grpc_client: cannot start a call\n");
				return 1;
			}
			issued++;
			inflight++;
			t = now_s() - t0;
			more = duration ? t < duration && (!rate || issued < (unsigned long)(t * rate) + 1) :
					  issued < n;
		}
		if (!inflight && !more) {
			if (!duration || t >= duration)
				break;
			usleep(1000);	/* paced: wait for the next slot */
			continue;
		}
		s = reap(inflight ? timeout_s + 5 : 0.001);
		if (!s) {
			if (inflight) {
				fprintf(stderr, "grpc_client: no call ended in %.0f s\n",
					timeout_s + 5);
				return 1;
			}
			continue;
		}
		inflight--;
		done++;
		if (s->status == GRPC_STATUS_OK)
			ok++;
		else
			failed++;
		if (duration) {
			if (nr_lat < MAX_LAT)
				lat[nr_lat++] = (now_s() - s->start) * 1e6;
		} else {
			printf("call %lu %s status %d", s->index, methods[s->method],
			       (int)s->status);
			if (s->status != GRPC_STATUS_OK)
				printf(" (%.*s)", (int)GRPC_SLICE_LENGTH(s->details),
				       (const char *)GRPC_SLICE_START_PTR(s->details));
			if (have_expect && (int)s->status != expected[s->method]) {
				printf(" MISMATCH: expected %d", expected[s->method]);
				mismatched++;
			}
			printf("\n");
			if (print_reply && s->resp)
				print_message(s->resp);
		}
		finish(s);
	}
	elapsed = now_s() - t0;
	if (duration) {
		qsort(lat, nr_lat, sizeof(*lat), cmp_double);
		printf("load calls %lu ok %lu failed %lu seconds %.3f rps %.1f p50_us %.0f p99_us %.0f\n",
		       done, ok, failed, elapsed, done / elapsed, pct(0.5), pct(0.99));
	} else {
		printf("calls %lu ok %lu failed %lu mismatched %lu seconds %.3f\n",
		       done, ok, failed, mismatched, elapsed);
	}
	fflush(stdout);
	grpc_channel_destroy(channel);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_past(GPR_CLOCK_MONOTONIC),
					  NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	grpc_shutdown();
	free(lat);
	return (have_expect ? mismatched : failed) ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "ads_stream.h"

#define ADS_METHOD "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"

/* Completion-queue tags: which batch finished. */
enum { TAG_START = 1, TAG_RECV, TAG_SEND, TAG_STATUS };

struct pending {
	struct pending *next;
	grpc_byte_buffer *bb;
};

struct ads_stream {
	grpc_channel *channel;
	grpc_completion_queue *cq;
	grpc_call *call;
	int outstanding;	/* batches started and not yet completed */
	bool closed;		/* status received or a batch failed */
	bool sending;
	grpc_byte_buffer *inflight;	/* owned until its send completes */
	struct pending *queue, **tail;
	grpc_byte_buffer *recv_bb;
	grpc_metadata_array initial_md, trailing_md;
	grpc_status_code status;
	grpc_slice status_details;
	char auth[4096];
	char why[256];
};

void ads_global_init(void)
{
	grpc_init();
}

void ads_global_shutdown(void)
{
	grpc_shutdown();
}

static char *read_file(const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, err_size, "%s: cannot read", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int start_batch(struct ads_stream *s, grpc_op *ops, size_t n, long tag)
{
	if (grpc_call_start_batch(s->call, ops, n, (void *)tag, NULL) != GRPC_CALL_OK) {
		s->closed = true;
		snprintf(s->why, sizeof(s->why), "gRPC refused a batch");
		return -1;
	}
	s->outstanding++;
	return 0;
}

static int start_recv(struct ads_stream *s)
{
	grpc_op op = { .op = GRPC_OP_RECV_MESSAGE };

	op.data.recv_message.recv_message = &s->recv_bb;
	return start_batch(s, &op, 1, TAG_RECV);
}

static void send_next(struct ads_stream *s)
{
	struct pending *p = s->queue;
	grpc_op op = { .op = GRPC_OP_SEND_MESSAGE };

	if (s->sending || !p || s->closed)
		return;
	s->queue = p->next;
	if (!s->queue)
		s->tail = &s->queue;
	op.data.send_message.send_message = p->bb;
	s->inflight = p->bb;
	free(p);
	if (start_batch(s, &op, 1, TAG_SEND) == 0)
		s->sending = true;
}

struct ads_stream *ads_stream_open(const struct ads_target *t,
				   char *err, size_t err_size)
{
	struct ads_stream *s = calloc(1, sizeof(*s));
	grpc_channel_credentials *creds;
	grpc_arg args[3];
	grpc_channel_args chargs = { .num_args = 3, .args = args };
	grpc_metadata md = {};
	grpc_op ops[3] = {};
	size_t nops = 0;

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	s->tail = &s->queue;
	if (t->ca_file) {
		char *pem = read_file(t->ca_file, err, err_size);

		if (!pem) {
			free(s);
			return NULL;
		}
		creds = grpc_ssl_credentials_create(pem, NULL, NULL, NULL);
		free(pem);
	} else {
		creds = grpc_insecure_credentials_create();
	}
	/* Large meshes send large responses; the agent's own backoff, not
	 * gRPC's, paces reconnects (each attempt is a fresh channel). */
	args[0] = (grpc_arg){ .type = GRPC_ARG_INTEGER,
		.key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = -1 };
	args[1] = (grpc_arg){ .type = GRPC_ARG_INTEGER,
		.key = GRPC_ARG_KEEPALIVE_TIME_MS, .value.integer = 30000 };
	args[2] = (grpc_arg){ .type = GRPC_ARG_INTEGER,
		.key = GRPC_ARG_KEEPALIVE_TIMEOUT_MS, .value.integer = 10000 };
	s->channel = grpc_channel_create(t->address, creds, &chargs);
	grpc_channel_credentials_release(creds);
	s->cq = grpc_completion_queue_create_for_next(NULL);
	s->call = grpc_channel_create_call(s->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
					   s->cq, grpc_slice_from_static_string(ADS_METHOD),
					   NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (!s->call) {
		snprintf(err, err_size, "%s: cannot create a gRPC call", t->address);
		grpc_completion_queue_shutdown(s->cq);
		grpc_completion_queue_destroy(s->cq);
		grpc_channel_destroy(s->channel);
		free(s);
		return NULL;
	}
	grpc_metadata_array_init(&s->initial_md);
	grpc_metadata_array_init(&s->trailing_md);

	ops[nops].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (t->token) {
		snprintf(s->auth, sizeof(s->auth), "Bearer %s", t->token);
		md.key = grpc_slice_from_static_string("authorization");
		md.value = grpc_slice_from_static_string(s->auth);
		ops[nops].data.send_initial_metadata.count = 1;
		ops[nops].data.send_initial_metadata.metadata = &md;
	}
	nops++;
	ops[nops].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[nops].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
	nops++;
	if (start_batch(s, ops, nops, TAG_START))
		goto fail;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
	ops[0].data.recv_status_on_client.status = &s->status;
	ops[0].data.recv_status_on_client.status_details = &s->status_details;
	if (start_batch(s, ops, 1, TAG_STATUS) || start_recv(s))
		goto fail;
	return s;
fail:
	snprintf(err, err_size, "%s: %s", t->address, s->why);
	ads_stream_close(s);
	return NULL;
}

int ads_stream_send(struct ads_stream *s, const void *buf, size_t len)
{
	struct pending *p;
	grpc_slice slice;

	if (s->closed)
		return -1;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	slice = grpc_slice_from_copied_buffer(buf, len);
	p->bb = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	*s->tail = p;
	s->tail = &p->next;
	send_next(s);
	return 0;
}

static void *take_message(grpc_byte_buffer *bb, size_t *len)
{
	grpc_byte_buffer_reader r;
	grpc_slice all;
	void *buf;

	if (!grpc_byte_buffer_reader_init(&r, bb))
		return NULL;
	all = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	*len = GRPC_SLICE_LENGTH(all);
	buf = malloc(*len ? *len : 1);
	if (buf)
		memcpy(buf, GRPC_SLICE_START_PTR(all), *len);
	grpc_slice_unref(all);
	return buf;
}

enum ads_event ads_stream_poll(struct ads_stream *s, int timeout_ms,
			       void **msg, size_t *len, char *why, size_t why_size)
{
	gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
					     gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));

	for (;;) {
		grpc_event ev;
		long tag;

		if (s->closed && !s->sending) {
			snprintf(why, why_size, "%s", s->why);
			return ADS_EV_CLOSED;
		}
		ev = grpc_completion_queue_next(s->cq, deadline, NULL);
		if (ev.type == GRPC_QUEUE_TIMEOUT)
			return ADS_EV_TIMEOUT;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		s->outstanding--;
		tag = (long)ev.tag;
		switch (tag) {
		case TAG_SEND:
			grpc_byte_buffer_destroy(s->inflight);
			s->inflight = NULL;
			s->sending = false;
			send_next(s);
			break;
		case TAG_RECV:
			if (!s->recv_bb) {
				/* End of stream: the status batch says why. */
				if (!s->closed)
					snprintf(s->why, sizeof(s->why), "the server ended the stream");
				break;
			}
			*msg = take_message(s->recv_bb, len);
			grpc_byte_buffer_destroy(s->recv_bb);
			s->recv_bb = NULL;
			if (start_recv(s) == 0 && *msg)
				return ADS_EV_MESSAGE;
			break;
		case TAG_STATUS: {
			char *details = grpc_slice_to_c_string(s->status_details);

			s->closed = true;
			snprintf(s->why, sizeof(s->why), "stream closed: gRPC status %d%s%s",
				 (int)s->status, details[0] ? ": " : "", details);
			gpr_free(details);
			break;
		}
		default:	/* TAG_START */
			if (!ev.success) {
				s->closed = true;
				snprintf(s->why, sizeof(s->why), "the call could not start");
			}
			break;
		}
	}
}

void ads_stream_close(struct ads_stream *s)
{
	struct pending *p;

	if (!s)
		return;
	grpc_call_cancel(s->call, NULL);
	while (s->outstanding > 0) {
		grpc_event ev = grpc_completion_queue_next(s->cq,
			gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

		if (ev.type == GRPC_OP_COMPLETE)
			s->outstanding--;
	}
	if (s->recv_bb)
		grpc_byte_buffer_destroy(s->recv_bb);
	if (s->inflight)
		grpc_byte_buffer_destroy(s->inflight);
	while ((p = s->queue)) {
		s->queue = p->next;
		grpc_byte_buffer_destroy(p->bb);
		free(p);
	}
	grpc_call_unref(s->call);
	grpc_completion_queue_shutdown(s->cq);
	while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
					  NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(s->cq);
	grpc_metadata_array_destroy(&s->initial_md);
	grpc_metadata_array_destroy(&s->trailing_md);
	grpc_slice_unref(s->status_details);
	grpc_channel_destroy(s->channel);
	free(s);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One ADS stream (envoy.service.discovery.v3.AggregatedDiscoveryService/
 * StreamAggregatedResources) over gRPC's C core (libgrpc from Debian): the
 * library does HTTP/2, TLS, flow control and framing; this file only
 * starts the call, queues serialized DiscoveryRequests and hands back
 * serialized DiscoveryResponses. Single-threaded: the caller polls.
 */
#ifndef KMESH_AGENT_ADS_STREAM_H
#define KMESH_AGENT_ADS_STREAM_H

#include <stddef.h>

struct ads_stream;

struct ads_target {
	const char *address;	/* "host:port", gRPC target syntax */
	const char *ca_file;	/* TLS with this CA bundle; NULL: plaintext */
	const char *token;	/* sent as "authorization: Bearer TOKEN"; NULL: none */
};

/* A new channel and call; NULL with @err set. */
struct ads_stream *ads_stream_open(const struct ads_target *t,
				   char *err, size_t err_size);
/* Queue one message (copied). 0 or -1 when the stream is closed. */
int ads_stream_send(struct ads_stream *s, const void *buf, size_t len);

enum ads_event {
	ADS_EV_TIMEOUT,		/* nothing within the timeout */
	ADS_EV_MESSAGE,		/* *msg (malloc'd, caller frees), *len */
	ADS_EV_CLOSED,		/* the stream ended; @why says how */
};
enum ads_event ads_stream_poll(struct ads_stream *s, int timeout_ms,
			       void **msg, size_t *len, char *why, size_t why_size);
/* Cancel the call, wait for its operations, free everything. */
void ads_stream_close(struct ads_stream *s);

void ads_global_init(void);
void ads_global_shutdown(void);

#endif

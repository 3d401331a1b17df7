// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmeshctl and the L7 per-request plane: which mode runs (status), the
 * per-route counters (stats, Prometheus text) and the request log (log).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmeshctl.h"
#include "kmesh_maps.h"
#include "l4_bpf.h"
#include "l7_bpf.h"
#include "mesh_config.h"
#include "mode.h"

/* ---- names ---- */

struct l7_names {
	struct l4_handle h;
	bool have_h;
	struct l4_id_entry *ids;
	size_t nr_ids;
	int names_fd;
};

static void names_open(struct l7_names *nm)
{
	char err[256];

	memset(nm, 0, sizeof(*nm));
	nm->names_fd = kmesh_map_fd("kmesh_l7_names");
	if (nm->names_fd < 0)
		nm->names_fd = -1;
	if (!l4_open(&nm->h, err, sizeof(err))) {
		nm->have_h = true;
		l4_read_registry(&nm->h, &nm->ids, &nm->nr_ids);
	}
}

static void names_close(struct l7_names *nm)
{
	free(nm->ids);
	if (nm->have_h)
		l4_close(&nm->h);
	if (nm->names_fd >= 0)
		close(nm->names_fd);
}

/* Name of a service, cluster or endpoint id (enum kmesh_l4_kind). */
static const char *l4_name(struct l7_names *nm, __u32 kind, __u32 id,
			   char *buf, size_t size)
{
	const char *n = l4_id_name(nm->ids, nm->nr_ids, kind, id);

	if (!n && nm->have_h) {		/* an apply since we started */
		free(nm->ids);
		nm->ids = NULL;
		nm->nr_ids = 0;
		l4_read_registry(&nm->h, &nm->ids, &nm->nr_ids);
		n = l4_id_name(nm->ids, nm->nr_ids, kind, id);
	}
	if (n)
		return n;
	snprintf(buf, size, "id-%u", id);
	return buf;
}

static const char *service_name(struct l7_names *nm, __u32 id, char *buf,
				size_t size)
{
	return l4_name(nm, KMESH_L4_KIND_SERVICE, id, buf, size);
}

static const char *route_name(struct l7_names *nm, __u32 service_id,
			      __u32 route_id, char *buf, size_t size)
{
	if (!route_id)
		return "-";
	if (l7_name(nm->names_fd, KMESH_L7_NAME_ROUTE, service_id, route_id,
		    buf, size))
		return buf;
	snprintf(buf, size, "id-%u", route_id);
	return buf;
}

static const char *policy_name(struct l7_names *nm, __u32 service_id,
			       __u32 id, char *buf, size_t size)
{
	if (l7_name(nm->names_fd, KMESH_L7_NAME_POLICY, service_id, id, buf, size))
		return buf;
	snprintf(buf, size, "id-%u", id);
	return buf;
}

/* ---- status ---- */

void l7_status_print(void)
{
	const char *mode = kmesh_mode_running();
	int fd;

	if (!mode) {
		printf("l7 requests:   not running (kmeshctl up)\n");
		return;
	}
	if (!strcmp(mode, "kfunc"))
		printf("l7 requests:   kfunc mode (kmesh_sk_msg_l7: the module parses heads, matches routes, scans chunked bodies)\n");
	else
		printf("l7 requests:   fallback mode (kmesh_sk_msg: heads, routes and chunked bodies in eBPF)\n"
		       "  routes are matched and counted per request; endpoints are chosen at connect from the service's own cluster\n");
	fd = kmesh_map_fd("kmesh_l7_global");
	if (fd >= 0) {
		__u64 g[KMESH_L7_G_MAX];

		close(fd);
		if (!l7_read_global(g))
			printf("  %llu request heads checked, %llu refused (%llu answered, %llu dropped)\n",
			       (unsigned long long)g[KMESH_L7_G_REQUESTS],
			       (unsigned long long)g[KMESH_L7_G_DENIED],
			       (unsigned long long)g[KMESH_L7_G_REPLIED],
			       (unsigned long long)g[KMESH_L7_G_DROPPED]);
	}
}

/* ---- stats ---- */

static const char *const global_names[KMESH_L7_G_MAX] = {
	[KMESH_L7_G_REQUESTS] = "requests",
	[KMESH_L7_G_DENIED] = "denied",
	[KMESH_L7_G_REPLIED] = "replied",
	[KMESH_L7_G_DROPPED] = "dropped",
	[KMESH_L7_G_CORKED] = "corked",
	[KMESH_L7_G_RESPONSES] = "responses",
	[KMESH_L7_G_UNTRACKED] = "untracked",
	[KMESH_L7_G_FIFO_FULL] = "fifo_full",
	[KMESH_L7_G_RESP_ERROR] = "response_tracking_lost",
	[KMESH_L7_G_SCRATCH_BUSY] = "scratch_busy",
	[KMESH_L7_G_LOG_DROPPED] = "log_dropped",
	[KMESH_L7_G_INTERNAL] = "internal_drops",
	[KMESH_L7_G_UNCHECKED] = "unchecked",
	[KMESH_L7_G_TUNNELS] = "tunnels",
	[KMESH_L7_G_RX_CONNS] = "rx_connections",
	[KMESH_L7_G_RX_RESPONSES] = "rx_responses",
	[KMESH_L7_G_RX_UNPARSED] = "rx_unparsed",
	[KMESH_L7_G_RX_OPAQUE] = "rx_opaque",
	[KMESH_L7_G_H2_L4] = "h2_l4",
	[KMESH_L7_G_H2_REFUSED] = "h2_refused",
};

static const char *const global_help[KMESH_L7_G_MAX] = {
	[KMESH_L7_G_REQUESTS] = "HTTP request heads checked.",
	[KMESH_L7_G_DENIED] = "Requests refused by kmesh.",
	[KMESH_L7_G_REPLIED] = "Refusals answered with a response.",
	[KMESH_L7_G_DROPPED] = "Refusals answered by failing the write (EACCES).",
	[KMESH_L7_G_CORKED] = "Writes held back for the rest of a request head.",
	[KMESH_L7_G_RESPONSES] = "Responses paired with their request.",
	[KMESH_L7_G_UNTRACKED] = "Requests whose response kmesh cannot pair.",
	[KMESH_L7_G_FIFO_FULL] = "Requests pipelined too deep to pair their responses.",
	[KMESH_L7_G_RESP_ERROR] = "Connections on which response pairing gave up.",
	[KMESH_L7_G_SCRATCH_BUSY] = "Writes refused: no per-CPU scratch (fails closed).",
	[KMESH_L7_G_LOG_DROPPED] = "Request records lost to a full ring buffer.",
	[KMESH_L7_G_INTERNAL] = "Writes refused by no policy: storage, pull or redirect failures (fails closed).",
	[KMESH_L7_G_UNCHECKED] = "Requests passed unchecked under failure_mode_allow.",
	[KMESH_L7_G_TUNNELS] = "CONNECT requests answered 2xx: tunnels, passed unread from there.",
	[KMESH_L7_G_RX_CONNS] = "Client connections whose responses are read on receive (servers not local meshed sockets).",
	[KMESH_L7_G_RX_RESPONSES] = "Responses read on the client's receive path and paired with their request.",
	[KMESH_L7_G_RX_UNPARSED] = "Response heads on the client's receive path that kmesh cannot parse.",
	[KMESH_L7_G_RX_OPAQUE] = "Client connections passed unread from a point on (close-delimited body, unparsable head, 101, no state).",
	[KMESH_L7_G_H2_L4] = "HTTP/2 connections (client preface) carried at L4: no per-request policy applied.",
	[KMESH_L7_G_H2_REFUSED] = "HTTP/2 connections refused with GOAWAY (HTTP_1_1_REQUIRED): the service's policy needs each request.",
};

static __u64 seen(const struct kmesh_l7_stats *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < 5; i++)
		n += s->status[i];
	return n + s->unparsed;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct l7_stat_entry *x = a, *y = b;

	if (x->key.service_id != y->key.service_id)
		return x->key.service_id < y->key.service_id ? -1 : 1;
	if (x->key.route_id != y->key.route_id)
		return x->key.route_id < y->key.route_id ? -1 : 1;
	return x->key.method - y->key.method;
}

static void prom_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			putchar('\\');
		putchar(*s);
	}
}

static void prom_labels(struct l7_names *nm, const struct kmesh_l7_stats_key *k,
			const char *extra_name, const char *extra)
{
	char b1[80], b2[80];

	printf("{service=\"");
	prom_str(service_name(nm, k->service_id, b1, sizeof(b1)));
	printf("\",route=\"");
	prom_str(route_name(nm, k->service_id, k->route_id, b2, sizeof(b2)));
	printf("\",method=\"%s\"", l7_method_name(k->method));
	if (extra_name)
		printf(",%s=\"%s\"", extra_name, extra);
	printf("}");
}

/* Upper bound of latency bucket @b in seconds: 2^b microseconds. */
static double bucket_le(int b)
{
	return (double)(1ULL << b) / 1e6;
}

static void stats_prom(struct l7_names *nm, struct l7_stat_entry *v, size_t n,
		       const __u64 *g)
{
	static const char *const cls[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	size_t i;
	int c, b;

	printf("# HELP kmesh_http_requests_total HTTP requests on meshed connections by outcome: the response's status class, unparsed (a response came whose head kmesh cannot parse), denied (refused by kmesh), direct (answered by a direct_response route), unknown (passed, response not seen).\n");
	printf("# TYPE kmesh_http_requests_total counter\n");
	for (i = 0; i < n; i++) {
		const struct kmesh_l7_stats *s = &v[i].val;
		__u64 unknown = s->allowed > seen(s) ? s->allowed - seen(s) : 0;

		for (c = 0; c < 5; c++) {
			printf("kmesh_http_requests_total");
			prom_labels(nm, &v[i].key, "code", cls[c]);
			printf(" %llu\n", (unsigned long long)s->status[c]);
		}
		printf("kmesh_http_requests_total");
		prom_labels(nm, &v[i].key, "code", "unparsed");
		printf(" %llu\n", (unsigned long long)s->unparsed);
		printf("kmesh_http_requests_total");
		prom_labels(nm, &v[i].key, "code", "denied");
		printf(" %llu\n", (unsigned long long)s->denied);
		printf("kmesh_http_requests_total");
		prom_labels(nm, &v[i].key, "code", "direct");
		printf(" %llu\n", (unsigned long long)s->direct);
		printf("kmesh_http_requests_total");
		prom_labels(nm, &v[i].key, "code", "unknown");
		printf(" %llu\n", (unsigned long long)unknown);
	}
	printf("# HELP kmesh_http_requests_other_cluster_total Requests on a kept-alive connection whose route picks a cluster the connection is not open to (kfunc mode; refused with 421 under keepalive_route_change: refuse).\n");
	printf("# TYPE kmesh_http_requests_other_cluster_total counter\n");
	for (i = 0; i < n; i++) {
		printf("kmesh_http_requests_other_cluster_total");
		prom_labels(nm, &v[i].key, NULL, NULL);
		printf(" %llu\n", (unsigned long long)v[i].val.other_cluster);
	}
	printf("# HELP kmesh_http2_connections_total HTTP/2 connections on an http port where kmesh reads no HTTP/2, by outcome: l4 (carried at L4), refused (GOAWAY: the policy needs each request).\n");
	printf("# TYPE kmesh_http2_connections_total counter\n");
	for (i = 0; i < n; i++) {
		const char *svc;
		char b1[80];

		if (!v[i].val.h2_l4 && !v[i].val.h2_refused)
			continue;
		svc = service_name(nm, v[i].key.service_id, b1, sizeof(b1));
		printf("kmesh_http2_connections_total{service=\"");
		prom_str(svc);
		printf("\",outcome=\"l4\"} %llu\n", (unsigned long long)v[i].val.h2_l4);
		printf("kmesh_http2_connections_total{service=\"");
		prom_str(svc);
		printf("\",outcome=\"refused\"} %llu\n",
		       (unsigned long long)v[i].val.h2_refused);
	}
	printf("# HELP kmesh_http_request_duration_seconds From a request head leaving the client to its response head: leaving a local meshed server, or arriving at the client from any other server.\n");
	printf("# TYPE kmesh_http_request_duration_seconds histogram\n");
	for (i = 0; i < n; i++) {
		const struct kmesh_l7_stats *s = &v[i].val;
		__u64 cum = 0;
		char le[32];

		for (b = 0; b < KMESH_L7_LAT_BUCKETS - 1; b++) {
			cum += s->latency[b];
			/* 2^b us has at most 6 decimals: exact, unlike %g */
			snprintf(le, sizeof(le), "%.6f", bucket_le(b));
			printf("kmesh_http_request_duration_seconds_bucket");
			prom_labels(nm, &v[i].key, "le", le);
			printf(" %llu\n", (unsigned long long)cum);
		}
		cum += s->latency[KMESH_L7_LAT_BUCKETS - 1];
		printf("kmesh_http_request_duration_seconds_bucket");
		prom_labels(nm, &v[i].key, "le", "+Inf");
		printf(" %llu\n", (unsigned long long)cum);
		printf("kmesh_http_request_duration_seconds_sum");
		prom_labels(nm, &v[i].key, NULL, NULL);
		printf(" %llu.%09llu\n", (unsigned long long)(s->latency_ns / 1000000000ULL),
		       (unsigned long long)(s->latency_ns % 1000000000ULL));
		printf("kmesh_http_request_duration_seconds_count");
		prom_labels(nm, &v[i].key, NULL, NULL);
		printf(" %llu\n", (unsigned long long)cum);
	}
	for (c = 0; c < KMESH_L7_G_MAX; c++) {
		printf("# HELP kmesh_http_node_%s_total %s\n", global_names[c],
		       global_help[c]);
		printf("# TYPE kmesh_http_node_%s_total counter\n", global_names[c]);
		printf("kmesh_http_node_%s_total %llu\n", global_names[c],
		       (unsigned long long)g[c]);
	}
}

/* The smallest bucket bound under which @q of the responses fall (us). */
static unsigned long long quantile_us(const struct kmesh_l7_stats *s, double q)
{
	__u64 total = 0, cum = 0;
	int b;

	for (b = 0; b < KMESH_L7_LAT_BUCKETS; b++)
		total += s->latency[b];
	if (!total)
		return 0;
	for (b = 0; b < KMESH_L7_LAT_BUCKETS - 1; b++) {
		cum += s->latency[b];
		if (cum >= q * total)
			return 1ULL << b;
	}
	return 1ULL << (KMESH_L7_LAT_BUCKETS - 1);
}

static void stats_text(struct l7_names *nm, struct l7_stat_entry *v, size_t n,
		       const __u64 *g)
{
	size_t i;
	int c;

	for (i = 0; i < n; i++) {
		const struct kmesh_l7_stats *s = &v[i].val;
		__u64 resp = seen(s);
		char b1[80], b2[80];

		printf("http %s route %s %s:",
		       service_name(nm, v[i].key.service_id, b1, sizeof(b1)),
		       route_name(nm, v[i].key.service_id, v[i].key.route_id,
				  b2, sizeof(b2)),
		       l7_method_name(v[i].key.method));
		printf(" allowed %llu denied %llu direct %llu",
		       (unsigned long long)s->allowed,
		       (unsigned long long)s->denied,
		       (unsigned long long)s->direct);
		for (c = 0; c < 5; c++)
			printf(" %dxx %llu", c + 1, (unsigned long long)s->status[c]);
		printf(" unparsed %llu unknown %llu other_cluster %llu",
		       (unsigned long long)s->unparsed,
		       (unsigned long long)(s->allowed > resp ? s->allowed - resp : 0),
		       (unsigned long long)s->other_cluster);
		if (s->h2_l4 || s->h2_refused)
			printf(" http2_l4 %llu http2_refused %llu",
			       (unsigned long long)s->h2_l4,
			       (unsigned long long)s->h2_refused);
		printf(" latency_avg_us %llu p50_us %llu p99_us %llu\n",
		       (unsigned long long)(resp > s->unparsed ?
					    s->latency_ns / (resp - s->unparsed) / 1000 : 0),
		       quantile_us(s, 0.5), quantile_us(s, 0.99));
	}
	printf("http node:");
	for (c = 0; c < KMESH_L7_G_MAX; c++)
		printf(" %s %llu", global_names[c], (unsigned long long)g[c]);
	printf("\n");
}

void l7_stats_print(bool prometheus)
{
	struct l7_stat_entry *v = NULL;
	struct l7_names nm;
	__u64 g[KMESH_L7_G_MAX];
	size_t n = 0;

	if (l7_read_stats(&v, &n))
		return;		/* no L7 maps pinned: an older state */
	l7_read_global(g);
	qsort(v, n, sizeof(*v), cmp_entry);
	names_open(&nm);
	if (prometheus)
		stats_prom(&nm, v, n, g);
	else
		stats_text(&nm, v, n, g);
	names_close(&nm);
	free(v);
}

/* ---- log ---- */

struct l7_log_ctx {
	struct l7_names nm;
	bool json;
	__s64 mono_to_real;
	long *count;
	long max;
};

static struct l7_log_ctx log_ctx;

static void log_time(__u64 mono, __s64 offset, char *buf, size_t size)
{
	__s64 ns = (__s64)mono + offset;
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)((ns / 1000000) % 1000));
}

/* A path as JSON string content: escape quotes, backslashes, controls. */
static void json_str(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
}

static int on_l7_record(void *ctx, void *data, size_t size)
{
	const struct kmesh_l7_log *r = data;
	struct l7_log_ctx *lc = ctx;
	char when[64], src[80], svc[80], b1[80], b2[80], b3[80], b4[80], b5[160];
	const char *service, *route, *decision, *cluster = NULL, *endpoint = NULL;
	size_t plen;

	if (size < sizeof(*r))
		return 0;
	plen = r->path_len < KMESH_L7_LOG_PATH ? r->path_len : KMESH_L7_LOG_PATH;
	log_time(r->timestamp_ns, lc->mono_to_real, when, sizeof(when));
	mesh_addr_format(r->source_addr, r->source_port, true, src, sizeof(src));
	mesh_addr_format(r->service_addr, r->service_port, true, svc, sizeof(svc));
	service = service_name(&lc->nm, r->service_id, b1, sizeof(b1));
	route = route_name(&lc->nm, r->service_id, r->route_id, b2, sizeof(b2));
	decision = r->reason == KMESH_L7_R_ALLOW ? "allow" :
		   r->reason == KMESH_L7_R_DIRECT ? "direct" : "deny";
	/* where an allowed request went: its connection's endpoint */
	if (r->reason == KMESH_L7_R_ALLOW && r->cluster_id) {
		cluster = l4_name(&lc->nm, KMESH_L4_KIND_CLUSTER, r->cluster_id,
				  b4, sizeof(b4));
		endpoint = l4_name(&lc->nm, KMESH_L4_KIND_ENDPOINT,
				   r->endpoint_id, b5, sizeof(b5));
	}
	if (r->flags & KMESH_L7_LOG_F_H2) {
		/* a connection, not a request: HTTP/2 kmesh reads no further */
		const char *what = r->reason == KMESH_L7_R_ALLOW ?
			"carried at L4" : "refused (GOAWAY: the policy needs each request)";

		if (lc->json)
			printf("{\"type\":\"http2\",\"time\":\"%s\",\"service\":\"%s\","
			       "\"service_id\":%u,\"service_address\":\"%s\",\"source\":\"%s\","
			       "\"decision\":\"%s\",\"reason\":\"%s\",\"l4\":true}\n",
			       when, service, r->service_id, svc, src,
			       r->reason == KMESH_L7_R_ALLOW ? "allow" : "deny",
			       r->reason == KMESH_L7_R_ALLOW ? "http2_l4" : "http2_needs_l7");
		else
			printf("%s http %s HTTP/2 at L4: connection %s src %s svc %s\n",
			       when, service, what, src, svc);
		goto counted;
	}
	if (lc->json) {
		printf("{\"type\":\"http\",\"time\":\"%s\",\"service\":\"%s\","
		       "\"service_id\":%u,\"service_address\":\"%s\",\"source\":\"%s\","
		       "\"method\":\"%s\",\"path\":\"", when, service, r->service_id,
		       svc, src, l7_method_name(r->method));
		json_str(r->path, plen);
		printf("\",\"path_truncated\":%s,\"route\":\"%s\",\"status\":%u,"
		       "\"decision\":\"%s\",\"reason\":\"%s\"",
		       plen >= KMESH_L7_LOG_PATH ? "true" : "false", route,
		       r->status, decision, l7_reason_name(r->reason));
		if (r->reason == KMESH_L7_R_DENY_POLICY)
			printf(",\"policy\":\"%s\"",
			       policy_name(&lc->nm, r->service_id, r->policy_id,
					   b3, sizeof(b3)));
		if (cluster)
			printf(",\"cluster\":\"%s\",\"endpoint_name\":\"%s\"",
			       cluster, endpoint);
		if (r->flags & KMESH_L7_LOG_F_UNPARSED)
			printf(",\"response_unparsed\":true");
		printf(",\"response_seen\":%s,\"latency_ns\":%llu,\"reporter\":\"%s\"%s}\n",
		       r->flags & KMESH_L7_LOG_F_TRACKED ? "true" : "false",
		       (unsigned long long)r->latency_ns,
		       r->flags & KMESH_L7_LOG_F_INBOUND ? "destination" : "source",
		       r->flags & KMESH_L7_LOG_F_L4 ? ",\"connection_refused\":true" : "");
	} else {
		printf("%s http %s %s %.*s%s route %s %s", when, service,
		       l7_method_name(r->method), (int)plen, r->path,
		       plen >= KMESH_L7_LOG_PATH ? "..." : "", route, decision);
		if (r->reason != KMESH_L7_R_ALLOW)
			printf(" (%s)", l7_reason_name(r->reason));
		if (r->reason == KMESH_L7_R_DENY_POLICY)
			printf(" policy %s", policy_name(&lc->nm, r->service_id,
							  r->policy_id, b3, sizeof(b3)));
		if (r->status)
			printf(" status %u", r->status);
		else if (r->flags & KMESH_L7_LOG_F_UNPARSED)
			printf(" status unparsed");
		if (cluster)
			printf(" -> %s", endpoint);
		if (r->flags & KMESH_L7_LOG_F_TRACKED)
			printf(" latency %.3fms", r->latency_ns / 1e6);
		if (r->flags & KMESH_L7_LOG_F_INBOUND)	/* reporter=destination */
			printf(" src %s workload %s (inbound)\n", src, svc);
		else
			printf(" src %s svc %s\n", src, svc);
	}
counted:
	(*lc->count)++;
	return lc->max && *lc->count >= lc->max ? 1 : 0;
}

int l7_log_add(struct ring_buffer *rb, bool json, __s64 mono_to_real,
	       long *count, long max)
{
	int fd = kmesh_map_fd("kmesh_l7_log"), rc;

	if (fd < 0)
		return 0;	/* an older state without the L7 plane */
	names_open(&log_ctx.nm);
	log_ctx.json = json;
	log_ctx.mono_to_real = mono_to_real;
	log_ctx.count = count;
	log_ctx.max = max;
	/* fd stays open for the ring buffer's epoll until we exit */
	rc = ring_buffer__add(rb, fd, on_l7_record, &log_ctx);
	if (rc)
		close(fd);
	return rc;
}

void l7_log_done(void)
{
	names_close(&log_ctx.nm);
}

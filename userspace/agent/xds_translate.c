// SPDX-License-Identifier: GPL-2.0-only
/*
 * xDS → mesh model: the apply pipeline's model stage for xDS (pipeline.h).
 * One pass over the accepted resources builds a whole struct mesh_config;
 * the caller hands it to pipeline_compile() and pipeline_install(), the
 * stages `kmeshctl apply` uses. Every message is read strictly
 * (pb_only): a set field this file does not translate is an error naming
 * the resource and the field, never passed over.
 *
 * How istiod's output maps (docs/xds.md has the full table):
 *   Cluster "outbound|80||web.default.svc.cluster.local" (EDS)
 *       → cluster "outbound_80__web.default.svc.cluster.local"
 *   Listener "10.96.0.20_5000" (10.96.0.20:5000, tcp_proxy)
 *       → service "<host>-5000", address 10.96.0.20, port 5000, tcp
 *   Listener "0.0.0.0_80" (HTTP connection manager, RDS "80")
 *       → per virtual host with IP domains ("10.96.0.10", "10.96.0.10:80"):
 *         service "<vhost name>", those addresses, port 80, http, and its
 *         routes; the host names in domains become the routes' hosts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "envoy/config/listener/v3/listener.pb-c.h"
#include "envoy/config/route/v3/route.pb-c.h"
#include "envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.pb-c.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb-c.h"
#include "envoy/extensions/filters/http/router/v3/router.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb-c.h"

#include "pb_fields.h"
#include "xds_translate.h"

#define TYPE_PREFIX "type.googleapis.com/"

static const struct {
	const char *url, *short_name;
	const ProtobufCMessageDescriptor *desc;
} types[XDS_NR_TYPES] = {
	[XDS_CDS] = { TYPE_PREFIX "envoy.config.cluster.v3.Cluster", "Cluster",
		      &envoy__config__cluster__v3__cluster__descriptor },
	[XDS_EDS] = { TYPE_PREFIX "envoy.config.endpoint.v3.ClusterLoadAssignment",
		      "ClusterLoadAssignment",
		      &envoy__config__endpoint__v3__cluster_load_assignment__descriptor },
	[XDS_LDS] = { TYPE_PREFIX "envoy.config.listener.v3.Listener", "Listener",
		      &envoy__config__listener__v3__listener__descriptor },
	[XDS_RDS] = { TYPE_PREFIX "envoy.config.route.v3.RouteConfiguration",
		      "RouteConfiguration",
		      &envoy__config__route__v3__route_configuration__descriptor },
};

#define URL_TCP_PROXY TYPE_PREFIX "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
#define URL_HCM TYPE_PREFIX "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
#define URL_ROUTER TYPE_PREFIX "envoy.extensions.filters.http.router.v3.Router"
#define URL_HTTP_RBAC TYPE_PREFIX "envoy.extensions.filters.http.rbac.v3.RBAC"
#define URL_FAULT TYPE_PREFIX "envoy.extensions.filters.http.fault.v3.HTTPFault"
#define URL_CORS TYPE_PREFIX "envoy.extensions.filters.http.cors.v3.Cors"
#define URL_LOCAL_RATELIMIT TYPE_PREFIX "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"

/*
 * HTTP filters istiod puts on every outbound HTTP connection manager that
 * only observe traffic (statistics, peer metadata for them, the ALPN
 * istio-proxy offers upstream over mTLS): kmesh keeps its own per-route
 * counters and has no mTLS, so they are not applicable.
 */
static const char *const telemetry_filter_urls[] = {
	TYPE_PREFIX "stats.PluginConfig",				/* istio.stats */
	TYPE_PREFIX "io.istio.http.peer_metadata.Config",		/* istio.metadata_exchange */
	TYPE_PREFIX "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
	TYPE_PREFIX "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",	/* istio.alpn */
	NULL,
};

static bool is_telemetry_filter(const char *url)
{
	size_t i;

	for (i = 0; telemetry_filter_urls[i]; i++)
		if (!strcmp(url, telemetry_filter_urls[i]))
			return true;
	return false;
}

void (*xds_translate_note)(const char *msg);

/* Something istiod sends that has no meaning for kmesh: accepted, said. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!xds_translate_note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xds_translate_note(msg);
}

const char *xds_type_url(enum xds_type t)
{
	return types[t].url;
}

const char *xds_type_short(enum xds_type t)
{
	return types[t].short_name;
}

int xds_type_from_url(const char *url)
{
	int t;

	for (t = 0; t < XDS_NR_TYPES; t++)
		if (!strcmp(url, types[t].url))
			return t;
	return -1;
}

static const char *resource_name(enum xds_type t, const ProtobufCMessage *m)
{
	switch (t) {
	case XDS_CDS:
		return ((const Envoy__Config__Cluster__V3__Cluster *)m)->name;
	case XDS_EDS:
		return ((const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *)m)->cluster_name;
	case XDS_LDS:
		return ((const Envoy__Config__Listener__V3__Listener *)m)->name;
	default:
		return ((const Envoy__Config__Route__V3__RouteConfiguration *)m)->name;
	}
}

static void resource_put(struct xds_resource *r)
{
	if (r->refs && --*r->refs)
		return;
	protobuf_c_message_free_unpacked(r->msg, NULL);
	free(r->raw);
	free(r->refs);
}

void xds_set_free(struct xds_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		resource_put(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* A resource's bytes, eight at a time: a key to find them again, not a
 * digest (equal bytes are compared). */
static uint64_t bytes_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (w = 0; len; len--)
		w = w << 8 | p[len - 1];
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

/* @prev's resources by their bytes' hash: open addressing, positions + 1. */
struct raw_index {
	size_t *slot;
	size_t mask;
};

static int raw_index_build(struct raw_index *ix, const struct xds_set *prev)
{
	size_t size = 16, i, j;

	ix->slot = NULL;
	ix->mask = 0;
	if (!prev || !prev->n)
		return 0;
	while (size < prev->n * 2)
		size *= 2;
	ix->slot = calloc(size, sizeof(*ix->slot));
	if (!ix->slot)
		return -1;
	ix->mask = size - 1;
	for (i = 0; i < prev->n; i++) {
		for (j = prev->v[i].hash & ix->mask; ix->slot[j]; j = (j + 1) & ix->mask)
			;
		ix->slot[j] = i + 1;
	}
	return 0;
}

static const struct xds_resource *raw_index_find(const struct raw_index *ix,
						 const struct xds_set *prev, uint64_t hash,
						 const void *data, size_t len)
{
	size_t j;

	if (!ix->slot)
		return NULL;
	for (j = hash & ix->mask; ix->slot[j]; j = (j + 1) & ix->mask) {
		const struct xds_resource *r = &prev->v[ix->slot[j] - 1];

		if (r->hash == hash && r->raw_len == len && !memcmp(r->raw, data, len))
			return r;
	}
	return NULL;
}

static int cmp_res(const void *a, const void *b)
{
	return strcmp(((const struct xds_resource *)a)->name,
		      ((const struct xds_resource *)b)->name);
}

int xds_decode(enum xds_type t, Google__Protobuf__Any *const *res, size_t n,
	       const struct xds_set *prev, struct xds_set *out, char *err,
	       size_t err_size)
{
	struct raw_index ix;
	size_t i, k;

	out->n = 0;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v || raw_index_build(&ix, prev)) {
		free(out->v);
		out->v = NULL;
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct xds_resource *r = &out->v[out->n];
		const struct xds_resource *same;
		ProtobufCMessage *m;
		size_t len = res[i]->value.len;

		if (strcmp(res[i]->type_url, types[t].url)) {
			snprintf(err, err_size, "resources[%zu]: type %s in a %s response",
				 i, res[i]->type_url, types[t].short_name);
			goto fail;
		}
		r->hash = bytes_hash(res[i]->value.data, len);
		same = raw_index_find(&ix, prev, r->hash, res[i]->value.data, len);
		if (same) {
			*r = *same;
			++*r->refs;
			out->n++;
			continue;
		}
		m = protobuf_c_message_unpack(types[t].desc, NULL, len, res[i]->value.data);
		if (!m) {
			snprintf(err, err_size, "resources[%zu]: not a valid %s message",
				 i, types[t].short_name);
			goto fail;
		}
		r->msg = m;
		r->raw = malloc(len ? len : 1);
		r->refs = malloc(sizeof(*r->refs));
		if (!r->raw || !r->refs) {
			protobuf_c_message_free_unpacked(m, NULL);
			free(r->raw);
			free(r->refs);
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
		*r->refs = 1;
		if (len)
			memcpy(r->raw, res[i]->value.data, len);
		r->raw_len = len;
		r->name = (char *)resource_name(t, m);
		out->n++;
		if (!r->name[0]) {
			snprintf(err, err_size, "resources[%zu]: %s without a name", i,
				 types[t].short_name);
			goto fail;
		}
	}
	free(ix.slot);
	/* Sorted by name: lookups by name are binary searches. */
	qsort(out->v, out->n, sizeof(*out->v), cmp_res);
	for (k = 1; k < out->n; k++)
		if (!strcmp(out->v[k - 1].name, out->v[k].name)) {
			snprintf(err, err_size, "%s '%s': sent twice in one response",
				 types[t].short_name, out->v[k].name);
			goto fail_sorted;
		}
	return 0;
fail:
	free(ix.slot);
fail_sorted:
	xds_set_free(out);
	return -1;
}

static ProtobufCMessage *find_res(const struct xds_set *s, const char *name)
{
	struct xds_resource key = { .name = (char *)name }, *r;

	r = s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_res) : NULL;
	return r ? r->msg : NULL;
}

/* ---- names ---- */

static int add_name(char ***v, size_t *n, const char *name)
{
	size_t i;
	char **nv;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return 0;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *eds_name(const Envoy__Config__Cluster__V3__Cluster *c)
{
	if (c->eds_cluster_config && c->eds_cluster_config->service_name &&
	    c->eds_cluster_config->service_name[0])
		return c->eds_cluster_config->service_name;
	return c->name;
}

static bool is_eds(const Envoy__Config__Cluster__V3__Cluster *c)
{
	return c->cluster_discovery_type_case ==
		ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE &&
		c->type == ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS;
}

static Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *
unpack_hcm(const Envoy__Config__Listener__V3__Filter *f)
{
	if (f->config_type_case != ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG ||
	    strcmp(f->typed_config->type_url, URL_HCM))
		return NULL;
	return envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__unpack(
		NULL, f->typed_config->value.len, f->typed_config->value.data);
}

int xds_wanted_names(const struct xds_state *st, enum xds_type t,
		     char ***names, size_t *n)
{
	size_t i, j, k;

	*names = NULL;
	*n = 0;
	if (t == XDS_EDS) {
		for (i = 0; i < st->set[XDS_CDS].n; i++) {
			const Envoy__Config__Cluster__V3__Cluster *c =
				(void *)st->set[XDS_CDS].v[i].msg;

			if (is_eds(c) && add_name(names, n, eds_name(c)))
				return -1;
		}
	} else if (t == XDS_RDS) {
		for (i = 0; i < st->set[XDS_LDS].n; i++) {
			const Envoy__Config__Listener__V3__Listener *l =
				(void *)st->set[XDS_LDS].v[i].msg;

			for (j = 0; j < l->n_filter_chains; j++) {
				const Envoy__Config__Listener__V3__FilterChain *fc = l->filter_chains[j];

				for (k = 0; k < fc->n_filters; k++) {
					Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *h =
						unpack_hcm(fc->filters[k]);
					int rc = 0;

					if (!h)
						continue;
					if (h->route_specifier_case ==
					    ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_RDS &&
					    h->rds->route_config_name[0])
						rc = add_name(names, n, h->rds->route_config_name);
					protobuf_c_message_free_unpacked(&h->base, NULL);
					if (rc)
						return -1;
				}
			}
		}
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

/* ---- translation context ---- */

struct name_index;

struct tctx {
	const struct xds_state *st;
	struct mesh_config *cfg;
	char **cluster_xds;	/* xDS name of cfg->clusters[i] */
	size_t nr_cds_clusters;	/* the first ones, from CDS: cluster_xds sorted */
	char **service_src;	/* what made cfg->services[i], for messages */
	struct name_index *services_by_name, *clusters_by_name;
	struct name_index *unsent_clusters;	/* cluster_xds after the CDS ones */
	char *err;
	size_t err_size;
	int waiting;
	char wait_msg[256];
};

static int fail(struct tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct tctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, t->err_size, fmt, ap);
	va_end(ap);
	return -1;
}

static void *grow(void *v, size_t n, size_t size)
{
	void *nv = realloc(v, (n + 1) * size);

	if (nv)
		memset((char *)nv + n * size, 0, size);
	return nv;
}

#define GROW(t, arr, count) ({						\
	void *_nv = grow((arr), (count), sizeof(*(arr)));		\
	if (!_nv)							\
		return fail((t), "out of memory");			\
	(arr) = _nv;							\
	&(arr)[(count)++];						\
})

static __u32 fnv1a(const char *s)
{
	__u32 h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/*
 * The kmesh names made so far, to find a repeat without comparing with
 * every earlier one (thousands of services): chains of indexes by hash.
 * Entries are added and removed last-in first-out.
 */
#define NAME_BUCKETS	4096

struct name_index {
	int head[NAME_BUCKETS];	/* the last index in the bucket, or -1 */
	int *next;		/* per index: the one before it in its bucket */
	size_t n;
};

static unsigned int name_hash(const char *s)
{
	return fnv1a(s) % NAME_BUCKETS;
}

/* The index of @name among the @x->n names at @base, @stride bytes
 * apart (with @indirect, pointers to them), or -1. */
static int name_find(const struct name_index *x, const char *base,
		     size_t stride, bool indirect, const char *name)
{
	const char *at;
	int i;

	if (!x)
		return -1;
	for (i = x->head[name_hash(name)]; i >= 0; i = x->next[i]) {
		at = base + (size_t)i * stride;
		if (!strcmp(indirect ? *(const char *const *)at : at, name))
			return i;
	}
	return -1;
}

/* Index @x->n is @name; 0 or -1 (out of memory). */
static int name_add(struct name_index **xp, const char *name)
{
	struct name_index *x = *xp;
	unsigned int b = name_hash(name);
	int *nn;

	if (!x) {
		x = *xp = malloc(sizeof(*x));
		if (!x)
			return -1;
		memset(x->head, 0xff, sizeof(x->head));
		x->next = NULL;
		x->n = 0;
	}
	nn = realloc(x->next, (x->n + 1) * sizeof(*nn));
	if (!nn)
		return -1;
	x->next = nn;
	nn[x->n] = x->head[b];
	x->head[b] = (int)x->n++;
	return 0;
}

/* Take back the last name added (@name). */
static void name_drop_last(struct name_index *x, const char *name)
{
	unsigned int b = name_hash(name);

	if (x && x->n && x->head[b] == (int)x->n - 1)
		x->head[b] = x->next[--x->n];
}

static void name_index_free(struct name_index *x)
{
	if (x)
		free(x->next);
	free(x);
}


/* A kmesh name (1..63 of A-Z a-z 0-9 - _ .) for an xDS name: other
 * characters become '_'; a long name keeps its head and a hash. */
static void kmesh_name(const char *src, char out[KMESH_NAME_MAX])
{
	size_t i, n = strlen(src);

	for (i = 0; i < n && i < KMESH_NAME_MAX - 1; i++) {
		char c = src[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';

		out[i] = ok ? c : '_';
	}
	out[i] = 0;
	if (n >= KMESH_NAME_MAX)
		snprintf(out + KMESH_NAME_MAX - 10, 10, "-%08x", fnv1a(src));
}

static int parse_ip(const char *s, __u32 addr[4])
{
	return s && s[0] ? mesh_addr_parse(s, addr) : -1;
}

/* ---- clusters and endpoints ---- */

static const char *const cluster_fields[] = {
	"name", "type", "eds_cluster_config", "lb_policy", "circuit_breakers",
	"load_assignment", "connect_timeout", "outlier_detection",
	/* names and metadata are for statistics */
	"alt_stat_name", "metadata",
	/* istiod's defaults, accepted as not applicable (cluster_notes()) */
	"transport_socket_matches", "typed_extension_protocol_options",
	"common_lb_config", "filters", NULL,
};

/*
 * What istiod sets on every outbound cluster that kmesh cannot act on,
 * said once per cluster: kmesh has no mTLS, forwards the client's own
 * HTTP (no upstream protocol of its own), balances without localities
 * yet, and keeps its own statistics.
 */
static void cluster_notes(const Envoy__Config__Cluster__V3__Cluster *c)
{
	if (c->n_transport_socket_matches)
		note("Cluster '%s'.transport_socket_matches: not applicable (kmesh has no mTLS: connections go in plaintext, so servers must accept it, e.g. PeerAuthentication PERMISSIVE)",
		     c->name);
	if (c->n_typed_extension_protocol_options)
		note("Cluster '%s'.typed_extension_protocol_options: not applicable (kmesh forwards the client's own HTTP connection)",
		     c->name);
	if (c->common_lb_config)
		note("Cluster '%s'.common_lb_config: not applicable (no locality-aware balancing yet; its healthy_panic_threshold is outlier detection's min_health_percent)",
		     c->name);
	if (c->n_filters)
		note("Cluster '%s'.filters: not applicable (%s: upstream telemetry)", c->name,
		     c->filters[0]->name);
}

/*
 * istiod's own clusters for traffic to no known service: kmesh leaves
 * connections to addresses it does not know alone (passthrough is what it
 * does anyway; it cannot black-hole them: the outbound traffic policy
 * REGISTRY_ONLY is not enforced), and inbound capture does not exist.
 */
static bool is_istio_passthrough(const char *name)
{
	return !strcmp(name, "PassthroughCluster") || !strcmp(name, "BlackHoleCluster") ||
	       !strcmp(name, "InboundPassthroughCluster") ||
	       !strcmp(name, "InboundPassthroughClusterIpv4") ||
	       !strcmp(name, "InboundPassthroughClusterIpv6");
}

static int translate_lb(struct tctx *t, const Envoy__Config__Cluster__V3__Cluster *c,
			struct mesh_cluster *mc, bool weighted)
{
	switch (c->lb_policy) {
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__ROUND_ROBIN:
		/* Envoy's round robin honours weights; kmesh's strict rotation
		 * ignores them, so unequal weights take weighted random. */
		mc->lb = weighted ? KMESH_LB_WEIGHTED : KMESH_LB_ROUND_ROBIN;
		return 0;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST:
		/* The kernel keeps no per-endpoint request counts; with no
		 * load signal, least-request's two choices reduce to a
		 * weighted random pick. */
		mc->lb = KMESH_LB_WEIGHTED;
		return 0;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM:
		mc->lb = KMESH_LB_RANDOM;
		return 0;
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RING_HASH:
	case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__MAGLEV:
		/* Both are consistent hashes of the source; Maglev's table is
		 * what kmesh builds. */
		mc->lb = KMESH_LB_MAGLEV;
		return 0;
	default:
		return fail(t, "Cluster '%s'.lb_policy: %s: not supported (ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV)",
			    c->name, pb_enum_name(&envoy__config__cluster__v3__cluster__lb_policy__descriptor,
						  (int)c->lb_policy));
	}
}

static int translate_breakers(struct tctx *t, const Envoy__Config__Cluster__V3__Cluster *c,
			      struct mesh_cluster *mc)
{
	static const char *const cb_fields[] = { "thresholds", NULL };
	static const char *const th_fields[] = {
		"priority", "max_connections", "max_pending_requests",
		"max_requests", "max_retries", NULL,
	};
	const Envoy__Config__Cluster__V3__CircuitBreakers *cb = c->circuit_breakers;
	char where[1024];
	size_t i;

	if (!cb)
		return 0;
	snprintf(where, sizeof(where), "Cluster '%s': circuit_breakers", c->name);
	if (pb_only(&cb->base, cb_fields, where, t->err, t->err_size))
		return -1;
	for (i = 0; i < cb->n_thresholds; i++) {
		const Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *th = cb->thresholds[i];

		snprintf(where, sizeof(where), "Cluster '%s': circuit_breakers.thresholds[%zu]",
			 c->name, i);
		if (pb_only(&th->base, th_fields, where, t->err, t->err_size))
			return -1;
		if (th->priority != ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__DEFAULT)
			return fail(t, "%s.priority: only DEFAULT is supported (kmesh has no priority routing)", where);
		/* Request-level limits are not enforced by kmesh: accepted
		 * only as "unlimited", as istiod sends them by default. */
#define UNLIMITED(f) if (th->f && th->f->value != UINT32_MAX) \
	return fail(t, "%s." #f ": %u: not supported (only max_connections is enforced; others must be unset or 4294967295)", \
		    where, th->f->value)
		UNLIMITED(max_pending_requests);
		UNLIMITED(max_requests);
		UNLIMITED(max_retries);
#undef UNLIMITED
		if (th->max_connections)
			mc->max_connections = th->max_connections->value == UINT32_MAX ?
					      0 : th->max_connections->value;
	}
	return 0;
}

/* A Duration in milliseconds, 1..MESH_MAX_OUTLIER_MS; 0 when unset. */
static int outlier_ms(struct tctx *t, const char *where, const char *field,
		      const Google__Protobuf__Duration *d, __u32 *out)
{
	int64_t ms;

	if (!d)
		return 0;
	ms = d->seconds * 1000 + (d->nanos + 999999) / 1000000;
	if (d->seconds < 0 || d->nanos < 0 || ms < 1 || ms > MESH_MAX_OUTLIER_MS)
		return fail(t, "%s.%s: kmesh takes 1ms..%dms", where, field,
			    MESH_MAX_OUTLIER_MS);
	*out = (__u32)ms;
	return 0;
}

/*
 * outlier_detection: Envoy's consecutive detectors, what kmesh can
 * enforce (docs/config.md "Outlier detection"). kmesh sees connect
 * failures, not responses; it enforces a detector fully or not at all.
 * Success-rate detection is on by default in Envoy (istiod turns it off
 * with enforcing_success_rate 0), failure-percentage off: kmesh has
 * neither, so they must be off. Unset minimum health is Envoy's panic
 * threshold default, 50%.
 */
static int translate_outlier(struct tctx *t,
			     const Envoy__Config__Cluster__V3__Cluster *c,
			     struct mesh_cluster *mc)
{
	static const char *const od_fields[] = {
		"consecutive_5xx", "interval", "base_ejection_time",
		"max_ejection_percent", "enforcing_consecutive_5xx",
		"enforcing_success_rate", "success_rate_minimum_hosts",
		"success_rate_request_volume", "success_rate_stdev_factor",
		"consecutive_gateway_failure", "enforcing_consecutive_gateway_failure",
		"split_external_local_origin_errors",
		"consecutive_local_origin_failure",
		"enforcing_consecutive_local_origin_failure",
		"enforcing_local_origin_success_rate", "failure_percentage_threshold",
		"enforcing_failure_percentage",
		"enforcing_failure_percentage_local_origin",
		"failure_percentage_minimum_hosts",
		"failure_percentage_request_volume", "max_ejection_time", NULL,
	};
	const Envoy__Config__Cluster__V3__OutlierDetection *od = c->outlier_detection;
	struct kmesh_outlier_config *o = &mc->outlier;
	__u32 threshold, enforcing;
	char where[512];

	if (!od)
		return 0;
	snprintf(where, sizeof(where), "Cluster '%s'.outlier_detection", c->name);
	if (pb_only(&od->base, od_fields, where, t->err, t->err_size))
		return -1;
	mesh_outlier_defaults(o);
	mc->flags |= KMESH_CLUSTER_F_OUTLIER;
	if (!od->enforcing_success_rate || od->enforcing_success_rate->value)
		return fail(t, "%s.enforcing_success_rate: %u: kmesh has no success-rate detection: it must be 0",
			    where, od->enforcing_success_rate ? od->enforcing_success_rate->value : 100);
#define MUST_BE_OFF(f) if (od->f && od->f->value) 	return fail(t, "%s." #f ": %u: not supported (kmesh has no failure-percentage detection): it must be 0", 		    where, od->f->value)
	MUST_BE_OFF(enforcing_failure_percentage);
	MUST_BE_OFF(enforcing_failure_percentage_local_origin);
#undef MUST_BE_OFF
	/* a detector is on with its enforcing at 100, off at 0 */
#define DETECTOR(f, enf, dflt_enf, dst) do {						threshold = od->f ? od->f->value : 5;						enforcing = od->enf ? od->enf->value : (dflt_enf);				if (enforcing != 0 && enforcing != 100)							return fail(t, "%s." #enf ": %u: kmesh enforces a detector always (100) or never (0)", 			    where, enforcing);						if (threshold > MESH_MAX_OUTLIER_CONSECUTIVE)						return fail(t, "%s." #f ": %u: kmesh takes 0..%d", where,				    threshold, MESH_MAX_OUTLIER_CONSECUTIVE);			o->dst = enforcing ? (__u16)threshold : 0;				} while (0)
	DETECTOR(consecutive_5xx, enforcing_consecutive_5xx, 100, consecutive_5xx);
	DETECTOR(consecutive_gateway_failure, enforcing_consecutive_gateway_failure, 0,
		 gateway_errors);
	if (od->split_external_local_origin_errors) {
		o->flags |= KMESH_OUTLIER_F_SPLIT;
		DETECTOR(consecutive_local_origin_failure,
			 enforcing_consecutive_local_origin_failure, 100,
			 connect_failures);
		if (!od->enforcing_local_origin_success_rate ||
		    od->enforcing_local_origin_success_rate->value)
			return fail(t, "%s.enforcing_local_origin_success_rate: %u: kmesh has no success-rate detection: it must be 0",
				    where, od->enforcing_local_origin_success_rate ?
				    od->enforcing_local_origin_success_rate->value : 100);
	}
#undef DETECTOR
	if (od->max_ejection_percent)
		o->max_ejection_percent = od->max_ejection_percent->value > 100 ? 100 :
					  (__u8)od->max_ejection_percent->value;
	if (outlier_ms(t, where, "interval", od->interval, &o->interval_ms) ||
	    outlier_ms(t, where, "base_ejection_time", od->base_ejection_time,
		       &o->base_ejection_ms) ||
	    outlier_ms(t, where, "max_ejection_time", od->max_ejection_time,
		       &o->max_ejection_ms))
		return -1;
	o->min_health_percent = 50;
	if (c->common_lb_config && c->common_lb_config->healthy_panic_threshold) {
		double p = c->common_lb_config->healthy_panic_threshold->value;

		o->min_health_percent = p <= 0 ? 0 : p >= 100 ? 100 : (__u8)p;
	}
	return 0;
}

/*
 * A RuntimeFractionalPercent of the local rate limit: 1 when it is 100%,
 * 0 when unset or 0% (Envoy's default: the filter then does nothing),
 * -1 (failed) for a fraction: kmesh limits every request or none. kmesh
 * has no runtime: default_value is the value (said in a note).
 */
static int full_percent(struct tctx *t, const char *where,
			const Envoy__Config__Core__V3__RuntimeFractionalPercent *p)
{
	static const char *const rfp_fields[] = { "default_value", "runtime_key", NULL };
	static const unsigned int whole[] = { 100, 10000, 1000000 };
	static const char *const whole_text[] = { "100", "10000", "1000000" };
	const Envoy__Type__V3__FractionalPercent *v;

	if (!p)
		return 0;
	if (pb_only(&p->base, rfp_fields, where, t->err, t->err_size))
		return -1;
	if (p->runtime_key && p->runtime_key[0])
		note("%s.runtime_key '%s': kmesh has no runtime; default_value applies",
		     where, p->runtime_key);
	v = p->default_value;
	if (!v || !v->numerator)
		return 0;
	if ((unsigned int)v->denominator < 3 && v->numerator >= whole[v->denominator])
		return 1;
	return fail(t, "%s.default_value: %u of %s: kmesh limits all requests or none (100%% or 0%%)",
		    where, v->numerator,
		    (unsigned int)v->denominator < 3 ? whole_text[v->denominator] : "?");
}

/*
 * envoy.filters.http.local_ratelimit: in the connection manager (the
 * listener's config) its token bucket becomes the request limit of the
 * service the listener makes; as a per-filter config of a virtual host or
 * a route (@per_route: typed_per_filter_config) it replaces that, for the
 * virtual host's service or for the route's requests (Envoy's most
 * specific config wins). The bucket is the same (max_tokens,
 * tokens_per_fill per fill_interval); kmesh refills it one token at a
 * time at that rate rather than tokens_per_fill at each interval. Every
 * field kmesh cannot honour is refused by name. *@out stays zero (no
 * limit) when Envoy would not enforce the config, or when the listener's
 * config has no bucket of its own (Envoy then limits only virtual hosts
 * and routes that have one; a per-route config must have one, as Envoy
 * requires).
 */
static int translate_local_ratelimit(struct tctx *t, const char *where,
				     const ProtobufCBinaryData *v, bool per_route,
				     struct mesh_rate_limit *out)
{
	static const char *const lrl_fields[] = {
		"stat_prefix", "status", "token_bucket", "filter_enabled",
		"filter_enforced", NULL,
	};
	static const char *const tb_fields[] = {
		"max_tokens", "tokens_per_fill", "fill_interval", NULL,
	};
	Envoy__Extensions__Filters__Http__LocalRatelimit__V3__LocalRateLimit *m;
	const Envoy__Type__V3__TokenBucket *tb;
	const Google__Protobuf__Duration *d;
	char w[1100];
	__u64 fill_ns, per_fill, interval;
	int enabled, enforced, ret = -1;

	memset(out, 0, sizeof(*out));
	m = envoy__extensions__filters__http__local_ratelimit__v3__local_rate_limit__unpack(
		NULL, v->len, v->data);
	if (!m)
		return fail(t, "%s: not a valid LocalRateLimit", where);
	if (pb_only(&m->base, lrl_fields, where, t->err, t->err_size))
		goto out;
	if (m->status && m->status->code != 429) {
		fail(t, "%s.status: %d: kmesh answers a limited request with 429 only",
		     where, (int)m->status->code);
		goto out;
	}
	snprintf(w, sizeof(w), "%s.filter_enabled", where);
	enabled = full_percent(t, w, m->filter_enabled);
	if (enabled < 0)
		goto out;
	snprintf(w, sizeof(w), "%s.filter_enforced", where);
	enforced = full_percent(t, w, m->filter_enforced);
	if (enforced < 0)
		goto out;
	if (!enabled || !enforced) {
		note("%s: filter_enabled or filter_enforced unset or 0%%: Envoy enforces nothing, nor does kmesh",
		     where);
		ret = 0;
		goto out;
	}
	tb = m->token_bucket;
	if (!tb && per_route) {
		fail(t, "%s.token_bucket: unset: a per-route config needs its bucket (Envoy refuses it too)",
		     where);
		goto out;
	}
	if (!tb) {
		note("%s.token_bucket: unset: no bucket for the listener; only virtual hosts and routes with a config of their own are limited",
		     where);
		ret = 0;
		goto out;
	}
	snprintf(w, sizeof(w), "%s.token_bucket", where);
	if (pb_only(&tb->base, tb_fields, w, t->err, t->err_size))
		goto out;
	if (!tb->max_tokens || tb->max_tokens > MESH_MAX_RATE_BURST) {
		fail(t, "%s.max_tokens: %u: kmesh takes 1..%d", w, tb->max_tokens,
		     MESH_MAX_RATE_BURST);
		goto out;
	}
	per_fill = tb->tokens_per_fill ? tb->tokens_per_fill->value : 1;
	d = tb->fill_interval;
	if (!per_fill || !d || d->seconds < 0 || d->nanos < 0 ||
	    (!d->seconds && !d->nanos)) {
		fail(t, "%s: tokens_per_fill and fill_interval must be positive", w);
		goto out;
	}
	fill_ns = (__u64)d->seconds * 1000000000ULL + (__u64)d->nanos;
	interval = fill_ns / per_fill;
	if (fill_ns > KMESH_RL_MAX_INTERVAL_NS * per_fill ||
	    interval < 1000000000ULL / MESH_MAX_RATE_PER_SECOND) {
		fail(t, "%s: %llu tokens per %llu ns: kmesh takes one token per hour up to %d a second",
		     w, (unsigned long long)per_fill, (unsigned long long)fill_ns,
		     MESH_MAX_RATE_PER_SECOND);
		goto out;
	}
	out->interval_ns = interval;
	out->burst = tb->max_tokens;
	ret = 0;
out:
	envoy__extensions__filters__http__local_ratelimit__v3__local_rate_limit__free_unpacked(m, NULL);
	return ret;
}


/*
 * connect_timeout: the cluster's, in milliseconds (istiod sends 10s). Left
 * out, it is Envoy's default, 5s: a management server written for Envoy
 * expects that bound, not the kernel's two minutes of SYN retries. Envoy
 * refuses 0s (the field must be > 0), and so does kmesh.
 */
#define XDS_DEFAULT_CONNECT_TIMEOUT_MS 5000

static int translate_connect_timeout(struct tctx *t,
				     const Envoy__Config__Cluster__V3__Cluster *c,
				     struct mesh_cluster *mc)
{
	const Google__Protobuf__Duration *d = c->connect_timeout;
	int64_t ms;

	if (!d) {
		mc->connect_timeout_ms = XDS_DEFAULT_CONNECT_TIMEOUT_MS;
		return 0;
	}
	if (!d->seconds && !d->nanos)
		return fail(t, "Cluster '%s'.connect_timeout: 0s: must be over 0 (left out, it is 5s)",
			    c->name);
	if (d->seconds < 0 || d->nanos < 0 || d->seconds > MESH_MAX_CONNECT_TIMEOUT_MS / 1000)
		return fail(t, "Cluster '%s'.connect_timeout: %llds: kmesh takes 1ms..%dms",
			    c->name, (long long)d->seconds, MESH_MAX_CONNECT_TIMEOUT_MS);
	ms = d->seconds * 1000 + (d->nanos + 999999) / 1000000;
	if (ms > MESH_MAX_CONNECT_TIMEOUT_MS)
		return fail(t, "Cluster '%s'.connect_timeout: %lldms: kmesh takes 1ms..%dms",
			    c->name, (long long)ms, MESH_MAX_CONNECT_TIMEOUT_MS);
	mc->connect_timeout_ms = (__u16)ms;
	return 0;
}

/* An EDS locality as kmesh writes one, "region/zone/sub_zone" ("" when
 * the region is not given: a locality kmesh cannot place). */
static int translate_locality(struct tctx *t, const char *where,
			      const Envoy__Config__Core__V3__Locality *l,
			      char out[MESH_LOCALITY_LEN])
{
	char s[3 * 64 + 3];
	const char *why;
	int n;

	out[0] = 0;
	if (!l || !l->region || !*l->region)
		return 0;
	n = snprintf(s, sizeof(s), "%s", l->region);
	if (l->zone && *l->zone) {
		n += snprintf(s + n, sizeof(s) - n, "/%s", l->zone);
		if (l->sub_zone && *l->sub_zone)
			snprintf(s + n, sizeof(s) - n, "/%s", l->sub_zone);
	}
	why = strlen(l->region) > 63 || (l->zone && strlen(l->zone) > 63) ||
	      (l->sub_zone && strlen(l->sub_zone) > 63) ?
	      "a part is longer than 63 characters" : mesh_locality_check(s, out);
	return why ? fail(t, "%s.locality: '%s': %s", where, s, why) : 0;
}

static int translate_endpoints(struct tctx *t,
			       const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla,
			       struct mesh_cluster *mc, bool *weighted)
{
	static const char *const cla_fields[] = { "cluster_name", "endpoints", NULL };
	static const char *const loc_fields[] = {
		"locality", "lb_endpoints", "metadata", "load_balancing_weight",
		"priority", NULL,
	};
	static const char *const lbe_fields[] = {
		"health_status", "load_balancing_weight", "endpoint", "metadata", NULL,
	};
	static const char *const ep_fields[] = { "address", NULL };
	static const char *const sa_fields[] = { "protocol", "address", "port_value", NULL };
	char where[1024], locality[MESH_LOCALITY_LEN];
	__u16 first_weight = 0;
	size_t i, j;

	snprintf(where, sizeof(where), "ClusterLoadAssignment '%s'", cla->cluster_name);
	if (pb_only(&cla->base, cla_fields, where, t->err, t->err_size))
		return -1;
	*weighted = false;
	for (i = 0; i < cla->n_endpoints; i++) {
		const Envoy__Config__Endpoint__V3__LocalityLbEndpoints *loc = cla->endpoints[i];

		snprintf(where, sizeof(where), "ClusterLoadAssignment '%s': endpoints[%zu]",
			 cla->cluster_name, i);
		/* priority: a higher one takes connections only when no lower
		 * one has a healthy endpoint (istiod sets them from the
		 * DestinationRule's localityLbSetting and this node's
		 * locality); the locality itself is shown, not used: istiod
		 * already ranked it into the priority */
		if (pb_only(&loc->base, loc_fields, where, t->err, t->err_size))
			return -1;
		if (loc->priority > MESH_MAX_ENDPOINT_PRIORITY)
			return fail(t, "%s.priority: %u: expected 0..%d", where,
				    loc->priority, MESH_MAX_ENDPOINT_PRIORITY);
		if (translate_locality(t, where, loc->locality, locality))
			return -1;
		/* istiod gives each locality the sum of its endpoints' weights:
		 * Envoy's locality-weighted split then equals a split by
		 * endpoint weights, which is what kmesh does. Other locality
		 * weights would mean something kmesh cannot do yet. */
		if (loc->load_balancing_weight && cla->n_endpoints > 1) {
			unsigned long sum = 0;

			for (j = 0; j < loc->n_lb_endpoints; j++)
				sum += loc->lb_endpoints[j]->load_balancing_weight ?
				       loc->lb_endpoints[j]->load_balancing_weight->value : 1;
			if (loc->load_balancing_weight->value != sum)
				return fail(t, "%s.load_balancing_weight: %u: not supported (kmesh balances by endpoint weights: only their sum, %lu, as istiod sends it)",
					    where, loc->load_balancing_weight->value, sum);
		}
		for (j = 0; j < loc->n_lb_endpoints; j++) {
			const Envoy__Config__Endpoint__V3__LbEndpoint *lbe = loc->lb_endpoints[j];
			const Envoy__Config__Endpoint__V3__Endpoint *ep;
			const Envoy__Config__Core__V3__SocketAddress *sa;
			struct mesh_endpoint *me;
			char w2[1024];
			__u8 state;

			snprintf(w2, sizeof(w2), "%s.lb_endpoints[%zu]", where, j);
			if (pb_only(&lbe->base, lbe_fields, w2, t->err, t->err_size))
				return -1;
			switch (lbe->health_status) {
			case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNKNOWN:
			case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY:
				state = KMESH_EP_HEALTHY;
				break;
			case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DRAINING:
				state = KMESH_EP_DRAINING;
				break;
			case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY:
			case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__TIMEOUT:
				/* Envoy sends nothing to these; nor does kmesh. */
				continue;
			default:
				return fail(t, "%s.health_status: %s: not supported (UNKNOWN, HEALTHY, DRAINING, UNHEALTHY, TIMEOUT)",
					    w2, pb_enum_name(&envoy__config__core__v3__health_status__descriptor,
							     (int)lbe->health_status));
			}
			if (lbe->host_identifier_case !=
			    ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT)
				return fail(t, "%s.endpoint: missing", w2);
			ep = lbe->endpoint;
			snprintf(w2, sizeof(w2), "%s.lb_endpoints[%zu].endpoint", where, j);
			if (pb_only(&ep->base, ep_fields, w2, t->err, t->err_size))
				return -1;
			if (!ep->address || ep->address->address_case !=
			    ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS)
				return fail(t, "%s.address: expected a socket_address", w2);
			sa = ep->address->socket_address;
			snprintf(w2, sizeof(w2), "%s.lb_endpoints[%zu].endpoint.address.socket_address",
				 where, j);
			if (pb_only(&sa->base, sa_fields, w2, t->err, t->err_size))
				return -1;
			if (sa->protocol != ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PROTOCOL__TCP)
				return fail(t, "%s.protocol: only TCP", w2);
			me = GROW(t, mc->endpoints, mc->nr_endpoints);
			if (parse_ip(sa->address, me->addr))
				return fail(t, "%s.address: '%s' is not an IP address", w2, sa->address);
			if (sa->port_specifier_case !=
			    ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE ||
			    !sa->port_value || sa->port_value > 65535)
				return fail(t, "%s.port_value: expected 1..65535", w2);
			me->port = (__u16)sa->port_value;
			me->weight = 1;
			if (lbe->load_balancing_weight) {
				__u32 w = lbe->load_balancing_weight->value;

				if (!w || w > 65535)
					return fail(t, "%s.lb_endpoints[%zu].load_balancing_weight: %u: expected 1..65535",
						    where, j, w);
				me->weight = (__u16)w;
			}
			me->state = state;
			me->priority = (__u8)loc->priority;
			memcpy(me->locality, locality, sizeof(me->locality));
			if (!first_weight)
				first_weight = me->weight;
			else if (me->weight != first_weight)
				*weighted = true;
		}
	}
	return 0;
}

static int translate_clusters(struct tctx *t)
{
	const struct xds_set *cds = &t->st->set[XDS_CDS];
	size_t i, k;

	for (i = 0; i < cds->n; i++) {
		const Envoy__Config__Cluster__V3__Cluster *c = (void *)cds->v[i].msg;
		const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla;
		struct mesh_cluster *mc;
		char where[1024];
		bool weighted = false;
		size_t n = t->cfg->nr_clusters;

		if (is_istio_passthrough(c->name)) {
			note("Cluster '%s': istiod's catch-all cluster: not applicable (kmesh steers only service addresses; others go their own way)",
			     c->name);
			continue;
		}
		snprintf(where, sizeof(where), "Cluster '%s'", c->name);
		if (pb_only(&c->base, cluster_fields, where, t->err, t->err_size))
			return -1;
		cluster_notes(c);
		mc = GROW(t, t->cfg->clusters, t->cfg->nr_clusters);
		t->cluster_xds = grow(t->cluster_xds, n, sizeof(char *));
		if (!t->cluster_xds)
			return fail(t, "out of memory");
		t->cluster_xds[n] = c->name;
		kmesh_name(c->name, mc->name);
		k = (size_t)name_find(t->clusters_by_name, t->cfg->clusters[0].name,
				      sizeof(*mc), false, mc->name);
		if (k != (size_t)-1)
			return fail(t, "Cluster '%s': its kmesh name '%s' is also Cluster '%s''s",
				    c->name, mc->name, t->cluster_xds[k]);
		if (name_add(&t->clusters_by_name, mc->name))
			return fail(t, "out of memory");
		if (is_eds(c)) {
			if (c->eds_cluster_config) {
				static const char *const eds_fields[] = { "eds_config", "service_name", NULL };

				snprintf(where, sizeof(where), "Cluster '%s': eds_cluster_config", c->name);
				if (pb_only(&c->eds_cluster_config->base, eds_fields, where,
					    t->err, t->err_size))
					return -1;
			}
			if (c->load_assignment)
				return fail(t, "Cluster '%s': load_assignment: not with type EDS", c->name);
			cla = (void *)find_res(&t->st->set[XDS_EDS], eds_name(c));
			if (!cla) {
				if (!t->waiting)
					snprintf(t->wait_msg, sizeof(t->wait_msg),
						 "ClusterLoadAssignment '%s' of Cluster '%s'",
						 eds_name(c), c->name);
				t->waiting = 1;
				continue;
			}
		} else if (c->cluster_discovery_type_case ==
			   ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE &&
			   c->type == ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STATIC) {
			if (c->eds_cluster_config)
				return fail(t, "Cluster '%s': eds_cluster_config: only with type EDS", c->name);
			cla = c->load_assignment;
			if (!cla)
				return fail(t, "Cluster '%s': type STATIC needs load_assignment", c->name);
		} else {
			return fail(t, "Cluster '%s': type: only EDS and STATIC are supported", c->name);
		}
		if (translate_endpoints(t, cla, mc, &weighted) ||
		    translate_lb(t, c, mc, weighted) || translate_breakers(t, c, mc) ||
		    translate_connect_timeout(t, c, mc) || translate_outlier(t, c, mc))
			return -1;
	}
	return 0;
}

/* A cluster by xDS name; one the server never sent becomes an empty
 * cluster (Envoy answers 503 for it; kmesh refuses the connect). */
static int cmp_str_ptr(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(char *const *)elem);
}

static int cluster_index(struct tctx *t, const char *xds_name, const char *where)
{
	struct mesh_cluster *mc;
	size_t n = t->cfg->nr_clusters;
	char **hit;

	/* CDS's clusters come first, in name order (the set is sorted);
	 * the few never sent follow. */
	hit = t->nr_cds_clusters ? bsearch(xds_name, t->cluster_xds, t->nr_cds_clusters,
					   sizeof(char *), cmp_str_ptr) : NULL;
	if (hit)
		return (int)(hit - t->cluster_xds);
	if (n > t->nr_cds_clusters) {
		int k = name_find(t->unsent_clusters,
				  (const char *)&t->cluster_xds[t->nr_cds_clusters],
				  sizeof(char *), true, xds_name);

		if (k >= 0)
			return (int)t->nr_cds_clusters + k;
	}
	if (!xds_name[0]) {
		fail(t, "%s: empty cluster name", where);
		return -1;
	}
	mc = grow(t->cfg->clusters, n, sizeof(*mc));
	if (!mc) {
		fail(t, "out of memory");
		return -1;
	}
	t->cfg->clusters = mc;
	t->cluster_xds = grow(t->cluster_xds, n, sizeof(char *));
	if (!t->cluster_xds) {
		fail(t, "out of memory");
		return -1;
	}
	/* A copy: the name may live in a filter's config, unpacked only
	 * while its listener is translated. */
	t->cluster_xds[n] = strdup(xds_name);
	if (!t->cluster_xds[n]) {
		fail(t, "out of memory");
		return -1;
	}
	kmesh_name(xds_name, mc[n].name);
	t->cfg->nr_clusters++;
	if (name_add(&t->unsent_clusters, xds_name)) {
		fail(t, "out of memory");
		return -1;
	}
	return (int)n;
}

/* ---- services, routes ---- */

static int add_service(struct tctx *t, const char *name_src, const char *src,
		       struct mesh_service **out)
{
	struct mesh_service *s;
	size_t k, n = t->cfg->nr_services;

	s = GROW(t, t->cfg->services, t->cfg->nr_services);
	t->service_src = grow(t->service_src, n, sizeof(char *));
	if (!t->service_src)
		return fail(t, "out of memory");
	t->service_src[n] = strdup(src);
	kmesh_name(name_src, s->name);
	k = (size_t)name_find(t->services_by_name, t->cfg->services[0].name,
			      sizeof(*s), false, s->name);
	if (k != (size_t)-1)
		return fail(t, "%s: service name '%s' is also made by %s",
			    src, s->name, t->service_src[k]);
	if (name_add(&t->services_by_name, s->name))
		return fail(t, "out of memory");
	*out = s;
	return 0;
}

static int add_addr(struct tctx *t, struct mesh_service *s, const __u32 a[4])
{
	size_t i;
	__u32 (*na)[4];

	for (i = 0; i < s->nr_addrs; i++)
		if (!memcmp(s->addrs[i], a, 16))
			return 0;
	na = realloc(s->addrs, (s->nr_addrs + 1) * sizeof(*na));
	if (!na)
		return fail(t, "out of memory");
	s->addrs = na;
	memcpy(na[s->nr_addrs++], a, 16);
	return 0;
}

/* "outbound|80||web.default.svc.cluster.local" → "web.default.svc.cluster.local" */
static const char *istio_host(const char *cluster)
{
	const char *p = cluster;
	int bars = 0;

	while (*p && bars < 3)
		if (*p++ == '|')
			bars++;
	return bars == 3 && *p ? p : NULL;
}

static int string_pattern(struct tctx *t, const Envoy__Type__Matcher__V3__StringMatcher *sm,
			  bool headers, const char *where, struct mesh_pattern *out)
{
	static const char *const sm_fields[] = { "exact", "prefix", "suffix", NULL };
	const char *text;

	if (pb_only(&sm->base, sm_fields, where, t->err, t->err_size))
		return -1;
	switch (sm->match_pattern_case) {
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT:
		out->kind = MESH_M_EXACT;
		text = sm->exact;
		break;
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_PREFIX:
		out->kind = MESH_M_PREFIX;
		text = sm->prefix;
		break;
	case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SUFFIX:
		if (!headers)
			return fail(t, "%s.suffix: not supported here", where);
		out->kind = MESH_M_SUFFIX;
		text = sm->suffix;
		break;
	default:
		return fail(t, "%s: no pattern", where);
	}
	out->text = strdup(text);
	return out->text ? 0 : fail(t, "out of memory");
}

static int method_bit(const char *m, __u32 *bits)
{
	static const char *const names[] = {
		[KMESH_HTTP_M_GET] = "GET", [KMESH_HTTP_M_HEAD] = "HEAD",
		[KMESH_HTTP_M_POST] = "POST", [KMESH_HTTP_M_PUT] = "PUT",
		[KMESH_HTTP_M_DELETE] = "DELETE", [KMESH_HTTP_M_CONNECT] = "CONNECT",
		[KMESH_HTTP_M_OPTIONS] = "OPTIONS", [KMESH_HTTP_M_TRACE] = "TRACE",
		[KMESH_HTTP_M_PATCH] = "PATCH",
	};
	unsigned int i;

	for (i = KMESH_HTTP_M_GET; i <= KMESH_HTTP_M_PATCH; i++)
		if (!strcmp(names[i], m)) {
			*bits |= KMESH_RT_METHOD_BIT(i);
			return 0;
		}
	return -1;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* A deep copy of match block @src into the zeroed @dst; 0 or -1 (memory). */
static int copy_match(struct mesh_route_match *dst, const struct mesh_route_match *src)
{
	bool oom = false;
	size_t i;

	*dst = *src;
	dst->uri.text = dup_or_null(src->uri.text, &oom);
	dst->headers = src->nr_headers ? calloc(src->nr_headers, sizeof(*dst->headers)) : NULL;
	dst->query = src->nr_query ? calloc(src->nr_query, sizeof(*dst->query)) : NULL;
	dst->nr_headers = dst->headers ? src->nr_headers : 0;
	dst->nr_query = dst->query ? src->nr_query : 0;
	if ((src->nr_headers && !dst->headers) || (src->nr_query && !dst->query))
		oom = true;
	for (i = 0; i < dst->nr_headers; i++) {
		dst->headers[i] = src->headers[i];
		dst->headers[i].value.text = dup_or_null(src->headers[i].value.text, &oom);
	}
	for (i = 0; i < dst->nr_query; i++) {
		dst->query[i].name = dup_or_null(src->query[i].name, &oom);
		dst->query[i].value = dup_or_null(src->query[i].value, &oom);
	}
	return oom ? -1 : 0;
}

/*
 * grpc: {} (GrpcRouteMatchOptions): only gRPC requests, which Envoy tells
 * by content-type application/grpc or application/grpc+<subtype>. kmesh's
 * header conditions have no alternative within one block, so the match
 * becomes two blocks (the route matches when either does): the same
 * conditions with content-type exactly application/grpc, and with the
 * prefix application/grpc+. Both header matches are on the request
 * head kmesh reads (HTTP/1.1, or the HTTP/2 HEADERS where the module's
 * plane reads them).
 */
static int translate_grpc_match(struct tctx *t, struct mesh_http_route *r,
				size_t idx, const char *where)
{
	struct mesh_header_match *h;
	struct mesh_route_match *m, *m2;
	size_t k;

	m = &r->match[idx];
	for (k = 0; k < m->nr_headers; k++)
		if (!strcmp(m->headers[k].name, "content-type"))
			return fail(t, "%s.match: grpc and a content-type header match together: not supported",
				    where);
	h = grow(m->headers, m->nr_headers, sizeof(*h));
	if (!h)
		return fail(t, "out of memory");
	m->headers = h;
	h = &m->headers[m->nr_headers++];
	snprintf(h->name, sizeof(h->name), "content-type");
	h->value.kind = MESH_M_EXACT;
	h->value.text = strdup("application/grpc");
	if (!h->value.text)
		return fail(t, "out of memory");
	m2 = GROW(t, r->match, r->nr_match);
	m = &r->match[idx];	/* the array may have moved */
	if (copy_match(m2, m))
		return fail(t, "out of memory");
	h = &m2->headers[m2->nr_headers - 1];
	h->value.kind = MESH_M_PREFIX;
	free(h->value.text);
	h->value.text = strdup("application/grpc+");
	if (!h->value.text)
		return fail(t, "out of memory");
	return 0;
}

static int translate_match(struct tctx *t, const Envoy__Config__Route__V3__RouteMatch *rm,
			   const char *where, struct mesh_http_route *r)
{
	static const char *const rm_fields[] = {
		"prefix", "path", "path_separated_prefix", "headers",
		"query_parameters", "case_sensitive", "grpc", NULL,
	};
	static const char *const hm_fields[] = {
		"name", "string_match", "present_match", "exact_match",
		"prefix_match", "suffix_match", "invert_match", NULL,
	};
	static const char *const qm_fields[] = { "name", "string_match", NULL };
	struct mesh_route_match *m;
	char w[1024];
	size_t i;

	if (!rm)
		return fail(t, "%s.match: missing", where);
	snprintf(w, sizeof(w), "%s.match", where);
	if (pb_only(&rm->base, rm_fields, w, t->err, t->err_size))
		return -1;
	if (rm->case_sensitive && !rm->case_sensitive->value)
		return fail(t, "%s.match.case_sensitive: false is not supported", where);
	m = GROW(t, r->match, r->nr_match);
	switch (rm->path_specifier_case) {
	case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX:
		/* "" and "/" take every path: no uri condition */
		if (rm->prefix[0] && strcmp(rm->prefix, "/")) {
			m->has_uri = true;
			m->uri.kind = MESH_M_PREFIX;
			m->uri.text = strdup(rm->prefix);
		}
		break;
	case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH:
		m->has_uri = true;
		m->uri.kind = MESH_M_EXACT;
		m->uri.text = strdup(rm->path);
		break;
	case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH_SEPARATED_PREFIX:
		m->has_uri = true;
		m->uri.kind = MESH_M_SEGMENT_PREFIX;
		m->uri.text = strdup(rm->path_separated_prefix);
		break;
	default:
		return fail(t, "%s.match: needs prefix, path or path_separated_prefix", where);
	}
	if (m->has_uri && !m->uri.text)
		return fail(t, "out of memory");
	if (m->has_uri && (m->uri.text[0] != '/' || strlen(m->uri.text) > KMESH_RT_MAX_STR_LEN))
		return fail(t, "%s.match: '%s': a path must start with '/' and be at most %d bytes",
			    where, m->uri.text, KMESH_RT_MAX_STR_LEN);
	for (i = 0; i < rm->n_headers; i++) {
		const Envoy__Config__Route__V3__HeaderMatcher *hm = rm->headers[i];
		struct mesh_header_match *h;
		struct mesh_pattern p = {};
		size_t k;

		snprintf(w, sizeof(w), "%s.match.headers[%zu]", where, i);
		if (pb_only(&hm->base, hm_fields, w, t->err, t->err_size))
			return -1;
		switch (hm->header_match_specifier_case) {
		case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH:
			snprintf(w, sizeof(w), "%s.match.headers[%zu].string_match", where, i);
			if (string_pattern(t, hm->string_match, true, w, &p))
				return -1;
			break;
/* Deprecated in the protos, still what older servers send: honoured. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_EXACT_MATCH:
			p.kind = MESH_M_EXACT;
			p.text = strdup(hm->exact_match);
			break;
		case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PREFIX_MATCH:
			p.kind = MESH_M_PREFIX;
			p.text = strdup(hm->prefix_match);
			break;
		case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_SUFFIX_MATCH:
			p.kind = MESH_M_SUFFIX;
			p.text = strdup(hm->suffix_match);
			break;
#pragma GCC diagnostic pop
		case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PRESENT_MATCH:
			p.kind = hm->present_match ? MESH_M_PRESENT : MESH_M_ABSENT;
			break;
		default:
			return fail(t, "%s: needs string_match or present_match", w);
		}
		if (hm->invert_match) {
			free(p.text);
			if (p.kind != MESH_M_PRESENT && p.kind != MESH_M_ABSENT)
				return fail(t, "%s.match.headers[%zu].invert_match: only with present_match", where, i);
			p.kind = p.kind == MESH_M_PRESENT ? MESH_M_ABSENT : MESH_M_PRESENT;
			p.text = NULL;
		}
		if (!strcasecmp(hm->name, ":method")) {
			if (p.kind != MESH_M_EXACT || method_bit(p.text, &m->methods)) {
				free(p.text);
				return fail(t, "%s.match.headers[%zu]: :method takes an exact method name (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH)",
					    where, i);
			}
			free(p.text);
			continue;
		}
		if (hm->name[0] == ':' || strlen(hm->name) > KMESH_RT_MAX_NAME_LEN) {
			free(p.text);
			return fail(t, "%s.match.headers[%zu].name: '%s': not supported (pseudo-headers other than :method, or longer than %d)",
				    where, i, hm->name, KMESH_RT_MAX_NAME_LEN);
		}
		h = grow(m->headers, m->nr_headers, sizeof(*h));
		if (!h) {
			free(p.text);
			return fail(t, "out of memory");
		}
		m->headers = h;
		h = &m->headers[m->nr_headers++];
		for (k = 0; hm->name[k]; k++)
			h->name[k] = (char)(hm->name[k] >= 'A' && hm->name[k] <= 'Z' ?
					    hm->name[k] + 32 : hm->name[k]);
		h->value = p;
	}
	for (i = 0; i < rm->n_query_parameters; i++) {
		const Envoy__Config__Route__V3__QueryParameterMatcher *qm = rm->query_parameters[i];
		struct mesh_query_match *q;

		snprintf(w, sizeof(w), "%s.match.query_parameters[%zu]", where, i);
		if (pb_only(&qm->base, qm_fields, w, t->err, t->err_size))
			return -1;
		if (!qm->string_match || qm->string_match->match_pattern_case !=
		    ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT ||
		    qm->string_match->ignore_case)
			return fail(t, "%s.string_match: only exact (case-sensitive) values", w);
		q = GROW(t, m->query, m->nr_query);
		q->name = strdup(qm->name);
		q->value = strdup(qm->string_match->exact);
		if (!q->name || !q->value)
			return fail(t, "out of memory");
	}
	if (rm->grpc) {
		static const char *const no_fields[] = { NULL };

		snprintf(w, sizeof(w), "%s.match.grpc", where);
		if (pb_only(&rm->grpc->base, no_fields, w, t->err, t->err_size))
			return -1;
		return translate_grpc_match(t, r, (size_t)(m - r->match), where);
	}
	return 0;
}

static int translate_action(struct tctx *t, const Envoy__Config__Route__V3__Route *rt,
			    const char *where, struct mesh_http_route *r)
{
	static const char *const ra_fields[] = {
		"cluster", "weighted_clusters", "timeout", "retry_policy",
		"max_stream_duration", NULL,
	};
	static const char *const msd_fields[] = {
		"max_stream_duration", "grpc_timeout_header_max", NULL,
	};
	static const char *const wc_fields[] = { "clusters", NULL };
	static const char *const cw_fields[] = { "name", "weight", NULL };
	static const char *const dr_fields[] = { "status", "body", NULL };
	char w[1024];
	size_t i;

	switch (rt->action_case) {
	case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE: {
		const Envoy__Config__Route__V3__RouteAction *ra = rt->route;

		snprintf(w, sizeof(w), "%s.route", where);
		if (pb_only(&ra->base, ra_fields, w, t->err, t->err_size))
			return -1;
		/* kmesh enforces no request timeouts: only "none" (0s, what
		 * istiod sends by default) can be honoured */
		if (ra->timeout && (ra->timeout->seconds || ra->timeout->nanos))
			return fail(t, "%s.route.timeout: only 0s (no timeout) is supported", where);
		/* istiod sends {max_stream_duration: 0s,
		 * grpc_timeout_header_max: 0s} on every route: no limit of
		 * its own, and Envoy would enforce a request's grpc-timeout;
		 * kmesh enforces none, the gRPC client and server keep their
		 * deadlines themselves */
		if (ra->max_stream_duration) {
			const Envoy__Config__Route__V3__RouteAction__MaxStreamDuration *m =
				ra->max_stream_duration;
			char mw[1024];

			snprintf(mw, sizeof(mw), "%s.route.max_stream_duration", where);
			if (pb_only(&m->base, msd_fields, mw, t->err, t->err_size))
				return -1;
			if (m->max_stream_duration && (m->max_stream_duration->seconds ||
						       m->max_stream_duration->nanos))
				return fail(t, "%s.max_stream_duration: only 0s (no limit) is supported",
					    mw);
			if (m->grpc_timeout_header_max)
				note("%s.grpc_timeout_header_max: not applicable (kmesh enforces no grpc-timeout; the gRPC peers keep their deadlines)",
				     mw);
		}
		/* istiod puts one on every route (2 attempts on connect
		 * failures and refused streams): kmesh steers connections and
		 * never resends a request, so a failure reaches the client */
		if (ra->retry_policy)
			note("%s.route.retry_policy: not applicable (kmesh makes no retries)", where);
		r->action = KMESH_RT_A_ROUTE;
		if (ra->cluster_specifier_case ==
		    ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER) {
			struct mesh_destination *d = GROW(t, r->dests, r->nr_dests);

			d->weight = 1;
			d->cluster = cluster_index(t, ra->cluster, w);
			return d->cluster < 0 ? -1 : 0;
		}
		if (ra->cluster_specifier_case !=
		    ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_WEIGHTED_CLUSTERS)
			return fail(t, "%s.route: needs cluster or weighted_clusters", where);
		snprintf(w, sizeof(w), "%s.route.weighted_clusters", where);
		if (pb_only(&ra->weighted_clusters->base, wc_fields, w, t->err, t->err_size))
			return -1;
		for (i = 0; i < ra->weighted_clusters->n_clusters; i++) {
			const Envoy__Config__Route__V3__WeightedCluster__ClusterWeight *cw =
				ra->weighted_clusters->clusters[i];
			struct mesh_destination *d;

			snprintf(w, sizeof(w), "%s.route.weighted_clusters.clusters[%zu]", where, i);
			if (pb_only(&cw->base, cw_fields, w, t->err, t->err_size))
				return -1;
			if (!cw->weight || !cw->weight->value)
				continue;	/* weight 0 takes no traffic */
			d = GROW(t, r->dests, r->nr_dests);
			d->weight = cw->weight->value;
			d->cluster = cluster_index(t, cw->name, w);
			if (d->cluster < 0)
				return -1;
		}
		if (!r->nr_dests)
			return fail(t, "%s.route.weighted_clusters: no cluster with a weight", where);
		return 0;
	}
	case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_DIRECT_RESPONSE: {
		const Envoy__Config__Route__V3__DirectResponseAction *dr = rt->direct_response;
		const Envoy__Config__Core__V3__DataSource *b = dr->body;

		snprintf(w, sizeof(w), "%s.direct_response", where);
		if (pb_only(&dr->base, dr_fields, w, t->err, t->err_size))
			return -1;
		if (dr->status < 200 || dr->status > 599)
			return fail(t, "%s.status: %u: expected 200..599", w, dr->status);
		r->action = KMESH_RT_A_DIRECT;
		r->status = (__u16)dr->status;
		if (!b)
			return 0;
		if (b->specifier_case == ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_STRING) {
			r->body_len = strlen(b->inline_string);
			r->body = malloc(r->body_len + 1);
			if (r->body)
				memcpy(r->body, b->inline_string, r->body_len + 1);
		} else if (b->specifier_case == ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES) {
			r->body_len = b->inline_bytes.len;
			r->body = malloc(r->body_len + 1);
			if (r->body)
				memcpy(r->body, b->inline_bytes.data, r->body_len);
		} else {
			return fail(t, "%s.body: only inline_string or inline_bytes", w);
		}
		return r->body ? 0 : fail(t, "out of memory");
	}
	default:
		return fail(t, "%s: action: only route and direct_response are supported", where);
	}
}

/*
 * typed_per_filter_config of a virtual host or a route (@where names the
 * map): kmesh takes the local rate limit's (key @rl_filter, the name of
 * the connection manager's local_ratelimit filter) and refuses every
 * other filter's config. *@found says whether it was there; *@out is its
 * bucket (zero: not enforced, so nothing is limited there).
 */
static int per_filter_ratelimit(struct tctx *t, const char *where,
				const char *key, const Google__Protobuf__Any *any,
				const char *rl_filter, bool *found,
				struct mesh_rate_limit *out)
{
	char w[1100];

	snprintf(w, sizeof(w), "%s['%s']", where, key);
	if (!rl_filter || strcmp(key, rl_filter))
		return fail(t, "%s: not supported (only the local rate limit filter's config%s%s%s)",
			    w, rl_filter ? ", '" : "", rl_filter ? rl_filter : "",
			    rl_filter ? "'" : ": the connection manager has no envoy.filters.http.local_ratelimit");
	if (!any || strcmp(any->type_url, URL_LOCAL_RATELIMIT))
		return fail(t, "%s: %s: not supported (kmesh takes a LocalRateLimit, not a FilterConfig wrapper)",
			    w, any ? any->type_url : "no value");
	if (*found)
		return fail(t, "%s: a second local rate limit config", w);
	*found = true;
	return translate_local_ratelimit(t, w, &any->value, true, out);
}

/* Routes of one virtual host (into @mr), and the cluster a connection
 * takes before its first request is read: the catch-all route's. */
static int translate_vhost(struct tctx *t, const char *rc_name, size_t vi,
			   const Envoy__Config__Route__V3__VirtualHost *vh,
			   struct mesh_routes *mr, const char *svc_name, int *port_cluster,
			   const char *rl_filter, bool *vh_limit_set,
			   struct mesh_rate_limit *vh_limit)
{
	static const char *const vh_fields[] = {
		"name", "domains", "routes", "include_request_attempt_count",
		"typed_per_filter_config", NULL,
	};
	static const char *const rt_fields[] = {
		"name", "match", "route", "direct_response", "metadata", "decorator",
		"typed_per_filter_config", NULL,
	};
	char where[1024];
	size_t i, k;

	snprintf(where, sizeof(where), "RouteConfiguration '%s': virtual_hosts[%zu]", rc_name, vi);
	if (pb_only(&vh->base, vh_fields, where, t->err, t->err_size))
		return -1;
	/* istiod sets it on every virtual host: a header for retries,
	 * which kmesh never makes */
	if (vh->include_request_attempt_count)
		note("%s.include_request_attempt_count: not applicable (kmesh makes no retries, adds no header)",
		     where);
	/* the virtual host's limit replaces the listener's for its service */
	*vh_limit_set = false;
	for (i = 0; i < vh->n_typed_per_filter_config; i++) {
		char w[1100];

		snprintf(w, sizeof(w), "%s.typed_per_filter_config", where);
		if (per_filter_ratelimit(t, w, vh->typed_per_filter_config[i]->key,
					 vh->typed_per_filter_config[i]->value,
					 rl_filter, vh_limit_set, vh_limit))
			return -1;
	}
	*port_cluster = -1;
	for (i = 0; i < vh->n_domains; i++) {
		char host[256], *colon;
		__u32 a[4];

		snprintf(host, sizeof(host), "%s", vh->domains[i]);
		for (k = 0; host[k]; k++)
			if (host[k] >= 'A' && host[k] <= 'Z')
				host[k] += 32;
		/* kmesh compares hosts without the port */
		colon = strrchr(host, ':');
		if (colon && !strchr(colon + 1, ']') && !mesh_addr_parse(host, a))
			colon = NULL;	/* a bare IPv6 address */
		if (colon)
			*colon = 0;
		if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			if (host[0] && host[strlen(host) - 1] == ']')
				host[strlen(host) - 1] = 0;
		}
		if (!strcmp(host, "*")) {
			for (k = 0; k < mr->nr_hosts; k++)
				free(mr->hosts[k]);
			mr->nr_hosts = 0;
			break;
		}
		/* kmesh's host forms: a name (or address) and "*.suffix";
		 * Envoy's "*-suffix" and "prefix*" have no kmesh meaning. */
		{
			const char *h = host[0] == '*' && host[1] == '.' ? host + 2 : host;
			bool ok = h[0] && strlen(host) <= KMESH_RT_MAX_HOST_LEN;

			for (k = 0; ok && h[k]; k++)
				ok = (h[k] >= 'a' && h[k] <= 'z') || (h[k] >= '0' && h[k] <= '9') ||
				     h[k] == '-' || h[k] == '.' || h[k] == '_' || h[k] == ':';
			if (!ok)
				return fail(t, "%s.domains[%zu]: '%s': not supported (a host name or address, \"*.suffix\" or \"*\", optionally with :port)",
					    where, i, vh->domains[i]);
		}
		for (k = 0; k < mr->nr_hosts && strcmp(mr->hosts[k], host); k++)
			;
		if (k < mr->nr_hosts)
			continue;
		{
			char **h = GROW(t, mr->hosts, mr->nr_hosts);

			*h = strdup(host);
			if (!*h)
				return fail(t, "out of memory");
		}
	}
	if (!mr->nr_hosts) {
		char **h = GROW(t, mr->hosts, mr->nr_hosts);

		if (!(*h = strdup("*")))
			return fail(t, "out of memory");
	}
	for (i = 0; i < vh->n_routes; i++) {
		const Envoy__Config__Route__V3__Route *rt = vh->routes[i];
		struct mesh_http_route *r;
		char w[1024];

		snprintf(w, sizeof(w), "%s.routes[%zu]", where, i);
		if (pb_only(&rt->base, rt_fields, w, t->err, t->err_size))
			return -1;
		r = GROW(t, mr->http, mr->nr_http);
		if (rt->name && rt->name[0])
			kmesh_name(rt->name, r->name);
		else
			snprintf(r->name, sizeof(r->name), "route-%zu", i);
		for (k = 0; k + 1 < mr->nr_http; k++)
			if (!strcmp(mr->http[k].name, r->name))
				snprintf(r->name, sizeof(r->name), "route-%zu", i);
		snprintf(r->path, sizeof(r->path), "%.80s.routes[%zu]", vh->name, i);
		if (translate_match(t, rt->match, w, r) || translate_action(t, rt, w, r))
			return -1;
		/* a route's limit replaces the virtual host's and the
		 * listener's for its requests (not enforced: exempt) */
		{
			bool found = false;

			for (k = 0; k < rt->n_typed_per_filter_config; k++) {
				char pw[1100];

				snprintf(pw, sizeof(pw), "%s.typed_per_filter_config", w);
				if (per_filter_ratelimit(t, pw, rt->typed_per_filter_config[k]->key,
							 rt->typed_per_filter_config[k]->value,
							 rl_filter, &found, &r->rate_limit))
					return -1;
			}
			if (found && r->action != KMESH_RT_A_ROUTE)
				return fail(t, "%s.typed_per_filter_config['%s']: a local rate limit on a direct_response route: not supported (kmesh answers such a route itself, before any limit)",
					    w, rl_filter);
			r->rate_limit.replaces_service = found;
		}
		r->id = mesh_l7_id(svc_name, r->name);
		for (k = 0; k + 1 < mr->nr_http; k++)
			if (mr->http[k].id == r->id)
				return fail(t, "%s.name: '%s' hashes to the same id as '%s'",
					    w, r->name, mr->http[k].name);
		/* A route with no conditions is the default: kmesh wants it
		 * with no match list at all. */
		if (r->nr_match == 1 && !r->match[0].has_uri && !r->match[0].methods &&
		    !r->match[0].nr_headers && !r->match[0].nr_query) {
			free(r->match);
			r->match = NULL;
			r->nr_match = 0;
		}
		if (r->action == KMESH_RT_A_ROUTE && (*port_cluster < 0 || !r->nr_match))
			*port_cluster = r->dests[0].cluster;
	}
	return 0;
}


/* ---- HTTP RBAC → authorization ----
 *
 * One RBAC filter's policies become authorization policies of every
 * service the listener makes, with the filter's action. Envoy: a policy
 * matches when any permission and any principal match; kmesh: a rule
 * matches when any `to` and any `from` match: the same shape. Permission
 * trees of the form istiod builds (and_rules of or_rules of leaves, not_rule
 * for the not_ fields) become one operation: an and_rules member is one
 * field, an or_rules its values. What cannot be said that way is refused.
 */

enum op_field {
	OPF_METHODS = 1, OPF_PATHS = 2, OPF_HOSTS = 4, OPF_PORTS = 8, OPF_SOURCE = 16,
};

static int push_pattern(struct tctx *t, struct mesh_pattern_list *l,
			const Envoy__Type__Matcher__V3__StringMatcher *sm, bool host,
			const char *where)
{
	struct mesh_pattern *p;

	if (sm->ignore_case && !host)
		return fail(t, "%s.ignore_case: not supported for paths", where);
	p = GROW(t, l->v, l->n);
	if (string_pattern(t, sm, true, where, p))
		return -1;
	if (host)
		for (char *c = p->text; c && *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c += 32;
	if (!host && p->kind != MESH_M_SUFFIX && p->text[0] != '/')
		return fail(t, "%s: a path pattern must start with '/'", where);
	if (strlen(p->text) > KMESH_RT_MAX_STR_LEN)
		return fail(t, "%s: longer than %d bytes", where, KMESH_RT_MAX_STR_LEN);
	return 0;
}

/* One leaf permission into @op (negated: the not_ field). */
static int perm_leaf(struct tctx *t, const Envoy__Config__Rbac__V3__Permission *pm,
		     struct mesh_authz_operation *op, bool neg, const char *where,
		     unsigned int *field)
{
	static const char *const hm_fields[] = { "name", "string_match", NULL };
	char w[1024];

	switch (pm->rule_case) {
	case ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_URL_PATH:
		*field = OPF_PATHS;
		snprintf(w, sizeof(w), "%s.url_path.path", where);
		if (pm->url_path->rule_case != ENVOY__TYPE__MATCHER__V3__PATH_MATCHER__RULE_PATH)
			return fail(t, "%s: missing", w);
		return push_pattern(t, neg ? &op->not_paths : &op->paths, pm->url_path->path,
				    false, w);
	case ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_DESTINATION_PORT: {
		struct mesh_port_list *l = neg ? &op->not_ports : &op->ports;
		__u16 *v;

		*field = OPF_PORTS;
		if (!pm->destination_port || pm->destination_port > 65535)
			return fail(t, "%s.destination_port: expected 1..65535", where);
		v = GROW(t, l->v, l->n);
		*v = (__u16)pm->destination_port;
		return 0;
	}
	case ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_HEADER: {
		const Envoy__Config__Route__V3__HeaderMatcher *hm = pm->header;

		snprintf(w, sizeof(w), "%s.header", where);
		if (pb_only(&hm->base, hm_fields, w, t->err, t->err_size))
			return -1;
		if (!hm->string_match)
			return fail(t, "%s: needs string_match", w);
		snprintf(w, sizeof(w), "%s.header.string_match", where);
		if (!strcasecmp(hm->name, ":method")) {
			__u32 *bits = neg ? &op->not_methods : &op->methods;

			*field = OPF_METHODS;
			if (hm->string_match->match_pattern_case !=
			    ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT ||
			    method_bit(hm->string_match->exact, bits))
				return fail(t, "%s: :method takes an exact method name", w);
			return 0;
		}
		if (!strcasecmp(hm->name, ":authority") || !strcasecmp(hm->name, "host")) {
			*field = OPF_HOSTS;
			return push_pattern(t, neg ? &op->not_hosts : &op->hosts,
					    hm->string_match, true, w);
		}
		return fail(t, "%s.name: '%s': only :method, :authority and host are supported in permissions",
			    where, hm->name);
	}
	default:
		return fail(t, "%s.%s: not supported (url_path, header :method/:authority, destination_port, any, and_rules, or_rules, not_rule)",
			    where, pb_field_name(pm->base.descriptor, pm->rule_case));
	}
}

/* or_rules (or a single leaf): values of one field. */
static int perm_or(struct tctx *t, const Envoy__Config__Rbac__V3__Permission *pm,
		   struct mesh_authz_operation *op, bool neg, const char *where,
		   unsigned int *field)
{
	char w[1024];
	size_t i;

	if (pm->rule_case == ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_NOT_RULE) {
		if (neg)
			return fail(t, "%s.not_rule: a double negation is not supported", where);
		snprintf(w, sizeof(w), "%s.not_rule", where);
		return perm_or(t, pm->not_rule, op, true, w, field);
	}
	if (pm->rule_case != ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_OR_RULES)
		return perm_leaf(t, pm, op, neg, where, field);
	*field = 0;
	for (i = 0; i < pm->or_rules->n_rules; i++) {
		unsigned int f = 0;

		snprintf(w, sizeof(w), "%s.or_rules.rules[%zu]", where, i);
		if (perm_leaf(t, pm->or_rules->rules[i], op, neg, w, &f))
			return -1;
		if (*field && f != *field)
			return fail(t, "%s: or_rules over different fields cannot be expressed (one field's values only)", w);
		*field = f;
	}
	return 0;
}

/* One permission: any (*any), or one operation appended to @r->to. */
static int translate_permission(struct tctx *t, const Envoy__Config__Rbac__V3__Permission *pm,
				struct mesh_authz_rule *r, const char *where, bool *any)
{
	struct mesh_authz_operation *op;
	unsigned int seen = 0, f = 0;
	char w[1024];
	size_t i;

	if (pm->rule_case == ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_ANY) {
		*any = pm->any;
		if (!pm->any)
			return fail(t, "%s.any: false matches nothing; not supported", where);
		return 0;
	}
	op = GROW(t, r->to, r->nr_to);
	if (pm->rule_case != ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_AND_RULES)
		return perm_or(t, pm, op, false, where, &f);
	for (i = 0; i < pm->and_rules->n_rules; i++) {
		const Envoy__Config__Rbac__V3__Permission *sub = pm->and_rules->rules[i];

		snprintf(w, sizeof(w), "%s.and_rules.rules[%zu]", where, i);
		if (sub->rule_case == ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_ANY && sub->any)
			continue;
		if (perm_or(t, sub, op, false, w, &f))
			return -1;
		if (seen & f)
			return fail(t, "%s: a second condition on the same field cannot be expressed", w);
		seen |= f;
	}
	return 0;
}

static int push_cidr(struct tctx *t, struct mesh_cidr_list *l,
		     const Envoy__Config__Core__V3__CidrRange *c, const char *where)
{
	struct mesh_cidr *v;
	char text[128];

	v = GROW(t, l->v, l->n);
	if (c->prefix_len)
		snprintf(text, sizeof(text), "%s/%u", c->address_prefix, c->prefix_len->value);
	else
		snprintf(text, sizeof(text), "%s", c->address_prefix);
	if (mesh_cidr_parse(text, v))
		return fail(t, "%s: '%s' is not an address or CIDR", where, text);
	return 0;
}

static int principal_leaf(struct tctx *t, const Envoy__Config__Rbac__V3__Principal *pr,
			  struct mesh_authz_source *src, bool neg, const char *where)
{
	const Envoy__Config__Core__V3__CidrRange *c;
	char w[1024];

	switch (pr->identifier_case) {
	case ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_DIRECT_REMOTE_IP:
		c = pr->direct_remote_ip;
		snprintf(w, sizeof(w), "%s.direct_remote_ip", where);
		break;
	case ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_REMOTE_IP:
		c = pr->remote_ip;
		snprintf(w, sizeof(w), "%s.remote_ip", where);
		break;
	case ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_SOURCE_IP:
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		c = pr->source_ip;
#pragma GCC diagnostic pop
		snprintf(w, sizeof(w), "%s.source_ip", where);
		break;
	default:
		return fail(t, "%s.%s: not supported (direct_remote_ip, remote_ip, source_ip, any, or_ids, not_id; kmesh has no peer identity yet)",
			    where, pb_field_name(pr->base.descriptor, pr->identifier_case));
	}
	return push_cidr(t, neg ? &src->not_ip_blocks : &src->ip_blocks, c, w);
}

static int translate_principal(struct tctx *t, const Envoy__Config__Rbac__V3__Principal *pr,
			       struct mesh_authz_rule *r, const char *where, bool *any)
{
	struct mesh_authz_source *src;
	bool neg = false;
	char w[1024];
	size_t i;

	if (pr->identifier_case == ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_ANY) {
		if (!pr->any)
			return fail(t, "%s.any: false matches nothing; not supported", where);
		*any = true;
		return 0;
	}
	src = GROW(t, r->from, r->nr_from);
	snprintf(w, sizeof(w), "%s", where);
	if (pr->identifier_case == ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_NOT_ID) {
		neg = true;
		pr = pr->not_id;
		snprintf(w, sizeof(w), "%s.not_id", where);
	}
	if (pr->identifier_case != ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_OR_IDS)
		return principal_leaf(t, pr, src, neg, w);
	for (i = 0; i < pr->or_ids->n_ids; i++) {
		char w2[1100];

		snprintf(w2, sizeof(w2), "%s.or_ids.ids[%zu]", w, i);
		if (principal_leaf(t, pr->or_ids->ids[i], src, neg, w2))
			return -1;
	}
	return 0;
}

struct rbac_filter {
	Envoy__Extensions__Filters__Http__Rbac__V3__RBAC *msg;
	char where[1024];
};

static int check_rbac(struct tctx *t, struct rbac_filter *rf, size_t n)
{
	static const char *const http_fields[] = { "rules", "rules_stat_prefix", NULL };
	static const char *const rules_fields[] = { "action", "policies", NULL };
	static const char *const policy_fields[] = { "permissions", "principals", NULL };
	size_t i, j, allows = 0;
	char w[1100];

	for (i = 0; i < n; i++) {
		const Envoy__Config__Rbac__V3__RBAC *rules = rf[i].msg->rules;

		if (pb_only(&rf[i].msg->base, http_fields, rf[i].where, t->err, t->err_size))
			return -1;
		/* No rules: Envoy's filter lets everything through. */
		if (!rules)
			continue;
		snprintf(w, sizeof(w), "%s.rules", rf[i].where);
		if (pb_only(&rules->base, rules_fields, w, t->err, t->err_size))
			return -1;
		if (rules->action == ENVOY__CONFIG__RBAC__V3__RBAC__ACTION__LOG)
			return fail(t, "%s.action: LOG is not supported (ALLOW, DENY)", w);
		/* Two ALLOW filters both have to pass in Envoy; kmesh lets a
		 * request through when any ALLOW policy matches. */
		if (rules->action == ENVOY__CONFIG__RBAC__V3__RBAC__ACTION__ALLOW && ++allows > 1)
			return fail(t, "%s: a second ALLOW RBAC filter cannot be expressed (kmesh ORs ALLOW policies)", rf[i].where);
		for (j = 0; j < rules->n_policies; j++) {
			snprintf(w, sizeof(w), "%s.rules.policies['%s']", rf[i].where,
				 rules->policies[j]->key);
			if (!rules->policies[j]->value)
				return fail(t, "%s: empty", w);
			if (pb_only(&rules->policies[j]->value->base, policy_fields, w,
				    t->err, t->err_size))
				return -1;
		}
	}
	return 0;
}

static int authz_id(struct tctx *t, struct mesh_authz *a, const char *svc_name,
		    const char *where)
{
	char id_name[KMESH_NAME_MAX + 8];
	size_t k;

	snprintf(id_name, sizeof(id_name), "authz/%s", a->name);
	a->id = mesh_l7_id(svc_name, id_name);
	for (k = 0; k + 1 < t->cfg->nr_authz; k++)
		if (t->cfg->authz[k].service == a->service &&
		    (t->cfg->authz[k].id == a->id || !strcmp(t->cfg->authz[k].name, a->name)))
			return fail(t, "%s: policy '%s' collides with another policy's name or id on service '%s'",
				    where, a->name, svc_name);
	return 0;
}

static bool perms_any(const Envoy__Config__Rbac__V3__Policy *pol)
{
	size_t k;

	for (k = 0; k < pol->n_permissions; k++)
		if (pol->permissions[k]->rule_case == ENVOY__CONFIG__RBAC__V3__PERMISSION__RULE_ANY &&
		    pol->permissions[k]->any)
			return true;
	return false;
}

static bool principals_any(const Envoy__Config__Rbac__V3__Policy *pol)
{
	size_t k;

	for (k = 0; k < pol->n_principals; k++)
		if (pol->principals[k]->identifier_case == ENVOY__CONFIG__RBAC__V3__PRINCIPAL__IDENTIFIER_ANY &&
		    pol->principals[k]->any)
			return true;
	return false;
}

/* The RBAC filters' policies as authorization of service @svc. */
static int add_authz(struct tctx *t, struct rbac_filter *rf, size_t n, size_t svc)
{
	const char *svc_name = t->cfg->services[svc].name;
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		const Envoy__Config__Rbac__V3__RBAC *rules = rf[i].msg->rules;
		bool deny;

		if (!rules)
			continue;
		deny = rules->action == ENVOY__CONFIG__RBAC__V3__RBAC__ACTION__DENY;
		if (!rules->n_policies && !deny) {
			/* ALLOW with no policy: nothing is allowed (a policy
			 * with no rule matches nothing). */
			struct mesh_authz *a = GROW(t, t->cfg->authz, t->cfg->nr_authz);

			snprintf(a->name, sizeof(a->name), "rbac-%zu-allow-none", i);
			a->service = (int)svc;
			a->action = MESH_AUTHZ_ALLOW;
			snprintf(a->path, sizeof(a->path), "%.150s", rf[i].where);
			if (authz_id(t, a, svc_name, rf[i].where))
				return -1;
			continue;
		}
		for (j = 0; j < rules->n_policies; j++) {
			const Envoy__Config__Rbac__V3__Policy *pol = rules->policies[j]->value;
			struct mesh_authz *a = GROW(t, t->cfg->authz, t->cfg->nr_authz);
			struct mesh_authz_rule *r;
			bool unused = false;
			char w[1200];

			kmesh_name(rules->policies[j]->key, a->name);
			a->service = (int)svc;
			a->action = deny ? MESH_AUTHZ_DENY : MESH_AUTHZ_ALLOW;
			snprintf(a->path, sizeof(a->path), "%.150s", rf[i].where);
			if (authz_id(t, a, svc_name, rf[i].where))
				return -1;
			/* Envoy: no permission or no principal matches nothing,
			 * as does a kmesh policy without rules. */
			if (!pol->n_permissions || !pol->n_principals)
				continue;
			r = GROW(t, a->rules, a->nr_rules);
			/* An "any" among the alternatives makes that side match
			 * everything: no operation (or source) list at all. */
			for (k = 0; !perms_any(pol) && k < pol->n_permissions; k++) {
				snprintf(w, sizeof(w), "%s.rules.policies['%s'].permissions[%zu]",
					 rf[i].where, rules->policies[j]->key, k);
				if (translate_permission(t, pol->permissions[k], r, w, &unused))
					return -1;
			}
			for (k = 0; !principals_any(pol) && k < pol->n_principals; k++) {
				snprintf(w, sizeof(w), "%s.rules.policies['%s'].principals[%zu]",
					 rf[i].where, rules->policies[j]->key, k);
				if (translate_principal(t, pol->principals[k], r, w, &unused))
					return -1;
			}
		}
	}
	return 0;
}

static const char *const listener_fields[] = {
	"name", "address", "filter_chains", "traffic_direction",
	/* these tell a proxy how to bind; kmesh binds nothing (it steers
	 * connects by destination) */
	"bind_to_port", "use_original_dst", "stat_prefix", "metadata",
	/* istiod's TLS/HTTP sniffing and original-destination recovery before
	 * the filter chains: kmesh sees the destination in connect() */
	"listener_filters", "listener_filters_timeout", "continue_on_listener_filters_timeout",
	NULL,
};

static int listener_addr(struct tctx *t, const Envoy__Config__Listener__V3__Listener *l,
			 __u32 addr[4], __u16 *port, bool *wildcard)
{
	static const char *const sa_fields[] = { "protocol", "address", "port_value", NULL };
	char where[1024];
	const Envoy__Config__Core__V3__SocketAddress *sa;

	if (!l->address || l->address->address_case !=
	    ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS)
		return fail(t, "Listener '%s': address: expected a socket_address", l->name);
	sa = l->address->socket_address;
	snprintf(where, sizeof(where), "Listener '%s': address.socket_address", l->name);
	if (pb_only(&sa->base, sa_fields, where, t->err, t->err_size))
		return -1;
	if (sa->protocol != ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PROTOCOL__TCP)
		return fail(t, "%s.protocol: only TCP", where);
	if (parse_ip(sa->address, addr))
		return fail(t, "%s.address: '%s' is not an IP address", where, sa->address);
	if (sa->port_specifier_case != ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE ||
	    !sa->port_value || sa->port_value > 65535)
		return fail(t, "%s.port_value: expected 1..65535", where);
	*port = (__u16)sa->port_value;
	*wildcard = !strcmp(sa->address, "0.0.0.0") || !strcmp(sa->address, "::");
	return 0;
}

static int translate_tcp_proxy(struct tctx *t, const Envoy__Config__Listener__V3__Listener *l,
			       const Envoy__Config__Listener__V3__Filter *f,
			       const __u32 addr[4], __u16 port, bool wildcard)
{
	static const char *const tp_fields[] = { "stat_prefix", "cluster", NULL };
	Envoy__Extensions__Filters__Network__TcpProxy__V3__TcpProxy *tp;
	struct mesh_service *s;
	struct mesh_port *p;
	char where[1024], name[KMESH_NAME_MAX * 2];
	const char *host;
	int rc = -1;

	snprintf(where, sizeof(where), "Listener '%s': filter_chains[0].filters[0].typed_config",
		 l->name);
	tp = envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__unpack(
		NULL, f->typed_config->value.len, f->typed_config->value.data);
	if (!tp)
		return fail(t, "%s: not a valid TcpProxy", where);
	if (pb_only(&tp->base, tp_fields, where, t->err, t->err_size))
		goto out;
	if (tp->cluster_specifier_case !=
	    ENVOY__EXTENSIONS__FILTERS__NETWORK__TCP_PROXY__V3__TCP_PROXY__CLUSTER_SPECIFIER_CLUSTER) {
		fail(t, "%s: needs cluster", where);
		goto out;
	}
	if (wildcard) {
		fail(t, "Listener '%s': address: a TCP proxy listener needs the service's address (kmesh steers by destination, not by a catch-all port)",
		     l->name);
		goto out;
	}
	host = istio_host(tp->cluster);
	if (host)
		snprintf(name, sizeof(name), "%s-%u", host, port);
	else
		snprintf(name, sizeof(name), "%s", l->name);
	snprintf(where, sizeof(where), "Listener '%s'", l->name);
	if (add_service(t, name, where, &s) || add_addr(t, s, addr))
		goto out;
	p = grow(s->ports, 0, sizeof(*p));
	if (!p) {
		fail(t, "out of memory");
		goto out;
	}
	s->ports = p;
	s->nr_ports = 1;
	p->port = port;
	p->cluster = cluster_index(t, tp->cluster, where);
	if (p->cluster < 0)
		goto out;
	rc = 0;
out:
	protobuf_c_message_free_unpacked(&tp->base, NULL);
	return rc;
}

#define HCM(x) ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__##x

/*
 * The connection manager settings an unmodified istiod sends on every
 * outbound HTTP listener (pilot's buildHTTPConnectionManager), each with
 * what it means for kmesh. Telemetry of Envoy's own (access_log, tracing,
 * request ids) is not applicable: kmesh logs and counts per route itself
 * and never adds or changes a header, so trace and request-id headers
 * pass as the client sent them. Path handling maps to the service's
 * path_normalization (docs/config.md "Paths"): kmesh refuses (400) the
 * paths Envoy would normalize, which never lets more through. The
 * service's path_normalization comes back in @norm.
 */
static int hcm_settings(struct tctx *t,
			const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *h,
			const char *where, enum mesh_path_norm *norm)
{
	size_t i;

	if (h->n_access_log)
		note("%s.access_log: not applicable (kmesh's own access log: kmeshctl log)", where);
	if (h->tracing)
		note("%s.tracing: not applicable (kmesh makes no spans; trace headers pass unchanged)",
		     where);
	if (h->request_id_extension || h->generate_request_id || h->preserve_external_request_id)
		note("%s: request ids: not applicable (kmesh adds no x-request-id; the client's passes unchanged)",
		     where);
	/* Envoy appends the peer to X-Forwarded-For with it: kmesh changes
	 * no header, so only "false" (istiod's value for a sidecar) holds */
	if (h->use_remote_address && h->use_remote_address->value)
		return fail(t, "%s.use_remote_address: true is not supported (kmesh never appends X-Forwarded-For)",
			    where);
	if (h->stream_idle_timeout &&
	    (h->stream_idle_timeout->seconds || h->stream_idle_timeout->nanos))
		return fail(t, "%s.stream_idle_timeout: only 0s (none) is supported (kmesh times no stream out)",
			    where);
	for (i = 0; i < h->n_upgrade_configs; i++) {
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager__UpgradeConfig *u =
			h->upgrade_configs[i];

		/* kmesh passes an Upgrade request like any other and, once
		 * the server answers 101, the connection's bytes unread */
		if (strcasecmp(u->upgrade_type, "websocket") || u->n_filters ||
		    (u->enabled && !u->enabled->value))
			return fail(t, "%s.upgrade_configs[%zu]: only {upgrade_type: websocket} (enabled, no filters) is supported",
				    where, i);
	}
	if (h->normalize_path || h->merge_slashes)
		note("%s: normalize_path/merge_slashes: kmesh refuses (400) the dot segments and \"//\" that Envoy would rewrite",
		     where);
	switch (h->path_with_escaped_slashes_action) {
	case HCM(PATH_WITH_ESCAPED_SLASHES_ACTION__IMPLEMENTATION_SPECIFIC_DEFAULT):
	case HCM(PATH_WITH_ESCAPED_SLASHES_ACTION__KEEP_UNCHANGED):
		/* Envoy's default and istiod's: %2F is matched as sent */
		*norm = MESH_PATH_ESCAPED_SLASHES_LITERAL;
		break;
	case HCM(PATH_WITH_ESCAPED_SLASHES_ACTION__REJECT_REQUEST):
		*norm = MESH_PATH_REFUSE;
		break;
	default:
		/* decoding %2F would change what the server sees: kmesh
		 * refuses such a path instead (never lets more through) */
		note("%s.path_with_escaped_slashes_action: kmesh refuses (400) a path with %%2F or %%5C instead of decoding it",
		     where);
		*norm = MESH_PATH_REFUSE;
		break;
	}
	return 0;
}

static int translate_hcm(struct tctx *t, const Envoy__Config__Listener__V3__Listener *l,
			 const Envoy__Config__Listener__V3__Filter *f,
			 const __u32 addr[4], __u16 port, bool wildcard)
{
	static const char *const hcm_fields[] = {
		"codec_type", "stat_prefix", "rds", "route_config", "http_filters",
		"access_log", "tracing", "request_id_extension", "generate_request_id",
		"preserve_external_request_id", "use_remote_address", "stream_idle_timeout",
		"upgrade_configs", "normalize_path", "merge_slashes",
		"path_with_escaped_slashes_action", NULL,
	};
	enum mesh_path_norm norm = MESH_PATH_REFUSE;
	static const char *const rds_fields[] = { "config_source", "route_config_name", NULL };
	static const char *const hf_fields[] = { "name", "typed_config", NULL };
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager *h;
	const Envoy__Config__Route__V3__RouteConfiguration *rc;
	enum { RBAC_MAX = 4 };
	struct rbac_filter rbac[RBAC_MAX] = {};
	struct mesh_rate_limit rl = {}, vh_limit;
	bool have_rl = false, vh_limit_set;
	const char *rl_filter = NULL;	/* the local_ratelimit filter's name */
	size_t nr_rbac = 0;
	char where[1024];
	size_t i;
	int ret = -1;

	snprintf(where, sizeof(where), "Listener '%s': filter_chains[0].filters[0].typed_config",
		 l->name);
	h = unpack_hcm(f);
	if (!h)
		return fail(t, "%s: not a valid HttpConnectionManager", where);
	if (pb_only(&h->base, hcm_fields, where, t->err, t->err_size) ||
	    hcm_settings(t, h, where, &norm))
		goto out;
	for (i = 0; i < h->n_http_filters; i++) {
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter *hf =
			h->http_filters[i];
		const char *url;
		char w[1024];

		snprintf(w, sizeof(w), "%s.http_filters[%zu]", where, i);
		if (pb_only(&hf->base, hf_fields, w, t->err, t->err_size))
			goto out;
		url = hf->config_type_case == ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_FILTER__CONFIG_TYPE_TYPED_CONFIG ?
			hf->typed_config->type_url : "no typed_config";
		if (!strcmp(url, URL_ROUTER)) {
			if (i + 1 != h->n_http_filters) {
				fail(t, "%s: the router must be the last filter", w);
				goto out;
			}
			continue;
		}
		if (is_telemetry_filter(url)) {
			note("%s: '%s' (%s): telemetry, not applicable (kmesh counts per route itself)",
			     w, hf->name, url);
			continue;
		}
		/* istiod adds fault and CORS filters with empty configs to every
		 * outbound HTTP connection manager; what they would do comes per
		 * route (typed_per_filter_config, refused). A configured filter is
		 * something kmesh cannot do. */
		if (!strcmp(url, URL_FAULT) || !strcmp(url, URL_CORS)) {
			if (hf->typed_config->value.len) {
				fail(t, "%s: '%s' (%s) with a configuration: not supported (only an empty one, istiod's default)",
				     w, hf->name, url);
				goto out;
			}
			note("%s: '%s' (%s), empty: not applicable", w, hf->name, url);
			continue;
		}
		if (!strcmp(url, URL_LOCAL_RATELIMIT)) {
			char tw[1100];

			snprintf(tw, sizeof(tw), "%s.typed_config", w);
			if (have_rl) {
				fail(t, "%s: a second local rate limit: kmesh keeps one bucket per service", w);
				goto out;
			}
			if (translate_local_ratelimit(t, tw, &hf->typed_config->value, false, &rl))
				goto out;
			have_rl = true;
			rl_filter = hf->name;
			continue;
		}
		if (strcmp(url, URL_HTTP_RBAC) || nr_rbac == RBAC_MAX) {
			fail(t, "%s: '%s' (%s): not supported (RBAC, up to %d, local rate limit, then the router)",
			     w, hf->name, url, RBAC_MAX);
			goto out;
		}
		rbac[nr_rbac].msg = envoy__extensions__filters__http__rbac__v3__rbac__unpack(
			NULL, hf->typed_config->value.len, hf->typed_config->value.data);
		snprintf(rbac[nr_rbac].where, sizeof(rbac[nr_rbac].where), "%s.typed_config", w);
		if (!rbac[nr_rbac].msg) {
			fail(t, "%s: not a valid RBAC", w);
			goto out;
		}
		nr_rbac++;
	}
	if (!h->n_http_filters) {
		fail(t, "%s.http_filters: empty (the router is needed)", where);
		goto out;
	}
	if (check_rbac(t, rbac, nr_rbac))
		goto out;
	if (h->route_specifier_case ==
	    ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_RDS) {
		char w[1024];

		snprintf(w, sizeof(w), "%s.rds", where);
		if (pb_only(&h->rds->base, rds_fields, w, t->err, t->err_size))
			goto out;
		rc = (void *)find_res(&t->st->set[XDS_RDS], h->rds->route_config_name);
		if (!rc) {
			if (!t->waiting)
				snprintf(t->wait_msg, sizeof(t->wait_msg),
					 "RouteConfiguration '%s' of Listener '%s'",
					 h->rds->route_config_name, l->name);
			t->waiting = 1;
			ret = 0;
			goto out;
		}
	} else if (h->route_specifier_case ==
		   ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_ROUTE_CONFIG) {
		rc = h->route_config;
	} else {
		fail(t, "%s: needs rds or route_config", where);
		goto out;
	}
	{
		static const char *const rc_fields[] = {
			"name", "virtual_hosts", "validate_clusters", NULL,
		};
		char w[1024];

		snprintf(w, sizeof(w), "RouteConfiguration '%s'", rc->name);
		if (pb_only(&rc->base, rc_fields, w, t->err, t->err_size))
			goto out;
	}
	if (!wildcard && rc->n_virtual_hosts > 1) {
		fail(t, "Listener '%s': RouteConfiguration '%s' has %zu virtual hosts; a listener on one address takes one (kmesh picks the service by address)",
		     l->name, rc->name, rc->n_virtual_hosts);
		goto out;
	}
	if (rl.interval_ns && rc->n_virtual_hosts > 1) {
		fail(t, "%s: a local rate limit shared by %zu virtual hosts: kmesh keeps one bucket per service (one virtual host)",
		     where, rc->n_virtual_hosts);
		goto out;
	}
	for (i = 0; i < rc->n_virtual_hosts; i++) {
		const Envoy__Config__Route__V3__VirtualHost *vh = rc->virtual_hosts[i];
		struct mesh_service *s;
		struct mesh_routes *mr;
		struct mesh_port *p;
		char src[1024], name[KMESH_NAME_MAX * 2];
		size_t k, svc;
		int port_cluster;

		snprintf(src, sizeof(src), "Listener '%s' (RouteConfiguration '%s' virtual_hosts[%zu] '%s')",
			 l->name, rc->name, i, vh->name);
		snprintf(name, sizeof(name), "%s", vh->name[0] ? vh->name : l->name);
		svc = t->cfg->nr_services;
		if (add_service(t, name, src, &s))
			goto out;
		s->path_norm = norm;
		s->request_limit = rl;
		if (!wildcard && add_addr(t, s, addr))
			goto out;
		/* The service's addresses: the IP forms among the domains
		 * ("10.96.0.10", "10.96.0.10:80", "[fd00::10]:80"). */
		for (k = 0; k < vh->n_domains; k++) {
			char d[128], *colon;
			__u32 a[4];

			snprintf(d, sizeof(d), "%s", vh->domains[k]);
			if (d[0] == '[') {
				char *end = strchr(d, ']');

				if (!end)
					continue;
				*end = 0;
				memmove(d, d + 1, strlen(d));
			} else if ((colon = strchr(d, ':')) && !strchr(colon + 1, ':')) {
				*colon = 0;
			}
			if (!mesh_addr_parse(d, a) && add_addr(t, s, a))
				goto out;
		}
		if (!s->nr_addrs) {
			/* Nothing to steer by: kmesh sees connections by their
			 * destination, and this host has no address (istiod's
			 * catch-all "*" host, say). Not applicable; said, not kept. */
			if (xds_translate_note) {
				char note[1100];

				snprintf(note, sizeof(note), "%s: no IP address among its domains: not applicable to kmesh, skipped",
					 src);
				xds_translate_note(note);
			}
			free(t->service_src[svc]);
			name_drop_last(t->services_by_name, s->name);
			t->cfg->nr_services--;
			continue;
		}
		mr = grow(t->cfg->routes, t->cfg->nr_routes, sizeof(*mr));
		if (!mr) {
			fail(t, "out of memory");
			goto out;
		}
		t->cfg->routes = mr;
		mr = &t->cfg->routes[t->cfg->nr_routes++];
		mr->service = (int)svc;
		if (translate_vhost(t, rc->name, i, vh, mr, t->cfg->services[svc].name,
				    &port_cluster, rl_filter, &vh_limit_set, &vh_limit))
			goto out;
		s = &t->cfg->services[svc];
		if (vh_limit_set)
			s->request_limit = vh_limit;
		if (port_cluster < 0) {
			fail(t, "RouteConfiguration '%s': virtual_hosts[%zu] '%s': routes to no cluster (a connection needs one before its first request is read)",
			     rc->name, i, vh->name);
			goto out;
		}
		p = grow(s->ports, 0, sizeof(*p));
		if (!p) {
			fail(t, "out of memory");
			goto out;
		}
		s->ports = p;
		s->nr_ports = 1;
		p->port = port;
		p->http = true;
		p->cluster = port_cluster;
		if (add_authz(t, rbac, nr_rbac, svc))
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < nr_rbac; i++)
		protobuf_c_message_free_unpacked(&rbac[i].msg->base, NULL);
	protobuf_c_message_free_unpacked(&h->base, NULL);
	return ret;
}

static int translate_listeners(struct tctx *t)
{
	const struct xds_set *lds = &t->st->set[XDS_LDS];
	size_t i;

	for (i = 0; i < lds->n; i++) {
		const Envoy__Config__Listener__V3__Listener *l = (void *)lds->v[i].msg;
		static const char *const fc_fields[] = { "filters", "name", "metadata", NULL };
		static const char *const f_fields[] = { "name", "typed_config", NULL };
		const Envoy__Config__Listener__V3__FilterChain *fc;
		const Envoy__Config__Listener__V3__Filter *f;
		char where[1024];
		__u32 addr[4] = {};
		__u16 port = 0;
		bool wildcard = false;

		/* A sidecar's capture listeners (iptables sends every outbound
		 * connection to 15001, every inbound one to 15006): kmesh
		 * captures nothing, it steers in connect() */
		if (!strcmp(l->name, "virtualOutbound") || !strcmp(l->name, "virtualInbound")) {
			note("Listener '%s': a sidecar's capture listener: not applicable (kmesh steers connections in connect())",
			     l->name);
			continue;
		}
		snprintf(where, sizeof(where), "Listener '%s'", l->name);
		if (pb_only(&l->base, listener_fields, where, t->err, t->err_size) ||
		    listener_addr(t, l, addr, &port, &wildcard))
			return -1;
		if (l->n_listener_filters)
			note("Listener '%s'.listener_filters: not applicable (%s ...: kmesh needs no sniffing)",
			     l->name, l->listener_filters[0]->name);
		if (l->n_filter_chains != 1)
			return fail(t, "Listener '%s': filter_chains: %zu: kmesh takes exactly one (no filter_chain_match)",
				    l->name, l->n_filter_chains);
		fc = l->filter_chains[0];
		snprintf(where, sizeof(where), "Listener '%s': filter_chains[0]", l->name);
		if (pb_only(&fc->base, fc_fields, where, t->err, t->err_size))
			return -1;
		if (fc->n_filters != 1)
			return fail(t, "%s.filters: %zu: kmesh takes one terminal filter (tcp_proxy or http_connection_manager; network RBAC is not translated yet)",
				    where, fc->n_filters);
		f = fc->filters[0];
		snprintf(where, sizeof(where), "Listener '%s': filter_chains[0].filters[0]", l->name);
		if (pb_only(&f->base, f_fields, where, t->err, t->err_size))
			return -1;
		if (f->config_type_case != ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG)
			return fail(t, "%s: needs typed_config", where);
		if (!strcmp(f->typed_config->type_url, URL_TCP_PROXY)) {
			if (translate_tcp_proxy(t, l, f, addr, port, wildcard))
				return -1;
		} else if (!strcmp(f->typed_config->type_url, URL_HCM)) {
			if (translate_hcm(t, l, f, addr, port, wildcard))
				return -1;
		} else {
			return fail(t, "%s.typed_config: %s: not supported (TcpProxy, HttpConnectionManager)",
				    where, f->typed_config->type_url);
		}
	}
	return 0;
}

int xds_translate(const struct xds_state *st, struct mesh_config *cfg,
		  char *err, size_t err_size)
{
	struct tctx t = { .st = st, .cfg = cfg, .err = err, .err_size = err_size };
	size_t i;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = translate_clusters(&t) ? XDS_T_ERROR : XDS_T_OK;
	t.nr_cds_clusters = cfg->nr_clusters;
	if (rc == XDS_T_OK && translate_listeners(&t))
		rc = XDS_T_ERROR;
	if (rc == XDS_T_OK && t.waiting) {
		snprintf(err, err_size, "waiting for %s", t.wait_msg);
		rc = XDS_T_WAITING;
	}
	for (i = 0; i < cfg->nr_services && t.service_src; i++)
		free(t.service_src[i]);
	free(t.service_src);
	name_index_free(t.services_by_name);
	name_index_free(t.clusters_by_name);
	name_index_free(t.unsent_clusters);
	/* The names of clusters CDS never sent are copies (cluster_index). */
	for (i = t.nr_cds_clusters; i < cfg->nr_clusters && t.cluster_xds; i++)
		free(t.cluster_xds[i]);
	free(t.cluster_xds);
	if (rc != XDS_T_OK)
		mesh_config_free(cfg);
	return rc;
}

/* ---- an update of ClusterLoadAssignments alone ---- */

static const struct xds_resource *find_resource(const struct xds_set *s, const char *name)
{
	struct xds_resource key = { .name = (char *)name };

	return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_res) : NULL;
}

static bool same_bytes(const struct xds_resource *a, const struct xds_resource *b)
{
	return a && b && (a->raw == b->raw ||
			  (a->raw_len == b->raw_len && !memcmp(a->raw, b->raw, a->raw_len)));
}

void xds_eds_revert(struct mesh_config *cfg, struct xds_eds_swap *swap)
{
	size_t i;

	for (i = swap->n; i-- > 0;) {
		free(cfg->clusters[swap->idx[i]].endpoints);
		cfg->clusters[swap->idx[i]] = swap->old[i];
	}
	free(swap->old);
	free(swap->idx);
	memset(swap, 0, sizeof(*swap));
}

void xds_eds_commit(struct xds_eds_swap *swap)
{
	size_t i;

	for (i = 0; i < swap->n; i++)
		free(swap->old[i].endpoints);
	free(swap->old);
	free(swap->idx);
	memset(swap, 0, sizeof(*swap));
}

int xds_translate_eds(const struct xds_state *st, const struct xds_set *prev_eds,
		      struct mesh_config *cfg, struct xds_eds_swap *swap,
		      char *err, size_t err_size)
{
	struct tctx t = { .st = st, .cfg = cfg, .err = err, .err_size = err_size };
	const struct xds_set *cds = &st->set[XDS_CDS];
	size_t i, k = 0;

	memset(swap, 0, sizeof(*swap));
	/* The clusters in xds_translate()'s order: CDS's, passthrough ones
	 * left out; then those CDS never sent, which have no endpoints. */
	for (i = 0; i < cds->n; i++) {
		const Envoy__Config__Cluster__V3__Cluster *c = (void *)cds->v[i].msg;
		const struct xds_resource *now, *before;
		struct mesh_cluster mc;
		char name[KMESH_NAME_MAX];
		bool weighted = false;
		size_t mi;
		void *v;

		if (is_istio_passthrough(c->name))
			continue;
		mi = k++;
		kmesh_name(c->name, name);
		if (mi >= cfg->nr_clusters || strcmp(name, cfg->clusters[mi].name))
			goto whole;
		if (!is_eds(c))
			continue;	/* STATIC: its endpoints are in the Cluster */
		now = find_resource(&st->set[XDS_EDS], eds_name(c));
		if (!now)
			goto whole;	/* xds_translate() waits for it */
		before = find_resource(prev_eds, eds_name(c));
		if (same_bytes(now, before))
			continue;
		/* As translate_clusters() does it, on a copy: the Cluster's
		 * own settings stay; the endpoints and the lb (weighted or
		 * not) are the assignment's. */
		mc = cfg->clusters[mi];
		mc.endpoints = NULL;
		mc.nr_endpoints = 0;
		if (translate_endpoints(&t, (void *)now->msg, &mc, &weighted) ||
		    translate_lb(&t, c, &mc, weighted)) {
			free(mc.endpoints);
			xds_eds_revert(cfg, swap);
			return XDS_T_ERROR;
		}
		v = realloc(swap->old, (swap->n + 1) * sizeof(*swap->old));
		if (v)
			swap->old = v;
		v = v ? realloc(swap->idx, (swap->n + 1) * sizeof(*swap->idx)) : NULL;
		if (v)
			swap->idx = v;
		if (!v) {
			free(mc.endpoints);
			xds_eds_revert(cfg, swap);
			snprintf(err, err_size, "out of memory");
			return XDS_T_ERROR;
		}
		swap->old[swap->n] = cfg->clusters[mi];
		swap->idx[swap->n++] = mi;
		cfg->clusters[mi] = mc;
	}
	return XDS_T_OK;
whole:
	xds_eds_revert(cfg, swap);
	return XDS_EDS_WHOLE;
}

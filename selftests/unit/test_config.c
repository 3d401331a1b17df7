// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the mesh config compiler: YAML -> model (mesh_config.c),
 * model -> generation map contents (l4_build.c), Maglev tables.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/route.h"
#include "l4_build.h"
#include "l7_build.h"
#include "mesh_config.h"
#include "tap.h"

static const char good[] =
	"# a comment\n"
	"services:\n"
	"  - name: web\n"
	"    addresses: [10.96.0.10, \"fd00::10\"]\n"
	"    ports:\n"
	"      - port: 80\n"
	"      - {port: 8080, protocol: http, cluster: canary}\n"
	"    cluster: web-v1\n"
	"clusters:\n"
	"  - name: web-v1\n"
	"    lb: weighted\n"
	"    max_connections: 100\n"
	"    connect_timeout_ms: 250\n"
	"    endpoints:\n"
	"      - {address: 10.0.0.1, port: 8080, weight: 3}\n"
	"      - {address: 10.0.0.2, port: 8080, state: draining}\n"
	"      - {address: 10.0.0.3}\n"
	"  - name: canary\n"
	"    lb: maglev\n"
	"    hash_key: source_ip_port\n"
	"    outlier_detection: {consecutive_connect_failures: 3, base_ejection_ms: 2000, max_ejection_percent: 50,\n"
	"                        split_external_local_origin_errors: true}\n"
	"    endpoints:\n"
	"      - {address: 10.0.1.1, port: 9090}\n";

static int parse(const char *text, struct mesh_config *cfg, char *err,
		 size_t size)
{
	return mesh_config_parse("t.yaml", text, strlen(text), cfg, err, size);
}

static void test_parse_good(void)
{
	struct mesh_config cfg;
	char err[256] = "", a[64];

	tap_begin("config: a full file parses with every field and default");
	if (!EXPECT_EQ(parse(good, &cfg, err, sizeof(err)), 0)) {
		tap_diag("%s", err);
		tap_end();
		return;
	}
	EXPECT_EQ(cfg.nr_services, 1);
	EXPECT_EQ(cfg.nr_clusters, 2);
	EXPECT_STR_EQ(cfg.services[0].name, "web");
	EXPECT_EQ(cfg.services[0].nr_addrs, 2);
	mesh_addr_format(cfg.services[0].addrs[0], 80, true, a, sizeof(a));
	EXPECT_STR_EQ(a, "10.96.0.10:80");
	mesh_addr_format(cfg.services[0].addrs[1], 80, true, a, sizeof(a));
	EXPECT_STR_EQ(a, "[fd00::10]:80");
	EXPECT_EQ(cfg.services[0].nr_ports, 2);
	EXPECT_EQ(cfg.services[0].ports[0].cluster, 0);
	EXPECT_EQ(cfg.services[0].ports[0].http, 0);
	EXPECT_EQ(cfg.services[0].ports[1].cluster, 1);
	EXPECT_EQ(cfg.services[0].ports[1].http, 1);
	EXPECT_EQ(cfg.clusters[0].lb, KMESH_LB_WEIGHTED);
	EXPECT_EQ(cfg.clusters[0].max_connections, 100);
	EXPECT_EQ(cfg.clusters[0].connect_timeout_ms, 250);
	EXPECT_EQ(cfg.clusters[0].nr_endpoints, 3);
	EXPECT_EQ(cfg.clusters[0].endpoints[0].weight, 3);
	EXPECT_EQ(cfg.clusters[0].endpoints[1].state, KMESH_EP_DRAINING);
	EXPECT_EQ(cfg.clusters[0].endpoints[2].port, 0);	/* as dialed */
	EXPECT_EQ(cfg.clusters[0].endpoints[2].weight, 1);
	EXPECT_EQ(cfg.clusters[0].endpoints[2].line, 17);
	EXPECT_EQ(cfg.clusters[0].flags & KMESH_CLUSTER_F_OUTLIER, 0);
	EXPECT_EQ(cfg.clusters[1].lb, KMESH_LB_MAGLEV);
	EXPECT_EQ(cfg.clusters[1].flags,
		  KMESH_CLUSTER_F_HASH_SRC_PORT | KMESH_CLUSTER_F_OUTLIER);
	/* what was given, and Envoy's defaults for the rest */
	EXPECT_EQ(cfg.clusters[1].outlier.connect_failures, 3);
	EXPECT_EQ(cfg.clusters[1].outlier.consecutive_5xx, 5);
	EXPECT_EQ(cfg.clusters[1].outlier.gateway_errors, 0);
	EXPECT_EQ(cfg.clusters[1].outlier.flags, KMESH_OUTLIER_F_SPLIT);
	EXPECT_EQ(cfg.clusters[1].outlier.base_ejection_ms, 2000);
	EXPECT_EQ(cfg.clusters[1].outlier.max_ejection_ms, 300000);
	EXPECT_EQ(cfg.clusters[1].outlier.interval_ms, 10000);
	EXPECT_EQ(cfg.clusters[1].outlier.max_ejection_percent, 50);
	EXPECT_EQ(cfg.clusters[1].outlier.min_health_percent, 0);
	mesh_config_free(&cfg);

	EXPECT_EQ(parse("services: []\nclusters: []\n", &cfg, err, sizeof(err)), 0);
	EXPECT_EQ(cfg.nr_services + cfg.nr_clusters, 0);
	mesh_config_free(&cfg);
	tap_end();
}

/* Each bad file and the exact message (file:line: path: what). */
static const struct {
	const char *yaml;
	const char *error;
} bad[] = {
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1}\n"
	  "      - address: 10.0.0.2\n        weight: 0\n",
	  "t.yaml:6: clusters[0].endpoints[1].weight: expected an integer 1..65535" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, weight: heavy}\n",
	  "t.yaml:4: clusters[0].endpoints[0].weight: expected an integer 1..65535" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, weight: \"3\"}\n",
	  "t.yaml:4: clusters[0].endpoints[0].weight: expected an integer 1..65535" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, port: 65536}\n",
	  "t.yaml:4: clusters[0].endpoints[0].port: expected an integer 0..65535" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.300}\n",
	  "t.yaml:4: clusters[0].endpoints[0].address: expected an IPv4 or IPv6 address" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {port: 80}\n",
	  "t.yaml:4: clusters[0].endpoints[0]: missing required field 'address'" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, state: sick}\n",
	  "t.yaml:4: clusters[0].endpoints[0].state: expected one of: healthy, draining" },
	{ "services:\n  - name: s\n    path_normalization: decode\n",
	  "t.yaml:3: services[0].path_normalization: expected one of: refuse, escaped_slashes_literal" },
	{ "services:\n  - name: s\n    path_normalization: MERGE_SLASHES\n",
	  "t.yaml:3: services[0].path_normalization: Istio's MERGE_SLASHES rewrites the path, which kmesh does not do; use refuse or escaped_slashes_literal" },
	{ "services:\n  - name: s\n    path_normalization: BASE\n",
	  "t.yaml:3: services[0].path_normalization: Istio's BASE is escaped_slashes_literal here (%2F kept as sent; dot segments and // are refused, not resolved)" },
	{ "clusters:\n  - name: c\n    lb: least_request\n",
	  "t.yaml:3: clusters[0].lb: expected one of: random, weighted, round_robin, maglev" },
	{ "clusters:\n  - name: c\n    hash_key: source_ip\n",
	  "t.yaml:3: clusters[0].hash_key: only meaningful with lb: maglev" },
	{ "clusters:\n  - name: c\n    lbb: random\n",
	  "t.yaml:3: clusters[0].lbb: unknown field (expected one of: name, lb, max_connections, connect_timeout_ms, outlier_detection, hash_key, locality_lb, endpoints)" },
	{ "node: {locality: \"r1/z1/s1/x\"}\n",
	  "t.yaml:1: node.locality: 'r1/z1/s1/x': more than three parts (region/zone/subzone)" },
	{ "node: {zone: z1}\n",
	  "t.yaml:1: node.zone: unknown field (expected one of: locality)" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, locality: \"r1/z 1\"}\n",
	  "t.yaml:4: clusters[0].endpoints[0].locality: 'r1/z 1': a part may hold only A-Z a-z 0-9 - _ ." },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, priority: 129}\n",
	  "t.yaml:4: clusters[0].endpoints[0].priority: expected an integer 0..128" },
	{ "clusters:\n  - name: c\n    locality_lb: {failover: [{from: r1/z1, to: r2}]}\n",
	  "t.yaml:3: clusters[0].locality_lb.failover[0].from: 'r1/z1': a region, without zone" },
	{ "clusters:\n  - name: c\n    locality_lb: {failover: [{from: r1}]}\n",
	  "t.yaml:3: clusters[0].locality_lb.failover[0]: missing required field 'to'" },
	{ "clusters:\n  - name: c\n    locality_lb: {failover: [{from: r1, to: r2}, {from: r1, to: r3}]}\n",
	  "t.yaml:3: clusters[0].locality_lb.failover[1]: region 'r1' already has a failover" },
	{ "clusters:\n  - name: c\n    locality_lb: {distribute: []}\n",
	  "t.yaml:3: clusters[0].locality_lb.distribute: unknown field (expected one of: failover)" },
	{ "clusters:\n  - name: c\n    outlier_detection: {max_ejection_percent: 101}\n",
	  "t.yaml:3: clusters[0].outlier_detection.max_ejection_percent: expected an integer 0..100" },
	{ "clusters:\n  - name: c\n    outlier_detection:\n      base_ejection_ms: 3600001\n",
	  "t.yaml:4: clusters[0].outlier_detection.base_ejection_ms: expected an integer 1..3600000" },
	{ "clusters:\n  - name: c\n    outlier_detection: {consecutive_5xx: 65536}\n",
	  "t.yaml:3: clusters[0].outlier_detection.consecutive_5xx: expected an integer 0..65535" },
	{ "clusters:\n  - name: c\n    outlier_detection: {consecutive_errors: 5}\n",
	  "t.yaml:3: clusters[0].outlier_detection.consecutive_errors: unknown field (expected one of: consecutive_5xx, consecutive_gateway_errors, consecutive_connect_failures, split_external_local_origin_errors, interval_ms, base_ejection_ms, max_ejection_ms, max_ejection_percent, min_health_percent)" },
	{ "clusters:\n  - name: c\n    outlier_detection: 5\n",
	  "t.yaml:3: clusters[0].outlier_detection: expected a mapping" },
	{ "clusters:\n  - name: c\n    lb: random\n    lb: maglev\n",
	  "t.yaml:4: clusters[0].lb: given twice" },
	{ "clusters:\n  - name: c\n  - name: c\n",
	  "t.yaml:3: clusters[1].name: 'c' is also clusters[0]" },
	{ "clusters:\n  - name: \"a b\"\n",
	  "t.yaml:2: clusters[0].name: expected a name of 1..63 letters, digits, '-', '_' or '.'" },
	{ "clusters:\n  - name: c\n    max_connections: -1\n",
	  "t.yaml:3: clusters[0].max_connections: expected an integer 0..4294967295" },
	{ "clusters:\n  - name: c\n    connect_timeout_ms: 60001\n",
	  "t.yaml:3: clusters[0].connect_timeout_ms: expected an integer 1..60000" },
	{ "clusters:\n  - name: c\n    connect_timeout_ms: 0\n",
	  "t.yaml:3: clusters[0].connect_timeout_ms: expected an integer 1..60000" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, port: 80}\n"
	  "      - {address: 10.0.0.1, port: 80}\n",
	  "t.yaml:5: clusters[0].endpoints[1]: same address and port as clusters[0].endpoints[0]" },
	/* a route's rate_limit */
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit: {burst: 5}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit: expected requests_per_second (or service_limit: skip alone, to exempt the route from the service's limit)" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit: {requests_per_second: 1000001}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit.requests_per_second: expected an integer 1..1000000" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit:\n          requests_per_second: 5\n          burst: 0\n",
	  "t.yaml:10: routes[0].http[0].rate_limit.burst: expected an integer 1..65535" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit: {requests_per_second: 5, service_limit: ignore}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit.service_limit: expected one of: apply, skip" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit: {connections_per_second: 5}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit.connections_per_second: a route limits requests only; connections_per_second is the service's (services[].rate_limit)" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit: {service_limit: skip, burst: 3}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit: burst and per_source need requests_per_second" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        route: [{cluster: c}]\n        rate_limit: {requests_per_second: 5, per_request: true}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit.per_request: unknown field (expected one of: requests_per_second, burst, per_source, service_limit, connections_per_second)" },
	{ "services: [{name: w, addresses: [10.96.0.1], ports: [{port: 80, protocol: http}], cluster: c}]\n"
	  "clusters: [{name: c}]\n"
	  "routes:\n  - service: w\n    http:\n"
	  "      - name: a\n        match: [{uri: {prefix: /x}}]\n        rate_limit: {requests_per_second: 5}\n        deny: {status: 403}\n",
	  "t.yaml:8: routes[0].http[0].rate_limit: only a route that forwards (route:) takes a rate limit; kmesh answers a deny or direct_response route itself" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n    ports: [{port: 80}]\n"
	  "    cluster: nope\n",
	  "t.yaml:5: services[0].cluster: unknown cluster 'nope'" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n    ports: [{port: 80}]\n",
	  "t.yaml:4: services[0].ports[0]: no cluster: set services[0].cluster or this port's cluster" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n    ports: [{port: 0}]\n",
	  "t.yaml:4: services[0].ports[0].port: expected an integer 1..65535" },
	{ "services:\n  - name: s\n    addresses: []\n",
	  "t.yaml:3: services[0].addresses: expected at least one address" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n",
	  "t.yaml:2: services[0]: missing required field 'ports'" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n    ports: [{port: 80, protocol: udp}]\n",
	  "t.yaml:4: services[0].ports[0].protocol: expected one of: tcp, http, http2, grpc" },
	{ "services:\n  - {name: a, addresses: [10.96.0.1], ports: [{port: 80}], cluster: c}\n"
	  "  - {name: b, addresses: [10.96.0.1], ports: [{port: 80}], cluster: c}\n"
	  "clusters: [{name: c}]\n",
	  "t.yaml:3: services[1].addresses[0]: 10.96.0.1:80 is also served by services[0] (a)" },
	{ "services:\n  - {name: a, addresses: [10.96.0.1], ports: [{port: 80}], cluster: c}\n"
	  "clusters:\n  - name: c\n    endpoints: [{address: \"fd00::1\"}]\n",
	  "t.yaml:2: services[0].addresses[0]: IPv4 address, but cluster 'c' has an IPv6 endpoint (line 5)" },
	{ "services:\n  - name: s\n    rate_limit: {burst: 5}\n",
	  "t.yaml:3: services[0].rate_limit: expected requests_per_second (http ports) or connections_per_second (tcp ports)" },
	{ "services:\n  - name: s\n    rate_limit: {requests_per_second: 0}\n",
	  "t.yaml:3: services[0].rate_limit.requests_per_second: expected an integer 1..1000000" },
	{ "services:\n  - name: s\n    rate_limit: {connections_per_second: 1000001}\n",
	  "t.yaml:3: services[0].rate_limit.connections_per_second: expected an integer 1..1000000" },
	{ "services:\n  - name: s\n    rate_limit: {requests_per_second: 5, burst: 65536}\n",
	  "t.yaml:3: services[0].rate_limit.burst: expected an integer 1..65535" },
	{ "services:\n  - name: s\n    rate_limit: {requests_per_second: 5, per_client: true}\n",
	  "t.yaml:3: services[0].rate_limit.per_client: unknown field (expected one of: requests_per_second, connections_per_second, burst, per_source)" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n    ports: [{port: 80}]\n"
	  "    cluster: c\n    rate_limit: {requests_per_second: 5}\nclusters: [{name: c}]\n",
	  "t.yaml:6: services[0].rate_limit.requests_per_second: the service has no http port: requests are counted on http ports only" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1]\n    ports: [{port: 80, protocol: http}]\n"
	  "    cluster: c\n    rate_limit:\n      connections_per_second: 5\nclusters: [{name: c}]\n",
	  "t.yaml:7: services[0].rate_limit.connections_per_second: the service has no tcp port: connections are counted on tcp ports only" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1\n",
	  "t.yaml:4: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "", "t.yaml:1: empty file: expected a mapping with services: and clusters:" },
	{ "- a\n- b\n", "t.yaml:1: expected a mapping" },
	{ "routes: {}\n", "t.yaml:1: routes: expected a list" },
	{ "services: {name: x}\n", "t.yaml:1: services: expected a list" },
};

static void test_parse_bad(void)
{
	struct mesh_config cfg;
	char err[512];
	size_t i;

	tap_begin("config: every bad file is refused with file, line, field and what was expected");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (!EXPECT(parse(bad[i].yaml, &cfg, err, sizeof(err)) != 0)) {
			tap_diag("case %zu was accepted", i);
			mesh_config_free(&cfg);
			continue;
		}
		if (!EXPECT_STR_EQ(err, bad[i].error))
			tap_diag("case %zu", i);
	}
	tap_end();
}

static void test_too_many_endpoints(void)
{
	size_t size = 64 * 1024, len, i;
	struct mesh_config cfg;
	char *text = malloc(size), err[256];

	tap_begin("config: a cluster over %d endpoints is refused", KMESH_L4_MAX_CLUSTER_ENDPOINTS);
	len = (size_t)snprintf(text, size, "clusters:\n  - name: c\n    endpoints:\n");
	for (i = 0; i <= KMESH_L4_MAX_CLUSTER_ENDPOINTS; i++)
		len += (size_t)snprintf(text + len, size - len,
					"      - {address: 10.0.%zu.%zu}\n", i / 200, i % 200 + 1);
	EXPECT(parse(text, &cfg, err, sizeof(err)) != 0);
	EXPECT_STR_EQ(err, "t.yaml:4: clusters[0].endpoints: at most 256 entries");
	free(text);
	tap_end();
}

static const struct l4_ep *ep_of(const struct l4_gen *g, __u32 cluster, __u32 idx)
{
	size_t i;

	for (i = 0; i < g->nr_eps; i++)
		if (g->eps[i].key.cluster_id == cluster && g->eps[i].key.index == idx)
			return &g->eps[i];
	return NULL;
}

static void test_build(void)
{
	struct mesh_config cfg;
	struct l4_gen g;
	char err[256];
	const struct l4_ep *e;

	tap_begin("build: ids, healthy-first order, cumulative weights, VIP entries");
	EXPECT_EQ(parse(good, &cfg, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&cfg, NULL, 0, 1, &g, err, sizeof(err)), 0);
	EXPECT_EQ(g.nr_clusters, 2);
	EXPECT_EQ(g.nr_vips, 4);	/* 2 addresses x 2 ports */
	EXPECT_EQ(g.nr_eps, 4);
	EXPECT_EQ(g.nr_maglev, 1);
	EXPECT_EQ(g.nr_ids, 1 + 2 + 4);
	EXPECT_EQ(g.nr_fresh, 7);
	EXPECT_EQ(g.clusters[0].cluster_id, 1);
	EXPECT_EQ(g.clusters[0].nr_endpoints, 3);
	EXPECT_EQ(g.clusters[0].nr_healthy, 2);
	EXPECT_EQ(g.clusters[0].total_weight, 4);
	EXPECT_EQ(g.clusters[0].cum_weight[0], 3);
	EXPECT_EQ(g.clusters[0].cum_weight[1], 4);
	EXPECT_EQ(g.clusters[0].max_connections, 100);
	/* The draining endpoint is last. */
	e = ep_of(&g, 1, 2);
	if (EXPECT(e)) {
		EXPECT_EQ(e->val.state, KMESH_EP_DRAINING);
		EXPECT_EQ(e->val.addr[3], inet_addr("10.0.0.2"));
	}
	EXPECT_EQ(g.vips[0].val.service_id, 1);
	EXPECT_EQ(g.vips[0].key.protocol, KMESH_PROTO_TCP);
	EXPECT_EQ(g.vips[1].val.cluster_id, 2);
	EXPECT_EQ(g.vips[1].val.flags, KMESH_SVC_F_HTTP);
	l4_gen_free(&g);
	mesh_config_free(&cfg);
	tap_end();
}

/* Endpoint @idx of cluster 1 listens on @port. */
static bool ep_port_is(const struct l4_gen *g, __u32 idx, __u16 port)
{
	const struct l4_ep *e = ep_of(g, 1, idx);

	return e && e->val.port == port;
}

static void test_build_locality(void)
{
	static const char *const file =
		"node: {locality: r1/za/s1}\n"
		"clusters:\n"
		"  - name: c\n"
		"    lb: weighted\n"
		"    locality_lb: {failover: [{from: r1, to: r3}]}\n"
		"    endpoints:\n"
		"      - {address: 10.0.0.1, port: 1, locality: r2/zc}\n"
		"      - {address: 10.0.0.1, port: 2, locality: r3/zd}\n"
		"      - {address: 10.0.0.1, port: 3, locality: r1/zb, weight: 5}\n"
		"      - {address: 10.0.0.1, port: 4, locality: r1/za}\n"
		"      - {address: 10.0.0.1, port: 5, locality: r1/za/s1, state: %s}\n"
		"      - {address: 10.0.0.1, port: 6, locality: r1/za/s2}\n"
		"      - {address: 10.0.0.1, port: 7, priority: 1, locality: r1/za/s1}\n";
	static const struct {
		const char *desc, *five, *drop;
		__u16 first[3];		/* the ports of [0, nr_healthy) */
	} steps[] = {
		{ "the same subzone only", "healthy", NULL, { 5 } },
		{ "subzone gone: the rest of the zone", "draining", NULL, { 4, 6 } },
		{ "zone gone: the region", "draining", "r1/za", { 3 } },
		{ "region gone: the failover region, not the other", "draining", "r1/", { 2 } },
	};
	struct mesh_config cfg;
	struct l4_gen g;
	char text[2048], err[256];
	size_t i, k;

	tap_begin("build: locality_lb keeps new connections in the nearest tier with a healthy endpoint");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *line;

		snprintf(text, sizeof(text), file, steps[i].five);
		/* drop the endpoints of a locality: comment their lines out */
		for (line = text; steps[i].drop && (line = strstr(line, "      - {")); line++) {
			char *eol = strchr(line, '\n'), *loc;
			bool drop;

			*eol = 0;
			loc = strstr(line, "locality: ");
			drop = loc && !strncmp(loc + 10, steps[i].drop, strlen(steps[i].drop)) &&
			       !strstr(line, "port: 5,") && !strstr(line, "priority: 1");
			*eol = '\n';
			if (drop)
				line[4] = '#';
		}
		if (!EXPECT_EQ(parse(text, &cfg, err, sizeof(err)), 0)) {
			tap_diag("%s: %s", steps[i].desc, err);
			continue;
		}
		EXPECT_EQ(l4_build(&cfg, NULL, 0, 1, &g, err, sizeof(err)), 0);
		for (k = 0; k < 3 && steps[i].first[k]; k++)
			if (!EXPECT(ep_port_is(&g, (__u32)k, steps[i].first[k])))
				tap_diag("%s: endpoint %zu is not port %u", steps[i].desc, k,
					 steps[i].first[k]);
		if (!EXPECT_EQ(g.clusters[0].nr_healthy, k))
			tap_diag("%s: nr_healthy %u", steps[i].desc, g.clusters[0].nr_healthy);
		/* every endpoint is still there: farther ones stand by */
		EXPECT_EQ(g.clusters[0].nr_endpoints, cfg.clusters[0].nr_endpoints);
		/* the nearest of them first: in the first step the zone's */
		if (i == 0)
			EXPECT(ep_port_is(&g, 1, 4) && ep_port_is(&g, 2, 6) &&
			       ep_port_is(&g, 3, 3) && ep_port_is(&g, 4, 2) &&
			       ep_port_is(&g, 5, 1) && ep_port_is(&g, 6, 7));
		l4_gen_free(&g);
		mesh_config_free(&cfg);
	}
	/* the weights are the tier's: zone r1/zb alone (weight 5) */
	snprintf(text, sizeof(text), file, "draining");
	text[0] = '#';	/* no node locality: every endpoint one tier... */
	EXPECT_EQ(parse(text, &cfg, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&cfg, NULL, 0, 1, &g, err, sizeof(err)), 0);
	/* ...but priority 1 still waits: 5 healthy priority-0 endpoints */
	EXPECT_EQ(g.clusters[0].nr_healthy, 5);
	EXPECT_EQ(g.clusters[0].total_weight, 1 + 1 + 5 + 1 + 1);
	l4_gen_free(&g);
	mesh_config_free(&cfg);
	tap_end();
}

static void test_rate_limit(void)
{
	static const char text[] =
		"services:\n"
		"  - name: web\n"
		"    addresses: [10.96.0.10]\n"
		"    ports: [{port: 80, protocol: http}, {port: 81}]\n"
		"    cluster: c\n"
		"    rate_limit: {requests_per_second: 3, connections_per_second: 200000, per_source: true}\n"
		"  - name: db\n"
		"    addresses: [10.96.0.11]\n"
		"    ports: [{port: 5432}]\n"
		"    cluster: c\n"
		"    rate_limit: {connections_per_second: 10, burst: 2}\n"
		"  - name: free\n"
		"    addresses: [10.96.0.12]\n"
		"    ports: [{port: 80, protocol: http}]\n"
		"    cluster: c\n"
		"clusters: [{name: c, endpoints: [{address: 10.0.0.1}]}]\n";
	struct mesh_config cfg;
	struct l4_gen g;
	char err[256];
	size_t i;

	tap_begin("config: rate_limit: the bucket per port kind, burst defaults to a second's worth");
	if (!EXPECT_EQ(parse(text, &cfg, err, sizeof(err)), 0)) {
		tap_diag("%s", err);
		tap_end();
		return;
	}
	EXPECT_EQ(cfg.services[0].request_limit.interval_ns, 333333333);
	EXPECT_EQ(cfg.services[0].request_limit.burst, 3);
	EXPECT(cfg.services[0].request_limit.per_source);
	EXPECT_EQ(cfg.services[0].connect_limit.interval_ns, 5000);
	EXPECT_EQ(cfg.services[0].connect_limit.burst, 65535);	/* capped */
	EXPECT_EQ(cfg.services[1].connect_limit.interval_ns, 100000000);
	EXPECT_EQ(cfg.services[1].connect_limit.burst, 2);
	EXPECT(!cfg.services[1].connect_limit.per_source);
	EXPECT_EQ(cfg.services[1].request_limit.interval_ns, 0);
	EXPECT_EQ(l4_build(&cfg, NULL, 0, 1, &g, err, sizeof(err)), 0);
	EXPECT_EQ(g.nr_vips, 4);
	for (i = 0; i < g.nr_vips; i++) {
		const struct kmesh_service *v = &g.vips[i].val;
		__u16 port = g.vips[i].key.port;

		if (port == 80 && v->service_id == g.service_ids[0]) {
			EXPECT_EQ(v->rate_limit.interval_ns, 333333333);
			EXPECT_EQ(v->rate_limit.burst, 3);
			EXPECT_EQ(v->rate_limit.flags, KMESH_RL_F_PER_SOURCE);
		} else if (port == 81) {
			EXPECT_EQ(v->rate_limit.interval_ns, 5000);
			EXPECT_EQ(v->rate_limit.burst, 65535);
		} else if (port == 5432) {
			EXPECT_EQ(v->rate_limit.interval_ns, 100000000);
			EXPECT_EQ(v->rate_limit.burst, 2);
			EXPECT_EQ(v->rate_limit.flags, 0);
		} else {
			EXPECT_EQ(v->rate_limit.interval_ns, 0);	/* free */
			EXPECT_EQ(v->rate_limit.burst, 0);
		}
	}
	l4_gen_free(&g);
	mesh_config_free(&cfg);
	tap_end();
}

/* routes[].http[].rate_limit: into the policy both modes read, by route id */
static void test_route_rate_limit(void)
{
	static const char text[] =
		"services:\n"
		"  - name: web\n"
		"    addresses: [10.96.0.10]\n"
		"    ports: [{port: 80, protocol: http}]\n"
		"    cluster: c\n"
		"    rate_limit: {requests_per_second: 100}\n"
		"clusters: [{name: c, endpoints: [{address: 10.0.0.1}]}]\n"
		"routes:\n"
		"  - service: web\n"
		"    http:\n"
		"      - name: slow\n"
		"        match: [{uri: {prefix: /slow}}]\n"
		"        route: [{cluster: c}]\n"
		"        rate_limit: {requests_per_second: 2, burst: 4, per_source: true}\n"
		"      - name: health\n"
		"        match: [{uri: {exact: /healthz}}]\n"
		"        route: [{cluster: c}]\n"
		"        rate_limit: {service_limit: skip}\n"
		"      - name: own\n"
		"        match: [{uri: {prefix: /own}}]\n"
		"        route: [{cluster: c}]\n"
		"        rate_limit: {requests_per_second: 1000000, service_limit: skip}\n"
		"      - name: free\n"
		"        match: [{uri: {prefix: /free}}]\n"
		"        route: [{cluster: c}]\n"
		"      - name: default\n"
		"        route: [{cluster: c}]\n"
		"        rate_limit: {requests_per_second: 7}\n";
	struct kmesh_l7_policy *p = calloc(1, sizeof(*p));
	struct l7_cidrs cidrs = {};
	struct l7_check_err ce;
	struct mesh_config cfg;
	char err[512];
	const struct kmesh_l7_route_limit *rl;

	tap_begin("config: a route's rate_limit: its bucket in the policy, by route id; service_limit: skip");
	if (!p || !EXPECT_EQ(parse(text, &cfg, err, sizeof(err)), 0)) {
		tap_diag("%s", err);
		free(p);
		tap_end();
		return;
	}
	EXPECT_EQ(cfg.routes[0].http[0].rate_limit.interval_ns, 500000000);
	EXPECT_EQ(cfg.routes[0].http[0].rate_limit.burst, 4);
	EXPECT(cfg.routes[0].http[0].rate_limit.per_source);
	EXPECT(!cfg.routes[0].http[0].rate_limit.replaces_service);
	EXPECT_EQ(cfg.routes[0].http[3].rate_limit.interval_ns, 0);
	EXPECT_EQ(cfg.routes[0].http[4].rate_limit.burst, 7);	/* a second's worth */
	if (EXPECT_EQ(l7_build_policy(&cfg, 0, 9, p, &cidrs, &ce), 0)) {
		/* slow, health, own, then the default route: free has none */
		EXPECT_EQ(p->nr_route_limits, 4);
		rl = &p->route_limits[0];
		EXPECT_EQ(rl->route_id, mesh_l7_id("web", "slow"));
		EXPECT_EQ(rl->limit.interval_ns, 500000000);
		EXPECT_EQ(rl->limit.burst, 4);
		EXPECT_EQ(rl->limit.flags, KMESH_RL_F_PER_SOURCE);
		rl = &p->route_limits[1];
		EXPECT_EQ(rl->route_id, mesh_l7_id("web", "health"));
		EXPECT_EQ(rl->limit.interval_ns, 0);	/* exempt */
		EXPECT_EQ(rl->limit.flags, KMESH_RL_F_REPLACES_SERVICE);
		rl = &p->route_limits[2];
		EXPECT_EQ(rl->route_id, mesh_l7_id("web", "own"));
		EXPECT_EQ(rl->limit.interval_ns, 1000);
		EXPECT_EQ(rl->limit.burst, 65535);
		EXPECT_EQ(rl->limit.flags, KMESH_RL_F_REPLACES_SERVICE);
		rl = &p->route_limits[3];
		EXPECT_EQ(rl->route_id, mesh_l7_id("web", "default"));
		EXPECT_EQ(rl->limit.burst, 7);
	} else {
		tap_diag("%s", ce.msg);
	}
	l7_cidrs_free(&cidrs);
	free(p);
	mesh_config_free(&cfg);
	tap_end();
}

static void test_ids_stable(void)
{
	const char *next =
		"services:\n"
		"  - {name: api, addresses: [10.96.0.11], ports: [{port: 80}], cluster: canary}\n"
		"  - {name: web, addresses: [10.96.0.10], ports: [{port: 80}], cluster: canary}\n"
		"clusters:\n"
		"  - name: canary\n"
		"    endpoints:\n"
		"      - {address: 10.0.1.2, port: 9090}\n"
		"      - {address: 10.0.1.1, port: 9090}\n";
	struct mesh_config a, b;
	struct l4_gen g1, g2;
	char err[256];

	tap_begin("build: ids stay with their objects across generations; new ones are fresh");
	EXPECT_EQ(parse(good, &a, err, sizeof(err)), 0);
	EXPECT_EQ(parse(next, &b, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&a, NULL, 0, 1, &g1, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&b, g1.ids, g1.nr_ids, 2, &g2, err, sizeof(err)), 0);
	/* canary was cluster 2, 10.0.1.1:9090 endpoint id 4, web service 1. */
	EXPECT_EQ(g2.clusters[0].cluster_id, 2);
	EXPECT_EQ(ep_of(&g2, 2, 1)->val.endpoint_id, 4);
	EXPECT_EQ(ep_of(&g2, 2, 0)->val.endpoint_id, 5);	/* new */
	EXPECT_EQ(g2.vips[0].val.service_id, 2);		/* api: new */
	EXPECT_EQ(g2.vips[1].val.service_id, 1);		/* web: kept */
	EXPECT_EQ(g2.nr_fresh, 2);
	EXPECT_EQ(g2.nr_ids, g1.nr_ids + 2);			/* old ones remembered */
	l4_gen_free(&g1);
	l4_gen_free(&g2);
	mesh_config_free(&a);
	mesh_config_free(&b);
	tap_end();
}

static bool same_l4_gen(const struct l4_gen *x, const struct l4_gen *y)
{
	size_t i;

	if (x->nr_clusters != y->nr_clusters || x->nr_eps != y->nr_eps ||
	    x->nr_vips != y->nr_vips || x->nr_maglev != y->nr_maglev ||
	    x->nr_ids != y->nr_ids || x->nr_fresh != y->nr_fresh ||
	    x->nr_evicted != y->nr_evicted)
		return false;
	for (i = 0; i < x->nr_maglev; i++)
		if (x->maglev[i].cluster_id != y->maglev[i].cluster_id ||
		    memcmp(x->maglev[i].table, y->maglev[i].table, sizeof(*x->maglev[i].table)))
			return false;
	return !memcmp(x->clusters, y->clusters, x->nr_clusters * sizeof(*x->clusters)) &&
	       !memcmp(x->eps, y->eps, x->nr_eps * sizeof(*x->eps)) &&
	       !memcmp(x->vips, y->vips, x->nr_vips * sizeof(*x->vips)) &&
	       !memcmp(x->ids, y->ids, x->nr_ids * sizeof(*x->ids)) &&
	       !memcmp(x->fresh, y->fresh, x->nr_fresh * sizeof(*x->fresh)) &&
	       !memcmp(x->cluster_ids, y->cluster_ids, x->nr_clusters * sizeof(__u32));
}

/*
 * l4_build_reusing(), which kmesh-agent runs for updates of endpoints
 * alone, gives what a whole build gives: the changed cluster (an endpoint
 * moved, one added: new ids) built, the others (a maglev one among them)
 * taken from the last build.
 */
static void test_build_reusing(void)
{
	const char *before =
		"services:\n"
		"  - {name: web, addresses: [10.96.0.10], ports: [{port: 80}, {port: 81, cluster: b}, {port: 82, cluster: c}], cluster: a}\n"
		"clusters:\n"
		"  - {name: a, endpoints: [{address: 10.0.0.1}, {address: 10.0.0.2}]}\n"
		"  - {name: b, endpoints: [{address: 10.0.1.1}, {address: 10.0.1.2, state: draining}]}\n"
		"  - {name: c, lb: maglev, endpoints: [{address: 10.0.2.1}, {address: 10.0.2.2}]}\n";
	const char *after =
		"services:\n"
		"  - {name: web, addresses: [10.96.0.10], ports: [{port: 80}, {port: 81, cluster: b}, {port: 82, cluster: c}], cluster: a}\n"
		"clusters:\n"
		"  - {name: a, endpoints: [{address: 10.0.0.1}, {address: 10.0.0.2}]}\n"
		"  - {name: b, endpoints: [{address: 10.0.1.3}, {address: 10.0.1.2}, {address: 10.0.1.4}]}\n"
		"  - {name: c, lb: maglev, endpoints: [{address: 10.0.2.1}, {address: 10.0.2.2}]}\n";
	const bool changed[] = { false, true, false };
	struct mesh_config a, b;
	struct l4_gen g1, whole, reused, stale;
	char err[256];

	tap_begin("build: reusing the last build's unchanged clusters gives the whole build");
	EXPECT_EQ(parse(before, &a, err, sizeof(err)), 0);
	EXPECT_EQ(parse(after, &b, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&a, NULL, 0, 1, &g1, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&b, g1.ids, g1.nr_ids, 2, &whole, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build_reusing(&b, g1.ids, g1.nr_ids, 2, &g1, changed, &reused,
				   err, sizeof(err)), 0);
	EXPECT_EQ(whole.nr_fresh, 2);	/* 10.0.1.3, 10.0.1.4 */
	EXPECT_EQ(whole.nr_maglev, 1);
	EXPECT(same_l4_gen(&whole, &reused));
	/* the comparison sees a cluster taken when it should be built */
	EXPECT_EQ(l4_build_reusing(&b, g1.ids, g1.nr_ids, 2, &g1, (const bool[]){ 0, 0, 0 },
				   &stale, err, sizeof(err)), 0);
	EXPECT(!same_l4_gen(&whole, &stale));
	l4_gen_free(&g1);
	l4_gen_free(&whole);
	l4_gen_free(&reused);
	l4_gen_free(&stale);
	mesh_config_free(&a);
	mesh_config_free(&b);
	tap_end();
}

/*
 * Every service id held: new services take the lowest ids whose services
 * are gone, their registry entries are evicted, and ids in use stay.
 */
static void test_ids_evicted(void)
{
	const char *cfg_text =
		"services:\n"
		"  - {name: new-a, addresses: [10.96.0.10], ports: [{port: 80}], cluster: c}\n"
		"  - {name: old-7, addresses: [10.96.0.11], ports: [{port: 80}], cluster: c}\n"
		"  - {name: new-b, addresses: [10.96.0.12], ports: [{port: 80}], cluster: c}\n"
		"clusters:\n"
		"  - {name: c, endpoints: [{address: 10.0.0.1, port: 80}]}\n";
	size_t nr = KMESH_L4_MAX_SERVICES - 1, i;
	struct l4_id_entry *reg = calloc(nr, sizeof(*reg));
	struct mesh_config cfg;
	struct l4_gen g;
	char err[256];

	tap_begin("build: when ids run out, gone services' ids are reused, lowest first");
	if (!EXPECT(reg))
		return;
	for (i = 0; i < nr; i++) {
		reg[i].key.kind = KMESH_L4_KIND_SERVICE;
		snprintf(reg[i].key.name, sizeof(reg[i].key.name), "old-%zu", i + 1);
		reg[i].val.id = (__u32)i + 1;
		reg[i].val.generation = 1;
	}
	EXPECT_EQ(parse(cfg_text, &cfg, err, sizeof(err)), 0);
	EXPECT_EQ(l4_build(&cfg, reg, nr, 2, &g, err, sizeof(err)), 0);
	EXPECT_EQ(g.vips[0].val.service_id, 1);		/* new-a: old-1's */
	EXPECT_EQ(g.vips[1].val.service_id, 7);		/* old-7 keeps its id */
	EXPECT_EQ(g.vips[2].val.service_id, 2);		/* new-b: old-2's */
	EXPECT_EQ(g.nr_evicted, 2);
	if (g.nr_evicted == 2) {
		EXPECT_STR_EQ(g.evicted[0].key.name, "old-1");
		EXPECT_STR_EQ(g.evicted[1].key.name, "old-2");
	}
	EXPECT_EQ(g.nr_ids, nr + 2);	/* + cluster and endpoint */
	for (i = 0; i < g.nr_ids; i++)
		if (g.ids[i].key.kind == KMESH_L4_KIND_SERVICE)
			EXPECT(strcmp(g.ids[i].key.name, "old-1") &&
			       strcmp(g.ids[i].key.name, "old-2"));
	l4_gen_free(&g);
	mesh_config_free(&cfg);
	free(reg);
	tap_end();
}

static struct mesh_endpoint mk_ep(int i, __u16 weight)
{
	struct mesh_endpoint e = { .port = 8080, .weight = weight };
	char a[32];

	snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250 + 1);
	mesh_addr_parse(a, e.addr);
	return e;
}

static void test_maglev(void)
{
	static __u16 t1[KMESH_L4_MAGLEV_SIZE], t2[KMESH_L4_MAGLEV_SIZE];
	struct mesh_endpoint eps[8];
	const struct mesh_endpoint *p[8];
	int count[8] = {}, i, kept = 0, others = 0;

	tap_begin("maglev: even shares, weighted shares, few slots move on removal");
	for (i = 0; i < 8; i++) {
		eps[i] = mk_ep(i, 1);
		p[i] = &eps[i];
	}
	l4_maglev_populate(p, 8, t1, KMESH_L4_MAGLEV_SIZE);
	for (i = 0; i < KMESH_L4_MAGLEV_SIZE; i++)
		if (EXPECT(t1[i] < 8))
			count[t1[i]]++;
	for (i = 0; i < 8; i++)		/* classic Maglev: off by at most one */
		EXPECT(count[i] >= KMESH_L4_MAGLEV_SIZE / 8 - 1 &&
		       count[i] <= KMESH_L4_MAGLEV_SIZE / 8 + 1);

	/* Remove endpoint 3: the others keep almost all of their slots. */
	for (i = 3; i < 7; i++)
		p[i] = &eps[i + 1];
	l4_maglev_populate(p, 7, t2, KMESH_L4_MAGLEV_SIZE);
	for (i = 0; i < KMESH_L4_MAGLEV_SIZE; i++) {
		int before = t1[i], after = t2[i] >= 3 ? t2[i] + 1 : t2[i];

		if (before == 3)
			continue;
		others++;
		kept += before == after;
	}
	if (!EXPECT(kept * 100 >= others * 97))
		tap_diag("kept %d of %d slots", kept, others);

	/* Weighted 3:1. */
	eps[0] = mk_ep(0, 3);
	eps[1] = mk_ep(1, 1);
	p[0] = &eps[0];
	p[1] = &eps[1];
	l4_maglev_populate(p, 2, t1, KMESH_L4_MAGLEV_SIZE);
	memset(count, 0, sizeof(count));
	for (i = 0; i < KMESH_L4_MAGLEV_SIZE; i++)
		count[t1[i] & 7]++;
	EXPECT(count[0] * 100 >= KMESH_L4_MAGLEV_SIZE * 74 &&
	       count[0] * 100 <= KMESH_L4_MAGLEV_SIZE * 76);
	tap_end();
}

/* ---- L7: routes and authorization ---- */

/* Services, clusters and a line count the L7 cases below build on. */
#define L7_HEAD								\
	"services:\n"							\
	"  - {name: web, addresses: [10.96.0.10], ports: [{port: 80, protocol: http}, {port: 81}], cluster: c}\n" \
	"  - {name: tcp, addresses: [10.96.0.11], ports: [{port: 80}], cluster: c}\n" \
	"clusters:\n"							\
	"  - {name: c, endpoints: [{address: 10.0.0.1}]}\n"		\
	"  - {name: d, endpoints: [{address: 10.0.0.2}]}\n"
/* L7_HEAD is 6 lines: L7 sections start on line 7. */

/* 98 bytes: past KMESH_RT_MAX_NAME_LEN and past the whole header match. */
#define LONG_NAME							\
	"x-0123456789abcdef0123456789abcdef0123456789abcdef"		\
	"0123456789abcdef0123456789abcdef0123456789abcdef"

static const char l7_good[] =
	L7_HEAD
	"routes:\n"						/* 7 */
	"  - service: web\n"
	"    hosts: [Web.Example.COM., \"*.web.svc\"]\n"
	"    http:\n"						/* 10 */
	"      - name: api\n"
	"        match:\n"
	"          - uri: {prefix: /api}\n"
	"            methods: [GET, POST]\n"
	"            headers:\n"				/* 15 */
	"              X-Canary: {exact: \"1\"}\n"
	"              x-debug: {absent: true}\n"
	"            query_params: {v: {exact: \"2\"}}\n"
	"          - uri: {template: \"/users/{id}/orders\"}\n"
	"        route: [{cluster: c, weight: 9}, {cluster: d}]\n"	/* 20 */
	"      - name: old\n"
	"        match: [{uri: {segment_prefix: /legacy}}]\n"
	"        deny: {status: 410}\n"
	"      - name: health\n"
	"        match: [{uri: {exact: /healthz}}]\n"		/* 25 */
	"        direct_response: {status: 200, body: \"ok\\n\"}\n"
	"      - route: [{cluster: c}]\n"
	"authorization:\n"
	"  - name: no-admin\n"
	"    service: web\n"					/* 30 */
	"    action: DENY\n"
	"    rules:\n"
	"      - from: [{source: {ip_blocks: [10.0.0.0/8]}}, {source: {not_ip_blocks: [\"fd00::/8\"]}}]\n"
	"        to: [{operation: {paths: [\"/admin*\", \"*.php\"], not_methods: [GET], ports: [80]}}]\n"
	"        when:\n"					/* 35 */
	"          - {key: \"request.headers[X-User]\", not_values: [root]}\n"
	"          - {key: destination.ip, values: [10.0.0.1]}\n"
	"  - name: allow-all\n"
	"    service: web\n"
	"    rules: [{}]\n";					/* 40 */

static void test_l7_parse(void)
{
	struct mesh_config cfg;
	const struct mesh_http_route *r;
	const struct mesh_authz_rule *ar;
	char err[512] = "";

	tap_begin("config: routes and authorization parse into the model, defaults filled in");
	if (!EXPECT_EQ(parse(l7_good, &cfg, err, sizeof(err)), 0)) {
		tap_diag("%s", err);
		tap_end();
		return;
	}
	EXPECT_EQ(cfg.nr_routes, 1);
	EXPECT_EQ(cfg.routes[0].service, 0);
	EXPECT_EQ(cfg.routes[0].nr_hosts, 2);
	EXPECT_STR_EQ(cfg.routes[0].hosts[0], "web.example.com");	/* lower, no dot */
	EXPECT_EQ(cfg.routes[0].nr_http, 4);
	r = &cfg.routes[0].http[0];
	EXPECT_STR_EQ(r->name, "api");
	EXPECT_EQ(r->id, mesh_l7_id("web", "api"));
	EXPECT_EQ(r->nr_match, 2);
	EXPECT_EQ(r->match[0].uri.kind, MESH_M_PREFIX);
	EXPECT_EQ(r->match[0].methods, KMESH_RT_METHOD_BIT(KMESH_HTTP_M_GET) |
		  KMESH_RT_METHOD_BIT(KMESH_HTTP_M_POST));
	EXPECT_EQ(r->match[0].nr_headers, 2);
	EXPECT_STR_EQ(r->match[0].headers[0].name, "x-canary");
	EXPECT_EQ(r->match[0].headers[1].value.kind, MESH_M_ABSENT);
	EXPECT_STR_EQ(r->match[0].query[0].value, "2");
	EXPECT_EQ(r->match[1].uri.kind, MESH_M_TEMPLATE);
	EXPECT_EQ(r->action, KMESH_RT_A_ROUTE);
	EXPECT_EQ(r->nr_dests, 2);
	EXPECT_EQ(r->dests[0].weight, 9);
	EXPECT_EQ(r->dests[1].weight, 1);
	EXPECT_EQ(r->dests[1].cluster, 1);
	EXPECT_EQ(cfg.routes[0].http[1].status, 410);
	EXPECT_EQ(cfg.routes[0].http[2].action, KMESH_RT_A_DIRECT);
	EXPECT_EQ(cfg.routes[0].http[2].body_len, 3);
	EXPECT_STR_EQ(cfg.routes[0].http[3].name, "default");
	EXPECT_EQ(cfg.routes[0].http[3].nr_match, 0);
	EXPECT_EQ(cfg.nr_authz, 2);
	EXPECT_EQ(cfg.authz[0].action, MESH_AUTHZ_DENY);
	EXPECT_EQ(cfg.authz[1].action, MESH_AUTHZ_ALLOW);	/* the default */
	ar = &cfg.authz[0].rules[0];
	EXPECT_EQ(ar->nr_from, 2);
	EXPECT_EQ(ar->from[0].ip_blocks.v[0].bits, 96 + 8);
	EXPECT_EQ(ar->from[1].not_ip_blocks.v[0].bits, 8);
	EXPECT_EQ(ar->to[0].paths.n, 2);
	EXPECT_EQ(ar->to[0].paths.v[0].kind, MESH_M_PREFIX);
	EXPECT_STR_EQ(ar->to[0].paths.v[0].text, "/admin");
	EXPECT_EQ(ar->to[0].paths.v[1].kind, MESH_M_SUFFIX);
	EXPECT_STR_EQ(ar->to[0].paths.v[1].text, ".php");
	EXPECT_EQ(ar->to[0].not_methods, KMESH_RT_METHOD_BIT(KMESH_HTTP_M_GET));
	EXPECT_EQ(ar->nr_when, 2);
	EXPECT_EQ(ar->when[0].key, MESH_WHEN_HEADER);
	EXPECT_STR_EQ(ar->when[0].header, "x-user");
	EXPECT_EQ(ar->when[1].key, MESH_WHEN_DEST_IP);
	EXPECT_EQ(cfg.authz[1].nr_rules, 1);
	EXPECT_EQ(cfg.authz[1].rules[0].nr_from + cfg.authz[1].rules[0].nr_to, 0);
	mesh_config_free(&cfg);
	tap_end();
}

static const struct {
	const char *yaml;
	const char *error;
} l7_bad[] = {
	{ L7_HEAD "routes:\n  - service: nope\n    http: [{route: [{cluster: c}]}]\n",
	  "t.yaml:8: routes[0].service: unknown service 'nope'" },
	{ L7_HEAD "routes:\n  - service: tcp\n    http: [{route: [{cluster: c}]}]\n",
	  "t.yaml:8: routes[0].service: service 'tcp' has no http port (L7 rules apply to ports with protocol: http)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: tcp, rules: [{to: [{operation: {methods: [GET]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].to[0].operation: methods needs an HTTP request: service 'tcp' has tcp ports only, where a policy is checked at L4 (the connection's SYN), from the source address alone (from.source.ip_blocks)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: tcp, rules: [{when: [{key: \"request.headers[x-a]\", values: [\"*\"]}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].when[0]: key needs an HTTP request: service 'tcp' has tcp ports only, where a policy is checked at L4 (the connection's SYN), from the source address alone (from.source.ip_blocks)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: tcp, rules: [{from: [{source: {not_ip_blocks: [10.0.0.0/8]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].from[0].source: not_ip_blocks is not checked at the door yet: service 'tcp' has tcp ports only, where a policy is checked at L4 (the connection's SYN), from the source address alone (from.source.ip_blocks)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, action: DENY, rules: [{to: [{operation: {paths: [/a]}}], from: [{source: {not_ip_blocks: [10.0.0.0/8]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].from[0].source: not_ip_blocks is not checked at the door yet: service 'web' has tcp ports too, where its policies are checked at L4 (the connection's SYN), from the source address alone (to keep the rule off them, name the http ports in to.operation.ports)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, action: DENY, rules: [{when: [{key: destination.ip, values: [10.0.0.1]}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].when[0]: key is not checked at the door yet: service 'web' has tcp ports too, where its policies are checked at L4 (the connection's SYN), from the source address alone (to keep the rule off them, name the http ports in to.operation.ports)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: tcp, rules: [{to: [{operation: {ports: [80]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].to[0].operation: ports is not checked at the door yet: service 'tcp' has tcp ports only, where a policy is checked at L4 (the connection's SYN), from the source address alone (from.source.ip_blocks)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - match: [{uri: {prefix: /a}}]\n",
	  "t.yaml:10: routes[0].http[0]: missing an action: route, deny or direct_response" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - route: [{cluster: c}]\n        deny: {}\n",
	  "t.yaml:11: routes[0].http[0].deny: a route has one action: route, deny or direct_response" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - route: [{cluster: c}]\n"
	  "      - {match: [{uri: {prefix: /}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0]: a route without match is the default route: it must be the last" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match: expected at least one match (leave match out for the default route)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: api}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].uri.prefix: \"api\" does not start with '/'" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: /a, exact: /b}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].uri.exact: give only one of exact, prefix, segment_prefix, template" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {template: \"/a/**/b\"}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0]: match 0, condition 0 (path template): \"/a/**/b\" has ** before its last segment (segment 1)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{methods: [get]}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].methods[0]: expected an HTTP method such as GET (a token; methods are case-sensitive)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{headers: {x: {present: false}}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].headers.x.present: expected true (leave the header out instead)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: /}}], deny: {status: 302}}\n",
	  "t.yaml:10: routes[0].http[0].deny.status: expected an integer 400..599" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: /}}], direct_response: {body: x}}\n",
	  "t.yaml:10: routes[0].http[0].direct_response: missing required field 'status'" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: /}}], route: [{cluster: c, weight: 1000001}]}\n",
	  "t.yaml:10: routes[0].http[0].route[0].weight: expected an integer 0..1000000" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: /}}], route: [{cluster: c, weight: 0}]}\n",
	  "t.yaml:10: routes[0].http[0].route: weights sum to 0: give at least one cluster a weight" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {name: a, match: [{uri: {prefix: /}}], route: [{cluster: c}]}\n"
	  "      - {name: a, route: [{cluster: c}]}\n",
	  "t.yaml:11: routes[0].http[1]: name 'a' is also routes[0].http.http[0]" },
	{ L7_HEAD "routes:\n  - {service: web, http: [{route: [{cluster: c}]}]}\n  - {service: web, http: [{route: [{cluster: c}]}]}\n",
	  "t.yaml:9: routes[1].service: service 'web' already has routes (routes[0])" },
	{ L7_HEAD "routes:\n  - {service: web, hosts: [\"a.com:80\"], http: [{route: [{cluster: c}]}]}\n",
	  "t.yaml:8: routes[0].hosts[0]: \"a.com:80\" has a port (ports are not part of the host here; leave it out)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{to: [{operation: {paths: [\"/a*b\"]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].to[0].operation.paths[0]: \"/a*b\" has a '*' that is neither leading nor trailing" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{from: [{source: {ip_blocks: [10.0.0.1/8]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].from[0].source.ip_blocks[0]: expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8, fd00::/16) without host bits" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{from: [{src: {}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].from[0].src: unknown field (expected one of: source)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{when: [{key: request.cookie}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].when[0].key: expected request.headers[NAME], source.ip, destination.ip or destination.port" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{when: [{key: \"request.headers[x]\"}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].when[0]: expected values or not_values" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, action: AUDIT}\n",
	  "t.yaml:8: authorization[0].action: expected one of: ALLOW, DENY" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web}\n  - {name: p, service: web}\n",
	  "t.yaml:9: authorization[1].name: 'p' is also authorization[0] of service 'web'" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{to: [{operation: {hosts: [\"a:1\"]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].to[0].operation.hosts[0]: \"a:1\" has a port (ports are not part of the host here; leave it out)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{to: [{operation: {ports: [0]}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].to[0].operation.ports[0]: expected an integer 1..65535" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{to: [{operation: {methods: []}}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].to[0].operation.methods: expected at least one method" },
	/* found by fuzz_config: a name over 64 bytes overran the field (ASan) */
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{headers: {" LONG_NAME ": {exact: \"1\"}}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].headers." LONG_NAME ": expected a header name (a token of 1..64 bytes)" },
	{ L7_HEAD "authorization:\n  - {name: p, service: web, rules: [{when: [{key: \"request.headers[" LONG_NAME "]\", values: [a]}]}]}\n",
	  "t.yaml:8: authorization[0].rules[0].when[0].key: expected request.headers[NAME], source.ip, destination.ip or destination.port" },
};

/* gRPC match forms: a method is an exact path, a service a prefix. */
static void test_grpc_match(void)
{
	struct mesh_config cfg;
	const struct mesh_http_route *r;
	char err[512] = "";

	tap_begin("config: protocol http2 and grpc name http ports; grpc matches compile to paths");
	if (!EXPECT_EQ(parse("services:\n"
			     "  - {name: g, addresses: [10.96.0.12], ports: [{port: 80, protocol: grpc}, {port: 81, protocol: http2}, {port: 82}], cluster: c}\n"
			     "clusters: [{name: c, endpoints: [{address: 10.0.0.1}]}]\n"
			     "routes:\n"
			     "  - service: g\n"
			     "    http:\n"
			     "      - {name: m, match: [{grpc: {service: pkg.v1.Greeter, method: SayHello}}], route: [{cluster: c}]}\n"
			     "      - {name: s, match: [{grpc: {service: Health}, headers: {te: {exact: trailers}}}], deny: {status: 403}}\n"
			     "      - route: [{cluster: c}]\n", &cfg, err, sizeof(err)), 0)) {
		tap_diag("%s", err);
		tap_end();
		return;
	}
	EXPECT_EQ(cfg.services[0].ports[0].http, 1);
	EXPECT_EQ(cfg.services[0].ports[1].http, 1);
	EXPECT_EQ(cfg.services[0].ports[2].http, 0);
	r = &cfg.routes[0].http[0];
	EXPECT(r->match[0].has_uri);
	EXPECT_EQ(r->match[0].uri.kind, MESH_M_EXACT);
	EXPECT_STR_EQ(r->match[0].uri.text, "/pkg.v1.Greeter/SayHello");
	r = &cfg.routes[0].http[1];
	EXPECT_EQ(r->match[0].uri.kind, MESH_M_PREFIX);
	EXPECT_STR_EQ(r->match[0].uri.text, "/Health/");
	EXPECT_EQ(r->match[0].nr_headers, 1);
	mesh_config_free(&cfg);
	tap_end();
}

static const struct {
	const char *yaml;
	const char *error;
} grpc_bad[] = {
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{grpc: {service: \"pkg..Svc\", method: M}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].grpc.service: 'pkg..Svc': expected a gRPC service name, package.Service (identifiers joined by '.')" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{grpc: {service: pkg.Svc, method: \"Say/Hello\"}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].grpc.method: 'Say/Hello': expected a gRPC method name (letters, digits, '_'; not starting with a digit)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{grpc: {method: M}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].grpc: missing required field 'service'" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{uri: {prefix: /a}, grpc: {service: S}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].grpc: give uri or grpc, not both (grpc is a path match: /package.Service/Method)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{grpc: {service: S, verb: M}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].grpc.verb: unknown field (expected one of: service, method)" },
	{ L7_HEAD "routes:\n  - service: web\n    http:\n      - {match: [{grpc: {service: 1pkg.S}}], route: [{cluster: c}]}\n",
	  "t.yaml:10: routes[0].http[0].match[0].grpc.service: '1pkg.S': expected a gRPC service name, package.Service (identifiers joined by '.')" },
};

static void test_grpc_bad(void)
{
	struct mesh_config cfg;
	char err[512];
	size_t i;

	tap_begin("config: bad grpc matches are refused with file:line: field: what");
	for (i = 0; i < sizeof(grpc_bad) / sizeof(grpc_bad[0]); i++) {
		err[0] = '\0';
		if (!EXPECT(parse(grpc_bad[i].yaml, &cfg, err, sizeof(err)) != 0)) {
			tap_diag("case %zu was accepted", i);
			mesh_config_free(&cfg);
			continue;
		}
		if (!EXPECT_STR_EQ(err, grpc_bad[i].error))
			tap_diag("case %zu", i);
	}
	tap_end();
}

static void test_l7_bad(void)
{
	struct mesh_config cfg;
	char err[512];
	size_t i;

	tap_begin("config: bad routes and authorization are refused with file:line: field: what");
	for (i = 0; i < sizeof(l7_bad) / sizeof(l7_bad[0]); i++) {
		err[0] = '\0';
		if (!EXPECT(parse(l7_bad[i].yaml, &cfg, err, sizeof(err)) != 0)) {
			tap_diag("case %zu was accepted", i);
			mesh_config_free(&cfg);
			continue;
		}
		if (!EXPECT_STR_EQ(err, l7_bad[i].error))
			tap_diag("case %zu", i);
	}
	tap_end();
}

static void test_l7_limits(void)
{
	size_t size = 64 * 1024, len, i;
	struct mesh_config cfg;
	char *text = malloc(size), err[512];

	tap_begin("config: more than %d conditions for a service is refused where it happens",
		  KMESH_L7_MAX_CONDS);
	len = (size_t)snprintf(text, size, L7_HEAD "authorization:\n"
			       "  - name: many\n    service: web\n    rules:\n");
	/* two distinct conditions per rule: rule 32 makes the 65th */
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(text + len, size - len,
					"      - to: [{operation: {paths: [/p%zu], ports: [%zu]}}]\n",
					i, i + 1);
	EXPECT(parse(text, &cfg, err, sizeof(err)) != 0);
	EXPECT_STR_EQ(err, "t.yaml:43: authorization[0].rules[32]: service 'web': more than 64 distinct conditions in its routes and authorization");
	free(text);
	tap_end();
}

static const struct kmesh_l7_item *item_of(const struct kmesh_l7_policy *p,
					   __u8 kind, const char *str)
{
	size_t i, n = str ? strlen(str) : 0;

	for (i = 0; i < p->nr_items; i++)
		if (p->items[i].kind == kind && (!str ||
		    (p->items[i].len == n && !memcmp(p->strings + p->items[i].off, str, n))))
			return &p->items[i];
	return NULL;
}

static void test_l7_compile(void)
{
	struct kmesh_l7_policy *p = calloc(1, sizeof(*p));
	const struct kmesh_l7_item *it;
	struct l7_cidrs cidrs = {};
	struct l7_check_err ce;
	struct mesh_config cfg;
	__u32 ids[2] = { 5, 6 };
	char err[512];
	void *blob = NULL;
	__u32 len = 0, i, nroute = 0;

	tap_begin("build: the policy form (rules, blocks, conditions, CIDR sets) and the route table");
	if (!EXPECT_EQ(parse(l7_good, &cfg, err, sizeof(err)), 0) || !p) {
		tap_diag("%s", err);
		free(p);
		tap_end();
		return;
	}
	EXPECT_EQ(l7_build_policy(&cfg, 0, 7, p, &cidrs, &ce), 0);
	EXPECT_EQ(p->service_id, 7);
	EXPECT_EQ(p->flags & (KMESH_L7_PF_HAS_ALLOW | KMESH_L7_PF_HAS_ROUTES |
			      KMESH_L7_PF_DEFAULT | KMESH_L7_PF_VHOST_ANY),
		  KMESH_L7_PF_HAS_ALLOW | KMESH_L7_PF_HAS_ROUTES | KMESH_L7_PF_DEFAULT);
	EXPECT(p->flags & KMESH_L7_PF_TEMPLATES);
	EXPECT(p->flags & KMESH_L7_PF_QUERY);
	EXPECT(p->flags & KMESH_L7_PF_SRC_SETS);
	EXPECT(p->flags & KMESH_L7_PF_DST_SETS);
	/* three ordered routes first (default apart), then two policies' rules */
	EXPECT_EQ(p->nr_routes, 3);
	EXPECT_EQ(p->nr_rules, 5);
	for (i = 0; i < p->nr_rules; i++)
		nroute += p->rules[i].kind == KMESH_L7_RK_ROUTE;
	EXPECT_EQ(nroute, 3);
	EXPECT_EQ(p->rules[0].id, mesh_l7_id("web", "api"));
	EXPECT_EQ(p->rules[1].action, KMESH_RT_A_DENY);
	EXPECT_EQ(p->rules[1].status, 410);
	EXPECT_EQ(p->rules[3].kind, KMESH_L7_RK_DENY);
	EXPECT_EQ(p->rules[4].kind, KMESH_L7_RK_ALLOW);
	EXPECT_EQ(p->dflt.id, mesh_l7_id("web", "default"));
	/* two match blocks for api: prefix+methods+headers+query, template */
	EXPECT_EQ(__builtin_popcountll(p->rules[0].blocks), 2);
	/* the DENY rule: 2 sources x 1 operation = 2 blocks */
	EXPECT_EQ(__builtin_popcountll(p->rules[3].blocks), 2);
	/* allow-all's empty rule: an empty block, which always holds */
	EXPECT_EQ(p->block_conds[__builtin_ctzll(p->rules[4].blocks)], 0);
	/* authorization items lead, route items are marked */
	EXPECT(p->nr_authz_items > 0 && p->nr_authz_items < p->nr_items);
	for (i = 0; i < p->nr_items; i++)
		EXPECT_EQ(!!(p->items[i].flags & KMESH_L7_IF_ROUTE),
			  i >= p->nr_authz_items);
	/* negated conditions: not_ip_blocks, not_methods, not_values, absent */
	EXPECT_EQ(__builtin_popcountll(p->neg_conds), 4);
	it = item_of(p, KMESH_L7_I_HOST_SUFFIX, ".web.svc");
	EXPECT(it && (it->flags & KMESH_L7_IF_LONGER));
	EXPECT(item_of(p, KMESH_L7_I_HOST_EXACT, "web.example.com"));
	it = item_of(p, KMESH_L7_I_PATH_SUFFIX, ".php");
	EXPECT(it && !(it->flags & KMESH_L7_IF_ROUTE));
	it = item_of(p, KMESH_L7_I_PATH_TEMPLATE, "/users/{id}/orders");
	if (EXPECT(it)) {
		EXPECT_EQ(it->arg >> 16, 3);	/* users, {id}, orders */
		EXPECT_EQ(p->tsegs[it->arg & 0xffff].kind, KMESH_L7_TS_LIT);
		EXPECT_EQ(p->tsegs[(it->arg & 0xffff) + 1].kind, KMESH_L7_TS_ONE);
	}
	/* header slots, lower-case: x-user (authz), x-canary, x-debug */
	EXPECT_EQ(p->nr_hdrs, 3);
	EXPECT(!memcmp(p->hdr_name[0], "x-user", 6));
	/* the 403 reply */
	EXPECT(p->deny_len > p->deny_head);
	EXPECT(!memcmp(p->strings + p->deny_off, "HTTP/1.1 403 Forbidden\r\n", 24));
	EXPECT(!memcmp(p->strings + p->deny_off + p->deny_len - 19,
		       "RBAC: access denied", 19));
	/* LPM: 10.0.0.0/8 (src), fd00::/8 (src, negated set), 10.0.0.1 (dst) */
	EXPECT_EQ(cidrs.n, 3);
	for (i = 0; i < cidrs.n; i++) {
		EXPECT_EQ(cidrs.v[i].key.service_id, htonl(7));
		EXPECT(cidrs.v[i].sets != 0);
	}
	/* the module's table: validates, carries the same route ids */
	EXPECT_EQ(l7_build_table(&cfg, 0, 7, ids, &blob, &len, &ce), 0);
	if (EXPECT(blob)) {
		const struct kmesh_rt_table *t = blob;
		const struct kmesh_rt_route *rt = (const void *)((const char *)blob +
								 t->routes.off);

		EXPECT_EQ(kmesh_route_validate(blob, len), 0);
		EXPECT_EQ(t->vhost_id, 7);
		EXPECT_EQ(t->routes.count, 3);
		EXPECT_EQ(rt[0].route_id, mesh_l7_id("web", "api"));
		EXPECT(t->flags & KMESH_RT_F_DEFAULT);
		EXPECT_EQ(t->dflt.route_id, mesh_l7_id("web", "default"));
	}
	free(blob);
	l7_cidrs_free(&cidrs);
	mesh_config_free(&cfg);
	free(p);
	tap_end();
}

static void test_l7_cidr_sets(void)
{
	const char *yaml = L7_HEAD
		"authorization:\n"
		"  - name: p\n"
		"    service: web\n"
		"    action: DENY\n"
		"    rules:\n"
		"      - from: [{source: {ip_blocks: [10.0.0.0/8]}}]\n"
		"      - from: [{source: {ip_blocks: [10.1.0.0/16, 192.168.0.1]}}]\n";
	struct kmesh_l7_policy *p = calloc(1, sizeof(*p));
	struct l7_cidrs cidrs = {};
	struct l7_check_err ce;
	struct mesh_config cfg;
	char err[256];
	__u64 s16 = 0, s8 = 0, s32 = 0;
	size_t i;

	tap_begin("build: an LPM entry holds every set containing it, so one lookup finds them all");
	EXPECT_EQ(parse(yaml, &cfg, err, sizeof(err)), 0);
	EXPECT_EQ(l7_build_policy(&cfg, 0, 1, p, &cidrs, &ce), 0);
	for (i = 0; i < cidrs.n; i++) {
		__u32 bits = cidrs.v[i].key.prefixlen - 64;

		if (bits == 96 + 16)
			s16 = cidrs.v[i].sets;
		else if (bits == 96 + 8)
			s8 = cidrs.v[i].sets;
		else if (bits == 128)
			s32 = cidrs.v[i].sets;
	}
	EXPECT_EQ(cidrs.n, 3);
	EXPECT_EQ(__builtin_popcountll(s8), 1);		/* only its own set */
	EXPECT_EQ(__builtin_popcountll(s16), 2);	/* inside the /8 too */
	EXPECT_EQ(s16 & s8, s8);
	EXPECT_EQ(__builtin_popcountll(s32), 1);
	mesh_config_free(&cfg);
	l7_cidrs_free(&cidrs);
	free(p);
	tap_end();
}

static void test_l7_cidr_parse(void)
{
	struct mesh_cidr c;

	tap_begin("config: CIDR parsing: v4 as v4-mapped bits, bare addresses, host bits refused");
	EXPECT_EQ(mesh_cidr_parse("10.0.0.0/8", &c), 0);
	EXPECT_EQ(c.bits, 104);
	EXPECT_EQ(mesh_cidr_parse("10.1.2.3", &c), 0);
	EXPECT_EQ(c.bits, 128);
	EXPECT_EQ(mesh_cidr_parse("fd00::/8", &c), 0);
	EXPECT_EQ(c.bits, 8);
	EXPECT_EQ(mesh_cidr_parse("0.0.0.0/0", &c), 0);
	EXPECT_EQ(c.bits, 96);
	EXPECT(mesh_cidr_parse("10.0.0.1/8", &c) != 0);
	EXPECT(mesh_cidr_parse("10.0.0.0/33", &c) != 0);
	EXPECT(mesh_cidr_parse("10.0.0.0/", &c) != 0);
	EXPECT(mesh_cidr_parse("10.0.0.0/08", &c) != 0);
	EXPECT(mesh_cidr_parse("fd00::/129", &c) != 0);
	tap_end();
}

/*
 * docs/config.md#limits quotes every limit of mesh_limits.h as
 * "VALUE (`NAME`)"; the header is the reader's only source. A constant
 * added to the header, or a number changed in either, fails here.
 */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = calloc(1, (size_t)n + 1)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_limits_documented(void)
{
#define LIMIT(name) { #name, name }
	static const struct { const char *name; long value; } limits[] = {
		LIMIT(MESH_MAX_SERVICES), LIMIT(MESH_MAX_CLUSTERS),
		LIMIT(MESH_MAX_SERVICE_ADDRESSES), LIMIT(MESH_MAX_SERVICE_PORTS),
		LIMIT(MESH_MAX_CLUSTER_ENDPOINTS), LIMIT(MESH_MAX_ENDPOINT_WEIGHT),
		LIMIT(MESH_MAX_CONNECT_TIMEOUT_MS),
		LIMIT(MESH_MAX_ENDPOINT_PRIORITY),
		LIMIT(MESH_MAX_LOCALITY_FAILOVER),
		LIMIT(MESH_MAX_OUTLIER_CONSECUTIVE), LIMIT(MESH_MAX_OUTLIER_MS),
		LIMIT(MESH_MAX_RATE_PER_SECOND), LIMIT(MESH_MAX_RATE_BURST),
		LIMIT(MESH_MAX_ROUTES), LIMIT(MESH_MAX_ROUTE_HOSTS),
		LIMIT(MESH_MAX_HTTP_ROUTES), LIMIT(MESH_MAX_ROUTE_MATCHES),
		LIMIT(MESH_MAX_MATCH_CONDS), LIMIT(MESH_MAX_ROUTE_SPLIT),
		LIMIT(MESH_MAX_SPLIT_WEIGHT), LIMIT(MESH_L7_MAX_POLICIES),
		LIMIT(MESH_MAX_POLICY_RULES), LIMIT(MESH_L7_MAX_RULE_PARTS),
		LIMIT(MESH_L7_MAX_METHODS), LIMIT(MESH_L7_MAX_PORTS),
		LIMIT(MESH_L7_MAX_CIDRS), LIMIT(MESH_L7_MAX_PATTERNS),
		LIMIT(MESH_MAX_VALUE_LEN), LIMIT(MESH_MAX_BODY_LEN),
	};
#undef LIMIT
	char *hdr = slurp(MESH_LIMITS_H), *doc = slurp(CONFIG_MD), *at;
	size_t i, nr_defines = 0;

	tap_begin("config: docs/config.md quotes every limit of mesh_limits.h, with its value");
	if (!EXPECT(hdr != NULL) || !EXPECT(doc != NULL))
		goto out;
	/* every #define of the header (but its guard) is in the list above */
	for (at = hdr; (at = strstr(at, "\n#define MESH_")); at++) {
		char name[64];

		if (sscanf(at, "\n#define %63[A-Z0-9_]", name) != 1 ||
		    !strcmp(name, "KMESH_MESH_LIMITS_H"))
			continue;
		nr_defines++;
		for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
			if (!strcmp(limits[i].name, name))
				break;
		if (!EXPECT(i < sizeof(limits) / sizeof(limits[0])))
			tap_diag("%s is not checked here: add it to the list", name);
	}
	EXPECT_EQ(nr_defines, sizeof(limits) / sizeof(limits[0]));
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		char quoted[96];

		snprintf(quoted, sizeof(quoted), "%ld (`%s`)", limits[i].value,
			 limits[i].name);
		if (!EXPECT(strstr(doc, quoted) != NULL))
			tap_diag("docs/config.md lacks \"%s\"", quoted);
	}
out:
	free(hdr);
	free(doc);
	tap_end();
}

int main(void)
{
	tap_header();
	test_parse_good();
	test_parse_bad();
	test_too_many_endpoints();
	test_build();
	test_build_locality();
	test_rate_limit();
	test_route_rate_limit();
	test_ids_stable();
	test_build_reusing();
	test_ids_evicted();
	test_maglev();
	test_l7_parse();
	test_l7_bad();
	test_grpc_match();
	test_grpc_bad();
	test_l7_limits();
	test_l7_compile();
	test_l7_cidr_sets();
	test_l7_cidr_parse();
	test_limits_documented();
	return tap_finish();
}

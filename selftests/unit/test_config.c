// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the mesh config compiler: YAML -> model (mesh_config.c),
 * model -> generation map contents (l4_build.c), Maglev tables.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l4_build.h"
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
	"    endpoints:\n"
	"      - {address: 10.0.0.1, port: 8080, weight: 3}\n"
	"      - {address: 10.0.0.2, port: 8080, state: draining}\n"
	"      - {address: 10.0.0.3}\n"
	"  - name: canary\n"
	"    lb: maglev\n"
	"    hash_key: source_ip_port\n"
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
	EXPECT_EQ(cfg.clusters[0].nr_endpoints, 3);
	EXPECT_EQ(cfg.clusters[0].endpoints[0].weight, 3);
	EXPECT_EQ(cfg.clusters[0].endpoints[1].state, KMESH_EP_DRAINING);
	EXPECT_EQ(cfg.clusters[0].endpoints[2].port, 0);	/* as dialed */
	EXPECT_EQ(cfg.clusters[0].endpoints[2].weight, 1);
	EXPECT_EQ(cfg.clusters[0].endpoints[2].line, 16);
	EXPECT_EQ(cfg.clusters[1].lb, KMESH_LB_MAGLEV);
	EXPECT_EQ(cfg.clusters[1].flags, KMESH_CLUSTER_F_HASH_SRC_PORT);
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
	{ "clusters:\n  - name: c\n    lb: least_request\n",
	  "t.yaml:3: clusters[0].lb: expected one of: random, weighted, round_robin, maglev" },
	{ "clusters:\n  - name: c\n    hash_key: source_ip\n",
	  "t.yaml:3: clusters[0].hash_key: only meaningful with lb: maglev" },
	{ "clusters:\n  - name: c\n    lbb: random\n",
	  "t.yaml:3: clusters[0].lbb: unknown field (expected one of: name, lb, max_connections, hash_key, endpoints)" },
	{ "clusters:\n  - name: c\n    lb: random\n    lb: maglev\n",
	  "t.yaml:4: clusters[0].lb: given twice" },
	{ "clusters:\n  - name: c\n  - name: c\n",
	  "t.yaml:3: clusters[1].name: 'c' is also clusters[0]" },
	{ "clusters:\n  - name: \"a b\"\n",
	  "t.yaml:2: clusters[0].name: expected a name of 1..63 letters, digits, '-', '_' or '.'" },
	{ "clusters:\n  - name: c\n    max_connections: -1\n",
	  "t.yaml:3: clusters[0].max_connections: expected an integer 0..4294967295" },
	{ "clusters:\n  - name: c\n    endpoints:\n      - {address: 10.0.0.1, port: 80}\n"
	  "      - {address: 10.0.0.1, port: 80}\n",
	  "t.yaml:5: clusters[0].endpoints[1]: same address and port as clusters[0].endpoints[0]" },
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
	  "t.yaml:4: services[0].ports[0].protocol: expected one of: tcp, http" },
	{ "services:\n  - {name: a, addresses: [10.96.0.1], ports: [{port: 80}], cluster: c}\n"
	  "  - {name: b, addresses: [10.96.0.1], ports: [{port: 80}], cluster: c}\n"
	  "clusters: [{name: c}]\n",
	  "t.yaml:3: services[1].addresses[0]: 10.96.0.1:80 is also served by services[0] (a)" },
	{ "services:\n  - {name: a, addresses: [10.96.0.1], ports: [{port: 80}], cluster: c}\n"
	  "clusters:\n  - name: c\n    endpoints: [{address: \"fd00::1\"}]\n",
	  "t.yaml:2: services[0].addresses[0]: IPv4 address, but cluster 'c' has an IPv6 endpoint (line 5)" },
	{ "services:\n  - name: s\n    addresses: [10.96.0.1\n",
	  "t.yaml:4: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "", "t.yaml:1: empty file: expected a mapping with services: and clusters:" },
	{ "- a\n- b\n", "t.yaml:1: expected a mapping" },
	{ "routes: []\n", "t.yaml:1: routes: not supported yet (L7 configuration)" },
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

int main(void)
{
	tap_header();
	test_parse_good();
	test_parse_bad();
	test_too_many_endpoints();
	test_build();
	test_ids_stable();
	test_maglev();
	return tap_finish();
}

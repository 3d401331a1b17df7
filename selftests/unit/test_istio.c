// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the inputs of apply/validate (mesh_input.c) and of the
 * Istio resources' translation (istio.c): every document read, the
 * corpus under selftests/istio compiled to what its comments say, and
 * one case per error with the exact message a user gets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_input.h"
#include "tap.h"

#define SE \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: ServiceEntry\n" \
	"metadata: {name: web}\n" \
	"spec:\n" \
	"  hosts: [web]\n" \
	"  addresses: [10.96.0.1]\n" \
	"  ports: [{number: 80, name: http, protocol: HTTP}]\n" \
	"  resolution: STATIC\n" \
	"  endpoints: [{address: 10.0.0.1, labels: {v: \"1\"}}]\n"	/* 9 lines */

#define VS_HEAD(name) \
	"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n" \
	"metadata: {name: " name "}\nspec:\n  hosts: [web]\n  http:\n"	/* lines 10..16 */

static int parse(const char *text, struct mesh_config *cfg, char *err,
		 size_t size)
{
	return mesh_input_parse("t.yaml", text, strlen(text), NULL, cfg, err,
				size);
}

static const struct {
	const char *what, *yaml, *error;
} bad[] = {
	{ "unknown kind", SE "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {}\n",
	  "t.yaml:12: ConfigMap x: kind: unknown kind (kmesh reads ServiceEntry, WorkloadEntry, DestinationRule, VirtualService, AuthorizationPolicy, Service, EndpointSlice, Pod)" },
	{ "a UDP port of a Kubernetes Service", "apiVersion: v1\nkind: Service\nmetadata: {name: dns, namespace: kube-system}\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - {name: dns, port: 53, protocol: UDP}\n",
	  "t.yaml:7: Service dns: spec.ports[0].protocol: UDP: not supported (kmesh routes TCP)" },
	{ "a headless Kubernetes Service", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  ports: [{port: 5432}]\n",
	  "t.yaml:5: Service db: spec.clusterIP: a headless service (None): not supported (kmesh routes a service by its cluster IPs)" },
	{ "an EndpointSlice of no Service", SE "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-1\n  labels: {kubernetes.io/service-name: db}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.9]}]\n",
	  "t.yaml:15: EndpointSlice db-1: metadata.labels.kubernetes.io/service-name: no Service db in namespace default" },
	{ "an EndpointSlice of FQDNs", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: 10.96.0.5, ports: [{port: 5432}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-1\n  labels: {kubernetes.io/service-name: db}\naddressType: FQDN\n",
	  "t.yaml:11: EndpointSlice db-1: addressType: FQDN: not supported (IPv4 or IPv6)" },
	{ "a field the Endpoints API does not have", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: 10.96.0.5, ports: [{port: 5432}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-1\n  labels: {kubernetes.io/service-name: db}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.9], condition: {ready: true}}]\n",
	  "t.yaml:12: EndpointSlice db-1: endpoints[0].condition: unknown field" },
	{ "apiVersion of another group", SE "---\napiVersion: networking.istio.io/v2\nkind: ServiceEntry\nmetadata: {name: x}\nspec: {}\n",
	  "t.yaml:11: ServiceEntry x: apiVersion: 'networking.istio.io/v2' is not an apiVersion of ServiceEntry" },
	{ "unsupported field with its path", SE VS_HEAD("ratings-fault")
	  "  - fault:\n      delay: {fixedDelay: 5s}\n    route: [{destination: {host: web}}]\n",
	  "t.yaml:18: VirtualService ratings-fault: spec.http[0].fault.delay: not supported" },
	{ "a method prefix", SE VS_HEAD("vs") "  - match: [{method: {prefix: G}}]\n    route: [{destination: {host: web}}]\n",
	  "t.yaml:17: VirtualService vs: spec.http[0].match[0].method.prefix: not supported" },
	{ "exportTo a namespace", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  exportTo: [\".\"]\n",
	  "t.yaml:16: DestinationRule web: spec.exportTo: '.': only \"*\" (kmesh applies a config to every client of the node, whatever its namespace)" },
	{ "unknown field", SE VS_HEAD("vs") "  - route: [{destination: {host: web}}]\n    tmeout: 5s\n",
	  "t.yaml:18: VirtualService vs: spec.http[0].tmeout: unknown field" },
	{ "regex not supported", SE VS_HEAD("vs") "  - match: [{uri: {regex: \"/a.*\"}}]\n    route: [{destination: {host: web}}]\n",
	  "t.yaml:17: VirtualService vs: spec.http[0].match[0].uri.regex: not supported" },
	{ "dangling subset", SE VS_HEAD("vs") "  - route: [{destination: {host: web, subset: v9}}]\n",
	  "t.yaml:17: VirtualService vs: spec.http[0].route[0].destination.subset: no subset v9 in a DestinationRule of web.default.svc.cluster.local" },
	{ "dangling host", SE VS_HEAD("vs") "  - route: [{destination: {host: db}}]\n",
	  "t.yaml:17: VirtualService vs: spec.http[0].route[0].destination.host: no ServiceEntry or Service has host db.default.svc.cluster.local" },
	{ "localityLbSetting distribute", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n"
	  "  trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: \"a/*\", to: {\"b/*\": 100}}]}}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute: not supported" },
	{ "a failover to a zone", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n"
	  "  trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: a, to: b/z}]}}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].to: b/z: expected a region" },
	{ "a bad endpoint locality", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web}\nspec:\n"
	  "  hosts: [web]\n  addresses: [10.96.0.1]\n  ports: [{number: 80}]\n  resolution: STATIC\n  endpoints: [{address: 10.0.0.1, locality: \"a/b/c/d\"}]\n",
	  "t.yaml:9: ServiceEntry web: spec.endpoints[0].locality: a/b/c/d: more than three parts (region/zone/subzone)" },
	{ "DestinationRule of no host", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec: {host: nope.other}\n",
	  "t.yaml:14: DestinationRule web: spec.host: no ServiceEntry or Service has host nope.other" },
	{ "duplicate names", SE "---\n" SE,
	  "t.yaml:13: ServiceEntry web: metadata.name: a second ServiceEntry web in namespace default (the first: t.yaml:1)" },
	{ "two VirtualServices for one host", SE VS_HEAD("a") "  - route: [{destination: {host: web}}]\n" VS_HEAD("b") "  - route: [{destination: {host: web}}]\n",
	  "t.yaml:23: VirtualService b: spec.hosts[0]: web.default.svc.cluster.local already has a VirtualService (kmesh takes one per host)" },
	{ "a broken second document", SE VS_HEAD("vs") "  - route: [{destination: {host: web}}\n",
	  "t.yaml:18: document 2: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "garbage after the mesh file", "services: []\nclusters: []\n---\n- what\n",
	  "t.yaml:4: document 2: expected a mapping (kmesh's mesh file, or a resource with apiVersion: and kind:)" },
	{ "two mesh files", "services: []\nclusters: []\n---\nservices: []\n",
	  "t.yaml:4: document 2: a second kmesh mesh document (the first is t.yaml:1): the mesh file is one document; merge them into one" },
	{ "mesh file and resources", SE "---\nservices: []\n",
	  "t.yaml:11: kmesh's mesh file and resources with apiVersion/kind (the first: t.yaml:1) in one input: apply one or the other" },
	{ "only empty documents", "---\n# nothing\n---\n",
	  "t.yaml:1: no documents: expected kmesh's mesh file or resources" },
	{ "principals need identities", SE "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - from: [{source: {principals: [\"cluster.local/ns/default/sa/x\"]}}]\n",
	  "t.yaml:16: AuthorizationPolicy p: spec.rules[0].from[0].source.principals: not supported" },
	{ "a policy that selects nothing", SE "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n  selector: {matchLabels: {v: \"2\"}}\n",
	  "t.yaml:15: AuthorizationPolicy p: spec.selector: applies to no service of this input (a policy that protects nothing is an error, not a no-op)" },
	{ "a policy on a tcp service", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db}\nspec:\n  hosts: [db]\n  addresses: [10.96.0.2]\n  ports: [{number: 5432, protocol: TCP}]\n  resolution: STATIC\n"
	  "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec: {}\n",
	  "t.yaml:10: AuthorizationPolicy p: metadata.namespace: applies to db.default.svc.cluster.local, which has no HTTP port (kmesh checks requests on HTTP ports only)" },
	{ "a policy port no endpoint serves", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web}\nspec:\n  hosts: [web]\n  addresses: [10.96.0.1]\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]\n  resolution: STATIC\n  endpoints: [{address: 10.0.0.1}]\n"
	  "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n  action: DENY\n  rules:\n  - to: [{operation: {ports: [\"80\"]}}]\n",
	  "t.yaml:17: AuthorizationPolicy p: spec.rules[0].to[0].operation.ports: no endpoint of web.default.svc.cluster.local serves port 80 (Istio's ports here are the workload's)" },
	{ "fault abort of some requests", SE VS_HEAD("vs") "  - fault: {abort: {httpStatus: 503, percentage: {value: 50}}}\n",
	  "t.yaml:17: VirtualService vs: spec.http[0].fault.abort.percentage.value: only 100 is supported (kmesh aborts every request of the route or none)" },
	{ "DNS resolution", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext}\nspec:\n  hosts: [api.example.com]\n  ports: [{number: 443, protocol: TLS}]\n  resolution: DNS\n",
	  "t.yaml:7: ServiceEntry ext: spec.resolution: DNS: only STATIC is supported (kmesh balances over listed endpoints)" },
	{ "least request", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.loadBalancer.simple: LEAST_REQUEST: not supported (kmesh balances ROUND_ROBIN or RANDOM, or consistentHash.useSourceIp)" },
	{ "connect timeout over a minute", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {connectionPool: {tcp: {connectTimeout: 2m}}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.connectionPool.tcp.connectTimeout: 2m: kmesh takes 1ms..60000ms" },
	{ "connect timeout not a duration", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {connectionPool: {tcp: {connectTimeout: 5}}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.connectionPool.tcp.connectTimeout: expected a duration such as 250ms or 1.5s" },
	{ "outlier: local origin without split", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {outlierDetection: {consecutiveLocalOriginFailures: 2}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: takes effect only with splitExternalLocalOriginErrors: true (as in Envoy)" },
	{ "outlier: deprecated consecutiveErrors", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {outlierDetection: {consecutiveErrors: 2}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.outlierDetection.consecutiveErrors: not supported" },
	{ "outlier: percent over 100", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {outlierDetection: {maxEjectionPercent: 120}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.outlierDetection.maxEjectionPercent: expected an integer 0..100" },
	{ "simple and consistentHash together", SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n  trafficPolicy: {loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}}\n",
	  "t.yaml:16: DestinationRule web: spec.trafficPolicy.loadBalancer: simple and consistentHash together" },
	{ "unknown protocol", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: g}\nspec:\n  hosts: [g]\n  addresses: [10.96.0.3]\n  ports: [{number: 80, protocol: THRIFT}]\n  resolution: STATIC\n",
	  "t.yaml:7: ServiceEntry g: spec.ports[0].protocol: unknown protocol 'THRIFT'" },
	{ "the compiler's error, named by resource", SE VS_HEAD("vs") "  - name: \"bad name!\"\n    route: [{destination: {host: web}}]\n",
	  "t.yaml:17: VirtualService vs: spec.http[0]: as routes[0].http[0].name: expected a name of 1..63 letters, digits, '-', '_' or '.'" },
};

static void test_bad(void)
{
	struct mesh_config cfg;
	char err[768];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tap_begin("istio: refused with file, line, resource and field: %s", bad[i].what);
		err[0] = '\0';
		if (!EXPECT(parse(bad[i].yaml, &cfg, err, sizeof(err)) != 0)) {
			mesh_config_free(&cfg);
			tap_end();
			continue;
		}
		EXPECT_STR_EQ(err, bad[i].error);
		tap_end();
	}
}

static void test_every_document(void)
{
	struct mesh_config cfg;
	char err[768] = "";

	tap_begin("input: empty documents are skipped, every other one is read");
	if (EXPECT_EQ(parse("---\n# only a comment\n---\n" SE "---\n---\n" VS_HEAD("vs")
			    "  - route: [{destination: {host: web}}]\n", &cfg, err, sizeof(err)), 0)) {
		EXPECT_EQ(cfg.nr_services, 1);
		EXPECT_EQ(cfg.nr_routes, 1);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();

	tap_begin("input: the mesh file alone still works, and mesh_config_parse refuses a second document");
	if (EXPECT_EQ(parse("services: []\nclusters: []\n---\n", &cfg, err, sizeof(err)), 0))
		mesh_config_free(&cfg);
	EXPECT(mesh_config_parse("m.yaml", "services: []\n---\nclusters: []\n", 30, &cfg, err, sizeof(err)) != 0);
	EXPECT_STR_EQ(err, "m.yaml:3: a second YAML document: the mesh file is one document (kmeshctl apply -f reads several files and Istio resources: see docs/config.md)");
	tap_end();

	tap_begin("input: kind: List (kubectl get -o yaml) is read item by item");
	if (EXPECT_EQ(parse("apiVersion: v1\nkind: List\nitems:\n"
			    "- apiVersion: networking.istio.io/v1\n  kind: ServiceEntry\n  metadata: {name: a}\n"
			    "  spec: {hosts: [a], addresses: [10.96.0.9], ports: [{number: 80}], resolution: STATIC}\n"
			    "- apiVersion: networking.istio.io/v1\n  kind: ServiceEntry\n  metadata: {name: b}\n"
			    "  spec: {hosts: [b], addresses: [10.96.0.8], ports: [{number: 80}], resolution: STATIC, bogus: 1}\n",
			    &cfg, err, sizeof(err)), -1))
		EXPECT_STR_EQ(err, "t.yaml:11: ServiceEntry b: spec.bogus: unknown field");
	else
		mesh_config_free(&cfg);
	tap_end();
}

static int load_corpus(const char *name, struct mesh_config *cfg, char *err,
		       size_t size)
{
	char path[512];
	const char *p = path;
	const char *slash = strrchr(__FILE__, '/');

	snprintf(path, sizeof(path), "%.*s/../istio/%s",
		 (int)(slash ? slash - __FILE__ : 1), slash ? __FILE__ : ".", name);
	return mesh_input_load(&p, 1, NULL, cfg, err, size);
}

static int cluster(const struct mesh_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nr_clusters; i++)
		if (!strcmp(cfg->clusters[i].name, name))
			return (int)i;
	return -1;
}

static void count_warning(void *arg, const char *msg)
{
	(void)msg;
	(*(int *)arg)++;
}

static void test_authority(void)
{
	struct mesh_config cfg;
	char err[768] = "";

	tap_begin("istio: a match on authority is a match on the Host header");
	if (EXPECT_EQ(parse(SE VS_HEAD("vs") "  - match: [{authority: {exact: web.example.com}, headers: {x-a: {prefix: b}}}]\n"
			    "    route: [{destination: {host: web}}]\n", &cfg, err, sizeof(err)), 0)) {
		const struct mesh_route_match *m = &cfg.routes[0].http[0].match[0];

		EXPECT_EQ(m->nr_headers, 2);
		EXPECT_STR_EQ(m->headers[0].name, "host");
		EXPECT_EQ(m->headers[0].value.kind, MESH_M_EXACT);
		EXPECT_STR_EQ(m->headers[0].value.text, "web.example.com");
		EXPECT_STR_EQ(m->headers[1].name, "x-a");
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();
}

/* HTTP2, GRPC, GRPC-WEB, their appProtocols and port names: http ports. */
static void test_http2_ports(void)
{
	struct mesh_config cfg;
	char err[768] = "";
	size_t i;

	tap_begin("istio: HTTP2, GRPC and GRPC-WEB ports, appProtocol http2/grpc/grpc-web and names http2-*/grpc-* are http ports");
	if (EXPECT_EQ(parse("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: g}\nspec:\n  hosts: [g]\n  addresses: [10.96.0.3]\n"
			    "  ports: [{number: 80, protocol: HTTP2}, {number: 81, protocol: GRPC}, {number: 82, protocol: GRPC-WEB}, {number: 83, protocol: TCP}]\n"
			    "  resolution: STATIC\n  endpoints: [{address: 10.0.0.1}]\n"
			    "---\napiVersion: v1\nkind: Service\nmetadata: {name: k, namespace: default}\nspec:\n  clusterIP: 10.96.0.4\n"
			    "  ports:\n"
			    "  - {name: grpc-api, port: 80}\n"
			    "  - {name: http2, port: 81}\n"
			    "  - {name: web, port: 82, appProtocol: grpc}\n"
			    "  - {name: web2, port: 83, appProtocol: http2}\n"
			    "  - {name: grpcx, port: 84}\n"
			    "  - {name: tcp-grpc, port: 85}\n",
			    &cfg, err, sizeof(err)), 0)) {
		for (i = 0; i < cfg.nr_services; i++) {
			const struct mesh_service *s = &cfg.services[i];

			if (s->nr_ports == 4) {
				EXPECT(s->ports[0].http && s->ports[1].http && s->ports[2].http);
				EXPECT(!s->ports[3].http);
			} else if (EXPECT_EQ(s->nr_ports, 6)) {
				EXPECT(s->ports[0].http && s->ports[1].http &&
				       s->ports[2].http && s->ports[3].http);
				EXPECT(!s->ports[4].http);	/* grpcx: not the grpc prefix */
				EXPECT(!s->ports[5].http);
			}
		}
		EXPECT_EQ(cfg.nr_services, 2);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();
}

static void test_policy_ports(void)
{
	struct mesh_config cfg;
	char err[768] = "";

	tap_begin("istio: a policy's ports are the workload's: they become the service ports served there");
	if (EXPECT_EQ(parse("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web}\nspec:\n  hosts: [web]\n  addresses: [10.96.0.1]\n"
			    "  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}, {number: 8080, name: admin, protocol: HTTP, targetPort: 9090}]\n"
			    "  resolution: STATIC\n  endpoints: [{address: 10.0.0.1}]\n"
			    "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n  action: DENY\n  rules:\n"
			    "  - to: [{operation: {ports: [\"9090\"], notPorts: [\"8080\"]}}]\n    when: [{key: destination.port, values: [\"8080\"]}]\n",
			    &cfg, err, sizeof(err)), 0)) {
		const struct mesh_authz_rule *r = &cfg.authz[0].rules[0];

		EXPECT_EQ(r->to[0].ports.n, 1);
		EXPECT_EQ(r->to[0].ports.v[0], 8080);	/* served on 9090 */
		EXPECT_EQ(r->to[0].not_ports.n, 1);
		EXPECT_EQ(r->to[0].not_ports.v[0], 80);	/* served on 8080 */
		EXPECT_EQ(r->when[0].ports.n, 1);
		EXPECT_EQ(r->when[0].ports.v[0], 80);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();
}

static void test_outlier(void)
{
	struct mesh_config cfg;
	char err[512];

	tap_begin("istio: outlierDetection becomes the cluster's outlier_detection, durations in ms");
	if (EXPECT_EQ(parse(SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n"
			    "  trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2, interval: 5s,\n"
			    "                       baseEjectionTime: 1.5m, maxEjectionPercent: 50, minHealthPercent: 30}\n"
			    "  subsets:\n  - {name: a, labels: {v: \"1\"}, trafficPolicy: {outlierDetection:\n"
			    "      {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4, consecutive5xxErrors: 2}}}\n",
			    &cfg, err, sizeof(err)), 0)) {
		const struct kmesh_outlier_config *o = &cfg.clusters[0].outlier;

		EXPECT_EQ(cfg.nr_clusters, 2);
		EXPECT(cfg.clusters[0].flags & KMESH_CLUSTER_F_OUTLIER);
		EXPECT_EQ(o->consecutive_5xx, 3);
		EXPECT_EQ(o->gateway_errors, 2);
		EXPECT_EQ(o->connect_failures, 0);
		EXPECT_EQ(o->flags, 0);
		EXPECT_EQ(o->interval_ms, 5000);
		EXPECT_EQ(o->base_ejection_ms, 90000);
		EXPECT_EQ(o->max_ejection_ms, 300000);
		EXPECT_EQ(o->max_ejection_percent, 50);
		EXPECT_EQ(o->min_health_percent, 30);
		/* the subset's replaces the rule's whole */
		o = &cfg.clusters[1].outlier;
		EXPECT(cfg.clusters[1].flags & KMESH_CLUSTER_F_OUTLIER);
		EXPECT_EQ(o->flags, KMESH_OUTLIER_F_SPLIT);
		EXPECT_EQ(o->connect_failures, 4);
		/* split: 5xx responses alone, read on receive */
		EXPECT_EQ(o->consecutive_5xx, 2);
		EXPECT_EQ(o->base_ejection_ms, 30000);
		EXPECT_EQ(o->max_ejection_percent, 10);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();
}

static void test_subset_policy(void)
{
	struct mesh_config cfg;
	char err[768] = "";

	tap_begin("istio: a subset's loadBalancer replaces the rule's whole, its connectionPool too");
	if (EXPECT_EQ(parse(SE "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n"
			    "  trafficPolicy:\n    loadBalancer: {consistentHash: {useSourceIp: true}}\n    connectionPool: {tcp: {maxConnections: 7, connectTimeout: 1.5s}}\n"
			    "  subsets:\n  - {name: a, labels: {v: \"1\"}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}\n"
			    "  - {name: b, labels: {v: \"1\"}, trafficPolicy: {connectionPool: {tcp: {}}}}\n",
			    &cfg, err, sizeof(err)), 0)) {
		EXPECT_EQ(cfg.nr_clusters, 3);
		EXPECT_STR_EQ(cfg.clusters[0].name, "web.default");
		EXPECT_EQ(cfg.clusters[0].lb, KMESH_LB_MAGLEV);
		EXPECT_EQ(cfg.clusters[0].max_connections, 7);
		EXPECT_EQ(cfg.clusters[0].connect_timeout_ms, 1500);
		EXPECT_STR_EQ(cfg.clusters[1].name, "web.default_a");
		EXPECT_EQ(cfg.clusters[1].lb, KMESH_LB_RANDOM);
		EXPECT_EQ(cfg.clusters[1].max_connections, 7);
		EXPECT_EQ(cfg.clusters[2].lb, KMESH_LB_MAGLEV);
		EXPECT_EQ(cfg.clusters[2].max_connections, 0);
		EXPECT_EQ(cfg.clusters[2].connect_timeout_ms, 0);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();
}

static void test_locality(void)
{
	static const char yaml[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web}\nspec:\n"
		"  hosts: [web]\n  addresses: [10.96.0.1]\n  ports: [{number: 80, name: tcp, protocol: TCP}]\n"
		"  resolution: STATIC\n  endpoints:\n"
		"  - {address: 10.0.0.1, locality: us-east/us-east-1a}\n"
		"  - {address: 10.0.0.2, locality: eu-west/eu-west-1a}\n"
		"  - {address: 10.0.0.3}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec:\n  host: web\n"
		"  trafficPolicy:\n    loadBalancer:\n      simple: ROUND_ROBIN\n      localityLbSetting:\n"
		"        enabled: true\n        failover: [{from: us-east, to: eu-west}]\n"
		"  subsets:\n  - {name: off, labels: {}, trafficPolicy: {loadBalancer: {localityLbSetting: {enabled: false}}}}\n";
	struct mesh_input_opts opts = { .locality = "us-east/us-east-1b" };
	struct mesh_config cfg;
	char err[768] = "";

	tap_begin("istio: endpoint localities and localityLbSetting failover become locality_lb; --locality is the node's");
	if (EXPECT_EQ(mesh_input_parse("t.yaml", yaml, strlen(yaml), &opts, &cfg, err,
				       sizeof(err)), 0)) {
		EXPECT_STR_EQ(cfg.node_locality, "us-east/us-east-1b");
		EXPECT_EQ(cfg.nr_clusters, 2);
		EXPECT(cfg.clusters[0].locality_lb);
		EXPECT_EQ(cfg.clusters[0].nr_failover, 1);
		if (cfg.clusters[0].nr_failover == 1) {
			EXPECT_STR_EQ(cfg.clusters[0].failover[0].from, "us-east");
			EXPECT_STR_EQ(cfg.clusters[0].failover[0].to, "eu-west");
		}
		EXPECT_EQ(cfg.clusters[0].nr_endpoints, 3);
		EXPECT_STR_EQ(cfg.clusters[0].endpoints[0].locality, "us-east/us-east-1a");
		EXPECT_STR_EQ(cfg.clusters[0].endpoints[2].locality, "");
		/* enabled: false in the subset's own loadBalancer */
		EXPECT(!cfg.clusters[1].locality_lb);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	opts.locality = "us-east//b";
	EXPECT_EQ(mesh_input_parse("t.yaml", yaml, strlen(yaml), &opts, &cfg, err,
				   sizeof(err)), -1);
	EXPECT_STR_EQ(err, "--locality us-east//b: an empty part: write region, region/zone or region/zone/subzone");
	tap_end();
}

static void test_domain(void)
{
	static const char yaml[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web}\nspec:\n"
		"  hosts: [web.default.svc.corp.example]\n  addresses: [10.96.0.1]\n"
		"  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n"
		"  endpoints: [{address: 10.0.0.1}]\n"
		"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n"
		"  hosts: [web]\n  http:\n  - route: [{destination: {host: web}}]\n";
	struct mesh_input_opts opts = { .domain = "corp.example" };
	struct mesh_config cfg;
	char err[768] = "";

	tap_begin("istio: --domain is the cluster domain short names resolve in");
	if (EXPECT_EQ(mesh_input_parse("t.yaml", yaml, strlen(yaml), &opts, &cfg, err,
				       sizeof(err)), 0)) {
		EXPECT_STR_EQ(cfg.services[0].name, "web.default");
		EXPECT_EQ(cfg.nr_routes, 1);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	/* the default domain does not make "web" that host */
	EXPECT_EQ(mesh_input_parse("t.yaml", yaml, strlen(yaml), NULL, &cfg, err,
				   sizeof(err)), -1);
	opts.domain = "Corp.example";
	EXPECT_EQ(mesh_input_parse("t.yaml", yaml, strlen(yaml), &opts, &cfg, err,
				   sizeof(err)), -1);
	EXPECT_STR_EQ(err, "--domain Corp.example: only a-z 0-9 - and dots (lower case, as Kubernetes writes it)");
	tap_end();
}

static void test_corpus(void)
{
	struct mesh_config cfg;
	char err[768] = "";
	int warned = 0;

	tap_begin("corpus: bookinfo.yaml: subsets by labels, a header route, a 50/50 split");
	if (EXPECT_EQ(load_corpus("bookinfo.yaml", &cfg, err, sizeof(err)), 0)) {
		int v1 = cluster(&cfg, "reviews.default_v1"), v2 = cluster(&cfg, "reviews.default_v2"),
		    v3 = cluster(&cfg, "reviews.default_v3");

		EXPECT(v1 >= 0 && v2 >= 0 && v3 >= 0);
		EXPECT_EQ(cfg.nr_clusters, 4);
		EXPECT_EQ(cfg.clusters[v2].nr_endpoints, 1);
		EXPECT_EQ(cfg.clusters[v1].lb, KMESH_LB_RANDOM);	/* the rule's */
		EXPECT_EQ(cfg.clusters[v2].lb, KMESH_LB_ROUND_ROBIN);	/* the subset's */
		EXPECT_EQ(cfg.nr_routes, 1);
		EXPECT_EQ(cfg.routes[0].nr_http, 2);
		EXPECT_STR_EQ(cfg.routes[0].http[0].name, "jason");
		EXPECT_STR_EQ(cfg.routes[0].http[0].match[0].headers[0].name, "end-user");
		EXPECT_EQ(cfg.routes[0].http[0].dests[0].cluster, v2);
		EXPECT_EQ(cfg.routes[0].http[1].nr_dests, 2);
		EXPECT_EQ(cfg.routes[0].http[1].dests[1].cluster, v3);
		EXPECT_EQ(cfg.routes[0].http[1].dests[1].weight, 50);
		/* fallback mode: the header route's cluster and the split */
		EXPECT_EQ(mesh_fallback_unenforced(&cfg, count_warning, &warned), 2);
		EXPECT_EQ(warned, 2);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();

	tap_begin("corpus: canary.yaml: targetPort, weights, maglev, maxConnections, abort, direct response");
	if (EXPECT_EQ(load_corpus("canary.yaml", &cfg, err, sizeof(err)), 0)) {
		int c = cluster(&cfg, "ratings.shop_canary"), s = cluster(&cfg, "ratings.shop_stable");

		EXPECT(c >= 0 && s >= 0);
		EXPECT_EQ(cfg.clusters[c].lb, KMESH_LB_MAGLEV);
		EXPECT_EQ(cfg.clusters[s].lb, KMESH_LB_WEIGHTED);
		EXPECT_EQ(cfg.clusters[s].max_connections, 100);
		EXPECT_EQ(cfg.clusters[s].endpoints[0].port, 9080);
		EXPECT_EQ(cfg.clusters[s].endpoints[0].weight, 3);
		EXPECT_EQ(cfg.services[0].ports[0].port, 80);
		EXPECT_EQ(cfg.routes[0].http[0].action, KMESH_RT_A_DIRECT);
		EXPECT_EQ(cfg.routes[0].http[0].status, 200);
		EXPECT_EQ(cfg.routes[0].http[1].action, KMESH_RT_A_DENY);
		EXPECT_EQ(cfg.routes[0].http[1].status, 503);
		EXPECT_EQ(cfg.routes[0].http[2].nr_match, 2);
		EXPECT_EQ(cfg.routes[0].http[3].dests[0].weight, 90);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();

	tap_begin("corpus: policies.yaml: workloadSelector, namespace-wide ALLOW, selected DENY");
	if (EXPECT_EQ(load_corpus("policies.yaml", &cfg, err, sizeof(err)), 0)) {
		EXPECT_EQ(cfg.clusters[0].nr_endpoints, 2);
		EXPECT_EQ(cfg.clusters[0].lb, KMESH_LB_WEIGHTED);
		EXPECT_EQ(cfg.nr_authz, 2);
		EXPECT_EQ(cfg.authz[0].action, MESH_AUTHZ_ALLOW);
		EXPECT_EQ(cfg.authz[0].nr_rules, 2);
		EXPECT_EQ(cfg.authz[0].rules[0].to[0].paths.n, 3);
		EXPECT_EQ(cfg.authz[1].action, MESH_AUTHZ_DENY);
		EXPECT_EQ(cfg.authz[1].rules[0].from[0].not_ip_blocks.n, 1);
		EXPECT_EQ(cfg.authz[1].rules[1].when[0].key, MESH_WHEN_HEADER);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();

	tap_begin("corpus: kubernetes.yaml: kubectl's List of Service, EndpointSlice, Pods; subsets by Pod labels; a cluster per port");
	if (EXPECT_EQ(load_corpus("kubernetes.yaml", &cfg, err, sizeof(err)), 0)) {
		int v2 = cluster(&cfg, "details.default-9080_v2"), m = cluster(&cfg, "details.default-15090");

		EXPECT(v2 >= 0 && m >= 0);
		EXPECT_EQ(cfg.nr_clusters, 6);
		EXPECT_EQ(cfg.services[0].nr_ports, 2);
		EXPECT_EQ(cfg.services[0].ports[0].http, 1);
		EXPECT_EQ(cfg.services[0].ports[1].http, 0);
		EXPECT_EQ(cfg.services[0].ports[1].cluster, m);
		EXPECT_EQ(cfg.clusters[m].endpoints[0].port, 9090);	/* named targetPort */
		EXPECT_EQ(cfg.clusters[v2].nr_endpoints, 1);
		EXPECT_EQ(cfg.clusters[v2].endpoints[0].state, KMESH_EP_DRAINING);	/* not ready */
		EXPECT_EQ(cfg.routes[0].http[0].dests[0].cluster, v2);
		mesh_config_free(&cfg);
	} else {
		tap_diag("%s", err);
	}
	tap_end();

	tap_begin("corpus: the directory at once");
	{
		char dir[512];
		const char *p = dir, *slash = strrchr(__FILE__, '/');

		snprintf(dir, sizeof(dir), "%.*s/../istio", (int)(slash - __FILE__), __FILE__);
		if (EXPECT_EQ(mesh_input_load(&p, 1, NULL, &cfg, err, sizeof(err)), 0)) {
			EXPECT_EQ(cfg.nr_services, 4);
			EXPECT_EQ(cfg.nr_routes, 3);
			mesh_config_free(&cfg);
		} else {
			tap_diag("%s", err);
		}
	}
	tap_end();
}

int main(void)
{
	tap_header();
	test_every_document();
	test_bad();
	test_outlier();
	test_subset_policy();
	test_locality();
	test_domain();
	test_policy_ports();
	test_http2_ports();
	test_authority();
	test_corpus();
	return tap_finish();
}

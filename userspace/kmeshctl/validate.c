// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmeshctl validate (and apply --dry-run): read and compile the input as
 * apply would, without the kernel or any privilege; --explain prints what
 * it became in kmesh's terms.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmeshctl.h"
#include "pipeline.h"
#include "stage_clock.h"

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
	"TRACE", "PATCH",
};

static void print_pattern(const char *what, const struct mesh_pattern *p)
{
	static const char *const kinds[] = {
		"exact", "prefix", "segment_prefix", "suffix", "template",
		"present", "absent" };

	printf(" %s %s%s%s", what, p->kind < 7 ? kinds[p->kind] : "?",
	       p->text ? " " : "", p->text ? p->text : "");
}

static void print_methods(const char *what, __u32 mask)
{
	size_t m;

	for (m = 0; m < sizeof(method_names) / sizeof(method_names[0]); m++)
		if (mask & KMESH_RT_METHOD_BIT(m + 1))
			printf(" %s %s", what, method_names[m]);
}

static void print_patterns(const char *what, const struct mesh_pattern_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		print_pattern(what, &l->v[i]);
}

static void print_ports(const char *what, const struct mesh_port_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		printf(" %s %u", what, l->v[i]);
}

static void print_cidrs(const char *what, const struct mesh_cidr_list *l)
{
	char a[64];
	size_t i;

	for (i = 0; i < l->n; i++) {
		mesh_addr_format(l->v[i].addr, 0, false, a, sizeof(a));
		printf(" %s %s/%u", what, a,
		       mesh_addr_is_v4(l->v[i].addr) ? l->v[i].bits - 96 : l->v[i].bits);
	}
}

/* One line per rule: its sources, operations and conditions. */
static void explain_rule(size_t n, const struct mesh_authz_rule *r)
{
	static const char *const keys[] = {
		"request.headers", "source.ip", "destination.ip", "destination.port" };
	size_t i;

	printf("  rule %zu:", n);
	if (!r->nr_from && !r->nr_to && !r->nr_when)
		printf(" any request");
	for (i = 0; i < r->nr_from; i++) {
		printf("%s", i ? " | from" : " from");
		print_cidrs("ip", &r->from[i].ip_blocks);
		print_cidrs("not-ip", &r->from[i].not_ip_blocks);
	}
	for (i = 0; i < r->nr_to; i++) {
		const struct mesh_authz_operation *o = &r->to[i];

		printf("%s", i ? " | to" : " to");
		print_methods("method", o->methods);
		print_methods("not-method", o->not_methods);
		print_patterns("path", &o->paths);
		print_patterns("not-path", &o->not_paths);
		print_patterns("host", &o->hosts);
		print_patterns("not-host", &o->not_hosts);
		print_ports("port", &o->ports);
		print_ports("not-port", &o->not_ports);
	}
	for (i = 0; i < r->nr_when; i++) {
		const struct mesh_authz_when *w = &r->when[i];

		printf(" when %s", w->key < 4 ? keys[w->key] : "?");
		if (w->key == MESH_WHEN_HEADER)
			printf("[%s]", w->header);
		print_patterns("in", &w->values);
		print_patterns("not-in", &w->not_values);
		print_cidrs("in", &w->cidrs);
		print_cidrs("not-in", &w->not_cidrs);
		print_ports("in", &w->ports);
		print_ports("not-in", &w->not_ports);
	}
	printf("\n");
}

static void explain(const struct mesh_config *cfg)
{
	char a[64];
	size_t i, j, k, m;

	for (i = 0; i < cfg->nr_services; i++) {
		const struct mesh_service *s = &cfg->services[i];

		printf("service %s:", s->name);
		for (j = 0; j < s->nr_addrs; j++) {
			mesh_addr_format(s->addrs[j], 0, false, a, sizeof(a));
			printf(" %s", a);
		}
		printf("\n");
		if (s->request_limit.interval_ns)
			printf("  rate_limit requests: 1 per %llu ns, burst %u%s\n",
			       (unsigned long long)s->request_limit.interval_ns,
			       s->request_limit.burst,
			       s->request_limit.per_source ? ", per source" : "");
		for (j = 0; j < s->nr_ports; j++)
			printf("  port %u %s -> cluster %s\n", s->ports[j].port,
			       s->ports[j].http ? "http" : "tcp",
			       cfg->clusters[s->ports[j].cluster].name);
	}
	for (i = 0; i < cfg->nr_clusters; i++) {
		const struct mesh_cluster *c = &cfg->clusters[i];

		printf("cluster %s: lb %s", c->name, mesh_lb_name(c->lb));
		if (c->max_connections)
			printf(", max_connections %u", c->max_connections);
		if (c->locality_lb) {
			printf(", locality_lb");
			for (j = 0; j < c->nr_failover; j++)
				printf(" %s->%s", c->failover[j].from, c->failover[j].to);
		}
		printf(", %zu endpoints\n", c->nr_endpoints);
		for (j = 0; j < c->nr_endpoints; j++) {
			const struct mesh_endpoint *e = &c->endpoints[j];

			mesh_addr_format(e->addr, e->port, e->port != 0, a, sizeof(a));
			printf("  endpoint %s weight %u%s", a, e->weight,
			       e->state == KMESH_EP_DRAINING ? " draining" : "");
			if (e->priority)
				printf(" priority %u", e->priority);
			if (e->locality[0])
				printf(" locality %s", e->locality);
			if (c->locality_lb && cfg->node_locality[0])
				printf(" (tier %u)",
				       mesh_locality_tier(cfg->node_locality, e->locality,
							  c->failover, c->nr_failover));
			printf("\n");
		}
	}
	for (i = 0; i < cfg->nr_routes; i++) {
		const struct mesh_routes *rt = &cfg->routes[i];

		printf("routes of service %s (hosts", cfg->services[rt->service].name);
		for (j = 0; j < rt->nr_hosts; j++)
			printf(" %s", rt->hosts[j]);
		printf("):\n");
		for (j = 0; j < rt->nr_http; j++) {
			const struct mesh_http_route *r = &rt->http[j];

			printf("  route %s:", r->name);
			if (!r->nr_match)
				printf(" (default)");
			for (k = 0; k < r->nr_match; k++) {
				const struct mesh_route_match *mt = &r->match[k];

				printf("%s", k ? " | match" : " match");
				if (mt->has_uri)
					print_pattern("uri", &mt->uri);
				print_methods("method", mt->methods);
				for (m = 0; m < mt->nr_headers; m++)
					print_pattern(mt->headers[m].name, &mt->headers[m].value);
				for (m = 0; m < mt->nr_query; m++)
					printf(" query %s=%s", mt->query[m].name, mt->query[m].value);
			}
			if (r->action == KMESH_RT_A_DENY)
				printf(" -> deny %u\n", r->status);
			else if (r->action == KMESH_RT_A_DIRECT)
				printf(" -> direct_response %u (%zu bytes)\n", r->status, r->body_len);
			else {
				printf(" ->");
				for (k = 0; k < r->nr_dests; k++)
					printf(" %s weight %u", cfg->clusters[r->dests[k].cluster].name,
					       r->dests[k].weight);
				if (r->rate_limit.interval_ns)
					printf("; rate_limit 1 per %llu ns, burst %u%s",
					       (unsigned long long)r->rate_limit.interval_ns,
					       r->rate_limit.burst,
					       r->rate_limit.per_source ? ", per source" : "");
				if (r->rate_limit.replaces_service)
					printf("; the service's rate_limit skipped");
				printf("\n");
			}
		}
	}
	for (i = 0; i < cfg->nr_authz; i++) {
		const struct mesh_authz *az = &cfg->authz[i];

		printf("policy %s of service %s: %s, %zu rules\n", az->name,
		       cfg->services[az->service].name,
		       az->action == MESH_AUTHZ_DENY ? "DENY" : "ALLOW", az->nr_rules);
		for (j = 0; j < az->nr_rules; j++)
			explain_rule(j, &az->rules[j]);
	}
}

static void warn_line(void *arg, const char *msg)
{
	fprintf(stderr, "kmeshctl: %s: %s\n", (const char *)arg, msg);
}

int check_inputs(const char *const *files, size_t nr_files,
		 const struct mesh_input_opts *opts, bool explain_it,
		 const char *mode, bool strict, bool compile,
		 struct mesh_config *cfg)
{
	struct mesh_generation gen;
	struct mesh_docs docs;
	char err[768];
	size_t n;
	int rc;

	/* read -> model */
	rc = pipeline_read(files, nr_files, &docs, err, sizeof(err));
	if (!rc)
		rc = pipeline_model(&docs, opts, cfg, err, sizeof(err));
	mesh_input_free(&docs);
	if (rc) {
		fprintf(stderr, "kmeshctl: %s\n", err);
		return 1;
	}
	/* -> compile, without the kernel: everything apply computes before bpf() */
	if (compile) {
		rc = pipeline_compile(cfg, false, &gen, err, sizeof(err));
		mesh_generation_free(&gen);
		if (rc) {
			fprintf(stderr, "kmeshctl: %s: %s\n", files[0], err);
			mesh_config_free(cfg);
			return 1;
		}
	}
	if (explain_it)
		explain(cfg);
	if (mode && !strcmp(mode, "fallback")) {
		n = mesh_fallback_unenforced(cfg, warn_line,
					     strict ? "error" : "warning");
		if (n && strict) {
			fprintf(stderr, "kmeshctl: %zu routes are not enforced in fallback mode (--strict)\n", n);
			mesh_config_free(cfg);
			return 1;
		}
	}
	/* the model stage with what it took besides (the documents' tree
	 * freed, the mode's warnings) */
	stage_mark(STAGE_MODEL);
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "explain", no_argument, NULL, 'e' },
		{ "mode", required_argument, NULL, 'm' },
		{ "strict", no_argument, NULL, 's' },
		{ "locality", required_argument, NULL, 'l' },
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static const char usage[] =
		"usage: kmeshctl validate -f FILE|DIR|- [-f ...] [--explain] [--mode kfunc|fallback] [--strict]\n"
		"                         [--locality REGION[/ZONE[/SUBZONE]]] [--domain CLUSTER_DOMAIN]\n";
	struct mesh_input_opts in_opts = {};
	const char *files[64], *mode = NULL;
	struct mesh_config cfg;
	size_t nr = 0;
	bool ex = false, strict = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (nr == 64) {
				fprintf(stderr, "kmeshctl: more than 64 -f\n");
				return 2;
			}
			files[nr++] = optarg;
			break;
		case 'e':
			ex = true;
			break;
		case 'm':
			if (strcmp(optarg, "kfunc") && strcmp(optarg, "fallback")) {
				fprintf(stderr, "kmeshctl: --mode: kfunc or fallback\n");
				return 2;
			}
			mode = optarg;
			break;
		case 's':
			strict = true;
			break;
		case 'l':
			in_opts.locality = optarg;
			break;
		case 'd':
			in_opts.domain = optarg;
			break;
		case 'h':
			printf("%s", usage);
			return 0;
		default:
			return 2;
		}
	}
	if (!nr || optind != argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	rc = check_inputs(files, nr, &in_opts, ex, mode, strict, true, &cfg);
	if (rc)
		return rc;
	printf("valid: %zu services, %zu clusters, %zu routes, %zu policies\n",
	       cfg.nr_services, cfg.nr_clusters, cfg.nr_routes, cfg.nr_authz);
	mesh_config_free(&cfg);
	return 0;
}

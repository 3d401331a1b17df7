// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the mesh config compiler: YAML text through
 * mesh_input_parse() (every document: kmesh's mesh file, or Istio
 * resources translated by istio.c) and then everything `kmeshctl apply` builds before
 * it touches the kernel: the L4 generation (l4_build), and for each
 * service with L7 rules its policy and CIDR entries (l7_build_policy)
 * and its route table blob (l7_build_table), with the ids the generation
 * gave, as l7_compile() does.
 *
 * Input: the file, as is. Besides memory safety (ASan, UBSan), checks:
 *  - a refused file gets "f.yaml:LINE: what", LINE within the file;
 *  - an accepted file builds (parsing already compiled it once with
 *    stand-in ids, so no build step may fail afterwards), and every route
 *    table passes kmesh_route_validate(), the check the module runs on
 *    /dev/kmesh before it takes a table;
 *  - parsing and building a second time gives the same bytes, so an
 *    apply of an unchanged file changes nothing;
 *  - what apply installs, the parse's one compile with the generation's
 *    ids bound (l7_policy_of, l7_table_of), is byte for byte a compile
 *    with those ids.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/route.h"
#include "fuzz_check.h"
#include "l4_build.h"
#include "l7_build.h"
#include "mesh_config.h"
#include "mesh_input.h"

#define FILE_NAME	"f.yaml"

/* memcmp() may not take NULL, even for 0 bytes: empty arrays are NULL. */
#define SAME(a, b, n)	CHECK(!(n) || !memcmp((a), (b), (n) * sizeof(*(a))))

struct l7_out {
	__u32 service_id;
	struct kmesh_l7_policy policy;
	void *blob;		/* NULL: no routes */
	__u32 len;
};

/* What one apply of the file would write. */
struct build {
	struct mesh_config cfg;
	struct l4_gen gen;
	struct l7_out *l7;
	size_t nr_l7;
	struct l7_cidrs cidrs;
};

static void build_free(struct build *b)
{
	size_t i;

	for (i = 0; i < b->nr_l7; i++)
		free(b->l7[i].blob);
	free(b->l7);
	l7_cidrs_free(&b->cidrs);
	l4_gen_free(&b->gen);
	mesh_config_free(&b->cfg);
}

/*
 * Lines of the file as YAML counts them: CR, LF, CR LF, and NEL, LS and
 * PS (U+0085, U+2028, U+2029) each end one.
 */
static size_t yaml_lines(const uint8_t *d, size_t size)
{
	size_t lines = 1, i;

	for (i = 0; i < size; i++) {
		if (d[i] == '\r' || (d[i] == '\n' && (!i || d[i - 1] != '\r')))
			lines++;
		else if (d[i] == 0xc2 && i + 1 < size && d[i + 1] == 0x85)
			lines++;
		else if (d[i] == 0xe2 && i + 2 < size && d[i + 1] == 0x80 &&
			 (d[i + 2] == 0xa8 || d[i + 2] == 0xa9))
			lines++;
	}
	return lines;
}

/* "f.yaml:LINE: message", 1 <= LINE <= lines of the file + 1. */
static void check_error(const char *err, const uint8_t *data, size_t size)
{
	size_t prefix = strlen(FILE_NAME ":"), lines = yaml_lines(data, size);
	unsigned long line;
	char *end;

	if (strncmp(err, FILE_NAME ":", prefix)) {
		fprintf(stderr, "error without the file name: \"%s\"\n", err);
		abort();
	}
	line = strtoul(err + prefix, &end, 10);
	if (end == err + prefix || line < 1 || line > lines + 1 ||
	    strncmp(end, ": ", 2) || !end[2]) {
		fprintf(stderr, "error without a line in 1..%zu and a message: \"%s\"\n",
			lines + 1, err);
		abort();
	}
}

/*
 * What apply installs (l7_policy_of(), l7_table_of(): the parse's compile
 * with the generation's ids bound) is byte for byte what compiling again
 * with those ids gives.
 */
static void check_bound(const struct mesh_config *cfg, int svc, __u32 sid,
			const __u32 *cluster_ids, const struct l7_out *o,
			struct l7_cidrs *bound_cidrs)
{
	static struct kmesh_l7_policy pol;
	struct l7_check_err ce;
	void *blob;
	__u32 len;

	CHECK(!l7_policy_of(cfg, svc, sid, &pol, bound_cidrs, &ce));
	CHECK(!memcmp(&pol, &o->policy, sizeof(pol)));
	if (!l7_routes_of(cfg, svc))
		return;
	CHECK(!l7_table_of(cfg, svc, sid, cluster_ids, &blob, &len, &ce));
	CHECK(len == o->len && !memcmp(blob, o->blob, len));
	free(blob);
}

static void build_l7(struct build *b)
{
	const struct mesh_config *cfg = &b->cfg;
	struct l7_cidrs bound_cidrs = {};
	struct l7_check_err ce;
	__u32 *cluster_ids;
	size_t i;

	cluster_ids = calloc(cfg->nr_clusters + 1, sizeof(*cluster_ids));
	b->l7 = calloc(cfg->nr_services + 1, sizeof(*b->l7));
	CHECK(cluster_ids && b->l7);
	for (i = 0; i < cfg->nr_clusters; i++) {
		cluster_ids[i] = l4_gen_id(&b->gen, KMESH_L4_KIND_CLUSTER,
					   cfg->clusters[i].name);
		CHECK(cluster_ids[i]);
	}
	for (i = 0; i < cfg->nr_services; i++) {
		struct l7_out *o = &b->l7[b->nr_l7];
		__u32 sid = l4_gen_id(&b->gen, KMESH_L4_KIND_SERVICE,
				      cfg->services[i].name);

		CHECK(sid);
		if (!l7_service_has_rules(cfg, (int)i))
			continue;
		b->nr_l7++;
		o->service_id = sid;
		if (l7_build_policy(cfg, (int)i, sid, &o->policy, &b->cidrs, &ce)) {
			fprintf(stderr, "policy of an accepted file: line %d %s: %s\n",
				ce.line, ce.path, ce.msg);
			abort();
		}
		CHECK(o->policy.service_id == sid);
		if (!l7_routes_of(cfg, (int)i))
			continue;
		if (l7_build_table(cfg, (int)i, sid, cluster_ids, &o->blob,
				   &o->len, &ce)) {
			fprintf(stderr, "table of an accepted file: line %d %s: %s\n",
				ce.line, ce.path, ce.msg);
			abort();
		}
		if (kmesh_route_validate(o->blob, o->len)) {
			fprintf(stderr, "service %zu: the module would refuse its table: %s\n",
				i, kmesh_route_strerror(-kmesh_route_validate(o->blob, o->len)));
			abort();
		}
	}
	for (i = 0; i < b->nr_l7; i++) {
		size_t k;

		for (k = 0; k < cfg->nr_services; k++)
			if (l4_gen_id(&b->gen, KMESH_L4_KIND_SERVICE,
				      cfg->services[k].name) == b->l7[i].service_id)
				break;
		CHECK(k < cfg->nr_services);
		check_bound(cfg, (int)k, b->l7[i].service_id, cluster_ids,
			    &b->l7[i], &bound_cidrs);
	}
	CHECK(bound_cidrs.n == b->cidrs.n);
	SAME(bound_cidrs.v, b->cidrs.v, bound_cidrs.n);
	l7_cidrs_free(&bound_cidrs);
	free(cluster_ids);
}

/* 0: refused (checked), 1: built into @b. */
static int build(struct build *b, const uint8_t *data, size_t size)
{
	char err[768] = "";

	memset(b, 0, sizeof(*b));
	if (mesh_input_parse(FILE_NAME, (const char *)data, size, NULL,
			     &b->cfg, err, sizeof(err))) {
		check_error(err, data, size);
		return 0;
	}
	if (l4_build(&b->cfg, NULL, 0, 1, &b->gen, err, sizeof(err))) {
		fprintf(stderr, "l4_build of an accepted file: %s\n", err);
		abort();
	}
	build_l7(b);
	return 1;
}


static void check_same(const struct build *x, const struct build *y)
{
	const struct l4_gen *g = &x->gen, *h = &y->gen;
	size_t i;

	CHECK(g->nr_vips == h->nr_vips && g->nr_clusters == h->nr_clusters &&
	      g->nr_eps == h->nr_eps && g->nr_maglev == h->nr_maglev &&
	      g->nr_ids == h->nr_ids && g->nr_fresh == h->nr_fresh &&
	      g->nr_evicted == h->nr_evicted);
	SAME(g->vips, h->vips, g->nr_vips);
	SAME(g->clusters, h->clusters, g->nr_clusters);
	SAME(g->eps, h->eps, g->nr_eps);
	SAME(g->ids, h->ids, g->nr_ids);
	SAME(g->fresh, h->fresh, g->nr_fresh);
	for (i = 0; i < g->nr_maglev; i++) {
		CHECK(g->maglev[i].cluster_id == h->maglev[i].cluster_id);
		SAME(g->maglev[i].table, h->maglev[i].table, 1);
	}
	CHECK(x->nr_l7 == y->nr_l7 && x->cidrs.n == y->cidrs.n);
	SAME(x->cidrs.v, y->cidrs.v, x->cidrs.n);
	for (i = 0; i < x->nr_l7; i++) {
		const struct l7_out *a = &x->l7[i], *b = &y->l7[i];

		CHECK(a->service_id == b->service_id);
		SAME(&a->policy, &b->policy, 1);
		CHECK(a->len == b->len && !a->blob == !b->blob);
		if (a->blob)
			CHECK(!memcmp(a->blob, b->blob, a->len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct build first, second;

	if (!build(&first, data, size))
		return 0;
	CHECK(build(&second, data, size));
	check_same(&first, &second);
	build_free(&first);
	build_free(&second);
	return 0;
}

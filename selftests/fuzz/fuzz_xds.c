// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for kmesh-agent's xDS translation: what a management
 * server sends, through the agent's decoding (xds_decode) and translation
 * (xds_translate) into the mesh model, then the compile steps of
 * `kmeshctl apply` that need no kernel (l7_check, l4_build), as the agent
 * hands the model to pipeline_compile() and pipeline_install().
 *
 * Input: up to 8 frames, each a little-endian u16 length and that many
 * bytes of a serialized DiscoveryResponse; frames are handled in order
 * like the responses of one stream (a refused one leaves the type's
 * previous set in place). Seeds: the test mesh's scenarios
 * (selftests/xds/fixtures.py fuzz-seeds, generated at build time).
 * Besides memory safety (ASan, UBSan), checks:
 *  - a refused update says why, naming a resource ("Cluster '...", ...);
 *  - a waiting one says what it waits for;
 *  - an accepted model is consistent: every index points into its array;
 *  - an EDS update the agent takes alone (xds_translate_eds() on the model
 *    it applied last) gives what the whole translation of the same state
 *    gives: the same clusters, or the same error.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "envoy/service/discovery/v3/discovery.pb-c.h"
#include "fuzz_check.h"
#include "l4_build.h"
#include "l7_build.h"
#include "xds_translate.h"

static void check_model(const struct mesh_config *cfg)
{
	size_t i, j, k;

	for (i = 0; i < cfg->nr_services; i++)
		for (j = 0; j < cfg->services[i].nr_ports; j++)
			CHECK(cfg->services[i].ports[j].cluster >= 0 &&
			      (size_t)cfg->services[i].ports[j].cluster < cfg->nr_clusters);
	for (i = 0; i < cfg->nr_routes; i++) {
		CHECK((size_t)cfg->routes[i].service < cfg->nr_services);
		CHECK(cfg->routes[i].nr_hosts > 0);
		for (j = 0; j < cfg->routes[i].nr_http; j++)
			for (k = 0; k < cfg->routes[i].http[j].nr_dests; k++)
				CHECK((size_t)cfg->routes[i].http[j].dests[k].cluster <
				      cfg->nr_clusters);
	}
	for (i = 0; i < cfg->nr_authz; i++)
		CHECK((size_t)cfg->authz[i].service < cfg->nr_services);
}

static void check_same_clusters(const struct mesh_config *a, const struct mesh_config *b)
{
	size_t i, j;

	CHECK(a->nr_clusters == b->nr_clusters);
	for (i = 0; i < a->nr_clusters && i < b->nr_clusters; i++) {
		const struct mesh_cluster *x = &a->clusters[i], *y = &b->clusters[i];

		CHECK(!strcmp(x->name, y->name) && x->lb == y->lb && x->flags == y->flags &&
		      x->max_connections == y->max_connections &&
		      x->connect_timeout_ms == y->connect_timeout_ms &&
		      x->nr_endpoints == y->nr_endpoints);
		for (j = 0; j < x->nr_endpoints && j < y->nr_endpoints; j++) {
			const struct mesh_endpoint *e = &x->endpoints[j], *f = &y->endpoints[j];

			CHECK(!memcmp(e->addr, f->addr, sizeof(e->addr)) && e->port == f->port &&
			      e->weight == f->weight && e->state == f->state &&
			      e->priority == f->priority && !strcmp(e->locality, f->locality));
		}
	}
}

static bool names_resource(const char *err)
{
	static const char *const kinds[] = {
		"Cluster '", "ClusterLoadAssignment '", "Listener '",
		"RouteConfiguration '", "resources[",
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(err, kinds[i], strlen(kinds[i])))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xds_state st = {};
	/* the model of the last update the agent would have applied */
	struct mesh_config model = {};
	bool model_valid = false;
	size_t off = 0;
	int frames = 0, t;

	while (off + 2 <= size && frames++ < 8) {
		size_t len = data[off] | (size_t)data[off + 1] << 8;
		Envoy__Service__Discovery__V3__DiscoveryResponse *resp;
		struct xds_set next = {}, prev;
		struct mesh_config cfg;
		char err[1024] = "";
		int rc;

		off += 2;
		if (len > size - off)
			len = size - off;
		resp = envoy__service__discovery__v3__discovery_response__unpack(NULL, len,
										 data + off);
		off += len;
		if (!resp)
			continue;
		t = xds_type_from_url(resp->type_url);
		if (t < 0 || xds_decode(t, resp->resources, resp->n_resources,
					&st.set[t], &next, err, sizeof(err))) {
			CHECK(t < 0 || err[0]);
			envoy__service__discovery__v3__discovery_response__free_unpacked(resp, NULL);
			continue;
		}
		prev = st.set[t];
		st.set[t] = next;
		rc = xds_translate(&st, &cfg, err, sizeof(err));
		if (t == XDS_EDS && model_valid) {
			struct xds_eds_swap swap;
			char eds_err[1024] = "";
			int eds_rc = xds_translate_eds(&st, &prev, &model, &swap, eds_err,
						       sizeof(eds_err));

			if (eds_rc == XDS_T_ERROR) {
				CHECK(rc == XDS_T_ERROR && !strcmp(err, eds_err));
			} else if (eds_rc == XDS_T_OK) {
				CHECK(rc == XDS_T_OK);
				if (rc == XDS_T_OK)
					check_same_clusters(&model, &cfg);
				xds_eds_commit(&swap);
			}
		}
		if (rc != XDS_T_OK) {
			/* a NACK keeps the model; an update accepted without
			 * an apply drops it */
			if (rc == XDS_T_WAITING) {
				mesh_config_free(&model);
				model_valid = false;
			}
		}
		if (rc == XDS_T_ERROR) {
			CHECK(names_resource(err) || !strcmp(err, "out of memory"));
			st.set[t] = prev;
			xds_set_free(&next);
		} else {
			if (rc == XDS_T_WAITING) {
				CHECK(!strncmp(err, "waiting for ", 12));
			} else {
				struct l7_check_err ce;
				struct l4_gen gen = {};

				check_model(&cfg);
				/* Either may refuse (the agent NACKs then); neither
				 * may crash. */
				mesh_config_free(&model);
				model_valid = false;
				if (!l7_check(&cfg, &ce) &&
				    !l4_build(&cfg, NULL, 0, 1, &gen, err, sizeof(err))) {
					/* applied: the agent keeps its model */
					model = cfg;
					model_valid = true;
				} else {
					mesh_config_free(&cfg);
				}
				l4_gen_free(&gen);
			}
			xds_set_free(&prev);
			st.received[t] = true;
		}
		envoy__service__discovery__v3__discovery_response__free_unpacked(resp, NULL);
	}
	for (t = 0; t < XDS_NR_TYPES; t++)
		xds_set_free(&st.set[t]);
	mesh_config_free(&model);
	return 0;
}

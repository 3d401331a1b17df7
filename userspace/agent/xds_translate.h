/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xDS resources (Envoy v3: Cluster, ClusterLoadAssignment, Listener,
 * RouteConfiguration) kept as the server sent them, and their translation
 * into the mesh model (mesh_config.h) that `kmeshctl apply` compiles too.
 * What the model cannot express is refused with an error naming the
 * resource and the field; docs/xds.md has the table.
 */
#ifndef KMESH_AGENT_XDS_TRANSLATE_H
#define KMESH_AGENT_XDS_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "mesh_config.h"

enum xds_type {
	XDS_CDS,	/* envoy.config.cluster.v3.Cluster */
	XDS_EDS,	/* envoy.config.endpoint.v3.ClusterLoadAssignment */
	XDS_LDS,	/* envoy.config.listener.v3.Listener */
	XDS_RDS,	/* envoy.config.route.v3.RouteConfiguration */
	XDS_NR_TYPES,
};

struct xds_resource {
	char *name;
	ProtobufCMessage *msg;
};

/* The resources of one type, as one state-of-the-world response left them. */
struct xds_set {
	struct xds_resource *v;
	size_t n;
};

struct xds_state {
	struct xds_set set[XDS_NR_TYPES];
	bool received[XDS_NR_TYPES];	/* a response of this type was accepted */
};

const char *xds_type_url(enum xds_type t);
const char *xds_type_short(enum xds_type t);	/* "Cluster", ... */
/* -1 when @url is none of the four. */
int xds_type_from_url(const char *url);

#include "google/protobuf/any.pb-c.h"
/* Unpack a response's resources (type and duplicate names checked). */
int xds_decode(enum xds_type t, Google__Protobuf__Any *const *res,
	       size_t n, struct xds_set *out, char *err, size_t err_size);
void xds_set_free(struct xds_set *s);

/* The EDS (ClusterLoadAssignment) or RDS (RouteConfiguration) names the
 * accepted clusters and listeners refer to, sorted, unique; malloc'd. */
int xds_wanted_names(const struct xds_state *st, enum xds_type t,
		     char ***names, size_t *n);

enum xds_translate_result {
	XDS_T_OK = 0,
	XDS_T_WAITING = 1,	/* something referenced has not arrived: @err says what */
	XDS_T_ERROR = -1,	/* refused: @err names the resource and field */
};
/* What the translation leaves out as not applicable (a virtual host with
 * no address) is said through this, by every translation; NULL: silent. */
extern void (*xds_translate_note)(const char *msg);

/* Translate everything in @st into @cfg (free with mesh_config_free). */
int xds_translate(const struct xds_state *st, struct mesh_config *cfg,
		  char *err, size_t err_size);

#endif

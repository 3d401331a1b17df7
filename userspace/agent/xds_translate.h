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
#include <stdint.h>
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
	/* the bytes it came as: an EDS update re-translates only the
	 * assignments whose bytes differ (xds_translate_eds()) */
	void *raw;
	size_t raw_len;
	uint64_t hash;		/* of raw (xds_decode()) */
	/* how many sets hold msg and raw: a resource that came again with
	 * the same bytes shares them with the set before (xds_decode()) */
	unsigned int *refs;
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
/*
 * Unpack a response's resources (type and duplicate names checked). A
 * resource whose bytes are those of one in @prev (the set of this type
 * held now, or NULL) is not decoded again: it shares that one's message
 * (state of the world sends every resource each time; most are the same).
 */
int xds_decode(enum xds_type t, Google__Protobuf__Any *const *res, size_t n,
	       const struct xds_set *prev, struct xds_set *out, char *err,
	       size_t err_size);
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

/*
 * An update of ClusterLoadAssignments alone. @cfg is the applied
 * translation of @st with @prev_eds in place of st->set[XDS_EDS] (the
 * same Clusters, Listeners and Routes). Each EDS Cluster whose assignment
 * differs from the one in @prev_eds is translated again by the functions
 * xds_translate() runs for it (its endpoints, and its lb, which depends on
 * their weights) and replaced in @cfg; the replaced clusters are kept in
 * @swap until xds_eds_commit() (the update applied: they are freed) or
 * xds_eds_revert() (it failed later: @cfg is as it was). Nothing else of
 * the model depends on an assignment.
 *   XDS_T_OK      @cfg updated, @swap holds what it replaced
 *   XDS_T_ERROR   refused, @err as xds_translate() would say it; @cfg
 *                 untouched
 *   XDS_EDS_WHOLE the update cannot be taken alone (an assignment a
 *                 Cluster needs is missing, or @cfg does not match @st's
 *                 Clusters): translate the whole state instead
 */
#define XDS_EDS_WHOLE 2
struct xds_eds_swap {
	struct mesh_cluster *old;	/* what cfg->clusters[idx[i]] held */
	size_t *idx;
	size_t n;
};
int xds_translate_eds(const struct xds_state *st, const struct xds_set *prev_eds,
		      struct mesh_config *cfg, struct xds_eds_swap *swap,
		      char *err, size_t err_size);
void xds_eds_revert(struct mesh_config *cfg, struct xds_eds_swap *swap);
void xds_eds_commit(struct xds_eds_swap *swap);

#endif

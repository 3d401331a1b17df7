/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every limit of the mesh file, by name: how long each list may be and
 * the range of each bounded number. The reader (mesh_reader.h) takes them
 * from here only; docs/config.md#limits quotes the same names and values
 * (selftests/unit/test_config.c checks that both agree).
 *
 * Where a limit is the kernel's, it is defined from the ABI's own name
 * (kmesh_maps.h, kmesh_dev.h): the file can hold no more than the maps.
 */
#ifndef KMESH_MESH_LIMITS_H
#define KMESH_MESH_LIMITS_H

#include "kmesh_dev.h"
#include "kmesh_maps.h"

/* ---- services and clusters ---- */
#define MESH_MAX_SERVICES		(KMESH_L4_MAX_SERVICES - 1)	/* id 0 is "none" */
#define MESH_MAX_CLUSTERS		(KMESH_L4_MAX_CLUSTERS - 1)
#define MESH_MAX_SERVICE_ADDRESSES	KMESH_L4_MAX_VIPS
#define MESH_MAX_SERVICE_PORTS		256
#define MESH_MAX_CLUSTER_ENDPOINTS	KMESH_L4_MAX_CLUSTER_ENDPOINTS
#define MESH_MAX_ENDPOINT_WEIGHT	KMESH_L4_MAX_WEIGHT
#define MESH_MAX_CONNECT_TIMEOUT_MS	60000	/* kmesh_cluster.connect_timeout_ms is 16 bits */
#define MESH_MAX_ENDPOINT_PRIORITY	128	/* Envoy's own bound on priorities */
#define MESH_MAX_LOCALITY_FAILOVER	64	/* locality_lb.failover entries */
#define MESH_MAX_OUTLIER_CONSECUTIVE	65535	/* kmesh_outlier_config thresholds are 16 bits */
#define MESH_MAX_OUTLIER_MS		3600000	/* interval and ejection times: an hour */
#define MESH_MAX_RATE_PER_SECOND	1000000	/* requests_per_second, connections_per_second */
#define MESH_MAX_RATE_BURST		KMESH_RL_MAX_BURST

/* ---- routes ---- */
#define MESH_MAX_ROUTES			MESH_MAX_SERVICES	/* one entry per service */
#define MESH_MAX_ROUTE_HOSTS		KMESH_RT_MAX_HOSTS
#define MESH_MAX_HTTP_ROUTES		KMESH_L7_MAX_RULES
#define MESH_MAX_ROUTE_MATCHES		KMESH_RT_MAX_BLOCKS
#define MESH_MAX_MATCH_CONDS		KMESH_RT_MAX_CONDS	/* headers, query_params */
#define MESH_MAX_ROUTE_SPLIT		KMESH_RT_MAX_SPLIT
#define MESH_MAX_SPLIT_WEIGHT		1000000

/* ---- authorization ---- */
#define MESH_L7_MAX_POLICIES		4096	/* authorization policies in the file */
#define MESH_MAX_POLICY_RULES		KMESH_L7_MAX_RULES
#define MESH_L7_MAX_RULE_PARTS		16	/* from, to and when entries of one rule */
#define MESH_L7_MAX_METHODS		32	/* methods, not_methods */
#define MESH_L7_MAX_PORTS		64	/* ports, not_ports, destination.port values */
#define MESH_L7_MAX_CIDRS		1024	/* ip_blocks, not_ip_blocks, source/destination.ip values */
#define MESH_L7_MAX_PATTERNS		64	/* paths, hosts, header values (and their not_) */

/* ---- strings ---- */
#define MESH_MAX_VALUE_LEN		KMESH_RT_MAX_STR_LEN	/* paths, header and query values */
#define MESH_MAX_BODY_LEN		KMESH_RT_MAX_BODY_LEN	/* a direct_response body */

#endif /* KMESH_MESH_LIMITS_H */

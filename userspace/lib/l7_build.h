/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * L7 compiler: the routes and authorization of one service (mesh_config.h)
 * become
 *  - a struct kmesh_l7_policy, the form the sk_msg program evaluates per
 *    request in both kfunc and fallback mode (layout in kmesh_maps.h);
 *  - entries of the CIDR LPM trie (source and destination sets);
 *  - a route table blob for the module (route_build.h), when the service
 *    has routes: the deferred connect and kfunc mode route with it.
 * Pure C, no BPF calls: unit tests check every byte.
 *
 * Evaluation model (see kmesh_maps.h): items OR into conditions, conditions
 * AND into blocks, blocks OR into rules. An authorization rule is
 * (any from) AND (any to) AND (every when): it becomes one block per
 * (from, to) pair. Identical conditions and blocks are shared, so the
 * limits count distinct ones.
 */
#ifndef KMESH_L7_BUILD_H
#define KMESH_L7_BUILD_H

#include <stddef.h>
#include <linux/types.h>

#include "kmesh_maps.h"
#include "l4_build.h"
#include "mesh_config.h"

/* Where a config could not be compiled: reported as "file:line: path: msg". */
struct l7_check_err {
	int line;
	char path[192];
	char msg[320];
};

struct l7_cidr_entry {
	struct kmesh_l7_cidr_key key;
	__u64 sets;
};

struct l7_cidrs {
	struct l7_cidr_entry *v;
	size_t n, cap;
};

/* Does service @svc have anything for the L7 engine (routes or policies)? */
bool l7_service_has_rules(const struct mesh_config *cfg, int svc);

/*
 * Compile service @svc into @out (zeroed first) and append its CIDR
 * entries to @cidrs. 0, or -1 with @err filled.
 */
int l7_build_policy(const struct mesh_config *cfg, int svc, __u32 service_id,
		    struct kmesh_l7_policy *out, struct l7_cidrs *cidrs,
		    struct l7_check_err *err);

/*
 * The route table of service @svc (which has routes): *@blob malloc'd.
 * @cluster_ids[i] is the id of cfg->clusters[i]. 0, or -1 with @err.
 */
int l7_build_table(const struct mesh_config *cfg, int svc, __u32 vhost_id,
		   const __u32 *cluster_ids, void **blob, __u32 *len,
		   struct l7_check_err *err);

/*
 * Compile every service once (mesh_config_parse() does, so every limit is
 * checked with a place): the first error, or 0 with the result kept in
 * @cfg->l7 (freed by mesh_config_free()) for l7_policy_of() and
 * l7_table_of(). Ids are stand-ins until those bind them.
 */
int l7_check(struct mesh_config *cfg, struct l7_check_err *err);
void l7_compiled_free(struct l7_compiled *c);

/*
 * l7_build_policy() and l7_build_table() of what l7_check() compiled,
 * with a generation's ids, without compiling again (they compile when
 * @cfg was not checked).
 */
int l7_policy_of(const struct mesh_config *cfg, int svc, __u32 service_id,
		 struct kmesh_l7_policy *out, struct l7_cidrs *cidrs,
		 struct l7_check_err *err);
int l7_table_of(const struct mesh_config *cfg, int svc, __u32 vhost_id,
		const __u32 *cluster_ids, void **blob, __u32 *len,
		struct l7_check_err *err);

/* The routes of @svc, or NULL. */
const struct mesh_routes *l7_routes_of(const struct mesh_config *cfg, int svc);

void l7_cidrs_free(struct l7_cidrs *c);

/*
 * A local reply (403, 404, ...): the head, then "\r\n" and the body, as
 * kmesh_l7_rule.resp_* describe it. Returns the length written (at most
 * @size), 0 when it does not fit.
 */
size_t l7_reply(__u16 status, const char *body, size_t body_len, char *buf,
		size_t size, size_t *head_len);

/* ---- the L7 part of one generation: the pipeline's compile stage ---- */

/* Route table id of a service in a generation slot (ids are per slot, so
 * a new generation never rewrites a table the live one uses). */
static inline __u32 l7_table_id(__u32 slot, __u32 service_id)
{
	return 1 + slot * KMESH_L4_MAX_SERVICES + service_id;
}

struct l7_name_rec {
	struct kmesh_l7_name_key key;
	struct kmesh_l7_name val;
};

struct l7_table_rec {
	int svc;		/* index into cfg->services */
	__u32 table;		/* l7_table_id() */
	void *blob;
	__u32 len;
};

struct l7_gen {
	/* one policy per service with L7 rules, keys and values apart as a
	 * map batch takes them (13 KB each: no copy on the way) */
	__u32 *pol_ids;
	struct kmesh_l7_policy *pols;
	size_t nr_pols;
	struct l7_cidrs cidrs;
	struct l7_table_rec *tables;	/* with the module: route tables */
	size_t nr_tables;
	__u32 *stale_tables;		/* the slot's tables of services without routes */
	size_t nr_stale;
	struct l7_name_rec *names;	/* route and policy names (they label stats) */
	size_t nr_names, cap_names;
	/* what l7_compile() bound it to, for l7_rebind(): the slot, tables
	 * or not, the generation's ids; and how many address list entries
	 * it made (the install appends the inbound ones) */
	__u32 bound_slot;
	bool bound_tables;
	__u32 *bound_service_ids, *bound_cluster_ids;
	size_t bound_nr_services, bound_nr_clusters, bound_nr_cidrs;
	/* one per l7_compile() output (l7_rebind() keeps it): a slot whose
	 * policy map holds this output's policies need not compare them */
	__u64 serial;
};

/*
 * What l7_check() compiled, bound to generation @gen in @slot: policies
 * and address lists with its service ids, route tables (@tables: the
 * module is there) with its cluster ids, whose ids go into @gen's
 * services. Memory only. 0, or -1 with @err.
 */
int l7_compile(const struct mesh_config *cfg, struct l4_gen *gen, __u32 slot,
	       bool tables, struct l7_gen *out, char *err, size_t err_size);
/*
 * @prev: what l7_compile() made of the same model's L7 rules, for this
 * @slot, and installed since (the caller knows the rules did not change:
 * kmesh-agent after an update of endpoints alone). When it is bound to
 * the ids @gen gives, the same @slot and @tables, it is moved into @out
 * (@prev emptied) as l7_compile() would make it again, and @gen's VIPs
 * get their route tables: true. Else false, nothing moved.
 */
bool l7_rebind(struct l7_gen *prev, const struct mesh_config *cfg,
	       struct l4_gen *gen, __u32 slot, bool tables, struct l7_gen *out);
void l7_gen_free(struct l7_gen *g);

#endif /* KMESH_L7_BUILD_H */

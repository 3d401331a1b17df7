// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l4_build.h"

__u32 l4_id_limit(__u32 kind)
{
	switch (kind) {
	case KMESH_L4_KIND_SERVICE:
		return KMESH_L4_MAX_SERVICES;
	case KMESH_L4_KIND_CLUSTER:
		return KMESH_L4_MAX_CLUSTERS;
	default:
		return KMESH_L4_MAX_ENDPOINTS;
	}
}

void l4_endpoint_identity(const char *cluster, const struct mesh_endpoint *ep,
			  char *buf, size_t size)
{
	char addr[64];

	mesh_addr_format(ep->addr, ep->port, true, addr, sizeof(addr));
	snprintf(buf, size, "%s/%s", cluster, addr);
}

/* ---- maglev ---- */

static __u64 fnv1a(const void *data, size_t len, __u64 seed)
{
	const unsigned char *p = data;
	__u64 h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* fold the high bits in: FNV's low bits mix poorly */
	return h ^ (h >> 29);
}

void l4_maglev_populate(const struct mesh_endpoint *const *eps, size_t n,
			__u16 *table, size_t size)
{
	__u64 *offset, *skip, *next, *credit;
	size_t i, filled = 0;
	__u32 wmax = 1;

	for (i = 0; i < size; i++)
		table[i] = 0;
	if (!n)
		return;
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	credit = calloc(n, sizeof(*credit));
	if (!offset || !skip || !next || !credit)
		goto out;
	for (i = 0; i < n; i++) {
		unsigned char id[18];

		memcpy(id, eps[i]->addr, 16);
		memcpy(id + 16, &eps[i]->port, 2);
		offset[i] = fnv1a(id, sizeof(id), 0x6d61676c) % size;
		skip[i] = fnv1a(id, sizeof(id), 0x65763132) % (size - 1) + 1;
		if (eps[i]->weight > wmax)
			wmax = eps[i]->weight;
	}
	for (i = 0; i < size; i++)
		table[i] = 0xffff;
	/*
	 * Classic Maglev takes turns, one slot per endpoint per round; here
	 * a turn is earned by weight credit, so heavier endpoints claim
	 * proportionally more slots (equal weights: the classic algorithm).
	 */
	while (filled < size) {
		for (i = 0; i < n && filled < size; i++) {
			size_t c;

			credit[i] += eps[i]->weight;
			if (credit[i] < wmax)
				continue;
			credit[i] -= wmax;
			do {
				c = (offset[i] + next[i] * skip[i]) % size;
				next[i]++;
			} while (table[c] != 0xffff);
			table[c] = (__u16)i;
			filled++;
		}
	}
out:
	free(offset);
	free(skip);
	free(next);
	free(credit);
}

/* ---- ids ---- */

struct ids {
	struct l4_id_entry *v;
	size_t n, cap;
	struct l4_id_entry *fresh;
	size_t nr_fresh, fresh_cap;
	struct l4_id_entry *evicted;
	size_t nr_evicted, evicted_cap;
	__u64 generation;
};

static int ids_push(struct l4_id_entry **v, size_t *n, size_t *cap,
		    const struct l4_id_entry *e)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct l4_id_entry *nv = realloc(*v, ncap * sizeof(**v));

		if (!nv)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

static bool id_taken(const struct ids *ids, __u32 kind, __u32 id, bool live_only)
{
	size_t i;

	for (i = 0; i < ids->n; i++)
		if (ids->v[i].key.kind == kind && ids->v[i].val.id == id &&
		    (!live_only || ids->v[i].val.generation == ids->generation))
			return true;
	return false;
}

/*
 * Stable id of an identity: the one it had, else the lowest never-used
 * id; when none is left, one whose object is gone from this generation.
 */
static __u32 id_get(struct ids *ids, __u32 kind, const char *name)
{
	struct l4_id_entry e = {};
	size_t i;
	__u32 id, limit = l4_id_limit(kind);

	e.key.kind = kind;
	snprintf(e.key.name, sizeof(e.key.name), "%s", name);
	for (i = 0; i < ids->n; i++) {
		if (!memcmp(&ids->v[i].key, &e.key, sizeof(e.key))) {
			ids->v[i].val.generation = ids->generation;
			return ids->v[i].val.id;
		}
	}
	for (id = 1; id < limit; id++)
		if (!id_taken(ids, kind, id, false))
			break;
	if (id == limit) {
		for (id = 1; id < limit; id++)
			if (!id_taken(ids, kind, id, true))
				break;
		if (id == limit)
			return 0;
		for (i = 0; i < ids->n; i++) {
			if (ids->v[i].key.kind != kind || ids->v[i].val.id != id)
				continue;
			if (ids_push(&ids->evicted, &ids->nr_evicted, &ids->evicted_cap,
				     &ids->v[i]))
				return 0;
			ids->v[i] = ids->v[--ids->n];
			break;
		}
	}
	e.val.id = id;
	e.val.generation = ids->generation;
	if (ids_push(&ids->v, &ids->n, &ids->cap, &e) ||
	    ids_push(&ids->fresh, &ids->nr_fresh, &ids->fresh_cap, &e))
		return 0;
	return id;
}

/* ---- the generation ---- */

static int build_cluster(const struct mesh_cluster *mc, struct ids *ids,
			 struct l4_gen *gen, char *err, size_t err_size)
{
	const struct mesh_endpoint *order[KMESH_L4_MAX_CLUSTER_ENDPOINTS];
	struct kmesh_cluster *c = &gen->clusters[gen->nr_clusters++];
	size_t i, n = 0, healthy;
	__u32 sum = 0;
	char name[128];

	c->cluster_id = id_get(ids, KMESH_L4_KIND_CLUSTER, mc->name);
	if (!c->cluster_id)
		goto no_ids;
	c->lb = mc->lb;
	c->flags = mc->flags;
	c->max_connections = mc->max_connections;
	/* Healthy first, in file order: LB picks among [0, nr_healthy). */
	for (i = 0; i < mc->nr_endpoints; i++)
		if (mc->endpoints[i].state == KMESH_EP_HEALTHY)
			order[n++] = &mc->endpoints[i];
	healthy = n;
	for (i = 0; i < mc->nr_endpoints; i++)
		if (mc->endpoints[i].state != KMESH_EP_HEALTHY)
			order[n++] = &mc->endpoints[i];
	c->nr_endpoints = (__u16)n;
	c->nr_healthy = (__u16)healthy;
	for (i = 0; i < n; i++) {
		struct l4_ep *e = &gen->eps[gen->nr_eps++];

		l4_endpoint_identity(mc->name, order[i], name, sizeof(name));
		e->key.cluster_id = c->cluster_id;
		e->key.index = (__u32)i;
		memcpy(e->val.addr, order[i]->addr, 16);
		e->val.port = order[i]->port;
		e->val.weight = order[i]->weight;
		e->val.state = order[i]->state;
		e->val.endpoint_id = id_get(ids, KMESH_L4_KIND_ENDPOINT, name);
		if (!e->val.endpoint_id)
			goto no_ids;
		if (i < healthy) {
			sum += order[i]->weight;
			c->cum_weight[i] = sum;
		}
	}
	c->total_weight = sum;
	if (mc->lb == KMESH_LB_MAGLEV) {
		struct l4_maglev *m = &gen->maglev[gen->nr_maglev];

		m->table = calloc(1, sizeof(*m->table));
		if (!m->table) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		m->cluster_id = c->cluster_id;
		gen->nr_maglev++;
		l4_maglev_populate(order, healthy, m->table->index,
				   KMESH_L4_MAGLEV_SIZE);
	}
	return 0;
no_ids:
	snprintf(err, err_size, "cluster '%s': no free id left", mc->name);
	return -1;
}

int l4_build(const struct mesh_config *cfg, const struct l4_id_entry *registry,
	     size_t nr_registry, __u64 generation, struct l4_gen *gen,
	     char *err, size_t err_size)
{
	struct ids ids = { .generation = generation };
	__u32 *cluster_ids = NULL;
	size_t i, j, k, nr_eps = 0, nr_vips = 0;

	memset(gen, 0, sizeof(*gen));
	gen->generation = generation;
	for (i = 0; i < nr_registry; i++)
		if (ids_push(&ids.v, &ids.n, &ids.cap, &registry[i]))
			goto oom;
	for (i = 0; i < cfg->nr_clusters; i++)
		nr_eps += cfg->clusters[i].nr_endpoints;
	for (i = 0; i < cfg->nr_services; i++)
		nr_vips += cfg->services[i].nr_addrs * cfg->services[i].nr_ports;
	gen->clusters = calloc(cfg->nr_clusters + 1, sizeof(*gen->clusters));
	gen->eps = calloc(nr_eps + 1, sizeof(*gen->eps));
	gen->maglev = calloc(cfg->nr_clusters + 1, sizeof(*gen->maglev));
	gen->vips = calloc(nr_vips + 1, sizeof(*gen->vips));
	cluster_ids = calloc(cfg->nr_clusters + 1, sizeof(*cluster_ids));
	if (!gen->clusters || !gen->eps || !gen->maglev || !gen->vips || !cluster_ids)
		goto oom;

	for (i = 0; i < cfg->nr_clusters; i++) {
		if (build_cluster(&cfg->clusters[i], &ids, gen, err, err_size))
			goto fail;
		cluster_ids[i] = gen->clusters[i].cluster_id;
	}
	for (i = 0; i < cfg->nr_services; i++) {
		const struct mesh_service *s = &cfg->services[i];
		__u32 svc_id = id_get(&ids, KMESH_L4_KIND_SERVICE, s->name);

		if (!svc_id) {
			snprintf(err, err_size, "service '%s': no free id left", s->name);
			goto fail;
		}
		for (j = 0; j < s->nr_addrs; j++) {
			for (k = 0; k < s->nr_ports; k++) {
				struct l4_vip *v = &gen->vips[gen->nr_vips++];

				memcpy(v->key.addr, s->addrs[j], 16);
				v->key.port = s->ports[k].port;
				v->key.protocol = KMESH_PROTO_TCP;
				v->val.service_id = svc_id;
				v->val.cluster_id = cluster_ids[s->ports[k].cluster];
				v->val.flags = s->ports[k].http ? KMESH_SVC_F_HTTP : 0;
			}
		}
	}
	free(cluster_ids);
	gen->ids = ids.v;
	gen->nr_ids = ids.n;
	gen->fresh = ids.fresh;
	gen->nr_fresh = ids.nr_fresh;
	gen->evicted = ids.evicted;
	gen->nr_evicted = ids.nr_evicted;
	return 0;
oom:
	snprintf(err, err_size, "out of memory");
fail:
	free(cluster_ids);
	free(ids.v);
	free(ids.fresh);
	free(ids.evicted);
	l4_gen_free(gen);
	return -1;
}

__u32 l4_gen_id(const struct l4_gen *gen, __u32 kind, const char *name)
{
	size_t i;

	for (i = 0; i < gen->nr_ids; i++)
		if (gen->ids[i].key.kind == kind &&
		    !strncmp(gen->ids[i].key.name, name, sizeof(gen->ids[i].key.name)))
			return gen->ids[i].val.id;
	return 0;
}

void l4_gen_free(struct l4_gen *gen)
{
	size_t i;

	for (i = 0; i < gen->nr_maglev; i++)
		free(gen->maglev[i].table);
	free(gen->maglev);
	free(gen->vips);
	free(gen->clusters);
	free(gen->eps);
	free(gen->ids);
	free(gen->fresh);
	free(gen->evicted);
	memset(gen, 0, sizeof(*gen));
}

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

/*
 * The registry being built, with what makes each question O(1): an index
 * of identities (open addressing, positions + 1 in v, 0 = empty) and, per
 * kind and id, the entry holding it and whether this generation uses it.
 * A config of thousands of objects asks thousands of times: a scan of the
 * registry per question made applies take seconds.
 */
#define IDS_INDEX_SIZE	32768	/* power of 2, > 2 x all ids of all kinds */
#define IDS_KINDS	(KMESH_L4_KIND_ENDPOINT + 1)

struct ids {
	struct l4_id_entry *v;
	size_t n, cap;
	struct l4_id_entry *fresh;
	size_t nr_fresh, fresh_cap;
	struct l4_id_entry *evicted;
	size_t nr_evicted, evicted_cap;
	__u64 generation;
	__u32 *index;
	__u32 *holder[IDS_KINDS];	/* [id]: position + 1 of its entry */
	unsigned char *live[IDS_KINDS];	/* [id]: used by this generation */
	/* Ids are held and made live, never given back during a build, so
	 * the lowest unheld and the lowest not live id only grow. */
	__u32 lowest_unheld[IDS_KINDS];
	__u32 lowest_unused[IDS_KINDS];
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

static size_t index_home(const struct kmesh_l4_id_key *k)
{
	return (size_t)fnv1a(k->name, strnlen(k->name, sizeof(k->name)),
			     k->kind) & (IDS_INDEX_SIZE - 1);
}

/* Index position of @k: where it is, or the empty one where it belongs. */
static size_t index_find(const struct ids *ids, const struct kmesh_l4_id_key *k)
{
	size_t i = index_home(k);

	while (ids->index[i] &&
	       memcmp(&ids->v[ids->index[i] - 1].key, k, sizeof(*k)))
		i = (i + 1) & (IDS_INDEX_SIZE - 1);
	return i;
}

/* Drop @k from the index, moving back the entries probing past it. */
static void index_remove(struct ids *ids, const struct kmesh_l4_id_key *k)
{
	size_t hole = index_find(ids, k), j = hole, home;

	if (!ids->index[hole])
		return;
	ids->index[hole] = 0;
	for (;;) {
		j = (j + 1) & (IDS_INDEX_SIZE - 1);
		if (!ids->index[j])
			return;
		home = index_home(&ids->v[ids->index[j] - 1].key);
		/* may the entry at j live in the hole? (its home is not in
		 * the cyclic range (hole, j]) */
		if (((j - home) & (IDS_INDEX_SIZE - 1)) >=
		    ((j - hole) & (IDS_INDEX_SIZE - 1))) {
			ids->index[hole] = ids->index[j];
			ids->index[j] = 0;
			hole = j;
		}
	}
}

static bool id_valid(__u32 kind, __u32 id)
{
	return kind < IDS_KINDS && kind && id < l4_id_limit(kind);
}

/* v[pos] is (now) this entry: index it, note its id's holder. */
static void ids_note(struct ids *ids, size_t pos)
{
	const struct l4_id_entry *e = &ids->v[pos];

	ids->index[index_find(ids, &e->key)] = (__u32)pos + 1;
	if (!id_valid(e->key.kind, e->val.id))
		return;
	ids->holder[e->key.kind][e->val.id] = (__u32)pos + 1;
	if (e->val.generation == ids->generation)
		ids->live[e->key.kind][e->val.id] = 1;
}

static int ids_init(struct ids *ids, const struct l4_id_entry *registry,
		    size_t nr_registry)
{
	__u32 kind;
	size_t i;

	ids->index = calloc(IDS_INDEX_SIZE, sizeof(*ids->index));
	if (!ids->index)
		return -1;
	for (kind = KMESH_L4_KIND_SERVICE; kind < IDS_KINDS; kind++) {
		ids->holder[kind] = calloc(l4_id_limit(kind), sizeof(__u32));
		ids->live[kind] = calloc(l4_id_limit(kind), 1);
		if (!ids->holder[kind] || !ids->live[kind])
			return -1;
		ids->lowest_unheld[kind] = ids->lowest_unused[kind] = 1;
	}
	/* The kernel's registry holds at most the ids of all kinds. */
	if (nr_registry >= IDS_INDEX_SIZE / 2)
		nr_registry = IDS_INDEX_SIZE / 2 - 1;
	for (i = 0; i < nr_registry; i++) {
		if (ids_push(&ids->v, &ids->n, &ids->cap, &registry[i]))
			return -1;
		ids_note(ids, i);
	}
	return 0;
}

static void ids_free_index(struct ids *ids)
{
	__u32 kind;

	free(ids->index);
	ids->index = NULL;
	for (kind = 0; kind < IDS_KINDS; kind++) {
		free(ids->holder[kind]);
		free(ids->live[kind]);
		ids->holder[kind] = NULL;
		ids->live[kind] = NULL;
	}
}

/*
 * Stable id of an identity: the one it had, else the lowest never-used
 * id; when none is left, the lowest one whose object is gone from this
 * generation (its entry moves to the evicted list, its id to @name).
 */
static __u32 id_get(struct ids *ids, __u32 kind, const char *name)
{
	struct l4_id_entry e = {};
	__u32 id, limit = l4_id_limit(kind), pos;

	e.key.kind = kind;
	snprintf(e.key.name, sizeof(e.key.name), "%s", name);
	pos = ids->index[index_find(ids, &e.key)];
	if (pos) {
		/* the entry stays as it is: an install rewrites only entries
		 * that change (kmesh_l4_id.generation: when the id was given) */
		if (id_valid(kind, ids->v[pos - 1].val.id))
			ids->live[kind][ids->v[pos - 1].val.id] = 1;
		return ids->v[pos - 1].val.id;
	}
	id = ids->lowest_unheld[kind];
	while (id < limit && ids->holder[kind][id])
		id++;
	ids->lowest_unheld[kind] = id;
	e.val.id = id;
	e.val.generation = ids->generation;
	if (id < limit) {
		if (ids_push(&ids->v, &ids->n, &ids->cap, &e))
			return 0;
		pos = (__u32)ids->n;
	} else {
		id = ids->lowest_unused[kind];
		while (id < limit && ids->live[kind][id])
			id++;
		ids->lowest_unused[kind] = id;
		if (id == limit)
			return 0;
		pos = ids->holder[kind][id];
		if (ids_push(&ids->evicted, &ids->nr_evicted, &ids->evicted_cap,
			     &ids->v[pos - 1]))
			return 0;
		index_remove(ids, &ids->v[pos - 1].key);
		e.val.id = id;
		ids->v[pos - 1] = e;
	}
	if (ids_push(&ids->fresh, &ids->nr_fresh, &ids->fresh_cap, &e))
		return 0;
	ids_note(ids, pos - 1);
	return id;
}

/* ---- the generation ---- */

void l4_rate_limit_of(struct kmesh_ratelimit *out,
		      const struct mesh_rate_limit *in)
{
	out->interval_ns = in->interval_ns;
	out->burst = in->interval_ns ? in->burst : 0;
	out->flags = (in->per_source ? KMESH_RL_F_PER_SOURCE : 0) |
		     (in->replaces_service ? KMESH_RL_F_REPLACES_SERVICE : 0);
}

/*
 * Where endpoint @ep ranks for new connections, lowest first: its
 * priority, then (locality_lb, on a node that knows its locality) how far
 * its locality is from the node's.
 */
static unsigned int endpoint_rank(const struct mesh_cluster *mc,
				  const struct mesh_endpoint *ep,
				  const char *node_locality)
{
	unsigned int tier = 0;

	if (mc->locality_lb && node_locality[0])
		tier = mesh_locality_tier(node_locality, ep->locality,
					  mc->failover, mc->nr_failover);
	return ep->priority * 8 + tier;
}

struct ranked {
	unsigned int rank, index;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int build_cluster(const struct mesh_cluster *mc, const char *node_locality,
			 struct ids *ids, struct l4_gen *gen, char *err,
			 size_t err_size)
{
	const struct mesh_endpoint *order[KMESH_L4_MAX_CLUSTER_ENDPOINTS];
	struct kmesh_cluster *c = &gen->clusters[gen->nr_clusters++];
	struct ranked standby[KMESH_L4_MAX_CLUSTER_ENDPOINTS];
	unsigned int best = ~0U, r;
	size_t i, n = 0, healthy, nr_standby;
	__u32 sum = 0;
	char name[128];

	c->cluster_id = id_get(ids, KMESH_L4_KIND_CLUSTER, mc->name);
	if (!c->cluster_id)
		goto no_ids;
	c->lb = mc->lb;
	c->flags = mc->flags;
	c->max_connections = mc->max_connections;
	c->connect_timeout_ms = mc->connect_timeout_ms;
	c->outlier = mc->outlier;
	/*
	 * LB picks among [0, nr_healthy): the healthy endpoints of the best
	 * rank there is, in file order. Healthy ones of a farther rank come
	 * next, nearest first (standing by: they take new connections once no
	 * nearer one is healthy, which a later generation says), then
	 * draining ones.
	 */
	for (i = 0; i < mc->nr_endpoints; i++)
		if (mc->endpoints[i].state == KMESH_EP_HEALTHY) {
			unsigned int r = endpoint_rank(mc, &mc->endpoints[i], node_locality);

			if (r < best)
				best = r;
		}
	for (i = 0; i < mc->nr_endpoints; i++)
		if (mc->endpoints[i].state == KMESH_EP_HEALTHY &&
		    endpoint_rank(mc, &mc->endpoints[i], node_locality) == best)
			order[n++] = &mc->endpoints[i];
	healthy = n;
	/* standing by, nearest rank first (then file order) */
	for (i = 0, nr_standby = 0; i < mc->nr_endpoints; i++)
		if (mc->endpoints[i].state == KMESH_EP_HEALTHY &&
		    (r = endpoint_rank(mc, &mc->endpoints[i], node_locality)) != best)
			standby[nr_standby++] = (struct ranked){ r, (unsigned int)i };
	qsort(standby, nr_standby, sizeof(standby[0]), cmp_ranked);
	for (i = 0; i < nr_standby; i++)
		order[n++] = &mc->endpoints[standby[i].index];
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

/*
 * Cluster @i of @prev (l4_build_reusing()) into @gen as it was: the same
 * entries a build of it gives when its model and the ids it finds are
 * the same, with its ids marked used as id_get() marks them.
 * @prev_ep, @prev_maglev: where its endpoints and maglev table start.
 */
static int copy_cluster(const struct l4_gen *prev, size_t i, size_t prev_ep,
			size_t prev_maglev, struct ids *ids, struct l4_gen *gen,
			char *err, size_t err_size)
{
	const struct kmesh_cluster *pc = &prev->clusters[i];
	size_t e;

	gen->clusters[gen->nr_clusters++] = *pc;
	if (id_valid(KMESH_L4_KIND_CLUSTER, pc->cluster_id))
		ids->live[KMESH_L4_KIND_CLUSTER][pc->cluster_id] = 1;
	for (e = 0; e < pc->nr_endpoints; e++) {
		__u32 id = prev->eps[prev_ep + e].val.endpoint_id;

		gen->eps[gen->nr_eps++] = prev->eps[prev_ep + e];
		if (id_valid(KMESH_L4_KIND_ENDPOINT, id))
			ids->live[KMESH_L4_KIND_ENDPOINT][id] = 1;
	}
	if (pc->lb == KMESH_LB_MAGLEV) {
		struct l4_maglev *m = &gen->maglev[gen->nr_maglev];

		m->table = malloc(sizeof(*m->table));
		if (!m->table) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		memcpy(m->table, prev->maglev[prev_maglev].table, sizeof(*m->table));
		m->cluster_id = pc->cluster_id;
		gen->nr_maglev++;
	}
	return 0;
}

int l4_build(const struct mesh_config *cfg, const struct l4_id_entry *registry,
	     size_t nr_registry, __u64 generation, struct l4_gen *gen,
	     char *err, size_t err_size)
{
	return l4_build_reusing(cfg, registry, nr_registry, generation, NULL, NULL,
				gen, err, err_size);
}

int l4_build_reusing(const struct mesh_config *cfg, const struct l4_id_entry *registry,
		     size_t nr_registry, __u64 generation, const struct l4_gen *prev,
		     const bool *changed, struct l4_gen *gen, char *err, size_t err_size)
{
	struct ids ids = { .generation = generation };
	size_t i, j, k, nr_eps = 0, nr_vips = 0, prev_ep = 0, prev_maglev = 0;

	memset(gen, 0, sizeof(*gen));
	gen->generation = generation;
	if (ids_init(&ids, registry, nr_registry))
		goto oom;
	for (i = 0; i < cfg->nr_clusters; i++)
		nr_eps += cfg->clusters[i].nr_endpoints;
	for (i = 0; i < cfg->nr_services; i++)
		nr_vips += cfg->services[i].nr_addrs * cfg->services[i].nr_ports;
	gen->clusters = calloc(cfg->nr_clusters + 1, sizeof(*gen->clusters));
	gen->eps = calloc(nr_eps + 1, sizeof(*gen->eps));
	gen->maglev = calloc(cfg->nr_clusters + 1, sizeof(*gen->maglev));
	gen->vips = calloc(nr_vips + 1, sizeof(*gen->vips));
	gen->cluster_ids = calloc(cfg->nr_clusters + 1, sizeof(*gen->cluster_ids));
	gen->service_ids = calloc(cfg->nr_services + 1, sizeof(*gen->service_ids));
	if (!gen->clusters || !gen->eps || !gen->maglev || !gen->vips ||
	    !gen->cluster_ids || !gen->service_ids)
		goto oom;

	if (prev && prev->nr_clusters != cfg->nr_clusters)
		prev = NULL;
	for (i = 0; i < cfg->nr_clusters; i++) {
		if (prev && !changed[i] ?
		    copy_cluster(prev, i, prev_ep, prev_maglev, &ids, gen, err, err_size) :
		    build_cluster(&cfg->clusters[i], cfg->node_locality, &ids, gen,
				  err, err_size))
			goto fail;
		gen->cluster_ids[i] = gen->clusters[i].cluster_id;
		if (prev) {
			prev_ep += prev->clusters[i].nr_endpoints;
			prev_maglev += prev->clusters[i].lb == KMESH_LB_MAGLEV;
		}
	}
	for (i = 0; i < cfg->nr_services; i++) {
		const struct mesh_service *s = &cfg->services[i];
		__u32 svc_id = id_get(&ids, KMESH_L4_KIND_SERVICE, s->name);

		if (!svc_id) {
			snprintf(err, err_size, "service '%s': no free id left", s->name);
			goto fail;
		}
		gen->service_ids[i] = svc_id;
		for (j = 0; j < s->nr_addrs; j++) {
			for (k = 0; k < s->nr_ports; k++) {
				struct l4_vip *v = &gen->vips[gen->nr_vips++];

				memcpy(v->key.addr, s->addrs[j], 16);
				v->key.port = s->ports[k].port;
				v->key.protocol = KMESH_PROTO_TCP;
				v->val.service_id = svc_id;
				v->val.cluster_id = gen->cluster_ids[s->ports[k].cluster];
				v->val.flags = s->ports[k].http ? KMESH_SVC_F_HTTP : 0;
				if (s->path_norm == MESH_PATH_ESCAPED_SLASHES_LITERAL)
					v->val.flags |= KMESH_SVC_F_PATH_ESCAPED_SLASHES;
				l4_rate_limit_of(&v->val.rate_limit, s->ports[k].http ?
					      &s->request_limit : &s->connect_limit);
			}
		}
	}
	ids_free_index(&ids);
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
	ids_free_index(&ids);
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
	free(gen->service_ids);
	free(gen->cluster_ids);
	free(gen->vips);
	free(gen->clusters);
	free(gen->eps);
	free(gen->ids);
	free(gen->fresh);
	free(gen->evicted);
	memset(gen, 0, sizeof(*gen));
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Passive outlier detection (struct kmesh_outlier_config): sockops
 * reports each connect's result per endpoint (established or failed); a
 * run of failures ejects the endpoint, and the connect programs pick
 * around ejected endpoints until their time is up. The client's receive
 * path (resp_skb.h) reports each response it reads. Responses that a
 * same-node server's sk_msg pairs are not reported: sk_msg has no stack
 * left for the ejection (the verifier's 512 bytes over its call chain).
 *
 * Nothing runs when an ejection ends: the cluster state remembers when
 * the first of its ejected endpoints returns (recount_ns), and the first
 * connect or ejection after that counts the cluster's ejected endpoints
 * again, which also counts the returns (so does the first connect of a
 * new config generation: its endpoints may differ). Between recounts the
 * number of ejected endpoints is exact; CPUs racing on one cluster can
 * make it briefly stale, never for longer than the next ejection or
 * return.
 */
#ifndef KMESH_L4_OUTLIER_H
#define KMESH_L4_OUTLIER_H

#include "l4_lb.h"

#define KMESH_NS_PER_MS		1000000ULL
/* picks before probing the endpoints in order for one in service */
#define KMESH_OUTLIER_REPICKS	4

/* Outlier events, counted in struct kmesh_l4_stats. */
#define KMESH_OUTLIER_EJECTION	0	/* ejections */
#define KMESH_OUTLIER_OVERFLOW	1	/* ejections_overflow */
#define KMESH_OUTLIER_RETURN	2	/* returns */

/*
 * Count outlier event @event of a cluster and its endpoint. Both have counters
 * already (the endpoint was sent a connect): look them up, do not create
 * them, which would need a zeroed struct on a stack sockops has little of.
 */
static __always_inline void kmesh_outlier_count(__u32 cluster_id, __u32 ep_id,
						__u32 event)
{
	struct kmesh_l4_stats *s;
	__u64 *v;

	s = bpf_map_lookup_elem(&kmesh_cluster_stats, &cluster_id);
	v = s ? (event == KMESH_OUTLIER_EJECTION ? &s->ejections :
		 event == KMESH_OUTLIER_OVERFLOW ?
		 &s->ejections_overflow : &s->returns) : NULL;
	if (v)
		__sync_fetch_and_add(v, 1);
	s = bpf_map_lookup_elem(&kmesh_endpoint_stats, &ep_id);
	v = s ? (event == KMESH_OUTLIER_EJECTION ? &s->ejections :
		 event == KMESH_OUTLIER_OVERFLOW ?
		 &s->ejections_overflow : &s->returns) : NULL;
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* The endpoint at @idx of @c: its outlier state, or NULL. */
static __always_inline struct kmesh_outlier_state *
kmesh_outlier_at(void *endpoints, __u32 cluster_id, __u32 idx, __u32 *ep_id)
{
	struct kmesh_endpoint_key k = { .cluster_id = cluster_id, .index = idx };
	struct kmesh_endpoint *ep;

	ep = bpf_map_lookup_elem(endpoints, &k);
	if (!ep)
		return NULL;
	*ep_id = ep->endpoint_id;
	return bpf_map_lookup_elem(&kmesh_outlier, &ep->endpoint_id);
}

struct kmesh_outlier_scan {
	__u64 now;
	__u64 next_return;	/* earliest end of an ejection still running */
	__u32 slot;		/* generation slot of the endpoints */
	__u32 cluster_id;
	__u32 ejected;
	__u32 n;		/* healthy endpoints */
	__u32 from;		/* probe: the index picked last */
	int found;		/* probe: an index in service, or -1 */
};

/* bpf_loop: is endpoint @i ejected? Count the returns of those that were. */
static long kmesh_outlier_count_one(__u32 i, void *data)
{
	struct kmesh_outlier_scan *sc = data;
	struct kmesh_outlier_state *o;
	void *endpoints;
	__u32 ep_id = 0;
	__u64 until;

	endpoints = bpf_map_lookup_elem(&kmesh_endpoints, &sc->slot);
	if (!endpoints)
		return 1;
	o = kmesh_outlier_at(endpoints, sc->cluster_id, i, &ep_id);
	if (!o)
		return 0;
	until = KMESH_READ_ONCE(o->ejected_until);
	if (sc->now < until) {
		sc->ejected++;
		if (until < sc->next_return)
			sc->next_return = until;
	} else if (KMESH_READ_ONCE(o->ejected) &&
		   __sync_val_compare_and_swap(&o->ejected, 1, 0) == 1) {
		kmesh_outlier_count(sc->cluster_id, ep_id, KMESH_OUTLIER_RETURN);
	}
	return 0;
}

/* Count the cluster's ejected endpoints now; note when to count again. */
static __always_inline __u32 kmesh_outlier_recount(const struct kmesh_l4_cfg *cfg,
						   const struct kmesh_cluster *c,
						   struct kmesh_cluster_state *st,
						   __u64 now)
{
	struct kmesh_outlier_scan sc = {
		.now = now,
		.next_return = ~0ULL,
		.slot = cfg->slot,
		.cluster_id = c->cluster_id,
	};
	__u32 n = c->nr_healthy;

	if (n > KMESH_L4_MAX_CLUSTER_ENDPOINTS)
		n = KMESH_L4_MAX_CLUSTER_ENDPOINTS;
	bpf_loop(n, kmesh_outlier_count_one, &sc, 0);
	st->ejected = sc.ejected;
	st->recount_ns = sc.next_return;
	st->recount_generation = cfg->generation;
	return sc.ejected;
}

/*
 * Are ejections enforced in @c now? Not when none is ejected, nor when
 * fewer than min_health_percent of its endpoints are left in service:
 * then every endpoint is picked, as Envoy's panic threshold does.
 */
static __always_inline bool kmesh_outlier_enforced(const struct kmesh_l4_cfg *cfg,
						   const struct kmesh_cluster *c,
						   __u64 now, bool *all_out)
{
	struct kmesh_cluster_state *st;
	__u64 ejected, n = c->nr_healthy;

	*all_out = false;
	st = bpf_map_lookup_elem(&kmesh_cluster_state, &c->cluster_id);
	if (!st)
		return false;
	if (now >= KMESH_READ_ONCE(st->recount_ns) ||
	    KMESH_READ_ONCE(st->recount_generation) != cfg->generation)
		kmesh_outlier_recount(cfg, c, st, now);
	ejected = KMESH_READ_ONCE(st->ejected);
	if (!ejected || ejected > n)
		return false;
	*all_out = ejected == n;
	return (n - ejected) * 100 >= (__u64)c->outlier.min_health_percent * n;
}

/* bpf_loop: the first endpoint standing by (healthy, past nr_healthy:
 * a farther locality or priority, nearest first) that is in service. */
static long kmesh_outlier_standby_one(__u32 i, void *data)
{
	struct kmesh_outlier_scan *sc = data;
	struct kmesh_endpoint_key k = { .cluster_id = sc->cluster_id };
	struct kmesh_outlier_state *o;
	struct kmesh_endpoint *ep;
	void *endpoints;

	k.index = sc->from + i;
	if (k.index >= sc->n)
		return 1;
	endpoints = bpf_map_lookup_elem(&kmesh_endpoints, &sc->slot);
	if (!endpoints)
		return 1;
	ep = bpf_map_lookup_elem(endpoints, &k);
	/* draining ones come after those standing by: none is left */
	if (!ep || ep->state != KMESH_EP_HEALTHY)
		return 1;
	o = bpf_map_lookup_elem(&kmesh_outlier, &ep->endpoint_id);
	if (o && sc->now < KMESH_READ_ONCE(o->ejected_until))
		return 0;
	sc->found = (int)k.index;
	return 1;
}

/*
 * Every endpoint of the nearest rank is ejected: the endpoints standing by
 * take the connect, nearest first, as Envoy fails over to the next
 * priority (Istio's locality failover needs outlier detection for this).
 * -1 when none is in service either.
 */
static __always_inline int kmesh_outlier_standby(const struct kmesh_l4_cfg *cfg,
						 const struct kmesh_cluster *c,
						 __u64 now)
{
	struct kmesh_outlier_scan sc = {};

	if (c->nr_endpoints <= c->nr_healthy)
		return -1;
	sc.now = now;
	sc.slot = cfg->slot;
	sc.cluster_id = c->cluster_id;
	sc.n = c->nr_endpoints;
	sc.from = c->nr_healthy;
	sc.found = -1;
	bpf_loop(KMESH_L4_MAX_CLUSTER_ENDPOINTS, kmesh_outlier_standby_one, &sc, 0);
	return sc.found;
}

static __always_inline bool kmesh_outlier_ejected_at(const struct kmesh_l4_cfg *cfg,
						     const struct kmesh_cluster *c,
						     __u32 idx, __u64 now)
{
	struct kmesh_outlier_state *o;
	__u32 ep_id;

	o = kmesh_outlier_at(cfg->endpoints, c->cluster_id, idx, &ep_id);
	return o && now < KMESH_READ_ONCE(o->ejected_until);
}

/* bpf_loop: the first endpoint in service after sc->from, in index order. */
static long kmesh_outlier_probe_one(__u32 i, void *data)
{
	struct kmesh_outlier_scan *sc = data;
	struct kmesh_outlier_state *o;
	void *endpoints;
	__u32 idx, ep_id;

	if (!sc->n)
		return 1;
	idx = (sc->from + 1 + i) % sc->n;
	endpoints = bpf_map_lookup_elem(&kmesh_endpoints, &sc->slot);
	if (!endpoints)
		return 1;
	o = kmesh_outlier_at(endpoints, sc->cluster_id, idx, &ep_id);
	if (o && sc->now < KMESH_READ_ONCE(o->ejected_until))
		return 0;
	sc->found = (int)idx;
	return 1;
}

/*
 * kmesh_lb_pick() that skips ejected endpoints, for every policy: pick
 * again (round robin takes the next turn, random and weighted draw again,
 * maglev looks at the next slot of the table) a few times, then take the
 * first endpoint in service after the last pick; when all of them are
 * ejected, the nearest endpoint standing by. -1 when none is in service.
 */
static __always_inline int kmesh_outlier_pick(const struct kmesh_l4_cfg *cfg,
					      const struct kmesh_cluster *c,
					      __u32 src_hash)
{
	struct kmesh_outlier_scan sc = {};
	int idx = kmesh_lb_pick(cfg, c, src_hash), standby;
	bool all_ejected;
	__u64 now;
	__u32 i;

	if (idx < 0 || !(c->flags & KMESH_CLUSTER_F_OUTLIER))
		return idx;
	now = bpf_ktime_get_ns();
	if (!kmesh_outlier_enforced(cfg, c, now, &all_ejected)) {
		if (all_ejected && (standby = kmesh_outlier_standby(cfg, c, now)) >= 0)
			return standby;
		return idx;
	}
	/* unrolled: 6.1's verifier refuses this loop's fall-through back-edge */
#pragma clang loop unroll(full)
	for (i = 1; i < KMESH_OUTLIER_REPICKS; i++) {
		if (!kmesh_outlier_ejected_at(cfg, c, idx, now))
			return idx;
		idx = kmesh_lb_pick(cfg, c, src_hash + i);
		if (idx < 0)
			return idx;
	}
	if (!kmesh_outlier_ejected_at(cfg, c, idx, now))
		return idx;
	sc.now = now;
	sc.slot = cfg->slot;
	sc.cluster_id = c->cluster_id;
	sc.n = c->nr_healthy;
	sc.from = idx;
	sc.found = -1;
	bpf_loop(KMESH_L4_MAX_CLUSTER_ENDPOINTS, kmesh_outlier_probe_one, &sc, 0);
	return sc.found >= 0 ? sc.found : kmesh_outlier_standby(cfg, c, now);
}

/*
 * Eject the endpoint of @o, unless max_ejection_percent of the cluster's
 * healthy endpoints are ejected already (Envoy's rule: one more must
 * still fit). The time grows with its ejections in a row, of which one is
 * forgotten per interval it has been in service since the last.
 */
static __always_inline bool kmesh_outlier_eject(const struct kmesh_l4_cfg *cfg,
						const struct kmesh_cluster *c,
						struct kmesh_outlier_state *o,
						__u32 ep_id, __u64 now)
{
	const struct kmesh_outlier_config *oc = &c->outlier;
	struct kmesh_cluster_state *st;
	__u64 ejected, until, ms, cap, interval, times, last;

	st = bpf_map_lookup_elem(&kmesh_cluster_state, &c->cluster_id);
	if (!st)
		return false;
	/* counts this endpoint's return too, if it has one pending */
	ejected = kmesh_outlier_recount(cfg, c, st, now);
	if ((ejected + 1) * 100 > (__u64)oc->max_ejection_percent * c->nr_healthy) {
		kmesh_outlier_count(c->cluster_id, ep_id, KMESH_OUTLIER_OVERFLOW);
		return false;
	}
	if (__sync_val_compare_and_swap(&o->ejected, 0, 1) != 0)
		return false;	/* another CPU ejected it meanwhile */
	times = o->ejections;
	last = o->ejected_until;
	interval = (__u64)oc->interval_ms * KMESH_NS_PER_MS;
	if (last && interval && now > last) {
		last = (now - last) / interval;
		times = times > last ? times - last : 0;
	}
	times++;
	cap = oc->max_ejection_ms > oc->base_ejection_ms ?
	      oc->max_ejection_ms : oc->base_ejection_ms;
	ms = (__u64)oc->base_ejection_ms * times;
	if (ms > cap)
		ms = cap;
	until = now + ms * KMESH_NS_PER_MS;
	o->ejections = (__u32)times;
	o->ejected_until = until;
	st->ejected = ejected + 1;
	if (until < st->recount_ns)
		st->recount_ns = until;
	kmesh_outlier_count(c->cluster_id, ep_id, KMESH_OUTLIER_EJECTION);
	return true;
}

/* Add one to a run of failures; true when it reaches @threshold (not 0). */
static __always_inline bool kmesh_outlier_run(__u32 *run, __u16 threshold)
{
	__u32 n = __sync_fetch_and_add(run, 1) + 1;

	return threshold && n >= threshold;
}

/* What kmesh_outlier_report() is told; 100..599: an HTTP response's status. */
#define KMESH_OUTLIER_R_CONNECTED	0	/* established; nothing reads its responses */
#define KMESH_OUTLIER_R_CONNECTED_HTTP	1	/* established; its responses are reported */
#define KMESH_OUTLIER_R_CONNECT_FAILED	2	/* never reached ESTABLISHED */

/*
 * A result of endpoint @ep_id of cluster @cluster_id (KMESH_OUTLIER_R_*
 * or a response status). True when it ejected the endpoint. Results from
 * an endpoint that is out already count nothing (connections opened
 * before its ejection still end).
 *
 * The runs, as Envoy keeps them: a connect failure adds to the local
 * origin run and, unless split, to the 5xx and gateway runs (Envoy counts
 * it as a 503); a 5xx response adds to the 5xx run, a 502/503/504 to the
 * gateway run too; any other response ends both; an established connect
 * ends the local origin run, and the other two only where no response of
 * the connection is reported (a tcp port, a server on this node), since
 * there it is the only success there is.
 */
static __noinline __attribute__((unused)) bool
kmesh_outlier_report(__u32 cluster_id, __u32 ep_id, __u32 result)
{
	struct kmesh_outlier_state *o;
	struct kmesh_cluster *c;
	struct kmesh_l4_cfg cfg;
	bool hit = false, gateway;
	__u64 now;

	if (!ep_id)
		return false;
	o = bpf_map_lookup_elem(&kmesh_outlier, &ep_id);
	if (!o)
		return false;
	if (result != KMESH_OUTLIER_R_CONNECT_FAILED && result < 500) {
		/* a success ends runs; write only what changes */
		if (result < 100 && o->connect_failures)
			o->connect_failures = 0;
		if (result == KMESH_OUTLIER_R_CONNECTED_HTTP)
			return false;
		if (o->errors_5xx)
			o->errors_5xx = 0;
		if (o->gateway_errors)
			o->gateway_errors = 0;
		return false;
	}
	if (kmesh_l4_cfg_get(&cfg))
		return false;
	c = bpf_map_lookup_elem(cfg.clusters, &cluster_id);
	if (!c || !(c->flags & KMESH_CLUSTER_F_OUTLIER))
		return false;
	now = bpf_ktime_get_ns();
	if (now < KMESH_READ_ONCE(o->ejected_until))
		return false;
	if (result == KMESH_OUTLIER_R_CONNECT_FAILED) {
		hit |= kmesh_outlier_run(&o->connect_failures,
					 c->outlier.connect_failures);
		/* Envoy counts a connect failure as a 503 unless split */
		if (!(c->outlier.flags & KMESH_OUTLIER_F_SPLIT)) {
			hit |= kmesh_outlier_run(&o->errors_5xx,
						 c->outlier.consecutive_5xx);
			hit |= kmesh_outlier_run(&o->gateway_errors,
						 c->outlier.gateway_errors);
		}
	} else if (result >= 500 && result < 600) {
		gateway = result >= 502 && result <= 504;
		hit |= kmesh_outlier_run(&o->errors_5xx, c->outlier.consecutive_5xx);
		if (gateway)
			hit |= kmesh_outlier_run(&o->gateway_errors,
						 c->outlier.gateway_errors);
		else if (o->gateway_errors)
			o->gateway_errors = 0;
	}
	if (!hit)
		return false;
	/* the run is spent, ejected or not (Envoy starts counting anew) */
	o->connect_failures = 0;
	o->errors_5xx = 0;
	o->gateway_errors = 0;
	return kmesh_outlier_eject(&cfg, c, o, ep_id, now);
}

#endif /* KMESH_L4_OUTLIER_H */

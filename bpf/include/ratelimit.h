/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Local rate limits (struct kmesh_ratelimit): a connect to a tcp port
 * (l4_connect.h) or a request to an http port (l7_msg.h) takes a token
 * from the service's bucket, or is refused; a request of a route with a
 * limit of its own (struct kmesh_l7_route_limit) takes one from the
 * route's bucket first.
 *
 * GCRA: a bucket is one timestamp, tat, the time at which it would be
 * full again. An event at @now conforms when the bucket, refilled to
 * now, still holds a token: max(tat, now) + interval - now <= burst *
 * interval; it then moves tat to max(tat, now) + interval. That is the
 * token bucket exactly (burst events at once from a full bucket, then
 * one per interval), in integers, without a refill step.
 *
 * Concurrency without a lock: tat moves by compare-and-swap from the
 * value the decision was made on, so two CPUs never both spend the same
 * token. A CPU whose swap fails decides again on the new tat, at most
 * KMESH_RL_TRIES times; a CPU that loses every try treats the event as
 * over the limit (the others spent the tokens it was racing for). A
 * bpf_spin_lock would need a hash or array value: the buckets are an
 * LRU hash so that per-source buckets of past clients make room.
 */
#ifndef KMESH_RATELIMIT_H
#define KMESH_RATELIMIT_H

#include "l4_common.h"

#define KMESH_RL_TRIES	4

static __always_inline void kmesh_rl_count(__u32 service_id, __u32 kind,
					   __u32 route_id, bool passed)
{
	struct kmesh_rl_stats_key key = {
		.service_id = service_id, .kind = kind, .route_id = route_id,
	};
	struct kmesh_rl_stats *s, zero = {};

	s = bpf_map_lookup_elem(&kmesh_rl_stats, &key);
	if (!s) {
		bpf_map_update_elem(&kmesh_rl_stats, &key, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&kmesh_rl_stats, &key);
		if (!s)
			return;
	}
	/* per-CPU, but a program on this CPU can be preempted by another */
	if (passed)
		__sync_fetch_and_add(&s->passed, 1);
	else
		__sync_fetch_and_add(&s->limited, 1);
}

/*
 * Spend a token of @rl from the bucket @key names (filled in by the
 * caller but for the source, cleared here without KMESH_RL_F_PER_SOURCE).
 * Returns 0 when the event conforms, else the nanoseconds until a token
 * is due; counts nothing. *@taken is the bucket a token was taken from
 * (for kmesh_rl_refund()), NULL when none was: refused, or no bucket
 * could be created (fails open: conforms).
 */
static __always_inline __u64 kmesh_rl_spend(const struct kmesh_ratelimit *rl,
					    struct kmesh_rl_key *key,
					    struct kmesh_rl_bucket **taken)
{
	struct kmesh_rl_bucket *b, fresh = {};
	__u64 interval = rl->interval_ns, window, now, tat, next, wait;
	int i;

	*taken = NULL;
	if (!interval)
		return 0;
	if (!(rl->flags & KMESH_RL_F_PER_SOURCE)) {
		__builtin_memset(key->src, 0, sizeof(key->src));
		key->netns = 0;
	}
	b = bpf_map_lookup_elem(&kmesh_rl_buckets, key);
	if (!b) {
		bpf_map_update_elem(&kmesh_rl_buckets, key, &fresh, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&kmesh_rl_buckets, key);
		if (!b)
			return 0;
	}
	window = interval * rl->burst;
	now = bpf_ktime_get_ns();
	wait = interval;	/* what losing every race means */
	for (i = 0; i < KMESH_RL_TRIES; i++) {
		tat = KMESH_READ_ONCE(b->tat_ns);
		next = (tat > now ? tat : now) + interval;
		if (next - now > window) {
			wait = next - now - window;
			break;
		}
		if (__sync_val_compare_and_swap(&b->tat_ns, tat, next) == tat) {
			wait = 0;
			*taken = b;
			break;
		}
	}
	return wait;
}

/*
 * Give back a token kmesh_rl_spend() took (another limit refused the
 * event): tat moves back by one interval, atomically, whatever other CPUs
 * did meanwhile, so the bucket is as if the event had never come (a
 * bucket that had refilled past now stays full).
 */
static __always_inline void kmesh_rl_refund(const struct kmesh_ratelimit *rl,
					    struct kmesh_rl_bucket *b)
{
	__sync_fetch_and_add(&b->tat_ns, -rl->interval_ns);
}

/*
 * Take a token of @rl for an event of @kind at service @service_id;
 * @key->src and @key->netns say who the source is (for per-source
 * limits; the rest of @key is filled here). Returns 0 when it conforms
 * (or the service has no limit), else the nanoseconds until a token is
 * due, and counts the outcome. A bucket that cannot be created fails
 * open: counted as passed.
 */
static __always_inline __u64 kmesh_rl_take(const struct kmesh_ratelimit *rl,
					   __u32 service_id, __u32 kind,
					   struct kmesh_rl_key *key)
{
	struct kmesh_rl_bucket *taken;
	__u64 wait;

	if (!rl->interval_ns)
		return 0;
	key->service_id = service_id;
	key->kind = kind;
	key->route_id = 0;
	wait = kmesh_rl_spend(rl, key, &taken);
	kmesh_rl_count(service_id, kind, 0, !wait);
	return wait;
}

#endif /* KMESH_RATELIMIT_H */

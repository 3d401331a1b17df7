/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-request plane in sk_msg. Sockets of the sockhash (meshed service
 * connections) take one of three roles, decided on their first message:
 *
 *  - CLIENT: the client end of a connection to an http service port. Each
 *    request head is parsed (kfunc mode: the module's parser; fallback:
 *    l7_http.h), checked (l7_eval.h) and counted; its body is passed by
 *    count (Content-Length) or by scanning (chunked), so the next head is
 *    always found where the server will find it. A program run covers one
 *    head, or one piece of body: bpf_msg_apply_bytes() cuts the verdict
 *    at the boundary and the kernel runs the program again on the rest of
 *    the message (pipelining). A head split over several writes is held
 *    back whole (bpf_msg_cork_bytes) until it is complete.
 *  - SERVER: the server end, when the client is a local CLIENT: response
 *    heads are parsed for status and framing and matched in order to the
 *    requests (struct l7_conn), for status classes and latency. Never
 *    drops; any surprise ends tracking for the connection.
 *  - OFF: everything else: L4 alone.
 *
 * A refused request never reaches the server. If nothing was passed on
 * the connection yet (so no response can be outstanding), the client gets
 * a real response (403, 404, 400, a route's deny or direct response):
 * the message is rewritten into it and redirected to the client's own
 * receive queue, and the connection goes on. Otherwise the write fails
 * with EACCES, and so does every later one on the connection (the
 * kernel keeps an sk_msg drop verdict for the socket; kmesh does the same
 * on kernels that would not).
 */
#ifndef KMESH_L7_MSG_H
#define KMESH_L7_MSG_H

#include "l4_sock.h"
#include "l7_chunk.h"
#include "l7_eval.h"

#define L7_CONN_CLOSE		KMESH_REPLY_CONN_CLOSE
#define L7_CONN_CLOSE_LEN	(sizeof(L7_CONN_CLOSE) - 1)

/*
 * Replies without a policy: heads kmesh cannot read, unknown routes. The
 * texts are kmod/core/http_rules.h's, as the module and userspace write them.
 */
#define L7_BUILTIN(code)						\
	{ sizeof(KMESH_REPLY_##code##_HEAD) - 1,			\
	  sizeof(KMESH_REPLY_##code##_HEAD "\r\n" KMESH_REPLY_##code##_BODY) - 1, \
	  KMESH_REPLY_##code##_HEAD "\r\n" KMESH_REPLY_##code##_BODY }

struct l7_builtin {
	__u16 head;
	__u16 len;
	char text[124];
};

enum { L7_B400 = 0, L7_B404 = 1, L7_B431 = 2, L7_B421 = 3, L7_B429 = 4 };

static const struct l7_builtin l7_builtins[5] = {
	[L7_B400] = L7_BUILTIN(400),
	[L7_B404] = L7_BUILTIN(404),
	[L7_B431] = L7_BUILTIN(431),
	[L7_B421] = L7_BUILTIN(421),
	[L7_B429] = L7_BUILTIN(429),
};

static const struct { char s[32]; } l7_conn_close = { L7_CONN_CLOSE };

#define L7_RETRY_AFTER_LEN	(sizeof(KMESH_REPLY_RETRY_AFTER) - 1)
#define L7_RETRY_AFTER_MAX	(L7_RETRY_AFTER_LEN + 10 + 2)	/* 10 digits, CRLF */
static const struct { char s[16]; } l7_retry_after = { KMESH_REPLY_RETRY_AFTER };

/* ---- small helpers ---- */

static __always_inline struct l7_scratch *l7_scratch_get(void)
{
	struct l7_scratch *sc;
	__u32 k = 0;

	/*
	 * Two per CPU: sk_msg runs in process context, where a preemptible
	 * kernel could run another sender's program on this CPU meanwhile.
	 */
	sc = bpf_map_lookup_elem(&kmesh_l7_scratch, &k);
	if (sc && __sync_val_compare_and_swap(&sc->busy, 0, 1) == 0)
		return sc;
	k = 1;
	sc = bpf_map_lookup_elem(&kmesh_l7_scratch, &k);
	if (sc && __sync_val_compare_and_swap(&sc->busy, 0, 1) == 0)
		return sc;
	l7_global(KMESH_L7_G_SCRATCH_BUSY);
	return NULL;
}

static __always_inline void l7_scratch_put(struct l7_scratch *sc)
{
	/* BPF has no release store; an exchange is a full barrier */
	__sync_lock_test_and_set(&sc->busy, 0);
}

/* Bucket of a latency: i with latency < 2^i us, or the last (+Inf). */
static __always_inline __u32 l7_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 b = 0;

	/* bits needed for us: the smallest b with us < 2^b */
	if (us >> 32) { b += 32; us >>= 32; }
	if (us >> 16) { b += 16; us >>= 16; }
	if (us >> 8) { b += 8; us >>= 8; }
	if (us >> 4) { b += 4; us >>= 4; }
	if (us >> 2) { b += 2; us >>= 2; }
	if (us >> 1) { b += 1; us >>= 1; }
	b += us;
	return b < KMESH_L7_LAT_BUCKETS - 1 ? b : KMESH_L7_LAT_BUCKETS - 1;
}

static __always_inline void l7_count_response(__u32 service_id,
					      __u32 route_id, __u8 method,
					      __u16 status, __u64 latency)
{
	struct kmesh_l7_stats *s = l7_stats(service_id, route_id, method);
	__u32 cls = status / 100;

	__u32 b = l7_bucket(latency);

	if (!s)
		return;
	cls -= 1;
	if (cls < 5)
		__sync_fetch_and_add(&s->status[cls], 1);
	__sync_fetch_and_add(&s->latency_ns, latency);
	if (b < KMESH_L7_LAT_BUCKETS)
		__sync_fetch_and_add(&s->latency[b], 1);
}

/* Path bytes for a log record or a pending request. */
static __always_inline __u8 l7_copy_path(const struct l7_scratch *sc,
					 char *dst)
{
	const struct l7_view *v = &sc->view;
	__u32 n = v->has_path ? v->path_len : 0;

	if (n > KMESH_L7_LOG_PATH)
		n = KMESH_L7_LOG_PATH;
	/* a fixed-size copy (inlined): bytes past the path are not shown */
	__builtin_memcpy(dst, &sc->buf[L7_BOUND(v->path_off, KMESH_L7_MAX_HEAD - 1)],
			 KMESH_L7_LOG_PATH);
	return (__u8)n;
}

static __always_inline void l7_key_of(struct sk_msg_md *msg,
				      struct kmesh_sock_key *k)
{
	kmesh_key_from_msg(msg, k);
}

/* A request record at request time (refused, or its response unseen). */
static __always_inline void l7_log_request(const struct kmesh_l7_sk *st,
					   const struct kmesh_sk_state *s4,
					   const struct l7_scratch *sc,
					   __u32 service_id, __u32 route_id,
					   __u32 policy_id, __u8 method,
					   __u8 reason, __u16 status,
					   bool parsed)
{
	struct kmesh_l7_log *r = l7_log_new();

	if (!r)
		return;
	kmesh_addr_copy(r->source_addr, st->key.local);
	r->source_port = st->key.local_port;
	kmesh_addr_copy(r->service_addr, s4->svc_addr);
	r->service_port = s4->svc_port;
	r->service_id = service_id;
	r->cluster_id = s4->cluster_id;
	r->endpoint_id = s4->endpoint_id;
	r->route_id = route_id;
	r->policy_id = policy_id;
	r->status = status;
	r->method = method;
	r->reason = reason;
	r->flags = reason ? KMESH_L7_LOG_F_REPLIED : 0;
	if (parsed)
		r->path_len = l7_copy_path(sc, r->path);
	bpf_ringbuf_submit(r, 0);
}

/* ---- the live config of a client's service ---- */

struct l7_svc {
	__u32 service_id;
	__u32 route_table_id;
	__u32 parse_opts;	/* kmesh_l7_parse_opts() of its flags */
	bool http;
	const struct kmesh_l7_policy *pol;
	void *cidrs;
	const struct kmesh_ratelimit *rate_limit;	/* the port's request limit */
};

static __always_inline void l7_svc_get(const struct kmesh_sk_state *s4,
				       struct l7_svc *out)
{
	struct kmesh_service_key key = {};
	struct kmesh_l4_generation *gen;
	struct kmesh_service *svc;
	struct kmesh_l4_cfg cfg;
	__u32 zero = 0, slot;
	void *inner;

	__builtin_memset(out, 0, sizeof(*out));
	if (kmesh_l4_cfg_get(&cfg))
		return;
	kmesh_addr_copy(key.addr, s4->svc_addr);
	key.port = s4->svc_port;
	key.protocol = KMESH_PROTO_TCP;
	svc = bpf_map_lookup_elem(cfg.services, &key);
	if (!svc)
		return;
	out->service_id = svc->service_id;
	out->route_table_id = svc->route_table_id;
	out->http = svc->flags & KMESH_SVC_F_HTTP;
	out->parse_opts = kmesh_l7_parse_opts(svc->flags);
	out->rate_limit = &svc->rate_limit;
	/* the policy of the slot cfg was taken from */
	gen = bpf_map_lookup_elem(&kmesh_generation, &zero);
	if (!gen)
		return;
	slot = KMESH_READ_ONCE(gen->slot);
	inner = bpf_map_lookup_elem(&kmesh_l7_policy, &slot);
	if (inner)
		out->pol = bpf_map_lookup_elem(inner, &out->service_id);
	out->cidrs = bpf_map_lookup_elem(&kmesh_l7_cidrs, &slot);
}

static __always_inline __u64 l7_sets(void *cidrs, __u32 service_id, __u32 dir,
				     const __u32 *addr)
{
	struct kmesh_l7_cidr_key key = {
		.prefixlen = 64 + 128,
		.service_id = bpf_htonl(service_id),
		.dir = bpf_htonl(dir),
	};
	__u64 *sets;

	if (!cidrs)
		return 0;
	kmesh_addr_copy(key.addr, addr);
	sets = bpf_map_lookup_elem(cidrs, &key);
	return sets ? *sets : 0;
}

/* ---- moving bytes between the message and the scratch ---- */

/*
 * Copy message bytes [0, n) (after pulling them linear) to sc->buf; bytes
 * copied. Word by word: no helper copies packet data for sk_msg (and
 * libbpf 1.1 turns bpf_probe_read_kernel into the legacy bpf_probe_read
 * where it cannot probe tracing programs). Global: one verification.
 */
__noinline int kmesh_l7_copy_head(struct sk_msg_md *msg, struct l7_scratch *sc,
				  __u32 n)
{
	void *data, *end;
	__u32 i, k;

	if (!sc || !n || n > KMESH_L7_MAX_HEAD || bpf_msg_pull_data(msg, 0, n, 0))
		return 0;
	data = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	/* the pull made [data, data_end) exactly the n bytes */
	for (i = 0; i < KMESH_L7_MAX_HEAD / 8; i++) {
		__u64 *p = data + i * 8;

		if ((void *)(p + 1) > end)
			break;
		*(__u64 *)&sc->buf[i * 8] = *p;
	}
	i *= 8;
	for (k = 0; k < 8; k++) {
		__u8 *p = data + i + k;

		if ((void *)(p + 1) > end)
			break;
		sc->buf[(i + k) & L7_BUF_MASK] = *p;
	}
	return (int)(i + k);
}

static __always_inline __u32 l7_copy_head(struct sk_msg_md *msg,
					  struct l7_scratch *sc, __u32 n)
{
	return (__u32)kmesh_l7_copy_head(msg, sc, n);
}

struct l7_copy_ctx {
	struct l7_scratch *sc;
	const struct kmesh_l7_policy *pol;
	__u32 dst;
	__u32 src;
};

static long l7_copy_pol(__u32 i, struct l7_copy_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	const struct kmesh_l7_policy *pol = ctx->pol;

	if (!sc || !pol)
		return 1;
	sc->buf[(ctx->dst + i) & L7_BUF_MASK] =
		pol->strings[(ctx->src + i) & L7_STR_MASK];
	return 0;
}

/*
 * "retry-after: <secs>\r\n" at @at in the scratch (secs at least 1);
 * its length.
 */
static __always_inline __u32 l7_put_retry_after(struct l7_scratch *sc,
						__u32 at, __u32 secs)
{
	__u32 i, n = L7_RETRY_AFTER_LEN, div = 1;

	for (i = 0; i < L7_RETRY_AFTER_LEN; i++)
		sc->buf[(at + i) & L7_BUF_MASK] = l7_retry_after.s[i];
	if (!secs)
		secs = 1;
	for (i = 0; i < 9 && secs / div >= 10; i++)
		div *= 10;
	for (i = 0; i < 10; i++) {
		sc->buf[(at + n++) & L7_BUF_MASK] = '0' + secs / div % 10;
		if (div == 1)
			break;
		div /= 10;
	}
	sc->buf[(at + n++) & L7_BUF_MASK] = '\r';
	sc->buf[(at + n++) & L7_BUF_MASK] = '\n';
	return n;
}

/*
 * Build the reply for @d at L7_RESP_OFF: its head, "connection: close"
 * when @close, then the rest. Returns its length, 0 if there is none.
 */
static __always_inline __u32 l7_build_reply(struct l7_scratch *sc,
					    const struct kmesh_l7_policy *pol,
					    const struct l7_decision *d,
					    bool close)
{
	struct l7_copy_ctx ctx = { .sc = sc, .pol = pol };
	__u32 head, len, i, at = L7_RESP_OFF;

	if (d->pol_reply) {
		if (!pol)
			return 0;
		head = d->resp_head;
		len = d->resp_len;
		if (!len || head > len || len > KMESH_L7_MAX_RESP)
			return 0;
		ctx.dst = at;
		ctx.src = d->resp_off;
		bpf_loop(head, l7_copy_pol, &ctx, 0);
		at += head;
		if (close) {
			for (i = 0; i < L7_CONN_CLOSE_LEN; i++)
				sc->buf[(at + i) & L7_BUF_MASK] = l7_conn_close.s[i];
			at += L7_CONN_CLOSE_LEN;
		}
		ctx.dst = at;
		ctx.src = d->resp_off + head;
		bpf_loop(len - head, l7_copy_pol, &ctx, 0);
		return len + (close ? L7_CONN_CLOSE_LEN : 0);
	} else {
		const struct l7_builtin *b;
		__u32 which = d->status == 404 ? L7_B404 :
			      d->status == 431 ? L7_B431 :
			      d->status == 421 ? L7_B421 :
			      d->status == 429 ? L7_B429 : L7_B400;
		__u32 extra = 0;

		b = &l7_builtins[which];
		head = b->head;
		len = b->len;
		if (head > len || len > sizeof(b->text))
			return 0;
		for (i = 0; i < sizeof(b->text); i++) {
			if (i >= head)
				break;
			barrier_var(i);	/* a loop, not a memcpy call */
			sc->buf[(at + i) & L7_BUF_MASK] = b->text[i];
		}
		at += head;
		if (which == L7_B429) {
			extra = l7_put_retry_after(sc, at, d->retry_after);
			at += extra;
		}
		if (close) {
			for (i = 0; i < L7_CONN_CLOSE_LEN; i++)
				sc->buf[(at + i) & L7_BUF_MASK] = l7_conn_close.s[i];
			at += L7_CONN_CLOSE_LEN;
		}
		for (i = 0; i < sizeof(b->text); i++) {
			if (head + i >= len)
				break;
			sc->buf[(at + i) & L7_BUF_MASK] = b->text[(head + i) & 127];
		}
		return len + extra + (close ? L7_CONN_CLOSE_LEN : 0);
	}
}

/*
 * Replace message bytes [0, @consumed) with the reply built at
 * L7_RESP_OFF (@r bytes) and send it to the client's own receive queue.
 * Returns the verdict, or -1 when the message could not be rewritten.
 */
struct l7_write_ctx {
	void *data;
	void *end;
	struct l7_scratch *sc;
	__u32 len;
};

/* Reply byte @i into the (pulled) message. */
static long l7_write_byte(__u32 i, struct l7_write_ctx *ctx)
{
	struct l7_scratch *sc = ctx->sc;
	__u8 *p = ctx->data;

	if (!sc)
		return 1;
	p += i & 4095;
	if ((void *)(p + 1) > ctx->end)
		return 1;
	*p = sc->buf[(L7_RESP_OFF + i) & L7_BUF_MASK];
	sc->wused = i + 1;
	return 0;
}

static __always_inline int l7_send_reply(struct sk_msg_md *msg,
					 struct kmesh_l7_sk *st,
					 struct l7_scratch *sc, __u32 r,
					 __u32 consumed)
{
	struct l7_write_ctx ctx;

	if (!r || r > KMESH_L7_MAX_RESP + L7_CONN_CLOSE_LEN || !consumed)
		return -1;
	if (r > consumed) {
		if (bpf_msg_push_data(msg, 0, r - consumed, 0))
			return -1;
	} else if (r < consumed) {
		if (bpf_msg_pop_data(msg, r, consumed - r, 0))
			return -1;
	}
	if (bpf_msg_pull_data(msg, 0, r, 0))
		return -1;
	ctx.data = (void *)(long)msg->data;
	ctx.end = (void *)(long)msg->data_end;
	ctx.sc = sc;
	ctx.len = r;
	sc->wused = 0;
	bpf_loop(r, l7_write_byte, &ctx, 0);
	if (sc->wused != r)
		return -1;
	bpf_msg_apply_bytes(msg, r < KMESH_CTX_LOAD(msg, size) ? r : 0);
	return bpf_msg_redirect_hash(msg, &kmesh_sockhash, &st->key,
				     BPF_F_INGRESS);
}

/* ---- client: requests ---- */

/*
 * Refuse the request at the start of the message: a reply when nothing
 * was passed yet, else drop (EACCES) and refuse everything after.
 * @consumed: bytes of the message the refused request takes (0: unknown,
 * it goes on past the message: the reply then closes the connection).
 */
static __always_inline int l7_refuse(struct sk_msg_md *msg,
				     const struct kmesh_sk_state *s4,
				     struct kmesh_l7_sk *st,
				     struct l7_scratch *sc,
				     const struct kmesh_l7_policy *pol,
				     const struct l7_decision *d,
				     __u32 service_id, __u8 method,
				     __u32 consumed, bool parsed, bool corked)
{
	struct kmesh_l7_stats *s;
	__u32 size = KMESH_CTX_LOAD(msg, size), r;
	bool close;
	int v;

	l7_global(KMESH_L7_G_DENIED);
	s = l7_stats(service_id, d->route_known ? d->route_id : 0, method);
	if (s) {
		if (d->reason == KMESH_L7_R_DIRECT)
			__sync_fetch_and_add(&s->direct, 1);
		else
			__sync_fetch_and_add(&s->denied, 1);
	}
	l7_log_request(st, s4, sc, service_id, d->route_known ? d->route_id : 0,
		       d->policy_id, method, d->reason, d->status, parsed);
	if (st->passed || !sc)
		goto drop;
	/* A corked message must be answered whole (see l7_pass). */
	close = !consumed || consumed > size || (corked && consumed < size);
	if (close)
		consumed = size;
	r = l7_build_reply(sc, pol, d, close);
	v = l7_send_reply(msg, st, sc, r, consumed);
	if (v < 0) {
		l7_global(KMESH_L7_G_INTERNAL);
		goto drop;
	}
	if (close)
		st->dead = 1;
	l7_global(KMESH_L7_G_REPLIED);
	return v;
drop:
	st->dead = 1;
	l7_global(KMESH_L7_G_DROPPED);
	bpf_msg_apply_bytes(msg, 0);
	return SK_DROP;
}

/*
 * Pass the first @n bytes of the message (the rest gets another run).
 * A corked message cannot be redirected in part: the kernel frees what
 * follows the part (tcp_bpf_send_verdict), so that case is refused.
 */
static __always_inline int l7_pass(struct sk_msg_md *msg,
				   struct kmesh_sk_state *s4,
				   struct kmesh_l7_sk *st, __u32 n, bool corked)
{
	__u32 size = KMESH_CTX_LOAD(msg, size);
	int v;

	if (!n || n > size) {
		l7_global(KMESH_L7_G_INTERNAL);
		st->dead = 1;
		return SK_DROP;
	}
	bpf_msg_apply_bytes(msg, n < size ? n : 0);
	v = kmesh_msg_verdict_n(msg, n);
	if (v == SK_DROP)
		l7_global(KMESH_L7_G_INTERNAL);	/* the redirect failed */
	if (corked && n < size && s4->redir == KMESH_REDIR_YES) {
		l7_global(KMESH_L7_G_INTERNAL);
		st->dead = 1;
		bpf_msg_apply_bytes(msg, 0);
		return SK_DROP;
	}
	return v;
}

/* Bytes of a chunked body in the message from @off; a chunk status. */
static __always_inline int l7_chunks(struct sk_msg_md *msg,
				     struct l7_scratch *sc,
				     struct kmesh_l7_sk *st, __u32 off,
				     __u32 *used, bool kfunc)
{
	int rc;

	*used = 0;
	if (off >= KMESH_CTX_LOAD(msg, size))
		return KMESH_CHUNK_NEED_MORE;
	if (kfunc) {
		rc = bpf_kmesh_msg_chunks(msg, off, &st->chunk, sizeof(st->chunk));
		if (rc < 0)
			return KMESH_CHUNK_E_INVAL;
		*used = st->chunk.consumed;
		return rc;
	}
	if (!sc)
		return KMESH_CHUNK_E_INVAL;
	rc = kmesh_l7_chunks_fb(msg, sc, &st->chunk, off);
	*used = sc->found;
	return rc;
}

/*
 * The request's route sends it to clusters its kept-alive connection is
 * not open to. Routing is per connection, so it would go where the
 * connection goes: count it, and refuse it with 421 if the service says
 * so (the client then retries on a new connection, routed by it).
 */
static __always_inline void l7_other_cluster(__u32 service_id, __u32 pol_flags,
					     const struct l7_scratch *sc,
					     struct l7_decision *d)
{
	struct kmesh_l7_stats *s;

	if (d->reason || !d->route_known)
		return;
	s = l7_stats(service_id, d->route_id, sc->view.method);
	if (s)
		__sync_fetch_and_add(&s->other_cluster, 1);
	if (pol_flags & KMESH_L7_PF_REFUSE_OTHER_CLUSTER) {
		d->reason = KMESH_L7_R_OTHER_CLUSTER;
		d->status = 421;
	}
}

/*
 * A request policy let through (sc->d) takes a token of its route's limit
 * (in @pol, when the route has one) and then of the port's request limit
 * @rl, or is refused with 429 and a retry-after. One refused by the
 * route's limit takes none of the service's; one the service's refuses
 * gives the route's token back, so neither bucket pays for a request the
 * other refused. A route limit with KMESH_RL_F_REPLACES_SERVICE stands
 * for the service's. Per source, the client is the connection's own
 * address. Global: its stack is its own frame, off the request path's
 * deepest call chain, which is at the verifier's 512 bytes.
 */
__noinline int kmesh_l7_rate_limit(struct l7_scratch *sc,
				   const struct kmesh_l7_policy *pol,
				   const struct kmesh_ratelimit *rl,
				   __u32 service_id, const struct kmesh_l7_sk *st)
{
	struct kmesh_rl_bucket *route_b = NULL, *svc_b;
	const struct kmesh_ratelimit *route_rl = NULL;
	struct kmesh_rl_key key = {};
	__u32 route_id = 0;
	__u64 wait = 0;

	if (!sc || !st)
		return 0;
	if (pol && sc->d.route_known) {
		route_id = sc->d.route_id;
		if (l7_route_limit(pol, route_id, &sc->d.route_limit))
			route_rl = &sc->d.route_limit;
	}
	if (route_rl && (route_rl->flags & KMESH_RL_F_REPLACES_SERVICE))
		rl = NULL;
	if (route_rl && route_rl->interval_ns) {
		key.service_id = service_id;
		key.kind = KMESH_RL_ROUTE_REQUESTS;
		key.route_id = route_id;
		kmesh_addr_copy(key.src, st->key.local);
		wait = kmesh_rl_spend(route_rl, &key, &route_b);
		if (wait) {
			kmesh_rl_count(service_id, KMESH_RL_ROUTE_REQUESTS,
				       route_id, false);
			goto limited;
		}
	}
	if (rl && rl->interval_ns) {
		key.service_id = service_id;
		key.kind = KMESH_RL_REQUESTS;
		key.route_id = 0;
		kmesh_addr_copy(key.src, st->key.local);
		wait = kmesh_rl_spend(rl, &key, &svc_b);
		kmesh_rl_count(service_id, KMESH_RL_REQUESTS, 0, !wait);
		if (wait) {
			if (route_b && route_rl)
				kmesh_rl_refund(route_rl, route_b);
			goto limited;
		}
	}
	if (route_rl && route_rl->interval_ns)
		kmesh_rl_count(service_id, KMESH_RL_ROUTE_REQUESTS, route_id, true);
	return 0;
limited:
	sc->d.reason = KMESH_L7_R_RATE_LIMITED;
	sc->d.status = 429;
	sc->d.pol_reply = 0;
	sc->d.retry_after = (__u32)((wait + 999999999ULL) / 1000000000ULL);
	return 1;
}

/* Record an allowed request: counters, and its pending entry or log. */
static __always_inline void l7_allowed(struct sk_msg_md *msg,
				       const struct kmesh_sk_state *s4,
				       struct kmesh_l7_sk *st,
				       const struct l7_scratch *sc,
				       __u32 service_id, __u32 route_id)
{
	struct kmesh_l7_stats *s = l7_stats(service_id, route_id, sc->view.method);
	struct l7_pending *p;
	struct l7_conn *c = NULL;
	__u32 head, tail;

	if (s)
		__sync_fetch_and_add(&s->allowed, 1);
	/* responses are paired by this socket's receive path (resp_skb.h)
	 * or by a local server's sk_msg (l7_response) */
	{
		if (!st->passed) {
			/* first request: a fresh entry, whatever an old
			 * connection with this 4-tuple left */
			struct l7_zero *z;
			__u32 zero = 0;

			z = bpf_map_lookup_elem(&kmesh_l7_zero, &zero);
			if (z && !bpf_map_update_elem(&kmesh_l7_conns, &st->key,
						      &z->conn, BPF_ANY)) {
				c = bpf_map_lookup_elem(&kmesh_l7_conns, &st->key);
				if (c) {
					c->service_id = service_id;
					kmesh_addr_copy(c->src_addr, st->key.local);
					c->src_port = st->key.local_port;
					kmesh_addr_copy(c->svc_addr, s4->svc_addr);
					c->svc_port = s4->svc_port;
					c->cluster_id = s4->cluster_id;
					c->endpoint_id = s4->endpoint_id;
					/* else set at ESTABLISHED (a deferred
					 * connect's first request comes first) */
					c->client_reads = !!(s4->flags & KMESH_SK_F_RESP_RX);
					st->tracked = 1;
				}
			}
		} else if (st->tracked) {
			c = bpf_map_lookup_elem(&kmesh_l7_conns, &st->key);
		}
	}
	st->passed++;
	if (!c || c->broken) {
		l7_global(KMESH_L7_G_UNTRACKED);
		l7_log_request(st, s4, sc, service_id, route_id, 0,
			       sc->view.method, KMESH_L7_R_ALLOW, 0, true);
		return;
	}
	head = KMESH_READ_ONCE(c->head);
	tail = c->tail;
	if (tail - head >= KMESH_L7_FIFO) {
		/* pipelined too deep: pairing would slip, stop it */
		c->broken = 1;
		l7_global(KMESH_L7_G_FIFO_FULL);
		l7_log_request(st, s4, sc, service_id, route_id, 0,
			       sc->view.method, KMESH_L7_R_ALLOW, 0, true);
		return;
	}
	p = &c->fifo[tail & (KMESH_L7_FIFO - 1)];
	p->start_ns = bpf_ktime_get_ns();
	p->route_id = route_id;
	p->method = sc->view.method;
	p->path_len = l7_copy_path(sc, p->path);
	/* the entry is written before the server can see it */
	__sync_fetch_and_add(&c->tail, 1);
}

/*
 * A head kmesh cannot check, though a server may take it: over kmesh's
 * head limit, or a target form the fallback parser does not read.
 * Invalid HTTP is never among them.
 */
static __always_inline bool l7_cannot_check(const struct l7_scratch *sc,
					    int status, __u32 size, bool kfunc)
{
	if (status == KMESH_HTTP_E_HEAD_TOO_LARGE)
		return true;
	if (status == KMESH_HTTP_NEED_MORE && size >= KMESH_L7_MAX_HEAD)
		return true;
	return !kfunc && sc->ps.unsupported;
}

/*
 * failure_mode_allow: pass it, and the rest of the connection, unread
 * (where its body ends is unknown, so no later head can be found).
 */
static __always_inline int l7_unchecked(struct sk_msg_md *msg,
					struct kmesh_l7_sk *st)
{
	l7_global(KMESH_L7_G_UNCHECKED);
	st->role = L7_ROLE_OFF;
	bpf_msg_apply_bytes(msg, 0);
	return kmesh_msg_verdict(msg);
}

/*
 * Judge the request in sc->req (spans into sc->buf): policy, route (the
 * module's table in kfunc mode when the service has one), rate limits;
 * the outcome in @d. Also the HTTP/2 streams' judge (l7_h2.h). -1 when
 * the head cannot be viewed (400 in @d).
 */
static __always_inline int l7_judge(struct l7_scratch *sc,
				    const struct l7_svc *svc,
				    const struct kmesh_sk_state *s4,
				    struct kmesh_l7_sk *st, bool kfunc,
				    struct l7_decision *d)
{
	int rc;

	if (kmesh_l7_view(sc, svc->pol, st->svc_port)) {
		d->reason = KMESH_L7_R_BAD_REQUEST;
		d->status = 400;
		return -1;
	}
	if (svc->pol) {
		if (svc->pol->flags & KMESH_L7_PF_SRC_SETS)
			sc->view.src_sets = l7_sets(svc->cidrs, svc->service_id,
						    KMESH_L7_DIR_SRC, st->key.local);
		if (svc->pol->flags & KMESH_L7_PF_DST_SETS)
			sc->view.dst_sets = l7_sets(svc->cidrs, svc->service_id,
						    KMESH_L7_DIR_DST, st->key.remote);
		/* kfunc mode routes with the module's table when there is one */
		kmesh_l7_decide(sc, svc->pol, !kfunc || !svc->route_table_id, d);
		if (kfunc && svc->route_table_id &&
		    (svc->pol->flags & KMESH_L7_PF_HAS_ROUTES)) {
			struct kmesh_route_query *q = &sc->q;

			__builtin_memset(q, 0, sizeof(*q));
			q->table_id = svc->route_table_id;
			q->rand = bpf_get_prandom_u32();
			q->stay_cluster = s4->cluster_id;
			rc = l7_route_by_module(sc, svc->pol, q, d);
			if (rc >= 0 && (q->verdict.kind == KMESH_RT_V_ROUTE ||
					q->verdict.kind == KMESH_RT_V_DENY ||
					q->verdict.kind == KMESH_RT_V_DIRECT) &&
			    (q->verdict.flags & KMESH_RT_VF_OTHER_CLUSTER))
				l7_other_cluster(svc->service_id,
						 svc->pol->flags, sc, d);
		}
	}
	if (!d->reason && ((svc->rate_limit && svc->rate_limit->interval_ns) ||
			   (svc->pol && svc->pol->nr_route_limits)))
		kmesh_l7_rate_limit(sc, svc->pol, svc->rate_limit,
				    svc->service_id, st);
	return 0;
}

/* A request head at the start of the message. */
static __always_inline int l7_request(struct sk_msg_md *msg, bool kfunc,
				      bool corked)
{
	struct l7_decision *d;
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct l7_scratch *sc;
	struct l7_svc svc;
	__u32 size = KMESH_CTX_LOAD(msg, size), len, n, used, head_len;
	__u64 cl;
	int status, rc, v;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	if (!s4 || !st) {
		l7_global(KMESH_L7_G_INTERNAL);
		return SK_DROP;
	}
	sc = l7_scratch_get();
	if (!sc) {
		st->dead = 1;
		return SK_DROP;
	}
	d = &sc->d;
	__builtin_memset(d, 0, sizeof(*d));
	len = size < KMESH_L7_MAX_HEAD ? size : KMESH_L7_MAX_HEAD;
	sc->len = l7_copy_head(msg, sc, len);
	if (sc->len != len) {
		l7_global(KMESH_L7_G_INTERNAL);	/* the pull failed */
		l7_scratch_put(sc);
		st->dead = 1;
		return SK_DROP;
	}
	/* the service's path_normalization decides what the parser takes */
	l7_svc_get(s4, &svc);
	if (kfunc) {
		L7_ZERO(&sc->req, sizeof(sc->req));
		if (svc.parse_opts & KMESH_L7_PARSE_ESCAPED_SLASHES)
			sc->req.parse_opts = KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES;
		status = bpf_kmesh_http_parse(&sc->req, sizeof(sc->req), sc->buf,
					      L7_BOUND(sc->len, KMESH_L7_MAX_HEAD * 2 - 1));
	} else {
		status = kmesh_l7_parse(sc, svc.parse_opts);
	}
	if (!svc.service_id)
		svc.service_id = st->service_id;
	if (status == KMESH_HTTP_NEED_MORE && size < KMESH_L7_MAX_HEAD) {
		/* hold it back until the head is complete */
		bpf_msg_cork_bytes(msg, size + 1);
		bpf_msg_apply_bytes(msg, 0);
		st->corked = 1;
		l7_global(KMESH_L7_G_CORKED);
		l7_scratch_put(sc);
		return SK_DROP;	/* what applies if the kernel cannot cork */
	}
	l7_global(KMESH_L7_G_REQUESTS);
	if (status != KMESH_HTTP_OK && svc.pol &&
	    (svc.pol->flags & KMESH_L7_PF_FAIL_OPEN) &&
	    l7_cannot_check(sc, status, size, kfunc)) {
		l7_scratch_put(sc);
		return l7_unchecked(msg, st);
	}
	if (status != KMESH_HTTP_OK) {
		d->reason = status == KMESH_HTTP_NEED_MORE ||
			   status == KMESH_HTTP_E_HEAD_TOO_LARGE ?
			   KMESH_L7_R_TOO_LARGE : KMESH_L7_R_BAD_REQUEST;
		d->status = d->reason == KMESH_L7_R_TOO_LARGE ? 431 : 400;
		v = l7_refuse(msg, s4, st, sc, NULL, d, svc.service_id, 0, 0,
			      false, corked);
		l7_scratch_put(sc);
		return v;
	}
	head_len = sc->req.head_len;
	if (l7_judge(sc, &svc, s4, st, kfunc, d))
		goto refuse;
	/* the body: Content-Length counted, chunked scanned */
	n = head_len;
	cl = sc->req.content_length;
	if (sc->req.flags & KMESH_HTTP_F_CHUNKED) {
		__builtin_memset(&st->chunk, 0, sizeof(st->chunk));
		rc = l7_chunks(msg, sc, st, head_len, &used, kfunc);
		if (rc != KMESH_CHUNK_NEED_MORE && rc != KMESH_CHUNK_DONE) {
			if (!d->reason) {
				d->reason = KMESH_L7_R_BAD_BODY;
				d->status = 400;
			}
			goto refuse;
		}
		n += used;
		if (d->reason)
			goto refuse;
		st->chunked = rc != KMESH_CHUNK_DONE;
	} else if (cl) {
		used = size - head_len;
		if (cl < used)
			used = (__u32)cl;
		if (d->reason) {
			n = head_len + cl <= size ? head_len + (__u32)cl : 0;
			goto refuse_n;
		}
		n += used;
		st->body_left = cl - used;
	} else if (d->reason) {
		goto refuse;
	}
	v = l7_pass(msg, s4, st, n, corked);
	if (v == SK_DROP) {
		l7_scratch_put(sc);
		return v;
	}
	l7_allowed(msg, s4, st, sc, svc.service_id,
		   d->route_known ? d->route_id : 0);
	l7_scratch_put(sc);
	return v;
refuse:
	/* chunked: where the body ends is unknown here; close after it */
	n = sc->req.flags & KMESH_HTTP_F_CHUNKED ? 0 : head_len;
refuse_n:
	v = l7_refuse(msg, s4, st, sc, svc.pol, d, svc.service_id,
		      sc->view.method, n, true, corked);
	l7_scratch_put(sc);
	return v;
}

/*
 * Each role's work is a global function, one copy per variant: the
 * verifier checks a global function once, whatever the paths into it,
 * and the fallback program never holds a kfunc call.
 */
__noinline int kmesh_l7_request_fb(struct sk_msg_md *msg, __u32 corked)
{
	return l7_request(msg, false, corked);
}

__noinline int kmesh_l7_request_kf(struct sk_msg_md *msg, __u32 corked)
{
	return l7_request(msg, true, corked);
}

/* l7_client(): not a verdict, a request head starts the message */
#define L7_AT_HEAD	0x100
#define L7_CORKED	0x200
#define L7_FIRST	0x400	/* nothing passed yet */

static __always_inline int l7_client(struct sk_msg_md *msg, bool kfunc)
{
	struct l7_decision d = {};
	struct l7_scratch *sc = NULL;
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	__u32 size = KMESH_CTX_LOAD(msg, size), n, used;
	bool corked;
	int rc;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	if (!s4 || !st) {
		l7_global(KMESH_L7_G_INTERNAL);
		return SK_DROP;
	}
	corked = st->corked;
	st->corked = 0;
	if (st->dead) {
		bpf_msg_apply_bytes(msg, 0);
		return SK_DROP;
	}
	if (st->body_left) {
		n = st->body_left < size ? (__u32)st->body_left : size;
		st->body_left -= n;
		return l7_pass(msg, s4, st, n, corked);
	}
	if (st->chunked) {
		if (!kfunc) {
			sc = l7_scratch_get();
			if (!sc) {
				st->dead = 1;
				return SK_DROP;
			}
		}
		rc = l7_chunks(msg, sc, st, 0, &used, kfunc);
		if (sc)
			l7_scratch_put(sc);
		if (rc == KMESH_CHUNK_DONE) {
			st->chunked = 0;
		} else if (rc != KMESH_CHUNK_NEED_MORE) {
			/* the head went through already: drop from here on */
			d.reason = KMESH_L7_R_BAD_BODY;
			d.status = 400;
			return l7_refuse(msg, s4, st, NULL, NULL, &d,
					 st->service_id, 0, 0, false, corked);
		}
		return l7_pass(msg, s4, st, used, corked);
	}
	if (st->tracked) {
		struct l7_conn *c;

		c = bpf_map_lookup_elem(&kmesh_l7_conns, &st->key);
		if (c && c->opaque) {
			/* the server switched protocols: not HTTP any more */
			st->role = L7_ROLE_OFF;
			bpf_msg_apply_bytes(msg, 0);
			return kmesh_msg_verdict(msg);
		}
	}
	/* a head: the caller runs the request step (one frame less deep) */
	return L7_AT_HEAD | (corked ? L7_CORKED : 0) | (st->passed ? 0 : L7_FIRST);
}

__noinline int kmesh_l7_client_fb(struct sk_msg_md *msg)
{
	return l7_client(msg, false);
}

__noinline int kmesh_l7_client_kf(struct sk_msg_md *msg)
{
	return l7_client(msg, true);
}

/* The record of a request whose response was paired (or whose response
 * head could not be parsed: KMESH_L7_LOG_F_UNPARSED, status 0). */
static __always_inline void l7_log_response(const struct l7_conn *c,
					    const struct l7_pending *p,
					    __u16 status, __u64 now, __u8 flags)
{
	struct kmesh_l7_log *r = l7_log_new();

	if (!r)
		return;
	r->timestamp_ns = now;
	r->latency_ns = now - p->start_ns;
	kmesh_addr_copy(r->source_addr, c->src_addr);
	kmesh_addr_copy(r->service_addr, c->svc_addr);
	r->source_port = c->src_port;
	r->service_port = c->svc_port;
	r->service_id = c->service_id;
	r->cluster_id = c->cluster_id;
	r->endpoint_id = c->endpoint_id;
	r->route_id = p->route_id;
	r->status = status;
	r->method = p->method;
	r->flags = KMESH_L7_LOG_F_TRACKED | flags;
	r->path_len = p->path_len > KMESH_L7_LOG_PATH ? KMESH_L7_LOG_PATH :
		      p->path_len;
	__builtin_memcpy(r->path, p->path, KMESH_L7_LOG_PATH);
	bpf_ringbuf_submit(r, 0);
}

/* ---- server: responses ---- */

static __always_inline int l7_stop_tracking(struct sk_msg_md *msg,
					    struct kmesh_l7_sk *st)
{
	l7_global(KMESH_L7_G_RESP_ERROR);
	st->role = L7_ROLE_OFF;
	bpf_msg_apply_bytes(msg, 0);
	return kmesh_msg_verdict(msg);
}

/* Pass @n response bytes; responses are never refused. */
static __always_inline int l7_resp_pass(struct sk_msg_md *msg,
					struct kmesh_l7_sk *st, __u32 n)
{
	__u32 size = KMESH_CTX_LOAD(msg, size);

	if (!n || n > size)
		return l7_stop_tracking(msg, st);
	bpf_msg_apply_bytes(msg, n < size ? n : 0);
	return kmesh_msg_verdict_n(msg, n);
}

static __always_inline int l7_response(struct sk_msg_md *msg, bool kfunc)
{
	struct kmesh_l7_sk *st;
	struct l7_scratch *sc;
	struct l7_pending *p = NULL;
	struct l7_conn *c;
	__u32 size = KMESH_CTX_LOAD(msg, size), len, n, used, head;
	__u16 status;
	__u8 method = 0;
	__u64 cl, now;
	bool tunnel;
	int rc;

	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	if (!st)
		return kmesh_msg_verdict(msg);
	if (st->body_left) {
		n = st->body_left < size ? (__u32)st->body_left : size;
		st->body_left -= n;
		return l7_resp_pass(msg, st, n);
	}
	c = bpf_map_lookup_elem(&kmesh_l7_conns, &st->peer);
	if (!c || c->broken)
		return l7_stop_tracking(msg, st);
	if (c->client_reads && !kmesh_msg_redirects(msg)) {
		/* over TCP to a client that reads its responses itself */
		st->role = L7_ROLE_OFF;
		bpf_msg_apply_bytes(msg, 0);
		return kmesh_msg_verdict(msg);
	}
	if (!c->server_pairs)
		c->server_pairs = 1;
	sc = kfunc && st->chunked ? NULL : l7_scratch_get();
	if (!sc && !(kfunc && st->chunked))
		return l7_stop_tracking(msg, st);
	if (st->chunked) {
		rc = l7_chunks(msg, sc, st, 0, &used, kfunc);
		if (sc)
			l7_scratch_put(sc);
		if (rc == KMESH_CHUNK_DONE)
			st->chunked = 0;
		else if (rc != KMESH_CHUNK_NEED_MORE)
			return l7_stop_tracking(msg, st);
		return l7_resp_pass(msg, st, used);
	}
	if (!sc)
		return l7_stop_tracking(msg, st);
	len = size < KMESH_L7_MAX_HEAD ? size : KMESH_L7_MAX_HEAD;
	sc->len = l7_copy_head(msg, sc, len);
	if (sc->len != len || kmesh_l7_parse(sc, KMESH_L7_PARSE_RESP) != KMESH_HTTP_OK) {
		/* a head split over writes, or not HTTP: stop pairing */
		c->broken = 1;
		l7_scratch_put(sc);
		return l7_stop_tracking(msg, st);
	}
	status = sc->ps.status;
	n = sc->req.head_len;
	head = c->head;
	if (head != KMESH_READ_ONCE(c->tail)) {
		p = &c->fifo[head & (KMESH_L7_FIFO - 1)];
		method = p->method;
	}
	/* final responses answer a request; 1xx but 101 are interim */
	if (p && (status >= 200 || status == 101)) {
		now = bpf_ktime_get_ns();
		l7_count_response(c->service_id, p->route_id, method, status,
				  now - p->start_ns);
		l7_global(KMESH_L7_G_RESPONSES);
		l7_log_response(c, p, status, now, 0);
		__sync_fetch_and_add(&c->head, 1);
	}
	/*
	 * Protocol switched, or a tunnel: a 2xx to CONNECT (RFC 9110 9.3.6).
	 * Both directions are opaque from here, never parsed as HTTP. Only
	 * the response can say so: a server refusing the CONNECT may keep
	 * reading requests, which must still be checked.
	 */
	tunnel = p && method == KMESH_HTTP_M_CONNECT && status >= 200 &&
		 status < 300;
	if (tunnel)
		l7_global(KMESH_L7_G_TUNNELS);
	if (status == 101 || tunnel) {
		c->opaque = 1;
		l7_scratch_put(sc);
		st->role = L7_ROLE_OFF;
		bpf_msg_apply_bytes(msg, 0);
		return kmesh_msg_verdict(msg);
	}
	if (method == KMESH_HTTP_M_HEAD || status < 200 || status == 204 ||
	    status == 304) {
		/* no body */
	} else if (sc->req.flags & KMESH_HTTP_F_CHUNKED) {
		__builtin_memset(&st->chunk, 0, sizeof(st->chunk));
		rc = l7_chunks(msg, sc, st, n, &used, kfunc);
		if (rc != KMESH_CHUNK_NEED_MORE && rc != KMESH_CHUNK_DONE) {
			l7_scratch_put(sc);
			return l7_stop_tracking(msg, st);
		}
		n += used;
		st->chunked = rc != KMESH_CHUNK_DONE;
	} else if (sc->req.flags & KMESH_HTTP_F_HAS_CL) {
		cl = sc->req.content_length;
		used = size - n;
		if (cl < used)
			used = (__u32)cl;
		n += used;
		st->body_left = cl - used;
	} else {
		/* the body runs to the end of the connection */
		l7_scratch_put(sc);
		st->role = L7_ROLE_OFF;
		bpf_msg_apply_bytes(msg, 0);
		return kmesh_msg_verdict(msg);
	}
	l7_scratch_put(sc);
	return l7_resp_pass(msg, st, n);
}

__noinline int kmesh_l7_response_fb(struct sk_msg_md *msg)
{
	return l7_response(msg, false);
}

__noinline int kmesh_l7_response_kf(struct sk_msg_md *msg)
{
	return l7_response(msg, true);
}

#include "l7_h2_detect.h"
#include "l7_h2.h"

/* ---- the program ---- */

/*
 * The socket's role, decided on its first message (global: keeps the
 * keys and config lookups off the main frame's stack). L7_ROLE_OFF when
 * the socket has no L7 state and its service is not http; -1 when it is
 * an http client kmesh cannot keep state for (refuse: cannot police).
 */
__noinline int kmesh_l7_role(struct sk_msg_md *msg)
{
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct l7_svc svc;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	if (!s4)
		return L7_ROLE_OFF;
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		l7_global(KMESH_L7_G_SCRATCH_BUSY);
		if (s4->flags & KMESH_SK_F_SERVICE) {
			l7_svc_get(s4, &svc);
			if (svc.http)
				return -1;
		}
		return L7_ROLE_OFF;
	}
	if (st->role != L7_ROLE_UNDECIDED)
		return st->role;
	st->role = L7_ROLE_OFF;
	l7_key_of(msg, &st->key);
	kmesh_key_reverse(&st->key, &st->peer);
	if (s4->flags & KMESH_SK_F_SERVICE) {
		l7_svc_get(s4, &svc);
		if (svc.http) {
			st->role = L7_ROLE_CLIENT;
			st->service_id = svc.service_id;
			st->svc_port = s4->svc_port;
		}
	} else if (bpf_map_lookup_elem(&kmesh_l7_conns, &st->peer)) {
		st->role = L7_ROLE_SERVER;
	}
	return st->role;
}

static __always_inline int kmesh_l7_msg(struct sk_msg_md *msg, bool kfunc)
{
	int role, v, corked;

	/* nothing held over from an earlier run on this message */
	bpf_msg_cork_bytes(msg, 0);
	role = kmesh_l7_role(msg);
	if (role < 0) {
		/* an http client kmesh cannot police */
		l7_global(KMESH_L7_G_INTERNAL);
		return SK_DROP;
	}
	if (role == L7_ROLE_H2)
		return kfunc ? kmesh_l7_h2(msg, 0) : SK_DROP;
	if (role == L7_ROLE_CLIENT) {
		v = kfunc ? kmesh_l7_client_kf(msg) : kmesh_l7_client_fb(msg);
		if (!(v & L7_AT_HEAD))
			return v;
		corked = v & L7_CORKED;
		/*
		 * HTTP/2's preface? kfunc mode: every stream read and
		 * judged (l7_h2.h); fallback: L4 or refused (l7_h2_detect.h)
		 */
		if (kfunc && (v & L7_FIRST)) {
			v = kmesh_l7_h2(msg, corked);
			if (!(v & L7_AT_HEAD))
				return v;
		} else if (!kfunc && (v & L7_FIRST)) {
			v = kmesh_l7_h2_detect(msg);
			if (v != L7_H2_NOT)
				return v;
		}
		return kfunc ? kmesh_l7_request_kf(msg, corked) :
			       kmesh_l7_request_fb(msg, corked);
	}
	if (role == L7_ROLE_SERVER)
		return kfunc ? kmesh_l7_response_kf(msg) :
			       kmesh_l7_response_fb(msg);
	bpf_msg_apply_bytes(msg, 0);
	return kmesh_msg_verdict(msg);
}

#endif /* KMESH_L7_MSG_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inbound authorization on receive: sk_skb stream parser + verdict on the
 * connections of kmesh_inbound_socks (inbound.h). Included by
 * bpf/sk_msg.bpf.c after l7_msg.h: it reuses the fallback HTTP parser
 * (l7_http.h), the policy evaluator (l7_eval.h) and the chunk scanner's
 * byte machine (l7_chunk.h) on the same per-CPU scratch; only the copy-in
 * differs (bpf_skb_load_bytes instead of pulling an sk_msg).
 *
 * Framing. The strparser hands the parser everything received and not yet
 * delivered, from the first byte of the skb. A frame is always all of it:
 * the parser never ends a frame inside an skb, because the kernel then
 * starts the next frame at an offset the program cannot see. The parser
 * walks the frame from the committed stream state (body bytes left, a
 * chunked body in progress, or a head), checking each request head:
 *  - a head still incomplete (under the 8 KiB limit): return 0, hold the
 *    whole frame until more arrives (requests before it wait with it);
 *  - every head allowed: the frame passes whole;
 *  - any head refused: the frame is refused whole (allowed requests
 *    pipelined before it in the same frame with it, fail closed).
 * The verdict runs right after on that frame: pass, or rewrite the frame
 * in place into the reply (403 "RBAC: access denied", 400, 431, with
 * "connection: close") and send it back out of the same socket
 * (bpf_sk_redirect_hash to its own egress), then drop everything after on
 * the connection. The reply must be exactly the frame's length (the
 * kernel sends the frame's original length), so it is padded with
 * whitespace after "connection: close"; a frame shorter than the shortest
 * reply (53 bytes) is dropped instead and the connection goes dead.
 */
#ifndef KMESH_INBOUND_SKB_H
#define KMESH_INBOUND_SKB_H

#include "inbound.h"
#include "resp_skb.h"	/* the client role: responses */

/* Bound on parser steps per frame (a step: a head, body bytes, or up to
 * L7_CHUNK_WINDOWS windows of chunk framing). */
#define IN_STEPS	(2 * KMESH_INBOUND_MAX_REQS + 16)

enum { IN_HOLD = 0, IN_REFUSED = -1, IN_OPAQUE = -2 };

/* The live slot's policy and CIDR maps. */
struct in_cfg {
	void *pol;
	void *cidrs;
};

static __always_inline int in_cfg_get(struct in_cfg *c)
{
	struct kmesh_l4_generation *gen;
	__u32 zero = 0, slot;

	gen = bpf_map_lookup_elem(&kmesh_generation, &zero);
	if (!gen)
		return -1;
	slot = KMESH_READ_ONCE(gen->slot);
	c->pol = bpf_map_lookup_elem(&kmesh_l7_policy, &slot);
	c->cidrs = bpf_map_lookup_elem(&kmesh_l7_cidrs, &slot);
	return c->pol ? 0 : -1;
}

static __always_inline void in_refuse(struct inbound_conn *st, __u8 reason,
				      __u16 status, __u32 sid, __u32 pol)
{
	st->refuse = 1;
	st->reason = reason;
	st->status = status;
	st->service_id = sid;
	st->policy_id = pol;
}

/*
 * The chunk scanner of l7_chunk.h over frame bytes [@off, @end): the same
 * byte machine, windows copied with bpf_skb_load_bytes. sc->found: bytes
 * of the body from @off. Global: verified once.
 */
__noinline int kmesh_inbound_chunks(struct __sk_buff *skb, struct l7_scratch *sc,
				    struct kmesh_chunk_state *cs, __u32 off,
				    __u32 end)
{
	__u32 pos = off, w, n;

	if (!skb || !sc || !cs)
		return KMESH_CHUNK_E_INVAL;
	sc->found = 0;
	if (cs->state == KMESH_CS_DONE || cs->state == KMESH_CS_ERROR)
		return cs->status;
	for (w = 0; w < L7_CHUNK_WINDOWS && pos < end; w++) {
		l7_chunk_skip(cs, &pos, end);
		if (pos >= end)
			break;
		n = end - pos;
		if (n > L7_CHUNK_WIN)
			n = L7_CHUNK_WIN;
		/* 1..64 also for verifiers that learn nothing from n != 0 */
		n = ((n - 1) & (L7_CHUNK_WIN - 1)) + 1;
		if (bpf_skb_load_bytes(skb, pos, &sc->buf[L7_WIN_OFF], n)) {
			cs->state = KMESH_CS_ERROR;
			cs->status = KMESH_CHUNK_E_INVAL;
			break;
		}
		pos += l7_chunk_window(sc, cs, n);
		if (cs->state == KMESH_CS_DONE || cs->state == KMESH_CS_ERROR)
			break;
	}
	sc->found = pos - off;
	if (cs->state == KMESH_CS_DONE)
		return KMESH_CHUNK_DONE;
	if (cs->state == KMESH_CS_ERROR)
		return cs->status ? cs->status : KMESH_CHUNK_E_INVAL;
	return KMESH_CHUNK_NEED_MORE;
}

/*
 * %2F is taken literally only when every protected service of the
 * workload asks for it: one request is checked against all of them.
 */
static __always_inline __u32
inbound_parse_opts(const struct kmesh_inbound_workload *w)
{
	const struct kmesh_l7_policy *pol;
	struct in_cfg cfg;
	__u32 i, sid;

	if (!w || !w->nr || in_cfg_get(&cfg))
		return 0;
	for (i = 0; i < KMESH_INBOUND_MAX_SERVICES; i++) {
		if (i >= w->nr)
			break;
		sid = w->service_id[i];	/* a key on the stack (6.1) */
		pol = bpf_map_lookup_elem(cfg.pol, &sid);
		if (!pol || !(pol->flags & KMESH_L7_PF_PATH_ESCAPED_SLASHES))
			return 0;
	}
	return KMESH_L7_PARSE_ESCAPED_SLASHES;
}

/*
 * The request head at frame byte @pos: parse it (@kf: with the module's
 * parser, the C core, instead of the eBPF one: bench/METHOD.md),
 * check it against every protected service of the workload (deny wins).
 * Returns its length (allowed; st->tmp has its body's framing), IN_HOLD
 * (incomplete), IN_REFUSED (st->refuse and why) or IN_OPAQUE (passed
 * unchecked from here on: failure_mode_allow, or the workload lost its
 * policies).
 */
static __always_inline int in_head(struct __sk_buff *skb, struct l7_scratch *sc,
				   struct inbound_conn *st, __u32 pos, __u32 end,
				   bool kf)
{
	const struct kmesh_inbound_workload *w;
	const struct kmesh_l7_policy *pol;
	struct l7_decision *d;
	struct in_cfg cfg;
	__u32 n, i, sid, head_len;
	bool fail_open = false;
	int status;

	if (!skb || !sc || !st)
		return IN_REFUSED;
	if (pos >= end) {
		in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, 0, 0);
		return IN_REFUSED;
	}
	n = end - pos;
	if (n > KMESH_L7_MAX_HEAD)
		n = KMESH_L7_MAX_HEAD;
	/* 1..8192 (pos < end) also for verifiers that learn nothing from
	 * n != 0 */
	n = ((n - 1) & (KMESH_L7_MAX_HEAD - 1)) + 1;
	if (bpf_skb_load_bytes(skb, pos, sc->buf, n)) {
		inbound_global(KMESH_IN_G_INTERNAL, 1);
		in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, 0, 0);
		return IN_REFUSED;
	}
	sc->len = n;
	w = inbound_workload(st->local, st->local_port);
	if (kf) {
		L7_ZERO(&sc->req, sizeof(sc->req));
		if (inbound_parse_opts(w) & KMESH_L7_PARSE_ESCAPED_SLASHES)
			sc->req.parse_opts = KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES;
		status = bpf_kmesh_http_parse(&sc->req, sizeof(sc->req), sc->buf, n);
	} else {
		status = kmesh_l7_parse(sc, inbound_parse_opts(w));
	}
	if (status == KMESH_HTTP_NEED_MORE && n < KMESH_L7_MAX_HEAD)
		return IN_HOLD;
	if (!w || !w->nr || in_cfg_get(&cfg)) {
		st->tmp.opaque = 1;
		return IN_OPAQUE;
	}
	st->nr = w->nr;
	for (i = 0; i < KMESH_INBOUND_MAX_SERVICES; i++) {
		if (i >= w->nr)
			break;
		sid = w->service_id[i];	/* a key on the stack (6.1) */
		st->sids[i] = sid;
		pol = bpf_map_lookup_elem(cfg.pol, &sid);
		if (pol && (pol->flags & KMESH_L7_PF_FAIL_OPEN))
			fail_open = true;
	}
	if (status != KMESH_HTTP_OK) {
		if (fail_open && l7_cannot_check(sc, status, n, kf)) {
			inbound_global(KMESH_IN_G_UNCHECKED, 1);
			st->tmp.opaque = 1;
			return IN_OPAQUE;
		}
		if (status == KMESH_HTTP_NEED_MORE ||
		    status == KMESH_HTTP_E_HEAD_TOO_LARGE)
			in_refuse(st, KMESH_L7_R_TOO_LARGE, 431, st->sids[0], 0);
		else
			in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, st->sids[0], 0);
		return IN_REFUSED;
	}
	head_len = sc->req.head_len;
	d = &sc->d;
	for (i = 0; i < KMESH_INBOUND_MAX_SERVICES; i++) {
		if (i >= w->nr)
			break;
		sid = w->service_id[i];
		pol = bpf_map_lookup_elem(cfg.pol, &sid);
		if (!pol)
			continue;
		if (kmesh_l7_view(sc, pol, w->svc_port[i])) {
			in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, sid, 0);
			return IN_REFUSED;
		}
		st->method = sc->view.method;
		if (pol->flags & KMESH_L7_PF_SRC_SETS)
			sc->view.src_sets = l7_sets(cfg.cidrs, sid, KMESH_L7_DIR_SRC,
						    st->remote);
		if (pol->flags & KMESH_L7_PF_DST_SETS)
			sc->view.dst_sets = l7_sets(cfg.cidrs, sid, KMESH_L7_DIR_DST,
						    st->local);
		__builtin_memset(d, 0, sizeof(*d));
		kmesh_l7_decide(sc, pol, 0, d);
		if (d->reason) {
			in_refuse(st, d->reason, d->status ? d->status : 403, sid,
				  d->policy_id);
			st->path_len = l7_copy_path(sc, st->path);
			return IN_REFUSED;
		}
	}
	if (sc->req.flags & KMESH_HTTP_F_CHUNKED) {
		__builtin_memset(&st->tmp.chunk, 0, sizeof(st->tmp.chunk));
		st->tmp.chunked = 1;
	} else {
		st->tmp.body_left = sc->req.content_length;
	}
	st->allowed++;
	if (!head_len || head_len > n) {
		in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, sid, 0);
		return IN_REFUSED;
	}
	return (int)head_len;
}

/* Global: verified once each. */
__noinline int kmesh_inbound_head(struct __sk_buff *skb, struct l7_scratch *sc,
				  struct inbound_conn *st, __u32 pos, __u32 end)
{
	return in_head(skb, sc, st, pos, end, false);
}

__noinline int kmesh_inbound_head_kf(struct __sk_buff *skb, struct l7_scratch *sc,
				     struct inbound_conn *st, __u32 pos, __u32 end)
{
	return in_head(skb, sc, st, pos, end, true);
}

static __always_inline void in_count(__u32 sid, bool refused, bool bad, __u64 n)
{
	struct kmesh_inbound_stats *s, zero = {};

	if (!sid || !n)
		return;
	s = bpf_map_lookup_elem(&kmesh_inbound_stats, &sid);
	if (!s) {
		bpf_map_update_elem(&kmesh_inbound_stats, &sid, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&kmesh_inbound_stats, &sid);
		if (!s)
			return;
	}
	if (!refused)
		s->allowed += n;
	else if (bad)
		s->bad += n;
	else
		s->denied += n;
}

/* A request record for a refusal, reporter=destination. */
static __always_inline void in_log(const struct inbound_conn *st)
{
	struct kmesh_l7_log *r = l7_log_new();
	__u32 i;

	if (!r)
		return;
	kmesh_addr_copy(r->source_addr, st->remote);
	r->source_port = st->remote_port;
	kmesh_addr_copy(r->service_addr, st->local);
	r->service_port = st->local_port;
	r->service_id = st->service_id;
	r->policy_id = st->policy_id;
	r->status = st->status;
	r->method = st->method;
	r->reason = st->reason;
	r->flags = KMESH_L7_LOG_F_REPLIED | KMESH_L7_LOG_F_INBOUND;
	r->path_len = st->path_len < KMESH_L7_LOG_PATH ? st->path_len : 0;
	for (i = 0; i < KMESH_L7_LOG_PATH; i++)
		r->path[i] = st->path[i];
	bpf_ringbuf_submit(r, 0);
}

static __always_inline int in_parser(struct __sk_buff *skb, bool kf)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u32 end = skb->len, pos = 0, i, n;
	struct l7_scratch *sc;
	struct inbound_conn *st;
	int r;

	st = bpf_map_lookup_elem(&kmesh_inbound_conns, &cookie);
	if (!st || st->dead || st->fr.opaque)
		return end;		/* the verdict drops or passes it */
	st->tmp = st->fr;
	st->refuse = 0;
	st->allowed = 0;
	st->method = 0;
	st->path_len = 0;
	sc = l7_scratch_get();
	if (!sc) {
		inbound_global(KMESH_IN_G_INTERNAL, 1);
		in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, 0, 0);
		return end;
	}
	for (i = 0; i < IN_STEPS; i++) {
		if (pos >= end || st->tmp.opaque)
			break;
		if (st->tmp.body_left) {
			n = end - pos;
			if (st->tmp.body_left < n)
				n = (__u32)st->tmp.body_left;
			st->tmp.body_left -= n;
			pos += n;
			continue;
		}
		if (st->tmp.chunked) {
			r = kmesh_inbound_chunks(skb, sc, &st->tmp.chunk, pos, end);
			pos += sc->found;
			if (r == KMESH_CHUNK_DONE) {
				st->tmp.chunked = 0;
			} else if (r != KMESH_CHUNK_NEED_MORE) {
				in_refuse(st, KMESH_L7_R_BAD_BODY, 400, st->sids[0], 0);
				break;
			}
			continue;
		}
		r = kf ? kmesh_inbound_head_kf(skb, sc, st, pos, end) :
			 kmesh_inbound_head(skb, sc, st, pos, end);
		if (r == IN_HOLD) {
			l7_scratch_put(sc);
			return 0;	/* the rest of a head: hold the frame */
		}
		if (r < 0)
			break;
		pos += (__u32)r;
	}
	l7_scratch_put(sc);
	if (!st->refuse && !st->tmp.opaque && pos < end)
		/* more pipelined work than one frame may take: fail closed */
		in_refuse(st, KMESH_L7_R_BAD_REQUEST, 400, st->sids[0], 0);
	/* the frame is decided: commit (the parser runs once per frame
	 * that it returns a length for) */
	inbound_global(KMESH_IN_G_REQUESTS, st->allowed + st->refuse);
	inbound_global(KMESH_IN_G_ALLOWED, st->allowed);
	for (i = 0; i < KMESH_INBOUND_MAX_SERVICES; i++) {
		if (i >= st->nr)
			break;
		in_count(st->sids[i], false, false, st->allowed);
	}
	if (st->refuse) {
		bool bad = st->reason != KMESH_L7_R_DENY_POLICY &&
			   st->reason != KMESH_L7_R_NO_ALLOW &&
			   st->reason != KMESH_L7_R_UNDECIDABLE;

		inbound_global(bad ? KMESH_IN_G_BAD : KMESH_IN_G_DENIED, 1);
		in_count(st->service_id, true, bad, 1);
		in_log(st);
	} else {
		st->fr = st->tmp;
	}
	return end;
}

SEC("sk_skb/stream_parser")
int kmesh_inbound_parser(struct __sk_buff *skb)
{
	return in_parser(skb, false);
}

/* Where sk_skb programs may call the module's kfuncs (common hook). */
SEC("sk_skb/stream_parser")
int kmesh_inbound_parser_kf(struct __sk_buff *skb)
{
	return in_parser(skb, true);
}

/* ---- the reply, in place ---- */

#define IN_SP16		"                "
#define IN_SP256	IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 \
			IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16 IN_SP16
#define IN_PAD_MAX	(64 * 256)	/* longest padding: 16 KiB */

static const struct { char s[256]; } in_spaces = { IN_SP256 };

/* Replies: a head up to where the padding goes, a tail ("\r\n\r\n"
 * and the body). */
#define IN_403_H "HTTP/1.1 403 Forbidden\r\ncontent-length:19\r\nconnection:close"
#define IN_403_T "\r\n\r\nRBAC: access denied"
#define IN_400_H "HTTP/1.1 400 Bad Request\r\ncontent-length:11\r\nconnection:close"
#define IN_400_T "\r\n\r\nbad request"
#define IN_431_H "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length:14\r\nconnection:close"
#define IN_431_T "\r\n\r\nhead too large"
/* the shortest: any refusal, no reason phrase, no body (53 bytes) */
#define IN_MIN_H "HTTP/1.1 403 \r\ncontent-length:0\r\nconnection:close"
#define IN_MIN_T "\r\n\r\n"

static const struct {
	char h403[sizeof(IN_403_H)], t403[sizeof(IN_403_T)];
	char h400[sizeof(IN_400_H)], t400[sizeof(IN_400_T)];
	char h431[sizeof(IN_431_H)], t431[sizeof(IN_431_T)];
	char hmin[sizeof(IN_MIN_H)], tmin[sizeof(IN_MIN_T)];
} in_txt = { IN_403_H, IN_403_T, IN_400_H, IN_400_T, IN_431_H, IN_431_T,
	     IN_MIN_H, IN_MIN_T };

/* Head @h (@hl bytes, a constant), padding, tail @t (@tl): @len bytes. */
static __always_inline int in_put(struct __sk_buff *skb, const char *h, __u32 hl,
				  const char *t, __u32 tl, __u32 len)
{
	__u32 pad, off, c, i;

	if (len < hl + tl)
		return -1;
	pad = len - hl - tl;
	if (pad > IN_PAD_MAX)
		return -1;
	if (bpf_skb_store_bytes(skb, 0, h, hl, 0))
		return -1;
	/* the offset follows i alone: one verifier state per round */
	for (i = 0; i < IN_PAD_MAX / 256; i++) {
		off = i * 256;
		if (off >= pad)
			break;
		c = pad - off;
		if (c > 256)
			c = 256;
		c = ((c - 1) & 255) + 1;	/* 1..256 for the verifier */
		if (bpf_skb_store_bytes(skb, hl + off, in_spaces.s, c, 0))
			return -1;
	}
	if (bpf_skb_store_bytes(skb, hl + pad, t, tl, 0))
		return -1;
	return 0;
}

#define IN_PUT(skb, h, t, len)						\
	in_put(skb, in_txt.h, sizeof(in_txt.h) - 1, in_txt.t,		\
	       sizeof(in_txt.t) - 1, len)

/* Rewrite the @len-byte frame into the reply for @status, or the
 * shortest one if that does not fit. 0, or -1. Global: verified once. */
__noinline int kmesh_inbound_write(struct __sk_buff *skb, __u32 status, __u32 len)
{
	int rc;

	if (!skb)
		return -1;
	if (status == 400)
		rc = IN_PUT(skb, h400, t400, len);
	else if (status == 431)
		rc = IN_PUT(skb, h431, t431, len);
	else
		rc = IN_PUT(skb, h403, t403, len);
	if (rc)
		rc = IN_PUT(skb, hmin, tmin, len);
	return rc;
}

SEC("sk_skb/stream_verdict")
int kmesh_inbound_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct inbound_conn *st;
	__u32 len = skb->len;

	st = bpf_map_lookup_elem(&kmesh_inbound_conns, &cookie);
	if (!st) {
		inbound_global(KMESH_IN_G_INTERNAL, 1);
		return SK_DROP;
	}
	if (st->dead) {
		inbound_global(KMESH_IN_G_DEAD, 1);
		return SK_DROP;
	}
	if (!st->refuse)
		return SK_PASS;
	st->dead = 1;
	if (kmesh_inbound_write(skb, st->status, len)) {
		inbound_global(KMESH_IN_G_DROPPED, 1);
		return SK_DROP;
	}
	inbound_global(KMESH_IN_G_REPLIED, 1);
	return bpf_sk_redirect_hash(skb, &kmesh_inbound_socks, &cookie, 0);
}

/* ---- at the door: cgroup_skb/ingress ---- */

#define IN_CURRENT_NETNS	((__u64)-1)	/* BPF_F_CURRENT_NETNS (uapi macro) */

/* Is @sk (a local socket, found by the SYN's reversed 4-tuple) a meshed
 * client of an http service port, whose sk_msg checks every request? */
static __always_inline bool in_local_http_client(struct bpf_sock *sk)
{
	struct kmesh_sk_state *s;

	s = bpf_sk_storage_get(&kmesh_sk_state, sk, 0, 0);
	return s && (s->flags & KMESH_SK_F_SERVICE) && kmesh_resp_http(s);
}

static __always_inline __u64 in_l4_lookup(void *cidrs, __u32 sid, __u32 dir,
					  const __u32 *addr)
{
	struct kmesh_l7_cidr_key key = {
		.prefixlen = 64 + 128,
		.service_id = bpf_htonl(sid),
		.dir = bpf_htonl(dir),
	};
	__u64 *v;

	kmesh_addr_copy(key.addr, addr);
	v = bpf_map_lookup_elem(cidrs, &key);
	return v ? *v : 0;
}

/* A record for a connection refused at the door. */
static __always_inline void in_log_l4(const __u32 *src, __u16 sport,
				      const __u32 *dst, __u16 dport, __u32 sid,
				      __u32 policy_id, __u8 reason)
{
	struct kmesh_l7_log *r = l7_log_new();

	if (!r)
		return;
	kmesh_addr_copy(r->source_addr, src);
	r->source_port = sport;
	kmesh_addr_copy(r->service_addr, dst);
	r->service_port = dport;
	r->service_id = sid;
	r->policy_id = policy_id;
	r->reason = reason;
	r->flags = KMESH_L7_LOG_F_INBOUND | KMESH_L7_LOG_F_L4;
	bpf_ringbuf_submit(r, 0);
}

/*
 * A SYN to a listener in the meshed cgroup: refuse it (drop: the client
 * sees its connect time out) when the workload's policies decide from
 * the source address alone that no request of it may pass (see
 * KMESH_IN_L4_*). Global: verified once. Returns the verdict: 0 refuse,
 * 1 pass, 2 pass to a protected workload.
 */
__noinline int kmesh_inbound_syn(struct __sk_buff *skb, __u32 hl, __u32 v4)
{
	const struct kmesh_inbound_workload *w;
	struct bpf_sock_tuple t = {};
	struct kmesh_l4_generation *gen;
	__u32 src[4], dst[4], zero = 0, slot, i, sid;
	__u16 ports[2];
	struct bpf_sock *peer;
	bool local = false, tcp;
	void *cidrs;
	__u64 pol;

	if (!skb)
		return 1;
	if (v4) {
		__u32 a[2];

		if (bpf_skb_load_bytes(skb, 12, a, sizeof(a)))
			return 1;
		kmesh_addr_set_v4(src, a[0]);
		kmesh_addr_set_v4(dst, a[1]);
	} else {
		if (bpf_skb_load_bytes(skb, 8, src, sizeof(src)) ||
		    bpf_skb_load_bytes(skb, 24, dst, sizeof(dst)))
			return 1;
	}
	if (bpf_skb_load_bytes(skb, hl, ports, sizeof(ports)))
		return 1;
	w = inbound_workload(dst, bpf_ntohs(ports[1]));
	if (!w || !w->nr)
		return 1;
	gen = bpf_map_lookup_elem(&kmesh_generation, &zero);
	if (!gen)
		return 1;
	slot = KMESH_READ_ONCE(gen->slot);
	cidrs = bpf_map_lookup_elem(&kmesh_l7_cidrs, &slot);
	if (!cidrs)
		return 1;
	/* a local meshed http client: its own sk_msg checks each request */
	if (v4) {
		t.ipv4.saddr = dst[3];
		t.ipv4.daddr = src[3];
		t.ipv4.sport = ports[1];
		t.ipv4.dport = ports[0];
		peer = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), IN_CURRENT_NETNS, 0);
	} else {
		__builtin_memcpy(t.ipv6.saddr, dst, 16);
		__builtin_memcpy(t.ipv6.daddr, src, 16);
		t.ipv6.sport = ports[1];
		t.ipv6.dport = ports[0];
		peer = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv6), IN_CURRENT_NETNS, 0);
	}
	if (peer) {
		local = in_local_http_client(peer);
		bpf_sk_release(peer);
	}
	for (i = 0; i < KMESH_INBOUND_MAX_SERVICES; i++) {
		__u8 reason = 0;

		if (i >= w->nr)
			break;
		/* a tcp port's service has no other check: never skipped */
		if (local && !(w->l4[i] & KMESH_IN_L4_TCP))
			continue;
		sid = w->service_id[i];
		tcp = w->l4[i] & KMESH_IN_L4_TCP;
		pol = 0;
		if (w->l4[i] & KMESH_IN_L4_DENY) {
			pol = in_l4_lookup(cidrs, sid, tcp ? KMESH_IN_DIR_TCP_DENY :
						      KMESH_IN_DIR_L4_DENY, src);
			if (pol)
				reason = KMESH_L7_R_DENY_POLICY;
		}
		if (!reason && (w->l4[i] & KMESH_IN_L4_ALLOW) &&
		    !in_l4_lookup(cidrs, sid, tcp ? KMESH_IN_DIR_TCP_ALLOW :
						   KMESH_IN_DIR_L4_ALLOW, src))
			reason = KMESH_L7_R_NO_ALLOW;
		if (!reason)
			continue;
		inbound_global(KMESH_IN_G_L4_REFUSED, 1);
		{
			struct kmesh_inbound_stats *st, z = {};

			st = bpf_map_lookup_elem(&kmesh_inbound_stats, &sid);
			if (!st) {
				bpf_map_update_elem(&kmesh_inbound_stats, &sid, &z,
						    BPF_NOEXIST);
				st = bpf_map_lookup_elem(&kmesh_inbound_stats, &sid);
			}
			if (st)
				st->l4_refused++;
		}
		in_log_l4(src, bpf_ntohs(ports[0]), dst, bpf_ntohs(ports[1]), sid,
			  reason == KMESH_L7_R_DENY_POLICY ? (__u32)pol : 0, reason);
		return 0;
	}
	return 2;
}

/*
 * Set by `kmeshctl up` before load: the kmesh module takes every accepted
 * socket of the check (kmod/inbound.c) and hands bytes that arrived
 * before accept() to the stream parser there, so the door lets them in.
 * 0: the door drops them until the application has accepted the socket.
 */
const volatile __u32 kmesh_in_early_parsed = 0;

#define IN_O_NONBLOCK	00004000	/* O_NONBLOCK (asm-generic, x86, arm64) */

/*
 * After accept(): note whether the workload's server took the socket
 * non-blocking (accept4(SOCK_NONBLOCK) or O_NONBLOCK set before its
 * first read), for the data that beats its next accept().
 */
static __always_inline void in_learn_nonblocking(const struct inbound_conn *st,
						 struct socket *sock)
{
	struct kmesh_inbound_key key = {};
	struct file *file = sock->file;
	__u8 one = 1;

	kmesh_addr_copy(key.addr, st->local);
	key.port = st->local_port;
	if (file && (file->f_flags & IN_O_NONBLOCK))
		bpf_map_update_elem(&kmesh_inbound_nonblock, &key, &one, BPF_ANY);
	else
		bpf_map_delete_elem(&kmesh_inbound_nonblock, &key);
}

static __always_inline bool in_nonblocking(const struct inbound_conn *st)
{
	struct kmesh_inbound_key key = {};

	kmesh_addr_copy(key.addr, st->local);
	key.port = st->local_port;
	return bpf_map_lookup_elem(&kmesh_inbound_nonblock, &key);
}

/*
 * Data before accept() (see in_ingress), the payload of @skb from byte
 * @off on, at sequence @seq, @rcv_nxt the socket's next expected byte: pass
 * it only if it continues exactly what passed before and holds complete
 * request heads, each allowed, and their Content-Length bodies. Checked
 * on a per-CPU copy of the connection (the stream parser may take the
 * real one as soon as accept() returns); nothing is counted here: the
 * stream parser checks and counts these bytes again after accept().
 * Returns 1 (pass) or 0 (drop; from then on every segment until accept()
 * is dropped). Global: verified once.
 */
__noinline int kmesh_inbound_early(struct __sk_buff *skb, struct inbound_conn *st,
				   __u32 off, __u32 seq, __u32 rcv_nxt)
{
	__u32 zero = 0, pos = off, end, i, n;
	struct inbound_conn *d;
	struct l7_scratch *sc;
	int r;

	if (!skb || !st || st->early == IN_EARLY_DROPPING)
		return 0;
	end = skb->len;
	if (seq != rcv_nxt || (st->early == IN_EARLY_PASSING && seq != st->early_next))
		goto drop;
	d = bpf_map_lookup_elem(&kmesh_inbound_door, &zero);
	if (!d)
		goto drop;
	kmesh_addr_copy(d->local, st->local);
	kmesh_addr_copy(d->remote, st->remote);
	d->local_port = st->local_port;
	d->remote_port = st->remote_port;
	__builtin_memset(&d->tmp, 0, sizeof(d->tmp));
	d->tmp.body_left = st->early_body;
	d->refuse = 0;
	sc = l7_scratch_get();
	if (!sc)
		goto drop;
	for (i = 0; i < IN_STEPS; i++) {
		if (pos >= end)
			break;
		if (d->tmp.body_left) {
			n = end - pos;
			if (d->tmp.body_left < n)
				n = (__u32)d->tmp.body_left;
			d->tmp.body_left -= n;
			pos += n;
			continue;
		}
		/* chunked bodies and unchecked streams: the stream parser's */
		if (d->tmp.chunked || d->tmp.opaque)
			break;
		r = kmesh_inbound_head(skb, sc, d, pos, end);
		if (r <= 0)	/* incomplete, refused or unchecked */
			break;
		pos += (__u32)r;
	}
	l7_scratch_put(sc);
	if (pos != end || d->refuse || d->tmp.chunked || d->tmp.opaque)
		goto drop;
	st->early_body = d->tmp.body_left;
	st->early_next = seq + (end - off);
	st->early = IN_EARLY_PASSING;
	return 1;
drop:
	st->early = IN_EARLY_DROPPING;
	return 0;
}

/*
 * The door of the meshed cgroup, on every packet it receives: returns at
 * once for anything but a SYN to a listener, a segment of a connection
 * checked on receive, or one of a client connection whose responses are
 * read (resp_skb.h: read, and passed whatever the reader makes of it).
 *
 * SYN: kmesh_inbound_syn (L4 policy, before accept()).
 *
 * Data before accept(): a socket has no struct socket until accept()
 * returns it, and the stream parser cannot read it then: data that
 * arrives early stays in the receive queue until the application's
 * first read, which hands it to the parser late (tcp_bpf_recvmsg_parser)
 * and fails with EAGAIN meanwhile. Where the module takes the accepted
 * sockets (kmesh_in_early_parsed), it hands those bytes to the parser
 * when accept() returns them, and they pass here. Elsewhere:
 *  - the workload's last accepted socket was non-blocking (an
 *    event-driven server, which takes EAGAIN for "not yet";
 *    in_learn_nonblocking): the door checks the data itself
 *    (kmesh_inbound_early) and passes what it allowed, whole heads and
 *    their bodies in sequence; the stream parser checks it again when
 *    the application first reads. Anything else (a split head, a
 *    refusal, a chunked body, a gap) is dropped as below;
 *  - a blocking server (it would take EAGAIN for an error), or one not
 *    seen yet: data segments are dropped until the application has
 *    accepted the socket; the client retransmits them (one RTO, 200 ms
 *    or more).
 * Pure ACKs and FINs pass.
 */
static __always_inline int in_ingress(struct __sk_buff *skb, bool kf)
{
	struct bpf_sock *sk = skb->sk;
	struct inbound_conn *st;
	struct socket *sock;
	struct tcp_sock *tp;
	__u32 hl, tot, v4, seq;
	int r;
	__u64 cookie;
	__u8 b, doff, flags;

	if (!sk)
		return 1;
	v4 = skb->protocol == bpf_htons(0x0800);
	if (!v4 && skb->protocol != bpf_htons(0x86DD))
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP)
		return 1;
	if (v4) {
		if (bpf_skb_load_bytes(skb, 0, &b, 1))
			return 1;
		hl = (b & 0xf) * 4;
	} else {
		hl = 40;	/* extension headers before TCP: not on loopback/veth */
	}
	if (sk->state == BPF_TCP_LISTEN) {
		if (bpf_skb_load_bytes(skb, hl + 13, &flags, 1))
			return 1;
		if ((flags & 0x12) != 0x02)	/* SYN without ACK */
			return 1;
		r = kmesh_inbound_syn(skb, hl, v4);
		if (!r)
			return 0;
		/* a protected workload's listener: the module's ops for
		 * what it accepts (kmod/inbound.c) */
		if (kf && r == 2)
			bpf_kmesh_inbound_listener(skb);
		return 1;
	}
	if (sk->state != BPF_TCP_ESTABLISHED)
		return 1;
	cookie = bpf_get_socket_cookie(skb);
	st = bpf_map_lookup_elem(&kmesh_inbound_conns, &cookie);
	if (!st) {
		/* a client's responses (resp_skb.h): read, always passed */
		if (bpf_map_lookup_elem(&kmesh_resp_conns, &cookie) &&
		    !bpf_skb_load_bytes(skb, hl + 4, &seq, sizeof(seq)) &&
		    !bpf_skb_load_bytes(skb, hl + 12, &doff, 1))
			kmesh_resp_segment(skb, cookie, hl + (doff >> 4) * 4,
					   bpf_ntohl(seq));
		return 1;
	}
	if (st->accepted)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 1;
	sock = tp->inet_conn.icsk_inet.sk.sk_socket;
	if (sock) {
		st->accepted = 1;
		if (!kmesh_in_early_parsed)
			in_learn_nonblocking(st, sock);
		return 1;
	}
	if (kmesh_in_early_parsed)
		return 1;
	/* payload bytes: the segment minus IP and TCP headers */
	if (bpf_skb_load_bytes(skb, hl + 12, &doff, 1))
		return 1;
	tot = hl + (doff >> 4) * 4;
	if (skb->len <= tot)
		return 1;
	if (in_nonblocking(st) &&
	    !bpf_skb_load_bytes(skb, hl + 4, &seq, sizeof(seq)) &&
	    kmesh_inbound_early(skb, st, tot, bpf_ntohl(seq), tp->rcv_nxt))
		return 1;
	inbound_global(KMESH_IN_G_EARLY, 1);
	return 0;
}

SEC("cgroup_skb/ingress")
int kmesh_inbound_ingress(struct __sk_buff *skb)
{
	return in_ingress(skb, false);
}

/* Where cgroup_skb programs may call the module's kfuncs (common hook). */
SEC("cgroup_skb/ingress")
int kmesh_inbound_ingress_kf(struct __sk_buff *skb)
{
	return in_ingress(skb, true);
}

#endif /* KMESH_INBOUND_SKB_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HTTP/2 on an http port where kmesh reads no HTTP/2 (docs/http2.md,
 * "Fallback"): the eBPF fallback, and kfunc mode until the module's
 * per-stream plane takes the connection. Included by l7_msg.h, called on
 * the first bytes of a client connection, before the HTTP/1.1 parser
 * (which would refuse the preface as a bad request).
 *
 * A client that starts with the connection preface (RFC 9113 3.4; a
 * preface split over writes is held back until it is whole) is
 *  - carried at L4 when the service's policy needs no request (no
 *    authorization rules, routes, request limits): counted;
 *  - refused when it does: a server preface (an empty SETTINGS) and a
 *    GOAWAY with HTTP_1_1_REQUIRED and a debug text saying why, sent to
 *    the client through the reply path (l7_send_reply); nothing reaches
 *    the server and later writes fail;
 *  - carried at L4 anyway, counted, under failure_mode_allow.
 */
#ifndef KMESH_L7_H2_DETECT_H
#define KMESH_L7_H2_DETECT_H

#include "core/h2_rules.h"	/* KMESH_H2_PREFACE, error codes */

/* kmesh_l7_h2_detect(): not HTTP/2, go on with HTTP/1.1 */
#define L7_H2_NOT	(-1)

#define L7_H2_GOAWAY_DEBUG \
	"kmesh: HTTP/2 is carried at L4 only on this node and this service's policy needs each request (HTTP/1.1 required)"
#define L7_H2_DEBUG_LEN	(sizeof(L7_H2_GOAWAY_DEBUG) - 1)

/* The refusal, on the wire: SETTINGS (empty), GOAWAY (last stream 0). */
struct l7_h2_refusal {
	__u8 settings[9];
	__u8 goaway[9];
	__u8 last_stream[4];
	__u8 code[4];
	char debug[L7_H2_DEBUG_LEN];
} __attribute__((packed));

#define L7_H2_REFUSAL_LEN	sizeof(struct l7_h2_refusal)

static const struct l7_h2_refusal l7_h2_refusal = {
	/* length 0, type SETTINGS (0x4), no flags, stream 0 */
	.settings = { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 },
	/* length 8 + debug, type GOAWAY (0x7), no flags, stream 0 */
	.goaway = { 0, 0, 8 + L7_H2_DEBUG_LEN, 0x7, 0, 0, 0, 0, 0 },
	.last_stream = { 0, 0, 0, 0 },
	.code = { 0, 0, 0, KMESH_H2_HTTP_1_1_REQUIRED },
	.debug = L7_H2_GOAWAY_DEBUG,
};

_Static_assert(8 + L7_H2_DEBUG_LEN < 256, "GOAWAY length fits its low byte");
_Static_assert(L7_H2_REFUSAL_LEN <= KMESH_L7_MAX_RESP, "refusal fits a reply");

static const struct { char s[KMESH_H2_PREFACE_LEN]; } l7_h2_preface = {
	KMESH_H2_PREFACE
};

/* Does the service's policy need to read requests? */
static __always_inline bool l7_h2_needs_l7(const struct l7_svc *svc)
{
	const struct kmesh_l7_policy *pol = svc->pol;

	if (svc->rate_limit && svc->rate_limit->interval_ns)
		return true;
	if (!pol)
		return false;
	if (pol->nr_rules || pol->nr_route_limits ||
	    (pol->flags & (KMESH_L7_PF_HAS_ALLOW | KMESH_L7_PF_HAS_ROUTES)))
		return true;
	/* a default route that denies or answers needs the request too */
	return (pol->flags & KMESH_L7_PF_DEFAULT) &&
	       pol->dflt.action != KMESH_RT_A_ROUTE;
}

/* The connection's access-log record (no request: no method, no path). */
static __always_inline void l7_h2_log(const struct kmesh_l7_sk *st,
				      const struct kmesh_sk_state *s4,
				      __u32 service_id, bool refused)
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
	r->reason = refused ? KMESH_L7_R_UNDECIDABLE : KMESH_L7_R_ALLOW;
	r->flags = KMESH_L7_LOG_F_H2 | (refused ? KMESH_L7_LOG_F_REPLIED : 0);
	bpf_ringbuf_submit(r, 0);
}

/*
 * The first bytes of a client connection: L7_H2_NOT when they are not
 * (a prefix of) the HTTP/2 preface, else the verdict. Global: verified
 * once, off the request path's frame.
 */
__noinline int kmesh_l7_h2_detect(struct sk_msg_md *msg)
{
	__u32 size = KMESH_CTX_LOAD(msg, size), n, i;
	struct kmesh_l7_stats *stats;
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct l7_scratch *sc;
	struct l7_svc svc;
	void *data, *end;
	bool refuse;
	__u8 *p;
	int v;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	/* the preface starts a connection: nothing passed before it */
	if (!s4 || !st || st->passed || !size)
		return L7_H2_NOT;
	n = size < KMESH_H2_PREFACE_LEN ? size : KMESH_H2_PREFACE_LEN;
	if (bpf_msg_pull_data(msg, 0, n, 0))
		return L7_H2_NOT;
	data = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	for (i = 0; i < KMESH_H2_PREFACE_LEN; i++) {
		if (i >= n)
			break;
		p = data + i;
		if ((void *)(p + 1) > end)
			return L7_H2_NOT;
		if (*p != (__u8)l7_h2_preface.s[i])
			return L7_H2_NOT;
	}
	if (n < KMESH_H2_PREFACE_LEN) {
		/* a prefix of the preface: hold it until it is whole */
		bpf_msg_cork_bytes(msg, KMESH_H2_PREFACE_LEN);
		bpf_msg_apply_bytes(msg, 0);
		st->corked = 1;
		l7_global(KMESH_L7_G_CORKED);
		return SK_DROP;	/* what applies if the kernel cannot cork */
	}
	l7_svc_get(s4, &svc);
	if (!svc.service_id)
		svc.service_id = st->service_id;
	refuse = l7_h2_needs_l7(&svc) &&
		 !(svc.pol && (svc.pol->flags & KMESH_L7_PF_FAIL_OPEN));
	stats = l7_stats(svc.service_id, 0, KMESH_HTTP_M_NONE);
	l7_h2_log(st, s4, svc.service_id, refuse);
	if (!refuse) {
		l7_global(KMESH_L7_G_H2_L4);
		if (stats)
			__sync_fetch_and_add(&stats->h2_l4, 1);
		/* the whole connection, both directions, from here on */
		st->role = L7_ROLE_OFF;
		bpf_msg_apply_bytes(msg, 0);
		return kmesh_msg_verdict(msg);
	}
	l7_global(KMESH_L7_G_H2_REFUSED);
	if (stats)
		__sync_fetch_and_add(&stats->h2_refused, 1);
	st->dead = 1;	/* later writes fail: the client was told to go */
	sc = l7_scratch_get();
	if (!sc) {
		bpf_msg_apply_bytes(msg, 0);
		return SK_DROP;
	}
	for (i = 0; i < L7_H2_REFUSAL_LEN; i++)
		sc->buf[(L7_RESP_OFF + i) & L7_BUF_MASK] =
			((const __u8 *)&l7_h2_refusal)[i];
	/* the whole message (a corked one must be answered whole) */
	v = l7_send_reply(msg, st, sc, L7_H2_REFUSAL_LEN, size);
	l7_scratch_put(sc);
	if (v < 0) {
		l7_global(KMESH_L7_G_INTERNAL);
		bpf_msg_apply_bytes(msg, 0);
		return SK_DROP;
	}
	l7_global(KMESH_L7_G_REPLIED);
	return v;
}

#endif /* KMESH_L7_H2_DETECT_H */

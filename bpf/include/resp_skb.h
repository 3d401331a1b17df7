/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The client role of the receive path (resp.h): response heads read in
 * the door of the meshed cgroup (cgroup_skb/ingress, inbound_skb.h) from
 * the segments a client connection with state in kmesh_resp_conns
 * receives. It shares the door, the chunk scanner over skb bytes
 * (kmesh_inbound_chunks) and the fallback parser's response mode
 * (l7_http.h, held to kmesh_http1_parse_response() by the conformance
 * suite) in both modes.
 *
 * The door runs before TCP queues a segment, so the reader follows the
 * sequence numbers itself (rc->rx_next): bytes it has read already
 * (a retransmission, or a segment TCP dropped after the door) are skipped,
 * and a segment that starts past rx_next (out of order: TCP will queue it
 * and the door never sees it again in order) ends the reading of the
 * connection (opaque, counted): a response is never guessed from bytes
 * the reader did not see in order.
 *
 * From rx_next the reader walks the stream from where it stands: body
 * bytes left (Content-Length), a chunked body in progress, or a head.
 * Each final response head (>= 200, or 101) is paired with the oldest
 * request its sk_msg recorded (struct l7_conn): status class and latency
 * per route, an access-log record, and the endpoint's outlier detection
 * (5xx and gateway errors). 1xx interim heads pair with nothing;
 * responses to HEAD, 1xx, 204 and 304 have no body. A head that a
 * segment ends inside is copied into kmesh_resp_stash and completed by
 * the segments after it (under the 8 KiB head limit).
 *
 * From the first thing kmesh cannot frame, the connection is opaque:
 * read no further to its end and counted (KMESH_L7_G_RX_OPAQUE), never
 * guessed: a head it cannot parse (counted for its request as
 * "unparsed", KMESH_L7_G_RX_UNPARSED), a body delimited by the close, a
 * 101 or a tunnel, bad chunk framing, a response with no recorded
 * request, a gap in the sequence, more responses in one segment than the
 * step bound.
 *
 * The door of one socket can run on two CPUs at once (softirq, before
 * the socket lock): two segments read at the same moment can find the
 * sequence out of order and end the reading (opaque), never count a
 * response twice: rx_next is claimed before a segment is read.
 */
#ifndef KMESH_RESP_SKB_H
#define KMESH_RESP_SKB_H

#include "resp.h"
#include "l4_outlier.h"

/* The chunk scanner over skb bytes: inbound_skb.h. */
int kmesh_inbound_chunks(struct __sk_buff *skb, struct l7_scratch *sc,
			 struct kmesh_chunk_state *cs, __u32 off, __u32 end);

#define RESP_STEPS	(2 * KMESH_L7_FIFO + 16)

enum { RESP_MORE = 0, RESP_OPAQUE = -1 };

/*
 * A response head parsed into @sc (kmesh_l7_parse() returned @status):
 * pair it, count it, and set the framing of its body in rc->fr.
 * Returns the head's length, or RESP_OPAQUE (rc->fr.opaque: read no
 * further). Global: verified once.
 */
__noinline int kmesh_resp_head(struct l7_scratch *sc, struct resp_conn *rc,
			       int status)
{
	struct l7_pending *p = NULL;
	struct kmesh_sock_key key;
	struct kmesh_l7_stats *s;
	struct l7_conn *c;
	__u32 head, head_len, ep_id, cluster_id;
	__u64 now;
	bool final;
	__u16 code;
	__u8 method = 0;

	if (!sc || !rc)
		return RESP_OPAQUE;
	key = rc->key;	/* a key on the stack (6.1) */
	c = bpf_map_lookup_elem(&kmesh_l7_conns, &key);
	if (!c || c->broken)
		goto opaque;	/* requests went unrecorded: cannot pair */
	if (c->server_pairs) {
		rc->server_pairs = 1;	/* the server's sk_msg pairs them */
		return RESP_OPAQUE;
	}
	head = KMESH_READ_ONCE(c->head);
	if (head != KMESH_READ_ONCE(c->tail)) {
		p = &c->fifo[head & (KMESH_L7_FIFO - 1)];
		method = p->method;
	}
	now = bpf_ktime_get_ns();
	if (status != KMESH_HTTP_OK) {
		/* a response kmesh cannot read: its request gets a status
		 * of its own, and nothing after it on the connection is
		 * framed */
		l7_global(KMESH_L7_G_RX_UNPARSED);
		if (p) {
			s = l7_stats(c->service_id, p->route_id, method);
			if (s)
				__sync_fetch_and_add(&s->unparsed, 1);
			l7_log_response(c, p, 0, now, KMESH_L7_LOG_F_UNPARSED);
			__sync_fetch_and_add(&c->head, 1);
		}
		goto opaque;
	}
	code = sc->ps.status;
	head_len = sc->req.head_len;
	if (!head_len || head_len > sc->len)
		goto opaque;
	final = code >= 200 || code == 101;
	if (final) {
		if (!p)
			goto opaque;	/* a response to no recorded request */
		l7_count_response(c->service_id, p->route_id, method, code,
				  now - p->start_ns);
		l7_global(KMESH_L7_G_RESPONSES);
		l7_global(KMESH_L7_G_RX_RESPONSES);
		l7_log_response(c, p, code, now, 0);
		__sync_fetch_and_add(&c->head, 1);
		ep_id = c->endpoint_id;
		cluster_id = c->cluster_id;
		kmesh_outlier_report(cluster_id, ep_id, code);
	}
	/* switched protocols, or a tunnel (a 2xx to CONNECT): both
	 * directions opaque from here (the request side reads c->opaque) */
	if (code == 101 ||
	    (method == KMESH_HTTP_M_CONNECT && code >= 200 && code < 300)) {
		if (code != 101)
			l7_global(KMESH_L7_G_TUNNELS);
		c->opaque = 1;
		rc->fr.opaque = 1;
		return (int)head_len;
	}
	if (method == KMESH_HTTP_M_HEAD || code < 200 || code == 204 ||
	    code == 304) {
		/* no body */
	} else if (sc->req.flags & KMESH_HTTP_F_CHUNKED) {
		__builtin_memset(&rc->fr.chunk, 0, sizeof(rc->fr.chunk));
		rc->fr.chunked = 1;
	} else if (sc->req.flags & KMESH_HTTP_F_HAS_CL) {
		rc->fr.body_left = sc->req.content_length;
	} else {
		/* the body runs to the close: nothing after it to read */
		rc->fr.opaque = 1;
	}
	return (int)head_len;
opaque:
	rc->fr.opaque = 1;
	return RESP_OPAQUE;
}

/*
 * The head that starts at skb byte @pos (before @end). Returns how many
 * of the segment's bytes it took: the head's length, or all of them
 * (RESP_MORE: the head goes on in the next segment, its start stashed),
 * or RESP_OPAQUE. The scratch is taken here, not passed in: the stash is
 * written from it, and 6.1's map update takes map values, not a global
 * function's memory argument. Global: verified once.
 */
__noinline int kmesh_resp_head_at(struct __sk_buff *skb, struct resp_conn *rc,
				  __u32 pos, __u32 end)
{
	struct l7_scratch *sc;
	__u64 cookie;
	__u32 n;
	int status, r = RESP_OPAQUE;

	if (!skb || !rc || pos >= end)
		return RESP_OPAQUE;
	sc = l7_scratch_get();
	if (!sc)
		goto opaque;
	cookie = rc->cookie;	/* a key on the stack (6.1) */
	n = end - pos;
	if (n > KMESH_L7_MAX_HEAD)
		n = KMESH_L7_MAX_HEAD;
	/* 1..8192 (pos < end) also for verifiers that learn nothing from
	 * n != 0 */
	n = ((n - 1) & (KMESH_L7_MAX_HEAD - 1)) + 1;
	if (bpf_skb_load_bytes(skb, pos, sc->buf, n))
		goto put;
	sc->len = n;
	status = kmesh_l7_parse(sc, KMESH_L7_PARSE_RESP);
	if (status == KMESH_HTTP_NEED_MORE && n < KMESH_L7_MAX_HEAD) {
		/* the scratch holds the head's start: keep a copy */
		if (bpf_map_update_elem(&kmesh_resp_stash, &cookie, sc, BPF_ANY))
			goto put;
		rc->stashed = 1;
		l7_scratch_put(sc);
		return RESP_MORE;
	}
	r = kmesh_resp_head(sc, rc, status);
	l7_scratch_put(sc);
	return r;
put:
	l7_scratch_put(sc);
opaque:
	rc->fr.opaque = 1;
	return RESP_OPAQUE;
}

/*
 * The rest of a stashed head, from skb byte @pos. Returns how many of
 * the segment's bytes the head took (RESP_MORE: all, and it goes on),
 * or RESP_OPAQUE. Global: verified once.
 */
__noinline int kmesh_resp_head_more(struct __sk_buff *skb, struct resp_conn *rc,
				    __u32 pos, __u32 end)
{
	struct l7_scratch *st;
	__u32 have, n;
	__u64 cookie;
	int status, r;

	if (!skb || !rc)
		return RESP_OPAQUE;
	cookie = rc->cookie;
	st = bpf_map_lookup_elem(&kmesh_resp_stash, &cookie);
	if (!st || pos >= end)
		goto opaque;
	have = st->len;
	if (!have || have >= KMESH_L7_MAX_HEAD)
		goto opaque;
	n = end - pos;
	if (n > KMESH_L7_MAX_HEAD - have)
		n = KMESH_L7_MAX_HEAD - have;
	n = ((n - 1) & (KMESH_L7_MAX_HEAD - 1)) + 1;
	/* have + n <= 2 * KMESH_L7_MAX_HEAD = L7_BUF_SIZE, as the verifier
	 * sees it */
	if (bpf_skb_load_bytes(skb, pos, &st->buf[have & (KMESH_L7_MAX_HEAD - 1)], n))
		goto opaque;
	st->len = have + n;
	status = kmesh_l7_parse(st, KMESH_L7_PARSE_RESP);
	if (status == KMESH_HTTP_NEED_MORE && st->len < KMESH_L7_MAX_HEAD)
		return RESP_MORE;
	r = kmesh_resp_head(st, rc, status);
	bpf_map_delete_elem(&kmesh_resp_stash, &cookie);
	rc->stashed = 0;
	if (r < 0)
		return r;
	/* the head's bytes in this segment */
	return (__u32)r > have ? r - (int)have : RESP_OPAQUE;
opaque:
	bpf_map_delete_elem(&kmesh_resp_stash, &cookie);
	rc->stashed = 0;
	rc->fr.opaque = 1;
	return RESP_OPAQUE;
}

/*
 * A TCP segment received by a client connection with response state:
 * @data is where its payload starts in @skb, @seq the payload's sequence
 * number. Global: verified once.
 */
__noinline int kmesh_resp_segment(struct __sk_buff *skb, __u64 cookie,
				  __u32 data, __u32 seq)
{
	struct resp_conn *rc;
	struct l7_scratch *sc;
	__u32 end, pos, i, n, next;
	int r;

	if (!skb)
		return 0;
	rc = bpf_map_lookup_elem(&kmesh_resp_conns, &cookie);
	if (!rc || rc->fr.opaque || rc->server_pairs)
		return 0;
	end = skb->len;
	if (data >= end)
		return 0;
	next = KMESH_READ_ONCE(rc->rx_next);
	if ((int)(seq + (end - data) - next) <= 0)
		return 0;	/* read already */
	if ((int)(seq - next) > 0) {
		rc->fr.opaque = 1;	/* a gap: out of order */
		goto out;
	}
	/* claim the bytes: another CPU reading this socket now finds them
	 * read, or a gap */
	if (__sync_val_compare_and_swap(&rc->rx_next, next,
					seq + (end - data)) != next) {
		rc->fr.opaque = 1;
		goto out;
	}
	pos = data + (next - seq);
	for (i = 0; i < RESP_STEPS; i++) {
		if (pos >= end || rc->fr.opaque || rc->server_pairs)
			break;
		if (rc->fr.body_left) {
			n = end - pos;
			if (rc->fr.body_left < n)
				n = (__u32)rc->fr.body_left;
			rc->fr.body_left -= n;
			pos += n;
			continue;
		}
		if (rc->stashed) {
			r = kmesh_resp_head_more(skb, rc, pos, end);
			if (r == RESP_MORE)
				break;
			if (r < 0)
				break;
			pos += (__u32)r;
			continue;
		}
		if (rc->fr.chunked) {
			sc = l7_scratch_get();
			if (!sc) {
				rc->fr.opaque = 1;
				break;
			}
			r = kmesh_inbound_chunks(skb, sc, &rc->fr.chunk, pos, end);
			pos += sc->found;
			l7_scratch_put(sc);
			if (r == KMESH_CHUNK_DONE)
				rc->fr.chunked = 0;
			else if (r != KMESH_CHUNK_NEED_MORE)
				rc->fr.opaque = 1;	/* bad chunk framing */
			continue;
		}
		r = kmesh_resp_head_at(skb, rc, pos, end);
		if (r <= 0)
			break;
		pos += (__u32)r;
	}
	if (!rc->fr.opaque && !rc->server_pairs && !rc->stashed && pos < end &&
	    i >= RESP_STEPS)
		rc->fr.opaque = 1;	/* more responses than one segment may take */
out:
	if (rc->fr.opaque)
		l7_global(KMESH_L7_G_RX_OPAQUE);
	return 0;
}

#endif /* KMESH_RESP_SKB_H */

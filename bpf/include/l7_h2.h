/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HTTP/2 clients in kfunc mode (docs/http2.md): a client of an http
 * service port whose first bytes are the HTTP/2 connection preface (h2c,
 * prior knowledge) takes the role L7_ROLE_H2. The module keeps the
 * connection's parser (kmod/h2_conn.c); each message is read frame by
 * frame there, and every request stream's header block comes back as an
 * HTTP/1.1 head in the scratch (sc->req, sc->buf), judged by the same
 * l7_judge() as an HTTP/1.1 request (policy, the route table, rate
 * limits), counted per service, route and method, and logged.
 *
 * A refused stream is refused alone: its frames are cut from the message
 * (or, when its header block changed the HPACK table the server's decoder
 * must follow, the block stays without END_STREAM and an RST_STREAM
 * follows it), and the client gets a response on that stream, :status
 * from the decision or a gRPC trailers-only response. The response goes
 * into the client's own receive queue (redirect to self, BPF_F_INGRESS),
 * which is read before TCP's queue: so only when the module says that is
 * safe (reply_ready), else it waits for a later message. The reply is
 * put in front of the message and redirected alone
 * (bpf_msg_apply_bytes); the kernel runs the program again on the rest,
 * already read and edited, which st->body_left marks (an HTTP/2 client
 * has no body to count) to be passed as it is.
 */
#ifndef KMESH_L7_H2_H
#define KMESH_L7_H2_H

/* Requests judged per program run; more in one message: close. */
#define L7_H2_STEPS	32

/* kmesh_l7_h2_stream(): a step status, or these */
#define L7_H2_FAILED	(-1)	/* drop, and the connection with it */

/* The HTTP/2 response status for a decision. */
static __always_inline __u32 l7_h2_how(const struct l7_decision *d, bool grpc)
{
	__u32 status = d->status >= 100 && d->status <= 599 ? d->status : 403;

	return status | (grpc ? KMESH_H2_DENY_GRPC : 0);
}

/* One request stream: read up to it, judge it, count and log it. */
__noinline int kmesh_l7_h2_stream(struct sk_msg_md *msg)
{
	struct kmesh_h2_info info = {};
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct l7_decision *d;
	struct l7_scratch *sc;
	struct l7_svc svc;
	__u32 route_id;
	int rc;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	if (!s4 || !st)
		return L7_H2_FAILED;
	sc = l7_scratch_get();
	if (!sc)
		return L7_H2_FAILED;
	rc = bpf_kmesh_h2_step(msg, &sc->req, sizeof(sc->req), sc->buf,
			       sizeof(sc->buf));
	if (rc != KMESH_H2_STEP_REQUEST) {
		l7_scratch_put(sc);
		if (rc == KMESH_H2_STEP_DONE)
			return rc;
		if (rc == KMESH_H2_STEP_CLOSE)
			l7_global(KMESH_L7_G_DENIED);
		else
			l7_global(KMESH_L7_G_INTERNAL);
		return L7_H2_FAILED;
	}
	if (bpf_kmesh_h2_info(msg, &info, sizeof(info))) {
		l7_scratch_put(sc);
		return L7_H2_FAILED;
	}
	l7_global(KMESH_L7_G_REQUESTS);
	d = &sc->d;
	__builtin_memset(d, 0, sizeof(*d));
	l7_svc_get(s4, &svc);
	if (!svc.service_id)
		svc.service_id = st->service_id;
	sc->len = info.head_len;
	if ((info.flags & KMESH_H2_INFO_F_STREAM_ERROR) ||
	    info.head_status != KMESH_HTTP_OK) {
		d->reason = info.head_status == KMESH_HTTP_E_HEAD_TOO_LARGE ||
			    info.head_status == KMESH_HTTP_E_TOO_MANY_HEADERS ?
			    KMESH_L7_R_TOO_LARGE : KMESH_L7_R_BAD_REQUEST;
		d->status = d->reason == KMESH_L7_R_TOO_LARGE ? 431 : 400;
		if (bpf_kmesh_h2_deny(msg, info.stream_id,
				      l7_h2_how(d, info.flags & KMESH_H2_INFO_F_GRPC)))
			goto failed;
		l7_global(KMESH_L7_G_DENIED);
		l7_log_request(st, s4, sc, svc.service_id, 0, 0, 0, d->reason,
			       d->status, false);
		l7_scratch_put(sc);
		return KMESH_H2_STEP_REQUEST;
	}
	l7_judge(sc, &svc, s4, st, true, d);
	route_id = d->route_known ? d->route_id : 0;
	if (d->reason) {
		struct kmesh_l7_stats *s = l7_stats(svc.service_id, route_id,
						    sc->view.method);

		if (bpf_kmesh_h2_deny(msg, info.stream_id,
				      l7_h2_how(d, info.flags & KMESH_H2_INFO_F_GRPC)))
			goto failed;
		l7_global(KMESH_L7_G_DENIED);
		if (s) {
			if (d->reason == KMESH_L7_R_DIRECT)
				__sync_fetch_and_add(&s->direct, 1);
			else
				__sync_fetch_and_add(&s->denied, 1);
		}
		l7_log_request(st, s4, sc, svc.service_id, route_id, d->policy_id,
			       sc->view.method, d->reason, d->status, true);
	} else {
		struct kmesh_l7_stats *s = l7_stats(svc.service_id, route_id,
						    sc->view.method);

		if (s)
			__sync_fetch_and_add(&s->allowed, 1);
		st->passed++;
		/* responses are not paired per stream yet: logged now */
		l7_global(KMESH_L7_G_UNTRACKED);
		l7_log_request(st, s4, sc, svc.service_id, route_id, 0,
			       sc->view.method, KMESH_L7_R_ALLOW, 0, true);
	}
	l7_scratch_put(sc);
	return KMESH_H2_STEP_REQUEST;
failed:
	l7_global(KMESH_L7_G_INTERNAL);
	l7_scratch_put(sc);
	return L7_H2_FAILED;
}

/*
 * Cut and add what the module listed (descending offsets, each @base
 * bytes further on: the reply is in front). An RST_STREAM goes after the
 * kept block at e->off; since 6.1 cannot push at a message's end, room
 * is made one byte earlier and the module writes that byte back first.
 */
static __always_inline int l7_h2_edit(struct sk_msg_md *msg,
				      struct kmesh_h2_edits *ed, __u32 base)
{
	__u32 i, nr = ed->nr, off;

	for (i = 0; i < KMESH_H2_MAX_EDITS; i++) {
		struct kmesh_h2_edit *e = &ed->e[i];

		if (i >= nr)
			break;
		off = base + e->off;
		if (e->kind == KMESH_H2_EDIT_POP) {
			if (bpf_msg_pop_data(msg, off, e->len, 0))
				return -1;
		} else if (e->kind == KMESH_H2_EDIT_RST && off) {
			if (bpf_msg_push_data(msg, off - 1, KMESH_H2_RST_LEN, 0))
				return -1;
			if (bpf_kmesh_h2_write(msg, off - 1, KMESH_H2_WRITE_RST,
					       e->stream_id) != KMESH_H2_RST_LEN + 1)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Drop the message and everything after it on this connection. */
static __always_inline int l7_h2_drop(struct sk_msg_md *msg,
				      struct kmesh_l7_sk *st)
{
	st->dead = 1;
	l7_global(KMESH_L7_G_DROPPED);
	bpf_msg_apply_bytes(msg, 0);
	return SK_DROP;
}

/*
 * A message of an HTTP/2 client, or the first message of an http client
 * (L7_AT_HEAD when it is not HTTP/2: the HTTP/1.1 request step goes on).
 */
__noinline int kmesh_l7_h2(struct sk_msg_md *msg, __u32 corked)
{
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct kmesh_h2_edits *ed;
	struct kmesh_h2_info info = {};
	struct l7_scratch *sc;
	struct l7_svc svc;
	__u32 size = KMESH_CTX_LOAD(msg, size), i, reply;
	int rc;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	if (!s4 || !st)
		return SK_DROP;
	if (st->role == L7_ROLE_H2) {
		corked = st->corked;
		st->corked = 0;
	}
	if (st->role == L7_ROLE_H2 && st->body_left) {
		/* the bytes that followed a reply: read and edited already */
		if (st->body_left != size)
			return l7_h2_drop(msg, st);
		st->body_left = 0;
		return l7_pass(msg, s4, st, size, false);
	}
	if (st->dead)
		return l7_h2_drop(msg, st);
	rc = bpf_kmesh_h2_begin(msg);
	if (rc == KMESH_H2_STEP_NOT_H2 && st->role != L7_ROLE_H2)
		return L7_AT_HEAD | (corked ? L7_CORKED : 0);
	if (rc == KMESH_H2_STEP_NEED_MORE) {
		bpf_kmesh_h2_info(msg, &info, sizeof(info));
		bpf_msg_cork_bytes(msg, size + (info.need ? info.need : 1));
		bpf_msg_apply_bytes(msg, 0);
		st->corked = 1;
		l7_global(KMESH_L7_G_CORKED);
		return SK_DROP;	/* what applies if the kernel cannot cork */
	}
	if (rc == KMESH_H2_STEP_NO_STATE) {
		/* over h2_max_conns: the service's failure_mode */
		l7_svc_get(s4, &svc);
		if (svc.pol && (svc.pol->flags & KMESH_L7_PF_FAIL_OPEN))
			return l7_unchecked(msg, st);
		return l7_h2_drop(msg, st);
	}
	if (rc != KMESH_H2_STEP_DONE)
		return l7_h2_drop(msg, st);
	st->role = L7_ROLE_H2;
	for (i = 0; i < L7_H2_STEPS; i++) {
		rc = kmesh_l7_h2_stream(msg);
		if (rc == KMESH_H2_STEP_DONE)
			break;
		if (rc != KMESH_H2_STEP_REQUEST)
			return l7_h2_drop(msg, st);
	}
	if (i == L7_H2_STEPS)
		return l7_h2_drop(msg, st);
	sc = l7_scratch_get();
	if (!sc)
		return l7_h2_drop(msg, st);
	/* the head buffer is free again: the edits go there */
	ed = (struct kmesh_h2_edits *)sc->buf;
	if (bpf_kmesh_h2_edits(msg, ed, sizeof(*ed)))
		goto fail;
	/*
	 * The reply goes first, in front of the message, and is redirected
	 * alone (the rest gets another run). Not with a corked message: the
	 * kernel frees what follows a redirected part of one; the reply
	 * then waits.
	 */
	reply = ed->reply_ready && !corked ? ed->reply_len : 0;
	if (reply && (bpf_msg_push_data(msg, 0, reply, 0) ||
		      bpf_kmesh_h2_write(msg, 0, KMESH_H2_WRITE_REPLY, 0) !=
		      (int)reply))
		goto fail;
	if (l7_h2_edit(msg, ed, reply))
		goto fail;
	l7_scratch_put(sc);
	size = KMESH_CTX_LOAD(msg, size);
	if (reply) {
		l7_global(KMESH_L7_G_REPLIED);
		/* what follows the reply, read already: passed on the next run */
		st->body_left = size - reply;
		if (size > reply)
			bpf_msg_apply_bytes(msg, reply);
		return bpf_msg_redirect_hash(msg, &kmesh_sockhash, &st->key,
					     BPF_F_INGRESS);
	}
	if (!size)
		return SK_PASS;	/* every frame was cut */
	return l7_pass(msg, s4, st, size, corked);
fail:
	l7_scratch_put(sc);
	l7_global(KMESH_L7_G_INTERNAL);
	return l7_h2_drop(msg, st);
}

#endif /* KMESH_L7_H2_H */

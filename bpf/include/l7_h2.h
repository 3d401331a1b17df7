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
 * A refused stream is refused alone: its frames are hidden from the server
 * (turned in place into a frame type it discards), or, when its header
 * block changed the HPACK table the server's decoder must follow, the
 * block stays without END_STREAM and an RST_STREAM follows it, and the client gets a response on that stream, :status
 * from the decision or a gRPC trailers-only response. The response goes
 * into the client's own receive queue (redirect to self, BPF_F_INGRESS),
 * which is read before TCP's queue: so only when the module says that is
 * safe (reply_ready), else it waits for a later message. The reply rides
 * at the end of the message: the part before it is passed
 * (bpf_msg_apply_bytes), and the kernel runs the program again on the
 * reply, which st->body_left marks (an HTTP/2 client has no body to
 * count), to redirect it.
 */
#ifndef KMESH_L7_H2_H
#define KMESH_L7_H2_H

/*
 * Requests judged per program run (h2load -m 100 writes 100 at once);
 * the rest of a message gets another run, unless this one pushed an
 * RST_STREAM: on 6.1 a partial pass after bpf_msg_push_data() hands the
 * next run bytes that are not where they were (seen with h2load), so
 * such a connection is closed instead.
 */
#define L7_H2_STEPS	128
/* The head of a stream goes in sc->buf, the step's info after it (the
 * verifier's stack is spent: the request path is at 512 bytes). */
#define L7_H2_HEAD_ROOM	(L7_BUF_SIZE - 64)

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
	struct kmesh_h2_info *info;
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
			       L7_H2_HEAD_ROOM);
	if (rc != KMESH_H2_STEP_REQUEST) {
		l7_scratch_put(sc);
		if (rc == KMESH_H2_STEP_DONE || rc == KMESH_H2_STEP_PAUSE)
			return rc;
		if (rc == KMESH_H2_STEP_CLOSE)
			l7_global(KMESH_L7_G_DENIED);
		else
			l7_global(KMESH_L7_G_INTERNAL);
		return L7_H2_FAILED;
	}
	info = (struct kmesh_h2_info *)&sc->buf[L7_H2_HEAD_ROOM];
	if (bpf_kmesh_h2_info(msg, info, sizeof(*info))) {
		l7_scratch_put(sc);
		return L7_H2_FAILED;
	}
	l7_global(KMESH_L7_G_REQUESTS);
	d = &sc->d;
	__builtin_memset(d, 0, sizeof(*d));
	l7_svc_get(s4, &svc);
	if (!svc.service_id)
		svc.service_id = st->service_id;
	sc->len = info->head_len;
	if ((info->flags & KMESH_H2_INFO_F_STREAM_ERROR) ||
	    info->head_status != KMESH_HTTP_OK) {
		d->reason = info->head_status == KMESH_HTTP_E_HEAD_TOO_LARGE ||
			    info->head_status == KMESH_HTTP_E_TOO_MANY_HEADERS ?
			    KMESH_L7_R_TOO_LARGE : KMESH_L7_R_BAD_REQUEST;
		d->status = d->reason == KMESH_L7_R_TOO_LARGE ? 431 : 400;
		if (bpf_kmesh_h2_deny(msg, info->stream_id,
				      l7_h2_how(d, info->flags & KMESH_H2_INFO_F_GRPC)))
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

		if (bpf_kmesh_h2_deny(msg, info->stream_id,
				      l7_h2_how(d, info->flags & KMESH_H2_INFO_F_GRPC)))
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
 * Add what the module listed (descending offsets, each @base bytes
 * further on). An RST_STREAM goes after the
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
		if (e->kind == KMESH_H2_EDIT_RST && off) {
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

/* kmesh_l7_h2_begin(): read the message's streams (with L7_CORKED) */
#define L7_H2_GO	0x800
/* kmesh_l7_h2_end() @how */
#define L7_H2_END_FAILED	0x1000
#define L7_H2_END_PARTIAL	0x2000	/* only info.pos bytes were read */

/*
 * A message of an HTTP/2 client, or the first message of an http client
 * (L7_AT_HEAD when it is not HTTP/2: the HTTP/1.1 request step goes on).
 * L7_H2_GO: the streams are read next (kmesh_l7_h2_stream()).
 */
__noinline int kmesh_l7_h2_begin(struct sk_msg_md *msg, __u32 corked)
{
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct l7_svc svc;
	__u32 size = KMESH_CTX_LOAD(msg, size), need;
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
		/* the reply the run before left at the end: to the client */
		if (st->body_left != size)
			return l7_h2_drop(msg, st);
		st->body_left = 0;
		l7_global(KMESH_L7_G_REPLIED);
		return bpf_msg_redirect_hash(msg, &kmesh_sockhash, &st->key,
					     BPF_F_INGRESS);
	}
	if (st->dead)
		return l7_h2_drop(msg, st);
	rc = bpf_kmesh_h2_begin(msg);
	if (rc == KMESH_H2_STEP_NOT_H2 && st->role != L7_ROLE_H2)
		return L7_AT_HEAD | (corked ? L7_CORKED : 0);
	if (rc == KMESH_H2_STEP_NEED_MORE) {
		struct l7_scratch *sc = l7_scratch_get();
		struct kmesh_h2_info *info;

		need = 1;
		if (sc) {
			info = (struct kmesh_h2_info *)&sc->buf[L7_H2_HEAD_ROOM];
			if (!bpf_kmesh_h2_info(msg, info, sizeof(*info)) &&
			    info->need)
				need = info->need;
			l7_scratch_put(sc);
		}
		bpf_msg_cork_bytes(msg, size + need);
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
	return L7_H2_GO | (corked ? L7_CORKED : 0);
}

/* After the streams: the edits, the reply, the verdict. */
__noinline int kmesh_l7_h2_end(struct sk_msg_md *msg, __u32 how)
{
	struct kmesh_sk_state *s4;
	struct kmesh_l7_sk *st;
	struct kmesh_h2_edits *ed;
	struct l7_scratch *sc;
	bool corked = how & L7_CORKED, partial = how & L7_H2_END_PARTIAL;
	__u32 size, reply, before, pass;

	s4 = bpf_sk_storage_get(&kmesh_sk_state, msg->sk, 0, 0);
	st = bpf_sk_storage_get(&kmesh_l7_sk, msg->sk, 0, 0);
	if (!s4 || !st)
		return SK_DROP;
	if (how & L7_H2_END_FAILED)
		return l7_h2_drop(msg, st);
	sc = l7_scratch_get();
	if (!sc)
		return l7_h2_drop(msg, st);
	/* the head buffer is free again: the edits go there */
	ed = (struct kmesh_h2_edits *)sc->buf;
	if (bpf_kmesh_h2_edits(msg, ed, sizeof(*ed)))
		goto fail;
	/*
	 * The reply goes last: pushed at the message's end (one byte early,
	 * 6.1 cannot push at the end itself), the bytes before it passed
	 * (bpf_msg_apply_bytes), and the kernel runs the program again on the
	 * reply, which st->body_left marks, to send it to the client itself.
	 * Not when the server is a local socket writing straight into the
	 * client (its frames are not followed): the reply then waits in the
	 * module.
	 */
	reply = ed->reply_ready && s4->redir != KMESH_REDIR_YES ?
		ed->reply_len : 0;
	before = KMESH_CTX_LOAD(msg, size);
	if (l7_h2_edit(msg, ed, 0))
		goto fail;
	size = KMESH_CTX_LOAD(msg, size);
	if (partial) {
		/* the part read (every edit is in it), as it is now; the
		 * kernel runs the program again on the rest */
		struct kmesh_h2_info *info;

		info = (struct kmesh_h2_info *)&sc->buf[L7_H2_HEAD_ROOM];
		if (bpf_kmesh_h2_info(msg, info, sizeof(*info)))
			goto fail;
		pass = info->pos + size - before;
		if (pass < size && ed->nr) {
			l7_scratch_put(sc);
			l7_global(KMESH_L7_G_INTERNAL);
			return l7_h2_drop(msg, st);
		}
		if (pass < size) {
			l7_scratch_put(sc);
			if (!pass)
				return l7_h2_drop(msg, st);
			return l7_pass(msg, s4, st, pass, corked);
		}
		/* all of it was read after all: no rest to run again */
		partial = false;
	}
	if (reply && size && !partial) {
		if (bpf_msg_push_data(msg, size - 1, reply, 0) ||
		    bpf_kmesh_h2_write(msg, size - 1, KMESH_H2_WRITE_REPLY, 0) !=
		    (int)reply + 1)
			goto fail;
		st->body_left = reply;
	}
	l7_scratch_put(sc);
	return l7_pass(msg, s4, st, size, corked);
fail:
	l7_scratch_put(sc);
	l7_global(KMESH_L7_G_INTERNAL);
	return l7_h2_drop(msg, st);
}

/* The HTTP/2 client's message (kfunc mode): begin, streams, end. */
static __always_inline int kmesh_l7_h2(struct sk_msg_md *msg, __u32 corked)
{
	int v, i, rc;

	v = kmesh_l7_h2_begin(msg, corked);
	if (!(v & L7_H2_GO))
		return v;
	for (i = 0; i < L7_H2_STEPS; i++) {
		rc = kmesh_l7_h2_stream(msg);
		if (rc == KMESH_H2_STEP_DONE)
			return kmesh_l7_h2_end(msg, v & L7_CORKED);
		if (rc != KMESH_H2_STEP_REQUEST)
			break;
	}
	if (i == L7_H2_STEPS || rc == KMESH_H2_STEP_PAUSE)
		return kmesh_l7_h2_end(msg, (v & L7_CORKED) | L7_H2_END_PARTIAL);
	return kmesh_l7_h2_end(msg, L7_H2_END_FAILED);
}

#endif /* KMESH_L7_H2_H */

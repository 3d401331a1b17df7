// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 kfunc: the first request of a cleartext connection, parsed by the
 * core's frame parser and HPACK decoder (kmod/core/h2_frame.c, hpack.c),
 * for routing a connection by its first request as HTTP/1.1 is. Stateless
 * like bpf_kmesh_http_parse(): the caller gives the connection's bytes from
 * its start each time (docs/http2.md says what per-stream state comes next).
 *
 * The parser's working memory (60 KiB with the default limits) is too much
 * for a stack and for an atomic allocation per call, so each CPU has one,
 * allocated at load (memcg-accounted to whoever loads the module). A call
 * holds its CPU's with preemption off; a call that finds it taken (a BPF
 * program in an interrupt or NMI on top of another) gets -EBUSY.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "kmesh.h"
#include "core/h2_frame.h"

static_assert(KMESH_H2_REASON_MAX <= KMESH_KFUNC_OUTCOME_MAX);
static_assert(KMESH_H2_REQ_STATUS_MAX <= KMESH_KFUNC_OUTCOME_MAX);

struct kmesh_h2_scratch {
	struct kmesh_h2_parser parser;
	struct kmesh_h2_req *req;	/* the call's result */
	u32 mem_len;
	bool busy;
	u8 mem[] __aligned(8);
};

static struct kmesh_h2_scratch * __percpu *kmesh_h2_scratch;

/* The parser's stop value: the first request is complete or refused. */
#define KMESH_H2_STOP	(-1)

static void kmesh_h2_put(struct kmesh_h2_req *req, struct kmesh_http_span *s,
			 const struct kmesh_h2_msg *m, struct kmesh_h2_span from,
			 u32 *used)
{
	if (from.len > KMESH_H2_REQ_TEXT - *used) {
		req->status = KMESH_H2_REQ_TOO_LARGE;
		return;
	}
	memcpy(req->text + *used, m->text + from.off, from.len);
	s->off = *used;
	s->len = from.len;
	*used += from.len;
}

static int kmesh_h2_on_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct kmesh_h2_scratch *sc = ctx;
	struct kmesh_h2_req *req = sc->req;
	const struct kmesh_h2_msg *m = ev->msg;
	u32 used = 0;

	switch (ev->type) {
	case KMESH_H2_EV_STREAM_ERROR:
		req->status = KMESH_H2_REQ_REFUSED;
		req->reason = ev->reason;
		req->stream_id = ev->stream_id;
		return KMESH_H2_STOP;
	case KMESH_H2_EV_HEADERS:
		break;
	default:
		return 0;
	}
	req->status = KMESH_H2_REQ_OK;
	req->stream_id = ev->stream_id;
	if (m->flags & KMESH_H2_M_END_STREAM)
		req->flags |= KMESH_H2_REQ_F_END_STREAM;
	if (m->flags & KMESH_H2_M_CONNECT)
		req->flags |= KMESH_H2_REQ_F_CONNECT;
	if (m->flags & KMESH_H2_M_HAS_CL) {
		req->flags |= KMESH_H2_REQ_F_HAS_CL;
		req->content_length = m->content_length;
	}
	kmesh_h2_put(req, &req->method, m, m->method, &used);
	kmesh_h2_put(req, &req->scheme, m, m->scheme, &used);
	if (m->flags & KMESH_H2_M_HAS_AUTHORITY) {
		kmesh_h2_put(req, &req->authority, m, m->authority, &used);
	} else if (m->flags & KMESH_H2_M_HAS_HOST) {
		req->flags |= KMESH_H2_REQ_F_HOST;
		kmesh_h2_put(req, &req->authority, m, m->host, &used);
	}
	kmesh_h2_put(req, &req->path, m, m->path, &used);
	return KMESH_H2_STOP;
}

__bpf_kfunc_start_defs();

/**
 * bpf_kmesh_h2_parse - the first request of an HTTP/2 connection
 * @req: struct kmesh_h2_req to fill
 * @req__sz: size of @req; must be exactly sizeof(struct kmesh_h2_req)
 * @buf: the bytes the client sent, from the connection preface on
 * @buf__sz: how many; at most KMESH_H2_REQ_MAX_BYTES
 *
 * Parses from the start every time (call again with more bytes while it
 * says NEED_MORE). Every frame before the first request's header block is
 * checked as the core checks it (docs/http2.md); a connection error or an
 * error of that stream is REFUSED with its reason.
 *
 * Return: enum kmesh_h2_req_status (also in @req->status); -EINVAL for a
 * size mismatch, a NULL @buf with a size, or more than
 * KMESH_H2_REQ_MAX_BYTES; -EBUSY when this CPU's parser is in use by an
 * interrupted call.
 */
__bpf_kfunc int bpf_kmesh_h2_parse(void *req, u32 req__sz, const void *buf,
				   u32 buf__sz)
{
	struct kmesh_h2_scratch *sc;
	struct kmesh_h2_req *r = req;
	int rc;

	if (req__sz != sizeof(struct kmesh_h2_req) || !req ||
	    (!buf && buf__sz) || buf__sz > KMESH_H2_REQ_MAX_BYTES)
		return -EINVAL;
	preempt_disable();
	sc = *this_cpu_ptr(kmesh_h2_scratch);
	if (sc->busy) {
		preempt_enable();
		return -EBUSY;
	}
	sc->busy = true;
	barrier();
	memset(r, 0, sizeof(*r));
	r->status = KMESH_H2_REQ_NEED_MORE;
	sc->req = r;
	rc = kmesh_h2_init(&sc->parser, KMESH_H2_FROM_CLIENT, NULL, sc->mem,
			   sc->mem_len, kmesh_h2_on_event, sc);
	if (!rc)
		rc = kmesh_h2_parse(&sc->parser, buf, buf__sz);
	if (rc == KMESH_H2_STOP) {
		if (r->status == KMESH_H2_REQ_OK)
			r->consumed = (u32)sc->parser.offset;
		else
			r->consumed = (u32)sc->parser.frame_off;
	} else if (rc) {
		/* a connection error */
		r->status = KMESH_H2_REQ_REFUSED;
		r->reason = rc;
		r->consumed = (u32)sc->parser.err_off;
	}
	rc = r->status;
	barrier();
	sc->busy = false;
	preempt_enable();
	return rc;
}

__bpf_kfunc_end_defs();

/*
 * This CPU's parser memory for one kfunc call (h2_conn.c lends it to a
 * connection's parser as its scratch): preemption stays off until
 * kmesh_h2_scratch_put(). NULL (preemption back on) when an interrupted
 * call holds it.
 */
void *kmesh_h2_scratch_get(u32 *len)
{
	struct kmesh_h2_scratch *sc;

	preempt_disable();
	sc = *this_cpu_ptr(kmesh_h2_scratch);
	if (sc->busy) {
		preempt_enable();
		return NULL;
	}
	sc->busy = true;
	barrier();
	*len = sc->mem_len;
	return sc->mem;
}

void kmesh_h2_scratch_put(void)
{
	struct kmesh_h2_scratch *sc = *this_cpu_ptr(kmesh_h2_scratch);

	barrier();
	sc->busy = false;
	preempt_enable();
}

int kmesh_h2_init_scratch(void)
{
	u32 len = max(kmesh_h2_mem_size(NULL), kmesh_h2_conn_scratch_size());
	int cpu;

	kmesh_h2_scratch = alloc_percpu(struct kmesh_h2_scratch *);
	if (!kmesh_h2_scratch)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct kmesh_h2_scratch *sc;

		sc = kvzalloc_node(struct_size(sc, mem, len), GFP_KERNEL_ACCOUNT,
				   cpu_to_node(cpu));
		if (!sc) {
			kmesh_h2_free_scratch();
			return -ENOMEM;
		}
		sc->mem_len = len;
		*per_cpu_ptr(kmesh_h2_scratch, cpu) = sc;
	}
	return 0;
}

void kmesh_h2_free_scratch(void)
{
	int cpu;

	if (!kmesh_h2_scratch)
		return;
	for_each_possible_cpu(cpu)
		kvfree(*per_cpu_ptr(kmesh_h2_scratch, cpu));
	free_percpu(kmesh_h2_scratch);
	kmesh_h2_scratch = NULL;
}

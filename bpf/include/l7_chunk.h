/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fallback chunked-body scanner: the grammar is kmesh_chunk_step() of
 * kmod/core/http_rules.h, which the core (kmod/core/chunk.c) runs too;
 * here it gets its bytes through small windows pulled out of the message,
 * and chunk data is skipped by count. Work
 * per program run is bounded (L7_CHUNK_WINDOWS windows); when it runs out
 * the caller passes what was scanned and the kernel runs the program again
 * on the rest of the message, so any body is handled, in pieces.
 */
#ifndef KMESH_L7_CHUNK_H
#define KMESH_L7_CHUNK_H

#include "l4_common.h"	/* KMESH_CTX_LOAD */
#include "l7_http.h"

#define L7_CHUNK_WIN		64
#define L7_CHUNK_WINDOWS	8

struct l7_chunk_ctx {
	struct l7_scratch *sc;
	struct kmesh_chunk_state *cs;
};

/* One byte of a size line, CRLF or trailer; 1 stops the window. */
static long l7_chunk_byte(__u32 i, struct l7_chunk_ctx *ctx)
{
	struct kmesh_chunk_state *cs = ctx->cs;
	struct l7_scratch *sc = ctx->sc;

	if (!cs || !sc)
		return 1;
	sc->wused = i + 1;
	if (kmesh_chunk_step(cs, sc->buf[(L7_WIN_OFF + i) & L7_BUF_MASK]))
		return 1;	/* done, or an error */
	/* the caller skips the data */
	return cs->state == KMESH_CS_DATA;
}

/*
 * Skip chunk data in message bytes [*@pos, @size), as far as the current
 * chunk goes.
 */
static __always_inline void l7_chunk_skip(struct kmesh_chunk_state *cs,
					  __u32 *pos, __u32 size)
{
	__u32 n;

	if (cs->state != KMESH_CS_DATA)
		return;
	n = size - *pos;
	if (cs->remaining < n)
		n = (__u32)cs->remaining;
	cs->remaining -= n;
	*pos += n;
	if (!cs->remaining)
		cs->state = KMESH_CS_DATA_CR;
}

/*
 * Step through the @n (<= L7_CHUNK_WIN) bytes copied to sc->buf at
 * L7_WIN_OFF; returns how many were used (up to the start of chunk data,
 * the end of the body or the offending byte).
 */
static __always_inline __u32 l7_chunk_window(struct l7_scratch *sc,
					     struct kmesh_chunk_state *cs,
					     __u32 n)
{
	struct l7_chunk_ctx ctx = { .sc = sc, .cs = cs };

	sc->wused = 0;
	bpf_loop(n, l7_chunk_byte, &ctx, 0);
	return sc->wused <= n ? sc->wused : n;
}

/*
 * Copy message bytes [@off, @off + @n) (n <= L7_CHUNK_WIN) into sc->buf at
 * L7_WIN_OFF (the head stays) through a pulled window. 0, or -1 if the
 * kernel would not pull.
 */
static __always_inline int l7_copy_window(struct sk_msg_md *msg,
					  struct l7_scratch *sc, __u32 off,
					  __u32 n)
{
	void *data, *end;
	__u32 i;

	if (!n || n > L7_CHUNK_WIN)
		return -1;
	if (bpf_msg_pull_data(msg, off, off + n, 0))
		return -1;
	data = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	/*
	 * The pull made [data, data_end) exactly the n bytes: copy to the
	 * end without comparing against n (that would make the verifier
	 * track every possible n apart). Words, then the last few bytes.
	 */
	for (i = 0; i < L7_CHUNK_WIN / 8; i++) {
		__u64 *p = data + i * 8;

		if ((void *)(p + 1) > end)
			break;
		*(__u64 *)&sc->buf[L7_WIN_OFF + i * 8] = *p;
	}
	for (i *= 8; i < L7_CHUNK_WIN; i++) {
		__u8 *p = data + i;

		if ((void *)(p + 1) > end)
			break;
		sc->buf[L7_WIN_OFF + i] = *p;
	}
	return 0;
}

/*
 * Scan the body in message bytes [@off, size). Returns the enum
 * kmesh_chunk_status; sc->found: bytes from @off that belong to the body
 * (with NEED_MORE possibly fewer than the message holds, when the work
 * budget ran out: pass those and let the program run on the rest).
 * Global: verified once.
 */
__noinline int kmesh_l7_chunks_fb(struct sk_msg_md *msg,
				  struct l7_scratch *sc,
				  struct kmesh_chunk_state *cs, __u32 off)
{
	__u32 size = KMESH_CTX_LOAD(msg, size), pos = off, w, n;

	if (!sc || !cs)
		return KMESH_CHUNK_E_INVAL;
	sc->found = 0;
	if (cs->state == KMESH_CS_DONE || cs->state == KMESH_CS_ERROR)
		return cs->status;
	for (w = 0; w < L7_CHUNK_WINDOWS && pos < size; w++) {
		l7_chunk_skip(cs, &pos, size);
		if (pos >= size)
			break;
		n = size - pos;
		if (n > L7_CHUNK_WIN)
			n = L7_CHUNK_WIN;
		if (l7_copy_window(msg, sc, pos, n)) {
			/* cannot read the message: fail closed */
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

#endif /* KMESH_L7_CHUNK_H */

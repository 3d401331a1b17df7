/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fallback chunked-body scanner: the state machine of kmod/core/chunk.c,
 * byte for byte, in eBPF. Size lines and trailers are read through small
 * windows pulled out of the message; chunk data is skipped by count. Work
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
#define L7_CHUNK_MAX_DIGITS	15

/* The core's states (kmod/core/chunk.c); the numbers must match. */
enum {
	CS_SIZE0 = 0, CS_SIZE, CS_SIZE_WS, CS_EXT, CS_SIZE_LF, CS_DATA,
	CS_DATA_CR, CS_DATA_LF, CS_TRAILER, CS_TNAME, CS_TVALUE, CS_TLF,
	CS_END_LF, CS_DONE, CS_ERROR,
};

struct l7_chunk_ctx {
	struct l7_scratch *sc;
	struct kmesh_chunk_state *cs;
};

static __always_inline int l7_hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static __always_inline bool l7_text(__u8 c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static __always_inline long l7_chunk_err(struct kmesh_chunk_state *cs,
					 __u8 status)
{
	cs->state = CS_ERROR;
	cs->status = status;
	return 1;
}

static __always_inline __u8 l7_crlf_err(__u8 c, __u8 otherwise)
{
	return c == '\r' || c == '\n' ? KMESH_CHUNK_E_CRLF : otherwise;
}

/* One byte of a size line, CRLF or trailer; 1 stops the window. */
static long l7_chunk_byte(__u32 i, struct l7_chunk_ctx *ctx)
{
	struct kmesh_chunk_state *cs = ctx->cs;
	struct l7_scratch *sc = ctx->sc;
	__u8 c;
	int v;

	if (!cs || !sc)
		return 1;
	c = sc->buf[(L7_WIN_OFF + i) & L7_BUF_MASK];
	sc->wused = i + 1;
	switch (cs->state) {
	case CS_SIZE0:
		v = l7_hexval(c);
		if (v < 0)
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_SIZE));
		cs->remaining = (__u64)v;
		cs->digits = 1;
		cs->line = 0;
		cs->state = CS_SIZE;
		break;
	case CS_SIZE:
		v = l7_hexval(c);
		if (v >= 0) {
			if (cs->digits >= L7_CHUNK_MAX_DIGITS)
				return l7_chunk_err(cs, KMESH_CHUNK_E_OVERFLOW);
			cs->digits++;
			cs->remaining = cs->remaining << 4 | (__u64)v;
		} else if (c == '\r') {
			cs->state = CS_SIZE_LF;
		} else if (c == ';') {
			cs->state = CS_EXT;
		} else if (c == ' ' || c == '\t') {
			cs->state = CS_SIZE_WS;
		} else {
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_SIZE));
		}
		break;
	case CS_SIZE_WS:
		if (c == ';')
			cs->state = CS_EXT;
		else if (c != ' ' && c != '\t')
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_SIZE));
		break;
	case CS_EXT:
		if (c == '\r')
			cs->state = CS_SIZE_LF;
		else if (!l7_text(c))
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_EXT));
		break;
	case CS_SIZE_LF:
		if (c != '\n')
			return l7_chunk_err(cs, KMESH_CHUNK_E_CRLF);
		cs->line = 0;
		cs->digits = 0;
		if (cs->remaining) {
			cs->state = CS_DATA;
			return 1;	/* the caller skips the data */
		}
		cs->state = CS_TRAILER;
		break;
	case CS_DATA_CR:
		if (c != '\r')
			return l7_chunk_err(cs, KMESH_CHUNK_E_CRLF);
		cs->state = CS_DATA_LF;
		break;
	case CS_DATA_LF:
		if (c != '\n')
			return l7_chunk_err(cs, KMESH_CHUNK_E_CRLF);
		cs->state = CS_SIZE0;
		break;
	case CS_TRAILER:
		if (c == '\r')
			cs->state = CS_END_LF;
		else if (l7_cls[c] & C_TCHAR)
			cs->state = CS_TNAME;
		else
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_TRAILER));
		break;
	case CS_TNAME:
		if (c == ':')
			cs->state = CS_TVALUE;
		else if (!(l7_cls[c] & C_TCHAR))
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_TRAILER));
		break;
	case CS_TVALUE:
		if (c == '\r')
			cs->state = CS_TLF;
		else if (!l7_text(c))
			return l7_chunk_err(cs, l7_crlf_err(c, KMESH_CHUNK_E_TRAILER));
		break;
	case CS_TLF:
		if (c != '\n')
			return l7_chunk_err(cs, KMESH_CHUNK_E_CRLF);
		cs->state = CS_TRAILER;
		break;
	case CS_END_LF:
		if (c != '\n')
			return l7_chunk_err(cs, KMESH_CHUNK_E_CRLF);
		cs->state = CS_DONE;
		cs->status = KMESH_CHUNK_DONE;
		return 1;
	default:
		return l7_chunk_err(cs, KMESH_CHUNK_E_INVAL);
	}
	if (cs->state == CS_SIZE || cs->state == CS_SIZE_WS ||
	    cs->state == CS_EXT) {
		if (++cs->line > KMESH_CHUNK_MAX_LINE)
			return l7_chunk_err(cs, KMESH_CHUNK_E_TOO_LONG);
	} else if (cs->state >= CS_TRAILER && cs->state <= CS_END_LF) {
		if (++cs->line > KMESH_CHUNK_MAX_TRAILERS)
			return l7_chunk_err(cs, KMESH_CHUNK_E_TOO_LONG);
	}
	return 0;
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
	struct l7_chunk_ctx ctx = { .sc = sc, .cs = cs };
	__u32 size = KMESH_CTX_LOAD(msg, size), pos = off, w, n;

	if (!sc || !cs)
		return KMESH_CHUNK_E_INVAL;
	sc->found = 0;
	if (cs->state == CS_DONE || cs->state == CS_ERROR)
		return cs->status;
	for (w = 0; w < L7_CHUNK_WINDOWS && pos < size; w++) {
		if (cs->state == CS_DATA) {
			n = size - pos;
			if (cs->remaining < n)
				n = (__u32)cs->remaining;
			cs->remaining -= n;
			pos += n;
			if (!cs->remaining)
				cs->state = CS_DATA_CR;
			if (pos >= size)
				break;
		}
		n = size - pos;
		if (n > L7_CHUNK_WIN)
			n = L7_CHUNK_WIN;
		if (l7_copy_window(msg, sc, pos, n)) {
			/* cannot read the message: fail closed */
			cs->state = CS_ERROR;
			cs->status = KMESH_CHUNK_E_INVAL;
			break;
		}
		sc->wused = 0;
		bpf_loop(n, l7_chunk_byte, &ctx, 0);
		pos += sc->wused <= n ? sc->wused : n;
		if (cs->state == CS_DONE || cs->state == CS_ERROR)
			break;
	}
	sc->found = pos - off;
	if (cs->state == CS_DONE)
		return KMESH_CHUNK_DONE;
	if (cs->state == CS_ERROR)
		return cs->status ? cs->status : KMESH_CHUNK_E_INVAL;
	return KMESH_CHUNK_NEED_MORE;
}

#endif /* KMESH_L7_CHUNK_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Chunked body scanner; the contract is in chunk.h. The grammar itself is
 * kmesh_chunk_step() in http_rules.h, which the eBPF fallback runs too;
 * this file only feeds it bytes and skips chunk data by count.
 */
#include "chunk.h"
#include "http_rules.h"

_Static_assert(sizeof(struct kmesh_chunk_state) == 24,
	       "struct kmesh_chunk_state is ABI");
_Static_assert(KMESH_CHUNK_MAX_DIGITS < KMESH_CHUNK_MAX_LINE,
	       "a plain size line never reaches the line limit");

/*
 * The common size line, "hex-digits CRLF" with a size that is not 0, all
 * within buf[0..len): returns its length and leaves @st as
 * kmesh_chunk_step() would after its LF (remaining set, digits and line
 * 0, state DATA), or returns 0 and leaves @st alone, for the byte-wise
 * grammar to decide (extensions, the last chunk, an error, a line not all
 * there yet).
 */
static __u32 plain_size_line(struct kmesh_chunk_state *st, const __u8 *buf,
			     __u32 len)
{
	__u64 size = 0;
	__u32 i;
	int v;

	for (i = 0; i < len && i < KMESH_CHUNK_MAX_DIGITS; i++) {
		v = kmesh_http_hexval(buf[i]);
		if (v < 0)
			break;
		size = size << 4 | (__u64)v;
	}
	if (!i || !size || len - i < 2 || buf[i] != '\r' || buf[i + 1] != '\n')
		return 0;
	st->remaining = size;
	st->digits = 0;
	st->line = 0;
	st->state = KMESH_CS_DATA;
	return i + 2;
}

void kmesh_chunk_init(struct kmesh_chunk_state *st)
{
	memset(st, 0, sizeof(*st));
}

int kmesh_chunk_scan(struct kmesh_chunk_state *stp, const __u8 *buf,
		     __u32 len)
{
	struct kmesh_chunk_state st;
	__u32 i = 0, n;
	int rc;

	if (!stp)
		return KMESH_CHUNK_E_INVAL;
	/* @stp may be BPF memory: work on a private copy */
	memcpy(&st, stp, sizeof(st));
	if (st.state == KMESH_CS_DONE || st.state == KMESH_CS_ERROR) {
		stp->consumed = 0;
		return st.status;
	}
	if (st.state > KMESH_CS_ERROR || st.digits > KMESH_CHUNK_MAX_DIGITS ||
	    (!buf && len)) {
		st.state = KMESH_CS_ERROR;
		st.status = KMESH_CHUNK_E_INVAL;
		goto out;
	}
	while (i < len) {
		if (st.state == KMESH_CS_DATA) {
			n = len - i;
			if (st.remaining < n)
				n = (__u32)st.remaining;
			st.remaining -= n;
			i += n;
			if (!st.remaining)
				st.state = KMESH_CS_DATA_CR;
			continue;
		}
		/* CRLF after the data, then the next size line: no detour */
		if (st.state == KMESH_CS_DATA_CR && len - i >= 2 &&
		    buf[i] == '\r' && buf[i + 1] == '\n') {
			st.state = KMESH_CS_SIZE0;
			i += 2;
			continue;
		}
		if (st.state == KMESH_CS_SIZE0) {
			n = plain_size_line(&st, buf + i, len - i);
			if (n) {
				i += n;
				continue;
			}
		}
		rc = kmesh_chunk_step(&st, buf[i]);
		if (rc == KMESH_CHUNK_DONE)
			i++;	/* the body ends after this byte */
		if (rc)
			goto out;
		i++;
	}
	st.status = KMESH_CHUNK_NEED_MORE;
out:
	/*
	 * DONE: bytes of the body; an error: offset of the offending byte.
	 * Field by field: @st can then stay in registers, and no wide load
	 * waits for the narrow stores just made to it.
	 */
	stp->remaining = st.remaining;
	stp->consumed = i;
	stp->line = st.line;
	stp->state = st.state;
	stp->status = st.status;
	stp->digits = st.digits;
	return st.status;
}

static const char *const chunk_str[KMESH_CHUNK_STATUS_MAX] = {
	[KMESH_CHUNK_NEED_MORE] = "need more",
	[KMESH_CHUNK_DONE] = "done",
	[KMESH_CHUNK_E_SIZE] = "bad chunk size",
	[KMESH_CHUNK_E_OVERFLOW] = "chunk size overflow",
	[KMESH_CHUNK_E_EXT] = "bad chunk extension",
	[KMESH_CHUNK_E_CRLF] = "bare CR or LF, or no CRLF after chunk data",
	[KMESH_CHUNK_E_TRAILER] = "bad trailer",
	[KMESH_CHUNK_E_TOO_LONG] = "size line or trailers too long",
	[KMESH_CHUNK_E_INVAL] = "invalid argument or state",
};

const char *kmesh_chunk_strstatus(int status)
{
	if (status < 0 || status >= KMESH_CHUNK_STATUS_MAX)
		return "unknown";
	return chunk_str[status];
}

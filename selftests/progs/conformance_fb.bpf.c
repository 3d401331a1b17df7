// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The eBPF fallback (bpf/include/l7_http.h, l7_chunk.h) on bytes the
 * conformance suite supplies (selftests/conformance/), from syscall
 * programs: no module, so this runs on the host's own kernel too.
 */
#include "l7_chunk.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct l7_scratch);
} scratch SEC(".maps");

/* ---- heads: kmesh_l7_parse(), requests and responses ---- */

__u8 input[KMESH_L7_MAX_HEAD];
__u32 input_len;
__u32 resp;
__u32 path_opts;	/* KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES or 0 */
int status = -1;
struct kmesh_http_req req;
__u16 resp_status;

SEC("syscall")
int parse(void *ctx)
{
	struct l7_scratch *sc;
	__u32 zero = 0, len = input_len, i;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || len > KMESH_L7_MAX_HEAD)
		return 1;

	/* the head's words only: bench/src/bpfparse times this program */
	for (i = 0; i < KMESH_L7_MAX_HEAD / 8 && i * 8 < len; i++)
		*(__u64 *)&sc->buf[i * 8] = *(__u64 *)&input[i * 8];
	sc->len = len;
	status = kmesh_l7_parse(sc, (resp ? KMESH_L7_PARSE_RESP : 0) |
				(path_opts ? KMESH_L7_PARSE_ESCAPED_SLASHES : 0));
	__builtin_memcpy(&req, &sc->req, sizeof(req));
	resp_status = sc->ps.status;
	return 0;
}

/*
 * ---- chunked bodies: the windows of kmesh_l7_chunks_fb() ----
 *
 * One run scans body[off, body_len) as one sk_msg run scans a message:
 * at most L7_CHUNK_WINDOWS windows; the suite runs it again from
 * off + found while it says NEED_MORE with bytes left, as the kernel runs
 * the sk_msg program again on the rest of a message.
 */
#define BODY_CAP	4096

/* a window may read up to L7_CHUNK_WIN bytes past the end */
__u8 body[BODY_CAP + L7_CHUNK_WIN];
__u32 body_len;
__u32 off;
struct kmesh_chunk_state chunk;
int chunk_ret = -1;
__u32 found;

SEC("syscall")
int scan_chunks(void *ctx)
{
	struct kmesh_chunk_state *cs = &chunk;
	__u32 zero = 0, size = body_len, pos = off, w, n, i;
	struct l7_scratch *sc;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || size > BODY_CAP || pos > size)
		return 1;
	found = 0;
	if (cs->state == KMESH_CS_DONE || cs->state == KMESH_CS_ERROR) {
		chunk_ret = cs->status;
		return 0;
	}
	for (w = 0; w < L7_CHUNK_WINDOWS && pos < size; w++) {
		l7_chunk_skip(cs, &pos, size);
		if (pos >= size)
			break;
		n = size - pos;
		if (n > L7_CHUNK_WIN)
			n = L7_CHUNK_WIN;
		/*
		 * what l7_copy_window() pulls out of the message (a whole
		 * window of words, no branches: the verifier walks this for
		 * every window; bytes past @n are not scanned)
		 */
		for (i = 0; i < L7_CHUNK_WIN / 8; i++)
			*(__u64 *)&sc->buf[L7_WIN_OFF + i * 8] =
				*(__u64 *)&body[(pos & (BODY_CAP - 1)) + i * 8];
		pos += l7_chunk_window(sc, cs, n);
		if (cs->state == KMESH_CS_DONE || cs->state == KMESH_CS_ERROR)
			break;
	}
	found = pos - off;
	if (cs->state == KMESH_CS_DONE)
		chunk_ret = KMESH_CHUNK_DONE;
	else if (cs->state == KMESH_CS_ERROR)
		chunk_ret = cs->status ? cs->status : KMESH_CHUNK_E_INVAL;
	else
		chunk_ret = KMESH_CHUNK_NEED_MORE;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

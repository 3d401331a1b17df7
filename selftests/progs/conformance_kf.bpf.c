// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The module's parser and chunk scanner kfuncs on bytes the conformance
 * suite supplies (selftests/conformance/), from syscall programs.
 */
#include "kmesh_bpf.h"

/* Room for the suite's longest heads (over the default 8 KiB limit). */
#define HEAD_CAP	16384
#define BODY_CAP	4096

__u8 head[HEAD_CAP];
__u32 head_len;
struct kmesh_http_req req;
int parse_ret = -1;

SEC("syscall")
int parse_head(void *ctx)
{
	__u32 len = head_len;

	if (len > HEAD_CAP)
		return 1;
	parse_ret = bpf_kmesh_http_parse(&req, sizeof(req), head, len);
	return 0;
}

__u8 body[BODY_CAP];
__u32 body_len;
struct kmesh_chunk_state chunk;
int chunk_ret = -1;

SEC("syscall")
int scan_chunks(void *ctx)
{
	__u32 len = body_len;

	if (len > BODY_CAP)
		return 1;
	chunk_ret = bpf_kmesh_chunk_scan(&chunk, sizeof(chunk), body, len);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

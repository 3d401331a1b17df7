// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Drives the HTTP parser kfuncs with bytes the test supplies. */
#include "kmesh_bpf.h"

/* Room for the selftests' longest heads (over the default 8 KiB limit). */
#define HEAD_CAP 16384

struct kmesh_http_req req;
__u8 head[HEAD_CAP];
__u32 head_len;
int parse_ret = 1;

/* The same request parsed through sk_msg, straight from the message. */
struct kmesh_http_req msg_req;
int msg_ret = 1;
__u32 msg_calls;

SEC("syscall")
int parse_head(void *ctx)
{
	__u32 len = head_len;

	if (len > HEAD_CAP)
		return 1;
	parse_ret = bpf_kmesh_http_parse(&req, sizeof(req), head, len);
	return 0;
}

/* Claims a result struct of the wrong size: the kfunc must refuse. */
SEC("?syscall")
int parse_bad_size(void *ctx)
{
	__u32 len = head_len;

	if (len > HEAD_CAP)
		return 1;
	parse_ret = bpf_kmesh_http_parse(&req, sizeof(req) - 8, head, len);
	return 0;
}

SEC("?sk_msg")
int parse_msg(struct sk_msg_md *msg)
{
	msg_calls++;
	__builtin_memset(&msg_req, 0, sizeof(msg_req));
	msg_ret = bpf_kmesh_msg_parse(msg, &msg_req, sizeof(msg_req));
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

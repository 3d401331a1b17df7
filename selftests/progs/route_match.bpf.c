// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Parse a head the test supplies and match it against a module table. */
#include "kmesh_bpf.h"

#define HEAD_CAP 2048

struct kmesh_http_req req;
struct kmesh_route_query query;
__u8 head[HEAD_CAP];
__u32 head_len;
int parse_ret = 1;
int match_ret = 1;

SEC("syscall")
int parse_and_match(void *ctx)
{
	__u32 len = head_len;

	if (len > HEAD_CAP)
		return 1;
	__builtin_memset(&req, 0, sizeof(req));
	parse_ret = bpf_kmesh_http_parse(&req, sizeof(req), head, len);
	if (parse_ret != KMESH_HTTP_OK)
		return 0;
	match_ret = bpf_kmesh_route_match(&req, sizeof(req), head, len, &query);
	return 0;
}

/* Match the head in @head against a request result that is no parse result. */
SEC("syscall")
int match_unparsed(void *ctx)
{
	__builtin_memset(&req, 0, sizeof(req));
	req.status = KMESH_HTTP_NEED_MORE;
	match_ret = bpf_kmesh_route_match(&req, sizeof(req), head, HEAD_CAP,
					  &query);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

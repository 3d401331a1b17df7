// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Drives bpf_kmesh_h2_parse() with bytes the test supplies. */
#include "kmesh_bpf.h"

/* One byte more than the kfunc reads, to ask it for too much. */
#define BUF_CAP (KMESH_H2_REQ_MAX_BYTES + 1)

struct kmesh_h2_req req;
__u8 buf[BUF_CAP];
__u32 buf_len;
int ret = 1;

SEC("syscall")
int h2_parse(void *ctx)
{
	__u32 len = buf_len;

	if (len > BUF_CAP)
		return 1;
	ret = bpf_kmesh_h2_parse(&req, sizeof(req), buf, len);
	return 0;
}

/* Claims a result struct of the wrong size: the kfunc must refuse. */
SEC("?syscall")
int h2_parse_bad_size(void *ctx)
{
	__u32 len = buf_len;

	if (len > BUF_CAP)
		return 1;
	ret = bpf_kmesh_h2_parse(&req, sizeof(req) - 8, buf, len);
	return 0;
}

/* A size 0 result with a NULL pointer: refused at run time. */
SEC("?syscall")
int h2_parse_null(void *ctx)
{
	__u32 len = buf_len;

	if (len > BUF_CAP)
		return 1;
	ret = bpf_kmesh_h2_parse(NULL, 0, buf, len);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

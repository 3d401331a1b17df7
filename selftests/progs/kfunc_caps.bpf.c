// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs that call bpf_kmesh_get_caps from several program types. */
#include "kmesh_bpf.h"

struct kmesh_caps caps_out;
int caps_ret = 1;

SEC("syscall")
int get_caps(void *ctx)
{
	caps_ret = bpf_kmesh_get_caps(&caps_out, sizeof(caps_out));
	return 0;
}

/* A buffer the size check must refuse at run time. */
SEC("?syscall")
int get_caps_short(void *ctx)
{
	__u64 small = 0;

	caps_ret = bpf_kmesh_get_caps((struct kmesh_caps *)&small,
				      sizeof(small));
	return 0;
}

/* Claims more bytes than the buffer has: the verifier must refuse. */
SEC("?syscall")
int get_caps_overrun(void *ctx)
{
	__u64 small = 0;

	caps_ret = bpf_kmesh_get_caps((struct kmesh_caps *)&small,
				      sizeof(struct kmesh_caps));
	return 0;
}

SEC("?tc")
int get_caps_tc(struct __sk_buff *skb)
{
	struct kmesh_caps caps = {};

	return bpf_kmesh_get_caps(&caps, sizeof(caps)) ? 0 : 1;
}

SEC("?sk_msg")
int get_caps_sk_msg(struct sk_msg_md *msg)
{
	struct kmesh_caps caps = {};

	bpf_kmesh_get_caps(&caps, sizeof(caps));
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

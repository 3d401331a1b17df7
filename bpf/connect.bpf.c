// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup/connect4 and cgroup/connect6: service address -> endpoint.
 * Two variants of each, one loaded by `kmeshctl up`: the plain one, and
 * in kfunc mode the _l7 one, which routes HTTP services on their first
 * request (include/defer.h). They differ in nothing else.
 */
#include "defer.h"

static __always_inline int kmesh_connect4_run(struct bpf_sock_addr *ctx,
					      bool l7)
{
	struct kmesh_dial d = { .v4 = true };
	struct kmesh_endpoint ep = {};
	struct bpf_sock *sk = ctx->sk;
	int ret;

	kmesh_addr_set_v4(d.dst, ctx->user_ip4);
	d.dst_port = bpf_ntohs(ctx->user_port);
	if (sk) {
		kmesh_addr_set_v4(d.src, sk->src_ip4);
		d.src_port = sk->src_port;
	}
	ret = l7 ? kmesh_l7_connect(ctx, &d, &ep) : kmesh_l4_connect(ctx, &d, &ep);
	if (ret == 1 && ep.endpoint_id) {
		ctx->user_ip4 = ep.addr[3];
		ctx->user_port = bpf_htons(ep.port);
	}
	return ret;
}

static __always_inline int kmesh_connect6_run(struct bpf_sock_addr *ctx,
					      bool l7)
{
	struct kmesh_dial d = {};
	struct kmesh_endpoint ep = {};
	struct bpf_sock *sk = ctx->sk;
	int ret;

	d.dst[0] = KMESH_CTX_LOAD(ctx, user_ip6[0]);
	d.dst[1] = KMESH_CTX_LOAD(ctx, user_ip6[1]);
	d.dst[2] = KMESH_CTX_LOAD(ctx, user_ip6[2]);
	d.dst[3] = KMESH_CTX_LOAD(ctx, user_ip6[3]);
	d.dst_port = bpf_ntohs(ctx->user_port);
	if (sk) {
		d.src[0] = sk->src_ip6[0];
		d.src[1] = sk->src_ip6[1];
		d.src[2] = sk->src_ip6[2];
		d.src[3] = sk->src_ip6[3];
		d.src_port = sk->src_port;
	}
	ret = l7 ? kmesh_l7_connect(ctx, &d, &ep) : kmesh_l4_connect(ctx, &d, &ep);
	if (ret == 1 && ep.endpoint_id) {
		KMESH_CTX_STORE(ctx, user_ip6[0], ep.addr[0]);
		KMESH_CTX_STORE(ctx, user_ip6[1], ep.addr[1]);
		KMESH_CTX_STORE(ctx, user_ip6[2], ep.addr[2]);
		KMESH_CTX_STORE(ctx, user_ip6[3], ep.addr[3]);
		ctx->user_port = bpf_htons(ep.port);
	}
	return ret;
}

SEC("cgroup/connect4")
int kmesh_connect4(struct bpf_sock_addr *ctx)
{
	return kmesh_connect4_run(ctx, false);
}

SEC("cgroup/connect6")
int kmesh_connect6(struct bpf_sock_addr *ctx)
{
	return kmesh_connect6_run(ctx, false);
}

SEC("cgroup/connect4")
int kmesh_connect4_l7(struct bpf_sock_addr *ctx)
{
	return kmesh_connect4_run(ctx, true);
}

SEC("cgroup/connect6")
int kmesh_connect6_l7(struct bpf_sock_addr *ctx)
{
	return kmesh_connect6_run(ctx, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

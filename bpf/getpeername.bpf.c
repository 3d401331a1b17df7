// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup/getpeername4 and cgroup/getpeername6: a socket whose connect was
 * rewritten reports the service address it dialed, not the endpoint.
 */
#include "l4_connect.h"

SEC("cgroup/getpeername4")
int kmesh_getpeername4(struct bpf_sock_addr *ctx)
{
	struct kmesh_sk_state *s = kmesh_dialed_service(ctx);

	if (s && kmesh_addr_is_v4(s->svc_addr)) {
		ctx->user_ip4 = s->svc_addr[3];
		ctx->user_port = bpf_htons(s->svc_port);
	}
	return 1;
}

SEC("cgroup/getpeername6")
int kmesh_getpeername6(struct bpf_sock_addr *ctx)
{
	struct kmesh_sk_state *s = kmesh_dialed_service(ctx);

	if (s) {
		KMESH_CTX_STORE(ctx, user_ip6[0], s->svc_addr[0]);
		KMESH_CTX_STORE(ctx, user_ip6[1], s->svc_addr[1]);
		KMESH_CTX_STORE(ctx, user_ip6[2], s->svc_addr[2]);
		KMESH_CTX_STORE(ctx, user_ip6[3], s->svc_addr[3]);
		ctx->user_port = bpf_htons(s->svc_port);
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockops: sockhash membership on ESTABLISHED, accounting on TCP_CLOSE;
 * and the accepted socket's hook into the module (below).
 */
#include "l4_sock.h"
#include <bpf/bpf_tracing.h>

/* A client of an http service port may speak HTTP/2 (l7_h2.h). */
static __always_inline void kmesh_h2_watch(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct kmesh_sk_state *s;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&kmesh_sk_state, sk, 0, 0);
	if (s && (s->flags & KMESH_SK_F_SERVICE) && kmesh_resp_http(s))
		bpf_kmesh_h2_watch(ops);
}

static __always_inline void kmesh_sockops_do(struct bpf_sock_ops *ops, bool kfunc)
{
	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		kmesh_on_connect(ops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		kmesh_on_active(ops);
		if (kfunc)
			kmesh_h2_watch(ops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		kmesh_on_passive(ops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (ops->args[1] == BPF_TCP_CLOSE) {
			kmesh_on_close(ops);
			kmesh_inbound_close(ops);
			kmesh_resp_close(ops);
			/* an HTTP/2 client's state in the module */
			if (kfunc)
				bpf_kmesh_h2_release(ops);
		}
		break;
	}
}

SEC("sockops")
int kmesh_sockops(struct bpf_sock_ops *ops)
{
	kmesh_sockops_do(ops, false);
	return 1;
}

/* kfunc mode (loaded with kmesh_sk_msg_l7): also frees module state */
SEC("sockops")
int kmesh_sockops_l7(struct bpf_sock_ops *ops)
{
	kmesh_sockops_do(ops, true);
	return 1;
}

/*
 * fexit on inet_accept, loaded only where the kmesh module is: every
 * accepted socket that carries the inbound check's stream parser is
 * handed to the module (bpf_kmesh_inbound_accepted, kmod/inbound.c)
 * before accept() returns, so that a blocking read never sees the stream
 * parser's spurious -EAGAIN and bytes received before accept() go to the
 * parser at once. The module refuses anything that is not such a socket.
 */
SEC("fexit/inet_accept")
int BPF_PROG(kmesh_inbound_accept, struct socket *sock, struct socket *newsock,
	     int flags, bool kern, int ret)
{
	if (!ret && newsock && newsock->sk)
		bpf_kmesh_inbound_accepted(newsock);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockops: sockhash membership on ESTABLISHED, accounting on TCP_CLOSE;
 * and the accepted socket's hook into the module (below).
 */
#include "l4_sock.h"
#include <bpf/bpf_tracing.h>

SEC("sockops")
int kmesh_sockops(struct bpf_sock_ops *ops)
{
	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		kmesh_on_connect(ops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		kmesh_on_active(ops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		kmesh_on_passive(ops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (ops->args[1] == BPF_TCP_CLOSE) {
			kmesh_on_close(ops);
			kmesh_inbound_close(ops);
			kmesh_resp_close(ops);
		}
		break;
	}
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

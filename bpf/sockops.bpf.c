// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sockops: sockhash membership on ESTABLISHED, accounting on TCP_CLOSE. */
#include "l4_sock.h"

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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

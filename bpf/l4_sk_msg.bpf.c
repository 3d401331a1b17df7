// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sk_msg on the sockhash: local peer -> straight into its receive queue. */
#include "l4_sock.h"

SEC("sk_msg")
int kmesh_sk_msg(struct sk_msg_md *msg)
{
	return kmesh_msg_verdict(msg);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

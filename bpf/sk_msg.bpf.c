// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sk_msg on the sockhash: local peer -> straight into its receive queue;
 * on http service ports, every request head is checked first (L7 plane,
 * include/l7_msg.h). Two variants, one loaded by `kmeshctl up`: the eBPF
 * fallback, and where sk_msg programs may call the module's kfuncs, the
 * _l7 one that parses, routes and scans chunks with them.
 */
#include "l7_msg.h"
#include "inbound_skb.h"	/* the destination's check, on receive */

SEC("sk_msg")
int kmesh_sk_msg(struct sk_msg_md *msg)
{
	return kmesh_l7_msg(msg, false);
}

SEC("sk_msg")
int kmesh_sk_msg_l7(struct sk_msg_md *msg)
{
	return kmesh_l7_msg(msg, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Capability probe: one tiny program per attach type we care about, each
 * calling a module kfunc. kmeshctl loads them one at a time; whether the
 * verifier accepts a program says whether kfuncs are callable from that
 * program type on this kernel. Feature tests, not version numbers.
 */
#include "kmesh_bpf.h"

static __always_inline int kmesh_probe_call(void)
{
	struct kmesh_caps caps = {};

	return bpf_kmesh_get_caps(&caps, sizeof(caps));
}

SEC("sk_msg")
int probe_sk_msg(struct sk_msg_md *msg)
{
	kmesh_probe_call();
	return SK_PASS;
}

SEC("sockops")
int probe_sockops(struct bpf_sock_ops *ops)
{
	kmesh_probe_call();
	return 1;
}

SEC("cgroup/connect4")
int probe_connect4(struct bpf_sock_addr *ctx)
{
	kmesh_probe_call();
	return 1;
}

SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	kmesh_probe_call();
	return 0;
}

SEC("syscall")
int probe_syscall(void *ctx)
{
	return kmesh_probe_call();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

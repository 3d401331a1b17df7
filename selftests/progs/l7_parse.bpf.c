// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Runs the fallback HTTP parser (bpf/include/l7_http.h) on bytes the test
 * supplies, from a syscall program, so that it can be compared with the
 * module's core parser (kmod/core/http1.c) on the same inputs.
 */
#include "l7_http.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct l7_scratch);
} scratch SEC(".maps");

__u8 input[KMESH_L7_MAX_HEAD];
__u32 input_len;
__u32 resp;
int status = -1;
struct kmesh_http_req req;
__u16 resp_status;

SEC("syscall")
int parse(void *ctx)
{
	struct l7_scratch *sc;
	__u32 zero = 0, len = input_len, i;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || len > KMESH_L7_MAX_HEAD)
		return 1;

	for (i = 0; i < KMESH_L7_MAX_HEAD / 8; i++)
		*(__u64 *)&sc->buf[i * 8] = *(__u64 *)&input[i * 8];
	sc->len = len;
	status = kmesh_l7_parse(sc, resp);
	__builtin_memcpy(&req, &sc->req, sizeof(req));
	resp_status = sc->ps.status;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Every kfunc called with sizes that lie: each program is loaded alone by
 * selftests/prog_tests/kfunc.c, which expects the verifier to refuse it
 * (a size larger than the memory behind the pointer, a size it cannot
 * bound, NULL where the type needs memory) or the kfunc to return an
 * error at run time (a size that is not the ABI's, zero). What a program
 * got lands in ret.
 */
#include "kmesh_bpf.h"

/* A complete head; the route table the test installs matches any host. */
char head[] = "GET /a HTTP/1.1\r\nhost: x\r\n\r\n";
#define HEAD_LEN	(sizeof(head) - 1)

struct kmesh_http_req req;
struct kmesh_route_query query;
struct kmesh_chunk_state chunk;
struct kmesh_caps caps;
/* Room for a claim one word larger than each struct. */
__u8 roomy[sizeof(struct kmesh_http_req) + 8];
__u32 table_id;
/* Set by the test; the verifier knows nothing of its value. */
__u32 any_size;
int ret = 1;

/* ---- bpf_kmesh_get_caps ---- */

SEC("?syscall")
int caps_zero(void *ctx)
{
	ret = bpf_kmesh_get_caps(&caps, 0);
	return 0;
}

SEC("?syscall")
int caps_null_zero(void *ctx)
{
	ret = bpf_kmesh_get_caps(NULL, 0);
	return 0;
}

SEC("?syscall")
int caps_too_big(void *ctx)
{
	ret = bpf_kmesh_get_caps((struct kmesh_caps *)roomy, sizeof(caps) + 8);
	return 0;
}

SEC("?syscall")
int caps_unbounded(void *ctx)
{
	ret = bpf_kmesh_get_caps(&caps, any_size);
	return 0;
}

/* ---- bpf_kmesh_http_parse ---- */

SEC("?syscall")
int parse_req_zero(void *ctx)
{
	ret = bpf_kmesh_http_parse(&req, 0, head, HEAD_LEN);
	return 0;
}

SEC("?syscall")
int parse_req_null(void *ctx)
{
	ret = bpf_kmesh_http_parse(NULL, 0, head, HEAD_LEN);
	return 0;
}

SEC("?syscall")
int parse_req_short(void *ctx)
{
	ret = bpf_kmesh_http_parse(&req, sizeof(req) - 1, head, HEAD_LEN);
	return 0;
}

SEC("?syscall")
int parse_req_too_big(void *ctx)
{
	ret = bpf_kmesh_http_parse(roomy, sizeof(req) + 8, head, HEAD_LEN);
	return 0;
}

SEC("?syscall")
int parse_req_overrun(void *ctx)
{
	__u64 small[2] = {};

	ret = bpf_kmesh_http_parse(small, sizeof(req), head, HEAD_LEN);
	return 0;
}

SEC("?syscall")
int parse_buf_overrun(void *ctx)
{
	char buf[16] = "GET / HTTP/1.1\r";

	ret = bpf_kmesh_http_parse(&req, sizeof(req), buf, 64);
	return 0;
}

SEC("?syscall")
int parse_buf_unbounded(void *ctx)
{
	ret = bpf_kmesh_http_parse(&req, sizeof(req), head, any_size);
	return 0;
}

/* No bytes at all: nothing to read, the head is merely incomplete. */
SEC("?syscall")
int parse_buf_null(void *ctx)
{
	__builtin_memset(&req, 0, sizeof(req));
	ret = bpf_kmesh_http_parse(&req, sizeof(req), NULL, 0);
	return 0;
}

/* ---- bpf_kmesh_h2_parse ---- */

struct kmesh_h2_req h2req;
__u8 h2_roomy[sizeof(struct kmesh_h2_req) + 8];
char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN	(sizeof(preface) - 1)

SEC("?syscall")
int h2_req_zero(void *ctx)
{
	ret = bpf_kmesh_h2_parse(&h2req, 0, preface, PREFACE_LEN);
	return 0;
}

SEC("?syscall")
int h2_req_null(void *ctx)
{
	ret = bpf_kmesh_h2_parse(NULL, 0, preface, PREFACE_LEN);
	return 0;
}

SEC("?syscall")
int h2_req_short(void *ctx)
{
	ret = bpf_kmesh_h2_parse(&h2req, sizeof(h2req) - 1, preface, PREFACE_LEN);
	return 0;
}

SEC("?syscall")
int h2_req_too_big(void *ctx)
{
	ret = bpf_kmesh_h2_parse(h2_roomy, sizeof(h2req) + 8, preface, PREFACE_LEN);
	return 0;
}

SEC("?syscall")
int h2_req_overrun(void *ctx)
{
	__u64 small[2] = {};

	ret = bpf_kmesh_h2_parse(small, sizeof(h2req), preface, PREFACE_LEN);
	return 0;
}

SEC("?syscall")
int h2_buf_overrun(void *ctx)
{
	char buf[16] = "PRI * HTTP/2.0\r";

	ret = bpf_kmesh_h2_parse(&h2req, sizeof(h2req), buf, 64);
	return 0;
}

SEC("?syscall")
int h2_buf_unbounded(void *ctx)
{
	ret = bpf_kmesh_h2_parse(&h2req, sizeof(h2req), preface, any_size);
	return 0;
}

/* No bytes at all: the preface is merely incomplete. */
SEC("?syscall")
int h2_buf_null(void *ctx)
{
	ret = bpf_kmesh_h2_parse(&h2req, sizeof(h2req), NULL, 0);
	return 0;
}

/* ---- bpf_kmesh_route_match ---- */

/* Parse the head for real, so only the lie under test is wrong. */
static int parse_ok(void)
{
	__builtin_memset(&req, 0, sizeof(req));
	query.table_id = table_id;
	return bpf_kmesh_http_parse(&req, sizeof(req), head, HEAD_LEN) ==
	       KMESH_HTTP_OK ? 0 : -1;
}

SEC("?syscall")
int match_req_zero(void *ctx)
{
	if (!parse_ok())
		ret = bpf_kmesh_route_match(&req, 0, head, HEAD_LEN, &query);
	return 0;
}

SEC("?syscall")
int match_req_too_big(void *ctx)
{
	if (!parse_ok()) {
		__builtin_memcpy(roomy, &req, sizeof(req));
		ret = bpf_kmesh_route_match(roomy, sizeof(req) + 8, head,
					    HEAD_LEN, &query);
	}
	return 0;
}

/* Fewer head bytes than the request's spans cover. */
SEC("?syscall")
int match_head_short(void *ctx)
{
	if (!parse_ok())
		ret = bpf_kmesh_route_match(&req, sizeof(req), head, 4, &query);
	return 0;
}

SEC("?syscall")
int match_head_null(void *ctx)
{
	if (!parse_ok())
		ret = bpf_kmesh_route_match(&req, sizeof(req), NULL, 0, &query);
	return 0;
}

SEC("?syscall")
int match_head_overrun(void *ctx)
{
	char buf[16] = "GET / HTTP/1.1\r";

	if (!parse_ok())
		ret = bpf_kmesh_route_match(&req, sizeof(req), buf, 64, &query);
	return 0;
}

SEC("?syscall")
int match_req_overrun(void *ctx)
{
	__u64 small[2] = {};

	if (!parse_ok())
		ret = bpf_kmesh_route_match(small, sizeof(req), head, HEAD_LEN,
					    &query);
	return 0;
}

/*
 * 6.1's verifier passes NULL for an unsized struct pointer (check_mem_reg
 * allows a NULL register): the kfunc must check it.
 */
SEC("?syscall")
int match_query_null(void *ctx)
{
	if (!parse_ok())
		ret = bpf_kmesh_route_match(&req, sizeof(req), head, HEAD_LEN,
					    NULL);
	return 0;
}

/* A query struct smaller than the type says: its size is not passed. */
SEC("?syscall")
int match_query_short(void *ctx)
{
	__u64 small = 0;

	if (!parse_ok())
		ret = bpf_kmesh_route_match(&req, sizeof(req), head, HEAD_LEN,
					    (struct kmesh_route_query *)&small);
	return 0;
}

/* ---- bpf_kmesh_chunk_scan ---- */

/* Not const: 6.1 takes kfunc memory as writable, and .rodata is frozen. */
char body[] = "5\r\nhello\r\n0\r\n\r\n";

SEC("?syscall")
int chunk_st_zero(void *ctx)
{
	ret = bpf_kmesh_chunk_scan(&chunk, 0, body, sizeof(body) - 1);
	return 0;
}

SEC("?syscall")
int chunk_st_short(void *ctx)
{
	ret = bpf_kmesh_chunk_scan(&chunk, sizeof(chunk) - 1, body,
				   sizeof(body) - 1);
	return 0;
}

SEC("?syscall")
int chunk_st_too_big(void *ctx)
{
	ret = bpf_kmesh_chunk_scan(roomy, sizeof(chunk) + 8, body,
				   sizeof(body) - 1);
	return 0;
}

SEC("?syscall")
int chunk_st_null(void *ctx)
{
	ret = bpf_kmesh_chunk_scan(NULL, 0, body, sizeof(body) - 1);
	return 0;
}

SEC("?syscall")
int chunk_st_overrun(void *ctx)
{
	__u64 small = 0;

	ret = bpf_kmesh_chunk_scan(&small, sizeof(chunk), body,
				   sizeof(body) - 1);
	return 0;
}

SEC("?syscall")
int chunk_buf_overrun(void *ctx)
{
	char buf[8] = "5\r\nhell";

	__builtin_memset(&chunk, 0, sizeof(chunk));
	ret = bpf_kmesh_chunk_scan(&chunk, sizeof(chunk), buf, 64);
	return 0;
}

/* An empty input: nothing consumed, more is needed. */
SEC("?syscall")
int chunk_buf_null(void *ctx)
{
	__builtin_memset(&chunk, 0, sizeof(chunk));
	ret = bpf_kmesh_chunk_scan(&chunk, sizeof(chunk), NULL, 0);
	return 0;
}

/* ---- sk_msg and connect kfuncs: only loadable with the common hook ---- */

SEC("?sk_msg")
int msg_parse_overrun(struct sk_msg_md *msg)
{
	__u64 small[2] = {};

	bpf_kmesh_msg_parse(msg, small, sizeof(req));
	return SK_PASS;
}

SEC("?sk_msg")
int msg_chunks_overrun(struct sk_msg_md *msg)
{
	__u64 small = 0;

	bpf_kmesh_msg_chunks(msg, 0, &small, sizeof(chunk));
	return SK_PASS;
}

/* HTTP/2 per connection: sized arguments the program cannot cover */
SEC("?sk_msg")
int h2_step_req_overrun(struct sk_msg_md *msg)
{
	__u64 small[2] = {}, head[8] = {};

	bpf_kmesh_h2_step(msg, small, sizeof(req), head, sizeof(head));
	return SK_PASS;
}

SEC("?sk_msg")
int h2_step_head_overrun(struct sk_msg_md *msg)
{
	__u64 head[8] = {};

	bpf_kmesh_h2_step(msg, &req, sizeof(req), head, sizeof(head) + 64);
	return SK_PASS;
}

SEC("?sk_msg")
int h2_info_overrun(struct sk_msg_md *msg)
{
	__u64 small = 0;

	bpf_kmesh_h2_info(msg, (struct kmesh_h2_info *)&small,
			  sizeof(struct kmesh_h2_info));
	return SK_PASS;
}

SEC("?sk_msg")
int h2_edits_overrun(struct sk_msg_md *msg)
{
	__u64 small[4] = {};

	bpf_kmesh_h2_edits(msg, small, sizeof(struct kmesh_h2_edits));
	return SK_PASS;
}

/* Run by a connect from a cgroup it is attached to (no test run here). */
SEC("?cgroup/connect4")
int deferred_route_null(struct bpf_sock_addr *ctx)
{
	ret = bpf_kmesh_deferred_route(ctx, NULL);
	return 1;
}

SEC("?cgroup/connect4")
int deferred_route_short(struct bpf_sock_addr *ctx)
{
	__u64 small = 0;

	bpf_kmesh_deferred_route(ctx, (struct kmesh_route_query *)&small);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

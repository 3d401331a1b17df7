// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the route table validator and matcher.
 *
 * Input: [__u32 n][__u32 rand][n bytes of blob][request head], __u32s in
 * host order; n is clamped to what is there. Bit 31 of n asks for the
 * header and section table to be repaired first (magic, version, sizes,
 * canonical offsets from the counts), so that mutations reach the record
 * checks and the matcher instead of dying on the layout. Seeds are valid
 * tables from the builder (selftests/unit/test_route.c writes them).
 *
 * Besides memory safety (ASan, UBSan, exact-size heap copies), checks:
 *  - validation returns 0 or a known negated code;
 *  - on a valid table, a parsed head gets a verdict whose route, cluster,
 *    status and body agree with the table, the same one twice, and the
 *    same route whatever the rand;
 *  - a request result scribbled over (as a BPF program could) gives a
 *    verdict or E_REQ_CORRUPT, and never a read outside the head.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http1.h"
#include "route.h"

#define REPAIR		(1U << 31)

static const __u32 rec_size[] = {
	sizeof(struct kmesh_rt_str), sizeof(struct kmesh_rt_route),
	sizeof(struct kmesh_rt_block), sizeof(struct kmesh_rt_cond),
	sizeof(struct kmesh_rt_cluster), 1,
};

/* Make the header and section table right for @len; keep the records. */
static void repair(__u8 *blob, __u32 len)
{
	struct kmesh_rt_table *t = (void *)blob;
	struct kmesh_rt_section *s[] = {
		&t->hosts, &t->routes, &t->blocks,
		&t->conds, &t->clusters, &t->strings,
	};
	__u32 off = sizeof(*t), i, room;

	if (len < sizeof(*t))
		return;
	t->magic = KMESH_RT_MAGIC;
	t->abi_version = KMESH_DEV_ABI_VERSION;
	t->hdr_len = sizeof(*t);
	t->total_len = len;
	for (i = 0; i < 5; i++) {
		room = (len - off) / rec_size[i];
		s[i]->off = off;
		if (s[i]->count > room)
			s[i]->count = room;
		off += s[i]->count * rec_size[i];
	}
	/* the strings take the rest: nothing trails */
	t->strings.off = off;
	t->strings.count = len - off;
}

static void check_verdict(const __u8 *blob, __u32 len,
			  const struct kmesh_route_verdict *v)
{
	const struct kmesh_rt_table *t = (const void *)blob;
	const struct kmesh_rt_route *r;
	const struct kmesh_rt_cluster *c;

	CHECK(v->vhost_id == t->vhost_id);
	if (v->kind == KMESH_RT_V_NO_VHOST || v->kind == KMESH_RT_V_NO_ROUTE) {
		CHECK(!v->route_id && !v->route_idx && !v->flags);
		return;
	}
	CHECK(v->kind >= KMESH_RT_V_ROUTE && v->kind <= KMESH_RT_V_DIRECT);
	if (v->route_idx == KMESH_RT_IDX_DEFAULT) {
		CHECK(t->flags & KMESH_RT_F_DEFAULT);
		CHECK(v->flags == KMESH_RT_VF_DEFAULT);
		r = &t->dflt;
	} else {
		CHECK(v->route_idx < t->routes.count && !v->flags);
		r = (const void *)(blob + t->routes.off);
		r += v->route_idx;
	}
	CHECK(v->route_id == r->route_id);
	switch (v->kind) {
	case KMESH_RT_V_ROUTE:
		CHECK(r->action == KMESH_RT_A_ROUTE);
		CHECK(v->split_idx < r->nr_clusters);
		c = (const void *)(blob + t->clusters.off);
		c += r->first_cluster + v->split_idx;
		CHECK(v->cluster_id == c->cluster_id && c->weight);
		break;
	case KMESH_RT_V_DENY:
		CHECK(r->action == KMESH_RT_A_DENY && v->status == r->status);
		CHECK(v->status >= 400 && v->status <= 599);
		break;
	default:
		CHECK(r->action == KMESH_RT_A_DIRECT && v->status == r->status);
		CHECK(v->body_len == r->body.len);
		CHECK(v->body_off >= t->strings.off);
		CHECK((__u64)v->body_off + v->body_len <= len);
		break;
	}
}

static void match_parsed(const __u8 *blob, __u32 len, const __u8 *head,
			 __u32 head_len, __u32 rand)
{
	struct kmesh_route_verdict v, w;
	struct kmesh_http_req req;
	struct kmesh_http1_limits lim = {
		.opts = (rand & 1 ? KMESH_HTTP1_OPT_LAX_TARGET : 0) |
			(rand & 2 ? KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES : 0),
	};
	__u32 i;
	int rc;

	kmesh_http1_init(&req);
	if (kmesh_http1_parse(&req, head, head_len, &lim) != KMESH_HTTP_OK) {
		rc = kmesh_route_match(blob, &req, head, head_len, rand, &v);
		CHECK(rc == -KMESH_RT_E_REQ_STATUS);
		CHECK(v.kind == KMESH_RT_V_NONE);
		return;
	}
	rc = kmesh_route_match(blob, &req, head, head_len, rand, &v);
	CHECK(rc == 0);
	check_verdict(blob, len, &v);
	rc = kmesh_route_match(blob, &req, head, head_len, rand, &w);
	CHECK(rc == 0 && !memcmp(&v, &w, sizeof(v)));
	/* rand only picks within a split */
	rc = kmesh_route_match(blob, &req, head, head_len, ~rand, &w);
	CHECK(rc == 0 && w.kind == v.kind && w.route_idx == v.route_idx);

	/* scribble over the result, in place of a misbehaving BPF program */
	for (i = 0; i < head_len && i < sizeof(req); i++)
		((__u8 *)&req)[(i * 7 + rand) % sizeof(req)] ^= head[i];
	req.status = KMESH_HTTP_OK;
	rc = kmesh_route_match(blob, &req, head, head_len, rand, &v);
	CHECK(rc == 0 || rc == -KMESH_RT_E_REQ_CORRUPT);
	if (!rc)
		check_verdict(blob, len, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u32 n, rand, len, head_len;
	__u8 *blob, *head;
	int rc;

	if (size < 8)
		return 0;
	memcpy(&n, data, 4);
	memcpy(&rand, data + 4, 4);
	data += 8;
	size -= 8;
	len = n & ~REPAIR;
	if (len > size)
		len = size;
	head_len = size - len;

	/* exact-size copies: malloc'd memory is aligned, ASan sees overreads */
	blob = malloc(len ? len : 1);
	head = malloc(head_len ? head_len : 1);
	CHECK(blob && head);
	memcpy(blob, data, len);
	memcpy(head, data + len, head_len);
	if (n & REPAIR)
		repair(blob, len);

	rc = kmesh_route_validate(blob, len);
	/* match-time codes are never validation results */
	CHECK(rc <= 0 && -rc <= KMESH_RT_E_UNREFERENCED);
	CHECK(kmesh_route_validate(blob, len) == rc);
	if (!rc && head_len)
		match_parsed(blob, len, head, head_len, rand);
	free(blob);
	free(head);
	return 0;
}

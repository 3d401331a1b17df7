/* SPDX-License-Identifier: GPL-2.0-only */
/* Reference authorization of the conformance suite (policy_model.c). */
#ifndef KMESH_POLICY_MODEL_H
#define KMESH_POLICY_MODEL_H

#include <stdbool.h>
#include <linux/types.h>

#include "kmesh_maps.h"
#include "mesh_config.h"

struct policy_verdict {
	__u8 reason;		/* ALLOW, DENY_POLICY or NO_ALLOW */
	__u32 policy_id;	/* DENY_POLICY: the first DENY policy that matched */
};

/*
 * Service @svc's authorization for @req (parsed from @head) from client
 * @src to endpoint @dst on service port @port, by docs/config.md's rules:
 * deny wins, then "an ALLOW policy exists and none matched".
 */
struct policy_verdict policy_model_decide(const struct mesh_config *cfg,
					  int svc, const char *head,
					  const struct kmesh_http_req *req,
					  const char *src, const char *dst,
					  __u16 port);

#endif /* KMESH_POLICY_MODEL_H */

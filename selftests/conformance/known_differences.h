/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one list of differences the conformance suites accept between the
 * C core (kmod/core) and the other implementations: the eBPF fallback
 * (bpf/include/l7_*.h) and the kfuncs. Every other difference fails the
 * suite, and so does a row here that no vector shows any more (fixed:
 * delete the row).
 *
 * vector: a vector's name ("table/case" for route and policy vectors), or
 * "*" for a difference of design that every vector of the family shows
 * where the field is set.
 */
#ifndef KMESH_KNOWN_DIFFERENCES_H
#define KMESH_KNOWN_DIFFERENCES_H

struct conformance_diff {
	const char *family;		/* "request", "chunk", "response", "route", "policy" */
	const char *vector;
	const char *implementation;	/* "fallback" or "kfunc" */
	const char *field;
	const char *why;
};

static const struct conformance_diff known_differences[] = {
	{ "route", "conds/query: 40 parameters, the named ones last", "fallback", "reason",
	  "the eBPF view holds the first KMESH_L7_QUERY_PARAMS (32) query parameters; a query condition whose parameter may come later is undecidable in fallback mode (403, or passed with failure_mode_allow; docs/config.md), when it could change the route; the module's matcher walks any number" },
	{ "route", "conds/query: 40 parameters, the named ones last", "fallback", "status",
	  "the eBPF view holds the first KMESH_L7_QUERY_PARAMS (32) query parameters; a query condition whose parameter may come later is undecidable in fallback mode (403, or passed with failure_mode_allow; docs/config.md), when it could change the route; the module's matcher walks any number" },
	{ "route", "conds/query: 40 parameters, the named ones last", "fallback", "route",
	  "the eBPF view holds the first KMESH_L7_QUERY_PARAMS (32) query parameters; a query condition whose parameter may come later is undecidable in fallback mode (403, or passed with failure_mode_allow; docs/config.md), when it could change the route; the module's matcher walks any number" },
	{ "route", "shop/host of 300 bytes, wildcard", "fallback", "reason",
	  "the eBPF view keeps hosts up to KMESH_L7_MAX_HOST (255) bytes (a DNS name has at most 253); a host condition on a longer host is undecidable in fallback mode (403, or failure_mode_allow), rules and routes that do not look at the host still decide; the module compares any length" },
	{ "route", "shop/host of 300 bytes, wildcard", "fallback", "status",
	  "the eBPF view keeps hosts up to KMESH_L7_MAX_HOST (255) bytes (a DNS name has at most 253); a host condition on a longer host is undecidable in fallback mode (403, or failure_mode_allow), rules and routes that do not look at the host still decide; the module compares any length" },
	{ "route", "shop/host of 300 bytes, wildcard", "fallback", "route",
	  "the eBPF view keeps hosts up to KMESH_L7_MAX_HOST (255) bytes (a DNS name has at most 253); a host condition on a longer host is undecidable in fallback mode (403, or failure_mode_allow), rules and routes that do not look at the host still decide; the module compares any length" },
	{ "policy", "authz/header suffix on a 300-byte value", "fallback", "reason",
	  "the eBPF view keeps the first KMESH_L7_HDR_VALUE (256) bytes of a header's joined value; a suffix condition on a longer value is undecidable: 403 (or passed with failure_mode_allow; docs/config.md). Authorization runs in eBPF in both modes, so kfunc mode shares the limit; exact and prefix conditions still decide" },
	{ "policy", "authz/header suffix on a 300-byte value", "fallback", "status",
	  "the eBPF view keeps the first KMESH_L7_HDR_VALUE (256) bytes of a header's joined value; a suffix condition on a longer value is undecidable: 403 (or passed with failure_mode_allow; docs/config.md). Authorization runs in eBPF in both modes, so kfunc mode shares the limit; exact and prefix conditions still decide" },
	{ "policy", "authz/header suffix on a 300-byte value", "kfunc", "reason",
	  "the eBPF view keeps the first KMESH_L7_HDR_VALUE (256) bytes of a header's joined value; a suffix condition on a longer value is undecidable: 403 (or passed with failure_mode_allow; docs/config.md). Authorization runs in eBPF in both modes, so kfunc mode shares the limit; exact and prefix conditions still decide" },
	{ "policy", "authz/header suffix on a 300-byte value", "kfunc", "status",
	  "the eBPF view keeps the first KMESH_L7_HDR_VALUE (256) bytes of a header's joined value; a suffix condition on a longer value is undecidable: 403 (or passed with failure_mode_allow; docs/config.md). Authorization runs in eBPF in both modes, so kfunc mode shares the limit; exact and prefix conditions still decide" },
	{ "route", "*", "fallback", "cluster",
	  "fallback mode picks no cluster per request: the endpoint is chosen at connect() from the service's own cluster (README, Kernel support); the route is matched for deny, direct_response, 404, counters and logs" },
};

#endif /* KMESH_KNOWN_DIFFERENCES_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference the conformance suite accepts between the C core and
 * another implementation of the same rule, each with its reason. One table
 * for every family: the HTTP runner (selftests/conformance/conformance.c)
 * reads the "request", "chunk" and "response" rows, the route/policy
 * runner (route_conformance.c) the "route" and "policy" rows,
 * whose vectors are named "table/case".
 *
 * A row matches a difference when family, implementation and field are
 * equal and @vector (an fnmatch(3) pattern) matches the vector's name;
 * mutated vectors are named "<vector> ~ mutation N". A difference no row
 * matches fails the suite; so does a row that matched nothing in a run
 * that compared its family and implementation (stale: delete it).
 *
 * Fields of the HTTP families: status, err_off, method, method_tok,
 * version, target_form, target, path, query, host, port, flags:<FLAG>
 * (one per KMESH_HTTP_F_* bit), content_length, nr_headers, hdrs,
 * head_len; responses: code; chunks: consumed. "status:proxy-form" is a
 * status difference where the fallback refused a proxy-form target.
 */
#ifndef KMESH_KNOWN_DIFFERENCES_H
#define KMESH_KNOWN_DIFFERENCES_H

struct conformance_diff {
	const char *family;	/* "request", "chunk", "response", "route", "policy" */
	const char *vector;
	const char *implementation;	/* "fallback" or "kfunc" */
	const char *field;
	const char *why;
};

#define FALLBACK_NO_PROXY_FORMS						\
	"the fallback refuses absolute- and authority-form targets (proxy "	\
	"requests, CONNECT) as E_TARGET_FORM at the target's first byte "	\
	"rather than parse them: sk_msg on 6.1 cannot call the module's "	\
	"parser, and the bounded byte loop has no room for authorities; "	\
	"l7_msg.h then answers 400, or passes the connection unchecked "	\
	"under failure_mode_allow (docs/config.md)"

static const struct conformance_diff known_differences[] = {
	/* ---- request heads ---- */
	/* status:proxy-form: the fallback said E_TARGET_FORM at a target that
	 * starts with neither '/' nor '*', or refused a CONNECT (the runner
	 * names such status differences so) */
	{ "request", "*", "fallback", "status:proxy-form", FALLBACK_NO_PROXY_FORMS },
	/* ---- routes and authorization (route vectors are named "table/case") ---- */
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

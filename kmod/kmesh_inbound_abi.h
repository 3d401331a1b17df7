/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inbound authorization (the destination's check): what crosses between
 * the BPF programs (bpf/include/inbound.h, bpf/l4_inbound.bpf.c) and
 * kmeshctl (userspace/lib/inbound_bpf.c). One definition, sizes pinned.
 *
 * A *workload* is a local endpoint address:port of a cluster of an http
 * port of a service that has authorization. The compile path
 * (userspace/lib/inbound_bpf.c, called from the L7 apply) fills one inner
 * map per generation slot: workload -> the protected services it serves.
 * A connection accepted in the meshed cgroup whose local address:port is
 * a workload is checked on receive.
 */
#ifndef KMESH_INBOUND_ABI_H
#define KMESH_INBOUND_ABI_H

#include "kmesh_abi.h"

#define KMESH_INBOUND_MAX_WORKLOADS	8192	/* per generation */
#define KMESH_INBOUND_MAX_SERVICES	4	/* protected services per workload */
#define KMESH_INBOUND_MAX_CONNS		65536	/* checked connections at once */
#define KMESH_INBOUND_MAX_CLIENTS	65536	/* local meshed clients, by 4-tuple */
#define KMESH_INBOUND_MAX_REQS		16	/* request heads per received frame */

/* Workload key: the endpoint address (IPv4 v4-mapped, network order) and
 * port (host order), as the accepted socket sees its own address. */
struct kmesh_inbound_key {
	__u32 addr[4];
	__u16 port;
	__u16 pad;
};

/* The protected services a workload serves, and the service port that
 * reaches it in each (what `ports:` / destination.port rules see). */
struct kmesh_inbound_workload {
	__u32 nr;
	__u32 service_id[KMESH_INBOUND_MAX_SERVICES];
	__u16 svc_port[KMESH_INBOUND_MAX_SERVICES];
	__u8 l4[KMESH_INBOUND_MAX_SERVICES];	/* KMESH_IN_L4_* per service */
};

/*
 * L4 at the door: what a service's policies decide from the source
 * address alone, checked on the SYN. Entries in the generation's
 * kmesh_l7_cidrs LPM trie (value: the policy id, or 1), under two more
 * directions than the L7 ones:
 *  - L4_DENY: sources a DENY rule refuses whatever the request (a rule
 *    with nothing but from.source.ip_blocks);
 *  - L4_ALLOW: when every ALLOW rule of the service names its sources
 *    (from.source.ip_blocks only), the union of them: any other source
 *    can match no ALLOW rule, so no request of it can pass.
 */
#define KMESH_IN_L4_DENY	(1U << 0)	/* the service has L4_DENY entries */
#define KMESH_IN_L4_ALLOW	(1U << 1)	/* ... and an L4_ALLOW list */
enum {
	KMESH_IN_DIR_L4_DENY	= 2,	/* after enum kmesh_l7_dir */
	KMESH_IN_DIR_L4_ALLOW	= 3,
};

/* A local meshed client's http service connection, by its own 4-tuple
 * (struct kmesh_sock_key): its sk_msg checks every request already. */
struct kmesh_inbound_client {
	__u32 service_id;
	__u16 svc_port;
	__u16 http;		/* the service port is an http port */
};

/* Node-wide inbound counters (per-CPU array, summed by kmeshctl). */
enum kmesh_inbound_global {
	KMESH_IN_G_CONNS	= 0,	/* accepted connections checked on receive */
	KMESH_IN_G_SOURCE	= 1,	/* accepted from a local meshed http client: its
					 * sk_msg checks (not redirected into otherwise) */
	KMESH_IN_G_REQUESTS	= 2,	/* request heads checked */
	KMESH_IN_G_ALLOWED	= 3,
	KMESH_IN_G_DENIED	= 4,	/* refused by policy */
	KMESH_IN_G_BAD		= 5,	/* refused: invalid HTTP, too large, bad body */
	KMESH_IN_G_REPLIED	= 6,	/* refusals answered (403/400/431 + close) */
	KMESH_IN_G_DROPPED	= 7,	/* refusals dropped (too short to answer in
					 * place; the connection goes dead) */
	KMESH_IN_G_DEAD		= 8,	/* frames dropped after a refusal */
	KMESH_IN_G_UNCHECKED	= 9,	/* passed unchecked (failure_mode_allow) */
	KMESH_IN_G_INTERNAL	= 10,	/* fail-closed drops: no state or scratch */
	KMESH_IN_G_NO_STATE	= 11,	/* workload connection not tracked (map full) */
	KMESH_IN_G_EARLY	= 12,	/* data segments dropped before accept()
					 * (the client retransmits them) */
	KMESH_IN_G_L4_REFUSED	= 13,	/* SYNs dropped by an L4 rule (before accept) */
	KMESH_IN_G_MAX,
};

/* Per protected service (per-CPU hash by service id). */
struct kmesh_inbound_stats {
	__u64 allowed;
	__u64 denied;		/* by policy */
	__u64 bad;		/* invalid HTTP, too large, bad body */
	__u64 l4_refused;	/* connections refused at the door (SYN dropped) */
};

/* Request-log records (struct kmesh_l7_log) written by the destination's
 * check carry this flag: reporter=destination. */
#define KMESH_L7_LOG_F_INBOUND	(1U << 7)
/* ... and this one when the refusal was the connection's SYN (L4). */
#define KMESH_L7_LOG_F_L4	(1U << 6)

_Static_assert(sizeof(struct kmesh_inbound_key) == 20, "inbound key ABI");
_Static_assert(sizeof(struct kmesh_inbound_workload) == 32, "inbound workload ABI");
_Static_assert(sizeof(struct kmesh_inbound_client) == 8, "inbound client ABI");
_Static_assert(sizeof(struct kmesh_inbound_stats) == 32, "inbound stats ABI");
_Static_assert((int)KMESH_IN_DIR_L4_DENY > (int)KMESH_L7_DIR_DST, "L4 directions follow the L7 ones");
_Static_assert(KMESH_IN_G_MAX == 14, "inbound counters ABI");

#endif /* KMESH_INBOUND_ABI_H */

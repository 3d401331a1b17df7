/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inbound authorization (the destination's check): the protected
 * workloads of a generation, compiled from the mesh config on the one
 * apply path (called from l7_fill/l7_install, switched with the
 * generation), the sk_skb programs attached at `up`, and the counters.
 */
#ifndef KMESH_INBOUND_BPF_H
#define KMESH_INBOUND_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "gen_maps.h"
#include "kmesh_maps.h"
#include "l4_build.h"
#include "l7_build.h"
#include "mesh_config.h"

struct bpf_object;

/* One workload of a generation. */
struct inbound_ws_rec {
	struct kmesh_inbound_key key;
	struct kmesh_inbound_workload val;
};

/*
 * The protected workloads of @cfg: every endpoint address:port of the
 * cluster of an http port of a service with authorization (an endpoint
 * without a port: the service port), with the services it serves there.
 * With @cidrs, each service's L4 part (KMESH_IN_L4_*) goes there too.
 * 0, or -1 with @err ("endpoint 10.0.0.1:80 serves more than 4 ...").
 */
int inbound_workloads(const struct mesh_config *cfg, const __u32 *service_ids,
		      struct l7_cidrs *cidrs, struct inbound_ws_rec **out,
		      size_t *n, char *err, size_t err_size);

/* The next generation's workload map in @slot: refilled, or new
 * (*@fresh, installed by inbound_install); with @img (gen_maps.h), only
 * what differs from it written. fd, or -1 with @err. */
int inbound_prepare(const struct mesh_config *cfg, const struct l4_gen *gen,
		    __u32 slot, struct l7_cidrs *cidrs, struct gen_map_image *img,
		    bool *fresh, size_t *nr, char *err, size_t err_size);
int inbound_install(int fd, __u32 slot, char *err, size_t err_size);

/* `up`: attach the stream parser and verdict to kmesh_inbound_socks
 * (before sockops files any socket there) and the ingress program to the
 * cgroup @cg_fd, and pin them. 0 or -1 with @err. */
/* Before load: the accept hook (kmod/inbound.c) only where the module is;
 * the door's variant that gives listeners the module's ops where
 * cgroup_skb programs may call kfuncs (@kfunc). */
void inbound_select(struct bpf_object *obj, bool module, bool kfunc);
int inbound_attach(struct bpf_object *obj, int cg_fd, char *err, size_t err_size);
/* Is the module's hook on accepted sockets attached? */
bool inbound_accept_hooked(void);
/* `down`: detach them (best effort). */
void inbound_detach(void);
/* Are they attached (pinned)? */
bool inbound_attached(void);

/* Node counters summed over CPUs; per-service counters. 0 or -errno. */
int inbound_read_global(__u64 out[KMESH_IN_G_MAX]);
struct inbound_stat_entry {
	__u32 service_id;
	struct kmesh_inbound_stats val;
};
int inbound_read_stats(struct inbound_stat_entry **v, size_t *n);
const char *inbound_global_name(unsigned int i);

#endif /* KMESH_INBOUND_BPF_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mesh config file (YAML, Istio-flavoured; every field documented in
 * docs/config.md) parsed into a plain model and validated. Nothing here
 * touches BPF: l4_build.h turns a model into map contents.
 *
 *	struct mesh_config cfg;
 *	char err[256];
 *
 *	if (mesh_config_load("mesh.yaml", &cfg, err, sizeof(err)))
 *		fprintf(stderr, "%s\n", err);	// "mesh.yaml:12: clusters[1]...: ..."
 *	...
 *	mesh_config_free(&cfg);
 *
 * Errors name the file, the line and the field path, and say what was
 * expected. Only the first error is reported.
 */
#ifndef KMESH_MESH_CONFIG_H
#define KMESH_MESH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "kmesh_abi.h"

struct mesh_endpoint {
	__u32 addr[4];		/* network order, IPv4 v4-mapped */
	__u16 port;		/* 0: the port the client dialed */
	__u16 weight;
	__u8 state;		/* enum kmesh_ep_state */
	int line;
};

struct mesh_cluster {
	char name[KMESH_NAME_MAX];
	__u8 lb;		/* enum kmesh_lb */
	__u8 flags;		/* KMESH_CLUSTER_F_* */
	__u32 max_connections;	/* 0: unlimited */
	struct mesh_endpoint *endpoints;
	size_t nr_endpoints;
	int line;
};

struct mesh_port {
	__u16 port;
	bool http;		/* protocol: http (L7 later; L4 treats it as tcp) */
	int cluster;		/* index into mesh_config.clusters */
	int line;
};

struct mesh_service {
	char name[KMESH_NAME_MAX];
	__u32 (*addrs)[4];
	size_t nr_addrs;
	struct mesh_port *ports;
	size_t nr_ports;
	int line;
};

struct mesh_config {
	struct mesh_service *services;
	size_t nr_services;
	struct mesh_cluster *clusters;
	size_t nr_clusters;
};

/* 0 or -1 with @err filled ("FILE:LINE: PATH: message"). */
int mesh_config_load(const char *path, struct mesh_config *cfg,
		     char *err, size_t err_size);
/* The same from memory; @name stands for the file in messages. */
int mesh_config_parse(const char *name, const char *text, size_t len,
		      struct mesh_config *cfg, char *err, size_t err_size);
void mesh_config_free(struct mesh_config *cfg);

/* "10.0.0.1" or "fd00::1" to 16 bytes (IPv4 v4-mapped); 0 or -1. */
int mesh_addr_parse(const char *text, __u32 addr[4]);
/* The reverse: "10.0.0.1", "fd00::1"; @with_port gives "1.2.3.4:80" and
 * "[fd00::1]:80". */
void mesh_addr_format(const __u32 addr[4], __u16 port, bool with_port,
		      char *buf, size_t size);
bool mesh_addr_is_v4(const __u32 addr[4]);

const char *mesh_lb_name(unsigned int lb);

#endif /* KMESH_MESH_CONFIG_H */

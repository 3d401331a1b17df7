/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Istio and Kubernetes resources (apiVersion/kind/metadata/spec) into one
 * mesh config: istio.c writes them as kmesh's own mesh file and compiles
 * that with mesh_config.c, so both inputs have one compiler. Every field
 * is either translated or refused; docs/config.md lists them per kind.
 */
#ifndef KMESH_ISTIO_H
#define KMESH_ISTIO_H

#include <stddef.h>

#include <yaml.h>

#include "mesh_config.h"

struct istio_resource {
	const char *file;
	yaml_document_t *doc;
	yaml_node_t *root;	/* the resource's mapping */
};

int istio_translate(const struct istio_resource *res, size_t nr,
		    const char *domain, struct mesh_config *cfg,
		    char *err, size_t err_size);

#endif /* KMESH_ISTIO_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What `kmeshctl apply -f` and `validate -f` read: files, directories
 * (their *.yaml, *.yml and *.json, in name order) and "-" (stdin), each a
 * stream of YAML documents. Every document is read:
 *
 *  - an empty document (nothing, or only comments, between "---") is
 *    skipped, as kubectl skips it;
 *  - kmesh's own mesh file (a mapping with services:, clusters:, ...) is
 *    one document: it must be the only non-empty document of the input;
 *  - anything with apiVersion: and kind: is a resource (Istio's
 *    ServiceEntry, WorkloadEntry, DestinationRule, VirtualService,
 *    AuthorizationPolicy; a kind: List of them); all of them together are
 *    translated into one mesh config (istio.c) and compiled by the same
 *    compiler as the mesh file (mesh_config.c).
 *
 * One error anywhere fails the whole input, naming the file, the line,
 * the resource (kind and name) and the field path.
 */
#ifndef KMESH_MESH_INPUT_H
#define KMESH_MESH_INPUT_H

#include <stddef.h>

#include "mesh_config.h"

/* The read stage's output: every document of the inputs, sorted. */
struct istio_resource;
struct yaml_document_s;
struct mesh_docs {
	/* every loaded document, freed by mesh_input_free() */
	struct yaml_document_s **docs;
	size_t nr_docs;
	/* names of the files read (owned) */
	char **files;
	size_t nr_files;
	struct istio_resource *res;
	size_t nr_res;
	/* kmesh's own document, if any */
	struct yaml_document_s *own;
	const char *own_file;
	int own_line;
	const char *what;	/* the inputs' name when they hold nothing */
	char *err;		/* where the stage at work reports */
	size_t err_size;
};

/* read: files, directories, "-" (stdin) into documents. 0 or -1 with
 * @err; mesh_input_free() either way. */
int mesh_input_read(const char *const *paths, size_t nr_paths,
		    struct mesh_docs *docs, char *err, size_t err_size);
int mesh_input_read_text(const char *name, const char *text, size_t len,
			 struct mesh_docs *docs, char *err, size_t err_size);
void mesh_input_free(struct mesh_docs *docs);

struct mesh_input_opts {
	/* Kubernetes cluster domain: "reviews" in namespace "default" is
	 * reviews.default.svc.<domain>; NULL: cluster.local */
	const char *domain;
	/* this node's locality (--locality), for inputs that do not say it
	 * (Istio resources); NULL: none, or the mesh file's node.locality */
	const char *locality;
};

/* model: the documents into @cfg (the mesh file's reader, or the Istio
 * translation), every check that needs no kernel, L7 compiled once.
 * 0 or -1 with @err filled. */
int mesh_input_model(struct mesh_docs *docs, const struct mesh_input_opts *opts,
		     struct mesh_config *cfg, char *err, size_t err_size);

/* read and model at once. */
int mesh_input_load(const char *const *paths, size_t nr_paths,
		    const struct mesh_input_opts *opts, struct mesh_config *cfg,
		    char *err, size_t err_size);
/* The same from memory; @name stands for the file in messages. */
int mesh_input_parse(const char *name, const char *text, size_t len,
		     const struct mesh_input_opts *opts,
		     struct mesh_config *cfg, char *err, size_t err_size);

/*
 * What fallback mode (no kmesh module) counts but cannot enforce: the
 * endpoint is chosen at connect() from the port's own cluster, so a route
 * forwarding to another cluster, or splitting by weight, is only named in
 * counters. Calls @warn once per such route; returns how many.
 */
size_t mesh_fallback_unenforced(const struct mesh_config *cfg,
				void (*warn)(void *arg, const char *msg),
				void *arg);

#endif /* KMESH_MESH_INPUT_H */

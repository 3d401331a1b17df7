/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The apply pipeline: one function per stage, each taking the previous
 * stage's output, so a config passes each stage once.
 *
 *   read     pipeline_read()     files, directories, stdin -> YAML documents
 *                                (mesh_input.c)
 *   model    pipeline_model()    documents -> struct mesh_config: the mesh
 *                                file's reader (mesh_config.c and its
 *                                sections) or the Istio translation
 *                                (istio.c); every check that needs no
 *                                kernel; the L7 rules compiled once
 *                                (l7_check() in l7_build.c)
 *   compile  pipeline_compile()  model -> the next generation's contents,
 *                                in memory: L4 maps with the node's stable
 *                                ids (l4_build.c), L7 policies and route
 *                                tables bound to them (l7_compile())
 *   install  pipeline_install()  contents -> the unused slot's maps and the
 *                                module's route tables, then the switch
 *                                (l4_install() in l4_bpf.c, l7_bpf.c,
 *                                inbound_bpf.c, gen_maps.c)
 *
 * kmeshctl apply and up run all four; validate and apply --dry-run stop
 * before install (compiling against no pinned state); kmesh-agent builds
 * the model from xDS (xds_translate.c) and enters at compile. A stage that
 * fails leaves the running generation as it was.
 */
#ifndef KMESH_PIPELINE_H
#define KMESH_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "l4_bpf.h"
#include "l7_build.h"
#include "mesh_config.h"
#include "mesh_input.h"

int pipeline_read(const char *const *paths, size_t nr_paths,
		  struct mesh_docs *docs, char *err, size_t err_size);
int pipeline_model(struct mesh_docs *docs, const struct mesh_input_opts *opts,
		   struct mesh_config *cfg, char *err, size_t err_size);

/* The compile stage's output. */
struct mesh_generation {
	const struct mesh_config *cfg;
	bool live;		/* compiled against the pinned state (locked) */
	struct l4_txn txn;	/* live: what install writes into */
	int dev_fd;		/* live: /dev/kmesh, -1 without the module */
	struct l4_gen l4;
	struct l7_gen l7;
};

/*
 * @live: against the pinned state, which stays locked until
 * mesh_generation_free() (for install); else with fresh ids, for a check
 * that needs no kernel. 0, or -1 with @err.
 */
int pipeline_compile(const struct mesh_config *cfg, bool live,
		     struct mesh_generation *g, char *err, size_t err_size);
/*
 * What a long-running caller (kmesh-agent) keeps from its earlier
 * compiles and installs, for an update that changed the endpoints of a
 * few clusters only (each field may be NULL):
 *   l7_installed  the L7 output it installed in each slot (moved out of
 *                 the generation after its install), taken again
 *                 (l7_rebind()) when the ids are the same; the caller
 *                 knows the model's L7 rules did not change since
 *   cache         its install cache (l4_bpf.h), which proves whether
 *                 anybody installed since its last switch
 *   l4_last       the l4 part of the generation it switched to last
 *                 (moved out after its install); while @cache proves
 *                 it current, its ids are the registry (not read again)
 *   changed       one flag per cluster of the model: the clusters that
 *                 differ from the model @l4_last was built from (the
 *                 others are taken from @l4_last: l4_build_reusing())
 */
struct pipeline_reuse {
	struct l7_gen *l7_installed;		/* [2] */
	const struct l4_install_cache *cache;
	const struct l4_gen *l4_last;
	const bool *changed;
};
int pipeline_compile_reusing(const struct mesh_config *cfg, bool live,
			     const struct pipeline_reuse *reuse,
			     struct mesh_generation *g, char *err, size_t err_size);
/* Install a live @g and switch to it: *@generation is its number.
 * @cache (or NULL): a long-running caller's memory of what it installed
 * (l4_install_cache in l4_bpf.h), for installs that write only what
 * changed. */
int pipeline_install(struct mesh_generation *g, struct l4_install_cache *cache,
		     __u64 *generation, char *err, size_t err_size);
void mesh_generation_free(struct mesh_generation *g);

#endif /* KMESH_PIPELINE_H */

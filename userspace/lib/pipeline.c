// SPDX-License-Identifier: GPL-2.0-only
/* The apply pipeline's stages in sequence (pipeline.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"
#include "route_tables.h"
#include "stage_clock.h"

int pipeline_read(const char *const *paths, size_t nr_paths,
		  struct mesh_docs *docs, char *err, size_t err_size)
{
	int rc = mesh_input_read(paths, nr_paths, docs, err, err_size);

	stage_mark(STAGE_DECODE);
	return rc;
}

int pipeline_model(struct mesh_docs *docs, const struct mesh_input_opts *opts,
		   struct mesh_config *cfg, char *err, size_t err_size)
{
	int rc = mesh_input_model(docs, opts, cfg, err, err_size);

	stage_mark(STAGE_MODEL);
	return rc;
}

int pipeline_compile(const struct mesh_config *cfg, bool live,
		     struct mesh_generation *g, char *err, size_t err_size)
{
	return pipeline_compile_reusing(cfg, live, NULL, g, err, err_size);
}

int pipeline_compile_reusing(const struct mesh_config *cfg, bool live,
			     const struct pipeline_reuse *reuse,
			     struct mesh_generation *g, char *err, size_t err_size)
{
	const struct l4_id_entry *reg = NULL;
	const struct l4_gen *prev = NULL;
	size_t nr_reg = 0;
	__u64 generation = 1;
	__u32 slot = 0;

	memset(g, 0, sizeof(*g));
	g->cfg = cfg;
	g->dev_fd = -1;
	g->txn.lock_fd = -1;
	if (live) {
		if (l4_txn_begin(&g->txn, err, err_size))
			return -1;
		g->live = true;
		if (l4_txn_read_registry(&g->txn, reuse ? reuse->cache : NULL,
					 reuse ? reuse->l4_last : NULL, err, err_size))
			return -1;
		g->dev_fd = kmesh_dev_open();
		if (g->dev_fd < 0)
			g->dev_fd = -1;	/* no module: fallback routes alone */
		reg = g->txn.reg;
		nr_reg = g->txn.nr_reg;
		generation = g->txn.next.generation;
		slot = g->txn.next.slot;
		/* the last build's clusters hold for this registry */
		if (reuse && reuse->changed && g->txn.reg_from_cache)
			prev = reuse->l4_last;
	}
	stage_mark(STAGE_LOCK);
	if (l4_build_reusing(cfg, reg, nr_reg, generation, prev,
			     reuse ? reuse->changed : NULL, &g->l4, err, err_size))
		return -1;
	stage_mark(STAGE_L4_BUILD);
	if (!(reuse && reuse->l7_installed && slot < 2 &&
	      l7_rebind(&reuse->l7_installed[slot], cfg, &g->l4, slot, g->dev_fd >= 0,
			&g->l7)) &&
	    l7_compile(cfg, &g->l4, slot, g->dev_fd >= 0, &g->l7, err, err_size))
		return -1;
	stage_mark(STAGE_L7_COMPILE);
	return 0;
}

int pipeline_install(struct mesh_generation *g, struct l4_install_cache *cache,
		     __u64 *generation, char *err, size_t err_size)
{
	if (!g->live) {
		snprintf(err, err_size, "internal error: install of a generation compiled without the pinned state");
		return -1;
	}
	if (l4_install(&g->txn, g->cfg, &g->l4, &g->l7, g->dev_fd, cache,
		       err, err_size))
		return -1;
	*generation = g->txn.next.generation;
	return 0;
}

void mesh_generation_free(struct mesh_generation *g)
{
	l7_gen_free(&g->l7);
	l4_gen_free(&g->l4);
	if (g->dev_fd >= 0)
		close(g->dev_fd);
	g->dev_fd = -1;
	if (g->live)
		l4_txn_end(&g->txn);
	g->live = false;
}

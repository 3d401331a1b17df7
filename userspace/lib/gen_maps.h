/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building a generation's maps with few bpf() calls.
 *
 * Config maps come in KMESH_L4_SLOTS slots of map-in-map arrays; programs
 * read the live slot from kmesh_generation. An apply refills the inactive
 * slot's inner maps in place and then flips the generation with one
 * array write: replacing an inner map costs a synchronize_rcu() in the
 * kernel per map-in-map update (tens of ms under load), so new inner maps
 * are made only for a slot that has none (the first two applies after up)
 * or holds one of another shape (state pinned by an older kmeshctl).
 *
 * Refilling an inactive slot in place is safe for the reason replacing
 * its maps was: the slot went out of use at the previous flip, a whole
 * kmeshctl run ago, and BPF programs run for microseconds.
 */
#ifndef KMESH_GEN_MAPS_H
#define KMESH_GEN_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

struct gen_map_spec {
	enum bpf_map_type type;
	const char *name;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;	/* created with BPF_F_NO_PREALLOC */
};

/*
 * The inner map of @outer's @slot, emptied, to fill for the next
 * generation; or, when the slot has none of @spec's shape, a new one
 * (*@fresh: install it with gen_map_install). fd, or -errno.
 */
int gen_map_take(int outer, __u32 slot, const struct gen_map_spec *spec,
		 bool *fresh);
int gen_map_install(int outer, __u32 slot, int fd);

/* Delete every entry of @fd. 0 or -errno. */
int gen_map_clear(int fd, __u32 key_size);

/*
 * Write @n records (@rec bytes apart; key at @koff, value at @voff) in one
 * batch where the map type has batches, else one by one. Batches take no
 * BPF_NOEXIST: keys must be unique (the config's checks see to it). 0 or
 * -errno.
 */
int gen_map_fill(int fd, const void *recs, size_t n, size_t rec,
		 size_t koff, __u32 key_size, size_t voff, __u32 value_size);
/* The same from @n keys and @n values, each array contiguous. */
int gen_map_fill_arrays(int fd, const void *keys, const void *vals, size_t n,
			__u32 key_size, __u32 value_size);

#endif /* KMESH_GEN_MAPS_H */

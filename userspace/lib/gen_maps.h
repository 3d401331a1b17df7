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

/*
 * Incremental fills. A long-running process (kmesh-agent) keeps, per inner
 * map, what it wrote there last: the next fill of the same map writes only
 * the records that differ and deletes the ones no longer wanted, so an
 * update that changes one endpoint rewrites a few entries, not 1,000
 * policies of 13 KB. The result is the map a fill from empty gives.
 */
struct gen_map_image {
	__u32 map_id;		/* the inner map they are in; 0: unknown */
	__u32 key_size, value_size;
	size_t n;
	char *keys, *vals;	/* n each, sorted by key (memcmp) */
	/* what the records were made from, for a caller that names it
	 * (l7_fill(): the L7 output's serial); 0: not said */
	__u64 source;
};
void gen_map_image_reset(struct gen_map_image *img);
/* @img is to describe map @fd (one that is never emptied, outside the
 * slots): an image of another map is dropped (nothing known of @fd). */
void gen_map_image_bind(struct gen_map_image *img, int fd);

/*
 * gen_map_take() that keeps the map as it is when @img describes it (the
 * slot still holds the map @img was written into); else gen_map_take()'s
 * emptied or new map, and @img describes an empty one. fd, or -errno
 * (@img reset).
 */
int gen_map_take_image(int outer, __u32 slot, const struct gen_map_spec *spec,
		       bool *fresh, struct gen_map_image *img);

/*
 * Make @fd hold @n records (keys unique). With @img (what @fd holds:
 * gen_map_take_image), only what differs is written and the keys @img has
 * and the records lack are deleted (none with @keep_stale, for a map every
 * fill only adds to); @img then describes the new contents (reset on an
 * error: unknown). Without @img, gen_map_fill_arrays(). 0 or -errno.
 */
int gen_map_sync_arrays(int fd, struct gen_map_image *img, bool keep_stale,
			const void *keys, const void *vals, size_t n,
			__u32 key_size, __u32 value_size);
/* The same from records as gen_map_fill() takes them. */
int gen_map_sync(int fd, struct gen_map_image *img, bool keep_stale,
		 const void *recs, size_t n, size_t rec, size_t koff,
		 __u32 key_size, size_t voff, __u32 value_size);

/*
 * Which generation filled each slot: maps/kmesh_slot_fill (userspace
 * only, an array of KMESH_L4_SLOTS __u64), written by every install under
 * the pins lock: 0 before the first write into a slot, the generation
 * once the slot holds it whole. An install that fails or dies half-way
 * leaves 0, so an image of that slot (above) is known to be stale.
 * gen_slot_fill_open() creates and pins the map when it is missing. fd,
 * or -errno.
 */
int gen_slot_fill_open(void);
int gen_slot_fill_get(int fd, __u32 slot, __u64 *generation);
int gen_slot_fill_set(int fd, __u32 slot, __u64 generation);

/*
 * What `kmeshctl apply` applied last: maps/kmesh_applied_input (userspace
 * only, one entry), the generation it switched to and a digest of what
 * that generation was compiled from (the input files' bytes, the options,
 * the kmeshctl binary, the module instance: kmeshctl/dataplane.c). An
 * apply whose digest is the one recorded for the live generation has
 * nothing to do. Any other switch (another apply, the agent) makes the
 * record name an older generation; any install begun since and not
 * finished (it failed, or died: it may have left route tables or maps
 * half-written beside the live ones) reset the next slot's fill stamp,
 * which the record keeps too. Created on first use. fd, or -errno.
 */
struct gen_applied_input {
	__u64 generation;
	__u64 next_slot_fill;	/* the next slot's fill stamp then */
	unsigned char digest[32];
};
int gen_applied_open(void);
int gen_applied_get(int fd, struct gen_applied_input *rec);
int gen_applied_set(int fd, const struct gen_applied_input *rec);

#endif /* KMESH_GEN_MAPS_H */

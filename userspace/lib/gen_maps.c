// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "gen_maps.h"
#include "kmesh_maps.h"
#include "pins.h"

/* The kernel's "operation not supported" for map types without batches
 * (not in the C library's errno.h). */
#define KERNEL_ENOTSUPP	524

static bool no_batches(int err)
{
	return err == KERNEL_ENOTSUPP || err == EOPNOTSUPP || err == EINVAL;
}

static bool has_shape(int fd, const struct gen_map_spec *spec)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.type == spec->type && info.key_size == spec->key_size &&
	       info.value_size == spec->value_size &&
	       info.max_entries == spec->max_entries;
}

int gen_map_take(int outer, __u32 slot, const struct gen_map_spec *spec,
		 bool *fresh)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	__u32 id;
	int fd, rc;

	*fresh = false;
	if (!bpf_map_lookup_elem(outer, &slot, &id)) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd >= 0 && has_shape(fd, spec)) {
			rc = gen_map_clear(fd, spec->key_size);
			if (rc) {
				close(fd);
				return rc;
			}
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
	fd = bpf_map_create(spec->type, spec->name, spec->key_size,
			    spec->value_size, spec->max_entries, &opts);
	if (fd < 0)
		return -errno;
	*fresh = true;
	return fd;
}

int gen_map_install(int outer, __u32 slot, int fd)
{
	return bpf_map_update_elem(outer, &slot, &fd, BPF_ANY) ? -errno : 0;
}

/* Delete @n keys: one batch where the map type has batches. */
static int delete_keys(int fd, const char *keys, size_t n, __u32 key_size)
{
	__u32 count = (__u32)n;
	size_t i;
	int rc;

	if (!n || !bpf_map_delete_batch(fd, keys, &count, NULL))
		return 0;
	rc = -errno;
	if (!no_batches(-rc))
		return rc;
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT)
			return -errno;
	return 0;
}

int gen_map_clear(int fd, __u32 key_size)
{
	size_t n = 0, cap = 0;
	char *keys = NULL, *nk;
	int rc = 0;

	/* Keys first (deleting while walking would restart the walk). */
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nk = realloc(keys, cap * key_size);
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		if (bpf_map_get_next_key(fd, n ? keys + (n - 1) * key_size : NULL,
					 keys + n * key_size))
			break;
		n++;
	}
	if (errno != ENOENT)
		rc = -errno;
	if (!rc)
		rc = delete_keys(fd, keys, n, key_size);
	free(keys);
	return rc;
}

int gen_map_fill_arrays(int fd, const void *keys, const void *vals, size_t n,
			__u32 key_size, __u32 value_size)
{
	__u32 count = (__u32)n;
	size_t i;
	int rc;

	if (!n || !bpf_map_update_batch(fd, keys, vals, &count, NULL))
		return 0;
	rc = -errno;
	if (!no_batches(-rc) || count)
		return rc;
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size,
					(const char *)vals + i * value_size, BPF_ANY))
			return -errno;
	return 0;
}

int gen_map_fill(int fd, const void *recs, size_t n, size_t rec,
		 size_t koff, __u32 key_size, size_t voff, __u32 value_size)
{
	const char *r = recs;
	char *keys, *vals;
	size_t i;
	int rc;

	if (!n)
		return 0;
	keys = malloc(n * key_size);
	vals = malloc(n * value_size);
	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(keys + i * key_size, r + i * rec + koff, key_size);
		memcpy(vals + i * value_size, r + i * rec + voff, value_size);
	}
	rc = gen_map_fill_arrays(fd, keys, vals, n, key_size, value_size);
out:
	free(keys);
	free(vals);
	return rc;
}

/* ---- incremental fills ---- */

void gen_map_image_reset(struct gen_map_image *img)
{
	free(img->keys);
	free(img->vals);
	memset(img, 0, sizeof(*img));
}

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

void gen_map_image_bind(struct gen_map_image *img, int fd)
{
	__u32 id = map_id_of(fd);

	if (!id || img->map_id != id) {
		gen_map_image_reset(img);
		img->map_id = id;
	}
}

int gen_map_take_image(int outer, __u32 slot, const struct gen_map_spec *spec,
		       bool *fresh, struct gen_map_image *img)
{
	__u32 id;
	int fd;

	*fresh = false;
	if (img->map_id && !bpf_map_lookup_elem(outer, &slot, &id) &&
	    id == img->map_id) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd >= 0)
			return fd;
	}
	gen_map_image_reset(img);
	fd = gen_map_take(outer, slot, spec, fresh);
	if (fd >= 0)
		img->map_id = map_id_of(fd);
	return fd;
}

struct key_order {
	const char *keys;
	__u32 key_size;
};

static int cmp_key_at(const void *a, const void *b, void *arg)
{
	const struct key_order *o = arg;

	return memcmp(o->keys + *(const size_t *)a * o->key_size,
		      o->keys + *(const size_t *)b * o->key_size, o->key_size);
}

int gen_map_sync_arrays(int fd, struct gen_map_image *img, bool keep_stale,
			const void *keys, const void *vals, size_t n,
			__u32 key_size, __u32 value_size)
{
	struct key_order order = { keys, key_size };
	const char *k = keys, *v = vals;
	char *ukeys = NULL, *uvals = NULL, *dkeys = NULL, *nk, *nv;
	size_t *idx = NULL, i, j, nu = 0, nd = 0;
	int rc = -ENOMEM;

	if (!img)
		return gen_map_fill_arrays(fd, keys, vals, n, key_size, value_size);
	if (img->n && (img->key_size != key_size || img->value_size != value_size)) {
		gen_map_image_reset(img);
		return -EINVAL;
	}
	/* the wanted records in key order, as the image keeps them */
	idx = malloc((n ? n : 1) * sizeof(*idx));
	dkeys = malloc(img->n ? img->n * key_size : 1);
	if (!idx || !dkeys)
		goto out;
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_key_at, &order);
	/* merge with what the map holds: new or changed records are written,
	 * keys it holds and no record has are deleted */
	for (i = j = 0; i < n || j < img->n;) {
		const char *ki = i < n ? k + idx[i] * key_size : NULL;
		int c = i == n ? 1 : j == img->n ? -1 :
			memcmp(ki, img->keys + j * key_size, key_size);

		if (c > 0) {
			memcpy(dkeys + nd++ * key_size, img->keys + j * key_size, key_size);
			j++;
			continue;
		}
		if (c < 0 || memcmp(v + idx[i] * value_size, img->vals + j * value_size,
				    value_size)) {
			if (!ukeys) {
				ukeys = malloc(n * key_size);
				uvals = malloc(n * value_size);
				if (!ukeys || !uvals)
					goto out;
			}
			memcpy(ukeys + nu * key_size, ki, key_size);
			memcpy(uvals + nu * value_size, v + idx[i] * value_size, value_size);
			nu++;
		}
		i++;
		if (!c)
			j++;
	}
	rc = keep_stale ? 0 : delete_keys(fd, dkeys, nd, key_size);
	if (!rc)
		rc = gen_map_fill_arrays(fd, ukeys, uvals, nu, key_size, value_size);
	if (rc || (!nu && (!nd || keep_stale)))
		goto out;	/* an image that still holds needs no copy */
	nk = malloc(n ? n * key_size : 1);
	nv = malloc(n ? n * value_size : 1);
	if (!nk || !nv) {
		free(nk);
		free(nv);
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(nk + i * key_size, k + idx[i] * key_size, key_size);
		memcpy(nv + i * value_size, v + idx[i] * value_size, value_size);
	}
	free(img->keys);
	free(img->vals);
	img->keys = nk;
	img->vals = nv;
	img->n = n;
	img->key_size = key_size;
	img->value_size = value_size;
out:
	if (rc)
		gen_map_image_reset(img);	/* what the map holds is unknown now */
	free(idx);
	free(ukeys);
	free(uvals);
	free(dkeys);
	return rc;
}

int gen_map_sync(int fd, struct gen_map_image *img, bool keep_stale,
		 const void *recs, size_t n, size_t rec, size_t koff,
		 __u32 key_size, size_t voff, __u32 value_size)
{
	const char *r = recs;
	char *keys, *vals;
	size_t i;
	int rc;

	if (!img)
		return gen_map_fill(fd, recs, n, rec, koff, key_size, voff, value_size);
	keys = malloc(n ? n * key_size : 1);
	vals = malloc(n ? n * value_size : 1);
	if (!keys || !vals) {
		rc = -ENOMEM;
		gen_map_image_reset(img);
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(keys + i * key_size, r + i * rec + koff, key_size);
		memcpy(vals + i * value_size, r + i * rec + voff, value_size);
	}
	rc = gen_map_sync_arrays(fd, img, keep_stale, keys, vals, n, key_size,
				 value_size);
out:
	free(keys);
	free(vals);
	return rc;
}

/* ---- which generation filled each slot ---- */

#define SLOT_FILL_MAP	"kmesh_slot_fill"

/* Pinned map @name under maps/, created (an array) when missing. */
static int userspace_map_open(const char *name, __u32 value_size, __u32 entries)
{
	char path[512];
	int fd;

	fd = kmesh_map_fd(name);
	if (fd != -ENOENT)
		return fd;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
			    value_size, entries, NULL);
	if (fd < 0)
		return -errno;
	kmesh_pin_path(path, sizeof(path), "maps", name);
	if (bpf_obj_pin(fd, path)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int gen_slot_fill_open(void)
{
	return userspace_map_open(SLOT_FILL_MAP, sizeof(__u64), KMESH_L4_SLOTS);
}

int gen_slot_fill_get(int fd, __u32 slot, __u64 *generation)
{
	return bpf_map_lookup_elem(fd, &slot, generation) ? -errno : 0;
}

int gen_slot_fill_set(int fd, __u32 slot, __u64 generation)
{
	return bpf_map_update_elem(fd, &slot, &generation, BPF_ANY) ? -errno : 0;
}

/* ---- what kmeshctl apply applied last ---- */

#define APPLIED_MAP	"kmesh_applied_input"

int gen_applied_open(void)
{
	return userspace_map_open(APPLIED_MAP, sizeof(struct gen_applied_input), 1);
}

int gen_applied_get(int fd, struct gen_applied_input *rec)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, rec) ? -errno : 0;
}

int gen_applied_set(int fd, const struct gen_applied_input *rec)
{
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, rec, BPF_ANY) ? -errno : 0;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "gen_maps.h"

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

int gen_map_clear(int fd, __u32 key_size)
{
	size_t n = 0, cap = 0;
	char *keys = NULL, *nk;
	__u32 count;
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
	count = (__u32)n;
	if (!rc && n && bpf_map_delete_batch(fd, keys, &count, NULL)) {
		rc = -errno;
		if (no_batches(-rc)) {
			size_t i;

			rc = 0;
			for (i = 0; i < n && !rc; i++)
				if (bpf_map_delete_elem(fd, keys + i * key_size) &&
				    errno != ENOENT)
					rc = -errno;
		}
	}
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

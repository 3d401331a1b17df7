// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pins.h"

const char *kmesh_pin_dir(void)
{
	const char *dir = getenv("KMESH_PIN_DIR");

	return dir && dir[0] ? dir : KMESH_PIN_DIR_DEFAULT;
}

void kmesh_pin_path(char *buf, size_t size, const char *sub, const char *name)
{
	snprintf(buf, size, "%s/%s/%s", kmesh_pin_dir(), sub, name);
}

int kmesh_map_fd(const char *name)
{
	char path[512];
	int fd;

	kmesh_pin_path(path, sizeof(path), "maps", name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int kmesh_percpu_open(const char *name, size_t value_size, int *fd,
		      void **per, int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0)
		return -EINVAL;
	*fd = kmesh_map_fd(name);
	if (*fd < 0)
		return *fd;
	*per = calloc((size_t)*ncpu, value_size);
	if (!*per) {
		close(*fd);
		return -ENOMEM;
	}
	return 0;
}

int kmesh_percpu_sum_u64(const char *name, __u64 *out, __u32 n)
{
	int fd, ncpu, c, rc;
	void *buf;
	__u64 *per;
	__u32 i;

	memset(out, 0, sizeof(__u64) * n);
	rc = kmesh_percpu_open(name, sizeof(__u64), &fd, &buf, &ncpu);
	if (rc)
		return rc;
	per = buf;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &i, per))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += per[c];
	}
	free(per);
	close(fd);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>

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

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the pinned data plane lives on bpffs: the pin directory
 * (KMESH_PIN_DIR, default /sys/fs/bpf/kmesh) with maps/, progs/ and links/
 * under it. The loader (l4_bpf.c), the L7 and inbound parts and the
 * readers all find pinned objects through here, so none of them needs
 * another to know a path.
 */
#ifndef KMESH_PINS_H
#define KMESH_PINS_H

#include <stddef.h>
#include <linux/types.h>

#define KMESH_PIN_DIR_DEFAULT	"/sys/fs/bpf/kmesh"

const char *kmesh_pin_dir(void);
/* <pin dir>/<sub>/<name>; sub is "maps", "progs" or "links" */
void kmesh_pin_path(char *buf, size_t size, const char *sub, const char *name);
/* A pinned map by name: an fd, or -errno (-ENOENT: kmesh is not up). */
int kmesh_map_fd(const char *name);

/*
 * A pinned per-CPU map by name, with room for one @value_size value of
 * every possible CPU: 0 with *@fd (close it), *@per (free it) and
 * *@ncpu, or -errno.
 */
int kmesh_percpu_open(const char *name, size_t value_size, int *fd,
		      void **per, int *ncpu);
/* Entries 0 .. @n-1 of pinned per-CPU array @name of __u64, summed over
 * the CPUs into @out (zeros where there is no entry). 0 or -errno. */
int kmesh_percpu_sum_u64(const char *name, __u64 *out, __u32 n);

#endif /* KMESH_PINS_H */

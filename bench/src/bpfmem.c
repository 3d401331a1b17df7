// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpfmem: kernel memory held by kmesh's BPF objects, from the pinned
 * state (KMESH_PIN_DIR layout: maps/, progs/): every pinned map, every
 * inner map reachable through a map-in-map, every pinned program. The
 * figure is the kernel's own "memlock" of each object (/proc/PID/fdinfo):
 * since Linux 6.4 the memory the object really uses (hash elements
 * allocated so far included), before that an estimate from max_entries.
 *
 *   bpfmem PIN_DIR [-v]
 *   -> maps=N map_bytes=B progs=P prog_bytes=Q   (-v: one line per object)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

static bool verbose;
static __u32 seen[4096];
static int nr_seen;

static unsigned long long memlock_of(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static bool seen_before(__u32 id)
{
	int i;

	for (i = 0; i < nr_seen; i++)
		if (seen[i] == id)
			return true;
	if (nr_seen < (int)(sizeof(seen) / sizeof(seen[0])))
		seen[nr_seen++] = id;
	return false;
}

static unsigned long long nr_maps, map_bytes;

static void add_map(int fd, const char *label)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	unsigned long long b;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || seen_before(info.id))
		return;
	b = memlock_of(fd);
	nr_maps++;
	map_bytes += b;
	if (verbose)
		printf("map %u %s (%s) %llu\n", info.id, info.name, label, b);
	if (info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	    info.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
		char key[256], next[256];
		bool first = true;
		int n = 0;

		if (info.key_size > sizeof(key))
			return;
		while (n++ < 4096 && !bpf_map_get_next_key(fd, first ? NULL : key, next)) {
			__u32 inner_id;
			int ifd;

			first = false;
			memcpy(key, next, info.key_size);
			if (bpf_map_lookup_elem(fd, key, &inner_id))
				continue;
			ifd = bpf_map_get_fd_by_id(inner_id);
			if (ifd < 0)
				continue;
			add_map(ifd, "inner");
			close(ifd);
		}
	}
}

static unsigned long long nr_progs, prog_bytes;

static void walk(const char *dir, bool maps)
{
	char path[4096];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (maps) {
			add_map(fd, e->d_name);
		} else {
			unsigned long long b = memlock_of(fd);

			nr_progs++;
			prog_bytes += b;
			if (verbose)
				printf("prog %s %llu\n", e->d_name, b);
		}
		close(fd);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc < 2) {
		fprintf(stderr, "usage: bpfmem PIN_DIR [-v]\n");
		return 2;
	}
	verbose = argc > 2 && !strcmp(argv[2], "-v");
	snprintf(dir, sizeof(dir), "%s/maps", argv[1]);
	walk(dir, true);
	snprintf(dir, sizeof(dir), "%s/progs", argv[1]);
	walk(dir, false);
	if (!nr_maps) {
		fprintf(stderr, "bpfmem: no pinned maps under %s\n", argv[1]);
		return 1;
	}
	printf("maps=%llu map_bytes=%llu progs=%llu prog_bytes=%llu\n",
	       nr_maps, map_bytes, nr_progs, prog_bytes);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The L4 data plane's kernel side, through libbpf and the pinned state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "caps.h"
#include "gen_maps.h"
#include "inbound_bpf.h"
#include "l4_bpf.h"
#include "l7_bpf.h"
#include "mode.h"
#include "pins.h"
#include "stage_clock.h"
#include "kmesh.skel.h"

static const char *const map_names[L4_NR_MAPS] = {
	[L4_MAP_SERVICES] = "kmesh_services",
	[L4_MAP_CLUSTERS] = "kmesh_clusters",
	[L4_MAP_ENDPOINTS] = "kmesh_endpoints",
	[L4_MAP_MAGLEV] = "kmesh_maglev",
	[L4_MAP_GENERATION] = "kmesh_generation",
	[L4_MAP_CLUSTER_STATE] = "kmesh_cluster_state",
	[L4_MAP_SERVICE_STATS] = "kmesh_service_stats",
	[L4_MAP_CLUSTER_STATS] = "kmesh_cluster_stats",
	[L4_MAP_ENDPOINT_STATS] = "kmesh_endpoint_stats",
	[L4_MAP_GLOBAL] = "kmesh_l4_global",
	[L4_MAP_IDS] = "kmesh_l4_ids",
	[L4_MAP_SK_STATE] = "kmesh_sk_state",
	[L4_MAP_SOCKHASH] = "kmesh_sockhash",
	[L4_MAP_LOCAL_SOCKS] = "kmesh_local_socks",
	[L4_MAP_ACCESS_LOG] = "kmesh_access_log",
	[L4_MAP_OUTLIER] = "kmesh_outlier",
};

static const char *const prog_names[L4_NR_PROGS] = {
	[L4_PROG_CONNECT4] = "kmesh_connect4",
	[L4_PROG_CONNECT6] = "kmesh_connect6",
	[L4_PROG_GETPEERNAME4] = "kmesh_getpeername4",
	[L4_PROG_GETPEERNAME6] = "kmesh_getpeername6",
	[L4_PROG_SOCKOPS] = "kmesh_sockops",
	[L4_PROG_SK_MSG] = KMESH_SK_MSG_PROG,
};

/*
 * Attach order for `up`: sk_msg before sockops (a socket filed in the
 * sockhash takes the programs attached at that moment), sockops before
 * the connect hooks (every rewritten connect is then accounted).
 */
static const enum l4_prog attach_order[L4_NR_PROGS] = {
	L4_PROG_SK_MSG, L4_PROG_SOCKOPS, L4_PROG_GETPEERNAME4,
	L4_PROG_GETPEERNAME6, L4_PROG_CONNECT4, L4_PROG_CONNECT6,
};

static const char *const subdirs[] = { "maps", "progs", "links" };

const char *l4_map_name(enum l4_map map)
{
	return map < L4_NR_MAPS ? map_names[map] : "?";
}

const char *l4_prog_name(enum l4_prog prog)
{
	return prog < L4_NR_PROGS ? prog_names[prog] : "?";
}

int l4_default_cgroup(char *buf, size_t size)
{
	char dev[256], dir[4096], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]\n", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, size, "%s", dir);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* ---- pinned state ---- */

bool l4_is_up(void)
{
	char path[512];

	kmesh_pin_path(path, sizeof(path), "maps", map_names[L4_MAP_GENERATION]);
	return access(path, F_OK) == 0;
}

int l4_open(struct l4_handle *h, char *err, size_t err_size)
{
	char path[512];
	int i;

	for (i = 0; i < L4_NR_MAPS; i++)
		h->fd[i] = -1;
	if (!l4_is_up()) {
		/* The pin directory is root's (0700): say so, not "not up". */
		if (errno == EACCES || errno == EPERM) {
			int e = errno;

			snprintf(err, err_size, "%s: %s (kmeshctl needs root with CAP_NET_ADMIN)",
				 kmesh_pin_dir(), strerror(e));
			return -e;
		}
		snprintf(err, err_size, "kmesh is not up (nothing pinned under %s): run kmeshctl up",
			 kmesh_pin_dir());
		return -ENOENT;
	}
	for (i = 0; i < L4_NR_MAPS; i++) {
		kmesh_pin_path(path, sizeof(path), "maps", map_names[i]);
		h->fd[i] = bpf_obj_get(path);
		if (h->fd[i] < 0) {
			int e = -errno;

			snprintf(err, err_size, "%s: %s (run kmeshctl up to repair)",
				 path, strerror(-e));
			l4_close(h);
			return e;
		}
	}
	return 0;
}

void l4_close(struct l4_handle *h)
{
	int i;

	for (i = 0; i < L4_NR_MAPS; i++) {
		if (h->fd[i] >= 0)
			close(h->fd[i]);
		h->fd[i] = -1;
	}
}

/* Applies and ups exclude each other: flock on the pin directory. */
static int lock_pins(char *err, size_t err_size)
{
	int fd = open(kmesh_pin_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, err_size, "%s: %s", kmesh_pin_dir(), strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX)) {
		snprintf(err, err_size, "lock %s: %s", kmesh_pin_dir(), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int make_dirs(char *err, size_t err_size)
{
	char path[512], parent[512], *slash;
	struct statfs st;
	size_t i;

	snprintf(parent, sizeof(parent), "%s", kmesh_pin_dir());
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (statfs(parent, &st) || st.f_type != BPF_FS_MAGIC) {
		snprintf(err, err_size, "%s is not a BPF filesystem (mount -t bpf bpf %s)",
			 parent, parent);
		return -1;
	}
	if (mkdir(kmesh_pin_dir(), 0700) && errno != EEXIST)
		goto fail;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", kmesh_pin_dir(), subdirs[i]);
		if (mkdir(path, 0700) && errno != EEXIST)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, err_size, "mkdir under %s: %s", kmesh_pin_dir(), strerror(errno));
	return -1;
}

/* ---- up ---- */

/*
 * The mode (mode.h) picks the variants: in kfunc mode the _l7 connect
 * programs (routing HTTP services on their first request) and the _l7
 * sk_msg program stand in for the plain ones, under the same pin and link
 * names.
 */
static struct bpf_program *find_prog(struct kmesh_bpf *skel, enum l4_prog p,
				     bool l7)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%s", prog_names[p], l7 ? "_l7" : "");
	return bpf_object__find_program_by_name(skel->obj, name);
}

static bool has_l7_variant(enum l4_prog p)
{
	return p == L4_PROG_CONNECT4 || p == L4_PROG_CONNECT6;
}

static bool uses_kfunc_variant(const struct kmesh_mode *mode, enum l4_prog p)
{
	/* sockops frees the HTTP/2 state the kfunc sk_msg makes */
	if (p == L4_PROG_SK_MSG || p == L4_PROG_SOCKOPS)
		return mode->kfunc_msg;
	return mode->kfunc_connect && has_l7_variant(p);
}

static struct bpf_program *skel_prog(struct kmesh_bpf *skel,
				     const struct kmesh_mode *mode, enum l4_prog p)
{
	return find_prog(skel, p, uses_kfunc_variant(mode, p));
}

/* Load only the variant that will be attached. */
static void select_variants(struct kmesh_bpf *skel, const struct kmesh_mode *mode)
{
	int p;

	for (p = 0; p < L4_NR_PROGS; p++) {
		bool kfunc = uses_kfunc_variant(mode, p);

		if (p != L4_PROG_SK_MSG && p != L4_PROG_SOCKOPS &&
		    !has_l7_variant(p))
			continue;
		bpf_program__set_autoload(find_prog(skel, p, false), !kfunc);
		bpf_program__set_autoload(find_prog(skel, p, true), kfunc);
	}
}

static int cgroup_id_of(int cg_fd, __u64 *id)
{
	struct stat st;

	/* On cgroup2 a cgroup's id is its directory's inode number. */
	if (fstat(cg_fd, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

int l4_link_info(enum l4_prog prog, struct l4_link_info *info)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	char path[512];
	int fd;

	memset(info, 0, sizeof(*info));
	if (prog == L4_PROG_SK_MSG)
		return -EINVAL;
	kmesh_pin_path(path, sizeof(path), "links", prog_names[prog]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &li, &len)) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	info->attached = true;
	info->prog_id = li.prog_id;
	info->link_id = li.id;
	info->cgroup_id = li.cgroup.cgroup_id;
	return 0;
}

/*
 * Attach one cgroup program: through its pinned link when there is one
 * (replacing the program in place, no gap), else with a new pinned link.
 */
static int attach_cgroup_prog(struct bpf_program *prog, enum l4_prog p,
			      int cg_fd, __u64 cg_id, char *err, size_t err_size)
{
	struct l4_link_info info;
	struct bpf_link *link;
	char path[512];
	int fd, rc;

	kmesh_pin_path(path, sizeof(path), "links", prog_names[p]);
	if (!l4_link_info(p, &info)) {
		if (info.cgroup_id != cg_id) {
			snprintf(err, err_size,
				 "kmesh is up on another cgroup (id %llu): run kmeshctl down first",
				 (unsigned long long)info.cgroup_id);
			return -EEXIST;
		}
		fd = bpf_obj_get(path);
		if (fd < 0)
			goto fail;
		rc = bpf_link_update(fd, bpf_program__fd(prog), NULL);
		close(fd);
		if (rc)
			goto fail;
		return 0;
	}
	link = bpf_program__attach_cgroup(prog, cg_fd);
	if (!link)
		goto fail;
	rc = bpf_link__pin(link, path);
	bpf_link__destroy(link);	/* the pin keeps it attached */
	if (rc) {
		errno = -rc;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, err_size, "attach %s: %s", prog_names[p], strerror(errno));
	return -1;
}

static int pin_prog(struct bpf_program *prog, enum l4_prog p, char *err,
		    size_t err_size)
{
	char path[512];
	int rc;

	kmesh_pin_path(path, sizeof(path), "progs", prog_names[p]);
	unlink(path);	/* an adopted state's older program */
	rc = bpf_program__pin(prog, path);
	if (rc) {
		snprintf(err, err_size, "pin %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/*
 * Pinned state outlives the kmeshctl that wrote it (upgrades, systemctl
 * restart): adopt or update it only when it was written with our map
 * layouts. A kmeshctl older than maps_abi wrote 0, which was map ABI 1.
 */
static int check_pinned_abi(const struct kmesh_l4_generation *g, char *err,
			    size_t err_size)
{
	__u32 abi = g->maps_abi ? g->maps_abi : 1;

	if (!g->generation || abi == KMESH_MAPS_ABI_VERSION)
		return 0;
	snprintf(err, err_size,
		 "the data plane pinned under %s was written by a kmeshctl of map ABI %u, this one speaks %u: run kmeshctl down, then kmeshctl up (traffic is not meshed in between)",
		 kmesh_pin_dir(), abi, KMESH_MAPS_ABI_VERSION);
	return -1;
}

static int check_adopted_abi(char *err, size_t err_size)
{
	struct kmesh_l4_generation g;
	struct l4_handle h;
	int rc;

	if (l4_open(&h, err, err_size))
		return -1;
	rc = l4_read_generation(&h, &g);
	if (rc)
		snprintf(err, err_size, "read pinned state: %s", strerror(-rc));
	else
		rc = check_pinned_abi(&g, err, err_size);
	l4_close(&h);
	return rc ? -1 : 0;
}

int l4_up(const char *cgroup, bool *adopted, char *err, size_t err_size)
{
	struct kmesh_bpf *skel = NULL;
	struct kmesh_mode mode;
	bool hook;
	struct bpf_map *map;
	int lock_fd, cg_fd = -1, rc = -1, i;
	char path[512];
	__u64 cg_id = 0;

	*adopted = false;
	if (make_dirs(err, err_size))
		return -1;
	lock_fd = lock_pins(err, err_size);
	if (lock_fd < 0)
		return -1;
	*adopted = l4_is_up();
	if (kmesh_module_abi_check(err, err_size) ||
	    (*adopted && check_adopted_abi(err, err_size)))
		goto out;
	cg_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0 || cgroup_id_of(cg_fd, &cg_id)) {
		snprintf(err, err_size, "cgroup %s: %s", cgroup, strerror(errno));
		goto out;
	}
	{
		struct statfs cst;

		/* A cgroup v1 directory or any other one: attach would fail with EBADF. */
		if (fstatfs(cg_fd, &cst) || cst.f_type != CGROUP2_SUPER_MAGIC) {
			snprintf(err, err_size,
				 "%s is not a cgroup2 directory (cgroup v1 or another filesystem): pass one under the cgroup2 mount (grep cgroup2 /proc/mounts)",
				 cgroup);
			goto out;
		}
	}
	/* Refuse another cgroup before touching anything. */
	for (i = 0; i < L4_NR_PROGS; i++) {
		struct l4_link_info info;

		if (i != L4_PROG_SK_MSG && !l4_link_info(i, &info) &&
		    info.cgroup_id != cg_id) {
			snprintf(err, err_size,
				 "kmesh is up on another cgroup (id %llu): run kmeshctl down first",
				 (unsigned long long)info.cgroup_id);
			goto out;
		}
	}
	kmesh_mode_decide(&mode);
	/*
	 * The accept hook (an fexit program) only where the module is; a
	 * kernel without BPF trampolines (no ftrace) refuses to load it:
	 * then once more without it (kmeshctl status says so).
	 */
	for (hook = kmesh_module_present();; hook = false) {
		skel = kmesh_bpf__open();
		if (!skel) {
			snprintf(err, err_size, "open BPF object: %s", strerror(errno));
			goto out;
		}
		select_variants(skel, &mode);
		inbound_select(skel->obj, hook, mode.kfunc_msg);
		/* the module takes accepted sockets: by the accept hook, or
		 * by the listener (the door's kfunc variant) */
		skel->rodata->kmesh_in_early_parsed = hook || mode.kfunc_msg;
		/* Pinned maps are reused as they are: counters, sockets, config. */
		bpf_object__for_each_map(map, skel->obj) {
			/* .rodata & co. are the programs' own (bpffs refuses the dot) */
			if (bpf_map__is_internal(map))
				continue;
			kmesh_pin_path(path, sizeof(path), "maps", bpf_map__name(map));
			bpf_map__set_pin_path(map, path);
		}
		rc = kmesh_bpf__load(skel);
		if (!rc || !hook)
			break;
		kmesh_bpf__destroy(skel);
		skel = NULL;
	}
	if (rc) {
		snprintf(err, err_size, "load BPF programs: %s%s", strerror(-rc),
			 *adopted ? " (pinned maps from an incompatible kmeshctl? run kmeshctl down)" : "");
		rc = -1;
		goto out;
	}
	rc = -1;
	/* the receive check first: sockops files sockets into its sockhash */
	if (inbound_attach(skel->obj, cg_fd, err, err_size))
		goto out;
	for (i = 0; i < L4_NR_PROGS; i++) {
		enum l4_prog p = attach_order[i];
		struct bpf_program *prog = skel_prog(skel, &mode, p);

		if (p == L4_PROG_SK_MSG) {
			/* Replaces an adopted state's program for new sockets. */
			if (bpf_prog_attach(bpf_program__fd(prog),
					    bpf_map__fd(skel->maps.kmesh_sockhash),
					    BPF_SK_MSG_VERDICT, 0)) {
				snprintf(err, err_size, "attach %s: %s",
					 prog_names[p], strerror(errno));
				goto out;
			}
		} else if (attach_cgroup_prog(prog, p, cg_fd, cg_id, err, err_size)) {
			goto out;
		}
		if (pin_prog(prog, p, err, err_size))
			goto out;
	}
	rc = 0;
out:
	kmesh_bpf__destroy(skel);
	if (cg_fd >= 0)
		close(cg_fd);
	close(lock_fd);
	return rc;
}

/* ---- down ---- */

static int remove_tree(char *err, size_t err_size)
{
	char path[768];
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char dir[256];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s", kmesh_pin_dir(), subdirs[i]);
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (unlink(path) && !rc) {
				snprintf(err, err_size, "unlink %s: %s", path, strerror(errno));
				rc = -1;
			}
		}
		closedir(d);
		rmdir(dir);
	}
	if (rmdir(kmesh_pin_dir()) && errno != ENOENT && !rc) {
		snprintf(err, err_size, "rmdir %s: %s", kmesh_pin_dir(), strerror(errno));
		rc = -1;
	}
	return rc;
}

int l4_down(bool *was_up, char *err, size_t err_size)
{
	char path[512];
	int i, fd, prog_fd, map_fd, rc = 0;

	*was_up = access(kmesh_pin_dir(), F_OK) == 0;
	if (!*was_up)
		return 0;
	/* Refuse before touching anything, rather than half-way through. */
	if (access(kmesh_pin_dir(), R_OK | W_OK | X_OK)) {
		int e = errno;

		snprintf(err, err_size, "%s: %s (kmeshctl needs root with CAP_NET_ADMIN)",
			 kmesh_pin_dir(), strerror(e));
		return -e;
	}
	/* Connect hooks first, so no new connection is half-handled. */
	for (i = L4_NR_PROGS - 1; i >= 0; i--) {
		enum l4_prog p = attach_order[i];

		if (p == L4_PROG_SK_MSG)
			continue;
		kmesh_pin_path(path, sizeof(path), "links", prog_names[p]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (bpf_link_detach(fd) && errno != ENOLINK && !rc) {
			snprintf(err, err_size, "detach %s: %s", prog_names[p],
				 strerror(errno));
			rc = -1;
		}
		close(fd);
	}
	kmesh_pin_path(path, sizeof(path), "progs", prog_names[L4_PROG_SK_MSG]);
	prog_fd = bpf_obj_get(path);
	kmesh_pin_path(path, sizeof(path), "maps", map_names[L4_MAP_SOCKHASH]);
	map_fd = bpf_obj_get(path);
	if (prog_fd >= 0 && map_fd >= 0)
		bpf_prog_detach2(prog_fd, map_fd, BPF_SK_MSG_VERDICT);
	inbound_detach();
	if (prog_fd >= 0)
		close(prog_fd);
	if (map_fd >= 0)
		close(map_fd);
	if (remove_tree(err, err_size))
		rc = -1;
	return rc;
}

/* ---- reading ---- */

int l4_read_generation(struct l4_handle *h, struct kmesh_l4_generation *g)
{
	__u32 zero = 0;

	memset(g, 0, sizeof(*g));
	return bpf_map_lookup_elem(h->fd[L4_MAP_GENERATION], &zero, g) ? -errno : 0;
}

int l4_read_registry(struct l4_handle *h, struct l4_id_entry **v, size_t *n)
{
	const size_t max = KMESH_L4_MAX_SERVICES + KMESH_L4_MAX_CLUSTERS +
			   KMESH_L4_MAX_ENDPOINTS;
	struct kmesh_l4_id_key *keys = calloc(max, sizeof(*keys));
	struct kmesh_l4_id *vals = calloc(max, sizeof(*vals));
	struct l4_id_entry *arr = calloc(max, sizeof(*arr));
	__u32 batch = 0, count;
	size_t cnt = 0, i;
	int rc = -ENOMEM;

	*v = NULL;
	*n = 0;
	if (!keys || !vals || !arr)
		goto out;
	/* In batches: thousands of lookups would be thousands of calls. */
	for (;;) {
		count = (__u32)(max - cnt);
		rc = bpf_map_lookup_batch(h->fd[L4_MAP_IDS], cnt ? &batch : NULL,
					  &batch, keys + cnt, vals + cnt, &count,
					  NULL);
		cnt += count;
		if (rc || cnt == max)
			break;
	}
	if (rc && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		arr[i].key = keys[i];
		arr[i].val = vals[i];
	}
	*v = arr;
	*n = cnt;
	arr = NULL;
	rc = 0;
out:
	free(keys);
	free(vals);
	free(arr);
	return rc;
}

const char *l4_id_name(const struct l4_id_entry *v, size_t n, __u32 kind,
		       __u32 id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].key.kind == kind && v[i].val.id == id)
			return v[i].key.name;
	return NULL;
}

static int stats_map(__u32 kind)
{
	switch (kind) {
	case KMESH_L4_KIND_SERVICE:
		return L4_MAP_SERVICE_STATS;
	case KMESH_L4_KIND_CLUSTER:
		return L4_MAP_CLUSTER_STATS;
	default:
		return L4_MAP_ENDPOINT_STATS;
	}
}

int l4_read_stats(struct l4_handle *h, __u32 kind, __u32 id,
		  struct kmesh_l4_stats *out)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct kmesh_l4_stats *per;
	__u64 *dst = (__u64 *)out;
	size_t f;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (!bpf_map_lookup_elem(h->fd[stats_map(kind)], &id, per)) {
		for (c = 0; c < ncpu; c++) {
			const __u64 *src = (const __u64 *)&per[c];

			for (f = 0; f < sizeof(*out) / sizeof(__u64); f++)
				dst[f] += src[f];
		}
	}
	free(per);
	return 0;
}

int l4_read_global(struct l4_handle *h, __u64 out[KMESH_L4_G_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), c;
	__u32 i;
	__u64 *per;

	memset(out, 0, sizeof(__u64) * KMESH_L4_G_MAX);
	if (ncpu <= 0)
		return -EINVAL;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (i = 0; i < KMESH_L4_G_MAX; i++) {
		if (bpf_map_lookup_elem(h->fd[L4_MAP_GLOBAL], &i, per))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += per[c];
	}
	free(per);
	return 0;
}

bool l4_endpoint_ejected(struct l4_handle *h, __u32 id)
{
	struct kmesh_outlier_state o;
	struct timespec now;

	/* the BPF side's clock: bpf_ktime_get_ns() */
	if (bpf_map_lookup_elem(h->fd[L4_MAP_OUTLIER], &id, &o) ||
	    clock_gettime(CLOCK_MONOTONIC, &now))
		return false;
	return (__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec <
	       o.ejected_until;
}

int l4_read_rate_limit(__u32 service_id, __u32 kind, __u32 route_id,
		       struct kmesh_rl_stats *out)
{
	struct kmesh_rl_stats_key key = {
		.service_id = service_id, .kind = kind, .route_id = route_id,
	};
	struct kmesh_rl_stats *per;
	int ncpu, fd, c, rc;
	void *buf;

	memset(out, 0, sizeof(*out));
	rc = kmesh_percpu_open("kmesh_rl_stats", sizeof(*per), &fd, &buf, &ncpu);
	if (rc)
		return rc;
	per = buf;
	if (bpf_map_lookup_elem(fd, &key, per)) {
		rc = -errno;
	} else {
		for (c = 0; c < ncpu; c++) {
			out->passed += per[c].passed;
			out->limited += per[c].limited;
		}
	}
	free(per);
	close(fd);
	return rc;
}

static int cmp_rl_key(const void *a, const void *b)
{
	const struct kmesh_rl_stats_key *x = a, *y = b;

	if (x->service_id != y->service_id)
		return x->service_id < y->service_id ? -1 : 1;
	return x->route_id < y->route_id ? -1 : x->route_id > y->route_id;
}

int l4_list_route_limits(struct kmesh_rl_stats_key **v, size_t *n)
{
	struct kmesh_rl_stats_key key, next, *out = NULL, *grown;
	size_t nr = 0;
	int fd, rc = 0;
	void *prev = NULL;

	*v = NULL;
	*n = 0;
	fd = kmesh_map_fd("kmesh_rl_stats");
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (next.kind != KMESH_RL_ROUTE_REQUESTS)
			continue;
		grown = realloc(out, (nr + 1) * sizeof(*out));
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		out = grown;
		out[nr++] = next;
	}
	close(fd);
	if (rc) {
		free(out);
		return rc;
	}
	if (nr)
		qsort(out, nr, sizeof(*out), cmp_rl_key);
	*v = out;
	*n = nr;
	return 0;
}

int l4_read_cluster_state(struct l4_handle *h, __u32 id,
			  struct kmesh_cluster_state *out)
{
	memset(out, 0, sizeof(*out));
	return bpf_map_lookup_elem(h->fd[L4_MAP_CLUSTER_STATE], &id, out) ?
	       -errno : 0;
}

/* The inner map of @outer in @slot, or -1 when the slot is empty. */
static int inner_fd(int outer, __u32 slot)
{
	__u32 id;

	if (bpf_map_lookup_elem(outer, &slot, &id))
		return -1;
	return bpf_map_get_fd_by_id(id);
}

static int cmp_vip(const void *a, const void *b)
{
	const struct l4_vip *x = a, *y = b;

	if (x->val.service_id != y->val.service_id)
		return x->val.service_id < y->val.service_id ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int cmp_cluster(const void *a, const void *b)
{
	const struct kmesh_cluster *x = a, *y = b;

	return x->cluster_id < y->cluster_id ? -1 : x->cluster_id > y->cluster_id;
}

static int cmp_ep(const void *a, const void *b)
{
	const struct l4_ep *x = a, *y = b;

	if (x->key.cluster_id != y->key.cluster_id)
		return x->key.cluster_id < y->key.cluster_id ? -1 : 1;
	return x->key.index < y->key.index ? -1 : x->key.index > y->key.index;
}

/* Every entry of a hash map into a growing array of key+value records. */
static int dump_hash(int fd, size_t ksz, size_t vsz, size_t rec, size_t voff,
		     void **out, size_t *n)
{
	char key[256], next[256];
	size_t cnt = 0, cap = 0;
	char *arr = NULL, *na;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			na = realloc(arr, cap * rec);
			if (!na) {
				free(arr);
				return -ENOMEM;
			}
			arr = na;
		}
		memset(arr + cnt * rec, 0, rec);
		memcpy(arr + cnt * rec, next, ksz);
		if (!bpf_map_lookup_elem(fd, next, arr + cnt * rec + voff))
			cnt++;
		memcpy(key, next, ksz);
		prev = key;
	}
	(void)vsz;
	*out = arr;
	*n = cnt;
	return 0;
}

int l4_read_active(struct l4_handle *h, struct l4_gen *gen)
{
	struct kmesh_l4_generation g;
	int fd[4] = { -1, -1, -1, -1 }, rc = -ENOENT, i;
	void *arr;
	size_t n;

	memset(gen, 0, sizeof(*gen));
	if (l4_read_generation(h, &g))
		return -errno;
	gen->generation = g.generation;
	if (l4_read_registry(h, &gen->ids, &gen->nr_ids))
		return -ENOMEM;
	if (!g.generation)
		return 0;
	for (i = 0; i < 4; i++) {
		fd[i] = inner_fd(h->fd[L4_MAP_SERVICES + i], g.slot);
		if (fd[i] < 0)
			goto out;
	}
	rc = -ENOMEM;
	if (dump_hash(fd[0], sizeof(struct kmesh_service_key),
		      sizeof(struct kmesh_service), sizeof(struct l4_vip),
		      offsetof(struct l4_vip, val), &arr, &n))
		goto out;
	gen->vips = arr;
	gen->nr_vips = n;
	qsort(gen->vips, n, sizeof(*gen->vips), cmp_vip);

	{
		struct cl_rec { __u32 key; struct kmesh_cluster val; } *cr;

		if (dump_hash(fd[1], sizeof(__u32), sizeof(struct kmesh_cluster),
			      sizeof(*cr), offsetof(struct cl_rec, val), &arr, &n))
			goto out;
		cr = arr;
		gen->clusters = calloc(n + 1, sizeof(*gen->clusters));
		if (!gen->clusters) {
			free(cr);
			goto out;
		}
		for (i = 0; i < (int)n; i++)
			gen->clusters[i] = cr[i].val;
		gen->nr_clusters = n;
		free(cr);
		qsort(gen->clusters, n, sizeof(*gen->clusters), cmp_cluster);
	}
	if (dump_hash(fd[2], sizeof(struct kmesh_endpoint_key),
		      sizeof(struct kmesh_endpoint), sizeof(struct l4_ep),
		      offsetof(struct l4_ep, val), &arr, &n))
		goto out;
	gen->eps = arr;
	gen->nr_eps = n;
	qsort(gen->eps, n, sizeof(*gen->eps), cmp_ep);

	{
		__u32 key, next;
		void *prev = NULL;

		gen->maglev = calloc(gen->nr_clusters + 1, sizeof(*gen->maglev));
		if (!gen->maglev)
			goto out;
		while (!bpf_map_get_next_key(fd[3], prev, &next) &&
		       gen->nr_maglev < gen->nr_clusters) {
			struct l4_maglev *m = &gen->maglev[gen->nr_maglev];

			m->table = malloc(sizeof(*m->table));
			if (!m->table)
				goto out;
			m->cluster_id = next;
			if (!bpf_map_lookup_elem(fd[3], &next, m->table))
				gen->nr_maglev++;
			else
				free(m->table);
			key = next;
			prev = &key;
		}
	}
	rc = 0;
out:
	for (i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (rc)
		l4_gen_free(gen);
	return rc;
}

/* ---- apply ---- */

/* Shapes of the L4 inner maps, in the order of their outer maps. */
static const struct gen_map_spec l4_inner[L4_NR_GEN_MAPS] = {
	{ BPF_MAP_TYPE_HASH, "kmesh_svc_gen", sizeof(struct kmesh_service_key),
	  sizeof(struct kmesh_service), KMESH_L4_MAX_VIPS },
	{ BPF_MAP_TYPE_HASH, "kmesh_clu_gen", sizeof(__u32),
	  sizeof(struct kmesh_cluster), KMESH_L4_MAX_CLUSTERS },
	{ BPF_MAP_TYPE_HASH, "kmesh_ep_gen", sizeof(struct kmesh_endpoint_key),
	  sizeof(struct kmesh_endpoint), KMESH_L4_MAX_ENDPOINTS },
	{ BPF_MAP_TYPE_HASH, "kmesh_mag_gen", sizeof(__u32),
	  sizeof(struct kmesh_maglev), KMESH_L4_MAX_MAGLEV_CLUSTERS },
};

/* Fill @slot's inner maps (gen_maps.h) with generation @gen; with @img
 * (the slot's images), only what differs from them. */
static int fill_inner(struct l4_handle *h, const struct l4_gen *gen,
		      __u32 slot, int fd[L4_NR_GEN_MAPS],
		      bool fresh[L4_NR_GEN_MAPS], struct gen_map_image *img,
		      char *err, size_t err_size)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < L4_NR_GEN_MAPS && !rc; i++) {
		fd[i] = img ? gen_map_take_image(h->fd[L4_MAP_SERVICES + i], slot,
						 &l4_inner[i], &fresh[i], &img[i]) :
			      gen_map_take(h->fd[L4_MAP_SERVICES + i], slot,
					   &l4_inner[i], &fresh[i]);
		if (fd[i] < 0)
			rc = fd[i];
	}
	if (!rc)
		rc = gen_map_sync(fd[0], img ? &img[L4_SLOT_SERVICES] : NULL, false,
				  gen->vips, gen->nr_vips, sizeof(*gen->vips),
				  offsetof(struct l4_vip, key), l4_inner[0].key_size,
				  offsetof(struct l4_vip, val), l4_inner[0].value_size);
	if (!rc)
		rc = gen_map_sync(fd[1], img ? &img[L4_SLOT_CLUSTERS] : NULL, false,
				  gen->clusters, gen->nr_clusters,
				  sizeof(*gen->clusters),
				  offsetof(struct kmesh_cluster, cluster_id),
				  l4_inner[1].key_size, 0, l4_inner[1].value_size);
	if (!rc)
		rc = gen_map_sync(fd[2], img ? &img[L4_SLOT_ENDPOINTS] : NULL, false,
				  gen->eps, gen->nr_eps, sizeof(*gen->eps),
				  offsetof(struct l4_ep, key), l4_inner[2].key_size,
				  offsetof(struct l4_ep, val), l4_inner[2].value_size);
	if (!rc && img) {
		/* The tables as records for the image: few, 32 KB each. */
		__u32 *keys = malloc((gen->nr_maglev + 1) * sizeof(*keys));
		struct kmesh_maglev *vals = malloc((gen->nr_maglev + 1) * sizeof(*vals));

		rc = keys && vals ? 0 : -ENOMEM;
		for (i = 0; i < gen->nr_maglev && !rc; i++) {
			keys[i] = gen->maglev[i].cluster_id;
			vals[i] = *gen->maglev[i].table;
		}
		if (!rc)
			rc = gen_map_sync_arrays(fd[3], &img[L4_SLOT_MAGLEV], false, keys,
						 vals, gen->nr_maglev, sizeof(*keys),
						 sizeof(*vals));
		else
			gen_map_image_reset(&img[L4_SLOT_MAGLEV]);
		free(keys);
		free(vals);
	}
	/* Maglev tables are 32 KB each and few: one call per table. */
	for (i = 0; i < gen->nr_maglev && !rc && !img; i++)
		if (bpf_map_update_elem(fd[3], &gen->maglev[i].cluster_id,
					gen->maglev[i].table, BPF_NOEXIST))
			rc = -errno;
	if (rc)
		snprintf(err, err_size, "build generation %llu maps: %s",
			 (unsigned long long)gen->generation, strerror(-rc));
	return rc ? -1 : 0;
}

/*
 * The registry as @gen leaves it: l4_build() started from @t's copy of
 * the pinned one (read under the lock), in its order, and changed entries
 * only where it gave an id: those and the new ones are written.
 */
static int write_registry(const struct l4_txn *t, const struct l4_gen *gen)
{
	struct l4_id_entry *changed = malloc((gen->nr_ids + 1) * sizeof(*changed));
	size_t i, n = 0;
	int e;

	if (!changed)
		return -ENOMEM;
	for (i = 0; i < gen->nr_ids; i++)
		if (i >= t->nr_reg || memcmp(&gen->ids[i], &t->reg[i], sizeof(gen->ids[i])))
			changed[n++] = gen->ids[i];
	e = gen_map_fill(t->h.fd[L4_MAP_IDS], changed, n, sizeof(*changed),
			 offsetof(struct l4_id_entry, key),
			 sizeof(struct kmesh_l4_id_key),
			 offsetof(struct l4_id_entry, val), sizeof(struct kmesh_l4_id));
	free(changed);
	return e;
}

/* Ids handed to new objects start from zero counters and state. */
static void reset_fresh(struct l4_handle *h, const struct l4_gen *gen)
{
	struct kmesh_outlier_state in_service = {};
	struct kmesh_cluster_state zero = {};
	size_t i;

	for (i = 0; i < gen->nr_evicted; i++)
		bpf_map_delete_elem(h->fd[L4_MAP_IDS], &gen->evicted[i].key);
	for (i = 0; i < gen->nr_fresh; i++) {
		__u32 kind = gen->fresh[i].key.kind, id = gen->fresh[i].val.id;

		bpf_map_delete_elem(h->fd[stats_map(kind)], &id);
		if (kind == KMESH_L4_KIND_CLUSTER)
			bpf_map_update_elem(h->fd[L4_MAP_CLUSTER_STATE], &id,
					    &zero, BPF_ANY);
		if (kind == KMESH_L4_KIND_ENDPOINT)
			bpf_map_update_elem(h->fd[L4_MAP_OUTLIER], &id,
					    &in_service, BPF_ANY);
	}
}

static bool cache_usable(const struct l4_install_cache *c,
			 const struct l4_txn *t, int stamp_fd, __u32 slot);

int l4_txn_begin(struct l4_txn *t, char *err, size_t err_size)
{
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	if (l4_open(&t->h, err, err_size))
		return -1;
	t->lock_fd = lock_pins(err, err_size);
	if (t->lock_fd < 0)
		goto fail;
	if (l4_read_generation(&t->h, &t->cur)) {
		snprintf(err, err_size, "read pinned state: %s", strerror(errno));
		goto fail;
	}
	if (check_pinned_abi(&t->cur, err, err_size) ||
	    kmesh_module_abi_check(err, err_size))
		goto fail;
	t->next.generation = t->cur.generation + 1;
	t->next.slot = (t->cur.slot + 1) % KMESH_L4_SLOTS;
	t->next.maps_abi = KMESH_MAPS_ABI_VERSION;
	return 0;
fail:
	l4_txn_end(t);
	return -1;
}

int l4_txn_read_registry(struct l4_txn *t, const struct l4_install_cache *cache,
			 const struct l4_gen *last, char *err, size_t err_size)
{
	int stamp_fd, rc;

	if (cache && last && last->nr_ids) {
		stamp_fd = gen_slot_fill_open();
		if (stamp_fd >= 0 && cache_usable(cache, t, stamp_fd, t->next.slot)) {
			close(stamp_fd);
			t->reg = malloc(last->nr_ids * sizeof(*t->reg));
			if (!t->reg) {
				snprintf(err, err_size, "out of memory");
				return -1;
			}
			memcpy(t->reg, last->ids, last->nr_ids * sizeof(*t->reg));
			t->nr_reg = last->nr_ids;
			t->reg_from_cache = true;
			return 0;
		}
		if (stamp_fd >= 0)
			close(stamp_fd);
	}
	rc = l4_read_registry(&t->h, &t->reg, &t->nr_reg);
	if (rc) {
		snprintf(err, err_size, "read pinned state: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

void l4_txn_end(struct l4_txn *t)
{
	free(t->reg);
	t->reg = NULL;
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	t->lock_fd = -1;
	l4_close(&t->h);
}

void l4_install_cache_free(struct l4_install_cache *c)
{
	size_t s, m;

	for (s = 0; s < KMESH_L4_SLOTS; s++)
		for (m = 0; m < L4_NR_SLOT_MAPS; m++)
			gen_map_image_reset(&c->map[s][m]);
	gen_map_image_reset(&c->names);
	memset(c, 0, sizeof(*c));
}

/* Forget what @c knew of @slot (and of the names every slot shares). */
static void cache_forget(struct l4_install_cache *c, __u32 slot)
{
	size_t m;

	for (m = 0; m < L4_NR_SLOT_MAPS; m++)
		gen_map_image_reset(&c->map[slot][m]);
	gen_map_image_reset(&c->names);
	c->filled[slot] = 0;
	c->incremental = false;
}

/*
 * May the install into @slot write differences only? When this process
 * switched to the live generation (no apply succeeded since) and the
 * slot's fill stamp (gen_maps.h) still names the generation this process
 * filled it with (no install started there since, which would have
 * reset it first).
 */
static bool cache_usable(const struct l4_install_cache *c,
			 const struct l4_txn *t, int stamp_fd, __u32 slot)
{
	__u64 stamp;

	return c->switched && t->cur.generation == c->switched &&
	       c->filled[slot] &&
	       !gen_slot_fill_get(stamp_fd, slot, &stamp) && stamp == c->filled[slot];
}

int l4_install(struct l4_txn *t, const struct mesh_config *cfg,
	       struct l4_gen *gen, struct l7_gen *l7, int dev_fd,
	       struct l4_install_cache *cache, char *err, size_t err_size)
{
	struct l7_apply l7a = { .policy_fd = -1, .cidrs_fd = -1,
				.inbound_fd = -1 };
	int fd[L4_NR_GEN_MAPS] = { -1, -1, -1, -1 }, rc = -1, e, stamp_fd;
	bool fresh[L4_NR_GEN_MAPS] = {};
	__u32 zero = 0, slot = t->next.slot;
	struct gen_map_image *img = NULL;
	struct l7_images l7img = {};
	size_t i;

	stamp_fd = gen_slot_fill_open();
	if (cache) {
		bool usable = stamp_fd >= 0 && cache_usable(cache, t, stamp_fd, slot);

		if (!usable)
			cache_forget(cache, slot);
		cache->filled[slot] = 0;
		cache->incremental = usable;
		img = cache->map[slot];
		l7img = (struct l7_images){ &img[L4_SLOT_L7_POLICY],
					    &img[L4_SLOT_L7_CIDRS],
					    &img[L4_SLOT_INBOUND], &cache->names };
	}
	/* Every install marks the slot as being written before touching it. */
	e = stamp_fd < 0 ? stamp_fd : gen_slot_fill_set(stamp_fd, slot, 0);
	if (e) {
		snprintf(err, err_size, "maps/kmesh_slot_fill: %s", strerror(-e));
		goto out;
	}
	if (l7_fill(cfg, gen, slot, l7, dev_fd, img ? &l7img : NULL, &l7a, err,
		    err_size))
		goto out;
	stage_mark(STAGE_L7_MAPS);
	if (fill_inner(&t->h, gen, slot, fd, fresh, img, err, err_size))
		goto out;
	stage_mark(STAGE_L4_MAPS);
	/* Registry and counters are outside generations: safe before the flip. */
	e = write_registry(t, gen);
	if (e) {
		snprintf(err, err_size, "update id registry: %s", strerror(-e));
		goto out;
	}
	reset_fresh(&t->h, gen);
	stage_mark(STAGE_REGISTRY);
	/* New inner maps (a slot that had none) go in; the flip makes them live. */
	for (i = 0; i < L4_NR_GEN_MAPS; i++) {
		e = fresh[i] ? gen_map_install(t->h.fd[L4_MAP_SERVICES + i],
					       slot, fd[i]) : 0;
		if (e) {
			snprintf(err, err_size, "install generation %llu: %s",
				 (unsigned long long)t->next.generation, strerror(-e));
			goto out;
		}
	}
	if (l7_install(&l7a, slot, err, err_size))
		goto out;
	e = gen_slot_fill_set(stamp_fd, slot, t->next.generation);
	if (e) {
		snprintf(err, err_size, "maps/kmesh_slot_fill: %s", strerror(-e));
		goto out;
	}
	if (bpf_map_update_elem(t->h.fd[L4_MAP_GENERATION], &zero, &t->next,
				BPF_ANY)) {
		snprintf(err, err_size, "switch to generation %llu: %s",
			 (unsigned long long)t->next.generation, strerror(errno));
		goto out;
	}
	stage_mark(STAGE_SWITCH);
	if (cache) {
		cache->switched = t->next.generation;
		cache->filled[slot] = t->next.generation;
	}
	rc = 0;
out:
	if (rc && cache)
		cache_forget(cache, slot);
	for (i = 0; i < L4_NR_GEN_MAPS; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (stamp_fd >= 0)
		close(stamp_fd);
	l7_apply_free(&l7a);
	return rc;
}

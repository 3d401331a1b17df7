// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the operator sees from `kmeshctl status`, and kmeshctl refusing a
 * module or pinned maps of another ABI version.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "caps.h"
#include "kmesh_dev.h"
#include "kmesh_kfunc.h"
#include "kmesh_maps.h"
#include "l4_bpf.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

static void test_status(void)
{
	char out[4096], module_line[128];

	tap_begin("kmeshctl: status reports the module and the mode this kernel allows");
	if (!kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	EXPECT_EQ(run_cmd(out, sizeof(out), "kmeshctl status"), 0);
	snprintf(module_line, sizeof(module_line),
		 "kmesh module:  loaded (version 0.1.0, kfunc abi %u, dev abi %u)\n",
		 KMESH_KFUNC_ABI_VERSION, KMESH_DEV_ABI_VERSION);
	EXPECT(strstr(out, module_line));
	EXPECT(strstr(out, "  syscall          yes"));
	EXPECT(strstr(out, "  tc               yes"));
	/* the mode follows what the kernel allows (module.c checks the caps) */
	if (kfunc_common_hook()) {
		EXPECT(strstr(out, "  sk_msg           yes"));
		EXPECT(strstr(out, "l7 mode:       kfunc"));
	} else {
		EXPECT(strstr(out, "  sk_msg           no: calling kernel function bpf_kmesh_get_caps is not allowed"));
		EXPECT(strstr(out, "l7 mode:       fallback"));
	}
	if (tap_failed_now())
		tap_diag("kmeshctl status said:\n%s", out);
	tap_end();
}

/*
 * A module of another ABI, as kmeshctl reads it from sysfs: a copy of the
 * module's caps/ with other versions in it (kmesh_module_sysfs is there so
 * that tests can point it elsewhere; the real module cannot be rebuilt with
 * another version here).
 */
static int fake_module(const char *dir, unsigned int kfunc_abi,
		       unsigned int dev_abi)
{
	char path[256], val[16];

	snprintf(path, sizeof(path), "%s/caps", dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -1;
	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/version", dir);
	if (write_file(path, "0.0.9\n"))
		return -1;
	snprintf(path, sizeof(path), "%s/caps/kfunc_hooks", dir);
	if (write_file(path, "common syscall sched_cls\n"))
		return -1;
	snprintf(path, sizeof(path), "%s/caps/kfunc_abi_version", dir);
	snprintf(val, sizeof(val), "%u\n", kfunc_abi);
	if (write_file(path, val))
		return -1;
	snprintf(path, sizeof(path), "%s/caps/dev_abi_version", dir);
	snprintf(val, sizeof(val), "%u\n", dev_abi);
	return write_file(path, val);
}

static void test_module_abi(void)
{
	const char *real = kmesh_module_sysfs, *dir = "/tmp/kmesh-abi-module";
	struct kmesh_node_caps caps;
	char err[512], want[128];
	int i;

	tap_begin("kmeshctl: the loaded module speaks its ABI; one of another kfunc ABI is refused and never used for kfunc mode");
	EXPECT_EQ(kmesh_module_abi_check(err, sizeof(err)), 0);
	EXPECT_EQ(fake_module(dir, KMESH_KFUNC_ABI_VERSION - 1,
			      KMESH_DEV_ABI_VERSION), 0);
	kmesh_module_sysfs = dir;
	EXPECT_EQ(kmesh_module_abi_check(err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "kmesh module 0.0.9 speaks kfunc ABI %u and device ABI %u, this kmeshctl %u and %u:",
		 KMESH_KFUNC_ABI_VERSION - 1, KMESH_DEV_ABI_VERSION,
		 KMESH_KFUNC_ABI_VERSION, KMESH_DEV_ABI_VERSION);
	if (!EXPECT(strstr(err, want) && strstr(err, "make dkms-install")))
		tap_diag("said: %s", err);
	kmesh_caps_detect(&caps);
	EXPECT(caps.abi_mismatch[0]);
	for (i = 0; i < KMESH_PROBE_COUNT; i++) {
		EXPECT(!caps.kfunc_callable[i]);
		EXPECT(strstr(caps.refusal[i], "another ABI"));
	}
	/* another device ABI alone is refused as well */
	EXPECT_EQ(fake_module(dir, KMESH_KFUNC_ABI_VERSION,
			      KMESH_DEV_ABI_VERSION + 1), 0);
	EXPECT_EQ(kmesh_module_abi_check(err, sizeof(err)), -1);
	kmesh_module_sysfs = real;
	run_cmd(NULL, 0, "rm -rf %s", dir);
	tap_end();
}

#define ABI_MESH	"/tmp/kmesh-abi-test.yaml"
#define ABI_CGROUP	"kmesh-abi-test"

static int set_pinned_maps_abi(__u32 abi, __u64 *generation)
{
	struct kmesh_l4_generation g;
	char path[512];
	__u32 zero = 0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/maps/kmesh_generation", kmesh_pin_dir());
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	rc = bpf_map_lookup_elem(fd, &zero, &g);
	if (!rc) {
		*generation = g.generation;
		g.maps_abi = abi;
		rc = bpf_map_update_elem(fd, &zero, &g, BPF_ANY);
	}
	close(fd);
	return rc ? -errno : 0;
}

/*
 * Pinned maps another kmeshctl wrote with other layouts (an upgrade, a
 * systemctl restart): kmeshctl must neither update nor adopt them.
 */
static void test_pinned_abi(void)
{
	char root[256], home[256], cg[512], out[4096];
	__u64 gen = 0, gen_after = 0;
	int rc;

	tap_begin("kmeshctl: apply and up refuse maps pinned by a kmeshctl of another map ABI, and change nothing");
	run_cmd(NULL, 0, "kmeshctl down");
	if (!EXPECT_EQ(cgroup_home(root, sizeof(root), home, sizeof(home)), 0))
		goto out;
	snprintf(cg, sizeof(cg), "%s/%s", root, ABI_CGROUP);
	if (mkdir(cg, 0755) && errno != EEXIST)
		EXPECT_EQ(errno, 0);
	EXPECT_EQ(write_file(ABI_MESH,
			     "services:\n"
			     "  - name: abi-svc\n"
			     "    addresses: [10.96.44.1]\n"
			     "    ports: [{port: 80}]\n"
			     "    cluster: abi-c\n"
			     "clusters:\n"
			     "  - name: abi-c\n"
			     "    endpoints: [{address: 127.0.0.1, port: 19441}]\n"), 0);
	rc = run_cmd(out, sizeof(out), "kmeshctl up --cgroup %s -f %s", cg, ABI_MESH);
	if (!EXPECT_EQ(rc, 0)) {
		tap_diag("%s", out);
		goto out;
	}
	EXPECT_EQ(set_pinned_maps_abi(KMESH_MAPS_ABI_VERSION, &gen), 0);
	EXPECT(gen > 0);
	/* what an older kmeshctl leaves: ABI 1 (0 reads as 1 too) */
	EXPECT_EQ(set_pinned_maps_abi(1, &gen), 0);
	rc = run_cmd(out, sizeof(out), "kmeshctl apply -f %s", ABI_MESH);
	EXPECT(rc != 0);
	if (!EXPECT(strstr(out, "was written by a kmeshctl of map ABI 1") &&
		    strstr(out, "run kmeshctl down, then kmeshctl up")))
		tap_diag("apply said: %s", out);
	rc = run_cmd(out, sizeof(out), "kmeshctl up --cgroup %s -f %s", cg, ABI_MESH);
	EXPECT(rc != 0);
	if (!EXPECT(strstr(out, "was written by a kmeshctl of map ABI 1")))
		tap_diag("up said: %s", out);
	EXPECT_EQ(set_pinned_maps_abi(1, &gen_after), 0);
	EXPECT_EQ(gen_after, gen);	/* no generation was switched */
	/* the same state with our version is ours again */
	EXPECT_EQ(set_pinned_maps_abi(KMESH_MAPS_ABI_VERSION, &gen_after), 0);
	rc = run_cmd(out, sizeof(out), "kmeshctl apply -f %s", ABI_MESH);
	if (!EXPECT_EQ(rc, 0))
		tap_diag("%s", out);
	EXPECT_EQ(set_pinned_maps_abi(KMESH_MAPS_ABI_VERSION, &gen_after), 0);
	EXPECT_EQ(gen_after, gen + 1);
out:
	run_cmd(NULL, 0, "kmeshctl down");
	rmdir(cg);
	unlink(ABI_MESH);
	tap_end();
}

void test_kmeshctl(void)
{
	test_status();
	test_module_abi();
	test_pinned_abi();
}

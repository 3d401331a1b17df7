// SPDX-License-Identifier: GPL-2.0-only
/* Loading the module: parameters, their validation, what sysfs reports. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmesh_dev.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define PARAMS "/sys/module/kmesh/parameters/"

static void expect_param(const char *name, const char *want)
{
	char path[128], got[64] = "";

	snprintf(path, sizeof(path), PARAMS "%s", name);
	EXPECT_EQ(read_text(path, got, sizeof(got)), 0);
	EXPECT_STR_EQ(got, want);
}

static void test_defaults(void)
{
	char version[32] = "";

	tap_begin("module: modprobe kmesh loads with default parameters");
	if (kmesh_loaded())
		EXPECT_EQ(kmesh_rmmod(), 0);
	EXPECT_EQ(kmesh_modprobe(NULL), 0);
	EXPECT(kmesh_loaded());
	expect_param("max_head_bytes", "8192");
	expect_param("max_headers", "32");
	EXPECT_EQ(read_text("/sys/module/kmesh/version", version,
			    sizeof(version)), 0);
	EXPECT_STR_EQ(version, "0.1.0");
	tap_end();
}

static void test_params_applied(void)
{
	tap_begin("module: modprobe kmesh max_head_bytes=4096 max_headers=16 applies them");
	EXPECT_EQ(kmesh_rmmod(), 0);	/* parameters are read at load */
	EXPECT_EQ(kmesh_modprobe("max_head_bytes=4096 max_headers=16"), 0);
	expect_param("max_head_bytes", "4096");
	expect_param("max_headers", "16");
	EXPECT_EQ(kmesh_rmmod(), 0);
	EXPECT_EQ(kmesh_modprobe(NULL), 0);	/* as the other areas expect it */
	tap_end();
}

static void test_bad_params_refused(void)
{
	static const struct {
		const char *arg;
		const char *message;
	} bad[] = {
		{ "max_head_bytes=10", "invalid max_head_bytes=10: expected an integer in [256, 65535]" },
		{ "max_head_bytes=70000", "invalid max_head_bytes=70000" },
		{ "max_headers=0", "invalid max_headers=0: expected an integer in [1, 32]" },
		{ "max_headers=lots", "invalid max_headers=lots" },
		{ "max_headers=-1", "invalid max_headers=-1" },
	};
	char log[8192];
	size_t i;

	tap_begin("module: out-of-range and malformed parameters are refused with a message");
	/* a loaded module would make modprobe a no-op */
	EXPECT_EQ(kmesh_rmmod(), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_cmd(NULL, 0, "dmesg -c");
		EXPECT(kmesh_modprobe(bad[i].arg) != 0);
		if (!EXPECT(!kmesh_loaded()))
			kmesh_rmmod();
		run_cmd(log, sizeof(log), "dmesg");
		if (!EXPECT(strstr(log, bad[i].message)))
			tap_diag("kernel log for %s:\n%s", bad[i].arg, log);
	}
	EXPECT_EQ(kmesh_modprobe(NULL), 0);
	tap_end();
}

static int write_param(const char *name, const char *value)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	rc = write(fd, value, strlen(value)) == (ssize_t)strlen(value) ? 0 : -1;
	close(fd);
	return rc;
}

static void test_runtime_params(void)
{
	tap_begin("module: runtime parameter writes are range-checked");
	/* loaded with the defaults, whatever ran before */
	EXPECT_EQ(kmesh_rmmod(), 0);
	EXPECT_EQ(kmesh_modprobe(NULL), 0);
	EXPECT(write_param("max_headers", "100000") != 0);
	expect_param("max_headers", "32");
	EXPECT_EQ(write_param("max_headers", "8"), 0);
	expect_param("max_headers", "8");
	EXPECT_EQ(write_param("max_headers", "32"), 0);
	tap_end();
}

static void test_modinfo(void)
{
	char out[4096];

	tap_begin("module: modinfo lists the documented parameters");
	EXPECT_EQ(run_cmd(out, sizeof(out), "modinfo kmesh"), 0);
	EXPECT(strstr(out, "max_head_bytes:Largest HTTP request head"));
	EXPECT(strstr(out, "max_headers:Most header fields"));
	EXPECT(strstr(out, "connect_failover:Endpoints more a routed HTTP connection tries"));
	EXPECT(strstr(out, "license:        GPL") || strstr(out, "license=GPL") ||
	       strstr(out, "GPL"));
	tap_end();
}

/*
 * What caps/kfunc_hooks says must be what the kernel does: a kfunc call
 * from sk_msg loads exactly when "common" is listed (kfunc: sk_msg), and
 * syscall and sched_cls are always there on 6.1. The lane name, when the
 * VM gives one, is checked against the probe, never used in its place.
 */
static void test_caps_sysfs(void)
{
	const char *lane = vm_lane();
	char hooks[128] = "", kfunc_abi[16] = "", dev_abi[16] = "", want[16];
	bool common;

	tap_begin("module: caps/kfunc_hooks reports the hooks this kernel offers");
	if (!kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	EXPECT_EQ(read_text("/sys/module/kmesh/caps/kfunc_hooks", hooks,
			    sizeof(hooks)), 0);
	EXPECT_EQ(read_text("/sys/module/kmesh/caps/kfunc_abi_version",
			    kfunc_abi, sizeof(kfunc_abi)), 0);
	snprintf(want, sizeof(want), "%u", KMESH_KFUNC_ABI_VERSION);
	EXPECT_STR_EQ(kfunc_abi, want);
	EXPECT_EQ(read_text("/sys/module/kmesh/caps/dev_abi_version",
			    dev_abi, sizeof(dev_abi)), 0);
	snprintf(want, sizeof(want), "%u", KMESH_DEV_ABI_VERSION);
	EXPECT_STR_EQ(dev_abi, want);
	common = kfunc_common_hook();
	EXPECT_STR_EQ(hooks, common ? "common syscall sched_cls" : "syscall sched_cls");
	if (lane && !EXPECT_EQ(common, !strcmp(lane, "kfunc")))
		tap_diag("lane %s, but the module reports \"%s\"", lane, hooks);
	tap_end();
}

static const struct subtest subtests[] = {
	SUBTEST(defaults),
	SUBTEST(params_applied),
	SUBTEST(bad_params_refused),
	SUBTEST(runtime_params),
	SUBTEST(modinfo),
	SUBTEST(caps_sysfs),
};

void test_module(void)
{
	run_subtests("module", subtests, ARRAY_LEN(subtests));
}

// SPDX-License-Identifier: GPL-2.0-only
/* Unloading: nothing of the module may remain callable. */
#include <string.h>

#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "kfunc_caps.skel.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

static void test_rmmod(void)
{
	struct kfunc_caps_bpf *skel;
	const char *log;
	int err;

	tap_begin("unload: rmmod kmesh succeeds and leaves no kfunc behind");
	EXPECT_EQ(kmesh_rmmod(), 0);
	EXPECT(!path_exists("/sys/module/kmesh"));
	EXPECT(!path_exists("/sys/kernel/btf/kmesh"));
	skel = kfunc_caps_bpf__open();
	if (EXPECT(skel)) {
		bpf_log_capture_begin();
		err = kfunc_caps_bpf__load(skel);
		log = bpf_log_capture_end();
		EXPECT(err != 0);
		if (!EXPECT(strstr(log, "bpf_kmesh_get_caps")))
			tap_diag("%s", log);
		kfunc_caps_bpf__destroy(skel);
	}
	tap_end();
}

static void test_status_without_module(void)
{
	char out[4096];

	tap_begin("unload: kmeshctl status says the module is not loaded");
	EXPECT_EQ(kmesh_rmmod(), 0);
	EXPECT_EQ(run_cmd(out, sizeof(out), "kmeshctl status"), 0);
	EXPECT(strstr(out, "kmesh module:  not loaded"));
	EXPECT(strstr(out, "l7 mode:       fallback"));
	tap_end();
}

void test_unload(void)
{
	test_rmmod();
	test_status_without_module();
}

// SPDX-License-Identifier: GPL-2.0-only
/* What the operator sees from `kmeshctl status`. */
#include <stdio.h>
#include <string.h>

#include "kmesh_dev.h"
#include "kmesh_kfunc.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

void test_kmeshctl(void)
{
	const char *lane = vm_lane();
	char out[4096], module_line[128];

	tap_begin("kmeshctl: status reports the module and the mode this kernel allows");
	EXPECT_EQ(run_cmd(out, sizeof(out), "kmeshctl status"), 0);
	snprintf(module_line, sizeof(module_line),
		 "kmesh module:  loaded (version 0.1.0, kfunc abi %u, dev abi %u)\n",
		 KMESH_KFUNC_ABI_VERSION, KMESH_DEV_ABI_VERSION);
	EXPECT(strstr(out, module_line));
	EXPECT(strstr(out, "  syscall          yes"));
	EXPECT(strstr(out, "  tc               yes"));
	if (lane && !strcmp(lane, "stock")) {
		EXPECT(strstr(out, "  sk_msg           no: calling kernel function bpf_kmesh_get_caps is not allowed"));
		EXPECT(strstr(out, "l7 mode:       fallback"));
	} else if (lane && !strcmp(lane, "kfunc")) {
		EXPECT(strstr(out, "  sk_msg           yes"));
		EXPECT(strstr(out, "l7 mode:       kfunc"));
	}
	if (tap_failed_now())
		tap_diag("kmeshctl status said:\n%s", out);
	tap_end();
}

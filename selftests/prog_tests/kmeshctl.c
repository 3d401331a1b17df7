// SPDX-License-Identifier: GPL-2.0-only
/* What the operator sees from `kmeshctl status`. */
#include <string.h>

#include "tap.h"
#include "tests.h"
#include "util.h"

void test_kmeshctl(void)
{
	char out[4096];

	tap_begin("kmeshctl: status reports the module and the mode this kernel allows");
	if (!kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	EXPECT_EQ(run_cmd(out, sizeof(out), "kmeshctl status"), 0);
	EXPECT(strstr(out, "kmesh module:  loaded (version 0.1.0, abi 1)"));
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

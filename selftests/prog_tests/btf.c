// SPDX-License-Identifier: GPL-2.0-only
/* The module must publish BTF: the verifier finds kfuncs through it. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tap.h"
#include "tests.h"
#include "util.h"

void test_btf(void)
{
	struct btf *vmlinux, *mod;

	tap_begin("btf: /sys/kernel/btf/kmesh describes the kfunc and its struct");
	if (!kmesh_loaded())
		EXPECT_EQ(kmesh_modprobe(NULL), 0);
	if (!EXPECT(path_exists("/sys/kernel/btf/kmesh"))) {
		tap_end();
		return;
	}
	vmlinux = btf__load_vmlinux_btf();
	EXPECT(vmlinux);
	mod = vmlinux ? btf__parse_split("/sys/kernel/btf/kmesh", vmlinux) : NULL;
	if (EXPECT(mod)) {
		EXPECT(btf__find_by_name_kind(mod, "bpf_kmesh_get_caps",
					      BTF_KIND_FUNC) > 0);
		EXPECT(btf__find_by_name_kind(mod, "kmesh_caps",
					      BTF_KIND_STRUCT) > 0);
		btf__free(mod);
	}
	btf__free(vmlinux);
	tap_end();
}

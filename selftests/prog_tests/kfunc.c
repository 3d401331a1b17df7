// SPDX-License-Identifier: GPL-2.0-only
/* Calling the module's kfuncs from BPF programs of several types. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_abi.h"
#include "kfunc_caps.skel.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

/* Open the skeleton with only @prog set to load; return the load error. */
static int load_only(struct kfunc_caps_bpf **skelp, const char *prog,
		     const char **log)
{
	struct kfunc_caps_bpf *skel = kfunc_caps_bpf__open();
	struct bpf_program *p;
	int err;

	*skelp = skel;
	if (!skel)
		return -errno;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog));
	bpf_log_capture_begin();
	err = kfunc_caps_bpf__load(skel);
	*log = bpf_log_capture_end();
	return err;
}

static int run_syscall_prog(struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	return bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
}

static void test_syscall_caps(void)
{
	struct kfunc_caps_bpf *skel;
	unsigned int hooks = 0;
	const char *log;
	char text[128] = "";

	tap_begin("kfunc: bpf_kmesh_get_caps from a syscall program returns the module's caps");
	if (!EXPECT_EQ(load_only(&skel, "get_caps", &log), 0)) {
		tap_diag("%s", log);
		goto out;
	}
	EXPECT_EQ(run_syscall_prog(skel->progs.get_caps), 0);
	EXPECT_EQ(skel->data->caps_ret, 0);
	EXPECT_EQ(skel->bss->caps_out.abi_version, KMESH_ABI_VERSION);
	EXPECT_EQ(skel->bss->caps_out.version_major, KMESH_VERSION_MAJOR);
	EXPECT_EQ(skel->bss->caps_out.version_minor, KMESH_VERSION_MINOR);
	read_text("/sys/module/kmesh/caps/kfunc_hooks", text, sizeof(text));
	if (strstr(text, "common"))
		hooks |= KMESH_HOOK_COMMON;
	if (strstr(text, "syscall"))
		hooks |= KMESH_HOOK_SYSCALL;
	if (strstr(text, "sched_cls"))
		hooks |= KMESH_HOOK_SCHED_CLS;
	EXPECT_EQ(skel->bss->caps_out.hooks, hooks);
out:
	kfunc_caps_bpf__destroy(skel);
	tap_end();
}

static void test_wrong_size(void)
{
	struct kfunc_caps_bpf *skel;
	const char *log;

	tap_begin("kfunc: a caller's size that does not match the ABI gets -EINVAL");
	if (EXPECT_EQ(load_only(&skel, "get_caps_short", &log), 0)) {
		EXPECT_EQ(run_syscall_prog(skel->progs.get_caps_short), 0);
		EXPECT_EQ(skel->data->caps_ret, -EINVAL);
	} else {
		tap_diag("%s", log);
	}
	kfunc_caps_bpf__destroy(skel);
	tap_end();
}

static void test_overrun_refused(void)
{
	struct kfunc_caps_bpf *skel;
	const char *log;

	tap_begin("kfunc: a size larger than the buffer is refused by the verifier");
	EXPECT(load_only(&skel, "get_caps_overrun", &log) != 0);
	if (!EXPECT(strstr(log, "invalid indirect") || strstr(log, "invalid read") ||
		    strstr(log, "invalid write") || strstr(log, "out of bounds")))
		tap_diag("%s", log);
	kfunc_caps_bpf__destroy(skel);
	tap_end();
}

static void test_tc(void)
{
	struct kfunc_caps_bpf *skel;
	const char *log;

	tap_begin("kfunc: callable from a tc (sched_cls) program");
	if (!EXPECT_EQ(load_only(&skel, "get_caps_tc", &log), 0))
		tap_diag("%s", log);
	kfunc_caps_bpf__destroy(skel);
	tap_end();
}

static void test_sk_msg(void)
{
	const char *lane = vm_lane();
	struct kfunc_caps_bpf *skel;
	const char *log;
	int err;

	tap_begin("kfunc: sk_msg may call it only where the common hook exists");
	err = load_only(&skel, "get_caps_sk_msg", &log);
	if (lane && !strcmp(lane, "kfunc")) {
		if (!EXPECT_EQ(err, 0))
			tap_diag("%s", log);
	} else if (lane && !strcmp(lane, "stock")) {
		EXPECT(err != 0);
		if (!EXPECT(strstr(log, "calling kernel function bpf_kmesh_get_caps is not allowed")))
			tap_diag("%s", log);
	} else {
		tap_skip("KMESH_LANE not set; sk_msg load gave %d", err);
	}
	kfunc_caps_bpf__destroy(skel);
	tap_end();
}

void test_kfunc(void)
{
	test_syscall_caps();
	test_wrong_size();
	test_overrun_refused();
	test_tc();
	test_sk_msg();
}

// SPDX-License-Identifier: GPL-2.0-only
/* Calling the module's kfuncs from BPF programs of several types. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kmesh_kfunc.h"
#include "kmesh_dev.h"
#include "kfunc_caps.skel.h"
#include "kfunc_sizes.skel.h"
#include "net_helpers.h"
#include "route_build.h"
#include "route_tables.h"
#include "subtest.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

/* Of an opened object, load only program @prog. */
static void autoload_only(struct bpf_object *obj, const char *prog)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog));
}

/* Open the skeleton with only @prog set to load; return the load error. */
static int load_only(struct kfunc_caps_bpf **skelp, const char *prog,
		     const char **log)
{
	struct kfunc_caps_bpf *skel = kfunc_caps_bpf__open();
	int err;

	*skelp = skel;
	if (!skel)
		return -errno;
	autoload_only(skel->obj, prog);
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
	EXPECT_EQ(skel->bss->caps_out.abi_version, KMESH_KFUNC_ABI_VERSION);
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

/*
 * The module's caps (what kmeshctl picks kfunc mode by) against the
 * kernel's own answer: an sk_msg program calling a kfunc loads exactly
 * when caps/kfunc_hooks says "common".
 */
static void test_sk_msg(void)
{
	bool common = kfunc_common_hook();
	const char *lane = vm_lane();
	struct kfunc_caps_bpf *skel;
	const char *log;
	int err;

	tap_begin("kfunc: sk_msg may call it exactly where the module reports the common hook");
	err = load_only(&skel, "get_caps_sk_msg", &log);
	if (common) {
		if (!EXPECT_EQ(err, 0))
			tap_diag("%s", log);
	} else {
		EXPECT(err != 0);
		if (!EXPECT(strstr(log, "calling kernel function bpf_kmesh_get_caps is not allowed")))
			tap_diag("%s", log);
	}
	/* the VM lanes know which kernel they booted: a mix-up fails here */
	if (lane && !EXPECT_EQ(common, !strcmp(lane, "kfunc")))
		tap_diag("lane %s, but the common hook is %s", lane,
			 common ? "there" : "missing");
	kfunc_caps_bpf__destroy(skel);
	tap_end();
}

/* ---- every kfunc with sizes that lie (progs/kfunc_sizes.bpf.c) ---- */

#define SIZES_TABLE	0x4b4d0001	/* matches any host: route 1 -> cluster 1 */

enum sizes_expect {
	REFUSED,	/* the verifier refuses the program */
	RETURNS,	/* it loads, and the kfunc returns .ret */
	NULL_REFUSED_OR_RETURNS, /* NULL with size 0: either is safe */
};

static const struct {
	const char *prog;
	enum sizes_expect expect;
	int ret;
	bool common_hook;	/* sk_msg or connect: needs the kfunc lane */
} sizes_cases[] = {
#define REFUSED_BY_VERIFIER(p)	{ p, REFUSED, 0, false }
#define RETURNING(p, r)		{ p, RETURNS, r, false }
#define NULL_ARG(p, r)		{ p, NULL_REFUSED_OR_RETURNS, r, false }
#define HOOK_REFUSED(p)		{ p, REFUSED, 0, true }
#define HOOK_NULL_ARG(p)	{ p, NULL_REFUSED_OR_RETURNS, -EINVAL, true }
	RETURNING("caps_zero", -EINVAL),
	NULL_ARG("caps_null_zero", -EINVAL),
	RETURNING("caps_too_big", -EINVAL),
	REFUSED_BY_VERIFIER("caps_unbounded"),
	RETURNING("parse_req_zero", -EINVAL),
	NULL_ARG("parse_req_null", -EINVAL),
	RETURNING("parse_req_short", -EINVAL),
	RETURNING("parse_req_too_big", -EINVAL),
	REFUSED_BY_VERIFIER("parse_req_overrun"),
	REFUSED_BY_VERIFIER("parse_buf_overrun"),
	REFUSED_BY_VERIFIER("parse_buf_unbounded"),
	NULL_ARG("parse_buf_null", KMESH_HTTP_NEED_MORE),
	RETURNING("match_req_zero", -EINVAL),
	RETURNING("match_req_too_big", -EINVAL),
	RETURNING("match_head_short", KMESH_KFUNC_ROUTE_ERR(KMESH_RT_E_REQ_CORRUPT)),
	NULL_ARG("match_head_null", -EINVAL),
	REFUSED_BY_VERIFIER("match_head_overrun"),
	REFUSED_BY_VERIFIER("match_req_overrun"),
	NULL_ARG("match_query_null", -EINVAL),
	REFUSED_BY_VERIFIER("match_query_short"),
	RETURNING("chunk_st_zero", -EINVAL),
	RETURNING("chunk_st_short", -EINVAL),
	RETURNING("chunk_st_too_big", -EINVAL),
	NULL_ARG("chunk_st_null", -EINVAL),
	REFUSED_BY_VERIFIER("chunk_st_overrun"),
	REFUSED_BY_VERIFIER("chunk_buf_overrun"),
	NULL_ARG("chunk_buf_null", KMESH_CHUNK_NEED_MORE),
	RETURNING("h2_req_zero", -EINVAL),
	NULL_ARG("h2_req_null", -EINVAL),
	RETURNING("h2_req_short", -EINVAL),
	RETURNING("h2_req_too_big", -EINVAL),
	REFUSED_BY_VERIFIER("h2_req_overrun"),
	REFUSED_BY_VERIFIER("h2_buf_overrun"),
	REFUSED_BY_VERIFIER("h2_buf_unbounded"),
	NULL_ARG("h2_buf_null", KMESH_H2_REQ_NEED_MORE),
	HOOK_REFUSED("msg_parse_overrun"),
	HOOK_REFUSED("msg_chunks_overrun"),
	HOOK_REFUSED("h2_step_req_overrun"),
	HOOK_REFUSED("h2_step_head_overrun"),
	HOOK_REFUSED("h2_info_overrun"),
	HOOK_REFUSED("h2_edits_overrun"),
	HOOK_NULL_ARG("deferred_route_null"),
	HOOK_REFUSED("deferred_route_short"),
};

/* A table for route_match to reach the request checks (not -ENOENT). */
static int sizes_table(int fd)
{
	struct kmesh_rtb *b = kmesh_rtb_new(SIZES_TABLE);
	void *blob = NULL;
	__u32 len;
	int ferr, rc;

	if (!b)
		return -ENOMEM;
	kmesh_rtb_host(b, "*");
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_prefix(b, "/", false);
	kmesh_rtb_cluster(b, 1, 1);
	rc = kmesh_rtb_finish(b, &blob, &len);
	kmesh_rtb_free(b);
	if (!rc)
		rc = kmesh_table_set(fd, SIZES_TABLE, blob, len, &ferr);
	free(blob);
	return rc;
}

/* Refused for a reason about memory, not because the call is not allowed. */
static bool refused_for_memory(const char *log)
{
	return !strstr(log, "is not allowed") && !strstr(log, "not found");
}

/*
 * Run a cgroup/connect4 program once: attached to a cgroup of our own, a
 * child there connects to a closed loopback port. 0, or -1 if it could
 * not be arranged.
 */
static int run_connect_prog(struct bpf_program *prog)
{
	struct test_cgroup cg;
	struct bpf_link *link = NULL;
	int cgfd = -1, rc = -1, status;
	pid_t pid;

	if (test_cgroup_setup(&cg, "kmesh-kfunc-test"))
		return -1;
	cgfd = open(cg.path, O_RDONLY | O_DIRECTORY);
	if (cgfd >= 0)
		link = bpf_program__attach_cgroup(prog, cgfd);
	if (!link)
		goto out;
	fflush(NULL);
	pid = fork();
	if (!pid) {
		int fd;

		if (join_cgroup(cg.path))
			_exit(1);
		fd = dial("127.0.0.1", 1, NULL);
		_exit(fd == -ECONNREFUSED ? 0 : 2);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    !WEXITSTATUS(status))
		rc = 0;
out:
	bpf_link__destroy(link);
	if (cgfd >= 0)
		close(cgfd);
	test_cgroup_free(&cg);
	return rc;
}

static void sizes_case(size_t i, bool common_hook)
{
	const char *prog = sizes_cases[i].prog, *log;
	enum sizes_expect expect = sizes_cases[i].expect;
	struct kfunc_sizes_bpf *skel;
	int err;

	tap_begin("kfunc sizes: %s is %s", prog,
		  expect == REFUSED ? "refused by the verifier" :
		  expect == RETURNS ? "answered with an error or a safe result" :
		  "refused or answered safely");
	skel = kfunc_sizes_bpf__open();
	if (!EXPECT(skel))
		goto out;
	autoload_only(skel->obj, prog);
	skel->bss->table_id = SIZES_TABLE;
	skel->bss->any_size = 4;
	bpf_log_capture_begin();
	err = kfunc_sizes_bpf__load(skel);
	log = bpf_log_capture_end();
	if (sizes_cases[i].common_hook && !common_hook) {
		/* No module kfunc at all from these program types here. */
		EXPECT(err != 0);
		if (!EXPECT(strstr(log, "is not allowed")))
			tap_diag("%s", log);
		goto out;
	}
	if (err) {
		if (!EXPECT(expect != RETURNS && refused_for_memory(log)))
			tap_diag("%s", log);
		else if (expect == NULL_REFUSED_OR_RETURNS)
			tap_diag("%s: refused by the verifier", prog);
		goto out;
	}
	if (!EXPECT(expect != REFUSED))
		goto out;
	if (sizes_cases[i].common_hook) {
		/* connect programs have no test run: a real connect runs it */
		EXPECT_EQ(run_connect_prog(bpf_object__find_program_by_name(skel->obj, prog)), 0);
		EXPECT_EQ(skel->data->ret, sizes_cases[i].ret);
		goto out;
	}
	EXPECT_EQ(run_syscall_prog(bpf_object__find_program_by_name(skel->obj, prog)), 0);
	EXPECT_EQ(skel->data->ret, sizes_cases[i].ret);
	if (expect == NULL_REFUSED_OR_RETURNS || tap_failed_now())
		tap_diag("%s: loads, the kfunc returned %d", prog, skel->data->ret);
	if (!strcmp(prog, "chunk_buf_null"))
		EXPECT_EQ(skel->bss->chunk.consumed, 0);
out:
	kfunc_sizes_bpf__destroy(skel);
	tap_end();
}

static void test_sizes(void)
{
	bool common_hook = kfunc_common_hook();
	int fd = kmesh_dev_open();
	size_t i;

	tap_begin("kfunc sizes: a route table for the match cases");
	EXPECT(fd >= 0);
	if (fd >= 0)
		EXPECT_EQ(sizes_table(fd), 0);
	tap_end();
	for (i = 0; i < sizeof(sizes_cases) / sizeof(sizes_cases[0]); i++)
		sizes_case(i, common_hook);
	if (fd >= 0) {
		kmesh_table_del(fd, SIZES_TABLE);
		close(fd);
	}
}

static const struct subtest subtests[] = {
	SUBTEST(syscall_caps),
	SUBTEST(wrong_size),
	SUBTEST(overrun_refused),
	SUBTEST(tc),
	SUBTEST(sk_msg),
	SUBTEST(sizes),
};

void test_kfunc(void)
{
	/* Run alone (vmtest.sh -- kfunc), the area loads the module itself. */
	if (!kmesh_loaded())
		kmesh_modprobe(NULL);
	run_subtests("kfunc", subtests, ARRAY_LEN(subtests));
}

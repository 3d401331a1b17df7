/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers the VM selftests share. */
#ifndef KMESH_SELFTEST_UTIL_H
#define KMESH_SELFTEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Run a shell command, capture stdout+stderr into @out (may be NULL).
 * Return: the exit status, or -1 if it could not run or was killed.
 */
int run_cmd(char *out, size_t out_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole small file, NUL-terminated, trailing newline dropped. */
int read_text(const char *path, char *buf, size_t size);

/* Replace a file's contents with @text; 0 or -1. */
int write_file(const char *path, const char *text);

/* Move the calling process into the cgroup v2 directory @path; 0 or -1. */
int join_cgroup(const char *path);

/*
 * The cgroup2 mount into @root and this process's own cgroup directory
 * (under it) into @home, to return to after a test; 0 or -1.
 */
int cgroup_home(char *root, size_t root_size, char *home, size_t home_size);

bool path_exists(const char *path);

/*
 * Lane the VM booted: "stock" or "kfunc" (from KMESH_LANE), or NULL. Only
 * for cross-checks: what a test expects follows from what the kernel and
 * module can do (kfunc_common_hook), never from this name.
 */
const char *vm_lane(void);

/*
 * Can every BPF program type call the module's kfuncs (the common kfunc
 * hook, Linux >= 6.2 or the kfunc lane's backport)? Read from the loaded
 * module's caps (/sys/module/kmesh/caps/kfunc_hooks, which the module
 * fills from its registrations); false without the module. This is what
 * picks kfunc mode over the eBPF fallback in kmeshctl too.
 */
bool kfunc_common_hook(void);

/*
 * Collect libbpf's messages (verifier log included) between begin and end,
 * so a test can assert why a program was refused.
 */
void bpf_log_capture_begin(void);
const char *bpf_log_capture_end(void);

struct bpf_object_skeleton;
/*
 * Load a skeleton its __open() returned (@s: its ->skeleton), with
 * @extra_prog (a program the object does not autoload) loaded too, NULL
 * for none; the verifier's log goes to the TAP diagnostics on failure.
 * Return: 0 or libbpf's error.
 */
int skel_load_logged(struct bpf_object_skeleton *s, const char *extra_prog);

/* Load the kmesh module with @params; unload it (retrying while BPF
 * programs that use it are still being freed). Return the exit status. */
int kmesh_modprobe(const char *params);
int kmesh_rmmod(void);
bool kmesh_loaded(void);
/* /sys/module/kmesh/refcnt: who holds the module now; -1 if not loaded. */
long kmesh_refcnt(void);
/* One delete_module("kmesh", O_NONBLOCK), as rmmod does: 0 or -errno
 * (-EAGAIN while anything holds a reference). */
int kmesh_unload_once(void);
#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kmesh ABI: every struct and constant that crosses the boundary between
 * the kernel module, the eBPF programs and userspace is defined here, once.
 *
 * Included by the module (kernel headers), by BPF programs (after vmlinux.h,
 * which already provides the __u8..__u64 types) and by userspace (C11).
 * Layouts use fixed-width types only, naturally aligned, no pointers.
 */
#ifndef KMESH_ABI_H
#define KMESH_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Bumped whenever a struct or constant below changes incompatibly. */
#define KMESH_ABI_VERSION	1

/* ---- Module capabilities (kmesh_caps kfunc, sysfs "hooks") ---- */

/*
 * Program types the module's kfunc set was registered for. The loader
 * combines these with a load-time probe to decide kfunc or fallback mode.
 */
#define KMESH_HOOK_COMMON	(1U << 0)	/* BPF_PROG_TYPE_UNSPEC (>= 6.2 or backport) */
#define KMESH_HOOK_SYSCALL	(1U << 1)
#define KMESH_HOOK_SCHED_CLS	(1U << 2)

struct kmesh_caps {
	__u32 abi_version;	/* KMESH_ABI_VERSION of the module */
	__u32 hooks;		/* KMESH_HOOK_* registered successfully */
	__u32 version_major;
	__u32 version_minor;
	__u32 version_patch;
	__u32 reserved;
};

#endif /* KMESH_ABI_H */

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

/* Release of the module and tools built from this tree. */
#define KMESH_VERSION_MAJOR	0
#define KMESH_VERSION_MINOR	1
#define KMESH_VERSION_PATCH	0

/* ---- Module capabilities (bpf_kmesh_get_caps kfunc, sysfs caps/) ---- */

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

#ifdef __bpf__
/*
 * The module's kfuncs as BPF programs see them (include after
 * <bpf/bpf_helpers.h>). Defined in kmod/kfuncs.c.
 */
extern int bpf_kmesh_get_caps(struct kmesh_caps *caps, __u32 caps__sz) __ksym;
#endif

/* ---- HTTP limits (module parameters range within these) ---- */

/* Spans into the head are __u16, so a head can never exceed 64 KiB. */
#define KMESH_HTTP_MIN_HEAD_BYTES	256
#define KMESH_HTTP_MAX_HEAD_BYTES	65535
#define KMESH_HTTP_DEFAULT_HEAD_BYTES	8192
/* The parse result holds at most this many header spans. */
#define KMESH_HTTP_MAX_HEADERS		32
#define KMESH_HTTP_DEFAULT_HEADERS	32

#endif /* KMESH_ABI_H */

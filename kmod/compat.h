/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference between the kernels kmesh builds for (Linux 6.1 and
 * later) lives here. Prefer testing for the thing itself over a version.
 */
#ifndef KMESH_COMPAT_H
#define KMESH_COMPAT_H

/*
 * This header is included first in every file (Kbuild -include), before
 * printk.h picks its default, so the prefix is set here once for all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/version.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/module.h>

/* 6.9 split kfunc sets from plain BTF ID sets; before, a SET8 served both. */
#ifndef BTF_KFUNCS_START
#define BTF_KFUNCS_START(name)	BTF_SET8_START(name)
#define BTF_KFUNCS_END(name)	BTF_SET8_END(name)
#endif

/* 6.4 named the attribute kfuncs need so the compiler keeps them out of line. */
#ifndef __bpf_kfunc
#define __bpf_kfunc		__used noinline
#endif

/* 6.7 wrapped the diagnostics dance for kfunc definitions in these. */
#ifndef __bpf_kfunc_start_defs
#define __bpf_kfunc_start_defs()					\
	__diag_push();							\
	__diag_ignore_all("-Wmissing-prototypes",			\
			  "kfuncs are called from BPF, not from C")
#define __bpf_kfunc_end_defs()	__diag_pop()
#endif

/* ---- deferred connect (kmod/defer*.c) ---- */

/* 6.5 dropped proto_ops.sendpage: splice reaches sendmsg (MSG_SPLICE_PAGES). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define KMESH_HAVE_OPS_SENDPAGE	1
#endif

/* 6.6 turned inet_sock's flag bitfields into atomic bits. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define kmesh_set_defer_connect(sk, v)	inet_assign_bit(DEFER_CONNECT, sk, v)
#else
#define kmesh_set_defer_connect(sk, v)	(inet_sk(sk)->defer_connect = (v))
#endif

/*
 * A reference on a file unless its last one is already gone (the close
 * then wins). get_file_rcu() meant exactly that until 6.7 changed it, and
 * 6.13 moved the count to file_ref_t.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define kmesh_get_file_live(f)	file_ref_get(&(f)->f_ref)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define kmesh_get_file_live(f)	atomic_long_inc_not_zero(&(f)->f_count)
#else
#define kmesh_get_file_live(f)	get_file_rcu(f)
#endif

/* ---- inbound check's sockets (kmod/inbound.c) ---- */

/* 6.10 passed accept()'s flags and kern in struct proto_accept_arg. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define KMESH_ACCEPT_ARGS	struct proto_accept_arg *arg
#define KMESH_ACCEPT_PASS	arg
#else
#define KMESH_ACCEPT_ARGS	int flags, bool kern
#define KMESH_ACCEPT_PASS	flags, kern
#endif

#endif /* KMESH_COMPAT_H */

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

#endif /* KMESH_COMPAT_H */

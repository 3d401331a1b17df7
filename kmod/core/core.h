/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Portability shim for kmod/core/: these sources build unchanged into the
 * kernel module and into host programs (unit tests, fuzzers, benchmarks).
 * Core code may use only the __uN types, bool, and memcmp, memcpy, memmove,
 * memchr, memset and strlen; no allocation, no sleeping, no floating point,
 * no mutable globals, so every function is safe in softirq and atomic
 * context. Memory a core needs is given by its caller (hpack.h, h2_frame.h).
 */
#ifndef KMESH_CORE_H
#define KMESH_CORE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/kernel.h>	/* ARRAY_SIZE */
#else
#include <linux/types.h>
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#endif

#endif /* KMESH_CORE_H */

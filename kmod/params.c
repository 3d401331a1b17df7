// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module parameters. Each is range-checked when set, at load time
 * (`modprobe kmesh max_headers=64`) and at runtime through
 * /sys/module/kmesh/parameters/, so a bad value is refused with a message
 * instead of being clamped silently.
 */

#include <linux/kernel.h>
#include <linux/moduleparam.h>

#include "kmesh.h"

struct kmesh_uint_range {
	unsigned int *val;
	unsigned int min;
	unsigned int max;
};

static int kmesh_param_set_uint(const char *text, const struct kernel_param *kp)
{
	const struct kmesh_uint_range *range = kp->arg;
	unsigned int v;

	if (kstrtouint(text, 0, &v) || v < range->min || v > range->max) {
		pr_err("invalid %s=%s: expected an integer in [%u, %u]\n",
		       kp->name, strim((char *)text), range->min, range->max);
		return -EINVAL;
	}
	WRITE_ONCE(*range->val, v);
	return 0;
}

static int kmesh_param_get_uint(char *buf, const struct kernel_param *kp)
{
	const struct kmesh_uint_range *range = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*range->val));
}

static const struct kernel_param_ops kmesh_uint_ops = {
	.set = kmesh_param_set_uint,
	.get = kmesh_param_get_uint,
};

#define KMESH_UINT_PARAM(name, var, lo, hi, desc)			\
	static struct kmesh_uint_range var##_range = {		\
		.val = &(var), .min = (lo), .max = (hi),		\
	};								\
	module_param_cb(name, &kmesh_uint_ops, &var##_range, 0644);	\
	MODULE_PARM_DESC(name, desc " [" __stringify(lo) ".." __stringify(hi) "]")

unsigned int kmesh_max_head_bytes = KMESH_HTTP_DEFAULT_HEAD_BYTES;
KMESH_UINT_PARAM(max_head_bytes, kmesh_max_head_bytes,
		 KMESH_HTTP_MIN_HEAD_BYTES, KMESH_HTTP_MAX_HEAD_BYTES,
		 "Largest HTTP request head (request line + headers) accepted, in bytes");

unsigned int kmesh_max_headers = KMESH_HTTP_DEFAULT_HEADERS;
KMESH_UINT_PARAM(max_headers, kmesh_max_headers,
		 1, KMESH_HTTP_MAX_HEADERS,
		 "Most header fields accepted in one HTTP request head");

unsigned int kmesh_max_tables = 16384;
KMESH_UINT_PARAM(max_tables, kmesh_max_tables, 1, 1048576,
		 "Most route tables (one per HTTP service) held at once");

unsigned int kmesh_max_table_kbytes = 65536;
KMESH_UINT_PARAM(max_table_kbytes, kmesh_max_table_kbytes, 64, 4194304,
		 "Kernel memory all route tables together may hold, in KiB");

unsigned int kmesh_connect_failover = 2;
KMESH_UINT_PARAM(connect_failover, kmesh_connect_failover, 0, 8,
		 "Endpoints more a routed HTTP connection tries when its connect is refused, times out or finds no route, before the application sees the error");

/* SPDX-License-Identifier: GPL-2.0-only */
/* Route tables in the kmesh module, through /dev/kmesh (CAP_NET_ADMIN). */
#ifndef KMESH_ROUTE_TABLES_H
#define KMESH_ROUTE_TABLES_H

#include <linux/types.h>

#include "kmesh_dev.h"

/* Open /dev/kmesh; -errno if the module is not loaded or we may not. */
int kmesh_dev_open(void);

/*
 * Replace table @id atomically. On a blob the module refuses, returns
 * -EINVAL and sets *@format_err to the (positive) enum
 * kmesh_rt_err naming the broken rule (0 for other errors).
 */
int kmesh_table_set(int fd, __u32 id, const void *blob, __u32 len,
		    int *format_err);
/* Copy table @id into @buf; *@len: room in, size out (also on -ENOSPC). */
int kmesh_table_get(int fd, __u32 id, void *buf, __u32 *len);
int kmesh_table_del(int fd, __u32 id);
int kmesh_table_info(int fd, struct kmesh_table_info *info);

#endif

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "route_tables.h"

int kmesh_dev_open(void)
{
	int fd = open("/dev/" KMESH_DEV_NAME, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int kmesh_table_set(int fd, __u32 id, const void *blob, __u32 len,
		    int *format_err)
{
	struct kmesh_table_io io = {
		.id = id,
		.len = len,
		.data = (uintptr_t)blob,
	};
	int rc = ioctl(fd, KMESH_IOC_TABLE_SET, &io);

	if (format_err)
		*format_err = rc ? io.error : 0;
	return rc ? -errno : 0;
}

int kmesh_table_get(int fd, __u32 id, void *buf, __u32 *len)
{
	struct kmesh_table_io io = {
		.id = id,
		.len = *len,
		.data = (uintptr_t)buf,
	};
	int rc = ioctl(fd, KMESH_IOC_TABLE_GET, &io);

	*len = io.len;
	return rc ? -errno : 0;
}

int kmesh_table_del(int fd, __u32 id)
{
	return ioctl(fd, KMESH_IOC_TABLE_DEL, &id) ? -errno : 0;
}

int kmesh_table_info(int fd, struct kmesh_table_info *info)
{
	return ioctl(fd, KMESH_IOC_TABLE_INFO, info) ? -errno : 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Route tables: compiled in userspace, handed over through /dev/kmesh,
 * validated once here, then matched in place by the kfuncs.
 *
 * Readers (BPF programs, already inside an RCU read-side section) look a
 * table up by id and use it without locks. A writer builds the new table
 * completely, validates it, and only then publishes it with one xa_store;
 * the old one is freed after a grace period. A table that fails validation
 * is never published, so the running one stays in place.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "kmesh.h"
#include "core/route.h"

struct kmesh_route_table {
	struct rcu_head rcu;
	u32 len;
	u8 blob[] __aligned(8);
};

static DEFINE_XARRAY(kmesh_tables);
/* Serialises writers and the accounting below; readers never take it. */
static DEFINE_MUTEX(kmesh_tables_lock);
static size_t kmesh_tables_bytes;
static u32 kmesh_tables_count;

/* Caller holds rcu_read_lock (BPF programs always do). */
const void *kmesh_table_get(u32 id, u32 *len)
{
	struct kmesh_route_table *t = xa_load(&kmesh_tables, id);

	if (!t)
		return NULL;
	*len = t->len;
	return t->blob;
}

static size_t kmesh_table_cost(u32 len)
{
	return sizeof(struct kmesh_route_table) + len;
}

static int kmesh_table_copy_in(const struct kmesh_table_io *io,
			       struct kmesh_route_table **out)
{
	struct kmesh_route_table *t;

	if (!io->len || io->len > KMESH_ROUTE_MAX_BLOB)
		return -EMSGSIZE;
	/*
	 * Accounted to the writer's memory cgroup, like any other kernel
	 * memory a process makes the kernel hold for it.
	 */
	t = kvmalloc(kmesh_table_cost(io->len), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->len = io->len;
	if (copy_from_user(t->blob, u64_to_user_ptr(io->data), io->len)) {
		kvfree(t);
		return -EFAULT;
	}
	*out = t;
	return 0;
}

static int kmesh_table_set(struct kmesh_table_io *io)
{
	struct kmesh_route_table *t, *old;
	size_t bytes;
	int err;

	err = kmesh_table_copy_in(io, &t);
	if (err)
		return err;
	err = kmesh_route_validate(t->blob, t->len);
	if (err) {
		/* Tell userspace which rule of the format was broken. */
		io->error = -err;
		kvfree(t);
		return -EINVAL;
	}

	mutex_lock(&kmesh_tables_lock);
	old = xa_load(&kmesh_tables, io->id);
	bytes = kmesh_tables_bytes + kmesh_table_cost(t->len) -
		(old ? kmesh_table_cost(old->len) : 0);
	if (bytes > (size_t)READ_ONCE(kmesh_max_table_kbytes) * 1024 ||
	    (!old && kmesh_tables_count >= READ_ONCE(kmesh_max_tables))) {
		err = -ENOSPC;
		goto unlock;
	}
	old = xa_store(&kmesh_tables, io->id, t, GFP_KERNEL);
	if (xa_is_err(old)) {
		err = xa_err(old);
		goto unlock;
	}
	kmesh_tables_bytes = bytes;
	if (!old)
		kmesh_tables_count++;
	t = NULL;
unlock:
	mutex_unlock(&kmesh_tables_lock);
	kvfree(t);
	if (old && !xa_is_err(old))
		kvfree_rcu(old, rcu);
	return err;
}

static int kmesh_table_del(u32 id)
{
	struct kmesh_route_table *old;

	mutex_lock(&kmesh_tables_lock);
	old = xa_erase(&kmesh_tables, id);
	if (old) {
		kmesh_tables_bytes -= kmesh_table_cost(old->len);
		kmesh_tables_count--;
	}
	mutex_unlock(&kmesh_tables_lock);
	if (!old)
		return -ENOENT;
	kvfree_rcu(old, rcu);
	return 0;
}

/* Copy a table back out (for `kmeshctl dump`); io->len gets its size. */
static int kmesh_table_read(struct kmesh_table_io *io)
{
	struct kmesh_route_table *t;
	u32 room = io->len;
	int err = 0;

	mutex_lock(&kmesh_tables_lock);
	t = xa_load(&kmesh_tables, io->id);
	if (!t) {
		err = -ENOENT;
	} else {
		io->len = t->len;
		if (room < t->len)
			err = -ENOSPC;
		else if (copy_to_user(u64_to_user_ptr(io->data), t->blob, t->len))
			err = -EFAULT;
	}
	mutex_unlock(&kmesh_tables_lock);
	return err;
}

static void kmesh_table_info(struct kmesh_table_info *info)
{
	mutex_lock(&kmesh_tables_lock);
	*info = (struct kmesh_table_info) {
		.tables = kmesh_tables_count,
		.bytes = kmesh_tables_bytes,
		.max_tables = READ_ONCE(kmesh_max_tables),
		.max_bytes = (u64)READ_ONCE(kmesh_max_table_kbytes) * 1024,
	};
	mutex_unlock(&kmesh_tables_lock);
}

static long kmesh_dev_table_io(unsigned int cmd, void __user *arg)
{
	struct kmesh_table_io io;
	long err;

	if (copy_from_user(&io, arg, sizeof(io)))
		return -EFAULT;
	if (io.error || io.reserved)
		return -EINVAL;
	if (cmd == KMESH_IOC_TABLE_SET)
		err = kmesh_table_set(&io);
	else
		err = kmesh_table_read(&io);
	if (copy_to_user(arg, &io, sizeof(io)))
		return -EFAULT;
	return err;
}

static long kmesh_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct kmesh_table_info info;
	u32 id;

	/* Reading the config is as sensitive as changing it. */
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;

	switch (cmd) {
	case KMESH_IOC_TABLE_SET:
	case KMESH_IOC_TABLE_GET:
		return kmesh_dev_table_io(cmd, uarg);
	case KMESH_IOC_TABLE_DEL:
		if (get_user(id, (u32 __user *)uarg))
			return -EFAULT;
		return kmesh_table_del(id);
	case KMESH_IOC_TABLE_INFO:
		kmesh_table_info(&info);
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kmesh_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = kmesh_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kmesh_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KMESH_DEV_NAME,
	.fops = &kmesh_dev_fops,
	.mode = 0600,
};

int kmesh_tables_init(void)
{
	return misc_register(&kmesh_dev);
}

void kmesh_tables_exit(void)
{
	struct kmesh_route_table *t;
	unsigned long id;

	misc_deregister(&kmesh_dev);
	/*
	 * No BPF program can call us any more: the module is going away
	 * only once nothing references its kfuncs.
	 */
	xa_for_each(&kmesh_tables, id, t) {
		xa_erase(&kmesh_tables, id);
		kvfree(t);
	}
}

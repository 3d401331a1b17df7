// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmesh: in-kernel helpers for a sidecarless service mesh.
 *
 * The module gives eBPF programs what they cannot do well on their own
 * (HTTP/1.1 parsing, L7 route matching) as kfuncs. It reports what it could
 * register under /sys/module/kmesh/caps/ so the loader can pick kfunc or
 * fallback mode without guessing from kernel versions.
 */

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "kmesh.h"
#include "defer.h"

static struct kobject *kmesh_caps_kobj;

static ssize_t kfunc_hooks_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return kmesh_kfunc_hooks_show(buf);
}

/* kmeshctl refuses a module whose interfaces are not the ones it speaks. */
static ssize_t kfunc_abi_version_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", KMESH_KFUNC_ABI_VERSION);
}

static ssize_t dev_abi_version_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", KMESH_DEV_ABI_VERSION);
}

static struct kobj_attribute kfunc_hooks_attr = __ATTR_RO(kfunc_hooks);
static struct kobj_attribute kfunc_abi_version_attr = __ATTR_RO(kfunc_abi_version);
static struct kobj_attribute dev_abi_version_attr = __ATTR_RO(dev_abi_version);

static struct attribute *kmesh_caps_attrs[] = {
	&kfunc_hooks_attr.attr,
	&kfunc_abi_version_attr.attr,
	&dev_abi_version_attr.attr,
	NULL,
};

static const struct attribute_group kmesh_caps_group = {
	.attrs = kmesh_caps_attrs,
};

static int kmesh_caps_sysfs_add(void)
{
	int err;

	kmesh_caps_kobj = kobject_create_and_add("caps",
						 &THIS_MODULE->mkobj.kobj);
	if (!kmesh_caps_kobj)
		return -ENOMEM;
	err = sysfs_create_group(kmesh_caps_kobj, &kmesh_caps_group);
	if (err)
		kobject_put(kmesh_caps_kobj);
	return err;
}

static int __init kmesh_init(void)
{
	int err;

	err = kmesh_tables_init();
	if (err) {
		pr_err("registering /dev/%s failed: %d\n", KMESH_DEV_NAME, err);
		return err;
	}
	err = kmesh_caps_sysfs_add();
	if (err) {
		pr_err("creating /sys/module/kmesh/caps failed: %d\n", err);
		goto err_tables;
	}
	err = kmesh_defer_init();
	if (err)
		goto err_caps;
	err = kmesh_h2_conn_init();
	if (err)
		goto err_defer;
	err = kmesh_h2_init_scratch();
	if (err) {
		pr_err("allocating the HTTP/2 parsers failed: %d\n", err);
		goto err_defer;
	}
	kmesh_inbound_init();
	/*
	 * Last: once registered, kfuncs can be called, and there is no
	 * way to unregister them short of unloading the module.
	 */
	err = kmesh_kfuncs_register();
	if (err)
		goto err_h2;
	pr_info("loaded: kfunc abi %u, dev abi %u, max_head_bytes=%u max_headers=%u\n",
		KMESH_KFUNC_ABI_VERSION, KMESH_DEV_ABI_VERSION,
		kmesh_max_head_bytes, kmesh_max_headers);
	return 0;

err_h2:
	kmesh_h2_conn_exit();
	kmesh_h2_free_scratch();
err_defer:
	kmesh_defer_exit();
err_caps:
	kobject_put(kmesh_caps_kobj);
err_tables:
	kmesh_tables_exit();
	return err;
}

static void __exit kmesh_exit(void)
{
	/* The kfunc sets go away with the module's BTF; nothing to undo. */
	kmesh_defer_exit();
	kmesh_h2_conn_exit();
	kmesh_h2_free_scratch();
	kobject_put(kmesh_caps_kobj);
	kmesh_tables_exit();
	pr_info("unloaded\n");
}

module_init(kmesh_init);
module_exit(kmesh_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kmesh authors");
MODULE_DESCRIPTION("kmesh: HTTP/1.1 parsing and L7 routing kfuncs for a sidecarless service mesh");
MODULE_VERSION(__stringify(KMESH_VERSION_MAJOR) "." __stringify(KMESH_VERSION_MINOR) "." __stringify(KMESH_VERSION_PATCH));

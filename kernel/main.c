// SPDX-License-Identifier: GPL-2.0
/*
 * attestio: attested capture of IIO sensor samples.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "version.h"

static struct kobject *attestio_kobj;

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", ATTESTIO_VERSION);
}

static struct kobj_attribute attestio_attr_version = __ATTR_RO(version);

static struct attribute *attestio_attrs[] = {
	&attestio_attr_version.attr,
	NULL,
};

static const struct attribute_group attestio_group = {
	.attrs = attestio_attrs,
};

static int __init attestio_init(void)
{
	int ret;

	attestio_kobj = kobject_create_and_add("attestio", kernel_kobj);
	if (!attestio_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(attestio_kobj, &attestio_group);
	if (ret)
		goto err_put_kobj;
	pr_info("version %s loaded\n", ATTESTIO_VERSION);
	return 0;

err_put_kobj:
	kobject_put(attestio_kobj);
	return ret;
}

static void __exit attestio_exit(void)
{
	sysfs_remove_group(attestio_kobj, &attestio_group);
	kobject_put(attestio_kobj);
}

module_init(attestio_init);
module_exit(attestio_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Attested capture of IIO sensor samples");
MODULE_AUTHOR("attestio developers");
MODULE_VERSION(ATTESTIO_VERSION);

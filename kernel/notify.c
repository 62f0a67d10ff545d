// SPDX-License-Identifier: GPL-2.0
/*
 * The IIO bus notifier: devices and triggers coming and going, turned into
 * lifecycle events of the streams (stream.c).
 */
#include <linux/device.h>
#include <linux/iio/iio.h>
#include <linux/iio/trigger.h>
#include <linux/notifier.h>
#include <linux/string.h>

#include "attestio.h"

static bool attestio_is_trigger(struct device *dev)
{
	return !strncmp(dev_name(dev), "trigger", 7);
}

static int attestio_bus_notify(struct notifier_block *nb, unsigned long action,
			       void *data)
{
	struct device *dev = data;

	if (attestio_is_trigger(dev)) {
		if (action == BUS_NOTIFY_DEL_DEVICE)
			attestio_stream_trigger_gone(to_iio_trigger(dev));
		else if (action == BUS_NOTIFY_ADD_DEVICE)
			attestio_stream_rescan_soon();
		return NOTIFY_DONE;
	}
	if (!attestio_is_iio_dev(dev))
		return NOTIFY_DONE;
	switch (action) {
	case BUS_NOTIFY_DEL_DEVICE:
		attestio_stream_device_gone(dev);
		break;
	case BUS_NOTIFY_REMOVED_DEVICE:
		attestio_stream_device_removed(dev);
		break;
	case BUS_NOTIFY_ADD_DEVICE:
		attestio_stream_rescan_soon();
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block attestio_bus_nb = {
	.notifier_call = attestio_bus_notify,
};

int attestio_notify_init(void)
{
	return bus_register_notifier(&iio_bus_type, &attestio_bus_nb);
}

void attestio_notify_uninit(void)
{
	bus_unregister_notifier(&iio_bus_type, &attestio_bus_nb);
}

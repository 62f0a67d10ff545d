// SPDX-License-Identifier: GPL-2.0
/*
 * The dying-device table: devices between BUS_NOTIFY_DEL_DEVICE and
 * BUS_NOTIFY_REMOVED_DEVICE are still on the bus but going away, and no
 * stream may attach to them.  Under attestio_streams_lock; a full table
 * refuses every device until it drains.
 */
#include <linux/device.h>
#include <linux/lockdep.h>

#include "attestio.h"

#define ATTESTIO_MAX_DYING 8
static struct device *attestio_dying[ATTESTIO_MAX_DYING];
static unsigned int attestio_dying_overflow;

void attestio_dying_set(struct device *dev, bool dying)
{
	int i;

	lockdep_assert_held(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_DYING; i++) {
		if (dying && !attestio_dying[i]) {
			attestio_dying[i] = dev;
			return;
		}
		if (!dying && attestio_dying[i] == dev) {
			attestio_dying[i] = NULL;
			return;
		}
	}
	if (dying)
		attestio_dying_overflow++;
	else if (attestio_dying_overflow)
		attestio_dying_overflow--;
}

bool attestio_dying_has(struct device *dev)
{
	int i;

	lockdep_assert_held(&attestio_streams_lock);
	if (attestio_dying_overflow)
		return true;
	for (i = 0; i < ATTESTIO_MAX_DYING; i++)
		if (attestio_dying[i] == dev)
			return true;
	return false;
}

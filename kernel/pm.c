// SPDX-License-Identifier: GPL-2.0
/*
 * Reboot and suspend: nothing the module emitted may be left without a
 * checkpoint.  Before a reboot or power-off every segment ends (detach
 * reason "shutdown") and a final epoch covers the detach records; before
 * suspend or hibernation a final epoch covers what was emitted so far.
 */
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <linux/suspend.h>

#include "attestio.h"

static int attestio_reboot_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	attestio_stream_stop_all(ATTESTIO_DETACH_SHUTDOWN);
	attestio_epoch_flush("shutdown");
	return NOTIFY_DONE;
}

static struct notifier_block attestio_reboot_nb = {
	.notifier_call = attestio_reboot_notify,
};

static int attestio_pm_notify(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	if (action == PM_SUSPEND_PREPARE || action == PM_HIBERNATION_PREPARE)
		attestio_epoch_flush("suspend");
	return NOTIFY_DONE;
}

static struct notifier_block attestio_pm_nb = {
	.notifier_call = attestio_pm_notify,
};

int attestio_pm_init(void)
{
	int ret;

	ret = register_reboot_notifier(&attestio_reboot_nb);
	if (ret)
		return ret;
	ret = register_pm_notifier(&attestio_pm_nb);
	if (ret)
		goto err_unregister_reboot;
	return 0;

err_unregister_reboot:
	unregister_reboot_notifier(&attestio_reboot_nb);
	return ret;
}

void attestio_pm_uninit(void)
{
	unregister_pm_notifier(&attestio_pm_nb);
	unregister_reboot_notifier(&attestio_reboot_nb);
}

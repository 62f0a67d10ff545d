// SPDX-License-Identifier: GPL-2.0
/*
 * attestio: attested capture of IIO sensor samples.
 *
 * Module parameters, and the init/uninit ladder of the parts:
 * log (record ring) -> workqueue -> measurement log -> kernel session key
 * (registered in PCR 13) -> epochs (TPM checkpoints) -> streams
 * (IIO bus notifier) -> reboot/suspend notifiers -> sysfs -> /dev/attestio
 * -> automatic attach.  The user-facing interfaces come last, once the
 * code behind them works, and go first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/string.h>

#include "attestio.h"
#include "tpm2_msg.h"
#include "version.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

unsigned int attestio_epoch_ms = 1000;
module_param_named(epoch_ms, attestio_epoch_ms, uint, 0444);
MODULE_PARM_DESC(epoch_ms, "Epoch length in ms (10..3600000, default 1000)");

unsigned int attestio_epoch_records = 4096;
module_param_named(epoch_records, attestio_epoch_records, uint, 0444);
MODULE_PARM_DESC(epoch_records,
		 "Close the epoch early when a stream has this many records pending (0 = never)");

unsigned int attestio_key_handle;
module_param_named(key_handle, attestio_key_handle, uint, 0444);
MODULE_PARM_DESC(key_handle,
		 "Persistent TPM handle of the attestation key (0x81xxxxxx; 0 = unsigned)");

/* the boot chain (PCRs 0-9) and the module's own PCR */
unsigned int attestio_pcr_mask = 0x3ff | 1U << ATTESTIO_MLOG_PCR;
module_param_named(pcr_mask, attestio_pcr_mask, uint, 0444);
MODULE_PARM_DESC(pcr_mask,
		 "SHA-256 PCRs to quote, bit i = PCR i (default 0x23ff: PCRs 0-9 and 13)");

unsigned int attestio_ring_slots = 1024;
module_param_named(ring_slots, attestio_ring_slots, uint, 0444);
MODULE_PARM_DESC(ring_slots, "Capture ring slots per stream (16..65536, default 1024)");

static unsigned int attestio_log_kb = 4096;
module_param_named(log_kb, attestio_log_kb, uint, 0444);
MODULE_PARM_DESC(log_kb, "Record log size in KiB (64..262144, default 4096)");

unsigned int attestio_poll_ms = 100;
module_param_named(poll_ms, attestio_poll_ms, uint, 0444);
MODULE_PARM_DESC(poll_ms, "Polled mode period in ms (1..60000, default 100)");

bool attestio_sign = true;
module_param_named(sign, attestio_sign, bool, 0444);
MODULE_PARM_DESC(sign, "Ask the TPM to sign checkpoints (default Y)");

unsigned int attestio_auth_backoff_s = 60;
module_param_named(auth_backoff_s, attestio_auth_backoff_s, uint, 0444);
MODULE_PARM_DESC(auth_backoff_s,
		 "No quote for this long after an authorization failure or lockout, doubling up to 3600 s (1..3600, default 60)");

static char *attestio_attach_param;
module_param_named(attach, attestio_attach_param, charp, 0444);
MODULE_PARM_DESC(attach,
		 "Comma-separated IIO device names, name attributes or labels to attach whenever they appear");

u64 attestio_instance;
struct workqueue_struct *attestio_wq;

static int __init attestio_check_params(void)
{
	if (attestio_epoch_ms < 10 || attestio_epoch_ms > 3600000 ||
	    attestio_poll_ms < 1 || attestio_poll_ms > 60000 ||
	    attestio_pcr_mask > 0xffffff || attestio_epoch_records > 1000000 ||
	    attestio_auth_backoff_s < 1 || attestio_auth_backoff_s > 3600) {
		pr_err("a parameter is out of range: see modinfo attestio\n");
		return -EINVAL;
	}
	if (attestio_key_handle &&
	    attestio_key_handle >> 24 != ATTESTIO_TPM2_HT_PERSISTENT) {
		pr_err("key_handle 0x%x is not a persistent handle (0x81xxxxxx)\n",
		       attestio_key_handle);
		return -EINVAL;
	}
	return 0;
}

static void __init attestio_autoattach(void)
{
	char *list, *cur, *spec;

	if (!attestio_attach_param || !*attestio_attach_param)
		return;
	list = kstrdup(attestio_attach_param, GFP_KERNEL);
	if (!list)
		return;
	cur = list;
	while ((spec = strsep(&cur, ",")) != NULL) {
		spec = strim(spec);
		if (!*spec || strlen(spec) >= ATTESTIO_NAME_LEN) {
			pr_warn("attach: ignoring bad name '%s'\n", spec);
			continue;
		}
		if (attestio_stream_expect(spec))
			pr_warn("attach: no room for '%s'\n", spec);
	}
	kfree(list);
}

static int __init attestio_init(void)
{
	int ret;

	ret = attestio_check_params();
	if (ret)
		return ret;
	attestio_instance = get_random_u64();

	ret = attestio_hash_init();
	if (ret)
		return ret;
	ret = attestio_log_init(attestio_log_kb);
	if (ret)
		goto err_uninit_hash;
	attestio_wq = alloc_workqueue("attestio", WQ_UNBOUND | WQ_HIGHPRI, 0);
	if (!attestio_wq) {
		ret = -ENOMEM;
		goto err_uninit_log;
	}
	ret = attestio_mlog_init();
	if (ret)
		goto err_destroy_wq;
	ret = attestio_ksk_init();
	if (ret)
		goto err_uninit_mlog;
	ret = attestio_epoch_init();
	if (ret)
		goto err_uninit_ksk;
	ret = attestio_stream_init();
	if (ret)
		goto err_uninit_epoch;
	ret = attestio_pm_init();
	if (ret)
		goto err_uninit_stream;
	ret = attestio_sysfs_init();
	if (ret)
		goto err_uninit_pm;
	ret = attestio_dev_init();
	if (ret)
		goto err_uninit_sysfs;
	attestio_autoattach();
	pr_info("version %s loaded (instance %016llx)\n", ATTESTIO_VERSION,
		attestio_instance);
	return 0;

err_uninit_sysfs:
	attestio_sysfs_uninit();
err_uninit_pm:
	attestio_pm_uninit();
err_uninit_stream:
	/* streams attached meanwhile end with a final checkpoint */
	attestio_stream_uninit();
err_uninit_epoch:
	attestio_epoch_uninit();
err_uninit_ksk:
	attestio_ksk_uninit();
err_uninit_mlog:
	attestio_mlog_uninit();
err_destroy_wq:
	destroy_workqueue(attestio_wq);
err_uninit_log:
	attestio_log_uninit();
err_uninit_hash:
	attestio_hash_uninit();
	return ret;
}

static void __exit attestio_exit(void)
{
	/* no new reader, attach or detach from here on */
	attestio_dev_uninit();
	attestio_sysfs_uninit();
	attestio_pm_uninit();
	/* detach records, a final checkpoint over them; then no more kicks */
	attestio_stream_uninit();
	attestio_epoch_uninit();
	/* the session key signed that final checkpoint: now it goes */
	attestio_ksk_uninit();
	attestio_mlog_uninit();
	destroy_workqueue(attestio_wq);
	attestio_log_uninit();
	attestio_hash_uninit();
	pr_info("unloaded\n");
}

module_init(attestio_init);
module_exit(attestio_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Attested capture of IIO sensor samples");
MODULE_AUTHOR("attestio developers");
MODULE_VERSION(ATTESTIO_VERSION);
MODULE_IMPORT_NS(IIO);

// SPDX-License-Identifier: GPL-2.0
/*
 * The module's measurement log: every security-relevant event (load, the
 * kernel session key's registration and certification, changes of sign,
 * pcr_mask and key_handle, unload) is extended into PCR ATTESTIO_MLOG_PCR
 * and appended to a log that /sys/kernel/attestio/measurements exposes
 * read-only.  Extend and append happen under one mutex, so the log order
 * is the extend order and a verifier can replay it against a quoted PCR.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/sha2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/tpm.h>

#include "attestio.h"
#include "tpm2_sess.h"

#define ATTESTIO_MLOG_SIZE	(64 * 1024)

static const u8 attestio_tag_mevent[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_MEVENT;

static struct {
	struct mutex lock;	/* protects everything below */
	u8 *log;
	u32 len;
	u32 unmeasured;		/* events the TPM did not take (not logged) */
	u8 *cmd;		/* PAGE_SIZE TPM command buffer */
} attestio_ml;

/* PCR_Extend(ATTESTIO_MLOG_PCR, SHA-256 digest) with an empty password. */
static int attestio_mlog_extend(const u8 *digest)
{
	struct attestio_tpm2_auth pw = { 0 };
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	struct tpm_chip *chip;
	int len, ret;

	lockdep_assert_held(&attestio_ml.lock);
	chip = tpm_default_chip();
	if (!chip)
		return -ENODEV;
	attestio_tpm2_cmd_init(&c, attestio_ml.cmd, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_PCR_EXTEND, &pw, 1);
	attestio_tpm2_cmd_handle(&c, ATTESTIO_MLOG_PCR, NULL, 0);
	attestio_tpm2_cmd_u32(&c, 1);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_SHA256);
	attestio_tpm2_cmd_bytes(&c, digest, SHA256_DIGEST_SIZE);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ml.cmd, len,
						ATTESTIO_TPM2_CC_PCR_EXTEND, 0,
						&pw, 1, &rsp);
	put_device(&chip->dev);
	return ret;
}

/*
 * Measure one event of @type whose data is @a (@alen bytes) followed by
 * @b (@blen bytes).  Returns 0 when it was extended and logged; on failure
 * nothing is logged (the log never claims an extend that did not happen).
 */
int attestio_mlog_measure(u16 type, const void *a, u32 alen, const void *b,
			  u32 blen)
{
	struct attestio_mevent hdr = {
		.type = cpu_to_le16(type),
		.len = cpu_to_le32(alen + blen),
		.instance = cpu_to_le64(attestio_instance),
	};
	u8 digest[SHA256_DIGEST_SIZE];
	struct sha256_state st;
	u32 n = sizeof(hdr) + alen + blen;
	int ret;

	if (alen + blen > ATTESTIO_MEVENT_MAX_LEN)
		return -EMSGSIZE;
	sha256_init(&st);
	sha256_update(&st, attestio_tag_mevent, ATTESTIO_TAG_LEN);
	sha256_update(&st, (const u8 *)&hdr, sizeof(hdr));
	if (alen)
		sha256_update(&st, a, alen);
	if (blen)
		sha256_update(&st, b, blen);
	sha256_final(&st, digest);

	mutex_lock(&attestio_ml.lock);
	if (attestio_ml.len + n > ATTESTIO_MLOG_SIZE) {
		/* never extend what cannot be logged */
		ret = -ENOSPC;
		goto out_unlock;
	}
	ret = attestio_mlog_extend(digest);
	if (ret)
		goto out_unlock;
	memcpy(attestio_ml.log + attestio_ml.len, &hdr, sizeof(hdr));
	if (alen)
		memcpy(attestio_ml.log + attestio_ml.len + sizeof(hdr), a, alen);
	if (blen)
		memcpy(attestio_ml.log + attestio_ml.len + sizeof(hdr) + alen,
		       b, blen);
	attestio_ml.len += n;
out_unlock:
	if (ret)
		attestio_ml.unmeasured++;
	mutex_unlock(&attestio_ml.lock);
	if (ret)
		pr_warn_ratelimited("event %u not measured into PCR %d (%d)\n",
				    type, ATTESTIO_MLOG_PCR, ret);
	return ret;
}

/* A change of a security-relevant setting. */
void attestio_mlog_setting(u32 setting, u32 old_value, u32 new_value)
{
	struct attestio_mev_setting ev = {
		.setting = cpu_to_le32(setting),
		.old_value = cpu_to_le32(old_value),
		.new_value = cpu_to_le32(new_value),
	};

	attestio_mlog_measure(ATTESTIO_MEV_SETTING, &ev, sizeof(ev), NULL, 0);
}

ssize_t attestio_mlog_read(char *buf, loff_t off, size_t count)
{
	ssize_t n;

	mutex_lock(&attestio_ml.lock);
	if (off >= attestio_ml.len) {
		n = 0;
	} else {
		n = min_t(size_t, count, attestio_ml.len - off);
		memcpy(buf, attestio_ml.log + off, n);
	}
	mutex_unlock(&attestio_ml.lock);
	return n;
}

u32 attestio_mlog_unmeasured(void)
{
	u32 n;

	mutex_lock(&attestio_ml.lock);
	n = attestio_ml.unmeasured;
	mutex_unlock(&attestio_ml.lock);
	return n;
}

int attestio_mlog_init(void)
{
	mutex_init(&attestio_ml.lock);
	attestio_ml.log = kvzalloc(ATTESTIO_MLOG_SIZE, GFP_KERNEL);
	if (!attestio_ml.log)
		return -ENOMEM;
	attestio_ml.cmd = (u8 *)__get_free_page(GFP_KERNEL);
	if (!attestio_ml.cmd)
		goto err_free_log;
	return 0;

err_free_log:
	kvfree(attestio_ml.log);
	return -ENOMEM;
}

void attestio_mlog_uninit(void)
{
	free_page((unsigned long)attestio_ml.cmd);
	kvfree(attestio_ml.log);
	mutex_destroy(&attestio_ml.lock);
}

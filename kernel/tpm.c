// SPDX-License-Identifier: GPL-2.0
/*
 * TPM glue: one TPM2_Quote per epoch through the kernel's TPM driver.
 * Called only from the epoch worker (process context, may sleep).  Every
 * response is parsed by tpm2_msg.c as untrusted input.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/tpm.h>

#include "attestio.h"
#include "compat.h"
#include "tpm2_msg.h"

bool attestio_tpm_present(void)
{
	struct tpm_chip *chip = tpm_default_chip();
	bool tpm2;

	if (!chip)
		return false;
	tpm2 = tpm_is_tpm2(chip) > 0;
	put_device(&chip->dev);
	return tpm2;
}

/*
 * tpm_transmit_cmd() with no description: a failing quote is reported by
 * the caller, rate limited, instead of by the TPM core on every epoch.
 */
static int attestio_tpm_transmit(struct tpm_chip *chip, u8 *page, u32 len)
{
	struct tpm_buf buf;
	int ret;

	ret = tpm_try_get_ops(chip);
	if (ret)
		return ret;
	attestio_tpm_buf_wrap(&buf, page, len);
	ret = tpm_transmit_cmd(chip, &buf, 0, NULL);
	tpm_put_ops(chip);
	return ret;
}

enum attestio_cp_status attestio_tpm_quote(const u8 *digest,
					   struct attestio_quote *q)
{
	struct attestio_quote_req req = {
		.ak_handle = q->ak_handle,
		.qdata = digest,
		.qlen = ATTESTIO_HASH_LEN,
		.pcr_mask = q->pcr_mask,
	};
	struct attestio_quote_resp resp;
	struct tpm_chip *chip;
	int len, ret;

	q->tpm_rc = 0;
	if (!READ_ONCE(attestio_sign))
		return ATTESTIO_CP_DISABLED;
	chip = tpm_default_chip();
	if (!chip)
		return ATTESTIO_CP_NO_TPM;
	if (tpm_is_tpm2(chip) <= 0) {
		put_device(&chip->dev);
		return ATTESTIO_CP_NO_TPM;
	}
	if (!req.ak_handle) {
		put_device(&chip->dev);
		return ATTESTIO_CP_NO_KEY;
	}
	memset(q->buf, 0, PAGE_SIZE);
	len = attestio_tpm2_quote_cmd(q->buf, PAGE_SIZE, &req);
	ret = len < 0 ? len : attestio_tpm_transmit(chip, q->buf, len);
	put_device(&chip->dev);
	if (ret) {
		/* negative errno, or the TPM's response code */
		q->tpm_rc = ret;
		return ATTESTIO_CP_TPM_ERROR;
	}
	len = attestio_tpm2_rsp_size(q->buf, PAGE_SIZE);
	ret = len < 0 ? len : attestio_tpm2_quote_parse(q->buf, len, &resp);
	if (ret == -EREMOTEIO) {
		q->tpm_rc = resp.rc;
		return ATTESTIO_CP_TPM_ERROR;
	}
	if (!ret && (resp.extra_len != ATTESTIO_HASH_LEN ||
		     memcmp(resp.extra, digest, ATTESTIO_HASH_LEN)))
		ret = -EBADMSG;	/* quote over something else */
	if (ret) {
		q->tpm_rc = ret;
		return ATTESTIO_CP_BAD_RESPONSE;
	}
	q->attest = resp.attest;
	q->attest_len = resp.attest_len;
	q->sig = resp.sig;
	q->sig_len = resp.sig_len;
	return ATTESTIO_CP_SIGNED;
}

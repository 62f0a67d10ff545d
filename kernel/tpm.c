// SPDX-License-Identifier: GPL-2.0
/*
 * TPM glue: one TPM2_Quote per epoch through the kernel's TPM driver.
 * Called only from the epoch worker (process context, may sleep).  Every
 * response is parsed by tpm2_msg.c as untrusted input.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/tpm.h>

#include "attestio.h"
#include "compat.h"
#include "tpm2_sess.h"

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

/* A TPM that yielded (TPM_RC_YIELDED) gets the command again this often. */
#define ATTESTIO_TPM_YIELD_TRIES 4
#define ATTESTIO_TPM_RC_YIELDED 0x908

/*
 * tpm_transmit_cmd() with no description: a failing command is reported
 * by the caller, rate limited, instead of by the TPM core on every epoch.
 * The response replaces the command in @page.  The core retries
 * TPM_RC_RETRY and TPM_RC_TESTING itself; TPM_RC_YIELDED asks for the same
 * command again, which we do as the core does: an error response is a
 * header only, so restoring the header restores the command.
 */
static int attestio_tpm_transmit(struct tpm_chip *chip, u8 *page, u32 len)
{
	u8 save[TPM_HEADER_SIZE + 3 * sizeof(u32)];
	size_t save_len = min_t(size_t, len, sizeof(save));
	struct tpm_buf buf;
	unsigned int i;
	int ret;

	memcpy(save, page, save_len);
	for (i = 0;; i++) {
		ret = tpm_try_get_ops(chip);
		if (ret)
			return ret;
		attestio_tpm_buf_wrap(&buf, page, len);
		ret = tpm_transmit_cmd(chip, &buf, 0, NULL);
		tpm_put_ops(chip);
		if (ret != ATTESTIO_TPM_RC_YIELDED ||
		    i + 1 >= ATTESTIO_TPM_YIELD_TRIES)
			return ret;
		msleep(20 << i);
		memcpy(page, save, save_len);
	}
}

/*
 * Send the @len byte command in @page (PAGE_SIZE) and split the response
 * (tpm2_sess.c verifies the HMAC of every session in @auths).  Returns 0,
 * a negative errno, or the TPM's response code (positive).
 */
int attestio_tpm_xfer(struct tpm_chip *chip, u8 *page, int len, u32 cc,
		      unsigned int nhandles,
		      const struct attestio_tpm2_auth *auths,
		      unsigned int nauth, struct attestio_tpm2_rsp *rsp)
{
	int ret;

	ret = attestio_tpm_transmit(chip, page, len);
	if (ret < 0)
		return ret;
	/* a positive ret is an error response, parsed strictly below */
	len = attestio_tpm2_rsp_size(page, PAGE_SIZE);
	if (len < 0)
		return len;
	ret = attestio_tpm2_rsp_parse(page, len, cc, nhandles, auths, nauth,
				      rsp);
	if (ret == -EREMOTEIO)
		return rsp->rc;
	return ret;
}

/*
 * One checkpoint signature: TPM2_Quote by the kernel session key (ksk.c),
 * which the enrolled key at key_handle has certified.
 */
enum attestio_cp_status attestio_tpm_quote(const u8 *digest,
					   struct attestio_quote *q)
{
	struct tpm_chip *chip;
	enum attestio_cp_status status;

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
	if (!q->ak_handle) {
		put_device(&chip->dev);
		return ATTESTIO_CP_NO_KEY;
	}
	memset(q->buf, 0, PAGE_SIZE);
	status = attestio_ksk_quote(chip, digest, q);
	put_device(&chip->dev);
	return status;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Salted sessions with parameter encryption, for the one command that has
 * to carry a secret to the TPM: TPM2_Create of the kernel session key,
 * whose inSensitive holds the key's authValue.
 *
 * The salt is agreed by ECDH P-256 (the kernel's ECC library, the same
 * interface on 6.1 and 6.12) with the NULL-hierarchy
 * storage primary that is the key's parent:
 *   salt       = KDFe(SHA-256, Z.x, "SECRET", ephemeral.x, tpmKey.x)
 *   sessionKey = KDFa(SHA-256, salt, "ATH", nonceTPM, nonceCaller, 256)
 * and the first command parameter is encrypted with AES-128-CFB, key and
 * IV = KDFa(SHA-256, sessionKey, "CFB", nonceCaller, nonceTPM, 256) (TPM
 * 2.0 Part 1, 19.6 and 21).  AES is lib/crypto's, present on both
 * kernels; CFB over it is a few lines here.
 *
 * A passive bus interposer then never sees the authValue.  The parent's
 * public key comes from the TPM unauthenticated, so an active interposer
 * that substitutes it could still learn the salt (Documentation/design.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/aes.h>
#include <crypto/ecdh.h>
#include <crypto/internal/ecc.h>
#include <linux/random.h>
#include <linux/tpm.h>

#include "attestio.h"
#include "compat.h"
#include "tpm2_sess.h"

#define ATTESTIO_EC_LEN		32

/* AES-128-CFB (full-block feedback) encryption of @len bytes in place. */
void attestio_cfb_encrypt(const u8 *key, const u8 *iv, u8 *data, size_t len)
{
	struct crypto_aes_ctx ctx;
	u8 ks[AES_BLOCK_SIZE], fb[AES_BLOCK_SIZE];
	size_t i, n;

	if (aes_expandkey(&ctx, key, AES_KEYSIZE_128))
		return;
	memcpy(fb, iv, AES_BLOCK_SIZE);
	while (len) {
		aes_encrypt(&ctx, ks, fb);
		n = min_t(size_t, len, AES_BLOCK_SIZE);
		for (i = 0; i < n; i++)
			data[i] ^= ks[i];
		/* the ciphertext is the next feedback block */
		memcpy(fb, data, n);
		data += n;
		len -= n;
	}
	memzero_explicit(&ctx, sizeof(ctx));
	memzero_explicit(ks, sizeof(ks));
}

/*
 * An ephemeral ECDH P-256 key: its public point into @qx/@qy and the
 * shared x coordinate with (@tx, @ty) into @z.  The kernel's ECC library
 * (crypto/ecc.c, the code behind "ecdh-nist-p256") is called directly:
 * the kpp's self-test needs the default RNG, which Debian's 6.1 builds as
 * a module that is not there when the test runs ("test failed on vector
 * 2, err=-14"); the private key here comes from get_random_bytes().
 * Points and the shared secret are big-endian bytes at this interface.
 */
static int attestio_ecdh(const u8 *tx, const u8 *ty, u8 *qx, u8 *qy, u8 *z)
{
	u64 priv[ECC_CURVE_NIST_P256_DIGITS];
	u64 pub[2 * ECC_CURVE_NIST_P256_DIGITS];
	u64 peer[2 * ECC_CURVE_NIST_P256_DIGITS];
	u64 secret[ECC_CURVE_NIST_P256_DIGITS];
	u8 *k = (u8 *)priv;
	int ret;

	/*
	 * crypto/ecc.c reads a private key as native digits in
	 * ecc_is_key_valid() and as big-endian bytes in ecc_make_pub_key():
	 * below n - 1 either way (n = 0xffffffff00000000ff...).
	 */
	get_random_bytes(priv, sizeof(priv));
	k[0] &= 0x7f;
	k[sizeof(priv) - 1] &= 0x7f;
	ret = ecc_is_key_valid(ECC_CURVE_NIST_P256, ECC_CURVE_NIST_P256_DIGITS,
			       priv, sizeof(priv));
	if (!ret)
		ret = ecc_make_pub_key(ECC_CURVE_NIST_P256,
				       ECC_CURVE_NIST_P256_DIGITS, priv, pub);
	if (ret)
		goto out;
	memcpy(qx, pub, ATTESTIO_EC_LEN);
	memcpy(qy, (u8 *)pub + ATTESTIO_EC_LEN, ATTESTIO_EC_LEN);
	memcpy(peer, tx, ATTESTIO_EC_LEN);
	memcpy((u8 *)peer + ATTESTIO_EC_LEN, ty, ATTESTIO_EC_LEN);
	/* also checks that the TPM's point is on the curve */
	ret = crypto_ecdh_shared_secret(ECC_CURVE_NIST_P256,
					ECC_CURVE_NIST_P256_DIGITS, priv, peer,
					secret);
	if (!ret)
		memcpy(z, secret, ATTESTIO_EC_LEN);
out:
	memzero_explicit(priv, sizeof(priv));
	memzero_explicit(secret, sizeof(secret));
	return ret;
}

/*
 * StartAuthSession salted to the ECC storage key @tpm_key whose public
 * point is (@tx, @ty): an HMAC session with AES-128-CFB parameter
 * encryption; its sessionKey into @session_key.
 */
int attestio_salt_session(struct tpm_chip *chip, u8 *buf, u32 tpm_key,
			  const u8 *tx, const u8 *ty,
			  struct attestio_tpm2_sess *sess, u8 *session_key)
{
	u8 qx[ATTESTIO_EC_LEN], qy[ATTESTIO_EC_LEN], z[ATTESTIO_EC_LEN];
	u8 salt[SHA256_DIGEST_SIZE];
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	int len, ret;

	ret = attestio_ecdh(tx, ty, qx, qy, z);
	if (ret)
		return ret;
	attestio_tpm2_kdfe(z, sizeof(z), "SECRET", qx, sizeof(qx), tx,
			   ATTESTIO_EC_LEN, salt);
	memzero_explicit(z, sizeof(z));

	memset(sess, 0, sizeof(*sess));
	get_random_bytes(sess->nonce_caller, sizeof(sess->nonce_caller));
	attestio_tpm2_cmd_init(&c, buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_START_AUTH_SESSION, NULL, 0);
	attestio_tpm2_cmd_handle(&c, tpm_key, NULL, 0);
	attestio_tpm2_cmd_handle(&c, ATTESTIO_TPM2_RH_NULL, NULL, 0);
	attestio_tpm2_cmd_2b(&c, sess->nonce_caller, ATTESTIO_TPM2_NONCE_LEN);
	/* encryptedSalt: the ephemeral TPMS_ECC_POINT */
	attestio_tpm2_cmd_u16(&c, 4 + 2 * ATTESTIO_EC_LEN);
	attestio_tpm2_cmd_2b(&c, qx, ATTESTIO_EC_LEN);
	attestio_tpm2_cmd_2b(&c, qy, ATTESTIO_EC_LEN);
	attestio_tpm2_cmd_u8(&c, ATTESTIO_TPM2_SE_HMAC);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_AES);
	attestio_tpm2_cmd_u16(&c, 128);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_CFB);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_SHA256);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, buf, len,
				ATTESTIO_TPM2_CC_START_AUTH_SESSION, 1, NULL, 0,
				&rsp);
	if (!ret)
		ret = attestio_tpm2_start_session_parse(&rsp, sess);
	if (!ret)
		attestio_tpm2_kdfa(salt, sizeof(salt), "ATH", sess->nonce_tpm,
				   sess->nonce_tpm_len, sess->nonce_caller,
				   ATTESTIO_TPM2_NONCE_LEN, session_key,
				   SHA256_DIGEST_SIZE);
	memzero_explicit(salt, sizeof(salt));
	return ret;
}

/*
 * Encrypt the first parameter of @c for @sess (a decrypt session whose
 * nonceCaller for this command is already set), before
 * attestio_tpm2_cmd_finish() computes cpHash over the ciphertext.
 */
int attestio_salt_encrypt_param1(struct attestio_tpm2_cmd *c,
				 const struct attestio_tpm2_sess *sess,
				 const u8 *session_key)
{
	u8 kiv[2 * AES_BLOCK_SIZE];
	u16 n;
	u8 *p = attestio_tpm2_cmd_param1(c, &n);

	if (!p)
		return -EINVAL;
	attestio_tpm2_kdfa(session_key, SHA256_DIGEST_SIZE, "CFB",
			   sess->nonce_caller, ATTESTIO_TPM2_NONCE_LEN,
			   sess->nonce_tpm, sess->nonce_tpm_len, kiv, sizeof(kiv));
	attestio_cfb_encrypt(kiv, kiv + AES_BLOCK_SIZE, p, n);
	memzero_explicit(kiv, sizeof(kiv));
	return 0;
}

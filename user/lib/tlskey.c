// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A TLS client key that never leaves the TPM: an ECC P-256 signing key
 * (unrestricted: it signs the TLS handshake's digest) created under the EK
 * and persisted at a handle, and an EVP_PKEY for it whose ECDSA signatures
 * are made by TPM2_Sign.
 *
 * Why not the tpm2-openssl provider: with Debian 12's tpm2-openssl 1.1.1
 * the provider also runs every handshake digest as a TPM hash sequence
 * and exhausts the 3 objects the kernel resource manager gives each open
 * (TPM_RC_OBJECT_MEMORY), while preferring the default provider for
 * digests makes libssl sign with the key's exported public half
 * (Documentation/attestiod.md, "TPM-resident TLS key").  An EC_KEY_METHOD
 * whose sign goes to the TPM is the interface OpenSSL 3.0 still routes
 * through libssl for such keys (a key with a non-default method is a
 * "foreign" legacy key, signed through its method); it is deprecated, so
 * this file alone suppresses the deprecation warnings.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <tss2/tss2_rc.h>

#include "tpm_internal.h"

struct tls_tpm_key {
	struct att_tpm t;
	ESYS_TR key;
};

static EC_KEY_METHOD *tls_meth;
static int tls_idx = -1;

static void tls_key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			 long argl, void *argp)
{
	struct tls_tpm_key *k = ptr;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (!k)
		return;
	if (k->key != ESYS_TR_NONE)
		Esys_TR_Close(k->t.esys, &k->key);
	att_tpm_close(&k->t);
	OPENSSL_free(k);
}

/* ECDSA over @dgst by the TPM.  The digest is taken as the integer of its
 * first 32 bytes (what ECDSA on P-256 uses of a longer one), left-padded
 * when shorter, and signed as a SHA-256 digest. */
static ECDSA_SIG *tls_sign_sig(const unsigned char *dgst, int dlen,
			       const BIGNUM *kinv, const BIGNUM *rp, EC_KEY *ec)
{
	struct tls_tpm_key *k = EC_KEY_get_ex_data(ec, tls_idx);
	TPMT_SIG_SCHEME scheme = {
		.scheme = TPM2_ALG_ECDSA,
		.details.ecdsa.hashAlg = TPM2_ALG_SHA256,
	};
	TPMT_TK_HASHCHECK ticket = {
		.tag = TPM2_ST_HASHCHECK,
		.hierarchy = TPM2_RH_NULL,
	};
	TPM2B_DIGEST d = { .size = 32 };
	TPMT_SIGNATURE *sig = NULL;
	ECDSA_SIG *out = NULL;
	BIGNUM *r, *s;

	(void)kinv; (void)rp;
	if (!k || dlen <= 0)
		return NULL;
	if (dlen >= 32)
		memcpy(d.buffer, dgst, 32);
	else
		memcpy(d.buffer + 32 - dlen, dgst, (size_t)dlen);
	if (Esys_Sign(k->t.esys, k->key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		      ESYS_TR_NONE, &d, &scheme, &ticket, &sig) != TSS2_RC_SUCCESS)
		return NULL;
	r = BN_bin2bn(sig->signature.ecdsa.signatureR.buffer,
		      sig->signature.ecdsa.signatureR.size, NULL);
	s = BN_bin2bn(sig->signature.ecdsa.signatureS.buffer,
		      sig->signature.ecdsa.signatureS.size, NULL);
	Esys_Free(sig);
	out = ECDSA_SIG_new();
	if (!r || !s || !out || !ECDSA_SIG_set0(out, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(out);
		return NULL;
	}
	return out;
}

static int tls_sign(int type, const unsigned char *dgst, int dlen,
		    unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
		    const BIGNUM *r, EC_KEY *ec)
{
	ECDSA_SIG *s = tls_sign_sig(dgst, dlen, kinv, r, ec);
	int n;

	(void)type;
	if (!s)
		return 0;
	n = i2d_ECDSA_SIG(s, &sig);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

/* There is no per-signature setup to precompute outside the TPM. */
static int tls_sign_setup(EC_KEY *ec, BN_CTX *ctx, BIGNUM **kinv, BIGNUM **r)
{
	(void)ec; (void)ctx; (void)kinv; (void)r;
	return 0;
}

static int tls_meth_init(void)
{
	if (tls_meth)
		return 0;
	tls_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, tls_key_free);
	tls_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
	if (tls_idx < 0 || !tls_meth)
		return -1;
	EC_KEY_METHOD_set_sign(tls_meth, tls_sign, tls_sign_setup, tls_sign_sig);
	return 0;
}

/* The TLS key template: ECC P-256, sign only, unrestricted, made in this
 * TPM and never duplicable, usable with an empty password. */
static void tls_template(TPM2B_PUBLIC *p)
{
	memset(p, 0, sizeof(*p));
	p->publicArea.type = TPM2_ALG_ECC;
	p->publicArea.nameAlg = TPM2_ALG_SHA256;
	p->publicArea.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT |
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
	p->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	p->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

int att_tls_key_create(const char *tcti, uint32_t handle, struct att_err *err)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcrs = { 0 };
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC tmpl, *pub = NULL;
	ESYS_TR ek = ESYS_TR_NONE, sess = ESYS_TR_NONE, key = ESYS_TR_NONE;
	ESYS_TR persist;
	struct att_tpm t;
	bool exists;
	TSS2_RC rc;
	int ret;

	if (handle < 0x81000000u || handle > 0x81ffffffu)
		return att_tpm_seterr(err, ATT_EINVAL, "TLS key handle 0x%08x is "
				      "not a persistent handle (0x81xxxxxx)", handle);
	ret = att_tpm_open(tcti, &t, err);
	if (ret)
		return ret;
	ret = att_tpm_handle_exists(&t, handle, &exists, err);
	if (!ret && exists)
		ret = att_tpm_seterr(err, ATT_EINVAL, "TPM handle 0x%08x is taken: "
				     "pick another, or evict it (tpm2_evictcontrol "
				     "-C o -c 0x%08x) if it is an old TLS key",
				     handle, handle);
	if (!ret)
		ret = att_tpm_create_ek(&t, &ek, NULL, err);
	if (ret)
		goto out;
	tls_template(&tmpl);
	ret = att_tpm_ek_session(&t, &sess, err);
	if (ret)
		goto out;
	rc = Esys_Create(t.esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
			 &tmpl, &outside, &pcrs, &priv, &pub, NULL, NULL, NULL);
	Esys_FlushContext(t.esys, sess);
	if (rc != TSS2_RC_SUCCESS) {
		ret = att_tpm_fail(err, "creating the TLS key", rc, false);
		goto out;
	}
	ret = att_tpm_ek_session(&t, &sess, err);
	if (ret)
		goto out;
	rc = Esys_Load(t.esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &key);
	Esys_FlushContext(t.esys, sess);
	if (rc != TSS2_RC_SUCCESS) {
		key = ESYS_TR_NONE;
		ret = att_tpm_fail(err, "loading the TLS key", rc, false);
		goto out;
	}
	rc = Esys_EvictControl(t.esys, ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, handle, &persist);
	if (rc != TSS2_RC_SUCCESS) {
		char what[64];

		snprintf(what, sizeof(what), "making the TLS key persistent at 0x%08x",
			 handle);
		ret = att_tpm_fail(err, what, rc, true);
		goto out;
	}
	Esys_TR_Close(t.esys, &persist);
out:
	if (key != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, key);
	if (ek != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, ek);
	Esys_Free(priv);
	Esys_Free(pub);
	att_tpm_close(&t);
	return ret;
}

int att_tls_key_load(const char *tcti, uint32_t handle, EVP_PKEY **out,
		     struct att_err *err)
{
	const TPMA_OBJECT need = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH;
	struct tls_tpm_key *k;
	TPM2B_PUBLIC *pub = NULL;
	const TPMS_ECC_PARMS *ep;
	BIGNUM *x = NULL, *y = NULL;
	EC_KEY *ec = NULL;
	EVP_PKEY *pk = NULL;
	TPMA_OBJECT a;
	TSS2_RC rc;
	int ret;

	*out = NULL;
	if (tls_meth_init())
		return att_tpm_seterr(err, ATT_ENOMEM, "cannot set up the TPM key method");
	k = OPENSSL_zalloc(sizeof(*k));
	if (!k)
		return att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
	k->key = ESYS_TR_NONE;
	ret = att_tpm_open(tcti, &k->t, err);
	if (ret) {
		OPENSSL_free(k);
		return ret;
	}
	rc = Esys_TR_FromTPMPublic(k->t.esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &k->key);
	if (rc != TSS2_RC_SUCCESS) {
		k->key = ESYS_TR_NONE;
		ret = att_tpm_seterr(err, ATT_EKEY, "no TLS key at TPM handle 0x%08x "
				     "(attestio tls-key --create --handle 0x%08x makes "
				     "one): %s", handle, handle, Tss2_RC_Decode(rc));
		goto fail;
	}
	rc = Esys_ReadPublic(k->t.esys, k->key, ESYS_TR_NONE, ESYS_TR_NONE,
			     ESYS_TR_NONE, &pub, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		ret = att_tpm_fail(err, "reading the TLS key's public area", rc, false);
		goto fail;
	}
	a = pub->publicArea.objectAttributes;
	ep = &pub->publicArea.parameters.eccDetail;
	if (pub->publicArea.type != TPM2_ALG_ECC || ep->curveID != TPM2_ECC_NIST_P256 ||
	    (a & need) != need || (a & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)) ||
	    (ep->scheme.scheme != TPM2_ALG_NULL &&
	     !(ep->scheme.scheme == TPM2_ALG_ECDSA &&
	       ep->scheme.details.ecdsa.hashAlg == TPM2_ALG_SHA256))) {
		ret = att_tpm_seterr(err, ATT_EKEY, "TPM handle 0x%08x is not a TLS "
				     "key: it must be an unrestricted ECC P-256 "
				     "signing key (ECDSA-SHA256 or no scheme) usable "
				     "with a password", handle);
		goto fail;
	}
	Esys_TR_SetAuth(k->t.esys, k->key, &(TPM2B_AUTH){ .size = 0 });
	x = BN_bin2bn(pub->publicArea.unique.ecc.x.buffer,
		      pub->publicArea.unique.ecc.x.size, NULL);
	y = BN_bin2bn(pub->publicArea.unique.ecc.y.buffer,
		      pub->publicArea.unique.ecc.y.size, NULL);
	ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	if (!x || !y || !ec || !EC_KEY_set_method(ec, tls_meth) ||
	    !EC_KEY_set_public_key_affine_coordinates(ec, x, y) ||
	    !EC_KEY_set_ex_data(ec, tls_idx, k)) {
		ret = att_tpm_seterr(err, ATT_EKEY, "TPM handle 0x%08x: its public "
				     "point is not on P-256", handle);
		goto fail;
	}
	k = NULL;	/* the EC_KEY owns it now */
	pk = EVP_PKEY_new();
	if (!pk || !EVP_PKEY_assign_EC_KEY(pk, ec)) {
		ret = att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
		goto fail;
	}
	ec = NULL;
	*out = pk;
	pk = NULL;
	ret = 0;
fail:
	EVP_PKEY_free(pk);
	EC_KEY_free(ec);
	BN_free(x);
	BN_free(y);
	Esys_Free(pub);
	if (k)
		tls_key_free(NULL, k, NULL, 0, 0, NULL);
	return ret;
}

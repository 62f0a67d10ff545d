// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TPM2_Quote verification: TPMS_ATTEST and TPMT_SIGNATURE unmarshalled with
 * libtss2-mu (each must consume its buffer exactly), the signature checked
 * with OpenSSL EVP over the marshalled attest bytes.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "internal.h"

static const EVP_MD *att_md(TPMI_ALG_HASH alg)
{
	switch (alg) {
	case TPM2_ALG_SHA256:
		return EVP_sha256();
	case TPM2_ALG_SHA384:
		return EVP_sha384();
	case TPM2_ALG_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

/* DER ECDSA-Sig-Value from the TPM's r and s; returns length or 0. */
static int att_ecdsa_der(const TPMS_SIGNATURE_ECC *e, unsigned char **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r, *s;
	int len;

	if (!sig)
		return 0;
	r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	s = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
	if (!r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return 0;
	}
	*der = NULL;
	len = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return len > 0 ? len : 0;
}

int att_sig_verify(const struct att_key *key, const uint8_t *attest,
		   size_t attest_len, const TPMT_SIGNATURE *ts,
		   struct att_err *err)
{
	EVP_PKEY *pkey = att_key_pkey(key);
	const unsigned char *sig;
	unsigned char *der = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md = NULL;
	const EVP_MD *alg;
	size_t sig_len;
	int id, ret, pad = 0;

	if (!pkey)
		return att_err(err, ATT_EKEY, "no attestation key to check the quote signature with");
	id = EVP_PKEY_get_base_id(pkey);
	switch (ts->sigAlg) {
	case TPM2_ALG_ECDSA:
		if (id != EVP_PKEY_EC)
			return att_err(err, ATT_ESIG, "ECDSA signature but the key is not an EC key");
		alg = att_md(ts->signature.ecdsa.hash);
		if (!alg)
			return att_err(err, ATT_ESIG, "ECDSA signature with unsupported hash 0x%04x",
				       ts->signature.ecdsa.hash);
		if (!ts->signature.ecdsa.signatureR.size ||
		    !ts->signature.ecdsa.signatureS.size)
			return att_err(err, ATT_ESIG, "ECDSA signature with empty r or s");
		sig_len = (size_t)att_ecdsa_der(&ts->signature.ecdsa, &der);
		if (!sig_len)
			return att_err(err, ATT_ENOMEM, "cannot encode the ECDSA signature");
		sig = der;
		break;
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		if (id != EVP_PKEY_RSA && id != EVP_PKEY_RSA_PSS)
			return att_err(err, ATT_ESIG, "RSA signature but the key is not an RSA key");
		alg = att_md(ts->signature.rsassa.hash);
		if (!alg)
			return att_err(err, ATT_ESIG, "RSA signature with unsupported hash 0x%04x",
				       ts->signature.rsassa.hash);
		sig = ts->signature.rsassa.sig.buffer;
		sig_len = ts->signature.rsassa.sig.size;
		if ((int)sig_len != EVP_PKEY_get_size(pkey))
			return att_err(err, ATT_ESIG, "RSA signature of %zu bytes for a %d-byte key",
				       sig_len, EVP_PKEY_get_size(pkey));
		pad = ts->sigAlg == TPM2_ALG_RSAPSS ? RSA_PKCS1_PSS_PADDING :
						       RSA_PKCS1_PADDING;
		break;
	default:
		return att_err(err, ATT_ESIG, "unsupported signature algorithm 0x%04x",
			       ts->sigAlg);
	}
	md = EVP_MD_CTX_new();
	if (!md) {
		ret = att_err(err, ATT_ENOMEM, "out of memory verifying a signature");
		goto out;
	}
	if (EVP_DigestVerifyInit(md, &pctx, alg, NULL, pkey) != 1 ||
	    (pad && EVP_PKEY_CTX_set_rsa_padding(pctx, pad) != 1) ||
	    (pad == RSA_PKCS1_PSS_PADDING &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)) {
		ret = att_err(err, ATT_ESIG, "OpenSSL cannot set up the signature check");
		goto out;
	}
	if (EVP_DigestVerify(md, sig, sig_len, attest, attest_len) != 1) {
		ret = att_err(err, ATT_ESIG,
			      "quote signature does not verify with the attestation key");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ret;
}

int att_quote_verify(const struct att_key *key, const uint8_t *attest,
		     size_t attest_len, const uint8_t *sig, size_t sig_len,
		     const uint8_t *qdata, size_t qlen,
		     struct att_quote_info *info, struct att_err *err)
{
	const TPMS_QUOTE_INFO *q;
	struct att_quote_info qi;
	TPMT_SIGNATURE ts;
	TPMS_ATTEST a;
	size_t off = 0;
	uint32_t i, j;
	int ret;

	if (!attest || !sig || (!qdata && qlen))
		return att_err(err, ATT_EINVAL, "att_quote_verify: NULL argument");
	memset(&a, 0, sizeof(a));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, &a) != 0)
		return att_err(err, ATT_EQUOTE,
			       "TPMS_ATTEST (%zu bytes) does not unmarshal",
			       attest_len);
	if (off != attest_len)
		return att_err(err, ATT_EQUOTE,
			       "TPMS_ATTEST has %zu trailing bytes", attest_len - off);
	if (a.magic != TPM2_GENERATED_VALUE)
		return att_err(err, ATT_EQUOTE,
			       "TPMS_ATTEST magic 0x%08x is not TPM_GENERATED_VALUE",
			       a.magic);
	if (a.type != TPM2_ST_ATTEST_QUOTE)
		return att_err(err, ATT_EQUOTE,
			       "TPMS_ATTEST type 0x%04x is not TPM_ST_ATTEST_QUOTE",
			       a.type);
	if (a.extraData.size != qlen ||
	    (qlen && memcmp(a.extraData.buffer, qdata, qlen)))
		return att_err(err, ATT_EQUOTE,
			       "quote extraData (%u bytes) differs from the expected qualifying data (%zu bytes)",
			       a.extraData.size, qlen);
	{
		const uint8_t *qn;
		size_t qn_len;

		att_key_qualified_name(key, &qn, &qn_len);
		if (qn && (a.qualifiedSigner.size != qn_len ||
			   memcmp(a.qualifiedSigner.name, qn, qn_len)))
			return att_err(err, ATT_EQUOTE,
				       "TPMS_ATTEST qualifiedSigner (%u bytes) is not the enrolled AK's qualified name",
				       a.qualifiedSigner.size);
	}
	q = &a.attested.quote;
	memset(&qi, 0, sizeof(qi));
	qi.clock = a.clockInfo.clock;
	qi.reset_count = a.clockInfo.resetCount;
	qi.restart_count = a.clockInfo.restartCount;
	qi.safe = a.clockInfo.safe;
	qi.firmware_version = a.firmwareVersion;
	if (q->pcrSelect.count > TPM2_NUM_PCR_BANKS)
		return att_err(err, ATT_EQUOTE, "quote selects %u PCR banks",
			       q->pcrSelect.count);
	for (i = 0; i < q->pcrSelect.count; i++) {
		const TPMS_PCR_SELECTION *s = &q->pcrSelect.pcrSelections[i];

		if (s->sizeofSelect > TPM2_PCR_SELECT_MAX)
			return att_err(err, ATT_EQUOTE,
				       "quote PCR selection of %u bytes",
				       s->sizeofSelect);
		if (s->hash != TPM2_ALG_SHA256)
			continue;
		for (j = 0; j < s->sizeofSelect && j < 4; j++)
			qi.pcr_select |= (uint32_t)s->pcrSelect[j] << (8 * j);
	}
	if (q->pcrDigest.size > sizeof(qi.pcr_digest))
		return att_err(err, ATT_EQUOTE, "quote PCR digest of %u bytes",
			       q->pcrDigest.size);
	qi.pcr_digest_len = q->pcrDigest.size;
	memcpy(qi.pcr_digest, q->pcrDigest.buffer, q->pcrDigest.size);
	if (a.extraData.size > sizeof(qi.extra))
		return att_err(err, ATT_EQUOTE, "quote extraData of %u bytes",
			       a.extraData.size);
	qi.extra_len = a.extraData.size;
	memcpy(qi.extra, a.extraData.buffer, a.extraData.size);

	off = 0;
	memset(&ts, 0, sizeof(ts));
	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, sig_len, &off, &ts) != 0)
		return att_err(err, ATT_ESIG,
			       "TPMT_SIGNATURE (%zu bytes) does not unmarshal",
			       sig_len);
	if (off != sig_len)
		return att_err(err, ATT_ESIG,
			       "TPMT_SIGNATURE has %zu trailing bytes",
			       sig_len - off);
	ret = att_sig_verify(key, attest, attest_len, &ts, err);
	if (ret)
		return ret;
	if (info)
		*info = qi;
	return 0;
}

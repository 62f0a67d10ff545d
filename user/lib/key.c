// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attestation keys: PEM SubjectPublicKeyInfo or a marshalled TPM2B_PUBLIC
 * (ECC NIST P-256/P-384/P-521 or RSA), held as an OpenSSL EVP_PKEY.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "internal.h"
#include "sim.h"
#include "tpm_internal.h"

#define ATT_KEY_FILE_MAX	(64 * 1024)

int att_key_wrap(EVP_PKEY *pkey, struct att_key **out, struct att_err *err)
{
	struct att_key *k = calloc(1, sizeof(*k));

	if (!k)
		return att_err(err, ATT_ENOMEM, "out of memory for a key");
	k->pkey = pkey;
	*out = k;
	return 0;
}

void att_key_free(struct att_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->pub);
	free(key);
}

/* Check that a freshly built public key is well formed (point on curve). */
static int att_key_check(EVP_PKEY *pkey, struct att_err *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok;

	if (!c)
		return att_err(err, ATT_ENOMEM, "out of memory checking a key");
	ok = EVP_PKEY_public_check(c) == 1;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : att_err(err, ATT_EKEY,
				"public key fails OpenSSL's validity check");
}

static int att_fromdata(const char *type, OSSL_PARAM_BLD *bld,
			EVP_PKEY **pkey, struct att_err *err)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	int ret = 0;

	*pkey = NULL;
	if (!params || !c) {
		ret = att_err(err, ATT_ENOMEM, "out of memory building a key");
		goto out;
	}
	if (EVP_PKEY_fromdata_init(c) != 1 ||
	    EVP_PKEY_fromdata(c, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		ret = att_err(err, ATT_EKEY, "%s public key rejected by OpenSSL",
			      type);
		goto out;
	}
out:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(c);
	return ret;
}

static int att_ecc_from_public(const TPMT_PUBLIC *p, EVP_PKEY **pkey,
			       struct att_err *err)
{
	const TPMS_ECC_POINT *pt = &p->unique.ecc;
	const char *group;
	unsigned char pub[1 + 2 * 66];
	size_t fl;
	OSSL_PARAM_BLD *bld;
	int ret;

	switch (p->parameters.eccDetail.curveID) {
	case TPM2_ECC_NIST_P256:
		group = "prime256v1";
		fl = 32;
		break;
	case TPM2_ECC_NIST_P384:
		group = "secp384r1";
		fl = 48;
		break;
	case TPM2_ECC_NIST_P521:
		group = "secp521r1";
		fl = 66;
		break;
	default:
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: unsupported ECC curve 0x%04x",
			       p->parameters.eccDetail.curveID);
	}
	if (!pt->x.size || !pt->y.size || pt->x.size > fl || pt->y.size > fl)
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: ECC point coordinates of %u and %u bytes do not fit %s",
			       pt->x.size, pt->y.size, group);
	/* uncompressed point, coordinates left-padded to the field size */
	memset(pub, 0, sizeof(pub));
	pub[0] = 0x04;
	memcpy(pub + 1 + fl - pt->x.size, pt->x.buffer, pt->x.size);
	memcpy(pub + 1 + 2 * fl - pt->y.size, pt->y.buffer, pt->y.size);
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return att_err(err, ATT_ENOMEM, "out of memory building a key");
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					      pub, 1 + 2 * fl)) {
		OSSL_PARAM_BLD_free(bld);
		return att_err(err, ATT_ENOMEM, "out of memory building a key");
	}
	ret = att_fromdata("EC", bld, pkey, err);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

static int att_rsa_from_public(const TPMT_PUBLIC *p, EVP_PKEY **pkey,
			       struct att_err *err)
{
	const TPM2B_PUBLIC_KEY_RSA *n = &p->unique.rsa;
	uint32_t exp = p->parameters.rsaDetail.exponent;
	uint16_t bits = p->parameters.rsaDetail.keyBits;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int ret;

	if (!exp)
		exp = 65537;
	if (bits < 1024 || bits > 4096 || bits % 8 || n->size != bits / 8)
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: RSA modulus of %u bytes for %u key bits",
			       n->size, bits);
	bn_n = BN_bin2bn(n->buffer, n->size, NULL);
	bn_e = BN_new();
	bld = OSSL_PARAM_BLD_new();
	if (!bn_n || !bn_e || !bld || !BN_set_word(bn_e, exp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
		ret = att_err(err, ATT_ENOMEM, "out of memory building a key");
		goto out;
	}
	ret = att_fromdata("RSA", bld, pkey, err);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return ret;
}

/*
 * An attestation key is a restricted signing key the TPM made and never
 * lets out: restricted, sign, fixedTPM, fixedParent, sensitiveDataOrigin,
 * not decrypt.  A key without them could be a software key imported into a
 * TPM (or no TPM key at all) and sign anything.
 */
static int att_ak_attributes(const TPMT_PUBLIC *p, struct att_err *err)
{
	static const struct {
		TPMA_OBJECT bit;
		const char *name;
	} need[] = {
		{ TPMA_OBJECT_RESTRICTED, "restricted" },
		{ TPMA_OBJECT_SIGN_ENCRYPT, "sign" },
		{ TPMA_OBJECT_FIXEDTPM, "fixedTPM" },
		{ TPMA_OBJECT_FIXEDPARENT, "fixedParent" },
		{ TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin" },
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(p->objectAttributes & need[i].bit))
			return att_err(err, ATT_EKEY,
				       "TPM2B_PUBLIC: not an attestation key: attribute %s is not set (objectAttributes 0x%08x)",
				       need[i].name, p->objectAttributes);
	if (p->objectAttributes & TPMA_OBJECT_DECRYPT)
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: not an attestation key: it is also a decryption key (objectAttributes 0x%08x)",
			       p->objectAttributes);
	return 0;
}

int att_key_from_tpm2b_public(const uint8_t *buf, size_t len,
			      struct att_key **out, struct att_err *err)
{
	TPM2B_PUBLIC pub;
	EVP_PKEY *pkey = NULL;
	size_t off = 0;
	int ret;

	if (!buf || !out)
		return att_err(err, ATT_EINVAL, "att_key_from_tpm2b_public: NULL argument");
	*out = NULL;
	memset(&pub, 0, sizeof(pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &pub) != 0)
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: does not unmarshal (%zu bytes)",
			       len);
	if (off != len)
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: %zu trailing bytes after the structure",
			       len - off);
	ret = att_ak_attributes(&pub.publicArea, err);
	if (ret)
		return ret;
	switch (pub.publicArea.type) {
	case TPM2_ALG_ECC:
		ret = att_ecc_from_public(&pub.publicArea, &pkey, err);
		break;
	case TPM2_ALG_RSA:
		ret = att_rsa_from_public(&pub.publicArea, &pkey, err);
		break;
	default:
		return att_err(err, ATT_EKEY,
			       "TPM2B_PUBLIC: unsupported key type 0x%04x",
			       pub.publicArea.type);
	}
	if (ret)
		return ret;
	ret = att_key_check(pkey, err);
	if (!ret)
		ret = att_key_wrap(pkey, out, err);
	if (ret) {
		EVP_PKEY_free(pkey);
		return ret;
	}
	(*out)->origin_checked = true;
	(*out)->pub = malloc(len);
	if (!(*out)->pub) {
		att_key_free(*out);
		*out = NULL;
		return att_err(err, ATT_ENOMEM, "out of memory for a key");
	}
	memcpy((*out)->pub, buf, len);
	(*out)->pub_len = len;
	return 0;
}

/*
 * The qualified name of the AK, a child of the EK in the endorsement
 * hierarchy (TPM 2.0 Part 1, "Qualified Name"): QN(EK) = H(handle of
 * TPM_RH_ENDORSEMENT || Name(EK)), QN(AK) = H(QN(EK) || Name(AK)), each
 * prefixed with the name algorithm (SHA-256).
 */
static int att_bundle_qn(const struct att_enroll_bundle *b, uint8_t *qn,
			 size_t *qn_len)
{
	uint8_t ek_name[66], buf[4 + 66 + 66];
	size_t ek_name_len;
	TPM2B_PUBLIC ek;

	if (att_tpm_unmarshal_public(b->ek_pub, b->ek_pub_len, &ek) ||
	    att_tpm_name(&ek.publicArea, ek_name, &ek_name_len) ||
	    ek_name_len != 34 || b->ak_name_len != 34)
		return -1;
	buf[0] = 0x40;
	buf[1] = 0x00;
	buf[2] = 0x00;
	buf[3] = 0x0b;
	memcpy(buf + 4, ek_name, 34);
	qn[0] = 0x00;
	qn[1] = 0x0b;
	SHA256(buf, 4 + 34, qn + 2);	/* QN(EK) */
	memcpy(buf, qn, 34);
	memcpy(buf + 34, b->ak_name, 34);
	SHA256(buf, 68, qn + 2);	/* QN(AK) */
	*qn_len = 34;
	return 0;
}

/* The AK of an enrollment bundle, with its expected qualified name. */
static int att_key_from_bundle(const uint8_t *buf, size_t len,
			       struct att_key **out, struct att_err *err)
{
	struct att_enroll_bundle b;
	int ret = att_enroll_parse(buf, len, &b, err);

	if (ret)
		return ret;
	ret = att_key_from_tpm2b_public(b.ak_pub, b.ak_pub_len, out, err);
	if (!ret && att_bundle_qn(&b, (*out)->qn, &(*out)->qn_len)) {
		att_key_free(*out);
		*out = NULL;
		ret = att_err(err, ATT_EKEY,
			      "enrollment bundle: cannot compute the AK's qualified name");
	}
	att_enroll_free(&b);
	return ret;
}

bool att_key_simulated(const struct att_key *key)
{
	return key && key->simulated;
}

bool att_key_origin_checked(const struct att_key *key)
{
	return key && key->origin_checked;
}

void att_key_qualified_name(const struct att_key *key, const uint8_t **qn,
			    size_t *len)
{
	*qn = key && key->qn_len ? key->qn : NULL;
	*len = key ? key->qn_len : 0;
}

/* A simulated gateway's key (sim.h): SubjectPublicKeyInfo, its own label. */
static EVP_PKEY *sim_pubkey(BIO *bio)
{
	char *name = NULL, *hdr = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;
	long dlen = 0;

	if (PEM_read_bio(bio, &name, &hdr, &der, &dlen) == 1 &&
	    !strcmp(name, ATT_SIM_PEM_LABEL)) {
		p = der;
		pkey = d2i_PUBKEY(NULL, &p, dlen);
		if (pkey && p != der + dlen) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(der);
	return pkey;
}

static int att_key_from_pem(const uint8_t *buf, size_t len,
			    struct att_key **out, struct att_err *err,
			    const char *path)
{
	static const char sim_begin[] = "-----BEGIN " ATT_SIM_PEM_LABEL "-----";
	bool sim = len >= sizeof(sim_begin) - 1 &&
		   !memcmp(buf, sim_begin, sizeof(sim_begin) - 1);
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *pkey;
	int ret, id;

	if (!bio)
		return att_err(err, ATT_ENOMEM, "out of memory reading %s", path);
	pkey = sim ? sim_pubkey(bio) : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return att_err(err, ATT_EKEY,
			       "%s: not a PEM public key (SubjectPublicKeyInfo)",
			       path);
	id = EVP_PKEY_get_base_id(pkey);
	if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA && id != EVP_PKEY_RSA_PSS) {
		EVP_PKEY_free(pkey);
		return att_err(err, ATT_EKEY, "%s: not an EC or RSA public key",
			       path);
	}
	ret = att_key_check(pkey, err);
	if (!ret)
		ret = att_key_wrap(pkey, out, err);
	if (ret)
		EVP_PKEY_free(pkey);
	else
		(*out)->simulated = sim;
	return ret;
}

int att_key_parse(const uint8_t *buf, size_t len, struct att_key **out,
		  struct att_err *err)
{
	if (!buf || !out)
		return att_err(err, ATT_EINVAL, "att_key_parse: NULL argument");
	*out = NULL;
	if (len > ATT_KEY_FILE_MAX)
		return att_err(err, ATT_EKEY, "too large for a public key");
	if (len >= 10 && !memcmp(buf, "-----BEGIN", 10))
		return att_key_from_pem(buf, len, out, err, "key");
	if (len >= 16 && !memcmp(buf, "ATTESTIO-ENROLL", 16))
		return att_key_from_bundle(buf, len, out, err);
	return att_key_from_tpm2b_public(buf, len, out, err);
}

int att_key_load(const char *path, struct att_key **out, struct att_err *err)
{
	uint8_t *buf;
	size_t len = 0, n;
	FILE *f;
	int ret;

	if (!path || !out)
		return att_err(err, ATT_EINVAL, "att_key_load: NULL argument");
	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return att_err(err, ATT_EIO, "%s: %s", path, strerror(errno));
	buf = malloc(ATT_KEY_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return att_err(err, ATT_ENOMEM, "out of memory reading %s", path);
	}
	while ((n = fread(buf + len, 1, ATT_KEY_FILE_MAX + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		ret = att_err(err, ATT_EIO, "%s: read error", path);
		goto out;
	}
	if (len > ATT_KEY_FILE_MAX) {
		ret = att_err(err, ATT_EKEY, "%s: too large for a public key",
			      path);
		goto out;
	}
	if (len >= 10 && !memcmp(buf, "-----BEGIN", 10)) {
		ret = att_key_from_pem(buf, len, out, err, path);
	} else if (len >= 16 && !memcmp(buf, "ATTESTIO-ENROLL", 16)) {
		ret = att_key_from_bundle(buf, len, out, err);
	} else {
		ret = att_key_from_tpm2b_public(buf, len, out, err);
		if (ret && err) {
			char tmp[sizeof(err->msg)];

			memcpy(tmp, err->msg, sizeof(tmp));
			snprintf(err->msg, sizeof(err->msg), "%s: %.200s", path,
				 tmp);
		}
	}
out:
	free(buf);
	fclose(f);
	return ret;
}

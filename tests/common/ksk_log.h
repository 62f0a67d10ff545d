/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test helpers: attestio.ko's measurement log made in software, byte for
 * byte as the module and the TPM make it (load, KSK registration, the
 * AK's TPM2_Certify of the KSK), with the PCR 13 value it replays to; the
 * enrolled AK's and the KSK's TPM2B_PUBLIC.  Included after
 * signed_stream.h (tpm_sign) by tests/unit/test_verify_ksk.c and
 * tests/oracle/gen_feed.c, which supply cmocka-style assert macros.
 */
#ifndef ATTESTIO_TEST_KSK_LOG_H
#define ATTESTIO_TEST_KSK_LOG_H

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "tpm2_sess.h"

/* ------------------------------------------------------------ keys --- */

static inline void point_of(EVP_PKEY *k, uint8_t x[32], uint8_t y[32])
{
	unsigned char pt[65];
	size_t n = 0;

	assert_int_equal(1, EVP_PKEY_get_octet_string_param(k,
			OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n));
	assert_int_equal(65, n);
	memcpy(x, pt + 1, 32);
	memcpy(y, pt + 33, 32);
}

/* The enrolled AK as `attestio provision` makes it: certify-only. */
static inline size_t ak_pub(EVP_PKEY *k, bool certify_only, uint8_t *out, size_t cap)
{
	uint8_t br[2][32], policy[32];
	size_t off = 0;
	TPM2B_PUBLIC pub;
	TPMT_PUBLIC *p = &pub.publicArea;

	memset(&pub, 0, sizeof(pub));
	p->type = TPM2_ALG_ECC;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
			      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN;
	if (certify_only) {
		p->objectAttributes |= TPMA_OBJECT_ADMINWITHPOLICY;
		attestio_tpm2_ak_policy(br, policy);
		p->authPolicy.size = 32;
		memcpy(p->authPolicy.buffer, policy, 32);
	} else {
		p->objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
	}
	p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	p->unique.ecc.x.size = 32;
	p->unique.ecc.y.size = 32;
	point_of(k, p->unique.ecc.x.buffer, p->unique.ecc.y.buffer);
	assert_int_equal(0, Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out, cap, &off));
	return off;
}

/* A KSK's TPM2B_PUBLIC: the module's template with @k's point. */
static inline size_t ksk_pub(EVP_PKEY *k, uint8_t *out, uint8_t name[34])
{
	uint8_t tmpl[64];
	int tlen = attestio_tpm2_ksk_template(tmpl, sizeof(tmpl));
	size_t n;

	assert_true(tlen > 4);
	n = (size_t)tlen - 4;		/* without the empty unique */
	memcpy(out + 2, tmpl, n);
	out[2 + n] = 0;
	out[3 + n] = 32;
	out[36 + n] = 0;
	out[37 + n] = 32;
	point_of(k, out + 4 + n, out + 38 + n);
	n += 4 + 64;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	attestio_tpm2_name(out + 2, n, name);
	return n + 2;
}

/* --------------------------------------------------- measurement log --- */

struct mlog {
	uint8_t b[8192];
	size_t len;
	uint8_t pcr13[32];	/* replay so far */
	int n;
};

static inline void sha256_parts(uint8_t out[32], const void *a, size_t al,
			 const void *b, size_t bl, const void *c, size_t cl)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;

	assert_non_null(md);
	assert_int_equal(1, EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	EVP_DigestUpdate(md, a, al);
	if (bl)
		EVP_DigestUpdate(md, b, bl);
	if (cl)
		EVP_DigestUpdate(md, c, cl);
	assert_int_equal(1, EVP_DigestFinal_ex(md, out, &n));
	EVP_MD_CTX_free(md);
}

/* Append an event and extend the model PCR as the module does. */
static inline void mev(struct mlog *l, uint16_t type, uint64_t instance,
		const void *data, uint32_t len)
{
	static const uint8_t tag[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_MEVENT;
	struct attestio_mevent h = {
		.type = cpu_to_le16(type), .len = cpu_to_le32(len),
		.instance = cpu_to_le64(instance),
	};
	uint8_t *e = l->b + l->len, d[32];

	assert_true(l->len + sizeof(h) + len <= sizeof(l->b));
	memcpy(e, &h, sizeof(h));
	memcpy(e + sizeof(h), data, len);
	l->len += sizeof(h) + len;
	sha256_parts(d, tag, sizeof(tag), e, sizeof(h) + len, NULL, 0);
	sha256_parts(l->pcr13, l->pcr13, 32, d, 32, NULL, 0);
	l->n++;
}

static inline void mev_load(struct mlog *l, uint64_t instance)
{
	struct attestio_mev_load ld = {
		.version = "test", .key_handle = cpu_to_le32(0x81010020),
		.pcr_mask = cpu_to_le32(0x2001), .sign = cpu_to_le32(1),
	};

	mev(l, ATTESTIO_MEV_LOAD, instance, &ld, sizeof(ld));
}

static inline void mev_key(struct mlog *l, uint64_t instance, EVP_PKEY *k,
		    uint8_t name[34])
{
	uint8_t pub[256];
	size_t n = ksk_pub(k, pub, name);

	mev(l, ATTESTIO_MEV_KEY, instance, pub, (uint32_t)n);
}

/* TPM2_Certify of the key named @name by @signer, for load @instance. */
static inline void mev_cert(struct mlog *l, uint64_t instance, const uint8_t name[34],
		     EVP_PKEY *signer)
{
	static const uint8_t tag[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_KSK;
	uint8_t buf[2048], inst[8];
	struct attestio_mev_cert *c = (void *)buf;
	size_t alen = 0, slen;
	TPMS_ATTEST a;

	for (int i = 0; i < 8; i++)
		inst[i] = (uint8_t)(instance >> (8 * i));
	memset(&a, 0, sizeof(a));
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_CERTIFY;
	a.qualifiedSigner.size = 2;
	a.extraData.size = 32;
	sha256_parts(a.extraData.buffer, tag, sizeof(tag), inst, 8, name, 34);
	a.attested.certify.name.size = 34;
	memcpy(a.attested.certify.name.name, name, 34);
	a.attested.certify.qualifiedName.size = 34;
	assert_int_equal(0, Tss2_MU_TPMS_ATTEST_Marshal(&a, buf + sizeof(*c),
						       1024, &alen));
	slen = tpm_sign(signer, buf + sizeof(*c), alen, buf + sizeof(*c) + alen,
			512);
	c->ak_handle = cpu_to_le32(0x81010020);
	c->attest_len = cpu_to_le16((uint16_t)alen);
	c->sig_len = cpu_to_le16((uint16_t)slen);
	mev(l, ATTESTIO_MEV_CERT, instance, buf, (uint32_t)(sizeof(*c) + alen + slen));
}

#endif

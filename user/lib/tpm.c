// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TPM access for libattestio: TCTI loader + ESAPI connection, the TCG EK
 * template, the attestio AK template, EK certificate from NV, names and
 * OpenSSL keys from TPMT_PUBLIC.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "tpm2_sess.h"
#include "tpm_internal.h"

int att_tpm_seterr(struct att_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

TSS2_RC att_tpm_rc_base(TSS2_RC rc)
{
	if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
		return 0;
	if (rc & TPM2_RC_FMT1)
		return rc & (TPM2_RC_FMT1 | 0x3f);
	return rc & 0xfff;
}

int att_tpm_fail(struct att_err *err, const char *what, TSS2_RC rc,
		 bool owner_hint)
{
	TSS2_RC base = att_tpm_rc_base(rc);

	if (base == TPM2_RC_LOCKOUT)
		return att_tpm_seterr(err, ATT_ETPM,
			"%s: the TPM is in dictionary-attack lockout (too many "
			"wrong passwords); wait for it to recover or reset the "
			"lockout, then retry%s", what,
			owner_hint ? " with the right --owner-auth" : "");
	if (base == TPM2_RC_BAD_AUTH || base == TPM2_RC_AUTH_FAIL) {
		if (owner_hint)
			return att_tpm_seterr(err, ATT_ETPM,
				"%s: the owner hierarchy rejected the password; "
				"give the owner password with --owner-auth (0x%x)",
				what, rc);
		return att_tpm_seterr(err, ATT_ETPM,
			"%s: authorization failed (0x%x); attestio expects an "
			"empty endorsement hierarchy and key password", what, rc);
	}
	return att_tpm_seterr(err, ATT_ETPM, "%s: %s (0x%x)", what,
			      Tss2_RC_Decode(rc), rc);
}

int att_tpm_open(const char *tcti, struct att_tpm *t, struct att_err *err)
{
	TSS2_RC rc;

	memset(t, 0, sizeof(*t));
	if (!tcti || !*tcti)
		tcti = getenv("TPM2TOOLS_TCTI");
	if (!tcti || !*tcti)
		tcti = getenv("TCTI");
	if (!tcti || !*tcti)
		tcti = ATT_DEFAULT_TCTI;
	snprintf(t->tcti_conf, sizeof(t->tcti_conf), "%s", tcti);

	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		t->tcti = NULL;
		return att_tpm_seterr(err, ATT_ETPM,
			"no TPM found at %s: cannot connect (%s)", tcti,
			Tss2_RC_Decode(rc));
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		t->esys = NULL;
		att_tpm_close(t);
		return att_tpm_seterr(err, ATT_ETPM,
			"no TPM found at %s: %s", tcti, Tss2_RC_Decode(rc));
	}
	/* A simulator may need TPM2_Startup; a started TPM says INITIALIZE. */
	rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && att_tpm_rc_base(rc) != TPM2_RC_INITIALIZE) {
		att_tpm_close(t);
		return att_tpm_seterr(err, ATT_ETPM,
			"no TPM found at %s: TPM2_Startup: %s (0x%x)", tcti,
			Tss2_RC_Decode(rc), rc);
	}
	return 0;
}

void att_tpm_close(struct att_tpm *t)
{
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	t->esys = NULL;
	t->tcti = NULL;
}

/* PolicySecret(TPM_RH_ENDORSEMENT) with an empty policyRef (TCG EK profile). */
static const uint8_t ek_policy[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

void att_tpm_ek_template(TPM2B_PUBLIC *pub)
{
	TPMT_PUBLIC *p = &pub->publicArea;

	memset(pub, 0, sizeof(*pub));
	p->type = TPM2_ALG_ECC;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
		TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	p->authPolicy.size = sizeof(ek_policy);
	memcpy(p->authPolicy.buffer, ek_policy, sizeof(ek_policy));
	p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
	p->parameters.eccDetail.symmetric.keyBits.aes = 128;
	p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	/* template L-2: unique is two 32-byte zero buffers */
	p->unique.ecc.x.size = 32;
	p->unique.ecc.y.size = 32;
}

void att_tpm_ak_template(TPM2B_PUBLIC *pub)
{
	TPMT_PUBLIC *p = &pub->publicArea;
	uint8_t branches[2][32];

	memset(pub, 0, sizeof(*pub));
	p->type = TPM2_ALG_ECC;
	p->nameAlg = TPM2_ALG_SHA256;
	/*
	 * No userWithAuth and adminWithPolicy: every use needs the policy,
	 * which allows TPM2_Certify and TPM2_ActivateCredential only.  The
	 * AK certifies the kernel session key; it never quotes or signs.
	 */
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
		TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	attestio_tpm2_ak_policy(branches, p->authPolicy.buffer);
	p->authPolicy.size = 32;
	p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

bool att_tpm_is_ak(const TPMT_PUBLIC *p)
{
	TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
		TPMA_OBJECT_SIGN_ENCRYPT;

	return p->type == TPM2_ALG_ECC &&
	       (p->objectAttributes & need) == need &&
	       !(p->objectAttributes & TPMA_OBJECT_DECRYPT) &&
	       p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256 &&
	       p->parameters.eccDetail.scheme.scheme == TPM2_ALG_ECDSA &&
	       p->parameters.eccDetail.scheme.details.ecdsa.hashAlg ==
			TPM2_ALG_SHA256;
}

int att_tpm_create_ek(struct att_tpm *t, ESYS_TR *ek, TPM2B_PUBLIC **pub,
		      struct att_err *err)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_PUBLIC tmpl;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcrs = { 0 };
	TPM2B_PUBLIC *out = NULL;
	TSS2_RC rc;

	att_tpm_ek_template(&tmpl);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT,
				ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&sens, &tmpl, &outside, &pcrs, ek, &out, NULL,
				NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return att_tpm_fail(err, "creating the endorsement key", rc,
				    false);
	if (pub)
		*pub = out;
	else
		Esys_Free(out);
	return 0;
}

int att_tpm_ek_session(struct att_tpm *t, ESYS_TR *sess, struct att_err *err)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256,
				   sess);
	if (rc != TSS2_RC_SUCCESS)
		return att_tpm_fail(err, "starting a policy session", rc,
				    false);
	rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, *sess,
			       ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			       NULL, NULL, NULL, 0, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_FlushContext(t->esys, *sess);
		*sess = ESYS_TR_NONE;
		return att_tpm_fail(err,
			"PolicySecret(endorsement) for the EK", rc, false);
	}
	return 0;
}

bool att_tpm_ak_kernel_only(const TPMT_PUBLIC *p)
{
	uint8_t branches[2][32], policy[32];

	attestio_tpm2_ak_policy(branches, policy);
	return att_tpm_is_ak(p) &&
	       !(p->objectAttributes & TPMA_OBJECT_USERWITHAUTH) &&
	       (p->objectAttributes & TPMA_OBJECT_ADMINWITHPOLICY) &&
	       p->authPolicy.size == sizeof(policy) &&
	       !memcmp(p->authPolicy.buffer, policy, sizeof(policy));
}

int att_tpm_ak_session(struct att_tpm *t, TPM2_CC cc, ESYS_TR *sess,
		       struct att_err *err)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TPML_DIGEST list = { .count = 2 };
	uint8_t branches[2][32], policy[32];
	TSS2_RC rc;
	int i;

	attestio_tpm2_ak_policy(branches, policy);
	for (i = 0; i < 2; i++) {
		list.digests[i].size = 32;
		memcpy(list.digests[i].buffer, branches[i], 32);
	}
	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256,
				   sess);
	if (rc != TSS2_RC_SUCCESS)
		return att_tpm_fail(err, "starting a policy session", rc,
				    false);
	rc = Esys_PolicyCommandCode(t->esys, *sess, ESYS_TR_NONE, ESYS_TR_NONE,
				    ESYS_TR_NONE, cc);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_PolicyOR(t->esys, *sess, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &list);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_FlushContext(t->esys, *sess);
		*sess = ESYS_TR_NONE;
		return att_tpm_fail(err, "satisfying the AK policy", rc,
				    false);
	}
	return 0;
}

int att_tpm_handle_exists(struct att_tpm *t, TPM2_HANDLE handle, bool *exists,
			  struct att_err *err)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	*exists = false;
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, TPM2_CAP_HANDLES, handle, 1,
				&more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return att_tpm_fail(err, "listing TPM handles", rc, false);
	*exists = cap->data.handles.count >= 1 &&
		  cap->data.handles.handle[0] == handle;
	Esys_Free(cap);
	return 0;
}

int att_tpm_read_persistent(struct att_tpm *t, TPM2_HANDLE handle,
			    ESYS_TR *obj, TPM2B_PUBLIC **pub, TPM2B_NAME **name,
			    struct att_err *err)
{
	TSS2_RC rc;

	rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, obj);
	if (rc != TSS2_RC_SUCCESS)
		return att_tpm_fail(err, "opening the persistent key", rc,
				    false);
	rc = Esys_ReadPublic(t->esys, *obj, ESYS_TR_NONE, ESYS_TR_NONE,
			     ESYS_TR_NONE, pub, name, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(t->esys, obj);
		return att_tpm_fail(err, "reading the key's public part", rc,
				    false);
	}
	return 0;
}

static int read_nv(struct att_tpm *t, TPM2_HANDLE index, uint8_t **data,
		   size_t *len, struct att_err *err)
{
	TPM2B_NV_PUBLIC *nvpub = NULL;
	TPM2B_MAX_NV_BUFFER *chunk;
	ESYS_TR nv, auth;
	uint8_t *buf = NULL;
	uint16_t size, off = 0;
	TPMA_NV attrs;
	TSS2_RC rc;
	int ret = 0;

	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &nv);
	if (rc != TSS2_RC_SUCCESS)
		return att_tpm_fail(err, "opening the EK certificate NV index",
				    rc, false);
	rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, &nvpub, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		ret = att_tpm_fail(err, "reading the EK certificate NV index",
				   rc, false);
		goto out;
	}
	size = nvpub->nvPublic.dataSize;
	attrs = nvpub->nvPublic.attributes;
	Esys_Free(nvpub);
	/* EK certificate indices are readable by their own empty auth or the owner. */
	auth = (attrs & TPMA_NV_AUTHREAD) ? nv : ESYS_TR_RH_OWNER;
	buf = malloc(size ? size : 1);
	if (!buf) {
		ret = att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
		goto out;
	}
	while (off < size) {
		uint16_t n = size - off > 512 ? 512 : size - off;

		rc = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD,
				  ESYS_TR_NONE, ESYS_TR_NONE, n, off, &chunk);
		if (rc != TSS2_RC_SUCCESS) {
			ret = att_tpm_fail(err,
				"reading the EK certificate from NV", rc,
				auth == ESYS_TR_RH_OWNER);
			goto out;
		}
		if (chunk->size != n) {
			Esys_Free(chunk);
			ret = att_tpm_seterr(err, ATT_ETPM,
				"reading the EK certificate from NV: short read");
			goto out;
		}
		memcpy(buf + off, chunk->buffer, n);
		Esys_Free(chunk);
		off += n;
	}
	/* Some TPMs pad the index: trim to the DER length when it parses. */
	if (size >= 4 && buf[0] == 0x30 && buf[1] == 0x82) {
		size_t der = 4 + ((size_t)buf[2] << 8 | buf[3]);

		if (der <= size)
			size = der;
	}
	*data = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	Esys_TR_Close(t->esys, &nv);
	return ret;
}

int att_tpm_read_ek_cert(struct att_tpm *t, uint8_t **cert, size_t *len,
			 struct att_err *err)
{
	/*
	 * Only the ECC certificate: attestio's EK is the ECC one, and an RSA
	 * EK certificate (0x01c00002) would certify a different key.
	 */
	static const TPM2_HANDLE idx[] = { ATT_NV_EK_CERT_ECC };
	bool exists;
	size_t i;
	int ret;

	*cert = NULL;
	*len = 0;
	for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		ret = att_tpm_handle_exists(t, idx[i], &exists, err);
		if (ret)
			return ret;
		if (exists)
			return read_nv(t, idx[i], cert, len, err);
	}
	return 0;
}

int att_tpm_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t *name_len)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	unsigned int dlen = 0;

	if (pub->nameAlg != TPM2_ALG_SHA256)
		return ATT_EINVAL;
	if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) !=
	    TSS2_RC_SUCCESS)
		return ATT_EINVAL;
	name[0] = TPM2_ALG_SHA256 >> 8;
	name[1] = TPM2_ALG_SHA256 & 0xff;
	if (!EVP_Digest(buf, off, name + 2, &dlen, EVP_sha256(), NULL))
		return ATT_ENOMEM;
	*name_len = 2 + dlen;
	return 0;
}

int att_tpm_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out, struct att_err *err)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t point[65];
	int ret = ATT_EKEY;

	*out = NULL;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
	if (pub->type == TPM2_ALG_ECC) {
		const TPMS_ECC_POINT *q = &pub->unique.ecc;

		if (pub->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256 ||
		    q->x.size != 32 || q->y.size != 32) {
			ret = att_tpm_seterr(err, ATT_EKEY,
				"key is not a well-formed ECC NIST P-256 key");
			goto out;
		}
		point[0] = 0x04;
		memcpy(point + 1, q->x.buffer, 32);
		memcpy(point + 33, q->y.buffer, 32);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
				OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
				OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
			goto nomem;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else if (pub->type == TPM2_ALG_RSA) {
		uint32_t exp = pub->parameters.rsaDetail.exponent;

		if (!exp)
			exp = 65537;
		n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size,
			      NULL);
		e = BN_new();
		if (!n || !e || !BN_set_word(e, exp))
			goto nomem;
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto nomem;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		ret = att_tpm_seterr(err, ATT_EKEY,
			"key type 0x%x is neither ECC nor RSA", pub->type);
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!ctx || !params)
		goto nomem;
	if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		ret = att_tpm_seterr(err, ATT_EKEY,
			"the key's public point is not valid");
		goto out;
	}
	ret = 0;
	goto out;
nomem:
	ret = att_tpm_seterr(err, ATT_ENOMEM, "out of memory (OpenSSL)");
out:
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

int att_tpm_unmarshal_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *pub)
{
	size_t off = 0;

	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, pub) !=
	    TSS2_RC_SUCCESS || off != len || pub->size == 0)
		return ATT_EPARSE;
	return 0;
}

int att_write_file(const char *path, const void *data, size_t len,
		   struct att_err *err)
{
	char tmp[4096];
	const uint8_t *p = data;
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp))
		return att_tpm_seterr(err, ATT_EINVAL, "path too long: %s",
				      path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return att_tpm_seterr(err, ATT_EIO, "cannot create %s: %s",
				      path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= n;
	}
	if (fchmod(fd, 0644) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return att_tpm_seterr(err, ATT_EIO, "cannot write %s: %s", path,
			      strerror(saved));
}

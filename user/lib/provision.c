// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * att_provision(): create (or reuse) the attestation key.
 *
 *  1. Connect to the TPM (tpm.c).
 *  2. If the persistent handle is in use: reuse it when it holds an attestio
 *     AK (restricted ECC P-256 ECDSA-SHA256 signing key, fixedTPM); refuse
 *     when it holds anything else; with force, evict it first.
 *  3. Create the EK (TCG EK profile template L-2, ECC P-256, endorsement
 *     hierarchy, transient; deterministic, so it is the same key every time)
 *     and read its certificate from NV when present.
 *  4. Create the AK as a child of the EK, certify-only: no userWithAuth,
 *     adminWithPolicy, authPolicy PolicyOR(CommandCode(Certify),
 *     CommandCode(ActivateCredential)), so that it can never quote or sign
 *     anything but a certification of another key (attestio.ko's kernel
 *     session key, Documentation/design.md); (TPM2_Create + TPM2_Load, each
 *     authorized with a policy session satisfying PolicySecret(endorsement),
 *     the EK's authPolicy), like tpm2_createak does, so that the credential
 *     activation of `attestio enroll` can prove AK and EK share a TPM.
 *  5. TPM2_EvictControl(owner) makes it persistent at the handle.
 *  6. Write ak.pem (SubjectPublicKeyInfo), ak.pub (marshalled TPM2B_PUBLIC)
 *     and ak.name (binary TPM name: 0x000b || SHA-256(TPMT_PUBLIC)) to
 *     out_dir (created 0755 if missing), each atomically.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "tpm_internal.h"

static int mkdir_p(const char *dir, struct att_err *err)
{
	char path[4096];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return att_tpm_seterr(err, ATT_EINVAL, "bad output directory");
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return att_tpm_seterr(err, ATT_EIO,
				"cannot create directory %s: %s", path,
				strerror(errno));
		if (i < n)
			path[i] = '/';
	}
	return 0;
}

static int write_outputs(const char *dir, const TPM2B_PUBLIC *pub,
			 const uint8_t *name, size_t name_len,
			 struct att_err *err)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	char path[4096];
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *pem;
	long pem_len;
	size_t off = 0;
	int ret;

	ret = mkdir_p(dir, err);
	if (ret)
		return ret;
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off))
		return att_tpm_seterr(err, ATT_EKEY,
				      "cannot marshal the AK public part");
	snprintf(path, sizeof(path), "%s/ak.pub", dir);
	ret = att_write_file(path, buf, off, err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/ak.name", dir);
	ret = att_write_file(path, name, name_len, err);
	if (ret)
		return ret;

	ret = att_tpm_pkey(&pub->publicArea, &pkey, err);
	if (ret)
		return ret;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, pkey)) {
		ret = att_tpm_seterr(err, ATT_ENOMEM, "cannot encode ak.pem");
		goto out;
	}
	pem_len = BIO_get_mem_data(bio, &pem);
	snprintf(path, sizeof(path), "%s/ak.pem", dir);
	ret = att_write_file(path, pem, (size_t)pem_len, err);
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return ret;
}

/* Create the AK under the EK and persist it at @handle. */
static int create_ak(struct att_tpm *t, ESYS_TR ek, TPM2_HANDLE handle,
		     struct att_err *err)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcrs = { 0 };
	TPM2B_PUBLIC tmpl;
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR sess = ESYS_TR_NONE, ak = ESYS_TR_NONE, persist;
	TSS2_RC rc;
	int ret;

	att_tpm_ak_template(&tmpl);
	ret = att_tpm_ek_session(t, &sess, err);
	if (ret)
		return ret;
	rc = Esys_Create(t->esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
			 &tmpl, &outside, &pcrs, &priv, &pub, NULL, NULL, NULL);
	Esys_FlushContext(t->esys, sess);
	sess = ESYS_TR_NONE;
	if (rc != TSS2_RC_SUCCESS) {
		ret = att_tpm_fail(err, "creating the attestation key", rc,
				   false);
		goto out;
	}
	ret = att_tpm_ek_session(t, &sess, err);
	if (ret)
		goto out;
	rc = Esys_Load(t->esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, priv,
		       pub, &ak);
	Esys_FlushContext(t->esys, sess);
	if (rc != TSS2_RC_SUCCESS) {
		ak = ESYS_TR_NONE;
		ret = att_tpm_fail(err, "loading the attestation key", rc,
				   false);
		goto out;
	}
	rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, ak, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, handle, &persist);
	if (rc != TSS2_RC_SUCCESS) {
		char what[64];

		snprintf(what, sizeof(what),
			 "making the attestation key persistent at 0x%08x",
			 handle);
		ret = att_tpm_fail(err, what, rc, true);
		goto out;
	}
	Esys_TR_Close(t->esys, &persist);
out:
	if (ak != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, ak);
	Esys_Free(priv);
	Esys_Free(pub);
	return ret;
}

int att_provision(const struct att_provision_opts *o,
		  struct att_provision_result *r, struct att_err *err)
{
	TPM2_HANDLE handle = o && o->handle ? o->handle : ATT_DEFAULT_AK_HANDLE;
	const char *dir = o && o->out_dir ? o->out_dir : ATT_DEFAULT_OUT_DIR;
	struct att_tpm t;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_NAME *tname = NULL;
	ESYS_TR obj = ESYS_TR_NONE, ek = ESYS_TR_NONE, gone;
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	bool exists;
	TSS2_RC rc;
	int ret;

	if (!r)
		return att_tpm_seterr(err, ATT_EINVAL, "no result buffer");
	memset(r, 0, sizeof(*r));
	if (handle < 0x81000000u || handle > 0x817fffffu)
		return att_tpm_seterr(err, ATT_EINVAL,
			"handle 0x%08x is not an owner persistent handle "
			"(0x81000000-0x817fffff)", handle);
	ret = att_tpm_open(o ? o->tcti : NULL, &t, err);
	if (ret)
		return ret;
	if (o && o->owner_auth) {
		TPM2B_AUTH auth = { 0 };
		size_t n = strlen(o->owner_auth);

		if (n > sizeof(auth.buffer)) {
			ret = att_tpm_seterr(err, ATT_EINVAL,
					     "--owner-auth is too long");
			goto out;
		}
		auth.size = n;
		memcpy(auth.buffer, o->owner_auth, n);
		Esys_TR_SetAuth(t.esys, ESYS_TR_RH_OWNER, &auth);
	}

	ret = att_tpm_handle_exists(&t, handle, &exists, err);
	if (ret)
		goto out;
	if (exists) {
		ret = att_tpm_read_persistent(&t, handle, &obj, &pub, &tname,
					      err);
		if (ret)
			goto out;
		if (!(o && o->force)) {
			if (!att_tpm_is_ak(&pub->publicArea)) {
				ret = att_tpm_seterr(err, ATT_EKEY,
					"handle 0x%08x is taken by a key that is "
					"not an attestio AK; use --force or "
					"another --handle", handle);
				goto out;
			}
			if (!att_tpm_ak_kernel_only(&pub->publicArea)) {
				ret = att_tpm_seterr(err, ATT_EKEY,
					"the AK at 0x%08x can be used by anyone "
					"with TPM access (userWithAuth): replace "
					"it with --force", handle);
				goto out;
			}
			goto done;	/* reuse */
		}
		rc = Esys_EvictControl(t.esys, ESYS_TR_RH_OWNER, obj,
				       ESYS_TR_PASSWORD, ESYS_TR_NONE,
				       ESYS_TR_NONE, handle, &gone);
		if (rc != TSS2_RC_SUCCESS) {
			char what[64];

			snprintf(what, sizeof(what),
				 "evicting the key at 0x%08x", handle);
			ret = att_tpm_fail(err, what, rc, true);
			goto out;
		}
		/* drop ESYS's cached name of the evicted object */
		Esys_TR_Close(t.esys, &obj);
		obj = ESYS_TR_NONE;
		Esys_Free(pub);
		Esys_Free(tname);
		pub = NULL;
		tname = NULL;
	}

	ret = att_tpm_create_ek(&t, &ek, NULL, err);
	if (ret)
		goto out;
	ret = create_ak(&t, ek, handle, err);
	if (ret)
		goto out;
	r->created = true;
	ret = att_tpm_read_persistent(&t, handle, &obj, &pub, &tname, err);
	if (ret)
		goto out;
done:
	ret = att_tpm_read_ek_cert(&t, &cert, &cert_len, err);
	if (ret)
		goto out;
	r->have_ek_cert = cert != NULL;
	r->handle = handle;
	if (tname->size > sizeof(r->ak_name)) {
		ret = att_tpm_seterr(err, ATT_ETPM, "AK name too long");
		goto out;
	}
	memcpy(r->ak_name, tname->name, tname->size);
	r->ak_name_len = tname->size;
	ret = write_outputs(dir, pub, r->ak_name, r->ak_name_len, err);
out:
	free(cert);
	if (ek != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, ek);
	if (obj != ESYS_TR_NONE)
		Esys_TR_Close(t.esys, &obj);
	Esys_Free(pub);
	Esys_Free(tname);
	att_tpm_close(&t);
	return ret;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libattestio internals shared by tpm.c, provision.c and enroll.c: one TPM
 * connection (TCTI loader + ESAPI), the TCG EK and attestio AK templates,
 * and helpers that turn TPM response codes into sentences.
 */
#ifndef ATTESTIO_TPM_INTERNAL_H
#define ATTESTIO_TPM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_esys.h>

#include "libattestio.h"

#define ATT_DEFAULT_AK_HANDLE	0x81010002u
#define ATT_DEFAULT_OUT_DIR	"/var/lib/attestio"
#define ATT_DEFAULT_TCTI	"device:/dev/tpmrm0"

/* TCG EK Credential Profile 2.x, low-range EK certificate NV indices. */
#define ATT_NV_EK_CERT_RSA	0x01c00002u
#define ATT_NV_EK_CERT_ECC	0x01c0000au

struct att_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	char tcti_conf[256];	/* what we connected to, for messages */
};

/* printf-style: fill @err (if not NULL) and return @code. */
int att_tpm_seterr(struct att_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Connect: @tcti, else $TPM2TOOLS_TCTI, else $TCTI, else
 * device:/dev/tpmrm0.  Failure -> ATT_ETPM "no TPM found at <tcti>: ...".
 */
int att_tpm_open(const char *tcti, struct att_tpm *t, struct att_err *err);
void att_tpm_close(struct att_tpm *t);

/*
 * Fill @err for a failed TPM command @what.  @owner_hint: the command used
 * owner authorization, so an authorization failure names --owner-auth.
 */
int att_tpm_fail(struct att_err *err, const char *what, TSS2_RC rc,
		 bool owner_hint);

/* Base response code (session/parameter number stripped), 0 if not a TPM rc. */
TSS2_RC att_tpm_rc_base(TSS2_RC rc);

/* TCG EK Credential Profile template L-2 (ECC NIST P-256). */
void att_tpm_ek_template(TPM2B_PUBLIC *pub);
/* attestio AK: restricted ECC P-256 ECDSA-SHA256 signing key. */
void att_tpm_ak_template(TPM2B_PUBLIC *pub);
/*
 * Is @pub an AK only attestio.ko can make sign: no userWithAuth,
 * adminWithPolicy, authPolicy = attestio_tpm2_ak_policy() (certify and
 * activate credentials only)?
 */
bool att_tpm_ak_kernel_only(const TPMT_PUBLIC *pub);
/* Policy session satisfying the AK's policy for command @cc. */
int att_tpm_ak_session(struct att_tpm *t, TPM2_CC cc, ESYS_TR *sess,
		       struct att_err *err);
/* Is @pub an attestio AK (restricted, sign, !decrypt, ECC P-256, ECDSA-SHA256, fixedTPM)? */
bool att_tpm_is_ak(const TPMT_PUBLIC *pub);

/* Create the ECC EK as a transient primary; *pub may be NULL. Free with Esys_Free. */
int att_tpm_create_ek(struct att_tpm *t, ESYS_TR *ek, TPM2B_PUBLIC **pub,
		      struct att_err *err);
/* Policy session satisfying the EK's authPolicy: PolicySecret(endorsement). */
int att_tpm_ek_session(struct att_tpm *t, ESYS_TR *sess, struct att_err *err);
/* ECC EK certificate from NV (0x01c0000a); *cert = NULL if none. */
int att_tpm_read_ek_cert(struct att_tpm *t, uint8_t **cert, size_t *len,
			 struct att_err *err);
/* Does persistent/NV @handle exist? */
int att_tpm_handle_exists(struct att_tpm *t, TPM2_HANDLE handle, bool *exists,
			  struct att_err *err);
/* ESYS_TR + public + name of an existing persistent object. */
int att_tpm_read_persistent(struct att_tpm *t, TPM2_HANDLE handle,
			    ESYS_TR *obj, TPM2B_PUBLIC **pub, TPM2B_NAME **name,
			    struct att_err *err);

/* Name = nameAlg || H(marshalled TPMT_PUBLIC), computed in software. */
int att_tpm_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t *name_len);
/* OpenSSL key from an ECC P-256 or RSA TPMT_PUBLIC. */
int att_tpm_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out, struct att_err *err);

/* Strict TPM2B_PUBLIC unmarshal: the whole buffer, nothing left over. */
int att_tpm_unmarshal_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *pub);

/* Write @len bytes to @dir/@name atomically (temp file + rename), mode 0644. */
int att_write_file(const char *path, const void *data, size_t len,
		   struct att_err *err);

#endif

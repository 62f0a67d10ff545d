/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure TPM 2.0 command building with authorization sessions, response
 * splitting and HMAC session arithmetic (TPM 2.0 Library Part 1, 19.6).
 * No TPM, device or crypto-API dependencies (SHA-256 comes from
 * <crypto/sha2.h>, lib/crypto in the kernel and OpenSSL through
 * user/kshim in userspace), so KUnit, cmocka tests, fuzzers and libattestio
 * build the very same code.  Responses are untrusted input.
 */
#ifndef _ATTESTIO_TPM2_SESS_H
#define _ATTESTIO_TPM2_SESS_H

#include <linux/types.h>

#include "tpm2_msg.h"

#define ATTESTIO_TPM2_CC_CERTIFY		0x00000148
#define ATTESTIO_TPM2_CC_CREATE_PRIMARY		0x00000131
#define ATTESTIO_TPM2_CC_CREATE			0x00000153
#define ATTESTIO_TPM2_CC_LOAD			0x00000157
#define ATTESTIO_TPM2_CC_FLUSH_CONTEXT		0x00000165
#define ATTESTIO_TPM2_CC_CONTEXT_LOAD		0x00000161
#define ATTESTIO_TPM2_CC_CONTEXT_SAVE		0x00000162
/* Largest TPMS_CONTEXT accepted (a saved ECC P-256 object). */
#define ATTESTIO_TPM2_CONTEXT_MAX		2048
#define ATTESTIO_TPM2_CC_POLICY_COMMAND_CODE	0x0000016c
#define ATTESTIO_TPM2_CC_POLICY_OR		0x00000171
#define ATTESTIO_TPM2_CC_ACTIVATE_CREDENTIAL	0x00000147
#define ATTESTIO_TPM2_CC_READ_PUBLIC		0x00000173
#define ATTESTIO_TPM2_CC_START_AUTH_SESSION	0x00000176
#define ATTESTIO_TPM2_CC_PCR_EXTEND		0x00000182

#define ATTESTIO_TPM2_RH_NULL			0x40000007
#define ATTESTIO_TPM2_SE_HMAC			0x00
#define ATTESTIO_TPM2_SE_POLICY			0x01
#define ATTESTIO_TPM2_SA_CONTINUE		0x01
#define ATTESTIO_TPM2_SA_DECRYPT		0x20
#define ATTESTIO_TPM2_ALG_ECC			0x0023
#define ATTESTIO_TPM2_ALG_AES			0x0006
#define ATTESTIO_TPM2_ALG_CFB			0x0043
#define ATTESTIO_TPM2_ECC_NIST_P256		0x0003

/* TPMA_OBJECT bits */
#define ATTESTIO_TPMA_FIXEDTPM			0x00002
#define ATTESTIO_TPMA_STCLEAR			0x00004
#define ATTESTIO_TPMA_FIXEDPARENT		0x00010
#define ATTESTIO_TPMA_SENSITIVEDATAORIGIN	0x00020
#define ATTESTIO_TPMA_USERWITHAUTH		0x00040
#define ATTESTIO_TPMA_ADMINWITHPOLICY		0x00080
#define ATTESTIO_TPMA_NODA			0x00400
#define ATTESTIO_TPMA_RESTRICTED		0x10000
#define ATTESTIO_TPMA_DECRYPT			0x20000
#define ATTESTIO_TPMA_SIGN			0x40000

/* The kernel session key (KSK): what attestio.ko creates at load. */
#define ATTESTIO_KSK_ATTRS	(ATTESTIO_TPMA_FIXEDTPM | ATTESTIO_TPMA_STCLEAR | \
				 ATTESTIO_TPMA_FIXEDPARENT |		     \
				 ATTESTIO_TPMA_SENSITIVEDATAORIGIN |	     \
				 ATTESTIO_TPMA_USERWITHAUTH |		     \
				 ATTESTIO_TPMA_NODA |			     \
				 ATTESTIO_TPMA_RESTRICTED | ATTESTIO_TPMA_SIGN)
/* Its parent: an ECC P-256 storage primary in the NULL hierarchy. */
#define ATTESTIO_PARENT_ATTRS	(ATTESTIO_TPMA_FIXEDTPM | ATTESTIO_TPMA_STCLEAR | \
				 ATTESTIO_TPMA_FIXEDPARENT |		     \
				 ATTESTIO_TPMA_SENSITIVEDATAORIGIN |	     \
				 ATTESTIO_TPMA_USERWITHAUTH |		     \
				 ATTESTIO_TPMA_NODA |			     \
				 ATTESTIO_TPMA_RESTRICTED |		     \
				 ATTESTIO_TPMA_DECRYPT)

#define ATTESTIO_TPM2_NONCE_LEN		32
#define ATTESTIO_TPM2_AUTH_LEN		32
#define ATTESTIO_TPM2_MAX_AUTHS		2
#define ATTESTIO_TPM2_MAX_HANDLES	3
/* TPM2B_PUBLIC / TPM2B_PRIVATE contents we accept (ECC P-256 objects). */
#define ATTESTIO_TPM2_PUBLIC_MAX	256
#define ATTESTIO_TPM2_PRIVATE_MAX	256

/*
 * An HMAC (or policy) session.  @nonce_caller must be refreshed with fresh
 * random bytes before each command; @nonce_tpm is updated from every
 * response whose HMAC verified.
 */
struct attestio_tpm2_sess {
	u32 handle;
	u8 nonce_caller[ATTESTIO_TPM2_NONCE_LEN];
	u8 nonce_tpm[ATTESTIO_TPM2_NONCE_LEN];
	u16 nonce_tpm_len;
	u8 attrs;		/* TPMA_SESSION sent with the command */
	bool policy;		/* a policy session: HMAC key is empty */
};

/* One authorization of a command: a password session, or @sess. */
struct attestio_tpm2_auth {
	struct attestio_tpm2_sess *sess;	/* NULL: empty password */
	const u8 *auth;				/* authValue for HMAC */
	u16 auth_len;
};

/* A command under construction in a caller-provided buffer. */
struct attestio_tpm2_cmd {
	u8 *buf;
	size_t cap;
	size_t len;
	bool overflow;
	u32 cc;
	unsigned int nhandles;
	const u8 *names[ATTESTIO_TPM2_MAX_HANDLES];
	u16 name_len[ATTESTIO_TPM2_MAX_HANDLES];
	u8 handle_name[ATTESTIO_TPM2_MAX_HANDLES][4];
	const struct attestio_tpm2_auth *auths;
	unsigned int nauth;
	size_t auth_off;
	size_t param_off;
};

void attestio_tpm2_cmd_init(struct attestio_tpm2_cmd *c, u8 *buf, size_t cap,
			    u32 cc, const struct attestio_tpm2_auth *auths,
			    unsigned int nauth);
void attestio_tpm2_cmd_handle(struct attestio_tpm2_cmd *c, u32 handle,
			      const u8 *name, u16 name_len);
void attestio_tpm2_cmd_u8(struct attestio_tpm2_cmd *c, u8 v);
void attestio_tpm2_cmd_u16(struct attestio_tpm2_cmd *c, u16 v);
void attestio_tpm2_cmd_u32(struct attestio_tpm2_cmd *c, u32 v);
void attestio_tpm2_cmd_bytes(struct attestio_tpm2_cmd *c, const void *p,
			     size_t n);
void attestio_tpm2_cmd_2b(struct attestio_tpm2_cmd *c, const void *p, u16 n);
int attestio_tpm2_cmd_finish(struct attestio_tpm2_cmd *c);

/* A response split into handles, parameters and authorizations. */
struct attestio_tpm2_rsp {
	u32 rc;
	u32 handles[ATTESTIO_TPM2_MAX_HANDLES];
	const u8 *params;
	u32 plen;
};

int attestio_tpm2_rsp_parse(const u8 *buf, size_t len, u32 cc,
			    unsigned int nhandles,
			    const struct attestio_tpm2_auth *auths,
			    unsigned int nauth, struct attestio_tpm2_rsp *out);

/* HMAC-SHA256 over @n parts. */
void attestio_hmac_sha256(const u8 *key, size_t klen, const u8 *const *part,
			  const size_t *plen, unsigned int n, u8 *out);

/* Marshalled TPMT_PUBLIC templates; return the length written or -ENOSPC. */
int attestio_tpm2_ksk_template(u8 *buf, size_t cap);
int attestio_tpm2_parent_template(u8 *buf, size_t cap);

/*
 * The enrolled attestation key's authPolicy (attestio provision):
 * PolicyOR(PolicyCommandCode(TPM2_Certify),
 *          PolicyCommandCode(TPM2_ActivateCredential)),
 * with userWithAuth clear and adminWithPolicy set, so that the key can
 * certify and take part in credential activation, and nothing else: no
 * quote, no signature, no change of its authValue.  @branches receives
 * the two PolicyOR branches (Certify first), @policy the authPolicy.
 */
void attestio_tpm2_ak_policy(u8 branches[2][32], u8 *policy);

/*
 * KDFa (Part 1, 11.4.10.2) with HMAC-SHA256: @outlen bytes from @key,
 * @label (NUL included in the derivation), @u and @v.
 */
void attestio_tpm2_kdfa(const u8 *key, size_t klen, const char *label,
			const u8 *u, size_t ulen, const u8 *v, size_t vlen,
			u8 *out, size_t outlen);
/* KDFe (Part 1, 11.4.10.3) with SHA-256: 32 bytes from Z, @label, @u, @v. */
void attestio_tpm2_kdfe(const u8 *z, size_t zlen, const char *label,
			const u8 *u, size_t ulen, const u8 *v, size_t vlen,
			u8 *out);
/*
 * The ECC point of a P-256 TPMT_PUBLIC (symmetric and schemes as in our
 * templates): 32-byte @x and @y inside @area.  0 or -EBADMSG.
 */
int attestio_tpm2_ecc_point(const u8 *area, size_t len, const u8 **x,
			    const u8 **y);
/* The first parameter's TPM2B contents (what a decrypt session encrypts). */
u8 *attestio_tpm2_cmd_param1(struct attestio_tpm2_cmd *c, u16 *len);
/* TPM2_ContextSave: the parameters are exactly one TPMS_CONTEXT. */
int attestio_tpm2_context_parse(const struct attestio_tpm2_rsp *rsp);
/* TPM2_CreatePrimary: the object's TPM2B_PUBLIC (size field included). */
int attestio_tpm2_create_primary_parse(const struct attestio_tpm2_rsp *rsp,
				       const u8 **pub, u16 *pub_len);

/* Name of a TPMT_PUBLIC (nameAlg SHA-256): 0x000b || SHA-256(public). */
#define ATTESTIO_TPM2_NAME_LEN		34
void attestio_tpm2_name(const u8 *pub, size_t len, u8 *name);

/*
 * Check a TPM2B_PUBLIC (@pub, @len bytes including its size field) is an
 * ECC P-256 object with nameAlg SHA-256; return the offset and length of
 * its TPMT_PUBLIC and its objectAttributes.  0 or -EBADMSG.
 */
int attestio_tpm2_public_parse(const u8 *pub, size_t len, u32 *attrs,
			       const u8 **area, u16 *area_len);

/* Parsers of the response parameters of the commands attestio sends. */
int attestio_tpm2_start_session_parse(const struct attestio_tpm2_rsp *rsp,
				      struct attestio_tpm2_sess *sess);
struct attestio_tpm2_created {
	const u8 *priv;		/* TPM2B_PRIVATE, size field included */
	u16 priv_len;
	const u8 *pub;		/* TPM2B_PUBLIC, size field included */
	u16 pub_len;
};

int attestio_tpm2_create_parse(const struct attestio_tpm2_rsp *rsp,
			       struct attestio_tpm2_created *out);
int attestio_tpm2_name_parse(const struct attestio_tpm2_rsp *rsp,
			     const u8 **name, u16 *name_len);
int attestio_tpm2_read_public_parse(const struct attestio_tpm2_rsp *rsp,
				    const u8 **pub, u16 *pub_len,
				    const u8 **name, u16 *name_len);

#endif /* _ATTESTIO_TPM2_SESS_H */

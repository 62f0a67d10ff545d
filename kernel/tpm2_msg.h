/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure TPM 2.0 marshalling for TPM2_Quote (TPM 2.0 Library Part 3, 18.4).
 * No TPM, device or crypto dependencies: the same source is built into the
 * module, KUnit, the userspace unit tests, the fuzzers and libattestio.
 * All TPM fields are big endian; responses are untrusted input.
 *
 * Names carry an ATTESTIO_ prefix so that this header can be included next
 * to <linux/tpm.h>, which defines TPM2_* enumerators of its own.
 */
#ifndef _ATTESTIO_TPM2_MSG_H
#define _ATTESTIO_TPM2_MSG_H

#include <linux/types.h>

/* tpm_send() works on a PAGE_SIZE buffer whatever length it is given. */
#define ATTESTIO_TPM_BUF_SIZE		4096

#define ATTESTIO_TPM2_HDR_LEN		10	/* tag, size, code */
#define ATTESTIO_TPM2_ST_NO_SESSIONS	0x8001
#define ATTESTIO_TPM2_ST_SESSIONS	0x8002
#define ATTESTIO_TPM2_ST_ATTEST_QUOTE	0x8018
#define ATTESTIO_TPM2_ST_ATTEST_CERTIFY	0x8017
#define ATTESTIO_TPM2_CC_QUOTE		0x00000158
#define ATTESTIO_TPM2_RS_PW		0x40000009
#define ATTESTIO_TPM2_GENERATED_VALUE	0xff544347
#define ATTESTIO_TPM2_ALG_RSASSA	0x0014
#define ATTESTIO_TPM2_ALG_RSAPSS	0x0016
#define ATTESTIO_TPM2_ALG_ECDSA		0x0018
#define ATTESTIO_TPM2_ALG_SHA256	0x000b
#define ATTESTIO_TPM2_ALG_NULL		0x0010

/* TPM_HT_TRANSIENT and TPM_HT_PERSISTENT: the handles a key can have. */
#define ATTESTIO_TPM2_HT_TRANSIENT	0x80
#define ATTESTIO_TPM2_HT_PERSISTENT	0x81

/* Largest qualifying data accepted (a SHA-512 digest; we send SHA-256). */
#define ATTESTIO_TPM2_DATA_MAX		64
/* Largest TPMT_HA / TPM2B_DIGEST / TPM2B_NAME contents. */
#define ATTESTIO_TPM2_DIGEST_MAX	64
#define ATTESTIO_TPM2_NAME_MAX		66
/* Signature limits: ECC up to P-521, RSA up to 4096 bits. */
#define ATTESTIO_TPM2_ECC_PARAM_MAX	66
#define ATTESTIO_TPM2_RSA_SIG_MAX	512
/* PCR selections: SHA-256 bank, PCR 0..23 (3 select bytes). */
#define ATTESTIO_TPM2_PCR_COUNT		24
#define ATTESTIO_TPM2_PCR_SELECT_MAX	4
#define ATTESTIO_TPM2_BANKS_MAX		16

/* Masked, so that sparse sees no truncation when @v is a constant. */
static inline void attestio_put_be16(u8 *p, u16 v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static inline void attestio_put_be32(u8 *p, u32 v)
{
	p[0] = (v >> 24) & 0xff;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static inline u16 attestio_get_be16(const u8 *p)
{
	return (u16)p[0] << 8 | p[1];
}

static inline u32 attestio_get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* A bounds-checked reader over an untrusted area. */
struct attestio_rd {
	const u8 *p;
	size_t left;
};

static inline const u8 *attestio_take(struct attestio_rd *r, size_t n)
{
	const u8 *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

static inline bool attestio_r8(struct attestio_rd *r, u8 *v)
{
	const u8 *p = attestio_take(r, 1);

	if (!p)
		return false;
	*v = *p;
	return true;
}

static inline bool attestio_r16(struct attestio_rd *r, u16 *v)
{
	const u8 *p = attestio_take(r, 2);

	if (!p)
		return false;
	*v = attestio_get_be16(p);
	return true;
}

static inline bool attestio_r32(struct attestio_rd *r, u32 *v)
{
	const u8 *p = attestio_take(r, 4);

	if (!p)
		return false;
	*v = attestio_get_be32(p);
	return true;
}

/* A TPM2B whose contents are @min..@max bytes; NULL data if it is empty. */
static inline bool attestio_r2b(struct attestio_rd *r, u16 min, u16 max,
				const u8 **data, u16 *size)
{
	const u8 *p;
	u16 n;

	if (!attestio_r16(r, &n) || n < min || n > max)
		return false;
	p = attestio_take(r, n);
	if (!p)
		return false;
	if (data)
		*data = n ? p : NULL;
	if (size)
		*size = n;
	return true;
}

struct attestio_quote_req {
	u32 ak_handle;		/* transient or persistent key handle */
	const u8 *qdata;	/* qualifying data (the epoch digest) */
	u16 qlen;		/* <= ATTESTIO_TPM2_DATA_MAX */
	u32 pcr_mask;		/* bit i = SHA-256 PCR i, 0..23 */
};

/*
 * A parsed quote response.  The pointers point into the parsed buffer:
 * @attest is the marshalled TPMS_ATTEST, @sig the whole marshalled
 * TPMT_SIGNATURE and @extra the TPMS_ATTEST extraData (inside @attest),
 * which must equal the qualifying data of the command.
 */
struct attestio_quote_resp {
	u32 rc;			/* TPM response code */
	const u8 *attest;
	u16 attest_len;
	const u8 *sig;
	u16 sig_len;
	u16 sig_alg;		/* ATTESTIO_TPM2_ALG_{ECDSA,RSASSA,RSAPSS} */
	const u8 *extra;
	u16 extra_len;
	const u8 *cert_name;	/* TPMS_CERTIFY_INFO name (certifications) */
	u16 cert_name_len;
};

int attestio_tpm2_quote_cmd(u8 *buf, size_t cap,
			    const struct attestio_quote_req *req);
int attestio_tpm2_rsp_size(const u8 *buf, size_t cap);
int attestio_tpm2_quote_parse(const u8 *buf, size_t len,
			      struct attestio_quote_resp *out);
int attestio_tpm2_attest_params(const u8 *p, size_t len, u16 type,
				struct attestio_quote_resp *q);

#endif /* _ATTESTIO_TPM2_MSG_H */

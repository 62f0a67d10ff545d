// SPDX-License-Identifier: GPL-2.0
/*
 * TPM2_Quote command encoding and response parsing, shared by the module,
 * KUnit, userspace tests, fuzzers and libattestio.  A response may have
 * been forged by anything between us and the TPM: every length is checked
 * against the bytes received and nothing is read past them.
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "tpm2_msg.h"

/* TPMS_AUTH_COMMAND for TPM_RS_PW: handle, empty nonce, attributes, empty hmac */
#define ATTESTIO_TPM2_PW_AUTH_LEN	9
/* TPMS_PCR_SELECTION for the SHA-256 bank: hash, sizeofSelect, pcrSelect[3] */
#define ATTESTIO_TPM2_PCR_SEL_LEN	6
#define ATTESTIO_TPM2_PCR_SEL_BYTES	3
/* TPMS_CLOCK_INFO: clock, resetCount, restartCount, safe */
#define ATTESTIO_TPM2_CLOCK_INFO_LEN	17
#define ATTESTIO_TPM2_FW_VERSION_LEN	8
/* TPMA_SESSION bits 3 and 4 are reserved. */
#define ATTESTIO_TPM2_SESSION_RSVD	0x18

static u8 *attestio_w16(u8 *p, u16 v)
{
	attestio_put_be16(p, v);
	return p + 2;
}

static u8 *attestio_w32(u8 *p, u32 v)
{
	attestio_put_be32(p, v);
	return p + 4;
}

/*
 * Encode TPM2_Quote into @buf (@cap bytes): signHandle @req->ak_handle
 * authorized by a password session with an empty password, qualifyingData
 * @req->qdata, inScheme TPM_ALG_NULL (the key's own scheme) and a selection
 * of the SHA-256 PCRs in @req->pcr_mask (no selection if it is 0).
 * Returns the command length, -EINVAL for a bad request or -ENOSPC.
 */
int attestio_tpm2_quote_cmd(u8 *buf, size_t cap,
			    const struct attestio_quote_req *req)
{
	u8 ht = req->ak_handle >> 24;
	size_t len;
	u8 *p;

	if (ht != ATTESTIO_TPM2_HT_TRANSIENT &&
	    ht != ATTESTIO_TPM2_HT_PERSISTENT)
		return -EINVAL;
	if (req->qlen > ATTESTIO_TPM2_DATA_MAX || (req->qlen && !req->qdata))
		return -EINVAL;
	if (req->pcr_mask >> ATTESTIO_TPM2_PCR_COUNT)
		return -EINVAL;
	len = ATTESTIO_TPM2_HDR_LEN + 4 + 4 + ATTESTIO_TPM2_PW_AUTH_LEN +
	      2 + req->qlen + 2 + 4;
	if (req->pcr_mask)
		len += ATTESTIO_TPM2_PCR_SEL_LEN;
	if (len > cap)
		return -ENOSPC;

	p = attestio_w16(buf, ATTESTIO_TPM2_ST_SESSIONS);
	p = attestio_w32(p, len);
	p = attestio_w32(p, ATTESTIO_TPM2_CC_QUOTE);
	p = attestio_w32(p, req->ak_handle);
	/* authorization area: one password session */
	p = attestio_w32(p, ATTESTIO_TPM2_PW_AUTH_LEN);
	p = attestio_w32(p, ATTESTIO_TPM2_RS_PW);
	p = attestio_w16(p, 0);
	*p++ = 0;
	p = attestio_w16(p, 0);
	/* parameters */
	p = attestio_w16(p, req->qlen);
	if (req->qlen)
		memcpy(p, req->qdata, req->qlen);
	p += req->qlen;
	p = attestio_w16(p, ATTESTIO_TPM2_ALG_NULL);
	if (!req->pcr_mask)
		return attestio_w32(p, 0) - buf;
	p = attestio_w32(p, 1);
	p = attestio_w16(p, ATTESTIO_TPM2_ALG_SHA256);
	*p++ = ATTESTIO_TPM2_PCR_SEL_BYTES;
	*p++ = req->pcr_mask;
	*p++ = req->pcr_mask >> 8;
	*p++ = req->pcr_mask >> 16;
	return p - buf;
}

/*
 * The response size announced by the header of the response in @buf, a
 * buffer of @cap bytes (tpm_send() reports no length).  Returns the size,
 * -EMSGSIZE if it is larger than @cap, or -EBADMSG if it is below a header.
 */
int attestio_tpm2_rsp_size(const u8 *buf, size_t cap)
{
	u32 size;

	if (cap < ATTESTIO_TPM2_HDR_LEN)
		return -EMSGSIZE;
	size = attestio_get_be32(buf + 2);
	if (size < ATTESTIO_TPM2_HDR_LEN || size > 0x7fffffffU)
		return -EBADMSG;
	if (size > cap)
		return -EMSGSIZE;
	return size;
}

/*
 * TPMS_ATTEST of a quote or a certification: magic, type, qualifiedSigner,
 * extraData, clockInfo, firmwareVersion and TPMS_QUOTE_INFO or
 * TPMS_CERTIFY_INFO, filling exactly @len bytes.
 */
static int attestio_parse_attest(const u8 *attest, u16 len, u16 want,
				 struct attestio_quote_resp *out)
{
	struct attestio_rd r = { attest, len };
	const u8 *clock;
	u32 magic, count, i;
	u16 type, hash;
	u8 nsel;

	if (!attestio_r32(&r, &magic) || magic != ATTESTIO_TPM2_GENERATED_VALUE)
		return -EBADMSG;
	if (!attestio_r16(&r, &type) || type != want)
		return -EBADMSG;
	if (!attestio_r2b(&r, 0, ATTESTIO_TPM2_NAME_MAX, NULL, NULL))
		return -EBADMSG;
	if (!attestio_r2b(&r, 0, ATTESTIO_TPM2_DATA_MAX, &out->extra,
			  &out->extra_len))
		return -EBADMSG;
	clock = attestio_take(&r, ATTESTIO_TPM2_CLOCK_INFO_LEN);
	/* TPMI_YES_NO safe */
	if (!clock || clock[ATTESTIO_TPM2_CLOCK_INFO_LEN - 1] > 1)
		return -EBADMSG;
	if (!attestio_take(&r, ATTESTIO_TPM2_FW_VERSION_LEN))
		return -EBADMSG;
	if (type == ATTESTIO_TPM2_ST_ATTEST_CERTIFY) {
		/* name, qualifiedName */
		if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_NAME_MAX,
				  &out->cert_name, &out->cert_name_len) ||
		    !attestio_r2b(&r, 1, ATTESTIO_TPM2_NAME_MAX, NULL, NULL))
			return -EBADMSG;
		return r.left ? -EBADMSG : 0;
	}
	if (!attestio_r32(&r, &count) || count > ATTESTIO_TPM2_BANKS_MAX)
		return -EBADMSG;
	for (i = 0; i < count; i++) {
		if (!attestio_r16(&r, &hash) || !attestio_r8(&r, &nsel) ||
		    nsel > ATTESTIO_TPM2_PCR_SELECT_MAX ||
		    !attestio_take(&r, nsel))
			return -EBADMSG;
	}
	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_DIGEST_MAX, NULL, NULL))
		return -EBADMSG;
	return r.left ? -EBADMSG : 0;
}

/* TPMT_SIGNATURE: ECDSA, RSASSA or RSAPSS over SHA-256. */
static int attestio_parse_sig(struct attestio_rd *r, u16 *alg)
{
	u16 hash;

	if (!attestio_r16(r, alg) || !attestio_r16(r, &hash) ||
	    hash != ATTESTIO_TPM2_ALG_SHA256)
		return -EBADMSG;
	switch (*alg) {
	case ATTESTIO_TPM2_ALG_ECDSA:
		if (!attestio_r2b(r, 1, ATTESTIO_TPM2_ECC_PARAM_MAX, NULL,
				  NULL) ||
		    !attestio_r2b(r, 1, ATTESTIO_TPM2_ECC_PARAM_MAX, NULL,
				  NULL))
			return -EBADMSG;
		return 0;
	case ATTESTIO_TPM2_ALG_RSASSA:
	case ATTESTIO_TPM2_ALG_RSAPSS:
		if (!attestio_r2b(r, 1, ATTESTIO_TPM2_RSA_SIG_MAX, NULL, NULL))
			return -EBADMSG;
		return 0;
	}
	return -EBADMSG;
}

/*
 * The response parameters of TPM2_Quote or TPM2_Certify (@type is the
 * TPMS_ATTEST type expected): a TPM2B_ATTEST and a TPMT_SIGNATURE filling
 * exactly @len bytes.  Fills attest, sig, sig_alg, extra (and cert_name for
 * a certification) of @q; 0 or -EBADMSG.
 */
int attestio_tpm2_attest_params(const u8 *p, size_t len, u16 type,
				struct attestio_quote_resp *q)
{
	struct attestio_rd par = { p, len };
	int ret;

	if (!attestio_r2b(&par, 1, 0xffff, &q->attest, &q->attest_len))
		return -EBADMSG;
	ret = attestio_parse_attest(q->attest, q->attest_len, type, q);
	if (ret)
		return ret;
	q->sig = par.p;
	ret = attestio_parse_sig(&par, &q->sig_alg);
	if (ret)
		return ret;
	if (par.left)
		return -EBADMSG;
	q->sig_len = par.p - q->sig;
	return 0;
}

/*
 * Parse the response to attestio_tpm2_quote_cmd() in @buf, of which @len
 * bytes were received.  The header size must equal @len.  Returns 0 with
 * @out filled, -EMSGSIZE if fewer bytes than the header announces were
 * received, -EREMOTEIO for a well-formed TPM error (@out->rc holds the
 * code), or -EBADMSG for anything malformed.  On any failure the rest of
 * @out is zero.
 */
int attestio_tpm2_quote_parse(const u8 *buf, size_t len,
			      struct attestio_quote_resp *out)
{
	struct attestio_quote_resp q = { 0 };
	struct attestio_rd r, par;
	u32 size, psize;
	u16 tag;
	u8 attrs;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len < ATTESTIO_TPM2_HDR_LEN)
		return -EMSGSIZE;
	tag = attestio_get_be16(buf);
	size = attestio_get_be32(buf + 2);
	q.rc = attestio_get_be32(buf + 6);
	if (size < ATTESTIO_TPM2_HDR_LEN)
		return -EBADMSG;
	if (size > len)
		return -EMSGSIZE;
	if (size != len)
		return -EBADMSG;
	if (q.rc) {
		/* An error response is a bare header without sessions. */
		if (tag != ATTESTIO_TPM2_ST_NO_SESSIONS ||
		    len != ATTESTIO_TPM2_HDR_LEN)
			return -EBADMSG;
		out->rc = q.rc;
		return -EREMOTEIO;
	}
	if (tag != ATTESTIO_TPM2_ST_SESSIONS)
		return -EBADMSG;

	r.p = buf + ATTESTIO_TPM2_HDR_LEN;
	r.left = len - ATTESTIO_TPM2_HDR_LEN;
	if (!attestio_r32(&r, &psize))
		return -EBADMSG;
	par.p = attestio_take(&r, psize);
	par.left = psize;
	if (!par.p)
		return -EBADMSG;

	ret = attestio_tpm2_attest_params(par.p, par.left,
					  ATTESTIO_TPM2_ST_ATTEST_QUOTE, &q);
	if (ret)
		return ret;

	/* One TPMS_AUTH_RESPONSE of a password session: nothing but attrs. */
	if (!attestio_r2b(&r, 0, 0, NULL, NULL) || !attestio_r8(&r, &attrs) ||
	    (attrs & ATTESTIO_TPM2_SESSION_RSVD) ||
	    !attestio_r2b(&r, 0, 0, NULL, NULL) || r.left)
		return -EBADMSG;
	*out = q;
	return 0;
}

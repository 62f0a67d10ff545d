// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the parsers of kernel/tpm2_sess.c, which read TPM
 * responses that may come from a forged bus: attestio_tpm2_rsp_parse()
 * with a password and with an HMAC session, then the parameter parsers of
 * the commands the module sends (StartAuthSession, Create, Load,
 * ReadPublic, TPMT_PUBLIC, TPM2_Certify / TPM2_Quote attestations).
 * The first input byte picks the command and session kind.  Besides the
 * sanitizers it checks that every accepted slice lies inside the input.
 * Seeds: tests/fuzz/corpus/tpm2_sess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tpm2_sess.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int inside(const u8 *p, size_t n, const u8 *lo, size_t len)
{
	return p >= lo && n <= len && (size_t)(p - lo) <= len - n;
}

static const u32 ccs[] = {
	ATTESTIO_TPM2_CC_START_AUTH_SESSION, ATTESTIO_TPM2_CC_CREATE,
	ATTESTIO_TPM2_CC_LOAD, ATTESTIO_TPM2_CC_READ_PUBLIC,
	ATTESTIO_TPM2_CC_CERTIFY, ATTESTIO_TPM2_CC_QUOTE,
	ATTESTIO_TPM2_CC_PCR_EXTEND, ATTESTIO_TPM2_CC_CREATE_PRIMARY,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attestio_tpm2_sess sess = { .handle = 0x02000000 };
	struct attestio_tpm2_auth auth = { 0 };
	struct attestio_tpm2_created cr;
	struct attestio_quote_resp q;
	struct attestio_tpm2_rsp r;
	const u8 *p, *n2, *area;
	u16 plen, nlen, alen;
	u8 key[32], sel;
	unsigned int nh, na;
	u32 cc, attrs;
	u8 *buf;
	int ret;

	if (!size)
		return 0;
	sel = data[0];
	data++;
	size--;
	cc = ccs[sel & 7];
	nh = (cc == ATTESTIO_TPM2_CC_START_AUTH_SESSION ||
	      cc == ATTESTIO_TPM2_CC_LOAD ||
	      cc == ATTESTIO_TPM2_CC_CREATE_PRIMARY) ? 1 : 0;
	na = (cc == ATTESTIO_TPM2_CC_START_AUTH_SESSION ||
	      cc == ATTESTIO_TPM2_CC_READ_PUBLIC) ? 0 : 1;
	if (sel & 8) {		/* an HMAC session instead of a password */
		memset(key, 0x33, sizeof(key));
		memset(sess.nonce_caller, 0x11, 32);
		auth.sess = &sess;
		auth.auth = key;
		auth.auth_len = sizeof(key);
		sess.policy = sel & 16;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = attestio_tpm2_rsp_parse(buf, size, cc, nh, na ? &auth : NULL, na,
				      &r);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -EMSGSIZE ||
	      ret == -EREMOTEIO);
	if (ret == -EREMOTEIO)
		CHECK(r.rc && size == ATTESTIO_TPM2_HDR_LEN);
	if (ret) {
		free(buf);
		return 0;
	}
	CHECK(!r.plen || inside(r.params, r.plen, buf, size));
	CHECK(sess.nonce_tpm_len <= ATTESTIO_TPM2_NONCE_LEN);
	switch (cc) {
	case ATTESTIO_TPM2_CC_START_AUTH_SESSION:
		if (!attestio_tpm2_start_session_parse(&r, &sess))
			CHECK(sess.nonce_tpm_len >= 16 &&
			      sess.nonce_tpm_len <= ATTESTIO_TPM2_NONCE_LEN);
		break;
	case ATTESTIO_TPM2_CC_CREATE:
		if (!attestio_tpm2_create_parse(&r, &cr)) {
			CHECK(inside(cr.priv, cr.priv_len, buf, size));
			CHECK(inside(cr.pub, cr.pub_len, buf, size));
			if (!attestio_tpm2_public_parse(cr.pub, cr.pub_len,
							&attrs, &area, &alen))
				CHECK(inside(area, alen, cr.pub, cr.pub_len));
		}
		break;
	case ATTESTIO_TPM2_CC_LOAD:
		if (!attestio_tpm2_name_parse(&r, &n2, &nlen))
			CHECK(inside(n2, nlen, buf, size));
		break;
	case ATTESTIO_TPM2_CC_READ_PUBLIC:
		if (!attestio_tpm2_read_public_parse(&r, &p, &plen, &n2,
						     &nlen)) {
			CHECK(inside(p, plen, buf, size));
			CHECK(inside(n2, nlen, buf, size));
		}
		break;
	case ATTESTIO_TPM2_CC_CERTIFY:
	case ATTESTIO_TPM2_CC_QUOTE:
		memset(&q, 0, sizeof(q));
		if (!attestio_tpm2_attest_params(r.params, r.plen,
				cc == ATTESTIO_TPM2_CC_QUOTE ?
				ATTESTIO_TPM2_ST_ATTEST_QUOTE :
				ATTESTIO_TPM2_ST_ATTEST_CERTIFY, &q)) {
			CHECK(inside(q.attest, q.attest_len, buf, size));
			CHECK(inside(q.sig, q.sig_len, buf, size));
			CHECK(!q.cert_name_len ||
			      inside(q.cert_name, q.cert_name_len, q.attest,
				     q.attest_len));
		}
		break;
	}
	free(buf);
	return 0;
}

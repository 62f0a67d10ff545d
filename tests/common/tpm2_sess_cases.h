/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test cases for kernel/tpm2_sess.c, written once and run by KUnit
 * (tests/kunit/tpm2_sess_kunit.c) and cmocka (tests/unit/test_tpm2_sess.c).
 * The including file defines CASE(name), EXPECT_EQ(a, b) and
 * EXPECT_MEMEQ(a, b, n) as for tpm2_cases.h.
 *
 * Provenance of the vectors: computed independently with Python's hashlib
 * and hmac from TPM 2.0 Part 1 19.6 (cpHash, rpHash, session HMAC) and
 * Part 3 (TPM2_Quote, PolicyCommandCode, PolicyOR), never by this code:
 * - kat_ak_policy: SHA-256(0^32 || CC_PolicyOR || d(Certify) ||
 *   d(ActivateCredential)), d(cc) = SHA-256(0^32 || CC_PolicyCommandCode
 *   || cc);
 * - kat_hmac_quote_cmd: TPM2_Quote of handle 0x80000001 (name 0x000b ||
 *   0xaa x 32), HMAC session 0x02000000, nonceCaller 0x11 x 32, nonceTPM
 *   0x22 x 32, authValue 0x33 x 32, continueSession, qualifying data
 *   0x00..0x1f, SHA-256 PCRs 0-9 and 13;
 * - kat_hmac_rsp: its response with parameters "hello", new nonceTPM
 *   0x44 x 32 and the HMAC that key computes;
 * - HMAC-SHA256: RFC 4231 test case 2.
 */
#ifndef ATTESTIO_TPM2_SESS_CASES_H
#define ATTESTIO_TPM2_SESS_CASES_H

#include <linux/errno.h>
#include <linux/string.h>

#include "tpm2_sess.h"

static const u8 kat_ak_policy[32] = {
	0xbe, 0xca, 0x03, 0xea, 0x8b, 0x9e, 0xd2, 0xab, 0xdd, 0xcf, 0xd2,
	0x31, 0xd0, 0x39, 0xe2, 0x0d, 0xf7, 0x82, 0x46, 0xeb, 0xe6, 0x83,
	0x97, 0xcb, 0xc4, 0x2e, 0x62, 0x99, 0x0e, 0x8d, 0xfc, 0x39,
};
static const u8 kat_hmac_quote_cmd[137] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x89, 0x00, 0x00, 0x01, 0x58, 0x80,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x49, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x20, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x01, 0x00, 0x20, 0x6e, 0x44, 0x34, 0x3b, 0x49, 0x33, 0x9a,
	0x27, 0xf3, 0x0f, 0x9f, 0x7d, 0xeb, 0x6e, 0x6b, 0x39, 0x44, 0xb9,
	0xc2, 0x7a, 0x01, 0xf8, 0xb6, 0x54, 0x05, 0xd9, 0x14, 0x5a, 0xc1,
	0xce, 0xd1, 0xa8, 0x00, 0x20, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x0b, 0x03, 0xff, 0x23, 0x00,
};
static const u8 kat_hmac_rsp[88] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x20, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x01, 0x00,
	0x20, 0xaf, 0x0b, 0x48, 0xa1, 0x7e, 0x01, 0x8d, 0x54, 0x83, 0xf8,
	0x96, 0x0e, 0x79, 0x3c, 0xb2, 0x95, 0xfb, 0xa8, 0xcc, 0xb0, 0xbd,
	0xc0, 0x2a, 0x41, 0x2b, 0x35, 0x89, 0x86, 0x1a, 0xdc, 0x40, 0x22,
};

static const u8 kat_rfc4231_2[32] = {
	0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
	0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
	0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
};

CASE(sess_hmac_rfc4231)
{
	const u8 *part[2] = { (const u8 *)"what do ya ", (const u8 *)"want for nothing?" };
	size_t plen[2] = { 11, 17 };
	u8 out[32];

	attestio_hmac_sha256((const u8 *)"Jefe", 4, part, plen, 2, out);
	EXPECT_MEMEQ(out, kat_rfc4231_2, 32);
}

CASE(sess_ak_policy)
{
	u8 br[2][32], policy[32];

	attestio_tpm2_ak_policy(br, policy);
	EXPECT_MEMEQ(policy, kat_ak_policy, 32);
}

static void sess_fixture(struct attestio_tpm2_sess *s,
			 struct attestio_tpm2_auth *a, u8 *auth, u8 *name)
{
	memset(s, 0, sizeof(*s));
	s->handle = 0x02000000;
	memset(s->nonce_caller, 0x11, 32);
	memset(s->nonce_tpm, 0x22, 32);
	s->nonce_tpm_len = 32;
	s->attrs = ATTESTIO_TPM2_SA_CONTINUE;
	memset(auth, 0x33, 32);
	name[0] = 0x00;
	name[1] = 0x0b;
	memset(name + 2, 0xaa, 32);
	a->sess = s;
	a->auth = auth;
	a->auth_len = 32;
}

CASE(sess_hmac_quote_cmd)
{
	struct attestio_tpm2_sess s;
	struct attestio_tpm2_auth a;
	struct attestio_tpm2_cmd c;
	u8 auth[32], name[34], q[32], buf[256];
	u32 mask = 0x3ff | 1 << 13;
	int i;

	for (i = 0; i < 32; i++)
		q[i] = i;
	sess_fixture(&s, &a, auth, name);
	attestio_tpm2_cmd_init(&c, buf, sizeof(buf), ATTESTIO_TPM2_CC_QUOTE,
			       &a, 1);
	attestio_tpm2_cmd_handle(&c, 0x80000001, name, 34);
	attestio_tpm2_cmd_2b(&c, q, 32);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_NULL);
	attestio_tpm2_cmd_u32(&c, 1);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_SHA256);
	attestio_tpm2_cmd_u8(&c, 3);
	attestio_tpm2_cmd_u8(&c, mask);
	attestio_tpm2_cmd_u8(&c, mask >> 8);
	attestio_tpm2_cmd_u8(&c, mask >> 16);
	EXPECT_EQ(sizeof(kat_hmac_quote_cmd), attestio_tpm2_cmd_finish(&c));
	EXPECT_MEMEQ(buf, kat_hmac_quote_cmd, sizeof(kat_hmac_quote_cmd));
	/* a buffer one byte short: -ENOSPC, never an overrun */
	attestio_tpm2_cmd_init(&c, buf, sizeof(kat_hmac_quote_cmd) - 1,
			       ATTESTIO_TPM2_CC_QUOTE, &a, 1);
	attestio_tpm2_cmd_handle(&c, 0x80000001, name, 34);
	attestio_tpm2_cmd_2b(&c, q, 32);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_NULL);
	attestio_tpm2_cmd_u32(&c, 1);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_SHA256);
	attestio_tpm2_cmd_u32(&c, 0x03ff2000);
	EXPECT_EQ(-ENOSPC, attestio_tpm2_cmd_finish(&c));
}

CASE(sess_hmac_rsp)
{
	struct attestio_tpm2_sess s;
	struct attestio_tpm2_auth a;
	struct attestio_tpm2_rsp r;
	u8 auth[32], name[34], buf[sizeof(kat_hmac_rsp)], n44[32];

	memset(n44, 0x44, 32);
	sess_fixture(&s, &a, auth, name);
	EXPECT_EQ(0, attestio_tpm2_rsp_parse(kat_hmac_rsp, sizeof(kat_hmac_rsp),
					     ATTESTIO_TPM2_CC_QUOTE, 0, &a, 1,
					     &r));
	EXPECT_EQ(5, r.plen);
	EXPECT_MEMEQ(r.params, "hello", 5);
	EXPECT_MEMEQ(s.nonce_tpm, n44, 32);	/* rolled */

	/* a forged response: any changed byte breaks the HMAC or the frame */
	sess_fixture(&s, &a, auth, name);
	memcpy(buf, kat_hmac_rsp, sizeof(buf));
	buf[15] ^= 1;				/* a parameter byte */
	EXPECT_EQ(-EBADMSG, attestio_tpm2_rsp_parse(buf, sizeof(buf),
			ATTESTIO_TPM2_CC_QUOTE, 0, &a, 1, &r));
	memcpy(buf, kat_hmac_rsp, sizeof(buf));
	buf[sizeof(buf) - 1] ^= 0x80;		/* the HMAC */
	EXPECT_EQ(-EBADMSG, attestio_tpm2_rsp_parse(buf, sizeof(buf),
			ATTESTIO_TPM2_CC_QUOTE, 0, &a, 1, &r));
	/* the nonce was not rolled by a response that did not verify */
	EXPECT_EQ(0x22, s.nonce_tpm[0]);
	/* the same response to another command does not verify */
	EXPECT_EQ(-EBADMSG, attestio_tpm2_rsp_parse(kat_hmac_rsp,
			sizeof(kat_hmac_rsp), ATTESTIO_TPM2_CC_CERTIFY, 0, &a, 1,
			&r));
	/* fewer bytes than announced; trailing bytes */
	EXPECT_EQ(-EMSGSIZE, attestio_tpm2_rsp_parse(kat_hmac_rsp,
			sizeof(kat_hmac_rsp) - 1, ATTESTIO_TPM2_CC_QUOTE, 0, &a,
			1, &r));
}

CASE(sess_rsp_error_and_frames)
{
	static const u8 err[10] = { 0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x8b };
	static const u8 err_sess[10] = { 0x80, 0x02, 0, 0, 0, 10, 0, 0, 0x01, 0x8b };
	/* StartAuthSession: handle 0x02000003, nonceTPM 16 x 0x5a */
	static const u8 start[32] = {
		0x80, 0x01, 0, 0, 0, 32, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x03,
		0, 16, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
		0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
	};
	struct attestio_tpm2_auth pw = { 0 };
	struct attestio_tpm2_sess s = { 0 };
	struct attestio_tpm2_rsp r;

	EXPECT_EQ(-EREMOTEIO, attestio_tpm2_rsp_parse(err, sizeof(err),
			ATTESTIO_TPM2_CC_QUOTE, 0, &pw, 1, &r));
	EXPECT_EQ(0x18b, r.rc);
	EXPECT_EQ(-EBADMSG, attestio_tpm2_rsp_parse(err_sess, sizeof(err_sess),
			ATTESTIO_TPM2_CC_QUOTE, 0, &pw, 1, &r));
	EXPECT_EQ(0, attestio_tpm2_rsp_parse(start, sizeof(start),
			ATTESTIO_TPM2_CC_START_AUTH_SESSION, 1, NULL, 0, &r));
	EXPECT_EQ(0, attestio_tpm2_start_session_parse(&r, &s));
	EXPECT_EQ(0x02000003, s.handle);
	EXPECT_EQ(16, s.nonce_tpm_len);
	/* a policy session handle where an HMAC session was asked for */
	s.policy = true;
	EXPECT_EQ(-EBADMSG, attestio_tpm2_start_session_parse(&r, &s));
	/* a session response to a command sent with no session */
	EXPECT_EQ(-EBADMSG, attestio_tpm2_rsp_parse(start, sizeof(start),
			ATTESTIO_TPM2_CC_START_AUTH_SESSION, 1, &pw, 1, &r));
}

CASE(sess_templates_and_name)
{
	u8 t[64], name[34];
	u32 attrs;
	const u8 *area;
	u16 alen;
	u8 pub[66];
	int n = attestio_tpm2_ksk_template(t, sizeof(t));

	EXPECT_EQ(24, n);
	EXPECT_EQ(-ENOSPC, attestio_tpm2_ksk_template(t, 10));
	EXPECT_EQ(26, attestio_tpm2_parent_template(t + 32, 32));
	pub[0] = 0;
	pub[1] = n;
	memcpy(pub + 2, t, n);
	EXPECT_EQ(0, attestio_tpm2_public_parse(pub, n + 2, &attrs, &area,
						&alen));
	EXPECT_EQ(ATTESTIO_KSK_ATTRS, attrs);
	EXPECT_EQ(n, alen);
	EXPECT_EQ(-EBADMSG, attestio_tpm2_public_parse(pub, n + 1, &attrs,
						       &area, &alen));
	attestio_tpm2_name(area, alen, name);
	EXPECT_EQ(0x00, name[0]);
	EXPECT_EQ(0x0b, name[1]);
}

#define TPM2_SESS_CASES(X)			\
	X(sess_hmac_rfc4231)			\
	X(sess_ak_policy)			\
	X(sess_hmac_quote_cmd)			\
	X(sess_hmac_rsp)			\
	X(sess_rsp_error_and_frames)		\
	X(sess_templates_and_name)

#endif

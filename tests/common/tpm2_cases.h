/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test cases for kernel/tpm2_msg.c, written once and run by KUnit
 * (tests/kunit/tpm2_kunit.c) and cmocka (tests/unit/test_tpm2.c).  The
 * including file defines CASE(name), EXPECT_EQ(a, b) and EXPECT_MEMEQ(a, b, n)
 * as for record_cases.h.
 *
 * Provenance of the vectors:
 * - kat_quote_cmd*: encoded by hand (Python struct) from TPM 2.0 Part 3,
 *   TPM2_Quote, never by this code: tag 0x8002, size, TPM_CC_Quote 0x158,
 *   signHandle, authorizationSize 9, {TPM_RS_PW, nonce "", attrs 0,
 *   hmac ""}, qualifyingData, inScheme TPM_ALG_NULL, TPML_PCR_SELECTION.
 * - real_quote_*: responses of swtpm 0.7.1 (libtpms 0.9.2, spec rev 1.64)
 *   on loopback to commands built the same way: real_quote_ecdsa answers
 *   exactly kat_quote_cmd (ECDSA P-256 AK from tpm2_createak -G ecc
 *   -g sha256 -s ecdsa, persisted at 0x81010002); real_quote_rsassa
 *   answers handle 0x81010003 (RSASSA-2048 AK, -G rsa -s rsassa), kat_qdata,
 *   PCR 0; real_quote_err answers the absent handle 0x81010009.  Both
 *   quotes were split into TPMS_ATTEST and TPMT_SIGNATURE with Python and
 *   verified with tpm2_checkquote (tpm2-tools 5.4) against the AKs' public
 *   keys and kat_qdata.
 */
#ifndef ATTESTIO_TPM2_CASES_H
#define ATTESTIO_TPM2_CASES_H

#include <linux/errno.h>
#include <linux/string.h>

#include "tpm2_msg.h"

/* qualifying data of every vector: bytes 0x00..0x1f */
static const u8 kat_qdata[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* handle 0x81010002, kat_qdata, SHA-256 PCRs 0-3, 7 and 23 */
static const u8 kat_quote_cmd[73] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x49, 0x00, 0x00, 0x01, 0x58, 0x81,
	0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0x02, 0x03,
	0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
	0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x10, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x0b, 0x03, 0x8f, 0x00, 0x80,
};

/* handle 0x81000001, no qualifying data, no PCRs */
static const u8 kat_quote_cmd_nopcr[35] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x01, 0x58, 0x81,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
	0x00, 0x00,
};

/* swtpm: ECDSA quote for kat_quote_cmd */
static const u8 real_quote_ecdsa[238] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0xee, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xdb, 0x00, 0x91, 0xff, 0x54, 0x43, 0x47, 0x80, 0x18,
	0x00, 0x22, 0x00, 0x0b, 0x2e, 0x39, 0xd2, 0x4b, 0xa4, 0x33, 0xbd,
	0xb0, 0x24, 0x1a, 0x55, 0xa2, 0x28, 0x2a, 0x8a, 0x5d, 0x22, 0x44,
	0x9b, 0xf7, 0x6f, 0x01, 0x86, 0xea, 0x3c, 0xdc, 0x62, 0xc8, 0x75,
	0x1a, 0xac, 0x00, 0x00, 0x20, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43,
	0x19, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20,
	0x19, 0x10, 0x23, 0x00, 0x16, 0x36, 0x36, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x0b, 0x03, 0x8f, 0x00, 0x80, 0x00, 0x20, 0xdf, 0x3f, 0xef,
	0x47, 0x1a, 0xe7, 0x05, 0xde, 0x05, 0xfb, 0xdf, 0xa7, 0x8c, 0x77,
	0xda, 0x34, 0xe3, 0xff, 0xcc, 0x4b, 0xab, 0x4d, 0x0e, 0xee, 0xf8,
	0xf5, 0x83, 0x3c, 0x95, 0x8d, 0x02, 0xc5, 0x00, 0x18, 0x00, 0x0b,
	0x00, 0x20, 0x9e, 0xb9, 0x84, 0x8a, 0x63, 0x41, 0xca, 0xdc, 0x44,
	0xca, 0xee, 0x8d, 0x3d, 0x7a, 0xc3, 0xc3, 0xe3, 0x44, 0x2a, 0xf7,
	0xe5, 0x25, 0xf1, 0xb6, 0x03, 0xaf, 0x21, 0xc9, 0xe0, 0xdc, 0x4b,
	0x00, 0x00, 0x20, 0x2b, 0x68, 0xf2, 0x3e, 0xce, 0x01, 0x32, 0x75,
	0x95, 0xd8, 0x1b, 0x20, 0x33, 0x77, 0x64, 0xcb, 0x2e, 0xe4, 0x1e,
	0x5e, 0xc6, 0xde, 0xd8, 0xf0, 0xdf, 0xaa, 0xc6, 0xbd, 0x91, 0x4c,
	0x26, 0xce, 0x00, 0x00, 0x01, 0x00, 0x00,
};

/* swtpm: RSASSA quote, PCR 0 selected */
static const u8 real_quote_rsassa[428] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0xac, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x99, 0x00, 0x91, 0xff, 0x54, 0x43, 0x47, 0x80, 0x18,
	0x00, 0x22, 0x00, 0x0b, 0x55, 0xec, 0xea, 0x52, 0x1c, 0x26, 0x7b,
	0x99, 0x85, 0xa1, 0xb2, 0x93, 0xc5, 0x78, 0x4e, 0x02, 0xa3, 0xa1,
	0x38, 0xa5, 0xd9, 0x7a, 0xca, 0xcc, 0xc0, 0x11, 0x01, 0x6c, 0x26,
	0xc9, 0x52, 0x81, 0x00, 0x20, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43,
	0x1b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20,
	0x19, 0x10, 0x23, 0x00, 0x16, 0x36, 0x36, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x0b, 0x03, 0x01, 0x00, 0x00, 0x00, 0x20, 0x02, 0xdf, 0xa3,
	0x11, 0xa6, 0xe1, 0xe4, 0x4e, 0x44, 0x5c, 0xe4, 0x4f, 0xee, 0x4a,
	0x3a, 0x38, 0xdf, 0x03, 0x88, 0x5b, 0xf1, 0xcd, 0x16, 0x6a, 0xb0,
	0x70, 0x13, 0x73, 0x76, 0x2d, 0xca, 0x8b, 0x00, 0x14, 0x00, 0x0b,
	0x01, 0x00, 0x46, 0xe5, 0x5e, 0xd6, 0xac, 0x20, 0xec, 0xac, 0x2c,
	0x33, 0x85, 0xe1, 0x98, 0x83, 0xf8, 0x02, 0xbe, 0x8d, 0x51, 0x05,
	0x5b, 0x9c, 0x83, 0xdb, 0x4d, 0x7b, 0xbe, 0x3f, 0x61, 0xd3, 0x82,
	0x00, 0xd5, 0xa2, 0xa7, 0xb6, 0x57, 0x2b, 0x26, 0x2c, 0x54, 0x46,
	0xb1, 0x86, 0x78, 0xb5, 0xdf, 0xc8, 0x76, 0xc3, 0xb5, 0xd1, 0xd5,
	0x4a, 0xad, 0x94, 0xf2, 0x0e, 0xd4, 0x74, 0xe0, 0x78, 0xd6, 0x75,
	0x41, 0x9d, 0xd9, 0x5f, 0xa3, 0x05, 0xe5, 0x92, 0xec, 0x7a, 0xb9,
	0xce, 0x37, 0x1e, 0xe0, 0x1b, 0xb4, 0xec, 0x68, 0x6c, 0x16, 0xf2,
	0xb2, 0xc6, 0x1e, 0x7b, 0xa5, 0x41, 0x01, 0x17, 0x2e, 0x11, 0xdd,
	0xdf, 0xd2, 0x62, 0x88, 0xdf, 0xea, 0x7a, 0xef, 0x3b, 0x36, 0x4a,
	0xbf, 0x96, 0xa4, 0x93, 0x2e, 0x87, 0x07, 0xee, 0xa4, 0x15, 0x8d,
	0xb4, 0x2c, 0x64, 0x66, 0x83, 0xf9, 0xbb, 0x9b, 0x57, 0xaf, 0x6a,
	0x17, 0x3b, 0xd0, 0xf9, 0x42, 0xe2, 0x2a, 0x18, 0x77, 0x3a, 0xf8,
	0x18, 0xec, 0xc7, 0x50, 0x50, 0xa8, 0xf6, 0x32, 0xa1, 0x61, 0xf4,
	0x07, 0x75, 0x5b, 0x75, 0x2e, 0x43, 0xc1, 0xbf, 0xed, 0x7f, 0x8e,
	0x2e, 0x65, 0x48, 0x3d, 0x2b, 0x99, 0x28, 0xc9, 0x66, 0xeb, 0xe3,
	0xff, 0x3b, 0x49, 0x43, 0x92, 0xff, 0x64, 0x69, 0x6f, 0xe5, 0xf0,
	0x22, 0x75, 0x96, 0xeb, 0x32, 0xed, 0x15, 0x61, 0xec, 0x36, 0x11,
	0x7f, 0x7b, 0x96, 0xa7, 0x68, 0xbc, 0x8a, 0x36, 0xd5, 0x97, 0xc5,
	0x01, 0xd5, 0xce, 0xbf, 0xaf, 0x23, 0x30, 0xcf, 0x2b, 0xac, 0xa0,
	0x15, 0x14, 0x18, 0xf3, 0x71, 0x6b, 0xda, 0x22, 0xf3, 0x73, 0x97,
	0x0b, 0x0a, 0x18, 0x8c, 0x49, 0xc1, 0x80, 0xe0, 0x84, 0xb4, 0x59,
	0x38, 0x8d, 0x1e, 0x67, 0xbd, 0x6c, 0x3e, 0xe5, 0x20, 0x51, 0x5b,
	0x31, 0x58, 0x32, 0x78, 0x20, 0x00, 0x00, 0x01, 0x00, 0x00,
};

/* swtpm: TPM_RC_HANDLE | TPM_RC_1 for an absent key */
static const u8 real_quote_err[10] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x8b,
};

/*
 * Layout of real_quote_ecdsa (238 bytes): header 0..10, parameterSize 10,
 * TPM2B_ATTEST size 14, TPMS_ATTEST 16..161, TPMT_SIGNATURE 161..233,
 * TPMS_AUTH_RESPONSE 233..238.
 */
#define TC_ATTEST_OFF	16
#define TC_ATTEST_LEN	145
#define TC_SIG_OFF	161
#define TC_SIG_LEN	72
#define TC_SESS_OFF	233
/* extraData contents within TPMS_ATTEST (after magic, type, signer name) */
#define TC_EXTRA_OFF	44

static u8 tc_buf[1024];
static u8 tc_part[768];
static const u8 tc_sess_ok[5] = { 0, 0, 0x01, 0, 0 };

static void tc_put16(u8 *p, u32 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void tc_put32(u8 *p, u32 v)
{
	tc_put16(p, v >> 16);
	tc_put16(p + 2, v);
}

/*
 * Assemble a successful response in tc_buf from a TPMS_ATTEST, a
 * TPMT_SIGNATURE and a session area; parameterSize is off by @pdelta.
 */
static u32 tc_rsp(const u8 *attest, u32 alen, const u8 *sig, u32 slen,
		  const u8 *sess, u32 sslen, int pdelta)
{
	u32 len = 16 + alen + slen + sslen;

	tc_put16(tc_buf, 0x8002);
	tc_put32(tc_buf + 2, len);
	tc_put32(tc_buf + 6, 0);
	tc_put32(tc_buf + 10, 2 + alen + slen + pdelta);
	tc_put16(tc_buf + 14, alen);
	memcpy(tc_buf + 16, attest, alen);
	memcpy(tc_buf + 16 + alen, sig, slen);
	memcpy(tc_buf + 16 + alen + slen, sess, sslen);
	return len;
}

/* The real quote with its signature replaced by @sig. */
static int tc_parse_sig(const u8 *sig, u32 slen)
{
	struct attestio_quote_resp r;
	u32 len = tc_rsp(real_quote_ecdsa + TC_ATTEST_OFF, TC_ATTEST_LEN,
			 sig, slen, tc_sess_ok, sizeof(tc_sess_ok), 0);

	return attestio_tpm2_quote_parse(tc_buf, len, &r);
}

static u32 tc_ecdsa(u16 alg, u16 hash, u32 rlen, u32 slen)
{
	u8 *p = tc_part;

	tc_put16(p, alg);
	tc_put16(p + 2, hash);
	tc_put16(p + 4, rlen);
	memset(p + 6, 0x11, rlen);
	p += 6 + rlen;
	tc_put16(p, slen);
	memset(p + 2, 0x22, slen);
	return p + 2 + slen - tc_part;
}

static u32 tc_rsa(u16 alg, u16 hash, u32 n)
{
	tc_put16(tc_part, alg);
	tc_put16(tc_part + 2, hash);
	tc_put16(tc_part + 4, n);
	memset(tc_part + 6, 0x33, n);
	return 6 + n;
}

/*
 * The real TPMS_ATTEST in tc_part with @extra bytes of extraData and @banks
 * PCR selections of @nsel bytes each.
 */
static u32 tc_attest_banks(u32 extra, u32 nsel, u32 banks)
{
	const u8 *a = real_quote_ecdsa + TC_ATTEST_OFF;
	u8 *p = tc_part;
	u32 i;

	memcpy(p, a, 42);			/* magic, type, signer */
	tc_put16(p + 42, extra);
	memset(p + 44, 0x5a, extra);
	p += 44 + extra;
	memcpy(p, a + 76, 25);			/* clockInfo, firmware */
	tc_put32(p + 25, banks);
	p += 29;
	for (i = 0; i < banks; i++) {
		tc_put16(p, 0x000b);
		p[2] = nsel;
		memset(p + 3, 0xff, nsel);
		p += 3 + nsel;
	}
	memcpy(p, a + 111, 34);			/* pcrDigest */
	return p + 34 - tc_part;
}

static u32 tc_attest(u32 extra, u32 nsel)
{
	return tc_attest_banks(extra, nsel, 1);
}

static int tc_parse_attest(u32 alen)
{
	struct attestio_quote_resp r;
	u32 len = tc_rsp(tc_part, alen, real_quote_ecdsa + TC_SIG_OFF,
			 TC_SIG_LEN, tc_sess_ok, sizeof(tc_sess_ok), 0);

	return attestio_tpm2_quote_parse(tc_buf, len, &r);
}

CASE(quote_cmd_known_answer)
{
	struct attestio_quote_req req = {
		.ak_handle = 0x81010002, .qdata = kat_qdata,
		.qlen = sizeof(kat_qdata),
		.pcr_mask = 0x0f | 1 << 7 | 1 << 23,
	};
	u8 buf[128];

	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req),
		  sizeof(kat_quote_cmd));
	EXPECT_MEMEQ(buf, kat_quote_cmd, sizeof(kat_quote_cmd));
	EXPECT_EQ(buf[sizeof(kat_quote_cmd)], 0xee);	/* nothing beyond */
	/* exactly fitting is fine */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(kat_quote_cmd), &req),
		  sizeof(kat_quote_cmd));
	EXPECT_MEMEQ(buf, kat_quote_cmd, sizeof(kat_quote_cmd));

	req.ak_handle = 0x81000001;
	req.qdata = NULL;
	req.qlen = 0;
	req.pcr_mask = 0;
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req),
		  sizeof(kat_quote_cmd_nopcr));
	EXPECT_MEMEQ(buf, kat_quote_cmd_nopcr, sizeof(kat_quote_cmd_nopcr));
}

CASE(quote_cmd_bad_requests)
{
	static const u8 big[ATTESTIO_TPM2_DATA_MAX + 1];
	struct attestio_quote_req req = {
		.ak_handle = 0x81010002, .qdata = kat_qdata,
		.qlen = sizeof(kat_qdata), .pcr_mask = 1,
	};
	u8 buf[160];

	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, 72, &req), -ENOSPC);
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, 0, &req), -ENOSPC);
	EXPECT_EQ(buf[0], 0xee);			/* untouched */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, 73, &req), 73);
	req.pcr_mask = 1 << 24;				/* PCR 24 */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), -EINVAL);
	req.pcr_mask = 0xffffff;			/* all 24 is fine */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), 73);
	EXPECT_EQ(buf[70] & buf[71] & buf[72], 0xff);
	req.ak_handle = 0x40000001;			/* owner hierarchy */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), -EINVAL);
	req.ak_handle = 0x01000001;			/* NV index */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), -EINVAL);
	req.ak_handle = 0x80000001;			/* transient is fine */
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), 73);
	req.qdata = big;
	req.qlen = sizeof(big);
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), -EINVAL);
	req.qlen = sizeof(big) - 1;
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), 73 + 32);
	req.qdata = NULL;
	EXPECT_EQ(attestio_tpm2_quote_cmd(buf, sizeof(buf), &req), -EINVAL);
}

CASE(quote_parse_real_ecdsa)
{
	const u8 *buf = real_quote_ecdsa;
	struct attestio_quote_resp r;

	EXPECT_EQ(attestio_tpm2_quote_parse(buf, sizeof(real_quote_ecdsa), &r),
		  0);
	EXPECT_EQ(r.rc, 0);
	EXPECT_EQ(r.attest - buf, TC_ATTEST_OFF);
	EXPECT_EQ(r.attest_len, TC_ATTEST_LEN);
	EXPECT_EQ(r.sig - buf, TC_SIG_OFF);
	EXPECT_EQ(r.sig_len, TC_SIG_LEN);
	EXPECT_EQ(r.sig_alg, ATTESTIO_TPM2_ALG_ECDSA);
	/* the quote covers the qualifying data sent */
	EXPECT_EQ(r.extra - r.attest, TC_EXTRA_OFF);
	EXPECT_EQ(r.extra_len, sizeof(kat_qdata));
	EXPECT_MEMEQ(r.extra, kat_qdata, sizeof(kat_qdata));
	EXPECT_EQ(attestio_tpm2_rsp_size(buf, ATTESTIO_TPM_BUF_SIZE),
		  sizeof(real_quote_ecdsa));
}

CASE(quote_parse_real_rsassa)
{
	const u8 *buf = real_quote_rsassa;
	struct attestio_quote_resp r;

	EXPECT_EQ(attestio_tpm2_quote_parse(buf, sizeof(real_quote_rsassa),
					    &r), 0);
	EXPECT_EQ(r.attest - buf, TC_ATTEST_OFF);
	EXPECT_EQ(r.attest_len, TC_ATTEST_LEN);
	EXPECT_EQ(r.sig - buf, TC_SIG_OFF);
	EXPECT_EQ(r.sig_len, 4 + 2 + 256);
	EXPECT_EQ(r.sig_alg, ATTESTIO_TPM2_ALG_RSASSA);
	EXPECT_EQ(r.extra_len, sizeof(kat_qdata));
	EXPECT_MEMEQ(r.extra, kat_qdata, sizeof(kat_qdata));
	/* the RSA signature with an ECDSA algorithm id */
	memcpy(tc_buf, buf, sizeof(real_quote_rsassa));
	tc_put16(tc_buf + TC_SIG_OFF, ATTESTIO_TPM2_ALG_ECDSA);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, sizeof(real_quote_rsassa),
					    &r), -EBADMSG);
	tc_put16(tc_buf + TC_SIG_OFF, ATTESTIO_TPM2_ALG_RSAPSS);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, sizeof(real_quote_rsassa),
					    &r), 0);
	EXPECT_EQ(r.sig_alg, ATTESTIO_TPM2_ALG_RSAPSS);
}

CASE(quote_parse_tpm_error)
{
	struct attestio_quote_resp r;
	u8 buf[12];

	EXPECT_EQ(attestio_tpm2_quote_parse(real_quote_err,
					    sizeof(real_quote_err), &r),
		  -EREMOTEIO);
	EXPECT_EQ(r.rc, 0x18b);
	EXPECT_EQ(r.attest_len, 0);
	EXPECT_EQ(attestio_tpm2_rsp_size(real_quote_err, 10), 10);
	/* an error response must be a bare TPM_ST_NO_SESSIONS header */
	memcpy(buf, real_quote_err, 10);
	buf[1] = 0x02;
	EXPECT_EQ(attestio_tpm2_quote_parse(buf, 10, &r), -EBADMSG);
	memcpy(buf, real_quote_err, 10);
	buf[5] = 12;
	buf[10] = 0;
	buf[11] = 0;
	EXPECT_EQ(attestio_tpm2_quote_parse(buf, 12, &r), -EBADMSG);
	EXPECT_EQ(r.rc, 0);
	/* a success code in a bare header is no quote */
	memcpy(buf, real_quote_err, 10);
	buf[8] = 0;
	buf[9] = 0;
	EXPECT_EQ(attestio_tpm2_quote_parse(buf, 10, &r), -EBADMSG);
	buf[1] = 0x02;
	EXPECT_EQ(attestio_tpm2_quote_parse(buf, 10, &r), -EBADMSG);
}

CASE(quote_parse_truncated)
{
	struct attestio_quote_resp r;
	u32 n, len = sizeof(real_quote_ecdsa);

	/* fewer bytes than the header announces */
	for (n = 0; n < len; n++)
		EXPECT_EQ(attestio_tpm2_quote_parse(real_quote_ecdsa, n, &r),
			  -EMSGSIZE);
	/* a header that agrees with the truncation: the body is short */
	for (n = 10; n < len; n++) {
		memcpy(tc_buf, real_quote_ecdsa, n);
		tc_put32(tc_buf + 2, n);
		EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, n, &r), -EBADMSG);
		EXPECT_EQ(r.attest_len, 0);
	}
	for (n = 0; n < 10; n++)
		EXPECT_EQ(attestio_tpm2_rsp_size(real_quote_ecdsa, n),
			  -EMSGSIZE);
	EXPECT_EQ(attestio_tpm2_rsp_size(real_quote_ecdsa, len - 1),
		  -EMSGSIZE);
	EXPECT_EQ(attestio_tpm2_rsp_size(real_quote_ecdsa, len), len);
}

CASE(quote_parse_bad_header)
{
	struct attestio_quote_resp r;
	u32 len = sizeof(real_quote_ecdsa);

	memcpy(tc_buf, real_quote_ecdsa, len);
	tc_buf[len] = 0;
	/* trailing byte, size field unchanged or covering it */
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len + 1, &r), -EBADMSG);
	tc_put32(tc_buf + 2, len + 1);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len + 1, &r), -EBADMSG);
	/* size field below len, above len, below a header */
	tc_put32(tc_buf + 2, len - 1);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put32(tc_buf + 2, len + 1);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EMSGSIZE);
	tc_put32(tc_buf + 2, 9);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	EXPECT_EQ(attestio_tpm2_rsp_size(tc_buf, len), -EBADMSG);
	tc_put32(tc_buf + 2, 0x80000000);
	EXPECT_EQ(attestio_tpm2_rsp_size(tc_buf, len), -EBADMSG);
	tc_put32(tc_buf + 2, len);
	/* tags: no sessions, TPM 1.2 response, zero */
	tc_put16(tc_buf, 0x8001);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put16(tc_buf, 0x00c4);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put16(tc_buf, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put16(tc_buf, 0x8002);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), 0);
	/* parameterSize one off either way, or past the end */
	tc_put32(tc_buf + 10, 2 + TC_ATTEST_LEN + TC_SIG_LEN + 1);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put32(tc_buf + 10, 2 + TC_ATTEST_LEN + TC_SIG_LEN - 1);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put32(tc_buf + 10, 0xffffffff);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	tc_put32(tc_buf + 10, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	EXPECT_EQ(r.sig_len, 0);
}

/* Bytes whose value the parser does not constrain: contents, not structure. */
static bool tc_free_byte(u32 i)
{
	static const struct {
		u8 lo, hi;
	} rng[] = {
		{ 24, 58 },	/* qualifiedSigner name */
		{ 60, 92 },	/* extraData */
		{ 92, 108 },	/* clock, resetCount, restartCount */
		{ 109, 117 },	/* firmwareVersion */
		{ 121, 123 },	/* quoted bank's hash algorithm */
		{ 124, 127 },	/* quoted pcrSelect bitmap */
		{ 129, 161 },	/* pcrDigest */
		{ 167, 199 },	/* signatureR */
		{ 201, 233 },	/* signatureS */
	};
	u32 k;

	for (k = 0; k < sizeof(rng) / sizeof(rng[0]); k++)
		if (i >= rng[k].lo && i < rng[k].hi)
			return true;
	return false;
}

CASE(quote_parse_byte_flips)
{
	struct attestio_quote_resp r;
	u32 i, len = sizeof(real_quote_ecdsa);
	int ret;

	for (i = 0; i < len; i++) {
		memcpy(tc_buf, real_quote_ecdsa, len);
		tc_buf[i] ^= 0xff;
		ret = attestio_tpm2_quote_parse(tc_buf, len, &r);
		EXPECT_EQ(ret == 0, tc_free_byte(i));
		if (ret)
			EXPECT_EQ(r.attest_len + r.sig_len + r.extra_len, 0);
		else
			EXPECT_EQ(r.sig - tc_buf, TC_SIG_OFF);
	}
}

CASE(quote_parse_attest)
{
	u32 alen;

	/* the builder reproduces the real attest */
	alen = tc_attest(32, 3);
	EXPECT_EQ(alen, TC_ATTEST_LEN);
	memcpy(tc_part + 44, kat_qdata, 32);
	memset(tc_part + 108, 0, 3);
	tc_part[108] = 0x8f;
	tc_part[110] = 0x80;
	EXPECT_MEMEQ(tc_part, real_quote_ecdsa + TC_ATTEST_OFF, TC_ATTEST_LEN);
	EXPECT_EQ(tc_parse_attest(alen), 0);

	/* magic, type, safe flag */
	tc_part[3] = 0x48;
	EXPECT_EQ(tc_parse_attest(alen), -EBADMSG);
	tc_attest(32, 3);
	tc_put16(tc_part + 4, 0x8017);		/* TPM_ST_ATTEST_CERTIFY */
	EXPECT_EQ(tc_parse_attest(alen), -EBADMSG);
	tc_attest(32, 3);
	tc_part[92] = 2;
	EXPECT_EQ(tc_parse_attest(alen), -EBADMSG);
	tc_part[92] = 0;
	EXPECT_EQ(tc_parse_attest(alen), 0);

	/* extraData and PCR selection limits */
	EXPECT_EQ(tc_parse_attest(tc_attest(0, 3)), 0);
	EXPECT_EQ(tc_parse_attest(tc_attest(ATTESTIO_TPM2_DATA_MAX, 3)), 0);
	EXPECT_EQ(tc_parse_attest(tc_attest(ATTESTIO_TPM2_DATA_MAX + 1, 3)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_attest(tc_attest(32, 4)), 0);
	EXPECT_EQ(tc_parse_attest(tc_attest(32, 5)), -EBADMSG);
	EXPECT_EQ(tc_parse_attest(tc_attest_banks(32, 0, 0)), 0);
	EXPECT_EQ(tc_parse_attest(tc_attest_banks(32, 0, 16)), 0);
	EXPECT_EQ(tc_parse_attest(tc_attest_banks(32, 0, 17)), -EBADMSG);

	/* TPM2B_ATTEST empty, short of the TPMS_ATTEST, with a trailing byte */
	alen = tc_attest(32, 3);
	EXPECT_EQ(tc_parse_attest(0), -EBADMSG);
	EXPECT_EQ(tc_parse_attest(alen - 1), -EBADMSG);
	tc_part[alen] = 0;
	EXPECT_EQ(tc_parse_attest(alen + 1), -EBADMSG);
	/* pcrDigest empty */
	tc_put16(tc_part + alen - 34, 0);
	EXPECT_EQ(tc_parse_attest(alen - 32), -EBADMSG);
}

CASE(quote_parse_signature)
{
	const u16 ecdsa = ATTESTIO_TPM2_ALG_ECDSA, sha256 = 0x000b;

	EXPECT_EQ(tc_parse_sig(real_quote_ecdsa + TC_SIG_OFF, TC_SIG_LEN), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 32, 32)), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 1, 66)), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 66, 1)), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 0, 32)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 32, 0)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 67, 32)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 32, 67)),
		  -EBADMSG);
	/* other hashes and algorithms: SHA-384, SHA-1, ECSCHNORR, SM2, NULL */
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, 0x000c, 32, 32)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, 0x0004, 32, 32)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(0x001c, sha256, 32, 32)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(0x001b, sha256, 32, 32)),
		  -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(0x0010, sha256, 32, 32)),
		  -EBADMSG);
	/* RSA */
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(ATTESTIO_TPM2_ALG_RSASSA,
					       sha256, 256)), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(ATTESTIO_TPM2_ALG_RSAPSS,
					       sha256, 512)), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(ATTESTIO_TPM2_ALG_RSASSA,
					       sha256, 1)), 0);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(ATTESTIO_TPM2_ALG_RSASSA,
					       sha256, 0)), -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(ATTESTIO_TPM2_ALG_RSAPSS,
					       sha256, 513)), -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(ATTESTIO_TPM2_ALG_RSASSA,
					       0x000d, 256)), -EBADMSG);
	/* RSAES is no signature scheme */
	EXPECT_EQ(tc_parse_sig(tc_part, tc_rsa(0x0015, sha256, 256)),
		  -EBADMSG);
	/* no signature, a truncated one, one with a trailing byte */
	EXPECT_EQ(tc_parse_sig(tc_part, 0), -EBADMSG);
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 32, 32) - 1),
		  -EBADMSG);
	tc_part[tc_ecdsa(ecdsa, sha256, 32, 32)] = 0;
	EXPECT_EQ(tc_parse_sig(tc_part, tc_ecdsa(ecdsa, sha256, 32, 32) + 1),
		  -EBADMSG);
}

CASE(quote_parse_session)
{
	static const u8 attrs0[5] = { 0, 0, 0, 0, 0 };
	static const u8 rsvd[5] = { 0, 0, 0x09, 0, 0 };
	static const u8 nonce[6] = { 0, 1, 0xaa, 0x01, 0, 0 };
	static const u8 hmac[6] = { 0, 0, 0x01, 0, 1, 0xaa };
	static const u8 two[10] = { 0, 0, 0x01, 0, 0, 0, 0, 0x01, 0, 0 };
	struct attestio_quote_resp r;
	const u8 *a = real_quote_ecdsa + TC_ATTEST_OFF;
	const u8 *s = real_quote_ecdsa + TC_SIG_OFF;
	u32 len;

	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, tc_sess_ok, 5, 0);
	EXPECT_EQ(len, sizeof(real_quote_ecdsa));
	EXPECT_MEMEQ(tc_buf, real_quote_ecdsa, len);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, attrs0, 5, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), 0);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, rsvd, 5, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, nonce, 6, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, hmac, 6, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, two, 10, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, two, 0, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, two, 4, 0);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
	/* the session area counted as a parameter */
	len = tc_rsp(a, TC_ATTEST_LEN, s, TC_SIG_LEN, tc_sess_ok, 5, 5);
	EXPECT_EQ(attestio_tpm2_quote_parse(tc_buf, len, &r), -EBADMSG);
}

#define TPM2_CASES(X)			\
	X(quote_cmd_known_answer)	\
	X(quote_cmd_bad_requests)	\
	X(quote_parse_real_ecdsa)	\
	X(quote_parse_real_rsassa)	\
	X(quote_parse_tpm_error)	\
	X(quote_parse_truncated)	\
	X(quote_parse_bad_header)	\
	X(quote_parse_byte_flips)	\
	X(quote_parse_attest)		\
	X(quote_parse_signature)	\
	X(quote_parse_session)

#endif /* ATTESTIO_TPM2_CASES_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the enrollment messages (user/oracle/enrollmsg.c): the
 * exact canonical bytes of an answer, the signing digest recomputed with
 * OpenSSL, challenge sign/parse/verify round trip and tampering, the
 * answer's binding (gateway, node, challenge, secret) and the strict
 * parsers' rejections.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "enrollmsg.h"

static struct oracle_signer signer, other;
static struct oracle_enroll_chal c, d;
static uint8_t buf[ORACLE_ENROLL_MAX_LEN + 64];
static const uint8_t secret[32] = { 1, 2, 3, 4, 5 };

static int setup(void **st)
{
	uint8_t k[32];

	(void)st;
	memset(k, 0x42, sizeof(k));
	if (oracle_signer_init(&signer, k))
		return -1;
	memset(k, 0x43, sizeof(k));
	return oracle_signer_init(&other, k);
}

static int teardown(void **st)
{
	(void)st;
	oracle_signer_fini(&signer);
	oracle_signer_fini(&other);
	return 0;
}

static void fill(struct oracle_enroll_chal *x)
{
	memset(x, 0, sizeof(*x));
	memset(x->gw, 0xaa, 16);
	x->ak_name[0] = 0x00;
	x->ak_name[1] = 0x0b;
	memset(x->ak_name + 2, 0x5a, 32);
	x->cred_len = 70;
	memset(x->cred, 0xc1, x->cred_len);
	x->secret_len = 68;
	memset(x->secret, 0xc2, x->secret_len);
	x->time = 1700000000;
	assert_int_equal(0, oracle_enroll_chal_sign(x, &signer));
}

static size_t enc(const struct oracle_enroll_chal *x)
{
	size_t len = 0;

	assert_int_equal(0, oracle_enroll_chal_encode(x, 0, buf, sizeof(buf), &len));
	return len;
}

static void test_chal_roundtrip(void **st)
{
	uint8_t pub[ORACLE_PUB_LEN];
	const char *why = NULL;
	size_t len;

	(void)st;
	fill(&c);
	len = enc(&c);
	assert_int_equal(0, oracle_enroll_chal_parse(buf, len, &d, &why));
	assert_memory_equal(&c, &d, sizeof(c));
	assert_int_equal(0, oracle_enroll_chal_verify(&d, pub, &why));
	assert_memory_equal(pub, signer.pub, ORACLE_PUB_LEN);
	assert_memory_equal(d.node_id, signer.node_id, ORACLE_NODE_ID_LEN);
}

/* The digest is SHA-256(tag || NUL || the 6-key body), independently. */
static void test_chal_digest(void **st)
{
	static const char tag[] = ORACLE_TAG_ENROLL_CHAL;
	uint8_t d1[32], d2[32], body[ORACLE_ENROLL_MAX_LEN + sizeof(tag)];
	size_t len, blen = 0;

	(void)st;
	fill(&c);
	len = enc(&c);
	/* the 7-key map minus its signature entry (key 7 + 65-byte bstr) */
	assert_int_equal(buf[0], 0xa7);
	memcpy(body, tag, sizeof(tag));
	body[sizeof(tag)] = 0xa6;
	memcpy(body + sizeof(tag) + 1, buf + 1, len - 1 - 1 - 2 - 65);
	blen = sizeof(tag) + len - 1 - 2 - 65;
	SHA256(body, blen, d1);
	assert_int_equal(0, oracle_enroll_chal_digest(&c, d2));
	assert_memory_equal(d1, d2, 32);
}

static void test_chal_tamper(void **st)
{
	uint8_t pub[ORACLE_PUB_LEN];
	const char *why = NULL;
	size_t len;

	(void)st;
	fill(&c);
	len = enc(&c);
	/* every byte of the credential blob and secret is signed */
	for (size_t i = 1; i < len - 65; i += 3) {
		buf[i] ^= 1;
		if (!oracle_enroll_chal_parse(buf, len, &d, &why))
			assert_false(oracle_enroll_chal_verify(&d, pub, &why) == 0 &&
				     !memcmp(pub, signer.pub, ORACLE_PUB_LEN));
		buf[i] ^= 1;
	}
	/* signed by another node than it names */
	fill(&c);
	memcpy(c.node_id, other.node_id, ORACLE_NODE_ID_LEN);
	assert_int_not_equal(0, oracle_enroll_chal_verify(&c, pub, &why));
	assert_string_equal(why, "signer is not the challenge's node");
}

static void test_chal_strict(void **st)
{
	const char *why = NULL;
	size_t len;

	(void)st;
	fill(&c);
	len = enc(&c);
	assert_int_equal(-EBADMSG, oracle_enroll_chal_parse(buf, len - 1, &d, &why));
	assert_string_equal(why, "truncated");
	buf[len] = 0;
	assert_int_equal(-EBADMSG, oracle_enroll_chal_parse(buf, len + 1, &d, &why));
	assert_string_equal(why, "trailing bytes");
	buf[0] = 0xa6;
	assert_int_equal(-EBADMSG, oracle_enroll_chal_parse(buf, len, &d, &why));
	assert_string_equal(why, "challenge map must have exactly 7 keys");
	/* time 0 encoded as a 1-byte argument (non-shortest) */
	fill(&c);
	c.time = 5;
	len = enc(&c);
	{
		size_t t = len - 65 - 2 - 1 - 1;	/* the time item */

		assert_int_equal(buf[t], 0x05);
		memmove(buf + t + 1, buf + t, len - t);
		buf[t] = 0x18;
		assert_int_equal(-EBADMSG, oracle_enroll_chal_parse(buf, len + 1, &d, &why));
		assert_string_equal(why, "not in canonical (deterministic) encoding");
	}
	fill(&c);
	c.cred_len = 0;
	len = enc(&c);
	assert_int_equal(-EBADMSG, oracle_enroll_chal_parse(buf, len, &d, &why));
	assert_string_equal(why, "empty credential blob or secret");
	assert_int_equal(-EBADMSG, oracle_enroll_chal_parse(buf, ORACLE_ENROLL_MAX_LEN + 1, &d, &why));
}

static void mkans(struct oracle_enroll_ans *a, const uint8_t chal[32])
{
	memset(a, 0, sizeof(*a));
	memset(a->gw, 0xaa, 16);
	memcpy(a->node_id, signer.node_id, ORACLE_NODE_ID_LEN);
	memcpy(a->chal, chal, 32);
	oracle_enroll_proof(a, secret, sizeof(secret), a->proof);
}

static void test_ans_bytes_and_proof(void **st)
{
	static const char tag[] = ORACLE_TAG_ENROLL_ANS;
	struct oracle_enroll_ans a, b;
	uint8_t chal[32], want[32], msg[sizeof(tag) + 64];
	unsigned int wl = 32;
	const char *why = NULL;
	size_t len = 0;

	(void)st;
	memset(chal, 0x77, 32);
	mkans(&a, chal);
	memcpy(msg, tag, sizeof(tag));
	memcpy(msg + sizeof(tag), a.gw, 16);
	memcpy(msg + sizeof(tag) + 16, a.node_id, 16);
	memcpy(msg + sizeof(tag) + 32, chal, 32);
	HMAC(EVP_sha256(), secret, sizeof(secret), msg, sizeof(msg), want, &wl);
	assert_memory_equal(want, a.proof, 32);
	assert_int_equal(0, oracle_enroll_ans_encode(&a, buf, sizeof(buf), &len));
	assert_int_equal(len, 1 + 2 * (1 + 1 + 16) + 2 * (1 + 2 + 32));
	assert_int_equal(buf[0], 0xa4);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[2], 0x50);	/* bstr(16) */
	assert_int_equal(buf[19], 0x02);
	assert_int_equal(buf[37], 0x03);
	assert_int_equal(buf[38], 0x58);	/* bstr, 1-byte length */
	assert_int_equal(buf[39], 32);
	assert_int_equal(0, oracle_enroll_ans_parse(buf, len, &b, &why));
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(-EBADMSG, oracle_enroll_ans_parse(buf, len - 1, &b, &why));
	buf[0] = 0xa5;
	assert_int_equal(-EBADMSG, oracle_enroll_ans_parse(buf, len, &b, &why));
	assert_string_equal(why, "answer map must have exactly 4 keys");
}

/* The answer is good for one gateway, one node, one challenge, one
 * secret: each other one is refused with its reason. */
static void test_ans_binding(void **st)
{
	struct oracle_enroll_ans a;
	uint8_t chal[32], chal2[32], gw[16], bad[32];
	const char *why = NULL;

	(void)st;
	memset(chal, 0x77, 32);
	memset(chal2, 0x78, 32);
	memset(gw, 0xaa, 16);
	mkans(&a, chal);
	assert_int_equal(0, oracle_enroll_ans_check(&a, gw, signer.node_id, chal,
						    secret, sizeof(secret), &why));
	assert_int_equal(-EBADMSG, oracle_enroll_ans_check(&a, gw, other.node_id, chal,
							   secret, sizeof(secret), &why));
	assert_string_equal(why, "answer is for another node");
	assert_int_equal(-EBADMSG, oracle_enroll_ans_check(&a, gw, signer.node_id, chal2,
							   secret, sizeof(secret), &why));
	assert_string_equal(why, "answer is for another challenge (replayed or stale)");
	gw[0] ^= 1;
	assert_int_equal(-EBADMSG, oracle_enroll_ans_check(&a, gw, signer.node_id, chal,
							   secret, sizeof(secret), &why));
	assert_string_equal(why, "answer names another gateway");
	gw[0] ^= 1;
	memcpy(bad, secret, 32);
	bad[31] ^= 1;		/* another TPM recovers no such secret */
	assert_int_equal(-EBADMSG, oracle_enroll_ans_check(&a, gw, signer.node_id, chal,
							   bad, sizeof(bad), &why));
	assert_non_null(strstr(why, "proof does not match the secret"));
	/* re-pointing an answer at another challenge breaks its proof */
	memcpy(a.chal, chal2, 32);
	assert_int_equal(-EBADMSG, oracle_enroll_ans_check(&a, gw, signer.node_id, chal2,
							   secret, sizeof(secret), &why));
	assert_non_null(strstr(why, "proof does not match the secret"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chal_roundtrip),
		cmocka_unit_test(test_chal_digest),
		cmocka_unit_test(test_chal_tamper),
		cmocka_unit_test(test_chal_strict),
		cmocka_unit_test(test_ans_bytes_and_proof),
		cmocka_unit_test(test_ans_binding),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

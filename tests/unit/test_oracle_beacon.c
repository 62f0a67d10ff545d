// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the beacon codec (user/oracle/beacon.c): the exact
 * canonical bytes, the signing digest recomputed with OpenSSL, sign/parse/
 * verify round trip, tampering, the oracle-set check, and the strict
 * parser's rejections.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "beacon.h"

static struct oracle_signer signer, other;
static struct oracle_beacon a, b;
static uint8_t buf[ORACLE_BEACON_MAX_LEN + 16];

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

static void fill(struct oracle_beacon *x)
{
	memset(x, 0, sizeof(*x));
	x->round = 1000;
	memset(x->value, 0x5a, sizeof(x->value));
	x->time = 1700000000;
	assert_int_equal(0, oracle_beacon_sign(x, &signer));
}

static size_t enc(const struct oracle_beacon *x)
{
	size_t len = 0;

	assert_int_equal(0, oracle_beacon_encode(x, 0, buf, sizeof(buf), &len));
	return len;
}

static void test_exact_bytes(void **st)
{
	static const uint8_t round[] = { 0x02, 0x19, 0x03, 0xe8, 0x03, 0x58, 0x20 };
	static const uint8_t time[] = { 0x04, 0x1a, 0x65, 0x53, 0xf1, 0x00,
					0x05, 0x58, 0x41 };
	size_t len;

	(void)st;
	fill(&a);
	len = enc(&a);
	assert_int_equal(132, len);
	assert_int_equal(0xa5, buf[0]);
	assert_int_equal(0x01, buf[1]);
	assert_int_equal(0x50, buf[2]);
	assert_memory_equal(signer.node_id, buf + 3, 16);
	assert_memory_equal(round, buf + 19, sizeof(round));
	assert_memory_equal(a.value, buf + 26, 32);
	assert_memory_equal(time, buf + 58, sizeof(time));
	assert_memory_equal(a.sig, buf + 67, 65);
}

static void test_digest(void **st)
{
	uint8_t d[32], want[32], msg[512];
	size_t len;

	(void)st;
	fill(&a);
	assert_int_equal(0, oracle_beacon_digest(&a, d));
	memcpy(msg, "attestio/v1/beacon", 19);	/* with its NUL */
	assert_int_equal(0, oracle_beacon_encode(&a, 1, msg + 19, sizeof(msg) - 19, &len));
	assert_int_equal(0xa4, msg[19]);	/* the body: keys 1-4 */
	assert_int_equal(132 - 3 - 65, len);	/* no key 5 */
	SHA256(msg, 19 + len, want);
	assert_memory_equal(want, d, 32);
}

static void test_roundtrip(void **st)
{
	const uint8_t (*keys)[ORACLE_PUB_LEN];
	uint8_t set[2][ORACLE_PUB_LEN], pub[65];
	const char *why = NULL;
	size_t len, idx = 9;

	(void)st;
	fill(&a);
	len = enc(&a);
	assert_int_equal(0, oracle_beacon_parse(buf, len, &b, &why));
	assert_int_equal(1000, b.round);
	assert_int_equal(1700000000, b.time);
	assert_memory_equal(a.value, b.value, 32);
	assert_int_equal(0, oracle_beacon_verify(&b, pub, &why));
	assert_memory_equal(signer.pub, pub, 65);
	memcpy(set[0], other.pub, 65);
	memcpy(set[1], signer.pub, 65);
	keys = (const uint8_t (*)[ORACLE_PUB_LEN])set;
	assert_int_equal(0, oracle_beacon_check(&b, keys, 2, &idx, &why));
	assert_int_equal(1, idx);
	/* a valid signature by a key outside the set */
	assert_int_equal(-ENOENT, oracle_beacon_check(&b, keys, 1, &idx, &why));
	assert_string_equal("signer is not a configured oracle node", why);
}

static void test_tamper(void **st)
{
	uint8_t pub[65];
	const char *why = NULL;

	(void)st;
	fill(&a);
	a.round++;		/* replayed as a later round */
	assert_int_equal(-EBADMSG, oracle_beacon_verify(&a, pub, &why));
	fill(&a);
	a.value[31] ^= 1;
	assert_int_equal(-EBADMSG, oracle_beacon_verify(&a, pub, &why));
	fill(&a);
	a.time--;
	assert_int_equal(-EBADMSG, oracle_beacon_verify(&a, pub, &why));
	/* signed by another key, claiming the first node's id */
	fill(&a);
	assert_int_equal(0, oracle_beacon_sign(&a, &other));
	memcpy(a.node_id, signer.node_id, 16);
	assert_int_equal(-EBADMSG, oracle_beacon_verify(&a, pub, &why));
	assert_string_equal("signer is not the beacon's node", why);
	/* an all-zero value means "none" to the module: never encoded */
	fill(&a);
	memset(a.value, 0, 32);
	assert_int_equal(-EINVAL, oracle_beacon_sign(&a, &signer));
}

static void expect_reject(const uint8_t *p, size_t len)
{
	const char *why = NULL;

	assert_int_equal(-EBADMSG, oracle_beacon_parse(p, len, &b, &why));
	assert_non_null(why);
}

static void test_rejects(void **st)
{
	uint8_t t[sizeof(buf) + 8];
	size_t len;

	(void)st;
	fill(&a);
	len = enc(&a);
	for (size_t i = 0; i < len; i++)	/* every truncation */
		expect_reject(buf, i);
	memcpy(t, buf, len);
	t[len] = 0;				/* trailing byte */
	expect_reject(t, len + 1);
	memcpy(t, buf, len);
	t[0] = 0xa4;				/* map of 4 */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[0] = 0xbf;				/* indefinite map */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[1] = 0x02;				/* key order */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[2] = 0x4f;				/* node id of 15 bytes */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[25] = 0x1f;				/* value of 31 bytes */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[20] = 0x39;				/* round negative */
	expect_reject(t, len);
	/* non-shortest round: 1000 as 0x1a 00 00 03 e8 */
	memcpy(t, buf, 20);
	memcpy(t + 20, (const uint8_t[]){ 0x1a, 0, 0, 0x03, 0xe8 }, 5);
	memcpy(t + 25, buf + 23, len - 23);
	expect_reject(t, len + 2);
	/* an all-zero value, however signed */
	memcpy(t, buf, len);
	memset(t + 26, 0, 32);
	expect_reject(t, len);
	/* larger than the limit */
	memset(t, 0, sizeof(t));
	memcpy(t, buf, len);
	expect_reject(t, ORACLE_BEACON_MAX_LEN + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

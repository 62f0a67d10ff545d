// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the ack codec (user/oracle/ack.c): the exact canonical
 * bytes, the signing digest recomputed with OpenSSL, sign/parse/verify
 * round trip, tampering, and the strict parser's rejections.
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

#include "ack.h"

static struct oracle_signer signer;
static struct oracle_ack a, b;
static uint8_t buf[ORACLE_ACK_MAX_LEN];

static int setup(void **st)
{
	uint8_t k[32];

	(void)st;
	memset(k, 0x42, sizeof(k));
	return oracle_signer_init(&signer, k);
}

static int teardown(void **st)
{
	(void)st;
	oracle_signer_fini(&signer);
	return 0;
}

static void fill(struct oracle_ack *x)
{
	memset(x, 0, sizeof(*x));
	memset(x->gw, 0xaa, 16);
	x->n = 2;
	x->e[0] = (struct oracle_ack_entry){ .instance = 7, .stream = 1,
					     .generation = 1, .upto = 23 };
	/* joined at 5, skipped 10..12 (declared lost) */
	x->e[1] = (struct oracle_ack_entry){ .instance = 7, .stream = 2,
					     .generation = 1, .upto = 300,
					     .from = 5, .nskip = 1,
					     .skip = { { 10, 12 } } };
	assert_int_equal(0, oracle_ack_sign(x, &signer));
}

static size_t enc(const struct oracle_ack *x)
{
	size_t len = 0;

	assert_int_equal(0, oracle_ack_encode(x, 0, buf, sizeof(buf), &len));
	return len;
}

static void test_exact_bytes(void **st)
{
	static const uint8_t entries[] = {
		0x03, 0x82,
		0x86, 0x07, 0x01, 0x01, 0x17, 0x00, 0x80,
		0x86, 0x07, 0x02, 0x01, 0x19, 0x01, 0x2c, 0x05,
		0x81, 0x82, 0x0a, 0x0c,
		0x04, 0x58, 0x41,
	};
	size_t len;

	(void)st;
	fill(&a);
	len = enc(&a);
	assert_int_equal(1 + 2 + 16 + 2 + 16 + sizeof(entries) + 65, len);
	assert_int_equal(0xa4, buf[0]);
	assert_int_equal(0x01, buf[1]);
	assert_int_equal(0x50, buf[2]);
	assert_memory_equal(a.gw, buf + 3, 16);
	assert_int_equal(0x02, buf[19]);
	assert_int_equal(0x50, buf[20]);
	assert_memory_equal(signer.node_id, buf + 21, 16);
	assert_memory_equal(entries, buf + 37, sizeof(entries));
	assert_memory_equal(a.sig, buf + 37 + sizeof(entries), 65);
}

static void test_digest(void **st)
{
	uint8_t d[32], want[32], msg[512];
	size_t len;

	(void)st;
	fill(&a);
	assert_int_equal(0, oracle_ack_digest(&a, d));
	memcpy(msg, "attestio/v1/ack", 16);	/* with its NUL */
	assert_int_equal(0, oracle_ack_encode(&a, 1, msg + 16, sizeof(msg) - 16, &len));
	assert_int_equal(0xa3, msg[16]);	/* the body: keys 1-3 */
	SHA256(msg, 16 + len, want);
	assert_memory_equal(want, d, 32);
}

static void test_roundtrip(void **st)
{
	uint8_t pub[65];
	const char *why = NULL;
	size_t len;

	(void)st;
	fill(&a);
	len = enc(&a);
	assert_int_equal(0, oracle_ack_parse(buf, len, &b, &why));
	assert_int_equal(2, b.n);
	assert_int_equal(300, b.e[1].upto);
	assert_int_equal(5, b.e[1].from);
	assert_int_equal(1, b.e[1].nskip);
	assert_int_equal(10, b.e[1].skip[0].first);
	assert_int_equal(12, b.e[1].skip[0].last);
	assert_int_equal(0, oracle_ack_verify(&b, pub, &why));
	assert_memory_equal(signer.pub, pub, 65);
}

static void test_tamper(void **st)
{
	uint8_t pub[65];
	const char *why = NULL;

	(void)st;
	fill(&a);
	a.e[1].upto++;		/* claims more than was signed */
	assert_int_equal(-EBADMSG, oracle_ack_verify(&a, pub, &why));
	fill(&a);
	a.gw[0] ^= 1;		/* replayed to another gateway */
	assert_int_equal(-EBADMSG, oracle_ack_verify(&a, pub, &why));
	fill(&a);
	a.e[1].nskip = 0;	/* hides the skip it signed */
	assert_int_equal(-EBADMSG, oracle_ack_verify(&a, pub, &why));
	fill(&a);
	a.e[1].from = 0;	/* hides its join point */
	assert_int_equal(-EBADMSG, oracle_ack_verify(&a, pub, &why));
}

static void expect_reject(const uint8_t *p, size_t len)
{
	const char *why = NULL;

	assert_int_equal(-EBADMSG, oracle_ack_parse(p, len, &b, &why));
	assert_non_null(why);
}

static void test_rejects(void **st)
{
	uint8_t t[512];
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
	t[0] = 0xa5;				/* map of 5 */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[1] = 0x02;				/* key order */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[2] = 0x4f;				/* gw id of 15 bytes */
	expect_reject(t, len);
	/* non-shortest integer: stream 1 as 0x18 0x01 */
	memcpy(t, buf, 37 + 4);
	t[41] = 0x18;
	t[42] = 0x01;
	memcpy(t + 43, buf + 42, len - 42);
	expect_reject(t, len + 1);
	/* stream 64 is out of range */
	memcpy(t, buf, len);
	t[41] = 0x18;
	memmove(t + 42, t + 41, len - 41);
	t[42] = 64;
	expect_reject(t, len + 1);
	/* entries not strictly increasing: two equal entries */
	fill(&a);
	a.e[1] = a.e[0];
	assert_int_equal(-EINVAL, oracle_ack_sort(&a));
	assert_int_equal(-EINVAL, oracle_ack_encode(&a, 0, buf, sizeof(buf), &len));
	/* swapped entries (hand-made, re-signed is impossible: encode refuses) */
	fill(&a);
	len = enc(&a);
	memcpy(t, buf, len);
	memcpy(t + 39, buf + 46, 12);		/* entry 2 first */
	memcpy(t + 51, buf + 39, 7);
	expect_reject(t, len);
	/* from after the skip (13 > 10) */
	memcpy(t, buf, len);
	t[53] = 0x0d;
	expect_reject(t, len);
	/* a skip that ends before it starts (13..12) */
	memcpy(t, buf, len);
	t[56] = 0x0d;
	expect_reject(t, len);
	/* format 1: an entry of 4 items [instance, stream, gen, upto] */
	memcpy(t, buf, len);
	t[39] = 0x84;
	memmove(t + 44, t + 46, len - 46);
	expect_reject(t, len - 2);
	/* indefinite-length array */
	memcpy(t, buf, len);
	t[38] = 0x9f;
	expect_reject(t, len);
}

/* What an entry states: from <= upto + 1, skips inside, apart, <= 4. */
static void test_entry_check(void **st)
{
	struct oracle_ack_entry e = { .upto = 100, .from = 101 };

	(void)st;
	assert_null(oracle_ack_entry_check(&e));	/* states nothing */
	e.from = 102;
	assert_non_null(oracle_ack_entry_check(&e));
	e.upto = UINT64_MAX;
	e.from = 0;
	assert_null(oracle_ack_entry_check(&e));
	e = (struct oracle_ack_entry){ .upto = 100, .nskip = 2,
				       .skip = { { 3, 4 }, { 5, 9 } } };
	assert_non_null(oracle_ack_entry_check(&e));	/* adjacent: one */
	e.skip[1].first = 6;
	assert_null(oracle_ack_entry_check(&e));
	e.skip[1].last = 101;				/* past upto */
	assert_non_null(oracle_ack_entry_check(&e));
	e.skip[1].last = 9;
	e.nskip = ORACLE_ACK_MAX_SKIPS + 1;
	assert_non_null(oracle_ack_entry_check(&e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_entry_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

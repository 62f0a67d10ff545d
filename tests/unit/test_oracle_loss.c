// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the loss declaration codec (user/oracle/loss.c): the
 * exact canonical bytes, round trip, the empty declaration, and the strict
 * parser's rejections (truncation, trailing bytes, keys, lengths, ranges,
 * order, overlap, non-shortest and indefinite encodings); the released
 * chains (key 3, only when there are some): bytes, round trip, rejections.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loss.h"

static struct oracle_loss a, b;
static uint8_t buf[ORACLE_LOSS_MAX_LEN];

static void fill(struct oracle_loss *x)
{
	memset(x, 0, sizeof(*x));
	memset(x->gw, 0xaa, 16);
	x->n = 3;
	x->h[0] = (struct oracle_hole){ 7, 1, 1, 5, 9 };
	x->h[1] = (struct oracle_hole){ 7, 1, 1, 300, 300 };
	x->h[2] = (struct oracle_hole){ 7, 2, 1, 0, 23 };
}

static size_t enc(const struct oracle_loss *x)
{
	size_t len = 0;

	assert_int_equal(0, oracle_loss_encode(x, buf, sizeof(buf), &len));
	return len;
}

static void test_exact_bytes(void **st)
{
	static const uint8_t want[] = {
		0xa2, 0x01, 0x50,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0x02, 0x83,
		0x85, 0x07, 0x01, 0x01, 0x05, 0x09,
		0x85, 0x07, 0x01, 0x01, 0x19, 0x01, 0x2c, 0x19, 0x01, 0x2c,
		0x85, 0x07, 0x02, 0x01, 0x00, 0x17,
	};
	size_t len, need = 0;

	(void)st;
	fill(&a);
	len = enc(&a);
	assert_int_equal(sizeof(want), len);
	assert_memory_equal(want, buf, len);
	assert_int_equal(-ENOSPC, oracle_loss_encode(&a, buf, len - 1, &need));
	assert_int_equal(len, need);
}

static void test_roundtrip(void **st)
{
	const char *why = NULL;
	size_t len;

	(void)st;
	fill(&a);
	len = enc(&a);
	assert_int_equal(0, oracle_loss_parse(buf, len, &b, &why));
	assert_memory_equal(&a, &b, sizeof(a));
	/* no holes: a valid declaration (the gateway's set emptied) */
	a.n = 0;
	len = enc(&a);
	assert_int_equal(21, len);
	assert_int_equal(0, oracle_loss_parse(buf, len, &b, &why));
	assert_int_equal(0, b.n);
	/* the largest: ORACLE_LOSS_MAX_HOLES holes of large numbers */
	a.n = ORACLE_LOSS_MAX_HOLES;
	for (size_t i = 0; i < a.n; i++)
		a.h[i] = (struct oracle_hole){ UINT64_MAX, 63, UINT32_MAX,
					       (uint64_t)INT64_MAX - 2 * a.n + 2 * i,
					       (uint64_t)INT64_MAX - 2 * a.n + 2 * i };
	len = enc(&a);
	assert_true(len <= ORACLE_LOSS_MAX_LEN);
	assert_int_equal(0, oracle_loss_parse(buf, len, &b, &why));
	assert_int_equal(ORACLE_LOSS_MAX_HOLES, b.n);
}

static void expect_reject(const uint8_t *p, size_t len)
{
	const char *why = NULL;

	b.n = 1;
	assert_int_equal(-EBADMSG, oracle_loss_parse(p, len, &b, &why));
	assert_non_null(why);
	assert_int_equal(0, b.n);	/* nothing taken from a rejected one */
}

static void expect_einval(struct oracle_loss *x)
{
	size_t len;

	assert_int_equal(-EINVAL, oracle_loss_encode(x, buf, sizeof(buf), &len));
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
	t[0] = 0xa3;				/* map of 3 */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[1] = 0x02;				/* key order */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[2] = 0x4f;				/* gw id of 15 bytes */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[21] = 0x84;				/* a hole of 4 items */
	expect_reject(t, len);
	memcpy(t, buf, len);
	t[20] = 0x9f;				/* indefinite-length array */
	expect_reject(t, len);
	/* non-shortest integer: first 5 as 0x18 0x05 */
	memcpy(t, buf, 25);
	t[25] = 0x18;
	t[26] = 0x05;
	memcpy(t + 27, buf + 26, len - 26);
	expect_reject(t, len + 1);
	/* stream 64 */
	memcpy(t, buf, 23);
	t[23] = 0x18;
	t[24] = 64;
	memcpy(t + 25, buf + 24, len - 24);
	expect_reject(t, len + 1);
	/* first > last: 9..5 */
	memcpy(t, buf, len);
	t[25] = 0x09;
	t[26] = 0x05;
	expect_reject(t, len);
	/* swapped holes (hole 3 first): not increasing */
	memcpy(t, buf, 21);
	memcpy(t + 21, buf + 37, 6);
	memcpy(t + 27, buf + 21, 16);
	expect_reject(t, len);
	/* what encode refuses, it cannot be made to emit */
	fill(&a);
	a.h[1].first = 9;			/* overlaps 5..9 */
	expect_einval(&a);
	fill(&a);
	a.h[1] = a.h[0];			/* a repeat */
	expect_einval(&a);
	fill(&a);
	a.h[0].stream = 64;
	expect_einval(&a);
	fill(&a);
	a.h[2].last = (uint64_t)INT64_MAX + 1;	/* not a seq */
	expect_einval(&a);
	/* the overlap, hand-made: 5..9 then 9..300 */
	fill(&a);
	len = enc(&a);
	memcpy(t, buf, len);
	t[31] = 0x09;				/* first 9 (shortest) */
	memmove(t + 32, t + 34, len - 34);
	expect_reject(t, len - 2);
}

/*
 * Released chains (protocol.md "Released records"): key 3, an array of
 * [instance, stream, generation, last], strictly increasing by chain; the
 * key only when there is one (no key 3 keeps the bytes of a declaration
 * without).
 */
static void test_released(void **st)
{
	static const uint8_t want[] = {
		0xa3, 0x01, 0x50,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0x02, 0x81,
		0x85, 0x07, 0x01, 0x01, 0x05, 0x09,
		0x03, 0x82,
		0x84, 0x07, 0x01, 0x01, 0x19, 0x02, 0x37,
		0x84, 0x07, 0x02, 0x01, 0x00,
	};
	const char *why = NULL;
	uint8_t t[128];
	size_t len;

	(void)st;
	fill(&a);
	a.n = 1;
	memset(&a.h[1], 0, 2 * sizeof(a.h[1]));	/* as the parser leaves them */
	a.nrel = 2;
	a.rel[0] = (struct oracle_released){ 7, 1, 1, 567 };
	a.rel[1] = (struct oracle_released){ 7, 2, 1, 0 };
	len = enc(&a);
	assert_int_equal(sizeof(want), len);
	assert_memory_equal(want, buf, len);
	assert_int_equal(0, oracle_loss_parse(buf, len, &b, &why));
	assert_memory_equal(&a, &b, sizeof(a));
	/* released chains alone, no hole */
	a.n = 0;
	len = enc(&a);
	assert_int_equal(0, oracle_loss_parse(buf, len, &b, &why));
	assert_int_equal(0, b.n);
	assert_int_equal(2, b.nrel);
	assert_int_equal(567, b.rel[0].last);
	/* the largest: every hole and every released chain, large numbers */
	a.n = ORACLE_LOSS_MAX_HOLES;
	for (size_t i = 0; i < a.n; i++)
		a.h[i] = (struct oracle_hole){ UINT64_MAX, 63, UINT32_MAX,
					       (uint64_t)INT64_MAX - 2 * a.n + 2 * i,
					       (uint64_t)INT64_MAX - 2 * a.n + 2 * i };
	a.nrel = ORACLE_LOSS_MAX_RELEASED;
	for (size_t i = 0; i < a.nrel; i++)
		a.rel[i] = (struct oracle_released){ UINT64_MAX - a.nrel + i, 63,
						     UINT32_MAX, INT64_MAX };
	len = enc(&a);
	assert_true(len <= ORACLE_LOSS_MAX_LEN);
	assert_int_equal(0, oracle_loss_parse(buf, len, &b, &why));
	assert_int_equal(ORACLE_LOSS_MAX_RELEASED, b.nrel);

	memcpy(t, want, sizeof(want));
	for (size_t i = 27; i < sizeof(want); i++)	/* every truncation */
		expect_reject(t, i);
	t[28] = 0x80;				/* key 3 with no chain */
	expect_reject(t, 29);
	memcpy(t, want, sizeof(want));
	t[0] = 0xa2;				/* key 3 in a map of 2 */
	expect_reject(t, sizeof(want));
	memcpy(t, want, sizeof(want));
	t[0] = 0xa4;				/* a map of 4 */
	expect_reject(t, sizeof(want));
	memcpy(t, want, sizeof(want));
	t[27] = 0x04;				/* another key */
	expect_reject(t, sizeof(want));
	memcpy(t, want, sizeof(want));
	t[29] = 0x85;				/* 5 items */
	expect_reject(t, sizeof(want));
	memcpy(t, want, sizeof(want));
	t[38] = 0x01;				/* streams 1, 1: not increasing */
	expect_reject(t, sizeof(want));
	memcpy(t, want, sizeof(want));
	t[38] = 0x18;				/* stream 64 */
	t[39] = 64;
	t[40] = 0x01;
	t[41] = 0x00;
	expect_reject(t, sizeof(want) + 1);
	/* last 2^63: not a seq */
	memcpy(t, want, 29);
	memcpy(t + 29, (const uint8_t[]){ 0x84, 0x07, 0x01, 0x01, 0x1b,
					  0x80, 0, 0, 0, 0, 0, 0, 0 }, 13);
	memcpy(t + 42, want + 36, 5);
	expect_reject(t, 47);
	/* what encode refuses */
	fill(&a);
	a.nrel = 2;
	a.rel[0] = (struct oracle_released){ 7, 2, 1, 5 };
	a.rel[1] = (struct oracle_released){ 7, 1, 1, 5 };
	expect_einval(&a);
	a.rel[1] = a.rel[0];			/* a chain twice */
	expect_einval(&a);
	a.nrel = 1;
	a.rel[0].stream = 64;
	expect_einval(&a);
	a.rel[0] = (struct oracle_released){ 7, 1, 1, (uint64_t)INT64_MAX + 1 };
	expect_einval(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_released),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

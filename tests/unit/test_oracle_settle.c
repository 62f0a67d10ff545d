// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the settlement side of liboracle: Keccak-256 and
 * Ethereum addresses (keccak.c), the final report codec and its
 * contract-equivalent check (final.c), the option description parser and
 * the payout (settle.c), with the contract's numbers worked by hand.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "final.h"
#include "keccak.h"
#include "report.h"
#include "settle.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static void seckey(uint8_t k[32], unsigned int i)
{
	memset(k, 0, 32);
	k[31] = (uint8_t)i;
	k[30] = 0x5e;
}

/* ------------------------------------------------------------ keccak --- */

static void keccak_vectors(void **state)
{
	uint8_t h[32], want[32], big[300];

	(void)state;
	oracle_keccak256("", 0, h);
	unhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", want, 32);
	assert_memory_equal(h, want, 32);
	oracle_keccak256("abc", 3, h);
	unhex("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", want, 32);
	assert_memory_equal(h, want, 32);
	/* more than one 136-byte block; value from an independent Keccak */
	for (int i = 0; i < 300; i++)
		big[i] = (uint8_t)i;
	oracle_keccak256(big, sizeof(big), h);
	unhex("a679e749a6af300c36e7ff2255d220864eab27b382f9cfdc5aa4d13563ba36ff", want, 32);
	assert_memory_equal(h, want, 32);
	/* exactly one block: the padding goes into a block of its own */
	oracle_keccak256(big, 136, h);
	assert_memory_not_equal(h, want, 32);
}

static void eth_address_of_key_one(void **state)
{
	struct oracle_signer s;
	uint8_t k[32] = { 0 }, a[20], want[20];

	(void)state;
	k[31] = 1;
	assert_int_equal(oracle_signer_init(&s, k), 0);
	oracle_eth_address(s.pub, a);
	/* the well-known address of private key 1 */
	unhex("7e5f4552091a69125d5dfcb7b8c2659029395bdf", want, 20);
	assert_memory_equal(a, want, 20);
	oracle_signer_fini(&s);
}

/* ------------------------------------------------------ final report --- */

static struct oracle_core core_of(uint64_t round, int64_t value, uint8_t status)
{
	struct oracle_core c = { .round = round, .value = value, .decimals = 2,
				 .status = status };

	memset(c.feed_id, 0xf1, 32);
	memset(c.config_digest, 0xc0, 32);
	memset(c.evidence_root, 0xee, 32);
	return c;
}

/* A set of the nodes 1..4 (f = 1) and a final report signed by `who`. */
static void make(struct oracle_set *set, struct oracle_final *f,
		 const struct oracle_core *c, const unsigned int *who, size_t n)
{
	uint8_t k[32];

	memset(set, 0, sizeof(*set));
	set->n = 4;
	set->f = 1;
	memset(set->config_digest, 0xc0, 32);
	for (unsigned int i = 0; i < 4; i++) {
		struct oracle_signer s;

		seckey(k, i + 1);
		assert_int_equal(oracle_signer_init(&s, k), 0);
		oracle_eth_address(s.pub, set->addrs[i]);
		oracle_signer_fini(&s);
	}
	memset(f, 0, sizeof(*f));
	oracle_core_encode(c, f->core);
	for (size_t i = 0; i < n; i++) {
		struct oracle_signer s;

		seckey(k, who[i]);
		assert_int_equal(oracle_signer_init(&s, k), 0);
		assert_int_equal(oracle_sign_core(&s, c, f->sigs[i]), 0);
		oracle_signer_fini(&s);
	}
	f->nsigs = n;
}

static void final_round_trip_and_check(void **state)
{
	static struct oracle_final f, g;
	struct oracle_set set;
	struct oracle_core c = core_of(7, -315, 0), got;
	const unsigned int who[] = { 2, 4 };
	uint8_t buf[ORACLE_FINAL_MAX];
	const char *why;
	size_t len;

	(void)state;
	make(&set, &f, &c, who, 2);
	assert_int_equal(oracle_final_encode(&f, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4 + 224 + 2 + 2 * 67);
	assert_int_equal(buf[0], 0xa2);
	assert_int_equal(buf[229], 0x82);
	assert_int_equal(oracle_final_parse(buf, len, &g, &why), 0);
	assert_int_equal(g.nsigs, 2);
	assert_memory_equal(&f, &g, sizeof(f));
	assert_int_equal(oracle_final_check(&g, &set, &got, &why), ORACLE_FINAL_OK);
	assert_int_equal(got.round, 7);
	assert_int_equal(got.value, -315);
	/* too small a buffer says how much is needed */
	assert_int_equal(oracle_final_encode(&f, buf, 10, &len), -ENOSPC);
	assert_int_equal(len, 4 + 224 + 2 + 2 * 67);
}

static void final_parse_rejects(void **state)
{
	static struct oracle_final f, g;
	struct oracle_set set;
	struct oracle_core c = core_of(1, 1, 0);
	const unsigned int who[] = { 1, 2 };
	uint8_t buf[ORACLE_FINAL_MAX + 8], bad[ORACLE_FINAL_MAX + 8];
	const char *why;
	size_t len;

	(void)state;
	make(&set, &f, &c, who, 2);
	assert_int_equal(oracle_final_encode(&f, buf, sizeof(buf), &len), 0);
	/* every truncation */
	for (size_t n = 0; n < len; n++) {
		why = NULL;
		assert_int_equal(oracle_final_parse(buf, n, &g, &why), -EBADMSG);
		assert_non_null(why);
	}
	/* trailing byte */
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(oracle_final_parse(bad, len + 1, &g, &why), -EBADMSG);
	/* wrong map size, key, core length, empty array, sig length */
	const size_t at[] = { 0, 1, 3, 228, 229, 230, 231 };
	const uint8_t to[] = { 0xa3, 0x02, 0xdf, 0x03, 0x80, 0x59, 0x40 };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memcpy(bad, buf, len);
		bad[at[i]] = to[i];
		assert_int_equal(oracle_final_parse(bad, len, &g, &why), -EBADMSG);
	}
	/* a non-shortest array length (0x98 0x02) */
	memcpy(bad, buf, 229);
	bad[229] = 0x98;
	bad[230] = 0x02;
	memcpy(bad + 231, buf + 230, len - 230);
	assert_int_equal(oracle_final_parse(bad, len + 1, &g, &why), -EBADMSG);
	assert_string_equal(why, "array length not in shortest form");
}

static void final_check_is_the_contracts(void **state)
{
	static struct oracle_final f;
	struct oracle_set set;
	struct oracle_core c = core_of(3, 1800, 0), got;
	const char *why;

	(void)state;
	{
		const unsigned int w[] = { 3 };

		make(&set, &f, &c, w, 1);
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_FEW);
	}
	{
		const unsigned int w[] = { 1, 9 };

		make(&set, &f, &c, w, 2);
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_UNKNOWN);
	}
	{
		const unsigned int w[] = { 2, 2 };

		make(&set, &f, &c, w, 2);
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_DUP);
	}
	{
		const unsigned int w[] = { 1, 2, 3 };

		make(&set, &f, &c, w, 3);
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_OK);
		/* high s: the malleated twin (r, n - s, v ^ 1) */
		static const uint8_t n[32] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
			0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41 };
		int borrow = 0;

		for (int i = 31; i >= 0; i--) {
			int d = n[i] - f.sigs[1][32 + i] - borrow;

			borrow = d < 0;
			f.sigs[1][32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
		}
		f.sigs[1][64] ^= 1;
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_BADSIG);
		/* another config digest */
		make(&set, &f, &c, w, 3);
		set.config_digest[5] ^= 1;
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_CONFIG);
		/* a changed value: recovers someone else */
		make(&set, &f, &c, w, 3);
		f.core[95] ^= 1;
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_UNKNOWN);
		/* a core that does not decode */
		make(&set, &f, &c, w, 3);
		f.core[64] = 0x01;
		assert_int_equal(oracle_final_check(&f, &set, &got, &why), ORACLE_FINAL_CORE);
	}
}

/* ------------------------------------------------------------ option --- */

static const char desc_head[] =
	"# a test option\n"
	"feed_id = 0xf1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1\n"
	"decimals = 2\n"
	"first_round = 1\n"
	"last_round = 4\n"
	"extension_rounds = 2\n"
	"min_rounds = 3\n"
	"strike = 1800\n"
	"notional = 1000\n"
	"buyer_deposit = 100000\n"
	"seller_deposit = 900000\n"
	"config_digest = c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0\n"
	"f = 1\n"
	"signer = 0x1111111111111111111111111111111111111111\n"
	"signer = 0x2222222222222222222222222222222222222222\n"
	"signer = 0x3333333333333333333333333333333333333333\n"
	"  signer=0x4444444444444444444444444444444444444444  \n";

static int parse_with(const char *replace, const char *by, struct oracle_option *o,
		      char *why)
{
	char text[4096];
	const char *p = strstr(desc_head, replace);

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - desc_head), desc_head, by,
		 p + strlen(replace));
	return oracle_option_parse(text, strlen(text), o, why, 256);
}

static void option_parse(void **state)
{
	struct oracle_option o;
	char why[256];

	(void)state;
	assert_int_equal(oracle_option_parse(desc_head, strlen(desc_head), &o, why,
					     sizeof(why)), 0);
	assert_int_equal(o.set.n, 4);
	assert_int_equal(o.set.f, 1);
	assert_int_equal(o.strike, 1800);
	assert_int_equal(o.set.addrs[3][19], 0x44);
	assert_true(o.notional == 1000);
	/* each rejection with a reason */
	const char *cases[][3] = {
		{ "decimals = 2", "decimals = 128", "decimals" },
		{ "strike = 1800", "strike = -0", "strike" },
		{ "strike = 1800", "strike = 9223372036854775808", "strike" },
		{ "notional = 1000", "notional = 79228162514264337593543950336", "notional" },
		{ "notional = 1000", "notional = 0", "notional and deposits" },
		{ "first_round = 1", "first_round = 01", "first_round" },
		{ "first_round = 1", "first_round = 5", "window" },
		{ "min_rounds = 3", "min_rounds = 5", "min_rounds" },
		{ "f = 1", "f = 2", "3f + 1" },
		{ "f = 1\n", "f = 1\nf = 1\n", "twice" },
		{ "f = 1\n", "", "missing key 'f'" },
		{ "f = 1\n", "colour = blue\n", "unknown key" },
		{ "f = 1\n", "just words\n", "expected 'key = value'" },
		{ "0x2222222222222222222222222222222222222222", "0x1111111111111111111111111111111111111111", "listed twice" },
		{ "0x2222222222222222222222222222222222222222", "0x0000000000000000000000000000000000000000", "zero address" },
		{ "0x2222222222222222222222222222222222222222", "0x22", "signer must be" },
		{ "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "0000000000000000000000000000000000000000000000000000000000000000", "config_digest" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = 0;
		assert_int_equal(parse_with(cases[i][0], cases[i][1], &o, why), -EINVAL);
		if (!strstr(why, cases[i][2]))
			fail_msg("case %zu: '%s' does not mention '%s'", i, why, cases[i][2]);
	}
	/* a NUL byte inside */
	assert_int_equal(oracle_option_parse("f = 1\0\n", 7, &o, why, sizeof(why)), -EINVAL);
}

static struct oracle_option test_option(void)
{
	struct oracle_option o;
	char why[256];

	assert_int_equal(oracle_option_parse(desc_head, strlen(desc_head), &o, why,
					     sizeof(why)), 0);
	return o;
}

static void payout_economics(void **state)
{
	struct oracle_option o = test_option();
	struct oracle_payout p;
	const char *why;

	(void)state;
	/* at, just below, just above the strike; capped at the pool */
	assert_true(oracle_option_buyer(&o, 1800) == 0);
	assert_true(oracle_option_buyer(&o, 1799) == 0);
	assert_true(oracle_option_buyer(&o, 1801) == 1000);
	assert_true(oracle_option_buyer(&o, 1800 + 999) == 999000);
	assert_true(oracle_option_buyer(&o, 1800 + 1000) == 1000000);
	assert_true(oracle_option_buyer(&o, INT64_MAX) == 1000000);
	assert_true(oracle_option_buyer(&o, INT64_MIN) == 0);
	/* huge notional: no 128-bit overflow */
	o.notional = ((oracle_u128)1 << 96) - 1;
	assert_true(oracle_option_buyer(&o, INT64_MAX) == 1000000);
	o = test_option();

	/* (1810 + 1825 + 1836 + 1840) / 4 = 1827.75 -> 1827 */
	struct oracle_round_in r[] = {
		{ 1, 1810, 2, 0 }, { 2, 1825, 2, 0 }, { 3, 1836, 2, 0 }, { 4, 1840, 2, 0 },
	};
	assert_int_equal(oracle_option_payout(&o, r, 4, &p, &why), 0);
	assert_int_equal(p.outcome, ORACLE_OUT_SETTLED);
	assert_int_equal(p.mean, 1827);
	assert_true(p.buyer == 27000 && p.seller == 973000);
	/* negative mean truncates toward zero: (-5 - 6 - 6) / 3 = -5 */
	o.strike = -6;
	struct oracle_round_in neg[] = { { 1, -5, 2, 0 }, { 2, -6, 2, 0 }, { 3, -6, 2, 0 } };
	assert_int_equal(oracle_option_payout(&o, neg, 3, &p, &why), 0);
	assert_int_equal(p.mean, -5);
	assert_true(p.buyer == 1000);
}

static void payout_halts_and_fallback(void **state)
{
	struct oracle_option o = test_option();
	struct oracle_payout p;
	const char *why;

	(void)state;
	/* a halted round's value (9000) is never used */
	struct oracle_round_in h[] = {
		{ 1, 1810, 2, 0 }, { 2, 9000, 2, 4 }, { 3, 1820, 2, 0 }, { 4, 1830, 2, 0 },
	};
	assert_int_equal(oracle_option_payout(&o, h, 4, &p, &why), 0);
	assert_int_equal(p.mean, 1820);
	assert_int_equal(p.halted, 1);
	assert_int_equal(p.settled, 3);
	/* two halts: too few in the window, the extension settles it */
	h[0].status = 1;
	struct oracle_round_in e[5];

	memcpy(e, h, sizeof(h));
	e[4] = (struct oracle_round_in){ 6, 1900, 2, 0 };
	assert_int_equal(oracle_option_payout(&o, e, 5, &p, &why), 0);
	assert_int_equal(p.outcome, ORACLE_OUT_SETTLED_EXTENDED);
	assert_int_equal(p.window_end, 6);
	assert_int_equal(p.mean, (1820 + 1830 + 1900) / 3);
	/* all halted: refund */
	for (int i = 0; i < 4; i++)
		h[i].status = 6;
	assert_int_equal(oracle_option_payout(&o, h, 4, &p, &why), 0);
	assert_int_equal(p.outcome, ORACLE_OUT_REFUND);
	assert_true(p.buyer == 100000 && p.seller == 900000);
	/* what the contract refuses to record */
	struct oracle_round_in bad[] = { { 7, 1, 2, 0 } };
	assert_int_equal(oracle_option_payout(&o, bad, 1, &p, &why), -EINVAL);
	bad[0] = (struct oracle_round_in){ 1, 1, 3, 0 };
	assert_int_equal(oracle_option_payout(&o, bad, 1, &p, &why), -EINVAL);
	struct oracle_round_in twice[] = { { 2, 1, 2, 0 }, { 2, 1, 2, 0 } };
	assert_int_equal(oracle_option_payout(&o, twice, 2, &p, &why), -EINVAL);
}

static void u128_decimal(void **state)
{
	char s[40];

	(void)state;
	oracle_u128_str(0, s);
	assert_string_equal(s, "0");
	oracle_u128_str(~(oracle_u128)0, s);
	assert_string_equal(s, "340282366920938463463374607431768211455");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keccak_vectors),
		cmocka_unit_test(eth_address_of_key_one),
		cmocka_unit_test(final_round_trip_and_check),
		cmocka_unit_test(final_parse_rejects),
		cmocka_unit_test(final_check_is_the_contracts),
		cmocka_unit_test(option_parse),
		cmocka_unit_test(payout_economics),
		cmocka_unit_test(payout_halts_and_fallback),
		cmocka_unit_test(u128_decimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the inputs of `attestio settle`: the final report
 * parser and its contract-equivalent check (user/oracle/final.c), and the
 * option description parser and payout (settle.c).  Besides the sanitizers
 * it checks that an accepted final report re-encodes to exactly the input,
 * that a payout always splits the pool (buyer + seller = pool, or the
 * deposits on a refund) and that the buyer's share is the contract's
 * min((mean - strike) * notional, pool).
 */
#include <stdlib.h>
#include <string.h>

#include "final.h"
#include "settle.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char base_desc[] =
	"feed_id = f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1\n"
	"decimals = 2\nfirst_round = 1\nlast_round = 4\nextension_rounds = 2\n"
	"min_rounds = 2\nstrike = 1800\nnotional = 1000\nbuyer_deposit = 100000\n"
	"seller_deposit = 900000\n"
	"config_digest = c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0\n"
	"f = 1\nsigner = 0x1111111111111111111111111111111111111111\n"
	"signer = 0x2222222222222222222222222222222222222222\n"
	"signer = 0x3333333333333333333333333333333333333333\n"
	"signer = 0x4444444444444444444444444444444444444444\n";

static void payout_invariants(const struct oracle_option *o, const uint8_t *data,
			      size_t size)
{
	struct oracle_round_in r[16];
	struct oracle_payout p;
	const char *why;
	size_t n = 0;

	/* 10 bytes per round: round (1), value (8), status (1) */
	for (; n < 16 && size >= 10; n++, data += 10, size -= 10) {
		int64_t v;

		memcpy(&v, data + 1, 8);
		r[n] = (struct oracle_round_in){ .round = o->first_round + data[0] % 8,
			.value = v, .decimals = o->decimals, .status = data[9] % 3 };
	}
	if (oracle_option_payout(o, r, n, &p, &why)) {
		CHECK(why);
		return;
	}
	if (p.outcome == ORACLE_OUT_REFUND) {
		CHECK(p.buyer == o->buyer_deposit && p.seller == o->seller_deposit);
		return;
	}
	oracle_u128 pool = o->buyer_deposit + o->seller_deposit;

	CHECK(p.buyer + p.seller == pool && p.buyer <= pool);
	CHECK(p.settled >= o->min_rounds);
	if (p.mean <= o->strike) {
		CHECK(p.buyer == 0);
	} else {
		/* the same in 256-bit terms: diff * notional < 2^64 * 2^96 */
		oracle_u128 diff = (oracle_u128)((__int128)p.mean - o->strike);
		int over = diff > pool / o->notional;

		CHECK(over ? p.buyer == pool : p.buyer == diff * o->notional);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oracle_final f, g;
	struct oracle_option o;
	struct oracle_core core;
	uint8_t *buf, re[ORACLE_FINAL_MAX];
	const char *why = NULL;
	char err[256];
	size_t len;

	/* An exactly sized copy, so that any read past the end is caught. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (oracle_option_parse(base_desc, strlen(base_desc), &o, err, sizeof(err)))
		abort();
	if (oracle_final_parse(buf, size, &f, &why) == 0) {
		CHECK(oracle_final_encode(&f, re, sizeof(re), &len) == 0);
		CHECK(len == size && !memcmp(re, buf, size));
		why = NULL;
		if (oracle_final_check(&f, &o.set, &core, &why))
			CHECK(why);
	} else {
		CHECK(why);
	}
	/* the same bytes as a description file */
	if (oracle_option_parse((const char *)buf, size, &o, err, sizeof(err)) == 0) {
		payout_invariants(&o, data, size);
		/* and the parsed set checks any final report without crashing */
		if (size >= sizeof(g.core)) {
			memcpy(g.core, buf, sizeof(g.core));
			g.nsigs = 0;
			(void)oracle_final_check(&g, &o.set, &core, &why);
		}
	} else {
		CHECK(err[0]);
		if (oracle_option_parse(base_desc, strlen(base_desc), &o, err, sizeof(err)))
			abort();
		payout_invariants(&o, data, size);
	}
	free(buf);
	return 0;
}

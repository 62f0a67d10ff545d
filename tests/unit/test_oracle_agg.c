// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for attestio-oracle's aggregation and halt rules
 * (user/oracle/agg.c, Documentation/protocol.md "Aggregation"): the
 * weighted median, Byzantine cases, each halt reason, caps, reputation and
 * order independence (random permutations).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"

#define NOW	1000000u
#define ONE	ORACLE_REP_ONE

/* Deterministic PRNG (xorshift64*) so that failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static struct oracle_feed_params params(void)
{
	return (struct oracle_feed_params){
		.decimals = 2, .min_devices = 3, .min_gateways = 2,
		.min_weight = 1, .tau = 50, .delta = 500, .confirm_rounds = 2,
		.heartbeat = 60,
	};
}

/* device i on gateway g at site s */
static struct oracle_agg_input dev(unsigned int i, unsigned int g,
				   unsigned int s, int64_t value)
{
	struct oracle_agg_input d = { .tier = 3, .reputation = ONE,
				      .value = value, .time = NOW - 1 };

	d.device[0] = 0xd0;
	d.device[15] = (uint8_t)i;
	d.gateway[15] = (uint8_t)g;
	d.site[15] = (uint8_t)s;
	return d;
}

struct run {
	struct oracle_agg_contrib out[ORACLE_AGG_MAX_DEVICES];
	struct oracle_agg_result res;
};

static struct run R;

static int round_st(const struct oracle_feed_params *p,
		    const struct oracle_feed_state *st, uint64_t round,
		    const struct oracle_agg_input *in, size_t n)
{
	const char *why = NULL;
	int ret = oracle_agg_round(p, st, round, NOW, in, n, R.out, &R.res, &why);

	assert_true(ret == 0 || why != NULL);
	return ret;
}

static uint8_t agg(const struct oracle_feed_params *p,
		   const struct oracle_agg_input *in, size_t n)
{
	struct oracle_feed_state st = { 0 };

	assert_int_equal(round_st(p, &st, 1, in, n), 0);
	return R.res.status;
}

/* ------------------------------------------------------ weighted median --- */

static void wm_basic(void **state)
{
	int64_t v[] = { 1, 2, 3, 4, 5 };
	uint64_t w1[] = { 1, 1, 1, 1, 1 };
	uint64_t wh[] = { 1, 1, 1, 1, 10 };
	uint64_t wz[] = { 0, 0, 1, 0, 0 };

	(void)state;
	assert_int_equal(oracle_weighted_median(v, w1, 5), 3);
	assert_int_equal(oracle_weighted_median(v, wh, 5), 5);	/* heavy wins */
	assert_int_equal(oracle_weighted_median(v, wz, 5), 3);
	assert_int_equal(oracle_weighted_median(v, w1, 1), 1);
}

static void wm_ties(void **state)
{
	int64_t v[] = { 1, 2 }, n[] = { -2, -1 }, odd[] = { 10, 20, 30, 40 };
	int64_t big[] = { INT64_MAX - 1, INT64_MAX };
	int64_t small[] = { -INT64_MAX, -INT64_MAX + 1 };
	uint64_t w[] = { 1, 1 }, w4[] = { 2, 0, 1, 1 }, w4b[] = { 1, 1, 1, 1 };

	(void)state;
	/* exactly half below: floor of the mean of the two middle values */
	assert_int_equal(oracle_weighted_median(v, w, 2), 1);	/* 1.5 -> 1 */
	assert_int_equal(oracle_weighted_median(n, w, 2), -2);	/* -1.5 -> -2 */
	assert_int_equal(oracle_weighted_median(odd, w4b, 4), 25);
	/* the zero-weight 20 is skipped: mean of 10 and 30 */
	assert_int_equal(oracle_weighted_median(odd, w4, 4), 20);
	/* no overflow at the ends of int64 */
	assert_true(oracle_weighted_median(big, w, 2) == INT64_MAX - 1);
	assert_true(oracle_weighted_median(small, w, 2) == -INT64_MAX);
}

static void median_of_readings(void **state)
{
	int64_t v[] = { 9, -3, 7, 1 }, one[] = { 42 };

	(void)state;
	assert_int_equal(oracle_median_i64(v, 4), 1);	/* lower median */
	assert_int_equal(oracle_median_i64(one, 1), 42);
}

/*
 * Property: when the weight of the values outside [lo, hi] is below half,
 * the weighted median lies in [lo, hi], wherever the liars put theirs.
 */
static void wm_honest_range_property(void **state)
{
	int64_t v[32];
	uint64_t w[32];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 1 + rnd() % 32, nh = 0;
		uint64_t wh = 0, wl = 0;
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		struct { int64_t v; uint64_t w; bool honest; } e[32], t;

		for (size_t i = 0; i < n; i++) {
			e[i].honest = rnd() % 3 != 0;
			e[i].w = rnd() % 1000;
			if (e[i].honest) {
				e[i].v = 1000 + (int64_t)(rnd() % 100);
				wh += e[i].w;
			} else {
				e[i].v = (int64_t)(rnd() % 2 ? 1 : -1) *
					 (int64_t)(rnd() % 100000);
				wl += e[i].w;
			}
		}
		if (2 * wl >= wh + wl || wh == 0)
			continue;
		for (size_t i = 0; i < n; i++)	/* insertion sort by value */
			for (size_t j = i; j > 0 && e[j - 1].v > e[j].v; j--) {
				t = e[j];
				e[j] = e[j - 1];
				e[j - 1] = t;
			}
		for (size_t i = 0; i < n; i++) {
			v[i] = e[i].v;
			w[i] = e[i].w;
			if (e[i].honest && e[i].w) {
				nh++;
				lo = e[i].v < lo ? e[i].v : lo;
				hi = e[i].v > hi ? e[i].v : hi;
			}
		}
		assert_true(nh > 0);
		int64_t m = oracle_weighted_median(v, w, n);

		assert_true(m >= lo && m <= hi);
	}
}

/* ---------------------------------------------------------- settling --- */

static void settles_and_sorts(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[] = {
		dev(4, 4, 1, 2303), dev(1, 1, 1, 2300), dev(3, 3, 1, 2302),
		dev(2, 2, 1, 2301),
	};

	(void)state;
	assert_int_equal(agg(&p, in, 4), ORACLE_SETTLED);
	assert_int_equal(R.res.value, 2301);	/* 2301.5 floored */
	assert_true(R.res.median_valid);
	assert_int_equal(R.res.devices, 4);
	assert_int_equal(R.res.gateways, 4);
	assert_int_equal(R.res.weight, 4ull * 3 * ONE);
	assert_int_equal(R.res.weight_in_band, R.res.weight);
	assert_true(R.res.next.settled);
	assert_int_equal(R.res.next.last_value, 2301);
	assert_int_equal(R.res.next.last_round, 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(R.out[i].device[15], i + 1);
		assert_int_equal(R.out[i].value, 2300 + i);
		assert_int_equal(R.out[i].weight, 3ull * ONE);
	}
}

/* 3f+1 = 7 devices on 7 gateways, f = 2 lie in any direction: settled on a
 * value inside the honest range. */
static void byzantine_f_of_3f1_outvoted(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[7];
	int64_t lies[][2] = { { 99999, 99999 }, { -99999, -99999 },
			      { 99999, -99999 }, { 2400, 2400 } };

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		for (int i = 0; i < 5; i++)
			in[i] = dev(i, i, i, 2300 + 10 * i);	/* 2300..2340 */
		in[5] = dev(5, 5, 5, lies[k][0]);
		in[6] = dev(6, 6, 6, lies[k][1]);
		assert_int_equal(agg(&p, in, 7), ORACLE_SETTLED);
		assert_true(R.res.value >= 2300 && R.res.value <= 2340);
	}
}

/* f+1 coordinated liars of 3f+1: not enough to move the value, but the
 * 2/3 quorum is gone: halt.  A lying weight majority below 2/3: halt.  A
 * coordinated 2/3 of the weight is accepted: the documented limit. */
static void byzantine_majority(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[7];

	(void)state;
	for (int liars = 3; liars <= 5; liars++) {
		for (int i = 0; i < 7; i++)
			in[i] = dev(i, i, i, i < liars ? 9000 : 2300 + i);
		uint8_t s = agg(&p, in, 7);

		if (liars < 5) {
			assert_int_equal(s, ORACLE_HALT_DISAGREE);
			assert_true(R.res.median_valid);
			assert_int_equal(R.res.next.settled, false);
		} else {	/* 5/7 >= 2/3 coordinated: they win */
			assert_int_equal(s, ORACLE_SETTLED);
			assert_int_equal(R.res.value, 9000);
		}
	}
}

/* ---------------------------------------------------------- halt rules --- */

static void halt_few_devices(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[] = {
		dev(1, 1, 1, 2300), dev(2, 2, 1, 2300), dev(3, 3, 1, 2300),
	};

	(void)state;
	in[2].tier = 0;			/* never counted */
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_FEW_DEVICES);
	assert_int_equal(R.out[2].excluded, ORACLE_EXCL_TIER0);
	assert_false(R.res.median_valid);
	assert_int_equal(R.res.value, 0);
	in[2].tier = 1;
	in[2].reputation = 0;		/* weight 0 */
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_FEW_DEVICES);
	assert_int_equal(R.out[2].excluded, ORACLE_EXCL_NO_REP);
	in[2].reputation = 1;		/* any weight counts */
	assert_int_equal(agg(&p, in, 3), ORACLE_SETTLED);
	assert_int_equal(agg(&p, in, 0), ORACLE_HALT_FEW_DEVICES);
}

static void halt_stale(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[] = {
		dev(1, 1, 1, 2300), dev(2, 2, 1, 2300), dev(3, 3, 1, 2300),
	};

	(void)state;
	in[2].time = NOW - p.heartbeat;		/* exactly heartbeat: fresh */
	assert_int_equal(agg(&p, in, 3), ORACLE_SETTLED);
	in[2].time = NOW - p.heartbeat - 1;	/* one second more: stale */
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_STALE);
	assert_int_equal(R.out[2].excluded, ORACLE_EXCL_STALE);
	/* all stale (LUNA): stale, not "few devices" */
	for (int i = 0; i < 3; i++)
		in[i].time = 1;
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_STALE);
	/* too few even counting the stale one: few devices */
	assert_int_equal(agg(&p, in, 2), ORACLE_HALT_FEW_DEVICES);
	/* a reading from the future does not count */
	in[0].time = in[1].time = NOW;
	in[2].time = NOW + 1;
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_FEW_DEVICES);
	assert_int_equal(R.out[2].excluded, ORACLE_EXCL_FUTURE);
}

/* Synthetix sKRW: a feed with too few independent sources must not settle. */
static void halt_few_gateways(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[] = {
		dev(1, 1, 1, 2300), dev(2, 1, 1, 2300), dev(3, 1, 1, 2300),
	};

	(void)state;
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_FEW_GATEWAYS);
	assert_int_equal(R.res.gateways, 1);
	in[2].gateway[15] = 2;
	assert_int_equal(agg(&p, in, 3), ORACLE_SETTLED);
	assert_int_equal(R.res.gateways, 2);
	/* a weightless device's gateway does not count */
	in[2].reputation = 0;
	in[3 - 3] = in[0];
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_FEW_DEVICES);
}

static void halt_low_weight(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[] = {
		dev(1, 1, 1, 2300), dev(2, 2, 1, 2300), dev(3, 3, 1, 2300),
	};

	(void)state;
	p.min_weight = 3ull * 3 * ONE;		/* exactly reached */
	assert_int_equal(agg(&p, in, 3), ORACLE_SETTLED);
	in[0].tier = 2;				/* one tier less */
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_LOW_WEIGHT);
	assert_int_equal(R.res.weight, 3ull * 3 * ONE - ONE);
	/* caps count: a site cap can push the total below the minimum */
	in[0].tier = 3;
	p.site_cap = 2ull * ONE;
	assert_int_equal(agg(&p, in, 3), ORACLE_HALT_LOW_WEIGHT);
	/* each floor(3e6 * 2e6 / 9e6) = 666666 */
	assert_int_equal(R.res.weight, 3 * 666666);
}

static void halt_disagree_two_thirds(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[6];

	(void)state;
	/* 4 of 6 equal weights within tau = exactly 2/3: settles */
	for (int i = 0; i < 6; i++)
		in[i] = dev(i, i, i, 2300);
	in[4].value = 2300 + p.tau + 1;
	in[5].value = 2300 - p.tau - 1;
	assert_int_equal(agg(&p, in, 6), ORACLE_SETTLED);
	assert_int_equal(R.res.weight_in_band * 3, R.res.weight * 2);
	/* the band is inclusive: +-tau exactly counts */
	in[4].value = 2300 + p.tau;
	assert_int_equal(agg(&p, in, 6), ORACLE_SETTLED);
	assert_int_equal(R.res.weight_in_band, R.res.weight * 5 / 6);
	/* a hair under 2/3: halt */
	in[4].value = 2300 + p.tau + 1;
	in[0].reputation = ONE - 1;
	assert_int_equal(agg(&p, in, 6), ORACLE_HALT_DISAGREE);
}

/* Compound DAI, Mango: a jump beyond delta halts k rounds and settles only
 * if it persists; a round that does not confirm restarts the count. */
static void halt_step_confirmed(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_feed_state st = { .settled = true, .last_value = 2300,
					.last_round = 10 };
	struct oracle_agg_input in[3];
	uint64_t r = 11;

	(void)state;
	for (int i = 0; i < 3; i++)
		in[i] = dev(i, i, i, 2300 + p.delta);	/* exactly delta: fine */
	assert_int_equal(round_st(&p, &st, r, in, 3), 0);
	assert_int_equal(R.res.status, ORACLE_SETTLED);

	for (int i = 0; i < 3; i++)
		in[i].value = 2300 + p.delta + 1;
	for (uint32_t k = 1; k <= p.confirm_rounds; k++) {
		assert_int_equal(round_st(&p, &st, r++, in, 3), 0);
		assert_int_equal(R.res.status, ORACLE_HALT_STEP);
		assert_int_equal(R.res.next.pending_count, k);
		assert_int_equal(R.res.next.last_value, 2300);
		assert_int_equal(R.out[0].reputation_next, ONE);
		st = R.res.next;
	}
	assert_int_equal(round_st(&p, &st, r++, in, 3), 0);
	assert_int_equal(R.res.status, ORACLE_SETTLED);
	assert_int_equal(R.res.next.last_value, 2300 + p.delta + 1);
	assert_int_equal(R.res.next.pending_count, 0);

	/* a jump that wanders away from its first value restarts */
	st = (struct oracle_feed_state){ .settled = true, .last_value = 0,
					 .last_round = 1 };
	for (int i = 0; i < 3; i++)
		in[i].value = 5000;
	assert_int_equal(round_st(&p, &st, 2, in, 3), 0);
	assert_int_equal(R.res.status, ORACLE_HALT_STEP);
	st = R.res.next;
	for (int i = 0; i < 3; i++)
		in[i].value = 5000 + p.delta + 1;
	assert_int_equal(round_st(&p, &st, 3, in, 3), 0);
	assert_int_equal(R.res.status, ORACLE_HALT_STEP);
	assert_int_equal(R.res.next.pending_count, 1);
	/* another halt reason breaks the streak */
	st = R.res.next;
	assert_int_equal(round_st(&p, &st, 4, in, 2), 0);
	assert_int_equal(R.res.status, ORACLE_HALT_FEW_DEVICES);
	assert_int_equal(R.res.next.pending_count, 0);
	/* k = 0: no step protection */
	p.confirm_rounds = 0;
	assert_int_equal(round_st(&p, &st, 5, in, 3), 0);
	assert_int_equal(R.res.status, ORACLE_SETTLED);
}

static void rejects_bad_arguments(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_feed_state st = { .settled = true, .last_round = 5 };
	struct oracle_agg_input in[] = {
		dev(1, 1, 1, 2300), dev(2, 2, 1, 2300), dev(1, 3, 1, 2300),
	};
	const char *why = NULL;

	(void)state;
	assert_int_equal(oracle_agg_round(&p, &(struct oracle_feed_state){ 0 },
					  1, NOW, in, 3, R.out, &R.res, &why),
			 -EINVAL);
	assert_string_equal(why, "a device appears twice in one round");
	in[2].device[15] = 3;
	in[2].tier = 4;
	assert_int_equal(round_st(&p, &st, 6, in, 3), -EINVAL);
	in[2].tier = 3;
	in[2].reputation = ONE + 1;
	assert_int_equal(round_st(&p, &st, 6, in, 3), -EINVAL);
	in[2].reputation = ONE;
	assert_int_equal(round_st(&p, &st, 5, in, 3), -EINVAL);
	assert_int_equal(round_st(&p, &st, 6, in, 3), 0);
	p.tau = -1;
	assert_int_equal(round_st(&p, &st, 6, in, 3), -EINVAL);
	p = params();
	p.min_gateways = 4;
	assert_int_equal(round_st(&p, &st, 6, in, 3), -EINVAL);
	p = params();
	p.heartbeat = 0;
	assert_int_equal(round_st(&p, &st, 6, in, 3), -EINVAL);
	assert_int_equal(oracle_agg_round(&p, &st, 6, NOW, in,
					  ORACLE_AGG_MAX_DEVICES + 1, R.out,
					  &R.res, &why), -EINVAL);
}

/* ---------------------------------------------------------------- caps --- */

/* One owner with many devices on one gateway cannot outvote three others. */
static void gateway_cap(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[9];

	(void)state;
	for (int i = 0; i < 3; i++)
		in[i] = dev(i, i, i, 2300);
	for (int i = 3; i < 9; i++)	/* 6 devices on gateway 9 */
		in[i] = dev(i, 9, 9, 2900);
	assert_int_equal(agg(&p, in, 9), ORACLE_SETTLED);
	assert_int_equal(R.res.value, 2900);	/* uncapped: the owner wins */
	p.gateway_cap = 3ull * ONE;		/* one full device's worth */
	assert_int_equal(agg(&p, in, 9), ORACLE_SETTLED);
	assert_int_equal(R.res.value, 2300);
	assert_int_equal(R.res.weight, 4ull * 3 * ONE);
	for (int i = 3; i < 9; i++)	/* floor(w * cap / sum) = w / 6 */
		assert_int_equal(R.out[i].weight, 3ull * ONE / 6);
	assert_int_equal(R.out[3].raw_weight, 3ull * ONE);
	/* a looser cap: no quorum either way */
	p.gateway_cap = 6ull * ONE;
	assert_int_equal(agg(&p, in, 9), ORACLE_HALT_DISAGREE);
}

static void cap_rounding_exact(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_agg_input in[] = {
		dev(1, 1, 1, 2300), dev(2, 1, 1, 2300), dev(3, 1, 1, 2300),
		dev(4, 2, 2, 2300),
	};

	(void)state;
	in[0].reputation = 1;
	in[1].reputation = 2;
	in[2].reputation = 4;	/* gateway 1 raw sum 3 * 7 = 21 */
	p.gateway_cap = 10;
	p.min_gateways = 2;
	assert_int_equal(agg(&p, in, 4), ORACLE_SETTLED);
	assert_int_equal(R.out[0].weight, 3 * 10 / 21);	/* 1 */
	assert_int_equal(R.out[1].weight, 6 * 10 / 21);	/* 2 */
	assert_int_equal(R.out[2].weight, 12 * 10 / 21);	/* 5 */
	assert_int_equal(R.out[3].weight, 10);	/* capped alone: 3e6 -> 10 */
	/* the site cap applies to the gateway-capped weights */
	in[3].site[15] = 1;	/* all on site 1: sum 1+2+5+10 = 18 */
	p.site_cap = 9;
	assert_int_equal(agg(&p, in, 4), ORACLE_SETTLED);
	assert_int_equal(R.out[0].weight, 1 * 9 / 18);
	assert_int_equal(R.out[1].weight, 2 * 9 / 18);
	assert_int_equal(R.out[2].weight, 5 * 9 / 18);
	assert_int_equal(R.out[3].weight, 10 * 9 / 18);
	assert_true(R.res.weight <= 9);
}

/* ---------------------------------------------------------- reputation --- */

static void reputation_rule(void **state)
{
	uint32_t honest = 0, liar = ONE, far = ONE;

	(void)state;
	/* score 1 within tau, 0 from 4 tau, linear between */
	assert_int_equal(oracle_rep_update(0, 100, 150, 50), (ONE + 15) / 16);
	assert_int_equal(oracle_rep_update(ONE, 100, 300, 50), ONE - ONE / 16);
	assert_int_equal(oracle_rep_update(ONE / 2, 125, 0, 50), ONE / 2);
	assert_int_equal(oracle_rep_update(ONE, 0, 0, 0), ONE);
	assert_int_equal(oracle_rep_update(ONE, 1, 0, 0), ONE - ONE / 16);
	assert_int_equal(oracle_rep_update(ONE + 5, 0, 0, 10), ONE);
	/* far out: no overflow */
	assert_int_equal(oracle_rep_update(ONE, INT64_MAX, -INT64_MAX, INT64_MAX / 4),
			 ONE - ONE / 16);
	/* converges exactly and stays bounded */
	for (int i = 0; i < 400; i++) {
		honest = oracle_rep_update(honest, 2300, 2310, 50);
		liar = oracle_rep_update(liar, 9000, 2300, 50);
		far = oracle_rep_update(far, 2300 + 125, 2300, 50);
		assert_true(honest <= ONE && liar <= ONE);
	}
	assert_int_equal(honest, ONE);
	assert_int_equal(liar, 0);
	assert_int_equal(far, ONE / 2);
}

/* In rounds, only settled rounds move reputation; liars lose weight. */
static void reputation_in_rounds(void **state)
{
	struct oracle_feed_params p = params();
	struct oracle_feed_state st = { 0 };
	struct oracle_agg_input in[7];

	(void)state;
	for (int i = 0; i < 7; i++)
		in[i] = dev(i, i, i, i < 2 ? 9000 : 2300);
	in[6].reputation = ORACLE_REP_INITIAL;
	for (uint64_t r = 1; r <= 200; r++) {
		assert_int_equal(round_st(&p, &st, r, in, 7), 0);
		assert_int_equal(R.res.status, ORACLE_SETTLED);
		for (int i = 0; i < 7; i++)
			in[i].reputation = R.out[i].reputation_next;
		st = R.res.next;
	}
	assert_int_equal(in[0].reputation, 0);
	assert_int_equal(in[1].reputation, 0);
	assert_int_equal(in[6].reputation, ONE);
	/* a halted round leaves every reputation alone */
	in[2].value = in[3].value = in[4].value = 9000;
	assert_int_equal(round_st(&p, &st, 201, in, 7), 0);
	assert_int_equal(R.res.status, ORACLE_HALT_DISAGREE);
	for (int i = 0; i < 7; i++)
		assert_int_equal(R.out[i].reputation_next, in[i].reputation);
}

/* ------------------------------------------------- order independence --- */

static void order_independence_property(void **state)
{
	static struct oracle_agg_input in[64], perm[64];
	static struct oracle_agg_contrib out2[64];
	struct oracle_agg_result r1, r2;
	const char *why;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		struct oracle_feed_params p = params();
		struct oracle_feed_state st = { 0 };
		size_t n = 1 + rnd() % 64;

		p.min_devices = 1 + rnd() % 4;
		p.min_gateways = 1 + rnd() % p.min_devices;
		p.tau = (int64_t)(rnd() % 200);
		p.gateway_cap = rnd() % 2 ? 0 : 1 + rnd() % (6ull * ONE);
		p.site_cap = rnd() % 2 ? 0 : 1 + rnd() % (9ull * ONE);
		if (rnd() % 2)
			st = (struct oracle_feed_state){ .settled = true,
				.last_value = 2300, .pending_value = 3000,
				.pending_count = rnd() % 3 };
		for (size_t i = 0; i < n; i++) {
			in[i] = dev(0, rnd() % 8, rnd() % 4,
				    2300 + (int64_t)(rnd() % 8) * 37 -
				    (rnd() % 5 == 0 ? 5000 : 0));
			in[i].device[14] = (uint8_t)(i >> 8);
			in[i].device[15] = (uint8_t)i;
			in[i].tier = rnd() % 4;
			in[i].reputation = rnd() % 4 ? ONE - rnd() % 1000 : 0;
			in[i].time = NOW - rnd() % 80;
		}
		assert_int_equal(oracle_agg_round(&p, &st, 7, NOW, in, n, R.out,
						  &r1, &why), 0);
		memcpy(perm, in, n * sizeof(*in));
		for (size_t i = n - 1; i > 0; i--) {	/* Fisher-Yates */
			size_t j = rnd() % (i + 1);
			struct oracle_agg_input t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		assert_int_equal(oracle_agg_round(&p, &st, 7, NOW, perm, n,
						  out2, &r2, &why), 0);
		r2.contrib = r1.contrib;
		assert_memory_equal(&r1, &r2, sizeof(r1));
		assert_memory_equal(R.out, out2, n * sizeof(*out2));
	}
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(oracle_status_name(ORACLE_HALT_STEP), "step");
	assert_string_equal(oracle_status_name(99), "unknown");
	assert_string_equal(oracle_excl_name(ORACLE_EXCL_STALE), "stale");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wm_basic),
		cmocka_unit_test(wm_ties),
		cmocka_unit_test(median_of_readings),
		cmocka_unit_test(wm_honest_range_property),
		cmocka_unit_test(settles_and_sorts),
		cmocka_unit_test(byzantine_f_of_3f1_outvoted),
		cmocka_unit_test(byzantine_majority),
		cmocka_unit_test(halt_few_devices),
		cmocka_unit_test(halt_stale),
		cmocka_unit_test(halt_few_gateways),
		cmocka_unit_test(halt_low_weight),
		cmocka_unit_test(halt_disagree_two_thirds),
		cmocka_unit_test(halt_step_confirmed),
		cmocka_unit_test(rejects_bad_arguments),
		cmocka_unit_test(gateway_cap),
		cmocka_unit_test(cap_rounding_exact),
		cmocka_unit_test(reputation_rule),
		cmocka_unit_test(reputation_in_rounds),
		cmocka_unit_test(order_independence_property),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

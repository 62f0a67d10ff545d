/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-feed, per-round aggregation and halt rules of attestio-oracle
 * (Documentation/protocol.md, "Aggregation").  Pure: no I/O, no allocation,
 * no floating point.  Values are int64 fixed-point numbers at the feed's
 * decimals (value 2315 at decimals 2 is 23.15 in SI units); weights are
 * unsigned integers (tier x reputation in ppm, then capped).
 *
 * The result depends only on the multiset of inputs: any permutation of
 * the same inputs gives a bit-identical result (inputs are sorted by
 * total orders before anything is summed or chosen).
 */
#ifndef ATTESTIO_ORACLE_AGG_H
#define ATTESTIO_ORACLE_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORACLE_ID_LEN		16	/* device, gateway, site ids */
#define ORACLE_TIER_MAX		3
#define ORACLE_REP_ONE		1000000u	/* reputation 1.0, in ppm */
#define ORACLE_REP_INITIAL	500000u		/* a newly admitted device */
#define ORACLE_AGG_MAX_DEVICES	1024

/* Round status: 0 = settled; anything else is the halt reason.  These are
 * the `status` byte of the report core: never renumber. */
enum oracle_status {
	ORACLE_SETTLED = 0,
	ORACLE_HALT_FEW_DEVICES = 1,	/* fewer than min_devices participate */
	ORACLE_HALT_FEW_GATEWAYS = 2,	/* fewer than min_gateways distinct */
	ORACLE_HALT_LOW_WEIGHT = 3,	/* capped weight below min_weight */
	ORACLE_HALT_DISAGREE = 4,	/* < 2/3 of weight within +-tau */
	ORACLE_HALT_STEP = 5,		/* |median - last| > delta, unconfirmed */
	ORACLE_HALT_STALE = 6,		/* enough devices only counting stale ones */
	ORACLE_STATUS_MAX = 6,
};

/* Why one device did not count this round (0 = it counted). */
enum oracle_excl {
	ORACLE_EXCL_NONE = 0,
	ORACLE_EXCL_TIER0 = 1,		/* assurance tier 0: never counted */
	ORACLE_EXCL_NO_REP = 2,		/* reputation 0 */
	ORACLE_EXCL_STALE = 3,		/* newest reading older than heartbeat */
	ORACLE_EXCL_FUTURE = 4,		/* reading time after the round time */
	ORACLE_EXCL_MAX = 4,
};

struct oracle_feed_params {
	int8_t decimals;	/* of every value; -77..77 */
	uint32_t min_devices;	/* >= 1 */
	uint32_t min_gateways;	/* >= 1 */
	uint64_t min_weight;	/* capped weight units */
	int64_t tau;		/* tolerance band, value units, >= 0 */
	int64_t delta;		/* maximum unconfirmed step, value units, >= 0 */
	uint32_t confirm_rounds; /* k: a step halts k rounds, settles on k+1 */
	uint64_t heartbeat;	/* seconds a reading stays fresh, >= 1 */
	uint64_t gateway_cap;	/* max weight per gateway; 0 = no cap */
	uint64_t site_cap;	/* max weight per site; 0 = no cap */
};

/* What a feed remembers between rounds.  All-zero is "never settled". */
struct oracle_feed_state {
	bool settled;		/* a value was ever settled */
	int64_t last_value;	/* last settled value */
	uint64_t last_round;
	int64_t pending_value;	/* first median of an unconfirmed step */
	uint32_t pending_count;	/* consecutive rounds that showed it */
};

/* One device's verified input for the round. */
struct oracle_agg_input {
	uint8_t device[ORACLE_ID_LEN];
	uint8_t gateway[ORACLE_ID_LEN];
	uint8_t site[ORACLE_ID_LEN];
	uint8_t tier;		/* 0..3 */
	uint32_t reputation;	/* ppm, 0..ORACLE_REP_ONE */
	int64_t value;		/* the device's reading for the round */
	uint64_t time;		/* time of that reading, unix seconds */
};

/* One device's outcome.  Output arrays are sorted by device id. */
struct oracle_agg_contrib {
	uint8_t device[ORACLE_ID_LEN];
	uint8_t gateway[ORACLE_ID_LEN];
	uint8_t site[ORACLE_ID_LEN];
	int64_t value;
	uint64_t raw_weight;	/* tier x reputation (0 when excluded) */
	uint64_t weight;	/* after the gateway and site caps */
	uint8_t excluded;	/* enum oracle_excl */
	uint32_t reputation_next; /* after this round's update */
};

struct oracle_agg_result {
	uint8_t status;		/* enum oracle_status */
	int64_t value;		/* the median when computed, else last value */
	bool median_valid;	/* the weighted median was computed */
	uint32_t devices;	/* participating devices */
	uint32_t gateways;	/* distinct gateways among them */
	uint64_t weight;	/* total capped weight */
	uint64_t weight_in_band; /* capped weight within +-tau of the median */
	struct oracle_feed_state next; /* state for the next round */
	size_t n;
	struct oracle_agg_contrib *contrib; /* caller's array of n entries */
};

/* 0 if the parameters are usable, else -EINVAL with *why set. */
int oracle_feed_params_check(const struct oracle_feed_params *p,
			     const char **why);

/*
 * Aggregate round `round` at time `now` (seconds; the round's scheduled
 * end, the same on every node).  `out` must hold n entries.  Returns 0
 * with res filled in (settled or halted: both are results), or -EINVAL
 * for unusable arguments (bad params, n > ORACLE_AGG_MAX_DEVICES, tier >
 * 3, reputation > 1.0, duplicate device ids, round not after the last
 * settled round), with *why set.
 */
int oracle_agg_round(const struct oracle_feed_params *p,
		     const struct oracle_feed_state *st, uint64_t round,
		     uint64_t now, const struct oracle_agg_input *in, size_t n,
		     struct oracle_agg_contrib *out,
		     struct oracle_agg_result *res, const char **why);

/*
 * Weighted median of n (value, weight) pairs sorted by value, total weight
 * W > 0: the smallest value whose cumulative weight reaches W/2; when the
 * cumulative weight is exactly W/2 there, the floor of the mean of it and
 * the next value.  Exposed for tests and verify-report.
 */
int64_t oracle_weighted_median(const int64_t *values, const uint64_t *weights,
			       size_t n);

/* Lower median of a device's readings in the round window (sorts v). */
int64_t oracle_median_i64(int64_t *v, size_t n);

/*
 * Reputation update after a settled round (EWMA, 1/16 per round): the
 * round's score is 1.0 within tau of the aggregate, falling linearly to 0
 * at 4 tau; reputation moves 1/16 of the way to the score, rounded away
 * from the current value, so it converges exactly to 1.0 for a device that
 * keeps agreeing and to 0 for one that keeps lying.  Always in [0, 1.0].
 */
uint32_t oracle_rep_update(uint32_t rep, int64_t value, int64_t aggregate,
			   int64_t tau);

const char *oracle_status_name(unsigned int status);
const char *oracle_excl_name(unsigned int excl);

#endif

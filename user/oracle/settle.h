/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Off-chain settlement of the TemperatureOption contract
 * (user/contracts/TemperatureOption.sol, Documentation/settlement.md):
 * the contract description file's parser and the payout, with exactly the
 * contract's integer arithmetic.  Pure: no I/O, shared by `attestio
 * settle`, its unit tests and a fuzz target.
 */
#ifndef ATTESTIO_ORACLE_SETTLE_H
#define ATTESTIO_ORACLE_SETTLE_H

#include <stddef.h>
#include <stdint.h>

#include "final.h"

typedef unsigned __int128 oracle_u128;

#define ORACLE_AMOUNT_BITS	96	/* the contract's uint96 amounts */
#define ORACLE_OPTION_TEXT_MAX	(64 * 1024)

/* The option's terms and the oracle set its verifier holds. */
struct oracle_option {
	uint8_t feed_id[ORACLE_HASH_LEN];
	int8_t decimals;
	uint64_t first_round, last_round, extension_rounds, min_rounds;
	int64_t strike;
	oracle_u128 notional;		/* wei per feed unit above the strike */
	oracle_u128 buyer_deposit, seller_deposit;
	struct oracle_set set;
};

/*
 * Parse a description file: "key = value" lines, '#' comments, blank
 * lines.  Keys (all required once, except signer: one line per signer,
 * in the set's order): feed_id, decimals, first_round, last_round,
 * extension_rounds, min_rounds, strike, notional, buyer_deposit,
 * seller_deposit, config_digest, f, signer.  The contract's constructor
 * rules apply (window, minRounds, amounts, n >= 3f + 1, ...).  0 or
 * -EINVAL with a message in why (line number included).
 */
int oracle_option_parse(const char *text, size_t len, struct oracle_option *o,
			char *why, size_t why_cap);

/* One round the contract would record: its status and value. */
struct oracle_round_in {
	uint64_t round;
	int64_t value;
	int8_t decimals;
	uint8_t status;
};

enum oracle_outcome {
	ORACLE_OUT_SETTLED = 0,		/* settled on the original window */
	ORACLE_OUT_SETTLED_EXTENDED,	/* settled after the one extension */
	ORACLE_OUT_REFUND,		/* too few settled rounds: deposits back */
};

struct oracle_payout {
	enum oracle_outcome outcome;
	uint64_t window_end;		/* last round that counted */
	uint64_t settled, halted;	/* rounds recorded in that window */
	int64_t mean;			/* when settled */
	oracle_u128 buyer, seller;
};

/* buyer = mean > strike ? min((mean - strike) * notional, pool) : 0 */
oracle_u128 oracle_option_buyer(const struct oracle_option *o, int64_t mean);

/*
 * What the contract pays once every given round is recorded and settle()
 * has run to its end.  -EINVAL (with why) for a round outside
 * [first_round, last_round + extension_rounds], a round given twice, or
 * decimals other than the option's (the contract refuses to record them).
 */
int oracle_option_payout(const struct oracle_option *o,
			 const struct oracle_round_in *r, size_t n,
			 struct oracle_payout *p, const char **why);

/* Decimal rendering of a u128 (out holds 40 bytes). */
void oracle_u128_str(oracle_u128 v, char out[40]);

#endif

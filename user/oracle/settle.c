// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TemperatureOption's settlement, off chain.  See settle.h.  Every
 * operation mirrors the Solidity source line for line: the mean is the
 * signed sum divided by the count, truncated toward zero (Solidity's and
 * C's integer division agree on that), the buyer's share is
 * min((mean - strike) * notional, pool).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"	/* oracle_unhex */
#include "settle.h"

/* ------------------------------------------------------------- parser --- */

enum { K_FEED, K_DEC, K_FIRST, K_LAST, K_EXT, K_MIN, K_STRIKE, K_NOTIONAL,
       K_BDEP, K_SDEP, K_CONFIG, K_F, K_SIGNER, K_COUNT };

static const char *const key_names[K_COUNT] = {
	"feed_id", "decimals", "first_round", "last_round", "extension_rounds",
	"min_rounds", "strike", "notional", "buyer_deposit", "seller_deposit",
	"config_digest", "f", "signer",
};

/* Unsigned decimal, no sign, no leading zeros but "0", below 2^bits. */
static int parse_unsigned(const char *s, unsigned int bits, oracle_u128 *out)
{
	oracle_u128 v = 0, lim = ((oracle_u128)1 << bits) - 1;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (lim - (oracle_u128)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (oracle_u128)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Signed decimal within [-2^(bits-1), 2^(bits-1) - 1]. */
static int parse_signed(const char *s, unsigned int bits, int64_t *out)
{
	oracle_u128 m;
	int neg = *s == '-';

	if (parse_unsigned(s + neg, bits, &m))
		return -1;
	if (neg && m == 0)
		return -1;	/* "-0" */
	if (m > ((oracle_u128)1 << (bits - 1)) - (neg ? 0 : 1))
		return -1;
	*out = neg ? (int64_t)(-(__int128)m) : (int64_t)m;
	return 0;
}

static int parse_hex(const char *v, uint8_t *out, size_t n)
{
	if (!strncmp(v, "0x", 2))
		v += 2;
	return oracle_unhex(v, out, n);
}

/* Strip leading and trailing blanks in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int set_value(struct oracle_option *o, int k, const char *v)
{
	oracle_u128 u;
	int64_t i;

	switch (k) {
	case K_FEED:
		return parse_hex(v, o->feed_id, 32);
	case K_CONFIG:
		return parse_hex(v, o->set.config_digest, 32);
	case K_SIGNER:
		if (o->set.n >= ORACLE_QUORUM_MAX)
			return -1;
		return parse_hex(v, o->set.addrs[o->set.n++], ORACLE_ADDR_LEN);
	case K_DEC:
		if (parse_signed(v, 8, &i))
			return -1;
		o->decimals = (int8_t)i;
		return 0;
	case K_STRIKE:
		return parse_signed(v, 64, &o->strike);
	case K_F:
		if (parse_unsigned(v, 8, &u))
			return -1;
		o->set.f = (unsigned int)u;
		return 0;
	case K_NOTIONAL:
		return parse_unsigned(v, ORACLE_AMOUNT_BITS, &o->notional);
	case K_BDEP:
		return parse_unsigned(v, ORACLE_AMOUNT_BITS, &o->buyer_deposit);
	case K_SDEP:
		return parse_unsigned(v, ORACLE_AMOUNT_BITS, &o->seller_deposit);
	default:
		if (parse_unsigned(v, 64, &u))
			return -1;
		*(k == K_FIRST ? &o->first_round : k == K_LAST ? &o->last_round :
		  k == K_EXT ? &o->extension_rounds : &o->min_rounds) = (uint64_t)u;
		return 0;
	}
}

static const char *const key_help[K_COUNT] = {
	"64 hex digits", "an integer -128..127", "an unsigned 64-bit integer",
	"an unsigned 64-bit integer", "an unsigned 64-bit integer",
	"an unsigned 64-bit integer", "a signed 64-bit integer",
	"an unsigned integer below 2^96 (wei)", "an unsigned integer below 2^96 (wei)",
	"an unsigned integer below 2^96 (wei)", "64 hex digits", "an integer 0..255",
	"an Ethereum address, 40 hex digits (at most 64 signers)",
};

/* The contract's constructor rules and the verifier's set rules. */
static const char *terms_error(const struct oracle_option *o)
{
	static const uint8_t zero[32];

	if (o->first_round == 0 || o->last_round < o->first_round)
		return "window: need 1 <= first_round <= last_round";
	if (o->min_rounds == 0 || o->min_rounds > o->last_round - o->first_round + 1)
		return "min_rounds must be 1 .. the number of rounds in the window";
	if (o->extension_rounds > UINT64_MAX - o->last_round)
		return "last_round + extension_rounds overflows 64 bits";
	if (o->notional == 0 || o->buyer_deposit == 0 || o->seller_deposit == 0)
		return "notional and deposits must not be 0";
	if (o->set.n < 3 * (size_t)o->set.f + 1)
		return "oracle set: need n >= 3f + 1 signers";
	if (!memcmp(o->set.config_digest, zero, 32))
		return "config_digest must not be zero";
	for (size_t i = 0; i < o->set.n; i++) {
		if (!memcmp(o->set.addrs[i], zero, ORACLE_ADDR_LEN))
			return "a signer is the zero address";
		for (size_t j = 0; j < i; j++)
			if (!memcmp(o->set.addrs[i], o->set.addrs[j], ORACLE_ADDR_LEN))
				return "a signer is listed twice";
	}
	return NULL;
}

int oracle_option_parse(const char *text, size_t len, struct oracle_option *o,
			char *why, size_t why_cap)
{
	unsigned int seen[K_COUNT] = { 0 };
	size_t pos = 0, lineno = 0;
	const char *err;
	char line[512];

	memset(o, 0, sizeof(*o));
	if (len > ORACLE_OPTION_TEXT_MAX) {
		snprintf(why, why_cap, "description larger than %d bytes",
			 ORACLE_OPTION_TEXT_MAX);
		return -EINVAL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s, *eq, *key, *val;
		int k;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(why, why_cap, "line %zu: longer than %zu bytes",
				 lineno, sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		pos += n + (nl ? 1 : 0);
		if (strlen(line) != n) {
			snprintf(why, why_cap, "line %zu: NUL byte", lineno);
			return -EINVAL;
		}
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(why, why_cap, "line %zu: expected 'key = value'", lineno);
			return -EINVAL;
		}
		*eq = 0;
		key = trim(s);
		val = trim(eq + 1);
		for (k = 0; k < K_COUNT; k++)
			if (!strcmp(key, key_names[k]))
				break;
		if (k == K_COUNT) {
			snprintf(why, why_cap, "line %zu: unknown key '%.64s'", lineno, key);
			return -EINVAL;
		}
		if (seen[k] && k != K_SIGNER) {
			snprintf(why, why_cap, "line %zu: '%s' given twice", lineno,
				 key_names[k]);
			return -EINVAL;
		}
		seen[k]++;
		if (set_value(o, k, val)) {
			snprintf(why, why_cap, "line %zu: %s must be %s", lineno,
				 key_names[k], key_help[k]);
			return -EINVAL;
		}
	}
	for (int k = 0; k < K_COUNT; k++) {
		if (!seen[k]) {
			snprintf(why, why_cap, "missing key '%s'", key_names[k]);
			return -EINVAL;
		}
	}
	err = terms_error(o);
	if (err) {
		snprintf(why, why_cap, "%s", err);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------- payout --- */

oracle_u128 oracle_option_buyer(const struct oracle_option *o, int64_t mean)
{
	oracle_u128 pool = o->buyer_deposit + o->seller_deposit;
	oracle_u128 diff;

	if (mean <= o->strike)
		return 0;
	diff = (oracle_u128)((__int128)mean - (__int128)o->strike);	/* < 2^64 */
	/* min(diff * notional, pool) without overflowing 128 bits: diff *
	 * notional > pool exactly when diff > floor(pool / notional). */
	if (diff > pool / o->notional)
		return pool;
	return diff * o->notional;
}

/* Count and sum the settled rounds in [first, end]. */
static void tally(const struct oracle_option *o, const struct oracle_round_in *r,
		  size_t n, uint64_t end, struct oracle_payout *p, __int128 *sum)
{
	p->settled = p->halted = 0;
	*sum = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].round < o->first_round || r[i].round > end)
			continue;
		if (r[i].status == 0) {
			*sum += r[i].value;
			p->settled++;
		} else {
			p->halted++;	/* a halted round is never a value */
		}
	}
}

int oracle_option_payout(const struct oracle_option *o,
			 const struct oracle_round_in *r, size_t n,
			 struct oracle_payout *p, const char **why)
{
	uint64_t ext_end = o->last_round + o->extension_rounds;
	oracle_u128 pool = o->buyer_deposit + o->seller_deposit;
	__int128 sum;

	memset(p, 0, sizeof(*p));
	*why = NULL;
	for (size_t i = 0; i < n; i++) {
		if (r[i].round < o->first_round || r[i].round > ext_end) {
			*why = "a round is outside the option's window (with its extension)";
			return -EINVAL;
		}
		if (r[i].decimals != o->decimals) {
			*why = "a round's decimals are not the option's";
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (r[j].round == r[i].round) {
				*why = "a round is given twice";
				return -EINVAL;
			}
		}
	}
	/* First settle() after expiry: only the original window counts. */
	p->outcome = ORACLE_OUT_SETTLED;
	p->window_end = o->last_round;
	tally(o, r, n, p->window_end, p, &sum);
	if (p->settled < o->min_rounds) {
		/* Written fallback: one extension, then a refund.  The contract
		 * goes straight to the refund when it has no extension; here
		 * the extended window is then the same and counts the same. */
		p->outcome = ORACLE_OUT_SETTLED_EXTENDED;
		p->window_end = ext_end;
		tally(o, r, n, p->window_end, p, &sum);
		if (p->settled < o->min_rounds) {
			p->outcome = ORACLE_OUT_REFUND;
			p->buyer = o->buyer_deposit;
			p->seller = o->seller_deposit;
			return 0;
		}
	}
	p->mean = (int64_t)(sum / (__int128)p->settled);	/* toward zero */
	p->buyer = oracle_option_buyer(o, p->mean);
	p->seller = pool - p->buyer;
	return 0;
}

void oracle_u128_str(oracle_u128 v, char out[40])
{
	char tmp[40];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
}

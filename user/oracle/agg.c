// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Aggregation and halt rules (agg.h, Documentation/protocol.md).  The
 * contributions are sorted by a total order before each step, so the
 * result is the same for every order of the inputs; arithmetic is integer
 * only (no allocation, no floating point), with 128-bit intermediates where a product or a difference of two
 * int64 values could overflow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

typedef __int128 i128;
typedef unsigned __int128 u128;

static const char *const status_names[] = {
	[ORACLE_SETTLED] = "settled",
	[ORACLE_HALT_FEW_DEVICES] = "few-devices",
	[ORACLE_HALT_FEW_GATEWAYS] = "few-gateways",
	[ORACLE_HALT_LOW_WEIGHT] = "low-weight",
	[ORACLE_HALT_DISAGREE] = "disagree",
	[ORACLE_HALT_STEP] = "step",
	[ORACLE_HALT_STALE] = "stale",
};

static const char *const excl_names[] = {
	[ORACLE_EXCL_NONE] = "counted",
	[ORACLE_EXCL_TIER0] = "tier-0",
	[ORACLE_EXCL_NO_REP] = "no-reputation",
	[ORACLE_EXCL_STALE] = "stale",
	[ORACLE_EXCL_FUTURE] = "future",
};

const char *oracle_status_name(unsigned int status)
{
	return status <= ORACLE_STATUS_MAX ? status_names[status] : "unknown";
}

const char *oracle_excl_name(unsigned int excl)
{
	return excl <= ORACLE_EXCL_MAX ? excl_names[excl] : "unknown";
}

int oracle_feed_params_check(const struct oracle_feed_params *p,
			     const char **why)
{
	const char *w = NULL;

	if (p->decimals < -77 || p->decimals > 77)
		w = "decimals outside -77..77";
	else if (p->min_devices < 1)
		w = "min_devices must be at least 1";
	else if (p->min_gateways < 1)
		w = "min_gateways must be at least 1";
	else if (p->min_gateways > p->min_devices)
		w = "min_gateways exceeds min_devices";
	else if (p->tau < 0)
		w = "tau is negative";
	else if (p->delta < 0)
		w = "delta is negative";
	else if (p->heartbeat < 1)
		w = "heartbeat must be at least 1 s";
	if (w) {
		if (why)
			*why = w;
		return -EINVAL;
	}
	return 0;
}

static uint64_t absdiff(int64_t a, int64_t b)
{
	i128 d = (i128)a - b;

	return (uint64_t)(d < 0 ? -d : d);
}

/* ------------------------------------------------------------- orders --- */

static int cmp_id(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, ORACLE_ID_LEN);
}

static int by_device(const void *x, const void *y)
{
	const struct oracle_agg_contrib *a = x, *b = y;

	return cmp_id(a->device, b->device);
}

static int by_gateway(const void *x, const void *y)
{
	const struct oracle_agg_contrib *a = x, *b = y;
	int c = cmp_id(a->gateway, b->gateway);

	return c ? c : cmp_id(a->device, b->device);
}

static int by_site(const void *x, const void *y)
{
	const struct oracle_agg_contrib *a = x, *b = y;
	int c = cmp_id(a->site, b->site);

	return c ? c : cmp_id(a->device, b->device);
}

static int by_value(const void *x, const void *y)
{
	const struct oracle_agg_contrib *a = x, *b = y;

	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return cmp_id(a->device, b->device);
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/* ------------------------------------------------------------ medians --- */

static int64_t floor_mean(int64_t a, int64_t b)
{
	i128 s = (i128)a + b;

	/* floor division by 2 (C division truncates toward zero) */
	return (int64_t)(s >= 0 ? s / 2 : -((-s + 1) / 2));
}

/* Values and weights at byte strides, so that contributions need no copy. */
static int64_t wmedian(const void *values, size_t vstride, const void *weights,
		       size_t wstride, size_t n)
{
#define V(i) (*(const int64_t *)((const char *)values + (i) * vstride))
#define W(i) (*(const uint64_t *)((const char *)weights + (i) * wstride))
	u128 total = 0, cum = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		total += W(i);
	for (i = 0; i < n; i++) {
		cum += W(i);
		if (2 * cum < total)
			continue;
		if (2 * cum == total) {
			/* exactly half below: mean with the next weighted value */
			for (j = i + 1; j < n && W(j) == 0; j++)
				;
			if (j < n)
				return floor_mean(V(i), V(j));
		}
		return V(i);
	}
	return n ? V(n - 1) : 0;
#undef V
#undef W
}

int64_t oracle_weighted_median(const int64_t *values, const uint64_t *weights,
			       size_t n)
{
	return wmedian(values, sizeof(*values), weights, sizeof(*weights), n);
}

int64_t oracle_median_i64(int64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	return v[(n - 1) / 2];
}

/* --------------------------------------------------------- reputation --- */

uint32_t oracle_rep_update(uint32_t rep, int64_t value, int64_t aggregate,
			   int64_t tau)
{
	uint64_t d = absdiff(value, aggregate), t = tau > 0 ? (uint64_t)tau : 0;
	uint64_t score, step;

	if (rep > ORACLE_REP_ONE)
		rep = ORACLE_REP_ONE;
	if (d <= t)
		score = ORACLE_REP_ONE;
	else if (t == 0 || d >= 4 * (u128)t)
		score = 0;
	else	/* linear from 1.0 at tau down to 0 at 4 tau */
		score = (uint64_t)((u128)ORACLE_REP_ONE * (4 * (u128)t - d) /
				   (3 * (u128)t));
	if (score > rep) {
		step = (score - rep + 15) / 16;
		return rep + (uint32_t)step;
	}
	step = (rep - score + 15) / 16;
	return rep - (uint32_t)step;
}

/* ---------------------------------------------------------------- caps --- */

/*
 * Scale the weights of each group (contiguous in out[] after sorting by
 * cmp) whose sum exceeds cap: w = floor(w * cap / sum).  A capped group
 * sums to at most cap.
 */
static void apply_cap(struct oracle_agg_contrib *c, size_t n, uint64_t cap,
		      int (*cmp)(const void *, const void *),
		      const uint8_t *(*key)(const struct oracle_agg_contrib *))
{
	size_t i = 0, j;
	uint64_t sum;

	if (!cap)
		return;
	qsort(c, n, sizeof(*c), cmp);
	while (i < n) {
		sum = 0;
		for (j = i; j < n && !cmp_id(key(&c[j]), key(&c[i])); j++)
			sum += c[j].weight;
		if (sum > cap)
			for (; i < j; i++)
				c[i].weight = (uint64_t)((u128)c[i].weight * cap / sum);
		i = j;
	}
}

static const uint8_t *gw_key(const struct oracle_agg_contrib *c)
{
	return c->gateway;
}

static const uint8_t *site_key(const struct oracle_agg_contrib *c)
{
	return c->site;
}

/* ------------------------------------------------------------- rounds --- */

static int fail(const char **why, const char *w)
{
	if (why)
		*why = w;
	return -EINVAL;
}

static void halt(struct oracle_agg_result *res,
		 const struct oracle_feed_state *st, enum oracle_status s)
{
	res->status = s;
	res->next = *st;
	res->next.pending_count = 0;	/* a halt breaks a step's streak */
	res->next.pending_value = 0;
}

int oracle_agg_round(const struct oracle_feed_params *p,
		     const struct oracle_feed_state *st, uint64_t round,
		     uint64_t now, const struct oracle_agg_input *in, size_t n,
		     struct oracle_agg_contrib *out,
		     struct oracle_agg_result *res, const char **why)
{
	uint32_t participants = 0, stale = 0, gateways = 0;
	uint64_t total = 0, in_band = 0;
	int64_t m;
	size_t i, k;
	int ret;

	ret = oracle_feed_params_check(p, why);
	if (ret)
		return ret;
	if (n > ORACLE_AGG_MAX_DEVICES)
		return fail(why, "too many devices in one round");
	if (st->settled && round <= st->last_round)
		return fail(why, "round is not after the last settled round");
	memset(res, 0, sizeof(*res));
	res->n = n;
	res->contrib = out;

	/* 1. per-device eligibility and raw weight */
	for (i = 0; i < n; i++) {
		const struct oracle_agg_input *d = &in[i];
		struct oracle_agg_contrib *c = &out[i];

		if (d->tier > ORACLE_TIER_MAX)
			return fail(why, "assurance tier above 3");
		if (d->reputation > ORACLE_REP_ONE)
			return fail(why, "reputation above 1.0");
		memset(c, 0, sizeof(*c));
		memcpy(c->device, d->device, ORACLE_ID_LEN);
		memcpy(c->gateway, d->gateway, ORACLE_ID_LEN);
		memcpy(c->site, d->site, ORACLE_ID_LEN);
		c->value = d->value;
		c->reputation_next = d->reputation;
		if (d->tier == 0)
			c->excluded = ORACLE_EXCL_TIER0;
		else if (d->time > now)
			c->excluded = ORACLE_EXCL_FUTURE;
		else if (now - d->time > p->heartbeat)
			c->excluded = ORACLE_EXCL_STALE;
		else if (d->reputation == 0)
			c->excluded = ORACLE_EXCL_NO_REP;
		if (c->excluded == ORACLE_EXCL_STALE && d->reputation)
			stale++;
		if (c->excluded)
			continue;
		c->raw_weight = (uint64_t)d->tier * d->reputation;
		c->weight = c->raw_weight;
		participants++;
	}
	qsort(out, n, sizeof(*out), by_device);
	for (i = 1; i < n; i++)
		if (!cmp_id(out[i - 1].device, out[i].device))
			return fail(why, "a device appears twice in one round");

	/* 2. enough fresh devices? */
	if (participants < p->min_devices) {
		halt(res, st, stale && participants + stale >= p->min_devices ?
			 ORACLE_HALT_STALE : ORACLE_HALT_FEW_DEVICES);
		goto done;
	}

	/* 3. distinct gateways, and the per-gateway cap (same order) */
	apply_cap(out, n, p->gateway_cap, by_gateway, gw_key);
	if (!p->gateway_cap)
		qsort(out, n, sizeof(*out), by_gateway);
	for (i = 0, k = SIZE_MAX; i < n; i++) {
		if (!out[i].raw_weight)
			continue;
		if (k == SIZE_MAX || cmp_id(out[k].gateway, out[i].gateway))
			gateways++;
		k = i;
	}

	/* 4. per-site cap on the gateway-capped weights */
	apply_cap(out, n, p->site_cap, by_site, site_key);

	res->devices = participants;
	res->gateways = gateways;
	if (gateways < p->min_gateways) {
		halt(res, st, ORACLE_HALT_FEW_GATEWAYS);
		goto done;
	}
	for (i = 0; i < n; i++)
		total += out[i].weight;
	res->weight = total;
	if (total == 0 || total < p->min_weight) {
		halt(res, st, ORACLE_HALT_LOW_WEIGHT);
		goto done;
	}

	/* 5. weighted median over (value, device) order */
	qsort(out, n, sizeof(*out), by_value);
	m = wmedian(&out[0].value, sizeof(*out), &out[0].weight, sizeof(*out), n);
	res->median_valid = true;
	res->value = m;

	/* 6. Byzantine quorum: 2/3 of the weight within +-tau */
	for (i = 0; i < n; i++)
		if (out[i].weight && absdiff(out[i].value, m) <= (uint64_t)p->tau)
			in_band += out[i].weight;
	res->weight_in_band = in_band;
	if (3 * (u128)in_band < 2 * (u128)total) {
		halt(res, st, ORACLE_HALT_DISAGREE);
		goto done;
	}

	/* 7. step larger than delta: halt k rounds, settle on round k+1 */
	res->next = *st;
	if (st->settled && p->confirm_rounds &&
	    absdiff(m, st->last_value) > (uint64_t)p->delta) {
		uint32_t count = 1;

		if (st->pending_count &&
		    absdiff(m, st->pending_value) <= (uint64_t)p->delta)
			count = st->pending_count + 1;
		if (count <= p->confirm_rounds) {
			res->status = ORACLE_HALT_STEP;
			res->next.pending_count = count;
			res->next.pending_value = count == 1 ? m : st->pending_value;
			goto done;
		}
	}

	/* settled: new state, reputation of every fresh device moves */
	res->status = ORACLE_SETTLED;
	res->next.settled = true;
	res->next.last_value = m;
	res->next.last_round = round;
	res->next.pending_count = 0;
	res->next.pending_value = 0;
	for (i = 0; i < n; i++)
		if (out[i].excluded == ORACLE_EXCL_NONE ||
		    out[i].excluded == ORACLE_EXCL_NO_REP)
			out[i].reputation_next =
				oracle_rep_update(out[i].reputation_next,
						  out[i].value, m, p->tau);
done:
	if (res->status != ORACLE_SETTLED && !res->median_valid)
		res->value = 0;
	qsort(out, n, sizeof(*out), by_device);
	return 0;
}

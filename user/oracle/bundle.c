// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Evidence bundles (Documentation/protocol.md, "Evidence bundle"): the
 * deterministic-CBOR codec, the canonical feed-config text, and the
 * offline re-verification of a final report against its bundle.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <linux/attestio.h>

#include "beacon.h"
#include "bundle.h"
#include "cbor_r.h"
#include "cbor_w.h"
#include "report_cbor.h"

/* ------------------------------------------------------------ ids --- */

static void tagged(const char *tag, const void *p, size_t n, uint8_t out[32])
{
	size_t tl = strlen(tag) + 1;	/* tag || 00 */
	uint8_t *b = malloc(tl + n + 1);

	if (!b)		/* a few bytes: treat as fatal like OpenSSL would */
		abort();
	memcpy(b, tag, tl);
	if (n)
		memcpy(b + tl, p, n);
	SHA256(b, tl + n, out);
	free(b);
}

void oracle_feed_id(const char *name, uint8_t out[ORACLE_HASH_LEN])
{
	tagged("attestio/v1/feed", name, strlen(name), out);
}

void oracle_config_digest(const char *text, size_t len,
			  uint8_t out[ORACLE_HASH_LEN])
{
	tagged("attestio/v1/feed-config", text, len, out);
}

void oracle_device_id(const uint8_t gw[16], uint32_t stream, uint8_t id[16])
{
	uint8_t b[20], d[32];

	memcpy(b, gw, 16);
	b[16] = (uint8_t)stream;
	b[17] = (uint8_t)(stream >> 8);
	b[18] = (uint8_t)(stream >> 16);
	b[19] = (uint8_t)(stream >> 24);
	tagged("attestio/v1/device", b, sizeof(b), d);
	memcpy(id, d, 16);
}

void oracle_site_id(const char *site, size_t len, uint8_t id[16])
{
	uint8_t d[32];

	SHA256((const uint8_t *)site, len, d);
	memcpy(id, d, 16);
}

int64_t oracle_to_fixed(double v, int dec)
{
	double x = v * pow(10.0, dec);

	if (!(x > -9.2e18 && x < 9.2e18))
		return x > 0 ? INT64_MAX / 2 : INT64_MIN / 2;
	return llround(x);
}

/* ------------------------------------------------------ config text --- */

struct lines {
	const char *p, *end;
	char line[256];
};

static int next_line(struct lines *l)
{
	const char *nl;
	size_t n;

	if (l->p >= l->end)
		return -1;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (!nl)
		return -1;
	n = (size_t)(nl - l->p);
	if (n >= sizeof(l->line) || memchr(l->p, 0, n))
		return -1;
	memcpy(l->line, l->p, n);
	l->line[n] = 0;
	l->p = nl + 1;
	return 0;
}

static int hex_in(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdef", s[2 * i]) ||
		    !strchr("0123456789abcdef", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] ? -1 : 0;
}

/* Exactly one gateway line per distinct gateway of the streams, in order
 * of first appearance. */
static bool cfg_gws_ok(const struct oracle_cfg *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nstreams; i++) {
		size_t j;

		for (j = 0; j < i && memcmp(c->s[j].gw, c->s[i].gw, 16); j++)
			;
		if (j < i)
			continue;
		if (n == c->ngws || memcmp(c->gws[n].gw, c->s[i].gw, 16))
			return false;
		n++;
	}
	return n == c->ngws;
}

int oracle_cfg_parse(const char *text, size_t len, struct oracle_cfg *c,
		     const char **why)
{
	struct lines l = { .p = text, .end = text + len };
	bool last_stream = false;
	struct oracle_feed_params *p = &c->p;
	char rebuilt[256];
	int dec = 0;

	memset(c, 0, sizeof(*c));
#define FIELD(fmt, ...) do {						\
	if (next_line(&l) || sscanf(l.line, fmt, __VA_ARGS__) != 1)	\
		goto bad;						\
} while (0)
	if (len > ORACLE_CFG_TEXT_MAX)
		goto bad;
	if (next_line(&l) || strncmp(l.line, "feed ", 5) ||
	    strlen(l.line + 5) >= sizeof(c->name) || !l.line[5])
		goto bad;
	strcpy(c->name, l.line + 5);
	FIELD("decimals %d", &dec);
	p->decimals = (int8_t)dec;
	FIELD("period %" SCNu64, &c->period);
	FIELD("start %" SCNu64, &c->start);
	FIELD("heartbeat %" SCNu64, &p->heartbeat);
	FIELD("tau %" SCNd64, &p->tau);
	FIELD("delta %" SCNd64, &p->delta);
	FIELD("confirm_rounds %" SCNu32, &p->confirm_rounds);
	FIELD("min_devices %" SCNu32, &p->min_devices);
	FIELD("min_gateways %" SCNu32, &p->min_gateways);
	FIELD("min_weight %" SCNu64, &p->min_weight);
	FIELD("gateway_cap %" SCNu64, &p->gateway_cap);
	FIELD("site_cap %" SCNu64, &p->site_cap);
#undef FIELD
	if (dec < -77 || dec > 77 || !c->period)
		goto bad;
	/* channel_type N: only when the feed sets it (config_feed_text) */
	c->chan_type = -1;
	{
		struct lines save = l;

		if (!next_line(&l) && !strncmp(l.line, "channel_type ", 13)) {
			if (sscanf(l.line, "channel_type %d", &c->chan_type) != 1 ||
			    c->chan_type < 0 || c->chan_type > 0xffff)
				goto bad;
			snprintf(rebuilt, sizeof(rebuilt), "channel_type %d", c->chan_type);
			if (strcmp(rebuilt, l.line))
				goto bad;
		} else {
			l = save;
		}
	}
	/* beacon MODE period P start S max_age M: when not off */
	{
		struct lines save = l;
		char mode[16];

		c->freshness = ORACLE_FRESH_OFF;
		if (!next_line(&l) && !strncmp(l.line, "beacon ", 7)) {
			if (sscanf(l.line, "beacon %15s period %" SCNu64 " start %"
				   SCNu64 " max_age %" SCNu64, mode, &c->bperiod,
				   &c->bstart, &c->max_age) != 4 || !c->bperiod)
				goto bad;
			if (!strcmp(mode, "optional"))
				c->freshness = ORACLE_FRESH_OPTIONAL;
			else if (!strcmp(mode, "required"))
				c->freshness = ORACLE_FRESH_REQUIRED;
			else
				goto bad;
			snprintf(rebuilt, sizeof(rebuilt), "beacon %s period %" PRIu64
				 " start %" PRIu64 " max_age %" PRIu64, mode,
				 c->bperiod, c->bstart, c->max_age);
			if (strcmp(rebuilt, l.line))
				goto bad;
		} else {
			l = save;
		}
	}
	while (!next_line(&l)) {
		char gw[33], site[200], ak[70], pol[70];
		unsigned int st, ch, tier;
		bool after_stream = last_stream;

		last_stream = false;

		if (!strncmp(l.line, "stream ", 7)) {
			struct oracle_cfg_stream *s = &c->s[c->nstreams];

			if (c->nnodes || c->ngws ||
			    c->nstreams == ORACLE_CFG_STREAMS_MAX ||
			    sscanf(l.line, "stream %32s %u %u tier %u site %199s",
				   gw, &st, &ch, &tier, site) != 5 ||
			    tier > ORACLE_TIER_MAX || hex_in(gw, s->gw, 16))
				goto bad;
			s->stream = st;
			s->channel = ch;
			s->tier = (uint8_t)tier;
			oracle_site_id(site, strlen(site), s->site);
			c->nstreams++;
			last_stream = true;
			continue;
		} else if (!strncmp(l.line, "identity ", 9)) {
			struct oracle_cfg_stream *s = &c->s[c->nstreams - 1];

			/* a pin of the stream just before (config_feed_text) */
			if (!after_stream || hex_in(l.line + 9, s->identity, 32))
				goto bad;
			s->pinned = true;
		} else if (!strncmp(l.line, "gateway ", 8)) {
			struct oracle_cfg_gw *g = &c->gws[c->ngws];
			size_t k;

			if (c->nnodes || !c->nstreams ||
			    c->ngws == ORACLE_CFG_STREAMS_MAX ||
			    sscanf(l.line, "gateway %32s ak %69s policy %69s",
				   gw, ak, pol) != 3 || hex_in(gw, g->gw, 16))
				goto bad;
			g->enrolled = !strcmp(ak, "enrolled");
			g->has_policy = strcmp(pol, "none");
			if ((!g->enrolled && hex_in(ak, g->ak_sha, 32)) ||
			    (g->has_policy && hex_in(pol, g->policy_sha, 32)))
				goto bad;
			snprintf(rebuilt, sizeof(rebuilt), "gateway %s ak %s policy %s",
				 gw, ak, pol);
			if (strcmp(rebuilt, l.line))
				goto bad;
			/* the streams' gateways once each, in order of first
			 * appearance (checked whole at "t") */
			for (k = 0; k < c->ngws; k++)
				if (!memcmp(c->gws[k].gw, g->gw, 16))
					goto bad;
			c->ngws++;
		} else if (!strncmp(l.line, "node ", 5)) {
			if (c->nnodes == ORACLE_QUORUM_MAX ||
			    hex_in(l.line + 5, c->nodes[c->nnodes], ORACLE_PUB_LEN))
				goto bad;
			c->nnodes++;
		} else if (!strncmp(l.line, "t ", 2)) {
			if (sscanf(l.line, "t %zu", &c->t) != 1 || !c->t ||
			    c->t > c->nnodes || l.p != l.end)
				goto bad;
			/* canonical: the line must be exactly what we print */
			snprintf(rebuilt, sizeof(rebuilt), "t %zu", c->t);
			if (strcmp(rebuilt, l.line) || !cfg_gws_ok(c))
				goto bad;
			return oracle_feed_params_check(p, why) ? -EBADMSG : 0;
		} else {
			goto bad;
		}
	}
bad:
	if (why)
		*why = "feed configuration text is not canonical";
	return -EBADMSG;
}

/* The seq of the last record of its own stream checkpoint record @rec
 * covers (its heads[self]), -1 if it is malformed (wire-format.md). */
int64_t oracle_cp_covers(const uint8_t *rec, size_t len)
{
	struct attestio_rec_hdr h;
	struct attestio_checkpoint c;
	struct attestio_cp_head hd;
	size_t csz, off;

	if (!rec || len < sizeof(h))
		return -1;
	memcpy(&h, rec, sizeof(h));
	/* v2 checkpoints are 40 bytes: no beacon */
	csz = le16toh(h.version) >= 3 ? sizeof(c) : offsetof(struct attestio_checkpoint, beacon);
	if (len < sizeof(h) + csz)
		return -1;
	memset(&c, 0, sizeof(c));
	memcpy(&c, rec + sizeof(h), csz);
	off = sizeof(h) + csz + (size_t)le16toh(c.self) * sizeof(hd);
	if (le16toh(c.self) >= le16toh(c.nheads) || len < off + sizeof(hd))
		return -1;
	memcpy(&hd, rec + off, sizeof(hd));
	return (int64_t)le64toh(hd.seq);
}

bool oracle_reading_fresh(int freshness, uint64_t bperiod, uint64_t bstart,
			  uint64_t max_age, uint64_t end, bool set, bool known,
			  uint64_t bround)
{
	uint64_t now;

	if (freshness == ORACLE_FRESH_OFF || !max_age || !set || !bperiod)
		return true;
	if (end <= bstart)
		return true;	/* before the beacon clock: none was stale */
	if (!known)
		return false;
	now = (end - 1 - bstart) / bperiod + 1;
	return now <= bround ? bround - now <= 1 : now - bround <= max_age;
}

/* ----------------------------------------------------------- codec --- */

static void cw_state(struct cw *w, const struct oracle_feed_state *st)
{
	cw_array(w, 5);
	cw_uint(w, st->settled);
	cw_int(w, st->last_value);
	cw_uint(w, st->last_round);
	cw_int(w, st->pending_value);
	cw_uint(w, st->pending_count);
}

static int done(struct cw *w, size_t *len)
{
	*len = w->len;
	return w->len <= w->cap && w->buf ? 0 : -ENOSPC;
}

int oracle_bundle_config_item(const char *text, size_t tlen,
			      const struct oracle_feed_state *st, uint8_t *buf,
			      size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	cw_map(&w, 3);
	cw_uint(&w, 1);
	cw_uint(&w, OBI_CONFIG);
	cw_uint(&w, 2);
	cw_bytes(&w, (const uint8_t *)text, tlen);
	cw_uint(&w, 3);
	cw_state(&w, st);
	return done(&w, len);
}

int oracle_bundle_beacons_item(const uint8_t *const *msgs, const size_t *lens,
			       size_t n, uint8_t *buf, size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	if (!n || n > ORACLE_BUNDLE_BEACONS_MAX)
		return -EINVAL;
	cw_map(&w, 2);
	cw_uint(&w, 1);
	cw_uint(&w, OBI_BEACONS);
	cw_uint(&w, 2);
	cw_array(&w, n);
	for (size_t i = 0; i < n; i++)
		cw_bytes(&w, msgs[i], lens[i]);
	return done(&w, len);
}

int oracle_bundle_device_item(const struct oracle_bundle_dev *d, uint8_t *buf,
			      size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };
	bool states = false;
	uint64_t resync = 0;

	if (d->nboots > ORACLE_BUNDLE_BOOTS_MAX ||
	    d->nchains > ORACLE_BUNDLE_CHAINS_MAX ||
	    d->nexcl > ORACLE_BUNDLE_EXCL_MAX)
		return -EINVAL;
	for (size_t i = 0; i < d->nchains; i++) {
		if (d->chains[i].state_len > ORACLE_BUNDLE_STATE_MAX)
			return -EINVAL;
		states |= d->chains[i].state_len != 0;
		if (d->chains[i].resync)
			resync |= 1ull << i;
	}
	cw_map(&w, 12 + (d->nexcl != 0) + states + (resync != 0));
	cw_uint(&w, 1);
	cw_uint(&w, OBI_DEVICE);
	cw_uint(&w, 2);
	cw_bytes(&w, d->device, 16);
	cw_uint(&w, 3);
	cw_bytes(&w, d->gw, 16);
	cw_uint(&w, 4);
	cw_uint(&w, d->stream);
	cw_uint(&w, 5);
	cw_uint(&w, d->channel);
	cw_uint(&w, 6);
	cw_uint(&w, d->tier);
	cw_uint(&w, 7);
	cw_uint(&w, d->reputation);
	cw_uint(&w, 8);
	cw_uint(&w, d->kernel_key);
	cw_uint(&w, 9);
	cw_bytes(&w, d->ak, d->ak_len);
	cw_uint(&w, 10);
	cw_bytes(&w, d->policy, d->policy_len);
	cw_uint(&w, 11);
	cw_array(&w, d->nboots);
	for (size_t i = 0; i < d->nboots; i++) {
		cw_array(&w, 2);
		cw_bytes(&w, d->boots[i].mlog, d->boots[i].mlog_len);
		cw_bytes(&w, d->boots[i].pcrs, d->boots[i].pcrs_len);
	}
	cw_uint(&w, 12);
	cw_array(&w, d->nchains);
	for (size_t i = 0; i < d->nchains; i++)
		cw_bytes(&w, d->chains[i].recs, d->chains[i].len);
	if (d->nexcl) {
		cw_uint(&w, 13);
		cw_array(&w, d->nexcl);
		for (size_t i = 0; i < d->nexcl; i++) {
			cw_array(&w, 3);
			cw_uint(&w, d->excl[i].chain);
			cw_uint(&w, d->excl[i].seq);
			cw_uint(&w, d->excl[i].why);
		}
	}
	if (states) {
		cw_uint(&w, 14);
		cw_array(&w, d->nchains);
		for (size_t i = 0; i < d->nchains; i++)
			cw_bytes(&w, d->chains[i].state, d->chains[i].state_len);
	}
	if (resync) {		/* bit i: chains[i] */
		cw_uint(&w, 15);
		cw_uint(&w, resync);
	}
	return done(&w, len);
}

int oracle_bundle_encode(const uint8_t *report, size_t rlen,
			 const uint8_t *const *items, const size_t *ilens,
			 size_t nitems, uint8_t *buf, size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	if (nitems > ORACLE_BUNDLE_ITEMS_MAX)
		return -EINVAL;
	cw_map(&w, 2);
	cw_uint(&w, 1);
	cw_bytes(&w, report, rlen);
	cw_uint(&w, 2);
	cw_array(&w, nitems);
	for (size_t i = 0; i < nitems; i++)
		cw_bytes(&w, items[i], ilens[i]);
	return done(&w, len);
}

/* A signed integer (major type 0 or 1) within int64. */
static int64_t cr_int(struct cr *r)
{
	uint64_t v = 0;

	if (r->why)
		return 0;
	if (r->off < r->len && (r->p[r->off] >> 5) == 1) {
		cr_head(r, 1, &v);
		if (v > INT64_MAX && !r->why)
			r->why = "integer out of range";
		return -1 - (int64_t)v;
	}
	cr_head(r, 0, &v);
	if (v > INT64_MAX && !r->why)
		r->why = "integer out of range";
	return (int64_t)v;
}

static uint64_t cr_count(struct cr *r, int mt, uint64_t max)
{
	uint64_t n = 0;

	if (!cr_head(r, mt, &n) && n > max) {
		r->why = "too many elements";
		n = 0;
	}
	return n;
}

static uint64_t cr_max(struct cr *r, uint64_t max)
{
	uint64_t v = cr_uint(r);

	if (v > max && !r->why)
		r->why = "integer out of range";
	return v;
}

static void parse_config(struct cr *r, struct oracle_bundle *b)
{
	struct oracle_feed_state *st = &b->st;

	if (cr_count(r, 5, 3) != 3 && !r->why)
		r->why = "config item: not a map of 3";
	cr_key(r, 1);
	if (cr_uint(r) != OBI_CONFIG && !r->why)
		r->why = "item 0 is not the config item";
	cr_key(r, 2);
	b->cfg_text = (const char *)cr_bstr(r, ORACLE_CFG_TEXT_MAX, &b->cfg_len);
	cr_key(r, 3);
	if (cr_count(r, 4, 5) != 5 && !r->why)
		r->why = "config item: feed state is not an array of 5";
	st->settled = cr_max(r, 1);
	st->last_value = cr_int(r);
	st->last_round = cr_uint(r);
	st->pending_value = cr_int(r);
	st->pending_count = (uint32_t)cr_max(r, UINT32_MAX);
}

static void parse_states(struct cr *r, struct oracle_bundle_dev *d);
static void parse_excl(struct cr *r, struct oracle_bundle_dev *d);
static void parse_resync(struct cr *r, struct oracle_bundle_dev *d);

static void parse_device(struct cr *r, struct oracle_bundle_dev *d)
{
	uint64_t keys = cr_count(r, 5, 15), key = 12;

	if (keys < 12 && !r->why)
		r->why = "device item: not a map of 12 to 15";
	cr_key(r, 1);
	if (cr_uint(r) != OBI_DEVICE && !r->why)
		r->why = "items after the first must be device items";
	cr_key(r, 2);
	cr_bytes(r, d->device, 16);
	cr_key(r, 3);
	cr_bytes(r, d->gw, 16);
	cr_key(r, 4);
	d->stream = (uint32_t)cr_max(r, ATTESTIO_MAX_STREAMS - 1);
	cr_key(r, 5);
	d->channel = (uint32_t)cr_max(r, ATTESTIO_MAX_CHANNELS - 1);
	cr_key(r, 6);
	d->tier = (uint8_t)cr_max(r, ORACLE_TIER_MAX);
	cr_key(r, 7);
	d->reputation = (uint32_t)cr_max(r, ORACLE_REP_ONE);
	cr_key(r, 8);
	d->kernel_key = cr_max(r, 1);
	cr_key(r, 9);
	d->ak = cr_bstr(r, 64 * 1024, &d->ak_len);
	cr_key(r, 10);
	d->policy = cr_bstr(r, 64 * 1024, &d->policy_len);
	cr_key(r, 11);
	d->nboots = cr_count(r, 4, ORACLE_BUNDLE_BOOTS_MAX);
	for (size_t i = 0; i < d->nboots && !r->why; i++) {
		struct oracle_bundle_boot *bt = &d->boots[i];

		if (cr_count(r, 4, 2) != 2 && !r->why)
			r->why = "boot evidence is not [mlog, pcrs]";
		bt->mlog = cr_bstr(r, 1u << 20, &bt->mlog_len);
		bt->pcrs = cr_bstr(r, 24 * 32, &bt->pcrs_len);
		if (bt->pcrs_len && bt->pcrs_len != 24 * 32 && !r->why)
			r->why = "PCRs are not 24 x 32 bytes";
	}
	cr_key(r, 12);
	d->nchains = cr_count(r, 4, ORACLE_BUNDLE_CHAINS_MAX);
	for (size_t i = 0; i < d->nchains && !r->why; i++)
		d->chains[i].recs = cr_bstr(r, ORACLE_BUNDLE_MAX, &d->chains[i].len);
	/* the optional keys, ascending: 13 exclusions, 14 segment states,
	 * 15 resync starts */
	for (uint64_t k = 12; k < keys && !r->why; k++) {
		uint64_t next = cr_uint(r);

		if (next <= key || next > 15) {
			if (!r->why)
				r->why = "device item: keys after 12 are not 13, 14, 15 "
					 "ascending";
			return;
		}
		key = next;
		if (key == 13)
			parse_excl(r, d);
		else if (key == 14)
			parse_states(r, d);
		else
			parse_resync(r, d);
	}
}

/* Key 15: the chains that start at the node's resync point, bit i for
 * chains[i]; not 0 (then the key is left out), no bit past the chains. */
static void parse_resync(struct cr *r, struct oracle_bundle_dev *d)
{
	uint64_t m = cr_uint(r);

	if (r->why)
		return;
	if (!m || (d->nchains < 64 && m >> d->nchains)) {
		r->why = "device item: resync starts empty or naming a chain it "
			 "does not have";
		return;
	}
	for (size_t i = 0; i < d->nchains; i++)
		d->chains[i].resync = m >> i & 1;
}

/* Key 14: per chain, empty or its descriptor and calib records; not all
 * empty (then the key is left out). */
static void parse_states(struct cr *r, struct oracle_bundle_dev *d)
{
	bool any = false;

	if (cr_count(r, 4, ORACLE_BUNDLE_CHAINS_MAX) != d->nchains && !r->why)
		r->why = "device item: segment states are not one per chain";
	for (size_t i = 0; i < d->nchains && !r->why; i++) {
		d->chains[i].state = cr_bstr(r, ORACLE_BUNDLE_STATE_MAX,
					     &d->chains[i].state_len);
		any |= d->chains[i].state_len != 0;
	}
	if (!any && !r->why)
		r->why = "device item: empty segment states";
}

/* Key 13: the node's exclusions: [chain, seq, why], ascending, unique. */
static void parse_excl(struct cr *r, struct oracle_bundle_dev *d)
{
	d->nexcl = cr_count(r, 4, ORACLE_BUNDLE_EXCL_MAX);
	if (!d->nexcl || r->why) {
		if (!r->why)
			r->why = "device item: empty exclusions";
		d->nexcl = 0;
		return;
	}
	d->excl = calloc(d->nexcl, sizeof(*d->excl));
	if (!d->excl) {
		r->why = "out of memory";
		d->nexcl = 0;
		return;
	}
	for (size_t i = 0; i < d->nexcl && !r->why; i++) {
		struct oracle_bundle_excl *x = &d->excl[i];

		if (cr_count(r, 4, 3) != 3 && !r->why)
			r->why = "exclusion is not [chain, seq, why]";
		x->chain = (uint32_t)cr_max(r, ORACLE_BUNDLE_CHAINS_MAX - 1);
		x->seq = cr_uint(r);
		x->why = (uint8_t)cr_max(r, ORACLE_NODE_EXCL_DRIFT);
		if (r->why)
			break;
		if (x->chain >= d->nchains || !x->why)
			r->why = "exclusion names no chain of the item, or no reason";
		else if (i && (x->chain < x[-1].chain ||
			       (x->chain == x[-1].chain && x->seq <= x[-1].seq)))
			r->why = "exclusions not ascending by (chain, seq)";
	}
}

static void parse_beacons(struct cr *r, struct oracle_bundle *b)
{
	if (cr_count(r, 5, 2) != 2 && !r->why)
		r->why = "beacons item: not a map of 2";
	cr_key(r, 1);
	if (cr_uint(r) != OBI_BEACONS && !r->why)
		r->why = "not the beacons item";
	cr_key(r, 2);
	b->nbeacons = cr_count(r, 4, ORACLE_BUNDLE_BEACONS_MAX);
	if (!r->why && !b->nbeacons)
		r->why = "beacons item: empty";
	if (r->why)
		return;
	b->beacon = calloc(b->nbeacons, sizeof(*b->beacon));
	b->beacon_len = calloc(b->nbeacons, sizeof(*b->beacon_len));
	if (!b->beacon || !b->beacon_len) {
		r->why = "out of memory";
		return;
	}
	for (size_t i = 0; i < b->nbeacons && !r->why; i++)
		b->beacon[i] = cr_bstr(r, ORACLE_BEACON_MAX_LEN, &b->beacon_len[i]);
}

void oracle_bundle_release(struct oracle_bundle *b)
{
	for (size_t i = 0; b->dev && i < b->ndev; i++)
		free(b->dev[i].excl);
	free(b->beacon);
	free(b->beacon_len);
	free(b->item);
	free(b->item_len);
	free(b->dev);
	memset(b, 0, sizeof(*b));
}

int oracle_bundle_parse(const uint8_t *buf, size_t len, struct oracle_bundle *b,
			const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint8_t *re = NULL;
	size_t relen = 0;
	const char *w = NULL;

	memset(b, 0, sizeof(*b));
	if (len > ORACLE_BUNDLE_MAX) {
		w = "bundle larger than 64 MiB";
		goto out;
	}
	if (cr_count(&r, 5, 2) != 2 && !r.why)
		r.why = "not a map of 2";
	cr_key(&r, 1);
	b->report = cr_bstr(&r, ORACLE_REPORT_MAX, &b->report_len);
	cr_key(&r, 2);
	b->nitems = cr_count(&r, 4, ORACLE_BUNDLE_ITEMS_MAX);
	if (!r.why && b->nitems < 1)
		r.why = "no config item";
	if (r.why)
		goto out;
	b->item = calloc(b->nitems, sizeof(*b->item));
	b->item_len = calloc(b->nitems, sizeof(*b->item_len));
	b->dev = calloc(b->nitems, sizeof(*b->dev));
	if (!b->item || !b->item_len || !b->dev) {
		w = "out of memory";
		goto out;
	}
	for (size_t i = 0; i < b->nitems && !r.why; i++) {
		struct cr in = { 0 };

		b->item[i] = cr_bstr(&r, ORACLE_BUNDLE_MAX, &b->item_len[i]);
		if (r.why)
			break;
		in.p = b->item[i];
		in.len = b->item_len[i];
		if (!i) {
			parse_config(&in, b);
		} else if (i == b->nitems - 1 && in.len && in.p[0] == 0xa2) {
			/* the last item may be the beacons item (map of 2) */
			parse_beacons(&in, b);
			b->have_beacons = true;
		} else {
			parse_device(&in, &b->dev[b->ndev++]);
		}
		if (!in.why && in.off != in.len)
			in.why = "trailing bytes";
		if (in.why) {
			static __thread char msg[96];

			snprintf(msg, sizeof(msg), "item %zu: %s", i, in.why);
			r.why = msg;
		}
	}
	if (!r.why && r.off != r.len)
		r.why = "trailing bytes";
	if (r.why)
		goto out;
	/* canonical: every item and the whole must re-encode byte for byte */
	for (size_t i = 0; i < b->nitems && !w; i++) {
		size_t n = 0;

		re = malloc(b->item_len[i] ? b->item_len[i] : 1);
		if (!re) {
			w = "out of memory";
			break;
		}
		if (!i ? oracle_bundle_config_item(b->cfg_text, b->cfg_len, &b->st,
						   re, b->item_len[i], &n) :
		    b->have_beacons && i == b->nitems - 1 ?
			 oracle_bundle_beacons_item(b->beacon, b->beacon_len,
						    b->nbeacons, re,
						    b->item_len[i], &n) :
			 oracle_bundle_device_item(&b->dev[i - 1], re,
						   b->item_len[i], &n))
			n = 0;
		if (n != b->item_len[i] || memcmp(re, b->item[i], n))
			w = "not in deterministic encoding (RFC 8949 4.2)";
		free(re);
		re = NULL;
	}
	if (!w && (oracle_bundle_encode(b->report, b->report_len, b->item,
					b->item_len, b->nitems, NULL, 0, &relen) !=
		   -ENOSPC || relen != len))
		w = "not in deterministic encoding (RFC 8949 4.2)";
out:
	if (!w)
		w = r.why;
	if (w) {
		oracle_bundle_release(b);
		if (why)
			*why = w;
		return -EBADMSG;
	}
	return 0;
}

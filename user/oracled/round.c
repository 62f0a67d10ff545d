// SPDX-License-Identifier: GPL-2.0
/*
 * Rounds: per feed, round r covers readings with capture time in
 * [start + (r-1) period, start + r period) and runs `grace` seconds after
 * its end.  Each device (gateway, stream) brings the lower median of its
 * verified readings in the window (SI value from the signed descriptor, as
 * a fixed-point integer at the feed's decimals) and the newest reading's
 * time; with none in the window, its newest earlier reading (which the
 * heartbeat rule then judges).  agg.c decides; the node signs the report
 * (value or halt) and publishes it on attestio/v1/report/<feed>/<node>.
 * Missed rounds are caught up in order: a round's result depends only on
 * stored readings and the feed's state, so it is the same on every node
 * that saw the same records.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ack.h"
#include "oracled.h"
#include "report_cbor.h"

#define ROUND_CATCHUP_MAX	1000	/* rounds per tick */

struct feed_rt {
	const struct od_feed_conf *f;
	struct oracle_feed_state st;
	uint64_t last_round;
};

struct round {
	const struct od_config *c;
	struct store *s;
	struct registry *reg;
	const struct oracle_signer *signer;
	od_publish_fn pub;
	void *pubctx;
	struct feed_rt feeds[OD_MAX_FEEDS];
	struct round_stats st;
	char node_hex[ORACLE_NODE_ID_HEX];
};

/* Scratch for one round. */
struct dev {
	struct oracle_agg_input in;
	uint8_t *item;		/* evidence item: device id || raw records */
	size_t ilen, icap;
	bool have;
};

static int load_feed(struct round *rd, struct feed_rt *fr)
{
	sqlite3_stmt *st = store_prep(rd->s, "SELECT last_round, settled, "
				      "last_value, last_settled_round, "
				      "pending_value, pending_count FROM "
				      "feed_state WHERE feed=?");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, fr->f->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		fr->last_round = (uint64_t)sqlite3_column_int64(st, 0);
		fr->st.settled = sqlite3_column_int(st, 1);
		fr->st.last_value = sqlite3_column_int64(st, 2);
		fr->st.last_round = (uint64_t)sqlite3_column_int64(st, 3);
		fr->st.pending_value = sqlite3_column_int64(st, 4);
		fr->st.pending_count = (uint32_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return 0;
}

int round_init(struct round **rp, const struct od_config *c, struct store *s,
	       struct registry *r, const struct oracle_signer *signer,
	       od_publish_fn pub, void *pubctx)
{
	struct round *rd = calloc(1, sizeof(*rd));

	if (!rd)
		return -ENOMEM;
	rd->c = c;
	rd->s = s;
	rd->reg = r;
	rd->signer = signer;
	rd->pub = pub;
	rd->pubctx = pubctx;
	oracle_hex(signer->node_id, ORACLE_NODE_ID_LEN, rd->node_hex);
	for (int i = 0; i < c->nfeeds; i++) {
		rd->feeds[i].f = &c->feed[i];
		if (load_feed(rd, &rd->feeds[i])) {
			free(rd);
			return -EIO;
		}
	}
	*rp = rd;
	return 0;
}

void round_fini(struct round *rd)
{
	free(rd);
}

const struct round_stats *round_stats(const struct round *rd)
{
	return &rd->st;
}

static int item_add(struct dev *d, const void *p, size_t n)
{
	if (d->ilen + n > d->icap) {
		size_t cap = (d->ilen + n) * 2;
		uint8_t *b = realloc(d->item, cap);

		if (!b)
			return -ENOMEM;
		d->item = b;
		d->icap = cap;
	}
	memcpy(d->item + d->ilen, p, n);
	d->ilen += n;
	return 0;
}

static int64_t to_fixed(double v, int dec)
{
	double x = v * pow(10.0, dec);

	if (!(x > -9.2e18 && x < 9.2e18))
		return x > 0 ? INT64_MAX / 2 : INT64_MIN / 2;
	return llround(x);
}

static uint32_t reputation(struct round *rd, const uint8_t dev[16])
{
	sqlite3_stmt *st = store_prep(rd->s, "SELECT rep FROM reputation WHERE device=?");
	uint32_t rep = ORACLE_REP_INITIAL;

	if (!st)
		return 0;
	sqlite3_bind_blob(st, 1, dev, 16, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		rep = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rep > ORACLE_REP_ONE ? ORACLE_REP_ONE : rep;
}

/* One device's input for the window [t0, t1) (ns). */
static int gather(struct round *rd, const struct od_feed_conf *f, size_t i,
		  int64_t t0, int64_t t1, struct dev *d)
{
	const struct od_feed_stream *fs = &f->s[i];
	struct reg_gw *g = registry_at(rd->reg, fs->gw);
	sqlite3_stmt *st, *raw, *last;
	int64_t vals[4096], newest = -1;
	size_t n = 0;

	device_id(g->bin, fs->stream, d->in.device);
	memcpy(d->in.gateway, g->bin, 16);
	memcpy(d->in.site, g->site, 16);
	d->in.tier = g->state == GW_ACTIVE ? (uint8_t)g->conf->tier : 0;
	d->in.reputation = reputation(rd, d->in.device);
	d->ilen = 0;
	if (item_add(d, d->in.device, 16))
		return -ENOMEM;
	st = store_prep(rd->s, "SELECT time_ns, value, instance, gen, seq FROM "
			"reading WHERE gw=? AND stream=? AND channel=? AND "
			"time_ns>=? AND time_ns<? ORDER BY time_ns, instance, "
			"gen, seq");
	last = store_prep(rd->s, "SELECT time_ns, value FROM reading WHERE "
			  "gw=? AND stream=? AND channel=? AND time_ns<? "
			  "ORDER BY time_ns DESC LIMIT 1");
	raw = store_prep(rd->s, "SELECT data FROM rec WHERE gw=? AND instance=? "
			 "AND stream=? AND gen=? AND seq=?");
	if (!st || !raw || !last) {
		sqlite3_finalize(st);
		sqlite3_finalize(last);
		sqlite3_finalize(raw);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, g->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, fs->stream);
	sqlite3_bind_int64(st, 3, fs->channel);
	sqlite3_bind_int64(st, 4, t0);
	sqlite3_bind_int64(st, 5, t1);
	while (sqlite3_step(st) == SQLITE_ROW && n < 4096) {
		newest = sqlite3_column_int64(st, 0);
		vals[n++] = to_fixed(sqlite3_column_double(st, 1), f->p.decimals);
		sqlite3_reset(raw);
		sqlite3_bind_text(raw, 1, g->conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(raw, 2, sqlite3_column_int64(st, 2));
		sqlite3_bind_int64(raw, 3, fs->stream);
		sqlite3_bind_int64(raw, 4, sqlite3_column_int64(st, 3));
		sqlite3_bind_int64(raw, 5, sqlite3_column_int64(st, 4));
		if (sqlite3_step(raw) == SQLITE_ROW)
			item_add(d, sqlite3_column_blob(raw, 0),
				 (size_t)sqlite3_column_bytes(raw, 0));
	}
	/* nothing in the window: the newest earlier reading (heartbeat judges) */
	sqlite3_bind_text(last, 1, g->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(last, 2, fs->stream);
	sqlite3_bind_int64(last, 3, fs->channel);
	sqlite3_bind_int64(last, 4, t0);
	if (!n && sqlite3_step(last) == SQLITE_ROW) {
		newest = sqlite3_column_int64(last, 0);
		vals[n++] = to_fixed(sqlite3_column_double(last, 1), f->p.decimals);
	}
	sqlite3_finalize(last);
	sqlite3_finalize(st);
	sqlite3_finalize(raw);
	d->have = n > 0;
	d->in.value = n ? oracle_median_i64(vals, n) : 0;
	d->in.time = newest > 0 ? (uint64_t)(newest / 1000000000) : 0;
	return 0;
}

static int dev_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dev *)a)->in.device,
		      ((const struct dev *)b)->in.device, 16);
}

static void save(struct round *rd, struct feed_rt *fr,
		 const struct oracle_agg_result *res, uint64_t r)
{
	sqlite3_stmt *st = store_prep(rd->s, "INSERT OR REPLACE INTO feed_state "
				      "VALUES(?,?,?,?,?,?,?)");

	if (st) {
		sqlite3_bind_text(st, 1, fr->f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)r);
		sqlite3_bind_int(st, 3, res->next.settled);
		sqlite3_bind_int64(st, 4, res->next.last_value);
		sqlite3_bind_int64(st, 5, (int64_t)res->next.last_round);
		sqlite3_bind_int64(st, 6, res->next.pending_value);
		sqlite3_bind_int64(st, 7, res->next.pending_count);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	st = store_prep(rd->s, "INSERT OR REPLACE INTO reputation VALUES(?,?,?)");
	for (size_t i = 0; st && i < res->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, res->contrib[i].device, 16, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, res->contrib[i].reputation_next);
		sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

static int run_round(struct round *rd, struct feed_rt *fr, uint64_t r)
{
	const struct od_feed_conf *f = fr->f;
	uint64_t end = f->start + r * f->period;
	size_t n = f->nstreams, ne = 0, len = 0;
	struct oracle_agg_input *in = calloc(n, sizeof(*in));
	struct oracle_agg_contrib *out = calloc(n, sizeof(*out));
	struct oracle_report_device *rdev = calloc(n, sizeof(*rdev));
	uint8_t (*ev)[ORACLE_HASH_LEN] = calloc(n, sizeof(*ev));
	struct dev *d = calloc(n, sizeof(*d));
	struct oracle_agg_result res = { 0 };
	struct oracle_report rep = { 0 };
	uint8_t *buf = NULL;
	const char *why = "out of memory";
	char topic[160];
	int ret = -ENOMEM;

	if (!in || !out || !rdev || !ev || !d)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((ret = gather(rd, f, i, (int64_t)(end - f->period) * 1000000000,
				  (int64_t)end * 1000000000, &d[i])))
			goto out;
	qsort(d, n, sizeof(*d), dev_cmp);
	for (size_t i = 0; i < n; i++) {
		in[i] = d[i].in;
		if (d[i].ilen > 16)
			oracle_merkle_leaf(d[i].item, d[i].ilen, ev[ne++]);
	}
	ret = oracle_agg_round(&f->p, &fr->st, r, end, in, n, out, &res, &why);
	if (ret) {
		od_log("feed %s round %" PRIu64 ": cannot aggregate: %s", f->name, r, why);
		goto out;
	}
	memcpy(rep.core.feed_id, f->feed_id, 32);
	rep.core.round = r;
	rep.core.value = res.status == ORACLE_SETTLED || res.median_valid ? res.value : 0;
	rep.core.decimals = f->p.decimals;
	rep.core.status = res.status;
	memcpy(rep.core.config_digest, f->config_digest, 32);
	rep.round_time = end;
	rep.ndevices = n;
	rep.devices = rdev;
	for (size_t i = 0; i < n; i++) {
		memcpy(rdev[i].id, out[i].device, 16);
		rdev[i].value = out[i].value;
		rdev[i].weight = out[i].weight;
		rdev[i].excluded = out[i].excluded;
	}
	rep.nevidence = ne;
	rep.evidence = ev;
	buf = malloc(ORACLE_REPORT_MAX);
	if (!buf || (ret = oracle_report_seal(&rep, rd->signer)) ||
	    (ret = oracle_report_encode(&rep, 0, buf, ORACLE_REPORT_MAX, &len))) {
		od_log("feed %s round %" PRIu64 ": cannot sign the report (%d)",
		       f->name, r, ret);
		goto out;
	}
	save(rd, fr, &res, r);
	fr->st = res.next;
	fr->last_round = r;
	if (res.status == ORACLE_SETTLED)
		rd->st.reported++;
	else
		rd->st.halted++;
	rd->st.by_status[res.status]++;
	store_audit(rd->s, res.status ? "halted" : "settled", f->name,
		    "round %" PRIu64 " %s value %" PRId64 " (decimals %d), %u devices, "
		    "%u gateways, weight %" PRIu64 " (%" PRIu64 " within tau)", r,
		    oracle_status_name(res.status), rep.core.value, f->p.decimals,
		    res.devices, res.gateways, res.weight, res.weight_in_band);
	snprintf(topic, sizeof(topic), "attestio/v1/report/%s/%s", f->name,
		 rd->node_hex);
	if (rd->pub(rd->pubctx, topic, buf, len))
		od_log("feed %s round %" PRIu64 ": report not published (the "
		       "broker is unreachable); it is in the audit log", f->name, r);
	ret = 0;
out:
	for (size_t i = 0; d && i < n; i++)
		free(d[i].item);
	free(d);
	free(in);
	free(out);
	free(rdev);
	free(ev);
	free(buf);
	return ret;
}

void round_tick(struct round *rd, uint64_t now)
{
	for (int i = 0; i < rd->c->nfeeds; i++) {
		struct feed_rt *fr = &rd->feeds[i];
		const struct od_feed_conf *f = fr->f;

		for (int k = 0; k < ROUND_CATCHUP_MAX; k++) {
			uint64_t r = fr->last_round + 1;

			if (f->start + r * f->period + f->grace > now)
				break;
			if (store_begin(rd->s))
				return;
			if (run_round(rd, fr, r)) {
				store_exec(rd->s, "ROLLBACK");
				break;
			}
			if (store_commit(rd->s))
				break;
		}
	}
}

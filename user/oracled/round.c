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

#include <libattestio.h>

#include "ack.h"
#include "evidence.h"
#include "oracled.h"
#include "report_cbor.h"

#define ROUND_CATCHUP_MAX	1000	/* rounds per tick */
#define OD_BUNDLE_CHAIN_MAX	(8 << 20)	/* bytes of one chain segment */

struct feed_rt {
	const struct od_feed_conf *f;
	struct oracle_feed_state st;
	uint64_t last_round;
	uint64_t fail_round;	/* the round that last failed to run */
	uint64_t fail_quiet;	/* its logs are quiet until then (s) */
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
	char nodes[OD_NODES_SQL_LEN];	/* whose beacons count */
	bool quiet;	/* a round failing again within a minute: no log */
};

/* A round that cannot run is retried every tick: say why once a minute. */
#define round_log(rd, ...)				\
	do {						\
		if (!(rd)->quiet)			\
			od_log(__VA_ARGS__);		\
	} while (0)

/*
 * The beacons a round's bundle must carry (bundle_beacons): the value of
 * each reading gather() classified (window and fallback) whose chain the
 * round used, collected as the readings are read, so a round's cost does
 * not grow with the age of its chains.
 */
struct bvals {
	uint8_t (*v)[32];
	size_t n, cap;
};

static int bvals_add(struct bvals *b, const void *v)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		uint8_t (*x)[32] = realloc(b->v, cap * sizeof(*x));

		if (!x)
			return -ENOMEM;
		b->v = x;
		b->cap = cap;
	}
	memcpy(b->v[b->n++], v, 32);
	return 0;
}

/* A chain segment the round used readings of: the chain's records from
 * @from (its verifier's last resync point at or below the readings, -1:
 * none) up to @upto, the chain's own verified checkpoint that covers the
 * newest one (@seq; it covers up to @cov), go into the bundle. */
struct used {
	int64_t instance, gen, seq, from, upto, cov;
	int64_t min;		/* the oldest reading used */
};

/* use()'s lookups, gw and stream bound: the last resync point at or
 * below a seq, the next one after a segment's, and the checkpoints. */
struct segq {
	sqlite3_stmt *rs, *nx, *cp;
};

/* A classified reading's chain and known beacon (gather()). */
struct rbeacon {
	int64_t instance, gen;
	uint8_t v[32];
};

/* Scratch for one round. */
struct dev {
	struct oracle_agg_input in;
	const struct od_feed_stream *fs;
	struct used used[ORACLE_BUNDLE_CHAINS_MAX];
	size_t nused;
	uint8_t *item;		/* its bundle item (protocol.md) */
	size_t ilen;
	bool have;
	uint64_t stale;		/* readings of the window not counted: their
				   checkpoint covers a stale beacon */
	int64_t t0, t1;		/* the round window (ns) */
	struct rbeacon *rb;	/* the known beacons of the readings gather()
				   classified, consecutive repeats merged */
	size_t nrb, caprb;
};

/* The freshness rule of the feed's config text (liboracle). */
static int fresh_mode(const struct od_config *c)
{
	return c->beacon_freshness == OD_FRESH_OFF ? ORACLE_FRESH_OFF :
	       c->beacon_freshness == OD_FRESH_REQUIRED ? ORACLE_FRESH_REQUIRED :
	       ORACLE_FRESH_OPTIONAL;
}

/*
 * Whether the reading in row @st counts in the round ending at @end:
 * column 6 is the beacon its checkpoint covered (NULL: none), column 5
 * the earliest round a configured node issued it in (NULL: not known to
 * be issued).
 */
static bool row_fresh(const struct round *rd, sqlite3_stmt *st, uint64_t end)
{
	bool set = sqlite3_column_type(st, 6) != SQLITE_NULL;
	bool known = sqlite3_column_type(st, 5) != SQLITE_NULL;

	return oracle_reading_fresh(fresh_mode(rd->c), rd->c->beacon_period,
				    rd->c->beacon_start, rd->c->beacon_max_age,
				    end, set, known,
				    (uint64_t)sqlite3_column_int64(st, 5));
}

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
	config_nodes_sql(c, rd->nodes);
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

/*
 * The chain's own verified checkpoint that covers @seq, in [@seq, @end):
 * its seq to *@upto and how far it covers to *@cov; false if none.
 */
static bool covering(sqlite3_stmt *cp, int64_t inst, int64_t gen, int64_t seq,
		     int64_t end, int64_t *upto, int64_t *cov)
{
	bool found = false;

	sqlite3_reset(cp);
	sqlite3_bind_int64(cp, 3, inst);
	sqlite3_bind_int64(cp, 4, gen);
	sqlite3_bind_int64(cp, 7, seq);
	sqlite3_bind_int64(cp, 8, end);
	while (!found && sqlite3_step(cp) == SQLITE_ROW) {
		*cov = oracle_cp_covers(sqlite3_column_blob(cp, 1),
					(size_t)sqlite3_column_bytes(cp, 1));
		if (*cov >= seq) {
			*upto = sqlite3_column_int64(cp, 0);
			found = true;
		}
	}
	sqlite3_reset(cp);
	return found;
}

/* Resync lookup @q (segq's rs or nx) for chain (@inst, @gen) and @seq:
 * the seq it finds, or @none. */
static int64_t resync_at(sqlite3_stmt *q, int64_t inst, int64_t gen,
			 int64_t seq, int64_t none)
{
	int64_t r = none;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 3, inst);
	sqlite3_bind_int64(q, 4, gen);
	sqlite3_bind_int64(q, 5, seq);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		r = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return r;
}

/*
 * Note the chain segment of the reading in row @st (columns 2-4:
 * instance, gen, seq) as used; false when the bundle could not verify
 * it: no room for another segment, or no checkpoint of the chain's own
 * in the segment covers it.  The reading then does not count (the
 * verifier never sees it).  A segment starts at the chain's last resync
 * point at or below the reading (table resync): after a gap, filled or
 * not, the node's verifier went on from there without the descriptor or
 * chain state before it, and verify-report, joining there, decides the
 * same readings (review 6).  It ends before the next one: a bundled
 * segment holds no gap.  The node may have verified the reading through
 * another stream's quote, whose checkpoint record the bundle (one
 * stream's records) does not carry: if the stream's own checkpoint of
 * that epoch is missing (not come yet, or skipped in a gap: a forged
 * declaration), the reading does not count until one is stored
 * (review 7).
 */
static bool use(struct dev *d, sqlite3_stmt *st, const struct segq *q)
{
	int64_t inst = sqlite3_column_int64(st, 2), gen = sqlite3_column_int64(st, 3);
	int64_t seq = sqlite3_column_int64(st, 4), from, end;
	int64_t upto, cov;
	struct used *u = NULL;

	from = resync_at(q->rs, inst, gen, seq, -1);
	for (size_t i = 0; i < d->nused && !u; i++)
		if (d->used[i].instance == inst && d->used[i].gen == gen &&
		    d->used[i].from == from)
			u = &d->used[i];
	if (u && seq <= u->cov) {	/* its checkpoint covers it */
		if (seq > u->seq)
			u->seq = seq;
		if (seq < u->min)
			u->min = seq;
		return true;
	}
	if (!u && d->nused == ORACLE_BUNDLE_CHAINS_MAX)
		return false;
	end = resync_at(q->nx, inst, gen, from, INT64_MAX);
	if (!covering(q->cp, inst, gen, seq, end, &upto, &cov))
		return false;
	if (!u) {
		d->used[d->nused++] = (struct used){ inst, gen, seq, from, upto, cov,
						     seq };
		return true;
	}
	if (seq < u->min)
		u->min = seq;
	if (seq > u->seq) {
		u->seq = seq;
		if (upto > u->upto) {
			u->upto = upto;
			u->cov = cov;
		}
	}
	return true;
}

/*
 * Note the beacon of the counted reading in row @st (column 6): the
 * verifier takes a reading whose beacon the bundle does not carry as not
 * counting, like a stale one, so the bundle carries exactly the beacons of
 * the counted readings, all from the round's freshness window
 * (oracle_reading_fresh): at most nodes x (max_age + 2) values, whatever
 * the chains hold.
 */
static int note_beacon(struct dev *d, sqlite3_stmt *st)
{
	struct rbeacon r = { sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
			     { 0 } };

	if (sqlite3_column_type(st, 5) == SQLITE_NULL ||
	    sqlite3_column_bytes(st, 6) != 32)
		return 0;
	memcpy(r.v, sqlite3_column_blob(st, 6), 32);
	if (d->nrb && !memcmp(&d->rb[d->nrb - 1], &r, sizeof(r)))
		return 0;	/* readings of one checkpoint */
	if (d->nrb == d->caprb) {
		size_t cap = d->caprb ? 2 * d->caprb : 16;
		struct rbeacon *x = realloc(d->rb, cap * sizeof(*x));

		if (!x)
			return -ENOMEM;
		d->rb = x;
		d->caprb = cap;
	}
	d->rb[d->nrb++] = r;
	return 0;
}

/* Those of the noted beacons whose chain the round used, to @bv. */
static int used_beacons(const struct dev *d, struct bvals *bv)
{
	for (size_t k = 0; k < d->nrb; k++)
		for (size_t u = 0; u < d->nused; u++)
			if (d->used[u].instance == d->rb[k].instance &&
			    d->used[u].gen == d->rb[k].gen) {
				if (bvals_add(bv, d->rb[k].v))
					return -ENOMEM;
				break;
			}
	return 0;
}

/* One device's input for the window [t0, t1) (ns); the beacons its
 * bundle item's readings need to @bv. */
static int gather(struct round *rd, const struct od_feed_conf *f, size_t i,
		  int64_t t0, int64_t t1, struct dev *d, struct bvals *bv)
{
	uint64_t end = (uint64_t)(t1 / 1000000000);
	const struct od_feed_stream *fs = &f->s[i];
	struct reg_gw *g = registry_at(rd->reg, fs->gw);
	sqlite3_stmt *st, *last;
	struct segq q = { 0 };
	int64_t vals[ORACLE_ROUND_READINGS_MAX], newest = -1;
	char sql[OD_NODES_SQL_LEN + 400];
	size_t n = 0;
	int ret = -EIO;

	device_id(g->bin, fs->stream, d->in.device);
	memcpy(d->in.gateway, g->bin, 16);
	memcpy(d->in.site, g->site, 16);
	/* what the device proved (registry_tier: enrollment, policy, EK
	 * chain; without kernel-exclusive key use proven, at most 1) */
	d->in.tier = (uint8_t)registry_tier(g);
	d->in.reputation = reputation(rd, d->in.device);
	d->fs = fs;
	d->t0 = t0;
	d->t1 = t1;
	d->nused = 0;
	d->nrb = 0;
	/* column 5: the earliest round of the reading's beacon among the
	 * whitelisted nodes' (NULL: none known), 6: the beacon */
#define BEACON_ROUND "(SELECT MIN(b.round) FROM beacon b WHERE b.value=" \
		     "reading.beacon AND b.node IN %s), beacon"
	snprintf(sql, sizeof(sql), "SELECT time_ns, value, instance, gen, seq, "
		 BEACON_ROUND " FROM reading WHERE gw=? AND stream=? AND "
		 "channel=? AND time_ns>=? AND time_ns<? ORDER BY time_ns, "
		 "instance, gen, seq", rd->nodes);
	st = store_stmt(rd->s, sql);
	snprintf(sql, sizeof(sql), "SELECT time_ns, value, instance, gen, seq, "
		 BEACON_ROUND " FROM reading WHERE gw=? AND stream=? "
		 "AND channel=? AND time_ns<? ORDER BY time_ns DESC LIMIT 1",
		 rd->nodes);
	last = store_stmt(rd->s, sql);
#undef BEACON_ROUND
	q.rs = store_stmt(rd->s, "SELECT max(seq) FROM resync WHERE gw=? AND "
			  "stream=? AND instance=? AND gen=? AND known=1 AND seq<=?");
	q.nx = store_stmt(rd->s, "SELECT min(seq) FROM resync WHERE gw=? AND "
			  "stream=? AND instance=? AND gen=? AND known=1 AND seq>?");
	q.cp = store_stmt(rd->s, "SELECT seq, data FROM rec WHERE gw=? AND "
			  "stream=? AND instance=? AND gen=? AND type=? AND "
			  "state=? AND seq>=? AND seq<? ORDER BY seq");
	if (!st || !last || !q.rs || !q.nx || !q.cp)
		goto out;
	for (int k = 0; k < 3; k++) {
		sqlite3_stmt *x = k == 0 ? q.rs : k == 1 ? q.nx : q.cp;

		sqlite3_bind_text(x, 1, g->conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(x, 2, fs->stream);
	}
	sqlite3_bind_int(q.cp, 5, ATTESTIO_REC_CHECKPOINT);
	sqlite3_bind_int(q.cp, 6, ATT_REC_VERIFIED);
	sqlite3_bind_text(st, 1, g->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, fs->stream);
	sqlite3_bind_int64(st, 3, fs->channel);
	sqlite3_bind_int64(st, 4, t0);
	sqlite3_bind_int64(st, 5, t1);
	d->stale = 0;
	ret = -ENOMEM;
	while (sqlite3_step(st) == SQLITE_ROW && n < ORACLE_ROUND_READINGS_MAX) {
		if (!row_fresh(rd, st, end)) {
			d->stale++;
			continue;
		}
		if (!use(d, st, &q))
			continue;
		if (note_beacon(d, st))
			goto out;
		newest = sqlite3_column_int64(st, 0);
		vals[n++] = oracle_to_fixed(sqlite3_column_double(st, 1), f->p.decimals);
	}
	/* nothing in the window: the newest earlier reading, if it counts
	 * (the heartbeat judges it) */
	sqlite3_bind_text(last, 1, g->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(last, 2, fs->stream);
	sqlite3_bind_int64(last, 3, fs->channel);
	sqlite3_bind_int64(last, 4, t0);
	if (!n && sqlite3_step(last) == SQLITE_ROW && row_fresh(rd, last, end) &&
	    use(d, last, &q)) {
		if (note_beacon(d, last))
			goto out;
		newest = sqlite3_column_int64(last, 0);
		vals[n++] = oracle_to_fixed(sqlite3_column_double(last, 1), f->p.decimals);
	}
	if (used_beacons(d, bv))
		goto out;
	d->have = n > 0;
	d->in.value = n ? oracle_median_i64(vals, n) : 0;
	d->in.time = newest > 0 ? (uint64_t)(newest / 1000000000) : 0;
	ret = 0;
out:
	store_done(rd->s, q.rs);
	store_done(rd->s, q.nx);
	store_done(rd->s, q.cp);
	store_done(rd->s, last);
	store_done(rd->s, st);
	return ret;
}

/* A whole small file (AK, PCR policy) into *buf; 0 or -EIO. */
static int slurp(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	*buf = NULL;
	*len = 0;
	if (!f)
		return -EIO;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > 65536 ||
	    fseek(f, 0, SEEK_SET) || !(*buf = malloc((size_t)n + 1)) ||
	    fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -EIO;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

/* Concatenate a query's blob column 0 into a new buffer. */
static int concat(sqlite3_stmt *st, uint8_t **buf, size_t *len)
{
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if (*len + n > cap) {
			uint8_t *b = realloc(*buf, (*len + n) * 2 + 1);

			if (!b)
				return -ENOMEM;
			*buf = b;
			cap = (*len + n) * 2 + 1;
		}
		if (n)
			memcpy(*buf + *len, sqlite3_column_blob(st, 0), n);
		*len += n;
	}
	return 0;
}

/* 1 if a verified sample of segment @u after @s0 up to u->upto has no
 * reading of @d's channel and no exclusion, 0 if none, -EIO. */
static int undecoded(struct round *rd, const char *gw, const struct dev *d,
		     const struct used *u, int64_t s0)
{
	sqlite3_stmt *q = store_prep(rd->s, "SELECT 1 FROM rec r WHERE r.gw=?1 "
				     "AND r.instance=?2 AND r.stream=?3 AND "
				     "r.gen=?4 AND r.seq>?5 AND r.seq<=?6 AND "
				     "r.type=?7 AND r.state=?8 AND NOT EXISTS "
				     "(SELECT 1 FROM reading x WHERE x.gw=?1 AND "
				     "x.stream=?3 AND x.channel=?9 AND "
				     "x.instance=?2 AND x.gen=?4 AND x.seq=r.seq) "
				     "AND NOT EXISTS (SELECT 1 FROM excluded e "
				     "WHERE e.gw=?1 AND e.instance=?2 AND "
				     "e.stream=?3 AND e.gen=?4 AND e.seq=r.seq) "
				     "LIMIT 1");
	int ret;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, gw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, u->instance);
	sqlite3_bind_int64(q, 3, d->fs->stream);
	sqlite3_bind_int64(q, 4, u->gen);
	sqlite3_bind_int64(q, 5, s0);
	sqlite3_bind_int64(q, 6, u->upto);
	sqlite3_bind_int(q, 7, ATTESTIO_REC_SAMPLE);
	sqlite3_bind_int(q, 8, ATT_REC_VERIFIED);
	sqlite3_bind_int64(q, 9, d->fs->channel);
	ret = sqlite3_step(q);
	sqlite3_finalize(q);
	return ret == SQLITE_ROW ? 1 : ret == SQLITE_DONE ? 0 : -EIO;
}

/*
 * Chain segment @u starts after signed head @s0 with the segment state
 * there, if the node can carry that: 1 (then @u->from = @s0 + 1 and
 * @state holds the state's records, or nothing after a detach), 0 if not
 * (@u unchanged), or an error.
 */
static int seg_at(struct round *rd, const char *gw, const struct dev *d,
		  struct used *u, int64_t s0, uint8_t **state, size_t *slen)
{
	struct store_seg sg;
	int ret;

	/*
	 * The verifier must decide the node's readings: from that head on
	 * with the state it decodes every verified sample, so the node must
	 * have too (its own verifier may have lacked the state then: a late
	 * join whose descriptor came afterwards).  A verified sample after
	 * the head with neither a reading nor an exclusion (key 13): not
	 * this head.
	 */
	ret = undecoded(rd, gw, d, u, s0);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = store_seg_state(rd->s, gw, u->instance, d->fs->stream, u->gen, s0, &sg);
	if (ret == -ENOENT)
		return 0;	/* the descriptor is no longer stored */
	if (ret)
		return ret;
	if (sg.desc) {		/* else no segment open at the head */
		*state = malloc(sg.dlen + sg.clen);
		if (!*state) {
			store_seg_free(&sg);
			return -ENOMEM;
		}
		memcpy(*state, sg.desc, sg.dlen);
		if (sg.clen)
			memcpy(*state + sg.dlen, sg.cal, sg.clen);
		*slen = sg.dlen + sg.clen;
	}
	store_seg_free(&sg);
	u->from = s0 + 1;
	return 1;
}

/*
 * Record format v4: chain segment @u of gateway @gw's stream @stream need
 * not start at its resync point.  It starts after the signed head S0 of
 * the newest verified checkpoint of the stream's own before the chain's
 * oldest reading in the round's window (or the older reading used when
 * the window has none) whose next record S0 + 1 was captured before the
 * window's start, so verify-report can check that the segment covers the
 * window from its start (issue 11: a later head would leave the window's
 * first readings out, and only the node would know), and @state gets the
 * segment state there (the descriptor in force and its newest calib
 * record, as stored, concatenated): bundles stay about as long as the
 * round, not the chain (protocol.md, keys 12, 14 and 15).  *@pre says
 * whether it does.  When the segment has no such head (its resync point,
 * after a gap or a late join, lies inside the window, or the node cannot
 * carry the state there) it starts, as before, after the newest signed
 * head before the oldest reading, else at its resync point: the bundle
 * then declares it (key 15, dev_item()).  A head after a detach needs no
 * state: the next descriptor follows.
 */
static int seg_start(struct round *rd, const char *gw, const struct dev *d,
		     struct used *u, uint8_t **state, size_t *slen, bool *pre)
{
	/* the chain's oldest reading of the window, counted or not (stale
	 * ones too: the verifier must see them to leave them out) */
	sqlite3_stmt *wq = store_prep(rd->s, "SELECT min(seq) FROM reading WHERE "
				      "gw=? AND stream=? AND channel=? AND "
				      "time_ns>=? AND time_ns<? AND instance=? "
				      "AND gen=? AND seq>=?");
	/* walks back from there to the checkpoint before it: about an
	 * epoch of records, two when that head lies in the window */
	sqlite3_stmt *cq = store_prep(rd->s, "SELECT data FROM rec WHERE gw=? AND "
				      "instance=? AND stream=? AND gen=? AND seq<? "
				      "AND seq>=? AND type=? AND state=? ORDER BY "
				      "seq DESC");
	/* the capture time (realtime_ns, header bytes 32..39) of the record
	 * after a head */
	sqlite3_stmt *tq = store_prep(rd->s, "SELECT substr(data, 33, 8) FROM rec "
				      "WHERE gw=? AND instance=? AND stream=? AND "
				      "gen=? AND seq=?");
	uint32_t stream = d->fs->stream;
	int64_t s0 = -1, any = -1, min = u->min;
	int ret = 0;

	*pre = false;
	if (!cq || !wq || !tq) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_text(wq, 1, gw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(wq, 2, stream);
	sqlite3_bind_int64(wq, 3, d->fs->channel);
	sqlite3_bind_int64(wq, 4, d->t0);
	sqlite3_bind_int64(wq, 5, d->t1);
	sqlite3_bind_int64(wq, 6, u->instance);
	sqlite3_bind_int64(wq, 7, u->gen);
	sqlite3_bind_int64(wq, 8, u->from < 0 ? 0 : u->from);
	if (sqlite3_step(wq) == SQLITE_ROW &&
	    sqlite3_column_type(wq, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(wq, 0) < min)
		min = sqlite3_column_int64(wq, 0);
	sqlite3_bind_text(cq, 1, gw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(cq, 2, u->instance);
	sqlite3_bind_int64(cq, 3, stream);
	sqlite3_bind_int64(cq, 4, u->gen);
	sqlite3_bind_int64(cq, 5, min);
	sqlite3_bind_int64(cq, 6, u->from < 0 ? 0 : u->from);
	sqlite3_bind_int(cq, 7, ATTESTIO_REC_CHECKPOINT);
	sqlite3_bind_int(cq, 8, ATT_REC_VERIFIED);
	sqlite3_bind_text(tq, 1, gw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(tq, 2, u->instance);
	sqlite3_bind_int64(tq, 3, stream);
	sqlite3_bind_int64(tq, 4, u->gen);
	/* signed ones: verifiers take a state at signed heads only (an
	 * unsigned checkpoint a later quote covered is VERIFIED too) */
	while (s0 < 0 && sqlite3_step(cq) == SQLITE_ROW) {
		const uint8_t *rec = sqlite3_column_blob(cq, 0);
		size_t n = (size_t)sqlite3_column_bytes(cq, 0);
		const struct attestio_checkpoint *cp;
		int64_t h;
		uint64_t rt;

		if (n < sizeof(struct attestio_rec_hdr) + sizeof(*cp))
			continue;
		cp = (const void *)(rec + sizeof(struct attestio_rec_hdr));
		if (le32toh(cp->status) != ATTESTIO_CP_SIGNED ||
		    (h = oracle_cp_covers(rec, n)) < 0)
			continue;
		if (h + 1 <= u->from)
			break;	/* no signed head inside the segment */
		if (any < 0)
			any = h;
		sqlite3_reset(tq);
		sqlite3_bind_int64(tq, 5, h + 1);
		if (sqlite3_step(tq) == SQLITE_ROW && sqlite3_column_bytes(tq, 0) == 8) {
			memcpy(&rt, sqlite3_column_blob(tq, 0), 8);
			if (le64toh(rt) < (uint64_t)d->t0)
				s0 = h;
		}
		sqlite3_reset(tq);
	}
	sqlite3_reset(cq);
	if (s0 >= 0) {
		ret = seg_at(rd, gw, d, u, s0, state, slen);
		if (ret)
			goto out;
	}
	if (any >= 0 && any != s0) {
		ret = seg_at(rd, gw, d, u, any, state, slen);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	if (ret == 1) {
		*pre = s0 >= 0 && u->from == s0 + 1;
		ret = 0;
	}
	sqlite3_finalize(wq);
	sqlite3_finalize(cq);
	sqlite3_finalize(tq);
	return ret;
}

/*
 * Device @d's bundle item: its gateway's AK, PCR policy and boot evidence,
 * and, for each chain segment the round used readings of, the chain's
 * stored records from the segment's resync point (use()) up to the
 * verified checkpoint that covers the newest reading used (protocol.md,
 * "Evidence bundle").
 */
static int dev_item(struct round *rd, struct dev *d)
{
	struct reg_gw *g = registry_at(rd->reg, d->fs->gw);
	struct oracle_bundle_dev *b = calloc(1, sizeof(*b));
	uint8_t *ev[ORACLE_BUNDLE_BOOTS_MAX] = { 0 };
	uint8_t *ak = NULL, *pol = NULL;
	sqlite3_stmt *recs = NULL, *evs = NULL, *size = NULL, *ex = NULL;
	size_t len = 0, excap = 0;
	int ret = -ENOMEM;

	if (!b)
		return -ENOMEM;
	memcpy(b->device, d->in.device, 16);
	memcpy(b->gw, g->bin, 16);
	b->stream = d->fs->stream;
	b->channel = d->fs->channel;
	b->tier = d->in.tier;
	b->reputation = d->in.reputation;
	b->kernel_key = g->kernel_key;
	ret = -EIO;
	/* enrolled: the admitted bundle; none yet: no AK and no records */
	if (g->conf->enroll && g->bundle) {
		ak = malloc(g->bundle_len);
		if (!ak)
			goto out;
		memcpy(ak, g->bundle, g->bundle_len);
		b->ak_len = g->bundle_len;
	}
	if ((!g->conf->enroll && slurp(g->conf->ak, &ak, &b->ak_len)) ||
	    (*g->conf->policy && slurp(g->conf->policy, &pol, &b->policy_len))) {
		round_log(rd, "gateway %s: cannot read its AK or policy for the evidence "
		       "bundle", g->conf->id);
		goto out;
	}
	b->ak = ak;
	b->policy = pol;
	recs = store_prep(rd->s, "SELECT data FROM rec WHERE gw=? AND instance=? "
			  "AND stream=? AND gen=? AND seq<=? AND seq>=? ORDER BY seq");
	size = store_prep(rd->s, "SELECT coalesce(sum(length(data)), 0) FROM rec "
			  "WHERE gw=? AND instance=? AND stream=? AND gen=? AND "
			  "seq<=? AND seq>=?");
	evs = store_prep(rd->s, "SELECT data FROM evidence WHERE gw=? ORDER BY "
			 "instance");
	ex = store_prep(rd->s, "SELECT seq, why FROM excluded WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND seq<=? AND seq>=? "
			"ORDER BY seq");
	if (!recs || !evs || !size || !ex)
		goto out;
	sqlite3_bind_text(evs, 1, g->conf->id, -1, SQLITE_STATIC);
	for (size_t i = 0; g->kernel_key && i < ORACLE_BUNDLE_BOOTS_MAX &&
	     sqlite3_step(evs) == SQLITE_ROW; i++) {
		struct oracle_evidence e;
		size_t n = (size_t)sqlite3_column_bytes(evs, 0);

		ev[i] = malloc(n + 1);
		if (!ev[i])
			goto out;
		if (n)
			memcpy(ev[i], sqlite3_column_blob(evs, 0), n);
		if (oracle_evidence_parse(ev[i], n, &e, NULL))
			continue;	/* stored only after it parsed */
		b->boots[b->nboots].mlog = e.mlog;
		b->boots[b->nboots].mlog_len = e.mlog_len;
		b->boots[b->nboots].pcrs = e.pcrs;
		b->boots[b->nboots++].pcrs_len = e.pcrs_len;
	}
	for (size_t i = 0; i < d->nused; i++) {
		struct oracle_bundle_chain *c = &b->chains[b->nchains];
		/* the first checkpoint of the chain's own whose head covers
		 * the newest reading (use()): records appended while its
		 * quote was taken come before it in seq but only the next
		 * one covers them */
		int64_t upto = d->used[i].upto;
		uint8_t *state = NULL;
		size_t slen = 0;
		bool pre;

		if (seg_start(rd, g->conf->id, d, &d->used[i], &state, &slen, &pre))
			goto out;
		c->state = state;
		c->state_len = slen;
		for (int q = 0; q < 3; q++) {
			sqlite3_stmt *x = q == 2 ? ex : q ? recs : size;

			sqlite3_reset(x);
			sqlite3_bind_text(x, 1, g->conf->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(x, 2, d->used[i].instance);
			sqlite3_bind_int64(x, 3, d->fs->stream);
			sqlite3_bind_int64(x, 4, d->used[i].gen);
			sqlite3_bind_int64(x, 5, upto);
			sqlite3_bind_int64(x, 6, d->used[i].from);
		}
		/* bounded memory: a chain longer than this is left out (its
		 * device then does not re-verify; protocol.md, known limits) */
		if (sqlite3_step(size) != SQLITE_ROW ||
		    sqlite3_column_int64(size, 0) > OD_BUNDLE_CHAIN_MAX) {
			round_log(rd, "gateway %s stream %u: chain of load %016" PRIx64
			       " too long for the evidence bundle (over %d bytes)",
			       g->conf->id, d->fs->stream,
			       (uint64_t)d->used[i].instance, OD_BUNDLE_CHAIN_MAX);
			free(state);
			c->state = NULL;
			c->state_len = 0;
			continue;
		}
		if (concat(recs, (uint8_t **)&c->recs, &c->len))
			goto out;
		/* not after a signed head before the window, nor at the
		 * chain's start: completeness before it is the node's word,
		 * and the bundle says so (key 15) */
		if (!pre && c->len >= sizeof(struct attestio_rec_hdr)) {
			struct attestio_rec_hdr h;

			memcpy(&h, c->recs, sizeof(h));
			c->resync = le64toh(h.seq) != 0;
		}
		/* the samples of the segment whose readings the node did not
		 * keep for a reason only it can judge (protocol.md, key 13) */
		while (sqlite3_step(ex) == SQLITE_ROW) {
			if (b->nexcl == ORACLE_BUNDLE_EXCL_MAX) {
				round_log(rd, "gateway %s stream %u: more than %d excluded "
				       "samples for the evidence bundle", g->conf->id,
				       d->fs->stream, ORACLE_BUNDLE_EXCL_MAX);
				break;
			}
			if (b->nexcl == excap) {
				size_t n = excap ? 2 * excap : 64;
				struct oracle_bundle_excl *x = realloc(b->excl, n * sizeof(*x));

				if (!x)
					goto out;
				b->excl = x;
				excap = n;
			}
			b->excl[b->nexcl++] = (struct oracle_bundle_excl){
				.chain = (uint32_t)b->nchains,
				.seq = (uint64_t)sqlite3_column_int64(ex, 0),
				.why = (uint8_t)sqlite3_column_int(ex, 1),
			};
		}
		b->nchains++;
	}
	if (oracle_bundle_device_item(b, NULL, 0, &len) != -ENOSPC)
		goto out;
	d->item = malloc(len);
	if (!d->item || oracle_bundle_device_item(b, d->item, len, &d->ilen))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(recs);
	sqlite3_finalize(evs);
	sqlite3_finalize(size);
	sqlite3_finalize(ex);
	free(b->excl);
	/* past nchains: zero, or the segment being built when it failed */
	for (size_t i = 0; i < ORACLE_BUNDLE_CHAINS_MAX; i++) {
		free((void *)b->chains[i].recs);
		free((void *)b->chains[i].state);
	}
	for (size_t i = 0; i < ORACLE_BUNDLE_BOOTS_MAX; i++)
		free(ev[i]);
	free(ak);
	free(pol);
	free(b);
	return ret;
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
	st = store_prep(rd->s, "INSERT OR REPLACE INTO rep_hist VALUES(?,?,?,?)");
	for (size_t i = 0; st && i < res->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, fr->f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)r);
		sqlite3_bind_blob(st, 3, res->contrib[i].device, 16, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, res->contrib[i].reputation_next);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = store_prep(rd->s, "DELETE FROM rep_hist WHERE feed=? AND round<=?");
	if (st && r > STORE_REP_HIST) {
		sqlite3_bind_text(st, 1, fr->f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)(r - STORE_REP_HIST));
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

/* Bundle item 0: the feed's canonical config text and its state before
 * the round. */
static int bundle_config(struct round *rd, const struct feed_rt *fr,
			 uint8_t **item, size_t *ilen)
{
	size_t tlen = config_feed_text(rd->c, fr->f, NULL, 0), len = 0;
	char *text = malloc(tlen + 1);
	int ret = -ENOMEM;

	*item = NULL;
	if (!text)
		return -ENOMEM;
	config_feed_text(rd->c, fr->f, text, tlen);
	if (oracle_bundle_config_item(text, tlen, &fr->st, NULL, 0, &len) == -ENOSPC &&
	    (*item = malloc(len)))
		ret = oracle_bundle_config_item(text, tlen, &fr->st, *item, len, ilen);
	free(text);
	return ret;
}

/*
 * The bundle's last item: the message of each beacon (its earliest
 * round among the whitelisted nodes') that a reading gather() classified
 * in a used chain was covered by (@bv, repeats allowed), ordered by
 * (round, value); none known: no item.  The verifier needs them to tell a
 * stale reading from a fresh one.  Each distinct value is looked up once;
 * more than the bundle can carry fails the round loudly (a bundle without
 * them would not re-verify).
 */
struct bcn {
	uint64_t round;
	uint8_t value[32];
	uint8_t *msg;
	size_t len;
};

static int bcn_cmp(const void *a, const void *b)
{
	const struct bcn *x = a, *y = b;

	if (x->round != y->round)
		return x->round < y->round ? -1 : 1;
	return memcmp(x->value, y->value, 32);
}

static int val_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int bundle_beacons(struct round *rd, const struct feed_rt *fr,
			  uint64_t r, struct bvals *bv, uint8_t **item,
			  size_t *ilen)
{
	char sql[OD_NODES_SQL_LEN + 200];
	sqlite3_stmt *bs = NULL;
	struct bcn *bc = NULL;
	const uint8_t **msg = NULL;
	size_t *mlen = NULL, nb = 0, nu = 0, len = 0;
	int ret = -ENOMEM;

	*item = NULL;
	if (fresh_mode(rd->c) == ORACLE_FRESH_OFF || !rd->c->beacon_max_age || !bv->n)
		return 0;
	qsort(bv->v, bv->n, sizeof(*bv->v), val_cmp);
	for (size_t k = 0; k < bv->n; k++)
		if (!nu || memcmp(bv->v[nu - 1], bv->v[k], 32))
			memcpy(bv->v[nu++], bv->v[k], 32);
	bv->n = nu;
	snprintf(sql, sizeof(sql), "SELECT data, round FROM beacon WHERE value=? "
		 "AND node IN %s ORDER BY round LIMIT 1", rd->nodes);
	bs = store_prep(rd->s, sql);
	bc = calloc(nu, sizeof(*bc));
	if (!bs) {
		ret = -EIO;
		goto out;
	}
	if (!bc)
		goto out;
	for (size_t k = 0; k < nu; k++) {
		sqlite3_reset(bs);
		sqlite3_bind_blob(bs, 1, bv->v[k], 32, SQLITE_STATIC);
		if (sqlite3_step(bs) != SQLITE_ROW)
			continue;	/* pruned meanwhile: unknown, no message */
		memcpy(bc[nb].value, bv->v[k], 32);
		bc[nb].round = (uint64_t)sqlite3_column_int64(bs, 1);
		bc[nb].len = (size_t)sqlite3_column_bytes(bs, 0);
		bc[nb].msg = malloc(bc[nb].len ? bc[nb].len : 1);
		if (!bc[nb].msg)
			goto out;
		memcpy(bc[nb].msg, sqlite3_column_blob(bs, 0), bc[nb].len);
		nb++;
	}
	if (nb > ORACLE_BUNDLE_BEACONS_MAX) {
		round_log(rd, "feed %s round %" PRIu64 ": its readings cover %zu distinct "
		       "beacons, more than an evidence bundle carries (%d); the "
		       "round is not run (a bundle without them would not "
		       "re-verify)", fr->f->name, r, nb, ORACLE_BUNDLE_BEACONS_MAX);
		ret = -E2BIG;
		goto out;
	}
	ret = 0;
	if (!nb)
		goto out;
	qsort(bc, nb, sizeof(*bc), bcn_cmp);
	msg = calloc(nb, sizeof(*msg));
	mlen = calloc(nb, sizeof(*mlen));
	ret = -ENOMEM;
	if (!msg || !mlen)
		goto out;
	for (size_t k = 0; k < nb; k++) {
		msg[k] = bc[k].msg;
		mlen[k] = bc[k].len;
	}
	if (oracle_bundle_beacons_item(msg, mlen, nb, NULL, 0, &len) == -ENOSPC &&
	    (*item = malloc(len)))
		ret = oracle_bundle_beacons_item(msg, mlen, nb, *item, len, ilen);
out:
	sqlite3_finalize(bs);
	for (size_t k = 0; bc && k < nb; k++)
		free(bc[k].msg);
	free(bc);
	free(msg);
	free(mlen);
	return ret;
}

static int bundle_store(struct round *rd, const struct od_feed_conf *f,
			uint64_t r, const uint8_t *b, size_t len)
{
	sqlite3_stmt *st = store_prep(rd->s, "INSERT OR REPLACE INTO bundle "
				      "VALUES(?,?,?,?)");
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)r);
	sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
	sqlite3_bind_blob(st, 4, b, (int)len, SQLITE_STATIC);
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return ret;
}

static int run_round(struct round *rd, struct feed_rt *fr, uint64_t r)
{
	const struct od_feed_conf *f = fr->f;
	uint64_t end = f->start + r * f->period;
	size_t n = f->nstreams, ne = 0, len = 0;
	struct oracle_agg_input *in = calloc(n, sizeof(*in));
	struct oracle_agg_contrib *out = calloc(n, sizeof(*out));
	struct oracle_report_device *rdev = calloc(n, sizeof(*rdev));
	uint8_t (*ev)[ORACLE_HASH_LEN] = calloc(n + 2, sizeof(*ev));
	struct dev *d = calloc(n, sizeof(*d));
	const uint8_t **items = calloc(n + 2, sizeof(*items));
	size_t *ilens = calloc(n + 2, sizeof(*ilens));
	uint8_t *cfg_item = NULL, *bundle = NULL, *bcn_item = NULL;
	struct bvals bv = { 0 };
	size_t blen = 0;
	struct oracle_agg_result res = { 0 };
	struct oracle_report rep = { 0 };
	uint8_t *buf = NULL;
	const char *why = "out of memory";
	char topic[160];
	int ret = -ENOMEM;

	if (!in || !out || !rdev || !ev || !d || !items || !ilens)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((ret = gather(rd, f, i, (int64_t)(end - f->period) * 1000000000,
				  (int64_t)end * 1000000000, &d[i], &bv)))
			goto out;
	qsort(d, n, sizeof(*d), dev_cmp);
	/* the evidence bundle: the config text and the feed's state before
	 * the round, then one item per device (protocol.md) */
	if ((ret = bundle_config(rd, fr, &cfg_item, &ilens[0])))
		goto out;
	items[ne] = cfg_item;
	oracle_merkle_leaf(cfg_item, ilens[0], ev[ne++]);
	for (size_t i = 0; i < n; i++) {
		in[i] = d[i].in;
		if ((ret = dev_item(rd, &d[i])))
			goto out;
		items[ne] = d[i].item;
		ilens[ne] = d[i].ilen;
		oracle_merkle_leaf(d[i].item, d[i].ilen, ev[ne++]);
	}
	/* the beacons the used chains' readings were covered by, last */
	if ((ret = bundle_beacons(rd, fr, r, &bv, &bcn_item, &ilens[ne])))
		goto out;
	if (bcn_item) {
		items[ne] = bcn_item;
		oracle_merkle_leaf(bcn_item, ilens[ne], ev[ne]);
		ne++;
	}
	ret = oracle_agg_round(&f->p, &fr->st, r, end, in, n, out, &res, &why);
	if (ret) {
		round_log(rd, "feed %s round %" PRIu64 ": cannot aggregate: %s", f->name, r, why);
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
		round_log(rd, "feed %s round %" PRIu64 ": cannot sign the report (%d)",
		       f->name, r, ret);
		goto out;
	}
	if ((ret = oracle_bundle_encode(buf, len, items, ilens, ne, NULL, 0,
					&blen)) != -ENOSPC ||
	    !(bundle = malloc(blen)) ||
	    (ret = oracle_bundle_encode(buf, len, items, ilens, ne, bundle, blen,
					&blen)) ||
	    (ret = bundle_store(rd, f, r, bundle, blen))) {
		round_log(rd, "feed %s round %" PRIu64 ": cannot store the evidence "
		       "bundle (%d)", f->name, r, ret);
		ret = ret ? ret : -ENOMEM;
		goto out;
	}
	save(rd, fr, &res, r);
	for (size_t i = 0; i < n; i++)
		rd->st.readings_stale += d[i].stale;
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
		round_log(rd, "feed %s round %" PRIu64 ": report not published (the "
		       "broker is unreachable); it is in the audit log", f->name, r);
	ret = 0;
out:
	for (size_t i = 0; d && i < n; i++) {
		free(d[i].item);
		free(d[i].rb);
	}
	free(bv.v);
	free(d);
	free(in);
	free(out);
	free(rdev);
	free(ev);
	free(buf);
	free(items);
	free(ilens);
	free(cfg_item);
	free(bcn_item);
	free(bundle);
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
			rd->quiet = fr->fail_round == r && now < fr->fail_quiet;
			if (run_round(rd, fr, r)) {
				store_rollback(rd->s);
				if (!rd->quiet) {
					fr->fail_round = r;
					fr->fail_quiet = now + 60;
				}
				break;
			}
			if (store_commit(rd->s))
				break;
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Ingest: records batches from gateways.  Per gateway one libattestio
 * verifier (allow_join, allow_lost: a node stores every record with its
 * verdict, whatever it is) fed strictly in seq order per chain: a record
 * after a hole that no loss declaration of the gateway names seq by seq,
 * nor declares released, is dropped (the gateway retransmits it after the
 * missing ones; the node acks again, so that a gateway that released them
 * sees it stuck and says so: protocol.md "Released records"), a
 * record already fed is a duplicate (dedup by instance, stream,
 * generation, seq).  A chain first seen after its start waits
 * join_period for the gateway's retransmission of its earliest records
 * and joins at the lowest seq seen (protocol.md, "Acks").  A chain is
 * acked up to N once every record up to N has its final verdict and is
 * committed.  A BAD verdict, or a chain that broke, quarantines the
 * gateway with the exact reason.
 *
 * Restart: the records are in the store with their verdicts; each
 * gateway's verifier is rebuilt by feeding again, in arrival order, the
 * stored records from its chains' last verified checkpoints on, so the
 * chains resume where they were (no record becomes unverifiable because
 * the node restarted).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libattestio.h>

#include "ack.h"
#include "evidence.h"
#include "loss.h"
#include "oracled.h"
#include "report.h"

#define OD_MAX_BOOTS	8	/* boots (module loads) kept per gateway */
/* the PCRs a boot log explains: all but the module's own (PCR 13) */
#define OD_BOOT_PCRS	(0xffffffu & ~(1u << ATTESTIO_MLOG_PCR))

struct fed {
	uint64_t seq;
	int final;
};

/* A record of a gap that came again, kept for a gap fill (fill_try). */
struct fillrec {
	uint64_t seq;
	uint32_t len;
	uint8_t *rec;
	uint64_t at;		/* kept since (unix s) */
};

struct chain {
	bool known;
	uint64_t instance;
	uint32_t stream, gen;
	int64_t expected;	/* next seq to feed, -1: accept any first */
	int64_t frontier;	/* acked up to, -1 none */
	uint64_t join_until;	/* first seen after its start: joins then, */
	uint64_t join_low;	/* at the lowest seq seen until then */
	int64_t gap_last;	/* highest seq of its gaps; -1 none, -2 unread */
	int64_t skip_cut;	/* acks state nothing up to here (ack_skips); -1 */
	int64_t refuted;	/* first of the last gap found refuted, -1 */
	int64_t gap_id0;	/* unknown: the gap row of its first gap, 0 */
	int64_t row0;		/* unknown: the rowid of its first stored
				   record, 0 (rec_known()) */
	struct fed *q;		/* fed, not yet acked, oldest first */
	size_t qh, qn, qcap;
	struct fillrec *fb;	/* records of its gaps that came again, */
	size_t fn, fcap;	/* by seq, not verified yet (gap fill) */
	bool fdirty;		/* fb grew: try a fill after the message */
	int64_t replay_last;	/* resume: the highest seq fed again */
	bool saved;		/* its row is in the chain table */
	/* the last verified checkpoint: its seq, capture time, TPM time */
	bool have_tt;
	uint64_t tt_seq, tt_clock;
	int64_t tt_rt;
	uint32_t tt_reset, tt_restart;
	uint32_t pin_noted;	/* identity (bit 16) / channel type (bit ch)
				   mismatches, future readings (bit 17)
				   audited, identity logged (bit 18) for
				   this chain */
};

struct gw {
	struct reg_gw *reg;
	bool ack_due;		/* a message stored while acks are deferred */
	struct att_verifier *v;
	struct chain *ch;	/* all chains seen */
	size_t nch, capch;
	int cur[ATTESTIO_MAX_STREAMS];	/* index of each stream's chain, -1 */
	struct ingest *in;
	bool changed;
	bool replaying;
	uint64_t reacked;	/* when an ack was last made again (reack()) */
	size_t fill_bytes;	/* of all its chains' fb */
	/* the beacon the checkpoint just verified covers (on_beacon): the
	 * samples it verifies next store it with their readings */
	uint8_t cp_beacon[32];
	bool cp_beacon_set;
	struct att_err last;	/* the last feed error (exact reason) */
	/* what the feeds pinned per stream (config: identity, channel_type):
	 * the stream pinned by feed index pin_feed (-1 none), the channel
	 * type expected by feed index type_feed (-1 none) */
	const uint8_t *pin_id[ATTESTIO_MAX_STREAMS];
	int8_t pin_feed[ATTESTIO_MAX_STREAMS];
	int8_t type_feed[ATTESTIO_MAX_STREAMS][ATTESTIO_MAX_CHANNELS];
	/* kernel-exclusive key use: the boots' evidence, and the checkpoint
	 * held (with every record stored after it) until its boot's arrives */
	struct att_boot *boot[OD_MAX_BOOTS];
	size_t nboot;
	int64_t held_from;	/* rowid of the held checkpoint, 0: none */
	uint64_t held_since, held_inst, held_seq;
	uint32_t held_stream;
	bool held_timed_out;	/* quarantined for it; still held */
	/* record format v4: per stream, the newest descriptor record and
	 * calib record after it the verifier was fed (NULL until a stream
	 * has one), offered to it: when a hole unanchors the stream, the
	 * next checkpoint anchors it again, and if its signed head commits
	 * to this state the samples after it give readings at once instead
	 * of after the next descriptor (review 7: possibly never) */
	struct segrec *seg;	/* [ATTESTIO_MAX_STREAMS] */
};

struct segrec {
	uint8_t *desc, *cal;
	uint32_t dlen, clen;
};

struct ingest {
	const struct od_config *c;
	struct store *s;
	struct registry *reg;
	const struct oracle_signer *signer;
	sqlite3_stmt *ins, *upd, *get, *rd, *chup, *dsup, *hget;
	struct gw gw[OD_MAX_GW];
	int ngw;
	int byid[OD_MAX_GW];	/* gw[] indexes in the order of their ids */
	struct ingest_stats st;
	bool defer;		/* acks wait for ingest_flush_acks() */
	uint8_t ackbuf[ORACLE_ACK_MAX_LEN];	/* ingest_flush_acks() */
	struct oracle_ack ack;
	struct fresh *fresh;	/* the beacons the network issued */
};

static struct chain *chain_get(struct gw *g, uint32_t stream, bool known,
			       uint64_t inst, uint32_t gen)
{
	struct chain *c;

	for (size_t i = 0; known && i < g->nch; i++) {
		c = &g->ch[i];
		if (c->known && c->instance == inst && c->stream == stream &&
		    c->gen == gen)
			return c;
	}
	if (g->nch == g->capch) {
		size_t n = g->capch ? 2 * g->capch : 16;
		struct chain *nc = realloc(g->ch, n * sizeof(*nc));

		if (!nc)
			return NULL;
		g->ch = nc;
		g->capch = n;
	}
	c = &g->ch[g->nch++];
	memset(c, 0, sizeof(*c));
	c->known = known;
	c->instance = inst;
	c->stream = stream;
	c->gen = gen;
	c->expected = -1;
	c->frontier = -1;
	c->gap_last = -2;
	c->skip_cut = -1;
	c->refuted = -1;
	c->replay_last = -1;
	return c;
}

/* Forget @c's fill buffer from index @from on. */
static void fill_drop(struct gw *g, struct chain *c, size_t from)
{
	for (size_t i = from; i < c->fn; i++) {
		g->fill_bytes -= c->fb[i].len;
		free(c->fb[i].rec);
	}
	if (from < c->fn)
		c->fn = from;
}

static void chain_free(struct gw *g, struct chain *c)
{
	fill_drop(g, c, 0);
	free(c->fb);
	free(c->q);
}

static int q_push(struct chain *c, uint64_t seq, int final)
{
	if (c->qn == c->qcap) {
		size_t n = c->qcap ? 2 * c->qcap : 256;
		struct fed *nq = malloc(n * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		for (size_t i = 0; i < c->qn; i++)
			nq[i] = c->q[(c->qh + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qh = 0;
		c->qcap = n;
	}
	c->q[(c->qh + c->qn++) % c->qcap] = (struct fed){ seq, final };
	return 0;
}

/*
 * Is the device under @c's stream the one the feeds pinned (identity), and
 * is channel @ch of the type they expect?  A mismatch is audited and logged
 * once per chain (and channel), counted for every reading refused.
 */
/* A reading refused for @why: audited and logged once per chain and @bit. */
static void note_refusal(struct gw *g, struct chain *c, uint32_t bit,
			 const char *event, const char *why)
{
	if (c->pin_noted & bit)
		return;
	c->pin_noted |= bit;
	od_log("gateway %s: %s", g->reg->conf->id, why);
	store_audit(g->in->s, event, g->reg->conf->id, "%s", why);
}

static bool pin_ok(struct gw *g, struct chain *c, const struct attestio_descriptor *d,
		   unsigned int ch, uint64_t seq)
{
	struct ingest *in = g->in;
	char why[600], have[65], want[65];
	int fi = g->pin_feed[c->stream];
	unsigned int type = le16toh(d->chan[ch].type);
	uint32_t bit;

	if (fi >= 0 && memcmp(d->identity, g->pin_id[c->stream], 32)) {
		in->st.pin_identity++;
		bit = 1u << 16;
		oracle_hex(d->identity, 32, have);
		oracle_hex(g->pin_id[c->stream], 32, want);
		snprintf(why, sizeof(why), "stream %u (load %016" PRIx64 " gen %u, "
			 "seq %" PRIu64 "): descriptor identity %s (parent \"%.64s\", "
			 "driver \"%.32s\", name \"%.32s\") is not %s pinned by "
			 "feed %s: its readings are not stored", c->stream,
			 c->instance, c->gen, seq, have, d->parent, d->driver,
			 d->name, want, in->c->feed[fi].name);
	} else if ((fi = g->type_feed[c->stream][ch]) >= 0 &&
		   (int)type != in->c->feed[fi].chan_type) {
		in->st.pin_type++;
		bit = 1u << ch;
		snprintf(why, sizeof(why), "stream %u channel %u (load %016" PRIx64
			 " gen %u, seq %" PRIu64 "): channel type %s (%u) is not "
			 "feed %s's channel_type %s: its readings are not stored",
			 c->stream, ch, c->instance, c->gen, seq,
			 att_chan_type_name(type), type, in->c->feed[fi].name,
			 att_chan_type_name((unsigned int)in->c->feed[fi].chan_type));
	} else {
		return true;
	}
	note_refusal(g, c, bit, "pin-mismatch", why);
	return false;
}

/*
 * A reading cannot come from the future: its capture time (the gateway's
 * CLOCK_REALTIME, which root sets) must not be later than the second its
 * record was received (@received, whole seconds) plus max_clock_skew.
 */
/*
 * The samples @from..@to - 1 of @c that have readings (stored, or the one
 * being stored) are not kept for reason @why (ORACLE_NODE_EXCL_*), which
 * only this node can judge: noted, so that a round's evidence bundle says
 * so (round.c) and verify-report leaves them out too.
 */
static void exclude(struct gw *g, const struct chain *c, uint64_t from,
		    uint64_t to, int why)
{
	sqlite3_stmt *st;

	if (to == from + 1)
		st = store_prep(g->in->s, "INSERT OR IGNORE INTO excluded(gw, "
				"instance, stream, gen, seq, why) VALUES(?4,?2,?1,?3,?5,?6)");
	else
		st = store_prep(g->in->s, "INSERT OR IGNORE INTO excluded(gw, "
				"instance, stream, gen, seq, why) SELECT DISTINCT gw, "
				"instance, stream, gen, seq, ?6 FROM reading WHERE "
				"gw=?4 AND stream=?1 AND instance=?2 AND gen=?3 AND "
				"seq>=?5 AND seq<?7");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, c->stream);
	sqlite3_bind_int64(st, 2, (int64_t)c->instance);
	sqlite3_bind_int64(st, 3, c->gen);
	sqlite3_bind_text(st, 4, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)from);
	sqlite3_bind_int(st, 6, why);
	if (to != from + 1)
		sqlite3_bind_int64(st, 7, (int64_t)to);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static bool time_ok(struct gw *g, struct chain *c, int64_t realtime_ns,
		    int64_t received, uint64_t seq)
{
	struct ingest *in = g->in;
	int64_t limit = (received + 1 + (int64_t)in->c->max_clock_skew_s) * 1000000000;
	char why[400];

	if (realtime_ns <= limit)
		return true;
	in->st.future++;
	exclude(g, c, seq, seq + 1, ORACLE_NODE_EXCL_FUTURE);
	snprintf(why, sizeof(why), "stream %u (load %016" PRIx64 " gen %u, seq %"
		 PRIu64 "): capture time %" PRId64 ".%09" PRId64 " is %" PRId64
		 " s after the record's receipt at %" PRId64 " (max_clock_skew %"
		 PRIu64 " s): the gateway's clock is ahead, its readings are not "
		 "stored", c->stream, c->instance, c->gen, seq,
		 realtime_ns / 1000000000, realtime_ns % 1000000000,
		 realtime_ns / 1000000000 - received, received,
		 in->c->max_clock_skew_s);
	note_refusal(g, c, 1u << 17, "clock-skew", why);
	return false;
}

/* Record @seq of chain @c: in->get on its row (data, received), or false. */
static bool rec_get(struct gw *g, const struct chain *c, uint64_t seq)
{
	struct ingest *in = g->in;

	sqlite3_reset(in->get);
	sqlite3_bind_text(in->get, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->get, 2, (int64_t)c->instance);
	sqlite3_bind_int64(in->get, 3, c->stream);
	sqlite3_bind_int64(in->get, 4, c->gen);
	sqlite3_bind_int64(in->get, 5, (int64_t)seq);
	return sqlite3_step(in->get) == SQLITE_ROW;
}

/*
 * Verified checkpoint @seq of @c: between the chain's previous verified
 * checkpoint of the same TPM boot and this one, the gateway's clock
 * (checkpoint capture times) must have advanced as much as the TPM clock
 * of their quotes, within max_clock_skew; else root set CLOCK_REALTIME
 * meanwhile and the readings of the samples in between (just stored: this
 * checkpoint verified them) are deleted, audited once per chain.
 */
static void check_drift(struct gw *g, struct chain *c, uint64_t seq)
{
	struct ingest *in = g->in;
	uint32_t reset, restart;
	uint64_t clock;
	int64_t rt, drift_ms;
	struct attestio_rec_hdr h;
	sqlite3_stmt *del;
	char why[400];

	if (att_verifier_quote_time(g->v, c->stream, &reset, &restart, &clock))
		return;
	if (!rec_get(g, c, seq) ||
	    sqlite3_column_bytes(in->get, 0) < (int)sizeof(h))
		return;
	memcpy(&h, sqlite3_column_blob(in->get, 0), sizeof(h));
	rt = (int64_t)le64toh(h.realtime_ns);
	drift_ms = (rt - c->tt_rt) / 1000000 - (int64_t)(clock - c->tt_clock);
	if (c->have_tt && reset == c->tt_reset && restart == c->tt_restart &&
	    seq > c->tt_seq && clock >= c->tt_clock &&
	    (drift_ms > (int64_t)in->c->max_clock_skew_s * 1000 ||
	     drift_ms < -(int64_t)in->c->max_clock_skew_s * 1000)) {
		exclude(g, c, c->tt_seq + 1, seq, ORACLE_NODE_EXCL_DRIFT);
		del = store_prep(in->s, "DELETE FROM reading WHERE gw=? AND "
				 "stream=? AND instance=? AND gen=? AND seq>? AND seq<?");
		if (del) {
			sqlite3_bind_text(del, 1, g->reg->conf->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(del, 2, c->stream);
			sqlite3_bind_int64(del, 3, (int64_t)c->instance);
			sqlite3_bind_int64(del, 4, c->gen);
			sqlite3_bind_int64(del, 5, (int64_t)c->tt_seq);
			sqlite3_bind_int64(del, 6, (int64_t)seq);
			if (sqlite3_step(del) == SQLITE_DONE) {
				in->st.drift += (uint64_t)sqlite3_changes(in->s->db);
				in->st.readings -= (uint64_t)sqlite3_changes(in->s->db);
			}
			sqlite3_finalize(del);
		}
		snprintf(why, sizeof(why), "stream %u (load %016" PRIx64 " gen %u, "
			 "seq %" PRIu64 "..%" PRIu64 "): the gateway's clock moved %"
			 PRId64 " ms while the TPM clock moved %" PRIu64 " ms "
			 "(max_clock_skew %" PRIu64 " s): the clock was set, the "
			 "readings in between are not kept", c->stream, c->instance,
			 c->gen, c->tt_seq + 1, seq, (rt - c->tt_rt) / 1000000,
			 clock - c->tt_clock, in->c->max_clock_skew_s);
		note_refusal(g, c, 1u << 19, "clock-drift", why);
	}
	c->have_tt = true;
	c->tt_seq = seq;
	c->tt_rt = rt;
	c->tt_clock = clock;
	c->tt_reset = reset;
	c->tt_restart = restart;
}

/* Readings of a verified sample: every channel, SI units (descriptor),
 * unless the device or channel is not the one a feed pinned. */
static void store_readings(struct gw *g, struct chain *c, uint64_t seq)
{
	struct ingest *in = g->in;
	const struct attestio_descriptor *d = att_verifier_descriptor(g->v, c->stream);
	struct attestio_rec_hdr h;
	const uint8_t *rec;
	size_t len;

	if (!d)
		return;
	if (!rec_get(g, c, seq))
		return;
	rec = sqlite3_column_blob(in->get, 0);
	len = (size_t)sqlite3_column_bytes(in->get, 0);
	if (len < sizeof(h) + sizeof(struct attestio_sample))
		return;
	memcpy(&h, rec, sizeof(h));
	if (!time_ok(g, c, (int64_t)le64toh(h.realtime_ns),
		     sqlite3_column_int64(in->get, 1), seq))
		return;
	{	/* sample -> verified latency */
		static const uint64_t bounds[] = OD_LAT_BOUNDS_MS;
		struct timespec ts;
		double ms;
		int b = 0;

		clock_gettime(CLOCK_REALTIME, &ts);
		ms = ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec -
		      (double)le64toh(h.realtime_ns)) / 1e6;
		if (ms < 0)
			ms = 0;
		while (b < OD_LAT_BUCKETS && ms > (double)bounds[b])
			b++;
		in->st.sample_lat[b]++;
		in->st.sample_lat_sum += ms / 1000;
	}
	if (!(c->pin_noted & (1u << 18))) {	/* what to pin (identity =) */
		char hex[65];

		c->pin_noted |= 1u << 18;
		oracle_hex(d->identity, 32, hex);
		od_log("gateway %s: stream %u (load %016" PRIx64 " gen %u): device "
		       "identity %s (parent \"%.64s\", driver \"%.32s\", name "
		       "\"%.32s\")", g->reg->conf->id, c->stream, c->instance,
		       c->gen, hex, d->parent, d->driver, d->name);
	}
	for (unsigned int ch = 0; ch < le16toh(d->nchannels) &&
	     ch < ATTESTIO_MAX_CHANNELS; ch++) {
		const struct attestio_sample *sm = (const void *)(rec + sizeof(h));
		size_t scan_len = le32toh(sm->scan_len);
		double v;

		if (scan_len > len - sizeof(h) - sizeof(*sm) ||
		    !pin_ok(g, c, d, ch, seq) ||
		    att_decode_channel(d, ch, sm->scan, scan_len, &v, NULL))
			continue;
		sqlite3_reset(in->rd);
		sqlite3_bind_text(in->rd, 1, g->reg->conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(in->rd, 2, c->stream);
		sqlite3_bind_int64(in->rd, 3, ch);
		sqlite3_bind_int64(in->rd, 4, (int64_t)c->instance);
		sqlite3_bind_int64(in->rd, 5, c->gen);
		sqlite3_bind_int64(in->rd, 6, (int64_t)seq);
		sqlite3_bind_int64(in->rd, 7, (int64_t)le64toh(h.realtime_ns));
		sqlite3_bind_double(in->rd, 8, v);
		if (g->cp_beacon_set)
			sqlite3_bind_blob(in->rd, 9, g->cp_beacon, 32, SQLITE_STATIC);
		else
			sqlite3_bind_null(in->rd, 9);
		if (sqlite3_step(in->rd) == SQLITE_DONE && sqlite3_changes(in->s->db))
			in->st.readings++;
	}
}

/*
 * The descriptor in force at verified checkpoint @seq of chain @c: a
 * restart resumes the chain there (resume()), and the verifier, anchoring
 * mid-chain, gets it back to decode the samples after it.
 */
static void save_descriptor(struct gw *g, const struct chain *c, uint64_t seq)
{
	const struct attestio_descriptor *d = att_verifier_descriptor(g->v, c->stream);
	struct ingest *in = g->in;

	if (!d || !c->known)
		return;
	sqlite3_reset(in->dsup);
	sqlite3_bind_text(in->dsup, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->dsup, 2, (int64_t)c->instance);
	sqlite3_bind_int64(in->dsup, 3, c->stream);
	sqlite3_bind_int64(in->dsup, 4, c->gen);
	sqlite3_bind_int64(in->dsup, 5, (int64_t)seq);
	sqlite3_bind_blob(in->dsup, 6, d, (int)(sizeof(*d) + le16toh(d->nchannels) *
						sizeof(struct attestio_channel)),
			  SQLITE_STATIC);
	sqlite3_step(in->dsup);
}

/* @c's queue entry of @seq not judged yet, or NULL. */
static struct fed *q_find(struct chain *c, uint64_t seq)
{
	for (size_t i = 0; i < c->qn; i++) {
		struct fed *f = &c->q[(c->qh + i) % c->qcap];

		if (f->seq == seq && !f->final)
			return f;
	}
	return NULL;
}

/*
 * The chain a verdict is for: the one the verifier names (a chain that
 * ended gets its verdicts after the next one's first record was fed),
 * else the stream's current chain if it waits for that seq, else another
 * chain of the stream that does.  @f: the queue entry, or NULL.
 */
static struct chain *verdict_chain(struct gw *g, const struct att_verdict *vd,
				   struct fed **f)
{
	struct chain *cur = &g->ch[g->cur[vd->stream]];

	if (vd->have_chain) {
		for (size_t i = 0; i < g->nch; i++) {
			struct chain *c = &g->ch[i];

			if (c->known && c->stream == vd->stream &&
			    c->instance == vd->instance &&
			    c->gen == vd->generation) {
				*f = q_find(c, vd->seq);
				return c;
			}
		}
	}
	if ((*f = q_find(cur, vd->seq)))
		return cur;
	for (size_t i = 0; i < g->nch; i++) {
		struct chain *c = &g->ch[i];

		if (c != cur && c->stream == vd->stream &&
		    (*f = q_find(c, vd->seq)))
			return c;
	}
	return cur;
}

/*
 * A quoted PCR state outside the policy: say why from the gateway's newest
 * evidence ("; boot log: ..."): does its boot event log replay to the PCR
 * values it reported (the quote's digest covers them under the kernel
 * rule), and which event differs first from [gateway ID] boot_log_ref.
 */
static void explain_policy(struct ingest *in, struct gw *g, char *out, size_t cap)
{
	sqlite3_stmt *st = store_prep(in->s, "SELECT data FROM evidence WHERE gw=? "
				      "ORDER BY received DESC, rowid DESC LIMIT 1");
	struct oracle_evidence e;
	char why[600];

	if (!st)
		return;
	sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(out, cap, "; boot log: no evidence from the gateway yet");
	} else if (oracle_evidence_parse(sqlite3_column_blob(st, 0),
					 (size_t)sqlite3_column_bytes(st, 0), &e,
					 NULL)) {
		snprintf(out, cap, "; boot log: the stored evidence does not parse");
	} else {
		att_eventlog_explain(e.boot_log, e.boot_log_len,
				     e.pcrs_len ? e.pcrs : NULL, e.pcrs_len,
				     OD_BOOT_PCRS, g->reg->boot_ref,
				     g->reg->boot_ref_len, why, sizeof(why));
		snprintf(out, cap, "; boot log: %s", why);
	}
	sqlite3_finalize(st);
}

static void on_verdict(void *ctx, const struct att_verdict *vd)
{
	struct gw *g = ctx;
	struct ingest *in = g->in;
	struct chain *c;
	bool changed;

	struct fed *f;

	if (vd->state == ATT_REC_MISSING || vd->state == ATT_REC_LOCAL ||
	    vd->stream >= ATTESTIO_MAX_STREAMS || g->cur[vd->stream] < 0)
		return;
	c = verdict_chain(g, vd, &f);
	if (!c)
		return;
	if (f)
		f->final = 1;
	if (vd->state == ATT_REC_VERIFIED && vd->type == ATTESTIO_REC_CHECKPOINT &&
	    g->reg->kernel_key)
		g->reg->kernel_key_proven = true;
	/* A record gets its verdict once: only a PENDING row changes. */
	sqlite3_reset(in->upd);
	sqlite3_bind_int(in->upd, 1, (int)vd->state);
	sqlite3_bind_text(in->upd, 2, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->upd, 3, (int64_t)c->instance);
	sqlite3_bind_int64(in->upd, 4, vd->stream);
	sqlite3_bind_int64(in->upd, 5, c->gen);
	sqlite3_bind_int64(in->upd, 6, (int64_t)vd->seq);
	changed = sqlite3_step(in->upd) == SQLITE_DONE &&
		  sqlite3_changes(in->s->db) > 0;
	if (!changed)
		return;
	if (vd->state == ATT_REC_VERIFIED) {
		in->st.verified++;
		if (vd->type == ATTESTIO_REC_SAMPLE)
			store_readings(g, c, vd->seq);
		if (vd->type == ATTESTIO_REC_CHECKPOINT) {
			save_descriptor(g, c, vd->seq);
			check_drift(g, c, vd->seq);
			/* kept records waiting for a checkpoint to cover
			 * them (the retransmission came first): try again */
			if (c->fn)
				c->fdirty = true;
		}
		/* rec_get() left in->get on its row: a statement not reset
		 * keeps a read transaction open, and then no WAL checkpoint
		 * can run (the WAL grew without bound) */
		sqlite3_reset(in->get);
		return;
	}
	in->st.failed++;
	/* A failed check, or a chain that broke (a record altered after it
	 * was chained): the gateway is quarantined.  Records before the
	 * first anchor (join) or next to declared losses are not failures. */
	if (vd->state == ATT_REC_BAD ||
	    (vd->state == ATT_REC_UNVERIFIABLE && vd->cause == ATT_CAUSE_BROKEN)) {
		char why[768];
		int n;

		in->st.bad++;
		n = snprintf(why, sizeof(why), "stream %u seq %" PRIu64 " (%s): %s: %.200s",
			     vd->stream, vd->seq, att_rec_type_name(vd->type),
			     att_code_name(vd->code),
			     g->last.code && g->last.seq == vd->seq ? g->last.msg :
			     vd->why ? vd->why : "failed a check");
		/* (only while the reason is still to be recorded: an
		 * 8 MiB replay per record of a quarantined gateway is waste) */
		if (vd->code == ATT_EPOLICY && g->reg->state == GW_ACTIVE &&
		    n > 0 && (size_t)n < sizeof(why) - 16)
			explain_policy(in, g, why + n, sizeof(why) - (size_t)n);
		registry_quarantine(in->reg, g->reg, why);
	}
}

static bool reveals(const uint8_t *rec, uint32_t len, uint16_t type,
		    uint64_t *inst, uint32_t *gen)
{
	const uint8_t *pl = rec + sizeof(struct attestio_rec_hdr);

	if (type == ATTESTIO_REC_DESCRIPTOR &&
	    len >= sizeof(struct attestio_rec_hdr) + sizeof(struct attestio_descriptor)) {
		const struct attestio_descriptor *d = (const void *)pl;

		*inst = le64toh(d->instance);
		*gen = le32toh(d->generation);
		return true;
	}
	if (type == ATTESTIO_REC_CHECKPOINT &&
	    len >= sizeof(struct attestio_rec_hdr) + sizeof(struct attestio_checkpoint)) {
		struct attestio_checkpoint cp;
		struct attestio_cp_head h;
		size_t off = sizeof(struct attestio_rec_hdr) + sizeof(cp);

		memcpy(&cp, pl, sizeof(cp));
		if (off + (size_t)(le16toh(cp.self) + 1) * sizeof(h) > len)
			return false;
		memcpy(&h, rec + off + le16toh(cp.self) * sizeof(h), sizeof(h));
		*inst = le64toh(cp.instance);
		*gen = le32toh(h.generation);
		return true;
	}
	return false;
}

/* The chain a record belongs to (creating it), tracking chain switches. */
/*
 * Chain @c was joined before it was known (its first records seen were
 * samples): its gaps were noted without instance and generation.  They
 * are its own: acks state them (protocol.md "Acks", format 2), so that the
 * gateway does not take a late join for the whole chain.  Only its own:
 * an earlier unknown chain of the stream (before a restart, or one the
 * stream left) keeps its gaps (review 4: all went to the chain learned).
 */
static void gap_known(struct gw *g, const struct chain *c)
{
	sqlite3_stmt *st;

	if (!c->gap_id0)
		return;		/* it had none */
	for (int q = 0; q < 2; q++) {
		st = store_prep(g->in->s, q ?
				"UPDATE resync SET instance=?, gen=?, known=1 WHERE "
				"gw=? AND stream=? AND known=0 AND gap>=?" :
				"UPDATE gap SET instance=?, gen=?, known=1 WHERE "
				"gw=? AND stream=? AND known=0 AND id>=?");
		if (!st)
			return;
		sqlite3_bind_int64(st, 5, c->gap_id0);
		sqlite3_bind_int64(st, 1, (int64_t)c->instance);
		sqlite3_bind_int64(st, 2, c->gen);
		sqlite3_bind_text(st, 3, g->reg->conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->stream);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
}

/*
 * Chain @c was joined before it was known: the records stored meanwhile
 * went in under instance 0, generation 0.  Named by @rec, which comes
 * after them, they are its own from its first stored row on (an earlier
 * unknown chain of the stream, before a restart, has lower rowids): they
 * take its name, so that their verdicts (given from now on, under the
 * name) are stored, a gap fill finds them, and an evidence bundle's
 * segment from the join point holds them (a verifier joining at the
 * naming checkpoint instead may anchor later and miss what the node's
 * verifier took: review 7).
 */
static void rec_known(struct gw *g, const struct chain *c, const uint8_t *rec)
{
	struct attestio_rec_hdr h;
	sqlite3_stmt *st;

	memcpy(&h, rec, sizeof(h));
	/* named by a record below those stored (a chain start, say): not
	 * the chain they are of, they keep no name */
	if (!c->row0 || (!c->instance && !c->gen) ||
	    (c->expected >= 0 && (int64_t)le64toh(h.seq) < c->expected))
		return;
	st = store_prep(g->in->s, "UPDATE OR IGNORE rec SET instance=?, gen=? "
			"WHERE gw=? AND stream=? AND instance=0 AND gen=0 AND "
			"rowid>=?");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, (int64_t)c->instance);
	sqlite3_bind_int64(st, 2, c->gen);
	sqlite3_bind_text(st, 3, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->stream);
	sqlite3_bind_int64(st, 5, c->row0);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static struct chain *chain_of(struct gw *g, const uint8_t *rec, uint32_t len,
			      uint16_t type, uint32_t stream)
{
	struct chain *c = g->cur[stream] >= 0 ? &g->ch[g->cur[stream]] : NULL;
	uint64_t inst;
	uint32_t gen;

	if (reveals(rec, len, type, &inst, &gen) &&
	    (!c || !c->known || c->instance != inst || c->gen != gen)) {
		if (c && !c->known) {	/* the stream's unknown chain is this one */
			c->known = true;
			c->instance = inst;
			c->gen = gen;
			gap_known(g, c);
			rec_known(g, c, rec);
		} else {
			c = chain_get(g, stream, true, inst, gen);
			if (!c)
				return NULL;
			g->cur[stream] = (int)(c - g->ch);
		}
	}
	if (!c) {
		c = chain_get(g, stream, false, 0, 0);
		if (!c)
			return NULL;
		g->cur[stream] = (int)(c - g->ch);
	}
	return c;
}

static bool has_boot(const struct gw *g, uint64_t inst)
{
	for (size_t i = 0; i < g->nboot; i++)
		if (att_boot_instance(g->boot[i]) == inst)
			return true;
	return false;
}

/* A checkpoint of a load whose evidence has not arrived: hold it. */
static bool must_hold(struct gw *g, const uint8_t *rec, uint32_t len)
{
	struct attestio_rec_hdr h;
	uint64_t inst;
	uint32_t gen;
	uint16_t type;

	if (!g->reg->kernel_key)
		return false;
	memcpy(&h, rec, sizeof(h));
	type = le16toh(h.type);
	if (type != ATTESTIO_REC_CHECKPOINT || !reveals(rec, len, type, &inst, &gen) ||
	    has_boot(g, inst))
		return false;
	g->held_inst = inst;
	g->held_stream = le32toh(h.stream);
	g->held_seq = le64toh(h.seq);
	return true;
}

/* Offer stream @k's remembered segment state to the verifier. */
static void seg_offer(struct gw *g, uint32_t k)
{
	struct segrec *r = &g->seg[k];

	if (r->desc && att_verifier_offer_state(g->v, k, r->desc, r->dlen, r->cal,
						r->clen) == ATT_EINVAL && r->cal) {
		/* a calib that does not fit the descriptor: without it */
		free(r->cal);
		r->cal = NULL;
		r->clen = 0;
		att_verifier_offer_state(g->v, k, r->desc, r->dlen, NULL, 0);
	}
}

/*
 * Remember @rec if it is a descriptor or calib record, and offer the
 * stream's segment state (a wrong one, from a gateway that lies, never
 * matches a signed state: it costs that gateway its own readings).
 */
static void seg_note(struct gw *g, const uint8_t *rec, size_t len)
{
	struct attestio_rec_hdr h;
	struct segrec *r;
	uint16_t type;
	uint32_t k;
	uint8_t *p;

	if (len < sizeof(h))
		return;
	memcpy(&h, rec, sizeof(h));
	type = le16toh(h.type);
	k = le32toh(h.stream);
	if ((type != ATTESTIO_REC_DESCRIPTOR && type != ATTESTIO_REC_CALIB) ||
	    k >= ATTESTIO_MAX_STREAMS || le32toh(h.len) != len)
		return;
	if (!g->seg) {
		g->seg = calloc(ATTESTIO_MAX_STREAMS, sizeof(*g->seg));
		if (!g->seg)
			return;
	}
	r = &g->seg[k];
	if (type == ATTESTIO_REC_CALIB && !r->desc)
		return;
	p = malloc(len);
	if (!p)
		return;
	memcpy(p, rec, len);
	if (type == ATTESTIO_REC_DESCRIPTOR) {
		free(r->desc);
		r->desc = p;
		r->dlen = (uint32_t)len;
		free(r->cal);
		r->cal = NULL;
		r->clen = 0;
	} else {
		free(r->cal);
		r->cal = p;
		r->clen = (uint32_t)len;
	}
	seg_offer(g, k);
}

static void seg_free(struct gw *g)
{
	for (int k = 0; g->seg && k < ATTESTIO_MAX_STREAMS; k++) {
		free(g->seg[k].desc);
		free(g->seg[k].cal);
	}
	free(g->seg);
	g->seg = NULL;
}

/*
 * Feed one record to the verifier, unless a checkpoint is held: then it
 * waits in the store (@rowid: its row; 0 for records that have none) and
 * is fed, in arrival order, when the evidence arrives or the wait times
 * out.  Held records have no verdict, so nothing after them is acked.
 */
static void feed(struct gw *g, const uint8_t *rec, uint32_t len, int64_t rowid)
{
	if (rowid > 0 && g->held_from)
		return;
	if (rowid > 0 && must_hold(g, rec, len)) {
		g->held_from = rowid;
		g->held_since = (uint64_t)time(NULL);
		g->in->st.held++;
		od_log("gateway %s: stream %u seq %" PRIu64 " (checkpoint) held: "
		       "no evidence yet for load %016" PRIx64 " (waiting up to %"
		       PRIu64 " s)", g->reg->conf->id, g->held_stream,
		       g->held_seq, g->held_inst, g->in->c->evidence_timeout_s);
		return;
	}
	memset(&g->last, 0, sizeof(g->last));
	seg_note(g, rec, len);
	att_verifier_feed(g->v, rec, len, NULL, &g->last);
}

/* Feed the held records again, in arrival order (they may hold again). */
static int release(struct ingest *in, struct gw *g)
{
	int64_t from = g->held_from;
	sqlite3_stmt *st;

	if (!from)
		return 0;
	g->held_from = 0;
	g->held_timed_out = false;
	st = store_prep(in->s, "SELECT rowid, data, stream FROM rec WHERE gw=? "
			"AND rowid>=? ORDER BY rowid");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *rec = sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		struct attestio_rec_hdr h;

		if (len < (int)sizeof(h))
			continue;
		memcpy(&h, rec, sizeof(h));
		chain_of(g, rec, (uint32_t)len, le16toh(h.type),
			 (uint32_t)sqlite3_column_int(st, 2));
		feed(g, rec, (uint32_t)len, sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	return 0;
}

/* Are seqs @first..@last of @c all named by the gateway's declarations? */
static bool declared(struct gw *g, const struct chain *c, uint64_t first,
		     uint64_t last)
{
	sqlite3_stmt *st = g->in->hget;
	uint64_t p = first;	/* the first seq not covered yet */

	if (!c->known)
		return false;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)c->instance);
	sqlite3_bind_int64(st, 3, c->stream);
	sqlite3_bind_int64(st, 4, c->gen);
	sqlite3_bind_int64(st, 5, (int64_t)first);
	while (p <= last && sqlite3_step(st) == SQLITE_ROW) {
		uint64_t f = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t l = (uint64_t)sqlite3_column_int64(st, 1);

		if (f > p)
			break;
		if (l >= p)
			p = l + 1;
	}
	sqlite3_reset(st);
	return p > last;
}

/* @sql prepared with its first four parameters bound to chain @c:
 * gw, instance, stream, generation.  NULL on error. */
static sqlite3_stmt *chain_bind(struct gw *g, const struct chain *c,
				sqlite3_stmt *st)
{
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)c->instance);
	sqlite3_bind_int64(st, 3, c->stream);
	sqlite3_bind_int64(st, 4, c->gen);
	return st;
}

/* @sql's statement bound to chain @c (?1..?4): finalize it */
static sqlite3_stmt *chain_prep(struct gw *g, const struct chain *c,
				const char *sql)
{
	return chain_bind(g, c, store_prep(g->in->s, sql));
}

/* the same, cached (a query of every record or ack): store_done() it */
static sqlite3_stmt *chain_stmt(struct gw *g, const struct chain *c,
				const char *sql)
{
	return chain_bind(g, c, store_stmt(g->in->s, sql));
}

/*
 * Seqs @first..@last of @c that this node will never have: declared gone
 * by the gateway ("declared"), released by it after ack_quorum other nodes
 * acked them ("released"), or before the point where it joined the chain
 * ("join").  Stored (table gap), audited, logged and counted once: the
 * chain only moves forward past them.
 */
static void gap_note(struct gw *g, struct chain *c, uint64_t first,
		     uint64_t last, const char *why)
{
	struct ingest *in = g->in;
	sqlite3_stmt *st;
	char what[300];
	int64_t id;

	if (*why == 'd')
		in->st.declared_lost += last - first + 1;
	else if (*why == 'r')
		in->st.released += last - first + 1;
	else
		in->st.join_gap += last - first + 1;
	if (c->gap_last != -2 && (int64_t)last > c->gap_last)
		c->gap_last = (int64_t)last;
	snprintf(what, sizeof(what), "stream %u (load %016" PRIx64 " gen %u): "
		 "seq %" PRIu64 "..%" PRIu64 " (%" PRIu64 " records) %s", c->stream,
		 c->instance, c->gen, first, last, last - first + 1,
		 *why == 'd' ? "declared lost by the gateway" :
		 *why == 'r' ? "released after ack_quorum other nodes acked them "
		 "(the gateway deleted them): never received here, this node's "
		 "acks skip them" :
		 "before this node joined the chain: never received, its acks "
		 "cover the chain from the join point on");
	od_log("gateway %s: %s", g->reg->conf->id, what);
	store_audit(in->s, *why == 'd' ? "declared-lost" : *why == 'r' ?
		    "quorum-released" : "late-join", g->reg->conf->id, "%s",
		    what);
	st = chain_prep(g, c, "INSERT INTO gap(gw, instance, stream, gen, known, "
			"first, last, why, time) VALUES(?,?,?,?,?,?,?,?,?)");
	if (!st)
		return;
	sqlite3_bind_int(st, 5, c->known);
	sqlite3_bind_int64(st, 6, (int64_t)first);
	sqlite3_bind_int64(st, 7, (int64_t)last);
	sqlite3_bind_text(st, 8, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)time(NULL));
	id = sqlite3_step(st) == SQLITE_DONE ? sqlite3_last_insert_rowid(in->s->db) : 0;
	sqlite3_finalize(st);
	if (!c->known && !c->gap_id0)
		c->gap_id0 = id;
	/* the verifier goes on from @last + 1: so does the chain's segment
	 * in an evidence bundle (round.c), whether or not the gap fills */
	st = chain_prep(g, c, "INSERT INTO resync(gw, instance, stream, gen, "
			"known, seq, gap) VALUES(?,?,?,?,?,?,?)");
	if (!st)
		return;
	sqlite3_bind_int(st, 5, c->known);
	sqlite3_bind_int64(st, 6, (int64_t)last + 1);
	sqlite3_bind_int64(st, 7, id);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (*why == 'j')
		return;
	/* the holes and releases used up: the chain never comes back below
	 * @last */
	st = chain_prep(g, c, *why == 'd' ? "DELETE FROM hole WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND last<=?" :
			"DELETE FROM released WHERE gw=? AND instance=? AND "
			"stream=? AND gen=? AND last<=?");
	if (!st)
		return;
	sqlite3_bind_int64(st, 5, (int64_t)last);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* Up to which seq @c's gateway declared everything released (table
 * released, protocol.md "Released records"), -1 none. */
static int64_t released_last(struct gw *g, const struct chain *c)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (!c->known)
		return -1;
	st = chain_prep(g, c, "SELECT last FROM released WHERE gw=? AND "
			"instance=? AND stream=? AND gen=?");
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Are seqs @first..@last of @c all gone from the gateway by its own word:
 * declared lost seq by seq, or released? */
static bool excused(struct gw *g, const struct chain *c, uint64_t first,
		    uint64_t last)
{
	return declared(g, c, first, last) ||
	       released_last(g, c) >= (int64_t)last;
}

/*
 * Seqs @first..@last of @c, excused (excused()), noted as the gaps they
 * are, each seq once: what the gateway declared lost "declared", the rest
 * "released" (it released them after ack_quorum other nodes acked them,
 * declared holes it stopped declaring once they were acked past
 * included).
 */
static void gap_excuse(struct gw *g, struct chain *c, uint64_t first,
		       uint64_t last)
{
	uint64_t p = first;

	if (declared(g, c, first, last)) {
		gap_note(g, c, first, last, "declared");
		return;
	}
	while (p <= last) {
		sqlite3_stmt *st = chain_prep(g, c, "SELECT first, last FROM hole "
					      "WHERE gw=? AND instance=? AND "
					      "stream=? AND gen=? AND last>=? AND "
					      "first<=? ORDER BY first LIMIT 1");
		int64_t f = -1, l = -1;

		if (!st)
			return;
		sqlite3_bind_int64(st, 5, (int64_t)p);
		sqlite3_bind_int64(st, 6, (int64_t)last);
		if (sqlite3_step(st) == SQLITE_ROW) {
			f = sqlite3_column_int64(st, 0);
			l = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
		if (f < 0) {
			gap_note(g, c, p, last, "released");
			return;
		}
		if ((uint64_t)f > p)
			gap_note(g, c, p, (uint64_t)f - 1, "released");
		if ((uint64_t)f < p)
			f = (int64_t)p;
		if ((uint64_t)l > last)
			l = (int64_t)last;
		gap_note(g, c, (uint64_t)f, (uint64_t)l, "declared");
		p = (uint64_t)l + 1;
	}
}

/*
 * A record came after a hole this node may not skip: ack again, at most
 * once a second per gateway (the same positions: nothing more is
 * verified), so that the gateway sees where its chains stand.  A node
 * stuck below what the gateway still holds (the records it lacks were
 * deleted after ack_quorum other nodes acked them) is then told so
 * (protocol.md "Released records").
 */
static void reack(struct gw *g)
{
	uint64_t now = (uint64_t)time(NULL);

	if (g->changed || g->reacked == now)
		return;
	g->reacked = now;
	g->changed = true;
	g->in->st.reacks++;
}

/*
 * A record below chain @c's position came again: if the node skipped its
 * seq (a gap it noted), the gateway still holds it, so the declaration or
 * the late join it was skipped for was not the gateway's doing (a broker
 * that dropped it and forged the declaration, or withheld the chain's
 * start).  Counted per record; logged and audited once per gap (per run).
 * True when @seq is in one of @c's gaps: the caller keeps the record for
 * a gap fill (fill_try).
 */
static bool skip_refuted(struct gw *g, struct chain *c, uint64_t seq)
{
	struct ingest *in = g->in;
	sqlite3_stmt *st;
	char what[300];
	int64_t f = -1, l = -1;

	if (c->gap_last == -2) {	/* once per chain and run */
		st = chain_prep(g, c, "SELECT coalesce(max(last), -1) FROM gap "
				"WHERE gw=? AND instance=? AND stream=? AND gen=?");
		if (!st)
			return false;
		if (sqlite3_step(st) == SQLITE_ROW)
			c->gap_last = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if ((int64_t)seq > c->gap_last)
		return false;	/* above every gap: a plain duplicate */
	st = chain_prep(g, c, "SELECT first, last, why FROM gap WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND first<=? AND "
			"last>=? LIMIT 1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 5, (int64_t)seq);
	sqlite3_bind_int64(st, 6, (int64_t)seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		f = sqlite3_column_int64(st, 0);
		l = sqlite3_column_int64(st, 1);
		snprintf(what, sizeof(what), "stream %u (load %016" PRIx64
			 " gen %u): seq %" PRIu64 " came again, but this node "
			 "skipped seq %" PRId64 "..%" PRId64 " (%s): the gateway "
			 "still holds it; the skip was not the gateway's (a "
			 "forged loss or release declaration, or a withheld "
			 "chain start?)",
			 c->stream, c->instance, c->gen, seq, f, l,
			 (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	if (f < 0)
		return false;
	in->st.skip_refuted++;
	if (c->refuted != f) {
		c->refuted = f;
		od_log("gateway %s: %s", g->reg->conf->id, what);
		store_audit(in->s, "skip-refuted", g->reg->conf->id, "%s", what);
	}
	return true;
}

/*
 * Gap fill.  Record @seq of chain @c came again although the node skipped
 * it: keep it (one copy per seq, the first; bounded per gateway) until
 * fill_try() verifies it against the chain.
 */
static void fill_add(struct gw *g, struct chain *c, const uint8_t *rec,
		     uint32_t len, uint64_t seq)
{
	size_t i = c->fn;

	if (!c->known)
		return;		/* its gaps name no chain yet */
	while (i && c->fb[i - 1].seq >= seq)
		i--;
	if (i < c->fn && c->fb[i].seq == seq)
		return;		/* kept already: the first copy is tried */
	if (g->fill_bytes + len > OD_FILL_MAX_BYTES) {
		g->in->st.fill_dropped++;
		return;
	}
	if (c->fn == c->fcap) {
		size_t n = c->fcap ? 2 * c->fcap : 16;
		struct fillrec *nb = realloc(c->fb, n * sizeof(*nb));

		if (!nb)
			return;
		c->fb = nb;
		c->fcap = n;
	}
	uint8_t *copy = malloc(len);

	if (!copy)
		return;
	memcpy(copy, rec, len);
	memmove(c->fb + i + 1, c->fb + i, (c->fn - i) * sizeof(*c->fb));
	c->fb[i] = (struct fillrec){ seq, len, copy, (uint64_t)time(NULL) };
	c->fn++;
	g->fill_bytes += len;
	c->fdirty = true;
}

/*
 * The verdicts a fill verifier gives the kept records.  FILL_BEFORE_ANCHOR:
 * a kept record of the chain-start gap before the first checkpoint the
 * fill verifier anchored at (UNVERIFIABLE, excused as at a late join).
 */
#define FILL_BEFORE_ANCHOR	(-2)

struct fillctx {
	struct chain *c;
	int *state;		/* per fb entry: -1 none yet */
	size_t fed;		/* fb[0..fed) were fed */
	size_t judged;		/* of them, with a verdict */
	int64_t bad_seq;	/* the first kept record refused, -1 */
	bool join;		/* fed from the first kept record (a join) */
	char why[300];
};

/* Is kept record @k taken (stored, its gap shrinks)? */
static bool fill_taken(const struct fillctx *x, size_t k)
{
	return k < x->fed && (x->state[k] == ATT_REC_VERIFIED ||
			      x->state[k] == FILL_BEFORE_ANCHOR);
}

static void fill_verdict(void *ctx, const struct att_verdict *vd)
{
	struct fillctx *x = ctx;
	struct chain *c = x->c;

	if (vd->stream != c->stream || vd->state == ATT_REC_MISSING ||
	    vd->state == ATT_REC_LOCAL || vd->state == ATT_REC_PENDING ||
	    (vd->have_chain && (vd->instance != c->instance ||
				vd->generation != c->gen)))
		return;
	for (size_t i = 0; i < x->fed; i++) {
		if (c->fb[i].seq != vd->seq || x->state[i] >= 0)
			continue;
		x->state[i] = (int)vd->state;
		x->judged++;
		if (x->join && vd->state == ATT_REC_UNVERIFIABLE &&
		    vd->cause == ATT_CAUSE_JOIN && vd->excused && x->bad_seq < 0)
			x->state[i] = FILL_BEFORE_ANCHOR;
		else if (vd->state != ATT_REC_VERIFIED && x->bad_seq < 0) {
			x->bad_seq = (int64_t)vd->seq;
			snprintf(x->why, sizeof(x->why), "%s, %s: %s",
				 vd->state == ATT_REC_BAD ? "BAD" :
				 vd->state == ATT_REC_UNSIGNED ? "UNSIGNED" :
				 "UNVERIFIABLE",
				 att_code_name(vd->code),
				 vd->why ? vd->why : "failed a check");
		}
		return;
	}
}

/* Seq @q of @c was filled: its gap loses it (shrunk, split or deleted). */
static void gap_take(struct gw *g, struct chain *c, uint64_t q)
{
	sqlite3_stmt *st = chain_prep(g, c, "SELECT id, first, last FROM gap "
				      "WHERE gw=? AND instance=? AND stream=? AND "
				      "gen=? AND first<=? AND last>=?");
	int64_t id, f, l;
	char sql[200];

	if (!st)
		return;
	sqlite3_bind_int64(st, 5, (int64_t)q);
	sqlite3_bind_int64(st, 6, (int64_t)q);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return;
	}
	id = sqlite3_column_int64(st, 0);
	f = sqlite3_column_int64(st, 1);
	l = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	if (f == (int64_t)q && l == (int64_t)q)
		snprintf(sql, sizeof(sql), "DELETE FROM gap WHERE id=%" PRId64, id);
	else if (f == (int64_t)q)
		snprintf(sql, sizeof(sql), "UPDATE gap SET first=first+1 WHERE "
			 "id=%" PRId64, id);
	else if (l == (int64_t)q)
		snprintf(sql, sizeof(sql), "UPDATE gap SET last=last-1 WHERE "
			 "id=%" PRId64, id);
	else		/* the middle (not from fill_try's contiguous feed) */
		snprintf(sql, sizeof(sql), "INSERT INTO gap(gw, instance, stream, "
			 "gen, known, first, last, why, time) SELECT gw, instance, "
			 "stream, gen, known, %" PRIu64 ", last, why, time FROM gap "
			 "WHERE id=%" PRId64 "; UPDATE gap SET last=%" PRIu64
			 " WHERE id=%" PRId64, q + 1, id, q - 1, id);
	store_exec(g->in->s, sql);
}

/* Does a gap of @c from seq 0 (a late join, a declared start) hold @seq? */
static bool in_start_gap(struct gw *g, struct chain *c, uint64_t seq)
{
	sqlite3_stmt *st = chain_prep(g, c, "SELECT 1 FROM gap WHERE gw=? AND "
				      "instance=? AND stream=? AND gen=? AND "
				      "first=0 AND last>=?");
	bool yes;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 5, (int64_t)seq);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/*
 * Gap fill (protocol.md "Acks"): the records of @c's gaps that came again
 * (the gateway still held them: the skip was forged) are verified against
 * the chain by a verifier of their own, fed the chain as this node holds
 * it with the kept records in their places: from the last verified
 * checkpoint before the first kept record (its own head: the records
 * appended while it was quoted first), or from the chain's start, to the
 * first seq neither stored nor kept, or until every kept record fed has
 * its verdict.  Kept records inside the chain-start gap above seq 0 (a
 * late join whose earlier records the gateway still held) are fed from the
 * first of them, the fill verifier joining there as the node's own did at
 * its join point: those before the first checkpoint they hold cannot be
 * proven (UNVERIFIABLE, excused, exactly what a node that first saw them
 * would have stored: they move the join point down), the ones after its
 * head chain from it.  A kept record is taken only when that verifier gives
 * it VERIFIED: it links to the records before and after it and a verified
 * checkpoint covers it, exactly as the node's own verifier requires.  It is
 * stored VERIFIED, its gap shrinks (or goes), the chain is acked again
 * (the entry no longer skips it: the gateway can delete it).  Its
 * readings are not stored: rounds do not count filled samples (a round
 * already reported is never recomputed, one to come does not depend on
 * when a fill happened).  A kept record that fails (BAD, UNVERIFIABLE) is
 * refused with the verifier's reason and changes nothing; it and the kept
 * records after it are dropped (the retransmission brings them again).
 * Records still without a verdict (no checkpoint stored after them yet)
 * stay kept.  The node's own verifier, its chain position and its
 * verdicts of stored records are not touched.
 */
static void fill_try(struct gw *g, struct chain *c)
{
	struct ingest *in = g->in;
	struct fillctx x = { .c = c, .bad_seq = -1 };
	struct att_verifier_opts o = {
		.allow_join = true, .allow_lost = true,
		.on_verdict = fill_verdict, .ctx = &x,
	};
	struct att_verifier *v = NULL;
	sqlite3_stmt *st = NULL, *ins = NULL;
	uint64_t p = 0, after = 0, taken = 0, joined = 0, lo = 0, hi = 0;
	size_t i = 0;
	bool row = false;
	int64_t rseq = -1;

	c->fdirty = false;
	if (!c->fn || !c->known)
		return;
	x.state = malloc(c->fn * sizeof(*x.state));
	if (!x.state)
		return;
	for (size_t k = 0; k < c->fn; k++)
		x.state[k] = -1;
	st = chain_prep(g, c, "SELECT seq, data FROM rec WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND type=? AND state=? "
			"AND seq<? ORDER BY seq DESC LIMIT 1");
	if (!st)
		goto out;
	sqlite3_bind_int(st, 5, ATTESTIO_REC_CHECKPOINT);
	sqlite3_bind_int(st, 6, ATT_REC_VERIFIED);
	sqlite3_bind_int64(st, 7, (int64_t)c->fb[0].seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t a = sqlite3_column_int64(st, 0);
		int64_t h = oracle_cp_covers(sqlite3_column_blob(st, 1),
					     (size_t)sqlite3_column_bytes(st, 1));

		p = (uint64_t)(h >= 0 && h < a ? h + 1 : a);
	} else if (c->fb[0].seq > 0 && in_start_gap(g, c, c->fb[0].seq)) {
		p = c->fb[0].seq;	/* nothing below them: join there */
		x.join = true;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (c->fb[0].seq - p > OD_FILL_AFTER_MAX) {
		/* no verified checkpoint near before them: bounded work */
		od_log("gateway %s: stream %u (load %016" PRIx64 " gen %u): seq %"
		       PRIu64 " came again for a skipped seq, but no checkpoint "
		       "this node verified lies within %u records before it: "
		       "not kept", g->reg->conf->id, c->stream, c->instance,
		       c->gen, c->fb[0].seq, OD_FILL_AFTER_MAX);
		in->st.fill_dropped += c->fn;
		fill_drop(g, c, 0);
		goto out;
	}
	o.ak = g->reg->ak;
	o.policy = g->reg->policy;
	o.beacons = fresh_set(in->fresh, &o.nbeacons);
	if (g->reg->kernel_key) {
		o.boots = (const struct att_boot *const *)g->boot;
		o.nboots = OD_MAX_BOOTS;
	}
	v = att_verifier_new(&o);
	st = chain_prep(g, c, "SELECT seq, data FROM rec WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND seq>=? ORDER BY seq");
	if (!v || !st)
		goto out;
	sqlite3_bind_int64(st, 5, (int64_t)p);
	row = sqlite3_step(st) == SQLITE_ROW;
	rseq = row ? sqlite3_column_int64(st, 0) : -1;
	for (;; p++) {
		while (i < c->fn && c->fb[i].seq < p)
			i++;	/* below the feed's start: not fed */
		if (row && rseq == (int64_t)p) {
			att_verifier_feed(v, sqlite3_column_blob(st, 1),
					  (size_t)sqlite3_column_bytes(st, 1),
					  NULL, NULL);
			row = sqlite3_step(st) == SQLITE_ROW;
			rseq = row ? sqlite3_column_int64(st, 0) : -1;
			if (x.fed == c->fn && ++after > OD_FILL_AFTER_MAX)
				break;
		} else if (i < c->fn && c->fb[i].seq == p) {
			struct att_err e = { 0 };

			x.fed = ++i;
			att_verifier_feed(v, c->fb[i - 1].rec, c->fb[i - 1].len,
					  NULL, &e);
			if (x.bad_seq == (int64_t)p && e.code)
				snprintf(x.why, sizeof(x.why), "%s", e.msg);
		} else {
			break;	/* neither stored nor kept: a gap stays */
		}
		if (x.bad_seq >= 0 || (x.fed == c->fn && x.judged == x.fed))
			break;	/* every kept record has its verdict */
	}
	sqlite3_reset(st);
	ins = store_prep(in->s, "INSERT OR IGNORE INTO rec(gw, instance, stream, "
			 "gen, seq, type, state, data, received) "
			 "VALUES(?,?,?,?,?,?,?,?,?)");
	for (size_t k = 0; ins && k < x.fed; k++) {
		const struct fillrec *f = &c->fb[k];
		struct attestio_rec_hdr h;

		if (!fill_taken(&x, k))
			continue;
		memcpy(&h, f->rec, sizeof(h));
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, g->reg->conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, (int64_t)c->instance);
		sqlite3_bind_int64(ins, 3, c->stream);
		sqlite3_bind_int64(ins, 4, c->gen);
		sqlite3_bind_int64(ins, 5, (int64_t)f->seq);
		sqlite3_bind_int(ins, 6, le16toh(h.type));
		sqlite3_bind_int(ins, 7, x.state[k] == ATT_REC_VERIFIED ?
				 ATT_REC_VERIFIED : ATT_REC_UNVERIFIABLE);
		sqlite3_bind_blob(ins, 8, f->rec, (int)f->len, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 9, (int64_t)time(NULL));
		if (sqlite3_step(ins) != SQLITE_DONE || !sqlite3_changes(in->s->db))
			continue;
		gap_take(g, c, f->seq);
		if (x.state[k] == FILL_BEFORE_ANCHOR)
			joined++;
		if (!taken++)
			lo = f->seq;
		hi = f->seq;
	}
	sqlite3_finalize(ins);
	if (taken) {
		char what[400];

		in->st.filled += taken - joined;
		in->st.fill_joined += joined;
		c->gap_last = -2;	/* read again */
		c->refuted = -1;
		c->skip_cut = -1;	/* list from the join point again */
		g->changed = true;	/* re-ack without the skip */
		snprintf(what, sizeof(what), "stream %u (load %016" PRIx64 " gen %u): "
			 "%" PRIu64 " skipped record(s) in seq %" PRIu64 "..%" PRIu64
			 " came again, %" PRIu64 " verified against the chain: gap "
			 "filled (stored, acked; their readings count in no round)%s",
			 c->stream, c->instance, c->gen, taken, lo, hi,
			 taken - joined, joined ? "; the join point moved down "
			 "to the first of them, those before the first checkpoint "
			 "among them stored UNVERIFIABLE, as at a late join" : "");
		od_log("gateway %s: %s", g->reg->conf->id, what);
		store_audit(in->s, "gap-filled", g->reg->conf->id, "%s", what);
	}
	if (x.bad_seq >= 0) {
		char what[500];
		size_t k = 0;

		while (k < c->fn && fill_taken(&x, k))
			k++;
		in->st.fill_refused += c->fn - k;
		snprintf(what, sizeof(what), "stream %u (load %016" PRIx64 " gen %u): "
			 "seq %" PRId64 " came again for a skipped seq but does not "
			 "verify against the chain (%.300s): refused, nothing taken "
			 "from it on", c->stream, c->instance, c->gen, x.bad_seq,
			 x.why);
		od_log("gateway %s: %s", g->reg->conf->id, what);
		store_audit(in->s, "fill-refused", g->reg->conf->id, "%s", what);
		fill_drop(g, c, k);
	}
	/* the taken ones leave the buffer; the rest waits */
	{
		size_t w = 0;

		for (size_t k = 0; k < c->fn; k++) {
			if (fill_taken(&x, k)) {
				g->fill_bytes -= c->fb[k].len;
				free(c->fb[k].rec);
			} else {
				c->fb[w++] = c->fb[k];
			}
		}
		c->fn = w;
	}
out:
	sqlite3_finalize(st);
	att_verifier_free(v);
	free(x.state);
}

/* Has the node's chain (@inst, @stream, @gen) already gone past @last? */
static bool passed(const struct gw *g, uint64_t inst, uint32_t stream,
		   uint32_t gen, uint64_t last)
{
	for (size_t k = 0; k < g->nch; k++) {
		const struct chain *c = &g->ch[k];

		if (c->known && c->instance == inst && c->stream == stream &&
		    c->gen == gen)
			return c->expected > (int64_t)last;
	}
	return false;
}

/*
 * First sight of chain @c (no stored state) at @seq > 0: join now if the
 * gateway declared seqs 0..seq-1 of it gone or released (the chain must be
 * known: a first record that is a sample names no chain); else wait
 * join_period (at least the gateways' retransmit interval: the gateway
 * sends again everything not acked, from its oldest record) and join at
 * the lowest seq seen by then, the next time it comes.  When it has not
 * come again within two more join_periods (the gateway's retransmissions
 * back off, doubling), the gateway no longer holds it (ack_quorum other
 * nodes acked it, the gateway deleted it and sends only new records): join
 * at the record that comes then (review 4 M2).  Records before the join
 * point are noted as a "join" gap; should the gateway still hold some of
 * them, its ack rule keeps them (the entry states from the join point)
 * and sends them again, and they fill the gap (fill_try).
 */
static bool join(struct gw *g, struct chain *c, uint64_t seq)
{
	uint64_t now = (uint64_t)time(NULL);

	if (excused(g, c, 0, seq - 1)) {
		gap_excuse(g, c, 0, seq - 1);
		return true;
	}
	if (!c->join_until) {
		c->join_until = now + g->in->c->join_period_s;
		c->join_low = seq;
		od_log("gateway %s: stream %u first seen at seq %" PRIu64 ": "
		       "waiting %" PRIu64 " s for its earlier records", g->reg->conf->id,
		       c->stream, seq, g->in->c->join_period_s);
		return false;
	}
	if (seq < c->join_low)
		c->join_low = seq;
	if (now < c->join_until || (seq > c->join_low &&
				    now < c->join_until + 2 * g->in->c->join_period_s))
		return false;
	/* the chain may be known by now (a checkpoint came meanwhile) */
	if (excused(g, c, 0, seq - 1))
		gap_excuse(g, c, 0, seq - 1);
	else
		gap_note(g, c, 0, seq - 1, "join");
	return true;
}

static struct gw *gw_of(struct ingest *in, const char *gwid, int *ret);

/* How many holes (@released: released chains) are stored for gateway
 * @gwid; INT64_MAX on error. */
static int64_t query_count(struct ingest *in, const char *gwid, bool released)
{
	sqlite3_stmt *st = store_prep(in->s, released ?
				      "SELECT count(*) FROM released WHERE gw=?" :
				      "SELECT count(*) FROM hole WHERE gw=?");
	int64_t n = INT64_MAX;

	if (!st)
		return n;
	sqlite3_bind_text(st, 1, gwid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * The holes one loss declaration names, stored once (by chain and first),
 * and the chains it declares released, each stored with the highest seq
 * declared (by chain).  Neither for a chain this node has passed them on.
 */
int ingest_loss(struct ingest *in, const char *gwid, const uint8_t *buf,
		size_t len)
{
	static struct oracle_loss l;
	const char *why = NULL;
	uint64_t nnew = 0, nrel = 0;
	sqlite3_stmt *st;
	struct gw *g;
	int ret;

	g = gw_of(in, gwid, &ret);
	if (!g)
		return ret;
	if (!len)
		return 0;	/* a retained declaration cleared */
	if (oracle_loss_parse(buf, len, &l, &why) ||
	    memcmp(l.gw, g->reg->bin, sizeof(l.gw))) {
		in->st.loss_bad++;
		od_log("gateway %s: loss declaration rejected: %s", gwid,
		       why ? why : "it names another gateway");
		return -EBADMSG;
	}
	if (store_begin(in->s))
		return -EIO;
	/* a hole declared again with the same first and a higher last grew
	 * (the gateway's drop-oldest hole, adjacent holes merged): taken,
	 * else a node that stored the first version waits for good for seqs
	 * nobody sends (review 12); a lower last changes nothing.  A forged
	 * growth gives no more than a forged adjacent hole would. */
	st = store_prep(in->s, "INSERT INTO hole VALUES(?,?,?,?,?,?,?) ON "
			"CONFLICT DO UPDATE SET last=excluded.last, "
			"received=excluded.received WHERE excluded.last > last");
	for (size_t i = 0; st && i < l.n; i++) {
		const struct oracle_hole *h = &l.h[i];

		if (passed(g, h->instance, h->stream, h->generation, h->last))
			continue;	/* changes nothing: not stored */
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, gwid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)h->instance);
		sqlite3_bind_int64(st, 3, h->stream);
		sqlite3_bind_int64(st, 4, h->generation);
		sqlite3_bind_int64(st, 5, (int64_t)h->first);
		sqlite3_bind_int64(st, 6, (int64_t)h->last);
		sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
		if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(in->s->db))
			nnew++;
	}
	sqlite3_finalize(st);
	st = store_prep(in->s, "INSERT INTO released VALUES(?,?,?,?,?,?) "
			"ON CONFLICT DO UPDATE SET last=excluded.last, "
			"received=excluded.received WHERE excluded.last > last");
	for (size_t i = 0; st && i < l.nrel; i++) {
		const struct oracle_released *r = &l.rel[i];

		if (passed(g, r->instance, r->stream, r->generation, r->last))
			continue;	/* changes nothing: not stored */
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, gwid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)r->instance);
		sqlite3_bind_int64(st, 3, r->stream);
		sqlite3_bind_int64(st, 4, r->generation);
		sqlite3_bind_int64(st, 5, (int64_t)r->last);
		sqlite3_bind_int64(st, 6, (int64_t)time(NULL));
		if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(in->s->db))
			nrel++;
	}
	sqlite3_finalize(st);
	/* bounded: each message may name 4096 new holes and 4096 released
	 * chains, and whoever can publish on the topic (the gateway, the
	 * broker) may send many */
	if (query_count(in, gwid, false) > OD_MAX_HOLES_GW ||
	    query_count(in, gwid, true) > OD_MAX_HOLES_GW) {
		store_rollback(in->s);
		in->st.loss_bad++;
		od_log("gateway %s: loss declaration rejected: more than %d holes "
		       "or released chains would be stored for the gateway",
		       gwid, OD_MAX_HOLES_GW);
		return -EBADMSG;
	}
	if (store_commit(in->s))
		return -EIO;
	in->st.loss_msgs++;
	in->st.holes_new += nnew;
	in->st.released_new += nrel;
	if (nnew)
		od_log("gateway %s: declares %" PRIu64 " new hole(s) (%zu named)",
		       gwid, nnew, l.n);
	if (nrel)
		od_log("gateway %s: declares %" PRIu64 " chain(s) released further "
		       "(deleted after ack_quorum nodes acked them; %zu named)",
		       gwid, nrel, l.nrel);
	return 0;
}

static void one(struct ingest *in, struct gw *g, const uint8_t *rec, uint32_t len)
{
	struct attestio_rec_hdr h;
	int64_t rowid = 0;
	struct chain *c;
	uint64_t seq;
	uint32_t stream;
	uint16_t type;

	memcpy(&h, rec, sizeof(h));
	type = le16toh(h.type);
	stream = le32toh(h.stream);
	seq = le64toh(h.seq);
	in->st.records++;
	if (le32toh(h.flags) & ATTESTIO_RF_UNCHAINED) {
		sqlite3_stmt *st;
		struct attestio_lost l = { 0 };

		if (len >= sizeof(h) + sizeof(l))
			memcpy(&l, rec + sizeof(h), sizeof(l));
		feed(g, rec, len, 0);
		st = store_prep(in->s, "INSERT INTO lost(gw, records, data) VALUES(?,?,?)");
		if (st) {
			sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (int64_t)le64toh(l.records));
			sqlite3_bind_blob(st, 3, rec, (int)len, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		return;
	}
	if (stream >= ATTESTIO_MAX_STREAMS) {
		in->st.malformed++;
		return;
	}
	c = chain_of(g, rec, len, type, stream);
	if (!c)
		return;
	if (c->expected >= 0 && (int64_t)seq < c->expected) {
		in->st.dups++;
		g->changed = true;	/* re-ack: the gateway may have lost it */
		if ((int64_t)seq <= c->skip_cut)
			c->skip_cut = -1;	/* it did not take the cut ack */
		if (skip_refuted(g, c, seq))
			fill_add(g, c, rec, len, seq);
		return;
	}
	if (c->expected < 0 && seq > 0 && !join(g, c, seq)) {
		in->st.join_wait++;	/* the retransmission brings earlier */
		return;
	}
	if (c->expected >= 0 && (int64_t)seq > c->expected) {
		/* only what the gateway declared gone, seq by seq, or
		 * released */
		if (!excused(g, c, (uint64_t)c->expected, seq - 1)) {
			in->st.out_of_order++;	/* wait for the retransmission */
			reack(g);
			return;
		}
		gap_excuse(g, c, (uint64_t)c->expected, seq - 1);
	}
	c->expected = (int64_t)seq + 1;
	if (q_push(c, seq, 0))
		return;
	sqlite3_reset(in->ins);
	sqlite3_bind_text(in->ins, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->ins, 2, (int64_t)c->instance);
	sqlite3_bind_int64(in->ins, 3, stream);
	sqlite3_bind_int64(in->ins, 4, c->gen);
	sqlite3_bind_int64(in->ins, 5, (int64_t)seq);
	sqlite3_bind_int(in->ins, 6, type);
	sqlite3_bind_blob(in->ins, 7, rec, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(in->ins, 8, (int64_t)time(NULL));
	if (sqlite3_step(in->ins) == SQLITE_DONE && sqlite3_changes(in->s->db)) {
		in->st.stored++;
		rowid = sqlite3_last_insert_rowid(in->s->db);
		if (!c->known && !c->row0)
			c->row0 = rowid;
	}
	feed(g, rec, len, rowid);
}

/* The log's registrations after the first load and key: a second key, a
 * reload, an unload or a failed registration ends kernel-exclusive use. */
static int second_registration(const uint8_t *mlog, size_t len, char *why,
			       size_t cap)
{
	struct att_mlog log;
	struct att_err e = { 0 };
	size_t loads = 0, keys = 0;
	int ret = 0;

	if (att_mlog_parse(mlog, len, &log, &e))
		return 0;	/* att_boot_new() said why */
	for (size_t i = 0; i < log.n && !ret; i++) {
		const struct att_mlog_event *ev = &log.ev[i];
		const char *what = NULL;

		if (ev->type == ATTESTIO_MEV_LOAD && ++loads > 1)
			what = "a second load of the module (reload)";
		else if (ev->type == ATTESTIO_MEV_KEY && ++keys > 1)
			what = "a second key registration";
		else if (ev->type == ATTESTIO_MEV_UNLOAD)
			what = "an unload of the module";
		else if (ev->type == ATTESTIO_MEV_KEY_ERROR)
			what = "a failed key registration";
		if (what) {
			snprintf(why, cap, "evidence: measurement log event %zu "
				 "(load %016" PRIx64 ") is %s: PCR %d no longer "
				 "proves kernel-exclusive key use", i,
				 ev->instance, what, ATTESTIO_MLOG_PCR);
			ret = 1;
		}
	}
	att_mlog_free(&log);
	return ret;
}

/*
 * One evidence message for @g (parsed: @e points into @buf): check the
 * boot (att_boot_new: the log's first load registered a KSK the AK
 * certified), quarantine on a failure or a second registration, keep the
 * boot for the verifier (replacing the same load's older evidence), store
 * it (@fresh) and release a checkpoint held for it.
 */
static void evidence_apply(struct ingest *in, struct gw *g, const uint8_t *buf,
			   size_t len, const struct oracle_evidence *e, bool fresh)
{
	struct att_err err = { 0 };
	struct att_boot *b = NULL;
	char why[512];
	uint64_t inst;
	size_t i;

	if (att_boot_new(g->reg->ak, e->mlog, e->mlog_len,
			 e->pcrs_len ? e->pcrs : NULL, e->pcrs_len, &b, &err)) {
		in->st.evidence_bad++;
		snprintf(why, sizeof(why), "evidence: %.400s", err.msg);
		if (fresh && g->reg->kernel_key)
			registry_quarantine(in->reg, g->reg, why);
		else if (fresh)
			od_log("gateway %s: %s", g->reg->conf->id, why);
		return;
	}
	inst = att_boot_instance(b);
	if (second_registration(e->mlog, e->mlog_len, why, sizeof(why)) &&
	    fresh && g->reg->kernel_key)
		registry_quarantine(in->reg, g->reg, why);
	for (i = 0; i < g->nboot; i++)
		if (att_boot_instance(g->boot[i]) == inst)
			break;
	if (i == OD_MAX_BOOTS) {	/* full: forget the oldest boot */
		att_boot_free(g->boot[0]);
		memmove(g->boot, g->boot + 1, (OD_MAX_BOOTS - 1) * sizeof(g->boot[0]));
		i = OD_MAX_BOOTS - 1;
		g->boot[i] = NULL;
	}
	if (i < g->nboot)
		att_boot_free(g->boot[i]);
	else
		g->nboot = i + 1;
	g->boot[i] = b;
	if (fresh) {
		sqlite3_stmt *st = store_prep(in->s, "INSERT OR REPLACE INTO "
					      "evidence(gw, instance, received, data) "
					      "VALUES(?,?,?,?)");

		in->st.evidence++;
		if (st) {
			sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (int64_t)inst);
			sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
			sqlite3_bind_blob(st, 4, buf, (int)len, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	if (g->held_from && g->held_inst == inst) {
		od_log("gateway %s: evidence for load %016" PRIx64 " arrived: "
		       "held checkpoint released", g->reg->conf->id, inst);
		release(in, g);
	}
}

/* The stored evidence of @g's boots, oldest first. */
static int evidence_load(struct ingest *in, struct gw *g)
{
	sqlite3_stmt *st = store_prep(in->s, "SELECT data FROM evidence WHERE "
				      "gw=? ORDER BY received, rowid");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *buf = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		struct oracle_evidence e;

		if (!oracle_evidence_parse(buf, len, &e, NULL))
			evidence_apply(in, g, buf, len, &e, false);
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * Where chain @c's verifier resumes: @row, its newest verified checkpoint
 * (or its first pending record).  The module appends records while an
 * epoch's quote is taken, so that checkpoint's head may lie before the
 * records just before it: those come first (the checkpoint anchors them
 * and chains from them), and without them the chain stayed pending for
 * good after a restart (review 6).  The row to start at, or -1.
 */
static int64_t resume_row(struct ingest *in, struct gw *g, const struct chain *c,
			  int64_t row)
{
	sqlite3_stmt *st = store_prep(in->s, "SELECT type, state, seq, data "
				      "FROM rec WHERE rowid=?");
	int64_t head = -1, seq = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, row);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == ATTESTIO_REC_CHECKPOINT &&
	    sqlite3_column_int(st, 1) == ATT_REC_VERIFIED) {
		seq = sqlite3_column_int64(st, 2);
		head = oracle_cp_covers(sqlite3_column_blob(st, 3),
				 (size_t)sqlite3_column_bytes(st, 3));
	}
	sqlite3_finalize(st);
	if (head < 0 || head + 1 >= seq)
		return row;
	st = store_prep(in->s, "SELECT min(rowid) FROM rec WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND seq>? AND seq<?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, g->reg->conf->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)c->instance);
	sqlite3_bind_int64(st, 3, c->stream);
	sqlite3_bind_int64(st, 4, c->gen);
	sqlite3_bind_int64(st, 5, head);
	sqlite3_bind_int64(st, 6, seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(st, 0) < row)
		row = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return row;
}

/*
 * Rebuild gateway @g's chains and verifier from the store: chains with
 * their acked frontier and next expected seq; the queue of records not
 * acked yet; the verifier fed again from the earliest last-verified
 * checkpoint of its chains, or from the first pending record of a chain
 * without one (held for evidence: it is held again), records already
 * final keeping their verdict.
 */
static int resume(struct ingest *in, struct gw *g)
{
	const char *id = g->reg->conf->id;
	sqlite3_stmt *st;
	int64_t from = -1;
	uint64_t nrec = 0;

	st = store_prep(in->s, "SELECT c.instance, c.stream, c.gen, c.acked,"
			" (SELECT max(seq) FROM rec r WHERE r.gw=c.gw AND"
			"  r.instance=c.instance AND r.stream=c.stream AND"
			"  r.gen=c.gen),"
			/* (a filled checkpoint came after records with higher
			 * seqs: it is no place to resume from) */
			" coalesce((SELECT r2.rowid FROM rec r2"
			"  WHERE r2.gw=c.gw AND r2.instance=c.instance AND"
			"  r2.stream=c.stream AND r2.gen=c.gen AND r2.type=?"
			"  AND r2.state=0 AND NOT EXISTS (SELECT 1 FROM rec r3"
			"  WHERE r3.gw=c.gw AND r3.instance=c.instance AND"
			"  r3.stream=c.stream AND r3.gen=c.gen AND r3.seq>r2.seq"
			"  AND r3.rowid<r2.rowid) ORDER BY r2.seq DESC LIMIT 1),"
			/* no checkpoint verified yet (held for its evidence, or
			 * never signed): all of the chain's records again */
			"  (SELECT min(rowid) FROM rec r WHERE r.gw=c.gw AND"
			"  r.instance=c.instance AND r.stream=c.stream AND"
			"  r.gen=c.gen AND r.state=1))"
			" FROM chain c WHERE c.gw=? ORDER BY c.rowid");
	if (!st)
		return -EIO;
	sqlite3_bind_int(st, 1, ATTESTIO_REC_CHECKPOINT);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct chain *c = chain_get(g, (uint32_t)sqlite3_column_int64(st, 1),
					    true, (uint64_t)sqlite3_column_int64(st, 0),
					    (uint32_t)sqlite3_column_int64(st, 2));

		if (!c)
			break;
		c->frontier = sqlite3_column_int64(st, 3);
		c->saved = true;
		c->expected = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
			      sqlite3_column_int64(st, 4) + 1;
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			int64_t r = resume_row(in, g, c, sqlite3_column_int64(st, 5));

			if (r < 0) {
				sqlite3_finalize(st);
				return -EIO;
			}
			if (from < 0 || r < from)
				from = r;
		}
		g->cur[c->stream] = (int)(c - g->ch);	/* latest chain wins */
	}
	sqlite3_finalize(st);
	/* The descriptors at the chains' last verified checkpoints (oldest
	 * chain first: a stream's latest chain wins). */
	st = store_prep(in->s, "SELECT d.instance, d.stream, d.gen, d.seq, d.data "
			"FROM chain_desc d JOIN chain c USING(gw, instance, stream, gen) "
			"WHERE d.gw=? ORDER BY c.rowid");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		att_verifier_resume_descriptor(g->v, (uint32_t)sqlite3_column_int64(st, 1),
					       (uint64_t)sqlite3_column_int64(st, 0),
					       (uint32_t)sqlite3_column_int64(st, 2),
					       (uint64_t)sqlite3_column_int64(st, 3),
					       sqlite3_column_blob(st, 4),
					       (size_t)sqlite3_column_bytes(st, 4));
	sqlite3_finalize(st);
	/* v4: each stream's latest chain's segment state, as stored */
	seg_free(g);
	for (int k = 0; k < ATTESTIO_MAX_STREAMS; k++) {
		const struct chain *c = g->cur[k] < 0 ? NULL : &g->ch[g->cur[k]];
		struct store_seg sg;
		int r;

		if (!c)
			continue;
		r = store_seg_state(in->s, id, (int64_t)c->instance, (uint32_t)k,
				    c->gen, INT64_MAX, &sg);
		if (r == -ENOMEM || r == -EIO)
			return r;
		/* seg_note() checks each record's length against its header */
		if (sg.desc)
			seg_note(g, sg.desc, sg.dlen);
		if (sg.cal)
			seg_note(g, sg.cal, sg.clen);
		store_seg_free(&sg);
	}
	/* Records not acked: back in the queue, final if they have a verdict. */
	for (size_t i = 0; i < g->nch; i++) {
		struct chain *c = &g->ch[i];

		st = store_prep(in->s, "SELECT seq, state FROM rec WHERE gw=? AND "
				"instance=? AND stream=? AND gen=? AND seq>? "
				"ORDER BY seq");
		if (!st)
			return -EIO;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)c->instance);
		sqlite3_bind_int64(st, 3, c->stream);
		sqlite3_bind_int64(st, 4, c->gen);
		sqlite3_bind_int64(st, 5, c->frontier);
		while (sqlite3_step(st) == SQLITE_ROW)
			q_push(c, (uint64_t)sqlite3_column_int64(st, 0),
			       sqlite3_column_int(st, 1) != ATT_REC_PENDING);
		sqlite3_finalize(st);
	}
	if (from < 0)
		return 0;
	/* The verifier: stored records again, in arrival order. */
	st = store_prep(in->s, "SELECT data, stream, rowid FROM rec WHERE gw=? "
			"AND rowid>=? ORDER BY rowid");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	g->replaying = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *rec = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		if (len >= (int)sizeof(struct attestio_rec_hdr)) {
			const struct attestio_rec_hdr *h = (const void *)rec;
			struct chain *c = chain_of(g, rec, (uint32_t)len,
						   le16toh(h->type),
						   (uint32_t)sqlite3_column_int(st, 1));

			/* filled records came after higher seqs: they were
			 * never fed to this verifier, and are final */
			if (c && (int64_t)le64toh(h->seq) <= c->replay_last)
				continue;
			if (c)
				c->replay_last = (int64_t)le64toh(h->seq);
			feed(g, rec, (uint32_t)len, sqlite3_column_int64(st, 2));
			nrec++;
		}
	}
	sqlite3_finalize(st);
	g->replaying = false;
	od_log("gateway %s: resumed %zu chains (%" PRIu64 " stored records "
	       "fed again from the last verified checkpoints)", id, g->nch, nrec);
	return 0;
}

/* The feeds' pins of gateway @gi's streams (config checks they agree). */
static void pins_init(struct ingest *in, struct gw *g, int gi)
{
	memset(g->pin_feed, -1, sizeof(g->pin_feed));
	memset(g->type_feed, -1, sizeof(g->type_feed));
	for (int i = 0; i < in->c->nfeeds; i++) {
		const struct od_feed_conf *f = &in->c->feed[i];

		for (size_t k = 0; k < f->nstreams; k++) {
			const struct od_feed_stream *fs = &f->s[k];

			if (fs->gw != gi || fs->stream >= ATTESTIO_MAX_STREAMS ||
			    fs->channel >= ATTESTIO_MAX_CHANNELS)
				continue;
			if (fs->pinned) {
				g->pin_id[fs->stream] = fs->identity;
				g->pin_feed[fs->stream] = (int8_t)i;
			}
			if (f->chan_type >= 0)
				g->type_feed[fs->stream][fs->channel] = (int8_t)i;
		}
	}
}

static void fresh_opts(struct ingest *in, struct att_verifier_opts *o);

/* The gateway's verifier over its AK, its evidence and chains resumed. */
static int gw_verifier(struct ingest *in, struct gw *g)
{
	struct att_verifier_opts o = {
		.allow_join = true, .allow_lost = true,
		.on_verdict = on_verdict, .ctx = g,
	};

	o.ak = g->reg->ak;
	o.policy = g->reg->policy;
	fresh_opts(in, &o);
	if (g->reg->kernel_key) {	/* g->boot fills as evidence comes */
		o.boots = (const struct att_boot *const *)g->boot;
		o.nboots = OD_MAX_BOOTS;
	}
	g->v = att_verifier_new(&o);
	if (!g->v || store_begin(in->s) || evidence_load(in, g) ||
	    resume(in, g) || store_commit(in->s))
		return -EIO;
	return 0;
}

static int byid_cmp(const void *a, const void *b, void *arg)
{
	const struct ingest *in = arg;

	return strcmp(in->gw[*(const int *)a].reg->conf->id,
		      in->gw[*(const int *)b].reg->conf->id);
}

/* Gateway @gwid, by binary search of byid[] (a linear search over 1,000
 * gateways was 2 % of a node's CPU: it runs for every message). */
static struct gw *gw_find(struct ingest *in, const char *gwid)
{
	int lo = 0, hi = in->ngw - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		struct gw *g = &in->gw[in->byid[mid]];
		int c = strcmp(g->reg->conf->id, gwid);

		if (!c)
			return g;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int ingest_admit(struct ingest *in, const char *gwid)
{
	struct gw *g = gw_find(in, gwid);

	if (!g)
		return -ENOENT;
	/* a new AK (rotation): start over from what is stored */
	att_verifier_free(g->v);
	g->v = NULL;
	seg_free(g);
	for (size_t k = 0; k < g->nboot; k++)
		att_boot_free(g->boot[k]);
	memset(g->boot, 0, sizeof(g->boot));
	g->nboot = 0;
	for (size_t k = 0; k < g->nch; k++)
		chain_free(g, &g->ch[k]);
	free(g->ch);
	g->ch = NULL;
	g->nch = g->capch = 0;
	for (int k = 0; k < ATTESTIO_MAX_STREAMS; k++)
		g->cur[k] = -1;
	return gw_verifier(in, g);
}

/*
 * Freshness (fresh.c): the beacon each verified checkpoint covers is
 * classified; a change of a gateway's class to unknown or stale is logged
 * once (none, a gateway without beacons yet, is only counted; with
 * freshness = required the verifier already refused unknown and none).
 */
static void on_beacon(void *ctx, uint32_t stream, uint64_t instance,
		      uint64_t epoch, const uint8_t *beacon)
{
	struct gw *g = ctx;
	int gi = (int)(g - g->in->gw), prev, cls;
	char why[192];

	g->cp_beacon_set = beacon != NULL;
	if (beacon)
		memcpy(g->cp_beacon, beacon, 32);
	prev = fresh_gw(g->in->fresh, gi)->last_class;
	cls = fresh_note(g->in->fresh, gi, beacon, why, sizeof(why));
	if ((cls == FRESH_UNKNOWN || cls == FRESH_STALE) && cls != prev &&
	    !g->replaying)
		od_log("gateway %s: checkpoint epoch %" PRIu64 " (instance %"
		       PRIu64 ", stream %u) %s: %s", g->reg->conf->id, epoch,
		       instance, stream, fresh_class_name(cls), why);
}

static void fresh_opts(struct ingest *in, struct att_verifier_opts *o)
{
	o->beacons = fresh_set(in->fresh, &o->nbeacons);
	o->on_beacon = on_beacon;
}

struct fresh *ingest_fresh(struct ingest *in)
{
	return in->fresh;
}

int ingest_init(struct ingest **ip, const struct od_config *c,
		struct store *s, struct registry *r,
		const struct oracle_signer *signer)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->c = c;
	in->s = s;
	in->reg = r;
	in->signer = signer;
	in->ins = store_prep(s, "INSERT OR IGNORE INTO rec(gw, instance, stream, "
			     "gen, seq, type, state, data, received) "
			     "VALUES(?,?,?,?,?,?,1,?,?)");
	in->upd = store_prep(s, "UPDATE rec SET state=? WHERE gw=? AND "
			     "instance=? AND stream=? AND gen=? AND seq=? AND state=1");
	in->get = store_prep(s, "SELECT data, received FROM rec WHERE gw=? AND "
			     "instance=? AND stream=? AND gen=? AND seq=?");
	in->rd = store_prep(s, "INSERT OR IGNORE INTO reading VALUES(?,?,?,?,?,?,?,?,?)");
	in->chup = store_prep(s, "INSERT OR REPLACE INTO chain VALUES(?,?,?,?,?)");
	in->dsup = store_prep(s, "INSERT OR REPLACE INTO chain_desc VALUES(?,?,?,?,?,?)");
	in->hget = store_prep(s, "SELECT first, last FROM hole WHERE gw=? AND "
			      "instance=? AND stream=? AND gen=? AND last>=? "
			      "ORDER BY first");
	if (!in->ins || !in->upd || !in->get || !in->rd || !in->chup || !in->dsup ||
	    !in->hget || fresh_init(&in->fresh, c, s))
		goto fail;
	for (int i = 0; i < c->ngw; i++) {
		struct gw *g = &in->gw[i];

		g->reg = registry_at(r, i);
		g->in = in;
		for (int k = 0; k < ATTESTIO_MAX_STREAMS; k++)
			g->cur[k] = -1;
		pins_init(in, g, i);
		in->ngw = i + 1;
		if (g->reg->ak && gw_verifier(in, g))	/* else not admitted yet */
			goto fail;
	}
	for (int i = 0; i < in->ngw; i++)
		in->byid[i] = i;
	qsort_r(in->byid, (size_t)in->ngw, sizeof(in->byid[0]), byid_cmp, in);
	*ip = in;
	return 0;
fail:
	ingest_fini(in);
	return -EIO;
}

void ingest_fini(struct ingest *in)
{
	if (!in)
		return;
	for (int i = 0; i < in->ngw; i++) {
		att_verifier_free(in->gw[i].v);
		seg_free(&in->gw[i]);
		for (size_t k = 0; k < in->gw[i].nboot; k++)
			att_boot_free(in->gw[i].boot[k]);
		for (size_t k = 0; k < in->gw[i].nch; k++)
			chain_free(&in->gw[i], &in->gw[i].ch[k]);
		free(in->gw[i].ch);
	}
	sqlite3_finalize(in->ins);
	sqlite3_finalize(in->upd);
	sqlite3_finalize(in->get);
	sqlite3_finalize(in->rd);
	sqlite3_finalize(in->chup);
	sqlite3_finalize(in->dsup);
	sqlite3_finalize(in->hget);
	fresh_fini(in->fresh);
	free(in);
}

/* Advance each chain over final verdicts; persist the frontier. */
static void advance(struct ingest *in, struct gw *g)
{
	for (size_t i = 0; i < g->nch; i++) {
		struct chain *c = &g->ch[i];
		bool moved = false;

		while (c->qn && c->q[c->qh].final) {
			c->frontier = (int64_t)c->q[c->qh].seq;
			c->qh = (c->qh + 1) % c->qcap;
			c->qn--;
			moved = true;
		}
		if (!c->known || (!moved && c->saved))
			continue;
		c->saved = true;
		g->changed |= moved;
		sqlite3_reset(in->chup);
		sqlite3_bind_text(in->chup, 1, g->reg->conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(in->chup, 2, (int64_t)c->instance);
		sqlite3_bind_int64(in->chup, 3, c->stream);
		sqlite3_bind_int64(in->chup, 4, c->gen);
		sqlite3_bind_int64(in->chup, 5, c->frontier);
		sqlite3_step(in->chup);
	}
}

static int make_ack(struct ingest *in, struct gw *g, uint8_t *ack, size_t cap,
		    size_t *acklen);

/* The gateway of a message: NULL (counted) when unknown or revoked. */
static struct gw *gw_of(struct ingest *in, const char *gwid, int *ret)
{
	struct gw *g = gw_find(in, gwid);

	if (!g) {
		in->st.unknown_gw++;
		*ret = -ENOENT;
		return NULL;
	}
	if (!g->v) {	/* enrollment not admitted yet */
		in->st.unadmitted_gw++;
		*ret = -EACCES;
		return NULL;
	}
	if (g->reg->state != GW_REVOKED)
		return g;
	in->st.revoked_gw++;
	*ret = -EPERM;
	return NULL;
}

int ingest_evidence(struct ingest *in, const char *gwid, const uint8_t *buf,
		    size_t len, uint8_t *ack, size_t cap, size_t *acklen)
{
	struct oracle_evidence e;
	const char *why = NULL;
	struct gw *g;
	int ret;

	*acklen = 0;
	g = gw_of(in, gwid, &ret);
	if (!g)
		return ret;
	if (oracle_evidence_parse(buf, len, &e, &why) ||
	    memcmp(e.gw, g->reg->bin, sizeof(e.gw))) {
		in->st.evidence_bad++;
		od_log("gateway %s: evidence rejected: %s", gwid,
		       why ? why : "it names another gateway");
		return -EBADMSG;
	}
	if (store_begin(in->s))
		return -EIO;
	evidence_apply(in, g, buf, len, &e, true);
	advance(in, g);
	if (store_commit(in->s))
		return -EIO;
	return make_ack(in, g, ack, cap, acklen);
}

/*
 * Kept records still without a verdict after OD_FILL_KEEP_S (nothing
 * anchors them: junk the broker sent into a gap, or records of a gap no
 * checkpoint reaches) are dropped, so they cannot hold the gateway's fill
 * budget for good; genuine ones come again with the gateway's
 * retransmission (review 6).
 */
static void fill_expire(struct ingest *in, struct gw *g, uint64_t now)
{
	for (size_t k = 0; k < g->nch; k++) {
		struct chain *c = &g->ch[k];
		size_t n = 0;

		for (size_t i = 0; i < c->fn; i++) {
			if (c->fb[i].at + OD_FILL_KEEP_S > now) {
				c->fb[n++] = c->fb[i];
				continue;
			}
			g->fill_bytes -= c->fb[i].len;
			free(c->fb[i].rec);
			in->st.fill_dropped++;
		}
		c->fn = n;
	}
}

void ingest_tick(struct ingest *in, uint64_t now)
{
	for (int i = 0; i < in->ngw; i++) {
		struct gw *g = &in->gw[i];
		char why[512];

		fill_expire(in, g, now);

		if (!g->held_from || g->held_timed_out ||
		    now < g->held_since + in->c->evidence_timeout_s)
			continue;
		in->st.held_timeout++;
		snprintf(why, sizeof(why), "stream %u seq %" PRIu64 " (checkpoint): "
			 "no evidence: no measurement log of load %016" PRIx64
			 " arrived within %" PRIu64 " s, kernel-exclusive key use "
			 "unproven", g->held_stream, g->held_seq, g->held_inst,
			 in->c->evidence_timeout_s);
		/* quarantined; the records stay held: should the evidence
		 * still come, they are verified (the quarantine stays until
		 * an operator releases the gateway) */
		g->held_timed_out = true;
		if (store_begin(in->s))
			continue;
		registry_quarantine(in->reg, g->reg, why);
		store_commit(in->s);
	}
}

int ingest_message(struct ingest *in, const char *gwid, const uint8_t *buf,
		   size_t len, uint8_t *ack, size_t cap, size_t *acklen)
{
	struct gw *g = NULL;
	struct timespec t0, t1;
	size_t off = 0;
	int ret;

	*acklen = 0;
	g = gw_of(in, gwid, &ret);
	if (!g)
		return ret;
	if (len > 256 * 1024) {
		in->st.oversized++;
		return -EMSGSIZE;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	in->st.messages++;
	if (store_begin(in->s))
		return -EIO;
	while (len - off >= sizeof(struct attestio_rec_hdr)) {
		struct attestio_rec_hdr h;
		uint32_t l;

		memcpy(&h, buf + off, sizeof(h));
		l = le32toh(h.len);
		if (l < sizeof(h) || l > ATTESTIO_REC_MAX_LEN || l > len - off) {
			in->st.malformed++;
			break;	/* malformed batch: the rest is ignored */
		}
		one(in, g, buf + off, l);
		off += l;
	}
	if (off < len && len - off < sizeof(struct attestio_rec_hdr))
		in->st.malformed++;
	for (size_t i = 0; i < g->nch; i++)
		if (g->ch[i].fdirty)
			fill_try(g, &g->ch[i]);
	advance(in, g);
	if (store_commit(in->s))
		return -EIO;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	in->st.latency_us_sum += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
					    (t1.tv_nsec - t0.tv_nsec) / 1000);
	in->st.latency_n++;
	if (in->defer) {		/* one ack for the group's messages */
		g->ack_due = true;
		return 0;
	}
	/* Stored and committed: ack. */
	return make_ack(in, g, ack, cap, acklen);
}

void ingest_defer_acks(struct ingest *in, bool on)
{
	in->defer = on;
}

/*
 * The acks deferred (ingest_defer_acks()): one per gateway that sent
 * messages meanwhile, stating everything they stored, each handed to
 * @out.  A node that has fallen behind takes several messages of every
 * gateway in one group commit; an ack (a secp256k1 signature, a
 * publication, a verification and a spool transaction at the gateway)
 * for each of them was wasted, since the last one states everything.
 * Returns how many acks were made.
 */
size_t ingest_flush_acks(struct ingest *in, void (*out)(void *ctx,
			 const char *gw, const uint8_t *ack, size_t len),
			 void *ctx)
{
	size_t n = 0;

	for (int i = 0; i < in->ngw; i++) {
		struct gw *g = &in->gw[i];
		size_t len = 0;

		if (!g->ack_due)
			continue;
		g->ack_due = false;
		if (make_ack(in, g, in->ackbuf, sizeof(in->ackbuf), &len) || !len)
			continue;
		out(ctx, g->reg->conf->id, in->ackbuf, len);
		n++;
	}
	return n;
}

/*
 * The join point and the skips of ack entry @e (protocol.md "Acks"): the
 * gaps up to upto, oldest first.  With more than ORACLE_ACK_MAX_SKIPS,
 * upto is cut just below the first that does not fit, and the following
 * acks state nothing up to that cut (from = cut + 1), so the next gaps
 * fit.  A record at or below the cut that comes again shows the gateway
 * did not take that ack (it was lost, or a skip was refused): the cut is
 * forgotten (one()) and the gaps are listed from the join point again.
 * Moving from past gaps while the gateway still held records below them
 * wedged the chain for good (review 4).
 */
static void ack_skips(struct gw *g, struct chain *c, struct oracle_ack_entry *e)
{
	struct oracle_ack_skip *sk = e->skip;
	uint32_t n = 0;
	sqlite3_stmt *st;
	int rc;

	e->from = c->skip_cut >= 0 ? (uint64_t)c->skip_cut + 1 : 0;
	e->nskip = 0;
	st = chain_stmt(g, c, "SELECT first, last FROM gap WHERE gw=? AND "
			"instance=? AND stream=? AND gen=? AND last<=? "
			"ORDER BY first");
	if (!st) {
		e->from = e->upto + 1;
		return;
	}
	sqlite3_bind_int64(st, 5, (int64_t)e->upto);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t f = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t l = (uint64_t)sqlite3_column_int64(st, 1);

		if (f > l || l < e->from)
			continue;		/* nothing stated there */
		if (f == 0) {			/* joined at l + 1 */
			e->from = l + 1;
			n = 0;
		} else if (n && f <= sk[n - 1].last + 1) {	/* adjacent */
			if (l > sk[n - 1].last)
				sk[n - 1].last = l;
		} else if (n == ORACLE_ACK_MAX_SKIPS) {
			e->upto = f - 1;	/* the cut: next acks from f */
			c->skip_cut = (int64_t)e->upto;
			break;
		} else {
			if (f < e->from)
				f = e->from;
			sk[n++] = (struct oracle_ack_skip){ f, l };
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e->from = e->upto + 1, n = 0;
	store_done(g->in->s, st);
	e->nskip = n;
	if (oracle_ack_entry_check(e)) {
		e->from = e->upto + 1;
		e->nskip = 0;
	}
}

/* The signed cumulative ack of @g's chains, if anything changed. */
static int make_ack(struct ingest *in, struct gw *g, uint8_t *ack, size_t cap,
		    size_t *acklen)
{
	*acklen = 0;
	if (!g->changed)
		return 0;
	g->changed = false;
	memset(&in->ack, 0, sizeof(in->ack));
	memcpy(in->ack.gw, g->reg->bin, 16);
	for (size_t i = 0; i < g->nch && in->ack.n < ORACLE_ACK_MAX_ENTRIES; i++) {
		struct chain *c = &g->ch[i];
		struct oracle_ack_entry *e;

		if (!c->known || (c->frontier < 0 && c->expected <= 0))
			continue;
		e = &in->ack.e[in->ack.n++];
		*e = (struct oracle_ack_entry){
			.instance = c->instance, .stream = c->stream,
			.generation = c->gen, .upto = (uint64_t)c->frontier };
		if (c->frontier >= 0) {
			ack_skips(g, c, e);
		} else {
			/* records fed, none final yet: an entry that states
			 * nothing (from = upto + 1) but where the node stands,
			 * so a gateway that deleted what it waits for can tell
			 * it is stuck (protocol.md "Released records") */
			e->upto = (uint64_t)c->expected - 1;
			e->from = (uint64_t)c->expected;
		}
	}
	if (!in->ack.n || oracle_ack_sort(&in->ack) ||
	    oracle_ack_sign(&in->ack, in->signer) ||
	    oracle_ack_encode(&in->ack, 0, ack, cap, acklen))
		return *acklen = 0, 0;
	in->st.acks_sent++;
	return 0;
}

void ingest_prune(struct ingest *in, uint64_t now)
{
	sqlite3_stmt *st;
	int64_t cut = (int64_t)(now > in->c->retain_s ? now - in->c->retain_s : 0);

	/* Readings by age; records by age but never at or after a chain's
	 * acked frontier's last verified checkpoint (resume needs them). */
	if (store_begin(in->s))
		return;
	st = store_prep(in->s, "DELETE FROM reading WHERE time_ns < ?");
	if (st) {
		sqlite3_bind_int64(st, 1, cut * 1000000000);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	st = store_prep(in->s, "DELETE FROM rec WHERE received < ? AND seq < "
			"(SELECT coalesce(max(r2.seq), -1) FROM rec r2 WHERE "
			"r2.gw=rec.gw AND r2.instance=rec.instance AND "
			"r2.stream=rec.stream AND r2.gen=rec.gen AND r2.type=? AND "
			"r2.state=0)");
	if (st) {
		sqlite3_bind_int64(st, 1, cut);
		sqlite3_bind_int(st, 2, ATTESTIO_REC_CHECKPOINT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	/* exclusions of records no longer stored */
	store_exec(in->s, "DELETE FROM excluded WHERE NOT EXISTS (SELECT 1 FROM "
		   "rec WHERE rec.gw=excluded.gw AND rec.instance=excluded.instance "
		   "AND rec.stream=excluded.stream AND rec.gen=excluded.gen AND "
		   "rec.seq=excluded.seq)");
	/* resync points no stored record of their chain lies below, and
	 * whose gap is gone (filled): while it is open a fill can still
	 * bring records below the point (a join gap has none stored until
	 * then), and the bundle's segment must still start there (review 7) */
	store_exec(in->s, "DELETE FROM resync WHERE NOT EXISTS (SELECT 1 FROM "
		   "rec WHERE rec.gw=resync.gw AND rec.instance=resync.instance "
		   "AND rec.stream=resync.stream AND rec.gen=resync.gen AND "
		   "rec.seq<resync.seq) AND NOT EXISTS (SELECT 1 FROM gap WHERE "
		   "gap.id=resync.gap)");
	/* release declarations not used within retain (the gateway declares
	 * again to a node it finds stuck) */
	st = store_prep(in->s, "DELETE FROM released WHERE received < ?");
	if (st) {
		sqlite3_bind_int64(st, 1, cut);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	st = store_prep(in->s, "DELETE FROM bundle WHERE time < ?");
	if (st) {
		sqlite3_bind_int64(st, 1, cut);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	store_commit(in->s);
}

const struct ingest_stats *ingest_stats(const struct ingest *in)
{
	return &in->st;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The record verifier.  It fails closed: a record is VERIFIED only when it
 * was chained from an anchor (a stream's genesis, or a checkpoint's signed
 * head for its own stream) record by record, and a checkpoint whose TPM
 * quote verified signs a head at or after it.  Every other record gets one
 * of PENDING, UNSIGNED, UNVERIFIABLE, BAD or LOCAL, counted, and absent
 * records are reported as MISSING with their exact range.  The rules are
 * in Documentation/wire-format.md ("Verification rules").
 *
 * Work is linear in the input and memory is bounded: per stream, the heads
 * of the chained records no verified checkpoint covers yet (a ring) and,
 * while a stream has no anchor, its records themselves (a ring bounded in
 * bytes).
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "internal.h"
#include "verify_internal.h"

/* ---------------------------------------------------------- verdicts --- */

static void att_verdict(struct att_verifier *v, uint32_t stream, uint64_t seq,
			uint64_t count, uint16_t type, enum att_rec_state st,
			enum att_cause cause, bool excused, int code,
			const char *why)
{
	struct att_summary *s = &v->sum;
	uint64_t smp = type == ATTESTIO_REC_SAMPLE;

	switch (st) {
	case ATT_REC_VERIFIED:
		s->records_verified++;
		s->samples_verified += smp;
		break;
	case ATT_REC_PENDING:
		s->records_pending++;
		s->samples_pending += smp;
		break;
	case ATT_REC_UNSIGNED:
		s->records_unsigned++;
		s->samples_unsigned += smp;
		break;
	case ATT_REC_LOCAL:
		s->records_local++;
		break;
	case ATT_REC_BAD:
		s->records_bad++;
		s->samples_bad += smp;
		break;
	case ATT_REC_UNVERIFIABLE:
		s->records_unverifiable++;
		s->samples_unverifiable += smp;
		s->unverifiable_excused += excused;
		break;
	case ATT_REC_MISSING:
		if (cause == ATT_CAUSE_WITHHELD) {
			s->withheld += count;
		} else {
			s->missing += count;
			if (excused)
				s->missing_excused += count;
		}
		break;
	}
	if (st != ATT_REC_MISSING && v->cur_set && stream == v->cur_stream &&
	    seq == v->cur_seq)
		v->cur_state = st;
	if (v->o.on_verdict) {
		struct att_verdict vd = {
			.stream = stream, .seq = seq, .count = count,
			.type = type, .state = st, .cause = cause,
			.excused = excused, .code = code, .why = why,
		};

		if (v->vd_chain) {
			vd.have_chain = true;
			vd.instance = v->s[stream].instance;
			vd.generation = v->s[stream].generation;
		}
		/* att_verifier_descriptor() answers for this record now */
		v->in_verdict = true;
		v->vd_stream = stream;
		v->o.on_verdict(v->o.ctx, &vd);
		v->in_verdict = false;
	}
}

static void att_dsnap_put(struct att_dsnap *p)
{
	if (p && !--p->ref)
		free(p);
}

/* The verdict of a chained record: with the descriptor it was chained under. */
static void att_hent_verdict(struct att_verifier *v, uint32_t stream,
			     const struct att_hent *e, enum att_rec_state st,
			     enum att_cause cause, bool excused, int code,
			     const char *why)
{
	v->vd_ds = e->ds;
	v->vd_chain = true;	/* the map holds the stream's chain only */
	att_verdict(v, stream, e->seq, 1, e->type, st, cause, excused, code,
		    why);
	v->vd_chain = false;
	v->vd_ds = NULL;
}

/* Remember a problem (feed error); returns @code. */
static int att_problem(struct att_verifier *v, int code)
{
	v->sum.errors++;
	if (!v->sum.first_error)
		v->sum.first_error = code;
	return code;
}

/* --------------------------------------------------- chained records --- */

static struct att_hent *att_map_find(struct att_vstream *s, uint64_t seq)
{
	struct att_hent *f = vring_front(&s->map);

	if (!f || seq < f->seq || seq - f->seq >= s->map.n)
		return NULL;
	return vring_at(&s->map, (size_t)(seq - f->seq));
}

/* The head after record @seq, if still known. */
static const uint8_t *att_head_at(struct att_vstream *s, uint64_t seq)
{
	const struct att_hent *e = att_map_find(s, seq);

	if (e)
		return e->head;
	if (s->have_last_cov && seq == s->last_cov_seq)
		return s->last_cov_head;
	return NULL;
}

static void att_map_pop(struct att_vstream *s)
{
	const struct att_hent *e = vring_front(&s->map);

	s->have_last_cov = true;
	s->last_cov_seq = e->seq;
	memcpy(s->last_cov_head, e->head, ATTESTIO_HASH_LEN);
	att_dsnap_put(e->ds);
	vring_pop(&s->map);
	if (s->unsig_n)
		s->unsig_n--;
}

/* A verified head at @upto: every chained record up to it is VERIFIED. */
static void att_cover_verified(struct att_verifier *v, struct att_vstream *s,
			       uint32_t stream, uint64_t upto)
{
	struct att_hent *e;

	while ((e = vring_front(&s->map)) && e->seq <= upto) {
		if (!e->done)
			att_hent_verdict(v, stream, e, ATT_REC_VERIFIED,
					 ATT_CAUSE_NONE, false, 0, NULL);
		att_map_pop(s);
	}
	if (!s->have_verified || upto > s->verified_upto) {
		s->have_verified = true;
		s->verified_upto = upto;
	}
}

/* An unsigned checkpoint covers records up to @upto (provisionally). */
static void att_cover_unsigned(struct att_vstream *s, uint64_t upto)
{
	struct att_hent *e;

	while (s->unsig_n < s->map.n &&
	       (e = vring_at(&s->map, s->unsig_n))->seq <= upto) {
		e->unsig = 1;
		s->unsig_n++;
	}
}

/*
 * The chain cannot be continued: undecided records get their final
 * verdict.  Records an unsigned checkpoint covered are UNSIGNED; the others
 * @st (UNVERIFIABLE, or PENDING when the chain simply ended).
 */
static void att_chain_end(struct att_verifier *v, struct att_vstream *s,
			  uint32_t stream, enum att_rec_state st,
			  enum att_cause cause, bool excused, int code,
			  const char *why)
{
	struct att_hent *e;

	while ((e = vring_front(&s->map))) {
		if (!e->done) {
			if (e->unsig)
				att_hent_verdict(v, stream, e, ATT_REC_UNSIGNED,
						 ATT_CAUSE_NONE, false, 0, NULL);
			else
				att_hent_verdict(v, stream, e, st, cause,
						 excused, code, why);
		}
		att_dsnap_put(e->ds);
		vring_pop(&s->map);
	}
	s->unsig_n = 0;
	s->have_last_cov = false;
	s->have_cov = false;
}

/* Append a chained record (its head is s->head). */
static int att_map_add(struct att_verifier *v, struct att_vstream *s,
		       uint32_t stream, uint64_t seq, uint16_t type, bool done,
		       bool unsig)
{
	struct att_hent *e;

	/* make room: records only unsigned checkpoints cover are final */
	while (s->map.n >= ATT_MAP_MAX && s->unsig_n) {
		e = vring_front(&s->map);
		if (!e->done)
			att_hent_verdict(v, stream, e, ATT_REC_UNSIGNED,
					 ATT_CAUSE_NONE, false, 0, NULL);
		att_map_pop(s);
	}
	if (s->map.n >= ATT_MAP_MAX)
		return -1;
	e = vring_push(&s->map);
	if (!e)
		return -1;
	e->seq = seq;
	memcpy(e->head, s->head, ATTESTIO_HASH_LEN);
	e->type = type;
	e->done = done;
	e->unsig = unsig;
	e->ds = s->ds;
	if (e->ds)
		e->ds->ref++;
	e->closed = s->seg_known && !s->seg_open;
	/* (a resume hint's descriptor has no state) */
	e->sknown = e->closed || (s->seg_known && s->ds && s->ds->have_state);
	if (unsig)
		s->unsig_n = s->map.n;
	return 0;
}

/* The state digest (v4) of no open segment: all-zero hashes. */
static void att_state_none(uint8_t out[ATTESTIO_HASH_LEN])
{
	static const struct attestio_seg_state none;

	attestio_seg_state_digest(out, &none);
}

/*
 * The segment state after chained record @seq, when the verifier knows it
 * (it followed the segment's descriptor and calib records, or took them
 * from a signed head); false otherwise.
 */
static bool att_state_at(struct att_vstream *s, uint64_t seq,
			 uint8_t out[ATTESTIO_HASH_LEN])
{
	const struct att_hent *e = att_map_find(s, seq);

	if (!e || !e->sknown)
		return false;
	if (e->closed)
		att_state_none(out);
	else
		memcpy(out, e->ds->state, ATTESTIO_HASH_LEN);
	return true;
}

/* ---------------------------------------------- records while unanchored --- */

static void att_brec_verdict(struct att_verifier *v, struct att_vstream *s,
			     uint32_t stream, const struct att_brec *b,
			     enum att_rec_state st)
{
	static const char *const why[] = {
		[ATT_CAUSE_JOIN] = "before the stream's first anchor (the input starts mid-chain)",
		[ATT_CAUSE_HOLE] = "next to a sequence hole, before a checkpoint re-anchored the chain",
		[ATT_CAUSE_BROKEN] = "the chain broke before a checkpoint re-anchored it",
	};

	if (b->done)
		return;
	if (st == ATT_REC_PENDING)
		att_verdict(v, stream, b->seq, 1, b->type, st, ATT_CAUSE_NONE,
			    false, 0, "no checkpoint anchors it (yet)");
	else
		att_verdict(v, stream, b->seq, 1, b->type, st, s->seek_cause,
			    s->seek_excused, s->seek_code,
			    s->seek_cause < sizeof(why) / sizeof(why[0]) ?
			    why[s->seek_cause] : NULL);
}

static void att_buf_pop(struct att_vstream *s)
{
	struct att_brec *b = vring_front(&s->buf);

	s->buf_bytes -= b->len;
	free(b->rec);
	vring_pop(&s->buf);
}

/* Drop buffered records with seq <= @upto (all: UINT64_MAX) as @st. */
static void att_buf_drop(struct att_verifier *v, struct att_vstream *s,
			 uint32_t stream, uint64_t upto, enum att_rec_state st)
{
	struct att_brec *b;

	while ((b = vring_front(&s->buf)) && b->seq <= upto) {
		att_brec_verdict(v, s, stream, b, st);
		att_buf_pop(s);
	}
}

static int att_buf_add(struct att_verifier *v, struct att_vstream *s,
		       const uint8_t *rec, const struct attestio_rec_info *ri,
		       bool done)
{
	struct att_brec *b;
	uint8_t *copy;

	/* the oldest can no longer be anchored */
	while (s->buf.n && s->buf_bytes + ri->len > ATT_SEEK_MAX_BYTES) {
		att_brec_verdict(v, s, ri->stream, vring_front(&s->buf),
				 ATT_REC_UNVERIFIABLE);
		att_buf_pop(s);
	}
	copy = malloc(ri->len);
	if (!copy)
		return -1;
	b = vring_push(&s->buf);
	if (!b) {
		free(copy);
		return -1;
	}
	memcpy(copy, rec, ri->len);
	b->rec = copy;
	b->len = ri->len;
	b->seq = ri->seq;
	b->type = ri->type;
	b->done = done;
	s->buf_bytes += ri->len;
	return 0;
}

/* The stream loses its anchor: wait for a checkpoint to re-anchor it. */
static void att_unanchor(struct att_vstream *s, enum att_cause cause,
			 bool excused, int code)
{
	s->state = ATT_S_SEEK;
	s->seek_cause = cause;
	s->seek_excused = excused;
	s->seek_code = code;
}

/* ------------------------------------------------------- freshness --- */

bool att_time_after(const struct att_tpmtime *a, const struct att_tpmtime *b)
{
	if (a->reset != b->reset)
		return a->reset > b->reset;
	if (a->restart != b->restart)
		return a->restart > b->restart;
	return a->clock > b->clock;
}

/*
 * Freshness of a verified quote.  Per stream, each quote is later in TPM
 * time (reset count, restart count, clock) than the stream's previous one;
 * one epoch of one instance has one quote, in whatever stream it appears;
 * and with a state file, nothing is older than what an earlier run saw.
 */
static int att_fresh_check(struct att_verifier *v, struct att_vstream *s,
			   const struct attestio_rec_info *ri,
			   const struct att_cp *c,
			   const struct att_quote_info *qi,
			   const uint8_t *attest, size_t attest_len,
			   struct att_err *err)
{
	struct att_tpmtime t = {
		.have = true, .reset = qi->reset_count,
		.restart = qi->restart_count, .clock = qi->clock,
	};
	uint8_t h[SHA256_DIGEST_LENGTH];
	int ret;

	SHA256(attest, attest_len, h);
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		const struct att_vstream *o = &v->s[i];

		if (o->have_q && o->q_instance == c->instance &&
		    o->q_epoch == c->epoch && memcmp(o->q_hash, h, sizeof(h)))
			return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
					"checkpoint epoch %llu: stream %d already showed a different quote for this epoch",
					(unsigned long long)c->epoch, i);
	}
	if (s->t.have && !att_time_after(&t, &s->t))
		return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
				"checkpoint epoch %llu: TPM time (reset %u, restart %u, clock %llu ms) is not after this stream's previous quote (reset %u, restart %u, clock %llu ms)",
				(unsigned long long)c->epoch, t.reset,
				t.restart, (unsigned long long)t.clock,
				s->t.reset, s->t.restart,
				(unsigned long long)s->t.clock);
	ret = att_state_check(v, ri, c, &t, h, err);
	if (ret)
		return ret;
	if (s->t.have && t.reset > s->t.reset)
		v->sum.events |= ATT_EV_REBOOT;
	else if (s->t.have && t.restart > s->t.restart)
		v->sum.events |= ATT_EV_RESTART;
	s->t = t;
	s->have_q = true;
	s->q_instance = c->instance;
	s->q_epoch = c->epoch;
	memcpy(s->q_hash, h, sizeof(h));
	att_state_note(v, ri->stream, c->instance, c->epoch, &t, h);
	return 0;
}

/* ----------------------------------------------- withheld and claims --- */

/* Records a verified quote proves to exist but the chain never reached. */
static void att_sig_report(struct att_verifier *v, uint32_t id,
			   const struct att_signed *g)
{
	uint64_t first = g->have_seen ? g->seen_max + 1 : 0;

	if (first <= g->signed_max)
		att_verdict(v, id, first, g->signed_max - first + 1, 0,
			    ATT_REC_MISSING, ATT_CAUSE_WITHHELD, !v->o.complete,
			    ATT_ESEQ,
			    "withheld: a verified quote signs a head at or after these records");
}

/* The entry of chain (@instance, @gen) of @s; made if @make (the oldest
 * entry is reported and dropped when the table is full). */
static struct att_signed *att_sig(struct att_verifier *v,
				  struct att_vstream *s, uint32_t id,
				  uint64_t instance, uint32_t gen, bool make)
{
	struct att_signed *g;

	for (unsigned int i = 0; i < s->nsig; i++)
		if (s->sig[i].instance == instance && s->sig[i].generation == gen)
			return &s->sig[i];
	if (!make)
		return NULL;
	if (s->nsig == ATT_SIGNED_CHAINS) {
		att_sig_report(v, id, &s->sig[0]);
		memmove(s->sig, s->sig + 1, --s->nsig * sizeof(s->sig[0]));
	}
	g = &s->sig[s->nsig++];
	memset(g, 0, sizeof(*g));
	g->instance = instance;
	g->generation = gen;
	return g;
}

static void att_sig_seen(struct att_signed *g, uint64_t seq)
{
	if (!g->have_seen || seq > g->seen_max) {
		g->have_seen = true;
		g->seen_max = seq;
	}
}

/*
 * After each record: note how far the chain got, and check a head another
 * stream's quote signed once the chain reaches it (it covers the chain, or
 * proves it was altered).
 */
static void att_after_record(struct att_verifier *v, struct att_vstream *s,
			     uint32_t id)
{
	struct att_signed *g;
	const uint8_t *h;

	if (s->state != ATT_S_CHAINED || !s->next_seq)
		return;
	g = att_sig(v, s, id, s->instance, s->generation, false);
	if (!g)
		return;
	att_sig_seen(g, s->next_seq - 1);
	if (!g->have_claim || s->next_seq <= g->claim_seq)
		return;
	g->have_claim = false;
	if (s->have_verified && g->claim_seq <= s->verified_upto)
		return;
	h = att_head_at(s, g->claim_seq);
	if (!h)
		return;		/* before this chain's anchor */
	if (!memcmp(h, g->claim_head, ATTESTIO_HASH_LEN)) {
		att_cover_verified(v, s, id, g->claim_seq);
		return;
	}
	att_problem(v, ATT_ECHAIN);
	att_chain_end(v, s, id, ATT_REC_UNVERIFIABLE, ATT_CAUSE_BROKEN, false,
		      ATT_ECHAIN,
		      "a quote of another stream signs a different head for this chain");
	att_unanchor(s, ATT_CAUSE_BROKEN, false, ATT_ECHAIN);
}

/* ------------------------------------------------------ checkpoints --- */

/* Record already validated: offsets are within it. */
static void att_cp_decode(const uint8_t *rec, struct att_cp *c)
{
	c->cp = (const void *)(rec + ATTESTIO_HDR_LEN);
	c->n = le16_to_cpu(c->cp->nheads);
	c->self = le16_to_cpu(c->cp->self);
	attestio_cp_layout(c->n, le16_to_cpu(c->cp->attest_len),
			   le16_to_cpu(c->cp->sig_len), &c->lay);
	c->heads = (const void *)(rec + c->lay.heads);
	c->epoch = le64_to_cpu(c->cp->epoch);
	c->instance = le64_to_cpu(c->cp->instance);
	c->hseq = le64_to_cpu(c->heads[c->self].seq);
	c->hgen = le32_to_cpu(c->heads[c->self].generation);
	c->hhead = c->heads[c->self].head;
	c->hstate = c->heads[c->self].state;
}

/*
 * A verified quote signs the heads of every stream of its epoch.  For the
 * other streams: remember how far each provably goes (withheld records),
 * and where a stream's chain already reached that head, the head must match
 * and covers it.
 */
static void att_other_heads(struct att_verifier *v, const struct att_cp *c)
{
	for (unsigned int i = 0; i < c->n; i++) {
		uint32_t id = le32_to_cpu(c->heads[i].stream);
		uint64_t seq = le64_to_cpu(c->heads[i].seq);
		uint32_t gen = le32_to_cpu(c->heads[i].generation);
		struct att_vstream *o = &v->s[id];
		bool same = o->state == ATT_S_CHAINED &&
			    o->instance == c->instance && o->generation == gen;
		struct att_signed *g;
		const uint8_t *h;

		g = att_sig(v, o, id, c->instance, gen, true);
		if (seq > g->signed_max)
			g->signed_max = seq;
		if (same && o->next_seq)
			att_sig_seen(g, o->next_seq - 1);
		if (i == c->self || (same && o->have_verified &&
				     seq <= o->verified_upto))
			continue;
		if (!same || seq >= o->next_seq) {
			/* not reached yet: check it when the chain gets there */
			if (!g->have_claim || seq > g->claim_seq) {
				g->have_claim = true;
				g->claim_seq = seq;
				memcpy(g->claim_head, c->heads[i].head,
				       ATTESTIO_HASH_LEN);
			}
			continue;
		}
		h = att_head_at(o, seq);
		if (!h)
			continue;	/* before the anchor */
		if (!memcmp(h, c->heads[i].head, ATTESTIO_HASH_LEN)) {
			att_cover_verified(v, o, id, seq);
			continue;
		}
		att_problem(v, ATT_ECHAIN);
		att_chain_end(v, o, id, ATT_REC_UNVERIFIABLE, ATT_CAUSE_BROKEN,
			      false, ATT_ECHAIN,
			      "a quote of another stream signs a different head for this chain");
		att_unanchor(o, ATT_CAUSE_BROKEN, false, ATT_ECHAIN);
	}
}

/*
 * Everything about checkpoint @rec: chain position (unless @anchor: the
 * stream's head is taken from it), instance, per-stream epoch order, epoch
 * digest, quote, freshness, policy.  Returns 0 with *unsig set for a
 * structurally sound unsigned checkpoint; 0 for a verified one, whose
 * coverage is then applied; else an error.
 */
/* The boot whose module load is @instance, or NULL. */
static const struct att_boot *att_boot_of(const struct att_verifier *v,
					  uint64_t instance)
{
	for (size_t i = 0; i < v->o.nboots; i++)
		if (v->o.boots[i] && att_boot_instance(v->o.boots[i]) == instance)
			return v->o.boots[i];
	return NULL;
}

static bool att_beacon_zero(const uint8_t *b)
{
	for (size_t i = 0; i < ATTESTIO_HASH_LEN; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * The beacon a verified quote covers (v3): reported, and with an expected
 * set given it must be one of them.  An all-zero value covers none.
 */
static int att_beacon_check(struct att_verifier *v,
			    const struct attestio_rec_info *ri,
			    const struct att_cp *c, struct att_err *err)
{
	const uint8_t *b = c->cp->beacon;
	bool none = att_beacon_zero(b), known = false;

	for (size_t i = 0; !none && i < v->o.nbeacons; i++)
		known |= !memcmp(v->o.beacons[i], b, ATTESTIO_HASH_LEN);
	if (v->o.nbeacons && none)
		return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
				"checkpoint epoch %llu covers no oracle beacon, so nothing proves when it was quoted",
				(unsigned long long)c->epoch);
	if (v->o.nbeacons && !known)
		return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
				"checkpoint epoch %llu covers beacon %02x%02x%02x%02x... that is not one the oracle network issued",
				(unsigned long long)c->epoch, b[0], b[1], b[2],
				b[3]);
	if (!none)
		v->sum.checkpoints_beacon++;
	if (v->o.on_beacon)
		v->o.on_beacon(v->o.ctx, ri->stream, c->instance, c->epoch,
			       none ? NULL : b);
	return 0;
}

static int att_checkpoint(struct att_verifier *v, struct att_vstream *s,
			  const uint8_t *rec, const struct attestio_rec_info *ri,
			  const struct att_cp *c, bool anchor, bool *unsig,
			  struct att_err *err)
{
	uint8_t digest[ATTESTIO_HASH_LEN];
	struct att_quote_info qi, pol;
	struct att_err qerr;
	const uint8_t *h;
	uint32_t status = le32_to_cpu(c->cp->status);
	int ret;

	*unsig = false;
	if (c->hseq >= ri->seq)
		return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
				"checkpoint heads[self].seq %llu is not before the checkpoint",
				(unsigned long long)c->hseq);
	if (!anchor) {
		if (c->instance != s->instance || c->hgen != s->generation)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"checkpoint is for chain %016llx/%u, the stream's chain is %016llx/%u (instance/generation)",
					(unsigned long long)c->instance, c->hgen,
					(unsigned long long)s->instance,
					s->generation);
		if (s->have_cov && c->hseq <= s->cov)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"checkpoint covers seq %llu, but an earlier checkpoint already covered up to seq %llu",
					(unsigned long long)c->hseq,
					(unsigned long long)s->cov);
		h = att_head_at(s, c->hseq);
		if (!h)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"checkpoint heads[self].seq %llu is not a record of the chain",
					(unsigned long long)c->hseq);
		if (memcmp(h, c->hhead, ATTESTIO_HASH_LEN))
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"head after seq %llu differs from the recomputed chain (a record up to seq %llu was altered, dropped or reordered)",
					(unsigned long long)c->hseq,
					(unsigned long long)c->hseq);
		if (att_state_at(s, c->hseq, digest) &&
		    memcmp(digest, c->hstate, ATTESTIO_HASH_LEN))
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"segment state after seq %llu differs from the chain's descriptor and calib records",
					(unsigned long long)c->hseq);
		if (s->have_epoch && c->epoch <= s->last_epoch)
			return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
					"checkpoint epoch %llu is not after this stream's previous checkpoint epoch %llu",
					(unsigned long long)c->epoch,
					(unsigned long long)s->last_epoch);
	}
	if (status != ATTESTIO_CP_SIGNED) {
		if (c->cp->attest_len || c->cp->sig_len)
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"unsigned checkpoint epoch %llu carries quote bytes",
					(unsigned long long)c->epoch);
		*unsig = true;
		return 0;
	}
	if (le32_to_cpu(c->cp->tpm_rc))
		return att_rerr(err, ATT_EQUOTE, ri->stream, ri->seq,
				"checkpoint epoch %llu is signed but has tpm_rc %d",
				(unsigned long long)c->epoch,
				(int)le32_to_cpu(c->cp->tpm_rc));
	if (!v->o.ak)
		return att_rerr(err, ATT_EKEY, ri->stream, ri->seq,
				"checkpoint epoch %llu is signed but no attestation key was given",
				(unsigned long long)c->epoch);
	attestio_epoch_digest(digest, c->instance, c->epoch, c->cp->beacon,
			      c->heads, c->n);
	if (v->o.nboots) {
		const struct att_boot *b = att_boot_of(v, c->instance);

		if (!b)
			return att_rerr(err, ATT_EKEY, ri->stream, ri->seq,
					"checkpoint epoch %llu: no measurement log given registers a kernel session key for instance %016llx",
					(unsigned long long)c->epoch,
					(unsigned long long)c->instance);
		ret = att_boot_quote(b, c->instance, rec + c->lay.attest,
				     c->lay.sig - c->lay.attest,
				     rec + c->lay.sig, c->lay.end - c->lay.sig,
				     digest, sizeof(digest), &qi, &pol, &qerr);
	} else if (att_key_certify_only(v->o.ak)) {
		return att_rerr(err, ATT_EKEY, ri->stream, ri->seq,
				"checkpoint epoch %llu: the AK is certify-only (it never quotes); the module's kernel session key signed this quote: give the gateway's measurement log to verify it",
				(unsigned long long)c->epoch);
	} else {
		ret = att_quote_verify(v->o.ak, rec + c->lay.attest,
				       c->lay.sig - c->lay.attest,
				       rec + c->lay.sig, c->lay.end - c->lay.sig,
				       digest, sizeof(digest), &qi, &qerr);
		pol = qi;
	}
	if (ret)
		return att_rerr(err, ret, ri->stream, ri->seq,
				"checkpoint epoch %llu: %s",
				(unsigned long long)c->epoch, qerr.msg);
	if (qi.pcr_select != le32_to_cpu(c->cp->pcr_mask))
		return att_rerr(err, ATT_EQUOTE, ri->stream, ri->seq,
				"checkpoint epoch %llu: pcr_mask 0x%06x but the quote selects SHA-256 PCRs 0x%06x",
				(unsigned long long)c->epoch,
				le32_to_cpu(c->cp->pcr_mask), qi.pcr_select);
	ret = att_policy_check(v->o.policy, &pol, &qerr);
	if (ret)
		return att_rerr(err, ret, ri->stream, ri->seq,
				"checkpoint epoch %llu: %s",
				(unsigned long long)c->epoch, qerr.msg);
	ret = att_fresh_check(v, s, ri, c, &qi, rec + c->lay.attest,
			      c->lay.sig - c->lay.attest, err);
	return ret ? ret : att_beacon_check(v, ri, c, err);
}

/* ---------------------------------------------------------- records --- */

static struct att_dsnap *att_dsnap_new(const void *d, size_t n)
{
	struct att_dsnap *p = malloc(sizeof(*p) + n);

	if (!p)
		return NULL;
	p->ref = 1;
	p->len = n;
	p->have_state = false;
	memset(&p->seg, 0, sizeof(p->seg));
	memset(p->state, 0, sizeof(p->state));
	memcpy(att_dsnap_desc(p), d, n);
	return p;
}

/* A descriptor record's snapshot with its segment state (v4). */
static struct att_dsnap *att_dsnap_rec(const uint8_t *rec)
{
	const struct attestio_rec_hdr *h = (const void *)rec;
	const struct attestio_descriptor *d = (const void *)(rec + ATTESTIO_HDR_LEN);
	struct att_dsnap *p = att_dsnap_new(d, sizeof(*d) +
					    le16_to_cpu(d->nchannels) *
					    sizeof(struct attestio_channel));

	if (!p)
		return NULL;
	attestio_seg_state_note(&p->seg, ATTESTIO_REC_DESCRIPTOR, rec,
				le32_to_cpu(h->len));
	attestio_seg_state_digest(p->state, &p->seg);
	p->have_state = true;
	return p;
}

/* Apply calib record @rec (checked against @p's descriptor) to @p. */
static void att_dsnap_calib(struct att_dsnap *p, const uint8_t *rec)
{
	const struct attestio_rec_hdr *h = (const void *)rec;
	const struct attestio_calib *cal = (const void *)(rec + ATTESTIO_HDR_LEN);
	const struct attestio_calib_chan *cc = (const void *)(cal + 1);
	struct attestio_descriptor *sd = att_dsnap_desc(p);

	for (unsigned int i = 0; i < le16_to_cpu(cal->nchannels); i++) {
		sd->chan[i].scale_type = cc[i].scale_type;
		sd->chan[i].scale_val = cc[i].scale_val;
		sd->chan[i].scale_val2 = cc[i].scale_val2;
		sd->chan[i].offset_type = cc[i].offset_type;
		sd->chan[i].offset_val = cc[i].offset_val;
		sd->chan[i].offset_val2 = cc[i].offset_val2;
	}
	if (p->have_state) {
		attestio_seg_state_note(&p->seg, ATTESTIO_REC_CALIB, rec,
					le32_to_cpu(h->len));
		attestio_seg_state_digest(p->state, &p->seg);
	}
}

static int att_set_desc(struct att_vstream *s, const uint8_t *rec)
{
	const struct attestio_descriptor *d = (const void *)(rec + ATTESTIO_HDR_LEN);
	struct att_dsnap *copy = att_dsnap_rec(rec);

	if (!copy)
		return -1;
	att_dsnap_put(s->ds);
	s->ds = copy;
	s->seg_known = true;
	s->seg_open = true;
	s->seg_hint = false;
	s->segment = le32_to_cpu(d->segment);
	return 0;
}

/*
 * Content checks of a record at its place in the chain (the record is
 * chained whatever they say).
 */
static int att_content(struct att_vstream *s, const uint8_t *rec,
		       const struct attestio_rec_info *ri, struct att_err *err)
{
	const void *p = rec + ATTESTIO_HDR_LEN;
	const struct attestio_descriptor *d = p;
	const struct attestio_sample *smp = p;
	const struct attestio_detach *det = p;
	const struct attestio_calib *cal = p;
	struct attestio_descriptor *sd = att_dsnap_desc(s->ds);

	switch (ri->type) {
	case ATTESTIO_REC_DESCRIPTOR:
		if (le64_to_cpu(d->instance) != s->instance)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"descriptor instance %016llx differs from the chain's %016llx",
					(unsigned long long)le64_to_cpu(d->instance),
					(unsigned long long)s->instance);
		if (le32_to_cpu(d->generation) != s->generation)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"descriptor generation %u differs from the chain's %u",
					le32_to_cpu(d->generation), s->generation);
		if (ri->seq && s->seg_known && s->seg_open && !s->seg_hint)
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"descriptor of segment %u while segment %u is still open (no detach record)",
					le32_to_cpu(d->segment), s->segment);
		if (ri->seq && s->seg_known &&
		    le32_to_cpu(d->segment) != s->segment + 1)
			return att_rerr(err, ATT_ESEQ, ri->stream, ri->seq,
					"descriptor segment %u does not follow segment %u",
					le32_to_cpu(d->segment), s->segment);
		if (!ri->seq && le32_to_cpu(d->segment))
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"first descriptor has segment %u, not 0",
					le32_to_cpu(d->segment));
		if (att_set_desc(s, rec))
			return att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
					"out of memory for the descriptor");
		return 0;
	case ATTESTIO_REC_SAMPLE:
		if (!s->seg_known)
			return 0;	/* anchored mid-segment: layout unknown */
		if (!s->seg_open)
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"sample after the detach of segment %u",
					s->segment);
		if (sd && le32_to_cpu(smp->scan_len) !=
			  le32_to_cpu(sd->scan_bytes))
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"sample scan_len %u differs from the descriptor's scan_bytes %u",
					le32_to_cpu(smp->scan_len),
					le32_to_cpu(sd->scan_bytes));
		return 0;
	case ATTESTIO_REC_DETACH:
		if (!s->seg_known)
			return 0;
		if (!s->seg_open || le32_to_cpu(det->segment) != s->segment)
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"detach of segment %u but segment %u is %s",
					le32_to_cpu(det->segment), s->segment,
					s->seg_open ? "open" : "already detached");
		s->seg_open = false;
		return 0;
	case ATTESTIO_REC_CALIB:
		/* new scale/offset for the samples after it */
		if (!s->seg_known || !sd)
			return 0;
		if (!s->seg_open || le32_to_cpu(cal->segment) != s->segment ||
		    cal->nchannels != sd->nchannels)
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"calib of segment %u with %u channels does not fit segment %u",
					le32_to_cpu(cal->segment),
					le16_to_cpu(cal->nchannels), s->segment);
		if (s->ds->ref > 1) {
			/* records chained before keep the values before */
			struct att_dsnap *copy = att_dsnap_new(sd, s->ds->len);

			if (!copy)
				return att_rerr(err, ATT_ENOMEM, ri->stream,
						ri->seq,
						"out of memory for the calibration");
			copy->have_state = s->ds->have_state;
			copy->seg = s->ds->seg;
			att_dsnap_put(s->ds);
			s->ds = copy;
		}
		att_dsnap_calib(s->ds, rec);
		return 0;
	}
	return 0;
}

/* Chain a non-checkpoint record at s->next_seq (content checked). */
static int att_chain_plain(struct att_verifier *v, struct att_vstream *s,
			   const uint8_t *rec,
			   const struct attestio_rec_info *ri,
			   struct att_err *err)
{
	int ret = att_content(s, rec, ri, err);

	if (ret)
		att_verdict(v, ri->stream, ri->seq, 1, ri->type, ATT_REC_BAD,
			    ATT_CAUSE_NONE, false, ret, err ? err->msg : NULL);
	attestio_chain_extend(s->head, rec, ri->len);
	if (att_map_add(v, s, ri->stream, ri->seq, ri->type, ret != 0, false)) {
		att_chain_end(v, s, ri->stream, ATT_REC_UNVERIFIABLE,
			      ATT_CAUSE_BROKEN, false, ATT_ENOMEM,
			      "too many records without a checkpoint");
		att_unanchor(s, ATT_CAUSE_BROKEN, false, ATT_ENOMEM);
		if (!ret)
			att_verdict(v, ri->stream, ri->seq, 1, ri->type,
				    ATT_REC_UNVERIFIABLE, ATT_CAUSE_BROKEN,
				    false, ATT_ENOMEM,
				    "too many records without a checkpoint");
		return att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
				"more than %u records without a checkpoint",
				ATT_MAP_MAX);
	}
	s->next_seq = ri->seq + 1;
	return ret;
}

/*
 * At checkpoint @seq of the stream's chain: if a resume hint names it,
 * its descriptor becomes the one in force (att_verifier_resume_descriptor).
 */
static void att_take_hint(struct att_vstream *s, uint64_t seq)
{
	if (!s->hint || s->instance != s->hint_instance ||
	    s->generation != s->hint_gen || seq != s->hint_seq)
		return;
	s->ds = s->hint;
	s->hint = NULL;
	s->seg_known = true;
	s->seg_open = true;
	s->seg_hint = true;
	s->segment = le32_to_cpu(att_dsnap_desc(s->ds)->segment);
}

/*
 * A checkpoint that passed att_checkpoint() takes its place in the chain:
 * a verified one covers up to heads[self].seq and is itself VERIFIED; an
 * unsigned one covers provisionally.
 */
static int att_cp_accept(struct att_verifier *v, struct att_vstream *s,
			 const uint8_t *rec, const struct attestio_rec_info *ri,
			 const struct att_cp *c, bool unsig,
			 struct att_err *err)
{
	s->have_epoch = true;
	s->last_epoch = c->epoch;
	s->have_cov = true;
	s->cov = c->hseq;
	if (unsig) {
		v->sum.checkpoints_unsigned++;
		att_cover_unsigned(s, c->hseq);
	} else {
		v->sum.checkpoints_verified++;
		att_cover_verified(v, s, ri->stream, c->hseq);
		att_other_heads(v, c);
	}
	attestio_chain_extend(s->head, rec, ri->len);
	if (!unsig) {
		/* the descriptor in force at the checkpoint, for resuming */
		v->vd_ds = s->ds;
		v->vd_chain = true;
		att_verdict(v, ri->stream, ri->seq, 1, ri->type,
			    ATT_REC_VERIFIED, ATT_CAUSE_NONE, false, 0, NULL);
		v->vd_chain = false;
		v->vd_ds = NULL;
	}
	if (att_map_add(v, s, ri->stream, ri->seq, ri->type, !unsig, unsig)) {
		att_chain_end(v, s, ri->stream, ATT_REC_UNVERIFIABLE,
			      ATT_CAUSE_BROKEN, false, ATT_ENOMEM,
			      "too many records without a checkpoint");
		att_unanchor(s, ATT_CAUSE_BROKEN, false, ATT_ENOMEM);
		return att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
				"more than %u records without a checkpoint",
				ATT_MAP_MAX);
	}
	s->next_seq = ri->seq + 1;
	/* anchored mid-chain at the checkpoint a resume hint names: its
	 * descriptor, so that the samples after it decode */
	if (!s->ds && !s->seg_known)
		att_take_hint(s, ri->seq);
	/*
	 * Not an error by itself: a later verified checkpoint may still
	 * cover what it covers.  att_verifier_finish() judges what stays
	 * UNSIGNED.
	 */
	if (unsig && v->cur_set && v->cur_seq == ri->seq &&
	    v->cur_stream == ri->stream)
		v->cur_state = ATT_REC_UNSIGNED;
	return 0;
}

static int att_seek(struct att_verifier *v, struct att_vstream *s,
		    const uint8_t *rec, const struct attestio_rec_info *ri,
		    struct att_err *err);

/* A record at the expected position of a chained stream. */
static int att_chained(struct att_verifier *v, struct att_vstream *s,
		       const uint8_t *rec, const struct attestio_rec_info *ri,
		       struct att_err *err)
{
	struct att_cp c;
	bool unsig;
	int ret;

	if (ri->type != ATTESTIO_REC_CHECKPOINT)
		return att_chain_plain(v, s, rec, ri, err);
	att_cp_decode(rec, &c);
	ret = att_checkpoint(v, s, rec, ri, &c, false, &unsig, err);
	if (!ret)
		return att_cp_accept(v, s, rec, ri, &c, unsig, err);
	if (ret == ATT_ECHAIN) {
		struct att_err e2;

		/*
		 * Our chain is not the one the kernel signed: what it holds
		 * can never be proven.  The checkpoint itself may still
		 * anchor what follows, as for a stream met mid-chain.
		 */
		att_chain_end(v, s, ri->stream, ATT_REC_UNVERIFIABLE,
			      ATT_CAUSE_BROKEN, false, ATT_ECHAIN,
			      "a checkpoint's head differs from the chain through it");
		att_unanchor(s, ATT_CAUSE_BROKEN, false, ATT_ECHAIN);
		if (att_seek(v, s, rec, ri, &e2))
			att_problem(v, e2.code);
		return ret;
	}
	att_verdict(v, ri->stream, ri->seq, 1, ri->type, ATT_REC_BAD,
		    ATT_CAUSE_NONE, false, ret, err ? err->msg : NULL);
	/* a bad quote: the record stays in the chain, covered later */
	attestio_chain_extend(s->head, rec, ri->len);
	if (att_map_add(v, s, ri->stream, ri->seq, ri->type, true, false)) {
		att_chain_end(v, s, ri->stream, ATT_REC_UNVERIFIABLE,
			      ATT_CAUSE_BROKEN, false, ATT_ENOMEM,
			      "too many records without a checkpoint");
		att_unanchor(s, ATT_CAUSE_BROKEN, false, ATT_ENOMEM);
	}
	s->next_seq = ri->seq + 1;
	return ret;
}

/* Are the buffered records all samples, gaps or checkpoints? */
static bool att_buf_plain(const struct att_vstream *s)
{
	for (size_t i = 0; i < s->buf.n; i++) {
		const struct att_brec *b = vring_at(&s->buf, i);

		if (b->type == ATTESTIO_REC_DESCRIPTOR ||
		    b->type == ATTESTIO_REC_DETACH ||
		    b->type == ATTESTIO_REC_CALIB)
			return false;
	}
	return true;
}

/*
 * Anchor at checkpoint @rec (already checked by att_checkpoint): its signed
 * heads[self] is the head after record hseq.  Buffered records up to hseq
 * are UNVERIFIABLE; hseq+1 .. seq-1 (all buffered) chain from that head.
 */
static int att_anchor(struct att_verifier *v, struct att_vstream *s,
		      const uint8_t *rec, const struct attestio_rec_info *ri,
		      const struct att_cp *c, bool unsig, struct att_err *err)
{
	struct att_err e2;
	struct att_brec *b;

	att_buf_drop(v, s, ri->stream, c->hseq, ATT_REC_UNVERIFIABLE);
	/*
	 * Records before the anchor may have changed the segment (a detach
	 * and descriptor in a hole): forget the descriptor until the chain
	 * shows one again.
	 */
	att_dsnap_put(s->ds);
	s->ds = NULL;
	s->seg_known = false;
	s->seg_open = false;
	if (!s->have_instance || s->instance != c->instance) {
		/* first anchor, or the module was reloaded meanwhile */
		s->have_epoch = false;
		s->have_verified = false;
	}
	s->have_instance = true;
	s->instance = c->instance;
	s->generation = c->hgen;
	s->anchored_once = true;
	s->state = ATT_S_CHAINED;
	/*
	 * v4: the signed head commits to the segment state in force there:
	 * an offered descriptor (and calib) that hashes to it is the one
	 * the records after the head were chained under.  (No open segment
	 * says no more than "a descriptor comes next": its segment number
	 * is not in the state, so the segment stays unknown.)  Only a
	 * signed head: an unsigned checkpoint's state is anyone's word, and
	 * a forged one among the records a later quote does not cover would
	 * make its own descriptor the state (review of v4, HIGH).
	 */
	if (!unsig && s->offer &&
	    !memcmp(s->offer->state, c->hstate, ATTESTIO_HASH_LEN)) {
		s->ds = s->offer;
		s->ds->ref++;
		s->seg_known = true;
		s->seg_open = true;
		s->seg_hint = false;
		s->segment = le32_to_cpu(att_dsnap_desc(s->ds)->segment);
		v->sum.anchors_state++;
	}
	/*
	 * Anchored at the checkpoint a resume hint names: its descriptor
	 * was in force when the buffered records after its head (appended
	 * while it was quoted) were chained, so they take it too; set in
	 * att_cp_accept(), after them, they gave no readings (review 7).
	 * Unless one of them changed the segment or its scale (detach,
	 * descriptor, calib): then the hint is what they made of it, and
	 * they are chained as when the chain is met mid-segment.
	 */
	if (!s->ds && att_buf_plain(s))
		att_take_hint(s, ri->seq);
	memcpy(s->head, c->hhead, ATTESTIO_HASH_LEN);
	s->have_last_cov = true;
	s->last_cov_seq = c->hseq;
	memcpy(s->last_cov_head, c->hhead, ATTESTIO_HASH_LEN);
	s->next_seq = c->hseq + 1;
	while ((b = vring_front(&s->buf))) {
		const struct attestio_rec_info bi = {
			.type = b->type, .len = b->len,
			.stream = ri->stream, .seq = b->seq,
		};
		int r;

		if (b->done) {
			/* already judged BAD: chained, no second verdict */
			if (b->type == ATTESTIO_REC_DESCRIPTOR)
				att_set_desc(s, b->rec);
			attestio_chain_extend(s->head, b->rec, b->len);
			r = att_map_add(v, s, ri->stream, b->seq, b->type,
					true, false);
			s->next_seq = b->seq + 1;
		} else if (b->type == ATTESTIO_REC_CHECKPOINT) {
			/* a checkpoint that waited for this anchor */
			struct att_cp bc;
			bool bu;

			att_cp_decode(b->rec, &bc);
			r = att_checkpoint(v, s, b->rec, &bi, &bc, false, &bu,
					   &e2);
			if (!r) {
				r = att_cp_accept(v, s, b->rec, &bi, &bc, bu,
						  &e2);
			} else {
				att_verdict(v, ri->stream, b->seq, 1, b->type,
					    ATT_REC_BAD, ATT_CAUSE_NONE,
					    false, r, e2.msg);
				attestio_chain_extend(s->head, b->rec, b->len);
				att_map_add(v, s, ri->stream, b->seq, b->type,
					    true, false);
				s->next_seq = b->seq + 1;
			}
			if (r)
				att_problem(v, r);
			r = 0;
		} else {
			r = att_chain_plain(v, s, b->rec, &bi, &e2);
			if (r)
				att_problem(v, r);
			r = 0;
		}
		att_buf_pop(s);
		if (r || s->state != ATT_S_CHAINED) {
			att_buf_drop(v, s, ri->stream, UINT64_MAX,
				     ATT_REC_UNVERIFIABLE);
			return att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
					"out of memory re-anchoring the chain");
		}
	}
	return att_cp_accept(v, s, rec, ri, c, unsig, err);
}

/* A sequence hole of @k records before @ri in @s: report, excuse? */
static int att_hole(struct att_verifier *v, struct att_vstream *s,
		    const struct attestio_rec_info *ri, uint64_t first,
		    struct att_err *err)
{
	uint64_t k = ri->seq - first;
	bool excused = v->o.allow_lost && v->lost_budget >= k;
	int ret = 0;

	if (excused)
		v->lost_budget -= k;
	else
		ret = att_rerr(err, ATT_ESEQ, ri->stream, ri->seq,
			       "expected seq %llu: %llu records missing (seq %llu..%llu) and %s",
			       (unsigned long long)first, (unsigned long long)k,
			       (unsigned long long)first,
			       (unsigned long long)(ri->seq - 1),
			       v->o.allow_lost ?
			       "the lost records seen before do not account for them" :
			       "no gap record accounts for them");
	att_verdict(v, ri->stream, first, k, 0, ATT_REC_MISSING,
		    ATT_CAUSE_HOLE, excused, ret,
		    excused ? "a lost record accounts for them" :
			      "sequence hole");
	if (s->state == ATT_S_CHAINED)
		att_chain_end(v, s, ri->stream, ATT_REC_UNVERIFIABLE,
			      ATT_CAUSE_HOLE, excused, ATT_ESEQ,
			      "a sequence hole follows before a checkpoint covered it");
	else
		att_buf_drop(v, s, ri->stream, UINT64_MAX,
			     ATT_REC_UNVERIFIABLE);
	att_unanchor(s, ATT_CAUSE_HOLE, excused, ATT_ESEQ);
	return ret;
}

/* A record of a stream that has no anchor. */
static int att_seek(struct att_verifier *v, struct att_vstream *s,
		    const uint8_t *rec, const struct attestio_rec_info *ri,
		    struct att_err *err)
{
	const struct att_brec *last = vring_back(&s->buf);
	struct att_cp c;
	bool unsig;
	int ret;

	if (last && ri->seq <= last->seq) {
		ret = att_rerr(err, ATT_ESEQ, ri->stream, ri->seq,
			       "duplicate or out-of-order record (seq %llu already seen)",
			       (unsigned long long)ri->seq);
		att_verdict(v, ri->stream, ri->seq, 1, ri->type, ATT_REC_BAD,
			    ATT_CAUSE_NONE, false, ret, err ? err->msg : NULL);
		return ret;
	}
	if (last && ri->seq != last->seq + 1) {
		ret = att_hole(v, s, ri, last->seq + 1, err);
		if (ret) {
			struct att_err e2;
			int r2 = att_seek(v, s, rec, ri, &e2);

			if (r2)
				att_problem(v, r2);
			return ret;
		}
	}
	if (ri->type == ATTESTIO_REC_CHECKPOINT) {
		const struct att_brec *first = vring_front(&s->buf);

		att_cp_decode(rec, &c);
		if (c.hseq < ri->seq &&
		    (c.hseq + 1 == ri->seq ||
		     (first && first->seq <= c.hseq + 1))) {
			ret = att_checkpoint(v, s, rec, ri, &c, true, &unsig,
					     err);
			if (!ret)
				return att_anchor(v, s, rec, ri, &c, unsig, err);
			att_verdict(v, ri->stream, ri->seq, 1, ri->type,
				    ATT_REC_BAD, ATT_CAUSE_NONE, false, ret,
				    err ? err->msg : NULL);
			if (att_buf_add(v, s, rec, ri, true))
				return att_rerr(err, ATT_ENOMEM, ri->stream,
						ri->seq,
						"out of memory buffering records");
			return ret;
		}
	}
	if (att_buf_add(v, s, rec, ri, false))
		return att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
				"out of memory buffering records until a checkpoint");
	return 0;
}

/* Start the chain from genesis at a seq-0 descriptor. */
static int att_genesis(struct att_verifier *v, struct att_vstream *s,
		       const uint8_t *rec, const struct attestio_rec_info *ri,
		       struct att_err *err)
{
	const struct attestio_descriptor *d = (const void *)(rec + ATTESTIO_HDR_LEN);

	if (s->state == ATT_S_CHAINED)
		att_chain_end(v, s, ri->stream, ATT_REC_PENDING,
			      ATT_CAUSE_NONE, false, 0,
			      "the chain restarted before a checkpoint covered it");
	att_buf_drop(v, s, ri->stream, UINT64_MAX, ATT_REC_UNVERIFIABLE);
	s->state = ATT_S_CHAINED;
	s->anchored_once = true;
	s->have_instance = true;
	s->instance = le64_to_cpu(d->instance);
	s->generation = le32_to_cpu(d->generation);
	s->next_seq = 0;
	s->seg_known = false;
	s->seg_open = false;
	s->have_epoch = false;
	s->have_cov = false;
	s->have_verified = false;
	s->have_last_cov = false;
	att_dsnap_put(s->ds);
	s->ds = NULL;
	attestio_chain_genesis(s->head, s->instance, ri->stream,
			       le32_to_cpu(d->generation));
	return att_chain_plain(v, s, rec, ri, err);
}

static int att_bad(struct att_verifier *v, const struct attestio_rec_info *ri,
		   int code, struct att_err *err)
{
	att_verdict(v, ri->stream, ri->seq, 1, ri->type, ATT_REC_BAD,
		    ATT_CAUSE_NONE, false, code, err ? err->msg : NULL);
	return code;
}

/* A record that is not what the kernel emits at that place: a hole. */
static void att_break(struct att_verifier *v, struct att_vstream *s,
		      uint32_t stream)
{
	if (s->state == ATT_S_CHAINED)
		att_chain_end(v, s, stream, ATT_REC_UNVERIFIABLE,
			      ATT_CAUSE_BROKEN, false, ATT_EPARSE,
			      "a malformed record follows before a checkpoint covered it");
	else
		att_buf_drop(v, s, stream, UINT64_MAX, ATT_REC_UNVERIFIABLE);
	att_unanchor(s, ATT_CAUSE_BROKEN, false, ATT_EPARSE);
}

static int att_lost(struct att_verifier *v, const uint8_t *rec,
		    const struct attestio_rec_info *ri, struct att_err *err)
{
	const struct attestio_lost *l = (const void *)(rec + ATTESTIO_HDR_LEN);
	uint64_t n = le64_to_cpu(l->records);

	att_verdict(v, ri->stream, ri->seq, 1, ri->type, ATT_REC_LOCAL,
		    ATT_CAUSE_NONE, false, 0, NULL);
	v->sum.lost_records += n;
	v->sum.events |= ATT_EV_LOST;
	v->lost_budget = v->lost_budget + n < v->lost_budget ?
			 UINT64_MAX : v->lost_budget + n;
	if (v->o.allow_lost)
		return 0;
	return att_err(err, ATT_ESEQ,
		       "this reader lost %llu records (%llu bytes) of unknown streams",
		       (unsigned long long)n,
		       (unsigned long long)le64_to_cpu(l->bytes));
}

static int att_feed(struct att_verifier *v, const uint8_t *rec, size_t len,
		    struct att_err *err)
{
	const struct attestio_rec_hdr *h = (const void *)rec;
	struct attestio_rec_info ri = {
		.type = le16_to_cpu(h->type),
		.stream = le32_to_cpu(h->stream),
		.seq = le64_to_cpu(h->seq),
	};
	struct att_vstream *s;
	int ret;

	/* by the header's word: a malformed "sample" is a BAD sample */
	if (ri.type == ATTESTIO_REC_SAMPLE)
		v->sum.samples++;
	if (attestio_rec_hdr_decode(rec, len, &ri)) {
		ret = att_rerr(err, ATT_EPARSE, ri.stream, ri.seq,
			       "bad record header (version %u, type %u, len %u, flags 0x%x)",
			       le16_to_cpu(h->version), ri.type,
			       le32_to_cpu(h->len), le32_to_cpu(h->flags));
		if (ri.stream < ATTESTIO_MAX_STREAMS)
			att_break(v, &v->s[ri.stream], ri.stream);
		return att_bad(v, &ri, ret, err);
	}
	s = &v->s[ri.stream];
	if (ri.len != len) {
		att_break(v, s, ri.stream);
		return att_bad(v, &ri,
			       att_rerr(err, ATT_EPARSE, ri.stream, ri.seq,
					"record header says %u bytes but %zu were given",
					ri.len, len), err);
	}
	if (attestio_rec_validate(rec, len, &ri)) {
		att_break(v, s, ri.stream);
		return att_bad(v, &ri,
			       att_rerr(err, ATT_EPARSE, ri.stream, ri.seq,
					"%s record fails validation: a field is out of range, the length does not match or padding is not zero",
					att_rec_type_name(ri.type)), err);
	}
	if (ri.type == ATTESTIO_REC_LOST)
		return att_lost(v, rec, &ri, err);
	if (!s->seen) {
		s->seen = true;
		v->sum.streams++;
	}
	switch (ri.type) {
	case ATTESTIO_REC_CHECKPOINT:
		v->sum.checkpoints++;
		break;
	case ATTESTIO_REC_GAP:
		v->sum.gap_lost += le64_to_cpu(((const struct attestio_gap *)
					       (rec + ATTESTIO_HDR_LEN))->lost);
		v->sum.events |= ATT_EV_GAP;
		break;
	}
	if (ri.seq == 0) {
		uint64_t inst;

		if (ri.type != ATTESTIO_REC_DESCRIPTOR)
			return att_bad(v, &ri,
				       att_rerr(err, ATT_EPARSE, ri.stream, 0,
						"the first record of a stream (%s) is not a descriptor",
						att_rec_type_name(ri.type)), err);
		inst = le64_to_cpu(((const struct attestio_descriptor *)
				    (rec + ATTESTIO_HDR_LEN))->instance);
		if (s->state == ATT_S_CHAINED && s->instance == inst &&
		    s->generation == le32_to_cpu(((const struct attestio_descriptor *)
						 (rec + ATTESTIO_HDR_LEN))->generation))
			return att_bad(v, &ri,
				       att_rerr(err, ATT_ESEQ, ri.stream, 0,
						"duplicate start of the chain (expected seq %llu)",
						(unsigned long long)s->next_seq), err);
		return att_genesis(v, s, rec, &ri, err);
	}
	switch (s->state) {
	case ATT_S_NEW:
		att_unanchor(s, ATT_CAUSE_JOIN, v->o.allow_join, ATT_ESEQ);
		return att_seek(v, s, rec, &ri, err);
	case ATT_S_SEEK:
		return att_seek(v, s, rec, &ri, err);
	case ATT_S_CHAINED:
		break;
	}
	if (ri.seq < s->next_seq)
		return att_bad(v, &ri,
			       att_rerr(err, ATT_ESEQ, ri.stream, ri.seq,
					"duplicate or out-of-order record: seq %llu already seen (expected %llu)",
					(unsigned long long)ri.seq,
					(unsigned long long)s->next_seq), err);
	if (ri.seq > s->next_seq) {
		struct att_err e2;
		int r2;

		ret = att_hole(v, s, &ri, s->next_seq, err);
		r2 = att_seek(v, s, rec, &ri, ret ? &e2 : err);
		if (ret && r2)
			att_problem(v, r2);
		return ret ? ret : r2;
	}
	return att_chained(v, s, rec, &ri, err);
}

int att_verifier_feed(struct att_verifier *v, const uint8_t *rec, size_t len,
		      enum att_rec_state *state, struct att_err *err)
{
	const struct attestio_rec_hdr *h;
	int ret;

	if (!v || !rec)
		return att_err(err, ATT_EINVAL, "att_verifier_feed: NULL argument");
	if (v->finished)
		return att_err(err, ATT_EINVAL, "att_verifier_feed: after att_verifier_finish");
	v->sum.records++;
	if (len < ATTESTIO_HDR_LEN || len > ATTESTIO_REC_MAX_LEN) {
		ret = att_err(err, ATT_EPARSE,
			      "record of %zu bytes: a record is %u to %u bytes",
			      len, ATTESTIO_HDR_LEN, ATTESTIO_REC_MAX_LEN);
		v->sum.records_bad++;
		if (state)
			*state = ATT_REC_BAD;
		return att_problem(v, ret);
	}
	/* the record structures are read in place: align them */
	if ((uintptr_t)rec % ATTESTIO_REC_ALIGN) {
		memcpy(v->scratch, rec, len);
		rec = v->scratch;
	}
	h = (const void *)rec;
	v->cur_set = true;
	v->cur_stream = le32_to_cpu(h->stream);
	v->cur_seq = le64_to_cpu(h->seq);
	v->cur_state = ATT_REC_PENDING;
	ret = att_feed(v, rec, len, err);
	if (v->cur_stream < ATTESTIO_MAX_STREAMS)
		att_after_record(v, &v->s[v->cur_stream], v->cur_stream);
	v->cur_set = false;
	if (ret)
		att_problem(v, ret);
	else if (err)
		memset(err, 0, sizeof(*err));
	if (state)
		*state = v->cur_state;
	return ret;
}

/* ------------------------------------------------------------ finish --- */

static void att_finish_stream(struct att_verifier *v, struct att_vstream *s,
			      uint32_t id)
{
	const struct att_brec *b;
	uint64_t last_cp = 0;
	bool have_cp = false;

	att_chain_end(v, s, id, ATT_REC_PENDING, ATT_CAUSE_NONE, false, 0,
		      "no checkpoint covers it (yet)");
	/* unanchored: up to the last checkpoint nothing can anchor them */
	for (size_t i = 0; i < s->buf.n; i++) {
		b = vring_at(&s->buf, i);
		if (b->type == ATTESTIO_REC_CHECKPOINT) {
			have_cp = true;
			last_cp = b->seq;
		}
	}
	if (have_cp)
		att_buf_drop(v, s, id, last_cp, ATT_REC_UNVERIFIABLE);
	att_buf_drop(v, s, id, UINT64_MAX, ATT_REC_PENDING);

	/* records signed heads prove to exist */
	for (unsigned int i = 0; i < s->nsig; i++)
		att_sig_report(v, id, &s->sig[i]);
	s->nsig = 0;
}

int att_verifier_finish(struct att_verifier *v, struct att_err *err)
{
	const struct att_summary *s;

	if (!v)
		return att_err(err, ATT_EINVAL, "att_verifier_finish: NULL argument");
	if (!v->finished) {
		v->finished = true;
		for (uint32_t i = 0; i < ATTESTIO_MAX_STREAMS; i++)
			att_finish_stream(v, &v->s[i], i);
	}
	s = &v->sum;
	if (s->records_bad)
		return att_err(err, s->first_error ? s->first_error : ATT_EPARSE,
			       "%llu records failed a check",
			       (unsigned long long)s->records_bad);
	if (s->records_unverifiable > s->unverifiable_excused)
		return att_err(err, ATT_ECHAIN,
			       "%llu records can never be verified (before a stream's first anchor, next to a sequence hole, or in a broken chain)",
			       (unsigned long long)(s->records_unverifiable -
						    s->unverifiable_excused));
	if (s->missing > s->missing_excused)
		return att_err(err, ATT_ESEQ,
			       "%llu records are missing from sequence holes",
			       (unsigned long long)(s->missing - s->missing_excused));
	if (v->o.complete && s->withheld)
		return att_err(err, ATT_ESEQ,
			       "%llu records that verified quotes prove to exist are absent (withheld)",
			       (unsigned long long)s->withheld);
	if (s->records_unsigned && !v->o.allow_unsigned)
		return att_err(err, ATT_EUNSIGNED,
			       "%llu records are covered only by unsigned checkpoints",
			       (unsigned long long)s->records_unsigned);
	if (s->errors)
		return att_err(err, s->first_error,
			       "%u problems were reported while feeding records",
			       s->errors);
	if (!s->records)
		return att_err(err, ATT_EPARSE, "no records");
	if (!s->checkpoints_verified)
		return att_err(err, ATT_EUNSIGNED,
			       "no checkpoint verified: nothing is proven");
	if (err)
		memset(err, 0, sizeof(*err));
	return 0;
}

/* ------------------------------------------------------------- setup --- */

const char *att_rec_type_name(unsigned int t)
{
	static const char *const n[] = {
		[ATTESTIO_REC_DESCRIPTOR] = "descriptor",
		[ATTESTIO_REC_SAMPLE] = "sample",
		[ATTESTIO_REC_GAP] = "gap",
		[ATTESTIO_REC_CHECKPOINT] = "checkpoint",
		[ATTESTIO_REC_DETACH] = "detach",
		[ATTESTIO_REC_ERROR] = "error",
		[ATTESTIO_REC_LOST] = "lost",
		[ATTESTIO_REC_CALIB] = "calib",
	};

	return t < sizeof(n) / sizeof(n[0]) && n[t] ? n[t] : "unknown";
}

struct att_verifier *att_verifier_new(const struct att_verifier_opts *o)
{
	struct att_verifier *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	/* malloc() alignment suffices for every record structure */
	v->scratch = malloc(ATTESTIO_REC_MAX_LEN);
	if (!v->scratch) {
		free(v);
		return NULL;
	}
	if (o)
		v->o = *o;
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		v->s[i].map.esz = sizeof(struct att_hent);
		v->s[i].buf.esz = sizeof(struct att_brec);
	}
	v->sum.key_origin_checked = v->o.ak && att_key_origin_checked(v->o.ak);
	return v;
}

void att_verifier_free(struct att_verifier *v)
{
	if (!v)
		return;
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		struct att_vstream *s = &v->s[i];

		while (s->buf.n)
			att_buf_pop(s);
		for (size_t j = 0; j < s->map.n; j++)
			att_dsnap_put(((struct att_hent *)vring_at(&s->map, j))->ds);
		vring_free(&s->buf);
		vring_free(&s->map);
		att_dsnap_put(s->ds);
		att_dsnap_put(s->hint);
		att_dsnap_put(s->offer);
	}
	att_state_free(v);
	free(v->scratch);
	free(v);
}

void att_verifier_summary(const struct att_verifier *v, struct att_summary *s)
{
	if (!s)
		return;
	memset(s, 0, sizeof(*s));
	if (!v)
		return;
	*s = v->sum;
	s->kernel_key = v->o.nboots && s->checkpoints_verified;
	if (v->finished)
		return;
	/* undecided so far */
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		const struct att_vstream *vs = &v->s[i];

		for (size_t j = 0; j < vs->map.n; j++) {
			const struct att_hent *e = vring_at(&vs->map, j);

			if (e->done)
				continue;
			s->records_pending++;
			s->samples_pending += e->type == ATTESTIO_REC_SAMPLE;
		}
		for (size_t j = 0; j < vs->buf.n; j++) {
			const struct att_brec *b = vring_at(&vs->buf, j);

			if (b->done)
				continue;
			s->records_pending++;
			s->samples_pending += b->type == ATTESTIO_REC_SAMPLE;
		}
	}
}

const struct attestio_descriptor *
att_verifier_descriptor(const struct att_verifier *v, uint32_t stream)
{
	if (!v || stream >= ATTESTIO_MAX_STREAMS)
		return NULL;
	/* in a verdict: the descriptor where that record was chained */
	if (v->in_verdict && stream == v->vd_stream)
		return att_dsnap_desc(v->vd_ds);
	return att_dsnap_desc(v->s[stream].ds);
}

int att_verifier_quote_time(const struct att_verifier *v, uint32_t stream,
			    uint32_t *reset, uint32_t *restart,
			    uint64_t *clock_ms)
{
	const struct att_vstream *s;

	if (!v || stream >= ATTESTIO_MAX_STREAMS || !reset || !restart || !clock_ms)
		return ATT_EINVAL;
	s = &v->s[stream];
	if (!s->t.have)
		return ATT_ECHAIN;
	*reset = s->t.reset;
	*restart = s->t.restart;
	*clock_ms = s->t.clock;
	return 0;
}

int att_verifier_resume_descriptor(struct att_verifier *v, uint32_t stream,
				   uint64_t instance, uint32_t generation,
				   uint64_t seq,
				   const struct attestio_descriptor *d,
				   size_t len)
{
	struct att_vstream *s;
	struct att_dsnap *p;

	if (!v || !d || stream >= ATTESTIO_MAX_STREAMS || len < sizeof(*d) ||
	    le16_to_cpu(d->nchannels) > ATTESTIO_MAX_CHANNELS ||
	    len != sizeof(*d) + le16_to_cpu(d->nchannels) *
		   sizeof(struct attestio_channel))
		return ATT_EINVAL;
	p = att_dsnap_new(d, len);
	if (!p)
		return ATT_ENOMEM;
	s = &v->s[stream];
	att_dsnap_put(s->hint);
	s->hint = p;
	s->hint_instance = instance;
	s->hint_gen = generation;
	s->hint_seq = seq;
	return 0;
}

/* @rec (@len bytes, any alignment) validated in an aligned copy *@out
 * (malloc'd), its info to @ri: 0, ATT_EINVAL (not a record), ATT_ENOMEM. */
static int att_rec_copy(const uint8_t *rec, size_t len, uint8_t **out,
			struct attestio_rec_info *ri)
{
	*out = NULL;
	if (!rec || !len || len > ATTESTIO_REC_MAX_LEN)
		return ATT_EINVAL;
	*out = malloc(len);
	if (!*out)
		return ATT_ENOMEM;
	memcpy(*out, rec, len);
	if (attestio_rec_validate(*out, len, ri) || ri->len != len) {
		free(*out);
		*out = NULL;
		return ATT_EINVAL;
	}
	return 0;
}

int att_verifier_offer_state(struct att_verifier *v, uint32_t stream,
			     const uint8_t *desc, size_t dlen,
			     const uint8_t *calib, size_t clen)
{
	const struct attestio_descriptor *d;
	const struct attestio_calib *cal;
	struct attestio_rec_info di, ci;
	uint8_t *dc = NULL, *cc = NULL;
	struct att_dsnap *p;
	int ret = ATT_EINVAL;

	if (!v || stream >= ATTESTIO_MAX_STREAMS)
		return ATT_EINVAL;
	/* the records may lie anywhere (a CBOR bundle): aligned copies */
	ret = att_rec_copy(desc, dlen, &dc, &di);
	if (ret)
		goto out;
	ret = ATT_EINVAL;
	if (di.type != ATTESTIO_REC_DESCRIPTOR || di.stream != stream)
		goto out;
	d = (const void *)(dc + ATTESTIO_HDR_LEN);
	if (calib) {
		ret = att_rec_copy(calib, clen, &cc, &ci);
		if (ret)
			goto out;
		ret = ATT_EINVAL;
		cal = (const void *)(cc + ATTESTIO_HDR_LEN);
		if (ci.type != ATTESTIO_REC_CALIB || ci.stream != stream ||
		    ci.seq <= di.seq || cal->segment != d->segment ||
		    cal->nchannels != d->nchannels)
			goto out;
	}
	ret = ATT_ENOMEM;
	p = att_dsnap_rec(dc);
	if (!p)
		goto out;
	if (cc)
		att_dsnap_calib(p, cc);
	att_dsnap_put(v->s[stream].offer);
	v->s[stream].offer = p;
	ret = 0;
out:
	free(dc);
	free(cc);
	return ret;
}

int att_verifier_verified_upto(const struct att_verifier *v, uint32_t stream,
			       uint64_t *seq)
{
	if (!v || !seq || stream >= ATTESTIO_MAX_STREAMS)
		return ATT_EINVAL;
	if (!v->s[stream].have_verified)
		return ATT_ECHAIN;
	*seq = v->s[stream].verified_upto;
	return 0;
}

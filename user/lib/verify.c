// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The record verifier: strict parsing, per-stream sequence and hash chain,
 * checkpoints (heads, epoch digest, TPM quote), freshness per key and PCR
 * policy.  The rules are documented in libattestio.h next to
 * att_verifier_feed().
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "internal.h"

#define ATT_MAP_MAX		(1u << 22)	/* records between checkpoints */
#define ATT_SEEK_MAX_BYTES	(16u << 20)	/* buffered while re-anchoring */

/* Head after record @seq, kept until a checkpoint covers it. */
struct att_hent {
	uint64_t seq;
	uint8_t head[ATTESTIO_HASH_LEN];
	uint8_t sample;
};

/* A record kept while a stream has no known head (waiting for an anchor). */
struct att_brec {
	uint64_t seq;
	uint32_t len;
	uint8_t sample;
	uint8_t *rec;
};

enum att_sstate {
	ATT_S_NEW = 0,		/* nothing seen yet */
	ATT_S_CHAINED,		/* head known: records chain from it */
	ATT_S_SEEK,		/* head unknown: wait for an anchoring checkpoint */
};

struct att_vstream {
	enum att_sstate state;
	bool joined;		/* first seen mid-chain with no reader loss */
	bool lost_pending;	/* a LOST record came since our last record */
	bool have_instance;
	uint64_t instance;
	uint64_t next_seq;	/* CHAINED: seq expected next */
	uint8_t head[ATTESTIO_HASH_LEN];	/* CHAINED: head after next_seq-1 */

	struct attestio_descriptor *desc;	/* NULL if unknown */
	bool seg_known, seg_open;
	uint32_t segment;

	bool have_covered;	/* map starts after @covered */
	uint64_t covered;
	struct att_hent *map;
	size_t map_start, map_n, map_cap, map_samples;

	bool have_epoch;
	uint64_t last_epoch;

	struct att_brec *buf;	/* SEEK: contiguous records */
	size_t buf_n, buf_cap, buf_bytes, buf_samples;

	bool have_verified;
	uint64_t verified_upto;
	uint64_t samples_verified, samples_unsigned, samples_unverifiable;
	uint64_t samples_orphaned;	/* pending when the chain restarted */
};

struct att_fresh {
	bool have;
	uint64_t instance, epoch, clock;
	uint32_t reset, restart;
	uint8_t attest_hash[SHA256_DIGEST_LENGTH];
};

struct att_verifier {
	struct att_verifier_opts o;
	uint8_t *scratch;	/* aligned copy of a caller's unaligned record */
	struct att_summary sum;
	struct att_fresh fresh;
	struct att_vstream s[ATTESTIO_MAX_STREAMS];
};

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
	return v;
}

static void att_buf_clear(struct att_vstream *s, bool unverifiable)
{
	for (size_t i = 0; i < s->buf_n; i++)
		free(s->buf[i].rec);
	if (unverifiable)
		s->samples_unverifiable += s->buf_samples;
	s->buf_n = 0;
	s->buf_bytes = 0;
	s->buf_samples = 0;
}

void att_verifier_free(struct att_verifier *v)
{
	if (!v)
		return;
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		att_buf_clear(&v->s[i], false);
		free(v->s[i].buf);
		free(v->s[i].map);
		free(v->s[i].desc);
	}
	free(v->scratch);
	free(v);
}

/* -------------------------------------------------------- head map --- */

static int att_map_push(struct att_vstream *s, uint64_t seq,
			const uint8_t *head, bool sample)
{
	struct att_hent *e;

	if (s->map_start && s->map_start >= s->map_n / 2) {
		memmove(s->map, s->map + s->map_start,
			(s->map_n - s->map_start) * sizeof(*s->map));
		s->map_n -= s->map_start;
		s->map_start = 0;
	}
	if (s->map_n - s->map_start >= ATT_MAP_MAX)
		return -1;
	if (s->map_n == s->map_cap) {
		size_t cap = s->map_cap ? 2 * s->map_cap : 64;

		e = realloc(s->map, cap * sizeof(*e));
		if (!e)
			return -1;
		s->map = e;
		s->map_cap = cap;
	}
	e = &s->map[s->map_n++];
	e->seq = seq;
	memcpy(e->head, head, ATTESTIO_HASH_LEN);
	e->sample = sample;
	s->map_samples += sample;
	return 0;
}

/* The head after record @seq, if it is in the map. */
static const struct att_hent *att_map_find(const struct att_vstream *s,
					   uint64_t seq)
{
	size_t lo = s->map_start, hi = s->map_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->map[mid].seq == seq)
			return &s->map[mid];
		if (s->map[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

enum att_cover { ATT_COVER_VERIFIED, ATT_COVER_UNSIGNED };

/* A checkpoint covers every record up to @upto. */
static void att_cover(struct att_vstream *s, uint64_t upto, enum att_cover k)
{
	while (s->map_start < s->map_n && s->map[s->map_start].seq <= upto) {
		if (s->map[s->map_start].sample) {
			s->map_samples--;
			if (k == ATT_COVER_VERIFIED)
				s->samples_verified++;
			else
				s->samples_unsigned++;
		}
		s->map_start++;
	}
	if (s->map_start == s->map_n)
		s->map_start = s->map_n = 0;
	s->have_covered = true;
	s->covered = upto;
	if (k == ATT_COVER_VERIFIED) {
		s->have_verified = true;
		s->verified_upto = upto;
	}
}

/* The chain is broken: what it held can no longer be covered. */
static void att_chain_drop(struct att_vstream *s, bool orphan)
{
	if (orphan)
		s->samples_orphaned += s->map_samples;
	else
		s->samples_unverifiable += s->map_samples;
	s->map_samples = 0;
	s->map_start = s->map_n = 0;
	s->have_covered = false;
}

/* ------------------------------------------------------- freshness --- */

/*
 * Freshness per key: each new quote must be later than the previous one:
 * same reset and restart count and a strictly larger clock, or a larger
 * restart count (event), or a larger reset count (event).  Checkpoints of
 * the same epoch of the same instance share one quote and are no replay.
 */
static int att_fresh_check(struct att_verifier *v, uint32_t stream,
			   uint64_t seq, uint64_t instance, uint64_t epoch,
			   const struct att_quote_info *qi,
			   const uint8_t *attest, size_t attest_len,
			   struct att_err *err)
{
	struct att_fresh *f = &v->fresh;
	uint8_t h[SHA256_DIGEST_LENGTH];
	uint32_t ev = 0;

	SHA256(attest, attest_len, h);
	if (f->have) {
		if (instance == f->instance && epoch == f->epoch) {
			if (!memcmp(h, f->attest_hash, sizeof(h)))
				return 0;
			return att_rerr(err, ATT_EREPLAY, stream, seq,
					"checkpoint epoch %llu: a different quote for this epoch was already seen",
					(unsigned long long)epoch);
		}
		if (instance == f->instance && epoch < f->epoch)
			return att_rerr(err, ATT_EREPLAY, stream, seq,
					"checkpoint epoch %llu is older than epoch %llu already seen",
					(unsigned long long)epoch,
					(unsigned long long)f->epoch);
		if (qi->reset_count < f->reset)
			return att_rerr(err, ATT_EREPLAY, stream, seq,
					"checkpoint epoch %llu: TPM reset count went back from %u to %u",
					(unsigned long long)epoch, f->reset,
					qi->reset_count);
		if (qi->reset_count > f->reset) {
			ev = ATT_EV_REBOOT;
		} else if (qi->restart_count < f->restart) {
			return att_rerr(err, ATT_EREPLAY, stream, seq,
					"checkpoint epoch %llu: TPM restart count went back from %u to %u",
					(unsigned long long)epoch, f->restart,
					qi->restart_count);
		} else if (qi->restart_count > f->restart) {
			ev = ATT_EV_RESTART;
		} else if (qi->clock <= f->clock) {
			return att_rerr(err, ATT_EREPLAY, stream, seq,
					"checkpoint epoch %llu: TPM clock %llu ms is not after the previous quote's %llu ms",
					(unsigned long long)epoch,
					(unsigned long long)qi->clock,
					(unsigned long long)f->clock);
		}
	}
	v->sum.events |= ev;
	f->have = true;
	f->instance = instance;
	f->epoch = epoch;
	f->clock = qi->clock;
	f->reset = qi->reset_count;
	f->restart = qi->restart_count;
	memcpy(f->attest_hash, h, sizeof(h));
	return 0;
}

/* ------------------------------------------------------ checkpoints --- */

struct att_cp {
	const struct attestio_checkpoint *cp;
	const struct attestio_cp_head *heads;
	struct attestio_cp_layout lay;
	uint16_t n, self;
	uint64_t epoch, instance, hseq;
	const uint8_t *hhead;
};

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
	c->hhead = c->heads[c->self].head;
}

/*
 * Everything about checkpoint @rec except the chain position: instance,
 * per-stream epoch order, epoch digest, quote, freshness, policy; then the
 * records up to heads[self].seq are covered.  @anchor: the stream's head
 * was just taken from this checkpoint, nothing to compare.
 */
static int att_checkpoint(struct att_verifier *v, struct att_vstream *s,
			  const uint8_t *rec, const struct attestio_rec_info *ri,
			  const struct att_cp *c, bool anchor,
			  enum att_rec_state *st, struct att_err *err)
{
	uint8_t digest[ATTESTIO_HASH_LEN];
	struct att_quote_info qi;
	struct att_err qerr;
	const struct att_hent *e;
	uint32_t status = le32_to_cpu(c->cp->status);
	int ret;

	if (s->have_instance && c->instance != s->instance)
		return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
				"checkpoint instance %016llx differs from the stream's %016llx",
				(unsigned long long)c->instance,
				(unsigned long long)s->instance);
	if (c->hseq >= ri->seq)
		return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
				"checkpoint heads[self].seq %llu is not before the checkpoint",
				(unsigned long long)c->hseq);
	if (!anchor) {
		if (s->have_covered && c->hseq <= s->covered)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"checkpoint covers seq %llu, already covered up to seq %llu",
					(unsigned long long)c->hseq,
					(unsigned long long)s->covered);
		e = att_map_find(s, c->hseq);
		if (!e)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"checkpoint heads[self].seq %llu is not a record of the verified chain",
					(unsigned long long)c->hseq);
		if (memcmp(e->head, c->hhead, ATTESTIO_HASH_LEN))
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"head after seq %llu differs from the recomputed chain (a record up to seq %llu was altered, dropped or reordered)",
					(unsigned long long)c->hseq,
					(unsigned long long)c->hseq);
	}
	if (s->have_epoch && c->epoch <= s->last_epoch)
		return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
				"checkpoint epoch %llu is not after this stream's previous checkpoint epoch %llu",
				(unsigned long long)c->epoch,
				(unsigned long long)s->last_epoch);
	s->have_epoch = true;
	s->last_epoch = c->epoch;

	if (status != ATTESTIO_CP_SIGNED) {
		v->sum.checkpoints_unsigned++;
		att_cover(s, c->hseq, ATT_COVER_UNSIGNED);
		*st = ATT_REC_UNSIGNED;
		if (v->o.allow_unsigned)
			return 0;
		*st = ATT_REC_BAD;
		return att_rerr(err, ATT_EUNSIGNED, ri->stream, ri->seq,
				"checkpoint epoch %llu is unsigned (status %u, tpm_rc %d)",
				(unsigned long long)c->epoch, status,
				(int)le32_to_cpu(c->cp->tpm_rc));
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
	attestio_epoch_digest(digest, c->instance, c->epoch, c->heads, c->n);
	ret = att_quote_verify(v->o.ak, rec + c->lay.attest,
			       c->lay.sig - c->lay.attest, rec + c->lay.sig,
			       c->lay.end - c->lay.sig, digest, sizeof(digest),
			       &qi, &qerr);
	if (ret)
		return att_rerr(err, ret, ri->stream, ri->seq,
				"checkpoint epoch %llu: %s",
				(unsigned long long)c->epoch, qerr.msg);
	if (qi.pcr_select != le32_to_cpu(c->cp->pcr_mask))
		return att_rerr(err, ATT_EQUOTE, ri->stream, ri->seq,
				"checkpoint epoch %llu: pcr_mask 0x%06x but the quote selects SHA-256 PCRs 0x%06x",
				(unsigned long long)c->epoch,
				le32_to_cpu(c->cp->pcr_mask), qi.pcr_select);
	ret = att_fresh_check(v, ri->stream, ri->seq, c->instance, c->epoch,
			      &qi, rec + c->lay.attest,
			      c->lay.sig - c->lay.attest, err);
	if (ret)
		return ret;
	ret = att_policy_check(v->o.policy, &qi, &qerr);
	if (ret)
		return att_rerr(err, ret, ri->stream, ri->seq,
				"checkpoint epoch %llu: %s",
				(unsigned long long)c->epoch, qerr.msg);
	v->sum.checkpoints_verified++;
	att_cover(s, c->hseq, ATT_COVER_VERIFIED);
	*st = ATT_REC_VERIFIED;
	return 0;
}

/* ---------------------------------------------------------- records --- */

static int att_set_desc(struct att_vstream *s, const uint8_t *rec,
			const struct attestio_rec_info *ri)
{
	const struct attestio_descriptor *d = (const void *)(rec + ATTESTIO_HDR_LEN);
	size_t n = sizeof(*d) + le16_to_cpu(d->nchannels) *
		   sizeof(struct attestio_channel);
	struct attestio_descriptor *copy = malloc(n);

	(void)ri;
	if (!copy)
		return -1;
	memcpy(copy, d, n);
	free(s->desc);
	s->desc = copy;
	s->seg_known = true;
	s->seg_open = true;
	s->segment = le32_to_cpu(d->segment);
	return 0;
}

/*
 * Content checks of a record that chains at the expected position.  The
 * record is chained whatever they say.
 */
static int att_content(struct att_vstream *s, const uint8_t *rec,
		       const struct attestio_rec_info *ri, struct att_err *err)
{
	const void *p = rec + ATTESTIO_HDR_LEN;
	const struct attestio_descriptor *d = p;
	const struct attestio_sample *smp = p;
	const struct attestio_detach *det = p;

	switch (ri->type) {
	case ATTESTIO_REC_DESCRIPTOR:
		if (le64_to_cpu(d->instance) != s->instance)
			return att_rerr(err, ATT_ECHAIN, ri->stream, ri->seq,
					"descriptor instance %016llx differs from the chain's %016llx",
					(unsigned long long)le64_to_cpu(d->instance),
					(unsigned long long)s->instance);
		if (ri->seq && s->seg_known && s->seg_open)
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
		if (att_set_desc(s, rec, ri))
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
		if (s->desc && le32_to_cpu(smp->scan_len) !=
			       le32_to_cpu(s->desc->scan_bytes))
			return att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
					"sample scan_len %u differs from the descriptor's scan_bytes %u",
					le32_to_cpu(smp->scan_len),
					le32_to_cpu(s->desc->scan_bytes));
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
	}
	return 0;
}

/* Chain record @rec at the expected position (s->next_seq). */
static int att_chained(struct att_verifier *v, struct att_vstream *s,
		       const uint8_t *rec, const struct attestio_rec_info *ri,
		       enum att_rec_state *st, struct att_err *err)
{
	struct att_cp c;
	int ret;

	*st = ATT_REC_PENDING;
	if (ri->type == ATTESTIO_REC_CHECKPOINT) {
		att_cp_decode(rec, &c);
		ret = att_checkpoint(v, s, rec, ri, &c, false, st, err);
		if (ret)
			*st = ATT_REC_BAD;
		if (ret == ATT_ECHAIN) {
			/*
			 * Our chain is not the kernel's: drop it and re-anchor
			 * at a later checkpoint, whose heads[self] covers this
			 * one (one error per break, not one per checkpoint).
			 */
			att_chain_drop(s, false);
			s->state = ATT_S_SEEK;
			s->joined = false;
			return ret;
		}
	} else {
		ret = att_content(s, rec, ri, err);
		if (ret)
			*st = ATT_REC_BAD;
	}
	attestio_chain_extend(s->head, rec, ri->len);
	if (att_map_push(s, ri->seq, s->head,
			 ri->type == ATTESTIO_REC_SAMPLE)) {
		/* cannot keep more: the stream must re-anchor */
		att_chain_drop(s, false);
		s->state = ATT_S_SEEK;
		s->samples_unverifiable += ri->type == ATTESTIO_REC_SAMPLE;
		*st = ATT_REC_BAD;
		return att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
				"more than %u records without a checkpoint",
				ATT_MAP_MAX);
	}
	s->next_seq = ri->seq + 1;
	return ret;
}

/* Start the chain from genesis at a seq-0 descriptor. */
static void att_genesis(struct att_vstream *s, const uint8_t *rec,
			uint32_t stream)
{
	const struct attestio_descriptor *d = (const void *)(rec + ATTESTIO_HDR_LEN);

	att_buf_clear(s, true);
	att_chain_drop(s, true);
	s->state = ATT_S_CHAINED;
	s->joined = false;
	s->have_instance = true;
	s->instance = le64_to_cpu(d->instance);
	s->next_seq = 0;
	s->seg_known = false;
	s->seg_open = false;
	s->have_epoch = false;
	free(s->desc);
	s->desc = NULL;
	attestio_chain_genesis(s->head, s->instance, stream);
}

static int att_buf_add(struct att_vstream *s, const uint8_t *rec,
		       const struct attestio_rec_info *ri)
{
	struct att_brec *b;

	while (s->buf_n && s->buf_bytes + ri->len > ATT_SEEK_MAX_BYTES) {
		/* the oldest can no longer be anchored */
		s->samples_unverifiable += s->buf[0].sample;
		s->buf_samples -= s->buf[0].sample;
		s->buf_bytes -= s->buf[0].len;
		free(s->buf[0].rec);
		memmove(s->buf, s->buf + 1, (s->buf_n - 1) * sizeof(*s->buf));
		s->buf_n--;
	}
	if (s->buf_n == s->buf_cap) {
		size_t cap = s->buf_cap ? 2 * s->buf_cap : 16;

		b = realloc(s->buf, cap * sizeof(*b));
		if (!b)
			return -1;
		s->buf = b;
		s->buf_cap = cap;
	}
	b = &s->buf[s->buf_n];
	b->rec = malloc(ri->len);
	if (!b->rec)
		return -1;
	memcpy(b->rec, rec, ri->len);
	b->len = ri->len;
	b->seq = ri->seq;
	b->sample = ri->type == ATTESTIO_REC_SAMPLE;
	s->buf_n++;
	s->buf_bytes += ri->len;
	s->buf_samples += b->sample;
	return 0;
}

/*
 * Anchor at checkpoint @rec: its heads[self] is the head after record
 * hseq; records hseq+1 .. seq-1 must be in the buffer.  Returns true if
 * the stream is chained again.
 */
static bool att_anchor(struct att_vstream *s,
		       const struct attestio_rec_info *ri, const struct att_cp *c)
{
	size_t i, first = 0;
	uint8_t head[ATTESTIO_HASH_LEN];

	if (c->hseq >= ri->seq)
		return false;
	if (c->hseq + 1 < ri->seq) {
		if (!s->buf_n || s->buf[0].seq > c->hseq + 1 ||
		    s->buf[s->buf_n - 1].seq != ri->seq - 1)
			return false;
		first = (size_t)(c->hseq + 1 - s->buf[0].seq);
	} else {
		first = s->buf_n;
	}
	if (s->have_instance && s->instance != c->instance) {
		/* the module was reloaded while we were lost */
		free(s->desc);
		s->desc = NULL;
		s->seg_known = false;
		s->have_epoch = false;
	}
	if (!s->desc)
		s->seg_known = false;
	s->have_instance = true;
	s->instance = c->instance;
	att_chain_drop(s, false);
	s->have_covered = true;
	s->covered = c->hseq;
	memcpy(head, c->hhead, sizeof(head));
	for (i = 0; i < first; i++)
		s->samples_unverifiable += s->buf[i].sample;
	for (i = first; i < s->buf_n; i++) {
		const struct att_brec *b = &s->buf[i];
		const struct attestio_rec_info bi = {
			.type = le16_to_cpu(((const struct attestio_rec_hdr *)b->rec)->type),
			.len = b->len,
			.stream = ri->stream,
			.seq = b->seq,
		};

		if (bi.type == ATTESTIO_REC_DESCRIPTOR) {
			if (att_set_desc(s, b->rec, &bi))
				s->seg_known = false;
		} else if (bi.type == ATTESTIO_REC_DETACH) {
			s->seg_open = false;
		}
		attestio_chain_extend(head, b->rec, b->len);
		if (att_map_push(s, b->seq, head, b->sample)) {
			att_chain_drop(s, false);
			s->samples_unverifiable += b->sample;
			s->have_covered = false;
		}
	}
	s->buf_samples = 0;
	att_buf_clear(s, false);
	memcpy(s->head, head, sizeof(head));
	s->next_seq = ri->seq;
	s->state = ATT_S_CHAINED;
	s->joined = false;
	return true;
}

/* A record of a stream whose head is unknown. */
static int att_seek(struct att_verifier *v, struct att_vstream *s,
		    const uint8_t *rec, const struct attestio_rec_info *ri,
		    enum att_rec_state *st, struct att_err *err)
{
	struct att_err e2;
	struct att_cp c;
	int ret = 0, r2;

	*st = ATT_REC_PENDING;
	if (s->buf_n && ri->seq != s->buf[s->buf_n - 1].seq + 1) {
		if (ri->seq <= s->buf[s->buf_n - 1].seq) {
			*st = ATT_REC_BAD;
			return att_rerr(err, ATT_ESEQ, ri->stream, ri->seq,
					"duplicate or out-of-order record (seq %llu already seen)",
					(unsigned long long)ri->seq);
		}
		if (!(s->lost_pending && v->o.allow_lost))
			ret = att_rerr(err, ATT_ESEQ, ri->stream, ri->seq,
				       "expected seq %llu: %llu records missing",
				       (unsigned long long)(s->buf[s->buf_n - 1].seq + 1),
				       (unsigned long long)(ri->seq - s->buf[s->buf_n - 1].seq - 1));
		att_buf_clear(s, true);
	}
	s->lost_pending = false;
	if (ri->type == ATTESTIO_REC_CHECKPOINT) {
		att_cp_decode(rec, &c);
		if (att_anchor(s, ri, &c)) {
			r2 = att_checkpoint(v, s, rec, ri, &c, true, st, &e2);
			if (r2) {
				*st = ATT_REC_BAD;
				if (!ret) {
					ret = r2;
					if (err)
						*err = e2;
				}
			}
			attestio_chain_extend(s->head, rec, ri->len);
			att_map_push(s, ri->seq, s->head, false);
			s->next_seq = ri->seq + 1;
			return ret;
		}
		s->joined = false;
	} else if (s->joined && !ret) {
		ret = att_rerr(err, ATT_EPARSE, ri->stream, ri->seq,
			       "cannot verify: stream joined mid-chain before a checkpoint (%s record)",
			       att_rec_type_name(ri->type));
	}
	if (att_buf_add(s, rec, ri) && !ret)
		ret = att_rerr(err, ATT_ENOMEM, ri->stream, ri->seq,
			       "out of memory buffering records until a checkpoint");
	if (ret)
		*st = ATT_REC_BAD;
	return ret;
}

/* A record of @s could not be used: the stream must re-anchor. */
static void att_break(struct att_verifier *v, struct att_vstream *s)
{
	switch (s->state) {
	case ATT_S_NEW:
		v->sum.streams++;
		break;
	case ATT_S_CHAINED:
		att_chain_drop(s, false);
		break;
	case ATT_S_SEEK:
		att_buf_clear(s, true);
		break;
	}
	s->state = ATT_S_SEEK;
	s->joined = false;
}

static int att_feed(struct att_verifier *v, const uint8_t *rec, size_t len,
		    enum att_rec_state *st, struct att_err *err)
{
	const struct attestio_rec_hdr *h = (const void *)rec;
	struct attestio_rec_info ri;
	struct att_vstream *s;
	int ret;

	if (len < ATTESTIO_HDR_LEN)
		return att_err(err, ATT_EPARSE,
			       "record of %zu bytes is shorter than a header",
			       len);
	ret = attestio_rec_hdr_decode(rec, len, &ri);
	if (ret)
		return att_rerr(err, ATT_EPARSE, le32_to_cpu(h->stream),
				le64_to_cpu(h->seq),
				"bad record header (version %u, type %u, len %u, flags 0x%x)",
				le16_to_cpu(h->version), le16_to_cpu(h->type),
				le32_to_cpu(h->len), le32_to_cpu(h->flags));
	s = &v->s[ri.stream];
	if (ri.len != len) {
		att_break(v, s);
		return att_rerr(err, ATT_EPARSE, ri.stream, ri.seq,
				"record header says %u bytes but %zu were given",
				ri.len, len);
	}
	ret = attestio_rec_validate(rec, len, &ri);
	if (ret) {
		att_break(v, s);
		return att_rerr(err, ATT_EPARSE, ri.stream, ri.seq,
				"%s record fails validation: a field is out of range, the length does not match or padding is not zero",
				att_rec_type_name(ri.type));
	}
	if (ri.type == ATTESTIO_REC_LOST) {
		const struct attestio_lost *l = (const void *)(rec + ATTESTIO_HDR_LEN);

		*st = ATT_REC_LOCAL;
		v->sum.lost_records += le64_to_cpu(l->records);
		v->sum.events |= ATT_EV_LOST;
		for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++)
			v->s[i].lost_pending = true;
		if (v->o.allow_lost)
			return 0;
		return att_err(err, ATT_ESEQ,
			       "this reader lost %llu records (%llu bytes) of unknown streams",
			       (unsigned long long)le64_to_cpu(l->records),
			       (unsigned long long)le64_to_cpu(l->bytes));
	}
	if (s->state == ATT_S_NEW)
		v->sum.streams++;
	switch (ri.type) {
	case ATTESTIO_REC_SAMPLE:
		v->sum.samples++;
		break;
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
		if (ri.type != ATTESTIO_REC_DESCRIPTOR) {
			*st = ATT_REC_BAD;
			return att_rerr(err, ATT_EPARSE, ri.stream, ri.seq,
					"the first record of a stream (%s) is not a descriptor",
					att_rec_type_name(ri.type));
		}
		if (s->state == ATT_S_CHAINED && s->have_instance &&
		    le64_to_cpu(((const struct attestio_descriptor *)
				 (rec + ATTESTIO_HDR_LEN))->instance) == s->instance) {
			*st = ATT_REC_BAD;
			return att_rerr(err, ATT_ESEQ, ri.stream, ri.seq,
					"duplicate start of the chain (expected seq %llu)",
					(unsigned long long)s->next_seq);
		}
		/* a new chain: first attach, or the module was reloaded */
		att_genesis(s, rec, ri.stream);
		s->lost_pending = false;
		return att_chained(v, s, rec, &ri, st, err);
	}
	switch (s->state) {
	case ATT_S_NEW:
		s->state = ATT_S_SEEK;
		s->joined = !s->lost_pending &&
			    ri.type != ATTESTIO_REC_CHECKPOINT;
		return att_seek(v, s, rec, &ri, st, err);
	case ATT_S_SEEK:
		return att_seek(v, s, rec, &ri, st, err);
	case ATT_S_CHAINED:
		break;
	}
	if (ri.seq < s->next_seq) {
		*st = ATT_REC_BAD;
		return att_rerr(err, ATT_ESEQ, ri.stream, ri.seq,
				"duplicate or out-of-order record: seq %llu already seen (expected %llu)",
				(unsigned long long)ri.seq,
				(unsigned long long)s->next_seq);
	}
	if (ri.seq > s->next_seq) {
		bool explained = s->lost_pending && v->o.allow_lost;

		ret = explained ? 0 :
		      att_rerr(err, ATT_ESEQ, ri.stream, ri.seq,
			       "expected seq %llu: %llu records missing and no gap or lost record accounts for them",
			       (unsigned long long)s->next_seq,
			       (unsigned long long)(ri.seq - s->next_seq));
		struct att_err e2;
		int r2;

		att_chain_drop(s, false);
		s->state = ATT_S_SEEK;
		s->joined = false;
		r2 = att_seek(v, s, rec, &ri, st, &e2);
		if (!ret && r2 && err)
			*err = e2;
		if (ret || r2)
			*st = ATT_REC_BAD;
		return ret ? ret : r2;
	}
	s->lost_pending = false;
	return att_chained(v, s, rec, &ri, st, err);
}

int att_verifier_feed(struct att_verifier *v, const uint8_t *rec, size_t len,
		      enum att_rec_state *state, struct att_err *err)
{
	enum att_rec_state st = ATT_REC_BAD;
	int ret;

	if (!v || !rec)
		return att_err(err, ATT_EINVAL, "att_verifier_feed: NULL argument");
	v->sum.records++;
	if (len > ATTESTIO_REC_MAX_LEN) {
		ret = att_err(err, ATT_EPARSE,
			      "record of %zu bytes is longer than any record (%u)",
			      len, ATTESTIO_REC_MAX_LEN);
		goto out;
	}
	/* the record structures are read in place: align them */
	if ((uintptr_t)rec % ATTESTIO_REC_ALIGN) {
		memcpy(v->scratch, rec, len);
		rec = v->scratch;
	}
	ret = att_feed(v, rec, len, &st, err);
out:
	if (ret) {
		if (st != ATT_REC_LOCAL)
			st = ATT_REC_BAD;
		if (!v->sum.first_error)
			v->sum.first_error = ret;
	} else if (err) {
		memset(err, 0, sizeof(*err));
	}
	if (state)
		*state = st;
	return ret;
}

void att_verifier_summary(const struct att_verifier *v, struct att_summary *s)
{
	if (!s)
		return;
	memset(s, 0, sizeof(*s));
	if (!v)
		return;
	*s = v->sum;
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		const struct att_vstream *vs = &v->s[i];

		s->samples_verified += vs->samples_verified;
		s->samples_unsigned += vs->samples_unsigned;
		s->samples_unverifiable += vs->samples_unverifiable;
		s->samples_pending += vs->map_samples + vs->buf_samples +
				      vs->samples_orphaned;
	}
}

const struct attestio_descriptor *
att_verifier_descriptor(const struct att_verifier *v, uint32_t stream)
{
	if (!v || stream >= ATTESTIO_MAX_STREAMS)
		return NULL;
	return v->s[stream].desc;
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

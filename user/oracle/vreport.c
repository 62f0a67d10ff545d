// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `attestio verify-report`'s logic: a final report re-verified offline
 * against its evidence bundle (Documentation/protocol.md, "Evidence
 * bundle"): signatures, config digest, Merkle root, every chain segment
 * with libattestio, the readings and the aggregation.  Pure logic; it
 * links libattestio (liboracle's other files do not).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libattestio.h>
#include <openssl/sha.h>

#include "beacon.h"
#include "bundle.h"
#include "keccak.h"
#include "report_cbor.h"

/* ----------------------------------------------------- verification --- */

struct fedrec {
	uint64_t seq;
	const uint8_t *rec;
	size_t len;
};

/* The beacon a reading's checkpoint covered. */
struct rbcn {
	bool set;			/* false: none */
	uint8_t v[32];
};

/* The bundle's beacons: value -> the earliest round it was issued in. */
struct bmap {
	size_t n;
	uint8_t (*v)[32];
	uint64_t *round;
};

struct vdev {
	const struct oracle_bundle_dev *d;
	struct rbcn cur;		/* of the checkpoint just verified */
	struct rbcn *rb;		/* per reading */
	struct att_verifier *v;
	struct fedrec *fed;
	size_t nfed;
	int64_t *val;			/* fixed-point readings */
	int64_t *ns;			/* their capture times */
	struct fedrec *src;		/* their records (duplicates refused) */
	size_t nval, cap;
	int dec;
	int chan_type;			/* the feed's channel_type, -1: none */
	const uint8_t *identity;	/* the device identity pinned, or NULL */
	uint32_t chain;			/* index of the chain being verified */
	bool first_set;			/* a record of it verified: */
	uint64_t first_seq;		/* the lowest such seq */
	uint64_t first_rt;		/* and its capture time (realtime_ns) */
	size_t resync;			/* segments complete on the node's word */
	size_t excluded[3];		/* readings left out on the node's word */
	size_t verified;
	bool cp_verified;
	char bad[300];
};

/* The reason device @d's item excludes @seq of chain @chain, or 0. */
static int excluded(const struct oracle_bundle_dev *d, uint32_t chain, uint64_t seq)
{
	size_t lo = 0, hi = d->nexcl;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct oracle_bundle_excl *e = &d->excl[mid];

		if (e->chain == chain && e->seq == seq)
			return e->why;
		if (e->chain < chain || (e->chain == chain && e->seq < seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void vdev_verdict(void *ctx, const struct att_verdict *vd)
{
	struct vdev *x = ctx;
	const struct attestio_descriptor *desc;
	struct attestio_rec_hdr h;
	struct attestio_sample sm;
	const uint8_t *scan;
	double v;

	if (vd->state == ATT_REC_BAD ||
	    (vd->state == ATT_REC_UNVERIFIABLE && vd->cause == ATT_CAUSE_BROKEN)) {
		if (!*x->bad)
			snprintf(x->bad, sizeof(x->bad), "stream %u seq %" PRIu64
				 " (%s): %s", vd->stream, vd->seq,
				 att_rec_type_name(vd->type),
				 vd->why ? vd->why : att_code_name(vd->code));
		return;
	}
	if (vd->state != ATT_REC_VERIFIED)
		return;
	x->verified++;
	/* where the chain segment's verified part starts: fed[] holds its
	 * records with consecutive seqs (verify_dev) */
	if (vd->stream == x->d->stream && x->nfed && vd->seq >= x->fed[0].seq &&
	    vd->seq - x->fed[0].seq < x->nfed && (!x->first_set || vd->seq < x->first_seq)) {
		const struct fedrec *f = &x->fed[vd->seq - x->fed[0].seq];

		memcpy(&h, f->rec, sizeof(h));
		x->first_set = true;
		x->first_seq = vd->seq;
		x->first_rt = le64toh(h.realtime_ns);
	}
	if (vd->type == ATTESTIO_REC_CHECKPOINT)
		x->cp_verified = true;
	if (vd->type != ATTESTIO_REC_SAMPLE || vd->stream != x->d->stream)
		return;
	desc = att_verifier_descriptor(x->v, vd->stream);
	for (size_t i = x->nfed; desc && i-- > 0;) {
		size_t sl;

		if (x->fed[i].seq != vd->seq)
			continue;
		if (x->fed[i].len < sizeof(h) + sizeof(sm))
			return;
		/* records in a bundle have any alignment */
		memcpy(&h, x->fed[i].rec, sizeof(h));
		memcpy(&sm, x->fed[i].rec + sizeof(h), sizeof(sm));
		scan = x->fed[i].rec + sizeof(h) + offsetof(struct attestio_sample, scan);
		sl = le32toh(sm.scan_len);
		if (sl > x->fed[i].len - sizeof(h) - sizeof(sm) ||
		    x->d->channel >= le16toh(desc->nchannels) ||
		    att_decode_channel(desc, x->d->channel, scan, sl, &v, NULL))
			return;
		/* as the node: a channel of another type, or a device whose
		 * descriptor is not the one the config pins, gives no reading */
		if (x->chan_type >= 0 &&
		    le16toh(desc->chan[x->d->channel].type) != (unsigned int)x->chan_type)
			return;
		if (x->identity && memcmp(desc->identity, x->identity, 32))
			return;
		/* a reading the node did not keep for a reason only it can
		 * judge (future capture time, clock drift): its word, counted
		 * and shown */
		{
			int w = excluded(x->d, x->chain, vd->seq);

			if (w) {
				x->excluded[w]++;
				return;
			}
		}
		if (x->nval == x->cap) {
			size_t n = x->cap ? 2 * x->cap : 64;
			int64_t *a = realloc(x->val, n * sizeof(*a));
			int64_t *b;
			struct fedrec *c;

			if (!a)
				return;
			x->val = a;
			b = realloc(x->ns, n * sizeof(*b));
			if (!b)
				return;
			x->ns = b;
			c = realloc(x->src, n * sizeof(*c));
			if (!c)
				return;
			x->src = c;
			{
				struct rbcn *r = realloc(x->rb, n * sizeof(*r));

				if (!r)
					return;
				x->rb = r;
			}
			x->cap = n;
		}
		x->rb[x->nval] = x->cur;
		x->src[x->nval] = x->fed[i];
		x->val[x->nval] = oracle_to_fixed(v, x->dec);
		x->ns[x->nval++] = (int64_t)le64toh(h.realtime_ns);
		return;
	}
}

/* As the node's ingest: the samples a checkpoint verifies carry the
 * beacon it covers (libattestio calls this before their verdicts). */
static void vdev_beacon(void *ctx, uint32_t stream, uint64_t instance,
			uint64_t epoch, const uint8_t *beacon)
{
	struct vdev *x = ctx;

	(void)stream;
	(void)instance;
	(void)epoch;
	x->cur.set = beacon != NULL;
	if (beacon)
		memcpy(x->cur.v, beacon, 32);
	else
		memset(x->cur.v, 0, 32);
}

static bool bmap_find(const struct bmap *bm, const uint8_t *v, uint64_t *round)
{
	for (size_t i = 0; bm && i < bm->n; i++)
		if (!memcmp(bm->v[i], v, 32)) {
			*round = bm->round[i];
			return true;
		}
	return false;
}

static int fail(struct oracle_vr_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct oracle_vr_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

struct tv {
	int64_t ns;
	size_t k;		/* verification order: ties */
	int64_t val;
};

static int tv_cmp(const void *a, const void *b)
{
	const struct tv *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

static int fedrec_cmp(const void *a, const void *b)
{
	const struct fedrec *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->rec, y->rec, x->len);
}

/*
 * A reading counts once: the same sample record verified twice (a chain
 * segment repeated in the bundle, as a chain of its own or appended to
 * one) would weigh it twice in the device's median.  The node stores each
 * record once.  Two distinct records are never byte-identical (stream,
 * seq and both capture clocks are in the header).  0, or -1 with the seq.
 */
static int dup_reading(const struct vdev *x, uint64_t *seq)
{
	struct fedrec *s;
	int ret = 0;

	if (x->nval < 2)
		return 0;
	s = malloc(x->nval * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, x->src, x->nval * sizeof(*s));
	qsort(s, x->nval, sizeof(*s), fedrec_cmp);
	for (size_t k = 1; k < x->nval && !ret; k++)
		if (!fedrec_cmp(&s[k - 1], &s[k])) {
			*seq = s[k].seq;
			ret = -1;
		}
	free(s);
	return ret;
}

/* The segment state of a bundled chain (@st: a descriptor record, then
 * optionally a calib record) offered to @v; ATT_EINVAL if malformed. */
static int offer_state(struct att_verifier *v, uint32_t stream,
		       const uint8_t *st, size_t len)
{
	struct attestio_rec_hdr h;
	size_t dlen;

	if (len < sizeof(h))
		return ATT_EINVAL;
	memcpy(&h, st, sizeof(h));
	dlen = le32toh(h.len);
	if (dlen < sizeof(h) || dlen > len)
		return ATT_EINVAL;
	return att_verifier_offer_state(v, stream, st, dlen,
					dlen < len ? st + dlen : NULL,
					len - dlen);
}

/* Verify device @i's chains; its round input into *in.  0 or -EBADMSG. */
static int verify_dev(const struct oracle_bundle_dev *d, size_t i,
		      const struct oracle_cfg *cfg, const struct bmap *bm,
		      uint64_t end,
		      const struct oracle_vr_gw *gws, size_t ngws, unsigned int flags,
		      struct oracle_agg_input *in, struct oracle_vr_result *res)
{
	struct att_boot *boots[ORACLE_BUNDLE_BOOTS_MAX] = { 0 };
	struct vdev x = { .d = d, .dec = cfg->p.decimals, .chan_type = cfg->chan_type };
	const struct oracle_cfg_stream *cs = NULL;
	struct att_policy *pol = NULL;
	struct att_key *ak = NULL;
	struct att_err e = { 0 };
	int64_t t0 = (int64_t)(end - cfg->period) * 1000000000;
	int64_t t1 = (int64_t)end * 1000000000, newest = -1;
	int64_t *win = NULL;
	bool *fresh = NULL, *set_b = NULL;
	size_t req_k = SIZE_MAX;	/* a used reading under no beacon */
	uint8_t id[16];
	size_t nwin = 0, nrec = 0;
	int ret = -EBADMSG;

	oracle_device_id(d->gw, d->stream, id);
	if (memcmp(id, d->device, 16)) {
		fail(res, "device %zu: id is not its gateway and stream's", i);
		goto out;
	}
	for (size_t k = 0; k < cfg->nstreams; k++)
		if (!memcmp(cfg->s[k].gw, d->gw, 16) &&
		    cfg->s[k].stream == d->stream && cfg->s[k].channel == d->channel)
			cs = &cfg->s[k];
	if (!cs) {
		fail(res, "device %zu: not a stream of the feed's configuration", i);
		goto out;
	}
	if (cs->pinned)
		x.identity = cs->identity;
	memcpy(in->device, d->device, 16);
	memcpy(in->gateway, d->gw, 16);
	memcpy(in->site, cs->site, 16);
	in->tier = d->tier;
	in->reputation = d->reputation;
	if (d->tier > cs->tier) {
		fail(res, "device %zu: tier %u above the configured %u", i,
		     d->tier, cs->tier);
		goto out;
	}
	for (size_t c = 0; c < d->nchains; c++)
		nrec += d->chains[c].len / sizeof(struct attestio_rec_hdr) + 1;
	x.fed = calloc(nrec + 1, sizeof(*x.fed));
	if (!x.fed) {
		ret = -ENOMEM;
		goto out;
	}
	if (d->nchains) {
		const struct oracle_vr_gw *pin = NULL;
		char hex[33];

		const struct oracle_cfg_gw *cg = NULL;
		uint8_t h[32];

		for (size_t k = 0; k < ngws; k++)
			if (!memcmp(gws[k].id, d->gw, 16))
				pin = &gws[k];
		oracle_hex(d->gw, 16, hex);
		/* the AK and policy the config digest commits to (every
		 * gateway of the streams has its line: oracle_cfg_parse) */
		for (size_t k = 0; k < cfg->ngws; k++)
			if (!memcmp(cfg->gws[k].gw, d->gw, 16))
				cg = &cfg->gws[k];
		if (!cg) {
			fail(res, "device %zu: gateway %s has no AK line in the "
			     "configuration", i, hex);
			goto out;
		}
		SHA256(d->ak, d->ak_len, h);
		if (!cg->enrolled && memcmp(h, cg->ak_sha, 32)) {
			fail(res, "device %zu: the bundle's AK is not the one the "
			     "config digest commits to for gateway %s", i, hex);
			goto out;
		}
		SHA256(d->policy, d->policy_len, h);
		if (cg->has_policy != (d->policy_len > 0) ||
		    (cg->has_policy && memcmp(h, cg->policy_sha, 32))) {
			fail(res, "device %zu: the bundle's PCR policy is not the "
			     "one the config digest commits to for gateway %s", i, hex);
			goto out;
		}
		if (!pin && !(flags & ORACLE_VR_UNPINNED_AKS)) {
			fail(res, "device %zu: gateway %s has no pinned AK (its "
			     "records would verify with whatever key the bundle "
			     "names)", i, hex);
			goto out;
		}
		if (pin && (pin->ak_len != d->ak_len || memcmp(pin->ak, d->ak, d->ak_len))) {
			fail(res, "device %zu: the bundle's AK is not gateway %s's "
			     "pinned AK", i, hex);
			goto out;
		}
		/* an empty policy admits any PCR state: pinned as well */
		if (pin && (pin->policy_len != d->policy_len ||
			    (d->policy_len && memcmp(pin->policy, d->policy,
						     d->policy_len)))) {
			fail(res, "device %zu: the bundle's PCR policy is not "
			     "gateway %s's pinned one", i, hex);
			goto out;
		}
		if (att_key_parse(d->ak, d->ak_len, &ak, &e)) {
			fail(res, "device %zu: AK: %s", i, e.msg);
			goto out;
		}
		if (att_key_simulated(ak) && !(flags & ORACLE_VR_ALLOW_SIMULATED)) {
			fail(res, "device %zu: its AK is a simulated gateway's software "
			     "key (no TPM holds it); admitted only when asked to "
			     "(tests)", i);
			goto out;
		}
		if (d->policy_len &&
		    att_policy_parse((const char *)d->policy, d->policy_len, &pol, &e)) {
			fail(res, "device %zu: PCR policy: %s", i, e.msg);
			goto out;
		}
		if (d->kernel_key && !d->nboots) {
			fail(res, "device %zu: kernel_key required but the bundle "
			     "has no boot evidence", i);
			goto out;
		}
		for (size_t k = 0; d->kernel_key && k < d->nboots; k++)
			if (att_boot_new(ak, d->boots[k].mlog, d->boots[k].mlog_len,
					 d->boots[k].pcrs, d->boots[k].pcrs_len,
					 &boots[k], &e)) {
				fail(res, "device %zu: boot evidence %zu: %s", i, k, e.msg);
				goto out;
			}
	}
	for (size_t c = 0; c < d->nchains; c++) {
		const uint8_t *p = d->chains[c].recs;
		size_t left = d->chains[c].len;
		struct att_verifier_opts o = {
			.ak = ak, .policy = pol, .allow_join = true,
			.allow_lost = true, .on_verdict = vdev_verdict, .ctx = &x,
			.on_beacon = vdev_beacon,
		};

		if (d->kernel_key) {
			o.boots = (const struct att_boot *const *)boots;
			o.nboots = d->nboots;
		}
		x.v = att_verifier_new(&o);
		x.nfed = 0;
		x.chain = (uint32_t)c;
		x.first_set = false;
		if (!x.v) {
			ret = -ENOMEM;
			goto out;
		}
		/* v4: a chain that starts at a signed head carries the
		 * segment state in force there; the verifier takes it only
		 * if that head commits to it */
		if (d->chains[c].state_len) {
			int r = offer_state(x.v, d->stream, d->chains[c].state,
					    d->chains[c].state_len);

			if (r) {
				att_verifier_free(x.v);
				if (r == ATT_ENOMEM) {
					ret = -ENOMEM;
					goto out;
				}
				fail(res, "device %zu chain %zu: its segment state is not "
				     "a descriptor record and a calib record of the "
				     "device's stream", i, c);
				goto out;
			}
		}
		while (left) {
			struct attestio_rec_hdr h;
			size_t l;

			if (left < sizeof(h))
				break;
			memcpy(&h, p, sizeof(h));
			l = le32toh(h.len);
			if (l < sizeof(h) || l > left)
				break;
			if (le32toh(h.stream) != d->stream) {
				att_verifier_free(x.v);
				fail(res, "device %zu chain %zu: a record of stream %u",
				     i, c, le32toh(h.stream));
				goto out;
			}
			/* a segment is one stretch of one chain: a hole (even one
			 * a reader-local lost record would excuse) could hide
			 * readings of the window */
			if (le16toh(h.type) == ATTESTIO_REC_LOST ||
			    (le32toh(h.flags) & ATTESTIO_RF_UNCHAINED)) {
				att_verifier_free(x.v);
				fail(res, "device %zu chain %zu: an unchained (reader-local "
				     "lost) record: a chain segment holds chained "
				     "records only", i, c);
				goto out;
			}
			if (x.nfed && le64toh(h.seq) != x.fed[x.nfed - 1].seq + 1) {
				att_verifier_free(x.v);
				fail(res, "device %zu chain %zu: seq %" PRIu64 " follows "
				     "seq %" PRIu64 ": a chain segment holds no gap "
				     "(the records between could be readings of the "
				     "window left out)", i, c, (uint64_t)le64toh(h.seq),
				     x.fed[x.nfed - 1].seq);
				goto out;
			}
			x.fed[x.nfed++] = (struct fedrec){ le64toh(h.seq), p, l };
			memset(&e, 0, sizeof(e));
			if (att_verifier_feed(x.v, p, l, NULL, &e) && !*x.bad)
				snprintf(x.bad, sizeof(x.bad), "%s", e.msg);
			p += l;
			left -= l;
		}
		memset(&e, 0, sizeof(e));
		att_verifier_finish(x.v, &e);
		att_verifier_free(x.v);
		x.v = NULL;
		if (left) {
			fail(res, "device %zu chain %zu: truncated record", i, c);
			goto out;
		}
		if (*x.bad) {
			fail(res, "device %zu chain %zu: %s", i, c, x.bad);
			goto out;
		}
		/*
		 * Completeness at the segment's start: its verified part must
		 * begin at the chain's start (seq 0: nothing before it) or
		 * with a record captured (a sample) or made (any other) before
		 * the round's window: the module chains a stream's samples in
		 * capture order and makes a record after the samples before
		 * it were captured, so no earlier sample of the chain lies in
		 * the window (unless the gateway's clock was set back in
		 * between).  Else t colluding nodes could have cut the
		 * window's first readings off at a later signed head.  A
		 * segment the node declares to start at its resync point
		 * (key 15: after a gap or a late join) is complete on its
		 * word, and counted.
		 */
		if (x.first_set && x.first_seq && x.first_rt >= (uint64_t)t0) {
			if (!d->chains[c].resync) {
				fail(res, "device %zu chain %zu: its segment starts inside "
				     "the round's window: the first record it verifies "
				     "(seq %" PRIu64 ", captured at %" PRIu64 ".%09" PRIu64
				     ") is neither the chain's start (seq 0) nor captured "
				     "before the window's start (%" PRId64 "), and the "
				     "bundle does not declare it a resync point (key 15): "
				     "readings of the window before it may have been left "
				     "out", i, c, x.first_seq, x.first_rt / 1000000000,
				     x.first_rt % 1000000000, t0 / 1000000000);
				goto out;
			}
			x.resync++;
		}
	}
	{
		uint64_t dseq = 0;
		int dr = dup_reading(&x, &dseq);

		if (dr == -ENOMEM) {
			ret = -ENOMEM;
			goto out;
		}
		if (dr) {
			fail(res, "device %zu: the reading of seq %" PRIu64 " is in the "
			     "bundle twice (a chain segment repeated)", i, dseq);
			goto out;
		}
	}
	if (d->tier > 1 && !(d->kernel_key && x.cp_verified)) {
		fail(res, "device %zu: tier %u without kernel-exclusive key use "
		     "proven by its records", i, d->tier);
		goto out;
	}
	/* the round input, as the node derives it (round.c): readings whose
	 * checkpoint covers a stale beacon do not count */
	win = malloc((x.nval + 1) * sizeof(*win));
	fresh = malloc((x.nval + 1) * sizeof(*fresh));
	set_b = malloc((x.nval + 1) * sizeof(*set_b));
	if (!win || !fresh || !set_b) {
		ret = -ENOMEM;
		goto out;
	}
	{
		/* the node takes the first ORACLE_ROUND_READINGS_MAX readings
		 * of the window in capture-time order */
		struct tv *tv = malloc((x.nval + 1) * sizeof(*tv));
		size_t nt = 0;

		if (!tv) {
			ret = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < x.nval; k++) {
			uint64_t br = 0;
			bool known = x.rb[k].set && bmap_find(bm, x.rb[k].v, &br);

			set_b[k] = x.rb[k].set;
			fresh[k] = oracle_reading_fresh(cfg->freshness, cfg->bperiod,
							cfg->bstart, cfg->max_age,
							end, x.rb[k].set, known, br);
			if (x.ns[k] >= t0 && x.ns[k] < t1 && !fresh[k])
				res->readings_stale++;
			if (x.ns[k] >= t0 && x.ns[k] < t1 && fresh[k])
				tv[nt++] = (struct tv){ x.ns[k], k, x.val[k] };
		}
		qsort(tv, nt, sizeof(*tv), tv_cmp);
		for (size_t k = 0; k < nt && k < ORACLE_ROUND_READINGS_MAX; k++) {
			win[nwin++] = tv[k].val;
			newest = tv[k].ns;
			req_k = !set_b[tv[k].k] ? tv[k].k : req_k;
		}
		free(tv);
	}
	if (!nwin) {
		size_t kn = 0;

		for (size_t k = 0; k < x.nval; k++)
			if (x.ns[k] < t0 && x.ns[k] > newest) {
				newest = x.ns[k];
				win[0] = x.val[k];
				kn = k;
			}
		/* the newest earlier reading, only if it counts (round.c) */
		if (newest >= 0 && !fresh[kn])
			newest = -1;
		nwin = newest >= 0;
		if (nwin && !set_b[kn])
			req_k = kn;
	}
	/* with freshness = required a counted reading's checkpoint covers a
	 * beacon the network issued (the node's verifier refused others) */
	if (cfg->freshness == ORACLE_FRESH_REQUIRED && req_k != SIZE_MAX) {
		fail(res, "device %zu: freshness = required, but the checkpoint of "
		     "a reading the round uses covers no beacon", i);
		goto out;
	}
	in->value = nwin ? oracle_median_i64(win, nwin) : 0;
	in->time = newest > 0 ? (uint64_t)(newest / 1000000000) : 0;
	res->records_verified += x.verified;
	res->kernel_devices += d->kernel_key && x.cp_verified;
	res->simulated_devices += ak && att_key_simulated(ak);
	res->readings += x.nval;
	res->segments_resync += x.resync;
	for (int k = 0; k < 3; k++)
		res->readings_excluded[k] += x.excluded[k];
	ret = 0;
out:
	for (size_t k = 0; k < ORACLE_BUNDLE_BOOTS_MAX; k++)
		att_boot_free(boots[k]);
	att_key_free(ak);
	att_policy_free(pol);
	free(x.fed);
	free(x.val);
	free(x.ns);
	free(x.src);
	free(x.rb);
	free(win);
	free(fresh);
	free(set_b);
	return ret;
}

/* @final_buf NULL: no signatures checked, the bundle report's core is
 * taken as the core (oracle_verify_bundle). */
static int verify(const uint8_t *final_buf, size_t final_len,
		  const uint8_t *bundle, size_t blen,
		  const uint8_t (*nodes)[ORACLE_PUB_LEN], size_t nnodes,
		  const struct oracle_vr_gw *gws, size_t ngws,
		  unsigned int flags, struct oracle_vr_result *res)
{
	struct oracle_final fin;
	struct oracle_set set = { 0 };
	struct oracle_bundle b;
	struct oracle_report rep = { 0 };
	struct oracle_cfg *cfg = NULL;
	struct bmap bm = { 0 };
	struct oracle_agg_input *in = NULL;
	struct oracle_agg_contrib *out = NULL;
	struct oracle_agg_result ar = { 0 };
	uint8_t digest[ORACLE_HASH_LEN], root[ORACLE_HASH_LEN], leaf[ORACLE_HASH_LEN];
	uint8_t core[ORACLE_CORE_LEN], fid[ORACLE_HASH_LEN];
	const char *why = NULL;
	bool have_b = false, have_r = false;
	size_t tmin;
	uint64_t end;
	int64_t value;
	int ret = -EBADMSG;

	memset(res, 0, sizeof(*res));
	if (final_buf && oracle_final_parse(final_buf, final_len, &fin, &why))
		return fail(res, "report: %s", why);
	if (oracle_bundle_parse(bundle, blen, &b, &why))
		return fail(res, "bundle: %s", why);
	have_b = true;
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		ret = -ENOMEM;
		goto out;
	}
	if (oracle_cfg_parse(b.cfg_text, b.cfg_len, cfg, &why)) {
		fail(res, "bundle config: %s", why);
		goto out;
	}
	snprintf(res->feed, sizeof(res->feed), "%s", cfg->name);
	oracle_config_digest(b.cfg_text, b.cfg_len, digest);
	/* the beacons the readings' checkpoints covered: each signed by a
	 * node of the configuration's whitelist; a value's earliest round */
	bm.v = calloc(b.nbeacons + 1, sizeof(*bm.v));
	bm.round = calloc(b.nbeacons + 1, sizeof(*bm.round));
	if (!bm.v || !bm.round) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < b.nbeacons; k++) {
		struct oracle_beacon bc;
		size_t idx, j;

		why = NULL;
		if (oracle_beacon_parse(b.beacon[k], b.beacon_len[k], &bc, &why) ||
		    oracle_beacon_check(&bc, (const uint8_t (*)[ORACLE_PUB_LEN])cfg->nodes,
					cfg->nnodes, &idx, &why)) {
			fail(res, "bundle beacon %zu: %s", k, why ? why :
			     "not signed by a whitelisted node");
			goto out;
		}
		for (j = 0; j < bm.n && memcmp(bm.v[j], bc.value, 32); j++)
			;
		if (j == bm.n) {
			memcpy(bm.v[bm.n], bc.value, 32);
			bm.round[bm.n++] = bc.round;
		} else {
			/* nodes refuse a value issued before (beacon.c): the
			 * same value twice is a copy, under an older round it
			 * would make fresh readings look stale */
			fail(res, "bundle beacon %zu: its value is in the bundle "
			     "twice (a copied beacon)", k);
			goto out;
		}
	}
	if (!final_buf)
		goto signed_core;
	/* 1. t-of-n distinct whitelisted signatures over the core */
	if (!nnodes || nnodes > ORACLE_QUORUM_MAX) {
		fail(res, "whitelist: %zu nodes (1 ... %d)", nnodes, ORACLE_QUORUM_MAX);
		goto out;
	}
	tmin = (nnodes - 1) / 3 + 1;
	res->t = cfg->t > tmin ? cfg->t : tmin;
	set.n = nnodes;
	set.f = (unsigned int)(res->t - 1);
	memcpy(set.config_digest, digest, ORACLE_HASH_LEN);
	for (size_t k = 0; k < nnodes; k++)
		oracle_eth_address(nodes[k], set.addrs[k]);
	if (oracle_final_check(&fin, &set, &res->core, &why)) {
		fail(res, "signatures: %s", why);
		goto out;
	}
	res->signers = fin.nsigs;
	oracle_core_digest(&res->core, digest);
	for (size_t i = 0; i < fin.nsigs; i++) {
		uint8_t pub[ORACLE_PUB_LEN];

		if (oracle_recover(digest, fin.sigs[i], pub, &why))
			continue;	/* oracle_final_check recovered it */
		for (size_t k = 0; k < nnodes; k++)
			if (!memcmp(nodes[k], pub, ORACLE_PUB_LEN))
				res->signer_idx[i] = k;
	}
signed_core:
	/* 2. the bundle is this report's: its body, items and Merkle root */
	if (oracle_report_parse(b.report, b.report_len, &rep, &why)) {
		fail(res, "bundle report: %s", why);
		goto out;
	}
	have_r = true;
	if (!final_buf) {
		res->core = rep.core;
		oracle_core_encode(&rep.core, fin.core);
	}
	/* the node that made the bundle signed its report: a whitelisted one */
	if (final_buf) {
		uint8_t pub[ORACLE_PUB_LEN];
		size_t k;

		if (oracle_report_verify(&rep, pub, &why)) {
			fail(res, "bundle report: %s", why);
			goto out;
		}
		for (k = 0; k < nnodes && memcmp(nodes[k], pub, ORACLE_PUB_LEN); k++)
			;
		if (k == nnodes) {
			fail(res, "bundle report: its node is not on the whitelist");
			goto out;
		}
	}
	oracle_core_encode(&rep.core, core);
	if (memcmp(core, fin.core, ORACLE_CORE_LEN)) {
		fail(res, "the bundle's report core is not the final report's");
		goto out;
	}
	if (rep.nevidence != b.nitems) {
		fail(res, "evidence: the report lists %zu leaves, the bundle has "
		     "%zu items", rep.nevidence, b.nitems);
		goto out;
	}
	for (size_t k = 0; k < b.nitems; k++) {
		oracle_merkle_leaf(b.item[k], b.item_len[k], leaf);
		if (memcmp(leaf, rep.evidence[k], ORACLE_HASH_LEN)) {
			fail(res, "evidence: item %zu does not hash to its leaf", k);
			goto out;
		}
	}
	if (oracle_report_evidence_root(&rep, root) ||
	    memcmp(root, res->core.evidence_root, ORACLE_HASH_LEN)) {
		fail(res, "evidence root: the Merkle root of the report body and "
		     "the bundle's items is not the core's");
		goto out;
	}
	/* 3. the configuration the digest commits to */
	oracle_feed_id(cfg->name, fid);
	if (memcmp(fid, res->core.feed_id, ORACLE_HASH_LEN) ||
	    cfg->p.decimals != res->core.decimals) {
		fail(res, "config: feed id or decimals are not the core's");
		goto out;
	}
	end = cfg->start + res->core.round * cfg->period;
	if (rep.round_time != end) {
		fail(res, "config: round %" PRIu64 " ends at %" PRIu64 ", the "
		     "report says %" PRIu64, res->core.round, end, rep.round_time);
		goto out;
	}
	if (b.ndev != cfg->nstreams || rep.ndevices != b.ndev) {
		fail(res, "devices: %zu in the bundle, %zu in the report, %zu "
		     "streams configured", b.ndev, rep.ndevices, cfg->nstreams);
		goto out;
	}
	/* 4. every device's records, and its round input */
	in = calloc(b.ndev + 1, sizeof(*in));
	out = calloc(b.ndev + 1, sizeof(*out));
	if (!in || !out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < b.ndev; k++) {
		if (memcmp(b.dev[k].device, rep.devices[k].id, 16)) {
			fail(res, "device %zu: not the report's device %zu", k, k);
			goto out;
		}
		ret = verify_dev(&b.dev[k], k, cfg, &bm, end, gws, ngws, flags,
				 &in[k], res);
		if (ret)
			goto out;
		ret = -EBADMSG;
	}
	res->devices = b.ndev;
	/* 5. the aggregation, with the same code */
	if (oracle_agg_round(&cfg->p, &b.st, res->core.round, end, in, b.ndev,
			     out, &ar, &why)) {
		fail(res, "aggregation: %s", why);
		goto out;
	}
	value = ar.status == ORACLE_SETTLED || ar.median_valid ? ar.value : 0;
	if (ar.status != res->core.status || value != res->core.value) {
		fail(res, "aggregation: recomputed %s value %" PRId64 ", the core "
		     "says %s value %" PRId64, oracle_status_name(ar.status), value,
		     oracle_status_name(res->core.status), res->core.value);
		goto out;
	}
	for (size_t k = 0; k < b.ndev; k++)
		if (out[k].value != rep.devices[k].value ||
		    out[k].weight != rep.devices[k].weight ||
		    out[k].excluded != rep.devices[k].excluded) {
			fail(res, "device %zu: recomputed value %" PRId64 " weight %"
			     PRIu64 " excluded %u, the report says %" PRId64 " %"
			     PRIu64 " %u", k, out[k].value, out[k].weight,
			     out[k].excluded, rep.devices[k].value,
			     rep.devices[k].weight, rep.devices[k].excluded);
			goto out;
		}
	ret = 0;
out:
	if (have_r)
		oracle_report_release(&rep);
	if (have_b)
		oracle_bundle_release(&b);
	free(cfg);
	free(bm.v);
	free(bm.round);
	free(in);
	free(out);
	return ret;
}

int oracle_verify_report(const uint8_t *final_buf, size_t final_len,
			 const uint8_t *bundle, size_t blen,
			 const uint8_t (*nodes)[ORACLE_PUB_LEN], size_t nnodes,
			 const struct oracle_vr_gw *gws, size_t ngws,
			 unsigned int flags, struct oracle_vr_result *res)
{
	if (!final_buf)
		return fail(res, "no final report");
	return verify(final_buf, final_len, bundle, blen, nodes, nnodes, gws,
		      ngws, flags, res);
}

int oracle_verify_bundle(const uint8_t *bundle, size_t blen,
			 const struct oracle_vr_gw *gws, size_t ngws,
			 unsigned int flags, struct oracle_vr_result *res)
{
	return verify(NULL, 0, bundle, blen, NULL, 0, gws, ngws, flags, res);
}

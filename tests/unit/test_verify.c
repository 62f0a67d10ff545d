// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for libattestio's verifier, quotes, keys, policy and decode.
 * Record streams are built here with kernel/record.c, and checkpoints carry
 * real quotes: a TPMS_ATTEST marshalled with libtss2-mu and signed by an
 * OpenSSL P-256 key, exactly as a TPM would (no TPM needed).
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "internal.h"
#include "libattestio.h"

#include "signed_stream.h"

/* @dst borrows the records of @src from index @from on (not freed). */
static void recs_tail(struct recs *dst, const struct recs *src, int from)
{
	dst->n = 0;
	for (int i = from; i < src->n; i++) {
		dst->r[dst->n] = src->r[i];
		dst->len[dst->n++] = src->len[i];
	}
}

/* With ATTESTIO_FUZZ_SEEDS=DIR, write a fuzz seed: @mode byte + data. */
static void seed(const char *name, uint8_t mode, const struct recs *rs,
		 const uint8_t *raw, size_t rawlen)
{
	const char *dir = getenv("ATTESTIO_FUZZ_SEEDS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(&mode, 1, 1, f);
	if (rs)
		for (int i = 0; i < rs->n; i++)
			fwrite(rs->r[i], 1, rs->len[i], f);
	if (raw)
		fwrite(raw, 1, rawlen, f);
	fclose(f);
}

/* ATTESTIO_TEST_VERDICTS=1 prints every verdict (debugging a case). */
static void print_verdict(void *ctx, const struct att_verdict *vd)
{
	(void)ctx;
	fprintf(stderr, "verdict stream %u seq %llu x%llu type %u state %d cause %d excused %d code %d %s\n",
		vd->stream, (unsigned long long)vd->seq,
		(unsigned long long)vd->count, vd->type, vd->state, vd->cause,
		vd->excused, vd->code, vd->why ? vd->why : "");
}

/* Feed everything; returns the first error, *bad = its record index. */
static int feed_all(const struct recs *rs, const struct att_verifier_opts *o,
		    struct att_summary *sum, int *bad, struct att_err *first)
{
	struct att_verifier_opts oo = *o;
	struct att_verifier *v;
	struct att_err e;
	int ret = 0;

	if (getenv("ATTESTIO_TEST_VERDICTS") && !oo.on_verdict)
		oo.on_verdict = print_verdict;
	v = att_verifier_new(&oo);

	assert_non_null(v);
	if (bad)
		*bad = -1;
	for (int i = 0; i < rs->n; i++) {
		int r = att_verifier_feed(v, rs->r[i], rs->len[i], NULL, &e);

		if (r && !ret) {
			ret = r;
			if (bad)
				*bad = i;
			if (first)
				*first = e;
			assert_int_equal(r, e.code);
			assert_true(e.msg[0]);
		}
	}
	/* the whole input is judged at its end: fail closed */
	{
		int r = att_verifier_finish(v, &e);

		if (r && !ret) {
			ret = r;
			if (bad)
				*bad = rs->n;
			if (first)
				*first = e;
			assert_true(e.msg[0]);
		}
	}
	if (sum)
		att_verifier_summary(v, sum);
	att_verifier_free(v);
	return ret;
}

static struct att_verifier_opts opts1(void)
{
	struct att_verifier_opts o = { .ak = ak1 };

	return o;
}

/* desc, 5 samples, cp1, 3 samples, cp2, 2 samples (pending) */
static void build_good(struct recs *rs, struct rstream *s)
{
	stream_init(s, 3);
	add_desc(rs, s);
	for (int i = 0; i < 5; i++)
		add_sample(rs, s, (int16_t)(2150 + i));
	add_cp(rs, s, 1, 1000);
	for (int i = 0; i < 3; i++)
		add_sample(rs, s, (int16_t)(2160 + i));
	add_cp(rs, s, 2, 2000);
	add_sample(rs, s, 1);
	add_sample(rs, s, 2);
}

/* ----------------------------------------------------------- cases --- */

static void t_good(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s;
	struct att_summary sum;

	(void)st;
	build_good(&rs, &s);
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	seed("good", 0x40, &rs, NULL, 0);
	assert_int_equal(rs.n, sum.records);
	assert_int_equal(10, sum.samples);
	assert_int_equal(8, sum.samples_verified);
	assert_int_equal(2, sum.samples_pending);
	assert_int_equal(0, sum.samples_unsigned);
	assert_int_equal(2, sum.checkpoints);
	assert_int_equal(2, sum.checkpoints_verified);
	assert_int_equal(1, sum.streams);
	assert_int_equal(0, sum.first_error);
	assert_int_equal(0, sum.events);
	recs_free(&rs);
}

static void t_states_and_descriptor(void **st)
{
	struct att_verifier_opts o = opts1();
	struct att_verifier *v = att_verifier_new(&o);
	const struct attestio_descriptor *d;
	enum att_rec_state state;
	struct recs rs = { 0 };
	struct rstream s;
	struct att_err e;
	uint64_t upto;
	double val;
	int64_t raw;

	(void)st;
	build_good(&rs, &s);
	assert_int_equal(ATT_ECHAIN, att_verifier_verified_upto(v, 3, &upto));
	for (int i = 0; i < rs.n; i++) {
		assert_int_equal(0, att_verifier_feed(v, rs.r[i], rs.len[i], &state, &e));
		if (i == 6 || i == 10)
			assert_int_equal(ATT_REC_VERIFIED, state);
		else
			assert_int_equal(ATT_REC_PENDING, state);
		if (i == 6) {
			assert_int_equal(0, att_verifier_verified_upto(v, 3, &upto));
			assert_int_equal(5, upto);
		}
	}
	d = att_verifier_descriptor(v, 3);
	assert_non_null(d);
	assert_null(att_verifier_descriptor(v, 2));
	assert_null(att_verifier_descriptor(v, 999));
	/* sample 1 carries 2150: 21.5 degC */
	assert_int_equal(0, att_decode_channel(d, 0, rs.r[1] + ATTESTIO_HDR_LEN +
					       sizeof(struct attestio_sample), 4, &val, &raw));
	assert_int_equal(2150, raw);
	assert_float_equal(21.5, val, 1e-9);
	att_verifier_free(v);
	recs_free(&rs);
}

struct vdesc_ctx {
	struct att_verifier *v;
	const struct recs *rs;
	int nverified;
	double val[8];		/* by seq */
	bool have[8];
};

/* As attestio-oracle does: decode a sample when it is VERIFIED. */
static void vdesc_verdict(void *ctx, const struct att_verdict *vd)
{
	struct vdesc_ctx *c = ctx;
	const struct attestio_descriptor *d;

	if (vd->state != ATT_REC_VERIFIED || vd->type != ATTESTIO_REC_SAMPLE)
		return;
	assert_true(vd->seq < 8);
	/* a chained record's verdict names its chain */
	assert_true(vd->have_chain && vd->instance == INSTANCE && !vd->generation);
	d = att_verifier_descriptor(c->v, vd->stream);
	c->nverified++;
	if (!d)
		return;
	c->have[vd->seq] = !att_decode_channel(d, 0, c->rs->r[vd->seq] +
					       ATTESTIO_HDR_LEN +
					       sizeof(struct attestio_sample),
					       4, &c->val[vd->seq], NULL);
}

/*
 * Attack: change a channel's scale (root writes in_temp_scale; the module
 * emits a calib record), or detach and re-attach with another scale,
 * between samples and the next checkpoint.  Samples get their VERIFIED
 * verdict at that checkpoint; a consumer that asks for the descriptor
 * then must get the one in force where each sample was chained, not the
 * latest: else the earlier samples' raw values are scaled by the new
 * factor and a forged value is stored as verified.
 */
static void t_verdict_descriptor(void **st)
{
	struct att_verifier_opts o = opts1();
	struct vdesc_ctx c = { 0 };
	struct recs rs = { 0 };
	struct rstream s;
	struct att_err e;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0: scale 10 */
	add_sample(&rs, &s, 2150);	/* 1: 21.5 degC */
	add_calib(&rs, &s, 20);		/* 2 */
	add_sample(&rs, &s, 2150);	/* 3: 43.0 degC */
	add_detach(&rs, &s);		/* 4 */
	add_desc(&rs, &s);		/* 5: segment 1, scale 10 */
	add_sample(&rs, &s, 2150);	/* 6: 21.5 degC */
	add_calib(&rs, &s, 40);		/* 7 */
	add_cp(&rs, &s, 1, 1000);
	o.on_verdict = vdesc_verdict;
	o.ctx = &c;
	c.rs = &rs;
	c.v = att_verifier_new(&o);
	assert_non_null(c.v);
	for (int i = 0; i < rs.n; i++)
		assert_int_equal(0, att_verifier_feed(c.v, rs.r[i], rs.len[i], NULL, &e));
	assert_int_equal(0, att_verifier_finish(c.v, &e));
	assert_int_equal(3, c.nverified);
	assert_true(c.have[1] && c.have[3] && c.have[6]);
	assert_float_equal(21.5, c.val[1], 1e-9);
	assert_float_equal(43.0, c.val[3], 1e-9);
	assert_float_equal(21.5, c.val[6], 1e-9);
	/* outside a verdict: the stream's current descriptor (scale 40) */
	{
		double now;

		assert_int_equal(0, att_decode_channel(att_verifier_descriptor(c.v, 0), 0,
						       rs.r[6] + ATTESTIO_HDR_LEN +
						       sizeof(struct attestio_sample),
						       4, &now, NULL));
		assert_float_equal(86.0, now, 1e-9);
	}
	att_verifier_free(c.v);
	recs_free(&rs);
}

/*
 * A verifier rebuilt mid-chain (attestio-oracle after a restart) is fed
 * again from the last verified checkpoint: with the descriptor that was in
 * force there (att_verifier_resume_descriptor) the samples after it
 * decode; without it, or given for another checkpoint or chain, they do
 * not.  A malformed descriptor is refused.
 */
static void t_resume_descriptor(void **st)
{
	struct recs rs = { 0 };
	struct rstream s;
	const struct attestio_descriptor *d;
	size_t dlen = sizeof(*d) + sizeof(struct attestio_channel);
	struct {
		uint32_t gen;
		uint64_t seq;
		bool decodes;
	} cases[] = { { 0, 2, true }, { 0, 0, false }, { 1, 2, false },
		      { 0, 5, false } };

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0: scale 10 */
	add_sample(&rs, &s, 2150);	/* 1 */
	add_cp(&rs, &s, 1, 1000);	/* 2 */
	add_sample(&rs, &s, 2160);	/* 3: 21.6 */
	add_sample(&rs, &s, 2170);	/* 4: 21.7 */
	add_cp(&rs, &s, 2, 2000);	/* 5 */
	d = (const void *)(rs.r[0] + ATTESTIO_HDR_LEN);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct att_verifier_opts o = opts1();
		struct vdesc_ctx c = { 0 };
		struct att_err e;

		o.allow_join = true;
		o.on_verdict = vdesc_verdict;
		o.ctx = &c;
		c.rs = &rs;
		c.v = att_verifier_new(&o);
		assert_non_null(c.v);
		if (cases[k].seq)
			assert_int_equal(0, att_verifier_resume_descriptor(c.v, 0,
					 INSTANCE, cases[k].gen, cases[k].seq, d, dlen));
		for (int i = 2; i < rs.n; i++)
			assert_int_equal(0, att_verifier_feed(c.v, rs.r[i], rs.len[i], NULL, &e));
		assert_int_equal(2, c.nverified);
		assert_true(c.have[3] == cases[k].decodes && c.have[4] == cases[k].decodes);
		if (cases[k].decodes) {
			assert_float_equal(21.6, c.val[3], 1e-9);
			assert_float_equal(21.7, c.val[4], 1e-9);
		}
		assert_int_equal(ATT_EINVAL, att_verifier_resume_descriptor(c.v, 0,
				 INSTANCE, 0, 2, d, dlen - 1));
		assert_int_equal(ATT_EINVAL, att_verifier_resume_descriptor(c.v, 64,
				 INSTANCE, 0, 2, d, dlen));
		att_verifier_free(c.v);
	}
	recs_free(&rs);
}

/*
 * Record format v4: a verifier that meets a chain mid-way decodes the
 * samples after a signed head with the descriptor and calib records
 * offered to it (att_verifier_offer_state) only when they hash to the
 * segment state that head commits to: the right pair decodes with the
 * calibrated scale; the descriptor without its calib, a calib of another
 * scale, or no offer leave the samples without values.  Offers that do
 * not belong together are refused.  A signed checkpoint whose state
 * differs from the chain's own descriptor and calib records breaks the
 * chain.
 */
static void t_offer_state(void **st)
{
	struct recs rs = { 0 }, other = { 0 };
	struct rstream s, s2;
	struct {
		int desc, calib;	/* record indexes, -1: none */
		bool decodes;
	} cases[] = { { 0, 2, true }, { 0, -1, false }, { -1, -1, false },
		      { 0, 100, false } };

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0: scale 10 */
	add_sample(&rs, &s, 2150);	/* 1 */
	add_calib(&rs, &s, 20);		/* 2: scale 20 */
	add_sample(&rs, &s, 2150);	/* 3 */
	add_cp(&rs, &s, 1, 1000);	/* 4 */
	add_sample(&rs, &s, 2160);	/* 5: 43.2 */
	add_sample(&rs, &s, 2170);	/* 6: 43.4 */
	add_cp(&rs, &s, 2, 2000);	/* 7 */
	/* the same chain with scale 40 instead: its calib record */
	stream_init(&s2, 0);
	add_desc(&other, &s2);
	add_sample(&other, &s2, 2150);
	add_calib(&other, &s2, 40);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct att_verifier_opts o = opts1();
		struct vdesc_ctx c = { 0 };
		struct att_summary sum;
		struct att_err e;
		const uint8_t *cal = NULL;
		size_t clen = 0;

		o.allow_join = true;
		o.on_verdict = vdesc_verdict;
		o.ctx = &c;
		c.rs = &rs;
		c.v = att_verifier_new(&o);
		assert_non_null(c.v);
		if (cases[k].calib == 2) {
			cal = rs.r[2];
			clen = rs.len[2];
		} else if (cases[k].calib == 100) {
			cal = other.r[2];
			clen = other.len[2];
		}
		if (cases[k].desc >= 0)
			assert_int_equal(0, att_verifier_offer_state(c.v, 0,
					 rs.r[0], rs.len[0], cal, clen));
		/* from the first record after checkpoint 1's head on */
		for (int i = 4; i < rs.n; i++)
			assert_int_equal(0, att_verifier_feed(c.v, rs.r[i], rs.len[i], NULL, &e));
		assert_int_equal(0, att_verifier_finish(c.v, &e));
		att_verifier_summary(c.v, &sum);
		assert_int_equal(cases[k].decodes, sum.anchors_state);
		assert_int_equal(2, c.nverified);
		assert_true(c.have[5] == cases[k].decodes && c.have[6] == cases[k].decodes);
		if (cases[k].decodes) {
			assert_float_equal(43.2, c.val[5], 1e-9);
			assert_float_equal(43.4, c.val[6], 1e-9);
		}
		/* records that do not belong together */
		assert_int_equal(ATT_EINVAL, att_verifier_offer_state(c.v, 0,
				 rs.r[1], rs.len[1], NULL, 0));	/* a sample */
		assert_int_equal(ATT_EINVAL, att_verifier_offer_state(c.v, 1,
				 rs.r[0], rs.len[0], NULL, 0));	/* other stream */
		assert_int_equal(ATT_EINVAL, att_verifier_offer_state(c.v, 0,
				 rs.r[0], rs.len[0] - 8, NULL, 0));
		assert_int_equal(ATT_EINVAL, att_verifier_offer_state(c.v, 0,
				 rs.r[2], rs.len[2], rs.r[0], rs.len[0]));
		assert_int_equal(ATT_EINVAL, att_verifier_offer_state(c.v, 0,
				 rs.r[0], rs.len[0], rs.r[1], rs.len[1]));
		att_verifier_free(c.v);
	}
	recs_free(&other);
	recs_free(&rs);

	/* a signed state that is not the chain's: the checkpoint breaks it */
	{
		struct att_verifier_opts o = opts1();
		struct att_err e;
		int bad;

		stream_init(&s, 0);
		add_desc(&rs, &s);
		add_sample(&rs, &s, 2150);
		add_cp(&rs, &s, 1, 1000);	/* 2: fine */
		add_sample(&rs, &s, 2150);
		s.st.calib[0] ^= 1;		/* the kernel says: calibrated */
		add_cp(&rs, &s, 2, 2000);	/* 4 */
		assert_int_equal(ATT_ECHAIN, feed_all(&rs, &o, NULL, &bad, &e));
		assert_int_equal(4, bad);
		assert_non_null(strstr(e.msg, "segment state"));
		recs_free(&rs);
	}
}

/*
 * Review of v4 (HIGH): a gateway forges an unsigned checkpoint among the
 * records a later quote does not cover (appended while the TPM quoted),
 * with a genuine head and the state of a descriptor of its own (scale
 * 10000), and offers that descriptor.  A verifier met mid-chain anchored
 * there took the offer, decoded sample 3 with it, and a genuine detach
 * and descriptor before the next signed head made that head match: 21.5
 * became 21500, VERIFIED.  States are taken at signed heads only.
 */
static void t_offer_state_unsigned(void **st)
{
	struct recs rs = { 0 }, fk = { 0 };
	struct rstream s, f, fd;
	struct attestio_seg_state fst = { 0 };
	struct att_verifier_opts o = opts1();
	struct vdesc_ctx c = { 0 };
	struct att_err e;
	struct attestio_rec_info info;
	struct qopt q2 = { .key = key1, .clock = 2000, .late = 2 };
	struct qopt qu = { .status = ATTESTIO_CP_NO_TPM };
	struct rstream *ss = &s, *ff = &f;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0: scale 10 */
	add_sample(&rs, &s, 2150);	/* 1 */
	add_cp(&rs, &s, 1, 1000);	/* 2: signed */
	f = s;				/* the genuine head after 2 */
	add_sample(&rs, &s, 2150);	/* 3: 21.5 */
	add_detach(&rs, &s);		/* 4 */
	add_desc(&rs, &s);		/* 5: segment 1 */
	add_sample(&rs, &s, 2150);	/* 6 */
	add_checkpoints(&rs, &ss, 1, 2, &q2);	/* heads cover 6; 7, 8 late */
	assert_int_equal(10, rs.n);
	stream_init(&fd, 0);
	add_desc(&fk, &fd);		/* the forger's descriptor */
	((struct attestio_descriptor *)attestio_rec_payload(fk.r[0]))->chan[0].scale_val =
		cpu_to_le32(10000);
	attestio_seg_state_note(&fst, ATTESTIO_REC_DESCRIPTOR, fk.r[0], fk.len[0]);
	f.st = fst;
	add_checkpoints(&fk, &ff, 1, 1, &qu);	/* unsigned, head after 2 */
	assert_int_equal(0, attestio_rec_validate(fk.r[1], fk.len[1], &info));
	info.seq = 8;			/* in place of late record 8 */
	attestio_rec_hdr_encode(fk.r[1], &info);
	free(rs.r[8]);
	rs.r[8] = fk.r[1];
	rs.len[8] = fk.len[1];
	fk.r[1] = NULL;
	fk.n = 1;
	o.allow_join = true;
	o.on_verdict = vdesc_verdict;
	o.ctx = &c;
	c.rs = &rs;
	c.v = att_verifier_new(&o);
	assert_non_null(c.v);
	assert_int_equal(0, att_verifier_offer_state(c.v, 0, fk.r[0], fk.len[0], NULL, 0));
	for (int i = 3; i < rs.n; i++)	/* met mid-chain */
		att_verifier_feed(c.v, rs.r[i], rs.len[i], NULL, &e);
	att_verifier_finish(c.v, &e);
	if (c.have[3])
		fail_msg("sample 3 decoded as %g (genuine 21.5)", c.val[3]);
	att_verifier_free(c.v);
	recs_free(&fk);
	recs_free(&rs);
}

/* Every single byte flipped in the covered part is caught. */
static void t_flip_every_byte(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s;
	int last_cp = 10, tested = 0;

	(void)st;
	build_good(&rs, &s);
	/* records 0..9 are covered by the checkpoint at index 10 */
	for (int i = 0; i < last_cp; i++) {
		for (uint32_t b = 0; b < rs.len[i]; b++) {
			for (int bit = 0; bit < 8; bit += 7) {
				int bad;

				rs.r[i][b] ^= (uint8_t)(1u << bit);
				if (feed_all(&rs, &o, NULL, &bad, NULL) == 0)
					fail_msg("flip of bit %d of byte %u of record %d not detected",
						 bit, b, i);
				rs.r[i][b] ^= (uint8_t)(1u << bit);
				tested++;
			}
		}
	}
	assert_true(tested > 500);
	assert_int_equal(0, feed_all(&rs, &o, NULL, NULL, NULL));
	recs_free(&rs);
}

static void t_flip_classes(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s;
	struct att_err e;
	int bad;

	(void)st;
	build_good(&rs, &s);
	/* a sample value: the chain breaks, caught at the checkpoint */
	rs.r[2][ATTESTIO_HDR_LEN + sizeof(struct attestio_sample)] ^= 0x10;
	assert_int_equal(ATT_ECHAIN, feed_all(&rs, &o, NULL, &bad, &e));
	assert_int_equal(6, bad);
	assert_true(e.has_record);
	assert_int_equal(3, e.stream);
	assert_int_equal(6, e.seq);
	assert_non_null(strstr(e.msg, "stream 3 seq 6"));
	rs.r[2][ATTESTIO_HDR_LEN + sizeof(struct attestio_sample)] ^= 0x10;
	/* padding byte of a sample: fails parsing at once */
	rs.r[2][rs.len[2] - 1] ^= 1;
	assert_int_equal(ATT_EPARSE, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(2, bad);
	rs.r[2][rs.len[2] - 1] ^= 1;
	/* the quote's signature */
	rs.r[6][rs.len[6] - 20] ^= 1;
	assert_true(feed_all(&rs, &o, NULL, &bad, NULL) != 0);
	assert_int_equal(6, bad);
	recs_free(&rs);
}

static void t_drop_swap_replay(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s;
	uint8_t *tmp;
	uint32_t tl;
	int bad;

	(void)st;
	build_good(&rs, &s);
	/* drop record 3 */
	tmp = rs.r[3];
	tl = rs.len[3];
	memmove(&rs.r[3], &rs.r[4], (rs.n - 4) * sizeof(rs.r[0]));
	memmove(&rs.len[3], &rs.len[4], (rs.n - 4) * sizeof(rs.len[0]));
	rs.n--;
	assert_int_equal(ATT_ESEQ, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(3, bad);
	memmove(&rs.r[4], &rs.r[3], (rs.n - 3) * sizeof(rs.r[0]));
	memmove(&rs.len[4], &rs.len[3], (rs.n - 3) * sizeof(rs.len[0]));
	rs.r[3] = tmp;
	rs.len[3] = tl;
	rs.n++;
	assert_int_equal(0, feed_all(&rs, &o, NULL, NULL, NULL));
	/* swap records 7 and 8 */
	tmp = rs.r[7]; rs.r[7] = rs.r[8]; rs.r[8] = tmp;
	assert_int_equal(ATT_ESEQ, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(7, bad);
	tmp = rs.r[7]; rs.r[7] = rs.r[8]; rs.r[8] = tmp;
	/* replay the first checkpoint at the end */
	rs.r[rs.n] = rs.r[6];
	rs.len[rs.n] = rs.len[6];
	rs.n++;
	assert_int_equal(ATT_ESEQ, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(rs.n - 1, bad);
	rs.n--;
	/* drop the last checkpoint: samples stay pending, no error */
	{
		struct att_summary sum;
		uint8_t *cp2 = rs.r[10];

		memmove(&rs.r[10], &rs.r[11], 2 * sizeof(rs.r[0]));
		memmove(&rs.len[10], &rs.len[11], 2 * sizeof(rs.len[0]));
		rs.n--;
		/* seq hole: the checkpoint's seq is missing */
		assert_int_equal(ATT_ESEQ, feed_all(&rs, &o, &sum, &bad, NULL));
		rs.n = 10;	/* cut after the third sample instead */
		assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
		assert_int_equal(5, sum.samples_verified);
		assert_int_equal(3, sum.samples_pending);
		rs.r[10] = cp2;
		rs.n = 11;
		rs.r[11] = NULL;
	}
	recs_free(&rs);
}

/* A forged checkpoint for the right heads: replayed quote of another epoch. */
static void t_replayed_quote(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s;
	struct qopt q = { .key = key1, .clock = 1000 };
	struct rstream *ps = &s;
	int bad;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_checkpoints(&rs, &ps, 1, 1, &q);
	add_sample(&rs, &s, 2);
	/* same epoch again with an older clock: not newer for the stream */
	q.clock = 900;
	add_checkpoints(&rs, &ps, 1, 1, &q);
	assert_int_equal(ATT_EREPLAY, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(4, bad);
	recs_free(&rs);

	/* newer epoch, same clock: the TPM clock did not advance */
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	q.clock = 1000;
	add_checkpoints(&rs, &ps, 1, 1, &q);
	add_sample(&rs, &s, 2);
	add_checkpoints(&rs, &ps, 1, 2, &q);
	assert_int_equal(ATT_EREPLAY, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(4, bad);
	recs_free(&rs);

	/* clock going backwards */
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	q.clock = 5000;
	add_checkpoints(&rs, &ps, 1, 1, &q);
	add_sample(&rs, &s, 2);
	q.clock = 4000;
	add_checkpoints(&rs, &ps, 1, 2, &q);
	assert_int_equal(ATT_EREPLAY, feed_all(&rs, &o, NULL, &bad, NULL));
	assert_int_equal(4, bad);
	recs_free(&rs);
}

static void t_reset_restart_events(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s, *ps = &s;
	struct qopt q = { .key = key1, .clock = 5000, .reset = 3 };
	struct att_summary sum;
	int bad;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_checkpoints(&rs, &ps, 1, 1, &q);
	add_sample(&rs, &s, 2);
	q.restart = 1;		/* restart: clock may be anything */
	q.clock = 100;
	add_checkpoints(&rs, &ps, 1, 2, &q);
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	assert_int_equal(ATT_EV_RESTART, sum.events);
	add_sample(&rs, &s, 3);
	q.reset = 4;		/* reboot */
	q.restart = 0;
	q.clock = 50;
	add_checkpoints(&rs, &ps, 1, 3, &q);
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	seed("reboot", 0, &rs, NULL, 0);
	assert_int_equal(ATT_EV_RESTART | ATT_EV_REBOOT, sum.events);
	assert_int_equal(3, sum.samples_verified);
	add_sample(&rs, &s, 4);
	q.reset = 2;		/* rollback */
	q.clock = 99999;
	add_checkpoints(&rs, &ps, 1, 4, &q);
	assert_int_equal(ATT_EREPLAY, feed_all(&rs, &o, &sum, &bad, NULL));
	assert_int_equal(rs.n - 1, bad);
	recs_free(&rs);
}

static void t_multi_stream_shared_quote(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream a, b, *both[2] = { &a, &b };
	struct qopt q = { .key = key1, .clock = 100 };
	struct att_summary sum;

	(void)st;
	stream_init(&a, 1);
	stream_init(&b, 5);
	add_desc(&rs, &a);
	add_desc(&rs, &b);
	add_sample(&rs, &a, 1);
	add_sample(&rs, &b, 2);
	add_sample(&rs, &a, 3);
	add_checkpoints(&rs, both, 2, 1, &q);
	add_sample(&rs, &b, 4);
	q.clock = 200;
	add_checkpoints(&rs, both, 2, 2, &q);
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	seed("two-streams", 0, &rs, NULL, 0);
	assert_int_equal(2, sum.streams);
	assert_int_equal(4, sum.checkpoints_verified);
	assert_int_equal(4, sum.samples_verified);
	assert_int_equal(0, sum.samples_pending);
	recs_free(&rs);
}

static void t_wrong_key_extra_magic_type(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s, *ps = &s;
	struct att_summary sum;
	struct att_err e;
	struct {
		struct qopt q;
		int code;
		const char *what;
	} cases[] = {
		{ { .key = NULL, .clock = 1 }, ATT_ESIG, "signature" },	/* key2 */
		{ { .key = NULL, .clock = 1, .bad_extra = true }, ATT_EQUOTE, "extraData" },
		{ { .key = NULL, .clock = 1, .magic = 0xff544348 }, ATT_EQUOTE, "magic" },
		{ { .key = NULL, .clock = 1, .type = 0x8017 }, ATT_EQUOTE, "TPM_ST_ATTEST_QUOTE" },
	};
	int bad;

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cases[i].q.key = i == 0 ? key2 : key1;
		stream_init(&s, 0);
		add_desc(&rs, &s);
		add_sample(&rs, &s, 1);
		add_checkpoints(&rs, &ps, 1, 1, &cases[i].q);
		assert_int_equal(cases[i].code, feed_all(&rs, &o, &sum, &bad, &e));
		assert_int_equal(2, bad);
		if (!strstr(e.msg, cases[i].what))
			fail_msg("case %zu: \"%s\" does not mention %s", i, e.msg,
				 cases[i].what);
		assert_int_equal(0, sum.samples_verified);
		assert_int_equal(1, sum.samples_pending);
		recs_free(&rs);
	}
	/* signed by key2 verifies with key2 */
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_checkpoints(&rs, &ps, 1, 1, &cases[0].q);
	o.ak = ak2;
	assert_int_equal(0, feed_all(&rs, &o, NULL, NULL, NULL));
	/* no key at all */
	o.ak = NULL;
	assert_int_equal(ATT_EKEY, feed_all(&rs, &o, NULL, NULL, NULL));
	recs_free(&rs);
}

static void t_policy(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s, *ps = &s;
	struct qopt q = { .key = key1, .clock = 1 };
	struct att_policy *p;
	struct att_err e;
	char good[256], other[256];

	(void)st;
	snprintf(good, sizeof(good), "# allowed\n0x000081 %s\n", "abababababababababababababababababababababababababababababababab");
	snprintf(other, sizeof(other), "81 %s  # other\n\n", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_checkpoints(&rs, &ps, 1, 1, &q);

	assert_int_equal(0, att_policy_parse(good, strlen(good), &p, &e));
	seed("policy", 3, NULL, (const uint8_t *)good, strlen(good));
	o.policy = p;
	assert_int_equal(0, feed_all(&rs, &o, NULL, NULL, NULL));
	att_policy_free(p);
	assert_int_equal(0, att_policy_parse(other, strlen(other), &p, &e));
	o.policy = p;
	assert_int_equal(ATT_EPOLICY, feed_all(&rs, &o, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "not in the policy"));
	att_policy_free(p);
	/* mask differs */
	snprintf(other, sizeof(other), "1 %s\n", "abababababababababababababababababababababababababababababababab");
	assert_int_equal(0, att_policy_parse(other, strlen(other), &p, &e));
	o.policy = p;
	assert_int_equal(ATT_EPOLICY, feed_all(&rs, &o, NULL, NULL, NULL));
	att_policy_free(p);
	/* malformed policies */
	assert_int_equal(ATT_EPARSE, att_policy_parse("81 abc\n", 7, &p, &e));
	assert_non_null(strstr(e.msg, "line 1"));
	assert_int_equal(ATT_EPARSE, att_policy_parse("# only\n", 7, &p, &e));
	assert_int_equal(ATT_EPARSE, att_policy_parse("zz 00\n", 6, &p, &e));
	assert_int_equal(ATT_EPARSE, att_policy_parse("81 00 x\n", 8, &p, &e));
	assert_int_equal(ATT_EPARSE, att_policy_parse("1000000 00\n", 11, &p, &e));
	/* from a file */
	{
		char path[] = "/tmp/attestio-policy-XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal((ssize_t)strlen(good), write(fd, good, strlen(good)));
		close(fd);
		assert_int_equal(0, att_policy_load(path, &p, &e));
		o.policy = p;
		assert_int_equal(0, feed_all(&rs, &o, NULL, NULL, NULL));
		att_policy_free(p);
		unlink(path);
		assert_int_equal(ATT_EIO, att_policy_load(path, &p, &e));
	}
	recs_free(&rs);
}

static void t_unsigned(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s, *ps = &s;
	struct qopt q = { .status = ATTESTIO_CP_NO_KEY };
	struct att_summary sum;
	enum att_rec_state state;
	int bad;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_sample(&rs, &s, 2);
	add_checkpoints(&rs, &ps, 1, 1, &q);
	add_sample(&rs, &s, 3);
	/* judged at the end: a later signed checkpoint could have covered it */
	assert_int_equal(ATT_EUNSIGNED, feed_all(&rs, &o, &sum, &bad, NULL));
	assert_int_equal(rs.n, bad);
	assert_int_equal(2, sum.samples_unsigned);
	assert_int_equal(0, sum.samples_verified);
	o.allow_unsigned = true;
	/* nothing signed: nothing proven, even with allow_unsigned */
	assert_int_equal(ATT_EUNSIGNED, feed_all(&rs, &o, &sum, &bad, NULL));
	assert_int_equal(rs.n, bad);	/* judged at the end */
	seed("unsigned", 0x10, &rs, NULL, 0);
	assert_int_equal(1, sum.checkpoints_unsigned);
	assert_int_equal(0, sum.checkpoints_verified);
	assert_int_equal(2, sum.samples_unsigned);
	assert_int_equal(1, sum.samples_pending);
	{
		struct att_verifier *v = att_verifier_new(&o);

		for (int i = 0; i < rs.n; i++)
			assert_int_equal(0, att_verifier_feed(v, rs.r[i], rs.len[i], &state, NULL));
		att_verifier_free(v);
	}
	recs_free(&rs);
}

static void t_lost_gap_detach(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 }, rs2 = { 0 };
	struct rstream s, s2, *ps = &s;
	struct qopt q = { .key = key1, .clock = 10 };
	struct att_summary sum;
	int bad;

	(void)st;
	/* gap record: chained and counted */
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_gap(&rs, &s, 7);
	add_sample(&rs, &s, 2);
	add_detach(&rs, &s);
	add_desc(&rs, &s);	/* segment 1 */
	add_sample(&rs, &s, 3);
	add_checkpoints(&rs, &ps, 1, 1, &q);
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	assert_int_equal(7, sum.gap_lost);
	assert_int_equal(ATT_EV_GAP, sum.events);
	assert_int_equal(3, sum.samples_verified);
	recs_free(&rs);

	/*
	 * The reader lost records 2..5; the stream re-anchors at its next
	 * checkpoint, whose heads[self] (seq 6) is before the record just
	 * before it (seq 7).  Build the full stream, then cut.
	 */
	stream_init(&s, 0);
	add_desc(&rs, &s);			/* 0 seq 0 */
	add_sample(&rs, &s, 1);			/* 1 seq 1 */
	add_sample(&rs, &s, 2);			/* 2 seq 2 (lost) */
	add_sample(&rs, &s, 3);			/* 3 seq 3 (lost) */
	q.clock = 20;
	add_checkpoints(&rs, &ps, 1, 1, &q);	/* 4 seq 4, H 3 (lost) */
	add_sample(&rs, &s, 4);			/* 5 seq 5 (lost) */
	add_sample(&rs, &s, 5);			/* 6 seq 6 */
	q.clock = 30;
	q.late = 1;
	add_checkpoints(&rs, &ps, 1, 2, &q);	/* 7 seq 7 late, 8 cp seq 8, H 6 */
	q.late = 0;
	add_sample(&rs, &s, 6);			/* 9 seq 9 */
	q.clock = 40;
	add_checkpoints(&rs, &ps, 1, 3, &q);	/* 10 seq 10, H 9 */
	assert_int_equal(11, rs.n);
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	assert_int_equal(7, sum.samples_verified);
	for (int i = 0; i < rs.n; i++) {
		if (i == 2)
			add_lost(&rs2, 4);
		if (i >= 2 && i <= 5)
			continue;
		rs2.r[rs2.n] = rs.r[i];
		rs2.len[rs2.n++] = rs.len[i];
	}
	assert_int_equal(ATT_ESEQ, feed_all(&rs2, &o, &sum, &bad, NULL));
	assert_int_equal(2, bad);	/* the lost record itself */
	o.allow_lost = true;
	assert_int_equal(0, feed_all(&rs2, &o, &sum, NULL, NULL));
	seed("lost", 0x20, &rs2, NULL, 0);
	assert_int_equal(4, sum.lost_records);
	assert_true(sum.events & ATT_EV_LOST);
	/* seq 1 (before the hole) and seq 6 (<= heads[self]) unverifiable */
	assert_int_equal(2, sum.samples_unverifiable);
	assert_int_equal(2, sum.samples_verified);	/* seq 7 and 9 */
	assert_int_equal(0, sum.samples_pending);
	assert_int_equal(2, sum.checkpoints_verified);
	/* without the lost record the hole is an error */
	{
		uint8_t *lost = rs2.r[2];

		memmove(&rs2.r[2], &rs2.r[3], (rs2.n - 3) * sizeof(rs2.r[0]));
		memmove(&rs2.len[2], &rs2.len[3], (rs2.n - 3) * sizeof(rs2.len[0]));
		rs2.n--;
		free(lost);
	}
	assert_int_equal(ATT_ESEQ, feed_all(&rs2, &o, &sum, &bad, NULL));
	assert_int_equal(2, bad);
	o.allow_lost = false;

	/* joined mid-chain at a checkpoint with H = seq - 1: anchors at once */
	recs_tail(&rs2, &rs, 4);
	assert_int_equal(0, feed_all(&rs2, &o, &sum, NULL, NULL));
	assert_int_equal(4, sum.samples_verified);
	assert_int_equal(0, sum.samples_unverifiable);
	/*
	 * joined at a checkpoint that cannot anchor: the next one does; what
	 * came before it is UNVERIFIABLE, a failure unless allow_join
	 */
	recs_tail(&rs2, &rs, 8);
	assert_int_equal(ATT_ECHAIN, feed_all(&rs2, &o, &sum, NULL, NULL));
	assert_int_equal(0, sum.samples_verified);
	assert_int_equal(1, sum.samples_unverifiable);
	assert_int_equal(0, sum.unverifiable_excused);
	o.allow_join = true;
	assert_int_equal(0, feed_all(&rs2, &o, &sum, NULL, NULL));
	assert_int_equal(1, sum.samples_unverifiable);
	assert_int_equal(2, sum.unverifiable_excused);	/* cp 8, sample 9 */
	assert_int_equal(1, sum.checkpoints_verified);
	/*
	 * joined just after heads[self] of the next checkpoint: everything
	 * chains from its signed head, no flag needed
	 */
	o.allow_join = false;
	recs_tail(&rs2, &rs, 7);
	assert_int_equal(0, feed_all(&rs2, &o, &sum, &bad, NULL));
	assert_int_equal(2, sum.samples_verified);	/* seq 7 and 9 */
	assert_int_equal(0, sum.samples_unverifiable);
	/* joined before that: seq 6 can never be proven */
	recs_tail(&rs2, &rs, 6);
	assert_int_equal(ATT_ECHAIN, feed_all(&rs2, &o, &sum, &bad, NULL));
	assert_int_equal(2, sum.samples_verified);
	assert_int_equal(1, sum.samples_unverifiable);
	rs2.n = 0;
	(void)s2;
	recs_free(&rs);
}

/* Anchor directly when heads[self] is the record just before. */
static void t_anchor_direct(void **st)
{
	struct att_verifier_opts o = opts1();
	struct recs rs = { 0 };
	struct rstream s;
	struct att_summary sum;
	struct att_verifier *v = att_verifier_new(&o);

	(void)st;
	build_good(&rs, &s);
	/* start at the first checkpoint (index 6) */
	for (int i = 6; i < rs.n; i++)
		assert_int_equal(0, att_verifier_feed(v, rs.r[i], rs.len[i], NULL, NULL));
	att_verifier_summary(v, &sum);
	assert_int_equal(3, sum.samples_verified);
	assert_int_equal(2, sum.samples_pending);
	assert_int_equal(2, sum.checkpoints_verified);
	att_verifier_free(v);
	recs_free(&rs);
}

/* --------------------------------------------------------- quote API --- */

static void t_quote_verify(void **st)
{
	struct qopt q = { .key = key1, .clock = 77, .reset = 2, .restart = 1 };
	uint8_t digest[32], attest[1024], sig[1024], big[2048];
	struct att_quote_info qi;
	size_t alen, slen;
	struct att_err e;

	(void)st;
	memset(digest, 0x5a, sizeof(digest));
	make_quote(&q, digest, attest, &alen, sig, &slen);
	assert_int_equal(0, att_quote_verify(ak1, attest, alen, sig, slen, digest, 32, &qi, &e));
	{
		uint8_t q[2 + 1024 + 2 + 1024 + 32];
		size_t n = 0;

		q[n++] = (uint8_t)alen;
		q[n++] = (uint8_t)(alen >> 8);
		memcpy(q + n, attest, alen);
		n += alen;
		q[n++] = (uint8_t)slen;
		q[n++] = (uint8_t)(slen >> 8);
		memcpy(q + n, sig, slen);
		n += slen;
		memcpy(q + n, digest, 32);
		seed("quote", 2, NULL, q, n + 32);
	}
	assert_int_equal(77, qi.clock);
	assert_int_equal(2, qi.reset_count);
	assert_int_equal(1, qi.restart_count);
	assert_int_equal(1, qi.safe);
	assert_int_equal(0x0102030405060708ULL, qi.firmware_version);
	assert_int_equal(0x81, qi.pcr_select);
	assert_int_equal(32, qi.pcr_digest_len);
	assert_int_equal(PCR_DIGEST_BYTE, qi.pcr_digest[31]);
	assert_int_equal(32, qi.extra_len);
	assert_memory_equal(digest, qi.extra, 32);
	assert_int_equal(ATT_ESIG, att_quote_verify(ak2, attest, alen, sig, slen, digest, 32, &qi, &e));
	assert_int_equal(ATT_EKEY, att_quote_verify(NULL, attest, alen, sig, slen, digest, 32, &qi, &e));
	digest[0] ^= 1;
	assert_int_equal(ATT_EQUOTE, att_quote_verify(ak1, attest, alen, sig, slen, digest, 32, &qi, &e));
	assert_int_equal(ATT_EQUOTE, att_quote_verify(ak1, attest, alen, sig, slen, digest, 31, &qi, &e));
	digest[0] ^= 1;
	/* trailing bytes, truncation */
	memcpy(big, attest, alen);
	big[alen] = 0;
	assert_int_equal(ATT_EQUOTE, att_quote_verify(ak1, big, alen + 1, sig, slen, digest, 32, &qi, &e));
	assert_int_equal(ATT_EQUOTE, att_quote_verify(ak1, attest, alen - 1, sig, slen, digest, 32, &qi, &e));
	memcpy(big, sig, slen);
	big[slen] = 0;
	assert_int_equal(ATT_ESIG, att_quote_verify(ak1, attest, alen, big, slen + 1, digest, 32, &qi, &e));
	assert_int_equal(ATT_ESIG, att_quote_verify(ak1, attest, alen, sig, slen - 1, digest, 32, &qi, &e));
	/* every byte of the attest matters */
	for (size_t i = 0; i < alen; i++) {
		attest[i] ^= 0x01;
		assert_int_not_equal(0, att_quote_verify(ak1, attest, alen, sig, slen, digest, 32, &qi, &e));
		attest[i] ^= 0x01;
	}
	/* RSA keys and both RSA schemes */
	{
		EVP_PKEY *rk = EVP_RSA_gen(2048);
		struct att_key *rak;
		TPMT_SIGNATURE ts;
		EVP_MD_CTX *md;
		EVP_PKEY_CTX *pc;
		size_t l, off;

		assert_non_null(rk);
		assert_int_equal(0, att_key_wrap(rk, &rak, &e));
		for (int pss = 0; pss < 2; pss++) {
			md = EVP_MD_CTX_new();
			assert_int_equal(1, EVP_DigestSignInit(md, &pc, EVP_sha256(), NULL, rk));
			if (pss) {
				EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
				EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
			}
			memset(&ts, 0, sizeof(ts));
			ts.sigAlg = pss ? TPM2_ALG_RSAPSS : TPM2_ALG_RSASSA;
			ts.signature.rsassa.hash = TPM2_ALG_SHA256;
			l = sizeof(ts.signature.rsassa.sig.buffer);
			assert_int_equal(1, EVP_DigestSign(md, ts.signature.rsassa.sig.buffer, &l, attest, alen));
			ts.signature.rsassa.sig.size = (UINT16)l;
			EVP_MD_CTX_free(md);
			off = 0;
			assert_int_equal(0, Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, big, sizeof(big), &off));
			assert_int_equal(0, att_quote_verify(rak, attest, alen, big, off, digest, 32, &qi, &e));
			/* the other scheme does not verify */
			big[1] = pss ? TPM2_ALG_RSASSA : TPM2_ALG_RSAPSS;
			assert_int_equal(ATT_ESIG, att_quote_verify(rak, attest, alen, big, off, digest, 32, &qi, &e));
		}
		/* ECDSA signature against an RSA key */
		assert_int_equal(ATT_ESIG, att_quote_verify(rak, attest, alen, sig, slen, digest, 32, &qi, &e));
		att_key_free(rak);
	}
}

/* ----------------------------------------------------------------- keys --- */

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(n, fwrite(p, 1, n, f));
	fclose(f);
}

static size_t tpm2b_of(EVP_PKEY *k, uint8_t *out, size_t cap)
{
	unsigned char pt[65];
	size_t ptlen = 0, off = 0;
	TPM2B_PUBLIC pub;

	assert_int_equal(1, EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY,
							    pt, sizeof(pt), &ptlen));
	assert_int_equal(65, ptlen);
	memset(&pub, 0, sizeof(pub));
	pub.publicArea.type = TPM2_ALG_ECC;
	pub.publicArea.nameAlg = TPM2_ALG_SHA256;
	pub.publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
					  TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
	pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	pub.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	pub.publicArea.unique.ecc.x.size = 32;
	memcpy(pub.publicArea.unique.ecc.x.buffer, pt + 1, 32);
	pub.publicArea.unique.ecc.y.size = 32;
	memcpy(pub.publicArea.unique.ecc.y.buffer, pt + 33, 32);
	assert_int_equal(0, Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out, cap, &off));
	return off;
}

static void t_keys(void **st)
{
	struct qopt q = { .key = key1, .clock = 1 };
	uint8_t digest[32] = { 1 }, attest[1024], sig[1024], pub[1024];
	char pem[] = "/tmp/attestio-ak-XXXXXX";
	struct att_key *k;
	struct att_err e;
	size_t alen, slen, plen;
	FILE *f;
	int fd;

	(void)st;
	make_quote(&q, digest, attest, &alen, sig, &slen);
	/* PEM */
	fd = mkstemp(pem);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(1, PEM_write_PUBKEY(f, key1));
	fclose(f);
	assert_int_equal(0, att_key_load(pem, &k, &e));
	assert_int_equal(0, att_quote_verify(k, attest, alen, sig, slen, digest, 32, NULL, &e));
	att_key_free(k);
	/* TPM2B_PUBLIC */
	plen = tpm2b_of(key1, pub, sizeof(pub));
	seed("tpm2b-public", 0x13, NULL, pub, plen);
	write_file(pem, pub, plen);
	assert_int_equal(0, att_key_load(pem, &k, &e));
	assert_int_equal(0, att_quote_verify(k, attest, alen, sig, slen, digest, 32, NULL, &e));
	att_key_free(k);
	assert_int_equal(0, att_key_from_tpm2b_public(pub, plen, &k, &e));
	att_key_free(k);
	/* another key's TPM2B_PUBLIC does not verify */
	plen = tpm2b_of(key2, pub, sizeof(pub));
	assert_int_equal(0, att_key_from_tpm2b_public(pub, plen, &k, &e));
	assert_int_equal(ATT_ESIG, att_quote_verify(k, attest, alen, sig, slen, digest, 32, NULL, &e));
	att_key_free(k);
	/* malformed: truncated, trailing, point off the curve, garbage */
	assert_int_equal(ATT_EKEY, att_key_from_tpm2b_public(pub, plen - 1, &k, &e));
	pub[plen] = 0;
	assert_int_equal(ATT_EKEY, att_key_from_tpm2b_public(pub, plen + 1, &k, &e));
	pub[plen - 1] ^= 1;
	assert_int_equal(ATT_EKEY, att_key_from_tpm2b_public(pub, plen, &k, &e));
	{ static const char bad[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"; write_file(pem, bad, sizeof(bad) - 1); }
	assert_int_equal(ATT_EKEY, att_key_load(pem, &k, &e));
	assert_null(k);
	unlink(pem);
	assert_int_equal(ATT_EIO, att_key_load(pem, &k, &e));
	assert_non_null(strstr(e.msg, pem));
	/* RSA TPM2B_PUBLIC with the default exponent */
	{
		EVP_PKEY *rk = EVP_RSA_gen(2048);
		BIGNUM *n = NULL;
		TPM2B_PUBLIC rp;
		size_t off = 0;

		assert_non_null(rk);
		assert_int_equal(1, EVP_PKEY_get_bn_param(rk, OSSL_PKEY_PARAM_RSA_N, &n));
		memset(&rp, 0, sizeof(rp));
		rp.publicArea.type = TPM2_ALG_RSA;
		rp.publicArea.nameAlg = TPM2_ALG_SHA256;
		rp.publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED |
			TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
			TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
		rp.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		rp.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		rp.publicArea.parameters.rsaDetail.keyBits = 2048;
		rp.publicArea.unique.rsa.size = 256;
		BN_bn2binpad(n, rp.publicArea.unique.rsa.buffer, 256);
		assert_int_equal(0, Tss2_MU_TPM2B_PUBLIC_Marshal(&rp, pub, sizeof(pub), &off));
		assert_int_equal(0, att_key_from_tpm2b_public(pub, off, &k, &e));
		assert_true(EVP_PKEY_eq(att_key_pkey(k), rk) == 1);
		att_key_free(k);
		BN_free(n);
		EVP_PKEY_free(rk);
	}
}

/* --------------------------------------------------------------- decode --- */

static void t_decode(void **st)
{
	uint8_t buf[sizeof(struct attestio_descriptor) + 2 * sizeof(struct attestio_channel)];
	struct attestio_descriptor *d = (void *)buf;
	struct attestio_channel *c = &d->chan[0];
	uint8_t scan[8];
	double v;
	int64_t raw;

	(void)st;
	memset(buf, 0, sizeof(buf));
	d->nchannels = cpu_to_le16(1);
	d->scan_bytes = cpu_to_le32(8);
	/* temperature, s16 LE, scale 10 (IIO_VAL_INT): 2150 -> 21.5 degC */
	c->type = cpu_to_le16(9);
	c->sign = 's';
	c->realbits = 16;
	c->storagebits = 16;
	c->scale_type = cpu_to_le32(1);
	c->scale_val = cpu_to_le32(10);
	scan[0] = 2150 & 0xff;
	scan[1] = 2150 >> 8;
	assert_int_equal(0, att_decode_channel(d, 0, scan, 8, &v, &raw));
	assert_int_equal(2150, raw);
	assert_float_equal(21.5, v, 1e-9);
	assert_string_equal("temp", att_chan_type_name(9));
	assert_string_equal("degC", att_chan_unit(9));
	/* negative, with offset (IIO adds it before scaling) */
	scan[0] = (uint8_t)(-40 & 0xff);
	scan[1] = (uint8_t)((uint16_t)-40 >> 8);
	c->offset_type = cpu_to_le32(1);
	c->offset_val = cpu_to_le32(100);
	assert_int_equal(0, att_decode_channel(d, 0, scan, 8, &v, &raw));
	assert_int_equal(-40, raw);
	assert_float_equal(0.6, v, 1e-9);
	c->offset_type = 0;
	/* pressure, u32 BE, 24 of 32 bits shifted by 4, scale 0.001 */
	c->type = cpu_to_le16(17);
	c->sign = 'u';
	c->endianness = ATTESTIO_BE;
	c->storagebits = 32;
	c->realbits = 24;
	c->shift = 4;
	c->offset = cpu_to_le16(4);
	scan[4] = 0x00;		/* (100000 << 4) | 5, big endian */
	scan[5] = 0x18;
	scan[6] = 0x6a;
	scan[7] = 0x05;
	for (int t = 0; t < 3; t++) {
		static const uint32_t type[] = { 2, 3, 10 };
		static const int32_t v2[] = { 1000, 1000000, 1000 };

		c->scale_type = cpu_to_le32(type[t]);
		c->scale_val = cpu_to_le32(t == 2 ? 1 : 0);
		c->scale_val2 = cpu_to_le32((uint32_t)v2[t]);
		assert_int_equal(0, att_decode_channel(d, 0, scan, 8, &v, &raw));
		assert_int_equal(100000, raw);
		assert_float_equal(100000 * 0.001, v, 1e-9);
	}
	assert_string_equal("pressure", att_chan_type_name(17));
	assert_string_equal("kPa", att_chan_unit(17));
	/* FRACTIONAL_LOG2: 1/2^4 */
	c->scale_type = cpu_to_le32(11);
	c->scale_val = cpu_to_le32(1);
	c->scale_val2 = cpu_to_le32(4);
	assert_int_equal(0, att_decode_channel(d, 0, scan, 8, &v, &raw));
	assert_float_equal(100000 / 16.0, v, 1e-9);
	/* negative INT_PLUS_MICRO: val 0, val2 -500000 = -0.5 */
	c->scale_type = cpu_to_le32(2);
	c->scale_val = 0;
	c->scale_val2 = cpu_to_le32((uint32_t)-500000);
	assert_int_equal(0, att_decode_channel(d, 0, scan, 8, &v, &raw));
	assert_float_equal(-0.5 * 100000, v, 1e-9);
	/* top bits are masked */
	scan[4] = 0xff;
	assert_int_equal(0, att_decode_channel(d, 0, scan, 8, &v, &raw));
	assert_int_equal(0xf186a0, raw);
	/* other types: name only */
	assert_string_equal("accel", att_chan_type_name(3));
	assert_string_equal("", att_chan_unit(3));
	assert_string_equal("unknown", att_chan_type_name(1000));
	/* bounds */
	assert_int_equal(ATT_EPARSE, att_decode_channel(d, 0, scan, 7, &v, &raw));
	assert_int_equal(ATT_EINVAL, att_decode_channel(d, 1, scan, 8, &v, &raw));
	c->scale_type = cpu_to_le32(10);
	c->scale_val2 = 0;
	assert_int_equal(ATT_EPARSE, att_decode_channel(d, 0, scan, 8, &v, &raw));
	c->scale_type = cpu_to_le32(99);
	assert_int_equal(ATT_EPARSE, att_decode_channel(d, 0, scan, 8, &v, &raw));
}

/* ---------------------------------------------------------- beacons --- */

static const uint8_t beacon_a[32] = { 0xa1, 0xa2, 0xa3, [31] = 0xaf };
static const uint8_t beacon_b[32] = { 0xb1, 0xb2, 0xb3, [31] = 0xbf };

struct beacon_log {
	int n, none;
	uint64_t epoch[8];
	uint8_t value[8][32];
};

static void on_beacon(void *ctx, uint32_t stream, uint64_t instance,
		      uint64_t epoch, const uint8_t *beacon)
{
	struct beacon_log *l = ctx;

	assert_int_equal(3, stream);
	assert_int_equal(INSTANCE, instance);
	if (!beacon) {
		l->none++;
		return;
	}
	assert_true(l->n < 8);
	l->epoch[l->n] = epoch;
	memcpy(l->value[l->n++], beacon, 32);
}

/* desc, 2 samples, cp1 (beacon @b1), 2 samples, cp2 (beacon @b2) */
static int build_beacons(struct recs *rs, const uint8_t *b1, const uint8_t *b2)
{
	struct qopt q1 = { .key = key1, .clock = 1000, .beacon = b1 };
	struct qopt q2 = { .key = key1, .clock = 2000, .beacon = b2 };
	struct rstream s, *sp = &s;
	int cp1;

	stream_init(&s, 3);
	add_desc(rs, &s);
	add_sample(rs, &s, 1);
	add_sample(rs, &s, 2);
	cp1 = rs->n;
	add_checkpoints(rs, &sp, 1, 1, &q1);
	add_sample(rs, &s, 3);
	add_sample(rs, &s, 4);
	add_checkpoints(rs, &sp, 1, 2, &q2);
	return cp1;
}

static void t_beacons(void **st)
{
	const uint8_t set_ab[2][32] = {
		{ 0xa1, 0xa2, 0xa3, [31] = 0xaf },
		{ 0xb1, 0xb2, 0xb3, [31] = 0xbf },
	};
	struct att_verifier_opts o = opts1();
	struct beacon_log log = { 0 };
	struct att_summary sum;
	struct recs rs = { 0 };
	struct att_err e;
	int cp1, bad;

	(void)st;
	cp1 = build_beacons(&rs, beacon_a, beacon_b);
	seed("beacons", 0x40, &rs, NULL, 0);
	/* without an expected set: reported, not judged */
	o.on_beacon = on_beacon;
	o.ctx = &log;
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	assert_int_equal(2, sum.checkpoints_verified);
	assert_int_equal(2, sum.checkpoints_beacon);
	assert_int_equal(2, log.n);
	assert_int_equal(0, log.none);
	assert_int_equal(1, log.epoch[0]);
	assert_memory_equal(beacon_a, log.value[0], 32);
	assert_int_equal(2, log.epoch[1]);
	assert_memory_equal(beacon_b, log.value[1], 32);
	/* both issued */
	o = opts1();
	o.beacons = set_ab;
	o.nbeacons = 2;
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	/* the second was never issued: fail closed at it */
	o.nbeacons = 1;
	assert_int_equal(ATT_EREPLAY, feed_all(&rs, &o, NULL, &bad, &e));
	assert_int_equal(rs.n - 1, bad);
	assert_non_null(strstr(e.msg, "not one the oracle network issued"));
	/* a changed beacon no longer matches the quote's extraData */
	rs.r[cp1][ATTESTIO_HDR_LEN + offsetof(struct attestio_checkpoint,
					      beacon)] ^= 1;
	o = opts1();
	assert_int_not_equal(0, feed_all(&rs, &o, NULL, &bad, &e));
	assert_int_equal(cp1, bad);
	recs_free(&rs);

	/* no beacon: fine without a set, fails with one */
	memset(&rs, 0, sizeof(rs));
	memset(&log, 0, sizeof(log));
	build_beacons(&rs, NULL, beacon_a);
	o = opts1();
	o.on_beacon = on_beacon;
	o.ctx = &log;
	assert_int_equal(0, feed_all(&rs, &o, &sum, NULL, NULL));
	assert_int_equal(1, sum.checkpoints_beacon);
	assert_int_equal(1, log.none);
	assert_int_equal(1, log.n);
	o = opts1();
	o.beacons = set_ab;
	o.nbeacons = 2;
	assert_int_equal(ATT_EREPLAY, feed_all(&rs, &o, NULL, &bad, &e));
	assert_int_equal(cp1, bad);
	assert_non_null(strstr(e.msg, "covers no oracle beacon"));
	recs_free(&rs);
}

static void t_codes(void **st)
{
	(void)st;
	assert_string_equal("ok", att_code_name(ATT_OK));
	assert_string_equal("chain", att_code_name(ATT_ECHAIN));
	assert_string_equal("replay", att_code_name(ATT_EREPLAY));
	assert_string_equal("unknown", att_code_name(12345));
	for (int c = ATT_EINVAL; c <= 0; c++)
		assert_string_not_equal("unknown", att_code_name(c));
}

static int setup(void **st)
{
	(void)st;
	return keys_setup();
}

static int teardown(void **st)
{
	(void)st;
	keys_teardown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good),
		cmocka_unit_test(t_states_and_descriptor),
		cmocka_unit_test(t_verdict_descriptor),
		cmocka_unit_test(t_resume_descriptor),
		cmocka_unit_test(t_offer_state),
		cmocka_unit_test(t_offer_state_unsigned),
		cmocka_unit_test(t_flip_every_byte),
		cmocka_unit_test(t_flip_classes),
		cmocka_unit_test(t_drop_swap_replay),
		cmocka_unit_test(t_replayed_quote),
		cmocka_unit_test(t_reset_restart_events),
		cmocka_unit_test(t_multi_stream_shared_quote),
		cmocka_unit_test(t_wrong_key_extra_magic_type),
		cmocka_unit_test(t_policy),
		cmocka_unit_test(t_unsigned),
		cmocka_unit_test(t_lost_gap_detach),
		cmocka_unit_test(t_anchor_direct),
		cmocka_unit_test(t_quote_verify),
		cmocka_unit_test(t_keys),
		cmocka_unit_test(t_decode),
		cmocka_unit_test(t_codes),
		cmocka_unit_test(t_beacons),
	};

	setenv("TSS2_LOG", "all+NONE", 1);	/* malformed input is expected */
	return cmocka_run_group_tests_name("verify", tests, setup, teardown);
}

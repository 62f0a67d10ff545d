// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the verifier's rules (Documentation/wire-format.md,
 * "Verification rules"): the forgeries of issue 7, each as a case, and a
 * property test over random interleavings of genuine, forged, dropped,
 * duplicated and reordered records of several streams and keys.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "internal.h"
#include "libattestio.h"

#define MAXREC 4096
#include "signed_stream.h"

#define FORGED_VALUE	31337

/* Verdicts of one run, indexed by (stream, seq). */
#define VS	8
#define VSEQ	1024
struct seen {
	int verdicts;
	signed char st[VS][VSEQ];	/* -1: none; else enum att_rec_state */
	unsigned char cnt[VS][VSEQ];	/* verdicts per (stream, seq) */
	bool vsample[VS][VSEQ];		/* a sample at (stream, seq) VERIFIED */
	int dup;			/* a record got two verdicts */
	uint64_t missing, withheld;
};

static void collect(void *ctx, const struct att_verdict *vd)
{
	struct seen *s = ctx;

	if (getenv("ATTESTIO_TEST_VERDICTS"))
		fprintf(stderr, "verdict stream %u seq %llu x%llu type %u state %d cause %d %s\n",
			vd->stream, (unsigned long long)vd->seq,
			(unsigned long long)vd->count, vd->type, vd->state,
			vd->cause, vd->why ? vd->why : "");

	s->verdicts++;
	if (vd->state == ATT_REC_MISSING) {
		if (vd->cause == ATT_CAUSE_WITHHELD)
			s->withheld += vd->count;
		else
			s->missing += vd->count;
		return;
	}
	if (vd->stream >= VS || vd->seq >= VSEQ ||
	    vd->type == ATTESTIO_REC_LOST)
		return;
	if (s->st[vd->stream][vd->seq] >= 0)
		s->dup++;
	if (s->st[vd->stream][vd->seq] != ATT_REC_VERIFIED)
		s->st[vd->stream][vd->seq] = (signed char)vd->state;
	s->cnt[vd->stream][vd->seq]++;
	if (vd->state == ATT_REC_VERIFIED && vd->type == ATTESTIO_REC_SAMPLE)
		s->vsample[vd->stream][vd->seq] = true;
}

/* Feed @rs; finish; returns finish's (or the first feed) error. */
static int run(const struct recs *rs, struct att_verifier_opts o,
	       struct seen *seen, struct att_summary *sum)
{
	struct att_verifier *v;
	int ret = 0, r;

	memset(seen, 0, sizeof(*seen));
	memset(seen->st, -1, sizeof(seen->st));
	o.on_verdict = collect;
	o.ctx = seen;
	v = att_verifier_new(&o);
	assert_non_null(v);
	for (int i = 0; i < rs->n; i++) {
		r = att_verifier_feed(v, rs->r[i], rs->len[i], NULL, NULL);
		if (r && !ret)
			ret = r;
	}
	r = att_verifier_finish(v, NULL);
	if (r && !ret)
		ret = r;
	if (sum)
		att_verifier_summary(v, sum);
	att_verifier_free(v);
	return ret;
}

static struct att_verifier_opts opts(void)
{
	struct att_verifier_opts o = { .ak = ak1 };

	return o;
}

static struct att_verifier_opts lax(void)
{
	struct att_verifier_opts o = {
		.ak = ak1, .allow_unsigned = true, .allow_lost = true,
		.allow_join = true,
	};

	return o;
}

static bool is_forged_sample(const uint8_t *rec)
{
	const uint8_t *scan = rec + ATTESTIO_HDR_LEN + sizeof(struct attestio_sample);
	int16_t v = (int16_t)(scan[0] | scan[1] << 8);

	return le16_to_cpu(((const struct attestio_rec_hdr *)rec)->type) ==
	       ATTESTIO_REC_SAMPLE && v == FORGED_VALUE;
}

static uint32_t rec_stream(const uint8_t *rec)
{
	return le32_to_cpu(((const struct attestio_rec_hdr *)rec)->stream);
}

static uint64_t rec_seq(const uint8_t *rec)
{
	return le64_to_cpu(((const struct attestio_rec_hdr *)rec)->seq);
}

/* Every record got exactly one verdict (all seqs below VSEQ). */
static void assert_one_verdict_each(const struct recs *rs,
				    const struct seen *seen)
{
	static unsigned char occ[VS][VSEQ];

	memset(occ, 0, sizeof(occ));
	for (int i = 0; i < rs->n; i++) {
		uint32_t s = rec_stream(rs->r[i]);
		uint64_t q = rec_seq(rs->r[i]);

		if (s < VS && q < VSEQ &&
		    le16_to_cpu(((const struct attestio_rec_hdr *)rs->r[i])->type) !=
		    ATTESTIO_REC_LOST)
			occ[s][q]++;
	}
	for (int s = 0; s < VS; s++)
		for (int q = 0; q < VSEQ; q++)
			if (occ[s][q] != seen->cnt[s][q])
				fail_msg("stream %d seq %d: %u records, %u verdicts",
					 s, q, occ[s][q], seen->cnt[s][q]);
}

/*
 * No sample carrying the forged value was reported VERIFIED.  A verdict
 * names (stream, seq, type): where a genuine sample with the same stream
 * and seq is also in the input, the verdict cannot tell them apart, and
 * the hash chain is what keeps the forged one out (asserted by the other
 * cases); elsewhere a VERIFIED sample there is a forged one.
 */
static void assert_no_forged_verified(const struct recs *rs,
				      const struct seen *seen)
{
	for (int i = 0; i < rs->n; i++) {
		uint32_t s = rec_stream(rs->r[i]);
		uint64_t q = rec_seq(rs->r[i]);

		if (!is_forged_sample(rs->r[i]) || s >= VS || q >= VSEQ)
			continue;
		for (int j = 0; j < rs->n; j++)
			if (rec_stream(rs->r[j]) == s && rec_seq(rs->r[j]) == q &&
			    le16_to_cpu(((const struct attestio_rec_hdr *)rs->r[j])->type) ==
			    ATTESTIO_REC_SAMPLE && !is_forged_sample(rs->r[j]))
				goto next;
		if (seen->vsample[s][q])
			fail_msg("forged sample stream %u seq %llu reported VERIFIED",
				 s, (unsigned long long)q);
next:;
	}
}

/*
 * A genuine stream: desc, 6 samples, cp (H6), 4 samples, cp (H11), 2
 * samples; epochs 1 + 2 * id and 2 + 2 * id.
 */
static void genuine(struct recs *rs, struct rstream *s, uint32_t id)
{
	stream_init(s, id);
	add_desc(rs, s);
	for (int i = 0; i < 6; i++)
		add_sample(rs, s, (int16_t)(100 + i));
	add_cp(rs, s, 1 + 2 * id, 1000 + 2000 * id);
	for (int i = 0; i < 4; i++)
		add_sample(rs, s, (int16_t)(200 + i));
	add_cp(rs, s, 2 + 2 * id, 2000 + 2000 * id);
	add_sample(rs, s, 300);
	add_sample(rs, s, 301);
}

/* Move @rs's records from index @from on into @dst (borrowed). */
static void borrow(struct recs *dst, const struct recs *src, int from, int to)
{
	for (int i = from; i < to; i++) {
		dst->r[dst->n] = src->r[i];
		dst->len[dst->n++] = src->len[i];
	}
}

/*
 * Forgery 1: an unsigned, structurally valid first checkpoint, forged
 * samples after it, then the genuine signed checkpoint and the rest.
 */
static void t_fake_first_checkpoint(void **st)
{
	struct recs g = { 0 }, f = { 0 }, file = { 0 };
	struct rstream s, fs, *pfs = &fs;
	struct qopt uq = { .status = ATTESTIO_CP_NO_KEY };
	struct att_summary sum;
	struct seen seen;

	(void)st;
	genuine(&g, &s, 0);	/* cp1 is record 7 (seq 7, H 6) */
	for (int variant = 0; variant < 2; variant++) {
		f.n = 0;
		stream_init(&fs, 0);
		fs.seq = 1;
		add_checkpoints(&f, &pfs, 1, 1, &uq);	/* seq 1, H 0 */
		if (variant) {
			/* the variant: heads[self].seq 1 (itself) */
			struct attestio_cp_layout lay;
			struct attestio_checkpoint *cp = attestio_rec_payload(f.r[0]);

			attestio_cp_layout(1, 0, 0, &lay);
			((struct attestio_cp_head *)(f.r[0] + lay.heads))->seq =
				cpu_to_le64(1);
			(void)cp;
		}
		for (int i = 0; i < 5; i++)
			add_sample(&f, &fs, FORGED_VALUE);	/* seq 2..6 */
		file.n = 0;
		borrow(&file, &f, 0, f.n);
		borrow(&file, &g, 7, g.n);
		assert_int_not_equal(0, run(&file, opts(), &seen, &sum));
		assert_no_forged_verified(&file, &seen);
		assert_int_equal(0, seen.dup);
		assert_true(sum.samples_unverifiable >= 5);
		/* later genuine samples still verify */
		assert_int_equal(ATT_REC_VERIFIED, seen.st[0][12]);
		/* with every allowance: still never VERIFIED, and counted */
		run(&file, lax(), &seen, &sum);
		assert_no_forged_verified(&file, &seen);
		assert_true(sum.samples_unverifiable >= 5);
		for (int i = 0; i < f.n; i++)
			free(f.r[i]);
	}
	recs_free(&g);
}

/*
 * Forgery 2: one lost record must not excuse more than it declares, nor
 * make the records between a hole and the next anchor verified.
 */
static void t_lost_excuses_nothing_more(void **st)
{
	struct recs g = { 0 }, file = { 0 }, f = { 0 };
	struct rstream s, fs;
	struct att_summary sum;
	struct seen seen;

	(void)st;
	genuine(&g, &s, 0);
	/* delete seq 2..4 (3 records) behind a lost(1) */
	borrow(&file, &g, 0, 2);
	add_lost(&f, 1);
	borrow(&file, &f, 0, 1);
	borrow(&file, &g, 5, g.n);
	assert_int_equal(ATT_ESEQ, run(&file, lax(), &seen, &sum));
	assert_int_equal(3, sum.missing);
	assert_int_equal(0, sum.missing_excused);
	/* lost(3): excused, but seq 5..6 can never be VERIFIED */
	le64_to_cpu(0);
	((struct attestio_lost *)attestio_rec_payload(f.r[0]))->records =
		cpu_to_le64(3);
	assert_int_equal(0, run(&file, lax(), &seen, &sum));
	assert_int_equal(3, sum.missing_excused);
	assert_int_equal(ATT_REC_UNVERIFIABLE, seen.st[0][5]);
	assert_int_equal(ATT_REC_UNVERIFIABLE, seen.st[0][6]);
	assert_int_equal(ATT_REC_VERIFIED, seen.st[0][8]);
	/* without allow_lost the same file fails */
	assert_int_equal(ATT_ESEQ, run(&file, opts(), &seen, &sum));
	/* forged samples between the hole and the next checkpoint */
	file.n = 0;
	borrow(&file, &g, 0, 2);
	borrow(&file, &f, 0, 1);
	stream_init(&fs, 0);
	fs.seq = 5;
	add_sample(&f, &fs, FORGED_VALUE);
	add_sample(&f, &fs, FORGED_VALUE);
	borrow(&file, &f, 1, 3);
	borrow(&file, &g, 7, g.n);
	run(&file, lax(), &seen, &sum);
	assert_no_forged_verified(&file, &seen);
	assert_int_equal(ATT_REC_UNVERIFIABLE, seen.st[0][5]);
	/* a lost record's budget is shared: two holes of 3 need 6 */
	for (int i = 0; i < f.n; i++)
		free(f.r[i]);
	f.n = 0;
	recs_free(&g);
}

/* Holes in two streams: one lost(3) covers only one of them. */
static void t_lost_budget_across_streams(void **st)
{
	struct recs g = { 0 }, h = { 0 }, file = { 0 }, f = { 0 };
	struct rstream a, b;
	struct att_summary sum;
	struct seen seen;

	(void)st;
	genuine(&g, &a, 0);
	genuine(&h, &b, 1);
	add_lost(&f, 3);
	borrow(&file, &f, 0, 1);
	borrow(&file, &g, 0, 2);
	borrow(&file, &g, 5, g.n);	/* stream 0 loses seq 2..4 */
	borrow(&file, &h, 0, 2);
	borrow(&file, &h, 5, h.n);	/* stream 1 loses seq 2..4 */
	assert_int_equal(ATT_ESEQ, run(&file, lax(), &seen, &sum));
	assert_int_equal(6, sum.missing);
	assert_int_equal(3, sum.missing_excused);
	((struct attestio_lost *)attestio_rec_payload(f.r[0]))->records =
		cpu_to_le64(6);
	assert_int_equal(0, run(&file, lax(), &seen, &sum));
	recs_free(&f);
	recs_free(&g);
	recs_free(&h);
}

/* Withheld: a verified quote signs heads of streams absent from the file. */
static void t_withheld(void **st)
{
	struct recs rs = { 0 }, file = { 0 };
	struct rstream a, b, *both[2] = { &a, &b };
	struct qopt q = { .key = key1, .clock = 100 };
	struct att_verifier_opts o = opts();
	struct att_summary sum;
	struct seen seen;
	int cut = 0;

	(void)st;
	stream_init(&a, 0);
	stream_init(&b, 1);
	add_desc(&rs, &a);
	add_desc(&rs, &b);
	add_sample(&rs, &a, 1);
	add_sample(&rs, &b, 2);
	add_checkpoints(&rs, both, 2, 1, &q);
	add_sample(&rs, &a, 3);
	add_sample(&rs, &b, 4);
	cut = rs.n;
	add_sample(&rs, &b, 5);
	q.clock = 200;
	add_checkpoints(&rs, both, 2, 2, &q);
	/* the whole file: complete */
	o.complete = true;
	assert_int_equal(0, run(&rs, o, &seen, &sum));
	assert_int_equal(0, sum.withheld);
	/* stream 1 removed entirely */
	for (int i = 0; i < rs.n; i++)
		if (rec_stream(rs.r[i]) == 0)
			borrow(&file, &rs, i, i + 1);
	assert_int_equal(ATT_ESEQ, run(&file, o, &seen, &sum));
	assert_int_equal(5, sum.withheld);	/* seq 0..4 of stream 1 */
	o.complete = false;
	assert_int_equal(0, run(&file, o, &seen, &sum));
	assert_int_equal(5, sum.withheld);
	/* stream 1's tail after epoch 1 removed */
	file.n = 0;
	for (int i = 0; i < rs.n; i++)
		if (rec_stream(rs.r[i]) == 0 || i < cut - 1)
			borrow(&file, &rs, i, i + 1);
	o.complete = true;
	assert_int_equal(ATT_ESEQ, run(&file, o, &seen, &sum));
	assert_true(sum.withheld >= 2);
	recs_free(&rs);
}

/* A head that another stream's quote signs must match this chain. */
static void t_other_stream_head(void **st)
{
	struct recs rs = { 0 };
	struct rstream a, b, *both[2] = { &a, &b };
	struct qopt q = { .key = key1, .clock = 100 };
	struct att_summary sum;
	struct seen seen;

	(void)st;
	stream_init(&a, 0);
	stream_init(&b, 1);
	add_desc(&rs, &a);
	add_desc(&rs, &b);
	add_sample(&rs, &a, 1);
	add_sample(&rs, &b, 2);
	add_checkpoints(&rs, both, 2, 1, &q);
	/* stream 1's checkpoint removed: stream 0's quote still covers it */
	free(rs.r[5]);
	rs.n = 5;
	assert_int_equal(0, run(&rs, opts(), &seen, &sum));
	assert_int_equal(ATT_REC_VERIFIED, seen.st[1][1]);
	assert_int_equal(2, sum.samples_verified);
	/* stream 1's sample altered: caught through stream 0's quote */
	rs.r[3][ATTESTIO_HDR_LEN + sizeof(struct attestio_sample)] ^= 1;
	assert_int_equal(ATT_ECHAIN, run(&rs, opts(), &seen, &sum));
	assert_int_not_equal(ATT_REC_VERIFIED, seen.st[1][1]);
	recs_free(&rs);
}

/*
 * Review findings: stream 1's records fed after stream 0's quote that signs
 * their head (stream 1's own checkpoint dropped): forged ones break the
 * chain, genuine ones are VERIFIED.  A forged seq-0 descriptor of another
 * instance does not hide stream 1's withheld tail.
 */
static void t_claims_and_instance_switch(void **st)
{
	struct recs rs = { 0 }, file = { 0 }, f = { 0 };
	struct rstream a, b, *both[2] = { &a, &b }, fs;
	struct qopt q = { .key = key1, .clock = 100 };
	struct att_verifier_opts o = opts();
	struct att_summary sum;
	struct seen seen;
	int b_cp1 = 0;

	(void)st;
	stream_init(&a, 0);
	stream_init(&b, 1);
	add_desc(&rs, &a);
	add_desc(&rs, &b);
	add_sample(&rs, &a, 1);
	add_sample(&rs, &b, 2);
	add_checkpoints(&rs, both, 2, 1, &q);	/* b: seq 2 */
	b_cp1 = rs.n;
	add_sample(&rs, &a, 3);
	add_sample(&rs, &b, 4);			/* b: seq 3 */
	add_sample(&rs, &b, 5);			/* b: seq 4 */
	q.clock = 200;
	add_checkpoints(&rs, both, 2, 2, &q);	/* signs b's head at seq 4 */
	o.complete = true;
	/* all of stream 0, then stream 1 without its epoch-2 checkpoint */
	for (int i = 0; i < rs.n; i++)
		if (rec_stream(rs.r[i]) == 0)
			borrow(&file, &rs, i, i + 1);
	for (int i = 0; i < rs.n; i++)
		if (rec_stream(rs.r[i]) == 1 && rec_seq(rs.r[i]) <= 4)
			borrow(&file, &rs, i, i + 1);
	assert_int_equal(0, run(&file, o, &seen, &sum));
	assert_int_equal(ATT_REC_VERIFIED, seen.st[1][3]);
	assert_int_equal(ATT_REC_VERIFIED, seen.st[1][4]);
	/* the same with stream 1's seq 3..4 forged */
	file.n -= 2;
	stream_init(&fs, 1);
	fs.seq = 3;
	add_sample(&f, &fs, FORGED_VALUE);
	add_sample(&f, &fs, FORGED_VALUE);
	borrow(&file, &f, 0, 2);
	assert_int_equal(ATT_ECHAIN, run(&file, o, &seen, &sum));
	assert_no_forged_verified(&file, &seen);
	assert_int_equal(ATT_REC_UNVERIFIABLE, seen.st[1][3]);
	/* stream 1's tail withheld, then a forged genesis of another instance */
	file.n = 0;
	for (int i = 0; i < rs.n; i++)
		if (rec_stream(rs.r[i]) == 0 || i < b_cp1)
			borrow(&file, &rs, i, i + 1);
	{
		struct rstream g;
		uint8_t *d;

		stream_init(&g, 1);
		add_desc(&f, &g);
		d = f.r[f.n - 1];
		((struct attestio_descriptor *)attestio_rec_payload(d))->instance =
			cpu_to_le64(0xdeadbeef);
		borrow(&file, &f, f.n - 1, f.n);
	}
	assert_int_equal(ATT_ESEQ, run(&file, o, &seen, &sum));
	assert_true(sum.withheld >= 2);
	recs_free(&f);
	recs_free(&rs);
}

/*
 * A stream id reused for another device: a new chain (generation) in the
 * same instance.  Verifies in log order and as per-stream files; another
 * stream's quote signs each generation's heads separately.
 */
static void t_stream_id_reuse(void **st)
{
	struct recs rs = { 0 }, file = { 0 };
	struct rstream a, b1, b2, *ab1[2] = { &a, &b1 }, *ab2[2] = { &a, &b2 };
	struct qopt q = { .key = key1, .clock = 100 };
	struct att_verifier_opts o = opts();
	struct att_summary sum;
	struct seen seen;

	(void)st;
	stream_init(&a, 0);
	stream_init_gen(&b1, 1, 1);
	stream_init_gen(&b2, 1, 2);
	add_desc(&rs, &a);
	add_desc(&rs, &b1);
	add_sample(&rs, &a, 1);
	add_sample(&rs, &b1, 2);
	add_checkpoints(&rs, ab1, 2, 1, &q);
	add_sample(&rs, &b1, 3);
	add_detach(&rs, &b1);
	q.clock = 200;
	add_checkpoints(&rs, ab1, 2, 2, &q);	/* b1's final checkpoint */
	add_desc(&rs, &b2);			/* the id reused: seq 0 again */
	add_sample(&rs, &b2, 4);
	add_sample(&rs, &a, 5);
	q.clock = 300;
	add_checkpoints(&rs, ab2, 2, 3, &q);
	o.complete = true;
	assert_int_equal(0, run(&rs, o, &seen, &sum));
	assert_int_equal(5, sum.samples_verified);
	/* per-stream files concatenated: stream 0 first */
	for (uint32_t id = 0; id < 2; id++)
		for (int i = 0; i < rs.n; i++)
			if (rec_stream(rs.r[i]) == id)
				borrow(&file, &rs, i, i + 1);
	assert_int_equal(0, run(&file, o, &seen, &sum));
	assert_int_equal(5, sum.samples_verified);
	assert_int_equal(0, sum.withheld);
	/* a head signed for generation 2 is not compared with generation 1 */
	assert_int_equal(0, sum.records_bad);
	recs_free(&rs);
}

/* First covered by an unsigned checkpoint, then by a signed one: VERIFIED. */
static void t_unsigned_then_signed(void **st)
{
	struct recs rs = { 0 };
	struct rstream s, *ps = &s;
	struct qopt uq = { .status = ATTESTIO_CP_TPM_ERROR };
	struct att_summary sum;
	struct seen seen;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 1);
	add_sample(&rs, &s, 2);
	add_checkpoints(&rs, &ps, 1, 1, &uq);
	add_sample(&rs, &s, 3);
	add_cp(&rs, &s, 2, 100);
	add_sample(&rs, &s, 4);
	assert_int_equal(0, run(&rs, opts(), &seen, &sum));
	assert_int_equal(3, sum.samples_verified);
	assert_int_equal(0, sum.samples_unsigned);
	assert_int_equal(1, sum.samples_pending);
	assert_int_equal(ATT_REC_VERIFIED, seen.st[0][3]);	/* unsigned cp */
	/* without the signed checkpoint: unsigned, refused by default */
	free(rs.r[5]);
	free(rs.r[6]);
	rs.n = 5;
	assert_int_equal(ATT_EUNSIGNED, run(&rs, opts(), &seen, &sum));
	assert_int_equal(2, sum.samples_unsigned);
	recs_free(&rs);
}

/* Two per-stream files that verify alone also verify concatenated. */
static void t_concatenated(void **st)
{
	struct recs rs = { 0 }, file = { 0 };
	struct rstream a, b, *both[2] = { &a, &b };
	struct qopt q = { .key = key1, .clock = 100 };
	struct att_summary sum;
	struct seen seen;

	(void)st;
	stream_init(&a, 0);
	stream_init(&b, 1);
	add_desc(&rs, &a);
	add_desc(&rs, &b);
	for (uint64_t e = 1; e <= 4; e++) {
		add_sample(&rs, &a, 1);
		add_sample(&rs, &b, 2);
		q.clock = 100 * e;
		add_checkpoints(&rs, both, 2, e, &q);
	}
	for (uint32_t id = 0; id < 2; id++)
		for (int i = 0; i < rs.n; i++)
			if (rec_stream(rs.r[i]) == id)
				borrow(&file, &rs, i, i + 1);
	assert_int_equal(0, run(&file, opts(), &seen, &sum));
	assert_int_equal(8, sum.samples_verified);
	/* the same stream's file twice is still a replay */
	borrow(&file, &rs, 0, 1);
	for (int i = 0; i < rs.n; i++)
		if (rec_stream(rs.r[i]) == 0)
			borrow(&file, &rs, i, i + 1);
	assert_int_not_equal(0, run(&file, opts(), &seen, &sum));
	recs_free(&rs);
}

/* --state: a file verified once is a replay the second time. */
static void t_state_file(void **st)
{
	struct recs rs = { 0 }, first = { 0 }, second = { 0 };
	struct rstream s;
	struct att_verifier_opts o = opts();
	char path[] = "/tmp/attestio-state-XXXXXX";
	struct att_verifier *v;
	struct att_err e;
	int fd;

	(void)st;
	stream_init(&s, 0);
	add_desc(&rs, &s);
	for (uint64_t ep = 1; ep <= 4; ep++) {
		add_sample(&rs, &s, 7);
		add_cp(&rs, &s, ep, 100 * ep);
	}
	borrow(&first, &rs, 0, 5);	/* epochs 1, 2 */
	borrow(&second, &rs, 5, rs.n);	/* epochs 3, 4 (mid-chain) */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	for (int round = 0; round < 3; round++) {
		const struct recs *in = round == 1 ? &second : &first;
		int r = 0;

		o.allow_join = round == 1;	/* the second starts mid-chain */
		v = att_verifier_new(&o);
		assert_int_equal(0, att_verifier_state_load(v, path, &e));
		for (int i = 0; i < in->n; i++)
			r |= att_verifier_feed(v, in->r[i], in->len[i], NULL, &e);
		if (!r)
			r = att_verifier_finish(v, &e);
		if (round < 2) {
			assert_int_equal(0, r);
			assert_int_equal(0, att_verifier_state_save(v, path, &e));
		} else {
			/* the first file again: its quotes are old */
			assert_int_equal(ATT_EREPLAY, r);
			assert_non_null(strstr(e.msg, "earlier run"));
		}
		att_verifier_free(v);
	}
	/* strict parsing: a bad line changes nothing */
	v = att_verifier_new(&o);
	{
		static const char *const bad[] = {
			"", "attestio-verify-state 2\n",
			"attestio-verify-state 1\nkey 00\n",
			"attestio-verify-state 1\nchain 0011223344556677 64 1\n",
			"attestio-verify-state 1\nchain 0011223344556677 1 01\n",
			"attestio-verify-state 1\nchain 0011223344556677  1 1\n",
			"attestio-verify-state 1\nchain 0011223344556677 1 1\nchain 0011223344556677 1 2\n",
			"attestio-verify-state 1\nchain 0011223344556677 1 -1\n",
			"attestio-verify-state 1\nchain 0011223344556677 1 99999999999999999999\n",
			"attestio-verify-state 1\nfoo\n",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(ATT_EPARSE,
					 att_verifier_state_parse(v, bad[i], strlen(bad[i]), &e));
		assert_int_equal(0, att_verifier_state_parse(v,
			"attestio-verify-state 1\n# c\nchain 0011223344556677 1 5\n",
			strlen("attestio-verify-state 1\n# c\nchain 0011223344556677 1 5\n"), &e));
	}
	att_verifier_free(v);
	unlink(path);
	recs_free(&rs);
}

/*
 * Bounded and linear: a fake checkpoint then many samples that never
 * anchor.  The old verifier memmoved its whole buffer per record here
 * (quadratic); the ring evicts the oldest as UNVERIFIABLE in O(1).
 */
static void t_unanchored_flood(void **st)
{
	struct att_verifier_opts o = lax();
	struct att_verifier *v = att_verifier_new(&o);
	struct attestio_rec_info info = { .stream = 2 };
	uint32_t len = attestio_rec_len(sizeof(struct attestio_sample) + 4);
	uint8_t rec[64], scan[4] = { 1, 2, 0, 0 };
	struct att_summary sum;
	const uint64_t n = 1000000;

	(void)st;
	assert_true(len <= sizeof(rec));
	for (uint64_t i = 1; i <= n; i++) {
		info.seq = i;
		memset(rec, 0, sizeof(rec));
		attestio_sample_encode(rec, len, &info, 0, scan, 4);
		assert_int_equal(0, att_verifier_feed(v, rec, len, NULL, NULL));
	}
	att_verifier_summary(v, &sum);
	/* at most 16 MiB are held: the rest were evicted */
	assert_true(sum.samples_unverifiable > n / 2);
	assert_int_equal(n, sum.samples_unverifiable + sum.samples_pending);
	att_verifier_free(v);
}

/* ------------------------------------------------------------ CLI --- */

static void write_recs(const char *path, const struct recs *rs)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (int i = 0; i < rs->n; i++)
		assert_int_equal(rs->len[i], fwrite(rs->r[i], 1, rs->len[i], f));
	assert_int_equal(0, fclose(f));
}

/* Run @cmd; its exit status, output (stdout+stderr) in @out. */
static int sh(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, r;
	int st;

	assert_non_null(p);
	while (n + 1 < cap && (r = fread(out + n, 1, cap - 1 - n, p)) > 0)
		n += r;
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/*
 * The CLI on forgery 1: `verify` fails and says why, `read --ak` (through
 * ATTESTIO_DEV) never shows a forged value as VERIFIED.
 */
static void t_cli_forgery(void **st)
{
	const char *cli = getenv("ATTESTIO_CLI") ? getenv("ATTESTIO_CLI") :
			  "build/bin/attestio";
	struct recs g = { 0 }, f = { 0 }, file = { 0 };
	struct rstream s, fs, *pfs = &fs;
	struct qopt uq = { .status = ATTESTIO_CP_NO_KEY };
	char dir[] = "/tmp/attestio-cli-XXXXXX", cmd[1024], *out, *line;
	FILE *k;

	(void)st;
	if (access(cli, X_OK))
		skip();
	out = malloc(1 << 20);
	assert_non_null(out);
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s/ak.pem", dir);
	k = fopen(cmd, "w");
	assert_non_null(k);
	assert_int_equal(1, PEM_write_PUBKEY(k, key1));
	fclose(k);
	genuine(&g, &s, 0);
	stream_init(&fs, 0);
	fs.seq = 1;
	add_checkpoints(&f, &pfs, 1, 1, &uq);
	for (int i = 0; i < 5; i++)
		add_sample(&f, &fs, FORGED_VALUE);
	borrow(&file, &f, 0, f.n);
	borrow(&file, &g, 7, g.n);
	snprintf(cmd, sizeof(cmd), "%s/forged.bin", dir);
	write_recs(cmd, &file);
	snprintf(cmd, sizeof(cmd), "%s/genuine.bin", dir);
	write_recs(cmd, &g);

	snprintf(cmd, sizeof(cmd), "%s verify --ak %s/ak.pem %s/genuine.bin 2>&1",
		 cli, dir, dir);
	assert_int_equal(0, sh(cmd, out, 1 << 20));
	assert_non_null(strstr(out, "verified 10 samples, 2 checkpoints; 2 pending"));
	assert_non_null(strstr(out, "origin was not checked"));
	snprintf(cmd, sizeof(cmd), "%s verify --ak %s/ak.pem %s/forged.bin 2>&1",
		 cli, dir, dir);
	assert_int_equal(1, sh(cmd, out, 1 << 20));
	assert_non_null(strstr(out, "unverifiable"));
	assert_non_null(strstr(out, "FAILED"));
	snprintf(cmd, sizeof(cmd), "%s verify --json --allow-join --allow-unsigned "
		 "--ak %s/ak.pem %s/forged.bin", cli, dir, dir);
	sh(cmd, out, 1 << 20);
	if (!strstr(out, "\"samples_unverifiable\": 5") ||
	    !strstr(out, "\"samples_verified\": 4"))
		fail_msg("%s", out);
	snprintf(cmd, sizeof(cmd), "ATTESTIO_DEV=%s/forged.bin %s read --ak %s/ak.pem 2>&1",
		 dir, cli, dir);
	sh(cmd, out, 1 << 20);
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, "31337") && strstr(line, "VERIFIED"))
			fail_msg("read shows a forged sample as verified: %s", line);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(0, system(cmd));
	for (int i = 0; i < f.n; i++)
		free(f.r[i]);
	recs_free(&g);
	free(out);
}

/* ------------------------------------------------------- property --- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/*
 * Genuine: 3 streams, random samples and epochs (some unsigned, some late
 * samples).  Forged: samples with the forged value, checkpoints signed by
 * another key, unsigned checkpoints.  Mutations: drop, duplicate, swap,
 * insert, replace.  Property: nothing forged is ever VERIFIED; an
 * untouched file verifies and every covered sample is VERIFIED.
 */
static void t_property(void **st)
{
	int iterations = getenv("ATTESTIO_PROPERTY_ITER") ?
			 atoi(getenv("ATTESTIO_PROPERTY_ITER")) : 150;

	(void)st;
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int it = 0; it < iterations; it++) {
		struct recs g = { 0 }, f = { 0 }, file = { 0 };
		struct rstream ss[3], *ps[3] = { &ss[0], &ss[1], &ss[2] };
		struct rstream fs;
		struct att_summary sum;
		struct seen seen;
		uint64_t clock = 100;
		int nmut;

		for (uint32_t i = 0; i < 3; i++) {
			stream_init(&ss[i], i);
			add_desc(&g, &ss[i]);
		}
		for (uint64_t ep = 1; ep <= 6; ep++) {
			struct qopt q = { .key = key1, .clock = clock += 10 };
			int k = 1 + (int)rnd(6);

			for (int j = 0; j < k; j++)
				add_sample(&g, &ss[rnd(3)], (int16_t)rnd(3000));
			if (rnd(8) == 0)
				q.status = ATTESTIO_CP_TPM_ERROR;
			if (rnd(4) == 0)
				q.late = 1;
			add_checkpoints(&g, ps, 3, ep, &q);
		}
		/* untouched: verifies (unsigned allowed), covered samples VERIFIED */
		{
			struct att_verifier_opts o = opts();

			o.allow_unsigned = true;
			o.complete = true;
			assert_int_equal(0, run(&g, o, &seen, &sum));
			assert_int_equal(0, sum.samples_unverifiable);
			assert_int_equal(0, sum.samples_bad);
			assert_int_equal(0, seen.dup);
			assert_one_verdict_each(&g, &seen);
		}
		/* forged material */
		for (int j = 0; j < 6; j++) {
			struct qopt q = { .key = key2, .clock = 5000 + j };

			stream_init(&fs, rnd(3));
			fs.seq = 1 + rnd(20);
			switch (rnd(3)) {
			case 0:
				add_sample(&f, &fs, FORGED_VALUE);
				break;
			case 1:
				add_sample(&f, &fs, FORGED_VALUE);
				add_checkpoints(&f, (struct rstream *[]){ &fs }, 1, 1 + rnd(6), &q);
				break;
			default:
				q.status = ATTESTIO_CP_NO_KEY;
				add_checkpoints(&f, (struct rstream *[]){ &fs }, 1, 1 + rnd(6), &q);
				add_sample(&f, &fs, FORGED_VALUE);
				break;
			}
		}
		borrow(&file, &g, 0, g.n);
		nmut = 1 + (int)rnd(4);
		for (int m = 0; m < nmut && file.n > 2; m++) {
			int i = (int)rnd((uint32_t)file.n), j;

			switch (rnd(5)) {
			case 0:	/* drop */
				memmove(&file.r[i], &file.r[i + 1], (file.n - i - 1) * sizeof(file.r[0]));
				memmove(&file.len[i], &file.len[i + 1], (file.n - i - 1) * sizeof(file.len[0]));
				file.n--;
				break;
			case 1:	/* duplicate */
				if (file.n + 1 >= MAXREC)
					break;
				memmove(&file.r[i + 1], &file.r[i], (file.n - i) * sizeof(file.r[0]));
				memmove(&file.len[i + 1], &file.len[i], (file.n - i) * sizeof(file.len[0]));
				file.n++;
				break;
			case 2:	/* swap with a near neighbour */
				j = i + 1 + (int)rnd(3);
				if (j < file.n) {
					uint8_t *t = file.r[i];
					uint32_t tl = file.len[i];

					file.r[i] = file.r[j];
					file.len[i] = file.len[j];
					file.r[j] = t;
					file.len[j] = tl;
				}
				break;
			case 3:	/* insert forged */
			case 4:
				if (file.n + 1 >= MAXREC)
					break;
				j = (int)rnd((uint32_t)f.n);
				memmove(&file.r[i + 1], &file.r[i], (file.n - i) * sizeof(file.r[0]));
				memmove(&file.len[i + 1], &file.len[i], (file.n - i) * sizeof(file.len[0]));
				file.r[i] = f.r[j];
				file.len[i] = f.len[j];
				file.n++;
				break;
			}
		}
		run(&file, lax(), &seen, &sum);
		assert_no_forged_verified(&file, &seen);
		assert_one_verdict_each(&file, &seen);
		recs_free(&f);
		recs_free(&g);
	}
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
		cmocka_unit_test(t_fake_first_checkpoint),
		cmocka_unit_test(t_lost_excuses_nothing_more),
		cmocka_unit_test(t_lost_budget_across_streams),
		cmocka_unit_test(t_withheld),
		cmocka_unit_test(t_other_stream_head),
		cmocka_unit_test(t_claims_and_instance_switch),
		cmocka_unit_test(t_stream_id_reuse),
		cmocka_unit_test(t_unsigned_then_signed),
		cmocka_unit_test(t_concatenated),
		cmocka_unit_test(t_state_file),
		cmocka_unit_test(t_unanchored_flood),
		cmocka_unit_test(t_property),
		cmocka_unit_test(t_cli_forgery),
	};

	return cmocka_run_group_tests_name("verify_rules", tests, setup, teardown);
}

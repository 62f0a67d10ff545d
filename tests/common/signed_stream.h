/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Record streams with real quotes for the verifier's tests and benchmark:
 * records built with kernel/record.c, checkpoints carrying a TPMS_ATTEST
 * marshalled with libtss2-mu and signed by an OpenSSL P-256 key exactly as
 * a TPM would.  The includer provides assert_non_null, assert_true and
 * assert_int_equal (cmocka's, or its own) and may set MAXREC.
 */
#ifndef ATTESTIO_SIGNED_STREAM_H
#define ATTESTIO_SIGNED_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "record.h"
#include "sim.h"

#define INSTANCE	0x1122334455667788ULL
#ifndef MAXREC
#define MAXREC		256
#endif
#define PCR_DIGEST_BYTE	0xab

static EVP_PKEY *key1, *key2 __attribute__((unused));

struct recs;

/*
 * key1 is fixed so that the fuzz seeds written from here verify in
 * tests/fuzz/fuzz_checkpoint.c, which embeds its public part.
 */
static const char key1_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3KD2M6WLhsGYRRfu\n"
	"gc3HkaG2Sh5CLnoDm6GyQW9HA6ehRANCAARK0xxx1bdOSNxAk4yuTq8oiwuKMdTJ\n"
	"Ol+CfJ/H8FGZ+uLg8z0FrXlyi4wGu1oOc7L+bG1ceuAK/zERerBB6Bb4\n"
	"-----END PRIVATE KEY-----\n";

static struct att_key *ak1, *ak2 __attribute__((unused));

/* ------------------------------------------------------ stream model --- */

/* Quote options: the simulator library's (user/lib/sim.h). */
#define qopt att_sim_qopt

struct rstream {
	uint32_t id;
	uint32_t gen;		/* generation: in the genesis and heads */
	uint64_t seq;
	uint8_t head[ATTESTIO_HASH_LEN];
	struct attestio_seg_state st;	/* what the head commits to (v4) */
	uint32_t segment;
};

struct recs {
	int n;
	uint8_t *r[MAXREC];
	uint32_t len[MAXREC];
};

static inline void recs_free(struct recs *rs)
{
	for (int i = 0; i < rs->n; i++)
		free(rs->r[i]);
	rs->n = 0;
}

static inline uint8_t *recs_new(struct recs *rs, uint32_t len)
{
	uint8_t *p = calloc(1, len);

	assert_non_null(p);
	assert_true(rs->n < MAXREC);
	rs->r[rs->n] = p;
	rs->len[rs->n++] = len;
	return p;
}

/* The capture time a record gets; an includer may define its own. */
#ifndef SIGNED_STREAM_REALTIME
#define SIGNED_STREAM_REALTIME(s)	(2000 + (s)->seq)
#endif

/* Header, chain it into @s. */
static inline void finish(struct rstream *s, uint8_t *rec, uint16_t type, uint32_t len)
{
	struct attestio_rec_info info = {
		.type = type, .len = len, .stream = s->id, .seq = s->seq,
		.boottime_ns = 1000 + s->seq,
		.realtime_ns = SIGNED_STREAM_REALTIME(s),
	};
	struct attestio_rec_info chk;

	attestio_rec_hdr_encode(rec, &info);
	assert_int_equal(0, attestio_rec_validate(rec, len, &chk));
	attestio_chain_extend(s->head, rec, len);
	attestio_seg_state_note(&s->st, type, rec, len);
	s->seq++;
}

static inline void stream_init(struct rstream *s, uint32_t id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	attestio_chain_genesis(s->head, INSTANCE, id, 0);
}

/* A chain of a reused stream id: generation @gen. */
static inline void stream_init_gen(struct rstream *s, uint32_t id, uint32_t gen)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->gen = gen;
	attestio_chain_genesis(s->head, INSTANCE, id, gen);
}

/* One channel of IIO type @type, s16 LE, scale 10; device @identity. */
static inline void add_desc_id(struct recs *rs, struct rstream *s,
			       const uint8_t *identity, uint16_t type)
{
	uint32_t used = sizeof(struct attestio_descriptor) +
			sizeof(struct attestio_channel);
	uint32_t len = attestio_rec_len(used);
	uint8_t *rec = recs_new(rs, len);
	struct attestio_descriptor *d = attestio_rec_payload(rec);

	d->instance = cpu_to_le64(INSTANCE);
	d->segment = cpu_to_le32(s->segment);
	d->generation = cpu_to_le32(s->gen);
	d->mode = cpu_to_le16(ATTESTIO_MODE_BUFFERED);
	d->nchannels = cpu_to_le16(1);
	d->scan_bytes = cpu_to_le32(4);
	strcpy(d->device, "iio:device0");
	strcpy(d->name, "temp");
	if (identity)
		memcpy(d->identity, identity, sizeof(d->identity));
	d->chan[0].type = cpu_to_le16(type);
	d->chan[0].sign = 's';
	d->chan[0].realbits = 16;
	d->chan[0].storagebits = 16;
	d->chan[0].scale_type = cpu_to_le32(1);
	d->chan[0].scale_val = cpu_to_le32(10);
	finish(s, rec, ATTESTIO_REC_DESCRIPTOR, len);
}

/* One temperature channel, s16 LE, scale 10 (milli degC). */
static inline void add_desc(struct recs *rs, struct rstream *s)
{
	add_desc_id(rs, s, NULL, 9);
}

static inline void add_sample(struct recs *rs, struct rstream *s, int16_t v)
{
	struct attestio_rec_info info = { .stream = s->id, .seq = s->seq };
	uint8_t scan[4] = { (uint8_t)v, (uint8_t)((uint16_t)v >> 8), 0, 0 };
	uint32_t len = attestio_rec_len(sizeof(struct attestio_sample) + 4);
	uint8_t *rec = recs_new(rs, len);

	assert_int_equal(len, attestio_sample_encode(rec, len, &info, 7, scan, 4));
	finish(s, rec, ATTESTIO_REC_SAMPLE, len);
}

static inline void add_gap(struct recs *rs, struct rstream *s, uint64_t lost)
{
	uint32_t len = attestio_rec_len(sizeof(struct attestio_gap));
	uint8_t *rec = recs_new(rs, len);
	struct attestio_gap *g = attestio_rec_payload(rec);

	g->lost = cpu_to_le64(lost);
	g->reason = cpu_to_le32(ATTESTIO_GAP_RING_FULL);
	finish(s, rec, ATTESTIO_REC_GAP, len);
}

static inline void add_detach(struct recs *rs, struct rstream *s)
{
	uint32_t len = attestio_rec_len(sizeof(struct attestio_detach));
	uint8_t *rec = recs_new(rs, len);
	struct attestio_detach *d = attestio_rec_payload(rec);

	d->reason = cpu_to_le32(ATTESTIO_DETACH_USER);
	d->segment = cpu_to_le32(s->segment);
	finish(s, rec, ATTESTIO_REC_DETACH, len);
	s->segment++;
}

/* A calib record of @s's open segment: channel 0's scale becomes @scale. */
static inline void add_calib(struct recs *rs, struct rstream *s, int32_t scale)
{
	uint32_t len = attestio_rec_len(sizeof(struct attestio_calib) +
					sizeof(struct attestio_calib_chan));
	uint8_t *rec = recs_new(rs, len);
	struct attestio_calib *c = attestio_rec_payload(rec);
	struct attestio_calib_chan *cc = (void *)(c + 1);

	c->segment = cpu_to_le32(s->segment);
	c->nchannels = cpu_to_le16(1);
	cc->scale_type = cpu_to_le32(1);
	cc->scale_val = cpu_to_le32((uint32_t)scale);
	finish(s, rec, ATTESTIO_REC_CALIB, len);
}

static inline void add_lost(struct recs *rs, uint64_t n)
{
	uint32_t len = attestio_rec_len(sizeof(struct attestio_lost));
	uint8_t *rec = recs_new(rs, len);
	struct attestio_lost *l = attestio_rec_payload(rec);
	struct attestio_rec_info info = {
		.type = ATTESTIO_REC_LOST, .len = len,
		.flags = ATTESTIO_RF_UNCHAINED,
	};

	l->records = cpu_to_le64(n);
	attestio_rec_hdr_encode(rec, &info);
}

/* Sign @data with a P-256 key as a TPM would: TPMT_SIGNATURE (ECDSA). */
static inline size_t tpm_sign(EVP_PKEY *key, const uint8_t *data, size_t len,
		       uint8_t *out, size_t cap)
{
	size_t off = 0;

	assert_int_equal(0, att_sim_tpm_sign(key, data, len, out, cap, &off));
	return off;
}

/* A TPM2_Quote over @digest: marshalled TPMS_ATTEST and TPMT_SIGNATURE. */
static inline void make_quote(const struct qopt *q, const uint8_t *digest,
		       uint8_t *attest, size_t *alen, uint8_t *sig,
		       size_t *slen)
{
	assert_int_equal(0, att_sim_quote(q, digest, attest, 1024, alen, sig,
					  1024, slen));
}

/*
 * One epoch: heads of @ns streams, one quote, a checkpoint record appended
 * to each stream (in stream order).
 */
static inline void add_checkpoints(struct recs *rs, struct rstream **ss, int ns,
			    uint64_t epoch, const struct qopt *q)
{
	struct attestio_cp_head heads[ATTESTIO_MAX_STREAMS];
	uint8_t digest[32], attest[1024], sig[1024], beacon[32] = { 0 };
	size_t alen = 0, slen = 0;
	struct attestio_cp_layout lay;

	if (q->beacon)
		memcpy(beacon, q->beacon, sizeof(beacon));
	memset(heads, 0, sizeof(heads));
	for (int i = 0; i < ns; i++) {
		heads[i].stream = cpu_to_le32(ss[i]->id);
		heads[i].generation = cpu_to_le32(ss[i]->gen);
		heads[i].seq = cpu_to_le64(ss[i]->seq - 1);
		memcpy(heads[i].head, ss[i]->head, 32);
		attestio_seg_state_digest(heads[i].state, &ss[i]->st);
	}
	/* records made while the TPM works: not covered by these heads */
	for (int i = 0; i < q->late; i++)
		add_sample(rs, ss[0], 99);
	attestio_epoch_digest(digest, INSTANCE, epoch, beacon, heads, (u16)ns);
	if (!q->status)
		make_quote(q, digest, attest, &alen, sig, &slen);
	assert_int_equal(0, attestio_cp_layout((u16)ns, (u16)alen, (u16)slen, &lay));
	for (int i = 0; i < ns; i++) {
		uint32_t len = attestio_rec_align(lay.end);
		uint8_t *rec = recs_new(rs, len);
		struct attestio_checkpoint *cp = attestio_rec_payload(rec);

		cp->epoch = cpu_to_le64(epoch);
		cp->instance = cpu_to_le64(INSTANCE);
		cp->status = cpu_to_le32(q->status);
		cp->ak_handle = cpu_to_le32(0x81000005);
		cp->nheads = cpu_to_le16((u16)ns);
		cp->self = cpu_to_le16((u16)i);
		cp->attest_len = cpu_to_le16((u16)alen);
		cp->sig_len = cpu_to_le16((u16)slen);
		cp->pcr_mask = cpu_to_le32(q->pcr_mask ? q->pcr_mask : 0x81);
		memcpy(cp->beacon, beacon, sizeof(beacon));
		memcpy(rec + lay.heads, heads, ns * sizeof(heads[0]));
		memcpy(rec + lay.attest, attest, alen);
		memcpy(rec + lay.sig, sig, slen);
		finish(ss[i], rec, ATTESTIO_REC_CHECKPOINT, len);
	}
}

static inline void add_cp(struct recs *rs, struct rstream *s, uint64_t epoch,
		   uint64_t clock)
{
	struct qopt q = { .key = key1, .clock = clock };

	add_checkpoints(rs, &s, 1, epoch, &q);
}

/* key1 (fixed), key2 (fresh) and their public halves ak1, ak2. */
static inline int keys_setup(void)
{
	struct att_err e;
	BIO *bio = BIO_new_mem_buf(key1_pem, -1);

	key1 = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	key2 = EVP_EC_gen("P-256");
	if (!key1 || !key2)
		return -1;
	EVP_PKEY_up_ref(key1);
	EVP_PKEY_up_ref(key2);
	if (att_key_wrap(key1, &ak1, &e) || att_key_wrap(key2, &ak2, &e))
		return -1;
	return 0;
}

static inline void keys_teardown(void)
{
	att_key_free(ak1);
	att_key_free(ak2);
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
}

#endif

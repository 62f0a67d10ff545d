// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for libattestio's verifier: arbitrary bytes as a record
 * stream through att_verifier_feed() (checkpoints, TPMS_ATTEST and
 * TPMT_SIGNATURE unmarshalling, chain, freshness, policy) with a fixed
 * attestation key, and directly through att_quote_verify(), the policy
 * parser and the TPM2B_PUBLIC key loader.
 *
 * Input: byte 0 selects the path and options, the rest is the payload.
 *   mode % 4 == 0..1: record stream (bit 4: allow_unsigned, bit 5:
 *                     allow_lost, bit 6: with a PCR policy, bit 7:
 *                     allow_join and complete, bit 0: the state below);
 *                     checks that every record gets exactly one verdict
 *                     and that the counts add up
 *   mode % 4 == 2:    quote: le16 attest_len, attest, le16 sig_len, sig,
 *                     qualifying data (the rest)
 *   mode % 4 == 3:    bit 4 clear: PCR policy text; set: TPM2B_PUBLIC;
 *                     bit 5: verifier state file text
 * The seeds in tests/fuzz/corpus/checkpoint are signed by the key below
 * (tests/unit/test_verify.c writes them when ATTESTIO_FUZZ_SEEDS is set).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "record.h"
#include "internal.h"
#include "libattestio.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char fuzz_ak_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEStMccdW3TkjcQJOMrk6vKIsLijHU\n"
	"yTpfgnyfx/BRmfri4PM9Ba15couMBrtaDnOy/mxtXHrgCv8xEXqwQegW+A==\n"
	"-----END PUBLIC KEY-----\n";
static const char fuzz_policy[] =
	"81 abababababababababababababababababababababababababababababababab\n";

static struct att_key *ak;
static struct att_policy *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *bio = BIO_new_mem_buf(fuzz_ak_pem, -1);
	struct att_err e;
	EVP_PKEY *pkey;

	(void)argc;
	(void)argv;
	setenv("TSS2_LOG", "all+NONE", 1);
	CHECK(bio);
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	CHECK(pkey);
	CHECK(att_key_wrap(pkey, &ak, &e) == 0);
	CHECK(att_policy_parse(fuzz_policy, strlen(fuzz_policy), &policy, &e) == 0);
	return 0;
}

static void check_err(int ret, const struct att_err *e)
{
	CHECK(ret <= 0 && ret >= ATT_EINVAL);
	if (ret) {
		CHECK(e->code == ret);
		CHECK(memchr(e->msg, 0, sizeof(e->msg)));
		CHECK(e->msg[0]);
	}
}

struct vcount {
	uint64_t records, missing;
	uint64_t by_state[ATT_REC_MISSING + 1];
};

static void on_verdict(void *ctx, const struct att_verdict *vd)
{
	struct vcount *c = ctx;

	CHECK(vd->state <= ATT_REC_MISSING);
	CHECK(vd->count >= 1);
	CHECK(vd->state == ATT_REC_MISSING || vd->count == 1);
	CHECK(vd->state != ATT_REC_VERIFIED || !vd->code);
	c->by_state[vd->state]++;
	if (vd->state == ATT_REC_MISSING)
		c->missing += vd->count;
	else
		c->records++;
}

static const char fuzz_state[] =
	"attestio-verify-state 1\nchain 1122334455667788 3 1\n";

static void fuzz_stream(uint8_t mode, const uint8_t *p, size_t n)
{
	struct vcount vc = { 0 };
	struct att_verifier_opts o = {
		.ak = ak,
		.allow_unsigned = mode & 0x10,
		.allow_lost = mode & 0x20,
		.policy = (mode & 0x40) ? policy : NULL,
		.allow_join = mode & 0x80,
		.complete = mode & 0x80,
		.on_verdict = on_verdict,
		.ctx = &vc,
	};
	struct att_verifier *v = att_verifier_new(&o);
	enum att_rec_state st;
	struct att_summary sum;
	struct att_err e;
	size_t off = 0, len;
	uint64_t seq, fed = 0, odd = 0;
	int ret;

	CHECK(v);
	if (mode & 1)
		CHECK(att_verifier_state_parse(v, fuzz_state, strlen(fuzz_state),
					       &e) == 0);
	while (off < n) {
		/* split by the header's length field when it fits (the data
		 * is deliberately unaligned: the library must cope) */
		len = n - off;
		if (len >= ATTESTIO_HDR_LEN) {
			uint32_t l = p[off + 4] | (uint32_t)p[off + 5] << 8 |
				     (uint32_t)p[off + 6] << 16 |
				     (uint32_t)p[off + 7] << 24;

			if (l && l < len)
				len = l;
		}
		ret = att_verifier_feed(v, p + off, len, &st, &e);
		check_err(ret, &e);
		CHECK(st <= ATT_REC_MISSING && st != ATT_REC_MISSING);
		fed++;
		if (len < ATTESTIO_HDR_LEN || len > ATTESTIO_REC_MAX_LEN)
			odd++;	/* refused before any verdict */
		off += len;
	}
	ret = att_verifier_finish(v, &e);
	check_err(ret, &e);
	att_verifier_summary(v, &sum);
	/* every record exactly one verdict, and the counts add up */
	CHECK(vc.records + odd == fed);
	CHECK(sum.records == fed);
	CHECK(sum.records_verified + sum.records_pending + sum.records_unsigned +
	      sum.records_unverifiable + sum.records_bad + sum.records_local ==
	      fed);
	CHECK(sum.records_verified == vc.by_state[ATT_REC_VERIFIED]);
	CHECK(sum.samples_verified + sum.samples_unsigned + sum.samples_pending +
	      sum.samples_unverifiable + sum.samples_bad == sum.samples);
	CHECK(sum.checkpoints_verified + sum.checkpoints_unsigned <=
	      sum.checkpoints);
	CHECK(!sum.records_verified || sum.checkpoints_verified);
	CHECK(sum.unverifiable_excused <= sum.records_unverifiable);
	CHECK(sum.missing_excused <= sum.missing);
	if (!ret)
		CHECK(!sum.records_bad && sum.checkpoints_verified);
	for (uint32_t i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		const struct attestio_descriptor *d = att_verifier_descriptor(v, i);

		if (d) {
			uint8_t scan[ATTESTIO_MAX_SCAN_BYTES] = { 0 };
			double val;
			int64_t raw;

			for (unsigned int c = 0; c < le16_to_cpu(d->nchannels); c++)
				att_decode_channel(d, c, scan, le32_to_cpu(d->scan_bytes),
						   &val, &raw);
		}
		att_verifier_verified_upto(v, i, &seq);
	}
	att_verifier_free(v);
}

static void fuzz_quote(const uint8_t *p, size_t n)
{
	struct att_quote_info qi;
	struct att_err e;
	size_t alen, slen;
	uint8_t *a, *s;
	int ret;

	if (n < 2)
		return;
	alen = p[0] | (size_t)p[1] << 8;
	p += 2;
	n -= 2;
	if (alen > n)
		alen = n;
	if (n - alen < 2)
		return;
	slen = p[alen] | (size_t)p[alen + 1] << 8;
	if (slen > n - alen - 2)
		slen = n - alen - 2;
	/* exact-size copies so that over-reads are caught */
	a = malloc(alen ? alen : 1);
	s = malloc(slen ? slen : 1);
	CHECK(a && s);
	memcpy(a, p, alen);
	memcpy(s, p + alen + 2, slen);
	ret = att_quote_verify(ak, a, alen, s, slen, p + alen + 2 + slen,
			       n - alen - 2 - slen, &qi, &e);
	check_err(ret, &e);
	if (!ret) {
		CHECK(qi.extra_len == n - alen - 2 - slen);
		CHECK(qi.pcr_digest_len <= sizeof(qi.pcr_digest));
	}
	free(a);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct att_policy *pol;
	struct att_key *k;
	struct att_err e;
	uint8_t *buf;
	int ret;

	if (!size)
		return 0;
	buf = malloc(size);
	CHECK(buf);
	memcpy(buf, data, size);
	switch (buf[0] & 3) {
	case 0:
	case 1:
		fuzz_stream(buf[0], buf + 1, size - 1);
		break;
	case 2:
		fuzz_quote(buf + 1, size - 1);
		break;
	case 3:
		if (buf[0] & 0x20) {
			struct att_verifier_opts o = { .ak = ak };
			struct att_verifier *v = att_verifier_new(&o);

			CHECK(v);
			ret = att_verifier_state_parse(v, (const char *)buf + 1,
						       size - 1, &e);
			check_err(ret, &e);
			att_verifier_free(v);
		} else if (buf[0] & 0x10) {
			ret = att_key_from_tpm2b_public(buf + 1, size - 1, &k, &e);
			check_err(ret, &e);
			if (!ret)
				att_key_free(k);
		} else {
			ret = att_policy_parse((const char *)buf + 1, size - 1,
					       &pol, &e);
			check_err(ret, &e);
			if (!ret)
				att_policy_free(pol);
		}
		break;
	}
	free(buf);
	return 0;
}

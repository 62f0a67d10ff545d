// SPDX-License-Identifier: GPL-2.0
/*
 * Verification throughput of libattestio: records per second per core
 * through att_verifier_feed() (strict parse, chain, checkpoint quotes with
 * ECDSA P-256), and as a ratio to plain SHA-256 over the same record bytes
 * measured in the same run.  The stream is one descriptor and EPOCHS
 * epochs of SAMPLES samples plus a signed checkpoint, as the module makes.
 * Output: one "key=value" line.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <tss2/tss2_mu.h>

#define assert_non_null(p) do { if (!(p)) abort(); } while (0)
#define assert_true(c) do { if (!(c)) abort(); } while (0)
#define assert_int_equal(a, b) \
	do { if ((long long)(a) != (long long)(b)) abort(); } while (0)
#define MAXREC 8192

#include "internal.h"
#include "libattestio.h"
#include "signed_stream.h"

#define EPOCHS 16
#define SAMPLES 400	/* per epoch: 400 Hz with 1 s epochs */

static struct recs rs;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void verify_once(void)
{
	struct att_verifier_opts o = { .ak = ak1 };
	struct att_verifier *v = att_verifier_new(&o);
	struct att_summary sum;
	struct att_err e;

	assert_non_null(v);
	for (int i = 0; i < rs.n; i++)
		if (att_verifier_feed(v, rs.r[i], rs.len[i], NULL, &e)) {
			fprintf(stderr, "bench_verify: record %d: %s\n", i, e.msg);
			exit(1);
		}
	if (att_verifier_finish(v, &e)) {
		fprintf(stderr, "bench_verify: %s\n", e.msg);
		exit(1);
	}
	att_verifier_summary(v, &sum);
	assert_int_equal(sum.checkpoints_verified, EPOCHS);
	att_verifier_free(v);
}

/*
 * Seconds for @n samples of a stream that never anchors (a forged start):
 * the worst case for buffering.  Linear input means equal ns per record
 * at any @n (the verifier before issue 7 was quadratic here).
 */
static double flood(uint64_t n)
{
	struct att_verifier_opts o = { .ak = ak1, .allow_join = true };
	struct att_verifier *v = att_verifier_new(&o);
	struct attestio_rec_info info = { .stream = 1 };
	uint32_t len = attestio_rec_len(sizeof(struct attestio_sample) + 4);
	uint8_t rec[64] = { 0 }, scan[4] = { 1, 2, 0, 0 };
	double t0 = now_s();

	assert_non_null(v);
	for (uint64_t i = 1; i <= n; i++) {
		info.seq = i;
		attestio_sample_encode(rec, len, &info, 0, scan, 4);
		att_verifier_feed(v, rec, len, NULL, NULL);
	}
	att_verifier_finish(v, NULL);
	att_verifier_free(v);
	return now_s() - t0;
}

static void hash_once(void)
{
	u8 out[SHA256_DIGEST_LENGTH];
	struct sha256_state st;

	for (int i = 0; i < rs.n; i++) {
		sha256_init(&st);
		sha256_update(&st, rs.r[i], rs.len[i]);
		sha256_final(&st, out);
	}
}

/* Seconds per pass: passes until at least 0.5 s, best of 3 rounds. */
static double per_pass(void (*fn)(void))
{
	double best = 1e9;

	for (int round = 0; round < 3; round++) {
		double t0 = now_s(), t;
		int n = 0;

		do {
			fn();
			n++;
			t = now_s() - t0;
		} while (t < 0.5);
		if (t / n < best)
			best = t / n;
	}
	return best;
}

int main(void)
{
	struct rstream s;
	struct att_err e;
	double tv, th;
	size_t bytes = 0;

	key1 = EVP_EC_gen("P-256");
	if (!key1 || att_key_wrap(key1, &ak1, &e)) {
		fprintf(stderr, "bench_verify: cannot make a key\n");
		return 1;
	}
	EVP_PKEY_up_ref(key1);
	stream_init(&s, 0);
	add_desc(&rs, &s);
	for (int ep = 1; ep <= EPOCHS; ep++) {
		for (int i = 0; i < SAMPLES; i++)
			add_sample(&rs, &s, (int16_t)(2150 + i));
		add_cp(&rs, &s, ep, 1000 * ep);
	}
	for (int i = 0; i < rs.n; i++)
		bytes += rs.len[i];
	tv = per_pass(verify_once);
	th = per_pass(hash_once);
	{
		double f1 = flood(250000) / 250000, f4 = flood(1000000) / 1000000;

		printf("records=%d bytes=%zu verify_rec_per_s=%.0f verify_ns_per_rec=%.1f "
		       "sha256_ns_per_rec=%.1f ratio=%.2f flood_ns_per_rec_250k=%.1f "
		       "flood_ns_per_rec_1m=%.1f flood_ratio=%.2f\n", rs.n, bytes,
		       rs.n / tv, tv * 1e9 / rs.n, th * 1e9 / rs.n, tv / th,
		       f1 * 1e9, f4 * 1e9, f4 / f1);
	}
	recs_free(&rs);
	att_key_free(ak1);
	EVP_PKEY_free(key1);
	return 0;
}

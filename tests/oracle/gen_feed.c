// SPDX-License-Identifier: GPL-2.0
/*
 * Record source for the oracle scenarios: one gateway's genuine records
 * (kernel/record.c chains, quotes signed by a fresh software "TPM" P-256
 * key, signed_stream.h), one batch file per epoch, with capture times in
 * real time so that the oracle's rounds see them.
 *
 *   gen_feed [-s EPOCH:VALUES] [-t EPOCH] [-f EPOCH] OUTDIR AK.PEM STREAMS
 *            EPOCHS START_MS EPOCH_MS SAMPLES VALUES
 *
 * OUTDIR/eNNN.bin holds epoch NNN (1-based; epoch 1 starts with the
 * descriptors): SAMPLES samples per stream, then one checkpoint per
 * stream.  Epoch e's samples are captured in [START_MS + (e-1) EPOCH_MS,
 * START_MS + e EPOCH_MS).  VALUES: raw values per stream, comma
 * separated (a temperature channel, scale 10 milli-degC: raw 2315 is
 * 23.15 degC); the last one repeats.  -s: from EPOCH on, these VALUES.
 * -t: tamper with a sample of EPOCH after it was chained (its checkpoint
 * no longer matches).  -f: forge EPOCH's quote (signed by another key).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t cur_ns;		/* capture time of the next record */
#define SIGNED_STREAM_REALTIME(s)	((void)(s), cur_ns)

#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <openssl/pem.h>

#include "libattestio.h"
#include "internal.h"

#define assert_non_null(p)	do { if (!(p)) { fprintf(stderr, "gen_feed: NULL\n"); exit(1); } } while (0)
#define assert_true(c)		do { if (!(c)) { fprintf(stderr, "gen_feed: %s\n", #c); exit(1); } } while (0)
#define assert_int_equal(a, b)	do { if ((long)(a) != (long)(b)) { fprintf(stderr, "gen_feed: %s != %s\n", #a, #b); exit(1); } } while (0)
#define MAXREC 8192
#include "signed_stream.h"

static int parse_values(const char *s, int16_t *v, int n)
{
	char buf[1024], *save = NULL, *tok;
	int k = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok && k < n;
	     tok = strtok_r(NULL, ",", &save))
		v[k++] = (int16_t)atoi(tok);
	if (!k)
		return -1;
	for (; k < n; k++)
		v[k] = v[k - 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct rstream st[ATTESTIO_MAX_STREAMS], *ss[ATTESTIO_MAX_STREAMS];
	int16_t vals[ATTESTIO_MAX_STREAMS], vals2[ATTESTIO_MAX_STREAMS];
	long switch_at = 0, tamper = 0, forge = 0;
	uint64_t start_ms, epoch_ms;
	struct qopt q = { 0 };
	EVP_PKEY *key, *other;
	struct recs rs = { 0 };
	int S, E, K, o;
	FILE *f;

	while ((o = getopt(argc, argv, "s:t:f:")) != -1) {
		switch (o) {
		case 's':
			switch_at = atol(optarg);
			if (!strchr(optarg, ':'))
				return 2;
			if (parse_values(strchr(optarg, ':') + 1, vals2, ATTESTIO_MAX_STREAMS))
				return 2;
			break;
		case 't': tamper = atol(optarg); break;
		case 'f': forge = atol(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 8) {
		fprintf(stderr, "usage: gen_feed [-s EPOCH:VALUES] [-t EPOCH] [-f EPOCH] "
			"OUTDIR AK.PEM STREAMS EPOCHS START_MS EPOCH_MS SAMPLES VALUES\n");
		return 2;
	}
	argv += optind;
	S = atoi(argv[2]);
	E = atoi(argv[3]);
	start_ms = strtoull(argv[4], NULL, 10);
	epoch_ms = strtoull(argv[5], NULL, 10);
	K = atoi(argv[6]);
	if (S < 1 || S > 64 || E < 1 || K < 1 || !epoch_ms ||
	    S * (K + 2) >= MAXREC || parse_values(argv[7], vals, ATTESTIO_MAX_STREAMS))
		return 2;
	key = EVP_EC_gen("P-256");
	other = EVP_EC_gen("P-256");
	f = fopen(argv[1], "w");
	if (!key || !other || !f || !PEM_write_PUBKEY(f, key) || fclose(f))
		return 1;
	cur_ns = start_ms * 1000000;
	for (int s = 0; s < S; s++) {
		stream_init_gen(&st[s], (uint32_t)s, 1);
		ss[s] = &st[s];
		add_desc(&rs, &st[s]);
	}
	for (int e = 1; e <= E; e++) {
		uint64_t t0 = (start_ms + (uint64_t)(e - 1) * epoch_ms) * 1000000;
		char path[4096];
		int first = rs.n;

		for (int i = 0; i < K; i++) {
			cur_ns = t0 + (uint64_t)i * epoch_ms * 1000000 / (uint64_t)K;
			for (int s = 0; s < S; s++)
				add_sample(&rs, &st[s], switch_at && e >= switch_at ?
					   vals2[s] : vals[s]);
		}
		if (e == tamper)	/* the first sample's value, after chaining */
			rs.r[first][sizeof(struct attestio_rec_hdr) +
				    sizeof(struct attestio_sample)] ^= 1;
		cur_ns = t0 + epoch_ms * 1000000 - 1;
		q.key = e == forge ? other : key;
		q.clock = 1000u * (uint64_t)e;
		add_checkpoints(&rs, ss, S, (uint64_t)e, &q);
		snprintf(path, sizeof(path), "%s/e%03d.bin", argv[0], e);
		f = fopen(path, "w");
		if (!f)
			return 1;
		for (int i = 0; i < rs.n; i++)
			fwrite(rs.r[i], 1, rs.len[i], f);
		if (fclose(f))
			return 1;
		recs_free(&rs);
	}
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	return 0;
}

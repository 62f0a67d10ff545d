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
 *
 * -k GW: kernel-exclusive key use as attestio.ko makes it (issue 8): AK.PEM
 * receives the certify-only AK's TPM2B_PUBLIC instead of a PEM key, the
 * quotes are by a kernel session key over PCRs 0 and 13, and OUTDIR gets
 * mlog.bin (the measurement log: load, key, the AK's certification),
 * pcrs.bin (24 SHA-256 PCRs) and evidence.cbor (the evidence message of
 * gateway GW, protocol.md).  -2 EPOCH: from EPOCH on, root has registered a
 * second key of its own in PCR 13 (certified by the AK): the log shows it
 * and the quotes from then on cover it.
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
#include "ack.h"
#include "evidence.h"

#define assert_non_null(p)	do { if (!(p)) { fprintf(stderr, "gen_feed: NULL\n"); exit(1); } } while (0)
#define assert_true(c)		do { if (!(c)) { fprintf(stderr, "gen_feed: %s\n", #c); exit(1); } } while (0)
#define assert_int_equal(a, b)	do { if ((long)(a) != (long)(b)) { fprintf(stderr, "gen_feed: %s != %s\n", #a, #b); exit(1); } } while (0)
#define MAXREC 8192
#include "signed_stream.h"
#include "ksk_log.h"

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(p, 1, n, f) != n)
		return -1;
	return fclose(f) ? -1 : 0;
}

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
	long switch_at = 0, tamper = 0, forge = 0, second = 0;
	static struct mlog l0, l1;	/* the log before and after -2 */
	static uint8_t pcrs[24][32], evbuf[65536];
	const char *kgw = NULL;
	EVP_PKEY *ksk = NULL;
	uint8_t dg[32];
	uint64_t start_ms, epoch_ms;
	struct qopt q = { 0 };
	EVP_PKEY *key, *other;
	struct recs rs = { 0 };
	int S, E, K, o;
	FILE *f;

	while ((o = getopt(argc, argv, "s:t:f:k:2:")) != -1) {
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
		case 'k': kgw = optarg; break;
		case '2': second = atol(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 8) {
		fprintf(stderr, "usage: gen_feed [-s EPOCH:VALUES] [-t EPOCH] [-f EPOCH] [-k GW [-2 EPOCH]] "
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
	if (!key || !other)
		return 1;
	if (kgw) {
		struct oracle_evidence ev = { .time = start_ms / 1000 };
		uint8_t akb[512], name[34];
		size_t n;

		ksk = EVP_EC_gen("P-256");
		if (!ksk || oracle_unhex(kgw, ev.gw, 16))
			return 2;
		n = ak_pub(key, true, akb, sizeof(akb));
		f = fopen(argv[1], "w");
		if (!f || fwrite(akb, 1, n, f) != n || fclose(f))
			return 1;
		memset(pcrs[0], 0x11, 32);
		mev_load(&l0, INSTANCE);
		mev_key(&l0, INSTANCE, ksk, name);
		mev_cert(&l0, INSTANCE, name, key);
		l1 = l0;
		if (second) {	/* root's own key, registered and certified */
			mev_key(&l1, INSTANCE, other, name);
			mev_cert(&l1, INSTANCE, name, key);
		}
		memcpy(pcrs[ATTESTIO_MLOG_PCR], l1.pcr13, 32);
		ev.mlog = l1.b;
		ev.mlog_len = l1.len;
		ev.pcrs = &pcrs[0][0];
		ev.pcrs_len = sizeof(pcrs);
		if (write_file(argv[0], "mlog.bin", l1.b, l1.len) ||
		    write_file(argv[0], "pcrs.bin", pcrs, sizeof(pcrs)) ||
		    oracle_evidence_encode(&ev, evbuf, sizeof(evbuf), &n) ||
		    write_file(argv[0], "evidence.cbor", evbuf, n))
			return 1;
		q.pcr_mask = (1u << 0) | (1u << ATTESTIO_MLOG_PCR);
		q.pcr_digest = dg;
	} else {
		/* labelled as simulated: a node admits it only with
		 * allow_simulated */
		if (att_sim_write_ak(key, argv[1]))
			return 1;
	}
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
		q.key = e == forge ? other : ksk ? ksk : key;
		if (ksk)	/* PCR 0, and PCR 13 as the log replays now */
			sha256_parts(dg, pcrs[0], 32, second && e >= second ?
				     l1.pcr13 : l0.pcr13, 32, NULL, 0);
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
	EVP_PKEY_free(ksk);
	return 0;
}

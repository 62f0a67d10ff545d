// SPDX-License-Identifier: GPL-2.0
/*
 * Test record source for the attestiod scenarios: S streams (generation
 * 1), K samples per stream per epoch, E epochs, each epoch closed by one
 * signed checkpoint per stream (software "TPM" key of signed_stream.h).
 * Records are appended to OUT (whole records per write), paced at RATE
 * records/s (0: as fast as possible); the AK public key goes to AK.PEM.
 *   gen_records OUT AK.PEM S K E RATE
 * With GEN_BEACON_FILE set, each epoch's quote covers the beacon value
 * that file holds then (64 hex digits; absent or empty: none), as the
 * module quotes the beacon attestiod handed it.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "libattestio.h"
#include "internal.h"

#define assert_non_null(p)	do { if (!(p)) { fprintf(stderr, "gen: NULL\n"); exit(1); } } while (0)
#define assert_true(c)		do { if (!(c)) { fprintf(stderr, "gen: %s\n", #c); exit(1); } } while (0)
#define assert_int_equal(a, b)	do { if ((long)(a) != (long)(b)) { fprintf(stderr, "gen: %s != %s\n", #a, #b); exit(1); } } while (0)
#define MAXREC 8192
#include "signed_stream.h"

static struct recs rs;
static uint8_t beacon[32];

/* The beacon the next epoch quotes (GEN_BEACON_FILE), NULL: none. */
static const uint8_t *beacon_now(void)
{
	const char *path = getenv("GEN_BEACON_FILE");
	char hex[80] = "";
	FILE *f;
	int ok;

	if (!path || !(f = fopen(path, "r")))
		return NULL;
	ok = fgets(hex, sizeof(hex), f) != NULL;
	fclose(f);
	for (int i = 0; ok && i < 32; i++)
		ok = sscanf(hex + 2 * i, "%2hhx", &beacon[i]) == 1;
	return ok ? beacon : NULL;
}

static void flush(FILE *f, long rate)
{
	for (int i = 0; i < rs.n; i++) {
		fwrite(rs.r[i], 1, rs.len[i], f);
		if (rate) {
			fflush(f);
			usleep((useconds_t)(1000000 / rate));
		}
	}
	fflush(f);
	recs_free(&rs);
}

int main(int argc, char **argv)
{
	struct rstream st[ATTESTIO_MAX_STREAMS], *ss[ATTESTIO_MAX_STREAMS];
	struct qopt q = { 0 };
	FILE *f, *k;
	int S, K, E;
	long rate;

	if (argc != 7) {
		fprintf(stderr, "usage: gen_records OUT AK.PEM STREAMS SAMPLES EPOCHS RATE\n");
		return 2;
	}
	S = atoi(argv[3]);
	K = atoi(argv[4]);
	E = atoi(argv[5]);
	rate = atol(argv[6]);
	if (S < 1 || S > 64 || K < 0 || E < 1 || S * (K + 1) >= MAXREC ||
	    keys_setup())
		return 2;
	k = fopen(argv[2], "w");
	if (!k || !PEM_write_PUBKEY(k, key1) || fclose(k))
		return 1;
	f = fopen(argv[1], "a");
	if (!f)
		return 1;
	q.key = key1;
	for (int s = 0; s < S; s++) {
		stream_init_gen(&st[s], (uint32_t)s, 1);
		ss[s] = &st[s];
		add_desc(&rs, &st[s]);
	}
	for (int e = 1; e <= E; e++) {
		for (int i = 0; i < K; i++)
			for (int s = 0; s < S; s++)
				add_sample(&rs, &st[s], (int16_t)(e * 100 + i));
		q.clock = 1000u * (uint64_t)e;
		q.beacon = beacon_now();
		add_checkpoints(&rs, ss, S, (uint64_t)e, &q);
		flush(f, rate);
	}
	fclose(f);
	keys_teardown();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for attestio-oracle's ingest (user/oracled/ingest.c over an
 * in-memory store): records batches signed as a gateway's module would
 * sign them (tests/common/signed_stream.h), and the readings the node
 * stores from them.  An attack of a gateway's root that every record check
 * passes: rescaling earlier samples with a calib record.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"
#include "libattestio.h"

/* capture times: rt_base + seq (ns) */
static int64_t rt_base;
#define SIGNED_STREAM_REALTIME(s)	((uint64_t)rt_base + (s)->seq)
#include "signed_stream.h"

#include "ack.h"
#include "oracled.h"

static const char gwid[] = "00112233445566778899aabbccddeeff";
static char ak_path[] = "/tmp/test_oracled_ingest_ak.XXXXXX";
static struct od_config cfg;
static struct store st;
static struct registry *reg;
static struct ingest *in;
static struct oracle_signer signer;

static void node_up(void)
{
	char err[600];

	assert_int_equal(0, store_init(&st, ":memory:", STORE_ADMIN, err, sizeof(err)));
	assert_int_equal(0, registry_init(&reg, &cfg, &st, err, sizeof(err)));
	assert_int_equal(0, ingest_init(&in, &cfg, &st, reg, &signer));
}

static void node_down(void)
{
	ingest_fini(in);
	registry_fini(reg);
	store_fini(&st);
}

/* Every record of @rs in one batch. */
static void publish(const struct recs *rs)
{
	static uint8_t batch[256 * 1024], ack[ORACLE_ACK_MAX_LEN];
	size_t n = 0, acklen;

	for (int i = 0; i < rs->n; i++) {
		assert_true(n + rs->len[i] <= sizeof(batch));
		memcpy(batch + n, rs->r[i], rs->len[i]);
		n += rs->len[i];
	}
	assert_int_equal(0, ingest_message(in, gwid, batch, n, ack, sizeof(ack), &acklen));
}

/* The stored reading of (stream 0, channel 0, seq), or NAN. */
static double reading(uint64_t seq)
{
	sqlite3_stmt *q = store_prep(&st, "SELECT value FROM reading WHERE gw=? "
				     "AND stream=0 AND channel=0 AND seq=?");
	double v = NAN;

	assert_non_null(q);
	sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)seq);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_double(q, 0);
	sqlite3_finalize(q);
	return v;
}

static int64_t now_ns(void)
{
	return (int64_t)time(NULL) * 1000000000;
}

/*
 * Root changes the scale (a calib record) after a sample and before the
 * checkpoint that verifies it: the sample's reading keeps its own scale.
 */
static void t_rescale(void **state)
{
	struct recs rs = { 0 };
	struct rstream s;

	(void)state;
	rt_base = now_ns();
	node_up();
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0: scale 10 */
	add_sample(&rs, &s, 2150);	/* 1: 21.5 degC */
	add_calib(&rs, &s, 40);		/* 2 */
	add_sample(&rs, &s, 2150);	/* 3: 86.0 degC */
	add_cp(&rs, &s, 1, 1000);
	publish(&rs);
	assert_float_equal(21.5, reading(1), 1e-9);
	assert_float_equal(86.0, reading(3), 1e-9);
	node_down();
	recs_free(&rs);
}

static int setup(void **state)
{
	EVP_PKEY *pub;
	FILE *f;
	int fd;

	(void)state;
	if (keys_setup())
		return -1;
	fd = mkstemp(ak_path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	pub = key1;
	if (!f || !PEM_write_PUBKEY(f, pub))
		return -1;
	fclose(f);
	cfg.ngw = 1;
	strcpy(cfg.gw[0].id, gwid);
	strcpy(cfg.gw[0].ak, ak_path);
	cfg.gw[0].tier = 1;
	cfg.retain_s = 86400;
	{
		uint8_t key[32];

		memset(key, 0x42, sizeof(key));
		if (oracle_signer_init(&signer, key))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(ak_path);
	keys_teardown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_rescale),
	};

	setenv("TSS2_LOG", "all+NONE", 1);
	return cmocka_run_group_tests_name("oracled_ingest", tests, setup, teardown);
}

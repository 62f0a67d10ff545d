// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for attestio-oracle's ingest (user/oracled/ingest.c over an
 * in-memory store): records batches signed as a gateway's module would
 * sign them (tests/common/signed_stream.h), and the readings the node
 * stores from them.  An attack of a gateway's root that every record check
 * passes: rescaling earlier samples with a calib record.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
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
#include "eventlog_build.h"
#include "tpm_internal.h"

#include <openssl/core_names.h>
#include <openssl/sha.h>

/* capture times: rt_base + seq (ns) */
static int64_t rt_base;
#define SIGNED_STREAM_REALTIME(s)	((uint64_t)rt_base + (s)->seq)
#include "signed_stream.h"

#include "ack.h"
#include "beacon.h"
#include "bundle.h"
#include "evidence.h"
#include "gwstatus.h"
#include "loss.h"
#include "oracled.h"

#define GWID "00112233445566778899aabbccddeeff"
static const char gwid[] = GWID;
static char ak_path[] = "/tmp/test_oracled_ingest_ak.XXXXXX";
static struct od_config cfg;
static struct store st;
static struct registry *reg;
static struct ingest *in;
static struct oracle_signer signer;

/* A node on database @db (":memory:": a fresh one). */
static void node_up_at(const char *db)
{
	char err[600];

	assert_int_equal(0, store_init(&st, db, STORE_ADMIN, err, sizeof(err)));
	assert_int_equal(0, registry_init(&reg, &cfg, &st, err, sizeof(err)));
	assert_int_equal(0, ingest_init(&in, &cfg, &st, reg, &signer));
}

static void node_up(void)
{
	node_up_at(":memory:");
}

/* A fresh database file from template @db (mkstemp), and its removal
 * (with its WAL, shared memory and lock files). */
static void db_create(char *db)
{
	int fd = mkstemp(db);

	assert_true(fd >= 0);
	close(fd);
}

static void db_remove(const char *db)
{
	static const char *const ext[] = { "", "-wal", "-shm", ".lock" };
	char path[256];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, ext[i]);
		unlink(path);
	}
}

static void node_down(void)
{
	ingest_fini(in);
	registry_fini(reg);
	store_fini(&st);
}

/*
 * After a message no statement may be left mid-result: one keeps a read
 * transaction open and then no WAL checkpoint can complete (the node's WAL
 * grew without bound, and every page read searched it).
 */
static void no_busy_statement(void)
{
	for (sqlite3_stmt *p = sqlite3_next_stmt(st.db, NULL); p;
	     p = sqlite3_next_stmt(st.db, p))
		if (sqlite3_stmt_busy(p))
			fail_msg("statement left busy: %s", sqlite3_sql(p));
}

static struct oracle_ack last_ack;	/* the last ack the node made */

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
	if (acklen)
		assert_int_equal(0, oracle_ack_parse(ack, acklen, &last_ack, NULL));
	no_busy_statement();
}

static struct oracle_ack flushed;	/* the ack ingest_flush_acks() made */
static int nflushed;

static void flush_out(void *ctx, const char *gw, const uint8_t *ack, size_t len)
{
	(void)ctx;
	assert_string_equal(gwid, gw);
	assert_int_equal(0, oracle_ack_parse(ack, len, &flushed, NULL));
	nflushed++;
}

/* The last ack's entry for @stream (generation 0), or fail. */
static const struct oracle_ack_entry *ack_entry(uint32_t stream)
{
	for (size_t i = 0; i < last_ack.n; i++)
		if (last_ack.e[i].stream == stream && last_ack.e[i].generation == 0)
			return &last_ack.e[i];
	fail_msg("no ack entry for stream %u", stream);
	return NULL;
}

/* The stored reading of (stream 0, channel 0, seq); there must be one
 * (assert_float_equal() passes on NAN). */
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
	if (isnan(v))
		fail_msg("no reading of seq %" PRIu64 " stored", seq);
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

/*
 * Acks deferred over a group commit: three messages of one gateway give no
 * ack each, and one at the flush, stating the same as the ack of the last
 * message made without deferring; nothing more at a second flush.
 */
static void t_deferred_acks(void **state)
{
	struct recs rs[3] = { 0 };
	struct rstream s;
	static struct oracle_ack direct;

	(void)state;
	rt_base = now_ns();
	for (int pass = 0; pass < 2; pass++) {
		node_up();
		stream_init(&s, 0);
		for (int m = 0; m < 3; m++) {
			if (pass == 0) {
				if (m == 0)
					add_desc(&rs[m], &s);
				add_sample(&rs[m], &s, 2150);
				add_sample(&rs[m], &s, 2160);
				add_cp(&rs[m], &s, (uint64_t)m + 1, 1000 * ((uint64_t)m + 1));
			}
		}
		ingest_defer_acks(in, pass == 1);
		memset(&last_ack, 0, sizeof(last_ack));
		for (int m = 0; m < 3; m++) {
			publish(&rs[m]);
			if (pass == 1)
				assert_int_equal(0, last_ack.n);	/* none yet */
		}
		if (pass == 0) {
			direct = last_ack;
			assert_int_equal(9, ack_entry(0)->upto);
		} else {
			nflushed = 0;
			assert_int_equal(1, ingest_flush_acks(in, flush_out, NULL));
			assert_int_equal(1, nflushed);
			assert_int_equal(direct.n, flushed.n);
			for (size_t i = 0; i < direct.n; i++) {
				assert_int_equal(direct.e[i].upto, flushed.e[i].upto);
				assert_int_equal(direct.e[i].from, flushed.e[i].from);
				assert_int_equal(direct.e[i].stream, flushed.e[i].stream);
			}
			assert_int_equal(0, ingest_flush_acks(in, flush_out, NULL));
			ingest_defer_acks(in, false);
		}
		node_down();
	}
	for (int m = 0; m < 3; m++)
		recs_free(&rs[m]);
}

/* The stored readings of (@stream, channel 0). */
static int nreadings(uint32_t stream)
{
	sqlite3_stmt *q = store_prep(&st, "SELECT count(*) FROM reading WHERE "
				     "gw=? AND stream=? AND channel=0");
	int n;

	assert_non_null(q);
	sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, stream);
	assert_int_equal(SQLITE_ROW, sqlite3_step(q));
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* Audit events @event whose detail contains @part. */
static int naudit(const char *event, const char *part)
{
	sqlite3_stmt *q = store_prep(&st, "SELECT count(*) FROM audit WHERE "
				     "event=? AND instr(detail, ?) > 0");
	int n;

	assert_non_null(q);
	sqlite3_bind_text(q, 1, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, part, -1, SQLITE_STATIC);
	assert_int_equal(SQLITE_ROW, sqlite3_step(q));
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

static const uint8_t ident_real[32] = { [0] = 0xa1, [31] = 0x5e };
static const uint8_t ident_fake[32] = { [0] = 0xfa, [31] = 0x4e };

/* A feed "f" reading stream 0 (identity pinned) and stream 1 (not). */
static void pin_feed(int chan_type)
{
	struct od_feed_conf *f = &cfg.feed[0];

	memset(f, 0, sizeof(*f));
	strcpy(f->name, "f");
	f->chan_type = chan_type;
	f->nstreams = 2;
	for (int i = 0; i < 2; i++) {
		strcpy(f->s[i].gwid, gwid);
		f->s[i].stream = (uint32_t)i;
	}
	f->s[0].pinned = true;
	memcpy(f->s[0].identity, ident_real, 32);
	cfg.nfeeds = 1;
}

/*
 * Root detaches the feed's sensor and attaches a device of its own under
 * the same stream id (a uhid sensor hub, iio_dummy): its records chain and
 * verify, but the descriptor's identity is not the pinned one, so none of
 * its readings is stored, and the mismatch is audited once per chain.
 * The real device (and an unpinned stream) is stored.
 */
static void t_pin_identity(void **state)
{
	struct recs rs = { 0 };
	struct rstream s0, s1, fake;
	struct rstream *both[2] = { &s0, &s1 };
	struct qopt q = { .key = key1, .clock = 1000 };

	(void)state;
	rt_base = now_ns();
	pin_feed(-1);
	node_up();
	stream_init(&s0, 0);
	stream_init(&s1, 1);
	add_desc_id(&rs, &s0, ident_real, 9);
	add_sample(&rs, &s0, 2150);
	add_desc_id(&rs, &s1, ident_fake, 9);
	add_sample(&rs, &s1, 2160);
	add_checkpoints(&rs, both, 2, 1, &q);
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(1, nreadings(0));
	assert_int_equal(1, nreadings(1));	/* not pinned: any device */
	/* stream 0 re-allocated to root's device (generation 1) */
	stream_init_gen(&fake, 0, 1);
	add_desc_id(&rs, &fake, ident_fake, 9);
	add_sample(&rs, &fake, 9999);
	add_sample(&rs, &fake, 9999);
	add_cp(&rs, &fake, 2, 2000);
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(1, nreadings(0));
	assert_int_equal(1, naudit("pin-mismatch", "is not a1000000"));
	assert_int_equal(2, ingest_stats(in)->pin_identity);
	assert_int_equal(0, ingest_stats(in)->pin_type);
	node_down();
	cfg.nfeeds = 0;
}

/* A feed of temperatures: a channel of another IIO type is not stored. */
static void t_pin_type(void **state)
{
	struct recs rs = { 0 };
	struct rstream s0, s1;
	struct rstream *both[2] = { &s0, &s1 };
	struct qopt q = { .key = key1, .clock = 1000 };

	(void)state;
	rt_base = now_ns();
	pin_feed(9);	/* IIO_TEMP */
	node_up();
	stream_init(&s0, 0);
	stream_init(&s1, 1);
	add_desc_id(&rs, &s0, ident_real, 9);
	add_sample(&rs, &s0, 2150);
	add_desc_id(&rs, &s1, NULL, 0);	/* IIO_VOLTAGE */
	add_sample(&rs, &s1, 2160);
	add_checkpoints(&rs, both, 2, 1, &q);
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(1, nreadings(0));
	assert_int_equal(0, nreadings(1));
	assert_int_equal(1, naudit("pin-mismatch", "channel type voltage (0) is not feed f's channel_type temp"));
	assert_int_equal(1, ingest_stats(in)->pin_type);
	node_down();
	cfg.nfeeds = 0;
}

/*
 * The node restarts mid-chain: it resumes the chain from its last verified
 * checkpoint, where the verifier has no descriptor of its own.  The
 * descriptor saved with that checkpoint decodes the samples after it (a
 * calib record after the restart too): they are stored, none lost.
 */
static void t_restart_readings(void **state)
{
	char db[] = "/tmp/test_oracled_ingest_db.XXXXXX";
	struct recs rs = { 0 };
	struct rstream s;

	(void)state;
	rt_base = now_ns();
	db_create(db);
	node_up_at(db);
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0: scale 10 */
	add_sample(&rs, &s, 2150);	/* 1: 21.5 */
	add_cp(&rs, &s, 1, 1000);	/* 2 */
	add_calib(&rs, &s, 20);		/* 3 */
	add_sample(&rs, &s, 2150);	/* 4: 43.0 */
	add_cp(&rs, &s, 2, 2000);	/* 5 */
	publish(&rs);
	recs_free(&rs);
	assert_float_equal(43.0, reading(4), 1e-9);
	node_down();
	node_up_at(db);			/* restart */
	add_sample(&rs, &s, 2160);	/* 6: 43.2 */
	add_calib(&rs, &s, 10);		/* 7 */
	add_sample(&rs, &s, 2170);	/* 8: 21.7 */
	add_cp(&rs, &s, 3, 3000);	/* 9 */
	publish(&rs);
	recs_free(&rs);
	assert_float_equal(43.2, reading(6), 1e-9);
	assert_float_equal(21.7, reading(8), 1e-9);
	assert_int_equal(0, ingest_stats(in)->bad);
	node_down();
	db_remove(db);
}

/* One integer of stream 0's (gateway, generation @gen[, seq @seq]). */
static int64_t query_int(const char *sql, uint32_t gen, uint64_t seq, int64_t none)
{
	sqlite3_stmt *q = store_prep(&st, sql);
	int64_t v = none;

	assert_non_null(q);
	sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, gen);
	if (sqlite3_bind_parameter_count(q) > 2)
		sqlite3_bind_int64(q, 3, (int64_t)seq);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* The acked frontier of chain (stream 0, generation @gen); -2: no row. */
static int64_t acked(uint32_t gen)
{
	return query_int("SELECT acked FROM chain WHERE gw=? AND stream=0 AND gen=?",
			 gen, 0, -2);
}

/* The verdict state of (stream 0, generation @gen, @seq). */
static int rec_state(uint32_t gen, uint64_t seq)
{
	return (int)query_int("SELECT state FROM rec WHERE gw=? AND stream=0 "
			      "AND gen=? AND seq=?", gen, seq, -1);
}

/*
 * Stream 0 is re-allocated (generation 1) before a checkpoint covered
 * generation 0: the verifier ends chain 0 (its records' final verdict is
 * pending) when chain 1's genesis is fed, after ingest switched to chain 1.
 * Those verdicts are chain 0's: chain 1's records stay unacked until a
 * checkpoint verifies them.
 */
static void t_verdict_chain(void **state)
{
	struct recs rs = { 0 };
	struct rstream s0, s1;

	(void)state;
	rt_base = now_ns();
	node_up();
	stream_init(&s0, 0);
	add_desc(&rs, &s0);		/* gen 0: 0 */
	add_sample(&rs, &s0, 2150);	/* 1 */
	add_sample(&rs, &s0, 2150);	/* 2 */
	stream_init_gen(&s1, 0, 1);
	add_desc(&rs, &s1);		/* gen 1: 0 */
	add_sample(&rs, &s1, 2160);	/* 1 */
	add_sample(&rs, &s1, 2160);	/* 2 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(2, acked(0));	/* final: pending for good */
	assert_int_equal(-1, acked(1));	/* nothing of chain 1 judged */
	assert_int_equal(ATT_REC_PENDING, rec_state(1, 0));
	add_cp(&rs, &s1, 1, 1000);	/* gen 1: 3 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(3, acked(1));
	for (uint64_t q = 0; q < 4; q++)
		assert_int_equal(ATT_REC_VERIFIED, rec_state(1, q));
	assert_float_equal(21.6, reading(2), 1e-9);
	node_down();
}

/*
 * Root sets the gateway's clock ahead: readings captured now would land in
 * a later round's window.  A reading dated more than max_clock_skew after
 * its record's receipt is refused (audited once per chain); one 2 s ahead
 * (a clock within the skew) is stored.
 */
static void t_future(void **state)
{
	struct recs rs = { 0 };
	struct rstream s;

	(void)state;
	rt_base = now_ns() + 3600 * (int64_t)1000000000;
	node_up();
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 2150);	/* 1: an hour ahead */
	add_cp(&rs, &s, 1, 1000);
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(0, nreadings(0));
	assert_int_equal(1, ingest_stats(in)->future);
	assert_int_equal(0, ingest_stats(in)->bad);
	assert_int_equal(1, naudit("clock-skew", "the gateway's clock is ahead"));
	node_down();
	/* (setting it back within a boot is caught otherwise: t_clock_drift) */
	rt_base = now_ns() + 2 * (int64_t)1000000000;
	node_up();
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 2160);	/* 1: 2 s ahead */
	add_cp(&rs, &s, 1, 1000);
	publish(&rs);
	recs_free(&rs);
	assert_float_equal(21.6, reading(1), 1e-9);
	assert_int_equal(0, ingest_stats(in)->future);
	node_down();
}

/*
 * Root sets the gateway's clock back an hour between two checkpoints: the
 * capture times moved an hour back while the quotes' TPM clock advanced
 * 1 s, so the readings between those checkpoints are not kept (audited
 * once); with the clock steady again, the next ones are.
 */
static void t_clock_drift(void **state)
{
	struct recs rs = { 0 };
	struct rstream s;

	(void)state;
	rt_base = now_ns();
	node_up();
	stream_init(&s, 0);
	add_desc(&rs, &s);		/* 0 */
	add_sample(&rs, &s, 2150);	/* 1 */
	add_cp(&rs, &s, 1, 1000);	/* 2 */
	publish(&rs);
	recs_free(&rs);
	rt_base -= 3600 * (int64_t)1000000000;
	add_sample(&rs, &s, 2160);	/* 3 */
	add_sample(&rs, &s, 2170);	/* 4 */
	add_cp(&rs, &s, 2, 2000);	/* 5 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(1, nreadings(0));
	assert_int_equal(2, ingest_stats(in)->drift);
	assert_int_equal(1, naudit("clock-drift", "seq 3..5): the gateway's clock moved -3599999 ms while the TPM clock moved 1000 ms"));
	add_sample(&rs, &s, 2180);	/* 6 */
	add_cp(&rs, &s, 3, 3000);	/* 7 */
	publish(&rs);
	recs_free(&rs);
	assert_float_equal(21.8, reading(6), 1e-9);
	assert_int_equal(2, ingest_stats(in)->drift);
	assert_int_equal(0, ingest_stats(in)->bad);
	node_down();
}

/*
 * A quote outside the PCR policy: the gateway is quarantined, and the
 * reason says from its newest evidence that its boot log replays to the
 * PCRs it reported and which event differs first from the reference log
 * ([gateway ID] boot_log_ref) of its device class.
 */
static void t_policy_explained(void **state)
{
	char pol[] = "/tmp/test_oracled_ingest_pol.XXXXXX";
	char ref[] = "/tmp/test_oracled_ingest_ref.XXXXXX";
	static uint8_t evbuf[8192];
	struct oracle_evidence ev = { 0 };
	uint8_t pcrs[24 * 32];
	struct recs rs = { 0 };
	struct lb good, evil;
	struct rstream s;
	sqlite3_stmt *q;
	size_t evlen;
	FILE *f;
	int fd;

	(void)state;
	rt_base = now_ns();
	sample(&good, "grub");
	sample(&evil, "evil-grub");
	fd = mkstemp(ref);
	assert_true(fd >= 0 && write(fd, good.b, good.n) == (ssize_t)good.n);
	close(fd);
	fd = mkstemp(pol);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "81 %064d\n", 0);	/* not the stream's PCR digest */
	fclose(f);
	strcpy(cfg.gw[0].policy, pol);
	strcpy(cfg.gw[0].boot_log_ref, ref);
	node_up();
	/* the gateway's evidence: it booted evil-grub, its log replays */
	sample_pcrs(&evil, pcrs);
	assert_int_equal(0, oracle_unhex(gwid, ev.gw, 16));
	ev.time = 1;
	ev.pcrs = pcrs;
	ev.pcrs_len = sizeof(pcrs);
	ev.boot_log = evil.b;
	ev.boot_log_len = evil.n;
	assert_int_equal(0, oracle_evidence_encode(&ev, evbuf, sizeof(evbuf), &evlen));
	q = store_prep(&st, "INSERT INTO evidence VALUES(?, 1, 1, ?)");
	assert_non_null(q);
	sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, evbuf, (int)evlen, SQLITE_STATIC);
	assert_int_equal(SQLITE_DONE, sqlite3_step(q));
	sqlite3_finalize(q);
	stream_init(&s, 0);
	add_desc(&rs, &s);
	add_sample(&rs, &s, 2150);
	add_cp(&rs, &s, 1, 1000);
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(GW_QUARANTINED, registry_gw(reg, gwid)->state);
	if (!strstr(registry_gw(reg, gwid)->reason, "is not in the policy; boot log: "
		    "the boot event log (6 events) replays to the reported PCRs; "
		    "PCR 4: event 4 (EV_EFI_BOOT_SERVICES_APPLICATION, sha256 ") ||
	    !strstr(registry_gw(reg, gwid)->reason, "differs from the reference's event 4"))
		fail_msg("reason: %s", registry_gw(reg, gwid)->reason);
	assert_int_equal(1, naudit("quarantined", "PCR 4: event 4"));
	node_down();
	/* an unreadable reference is refused at start, naming it */
	unlink(ref);
	{
		char err[600];

		assert_int_equal(0, store_init(&st, ":memory:", STORE_ADMIN, err, sizeof(err)));
		assert_int_not_equal(0, registry_init(&reg, &cfg, &st, err, sizeof(err)));
		assert_non_null(strstr(err, "boot_log_ref"));
		store_fini(&st);
	}
	unlink(pol);
	cfg.gw[0].policy[0] = 0;
	cfg.gw[0].boot_log_ref[0] = 0;
}

/*
 * A gateway admitted by enrollment (enroll = true) that is not admitted
 * yet: its records are refused before anything is stored, no ack, and it
 * counts with tier 0.
 */
static void t_not_admitted(void **state)
{
	static uint8_t batch[64 * 1024], ack[ORACLE_ACK_MAX_LEN];
	struct recs rs = { 0 };
	struct rstream s0;
	size_t n = 0, acklen = 99;

	(void)state;
	rt_base = now_ns();
	cfg.gw[0].enroll = true;
	cfg.gw[0].ak[0] = 0;
	node_up();
	stream_init(&s0, 0);
	add_desc(&rs, &s0);
	add_sample(&rs, &s0, 2150);
	add_cp(&rs, &s0, 1, 1000);
	for (int i = 0; i < rs.n; i++) {
		memcpy(batch + n, rs.r[i], rs.len[i]);
		n += rs.len[i];
	}
	recs_free(&rs);
	assert_int_equal(-EACCES, ingest_message(in, gwid, batch, n, ack,
						 sizeof(ack), &acklen));
	assert_int_equal(0, acklen);
	assert_int_equal(1, ingest_stats(in)->unadmitted_gw);
	assert_int_equal(0, ingest_stats(in)->stored);
	assert_int_equal(0, query_int("SELECT count(*) FROM rec WHERE gw=?1 OR gen=?2",
				      0, 0, -1));
	assert_int_equal(0, registry_tier(registry_at(reg, 0)));
	assert_int_equal(-ENOENT, ingest_admit(in, "ffeeddccbbaa99887766554433221100"));
	node_down();
	cfg.gw[0].enroll = false;
	strcpy(cfg.gw[0].ak, ak_path);
}

/* Tiers from what was proved, capped by the configuration, at most 1
 * until kernel-exclusive key use is proven, 0 unless active/admitted. */
static void t_tiers(void **state)
{
	struct od_gw_conf c = { .tier = 3, .enroll = true };
	struct reg_gw g = { .conf = &c, .admitted = true, .kernel_key_proven = true };

	(void)state;
	assert_int_equal(1, registry_tier_proved(false, false));
	assert_int_equal(1, registry_tier_proved(false, true));
	assert_int_equal(2, registry_tier_proved(true, false));
	assert_int_equal(3, registry_tier_proved(true, true));
	for (int p = 1; p <= 3; p++) {
		g.tier_proved = p;
		assert_int_equal(p, registry_tier(&g));
		c.tier = 2;	/* a cap lowers, never raises */
		assert_int_equal(p < 2 ? p : 2, registry_tier(&g));
		c.tier = 3;
	}
	g.kernel_key_proven = false;
	assert_int_equal(1, registry_tier(&g));
	g.kernel_key_proven = true;
	g.admitted = false;
	assert_int_equal(0, registry_tier(&g));
	g.admitted = true;
	g.state = GW_QUARANTINED;
	assert_int_equal(0, registry_tier(&g));
	g.state = GW_ACTIVE;
	c.enroll = false;	/* an ak file: the operator's tier */
	g.tier_proved = 0;
	assert_int_equal(3, registry_tier(&g));
	c.tier = 0;
	assert_int_equal(0, registry_tier(&g));
}

/* The records of @rs whose being a chained one with seq @lo..@hi is
 * @inside, in one batch. */
static void publish_sel(const struct recs *rs, uint64_t lo, uint64_t hi,
			bool inside)
{
	struct recs sub = { 0 };

	for (int i = 0; i < rs->n; i++) {
		struct attestio_rec_hdr h;

		memcpy(&h, rs->r[i], sizeof(h));
		if ((!(le32toh(h.flags) & ATTESTIO_RF_UNCHAINED) &&
		     le64toh(h.seq) >= lo && le64toh(h.seq) <= hi) != inside)
			continue;
		memcpy(recs_new(&sub, rs->len[i]), rs->r[i], rs->len[i]);
	}
	publish(&sub);
	recs_free(&sub);
}

/* Every record of @rs but the chained ones with seq @lo..@hi (a broker
 * that dropped them, or a log that lost them). */
static void publish_except(const struct recs *rs, uint64_t lo, uint64_t hi)
{
	publish_sel(rs, lo, hi, false);
}

/* The chained records of @rs with seq @lo..@hi (a gap retransmitted). */
static void publish_only(const struct recs *rs, uint64_t lo, uint64_t hi)
{
	publish_sel(rs, lo, hi, true);
}

/* The gateway's loss declaration: stream @stream (generation 0) seqs
 * @first..@last gone. */
static void declare(uint32_t stream, uint64_t first, uint64_t last)
{
	static struct oracle_loss l;
	static uint8_t b[ORACLE_LOSS_MAX_LEN];
	size_t len;

	memset(&l, 0, sizeof(l));
	assert_int_equal(0, oracle_unhex(gwid, l.gw, 16));
	l.n = 1;
	l.h[0] = (struct oracle_hole){ INSTANCE, stream, 0, first, last };
	assert_int_equal(0, oracle_loss_encode(&l, b, sizeof(b), &len));
	assert_int_equal(0, ingest_loss(in, gwid, b, len));
}

/* The gateway's loss declaration: stream @stream (generation 0) released
 * up to @last (protocol.md "Released records"), no hole. */
static void declare_released(uint32_t stream, uint64_t last)
{
	static struct oracle_loss l;
	static uint8_t b[ORACLE_LOSS_MAX_LEN];
	size_t len;

	memset(&l, 0, sizeof(l));
	assert_int_equal(0, oracle_unhex(gwid, l.gw, 16));
	l.nrel = 1;
	l.rel[0] = (struct oracle_released){ INSTANCE, stream, 0, last };
	assert_int_equal(0, oracle_loss_encode(&l, b, sizeof(b), &len));
	assert_int_equal(0, ingest_loss(in, gwid, b, len));
}

static int64_t nrec(void)
{
	return query_int("SELECT count(*) FROM rec WHERE gw=? AND stream=0 AND gen=?",
			 0, 0, -1);
}

/* Stream 0's chain to its first checkpoint: descriptor 0, samples 1..4
 * (21.5), checkpoint 5 (epoch 1). */
static void chain_start(struct recs *rs, struct rstream *s0)
{
	stream_init(s0, 0);
	add_desc(rs, s0);
	for (int i = 0; i < 4; i++)
		add_sample(rs, s0, 2150);
	add_cp(rs, s0, 1, 1000);
}

/*
 * Issue 10, gap 1: `lost` records (retransmitted: the same one twice) no
 * longer excuse anything by count: a record the broker dropped (seq 8)
 * is waited for, not acked past; it comes with the retransmission.  A hole
 * the gateway declared by seq (16..17) is excused exactly, once, also when
 * the declaration and the batch come again; one it did not (15) is not.
 */
static void t_declared_lost(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 }, r2 = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(5, acked(0));
	add_lost(&rs, 3);			/* the reader's, twice */
	add_lost(&rs, 3);
	for (int i = 0; i < 7; i++)
		add_sample(&rs, &s0, 2150);	/* 6..12 */
	add_cp(&rs, &s0, 2, 2000);		/* 13 */
	publish_except(&rs, 8, 8);		/* the broker dropped 8 */
	assert_int_equal(5, acked(0));
	assert_int_equal(ATT_REC_PENDING, rec_state(0, 7));
	assert_int_equal(-1, rec_state(0, 9));	/* not taken */
	publish(&rs);				/* the retransmission */
	recs_free(&rs);
	assert_int_equal(13, acked(0));
	for (uint64_t q = 6; q <= 13; q++)
		assert_int_equal(ATT_REC_VERIFIED, rec_state(0, q));
	assert_int_equal(0, is->declared_lost);
	/* 14..20, 21: the log lost 16..17 (declared); the broker drops 15 */
	for (int i = 0; i < 7; i++)
		add_sample(&rs, &s0, 2150);	/* 14..20 */
	add_cp(&rs, &s0, 3, 3000);		/* 21 */
	declare(0, 16, 17);
	publish_except(&rs, 15, 17);
	assert_int_equal(13, acked(0));
	assert_int_equal(-1, rec_state(0, 18));
	assert_int_equal(0, is->declared_lost);
	for (int i = 0; i < rs.n; i++) {	/* retransmitted: all but 16, 17 */
		struct attestio_rec_hdr h;

		memcpy(&h, rs.r[i], sizeof(h));
		if (le64toh(h.seq) != 16 && le64toh(h.seq) != 17)
			memcpy(recs_new(&r2, rs.len[i]), rs.r[i], rs.len[i]);
	}
	publish(&r2);
	assert_int_equal(21, acked(0));
	assert_int_equal(2, is->declared_lost);
	assert_int_equal(1, is->holes_new);
	/* the ack names what it skipped (the gateway checks it) */
	assert_int_equal(21, ack_entry(0)->upto);
	assert_int_equal(0, ack_entry(0)->from);
	assert_int_equal(1, ack_entry(0)->nskip);
	assert_int_equal(16, ack_entry(0)->skip[0].first);
	assert_int_equal(17, ack_entry(0)->skip[0].last);
	declare(0, 16, 17);			/* again: nothing changes */
	publish(&r2);
	recs_free(&r2);
	assert_int_equal(0, is->skip_refuted);	/* plain duplicates */
	/* 16..17 come after all: the gateway held them (the declaration was
	 * not its own): counted, audited once, and taken (gap fill: they
	 * verify against the chain); the second time plain duplicates */
	publish(&rs);
	publish(&rs);
	assert_int_equal(2, is->skip_refuted);
	assert_int_equal(1, query_int("SELECT count(*) FROM audit WHERE "
				      "event='skip-refuted' AND subject=? AND ?=0",
				      0, 0, -1));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 16));
	assert_int_equal(2, is->filled);
	recs_free(&rs);
	assert_int_equal(21, acked(0));
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(2, is->declared_lost);
	assert_int_equal(1, is->holes_new);
	assert_int_equal(2, is->loss_msgs);
	/* produced 22 = delivered 20 + filled 2; no gap left */
	assert_int_equal(22, nrec());
	assert_int_equal(0, query_int("SELECT count(*) FROM gap WHERE gw=? AND gen=?",
				      0, 0, -1));
	/* used up: deleted, and not stored again when declared again */
	assert_int_equal(0, query_int("SELECT count(*) FROM hole WHERE gw=? AND gen=?",
				      0, 0, -1));
	node_down();
}

/*
 * Issue 10, gap 2: a node whose session began after the gateway published
 * a chain's first records sees stream 0 first at seq 5.  It takes nothing
 * for join_period, then joins at the lowest seq the retransmission brought
 * (3: 0..2 are gone from the gateway), never acking what it did not get.
 * Stream 1 starts at 4 (a sample: no chain named yet) after the gateway
 * declared 0..3 lost: it waits too, then the gap is the declared one.
 * Stream 2 is first seen at its checkpoint (7) with 0..6 declared lost:
 * joined at once.
 */
static void t_late_join(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 }, r1 = { 0 }, r2 = { 0 };
	struct rstream s0, s1, s2;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 2;	/* the join rule fires at 3 x: 3 s of margin below */
	node_up();
	is = ingest_stats(in);
	stream_init(&s0, 0);
	stream_init(&s1, 1);
	stream_init(&s2, 2);
	add_desc(&rs, &s0);			/* 0 */
	add_desc(&r1, &s1);
	add_desc(&r2, &s2);
	for (int i = 0; i < 6; i++) {
		add_sample(&rs, &s0, 2150);	/* 1..6 */
		add_sample(&r1, &s1, 2150);
		add_sample(&r2, &s2, 2150);
	}
	/* 7; quotes in the order the node verifies them: 2, 0, 1 */
	add_cp(&rs, &s0, 2, 2000);
	add_cp(&r1, &s1, 3, 3000);
	add_cp(&r2, &s2, 1, 1000);
	declare(1, 0, 3);
	declare(2, 0, 6);
	publish_except(&rs, 0, 4);		/* first sight: 5 */
	publish_except(&r1, 0, 3);		/* 4 */
	publish_except(&r2, 0, 6);		/* 7, known, declared: joined */
	assert_int_equal(0, nrec());
	assert_true(acked(0) < 0);
	assert_int_equal(1, query_int("SELECT count(*) FROM rec WHERE gw=? AND "
				      "stream=2 AND gen=?", 0, 0, -1));
	assert_int_equal(7, is->declared_lost);
	publish_except(&rs, 0, 2);		/* retransmitted, in the wait */
	assert_int_equal(0, nrec());
	sleep(3);				/* join_period passed */
	publish_except(&rs, 0, 4);		/* not the lowest seen (3) */
	assert_int_equal(0, nrec());
	publish_except(&rs, 0, 2);
	publish_except(&r1, 0, 3);
	assert_int_equal(5, nrec());		/* 3..7 */
	assert_int_equal(7, acked(0));
	/* the acks name their join points, skip nothing after them */
	assert_int_equal(3, ack_entry(0)->from);
	assert_int_equal(4, ack_entry(1)->from);
	assert_int_equal(7, ack_entry(2)->from);
	assert_int_equal(0, ack_entry(0)->nskip + ack_entry(1)->nskip +
			 ack_entry(2)->nskip);
	assert_int_equal(3, is->join_gap);
	assert_int_equal(11, is->declared_lost);
	assert_int_equal(3, query_int("SELECT sum(last - first + 1) FROM gap WHERE "
				      "gw=? AND why='join' AND gen=?", 0, 0, -1));
	assert_int_equal(4, query_int("SELECT count(*) FROM rec WHERE gw=? AND "
				      "stream=1 AND gen=?", 0, 0, -1));
	/* Stream 3: its start (0..4) and its checkpoint withheld past
	 * join_period: joined at 5 before the chain was known (samples
	 * only).  The checkpoint names it later: the ack still says from 5,
	 * so the gateway does not take it for 0..4.  A gap an earlier
	 * unknown chain of the stream left (seqs 100..200, say before a
	 * restart) stays that chain's (review 4: gap_known gave it too). */
	{
		struct recs r3 = { 0 };
		struct rstream s3;

		assert_int_equal(0, store_exec(&st, "INSERT INTO gap(gw, instance,"
			" stream, gen, known, first, last, why, time) VALUES("
			"'" GWID "', 0, 3, 0, 0, 100, 200, 'join', 0)"));
		stream_init(&s3, 3);
		add_desc(&r3, &s3);		/* 0 */
		for (int i = 0; i < 6; i++)
			add_sample(&r3, &s3, 2150);	/* 1..6 */
		add_cp(&r3, &s3, 4, 4000);	/* 7 */
		r3.n--;
		publish_except(&r3, 0, 4);	/* first sight: 5 */
		sleep(3);	/* join_period (2) passed */
		publish_except(&r3, 0, 4);	/* joins at 5, unknown */
		r3.n++;
		publish_except(&r3, 0, 4);	/* 7 names the chain */
		assert_int_equal(5, ack_entry(3)->from);
		assert_int_equal(7, ack_entry(3)->upto);
		assert_int_equal(1, query_int("SELECT count(*) FROM gap WHERE gw=? "
					      "AND stream=3 AND known=1 AND gen=?",
					      0, 0, -1));
		assert_int_equal(100, query_int("SELECT first FROM gap WHERE gw=? "
						"AND stream=3 AND known=0 AND gen=?",
						0, 0, -1));
		recs_free(&r3);
	}
	recs_free(&rs);
	recs_free(&r1);
	recs_free(&r2);
	cfg.join_period_s = 0;
	node_down();
}

static int64_t ngap(void)
{
	return query_int("SELECT count(*) FROM gap WHERE gw=? AND gen=?", 0, 0, -1);
}

static int nreading_seq(uint64_t seq)
{
	return (int)query_int("SELECT count(*) FROM reading WHERE gw=? AND "
			      "stream=0 AND gen=? AND seq=?", 0, seq, -1);
}

/*
 * Issue 10, M1 (review 4): gap fill.  A broker drops 8..9 and forges a
 * declaration naming them: the node skips them and acks past them naming
 * the skip; the gateway keeps them and retransmits.  They verify against
 * the chain (7 before, 10.. after, checkpoint 13 covers them): taken,
 * VERIFIED, the gap gone, the ack skips nothing; no readings of them are
 * stored.  14..16 wait for their checkpoint across a restart: the
 * filled records (stored after 13) are not fed again, 17 verifies them.
 * Then a gap holding a checkpoint (18..25, 25 a checkpoint) while
 * 26..29 wait for theirs: the fill takes 18..25; after a restart the node
 * resumes from a checkpoint it got in order (17), not from the filled
 * one, and acks on when 30 comes.
 */
static void t_gap_fill(void **state)
{
	char db[] = "/tmp/test_oracled_ingest_fill.XXXXXX";
	const struct ingest_stats *is;
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	db_create(db);
	node_up_at(db);
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	for (int i = 0; i < 7; i++)
		add_sample(&rs, &s0, 2160);	/* 6..12 */
	add_cp(&rs, &s0, 2, 2000);		/* 13 */
	declare(0, 8, 9);			/* forged */
	publish_except(&rs, 8, 9);
	assert_int_equal(13, acked(0));
	assert_int_equal(1, ack_entry(0)->nskip);
	assert_int_equal(1, ngap());
	publish_only(&rs, 8, 9);		/* the gateway held them */
	assert_int_equal(2, is->filled);
	assert_int_equal(0, is->fill_refused);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 8));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 9));
	assert_int_equal(0, ngap());
	assert_int_equal(13, ack_entry(0)->upto);
	assert_int_equal(0, ack_entry(0)->from);
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(0, nreading_seq(8) + nreading_seq(9));
	assert_int_equal(1, query_int("SELECT count(*) FROM audit WHERE "
				      "event='gap-filled' AND subject=? AND ?=0",
				      0, 0, -1));
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	publish_only(&rs, 8, 9);		/* again: plain duplicates */
	assert_int_equal(2, is->filled);
	recs_free(&rs);
	for (int i = 0; i < 3; i++)
		add_sample(&rs, &s0, 2165);	/* 14..16: no checkpoint yet */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(13, acked(0));
	node_down();
	node_up_at(db);				/* restart */
	is = ingest_stats(in);
	add_cp(&rs, &s0, 3, 3000);		/* 17 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(17, acked(0));
	for (uint64_t q = 14; q <= 17; q++)
		assert_int_equal(ATT_REC_VERIFIED, rec_state(0, q));
	assert_int_equal(0, is->bad);
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	/* a gap with a checkpoint in it, the records after it unjudged */
	for (int i = 0; i < 7; i++)
		add_sample(&rs, &s0, 2170);	/* 18..24 */
	add_cp(&rs, &s0, 4, 4000);		/* 25 */
	for (int i = 0; i < 4; i++)
		add_sample(&rs, &s0, 2180);	/* 26..29 */
	declare(0, 18, 25);
	publish_except(&rs, 18, 25);
	assert_int_equal(17, acked(0));		/* 26..29: no verdict yet */
	publish_only(&rs, 18, 25);
	assert_int_equal(8, is->filled);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 25));
	assert_int_equal(0, ngap());
	recs_free(&rs);
	node_down();
	node_up_at(db);				/* restart */
	is = ingest_stats(in);
	add_cp(&rs, &s0, 5, 5000);		/* 30 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(30, acked(0));
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(0, is->bad);
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	assert_int_equal(31, nrec());
	node_down();
	db_remove(db);
}

/*
 * Gap fill of a withheld chain start (review 3's second attack): the
 * broker withholds 0..4 from the node past join_period; the node joins at
 * 5 (its acks say from 5).  The gateway still holds 0..4 and sends them:
 * they verify from the chain's genesis to checkpoint 7 and are taken; the
 * ack then states the whole chain (from 0, no skip).
 */
static void t_join_fill(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 1;
	node_up();
	is = ingest_stats(in);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	for (int i = 0; i < 6; i++)
		add_sample(&rs, &s0, 2150);	/* 1..6 */
	add_cp(&rs, &s0, 1, 1000);		/* 7 */
	publish_except(&rs, 0, 4);		/* first sight: 5 */
	sleep(2);
	publish_except(&rs, 0, 4);		/* joins at 5 */
	assert_int_equal(7, acked(0));
	assert_int_equal(5, ack_entry(0)->from);
	assert_int_equal(1, ngap());
	publish(&rs);				/* the gateway held 0..4 */
	assert_int_equal(5, is->filled);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 0));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 4));
	assert_int_equal(0, ngap());
	assert_int_equal(7, ack_entry(0)->upto);
	assert_int_equal(0, ack_entry(0)->from);
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(8, nrec());
	recs_free(&rs);
	cfg.join_period_s = 0;
	node_down();
}


/*
 * Review 6 MEDIUM: a join gap filled from above the chain's start.  The
 * node joins stream 0 at 11; the gateway still held 3..10 (not 0..2) and
 * sends them again.  The fill verifier joins at 3 as the node did at 11:
 * 3 and 4 lie before the first checkpoint among them (5, head 4) and
 * cannot be proven (taken UNVERIFIABLE, as a node that first saw them
 * would have), 5..10 chain from its head and checkpoint 10 covers them
 * (VERIFIED).  The join point moves down to 3, so the gateway, holding
 * nothing below 3, counts the ack.  Before, nothing was taken: the fill
 * fed from seq 0, which neither the node nor the gateway had.
 */
static void t_join_fill_below(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 1;
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	for (int i = 0; i < 4; i++)
		add_sample(&rs, &s0, 2150);	/* 6..9 */
	add_cp(&rs, &s0, 2, 2000);		/* 10 */
	for (int i = 0; i < 3; i++)
		add_sample(&rs, &s0, 2150);	/* 11..13 */
	add_cp(&rs, &s0, 3, 3000);		/* 14 */
	publish_except(&rs, 0, 10);		/* first sight: 11 */
	sleep(2);
	publish_except(&rs, 0, 10);		/* joins at 11 */
	assert_int_equal(14, acked(0));
	assert_int_equal(11, ack_entry(0)->from);
	publish_only(&rs, 3, 10);		/* the gateway held 3..10 */
	assert_int_equal(6, is->filled);
	assert_int_equal(2, is->fill_joined);
	assert_int_equal(0, is->fill_refused);
	assert_int_equal(ATT_REC_UNVERIFIABLE, rec_state(0, 3));
	assert_int_equal(ATT_REC_UNVERIFIABLE, rec_state(0, 4));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 5));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 10));
	assert_int_equal(1, ngap());
	assert_int_equal(2, query_int("SELECT last FROM gap WHERE gw=? AND "
				      "first=0 AND gen=?", 0, 0, -1));
	assert_int_equal(14, ack_entry(0)->upto);
	assert_int_equal(3, ack_entry(0)->from);
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(12, nrec());		/* 3..14 */
	assert_int_equal(1, naudit("gap-filled", "join point moved down"));
	/* the chain's start comes too: the rest of the gap fills */
	publish_only(&rs, 0, 2);
	assert_int_equal(0, ngap());
	assert_int_equal(0, ack_entry(0)->from);
	assert_int_equal(15, nrec());
	recs_free(&rs);
	cfg.join_period_s = 0;
	node_down();
}


/*
 * Review 4 M2: a late node joins a chain the other nodes keep acked.  It
 * first sees stream 0 at 5..7; the gateway, acked by a quorum of other
 * nodes, deleted them and sends only new records (8..): the lowest seq
 * seen (5) never comes again.  Two join_periods after the wait without it
 * the node joins at the record that comes (9): its acks state from 9 on.
 */
static void t_join_acked(void **state)
{
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 2;	/* the join rule fires at 3 x: 3 s of margin below */
	node_up();
	chain_start(&rs, &s0);			/* 0..5 */
	for (int i = 0; i < 5; i++)
		add_sample(&rs, &s0, 2150);	/* 6..10 */
	add_cp(&rs, &s0, 2, 2000);		/* 11 */
	publish_sel(&rs, 5, 7, true);		/* first sight: 5 */
	sleep(3);				/* join_period passed */
	publish_only(&rs, 8, 8);		/* 5 is gone: not at or below it */
	assert_int_equal(0, nrec());
	sleep(4);				/* two more join_periods */
	publish_only(&rs, 9, 11);		/* joins at 9 */
	assert_int_equal(3, nrec());
	assert_int_equal(11, acked(0));
	assert_int_equal(9, ack_entry(0)->from);
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(9, ingest_stats(in)->join_gap);
	recs_free(&rs);
	cfg.join_period_s = 0;
	node_down();
}

/*
 * Gap fill refused: the broker sends, for a skipped seq, a record that is
 * well formed but not the chain's (another value): it does not link, the
 * node refuses it with the reason (audited), takes nothing, keeps the gap
 * and its ack's skip, and does not quarantine the gateway (the broker
 * wrote it).  The genuine records still fill the gap afterwards.
 */
static void t_fill_refused(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 }, fake = { 0 };
	struct rstream s0, f0;

	(void)state;
	rt_base = now_ns();
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	for (int i = 0; i < 2; i++)
		add_sample(&rs, &s0, 2160);	/* 6..7 */
	f0 = s0;
	add_sample(&fake, &f0, 9990);		/* a seq 8 of the broker's */
	add_sample(&fake, &f0, 9990);		/* and 9 */
	for (int i = 0; i < 5; i++)
		add_sample(&rs, &s0, 2160);	/* 8..12 */
	add_cp(&rs, &s0, 2, 2000);		/* 13 */
	declare(0, 8, 9);
	publish_except(&rs, 8, 9);
	assert_int_equal(13, acked(0));
	publish(&fake);
	assert_int_equal(0, is->filled);
	assert_int_equal(2, is->fill_refused);
	assert_int_equal(-1, rec_state(0, 8));
	assert_int_equal(1, ngap());
	assert_int_equal(1, ack_entry(0)->nskip);
	assert_int_equal(8, ack_entry(0)->skip[0].first);
	assert_int_equal(9, ack_entry(0)->skip[0].last);
	assert_int_equal(1, query_int("SELECT count(*) FROM audit WHERE "
				      "event='fill-refused' AND subject=? AND ?=0 AND "
				      "detail LIKE '%does not verify%'", 0, 0, -1));
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	assert_int_equal(0, nreading_seq(8));
	/* a record that is not even well formed: refused too */
	{
		struct recs junk = { 0 };
		uint8_t *r;

		memcpy(r = recs_new(&junk, fake.len[0]), fake.r[0], fake.len[0]);
		r[fake.len[0] - 1] ^= 0xff;	/* padding not zero */
		publish(&junk);
		recs_free(&junk);
	}
	assert_int_equal(3, is->fill_refused);
	assert_int_equal(1, ngap());
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	publish_only(&rs, 8, 9);		/* the gateway's own */
	assert_int_equal(2, is->filled);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 8));
	assert_int_equal(0, ngap());
	assert_int_equal(0, ack_entry(0)->nskip);
	recs_free(&rs);
	recs_free(&fake);
	node_down();
}

/* The gateway's own status report: kept as reported for the status page,
 * refused (and counted) when malformed or naming another gateway. */
static void t_gw_status(void **state)
{
	struct oracle_gwstatus gs = { .time = 5, .spool_records = 1618,
				      .spool_bytes = 65536, .spool_age_s = 3,
				      .beacon_round = 24 };
	uint8_t buf[ORACLE_GWS_MAX_LEN];
	uint64_t ok, bad;
	size_t len;

	(void)state;
	node_up();
	assert_int_equal(0, oracle_unhex(gwid, gs.gw, 16));
	assert_int_equal(0, oracle_gwstatus_encode(&gs, buf, sizeof(buf), &len));
	assert_int_equal(0, registry_reported(reg, gwid, buf, len));
	assert_int_equal(1618, registry_gw(reg, gwid)->rep_spool_records);
	assert_int_equal(24, registry_gw(reg, gwid)->rep_beacon_round);
	assert_true(registry_gw(reg, gwid)->reported_at > 0);
	assert_int_equal(-EBADMSG, registry_reported(reg, gwid, buf, len - 1));
	gs.gw[0] ^= 1;	/* another gateway's report on this one's topic */
	gs.spool_records = 0;
	assert_int_equal(0, oracle_gwstatus_encode(&gs, buf, sizeof(buf), &len));
	assert_int_equal(-ENOENT, registry_reported(reg, gwid, buf, len));
	assert_int_equal(-ENOENT, registry_reported(reg, "ffffffffffffffffffffffffffffffff",
						    buf, len));
	assert_int_equal(1618, registry_gw(reg, gwid)->rep_spool_records);
	registry_reports(reg, &ok, &bad);
	assert_int_equal(1, ok);
	assert_int_equal(3, bad);
	node_down();
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
	cfg.max_clock_skew_s = 10;
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

static int no_publish(void *ctx, const char *topic, const void *buf, size_t len)
{
	(void)ctx;
	(void)topic;
	(void)buf;
	(void)len;
	return 0;
}

/* A beacon the network issued, signed by @o, straight into the table. */
static void beacon_row_v(const struct oracle_signer *o, uint64_t round,
			 const uint8_t v[32])
{
	struct oracle_beacon be = { .round = round, .time = round };
	uint8_t buf[ORACLE_BEACON_MAX_LEN];
	char node[ORACLE_NODE_ID_HEX];
	sqlite3_stmt *q = store_prep(&st, "INSERT INTO beacon VALUES(?,?,?,?,?,?)");
	size_t len;

	memcpy(be.value, v, 32);
	assert_int_equal(0, oracle_beacon_sign(&be, o));
	assert_int_equal(0, oracle_beacon_encode(&be, 0, buf, sizeof(buf), &len));
	oracle_hex(o->node_id, ORACLE_NODE_ID_LEN, node);
	assert_non_null(q);
	sqlite3_bind_text(q, 1, node, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, (int64_t)round);
	sqlite3_bind_blob(q, 3, be.value, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, (int64_t)round);
	sqlite3_bind_int64(q, 5, (int64_t)round);
	sqlite3_bind_blob(q, 6, buf, (int)len, SQLITE_TRANSIENT);
	assert_int_equal(SQLITE_DONE, sqlite3_step(q));
	sqlite3_finalize(q);
}

/*
 * Feed "f" of one device (gateway 0, stream 0, channel 0): rounds of 10 s
 * from @start, settled by one node (this one), beacon freshness @fresh.
 * The config digest commits to the AK file's bytes: *@ak (malloc'd),
 * *@aklen.  feed_done() undoes it.
 */
static void feed_one(uint64_t start, int fresh, uint8_t **ak, size_t *aklen)
{
	struct od_feed_conf *f = &cfg.feed[0];
	FILE *fa;

	memset(f, 0, sizeof(*f));
	strcpy(f->name, "f");
	f->chan_type = -1;
	f->nstreams = 1;
	strcpy(f->s[0].gwid, gwid);
	f->start = start;
	f->period = 10;
	f->grace = 1;
	f->p.decimals = 2;
	f->p.heartbeat = 60;
	f->p.min_devices = 1;
	f->p.min_gateways = 1;
	cfg.nfeeds = 1;
	cfg.nnodes = 1;
	memcpy(cfg.nodes[0], signer.pub, ORACLE_PUB_LEN);
	cfg.t = 1;
	cfg.beacon_freshness = fresh;
	fa = fopen(ak_path, "rb");
	assert_non_null(fa);
	*ak = malloc(4096);
	assert_non_null(*ak);
	*aklen = fread(*ak, 1, 4096, fa);
	fclose(fa);
	SHA256(*ak, *aklen, cfg.gw[0].ak_sha);
	cfg.gw[0].pins_read = true;
	oracle_feed_id(f->name, f->feed_id);
}

static void feed_done(void)
{
	cfg.nfeeds = 0;
	cfg.nnodes = 0;
	cfg.t = 0;
	cfg.beacon_freshness = OD_FRESH_OPTIONAL;
	cfg.beacon_max_age = 0;
	cfg.beacon_period = cfg.beacon_start = 0;
	cfg.gw[0].pins_read = false;
}

static void beacon_row(const struct oracle_signer *o, uint64_t round, uint8_t v)
{
	uint8_t b[32];

	memset(b, v, 32);
	beacon_row_v(o, round, b);
}

/*
 * The feed of the stale-beacon tests: one device, rounds of 10 s on the
 * beacon clock from @start; round 3's last second is in beacon round 3 and
 * max_age is 1.  Samples 1 and 2 (seq 1, 2) are verified by a checkpoint
 * covering value 0xb1.. (@r1: the round the node knows it by, 0: not
 * stored), sample 4 by one covering 0xb3.. (round 3), issued by @o3.
 * The node is up, the records published; its AK's bytes to *@ak.
 */
static struct rstream stale_s0;

static void stale_feed(uint64_t start, const struct oracle_signer *o1,
		       const struct oracle_signer *o3, uint8_t **ak, size_t *aklen)
{
	struct recs rs = { 0 };
	uint8_t b1[32], b3[32];
	struct qopt q1 = { .key = key1, .clock = 1000, .beacon = b1 };
	struct qopt q3 = { .key = key1, .clock = 2000, .beacon = b3 };

	memset(b1, 0xb1, 32);
	memset(b3, 0xb3, 32);
	feed_one(start, OD_FRESH_OPTIONAL, ak, aklen);
	cfg.beacon_period = 10;
	cfg.beacon_start = start;
	cfg.beacon_max_age = 1;
	node_up();
	if (o1)
		beacon_row(o1, 1, 0xb1);
	beacon_row(o3, 3, 0xb3);
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	stream_init(&stale_s0, 0);
	add_desc(&rs, &stale_s0);
	add_sample(&rs, &stale_s0, 2100);		/* seq 1 */
	add_sample(&rs, &stale_s0, 2200);		/* seq 2 */
	add_checkpoints(&rs, (struct rstream *[]){ &stale_s0 }, 1, 1, &q1);	/* 3 */
	add_sample(&rs, &stale_s0, 2400);		/* seq 4 */
	add_checkpoints(&rs, (struct rstream *[]){ &stale_s0 }, 1, 2, &q3);	/* 5 */
	publish(&rs);
	recs_free(&rs);
}

static void stale_feed_done(uint8_t *ak)
{
	free(ak);
	node_down();
	feed_done();
}

static int stale_round3(uint64_t start, uint8_t *ak, size_t aklen,
			struct oracle_vr_result *res, size_t *nbeacons,
			uint64_t *readings_stale, uint64_t *steps, double *ms);

/*
 * A gateway whose chain covers more distinct beacons from outside the
 * round's freshness window than an evidence bundle carries
 * (ORACLE_BUNDLE_BEACONS_MAX + 1 readings, each under a beacon of its own,
 * as root on a gateway can make by handing its module values the network
 * issued in other rounds): they do not count, the bundle carries
 * only the beacons of the counted readings (the round's freshness window),
 * and the round runs and re-verifies offline (review 5: the bundle used to
 * need every classified reading's beacon, the round was refused and
 * retried for good, and the feed stopped).
 */
static void t_beacons_many_stale(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	const int64_t n = ORACLE_BUNDLE_BEACONS_MAX + 1;
	struct oracle_vr_result res;
	sqlite3_stmt *q;
	uint8_t *ak, v[32] = { 0x6b };
	uint64_t stale;
	size_t aklen, nb;

	(void)state;
	stale_feed(start, &signer, &signer, &ak, &aklen);
	q = store_prep(&st, "INSERT INTO reading(gw, stream, channel, instance,"
		       " gen, seq, time_ns, value, beacon) VALUES(?,0,0,?,0,?,?,1.0,?)");
	assert_non_null(q);
	assert_int_equal(0, store_begin(&st));
	for (int64_t k = 0; k < n; k++) {
		memcpy(v + 8, &k, 8);
		/* issued in rounds outside round 3's freshness window (2 to
		 * 4 with max_age 1; the table holds one value per node and
		 * round, so these lie after it: to the rule a value of round
		 * 10 is as far out as one of round -6) */
		beacon_row_v(&signer, 10 + (uint64_t)k, v);
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, INSTANCE);
		sqlite3_bind_int64(q, 3, 1000 + k);
		sqlite3_bind_int64(q, 4, (int64_t)(start + 22) * 1000000000 + k);
		sqlite3_bind_blob(q, 5, v, 32, SQLITE_STATIC);
		assert_int_equal(SQLITE_DONE, sqlite3_step(q));
	}
	sqlite3_finalize(q);
	assert_int_equal(0, store_commit(&st));
	if (stale_round3(start, ak, aklen, &res, &nb, &stale, NULL, NULL))
		fail_msg("the round's bundle: %s", res.why);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(oracle_to_fixed(reading(4), 2), res.core.value);
	assert_int_equal(1, nb);
	assert_true(stale >= (uint64_t)n);
	stale_feed_done(ak);
}

/*
 * A round that cannot run (here: its gateway's AK file is gone, so its
 * bundle cannot be built) is tried again at every tick and says why once
 * a minute, not at every tick.
 */
static void t_round_fail_quiet(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct round *rd;
	uint8_t *ak;
	size_t aklen;
	FILE *log = tmpfile();
	int saved = dup(STDERR_FILENO), said = 0;
	char line[512];

	(void)state;
	assert_non_null(log);
	assert_true(saved >= 0);
	stale_feed(start, &signer, &signer, &ak, &aklen);
	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	unlink(ak_path);
	fflush(stderr);
	dup2(fileno(log), STDERR_FILENO);
	round_tick(rd, start + 3 * 10 + 2);
	round_tick(rd, start + 3 * 10 + 3);
	round_tick(rd, start + 3 * 10 + 61);
	round_tick(rd, start + 3 * 10 + 62);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(log);
	while (fgets(line, sizeof(line), log))
		said += strstr(line, "cannot read its AK or policy") != NULL;
	fclose(log);
	assert_int_equal(2, said);
	assert_int_equal(0, round_stats(rd)->reported + round_stats(rd)->halted);
	round_fini(rd);
	{
		FILE *fa = fopen(ak_path, "wb");	/* the next tests' */

		assert_non_null(fa);
		assert_int_equal(aklen, fwrite(ak, 1, aklen, fa));
		assert_int_equal(0, fclose(fa));
	}
	stale_feed_done(ak);
}

/* SQLite VM steps (the progress handler called at each). */
static uint64_t vm_steps;

static int count_steps(void *ctx)
{
	(void)ctx;
	vm_steps++;
	return 0;
}

/* Round 3 of stale_feed()'s feed, its bundle re-verified offline into
 * *@res: 0 or -EBADMSG (*@res says why); the number of beacons the bundle
 * carries to *@nbeacons, round 3's stale readings to *@readings_stale,
 * and (@steps not NULL) the SQLite VM steps and milliseconds
 * it took, not counting rounds 1 and 2, to *@steps and *@ms. */
static int stale_round3(uint64_t start, uint8_t *ak, size_t aklen,
			struct oracle_vr_result *res, size_t *nbeacons,
			uint64_t *readings_stale, uint64_t *steps, double *ms)
{
	struct timespec t0, t1;
	struct oracle_vr_gw pin = { 0 };
	struct oracle_bundle b;
	struct round *rd;
	sqlite3_stmt *qb;
	uint8_t *bundle;
	size_t blen;
	int ret;

	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 2 * 10 + 2);
	*readings_stale = round_stats(rd)->readings_stale;
	vm_steps = 0;
	if (steps)
		sqlite3_progress_handler(st.db, 1, count_steps, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	round_tick(rd, start + 3 * 10 + 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sqlite3_progress_handler(st.db, 0, NULL, NULL);
	if (steps) {
		*steps = vm_steps;
		*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	assert_int_equal(3, round_stats(rd)->reported + round_stats(rd)->halted);
	*readings_stale = round_stats(rd)->readings_stale - *readings_stale;
	round_fini(rd);
	qb = store_prep(&st, "SELECT data FROM bundle WHERE feed='f' AND round=3");
	assert_non_null(qb);
	assert_int_equal(SQLITE_ROW, sqlite3_step(qb));
	blen = (size_t)sqlite3_column_bytes(qb, 0);
	bundle = malloc(blen);
	memcpy(bundle, sqlite3_column_blob(qb, 0), blen);
	sqlite3_finalize(qb);
	assert_int_equal(0, oracle_bundle_parse(bundle, blen, &b, NULL));
	*nbeacons = b.nbeacons;
	memcpy(pin.id, registry_at(reg, 0)->bin, 16);
	pin.ak = ak;
	pin.ak_len = aklen;
	ret = oracle_verify_bundle(bundle, blen, &pin, 1, ORACLE_VR_ALLOW_SIMULATED, res);
	free(bundle);
	return ret;
}

static void age_chain(uint64_t start, int64_t n, int64_t per);

/*
 * Readings of a checkpoint covering a stale beacon do not count (oracle.md
 * "Stale readings do not count"): samples 1 and 2 cover round 1's beacon
 * (stale for round 3), sample 4 round 3's: the round settles on sample 4
 * alone (with all three, on sample 2: the lower median), counts 2
 * excluded readings, and its evidence bundle, carrying those two beacons,
 * re-verifies offline to the same value (the verifier takes the beacons'
 * rounds from the bundle's beacons item, which carries only the counted
 * reading's beacon: a reading whose beacon it does not show does not
 * count).  The same after @aged older
 * readings of the chain, each under a beacon of its own.
 */
static void stale_round_aged(int64_t aged)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct oracle_vr_result res;
	uint64_t stale;
	uint8_t *ak;
	size_t aklen, nb;

	stale_feed(start, &signer, &signer, &ak, &aklen);
	age_chain(start, aged, 1);
	if (stale_round3(start, ak, aklen, &res, &nb, &stale, NULL, NULL))
		fail_msg("the round's bundle: %s", res.why);
	assert_int_equal(2, stale);
	assert_int_equal(1, nb);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(oracle_to_fixed(reading(4), 2), res.core.value);
	assert_int_not_equal(oracle_to_fixed(reading(2), 2), res.core.value);
	assert_int_equal(3, res.readings);
	assert_int_equal(2, res.readings_stale);
	stale_feed_done(ak);
}

static void t_stale_round(void **state)
{
	(void)state;
	stale_round_aged(0);
}

/*
 * Review 4 (medium): a node removed from the whitelist kept its beacons
 * counting (up to `retain`): readings covering its stale value were left
 * out, and the bundle carried its message, which verify-report refuses
 * (not signed by a whitelisted node).  Now a beacon counts only while its
 * node is configured: value 0xb1.. came from a node no longer in the
 * configuration, so samples 1 and 2 cover a value this node does not know
 * was issued: they do not count (review 5: counting them made bundles
 * with freshness = required fail verify-report), the round settles on
 * sample 4, and the bundle re-verifies; the node's set of issued beacons
 * (fresh.c, what ingest judges checkpoints by) leaves it out too.
 */
static void t_beacon_removed_node(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct oracle_vr_result res;
	struct oracle_signer gone;
	struct fresh *fr;
	uint8_t key[32], *ak;
	uint64_t stale;
	size_t aklen, nb;

	(void)state;
	memset(key, 0x19, sizeof(key));
	assert_int_equal(0, oracle_signer_init(&gone, key));
	stale_feed(start, &gone, &signer, &ak, &aklen);
	assert_int_equal(0, fresh_init(&fr, &cfg, &st));
	assert_int_equal(1, fresh_stats(fr)->known);
	fresh_fini(fr);
	if (stale_round3(start, ak, aklen, &res, &nb, &stale, NULL, NULL))
		fail_msg("the round's bundle: %s", res.why);
	assert_int_equal(2, stale);
	assert_int_equal(1, nb);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(oracle_to_fixed(reading(4), 2), res.core.value);
	assert_int_equal(2, res.readings_stale);
	oracle_signer_fini(&gone);
	stale_feed_done(ak);
}

/*
 * @n older readings of stale_feed()'s chain (seq below its first sample,
 * captured before the feed's first round), a checkpoint's worth (@per) per beacon: @n / @per
 * distinct issued beacons (rounds 1000 ...) the chain's history covers.
 * Rows straight into the store: a chain that has aged.
 */
static void age_chain(uint64_t start, int64_t n, int64_t per)
{
	sqlite3_stmt *q = store_prep(&st, "INSERT INTO reading(gw, stream, channel,"
				     " instance, gen, seq, time_ns, value, beacon)"
				     " VALUES(?,0,0,?,0,?,?,1.0,?)");
	uint8_t v[32] = { 0 };

	assert_non_null(q);
	assert_int_equal(0, store_begin(&st));
	for (int64_t k = 0; k < n; k++) {
		v[0] = 0x5a;
		memcpy(v + 8, &(int64_t){ k / per }, 8);
		if (k % per == 0)
			beacon_row_v(&signer, 1000 + (uint64_t)(k / per), v);
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, INSTANCE);
		sqlite3_bind_int64(q, 3, k - n);	/* below seq 0 */
		sqlite3_bind_int64(q, 4, (int64_t)(start - 1000) * 1000000000 + k);
		sqlite3_bind_blob(q, 5, v, 32, SQLITE_STATIC);
		assert_int_equal(SQLITE_DONE, sqlite3_step(q));
	}
	sqlite3_finalize(q);
	assert_int_equal(0, store_commit(&st));
}

/*
 * Review 4 (high): the bundle's beacons were those of every reading of a
 * used chain up to the newest used one, at most 4096, the rest cut: a chain
 * whose history covers 5000 beacons pushed out the two the round needs
 * (its verifier then counted the stale samples, and the bundle did not
 * re-verify).  Now the bundle carries the beacons of the readings the
 * round classified: the two, and the bundle re-verifies.
 */
static void t_bundle_beacons_aged(void **state)
{
	(void)state;
	stale_round_aged(5000);
}

/*
 * Review 4 (high, performance): a round's cost grew with the age of the
 * chains it used (one query per used chain over all its readings: 48 ms at
 * 200k).  Round 3 of the same feed after 2,000 and after 200,000 older
 * readings (a beacon per 100) costs the same number of SQLite VM steps
 * (within 10 %); the wall-clock times are printed for the record.
 */
static void t_round_cost_flat(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	const int64_t ages[2] = { 2000, 200000 };
	uint64_t steps[2], stale;
	size_t nb[2];
	double ms[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct oracle_vr_result res;
		uint8_t *ak;
		size_t aklen;

		stale_feed(start, &signer, &signer, &ak, &aklen);
		age_chain(start, ages[i], 100);
		if (stale_round3(start, ak, aklen, &res, &nb[i], &stale, &steps[i], &ms[i]))
			fail_msg("the round's bundle: %s", res.why);
		assert_int_equal(ORACLE_SETTLED, res.core.status);
		stale_feed_done(ak);
	}
	printf("round with a chain of %" PRId64 " older readings: %" PRIu64
	       " VM steps, %.1f ms; of %"
	       PRId64 ": %" PRIu64 ", %.1f ms\n", ages[0], steps[0], ms[0],
	       ages[1], steps[1], ms[1]);
	assert_true(steps[0] > 0);
	if (steps[1] * 10 > steps[0] * 11)
		fail_msg("a round's cost grows with its chain's age: %" PRIu64
			 " VM steps at %" PRId64 " readings, %" PRIu64 " at %"
			 PRId64, steps[0], ages[0], steps[1], ages[1]);
	assert_int_equal(1, nb[0]);
	assert_int_equal(1, nb[1]);
}

/* The stored evidence bundle of feed f's round @r (malloc'd), or NULL. */
/* The one-device feed of @start (freshness off), the node up, records
 * captured from round 3 on; gateway 0's AK to *@ak. */
static void round3_node(uint64_t start, uint8_t **ak, size_t *aklen)
{
	feed_one(start, OD_FRESH_OFF, ak, aklen);
	node_up();
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
}

/* Bundle @b re-verified offline against gateway 0's AK @ak. */
static int verify_bundle_of(const uint8_t *b, size_t len, const uint8_t *ak,
			    size_t aklen, struct oracle_vr_result *res)
{
	struct oracle_vr_gw pin = { .ak = ak, .ak_len = aklen };

	memcpy(pin.id, registry_at(reg, 0)->bin, 16);
	return oracle_verify_bundle(b, len, &pin, 1, ORACLE_VR_ALLOW_SIMULATED, res);
}

static uint8_t *bundle_of(uint64_t r, size_t *len)
{
	sqlite3_stmt *q = store_prep(&st, "SELECT data FROM bundle WHERE feed='f' "
				     "AND round=?");
	uint8_t *b = NULL;

	assert_non_null(q);
	sqlite3_bind_int64(q, 1, (int64_t)r);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(q, 0);
		b = malloc(*len);
		assert_non_null(b);
		memcpy(b, sqlite3_column_blob(q, 0), *len);
	}
	sqlite3_finalize(q);
	return b;
}

/*
 * Round 3 of feed f, run now: reported, and its evidence bundle re-verifies
 * offline to the settled @value from @nread readings (@what: the case).
 */
static void round3_verifies(uint64_t start, const uint8_t *ak, size_t aklen,
			    int64_t value, uint64_t nread, const char *what)
{
	struct oracle_vr_result res;
	struct round *rd;
	uint8_t *b3;
	size_t l3 = 0;

	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 3 * 10 + 2);
	assert_int_equal(1, round_stats(rd)->reported);
	b3 = bundle_of(3, &l3);
	assert_non_null(b3);
	if (verify_bundle_of(b3, l3, ak, aklen, &res))
		fail_msg("round 3's bundle (%s): %s", what, res.why);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(value, res.core.value);
	assert_int_equal(nread, res.readings);
	free(b3);
	round_fini(rd);
}

/* The end of a round case: its records, AK copy, node and feed go. */
static void round_case_end(struct recs *rs, uint8_t *ak)
{
	recs_free(rs);
	free(ak);
	node_down();
	feed_done();
}

/*
 * t_gap_round's chain: samples 1..3 (checkpoint 4), 5 and 6 to be
 * declared lost, 7 before checkpoint 8 that re-anchors after the gap,
 * the re-attach (9, 10) and 11, 12 (checkpoint 13).
 */
static void gap_recs(struct recs *rs, struct rstream *s0)
{
	stream_init(s0, 0);
	add_desc(rs, s0);			/* 0 */
	add_sample(rs, s0, 2100);		/* 1 */
	add_sample(rs, s0, 2200);		/* 2 */
	add_sample(rs, s0, 2300);		/* 3 */
	add_cp(rs, s0, 1, 1000);		/* 4 */
	add_sample(rs, s0, 9900);		/* 5: declared lost */
	add_sample(rs, s0, 9800);		/* 6: declared lost */
	add_sample(rs, s0, 2350);		/* 7: before the re-anchor */
	add_cp(rs, s0, 2, 2000);		/* 8: re-anchors */
	add_detach(rs, s0);			/* 9 */
	add_desc(rs, s0);			/* 10: segment 1 */
	add_sample(rs, s0, 2400);		/* 11 */
	add_sample(rs, s0, 2500);		/* 12 */
	add_cp(rs, s0, 3, 3000);		/* 13 */
}

/*
 * A gap fill does not change a reported round, nor count in one to come:
 * round 3 (one device) settles on samples 1..3 (21, 22, 23: 22) while a
 * forged declaration made the node skip sample 5 (99).  Then 5 is filled:
 * round 3's bundle stays byte for byte, no reading of 5 is stored, and
 * round 4 (no reading in its window: the newest earlier one counts)
 * reports 23, not the filled 99.
 */
static void t_fill_round(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct oracle_vr_result res;
	struct recs rs = { 0 };
	struct rstream s0;
	struct round *rd;
	uint8_t *ak, *b3, *b3after, *b4;
	size_t aklen, l3 = 0, l3after = 0, l4 = 0;

	(void)state;
	round3_node(start, &ak, &aklen);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	add_sample(&rs, &s0, 2100);		/* 1 */
	add_sample(&rs, &s0, 2200);		/* 2 */
	add_sample(&rs, &s0, 2300);		/* 3 */
	add_cp(&rs, &s0, 1, 1000);		/* 4 */
	add_sample(&rs, &s0, 9900);		/* 5: skipped, then filled */
	add_sample(&rs, &s0, 2250);		/* 6 */
	add_cp(&rs, &s0, 2, 2000);		/* 7 */
	declare(0, 5, 5);
	publish_except(&rs, 5, 5);
	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 3 * 10 + 2);
	assert_int_equal(1, round_stats(rd)->reported);
	b3 = bundle_of(3, &l3);
	assert_non_null(b3);
	publish_only(&rs, 5, 5);
	assert_int_equal(1, ingest_stats(in)->filled);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 5));
	assert_int_equal(0, nreading_seq(5));
	b3after = bundle_of(3, &l3after);
	assert_non_null(b3after);
	assert_int_equal(l3, l3after);
	assert_memory_equal(b3, b3after, l3);
	round_tick(rd, start + 4 * 10 + 2);
	b4 = bundle_of(4, &l4);
	assert_non_null(b4);
	if (verify_bundle_of(b3, l3, ak, aklen, &res))
		fail_msg("round 3's bundle: %s", res.why);
	assert_int_equal(2200, res.core.value);
	if (verify_bundle_of(b4, l4, ak, aklen, &res))
		fail_msg("round 4's bundle: %s", res.why);
	assert_int_equal(2300, res.core.value);
	recs_free(&rs);
	free(b3);
	free(b3after);
	free(b4);
	free(ak);
	round_fini(rd);
	node_down();
	feed_done();
}

/*
 * Limit 1 of the 10-minute 1,000-gateway run (system.md): a bundle's
 * chain segment started at the first record the node held, so bundles
 * grew with the chain's age.  A chain of 200 epochs (5 samples and a
 * checkpoint each, before the round) then 3 samples in round 3's window:
 * the round's bundle starts at the signed head before them (record format
 * v4, the descriptor as its state) and stays under 16 KiB (from the
 * chain's start it would be over 140 KiB); it re-verifies to the value.
 */
static void t_bundle_bounded(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct oracle_vr_result res;
	struct recs rs = { 0 };
	struct rstream s0;
	struct round *rd;
	uint8_t *ak, *b3;
	size_t aklen, l3 = 0;

	(void)state;
	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	node_up();
	rt_base = (int64_t)(start + 5) * 1000000000;	/* round 1 */
	stream_init(&s0, 0);
	add_desc(&rs, &s0);
	for (uint64_t e = 1; e <= 200; e++) {
		for (int k = 0; k < 5; k++)
			add_sample(&rs, &s0, 1000);
		add_cp(&rs, &s0, e, 1000 + e);	/* TPM clock (ms) */
		if (e % 40 == 0) {
			publish(&rs);
			recs_free(&rs);
		}
	}
	rt_base = (int64_t)(start + 21) * 1000000000 - (int64_t)s0.seq;
	add_sample(&rs, &s0, 2100);
	add_sample(&rs, &s0, 2200);
	add_sample(&rs, &s0, 2300);
	add_cp(&rs, &s0, 201, 1200 + 16000);	/* 16 s later, as the capture */
	publish(&rs);
	assert_int_equal(3, nreading_seq(s0.seq - 4) + nreading_seq(s0.seq - 3) +
			    nreading_seq(s0.seq - 2));
	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 3 * 10 + 2);
	b3 = bundle_of(3, &l3);
	assert_non_null(b3);
	if (l3 >= 16384)
		fail_msg("round 3's bundle is %zu bytes", l3);
	if (verify_bundle_of(b3, l3, ak, aklen, &res))
		fail_msg("round 3's bundle: %s", res.why);
	assert_int_equal(2200, res.core.value);
	assert_int_equal(3, res.readings);
	free(b3);
	round_fini(rd);
	round_case_end(&rs, ak);
}

/*
 * Review 6 (HIGH): a round that uses readings after a gap.  Samples 1..3
 * (checkpoint 4) count; 5 and 6 are declared lost (forged: the gateway
 * still holds them); 7 comes after the gap, before checkpoint 8 that
 * re-anchors the node's verifier, so it is unverifiable there; the device
 * re-attaches (9, 10: segment 1's descriptor) and 11, 12 count
 * (checkpoint 13).  The node settles round 3 on 21, 22, 23, 24, 25: 23.
 * Its evidence bundle re-verifies offline to the same value, the gap not
 * filled (a hole inside a bundled chain was refused) and @fill-ed before
 * the round (a bundled chain verified across it counted 5, 6 and 7,
 * which the node did not).
 */
static void gap_round(bool fill)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak;
	size_t aklen;

	round3_node(start, &ak, &aklen);
	gap_recs(&rs, &s0);
	declare(0, 5, 6);
	publish_except(&rs, 5, 6);
	if (fill) {
		publish_only(&rs, 5, 6);
		assert_int_equal(2, ingest_stats(in)->filled);
	}
	assert_int_equal(0, nreading_seq(5) + nreading_seq(6) + nreading_seq(7));
	assert_int_equal(2, nreading_seq(11) + nreading_seq(3));
	round3_verifies(start, ak, aklen, 2300, 5, fill ? "gap filled" : "gap open");
	round_case_end(&rs, ak);
}

/*
 * Record format v4 (review 7, MEDIUM): after a hole the node's verifier
 * is anchored again by the next checkpoint; its signed head commits to
 * the segment state, which the node offers from the descriptor it holds,
 * so the samples after it give readings at once (before v4: none until
 * the device re-attached, possibly never).  Samples 1..3 (checkpoint 4)
 * count; 5 and 6 are declared lost; 7 lies before checkpoint 8's head;
 * 9 and 10 (checkpoint 11) count in the same segment.  Round 3 settles
 * on 21, 22, 23, 24, 25: 23, and its bundle, whose second chain segment
 * starts at checkpoint 8 with the descriptor as its state (key 14),
 * re-verifies to it.  A node restarted before the records after the
 * hole takes the state from its store and does the same.
 */
static void gap_resume(bool restart)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	char db[] = "/tmp/test_oracled_ingest_v4.XXXXXX";
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak;
	size_t aklen;

	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	db_create(db);
	node_up_at(db);
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	add_sample(&rs, &s0, 2100);		/* 1 */
	add_sample(&rs, &s0, 2200);		/* 2 */
	add_sample(&rs, &s0, 2300);		/* 3 */
	add_cp(&rs, &s0, 1, 1000);		/* 4 */
	add_sample(&rs, &s0, 9900);		/* 5: declared lost */
	add_sample(&rs, &s0, 9800);		/* 6: declared lost */
	add_sample(&rs, &s0, 2350);		/* 7: before the re-anchor */
	add_cp(&rs, &s0, 2, 2000);		/* 8: re-anchors */
	add_sample(&rs, &s0, 2400);		/* 9 */
	add_sample(&rs, &s0, 2500);		/* 10 */
	add_cp(&rs, &s0, 3, 3000);		/* 11 */
	publish_only(&rs, 0, 4);
	if (restart) {
		node_down();
		node_up_at(db);
	}
	declare(0, 5, 6);
	publish_only(&rs, 7, 11);
	assert_int_equal(3, nreading_seq(1) + nreading_seq(2) + nreading_seq(3));
	assert_int_equal(0, nreading_seq(5) + nreading_seq(6) + nreading_seq(7));
	assert_int_equal(2, nreading_seq(9) + nreading_seq(10));
	round3_verifies(start, ak, aklen, 2300, 5, "resumed after the hole");
	round_case_end(&rs, ak);
	db_remove(db);
}

/* t_gap_resume_state: live (state false) and after a restart (true) */
static void t_gap_resume_state(void **state)
{
	gap_resume(*(const bool *)*state);
}

static bool restart_no, restart_yes = true;

/*
 * Review of v4 (HIGH), at the node: after a declared hole (5) a gateway
 * sends a descriptor of its own (scale 100) and, in place of a record a
 * quote does not cover (11, appended while the TPM quoted), an unsigned
 * checkpoint with the genuine head after 5 and that descriptor's state;
 * a genuine detach and re-attach (7, 8) come before the next signed head.
 * The node's verifier anchored at the forged checkpoint took the state
 * and stored sample 6 as 235 instead of 23.5.  Now it stores no reading
 * of 6.
 */
static void t_forged_unsigned_anchor(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct recs rs = { 0 }, fk = { 0 };
	struct rstream s0, f, fd;
	struct attestio_seg_state fst = { 0 };
	struct qopt q2 = { .key = key1, .clock = 2000, .late = 2 };
	struct qopt qu = { .status = ATTESTIO_CP_NO_TPM };
	struct rstream *ss = &s0, *ff = &f;
	struct attestio_rec_info info;
	uint8_t *ak;
	size_t aklen;

	(void)state;
	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	node_up();
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	add_sample(&rs, &s0, 2100);		/* 1 */
	add_sample(&rs, &s0, 2200);		/* 2 */
	add_sample(&rs, &s0, 2300);		/* 3 */
	add_cp(&rs, &s0, 1, 1000);		/* 4 */
	add_sample(&rs, &s0, 9900);		/* 5: declared lost */
	f = s0;					/* the head after 5 */
	add_sample(&rs, &s0, 2350);		/* 6: 23.5 */
	add_detach(&rs, &s0);			/* 7: root detaches */
	add_desc(&rs, &s0);			/* 8: and re-attaches */
	add_sample(&rs, &s0, 2400);		/* 9 */
	add_checkpoints(&rs, &ss, 1, 2, &q2);	/* 10, 11 late; 12 */
	add_sample(&rs, &s0, 2500);		/* 13 */
	add_cp(&rs, &s0, 3, 3000);		/* 14 */
	stream_init(&fd, 0);
	fd.seq = 10;				/* the forger's descriptor */
	add_desc(&fk, &fd);
	((struct attestio_descriptor *)attestio_rec_payload(fk.r[0]))->chan[0].scale_val =
		cpu_to_le32(100);
	attestio_seg_state_note(&fst, ATTESTIO_REC_DESCRIPTOR, fk.r[0], fk.len[0]);
	f.st = fst;
	add_checkpoints(&fk, &ff, 1, 1, &qu);	/* unsigned, head after 5 */
	assert_int_equal(0, attestio_rec_validate(fk.r[1], fk.len[1], &info));
	info.seq = 11;
	attestio_rec_hdr_encode(fk.r[1], &info);
	for (int k = 0; k < 2; k++) {
		free(rs.r[10 + k]);
		rs.r[10 + k] = fk.r[k];
		rs.len[10 + k] = fk.len[k];
		fk.r[k] = NULL;
	}
	fk.n = 0;
	publish_only(&rs, 0, 4);
	declare(0, 5, 5);
	publish_only(&rs, 6, 14);
	if (nreading_seq(6))
		fail_msg("sample 6 stored as %g (genuine 23.5)", reading(6));
	round_case_end(&rs, ak);
}

/* The next record of @s is captured at @t_ns, those after it 1 ns apart. */
static void capture_at(const struct rstream *s, int64_t t_ns)
{
	rt_base = t_ns - (int64_t)s->seq;
}

/* Rounds 1 to 3 of feed f run now; round 3's bundle re-verified into
 * *@res (0 or -EBADMSG) and parsed into *@pb (release it), the bundle to
 * *@bp. */
static int round3_bundle(uint64_t start, const uint8_t *ak, size_t aklen,
			 struct oracle_vr_result *res, struct oracle_bundle *pb,
			 uint8_t **bp)
{
	struct round *rd;
	size_t len = 0;
	int ret;

	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 3 * 10 + 2);
	assert_int_equal(3, round_stats(rd)->reported + round_stats(rd)->halted);
	round_fini(rd);
	*bp = bundle_of(3, &len);
	assert_non_null(*bp);
	assert_int_equal(0, oracle_bundle_parse(*bp, len, pb, NULL));
	ret = verify_bundle_of(*bp, len, ak, aklen, res);
	return ret;
}

/* The seq of the first record of chain segment @c of the bundle's
 * device with chains. */
static uint64_t seg_first(const struct oracle_bundle *pb, size_t c)
{
	for (size_t i = 0; i < pb->ndev; i++)
		if (pb->dev[i].nchains > c) {
			struct attestio_rec_hdr h;

			assert_true(pb->dev[i].chains[c].len >= sizeof(h));
			memcpy(&h, pb->dev[i].chains[c].recs, sizeof(h));
			return le64toh(h.seq);
		}
	fail_msg("no chain segment %zu in the bundle", c);
	return 0;
}

static const struct oracle_bundle_chain *seg(const struct oracle_bundle *pb, size_t c)
{
	for (size_t i = 0; i < pb->ndev; i++)
		if (pb->dev[i].nchains > c)
			return &pb->dev[i].chains[c];
	fail_msg("no chain segment %zu in the bundle", c);
	return NULL;
}

/* The node of round3_node(); records 0..3 of @s0 to @rs, captured at
 * start + 15 s (round 2): the descriptor, samples 1 and 2 (15.00, 16.00),
 * checkpoint 3. */
static void epoch_before_window(uint64_t start, struct recs *rs, struct rstream *s0,
				uint8_t **ak, size_t *aklen)
{
	round3_node(start, ak, aklen);
	stream_init(s0, 0);
	capture_at(s0, (int64_t)(start + 15) * 1000000000);
	add_desc(rs, s0);			/* 0 */
	add_sample(rs, s0, 1500);		/* 1 */
	add_sample(rs, s0, 1600);		/* 2 */
	add_cp(rs, s0, 1, 1000);		/* 3 */
}

/*
 * Issue 11: a bundle's chain segment covers the round's window from its
 * start, so verify-report can check that no reading of the window was
 * left out before it.  Samples 1, 2 (checkpoint 3) are captured at
 * start + 15 s; sample 4 at start + 19.5 s, just before round 3's window
 * [start + 20, start + 30), and its checkpoint 5 at start + 20.2 s,
 * inside it; samples 6, 7 (checkpoint 8) at start + 21 s.  The round
 * settles on 6 and 7 (21.00).  The segment used to start after the
 * signed head before the oldest reading (checkpoint 5's: record 5,
 * captured inside the window), which verify-report now refuses: its
 * records cannot show that the window's first readings are all there.  It
 * now starts after checkpoint 3's head (record 3, captured before the
 * window) with the descriptor as its state, declares no resync point, and
 * re-verifies to 21.00 from 3 readings (4, before the window, 6 and 7).
 */
static void t_bundle_window_start(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	const int64_t s = 1000000000;
	struct oracle_vr_result res;
	struct oracle_bundle pb;
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak, *b;
	size_t aklen;

	(void)state;
	epoch_before_window(start, &rs, &s0, &ak, &aklen);
	capture_at(&s0, (int64_t)(start + 19) * s + s / 2);
	add_sample(&rs, &s0, 1950);		/* 4: before the window */
	capture_at(&s0, (int64_t)(start + 20) * s + s / 5);
	add_cp(&rs, &s0, 2, 6200);		/* 5: inside it */
	capture_at(&s0, (int64_t)(start + 21) * s);
	add_sample(&rs, &s0, 2100);		/* 6 */
	add_sample(&rs, &s0, 2200);		/* 7 */
	add_cp(&rs, &s0, 3, 7000);		/* 8 */
	publish(&rs);
	assert_int_equal(2, nreading_seq(6) + nreading_seq(7));
	if (round3_bundle(start, ak, aklen, &res, &pb, &b))
		fail_msg("round 3's bundle (segment from %" PRIu64 "): %s",
			 seg_first(&pb, 0), res.why);
	assert_int_equal(3, seg_first(&pb, 0));
	assert_true(seg(&pb, 0)->state_len > 0);
	assert_false(seg(&pb, 0)->resync);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(2100, res.core.value);
	assert_int_equal(3, res.readings);
	assert_int_equal(0, res.segments_resync);
	oracle_bundle_release(&pb);
	free(b);
	round_case_end(&rs, ak);
}

/*
 * Issue 11, where the node cannot show it: a gap inside the window.
 * Samples 1, 2 (checkpoint 3) at start + 15 s; sample 4 (checkpoint 5)
 * at start + 21 s; 6 and 7 declared lost; 8 before checkpoint 9, which
 * re-anchors the node's verifier after the gap (start + 22.5 s); 10, 11
 * (checkpoint 12).  The round settles on 4, 10 and 11 (24.00).  Its
 * bundle's first segment starts after checkpoint 3's head (before the
 * window: proven complete); the second, after the gap, starts after
 * checkpoint 9's head with the descriptor as its state, inside the
 * window: the bundle declares it a resync point (key 15), and
 * verify-report accepts it on the node's word and counts it.  Without the
 * declaration it refuses it.
 */
static void t_bundle_resync_in_window(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	const int64_t s = 1000000000;
	struct oracle_vr_result res;
	struct oracle_bundle pb;
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak, *b;
	size_t aklen;

	(void)state;
	epoch_before_window(start, &rs, &s0, &ak, &aklen);
	capture_at(&s0, (int64_t)(start + 21) * s);
	add_sample(&rs, &s0, 2100);		/* 4 */
	add_cp(&rs, &s0, 2, 7000);		/* 5 */
	capture_at(&s0, (int64_t)(start + 22) * s);
	add_sample(&rs, &s0, 9900);		/* 6: declared lost */
	add_sample(&rs, &s0, 9800);		/* 7: declared lost */
	capture_at(&s0, (int64_t)(start + 22) * s + s / 2);
	add_sample(&rs, &s0, 2350);		/* 8: before the re-anchor */
	add_cp(&rs, &s0, 3, 8500);		/* 9: re-anchors */
	capture_at(&s0, (int64_t)(start + 23) * s);
	add_sample(&rs, &s0, 2400);		/* 10 */
	add_sample(&rs, &s0, 2500);		/* 11 */
	add_cp(&rs, &s0, 4, 9000);		/* 12 */
	publish_only(&rs, 0, 5);
	declare(0, 6, 7);
	publish_only(&rs, 8, 12);
	assert_int_equal(3, nreading_seq(4) + nreading_seq(10) + nreading_seq(11));
	assert_int_equal(0, nreading_seq(8));
	if (round3_bundle(start, ak, aklen, &res, &pb, &b))
		fail_msg("round 3's bundle: %s", res.why);
	assert_int_equal(3, seg_first(&pb, 0));
	assert_false(seg(&pb, 0)->resync);
	assert_int_equal(9, seg_first(&pb, 1));
	assert_true(seg(&pb, 1)->state_len > 0);
	assert_true(seg(&pb, 1)->resync);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(2400, res.core.value);
	assert_int_equal(1, res.segments_resync);
	oracle_bundle_release(&pb);
	free(b);
	round_case_end(&rs, ak);
}

static void t_gap_round(void **state)
{
	(void)state;
	gap_round(false);
}

static void t_gap_round_filled(void **state)
{
	(void)state;
	gap_round(true);
}

/*
 * A device whose descriptor is not the identity the feed pins gives no
 * reading, at the node and in verify-report alike: round 3 uses samples 1,
 * 2 and 11 of the pinned device; between them the stream carried another
 * device (segment 1, its descriptor's identity not the pinned one) whose
 * 99 and 98 the node does not store.  The bundle carries the chain up to
 * 12 and re-verifies to the node's 22 from 3 readings (verify-report
 * ignored the pin and recomputed from 5).
 */
static void t_pin_identity_round(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct oracle_vr_result res;
	struct recs rs = { 0 };
	struct rstream s0;
	struct round *rd;
	uint8_t *ak, *b3;
	size_t aklen, l3 = 0;

	(void)state;
	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	cfg.feed[0].s[0].pinned = true;
	memcpy(cfg.feed[0].s[0].identity, ident_real, 32);
	node_up();
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	stream_init(&s0, 0);
	add_desc_id(&rs, &s0, ident_real, 9);	/* 0 */
	add_sample(&rs, &s0, 2100);		/* 1 */
	add_sample(&rs, &s0, 2200);		/* 2 */
	add_cp(&rs, &s0, 1, 1000);		/* 3 */
	add_detach(&rs, &s0);			/* 4 */
	add_desc_id(&rs, &s0, ident_fake, 9);	/* 5: another device */
	add_sample(&rs, &s0, 9900);		/* 6 */
	add_sample(&rs, &s0, 9800);		/* 7 */
	add_cp(&rs, &s0, 2, 2000);		/* 8 */
	add_detach(&rs, &s0);			/* 9 */
	add_desc_id(&rs, &s0, ident_real, 9);	/* 10: the pinned one again */
	add_sample(&rs, &s0, 2300);		/* 11 */
	add_cp(&rs, &s0, 3, 3000);		/* 12 */
	publish(&rs);
	assert_int_equal(3, nreadings(0));
	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 3 * 10 + 2);
	assert_int_equal(1, round_stats(rd)->reported);
	b3 = bundle_of(3, &l3);
	assert_non_null(b3);
	if (verify_bundle_of(b3, l3, ak, aklen, &res))
		fail_msg("round 3's bundle: %s", res.why);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(2200, res.core.value);
	assert_int_equal(3, res.readings);
	recs_free(&rs);
	free(b3);
	free(ak);
	round_fini(rd);
	node_down();
	cfg.feed[0].s[0].pinned = false;
	feed_done();
}

/*
 * Readings the node leaves out for a reason only it can judge are named in
 * the bundle (device item key 13), and verify-report leaves them out too:
 * round 3 runs over [now - 5, now + 5).  @why 1: sample 2 was captured
 * 4.9 s after its receipt (max_clock_skew 0): the node keeps 1 and 3.
 * @why 2: between checkpoints 2 and 5 the TPM clock moved 99 s while the
 * capture clock moved 1 s: the node drops the readings of 3 and 4 and
 * keeps 1 and 6.  Either way the bundle re-verifies to the node's value
 * from 2 readings, 1 or 2 left out on the node's word (without key 13,
 * verify-report recomputed another value).
 */
static void excluded_round(int why)
{
	const uint64_t start = (uint64_t)time(NULL) - 25;
	const int64_t now = (int64_t)(start + 25) * 1000000000;
	const int64_t sec = 1000000000;
	struct oracle_vr_result res;
	struct recs rs = { 0 };
	struct rstream s0;
	struct round *rd;
	uint8_t *ak, *b3;
	size_t aklen, l3 = 0;
	uint64_t skew = cfg.max_clock_skew_s;

	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	cfg.max_clock_skew_s = 0;	/* ahead = over 1 s after receipt */
	node_up();
	stream_init(&s0, 0);
	rt_base = now - 4 * sec;
	add_desc(&rs, &s0);				/* 0 */
	add_sample(&rs, &s0, 2100);			/* 1 */
	if (why == ORACLE_NODE_EXCL_FUTURE) {
		/* 3.9 s of margin for the publish below to come late */
		rt_base = now + 4 * sec + 9 * sec / 10;
		add_sample(&rs, &s0, 9900);		/* 2: ahead */
		rt_base = now - 2 * sec;
		add_sample(&rs, &s0, 2200);		/* 3 */
		add_cp(&rs, &s0, 1, 1000);		/* 4 */
	} else {
		add_cp(&rs, &s0, 1, 1000);		/* 2 */
		rt_base = now - 3 * sec;
		add_sample(&rs, &s0, 9900);		/* 3 */
		add_sample(&rs, &s0, 9800);		/* 4 */
		add_cp(&rs, &s0, 2, 100000);		/* 5: TPM clock +99 s */
		rt_base = now - 2 * sec;
		add_sample(&rs, &s0, 2200);		/* 6 */
		add_cp(&rs, &s0, 3, 101000);		/* 7 */
	}
	publish(&rs);
	assert_int_equal(2, nreadings(0));
	assert_int_equal(0, round_init(&rd, &cfg, &st, reg, &signer, no_publish, NULL));
	round_tick(rd, start + 3 * 10 + 2);
	assert_int_equal(1, round_stats(rd)->reported);
	b3 = bundle_of(3, &l3);
	assert_non_null(b3);
	if (verify_bundle_of(b3, l3, ak, aklen, &res))
		fail_msg("round 3's bundle (exclusion %d): %s", why, res.why);
	assert_int_equal(ORACLE_SETTLED, res.core.status);
	assert_int_equal(2, res.readings);
	assert_int_equal(why == ORACLE_NODE_EXCL_FUTURE ? 1 : 2, res.readings_excluded[why]);
	recs_free(&rs);
	free(b3);
	free(ak);
	round_fini(rd);
	node_down();
	cfg.max_clock_skew_s = skew;
	feed_done();
}

static void t_future_round(void **state)
{
	(void)state;
	excluded_round(ORACLE_NODE_EXCL_FUTURE);
}

static void t_drift_round(void **state)
{
	(void)state;
	excluded_round(ORACLE_NODE_EXCL_DRIFT);
}


/*
 * Review 7: a chain whose start (0..3) the gateway declared gone is joined
 * at its checkpoint 4 (resync point 4), without the descriptor: 5 and 6
 * give no readings at the node; the device re-attaches (8, 9) and 10, 11
 * count: the node settles round 3 on 24.00, 25.00: 2400.  Then the start
 * comes again and fills the gap (the gateway held it).  With @prune, the
 * node's hourly prune ran between the join and the fill: nothing was
 * stored below the join point then, and the resync row went with it, so
 * the bundle's segment started at seq 0 after the fill: verify-report
 * decoded 1..3, 5, 6 with the descriptor of 0 and recomputed 3200.
 */
static void gap_round_join(bool prune)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak;
	size_t aklen;

	round3_node(start, &ak, &aklen);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0: declared gone */
	add_sample(&rs, &s0, 3100);		/* 1 */
	add_sample(&rs, &s0, 3200);		/* 2 */
	add_sample(&rs, &s0, 3300);		/* 3 */
	add_cp(&rs, &s0, 1, 1000);		/* 4: first sight, joined */
	add_sample(&rs, &s0, 9900);		/* 5: no descriptor */
	add_sample(&rs, &s0, 9800);		/* 6 */
	add_cp(&rs, &s0, 2, 2000);		/* 7 */
	add_detach(&rs, &s0);			/* 8 */
	add_desc(&rs, &s0);			/* 9: segment 1 */
	add_sample(&rs, &s0, 2400);		/* 10 */
	add_sample(&rs, &s0, 2500);		/* 11 */
	add_cp(&rs, &s0, 3, 3000);		/* 12 */
	declare(0, 0, 3);
	publish_except(&rs, 0, 3);
	assert_int_equal(1, query_int("SELECT count(*) FROM resync WHERE gw=? "
				      "AND seq=4 AND known=1 AND gen=?", 0, 0, -1));
	if (prune)
		ingest_prune(in, (uint64_t)time(NULL));
	publish_only(&rs, 0, 3);		/* the start comes again */
	assert_int_equal(4, ingest_stats(in)->filled);
	assert_int_equal(2, nreading_seq(10) + nreading_seq(11));
	assert_int_equal(0, nreading_seq(2) + nreading_seq(5) + nreading_seq(6));
	round3_verifies(start, ak, aklen, 2400, 2, prune ? "pruned" : "kept");
	round_case_end(&rs, ak);
}

/* t_gap_round_join (state false) and t_gap_round_join_pruned (true) */
static void t_gap_round_join(void **state)
{
	gap_round_join(*(const bool *)*state);
}

static bool prune_no, prune_yes = true;

/*
 * Review 7: a late join before the chain is known.  The node first sees
 * stream 0 at sample 5 and joins there after join_period, its chain
 * unnamed: 5..8 are stored under instance 0.  Checkpoint 9 names the
 * chain; its head is 6 (7, 8 were appended while the TPM quoted), and the
 * node's verifier, holding 5..8, anchors there.  The device re-attaches
 * (10, 11) and 12, 13 count (checkpoint 14): 24.00, 25.00: 2400.  The
 * bundle's segment from the join point (5) holds the chain's records
 * under its name only, 9..14: a verifier joining at 9 cannot anchor there
 * (its head, 6, is not a record it holds), anchors at 14 and drops the
 * descriptor 11 with what 14 covers: no reading, while the node counted 2.
 * (And 5..8 kept no verdict: PENDING under instance 0, never pruned.)
 */
static void t_gap_round_join_unnamed(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct qopt q = { .key = key1, .clock = 2000, .late = 2 };
	struct rstream *ss[1];
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak;
	size_t aklen;

	(void)state;
	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	cfg.join_period_s = 1;
	node_up();
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	stream_init(&s0, 0);
	ss[0] = &s0;
	add_desc(&rs, &s0);			/* 0 */
	add_sample(&rs, &s0, 3100);		/* 1 */
	add_sample(&rs, &s0, 3200);		/* 2 */
	add_sample(&rs, &s0, 3300);		/* 3 */
	add_cp(&rs, &s0, 1, 1000);		/* 4 */
	add_sample(&rs, &s0, 9900);		/* 5: first sight */
	add_sample(&rs, &s0, 9800);		/* 6 */
	add_checkpoints(&rs, ss, 1, 2, &q);	/* 7, 8 late; 9 (head 6) */
	add_detach(&rs, &s0);			/* 10 */
	add_desc(&rs, &s0);			/* 11: segment 1 */
	add_sample(&rs, &s0, 2400);		/* 12 */
	add_sample(&rs, &s0, 2500);		/* 13 */
	add_cp(&rs, &s0, 3, 3000);		/* 14 */
	publish_only(&rs, 5, 8);		/* first sight: 5 */
	sleep(2);
	publish_only(&rs, 5, 8);		/* joins at 5, chain unnamed */
	publish_only(&rs, 9, 14);		/* 9 names it */
	assert_int_equal(14, acked(0));
	assert_int_equal(5, ack_entry(0)->from);
	assert_int_equal(2, nreading_seq(12) + nreading_seq(13));
	assert_int_equal(1, query_int("SELECT count(*) FROM resync WHERE gw=? "
				      "AND seq=5 AND known=1 AND gen=?", 0, 0, -1));
	/* under the chain's name, with their verdicts */
	assert_int_equal(ATT_REC_UNVERIFIABLE, rec_state(0, 5));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 7));
	/* the start, held by the gateway, fills the join gap: the bundle's
	 * segment still starts at the join point */
	publish_only(&rs, 0, 4);
	assert_int_equal(5, ingest_stats(in)->filled);
	round3_verifies(start, ak, aklen, 2400, 2, "unnamed join");
	cfg.join_period_s = 0;
	round_case_end(&rs, ak);
}

/*
 * Review 7: a reading verified through another stream's quote.  Epoch 1's
 * quote signs the heads of streams 0 and 1; stream 1's checkpoint (4)
 * comes alone and covers stream 0's samples 1..3 (2100, 2200, 2300): the
 * node stores their readings.  A broker drops stream 0's own checkpoint
 * of epoch 1 (its 4) and forges a declaration of it: the node skips it,
 * re-anchors stream 0 at its checkpoint 7 (epoch 2) without the
 * descriptor; the device re-attaches (8, 9) and 10 (25.00) counts.  The
 * bundle can only carry stream 0's records, and the first of its
 * checkpoints that covers seq 3 is 7, past the gap: the node settled
 * round 3 on 1..3 and 10 (2200) and verify-report refused the hole
 * ("expected seq 4: 1 records missing").  Now a reading counts only when
 * a checkpoint of its own stream in its segment covers it: 2500, and the
 * bundle re-verifies.
 */
static void t_gap_round_other_stream(void **state)
{
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct qopt q1 = { .key = key1, .clock = 1000 };
	struct qopt q2 = { .key = key1, .clock = 2000 };
	struct qopt q3 = { .key = key1, .clock = 3000 };
	struct recs rs = { 0 }, cp1 = { 0 }, r2 = { 0 };
	struct rstream s0, s1;
	uint8_t *ak;
	size_t aklen;

	(void)state;
	round3_node(start, &ak, &aklen);
	stream_init(&s0, 0);
	stream_init(&s1, 1);
	add_desc(&rs, &s0);			/* s0 0 */
	add_sample(&rs, &s0, 2100);		/* s0 1 */
	add_sample(&rs, &s0, 2200);		/* s0 2 */
	add_sample(&rs, &s0, 2300);		/* s0 3 */
	add_desc(&rs, &s1);			/* s1 0 */
	add_sample(&rs, &s1, 1000);		/* s1 1..3 */
	add_sample(&rs, &s1, 1000);
	add_sample(&rs, &s1, 1000);
	/* epoch 1: stream 0's checkpoint (dropped), stream 1's */
	add_checkpoints(&cp1, (struct rstream *[]){ &s0, &s1 }, 2, 1, &q1);
	add_sample(&r2, &s0, 9900);		/* s0 5 */
	add_sample(&r2, &s0, 9800);		/* s0 6 */
	add_checkpoints(&r2, (struct rstream *[]){ &s0, &s1 }, 2, 2, &q2);
						/* s0 7, s1 5 */
	add_detach(&r2, &s0);			/* s0 8 */
	add_desc(&r2, &s0);			/* s0 9: segment 1 */
	add_sample(&r2, &s0, 2500);		/* s0 10 */
	add_checkpoints(&r2, (struct rstream *[]){ &s0, &s1 }, 2, 3, &q3);
						/* s0 11, s1 6 */
	publish(&rs);
	{					/* stream 1's only */
		struct recs one = { .n = 1, .r = { cp1.r[1] }, .len = { cp1.len[1] } };

		publish(&one);
	}
	assert_int_equal(3, nreading_seq(1) + nreading_seq(2) + nreading_seq(3));
	declare(0, 4, 4);			/* forged */
	publish(&r2);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 7));
	assert_int_equal(0, nreading_seq(5) + nreading_seq(6));
	assert_int_equal(1, nreading_seq(10));
	round3_verifies(start, ak, aklen, 2500, 1, "other stream");
	recs_free(&cp1);
	recs_free(&r2);
	round_case_end(&rs, ak);
}

/*
 * Review 7: a database of schema 9 holding t_gap_round's open gap (5..6)
 * is migrated to schema 10 at start: the resync point (7) comes from the
 * gap row, so the round's bundle after the upgrade re-verifies (without
 * it: "expected seq 5: 2 records missing").
 */
static void t_gap_round_migrated(void **state)
{
	char db[] = "/tmp/test_oracled_ingest_mig.XXXXXX";
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak;
	size_t aklen;

	(void)state;
	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	db_create(db);
	node_up_at(db);
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	gap_recs(&rs, &s0);
	declare(0, 5, 6);
	publish_except(&rs, 5, 6);
	/* back to schema 9: as a node before the upgrade left it */
	assert_int_equal(0, store_exec(&st, "DROP TABLE resync; "
				       "PRAGMA user_version=9;"));
	node_down();
	node_up_at(db);				/* migrates to 10 */
	assert_int_equal(7, query_int("SELECT seq FROM resync WHERE gw=? AND "
				      "known=1 AND gen=?", 0, 0, -1));
	round3_verifies(start, ak, aklen, 2300, 5, "migrated");
	recs_free(&rs);
	free(ak);
	node_down();
	db_remove(db);
	feed_done();
}

/*
 * Review 7: the records an unnamed late join stored take the name of the
 * record that names the chain only when it comes after them.  Stream 0
 * is joined at sample 5 (generation 0, unnamed); then generation 1 starts
 * (its descriptor, seq 0): 5 and 6 are not generation 1's records and
 * must not be stored under its name.
 */
static void t_join_unnamed_other_chain(void **state)
{
	struct recs rs = { 0 }, r1 = { 0 };
	struct rstream s0, s1;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 1;
	node_up();
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	for (int i = 0; i < 6; i++)
		add_sample(&rs, &s0, 2150);	/* 1..6 */
	publish_except(&rs, 0, 4);		/* first sight: 5 */
	sleep(2);
	publish_except(&rs, 0, 4);		/* joins at 5, unnamed */
	stream_init_gen(&s1, 0, 1);
	add_desc(&r1, &s1);			/* generation 1, seq 0 */
	publish(&r1);
	assert_int_equal(0, query_int("SELECT count(*) FROM rec WHERE gw=? AND "
				      "stream=0 AND gen=? AND seq>=5", 1, 0, -1));
	recs_free(&rs);
	recs_free(&r1);
	cfg.join_period_s = 0;
	node_down();
}

/* Node @o's signed beacon of round @round with value byte @v, to @b. */
static void beacon_from(struct beacons *b, const struct oracle_signer *o,
			uint64_t round, uint8_t v)
{
	struct oracle_beacon be = { .round = round, .time = (uint64_t)time(NULL) };
	uint8_t buf[ORACLE_BEACON_MAX_LEN];
	char node[ORACLE_NODE_ID_HEX];
	size_t len;

	memset(be.value, v, sizeof(be.value));
	assert_int_equal(0, oracle_beacon_sign(&be, o));
	assert_int_equal(0, oracle_beacon_encode(&be, 0, buf, sizeof(buf), &len));
	oracle_hex(o->node_id, ORACLE_NODE_ID_LEN, node);
	beacons_message(b, node, buf, len);
}

/*
 * Review 3: a configured node issues one beacon value per round, rounds
 * increasing.  A second value for a round it already issued, or one for
 * an older round, is refused and changes nothing: it is neither stored nor
 * added to the issued set (one node could otherwise push any number of
 * values into the set and evict the other nodes' from its ring).  A
 * redelivery of the stored beacon is ignored silently.
 */
static void t_beacon_one_per_round(void **state)
{
	const struct beacon_stats *bs;
	struct oracle_signer other;
	struct beacons *b;
	uint8_t key[32];
	uint64_t r;

	(void)state;
	memset(key, 0x17, sizeof(key));
	assert_int_equal(0, oracle_signer_init(&other, key));
	cfg.nnodes = 1;
	memcpy(cfg.nodes[0], other.pub, ORACLE_PUB_LEN);
	cfg.beacon_period = 60;
	cfg.beacon_start = 1;
	r = beacon_round_of(&cfg, (uint64_t)time(NULL));
	node_up();
	assert_int_equal(0, beacons_init(&b, &cfg, &st, &signer, ingest_fresh(in),
					 no_publish, NULL));
	bs = beacons_stats(b);
	beacon_from(b, &other, r - 1, 0x01);
	assert_int_equal(1, bs->received);
	assert_int_equal(1, fresh_stats(ingest_fresh(in))->known);
	beacon_from(b, &other, r - 1, 0x01);	/* redelivered */
	assert_int_equal(1, bs->received);
	assert_int_equal(0, bs->rejected);
	for (int v = 2; v < 40; v++)		/* equivocation: round r - 1 again */
		beacon_from(b, &other, r - 1, (uint8_t)v);
	beacon_from(b, &other, r - 2, 0x77);	/* an older round */
	assert_int_equal(39, bs->rejected);
	assert_int_equal(1, bs->received);
	assert_int_equal(1, fresh_stats(ingest_fresh(in))->known);
	assert_int_equal(1, query_int("SELECT count(*) FROM beacon WHERE node<>?1"
				      " AND round<>?2", 0, 0, -1));
	beacon_from(b, &other, r, 0x02);	/* the next round */
	assert_int_equal(2, bs->received);
	assert_int_equal(2, fresh_stats(ingest_fresh(in))->known);
	beacons_fini(b);
	node_down();
	cfg.nnodes = 0;
	cfg.beacon_period = cfg.beacon_start = 0;
}

/*
 * Review 4: a configured node that copies another's fresh value under an
 * older round of its own would make every reading covering that value
 * look stale (a value's round is the earliest any node issued it in).  A
 * value issued before, or a round that has ended, is refused.
 */
static void t_beacon_copied(void **state)
{
	const struct beacon_stats *bs;
	struct oracle_signer h, m;
	struct beacons *b;
	uint8_t key[32];
	uint64_t r;

	(void)state;
	memset(key, 0x17, sizeof(key));
	assert_int_equal(0, oracle_signer_init(&h, key));
	memset(key, 0x18, sizeof(key));
	assert_int_equal(0, oracle_signer_init(&m, key));
	cfg.nnodes = 2;
	memcpy(cfg.nodes[0], h.pub, ORACLE_PUB_LEN);
	memcpy(cfg.nodes[1], m.pub, ORACLE_PUB_LEN);
	cfg.beacon_period = 60;
	cfg.beacon_start = 1;
	r = beacon_round_of(&cfg, (uint64_t)time(NULL));
	node_up();
	assert_int_equal(0, beacons_init(&b, &cfg, &st, &signer, ingest_fresh(in),
					 no_publish, NULL));
	bs = beacons_stats(b);
	beacon_from(b, &h, r, 0xb3);		/* honest, fresh */
	beacon_from(b, &m, r - 1, 0xb3);	/* copied, backdated */
	beacon_from(b, &m, r, 0xb3);		/* copied */
	beacon_from(b, &m, r - 5, 0x44);	/* a round long ended */
	assert_int_equal(1, bs->received);
	assert_int_equal(3, bs->rejected);
	assert_int_equal((int64_t)r, query_int("SELECT min(round) FROM beacon "
					       "WHERE node<>?1 AND round<>?2", 0, 0, -1));
	beacon_from(b, &m, r, 0x45);		/* its own value: fine */
	assert_int_equal(2, bs->received);
	beacons_fini(b);
	node_down();
	cfg.nnodes = 0;
	cfg.beacon_period = cfg.beacon_start = 0;
}

/*
 * Five declared holes crossed by one message (review 4: the ack moved from
 * past the oldest gap and the gateway, still holding seq 6 below it, never
 * took another ack of the chain).  The ack lists the first four gaps and is
 * cut below the fifth; the next ack states from the cut on; a record at or
 * below the cut that comes again (the gateway did not take the cut ack)
 * makes the node list from the start again.
 */
static void t_ack_cut(void **state)
{
	struct recs rs = { 0 }, sub = { 0 };
	struct rstream s0;
	const struct oracle_ack_entry *e;
	const uint8_t *six = NULL;
	uint32_t sixlen = 0;

	(void)state;
	rt_base = now_ns();
	node_up();
	chain_start(&rs, &s0);			/* 0..5 */
	publish(&rs);
	recs_free(&rs);
	for (int i = 0; i < 14; i++)
		add_sample(&rs, &s0, 2150);	/* 6..19 */
	add_cp(&rs, &s0, 2, 2000);		/* 20 */
	for (uint64_t h = 7; h <= 15; h += 2)
		declare(0, h, h);
	for (int i = 0; i < rs.n; i++) {
		struct attestio_rec_hdr h;
		uint64_t q;

		memcpy(&h, rs.r[i], sizeof(h));
		q = le64toh(h.seq);
		if (q == 6)
			six = rs.r[i], sixlen = rs.len[i];
		if (!(le32toh(h.flags) & ATTESTIO_RF_UNCHAINED) && q >= 7 &&
		    q <= 15 && (q % 2))
			continue;
		memcpy(recs_new(&sub, rs.len[i]), rs.r[i], rs.len[i]);
	}
	publish(&sub);
	e = ack_entry(0);
	assert_int_equal(14, e->upto);		/* cut below gap 15 */
	assert_int_equal(0, e->from);
	assert_int_equal(4, e->nskip);
	assert_int_equal(7, e->skip[0].first);
	assert_int_equal(13, e->skip[3].last);
	recs_free(&sub);
	for (int i = 0; i < 4; i++)
		add_sample(&sub, &s0, 2150);	/* 21..24 */
	add_cp(&sub, &s0, 3, 3000);		/* 25 */
	publish(&sub);
	recs_free(&sub);
	e = ack_entry(0);
	assert_int_equal(25, e->upto);		/* from the cut on */
	assert_int_equal(15, e->from);
	assert_int_equal(1, e->nskip);
	assert_int_equal(15, e->skip[0].first);
	assert_int_equal(15, e->skip[0].last);
	assert_non_null(six);
	memcpy(recs_new(&sub, sixlen), six, sixlen);
	publish(&sub);				/* seq 6 again */
	e = ack_entry(0);
	assert_int_equal(14, e->upto);
	assert_int_equal(0, e->from);
	assert_int_equal(4, e->nskip);
	recs_free(&sub);
	recs_free(&rs);
	node_down();
}

/* TPM2B_PUBLIC bytes of a P-256 key (a fresh point): an AK or an EK. */
static void tpm_pub(bool ak, uint8_t **out, size_t *len)
{
	TPM2B_PUBLIC p = { 0 };
	EVP_PKEY *k = EVP_EC_gen("P-256");
	BIGNUM *x = NULL, *y = NULL;
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;

	assert_non_null(k);
	assert_int_equal(1, EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x));
	assert_int_equal(1, EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
	p.publicArea.type = TPM2_ALG_ECC;
	p.publicArea.nameAlg = TPM2_ALG_SHA256;
	p.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM |
		TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		TPMA_OBJECT_RESTRICTED |
		(ak ? TPMA_OBJECT_SIGN_ENCRYPT : TPMA_OBJECT_DECRYPT);
	p.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	if (ak) {
		p.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		p.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
			TPM2_ALG_SHA256;
	} else {
		p.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
		p.publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	}
	p.publicArea.unique.ecc.x.size = 32;
	p.publicArea.unique.ecc.y.size = 32;
	assert_int_equal(32, BN_bn2binpad(x, p.publicArea.unique.ecc.x.buffer, 32));
	assert_int_equal(32, BN_bn2binpad(y, p.publicArea.unique.ecc.y.buffer, 32));
	assert_int_equal(0, Tss2_MU_TPM2B_PUBLIC_Marshal(&p, buf, sizeof(buf), &off));
	*out = malloc(off);
	assert_non_null(*out);
	memcpy(*out, buf, off);
	*len = off;
	BN_free(x);
	BN_free(y);
	EVP_PKEY_free(k);
}

/* An enrollment bundle of EK @ek (TPM2B_PUBLIC) and a fresh AK. */
static void bundle_with(const uint8_t *ek, size_t eklen, uint8_t **out, size_t *len)
{
	struct att_enroll_bundle b = { 0 };
	TPM2B_PUBLIC ak;
	struct att_err e;
	size_t nl = 0;

	b.ek_pub = (uint8_t *)ek;
	b.ek_pub_len = eklen;
	tpm_pub(true, &b.ak_pub, &b.ak_pub_len);
	assert_int_equal(0, att_tpm_unmarshal_public(b.ak_pub, b.ak_pub_len, &ak));
	assert_int_equal(0, att_tpm_name(&ak.publicArea, b.ak_name, &nl));
	b.ak_name_len = nl;
	strcpy(b.identity, "review3");
	assert_int_equal(0, att_enroll_encode(&b, out, len, &e));
	free(b.ak_pub);
}

/*
 * Review 3: an enrolled gateway's AK is rotated (a new bundle, same EK,
 * answered by its TPM).  That a checkpoint verified under the old AK's
 * kernel key proves nothing about the new AK: the tier is at most 1 again
 * until one verifies under the new key (root could have made the new AK
 * with userWithAuth, usable outside the module).
 */
static void t_rotation_unproven(void **state)
{
	uint8_t *ek, *b1, *b2;
	size_t eklen, l1, l2;
	struct reg_gw *g;

	(void)state;
	cfg.gw[0].enroll = true;
	cfg.gw[0].ak[0] = 0;
	cfg.gw[0].tier = 3;
	node_up();
	g = registry_at(reg, 0);
	tpm_pub(false, &ek, &eklen);
	bundle_with(ek, eklen, &b1, &l1);
	bundle_with(ek, eklen, &b2, &l2);
	assert_int_equal(0, registry_admit(reg, g, b1, l1, true, "n1"));
	g->kernel_key_proven = true;	/* a checkpoint verified under it */
	assert_int_equal(1, registry_tier(g));	/* no policy: tier 1 proved */
	g->tier_proved = 3;		/* as with a policy and an EK chain */
	assert_int_equal(3, registry_tier(g));
	assert_int_equal(0, registry_admit(reg, g, b2, l2, true, "n1"));
	assert_false(g->kernel_key_proven);
	g->tier_proved = 3;
	assert_int_equal(1, registry_tier(g));
	free(ek);
	free(b1);
	free(b2);
	node_down();
	cfg.gw[0].enroll = false;
	cfg.gw[0].tier = 1;
	strcpy(cfg.gw[0].ak, ak_path);
}

/*
 * Review 3: loss declarations are unsigned and each may name 4096 new
 * holes: the holes stored per gateway are bounded (OD_MAX_HOLES_GW); a
 * declaration that would go past it is refused, counted, and stores
 * nothing.  Holes a chain used up are deleted (t_declared_lost), and
 * holes the node's chain already passed are not stored.
 */
static void t_loss_bounded(void **state)
{
	static struct oracle_loss l;
	static uint8_t b[ORACLE_LOSS_MAX_LEN];
	const struct ingest_stats *is;
	size_t len;

	(void)state;
	node_up();
	is = ingest_stats(in);
	assert_int_equal(0, oracle_unhex(gwid, l.gw, 16));
	for (uint64_t m = 0; m <= OD_MAX_HOLES_GW / ORACLE_LOSS_MAX_HOLES; m++) {
		l.n = ORACLE_LOSS_MAX_HOLES;
		for (size_t i = 0; i < l.n; i++)
			l.h[i] = (struct oracle_hole){ INSTANCE, 0, 0,
				1000000 * m + 2 * i, 1000000 * m + 2 * i };
		assert_int_equal(0, oracle_loss_encode(&l, b, sizeof(b), &len));
		assert_int_equal(m < OD_MAX_HOLES_GW / ORACLE_LOSS_MAX_HOLES ?
				 0 : -EBADMSG, ingest_loss(in, gwid, b, len));
	}
	assert_int_equal(OD_MAX_HOLES_GW, query_int("SELECT count(*) FROM hole "
						    "WHERE gw=?1 AND gen=?2", 0, 0, -1));
	assert_int_equal(1, is->loss_bad);
	assert_int_equal(OD_MAX_HOLES_GW / ORACLE_LOSS_MAX_HOLES, is->loss_msgs);
	assert_int_equal(OD_MAX_HOLES_GW, is->holes_new);
	no_busy_statement();
	node_down();
}

/*
 * Review 5: a whitelisted node's beacon was pruned by the `time` it signs
 * itself (beacon.c: DELETE ... WHERE time < now - retain), which no one
 * checks.  Node M issues round 3's beacon with time = 1: it is accepted,
 * gateways quote it, and at the next prune its row was gone: the round
 * then could not show it in the bundle, and a restarted node no longer
 * knew the value (its ingest refuses checkpoints covering it with
 * freshness = required).  Beacons are pruned by round now: after the
 * prune the row is still there and the round's bundle re-verifies.
 */
static void beacon_pruned(bool prune)
{
	const uint64_t start = (uint64_t)time(NULL) - 25;	/* round 3 now */
	struct oracle_beacon be = { .round = 3, .time = 1 };
	struct oracle_vr_result res;
	struct oracle_signer m;
	struct beacons *b;
	struct recs rs = { 0 };
	struct fresh *fr;
	uint8_t key[32], buf[ORACLE_BEACON_MAX_LEN], *ak;
	char mhex[ORACLE_NODE_ID_HEX];
	struct qopt q1 = { .key = key1, .clock = 1000, .beacon = be.value };
	struct qopt q3 = { .key = key1, .clock = 2000, .beacon = be.value };
	uint64_t stale;
	size_t len, aklen, nb;
	int ret;

	memset(key, 0x23, sizeof(key));
	assert_int_equal(0, oracle_signer_init(&m, key));
	feed_one(start, OD_FRESH_REQUIRED, &ak, &aklen);
	cfg.nnodes = 2;
	memcpy(cfg.nodes[1], m.pub, ORACLE_PUB_LEN);
	cfg.beacon_issue = false;
	cfg.beacon_period = 10;
	cfg.beacon_start = start;
	cfg.beacon_max_age = 1;
	cfg.retain_s = 7 * 86400;
	node_up();
	assert_int_equal(0, beacons_init(&b, &cfg, &st, &signer, ingest_fresh(in),
					 no_publish, NULL));
	memset(be.value, 0xb3, 32);
	assert_int_equal(0, oracle_beacon_sign(&be, &m));
	assert_int_equal(0, oracle_beacon_encode(&be, 0, buf, sizeof(buf), &len));
	oracle_hex(m.node_id, ORACLE_NODE_ID_LEN, mhex);
	beacons_message(b, mhex, buf, len);
	assert_int_equal(1, beacons_stats(b)->received);
	rt_base = (int64_t)(start + 21) * 1000000000;
	stream_init(&stale_s0, 0);
	add_desc(&rs, &stale_s0);
	add_sample(&rs, &stale_s0, 2100);
	add_sample(&rs, &stale_s0, 2200);
	add_checkpoints(&rs, (struct rstream *[]){ &stale_s0 }, 1, 1, &q1);
	add_sample(&rs, &stale_s0, 2400);
	add_checkpoints(&rs, (struct rstream *[]){ &stale_s0 }, 1, 2, &q3);
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(3, nreadings(0));
	if (prune)
		beacons_tick(b, (uint64_t)time(NULL));
	assert_int_equal(1, query_int("SELECT count(*) FROM beacon"
				      " WHERE ?1<>?2", 0, 0, -1));
	assert_int_equal(0, fresh_init(&fr, &cfg, &st));
	assert_int_equal(1, fresh_stats(fr)->known);
	fresh_fini(fr);
	ret = stale_round3(start, ak, aklen, &res, &nb, &stale, NULL, NULL);
	if (ret)
		fail_msg("prune %d: verify-report: %s", prune, res.why);
	assert_int_equal(1, nb);
	beacons_fini(b);
	oracle_signer_fini(&m);
	cfg.beacon_issue = false;
	cfg.retain_s = 86400;
	stale_feed_done(ak);
}

static void t_beacon_pruned(void **state)
{
	(void)state;
	beacon_pruned(false);
	beacon_pruned(true);
}

/*
 * Review 6: the gateway's retransmission of a skipped seq arrives before the
 * checkpoint that covers it (the usual order: retransmit_ms is seconds, a
 * checkpoint interval may be longer).  Kept, no verdict yet; then the
 * checkpoint comes, and the gateway retransmits the kept seqs again:
 * the kept records are tried again once a checkpoint of their chain
 * verifies, and fill.
 */
static void t_fill_waits(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 }, r2 = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	for (int i = 0; i < 6; i++)
		add_sample(&rs, &s0, 2160);	/* 6..11 */
	declare(0, 8, 9);			/* forged */
	publish_except(&rs, 8, 9);
	publish_only(&rs, 8, 9);		/* retransmitted: kept */
	assert_int_equal(0, is->filled);
	add_cp(&r2, &s0, 2, 2000);		/* 12 covers 8..11 */
	publish(&r2);
	for (int k = 0; k < 5; k++)
		publish_only(&rs, 8, 9);	/* the retransmissions */
	print_message("filled %" PRIu64 " refused %" PRIu64 " gaps %" PRId64
		      " acked %" PRId64 " nskip %u\n", (uint64_t)is->filled,
		      (uint64_t)is->fill_refused, ngap(), acked(0),
		      (unsigned)ack_entry(0)->nskip);
	assert_int_equal(2, is->filled);
	recs_free(&rs);
	recs_free(&r2);
	node_down();
}

/*
 * Review 6: restart when the newest verified checkpoint was quoted with
 * records appended meanwhile (its head is before the record just before
 * it: the module's usual case).  The records after it wait for the next
 * checkpoint across the restart.
 */
static void t_resume_late(void **state)
{
	char db[] = "/tmp/test_oracled_ingest_late.XXXXXX";
	struct recs rs = { 0 };
	struct rstream s0;
	struct qopt q = { .key = key1, .clock = 2000, .late = 1 };

	(void)state;
	rt_base = now_ns();
	db_create(db);
	node_up_at(db);
	chain_start(&rs, &s0);			/* 0..5 */
	add_sample(&rs, &s0, 2150);		/* 6 */
	add_checkpoints(&rs, (struct rstream *[]){ &s0 }, 1, 2, &q);	/* 7 late, 8 (head 6) */
	add_sample(&rs, &s0, 2150);		/* 9: pending */
	publish(&rs);
	recs_free(&rs);
	print_message("before restart: acked %" PRId64 " state 8 %d\n", acked(0),
		      rec_state(0, 8));
	node_down();
	node_up_at(db);
	add_cp(&rs, &s0, 3, 3000);		/* 10 */
	publish(&rs);
	recs_free(&rs);
	print_message("after: acked %" PRId64 " state 7 %d 9 %d 10 %d\n", acked(0),
		      rec_state(0, 7), rec_state(0, 9), rec_state(0, 10));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 9));
	node_down();
	db_remove(db);
}

/*
 * Review 7: the same restart, readings.  Checkpoint 5 was quoted with 4
 * appended meanwhile (its head is 3); the node restarts before 4 has its
 * verdict.  It resumes from 4 (resume_row), anchors at 5 and only then
 * takes 5's descriptor (the resume hint): 4 was chained without one and
 * gave no reading when 7 verified it, where the node before the restart,
 * and verify-report, decode it: round 3 settled 31.00 (1, 3, 6), the
 * bundle recomputed 30.00 (with 4's 0.99).
 */
static void t_resume_late_readings(void **state)
{
	char db[] = "/tmp/test_oracled_ingest_lr.XXXXXX";
	const uint64_t start = (uint64_t)time(NULL) - 200;
	struct qopt q = { .key = key1, .clock = 2000, .late = 1 };
	struct recs rs = { 0 };
	struct rstream s0;
	uint8_t *ak;
	size_t aklen;

	(void)state;
	feed_one(start, OD_FRESH_OFF, &ak, &aklen);
	rt_base = (int64_t)(start + 21) * 1000000000;	/* round 3 */
	db_create(db);
	node_up_at(db);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	add_sample(&rs, &s0, 3000);		/* 1 */
	add_cp(&rs, &s0, 1, 1000);		/* 2 */
	add_sample(&rs, &s0, 3100);		/* 3 */
	add_checkpoints(&rs, (struct rstream *[]){ &s0 }, 1, 2, &q);	/* 4 late (0.99), 5 (head 3) */
	add_sample(&rs, &s0, 3200);		/* 6: pending */
	publish(&rs);
	recs_free(&rs);
	node_down();
	node_up_at(db);
	add_cp(&rs, &s0, 3, 3000);		/* 7 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 4));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 6));
	assert_int_equal(1, nreading_seq(6));
	assert_int_equal(1, nreading_seq(4));
	round3_verifies(start, ak, aklen, 3000, 4, "restarted");
	free(ak);
	node_down();
	db_remove(db);
	feed_done();
}

/*
 * Review 7: the device re-attached while checkpoint 6's quote was taken:
 * its head is 2, then detach 3, descriptor 4 (segment 1) and sample 5
 * were appended before it.  A restart before 5 has its verdict resumes
 * from 3, anchors at 6 and must chain 4 as the descriptor in force (the
 * stored one at 6 is that same descriptor: taking it before 4 made 4 a
 * descriptor "not following" its own segment, BAD, and the gateway
 * quarantined).  5 and 8 give readings; nothing is BAD.
 */
static void t_resume_late_attach(void **state)
{
	char db[] = "/tmp/test_oracled_ingest_la.XXXXXX";
	struct attestio_cp_head h0;
	struct qopt q = { .key = key1, .clock = 2000 };
	struct recs rs = { 0 }, tmp = { 0 };
	struct rstream s0, snap;

	(void)state;
	rt_base = now_ns();
	db_create(db);
	node_up_at(db);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	add_sample(&rs, &s0, 3000);		/* 1 */
	add_sample(&rs, &s0, 3050);		/* 2 */
	snap = s0;				/* the quote's head: 2 */
	add_detach(&rs, &s0);			/* 3 */
	add_desc(&rs, &s0);			/* 4: segment 1 */
	add_sample(&rs, &s0, 3100);		/* 5 */
	/* checkpoint 6 over head 2: built on the snapshot, then chained */
	add_checkpoints(&tmp, (struct rstream *[]){ &snap }, 1, 1, &q);
	memcpy(&h0, tmp.r[0] + sizeof(struct attestio_rec_hdr) +
	       sizeof(struct attestio_checkpoint), sizeof(h0));
	assert_int_equal(2, le64toh(h0.seq));
	{
		struct attestio_rec_hdr hh;
		uint8_t *rec = recs_new(&rs, tmp.len[0]);

		memcpy(rec, tmp.r[0], tmp.len[0]);
		memcpy(&hh, rec, sizeof(hh));
		hh.seq = htole64(s0.seq);
		hh.realtime_ns = htole64(SIGNED_STREAM_REALTIME(&s0));
		memcpy(rec, &hh, sizeof(hh));
		attestio_chain_extend(s0.head, rec, tmp.len[0]);
		s0.seq++;
	}
	recs_free(&tmp);
	add_sample(&rs, &s0, 3200);		/* 7: pending */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 6));
	assert_int_equal(ATT_REC_PENDING, rec_state(0, 5));
	node_down();
	node_up_at(db);
	add_cp(&rs, &s0, 2, 3000);		/* 8 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 5));
	assert_int_equal(ATT_REC_VERIFIED, rec_state(0, 7));
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	assert_int_equal(1, nreading_seq(5));
	assert_int_equal(1, nreading_seq(7));
	node_down();
	db_remove(db);
}

/*
 * A node without feeds has no [quorum]: the beacons it issued itself (the
 * only ones it stores: others' are refused) count, so after a restart the
 * checkpoints covering them are still fresh (outage.sh scenarios after the
 * first failed "0 checkpoints covering an issued beacon" when the removed-
 * node filter left such a node no beacon at all).
 */
static void t_beacon_no_quorum(void **state)
{
	uint8_t v[32] = { 0x5e };
	struct fresh *fr;

	(void)state;
	node_up();
	assert_int_equal(0, cfg.nnodes);
	beacon_row_v(&signer, 1, v);
	assert_int_equal(0, fresh_init(&fr, &cfg, &st));
	assert_int_equal(1, fresh_stats(fr)->known);
	fresh_fini(fr);
	node_down();
}

/*
 * Review 6: kept records that can never get a verdict held the
 * per-gateway fill budget for good.  Stream 0 is joined late at 300 (the
 * gateway no longer holds 0..299); the broker sends 256 records of 16 KiB
 * with seqs in that join gap behind a genuine record 1 and a hole at 2:
 * the join-gap fill feeds from 1 and stops at the hole (t_join_fill_below),
 * so nothing judges or anchors them.  Then a forged
 * declaration on stream 1: the gateway's genuine records come again and
 * are not kept (budget full).  After OD_FILL_KEEP_S the junk is dropped,
 * and the next retransmission fills the gap.
 */
static void t_fill_budget(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 }, r1 = { 0 }, one = { 0 };
	struct rstream s0, s1;
	static uint8_t batch[15 * ATTESTIO_REC_MAX_LEN], ack[ORACLE_ACK_MAX_LEN];
	size_t acklen;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 1;
	node_up();
	is = ingest_stats(in);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);
	add_sample(&rs, &s0, 2150);		/* 1: held */
	memcpy(recs_new(&one, rs.len[1]), rs.r[1], rs.len[1]);
	for (int i = 0; i < 298; i++) {
		add_sample(&rs, &s0, 2150);	/* 2..299: gone */
		if (rs.n > 200)
			recs_free(&rs);
	}
	recs_free(&rs);
	for (int i = 0; i < 6; i++)
		add_sample(&rs, &s0, 2150);	/* 300..305 */
	add_cp(&rs, &s0, 1, 1000);		/* 306 */
	publish(&rs);				/* first sight: 300 */
	sleep(2);
	publish(&rs);				/* joins at 300 */
	assert_int_equal(306, acked(0));
	publish(&one);
	for (uint64_t q = 3; q <= 258;) {
		size_t n = 0;

		memset(batch, 0, sizeof(batch));
		for (int k = 0; k < 15 && q <= 258; k++, q++) {
			struct attestio_rec_hdr h = { 0 };
			/* the last one leaves the held record's room: full */
			uint32_t len = ATTESTIO_REC_MAX_LEN -
				       (q == 258 ? one.len[0] : 0);

			h.version = htole16(3);
			h.type = htole16(ATTESTIO_REC_SAMPLE);
			h.len = htole32(len);
			h.stream = htole32(0);
			h.seq = htole64(q);
			memcpy(batch + n, &h, sizeof(h));
			n += len;
		}
		assert_int_equal(0, ingest_message(in, gwid, batch, n, ack,
						   sizeof(ack), &acklen));
	}
	print_message("after junk: dropped %" PRIu64 " refused %" PRIu64 "\n",
		      (uint64_t)is->fill_dropped, (uint64_t)is->fill_refused);
	/* stream 1: a forged declaration, later the genuine records */
	stream_init(&s1, 1);
	add_desc(&r1, &s1);
	for (int i = 0; i < 12; i++)
		add_sample(&r1, &s1, 2150);	/* 1..12 */
	add_cp(&r1, &s1, 2, 2000);		/* 13 */
	declare(1, 8, 9);
	publish_sel(&r1, 8, 9, false);
	publish_sel(&r1, 8, 9, true);
	assert_int_equal(0, is->filled);	/* budget full */
	ingest_tick(in, (uint64_t)time(NULL) + OD_FILL_KEEP_S);
	publish_sel(&r1, 8, 9, true);		/* the next retransmission */
	print_message("stream 1: filled %" PRIu64 " dropped %" PRIu64 "\n",
		      (uint64_t)is->filled, (uint64_t)is->fill_dropped);
	assert_int_equal(2, is->filled);
	recs_free(&rs);
	recs_free(&r1);
	recs_free(&one);
	cfg.join_period_s = 0;
	node_down();
}

/* Stream 0 from seq @from: samples (@value) up to @cp - 1, checkpoint
 * @cp (epoch @epoch). */
static void epoch_to(struct recs *rs, struct rstream *s0, uint64_t cp,
		     int epoch, int value)
{
	while (s0->seq < cp)
		add_sample(rs, s0, value);
	add_cp(rs, s0, epoch, (uint32_t)epoch * 1000);
}

static int64_t gap_rows(const char *why)
{
	sqlite3_stmt *q = store_prep(&st, "SELECT coalesce(sum(last - first + 1), 0) "
				     "FROM gap WHERE gw=? AND why=?");
	int64_t v = -1;

	assert_non_null(q);
	sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, why, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/*
 * Released records (protocol.md; review 8, LOW): a node was away while
 * ack_quorum other nodes acked stream 0's 6..21 and the gateway deleted
 * them; the broker dropped what it had queued for the node.  Back, it
 * sees 22.. only: out of order, nothing taken, and it acks again (its
 * position, 5) so the gateway can tell it is stuck.  The gateway once
 * declared 8..9 lost (a hole the node stored; the gateway stopped
 * declaring it once acked past).  It declares the chain released up to
 * 21 and sends again from 22: the node skips 6..21, noting 6..7 and
 * 10..21 'released' and 8..9 'declared' (each seq once, audited), takes
 * 22.. and acks past the gap naming it; records after the checkpoint that
 * re-anchors the chain are VERIFIED and give readings.  A release of a
 * chain the node has passed changes nothing.  Without the release the
 * node stayed at 5 for good.
 */
static void t_released(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(5, acked(0));
	declare(0, 8, 9);
	epoch_to(&rs, &s0, 13, 2, 2150);	/* 6..13: acked by the others */
	recs_free(&rs);
	epoch_to(&rs, &s0, 21, 3, 2160);	/* 14..21: deleted as well */
	recs_free(&rs);
	epoch_to(&rs, &s0, 29, 4, 2170);	/* 22..29 */
	for (int i = 0; i < 3; i++)
		add_sample(&rs, &s0, 2180);	/* 30..32 */
	add_cp(&rs, &s0, 5, 5000);		/* 33 */
	memset(&last_ack, 0, sizeof(last_ack));
	publish(&rs);				/* 22..33: after a hole */
	assert_int_equal(6, nrec());
	assert_int_equal(5, acked(0));
	assert_true(is->reacks >= 1);		/* it says where it stands */
	assert_int_equal(1, last_ack.n);
	assert_int_equal(5, ack_entry(0)->upto);
	declare_released(0, 21);
	assert_int_equal(1, is->released_new);
	publish(&rs);				/* sent again after it */
	assert_int_equal(6 + 12, nrec());
	assert_int_equal(14, is->released);	/* 6..21 = 14 + 2 */
	assert_int_equal(2, is->declared_lost);
	assert_int_equal(14, gap_rows("released"));
	assert_int_equal(2, gap_rows("declared"));
	assert_int_equal(3, query_int("SELECT count(*) FROM gap WHERE gw=? AND gen=?",
				      0, 0, -1));
	assert_int_equal(2, query_int("SELECT count(*) FROM audit WHERE "
				      "event='quorum-released' AND subject=? AND ?=0",
				      0, 0, -1));
	assert_int_equal(33, acked(0));
	assert_int_equal(0, ack_entry(0)->from);
	assert_int_equal(1, ack_entry(0)->nskip);	/* adjacent: merged */
	assert_int_equal(6, ack_entry(0)->skip[0].first);
	assert_int_equal(21, ack_entry(0)->skip[0].last);
	for (uint64_t q = 29; q <= 33; q++)
		assert_int_equal(ATT_REC_VERIFIED, rec_state(0, q));
	assert_int_equal(1, nreading_seq(30));
	assert_int_equal(1, nreading_seq(32));
	for (uint64_t q = 6; q <= 21; q++)	/* nothing taken for them */
		assert_int_equal(-1, rec_state(0, q));
	assert_int_equal(0, query_int("SELECT count(*) FROM released WHERE gw=? "
				      "AND gen=?", 0, 0, -1));	/* used up */
	assert_int_equal(0, query_int("SELECT count(*) FROM hole WHERE gw=? "
				      "AND gen=?", 0, 0, -1));
	declare_released(0, 30);		/* passed: not stored */
	assert_int_equal(1, is->released_new);
	assert_int_equal(0, query_int("SELECT count(*) FROM released WHERE gw=? "
				      "AND gen=?", 0, 0, -1));
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	recs_free(&rs);
	node_down();
}

/*
 * Review 12: a hole the gateway grows (on_full = drop-oldest: "one growing
 * hole per chain", spool.c drop_upto(), and adjacent holes merged in
 * spool_loss()) is declared again with the same first and a higher last.
 * A node that stored the first version (it lacked those records: a queue
 * the broker dropped) must take the growth: ignoring it (INSERT OR IGNORE
 * on (gw, chain, first)) left it waiting for seqs nobody will send again,
 * for good, and with ack_quorum = the nodes the gateway then never deleted
 * a record of the chain on its acks (it only drops them, unacked).
 */
static void t_hole_grows(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(5, acked(0));
	for (int i = 0; i < 6; i++)
		add_sample(&rs, &s0, 2150);	/* 6..11 */
	add_cp(&rs, &s0, 2, 2000);		/* 12 */
	declare(0, 6, 7);			/* the first drop */
	declare(0, 6, 9);			/* the next: the hole grew */
	publish_except(&rs, 6, 9);		/* 10..12, sent again */
	assert_int_equal(4, is->declared_lost);	/* 6..9 */
	assert_int_equal(12, acked(0));
	assert_int_equal(1, ack_entry(0)->nskip);
	assert_int_equal(6, ack_entry(0)->skip[0].first);
	assert_int_equal(9, ack_entry(0)->skip[0].last);
	recs_free(&rs);
	node_down();
}

/*
 * Released records for a node that acked nothing of the chain: it got
 * stream 0's 0..3 (no checkpoint yet: no final verdict) and went away;
 * the others acked 4..21 and the gateway deleted them.  Back, it sees
 * 22.. after a hole: its ack has an entry that states nothing (from =
 * upto + 1 = 4) but says where it stands, so the gateway finds it stuck
 * and declares the chain released up to 21; the node skips 4..21 and
 * takes 22.. .  Before, it sent no entry for the chain and stayed there.
 */
static void t_released_unacked(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 };
	struct rstream s0;

	(void)state;
	rt_base = now_ns();
	node_up();
	is = ingest_stats(in);
	stream_init(&s0, 0);
	add_desc(&rs, &s0);			/* 0 */
	for (int i = 0; i < 3; i++)
		add_sample(&rs, &s0, 2150);	/* 1..3 */
	publish(&rs);
	recs_free(&rs);
	assert_int_equal(4, nrec());
	assert_true(acked(0) < 0);
	epoch_to(&rs, &s0, 5, 1, 2150);		/* 4..5: acked by the others */
	recs_free(&rs);
	epoch_to(&rs, &s0, 21, 2, 2150);	/* 6..21 */
	recs_free(&rs);
	epoch_to(&rs, &s0, 29, 3, 2170);	/* 22..29 */
	for (int i = 0; i < 3; i++)
		add_sample(&rs, &s0, 2180);	/* 30..32 */
	add_cp(&rs, &s0, 4, 4000);		/* 33 */
	memset(&last_ack, 0, sizeof(last_ack));
	publish(&rs);				/* 22..33: after a hole */
	assert_int_equal(4, nrec());
	assert_true(is->reacks >= 1);
	assert_int_equal(1, last_ack.n);	/* where it stands */
	assert_int_equal(3, ack_entry(0)->upto);
	assert_int_equal(4, ack_entry(0)->from);
	assert_int_equal(0, ack_entry(0)->nskip);
	declare_released(0, 21);
	publish(&rs);				/* sent again after it */
	assert_int_equal(4 + 12, nrec());
	assert_int_equal(18, is->released);	/* 4..21 */
	assert_int_equal(33, acked(0));
	assert_int_equal(0, ack_entry(0)->from);
	assert_int_equal(1, ack_entry(0)->nskip);
	assert_int_equal(4, ack_entry(0)->skip[0].first);
	assert_int_equal(21, ack_entry(0)->skip[0].last);
	for (uint64_t q = 29; q <= 33; q++)
		assert_int_equal(ATT_REC_VERIFIED, rec_state(0, q));
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	recs_free(&rs);
	node_down();
}

/*
 * A broker forges a release (it dropped 6..13 towards the node and names
 * the chain released up to 13): the node skips them as released and acks
 * past, naming the skip, as with a forged loss declaration; the gateway
 * still holds them (it counts the entry only below 6) and sends them: the
 * node sees them come again (skip-refuted), verifies them against the
 * chain and takes them (gap fill); its ack then skips nothing.  A release
 * also lets a chain first seen after its start join at once: stream 1,
 * released up to 6, first seen at its checkpoint 7, joins at 7 without
 * waiting join_period (its acks say from 7).
 */
static void t_released_forged(void **state)
{
	const struct ingest_stats *is;
	struct recs rs = { 0 }, r1 = { 0 };
	struct rstream s0, s1;

	(void)state;
	rt_base = now_ns();
	cfg.join_period_s = 60;
	node_up();
	is = ingest_stats(in);
	chain_start(&rs, &s0);			/* 0..5 */
	epoch_to(&rs, &s0, 13, 2, 2150);	/* 6..13 */
	epoch_to(&rs, &s0, 21, 3, 2160);	/* 14..21 */
	publish_only(&rs, 0, 5);
	declare_released(0, 13);		/* forged */
	publish_except(&rs, 6, 13);
	assert_int_equal(8, is->released);
	assert_int_equal(21, acked(0));
	assert_int_equal(1, ack_entry(0)->nskip);
	assert_int_equal(6, ack_entry(0)->skip[0].first);
	assert_int_equal(13, ack_entry(0)->skip[0].last);
	publish_only(&rs, 6, 13);		/* the gateway held them */
	assert_int_equal(8, is->skip_refuted);
	assert_int_equal(1, query_int("SELECT count(*) FROM audit WHERE "
				      "event='skip-refuted' AND subject=? AND ?=0",
				      0, 0, -1));
	assert_int_equal(8, is->filled);
	for (uint64_t q = 6; q <= 13; q++)
		assert_int_equal(ATT_REC_VERIFIED, rec_state(0, q));
	assert_int_equal(0, ngap());
	assert_int_equal(21, ack_entry(0)->upto);
	assert_int_equal(0, ack_entry(0)->nskip);
	assert_int_equal(GW_ACTIVE, registry_at(reg, 0)->state);
	/* stream 1: released up to 3, first seen at 4 (its chain named by
	 * the checkpoint at 7): joined at once */
	stream_init(&s1, 1);
	add_desc(&r1, &s1);			/* 0 */
	for (int i = 0; i < 6; i++)
		add_sample(&r1, &s1, 2150);	/* 1..6 */
	add_cp(&r1, &s1, 4, 4000);		/* 7 */
	declare_released(1, 6);
	publish_sel(&r1, 7, 7, true);		/* first sight: 7 */
	assert_int_equal(7, is->released - 8);
	assert_int_equal(0, is->join_wait);
	assert_int_equal(7, ack_entry(1)->from);
	assert_int_equal(7, ack_entry(1)->upto);
	recs_free(&rs);
	recs_free(&r1);
	cfg.join_period_s = 0;
	node_down();
}

/*
 * A loss declaration refused inside a group commit (its released chains
 * would pass OD_MAX_HOLES_GW) undoes only itself: the group's earlier
 * message stays stored and the group commits.  It ran ROLLBACK on the
 * group's own transaction: the records were gone, the chain state had
 * moved on, and the retransmission was acked as stored (review 9, H1).
 */
static void t_group_loss_refused(void **state)
{
	static struct oracle_loss l;
	static uint8_t b[ORACLE_LOSS_MAX_LEN];
	struct recs rs = { 0 };
	struct rstream s0;
	size_t len;
	int rc = 0;

	(void)state;
	rt_base = now_ns();
	node_up();
	assert_int_equal(0, store_group_begin(&st));
	ingest_defer_acks(in, true);
	chain_start(&rs, &s0);			/* 0..5 */
	publish(&rs);				/* message 1 of the group */
	assert_int_equal(6, nrec());
	assert_int_equal(0, oracle_unhex(gwid, l.gw, 16));
	for (uint64_t m = 0; m <= OD_MAX_HOLES_GW / ORACLE_LOSS_MAX_RELEASED; m++) {
		l.n = 0;
		l.nrel = ORACLE_LOSS_MAX_RELEASED;
		for (size_t i = 0; i < l.nrel; i++)
			l.rel[i] = (struct oracle_released){ (1ull << 40) + m * 100000 + i,
							     0, 0, 5 };
		assert_int_equal(0, oracle_loss_encode(&l, b, sizeof(b), &len));
		rc = ingest_loss(in, gwid, b, len);	/* messages 2..6 */
	}
	assert_int_equal(-EBADMSG, rc);		/* the last one refused */
	nflushed = 0;
	assert_int_equal(1, ingest_flush_acks(in, flush_out, NULL));
	ingest_defer_acks(in, false);
	assert_int_equal(0, store_group_end(&st));
	assert_int_equal(6, nrec());		/* still stored */
	assert_int_equal(5, acked(0));
	assert_int_equal(5, flushed.e[0].upto);
	recs_free(&rs);
	node_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_rescale),
		cmocka_unit_test(t_deferred_acks),
		cmocka_unit_test(t_group_loss_refused),
		cmocka_unit_test(t_pin_identity),
		cmocka_unit_test(t_pin_type),
		cmocka_unit_test(t_restart_readings),
		cmocka_unit_test(t_verdict_chain),
		cmocka_unit_test(t_future),
		cmocka_unit_test(t_clock_drift),
		cmocka_unit_test(t_policy_explained),
		cmocka_unit_test(t_gw_status),
		cmocka_unit_test(t_not_admitted),
		cmocka_unit_test(t_tiers),
		cmocka_unit_test(t_declared_lost),
		cmocka_unit_test(t_late_join),
		cmocka_unit_test(t_released),
		cmocka_unit_test(t_released_unacked),
		cmocka_unit_test(t_hole_grows),
		cmocka_unit_test(t_released_forged),
		cmocka_unit_test(t_beacon_one_per_round),
		cmocka_unit_test(t_beacon_copied),
		cmocka_unit_test(t_rotation_unproven),
		cmocka_unit_test(t_loss_bounded),
		cmocka_unit_test(t_stale_round),
		cmocka_unit_test(t_bundle_beacons_aged),
		cmocka_unit_test(t_beacons_many_stale),
		cmocka_unit_test(t_round_fail_quiet),
		cmocka_unit_test(t_beacon_pruned),
		cmocka_unit_test(t_beacon_removed_node),
		cmocka_unit_test(t_beacon_no_quorum),
		cmocka_unit_test(t_round_cost_flat),
		cmocka_unit_test(t_ack_cut),
		cmocka_unit_test(t_gap_fill),
		cmocka_unit_test(t_fill_refused),
		cmocka_unit_test(t_join_fill),
		cmocka_unit_test(t_join_fill_below),
		cmocka_unit_test(t_forged_unsigned_anchor),
		cmocka_unit_test(t_join_acked),
		cmocka_unit_test(t_fill_round),
		cmocka_unit_test(t_gap_round),
		cmocka_unit_test(t_bundle_bounded),
		cmocka_unit_test(t_bundle_window_start),
		cmocka_unit_test(t_bundle_resync_in_window),
		cmocka_unit_test_prestate(t_gap_resume_state, &restart_no),
		cmocka_unit_test_prestate(t_gap_resume_state, &restart_yes),
		cmocka_unit_test(t_gap_round_filled),
		cmocka_unit_test(t_pin_identity_round),
		cmocka_unit_test(t_future_round),
		cmocka_unit_test(t_drift_round),
		cmocka_unit_test_prestate(t_gap_round_join, &prune_no),
		{ "t_gap_round_join_pruned", t_gap_round_join, NULL, NULL,
		  &prune_yes },
		cmocka_unit_test(t_gap_round_join_unnamed),
		cmocka_unit_test(t_join_unnamed_other_chain),
		cmocka_unit_test(t_gap_round_other_stream),
		cmocka_unit_test(t_gap_round_migrated),
		cmocka_unit_test(t_fill_waits),
		cmocka_unit_test(t_fill_budget),
		cmocka_unit_test(t_resume_late),
		cmocka_unit_test(t_resume_late_readings),
		cmocka_unit_test(t_resume_late_attach),
	};

	setenv("TSS2_LOG", "all+NONE", 1);
	return cmocka_run_group_tests_name("oracled_ingest", tests, setup, teardown);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for attestiod's spool (user/attestiod/spool.c, built in):
 * nothing is published before it is written, a restart resumes, records go
 * only when ack_quorum distinct nodes acked them, acks for seqs never sent
 * change nothing, the size bound stops or drops the oldest as configured,
 * chains learned late are resolved, acked records are deleted however
 * many there are (in chunks) and, when acks were recorded before a crash,
 * at the next start; acks past a skip the gateway did not declare count
 * only below the records it still holds; a node stuck below the oldest
 * record the quorum let go of is declared what was released, and the
 * chain held for it until it has the oldest record (or the hold ends).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "ack.h"
#include "attestiod.h"
#include "loss.h"

struct metrics M;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

static struct config cfg;
static char dir[] = "/tmp/attestiod-spool-XXXXXX";
static uint8_t rec[64], out[BATCH_MAX_BYTES];
static struct oracle_ack ack;

static int setup(void **st)
{
	(void)st;
	memset(&M, 0, sizeof(M));
	memset(&cfg, 0, sizeof(cfg));
	strcpy(dir, "/tmp/attestiod-spool-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg.spool_path, sizeof(cfg.spool_path), "%s/spool.db", dir);
	cfg.sync_records = 1000;
	cfg.sync_ms = 1000;
	cfg.max_bytes = 1 << 20;
	cfg.nnodes = 2;
	cfg.ack_quorum = 2;
	strcpy(cfg.node_ids[0], "node0");
	strcpy(cfg.node_ids[1], "node1");
	return 0;
}

static int teardown(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void add(struct spool *s, uint32_t stream, uint64_t seq)
{
	struct rec_meta m = { .instance = 9, .stream = stream, .gen = 1,
			      .seq = seq, .kind = RK_CHAINED };

	memset(rec, (int)seq, sizeof(rec));
	assert_int_equal(0, spool_add(s, &m, rec, sizeof(rec)));
}

static unsigned int next(struct spool *s)
{
	size_t len = 0;
	unsigned int n = 0;

	assert_int_equal(0, spool_next(s, out, sizeof(out), &len, &n));
	assert_int_equal(n * sizeof(rec), len);
	return n;
}

/* An ack entry from @from to @upto, skipping @skf..@skl if skl >= 0. */
static void ackx(struct spool *s, int node, uint32_t stream, uint64_t upto,
		 uint64_t from, int64_t skf, int64_t skl)
{
	memset(&ack, 0, sizeof(ack));
	ack.n = 1;
	ack.e[0] = (struct oracle_ack_entry){ .instance = 9, .stream = stream,
					      .generation = 1, .upto = upto,
					      .from = from };
	if (skl >= 0) {
		ack.e[0].nskip = 1;
		ack.e[0].skip[0] = (struct oracle_ack_skip){ (uint64_t)skf,
							     (uint64_t)skl };
	}
	spool_ack(s, node, &ack);
}

static void ack1(struct spool *s, int node, uint32_t stream, uint64_t upto)
{
	ackx(s, node, stream, upto, 0, 0, -1);
}

static void test_publish_after_sync(void **st)
{
	struct spool *s;

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 10; i++)
		add(s, 0, (uint64_t)i);
	assert_false(spool_has_unsent(s));
	assert_int_equal(0, next(s));		/* not written: not published */
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(10, M.records_spooled);
	assert_true(spool_has_unsent(s));
	assert_int_equal(10, next(s));
	assert_false(spool_has_unsent(s));
	assert_int_equal(9, spool_chain_last(s, 9, 0, 1));
	spool_fini(s);
}

/* The spool emptied by acks: what comes next is published without waiting
 * for a retransmission (ids are never reused below the send cursor). */
static void test_publish_after_drained(void **st)
{
	struct spool *s;

	(void)st;
	cfg.ack_quorum = 1;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 4; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(4, next(s));
	ack1(s, 0, 0, 3);
	assert_true(spool_empty(s));
	for (int i = 4; i < 6; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_true(spool_has_unsent(s));
	assert_int_equal(2, next(s));
	assert_int_equal(4, out[0]);
	spool_fini(s);
}

static void test_restart_resumes(void **st)
{
	struct spool *s;

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 5; i++)
		add(s, 3, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	add(s, 3, 5);				/* never synced: gone on a crash */
	spool_fini(s);
	assert_int_equal(0, spool_init(&s, &cfg));
	assert_int_equal(5, M.spool_records);
	assert_int_equal(4, spool_chain_last(s, 9, 3, 1));
	assert_int_equal(5, next(s));
	assert_memory_equal(out + 4 * sizeof(rec), (uint8_t[64]){ [0 ... 63] = 4 }, 64);
	spool_fini(s);
}

static void test_quorum(void **st)
{
	struct spool *s;

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 10; i++)
		add(s, 1, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(1, spool_oldest(s));	/* ids from 1: seq + 1 */
	ack1(s, 0, 1, 4);			/* not sent yet: ignored */
	assert_int_equal(1, M.acks_unsent);
	assert_int_equal(10, next(s));
	ack1(s, 0, 1, 20);			/* beyond what was sent */
	assert_int_equal(2, M.acks_unsent);
	assert_int_equal(10, M.spool_records);
	ack1(s, 0, 1, 6);			/* one node of two */
	assert_int_equal(10, M.spool_records);
	ack1(s, 0, 1, 8);			/* the same node again */
	assert_int_equal(10, M.spool_records);
	assert_int_equal(1, spool_oldest(s));
	ack1(s, 1, 1, 4);			/* quorum up to 4 */
	assert_int_equal(5, M.spool_records);
	assert_int_equal(5, M.records_acked);
	assert_int_equal(6, spool_oldest(s));	/* read again after the delete */
	ack1(s, 1, 1, 9);			/* node 0 is at 8 */
	assert_int_equal(1, M.spool_records);
	assert_int_equal(10, spool_oldest(s));
	spool_rewind(s);			/* retransmission: what is left */
	assert_int_equal(1, next(s));
	assert_int_equal(9, out[0]);
	spool_fini(s);
}

static void test_bound_stop(void **st)
{
	struct spool *s;

	(void)st;
	cfg.max_bytes = 10 * sizeof(rec);
	cfg.on_full = ON_FULL_STOP;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 8; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	for (int i = 8; i < 12; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(-ENOSPC, spool_sync(s));
	assert_int_equal(1, M.alarm_spool_full);
	assert_int_equal(4, spool_unsynced(s));	/* kept, not dropped */
	assert_true(spool_tick(s, now_ms()));	/* reading stops */
	assert_int_equal(0, M.records_dropped);
	spool_fini(s);
}

static void test_bound_drop_oldest(void **st)
{
	struct spool *s;

	(void)st;
	cfg.max_bytes = 10 * sizeof(rec);
	cfg.on_full = ON_FULL_DROP_OLDEST;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 8; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	for (int i = 8; i < 12; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(1, M.alarm_spool_full);
	assert_int_equal(2, M.records_dropped);
	assert_int_equal(10, M.spool_records);
	assert_int_equal(10, next(s));
	assert_int_equal(2, out[0]);		/* the newest kept */
	spool_fini(s);
}

/* The one hole of @l: stream @stream, seqs @first..@last. */
static void one_hole(const struct oracle_loss *l, uint32_t stream,
		     uint64_t first, uint64_t last)
{
	assert_int_equal(1, l->n);
	assert_int_equal(stream, l->h[0].stream);
	assert_int_equal(9, l->h[0].instance);
	assert_int_equal(1, l->h[0].generation);
	assert_int_equal(first, l->h[0].first);
	assert_int_equal(last, l->h[0].last);
}

/*
 * Records dropped unacked (on_full = drop-oldest) are declared lost by
 * seq, so a node lacking them skips them instead of waiting for good:
 * spooled ones at the size bound, the oldest of a batch too large alone
 * (one hole for adjacent seqs), and spooled ones past max_age.  The
 * declaration changes (published again); the holes survive a restart.
 */
static void test_drop_declared(void **st)
{
	static struct oracle_loss l;
	struct spool *s;
	uint64_t ver;

	(void)st;
	cfg.max_bytes = 10 * sizeof(rec);
	cfg.on_full = ON_FULL_DROP_OLDEST;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 8; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	ver = spool_loss_ver(s);
	for (int i = 8; i < 12; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(2, M.records_dropped);
	assert_true(spool_loss_ver(s) != ver);
	assert_int_equal(1, spool_loss(s, &l));
	one_hole(&l, 0, 0, 1);
	spool_fini(s);
	assert_int_equal(0, spool_init(&s, &cfg));	/* kept on disk */
	assert_int_equal(1, spool_loss(s, &l));
	one_hole(&l, 0, 0, 1);
	for (int i = 12; i < 15; i++)		/* the next drop: one hole */
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(5, M.records_dropped);
	assert_int_equal(1, spool_loss(s, &l));
	one_hole(&l, 0, 0, 4);
	assert_int_equal(1, M.holes_open);
	spool_fini(s);
	teardown(NULL);
	setup(NULL);

	/* a batch too large alone: its 3 oldest go */
	cfg.max_bytes = 4 * sizeof(rec);
	cfg.on_full = ON_FULL_DROP_OLDEST;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 7; i++)
		add(s, 3, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(3, M.records_dropped);
	assert_int_equal(4, M.spool_records);
	assert_int_equal(1, spool_loss(s, &l));
	one_hole(&l, 3, 0, 2);
	spool_fini(s);
	teardown(NULL);
	setup(NULL);

	/* past max_age */
	cfg.max_age_s = 1;
	cfg.on_full = ON_FULL_DROP_OLDEST;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 5; i++)
		add(s, 2, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	spool_tick(s, now_ms() + 2500);
	assert_int_equal(5, M.records_dropped);
	assert_int_equal(0, M.spool_records);
	assert_int_equal(1, spool_loss(s, &l));
	one_hole(&l, 2, 0, 4);
	spool_fini(s);
}

/*
 * Review 12: a batch too large alone drops its oldest records, declared
 * lost (holes written with the batch).  When every record of a chain in
 * the batch went, the chain table did not learn their seqs: after a
 * restart spool_chain_last() (what source.c dedups a re-read log against)
 * said the chain ended below them, so the daemon spooled and sent again
 * records its own loss declaration names gone.
 */
static void test_drop_batch_chain_last(void **st)
{
	static struct oracle_loss l;
	struct spool *s;

	(void)st;
	cfg.max_bytes = 4 * sizeof(rec);
	cfg.on_full = ON_FULL_DROP_OLDEST;
	assert_int_equal(0, spool_init(&s, &cfg));
	add(s, 5, 0);
	add(s, 5, 1);
	for (int i = 0; i < 4; i++)
		add(s, 6, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(2, M.records_dropped);
	assert_int_equal(1, spool_loss(s, &l));
	assert_int_equal(5, l.h[0].stream);
	assert_int_equal(1, l.h[0].last);
	spool_fini(s);
	assert_int_equal(0, spool_init(&s, &cfg));	/* a restart */
	assert_int_equal(1, spool_chain_last(s, 9, 5, 1));
	spool_fini(s);
}

static void test_resolve(void **st)
{
	struct spool *s;
	struct rec_meta m = { .stream = 5, .seq = 40, .kind = RK_UNRESOLVED };

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	assert_int_equal(0, spool_add(s, &m, rec, sizeof(rec)));
	assert_int_equal(0, spool_sync(s));
	m.seq = 41;
	assert_int_equal(0, spool_add(s, &m, rec, sizeof(rec)));
	assert_int_equal(0, spool_resolve(s, 5, 9, 1));
	assert_int_equal(41, spool_chain_last(s, 9, 5, 1));
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(2, next(s));
	ack1(s, 0, 5, 41);
	ack1(s, 1, 5, 41);
	assert_int_equal(0, M.spool_records);
	spool_fini(s);
}

/* A spool with seqs 0..@n-1 of @stream written and sent. */
static struct spool *sent_chain(uint32_t stream, int n)
{
	struct spool *s;

	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < n; i++)
		add(s, stream, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(n, next(s));
	return s;
}

/*
 * The broker dropped seqs 4..5 towards the nodes and forged a loss
 * declaration naming them: the nodes skipped them and ack past.  The
 * gateway holds 4..5, so the acks count only up to 3; a hole it declared
 * itself (never spooled) is accepted.
 */
static void test_skip_forged(void **st)
{
	struct spool *s;
	struct rec_meta m = { .instance = 9, .stream = 2, .gen = 1,
			      .kind = RK_CHAINED };

	(void)st;
	s = sent_chain(1, 10);
	ackx(s, 0, 1, 9, 0, 4, 5);
	ackx(s, 1, 1, 9, 0, 4, 5);
	assert_int_equal(2, M.acks_skip_mismatch);
	assert_int_equal(6, M.spool_records);	/* 4..9 kept */
	spool_rewind(s);
	assert_int_equal(6, next(s));
	assert_int_equal(4, out[0]);		/* and sent again */
	ack1(s, 0, 1, 9);			/* the nodes got them after all */
	ack1(s, 1, 1, 9);
	assert_int_equal(0, M.spool_records);
	assert_int_equal(2, M.acks_skip_mismatch);

	/* a real hole: 4..6 of stream 2 gone before the gateway read them */
	for (int i = 0; i < 10; i++) {
		if (i == 7) {
			m.seq = 7;
			assert_int_equal(0, spool_hole(s, &m, 4, 6));
		}
		if (i < 4 || i > 6)
			add(s, 2, (uint64_t)i);
	}
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(7, next(s));
	ackx(s, 0, 2, 9, 0, 4, 6);
	ackx(s, 1, 2, 9, 0, 4, 6);
	assert_int_equal(2, M.acks_skip_mismatch);
	assert_int_equal(0, M.spool_records);
	assert_int_equal(0, M.holes_open);
	spool_fini(s);
}

/*
 * The broker withheld a chain's first records from every node for
 * join_period: they joined at 5 and ack "from 5".  The gateway holds 0..4:
 * nothing is deleted.  A node that joined after the others' acks took the
 * chain's head is accepted.
 */
static void test_join_withheld(void **st)
{
	struct spool *s;

	(void)st;
	s = sent_chain(1, 10);
	ackx(s, 0, 1, 9, 5, 0, -1);
	ackx(s, 1, 1, 9, 5, 0, -1);
	assert_int_equal(2, M.acks_skip_mismatch);
	assert_int_equal(10, M.spool_records);
	ack1(s, 0, 1, 4);			/* both got the head: 0..4 go */
	ack1(s, 1, 1, 4);
	assert_int_equal(5, M.spool_records);
	ack1(s, 0, 1, 9);
	ackx(s, 1, 1, 9, 5, 0, -1);		/* a late join past what is gone */
	assert_int_equal(2, M.acks_skip_mismatch);
	assert_int_equal(0, M.spool_records);
	spool_fini(s);
}

/* 1000 records acked at once go, though they are deleted 256 per
 * transaction. */
static void test_gc_chunks(void **st)
{
	struct spool *s;

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 1000; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(1000, next(s));
	ack1(s, 0, 0, 998);
	assert_int_equal(1000, M.spool_records);	/* one node: no quorum */
	ack1(s, 1, 0, 998);
	assert_int_equal(1, M.spool_records);
	assert_int_equal(999, M.records_acked);
	ack1(s, 0, 0, 999);
	ack1(s, 1, 0, 999);
	assert_true(spool_empty(s));
	spool_fini(s);
}

/* Acks recorded (table ack) whose records were not deleted yet when the
 * daemon stopped: the next start deletes them.  A node no longer in the
 * configuration ('gone', acked everything) counts toward no quorum. */
static void test_gc_at_start(void **st)
{
	struct spool *s;
	sqlite3 *db;

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 600; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	spool_fini(s);
	assert_int_equal(SQLITE_OK, sqlite3_open(cfg.spool_path, &db));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, "INSERT INTO ack VALUES"
		"('node0', 9, 0, 1, 499), ('node1', 9, 0, 1, 520), "
		"('gone', 9, 0, 1, 599)", NULL, NULL, NULL));
	sqlite3_close(db);
	assert_int_equal(0, spool_init(&s, &cfg));
	assert_int_equal(600, M.spool_records);
	spool_tick(s, now_ms());
	assert_int_equal(100, M.spool_records);	/* the quorum acked 0..499 */
	assert_int_equal(500, M.records_acked);
	spool_fini(s);
}

/* One daemon per spool: a second spool_init() on the same file, while the
 * first holds it, is refused and changes nothing; another program cannot
 * write behind the daemon's back either.  After spool_fini() it opens. */
static void test_spool_exclusive(void **st)
{
	struct spool *s, *s2 = NULL;
	sqlite3 *db;

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i < 10; i++)
		add(s, 0, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_not_equal(0, spool_init(&s2, &cfg));
	assert_int_equal(SQLITE_OK, sqlite3_open(cfg.spool_path, &db));
	sqlite3_busy_timeout(db, 100);
	assert_int_not_equal(SQLITE_OK, sqlite3_exec(db, "DELETE FROM rec",
						     NULL, NULL, NULL));
	sqlite3_close(db);
	spool_fini(s);
	assert_int_equal(0, spool_init(&s, &cfg));
	assert_int_equal(10, M.spool_records);
	spool_fini(s);
}

/*
 * Five declared holes: the nodes' acks list four and are cut below the
 * fifth, the next acks state from the cut on (t_ack_cut in
 * test_oracled_ingest).  Every record and every hole goes, nothing is
 * counted as a mismatch.
 */
static void test_ack_cut(void **st)
{
	struct spool *s;
	struct rec_meta m = { .instance = 9, .stream = 4, .gen = 1,
			      .kind = RK_CHAINED };

	(void)st;
	assert_int_equal(0, spool_init(&s, &cfg));
	for (int i = 0; i <= 25; i++) {
		if (i >= 7 && i <= 15 && (i % 2))
			continue;
		if (i >= 8 && i <= 16 && !(i % 2)) {
			m.seq = (uint64_t)i;
			assert_int_equal(0, spool_hole(s, &m, (uint64_t)i - 1,
						       (uint64_t)i - 1));
		}
		add(s, 4, (uint64_t)i);
	}
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(21, next(s));
	assert_int_equal(5, M.holes_open);
	for (int n = 0; n < 2; n++) {
		memset(&ack, 0, sizeof(ack));
		ack.n = 1;
		ack.e[0] = (struct oracle_ack_entry){ .instance = 9, .stream = 4,
			.generation = 1, .upto = 14, .from = 0, .nskip = 4,
			.skip = { {7, 7}, {9, 9}, {11, 11}, {13, 13} } };
		spool_ack(s, n, &ack);
	}
	assert_int_equal(10, M.spool_records);	/* 16..25 left: cut at 14 */
	assert_int_equal(1, M.holes_open);
	for (int n = 0; n < 2; n++)
		ackx(s, n, 4, 25, 15, 15, 15);
	assert_int_equal(0, M.spool_records);
	assert_int_equal(0, M.holes_open);
	assert_int_equal(0, M.acks_skip_mismatch);
	spool_fini(s);
}

/* A third node (ack_quorum stays 2), retransmit_ms 50. */
static void three_nodes(void)
{
	cfg.nnodes = 3;
	strcpy(cfg.node_ids[2], "node2");
	cfg.retransmit_ms = 50;
}

/* Stream 1 seqs @from..@to added, written and sent. */
static void more(struct spool *s, int from, int to)
{
	for (int i = from; i <= to; i++)
		add(s, 1, (uint64_t)i);
	assert_int_equal(0, spool_sync(s));
	assert_int_equal(to - from + 1, next(s));
}

/* Node 2 acked stream 1 to 3; nodes 0 and 1 acked 0..9, deleted; 10..14
 * sent; node 2 acks 3 again: below the released point 9. */
static struct spool *lagging(void)
{
	struct spool *s;

	three_nodes();
	s = sent_chain(1, 10);
	ack1(s, 2, 1, 3);
	ack1(s, 0, 1, 9);
	ack1(s, 1, 1, 9);
	assert_int_equal(0, M.spool_records);
	more(s, 10, 14);
	ack1(s, 2, 1, 3);
	return s;
}

/*
 * Released records (protocol.md): three nodes, ack_quorum 2.  Node 2
 * acked stream 1 to 3; nodes 0 and 1 acked 0..9 and the gateway deleted
 * them: node 2 lacks 4..9 for good (the broker dropped its queue).  Its
 * acks repeat 3 (a node acks again when records come after a hole it may
 * not skip); once that lasted retransmit_ms it is stuck: the chain is
 * declared released up to 9 (the loss declaration names it, once per
 * stuck spell), held from 10 for node 2 (the quorum acking 10..14 deletes
 * nothing), and sent again (spool_restate).  A broker's forged release
 * past 9 still counts only below what is held; node 2 skipping exactly
 * 4..9 and taking 10..14 ends the hold: the records go, the declaration
 * names the chain no more.  Review 8 (LOW): without it node 2 stayed at 3.
 */
static void test_release_stuck(void **st)
{
	static struct oracle_loss l;
	struct spool *s;
	uint64_t ver;

	(void)st;
	s = lagging();
	usleep(20000);
	ack1(s, 2, 1, 3);			/* not for retransmit_ms yet */
	assert_false(spool_restate(s));
	assert_int_equal(0, M.releases_declared);
	usleep(60000);
	ver = spool_loss_ver(s);
	ack1(s, 2, 1, 3);			/* stuck */
	assert_true(spool_restate(s));
	assert_false(spool_restate(s));
	assert_int_equal(1, M.releases_declared);
	assert_int_equal(1, M.release_holds);
	assert_true(spool_loss_ver(s) != ver);
	assert_int_equal(0, spool_loss(s, &l));	/* no hole */
	assert_int_equal(1, l.nrel);
	assert_int_equal(9, l.rel[0].instance);
	assert_int_equal(1, l.rel[0].stream);
	assert_int_equal(1, l.rel[0].generation);
	assert_int_equal(9, l.rel[0].last);
	ack1(s, 0, 1, 14);			/* the quorum: held for node 2 */
	ack1(s, 1, 1, 14);
	assert_int_equal(5, M.spool_records);
	assert_int_equal(10, M.records_acked);	/* 0..9 only */
	spool_rewind(s);			/* sent again */
	assert_int_equal(5, next(s));
	assert_int_equal(10, out[0]);
	usleep(60000);
	ack1(s, 2, 1, 3);			/* held: declared once */
	assert_int_equal(1, M.releases_declared);
	assert_false(spool_restate(s));
	ackx(s, 2, 1, 14, 0, 4, 11);		/* a forged release past 9 */
	assert_int_equal(1, M.acks_skip_mismatch);
	assert_int_equal(5, M.spool_records);	/* counted below 10 only */
	assert_int_equal(1, M.release_holds);
	ackx(s, 2, 1, 14, 0, 4, 9);		/* 4..9 released, 10..14 taken */
	assert_int_equal(1, M.acks_skip_mismatch);
	assert_int_equal(0, M.spool_records);
	assert_int_equal(0, M.release_holds);
	assert_int_equal(0, spool_loss(s, &l));
	assert_int_equal(0, l.nrel);
	spool_fini(s);
}

/*
 * A node that had records of the chain but none with a final verdict
 * (its entry states nothing, from = upto + 1 = 4: fed 0..3) is found stuck
 * like one that acked: nodes 0 and 1 acked 0..9, deleted; its position 3
 * does not move; the chain is declared released up to 9.  While the
 * gateway still held 0..3 such an entry counted nothing.
 */
static void test_release_stuck_unacked(void **st)
{
	static struct oracle_loss l;
	struct spool *s;

	(void)st;
	three_nodes();
	s = sent_chain(1, 10);
	ackx(s, 2, 1, 3, 4, 0, -1);		/* fed 0..3, nothing final */
	assert_int_equal(10, M.spool_records);	/* counted nothing */
	ack1(s, 0, 1, 9);
	ack1(s, 1, 1, 9);
	assert_int_equal(0, M.spool_records);
	more(s, 10, 14);
	ackx(s, 2, 1, 3, 4, 0, -1);
	usleep(60000);
	ackx(s, 2, 1, 3, 4, 0, -1);		/* stuck */
	assert_int_equal(1, M.releases_declared);
	assert_int_equal(0, spool_loss(s, &l));
	assert_int_equal(1, l.nrel);
	assert_int_equal(9, l.rel[0].last);
	spool_fini(s);
}

/*
 * A hold ends after RTX_MAX_FACTOR x retransmit_ms when the stuck node
 * does not get there (it went away again): what the quorum acked goes,
 * and the node, still stuck, is declared the new release point after
 * retransmit_ms.  A node whose position moves is slow, not stuck: never
 * declared.  Records dropped unacked (on_full = drop-oldest) were not
 * released: they are declared lost instead (test_drop_declared).
 */
static void test_release_hold_ends(void **st)
{
	static struct oracle_loss l;
	struct spool *s;

	(void)st;
	s = lagging();
	usleep(60000);
	ack1(s, 2, 1, 3);
	assert_int_equal(1, M.releases_declared);
	ack1(s, 0, 1, 14);
	ack1(s, 1, 1, 14);
	assert_int_equal(5, M.spool_records);
	spool_tick(s, now_ms() + RTX_MAX_FACTOR * cfg.retransmit_ms + 1);
	assert_int_equal(0, M.release_holds);
	assert_int_equal(0, M.spool_records);	/* the quorum's acks applied */
	assert_int_equal(0, spool_loss(s, &l));
	assert_int_equal(0, l.nrel);
	more(s, 15, 16);
	ack1(s, 2, 1, 3);
	assert_int_equal(1, M.releases_declared);	/* not stuck again yet */
	/* (the tick above was that far ahead: its stuck spell began then) */
	usleep((RTX_MAX_FACTOR + 2) * cfg.retransmit_ms * 1000);
	ack1(s, 2, 1, 3);
	assert_int_equal(2, M.releases_declared);
	assert_int_equal(0, spool_loss(s, &l));
	assert_int_equal(14, l.rel[0].last);
	spool_fini(s);

	/* slow: node 2 moves (3, 5, 7), below what the quorum released */
	teardown(NULL);
	setup(NULL);
	three_nodes();
	s = sent_chain(1, 10);
	ack1(s, 0, 1, 9);
	ack1(s, 1, 1, 9);
	more(s, 10, 11);
	for (int p = 3; p <= 7; p += 2) {
		ack1(s, 2, 1, (uint64_t)p);
		usleep(60000);
	}
	ack1(s, 2, 1, 8);
	assert_int_equal(0, M.releases_declared);
	assert_false(spool_restate(s));
	spool_fini(s);

	/* dropped unacked: 2..3 went for the bound, no quorum acked them */
	teardown(NULL);
	setup(NULL);
	three_nodes();
	cfg.max_bytes = 10 * sizeof(rec);
	cfg.on_full = ON_FULL_DROP_OLDEST;
	s = sent_chain(1, 10);
	ack1(s, 0, 1, 1);
	ack1(s, 1, 1, 1);
	ack1(s, 2, 1, 1);
	more(s, 10, 13);
	assert_int_equal(2, M.records_dropped);
	for (int i = 0; i < 3; i++) {
		ack1(s, 2, 1, 1);
		usleep(60000);
	}
	assert_int_equal(0, M.releases_declared);
	assert_int_equal(1, spool_loss(s, &l));
	one_hole(&l, 1, 2, 3);
	assert_int_equal(0, l.nrel);
	spool_fini(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_after_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_declared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_batch_chain_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_after_drained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quorum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_drop_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_withheld, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_hold_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_stuck_unacked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

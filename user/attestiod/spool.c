// SPDX-License-Identifier: GPL-2.0
/*
 * Durable spool: SQLite in WAL mode, synchronous=FULL.  Records are
 * collected in an in-memory batch and written in one transaction (one
 * fsync) every sync_records records or sync_ms ms; only written records are
 * published.  A failed write (full disk, I/O error) rolls back and keeps the
 * batch in memory: nothing read is dropped, reading pauses, the write is
 * retried.  Schema: Documentation/attestiod.md ("Spool").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/statvfs.h>

#include <sqlite3.h>

#include "ack.h"
#include "attestiod.h"
#include "loss.h"

static const char schema[] =
	/* one attestiod per spool: the first read takes the lock and it is
	 * held until close (a second daemon on the same spool would publish
	 * and delete behind the first's back); it also spares the two
	 * fcntl() locks of every transaction (8 % of the fleet simulator's
	 * CPU at 1,000 gateways) and keeps the WAL index in memory */
	"PRAGMA locking_mode=EXCLUSIVE;"
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	/* checkpoint every 256 KiB of WAL and give the file back down to
	 * 256 KiB after a large transaction: the spool lives on small
	 * gateway file systems, where SQLite's 4 MiB default alone fills
	 * the disk and then even the delete of acked records cannot commit */
	"PRAGMA wal_autocheckpoint=64;"
	"PRAGMA journal_size_limit=262144;"
	"CREATE TABLE IF NOT EXISTS rec("
	" id INTEGER PRIMARY KEY,"	/* spool order = read order */
	" kind INTEGER NOT NULL,"	/* 0 unchained, 1 chained, 2 unresolved */
	" instance INTEGER NOT NULL, stream INTEGER NOT NULL,"
	" gen INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" t_ms INTEGER NOT NULL,"	/* when spooled (unix ms) */
	" data BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS rec_chain ON rec(instance, stream, gen, seq);"
	"CREATE TABLE IF NOT EXISTS chain("
	" instance INTEGER, stream INTEGER, gen INTEGER, last_seq INTEGER,"
	" PRIMARY KEY(instance, stream, gen));"
	"CREATE TABLE IF NOT EXISTS ack("
	" node TEXT, instance INTEGER, stream INTEGER, gen INTEGER, upto INTEGER,"
	" PRIMARY KEY(node, instance, stream, gen));"
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER);"
	/* declared holes (protocol.md "Loss declarations"): seqs first..last
	 * of a chain that are gone; kind 1 chained, 2 chain not known yet */
	"CREATE TABLE IF NOT EXISTS hole("
	" kind INTEGER NOT NULL, instance INTEGER NOT NULL,"
	" stream INTEGER NOT NULL, gen INTEGER NOT NULL,"
	" first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY(instance, stream, gen, first, kind));";

#define SPOOL_STMTS	64	/* distinct statements (prep(); 36 today) */

struct pend {
	struct rec_meta m;
	uint32_t len;
	uint8_t *data;
};

struct sent {
	uint64_t instance;
	uint32_t stream, gen;
	int64_t max;		/* highest seq published in this run */
};

struct ackq {
	int node;
	uint64_t instance;
	uint32_t stream, gen;
	int64_t upto;
};

struct phole {
	struct rec_meta m;
	uint64_t first, last;
};

/*
 * A node whose acks of a chain stand below what the spool still holds of
 * it, where the records it lacks were deleted after ack_quorum other nodes
 * acked them (protocol.md "Released records"): its position there, since
 * when it has not moved, and once it is found stuck the seq from which the
 * chain's records are held for it (not deleted, whatever the quorum acks)
 * until its acks pass that seq or the hold ends.
 */
struct lag {
	int node;
	uint64_t instance;
	uint32_t stream, gen;
	int64_t pos;		/* what its acks of the chain count up to */
	uint64_t since;		/* at pos since (unix ms) */
	int64_t hold;		/* records from this seq held for it; -1 none */
	uint64_t until;		/* the hold ends (unix ms) */
};

struct spool {
	sqlite3 *db;
	struct phole *phole;	/* holes declared, written with the batch */
	size_t nphole, capphole;
	uint64_t loss_ver;	/* changes with the set of holes or releases */
	struct lag *lag;	/* nodes lagging below released records */
	size_t nlag, caplag;
	bool restate;		/* a release declared: send again (link) */
	const struct config *c;
	struct pend *pend;
	unsigned int npend, cap;
	uint64_t first_pend_ms;
	int64_t cursor;		/* last id published */
	int64_t max_id;		/* last id written */
	uint64_t bytes, count;
	struct sent *sent;
	size_t nsent, capsent;
	bool blocked;		/* bound hit (stop) or write failing */
	uint64_t retry_ms;
	struct ackq *ackq;	/* acks verified but not yet applied */
	size_t nackq, capackq;
	bool ack_failing;
	bool gc_pending;	/* acked records (table ack) left to delete */
	uint64_t ack_retry_ms;
	char err[160];		/* the last failed statement's error */
	int64_t oldest;		/* spool_oldest(), while changes says so */
	sqlite3_int64 oldest_changes;	/* total changes it was read at, -1 */
	struct {		/* prepared statements, by their SQL text */
		const char *sql;
		sqlite3_stmt *st;
	} stmt[SPOOL_STMTS];
};

/*
 * The statement of @sql (a string literal: the cache is keyed by its
 * address), prepared once and reset for reuse: parsing the SQL again for
 * every batch, ack and tick took 30 % of the spool's CPU in a simulated
 * gateway's epoch (11 records, a sync, a batch read, 10 link ticks: 0.51 s
 * for 3,000 epochs, 0.35 s cached).  Every user resets it when done, which
 * also ends its read transaction.  A full cache gives up a statement no
 * one is stepping (there are fewer statements than slots: it never should).
 */
static sqlite3_stmt *prep(struct spool *s, const char *sql)
{
	unsigned int i;

	for (i = 0; i < SPOOL_STMTS && s->stmt[i].sql; i++) {
		if (s->stmt[i].sql == sql) {
			sqlite3_reset(s->stmt[i].st);
			sqlite3_clear_bindings(s->stmt[i].st);
			return s->stmt[i].st;
		}
	}
	if (i == SPOOL_STMTS) {
		for (i = 0; i < SPOOL_STMTS && sqlite3_stmt_busy(s->stmt[i].st); i++)
			;
		if (i == SPOOL_STMTS)
			return NULL;
		sqlite3_finalize(s->stmt[i].st);
		s->stmt[i].st = NULL;
		s->stmt[i].sql = NULL;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->stmt[i].st, NULL) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
		logmsg(LOG_ERR, "spool: %s: %s", sql, s->err);
		return NULL;
	}
	s->stmt[i].sql = sql;
	return s->stmt[i].st;
}

static int exec(struct spool *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s", msg ? msg : sqlite3_errmsg(s->db));
		/* a full disk is reported once, by the alarm, not per retry */
		if (sqlite3_errcode(s->db) != SQLITE_FULL)
			logmsg(LOG_ERR, "spool: %s: %s", sql, s->err);
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* A transaction statement (BEGIN IMMEDIATE, COMMIT, ROLLBACK) through the
 * statement cache: exec() parsed it for every batch and ack (7 % of the
 * fleet simulator's CPU at 1,000 gateways).  Errors as exec(). */
static int txn(struct spool *s, const char *sql)
{
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	if (sqlite3_errcode(s->db) != SQLITE_FULL)
		logmsg(LOG_ERR, "spool: %s: %s", sql, s->err);
	return -EIO;
}

static int64_t scalar(struct spool *s, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	if (!(st = prep(s, sql)))
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* One integer of @sql with ?1 bound to @v; -1 on an error. */
static int64_t scalar_id(struct spool *s, const char *sql, int64_t v)
{
	sqlite3_stmt *st = prep(s, sql);
	int64_t r = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, v);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r;
}

/*
 * After a failed statement or COMMIT.  SQLite may have rolled back by
 * itself (SQLITE_FULL does); then there is nothing to roll back.  A full
 * disk is most often the WAL grown into the free space: checkpoint it and
 * truncate it, so the retried transaction finds room.
 */
static void rollback(struct spool *s)
{
	if (sqlite3_errcode(s->db) != SQLITE_OK)
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	if (!sqlite3_get_autocommit(s->db))
		txn(s, "ROLLBACK");
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

/* Acks of nodes no longer in the configuration count toward no quorum
 * (review 4): their rows go, at start and on a reload. */
static void ack_purge(struct spool *s)
{
	sqlite3_stmt *st;
	int keep;

	if (!(st = prep(s, "SELECT DISTINCT node FROM ack")))
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		sqlite3_stmt *del;

		keep = 0;
		for (int i = 0; n && i < s->c->nnodes; i++)
			keep |= !strcmp(n, s->c->node_ids[i]);
		if (keep || !(del = prep(s, "DELETE FROM ack WHERE node=?")))
			continue;
		sqlite3_bind_text(del, 1, n, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(del) == SQLITE_DONE)
			logmsg(LOG_NOTICE, "spool: acks of node %s (no longer "
			       "configured) dropped", n);
		sqlite3_reset(del);
	}
	sqlite3_reset(st);
}

int spool_init(struct spool **sp, const struct config *c)
{
	struct spool *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->c = c;
	s->oldest_changes = -1;
	rc = sqlite3_open_v2(c->spool_path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		logmsg(LOG_ERR, "spool %s: %s", c->spool_path, sqlite3_errstr(rc));
		sqlite3_close(s->db);
		free(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 1000);
	if (exec(s, schema) || exec(s, "PRAGMA quick_check")) {
		if (sqlite3_errcode(s->db) == SQLITE_BUSY)
			logmsg(LOG_ERR, "spool %s is in use by another process "
			       "(another attestiod on the same spool?): stop it, "
			       "or give this daemon its own spool", c->spool_path);
		sqlite3_close(s->db);
		free(s);
		return -EIO;
	}
	s->bytes = (uint64_t)scalar(s, "SELECT sum(length(data)) FROM rec", 0);
	s->count = (uint64_t)scalar(s, "SELECT count(*) FROM rec", 0);
	s->max_id = scalar(s, "SELECT max(id) FROM rec", 0);
	M.spool_bytes = s->bytes;
	M.spool_records = s->count;
	M.holes_open = (uint64_t)scalar(s, "SELECT count(*) FROM hole", 0);
	s->loss_ver = M.holes_open ? 1 : 0;
	s->gc_pending = true;	/* acked before a stop, not yet deleted */
	ack_purge(s);
	logmsg(LOG_INFO, "spool %s: %" PRIu64 " records (%" PRIu64 " bytes) to resume",
	       c->spool_path, s->count, s->bytes);
	*sp = s;
	return 0;
}

static void lag_drop(struct spool *s, struct lag *g);

void spool_reconfig(struct spool *s, const struct config *c)
{
	/* queued acks name nodes by their index in the old node list,
	 * which a reload may reorder or shorten: drop them (the nodes ack
	 * again when the records are retransmitted); so are the lagging
	 * nodes' entries and their holds (a node still stuck is found
	 * again) */
	s->nackq = 0;
	while (s->nlag)
		lag_drop(s, &s->lag[s->nlag - 1]);
	s->c = c;
	ack_purge(s);
}

void spool_fini(struct spool *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->npend; i++)
		free(s->pend[i].data);
	free(s->pend);
	free(s->phole);
	free(s->sent);
	free(s->ackq);
	free(s->lag);
	for (unsigned int i = 0; i < SPOOL_STMTS; i++)
		sqlite3_finalize(s->stmt[i].st);
	sqlite3_close(s->db);
	free(s);
}

int spool_add(struct spool *s, const struct rec_meta *m, const uint8_t *rec,
	      uint32_t len)
{
	struct pend *p;

	if (s->npend == s->cap) {
		unsigned int n = s->cap ? 2 * s->cap : 256;
		struct pend *np = realloc(s->pend, n * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->pend = np;
		s->cap = n;
	}
	p = &s->pend[s->npend];
	p->data = malloc(len);
	if (!p->data)
		return -ENOMEM;
	memcpy(p->data, rec, len);
	p->len = len;
	p->m = *m;
	if (!s->npend)
		s->first_pend_ms = now_ms();
	s->npend++;
	return 0;
}

int spool_hole(struct spool *s, const struct rec_meta *m, uint64_t first,
	       uint64_t last)
{
	struct phole *p = s->nphole ? &s->phole[s->nphole - 1] : NULL;

	if (first > last || last > INT64_MAX)
		return 0;
	if (p && p->m.kind == m->kind && p->m.instance == m->instance &&
	    p->m.stream == m->stream && p->m.gen == m->gen &&
	    p->last + 1 == first) {
		p->last = last;		/* adjacent: one hole */
		M.hole_records += last - first + 1;
		return 0;
	}
	if (s->nphole == s->capphole) {
		size_t n = s->capphole ? 2 * s->capphole : 16;
		struct phole *np = realloc(s->phole, n * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->phole = np;
		s->capphole = n;
	}
	s->phole[s->nphole++] = (struct phole){ *m, first, last };
	M.holes_declared++;
	M.hole_records += last - first + 1;
	logmsg(LOG_WARNING, "source: stream %u seq %" PRIu64 "..%" PRIu64
	       " are gone (%" PRIu64 " records): declared lost", m->stream,
	       first, last, last - first + 1);
	return 0;
}

/* Write the declared holes (in the batch's transaction).  A chained
 * one also takes the chain's last seq to its end: the records of a batch
 * too large alone that were dropped may be all the batch had of the chain,
 * and a restart must not spool again what is declared gone (review 12). */
static int holes_write(struct spool *s)
{
	sqlite3_stmt *st, *ch;
	int rc = SQLITE_OK;

	if (!s->nphole)
		return SQLITE_OK;
	if (!(st = prep(s, "INSERT OR IGNORE INTO hole VALUES(?,?,?,?,?,?)")) ||
	    !(ch = prep(s, "INSERT INTO chain VALUES(?,?,?,?) ON CONFLICT DO "
			"UPDATE SET last_seq = max(last_seq, excluded.last_seq)")))
		return SQLITE_ERROR;
	for (size_t i = 0; rc == SQLITE_OK && i < s->nphole; i++) {
		const struct phole *h = &s->phole[i];

		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, h->m.kind);
		sqlite3_bind_int64(st, 2, (int64_t)h->m.instance);
		sqlite3_bind_int64(st, 3, h->m.stream);
		sqlite3_bind_int64(st, 4, h->m.gen);
		sqlite3_bind_int64(st, 5, (int64_t)h->first);
		sqlite3_bind_int64(st, 6, (int64_t)h->last);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		if (rc != SQLITE_OK || h->m.kind != RK_CHAINED)
			continue;
		sqlite3_reset(ch);
		sqlite3_bind_int64(ch, 1, (int64_t)h->m.instance);
		sqlite3_bind_int64(ch, 2, h->m.stream);
		sqlite3_bind_int64(ch, 3, h->m.gen);
		sqlite3_bind_int64(ch, 4, (int64_t)h->last);
		rc = sqlite3_step(ch) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_reset(st);
	sqlite3_reset(ch);
	return rc;
}

static void holes_count(struct spool *s)
{
	M.holes_open = (uint64_t)scalar(s, "SELECT count(*) FROM hole", 0);
	s->loss_ver++;
}

static int64_t chain_floor(struct spool *s, const struct oracle_ack_entry *e);
static int64_t released_upto(struct spool *s, const struct oracle_ack_entry *e,
			     int64_t floor);

int spool_loss(struct spool *s, struct oracle_loss *l)
{
	sqlite3_stmt *st;

	l->n = 0;
	if (!(st = prep(s, "SELECT instance, stream, gen, first, last "
			       "FROM hole WHERE kind=1 ORDER BY instance, stream, "
			       "gen, first")))
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct oracle_hole h = {
			(uint64_t)sqlite3_column_int64(st, 0),
			(uint32_t)sqlite3_column_int64(st, 1),
			(uint32_t)sqlite3_column_int64(st, 2),
			(uint64_t)sqlite3_column_int64(st, 3),
			(uint64_t)sqlite3_column_int64(st, 4) };
		struct oracle_hole *p = l->n ? &l->h[l->n - 1] : NULL;

		/* overlapping holes of one chain (declared again after a
		 * restart), or adjacent ones: one */
		if (p && p->instance == h.instance && p->stream == h.stream &&
		    p->generation == h.generation && h.first <= p->last + 1) {
			if (h.last > p->last)
				p->last = h.last;
			continue;
		}
		if (l->n == ORACLE_LOSS_MAX_HOLES)
			break;
		l->h[l->n++] = h;
	}
	sqlite3_reset(st);
	/* the chains declared released to a stuck node, while held for it */
	l->nrel = 0;
	for (size_t i = 0; i < s->nlag && l->nrel < ORACLE_LOSS_MAX_RELEASED; i++) {
		const struct lag *g = &s->lag[i];
		struct oracle_ack_entry e = { .instance = g->instance,
					      .stream = g->stream,
					      .generation = g->gen };
		int64_t r;
		size_t k;

		if (g->hold < 0)
			continue;
		for (k = 0; k < l->nrel; k++)
			if (l->rel[k].instance == g->instance &&
			    l->rel[k].stream == g->stream &&
			    l->rel[k].generation == g->gen)
				break;
		if (k < l->nrel || (r = released_upto(s, &e, chain_floor(s, &e))) < 0)
			continue;
		l->rel[l->nrel++] = (struct oracle_released){ g->instance,
			g->stream, g->gen, (uint64_t)r };
	}
	qsort(l->rel, l->nrel, sizeof(l->rel[0]), oracle_released_cmp);
	return (int)l->n;
}

uint64_t spool_loss_ver(const struct spool *s)
{
	return s->loss_ver;
}

unsigned int spool_unsynced(const struct spool *s)
{
	return s->npend;
}

bool spool_sync_due(const struct spool *s, uint64_t now)
{
	return s->npend && (s->npend >= s->c->sync_records ||
			    now - s->first_pend_ms >= s->c->sync_ms);
}

static bool over_bound(struct spool *s, uint64_t extra)
{
	return s->bytes + extra > s->c->max_bytes;
}

/*
 * on_full = drop-oldest: the records up to spool id @last go unacked
 * (@why: which bound).  The gateway declares them lost (protocol.md "Loss
 * declarations"), per chain the seqs from its oldest dropped record to
 * its newest: below the oldest, ack_quorum nodes acked and the spool
 * deleted; between, every record is dropped now (a chain's records are
 * spooled in seq order).  A node that lacked them skips them exactly
 * instead of waiting for records nobody will send again.  The holes and
 * the delete commit together.
 */
static void drop_upto(struct spool *s, int64_t last, const char *why)
{
	/* a hole the last drop left just below grows (a gateway dropping
	 * for hours declares one hole per chain, not one per drop), else a
	 * new one */
	static const char *const sql[] = {
		"UPDATE hole SET last = (SELECT max(seq) FROM rec r WHERE "
		"r.id <= ?1 AND r.kind = hole.kind AND r.instance = hole.instance "
		"AND r.stream = hole.stream AND r.gen = hole.gen) WHERE EXISTS "
		"(SELECT 1 FROM rec r WHERE r.id <= ?1 AND r.kind = hole.kind AND "
		"r.instance = hole.instance AND r.stream = hole.stream AND "
		"r.gen = hole.gen AND r.seq = hole.last + 1)",
		"INSERT OR IGNORE INTO hole SELECT * FROM (SELECT kind, instance, "
		"stream, gen, min(seq) AS f, max(seq) AS l FROM rec WHERE "
		"id <= ?1 AND kind IN (1, 2) GROUP BY kind, instance, stream, "
		"gen) d WHERE NOT EXISTS (SELECT 1 FROM hole h WHERE "
		"h.kind = d.kind AND h.instance = d.instance AND "
		"h.stream = d.stream AND h.gen = d.gen AND h.first <= d.f AND "
		"h.last >= d.l)",
		"DELETE FROM rec WHERE id <= ?1",
	};
	uint64_t cnt[3] = { 0 };	/* holes grown, holes new, dropped */
	int64_t freed = scalar_id(s, "SELECT coalesce(sum(length(data)), 0) "
				  "FROM rec WHERE id <= ?1", last);
	int rc = SQLITE_DONE;

	if (freed < 0 || txn(s, "BEGIN IMMEDIATE"))
		return;
	for (int k = 0; k < 3 && rc == SQLITE_DONE; k++) {
		sqlite3_stmt *st = prep(s, sql[k]);

		if (!st) {
			rc = SQLITE_ERROR;
			break;
		}
		sqlite3_bind_int64(st, 1, last);
		rc = sqlite3_step(st);
		cnt[k] = (uint64_t)sqlite3_changes(s->db);
		sqlite3_reset(st);
	}
	if (rc != SQLITE_DONE || txn(s, "COMMIT")) {
		txn(s, "ROLLBACK");
		logmsg(LOG_ERR, "spool: dropping the oldest records failed: %s",
		       sqlite3_errmsg(s->db));
		return;
	}
	s->count -= cnt[2];
	s->bytes -= (uint64_t)freed;
	M.spool_bytes = s->bytes;
	M.spool_records = s->count;
	M.records_dropped += cnt[2];
	M.holes_declared += cnt[1];
	if (cnt[0] || cnt[1])
		holes_count(s);
	logmsg(LOG_WARNING, "spool: %s: dropped the %" PRIu64 " oldest records "
	       "unacked (on_full = drop-oldest), declared lost (%" PRIu64
	       " new hole(s), %" PRIu64 " grown)", why, cnt[2], cnt[1], cnt[0]);
}

static void drop_oldest(struct spool *s, uint64_t need)
{
	sqlite3_stmt *st;
	uint64_t freed = 0;
	int64_t last = -1;

	if (!(st = prep(s, "SELECT id, length(data) FROM rec ORDER BY id")))
		return;
	while (freed < need && sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		freed += (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (last >= 0)
		drop_upto(s, last, "size bound hit");
}

static long ackq_apply(struct spool *s, uint64_t now);

/*
 * New records never take the last reserve_bytes (at most 1/8) of the
 * spool's file system: deleting acked records writes WAL frames too, so a
 * spool that filled its disk with records could otherwise never apply the
 * acks that would free it.  Free pages inside the database (acked records
 * deleted) are room as well: inserts reuse them without growing the file.
 * The WAL frames of a write come out of the reserve until the next
 * checkpoint gives them back.
 */
static int room_check(struct spool *s, uint64_t bytes)
{
	struct statvfs v;
	uint64_t total, avail, reserve, inside;
	char dir[PATH_LEN];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", s->c->spool_path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (statvfs(dir, &v))
		return 0;	/* SQLite will say what is wrong */
	total = (uint64_t)v.f_blocks * v.f_frsize;
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	reserve = s->c->reserve_bytes < total / 8 ? s->c->reserve_bytes : total / 8;
	inside = (uint64_t)scalar(s, "PRAGMA freelist_count", 0) *
		 (uint64_t)scalar(s, "PRAGMA page_size", 4096);
	if (avail + inside >= bytes + reserve)
		return 0;
	snprintf(s->err, sizeof(s->err), "%" PRIu64 " bytes free on the spool's "
		 "file system and %" PRIu64 " in the database, %" PRIu64
		 " kept for applying acks", avail, inside, reserve);
	return -ENOSPC;
}

int spool_sync(struct spool *s)
{
	sqlite3_stmt *ins = NULL, *ch = NULL;
	uint64_t bytes = 0, now = now_ms();
	int rc = SQLITE_OK;

	if (!s->npend)
		return 0;
	for (unsigned int i = 0; i < s->npend; i++)
		bytes += s->pend[i].len;
	if (over_bound(s, bytes)) {
		if (!M.alarm_spool_full)
			logmsg(LOG_ERR, "spool: ALARM: size bound %" PRIu64
			       " bytes reached", s->c->max_bytes);
		M.alarm_spool_full = 1;
		if (s->c->on_full == ON_FULL_DROP_OLDEST) {
			drop_oldest(s, s->bytes + bytes - s->c->max_bytes);
			/* the batch alone is too large: its oldest go too,
			 * declared lost */
			while (s->npend && over_bound(s, bytes)) {
				const struct rec_meta *m = &s->pend[0].m;

				if (m->kind != RK_UNCHAINED)
					spool_hole(s, m, m->seq, m->seq);
				bytes -= s->pend[0].len;
				free(s->pend[0].data);
				memmove(s->pend, s->pend + 1, --s->npend * sizeof(*s->pend));
				M.records_dropped++;
			}
		}
		if (over_bound(s, bytes)) {
			s->blocked = true;
			return -ENOSPC;
		}
	}
	/* acks first: they free the room the batch needs */
	if (s->nackq || s->gc_pending)
		ackq_apply(s, now);
	if (room_check(s, bytes) || txn(s, "BEGIN IMMEDIATE"))
		goto fail;
	ins = prep(s, "INSERT INTO rec(id, kind, instance, stream, gen, seq, "
		   "t_ms, data) VALUES(?,?,?,?,?,?,?,?)");
	ch = prep(s, "INSERT INTO chain VALUES(?,?,?,?) ON CONFLICT DO UPDATE "
		  "SET last_seq = max(last_seq, excluded.last_seq)");
	rc = ins && ch ? SQLITE_OK : SQLITE_ERROR;
	for (unsigned int i = 0; rc == SQLITE_OK && i < s->npend; i++) {
		const struct pend *p = &s->pend[i];

		/* ids only grow: after acks emptied the table (or took its
		 * newest rows) SQLite would reuse ids at or below the send
		 * cursor, and those records would wait for a retransmission */
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, s->max_id + 1 + (int64_t)i);
		sqlite3_bind_int(ins, 2, p->m.kind);
		sqlite3_bind_int64(ins, 3, (int64_t)p->m.instance);
		sqlite3_bind_int64(ins, 4, p->m.stream);
		sqlite3_bind_int64(ins, 5, p->m.gen);
		sqlite3_bind_int64(ins, 6, (int64_t)p->m.seq);
		sqlite3_bind_int64(ins, 7, (int64_t)now);
		sqlite3_bind_blob(ins, 8, p->data, (int)p->len, SQLITE_STATIC);
		rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			break;
		rc = SQLITE_OK;
		if (p->m.kind != RK_CHAINED)
			continue;
		sqlite3_reset(ch);
		sqlite3_bind_int64(ch, 1, (int64_t)p->m.instance);
		sqlite3_bind_int64(ch, 2, p->m.stream);
		sqlite3_bind_int64(ch, 3, p->m.gen);
		sqlite3_bind_int64(ch, 4, (int64_t)p->m.seq);
		rc = sqlite3_step(ch);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_reset(ins);
	sqlite3_reset(ch);
	if (rc == SQLITE_OK)
		rc = holes_write(s);
	if (rc != SQLITE_OK || txn(s, "COMMIT")) {
		rollback(s);
		goto fail;
	}
	if (s->nphole) {
		s->nphole = 0;
		holes_count(s);
	}
	s->max_id += s->npend;
	for (unsigned int i = 0; i < s->npend; i++)
		free(s->pend[i].data);
	M.records_spooled += s->npend;
	s->count += s->npend;
	s->bytes += bytes;
	s->npend = 0;
	M.spool_syncs++;
	M.spool_bytes = s->bytes;
	M.spool_records = s->count;
	if (M.alarm_disk)
		logmsg(LOG_NOTICE, "spool: writing again");
	M.alarm_disk = 0;
	s->blocked = false;
	return 0;
fail:
	M.spool_errors++;
	if (!M.alarm_disk)
		logmsg(LOG_ERR, "spool: ALARM: cannot write (%s): %u records kept "
		       "in memory, reading paused", s->err, s->npend);
	M.alarm_disk = 1;
	s->blocked = true;
	s->retry_ms = now + 1000;
	return -ENOSPC;
}

int64_t spool_chain_last(struct spool *s, uint64_t inst, uint32_t stream,
			 uint32_t gen)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	for (unsigned int i = s->npend; i-- > 0;) {
		const struct rec_meta *m = &s->pend[i].m;

		if (m->kind == RK_CHAINED && m->instance == inst &&
		    m->stream == stream && m->gen == gen)
			return (int64_t)m->seq;
	}
	if (!(st = prep(s, "SELECT last_seq FROM chain WHERE "
			       "instance=? AND stream=? AND gen=?")))
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)inst);
	sqlite3_bind_int64(st, 2, stream);
	sqlite3_bind_int64(st, 3, gen);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int spool_resolve(struct spool *s, uint32_t stream, uint64_t inst, uint32_t gen)
{
	int64_t before = spool_chain_last(s, inst, stream, gen);
	sqlite3_stmt *st;
	size_t k = 0;
	int rc;

	for (unsigned int i = 0; i < s->npend; i++) {
		struct rec_meta *m = &s->pend[i].m;

		if (m->kind == RK_UNRESOLVED && m->stream == stream) {
			m->kind = RK_CHAINED;
			m->instance = inst;
			m->gen = gen;
		}
	}
	for (size_t i = 0; i < s->nphole; i++) {
		struct phole h = s->phole[i];

		if (h.m.kind == RK_UNRESOLVED && h.m.stream == stream) {
			if ((int64_t)h.last <= before)
				continue;	/* delivered before (below) */
			h.m.kind = RK_CHAINED;
			h.m.instance = inst;
			h.m.gen = gen;
		}
		s->phole[k++] = h;
	}
	s->nphole = k;
	/* Holes of the stream while its chain was unknown belong to this
	 * one, but for seqs it spooled before (a restart that re-read a log
	 * beginning mid-chain): those were delivered, not lost. */
	for (int k = 0; k < 2; k++) {
		static const char *const sql[] = {
			"DELETE FROM hole WHERE kind=2 AND stream=?3 AND last <= "
			"(SELECT last_seq FROM chain WHERE instance=?1 AND "
			"stream=?3 AND gen=?2)",
			"UPDATE OR REPLACE hole SET kind=1, instance=?1, gen=?2 "
			"WHERE kind=2 AND stream=?3",
		};

		if (!(st = prep(s, sql[k])))
			return -EIO;
		sqlite3_bind_int64(st, 1, (int64_t)inst);
		sqlite3_bind_int64(st, 2, gen);
		sqlite3_bind_int64(st, 3, stream);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return -EIO;
		if (sqlite3_changes(s->db))
			holes_count(s);
	}
	if (!(st = prep(s, "UPDATE rec SET kind=1, instance=?, gen=? "
			       "WHERE kind=2 AND stream=?")))
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)inst);
	sqlite3_bind_int64(st, 2, gen);
	sqlite3_bind_int64(st, 3, stream);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return exec(s, "INSERT INTO chain SELECT instance, stream, gen, max(seq) "
		    "FROM rec WHERE kind=1 GROUP BY instance, stream, gen "
		    "ON CONFLICT DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)");
}

static struct sent *sent_find(struct spool *s, uint64_t inst, uint32_t stream,
			      uint32_t gen, bool add)
{
	for (size_t i = 0; i < s->nsent; i++)
		if (s->sent[i].instance == inst && s->sent[i].stream == stream &&
		    s->sent[i].gen == gen)
			return &s->sent[i];
	if (!add)
		return NULL;
	if (s->nsent == s->capsent) {
		size_t n = s->capsent ? 2 * s->capsent : 64;
		struct sent *ns = realloc(s->sent, n * sizeof(*ns));

		if (!ns)
			return NULL;
		s->sent = ns;
		s->capsent = n;
	}
	s->sent[s->nsent] = (struct sent){ inst, stream, gen, -1 };
	return &s->sent[s->nsent++];
}

int spool_next(struct spool *s, uint8_t *buf, size_t cap, size_t *len,
	       unsigned int *nrec)
{
	sqlite3_stmt *st;
	size_t off = 0;
	unsigned int n = 0;

	if (!(st = prep(s, "SELECT id, kind, instance, stream, gen, seq, "
			       "data FROM rec WHERE id > ? ORDER BY id LIMIT 2048")))
		return -EIO;
	sqlite3_bind_int64(st, 1, s->cursor);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t l = (size_t)sqlite3_column_bytes(st, 6);
		struct sent *se;

		if (off + l > cap)
			break;
		memcpy(buf + off, sqlite3_column_blob(st, 6), l);
		off += l;
		n++;
		s->cursor = sqlite3_column_int64(st, 0);
		if (sqlite3_column_int(st, 1) != RK_CHAINED)
			continue;
		se = sent_find(s, (uint64_t)sqlite3_column_int64(st, 2),
			       (uint32_t)sqlite3_column_int64(st, 3),
			       (uint32_t)sqlite3_column_int64(st, 4), true);
		if (se && sqlite3_column_int64(st, 5) > se->max)
			se->max = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	*len = off;
	*nrec = n;
	return 0;
}

bool spool_has_unsent(struct spool *s)
{
	return s->max_id > s->cursor && s->count;
}

bool spool_has_unacked(struct spool *s)
{
	return s->count > 0;
}

bool spool_empty(struct spool *s)
{
	return !s->count && !s->npend;
}

/* The oldest record's id, 0: none.  Asked at every tick of the link: read
 * again only once this connection changed a row (sqlite3_total_changes64;
 * the spool's exclusive lock keeps every other writer out), where the
 * query every tick was 11 % of the fleet simulator's CPU. */
int64_t spool_oldest(struct spool *s)
{
	sqlite3_int64 ch = sqlite3_total_changes64(s->db);

	if (!s->count)
		return 0;
	if (ch != s->oldest_changes) {
		s->oldest = scalar(s, "SELECT min(id) FROM rec", 0);
		/* a failed query's 0 is not kept (review 9, L2): the timer
		 * would see no oldest record until the next change */
		s->oldest_changes = s->oldest > 0 ? ch : -1;
	}
	return s->oldest;
}

int64_t spool_cursor(const struct spool *s)
{
	return s->cursor;
}

bool spool_sent(struct spool *s, int64_t id)
{
	return id <= s->cursor;
}

void spool_rewind(struct spool *s)
{
	s->cursor = 0;
}

/* The lowest seq of chain (@inst, @stream, @gen) held for a stuck node
 * (struct lag), -1 none. */
static int64_t hold_floor(const struct spool *s, uint64_t inst, uint32_t stream,
			  uint32_t gen)
{
	int64_t v = -1;

	for (size_t i = 0; i < s->nlag; i++) {
		const struct lag *g = &s->lag[i];

		if (g->hold >= 0 && g->instance == inst && g->stream == stream &&
		    g->gen == gen && (v < 0 || g->hold < v))
			v = g->hold;
	}
	return v;
}

/* The quorum-th highest ack of a chain: every record up to it is acked by
 * ack_quorum distinct nodes.  Below the records held for a stuck node
 * (struct lag): those stay until it has them. */
static int64_t quorum_upto(struct spool *s, uint64_t inst, uint32_t stream,
			   uint32_t gen)
{
	sqlite3_stmt *st;
	int64_t v = -1, h = hold_floor(s, inst, stream, gen);

	if (!(st = prep(s, "SELECT upto FROM ack WHERE instance=? AND "
			       "stream=? AND gen=? ORDER BY upto DESC LIMIT 1 "
			       "OFFSET ?")))
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)inst);
	sqlite3_bind_int64(st, 2, stream);
	sqlite3_bind_int64(st, 3, gen);
	sqlite3_bind_int64(st, 4, s->c->ack_quorum - 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (h >= 0 && v >= h)
		v = h - 1;
	return v;
}

/* Merge an acked position into the queue of acks to apply (per node and
 * chain, the highest wins). */
static int ackq_merge(struct spool *s, int node, const struct oracle_ack_entry *e)
{
	struct ackq *q;

	for (size_t i = 0; i < s->nackq; i++) {
		q = &s->ackq[i];
		if (q->node == node && q->instance == e->instance &&
		    q->stream == e->stream && q->gen == e->generation) {
			if ((int64_t)e->upto > q->upto)
				q->upto = (int64_t)e->upto;
			return 0;
		}
	}
	if (s->nackq == s->capackq) {
		size_t n = s->capackq ? 2 * s->capackq : 16;
		struct ackq *nq = realloc(s->ackq, n * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		s->ackq = nq;
		s->capackq = n;
	}
	s->ackq[s->nackq++] = (struct ackq){ node, e->instance, e->stream,
					     e->generation, (int64_t)e->upto };
	return 0;
}

/* Run @st (a DELETE of chain @e's rows up to @q); add the rows to *n. */
static int chain_delete(struct spool *s, sqlite3_stmt *st, const struct ackq *e,
			int64_t q, long *n)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (int64_t)e->instance);
	sqlite3_bind_int64(st, 2, e->stream);
	sqlite3_bind_int64(st, 3, e->gen);
	sqlite3_bind_int64(st, 4, q);
	if (sqlite3_step(st) != SQLITE_DONE)
		return -EIO;
	*n += sqlite3_changes(s->db);
	return 0;
}

/* Records are deleted this many per transaction: on a full disk the WAL
 * frames of one chunk fit in the reserve (room_check) where the delete of
 * thousands of acked records at once would not. */
#define GC_CHUNK 256
#define STR_(x) #x
#define STR(x) STR_(x)

/* Delete chain @e's records up to seq @q, GC_CHUNK per transaction. */
static int gc_chain(struct spool *s, sqlite3_stmt *del, const struct ackq *e,
		    int64_t q, long *n)
{
	long got;

	do {
		got = 0;
		if (txn(s, "BEGIN IMMEDIATE"))
			return -EIO;
		if (chain_delete(s, del, e, q, &got) || txn(s, "COMMIT")) {
			rollback(s);
			return -EIO;
		}
		*n += got;
	} while (got == GC_CHUNK);
	return 0;
}

/* The chains to collect: those of the queued acks, or (after a failure,
 * and at start) every chain of table ack. */
static int gc_chains(struct spool *s, struct ackq **out, size_t *n)
{
	sqlite3_stmt *st;
	struct ackq *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!s->gc_pending) {
		*out = s->ackq;
		*n = s->nackq;
		return 0;
	}
	if (!(st = prep(s, "SELECT DISTINCT instance, stream, gen "
			       "FROM ack")))
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			struct ackq *nv;

			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				sqlite3_reset(st);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = (struct ackq){ 0, (uint64_t)sqlite3_column_int64(st, 0),
					   (uint32_t)sqlite3_column_int64(st, 1),
					   (uint32_t)sqlite3_column_int64(st, 2), 0 };
	}
	sqlite3_reset(st);
	*out = v;
	return 0;
}

/*
 * Delete what ack_quorum nodes acked (table ack), in small transactions.
 * A failure (a disk full by another writer) leaves gc_pending set: the
 * acks themselves are durable, the delete is retried from spool_tick().
 */
static int spool_gc(struct spool *s, long *deleted)
{
	sqlite3_stmt *del;
	struct ackq *ch;
	size_t n;
	int rc = 0;

	if (gc_chains(s, &ch, &n))
		return -EIO;
	if (!(del = prep(s, "DELETE FROM rec WHERE id IN (SELECT id "
			       "FROM rec WHERE kind=1 AND instance=? AND stream=? "
			       "AND gen=? AND seq<=? ORDER BY id LIMIT "
			       STR(GC_CHUNK) ")")))
		rc = -EIO;
	for (size_t i = 0; !rc && i < n; i++) {
		int64_t q = quorum_upto(s, ch[i].instance, ch[i].stream, ch[i].gen);

		if (q >= 0)
			rc = gc_chain(s, del, &ch[i], q, deleted);
	}
	sqlite3_reset(del);
	if (ch != s->ackq)
		free(ch);
	/* A lost record goes once no chained record read before it remains
	 * and a chained record read after it was acked (so the nodes got it). */
	if (!rc && *deleted &&
	    exec(s, "DELETE FROM rec WHERE kind=0 AND id < coalesce((SELECT "
		 "min(id) FROM rec WHERE kind<>0), (SELECT max(id)+1 FROM rec))"))
		rc = -EIO;
	s->gc_pending = rc != 0;
	return rc;
}

/* Record every queued ack in one transaction, then delete what the quorum
 * acked (spool_gc).  If the acks cannot be written (a full disk) the queue
 * is kept and retried from spool_tick(), so an ack is never lost to a
 * write error; the retransmission timer stays the last resort. */
static long ackq_apply(struct spool *s, uint64_t now)
{
	sqlite3_stmt *up = NULL, *hdel = NULL;
	long deleted = 0, holes = 0;
	int64_t before = (int64_t)s->count;
	int rc = SQLITE_OK, gc;

	if (!s->nackq && !s->gc_pending)
		return 0;
	if (!s->nackq)
		goto gc;
	if (txn(s, "BEGIN IMMEDIATE"))
		goto fail;
	up = prep(s, "INSERT INTO ack VALUES(?,?,?,?,?) ON CONFLICT "
		  "DO UPDATE SET upto = max(upto, excluded.upto)");
	/* a declared hole goes once the chain is acked past it: the nodes
	 * that acked have it (they never ack past an undeclared hole) */
	hdel = prep(s, "DELETE FROM hole WHERE kind=1 AND "
		    "instance=? AND stream=? AND gen=? AND last<?");
	rc = up && hdel ? SQLITE_OK : SQLITE_ERROR;
	for (size_t i = 0; rc == SQLITE_OK && i < s->nackq; i++) {
		const struct ackq *e = &s->ackq[i];
		int64_t q;

		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, s->c->node_ids[e->node], -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, (int64_t)e->instance);
		sqlite3_bind_int64(up, 3, e->stream);
		sqlite3_bind_int64(up, 4, e->gen);
		sqlite3_bind_int64(up, 5, e->upto);
		if (sqlite3_step(up) != SQLITE_DONE) {
			rc = SQLITE_ERROR;
			break;
		}
		q = quorum_upto(s, e->instance, e->stream, e->gen);
		if (q >= 0 && chain_delete(s, hdel, e, q, &holes))
			rc = SQLITE_ERROR;
	}
	sqlite3_reset(up);
	sqlite3_reset(hdel);
	if (rc != SQLITE_OK || txn(s, "COMMIT")) {
		rollback(s);
		goto fail;
	}
	if (holes)
		holes_count(s);
gc:
	gc = spool_gc(s, &deleted);
	s->nackq = 0;	/* recorded in table ack: spool_gc retries from it */
	if (deleted) {
		s->count = (uint64_t)scalar(s, "SELECT count(*) FROM rec", 0);
		s->bytes = (uint64_t)scalar(s, "SELECT sum(length(data)) FROM rec", 0);
		M.records_acked += (uint64_t)(before - (int64_t)s->count);
		M.spool_bytes = s->bytes;
		M.spool_records = s->count;
	}
	if (gc)
		goto fail;
	if (s->ack_failing)
		logmsg(LOG_NOTICE, "spool: acks applied again");
	s->ack_failing = false;
	return deleted;
fail:
	M.spool_errors++;
	if (!s->ack_failing)
		logmsg(LOG_ERR, "spool: cannot apply acks (%s): kept, retried "
		       "every second", s->err);
	s->ack_failing = true;
	s->ack_retry_ms = now + 1000;
	return -EIO;
}

/* The lowest seq of chain @e held in the spool in @lo..@hi; -1 none. */
static int64_t held_min(struct spool *s, const struct oracle_ack_entry *e,
			int64_t lo, int64_t hi)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (lo > hi)
		return -1;
	if (!(st = prep(s, "SELECT min(seq) FROM rec WHERE kind=1 AND "
			       "instance=? AND stream=? AND gen=? AND seq BETWEEN "
			       "? AND ?")))
		return lo;	/* cannot tell: as if @lo were held */
	sqlite3_bind_int64(st, 1, (int64_t)e->instance);
	sqlite3_bind_int64(st, 2, e->stream);
	sqlite3_bind_int64(st, 3, e->generation);
	sqlite3_bind_int64(st, 4, lo);
	sqlite3_bind_int64(st, 5, hi);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* What @node's ack of the chain of @e stands at (-1: nothing yet). */
static int64_t ack_upto(struct spool *s, int node, const struct oracle_ack_entry *e)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (!(st = prep(s, "SELECT upto FROM ack WHERE node=? AND "
			       "instance=? AND stream=? AND gen=?")))
		return -1;
	sqlite3_bind_text(st, 1, s->c->node_ids[node], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)e->instance);
	sqlite3_bind_int64(st, 3, e->stream);
	sqlite3_bind_int64(st, 4, e->generation);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/*
 * How far ack entry @e of @node really covers (protocol.md "Acks", the
 * gateway's rule): a node states nothing below its from (a late join) nor
 * for the seqs it skipped under a loss declaration.  Those are fine where
 * the gateway holds no record (what it declared itself it never spooled;
 * what it deleted, ack_quorum nodes had); a record it still holds there
 * did not reach the node (a broker that dropped it and forged the
 * declaration, or withheld a chain's start past join_period): the entry
 * counts only below it, the record stays and is retransmitted.  @had:
 * what the node's acks of the chain counted so far.  Returns the usable
 * upto, -1 for nothing.
 */
static int64_t ack_skip_check(struct spool *s, int node,
			      const struct oracle_ack_entry *e, int64_t had)
{
	static uint64_t logged_ms;
	int64_t bad = -1, h;

	if (!e->from && !e->nskip)
		return (int64_t)e->upto;	/* the whole chain */
	if (e->from > 0)
		bad = held_min(s, e, had + 1, (int64_t)(e->from - 1));
	for (uint32_t k = 0; k < e->nskip && bad < 0; k++) {
		int64_t lo = (int64_t)e->skip[k].first;

		h = held_min(s, e, lo > had ? lo : had + 1, (int64_t)e->skip[k].last);
		if (h >= 0)
			bad = h;
	}
	if (bad < 0)
		return (int64_t)e->upto;
	M.acks_skip_mismatch++;
	if (!logged_ms || now_ms() - logged_ms >= 60000) {
		logged_ms = now_ms();
		logmsg(LOG_WARNING, "spool: node %s acked stream %u (load %016"
		       PRIx64 " gen %u) up to seq %" PRIu64 " %s seq %" PRId64
		       ", which the gateway still holds (not declared lost): "
		       "counted only below it, the record is kept and sent "
		       "again (%" PRIu64 " such entries so far)",
		       s->c->node_ids[node], e->stream, e->instance,
		       e->generation, e->upto, bad < (int64_t)e->from ?
		       "joining after" : "skipping", bad, M.acks_skip_mismatch);
	}
	return bad - 1;
}

/* Nodes lagging below released records (struct lag) kept at most. */
#define LAG_MAX 4096

static struct lag *lag_find(struct spool *s, int node,
			    const struct oracle_ack_entry *e, bool add)
{
	for (size_t i = 0; i < s->nlag; i++) {
		struct lag *g = &s->lag[i];

		if (g->node == node && g->instance == e->instance &&
		    g->stream == e->stream && g->gen == e->generation)
			return g;
	}
	if (!add || s->nlag == LAG_MAX)
		return NULL;
	if (s->nlag == s->caplag) {
		size_t n = s->caplag ? 2 * s->caplag : 16;
		struct lag *ng = realloc(s->lag, n * sizeof(*ng));

		if (!ng)
			return NULL;
		s->lag = ng;
		s->caplag = n;
	}
	s->lag[s->nlag] = (struct lag){ node, e->instance, e->stream,
					e->generation, -1, 0, -1, 0 };
	return &s->lag[s->nlag++];
}

/* A hold for a stuck node ends: the declaration is published again
 * without it, and what the quorum acked may go. */
static void hold_end(struct spool *s, struct lag *g)
{
	if (g->hold < 0)
		return;
	g->hold = -1;
	M.release_holds--;
	s->loss_ver++;
	s->gc_pending = true;
}

static void lag_drop(struct spool *s, struct lag *g)
{
	hold_end(s, g);
	*g = s->lag[--s->nlag];
}

/* The lowest seq of chain @e the spool holds, else the seq after the last
 * it spooled; -1: a chain it never spooled. */
static int64_t chain_floor(struct spool *s, const struct oracle_ack_entry *e)
{
	sqlite3_stmt *st;
	int64_t v = held_min(s, e, 0, INT64_MAX);

	if (v >= 0)
		return v;
	if (!(st = prep(s, "SELECT last_seq + 1 FROM chain WHERE "
			       "instance=? AND stream=? AND gen=?")))
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)e->instance);
	sqlite3_bind_int64(st, 2, e->stream);
	sqlite3_bind_int64(st, 3, e->generation);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Up to which seq chain @e is released (@floor: chain_floor()): the spool
 * holds none of those records and ack_quorum nodes acked all of them, so
 * it deleted them and will never send them again; -1: none. */
static int64_t released_upto(struct spool *s, const struct oracle_ack_entry *e,
			     int64_t floor)
{
	if (floor <= 0 ||
	    quorum_upto(s, e->instance, e->stream, e->generation) < floor - 1)
		return -1;	/* (below it: records dropped unacked, on_full) */
	return floor - 1;
}

/* Records of @stream whose chain is not known yet (kind 2) are spooled. */
static bool stream_unresolved(struct spool *s, uint32_t stream)
{
	sqlite3_stmt *st;
	bool v = true;

	if (!(st = prep(s, "SELECT count(*) FROM rec WHERE kind=2 AND stream=?")))
		return true;
	sqlite3_bind_int64(st, 1, stream);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0) > 0;
	sqlite3_reset(st);
	return v;
}

/*
 * Released records (protocol.md): where node @node's ack entry @e leaves
 * it on its chain (@upto: what the entry counts to, -1 nothing; @had:
 * what its acks counted before).  A node below the chain's released point
 * (the spool's oldest record of the chain less one, everything up to it
 * acked by ack_quorum nodes and deleted) waits for records nobody will
 * send again.  Were it only slow, its position would move; when it has
 * not moved for retransmit_ms while the node keeps acking (a node acks
 * again when records come after a hole it may not skip), it is stuck.
 * Then the chain is declared released up to there (in the loss
 * declaration, published before anything is sent again), its records from
 * the oldest held one on are held for the node (not deleted whatever the
 * quorum acks) until its acks pass that record, or RTX_MAX_FACTOR x
 * retransmit_ms (a node that goes away again does not keep them for
 * good), and the link sends again from the oldest record: the node skips
 * the released seqs (a gap its acks name) and goes on from that record.
 */
static void lag_note(struct spool *s, int node, const struct oracle_ack_entry *e,
		     int64_t upto, int64_t had, uint64_t now)
{
	int64_t pos = upto > had ? upto : had, floor, rel;
	struct lag *g = lag_find(s, node, e, false);

	if (g && g->hold >= 0) {
		if (pos < g->hold)
			return;		/* held for it: it has not got there */
		logmsg(LOG_NOTICE, "spool: node %s took stream %u (load %016"
		       PRIx64 " gen %u) from seq %" PRId64 " on after its release "
		       "declaration: hold lifted", s->c->node_ids[node],
		       e->stream, e->instance, e->generation, g->hold);
		lag_drop(s, g);
		return;
	}
	floor = chain_floor(s, e);
	if (floor < 0 || pos >= floor - 1 ||
	    (rel = released_upto(s, e, floor)) < 0 || pos >= rel) {
		if (g)
			lag_drop(s, g);	/* not (or no longer) below released */
		return;
	}
	if (!g) {
		if ((g = lag_find(s, node, e, true))) {
			g->pos = pos;
			g->since = now;
		}
		return;
	}
	if (g->pos != pos) {		/* it moves: slow, not stuck */
		g->pos = pos;
		g->since = now;
		return;
	}
	if (now < g->since + s->c->retransmit_ms || stream_unresolved(s, e->stream))
		return;
	g->hold = rel + 1;
	g->until = now + (uint64_t)RTX_MAX_FACTOR * s->c->retransmit_ms;
	M.releases_declared++;
	M.release_holds++;
	s->loss_ver++;
	s->restate = true;
	logmsg(LOG_WARNING, "spool: node %s is stuck on stream %u (load %016"
	       PRIx64 " gen %u) at seq %" PRId64 ": seqs up to %" PRId64 " were "
	       "deleted after ack_quorum other nodes acked them; declared "
	       "released, the chain held from seq %" PRId64 " for it (at most "
	       "%u s) and sent again", s->c->node_ids[node], e->stream,
	       e->instance, e->generation, pos, rel, g->hold,
	       RTX_MAX_FACTOR * s->c->retransmit_ms / 1000);
}

bool spool_restate(struct spool *s)
{
	bool v = s->restate;

	s->restate = false;
	return v;
}

long spool_ack(struct spool *s, int node, const struct oracle_ack *a)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < a->n; i++) {
		const struct oracle_ack_entry *e = &a->e[i];
		struct sent *se = sent_find(s, e->instance, e->stream,
					    e->generation, false);
		struct oracle_ack_entry ok;
		int64_t upto, had;

		if (!se || (int64_t)e->upto > se->max || e->upto > INT64_MAX) {
			M.acks_unsent++;	/* a seq this run never sent */
			continue;
		}
		had = ack_upto(s, node, e);
		upto = ack_skip_check(s, node, e, had);
		lag_note(s, node, e, upto, had, now);
		if (upto < 0)
			continue;
		ok = *e;
		ok.upto = (uint64_t)upto;
		if (ackq_merge(s, node, &ok))
			return -ENOMEM;
	}
	return ackq_apply(s, now);
}

static uint64_t pend_bytes(const struct spool *s)
{
	uint64_t b = 0;

	for (unsigned int i = 0; i < s->npend; i++)
		b += s->pend[i].len;
	return b;
}

bool spool_tick(struct spool *s, uint64_t now)
{
	int64_t oldest = scalar(s, "SELECT t_ms FROM rec ORDER BY id LIMIT 1", -1);

	M.spool_age_s = oldest < 0 || (uint64_t)oldest > now ? 0 :
			(now - (uint64_t)oldest) / 1000;
	if (s->c->max_age_s && M.spool_age_s > s->c->max_age_s) {
		if (!M.alarm_spool_full)
			logmsg(LOG_ERR, "spool: ALARM: oldest record is %" PRIu64
			       " s old (max_age %u s)", M.spool_age_s, s->c->max_age_s);
		M.alarm_spool_full = 1;
		if (s->c->on_full == ON_FULL_DROP_OLDEST) {
			int64_t last = scalar_id(s, "SELECT coalesce(max(id), -1) "
						 "FROM rec WHERE t_ms < ?1",
						 (int64_t)(now - 1000ull * s->c->max_age_s));

			if (last >= 0)
				drop_upto(s, last, "max_age passed");
		} else {
			s->blocked = true;
		}
	} else if (s->bytes <= s->c->max_bytes - s->c->max_bytes / 10 &&
		   !over_bound(s, pend_bytes(s)) && !M.alarm_disk) {
		if (M.alarm_spool_full)
			logmsg(LOG_NOTICE, "spool: back under its bounds");
		M.alarm_spool_full = 0;
		s->blocked = false;
	}
	for (size_t i = 0; i < s->nlag; i++) {
		struct lag *g = &s->lag[i];

		if (g->hold < 0 || now < g->until)
			continue;
		logmsg(LOG_WARNING, "spool: node %s did not ack stream %u (load "
		       "%016" PRIx64 " gen %u) past seq %" PRId64 " within %u s of "
		       "its release declaration: hold ended", s->c->node_ids[g->node],
		       g->stream, g->instance, g->gen, g->hold,
		       RTX_MAX_FACTOR * s->c->retransmit_ms / 1000);
		hold_end(s, g);
		g->since = now;		/* stuck again after retransmit_ms */
	}
	if ((s->nackq || s->gc_pending) && now >= s->ack_retry_ms)
		ackq_apply(s, now);
	if (s->npend && s->blocked && now >= s->retry_ms) {
		s->retry_ms = now + 1000;
		spool_sync(s);
	}
	return s->blocked;
}

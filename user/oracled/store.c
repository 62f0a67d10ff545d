// SPDX-License-Identifier: GPL-2.0
/*
 * The node's store: one SQLite database in WAL mode, one writer (this
 * process: an flock on DB.lock keeps a second daemon out).  The schema is
 * versioned with PRAGMA user_version and migrated step by step; a
 * database from a newer version is refused, never rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <linux/attestio.h>

#include "oracled.h"

/* Migration N creates schema version N from N-1. */
static const char *const migrations[STORE_SCHEMA + 1] = {
	[1] =
	"CREATE TABLE IF NOT EXISTS rec(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, seq INTEGER, type INTEGER,"
	" state INTEGER, data BLOB, received INTEGER,"
	" PRIMARY KEY(gw, instance, stream, gen, seq));"
	"CREATE TABLE IF NOT EXISTS lost(id INTEGER PRIMARY KEY, gw TEXT,"
	" records INTEGER, data BLOB);"
	/* per-chain verifier state: acked frontier (the rest is in rec) */
	"CREATE TABLE IF NOT EXISTS chain(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, acked INTEGER,"
	" PRIMARY KEY(gw, instance, stream, gen));"
	"CREATE TABLE IF NOT EXISTS gateway(id TEXT PRIMARY KEY,"
	" state INTEGER NOT NULL, reason TEXT, since INTEGER);"
	"CREATE TABLE IF NOT EXISTS reading(gw TEXT, stream INTEGER,"
	" channel INTEGER, instance INTEGER, gen INTEGER, seq INTEGER,"
	" time_ns INTEGER, value REAL,"
	" PRIMARY KEY(gw, stream, channel, instance, gen, seq));"
	"CREATE INDEX IF NOT EXISTS reading_time ON reading(gw, stream,"
	" channel, time_ns);"
	"CREATE TABLE IF NOT EXISTS reputation(device BLOB PRIMARY KEY,"
	" rep INTEGER NOT NULL, updated INTEGER);"
	"CREATE TABLE IF NOT EXISTS feed_state(feed TEXT PRIMARY KEY,"
	" last_round INTEGER, settled INTEGER, last_value INTEGER,"
	" last_settled_round INTEGER, pending_value INTEGER,"
	" pending_count INTEGER);"
	"CREATE TABLE IF NOT EXISTS report(feed TEXT, round INTEGER,"
	" node TEXT, core BLOB, status INTEGER, value INTEGER, data BLOB,"
	" received INTEGER, PRIMARY KEY(feed, round, node));"
	"CREATE TABLE IF NOT EXISTS final(feed TEXT, round INTEGER,"
	" core BLOB, status INTEGER, value INTEGER, signers INTEGER,"
	" sigs BLOB, data BLOB, time INTEGER, PRIMARY KEY(feed, round));"
	"CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER, event TEXT, subject TEXT, detail TEXT);"
	"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/* gateway evidence (protocol.md "Evidence"), newest per boot */
	[2] =
	"CREATE TABLE IF NOT EXISTS evidence(gw TEXT, instance INTEGER,"
	" received INTEGER, data BLOB, PRIMARY KEY(gw, instance));",
	/* per chain: the descriptor in force at its last verified checkpoint
	 * (calib applied), given back to the verifier on resume */
	[3] =
	"CREATE TABLE IF NOT EXISTS chain_desc(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, seq INTEGER, data BLOB,"
	" PRIMARY KEY(gw, instance, stream, gen));",
	/* evidence bundle of each round this node ran (protocol.md) */
	[4] =
	"CREATE TABLE IF NOT EXISTS bundle(feed TEXT, round INTEGER,"
	" time INTEGER, data BLOB, PRIMARY KEY(feed, round));",
	/* each device's reputation after each round (the status page's
	 * sparklines; round.c keeps the last STORE_REP_HIST rounds) */
	[5] =
	"CREATE TABLE IF NOT EXISTS rep_hist(feed TEXT, round INTEGER,"
	" device BLOB, rep INTEGER, PRIMARY KEY(feed, device, round));",
	/* admitted enrollments (admission.c): a restart does not challenge
	 * again; a new AK or EK does */
	[6] =
	"CREATE TABLE IF NOT EXISTS enrollment(gw TEXT PRIMARY KEY,"
	" ek BLOB NOT NULL, ak_name BLOB NOT NULL, bundle BLOB NOT NULL,"
	" ek_cert INTEGER, tier INTEGER, node TEXT, time INTEGER);",
	/* loss declarations (protocol.md): the holes each gateway declared,
	 * and the gaps this node's chains have: excused by a declaration
	 * (why 'declared') or before a late join point (why 'join') */
	[7] =
	"CREATE TABLE IF NOT EXISTS hole(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, first INTEGER, last INTEGER,"
	" received INTEGER, PRIMARY KEY(gw, instance, stream, gen, first));"
	"CREATE TABLE IF NOT EXISTS gap(id INTEGER PRIMARY KEY, gw TEXT,"
	" instance INTEGER, stream INTEGER, gen INTEGER, known INTEGER,"
	" first INTEGER, last INTEGER, why TEXT, time INTEGER);",
	/* oracle beacons: issued by this node and received from the others
	 * (beacon.c; protocol.md "Beacons"), the message as published */
	[8] =
	"CREATE TABLE IF NOT EXISTS beacon(node TEXT, round INTEGER,"
	" value BLOB, time INTEGER, received INTEGER, data BLOB,"
	" PRIMARY KEY(node, round));"
	"CREATE INDEX IF NOT EXISTS beacon_round ON beacon(round);",
	/* per reading: the beacon its covering checkpoint quoted (NULL:
	 * none), which decides whether it counts in a round (round.c) */
	[9] =
	"ALTER TABLE reading ADD COLUMN beacon BLOB;"
	"CREATE INDEX IF NOT EXISTS beacon_value ON beacon(value);",
	/* per chain, the seqs its verifier went on from after a gap (the
	 * first record after it; a late join's join point): an evidence
	 * bundle's chain segment starts there (round.c), so verify-report
	 * joins where the node did.  @gap: the gap row it came with (its
	 * chain is learned with it, gap_known()).  Gaps already filled when
	 * this migration ran left none. */
	[10] =
	"CREATE TABLE IF NOT EXISTS resync(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, known INTEGER, seq INTEGER,"
	" gap INTEGER);"
	"CREATE INDEX IF NOT EXISTS resync_chain ON resync(gw, instance,"
	" stream, gen, seq);"
	"INSERT INTO resync SELECT gw, instance, stream, gen, known, last + 1,"
	" id FROM gap;",
	/* per sample, why its readings were not kept when only this node
	 * can judge it (1: capture time after its receipt, 2: clock drift
	 * between two checkpoints): an evidence bundle says so (key 13),
	 * so that verify-report leaves them out too */
	[11] =
	"CREATE TABLE IF NOT EXISTS excluded(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, seq INTEGER, why INTEGER,"
	" PRIMARY KEY(gw, instance, stream, gen, seq));",
	/* the gaps of a chain, looked up per record of a gap, per ack and
	 * per fill (review 7: a scan of the whole table each time) */
	[12] =
	"CREATE INDEX IF NOT EXISTS gap_chain ON gap(gw, instance, stream, gen,"
	" first);",
	/* record format v4: the records that make a chain's segment state
	 * (descriptor 1, detach 5, calib 8), looked up where an evidence
	 * bundle's chain starts at a signed head (round.c, seg_start()) */
	[13] =
	"CREATE INDEX IF NOT EXISTS rec_state ON rec(gw, instance, stream, gen,"
	" seq) WHERE type IN (1, 5, 8);",
	/* the same index with its condition spelt as ORs: SQLite 3.40 tests
	 * "type IN (1, 5, 8)" through an ephemeral table it builds for every
	 * row inserted into rec (2 % of a node's CPU at 1,000 gateways);
	 * queries name the condition the same way (store_seg_state) */
	[14] =
	"DROP INDEX IF EXISTS rec_state;"
	"CREATE INDEX rec_state ON rec(gw, instance, stream, gen, seq)"
	" WHERE type=1 OR type=5 OR type=8;",
	/* released records (protocol.md): per chain, the seq up to which
	 * its gateway declared everything released after ack_quorum nodes
	 * acked it (gap why 'released') */
	[15] =
	"CREATE TABLE IF NOT EXISTS released(gw TEXT, instance INTEGER,"
	" stream INTEGER, gen INTEGER, last INTEGER, received INTEGER,"
	" PRIMARY KEY(gw, instance, stream, gen));",
};

sqlite3_stmt *store_prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		od_log("database %s: cannot prepare \"%s\": %s", s->path, sql,
		       sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

static uint32_t sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;

	while (*sql)
		h = (h ^ (uint8_t)*sql++) * 16777619u;
	return h;
}

/*
 * The cached statement for @sql (found by its text): prepared once, ready
 * to bind, given back with store_done().  Parsing the per-record queries
 * again for every record was 8 % of a node's CPU at 1,000 gateways.  A
 * slot is taken from here to store_done(): the same text asked for again
 * meanwhile (a nested use) gets a fresh statement, which store_done()
 * finalizes, and a full cache gives up a slot no caller holds (a handed
 * out statement not yet stepped is not "busy" to SQLite: review 9, L1).
 */
sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
	uint32_t h = sql_hash(sql);
	int free_slot = -1, idle = -1;
	sqlite3_stmt *st;

	for (int i = 0; i < STORE_STMT_CACHE; i++) {
		st = s->cache[i];
		if (!st) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (s->hash[i] == h && !strcmp(sqlite3_sql(st), sql)) {
			if (s->held[i])
				return store_prep(s, sql);
			s->held[i] = true;
			return st;
		}
		if (idle < 0 && !s->held[i])
			idle = i;
	}
	st = store_prep(s, sql);
	if (!st)
		return NULL;
	if (free_slot < 0 && idle >= 0) {
		sqlite3_finalize(s->cache[idle]);
		s->cache[idle] = NULL;
		free_slot = idle;
	}
	if (free_slot >= 0) {
		s->cache[free_slot] = st;
		s->hash[free_slot] = h;
		s->held[free_slot] = true;
	}
	return st;
}

/* Give back @st, from store_stmt() or store_prep(): a cached statement is
 * reset and unbound (a statement left stepping keeps a read transaction
 * open, and then no WAL checkpoint can finish), any other finalized. */
void store_done(struct store *s, sqlite3_stmt *st)
{
	if (!st)
		return;
	for (int i = 0; i < STORE_STMT_CACHE; i++)
		if (s->cache[i] == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->held[i] = false;
			return;
		}
	sqlite3_finalize(st);
}

int store_exec(struct store *s, const char *sql)
{
	char *m = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &m) != SQLITE_OK) {
		od_log("database %s: %.60s: %s", s->path, sql, m ? m : "?");
		sqlite3_free(m);
		return -EIO;
	}
	return 0;
}

/* A cached statement that returns no rows (SAVEPOINT, RELEASE, ...). */
static int store_run(struct store *s, const char *sql)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		od_log("database %s: %s: %s", s->path, sql, sqlite3_errmsg(s->db));
	store_done(s, st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/*
 * One operation's transaction.  Inside a group commit it is a savepoint of
 * the group's transaction, so that store_rollback() undoes that operation
 * only: a ROLLBACK there (a loss declaration over its bound, a failed
 * admission) undid every message stored earlier in the group, whose
 * verifier state had moved on, and the node then acked records it no
 * longer had (review 9, H1).
 */
int store_begin(struct store *s)
{
	return s->group ? store_run(s, "SAVEPOINT op") :
	       store_exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	if (s->group)
		return store_run(s, "RELEASE op");
	if (store_exec(s, "COMMIT")) {
		store_exec(s, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

/* Undo the operation store_begin() started (nothing when none is open). */
void store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	if (s->group) {
		if (!store_run(s, "ROLLBACK TO op"))
			store_run(s, "RELEASE op");
		return;
	}
	store_exec(s, "ROLLBACK");
}

int store_group_begin(struct store *s)
{
	if (store_exec(s, "BEGIN IMMEDIATE"))
		return -EIO;
	s->group = true;
	return 0;
}

int store_group_end(struct store *s)
{
	s->group = false;
	return store_commit(s);
}

void store_audit(struct store *s, const char *event, const char *subject,
		 const char *fmt, ...)
{
	sqlite3_stmt *st;
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	od_log("audit: %s %s: %s", event, subject, detail);
	st = store_prep(s, "INSERT INTO audit(time, event, subject, detail) "
			"VALUES(?,?,?,?)");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
	sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		od_log("database %s: audit not written: %s", s->path,
		       sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

static int lock_db(const char *path, char *err, size_t len)
{
	char lp[OD_PATH + 8];
	int fd;

	snprintf(lp, sizeof(lp), "%s.lock", path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, len, "database %s: cannot create its lock file %s: %s",
			 path, lp, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, len, "database %s is locked by another "
			 "attestio-oracle (lock file %s): stop that node first, "
			 "or give this one its own node.db", path, lp);
		close(fd);
		return -1;
	}
	return fd;	/* held until exit */
}

int store_init(struct store *s, const char *path, enum store_mode mode,
	       char *err, size_t len)
{
	bool readonly = mode == STORE_READ;
	sqlite3_stmt *st;
	int ver = -1, rc;
	bool ok = false;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (mode == STORE_DAEMON && lock_db(path, err, len) < 0)
		return -1;
	rc = sqlite3_open_v2(path, &s->db, readonly ? SQLITE_OPEN_READONLY :
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, len, "database %s: cannot open: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, mode == STORE_DAEMON ? 0 : 5000);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		ok = !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	rc = sqlite3_errcode(s->db);
	sqlite3_finalize(st);
	if (!ok) {
		snprintf(err, len, "database %s is %s (%s): restore it from a "
			 "backup or move it away to start a fresh node state",
			 path, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ?
			 "locked" : "corrupt or not an SQLite database",
			 sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ver < 0 || ver > STORE_SCHEMA) {
		snprintf(err, len, "database %s has schema version %d; this "
			 "attestio-oracle knows up to %d: use a newer "
			 "attestio-oracle", path, ver, STORE_SCHEMA);
		goto fail;
	}
	if (readonly) {
		if (ver != STORE_SCHEMA) {
			snprintf(err, len, "database %s has schema version %d, not "
				 "%d: start the node once to migrate it", path,
				 ver, STORE_SCHEMA);
			goto fail;
		}
		return 0;
	}
	/* 8 MiB of page cache (SQLite's default is 2 MiB): with ~1,000
	 * gateways the record and reading indexes' hot pages outgrow 2 MiB and
	 * every lookup was a pread() of the WAL or the database */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 " PRAGMA cache_size=-65536;", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, len, "database %s: cannot switch to WAL: %s "
			 "(is another process writing it?)", path,
			 sqlite3_errmsg(s->db));
		goto fail;
	}
	for (int v = ver + 1; v <= STORE_SCHEMA; v++) {
		char set[64];

		snprintf(set, sizeof(set), "PRAGMA user_version=%d;", v);
		if (store_begin(s) || store_exec(s, migrations[v]) ||
		    store_exec(s, set) || store_commit(s)) {
			snprintf(err, len, "database %s: migration to schema %d "
				 "failed: %s", path, v, sqlite3_errmsg(s->db));
			goto fail;
		}
		store_audit(s, "schema", path, "migrated to schema version %d", v);
	}
	sqlite3_busy_timeout(s->db, 5000);
	return 0;
fail:
	sqlite3_close(s->db);
	s->db = NULL;
	return -1;
}

void store_fini(struct store *s)
{
	for (int i = 0; i < STORE_STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i]);
		s->cache[i] = NULL;
	}
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

_Static_assert(ATTESTIO_REC_DESCRIPTOR == 1 && ATTESTIO_REC_DETACH == 5 &&
	       ATTESTIO_REC_CALIB == 8, "the types of the index rec_state");

int store_seg_state(struct store *s, const char *gw, int64_t instance,
		    uint32_t stream, int64_t gen, int64_t upto,
		    struct store_seg *out)
{
	/* newest first through the partial index rec_state: the calib in
	 * force, then its descriptor, or a detach (no segment open) */
	sqlite3_stmt *q = store_stmt(s, "SELECT type, data FROM rec WHERE gw=? "
				     "AND instance=? AND stream=? AND gen=? AND "
				     "seq<=? AND (type=1 OR type=5 OR type=8) "
				     "ORDER BY seq DESC");
	int ret = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, gw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, instance);
	sqlite3_bind_int64(q, 3, stream);
	sqlite3_bind_int64(q, 4, gen);
	sqlite3_bind_int64(q, 5, upto);
	while (!out->desc && sqlite3_step(q) == SQLITE_ROW) {
		int type = sqlite3_column_int(q, 0);
		size_t n = (size_t)sqlite3_column_bytes(q, 1);
		uint8_t **dst = type == ATTESTIO_REC_CALIB ? &out->cal : &out->desc;

		if (type == ATTESTIO_REC_DETACH) {
			/* no segment open; a calib after it: malformed */
			ret = out->cal ? -ENOENT : 0;
			goto out;
		}
		if (*dst)
			continue;	/* an older calibration */
		*dst = malloc(n ? n : 1);
		if (!*dst) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(*dst, sqlite3_column_blob(q, 1), n);
		if (type == ATTESTIO_REC_CALIB)
			out->clen = n;
		else
			out->dlen = n;
	}
	if (out->desc)
		ret = 0;
out:
	store_done(s, q);
	if (ret || !out->desc)
		store_seg_free(out);	/* (closed: nothing) */
	return ret;
}

void store_seg_free(struct store_seg *seg)
{
	free(seg->desc);
	free(seg->cal);
	memset(seg, 0, sizeof(*seg));
}

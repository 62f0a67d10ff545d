// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the node's store (user/oracled/store.c): the statement
 * cache (store_stmt/store_done) and schema 14 (the partial index rec_state
 * with its condition as ORs: no ephemeral table per record inserted, and
 * the segment-state query still searches it), fresh and migrated from 13.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "oracled.h"

void od_log(const char *fmt, ...)
{
	(void)fmt;
}

static char dir[64], db[96];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/test_oracled_store.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/node.db", dir);
	return 0;
}

static int teardown(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static bool explains(sqlite3 *d, const char *sql, const char *what)
{
	char q[512];
	sqlite3_stmt *st;
	bool found = false;

	snprintf(q, sizeof(q), "EXPLAIN %s", sql);
	assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(d, q, -1, &st, NULL));
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *v = (const char *)sqlite3_column_text(st, c);

			if (v && strstr(v, what))
				found = true;
		}
	sqlite3_finalize(st);
	return found;
}

#define INS "INSERT OR IGNORE INTO rec(gw, instance, stream, gen, seq, type, " \
	    "state, data, received) VALUES(?,?,?,?,?,?,1,?,?)"
#define SEG "SELECT type, data FROM rec WHERE gw=? AND instance=? AND " \
	    "stream=? AND gen=? AND seq<=? AND (type=1 OR type=5 OR type=8) " \
	    "ORDER BY seq DESC"

static void check_schema14(struct store *s)
{
	/* EXPLAIN QUERY PLAN's detail column names the index */
	assert_false(explains(s->db, INS, "OpenEphemeral"));
	assert_true(explains(s->db, "QUERY PLAN " SEG, "rec_state"));
}

static void test_schema_fresh(void **st)
{
	struct store s;
	char err[256];

	(void)st;
	assert_int_equal(0, store_init(&s, db, STORE_ADMIN, err, sizeof(err)));
	check_schema14(&s);
	store_fini(&s);
}

/* A database at schema 13 (the index with IN) is migrated to 14. */
static void test_schema_migrated(void **st)
{
	struct store s;
	char err[256];

	(void)st;
	assert_int_equal(0, store_init(&s, db, STORE_ADMIN, err, sizeof(err)));
	assert_int_equal(0, store_exec(&s, "DROP INDEX rec_state; CREATE INDEX "
		"rec_state ON rec(gw, instance, stream, gen, seq) WHERE type IN "
		"(1, 5, 8); PRAGMA user_version=13;"));
	assert_true(explains(s.db, INS, "OpenEphemeral"));
	store_fini(&s);
	assert_int_equal(0, store_init(&s, db, STORE_ADMIN, err, sizeof(err)));
	check_schema14(&s);
	store_fini(&s);
}

/* Cached statements: prepared once, a nested use gets its own, store_done
 * resets (no read transaction left open) and a full cache still works. */
static void test_stmt_cache(void **st)
{
	const char *q = "SELECT seq FROM rec WHERE gw=? ORDER BY seq";
	sqlite3_stmt *a, *b, *c;
	struct store s;
	char err[256], sql[96];

	(void)st;
	assert_int_equal(0, store_init(&s, db, STORE_ADMIN, err, sizeof(err)));
	for (int i = 0; i < 3; i++)
		assert_int_equal(0, store_exec(&s, i == 0 ?
			"INSERT INTO rec(gw, seq) VALUES('g', 0)" : i == 1 ?
			"INSERT INTO rec(gw, seq) VALUES('g', 1)" :
			"INSERT INTO rec(gw, seq) VALUES('g', 2)"));
	a = store_stmt(&s, q);
	assert_non_null(a);
	sqlite3_bind_text(a, 1, "g", -1, SQLITE_STATIC);
	assert_int_equal(SQLITE_ROW, sqlite3_step(a));
	/* the same text while @a is stepping: another statement */
	b = store_stmt(&s, q);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	store_done(&s, b);		/* not cached: finalized */
	store_done(&s, a);
	assert_false(sqlite3_stmt_busy(a));
	/* bindings are cleared: an unbound gw matches nothing */
	c = store_stmt(&s, q);
	assert_ptr_equal(a, c);
	assert_int_equal(SQLITE_DONE, sqlite3_step(c));
	store_done(&s, c);
	/* more distinct statements than slots: each still works */
	for (int i = 0; i < 2 * STORE_STMT_CACHE; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) + %d FROM rec", i);
		c = store_stmt(&s, sql);
		assert_non_null(c);
		assert_int_equal(SQLITE_ROW, sqlite3_step(c));
		assert_int_equal(3 + i, sqlite3_column_int(c, 0));
		store_done(&s, c);
	}
	store_fini(&s);
}

/* A statement handed out and bound but not stepped yet is the caller's:
 * the same text asked for again gets another, and a full cache does not
 * give up its slot (review 9, L1: SQLite does not call it busy). */
static void test_stmt_held(void **st)
{
	const char *q = "SELECT count(*) FROM rec WHERE gw=?";
	sqlite3_stmt *a, *b, *c;
	struct store s;
	char err[256], sql[96];

	(void)st;
	assert_int_equal(0, store_init(&s, db, STORE_ADMIN, err, sizeof(err)));
	assert_int_equal(0, store_exec(&s, "INSERT INTO rec(gw, seq) VALUES('g', 0)"));
	a = store_stmt(&s, q);
	assert_non_null(a);
	sqlite3_bind_text(a, 1, "g", -1, SQLITE_STATIC);
	b = store_stmt(&s, q);			/* not stepped, still held */
	assert_ptr_not_equal(a, b);
	store_done(&s, b);
	for (int i = 0; i < 2 * STORE_STMT_CACHE; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		c = store_stmt(&s, sql);
		assert_non_null(c);
		store_done(&s, c);
	}
	assert_int_equal(SQLITE_ROW, sqlite3_step(a));	/* not freed */
	assert_int_equal(1, sqlite3_column_int(a, 0));	/* nor unbound */
	store_done(&s, a);
	store_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_held, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

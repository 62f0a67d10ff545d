// SPDX-License-Identifier: GPL-2.0
/*
 * Freshness (Documentation/oracle.md, "Beacons"): the beacon values the
 * oracle network issued, as this node knows them (its own and the other
 * whitelisted nodes' verified ones: beacon.c adds them, the beacon table
 * holds them across restarts), and what each gateway's verified
 * checkpoints cover.  A quote covering the beacon of round R was made
 * after R was issued; one covering a beacon more than [beacon] max_age
 * rounds older than the newest issued one is stale; one covering none
 * (all zero: the gateway had none yet) makes no freshness claim; one
 * covering a value nobody issued is unknown.  With freshness = required
 * the verifier itself refuses the last two (ATT_EREPLAY).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracled.h"

struct fresh {
	const struct od_config *c;
	uint8_t vals[OD_BEACON_KEEP][32];	/* ring; zero = empty slot */
	uint64_t round[OD_BEACON_KEEP], time[OD_BEACON_KEEP];
	size_t next, n;
	struct fresh_stats st;
	struct fresh_gw gw[OD_MAX_GW];
};

static const char *const class_name[FRESH_NCLASS] = {
	[FRESH_OK] = "fresh", [FRESH_NONE] = "none",
	[FRESH_UNKNOWN] = "unknown", [FRESH_STALE] = "stale",
};

const char *fresh_class_name(int c)
{
	return c >= 0 && c < FRESH_NCLASS ? class_name[c] : "?";
}

/* Index of @v in the set, newest first; -1 if absent. */
static long find(const struct fresh *f, const uint8_t *v)
{
	for (size_t k = 0; k < f->n; k++) {
		size_t i = (f->next + OD_BEACON_KEEP - 1 - k) % OD_BEACON_KEEP;

		if (!memcmp(f->vals[i], v, 32))
			return (long)i;
	}
	return -1;
}

void fresh_add(struct fresh *f, const uint8_t value[32], uint64_t round,
	       uint64_t time)
{
	if (find(f, value) >= 0)
		return;
	memcpy(f->vals[f->next], value, 32);
	f->round[f->next] = round;
	f->time[f->next] = time;
	f->next = (f->next + 1) % OD_BEACON_KEEP;
	if (f->n < OD_BEACON_KEEP)
		f->n++;
	f->st.known = f->n;
	if (round > f->st.newest_round)
		f->st.newest_round = round;
}

int fresh_init(struct fresh **fp, const struct od_config *c, struct store *s)
{
	struct fresh *f = calloc(1, sizeof(*f));
	char nodes[OD_NODES_SQL_LEN], sql[OD_NODES_SQL_LEN + 200];
	sqlite3_stmt *st;

	if (!f)
		return -ENOMEM;
	f->c = c;
	/* the newest OD_BEACON_KEEP of the nodes the configuration
	 * whitelists (a removed node's beacons no longer count), added
	 * oldest first */
	config_nodes_sql(c, nodes);
	snprintf(sql, sizeof(sql), "SELECT value, round, time FROM (SELECT value,"
		 " round, time FROM beacon WHERE node IN %s ORDER BY round DESC"
		 " LIMIT ?1) ORDER BY round", nodes);
	st = store_prep(s, sql);
	if (!st) {
		free(f);
		return -EIO;
	}
	sqlite3_bind_int(st, 1, OD_BEACON_KEEP);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == 32)
			fresh_add(f, sqlite3_column_blob(st, 0),
				  (uint64_t)sqlite3_column_int64(st, 1),
				  (uint64_t)sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	*fp = f;
	return 0;
}

void fresh_fini(struct fresh *f)
{
	free(f);
}

const uint8_t (*fresh_set(const struct fresh *f, size_t *n))[32]
{
	if (f->c->beacon_freshness != OD_FRESH_REQUIRED) {
		*n = 0;
		return NULL;
	}
	*n = OD_BEACON_KEEP;
	return (const uint8_t (*)[32])f->vals;
}

int fresh_note(struct fresh *f, int gw, const uint8_t *beacon, char *why,
	       size_t cap)
{
	struct fresh_gw *g = gw >= 0 && gw < OD_MAX_GW ? &f->gw[gw] : NULL;
	uint64_t age;
	int cls;
	long i;

	*why = 0;
	if (f->c->beacon_freshness == OD_FRESH_OFF)
		return FRESH_OK;
	if (!beacon) {
		cls = FRESH_NONE;
		snprintf(why, cap, "covers no oracle beacon (no freshness claim)");
	} else if ((i = find(f, beacon)) < 0) {
		cls = FRESH_UNKNOWN;
		snprintf(why, cap, "covers beacon %02x%02x%02x%02x... that is not "
			 "one this node knows the network issued", beacon[0],
			 beacon[1], beacon[2], beacon[3]);
	} else {
		age = f->st.newest_round - f->round[i];
		cls = f->c->beacon_max_age && age > f->c->beacon_max_age ?
		      FRESH_STALE : FRESH_OK;
		if (cls == FRESH_STALE)
			snprintf(why, cap, "covers the beacon of round %" PRIu64
				 ", %" PRIu64 " rounds before the newest (%" PRIu64
				 "; max_age %" PRIu64 ")", f->round[i], age,
				 f->st.newest_round, f->c->beacon_max_age);
		if (g && (!g->seen || f->round[i] >= g->round)) {
			g->seen = true;
			g->round = f->round[i];
			g->time = f->time[i];
			memcpy(g->value, beacon, 32);
		}
	}
	f->st.by_class[cls]++;
	if (g)
		g->last_class = cls;
	return cls;
}

const struct fresh_gw *fresh_gw(const struct fresh *f, int gw)
{
	return gw >= 0 && gw < OD_MAX_GW ? &f->gw[gw] : NULL;
}

const struct fresh_stats *fresh_stats(const struct fresh *f)
{
	return &f->st;
}

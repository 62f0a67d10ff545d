// SPDX-License-Identifier: GPL-2.0
/*
 * Beacons (Documentation/oracle.md, "Beacons"; protocol.md "Beacons"):
 * once per beacon round this node draws 32 random bytes (RAND_bytes),
 * signs them with its node key, stores them (the beacon table: a restart
 * neither draws a second value for a round nor forgets one) and publishes
 * them retained on attestio/v1/beacon/<node>.  The other whitelisted
 * nodes' beacons are verified and stored the same way.  Every beacon the
 * network issued goes to fresh.c, against which checkpoints are judged.
 *
 * The round clock: round r starts at [beacon] start + (r - 1) × period,
 * by default the first feed's schedule, so all nodes of one configuration
 * count the same rounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "beacon.h"
#include "oracled.h"

struct beacons {
	const struct od_config *c;
	struct store *s;
	const struct oracle_signer *signer;
	struct fresh *f;
	od_publish_retained_fn pub;
	void *ctx;
	char node_hex[ORACLE_NODE_ID_HEX];
	uint8_t own[ORACLE_BEACON_MAX_LEN];	/* the newest own beacon */
	size_t own_len;
	bool own_sent;
	uint64_t last_prune, log_window;
	unsigned int log_lines;
	struct beacon_stats st;
};

uint64_t beacon_round_of(const struct od_config *c, uint64_t t)
{
	if (!c->beacon_period || t < c->beacon_start)
		return 0;
	return (t - c->beacon_start) / c->beacon_period + 1;
}

/* At most 10 rejection lines a minute (a flood of bad beacons). */
static void reject(struct beacons *b, const char *node, const char *why)
{
	uint64_t now = (uint64_t)time(NULL) / 60;

	b->st.rejected++;
	if (now != b->log_window) {
		b->log_window = now;
		b->log_lines = 0;
	}
	if (++b->log_lines <= 10)
		od_log("beacon from %.40s ignored: %s", node, why);
}

static int store_beacon(struct beacons *b, const char *node,
			const struct oracle_beacon *be, const uint8_t *buf,
			size_t len)
{
	sqlite3_stmt *st;
	int rc;

	st = store_prep(b->s, "INSERT OR IGNORE INTO beacon(node, round, value,"
			" time, received, data) VALUES(?,?,?,?,?,?)");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)be->round);
	sqlite3_bind_blob(st, 3, be->value, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)be->time);
	sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
	sqlite3_bind_blob(st, 6, buf, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int beacons_init(struct beacons **bp, const struct od_config *c,
		 struct store *s, const struct oracle_signer *signer,
		 struct fresh *f, od_publish_retained_fn pub, void *ctx)
{
	struct beacons *b = calloc(1, sizeof(*b));
	sqlite3_stmt *st;

	if (!b)
		return -ENOMEM;
	b->c = c;
	b->s = s;
	b->signer = signer;
	b->f = f;
	b->pub = pub;
	b->ctx = ctx;
	oracle_hex(signer->node_id, ORACLE_NODE_ID_LEN, b->node_hex);
	st = store_prep(s, "SELECT round, time, data FROM beacon WHERE node = ?"
			" ORDER BY round DESC LIMIT 1");
	if (!st) {
		free(b);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, b->node_hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (size_t)sqlite3_column_bytes(st, 2) <= sizeof(b->own)) {
		b->st.own_round = (uint64_t)sqlite3_column_int64(st, 0);
		b->st.own_time = (uint64_t)sqlite3_column_int64(st, 1);
		b->own_len = (size_t)sqlite3_column_bytes(st, 2);
		memcpy(b->own, sqlite3_column_blob(st, 2), b->own_len);
	}
	sqlite3_finalize(st);
	*bp = b;
	return 0;
}

void beacons_fini(struct beacons *b)
{
	free(b);
}

static void publish_own(struct beacons *b)
{
	char topic[64];

	if (b->own_sent || !b->own_len)
		return;
	snprintf(topic, sizeof(topic), "attestio/v1/beacon/%s", b->node_hex);
	if (b->pub(b->ctx, topic, b->own, b->own_len))
		return;		/* not connected: again on the next tick */
	b->own_sent = true;
	b->st.published++;
}

void beacons_connected(struct beacons *b)
{
	b->own_sent = false;
}

/* Draw, sign and store round @r's beacon; 0 or -errno. */
static int issue(struct beacons *b, uint64_t r, uint64_t now)
{
	struct oracle_beacon be = { .round = r, .time = now };
	uint8_t buf[ORACLE_BEACON_MAX_LEN];
	size_t len;
	int ret;

	do {
		if (RAND_bytes(be.value, sizeof(be.value)) != 1)
			return -EIO;
	} while (!memcmp(be.value, (uint8_t[32]){ 0 }, 32));
	ret = oracle_beacon_sign(&be, b->signer);
	if (!ret)
		ret = oracle_beacon_encode(&be, 0, buf, sizeof(buf), &len);
	if (ret)
		return ret;
	if (store_begin(b->s) || store_beacon(b, b->node_hex, &be, buf, len) ||
	    store_commit(b->s))
		return -EIO;
	memcpy(b->own, buf, len);
	b->own_len = len;
	b->own_sent = false;
	b->st.own_round = r;
	b->st.own_time = now;
	b->st.issued++;
	fresh_add(b->f, be.value, r, now);
	return 0;
}

void beacons_tick(struct beacons *b, uint64_t now)
{
	uint64_t r = beacon_round_of(b->c, now);
	int ret;

	if (b->c->beacon_issue && r > b->st.own_round) {
		ret = issue(b, r, now);
		if (ret)
			od_log("beacon of round %" PRIu64 " not issued: %s", r,
			       strerror(-ret));
	}
	if (b->c->beacon_issue)
		publish_own(b);
	/* by round, not by the issuer's signed time: a node signing its
	 * current beacon with an old time would get it pruned while
	 * readings covering it still count (review 5) */
	if (now - b->last_prune >= 600 && r > b->c->retain_s / b->c->beacon_period) {
		sqlite3_stmt *st = store_prep(b->s, "DELETE FROM beacon WHERE"
					      " round < ? AND NOT (node = ? AND round = ?)");

		b->last_prune = now;
		if (st) {
			sqlite3_bind_int64(st, 1, (int64_t)(r - b->c->retain_s /
							    b->c->beacon_period));
			sqlite3_bind_text(st, 2, b->node_hex, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, (int64_t)b->st.own_round);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
}

/*
 * A node issues one value per round, rounds increasing: a beacon whose
 * round is older than the newest stored from its node, or a second value
 * for a round already stored, is refused (-EINVAL with *why): else one
 * configured node could push any number of values into the issued set
 * (evicting the others' from its ring) while the table keeps only one.
 * 1: this very beacon is stored already (a redelivery), 0: new.
 */
static int round_check(struct beacons *b, const char *node,
		       const struct oracle_beacon *be, const char **why)
{
	sqlite3_stmt *st = store_prep(b->s, "SELECT round, value FROM beacon"
				      " WHERE node = ? ORDER BY round DESC LIMIT 1");
	int ret = 0;

	if (!st) {
		*why = "cannot read the beacon table";
		return -EIO;
	}
	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t r = (uint64_t)sqlite3_column_int64(st, 0);

		if (be->round < r) {
			*why = "a round older than that node's newest beacon";
			ret = -EINVAL;
		} else if (be->round == r) {
			if (sqlite3_column_bytes(st, 1) == ORACLE_BEACON_LEN &&
			    !memcmp(sqlite3_column_blob(st, 1), be->value,
				    ORACLE_BEACON_LEN))
				ret = 1;
			else {
				*why = "a second value for a round";
				ret = -EINVAL;
			}
		}
	}
	sqlite3_finalize(st);
	return ret;
}

/* -EEXIST if @be's value is stored under another (node, round). */
static int value_check(struct beacons *b, const char *node,
		       const struct oracle_beacon *be)
{
	sqlite3_stmt *st = store_prep(b->s, "SELECT 1 FROM beacon WHERE value = ?"
				      " AND NOT (node = ? AND round = ?)");
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, be->value, ORACLE_BEACON_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)be->round);
	ret = sqlite3_step(st) == SQLITE_ROW ? -EEXIST : 0;
	sqlite3_finalize(st);
	return ret;
}

void beacons_message(struct beacons *b, const char *node, const uint8_t *buf,
		     size_t len)
{
	const uint8_t (*keys)[ORACLE_PUB_LEN] =
		(const uint8_t (*)[ORACLE_PUB_LEN])b->c->nodes;
	char id[ORACLE_NODE_ID_HEX];
	struct oracle_beacon be;
	const char *why = NULL;
	uint64_t now = (uint64_t)time(NULL);
	size_t idx;
	int ret;

	if (!strcmp(node, b->node_hex))
		return;		/* our own, retained: stored when issued */
	if (oracle_beacon_parse(buf, len, &be, &why) ||
	    oracle_beacon_check(&be, keys, b->c->nnodes, &idx, &why)) {
		reject(b, node, why);
		return;
	}
	oracle_hex(be.node_id, ORACLE_NODE_ID_LEN, id);
	if (strcmp(id, node)) {
		reject(b, node, "signed by another node than the topic's");
		return;
	}
	if (be.round > beacon_round_of(b->c, now + b->c->max_clock_skew_s)) {
		reject(b, node, "a round that has not started yet");
		return;
	}
	/* Only the round in progress (or the one just ended: delivery
	 * takes time), and only a value no node issued before: a node that
	 * copies another's fresh value under an older round of its own would
	 * make every reading covering it look stale (review 4) */
	if (be.round + 1 < beacon_round_of(b->c, now > b->c->max_clock_skew_s ?
					   now - b->c->max_clock_skew_s : 0)) {
		reject(b, node, "a round that has ended");
		return;
	}
	ret = value_check(b, id, &be);
	if (ret < 0) {
		reject(b, node, "a value another node or round issued already");
		return;
	}
	ret = round_check(b, id, &be, &why);
	if (ret) {
		if (ret < 0)
			reject(b, node, why);
		return;		/* > 0: a redelivery, known already */
	}
	if (store_begin(b->s) || store_beacon(b, id, &be, buf, len) ||
	    store_commit(b->s)) {
		od_log("beacon from %s: cannot store it (ignored)", id);
		return;
	}
	b->st.received++;
	fresh_add(b->f, be.value, be.round, be.time);
}

const struct beacon_stats *beacons_stats(const struct beacons *b)
{
	return &b->st;
}

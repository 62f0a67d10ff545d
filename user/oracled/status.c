// SPDX-License-Identifier: GPL-2.0
/*
 * `attestio-oracle status [--json]`: the node's state from its database
 * (read only; works beside the running daemon): gateways with their
 * state and reason, feeds with their last round and final reports,
 * devices with tier and reputation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ack.h"
#include "oracled.h"

static void jstr(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int64_t count(struct store *s, const char *sql, const char *arg)
{
	sqlite3_stmt *st = store_prep(s, sql);
	int64_t n = 0;

	if (!st)
		return -1;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void gateways(struct od_config *c, struct store *s, bool json)
{
	sqlite3_stmt *st = store_prep(s, "SELECT state, reason FROM gateway WHERE id=?");

	printf(json ? "\"gateways\":[" : "gateways:\n");
	for (int i = 0; st && i < c->ngw; i++) {
		const char *id = c->gw[i].id, *reason = "";
		int state = 0;
		int64_t recs, ver, bad;

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			state = sqlite3_column_int(st, 0);
			reason = (const char *)sqlite3_column_text(st, 1);
		}
		recs = count(s, "SELECT count(*) FROM rec WHERE gw=?", id);
		ver = count(s, "SELECT count(*) FROM rec WHERE gw=? AND state=0", id);
		bad = count(s, "SELECT count(*) FROM rec WHERE gw=? AND state=4", id);
		if (json) {
			printf("%s{\"id\":\"%s\",\"state\":\"%s\",\"tier\":%d,\"reason\":",
			       i ? "," : "", id, gw_state_name((enum gw_state)state),
			       c->gw[i].tier);
			jstr(reason);
			printf(",\"records\":%" PRId64 ",\"verified\":%" PRId64
			       ",\"bad\":%" PRId64 "}", recs, ver, bad);
		} else {
			printf("  %s  %-11s tier %d  %" PRId64 " records, %" PRId64
			       " verified, %" PRId64 " bad%s%s\n", id,
			       gw_state_name((enum gw_state)state), c->gw[i].tier,
			       recs, ver, bad, reason && *reason ? "\n    reason: " : "",
			       reason ? reason : "");
		}
	}
	sqlite3_finalize(st);
	printf(json ? "]," : "");
}

static void feeds(struct od_config *c, struct store *s, bool json)
{
	sqlite3_stmt *st = store_prep(s, "SELECT last_round, settled, last_value "
				      "FROM feed_state WHERE feed=?");
	sqlite3_stmt *fin = store_prep(s, "SELECT round, status, value, signers "
				       "FROM final WHERE feed=? ORDER BY round");

	printf(json ? "\"feeds\":[" : "feeds:\n");
	for (int i = 0; st && fin && i < c->nfeeds; i++) {
		const struct od_feed_conf *f = &c->feed[i];
		int64_t last = 0, value = 0;
		int settled = 0, k = 0;
		char fid[65];

		oracle_hex(f->feed_id, 32, fid);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			last = sqlite3_column_int64(st, 0);
			settled = sqlite3_column_int(st, 1);
			value = sqlite3_column_int64(st, 2);
		}
		if (json)
			printf("%s{\"name\":\"%s\",\"feed_id\":\"%s\",\"decimals\":%d,"
			       "\"last_round\":%" PRId64 ",\"settled\":%s,"
			       "\"last_value\":%" PRId64 ",\"final\":[", i ? "," : "",
			       f->name, fid, f->p.decimals, last,
			       settled ? "true" : "false", value);
		else
			printf("  %s  last round %" PRId64 ", last settled value %"
			       PRId64 " (decimals %d)\n", f->name, last, value,
			       f->p.decimals);
		sqlite3_reset(fin);
		sqlite3_bind_text(fin, 1, f->name, -1, SQLITE_STATIC);
		while (sqlite3_step(fin) == SQLITE_ROW) {
			int status = sqlite3_column_int(fin, 1);

			if (json)
				printf("%s{\"round\":%" PRId64 ",\"status\":%d,\"status_name\":"
				       "\"%s\",\"value\":%" PRId64 ",\"signers\":%d}",
				       k++ ? "," : "", (int64_t)sqlite3_column_int64(fin, 0),
				       status, oracle_status_name((unsigned int)status),
				       (int64_t)sqlite3_column_int64(fin, 2), sqlite3_column_int(fin, 3));
			else
				printf("    final round %" PRId64 ": %s value %" PRId64
				       " (%d signatures)\n", (int64_t)sqlite3_column_int64(fin, 0),
				       oracle_status_name((unsigned int)status),
				       (int64_t)sqlite3_column_int64(fin, 2), sqlite3_column_int(fin, 3));
		}
		printf(json ? "]}" : "");
	}
	sqlite3_finalize(st);
	sqlite3_finalize(fin);
	printf(json ? "]," : "");
}

static void devices(struct od_config *c, struct store *s, bool json)
{
	sqlite3_stmt *st = store_prep(s, "SELECT rep FROM reputation WHERE device=?");
	int k = 0;

	printf(json ? "\"devices\":[" : "devices:\n");
	for (int i = 0; st && i < c->nfeeds; i++)
		for (size_t j = 0; j < c->feed[i].nstreams; j++) {
			const struct od_feed_stream *fs = &c->feed[i].s[j];
			uint8_t gw[16], dev[16];
			char hex[33];
			int64_t rep = ORACLE_REP_INITIAL;

			oracle_unhex(fs->gwid, gw, 16);
			device_id(gw, fs->stream, dev);
			oracle_hex(dev, 16, hex);
			sqlite3_reset(st);
			sqlite3_bind_blob(st, 1, dev, 16, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				rep = sqlite3_column_int64(st, 0);
			if (json)
				printf("%s{\"device\":\"%s\",\"feed\":\"%s\",\"gateway\":"
				       "\"%s\",\"stream\":%u,\"tier\":%d,\"reputation_ppm\":%"
				       PRId64 "}", k++ ? "," : "", hex, c->feed[i].name,
				       fs->gwid, fs->stream, c->gw[fs->gw].tier, rep);
			else
				printf("  %s  %s %s:%u  tier %d  reputation %.6f\n", hex,
				       c->feed[i].name, fs->gwid, fs->stream,
				       c->gw[fs->gw].tier, (double)rep / ORACLE_REP_ONE);
		}
	sqlite3_finalize(st);
	printf(json ? "]," : "");
}

int status_main(const char *path, bool json)
{
	static struct od_config cfg;
	struct oracle_signer sg;
	struct store s;
	char err[600], id[ORACLE_NODE_ID_HEX];

	if (config_load(path, &cfg, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_USAGE;
	}
	if (oracle_signer_init(&sg, cfg.seckey)) {
		od_log("%s: node.key is not a valid secp256k1 secret key", path);
		return OD_EXIT_USAGE;
	}
	oracle_hex(sg.node_id, ORACLE_NODE_ID_LEN, id);
	oracle_signer_fini(&sg);
	if (store_init(&s, cfg.db, STORE_READ, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_DB;
	}
	if (json)
		printf("{\"node\":\"%s\",\"schema\":%d,", id, STORE_SCHEMA);
	else
		printf("node %s, database %s (schema %d)\n", id, cfg.db, STORE_SCHEMA);
	gateways(&cfg, &s, json);
	feeds(&cfg, &s, json);
	devices(&cfg, &s, json);
	if (json)
		printf("\"audit_events\":%" PRId64 "}\n",
		       count(&s, "SELECT count(*) FROM audit", NULL));
	else
		printf("audit log: %" PRId64 " events\n",
		       count(&s, "SELECT count(*) FROM audit", NULL));
	store_fini(&s);
	return 0;
}

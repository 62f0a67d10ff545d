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
#include <time.h>

#include <libattestio.h>

#include "ack.h"
#include "oracled.h"
#include "report_cbor.h"

#define STATUS_ROUNDS "200"

static void jstr(FILE *o, const char *s)
{
	putc('"', o);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* < > & as \u escapes too: the JSON stays inert in any HTML */
		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&')
			fprintf(o, "\\u%04x", c);
		else
			putc(c, o);
	}
	putc('"', o);
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

/* Kernel-exclusive key use as the daemon judges it (registry.c, round.c):
 * "off", "proven" (a checkpoint of a boot whose evidence is stored
 * verified) or "unproven"; the tier the rounds use follows from it. */
static const char *kernel_key(const struct od_gw_conf *g, struct store *s,
			      int state, int *tier)
{
	struct att_key *ak = NULL;
	struct att_err e = { 0 };
	bool on = g->kernel_key == OD_KK_REQUIRED;
	int64_t proven;
	int cap = g->tier;
	sqlite3_stmt *en;

	if (g->enroll) {	/* the admitted bundle's AK and proved tier */
		cap = 0;
		en = store_prep(s, "SELECT bundle, tier FROM enrollment WHERE gw=?");
		if (en) {
			sqlite3_bind_text(en, 1, g->id, -1, SQLITE_STATIC);
			if (sqlite3_step(en) == SQLITE_ROW &&
			    !att_key_parse(sqlite3_column_blob(en, 0),
					   (size_t)sqlite3_column_bytes(en, 0),
					   &ak, &e)) {
				cap = sqlite3_column_int(en, 1);
				if (cap > g->tier)
					cap = g->tier;
			}
			sqlite3_finalize(en);
		}
		if (g->kernel_key == OD_KK_AUTO && ak)
			on = att_key_certify_only(ak);
	} else if (g->kernel_key == OD_KK_AUTO && !att_key_load(g->ak, &ak, &e)) {
		on = att_key_certify_only(ak);
	}
	att_key_free(ak);
	proven = on ? count(s, "SELECT count(*) FROM evidence e WHERE e.gw=?1 "
			    "AND EXISTS (SELECT 1 FROM rec r WHERE r.gw=e.gw AND "
			    "r.instance=e.instance AND r.type=4 AND r.state=0)",
			    g->id) : 0;
	*tier = state != GW_ACTIVE ? 0 : proven > 0 || cap < 1 ? cap : 1;
	return !on ? "off" : proven > 0 ? "proven" : "unproven";
}

/* "admission": "ak-file" (the operator's word), "pending" or "admitted"
 * with what the enrollment proved (admission.c). */
static void admission_json(FILE *o, const struct od_gw_conf *g, struct store *s)
{
	sqlite3_stmt *st;

	if (!g->enroll) {
		fprintf(o, ",\"admission\":\"ak-file\"");
		return;
	}
	st = store_prep(s, "SELECT tier, ek_cert, node, time FROM enrollment "
			"WHERE gw=?");
	if (st) {
		sqlite3_bind_text(st, 1, g->id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			fprintf(o, ",\"admission\":\"admitted\",\"tier_proved\":%d,"
				"\"ek_cert\":%s,\"admitted_by\":\"%s\",\"admitted_at\":%lld",
				sqlite3_column_int(st, 0),
				sqlite3_column_int(st, 1) ? "true" : "false",
				(const char *)sqlite3_column_text(st, 2),
				(long long)sqlite3_column_int64(st, 3));
			sqlite3_finalize(st);
			return;
		}
		sqlite3_finalize(st);
	}
	fprintf(o, ",\"admission\":\"pending\",\"tier_proved\":0");
}


/* The daemon's view of gateway @i's freshness (fresh.c): the newest
 * beacon its verified checkpoints covered, its age, and the class of the
 * newest verified checkpoint; null when none covered one yet. */
static void gw_beacon(FILE *o, const struct od_parts *live, int i)
{
	const struct fresh *f = ingest_fresh(live->in);
	const struct fresh_gw *g = fresh_gw(f, i);
	uint64_t newest = fresh_stats(f)->newest_round;
	int64_t now = (int64_t)time(NULL);

	if (!g || !g->seen) {
		fprintf(o, ",\"beacon\":null");
		return;
	}
	fprintf(o, ",\"beacon\":{\"round\":%" PRIu64 ",\"age_s\":%" PRId64
		",\"rounds_behind\":%" PRIu64 ",\"class\":\"%s\"}", g->round,
		now > (int64_t)g->time ? now - (int64_t)g->time : 0,
		newest > g->round ? newest - g->round : 0,
		fresh_class_name(g->last_class));
}

/* "reported": what the gateway's daemon says of itself (its spool
 * backlog, the beacon it holds), or null; never checked, only shown. */
static void gw_reported(FILE *o, const struct reg_gw *g)
{
	int64_t now = (int64_t)time(NULL);

	if (!g || !g->reported_at) {
		fprintf(o, ",\"reported\":null");
		return;
	}
	fprintf(o, ",\"reported\":{\"spool_records\":%" PRIu64 ",\"spool_bytes\":%"
		PRIu64 ",\"spool_age_s\":%" PRIu64 ",\"beacon_round\":%" PRIu64
		",\"age_s\":%" PRId64 "}", g->rep_spool_records, g->rep_spool_bytes,
		g->rep_spool_age_s, g->rep_beacon_round,
		now > g->reported_at ? now - g->reported_at : 0);
}

static void gateways(FILE *o, const struct od_config *c, struct store *s,
		     const struct od_parts *live, bool json)
{
	sqlite3_stmt *st = store_prep(s, "SELECT state, reason FROM gateway WHERE id=?");

	fprintf(o, json ? "\"gateways\":[" : "gateways:\n");
	for (int i = 0; st && i < c->ngw; i++) {
		const char *id = c->gw[i].id, *reason = "";
		int state = 0;
		int64_t recs, ver, bad, held, boots, last;
		const char *kk;
		int tier;

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			state = sqlite3_column_int(st, 0);
			reason = (const char *)sqlite3_column_text(st, 1);
		}
		recs = count(s, "SELECT count(*) FROM rec WHERE gw=?", id);
		ver = count(s, "SELECT count(*) FROM rec WHERE gw=? AND state=0", id);
		bad = count(s, "SELECT count(*) FROM rec WHERE gw=? AND state=4", id);
		held = count(s, "SELECT count(*) FROM rec WHERE gw=? AND state=1", id);
		boots = count(s, "SELECT count(*) FROM evidence WHERE gw=?", id);
		last = count(s, "SELECT coalesce(max(received), -1) FROM rec WHERE gw=?", id);
		kk = kernel_key(&c->gw[i], s, state, &tier);
		if (json) {
			fprintf(o, "%s{\"id\":\"%s\",\"state\":\"%s\",\"tier\":%d,"
			       "\"tier_effective\":%d,\"kernel_key\":\"%s\","
			       "\"evidence_boots\":%" PRId64 ",\"site\":",
			       i ? "," : "", id, gw_state_name((enum gw_state)state),
			       c->gw[i].tier, tier, kk, boots);
			jstr(o, *c->gw[i].site ? c->gw[i].site : id);
			admission_json(o, &c->gw[i], s);
			fprintf(o, ",\"reason\":");
			jstr(o, reason);
			fprintf(o, ",\"records\":%" PRId64 ",\"verified\":%" PRId64
			       ",\"bad\":%" PRId64 ",\"pending\":%" PRId64,
			       recs, ver, bad, held);
			/* what the node measures of the gateway's backlog: how
			 * long ago its last record arrived (null: none yet) */
			if (last < 0)
				fprintf(o, ",\"last_record_age_s\":null");
			else
				fprintf(o, ",\"last_record_age_s\":%" PRId64,
					(int64_t)time(NULL) - last);
			if (live)
				gw_beacon(o, live, i);
			if (live)
				gw_reported(o, registry_at(live->reg, i));
			fprintf(o, "}");
		} else {
			fprintf(o, "  %s  %-11s tier %d (counts %d)  kernel key %s%s  %"
			       PRId64 " records, %" PRId64 " verified, %" PRId64
			       " bad, %" PRId64 " pending%s%s\n", id,
			       gw_state_name((enum gw_state)state), c->gw[i].tier,
			       tier, kk, !c->gw[i].enroll ? "" :
			       count(s, "SELECT count(*) FROM enrollment WHERE gw=?", id) > 0 ?
			       "  enrolled" : "  enrollment pending",
			       recs, ver, bad, held,
			       reason && *reason ? "\n    reason: " : "",
			       reason ? reason : "");
		}
	}
	sqlite3_finalize(st);
	fprintf(o, json ? "]," : "");
}

/* Each device's input to a final round, from the final report's body
 * (ORK_DEVICES: the device's median reading, its capped weight, why it
 * was excluded); [] if the stored report does not parse. */
static void round_devices(FILE *o, const void *buf, size_t len)
{
	struct oracle_report rep;
	char hex[33];
	const char *why;

	putc('[', o);
	if (buf && !oracle_report_parse(buf, len, &rep, &why)) {
		for (size_t i = 0; i < rep.ndevices; i++) {
			const struct oracle_report_device *d = &rep.devices[i];

			oracle_hex(d->id, 16, hex);
			fprintf(o, "%s{\"device\":\"%s\",\"value\":%" PRId64
				",\"weight\":%" PRIu64 ",\"excluded\":%u,"
				"\"excluded_name\":\"%s\"}", i ? "," : "", hex,
				d->value, d->weight, d->excluded,
				oracle_excl_name(d->excluded));
		}
		oracle_report_release(&rep);
	}
	putc(']', o);
}

static void feeds(FILE *o, const struct od_config *c, struct store *s, bool json)
{
	sqlite3_stmt *st = store_prep(s, "SELECT last_round, settled, last_value "
				      "FROM feed_state WHERE feed=?");
	/* the last STATUS_ROUNDS final reports, oldest first */
	sqlite3_stmt *fin = store_prep(s, "SELECT * FROM (SELECT f.round, f.status, "
				       "f.value, f.signers, f.data, EXISTS(SELECT 1 FROM "
				       "bundle b WHERE b.feed=f.feed AND b.round=f.round) "
				       "FROM final f WHERE f.feed=? ORDER BY f.round DESC "
				       "LIMIT " STATUS_ROUNDS ") ORDER BY round");

	fprintf(o, json ? "\"feeds\":[" : "feeds:\n");
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
			fprintf(o, "%s{\"name\":\"%s\",\"feed_id\":\"%s\",\"decimals\":%d,"
			       "\"last_round\":%" PRId64 ",\"settled\":%s,"
			       "\"last_value\":%" PRId64 ",\"tau\":%" PRId64
			       ",\"period\":%" PRIu64 ",\"final\":[", i ? "," : "",
			       f->name, fid, f->p.decimals, last,
			       settled ? "true" : "false", value, f->p.tau, f->period);
		else
			fprintf(o, "  %s  last round %" PRId64 ", last settled value %"
			       PRId64 " (decimals %d)\n", f->name, last, value,
			       f->p.decimals);
		sqlite3_reset(fin);
		sqlite3_bind_text(fin, 1, f->name, -1, SQLITE_STATIC);
		while (sqlite3_step(fin) == SQLITE_ROW) {
			int status = sqlite3_column_int(fin, 1);

			if (json) {
				fprintf(o, "%s{\"round\":%" PRId64 ",\"status\":%d,\"status_name\":"
				       "\"%s\",\"value\":%" PRId64 ",\"signers\":%d,"
				       "\"bundle\":%s,\"devices\":",
				       k++ ? "," : "", (int64_t)sqlite3_column_int64(fin, 0),
				       status, oracle_status_name((unsigned int)status),
				       (int64_t)sqlite3_column_int64(fin, 2), sqlite3_column_int(fin, 3),
				       sqlite3_column_int(fin, 5) ? "true" : "false");
				round_devices(o, sqlite3_column_blob(fin, 4),
					      (size_t)sqlite3_column_bytes(fin, 4));
				putc('}', o);
			} else
				fprintf(o, "    final round %" PRId64 ": %s value %" PRId64
				       " (%d signatures)\n", (int64_t)sqlite3_column_int64(fin, 0),
				       oracle_status_name((unsigned int)status),
				       (int64_t)sqlite3_column_int64(fin, 2), sqlite3_column_int(fin, 3));
		}
		fprintf(o, json ? "]}" : "");
	}
	sqlite3_finalize(st);
	sqlite3_finalize(fin);
	fprintf(o, json ? "]," : "");
}

static void devices(FILE *o, const struct od_config *c, struct store *s, bool json)
{
	sqlite3_stmt *st = store_prep(s, "SELECT rep FROM reputation WHERE device=?");
	sqlite3_stmt *hist = store_prep(s, "SELECT round, rep FROM rep_hist WHERE "
					"feed=? AND device=? ORDER BY round");
	int k = 0;

	fprintf(o, json ? "\"devices\":[" : "devices:\n");
	for (int i = 0; st && hist && i < c->nfeeds; i++)
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
			if (json) {
				fprintf(o, "%s{\"device\":\"%s\",\"feed\":\"%s\",\"gateway\":"
				       "\"%s\",\"stream\":%u,\"tier\":%d,\"reputation_ppm\":%"
				       PRId64 ",\"reputation_history\":[", k++ ? "," : "", hex,
				       c->feed[i].name, fs->gwid, fs->stream,
				       c->gw[fs->gw].tier, rep);
				/* [round, reputation after it], oldest first */
				sqlite3_reset(hist);
				sqlite3_bind_text(hist, 1, c->feed[i].name, -1, SQLITE_STATIC);
				sqlite3_bind_blob(hist, 2, dev, 16, SQLITE_STATIC);
				for (int h = 0; sqlite3_step(hist) == SQLITE_ROW; h++)
					fprintf(o, "%s[%" PRId64 ",%" PRId64 "]", h ? "," : "",
						(int64_t)sqlite3_column_int64(hist, 0),
						(int64_t)sqlite3_column_int64(hist, 1));
				fprintf(o, "]}");
			} else
				fprintf(o, "  %s  %s %s:%u  tier %d  reputation %.6f\n", hex,
				       c->feed[i].name, fs->gwid, fs->stream,
				       c->gw[fs->gw].tier, (double)rep / ORACLE_REP_ONE);
		}
	sqlite3_finalize(st);
	sqlite3_finalize(hist);
	fprintf(o, json ? "]," : "");
}

void status_render(FILE *o, const struct od_config *cfg, struct store *s,
		   const char *node_hex, const struct od_parts *live, bool json)
{
	if (json)
		fprintf(o, "{\"node\":\"%s\",\"schema\":%d,", node_hex, STORE_SCHEMA);
	else
		fprintf(o, "node %s, database %s (schema %d)\n", node_hex, cfg->db,
			STORE_SCHEMA);
	if (json && live) {
		const struct ingest_stats *is = ingest_stats(live->in);
		const struct round_stats *rs = round_stats(live->rd);
		const struct reports_stats *ps = reports_stats(live->rp);

		fprintf(o, "\"health\":{\"connected\":%s,\"uptime_s\":%" PRId64
			",\"messages\":%" PRIu64 ",\"records_verified\":%" PRIu64
			",\"records_failed\":%" PRIu64 ",\"rounds_reported\":%" PRIu64
			",\"rounds_halted\":%" PRIu64 ",\"reports_final\":%" PRIu64
			",\"reports_rejected\":%" PRIu64 ",\"beacon_round\":%" PRIu64
			",\"beacons_known\":%" PRIu64 ",\"readings_excluded\":"
			"{\"stale_beacon\":%" PRIu64 "}},",
			live->connected ? "true" : "false",
			(int64_t)(time(NULL) - live->started), is->messages,
			is->verified, is->failed, rs->reported, rs->halted,
			ps->final, ps->rejected, beacons_stats(live->bc)->own_round,
			fresh_stats(ingest_fresh(live->in))->known,
			rs->readings_stale);
	}
	gateways(o, cfg, s, live, json);
	feeds(o, cfg, s, json);
	devices(o, cfg, s, json);
	if (json)
		fprintf(o, "\"audit_events\":%" PRId64 "}\n",
			count(s, "SELECT count(*) FROM audit", NULL));
	else
		fprintf(o, "audit log: %" PRId64 " events\n",
			count(s, "SELECT count(*) FROM audit", NULL));
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
	status_render(stdout, &cfg, &s, id, NULL, json);
	store_fini(&s);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Reports: every node's signed round reports (attestio/v1/report/<feed>/
 * <node>), checked (strict CBOR, evidence root, signature recovering to
 * the topic's node, a whitelisted node, this feed's id and config
 * digest) and kept; a round's report is final once t distinct whitelisted
 * nodes signed the same core (report.c's t-of-n collection).  The final
 * report is stored with its signatures in whitelist order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oracled.h"
#include "report_cbor.h"

struct reports {
	const struct od_config *c;
	struct store *s;
	struct reports_stats st;
};

int reports_init(struct reports **rp, const struct od_config *c,
		 struct store *s)
{
	struct reports *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->c = c;
	r->s = s;
	*rp = r;
	return 0;
}

void reports_fini(struct reports *r)
{
	free(r);
}

const struct reports_stats *reports_stats(const struct reports *r)
{
	return &r->st;
}

static void reject(struct reports *r, const char *feed, const char *node,
		   const char *why)
{
	r->st.rejected++;
	od_log("report on %s from %s rejected: %s", feed, node, why);
}

/* Count the signatures over @core for (feed, round); store it if final. */
static void assemble(struct reports *r, const struct od_feed_conf *f,
		     const struct oracle_report *rep, const uint8_t *core,
		     const uint8_t *buf, size_t len)
{
	struct oracle_quorum *q = calloc(1, sizeof(*q));
	uint8_t sigs[OD_MAX_NODES][ORACLE_SIG_LEN];
	sqlite3_stmt *st;
	const char *why;
	size_t ns;

	if (!q)
		return;
	st = store_prep(r->s, "SELECT count(*) FROM final WHERE feed=? AND round=?");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)rep->core.round);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0)) {
		sqlite3_finalize(st);
		goto out;	/* already final */
	}
	sqlite3_finalize(st);
	if (oracle_quorum_init(q, &rep->core, (const uint8_t (*)[ORACLE_PUB_LEN])r->c->nodes,
			       r->c->nnodes, r->c->t, &why))
		goto out;
	st = store_prep(r->s, "SELECT data FROM report WHERE feed=? AND round=? AND core=?");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)rep->core.round);
	sqlite3_bind_blob(st, 3, core, ORACLE_CORE_LEN, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct oracle_report o;

		if (oracle_report_parse(sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0), &o, &why))
			continue;
		oracle_quorum_add(q, o.sig, &why);
		oracle_report_release(&o);
	}
	sqlite3_finalize(st);
	if (!oracle_quorum_final(q))
		goto out;
	ns = oracle_quorum_sigs(q, sigs, OD_MAX_NODES);
	st = store_prep(r->s, "INSERT OR IGNORE INTO final VALUES(?,?,?,?,?,?,?,?,?)");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)rep->core.round);
	sqlite3_bind_blob(st, 3, core, ORACLE_CORE_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, rep->core.status);
	sqlite3_bind_int64(st, 5, rep->core.value);
	sqlite3_bind_int64(st, 6, (int64_t)ns);
	sqlite3_bind_blob(st, 7, sigs, (int)(ns * ORACLE_SIG_LEN), SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, buf, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)time(NULL));
	if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(r->s->db)) {
		r->st.final++;
		store_audit(r->s, "final", f->name, "round %" PRIu64 " %s value %"
			    PRId64 ": %zu of %zu nodes signed (t = %zu)",
			    rep->core.round, oracle_status_name(rep->core.status),
			    rep->core.value, ns, r->c->nnodes, r->c->t);
	}
	sqlite3_finalize(st);
out:
	free(q);
}

void reports_message(struct reports *r, const char *feed, const char *node,
		     const uint8_t *buf, size_t len)
{
	const struct od_feed_conf *f = NULL;
	uint8_t pub[ORACLE_PUB_LEN], core[ORACLE_CORE_LEN];
	char id[ORACLE_NODE_ID_HEX];
	struct oracle_report rep;
	sqlite3_stmt *st;
	const char *why;
	bool listed = false;

	r->st.received++;
	for (int i = 0; i < r->c->nfeeds; i++)
		if (!strcmp(r->c->feed[i].name, feed))
			f = &r->c->feed[i];
	if (!f)
		return reject(r, feed, node, "not a feed of this node's configuration");
	if (oracle_report_parse(buf, len, &rep, &why))
		return reject(r, feed, node, why);
	if (oracle_report_verify(&rep, pub, &why)) {
		reject(r, feed, node, why);
		goto out;
	}
	oracle_hex(rep.node_id, ORACLE_NODE_ID_LEN, id);
	for (size_t i = 0; i < r->c->nnodes; i++)
		listed |= !memcmp(r->c->nodes[i], pub, ORACLE_PUB_LEN);
	if (strcmp(id, node))
		why = "signed by another node than the topic's";
	else if (!listed)
		why = "signer is not a whitelisted node ([quorum] node)";
	else if (memcmp(rep.core.feed_id, f->feed_id, 32))
		why = "feed id is not this feed's";
	else if (memcmp(rep.core.config_digest, f->config_digest, 32))
		why = "config digest differs from this node's feed configuration";
	else
		why = NULL;
	if (why) {
		reject(r, feed, node, why);
		goto out;
	}
	oracle_core_encode(&rep.core, core);
	if (store_begin(r->s))
		goto out;
	st = store_prep(r->s, "INSERT OR IGNORE INTO report VALUES(?,?,?,?,?,?,?,?)");
	if (st) {
		sqlite3_bind_text(st, 1, feed, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)rep.core.round);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, core, sizeof(core), SQLITE_STATIC);
		sqlite3_bind_int(st, 5, rep.core.status);
		sqlite3_bind_int64(st, 6, rep.core.value);
		sqlite3_bind_blob(st, 7, buf, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	assemble(r, f, &rep, core, buf, len);
	store_commit(r->s);
out:
	oracle_report_release(&rep);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Ingest (ingest.h).  Per gateway one libattestio verifier (allow_join,
 * allow_lost: a node stores every record with its verdict, whatever it is)
 * fed strictly in seq order per stream: a record after a hole that no
 * `lost` record excuses is dropped (the gateway retransmits it after the
 * missing ones), a record already fed is a duplicate.  A chain is acked up
 * to N once every record up to N has its final verdict and is committed.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libattestio.h>
#include <sqlite3.h>

#include "ack.h"
#include "ingest.h"

struct fed {
	uint64_t seq;
	int final;
};

struct chain {
	bool known;
	uint64_t instance;
	uint32_t stream, gen;
	int64_t expected;	/* next seq to feed, -1: accept any first */
	int64_t frontier;	/* acked up to, -1 none */
	struct fed *q;		/* fed, oldest first */
	size_t qh, qn, qcap;
	bool current;
};

struct gw {
	char id[33];
	uint8_t bin[16];
	struct att_key *ak;
	struct att_verifier *v;
	uint64_t allowance;	/* records lost records excuse */
	struct chain *ch;	/* all chains seen */
	size_t nch, capch;
	int cur[ATTESTIO_MAX_STREAMS];	/* index of each stream's chain, -1 */
	struct ingest *in;
	bool changed;
};

struct ingest {
	const struct ingest_config *c;
	sqlite3 *db;
	sqlite3_stmt *ins, *upd;
	struct oracle_signer signer;
	char node_hex[33];
	struct gw gw[INGEST_MAX_GW];
	int ngw;
	struct ingest_stats st;
	struct oracle_ack ack;
};

static int exec(sqlite3 *db, const char *sql)
{
	char *m = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &m) != SQLITE_OK) {
		fprintf(stderr, "attestio-oracle: %s: %s\n", sql, m ? m : "?");
		sqlite3_free(m);
		return -EIO;
	}
	return 0;
}

static struct chain *chain_get(struct gw *g, uint32_t stream, bool known,
			       uint64_t inst, uint32_t gen)
{
	struct chain *c;

	for (size_t i = 0; known && i < g->nch; i++) {
		c = &g->ch[i];
		if (c->known && c->instance == inst && c->stream == stream &&
		    c->gen == gen)
			return c;
	}
	if (g->nch == g->capch) {
		size_t n = g->capch ? 2 * g->capch : 16;
		struct chain *nc = realloc(g->ch, n * sizeof(*nc));

		if (!nc)
			return NULL;
		g->ch = nc;
		g->capch = n;
	}
	c = &g->ch[g->nch++];
	memset(c, 0, sizeof(*c));
	c->known = known;
	c->instance = inst;
	c->stream = stream;
	c->gen = gen;
	c->expected = -1;
	c->frontier = -1;
	return c;
}

static void on_verdict(void *ctx, const struct att_verdict *vd)
{
	struct gw *g = ctx;
	struct ingest *in = g->in;
	struct chain *c;

	if (vd->state == ATT_REC_MISSING || vd->state == ATT_REC_LOCAL ||
	    vd->stream >= ATTESTIO_MAX_STREAMS || g->cur[vd->stream] < 0)
		return;
	c = &g->ch[g->cur[vd->stream]];
	if (vd->state == ATT_REC_VERIFIED)
		in->st.verified++;
	else
		in->st.failed++;
	for (size_t i = 0; i < c->qn; i++) {
		struct fed *f = &c->q[(c->qh + i) % c->qcap];

		if (f->seq == vd->seq) {
			f->final = 1;
			break;
		}
	}
	sqlite3_reset(in->upd);
	sqlite3_bind_int(in->upd, 1, (int)vd->state);
	sqlite3_bind_text(in->upd, 2, g->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->upd, 3, (int64_t)c->instance);
	sqlite3_bind_int64(in->upd, 4, vd->stream);
	sqlite3_bind_int64(in->upd, 5, c->gen);
	sqlite3_bind_int64(in->upd, 6, (int64_t)vd->seq);
	sqlite3_step(in->upd);
}

int ingest_init(struct ingest **ip, const struct ingest_config *c)
{
	struct ingest *in = calloc(1, sizeof(*in));
	struct att_err e;

	if (!in)
		return -ENOMEM;
	in->c = c;
	if (oracle_signer_init(&in->signer, c->seckey)) {
		fprintf(stderr, "attestio-oracle: invalid node key\n");
		free(in);
		return -EINVAL;
	}
	oracle_hex(in->signer.node_id, 16, in->node_hex);
	if (sqlite3_open(c->db, &in->db) != SQLITE_OK ||
	    exec(in->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		 "CREATE TABLE IF NOT EXISTS rec(gw TEXT, instance INTEGER,"
		 " stream INTEGER, gen INTEGER, seq INTEGER, type INTEGER,"
		 " state INTEGER, data BLOB,"
		 " PRIMARY KEY(gw, instance, stream, gen, seq));"
		 "CREATE TABLE IF NOT EXISTS lost(id INTEGER PRIMARY KEY, gw TEXT,"
		 " records INTEGER, data BLOB);") ||
	    sqlite3_prepare_v2(in->db, "INSERT OR IGNORE INTO rec VALUES"
			       "(?,?,?,?,?,?,1,?)", -1, &in->ins, NULL) ||
	    sqlite3_prepare_v2(in->db, "UPDATE rec SET state=? WHERE gw=? AND "
			       "instance=? AND stream=? AND gen=? AND seq=?", -1,
			       &in->upd, NULL)) {
		ingest_fini(in);
		return -EIO;
	}
	for (int i = 0; i < c->ngw; i++) {
		struct gw *g = &in->gw[i];
		struct att_verifier_opts o = {
			.allow_join = true, .allow_lost = true,
			.on_verdict = on_verdict, .ctx = g,
		};

		strcpy(g->id, c->gw_id[i]);
		oracle_unhex(g->id, g->bin, 16);
		g->in = in;
		for (int s = 0; s < ATTESTIO_MAX_STREAMS; s++)
			g->cur[s] = -1;
		if (att_key_load(c->gw_ak[i], &g->ak, &e)) {
			fprintf(stderr, "attestio-oracle: gateway %s: %s\n", g->id, e.msg);
			in->ngw = i;
			ingest_fini(in);
			return -EINVAL;
		}
		o.ak = g->ak;
		g->v = att_verifier_new(&o);
	}
	in->ngw = c->ngw;
	*ip = in;
	return 0;
}

void ingest_fini(struct ingest *in)
{
	if (!in)
		return;
	for (int i = 0; i < in->ngw; i++) {
		att_verifier_free(in->gw[i].v);
		att_key_free(in->gw[i].ak);
		for (size_t k = 0; k < in->gw[i].nch; k++)
			free(in->gw[i].ch[k].q);
		free(in->gw[i].ch);
	}
	sqlite3_finalize(in->ins);
	sqlite3_finalize(in->upd);
	sqlite3_close(in->db);
	oracle_signer_fini(&in->signer);
	free(in);
}

static bool reveals(const uint8_t *rec, uint32_t len, uint16_t type,
		    uint64_t *inst, uint32_t *gen)
{
	const uint8_t *pl = rec + sizeof(struct attestio_rec_hdr);

	if (type == ATTESTIO_REC_DESCRIPTOR &&
	    len >= sizeof(struct attestio_rec_hdr) + sizeof(struct attestio_descriptor)) {
		const struct attestio_descriptor *d = (const void *)pl;

		*inst = le64toh(d->instance);
		*gen = le32toh(d->generation);
		return true;
	}
	if (type == ATTESTIO_REC_CHECKPOINT &&
	    len >= sizeof(struct attestio_rec_hdr) + sizeof(struct attestio_checkpoint)) {
		struct attestio_checkpoint cp;
		struct attestio_cp_head h;
		size_t off = sizeof(struct attestio_rec_hdr) + sizeof(cp);

		memcpy(&cp, pl, sizeof(cp));
		if (off + (size_t)(le16toh(cp.self) + 1) * sizeof(h) > len)
			return false;
		memcpy(&h, rec + off + le16toh(cp.self) * sizeof(h), sizeof(h));
		*inst = le64toh(cp.instance);
		*gen = le32toh(h.generation);
		return true;
	}
	return false;
}

static int q_push(struct chain *c, uint64_t seq)
{
	if (c->qn == c->qcap) {
		size_t n = c->qcap ? 2 * c->qcap : 256;
		struct fed *nq = malloc(n * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		for (size_t i = 0; i < c->qn; i++)
			nq[i] = c->q[(c->qh + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qh = 0;
		c->qcap = n;
	}
	c->q[(c->qh + c->qn++) % c->qcap] = (struct fed){ seq, 0 };
	return 0;
}

static void one(struct ingest *in, struct gw *g, const uint8_t *rec, uint32_t len)
{
	struct attestio_rec_hdr h;
	struct att_err e;
	struct chain *c;
	uint64_t seq, inst;
	uint32_t stream, gen;
	uint16_t type;

	memcpy(&h, rec, sizeof(h));
	type = le16toh(h.type);
	stream = le32toh(h.stream);
	seq = le64toh(h.seq);
	in->st.records++;
	if (le32toh(h.flags) & ATTESTIO_RF_UNCHAINED) {
		sqlite3_stmt *st;
		struct attestio_lost l = { 0 };

		if (len >= sizeof(h) + sizeof(l))
			memcpy(&l, rec + sizeof(h), sizeof(l));
		g->allowance += le64toh(l.records);
		att_verifier_feed(g->v, rec, len, NULL, &e);
		if (!sqlite3_prepare_v2(in->db, "INSERT INTO lost(gw, records, data) "
					"VALUES(?,?,?)", -1, &st, NULL)) {
			sqlite3_bind_text(st, 1, g->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (int64_t)le64toh(l.records));
			sqlite3_bind_blob(st, 3, rec, (int)len, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		return;
	}
	if (stream >= ATTESTIO_MAX_STREAMS)
		return;
	c = g->cur[stream] >= 0 ? &g->ch[g->cur[stream]] : NULL;
	if (reveals(rec, len, type, &inst, &gen) &&
	    (!c || !c->known || c->instance != inst || c->gen != gen)) {
		if (c && !c->known) {	/* the stream's unknown chain is this one */
			c->known = true;
			c->instance = inst;
			c->gen = gen;
		} else {
			struct chain *n = chain_get(g, stream, true, inst, gen);

			if (!n)
				return;
			g->cur[stream] = (int)(n - g->ch);
			c = n;
		}
	}
	if (!c) {
		c = chain_get(g, stream, false, 0, 0);
		if (!c)
			return;
		g->cur[stream] = (int)(c - g->ch);
	}
	if (c->expected >= 0 && (int64_t)seq < c->expected) {
		in->st.dups++;
		g->changed = true;	/* re-ack: the gateway may have lost it */
		return;
	}
	if (c->expected >= 0 && (int64_t)seq > c->expected) {
		uint64_t hole = seq - (uint64_t)c->expected;

		if (g->allowance < hole) {
			in->st.out_of_order++;	/* wait for the retransmission */
			return;
		}
		g->allowance -= hole;
	}
	c->expected = (int64_t)seq + 1;
	if (q_push(c, seq))
		return;
	sqlite3_reset(in->ins);
	sqlite3_bind_text(in->ins, 1, g->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->ins, 2, (int64_t)c->instance);
	sqlite3_bind_int64(in->ins, 3, stream);
	sqlite3_bind_int64(in->ins, 4, c->gen);
	sqlite3_bind_int64(in->ins, 5, (int64_t)seq);
	sqlite3_bind_int(in->ins, 6, type);
	sqlite3_bind_blob(in->ins, 7, rec, (int)len, SQLITE_STATIC);
	if (sqlite3_step(in->ins) == SQLITE_DONE && sqlite3_changes(in->db))
		in->st.stored++;
	att_verifier_feed(g->v, rec, len, NULL, &e);
}

int ingest_message(struct ingest *in, const char *gwid, const uint8_t *buf,
		   size_t len, uint8_t *ack, size_t cap, size_t *acklen)
{
	struct gw *g = NULL;
	size_t off = 0;

	*acklen = 0;
	for (int i = 0; i < in->ngw; i++)
		if (!strcmp(in->gw[i].id, gwid))
			g = &in->gw[i];
	if (!g) {
		in->st.bad_gw++;
		return -ENOENT;
	}
	in->st.messages++;
	if (exec(in->db, "BEGIN IMMEDIATE"))
		return -EIO;
	while (len - off >= sizeof(struct attestio_rec_hdr)) {
		struct attestio_rec_hdr h;
		uint32_t l;

		memcpy(&h, buf + off, sizeof(h));
		l = le32toh(h.len);
		if (l < sizeof(h) || l > ATTESTIO_REC_MAX_LEN || l > len - off)
			break;	/* malformed batch: the rest is ignored */
		one(in, g, buf + off, l);
		off += l;
	}
	if (exec(in->db, "COMMIT")) {
		exec(in->db, "ROLLBACK");
		return -EIO;
	}
	/* Stored and committed: advance each chain over final verdicts. */
	for (size_t i = 0; i < g->nch; i++) {
		struct chain *c = &g->ch[i];

		while (c->qn && c->q[c->qh].final) {
			c->frontier = (int64_t)c->q[c->qh].seq;
			c->qh = (c->qh + 1) % c->qcap;
			c->qn--;
			g->changed = true;
		}
	}
	if (!g->changed)
		return 0;
	g->changed = false;
	memset(&in->ack, 0, sizeof(in->ack));
	memcpy(in->ack.gw, g->bin, 16);
	for (size_t i = 0; i < g->nch && in->ack.n < ORACLE_ACK_MAX_ENTRIES; i++) {
		struct chain *c = &g->ch[i];

		if (c->known && c->frontier >= 0)
			in->ack.e[in->ack.n++] = (struct oracle_ack_entry){
				c->instance, c->stream, c->gen, (uint64_t)c->frontier };
	}
	if (!in->ack.n || oracle_ack_sort(&in->ack) ||
	    oracle_ack_sign(&in->ack, &in->signer) ||
	    oracle_ack_encode(&in->ack, 0, ack, cap, acklen))
		return *acklen = 0, 0;
	in->st.acks_sent++;
	return 0;
}

const struct ingest_stats *ingest_stats(const struct ingest *in)
{
	return &in->st;
}

const char *ingest_node_id(const struct ingest *in)
{
	return in->node_hex;
}

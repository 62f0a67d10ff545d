// SPDX-License-Identifier: GPL-2.0
/*
 * Registry: the gateways this node accepts records from, with their
 * attestation key (libattestio checks it: TPM2B_PUBLIC or enrollment
 * bundle carry the key's TPM attributes), PCR policy, assurance tier and
 * site from the configuration, and their state (active, quarantined,
 * revoked) from the database, where the node and `attestio-oracle admin`
 * write it, each change an audit event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libattestio.h>
#include <openssl/sha.h>

#include "ack.h"
#include "gwstatus.h"
#include "oracled.h"

struct registry {
	const struct od_config *c;
	uint64_t reports_ok, reports_bad;	/* gateway status reports */
	struct store *s;
	int n;
	struct reg_gw gw[OD_MAX_GW];
};

static const char *const state_names[] = { "active", "quarantined", "revoked" };

const char *gw_state_name(enum gw_state s)
{
	return (unsigned int)s < 3 ? state_names[s] : "unknown";
}

void device_id(const uint8_t gw[16], uint32_t stream, uint8_t id[16])
{
	oracle_device_id(gw, stream, id);
}

static int load_state(struct registry *r, struct reg_gw *g, bool log)
{
	sqlite3_stmt *st = store_stmt(r->s, "SELECT state, reason FROM gateway "
				      "WHERE id=?");
	enum gw_state old = g->state;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, g->conf->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *why = (const char *)sqlite3_column_text(st, 1);

		g->state = (enum gw_state)sqlite3_column_int(st, 0);
		snprintf(g->reason, sizeof(g->reason), "%s", why ? why : "");
	} else {
		g->state = GW_ACTIVE;
		g->reason[0] = 0;
	}
	store_done(r->s, st);
	if (log && old != g->state)
		od_log("gateway %s is now %s%s%s", g->conf->id,
		       gw_state_name(g->state), *g->reason ? ": " : "", g->reason);
	return 0;
}

/* [gateway ID] boot_log_ref: read and parse it once, at start. */
static int boot_ref_load(struct reg_gw *g, char *err, size_t len, const char *conf)
{
	const char *path = g->conf->boot_log_ref;
	struct att_err e = { 0 };
	struct att_eventlog l;
	FILE *f = fopen(path, "rb");
	long n = -1;

	if (f && !fseek(f, 0, SEEK_END))
		n = ftell(f);
	if (!f || n < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, len, "%s: gateway %s: boot_log_ref %s: cannot read it",
			 conf, g->conf->id, path);
		goto fail;
	}
	if ((unsigned long)n > ATT_EVENTLOG_MAX) {
		snprintf(err, len, "%s: gateway %s: boot_log_ref %s: %ld bytes, more "
			 "than the %u allowed", conf, g->conf->id, path, n,
			 ATT_EVENTLOG_MAX);
		goto fail;
	}
	g->boot_ref = malloc(n ? (size_t)n : 1);
	g->boot_ref_len = (size_t)n;
	if (!g->boot_ref || fread(g->boot_ref, 1, g->boot_ref_len, f) != g->boot_ref_len) {
		snprintf(err, len, "%s: gateway %s: boot_log_ref %s: cannot read it",
			 conf, g->conf->id, path);
		goto fail;
	}
	fclose(f);
	f = NULL;
	if (att_eventlog_parse(g->boot_ref, g->boot_ref_len, &l, &e)) {
		snprintf(err, len, "%s: gateway %s: boot_log_ref %s: %s", conf,
			 g->conf->id, path, e.msg);
		goto fail;
	}
	att_eventlog_free(&l);
	return 0;
fail:
	if (f)
		fclose(f);
	free(g->boot_ref);
	g->boot_ref = NULL;
	g->boot_ref_len = 0;
	return -1;
}

int registry_tier_proved(bool policy, bool ek_cert_ok)
{
	return !policy ? 1 : ek_cert_ok ? 3 : 2;
}

int registry_tier(const struct reg_gw *g)
{
	int t = g->conf->enroll ? g->tier_proved : g->conf->tier;

	if (g->state != GW_ACTIVE || (g->conf->enroll && !g->admitted))
		return 0;
	if (t > g->conf->tier)		/* config caps, never raises */
		t = g->conf->tier;
	/* a key not yet proven kernel-exclusive: at most 1 */
	return g->kernel_key_proven || t < 1 ? t : 1;
}

/* The admitted AK of @g from its bundle: key, kernel-key rule, tier. */
static int take_bundle(struct reg_gw *g, uint8_t *bundle, size_t len,
		       bool ek_cert_ok)
{
	struct att_enroll_bundle b;
	struct att_key *ak = NULL;
	struct att_err e;

	if (att_enroll_parse(bundle, len, &b, &e))
		return -EINVAL;
	if (att_key_parse(bundle, len, &ak, &e) || b.ak_name_len != 34) {
		att_enroll_free(&b);
		return -EINVAL;
	}
	SHA256(b.ek_pub + 2, b.ek_pub_len - 2, g->ek_hash);
	memcpy(g->ak_name, b.ak_name, 34);
	att_enroll_free(&b);
	att_key_free(g->ak);
	g->ak = ak;
	free(g->bundle);
	g->bundle = bundle;
	g->bundle_len = len;
	g->ek_cert_ok = ek_cert_ok;
	g->tier_proved = registry_tier_proved(g->policy, ek_cert_ok);
	g->kernel_key = g->conf->kernel_key == OD_KK_REQUIRED ||
			(g->conf->kernel_key == OD_KK_AUTO &&
			 att_key_certify_only(ak));
	g->admitted = true;
	return 0;
}

static int load_admission(struct registry *r, struct reg_gw *g)
{
	sqlite3_stmt *st = store_prep(r->s, "SELECT bundle, ek_cert FROM "
				      "enrollment WHERE gw=?");
	int ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, g->conf->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		uint8_t *b = malloc(len ? len : 1);

		ret = -ENOMEM;
		if (b) {
			memcpy(b, sqlite3_column_blob(st, 0), len);
			ret = take_bundle(g, b, len, sqlite3_column_int(st, 1));
			if (ret)
				free(b);
		}
	}
	sqlite3_finalize(st);
	return ret;
}

int registry_admit(struct registry *r, struct reg_gw *g, const uint8_t *bundle,
		   size_t len, bool ek_cert_ok, const char *node_hex)
{
	struct reg_gw t = *g;	/* g changes only once it is stored */
	uint8_t *copy = malloc(len);
	sqlite3_stmt *q;
	int ret = -EIO;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, bundle, len);
	t.ak = NULL;
	t.bundle = NULL;
	/* proven for the key it replaces, not for this one: at most tier 1
	 * until a checkpoint verifies under the new AK's KSK */
	t.kernel_key_proven = false;
	if (take_bundle(&t, copy, len, ek_cert_ok)) {
		free(copy);
		return -EINVAL;
	}
	q = store_prep(r->s, "INSERT OR REPLACE INTO enrollment(gw, ek, ak_name,"
		       " bundle, ek_cert, tier, node, time) VALUES(?,?,?,?,?,?,?,?)");
	if (q && !store_begin(r->s)) {
		sqlite3_bind_text(q, 1, t.conf->id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 2, t.ek_hash, 32, SQLITE_STATIC);
		sqlite3_bind_blob(q, 3, t.ak_name, 34, SQLITE_STATIC);
		sqlite3_bind_blob(q, 4, bundle, (int)len, SQLITE_STATIC);
		sqlite3_bind_int(q, 5, ek_cert_ok);
		sqlite3_bind_int(q, 6, t.tier_proved);
		sqlite3_bind_text(q, 7, node_hex, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 8, (int64_t)time(NULL));
		if (sqlite3_step(q) == SQLITE_DONE) {
			store_audit(r->s, "admitted", t.conf->id, "credential "
				    "activation%s%s: tier %d proved (cap %d)",
				    t.policy ? " + PCR policy" : "",
				    ek_cert_ok ? " + EK certificate chain" : "",
				    t.tier_proved, t.conf->tier);
			ret = store_commit(r->s);
		} else {
			store_rollback(r->s);
		}
	}
	sqlite3_finalize(q);
	if (ret) {
		att_key_free(t.ak);
		free(t.bundle);
		return ret;
	}
	att_key_free(g->ak);	/* a rotated AK: the old one goes */
	free(g->bundle);
	*g = t;
	od_log("gateway %s: admitted (credential activation%s%s): tier %d",
	       g->conf->id, g->policy ? ", PCR policy" : "",
	       ek_cert_ok ? ", EK certificate chain" : "", g->tier_proved);
	return 0;
}

int registry_init(struct registry **rp, const struct od_config *c,
		  struct store *s, char *err, size_t len)
{
	struct registry *r = calloc(1, sizeof(*r));
	struct att_err e;

	if (!r)
		return -ENOMEM;
	r->c = c;
	r->s = s;
	for (int i = 0; i < c->ngw; i++) {
		struct reg_gw *g = &r->gw[i];
		const char *site = *c->gw[i].site ? c->gw[i].site : c->gw[i].id;

		g->conf = &c->gw[i];
		oracle_unhex(g->conf->id, g->bin, 16);
		oracle_site_id(site, strlen(site), g->site);
		r->n = i + 1;
		if (g->conf->enroll)
			goto policy;	/* the AK comes from the enrollment */
		if (att_key_load(g->conf->ak, &g->ak, &e)) {
			snprintf(err, len, "%s: gateway %s: ak %s: %s", c->path,
				 g->conf->id, g->conf->ak, e.msg);
			goto fail;
		}
		if (att_key_simulated(g->ak) && !c->allow_simulated) {
			snprintf(err, len, "%s: gateway %s: ak %s is a simulated "
				 "gateway's software key (attestio-sim), not a TPM's; "
				 "a node admits simulated gateways only with "
				 "[node] allow_simulated = true (tests and benchmarks)",
				 c->path, g->conf->id, g->conf->ak);
			goto fail;
		}
		if (att_key_simulated(g->ak))
			od_log("gateway %s: SIMULATED (attestio-sim software key %s), "
			       "admitted because allow_simulated = true", g->conf->id,
			       g->conf->ak);
policy:
		if (*g->conf->policy &&
		    att_policy_load(g->conf->policy, &g->policy, &e)) {
			snprintf(err, len, "%s: gateway %s: policy %s: %s",
				 c->path, g->conf->id, g->conf->policy, e.msg);
			goto fail;
		}
		if (*g->conf->boot_log_ref && boot_ref_load(g, err, len, c->path))
			goto fail;
		if (load_state(r, g, false)) {
			snprintf(err, len, "database %s: cannot read gateway states",
				 s->path);
			goto fail;
		}
		if (g->conf->enroll) {
			if (load_admission(r, g)) {
				snprintf(err, len, "database %s: gateway %s: its "
					 "admitted enrollment does not load", s->path,
					 g->conf->id);
				goto fail;
			}
			continue;
		}
		g->kernel_key = g->conf->kernel_key == OD_KK_REQUIRED ||
				(g->conf->kernel_key == OD_KK_AUTO &&
				 att_key_certify_only(g->ak));
		if (g->kernel_key && !att_key_origin_checked(g->ak)) {
			snprintf(err, len, "%s: gateway %s: kernel_key = required "
				 "needs the AK as its TPM2B_PUBLIC or enrollment "
				 "bundle (ak %s is a PEM key)", c->path,
				 g->conf->id, g->conf->ak);
			goto fail;
		}
		if (!att_key_origin_checked(g->ak) && !att_key_simulated(g->ak))
			od_log("gateway %s: AK %s is a PEM key: its TPM origin is "
			       "unchecked (give its TPM2B_PUBLIC or enrollment "
			       "bundle)", g->conf->id, g->conf->ak);
	}
	*rp = r;
	return 0;
fail:
	registry_fini(r);
	return -EINVAL;
}

void registry_fini(struct registry *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		free(r->gw[i].bundle);
		att_key_free(r->gw[i].ak);
		att_policy_free(r->gw[i].policy);
		free(r->gw[i].boot_ref);
	}
	free(r);
}

struct reg_gw *registry_gw(struct registry *r, const char *id)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->gw[i].conf->id, id))
			return &r->gw[i];
	return NULL;
}

struct reg_gw *registry_at(struct registry *r, int i)
{
	return i >= 0 && i < r->n ? &r->gw[i] : NULL;
}

void registry_refresh(struct registry *r)
{
	for (int i = 0; i < r->n; i++)
		load_state(r, &r->gw[i], true);
}

static int set_state(struct store *s, const char *id, enum gw_state st,
		     const char *reason)
{
	sqlite3_stmt *q = store_prep(s, "INSERT OR REPLACE INTO gateway(id, "
				     "state, reason, since) VALUES(?,?,?,?)");
	int rc;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, (int)st);
	sqlite3_bind_text(q, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(q);
	return rc;
}

/* Reputation 0 for every device of gateway @id in any feed. */
static void zero_reputation(struct registry *r, const struct reg_gw *g)
{
	sqlite3_stmt *q = store_prep(r->s, "INSERT OR REPLACE INTO "
				     "reputation(device, rep, updated) "
				     "VALUES(?,0,?)");

	if (!q)
		return;
	for (int f = 0; f < r->c->nfeeds; f++)
		for (size_t i = 0; i < r->c->feed[f].nstreams; i++) {
			const struct od_feed_stream *fs = &r->c->feed[f].s[i];
			uint8_t dev[16];

			if (&r->c->gw[fs->gw] != g->conf)
				continue;
			device_id(g->bin, fs->stream, dev);
			sqlite3_reset(q);
			sqlite3_bind_blob(q, 1, dev, 16, SQLITE_STATIC);
			sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
			sqlite3_step(q);
		}
	sqlite3_finalize(q);
}

void registry_quarantine(struct registry *r, struct reg_gw *g,
			 const char *reason)
{
	if (g->state != GW_ACTIVE)
		return;
	g->state = GW_QUARANTINED;
	snprintf(g->reason, sizeof(g->reason), "%s", reason);
	set_state(r->s, g->conf->id, GW_QUARANTINED, g->reason);
	zero_reputation(r, g);
	store_audit(r->s, "quarantined", g->conf->id, "%s", g->reason);
}

int registry_admin(struct store *s, const char *verb, const char *gw,
		   const char *reason)
{
	enum gw_state st;
	uint8_t id[16];

	if (oracle_unhex(gw, id, 16) || strspn(gw, "0123456789abcdef") != 32) {
		fprintf(stderr, "attestio-oracle: admin: \"%s\" is not a gateway id "
			"(32 lowercase hex digits)\n", gw);
		return OD_EXIT_USAGE;
	}
	if (!strcmp(verb, "quarantine"))
		st = GW_QUARANTINED;
	else if (!strcmp(verb, "revoke"))
		st = GW_REVOKED;
	else if (!strcmp(verb, "release"))
		st = GW_ACTIVE;
	else {
		fprintf(stderr, "attestio-oracle: admin: unknown command \"%s\" "
			"(quarantine, revoke, release)\n", verb);
		return OD_EXIT_USAGE;
	}
	if (store_begin(s) || set_state(s, gw, st, reason ? reason : "")) {
		store_rollback(s);
		return OD_EXIT_DB;
	}
	store_audit(s, st == GW_ACTIVE ? "released" : st == GW_REVOKED ?
		    "revoked" : "quarantined", gw, "by admin: %s",
		    reason && *reason ? reason : "(no reason given)");
	return store_commit(s) ? OD_EXIT_DB : OD_EXIT_OK;
}

int registry_reported(struct registry *r, const char *gw, const uint8_t *buf,
		      size_t len)
{
	struct reg_gw *g = registry_gw(r, gw);
	struct oracle_gwstatus st;
	const char *why = NULL;

	if (!g || oracle_gwstatus_parse(buf, len, &st, &why) ||
	    memcmp(st.gw, g->bin, sizeof(st.gw))) {
		r->reports_bad++;
		return !g || !why ? -ENOENT : -EBADMSG;
	}
	g->rep_spool_records = st.spool_records;
	g->rep_spool_bytes = st.spool_bytes;
	g->rep_spool_age_s = st.spool_age_s;
	g->rep_beacon_round = st.beacon_round;
	g->reported_at = (int64_t)time(NULL);
	r->reports_ok++;
	return 0;
}

void registry_reports(const struct registry *r, uint64_t *ok, uint64_t *bad)
{
	*ok = r ? r->reports_ok : 0;
	*bad = r ? r->reports_bad : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * What settlement takes from a node (Documentation/oracle.md, "Exporting
 * final reports"), read only beside the running daemon:
 *
 *   attestio-oracle final --config FILE --feed NAME (--round N | --all) -o OUT
 *	[--bundle OUT]
 *	the node's final reports in liboracle's final-report format
 *	(final.h: CBOR of the ABI core and its signatures), each checked
 *	first as the contract's verifier checks it (oracle_final_check),
 *	and the node's evidence bundles of those rounds (bundle.h);
 *   attestio-oracle contract-params --config FILE --feed NAME
 *	the node-derived lines of `attestio settle`'s description file:
 *	feed_id, decimals, config_digest, f, one signer line per node.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "final.h"
#include "keccak.h"
#include "oracled.h"

static const struct od_feed_conf *find_feed(const struct od_config *c,
					    const char *name)
{
	for (int i = 0; i < c->nfeeds; i++)
		if (!strcmp(c->feed[i].name, name))
			return &c->feed[i];
	return NULL;
}

/* The oracle set a contract holds for @f: the whitelist's addresses in
 * [quorum] order, f = t - 1, the feed's config digest. */
static void feed_set(const struct od_config *c, const struct od_feed_conf *f,
		     struct oracle_set *set)
{
	memset(set, 0, sizeof(*set));
	set->n = c->nnodes;
	set->f = (unsigned int)(c->t - 1);
	for (size_t i = 0; i < c->nnodes; i++)
		oracle_eth_address(c->nodes[i], set->addrs[i]);
	memcpy(set->config_digest, f->config_digest, ORACLE_HASH_LEN);
}

static int load(const char *path, const char *feed, struct od_config *c,
		const struct od_feed_conf **f)
{
	char err[600];

	if (config_load(path, c, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_USAGE;
	}
	if (!feed) {
		od_log("--feed NAME is required (see --help)");
		return OD_EXIT_USAGE;
	}
	*f = find_feed(c, feed);
	if (!*f) {
		od_log("%s: no [feed %s] in the configuration", path, feed);
		return OD_EXIT_USAGE;
	}
	if (c->nnodes == 0 || c->t == 0) {
		od_log("%s: no [quorum] node lines: no oracle set to settle against", path);
		return OD_EXIT_USAGE;
	}
	return 0;
}

int contract_params_main(const char *path, const char *feed)
{
	static struct od_config cfg;
	const struct od_feed_conf *f;
	struct oracle_set set;
	char hex[2 * ORACLE_HASH_LEN + 1];
	int rc = load(path, feed, &cfg, &f);

	if (rc)
		return rc;
	feed_set(&cfg, f, &set);
	printf("# attestio-oracle contract-params: feed %s of %s\n", f->name, path);
	oracle_hex(f->feed_id, 32, hex);
	printf("feed_id = 0x%s\n", hex);
	printf("decimals = %d\n", f->p.decimals);
	oracle_hex(f->config_digest, 32, hex);
	printf("config_digest = 0x%s\n", hex);
	printf("f = %u\n", set.f);
	for (size_t i = 0; i < set.n; i++) {
		oracle_hex(set.addrs[i], ORACLE_ADDR_LEN, hex);
		printf("signer = 0x%s\n", hex);
	}
	return 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *o = fopen(path, "wb");

	if (!o) {
		od_log("final: cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	if (fwrite(buf, 1, len, o) != len) {
		od_log("final: cannot write %s: %s", path, strerror(errno));
		fclose(o);
		return -1;
	}
	if (fclose(o)) {
		od_log("final: cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* @round < 0: every final report of the feed into the directory @out
 * (FEED-ROUND.cbor, round zero-padded to 8 digits); else that round's
 * into the file @out ("-" = stdout). */
/* The node's evidence bundle of round @r into @name; 0, or an exit code. */
static int write_bundle(struct store *s, const struct od_feed_conf *f,
			int64_t r, const char *name)
{
	sqlite3_stmt *st = store_prep(s, "SELECT data FROM bundle WHERE feed=? "
				      "AND round=?");
	int rc = OD_EXIT_NOTFOUND;

	if (!st)
		return OD_EXIT_DB;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r);
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = write_file(name, sqlite3_column_blob(st, 0),
				(size_t)sqlite3_column_bytes(st, 0)) ?
		     OD_EXIT_RUNTIME : 0;
	else
		od_log("final: %s round %" PRId64 ": this node holds no evidence "
		       "bundle for it (it did not run the round, or it was pruned)",
		       f->name, r);
	sqlite3_finalize(st);
	return rc;
}

/* The final report of row @st (round, core, signers, sigs) into @buf,
 * checked first as the contract's verifier checks it; 0 or an exit code. */
static int final_row(sqlite3_stmt *st, const struct od_config *cfg,
		     const struct od_feed_conf *f, const struct oracle_set *set,
		     uint8_t *buf, size_t cap, size_t *len)
{
	static struct oracle_final fin;
	int64_t r = sqlite3_column_int64(st, 0);
	size_t ns = (size_t)sqlite3_column_int64(st, 2);
	struct oracle_core core;
	const char *why;

	if (sqlite3_column_bytes(st, 1) != ORACLE_CORE_LEN || ns == 0 ||
	    ns > ORACLE_QUORUM_MAX ||
	    (size_t)sqlite3_column_bytes(st, 3) != ns * ORACLE_SIG_LEN) {
		od_log("final: %s round %" PRId64 ": malformed row in %s",
		       f->name, r, cfg->db);
		return OD_EXIT_DB;
	}
	memset(&fin, 0, sizeof(fin));
	memcpy(fin.core, sqlite3_column_blob(st, 1), ORACLE_CORE_LEN);
	fin.nsigs = ns;
	memcpy(fin.sigs, sqlite3_column_blob(st, 3), ns * ORACLE_SIG_LEN);
	/* what leaves the node is what the contract accepts */
	if (oracle_final_check(&fin, set, &core, &why)) {
		od_log("final: %s round %" PRId64 " would be refused by the "
		       "verifier: %s", f->name, r, why);
		return OD_EXIT_RUNTIME;
	}
	return oracle_final_encode(&fin, buf, cap, len) ? OD_EXIT_RUNTIME : 0;
}

int final_get(struct store *s, const struct od_config *cfg, const char *feed,
	      int64_t round, uint8_t *buf, size_t cap, size_t *len)
{
	const struct od_feed_conf *f = find_feed(cfg, feed);
	struct oracle_set set;
	sqlite3_stmt *st;
	int rc = OD_EXIT_NOTFOUND;

	if (!f || cfg->nnodes == 0 || cfg->t == 0)
		return OD_EXIT_NOTFOUND;
	feed_set(cfg, f, &set);
	st = store_prep(s, "SELECT round, core, signers, sigs FROM final WHERE "
			"feed=?1 AND round=?2");
	if (!st)
		return OD_EXIT_DB;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, round);
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = final_row(st, cfg, f, &set, buf, cap, len);
	sqlite3_finalize(st);
	return rc;
}

int final_main(const char *path, const char *feed, int64_t round,
	       const char *out, const char *bundle)
{
	static struct od_config cfg;
	static uint8_t buf[ORACLE_FINAL_MAX];
	const struct od_feed_conf *f;
	struct oracle_set set;
	struct store s;
	sqlite3_stmt *st;
	char err[600];
	int rc = load(path, feed, &cfg, &f), found = 0;

	if (rc)
		return rc;
	if (!out) {
		od_log("final: -o FILE (with --round) or -o DIR (with --all) is required");
		return OD_EXIT_USAGE;
	}
	if (round < 0) {
		struct stat sb;

		if (stat(out, &sb) || !S_ISDIR(sb.st_mode) ||
		    (bundle && (stat(bundle, &sb) || !S_ISDIR(sb.st_mode)))) {
			od_log("final: --all writes into directories; %s is not one",
			       bundle ? bundle : out);
			return OD_EXIT_USAGE;
		}
	}
	if (bundle && round >= 0 && !strcmp(out, "-")) {
		od_log("final: --bundle needs -o FILE, not stdout");
		return OD_EXIT_USAGE;
	}
	feed_set(&cfg, f, &set);
	if (store_init(&s, cfg.db, STORE_READ, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_DB;
	}
	st = store_prep(&s, round < 0 ?
			"SELECT round, core, signers, sigs FROM final WHERE feed=?1 ORDER BY round" :
			"SELECT round, core, signers, sigs FROM final WHERE feed=?1 AND round=?2");
	if (!st) {
		store_fini(&s);
		return OD_EXIT_DB;
	}
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	if (round >= 0)
		sqlite3_bind_int64(st, 2, round);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t r = sqlite3_column_int64(st, 0);
		size_t len;
		char name[OD_PATH + 96];

		found++;
		if ((rc = final_row(st, &cfg, f, &set, buf, sizeof(buf), &len)))
			break;
		if (round >= 0 && !strcmp(out, "-") && !bundle) {
			if (fwrite(buf, 1, len, stdout) != len || fflush(stdout))
				rc = OD_EXIT_RUNTIME;
			continue;
		}
		if (round >= 0)
			snprintf(name, sizeof(name), "%s", out);
		else
			snprintf(name, sizeof(name), "%s/%s-%08" PRId64 ".cbor",
				 out, f->name, r);
		if (write_file(name, buf, len))
			rc = OD_EXIT_RUNTIME;
		if (!rc && bundle) {
			if (round >= 0)
				snprintf(name, sizeof(name), "%s", bundle);
			else
				snprintf(name, sizeof(name), "%s/%s-%08" PRId64
					 ".bundle", bundle, f->name, r);
			rc = write_bundle(&s, f, r, name);
		}
	}
	sqlite3_finalize(st);
	store_fini(&s);
	if (rc)
		return rc;
	if (!found) {
		if (round >= 0)
			od_log("final: %s round %" PRId64 " has no final report in %s "
			       "(not yet run, or fewer than t = %zu nodes signed it)",
			       f->name, round, cfg.db, cfg.t);
		else
			od_log("final: %s has no final report in %s", f->name, cfg.db);
		return OD_EXIT_NOTFOUND;
	}
	if (round < 0)
		fprintf(stderr, "attestio-oracle: final: %d reports of %s written to %s\n",
			found, f->name, out);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The node's HTTP server ([metrics] listen, off by default): the status
 * page (/, /status.js, /status.css, /favicon.svg), its JSON API (/api/v1/status),
 * the final reports and evidence bundles of rounds as downloads
 * (/api/v1/final/FEED/ROUND, /api/v1/bundle/FEED/ROUND) and
 * Prometheus metrics (/metrics, text format 0.0.4).  Read only; requests
 * pass http_route() first.  libmicrohttpd with no
 * thread of its own; main.c calls metrics_poll() from its loop, so the
 * counters are read on the thread that writes them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "final.h"
#include "oracled.h"

struct metrics {
	struct MHD_Daemon *d;
	struct od_parts *p;
};

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
	if (o->len >= o->cap)
		o->len = o->cap ? o->cap - 1 : 0;
}

static void head(struct out *o, const char *name, const char *type,
		 const char *help)
{
	put(o, "# HELP attestio_oracle_%s %s\n# TYPE attestio_oracle_%s %s\n",
	    name, help, name, type);
}

static void one(struct out *o, const char *name, const char *type,
		const char *help, uint64_t v)
{
	head(o, name, type, help);
	put(o, "attestio_oracle_%s %" PRIu64 "\n", name, v);
}

static void admission_metrics(struct out *o, const struct admission_stats *a)
{
	one(o, "enroll_bundles_total", "counter", "enrollment bundles received", a->bundles);
	one(o, "enroll_bundles_rejected_total", "counter", "enrollment bundles refused (id not its EK, EK not the pinned one, malformed, not an enrolling gateway)", a->bundles_bad);
	one(o, "enroll_challenges_total", "counter", "credential-activation challenges sent", a->challenges);
	one(o, "enroll_answers_total", "counter", "enrollment answers received", a->answers);
	one(o, "enroll_answers_rejected_total", "counter", "enrollment answers refused (wrong proof, replayed, another node's or challenge's)", a->answers_bad);
	one(o, "enroll_timeouts_total", "counter", "challenges unanswered in time (replaced by fresh ones)", a->timeouts);
	one(o, "enroll_admitted_total", "counter", "gateways admitted by enrollment", a->admitted);
}

/* Beacons (beacon.c) and freshness (fresh.c). */
static void beacon_metrics(struct out *o, struct od_parts *p)
{
	const struct beacon_stats *bs = beacons_stats(p->bc);
	const struct fresh_stats *fs = fresh_stats(ingest_fresh(p->in));

	one(o, "beacons_issued_total", "counter", "beacons this node drew, signed and stored", bs->issued);
	one(o, "beacons_published_total", "counter", "beacons this node published (retained; again after reconnects)", bs->published);
	one(o, "beacon_round", "gauge", "the newest beacon round this node issued", bs->own_round);
	one(o, "beacons_received_total", "counter", "other nodes' valid beacons stored", bs->received);
	one(o, "beacons_rejected_total", "counter", "beacons ignored (malformed, not a whitelisted node's, a future or older round, a second value for a round)", bs->rejected);
	{
		uint64_t ok, bad;

		registry_reports(p->reg, &ok, &bad);
		one(o, "gateway_status_reports_total", "counter", "gateway status reports kept (informative: spool, beacon)", ok);
		one(o, "gateway_status_reports_rejected_total", "counter", "gateway status reports ignored (malformed, unknown gateway, another gateway's id)", bad);
	}
	one(o, "beacons_known", "gauge", "beacons in the set checkpoints are checked against", fs->known);
	head(o, "checkpoints_beacon_total", "counter", "verified checkpoints by the beacon they cover: fresh, none, unknown, stale");
	for (int c = 0; c < FRESH_NCLASS; c++)
		put(o, "attestio_oracle_checkpoints_beacon_total{class=\"%s\"} %" PRIu64 "\n",
		    fresh_class_name(c), fs->by_class[c]);
}

size_t metrics_render(struct od_parts *p, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	const struct ingest_stats *is = ingest_stats(p->in);
	const struct round_stats *rs = round_stats(p->rd);
	const struct reports_stats *ps = reports_stats(p->rp);
	unsigned int by[3][ORACLE_TIER_MAX + 1] = { { 0 } };
	struct reg_gw *g;

	buf[0] = 0;
	one(&o, "connected", "gauge", "1 while connected to a broker", p->connected);
	one(&o, "messages_total", "counter", "records batches received", is->messages);
	one(&o, "records_total", "counter", "records received (with duplicates)", is->records);
	one(&o, "records_stored_total", "counter", "records stored (once each)", is->stored);
	one(&o, "records_verified_total", "counter", "records verified (chain and quote)", is->verified);
	head(&o, "records_rejected_total", "counter", "records or batches not accepted, by reason");
	put(&o, "attestio_oracle_records_rejected_total{reason=\"duplicate\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"out_of_order\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"unverified\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"bad\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"malformed\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"oversized\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"unknown_gateway\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"revoked_gateway\"} %" PRIu64 "\n"
		"attestio_oracle_records_rejected_total{reason=\"not_admitted\"} %" PRIu64 "\n",
	    is->dups, is->out_of_order, is->failed - is->bad, is->bad, is->malformed,
	    is->oversized, is->unknown_gw, is->revoked_gw, is->unadmitted_gw);
	one(&o, "readings_total", "counter", "verified readings stored", is->readings);
	head(&o, "readings_rejected_total", "counter", "verified readings not stored, by reason");
	put(&o, "attestio_oracle_readings_rejected_total{reason=\"identity\"} %" PRIu64 "\n"
		"attestio_oracle_readings_rejected_total{reason=\"channel_type\"} %" PRIu64 "\n"
		"attestio_oracle_readings_rejected_total{reason=\"future\"} %" PRIu64 "\n"
		"attestio_oracle_readings_rejected_total{reason=\"clock_drift\"} %" PRIu64 "\n",
	    is->pin_identity, is->pin_type, is->future, is->drift);
	one(&o, "evidence_total", "counter", "gateway evidence messages accepted", is->evidence);
	one(&o, "evidence_rejected_total", "counter", "gateway evidence rejected (malformed, another gateway's, a log that proves nothing)", is->evidence_bad);
	one(&o, "checkpoints_held_total", "counter", "checkpoints held waiting for their boot's evidence", is->held);
	one(&o, "checkpoints_held_timeout_total", "counter", "held checkpoints whose evidence never came (gateway quarantined)", is->held_timeout);
	one(&o, "loss_declarations_total", "counter", "gateway loss declarations accepted", is->loss_msgs);
	one(&o, "loss_declarations_rejected_total", "counter", "gateway loss declarations rejected (malformed, another gateway's, too many holes stored)", is->loss_bad);
	one(&o, "holes_declared_total", "counter", "holes gateways declared that were new to this node", is->holes_new);
	one(&o, "records_declared_lost_total", "counter", "records a chain skipped because its gateway declared them lost", is->declared_lost);
	one(&o, "records_before_join_total", "counter", "records before the point where this node joined a chain late (never received)", is->join_gap);
	one(&o, "releases_declared_total", "counter", "chains gateways declared released further than stored", is->released_new);
	one(&o, "records_released_total", "counter", "records skipped: their gateway released them after ack_quorum other nodes acked them", is->released);
	one(&o, "acks_repeated_total", "counter", "acks made again for records after a hole this node may not skip", is->reacks);
	one(&o, "records_skip_refuted_total", "counter", "records this node skipped (declared lost, before its join point) that the gateway sent again: the skip was not the gateway's", is->skip_refuted);
	one(&o, "records_filled_total", "counter", "skipped records that came again, verified against the chain (linked, covered by a verified checkpoint) and taken: the gap filled", is->filled);
	one(&o, "records_fill_joined_total", "counter", "records of a late join's gap that came again before the first checkpoint among them: taken UNVERIFIABLE, the join point moved down to them", is->fill_joined);
	one(&o, "records_fill_refused_total", "counter", "skipped records that came again and did not link to the chain or verify: refused, nothing changed", is->fill_refused);
	one(&o, "records_fill_dropped_total", "counter", "skipped records that came again and were not kept for a fill (its buffer was full)", is->fill_dropped);
	one(&o, "records_join_wait_total", "counter", "records dropped while a chain first seen after its start waited for its earlier records", is->join_wait);
	one(&o, "acks_total", "counter", "signed acks published", is->acks_sent);
	if (p->acks)
		one(&o, "acks_dropped_total", "counter", "acks not sent: their "
		    "group commit failed, or no memory to hold them until it "
		    "committed (the gateways retransmit)", p->acks->dropped);
	beacon_metrics(&o, p);
	head(&o, "verify_seconds", "summary", "time to verify and store one batch");
	put(&o, "attestio_oracle_verify_seconds_sum %.6f\nattestio_oracle_verify_seconds_count %"
	    PRIu64 "\n", (double)is->latency_us_sum / 1e6, is->latency_n);
	head(&o, "sample_verified_seconds", "histogram",
	     "a sample's capture time to its verification and storage on this node");
	{
		static const uint64_t bounds[] = OD_LAT_BOUNDS_MS;
		uint64_t cum = 0;

		for (int b = 0; b <= OD_LAT_BUCKETS; b++) {
			cum += is->sample_lat[b];
			if (b < OD_LAT_BUCKETS)
				put(&o, "attestio_oracle_sample_verified_seconds_bucket{le=\"%.3f\"} %"
				    PRIu64 "\n", (double)bounds[b] / 1000, cum);
			else
				put(&o, "attestio_oracle_sample_verified_seconds_bucket{le=\"+Inf\"} %"
				    PRIu64 "\n", cum);
		}
		put(&o, "attestio_oracle_sample_verified_seconds_sum %.6f\n"
		    "attestio_oracle_sample_verified_seconds_count %" PRIu64 "\n",
		    is->sample_lat_sum, cum);
	}
	one(&o, "rounds_reported_total", "counter", "rounds settled (value reports)", rs->reported);
	one(&o, "rounds_halted_total", "counter", "rounds halted (halt reports)", rs->halted);
	head(&o, "readings_excluded_total", "counter",
	     "stored readings a round did not count, by reason");
	put(&o, "attestio_oracle_readings_excluded_total{reason=\"stale_beacon\"} %"
	    PRIu64 "\n", rs->readings_stale);
	head(&o, "rounds_total", "counter", "rounds by status");
	for (int s = 0; s <= ORACLE_STATUS_MAX; s++)
		put(&o, "attestio_oracle_rounds_total{status=\"%s\"} %" PRIu64 "\n",
		    oracle_status_name((unsigned int)s), rs->by_status[s]);
	one(&o, "reports_received_total", "counter", "node reports received", ps->received);
	one(&o, "reports_rejected_total", "counter", "node reports rejected", ps->rejected);
	one(&o, "reports_final_total", "counter", "reports made final (t signatures)", ps->final);
	if (p->adm)
		admission_metrics(&o, admission_stats(p->adm));
	for (int i = 0; (g = registry_at(p->reg, i)); i++)
		by[g->state][registry_tier(g)]++;
	head(&o, "gateways", "gauge", "gateways by state and the tier they count "
	     "with (what they proved, capped; 0 until admitted)");
	for (int s = 0; s < 3; s++)
		for (int t = 0; t <= ORACLE_TIER_MAX; t++)
			put(&o, "attestio_oracle_gateways{state=\"%s\",tier=\"%d\"} %u\n",
			    gw_state_name((enum gw_state)s), t, by[s][t]);
	return o.len;
}

/* The page and its assets: user/oracled/www/, compiled in (www.c is
 * generated by user/user.mk). */
extern const char od_www_index_html[], od_www_status_js[], od_www_status_css[],
	od_www_favicon_svg[];

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *type, const void *buf, size_t n,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)buf, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; "
				"connect-src 'self'; img-src 'self'; base-uri 'none'; "
				"form-action 'none'; frame-ancestors 'none'");
	if (code != MHD_HTTP_OK)
		MHD_add_response_header(r, "Connection", "close");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error(struct MHD_Connection *conn, unsigned int code)
{
	static char msg[64];
	int n = snprintf(msg, sizeof(msg), "%u %s\n", code,
			 MHD_get_reason_phrase_for(code));

	return reply(conn, code, "text/plain; charset=utf-8", msg, (size_t)n,
		     MHD_RESPMEM_MUST_COPY);
}

/* A round's final report or evidence bundle, as an attachment named
 * FEED-ROUND.cbor / FEED-ROUND.bundle (what `final -o --bundle` writes). */
static enum MHD_Result download(struct MHD_Connection *conn, struct metrics *m,
				enum http_route route, const struct http_arg *a)
{
	static uint8_t fin[ORACLE_FINAL_MAX];
	sqlite3_stmt *st = NULL;
	const void *data = fin;
	size_t n = 0;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char disp[128];
	int rc;

	if (route == HTTP_FINAL) {
		rc = final_get(m->p->st, m->p->cfg, a->feed, a->round, fin,
			       sizeof(fin), &n);
	} else {
		st = store_prep(m->p->st, "SELECT data FROM bundle WHERE feed=? AND round=?");
		if (!st)
			return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR);
		sqlite3_bind_text(st, 1, a->feed, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a->round);
		rc = OD_EXIT_NOTFOUND;
		if (sqlite3_step(st) == SQLITE_ROW) {
			data = sqlite3_column_blob(st, 0);
			n = (size_t)sqlite3_column_bytes(st, 0);
			rc = data ? 0 : OD_EXIT_NOTFOUND;
		}
	}
	if (rc) {
		sqlite3_finalize(st);
		return error(conn, rc == OD_EXIT_NOTFOUND ? MHD_HTTP_NOT_FOUND :
			     MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	r = MHD_create_response_from_buffer(n, (void *)data, MHD_RESPMEM_MUST_COPY);
	sqlite3_finalize(st);
	if (!r)
		return MHD_NO;
	/* the feed name is [A-Za-z0-9_.-] (http_route): safe in the header */
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%08" PRId64 ".%s\"",
		 a->feed, a->round, route == HTTP_FINAL ? "cbor" : "bundle");
	MHD_add_response_header(r, "Content-Type", "application/cbor");
	MHD_add_response_header(r, "Content-Disposition", disp);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *data,
			      size_t *size, void **state)
{
	struct metrics *m = cls;
	static char buf[16384];
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	int nargs = MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	size_t body = te || (cl && strcmp(cl, "0")) || *size;
	enum http_route route;
	struct http_arg arg;
	unsigned int code;
	char *json = NULL;
	size_t n = 0;
	FILE *f;
	enum MHD_Result ret;

	(void)version; (void)data; (void)state;
	code = (unsigned int)http_route(method, url, nargs < 0 ? 1u : (unsigned int)nargs,
					body, &route, &arg);
	if (code != MHD_HTTP_OK)
		return error(conn, code);
	switch (route) {
	case HTTP_PAGE:
		return reply(conn, code, "text/html; charset=utf-8", od_www_index_html,
			     strlen(od_www_index_html), MHD_RESPMEM_PERSISTENT);
	case HTTP_JS:
		return reply(conn, code, "text/javascript; charset=utf-8", od_www_status_js,
			     strlen(od_www_status_js), MHD_RESPMEM_PERSISTENT);
	case HTTP_CSS:
		return reply(conn, code, "text/css; charset=utf-8", od_www_status_css,
			     strlen(od_www_status_css), MHD_RESPMEM_PERSISTENT);
	case HTTP_ICON:
		return reply(conn, code, "image/svg+xml", od_www_favicon_svg,
			     strlen(od_www_favicon_svg), MHD_RESPMEM_PERSISTENT);
	case HTTP_API:
		f = open_memstream(&json, &n);
		if (!f)
			return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR);
		status_render(f, m->p->cfg, m->p->st, m->p->node_hex, m->p, true);
		if (fclose(f)) {
			free(json);
			return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR);
		}
		ret = reply(conn, code, "application/json", json, n, MHD_RESPMEM_MUST_COPY);
		free(json);
		return ret;
	case HTTP_METRICS:
		n = metrics_render(m->p, buf, sizeof(buf));
		return reply(conn, code, "text/plain; version=0.0.4", buf, n,
			     MHD_RESPMEM_MUST_COPY);
	case HTTP_FINAL:
	case HTTP_BUNDLE:
		return download(conn, m, route, &arg);
	}
	return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR);
}

int metrics_init(struct metrics **mp, const char *listen, struct od_parts *p)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(listen, ':');

	if (!m || !colon)
		return free(m), -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		od_log("metrics.listen %s: not an IPv4 address:port", listen);
		free(m);
		return -EINVAL;
	}
	m->p = p;
	/* read-only and small: few connections, short timeouts, little memory */
	m->d = MHD_start_daemon(MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, m,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_END);
	if (!m->d) {
		od_log("metrics: cannot listen on %s (in use?)", listen);
		free(m);
		return -EADDRINUSE;
	}
	*mp = m;
	return 0;
}

void metrics_poll(struct metrics *m)
{
	if (m)
		MHD_run(m->d);
}

void metrics_fini(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}

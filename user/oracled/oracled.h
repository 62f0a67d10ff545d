/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attestio-oracle, the oracle node daemon: shared declarations of its
 * parts (Documentation/oracle.md).  Each part is an x_init()/x_fini() pair
 * over a context struct; main.c only wires them together.
 *
 *   config    the INI file (every key checked, errors name the line)
 *   store     SQLite (WAL), versioned schema, append-only audit log
 *   registry  gateways: AK, tier, site, state (active/quarantined/revoked)
 *   ingest    records batches in: dedup, verify (libattestio), store, ack
 *   round     per feed: schedule, readings -> agg.c -> signed report
 *   reports   collect node reports: t-of-n assembly of final reports
 *   metrics   Prometheus text over HTTP (libmicrohttpd)
 */
#ifndef ATTESTIO_ORACLED_H
#define ATTESTIO_ORACLED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>

#include "agg.h"
#include "bundle.h"
#include "report.h"

#define OD_MAX_GW	4096
#define OD_MAX_FEEDS	32
#define OD_MAX_FEED_STREAMS	256
#define OD_MAX_NODES	ORACLE_QUORUM_MAX
#define OD_PATH		256

/* Exit codes (documented in --help and oracle.md). */
enum {
	OD_EXIT_OK = 0,
	OD_EXIT_RUNTIME = 1,	/* runtime failure */
	OD_EXIT_USAGE = 2,	/* bad usage or configuration */
	OD_EXIT_DB = 3,		/* database corrupt, locked or too new */
	OD_EXIT_NOTFOUND = 4,	/* admin: no such gateway / nothing to do */
	OD_EXIT_TLS = 5,	/* TLS setup failed */
};

/* ------------------------------------------------------------ config --- */

struct od_gw_conf {
	char id[33];		/* 32 lowercase hex */
	char ak[OD_PATH];	/* AK: PEM, TPM2B_PUBLIC or enrollment bundle */
	char policy[OD_PATH];	/* PCR policy file, "" = any PCR state */
	char boot_log_ref[OD_PATH];	/* reference boot event log of the
					   device class, "" = none */
	char site[64];		/* site name, "" = the gateway id */
	int tier;		/* 0..3 */
	int kernel_key;		/* OD_KK_*: check kernel-exclusive key use */
	bool enroll;		/* admitted by enrollment over MQTT, not ak */
	bool tier_set;		/* tier = given (with enroll: a cap) */
	char ek[OD_PATH];	/* enroll: pinned EK (bundle or TPM2B_PUBLIC) */
	/* SHA-256 of the AK and policy files' bytes as read at load (the
	 * config digest commits to them: oracle.md "config digest") */
	uint8_t ak_sha[32], policy_sha[32];
	bool pins_read;		/* ak_sha, policy_sha set */
};

/* [gateway ID] kernel_key: auto = required when the AK is attestio's
 * certify-only AK (it never quotes), else off. */
enum { OD_KK_AUTO = 0, OD_KK_REQUIRED = 1, OD_KK_OFF = 2 };

struct od_feed_stream {
	char gwid[33];
	int gw;			/* index into config.gw */
	uint32_t stream;
	uint32_t channel;
	bool pinned;		/* identity = GATEWAY:STREAM HEX was given */
	uint8_t identity[32];	/* the descriptor's physical identity */
};

/* A feed's identity = line, applied to its stream once all are read. */
struct od_feed_pin {
	char gwid[33];
	uint32_t stream;
	uint8_t identity[32];
};

struct od_feed_conf {
	char name[64];		/* [A-Za-z0-9_.-], the <feed> of topics */
	struct oracle_feed_params p;
	uint64_t period;	/* seconds per round */
	uint64_t start;		/* unix time round 1 starts */
	uint64_t grace;		/* seconds after a round's end before it runs */
	size_t nstreams;
	struct od_feed_stream s[OD_MAX_FEED_STREAMS];
	int chan_type;		/* IIO channel type of every stream, -1 any */
	bool require_identity;	/* every stream needs an identity pin */
	size_t npins;
	struct od_feed_pin pin[OD_MAX_FEED_STREAMS];
	uint8_t feed_id[32];
	uint8_t config_digest[32];
};

struct od_config {
	const char *path;
	uint8_t seckey[32];
	bool have_key;
	char db[OD_PATH];
	char brokers[8][OD_PATH];
	int nbrokers;
	char ca[OD_PATH], cert[OD_PATH], key[OD_PATH];
	int keepalive;
	char metrics[64];	/* host:port, "" = off */
	uint64_t retain_s;	/* readings and records kept this long */
	uint64_t evidence_timeout_s;	/* a checkpoint waits this long for
					   its boot's evidence */
	uint64_t join_period_s;	/* a chain first seen after its start
				   waits this long for the earliest
				   records the gateway still holds */
	bool allow_simulated;	/* admit attestio-sim keys (tests only) */
	char ek_ca_dir[OD_PATH];	/* EK certificate CAs, "" = none */
	uint64_t enroll_timeout_s;	/* a challenge unanswered this long is
					   replaced by a fresh one */
	uint64_t max_clock_skew_s;	/* a reading dated later than its
					   record's receipt + this is refused */
	int ngw;
	struct od_gw_conf gw[OD_MAX_GW];
	int nfeeds;
	struct od_feed_conf feed[OD_MAX_FEEDS];
	size_t nnodes;		/* whitelist ([quorum] nodes) */
	uint8_t nodes[OD_MAX_NODES][ORACLE_PUB_LEN];
	size_t t;		/* signatures a final report needs */
	/* [beacon] (oracle.md "Beacons"): the round clock (0: the first
	 * feed's period and start, else 60 s from 1), whether this node
	 * issues beacons, the freshness policy, staleness in rounds */
	uint64_t beacon_period, beacon_start;
	bool beacon_issue;
	int beacon_freshness;		/* OD_FRESH_* */
	uint64_t beacon_max_age;	/* 0: no staleness check */
};

/* [beacon] freshness: off = beacons are not looked at; optional = the
 * beacon each checkpoint covers is classified (fresh, none, unknown,
 * stale) and counted; required = a signed checkpoint must also cover a
 * beacon the network issued, else it does not verify. */
enum { OD_FRESH_OPTIONAL = 0, OD_FRESH_REQUIRED = 1, OD_FRESH_OFF = 2 };

/* 0, or -1 with "FILE:LINE: what is wrong" in err. */
size_t config_feed_text(const struct od_config *c, const struct od_feed_conf *f,
			char *buf, size_t cap);
int config_load(const char *path, struct od_config *c, char *err, size_t len);
/* The same from a NUL-terminated string; @name stands for the file. */
int config_load_string(const char *name, const char *text,
		       struct od_config *c, char *err, size_t len);
int config_gw_index(const struct od_config *c, const char *id);
/*
 * The whitelisted nodes' ids as an SQL list, "('id', ...)": a beacon
 * counts only while its node is in the configuration (fresh.c, round.c; a
 * removed node's stay in the table, so no node can issue their values
 * again, but no longer count).  No [quorum] (a node without feeds): every
 * stored beacon, which are then this node's own (others' are refused).
 */
#define OD_NODES_SQL_LEN	(OD_MAX_NODES * (ORACLE_NODE_ID_HEX + 3) + 4)
void config_nodes_sql(const struct od_config *c, char buf[OD_NODES_SQL_LEN]);

/* ------------------------------------------------------------- store --- */

#define STORE_SCHEMA	15
#define STORE_REP_HIST	200	/* rounds of reputation history kept */

#define STORE_STMT_CACHE	48	/* hot statements kept prepared */

struct store {
	sqlite3 *db;
	char path[OD_PATH];
	bool group;	/* in a group commit: store_begin/commit are no-ops */
	sqlite3_stmt *cache[STORE_STMT_CACHE];	/* store_stmt() */
	uint32_t hash[STORE_STMT_CACHE];
	bool held[STORE_STMT_CACHE];	/* handed out, not given back yet */
};

enum store_mode {
	STORE_DAEMON,	/* the one writer: flock(DB.lock), migrations */
	STORE_READ,	/* status: read only, schema must be current */
	STORE_ADMIN,	/* admin commands: short writes beside the daemon */
};

/* Opens (creating or migrating) the database; a corrupt, locked or newer
 * database is an error naming the file and what to do.  0 or -1. */
int store_init(struct store *s, const char *path, enum store_mode mode,
	       char *err, size_t len);
void store_fini(struct store *s);
int store_exec(struct store *s, const char *sql);
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/*
 * Group commit: one transaction around everything the daemon handles in
 * one pass of its MQTT loop (many records batches, one fsync); inside it
 * store_begin/store_commit do nothing.  Acks are sent after the group end.
 */
int store_group_begin(struct store *s);
int store_group_end(struct store *s);
/* Append one decision to the audit log (append-only: triggers refuse
 * UPDATE and DELETE). */
void store_audit(struct store *s, const char *event, const char *subject,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
sqlite3_stmt *store_prep(struct store *s, const char *sql);
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
void store_done(struct store *s, sqlite3_stmt *st);
/* A chain's segment state (record format v4): its descriptor record and
 * the newest calib record after it (malloc'd; NULL, 0: none). */
struct store_seg {
	uint8_t *desc, *cal;
	size_t dlen, clen;
};

/*
 * The segment state of chain (@gw, @instance, @stream, @gen) after its
 * record @upto, from the stored records, into @out: the descriptor of the
 * segment then open and its newest calib record up to @upto, if any; all
 * NULL when no segment is open there (a detach).  -ENOENT when the
 * descriptor is not stored (pruned, or before the node joined), -ENOMEM,
 * -EIO (@out then empty).  store_seg_free() releases it.
 */
int store_seg_state(struct store *s, const char *gw, int64_t instance,
		    uint32_t stream, int64_t gen, int64_t upto,
		    struct store_seg *out);
void store_seg_free(struct store_seg *seg);

/* -------------------------------------------------------------- ackq --- */
/* Acks held while a group commit is open (ackq.c). */
typedef int (*ackq_send_fn)(void *ctx, const char *topic, const void *buf,
			    size_t len);

struct ackq {
	struct ackq_ent {
		char topic[160];
		void *buf;
		size_t len;
	} *e;
	size_t n, cap;
	bool open;		/* a group commit: acks wait */
	uint64_t dropped;	/* not sent: no memory, or the commit failed */
	ackq_send_fn send;
	void *ctx;
};

void ackq_init(struct ackq *q, ackq_send_fn send, void *ctx);
void ackq_open(struct ackq *q);
void ackq_put(struct ackq *q, const char *topic, const void *buf, size_t len);
void ackq_close(struct ackq *q, bool committed);
void ackq_fini(struct ackq *q);

/* ---------------------------------------------------------- registry --- */

enum gw_state { GW_ACTIVE = 0, GW_QUARANTINED = 1, GW_REVOKED = 2 };

struct registry;
struct att_key;
struct att_policy;

struct reg_gw {
	const struct od_gw_conf *conf;
	uint8_t bin[16];
	uint8_t site[16];	/* SHA-256(site name)[0..16] */
	struct att_key *ak;
	struct att_policy *policy;
	uint8_t *boot_ref;	/* boot_log_ref's bytes (parsed at start) */
	size_t boot_ref_len;
	enum gw_state state;
	char reason[768];
	bool kernel_key;	/* checkpoints verified only under the
				   kernel-exclusive rule (evidence) */
	bool kernel_key_proven;	/* a checkpoint verified under it */
	/* enrollment (conf->enroll; admission.c): admitted once a credential
	 * activation proved the AK and EK are one TPM's */
	bool admitted;
	int tier_proved;	/* 1 activation, 2 + policy, 3 + EK cert chain */
	bool ek_cert_ok;	/* the EK certificate chained to ek_ca_dir */
	uint8_t ek_hash[32];	/* SHA-256 of the admitted EK public area */
	uint8_t ak_name[34];
	uint8_t *bundle;	/* the admitted enrollment bundle */
	size_t bundle_len;
	/* its daemon's own status report (protocol.md "Gateway status"):
	 * informative only, shown as reported; reported_at 0: none yet */
	uint64_t rep_spool_records, rep_spool_bytes, rep_spool_age_s;
	uint64_t rep_beacon_round;
	int64_t reported_at;
};

int registry_init(struct registry **rp, const struct od_config *c,
		  struct store *s, char *err, size_t len);
void registry_fini(struct registry *r);
struct reg_gw *registry_gw(struct registry *r, const char *id);
struct reg_gw *registry_at(struct registry *r, int i);
/* Quarantine (state GW_QUARANTINED) with the exact reason; audit event;
 * its devices' reputation drops to 0.  Idempotent. */
void registry_quarantine(struct registry *r, struct reg_gw *g,
			 const char *reason);
/* A gateway status report on attestio/v1/gw/<gw>/status: strict parse, kept
 * in memory for the status page and counted (registry_reports()).  0, or
 * -EBADMSG, or -ENOENT (not a configured gateway, or the report names
 * another gateway than its topic). */
int registry_reported(struct registry *r, const char *gw, const uint8_t *buf,
		      size_t len);
void registry_reports(const struct registry *r, uint64_t *ok, uint64_t *bad);
const char *gw_state_name(enum gw_state s);
/* Re-read states the admin command changed in the database. */
void registry_refresh(struct registry *r);
/* The tier the rounds use: what the gateway proved (enrolled) or the
 * operator stated (ak file), capped by conf->tier, at most 1 until its
 * kernel-exclusive key use is proven, 0 unless active and admitted. */
int registry_tier(const struct reg_gw *g);
/* The tier an admission proves: 1 activation, 2 with a PCR policy, 3 with
 * a policy and an EK certificate chain. */
int registry_tier_proved(bool policy, bool ek_cert_ok);
/* Admit @g's enrollment bundle (activation proved): AK from it, persisted
 * (table enrollment), audit event "admitted" with what was proved.  0 or
 * -errno (nothing changed). */
int registry_admit(struct registry *r, struct reg_gw *g, const uint8_t *bundle,
		   size_t len, bool ek_cert_ok, const char *node_hex);
/* Admin commands on a database (no daemon needed): 0, or OD_EXIT_*. */
int registry_admin(struct store *s, const char *verb, const char *gw,
		   const char *reason);

/* Device id of (gateway, stream): SHA-256("attestio/v1/device" NUL ||
 * gateway id (16) || stream (le32))[0..16]. */
void device_id(const uint8_t gw[16], uint32_t stream, uint8_t id[16]);

/* --------------------------------------------------------- admission --- */

/* publish(ctx, topic, payload, len) sends one QoS 1 message. */
typedef int (*od_publish_fn)(void *ctx, const char *topic, const void *buf,
			     size_t len);

/* Enrollment of [gateway ID] enroll = true gateways over MQTT
 * (admission.c, protocol.md "Enrollment"): bundle -> checks ->
 * MakeCredential challenge -> answer -> registry_admit. */
struct admission_stats {
	uint64_t bundles, bundles_bad, challenges, answers, answers_bad;
	uint64_t admitted, timeouts;
};
struct admission;
/* @admitted(ctx, gw) runs after each admission (main: the ingest's
 * verifier, the retained evidence again). */
typedef void (*od_admitted_fn)(void *ctx, const char *gw);
int admission_init(struct admission **ap, const struct od_config *c,
		   struct store *s, struct registry *r,
		   const struct oracle_signer *signer, od_publish_fn pub,
		   od_admitted_fn admitted, void *ctx);
void admission_fini(struct admission *a);
/* The retained bundle on attestio/v1/gw/<gw>/bundle. */
void admission_bundle(struct admission *a, const char *gw, const uint8_t *buf,
		      size_t len);
/* An answer on attestio/v1/gw/<gw>/answer/<node>. */
void admission_answer(struct admission *a, const char *gw, const char *node,
		      const uint8_t *buf, size_t len);
/* Challenges unanswered past enroll_timeout: a fresh one. */
void admission_tick(struct admission *a, uint64_t now);
const struct admission_stats *admission_stats(const struct admission *a);

/* ------------------------------------------------------------ ingest --- */

#define OD_LAT_BUCKETS	14
#define OD_LAT_BOUNDS_MS	{ 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, \
				  3000, 5000, 10000, 30000 }

struct ingest_stats {
	uint64_t messages, records, stored, dups, out_of_order;
	uint64_t unknown_gw, revoked_gw, malformed, oversized;
	uint64_t unadmitted_gw;	/* messages of a gateway not yet admitted */
	uint64_t acks_sent, verified, failed, bad, readings;
	uint64_t evidence, evidence_bad, held, held_timeout;
	uint64_t pin_identity, pin_type;	/* readings refused: not the
						   pinned device / channel type */
	uint64_t future;		/* readings refused: dated after their
					   receipt + max_clock_skew */
	uint64_t drift;			/* readings dropped: the gateway clock
					   and the TPM clock disagree */
	/* loss declarations and late joins (protocol.md): declarations
	 * taken / refused, holes new to the store, records excused by a
	 * declaration, records before a late join point (never received),
	 * records dropped while waiting to join */
	uint64_t loss_msgs, loss_bad, holes_new;
	uint64_t declared_lost, join_gap, join_wait;
	/* released records (protocol.md): chains a declaration named
	 * released further than stored before, records a chain skipped
	 * because the gateway released them after ack_quorum nodes acked
	 * them, acks made again because records came after a hole this
	 * node may not skip */
	uint64_t released_new, released, reacks;
	uint64_t skip_refuted;	/* skipped records the gateway sent again */
	/* gap fill: skipped records verified against the chain and taken;
	 * refused (they did not link or verify); not kept (buffer full);
	 * taken before the first checkpoint of a join-gap fill (the join
	 * point moved down, stored UNVERIFIABLE) */
	uint64_t filled, fill_refused, fill_dropped, fill_joined;
	uint64_t latency_us_sum, latency_n;
	/* sample captured -> verified and stored here (record realtime to
	 * now): a histogram over OD_LAT_BOUNDS_MS, the last bucket +Inf */
	uint64_t sample_lat[OD_LAT_BUCKETS + 1];
	double sample_lat_sum;
};

struct ingest;
int ingest_init(struct ingest **ip, const struct od_config *c,
		struct store *s, struct registry *r,
		const struct oracle_signer *signer);
void ingest_fini(struct ingest *in);
/* The beacons the network issued, as this ingest checks them (fresh.c). */
struct fresh *ingest_fresh(struct ingest *in);
/* One records message of gateway @gw: store, verify; fills @ack (CBOR,
 * signed) with *acklen > 0 when an ack must be published. */
int ingest_message(struct ingest *in, const char *gw, const uint8_t *buf,
		   size_t len, uint8_t *ack, size_t cap, size_t *acklen);
/* While @on, ingest_message() makes no ack: ingest_flush_acks() makes one
 * per gateway for all its messages (a group commit's). */
void ingest_defer_acks(struct ingest *in, bool on);
size_t ingest_flush_acks(struct ingest *in, void (*out)(void *ctx,
			 const char *gw, const uint8_t *ack, size_t len),
			 void *ctx);
const struct ingest_stats *ingest_stats(const struct ingest *in);
/* One evidence message of gateway @gw (protocol.md "Evidence"): strict
 * parse, store, check the boot's kernel session key, release checkpoints
 * held for it; fills @ack like ingest_message(). */
int ingest_evidence(struct ingest *in, const char *gw, const uint8_t *buf,
		    size_t len, uint8_t *ack, size_t cap, size_t *acklen);
/* After an admission (registry_admit): the gateway's verifier, made
 * (again) with the admitted AK.  0 or -EIO. */
int ingest_admit(struct ingest *in, const char *gw);
/* One loss declaration of gateway @gw (protocol.md "Loss declarations"):
 * strict parse, its holes stored (idempotent: keyed by chain and first
 * seq).  0, or -EBADMSG (counted, logged, nothing stored). */
int ingest_loss(struct ingest *in, const char *gw, const uint8_t *buf,
		size_t len);
/* Checkpoints held longer than evidence_timeout: quarantine their gateway
 * with the reason (they stay held: evidence that still comes verifies
 * them). */
void ingest_tick(struct ingest *in, uint64_t now);
/* Delete records and readings older than the retention (keeping what
 * a restart needs to resume its chains). */
void ingest_prune(struct ingest *in, uint64_t now);

/* ------------------------------------------------------------- fresh --- */

/*
 * The beacons the network issued (fresh.c): this node's and the other
 * whitelisted nodes' verified ones, from the beacon table and as they
 * come; the verifiers' set with freshness = required; and per gateway
 * the newest beacon its verified checkpoints covered.
 */
/* holes of loss declarations stored per gateway, not yet used up */
#define OD_MAX_HOLES_GW	16384
/* gap fill (ingest.c fill_try): skipped records that came again, kept per
 * gateway until a verified checkpoint covers them; at most this many
 * stored records are fed after them to reach that checkpoint */
#define OD_FILL_MAX_BYTES	(4u << 20)
#define OD_FILL_KEEP_S		600	/* a kept record waits for its verdict */
#define OD_FILL_AFTER_MAX	65536
#define OD_BEACON_KEEP	8192	/* newest beacons kept in memory */

enum fresh_class { FRESH_OK, FRESH_NONE, FRESH_UNKNOWN, FRESH_STALE, FRESH_NCLASS };

struct fresh_stats {
	uint64_t known;			/* beacons in the set */
	uint64_t newest_round;
	uint64_t by_class[FRESH_NCLASS];	/* verified checkpoints */
};

struct fresh_gw {
	bool seen;			/* a verified checkpoint covered one */
	uint64_t round, time;		/* that beacon's round and time */
	uint8_t value[32];
	int last_class;			/* enum fresh_class of the newest
					   verified checkpoint */
};

struct fresh;
int fresh_init(struct fresh **fp, const struct od_config *c, struct store *s);
void fresh_fini(struct fresh *f);
/* A beacon the network issued (verified by the caller). */
void fresh_add(struct fresh *f, const uint8_t value[32], uint64_t round,
	       uint64_t time);
/* What a verifier's opts.beacons/nbeacons get: the set (zero slots never
 * match) with freshness = required, else none. */
const uint8_t (*fresh_set(const struct fresh *f, size_t *n))[32];
/* Classify the beacon a verified checkpoint of gateway @gw covers (NULL:
 * none) and remember it; *why says why it is not FRESH_OK. */
int fresh_note(struct fresh *f, int gw, const uint8_t *beacon, char *why,
	       size_t cap);
const struct fresh_gw *fresh_gw(const struct fresh *f, int gw);
const struct fresh_stats *fresh_stats(const struct fresh *f);
const char *fresh_class_name(int c);

/* ------------------------------------------------------------ beacon --- */

struct beacon_stats {
	uint64_t issued, published, received, rejected;
	uint64_t own_round;		/* the newest round this node issued */
	uint64_t own_time;
};

struct beacons;
/* publish(ctx, topic, buf, len, retain) for the beacons (retained). */
typedef int (*od_publish_retained_fn)(void *ctx, const char *topic,
				      const void *buf, size_t len);
int beacons_init(struct beacons **bp, const struct od_config *c,
		 struct store *s, const struct oracle_signer *signer,
		 struct fresh *f, od_publish_retained_fn pub, void *ctx);
void beacons_fini(struct beacons *b);
/* Issue the beacon of the round due at @now (once per round, stored
 * before it is published); publish again what is not yet out. */
void beacons_tick(struct beacons *b, uint64_t now);
/* (Re)connected: the newest own beacon goes out again. */
void beacons_connected(struct beacons *b);
/* One message on attestio/v1/beacon/<node>. */
void beacons_message(struct beacons *b, const char *node, const uint8_t *buf,
		     size_t len);
const struct beacon_stats *beacons_stats(const struct beacons *b);
/* The beacon round of unix time @t under the configuration (0: before
 * the clock starts). */
uint64_t beacon_round_of(const struct od_config *c, uint64_t t);

/* ------------------------------------------------------------- round --- */

struct round_stats {
	uint64_t reported, halted;
	uint64_t readings_stale;	/* not counted: stale beacon */
	uint64_t by_status[ORACLE_STATUS_MAX + 1];
};

struct round;
int round_init(struct round **rp, const struct od_config *c, struct store *s,
	       struct registry *r, const struct oracle_signer *signer,
	       od_publish_fn pub, void *pubctx);
void round_fini(struct round *rd);
/* Run every round that is due at @now (catching up missed ones). */
void round_tick(struct round *rd, uint64_t now);
const struct round_stats *round_stats(const struct round *rd);

/* ----------------------------------------------------------- reports --- */

struct reports_stats {
	uint64_t received, rejected, final;
};

struct reports;
int reports_init(struct reports **rp, const struct od_config *c,
		 struct store *s);
void reports_fini(struct reports *r);
/* One message on attestio/v1/report/<feed>/<node>. */
void reports_message(struct reports *r, const char *feed, const char *node,
		     const uint8_t *buf, size_t len);
const struct reports_stats *reports_stats(const struct reports *r);

/* ----------------------------------------------------------- metrics --- */

struct od_parts {
	struct ingest *in;
	struct beacons *bc;
	struct round *rd;
	struct reports *rp;
	struct registry *reg;
	struct admission *adm;
	struct store *st;
	const struct ackq *acks;	/* held while a group commits */
	bool connected;
	const struct od_config *cfg;
	const char *node_hex;
	time_t started;
};

struct metrics;
int metrics_init(struct metrics **mp, const char *listen, struct od_parts *p);
void metrics_fini(struct metrics *m);
/* Answer pending HTTP requests (non-blocking). */
void metrics_poll(struct metrics *m);
/* The metrics text (also used by `status`); returns its length. */
size_t metrics_render(struct od_parts *p, char *buf, size_t cap);

/* ------------------------------------------------------------ status --- */

/* `attestio-oracle status [--json]` and the status page's JSON API
 * (/api/v1/status, Documentation/oracle.md): gateways, feeds with their
 * last final reports, devices; with @live (the daemon) also "health". */
void status_render(FILE *o, const struct od_config *cfg, struct store *s,
		   const char *node_hex, const struct od_parts *live, bool json);

/* Round @round of feed @feed's final report in final.h's format, checked
 * as the contract checks it (export.c: what `final` exports and the
 * status page's download): 0, or OD_EXIT_NOTFOUND / _DB / _RUNTIME. */
int final_get(struct store *s, const struct od_config *cfg, const char *feed,
	      int64_t round, uint8_t *buf, size_t cap, size_t *len);

/* -------------------------------------------------------------- http --- */

/* The status server's request check (pure; http.c): what a request for
 * @method @url with @nargs query arguments and @body bytes of body gets.
 * Returns an HTTP status: 200 with *route set (and *arg for the
 * per-round downloads), or 400, 404, 405, 414; *route and *arg are left
 * alone on refusal. */
enum http_route {
	HTTP_PAGE,	/* /: the status page */
	HTTP_JS,	/* /status.js */
	HTTP_CSS,	/* /status.css */
	HTTP_ICON,	/* /favicon.svg */
	HTTP_API,	/* /api/v1/status: the JSON of status --json + health */
	HTTP_METRICS,	/* /metrics: Prometheus text */
	HTTP_FINAL,	/* /api/v1/final/FEED/ROUND: final report (final.h) */
	HTTP_BUNDLE,	/* /api/v1/bundle/FEED/ROUND: evidence bundle */
};
#define HTTP_URL_MAX	128
/* FEED: 1-63 of [A-Za-z0-9_.-] as config.c admits, not "." or "..";
 * ROUND: decimal, no sign, no leading zero, at most INT64_MAX. */
struct http_arg {
	char feed[64];
	int64_t round;
};
int http_route(const char *method, const char *url, unsigned int nargs,
	       size_t body, enum http_route *route, struct http_arg *arg);

/* ------------------------------------------------------------- setup --- */

/* `attestio-oracle setup` (setup.c): the arguments and the oracle.conf
 * it writes; the pure parts are unit-tested. */
#define OD_SETUP_MAX_GW 64
struct od_setup {
	const char *brokers[8];
	int nbrokers;
	const char *nodes[OD_MAX_NODES];	/* other nodes' public keys */
	int nnodes;
	const char *gws[OD_SETUP_MAX_GW];	/* "ID=FILE" */
	int ngws;
	const char *metrics;			/* IP:PORT or NULL */
	/* filled by setup: */
	const char *node_id, *pubkey, *key_file, *db, *ca, *cert, *key;
};
/* 0, or -1 with what is wrong in @why. */
int setup_check_args(const struct od_setup *o, char *why, size_t cap);
/* The commented oracle.conf; malloc'ed, NULL on ENOMEM. */
char *setup_render(const struct od_setup *o);
int setup_main(int argc, char **argv);

/* -------------------------------------------------------------- misc --- */

/* Logs to stderr (journald adds the time): "attestio-oracle: ..." */
void od_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

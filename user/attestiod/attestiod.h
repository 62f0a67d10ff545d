/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attestiod: the gateway daemon (Documentation/attestiod.md).  One
 * single-threaded epoll loop over parts with one job each: source (records
 * from /dev/attestio or a file), spool (durable SQLite queue), link (MQTT
 * over TLS with libmosquitto), metrics (Prometheus text over HTTP).
 */
#ifndef ATTESTIOD_H
#define ATTESTIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (documented in --help and Documentation/attestiod.md). */
#define EX_OK		0
#define EX_RUNTIME	1	/* runtime failure (epoll, signals, …) */
#define EX_USAGE	2	/* bad command line or configuration */
#define EX_SPOOL	3	/* the spool cannot be opened or created */
#define EX_SOURCE	4	/* the record source cannot be opened */
#define EX_LINK		5	/* TLS/MQTT setup failed (bad cert/key) */
#define EX_GUARD	6	/* guard.mode = required and it cannot be enforced */

#define MAX_BROKERS	8
#define MAX_NODES	16
#define BATCH_MAX_BYTES	(256u * 1024)
#define PATH_LEN	256

enum on_full { ON_FULL_STOP = 0, ON_FULL_DROP_OLDEST = 1 };
enum guard_mode { GUARD_OFF = 0, GUARD_ON = 1, GUARD_REQUIRED = 2 };

struct config {
	char gw_id[33];			/* lowercase hex, 16 bytes */
	char client_id[33];		/* MQTT client id, "" = gw_id (attestio-sim) */
	char source[8];			/* "bpf" or "dev" */
	bool source_set;		/* chosen by the file or --source */
	char device[PATH_LEN];
	unsigned int ring_bytes;	/* BPF ring buffer (source bpf) */
	int guard;			/* enum guard_mode */
	char spool_path[PATH_LEN];
	unsigned int sync_records;	/* fsync at least every N records */
	unsigned int sync_ms;		/* … or every T ms */
	uint64_t max_bytes;
	uint64_t reserve_bytes;		/* left free for acks (≤ 1/8 of the fs) */
	unsigned int max_age_s;
	int on_full;
	char brokers[MAX_BROKERS][PATH_LEN];
	int nbrokers;
	char ca[PATH_LEN], cert[PATH_LEN], key[PATH_LEN];
	uint32_t key_tpm;		/* key = tpm:HANDLE: the TLS key in [tpm] tcti, 0: a PEM file */
	unsigned int max_inflight;
	unsigned int batch_bytes;
	unsigned int retransmit_ms;
	unsigned int backoff_min_ms, backoff_max_ms;
	unsigned int keepalive_s;
	int mqtt_version;		/* 5 or 4 (3.1.1) */
	unsigned int session_expiry_s;	/* MQTT v5 Session-Expiry-Interval */
	uint8_t nodes[MAX_NODES][65];	/* oracle node public keys */
	char node_ids[MAX_NODES][33];
	int nnodes;
	unsigned int ack_quorum;	/* 0 in the file: all nodes */
	char metrics[64];		/* "127.0.0.1:PORT", "" = off */
	char status_file[PATH_LEN];	/* metrics text for `attestio status`, "" = off */
	/* [evidence]: what is published on attestio/v1/gw/<gw>/evidence */
	char ev_mlog[PATH_LEN];		/* the module's measurement log, "" = off */
	char ev_pcrs[PATH_LEN];		/* dir of SHA-256 PCR files 0..23 */
	char ev_boot_log[PATH_LEN];	/* boot event log (absent: none) */
	char ev_ima_log[PATH_LEN];	/* IMA log (absent: none) */
	unsigned int ev_interval_ms;	/* how often the logs are looked at */
	/* [tpm]: the gateway's TPM (enroll.c) */
	char tcti[PATH_LEN];		/* tpm2-tss TCTI */
	uint32_t ak_handle;		/* the persistent AK */
	int enroll;			/* enum enroll_mode */
	char bundle[PATH_LEN];		/* bundle file instead of the TPM's */
};

enum enroll_mode { ENROLL_AUTO = 0, ENROLL_ON = 1, ENROLL_OFF = 2 };

/* The defaults of every key (config_load starts from them). */
void config_defaults(struct config *c);
/* Parse @path into @c.  0, or -1 with @err = "FILE:LINE: what". */
int config_load(const char *path, struct config *c, char *err, size_t errlen);

/* Why a beacon was ignored (attestiod_beacons_rejected_total{reason}). */
enum beacon_reason {
	BR_MALFORMED, BR_UNKNOWN_NODE, BR_BAD_SIGNATURE, BR_TOPIC,
	BR_OLD_ROUND, BR_MODULE, BR_AHEAD, BEACON_NREASONS
};

struct metrics {
	uint64_t records_read, records_dup, records_holes, records_lost_declared;
	uint64_t records_spooled, records_published, records_acked;
	uint64_t records_dropped, batches_published, retransmits;
	uint64_t batches_retransmitted;
	uint64_t ack_rtt_ms, rto_ms;	/* smoothed ack round trip, timeout */
	uint64_t spool_bytes, spool_records, spool_age_s;
	uint64_t spool_syncs, spool_errors;
	uint64_t reconnects, connect_failures, tls_failures;
	uint64_t client_cert_not_after, client_cert_expired;
	uint64_t acks_ok, acks_bad, acks_unknown_node, acks_unsent;
	uint64_t acks_skip_mismatch;	/* entries cut below a record held */
	uint64_t connected, alarm_spool_full, alarm_disk, source_paused;
	uint64_t bad_records;
	/* source bpf: the BPF program's counters, and the backfill */
	uint64_t bpf_seen, bpf_out, bpf_ring_full, bpf_bad;
	uint64_t records_backfilled, records_backfill_lost;
	/* loss declarations: holes the gateway declared (and their
	 * records), holes still declared, declarations published */
	uint64_t holes_declared, hole_records, holes_open, loss_published;
	/* released records (protocol.md "Released records"): chains declared
	 * released to a node stuck below the spool's oldest record, and the
	 * holds for such nodes in force */
	uint64_t releases_declared, release_holds;
	/* guards */
	uint64_t guard_enforced, guard_open_denied, guard_connect_denied;
	/* evidence */
	uint64_t evidence_published, evidence_errors, evidence_bytes;
	/* enrollment */
	uint64_t enroll_challenges, enroll_answered, enroll_refused;
	/* beacons (beacon.c): rejected by enum beacon_reason */
	uint64_t beacons_accepted, beacons_set, beacons_rejected[BEACON_NREASONS];
	uint64_t beacon_round, beacon_time;	/* the held one; time 0: none */
};

extern struct metrics M;

uint64_t now_ms(void);
/* Rate-limited log to stderr (the journal): at most 20 lines/s. */
void logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- spool */

/* Chain of a record: (instance, stream, generation); kind below. */
enum rec_kind {
	RK_UNCHAINED = 0,	/* lost record: no chain */
	RK_CHAINED = 1,
	RK_UNRESOLVED = 2,	/* chained, chain not known yet */
};

struct rec_meta {
	uint64_t instance;
	uint32_t stream, gen;
	uint64_t seq;
	int kind;
};

struct spool;
int spool_init(struct spool **sp, const struct config *c);
void spool_fini(struct spool *s);
void spool_reconfig(struct spool *s, const struct config *c);
/* Queue one record in the unsynced batch (copied). */
int spool_add(struct spool *s, const struct rec_meta *m, const uint8_t *rec,
	      uint32_t len);
bool spool_sync_due(const struct spool *s, uint64_t now);
unsigned int spool_unsynced(const struct spool *s);
/* Write and fsync the batch (one transaction).  0; -ENOSPC full disk or
 * bound (batch kept, alarm raised); -EIO. */
int spool_sync(struct spool *s);
/* Last seq spooled for a chain, -1 if none. */
int64_t spool_chain_last(struct spool *s, uint64_t inst, uint32_t stream,
			 uint32_t gen);
/* Records of @stream spooled with an unknown chain belong to this one. */
int spool_resolve(struct spool *s, uint32_t stream, uint64_t inst, uint32_t gen);
/* Declare seqs @first..@last of @m's chain (@m->kind RK_CHAINED or
 * RK_UNRESOLVED; m->seq unused) gone: written with the next sync, kept
 * until ack_quorum nodes acked the chain past @last (protocol.md, "Loss
 * declarations"). */
int spool_hole(struct spool *s, const struct rec_meta *m, uint64_t first,
	       uint64_t last);
/* The declared holes of known chains, in order (at most
 * ORACLE_LOSS_MAX_HOLES, in chain order), and the chains declared
 * released to a stuck node while it is held for (protocol.md "Released
 * records"); spool_loss_ver: a number that changes whenever either set
 * does, 0 while both were empty since the start. */
struct oracle_loss;
int spool_loss(struct spool *s, struct oracle_loss *l);
uint64_t spool_loss_ver(const struct spool *s);
/* True once after spool_ack() found a node stuck below the spool's oldest
 * record of a chain and declared it released: the link sends again from
 * the oldest record (after the declaration). */
bool spool_restate(struct spool *s);
/* Next batch of whole records after the send cursor (≤ cap bytes). */
int spool_next(struct spool *s, uint8_t *buf, size_t cap, size_t *len,
	       unsigned int *nrec);
bool spool_has_unsent(struct spool *s);
bool spool_has_unacked(struct spool *s);
void spool_rewind(struct spool *s);
int64_t spool_oldest(struct spool *s);	/* oldest record id, 0 if none */
bool spool_sent(struct spool *s, int64_t id);
int64_t spool_cursor(const struct spool *s);	/* the last record id sent */
/* Apply a verified ack of configured node @node; returns records deleted. */
struct oracle_ack;
long spool_ack(struct spool *s, int node, const struct oracle_ack *a);
/* Bounds: refresh bytes/age metrics, enforce drop-oldest; true when
 * reading must stop (bound hit with on_full = stop, or disk full). */
bool spool_tick(struct spool *s, uint64_t now);
bool spool_empty(struct spool *s);

/* --------------------------------------------------------------- source */

struct source;
int source_init(struct source **sp, const struct config *c, struct spool *spool);
void source_fini(struct source *s);
int source_fd(const struct source *s);		/* -1: not pollable (file) */
/* Read what is available and queue it into the spool.  1 = got records,
 * 0 = nothing now, -1 = EOF (file/FIFO writer gone), < -1 = error. */
int source_read(struct source *s);
void source_pause(struct source *s, bool paused);
/* Refresh the source's metrics (BPF counters). */
void source_tick(struct source *s);

/* ----------------------------------------------- source bpf: ring.c */

#define RING_NCOUNTERS 4	/* enum attestiod_bpf_counter */
/* Called for each record in the ring; < 0 stops the consume. */
typedef int (*ring_cb)(void *ctx, const uint8_t *rec, uint32_t len);
struct ring;
int ring_init(struct ring **rp, const struct config *c, ring_cb cb, void *ctx);
void ring_fini(struct ring *r);
int ring_fd(const struct ring *r);
int ring_consume(struct ring *r);
void ring_counters(const struct ring *r, uint64_t out[RING_NCOUNTERS]);

/* --------------------------------------------------------------- guard */

struct guard;
/* 0 (enforced, or not and mode = on: said so in the log), or -errno when
 * mode = required and it cannot be enforced. */
int guard_init(struct guard **gp, const struct config *c);
void guard_fini(struct guard *g);
void guard_counters(const struct guard *g, uint64_t *open_denied,
		    uint64_t *connect_denied);

/* ----------------------------------------------------------------- link */

/* rto.c: the records link's retransmission timeout (RFC 6298) */
struct rto {
	double srtt, rttvar;	/* ms */
	uint64_t samples;
};
void rto_sample(struct rto *r, uint64_t ms);
/* srtt + 4 rttvar within [min_ms, max_ms]; min_ms before any sample */
unsigned int rto_wait(const struct rto *r, unsigned int min_ms,
		      unsigned int max_ms);
/* the longest wait, as a multiple of retransmit_ms (timeout and backoff) */
#define RTX_MAX_FACTOR 32u
/* the most a record's backed-off wait carries over to the next oldest
 * record, as a multiple of the wait it started with (two doublings) */
#define RTX_CARRY_FACTOR 4u

/* rto.c: the retransmission timer (rules and why in rto.c).  Pure: the
 * link passes the time (ms), the spool's oldest unacked record and its
 * first publications; min_ms is retransmit_ms. */
struct rtx {
	struct rto rto;		/* the measured ack round trip */
	int64_t oldest;		/* the oldest unacked record, 0: none … */
	uint64_t since;		/* … since then the oldest, or since its last timeout */
	unsigned int wait;	/* ms from since to going back N (backs off) */
	unsigned int start;	/* the wait it was given when it became the oldest */
	unsigned int carry;	/* backoff carried over to the next oldest, 0: none */
	bool expired;		/* it timed out since it became the oldest */
	int64_t timed;		/* the record whose ack is timed, 0: none … */
	uint64_t timed_at;	/* … first published then */
};
/* everything from the oldest record was published again at @now, not for
 * a timeout (a release declared: protocol.md "Released records"): nothing
 * is timed, the oldest record's wait, backoff kept, runs from @now */
void rtx_resent(struct rtx *x, uint64_t now);
/* the measured timeout: srtt + 4 rttvar in [min_ms, RTX_MAX_FACTOR x min_ms] */
unsigned int rtx_base(const struct rtx *x, unsigned int min_ms);
/* (re)connected: the oldest record starts again with the measured timeout */
void rtx_restart(struct rtx *x, uint64_t now, unsigned int min_ms);
/* records up to @last were published for the first time (Karn: only such
 * are timed); times them unless a record is being timed or the oldest
 * record timed out with no ack since */
void rtx_published(struct rtx *x, int64_t last, uint64_t now);
/* the spool's oldest unacked record is @id (0: none): takes a round trip
 * sample when the record timed was acked (returns true then) and, when the
 * oldest changed, arms the timer for it */
bool rtx_oldest(struct rtx *x, int64_t id, uint64_t now, unsigned int min_ms);
/* the oldest record stayed unacked for its wait (the caller checks that
 * it was sent) */
bool rtx_due(const struct rtx *x, uint64_t now);
/* it timed out and is sent again with everything after it: doubles the
 * wait, drops the record timed (Karn: its ack would be ambiguous) */
void rtx_expire(struct rtx *x, uint64_t now, unsigned int min_ms);

struct link;
int link_init(struct link **lp, const struct config *c, struct spool *spool);
void link_fini(struct link *l);
void link_reconfig(struct link *l, const struct config *c);
int link_fd(const struct link *l);
bool link_want_write(const struct link *l);
void link_io(struct link *l, bool readable, bool writable);
void link_tick(struct link *l, uint64_t now);
bool link_idle(const struct link *l);		/* nothing in flight */
/* The evidence message to publish (retained, QoS 1) now and after every
 * (re)connect; copied. */
int link_evidence(struct link *l, const uint8_t *buf, size_t len);
struct oracle_gwstatus;
/* Publish the gateway status report (while connected; QoS 0, retained). */
void link_status(struct link *l, const struct oracle_gwstatus *st);
/* Subscribe to attestio/v1/beacon/+ and hand each message to @cb
 * (node id hex of the topic, payload). */
typedef void (*link_beacon_fn)(void *ctx, const char *node_hex,
			       const uint8_t *buf, size_t len);
void link_beacons(struct link *l, link_beacon_fn cb, void *ctx);

/* The enrollment bundle to publish (retained, QoS 1) on
 * attestio/v1/gw/<gw>/bundle after every (re)connect, and the answerer
 * of challenges on .../enroll/<node>: answer(ctx, node, challenge, len,
 * out, cap, &outlen) returns 0 with the answer to publish on
 * .../answer/<node>.  Copied. */
typedef int (*link_answer_fn)(void *ctx, const char *node_hex,
			      const uint8_t *chal, size_t len, uint8_t *out,
			      size_t cap, size_t *outlen);
int link_enroll(struct link *l, const uint8_t *bundle, size_t len,
		link_answer_fn answer, void *ctx);

/* --------------------------------------------------------------- enroll */

/*
 * The gateway's side of enrollment (enroll.c): the bundle from its TPM
 * ([tpm] tcti, ak_handle), the gateway id derived from the EK (a
 * configured id that differs is an error naming both), and the answers
 * to the nodes' credential-activation challenges.
 */
struct enroll;
/* 0 (*ep NULL when enroll = auto found no TPM or AK), or -1 with the
 * reason logged. Sets c->gw_id when the file has none. */
int enroll_init(struct enroll **ep, struct config *c);
void enroll_fini(struct enroll *e);
const uint8_t *enroll_bundle(const struct enroll *e, size_t *len);
/* link_answer_fn: verifies the node's signature against [oracle] node
 * keys, runs TPM2_ActivateCredential, makes the answer.  0 or -1. */
int enroll_answer(void *ctx, const char *node_hex, const uint8_t *chal,
		  size_t len, uint8_t *out, size_t cap, size_t *outlen);

/* ------------------------------------------------------------- evidence */

/* Gather the evidence (protocol.md "Evidence") from the configured files:
 * 1 = it changed since the last call (*buf, *len: the new message, owned
 * by the caller), 0 = unchanged or nothing to publish, < 0 = error. */
int evidence_gather(const struct config *c, uint8_t **buf, size_t *len);

/* --------------------------------------------------------------- beacon */

struct beacon;
/* Opens source.device for ATTESTIO_IOC_SET_BEACON (a file or a missing
 * device: beacons are checked and counted only).  0 or -ENOMEM. */
int beacon_init(struct beacon **bp, const struct config *c);
void beacon_fini(struct beacon *b);
/* One message of attestio/v1/beacon/<node_hex>. */
void beacon_message(void *b, const char *node_hex, const uint8_t *buf,
		    size_t len);	/* a link_beacon_fn */
void beacon_tick(struct beacon *b, uint64_t now);
const char *beacon_reason_name(int r);

/* -------------------------------------------------------------- metrics */

struct metrics_srv;
int metrics_init(struct metrics_srv **mp, const struct config *c);
void metrics_fini(struct metrics_srv *m);
int metrics_fd(const struct metrics_srv *m);
void metrics_run(struct metrics_srv *m);
/* Every second: the metrics for `attestio status` in [metrics] status_file
 * (@gone: remove it, the daemon stops). */
void metrics_status_file(const struct config *c, bool gone);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * attestio-oracle: one node of the oracle network (Documentation/oracle.md).
 * Thin: parses the command line and wires the parts of oracled.h into one
 * single-threaded loop (libmosquitto's socket, a 1 s tick for rounds and
 * registry changes, the metrics server, sd_notify).
 */
#include <errno.h>
#include <poll.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <systemd/sd-daemon.h>

#include "ack.h"
#include "oracled.h"

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static const char usage[] =
"Usage: attestio-oracle run --config FILE [--check-config]\n"
"       attestio-oracle status --config FILE [--json]\n"
"       attestio-oracle admin --config FILE quarantine|revoke|release GATEWAY\n"
"                             [--reason TEXT]\n"
"       attestio-oracle pubkey SECRET_KEY_HEX\n"
"       attestio-oracle final --config FILE --feed NAME (--round N | --all)\n"
"                             -o FILE|DIR [--bundle FILE|DIR]\n"
"       attestio-oracle contract-params --config FILE --feed NAME\n"
"       attestio-oracle ingest --config FILE   (the same as run)\n"
"       attestio-oracle setup --broker URL ... (first run; setup --help)\n"
"\n"
"One node of the attestio oracle network.  `run` subscribes (persistent\n"
"MQTT session, QoS 1) to every gateway's records, verifies them with\n"
"libattestio, stores them (SQLite, WAL), acknowledges what is verified and\n"
"stored, quarantines a gateway that fails a check (with the exact reason),\n"
"runs each feed's rounds (weighted median, halt rules), signs and\n"
"publishes the round reports and assembles final reports once t\n"
"whitelisted nodes signed the same one.\n"
"\n"
"  run      the daemon; --check-config only checks the configuration and\n"
"           the database, then exits.  SIGTERM/SIGINT stop it cleanly.\n"
"  status   gateways (state, reason), chains, feeds (last round, final\n"
"           reports), device reputation, from the database; --json for\n"
"           scripts.  Works while the daemon runs.\n"
"  admin    quarantine / revoke / release a gateway (an audit event; the\n"
"           running daemon applies it within a second).  Revoked: its\n"
"           records are dropped unread.  Quarantined: stored and acked but\n"
"           its readings never count.  Release: active again (reputation\n"
"           is earned back from 0).\n"
"  pubkey   the public key (130 hex) and node id of a secret key, for\n"
"           [quorum] node = lines and gateway configs.\n"
"  final    export the feed's final reports in liboracle's final-report\n"
"           format (Documentation/protocol.md, \"Final report\"), what\n"
"           `attestio settle` and the settlement contract take: one round\n"
"           to FILE (\"-\" = stdout), or --all into DIR as FEED-ROUND.cbor\n"
"           (halted rounds included: they are evidence, never values).\n"
"           --bundle FILE|DIR also writes the node's evidence bundle of\n"
"           each round (FEED-ROUND.bundle), for attestio verify-report.\n"
"           Each is first checked as the contract's verifier checks it.\n"
"           Read only; works while the daemon runs.\n"
"  contract-params  the node-derived lines of `attestio settle`'s\n"
"           description file for the feed: feed_id, decimals,\n"
"           config_digest, f and one signer = <address> per [quorum] node.\n"
"  setup    first run: node key, test CA and client certificate, a\n"
"           commented oracle.conf; idempotent (see setup --help).\n"
"\n"
"The configuration file is described in Documentation/oracle.md.\n"
"\n"
"Exit status: 0 ok; 1 runtime failure; 2 bad usage or configuration (the\n"
"message names FILE:LINE); 3 database corrupt, locked by another node or\n"
"of a newer schema; 4 admin: no such gateway in the configuration, final:\n"
"no final report (yet) for that round or feed;\n"
"5 TLS setup failed.\n";

/* ------------------------------------------------------------ daemon --- */

#define GROUP_MAX	256	/* records batches per group commit */

struct node {
	struct od_config *cfg;
	struct store st;
	struct oracle_signer signer;
	struct od_parts parts;
	struct metrics *metrics;
	struct mosquitto *m;
	char node_hex[ORACLE_NODE_ID_HEX];
	uint8_t ackbuf[ORACLE_ACK_MAX_LEN];
	struct ackq acks;	/* held while a group commit is open */
	int gmsgs;		/* records messages in the open group */
	bool failed;		/* a group commit failed: exit 1 */
};

static int publish(void *ctx, const char *topic, const void *buf, size_t len)
{
	struct node *n = ctx;

	return mosquitto_publish(n->m, NULL, topic, (int)len, buf, 1, false) ==
	       MOSQ_ERR_SUCCESS ? 0 : -EIO;
}

static int publish_retained(void *ctx, const char *topic, const void *buf,
			    size_t len)
{
	struct node *n = ctx;

	return mosquitto_publish(n->m, NULL, topic, (int)len, buf, 1, true) ==
	       MOSQ_ERR_SUCCESS ? 0 : -EIO;
}

/* Ack @ack to gateway @gw: now, or after the open group commit (ackq.c). */
static void ack_out(void *ctx, const char *gw, const uint8_t *ack, size_t len)
{
	struct node *n = ctx;
	char topic[160];

	snprintf(topic, sizeof(topic), "attestio/v1/gw/%s/ack/%s", gw,
		 n->node_hex);
	ackq_put(&n->acks, topic, ack, len);
}

/* After an admission: the gateway's verifier, and its retained evidence
 * again (it was refused while the gateway was not admitted). */
static void on_admitted(void *ctx, const char *gw)
{
	struct node *n = ctx;
	char topic[96];

	if (ingest_admit(n->parts.in, gw))
		od_log("gateway %s: admitted, but its verifier cannot start", gw);
	snprintf(topic, sizeof(topic), "attestio/v1/gw/%s/evidence", gw);
	mosquitto_subscribe(n->m, NULL, topic, 1);
}

/* attestio/v1/gw/<gw>/bundle and .../answer/<node> (admission.c): 1 if
 * @t is one of them. */
static int enroll_message(struct node *n, const char *t,
			  const struct mosquitto_message *msg)
{
	char gw[33];

	if (strncmp(t, "attestio/v1/gw/", 15) || strlen(t) < 15 + 32 + 7 ||
	    t[47] != '/')
		return 0;
	snprintf(gw, sizeof(gw), "%.32s", t + 15);
	if (!strcmp(t + 47, "/bundle")) {
		admission_bundle(n->parts.adm, gw, msg->payload,
				 (size_t)msg->payloadlen);
		return 1;
	}
	if (!strncmp(t + 47, "/answer/", 8)) {
		admission_answer(n->parts.adm, gw, t + 55, msg->payload,
				 (size_t)msg->payloadlen);
		return 1;
	}
	return 0;
}

static void on_message(struct mosquitto *m, void *ud,
		       const struct mosquitto_message *msg)
{
	struct node *n = ud;
	const char *t = msg->topic;
	char a[72], b[72];

	(void)m;
	if (enroll_message(n, t, msg))
		return;
	if (!strncmp(t, "attestio/v1/beacon/", 19)) {
		if (strlen(t + 19) == 32)
			beacons_message(n->parts.bc, t + 19, msg->payload,
					(size_t)msg->payloadlen);
		return;
	}
	if (!strncmp(t, "attestio/v1/report/", 19)) {
		if (sscanf(t + 19, "%63[^/]/%40[^/]", a, b) == 2)
			reports_message(n->parts.rp, a, b, msg->payload,
					(size_t)msg->payloadlen);
		return;
	}
	if (!strncmp(t, "attestio/v1/gw/", 15) && strlen(t) == 15 + 32 + 7 &&
	    !strcmp(t + 47, "/status")) {
		snprintf(a, sizeof(a), "%.32s", t + 15);
		registry_reported(n->parts.reg, a, msg->payload,
				  msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
		return;
	}
	if (!strncmp(t, "attestio/v1/gw/", 15) && strlen(t) == 15 + 32 + 9 &&
	    !strcmp(t + 47, "/evidence")) {
		size_t acklen = 0;

		snprintf(a, sizeof(a), "%.32s", t + 15);
		if (!ingest_evidence(n->parts.in, a, msg->payload,
				     (size_t)msg->payloadlen, n->ackbuf,
				     sizeof(n->ackbuf), &acklen) && acklen)
			ack_out(n, a, n->ackbuf, acklen);
		return;
	}
	if (!strncmp(t, "attestio/v1/gw/", 15) && strlen(t) == 15 + 32 + 5 &&
	    !strcmp(t + 47, "/lost")) {
		snprintf(a, sizeof(a), "%.32s", t + 15);
		ingest_loss(n->parts.in, a, msg->payload, (size_t)msg->payloadlen);
		return;
	}
	if (!strncmp(t, "attestio/v1/gw/", 15) && strlen(t) == 15 + 32 + 8 &&
	    !strcmp(t + 47, "/records")) {
		size_t acklen = 0;

		snprintf(a, sizeof(a), "%.32s", t + 15);
		n->gmsgs++;
		if (!ingest_message(n->parts.in, a, msg->payload,
				    (size_t)msg->payloadlen, n->ackbuf,
				    sizeof(n->ackbuf), &acklen) && acklen)
			ack_out(n, a, n->ackbuf, acklen);
	}
}

/*
 * One pass of the MQTT loop, then every records batch already readable (up
 * to GROUP_MAX; one read of libmosquitto may bring many more) in one
 * transaction: one fsync for all of them.  Their acks, one per gateway
 * (ingest_flush_acks), are held (ackq.c) and published only once it
 * committed (dropped if it did not, and the node stops: below).
 */
static int group_pass(struct node *n)
{
	struct pollfd pfd = { .events = POLLIN };
	bool grp = !store_group_begin(&n->st);
	int rc, k;

	if (grp) {
		ackq_open(&n->acks);
		ingest_defer_acks(n->parts.in, true);
	}
	rc = mosquitto_loop(n->m, 100, 1);
	n->gmsgs = 0;
	for (k = 0; grp && rc == MOSQ_ERR_SUCCESS && n->gmsgs < GROUP_MAX &&
	     k < GROUP_MAX; k++) {
		pfd.fd = mosquitto_socket(n->m);
		if (pfd.fd < 0 || poll(&pfd, 1, 0) != 1)
			break;
		rc = mosquitto_loop_read(n->m, 1);
		/* PUBACK now: the broker's in-flight window refills while the
		 * group grows (end-to-end acks still wait for the commit) */
		if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(n->m))
			rc = mosquitto_loop_write(n->m, 1);
	}
	if (grp) {
		size_t held;
		bool ok;

		/* one ack per gateway for its messages of the group */
		ingest_flush_acks(n->parts.in, ack_out, n);
		ingest_defer_acks(n->parts.in, false);
		held = n->acks.n;
		ok = !store_group_end(&n->st);

		ackq_close(&n->acks, ok);
		if (!ok) {
			/* The verifiers' chain positions moved on with
			 * records the store no longer has: a retransmission
			 * would look like duplicates and be acked (review 9,
			 * H2).  Stop; a restart resumes from the store. */
			od_log("database %s: group commit failed (%s); %zu acks "
			       "not sent; stopping so that the node resumes from "
			       "its store (systemd restarts it)", n->st.path,
			       sqlite3_errmsg(n->st.db), held);
			n->failed = true;
			stop = 1;
		}
	}
	return rc;
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct node *n = ud;
	char t[96];

	if (!rc) {
		mosquitto_subscribe(m, NULL, "attestio/v1/gw/+/records", 1);
		mosquitto_subscribe(m, NULL, "attestio/v1/gw/+/evidence", 1);
		mosquitto_subscribe(m, NULL, "attestio/v1/gw/+/lost", 1);
		mosquitto_subscribe(m, NULL, "attestio/v1/report/+/+", 1);
		mosquitto_subscribe(m, NULL, "attestio/v1/gw/+/bundle", 1);
		snprintf(t, sizeof(t), "attestio/v1/gw/+/answer/%s", n->node_hex);
		mosquitto_subscribe(m, NULL, t, 1);
		mosquitto_subscribe(m, NULL, "attestio/v1/beacon/+", 1);
		mosquitto_subscribe(m, NULL, "attestio/v1/gw/+/status", 0);
		beacons_connected(n->parts.bc);
		n->parts.connected = true;
	}
	od_log("broker: %s", mosquitto_connack_string(rc));
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
	struct node *n = ud;

	(void)m;
	n->parts.connected = false;
	if (rc && !stop)
		od_log("broker connection lost (%s); reconnecting", mosquitto_strerror(rc));
}

static int load(const char *path, struct od_config *c)
{
	char err[600];

	if (config_load(path, c, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_USAGE;
	}
	return 0;
}

static void node_fini(struct node *n)
{
	metrics_fini(n->metrics);
	admission_fini(n->parts.adm);
	reports_fini(n->parts.rp);
	beacons_fini(n->parts.bc);
	round_fini(n->parts.rd);
	ingest_fini(n->parts.in);
	registry_fini(n->parts.reg);
	store_fini(&n->st);
	oracle_signer_fini(&n->signer);
	if (n->m)
		mosquitto_destroy(n->m);
	mosquitto_lib_cleanup();
	ackq_fini(&n->acks);
}

static int node_init(struct node *n, bool check_only)
{
	struct od_config *c = n->cfg;
	char err[600];

	mosquitto_lib_init();
	if (oracle_signer_init(&n->signer, c->seckey)) {
		od_log("%s: node.key is not a valid secp256k1 secret key", c->path);
		return OD_EXIT_USAGE;
	}
	oracle_hex(n->signer.node_id, ORACLE_NODE_ID_LEN, n->node_hex);
	if (store_init(&n->st, c->db, STORE_DAEMON, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_DB;
	}
	n->parts.st = &n->st;
	ackq_init(&n->acks, publish, n);
	n->parts.acks = &n->acks;
	n->parts.cfg = c;
	n->parts.node_hex = n->node_hex;
	n->parts.started = time(NULL);
	if (registry_init(&n->parts.reg, c, &n->st, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_USAGE;
	}
	if (check_only)
		return 0;
	if (ingest_init(&n->parts.in, c, &n->st, n->parts.reg, &n->signer) ||
	    beacons_init(&n->parts.bc, c, &n->st, &n->signer,
			 ingest_fresh(n->parts.in), publish_retained, n) ||
	    reports_init(&n->parts.rp, c, &n->st) ||
	    round_init(&n->parts.rd, c, &n->st, n->parts.reg, &n->signer,
		       publish, n) ||
	    admission_init(&n->parts.adm, c, &n->st, n->parts.reg, &n->signer,
			   publish, on_admitted, n))
		return OD_EXIT_RUNTIME;
	if (*c->metrics && metrics_init(&n->metrics, c->metrics, &n->parts))
		return OD_EXIT_RUNTIME;
	n->m = mosquitto_new(n->node_hex, false, n);
	if (!n->m)
		return OD_EXIT_RUNTIME;
	mosquitto_int_option(n->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(n->m, on_connect);
	mosquitto_disconnect_callback_set(n->m, on_disconnect);
	mosquitto_message_callback_set(n->m, on_message);
	/* acks are QoS 1: at most this many unconfirmed by the broker.  100
	 * let through 100 acks per pass of the loop (one group commit, up to
	 * GROUP_MAX batches), half what 1,000 gateways need: the rest queued
	 * in libmosquitto, the node's memory grew by 115 MiB in 10 minutes
	 * and the gateways' spools never drained (system.md) */
	mosquitto_max_inflight_messages_set(n->m, 16 * GROUP_MAX);
	if (*c->ca && mosquitto_tls_set(n->m, c->ca, NULL, *c->cert ? c->cert : NULL,
					*c->key ? c->key : NULL, NULL)) {
		od_log("%s: TLS setup failed: check link.ca, link.cert and link.key",
		       c->path);
		return OD_EXIT_TLS;
	}
	return 0;
}

static int run_main(const char *path, bool check_only)
{
	static struct od_config cfg;
	static struct node n;
	time_t last_tick = 0, last_prune = 0;
	int b = 0, rc;

	if ((rc = load(path, &cfg)))
		return rc;
	n.cfg = &cfg;
	rc = node_init(&n, check_only);
	if (rc || check_only) {
		if (!rc)
			printf("%s: configuration and database are fine (node %s, "
			       "%d gateways, %d feeds)\n", path, n.node_hex,
			       cfg.ngw, cfg.nfeeds);
		node_fini(&n);
		return rc;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);
	od_log("node %s: %d gateways, %d feeds, %zu whitelisted nodes (t = %zu)",
	       n.node_hex, cfg.ngw, cfg.nfeeds, cfg.nnodes, cfg.t);
	sd_notify(0, "READY=1");
	while (!stop) {
		const char *u = cfg.brokers[b];
		const char *hp = u + (strncmp(u, "mqtts://", 8) ? 7 : 8);
		const char *colon = strrchr(hp, ':');
		char host[OD_PATH];
		time_t now;

		snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
		if (mosquitto_connect(n.m, host, atoi(colon + 1), cfg.keepalive)) {
			b = (b + 1) % cfg.nbrokers;
			for (int i = 0; i < 10 && !stop; i++) {
				metrics_poll(n.metrics);
				usleep(100000);
			}
			round_tick(n.parts.rd, (uint64_t)time(NULL));
			beacons_tick(n.parts.bc, (uint64_t)time(NULL));
			continue;
		}
		while (!stop && group_pass(&n) == MOSQ_ERR_SUCCESS) {
			metrics_poll(n.metrics);
			now = time(NULL);
			if (now != last_tick) {
				last_tick = now;
				registry_refresh(n.parts.reg);
				ingest_tick(n.parts.in, (uint64_t)now);
				admission_tick(n.parts.adm, (uint64_t)now);
				round_tick(n.parts.rd, (uint64_t)now);
				beacons_tick(n.parts.bc, (uint64_t)now);
				sd_notify(0, "WATCHDOG=1");
			}
			if (now - last_prune >= 600) {
				last_prune = now;
				ingest_prune(n.parts.in, (uint64_t)now);
			}
		}
		if (!stop)
			usleep(300000);
	}
	sd_notify(0, "STOPPING=1");
	{
		const struct ingest_stats *s = ingest_stats(n.parts.in);

		od_log("stopping: %llu messages, %llu records, %llu stored, "
		       "%llu duplicates, %llu out of order, %llu verified, %llu not, "
		       "%llu acks", (unsigned long long)s->messages,
		       (unsigned long long)s->records, (unsigned long long)s->stored,
		       (unsigned long long)s->dups, (unsigned long long)s->out_of_order,
		       (unsigned long long)s->verified, (unsigned long long)s->failed,
		       (unsigned long long)s->acks_sent);
	}
	mosquitto_disconnect(n.m);
	node_fini(&n);
	return n.failed ? OD_EXIT_RUNTIME : OD_EXIT_OK;
}

/* -------------------------------------------------------------- main --- */

static int admin_main(const char *path, const char *verb, const char *gw,
		      const char *reason)
{
	static struct od_config cfg;
	struct store st;
	char err[600];
	int rc;

	if ((rc = load(path, &cfg)))
		return rc;
	if (config_gw_index(&cfg, gw) < 0) {
		od_log("admin: gateway %s is not in %s", gw, path);
		return OD_EXIT_NOTFOUND;
	}
	if (store_init(&st, cfg.db, STORE_ADMIN, err, sizeof(err))) {
		od_log("%s", err);
		return OD_EXIT_DB;
	}
	rc = registry_admin(&st, verb, gw, reason);
	store_fini(&st);
	if (!rc)
		printf("gateway %s: %s\n", gw, verb);
	return rc;
}

int status_main(const char *path, bool json);
int final_main(const char *path, const char *feed, int64_t round,
	       const char *out, const char *bundle);
int contract_params_main(const char *path, const char *feed);

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "reason", required_argument, NULL, 'r' },
		{ "feed", required_argument, NULL, 'f' },
		{ "round", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cmd, *config = NULL, *reason = NULL, *feed = NULL, *out = NULL,
		   *bundle = NULL;
	bool json = false, check = false, all = false;
	int64_t round = -1;
	char *end;
	int o;

	if (argc < 2) {
		fputs(usage, stderr);
		return OD_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "setup"))
		return setup_main(argc, argv);
	optind = 2;
	while ((o = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'j': json = true; break;
		case 'k': check = true; break;
		case 'r': reason = optarg; break;
		case 'f': feed = optarg; break;
		case 'a': all = true; break;
		case 'o': out = optarg; break;
		case 'b': bundle = optarg; break;
		case 'n':
			errno = 0;
			round = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || round < 1) {
				od_log("--round %s: not a round number (1, 2, ...)", optarg);
				return OD_EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return OD_EXIT_USAGE;
		}
	}
	if (!strcmp(cmd, "pubkey") && optind == argc - 1) {
		struct oracle_signer s;
		uint8_t k[32];
		char hex[2 * ORACLE_PUB_LEN + 1], id[ORACLE_NODE_ID_HEX];

		if (oracle_unhex(argv[optind], k, 32) || oracle_signer_init(&s, k)) {
			od_log("pubkey: not a secp256k1 secret key (64 hex digits, "
			       "not 0, below the group order)");
			return OD_EXIT_USAGE;
		}
		oracle_hex(s.pub, ORACLE_PUB_LEN, hex);
		oracle_hex(s.node_id, ORACLE_NODE_ID_LEN, id);
		printf("%s %s\n", hex, id);
		oracle_signer_fini(&s);
		return 0;
	}
	if (!config) {
		od_log("%s: --config FILE is required (see --help)", cmd);
		return OD_EXIT_USAGE;
	}
	if ((!strcmp(cmd, "run") || !strcmp(cmd, "ingest")) && optind == argc)
		return run_main(config, check);
	if (!strcmp(cmd, "status") && optind == argc)
		return status_main(config, json);
	if (!strcmp(cmd, "final") && optind == argc) {
		if (all == (round >= 0)) {
			od_log("final: give either --round N or --all");
			return OD_EXIT_USAGE;
		}
		return final_main(config, feed, round, out, bundle);
	}
	if (!strcmp(cmd, "contract-params") && optind == argc)
		return contract_params_main(config, feed);
	if (!strcmp(cmd, "admin") && optind == argc - 2)
		return admin_main(config, argv[optind], argv[optind + 1], reason);
	fputs(usage, stderr);
	return OD_EXIT_USAGE;
}

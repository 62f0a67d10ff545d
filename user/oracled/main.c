// SPDX-License-Identifier: GPL-2.0
/*
 * attestio-oracle: the oracle node.  So far only `ingest` (records in,
 * signed acks out; issue 11 builds rounds, reports and the rest) and
 * `pubkey` (a node key's public key and node id, for gateway configs).
 */
#include <errno.h>
#include <ini.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "ack.h"
#include "ingest.h"

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

struct pctx {
	struct ingest_config *c;
	char *err;
};

static int handler(void *user, const char *sec, const char *name,
		   const char *value)
{
	struct pctx *p = user;
	struct ingest_config *c = p->c;

#define STR(s, k, f) if (!strcmp(sec, s) && !strcmp(name, k)) { \
		if (strlen(value) >= sizeof(c->f)) { strcpy(p->err, k " too long"); return 0; } \
		strcpy(c->f, value); return 1; }
	STR("node", "db", db);
	STR("link", "ca", ca);
	STR("link", "cert", cert);
	STR("link", "key", key);
	if (!strcmp(sec, "node") && !strcmp(name, "key")) {
		if (oracle_unhex(value, c->seckey, 32)) {
			strcpy(p->err, "node.key must be 64 hex digits");
			return 0;
		}
		return 1;
	}
	if (!strcmp(sec, "link") && !strcmp(name, "broker")) {
		if (c->nbrokers >= 8 || strlen(value) >= 256 ||
		    (strncmp(value, "mqtts://", 8) && strncmp(value, "mqtt://", 7))) {
			strcpy(p->err, "link.broker must be mqtts://HOST:PORT (at most 8)");
			return 0;
		}
		strcpy(c->brokers[c->nbrokers++], value);
		return 1;
	}
	if (!strcmp(sec, "gateways")) {
		uint8_t id[16];

		if (c->ngw >= INGEST_MAX_GW || oracle_unhex(name, id, 16) ||
		    strspn(name, "0123456789abcdef") != 32 || strlen(value) >= 256) {
			strcpy(p->err, "[gateways] lines are <32 lowercase hex id> = <AK file>");
			return 0;
		}
		strcpy(c->gw_id[c->ngw], name);
		strcpy(c->gw_ak[c->ngw++], value);
		return 1;
	}
	snprintf(p->err, 200, "unknown key [%s] %s", sec, name);
	return 0;
}

int ingest_config_load(const char *path, struct ingest_config *c, char *err,
		       size_t errlen)
{
	char what[200] = "";
	struct pctx p = { c, what };
	int line;

	memset(c, 0, sizeof(*c));
	line = ini_parse(path, handler, &p);
	if (line) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 line < 0 ? "cannot read" : *what ? what : "syntax error");
		return -1;
	}
	if (!*c->db || !c->nbrokers || !c->ngw) {
		snprintf(err, errlen, "%s: node.db, link.broker and [gateways] are required", path);
		return -1;
	}
	return 0;
}

static struct ingest *g_in;
static uint8_t ackbuf[ORACLE_ACK_MAX_LEN];

static void on_message(struct mosquitto *m, void *ud,
		       const struct mosquitto_message *msg)
{
	char gw[40];
	const char *p = msg->topic + strlen("attestio/v1/gw/");
	const char *e = strchr(p, '/');
	size_t acklen = 0;
	char topic[128];

	(void)ud;
	if (strncmp(msg->topic, "attestio/v1/gw/", 15) || !e || e - p != 32)
		return;
	memcpy(gw, p, 32);
	gw[32] = 0;
	if (ingest_message(g_in, gw, msg->payload, (size_t)msg->payloadlen, ackbuf,
			   sizeof(ackbuf), &acklen) || !acklen)
		return;
	snprintf(topic, sizeof(topic), "attestio/v1/gw/%s/ack/%s", gw,
		 ingest_node_id(g_in));
	mosquitto_publish(m, NULL, topic, (int)acklen, ackbuf, 1, false);
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
	(void)ud;
	if (!rc)
		mosquitto_subscribe(m, NULL, "attestio/v1/gw/+/records", 1);
	fprintf(stderr, "attestio-oracle: connect: %s\n", mosquitto_connack_string(rc));
}

static int ingest_main(const char *path)
{
	static struct ingest_config cfg;
	const struct ingest_stats *s;
	struct mosquitto *m;
	char err[400], host[256];
	int port = 0, b = 0;

	if (ingest_config_load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "attestio-oracle: %s\n", err);
		return 2;
	}
	if (ingest_init(&g_in, &cfg))
		return 1;
	mosquitto_lib_init();
	m = mosquitto_new(ingest_node_id(g_in), false, NULL);
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_message_callback_set(m, on_message);
	if (*cfg.ca && mosquitto_tls_set(m, cfg.ca, NULL, *cfg.cert ? cfg.cert : NULL,
					 *cfg.key ? cfg.key : NULL, NULL)) {
		fprintf(stderr, "attestio-oracle: TLS setup failed\n");
		return 5;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	fprintf(stderr, "attestio-oracle: node %s ingesting for %d gateways\n",
		ingest_node_id(g_in), cfg.ngw);
	while (!stop) {
		const char *u = cfg.brokers[b];
		const char *hp = u + (strncmp(u, "mqtts://", 8) ? 7 : 8);
		const char *colon = strrchr(hp, ':');

		snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
		port = atoi(colon + 1);
		if (mosquitto_connect(m, host, port, 30)) {
			b = (b + 1) % cfg.nbrokers;
			sleep(1);
			continue;
		}
		while (!stop && mosquitto_loop(m, 100, 1) == MOSQ_ERR_SUCCESS)
			;
		if (!stop)
			usleep(300000);
	}
	s = ingest_stats(g_in);
	fprintf(stderr, "attestio-oracle: %llu messages, %llu records, %llu stored, "
		"%llu duplicates, %llu out of order, %llu verified, %llu not, %llu acks\n",
		(unsigned long long)s->messages, (unsigned long long)s->records,
		(unsigned long long)s->stored, (unsigned long long)s->dups,
		(unsigned long long)s->out_of_order, (unsigned long long)s->verified,
		(unsigned long long)s->failed, (unsigned long long)s->acks_sent);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	ingest_fini(g_in);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "ingest") && !strcmp(argv[2], "--config"))
		return ingest_main(argv[3]);
	if (argc == 3 && !strcmp(argv[1], "pubkey")) {
		struct oracle_signer s;
		uint8_t k[32];
		char hex[131], id[33];

		if (oracle_unhex(argv[2], k, 32) || oracle_signer_init(&s, k)) {
			fprintf(stderr, "attestio-oracle: bad secret key\n");
			return 2;
		}
		oracle_hex(s.pub, 65, hex);
		oracle_hex(s.node_id, 16, id);
		printf("%s %s\n", hex, id);
		oracle_signer_fini(&s);
		return 0;
	}
	fprintf(stderr,
		"Usage: attestio-oracle ingest --config FILE\n"
		"       attestio-oracle pubkey SECRET_KEY_HEX   (prints public key, node id)\n"
		"Exit status: 0 ok, 1 runtime failure, 2 usage/config, 5 TLS setup.\n");
	return 2;
}

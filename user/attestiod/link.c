// SPDX-License-Identifier: GPL-2.0
/*
 * Link: libmosquitto driven from our epoll loop (mosquitto_socket +
 * mosquitto_loop_read/write/misc, never its thread).  MQTT 5 with a
 * Session-Expiry-Interval (or 3.1.1 by configuration), QoS 1,
 * client id = gateway id, clean session off, bounded in-flight window,
 * brokers tried in turn with jittered exponential backoff.  TLS: our own
 * OpenSSL 3 SSL_CTX (mutual TLS, PEM key file) handed over with
 * MOSQ_OPT_SSL_CTX.  Publishes spooled records; receives acks, verifies
 * them and lets the spool delete what ack_quorum nodes acknowledged; goes
 * back to the oldest unacked record when acks stop coming.
 */
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <libattestio.h>

#include "ack.h"
#include "gwstatus.h"
#include "attestiod.h"
#include "loss.h"

/*
 * L_PROBING (MQTT 5 only): libmosquitto 2.0 sends CONNECT properties only
 * through mosquitto_connect_bind_v5(), whose TCP connect() blocks; we
 * first connect a socket of our own, non-blocking, and call it only once
 * the broker accepted that one, so the loop never waits on an unreachable
 * broker.  The TLS handshake that follows is non-blocking either way.
 */
#define BEACON_TOPIC	"attestio/v1/beacon/"	/* protocol.md "Beacons" */

enum lstate { L_DOWN, L_PROBING, L_CONNECTING, L_UP };

struct link {
	const struct config *c;
	struct spool *spool;
	struct mosquitto *m;
	SSL_CTX *ssl;
	enum lstate state;
	int broker;		/* index of the broker in use / next */
	unsigned int fails;	/* consecutive failures (backoff) */
	uint64_t next_try;
	unsigned int inflight;
	struct rtx rtx;		/* the retransmission timer (rto.c) */
	int64_t high_sent;	/* the highest record id published */
	char topic_rec[96], topic_ack[96], topic_ev[96];
	uint8_t *ev;		/* the evidence message (retained) */
	size_t ev_len;
	bool ev_sent;		/* published on this connection */
	/* enrollment (enroll.c): the bundle, retained, and the answerer */
	char topic_bundle[96], topic_chal[96];
	uint8_t *bundle;
	size_t bundle_len;
	bool bundle_sent;
	link_answer_fn answer;
	void *answer_ctx;
	char topic_loss[96];
	struct oracle_loss *loss;	/* the loss declaration … */
	uint8_t *lossbuf;
	uint64_t loss_ver;	/* … of this spool_loss_ver() was published */
	uint64_t restated;	/* when a release declaration last sent again */
	bool loss_sent;		/* on this connection, since the last rewind */
	uint8_t *batch;
	struct oracle_ack *ack;
	link_beacon_fn beacon;		/* NULL: not subscribed */
	void *beacon_ctx;
	bool tls_error;			/* libmosquitto reported an OpenSSL error */
	uint64_t connect_start;
	int probe;			/* L_PROBING: our socket, else -1 */
};

static void ssl_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error())) {
		ERR_error_string_n(e, buf, sizeof(buf));
		logmsg(LOG_ERR, "link: %s: %s", what, buf);
	}
}

static time_t cert_not_after;	/* the client certificate's, 0: none */

/* An expired client certificate is refused by every broker: say so by name
 * at start (and when it expires while running, from cert_check()), and
 * export its end of validity so that renewal can be alerted on before. */
static void cert_check(const struct config *c)
{
	bool expired = cert_not_after && time(NULL) > cert_not_after;

	if (expired && !M.client_cert_expired) {
		char when[32];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
			 gmtime(&cert_not_after));
		logmsg(LOG_ERR, "link: client certificate %s expired on %s: brokers "
		       "will refuse it; renew it and restart attestiod", c->cert, when);
	}
	M.client_cert_expired = expired;
}

static void cert_expiry(const struct config *c, X509 *x)
{
	struct tm tm;

	cert_not_after = 0;
	if (x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		cert_not_after = timegm(&tm);
	M.client_cert_not_after = (uint64_t)(cert_not_after > 0 ? cert_not_after : 0);
	cert_check(c);
}

static SSL_CTX *make_ssl(const struct config *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	bool ok;

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		ssl_errors(c->ca);
		goto fail;
	}
	if (*c->cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
			ssl_errors(c->cert);
			goto fail;
		}
		if (c->key_tpm) {	/* key = tpm:HANDLE: signs in the TPM */
			struct att_err e = { 0 };
			EVP_PKEY *pk = NULL;

			if (att_tls_key_load(c->tcti, c->key_tpm, &pk, &e)) {
				logmsg(LOG_ERR, "link.key %s: %s", c->key, e.msg);
				goto fail;
			}
			ok = SSL_CTX_use_PrivateKey(ctx, pk) == 1;
			EVP_PKEY_free(pk);	/* the SSL_CTX holds it */
		} else {
			ok = SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) == 1;
		}
		if (!ok || SSL_CTX_check_private_key(ctx) != 1) {
			if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
				logmsg(LOG_ERR, "link.key %s does not belong to the "
				       "certificate %s", c->key, c->cert);
			ssl_errors(c->key);
			goto fail;
		}
		cert_expiry(c, SSL_CTX_get0_certificate(ctx));
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int parse_url(const char *url, char *host, size_t hcap, int *port,
		     bool *tls)
{
	const char *p = url, *colon;
	size_t hl;

	*tls = !strncmp(p, "mqtts://", 8);
	p += *tls ? 8 : 7;
	colon = strrchr(p, ':');
	if (!colon)
		return -1;
	hl = (size_t)(colon - p);
	if (!hl || hl >= hcap)
		return -1;
	memcpy(host, p, hl);
	host[hl] = 0;
	*port = atoi(colon + 1);
	return *port > 0 && *port < 65536 ? 0 : -1;
}

static void schedule(struct link *l, const char *why)
{
	uint64_t d = l->c->backoff_min_ms;

	for (unsigned int i = 0; i < l->fails && d < l->c->backoff_max_ms; i++)
		d *= 2;
	if (d > l->c->backoff_max_ms)
		d = l->c->backoff_max_ms;
	d = d / 2 + (uint64_t)random() % (d / 2 + 1);	/* jitter: [d/2, d] */
	l->fails++;
	l->next_try = now_ms() + d;
	l->broker = (l->broker + 1) % l->c->nbrokers;
	logmsg(LOG_WARNING, "link: %s; next attempt in %" PRIu64 " ms (%s)", why,
	       d, l->c->brokers[l->broker]);
}

static void down(struct link *l, const char *why)
{
	if (l->tls_error) {
		M.tls_failures++;
		l->tls_error = false;
	}
	if (l->state == L_DOWN)
		return;
	if (l->state == L_CONNECTING || l->state == L_PROBING)
		M.connect_failures++;
	if (l->state == L_UP)
		M.reconnects++;
	if (l->probe >= 0) {
		close(l->probe);
		l->probe = -1;
	}
	if (l->state != L_PROBING)
		mosquitto_disconnect(l->m);
	l->state = L_DOWN;
	M.connected = 0;
	l->inflight = 0;
	spool_rewind(l->spool);		/* go back to the oldest unacked */
	schedule(l, why);
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct link *l = ud;

	if (rc) {
		down(l, l->c->mqtt_version == 5 ? mosquitto_reason_string(rc) :
		     mosquitto_connack_string(rc));
		return;
	}
	logmsg(LOG_NOTICE, "link: connected to %s (MQTT %s)", l->c->brokers[l->broker],
	       l->c->mqtt_version == 5 ? "5" : "3.1.1");
	l->state = L_UP;
	l->fails = 0;
	l->inflight = 0;
	rtx_restart(&l->rtx, now_ms(), l->c->retransmit_ms);
	M.connected = 1;
	mosquitto_subscribe(m, NULL, l->topic_ack, 1);
	if (l->beacon)
		mosquitto_subscribe(m, NULL, BEACON_TOPIC "+", 1);
	l->ev_sent = false;	/* again on every connection */
	l->bundle_sent = false;
	if (l->bundle)
		mosquitto_subscribe(m, NULL, l->topic_chal, 1);
	l->loss_sent = false;
}

static void check(struct link *l, int rc, const char *what);

/* The evidence, retained (a node that starts later gets it), QoS 1. */
static void publish_evidence(struct link *l)
{
	int rc;

	if (l->state != L_UP || !l->ev || l->ev_sent)
		return;
	rc = mosquitto_publish(l->m, NULL, l->topic_ev, (int)l->ev_len, l->ev,
			       1, true);
	if (rc) {
		check(l, rc, "publish evidence");
		return;
	}
	l->ev_sent = true;
	M.evidence_published++;
	M.evidence_bytes = l->ev_len;
	logmsg(LOG_INFO, "link: evidence published (%zu bytes)", l->ev_len);
}

/*
 * The loss declaration (protocol.md "Loss declarations"): every hole the
 * spool still holds and the chains declared released to a stuck node
 * ("Released records"), retained, QoS 1; again whenever either set
 * changes, on every connection and with every retransmission, until the
 * holes are acked past (a set that emptied is published once, empty).
 */
static void publish_loss(struct link *l)
{
	uint64_t ver = spool_loss_ver(l->spool);
	size_t len = 0;
	int rc;

	if (l->state != L_UP || !ver || (l->loss_sent && ver == l->loss_ver))
		return;
	oracle_unhex(l->c->gw_id, l->loss->gw, sizeof(l->loss->gw));
	if (spool_loss(l->spool, l->loss) < 0 ||
	    oracle_loss_encode(l->loss, l->lossbuf, ORACLE_LOSS_MAX_LEN, &len))
		return;
	rc = mosquitto_publish(l->m, NULL, l->topic_loss, (int)len, l->lossbuf,
			       1, true);
	if (rc) {
		check(l, rc, "publish loss declaration");
		return;
	}
	l->loss_sent = true;
	l->loss_ver = ver;
	M.loss_published++;
	logmsg(LOG_INFO, "link: loss declaration published (%zu holes, %zu "
	       "chains released)", l->loss->n, l->loss->nrel);
}

/* The gateway status report (protocol.md "Gateway status"), retained,
 * QoS 0: informative, the next one replaces a lost one. */
void link_status(struct link *l, const struct oracle_gwstatus *st)
{
	uint8_t buf[ORACLE_GWS_MAX_LEN];
	char topic[96];
	size_t len;

	if (l->state != L_UP || oracle_gwstatus_encode(st, buf, sizeof(buf), &len))
		return;
	snprintf(topic, sizeof(topic), "attestio/v1/gw/%s/status", l->c->gw_id);
	check(l, mosquitto_publish(l->m, NULL, topic, (int)len, buf, 0, true),
	      "publish the gateway status");
}

int link_evidence(struct link *l, const uint8_t *buf, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		return -ENOMEM;
	memcpy(b, buf, len);
	free(l->ev);
	l->ev = b;
	l->ev_len = len;
	l->ev_sent = false;
	publish_evidence(l);
	return 0;
}

/* The enrollment bundle, retained, once per connection. */
static void publish_bundle(struct link *l)
{
	int rc;

	if (l->state != L_UP || !l->bundle || l->bundle_sent)
		return;
	rc = mosquitto_publish(l->m, NULL, l->topic_bundle, (int)l->bundle_len,
			       l->bundle, 1, true);
	if (rc) {
		check(l, rc, "publish the enrollment bundle");
		return;
	}
	l->bundle_sent = true;
	logmsg(LOG_INFO, "link: enrollment bundle published (%zu bytes)",
	       l->bundle_len);
}

int link_enroll(struct link *l, const uint8_t *bundle, size_t len,
		link_answer_fn answer, void *ctx)
{
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		return -ENOMEM;
	memcpy(b, bundle, len);
	free(l->bundle);
	l->bundle = b;
	l->bundle_len = len;
	l->bundle_sent = false;
	l->answer = answer;
	l->answer_ctx = ctx;
	if (l->state == L_UP)
		mosquitto_subscribe(l->m, NULL, l->topic_chal, 1);
	publish_bundle(l);
	return 0;
}

/* A node's challenge on .../enroll/<node>: the answer on .../answer/<node>. */
static void on_challenge(struct link *l, const struct mosquitto_message *msg)
{
	const char *node_hex = msg->topic + strlen(l->topic_chal) - 1;
	uint8_t out[256];
	char topic[160];
	size_t len = 0;
	int rc;

	if (strlen(node_hex) != 32 || !l->answer ||
	    l->answer(l->answer_ctx, node_hex, msg->payload,
		      (size_t)msg->payloadlen, out, sizeof(out), &len))
		return;
	snprintf(topic, sizeof(topic), "%.*sanswer/%s",
		 (int)(strlen(l->topic_chal) - 8), l->topic_chal, node_hex);
	rc = mosquitto_publish(l->m, NULL, topic, (int)len, out, 1, false);
	if (rc)
		check(l, rc, "publish an enrollment answer");
}

void link_beacons(struct link *l, link_beacon_fn cb, void *ctx)
{
	l->beacon = cb;
	l->beacon_ctx = ctx;
	if (l->state == L_UP)
		mosquitto_subscribe(l->m, NULL, BEACON_TOPIC "+", 1);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
	(void)m;
	if (rc)
		down(ud, "connection lost");
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
	struct link *l = ud;

	(void)m;
	(void)mid;
	if (l->inflight)
		l->inflight--;
}

static void on_log(struct mosquitto *m, void *ud, int level, const char *str)
{
	struct link *l = ud;

	(void)m;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
		if (strstr(str, "OpenSSL") || strstr(str, "TLS") || strstr(str, "SSL"))
			l->tls_error = true;
		logmsg(LOG_WARNING, "link: %s", str);
	}
}

static void on_message(struct mosquitto *m, void *ud,
		       const struct mosquitto_message *msg)
{
	struct link *l = ud;
	const char *node_hex = strrchr(msg->topic, '/');
	uint8_t pub[ORACLE_PUB_LEN], gw[16];
	const char *why = NULL;
	int node = -1;
	long n;

	(void)m;
	if (l->bundle && !strncmp(msg->topic, l->topic_chal,
				  strlen(l->topic_chal) - 1)) {
		on_challenge(l, msg);
		return;
	}
	if (l->beacon && node_hex &&
	    !strncmp(msg->topic, BEACON_TOPIC, strlen(BEACON_TOPIC)) &&
	    node_hex == msg->topic + strlen(BEACON_TOPIC) - 1) {
		l->beacon(l->beacon_ctx, node_hex + 1, msg->payload,
			       msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
		return;
	}
	if (!node_hex || strncmp(msg->topic, l->topic_ack, strlen(l->topic_ack) - 1))
		return;
	node_hex++;
	for (int i = 0; i < l->c->nnodes; i++)
		if (!strcmp(l->c->node_ids[i], node_hex))
			node = i;
	if (node < 0) {
		M.acks_unknown_node++;
		logmsg(LOG_WARNING, "link: ack from unknown node %.40s ignored", node_hex);
		return;
	}
	if (oracle_ack_parse(msg->payload, (size_t)msg->payloadlen, l->ack, &why) ||
	    oracle_ack_verify(l->ack, pub, &why)) {
		M.acks_bad++;
		logmsg(LOG_WARNING, "link: bad ack from %s ignored: %s", node_hex, why);
		return;
	}
	oracle_unhex(l->c->gw_id, gw, 16);
	if (memcmp(pub, l->c->nodes[node], ORACLE_PUB_LEN) ||
	    memcmp(l->ack->gw, gw, 16)) {
		M.acks_bad++;
		logmsg(LOG_WARNING, "link: ack on %s not signed by that node or "
		       "not for this gateway: ignored", msg->topic);
		return;
	}
	M.acks_ok++;
	/* a write error keeps the ack queued in the spool (it logs that) */
	n = spool_ack(l->spool, node, l->ack);
	if (n == -ENOMEM)
		logmsg(LOG_ERR, "link: out of memory queueing an ack");
	/* a node stuck below the spool's oldest record, told that what it
	 * lacks was released (protocol.md "Released records"): the records
	 * from the oldest on go again now, after the declaration
	 * (publish_more() publishes it first), at most once per
	 * retransmit_ms; the chain is held for it, so a retransmission
	 * timeout brings them too */
	if (spool_restate(l->spool) &&
	    now_ms() - l->restated >= l->c->retransmit_ms) {
		l->restated = now_ms();
		M.retransmits++;
		logmsg(LOG_NOTICE, "link: a node was declared records released: "
		       "retransmitting from the oldest record");
		spool_rewind(l->spool);
		rtx_resent(&l->rtx, l->restated);
	}
}

int link_init(struct link **lp, const struct config *c, struct spool *spool)
{
	struct link *l = calloc(1, sizeof(*l));
	char host[PATH_LEN];
	bool tls;
	int port;

	if (!l)
		return -ENOMEM;
	l->c = c;
	l->spool = spool;
	l->probe = -1;
	l->batch = malloc(BATCH_MAX_BYTES);
	l->ack = malloc(sizeof(*l->ack));
	l->loss = malloc(sizeof(*l->loss));
	l->lossbuf = malloc(ORACLE_LOSS_MAX_LEN);
	if (!l->batch || !l->ack || !l->loss || !l->lossbuf)
		goto fail;
	snprintf(l->topic_rec, sizeof(l->topic_rec), "attestio/v1/gw/%s/records", c->gw_id);
	snprintf(l->topic_ack, sizeof(l->topic_ack), "attestio/v1/gw/%s/ack/+", c->gw_id);
	snprintf(l->topic_ev, sizeof(l->topic_ev), "attestio/v1/gw/%s/evidence", c->gw_id);
	snprintf(l->topic_bundle, sizeof(l->topic_bundle), "attestio/v1/gw/%s/bundle", c->gw_id);
	snprintf(l->topic_chal, sizeof(l->topic_chal), "attestio/v1/gw/%s/enroll/+", c->gw_id);
	snprintf(l->topic_loss, sizeof(l->topic_loss), "attestio/v1/gw/%s/lost", c->gw_id);
	mosquitto_lib_init();
	l->m = mosquitto_new(*c->client_id ? c->client_id : c->gw_id, false, l);
	if (!l->m)
		goto fail;
	mosquitto_int_option(l->m, MOSQ_OPT_PROTOCOL_VERSION,
			     c->mqtt_version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(l->m, c->max_inflight);
	mosquitto_connect_callback_set(l->m, on_connect);
	mosquitto_disconnect_callback_set(l->m, on_disconnect);
	mosquitto_publish_callback_set(l->m, on_publish);
	mosquitto_message_callback_set(l->m, on_message);
	mosquitto_log_callback_set(l->m, on_log);
	if (parse_url(c->brokers[0], host, sizeof(host), &port, &tls)) {
		logmsg(LOG_ERR, "link: bad broker URL %s", c->brokers[0]);
		goto fail;
	}
	if (tls) {
		l->ssl = make_ssl(c);
		if (!l->ssl)
			goto fail;
		mosquitto_void_option(l->m, MOSQ_OPT_SSL_CTX, l->ssl);
		mosquitto_int_option(l->m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
	}
	l->next_try = 0;
	*lp = l;
	return 0;
fail:
	link_fini(l);
	return -EINVAL;
}

void link_reconfig(struct link *l, const struct config *c)
{
	l->c = c;
}

void link_fini(struct link *l)
{
	if (!l)
		return;
	if (l->probe >= 0)
		close(l->probe);
	if (l->m) {
		mosquitto_disconnect(l->m);
		mosquitto_destroy(l->m);
	}
	mosquitto_lib_cleanup();
	SSL_CTX_free(l->ssl);
	free(l->batch);
	free(l->ev);
	free(l->bundle);
	free(l->ack);
	free(l->loss);
	free(l->lossbuf);
	free(l);
}

int link_fd(const struct link *l)
{
	if (l->state == L_PROBING)
		return l->probe;
	return l->state == L_DOWN ? -1 : mosquitto_socket(l->m);
}

bool link_want_write(const struct link *l)
{
	/* while connecting: a non-blocking connect completes as writable */
	return l->state == L_CONNECTING || l->state == L_PROBING ||
	       (l->state == L_UP && mosquitto_want_write(l->m));
}

bool link_idle(const struct link *l)
{
	return l->state == L_UP && !l->inflight;
}

static void check(struct link *l, int rc, const char *what)
{
	char why[128];

	if (rc == MOSQ_ERR_SUCCESS)
		return;
	if (rc == MOSQ_ERR_TLS) {
		l->tls_error = true;
		ssl_errors("TLS");
	}
	snprintf(why, sizeof(why), "%s: %s", what, mosquitto_strerror(rc));
	down(l, why);
}

static int url_of(struct link *l, char *host, size_t hcap, int *port)
{
	bool tls;

	if (parse_url(l->c->brokers[l->broker], host, hcap, port, &tls)) {
		schedule(l, "bad broker URL");
		return -1;
	}
	if (l->ssl) {	/* the broker's certificate must name this host */
		X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(l->ssl);

		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1)
			X509_VERIFY_PARAM_set1_ip_asc(vp, host);
	}
	return 0;
}

/* MQTT 5: the CONNECT, with its Session-Expiry-Interval, once the probe
 * socket connected (the broker accepts connections). */
static void connect_v5(struct link *l)
{
	mosquitto_property *props = NULL;
	char host[PATH_LEN];
	int port, rc;

	close(l->probe);
	l->probe = -1;
	if (url_of(l, host, sizeof(host), &port))
		return;
	l->state = L_CONNECTING;
	rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					  l->c->session_expiry_s);
	if (!rc)
		rc = mosquitto_connect_bind_v5(l->m, host, port, (int)l->c->keepalive_s,
					       NULL, props);
	mosquitto_property_free_all(&props);
	check(l, rc, "connect");
}

static void probe_start(struct link *l, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char ps[8];
	int fd = -1, rc;

	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(host, ps, &hints, &ai);
	if (rc) {
		char why[PATH_LEN + 64];

		snprintf(why, sizeof(why), "connect: %s: %s", host, gai_strerror(rc));
		l->state = L_PROBING;
		down(l, why);
		return;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	l->state = L_PROBING;
	l->probe = fd;
	if (fd < 0)
		down(l, "connect: connection refused");
}

static void probe_done(struct link *l)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(l->probe, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		char why[160];

		snprintf(why, sizeof(why), "connect: %s", strerror(err ? err : errno));
		down(l, why);
		return;
	}
	connect_v5(l);
}

/* The broker's certificate must name the broker we dial (libmosquitto
 * checks that too; this does not depend on it): a certificate of the same
 * CA for another host, i.e. a broker that is not in the configuration, is
 * refused (tests/attestiod/run.sh broker_not_in_config). */
static void expect_host(struct link *l, const char *host)
{
	X509_VERIFY_PARAM *p;
	unsigned char ip[16];

	if (!l->ssl)
		return;
	p = SSL_CTX_get0_param(l->ssl);
	X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
		X509_VERIFY_PARAM_set1_host(p, NULL, 0);
		X509_VERIFY_PARAM_set1_ip_asc(p, host);
	} else {
		X509_VERIFY_PARAM_set1_ip(p, NULL, 0);
		X509_VERIFY_PARAM_set1_host(p, host, 0);
	}
}

static void try_connect(struct link *l)
{
	char host[PATH_LEN];
	int port, rc;

	if (url_of(l, host, sizeof(host), &port))
		return;
	cert_check(l->c);
	expect_host(l, host);
	l->connect_start = now_ms();
	if (l->c->mqtt_version == 5) {
		probe_start(l, host, port);
		return;
	}
	l->state = L_CONNECTING;
	rc = mosquitto_connect_async(l->m, host, port, (int)l->c->keepalive_s);
	check(l, rc, "connect");
}

static void publish_more(struct link *l)
{
	publish_bundle(l);	/* first: nodes admit the gateway with it */
	publish_evidence(l);	/* then: the nodes check checkpoints with it */
	publish_loss(l);	/* and excuse holes with it */
	while (l->state == L_UP && l->inflight < l->c->max_inflight &&
	       spool_has_unsent(l->spool)) {
		/* a first publication of every record in it (Karn: a
		 * retransmitted batch's ack says nothing of the round trip) */
		bool fresh = spool_sent(l->spool, l->high_sent);
		size_t len = 0;
		unsigned int n = 0;
		int rc;

		if (spool_next(l->spool, l->batch, l->c->batch_bytes, &len, &n) || !n)
			return;
		if (spool_cursor(l->spool) > l->high_sent) {
			l->high_sent = spool_cursor(l->spool);
			if (fresh)
				rtx_published(&l->rtx, l->high_sent, now_ms());
		}
		rc = mosquitto_publish(l->m, NULL, l->topic_rec, (int)len, l->batch,
				       1, false);
		if (rc) {
			check(l, rc, "publish");
			return;
		}
		l->inflight++;
		M.batches_published++;
		M.records_published += n;
		if (!fresh)
			M.batches_retransmitted++;
	}
}

void link_io(struct link *l, bool readable, bool writable)
{
	if (l->state == L_PROBING) {
		if (readable || writable)
			probe_done(l);
		return;
	}
	if (readable && l->state != L_DOWN)
		check(l, mosquitto_loop_read(l->m, 1), "read");
	if (writable && l->state != L_DOWN)
		check(l, mosquitto_loop_write(l->m, 1), "write");
	publish_more(l);
}

void link_tick(struct link *l, uint64_t now)
{
	if (l->state == L_DOWN) {
		if (now >= l->next_try)
			try_connect(l);
		return;
	}
	if (l->state == L_PROBING) {
		if (now - l->connect_start > 1000ull * l->c->keepalive_s)
			down(l, "connect timeout");
		return;
	}
	check(l, mosquitto_loop_misc(l->m), "keepalive");
	if (l->state == L_CONNECTING &&
	    now - l->connect_start > 1000ull * l->c->keepalive_s)
		down(l, "connect timeout");
	if (l->state != L_UP)
		return;
	/* The oldest record sent stayed unacked for the retransmission
	 * timeout: send again from it (go-back-N; the nodes deduplicate,
	 * and drop what follows a hole until it is filled, so everything
	 * after it goes again: attestiod.md "Retransmission").  The timeout
	 * is the measured ack round trip's (RFC 6298), at least
	 * retransmit_ms: a backlogged node is not sent its backlog again.
	 * While the same record stays unacked the wait doubles, up to
	 * RTX_MAX_FACTOR x retransmit_ms: a node that is down, or acks that
	 * cannot be applied, do not turn the whole spool into a
	 * retransmission storm.  How much of a backoff the next record keeps
	 * (Karn, bounded): rto.c. */
	{
		int64_t id = spool_oldest(l->spool);
		unsigned int min_ms = l->c->retransmit_ms;

		if (rtx_oldest(&l->rtx, id, now, min_ms)) {
			M.ack_rtt_ms = (uint64_t)l->rtx.rto.srtt;
			M.rto_ms = rtx_base(&l->rtx, min_ms);
		}
		if (id > 0 && spool_sent(l->spool, id) && rtx_due(&l->rtx, now)) {
			M.retransmits++;
			logmsg(LOG_NOTICE, "link: record %" PRId64 " unacked for %u ms: "
			       "retransmitting from it", id, l->rtx.wait);
			spool_rewind(l->spool);
			l->loss_sent = false;	/* with the records again */
			rtx_expire(&l->rtx, now, min_ms);
		}
	}
	publish_more(l);
	if (mosquitto_want_write(l->m))
		check(l, mosquitto_loop_write(l->m, 1), "write");
}

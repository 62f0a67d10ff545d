// SPDX-License-Identifier: GPL-2.0
/*
 * enroll: the gateway's side of enrollment (Documentation/attestiod.md
 * "Enrollment", protocol.md "Enrollment").  At start: the enrollment
 * bundle from the TPM ([tpm] tcti, ak_handle) and the gateway id derived
 * from its EK (att_gateway_id, the one derivation); the link publishes the
 * bundle retained under the gateway's prefix.  Each node's challenge
 * (signed by a configured [oracle] node key) is answered with
 * TPM2_ActivateCredential: the answer proves the secret with an HMAC over
 * (gateway, node, challenge id), never the secret itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libattestio.h>
#include <openssl/crypto.h>

#include "ack.h"
#include "attestiod.h"
#include "enrollmsg.h"

struct enroll {
	struct config *c;
	uint8_t *bundle;
	size_t len;
	uint8_t gw[16];
};

static int read_bundle(const char *path, struct att_enroll_bundle *b,
		       struct att_err *err)
{
	uint8_t buf[16384];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return att_enroll_parse(buf, n, b, err);
}

int enroll_init(struct enroll **ep, struct config *c)
{
	struct att_enroll_bundle b;
	struct enroll *e;
	struct att_err err;
	char id[33];

	*ep = NULL;
	if (c->enroll == ENROLL_OFF)
		return 0;
	if (c->enroll == ENROLL_AUTO && !*c->bundle &&
	    !strncmp(c->tcti, "device:", 7) &&
	    access(c->tcti + 7, F_OK)) {
		if (!*c->gw_id) {
			logmsg(LOG_ERR, "gateway.id is not set and there is no "
			       "TPM at %s to derive it from its EK", c->tcti + 7);
			return -1;
		}
		logmsg(LOG_NOTICE, "enroll: no TPM at %s (tpm.enroll = auto): "
		       "no enrollment bundle is published", c->tcti + 7);
		return 0;
	}
	if (*c->bundle) {	/* written by `attestio enroll` */
		if (read_bundle(c->bundle, &b, &err)) {
			logmsg(LOG_ERR, "enroll: tpm.bundle %s: %s", c->bundle,
			       err.msg);
			return -1;
		}
	} else if (att_enroll_collect(c->tcti, c->ak_handle, NULL, &b, &err)) {
		logmsg(c->enroll == ENROLL_ON ? LOG_ERR : LOG_NOTICE,
		       "enroll: cannot read the enrollment bundle from the TPM "
		       "(%s, AK 0x%08x): %s%s", c->tcti, c->ak_handle, err.msg,
		       c->enroll == ENROLL_ON ? "" : " (tpm.enroll = auto: "
		       "going on without)");
		if (!*c->gw_id && c->enroll != ENROLL_ON)
			logmsg(LOG_ERR, "gateway.id is not set and the TPM gave "
			       "no EK to derive it from");
		return c->enroll == ENROLL_ON || !*c->gw_id ? -1 : 0;
	}
	if (att_gateway_id(b.ek_pub, b.ek_pub_len, id)) {
		logmsg(LOG_ERR, "enroll: the TPM's EK public is malformed");
		att_enroll_free(&b);
		return -1;
	}
	if (*c->gw_id && strcmp(c->gw_id, id)) {
		logmsg(LOG_ERR, "gateway.id %s is not this TPM's: its EK gives "
		       "gateway id %s (fix gateway.id, or tpm.tcti if this is "
		       "the wrong TPM)", c->gw_id, id);
		att_enroll_free(&b);
		return -1;
	}
	strcpy(c->gw_id, id);
	e = calloc(1, sizeof(*e));
	if (!e || att_enroll_encode(&b, &e->bundle, &e->len, &err)) {
		logmsg(LOG_ERR, "enroll: cannot encode the bundle");
		att_enroll_free(&b);
		free(e);
		return -1;
	}
	att_enroll_free(&b);
	e->c = c;
	oracle_unhex(c->gw_id, e->gw, 16);
	logmsg(LOG_NOTICE, "enroll: gateway id %s from the TPM's EK; the "
	       "enrollment bundle (%zu bytes) is published for the nodes", id,
	       e->len);
	*ep = e;
	return 0;
}

void enroll_fini(struct enroll *e)
{
	if (!e)
		return;
	free(e->bundle);
	free(e);
}

const uint8_t *enroll_bundle(const struct enroll *e, size_t *len)
{
	*len = e ? e->len : 0;
	return e ? e->bundle : NULL;
}

int enroll_answer(void *ctx, const char *node_hex, const uint8_t *chal,
		  size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	static struct oracle_enroll_chal ch;
	struct enroll *e = ctx;
	struct oracle_enroll_ans ans = { 0 };
	uint8_t pub[ORACLE_PUB_LEN], secret[64];
	size_t slen = sizeof(secret);
	const char *why = NULL;
	struct att_err err;
	int node = -1;

	M.enroll_challenges++;
	for (int i = 0; i < e->c->nnodes; i++)
		if (!strcmp(e->c->node_ids[i], node_hex))
			node = i;
	if (node < 0)
		why = "from a node not in [oracle]";
	else if (oracle_enroll_chal_parse(chal, len, &ch, &why) ||
		 oracle_enroll_chal_verify(&ch, pub, &why))
		;
	else if (memcmp(pub, e->c->nodes[node], ORACLE_PUB_LEN))
		why = "not signed by the node of its topic";
	else if (memcmp(ch.gw, e->gw, 16))
		why = "for another gateway";
	if (why) {
		M.enroll_refused++;
		logmsg(LOG_WARNING, "enroll: challenge on .../enroll/%.40s "
		       "ignored: %s", node_hex, why);
		return -1;
	}
	if (att_activate_credential(e->c->tcti, e->c->ak_handle, ch.cred,
				    ch.cred_len, ch.secret, ch.secret_len,
				    secret, &slen, &err)) {
		M.enroll_refused++;
		logmsg(LOG_WARNING, "enroll: node %s's challenge: the TPM does "
		       "not activate the credential: %s", node_hex, err.msg);
		return -1;
	}
	memcpy(ans.gw, e->gw, 16);
	memcpy(ans.node_id, ch.node_id, sizeof(ans.node_id));
	if (oracle_enroll_chal_digest(&ch, ans.chal)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return -1;
	}
	oracle_enroll_proof(&ans, secret, slen, ans.proof);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (oracle_enroll_ans_encode(&ans, out, cap, outlen))
		return -1;
	M.enroll_answered++;
	logmsg(LOG_NOTICE, "enroll: answered node %s's challenge", node_hex);
	return 0;
}

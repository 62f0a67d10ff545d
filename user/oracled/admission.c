// SPDX-License-Identifier: GPL-2.0
/*
 * Admission: enrollment of [gateway ID] enroll = true gateways over MQTT
 * (Documentation/oracle.md "Admission", protocol.md "Enrollment").
 *
 *   gateway: retained enrollment bundle on attestio/v1/gw/<gw>/bundle
 *   node:    checks it (gateway id = SHA-256(EK public)[0..16], pinned EK,
 *            EK certificate chain against ek_ca_dir), makes a credential
 *            to (EK, AK name) with a fresh secret and publishes the signed
 *            challenge on attestio/v1/gw/<gw>/enroll/<node>
 *   gateway: TPM2_ActivateCredential, answer on .../answer/<node> with an
 *            HMAC of (gateway, node, challenge id) keyed by the secret
 *   node:    checks the answer against the one challenge pending for the
 *            gateway; only then registry_admit(): the AK is trusted.
 *
 * What is not admitted never verifies a record (ingest: no verifier, no
 * ack).  Pending challenges live in memory: a restart challenges again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libattestio.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "enrollmsg.h"
#include "oracled.h"

struct pending {
	bool on;
	uint8_t *bundle;	/* what is being proved */
	size_t len;
	uint8_t bundle_hash[32];
	bool ek_cert_ok;
	uint8_t secret[ORACLE_ENROLL_SECRET];
	uint8_t chal_id[ORACLE_HASH_LEN];
	uint64_t since;
};

struct admission {
	const struct od_config *c;
	struct store *s;
	struct registry *r;
	const struct oracle_signer *signer;
	od_publish_fn pub;
	od_admitted_fn admitted;
	void *ctx;
	char node_hex[ORACLE_NODE_ID_HEX];
	struct admission_stats st;
	struct pending p[OD_MAX_GW];
};

int admission_init(struct admission **ap, const struct od_config *c,
		   struct store *s, struct registry *r,
		   const struct oracle_signer *signer, od_publish_fn pub,
		   od_admitted_fn admitted, void *ctx)
{
	struct admission *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->c = c;
	a->s = s;
	a->r = r;
	a->signer = signer;
	a->pub = pub;
	a->admitted = admitted;
	a->ctx = ctx;
	oracle_hex(signer->node_id, ORACLE_NODE_ID_LEN, a->node_hex);
	*ap = a;
	return 0;
}

static void drop(struct pending *p)
{
	if (p->bundle)
		OPENSSL_cleanse(p->bundle, p->len);
	free(p->bundle);
	OPENSSL_cleanse(p, sizeof(*p));
}

void admission_fini(struct admission *a)
{
	if (!a)
		return;
	for (int i = 0; i < OD_MAX_GW; i++)
		drop(&a->p[i]);
	free(a);
}

const struct admission_stats *admission_stats(const struct admission *a)
{
	return &a->st;
}

static void refuse(struct admission *a, const char *gw, const char *what,
		   const char *why)
{
	od_log("gateway %s: %s refused: %s", gw, what, why);
	store_audit(a->s, "refused", gw, "%s: %s", what, why);
}

/* The EK public the configuration pins (ek = bundle or TPM2B_PUBLIC file)
 * equals @b's: 0, or -1 with *why. */
static int pinned_ek(const struct od_gw_conf *g,
		     const struct att_enroll_bundle *b, const char **why)
{
	struct att_enroll_bundle pin;
	struct att_err e;
	uint8_t buf[8192];
	size_t n;
	FILE *f;
	int ret;

	if (!*g->ek)
		return 0;
	f = fopen(g->ek, "rb");
	if (!f) {
		*why = "the pinned EK file (ek =) cannot be read";
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (!att_enroll_parse(buf, n, &pin, &e)) {
		ret = pin.ek_pub_len == b->ek_pub_len &&
		      !memcmp(pin.ek_pub, b->ek_pub, b->ek_pub_len) ? 0 : -1;
		att_enroll_free(&pin);
	} else {
		ret = n == b->ek_pub_len && !memcmp(buf, b->ek_pub, n) ? 0 : -1;
	}
	if (ret)
		*why = "its EK is not the EK pinned by the configuration (ek =)";
	return ret;
}

/* Make and publish a fresh challenge for @p's bundle. */
static int challenge(struct admission *a, struct reg_gw *g, struct pending *p,
		     const struct att_enroll_bundle *b, uint64_t now)
{
	static struct oracle_enroll_chal ch;
	uint8_t msg[ORACLE_ENROLL_MAX_LEN];
	char topic[160];
	struct att_err e;
	size_t len = 0;

	memset(&ch, 0, sizeof(ch));
	if (RAND_bytes(p->secret, sizeof(p->secret)) != 1)
		return -EIO;
	ch.cred_len = sizeof(ch.cred);
	ch.secret_len = sizeof(ch.secret);
	if (att_make_credential(b, p->secret, sizeof(p->secret), ch.cred,
				&ch.cred_len, ch.secret, &ch.secret_len, &e)) {
		refuse(a, g->conf->id, "enrollment bundle", e.msg);
		return -EINVAL;
	}
	memcpy(ch.gw, g->bin, 16);
	memcpy(ch.ak_name, b->ak_name, sizeof(ch.ak_name));
	ch.time = now;
	if (oracle_enroll_chal_sign(&ch, a->signer) ||
	    oracle_enroll_chal_digest(&ch, p->chal_id) ||
	    oracle_enroll_chal_encode(&ch, 0, msg, sizeof(msg), &len))
		return -EIO;
	p->since = now;
	snprintf(topic, sizeof(topic), "attestio/v1/gw/%s/enroll/%s",
		 g->conf->id, a->node_hex);
	a->st.challenges++;
	od_log("gateway %s: challenge sent (credential to its EK and AK)",
	       g->conf->id);
	return a->pub(a->ctx, topic, msg, len);
}

void admission_bundle(struct admission *a, const char *gw, const uint8_t *buf,
		      size_t len)
{
	struct reg_gw *g = registry_gw(a->r, gw);
	struct att_enroll_bundle b;
	uint8_t h[32], ekh[32];
	const char *why = NULL;
	struct pending *p;
	struct att_err e;
	char id[33];
	int ret;

	a->st.bundles++;
	if (!g || !g->conf->enroll || g->state == GW_REVOKED) {
		a->st.bundles_bad++;	/* not ours to admit, or revoked */
		return;
	}
	if (!len)
		return;		/* the retained bundle was cleared */
	if (att_enroll_parse(buf, len, &b, &e)) {
		a->st.bundles_bad++;
		refuse(a, gw, "enrollment bundle", e.msg);
		return;
	}
	if (att_gateway_id(b.ek_pub, b.ek_pub_len, id) || strcmp(id, gw)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "its EK gives gateway id %s, not %s",
			 id, gw);
		a->st.bundles_bad++;
		refuse(a, gw, "enrollment bundle", msg);
		goto out;
	}
	if (pinned_ek(g->conf, &b, &why)) {
		a->st.bundles_bad++;
		refuse(a, gw, "enrollment bundle", why);
		goto out;
	}
	SHA256(b.ek_pub + 2, b.ek_pub_len - 2, ekh);
	if (g->admitted && !memcmp(ekh, g->ek_hash, 32) &&
	    b.ak_name_len == 34 && !memcmp(b.ak_name, g->ak_name, 34))
		goto out;	/* admitted already: no challenge again */
	SHA256(buf, len, h);
	p = &a->p[g - registry_at(a->r, 0)];
	if (p->on && !memcmp(h, p->bundle_hash, 32))
		goto out;	/* this bundle's challenge is pending */
	drop(p);
	p->bundle = malloc(len);
	if (!p->bundle)
		goto out;
	memcpy(p->bundle, buf, len);
	p->len = len;
	memcpy(p->bundle_hash, h, 32);
	if (*a->c->ek_ca_dir && b.ek_cert_len) {
		ret = att_enroll_check_ek_cert(&b, a->c->ek_ca_dir, &e);
		p->ek_cert_ok = !ret;
		if (ret)
			od_log("gateway %s: EK certificate not accepted (tier "
			       "below 3): %s", gw, e.msg);
	}
	if (challenge(a, g, p, &b, (uint64_t)time(NULL))) {
		drop(p);
		goto out;
	}
	p->on = true;
out:
	att_enroll_free(&b);
}

void admission_answer(struct admission *a, const char *gw, const char *node,
		      const uint8_t *buf, size_t len)
{
	struct reg_gw *g = registry_gw(a->r, gw);
	struct oracle_enroll_ans ans;
	const char *why = NULL;
	struct pending *p;

	if (strcmp(node, a->node_hex))
		return;		/* another node's */
	a->st.answers++;
	if (!g || !g->conf->enroll || g->state == GW_REVOKED) {
		a->st.answers_bad++;
		return;
	}
	p = &a->p[g - registry_at(a->r, 0)];
	if (oracle_enroll_ans_parse(buf, len, &ans, &why) ||
	    (!p->on && (why = "no challenge is pending for this gateway "
			"(replayed answer?)")) ||
	    oracle_enroll_ans_check(&ans, g->bin, a->signer->node_id,
				    p->chal_id, p->secret, sizeof(p->secret),
				    &why)) {
		a->st.answers_bad++;
		refuse(a, gw, "enrollment answer", why);
		return;	/* a pending challenge stays pending */
	}
	if (registry_admit(a->r, g, p->bundle, p->len, p->ek_cert_ok,
			   a->node_hex)) {
		refuse(a, gw, "enrollment answer", "cannot store the admission");
		return;
	}
	drop(p);
	a->st.admitted++;
	if (a->admitted)
		a->admitted(a->ctx, gw);
}

void admission_tick(struct admission *a, uint64_t now)
{
	for (int i = 0; i < OD_MAX_GW; i++) {
		struct pending *p = &a->p[i];
		struct reg_gw *g = registry_at(a->r, i);
		struct att_enroll_bundle b;
		struct att_err e;

		if (!p->on || !g || now < p->since + a->c->enroll_timeout_s)
			continue;
		a->st.timeouts++;
		refuse(a, g->conf->id, "enrollment", "no valid answer to the "
		       "challenge in time (a TPM without this EK and AK cannot "
		       "answer); challenging again");
		if (g->state == GW_REVOKED ||
		    att_enroll_parse(p->bundle, p->len, &b, &e)) {
			drop(p);
			continue;
		}
		if (challenge(a, g, p, &b, now))
			drop(p);
		att_enroll_free(&b);
	}
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Enrollment message codec (enrollmsg.h): libcbor's item encoders, the
 * strict reader of cbor_r.h, and a byte-for-byte comparison with the
 * canonical re-encoding, as ack.c does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "cbor_r.h"
#include "cbor_w.h"
#include "enrollmsg.h"

int oracle_enroll_chal_encode(const struct oracle_enroll_chal *c, int body,
			      uint8_t *buf, size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	if (c->cred_len > ORACLE_ENROLL_BLOB_MAX ||
	    c->secret_len > ORACLE_ENROLL_BLOB_MAX)
		return -EINVAL;
	cw_map(&w, body ? 6 : 7);
	cw_uint(&w, 1);
	cw_bytes(&w, c->gw, sizeof(c->gw));
	cw_uint(&w, 2);
	cw_bytes(&w, c->node_id, sizeof(c->node_id));
	cw_uint(&w, 3);
	cw_bytes(&w, c->ak_name, sizeof(c->ak_name));
	cw_uint(&w, 4);
	cw_bytes(&w, c->cred, c->cred_len);
	cw_uint(&w, 5);
	cw_bytes(&w, c->secret, c->secret_len);
	cw_uint(&w, 6);
	cw_uint(&w, c->time);
	if (!body) {
		cw_uint(&w, 7);
		cw_bytes(&w, c->sig, sizeof(c->sig));
	}
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_enroll_chal_digest(const struct oracle_enroll_chal *c,
			      uint8_t d[ORACLE_HASH_LEN])
{
	static const char tag[] = ORACLE_TAG_ENROLL_CHAL;
	uint8_t buf[sizeof(tag) + ORACLE_ENROLL_MAX_LEN];
	size_t len = 0;
	int ret;

	memcpy(buf, tag, sizeof(tag));
	ret = oracle_enroll_chal_encode(c, 1, buf + sizeof(tag),
					sizeof(buf) - sizeof(tag), &len);
	if (ret)
		return ret;
	SHA256(buf, sizeof(tag) + len, d);
	return 0;
}

int oracle_enroll_chal_sign(struct oracle_enroll_chal *c,
			    const struct oracle_signer *s)
{
	uint8_t d[ORACLE_HASH_LEN];
	int ret;

	memcpy(c->node_id, s->node_id, ORACLE_NODE_ID_LEN);
	ret = oracle_enroll_chal_digest(c, d);
	return ret ? ret : oracle_sign_digest(s, d, c->sig);
}

/* The canonical re-encoding must give back the input exactly. */
static const char *canonical(const uint8_t *buf, size_t len, int ans,
			     const void *msg)
{
	uint8_t *re = malloc(len);
	size_t rlen = 0;
	int ret;

	if (!re)
		return "out of memory";
	ret = ans ? oracle_enroll_ans_encode(msg, re, len, &rlen) :
		    oracle_enroll_chal_encode(msg, 0, re, len, &rlen);
	ret = ret || rlen != len || memcmp(re, buf, len);
	free(re);
	return ret ? "not in canonical (deterministic) encoding" : NULL;
}

int oracle_enroll_chal_parse(const uint8_t *buf, size_t len,
			     struct oracle_enroll_chal *c, const char **why)
{
	struct cr r = { .p = buf, .len = len };
	const uint8_t *p;
	uint64_t v = 0;

	memset(c, 0, sizeof(*c));
	if (len > ORACLE_ENROLL_MAX_LEN)
		r.why = "challenge larger than 4 KiB";
	if (!cr_head(&r, 5, &v) && v != 7)
		r.why = "challenge map must have exactly 7 keys";
	cr_key(&r, 1);
	cr_bytes(&r, c->gw, sizeof(c->gw));
	cr_key(&r, 2);
	cr_bytes(&r, c->node_id, sizeof(c->node_id));
	cr_key(&r, 3);
	cr_bytes(&r, c->ak_name, sizeof(c->ak_name));
	cr_key(&r, 4);
	p = cr_bstr(&r, ORACLE_ENROLL_BLOB_MAX, &c->cred_len);
	if (p)
		memcpy(c->cred, p, c->cred_len);
	cr_key(&r, 5);
	p = cr_bstr(&r, ORACLE_ENROLL_BLOB_MAX, &c->secret_len);
	if (p)
		memcpy(c->secret, p, c->secret_len);
	cr_key(&r, 6);
	c->time = cr_uint(&r);
	cr_key(&r, 7);
	cr_bytes(&r, c->sig, sizeof(c->sig));
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why && (!c->cred_len || !c->secret_len))
		r.why = "empty credential blob or secret";
	if (!r.why)
		r.why = canonical(buf, len, 0, c);
	if (r.why) {
		if (why)
			*why = r.why;
		return -EBADMSG;
	}
	return 0;
}

int oracle_enroll_chal_verify(const struct oracle_enroll_chal *c,
			      uint8_t pub[ORACLE_PUB_LEN], const char **why)
{
	uint8_t d[ORACLE_HASH_LEN], id[ORACLE_NODE_ID_LEN];

	if (oracle_enroll_chal_digest(c, d)) {
		*why = "cannot encode the challenge";
		return -EBADMSG;
	}
	if (oracle_recover(d, c->sig, pub, why))
		return -EBADMSG;
	oracle_node_id(pub, id);
	if (memcmp(id, c->node_id, ORACLE_NODE_ID_LEN)) {
		*why = "signer is not the challenge's node";
		return -EBADMSG;
	}
	return 0;
}

int oracle_enroll_ans_encode(const struct oracle_enroll_ans *a, uint8_t *buf,
			     size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	cw_map(&w, 4);
	cw_uint(&w, 1);
	cw_bytes(&w, a->gw, sizeof(a->gw));
	cw_uint(&w, 2);
	cw_bytes(&w, a->node_id, sizeof(a->node_id));
	cw_uint(&w, 3);
	cw_bytes(&w, a->chal, sizeof(a->chal));
	cw_uint(&w, 4);
	cw_bytes(&w, a->proof, sizeof(a->proof));
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_enroll_ans_parse(const uint8_t *buf, size_t len,
			    struct oracle_enroll_ans *a, const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint64_t v = 0;

	memset(a, 0, sizeof(*a));
	if (len > ORACLE_ENROLL_MAX_LEN)
		r.why = "answer larger than 4 KiB";
	if (!cr_head(&r, 5, &v) && v != 4)
		r.why = "answer map must have exactly 4 keys";
	cr_key(&r, 1);
	cr_bytes(&r, a->gw, sizeof(a->gw));
	cr_key(&r, 2);
	cr_bytes(&r, a->node_id, sizeof(a->node_id));
	cr_key(&r, 3);
	cr_bytes(&r, a->chal, sizeof(a->chal));
	cr_key(&r, 4);
	cr_bytes(&r, a->proof, sizeof(a->proof));
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why)
		r.why = canonical(buf, len, 1, a);
	if (r.why) {
		if (why)
			*why = r.why;
		return -EBADMSG;
	}
	return 0;
}

void oracle_enroll_proof(const struct oracle_enroll_ans *a,
			 const uint8_t *secret, size_t secret_len,
			 uint8_t proof[ORACLE_HASH_LEN])
{
	static const char tag[] = ORACLE_TAG_ENROLL_ANS;
	uint8_t msg[sizeof(tag) + 16 + ORACLE_NODE_ID_LEN + ORACLE_HASH_LEN];
	unsigned int plen = ORACLE_HASH_LEN;

	memcpy(msg, tag, sizeof(tag));
	memcpy(msg + sizeof(tag), a->gw, 16);
	memcpy(msg + sizeof(tag) + 16, a->node_id, ORACLE_NODE_ID_LEN);
	memcpy(msg + sizeof(tag) + 16 + ORACLE_NODE_ID_LEN, a->chal,
	       ORACLE_HASH_LEN);
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, msg, sizeof(msg),
		  proof, &plen))
		memset(proof, 0, ORACLE_HASH_LEN);
}

int oracle_enroll_ans_check(const struct oracle_enroll_ans *a,
			    const uint8_t gw[16],
			    const uint8_t node[ORACLE_NODE_ID_LEN],
			    const uint8_t chal_id[ORACLE_HASH_LEN],
			    const uint8_t *secret, size_t secret_len,
			    const char **why)
{
	uint8_t want[ORACLE_HASH_LEN];

	*why = NULL;
	if (memcmp(a->gw, gw, 16))
		*why = "answer names another gateway";
	else if (memcmp(a->node_id, node, ORACLE_NODE_ID_LEN))
		*why = "answer is for another node";
	else if (memcmp(a->chal, chal_id, ORACLE_HASH_LEN))
		*why = "answer is for another challenge (replayed or stale)";
	if (*why)
		return -EBADMSG;
	oracle_enroll_proof(a, secret, secret_len, want);
	if (CRYPTO_memcmp(want, a->proof, ORACLE_HASH_LEN)) {
		*why = "proof does not match the secret: the gateway's TPM did "
		       "not activate the credential (another EK or AK)";
		return -EBADMSG;
	}
	return 0;
}

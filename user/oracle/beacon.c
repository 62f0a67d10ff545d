// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Beacon codec (beacon.h), built like the ack codec (ack.c): libcbor's item
 * encoders for the canonical bytes, a strict reader for the one schema and
 * a byte-for-byte comparison with the re-encoding of what was read.
 */
#include <errno.h>
#include <string.h>

#include <openssl/sha.h>

#include "beacon.h"
#include "cbor_r.h"
#include "cbor_w.h"

static int value_zero(const uint8_t *v)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < ORACLE_BEACON_LEN; i++)
		acc |= v[i];
	return !acc;
}

int oracle_beacon_encode(const struct oracle_beacon *b, int body, uint8_t *buf,
			 size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	if (value_zero(b->value))
		return -EINVAL;
	cw_map(&w, body ? 4 : 5);
	cw_uint(&w, OBK_NODE);
	cw_bytes(&w, b->node_id, ORACLE_NODE_ID_LEN);
	cw_uint(&w, OBK_ROUND);
	cw_uint(&w, b->round);
	cw_uint(&w, OBK_VALUE);
	cw_bytes(&w, b->value, ORACLE_BEACON_LEN);
	cw_uint(&w, OBK_TIME);
	cw_uint(&w, b->time);
	if (!body) {
		cw_uint(&w, OBK_SIG);
		cw_bytes(&w, b->sig, ORACLE_SIG_LEN);
	}
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_beacon_digest(const struct oracle_beacon *b,
			 uint8_t d[ORACLE_HASH_LEN])
{
	uint8_t m[ORACLE_TAG_BEACON_LEN + ORACLE_BEACON_MAX_LEN];
	size_t len = 0;
	int ret;

	memcpy(m, ORACLE_TAG_BEACON, ORACLE_TAG_BEACON_LEN);
	ret = oracle_beacon_encode(b, 1, m + ORACLE_TAG_BEACON_LEN,
				   ORACLE_BEACON_MAX_LEN, &len);
	if (!ret)
		SHA256(m, ORACLE_TAG_BEACON_LEN + len, d);
	return ret;
}

int oracle_beacon_sign(struct oracle_beacon *b, const struct oracle_signer *s)
{
	uint8_t d[ORACLE_HASH_LEN];
	int ret;

	memcpy(b->node_id, s->node_id, ORACLE_NODE_ID_LEN);
	ret = oracle_beacon_digest(b, d);
	return ret ? ret : oracle_sign_digest(s, d, b->sig);
}

int oracle_beacon_parse(const uint8_t *buf, size_t len, struct oracle_beacon *b,
			const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint8_t re[ORACLE_BEACON_MAX_LEN];
	uint64_t v = 0;
	size_t rlen = 0;

	memset(b, 0, sizeof(*b));
	if (len > ORACLE_BEACON_MAX_LEN)
		r.why = "beacon larger than 256 bytes";
	if (!cr_head(&r, 5, &v) && v != 5)
		r.why = "beacon map must have exactly 5 keys";
	cr_key(&r, OBK_NODE);
	cr_bytes(&r, b->node_id, ORACLE_NODE_ID_LEN);
	cr_key(&r, OBK_ROUND);
	b->round = cr_uint(&r);
	cr_key(&r, OBK_VALUE);
	cr_bytes(&r, b->value, ORACLE_BEACON_LEN);
	cr_key(&r, OBK_TIME);
	b->time = cr_uint(&r);
	cr_key(&r, OBK_SIG);
	cr_bytes(&r, b->sig, ORACLE_SIG_LEN);
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why && value_zero(b->value))
		r.why = "beacon value all zero";
	if (!r.why && (oracle_beacon_encode(b, 0, re, sizeof(re), &rlen) ||
		       rlen != len || memcmp(re, buf, len)))
		r.why = "not in canonical (deterministic) encoding";
	if (r.why) {
		if (why)
			*why = r.why;
		return -EBADMSG;
	}
	return 0;
}

int oracle_beacon_verify(const struct oracle_beacon *b,
			 uint8_t pub[ORACLE_PUB_LEN], const char **why)
{
	uint8_t d[ORACLE_HASH_LEN], id[ORACLE_NODE_ID_LEN];

	if (oracle_beacon_digest(b, d)) {
		*why = "cannot encode beacon";
		return -EBADMSG;
	}
	if (oracle_recover(d, b->sig, pub, why))
		return -EBADMSG;
	oracle_node_id(pub, id);
	if (memcmp(id, b->node_id, ORACLE_NODE_ID_LEN)) {
		*why = "signer is not the beacon's node";
		return -EBADMSG;
	}
	return 0;
}

int oracle_beacon_check(const struct oracle_beacon *b,
			const uint8_t (*keys)[ORACLE_PUB_LEN], size_t nkeys,
			size_t *idx, const char **why)
{
	uint8_t pub[ORACLE_PUB_LEN];

	if (oracle_beacon_verify(b, pub, why))
		return -EBADMSG;
	for (size_t i = 0; i < nkeys; i++) {
		if (!memcmp(keys[i], pub, ORACLE_PUB_LEN)) {
			*idx = i;
			return 0;
		}
	}
	*why = "signer is not a configured oracle node";
	return -ENOENT;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Oracle beacons (Documentation/protocol.md, "Beacons"): a node's signed
 * statement "in round R I drew these 32 random bytes at time T", published
 * retained on attestio/v1/beacon/<node>.  A gateway hands the value to the
 * module, which quotes it in every following epoch digest; a node that knows
 * the values the network issued bounds how old a quote can be.
 * Deterministic CBOR, strict parser, secp256k1 signature over
 * SHA-256("attestio/v1/beacon" || NUL || body).  No I/O.
 */
#ifndef ATTESTIO_ORACLE_BEACON_H
#define ATTESTIO_ORACLE_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define ORACLE_TAG_BEACON	"attestio/v1/beacon"
#define ORACLE_TAG_BEACON_LEN	sizeof(ORACLE_TAG_BEACON)	/* 19 */
#define ORACLE_BEACON_LEN	32
#define ORACLE_BEACON_MAX_LEN	256

enum oracle_beacon_key {
	OBK_NODE = 1, OBK_ROUND = 2, OBK_VALUE = 3, OBK_TIME = 4, OBK_SIG = 5,
};

struct oracle_beacon {
	uint8_t node_id[ORACLE_NODE_ID_LEN];
	uint64_t round;			/* the issuing node's round number */
	uint8_t value[ORACLE_BEACON_LEN];	/* never all zero */
	uint64_t time;			/* unix seconds when drawn */
	uint8_t sig[ORACLE_SIG_LEN];
};

/* body != 0: keys 1-4 only (what is signed).  -ENOSPC with *len = need;
 * -EINVAL for an all-zero value (it means "no beacon" to the module). */
int oracle_beacon_encode(const struct oracle_beacon *b, int body, uint8_t *buf,
			 size_t cap, size_t *len);
int oracle_beacon_digest(const struct oracle_beacon *b,
			 uint8_t d[ORACLE_HASH_LEN]);
/* Sets node_id from @s and signs. */
int oracle_beacon_sign(struct oracle_beacon *b, const struct oracle_signer *s);
/* Strict: canonical encoding only; 0 or -EBADMSG with *why. */
int oracle_beacon_parse(const uint8_t *buf, size_t len, struct oracle_beacon *b,
			const char **why);
/* Recover the signer; its node id must equal b->node_id.  0 or -EBADMSG. */
int oracle_beacon_verify(const struct oracle_beacon *b,
			 uint8_t pub[ORACLE_PUB_LEN], const char **why);
/*
 * oracle_beacon_verify, then the recovered key must be one of @keys (the
 * configured oracle set, full 65-byte keys): 0 with *idx its index,
 * -ENOENT (a valid signature by a key not in the set) or -EBADMSG.
 */
int oracle_beacon_check(const struct oracle_beacon *b,
			const uint8_t (*keys)[ORACLE_PUB_LEN], size_t nkeys,
			size_t *idx, const char **why);

#endif

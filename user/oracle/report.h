/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The EVM-verifiable report core, node keys and signatures, t-of-n
 * collection and the evidence Merkle root (Documentation/protocol.md).
 * No I/O.  Keys are secp256k1 (libsecp256k1 with its recovery module:
 * RFC 6979 nonces, low-s signatures, the recovery id).
 */
#ifndef ATTESTIO_ORACLE_REPORT_H
#define ATTESTIO_ORACLE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORACLE_HASH_LEN		32
#define ORACLE_CORE_LEN		(7 * 32)	/* abi.encode of 7 static fields */
#define ORACLE_SIG_LEN		65		/* r (32) || s (32) || v (1) */
#define ORACLE_PUB_LEN		65		/* uncompressed SEC1: 04 || X || Y */
#define ORACLE_SECKEY_LEN	32
#define ORACLE_NODE_ID_LEN	16
#define ORACLE_NODE_ID_HEX	(2 * ORACLE_NODE_ID_LEN + 1)
#define ORACLE_QUORUM_MAX	64		/* whitelisted nodes per quorum */

/*
 * Domain tags: ASCII, hashed with their terminating NUL (sizeof includes
 * it), so no tag is a prefix of another and of no message.
 */
#define ORACLE_TAG_CORE		"attestio/v1/report-core"
#define ORACLE_TAG_CORE_LEN	sizeof(ORACLE_TAG_CORE)	/* 24 */

struct oracle_core {
	uint8_t feed_id[32];
	uint64_t round;
	int64_t value;		/* abi int256; oracles only produce int64 */
	int8_t decimals;
	uint8_t status;		/* 0 settled, else enum oracle_status */
	uint8_t config_digest[32];
	uint8_t evidence_root[32];
};

/* abi.encode(bytes32, uint64, int256, int8, uint8, bytes32, bytes32) */
void oracle_core_encode(const struct oracle_core *c,
			uint8_t out[ORACLE_CORE_LEN]);
/* Strict inverse: padding must be zero / the sign extension, value must
 * fit int64.  0 or -EBADMSG. */
int oracle_core_decode(const uint8_t in[ORACLE_CORE_LEN],
		       struct oracle_core *c);
/* SHA-256(ORACLE_TAG_CORE || NUL || core): what nodes sign. */
void oracle_core_digest(const struct oracle_core *c,
			uint8_t digest[ORACLE_HASH_LEN]);

/* Node id: first 16 bytes of SHA-256 over the 65-byte uncompressed key. */
void oracle_node_id(const uint8_t pub[ORACLE_PUB_LEN],
		    uint8_t id[ORACLE_NODE_ID_LEN]);
/* Lowercase hex, NUL-terminated (out holds 2n+1). */
void oracle_hex(const uint8_t *b, size_t n, char *out);

struct oracle_signer {
	void *ctx;		/* secp256k1_context */
	uint8_t seckey[ORACLE_SECKEY_LEN];
	uint8_t pub[ORACLE_PUB_LEN];
	uint8_t node_id[ORACLE_NODE_ID_LEN];
};

/* -EINVAL for a secret key that is 0 or >= n; -ENOMEM. */
int oracle_signer_init(struct oracle_signer *s,
		       const uint8_t seckey[ORACLE_SECKEY_LEN]);
void oracle_signer_fini(struct oracle_signer *s);	/* wipes the key */
/* r || s || v with low s and v = 27 + recovery id (0 or 1). */
int oracle_sign_digest(const struct oracle_signer *s,
		       const uint8_t digest[ORACLE_HASH_LEN],
		       uint8_t sig[ORACLE_SIG_LEN]);
int oracle_sign_core(const struct oracle_signer *s, const struct oracle_core *c,
		     uint8_t sig[ORACLE_SIG_LEN]);

/*
 * Public-key recovery, as ecrecover does, but stricter: v must be 27 or
 * 28, r and s in [1, n-1], s <= n/2 (high s is rejected: it is the
 * malleated twin of a valid signature).  0 or -EBADMSG with *why.
 */
int oracle_recover(const uint8_t digest[ORACLE_HASH_LEN],
		   const uint8_t sig[ORACLE_SIG_LEN],
		   uint8_t pub[ORACLE_PUB_LEN], const char **why);

/* t-of-n collection of signatures over one core. */
struct oracle_quorum {
	uint8_t digest[ORACLE_HASH_LEN];
	size_t nkeys, t, count;
	uint8_t keys[ORACLE_QUORUM_MAX][ORACLE_PUB_LEN];	/* whitelist */
	bool have[ORACLE_QUORUM_MAX];
	uint8_t sigs[ORACLE_QUORUM_MAX][ORACLE_SIG_LEN];
};

/* f+1 for n >= 3f+1 nodes: the largest f the network tolerates, plus 1. */
size_t oracle_quorum_threshold(size_t nkeys);
/* -EINVAL: t outside 1..nkeys, nkeys > ORACLE_QUORUM_MAX, an invalid or
 * repeated whitelisted key. */
int oracle_quorum_init(struct oracle_quorum *q, const struct oracle_core *c,
		       const uint8_t (*keys)[ORACLE_PUB_LEN], size_t nkeys,
		       size_t t, const char **why);
/*
 * Add one signature.  0 = counted; -EBADMSG invalid (bad v, high s, does
 * not recover); -EPERM signer not whitelisted; -EEXIST that node already
 * signed (any second signature of the same node is refused, even a
 * different valid one).
 */
int oracle_quorum_add(struct oracle_quorum *q, const uint8_t sig[ORACLE_SIG_LEN],
		      const char **why);
bool oracle_quorum_final(const struct oracle_quorum *q);
/* The collected signatures in whitelist order; returns how many. */
size_t oracle_quorum_sigs(const struct oracle_quorum *q,
			  uint8_t (*out)[ORACLE_SIG_LEN], size_t max);

/*
 * Evidence Merkle tree: leaf = SHA-256(0x00 || item), node = SHA-256(0x01
 * || left || right); a level with an odd count carries its last node up
 * unchanged (never duplicated).  n >= 1; -EINVAL for n == 0, -ENOMEM.
 */
void oracle_merkle_leaf(const uint8_t *item, size_t len,
			uint8_t out[ORACLE_HASH_LEN]);
int oracle_merkle_root(const uint8_t (*leaves)[ORACLE_HASH_LEN], size_t n,
		       uint8_t root[ORACLE_HASH_LEN]);

#endif

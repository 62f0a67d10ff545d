/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * End-to-end acks (Documentation/protocol.md, "Acks"): a node's signed,
 * cumulative statement per chain (instance, stream, generation): "every
 * record of this chain from seq F up to seq N has its final verdict and is
 * stored, except the ranges it skipped" (format 2: F and the skips let the
 * gateway check them against the records it still holds).
 * Deterministic CBOR, strict parser, secp256k1 signature over
 * SHA-256("attestio/v1/ack" || NUL || body).  No I/O.
 */
#ifndef ATTESTIO_ORACLE_ACK_H
#define ATTESTIO_ORACLE_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define ORACLE_TAG_ACK		"attestio/v1/ack"
#define ORACLE_TAG_ACK_LEN	sizeof(ORACLE_TAG_ACK)	/* 16 */
#define ORACLE_GW_ID_LEN	16
#define ORACLE_ACK_MAX_ENTRIES	1024
#define ORACLE_ACK_MAX_SKIPS	4	/* skipped ranges listed per entry */
#define ORACLE_ACK_MAX_LEN	131072

enum oracle_ack_key {
	OAK_GW = 1, OAK_NODE = 2, OAK_ENTRIES = 3, OAK_SIG = 4,
};

/* Seqs first..last (inclusive) the node skipped: declared lost. */
struct oracle_ack_skip {
	uint64_t first, last;
};

/*
 * Format 2: every record of the chain with seq in from..upto is stored
 * with its final verdict, except the seqs of skip[0..nskip-1] (each inside
 * from..upto, increasing, not overlapping).  Nothing is stated below
 * from: the join point, or the end of an older skip not listed.
 */
struct oracle_ack_entry {
	uint64_t instance;
	uint32_t stream;
	uint32_t generation;
	uint64_t upto;		/* last seq verified (final verdict) and stored */
	uint64_t from;		/* <= upto + 1 */
	uint32_t nskip;		/* <= ORACLE_ACK_MAX_SKIPS */
	struct oracle_ack_skip skip[ORACLE_ACK_MAX_SKIPS];
};

struct oracle_ack {
	uint8_t gw[ORACLE_GW_ID_LEN];
	uint8_t node_id[ORACLE_NODE_ID_LEN];
	size_t n;
	struct oracle_ack_entry e[ORACLE_ACK_MAX_ENTRIES];
	uint8_t sig[ORACLE_SIG_LEN];
};

/* NULL if @e's from and skips are valid (see oracle_ack_entry), else why not. */
const char *oracle_ack_entry_check(const struct oracle_ack_entry *e);
/* Sort entries by (instance, stream, generation); -EINVAL on a repeat. */
int oracle_ack_sort(struct oracle_ack *a);
/* body != 0: keys 1-3 only (what is signed).  -ENOSPC with *len = need. */
int oracle_ack_encode(const struct oracle_ack *a, int body, uint8_t *buf,
		      size_t cap, size_t *len);
int oracle_ack_digest(const struct oracle_ack *a, uint8_t d[ORACLE_HASH_LEN]);
/* Sets node_id from @s and signs. */
int oracle_ack_sign(struct oracle_ack *a, const struct oracle_signer *s);
/* Strict: canonical encoding only; 0 or -EBADMSG with *why. */
int oracle_ack_parse(const uint8_t *buf, size_t len, struct oracle_ack *a,
		     const char **why);
/* Recover the signer; its node id must equal a->node_id.  0 or -EBADMSG. */
int oracle_ack_verify(const struct oracle_ack *a, uint8_t pub[ORACLE_PUB_LEN],
		      const char **why);

/* Hex helpers: 0 or -EINVAL (exactly 2n hex digits). */
int oracle_unhex(const char *s, uint8_t *out, size_t n);
/* A decimal integer in [min, max], nothing else (no sign, no spaces, no
 * trailing text): 0 or -EINVAL.  For configuration files. */
int oracle_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif

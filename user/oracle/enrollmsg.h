/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Enrollment messages (Documentation/protocol.md, "Enrollment"): the
 * node's credential-activation challenge to a gateway and the gateway's
 * answer.  Deterministic CBOR, strict parsers, no I/O.
 *
 * challenge (node -> gateway, attestio/v1/gw/<gw>/enroll/<node>):
 *   {1: gw (16), 2: node id (16), 3: AK name (34), 4: credential blob
 *    (TPM2B_ID_OBJECT), 5: encrypted secret (TPM2B_ENCRYPTED_SECRET),
 *    6: time (unix s), 7: signature (65)}
 *   signed by the node key over SHA-256("attestio/v1/enroll-challenge" ||
 *   NUL || keys 1-6 as a 6-key map); that digest is the challenge id.
 * answer (gateway -> node, attestio/v1/gw/<gw>/answer/<node>):
 *   {1: gw (16), 2: node id (16), 3: challenge id (32), 4: proof (32)}
 *   proof = HMAC-SHA256(key = the activated secret,
 *   "attestio/v1/enroll-answer" || NUL || gw || node id || challenge id):
 *   the secret itself never leaves the TPM's gateway, and the proof is
 *   good for one node and one challenge only.
 */
#ifndef ATTESTIO_ORACLE_ENROLLMSG_H
#define ATTESTIO_ORACLE_ENROLLMSG_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define ORACLE_TAG_ENROLL_CHAL	"attestio/v1/enroll-challenge"
#define ORACLE_TAG_ENROLL_ANS	"attestio/v1/enroll-answer"
#define ORACLE_ENROLL_BLOB_MAX	1024	/* credential blob / secret, each */
#define ORACLE_ENROLL_AK_NAME	34	/* SHA-256 name: alg (2) || digest */
#define ORACLE_ENROLL_SECRET	32	/* the secret nodes make */
#define ORACLE_ENROLL_MAX_LEN	4096

struct oracle_enroll_chal {
	uint8_t gw[16];
	uint8_t node_id[ORACLE_NODE_ID_LEN];
	uint8_t ak_name[ORACLE_ENROLL_AK_NAME];
	uint8_t cred[ORACLE_ENROLL_BLOB_MAX];
	size_t cred_len;
	uint8_t secret[ORACLE_ENROLL_BLOB_MAX];	/* the encrypted secret */
	size_t secret_len;
	uint64_t time;
	uint8_t sig[ORACLE_SIG_LEN];
};

struct oracle_enroll_ans {
	uint8_t gw[16];
	uint8_t node_id[ORACLE_NODE_ID_LEN];
	uint8_t chal[ORACLE_HASH_LEN];
	uint8_t proof[ORACLE_HASH_LEN];
};

/* body != 0: keys 1-6 only (what is signed).  -ENOSPC with *len = need. */
int oracle_enroll_chal_encode(const struct oracle_enroll_chal *c, int body,
			      uint8_t *buf, size_t cap, size_t *len);
/* The signed digest, which is also the challenge id answers name. */
int oracle_enroll_chal_digest(const struct oracle_enroll_chal *c,
			      uint8_t d[ORACLE_HASH_LEN]);
/* Sets node_id from @s and signs. */
int oracle_enroll_chal_sign(struct oracle_enroll_chal *c,
			    const struct oracle_signer *s);
/* Strict: canonical encoding only; 0 or -EBADMSG with *why. */
int oracle_enroll_chal_parse(const uint8_t *buf, size_t len,
			     struct oracle_enroll_chal *c, const char **why);
/* Recover the signer; its node id must equal c->node_id.  0 or -EBADMSG. */
int oracle_enroll_chal_verify(const struct oracle_enroll_chal *c,
			      uint8_t pub[ORACLE_PUB_LEN], const char **why);

int oracle_enroll_ans_encode(const struct oracle_enroll_ans *a, uint8_t *buf,
			     size_t cap, size_t *len);
int oracle_enroll_ans_parse(const uint8_t *buf, size_t len,
			    struct oracle_enroll_ans *a, const char **why);
/* The proof of @secret for (gw, node, challenge id) in @a. */
void oracle_enroll_proof(const struct oracle_enroll_ans *a,
			 const uint8_t *secret, size_t secret_len,
			 uint8_t proof[ORACLE_HASH_LEN]);
/*
 * The node's check of an answer to its challenge @chal_id (for gateway
 * @gw, node @node) that wrapped @secret: 0, or -EBADMSG with *why
 * naming what does not match (gateway, node, challenge, proof).
 */
int oracle_enroll_ans_check(const struct oracle_enroll_ans *a,
			    const uint8_t gw[16],
			    const uint8_t node[ORACLE_NODE_ID_LEN],
			    const uint8_t chal_id[ORACLE_HASH_LEN],
			    const uint8_t *secret, size_t secret_len,
			    const char **why);

#endif

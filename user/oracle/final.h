/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The final report (Documentation/protocol.md, "Final report"): one ABI
 * report core with the t or more node signatures that make it final, in a
 * deterministic CBOR map.  This is what `attestio settle` reads and what a
 * settlement contract is given (core + concatenated signatures).  Its check
 * is the contract's (AttestioFeedVerifier.verify): signers compared as
 * Ethereum addresses, so the result is the same on and off chain.  No I/O.
 */
#ifndef ATTESTIO_ORACLE_FINAL_H
#define ATTESTIO_ORACLE_FINAL_H

#include <stddef.h>
#include <stdint.h>

#include "keccak.h"
#include "report.h"

/* a2 01 58 e0 <core> 02 98 40 (58 41 <sig>) x 64 */
#define ORACLE_FINAL_MAX	(4 + ORACLE_CORE_LEN + 3 + \
				 ORACLE_QUORUM_MAX * (2 + ORACLE_SIG_LEN))

struct oracle_final {
	uint8_t core[ORACLE_CORE_LEN];
	size_t nsigs;				/* 1 .. ORACLE_QUORUM_MAX */
	uint8_t sigs[ORACLE_QUORUM_MAX][ORACLE_SIG_LEN];
};

/* Deterministic CBOR: {1: bstr core, 2: [bstr sig, ...]}.  -ENOSPC when
 * cap is too small (*len says how much), -EINVAL for 0 or > 64 sigs. */
int oracle_final_encode(const struct oracle_final *f, uint8_t *buf,
			size_t cap, size_t *len);
/* Strict: exactly that encoding, shortest lengths, no trailing bytes.
 * 0 or -EBADMSG with *why. */
int oracle_final_parse(const uint8_t *buf, size_t len,
		       struct oracle_final *f, const char **why);

/* The oracle set a contract holds. */
struct oracle_set {
	size_t n;
	unsigned int f;				/* t = f + 1 */
	uint8_t addrs[ORACLE_QUORUM_MAX][ORACLE_ADDR_LEN];
	uint8_t config_digest[ORACLE_HASH_LEN];
};

enum oracle_final_err {
	ORACLE_FINAL_OK = 0,
	ORACLE_FINAL_CORE,		/* core does not decode */
	ORACLE_FINAL_CONFIG,		/* config digest is not the set's */
	ORACLE_FINAL_FEW,		/* fewer than t signatures */
	ORACLE_FINAL_BADSIG,		/* bad v, high s, does not recover */
	ORACLE_FINAL_UNKNOWN,		/* signer not in the set */
	ORACLE_FINAL_DUP,		/* the same signer twice */
};

/*
 * The contract's checks, in its order: core decodes, config digest
 * matches, at least t signatures, each valid (v 27/28, low s, recovers),
 * from a signer of the set, no signer twice.  Fills *core on success.
 * Returns enum oracle_final_err (0 = accepted) with *why.
 */
int oracle_final_check(const struct oracle_final *f, const struct oracle_set *set,
		       struct oracle_core *core, const char **why);

#endif

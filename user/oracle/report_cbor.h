/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CBOR round report a node publishes (Documentation/protocol.md,
 * "CBOR report"): deterministic encoding (RFC 8949 section 4.2) and a
 * strict parser.  The node's signature is over the report core; the core's
 * evidence root commits to the exact encoded report body (leaf 0) and to
 * the evidence items' leaf hashes, so the signature covers every field but
 * the node id (checked against the recovered key) and itself.
 */
#ifndef ATTESTIO_ORACLE_REPORT_CBOR_H
#define ATTESTIO_ORACLE_REPORT_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "report.h"

#define ORACLE_REPORT_MAX	(256 * 1024)	/* encoded bytes */
#define ORACLE_EVIDENCE_MAX	4096		/* evidence leaves besides the body */

/* CBOR map keys (unsigned integers; sorted numerically = bytewise). */
enum oracle_report_key {
	ORK_FEED_ID = 1,	/* bstr 32 */
	ORK_ROUND = 2,		/* uint */
	ORK_VALUE = 3,		/* int (int64) */
	ORK_DECIMALS = 4,	/* int (-128..127) */
	ORK_STATUS = 5,		/* uint (0..ORACLE_STATUS_MAX) */
	ORK_CONFIG = 6,		/* bstr 32 */
	ORK_EVIDENCE_ROOT = 7,	/* bstr 32 */
	ORK_ROUND_TIME = 8,	/* uint, unix seconds */
	ORK_DEVICES = 9,	/* array of [bstr 16 id, int value, uint weight,
				 * uint excluded], ids strictly increasing */
	ORK_EVIDENCE = 10,	/* array of bstr 32 leaf hashes */
	ORK_NODE_ID = 11,	/* bstr 16 */
	ORK_SIG = 12,		/* bstr 65: r || s || v over the core */
	ORK_MAX = 12,
};

struct oracle_report_device {
	uint8_t id[ORACLE_ID_LEN];
	int64_t value;
	uint64_t weight;	/* capped weight; 0 when excluded */
	uint8_t excluded;	/* enum oracle_excl */
};

struct oracle_report {
	struct oracle_core core;
	uint64_t round_time;
	size_t ndevices;
	struct oracle_report_device *devices;
	size_t nevidence;
	uint8_t (*evidence)[ORACLE_HASH_LEN];
	uint8_t node_id[ORACLE_NODE_ID_LEN];
	uint8_t sig[ORACLE_SIG_LEN];
};

/*
 * Encode the whole report (body = 0) or the body only (body = 1: keys
 * 1-6, 8-10).  Writes at most cap bytes to buf and sets *len to the full
 * length; -ENOSPC if it did not fit, -EINVAL for a report that breaks the
 * format's rules (sizes, order of device ids, status, exclusion codes).
 */
int oracle_report_encode(const struct oracle_report *r, int body,
			 uint8_t *buf, size_t cap, size_t *len);

/* evidence root = Merkle root of [leaf(body), evidence[0..]]. */
int oracle_report_evidence_root(const struct oracle_report *r,
				uint8_t root[ORACLE_HASH_LEN]);

/* Fill in evidence root, node id and signature: r is then final. */
int oracle_report_seal(struct oracle_report *r, const struct oracle_signer *s);

/*
 * Strict parse: exactly keys 1..12 in order, the types above, definite
 * lengths, shortest forms (the input must be byte-identical to its
 * re-encoding), no trailing bytes.  Allocates r->devices and r->evidence:
 * oracle_report_release() them.  0 or -EBADMSG / -EMSGSIZE with *why.
 */
int oracle_report_parse(const uint8_t *buf, size_t len,
			struct oracle_report *r, const char **why);
void oracle_report_release(struct oracle_report *r);

/*
 * Check a parsed report: its evidence root matches its body and evidence
 * list, the signature recovers a key whose node id is the report's.
 * Returns the key in pub.  0 or -EBADMSG with *why.
 */
int oracle_report_verify(const struct oracle_report *r,
			 uint8_t pub[ORACLE_PUB_LEN], const char **why);

#endif

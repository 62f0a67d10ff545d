/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Gateway status report (Documentation/protocol.md, "Gateway status"):
 * what a gateway's daemon says about itself on attestio/v1/gw/<gw>/status
 * (retained, every few seconds): its spool backlog and the beacon round it
 * holds.  Unsigned and informative: a node shows it as "as reported by the
 * gateway" and never uses it for a verdict, an ack or a round.
 * Deterministic CBOR, strict parser.  No I/O.
 */
#ifndef ATTESTIO_ORACLE_GWSTATUS_H
#define ATTESTIO_ORACLE_GWSTATUS_H

#include <stddef.h>
#include <stdint.h>

#define ORACLE_GWS_MAX_LEN	128

enum oracle_gws_key {
	OGS_GW = 1, OGS_TIME = 2, OGS_SPOOL_RECORDS = 3, OGS_SPOOL_BYTES = 4,
	OGS_SPOOL_AGE = 5, OGS_BEACON_ROUND = 6,
};

struct oracle_gwstatus {
	uint8_t gw[16];
	uint64_t time;		/* unix seconds, when written */
	uint64_t spool_records, spool_bytes;
	uint64_t spool_age_s;	/* of the oldest spooled record */
	uint64_t beacon_round;	/* the beacon held, 0: none */
};

/* -ENOSPC with *len = the size needed. */
int oracle_gwstatus_encode(const struct oracle_gwstatus *s, uint8_t *buf,
			   size_t cap, size_t *len);
/* Strict, canonical encoding only.  0 or -EBADMSG with *why. */
int oracle_gwstatus_parse(const uint8_t *buf, size_t len,
			  struct oracle_gwstatus *s, const char **why);

#endif

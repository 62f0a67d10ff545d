/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loss declarations (Documentation/protocol.md, "Loss declarations"): a
 * gateway's statement of the exact records of its chains that it no
 * longer holds and will never send, per chain (instance, stream,
 * generation) as ranges of seqs (holes: the module's log no longer held
 * them) and, for a chain a node was found stuck on, the seq up to which
 * it released everything after ack_quorum nodes acked it ("Released
 * records").  Deterministic CBOR, strict parser.  Unsigned: it names only
 * the gateway's own data.  No I/O.
 */
#ifndef ATTESTIO_ORACLE_LOSS_H
#define ATTESTIO_ORACLE_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "ack.h"

#define ORACLE_LOSS_MAX_HOLES	4096
#define ORACLE_LOSS_MAX_RELEASED 4096
/* 294 976 */
#define ORACLE_LOSS_MAX_LEN	(64 + ORACLE_LOSS_MAX_HOLES * 40 + \
				 ORACLE_LOSS_MAX_RELEASED * 32)

enum oracle_loss_key {
	OLK_GW = 1, OLK_HOLES = 2, OLK_RELEASED = 3,
};

struct oracle_hole {
	uint64_t instance;
	uint32_t stream;	/* < 64 */
	uint32_t generation;
	uint64_t first, last;	/* seqs first..last (inclusive) are gone */
};

/* Seqs 0..last of a chain that the gateway released: ack_quorum nodes
 * acked them and it deleted them (its declared holes there included); it
 * holds and will send none of them. */
struct oracle_released {
	uint64_t instance;
	uint32_t stream;	/* < 64 */
	uint32_t generation;
	uint64_t last;		/* < 2^63 */
};

struct oracle_loss {
	uint8_t gw[ORACLE_GW_ID_LEN];
	size_t n;
	struct oracle_hole h[ORACLE_LOSS_MAX_HOLES];
	size_t nrel;		/* 0: the map has no key 3 */
	struct oracle_released rel[ORACLE_LOSS_MAX_RELEASED];
};

/* Order of holes: by (instance, stream, generation, first). */
int oracle_hole_cmp(const struct oracle_hole *a, const struct oracle_hole *b);
/* Order of released chains (struct oracle_released; qsort's signature):
 * by (instance, stream, generation). */
int oracle_released_cmp(const void *a, const void *b);
/* Canonical bytes; -EINVAL unless the holes are valid and ordered (each
 * first <= last; within one chain the next starts after the last ends)
 * and the released chains valid and strictly increasing by (instance,
 * stream, generation); -ENOSPC with *len = need. */
int oracle_loss_encode(const struct oracle_loss *l, uint8_t *buf, size_t cap,
		       size_t *len);
/* Strict: canonical encoding only; 0 or -EBADMSG with *why. */
int oracle_loss_parse(const uint8_t *buf, size_t len, struct oracle_loss *l,
		      const char **why);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verifier's state, shared by verify.c and verify_state.c. */
#ifndef LIBATTESTIO_VERIFY_INTERNAL_H
#define LIBATTESTIO_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "libattestio.h"
#include "vring.h"

#define ATT_MAP_MAX		(1u << 20)	/* chained, undecided, per stream */
#define ATT_SEEK_MAX_BYTES	(16u << 20)	/* buffered while unanchored */

/*
 * A descriptor as it stood at some place of a chain (calib records
 * applied), shared by the records chained under it: a verdict given
 * later must decode a sample with these values, not the stream's latest
 * (a calib or a new segment may come before the covering checkpoint).
 * The descriptor (len bytes) follows the header.
 */
struct att_dsnap {
	size_t ref;
	size_t len;
	/*
	 * v4: the segment state while it is in force: the hashes of its
	 * descriptor and newest calib record, and their state digest; not
	 * known for a resume hint (a descriptor without its records).
	 */
	bool have_state;
	struct attestio_seg_state seg;
	uint8_t state[ATTESTIO_HASH_LEN];
};

static inline struct attestio_descriptor *att_dsnap_desc(struct att_dsnap *p)
{
	return p ? (struct attestio_descriptor *)(p + 1) : NULL;
}

/* A chained record: the head after it, until a verified head covers it. */
struct att_hent {
	uint64_t seq;
	uint8_t head[ATTESTIO_HASH_LEN];
	uint16_t type;
	uint8_t done;		/* its final verdict was given */
	uint8_t unsig;		/* an unsigned checkpoint covers it */
	uint8_t closed;		/* the segment is detached after it */
	uint8_t sknown;		/* the segment state after it is known */
	struct att_dsnap *ds;	/* descriptor in force there (a reference) */
};

/* A record kept while its stream has no anchor. */
struct att_brec {
	uint64_t seq;
	uint32_t len;
	uint16_t type;
	bool done;		/* judged BAD already */
	uint8_t *rec;
};

enum att_sstate {
	ATT_S_NEW = 0,		/* nothing seen yet */
	ATT_S_CHAINED,		/* head known: records chain from it */
	ATT_S_SEEK,		/* head unknown: wait for an anchoring checkpoint */
};

/*
 * What verified quotes proved about one chain of a stream (instance,
 * generation): how far it goes (withheld records), and the highest head
 * another stream's quote signed that the chain has not reached yet.
 */
#define ATT_SIGNED_CHAINS	8
struct att_signed {
	uint64_t instance;
	uint32_t generation;
	bool have_seen;			/* highest seq chained so far */
	uint64_t seen_max;
	uint64_t signed_max;
	bool have_claim;
	uint64_t claim_seq;
	uint8_t claim_head[ATTESTIO_HASH_LEN];
};

/* TPM time of a quote: later = larger (reset, restart, clock). */
struct att_tpmtime {
	bool have;
	uint32_t reset, restart;
	uint64_t clock;
};

struct att_vstream {
	enum att_sstate state;
	bool seen;
	bool anchored_once;
	enum att_cause seek_cause;	/* SEEK: why, for UNVERIFIABLE */
	bool seek_excused;
	int seek_code;

	bool have_instance;		/* the chain: (instance, generation) */
	uint64_t instance;
	uint32_t generation;
	uint64_t next_seq;			/* CHAINED: seq expected next */
	uint8_t head[ATTESTIO_HASH_LEN];	/* CHAINED: head after next_seq-1 */

	struct att_dsnap *ds;		/* current descriptor, NULL if unknown */
	bool seg_known, seg_open;
	bool seg_hint;			/* ds from a resume hint: the segment
					   may have been detached before it */
	uint32_t segment;
	/* att_verifier_resume_descriptor(): the descriptor in force at
	 * checkpoint hint_seq of chain (hint_instance, hint_gen) */
	struct att_dsnap *hint;
	uint64_t hint_instance, hint_seq;
	uint32_t hint_gen;
	/* att_verifier_offer_state(): a descriptor (and calib) a signed
	 * head's state may show in force where the chain is anchored */
	struct att_dsnap *offer;

	struct vring map;		/* struct att_hent, contiguous seqs */
	size_t unsig_n;			/* map[0..unsig_n) unsigned-covered */
	bool have_last_cov;		/* head at the last covered seq */
	uint64_t last_cov_seq;
	uint8_t last_cov_head[ATTESTIO_HASH_LEN];
	bool have_cov;			/* own checkpoints covered up to cov */
	uint64_t cov;

	struct vring buf;		/* struct att_brec, contiguous seqs */
	size_t buf_bytes;

	bool have_epoch;
	uint64_t last_epoch;
	struct att_tpmtime t;		/* this stream's last verified quote */
	bool have_q;
	uint64_t q_instance, q_epoch;
	uint8_t q_hash[ATTESTIO_HASH_LEN];

	bool have_verified;
	uint64_t verified_upto;
	struct att_signed sig[ATT_SIGNED_CHAINS];	/* chains quotes sign */
	unsigned int nsig;

	bool have_run;			/* for the state file */
	uint64_t run_instance, run_epoch;
};

struct att_cp {
	const struct attestio_checkpoint *cp;
	const struct attestio_cp_head *heads;
	struct attestio_cp_layout lay;
	uint16_t n, self;
	uint64_t epoch, instance, hseq;
	uint32_t hgen;			/* heads[self].generation */
	const uint8_t *hhead;
	const uint8_t *hstate;		/* heads[self].state (v4) */
};

/* State file contents (verify_state.c). */
struct att_state_key {
	uint8_t fp[ATTESTIO_HASH_LEN];	/* SHA-256 of the key's SPKI DER */
	struct att_tpmtime t;
	uint8_t attest_hash[ATTESTIO_HASH_LEN];
};

struct att_state_chain {
	uint64_t instance;
	uint32_t stream;
	uint64_t epoch;
};

struct att_state {
	bool have_fp;
	uint8_t fp[ATTESTIO_HASH_LEN];	/* this verifier's key */
	struct att_state_key *keys;
	size_t nkeys;
	struct att_state_chain *chains;
	size_t nchains;
	struct att_state_key run;	/* latest quote of this run */
};

struct att_verifier {
	struct att_verifier_opts o;
	uint8_t *scratch;	/* aligned copy of a caller's unaligned record */
	struct att_summary sum;
	bool finished;
	uint64_t lost_budget;	/* records lost records declared, unused */
	bool cur_set;		/* the record being fed, for its state */
	uint32_t cur_stream;
	uint64_t cur_seq;
	enum att_rec_state cur_state;
	bool in_verdict;	/* inside on_verdict for vd_stream */
	uint32_t vd_stream;
	struct att_dsnap *vd_ds;	/* descriptor of the record judged */
	bool vd_chain;		/* it is of the stream's current chain */
	struct att_state st;
	struct att_vstream s[ATTESTIO_MAX_STREAMS];
};

bool att_time_after(const struct att_tpmtime *a, const struct att_tpmtime *b);
int att_state_check(struct att_verifier *v, const struct attestio_rec_info *ri,
		    const struct att_cp *c, const struct att_tpmtime *t,
		    const uint8_t *attest_hash, struct att_err *err);
void att_state_note(struct att_verifier *v, uint32_t stream, uint64_t instance,
		    uint64_t epoch, const struct att_tpmtime *t,
		    const uint8_t *attest_hash);
void att_state_free(struct att_verifier *v);

#endif

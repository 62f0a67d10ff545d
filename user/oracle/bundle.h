/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Evidence bundle of a round report (Documentation/protocol.md, "Evidence
 * bundle") and its offline re-verification (`attestio verify-report`):
 * codec, canonical feed-config text, and the checks.  Pure logic: no file
 * or network I/O; shared by attestio-oracle, the CLI, cmocka tests and
 * fuzz_bundle.
 */
#ifndef ATTESTIO_ORACLE_BUNDLE_H
#define ATTESTIO_ORACLE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "final.h"
#include "report.h"

#define ORACLE_BUNDLE_MAX	(64u << 20)	/* whole bundle */
#define ORACLE_BUNDLE_ITEMS_MAX	4096
#define ORACLE_CFG_TEXT_MAX	(64u * 1024)
#define ORACLE_CFG_STREAMS_MAX	1024
#define ORACLE_BUNDLE_CHAINS_MAX 64	/* chain segments per device */
#define ORACLE_BUNDLE_BOOTS_MAX	64
#define ORACLE_ROUND_READINGS_MAX 4096	/* per device and round, oldest first */

/* Item kinds (key 1 of every item). */
enum { OBI_CONFIG = 1, OBI_DEVICE = 2, OBI_BEACONS = 3 };
#define ORACLE_BUNDLE_BEACONS_MAX 4096	/* beacon messages in the last item */

/* [beacon] freshness as the config text names it (line `beacon MODE
 * period P start S max_age M`; no line: off). */
enum { ORACLE_FRESH_OFF = 0, ORACLE_FRESH_OPTIONAL = 1, ORACLE_FRESH_REQUIRED = 2 };

/* The seq of the last record of its own stream that checkpoint record
 * @rec covers (its heads[self]), -1 if it is malformed (wire-format.md). */
int64_t oracle_cp_covers(const uint8_t *rec, size_t len);

/*
 * Whether a reading counts in the feed round that ends at @end (unix s).
 * Its checkpoint covered a beacon (@set) that the network issued in beacon
 * round @bround (@known; the earliest round any whitelisted node issued
 * that value in): it counts only if @bround lies in the round's freshness
 * window, from @max_age beacon rounds before the beacon round in progress
 * at the round's last second, R = (end - 1 - start) / period + 1, to R + 1
 * (a checkpoint quoted just after the end).  A beacon not known to be
 * issued does not count either: the evidence bundle carries only the
 * beacons of that window (at most nodes x (max_age + 2)), so a verifier
 * cannot tell an unknown one from a stale one.  A checkpoint covering no
 * beacon counts (with freshness = required it never verified).  Off, or
 * max_age 0: everything counts.  The node (round.c) and verify-report
 * both decide with this.
 */
bool oracle_reading_fresh(int freshness, uint64_t bperiod, uint64_t bstart,
			  uint64_t max_age, uint64_t end, bool set, bool known,
			  uint64_t bround);

/* Feed id, device id, site id and config digest, as the node derives them. */
void oracle_feed_id(const char *name, uint8_t out[ORACLE_HASH_LEN]);
void oracle_config_digest(const char *text, size_t len,
			  uint8_t out[ORACLE_HASH_LEN]);
void oracle_device_id(const uint8_t gw[16], uint32_t stream, uint8_t id[16]);
void oracle_site_id(const char *site, size_t len, uint8_t id[16]);
/* SI value as a fixed-point integer at @dec decimals (saturating). */
int64_t oracle_to_fixed(double v, int dec);

/* The canonical feed-config text (oracle.md, "config digest"), parsed. */
struct oracle_cfg_stream {
	uint8_t gw[16];
	uint32_t stream, channel;
	uint8_t tier;
	uint8_t site[16];
	bool pinned;			/* line `identity HEX` after it: */
	uint8_t identity[32];		/* the descriptor identity pinned */
};

/* A gateway's pins (line `gateway ID ak HEX|enrolled policy HEX|none`):
 * SHA-256 of its AK and PCR policy files' bytes, exactly the bundle's
 * device item `ak` and `policy`. */
struct oracle_cfg_gw {
	uint8_t gw[16];
	bool enrolled;			/* AK from its admission: not pinned */
	bool has_policy;
	uint8_t ak_sha[32], policy_sha[32];
};

struct oracle_cfg {
	char name[64];
	struct oracle_feed_params p;
	uint64_t period, start;
	int chan_type;			/* the feed's channel_type, -1: none */
	int freshness;			/* ORACLE_FRESH_* */
	uint64_t bperiod, bstart, max_age;	/* the beacon round clock */
	size_t nstreams;
	struct oracle_cfg_stream s[ORACLE_CFG_STREAMS_MAX];
	size_t ngws;			/* the streams' gateways, in order of
					   first appearance */
	struct oracle_cfg_gw gws[ORACLE_CFG_STREAMS_MAX];
	size_t nnodes;
	uint8_t nodes[ORACLE_QUORUM_MAX][ORACLE_PUB_LEN];
	size_t t;
};

/* Strict: exactly the lines the node writes, in its order.  0 or -EBADMSG
 * with *why. */
int oracle_cfg_parse(const char *text, size_t len, struct oracle_cfg *c,
		     const char **why);

struct oracle_bundle_boot {
	const uint8_t *mlog;
	size_t mlog_len;
	const uint8_t *pcrs;		/* NULL or 768 bytes */
	size_t pcrs_len;
};

struct oracle_bundle_chain {
	const uint8_t *recs;		/* raw records, concatenated, seq order */
	size_t len;
	/* v4: where the chain starts at a signed head, the segment state in
	 * force there: its descriptor record, then its newest calib record
	 * if any, raw (len 0: none; key 14) */
	const uint8_t *state;
	size_t state_len;
	/* key 15: the segment does not start at a signed head whose next
	 * record was captured before the round's window, nor at the chain's
	 * start (seq 0), but where the node's verifier went on from after a
	 * gap (declared, or a late join), at the first record it holds, or
	 * at a later signed head (no state at an earlier one): that no
	 * reading of the window lies before it is the node's word
	 * (verify-report counts such segments that start inside the
	 * window) */
	bool resync;
};
#define ORACLE_BUNDLE_STATE_MAX	(2 * 16384)	/* two records at most */

/* A sample of a bundled chain whose readings the node did not keep for a
 * reason only the node can judge (protocol.md "Evidence bundle", key 13). */
enum { ORACLE_NODE_EXCL_FUTURE = 1, ORACLE_NODE_EXCL_DRIFT = 2 };
#define ORACLE_BUNDLE_EXCL_MAX	65536	/* per device */
struct oracle_bundle_excl {
	uint32_t chain;			/* index into chains[] */
	uint64_t seq;
	uint8_t why;			/* ORACLE_NODE_EXCL_* */
};

struct oracle_bundle_dev {
	uint8_t device[16], gw[16];
	uint32_t stream, channel;
	uint8_t tier;			/* the tier the round used */
	uint32_t reputation;		/* the reputation the round used */
	bool kernel_key;		/* checkpoints need the kernel rule */
	const uint8_t *ak;		/* AK: PEM, TPM2B_PUBLIC or bundle */
	size_t ak_len;
	const uint8_t *policy;		/* PCR policy text, len 0: none */
	size_t policy_len;
	size_t nboots;
	struct oracle_bundle_boot boots[ORACLE_BUNDLE_BOOTS_MAX];
	size_t nchains;
	struct oracle_bundle_chain chains[ORACLE_BUNDLE_CHAINS_MAX];
	size_t nexcl;			/* ascending by (chain, seq), unique */
	struct oracle_bundle_excl *excl;	/* parsed: malloc'd */
};

/* Item encoders: -ENOSPC with *len = the size needed (buf may be NULL). */
int oracle_bundle_config_item(const char *text, size_t tlen,
			      const struct oracle_feed_state *st, uint8_t *buf,
			      size_t cap, size_t *len);
int oracle_bundle_device_item(const struct oracle_bundle_dev *d, uint8_t *buf,
			      size_t cap, size_t *len);
/* The last item, when any reading's checkpoint covered a beacon the node
 * knows: {1: 3, 2: [bstr beacon message, ...]} (protocol.md "Beacons"),
 * the message of each such value's earliest round, ordered by (round,
 * value). */
int oracle_bundle_beacons_item(const uint8_t *const *msgs, const size_t *lens,
			       size_t n, uint8_t *buf, size_t cap, size_t *len);
/* The bundle: {1: bstr report, 2: [bstr item, ...]}. */
int oracle_bundle_encode(const uint8_t *report, size_t rlen,
			 const uint8_t *const *items, const size_t *ilens,
			 size_t nitems, uint8_t *buf, size_t cap, size_t *len);

/* A parsed bundle; pointers point into the input buffer. */
struct oracle_bundle {
	const uint8_t *report;
	size_t report_len;
	size_t nitems;
	const uint8_t **item;		/* malloc'd */
	size_t *item_len;		/* malloc'd */
	const char *cfg_text;		/* item 0 */
	size_t cfg_len;
	struct oracle_feed_state st;
	size_t ndev;			/* items 1.. */
	struct oracle_bundle_dev *dev;	/* malloc'd */
	bool have_beacons;		/* the last item is the beacons item */
	size_t nbeacons;
	const uint8_t **beacon;		/* malloc'd: the messages */
	size_t *beacon_len;		/* malloc'd */
};

/* Strict and canonical (byte-identical re-encoding), at most
 * ORACLE_BUNDLE_MAX bytes.  0 or -EBADMSG/-ENOMEM with *why. */
int oracle_bundle_parse(const uint8_t *buf, size_t len, struct oracle_bundle *b,
			const char **why);
void oracle_bundle_release(struct oracle_bundle *b);

/* What verify-report found. */
struct oracle_vr_result {
	struct oracle_core core;
	char feed[64];
	size_t signers;			/* distinct whitelisted signatures */
	size_t signer_idx[ORACLE_QUORUM_MAX];	/* theirs in the whitelist */
	size_t t;
	size_t devices, records_verified, readings;
	size_t readings_stale;		/* not counted: a stale beacon
					   (oracle_reading_fresh) */
	size_t readings_excluded[3];	/* not counted on the node's word
					   (key 13), by ORACLE_NODE_EXCL_* */
	size_t segments_resync;		/* chain segments whose first verified
					   record lies inside the window, at a
					   resync point the bundle declares
					   (key 15): complete on the node's word */
	size_t kernel_devices;		/* verified under the kernel-exclusive rule */
	size_t simulated_devices;	/* with records under a simulated AK
					   (ORACLE_VR_ALLOW_SIMULATED) */
	char why[512];			/* the first failure */
};

/* Flags of oracle_verify_report() and oracle_verify_bundle(). */
#define ORACLE_VR_ALLOW_SIMULATED	1u	/* admit simulated gateways' AKs
						   (software keys, no TPM: tests) */
#define ORACLE_VR_UNPINNED_AKS		2u	/* take the bundle's AKs without a
						   pin (fuzz_bundle only: then
						   nothing is proven about keys) */

/*
 * A gateway's AK as the verifier knows it (the file the nodes were
 * configured with: `[gateways] ID = FILE`), byte for byte.  The config
 * digest names gateways but not their keys: a bundle's AK is only as good
 * as this pin.
 */
struct oracle_vr_gw {
	uint8_t id[16];
	const uint8_t *ak;
	size_t ak_len;
	const uint8_t *policy;		/* its PCR policy file; NULL/0: none */
	size_t policy_len;
};

/*
 * Re-verify a final report against its bundle, a whitelist of node
 * public keys and the gateways' pinned AKs and PCR policies (@gws: every
 * device with records must have its gateway's, equal to the bundle's),
 * offline: t-of-n
 * signatures over the core, config digest, Merkle root, every chain
 * segment with libattestio (kernel-exclusive rule with the boot evidence),
 * the readings and the aggregation.
 * 0 = verified; -EBADMSG = not verified (res->why); -ENOMEM.
 */
int oracle_verify_report(const uint8_t *final_buf, size_t final_len,
			 const uint8_t *bundle, size_t blen,
			 const uint8_t (*nodes)[ORACLE_PUB_LEN], size_t nnodes,
			 const struct oracle_vr_gw *gws, size_t ngws,
			 unsigned int flags, struct oracle_vr_result *res);

/*
 * Everything oracle_verify_report() checks after the signatures, with the
 * bundle's own report core taken as the core: what a node can check of a
 * bundle before its report is final, and what fuzz_bundle drives.  It
 * proves nothing about who signed: never a substitute for the above.
 */
int oracle_verify_bundle(const uint8_t *bundle, size_t blen,
			 const struct oracle_vr_gw *gws, size_t ngws,
			 unsigned int flags, struct oracle_vr_result *res);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Gateway evidence (Documentation/protocol.md, "Evidence"): what a gateway
 * publishes on attestio/v1/gw/<gw>/evidence so that oracle nodes can check
 * kernel-exclusive key use: attestio.ko's PCR 13 measurement log, the
 * SHA-256 PCRs it needs, and the boot event log and IMA log when present.
 * Deterministic CBOR, strict parser.  Unsigned: nothing in it is believed
 * unless a TPM-signed quote confirms it.  No I/O.
 */
#ifndef ATTESTIO_ORACLE_EVIDENCE_H
#define ATTESTIO_ORACLE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#define ORACLE_EV_PCRS_LEN	(24 * 32)	/* SHA-256 PCRs 0-23 */
#define ORACLE_EV_MLOG_MAX	(1u << 20)	/* 1 MiB */
#define ORACLE_EV_BOOTLOG_MAX	(2u << 20)	/* 2 MiB */
#define ORACLE_EV_IMALOG_MAX	(12u << 20)	/* 12 MiB */
#define ORACLE_EV_MAX_LEN	(16u << 20)	/* the whole message */

enum oracle_ev_key {
	OEV_GW = 1, OEV_TIME = 2, OEV_MLOG = 3, OEV_PCRS = 4,
	OEV_BOOTLOG = 5, OEV_IMALOG = 6,
};

struct oracle_evidence {
	uint8_t gw[16];
	uint64_t time;			/* unix seconds, when gathered */
	const uint8_t *mlog;		/* /sys/kernel/attestio/measurements */
	size_t mlog_len;
	const uint8_t *pcrs;		/* ORACLE_EV_PCRS_LEN bytes, or NULL */
	size_t pcrs_len;		/* 0 or ORACLE_EV_PCRS_LEN */
	const uint8_t *boot_log;	/* binary_bios_measurements, or empty */
	size_t boot_log_len;
	const uint8_t *ima_log;		/* IMA binary_runtime_measurements */
	size_t ima_log_len;
};

/* -ENOSPC with *len = the size needed; -EINVAL on a limit exceeded. */
int oracle_evidence_encode(const struct oracle_evidence *e, uint8_t *buf,
			   size_t cap, size_t *len);
/* Strict, canonical encoding only; pointers of @e point into @buf.
 * 0 or -EBADMSG with *why. */
int oracle_evidence_parse(const uint8_t *buf, size_t len,
			  struct oracle_evidence *e, const char **why);

#endif

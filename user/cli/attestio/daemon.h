/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attestiod's metrics file (Prometheus text, [metrics] status_file) as
 * `attestio status` shows it: strict parse of "attestiod_NAME VALUE" lines
 * ('#' comments; labelled lines are not among the values read), pure and
 * fuzzed (tests/fuzz/fuzz_cli_daemon.c).
 */
#ifndef ATTESTIO_CLI_DAEMON_H
#define ATTESTIO_CLI_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#define DM_DEFAULT_FILE	"/run/attestiod/metrics.prom"
#define DM_FILE_MAX	65536
#define DM_STALE_S	10	/* written every second: older is stale */

enum {
	DM_CONNECTED, DM_SPOOL_RECORDS, DM_SPOOL_BYTES, DM_SPOOL_AGE, DM_READ,
	DM_PUBLISHED, DM_ACKED, DM_LOST, DM_RECONNECTS, DM_ALARM_FULL,
	DM_ALARM_WRITE, DM_PAUSED, DM_GUARD, DM_BEACON_ROUND, DM_BEACON_AGE,
	DM_CERT_EXPIRED, DM_N
};

struct dm {
	uint64_t v[DM_N];
	uint32_t have;		/* bit i: line DM_i present */
};

const char *dm_name(int i);
/* 0, or -1 with @why naming the line that is wrong. */
int dm_parse(const char *buf, size_t len, struct dm *d, char *why, size_t cap);
/* dm_parse() of @path; *age_s: seconds since it was written. */
int dm_load(const char *path, struct dm *d, long *age_s, char *why, size_t cap);
/* The daemon's section of the status table / its JSON object. */
void dm_print(const char *path);
void dm_json(const char *path);

#endif

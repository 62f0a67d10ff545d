// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod's state for `attestio status`: the daemon writes its metrics
 * (Prometheus text) to [metrics] status_file every second and removes it
 * when it stops (Documentation/attestiod.md); this parses the file
 * strictly and prints what an operator looks at next to the module.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "daemon.h"
#include "util.h"

static const char *const wanted[DM_N] = {
	[DM_CONNECTED] = "connected",
	[DM_SPOOL_RECORDS] = "spool_records",
	[DM_SPOOL_BYTES] = "spool_bytes",
	[DM_SPOOL_AGE] = "spool_age_seconds",
	[DM_READ] = "records_read_total",
	[DM_PUBLISHED] = "records_published_total",
	[DM_ACKED] = "records_acked_total",
	[DM_LOST] = "records_lost_declared_total",
	[DM_RECONNECTS] = "reconnects_total",
	[DM_ALARM_FULL] = "alarm_spool_full",
	[DM_ALARM_WRITE] = "alarm_spool_write",
	[DM_PAUSED] = "source_paused",
	[DM_GUARD] = "guard_enforced",
	[DM_BEACON_ROUND] = "beacon_round",
	[DM_BEACON_AGE] = "beacon_age_seconds",
	[DM_CERT_EXPIRED] = "client_cert_expired",
};

const char *dm_name(int i)
{
	return i >= 0 && i < DM_N ? wanted[i] : "?";
}

int dm_parse(const char *buf, size_t len, struct dm *d, char *why, size_t cap)
{
	size_t off = 0, line = 0;

	memset(d, 0, sizeof(*d));
	if (len > DM_FILE_MAX) {
		snprintf(why, cap, "%zu bytes, more than %d", len, DM_FILE_MAX);
		return -1;
	}
	while (off < len) {
		const char *l = buf + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off;
		const char *sp, *name;
		size_t nlen, k;
		uint64_t v = 0;

		line++;
		off += n + (nl ? 1 : 0);
		if (!n || l[0] == '#')
			continue;
		sp = memchr(l, ' ', n);
		/* the buffer is not NUL-terminated: compare only bytes of
		 * the line (strncmp read past a short last line: fuzzer) */
		if (!sp || sp - l <= 10 || memcmp(l, "attestiod_", 10) ||
		    sp + 1 == l + n) {
			snprintf(why, cap, "line %zu is not \"attestiod_NAME VALUE\"", line);
			return -1;
		}
		name = l + 10;
		nlen = (size_t)(sp - name);
		for (k = (size_t)(sp + 1 - l); k < n; k++) {
			if (l[k] < '0' || l[k] > '9' || v > UINT64_MAX / 10 ||
			    (v == UINT64_MAX / 10 &&
			     (uint64_t)(l[k] - '0') > UINT64_MAX % 10)) {
				snprintf(why, cap, "line %zu: the value is not an "
					 "unsigned integer", line);
				return -1;
			}
			v = v * 10 + (uint64_t)(l[k] - '0');
		}
		for (int i = 0; i < DM_N; i++)
			if (strlen(wanted[i]) == nlen && !memcmp(name, wanted[i], nlen)) {
				d->v[i] = v;
				d->have |= 1u << i;
			}
	}
	if (!(d->have & (1u << DM_CONNECTED)) || !(d->have & (1u << DM_SPOOL_RECORDS))) {
		snprintf(why, cap, "no attestiod_connected or attestiod_spool_records line");
		return -1;
	}
	return 0;
}

int dm_load(const char *path, struct dm *d, long *age_s, char *why, size_t cap)
{
	char buf[DM_FILE_MAX + 1];
	struct stat st;
	size_t len;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(why, cap, errno == ENOENT ? "not running (no %s)" :
			 "%s: %s", path, strerror(errno));
		return -1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	if (fstat(fileno(f), &st))
		st.st_mtime = 0;
	fclose(f);
	*age_s = (long)(time(NULL) - st.st_mtime);
	if (dm_parse(buf, len, d, why, cap)) {
		char tmp[160];

		snprintf(tmp, sizeof(tmp), "%s", why);
		snprintf(why, cap, "%s: %s", path, tmp);
		return -1;
	}
	return 0;
}

static const char *dm_state(long age_s)
{
	return age_s > DM_STALE_S ? "stale (the daemon stopped writing it: crashed or hung?)" :
	       "running";
}

void dm_print(const char *path)
{
	char why[256];
	struct dm d;
	long age = 0;

	printf("\nattestiod: ");
	if (dm_load(path, &d, &age, why, sizeof(why))) {
		printf("%s\n", why);
		return;
	}
	printf("%s, %s, updated %ld s ago\n", dm_state(age),
	       d.v[DM_CONNECTED] ? "connected" : "NOT connected", age);
	printf("  %-14s %" PRIu64 " records, %" PRIu64 " bytes, oldest %" PRIu64
	       " s%s%s%s\n", "spool", d.v[DM_SPOOL_RECORDS], d.v[DM_SPOOL_BYTES],
	       d.v[DM_SPOOL_AGE], d.v[DM_ALARM_FULL] ? "  ALARM: spool full" : "",
	       d.v[DM_ALARM_WRITE] ? "  ALARM: spool writes fail" : "",
	       d.v[DM_PAUSED] ? "  (reading paused)" : "");
	printf("  %-14s read %" PRIu64 ", published %" PRIu64 ", acked %" PRIu64
	       ", declared lost %" PRIu64 ", reconnects %" PRIu64 "\n", "records",
	       d.v[DM_READ], d.v[DM_PUBLISHED], d.v[DM_ACKED], d.v[DM_LOST],
	       d.v[DM_RECONNECTS]);
	if (d.have & (1u << DM_BEACON_AGE))
		printf("  %-14s round %" PRIu64 ", %" PRIu64 " s old\n", "beacon",
		       d.v[DM_BEACON_ROUND], d.v[DM_BEACON_AGE]);
	else
		printf("  %-14s none yet\n", "beacon");
	printf("  %-14s %s%s\n", "guards", d.v[DM_GUARD] ? "enforced" : "off",
	       d.v[DM_CERT_EXPIRED] ? "   ALARM: the TLS client certificate expired" : "");
}

void dm_json(const char *path)
{
	char why[256];
	struct dm d;
	long age = 0;

	printf("{\"file\": ");
	json_str(stdout, path);
	if (dm_load(path, &d, &age, why, sizeof(why))) {
		printf(", \"running\": false, \"why\": ");
		json_str(stdout, why);
		putchar('}');
		return;
	}
	printf(", \"running\": %s, \"updated_s\": %ld", age > DM_STALE_S ? "false" : "true",
	       age);
	for (int i = 0; i < DM_N; i++)
		if (d.have & (1u << i))
			printf(", \"%s\": %" PRIu64, wanted[i], d.v[i]);
	putchar('}');
}

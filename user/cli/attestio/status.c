// SPDX-License-Identifier: GPL-2.0
/*
 * attestio status: /sys/kernel/attestio as a table, or as JSON.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/attestio.h>

#include "cli.h"
#include "daemon.h"
#include "util.h"

static const char *const global_attrs[] = {
	"version", "rec_version", "instance", "tpm", "key_handle", "sign",
	"pcr_mask", "epoch_ms", "epoch_records", "poll_ms", "epoch",
	"checkpoints", "last_status", "last_tpm_rc", "log", "totals",
};

static const char *const stream_attrs[] = {
	"spec", "device", "state", "mode", "segment", "last_seq", "head",
	"produced", "samples", "drops", "records", "last_epoch",
	"last_tpm_result",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio status [--json] [--daemon FILE]\n"
		"\n"
		"Show the attestio module's settings, counters and streams, read from\n"
		"%s (global attributes and streams/<id>/).\n"
		"\n"
		"Options:\n"
		"  -j, --json   one JSON object: every global attribute (numbers as\n"
		"               numbers; \"checkpoints\" as {total, signed}; \"log\" and\n"
		"               \"totals\" as objects) and \"streams\": a list of objects\n"
		"               with \"id\" and every stream attribute, and \"daemon\":\n"
		"               attestiod's state (below)\n"
		"  -d, --daemon FILE  attestiod's metrics file ([metrics] status_file,\n"
		"               default " DM_DEFAULT_FILE "): the daemon's\n"
		"               connection, spool, acks, beacon and alarms are shown\n"
		"               after the module's; \"not running\" without the file,\n"
		"               \"stale\" when it was not rewritten for %d s\n"
		"  -h, --help   this help\n"
		"\n%s", sysfs_root(), DM_STALE_S, exit_codes_help);
}

static int get(const char *rel, char *buf, size_t cap)
{
	int r = sysfs_get(rel, buf, cap);

	if (r)
		snprintf(buf, cap, "?");
	return r;
}

/* Stream ids present under streams/, sorted; returns the count. */
static int stream_ids(int *ids, int cap)
{
	char path[512];
	struct dirent *de;
	int n = 0, i, j;
	DIR *d;

	snprintf(path, sizeof(path), "%s/streams", sysfs_root());
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < cap) {
		uint64_t v;

		if (de->d_name[0] == '.' || parse_u64(de->d_name, &v) ||
		    v >= ATTESTIO_MAX_STREAMS)
			continue;
		ids[n++] = (int)v;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			int t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	return n;
}

static void json_value(const char *v)
{
	if (is_integer(v))
		fputs(v, stdout);
	else
		json_str(stdout, v);
}

/* "key value" lines as a JSON object. */
static void json_kv(char *text)
{
	char *line, *save = NULL, *sp;
	bool first = true;

	putchar('{');
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp++ = 0;
		printf("%s", first ? "" : ", ");
		json_str(stdout, line);
		fputs(": ", stdout);
		json_value(sp);
		first = false;
	}
	putchar('}');
}

static void status_json(const int *ids, int n, const char *daemon)
{
	char buf[4096], rel[128];
	size_t i;
	int s;

	printf("{");
	for (i = 0; i < N(global_attrs); i++) {
		const char *a = global_attrs[i];
		int r = sysfs_get(a, buf, sizeof(buf));

		printf("%s", i ? ", " : "");
		json_str(stdout, a);
		fputs(": ", stdout);
		if (r) {
			fputs("null", stdout);
		} else if (!strcmp(a, "log") || !strcmp(a, "totals")) {
			json_kv(buf);
		} else if (!strcmp(a, "checkpoints")) {
			unsigned long long tot = 0, sig = 0;

			if (sscanf(buf, "%llu %llu", &tot, &sig) == 2)
				printf("{\"total\": %llu, \"signed\": %llu}", tot, sig);
			else
				json_str(stdout, buf);
		} else if (!strcmp(a, "instance") || !strcmp(a, "key_handle")) {
			json_str(stdout, buf);	/* hex: keep as text */
		} else {
			json_value(buf);
		}
	}
	printf(", \"streams\": [");
	for (s = 0; s < n; s++) {
		printf("%s{\"id\": %d", s ? ", " : "", ids[s]);
		for (i = 0; i < N(stream_attrs); i++) {
			snprintf(rel, sizeof(rel), "streams/%d/%s", ids[s],
				 stream_attrs[i]);
			printf(", ");
			json_str(stdout, stream_attrs[i]);
			fputs(": ", stdout);
			if (sysfs_get(rel, buf, sizeof(buf)))
				fputs("null", stdout);
			else if (!strcmp(stream_attrs[i], "head"))
				json_str(stdout, buf);
			else
				json_value(buf);
		}
		putchar('}');
	}
	printf("], \"daemon\": ");
	dm_json(daemon);
	printf("}\n");
}

/* One "key value" file on one line: "k1 v1, k2 v2". */
static void kv_line(char *text)
{
	char *p;

	for (p = text; *p; p++)
		if (*p == '\n')
			*p = ',';
	for (p = text; *p; p++)
		if (*p == ',') {
			memmove(p + 2, p + 1, strlen(p + 1) + 1);
			p[1] = ' ';
		}
	fputs(text, stdout);
}

static void status_table(const int *ids, int n)
{
	char a[256], b[256], c[256], d[256];
	char big[1024];
	int s;

	get("version", a, sizeof(a));
	get("rec_version", b, sizeof(b));
	get("instance", c, sizeof(c));
	get("tpm", d, sizeof(d));
	printf("attestio.ko %s, record format %s, instance %s, TPM %s\n",
	       a, b, c, d);
	get("key_handle", a, sizeof(a));
	get("sign", b, sizeof(b));
	get("pcr_mask", c, sizeof(c));
	printf("  %-14s %s   (sign %s, pcr_mask %s)\n", "key_handle", a,
	       !strcmp(b, "1") ? "on" : !strcmp(b, "0") ? "off" : b, c);
	get("epoch_ms", a, sizeof(a));
	get("epoch_records", b, sizeof(b));
	get("poll_ms", c, sizeof(c));
	printf("  %-14s %s ms   (epoch_records %s, poll_ms %s)\n", "epoch",
	       a, b, c);
	get("epoch", a, sizeof(a));
	get("checkpoints", b, sizeof(b));
	{
		unsigned long long tot, sig;

		if (sscanf(b, "%llu %llu", &tot, &sig) == 2)
			snprintf(b, sizeof(b), "%llu (%llu quoted)", tot, sig);
	}
	printf("  %-14s %s   (last epoch %s)\n", "checkpoints", b, a);
	get("last_status", a, sizeof(a));
	get("last_tpm_rc", b, sizeof(b));
	printf("  %-14s %s   (last_tpm_rc %s)\n", "last_status", a, b);
	if (!get("log", big, sizeof(big))) {
		printf("  %-14s ", "log");
		kv_line(big);
		putchar('\n');
	}
	if (!get("totals", big, sizeof(big))) {
		printf("  %-14s ", "totals");
		kv_line(big);
		putchar('\n');
	}
	putchar('\n');
	if (!n) {
		printf("no streams (attach one with: attestio attach DEV)\n");
		return;
	}
	printf("%-3s %-14s %-12s %-9s %-9s %4s %9s %6s %9s %6s  %s\n", "ID",
	       "SPEC", "DEVICE", "STATE", "MODE", "SEG", "SAMPLES", "DROPS",
	       "LAST_SEQ", "EPOCH", "LAST_TPM_RESULT");
	for (s = 0; s < n; s++) {
		char v[13][128], rel[128];
		size_t i;

		for (i = 0; i < N(stream_attrs); i++) {
			snprintf(rel, sizeof(rel), "streams/%d/%s", ids[s],
				 stream_attrs[i]);
			get(rel, v[i], sizeof(v[i]));
			if (!v[i][0])
				snprintf(v[i], sizeof(v[i]), "-");
		}
		/* spec device state mode segment last_seq head produced
		 * samples drops records last_epoch last_tpm_result
		 */
		printf("%-3d %-14s %-12s %-9s %-9s %4s %9s %6s %9s %6s  %s\n",
		       ids[s], v[0], v[1], v[2], v[3], v[4], v[8], v[9], v[5],
		       v[11], v[12]);
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "daemon", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ids[ATTESTIO_MAX_STREAMS], n, c;
	const char *daemon = DM_DEFAULT_FILE;
	bool json = false;

	while ((c = getopt_long(argc, argv, "jd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			daemon = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return EXIT_OK;
		default:
			status_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("status", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!module_loaded())
		return cli_no_module("status");
	n = stream_ids(ids, ATTESTIO_MAX_STREAMS);
	if (json) {
		status_json(ids, n, daemon);
	} else {
		status_table(ids, n);
		dm_print(daemon);
	}
	return fflush(stdout) ? EXIT_IO : EXIT_OK;
}

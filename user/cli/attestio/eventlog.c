// SPDX-License-Identifier: GPL-2.0
/*
 * attestio eventlog: the firmware's boot event log, parsed strictly,
 * replayed into the SHA-256 PCRs and compared with the PCRs the TPM
 * reports and with a reference log of the same device class (libattestio's
 * att_eventlog_*: the same code an oracle node runs on a gateway's evidence).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libattestio.h>

#include "ack.h"
#include "cli.h"
#include "util.h"

#define CMD "eventlog"
#define DEF_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define PCR_BYTES (ATT_EVENTLOG_PCRS * 32)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio eventlog [OPTIONS] [LOG]\n"
		"\n"
		"Parse the firmware's boot event log (TCG PC Client, crypto-agile;\n"
		"default " DEF_LOG "),\n"
		"list its events, replay them into the SHA-256 PCRs and say whether\n"
		"they match the PCRs the TPM reports and a reference log.\n"
		"\n"
		"Options:\n"
		"  -p, --pcrs PATH       the reported SHA-256 PCRs 0-23: a directory with\n"
		"                        one hex file per PCR (/sys/class/tpm/tpm0/pcr-sha256)\n"
		"                        or a file of 24 x 32 raw bytes\n"
		"  -r, --reference FILE  a reference log of the same device class: name the\n"
		"                        first event per PCR that differs from it\n"
		"  -m, --mask HEX        the PCRs compared with the reference (default ff:\n"
		"                        PCRs 0-7, the firmware's)\n"
		"  -q, --quiet           no event list, only the result line\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit 0 when the log parses, replays to the reported PCRs and equals the\n"
		"reference (each when given); 1 when it does not; 5 when a file cannot\n"
		"be read.\n"
		"\n%s", exit_codes_help);
}

/* /sys/class/tpm/tpm0/pcr-sha256/N (64 hex digits each) or 768 raw bytes */
static int read_pcrs(const char *path, uint8_t out[PCR_BYTES])
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (stat(path, &st)) {
		cli_error(CMD, "%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		ret = cli_read_file(CMD, path, PCR_BYTES, &buf, &len);
		if (ret)
			return ret;
		if (len != PCR_BYTES) {
			cli_error(CMD, "%s: %zu bytes, expected %d (24 SHA-256 PCRs)",
				  path, len, PCR_BYTES);
			free(buf);
			return EXIT_USAGE;
		}
		memcpy(out, buf, PCR_BYTES);
		free(buf);
		return 0;
	}
	for (int i = 0; i < ATT_EVENTLOG_PCRS; i++) {
		char p[600], hex[80];
		FILE *f;
		size_t n;

		snprintf(p, sizeof(p), "%s/%d", path, i);
		f = fopen(p, "r");
		if (!f) {
			cli_error(CMD, "%s: %s", p, strerror(errno));
			return EXIT_IO;
		}
		n = fread(hex, 1, sizeof(hex) - 1, f);
		fclose(f);
		while (n && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
			n--;
		hex[n] = 0;
		if (oracle_unhex(hex, out + 32 * i, 32)) {
			cli_error(CMD, "%s: not 64 hex digits", p);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static void print_events(const struct att_eventlog *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct att_eventlog_event *e = &l->ev[i];

		printf("%4zu  PCR %2u  %-34s ", i + 1, e->pcr,
		       att_eventlog_type_name(e->type));
		for (int k = 0; k < 32; k++)
			printf("%02x", e->sha256[k]);
		printf("  %u bytes%s\n", e->data_len,
		       att_eventlog_extends(e) ? "" : " (not extended)");
	}
}

static void print_replay(const struct att_eventlog *l, const uint8_t *pcrs)
{
	uint8_t rp[ATT_EVENTLOG_PCRS][32];
	uint32_t touched;

	att_eventlog_replay(l, rp, &touched);
	for (int p = 0; p < ATT_EVENTLOG_PCRS; p++) {
		if (!(touched & 1u << p))
			continue;
		printf("PCR %2d  ", p);
		for (int k = 0; k < 32; k++)
			printf("%02x", rp[p][k]);
		if (pcrs)
			printf("  %s", memcmp(rp[p], pcrs + 32 * p, 32) ?
			       "!= reported" : "= reported");
		printf("\n");
	}
}

int cmd_eventlog(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcrs", required_argument, NULL, 'p' },
		{ "reference", required_argument, NULL, 'r' },
		{ "mask", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEF_LOG, *pcrpath = NULL, *refpath = NULL;
	uint8_t *log = NULL, *ref = NULL, pcrs[PCR_BYTES];
	size_t llen = 0, rlen = 0;
	unsigned long mask = 0xff;
	struct att_err err = { 0 };
	struct att_eventlog l;
	bool quiet = false;
	char why[2048], *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "p:r:m:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pcrpath = optarg; break;
		case 'r': refpath = optarg; break;
		case 'm':
			errno = 0;
			mask = strtoul(optarg, &end, 16);
			if (errno || *end || end == optarg || mask > 0xffffff) {
				cli_error(CMD, "--mask %s: expected hex PCR bits 0-23", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	if (pcrpath && (ret = read_pcrs(pcrpath, pcrs)))
		return ret;
	ret = cli_read_file(CMD, path, ATT_EVENTLOG_MAX, &log, &llen);
	if (ret)
		return ret;
	if (refpath) {
		ret = cli_read_file(CMD, refpath, ATT_EVENTLOG_MAX, &ref, &rlen);
		if (ret)
			goto out;
	}
	if (att_eventlog_parse(log, llen, &l, &err)) {
		cli_error(CMD, "%s: %s", path, err.msg);
		ret = EXIT_FAIL;
		goto out;
	}
	if (!quiet) {
		print_events(&l);
		print_replay(&l, pcrpath ? pcrs : NULL);
	}
	att_eventlog_free(&l);
	ret = att_eventlog_explain(log, llen, pcrpath ? pcrs : NULL,
				   pcrpath ? PCR_BYTES : 0, (uint32_t)mask, ref,
				   rlen, why, sizeof(why)) ? EXIT_FAIL : EXIT_OK;
	printf("%s: %s\n", ret ? "MISMATCH" : "OK", why);
out:
	free(log);
	free(ref);
	return ret;
}

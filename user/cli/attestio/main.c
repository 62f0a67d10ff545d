// SPDX-License-Identifier: GPL-2.0
/*
 * attestio: command-line front end of libattestio and attestio.ko.
 * One file per subcommand; this one only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include <linux/attestio.h>

#include "cli.h"
#include "util.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "provision", cmd_provision, "create/reuse the TPM attestation key, tell the module" },
	{ "enroll", cmd_enroll, "enrollment bundle and credential activation for an oracle" },
	{ "status", cmd_status, "module settings, counters and streams (sysfs)" },
	{ "attach", cmd_attach, "start capturing an IIO device" },
	{ "detach", cmd_detach, "stop capturing an IIO device" },
	{ "read", cmd_read, "read attested records from /dev/attestio" },
	{ "verify", cmd_verify, "verify a raw record file or stream" },
	{ "setup", cmd_setup, "first run: key, enrollment, certificates, attestiod config" },
	{ "measurements", cmd_measurements, "the module's measurement log; kernel-exclusive key checks" },
	{ "tls-key", cmd_tls_key, "the gateway's TLS client key in the TPM: create, public key" },
	{ "eventlog", cmd_eventlog, "the firmware's boot event log: replay against the PCRs and a reference" },
	{ "settle", cmd_settle, "payout of a TemperatureOption from final oracle reports; EVM calldata" },
	{ "verify-report", cmd_verify_report, "re-verify a final report offline against its evidence bundle" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: attestio <command> [options]\n"
		"       attestio <command> --help\n"
		"       attestio --help | --version\n"
		"\n"
		"Attested sensor records captured at the IIO driver layer and\n"
		"signed by the TPM (see Documentation/cli.md).\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Environment: ATTESTIO_SYSFS (default /sys/kernel/attestio) and\n"
		"ATTESTIO_DEV (default /dev/attestio) override the module's paths.\n"
		"\n%s", exit_codes_help);
}

int main(int argc, char **argv)
{
	const char *cmd;
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("attestio %s (record format %d)\n", ATTESTIO_VERSION,
		       ATTESTIO_REC_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "help")) {
		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		for (i = 0; i < NCOMMANDS; i++) {
			if (!strcmp(argv[2], commands[i].name)) {
				char *hargv[] = { argv[2], (char *)"--help", NULL };

				return commands[i].fn(2, hargv);
			}
		}
		fprintf(stderr, "attestio: unknown command '%s'\n\n", argv[2]);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "attestio: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}

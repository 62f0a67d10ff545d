// SPDX-License-Identifier: GPL-2.0
/*
 * attestio verify-report REPORT BUNDLE --nodes WHITELIST [--json]
 * Re-verifies a final report offline against its evidence bundle
 * (liboracle: bundle.c, oracle_verify_report); this file is only I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "bundle.h"

#include "cli.h"
#include "util.h"

#define CMD "verify-report"

static void vr_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio verify-report REPORT BUNDLE --nodes FILE --gateways FILE\n"
		"                              [--json] [--allow-simulated]\n"
		"\n"
		"Re-verify a settlement offline, with no oracle running: REPORT is a final\n"
		"report (`attestio-oracle final`), BUNDLE the evidence bundle of its round\n"
		"(`attestio-oracle final --bundle`, Documentation/protocol.md \"Evidence\n"
		"bundle\").  Checked, failing closed on the first problem:\n"
		"  - t distinct signatures of whitelisted nodes over the report core\n"
		"    (t = the feed's t, at least f + 1 of the whitelist);\n"
		"  - the config digest is SHA-256 of the bundle's feed configuration;\n"
		"  - the bundle's report has this core, and the Merkle root of its body\n"
		"    and the bundle's items is the core's evidence root;\n"
		"  - every device's chain segments verify with libattestio (chain,\n"
		"    checkpoint quotes with its AK and PCR policy, and the kernel-exclusive\n"
		"    key rule with its boot evidence when its gateway requires it);\n"
		"  - the readings decoded from the verified records give each device's\n"
		"    input, and the aggregation (the nodes' own code) gives the core's\n"
		"    value or halt reason and the report's weights and exclusions.\n"
		"\n"
		"Options:\n"
		"  -n, --nodes FILE  the whitelist: one node public key per line (130 hex\n"
		"                    digits, `attestio-oracle pubkey`), optionally after\n"
		"                    `node` or `node =`; # comments and blank lines\n"
		"  -g, --gateways FILE  the gateways' AKs and PCR policies: one\n"
		"                    `ID = AK-FILE [POLICY-FILE]` per line (32 hex digits,\n"
		"                    the files the nodes' `[gateways]`/`policy` name; no\n"
		"                    policy file: the gateway has none); a device with\n"
		"                    records whose gateway is not listed, or whose bundle\n"
		"                    AK or policy is not that file byte for byte, is\n"
		"                    refused (the config digest names neither)\n"
		"  -j, --json        print the result as one JSON object\n"
		"  --allow-simulated admit simulated gateways' software AKs (attestio-sim,\n"
		"                    test generators: no TPM holds them); refused otherwise;\n"
		"                    a verified report with such devices says so on a\n"
		"                    line of its own (\"SIMULATED: ...\"; JSON:\n"
		"                    simulated_devices)\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status:\n"
		"  0  verified\n"
		"  1  not verified (the reason is printed)\n"
		"  2  bad command line or whitelist\n"
		"  5  a file could not be read\n");
}

static int read_nodes(const char *path, uint8_t (*nodes)[ORACLE_PUB_LEN],
		      size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned int ln = 0;

	*n = 0;
	if (!f) {
		cli_error(CMD, "cannot read %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;

		ln++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "node", 4) && (isspace((unsigned char)p[4]) || p[4] == '=')) {
			p += 4;
			while (isspace((unsigned char)*p) || *p == '=')
				p++;
		}
		e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		*e = 0;
		if (*n == ORACLE_QUORUM_MAX || strlen(p) != 2 * ORACLE_PUB_LEN ||
		    oracle_unhex(p, nodes[*n], ORACLE_PUB_LEN) || nodes[*n][0] != 4) {
			cli_error(CMD, "%s:%u: not a node public key (130 hex digits, "
				  "04...), or more than %d nodes", path, ln,
				  ORACLE_QUORUM_MAX);
			fclose(f);
			return EXIT_USAGE;
		}
		for (size_t k = 0; k < *n; k++)
			if (!memcmp(nodes[k], nodes[*n], ORACLE_PUB_LEN)) {
				cli_error(CMD, "%s:%u: node listed twice", path, ln);
				fclose(f);
				return EXIT_USAGE;
			}
		(*n)++;
	}
	fclose(f);
	if (!*n) {
		cli_error(CMD, "%s: no node public keys", path);
		return EXIT_USAGE;
	}
	return 0;
}

struct gwpins {
	struct oracle_vr_gw g[ORACLE_BUNDLE_ITEMS_MAX];
	size_t n;
};

static void gwpins_free(struct gwpins *p)
{
	for (size_t k = 0; k < p->n; k++) {
		free((void *)p->g[k].ak);
		free((void *)p->g[k].policy);
	}
	p->n = 0;
}

/* `ID = AK-FILE [POLICY-FILE]` (or without `=`) lines; # comments and
 * blank lines. */
static int read_gateways(const char *path, struct gwpins *p)
{
	FILE *f = fopen(path, "r");
	char line[4200];
	unsigned int ln = 0;
	int rc = 0;

	if (!f) {
		cli_error(CMD, "cannot read %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *id = line, *file, *pol, *e;
		uint8_t *ak = NULL, *pb = NULL;
		size_t len = 0, plen = 0;

		ln++;
		line[strcspn(line, "\r\n")] = 0;
		while (isspace((unsigned char)*id))
			id++;
		if (!*id || *id == '#')
			continue;
		file = id + strcspn(id, " \t=");
		if (*file)
			*file++ = 0;
		while (isspace((unsigned char)*file) || *file == '=')
			file++;
		e = file + strlen(file);
		while (e > file && isspace((unsigned char)e[-1]))
			*--e = 0;
		pol = file + strcspn(file, " \t");	/* an optional policy file */
		if (*pol)
			*pol++ = 0;
		while (isspace((unsigned char)*pol))
			pol++;
		if (strlen(id) != 32 || p->n == ORACLE_BUNDLE_ITEMS_MAX || !*file ||
		    oracle_unhex(id, p->g[p->n].id, 16)) {
			cli_error(CMD, "%s:%u: not `GATEWAY-ID = AK-FILE` (32 hex digits)",
				  path, ln);
			rc = EXIT_USAGE;
			break;
		}
		for (size_t k = 0; k < p->n; k++)
			if (!memcmp(p->g[k].id, p->g[p->n].id, 16)) {
				cli_error(CMD, "%s:%u: gateway listed twice", path, ln);
				rc = EXIT_USAGE;
			}
		if (!rc && *pol && strpbrk(pol, " \t")) {
			cli_error(CMD, "%s:%u: more than an AK file and a policy file",
				  path, ln);
			rc = EXIT_USAGE;
		}
		if (!rc && !(rc = cli_read_file(CMD, file, 64 * 1024, &ak, &len))) {
			p->g[p->n].ak = ak;
			p->g[p->n].ak_len = len;
			if (*pol && (rc = cli_read_file(CMD, pol, 64 * 1024, &pb, &plen)))
				free(ak);
			else
				p->g[p->n].policy = pb;
			p->g[p->n].policy_len = plen;
			if (!rc)
				p->n++;
		}
	}
	fclose(f);
	return rc;
}

int cmd_verify_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "gateways", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "allow-simulated", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static uint8_t nodes[ORACLE_QUORUM_MAX][ORACLE_PUB_LEN];
	struct oracle_vr_result res;
	static struct gwpins pins;
	const char *wl = NULL, *gwf = NULL;
	uint8_t *rep = NULL, *bun = NULL;
	size_t rlen = 0, blen = 0, nn = 0;
	bool json = false;
	unsigned int flags = 0;
	int o, rc;

	optind = 1;
	while ((o = getopt_long(argc, argv, "n:g:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'n': wl = optarg; break;
		case 'g': gwf = optarg; break;
		case 'j': json = true; break;
		case 's': flags |= ORACLE_VR_ALLOW_SIMULATED; break;
		case 'h': vr_usage(stdout); return EXIT_OK;
		default: vr_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 2 || !wl || !gwf) {
		vr_usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = read_nodes(wl, nodes, &nn)) || (rc = read_gateways(gwf, &pins)) ||
	    (rc = cli_read_file(CMD, argv[optind], ORACLE_FINAL_MAX, &rep, &rlen)) ||
	    (rc = cli_read_file(CMD, argv[optind + 1], ORACLE_BUNDLE_MAX, &bun, &blen)))
		goto out;
	rc = oracle_verify_report(rep, rlen, bun, blen,
				  (const uint8_t (*)[ORACLE_PUB_LEN])nodes, nn, pins.g,
				  pins.n, flags, &res);
	if (rc == -ENOMEM) {
		cli_error(CMD, "out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	if (json) {
		printf("{\"verified\":%s,\"feed\":", rc ? "false" : "true");
		json_str(stdout, res.feed);
		printf(",\"round\":%" PRIu64 ",\"status\":%u,\"status_name\":\"%s\","
		       "\"value\":%" PRId64 ",\"decimals\":%d,\"signers\":%zu,\"t\":%zu,"
		       "\"devices\":%zu,\"records_verified\":%zu,\"readings\":%zu,"
		       "\"readings_stale\":%zu,\"readings_excluded_future\":%zu,"
		       "\"readings_excluded_drift\":%zu,\"kernel_key_devices\":%zu,"
		       "\"simulated_devices\":%zu,\"segments_resync\":%zu,"
		       "\"reason\":", res.core.round,
		       res.core.status, oracle_status_name(res.core.status),
		       res.core.value, res.core.decimals, res.signers, res.t,
		       res.devices, res.records_verified, res.readings,
		       res.readings_stale,
		       res.readings_excluded[ORACLE_NODE_EXCL_FUTURE],
		       res.readings_excluded[ORACLE_NODE_EXCL_DRIFT],
		       res.kernel_devices, res.simulated_devices,
		       res.segments_resync);
		if (rc)
			json_str(stdout, res.why);
		else
			fputs("null", stdout);
		/* 1-based positions in the whitelist file */
		fputs(",\"signer_nodes\":[", stdout);
		for (size_t i = 0; i < res.signers; i++)
			printf("%s%zu", i ? "," : "", res.signer_idx[i] + 1);
		puts("]}");
	} else if (rc) {
		printf("NOT VERIFIED: %s\n", res.why);
	} else {
		printf("verified: feed %s round %" PRIu64 " %s value %" PRId64
		       " (decimals %d); %zu of t = %zu signatures; %zu devices (%zu "
		       "under the kernel-exclusive rule), %zu records and %zu "
		       "readings re-verified; aggregate recomputed\n",
		       res.feed, res.core.round, oracle_status_name(res.core.status),
		       res.core.value, res.core.decimals, res.signers, res.t,
		       res.devices, res.kernel_devices, res.records_verified,
		       res.readings);
		if (res.readings_stale)
			printf("%zu readings of the round's window left out: their "
			       "checkpoint covers a stale beacon\n", res.readings_stale);
		/* the node's word, not re-derived: say so */
		if (res.readings_excluded[ORACLE_NODE_EXCL_FUTURE] ||
		    res.readings_excluded[ORACLE_NODE_EXCL_DRIFT])
			printf("%zu readings left out as the nodes' evidence says, "
			       "which only a node can judge: %zu captured after their "
			       "receipt (gateway clock ahead), %zu between checkpoints "
			       "whose capture clock moved unlike the TPM clock\n",
			       res.readings_excluded[ORACLE_NODE_EXCL_FUTURE] +
			       res.readings_excluded[ORACLE_NODE_EXCL_DRIFT],
			       res.readings_excluded[ORACLE_NODE_EXCL_FUTURE],
			       res.readings_excluded[ORACLE_NODE_EXCL_DRIFT]);
		/* completeness at a segment's start the bundle cannot prove */
		if (res.segments_resync)
			printf("%zu chain segments start inside the round's window at "
			       "a point the nodes' evidence declares a resync point "
			       "(key 15: after a gap or a late join, mostly): that no "
			       "reading of the window lies before them is the nodes' "
			       "word\n", res.segments_resync);
		/* --allow-simulated admitted them: say so, never silently */
		if (res.simulated_devices)
			printf("SIMULATED: %zu of the %zu devices have records under a "
			       "simulated gateway's software AK (no TPM): this round "
			       "proves nothing about real sensors\n",
			       res.simulated_devices, res.devices);
	}
	rc = rc ? EXIT_FAIL : EXIT_OK;
out:
	gwpins_free(&pins);
	free(rep);
	free(bun);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * attestio provision: create or reuse the TPM attestation key (libattestio
 * att_provision), write ak.pem/ak.pub/ak.name, and tell a loaded module
 * which handle to sign with.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libattestio.h"

#include "cli.h"
#include "util.h"

#define CMD "provision"

static void provision_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio provision [--handle H] [--out DIR] [--owner-auth PW]\n"
		"                          [--tcti T] [--force] [--json]\n"
		"\n"
		"Create the TPM attestation key (AK), or reuse the one already there.\n"
		"The endorsement key (EK, TCG template, ECC P-256) is created in the\n"
		"endorsement hierarchy; the AK, a restricted ECC P-256 ECDSA-SHA256\n"
		"signing key, is created under the EK and made persistent at the\n"
		"handle.  Running it again reuses the key (idempotent).  Its public\n"
		"part is written to DIR as ak.pem (SubjectPublicKeyInfo), ak.pub\n"
		"(TPM2B_PUBLIC) and ak.name (TPM name).  When attestio.ko is loaded,\n"
		"the handle is written to its key_handle so checkpoints get signed.\n"
		"\n"
		"Options:\n"
		"  -H, --handle H      persistent handle, 0x81000000-0x817fffff\n"
		"                      (default 0x81010002)\n"
		"  -o, --out DIR       where to write the AK files (default\n"
		"                      /var/lib/attestio, created 0755)\n"
		"  -P, --owner-auth PW owner hierarchy password (needed to make the\n"
		"                      key persistent when the owner has one);\n"
		"                      env:VAR reads it from the environment\n"
		"  -T, --tcti T        TPM connection, e.g. device:/dev/tpmrm0 or\n"
		"                      swtpm:host=127.0.0.1,port=2321 (default:\n"
		"                      $TPM2TOOLS_TCTI, $TCTI, device:/dev/tpmrm0)\n"
		"  -f, --force         rotate: evict whatever is at the handle and\n"
		"                      create a new key\n"
		"  -j, --json          print the result as one JSON object\n"
		"  -h, --help          this help\n"
		"\n%s", exit_codes_help);
}

static int exit_for(int code)
{
	switch (code) {
	case ATT_EIO:
		return EXIT_IO;
	case ATT_EINVAL:
		return EXIT_USAGE;
	default:
		return EXIT_NOTPM;
	}
}

int cmd_provision(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "handle", required_argument, NULL, 'H' },
		{ "out", required_argument, NULL, 'o' },
		{ "owner-auth", required_argument, NULL, 'P' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct att_provision_opts o = { .handle = 0x81010002,
					.out_dir = "/var/lib/attestio" };
	struct att_provision_result r;
	struct att_err err = { 0 };
	char name_hex[2 * sizeof(r.ak_name) + 1], val[16], mod[160];
	bool json = false;
	size_t i;
	int c, ret, rc = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "H:o:P:T:fjh", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (parse_handle(CMD, optarg, &o.handle))
				return EXIT_USAGE;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'P':
			if (!strncmp(optarg, "env:", 4)) {
				o.owner_auth = getenv(optarg + 4);
				if (!o.owner_auth) {
					cli_error(CMD, "--owner-auth %s: variable "
						  "not set", optarg);
					return EXIT_USAGE;
				}
			} else {
				o.owner_auth = optarg;
			}
			break;
		case 'T':
			o.tcti = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			provision_usage(stdout);
			return EXIT_OK;
		default:
			cli_error(CMD, "unknown or incomplete option %s (see "
				  "attestio provision --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error(CMD, "unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	/* tpm2-tss logs its own errors to stderr; ours say it better */
	setenv("TSS2_LOG", "all+none", 0);

	ret = att_provision(&o, &r, &err);
	if (ret) {
		cli_error(CMD, "%s", err.msg);
		return exit_for(ret);
	}
	for (i = 0; i < r.ak_name_len; i++)
		sprintf(name_hex + 2 * i, "%02x", r.ak_name[i]);
	name_hex[2 * r.ak_name_len] = '\0';

	/* tell the module */
	snprintf(val, sizeof(val), "0x%08x", r.handle);
	if (!module_loaded()) {
		snprintf(mod, sizeof(mod), "not loaded (load it with "
			 "modprobe attestio key_handle=%s)", val);
	} else if ((ret = sysfs_set("key_handle", val))) {
		snprintf(mod, sizeof(mod), "refused key_handle=%s: %s", val,
			 strerror(-ret));
		rc = EXIT_NOMOD;
	} else {
		snprintf(mod, sizeof(mod), "key_handle set to %s", val);
	}

	if (json) {
		printf("{\"handle\":\"%s\",\"created\":%s,\"ek_cert\":%s,"
		       "\"ak_name\":\"%s\",\"out_dir\":", val,
		       r.created ? "true" : "false",
		       r.have_ek_cert ? "true" : "false", name_hex);
		json_str(stdout, o.out_dir);
		printf(",\"module\":");
		json_str(stdout, mod);
		printf(",\"module_ok\":%s}\n", rc == EXIT_OK ? "true" : "false");
	} else {
		printf("attestation key: %s at %s\n",
		       r.created ? "created" : "reused", val);
		printf("AK name:         %s\n", name_hex);
		printf("EK certificate:  %s\n", r.have_ek_cert ?
		       "present in NV" : "none in NV");
		printf("public part:     %s/ak.pem, ak.pub, ak.name\n", o.out_dir);
		printf("module:          %s\n", mod);
	}
	if (rc != EXIT_OK)
		cli_error(CMD, "the key is provisioned but the module %s", mod);
	return rc;
}

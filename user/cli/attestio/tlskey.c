// SPDX-License-Identifier: GPL-2.0
/*
 * attestio tls-key: the gateway's TLS client key in the TPM (libattestio
 * att_tls_key_*): create it at a persistent handle, and write its public
 * key (PEM) for the CA that issues the gateway's client certificate.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <libattestio.h>

#include "cli.h"
#include "util.h"

#define CMD "tls-key"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio tls-key --handle H [--create] [--pub-pem FILE] [--tcti T]\n"
		"\n"
		"The gateway's TLS client key, kept in the TPM: an ECC P-256 signing key\n"
		"created under the EK (fixedTPM: it cannot be copied out) and persisted\n"
		"at handle H.  attestiod uses it with `[link] key = tpm:H`; its\n"
		"handshake signatures are made by TPM2_Sign.  Give the public key to\n"
		"the CA that issues the gateway's client certificate (the certificate's\n"
		"CN is the gateway id).\n"
		"\n"
		"Options:\n"
		"  -H, --handle H       persistent handle, 0x81000000-0x817fffff\n"
		"  -c, --create         create the key there (a taken handle is refused)\n"
		"  -o, --pub-pem FILE   write its public key (PEM); - for stdout\n"
		"  -T, --tcti T         TPM (default $TPM2TOOLS_TCTI, $TCTI, device:/dev/tpmrm0)\n"
		"  -h, --help           this help\n"
		"\n"
		"Without --create it checks that H holds such a key.\n"
		"\n%s", exit_codes_help);
}

int cmd_tls_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "handle", required_argument, NULL, 'H' },
		{ "create", no_argument, NULL, 'c' },
		{ "pub-pem", required_argument, NULL, 'o' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pem = NULL, *tcti = NULL;
	struct att_err err = { 0 };
	bool create = false;
	EVP_PKEY *pk = NULL;
	uint32_t handle = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "H:co:T:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (parse_handle(CMD, optarg, &handle))
				return EXIT_USAGE;
			break;
		case 'c': create = true; break;
		case 'o': pem = optarg; break;
		case 'T': tcti = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!handle || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (create && att_tls_key_create(tcti, handle, &err)) {
		cli_error(CMD, "%s", err.msg);
		return err.code == ATT_ETPM ? EXIT_NOTPM : EXIT_FAIL;
	}
	if (att_tls_key_load(tcti, handle, &pk, &err)) {
		cli_error(CMD, "%s", err.msg);
		return err.code == ATT_ETPM ? EXIT_NOTPM : EXIT_FAIL;
	}
	ret = EXIT_OK;
	if (pem) {
		FILE *f = strcmp(pem, "-") ? fopen(pem, "w") : stdout;

		if (!f || !PEM_write_PUBKEY(f, pk) || (f != stdout && fclose(f))) {
			cli_error(CMD, "%s: cannot write: %s", pem, strerror(errno));
			ret = EXIT_IO;
		}
	}
	if (!ret)
		fprintf(stderr, "%s TLS key at 0x%08x (ECC P-256, in the TPM)%s%s\n",
			create ? "created" : "found", handle,
			pem ? "; public key: " : "", pem ? pem : "");
	EVP_PKEY_free(pk);
	return ret;
}

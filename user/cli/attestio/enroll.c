// SPDX-License-Identifier: GPL-2.0
/*
 * attestio enroll: enrollment bundle (attester), credential challenge
 * (verifier) and credential activation (attester).
 *
 * Challenge file format, version 1 (integers big-endian):
 *
 *   offset  size  field
 *   0       16    magic "ATTESTIO-CRED\0\0\0"
 *   16      2     version = 1
 *   18      2     reserved = 0
 *   20      2     n1 = length of the credential blob
 *   22      n1    credential blob: marshalled TPM2B_ID_OBJECT
 *   22+n1   2     n2 = length of the encrypted secret
 *   24+n1   n2    encrypted seed: marshalled TPM2B_ENCRYPTED_SECRET
 *
 * Nothing may follow; n1 <= 256 and n2 <= 1024.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "libattestio.h"

#include "cli.h"
#include "util.h"

#define CMD "enroll"
#define CRED_MAGIC "ATTESTIO-CRED\0\0\0"
#define MAX_FILE (256 * 1024)

static void enroll_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio enroll [--handle H] [--identity S] [-o FILE] [--tcti T]\n"
		"       attestio enroll --show BUNDLE\n"
		"       attestio enroll --challenge BUNDLE -o CHALLENGE\n"
		"                       (--secret-in FILE | --secret-out FILE)\n"
		"       attestio enroll --activate --cred CHALLENGE --secret-out FILE\n"
		"                       [--handle H] [--tcti T]\n"
		"\n"
		"Enrollment proves to an oracle that the attestation key (AK) lives in\n"
		"the same TPM as the endorsement key (EK):\n"
		"  1. on the gateway, `attestio enroll -o bundle` writes the bundle: EK\n"
		"     public, EK certificate (if the TPM has one), AK public and name,\n"
		"     device identity (Documentation/enrollment.md has the format);\n"
		"  2. the verifier checks the EK (certificate) and makes a challenge\n"
		"     for that EK and AK name: `attestio enroll --challenge bundle -o\n"
		"     chal --secret-out secret` (random 32-byte secret), or the\n"
		"     library's att_make_credential();\n"
		"  3. on the gateway, `attestio enroll --activate --cred chal\n"
		"     --secret-out got` recovers the secret with\n"
		"     TPM2_ActivateCredential, which only that TPM can do;\n"
		"  4. the verifier compares the secret it gets back.\n"
		"\n"
		"Options:\n"
		"  -H, --handle H      AK persistent handle (default 0x81010002)\n"
		"  -i, --identity S    device identity, 1-127 printable ASCII\n"
		"                      characters (default: the host name)\n"
		"  -o, --out FILE      bundle or challenge output (bundle default:\n"
		"                      stdout, refused on a terminal)\n"
		"  -T, --tcti T        TPM connection (default: $TPM2TOOLS_TCTI,\n"
		"                      $TCTI, device:/dev/tpmrm0)\n"
		"  -s, --show BUNDLE   check a bundle strictly and print its contents\n"
		"  -c, --challenge BUNDLE  verifier side: make a credential challenge\n"
		"      --secret-in FILE    the secret to wrap (1-32 bytes)\n"
		"  -a, --activate      attester side: activate the challenge\n"
		"      --cred FILE     the challenge to activate\n"
		"      --secret-out FILE   where the secret goes (mode 0600)\n"
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
	case ATT_EPARSE:
		return EXIT_FAIL;
	default:
		return EXIT_NOTPM;
	}
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	return cli_read_file(CMD, path, MAX_FILE, out, len);
}

static int write_file(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const uint8_t *p = data;

	if (fd < 0) {
		cli_error(CMD, "cannot create %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cli_error(CMD, "cannot write %s: %s", path,
				  strerror(errno));
			close(fd);
			return EXIT_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd)) {
		cli_error(CMD, "cannot write %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	return 0;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	while (n--)
		fprintf(f, "%02x", *p++);
}

static int do_show(const char *path)
{
	struct att_enroll_bundle b;
	struct att_err err = { 0 };
	uint8_t *buf;
	size_t len;
	int ret;

	ret = read_file(path, &buf, &len);
	if (ret)
		return ret;
	ret = att_enroll_parse(buf, len, &b, &err);
	free(buf);
	if (ret) {
		cli_error(CMD, "%s: %s", path, err.msg);
		return exit_for(ret);
	}
	printf("identity:        %s\n", b.identity);
	printf("AK name:         ");
	hex(stdout, b.ak_name, b.ak_name_len);
	printf("\nAK public:       %zu bytes (TPM2B_PUBLIC)\n", b.ak_pub_len);
	printf("EK public:       %zu bytes (TPM2B_PUBLIC)\n", b.ek_pub_len);
	if (b.ek_cert_len)
		printf("EK certificate:  %zu bytes (DER)\n", b.ek_cert_len);
	else
		printf("EK certificate:  none\n");
	att_enroll_free(&b);
	return EXIT_OK;
}

static int do_challenge(const char *bundle, const char *out,
			const char *secret_in, const char *secret_out)
{
	struct att_enroll_bundle b;
	struct att_err err = { 0 };
	uint8_t *buf = NULL, secret[32], cred[256], enc[1024];
	uint8_t file[24 + sizeof(cred) + sizeof(enc)];
	size_t len, slen = 32, clen = sizeof(cred), elen = sizeof(enc), off;
	int ret;

	if (!out || (!secret_in == !secret_out)) {
		cli_error(CMD, "--challenge needs -o FILE and one of "
			  "--secret-in FILE or --secret-out FILE");
		return EXIT_USAGE;
	}
	if (secret_in) {
		ret = read_file(secret_in, &buf, &len);
		if (ret)
			return ret;
		if (len == 0 || len > 32) {
			free(buf);
			cli_error(CMD, "%s: the secret must be 1-32 bytes",
				  secret_in);
			return EXIT_USAGE;
		}
		memcpy(secret, buf, len);
		slen = len;
		free(buf);
	} else if (RAND_bytes(secret, 32) != 1) {
		cli_error(CMD, "no random numbers");
		return EXIT_IO;
	}
	ret = read_file(bundle, &buf, &len);
	if (ret)
		return ret;
	ret = att_enroll_parse(buf, len, &b, &err);
	free(buf);
	if (ret) {
		cli_error(CMD, "%s: %s", bundle, err.msg);
		return exit_for(ret);
	}
	ret = att_make_credential(&b, secret, slen, cred, &clen, enc, &elen,
				  &err);
	att_enroll_free(&b);
	if (ret) {
		cli_error(CMD, "%s", err.msg);
		return exit_for(ret);
	}
	memcpy(file, CRED_MAGIC, 16);
	file[16] = 0;
	file[17] = 1;
	file[18] = file[19] = 0;
	off = 20;
	file[off++] = clen >> 8;
	file[off++] = clen & 0xff;
	memcpy(file + off, cred, clen);
	off += clen;
	file[off++] = elen >> 8;
	file[off++] = elen & 0xff;
	memcpy(file + off, enc, elen);
	off += elen;
	if (secret_out && (ret = write_file(secret_out, secret, slen, 0600)))
		return ret;
	return write_file(out, file, off, 0644);
}

static int parse_challenge(const uint8_t *p, size_t len, const uint8_t **cred,
			   size_t *clen, const uint8_t **enc, size_t *elen)
{
	size_t off = 20;

	if (len < 24 || memcmp(p, CRED_MAGIC, 16) || p[16] != 0 ||
	    p[17] != 1 || p[18] || p[19])
		return -1;
	*clen = (size_t)p[off] << 8 | p[off + 1];
	off += 2;
	if (*clen > 256 || len - off < *clen + 2)
		return -1;
	*cred = p + off;
	off += *clen;
	*elen = (size_t)p[off] << 8 | p[off + 1];
	off += 2;
	if (*elen > 1024 || len - off != *elen)
		return -1;
	*enc = p + off;
	return 0;
}

static int do_activate(const char *tcti, uint32_t handle, const char *cred,
		       const char *secret_out)
{
	struct att_err err = { 0 };
	const uint8_t *cb, *es;
	uint8_t *buf, secret[64];
	size_t len, cblen, eslen, slen = sizeof(secret);
	int ret;

	if (!cred || !secret_out) {
		cli_error(CMD, "--activate needs --cred FILE and --secret-out FILE");
		return EXIT_USAGE;
	}
	ret = read_file(cred, &buf, &len);
	if (ret)
		return ret;
	if (parse_challenge(buf, len, &cb, &cblen, &es, &eslen)) {
		free(buf);
		cli_error(CMD, "%s: not an attestio credential challenge "
			  "(bad magic, version or lengths)", cred);
		return EXIT_FAIL;
	}
	ret = att_activate_credential(tcti, handle, cb, cblen, es, eslen,
				      secret, &slen, &err);
	free(buf);
	if (ret) {
		cli_error(CMD, "%s", err.msg);
		return exit_for(ret);
	}
	ret = write_file(secret_out, secret, slen, 0600);
	if (!ret)
		printf("credential activated: %zu-byte secret written to %s\n",
		       slen, secret_out);
	return ret;
}

int cmd_enroll(int argc, char **argv)
{
	enum { O_CRED = 256, O_SECRET_OUT, O_SECRET_IN };
	static const struct option opts[] = {
		{ "handle", required_argument, NULL, 'H' },
		{ "identity", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "show", required_argument, NULL, 's' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "activate", no_argument, NULL, 'a' },
		{ "cred", required_argument, NULL, O_CRED },
		{ "secret-out", required_argument, NULL, O_SECRET_OUT },
		{ "secret-in", required_argument, NULL, O_SECRET_IN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *identity = NULL, *out = NULL, *tcti = NULL, *show = NULL;
	const char *challenge = NULL, *cred = NULL, *secret_out = NULL;
	const char *secret_in = NULL;
	struct att_enroll_bundle b;
	struct att_err err = { 0 };
	uint32_t handle = 0x81010002;
	bool activate = false;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "H:i:o:T:s:c:ah", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (parse_handle(CMD, optarg, &handle))
				return EXIT_USAGE;
			break;
		case 'i': identity = optarg; break;
		case 'o': out = optarg; break;
		case 'T': tcti = optarg; break;
		case 's': show = optarg; break;
		case 'c': challenge = optarg; break;
		case 'a': activate = true; break;
		case O_CRED: cred = optarg; break;
		case O_SECRET_OUT: secret_out = optarg; break;
		case O_SECRET_IN: secret_in = optarg; break;
		case 'h':
			enroll_usage(stdout);
			return EXIT_OK;
		default:
			cli_error(CMD, "unknown or incomplete option %s (see "
				  "attestio enroll --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error(CMD, "unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	if (!!show + !!challenge + activate > 1) {
		cli_error(CMD, "--show, --challenge and --activate exclude "
			  "each other");
		return EXIT_USAGE;
	}
	setenv("TSS2_LOG", "all+none", 0);
	if (show)
		return do_show(show);
	if (challenge)
		return do_challenge(challenge, out, secret_in, secret_out);
	if (activate)
		return do_activate(tcti, handle, cred, secret_out);
	if (cred || secret_out || secret_in) {
		cli_error(CMD, "--cred/--secret-* need --activate or --challenge");
		return EXIT_USAGE;
	}
	if (!out)
		out = "-";
	if (!strcmp(out, "-") && isatty(STDOUT_FILENO)) {
		cli_error(CMD, "the bundle is binary: give -o FILE");
		return EXIT_USAGE;
	}
	ret = att_enroll_collect(tcti, handle, identity, &b, &err);
	if (ret) {
		cli_error(CMD, "%s", err.msg);
		return exit_for(ret);
	}
	ret = att_enroll_write(out, &b, &err);
	if (ret) {
		att_enroll_free(&b);
		cli_error(CMD, "%s", err.msg);
		return exit_for(ret);
	}
	if (strcmp(out, "-"))
		fprintf(stderr, "enrollment bundle for \"%s\" written to %s "
			"(EK certificate: %s)\n", b.identity, out,
			b.ek_cert_len ? "included" : "none in NV");
	att_enroll_free(&b);
	return EXIT_OK;
}

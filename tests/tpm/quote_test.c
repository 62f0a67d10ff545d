// SPDX-License-Identifier: GPL-2.0
/*
 * quote_test KEY ATTEST SIG QDATA_HEX: verify a tpm2_quote output (-m, -s in
 * TPMT_SIGNATURE form) with libattestio's att_quote_verify and a key file
 * (ak.pem or ak.pub) written by attestio provision.  Exit 0 when it
 * verifies; prints the library's message otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libattestio.h"

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t attest[4096], sig[1024];
	struct att_quote_info info;
	struct att_err err = { 0 };
	struct att_key *key;
	uint8_t q[64];
	size_t alen, slen, qlen, i;
	int ret;

	if (argc != 5)
		return 2;
	qlen = strlen(argv[4]) / 2;
	if (qlen > sizeof(q))
		return 2;
	for (i = 0; i < qlen; i++)
		sscanf(argv[4] + 2 * i, "%2hhx", &q[i]);
	if (att_key_load(argv[1], &key, &err)) {
		printf("key: %s\n", err.msg);
		return 1;
	}
	alen = slurp(argv[2], attest, sizeof(attest));
	slen = slurp(argv[3], sig, sizeof(sig));
	ret = att_quote_verify(key, attest, alen, sig, slen, q, qlen, &info,
			       &err);
	att_key_free(key);
	if (ret) {
		printf("%s\n", err.msg);
		return 1;
	}
	return 0;
}

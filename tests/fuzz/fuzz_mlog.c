// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for libattestio's measurement log parser and key check
 * (user/lib/measure.c): the log comes from the gateway, i.e. from root.
 * att_mlog_parse() must accept or reject without reading past the input;
 * an accepted log is replayed and checked against a fixed AK, which must
 * fail cleanly (no valid certification can be forged by a fuzzer).
 * Seeds: tests/fuzz/corpus/mlog (logs of the module in the guest).
 */
#include <stdlib.h>
#include <string.h>

#include "libattestio.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* An ECC P-256 TPM2B_PUBLIC (restricted signing): any valid point will do. */
static const uint8_t ak_pub[] = {
	0x00, 0x58, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00,
	0x00, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10,
	0x00, 0x20,
	0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6,
	0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb,
	0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
	0x00, 0x20,
	0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb,
	0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31,
	0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct att_key *ak;
	struct att_mlog log;
	struct att_ksk ksk;
	struct att_err err;
	uint8_t pcr[32], *buf;
	size_t i;

	if (!ak && att_key_from_tpm2b_public(ak_pub, sizeof(ak_pub), &ak,
					     &err))
		abort();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (!att_mlog_parse(buf, size, &log, &err)) {
		for (i = 0; i < log.n; i++) {
			CHECK(log.ev[i].type >= ATTESTIO_MEV_LOAD &&
			      log.ev[i].type <= ATTESTIO_MEV_TYPE_MAX);
			CHECK(log.ev[i].data >= buf &&
			      log.ev[i].data + log.ev[i].len <= buf + size);
		}
		att_mlog_replay(&log, log.n, pcr);
		CHECK(att_mlog_ksk(&log, ak, ak_pub, sizeof(ak_pub), &ksk,
				   &err) != 0);
		att_mlog_free(&log);
	} else {
		CHECK(log.ev == NULL && log.n == 0 && err.msg[0]);
	}
	free(buf);
	return 0;
}

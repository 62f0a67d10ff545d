// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the oracle's CBOR report parser and signature
 * checks (user/oracle/report_cbor.c, report.c).  Besides the sanitizers it
 * checks that an accepted report re-encodes to exactly the input
 * (determinism), verifies without crashing, and that the ABI core decoder
 * and public-key recovery take any bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_cbor.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oracle_report r;
	struct oracle_core c;
	uint8_t pub[ORACLE_PUB_LEN], core[ORACLE_CORE_LEN], *buf, *re;
	const char *why = NULL;
	size_t len;

	/* An exactly sized copy, so that any read past the end is caught. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (oracle_report_parse(buf, size, &r, &why) == 0) {
		re = malloc(size);
		CHECK(re);
		CHECK(oracle_report_encode(&r, 0, re, size, &len) == 0);
		CHECK(len == size && !memcmp(re, buf, size));
		free(re);
		why = NULL;
		if (oracle_report_verify(&r, pub, &why))
			CHECK(why);
		oracle_report_release(&r);
	} else {
		CHECK(why && !r.devices && !r.evidence);
	}
	/* raw bytes as digest || signature, and as an ABI core */
	if (size >= ORACLE_HASH_LEN + ORACLE_SIG_LEN)
		(void)oracle_recover(buf, buf + ORACLE_HASH_LEN, pub, &why);
	if (size >= ORACLE_CORE_LEN && oracle_core_decode(buf, &c) == 0) {
		oracle_core_encode(&c, core);
		CHECK(!memcmp(core, buf, ORACLE_CORE_LEN));
	}
	free(buf);
	return 0;
}

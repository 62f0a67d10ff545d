// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the enrollment challenge parser (user/oracle/
 * enrollmsg.c).  Whatever parses must re-encode to the same bytes, and
 * verification must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrollmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oracle_enroll_chal c;
	static uint8_t out[ORACLE_ENROLL_MAX_LEN];
	uint8_t pub[ORACLE_PUB_LEN];
	const char *why = NULL;
	size_t len = 0;

	if (oracle_enroll_chal_parse(data, size, &c, &why))
		return 0;
	if (oracle_enroll_chal_encode(&c, 0, out, sizeof(out), &len) ||
	    len != size || memcmp(out, data, size))
		abort();
	oracle_enroll_chal_verify(&c, pub, &why);
	return 0;
}

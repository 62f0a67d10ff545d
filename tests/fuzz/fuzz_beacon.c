// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the beacon parser (user/oracle/beacon.c).  Whatever
 * parses must re-encode to the same bytes, and verification must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beacon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t keys[1][ORACLE_PUB_LEN] = { { 4 } };
	uint8_t out[ORACLE_BEACON_MAX_LEN];
	struct oracle_beacon b;
	const char *why = NULL;
	size_t len = 0, idx;

	if (oracle_beacon_parse(data, size, &b, &why))
		return 0;
	if (oracle_beacon_encode(&b, 0, out, sizeof(out), &len) || len != size ||
	    memcmp(out, data, size))
		abort();
	oracle_beacon_check(&b, keys, 1, &idx, &why);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the gateway status report parser (user/oracle/
 * gwstatus.c).  Whatever parses must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwstatus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oracle_gwstatus s;
	uint8_t out[ORACLE_GWS_MAX_LEN];
	size_t len = 0;

	if (oracle_gwstatus_parse(data, size, &s, NULL))
		return 0;
	if (oracle_gwstatus_encode(&s, out, sizeof(out), &len) || len != size ||
	    memcmp(out, data, size))
		abort();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: attestiod's metrics file as `attestio status` parses
 * it (user/cli/attestio/daemon.c).  A file that parses has both required
 * lines; parsing is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm a, b;
	char why[128];

	if (dm_parse((const char *)data, size, &a, why, sizeof(why)))
		return 0;
	if (!(a.have & 1u << DM_CONNECTED) || !(a.have & 1u << DM_SPOOL_RECORDS) ||
	    dm_parse((const char *)data, size, &b, why, sizeof(why)) ||
	    memcmp(&a, &b, sizeof(a)))
		abort();
	return 0;
}

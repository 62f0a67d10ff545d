// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the ack parser (user/oracle/ack.c).  Whatever parses
 * must re-encode to the same bytes, and verification must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oracle_ack a;
	static uint8_t out[ORACLE_ACK_MAX_LEN];
	uint8_t pub[ORACLE_PUB_LEN];
	const char *why = NULL;
	size_t len = 0;

	if (oracle_ack_parse(data, size, &a, &why))
		return 0;
	if (oracle_ack_encode(&a, 0, out, sizeof(out), &len) || len != size ||
	    memcmp(out, data, size))
		abort();
	oracle_ack_verify(&a, pub, &why);
	return 0;
}

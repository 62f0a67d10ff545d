// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the loss declaration parser (user/oracle/loss.c).
 * Whatever parses must re-encode to the same bytes and hold only valid,
 * ordered, non-overlapping holes and valid, strictly ordered released
 * chains.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oracle_loss l;
	static uint8_t out[ORACLE_LOSS_MAX_LEN];
	const char *why = NULL;
	size_t len = 0;

	if (oracle_loss_parse(data, size, &l, &why))
		return 0;
	if (oracle_loss_encode(&l, out, sizeof(out), &len) || len != size ||
	    memcmp(out, data, size))
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (l.h[i].first > l.h[i].last || l.h[i].stream >= 64 ||
		    (i && oracle_hole_cmp(&l.h[i - 1], &l.h[i]) >= 0))
			abort();
	for (size_t i = 0; i < l.nrel; i++)
		if (l.rel[i].stream >= 64 || l.rel[i].last > INT64_MAX ||
		    (i && oracle_released_cmp(&l.rel[i - 1], &l.rel[i]) >= 0))
			abort();
	return 0;
}

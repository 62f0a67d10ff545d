// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the gateway evidence parser (user/oracle/evidence.c).
 * Whatever parses must re-encode to the same bytes; its measurement log
 * then goes through libattestio's strict log parser, as the node does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "libattestio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oracle_evidence e;
	const char *why = NULL;
	uint8_t *out;
	size_t len = 0;

	if (oracle_evidence_parse(data, size, &e, &why))
		return 0;
	if (e.mlog_len > ORACLE_EV_MLOG_MAX ||
	    (e.pcrs_len && e.pcrs_len != ORACLE_EV_PCRS_LEN))
		abort();
	out = malloc(size);
	if (!out)
		return 0;
	if (oracle_evidence_encode(&e, out, size, &len) || len != size ||
	    memcmp(out, data, size))
		abort();
	free(out);
	{
		struct att_mlog log;
		struct att_err err = { 0 };

		if (!att_mlog_parse(e.mlog, e.mlog_len, &log, &err))
			att_mlog_free(&log);
	}
	return 0;
}

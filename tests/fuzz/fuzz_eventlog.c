// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the boot event log parser (user/lib/eventlog.c), as a
 * node runs it on a gateway's evidence.  A log that parses has every
 * event inside the input, replays, and explains against its own replay
 * and itself as the reference with nothing differing; the input's two
 * halves as log and reference never crash the explanation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libattestio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pcr[ATT_EVENTLOG_PCRS][32];
	struct att_err err = { 0 };
	struct att_eventlog l;
	uint32_t touched;
	char out[512];

	att_eventlog_explain(data, size / 2, NULL, 0, 0xffffff, data + size / 2,
			     size - size / 2, out, sizeof(out));
	if (att_eventlog_parse(data, size, &l, &err))
		return 0;
	for (size_t i = 0; i < l.n; i++)
		if (l.ev[i].pcr >= ATT_EVENTLOG_PCRS || l.ev[i].data < data ||
		    l.ev[i].data + l.ev[i].data_len > data + size)
			abort();
	att_eventlog_replay(&l, pcr, &touched);
	att_eventlog_free(&l);
	if (att_eventlog_explain(data, size, (const uint8_t *)pcr, sizeof(pcr),
				 0xffffff, data, size, out, sizeof(out)))
		abort();
	return 0;
}

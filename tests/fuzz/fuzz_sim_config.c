// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: attestio-sim's configuration parser (user/sim/model.c
 * over inih).  Whatever it accepts must be consistent: every group has a
 * site, a spoofer a target group other than itself, windows are ordered,
 * the fleet fits; every error names the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim_conf c;
	static char text[65536];
	char err[600];
	int total = 0;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (sim_conf_parse("fuzz.conf", text, &c, err, sizeof(err))) {
		if (!memchr(err, 0, sizeof(err)) || strncmp(err, "fuzz.conf", 9))
			abort();
		return 0;
	}
	if (!*c.gateway_conf || !*c.dir || !c.ngroups || c.epoch_ms < 100 || c.samples < 1)
		abort();
	for (int i = 0; i < c.ngroups; i++) {
		const struct sim_group *g = &c.group[i];

		total += g->count;
		if (g->site < 0 || g->site >= c.nsites || g->count < 1 || g->streams < 1 ||
		    g->streams > 64 || g->behaviour < 0 || g->behaviour >= B_COUNT ||
		    (g->until && g->until < g->from))
			abort();
		if (g->behaviour == B_SPOOF && (g->target_group < 0 || g->target_group == i ||
						g->target_group >= c.ngroups))
			abort();
		/* the model is total over what was accepted */
		(void)sim_value(&c, g, 0, g->from, 0, 1000);
	}
	if (total > SIM_MAX_GW)
		abort();
	return 0;
}

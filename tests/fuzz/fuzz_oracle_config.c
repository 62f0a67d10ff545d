// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: attestio-oracle's configuration parser
 * (user/oracled/config.c over inih).  Whatever it accepts must be
 * consistent: feed parameters pass agg.c's check, every feed stream names
 * a declared gateway, t is within the whitelist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oracled.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct od_config c;
	static char text[65536];
	const char *why;
	char err[600];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (config_load_string("fuzz.conf", text, &c, err, sizeof(err))) {
		if (!memchr(err, 0, sizeof(err)) || strncmp(err, "fuzz.conf", 9))
			abort();	/* every error names the file */
		return 0;
	}
	if (!c.have_key || !*c.db || !c.nbrokers || !c.ngw || c.t > c.nnodes ||
	    (c.nfeeds && !c.t))
		abort();
	for (int i = 0; i < c.nfeeds; i++) {
		if (oracle_feed_params_check(&c.feed[i].p, &why) || !c.feed[i].nstreams)
			abort();
		for (size_t k = 0; k < c.feed[i].nstreams; k++)
			if (c.feed[i].s[k].gw < 0 || c.feed[i].s[k].gw >= c.ngw)
				abort();
	}
	return 0;
}

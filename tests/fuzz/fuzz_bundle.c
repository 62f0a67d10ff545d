// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the evidence bundle parser (user/oracle/bundle.c) and
 * the config text parser.  Whatever parses must re-encode to the same
 * bytes; then verify-report's checks run on it as a REPORT-less bundle
 * would (they must refuse it without crashing: no final report).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[ORACLE_PUB_LEN] = { 4 };
	struct oracle_vr_result *res = malloc(sizeof(*res));
	struct oracle_cfg *cfg = malloc(sizeof(*cfg));
	struct oracle_bundle b;
	const char *why = NULL;
	uint8_t *out = NULL;
	size_t len = 0;

	if (!res || !cfg)
		goto out;
	/* the final report is the input's first bytes when they parse as one */
	if (!oracle_verify_report(data, size < 300 ? size : 300, data, size,
				  &key, 1, res))
		abort();	/* no genuine signature by key 04 00.. exists */
	if (oracle_bundle_parse(data, size, &b, &why))
		goto out;
	out = malloc(size);
	if (!out || oracle_bundle_encode(b.report, b.report_len, b.item,
					 b.item_len, b.nitems, out, size, &len) ||
	    len != size || memcmp(out, data, size))
		abort();
	if (b.ndev + 1 != b.nitems)
		abort();
	oracle_cfg_parse(b.cfg_text, b.cfg_len, cfg, &why);
	oracle_bundle_release(&b);
out:
	free(out);
	free(res);
	free(cfg);
	return 0;
}

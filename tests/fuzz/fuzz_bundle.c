// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the evidence bundle parser (user/oracle/bundle.c), the
 * config text parser, and verify-report's checks after the signatures
 * (oracle_verify_bundle: Merkle leaves and root, config, every chain
 * segment through libattestio's verifier, the aggregation).  Whatever
 * parses must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oracle_vr_result *res = malloc(sizeof(*res));
	struct oracle_cfg *cfg = malloc(sizeof(*cfg));
	struct oracle_bundle b;
	const char *why = NULL;
	uint8_t *out = NULL;
	size_t len = 0;

	if (!res || !cfg)
		goto out;
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
	oracle_verify_bundle(data, size, NULL, 0,
			     ORACLE_VR_ALLOW_SIMULATED | ORACLE_VR_UNPINNED_AKS, res);
out:
	free(out);
	free(res);
	free(cfg);
	return 0;
}

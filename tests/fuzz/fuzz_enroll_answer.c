// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the enrollment answer parser (user/oracle/
 * enrollmsg.c).  Whatever parses must re-encode to the same bytes; the
 * node's check of it must not crash and must refuse a proof not made
 * with the secret.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrollmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t secret[32] = { 9 };
	struct oracle_enroll_ans a;
	uint8_t out[256], proof[32];
	const char *why = NULL;
	size_t len = 0;

	if (oracle_enroll_ans_parse(data, size, &a, &why))
		return 0;
	if (oracle_enroll_ans_encode(&a, out, sizeof(out), &len) ||
	    len != size || memcmp(out, data, size))
		abort();
	oracle_enroll_proof(&a, secret, sizeof(secret), proof);
	if (!oracle_enroll_ans_check(&a, a.gw, a.node_id, a.chal, secret,
				     sizeof(secret), &why) !=
	    !memcmp(proof, a.proof, sizeof(proof)))
		abort();
	return 0;
}

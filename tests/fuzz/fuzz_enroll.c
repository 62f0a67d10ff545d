// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: att_enroll_parse (enrollment bundle, user/lib/enroll.c)
 * on arbitrary bytes.  A bundle that parses must satisfy the documented
 * invariants, and att_make_credential must then handle its (attacker
 * chosen) EK without crashing: invalid ECC points and odd RSA moduli are
 * errors, never faults.  Links the user/lib sources with tss2-esys/mu/tctildr/rc
 * and libcrypto.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libattestio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct att_enroll_bundle b;
	struct att_err err;
	uint8_t secret[32] = { 1, 2, 3 }, cred[256], enc[1024];
	size_t clen = sizeof(cred), elen = sizeof(enc);

	if (att_enroll_parse(data, size, &b, &err)) {
		if (err.code != ATT_EPARSE && err.code != ATT_ENOMEM)
			abort();
		if (!memchr(err.msg, '\0', sizeof(err.msg)))
			abort();
		/* a failed parse leaves nothing allocated */
		if (b.ek_pub || b.ek_cert || b.ak_pub)
			abort();
		return 0;
	}
	if (!b.ek_pub || !b.ak_pub || b.ak_name_len != 34 ||
	    !memchr(b.identity, '\0', sizeof(b.identity)) || !b.identity[0] ||
	    b.ek_pub_len > size || b.ak_pub_len > size ||
	    b.ek_cert_len > size || (b.ek_cert_len && !b.ek_cert))
		abort();
	if (att_make_credential(&b, secret, sizeof(secret), cred, &clen, enc,
				&elen, &err) == 0 &&
	    (clen > sizeof(cred) || elen > sizeof(enc)))
		abort();
	att_enroll_free(&b);
	return 0;
}

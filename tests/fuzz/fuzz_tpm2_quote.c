// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for attestio_tpm2_quote_parse(), the parser of TPM
 * responses that may come from a forged bus.  Besides the sanitizers, it
 * checks that every accepted response points only inside the input and
 * that the parse is consistent with attestio_tpm2_rsp_size().
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser/kshim
 *   -Iinclude/uapi -Ikernel kernel/tpm2_msg.c tests/fuzz/fuzz_tpm2_quote.c
 * Seeds: tests/fuzz/corpus/tpm2_quote (real swtpm responses).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tpm2_msg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int inside(const u8 *p, size_t n, const u8 *lo, size_t len)
{
	return p >= lo && n <= len && (size_t)(p - lo) <= len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attestio_quote_resp r;
	u8 *buf;
	int ret, rsz;

	/* An exactly sized copy, so that any read past the end is caught. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = attestio_tpm2_quote_parse(buf, size, &r);
	rsz = attestio_tpm2_rsp_size(buf, size);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -EMSGSIZE ||
	      ret == -EREMOTEIO);
	if (ret == 0 || ret == -EREMOTEIO)
		CHECK(rsz >= 0 && (size_t)rsz == size);
	if (ret == -EREMOTEIO)
		CHECK(r.rc && size == ATTESTIO_TPM2_HDR_LEN && !r.attest);
	if (ret == 0) {
		CHECK(r.rc == 0);
		CHECK(r.attest_len && r.sig_len);
		CHECK(inside(r.attest, r.attest_len, buf, size));
		CHECK(inside(r.sig, r.sig_len, buf, size));
		CHECK(r.sig == r.attest + r.attest_len);
		CHECK(!r.extra_len ||
		      inside(r.extra, r.extra_len, r.attest, r.attest_len));
		CHECK(r.sig_alg == ATTESTIO_TPM2_ALG_ECDSA ||
		      r.sig_alg == ATTESTIO_TPM2_ALG_RSASSA ||
		      r.sig_alg == ATTESTIO_TPM2_ALG_RSAPSS);
	} else if (ret != -EREMOTEIO) {
		CHECK(!r.attest && !r.sig && !r.extra && !r.rc);
	}
	free(buf);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Final report codec and its contract-equivalent check.  See final.h.
 * The encoding is so constrained (fixed keys, fixed byte-string lengths)
 * that its strict parser reads the expected bytes directly.
 */
#include <errno.h>
#include <string.h>

#include "final.h"

int oracle_final_encode(const struct oracle_final *f, uint8_t *buf,
			size_t cap, size_t *len)
{
	size_t n = 0, need;

	if (f->nsigs == 0 || f->nsigs > ORACLE_QUORUM_MAX)
		return -EINVAL;
	need = 4 + ORACLE_CORE_LEN + 1 + (f->nsigs > 23 ? 2 : 1) +
	       f->nsigs * (2 + ORACLE_SIG_LEN);
	*len = need;
	if (need > cap)
		return -ENOSPC;
	buf[n++] = 0xa2;			/* map(2) */
	buf[n++] = 0x01;
	buf[n++] = 0x58;			/* bstr, 1-byte length */
	buf[n++] = ORACLE_CORE_LEN;
	memcpy(buf + n, f->core, ORACLE_CORE_LEN);
	n += ORACLE_CORE_LEN;
	buf[n++] = 0x02;
	if (f->nsigs > 23) {
		buf[n++] = 0x98;		/* array, 1-byte length */
		buf[n++] = (uint8_t)f->nsigs;
	} else {
		buf[n++] = (uint8_t)(0x80 + f->nsigs);
	}
	for (size_t i = 0; i < f->nsigs; i++) {
		buf[n++] = 0x58;
		buf[n++] = ORACLE_SIG_LEN;
		memcpy(buf + n, f->sigs[i], ORACLE_SIG_LEN);
		n += ORACLE_SIG_LEN;
	}
	return 0;
}

#define NEED(c, msg) do { if (!(c)) { *why = (msg); return -EBADMSG; } } while (0)

int oracle_final_parse(const uint8_t *buf, size_t len,
		       struct oracle_final *f, const char **why)
{
	size_t p = 0, n;

	memset(f, 0, sizeof(*f));
	NEED(len <= ORACLE_FINAL_MAX, "final report too large");
	NEED(len >= 1 && buf[0] == 0xa2, "not a CBOR map of 2 entries");
	NEED(len >= 2 && buf[1] == 0x01, "first key is not 1 (core)");
	NEED(len >= 4 && buf[2] == 0x58 && buf[3] == ORACLE_CORE_LEN,
	     "core is not a byte string of 224 bytes");
	p = 4;
	NEED(len - p >= ORACLE_CORE_LEN, "truncated core");
	memcpy(f->core, buf + p, ORACLE_CORE_LEN);
	p += ORACLE_CORE_LEN;
	NEED(len - p >= 1 && buf[p] == 0x02, "second key is not 2 (signatures)");
	p++;
	NEED(len - p >= 1, "truncated signature list");
	if (buf[p] >= 0x81 && buf[p] <= 0x97) {
		n = buf[p] - 0x80u;
		p++;
	} else {
		NEED(buf[p] == 0x98, "signatures are not a non-empty CBOR array");
		NEED(len - p >= 2, "truncated signature list");
		n = buf[p + 1];
		NEED(n >= 24, "array length not in shortest form");
		NEED(n <= ORACLE_QUORUM_MAX, "more than 64 signatures");
		p += 2;
	}
	for (size_t i = 0; i < n; i++) {
		NEED(len - p >= 2 && buf[p] == 0x58 && buf[p + 1] == ORACLE_SIG_LEN,
		     "a signature is not a byte string of 65 bytes");
		p += 2;
		NEED(len - p >= ORACLE_SIG_LEN, "truncated signature");
		memcpy(f->sigs[i], buf + p, ORACLE_SIG_LEN);
		p += ORACLE_SIG_LEN;
	}
	NEED(p == len, "trailing bytes after the final report");
	f->nsigs = n;
	return 0;
}

#define FAIL(code, msg) do { *why = (msg); return (code); } while (0)

int oracle_final_check(const struct oracle_final *f, const struct oracle_set *set,
		       struct oracle_core *core, const char **why)
{
	uint8_t digest[ORACLE_HASH_LEN], pub[ORACLE_PUB_LEN], addr[ORACLE_ADDR_LEN];
	uint64_t seen = 0;
	size_t t = (size_t)set->f + 1;

	*why = NULL;
	if (oracle_core_decode(f->core, core))
		FAIL(ORACLE_FINAL_CORE, "core does not decode (padding, int64 value, int8 decimals)");
	if (memcmp(core->config_digest, set->config_digest, ORACLE_HASH_LEN))
		FAIL(ORACLE_FINAL_CONFIG, "config digest is not the oracle set's");
	if (f->nsigs < t)
		FAIL(ORACLE_FINAL_FEW, "fewer than t = f + 1 signatures");
	oracle_core_digest(core, digest);
	for (size_t i = 0; i < f->nsigs; i++) {
		const char *w = NULL;
		size_t k;

		if (oracle_recover(digest, f->sigs[i], pub, &w))
			FAIL(ORACLE_FINAL_BADSIG, w ? w : "signature does not recover");
		oracle_eth_address(pub, addr);
		for (k = 0; k < set->n; k++)
			if (!memcmp(set->addrs[k], addr, ORACLE_ADDR_LEN))
				break;
		if (k == set->n)
			FAIL(ORACLE_FINAL_UNKNOWN, "a signer is not in the oracle set");
		if (seen & (1ull << k))
			FAIL(ORACLE_FINAL_DUP, "the same signer signed twice");
		seen |= 1ull << k;
	}
	return ORACLE_FINAL_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the oracle's report core (user/oracle/report.c) and CBOR
 * report (report_cbor.c): ABI words computed by hand, the signing digest
 * and node id recomputed with OpenSSL, signatures checked by OpenSSL's
 * ECDSA too, tampering, high s, t-of-n, the Merkle tree, deterministic CBOR
 * and the strict parser's rejections.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "report.h"
#include "report_cbor.h"

static void sha256(const void *a, size_t alen, const void *b, size_t blen,
		   uint8_t out[32])
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();

	assert_non_null(x);
	assert_true(EVP_DigestInit_ex(x, EVP_sha256(), NULL));
	assert_true(EVP_DigestUpdate(x, a, alen));
	if (blen)
		assert_true(EVP_DigestUpdate(x, b, blen));
	assert_true(EVP_DigestFinal_ex(x, out, NULL));
	EVP_MD_CTX_free(x);
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static struct oracle_core sample_core(void)
{
	struct oracle_core c = { .round = 0x0102030405060708ull, .value = -2,
				 .decimals = -2, .status = 4 };

	memset(c.feed_id, 0x11, 32);
	memset(c.config_digest, 0x22, 32);
	memset(c.evidence_root, 0x33, 32);
	return c;
}

static void seckey(uint8_t k[32], uint8_t last)
{
	memset(k, 0, 32);
	k[31] = last;
}

/* --------------------------------------------------------------- ABI --- */

static void abi_vector_negative(void **state)
{
	/* abi.encode(bytes32(0x11..), uint64(0x0102030405060708), int256(-2),
	 *            int8(-2), uint8(4), bytes32(0x22..), bytes32(0x33..)) */
	static const char *words[7] = {
		"1111111111111111111111111111111111111111111111111111111111111111",
		"0000000000000000000000000000000000000000000000000102030405060708",
		"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
		"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
		"0000000000000000000000000000000000000000000000000000000000000004",
		"2222222222222222222222222222222222222222222222222222222222222222",
		"3333333333333333333333333333333333333333333333333333333333333333",
	};
	struct oracle_core c = sample_core(), d;
	uint8_t want[ORACLE_CORE_LEN], got[ORACLE_CORE_LEN];

	(void)state;
	for (int i = 0; i < 7; i++)
		unhex(words[i], want + 32 * i, 32);
	oracle_core_encode(&c, got);
	assert_memory_equal(got, want, ORACLE_CORE_LEN);
	assert_int_equal(oracle_core_decode(got, &d), 0);
	assert_memory_equal(&c, &d, sizeof(c));
}

static void abi_vector_positive(void **state)
{
	struct oracle_core c = sample_core(), d;
	uint8_t got[ORACLE_CORE_LEN], want[32];

	(void)state;
	c.value = 2315;		/* 23.15 at decimals 2 */
	c.decimals = 2;
	c.status = 0;
	c.round = 1;
	oracle_core_encode(&c, got);
	unhex("000000000000000000000000000000000000000000000000000000000000090b", want, 32);
	assert_memory_equal(got + 64, want, 32);
	unhex("0000000000000000000000000000000000000000000000000000000000000002", want, 32);
	assert_memory_equal(got + 96, want, 32);
	unhex("0000000000000000000000000000000000000000000000000000000000000001", want, 32);
	assert_memory_equal(got + 32, want, 32);
	memset(want, 0, 32);
	assert_memory_equal(got + 128, want, 32);
	c.value = INT64_MIN;
	c.decimals = -128;
	oracle_core_encode(&c, got);
	unhex("ffffffffffffffffffffffffffffffffffffffffffffffff8000000000000000", want, 32);
	assert_memory_equal(got + 64, want, 32);
	unhex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80", want, 32);
	assert_memory_equal(got + 96, want, 32);
	assert_int_equal(oracle_core_decode(got, &d), 0);
	assert_true(d.value == INT64_MIN && d.decimals == -128);
}

static void abi_decode_strict(void **state)
{
	struct oracle_core c = sample_core(), d;
	uint8_t w[ORACLE_CORE_LEN], t[ORACLE_CORE_LEN];
	/* bytes that must be padding: uint64 high bytes, int sign bytes,
	 * uint8 high bytes */
	size_t pad[] = { 32, 55, 64, 87, 96, 119, 128, 158 };

	(void)state;
	oracle_core_encode(&c, w);
	for (size_t i = 0; i < sizeof(pad) / sizeof(pad[0]); i++) {
		memcpy(t, w, sizeof(w));
		t[pad[i]] ^= 0x01;
		assert_int_equal(oracle_core_decode(t, &d), -EBADMSG);
	}
	/* int8 out of range although a valid int256: 0xff..ff7f = -129 */
	memcpy(t, w, sizeof(w));
	t[96 + 31] = 0x7f;
	assert_int_equal(oracle_core_decode(t, &d), -EBADMSG);
}

static void digest_is_tagged_sha256(void **state)
{
	struct oracle_core c = sample_core();
	uint8_t core[ORACLE_CORE_LEN], want[32], got[32];
	static const char tag[] = "attestio/v1/report-core";

	(void)state;
	assert_int_equal(ORACLE_TAG_CORE_LEN, 24);	/* with its NUL */
	oracle_core_encode(&c, core);
	sha256(tag, sizeof(tag), core, sizeof(core), want);
	oracle_core_digest(&c, got);
	assert_memory_equal(got, want, 32);
}

/* ------------------------------------------------------ keys and sigs --- */

static void node_id_of_generator(void **state)
{
	/* secret key 1: the public key is the generator G */
	static const char g[] = "04"
		"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
		"483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
	struct oracle_signer s;
	uint8_t k[32], pub[65], h[32];
	char hex[ORACLE_NODE_ID_HEX], want[33];

	(void)state;
	seckey(k, 1);
	assert_int_equal(oracle_signer_init(&s, k), 0);
	unhex(g, pub, 65);
	assert_memory_equal(s.pub, pub, 65);
	sha256(pub, 65, NULL, 0, h);
	assert_memory_equal(s.node_id, h, 16);
	oracle_hex(s.node_id, 16, hex);
	for (int i = 0; i < 16; i++)
		sprintf(want + 2 * i, "%02x", h[i]);
	assert_string_equal(hex, want);
	oracle_signer_fini(&s);
	/* 0 and n are not keys */
	seckey(k, 0);
	assert_int_equal(oracle_signer_init(&s, k), -EINVAL);
	unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", k, 32);
	assert_int_equal(oracle_signer_init(&s, k), -EINVAL);
}

/* Independent check: OpenSSL's ECDSA accepts (r, s) for the key. */
static int openssl_verify(const uint8_t pub[65], const uint8_t d[32],
			  const uint8_t sig[65])
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	OSSL_PARAM *ps;
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int len, ok;

	OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0);
	OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
	ps = OSSL_PARAM_BLD_to_param(b);
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, ps), 1);
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	len = i2d_ECDSA_SIG(es, &der);
	EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new(pk, NULL);

	assert_int_equal(EVP_PKEY_verify_init(vc), 1);
	ok = EVP_PKEY_verify(vc, der, (size_t)len, d, 32);
	EVP_PKEY_CTX_free(vc);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_free(pk);
	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(pc);
	return ok;
}

static struct oracle_signer S[5];

static int setup_signers(void **state)
{
	uint8_t k[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		seckey(k, (uint8_t)(0x40 + i));
		k[0] = 0x5a;
		if (oracle_signer_init(&S[i], k))
			return -1;
	}
	return 0;
}

static int teardown_signers(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++)
		oracle_signer_fini(&S[i]);
	return 0;
}

static void sign_recover_round_trip(void **state)
{
	uint8_t sig[65], pub[65], d[32];
	const char *why = NULL;

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct oracle_core c = sample_core();

		c.round += (uint64_t)i;
		assert_int_equal(oracle_sign_core(&S[i], &c, sig), 0);
		assert_true(sig[64] == 27 || sig[64] == 28);
		oracle_core_digest(&c, d);
		assert_int_equal(oracle_recover(d, sig, pub, &why), 0);
		assert_memory_equal(pub, S[i].pub, 65);
		assert_int_equal(openssl_verify(S[i].pub, d, sig), 1);
	}
}

static void tampering_rejected(void **state)
{
	struct oracle_core c = sample_core(), t;
	uint8_t sig[65], bad[65], pub[65], d[32];
	const char *why = NULL;

	(void)state;
	assert_int_equal(oracle_sign_core(&S[0], &c, sig), 0);
	/* each field of the core: the key recovered is another one */
	for (int f = 0; f < 7; f++) {
		t = c;
		switch (f) {
		case 0: t.feed_id[31] ^= 1; break;
		case 1: t.round++; break;
		case 2: t.value = 2; break;
		case 3: t.decimals = 2; break;
		case 4: t.status = 0; break;
		case 5: t.config_digest[0] ^= 0x80; break;
		case 6: t.evidence_root[7] ^= 4; break;
		}
		oracle_core_digest(&t, d);
		if (oracle_recover(d, sig, pub, &why) == 0)
			assert_memory_not_equal(pub, S[0].pub, 65);
	}
	oracle_core_digest(&c, d);
	/* r, s, v */
	for (int i = 0; i < 65; i += 13) {
		memcpy(bad, sig, 65);
		bad[i] ^= 0x01;
		if (oracle_recover(d, bad, pub, &why) == 0)
			assert_memory_not_equal(pub, S[0].pub, 65);
	}
	memcpy(bad, sig, 65);
	bad[64] = (uint8_t)(55 - sig[64]);	/* 27 <-> 28: the other candidate */
	assert_int_equal(oracle_recover(d, bad, pub, &why), 0);
	assert_memory_not_equal(pub, S[0].pub, 65);
	for (int v = 0; v < 256; v++) {
		if (v == 27 || v == 28)
			continue;
		bad[64] = (uint8_t)v;
		assert_int_equal(oracle_recover(d, bad, pub, &why), -EBADMSG);
	}
	memcpy(bad, sig, 65);
	memset(bad, 0, 32);
	assert_int_equal(oracle_recover(d, bad, pub, &why), -EBADMSG);
	memcpy(bad, sig, 65);
	memset(bad + 32, 0, 32);
	assert_int_equal(oracle_recover(d, bad, pub, &why), -EBADMSG);
	/* r >= n */
	memcpy(bad, sig, 65);
	memset(bad, 0xff, 32);
	assert_int_equal(oracle_recover(d, bad, pub, &why), -EBADMSG);
}

/* s' = n - s with v flipped recovers the same key (ecrecover accepts it);
 * we refuse it. */
static void make_high_s(const uint8_t sig[65], uint8_t out[65])
{
	BIGNUM *n = NULL, *s = BN_bin2bn(sig + 32, 32, NULL);

	assert_true(BN_hex2bn(&n, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"));
	assert_true(BN_sub(s, n, s));
	memcpy(out, sig, 32);
	assert_int_equal(BN_bn2binpad(s, out + 32, 32), 32);
	out[64] = (uint8_t)(55 - sig[64]);
	BN_free(n);
	BN_free(s);
}

static void high_s_rejected(void **state)
{
	struct oracle_core c = sample_core();
	uint8_t sig[65], hs[65], pub[65], d[32];
	const char *why = NULL;

	(void)state;
	oracle_core_digest(&c, d);
	assert_int_equal(oracle_sign_digest(&S[1], d, sig), 0);
	make_high_s(sig, hs);
	/* it is a valid ECDSA signature for OpenSSL ... */
	assert_int_equal(openssl_verify(S[1].pub, d, hs), 1);
	/* ... that we refuse */
	assert_int_equal(oracle_recover(d, hs, pub, &why), -EBADMSG);
	assert_string_equal(why, "signature s is high (malleable form)");
}

static void quorum_t_of_n(void **state)
{
	struct oracle_core c = sample_core();
	uint8_t keys[4][65], sig[5][65], out[4][65], alt[65], d[32];
	struct oracle_quorum q;
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_context *ctx;
	const char *why = NULL;
	int recid;

	(void)state;
	assert_int_equal(oracle_quorum_threshold(1), 1);
	assert_int_equal(oracle_quorum_threshold(4), 2);
	assert_int_equal(oracle_quorum_threshold(6), 2);
	assert_int_equal(oracle_quorum_threshold(7), 3);
	for (int i = 0; i < 4; i++)
		memcpy(keys[i], S[i].pub, 65);
	for (int i = 0; i < 5; i++)
		assert_int_equal(oracle_sign_core(&S[i], &c, sig[i]), 0);
	assert_int_equal(oracle_quorum_init(&q, &c, (const void *)keys, 4, 0, &why), -EINVAL);
	assert_int_equal(oracle_quorum_init(&q, &c, (const void *)keys, 4, 5, &why), -EINVAL);
	memcpy(keys[3], keys[0], 65);
	assert_int_equal(oracle_quorum_init(&q, &c, (const void *)keys, 4, 2, &why), -EINVAL);
	memcpy(keys[3], S[3].pub, 65);
	keys[3][64] ^= 1;	/* not on the curve */
	assert_int_equal(oracle_quorum_init(&q, &c, (const void *)keys, 4, 2, &why), -EINVAL);
	memcpy(keys[3], S[3].pub, 65);

	assert_int_equal(oracle_quorum_init(&q, &c, (const void *)keys, 4,
					    oracle_quorum_threshold(4), &why), 0);
	assert_false(oracle_quorum_final(&q));
	assert_int_equal(oracle_quorum_add(&q, sig[2], &why), 0);
	assert_false(oracle_quorum_final(&q));
	/* the same node again, with the same or another valid signature */
	assert_int_equal(oracle_quorum_add(&q, sig[2], &why), -EEXIST);
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	oracle_core_digest(&c, d);
	assert_true(secp256k1_ecdsa_sign_recoverable(ctx, &rs, d, S[2].seckey, NULL,
						     (const uint8_t[32]){ 7 }));
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, alt, &recid, &rs);
	secp256k1_context_destroy(ctx);
	alt[64] = (uint8_t)(27 + recid);
	assert_memory_not_equal(alt, sig[2], 64);
	assert_int_equal(oracle_quorum_add(&q, alt, &why), -EEXIST);
	/* a non-whitelisted node, a high-s twin, a signature over another core */
	assert_int_equal(oracle_quorum_add(&q, sig[4], &why), -EPERM);
	make_high_s(sig[0], alt);
	assert_int_equal(oracle_quorum_add(&q, alt, &why), -EBADMSG);
	struct oracle_core c2 = c;

	c2.value = 1000;
	assert_int_equal(oracle_sign_core(&S[0], &c2, alt), 0);
	assert_int_equal(oracle_quorum_add(&q, alt, &why), -EPERM);
	assert_false(oracle_quorum_final(&q));
	assert_int_equal(q.count, 1);
	/* a second distinct whitelisted node: final */
	assert_int_equal(oracle_quorum_add(&q, sig[0], &why), 0);
	assert_true(oracle_quorum_final(&q));
	assert_int_equal(oracle_quorum_sigs(&q, out, 4), 2);
	assert_memory_equal(out[0], sig[0], 65);	/* whitelist order */
	assert_memory_equal(out[1], sig[2], 65);
	assert_int_equal(oracle_quorum_sigs(&q, out, 1), 1);
}

/* ------------------------------------------------------------- Merkle --- */

static void node(const uint8_t *l, const uint8_t *r, uint8_t out[32])
{
	uint8_t buf[65] = { 0x01 };

	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	sha256(buf, 65, NULL, 0, out);
}

static void merkle_tree(void **state)
{
	uint8_t lf[5][32], root[32], want[32], ab[32], cd[32], abcd[32];
	uint8_t zero = 0, item[3] = { 'x', 'y', 'z' };

	(void)state;
	oracle_merkle_leaf(item, 3, lf[0]);
	sha256(&zero, 1, item, 3, want);
	assert_memory_equal(lf[0], want, 32);
	for (int i = 1; i < 5; i++) {
		item[0] = (uint8_t)i;
		oracle_merkle_leaf(item, 3, lf[i]);
	}
	assert_int_equal(oracle_merkle_root((const void *)lf, 0, root), -EINVAL);
	assert_int_equal(oracle_merkle_root((const void *)lf, 1, root), 0);
	assert_memory_equal(root, lf[0], 32);
	node(lf[0], lf[1], ab);
	assert_int_equal(oracle_merkle_root((const void *)lf, 2, root), 0);
	assert_memory_equal(root, ab, 32);
	/* 3: the odd leaf is carried up, not duplicated */
	node(ab, lf[2], want);
	assert_int_equal(oracle_merkle_root((const void *)lf, 3, root), 0);
	assert_memory_equal(root, want, 32);
	node(lf[2], lf[3], cd);
	node(ab, cd, abcd);
	node(abcd, lf[4], want);
	assert_int_equal(oracle_merkle_root((const void *)lf, 5, root), 0);
	assert_memory_equal(root, want, 32);
	/* [a,b,c] and [a,b,c,c] differ (no CVE-2012-2459 ambiguity) */
	uint8_t four[4][32], r3[32];

	memcpy(four, lf, 3 * 32);
	memcpy(four[3], lf[2], 32);
	assert_int_equal(oracle_merkle_root((const void *)lf, 3, r3), 0);
	assert_int_equal(oracle_merkle_root((const void *)four, 4, root), 0);
	assert_memory_not_equal(root, r3, 32);
}

/* --------------------------------------------------------------- CBOR --- */

static struct oracle_report_device DEVS[3];
static uint8_t EVID[2][32];

static struct oracle_report sample_report(void)
{
	struct oracle_report r = { .core = sample_core(), .round_time = 1700000000,
				   .ndevices = 3, .devices = DEVS,
				   .nevidence = 2, .evidence = EVID };

	r.core.round = 5;
	r.core.value = 2315;
	r.core.decimals = 2;
	r.core.status = 0;
	memset(r.core.feed_id, 0xaa, 32);
	for (int i = 0; i < 3; i++) {
		memset(DEVS[i].id, 0xd0, 16);
		DEVS[i].id[15] = (uint8_t)i;
		DEVS[i].value = 2310 + 5 * i;
		DEVS[i].weight = 3000000;
	}
	DEVS[2].value = -1;
	DEVS[2].weight = 0;
	DEVS[2].excluded = ORACLE_EXCL_STALE;
	memset(EVID[0], 0xe0, 32);
	memset(EVID[1], 0xe1, 32);
	return r;
}

static uint8_t *encode(const struct oracle_report *r, size_t *len)
{
	uint8_t *buf;

	assert_int_equal(oracle_report_encode(r, 0, NULL, 0, len), -ENOSPC);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(oracle_report_encode(r, 0, buf, *len, len), 0);
	return buf;
}

static uint8_t *find(uint8_t *buf, size_t len, const void *pat, size_t plen)
{
	uint8_t *p = memmem(buf, len, pat, plen);

	assert_non_null(p);
	return p;
}

static void cbor_known_bytes(void **state)
{
	struct oracle_report r = sample_report();
	size_t len;
	uint8_t *b = encode(&r, &len);
	static const uint8_t head[] = { 0xac, 0x01, 0x58, 0x20, 0xaa };
	/* ... feed id, then 02 05 (round 5), 03 19 09 0b (2315),
	 * 04 02 (decimals), 05 00 (status), 06 58 20 22.. */
	static const uint8_t mid[] = { 0xaa, 0x02, 0x05, 0x03, 0x19, 0x09, 0x0b,
				       0x04, 0x02, 0x05, 0x00, 0x06, 0x58, 0x20, 0x22 };
	/* 08 1a 6553f100 (1700000000), 09 83 (3 devices), 84 50 d0.. */
	static const uint8_t rt[] = { 0x08, 0x1a, 0x65, 0x53, 0xf1, 0x00, 0x09, 0x83,
				      0x84, 0x50, 0xd0 };
	/* last device: value -1 = 20, weight 0, excluded 3; then 0a 82 58 20 */
	static const uint8_t last[] = { 0xd0, 0x02, 0x20, 0x00, 0x03, 0x0a, 0x82,
					0x58, 0x20, 0xe0 };
	static const uint8_t tail[] = { 0x0b, 0x50 };

	(void)state;
	assert_memory_equal(b, head, sizeof(head));
	find(b, len, mid, sizeof(mid));
	find(b, len, rt, sizeof(rt));
	find(b, len, last, sizeof(last));
	find(b, len, tail, sizeof(tail));
	assert_int_equal(b[len - 68], 0x0c);	/* key 12 */
	assert_int_equal(b[len - 67], 0x58);	/* bstr, 1-byte length */
	assert_int_equal(b[len - 66], 65);
	free(b);
}

static void cbor_round_trip_and_verify(void **state)
{
	struct oracle_report r = sample_report(), p;
	uint8_t pub[65], *b, *b2;
	size_t len, len2;
	const char *why = NULL;

	(void)state;
	assert_int_equal(oracle_report_seal(&r, &S[3]), 0);
	b = encode(&r, &len);
	assert_int_equal(oracle_report_parse(b, len, &p, &why), 0);
	assert_memory_equal(&p.core, &r.core, sizeof(r.core));
	assert_int_equal(p.round_time, r.round_time);
	assert_int_equal(p.ndevices, 3);
	assert_memory_equal(p.devices, DEVS, sizeof(DEVS));
	assert_int_equal(p.nevidence, 2);
	assert_memory_equal(p.evidence, EVID, sizeof(EVID));
	assert_int_equal(oracle_report_verify(&p, pub, &why), 0);
	assert_memory_equal(pub, S[3].pub, 65);
	b2 = encode(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(b, b2, len);
	/* the evidence root is the Merkle root of [leaf(body), evidence...] */
	uint8_t body[4096], lv[3][32], root[32];
	size_t blen;

	assert_int_equal(oracle_report_encode(&p, 1, body, sizeof(body), &blen), 0);
	assert_int_equal(body[0], 0xa9);	/* map of 9 */
	oracle_merkle_leaf(body, blen, lv[0]);
	memcpy(lv[1], EVID, 64);
	assert_int_equal(oracle_merkle_root((const void *)lv, 3, root), 0);
	assert_memory_equal(root, p.core.evidence_root, 32);
	oracle_report_release(&p);
	free(b);
	free(b2);
}

/* Every field is covered: a changed body, evidence, value or node id fails
 * verification. */
static void cbor_tamper_fails_verify(void **state)
{
	struct oracle_report r = sample_report(), p;
	uint8_t pub[65], *b;
	size_t len;
	const char *why = NULL;

	(void)state;
	assert_int_equal(oracle_report_seal(&r, &S[3]), 0);
	b = encode(&r, &len);
	for (int f = 0; f < 8; f++) {
		assert_int_equal(oracle_report_parse(b, len, &p, &why), 0);
		switch (f) {
		case 0: p.devices[1].weight++; break;
		case 1: p.devices[0].value--; break;
		case 2: p.evidence[1][5] ^= 1; break;
		case 3: p.round_time++; break;
		case 4: p.core.value++; break;
		case 5: p.node_id[0] ^= 1; break;
		case 6: p.core.evidence_root[0] ^= 1; break;
		case 7: p.devices[2].excluded = ORACLE_EXCL_NONE; break;
		}
		assert_int_equal(oracle_report_verify(&p, pub, &why), -EBADMSG);
		oracle_report_release(&p);
	}
	free(b);
}

static int parse_fails(const uint8_t *b, size_t len, const char *want)
{
	struct oracle_report p;
	const char *why = NULL;
	int ret = oracle_report_parse(b, len, &p, &why);

	assert_true(ret < 0);
	assert_non_null(why);
	if (want && strcmp(why, want))
		fail_msg("expected \"%s\", got \"%s\"", want, why);
	assert_null(p.devices);
	return ret;
}

/* Replace n bytes at off with the m bytes of rep. */
static uint8_t *splice(const uint8_t *b, size_t len, size_t off, size_t n,
		       const uint8_t *rep, size_t m, size_t *olen)
{
	uint8_t *o = malloc(len - n + m + 1);

	memcpy(o, b, off);
	memcpy(o + off, rep, m);
	memcpy(o + off + m, b + off + n, len - off - n);
	*olen = len - n + m;
	return o;
}

static void cbor_rejects_non_canonical(void **state)
{
	static const char *noncanon = "not in deterministic encoding (RFC 8949 4.2)";
	struct oracle_report r = sample_report();
	size_t len, ml, off;
	uint8_t *b, *m;

	(void)state;
	assert_int_equal(oracle_report_seal(&r, &S[0]), 0);
	b = encode(&r, &len);
	off = (size_t)(find(b, len, (uint8_t[]){ 0xaa, 0x02, 0x05 }, 3) - b) + 2;

	/* round 5 as 18 05, 19 00 05 */
	m = splice(b, len, off, 1, (uint8_t[]){ 0x18, 0x05 }, 2, &ml);
	parse_fails(m, ml, noncanon);
	free(m);
	m = splice(b, len, off, 1, (uint8_t[]){ 0x19, 0x00, 0x05 }, 3, &ml);
	parse_fails(m, ml, noncanon);
	free(m);
	/* key 2 as 18 02 */
	m = splice(b, len, off - 1, 1, (uint8_t[]){ 0x18, 0x02 }, 2, &ml);
	parse_fails(m, ml, noncanon);
	free(m);
	/* map length 12 as b8 0c */
	m = splice(b, len, 0, 1, (uint8_t[]){ 0xb8, 0x0c }, 2, &ml);
	parse_fails(m, ml, noncanon);
	free(m);
	/* feed id length as 59 00 20 */
	m = splice(b, len, 2, 2, (uint8_t[]){ 0x59, 0x00, 0x20 }, 3, &ml);
	parse_fails(m, ml, noncanon);
	free(m);
	/* indefinite map */
	m = splice(b, len, 0, 1, (uint8_t[]){ 0xbf }, 1, &ml);
	m = realloc(m, ml + 1);
	m[ml++] = 0xff;
	parse_fails(m, ml, "report is not a map");
	free(m);
	/* indefinite byte string for the feed id */
	uint8_t ib[40] = { 0x5f, 0x58, 0x20 };

	memset(ib + 3, 0xaa, 32);
	ib[35] = 0xff;
	m = splice(b, len, 2, 34, ib, 36, &ml);
	parse_fails(m, ml, NULL);
	free(m);
	/* trailing byte, truncation, empty */
	m = splice(b, len, len, 0, (uint8_t[]){ 0x00 }, 1, &ml);
	parse_fails(m, ml, "trailing data after the report");
	free(m);
	for (size_t cut = 0; cut < len; cut += 7)
		parse_fails(b, cut, NULL);
	/* oversized */
	assert_int_equal(parse_fails(b, ORACLE_REPORT_MAX + 1, NULL), -EMSGSIZE);
	free(b);
}

static void cbor_rejects_schema_violations(void **state)
{
	struct oracle_report r = sample_report();
	size_t len, ml, off;
	uint8_t *b, *m;

	(void)state;
	assert_int_equal(oracle_report_seal(&r, &S[0]), 0);
	b = encode(&r, &len);
	off = (size_t)(find(b, len, (uint8_t[]){ 0xaa, 0x02, 0x05 }, 3) - b) + 1;

	/* unknown key 13 instead of 2; keys 3 and 2 swapped (unsorted);
	 * duplicate key 1 */
	m = splice(b, len, off, 1, (uint8_t[]){ 0x0d }, 1, &ml);
	parse_fails(m, ml, "unknown, missing or misordered map key");
	free(m);
	/* swap "02 05" and "03 19 09 0b" */
	m = splice(b, len, off, 6, (uint8_t[]){ 0x03, 0x19, 0x09, 0x0b, 0x02, 0x05 }, 6, &ml);
	parse_fails(m, ml, "unknown, missing or misordered map key");
	free(m);
	m = splice(b, len, off, 1, (uint8_t[]){ 0x01 }, 1, &ml);
	parse_fails(m, ml, "unknown, missing or misordered map key");
	free(m);
	/* wrong types: round as a byte string, text key, negative round,
	 * float, tag, null */
	m = splice(b, len, off + 1, 1, (uint8_t[]){ 0x41, 0x05 }, 2, &ml);
	parse_fails(m, ml, "round is not an unsigned integer");
	free(m);
	m = splice(b, len, off, 1, (uint8_t[]){ 0x61, 0x32 }, 2, &ml);
	parse_fails(m, ml, "map key is not an unsigned integer");
	free(m);
	m = splice(b, len, off + 1, 1, (uint8_t[]){ 0x24 }, 1, &ml);
	parse_fails(m, ml, "round is not an unsigned integer");
	free(m);
	m = splice(b, len, off + 1, 1, (uint8_t[]){ 0xf9, 0x45, 0x00 }, 3, &ml);
	parse_fails(m, ml, "round is not an unsigned integer");
	free(m);
	m = splice(b, len, off + 1, 1, (uint8_t[]){ 0xc1, 0x05 }, 2, &ml);
	parse_fails(m, ml, "round is not an unsigned integer");
	free(m);
	m = splice(b, len, off + 1, 1, (uint8_t[]){ 0xf6 }, 1, &ml);
	parse_fails(m, ml, "round is not an unsigned integer");
	free(m);
	/* feed id 31 bytes; map of 11 */
	m = splice(b, len, 2, 2, (uint8_t[]){ 0x58, 0x1f }, 2, &ml);
	parse_fails(m, ml, NULL);
	free(m);
	m = splice(b, len, 0, 1, (uint8_t[]){ 0xab }, 1, &ml);
	parse_fails(m, ml, "report map does not have exactly 12 keys");
	free(m);
	/* status 7 (unknown), decimals 200, value -2^63 */
	uint8_t *st = find(b, len, (uint8_t[]){ 0x04, 0x02, 0x05, 0x00 }, 4);

	m = splice(b, len, (size_t)(st - b) + 3, 1, (uint8_t[]){ 0x07 }, 1, &ml);
	parse_fails(m, ml, "unknown status code");
	free(m);
	m = splice(b, len, (size_t)(st - b) + 1, 1, (uint8_t[]){ 0x18, 0xc8 }, 2, &ml);
	parse_fails(m, ml, "decimals not an integer in -128..127");
	free(m);
	uint8_t *val = find(b, len, (uint8_t[]){ 0x03, 0x19, 0x09, 0x0b }, 4);

	m = splice(b, len, (size_t)(val - b) + 1, 3, (uint8_t[]){ 0x3b, 0x7f, 0xff,
		   0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9, &ml);
	parse_fails(m, ml, "value is not a 64-bit integer");
	free(m);
	/* device ids out of order: the first device's id made larger */
	uint8_t *d0 = find(b, len, (uint8_t[]){ 0x84, 0x50, 0xd0 }, 3);

	m = splice(b, len, (size_t)(d0 - b) + 2, 1, (uint8_t[]){ 0xd1 }, 1, &ml);
	parse_fails(m, ml, "device ids not strictly increasing");
	free(m);
	/* a device entry of 3 elements */
	m = splice(b, len, (size_t)(d0 - b), 1, (uint8_t[]){ 0x83 }, 1, &ml);
	parse_fails(m, ml, NULL);
	free(m);
	/* a huge array count with no elements behind it */
	uint8_t *dv = find(b, len, (uint8_t[]){ 0x09, 0x83, 0x84 }, 3);

	m = splice(b, len, (size_t)(dv - b) + 1, 1, (uint8_t[]){ 0x9b, 0x7f, 0xff,
		   0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9, &ml);
	parse_fails(m, ml, NULL);
	free(m);
	free(b);
}

static void encode_refuses_bad_reports(void **state)
{
	struct oracle_report r = sample_report();
	size_t len;
	uint8_t buf[8];

	(void)state;
	r.core.status = ORACLE_STATUS_MAX + 1;
	assert_int_equal(oracle_report_encode(&r, 0, NULL, 0, &len), -EINVAL);
	r = sample_report();
	DEVS[1].id[15] = 0;	/* equals device 0 */
	assert_int_equal(oracle_report_encode(&r, 0, NULL, 0, &len), -EINVAL);
	r = sample_report();
	r.core.value = INT64_MIN;
	assert_int_equal(oracle_report_encode(&r, 0, NULL, 0, &len), -EINVAL);
	r = sample_report();
	r.ndevices = ORACLE_AGG_MAX_DEVICES + 1;
	assert_int_equal(oracle_report_encode(&r, 0, NULL, 0, &len), -EINVAL);
	r = sample_report();
	assert_int_equal(oracle_report_encode(&r, 0, buf, sizeof(buf), &len), -ENOSPC);
	assert_true(len > sizeof(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(abi_vector_negative),
		cmocka_unit_test(abi_vector_positive),
		cmocka_unit_test(abi_decode_strict),
		cmocka_unit_test(digest_is_tagged_sha256),
		cmocka_unit_test(node_id_of_generator),
		cmocka_unit_test(sign_recover_round_trip),
		cmocka_unit_test(tampering_rejected),
		cmocka_unit_test(high_s_rejected),
		cmocka_unit_test(quorum_t_of_n),
		cmocka_unit_test(merkle_tree),
		cmocka_unit_test(cbor_known_bytes),
		cmocka_unit_test(cbor_round_trip_and_verify),
		cmocka_unit_test(cbor_tamper_fails_verify),
		cmocka_unit_test(cbor_rejects_non_canonical),
		cmocka_unit_test(cbor_rejects_schema_violations),
		cmocka_unit_test(encode_refuses_bad_reports),
	};

	return cmocka_run_group_tests(tests, setup_signers, teardown_signers);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Report core (Solidity ABI), node signatures, t-of-n and the evidence
 * Merkle root.  See report.h and Documentation/protocol.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "report.h"

/* ------------------------------------------------------------- hashing --- */

static void sha256_2(const void *a, size_t alen, const void *b, size_t blen,
		     const void *c, size_t clen, uint8_t out[ORACLE_HASH_LEN])
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	unsigned int n = 0;

	/* SHA-256 only fails on allocation failure: fail closed (abort). */
	if (!x || !EVP_DigestInit_ex(x, EVP_sha256(), NULL) ||
	    (alen && !EVP_DigestUpdate(x, a, alen)) ||
	    (blen && !EVP_DigestUpdate(x, b, blen)) ||
	    (clen && !EVP_DigestUpdate(x, c, clen)) ||
	    !EVP_DigestFinal_ex(x, out, &n) || n != ORACLE_HASH_LEN)
		abort();
	EVP_MD_CTX_free(x);
}

/* ---------------------------------------------------------------- core --- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A 32-byte word holding a signed value: sign-extended big-endian. */
static void put_word_i64(uint8_t *w, int64_t v)
{
	memset(w, v < 0 ? 0xff : 0x00, 24);
	put_be64(w + 24, (uint64_t)v);
}

void oracle_core_encode(const struct oracle_core *c,
			uint8_t out[ORACLE_CORE_LEN])
{
	memset(out, 0, ORACLE_CORE_LEN);
	memcpy(out, c->feed_id, 32);				/* bytes32 */
	put_be64(out + 32 + 24, c->round);			/* uint64 */
	put_word_i64(out + 64, c->value);			/* int256 */
	put_word_i64(out + 96, c->decimals);			/* int8 */
	out[128 + 31] = c->status;				/* uint8 */
	memcpy(out + 160, c->config_digest, 32);		/* bytes32 */
	memcpy(out + 192, c->evidence_root, 32);		/* bytes32 */
}

static bool all(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

int oracle_core_decode(const uint8_t in[ORACLE_CORE_LEN],
		       struct oracle_core *c)
{
	int64_t v, d;

	if (!all(in + 32, 24, 0) || !all(in + 128, 31, 0))
		return -EBADMSG;
	v = (int64_t)get_be64(in + 64 + 24);
	d = (int64_t)get_be64(in + 96 + 24);
	if (!all(in + 64, 24, v < 0 ? 0xff : 0) ||
	    !all(in + 96, 24, d < 0 ? 0xff : 0) || d < -128 || d > 127)
		return -EBADMSG;
	memset(c, 0, sizeof(*c));
	memcpy(c->feed_id, in, 32);
	c->round = get_be64(in + 32 + 24);
	c->value = v;
	c->decimals = (int8_t)d;
	c->status = in[128 + 31];
	memcpy(c->config_digest, in + 160, 32);
	memcpy(c->evidence_root, in + 192, 32);
	return 0;
}

void oracle_core_digest(const struct oracle_core *c,
			uint8_t digest[ORACLE_HASH_LEN])
{
	uint8_t core[ORACLE_CORE_LEN];

	oracle_core_encode(c, core);
	sha256_2(ORACLE_TAG_CORE, ORACLE_TAG_CORE_LEN, core, sizeof(core),
		 NULL, 0, digest);
}

/* ---------------------------------------------------------- node keys --- */

void oracle_node_id(const uint8_t pub[ORACLE_PUB_LEN],
		    uint8_t id[ORACLE_NODE_ID_LEN])
{
	uint8_t h[ORACLE_HASH_LEN];

	sha256_2(pub, ORACLE_PUB_LEN, NULL, 0, NULL, 0, h);
	memcpy(id, h, ORACLE_NODE_ID_LEN);
}

void oracle_hex(const uint8_t *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
}

int oracle_signer_init(struct oracle_signer *s,
		       const uint8_t seckey[ORACLE_SECKEY_LEN])
{
	secp256k1_context *ctx;
	secp256k1_pubkey pk;
	uint8_t seed[32];
	size_t len = ORACLE_PUB_LEN;

	memset(s, 0, sizeof(*s));
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!ctx)
		return -ENOMEM;
	/* blinding against side channels; not needed for correctness */
	if (RAND_bytes(seed, sizeof(seed)) != 1 ||
	    !secp256k1_context_randomize(ctx, seed)) {
		secp256k1_context_destroy(ctx);
		return -EIO;
	}
	if (!secp256k1_ec_seckey_verify(ctx, seckey) ||
	    !secp256k1_ec_pubkey_create(ctx, &pk, seckey) ||
	    !secp256k1_ec_pubkey_serialize(ctx, s->pub, &len, &pk,
					   SECP256K1_EC_UNCOMPRESSED) ||
	    len != ORACLE_PUB_LEN) {
		secp256k1_context_destroy(ctx);
		return -EINVAL;
	}
	s->ctx = ctx;
	memcpy(s->seckey, seckey, ORACLE_SECKEY_LEN);
	oracle_node_id(s->pub, s->node_id);
	return 0;
}

void oracle_signer_fini(struct oracle_signer *s)
{
	if (s->ctx)
		secp256k1_context_destroy(s->ctx);
	OPENSSL_cleanse(s, sizeof(*s));
}

int oracle_sign_digest(const struct oracle_signer *s,
		       const uint8_t digest[ORACLE_HASH_LEN],
		       uint8_t sig[ORACLE_SIG_LEN])
{
	secp256k1_ecdsa_recoverable_signature rs;
	int recid = -1;

	if (!s->ctx)
		return -EINVAL;
	/* RFC 6979 nonce; libsecp256k1 always returns the low-s form */
	if (!secp256k1_ecdsa_sign_recoverable(s->ctx, &rs, digest, s->seckey,
					      NULL, NULL) ||
	    !secp256k1_ecdsa_recoverable_signature_serialize_compact(
		    s->ctx, sig, &recid, &rs))
		return -EINVAL;
	/* ecrecover takes only v = 27/28; recid 2/3 (x(R) >= n) has
	 * probability about 2^-127 */
	if (recid < 0 || recid > 1)
		return -ERANGE;
	sig[64] = (uint8_t)(27 + recid);
	return 0;
}

int oracle_sign_core(const struct oracle_signer *s, const struct oracle_core *c,
		     uint8_t sig[ORACLE_SIG_LEN])
{
	uint8_t d[ORACLE_HASH_LEN];

	oracle_core_digest(c, d);
	return oracle_sign_digest(s, d, sig);
}

/* n / 2 for secp256k1, big-endian: the largest s accepted. */
static const uint8_t half_n[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d,
	0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

static int bad(const char **why, const char *w)
{
	if (why)
		*why = w;
	return -EBADMSG;
}

int oracle_recover(const uint8_t digest[ORACLE_HASH_LEN],
		   const uint8_t sig[ORACLE_SIG_LEN],
		   uint8_t pub[ORACLE_PUB_LEN], const char **why)
{
	const secp256k1_context *ctx = secp256k1_context_static;
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	size_t len = ORACLE_PUB_LEN;

	if (sig[64] != 27 && sig[64] != 28)
		return bad(why, "signature v is not 27 or 28");
	if (all(sig, 32, 0) || all(sig + 32, 32, 0))
		return bad(why, "signature r or s is zero");
	if (memcmp(sig + 32, half_n, 32) > 0)
		return bad(why, "signature s is high (malleable form)");
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig,
								  sig[64] - 27))
		return bad(why, "signature r or s is not below the group order");
	if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, digest))
		return bad(why, "signature does not recover a public key");
	if (!secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk,
					   SECP256K1_EC_UNCOMPRESSED) ||
	    len != ORACLE_PUB_LEN)
		return bad(why, "recovered key does not serialise");
	return 0;
}

/* -------------------------------------------------------------- t-of-n --- */

size_t oracle_quorum_threshold(size_t nkeys)
{
	return nkeys ? (nkeys - 1) / 3 + 1 : 1;
}

static int inval(const char **why, const char *w)
{
	if (why)
		*why = w;
	return -EINVAL;
}

int oracle_quorum_init(struct oracle_quorum *q, const struct oracle_core *c,
		       const uint8_t (*keys)[ORACLE_PUB_LEN], size_t nkeys,
		       size_t t, const char **why)
{
	secp256k1_pubkey pk;

	memset(q, 0, sizeof(*q));
	if (nkeys > ORACLE_QUORUM_MAX)
		return inval(why, "more whitelisted nodes than supported (64)");
	if (t < 1 || t > nkeys)
		return inval(why, "threshold t outside 1..number of nodes");
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i][0] != 0x04 ||
		    !secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk,
					       keys[i], ORACLE_PUB_LEN))
			return inval(why, "whitelisted key is not an uncompressed secp256k1 point");
		for (size_t j = 0; j < i; j++)
			if (!memcmp(keys[i], keys[j], ORACLE_PUB_LEN))
				return inval(why, "a key is whitelisted twice");
		memcpy(q->keys[i], keys[i], ORACLE_PUB_LEN);
	}
	q->nkeys = nkeys;
	q->t = t;
	oracle_core_digest(c, q->digest);
	return 0;
}

int oracle_quorum_add(struct oracle_quorum *q, const uint8_t sig[ORACLE_SIG_LEN],
		      const char **why)
{
	uint8_t pub[ORACLE_PUB_LEN];
	size_t i;
	int ret;

	ret = oracle_recover(q->digest, sig, pub, why);
	if (ret)
		return ret;
	for (i = 0; i < q->nkeys; i++)
		if (!memcmp(pub, q->keys[i], ORACLE_PUB_LEN))
			break;
	if (i == q->nkeys) {
		if (why)
			*why = "signer is not a whitelisted node";
		return -EPERM;
	}
	if (q->have[i]) {
		if (why)
			*why = "node already signed this report";
		return -EEXIST;
	}
	q->have[i] = true;
	memcpy(q->sigs[i], sig, ORACLE_SIG_LEN);
	q->count++;
	return 0;
}

bool oracle_quorum_final(const struct oracle_quorum *q)
{
	return q->t >= 1 && q->count >= q->t;
}

size_t oracle_quorum_sigs(const struct oracle_quorum *q,
			  uint8_t (*out)[ORACLE_SIG_LEN], size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < q->nkeys && k < max; i++)
		if (q->have[i])
			memcpy(out[k++], q->sigs[i], ORACLE_SIG_LEN);
	return k;
}

/* -------------------------------------------------------------- merkle --- */

void oracle_merkle_leaf(const uint8_t *item, size_t len,
			uint8_t out[ORACLE_HASH_LEN])
{
	static const uint8_t zero = 0x00;

	sha256_2(&zero, 1, item, len, NULL, 0, out);
}

int oracle_merkle_root(const uint8_t (*leaves)[ORACLE_HASH_LEN], size_t n,
		       uint8_t root[ORACLE_HASH_LEN])
{
	static const uint8_t one = 0x01;
	uint8_t (*lv)[ORACLE_HASH_LEN];
	size_t i, m;

	if (!n)
		return -EINVAL;
	lv = malloc(n * ORACLE_HASH_LEN);
	if (!lv)
		return -ENOMEM;
	memcpy(lv, leaves, n * ORACLE_HASH_LEN);
	while (n > 1) {
		for (i = 0, m = 0; i + 1 < n; i += 2, m++)
			sha256_2(&one, 1, lv[i], ORACLE_HASH_LEN, lv[i + 1],
				 ORACLE_HASH_LEN, lv[m]);
		if (n & 1)	/* odd: carried up unchanged */
			memmove(lv[m++], lv[n - 1], ORACLE_HASH_LEN);
		n = m;
	}
	memcpy(root, lv[0], ORACLE_HASH_LEN);
	free(lv);
	return 0;
}

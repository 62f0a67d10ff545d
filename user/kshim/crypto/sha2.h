/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The kernel's lib/crypto SHA-256 interface, implemented with OpenSSL. */
#ifndef ATTESTIO_KSHIM_CRYPTO_SHA2_H
#define ATTESTIO_KSHIM_CRYPTO_SHA2_H
#include <linux/types.h>
/* SHA256_Init() and friends are deprecated in OpenSSL 3 but remain the
 * cheapest streaming interface; this shim is their only user. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#define SHA256_DIGEST_SIZE 32

/* The low-level API is the fastest OpenSSL path for small messages. */
struct sha256_state {
	SHA256_CTX ctx;
};

static inline void sha256_init(struct sha256_state *s)
{
	SHA256_Init(&s->ctx);
}

static inline void sha256_update(struct sha256_state *s, const u8 *d,
				 unsigned int len)
{
	SHA256_Update(&s->ctx, d, len);
}

static inline void sha256_final(struct sha256_state *s, u8 *out)
{
	SHA256_Final(out, &s->ctx);
}

static inline void sha256(const u8 *d, unsigned int len, u8 *out)
{
	SHA256(d, len, out);
}
#endif

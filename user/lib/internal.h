/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libattestio internals shared by the files of user/lib (not installed). */
#ifndef LIBATTESTIO_INTERNAL_H
#define LIBATTESTIO_INTERNAL_H

#include <openssl/evp.h>

#include "libattestio.h"

struct att_key {
	EVP_PKEY *pkey;
	bool origin_checked;	/* TPM object attributes were checked */
	bool simulated;		/* attestio-sim software key (sim.h) */
	uint8_t qn[2 + 64];	/* expected qualifiedSigner, if qn_len */
	size_t qn_len;
	uint8_t *pub;		/* its TPM2B_PUBLIC, if it came as one */
	size_t pub_len;
};

/*
 * Fill @err (may be NULL) with @code and a formatted message; returns @code.
 * att_rerr() also names the record (stream/seq).
 */
int att_err(struct att_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int att_rerr(struct att_err *err, int code, uint32_t stream, uint64_t seq,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The EVP_PKEY behind a key (owned by the key). */
static inline EVP_PKEY *att_key_pkey(const struct att_key *k)
{
	return k ? k->pkey : NULL;
}

/* A TPMT_SIGNATURE by @key over SHA-256 (or the scheme's hash) of @attest. */
struct TPMT_SIGNATURE;
int att_sig_verify(const struct att_key *key, const uint8_t *attest,
		   size_t attest_len, const struct TPMT_SIGNATURE *ts,
		   struct att_err *err);

/* Wrap an EVP_PKEY (takes ownership on success). */
int att_key_wrap(EVP_PKEY *pkey, struct att_key **out, struct att_err *err);

/* measure.c: attestio's certify-only AK policy on a TPM2B_PUBLIC? */
bool att_tpm2b_certify_only(const uint8_t *pub, size_t len);
/*
 * A checkpoint's quote under a boot's evidence: signed by its session key
 * over @digest, and PCR 13 proves that key the only one (see
 * att_mlog_check_quote()).  @pol receives the quote as a firmware policy
 * judges it: the other selected PCRs and their digest.
 */
int att_boot_quote(const struct att_boot *b, uint64_t instance,
		   const uint8_t *attest, size_t attest_len,
		   const uint8_t *sig, size_t sig_len, const uint8_t *digest,
		   size_t digest_len, struct att_quote_info *qi,
		   struct att_quote_info *pol, struct att_err *err);

#endif

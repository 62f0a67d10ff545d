// SPDX-License-Identifier: GPL-2.0
/*
 * The chain's hash on the per-record path, through the fastest SHA-256
 * the CPU has: the crypto API's "sha256" (sha256-ni, sha256-avx2, ... by
 * priority), allocated once at load.  Callers are in process context (the
 * drain worker, the poll work, epochs, attach), where the SIMD
 * implementations may run.  Where the crypto API offers nothing better
 * than the generic C, record.c's SHA-256 library does the work: the same
 * digest without the indirection.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <linux/err.h>
#include <linux/kmod.h>
#include <linux/string.h>

#include "attestio.h"

static struct crypto_shash *attestio_sha256;
static const u8 attestio_hash_tag[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_CHAIN;

int attestio_hash_init(void)
{
	struct crypto_shash *tfm;

	/* SIMD drivers are modules that nothing else may have loaded yet */
	request_module("crypto-sha256");
	tfm = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(tfm)) {
		pr_info("chain hash: SHA-256 library (no crypto API sha256: %ld)\n",
			PTR_ERR(tfm));
		return 0;
	}
	if (!strcmp(crypto_shash_driver_name(tfm), "sha256-generic")) {
		crypto_free_shash(tfm);
		pr_info("chain hash: SHA-256 library (no accelerated sha256)\n");
		return 0;
	}
	attestio_sha256 = tfm;
	pr_info("chain hash: %s\n", crypto_shash_driver_name(tfm));
	return 0;
}

void attestio_hash_uninit(void)
{
	if (attestio_sha256)
		crypto_free_shash(attestio_sha256);
	attestio_sha256 = NULL;
}

/* What hashes the chain: a crypto API driver name, or "library". */
const char *attestio_hash_name(void)
{
	return attestio_sha256 ? crypto_shash_driver_name(attestio_sha256) :
				 "library";
}

/*
 * head = SHA-256(chain tag || head || rec), as attestio_chain_extend().
 * Process context.
 */
void attestio_hash_extend(u8 head[ATTESTIO_HASH_LEN], const void *rec,
			  u32 len)
{
	u8 out[ATTESTIO_HASH_LEN];
	int ret;

	if (!attestio_sha256) {
		attestio_chain_extend(head, rec, len);
		return;
	}
	{
		SHASH_DESC_ON_STACK(desc, attestio_sha256);

		desc->tfm = attestio_sha256;
		ret = crypto_shash_init(desc) ?:
		      crypto_shash_update(desc, attestio_hash_tag,
					  ATTESTIO_TAG_LEN) ?:
		      crypto_shash_update(desc, head, ATTESTIO_HASH_LEN) ?:
		      crypto_shash_update(desc, rec, len) ?:
		      crypto_shash_final(desc, out);
		shash_desc_zero(desc);
	}
	if (ret) {
		pr_warn_ratelimited("%s failed (%d): library SHA-256 instead\n",
				    attestio_hash_name(), ret);
		attestio_chain_extend(head, rec, len);
		return;
	}
	memcpy(head, out, ATTESTIO_HASH_LEN);
}

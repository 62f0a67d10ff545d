// SPDX-License-Identifier: GPL-2.0
/*
 * The chain's hash on the per-record path, through the fastest SHA-256
 * the CPU has.  At load both candidates hash the same record: the crypto
 * API's "sha256" (sha256-ni, sha256-avx2, ... by priority) and record.c's
 * SHA-256 library (the same digest without the indirection); the faster
 * one hashes the chain from then on, and /sys/kernel/attestio/hash shows
 * the choice and both figures.  Callers are in process context (the drain
 * worker, the poll work, epochs, attach), where the SIMD implementations
 * may run.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <linux/err.h>
#include <linux/kmod.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sysfs.h>
#include <linux/string.h>

#include "attestio.h"

static struct crypto_shash *attestio_sha256;
static const u8 attestio_hash_tag[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_CHAIN;

/* The load-time probe: a typical sample record, hashed this often. */
#define ATTESTIO_HASH_PROBE_LEN 96
#define ATTESTIO_HASH_PROBE_N 64
static u32 attestio_hash_ns_api;	/* per record; 0: not measured */
static u32 attestio_hash_ns_lib;
static char attestio_hash_api_name[CRYPTO_MAX_ALG_NAME];

/* head = SHA-256(chain tag || head || rec) through @tfm */
static int attestio_hash_shash(struct crypto_shash *tfm,
			       u8 head[ATTESTIO_HASH_LEN], const void *rec,
			       u32 len)
{
	u8 out[ATTESTIO_HASH_LEN];
	int ret;

	{
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		ret = crypto_shash_init(desc) ?:
		      crypto_shash_update(desc, attestio_hash_tag,
					  ATTESTIO_TAG_LEN) ?:
		      crypto_shash_update(desc, head, ATTESTIO_HASH_LEN) ?:
		      crypto_shash_update(desc, rec, len) ?:
		      crypto_shash_final(desc, out);
		shash_desc_zero(desc);
	}
	if (!ret)
		memcpy(head, out, ATTESTIO_HASH_LEN);
	return ret;
}

/*
 * ns per chain extend of the probe record through @tfm (NULL: the
 * library), the best of 3 rounds; 0 if the crypto API failed.
 */
static u32 attestio_hash_probe(struct crypto_shash *tfm)
{
	u8 rec[ATTESTIO_HASH_PROBE_LEN], head[ATTESTIO_HASH_LEN] = { 0 };
	u64 t, best = U64_MAX;
	int r, i;

	memset(rec, 0x5a, sizeof(rec));
	for (r = 0; r < 3; r++) {
		t = ktime_get_ns();
		for (i = 0; i < ATTESTIO_HASH_PROBE_N; i++) {
			if (!tfm)
				attestio_chain_extend(head, rec, sizeof(rec));
			else if (attestio_hash_shash(tfm, head, rec, sizeof(rec)))
				return 0;
		}
		best = min(best, ktime_get_ns() - t);
	}
	return max_t(u32, 1, div_u64(best, ATTESTIO_HASH_PROBE_N));
}

int attestio_hash_init(void)
{
	struct crypto_shash *tfm;

	/* SIMD drivers are modules that nothing else may have loaded yet */
	request_module("crypto-sha256");
	attestio_hash_ns_lib = attestio_hash_probe(NULL);
	tfm = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(tfm)) {
		pr_info("chain hash: SHA-256 library, %u ns/record (no crypto API sha256: %ld)\n",
			attestio_hash_ns_lib, PTR_ERR(tfm));
		return 0;
	}
	strscpy(attestio_hash_api_name, crypto_shash_driver_name(tfm),
		sizeof(attestio_hash_api_name));
	attestio_hash_ns_api = attestio_hash_probe(tfm);
	if (!attestio_hash_ns_api ||
	    attestio_hash_ns_api >= attestio_hash_ns_lib) {
		crypto_free_shash(tfm);
		pr_info("chain hash: SHA-256 library, %u ns/record (%s: %u)\n",
			attestio_hash_ns_lib, attestio_hash_api_name,
			attestio_hash_ns_api);
		return 0;
	}
	attestio_sha256 = tfm;
	pr_info("chain hash: %s, %u ns/record (library: %u)\n",
		attestio_hash_api_name, attestio_hash_ns_api,
		attestio_hash_ns_lib);
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
	int ret;

	if (!attestio_sha256) {
		attestio_chain_extend(head, rec, len);
		return;
	}
	ret = attestio_hash_shash(attestio_sha256, head, rec, len);
	if (ret) {
		pr_warn_ratelimited("%s failed (%d): library SHA-256 instead\n",
				    attestio_hash_name(), ret);
		attestio_chain_extend(head, rec, len);
	}
}

/*
 * "NAME (load-time probe: crypto API DRIVER N ns, library M ns per
 * 96-byte record)": what hashes the chain and why.
 */
int attestio_hash_describe(char *buf)
{
	if (!attestio_hash_api_name[0])
		return sysfs_emit(buf,
				  "%s (load-time probe: no crypto API sha256, library %u ns per %u-byte record)\n",
				  attestio_hash_name(), attestio_hash_ns_lib,
				  ATTESTIO_HASH_PROBE_LEN);
	return sysfs_emit(buf,
			  "%s (load-time probe: crypto API %s %u ns, library %u ns per %u-byte record)\n",
			  attestio_hash_name(), attestio_hash_api_name,
			  attestio_hash_ns_api, attestio_hash_ns_lib,
			  ATTESTIO_HASH_PROBE_LEN);
}

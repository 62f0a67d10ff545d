// SPDX-License-Identifier: GPL-2.0
/*
 * attestio_bench: attestio.ko's per-record drain path, measured in the
 * kernel against the kernel's fastest SHA-256 of the same bytes.
 *
 * The module is linked from attestio's own emit.c, hash.c, record.c and
 * log.c, so the path is the module's code: attestio_emit_sample() on a
 * stream of its own (encode, zero the padding, header, chain hash through
 * hash.c, append to a log of its own, counters, tracepoint), under the
 * stream's emit_lock.  The baseline is crypto_shash_digest() of a buffer
 * as long as what the chain step hashes (16 B tag, 32 B head, the record)
 * through the highest-priority "sha256" the crypto API has; the library
 * SHA-256 (the module's hash before) is measured too.  Results go to the
 * kernel log, one line per scan size; tests/bench/guest-kernel.sh loads
 * it in a guest (never with attestio.ko loaded: both define its
 * tracepoints) and removes it again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/kmod.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "attestio.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

static unsigned int iterations = 20000;
module_param(iterations, uint, 0444);
/* Scan sizes in bytes, as in bench_record: 16 (a channel + timestamp), 256. */
static unsigned int scans[4] = { 16, 256 };
static int nscans = 2;
module_param_array(scans, uint, &nscans, 0444);

struct bench {
	struct attestio_stream *s;
	struct attestio_slot *slot;
	struct crypto_shash *fastest;
	u8 *buf;
};

/* ns per record of attestio_emit_sample() for a scan of @bytes. */
static u64 bench_path(struct bench *b, u32 bytes, u32 *len)
{
	struct attestio_stream *s = b->s;
	u64 t0, t1;
	u32 i;

	s->scan_bytes = bytes;
	s->has_ts = true;
	s->ts_offset = bytes - 8;
	memset(s->scan_keep, 0xff, sizeof(s->scan_keep));
	memset(b->slot->scan, 0x5a, bytes);
	mutex_lock(&s->emit_lock);
	attestio_emit_sample(s, b->slot);	/* warm up */
	t0 = ktime_get_ns();
	for (i = 0; i < iterations; i++)
		attestio_emit_sample(s, b->slot);
	t1 = ktime_get_ns();
	*len = attestio_rec_len(sizeof(struct attestio_sample) + bytes);
	mutex_unlock(&s->emit_lock);
	return div_u64(t1 - t0, iterations);
}

/* ns per one-shot digest of @len bytes by the fastest crypto API sha256. */
static u64 bench_fastest(struct bench *b, u32 len)
{
	SHASH_DESC_ON_STACK(desc, b->fastest);
	u8 out[SHA256_DIGEST_SIZE];
	u64 t0, t1;
	u32 i;

	desc->tfm = b->fastest;
	crypto_shash_digest(desc, b->buf, len, out);
	t0 = ktime_get_ns();
	for (i = 0; i < iterations; i++)
		crypto_shash_digest(desc, b->buf, len, out);
	t1 = ktime_get_ns();
	shash_desc_zero(desc);
	return div_u64(t1 - t0, iterations);
}

/* ns per library sha256() of @len bytes (the generic C). */
static u64 bench_library(struct bench *b, u32 len)
{
	u8 out[SHA256_DIGEST_SIZE];
	u64 t0, t1;
	u32 i;

	t0 = ktime_get_ns();
	for (i = 0; i < iterations; i++)
		sha256(b->buf, len, out);
	t1 = ktime_get_ns();
	return div_u64(t1 - t0, iterations);
}

static void bench_run(struct bench *b)
{
	u64 path, fast, lib;
	u32 bytes, len, hashed;
	int i;

	for (i = 0; i < nscans; i++) {
		bytes = clamp_t(u32, ALIGN(scans[i], 8), 16,
				ATTESTIO_MAX_SCAN_BYTES);
		path = bench_path(b, bytes, &len);
		hashed = ATTESTIO_TAG_LEN + ATTESTIO_HASH_LEN + len;
		fast = bench_fastest(b, hashed);
		lib = bench_library(b, hashed);
		pr_info("scan=%u rec=%u hashed=%u n=%u hash=%s fastest=%s path_ns=%llu fastest_ns=%llu library_ns=%llu ratio=%llu.%02llu library_ratio=%llu.%02llu\n",
			bytes, len, hashed, iterations, attestio_hash_name(),
			crypto_shash_driver_name(b->fastest), path, fast, lib,
			div_u64(path * 100, fast ?: 1) / 100,
			div_u64(path * 100, fast ?: 1) % 100,
			div_u64(lib * 100, fast ?: 1) / 100,
			div_u64(lib * 100, fast ?: 1) % 100);
	}
}

static int __init bench_init(void)
{
	struct bench b = { };
	int ret;

	ret = attestio_hash_init();
	if (ret)
		return ret;
	ret = attestio_log_init(1024);
	if (ret)
		goto err_uninit_hash;
	b.fastest = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(b.fastest)) {
		ret = PTR_ERR(b.fastest);
		goto err_uninit_log;
	}
	ret = -ENOMEM;
	b.s = kzalloc(sizeof(*b.s), GFP_KERNEL);
	if (!b.s)
		goto err_free_fastest;
	mutex_init(&b.s->emit_lock);
	b.s->scratch = kmalloc(ATTESTIO_REC_MAX_LEN, GFP_KERNEL);
	if (!b.s->scratch)
		goto err_free_stream;
	b.slot = kzalloc(sizeof(*b.slot) + ATTESTIO_MAX_SCAN_BYTES, GFP_KERNEL);
	if (!b.slot)
		goto err_free_scratch;
	b.buf = kzalloc(ATTESTIO_REC_MAX_LEN, GFP_KERNEL);
	if (!b.buf)
		goto err_free_slot;

	bench_run(&b);
	ret = 0;

	kfree(b.buf);
err_free_slot:
	kfree(b.slot);
err_free_scratch:
	kfree(b.s->scratch);
err_free_stream:
	kfree(b.s);
err_free_fastest:
	crypto_free_shash(b.fastest);
err_uninit_log:
	attestio_log_uninit();
err_uninit_hash:
	attestio_hash_uninit();
	return ret;
}

static void __exit bench_exit(void)
{
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("In-kernel benchmark of attestio's per-record drain path");

// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace microbenchmark of attestio's per-sample kernel path, built from
 * the very same kernel/record.c the module uses (through user/kshim).
 *
 * Path, per sample (mimics kernel/stream.c and kernel/log.c):
 *   capture: two clock reads (CLOCK_BOOTTIME, CLOCK_REALTIME) and a memcpy
 *            of the scan into the next slot of a 1024-slot ring;
 *   drain:   attestio_sample_encode() into a scratch buffer,
 *            attestio_chain_extend() over the record,
 *            append the record to a 4 MiB byte ring (memcpy with wrap).
 * Capture fills the whole slot ring, then drain empties it (a burst, as when
 * the drain worker runs after the ring has filled up).  No locks, no
 * workqueue, no tracepoint: those are kernel costs this does not model.
 *
 * Baseline: one OpenSSL SHA256() one-shot over as many bytes as the chain
 * step hashes per sample (tag + previous head + record), measured in the
 * same process right after the path.  Secondary reference: the same bytes
 * through the low-level SHA256_Init/Update/Final, i.e. the bare hashing
 * the path cannot avoid (OpenSSL 3's SHA256() adds a per-call EVP fetch and
 * context set-up on top of it).
 *
 * Output: one line per scan size (key=value):
 *   scan=16 rec=72 path_ns=... capture_ns=... drain_ns=... base_bytes=120
 *   base_ns=... ratio=<path/base> hash_ns=... ratio_hash=<path/hash>
 * Every figure is the median over RUNS runs of at least MIN_RUN_NS each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* record.h first: its kshim sha2.h sets up OpenSSL's sha.h. */
#include "record.h"

#include <openssl/sha.h>

#define NSLOTS		1024
#define LOG_SIZE	(4u << 20)
#define RUNS		5
#define MIN_RUN_NS	300000000ULL	/* 0.3 s */

struct slot {
	u64 boottime_ns;
	u64 realtime_ns;
	u64 lost_before;
	u8 scan[];
};

static u8 *ring;
static u32 slot_size;
static u8 *logbuf;
static u64 log_head;
static u8 scratch[ATTESTIO_REC_MAX_LEN];
static u8 head[ATTESTIO_HASH_LEN];
static u64 seq;
static volatile u8 sink;

static u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static u64 now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static struct slot *slot_at(u32 i)
{
	return (struct slot *)(ring + (size_t)(i & (NSLOTS - 1)) * slot_size);
}

static void log_append(const void *rec, u32 len)
{
	u32 off = log_head & (LOG_SIZE - 1);
	u32 first = len < LOG_SIZE - off ? len : LOG_SIZE - off;

	memcpy(logbuf + off, rec, first);
	memcpy(logbuf, (const u8 *)rec + first, len - first);
	log_head += len;
}

/* Like attestio_capture(): called once per scan the driver pushes. */
static void capture(u32 i, const u8 *scan, u32 scan_len)
{
	struct slot *s = slot_at(i);

	s->boottime_ns = clock_ns(CLOCK_BOOTTIME);
	s->realtime_ns = clock_ns(CLOCK_REALTIME);
	s->lost_before = 0;
	memcpy(s->scan, scan, scan_len);
}

/* Like attestio_emit_sample() + attestio_stream_emit(). */
static void drain_one(u32 i, u32 scan_len)
{
	const struct slot *s = slot_at(i);
	struct attestio_rec_info info = {
		.stream = 0,
		.boottime_ns = s->boottime_ns,
		.realtime_ns = s->realtime_ns,
	};
	s64 ts;
	u32 len;

	memcpy(&ts, s->scan + 8, sizeof(ts));	/* IIO timestamp at offset 8 */
	info.seq = seq++;
	len = attestio_sample_encode(scratch, sizeof(scratch), &info, ts,
				     s->scan, scan_len);
	if (!len) {
		fprintf(stderr, "bench_record: encode failed\n");
		exit(1);
	}
	attestio_chain_extend(head, scratch, len);
	log_append(scratch, len);
}

/* One batch = fill the slot ring, then drain it.  Times both halves. */
static void batch(u8 *scan, u32 scan_len, u64 *t_cap, u64 *t_drain)
{
	u64 t0, t1, t2;
	u32 i;

	t0 = now();
	for (i = 0; i < NSLOTS; i++) {
		scan[0] = (u8)i;	/* a fresh value per scan */
		capture(i, scan, scan_len);
	}
	t1 = now();
	for (i = 0; i < NSLOTS; i++)
		drain_one(i, scan_len);
	t2 = now();
	*t_cap += t1 - t0;
	*t_drain += t2 - t1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_path(u32 scan_len, double *path, double *cap, double *drain)
{
	double p[RUNS], c[RUNS], d[RUNS];
	u8 scan[ATTESTIO_MAX_SCAN_BYTES];
	u64 t_cap, t_drain, n;
	int r;

	for (r = 0; r < (int)scan_len; r++)
		scan[r] = (u8)(r * 7 + 1);
	for (r = 0; r < 4; r++) {	/* warm up caches and the log ring */
		t_cap = t_drain = 0;
		batch(scan, scan_len, &t_cap, &t_drain);
	}
	for (r = 0; r < RUNS; r++) {
		t_cap = t_drain = n = 0;
		while (t_cap + t_drain < MIN_RUN_NS) {
			batch(scan, scan_len, &t_cap, &t_drain);
			n += NSLOTS;
		}
		p[r] = (double)(t_cap + t_drain) / n;
		c[r] = (double)t_cap / n;
		d[r] = (double)t_drain / n;
	}
	*path = median(p, RUNS);
	*cap = median(c, RUNS);
	*drain = median(d, RUNS);
}

/*
 * Time @bytes-long hashes, one per iteration, each input depending on the
 * previous digest.  @oneshot: OpenSSL's SHA256() (the baseline); else the
 * low-level SHA256_Init/Update/Final that user/kshim maps the kernel's
 * sha256_*() onto (what the path itself pays for hashing).
 */
static double bench_hash(u32 bytes, int oneshot)
{
	u8 buf[ATTESTIO_REC_MAX_LEN + 64], md[SHA256_DIGEST_LENGTH] = { 0 };
	double v[RUNS];
	SHA256_CTX ctx;
	u64 t0, t, n;
	u32 i;
	int r;

	for (i = 0; i < bytes; i++)
		buf[i] = (u8)(i * 13 + 5);
	for (r = 0; r < RUNS; r++) {
		n = 0;
		t0 = now();
		do {
			for (i = 0; i < NSLOTS; i++) {
				buf[0] = (u8)i;
				buf[1] = md[0];
				if (oneshot) {
					SHA256(buf, bytes, md);
				} else {
					SHA256_Init(&ctx);
					SHA256_Update(&ctx, buf, bytes);
					SHA256_Final(md, &ctx);
				}
			}
			n += NSLOTS;
			t = now() - t0;
		} while (t < MIN_RUN_NS);
		v[r] = (double)t / n;
	}
	sink = md[0];
	return median(v, RUNS);
}

int main(int argc, char **argv)
{
	static const u32 def_sizes[] = { 16, 256 };
	u32 sizes[8], nsizes = 0, k;
	double path, cap, drain, base, hash;

	for (k = 1; k < (u32)argc && nsizes < 8; k++) {
		char *end;
		unsigned long v = strtoul(argv[k], &end, 0);

		if (*end || v < 16 || v > ATTESTIO_MAX_SCAN_BYTES) {
			fprintf(stderr,
				"usage: bench_record [SCAN_BYTES...] (16..%d; default 16 256)\n",
				ATTESTIO_MAX_SCAN_BYTES);
			return 2;
		}
		sizes[nsizes++] = (u32)v;
	}
	if (!nsizes) {
		memcpy(sizes, def_sizes, sizeof(def_sizes));
		nsizes = 2;
	}

	logbuf = calloc(1, LOG_SIZE);
	if (!logbuf)
		return 1;
	attestio_chain_genesis(head, 0x0123456789abcdefULL, 0, 0);

	for (k = 0; k < nsizes; k++) {
		u32 scan_len = sizes[k];
		u32 rec = attestio_rec_len(sizeof(struct attestio_sample) + scan_len);
		u32 hashed = ATTESTIO_TAG_LEN + ATTESTIO_HASH_LEN + rec;

		slot_size = attestio_rec_align(sizeof(struct slot) + scan_len);
		free(ring);
		ring = calloc(NSLOTS, slot_size);
		if (!ring)
			return 1;
		bench_path(scan_len, &path, &cap, &drain);
		base = bench_hash(hashed, 1);
		hash = bench_hash(hashed, 0);
		printf("scan=%u rec=%u path_ns=%.1f capture_ns=%.1f drain_ns=%.1f "
		       "base_bytes=%u base_ns=%.1f ratio=%.2f hash_ns=%.1f "
		       "ratio_hash=%.2f\n",
		       scan_len, rec, path, cap, drain, hashed, base, path / base,
		       hash, path / hash);
		fflush(stdout);
	}
	sink ^= logbuf[log_head & (LOG_SIZE - 1)] ^ head[0];
	free(ring);
	free(logbuf);
	return 0;
}

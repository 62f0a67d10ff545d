/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Builds crypto-agile TCG boot event logs event by event for the tests of
 * libattestio's parser (test_eventlog) and of the oracle's explanation of
 * a PCR policy mismatch (test_oracled_ingest).  Needs cmocka and
 * <openssl/sha.h> included first.
 */
#ifndef ATTESTIO_TEST_EVENTLOG_BUILD_H
#define ATTESTIO_TEST_EVENTLOG_BUILD_H

struct lb {
	uint8_t b[4096];
	size_t n;
};

static inline void put(struct lb *l, const void *p, size_t n)
{
	assert_true(l->n + n <= sizeof(l->b));
	memcpy(l->b + l->n, p, n);
	l->n += n;
}

static inline void put32(struct lb *l, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(l, b, 4);
}

static inline void put16(struct lb *l, uint16_t v)
{
	uint8_t b[2] = { v, v >> 8 };

	put(l, b, 2);
}

/* The Spec ID event: SHA-1 (20) then SHA-256 (32), vendor info 0. */
static inline void spec_id(struct lb *l)
{
	static const uint8_t zero[20];

	put32(l, 0);
	put32(l, 3);
	put(l, zero, 20);
	put32(l, 16 + 4 + 4 + 4 + 8 + 1);
	put(l, "Spec ID Event03", 16);
	put32(l, 0);			/* platformClass */
	put(l, "\x00\x02\x00\x02", 4);	/* minor 0, major 2, errata 0, uintn 2 */
	put32(l, 2);
	put16(l, 0x0004);
	put16(l, 20);
	put16(l, 0x000b);
	put16(l, 32);
	put(l, "", 1);			/* vendorInfoSize 0 */
}

/* One TCG_PCR_EVENT2 whose SHA-256 digest is SHA-256(@data). */
static inline void event(struct lb *l, uint32_t pcr, uint32_t type, const char *data)
{
	uint8_t d1[20] = { 0 }, d2[32];

	SHA256((const uint8_t *)data, strlen(data), d2);
	put32(l, pcr);
	put32(l, type);
	put32(l, 2);
	put16(l, 0x0004);
	put(l, d1, 20);
	put16(l, 0x000b);
	put(l, d2, 32);
	put32(l, (uint32_t)strlen(data));
	put(l, data, strlen(data));
}

static inline void extend(uint8_t pcr[32], const char *data)
{
	uint8_t b[64];

	memcpy(b, pcr, 32);
	SHA256((const uint8_t *)data, strlen(data), b + 32);
	SHA256(b, 64, pcr);
}

/* locality 3 start, S-CRTM in PCR 0, two applications in PCR 4, a
 * separator in PCR 7 and a non-extending EV_NO_ACTION */
static inline void sample(struct lb *l, const char *app2)
{
	memset(l, 0, sizeof(*l));
	spec_id(l);
	put32(l, 0);
	put32(l, 3);
	put32(l, 2);
	put16(l, 0x0004);
	put(l, (uint8_t[20]){ 0 }, 20);
	put16(l, 0x000b);
	put(l, (uint8_t[32]){ 0 }, 32);
	put32(l, 17);
	put(l, "StartupLocality\0\x03", 17);
	event(l, 0, 8, "S-CRTM version");
	event(l, 4, 0x80000003, "shim");
	event(l, 4, 0x80000003, app2);
	event(l, 7, 4, "separator");
	event(l, 1, 3, "not extended");
}

/* the PCRs @l replays to, as evidence carries them (24 x 32 bytes) */
static inline void sample_pcrs(const struct lb *l, uint8_t out[24 * 32])
{
	uint8_t rp[ATT_EVENTLOG_PCRS][32];
	struct att_eventlog el;
	uint32_t touched;

	assert_int_equal(att_eventlog_parse(l->b, l->n, &el, NULL), 0);
	att_eventlog_replay(&el, rp, &touched);
	att_eventlog_free(&el);
	memcpy(out, rp, sizeof(rp));
}

#endif

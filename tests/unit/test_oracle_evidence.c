// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the gateway evidence codec (user/oracle/evidence.c,
 * Documentation/protocol.md "Evidence"): the exact bytes, a round trip,
 * and every way the strict parser must refuse a message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evidence.h"

static uint8_t mlog[40], pcrs[ORACLE_EV_PCRS_LEN], boot[3] = { 1, 2, 3 };
static uint8_t buf[4096];
static size_t blen;

static void sample(struct oracle_evidence *e)
{
	memset(e, 0, sizeof(*e));
	for (int i = 0; i < 16; i++)
		e->gw[i] = (uint8_t)(0xa0 + i);
	e->time = 1798761600;
	e->mlog = mlog;
	e->mlog_len = sizeof(mlog);
	e->pcrs = pcrs;
	e->pcrs_len = sizeof(pcrs);
	e->boot_log = boot;
	e->boot_log_len = sizeof(boot);
}

static int setup(void **st)
{
	struct oracle_evidence e;

	(void)st;
	for (size_t i = 0; i < sizeof(mlog); i++)
		mlog[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(pcrs); i++)
		pcrs[i] = (uint8_t)(i * 7);
	sample(&e);
	return oracle_evidence_encode(&e, buf, sizeof(buf), &blen);
}

static void t_bytes(void **st)
{
	static const uint8_t head[] = {
		0xa6, 0x01, 0x50, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
		0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0x02, 0x1a, 0x6b, 0x36, 0xec, 0x80,	/* 1798761600 */
		0x03, 0x58, 0x28,			/* mlog: 40 bytes */
	};
	size_t off = sizeof(head) + sizeof(mlog);

	(void)st;
	assert_memory_equal(buf, head, sizeof(head));
	assert_memory_equal(buf + sizeof(head), mlog, sizeof(mlog));
	assert_int_equal(buf[off], 0x04);
	assert_int_equal(buf[off + 1], 0x59);	/* bstr, 2-byte length */
	assert_int_equal(buf[off + 2], 0x03);
	assert_int_equal(buf[off + 3], 0x00);	/* 768 */
	off += 4 + sizeof(pcrs);
	assert_int_equal(buf[off], 0x05);
	assert_int_equal(buf[off + 1], 0x43);
	off += 2 + sizeof(boot);
	assert_int_equal(buf[off], 0x06);
	assert_int_equal(buf[off + 1], 0x40);	/* no IMA log */
	assert_int_equal(blen, off + 2);
}

static void t_roundtrip(void **st)
{
	struct oracle_evidence e;
	const char *why = NULL;

	(void)st;
	assert_int_equal(0, oracle_evidence_parse(buf, blen, &e, &why));
	assert_int_equal(e.time, 1798761600);
	assert_int_equal(e.mlog_len, sizeof(mlog));
	assert_memory_equal(e.mlog, mlog, sizeof(mlog));
	assert_int_equal(e.pcrs_len, sizeof(pcrs));
	assert_memory_equal(e.pcrs, pcrs, sizeof(pcrs));
	assert_int_equal(e.boot_log_len, 3);
	assert_int_equal(e.ima_log_len, 0);
	/* without PCR values: allowed (a quote over other PCRs then fails) */
	sample(&e);
	e.pcrs = NULL;
	e.pcrs_len = 0;
	{
		uint8_t b2[4096];
		size_t l2 = 0;

		assert_int_equal(0, oracle_evidence_encode(&e, b2, sizeof(b2), &l2));
		assert_int_equal(0, oracle_evidence_parse(b2, l2, &e, &why));
		assert_int_equal(0, e.pcrs_len);
	}
}

static void refuse(const uint8_t *b, size_t n, const char *want)
{
	struct oracle_evidence e;
	const char *why = NULL;

	assert_int_equal(-EBADMSG, oracle_evidence_parse(b, n, &e, &why));
	assert_non_null(why);
	if (want)
		assert_string_equal(why, want);
	assert_null(e.mlog);	/* nothing half-parsed is left */
}

static void t_refusals(void **st)
{
	uint8_t b[4096];
	struct oracle_evidence e;
	size_t n;

	(void)st;
	refuse(buf, blen - 1, "truncated");
	memcpy(b, buf, blen);
	b[blen] = 0;
	refuse(b, blen + 1, "trailing bytes");
	memcpy(b, buf, blen);
	b[0] = 0xa5;
	refuse(b, blen, "evidence map must have exactly 6 keys");
	memcpy(b, buf, blen);
	b[0] = 0xbf;	/* indefinite map */
	refuse(b, blen, "indefinite or reserved length");
	memcpy(b, buf, blen);
	b[1] = 0x02;	/* key 2 first */
	refuse(b, blen, "missing, unknown or misordered key");
	memcpy(b, buf, blen);
	b[2] = 0x4f;	/* 15-byte gateway id */
	refuse(b, blen, NULL);
	/* time in a longer form than needed: not canonical */
	n = 0;
	memcpy(b, buf, 20);
	b[n = 20] = 0x1b;
	memset(b + 21, 0, 4);
	memcpy(b + 25, buf + 21, blen - 21);
	refuse(b, blen + 4, "not in canonical (deterministic) encoding");
	/* PCR values of another length */
	sample(&e);
	e.pcrs_len = 100;
	assert_int_equal(-EINVAL, oracle_evidence_encode(&e, b, sizeof(b), &n));
	memcpy(b, buf, blen);
	{
		size_t off = 28 + sizeof(mlog);	/* the PCRs' bstr head */

		b[off + 2] = 0x02;	/* 512 bytes */
		refuse(b, blen, NULL);
	}
	/* a measurement log longer than 1 MiB is refused before reading it */
	memcpy(b, buf, 26);
	b[26] = 0x5a;	/* bstr, 4-byte length */
	b[27] = 0x00; b[28] = 0x10; b[29] = 0x00; b[30] = 0x01;
	refuse(b, 31, "byte string too long");
	refuse(NULL, 0, NULL);
	/* a text string where a byte string belongs */
	memcpy(b, buf, blen);
	b[2] = 0x70;
	refuse(b, blen, "unexpected CBOR type");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_bytes),
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_refusals),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

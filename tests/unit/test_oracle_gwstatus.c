// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the gateway status report (user/oracle/gwstatus.c):
 * exact bytes of an example, round trip, and strict rejection of every
 * truncation, a non-canonical integer, a wrong key and trailing bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "gwstatus.h"

static const struct oracle_gwstatus ex = {
	.gw = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff },
	.time = 1700000000, .spool_records = 1618, .spool_bytes = 0x10000,
	.spool_age_s = 3, .beacon_round = 24,
};

static void test_bytes(void **st)
{
	static const uint8_t want[] = {
		0xa6, 0x01, 0x50, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
		0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x02, 0x1a, 0x65, 0x53, 0xf1, 0x00,
		0x03, 0x19, 0x06, 0x52,
		0x04, 0x1a, 0x00, 0x01, 0x00, 0x00,
		0x05, 0x03,
		0x06, 0x18, 0x18,
	};
	struct oracle_gwstatus back;
	uint8_t buf[ORACLE_GWS_MAX_LEN];
	size_t len;

	(void)st;
	assert_int_equal(0, oracle_gwstatus_encode(&ex, buf, sizeof(buf), &len));
	assert_int_equal(sizeof(want), len);
	assert_memory_equal(want, buf, len);
	assert_int_equal(0, oracle_gwstatus_parse(buf, len, &back, NULL));
	assert_memory_equal(&ex, &back, sizeof(ex));
}

static void test_strict(void **st)
{
	struct oracle_gwstatus back;
	uint8_t buf[ORACLE_GWS_MAX_LEN], bad[ORACLE_GWS_MAX_LEN + 1];
	const char *why;
	size_t len;

	(void)st;
	assert_int_equal(0, oracle_gwstatus_encode(&ex, buf, sizeof(buf), &len));
	for (size_t n = 0; n < len; n++)
		assert_int_equal(-EBADMSG, oracle_gwstatus_parse(buf, n, &back, &why));
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(-EBADMSG, oracle_gwstatus_parse(bad, len + 1, &back, &why));
	assert_string_equal(why, "trailing bytes");
	/* 3 as a one-byte-argument integer (0x18 0x03): not the shortest form */
	memcpy(bad, buf, len - 4);
	memcpy(bad + len - 4, (uint8_t[]){ 0x05, 0x18, 0x03, 0x06, 0x18, 0x18 }, 6);
	assert_int_equal(-EBADMSG, oracle_gwstatus_parse(bad, len + 1, &back, &why));
	memcpy(bad, buf, len);
	bad[len - 3] = 0x07;	/* key 6 -> 7 */
	assert_int_equal(-EBADMSG, oracle_gwstatus_parse(bad, len, &back, &why));
	memcpy(bad, buf, len);
	bad[0] = 0xa5;
	assert_int_equal(-EBADMSG, oracle_gwstatus_parse(bad, len, &back, &why));
	assert_string_equal(why, "gateway status map must have exactly 6 keys");
	assert_int_equal(0, back.spool_records);	/* nothing kept on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

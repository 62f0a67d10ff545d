// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for attestiod's metrics file as `attestio status` reads it
 * (user/cli/attestio/daemon.c): the daemon's own format parses, every
 * malformed line is refused naming it, and labelled or unknown metrics
 * are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemon.h"

static const char good[] =
	"# HELP attestiod_connected 1 while connected to a broker\n"
	"# TYPE attestiod_connected gauge\n"
	"attestiod_connected 1\n"
	"attestiod_spool_records 42\n"
	"attestiod_spool_bytes 4096\n"
	"attestiod_records_acked_total 18446744073709551615\n"
	"attestiod_beacons_rejected_total{reason=\"malformed\"} 3\n"
	"attestiod_something_new 7\n"
	"attestiod_beacon_round 12\n";

static void test_parse(void **st)
{
	char why[128];
	struct dm d;

	(void)st;
	assert_int_equal(0, dm_parse(good, strlen(good), &d, why, sizeof(why)));
	assert_int_equal(1, d.v[DM_CONNECTED]);
	assert_int_equal(42, d.v[DM_SPOOL_RECORDS]);
	assert_int_equal(4096, d.v[DM_SPOOL_BYTES]);
	assert_true(d.v[DM_ACKED] == UINT64_MAX);
	assert_int_equal(12, d.v[DM_BEACON_ROUND]);
	assert_false(d.have & (1u << DM_BEACON_AGE));
	assert_string_equal("spool_records", dm_name(DM_SPOOL_RECORDS));
}

static void refused(const char *text, const char *why_part)
{
	char why[128];
	struct dm d;

	assert_int_equal(-1, dm_parse(text, strlen(text), &d, why, sizeof(why)));
	if (!strstr(why, why_part))
		fail_msg("\"%s\": expected \"%s\" in \"%s\"", text, why_part, why);
}

static void test_refused(void **st)
{
	(void)st;
	refused("attestiod_connected 1\nattestiod_spool_records x\n", "line 2: the value");
	refused("attestiod_connected 1\nattestiod_spool_records -1\n", "line 2");
	refused("attestiod_connected 1\nattestiod_spool_records 18446744073709551616\n",
		"line 2");
	refused("attestiod_connected 1\nother_metric 3\n", "line 2 is not");
	refused("attestiod_connected 1\nattestiod_ 3\n", "line 2 is not");
	refused("attestiod_connected 1\nattestiod_spool_records\n", "line 2 is not");
	refused("attestiod_connected 1\nattestiod_spool_records \n", "line 2 is not");
	refused("attestiod_connected 1\n", "no attestiod_connected or attestiod_spool_records");
	refused("", "no attestiod_connected");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

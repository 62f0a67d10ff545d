// SPDX-License-Identifier: GPL-2.0
/*
 * attestio-sim's configuration (user/sim/model.c): the [sim] workers key
 * (processes sharing the gateways, Documentation/system.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fleet.h"

static struct sim_conf c;
static char err[600];

static int parse(const char *workers)
{
	char text[512];

	snprintf(text, sizeof(text), "[sim]\ngateway_conf = gw.conf\ndir = d\n%s"
		 "[site A]\nbase = 20\n[group g]\ncount = 4\n", workers);
	memset(&c, 0, sizeof(c));
	return sim_conf_parse("t.conf", text, &c, err, sizeof(err));
}

static void t_default(void **state)
{
	(void)state;
	assert_int_equal(0, parse(""));
	assert_int_equal(1, c.workers);
}

static void t_workers(void **state)
{
	(void)state;
	assert_int_equal(0, parse("workers = 2\n"));
	assert_int_equal(2, c.workers);
	assert_int_equal(0, parse("workers = 16\n"));
	assert_int_equal(SIM_MAX_WORKERS, c.workers);
}

static void t_bad(void **state)
{
	(void)state;
	assert_int_not_equal(0, parse("workers = 0\n"));
	assert_non_null(strstr(err, "sim.workers must be 1 ... 16"));
	assert_int_equal(0, strncmp(err, "t.conf", 6));
	assert_int_not_equal(0, parse("workers = 17\n"));
	assert_int_not_equal(0, parse("workers = two\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_default),
		cmocka_unit_test(t_workers),
		cmocka_unit_test(t_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

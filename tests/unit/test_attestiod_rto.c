// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod's retransmission timeout (user/attestiod/rto.c, RFC 6298):
 * the records link waits srtt + 4 rttvar of the measured end-to-end ack
 * round trip, at least retransmit_ms, at most RTX_MAX_FACTOR times it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attestiod.h"

static void t_no_sample(void **state)
{
	struct rto r = { 0 };

	(void)state;
	assert_int_equal(1500, rto_wait(&r, 1500, 48000));
}

/* RFC 6298 2.2: the first sample R sets srtt = R, rttvar = R / 2 */
static void t_first_sample(void **state)
{
	struct rto r = { 0 };

	(void)state;
	rto_sample(&r, 2000);
	assert_int_equal(2000, (int)r.srtt);
	assert_int_equal(1000, (int)r.rttvar);
	assert_int_equal(6000, rto_wait(&r, 1000, 48000));
	/* never below the configured minimum */
	assert_int_equal(10000, rto_wait(&r, 10000, 320000));
}

/* 2.3: rttvar = 3/4 rttvar + 1/4 |srtt - R|, srtt = 7/8 srtt + 1/8 R */
static void t_update(void **state)
{
	struct rto r = { 0 };

	(void)state;
	rto_sample(&r, 1000);	/* srtt 1000, rttvar 500 */
	rto_sample(&r, 3000);	/* rttvar 375 + 500, srtt 875 + 375 */
	assert_int_equal(875, (int)r.rttvar);
	assert_int_equal(1250, (int)r.srtt);
	assert_int_equal(1250 + 4 * 875, rto_wait(&r, 100, 100000));
}

/* a steady round trip: the variation decays, the wait tends to srtt */
static void t_steady(void **state)
{
	struct rto r = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 200; i++)
		rto_sample(&r, 800);
	assert_true(rto_wait(&r, 100, 100000) >= 800);
	assert_true(rto_wait(&r, 100, 100000) <= 801);
	/* below retransmit_ms: retransmit_ms */
	assert_int_equal(15000, rto_wait(&r, 15000, 480000));
}

/*
 * A node falling behind: acks that took ~1 s start taking 20, 25, 30 s.
 * With a fixed 15 s timeout every gateway would send its whole unacked
 * window again (the feedback loop of system.md's 1,000-gateway run); after
 * one such sample the wait is above the round trip.
 */
static void t_backlog(void **state)
{
	struct rto r = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 30; i++)
		rto_sample(&r, 1000);
	assert_int_equal(15000, rto_wait(&r, 15000, 480000));
	rto_sample(&r, 20000);
	assert_true(rto_wait(&r, 15000, 480000) > 20000);
	rto_sample(&r, 25000);
	assert_true(rto_wait(&r, 15000, 480000) > 25000);
	rto_sample(&r, 30000);
	assert_true(rto_wait(&r, 15000, 480000) > 30000);
	/* and it comes back down once the node caught up */
	for (i = 0; i < 100; i++)
		rto_sample(&r, 1000);
	assert_int_equal(15000, rto_wait(&r, 15000, 480000));
}

static void t_cap(void **state)
{
	struct rto r = { 0 };

	(void)state;
	rto_sample(&r, 3600000);
	assert_int_equal(RTX_MAX_FACTOR * 10000,
			 rto_wait(&r, 10000, RTX_MAX_FACTOR * 10000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_no_sample),
		cmocka_unit_test(t_first_sample),
		cmocka_unit_test(t_update),
		cmocka_unit_test(t_steady),
		cmocka_unit_test(t_backlog),
		cmocka_unit_test(t_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

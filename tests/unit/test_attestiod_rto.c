// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod's retransmission timeout and timer (user/attestiod/rto.c,
 * RFC 6298): the records link waits srtt + 4 rttvar of the measured
 * end-to-end ack round trip, at least retransmit_ms, at most
 * RTX_MAX_FACTOR times it; a timeout doubles the wait; a backed-off wait
 * is carried over to the next oldest record until a new sample (Karn), at
 * most RTX_CARRY_FACTOR times the wait the record started with.  The last
 * cases run the timer against a model of the link (go-back-N, a node that
 * drops what follows a hole, a broker queue while the node is away).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <inttypes.h>
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

/* ------------------------------------------------------------ the timer */

/* A timeout doubles the wait, from the measured timeout up to the cap. */
static void t_timer_backoff(void **state)
{
	struct rtx x = { 0 };
	int i;

	(void)state;
	rtx_restart(&x, 0, 1000);
	rtx_published(&x, 1, 0);
	assert_false(rtx_oldest(&x, 1, 0, 1000));
	assert_int_equal(1000, x.wait);
	assert_false(rtx_due(&x, 999));
	assert_true(rtx_due(&x, 1000));
	rtx_expire(&x, 1000, 1000);
	assert_int_equal(0, x.timed);		/* Karn: no sample from it */
	assert_int_equal(2000, x.wait);
	assert_false(rtx_due(&x, 2999));
	assert_true(rtx_due(&x, 3000));
	for (i = 0; i < 10; i++)
		rtx_expire(&x, 3000, 1000);
	assert_int_equal(RTX_MAX_FACTOR * 1000, x.wait);
	/* a time from before the timer was restarted is never due */
	rtx_restart(&x, 5000, 1000);
	assert_false(rtx_due(&x, 4900));
	/* nothing unacked: nothing due */
	assert_false(rtx_oldest(&x, 0, 4000, 1000));
	assert_false(rtx_due(&x, 1000000));
}

/* A first publication acked gives a sample; the next record is timed only
 * once that one is acked; a record acked across a timeout gives none. */
static void t_timer_sample(void **state)
{
	struct rtx x = { 0 };

	(void)state;
	rtx_restart(&x, 0, 1000);
	rtx_published(&x, 3, 100);		/* records 1 … 3 */
	rtx_published(&x, 5, 200);		/* not timed: 3 is */
	assert_false(rtx_oldest(&x, 1, 200, 1000));
	assert_false(rtx_oldest(&x, 3, 900, 1000));	/* 1, 2 acked */
	assert_true(rtx_oldest(&x, 4, 1300, 1000));	/* 3 acked */
	assert_int_equal(1, x.rto.samples);
	assert_int_equal(1200, (int)x.rto.srtt);
	assert_int_equal(3600, rtx_base(&x, 1000));
	assert_int_equal(3600, x.wait);
	rtx_published(&x, 6, 1400);
	rtx_expire(&x, 4900, 1000);		/* 4 timed out: 6 is sent again */
	assert_false(rtx_oldest(&x, 0, 5000, 1000));	/* 6's ack is ambiguous */
	assert_int_equal(1, x.rto.samples);
	/* a reconnect forgets the record timed: it would time the outage */
	rtx_published(&x, 7, 6000);
	rtx_restart(&x, 9000, 1000);
	assert_false(rtx_oldest(&x, 0, 9100, 1000));
	assert_int_equal(1, x.rto.samples);
}

/*
 * Karn (RFC 6298 5.5, 5.7), what tests/system/lateack.sh runs: acks 4 s
 * late, retransmit_ms 1 s.  The first record times out at 1 s and 3 s and
 * is acked at 4 s, with no sample (its ack is ambiguous): the next record
 * keeps the 4 s wait rather than 1 s, under which it would time out too,
 * discard the sample under way, and so on every epoch.  A sample ends it.
 */
static void t_timer_karn(void **state)
{
	struct rtx x = { 0 };

	(void)state;
	rtx_restart(&x, 0, 1000);
	rtx_published(&x, 1, 0);		/* timed */
	rtx_oldest(&x, 1, 0, 1000);
	rtx_expire(&x, 1000, 1000);		/* and not any more */
	rtx_published(&x, 2, 2000);		/* not timed: 1 timed out */
	assert_int_equal(0, x.timed);
	rtx_expire(&x, 3000, 1000);
	assert_int_equal(4000, x.wait);
	assert_false(rtx_oldest(&x, 2, 4020, 1000));
	assert_int_equal(4000, x.wait);		/* both doublings carried */
	assert_false(rtx_due(&x, 6020));	/* 2 is acked at 6020 */
	rtx_published(&x, 3, 4100);		/* timed: acks came */
	assert_int_equal(3, x.timed);
	assert_false(rtx_oldest(&x, 3, 6020, 1000));
	assert_int_equal(4000, x.wait);		/* still no sample */
	assert_true(rtx_oldest(&x, 4, 8120, 1000));	/* 3's round trip */
	assert_int_equal(4020, (int)x.rto.srtt);
	assert_int_equal(4020 + 4 * 2010, x.wait);
}

/* A resend for a release declaration (not a timeout): the record timed is
 * no longer timed, the oldest's wait (with its backoff) runs from then. */
static void t_timer_resent(void **state)
{
	struct rtx x = { 0 };

	(void)state;
	rtx_restart(&x, 0, 1000);
	rtx_published(&x, 5, 0);
	rtx_oldest(&x, 1, 0, 1000);
	rtx_expire(&x, 1000, 1000);		/* wait 2000 from 1000 */
	assert_true(rtx_due(&x, 3000));
	rtx_resent(&x, 2500);
	assert_int_equal(0, x.timed);
	assert_int_equal(2000, x.wait);		/* backoff kept */
	assert_false(rtx_due(&x, 4000));
	assert_true(rtx_due(&x, 4500));
}

/*
 * The review-8 MEDIUM: the node away for 10 minutes, retransmit_ms 10 s.
 * The oldest record times out at 10, 30, 70, 150, 310 s … and its wait
 * reaches the cap, 320 s.  Then the node is back and acks it, with no
 * sample (every record it acked was sent again).  The next record, lost
 * while the node was away, must not wait 320 s for its first
 * retransmission: at most RTX_CARRY_FACTOR x the wait the acked record
 * started with, 40 s.  (Carrying the whole backoff over: 320 s.)
 */
static void t_timer_outage(void **state)
{
	struct rtx x = { 0 };
	uint64_t t = 0;
	int i;

	(void)state;
	rtx_restart(&x, 0, 10000);
	rtx_published(&x, 1, 0);
	rtx_oldest(&x, 1, 0, 10000);
	for (i = 0; i < 12; i++) {
		t = x.since + x.wait;
		assert_true(rtx_due(&x, t));
		rtx_expire(&x, t, 10000);
	}
	assert_int_equal(RTX_MAX_FACTOR * 10000, x.wait);
	assert_false(rtx_oldest(&x, 500, t + 5000, 10000));
	assert_int_equal(RTX_CARRY_FACTOR * 10000, x.wait);
	assert_false(rtx_due(&x, t + 5000 + RTX_CARRY_FACTOR * 10000 - 1));
	assert_true(rtx_due(&x, t + 5000 + RTX_CARRY_FACTOR * 10000));
	/* records acked on the way, without a timeout of their own, keep it */
	assert_false(rtx_oldest(&x, 501, t + 5100, 10000));
	assert_int_equal(RTX_CARRY_FACTOR * 10000, x.wait);
}

/*
 * A path slower than the carried wait still learns: a record that times
 * out in turn carries up to 4 x its own start, so the carried wait grows
 * 4-fold per such record, to the cap.
 */
static void t_timer_carry_grows(void **state)
{
	struct rtx x = { 0 };
	int64_t id;
	uint64_t t = 0;
	unsigned int start;

	(void)state;
	rtx_restart(&x, 0, 1000);
	rtx_oldest(&x, 1, 0, 1000);
	for (id = 1; id <= 4; id++) {
		start = x.wait;
		while (x.wait < RTX_MAX_FACTOR * 1000 && x.wait < 8 * start) {
			t = x.since + x.wait;
			rtx_expire(&x, t, 1000);
		}
		rtx_oldest(&x, id + 1, t + 1, 1000);
		assert_int_equal(start * RTX_CARRY_FACTOR < RTX_MAX_FACTOR * 1000 ?
				 start * RTX_CARRY_FACTOR : RTX_MAX_FACTOR * 1000, x.wait);
	}
	assert_int_equal(RTX_MAX_FACTOR * 1000, x.wait);
}

/* ---------------------------------------------- the timer on a model link */

/*
 * One record published per epoch from t = 0 on; the link's loop every
 * 100 ms, as attestio-sim's (attestiod's: 50 ms): acks in, the timer,
 * publications out, in link_tick()'s order.  A publication reaches the
 * node d_up later, its ack comes back d_down after that; while the node
 * is away (publications in [away_from, away_to)) the broker keeps at most
 * `queue` of them for its session and hands them over when it is back
 * (MQTT QoS 1, Mosquitto's max_queued_messages; the others are dropped).  The node stores records in seq order, drops a
 * record that follows a hole, acks cumulatively (again on a duplicate).
 * A timeout goes back N: everything from the oldest unacked record.
 */
struct model {
	unsigned int retransmit_ms;
	uint64_t epoch, d_up, d_down, away_from, away_to, end;
	unsigned int queue;
	int64_t records;
	/* results */
	unsigned int timeouts, late_timeouts;	/* late: after away_to */
	uint64_t last_timeout;
	unsigned int resent;			/* publications again */
	int64_t acked;
	uint64_t whole_at;	/* the node held all records before away_to */
	struct rtx x;
};

struct mev {
	uint64_t t;
	int64_t id;
};

struct mq {
	struct mev *v;
	size_t head, n, cap;
};

static void mq_push(struct mq *q, uint64_t t, int64_t id)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 1024;
		q->v = realloc(q->v, q->cap * sizeof(*q->v));
		assert_non_null(q->v);
	}
	q->v[q->n].t = t;
	q->v[q->n++].id = id;
}

static bool mq_pop(struct mq *q, uint64_t now, struct mev *e)
{
	if (q->head == q->n || q->v[q->head].t > now)
		return false;
	*e = q->v[q->head++];
	return true;
}

#define MODEL_TICK 100

static void model_run(struct model *m)
{
	struct mq up = { 0 }, down = { 0 };
	int64_t produced = 0, cursor = 0, high = 0, stored = 0, before;
	unsigned int queued = 0;
	struct mev e;
	uint64_t now;

	/* records produced before the node is back: k at (k - 1) x epoch */
	before = m->away_to ? (int64_t)((m->away_to - 1) / m->epoch) + 1 : 0;
	rtx_restart(&m->x, 0, m->retransmit_ms);
	for (now = 0; now <= m->end; now += MODEL_TICK) {
		int64_t id;

		while (mq_pop(&up, now, &e)) {		/* the node */
			if (e.id == stored + 1)
				stored++;
			if (e.id <= stored)
				mq_push(&down, e.t + m->d_down, stored);
		}
		while (mq_pop(&down, now, &e))		/* acks */
			if (e.id > m->acked)
				m->acked = e.id;
		while (produced < m->records && (uint64_t)produced * m->epoch <= now)
			produced++;
		id = m->acked < produced ? m->acked + 1 : 0;
		rtx_oldest(&m->x, id, now, m->retransmit_ms);
		if (id > 0 && id <= cursor && rtx_due(&m->x, now)) {
			m->timeouts++;
			m->last_timeout = now;
			if (now >= m->away_to)
				m->late_timeouts++;
			cursor = id - 1;	/* go back N */
			rtx_expire(&m->x, now, m->retransmit_ms);
		}
		while (cursor < produced) {
			cursor++;
			if (cursor > high) {
				high = cursor;
				rtx_published(&m->x, cursor, now);
			} else {
				m->resent++;
			}
			if (now < m->away_from || now >= m->away_to)
				mq_push(&up, now + m->d_up, cursor);
			else if (queued < m->queue && ++queued)
				mq_push(&up, m->away_to, cursor);
		}
		if (!m->whole_at && before && m->acked >= before)
			m->whole_at = now;
		if (m->acked == m->records)
			break;
	}
	free(up.v);
	free(down.v);
}

/* A path without losses: runs it, says what it cost, checks that every
 * record was acked and the round trip learnt. */
static void model_path(struct model *m, const char *what)
{
	model_run(m);
	print_message("%s model: %u timeouts (the last at %.1f s), %u publications "
		      "again, srtt %.0f ms\n", what, m->timeouts,
		      (double)m->last_timeout / 1000, m->resent, m->x.rto.srtt);
	assert_int_equal(m->records, m->acked);
	assert_true(m->x.rto.samples > 0);
	assert_true(m->x.rto.srtt >= m->d_up + m->d_down &&
		    m->x.rto.srtt <= m->d_up + m->d_down + MODEL_TICK);
}

/*
 * tests/system/lateack.sh in the model: epochs of 2 s, acks 4 s late,
 * retransmit_ms 1 s, 30 epochs.  Two timeouts (1 s, 3 s), then the round
 * trip is learnt.  (Dropping the backoff at each ack: a timeout every
 * epoch, 31, and no sample ever.)
 */
static void t_model_lateack(void **state)
{
	struct model m = {
		.retransmit_ms = 1000, .epoch = 2000, .d_up = 20, .d_down = 4000,
		.records = 30, .end = 200000,
	};

	(void)state;
	model_path(&m, "lateack");
	assert_int_equal(2, m.timeouts);
}

/*
 * A slower path than the carried wait: acks 10 s late, one record every
 * 20 s (one record in flight: it stays the oldest for the whole round
 * trip), retransmit_ms 1 s.  The carried wait grows per record that times
 * out, a sample comes, and then no more timeouts: 5 (carrying the whole
 * backoff over: 4; dropping it at each ack: 90, and no sample ever).
 */
static void t_model_slow_path(void **state)
{
	struct model m = {
		.retransmit_ms = 1000, .epoch = 20000, .d_up = 20, .d_down = 10000,
		.records = 30, .end = 1000000,
	};

	(void)state;
	model_path(&m, "slow path");
	assert_true(m.timeouts <= 6);
	assert_true(m.last_timeout < 5 * m.epoch);	/* none after the sample */
}

/*
 * The review-8 MEDIUM end to end: a record a second, round trip 200 ms,
 * retransmit_ms 10 s (the default); the node away for 10 minutes, the
 * broker keeping 1,000 messages for it (Mosquitto's default), so records
 * are lost while it is away and the node drops what follows the first of
 * them.  Once it is back, the first lost record must be sent again within
 * RTX_CARRY_FACTOR x 10 s, not after the 320 s the timeout backed off to
 * while no ack came.
 */
static void t_model_outage(void **state)
{
	struct model m = {
		.retransmit_ms = 10000, .epoch = 1000, .d_up = 100, .d_down = 100,
		.away_from = 60000, .away_to = 660000, .queue = 1000,
		.records = 900, .end = 2000000,
	};

	(void)state;
	model_run(&m);
	print_message("outage model: node back at %" PRIu64 " s, all records before "
		      "it acked %.1f s later; %u timeouts (%u after), %u publications "
		      "again\n", m.away_to / 1000,
		      (double)(m.whole_at - m.away_to) / 1000, m.timeouts,
		      m.late_timeouts, m.resent);
	assert_int_equal(900, m.acked);
	assert_true(m.whole_at > m.away_to);
	assert_true(m.whole_at - m.away_to <= RTX_CARRY_FACTOR * 10000 + 1000);
	assert_int_equal(1, m.late_timeouts);
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
		cmocka_unit_test(t_timer_backoff),
		cmocka_unit_test(t_timer_sample),
		cmocka_unit_test(t_timer_karn),
		cmocka_unit_test(t_timer_resent),
		cmocka_unit_test(t_timer_outage),
		cmocka_unit_test(t_timer_carry_grows),
		cmocka_unit_test(t_model_lateack),
		cmocka_unit_test(t_model_slow_path),
		cmocka_unit_test(t_model_outage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

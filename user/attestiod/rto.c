// SPDX-License-Identifier: GPL-2.0
/*
 * The retransmission timeout of the records link (RFC 6298, section 2):
 * smoothed round trip and its variation, measured from a batch's first
 * publication to the oracle network's end-to-end acknowledgement of its
 * last record (ack_quorum nodes).  A node that is backlogged answers
 * late but answers: waiting at least srtt + 4 rttvar before going back N
 * keeps its backlog from being sent again, which would only deepen it
 * (Documentation/attestiod.md, "Retransmission").  Pure: no clock, no I/O.
 */
#include <stdint.h>

#include "attestiod.h"

void rto_sample(struct rto *r, uint64_t ms)
{
	double m = (double)ms, d;

	if (!r->samples) {
		r->srtt = m;
		r->rttvar = m / 2;
	} else {
		d = r->srtt > m ? r->srtt - m : m - r->srtt;
		r->rttvar = 0.75 * r->rttvar + 0.25 * d;
		r->srtt = 0.875 * r->srtt + 0.125 * m;
	}
	r->samples++;
}

unsigned int rto_wait(const struct rto *r, unsigned int min_ms,
		      unsigned int max_ms)
{
	double w;

	if (!r->samples)
		return min_ms;
	w = r->srtt + 4 * r->rttvar;
	if (w < min_ms)
		return min_ms;
	if (w > max_ms)
		return max_ms;
	return (unsigned int)w;
}

/*
 * The retransmission timer (struct rtx): when to go back N from the oldest
 * unacked record.  The rules, and why (Documentation/attestiod.md,
 * "Retransmission"):
 *
 * - One record at a time is timed, from its first publication (never one
 *   published again: Karn) to the moment the oldest unacked record passes
 *   it, and never one published while the oldest record has timed out
 *   with no ack since (rtx_published()).
 * - The oldest record is given the measured timeout, rtx_base(), when it
 *   becomes the oldest; each timeout doubles its wait, up to RTX_MAX_FACTOR
 *   x retransmit_ms (a node that is down, or acks that cannot be applied,
 *   make no retransmission storm).
 * - Karn (RFC 6298 5.5, 5.7): a backed-off wait is carried over to the next
 *   oldest record until a first publication gives a new sample.  Dropping
 *   back to the old timeout at the next ack, on a path whose acks take
 *   longer than it, timed out again and again, and each timeout discarded
 *   the sample under way, so the round trip was never learnt
 *   (tests/system/lateack.sh).
 * - But at most two of a record's doublings are carried over: the next
 *   record starts with at most RTX_CARRY_FACTOR x the wait the record
 *   before it started with.  Doublings beyond that are what a stretch
 *   without any ack (a node or path down) piles up, however long it lasts;
 *   they say nothing of the round trip once acks come again, and carried
 *   over whole (up to 32 x) they made the first timeout after such a
 *   stretch, a record lost while the node was away, wait up to 32 x
 *   retransmit_ms (review 8).  A slow path still learns: each record that
 *   times out in turn carries up to 4 x its own start to the next one.
 */

unsigned int rtx_base(const struct rtx *x, unsigned int min_ms)
{
	return rto_wait(&x->rto, min_ms, RTX_MAX_FACTOR * min_ms);
}

void rtx_restart(struct rtx *x, uint64_t now, unsigned int min_ms)
{
	x->since = now;
	x->wait = x->start = rtx_base(x, min_ms);
	x->carry = 0;
	x->expired = false;
	x->timed = 0;		/* its round trip would include the outage */
}

void rtx_published(struct rtx *x, int64_t last, uint64_t now)
{
	/* Not while the oldest record timed out and nothing was acked since:
	 * the path delivers nothing then (a node away, whose broker session
	 * queues what we publish), and a round trip from now would measure
	 * that absence, not the path.  A sample of 290 s, taken when the node
	 * came back after 10 minutes, made srtt + 4 rttvar 326 s, the
	 * timeout 320 s (the cap) for the next records (test_attestiod_rto,
	 * t_model_outage). */
	if (!x->timed && !x->expired) {
		x->timed = last;
		x->timed_at = now;
	}
}

bool rtx_oldest(struct rtx *x, int64_t id, uint64_t now, unsigned int min_ms)
{
	bool sampled = false;
	unsigned int base;

	if (x->timed && (id == 0 || id > x->timed)) {
		/* a tick's time may have been read before the
		 * publication's: 0 ms then, not an unsigned wrap */
		rto_sample(&x->rto, now > x->timed_at ? now - x->timed_at : 0);
		x->timed = 0;
		x->carry = 0;		/* Karn: the backoff ends here */
		x->expired = false;
		sampled = true;
	}
	if (id == x->oldest)
		return sampled;
	if (x->expired) {
		uint64_t cap = (uint64_t)RTX_CARRY_FACTOR * x->start;

		x->carry = x->wait < cap ? x->wait : (unsigned int)cap;
	}
	base = rtx_base(x, min_ms);
	x->oldest = id;
	x->since = now;
	x->wait = x->start = x->carry > base ? x->carry : base;
	x->expired = false;
	return sampled;
}

void rtx_resent(struct rtx *x, uint64_t now)
{
	x->timed = 0;		/* Karn: its ack would be ambiguous */
	x->since = now;		/* the oldest's wait runs again from now */
}

bool rtx_due(const struct rtx *x, uint64_t now)
{
	/* now < since: a time taken before the link restarted the timer
	 * (rtx_restart() at a CONNACK read after the caller's clock) */
	return x->oldest > 0 && now >= x->since && now - x->since >= x->wait;
}

void rtx_expire(struct rtx *x, uint64_t now, unsigned int min_ms)
{
	uint64_t max = (uint64_t)RTX_MAX_FACTOR * min_ms, w = 2ull * x->wait;

	x->timed = 0;		/* Karn: its ack would be ambiguous */
	x->expired = true;
	x->since = now;
	x->wait = w < max ? (unsigned int)w : (unsigned int)max;
}

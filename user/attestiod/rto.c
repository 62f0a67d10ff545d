// SPDX-License-Identifier: GPL-2.0
/*
 * The retransmission timeout of the records link (RFC 6298, section 2):
 * smoothed round trip and its variation, measured from a batch's first
 * publication to the oracle network's end-to-end acknowledgement of its
 * last record (ack_quorum nodes).  A node that is backlogged answers
 * late but answers: waiting at least srtt + 4 rttvar before going back N
 * keeps its backlog from being sent again, which would only deepen it
 * (Documentation/attestiod.md, "Retransmission").  And when the timer
 * fires, only a burst of batches from the oldest unacked record goes
 * again, not everything unacked: the burst doubles at each further
 * timeout of the same episode (slow start), so a record lost in transit
 * comes back at once and a long run of lost ones within a few timeouts,
 * while a node that is only late is sent little twice.  Pure: no clock,
 * no I/O.
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

unsigned int rtx_burst(struct rtx_episode *e, int64_t oldest, int64_t high_sent)
{
	/* a new episode once the oldest unacked record passed everything
	 * that had been sent when the last one began */
	if (!e->burst || oldest > e->recover) {
		e->recover = high_sent;
		e->burst = 1;
	} else if (e->burst < RTX_MAX_BURST) {
		e->burst *= 2;
	}
	return e->burst;
}

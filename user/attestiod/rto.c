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

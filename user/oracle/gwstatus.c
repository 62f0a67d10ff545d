// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Gateway status codec (gwstatus.h): encoder over libcbor's item
 * encoders, a strict reader for the one schema, then a byte-for-byte
 * comparison with the canonical re-encoding of what was read.
 */
#include <errno.h>
#include <string.h>

#include "cbor_r.h"
#include "cbor_w.h"
#include "gwstatus.h"

int oracle_gwstatus_encode(const struct oracle_gwstatus *s, uint8_t *buf,
			   size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	cw_map(&w, 6);
	cw_uint(&w, OGS_GW);
	cw_bytes(&w, s->gw, sizeof(s->gw));
	cw_uint(&w, OGS_TIME);
	cw_uint(&w, s->time);
	cw_uint(&w, OGS_SPOOL_RECORDS);
	cw_uint(&w, s->spool_records);
	cw_uint(&w, OGS_SPOOL_BYTES);
	cw_uint(&w, s->spool_bytes);
	cw_uint(&w, OGS_SPOOL_AGE);
	cw_uint(&w, s->spool_age_s);
	cw_uint(&w, OGS_BEACON_ROUND);
	cw_uint(&w, s->beacon_round);
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_gwstatus_parse(const uint8_t *buf, size_t len,
			  struct oracle_gwstatus *s, const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint8_t re[ORACLE_GWS_MAX_LEN];
	size_t rlen = 0;
	uint64_t v = 0;

	memset(s, 0, sizeof(*s));
	if (!buf || len > ORACLE_GWS_MAX_LEN)
		r.why = "gateway status larger than 128 bytes";
	if (!cr_head(&r, 5, &v) && v != 6)
		r.why = "gateway status map must have exactly 6 keys";
	cr_key(&r, OGS_GW);
	cr_bytes(&r, s->gw, sizeof(s->gw));
	cr_key(&r, OGS_TIME);
	s->time = cr_uint(&r);
	cr_key(&r, OGS_SPOOL_RECORDS);
	s->spool_records = cr_uint(&r);
	cr_key(&r, OGS_SPOOL_BYTES);
	s->spool_bytes = cr_uint(&r);
	cr_key(&r, OGS_SPOOL_AGE);
	s->spool_age_s = cr_uint(&r);
	cr_key(&r, OGS_BEACON_ROUND);
	s->beacon_round = cr_uint(&r);
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why && (oracle_gwstatus_encode(s, re, sizeof(re), &rlen) ||
		       rlen != len || memcmp(re, buf, len)))
		r.why = "not in canonical (deterministic) encoding";
	if (r.why) {
		memset(s, 0, sizeof(*s));
		if (why)
			*why = r.why;
		return -EBADMSG;
	}
	return 0;
}

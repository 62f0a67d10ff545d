// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Evidence codec (evidence.h): encoder over libcbor's item encoders, a
 * strict reader for the one schema, then a byte-for-byte comparison with
 * the canonical re-encoding of what was read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_r.h"
#include "cbor_w.h"
#include "evidence.h"

static int limits(const struct oracle_evidence *e)
{
	if (e->mlog_len > ORACLE_EV_MLOG_MAX ||
	    (e->pcrs_len && e->pcrs_len != ORACLE_EV_PCRS_LEN) ||
	    e->boot_log_len > ORACLE_EV_BOOTLOG_MAX ||
	    e->ima_log_len > ORACLE_EV_IMALOG_MAX ||
	    (!e->mlog && e->mlog_len) || (!e->pcrs && e->pcrs_len) ||
	    (!e->boot_log && e->boot_log_len) ||
	    (!e->ima_log && e->ima_log_len))
		return -EINVAL;
	return 0;
}

int oracle_evidence_encode(const struct oracle_evidence *e, uint8_t *buf,
			   size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	*len = 0;
	if (limits(e))
		return -EINVAL;
	cw_map(&w, 6);
	cw_uint(&w, OEV_GW);
	cw_bytes(&w, e->gw, sizeof(e->gw));
	cw_uint(&w, OEV_TIME);
	cw_uint(&w, e->time);
	cw_uint(&w, OEV_MLOG);
	cw_bytes(&w, e->mlog, e->mlog_len);
	cw_uint(&w, OEV_PCRS);
	cw_bytes(&w, e->pcrs, e->pcrs_len);
	cw_uint(&w, OEV_BOOTLOG);
	cw_bytes(&w, e->boot_log, e->boot_log_len);
	cw_uint(&w, OEV_IMALOG);
	cw_bytes(&w, e->ima_log, e->ima_log_len);
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_evidence_parse(const uint8_t *buf, size_t len,
			  struct oracle_evidence *e, const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint64_t v = 0;
	uint8_t *re = NULL;
	size_t rlen = 0;

	memset(e, 0, sizeof(*e));
	if (!buf || len > ORACLE_EV_MAX_LEN)
		r.why = "evidence larger than 16 MiB";
	if (!cr_head(&r, 5, &v) && v != 6)
		r.why = "evidence map must have exactly 6 keys";
	cr_key(&r, OEV_GW);
	cr_bytes(&r, e->gw, sizeof(e->gw));
	cr_key(&r, OEV_TIME);
	e->time = cr_uint(&r);
	cr_key(&r, OEV_MLOG);
	e->mlog = cr_bstr(&r, ORACLE_EV_MLOG_MAX, &e->mlog_len);
	cr_key(&r, OEV_PCRS);
	e->pcrs = cr_bstr(&r, ORACLE_EV_PCRS_LEN, &e->pcrs_len);
	if (!r.why && e->pcrs_len && e->pcrs_len != ORACLE_EV_PCRS_LEN)
		r.why = "PCR values must be 24 SHA-256 PCRs (768 bytes) or none";
	cr_key(&r, OEV_BOOTLOG);
	e->boot_log = cr_bstr(&r, ORACLE_EV_BOOTLOG_MAX, &e->boot_log_len);
	cr_key(&r, OEV_IMALOG);
	e->ima_log = cr_bstr(&r, ORACLE_EV_IMALOG_MAX, &e->ima_log_len);
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why) {
		re = malloc(len);
		if (!re || oracle_evidence_encode(e, re, len, &rlen) ||
		    rlen != len || memcmp(re, buf, len))
			r.why = "not in canonical (deterministic) encoding";
		free(re);
	}
	if (r.why) {
		memset(e, 0, sizeof(*e));
		if (why)
			*why = r.why;
		return -EBADMSG;
	}
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loss declaration codec (loss.h), on the model of ack.c: libcbor-style
 * shortest encoders, a strict reader for the one schema, and a byte-for-
 * byte comparison with the canonical re-encoding of what was read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_r.h"
#include "cbor_w.h"
#include "loss.h"

int oracle_hole_cmp(const struct oracle_hole *a, const struct oracle_hole *b)
{
	if (a->instance != b->instance)
		return a->instance < b->instance ? -1 : 1;
	if (a->stream != b->stream)
		return a->stream < b->stream ? -1 : 1;
	if (a->generation != b->generation)
		return a->generation < b->generation ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return 0;
}

/* NULL if @l's holes are valid and ordered, else why not. */
static const char *holes_check(const struct oracle_loss *l)
{
	if (l->n > ORACLE_LOSS_MAX_HOLES)
		return "too many holes";
	for (size_t i = 0; i < l->n; i++) {
		const struct oracle_hole *h = &l->h[i], *p;

		if (h->stream >= 64)
			return "stream id out of range";
		if (h->first > h->last)
			return "hole ends before it starts";
		if (h->last > INT64_MAX)
			return "seq out of range";
		if (!i)
			continue;
		p = &l->h[i - 1];
		if (oracle_hole_cmp(p, h) >= 0)
			return "holes not strictly increasing";
		if (p->instance == h->instance && p->stream == h->stream &&
		    p->generation == h->generation && p->last >= h->first)
			return "holes of one chain overlap";
	}
	return NULL;
}

int oracle_loss_encode(const struct oracle_loss *l, uint8_t *buf, size_t cap,
		       size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	if (holes_check(l))
		return -EINVAL;
	cw_map(&w, 2);
	cw_uint(&w, OLK_GW);
	cw_bytes(&w, l->gw, ORACLE_GW_ID_LEN);
	cw_uint(&w, OLK_HOLES);
	cw_array(&w, l->n);
	for (size_t i = 0; i < l->n; i++) {
		cw_array(&w, 5);
		cw_uint(&w, l->h[i].instance);
		cw_uint(&w, l->h[i].stream);
		cw_uint(&w, l->h[i].generation);
		cw_uint(&w, l->h[i].first);
		cw_uint(&w, l->h[i].last);
	}
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_loss_parse(const uint8_t *buf, size_t len, struct oracle_loss *l,
		      const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint64_t v = 0;
	uint8_t *re = NULL;
	size_t rlen = 0;

	memset(l, 0, sizeof(*l));
	if (len > ORACLE_LOSS_MAX_LEN)
		r.why = "loss declaration too large";
	if (!cr_head(&r, 5, &v) && v != 2)
		r.why = "loss declaration map must have exactly 2 keys";
	cr_key(&r, OLK_GW);
	cr_bytes(&r, l->gw, ORACLE_GW_ID_LEN);
	cr_key(&r, OLK_HOLES);
	if (!cr_head(&r, 4, &v) && v > ORACLE_LOSS_MAX_HOLES)
		r.why = "too many holes";
	for (uint64_t i = 0; !r.why && i < v; i++) {
		struct oracle_hole *h = &l->h[i];
		uint64_t n = 0;

		if (!cr_head(&r, 4, &n) && n != 5) {
			r.why = "a hole must have 5 items";
			break;
		}
		cr_chain(&r, &h->instance, &h->stream, &h->generation);
		h->first = cr_uint(&r);
		h->last = cr_uint(&r);
		l->n = i + 1;
	}
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why)
		r.why = holes_check(l);
	if (!r.why) {
		re = malloc(len);
		if (!re || oracle_loss_encode(l, re, len, &rlen) ||
		    rlen != len || memcmp(re, buf, len))
			r.why = "not in canonical (deterministic) encoding";
		free(re);
	}
	if (r.why) {
		if (why)
			*why = r.why;
		memset(l, 0, sizeof(*l));
		return -EBADMSG;
	}
	return 0;
}

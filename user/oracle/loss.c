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

/* Order of chains: by (instance, stream, generation). */
static int chain_cmp(uint64_t ai, uint32_t as, uint32_t ag, uint64_t bi,
		     uint32_t bs, uint32_t bg)
{
	if (ai != bi)
		return ai < bi ? -1 : 1;
	if (as != bs)
		return as < bs ? -1 : 1;
	if (ag != bg)
		return ag < bg ? -1 : 1;
	return 0;
}

int oracle_hole_cmp(const struct oracle_hole *a, const struct oracle_hole *b)
{
	int c = chain_cmp(a->instance, a->stream, a->generation, b->instance,
			  b->stream, b->generation);

	if (c || a->first == b->first)
		return c;
	return a->first < b->first ? -1 : 1;
}

int oracle_released_cmp(const void *pa, const void *pb)
{
	const struct oracle_released *a = pa, *b = pb;

	return chain_cmp(a->instance, a->stream, a->generation, b->instance,
			 b->stream, b->generation);
}

/* NULL if @l's released chains are valid and ordered, else why not. */
static const char *released_check(const struct oracle_loss *l)
{
	if (l->nrel > ORACLE_LOSS_MAX_RELEASED)
		return "too many released chains";
	for (size_t i = 0; i < l->nrel; i++) {
		const struct oracle_released *r = &l->rel[i], *p;

		if (r->stream >= 64)
			return "stream id out of range";
		if (r->last > INT64_MAX)
			return "seq out of range";
		if (!i)
			continue;
		p = &l->rel[i - 1];
		if (oracle_released_cmp(p, r) >= 0)
			return "released chains not strictly increasing";
	}
	return NULL;
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

	if (holes_check(l) || released_check(l))
		return -EINVAL;
	cw_map(&w, l->nrel ? 3 : 2);
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
	if (l->nrel) {
		cw_uint(&w, OLK_RELEASED);
		cw_array(&w, l->nrel);
	}
	for (size_t i = 0; i < l->nrel; i++) {
		cw_array(&w, 4);
		cw_uint(&w, l->rel[i].instance);
		cw_uint(&w, l->rel[i].stream);
		cw_uint(&w, l->rel[i].generation);
		cw_uint(&w, l->rel[i].last);
	}
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_loss_parse(const uint8_t *buf, size_t len, struct oracle_loss *l,
		      const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint64_t v = 0, keys = 0;
	uint8_t *re = NULL;
	size_t rlen = 0;

	memset(l, 0, sizeof(*l));
	if (len > ORACLE_LOSS_MAX_LEN)
		r.why = "loss declaration too large";
	if (!cr_head(&r, 5, &keys) && keys != 2 && keys != 3)
		r.why = "loss declaration map must have 2 or 3 keys";
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
	if (keys == 3) {
		cr_key(&r, OLK_RELEASED);
		if (!cr_head(&r, 4, &v) && v > ORACLE_LOSS_MAX_RELEASED)
			r.why = "too many released chains";
		for (uint64_t i = 0; !r.why && i < v; i++) {
			struct oracle_released *x = &l->rel[i];
			uint64_t n = 0;

			if (!cr_head(&r, 4, &n) && n != 4) {
				r.why = "a released chain must have 4 items";
				break;
			}
			cr_chain(&r, &x->instance, &x->stream, &x->generation);
			x->last = cr_uint(&r);
			l->nrel = i + 1;
		}
	}
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why)
		r.why = holes_check(l);
	if (!r.why)
		r.why = released_check(l);
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

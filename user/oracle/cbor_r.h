/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny strict CBOR reader for the fixed schemas of liboracle (acks,
 * evidence): definite lengths only, the expected major type at every
 * step, the first problem kept in ->why.  Shortest forms are enforced by
 * the callers, which compare the input with its canonical re-encoding.
 */
#ifndef ORACLE_CBOR_R_H
#define ORACLE_CBOR_R_H

#include <stdint.h>
#include <string.h>


struct cr {
	const uint8_t *p;
	size_t len, off;
	const char *why;
};

/* One head: major type @mt, argument in *v.  Definite lengths, no floats. */
static inline int cr_head(struct cr *r, int mt, uint64_t *v)
{
	uint8_t b, ai;
	size_t n;

	if (r->why)
		return -1;
	if (r->off >= r->len) {
		r->why = "truncated";
		return -1;
	}
	b = r->p[r->off++];
	if ((b >> 5) != mt) {
		r->why = "unexpected CBOR type";
		return -1;
	}
	ai = b & 31;
	if (ai < 24) {
		*v = ai;
		return 0;
	}
	if (ai > 27) {
		r->why = "indefinite or reserved length";
		return -1;
	}
	n = (size_t)1 << (ai - 24);
	if (r->len - r->off < n) {
		r->why = "truncated";
		return -1;
	}
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | r->p[r->off++];
	return 0;	/* shortest form is enforced by the re-encoding */
}

static inline uint64_t cr_uint(struct cr *r)
{
	uint64_t v = 0;

	cr_head(r, 0, &v);
	return v;
}

/* A chain (instance, stream < 64, generation < 2^32), as acks and loss
 * declarations carry it: three uints. */
static inline void cr_chain(struct cr *r, uint64_t *instance, uint32_t *stream,
			    uint32_t *generation)
{
	uint64_t x;

	*instance = cr_uint(r);
	x = cr_uint(r);
	if (x >= 64 && !r->why)
		r->why = "stream id out of range";
	*stream = (uint32_t)x;
	x = cr_uint(r);
	if (x > UINT32_MAX && !r->why)
		r->why = "generation out of range";
	*generation = (uint32_t)x;
}

static inline void cr_key(struct cr *r, uint64_t key)
{
	if (cr_uint(r) != key && !r->why)
		r->why = "missing, unknown or misordered key";
}

static inline void cr_bytes(struct cr *r, uint8_t *out, size_t n)
{
	uint64_t l = 0;

	if (cr_head(r, 2, &l))
		return;
	if (l != n) {
		r->why = "byte string of the wrong length";
		return;
	}
	if (r->len - r->off < n) {
		r->why = "truncated";
		return;
	}
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

/* A byte string of any length up to @max: points into the input. */
static inline const uint8_t *cr_bstr(struct cr *r, size_t max, size_t *n)
{
	uint64_t l = 0;
	const uint8_t *p;

	*n = 0;
	if (cr_head(r, 2, &l))
		return NULL;
	if (l > max) {
		r->why = "byte string too long";
		return NULL;
	}
	if (r->len - r->off < l) {
		r->why = "truncated";
		return NULL;
	}
	p = r->p + r->off;
	r->off += (size_t)l;
	*n = (size_t)l;
	return p;
}

#endif

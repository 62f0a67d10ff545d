/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A growable ring (double-ended queue) of fixed-size elements: O(1) push at
 * the back and pop at the front, O(1) indexing.  The verifier keeps each
 * stream's undecided records in one, so work stays linear in the input.
 */
#ifndef LIBATTESTIO_VRING_H
#define LIBATTESTIO_VRING_H

#include <stdlib.h>
#include <string.h>

struct vring {
	unsigned char *a;
	size_t esz;		/* element size */
	size_t cap;		/* power of two, or 0 */
	size_t head;		/* index of the front element */
	size_t n;		/* elements held */
};

static inline void *vring_at(const struct vring *r, size_t i)
{
	return r->a + ((r->head + i) & (r->cap - 1)) * r->esz;
}

static inline void *vring_front(const struct vring *r)
{
	return r->n ? vring_at(r, 0) : NULL;
}

static inline void *vring_back(const struct vring *r)
{
	return r->n ? vring_at(r, r->n - 1) : NULL;
}

/* Room for one more at the back; NULL when out of memory. */
static inline void *vring_push(struct vring *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		unsigned char *a = malloc(cap * r->esz);

		if (!a)
			return NULL;
		for (size_t i = 0; i < r->n; i++)
			memcpy(a + i * r->esz, vring_at(r, i), r->esz);
		free(r->a);
		r->a = a;
		r->cap = cap;
		r->head = 0;
	}
	r->n++;
	return vring_at(r, r->n - 1);
}

static inline void vring_pop(struct vring *r)
{
	if (!r->n)
		return;
	r->head = (r->head + 1) & (r->cap - 1);
	r->n--;
}

static inline void vring_free(struct vring *r)
{
	free(r->a);
	r->a = NULL;
	r->cap = r->head = r->n = 0;
}

#endif

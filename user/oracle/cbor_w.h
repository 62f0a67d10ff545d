/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny deterministic-CBOR writer over libcbor's item encoders (which
 * always choose the shortest argument), shared by the ack and report
 * codecs.  Writes into a fixed buffer and counts what it would need, so a
 * caller can size the buffer with a first pass.
 */
#ifndef ORACLE_CBOR_W_H
#define ORACLE_CBOR_W_H

#include <stdint.h>
#include <string.h>

#include <cbor.h>

struct cw {
	uint8_t *buf;
	size_t cap, len;	/* len may exceed cap: bytes needed */
};

static inline void cw_put(struct cw *w, const void *p, size_t n)
{
	if (w->len + n <= w->cap && n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void cw_uint(struct cw *w, uint64_t v)
{
	unsigned char t[9];

	cw_put(w, t, cbor_encode_uint(v, t, sizeof(t)));
}

static inline void cw_int(struct cw *w, int64_t v)
{
	unsigned char t[9];

	if (v >= 0)
		cw_put(w, t, cbor_encode_uint((uint64_t)v, t, sizeof(t)));
	else	/* major type 1 carries -1 - v */
		cw_put(w, t, cbor_encode_negint((uint64_t)(-1 - v), t, sizeof(t)));
}

static inline void cw_bytes(struct cw *w, const uint8_t *p, size_t n)
{
	unsigned char t[9];

	cw_put(w, t, cbor_encode_bytestring_start(n, t, sizeof(t)));
	cw_put(w, p, n);
}

static inline void cw_array(struct cw *w, size_t n)
{
	unsigned char t[9];

	cw_put(w, t, cbor_encode_array_start(n, t, sizeof(t)));
}

static inline void cw_map(struct cw *w, size_t n)
{
	unsigned char t[9];

	cw_put(w, t, cbor_encode_map_start(n, t, sizeof(t)));
}

#endif

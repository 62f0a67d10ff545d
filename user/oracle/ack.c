// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Ack codec (ack.h).  Encoding with libcbor's item encoders (shortest
 * arguments); decoding with a small strict reader for the one schema, then
 * a byte-for-byte comparison with the canonical re-encoding of what was
 * read, which rejects every non-canonical form.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/sha.h>

#include "ack.h"
#include "cbor_r.h"
#include "cbor_w.h"

static int entry_cmp(const void *pa, const void *pb)
{
	const struct oracle_ack_entry *a = pa, *b = pb;

	if (a->instance != b->instance)
		return a->instance < b->instance ? -1 : 1;
	if (a->stream != b->stream)
		return a->stream < b->stream ? -1 : 1;
	if (a->generation != b->generation)
		return a->generation < b->generation ? -1 : 1;
	return 0;
}

const char *oracle_ack_entry_check(const struct oracle_ack_entry *e)
{
	if (e->from > e->upto && e->from - e->upto != 1)
		return "ack entry starts after its end";
	if (e->nskip > ORACLE_ACK_MAX_SKIPS)
		return "too many skipped ranges in an ack entry";
	for (uint32_t k = 0; k < e->nskip; k++) {
		const struct oracle_ack_skip *p = &e->skip[k];

		if (p->first > p->last || p->first < e->from || p->last > e->upto)
			return "skipped range outside its ack entry";
		if (k && (p->first <= e->skip[k - 1].last ||
			  p->first - e->skip[k - 1].last == 1))
			return "skipped ranges not increasing and apart";
	}
	return NULL;
}

int oracle_ack_sort(struct oracle_ack *a)
{
	if (a->n > ORACLE_ACK_MAX_ENTRIES)
		return -EINVAL;
	qsort(a->e, a->n, sizeof(a->e[0]), entry_cmp);
	for (size_t i = 1; i < a->n; i++)
		if (!entry_cmp(&a->e[i - 1], &a->e[i]))
			return -EINVAL;
	return 0;
}

int oracle_ack_encode(const struct oracle_ack *a, int body, uint8_t *buf,
		      size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };

	if (a->n > ORACLE_ACK_MAX_ENTRIES)
		return -EINVAL;
	for (size_t i = 0; i < a->n; i++)
		if ((i && entry_cmp(&a->e[i - 1], &a->e[i]) >= 0) ||
		    oracle_ack_entry_check(&a->e[i]))
			return -EINVAL;
	cw_map(&w, body ? 3 : 4);
	cw_uint(&w, OAK_GW);
	cw_bytes(&w, a->gw, ORACLE_GW_ID_LEN);
	cw_uint(&w, OAK_NODE);
	cw_bytes(&w, a->node_id, ORACLE_NODE_ID_LEN);
	cw_uint(&w, OAK_ENTRIES);
	cw_array(&w, a->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct oracle_ack_entry *e = &a->e[i];

		cw_array(&w, 6);
		cw_uint(&w, e->instance);
		cw_uint(&w, e->stream);
		cw_uint(&w, e->generation);
		cw_uint(&w, e->upto);
		cw_uint(&w, e->from);
		cw_array(&w, e->nskip);
		for (uint32_t k = 0; k < e->nskip; k++) {
			cw_array(&w, 2);
			cw_uint(&w, e->skip[k].first);
			cw_uint(&w, e->skip[k].last);
		}
	}
	if (!body) {
		cw_uint(&w, OAK_SIG);
		cw_bytes(&w, a->sig, ORACLE_SIG_LEN);
	}
	*len = w.len;
	return buf && w.len <= cap ? 0 : -ENOSPC;
}

int oracle_ack_digest(const struct oracle_ack *a, uint8_t d[ORACLE_HASH_LEN])
{
	uint8_t *body;
	size_t len = 0;
	int ret;

	ret = oracle_ack_encode(a, 1, NULL, 0, &len);
	if (ret != -ENOSPC)
		return ret ? ret : -EINVAL;
	body = malloc(ORACLE_TAG_ACK_LEN + len);
	if (!body)
		return -ENOMEM;
	memcpy(body, ORACLE_TAG_ACK, ORACLE_TAG_ACK_LEN);
	ret = oracle_ack_encode(a, 1, body + ORACLE_TAG_ACK_LEN, len, &len);
	if (!ret)
		SHA256(body, ORACLE_TAG_ACK_LEN + len, d);
	free(body);
	return ret;
}

int oracle_ack_sign(struct oracle_ack *a, const struct oracle_signer *s)
{
	uint8_t d[ORACLE_HASH_LEN];
	int ret;

	memcpy(a->node_id, s->node_id, ORACLE_NODE_ID_LEN);
	ret = oracle_ack_digest(a, d);
	return ret ? ret : oracle_sign_digest(s, d, a->sig);
}

int oracle_ack_parse(const uint8_t *buf, size_t len, struct oracle_ack *a,
		     const char **why)
{
	struct cr r = { .p = buf, .len = len };
	uint64_t v = 0;
	uint8_t *re = NULL;
	size_t rlen = 0;

	memset(a, 0, sizeof(*a));
	if (len > ORACLE_ACK_MAX_LEN)
		r.why = "ack larger than 128 KiB";
	if (!cr_head(&r, 5, &v) && v != 4)
		r.why = "ack map must have exactly 4 keys";
	cr_key(&r, OAK_GW);
	cr_bytes(&r, a->gw, ORACLE_GW_ID_LEN);
	cr_key(&r, OAK_NODE);
	cr_bytes(&r, a->node_id, ORACLE_NODE_ID_LEN);
	cr_key(&r, OAK_ENTRIES);
	if (!cr_head(&r, 4, &v) && v > ORACLE_ACK_MAX_ENTRIES)
		r.why = "too many ack entries";
	for (uint64_t i = 0; !r.why && i < v; i++) {
		struct oracle_ack_entry *e = &a->e[i];
		uint64_t n = 0;

		if (!cr_head(&r, 4, &n) && n != 6) {
			r.why = "ack entry must have 6 items (format 2)";
			break;
		}
		cr_chain(&r, &e->instance, &e->stream, &e->generation);
		e->upto = cr_uint(&r);
		e->from = cr_uint(&r);
		if (!cr_head(&r, 4, &n) && n > ORACLE_ACK_MAX_SKIPS)
			r.why = "too many skipped ranges in an ack entry";
		for (uint64_t k = 0; !r.why && k < n; k++) {
			uint64_t two = 0;

			if (!cr_head(&r, 4, &two) && two != 2) {
				r.why = "a skipped range must have 2 items";
				break;
			}
			e->skip[k].first = cr_uint(&r);
			e->skip[k].last = cr_uint(&r);
			e->nskip = (uint32_t)k + 1;
		}
		if (!r.why)
			r.why = oracle_ack_entry_check(e);
		a->n = i + 1;
	}
	cr_key(&r, OAK_SIG);
	cr_bytes(&r, a->sig, ORACLE_SIG_LEN);
	if (!r.why && r.off != len)
		r.why = "trailing bytes";
	if (!r.why) {
		for (size_t i = 1; i < a->n; i++)
			if (entry_cmp(&a->e[i - 1], &a->e[i]) >= 0)
				r.why = "ack entries not strictly increasing";
	}
	if (!r.why) {
		re = malloc(len);
		if (!re || oracle_ack_encode(a, 0, re, len, &rlen) ||
		    rlen != len || memcmp(re, buf, len))
			r.why = "not in canonical (deterministic) encoding";
		free(re);
	}
	if (r.why) {
		if (why)
			*why = r.why;
		return -EBADMSG;
	}
	return 0;
}

int oracle_ack_verify(const struct oracle_ack *a, uint8_t pub[ORACLE_PUB_LEN],
		      const char **why)
{
	uint8_t d[ORACLE_HASH_LEN], id[ORACLE_NODE_ID_LEN];

	if (oracle_ack_digest(a, d)) {
		*why = "cannot encode ack";
		return -EBADMSG;
	}
	if (oracle_recover(d, a->sig, pub, why))
		return -EBADMSG;
	oracle_node_id(pub, id);
	if (memcmp(id, a->node_id, ORACLE_NODE_ID_LEN)) {
		*why = "signer is not the ack's node";
		return -EBADMSG;
	}
	return 0;
}

int oracle_unhex(const char *s, uint8_t *out, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < 2 * n; i++) {
		int c = s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		if (i % 2)
			out[i / 2] = (uint8_t)(out[i / 2] << 4 | d);
		else
			out[i / 2] = (uint8_t)d;
	}
	return 0;
}

int oracle_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Deterministic CBOR for round reports (report_cbor.h).  Encoding uses
 * libcbor's item encoders, which always choose the shortest argument;
 * decoding runs libcbor's streaming decoder into a flat token list (no
 * tree is built, so a claimed length never allocates more than the input
 * can hold), walks it against the one fixed schema, and finally demands
 * that the input be byte-identical to the re-encoding of what was read:
 * that rejects every non-shortest integer or length, indefinite item and
 * key order other than the canonical one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "report_cbor.h"
#include "cbor_w.h"

static int report_check(const struct oracle_report *r, const char **why)
{
	const char *w = NULL;

	if (r->core.status > ORACLE_STATUS_MAX)
		w = "unknown status code";
	else if (r->ndevices > ORACLE_AGG_MAX_DEVICES)
		w = "too many devices";
	else if (r->nevidence > ORACLE_EVIDENCE_MAX)
		w = "too many evidence leaves";
	else if ((r->ndevices && !r->devices) || (r->nevidence && !r->evidence))
		w = "missing device or evidence array";
	for (size_t i = 0; !w && i < r->ndevices; i++) {
		if (r->devices[i].excluded > ORACLE_EXCL_MAX)
			w = "unknown exclusion code";
		else if (r->devices[i].value == INT64_MIN)
			w = "device value out of range";
		else if (i && memcmp(r->devices[i - 1].id, r->devices[i].id,
				     ORACLE_ID_LEN) >= 0)
			w = "device ids not strictly increasing";
	}
	if (r->core.value == INT64_MIN)
		w = "value out of range";
	if (w) {
		if (why)
			*why = w;
		return -EINVAL;
	}
	return 0;
}

/* INT64_MIN is refused: its CBOR form (-1 - (2^63 - 1)) is fine, but
 * keeping values symmetric makes |v| and -v safe everywhere downstream. */

int oracle_report_encode(const struct oracle_report *r, int body,
			 uint8_t *buf, size_t cap, size_t *len)
{
	struct cw w = { .buf = buf, .cap = buf ? cap : 0 };
	const struct oracle_core *c = &r->core;
	int ret;

	ret = report_check(r, NULL);
	if (ret)
		return ret;
	cw_map(&w, body ? 9 : ORK_MAX);
	cw_uint(&w, ORK_FEED_ID);
	cw_bytes(&w, c->feed_id, 32);
	cw_uint(&w, ORK_ROUND);
	cw_uint(&w, c->round);
	cw_uint(&w, ORK_VALUE);
	cw_int(&w, c->value);
	cw_uint(&w, ORK_DECIMALS);
	cw_int(&w, c->decimals);
	cw_uint(&w, ORK_STATUS);
	cw_uint(&w, c->status);
	cw_uint(&w, ORK_CONFIG);
	cw_bytes(&w, c->config_digest, 32);
	if (!body) {
		cw_uint(&w, ORK_EVIDENCE_ROOT);
		cw_bytes(&w, c->evidence_root, 32);
	}
	cw_uint(&w, ORK_ROUND_TIME);
	cw_uint(&w, r->round_time);
	cw_uint(&w, ORK_DEVICES);
	cw_array(&w, r->ndevices);
	for (size_t i = 0; i < r->ndevices; i++) {
		const struct oracle_report_device *d = &r->devices[i];

		cw_array(&w, 4);
		cw_bytes(&w, d->id, ORACLE_ID_LEN);
		cw_int(&w, d->value);
		cw_uint(&w, d->weight);
		cw_uint(&w, d->excluded);
	}
	cw_uint(&w, ORK_EVIDENCE);
	cw_array(&w, r->nevidence);
	for (size_t i = 0; i < r->nevidence; i++)
		cw_bytes(&w, r->evidence[i], ORACLE_HASH_LEN);
	if (!body) {
		cw_uint(&w, ORK_NODE_ID);
		cw_bytes(&w, r->node_id, ORACLE_NODE_ID_LEN);
		cw_uint(&w, ORK_SIG);
		cw_bytes(&w, r->sig, ORACLE_SIG_LEN);
	}
	*len = w.len;
	return w.len <= cap && buf ? 0 : -ENOSPC;
}

int oracle_report_evidence_root(const struct oracle_report *r,
				uint8_t root[ORACLE_HASH_LEN])
{
	uint8_t (*leaves)[ORACLE_HASH_LEN];
	uint8_t *body;
	size_t len = 0;
	int ret;

	ret = oracle_report_encode(r, 1, NULL, 0, &len);
	if (ret != -ENOSPC)
		return ret ? ret : -EINVAL;
	body = malloc(len);
	leaves = calloc(r->nevidence + 1, ORACLE_HASH_LEN);
	ret = -ENOMEM;
	if (body && leaves) {
		ret = oracle_report_encode(r, 1, body, len, &len);
		if (!ret) {
			oracle_merkle_leaf(body, len, leaves[0]);
			if (r->nevidence)
				memcpy(leaves[1], r->evidence,
				       r->nevidence * ORACLE_HASH_LEN);
			ret = oracle_merkle_root((const void *)leaves,
						 r->nevidence + 1, root);
		}
	}
	free(body);
	free(leaves);
	return ret;
}

int oracle_report_seal(struct oracle_report *r, const struct oracle_signer *s)
{
	int ret;

	ret = oracle_report_evidence_root(r, r->core.evidence_root);
	if (ret)
		return ret;
	memcpy(r->node_id, s->node_id, ORACLE_NODE_ID_LEN);
	return oracle_sign_core(s, &r->core, r->sig);
}

/* -------------------------------------------------------------- tokens --- */

enum tok_type { T_UINT, T_NEG, T_BYTES, T_ARRAY, T_MAP, T_OTHER };

struct tok {
	enum tok_type type;
	uint64_t v;		/* integer argument or element count */
	const uint8_t *p;	/* bytes */
};

struct toks {
	struct tok *t;
	size_t n, cap;
	bool oom;
};

static void tok_add(struct toks *s, enum tok_type type, uint64_t v,
		    const uint8_t *p)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		struct tok *nt = realloc(s->t, nc * sizeof(*nt));

		if (!nt) {
			s->oom = true;
			return;
		}
		s->t = nt;
		s->cap = nc;
	}
	s->t[s->n++] = (struct tok){ .type = type, .v = v, .p = p };
}

static void cb_u8(void *c, uint8_t v) { tok_add(c, T_UINT, v, NULL); }
static void cb_u16(void *c, uint16_t v) { tok_add(c, T_UINT, v, NULL); }
static void cb_u32(void *c, uint32_t v) { tok_add(c, T_UINT, v, NULL); }
static void cb_u64(void *c, uint64_t v) { tok_add(c, T_UINT, v, NULL); }
static void cb_n8(void *c, uint8_t v) { tok_add(c, T_NEG, v, NULL); }
static void cb_n16(void *c, uint16_t v) { tok_add(c, T_NEG, v, NULL); }
static void cb_n32(void *c, uint32_t v) { tok_add(c, T_NEG, v, NULL); }
static void cb_n64(void *c, uint64_t v) { tok_add(c, T_NEG, v, NULL); }
static void cb_bytes(void *c, cbor_data p, size_t n) { tok_add(c, T_BYTES, n, p); }
static void cb_array(void *c, size_t n) { tok_add(c, T_ARRAY, n, NULL); }
static void cb_map(void *c, size_t n) { tok_add(c, T_MAP, n, NULL); }
static void cb_other(void *c) { tok_add(c, T_OTHER, 0, NULL); }
static void cb_other_s(void *c, cbor_data p, size_t n) { (void)p; (void)n; cb_other(c); }
static void cb_other_i(void *c, uint64_t v) { (void)v; cb_other(c); }
static void cb_other_f(void *c, float v) { (void)v; cb_other(c); }
static void cb_other_d(void *c, double v) { (void)v; cb_other(c); }
static void cb_other_b(void *c, bool v) { (void)v; cb_other(c); }

static const struct cbor_callbacks tok_callbacks = {
	.uint8 = cb_u8, .uint16 = cb_u16, .uint32 = cb_u32, .uint64 = cb_u64,
	.negint8 = cb_n8, .negint16 = cb_n16, .negint32 = cb_n32,
	.negint64 = cb_n64,
	.byte_string = cb_bytes, .byte_string_start = cb_other,
	.string = cb_other_s, .string_start = cb_other,
	.array_start = cb_array, .indef_array_start = cb_other,
	.map_start = cb_map, .indef_map_start = cb_other,
	.tag = cb_other_i, .float2 = cb_other_f, .float4 = cb_other_f,
	.float8 = cb_other_d, .undefined = cb_other, .null = cb_other,
	.boolean = cb_other_b, .indef_break = cb_other,
};

/* ------------------------------------------------------------- parser --- */

struct rd {
	const struct tok *t;
	size_t n, i;
	const char *why;
};

static const struct tok *next(struct rd *r, enum tok_type type, const char *w)
{
	if (r->why)
		return NULL;
	if (r->i >= r->n || r->t[r->i].type != type) {
		r->why = w;
		return NULL;
	}
	return &r->t[r->i++];
}

static bool rd_key(struct rd *r, uint64_t key)
{
	const struct tok *t = next(r, T_UINT, "map key is not an unsigned integer");

	if (t && t->v != key)
		r->why = "unknown, missing or misordered map key";
	return !r->why;
}

static void rd_bytes(struct rd *r, uint8_t *out, size_t n, const char *w)
{
	const struct tok *t = next(r, T_BYTES, w);

	if (t && t->v != n)
		r->why = w;
	else if (t)
		memcpy(out, t->p, n);
}

static uint64_t rd_uint(struct rd *r, uint64_t max, const char *w)
{
	const struct tok *t = next(r, T_UINT, w);

	if (t && t->v > max)
		r->why = w;
	return t ? t->v : 0;
}

static int64_t rd_int(struct rd *r, int64_t min, int64_t max, const char *w)
{
	const struct tok *t;
	int64_t v;

	if (r->why)
		return 0;
	if (r->i >= r->n) {
		r->why = w;
		return 0;
	}
	t = &r->t[r->i++];
	if (t->type == T_UINT && t->v <= INT64_MAX)
		v = (int64_t)t->v;
	else if (t->type == T_NEG && t->v <= INT64_MAX)
		v = -1 - (int64_t)t->v;
	else {
		r->why = w;
		return 0;
	}
	if (v < min || v > max)
		r->why = w;
	return v;
}

static size_t rd_array(struct rd *r, size_t max, const char *w)
{
	const struct tok *t = next(r, T_ARRAY, w);

	/* every element is at least one token */
	if (t && (t->v > max || t->v > r->n - r->i)) {
		r->why = w;
		return 0;
	}
	return t ? t->v : 0;
}

void oracle_report_release(struct oracle_report *r)
{
	free(r->devices);
	free(r->evidence);
	r->devices = NULL;
	r->evidence = NULL;
	r->ndevices = r->nevidence = 0;
}

static void walk(struct rd *d, struct oracle_report *r)
{
	struct oracle_core *c = &r->core;
	const struct tok *t;

	t = next(d, T_MAP, "report is not a map");
	if (t && t->v != ORK_MAX)
		d->why = "report map does not have exactly 12 keys";
	if (rd_key(d, ORK_FEED_ID))
		rd_bytes(d, c->feed_id, 32, "feed id is not a 32-byte string");
	if (rd_key(d, ORK_ROUND))
		c->round = rd_uint(d, UINT64_MAX, "round is not an unsigned integer");
	if (rd_key(d, ORK_VALUE))
		c->value = rd_int(d, -INT64_MAX, INT64_MAX, "value is not a 64-bit integer");
	if (rd_key(d, ORK_DECIMALS))
		c->decimals = (int8_t)rd_int(d, -128, 127, "decimals not an integer in -128..127");
	if (rd_key(d, ORK_STATUS))
		c->status = (uint8_t)rd_uint(d, ORACLE_STATUS_MAX, "unknown status code");
	if (rd_key(d, ORK_CONFIG))
		rd_bytes(d, c->config_digest, 32, "config digest is not a 32-byte string");
	if (rd_key(d, ORK_EVIDENCE_ROOT))
		rd_bytes(d, c->evidence_root, 32, "evidence root is not a 32-byte string");
	if (rd_key(d, ORK_ROUND_TIME))
		r->round_time = rd_uint(d, UINT64_MAX, "round time is not an unsigned integer");
	if (rd_key(d, ORK_DEVICES)) {
		r->ndevices = rd_array(d, ORACLE_AGG_MAX_DEVICES, "devices is not an array of at most 1024");
		if (r->ndevices) {
			r->devices = calloc(r->ndevices, sizeof(*r->devices));
			if (!r->devices)
				d->why = "out of memory";
		}
		for (size_t i = 0; !d->why && i < r->ndevices; i++) {
			struct oracle_report_device *v = &r->devices[i];

			if (rd_array(d, 4, "device entry is not an array of 4") != 4 && !d->why)
				d->why = "device entry is not an array of 4";
			rd_bytes(d, v->id, ORACLE_ID_LEN, "device id is not a 16-byte string");
			v->value = rd_int(d, -INT64_MAX, INT64_MAX, "device value is not a 64-bit integer");
			v->weight = rd_uint(d, UINT64_MAX, "device weight is not an unsigned integer");
			v->excluded = (uint8_t)rd_uint(d, ORACLE_EXCL_MAX, "unknown exclusion code");
			if (!d->why && i &&
			    memcmp(r->devices[i - 1].id, v->id, ORACLE_ID_LEN) >= 0)
				d->why = "device ids not strictly increasing";
		}
	}
	if (rd_key(d, ORK_EVIDENCE)) {
		r->nevidence = rd_array(d, ORACLE_EVIDENCE_MAX, "evidence is not an array of at most 4096");
		if (r->nevidence) {
			r->evidence = calloc(r->nevidence, ORACLE_HASH_LEN);
			if (!r->evidence)
				d->why = "out of memory";
		}
		for (size_t i = 0; !d->why && i < r->nevidence; i++)
			rd_bytes(d, r->evidence[i], ORACLE_HASH_LEN,
				 "evidence leaf is not a 32-byte string");
	}
	if (rd_key(d, ORK_NODE_ID))
		rd_bytes(d, r->node_id, ORACLE_NODE_ID_LEN, "node id is not a 16-byte string");
	if (rd_key(d, ORK_SIG))
		rd_bytes(d, r->sig, ORACLE_SIG_LEN, "signature is not a 65-byte string");
	if (!d->why && d->i != d->n)
		d->why = "trailing data after the report";
}

int oracle_report_parse(const uint8_t *buf, size_t len,
			struct oracle_report *r, const char **why)
{
	struct toks s = { 0 };
	struct cbor_decoder_result res;
	struct rd d = { 0 };
	uint8_t *re = NULL;
	size_t off = 0, relen = 0;
	int ret = -EBADMSG;

	memset(r, 0, sizeof(*r));
	if (len > ORACLE_REPORT_MAX) {
		if (why)
			*why = "report larger than 256 KiB";
		return -EMSGSIZE;
	}
	while (off < len) {
		res = cbor_stream_decode(buf + off, len - off, &tok_callbacks, &s);
		if (res.status != CBOR_DECODER_FINISHED || !res.read) {
			d.why = "malformed or truncated CBOR";
			goto out;
		}
		if (s.oom) {
			d.why = "out of memory";
			goto out;
		}
		off += res.read;
	}
	d.t = s.t;
	d.n = s.n;
	walk(&d, r);
	if (d.why)
		goto out;
	/* canonical form: the input must be exactly our encoding */
	re = malloc(len ? len : 1);
	if (!re) {
		d.why = "out of memory";
		goto out;
	}
	if (oracle_report_encode(r, 0, re, len, &relen) || relen != len ||
	    memcmp(re, buf, len)) {
		d.why = "not in deterministic encoding (RFC 8949 4.2)";
		goto out;
	}
	ret = 0;
out:
	free(re);
	free(s.t);
	if (ret) {
		oracle_report_release(r);
		if (why)
			*why = d.why;
	}
	return ret;
}

int oracle_report_verify(const struct oracle_report *r,
			 uint8_t pub[ORACLE_PUB_LEN], const char **why)
{
	uint8_t root[ORACLE_HASH_LEN], d[ORACLE_HASH_LEN], id[ORACLE_NODE_ID_LEN];
	int ret;

	ret = oracle_report_evidence_root(r, root);
	if (ret) {
		if (why)
			*why = "report body cannot be encoded";
		return -EBADMSG;
	}
	if (memcmp(root, r->core.evidence_root, ORACLE_HASH_LEN)) {
		if (why)
			*why = "evidence root does not match the report body";
		return -EBADMSG;
	}
	oracle_core_digest(&r->core, d);
	ret = oracle_recover(d, r->sig, pub, why);
	if (ret)
		return ret;
	oracle_node_id(pub, id);
	if (memcmp(id, r->node_id, ORACLE_NODE_ID_LEN)) {
		if (why)
			*why = "signer is not the report's node id";
		return -EBADMSG;
	}
	return 0;
}

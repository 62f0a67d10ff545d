// SPDX-License-Identifier: GPL-2.0
/*
 * liboracle evidence bundles (bundle.c) and verify-report's checks
 * (vreport.c): Merkle vectors, the config text, the codec's strictness,
 * and a whole halted round re-verified with a tamper of each part.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <endian.h>
#include <linux/attestio.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "beacon.h"
#include "bundle.h"
#include "report_cbor.h"
#include "sim.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Fixed vectors (Python hashlib): leaf = H(00 || item), node = H(01 || l || r). */
static void merkle_vectors(void **state)
{
	uint8_t lf[3][32], root[32], want[32];

	(void)state;
	oracle_merkle_leaf((const uint8_t *)"a", 1, lf[0]);
	oracle_merkle_leaf((const uint8_t *)"b", 1, lf[1]);
	oracle_merkle_leaf((const uint8_t *)"c", 1, lf[2]);
	unhex("022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c", want, 32);
	assert_int_equal(oracle_merkle_root((const void *)lf, 1, root), 0);
	assert_memory_equal(root, want, 32);	/* one leaf: the leaf */
	unhex("b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb", want, 32);
	assert_int_equal(oracle_merkle_root((const void *)lf, 2, root), 0);
	assert_memory_equal(root, want, 32);
	unhex("36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1", want, 32);
	assert_int_equal(oracle_merkle_root((const void *)lf, 3, root), 0);
	assert_memory_equal(root, want, 32);	/* odd: c carried up */
}

/* ------------------------------------------------------------- fixture --- */

#define NGW 3
static struct oracle_signer signers[4];
static uint8_t pubs[4][ORACLE_PUB_LEN];
static char cfg_text[4096];
static size_t cfg_len;
static uint8_t gws[NGW][16];
static int cfg_chan_type = -1;	/* the feed's channel_type line, -1: none */
/* What the config commits to as gws[0]'s AK and policy (the nodes'
 * files); NULL/0: no AK (empty file), no policy. */
static const uint8_t *cfg_ak0;
static size_t cfg_ak0_len;
static const char *cfg_pol0;
static bool cfg_commit_fixed;	/* false: build_dev0 commits to dev0's own */
static const char *cfg_beacon;	/* the config's beacon line, NULL: off */

static void make_config(unsigned int t)
{
	char *p = cfg_text;
	size_t left = sizeof(cfg_text);
	int n;

	n = snprintf(p, left, "feed unit\ndecimals 2\nperiod 10\nstart 1000\n"
		     "heartbeat 30\ntau 5\ndelta 100\nconfirm_rounds 0\n"
		     "min_devices 3\nmin_gateways 2\nmin_weight 0\n"
		     "gateway_cap 0\nsite_cap 0\n");
	p += n;
	left -= (size_t)n;
	if (cfg_chan_type >= 0) {
		n = snprintf(p, left, "channel_type %d\n", cfg_chan_type);
		p += n;
		left -= (size_t)n;
	}
	if (cfg_beacon) {
		n = snprintf(p, left, "%s\n", cfg_beacon);
		p += n;
		left -= (size_t)n;
	}
	for (int i = 0; i < NGW; i++) {
		char hex[33];

		oracle_hex(gws[i], 16, hex);
		n = snprintf(p, left, "stream %s 0 0 tier 1 site %s\n", hex, hex);
		p += n;
		left -= (size_t)n;
	}
	for (int i = 0; i < NGW; i++) {
		uint8_t h[32];
		char hex[33], ak[65], pol[65] = "none";

		oracle_hex(gws[i], 16, hex);
		SHA256(i ? NULL : cfg_ak0, i ? 0 : cfg_ak0_len, h);
		oracle_hex(h, 32, ak);
		if (!i && cfg_pol0) {
			SHA256((const uint8_t *)cfg_pol0, strlen(cfg_pol0), h);
			oracle_hex(h, 32, pol);
		}
		n = snprintf(p, left, "gateway %s ak %s policy %s\n", hex, ak, pol);
		p += n;
		left -= (size_t)n;
	}
	for (int k = 0; k < 4; k++) {
		char hex[2 * ORACLE_PUB_LEN + 1];

		oracle_hex(pubs[k], ORACLE_PUB_LEN, hex);
		n = snprintf(p, left, "node %s\n", hex);
		p += n;
		left -= (size_t)n;
	}
	n = snprintf(p, left, "t %u\n", t);
	p += n;
	cfg_len = (size_t)(p - cfg_text);
}

static int setup(void **state)
{
	(void)state;
	for (int k = 0; k < 4; k++) {
		uint8_t key[32] = { 0 };

		key[31] = (uint8_t)(k + 1);
		assert_int_equal(oracle_signer_init(&signers[k], key), 0);
		memcpy(pubs[k], signers[k].pub, ORACLE_PUB_LEN);
	}
	for (int i = 0; i < NGW; i++)
		memset(gws[i], 0x10 * (i + 1), 16);
	make_config(2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < 4; k++)
		oracle_signer_fini(&signers[k]);
	return 0;
}

enum mut {
	M_NONE, M_TIER, M_DEVID, M_VALUE, M_WEIGHT, M_DIGEST, M_STATE_ITEM,
	M_ROUND_TIME,
};

struct built {
	uint8_t fin[ORACLE_FINAL_MAX];
	size_t flen;
	uint8_t *bundle;
	size_t blen;
};

/*
 * A halted round (no device has a reading: every one is stale) as a node
 * makes it, signed by nodes 1 and 2; @m changes one thing before the
 * report is sealed, so only the deeper checks can catch it.
 */
struct dev0 {
	const uint8_t *ak;
	size_t ak_len;
	const char *policy;	/* NULL: none */
	size_t nchains;
	struct oracle_bundle_chain chains[4];
	int64_t value;		/* its round input */
	uint64_t time;
	size_t nbeacons;	/* the bundle's beacons item: signed messages */
	const uint8_t *bmsg[4];
	size_t blen[4];
};

static void build_dev0(struct built *b, enum mut m, const struct dev0 *d0)
{
	struct oracle_bundle_dev dev[NGW];
	struct oracle_agg_input in[NGW];
	struct oracle_agg_contrib out[NGW];
	struct oracle_report_device rdev[NGW];
	struct oracle_feed_state st = { 0 };
	struct oracle_agg_result res = { 0 };
	struct oracle_report rep = { 0 };
	struct oracle_final fin = { 0 };
	struct oracle_feed_params p;
	uint8_t *items[NGW + 2], ev[NGW + 2][32], *rbuf = malloc(ORACLE_REPORT_MAX);
	size_t ilen[NGW + 2], rlen = 0, len = 0, nitems = NGW + 1;
	const char *why;
	struct oracle_cfg *cfg = malloc(sizeof(*cfg));

	assert_non_null(rbuf);
	assert_non_null(cfg);
	if (!cfg_commit_fixed) {	/* the nodes' files are the bundle's */
		cfg_ak0 = d0 ? d0->ak : NULL;
		cfg_ak0_len = d0 ? d0->ak_len : 0;
		cfg_pol0 = d0 ? d0->policy : NULL;
		make_config(2);
	}
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, cfg, &why), 0);
	p = cfg->p;
	memset(dev, 0, sizeof(dev));
	memset(in, 0, sizeof(in));
	for (int i = 0; i < NGW; i++) {
		memcpy(dev[i].gw, gws[i], 16);
		oracle_device_id(gws[i], 0, dev[i].device);
		dev[i].tier = 1;
		dev[i].reputation = ORACLE_REP_INITIAL;
		memcpy(in[i].device, dev[i].device, 16);
		memcpy(in[i].gateway, gws[i], 16);
		memcpy(in[i].site, cfg->s[i].site, 16);
		in[i].tier = 1;
		in[i].reputation = ORACLE_REP_INITIAL;
		if (i || !d0)
			continue;
		dev[i].ak = d0->ak;
		dev[i].ak_len = d0->ak_len;
		dev[i].policy = (const uint8_t *)d0->policy;
		dev[i].policy_len = d0->policy ? strlen(d0->policy) : 0;
		dev[i].nchains = d0->nchains;
		memcpy(dev[i].chains, d0->chains, sizeof(d0->chains));
		in[i].value = d0->value;
		in[i].time = d0->time;
	}
	/* the node sorts its devices by id */
	for (int i = 0; i < NGW; i++)
		for (int j = i + 1; j < NGW; j++)
			if (memcmp(dev[j].device, dev[i].device, 16) < 0) {
				struct oracle_bundle_dev td = dev[i];
				struct oracle_agg_input ti = in[i];

				dev[i] = dev[j];
				dev[j] = td;
				in[i] = in[j];
				in[j] = ti;
			}
	assert_int_equal(oracle_agg_round(&p, &st, 3, 1030, in, NGW, out, &res, &why), 0);
	assert_int_not_equal(res.status, ORACLE_SETTLED);
	if (m == M_TIER)
		dev[1].tier = 2;
	if (m == M_DEVID)
		dev[0].device[5] ^= 1;
	if (m == M_STATE_ITEM)
		st.last_round = 7;
	assert_int_equal(oracle_bundle_config_item(cfg_text, cfg_len, &st, NULL, 0, &ilen[0]), -ENOSPC);
	items[0] = malloc(ilen[0]);
	assert_int_equal(oracle_bundle_config_item(cfg_text, cfg_len, &st, items[0], ilen[0], &len), 0);
	oracle_merkle_leaf(items[0], ilen[0], ev[0]);
	for (int i = 0; i < NGW; i++) {
		assert_int_equal(oracle_bundle_device_item(&dev[i], NULL, 0, &ilen[i + 1]), -ENOSPC);
		items[i + 1] = malloc(ilen[i + 1]);
		assert_int_equal(oracle_bundle_device_item(&dev[i], items[i + 1], ilen[i + 1], &len), 0);
		oracle_merkle_leaf(items[i + 1], ilen[i + 1], ev[i + 1]);
		memcpy(rdev[i].id, out[i].device, 16);
		rdev[i].value = out[i].value;
		rdev[i].weight = out[i].weight + (m == M_WEIGHT && i == 2);
		rdev[i].excluded = out[i].excluded;
	}
	if (d0 && d0->nbeacons) {	/* the beacons item, last */
		assert_int_equal(oracle_bundle_beacons_item(d0->bmsg, d0->blen,
			d0->nbeacons, NULL, 0, &ilen[nitems]), -ENOSPC);
		items[nitems] = malloc(ilen[nitems]);
		assert_int_equal(oracle_bundle_beacons_item(d0->bmsg, d0->blen,
			d0->nbeacons, items[nitems], ilen[nitems], &len), 0);
		oracle_merkle_leaf(items[nitems], ilen[nitems], ev[nitems]);
		nitems++;
	}
	oracle_feed_id("unit", rep.core.feed_id);
	rep.core.round = 3;
	rep.core.value = res.median_valid ? res.value : 0;
	if (m == M_VALUE)
		rep.core.value = 2315;
	rep.core.decimals = 2;
	rep.core.status = res.status;
	oracle_config_digest(cfg_text, cfg_len, rep.core.config_digest);
	if (m == M_DIGEST)
		rep.core.config_digest[0] ^= 1;
	rep.round_time = m == M_ROUND_TIME ? 1031 : 1030;
	rep.ndevices = NGW;
	rep.devices = rdev;
	rep.nevidence = nitems;
	rep.evidence = ev;
	assert_int_equal(oracle_report_seal(&rep, &signers[0]), 0);
	assert_int_equal(oracle_report_encode(&rep, 0, rbuf, ORACLE_REPORT_MAX, &rlen), 0);
	assert_int_equal(oracle_bundle_encode(rbuf, rlen, (const uint8_t *const *)items,
					      ilen, nitems, NULL, 0, &b->blen), -ENOSPC);
	b->bundle = malloc(b->blen);
	assert_int_equal(oracle_bundle_encode(rbuf, rlen, (const uint8_t *const *)items,
					      ilen, nitems, b->bundle, b->blen, &len), 0);
	oracle_core_encode(&rep.core, fin.core);
	fin.nsigs = 2;
	assert_int_equal(oracle_sign_core(&signers[0], &rep.core, fin.sigs[0]), 0);
	assert_int_equal(oracle_sign_core(&signers[1], &rep.core, fin.sigs[1]), 0);
	assert_int_equal(oracle_final_encode(&fin, b->fin, sizeof(b->fin), &b->flen), 0);
	for (size_t i = 0; i < nitems; i++)
		free(items[i]);
	free(rbuf);
	free(cfg);
}

static void build(struct built *b, enum mut m)
{
	build_dev0(b, m, NULL);
}

static int vr(const struct built *b, size_t nnodes, struct oracle_vr_result *res)
{
	return oracle_verify_report(b->fin, b->flen, b->bundle, b->blen,
				    (const uint8_t (*)[ORACLE_PUB_LEN])pubs, nnodes,
				    NULL, 0, 0, res);
}

static void verify_halted(void **state)
{
	struct oracle_vr_result res;
	struct built b;

	(void)state;
	build(&b, M_NONE);
	assert_int_equal(vr(&b, 4, &res), 0);
	assert_int_equal(res.signers, 2);
	assert_int_equal(res.t, 2);
	assert_int_equal(res.devices, NGW);
	assert_int_equal(res.simulated_devices, 0);	/* no chains, no AK */
	assert_int_not_equal(res.core.status, ORACLE_SETTLED);
	/* a whitelist without signer 2 (nodes 1, 3, 4 would be the list
	 * without it: here simply the first one only, t = 2) */
	assert_int_equal(vr(&b, 1, &res), -EBADMSG);
	assert_non_null(strstr(res.why, "signatures"));
	free(b.bundle);
}

/* Every single byte of the bundle and of the final report matters. */
static void tamper_each_byte(void **state)
{
	struct oracle_vr_result res;
	struct built b;
	size_t step;

	(void)state;
	build(&b, M_NONE);
	step = b.blen / 400 + 1;
	for (size_t i = 0; i < b.blen; i += step) {
		b.bundle[i] ^= 0x20;
		if (vr(&b, 4, &res) != -EBADMSG)
			fail_msg("bundle byte %zu of %zu flipped: verified", i, b.blen);
		b.bundle[i] ^= 0x20;
	}
	for (size_t i = 0; i < b.flen; i++) {
		b.fin[i] ^= 0x01;
		if (vr(&b, 4, &res) != -EBADMSG)
			fail_msg("final report byte %zu flipped: verified", i);
		b.fin[i] ^= 0x01;
	}
	/* truncation at every length: refused, never read past */
	for (size_t n = 0; n < b.blen; n += step)
		assert_int_equal(oracle_verify_report(b.fin, b.flen, b.bundle, n,
			(const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4, NULL, 0, 0, &res),
			-EBADMSG);
	assert_int_equal(vr(&b, 4, &res), 0);
	free(b.bundle);
}

/* Tampers a node could sign (Merkle root and signatures consistent):
 * the deeper checks catch each, with the reason. */
static void tamper_signed(void **state)
{
	static const struct { enum mut m; const char *why; } cases[] = {
		{ M_TIER, "tier 2 above the configured 1" },
		{ M_DEVID, "device 0: not the report's device 0" },
		{ M_VALUE, "aggregation: recomputed" },
		{ M_WEIGHT, "device 2: recomputed" },
		{ M_DIGEST, "config digest is not the oracle set's" },
		{ M_ROUND_TIME, "round 3 ends at 1030" },
	};
	struct oracle_vr_result res;
	struct built b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(&b, cases[i].m);
		assert_int_equal(vr(&b, 4, &res), -EBADMSG);
		if (!strstr(res.why, cases[i].why))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, res.why, cases[i].why);
		free(b.bundle);
	}
}

/* The config text: exactly the node's lines, in order. */
static void config_text(void **state)
{
	struct oracle_cfg *c = malloc(sizeof(*c));
	char bad[4096];
	const char *why;

	(void)state;
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
	assert_string_equal(c->name, "unit");
	assert_int_equal(c->nstreams, NGW);
	assert_int_equal(c->nnodes, 4);
	assert_int_equal(c->t, 2);
	assert_int_equal(c->p.tau, 5);
	assert_int_equal(c->period, 10);
	/* a trailing line, a missing t, t above n, an unknown line */
	memcpy(bad, cfg_text, cfg_len);
	memcpy(bad + cfg_len, "x\n", 2);
	assert_int_equal(oracle_cfg_parse(bad, cfg_len + 2, c, &why), -EBADMSG);
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len - 4, c, &why), -EBADMSG);
	make_config(5);
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), -EBADMSG);
	make_config(2);
	memcpy(bad, cfg_text, cfg_len);
	memcpy(strstr(bad, "tau"), "tax", 3);
	assert_int_equal(oracle_cfg_parse(bad, cfg_len, c, &why), -EBADMSG);
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
	assert_int_equal(c->chan_type, -1);
	/* channel_type (the node writes it when the feed sets it) */
	cfg_chan_type = 9;
	make_config(2);
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
	assert_int_equal(c->chan_type, 9);
	assert_int_equal(c->nstreams, NGW);
	memcpy(bad, cfg_text, cfg_len);
	memcpy(strstr(bad, "channel_type 9"), "channel_type x", 14);
	assert_int_equal(oracle_cfg_parse(bad, cfg_len, c, &why), -EBADMSG);
	/* not canonical: a leading zero */
	{
		char *at = strstr(cfg_text, "channel_type 9");
		size_t head = (size_t)(at - cfg_text);

		memcpy(bad, cfg_text, head);
		memcpy(bad + head, "channel_type 09", 15);
		memcpy(bad + head + 15, at + 14, cfg_len - head - 14);
		assert_int_equal(oracle_cfg_parse(bad, cfg_len + 1, c, &why), -EBADMSG);
	}
	cfg_chan_type = -1;
	make_config(2);
	/* one gateway line per gateway of the streams, in their order */
	assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
	assert_int_equal(c->ngws, NGW);
	assert_false(c->gws[0].enrolled);
	assert_false(c->gws[0].has_policy);
	{
		char *g1 = strstr(cfg_text, "gateway "), *g2, *nd;
		size_t l1, l2, head = (size_t)(g1 - cfg_text);
		uint8_t d1[32], d2[32];

		g2 = strchr(g1, '\n') + 1;
		nd = strchr(g2, '\n') + 1;
		l1 = (size_t)(g2 - g1);
		l2 = (size_t)(nd - g2);
		/* swapped: refused */
		memcpy(bad, cfg_text, cfg_len);
		memcpy(bad + head, g2, l2);
		memcpy(bad + head + l2, g1, l1);
		assert_int_equal(oracle_cfg_parse(bad, cfg_len, c, &why), -EBADMSG);
		/* the first one left out: refused */
		memcpy(bad, cfg_text, head);
		memcpy(bad + head, g2, cfg_len - head - l1);
		assert_int_equal(oracle_cfg_parse(bad, cfg_len - l1, c, &why), -EBADMSG);
		/* upper-case hex: not canonical */
		memcpy(bad, cfg_text, cfg_len);
		memcpy(strstr(bad, " ak ") + 4, "E3", 2);
		assert_int_equal(oracle_cfg_parse(bad, cfg_len, c, &why), -EBADMSG);
		assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
		/* the digest changes with the AK or the policy */
		oracle_config_digest(cfg_text, cfg_len, d1);
		cfg_ak0 = (const uint8_t *)"another key";
		cfg_ak0_len = 11;
		make_config(2);
		oracle_config_digest(cfg_text, cfg_len, d2);
		assert_memory_not_equal(d1, d2, 32);
		assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
		cfg_pol0 = "81 00\n";
		make_config(2);
		oracle_config_digest(cfg_text, cfg_len, d1);
		assert_memory_not_equal(d1, d2, 32);
		assert_int_equal(oracle_cfg_parse(cfg_text, cfg_len, c, &why), 0);
		assert_true(c->gws[0].has_policy);
		cfg_ak0 = NULL;
		cfg_ak0_len = 0;
		cfg_pol0 = NULL;
		make_config(2);
	}
	/* an identity pin after its stream (config_feed_text): parsed;
	 * anywhere else: refused */
	{
		char *at = strchr(strstr(cfg_text, "stream "), '\n') + 1;
		size_t head = (size_t)(at - cfg_text);
		static const char idl[] = "identity "
			"a10000000000000000000000000000000000000000000000000000000000005e\n";
		size_t il = strlen(idl);

		memcpy(bad, cfg_text, head);
		memcpy(bad + head, idl, il);
		memcpy(bad + head + il, at, cfg_len - head);
		assert_int_equal(oracle_cfg_parse(bad, cfg_len + il, c, &why), 0);
		memcpy(bad + head + il, idl, il);
		memcpy(bad + head + 2 * il, at, cfg_len - head);
		assert_int_equal(oracle_cfg_parse(bad, cfg_len + 2 * il, c, &why), -EBADMSG);
	}
	free(c);
}

/* The codec: what parses re-encodes to the same bytes; a non-shortest
 * head or trailing byte is refused. */
static void codec_strict(void **state)
{
	struct oracle_bundle pb;
	struct built b;
	uint8_t *x;
	const char *why;

	(void)state;
	build(&b, M_NONE);
	assert_int_equal(oracle_bundle_parse(b.bundle, b.blen, &pb, &why), 0);
	assert_int_equal(pb.nitems, NGW + 1);
	assert_int_equal(pb.ndev, NGW);
	assert_int_equal(pb.cfg_len, cfg_len);
	assert_memory_equal(pb.cfg_text, cfg_text, cfg_len);
	assert_int_equal(pb.dev[0].tier, 1);
	oracle_bundle_release(&pb);
	x = malloc(b.blen + 1);
	memcpy(x, b.bundle, b.blen);
	x[b.blen] = 0;
	assert_int_equal(oracle_bundle_parse(x, b.blen + 1, &pb, &why), -EBADMSG);
	assert_string_equal(why, "trailing bytes");
	/* map of 2 written as a1-byte-argument head: a2 -> b8 02 */
	memmove(x + 2, x + 1, b.blen - 1);
	x[0] = 0xb8;
	x[1] = 0x02;
	assert_int_equal(oracle_bundle_parse(x, b.blen + 1, &pb, &why), -EBADMSG);
	free(x);
	free(b.bundle);
}


/* ---------------------------------------------- records of a device --- */

/* A simulated gateway's chain for gws[0]'s stream 0: descriptor (captured
 * at @first - 1 s), readings @v[] (raw, one a second from @first s), a
 * checkpoint after each reading in @cp_after (bit k: after reading k,
 * captured 1 ns after it).  Records appended to @buf. */
static size_t sim_chain_t(EVP_PKEY *key, const int16_t *v, int nv,
			  unsigned int cp_after, uint8_t *buf, size_t *cp1_end,
			  const uint8_t (*bcn)[32], uint64_t first)
{
	struct att_sim_qopt q = { .key = key };
	struct att_sim_chain s, *ss = &s;
	struct att_sim_cp cp;
	size_t off = 0;
	uint64_t epoch = 1;

	att_sim_chain_init(&s, 0x1122334455667788ULL, 0, 0);
	assert_int_equal(att_sim_desc(&s, buf, 1000, (first - 1) * 1000000000ULL), 0);
	off += att_sim_desc_len();
	for (int k = 0; k < nv; k++) {
		uint64_t real = first * 1000000000ULL + (uint64_t)k * 1000000000ULL;

		memset(buf + off, 0, att_sim_sample_len());
		assert_int_equal(att_sim_sample(&s, buf + off, v[k], 2000 + k, real), 0);
		off += att_sim_sample_len();
		if (!(cp_after & (1u << k)))
			continue;
		q.clock = 5000 + epoch * 1000;
		/* epoch e's checkpoint covers bcn[e - 1] (all zero: none) */
		q.beacon = bcn ? bcn[epoch - 1] : NULL;
		assert_int_equal(att_sim_cp_prepare(&cp, &ss, 1, epoch++, &q), 0);
		memset(buf + off, 0, cp.len);
		assert_int_equal(att_sim_cp_write(&cp, &s, 0, buf + off, 2000 + k, real + 1), 0);
		off += cp.len;
		if (cp1_end && !*cp1_end)
			*cp1_end = off;
	}
	return off;
}

/* The same from 1021 s: the descriptor at round 3's start, 1020 s. */
static size_t sim_chain_b(EVP_PKEY *key, const int16_t *v, int nv,
			  unsigned int cp_after, uint8_t *buf, size_t *cp1_end,
			  const uint8_t (*bcn)[32])
{
	return sim_chain_t(key, v, nv, cp_after, buf, cp1_end, bcn, 1021);
}

static size_t sim_chain(EVP_PKEY *key, const int16_t *v, int nv,
			unsigned int cp_after, uint8_t *buf, size_t *cp1_end)
{
	return sim_chain_b(key, v, nv, cp_after, buf, cp1_end, NULL);
}

static uint8_t *sim_ak(EVP_PKEY **key, size_t *len)
{
	char path[] = "/tmp/test_oracle_bundle_akXXXXXX";
	int fd = mkstemp(path);
	uint8_t *pem = malloc(4096);
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	*key = EVP_EC_gen("P-256");
	assert_non_null(*key);
	assert_int_equal(att_sim_write_ak(*key, path), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	*len = fread(pem, 1, 4096, f);
	fclose(f);
	unlink(path);
	assert_true(*len > 0);
	return pem;
}

/* gws[0]'s pinned AK (the file its nodes are configured with) */
static struct oracle_vr_gw pin0;

static int vr_sim(const struct built *b, struct oracle_vr_result *res)
{
	return oracle_verify_report(b->fin, b->flen, b->bundle, b->blen,
				    (const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4,
				    &pin0, 1, ORACLE_VR_ALLOW_SIMULATED, res);
}

/* @d0 gets a fresh simulated AK (its key to *@key), pinned as gws[0]'s. */
static void sim_pinned(struct dev0 *d0, EVP_PKEY **key)
{
	d0->ak = sim_ak(key, &d0->ak_len);
	memcpy(pin0.id, gws[0], 16);
	pin0.ak = d0->ak;
	pin0.ak_len = d0->ak_len;
}

/* With ATTESTIO_FUZZ_SEEDS set, @b's bundle is written there as seed
 * @name of fuzz_bundle (tests/fuzz/corpus/bundle). */
static void fuzz_seed(const char *name, const struct built *b)
{
	const char *dir = getenv("ATTESTIO_FUZZ_SEEDS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->bundle, 1, b->blen, f), b->blen);
	fclose(f);
}

/*
 * The device's round input comes from its verified readings, each once:
 * a bundle that repeats a chain segment (here the chain's first part up
 * to its first checkpoint, a second time as a chain of its own) counts
 * those readings twice and moves the device's median (3 readings 100,
 * 200, 300 -> 200; with 100 twice -> 100).  Refused.
 */
static void duplicate_readings(void **state)
{
	static const int16_t v[] = { 100, 200, 300 };
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	uint8_t *recs = calloc(1, 16384);
	struct built b;
	EVP_PKEY *key;
	size_t cp1 = 0, len;

	(void)state;
	sim_pinned(&d0, &key);
	len = sim_chain(key, v, 3, 1u | 4u, recs, &cp1);
	/* honest: one chain, the median of its three readings */
	d0.nchains = 1;
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len = len };
	d0.time = 1023;
	d0.value = 200;		/* raw 200 (x10 milli degC), 2 decimals */
	build_dev0(&b, M_NONE, &d0);
	if (vr_sim(&b, &res))
		fail_msg("honest bundle: %s", res.why);
	assert_int_equal(res.readings, 3);
	assert_int_equal(res.simulated_devices, 1);	/* admitted, and said */
	free(b.bundle);
	/* a feed with channel_type: the temperature channel (IIO_TEMP, 9)
	 * gives the same readings; another type gives none, as at the node
	 * (ingest's pin-mismatch), so a value from them is refused */
	cfg_chan_type = 9;
	make_config(2);
	build_dev0(&b, M_NONE, &d0);
	if (vr_sim(&b, &res))
		fail_msg("channel_type temp: %s", res.why);
	assert_int_equal(res.readings, 3);
	free(b.bundle);
	cfg_chan_type = 0;	/* IIO_VOLTAGE */
	make_config(2);
	build_dev0(&b, M_NONE, &d0);
	assert_int_not_equal(vr_sim(&b, &res), 0);
	assert_int_equal(res.readings, 0);
	free(b.bundle);
	cfg_chan_type = -1;
	make_config(2);
	/* the part up to the first checkpoint again, as a second chain: 100
	 * counted twice, the device's median 100, and the report says so */
	d0.nchains = 2;
	d0.chains[1] = (struct oracle_bundle_chain){ .recs = recs, .len = cp1 };
	for (d0.value = 100; d0.value <= 200; d0.value += 100) {
		build_dev0(&b, M_NONE, &d0);
		if (!vr_sim(&b, &res))
			fail_msg("readings counted twice verified: value %" PRId64
				 " (honest 200), %zu readings", d0.value,
				 res.readings);
		assert_non_null(strstr(res.why, "seq 1 is in the bundle twice"));
		free(b.bundle);
	}
	/* the whole chain twice in one segment: the same */
	memcpy(recs + len, recs, len);
	d0.nchains = 1;
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len = 2 * len };
	build_dev0(&b, M_NONE, &d0);
	assert_int_equal(vr_sim(&b, &res), -EBADMSG);
	free(b.bundle);
	EVP_PKEY_free(key);
	free((void *)d0.ak);
	free(recs);
}

/*
 * Record format v4: a chain segment may start at a signed head, with the
 * segment state in force there (key 14: its descriptor record): the
 * bundle then holds the round's part of the chain only.  Readings 100
 * (1019 s, before round 3's window [1020, 1030)), 200 and 300 with a
 * checkpoint after each; the segment from the first checkpoint on (the
 * record after its head was captured at 1019 s: before the window)
 * carries 200 and 300 (lower median 200).  With its descriptor it
 * verifies with 2 readings; without it the samples give no values and
 * the report's value is refused; a descriptor the head does not commit
 * to (another chain's), or bytes that are not records, are refused too.
 */
static void chain_from_signed_head(void **state)
{
	static const int16_t v[] = { 100, 200, 300 };
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	uint8_t *recs = calloc(1, 16384), *other = calloc(1, 16384);
	size_t len, from = att_sim_desc_len() + att_sim_sample_len();
	struct oracle_bundle pb;
	const char *why;
	struct built b;
	EVP_PKEY *key;

	(void)state;
	sim_pinned(&d0, &key);
	len = sim_chain_t(key, v, 3, 1u | 2u | 4u, recs, NULL, NULL, 1019);
	d0.nchains = 1;
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs + from,
		.len = len - from, .state = recs, .state_len = att_sim_desc_len() };
	d0.time = 1021;
	d0.value = 200;
	build_dev0(&b, M_NONE, &d0);
	assert_int_equal(oracle_bundle_parse(b.bundle, b.blen, &pb, &why), 0);
	for (size_t i = 0; i < pb.ndev; i++)
		if (pb.dev[i].nchains)
			assert_int_equal(pb.dev[i].chains[0].state_len,
					 att_sim_desc_len());
	oracle_bundle_release(&pb);
	if (vr_sim(&b, &res))
		fail_msg("segment from a signed head: %s", res.why);
	assert_int_equal(res.readings, 2);
	fuzz_seed("segment-state", &b);		/* with key 14 */
	free(b.bundle);
	/* without the state: no values */
	d0.chains[0].state = NULL;
	d0.chains[0].state_len = 0;
	build_dev0(&b, M_NONE, &d0);
	assert_int_not_equal(vr_sim(&b, &res), 0);
	assert_int_equal(res.readings, 0);
	free(b.bundle);
	/* another chain's descriptor (another instance): not what was signed */
	{
		struct att_sim_chain s;

		att_sim_chain_init(&s, 0x99, 0, 0);
		assert_int_equal(att_sim_desc(&s, other, 1000, 1020000000000ULL), 0);
	}
	d0.chains[0].state = other;
	d0.chains[0].state_len = att_sim_desc_len();
	build_dev0(&b, M_NONE, &d0);
	assert_int_not_equal(vr_sim(&b, &res), 0);
	assert_int_equal(res.readings, 0);
	free(b.bundle);
	/* not a descriptor record */
	d0.chains[0].state = recs + att_sim_desc_len();
	d0.chains[0].state_len = att_sim_sample_len();
	build_dev0(&b, M_NONE, &d0);
	assert_int_not_equal(vr_sim(&b, &res), 0);
	assert_non_null(strstr(res.why, "segment state"));
	free(b.bundle);
	EVP_PKEY_free(key);
	free((void *)d0.ak);
	free(recs);
	free(other);
}

static size_t vr_dev0(const struct dev0 *d0, const char *want,
		      struct oracle_vr_result *res);

/* The byte offset of record @seq in the concatenated records @recs. */
static size_t rec_off(const uint8_t *recs, size_t len, uint64_t seq)
{
	size_t off = 0;

	while (off + sizeof(struct attestio_rec_hdr) <= len) {
		struct attestio_rec_hdr h;

		memcpy(&h, recs + off, sizeof(h));
		if (le64toh(h.seq) == seq)
			return off;
		off += le32toh(h.len);
	}
	fail_msg("no record of seq %" PRIu64, seq);
	return 0;
}

/*
 * Issue 11: completeness at a segment's start.  Readings 100 (1019 s,
 * before round 3's window [1020, 1030)), 200 (1020 s) and 300 (1021 s),
 * a checkpoint after each (seq 2, 4, 6; each signs the head after the
 * reading before it).  The honest round settles on 200 and 300: 200.
 * t colluding nodes that start the segment at the second checkpoint's
 * head (seq 4, captured 1 ns after 200, inside the window) leave 200 out
 * and report 300 from the records that remain; every record of that
 * segment verifies.  verify-report refuses it, naming the device, chain
 * and seq, also when the segment begins with records it cannot link
 * (seq 3: the verifier anchors at seq 4 all the same), unless the bundle
 * declares the segment a resync point (key 15: after a gap or a late
 * join, the node's word), which it counts.  Honest segments pass: from
 * the signed head before the window (seq 2), from the chain's start
 * (seq 0), and a chain that starts inside the window (descriptor at
 * 1020 s, seq 0).
 */
static void segment_start_in_window(void **state)
{
	static const int16_t v[] = { 100, 200, 300 };
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	uint8_t *recs = calloc(1, 16384);
	struct oracle_bundle pb;
	const char *why;
	size_t len, at2, at3, at4;
	struct built b;
	EVP_PKEY *key;

	(void)state;
	sim_pinned(&d0, &key);
	len = sim_chain_t(key, v, 3, 1u | 2u | 4u, recs, NULL, NULL, 1019);
	at2 = rec_off(recs, len, 2);
	at3 = rec_off(recs, len, 3);
	at4 = rec_off(recs, len, 4);
	d0.nchains = 1;
	d0.time = 1021;
	/* honest: after the signed head before the window, with its state */
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs + at2,
		.len = len - at2, .state = recs, .state_len = att_sim_desc_len() };
	d0.value = 200;
	vr_dev0(&d0, NULL, &res);
	assert_int_equal(res.readings, 2);
	assert_int_equal(res.segments_resync, 0);
	/* honest: the whole chain (100 verified too, before the window) */
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len = len };
	vr_dev0(&d0, NULL, &res);
	assert_int_equal(res.readings, 3);
	assert_int_equal(res.segments_resync, 0);
	/* the colluders' segment: from seq 4, 200 left out, 300 reported */
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs + at4,
		.len = len - at4, .state = recs, .state_len = att_sim_desc_len() };
	d0.value = 300;
	vr_dev0(&d0, "device 1 chain 0: its segment starts inside the round's "
		"window: the first record it verifies (seq 4, captured at "
		"1020.000000001)", &res);
	assert_non_null(strstr(res.why, "not declare it a resync point"));
	/* the same with a record it cannot link before: still seq 4 */
	d0.chains[0].recs = recs + at3;
	d0.chains[0].len = len - at3;
	vr_dev0(&d0, "first record it verifies (seq 4,", &res);
	/* declared a resync point: the node's word, counted */
	d0.chains[0].recs = recs + at4;
	d0.chains[0].len = len - at4;
	d0.chains[0].resync = true;
	vr_dev0(&d0, NULL, &res);
	assert_int_equal(res.readings, 1);
	assert_int_equal(res.segments_resync, 1);
	/* the declaration is the device item's last key, 15: bit 0 (chain
	 * 0); a bit past its chains, or none, is refused by the codec */
	build_dev0(&b, M_NONE, &d0);
	fuzz_seed("segment-resync", &b);	/* with key 15 */
	assert_int_equal(oracle_bundle_parse(b.bundle, b.blen, &pb, &why), 0);
	for (size_t i = 0; i < pb.ndev; i++) {
		size_t end;

		if (!pb.dev[i].nchains)
			continue;
		assert_true(pb.dev[i].chains[0].resync);
		end = (size_t)(pb.item[i + 1] - b.bundle) + pb.item_len[i + 1];
		assert_int_equal(b.bundle[end - 2], 0x0f);
		assert_int_equal(b.bundle[end - 1], 0x01);
		oracle_bundle_release(&pb);
		b.bundle[end - 1] = 0x02;
		assert_int_equal(oracle_bundle_parse(b.bundle, b.blen, &pb, &why), -EBADMSG);
		assert_non_null(strstr(why, "resync starts empty or naming a chain"));
		b.bundle[end - 1] = 0x00;
		assert_int_equal(oracle_bundle_parse(b.bundle, b.blen, &pb, &why), -EBADMSG);
		assert_non_null(strstr(why, "resync starts empty"));
		break;
	}
	free(b.bundle);
	/* a declared resync point before the window counts as proven */
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs + at2,
		.len = len - at2, .state = recs, .state_len = att_sim_desc_len(),
		.resync = true };
	d0.value = 200;
	vr_dev0(&d0, NULL, &res);
	assert_int_equal(res.segments_resync, 0);
	/* a chain that starts inside the window: from its seq 0, complete */
	len = sim_chain_t(key, v, 3, 1u | 2u | 4u, recs, NULL, NULL, 1021);
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len = len };
	d0.value = 200;
	d0.time = 1023;
	vr_dev0(&d0, NULL, &res);
	assert_int_equal(res.readings, 3);
	assert_int_equal(res.segments_resync, 0);
	memset(&pin0, 0, sizeof(pin0));
	EVP_PKEY_free(key);
	free((void *)d0.ak);
	free(recs);
}

/*
 * A chain segment is one stretch of one chain.  Readings 100 (before the
 * window), 200, 300, 400, a checkpoint after each: honest, 200, 300, 400
 * give 300.  A segment with seqs 3 and 4 (reading 200 and its checkpoint)
 * cut out behind a reader-local lost record of 2, which excuses the hole
 * for libattestio (stream 0: the lost record passed the stream check),
 * verified: after the hole the verifier re-anchors without the
 * descriptor, the window's readings decode to nothing, and the device
 * brought the older 100 instead of 300.  Refused now, naming the record;
 * a plain hole (refused before by libattestio) is refused naming the
 * seqs.
 */
static void segment_hole(void **state)
{
	static const int16_t v[] = { 100, 200, 300, 400 };
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	uint8_t *recs = calloc(1, 16384), *cut = calloc(1, 16384);
	struct attestio_rec_hdr h = { 0 };
	struct attestio_lost lost = { 0 };
	size_t len, at3, at5, n;
	EVP_PKEY *key;

	(void)state;
	sim_pinned(&d0, &key);
	len = sim_chain_t(key, v, 4, 0xfu, recs, NULL, NULL, 1019);
	at3 = rec_off(recs, len, 3);
	at5 = rec_off(recs, len, 5);
	d0.nchains = 1;
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len = len };
	d0.time = 1022;
	d0.value = 300;
	vr_dev0(&d0, NULL, &res);
	assert_int_equal(res.readings, 4);
	/* seqs 3 and 4 cut out, behind a reader-local lost record of 2 */
	h.version = htole16(ATTESTIO_REC_VERSION);
	h.type = htole16(ATTESTIO_REC_LOST);
	h.len = htole32(sizeof(h) + sizeof(lost));
	h.flags = htole32(ATTESTIO_RF_UNCHAINED);
	h.realtime_ns = htole64(1020500000000ULL);
	lost.records = htole64(2);
	memcpy(cut, recs, at3);
	n = at3;
	memcpy(cut + n, &h, sizeof(h));
	memcpy(cut + n + sizeof(h), &lost, sizeof(lost));
	n += sizeof(h) + sizeof(lost);
	memcpy(cut + n, recs + at5, len - at5);
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = cut,
		.len = n + len - at5 };
	d0.value = 100;
	d0.time = 1019;
	vr_dev0(&d0, "device 1 chain 0: an unchained (reader-local lost) record", &res);
	/* a plain hole (libattestio refused it already: no lost record
	 * accounts for it) */
	memcpy(cut + at3, recs + at5, len - at5);
	d0.chains[0].len = at3 + len - at5;
	vr_dev0(&d0, "device 1 chain 0: seq 5 follows seq 2: a chain segment "
		"holds no gap", &res);
	memset(&pin0, 0, sizeof(pin0));
	EVP_PKEY_free(key);
	free((void *)d0.ak);
	free(recs);
	free(cut);
}

/* Device gws[0] with one chain: one reading of 900 and a checkpoint. */
static void one_reading(struct dev0 *d0, EVP_PKEY *key, uint8_t *recs)
{
	static const int16_t v[] = { 900 };

	d0->chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len =
		sim_chain(key, v, 1, 1u, recs, NULL) };
	d0->nchains = 1;
	d0->value = 900;
	d0->time = 1021;
}

/*
 * A bundle that names a key of its own for a gateway (a plain PEM public
 * key, not marked simulated) with records signed by it: the config digest
 * commits to the gateway's AK (SHA-256 of the nodes' AK file), so it is
 * refused even by a verifier who pinned that key; t colluding nodes that
 * also commit to the forger's key make another config digest (a contract
 * refuses it), and the gateway's pinned AK still refuses it offline;
 * without a pin, a device with records is refused.
 */
static void forged_ak(void **state)
{
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	uint8_t *recs = calloc(1, 16384), *real, dg_real[32], dg_forged[32];
	size_t real_len;
	struct built b;
	EVP_PKEY *key, *rkey;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;

	(void)state;
	real = sim_ak(&rkey, &real_len);	/* the gateway's enrolled AK */
	memcpy(pin0.id, gws[0], 16);
	pin0.ak = real;
	pin0.ak_len = real_len;
	key = EVP_EC_gen("P-256");		/* the forger's */
	assert_non_null(key);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	n = BIO_get_mem_data(bio, &pem);
	d0.ak = (const uint8_t *)pem;
	d0.ak_len = (size_t)n;
	one_reading(&d0, key, recs);
	/* the nodes' configuration: the real AK; the bundle: the forger's */
	cfg_commit_fixed = true;
	cfg_ak0 = real;
	cfg_ak0_len = real_len;
	make_config(2);
	oracle_config_digest(cfg_text, cfg_len, dg_real);
	build_dev0(&b, M_NONE, &d0);
	assert_int_equal(oracle_verify_report(b.fin, b.flen, b.bundle, b.blen,
		(const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4, &pin0, 1, 0, &res),
		-EBADMSG);
	assert_non_null(strstr(res.why, "is not the one the config digest commits to"));
	pin0.ak = d0.ak;			/* even with the forger's key pinned */
	pin0.ak_len = d0.ak_len;
	assert_int_equal(oracle_verify_report(b.fin, b.flen, b.bundle, b.blen,
		(const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4, &pin0, 1, 0, &res),
		-EBADMSG);
	assert_non_null(strstr(res.why, "is not the one the config digest commits to"));
	free(b.bundle);
	/* colluding nodes commit to the forger's key: another digest */
	cfg_commit_fixed = false;
	pin0.ak = real;
	pin0.ak_len = real_len;
	build_dev0(&b, M_NONE, &d0);
	oracle_config_digest(cfg_text, cfg_len, dg_forged);
	assert_memory_not_equal(dg_real, dg_forged, 32);
	/* not even --allow-simulated is needed for the forged key */
	assert_int_equal(oracle_verify_report(b.fin, b.flen, b.bundle, b.blen,
		(const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4, &pin0, 1, 0, &res),
		-EBADMSG);
	assert_non_null(strstr(res.why, "is not gateway"));
	assert_int_equal(oracle_verify_report(b.fin, b.flen, b.bundle, b.blen,
		(const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4, NULL, 0, 0, &res),
		-EBADMSG);
	assert_non_null(strstr(res.why, "has no pinned AK"));
	/* the same records under the forger's key pinned: verified (so the
	 * refusals above are the pin's alone) */
	pin0.ak = d0.ak;
	pin0.ak_len = d0.ak_len;
	if (oracle_verify_report(b.fin, b.flen, b.bundle, b.blen,
		(const uint8_t (*)[ORACLE_PUB_LEN])pubs, 4, &pin0, 1, 0, &res))
		fail_msg("pinned: %s", res.why);
	assert_int_equal(res.simulated_devices, 0);	/* a plain PEM key */
	free(b.bundle);
	BIO_free(bio);
	EVP_PKEY_free(key);
	EVP_PKEY_free(rkey);
	free(real);
	free(recs);
}

/*
 * The PCR policy is the gateway's, not the bundle's: the config digest does
 * not name it, and an empty one admits any PCR state.  A gateway whose
 * policy refuses its quotes (firmware not the allowed one) cannot be
 * re-verified with the policy left out of the bundle.
 */
static void forged_policy(void **state)
{
	/* the allowed state: PCRs 0 and 7 at 32 x 0xcd; the quotes are of
	 * 32 x 0xab (another firmware) */
	static const char strict[] = "81 "
		"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\n";
	static const char loose[] = "81 "
		"abababababababababababababababababababababababababababababababab\n";
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	uint8_t *recs = calloc(1, 16384);
	struct built b;
	EVP_PKEY *key;

	(void)state;
	sim_pinned(&d0, &key);
	pin0.policy = (const uint8_t *)strict;
	pin0.policy_len = strlen(strict);
	one_reading(&d0, key, recs);
	/* the bundle leaves the policy out: refused */
	build_dev0(&b, M_NONE, &d0);
	assert_int_equal(vr_sim(&b, &res), -EBADMSG);
	assert_non_null(strstr(res.why, "PCR policy is not gateway"));
	free(b.bundle);
	/* and where the nodes' config digest commits to the strict policy,
	 * whatever the verifier pinned */
	cfg_commit_fixed = true;
	cfg_ak0 = d0.ak;
	cfg_ak0_len = d0.ak_len;
	cfg_pol0 = strict;
	make_config(2);
	build_dev0(&b, M_NONE, &d0);
	pin0.policy = NULL;
	pin0.policy_len = 0;
	assert_int_equal(vr_sim(&b, &res), -EBADMSG);
	assert_non_null(strstr(res.why, "PCR policy is not the one the config digest commits to"));
	free(b.bundle);
	cfg_commit_fixed = false;
	pin0.policy = (const uint8_t *)strict;
	pin0.policy_len = strlen(strict);
	/* with the gateway's policy, its quotes are refused by it */
	d0.policy = strict;
	build_dev0(&b, M_NONE, &d0);
	assert_int_equal(vr_sim(&b, &res), -EBADMSG);
	assert_null(strstr(res.why, "pinned"));
	free(b.bundle);
	/* a policy that allows them, pinned as such: verified */
	d0.policy = loose;
	pin0.policy = (const uint8_t *)loose;
	pin0.policy_len = strlen(loose);
	build_dev0(&b, M_NONE, &d0);
	if (vr_sim(&b, &res))
		fail_msg("allowed policy: %s", res.why);
	free(b.bundle);
	memset(&pin0, 0, sizeof(pin0));
	EVP_PKEY_free(key);
	free((void *)d0.ak);
	free(recs);
}

/* Build @d0's round and verify it: refused naming @want, or (NULL)
 * verified; returns the readings left out as stale. */
static size_t vr_dev0(const struct dev0 *d0, const char *want,
		      struct oracle_vr_result *res)
{
	struct built b;
	int ret;

	build_dev0(&b, M_NONE, d0);
	ret = vr_sim(&b, res);
	free(b.bundle);
	if (!want && ret)
		fail_msg("not verified: %s", res->why);
	if (want && (ret != -EBADMSG || !strstr(res->why, want)))
		fail_msg("%d \"%s\", want a refusal naming \"%s\"", ret, res->why, want);
	return res->readings_stale;
}

/*
 * Readings under a checkpoint that covers a stale beacon do not count
 * (oracle_reading_fresh): round 3 ends at 1030, its last second is in
 * beacon round 3 (period 10 from 1000); with max_age 1 a beacon of round
 * 1 is stale, one of round 3 fresh.  Readings 100 and 200 are covered by
 * a checkpoint quoting round 1's beacon, 300 by one quoting round 3's:
 * the device brings 300 (200, the lower median of all three, without
 * the rule).  The verifier learns the rounds from the bundle's beacons
 * item (signed by whitelisted nodes) and recomputes the same.
 */
static void stale_beacon(void **state)
{
	static const int16_t v[] = { 100, 200, 300 };
	static const char rule[] = "beacon optional period 10 start 1000 max_age 1";
	uint8_t bcn[3][32], *recs = calloc(1, 16384), msg[2][ORACLE_BEACON_MAX_LEN];
	struct oracle_beacon ob[2] = { { .round = 1, .time = 1001 },
				       { .round = 3, .time = 1021 } };
	struct oracle_signer outsider;
	struct oracle_vr_result res;
	struct dev0 d0 = { 0 };
	EVP_PKEY *key;
	uint8_t sk[32] = { 0 };

	(void)state;
	memset(ob[0].value, 0x51, 32);
	memset(ob[1].value, 0x53, 32);
	memcpy(bcn[0], ob[0].value, 32);	/* epoch 1: after readings 0, 1 */
	memcpy(bcn[1], ob[1].value, 32);	/* epoch 2: after reading 2 */
	memset(bcn[2], 0, 32);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(oracle_beacon_sign(&ob[k], &signers[k]), 0);
		assert_int_equal(oracle_beacon_encode(&ob[k], 0, msg[k], sizeof(msg[k]),
						      &d0.blen[k]), 0);
		d0.bmsg[k] = msg[k];
	}
	sim_pinned(&d0, &key);
	d0.nchains = 1;
	d0.chains[0] = (struct oracle_bundle_chain){ .recs = recs, .len =
		sim_chain_b(key, v, 3, 2u | 4u, recs, NULL, (const uint8_t (*)[32])bcn) };
	d0.time = 1023;
	cfg_beacon = rule;
	/* the rule: 300 */
	d0.nbeacons = 2;
	d0.value = 300;
	assert_int_equal(vr_dev0(&d0, NULL, &res), 2);
	assert_int_equal(res.readings, 3);
	/* a report that counted them (200) is refused */
	d0.value = 200;
	vr_dev0(&d0, "recomputed value 300", &res);
	/* a bundle without round 1's beacon (stale: the node carries only
	 * the window's): readings under a beacon the bundle does not show
	 * do not count, 300 */
	d0.value = 300;
	d0.bmsg[0] = msg[1];
	d0.blen[0] = d0.blen[1];
	d0.nbeacons = 1;
	assert_int_equal(vr_dev0(&d0, NULL, &res), 2);
	/* without round 3's beacon the counted reading is left out too: the
	 * device brings nothing and the report's 300 does not verify */
	d0.bmsg[0] = msg[0];
	assert_int_equal(oracle_beacon_encode(&ob[0], 0, msg[0], sizeof(msg[0]),
					      &d0.blen[0]), 0);
	vr_dev0(&d0, "recomputed value 0", &res);
	/* a beacon signed by a key outside the whitelist: refused */
	sk[31] = 9;
	assert_int_equal(oracle_signer_init(&outsider, sk), 0);
	assert_int_equal(oracle_beacon_sign(&ob[0], &outsider), 0);
	assert_int_equal(oracle_beacon_encode(&ob[0], 0, msg[0], sizeof(msg[0]),
					      &d0.blen[0]), 0);
	d0.bmsg[0] = msg[0];
	d0.bmsg[1] = msg[1];
	d0.nbeacons = 2;
	vr_dev0(&d0, "bundle beacon 0", &res);
	oracle_signer_fini(&outsider);
	/* a copied value: node 0 signs node 1's value of round 2 under its
	 * round 1, which would make the readings covering it stale: refused
	 * (review 4) */
	{
		static uint8_t cmsg[ORACLE_BEACON_MAX_LEN];
		struct oracle_beacon cp = ob[1];

		cp.round = ob[0].round;
		assert_int_equal(oracle_beacon_sign(&cp, &signers[0]), 0);
		assert_int_equal(oracle_beacon_encode(&cp, 0, cmsg, sizeof(cmsg),
						      &d0.blen[0]), 0);
		d0.bmsg[0] = cmsg;
		vr_dev0(&d0, "twice (a copied beacon)", &res);
		d0.bmsg[0] = msg[0];
	}
	/* freshness = required: the same with both beacons; a reading the
	 * round uses under a beacon the bundle does not show: refused */
	cfg_beacon = "beacon required period 10 start 1000 max_age 1";
	assert_int_equal(oracle_beacon_sign(&ob[0], &signers[0]), 0);
	assert_int_equal(oracle_beacon_encode(&ob[0], 0, msg[0], sizeof(msg[0]),
					      &d0.blen[0]), 0);
	assert_int_equal(vr_dev0(&d0, NULL, &res), 2);
	d0.bmsg[0] = msg[1];
	d0.blen[0] = d0.blen[1];
	d0.nbeacons = 1;
	d0.value = 200;
	vr_dev0(&d0, "recomputed value 300", &res);
	/* freshness off (no beacon line): every reading counts, 200 */
	cfg_beacon = NULL;
	d0.nbeacons = 0;
	d0.value = 200;
	assert_int_equal(vr_dev0(&d0, NULL, &res), 0);
	/* the rule itself: max_age 1 at the round ending 1030 (beacon round
	 * 3): rounds 2 to 4 count, 1 and 5 not; none always; a beacon not
	 * known to be issued never (the bundle carries only the window's);
	 * max_age 0 or off: everything */
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, true, true, 2));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, true, true, 3));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, true, true, 4));
	assert_false(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, true, true, 5));
	assert_false(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, true, true, 1));
	assert_false(oracle_reading_fresh(ORACLE_FRESH_REQUIRED, 10, 1000, 1, 1030, true, true, 1));
	assert_false(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, true, false, 0));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1030, false, false, 0));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 0, 1030, true, true, 1));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 0, 1030, true, false, 0));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OFF, 10, 1000, 1, 1030, true, true, 1));
	assert_true(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1031, true, true, 3));
	assert_false(oracle_reading_fresh(ORACLE_FRESH_OPTIONAL, 10, 1000, 1, 1031, true, true, 2));
	memset(&pin0, 0, sizeof(pin0));
	EVP_PKEY_free(key);
	free((void *)d0.ak);
	free(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merkle_vectors),
		cmocka_unit_test(config_text),
		cmocka_unit_test(codec_strict),
		cmocka_unit_test(chain_from_signed_head),
		cmocka_unit_test(segment_start_in_window),
		cmocka_unit_test(segment_hole),
		cmocka_unit_test(verify_halted),
		cmocka_unit_test(tamper_each_byte),
		cmocka_unit_test(tamper_signed),
		cmocka_unit_test(duplicate_readings),
		cmocka_unit_test(forged_ak),
		cmocka_unit_test(forged_policy),
		cmocka_unit_test(stale_beacon),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

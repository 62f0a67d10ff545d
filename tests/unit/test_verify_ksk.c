// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the stream verifier with kernel-exclusive key evidence
 * (Documentation/design.md, "Only the kernel can make the TPM sign"):
 * checkpoints quoted by the module's kernel session key (KSK) verify only
 * with the boot's measurement log, and every way root has to sign with a
 * key of its own, or to register one next to the module's, is BAD.  Quotes,
 * certifications and logs are made in software here, byte for byte as the
 * module and the TPM make them (the in-guest ksk_test.sh does it for real).
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "internal.h"
#include "libattestio.h"
#include "tpm2_sess.h"

#include "signed_stream.h"

static EVP_PKEY *kskey;	/* the kernel session key's private half */

/* ------------------------------------------------------------ keys --- */

static void point_of(EVP_PKEY *k, uint8_t x[32], uint8_t y[32])
{
	unsigned char pt[65];
	size_t n = 0;

	assert_int_equal(1, EVP_PKEY_get_octet_string_param(k,
			OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n));
	assert_int_equal(65, n);
	memcpy(x, pt + 1, 32);
	memcpy(y, pt + 33, 32);
}

/* The enrolled AK as `attestio provision` makes it: certify-only. */
static size_t ak_pub(EVP_PKEY *k, bool certify_only, uint8_t *out, size_t cap)
{
	uint8_t br[2][32], policy[32];
	size_t off = 0;
	TPM2B_PUBLIC pub;
	TPMT_PUBLIC *p = &pub.publicArea;

	memset(&pub, 0, sizeof(pub));
	p->type = TPM2_ALG_ECC;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
			      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN;
	if (certify_only) {
		p->objectAttributes |= TPMA_OBJECT_ADMINWITHPOLICY;
		attestio_tpm2_ak_policy(br, policy);
		p->authPolicy.size = 32;
		memcpy(p->authPolicy.buffer, policy, 32);
	} else {
		p->objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
	}
	p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	p->unique.ecc.x.size = 32;
	p->unique.ecc.y.size = 32;
	point_of(k, p->unique.ecc.x.buffer, p->unique.ecc.y.buffer);
	assert_int_equal(0, Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out, cap, &off));
	return off;
}

/* A KSK's TPM2B_PUBLIC: the module's template with @k's point. */
static size_t ksk_pub(EVP_PKEY *k, uint8_t *out, uint8_t name[34])
{
	uint8_t tmpl[64];
	int tlen = attestio_tpm2_ksk_template(tmpl, sizeof(tmpl));
	size_t n;

	assert_true(tlen > 4);
	n = (size_t)tlen - 4;		/* without the empty unique */
	memcpy(out + 2, tmpl, n);
	out[2 + n] = 0;
	out[3 + n] = 32;
	out[36 + n] = 0;
	out[37 + n] = 32;
	point_of(k, out + 4 + n, out + 38 + n);
	n += 4 + 64;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	attestio_tpm2_name(out + 2, n, name);
	return n + 2;
}

/* --------------------------------------------------- measurement log --- */

struct mlog {
	uint8_t b[8192];
	size_t len;
	uint8_t pcr13[32];	/* replay so far */
	int n;
};

static void sha256_parts(uint8_t out[32], const void *a, size_t al,
			 const void *b, size_t bl, const void *c, size_t cl)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;

	assert_non_null(md);
	assert_int_equal(1, EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	EVP_DigestUpdate(md, a, al);
	if (bl)
		EVP_DigestUpdate(md, b, bl);
	if (cl)
		EVP_DigestUpdate(md, c, cl);
	assert_int_equal(1, EVP_DigestFinal_ex(md, out, &n));
	EVP_MD_CTX_free(md);
}

/* Append an event and extend the model PCR as the module does. */
static void mev(struct mlog *l, uint16_t type, uint64_t instance,
		const void *data, uint32_t len)
{
	static const uint8_t tag[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_MEVENT;
	struct attestio_mevent h = {
		.type = cpu_to_le16(type), .len = cpu_to_le32(len),
		.instance = cpu_to_le64(instance),
	};
	uint8_t *e = l->b + l->len, d[32];

	assert_true(l->len + sizeof(h) + len <= sizeof(l->b));
	memcpy(e, &h, sizeof(h));
	memcpy(e + sizeof(h), data, len);
	l->len += sizeof(h) + len;
	sha256_parts(d, tag, sizeof(tag), e, sizeof(h) + len, NULL, 0);
	sha256_parts(l->pcr13, l->pcr13, 32, d, 32, NULL, 0);
	l->n++;
}

static void mev_load(struct mlog *l, uint64_t instance)
{
	struct attestio_mev_load ld = {
		.version = "test", .key_handle = cpu_to_le32(0x81010020),
		.pcr_mask = cpu_to_le32(0x2001), .sign = cpu_to_le32(1),
	};

	mev(l, ATTESTIO_MEV_LOAD, instance, &ld, sizeof(ld));
}

static void mev_key(struct mlog *l, uint64_t instance, EVP_PKEY *k,
		    uint8_t name[34])
{
	uint8_t pub[256];
	size_t n = ksk_pub(k, pub, name);

	mev(l, ATTESTIO_MEV_KEY, instance, pub, (uint32_t)n);
}

/* TPM2_Certify of the key named @name by @signer, for load @instance. */
static void mev_cert(struct mlog *l, uint64_t instance, const uint8_t name[34],
		     EVP_PKEY *signer)
{
	static const uint8_t tag[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_KSK;
	uint8_t buf[2048], inst[8];
	struct attestio_mev_cert *c = (void *)buf;
	size_t alen = 0, slen;
	TPMS_ATTEST a;

	for (int i = 0; i < 8; i++)
		inst[i] = (uint8_t)(instance >> (8 * i));
	memset(&a, 0, sizeof(a));
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_CERTIFY;
	a.qualifiedSigner.size = 2;
	a.extraData.size = 32;
	sha256_parts(a.extraData.buffer, tag, sizeof(tag), inst, 8, name, 34);
	a.attested.certify.name.size = 34;
	memcpy(a.attested.certify.name.name, name, 34);
	a.attested.certify.qualifiedName.size = 34;
	assert_int_equal(0, Tss2_MU_TPMS_ATTEST_Marshal(&a, buf + sizeof(*c),
						       1024, &alen));
	slen = tpm_sign(signer, buf + sizeof(*c), alen, buf + sizeof(*c) + alen,
			512);
	c->ak_handle = cpu_to_le32(0x81010020);
	c->attest_len = cpu_to_le16((uint16_t)alen);
	c->sig_len = cpu_to_le16((uint16_t)slen);
	mev(l, ATTESTIO_MEV_CERT, instance, buf, (uint32_t)(sizeof(*c) + alen + slen));
}

/* The genuine log of one load: load, its key, its certification. */
static void genuine_log(struct mlog *l, uint64_t instance)
{
	uint8_t name[34];

	memset(l, 0, sizeof(*l));
	mev_load(l, instance);
	mev_key(l, instance, kskey, name);
	mev_cert(l, instance, name, key1);
}

/* --------------------------------------------------------- quotes --- */

#define MASK	((1u << 0) | (1u << ATTESTIO_MLOG_PCR))

static uint8_t pcrs[24][32];	/* the gateway's other PCRs */

/* The quoted PCR digest: PCR 0 and PCR 13 as @l replays now. */
static void quoted(const struct mlog *l, uint8_t out[32])
{
	sha256_parts(out, pcrs[0], 32, l->pcr13, 32, NULL, 0);
}

struct run {
	int states[8];
	char why[256];
	int finish;
	struct att_summary sum;
};

static void on_verdict(void *ctx, const struct att_verdict *vd)
{
	struct run *r = ctx;

	r->states[vd->state] += (int)vd->count;
	if (vd->state == ATT_REC_BAD && !r->why[0])
		snprintf(r->why, sizeof(r->why), "%s", vd->why);
}

/* Verify @rs with @ak_bytes as the AK and @l (may be NULL) as evidence. */
static int verify(const struct recs *rs, const uint8_t *akb, size_t akl,
		  const struct mlog *l, const uint8_t (*p)[32],
		  const struct att_policy *policy, struct run *r)
{
	struct att_verifier_opts o = { 0 };
	struct att_boot *boot = NULL;
	const struct att_boot *boots[1];
	struct att_key *ak = NULL;
	struct att_verifier *v;
	struct att_err e = { 0 };
	int ret;

	memset(r, 0, sizeof(*r));
	assert_int_equal(0, att_key_from_tpm2b_public(akb, akl, &ak, &e));
	if (l) {
		ret = att_boot_new(ak, l->b, l->len, (const uint8_t *)p,
				   p ? 24 * 32 : 0, &boot, &e);
		if (ret) {
			snprintf(r->why, sizeof(r->why), "%s", e.msg);
			att_key_free(ak);
			return ret;
		}
		boots[0] = boot;
		o.boots = boots;
		o.nboots = 1;
	}
	o.ak = ak;
	o.policy = policy;
	o.on_verdict = on_verdict;
	o.ctx = r;
	v = att_verifier_new(&o);
	assert_non_null(v);
	for (int i = 0; i < rs->n; i++)
		att_verifier_feed(v, rs->r[i], rs->len[i], NULL, &e);
	r->finish = att_verifier_finish(v, &e);
	if (r->finish && !r->why[0])
		snprintf(r->why, sizeof(r->why), "%s", e.msg);
	att_verifier_summary(v, &r->sum);
	att_verifier_free(v);
	att_boot_free(boot);
	att_key_free(ak);
	return r->finish;
}

/*
 * A stream of 3 samples per epoch over 3 epochs, each quoted by @signer
 * over PCR 0 and PCR 13 as @l[epoch] replays.
 */
static void build(struct recs *rs, const struct mlog *l[3], EVP_PKEY *signer,
		  uint32_t mask)
{
	struct rstream s;
	uint8_t dg[32];

	memset(rs, 0, sizeof(*rs));
	stream_init(&s, 0);
	add_desc(rs, &s);
	for (uint64_t ep = 1; ep <= 3; ep++) {
		struct rstream *ss = &s;
		struct qopt q = {
			.key = signer, .clock = 1000 * ep, .pcr_mask = mask,
			.pcr_digest = dg,
		};

		for (int i = 0; i < 3; i++)
			add_sample(rs, &s, (int16_t)(20 + i));
		quoted(l[ep - 1], dg);
		add_checkpoints(rs, &ss, 1, ep, &q);
	}
}

/* The genuine log of one load and a stream quoted by @signer under it. */
static void genuine_stream(struct mlog *l, struct recs *rs, EVP_PKEY *signer,
			   uint32_t mask)
{
	const struct mlog *ls[3] = { l, l, l };

	genuine_log(l, INSTANCE);
	build(rs, ls, signer, mask);
}

static uint8_t akb[512], akb_plain[512];
static size_t akl, akl_plain;

static void t_genuine(void **st)
{
	struct mlog l;
	struct recs rs;
	struct run r;

	(void)st;
	genuine_stream(&l, &rs, kskey, MASK);
	assert_int_equal(0, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	assert_int_equal(rs.n, r.states[ATT_REC_VERIFIED]);
	assert_true(r.sum.kernel_key);
	assert_int_equal(3, r.sum.checkpoints_verified);
	recs_free(&rs);
}

/* The firmware policy judges the other PCRs, PCR 13 aside. */
static void t_policy(void **st)
{
	struct mlog l;
	struct att_policy *pol;
	struct att_err e;
	struct recs rs;
	struct run r;
	char text[128];
	uint8_t d[32];
	int n;

	(void)st;
	genuine_stream(&l, &rs, kskey, MASK);
	sha256_parts(d, pcrs[0], 32, NULL, 0, NULL, 0);
	n = snprintf(text, sizeof(text), "0x000001 ");
	for (int i = 0; i < 32; i++)
		n += snprintf(text + n, sizeof(text) - n, "%02x", d[i]);
	assert_int_equal(0, att_policy_parse(text, strlen(text), &pol, &e));
	assert_int_equal(0, verify(&rs, akb, akl, &l, pcrs, pol, &r));
	att_policy_free(pol);
	text[12] ^= 1;	/* another firmware */
	assert_int_equal(0, att_policy_parse(text, strlen(text), &pol, &e));
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, pcrs, pol, &r));
	assert_int_equal(0, r.states[ATT_REC_VERIFIED]);
	att_policy_free(pol);
	recs_free(&rs);
}

/* Root creates its own key in the TPM and quotes the same digests. */
static void t_root_key(void **st)
{
	struct mlog l;
	struct recs rs;
	struct run r;

	(void)st;
	genuine_stream(&l, &rs, key2, MASK);
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	assert_int_equal(0, r.states[ATT_REC_VERIFIED]);
	assert_non_null(strstr(r.why, "not signed by the kernel session key"));
	recs_free(&rs);
}

/*
 * Root registers a key of its own in PCR 13 next to the module's and has
 * the AK certify it: quotes after that show two keys and are BAD, those
 * before it stay good.
 */
static void t_second_key(void **st)
{
	struct mlog l0, l1;
	const struct mlog *ls[3] = { &l0, &l0, &l1 };
	uint8_t name[34];
	struct recs rs;
	struct run r;

	(void)st;
	genuine_log(&l0, INSTANCE);
	l1 = l0;
	mev_key(&l1, INSTANCE, key2, name);
	mev_cert(&l1, INSTANCE, name, key1);
	build(&rs, ls, kskey, MASK);
	assert_int_not_equal(0, verify(&rs, akb, akl, &l1, pcrs, NULL, &r));
	assert_non_null(strstr(r.why, "key registrations"));
	/* desc + 2 epochs of 3 samples and a checkpoint */
	assert_int_equal(9, r.states[ATT_REC_VERIFIED]);
	/* the third checkpoint, and the samples it would have covered */
	assert_int_equal(1, r.states[ATT_REC_BAD]);
	assert_int_equal(3, r.states[ATT_REC_PENDING]);
	recs_free(&rs);
}

/* A reload of the module: the second load's key is not accepted. */
static void t_reload(void **st)
{
	struct mlog l;
	const struct mlog *ls[3] = { &l, &l, &l };
	uint8_t name[34];
	struct recs rs;
	struct run r;

	(void)st;
	genuine_log(&l, INSTANCE);
	mev(&l, ATTESTIO_MEV_UNLOAD, INSTANCE, NULL, 0);
	mev_load(&l, INSTANCE + 1);
	mev_key(&l, INSTANCE + 1, kskey, name);
	build(&rs, ls, kskey, MASK);
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	assert_int_equal(0, r.states[ATT_REC_VERIFIED]);
	recs_free(&rs);
}

/* Wrong values for the other quoted PCRs: PCR 13 cannot be confirmed. */
static void t_wrong_pcrs(void **st)
{
	uint8_t other[24][32];
	struct mlog l;
	struct recs rs;
	struct run r;

	(void)st;
	genuine_stream(&l, &rs, kskey, MASK);
	memcpy(other, pcrs, sizeof(other));
	other[0][5] ^= 1;
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, other, NULL, &r));
	assert_int_equal(0, r.states[ATT_REC_VERIFIED]);
	/* and none at all */
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, NULL, NULL, &r));
	assert_non_null(strstr(r.why, "no value for it"));
	recs_free(&rs);
}

/* A quote that leaves PCR 13 out proves nothing about the key. */
static void t_no_pcr13(void **st)
{
	struct mlog l;
	struct recs rs;
	struct run r;

	(void)st;
	genuine_stream(&l, &rs, kskey, 1);
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	assert_non_null(strstr(r.why, "does not cover PCR 13"));
	recs_free(&rs);
}

/* Checkpoints of a load no log given registers. */
static void t_other_instance(void **st)
{
	struct mlog l, mine;
	const struct mlog *ls[3] = { &mine, &mine, &mine };
	struct recs rs;
	struct run r;

	(void)st;
	genuine_log(&mine, INSTANCE);
	genuine_log(&l, INSTANCE + 7);
	build(&rs, ls, kskey, MASK);
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	assert_non_null(strstr(r.why, "no measurement log given registers"));
	recs_free(&rs);
}

/* The log's own checks: certification missing, or by another key. */
static void t_bad_logs(void **st)
{
	struct mlog l;
	const struct mlog *ls[3] = { &l, &l, &l };
	uint8_t name[34];
	struct recs rs;
	struct run r;

	(void)st;
	memset(&l, 0, sizeof(l));
	mev_load(&l, INSTANCE);
	mev_key(&l, INSTANCE, kskey, name);
	build(&rs, ls, kskey, MASK);
	assert_int_equal(ATT_EKEY, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	assert_non_null(strstr(r.why, "never certified"));
	mev_cert(&l, INSTANCE, name, key2);	/* root's key certifies */
	assert_int_not_equal(0, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	recs_free(&rs);
	/* a truncated log */
	genuine_log(&l, INSTANCE);
	l.len -= 3;
	build(&rs, ls, kskey, MASK);
	assert_int_equal(ATT_EPARSE, verify(&rs, akb, akl, &l, pcrs, NULL, &r));
	recs_free(&rs);
}

/*
 * Without a log: a certify-only AK verifies nothing (and says why); a
 * conventional AK verifies its own quotes but the summary does not claim
 * kernel-exclusive use.
 */
static void t_without_log(void **st)
{
	struct mlog l;
	struct recs rs;
	struct run r;

	(void)st;
	genuine_stream(&l, &rs, kskey, MASK);
	assert_int_not_equal(0, verify(&rs, akb, akl, NULL, NULL, NULL, &r));
	assert_int_equal(0, r.states[ATT_REC_VERIFIED]);
	assert_non_null(strstr(r.why, "certify-only"));
	recs_free(&rs);
	genuine_stream(&l, &rs, key1, MASK);
	assert_int_equal(0, verify(&rs, akb_plain, akl_plain, NULL, NULL, NULL, &r));
	assert_false(r.sum.kernel_key);
	recs_free(&rs);
}

static int setup(void **st)
{
	(void)st;
	if (keys_setup())
		return -1;
	kskey = EVP_EC_gen("P-256");
	if (!kskey)
		return -1;
	for (int i = 0; i < 24; i++)
		memset(pcrs[i], 0x10 + i, 32);
	akl = ak_pub(key1, true, akb, sizeof(akb));
	akl_plain = ak_pub(key1, false, akb_plain, sizeof(akb_plain));
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	EVP_PKEY_free(kskey);
	keys_teardown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_genuine),
		cmocka_unit_test(t_policy),
		cmocka_unit_test(t_root_key),
		cmocka_unit_test(t_second_key),
		cmocka_unit_test(t_reload),
		cmocka_unit_test(t_wrong_pcrs),
		cmocka_unit_test(t_no_pcr13),
		cmocka_unit_test(t_other_instance),
		cmocka_unit_test(t_bad_logs),
		cmocka_unit_test(t_without_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

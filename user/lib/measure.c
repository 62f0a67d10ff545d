// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Verifier side of kernel-exclusive key use: parse and replay attestio.ko's
 * measurement log, check the kernel session key's registration and
 * certification, and decide whether a checkpoint's quote proves that the
 * kernel made it.  Every input is untrusted: the log comes from the
 * gateway, so it only counts where the TPM-signed PCR value confirms it.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "internal.h"
#include "tpm2_sess.h"

#define MLOG_MAX_EVENTS		4096

static const uint8_t tag_mevent[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_MEVENT;
static const uint8_t tag_ksk[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_KSK;

/* SHA-256 over up to three parts (EVP: the low-level API is deprecated). */
static void sha256_3(const void *a, size_t al, const void *b, size_t bl,
		     const void *c, size_t cl, uint8_t *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, a, al) || (bl && !EVP_DigestUpdate(md, b, bl)) ||
	    (cl && !EVP_DigestUpdate(md, c, cl)) ||
	    !EVP_DigestFinal_ex(md, out, &n))
		memset(out, 0, 32);	/* never matches a real digest */
	EVP_MD_CTX_free(md);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int att_mlog_parse(const uint8_t *buf, size_t len, struct att_mlog *log,
		   struct att_err *err)
{
	size_t off = 0, cap = 0;
	struct att_mlog_event *e;

	memset(log, 0, sizeof(*log));
	if (!buf && len)
		return att_err(err, ATT_EINVAL, "att_mlog_parse: NULL buffer");
	while (off < len) {
		const uint8_t *h = buf + off;
		uint32_t dlen;
		uint16_t type;

		if (len - off < sizeof(struct attestio_mevent))
			goto trunc;
		type = le16(h);
		dlen = le32(h + 4);
		if (type < ATTESTIO_MEV_LOAD || type > ATTESTIO_MEV_TYPE_MAX ||
		    le16(h + 2) || dlen > ATTESTIO_MEVENT_MAX_LEN) {
			att_mlog_free(log);
			return att_err(err, ATT_EPARSE,
				       "measurement log event %zu at offset %zu is malformed (type %u, %u bytes)",
				       log->n, off, type, dlen);
		}
		if (len - off - sizeof(struct attestio_mevent) < dlen)
			goto trunc;
		if (log->n == cap) {
			if (cap >= MLOG_MAX_EVENTS) {
				att_mlog_free(log);
				return att_err(err, ATT_EPARSE,
					       "measurement log has more than %d events",
					       MLOG_MAX_EVENTS);
			}
			cap = cap ? 2 * cap : 16;
			e = realloc(log->ev, cap * sizeof(*e));
			if (!e) {
				att_mlog_free(log);
				return att_err(err, ATT_ENOMEM, "out of memory");
			}
			log->ev = e;
		}
		e = &log->ev[log->n++];
		e->type = type;
		e->instance = le64(h + 8);
		e->data = h + sizeof(struct attestio_mevent);
		e->len = dlen;
		sha256_3(tag_mevent, ATTESTIO_TAG_LEN, h,
			 sizeof(struct attestio_mevent) + dlen, NULL, 0,
			 e->digest);
		off += sizeof(struct attestio_mevent) + dlen;
	}
	return 0;
trunc:
	att_mlog_free(log);
	return att_err(err, ATT_EPARSE,
		       "measurement log truncated at offset %zu", off);
}

void att_mlog_free(struct att_mlog *log)
{
	free(log->ev);
	log->ev = NULL;
	log->n = 0;
}

void att_mlog_replay(const struct att_mlog *log, size_t n, uint8_t pcr[32])
{
	uint8_t b[64];
	size_t i;

	memset(pcr, 0, 32);
	for (i = 0; i < n && i < log->n; i++) {
		memcpy(b, pcr, 32);
		memcpy(b + 32, log->ev[i].digest, 32);
		sha256_3(b, sizeof(b), NULL, 0, NULL, 0, pcr);
	}
}

/* Does this TPM2B_PUBLIC carry attestio's certify-only AK policy? */
bool att_tpm2b_certify_only(const uint8_t *pub, size_t len)
{
	uint8_t br[2][32], policy[32];
	TPM2B_PUBLIC p;
	TPMA_OBJECT at;
	size_t off = 0;

	memset(&p, 0, sizeof(p));	/* libtss2-mu wants size 0 */
	if (!pub || Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, len, &off, &p) ||
	    off != len)
		return false;
	at = p.publicArea.objectAttributes;
	attestio_tpm2_ak_policy(br, policy);
	return !(at & TPMA_OBJECT_USERWITHAUTH) &&
	       (at & TPMA_OBJECT_ADMINWITHPOLICY) &&
	       p.publicArea.authPolicy.size == 32 &&
	       !memcmp(p.publicArea.authPolicy.buffer, policy, 32);
}

bool att_key_certify_only(const struct att_key *key)
{
	return key && att_tpm2b_certify_only(key->pub, key->pub_len);
}

void att_ksk_clear(struct att_ksk *ksk)
{
	att_key_free(ksk->key);
	memset(ksk, 0, sizeof(*ksk));
}

/* The KEY event's TPM2B_PUBLIC: attestio's KSK template, nothing else. */
static int ksk_from_event(const struct att_mlog_event *e, struct att_ksk *ksk,
			  struct att_err *err)
{
	uint8_t tmpl[64];
	const uint8_t *area;
	uint16_t area_len;
	uint32_t attrs;
	int tlen;

	tlen = attestio_tpm2_ksk_template(tmpl, sizeof(tmpl));
	if (tlen < 0 ||
	    attestio_tpm2_public_parse(e->data, e->len, &attrs, &area,
				       &area_len) ||
	    attrs != ATTESTIO_KSK_ATTRS || area_len < tlen ||
	    memcmp(area, tmpl, tlen - 4))
		return att_err(err, ATT_EKEY,
			       "the registered key is not an attestio kernel session key (restricted ECC P-256 ECDSA-SHA256, fixedTPM, no policy)");
	attestio_tpm2_name(area, area_len, ksk->name);
	return att_key_from_tpm2b_public(e->data, e->len, &ksk->key, err);
}

/* A CERT event: TPM2_Certify of the KSK by @ak for this load. */
static int ksk_cert_ok(const struct att_mlog_event *e,
		       const struct att_ksk *ksk, const struct att_key *ak,
		       struct att_err *err)
{
	uint8_t want[32];
	TPMT_SIGNATURE ts;
	TPMS_ATTEST a;
	uint16_t alen, slen;
	uint8_t inst[8];
	size_t off = 0;
	int i;

	if (e->len < 8)
		return att_err(err, ATT_EPARSE, "short certification event");
	alen = le16(e->data + 4);
	slen = le16(e->data + 6);
	if ((size_t)alen + slen + 8 != e->len)
		return att_err(err, ATT_EPARSE,
			       "certification event sizes do not add up");
	memset(&a, 0, sizeof(a));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(e->data + 8, alen, &off, &a) ||
	    off != alen || a.magic != TPM2_GENERATED_VALUE ||
	    a.type != TPM2_ST_ATTEST_CERTIFY)
		return att_err(err, ATT_EQUOTE,
			       "the certification is not a TPM-generated TPMS_ATTEST of type CERTIFY");
	for (i = 0; i < 8; i++)
		inst[i] = (uint8_t)(ksk->instance >> (8 * i));
	sha256_3(tag_ksk, ATTESTIO_TAG_LEN, inst, sizeof(inst), ksk->name,
		 sizeof(ksk->name), want);
	if (a.extraData.size != 32 || memcmp(a.extraData.buffer, want, 32) ||
	    a.attested.certify.name.size != sizeof(ksk->name) ||
	    memcmp(a.attested.certify.name.name, ksk->name, sizeof(ksk->name)))
		return att_err(err, ATT_EQUOTE,
			       "the certification is not of this load's kernel session key");
	off = 0;
	memset(&ts, 0, sizeof(ts));
	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(e->data + 8 + alen, slen, &off,
					     &ts) || off != slen)
		return att_err(err, ATT_ESIG,
			       "the certification's TPMT_SIGNATURE does not unmarshal");
	return att_sig_verify(ak, e->data + 8, alen, &ts, err);
}

int att_mlog_ksk(const struct att_mlog *log, const struct att_key *ak,
		 const uint8_t *ak_pub, size_t ak_pub_len, struct att_ksk *ksk,
		 struct att_err *err)
{
	struct att_err cerr = { 0 };
	size_t i;
	int ret;

	memset(ksk, 0, sizeof(*ksk));
	if (!log || !ak)
		return att_err(err, ATT_EINVAL, "att_mlog_ksk: NULL argument");
	if (!log->n || log->ev[0].type != ATTESTIO_MEV_LOAD)
		return att_err(err, ATT_EKEY,
			       "the measurement log does not start with the module's load");
	ksk->instance = log->ev[0].instance;
	if (log->n < 2 || log->ev[1].type != ATTESTIO_MEV_KEY ||
	    log->ev[1].instance != ksk->instance) {
		if (log->n >= 2 && log->ev[1].type == ATTESTIO_MEV_KEY_ERROR &&
		    log->ev[1].len == 8)
			return att_err(err, ATT_EKEY,
				       "the module could not create its session key (step %u, rc %d)",
				       le32(log->ev[1].data),
				       (int32_t)le32(log->ev[1].data + 4));
		return att_err(err, ATT_EKEY,
			       "no kernel session key registered right after the module's load");
	}
	ret = ksk_from_event(&log->ev[1], ksk, err);
	if (ret)
		goto fail;
	ret = ATT_EKEY;
	for (i = 2; i < log->n; i++) {
		const struct att_mlog_event *e = &log->ev[i];

		if (e->instance != ksk->instance)
			break;
		if (e->type != ATTESTIO_MEV_CERT)
			continue;
		ret = ksk_cert_ok(e, ksk, ak, &cerr);
		if (!ret)
			break;
	}
	if (ret) {
		if (cerr.code)
			att_err(err, ret, "kernel session key certification: %s",
				cerr.msg);
		else
			att_err(err, ATT_EKEY,
				"the kernel session key was never certified by the enrolled AK");
		goto fail;
	}
	ksk->ak_certify_only = att_tpm2b_certify_only(ak_pub, ak_pub_len);
	return 0;
fail:
	att_ksk_clear(ksk);
	return ret;
}

/* Does the prefix of @n events register exactly the KSK, once? */
static int prefix_ok(const struct att_mlog *log, size_t n,
		     const struct att_ksk *ksk, struct att_err *err)
{
	size_t i, loads = 0, keys = 0;

	for (i = 0; i < n; i++) {
		const struct att_mlog_event *e = &log->ev[i];

		if (e->instance != ksk->instance)
			return att_err(err, ATT_EKEY,
				       "PCR %d covers events of another load (event %zu): the module was reloaded, its key is no longer the only one",
				       ATTESTIO_MLOG_PCR, i);
		switch (e->type) {
		case ATTESTIO_MEV_LOAD:
			loads++;
			break;
		case ATTESTIO_MEV_KEY:
			keys++;
			break;
		case ATTESTIO_MEV_UNLOAD:
			return att_err(err, ATT_EKEY,
				       "PCR %d covers an unload of the module (event %zu)",
				       ATTESTIO_MLOG_PCR, i);
		case ATTESTIO_MEV_KEY_ERROR:
			return att_err(err, ATT_EKEY,
				       "PCR %d covers a failed key registration (event %zu)",
				       ATTESTIO_MLOG_PCR, i);
		}
	}
	if (loads != 1 || keys != 1)
		return att_err(err, ATT_EKEY,
			       "PCR %d covers %zu loads and %zu key registrations; exactly one of each proves kernel-exclusive key use",
			       ATTESTIO_MLOG_PCR, loads, keys);
	return 0;
}

int att_mlog_check_quote(const struct att_mlog *log,
			 const struct att_ksk *ksk, uint64_t instance,
			 const uint8_t *attest, size_t attest_len,
			 const uint8_t *sig, size_t sig_len,
			 const uint8_t (*pcrs)[32], uint32_t pcrs_known,
			 size_t *prefix, struct att_err *err)
{
	struct att_quote_info qi;
	uint8_t p13[32], d[32];
	EVP_MD_CTX *md;
	size_t n;
	int i, ret;

	if (!log || !ksk || !ksk->key || !attest || !sig)
		return att_err(err, ATT_EINVAL,
			       "att_mlog_check_quote: NULL argument");
	if (instance != ksk->instance)
		return att_err(err, ATT_EKEY,
			       "checkpoint instance %016llx is not the load that registered the key (%016llx)",
			       (unsigned long long)instance,
			       (unsigned long long)ksk->instance);
	ret = att_quote_verify(ksk->key, attest, attest_len, sig, sig_len,
			       NULL, 0, &qi, err);
	if (ret == ATT_EQUOTE) {
		/* any qualifying data: only the signer and PCRs matter here */
		TPMS_ATTEST a;
		size_t off = 0;

		memset(&a, 0, sizeof(a));
		if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, &a))
			return ret;
		ret = att_quote_verify(ksk->key, attest, attest_len, sig,
				       sig_len, a.extraData.buffer,
				       a.extraData.size, &qi, err);
	}
	if (ret == ATT_ESIG)
		return att_err(err, ATT_ESIG,
			       "the quote is not signed by the kernel session key registered in PCR %d",
			       ATTESTIO_MLOG_PCR);
	if (ret)
		return ret;
	if (!(qi.pcr_select & (1u << ATTESTIO_MLOG_PCR)))
		return att_err(err, ATT_EKEY,
			       "the quote does not cover PCR %d (pcr_mask 0x%x): nothing proves the key was the kernel's",
			       ATTESTIO_MLOG_PCR, qi.pcr_select);
	for (i = 0; i < 24; i++)
		if ((qi.pcr_select & (1u << i)) && i != ATTESTIO_MLOG_PCR &&
		    (!pcrs || !(pcrs_known & (1u << i))))
			return att_err(err, ATT_EINVAL,
				       "the quote covers PCR %d but no value for it was given", i);
	if (qi.pcr_digest_len != 32)
		return att_err(err, ATT_EQUOTE, "quote PCR digest of %u bytes",
			       qi.pcr_digest_len);
	md = EVP_MD_CTX_new();
	if (!md)
		return att_err(err, ATT_ENOMEM, "out of memory");
	for (n = 2; n <= log->n; n++) {
		unsigned int dl = 0;

		att_mlog_replay(log, n, p13);
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		for (i = 0; i < 24; i++) {
			if (!(qi.pcr_select & (1u << i)))
				continue;
			EVP_DigestUpdate(md, i == ATTESTIO_MLOG_PCR ? p13 :
					 pcrs[i], 32);
		}
		EVP_DigestFinal_ex(md, d, &dl);
		if (!memcmp(d, qi.pcr_digest, 32))
			break;
	}
	EVP_MD_CTX_free(md);
	if (n > log->n)
		return att_err(err, ATT_EKEY,
			       "the quoted PCR %d matches no prefix of the module's measurement log: something else extended it (a key registered outside the kernel?) or the other PCR values are wrong",
			       ATTESTIO_MLOG_PCR);
	ret = prefix_ok(log, n, ksk, err);
	if (ret)
		return ret;
	if (prefix)
		*prefix = n;
	return 0;
}

/* ------------------------------------------------ one boot's evidence --- */

struct att_boot {
	uint8_t *buf;			/* the log's bytes (log points in) */
	struct att_mlog log;
	struct att_ksk ksk;
	uint8_t pcrs[24][32];
	uint32_t pcrs_known;
};

int att_boot_new(const struct att_key *ak, const uint8_t *mlog,
		 size_t mlog_len, const uint8_t *pcrs, size_t pcrs_len,
		 struct att_boot **out, struct att_err *err)
{
	struct att_boot *b;
	int ret;

	if (!ak || !mlog || !out)
		return att_err(err, ATT_EINVAL, "att_boot_new: NULL argument");
	*out = NULL;
	if (!ak->pub)
		return att_err(err, ATT_EKEY,
			       "the enrolled AK must be given as its TPM2B_PUBLIC or enrollment bundle to check the kernel session key's certification");
	if (pcrs && pcrs_len != sizeof(b->pcrs))
		return att_err(err, ATT_EINVAL,
			       "PCR values: %zu bytes, not 24 SHA-256 PCRs (%zu bytes)",
			       pcrs_len, sizeof(b->pcrs));
	b = calloc(1, sizeof(*b));
	if (!b || !(b->buf = malloc(mlog_len ? mlog_len : 1))) {
		free(b);
		return att_err(err, ATT_ENOMEM, "out of memory");
	}
	memcpy(b->buf, mlog, mlog_len);
	if (pcrs) {
		memcpy(b->pcrs, pcrs, sizeof(b->pcrs));
		b->pcrs_known = 0xffffff;
	}
	ret = att_mlog_parse(b->buf, mlog_len, &b->log, err);
	if (!ret)
		ret = att_mlog_ksk(&b->log, ak, ak->pub, ak->pub_len, &b->ksk,
				   err);
	if (ret) {
		att_boot_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

void att_boot_free(struct att_boot *b)
{
	if (!b)
		return;
	att_ksk_clear(&b->ksk);
	att_mlog_free(&b->log);
	free(b->buf);
	free(b);
}

uint64_t att_boot_instance(const struct att_boot *b)
{
	return b->ksk.instance;
}

int att_boot_quote(const struct att_boot *b, uint64_t instance,
		   const uint8_t *attest, size_t attest_len,
		   const uint8_t *sig, size_t sig_len, const uint8_t *digest,
		   size_t digest_len, struct att_quote_info *qi,
		   struct att_quote_info *pol, struct att_err *err)
{
	EVP_MD_CTX *md;
	unsigned int dl = 0;
	int i, ret;

	ret = att_quote_verify(b->ksk.key, attest, attest_len, sig, sig_len,
			       digest, digest_len, qi, err);
	if (ret == ATT_ESIG)
		return att_err(err, ATT_ESIG,
			       "the quote is not signed by the kernel session key that load %016llx registered in PCR %d",
			       (unsigned long long)b->ksk.instance,
			       ATTESTIO_MLOG_PCR);
	if (!ret)
		ret = att_mlog_check_quote(&b->log, &b->ksk, instance, attest,
					   attest_len, sig, sig_len,
					   (const uint8_t (*)[32])b->pcrs,
					   b->pcrs_known, NULL, err);
	if (ret)
		return ret;
	/* what a firmware policy judges: the other PCRs, as quoted */
	*pol = *qi;
	pol->pcr_select &= ~(1u << ATTESTIO_MLOG_PCR);
	pol->pcr_digest_len = 32;
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return att_err(err, ATT_ENOMEM, "out of memory");
	}
	for (i = 0; i < 24; i++)
		if (pol->pcr_select & (1u << i))
			EVP_DigestUpdate(md, b->pcrs[i], 32);
	EVP_DigestFinal_ex(md, pol->pcr_digest, &dl);
	EVP_MD_CTX_free(md);
	return 0;
}

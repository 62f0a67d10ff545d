// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Simulated gateways' records and software quotes (sim.h): the pure record
 * code of the module (kernel/record.c) and TPM-format quotes signed by a
 * software P-256 key.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "sim.h"

_Static_assert(sizeof(((struct att_sim_chain *)0)->st) ==
	       sizeof(struct attestio_seg_state), "sim.h: seg state size");

void att_sim_chain_init(struct att_sim_chain *s, uint64_t instance,
			uint32_t id, uint32_t gen)
{
	memset(s, 0, sizeof(*s));
	s->instance = instance;
	s->id = id;
	s->gen = gen;
	attestio_chain_genesis(s->head, instance, id, gen);
}

int att_sim_finish(struct att_sim_chain *s, uint8_t *rec, uint16_t type,
		   uint32_t len, uint64_t boot_ns, uint64_t real_ns)
{
	struct attestio_rec_info info = {
		.type = type, .len = len, .stream = s->id, .seq = s->seq,
		.boottime_ns = boot_ns, .realtime_ns = real_ns,
	};
	struct attestio_rec_info chk;

	attestio_rec_hdr_encode(rec, &info);
	if (attestio_rec_validate(rec, len, &chk))
		return -1;
	attestio_chain_extend(s->head, rec, len);
	attestio_seg_state_note((struct attestio_seg_state *)s->st, type, rec,
				len);
	s->seq++;
	return 0;
}

uint32_t att_sim_desc_len(void)
{
	return attestio_rec_len(sizeof(struct attestio_descriptor) +
				sizeof(struct attestio_channel));
}

uint32_t att_sim_sample_len(void)
{
	return attestio_rec_len(sizeof(struct attestio_sample) + 4);
}

int att_sim_desc(struct att_sim_chain *s, uint8_t *rec, uint64_t boot_ns,
		 uint64_t real_ns)
{
	struct attestio_descriptor *d = attestio_rec_payload(rec);

	d->instance = cpu_to_le64(s->instance);
	d->segment = cpu_to_le32(s->segment);
	d->generation = cpu_to_le32(s->gen);
	d->mode = cpu_to_le16(ATTESTIO_MODE_BUFFERED);
	d->nchannels = cpu_to_le16(1);
	d->scan_bytes = cpu_to_le32(4);
	strcpy(d->device, "iio:device0");
	strcpy(d->name, "temp");
	d->chan[0].type = cpu_to_le16(9);	/* IIO_TEMP */
	d->chan[0].sign = 's';
	d->chan[0].realbits = 16;
	d->chan[0].storagebits = 16;
	d->chan[0].scale_type = cpu_to_le32(1);
	d->chan[0].scale_val = cpu_to_le32(10);
	return att_sim_finish(s, rec, ATTESTIO_REC_DESCRIPTOR, att_sim_desc_len(),
			      boot_ns, real_ns);
}

int att_sim_sample(struct att_sim_chain *s, uint8_t *rec, int16_t v,
		   uint64_t boot_ns, uint64_t real_ns)
{
	struct attestio_rec_info info = { .stream = s->id, .seq = s->seq };
	uint8_t scan[4] = { (uint8_t)v, (uint8_t)((uint16_t)v >> 8), 0, 0 };
	uint32_t len = att_sim_sample_len();

	if (attestio_sample_encode(rec, len, &info, 7, scan, 4) != len)
		return -1;
	return att_sim_finish(s, rec, ATTESTIO_REC_SAMPLE, len, boot_ns, real_ns);
}

int att_sim_tpm_sign(EVP_PKEY *key, const uint8_t *data, size_t len,
		     uint8_t *out, size_t cap, size_t *olen)
{
	unsigned char der[128];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const BIGNUM *r, *s;
	TPMT_SIGNATURE ts;
	ECDSA_SIG *sig;
	int ok;

	if (!md)
		return -1;
	ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestSign(md, der, &dlen, data, len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!sig)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	memset(&ts, 0, sizeof(ts));
	ts.sigAlg = TPM2_ALG_ECDSA;
	ts.signature.ecdsa.hash = TPM2_ALG_SHA256;
	ts.signature.ecdsa.signatureR.size = 32;
	ts.signature.ecdsa.signatureS.size = 32;
	BN_bn2binpad(r, ts.signature.ecdsa.signatureR.buffer, 32);
	BN_bn2binpad(s, ts.signature.ecdsa.signatureS.buffer, 32);
	ECDSA_SIG_free(sig);
	*olen = 0;
	return Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, out, cap, olen) ? -1 : 0;
}

int att_sim_quote(const struct att_sim_qopt *q, const uint8_t digest[32],
		  uint8_t *attest, size_t acap, size_t *alen,
		  uint8_t *sig, size_t scap, size_t *slen)
{
	uint32_t mask = q->pcr_mask ? q->pcr_mask : 0x81;
	TPMS_ATTEST a;

	memset(&a, 0, sizeof(a));
	a.magic = q->magic ? q->magic : TPM2_GENERATED_VALUE;
	a.type = q->type ? q->type : TPM2_ST_ATTEST_QUOTE;
	a.qualifiedSigner.size = 2;
	a.extraData.size = 32;
	memcpy(a.extraData.buffer, digest, 32);
	if (q->bad_extra)
		a.extraData.buffer[0] ^= 1;
	a.clockInfo.clock = q->clock;
	a.clockInfo.resetCount = q->reset;
	a.clockInfo.restartCount = q->restart;
	a.clockInfo.safe = 1;
	a.firmwareVersion = 0x0102030405060708ULL;
	a.attested.quote.pcrSelect.count = 1;
	a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
	a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
	for (int i = 0; i < 3; i++)
		a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[i] =
			(uint8_t)(mask >> (8 * i));
	a.attested.quote.pcrDigest.size = 32;
	if (q->pcr_digest)
		memcpy(a.attested.quote.pcrDigest.buffer, q->pcr_digest, 32);
	else
		memset(a.attested.quote.pcrDigest.buffer,
		       q->pcr_byte ? q->pcr_byte : ATT_SIM_PCR_BYTE, 32);
	*alen = 0;
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, attest, acap, alen))
		return -1;
	return att_sim_tpm_sign(q->key, attest, *alen, sig, scap, slen);
}

int att_sim_cp_prepare(struct att_sim_cp *cp, struct att_sim_chain **ss, int ns,
		       uint64_t epoch, const struct att_sim_qopt *q)
{
	struct attestio_cp_head *heads = (struct attestio_cp_head *)cp->heads;
	struct attestio_cp_layout lay;
	uint8_t digest[32];

	if (ns < 1 || ns > ATTESTIO_MAX_STREAMS ||
	    sizeof(cp->heads) < (size_t)ns * sizeof(*heads))
		return -1;
	memset(cp, 0, sizeof(*cp));
	cp->instance = ss[0]->instance;
	cp->epoch = epoch;
	cp->status = q->status;
	cp->pcr_mask = q->pcr_mask ? q->pcr_mask : 0x81;
	cp->nheads = (uint16_t)ns;
	for (int i = 0; i < ns; i++) {
		heads[i].stream = cpu_to_le32(ss[i]->id);
		heads[i].generation = cpu_to_le32(ss[i]->gen);
		heads[i].seq = cpu_to_le64(ss[i]->seq - 1);
		memcpy(heads[i].head, ss[i]->head, 32);
		attestio_seg_state_digest(heads[i].state,
					  (const struct attestio_seg_state *)ss[i]->st);
	}
	if (q->beacon)
		memcpy(cp->beacon, q->beacon, sizeof(cp->beacon));
	attestio_epoch_digest(digest, cp->instance, epoch, cp->beacon, heads,
			      (u16)ns);
	if (!q->status &&
	    att_sim_quote(q, digest, cp->attest, sizeof(cp->attest), &cp->alen,
			  cp->sig, sizeof(cp->sig), &cp->slen))
		return -1;
	if (attestio_cp_layout((u16)ns, (u16)cp->alen, (u16)cp->slen, &lay))
		return -1;
	cp->heads_off = lay.heads;
	cp->attest_off = lay.attest;
	cp->sig_off = lay.sig;
	cp->len = attestio_rec_align(lay.end);
	return 0;
}

int att_sim_cp_write(const struct att_sim_cp *cp, struct att_sim_chain *s,
		     int self, uint8_t *rec, uint64_t boot_ns, uint64_t real_ns)
{
	struct attestio_checkpoint *c = attestio_rec_payload(rec);

	c->epoch = cpu_to_le64(cp->epoch);
	c->instance = cpu_to_le64(cp->instance);
	c->status = cpu_to_le32(cp->status);
	c->ak_handle = cpu_to_le32(0x81000005);
	c->nheads = cpu_to_le16(cp->nheads);
	c->self = cpu_to_le16((u16)self);
	c->attest_len = cpu_to_le16((u16)cp->alen);
	c->sig_len = cpu_to_le16((u16)cp->slen);
	c->pcr_mask = cpu_to_le32(cp->pcr_mask);
	memcpy(c->beacon, cp->beacon, sizeof(c->beacon));
	memcpy(rec + cp->heads_off, cp->heads,
	       cp->nheads * sizeof(struct attestio_cp_head));
	memcpy(rec + cp->attest_off, cp->attest, cp->alen);
	memcpy(rec + cp->sig_off, cp->sig, cp->slen);
	return att_sim_finish(s, rec, ATTESTIO_REC_CHECKPOINT, cp->len, boot_ns,
			      real_ns);
}

int att_sim_write_ak(EVP_PKEY *key, const char *path)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der), ok;
	FILE *f;

	if (len <= 0)
		return -1;
	f = fopen(path, "w");
	ok = f && PEM_write(f, ATT_SIM_PEM_LABEL, "", der, len) > 0;
	if (f && fclose(f))
		ok = 0;
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

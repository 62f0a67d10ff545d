/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libattestio: parse and verify attestio records; provision and enroll TPM
 * attestation keys.  Record layouts come from <linux/attestio.h> (the uapi
 * header, the one contract); nothing here re-declares them.
 *
 * Conventions: functions return 0 on success or a negative ATT_E* code and,
 * where they take `struct att_err *`, fill it with a sentence naming what
 * was wrong (and, for records, which stream/seq and which check).
 */
#ifndef LIBATTESTIO_H
#define LIBATTESTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/attestio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ errors --- */

enum att_code {
	ATT_OK = 0,
	ATT_EPARSE = -1,	/* malformed record / file / bundle */
	ATT_ESEQ = -2,		/* sequence hole, reorder, duplicate */
	ATT_ECHAIN = -3,	/* head does not match the chain */
	ATT_EQUOTE = -4,	/* TPMS_ATTEST wrong (magic, type, extraData) */
	ATT_ESIG = -5,		/* signature does not verify */
	ATT_EREPLAY = -6,	/* old or repeated checkpoint, clock went back */
	ATT_EPOLICY = -7,	/* quoted PCR digest not allowed */
	ATT_EUNSIGNED = -8,	/* checkpoint explicitly unsigned */
	ATT_EKEY = -9,		/* bad or missing key */
	ATT_EIO = -10,		/* file or device error */
	ATT_ENOMEM = -11,
	ATT_ETPM = -12,		/* TPM missing or failing */
	ATT_EINVAL = -13,	/* bad argument */
};

struct att_err {
	int code;		/* enum att_code */
	uint32_t stream;	/* record the error is about, if any */
	uint64_t seq;
	int has_record;
	char msg[256];
};

const char *att_code_name(int code);
/* "descriptor", "sample", … for an ATTESTIO_REC_* type; "unknown" else. */
const char *att_rec_type_name(unsigned int type);

/* --------------------------------------------------------------- keys --- */

struct att_key;		/* an attestation key's public part (EVP_PKEY) */

int att_key_load(const char *path, struct att_key **out, struct att_err *err);
			/* PEM (SubjectPublicKeyInfo) or TPM2B_PUBLIC file */
int att_key_from_tpm2b_public(const uint8_t *buf, size_t len,
			      struct att_key **out, struct att_err *err);
void att_key_free(struct att_key *key);

/* ------------------------------------------------------------ quotes --- */

struct att_quote_info {
	uint64_t clock;			/* TPMS_CLOCK_INFO.clock, ms */
	uint32_t reset_count;
	uint32_t restart_count;
	uint8_t safe;
	uint64_t firmware_version;
	uint32_t pcr_select;		/* SHA-256 PCRs selected (bit i) */
	uint8_t pcr_digest[64];
	uint16_t pcr_digest_len;
	uint8_t extra[64];		/* qualifying data */
	uint16_t extra_len;
};

/*
 * Unmarshal TPMS_ATTEST (libtss2-mu), check TPM_GENERATED_VALUE, type
 * TPM_ST_ATTEST_QUOTE and extraData == @qdata, then the TPMT_SIGNATURE
 * over SHA-256(attest) with @key (OpenSSL EVP).
 */
int att_quote_verify(const struct att_key *key, const uint8_t *attest,
		     size_t attest_len, const uint8_t *sig, size_t sig_len,
		     const uint8_t *qdata, size_t qlen,
		     struct att_quote_info *info, struct att_err *err);

/* ------------------------------------------------------------ policy --- */

/*
 * Allowed quoted PCR states.  File format: one line per allowed state,
 * "<pcr_select hex mask> <pcr digest hex>"; '#' comments.  An empty policy
 * (NULL) allows any PCR state.
 */
struct att_policy;
int att_policy_load(const char *path, struct att_policy **out,
		    struct att_err *err);
/* The same format from memory (@len bytes, need not be NUL terminated). */
int att_policy_parse(const char *text, size_t len, struct att_policy **out,
		     struct att_err *err);
void att_policy_free(struct att_policy *p);
/* 0 if @p (NULL: any state) allows the PCR state in @qi, else ATT_EPOLICY. */
int att_policy_check(const struct att_policy *p,
		     const struct att_quote_info *qi, struct att_err *err);

/* ---------------------------------------------------------- verifier --- */

/* Per-record outcome reported by att_verifier_feed(). */
enum att_rec_state {
	ATT_REC_VERIFIED,	/* covered by a verified checkpoint */
	ATT_REC_PENDING,	/* chained, no checkpoint yet */
	ATT_REC_UNSIGNED,	/* covered only by unsigned checkpoints */
	ATT_REC_LOCAL,		/* reader-local (lost) record */
	ATT_REC_BAD,		/* failed a check, see att_err */
};

/* Events the verifier noticed (flags in att_summary.events). */
#define ATT_EV_REBOOT	(1u << 0)	/* TPM reset count changed */
#define ATT_EV_RESTART	(1u << 1)	/* TPM restart count changed */
#define ATT_EV_LOST	(1u << 2)	/* the reader lost records */
#define ATT_EV_GAP	(1u << 3)	/* the capture path declared losses */

struct att_summary {
	uint64_t records;
	uint64_t samples;		/* sample records seen */
	uint64_t samples_verified;	/* covered by a verified checkpoint */
	uint64_t samples_pending;	/* after the last checkpoint */
	uint64_t samples_unsigned;	/* covered only by unsigned ones */
	uint64_t checkpoints;
	uint64_t checkpoints_verified;
	uint64_t checkpoints_unsigned;
	uint64_t gap_lost;		/* samples declared lost */
	uint64_t lost_records;		/* reader-local losses */
	uint32_t events;		/* ATT_EV_* */
	uint32_t streams;
	int first_error;		/* enum att_code of the first failure */
	uint64_t samples_unverifiable;	/* chain lost (reader loss, error)
					   before a checkpoint re-anchored it */
};

struct att_verifier_opts {
	const struct att_key *ak;	/* NULL: checkpoints cannot verify */
	const struct att_policy *policy;	/* NULL: any PCR state */
	bool allow_unsigned;		/* treat unsigned as not an error */
	bool allow_lost;		/* reader-local losses are not errors */
};

struct att_verifier;
struct att_verifier *att_verifier_new(const struct att_verifier_opts *o);
void att_verifier_free(struct att_verifier *v);

/*
 * Check one record (strict parse, sequence, chain, checkpoint quote,
 * freshness per key, PCR policy).  Returns 0 or a negative ATT_E* code with
 * @err naming the record and check.  A stream may start at seq 0 (its
 * descriptor, chain from genesis) or at any checkpoint, whose heads anchor
 * the chain from there on.  @state, if not NULL, is this record's state.
 *
 * @rec/@len is exactly one record (any alignment).  Rules:
 * - A stream's first record must be its seq-0 descriptor or a checkpoint;
 *   other records before a stream's first checkpoint are ATT_EPARSE
 *   ("joined mid-chain") unless a LOST record came first.  A checkpoint
 *   whose heads[self].seq is not the record just before it anchors once
 *   the records in between have been seen (they are buffered).
 * - Holes: ATT_ESEQ, unless a LOST record came since the stream's last
 *   record and opts.allow_lost; a LOST record itself is ATT_ESEQ without
 *   allow_lost.  After a hole (or any failed record) the stream re-anchors
 *   at a later checkpoint; samples that can then never be proven count as
 *   samples_unverifiable.  Duplicates/older seqs: ATT_ESEQ, ignored.
 * - Checkpoints: instance, heads[self] equal to the recomputed head at that
 *   seq (ATT_ECHAIN), epoch digest == quote extraData and signature
 *   (att_quote_verify), tpm_rc 0 and pcr_mask equal to the quoted SHA-256
 *   selection (ATT_EQUOTE), freshness per key (ATT_EREPLAY; reset/restart
 *   count increases are ATT_EV_REBOOT/ATT_EV_RESTART), policy (ATT_EPOLICY).
 *   Signed checkpoint without opts.ak: ATT_EKEY.  Unsigned: ATT_EUNSIGNED
 *   unless allow_unsigned; covered samples count as unsigned either way.
 * - Records up to heads[self].seq of a verified checkpoint are verified;
 *   after a failed checkpoint they stay pending for a later one.
 * - The last checkpoint of a file is covered by no other: its own header
 *   timestamps and ak_handle are not authenticated (the quote is).
 */
int att_verifier_feed(struct att_verifier *v, const uint8_t *rec, size_t len,
		      enum att_rec_state *state, struct att_err *err);
/* Counts so far; samples after the last checkpoint count as pending. */
void att_verifier_summary(const struct att_verifier *v, struct att_summary *s);
/*
 * The last seq of @stream covered by a verified checkpoint (every record up
 * to it is VERIFIED or was reported bad); ATT_ECHAIN if there is none yet.
 */
int att_verifier_verified_upto(const struct att_verifier *v, uint32_t stream,
			       uint64_t *seq);

/* -------------------------------------------------------------- decode --- */

/* The stream's current descriptor as seen by the verifier, or NULL. */
const struct attestio_descriptor *
att_verifier_descriptor(const struct att_verifier *v, uint32_t stream);

/*
 * Channel @ch of @scan as an SI value using descriptor @d: sign/realbits/
 * shift/endianness, then (raw + offset) * scale per the IIO value types.
 */
int att_decode_channel(const struct attestio_descriptor *d, unsigned int ch,
		       const uint8_t *scan, size_t scan_len, double *value,
		       int64_t *raw);
const char *att_chan_type_name(unsigned int iio_type);	/* "temp", ... */
const char *att_chan_unit(unsigned int iio_type);	/* "degC", "kPa", ... */

/* ------------------------------------------------------- provisioning --- */

struct att_provision_opts {
	const char *tcti;		/* NULL: default (TPM2TOOLS_TCTI/device) */
	uint32_t handle;		/* persistent AK handle, 0x81xxxxxx */
	const char *out_dir;		/* ak.pem, ak.pub, ak.name written here */
	const char *owner_auth;		/* owner hierarchy password or NULL */
	bool force;			/* rotate: evict and recreate */
};

struct att_provision_result {
	uint32_t handle;
	bool created;			/* false: an existing AK was reused */
	bool have_ek_cert;
	uint8_t ak_name[66];
	size_t ak_name_len;
};

int att_provision(const struct att_provision_opts *o,
		  struct att_provision_result *r, struct att_err *err);

/* ---------------------------------------------------------- enrollment --- */

/*
 * Enrollment bundle (a small TLV file, magic "ATTESTIO-ENROLL\0", v1): EK
 * public (TPM2B_PUBLIC), EK certificate (DER, optional), AK public
 * (TPM2B_PUBLIC), AK name, device identity string.
 */
struct att_enroll_bundle {
	uint8_t *ek_pub;	size_t ek_pub_len;
	uint8_t *ek_cert;	size_t ek_cert_len;
	uint8_t *ak_pub;	size_t ak_pub_len;
	uint8_t ak_name[66];	size_t ak_name_len;
	char identity[128];
};

int att_enroll_collect(const char *tcti, uint32_t ak_handle,
		       const char *identity, struct att_enroll_bundle *b,
		       struct att_err *err);
int att_enroll_write(const char *path, const struct att_enroll_bundle *b,
		     struct att_err *err);
int att_enroll_parse(const uint8_t *buf, size_t len,
		     struct att_enroll_bundle *b, struct att_err *err);
void att_enroll_free(struct att_enroll_bundle *b);

/*
 * Verifier side of credential activation: TPM2_MakeCredential done in
 * software (OpenSSL) for the EK public and AK name in @b, wrapping @secret.
 * Outputs the marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
 */
int att_make_credential(const struct att_enroll_bundle *b,
			const uint8_t *secret, size_t secret_len,
			uint8_t *cred_blob, size_t *cred_blob_len,
			uint8_t *enc_secret, size_t *enc_secret_len,
			struct att_err *err);
/* Attester side: TPM2_ActivateCredential with the AK and EK. */
int att_activate_credential(const char *tcti, uint32_t ak_handle,
			    const uint8_t *cred_blob, size_t cred_blob_len,
			    const uint8_t *enc_secret, size_t enc_secret_len,
			    uint8_t *secret, size_t *secret_len,
			    struct att_err *err);

#ifdef __cplusplus
}
#endif
#endif /* LIBATTESTIO_H */

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
/* The same formats (and enrollment bundle) from memory. */
int att_key_parse(const uint8_t *buf, size_t len, struct att_key **out,
		  struct att_err *err);
int att_key_from_tpm2b_public(const uint8_t *buf, size_t len,
			      struct att_key **out, struct att_err *err);
void att_key_free(struct att_key *key);
/*
 * True when the key came with its TPM object attributes (TPM2B_PUBLIC or
 * enrollment bundle), which att_key_load() checked: restricted signing key,
 * fixedTPM, fixedParent, sensitiveDataOrigin, not a decryption key.  A PEM
 * key carries no attributes: its TPM origin is unchecked.
 */
bool att_key_origin_checked(const struct att_key *key);
/*
 * The qualified name the TPM puts into TPMS_ATTEST.qualifiedSigner for this
 * key, when known (keys from an enrollment bundle: AK under the EK in the
 * endorsement hierarchy); *len 0 when unknown.
 */
/*
 * True when the key file was a simulated gateway's software key (PEM label
 * "ATTESTIO SIMULATED PUBLIC KEY", written by attestio-sim and the test
 * generators): no TPM holds it.  Verifiers must refuse it unless they were
 * explicitly told to admit simulated gateways (tests, benchmarks).
 */
bool att_key_simulated(const struct att_key *key);
void att_key_qualified_name(const struct att_key *key, const uint8_t **qn,
			    size_t *len);

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

/* ---------------------------------------------------- boot event log --- */

/*
 * The firmware's boot event log (binary_bios_measurements, TCG PC Client
 * crypto-agile format): parsed strictly (a TPM 1.2 SHA-1-only log, a log
 * without a SHA-256 bank, a digest list out of the Spec ID order, a PCR
 * above 23 or any truncation is ATT_EPARSE), replayed into the SHA-256
 * bank, and explained against reported PCR values and a reference log.
 */
#define ATT_EVENTLOG_MAX	(8u << 20)
#define ATT_EVENTLOG_MAX_EVENTS	65536u
#define ATT_EVENTLOG_PCRS	24

struct att_eventlog_event {
	uint32_t pcr, type;
	uint8_t sha256[32];
	const uint8_t *data;	/* into the parsed buffer */
	uint32_t data_len;
	size_t offset;		/* of the event in the log */
};

struct att_eventlog {
	struct att_eventlog_event *ev;	/* events after the Spec ID event */
	size_t n;
	uint32_t nalgs;
	int sha256_index;
};

/* Parse @buf (kept referenced by the events); free with att_eventlog_free. */
int att_eventlog_parse(const uint8_t *buf, size_t len, struct att_eventlog *l,
		       struct att_err *err);
void att_eventlog_free(struct att_eventlog *l);
/* EV_NO_ACTION events are recorded but not extended. */
bool att_eventlog_extends(const struct att_eventlog_event *e);
/* The SHA-256 PCRs the log produces from reset (a StartupLocality event
 * sets PCR 0's start); @touched gets a bit per PCR the log extends. */
void att_eventlog_replay(const struct att_eventlog *l,
			 uint8_t pcr[ATT_EVENTLOG_PCRS][32], uint32_t *touched);
const char *att_eventlog_type_name(uint32_t type);
/*
 * Why a PCR state may not be the expected one, as one line in @out: does
 * @log replay to @pcrs (768 bytes, PCRs 0-23; NULL: not reported) for the
 * PCRs in @mask it extends, and, with a reference log @ref of the device
 * class, the first event per PCR in @mask that differs from it.  Returns
 * 0 when nothing differs, 1 when something does (or a log does not parse),
 * -1 when @cap is 0.
 */
int att_eventlog_explain(const uint8_t *log, size_t log_len, const uint8_t *pcrs,
			 size_t pcrs_len, uint32_t mask, const uint8_t *ref,
			 size_t ref_len, char *out, size_t cap);

/* ---------------------------------------------------------- verifier --- */

/*
 * The verdict on one record (or, for ATT_REC_MISSING, on a range of records
 * known to exist but absent from the input).  Documentation/wire-format.md
 * ("Verification rules") states when each applies.  Every record fed gets
 * exactly one final verdict through att_verifier_opts.on_verdict: at once
 * (LOCAL, BAD, a verified checkpoint), when a later checkpoint decides it,
 * or from att_verifier_finish() (PENDING, UNSIGNED).
 */
enum att_rec_state {
	ATT_REC_VERIFIED,	/* chained from an anchor and covered by a
				   verified checkpoint (a checkpoint: its
				   quote verified) */
	ATT_REC_PENDING,	/* chained, no checkpoint covers it (yet) */
	ATT_REC_UNSIGNED,	/* covered only by unsigned checkpoints */
	ATT_REC_LOCAL,		/* reader-local (lost) record, never chained */
	ATT_REC_BAD,		/* failed a check (code, why) */
	ATT_REC_UNVERIFIABLE,	/* can never be proven: before the stream's
				   first anchor, after a hole, or its chain
				   broke before a checkpoint covered it */
	ATT_REC_MISSING,	/* absent: a sequence hole, or withheld
				   (proven to exist by a signed head) */
};

/* Why a record is UNVERIFIABLE or MISSING (att_verdict.cause). */
enum att_cause {
	ATT_CAUSE_NONE = 0,
	ATT_CAUSE_JOIN,		/* before the stream's first anchor */
	ATT_CAUSE_HOLE,		/* around a sequence hole */
	ATT_CAUSE_BROKEN,	/* the chain broke (a bad record, a head
				   mismatch, too many records unsigned) */
	ATT_CAUSE_WITHHELD,	/* a signed head proves it exists */
};

struct att_verdict {
	uint32_t stream;
	uint64_t seq;		/* the record; MISSING: the first absent seq */
	uint64_t count;		/* 1; MISSING: how many records are absent */
	uint16_t type;		/* ATTESTIO_REC_*, 0 for MISSING */
	enum att_rec_state state;
	enum att_cause cause;
	bool excused;		/* allowed by allow_join / allow_lost */
	int code;		/* ATT_E* for BAD, UNVERIFIABLE, MISSING */
	const char *why;	/* short reason (static string), or NULL */
	/*
	 * The chain of the record, when the verifier had it chained: a chain
	 * that ended (a new generation's genesis, a checkpoint of another
	 * load) gets its verdicts after the next chain's first record was
	 * fed.  false for the record being fed, records buffered before an
	 * anchor and MISSING ranges: the caller's own bookkeeping decides.
	 */
	bool have_chain;
	uint64_t instance;
	uint32_t generation;
};

typedef void (*att_verdict_fn)(void *ctx, const struct att_verdict *vd);

/* Events the verifier noticed (flags in att_summary.events). */
#define ATT_EV_REBOOT	(1u << 0)	/* TPM reset count changed */
#define ATT_EV_RESTART	(1u << 1)	/* TPM restart count changed */
#define ATT_EV_LOST	(1u << 2)	/* the reader lost records */
#define ATT_EV_GAP	(1u << 3)	/* the capture path declared losses */

/* Counts so far.  records_* and samples_* count final verdicts. */
struct att_summary {
	uint64_t records;		/* records fed */
	uint64_t samples;		/* sample records fed */
	uint64_t records_verified, samples_verified;
	uint64_t records_pending, samples_pending;	/* incl. undecided */
	uint64_t records_unsigned, samples_unsigned;
	uint64_t records_unverifiable, samples_unverifiable;
	uint64_t records_bad, samples_bad;
	uint64_t records_local;		/* lost records fed */
	uint64_t unverifiable_excused;	/* of records_unverifiable */
	uint64_t missing;		/* records absent in sequence holes */
	uint64_t missing_excused;	/* of which lost records account for */
	uint64_t withheld;		/* absent, proven by signed heads */
	uint64_t checkpoints;
	uint64_t checkpoints_verified;
	uint64_t checkpoints_unsigned;
	uint64_t checkpoints_beacon;	/* verified ones covering a beacon */
	uint64_t anchors_state;		/* mid-chain anchors that took an
					   offered segment state (v4) */
	uint64_t gap_lost;		/* samples declared lost (gap) */
	uint64_t lost_records;		/* reader-local losses declared */
	uint32_t events;		/* ATT_EV_* */
	uint32_t streams;
	uint32_t errors;		/* problems reported (feed errors) */
	int first_error;		/* enum att_code of the first one */
	bool key_origin_checked;	/* the AK came with its TPM attributes */
	bool kernel_key;		/* every verified quote was by a kernel
					   session key that a measurement log
					   proved the only key of its boot */
};

struct att_verifier_opts {
	const struct att_key *ak;	/* NULL: checkpoints cannot verify */
	const struct att_policy *policy;	/* NULL: any PCR state */
	bool allow_unsigned;	/* UNSIGNED records are not a failure */
	bool allow_lost;	/* holes that earlier lost records account
				   for, and the records they leave
				   UNVERIFIABLE, are not a failure */
	bool allow_join;	/* a stream may start mid-chain: its records
				   before its first anchor are UNVERIFIABLE
				   but not a failure */
	bool complete;		/* records that signed heads prove to exist
				   but that are absent are a failure */
	att_verdict_fn on_verdict;	/* may be NULL */
	void *ctx;			/* passed to on_verdict */
	/*
	 * Kernel-exclusive key use (issue 8): one struct att_boot per boot
	 * of the gateway (att_boot_new()).  Given any, every signed
	 * checkpoint must be quoted by the kernel session key of the boot
	 * whose load matches its instance, under the rule of
	 * att_mlog_check_quote(); @ak is the enrolled AK and @policy judges
	 * the quoted PCRs other than ATTESTIO_MLOG_PCR.  Given none, quotes
	 * are verified with @ak itself, which proves nothing about who
	 * asked for them (summary.kernel_key stays false); a certify-only
	 * AK then verifies nothing.
	 */
	const struct att_boot *const *boots;
	size_t nboots;
	/*
	 * Freshness by oracle beacons (record v3): the beacon values the
	 * oracle network issued (Documentation/protocol.md), kept by the
	 * caller while the verifier lives.  Given any (nbeacons > 0), every
	 * signed checkpoint must cover one of them (ATT_EREPLAY otherwise:
	 * no beacon, or one the network never issued).  Given none, the
	 * beacon a checkpoint covers is only reported.
	 */
	const uint8_t (*beacons)[ATTESTIO_HASH_LEN];
	size_t nbeacons;
	/*
	 * Called once per checkpoint record whose quote verified, with the
	 * beacon value the quote covers (NULL: none).  May be NULL.
	 */
	void (*on_beacon)(void *ctx, uint32_t stream, uint64_t instance,
			  uint64_t epoch, const uint8_t *beacon);
};

struct att_verifier;
struct att_verifier *att_verifier_new(const struct att_verifier_opts *o);
void att_verifier_free(struct att_verifier *v);

/*
 * Check one record (strict parse, sequence, chain, checkpoint quote,
 * freshness, PCR policy).  @rec/@len is exactly one record (any alignment).
 * Returns 0 or a negative ATT_E* code with @err naming the record and the
 * check, for a problem found at this record: the record itself is BAD, a
 * sequence hole before it that no lost record excuses (ATT_ESEQ), a lost
 * record without allow_lost (ATT_ESEQ).  @state, if not NULL, is the
 * record's state now (PENDING until a verdict is known; UNSIGNED for an
 * unsigned checkpoint, which a later verified one may still cover).
 * Feeding continues after errors: the stream re-anchors at a later
 * checkpoint.  Whether the input as a whole is acceptable is decided by
 * att_verifier_finish().
 */
int att_verifier_feed(struct att_verifier *v, const uint8_t *rec, size_t len,
		      enum att_rec_state *state, struct att_err *err);
/*
 * End of input: every record still undecided gets its final verdict
 * (PENDING, UNSIGNED, UNVERIFIABLE), withheld records are reported, and
 * the whole input is judged.  Returns 0 only if no record is BAD, no
 * record is UNVERIFIABLE or MISSING unless excused, no record is UNSIGNED
 * unless allow_unsigned, nothing is withheld when opts.complete, at least
 * one checkpoint verified, and no feed error occurred; else the first
 * reason, in @err.
 */
int att_verifier_finish(struct att_verifier *v, struct att_err *err);
/* Counts so far (after finish: final). */
void att_verifier_summary(const struct att_verifier *v, struct att_summary *s);
/*
 * The last seq of @stream covered by a verified checkpoint: every record
 * of @stream up to it that was fed already has its final verdict (VERIFIED,
 * or BAD / UNVERIFIABLE / UNSIGNED reported through on_verdict).
 * ATT_ECHAIN if there is none yet.
 */
int att_verifier_verified_upto(const struct att_verifier *v, uint32_t stream,
			       uint64_t *seq);

/*
 * Replay protection across runs.  A state file (text, see
 * Documentation/wire-format.md) holds, per attestation key, the latest TPM
 * time verified and, per (instance, stream), the last verified checkpoint
 * epoch.  att_verifier_state_load() before feeding: every checkpoint must
 * then be newer than what the file records (ATT_EREPLAY).  A missing file
 * is an empty state.  att_verifier_state_save() writes the old state merged
 * with this run's (atomically: temporary file, fsync, rename).
 */
int att_verifier_state_load(struct att_verifier *v, const char *path,
			    struct att_err *err);
int att_verifier_state_parse(struct att_verifier *v, const char *text,
			     size_t len, struct att_err *err);
int att_verifier_state_save(const struct att_verifier *v, const char *path,
			    struct att_err *err);

/* -------------------------------------------------------------- decode --- */

/*
 * The stream's current descriptor as seen by the verifier (calib records
 * applied), or NULL.  Inside an on_verdict callback, for the stream of the
 * record being judged: the descriptor in force where that record was
 * chained (NULL if none was known there), so that a sample VERIFIED at a
 * later checkpoint decodes with its own scale and offset, not with those
 * of a calib record or segment that came after it.
 */
const struct attestio_descriptor *
att_verifier_descriptor(const struct att_verifier *v, uint32_t stream);

/*
 * The TPM time (reset and restart counts, clock in ms) of @stream's last
 * verified quote; inside the on_verdict callbacks a verified checkpoint
 * causes (its own and those of the records it covers), that checkpoint's.
 * 0, or ATT_ECHAIN if none.
 */
int att_verifier_quote_time(const struct att_verifier *v, uint32_t stream,
			    uint32_t *reset, uint32_t *restart,
			    uint64_t *clock_ms);

/*
 * Resuming mid-chain (a verifier rebuilt from a store of verified records,
 * fed again from the last verified checkpoint): @d (@len bytes, channels
 * included) is the descriptor, calib records applied, that was in force at
 * checkpoint @seq of chain (@instance, @generation) of @stream, as
 * att_verifier_descriptor() gave it inside that checkpoint's VERIFIED
 * verdict.  A verifier that anchors there without knowing the descriptor
 * takes this one, so that the samples after it decode (and later calib
 * records apply); anchoring there, it takes it before the records after
 * the checkpoint's head it held (appended while the quote was taken),
 * which were chained under it too, unless one of them is a detach,
 * descriptor or calib record.  The verifier cannot check it: give it only what the
 * caller's own store of verified verdicts holds.  One per stream (the
 * last call wins).  0, or ATT_EINVAL for a malformed @d, ATT_ENOMEM.
 */
int att_verifier_resume_descriptor(struct att_verifier *v, uint32_t stream,
				   uint64_t instance, uint32_t generation,
				   uint64_t seq,
				   const struct attestio_descriptor *d,
				   size_t len);

/*
 * Offer the segment state of @stream where its chain will be anchored
 * mid-way (record format v4): the stream's descriptor record @desc and
 * the newest calib record after it in its segment @calib (NULL: none),
 * raw as /dev/attestio returned them.  When the verifier anchors the
 * stream at a checkpoint whose quote verified (never an unsigned one:
 * anyone can write its state) and whose head commits to exactly this state
 * (SHA-256 of these records, uapi "state"), the records after that head
 * are decoded with this descriptor and calibration, as if the chain had
 * been followed from the descriptor; otherwise the offer is ignored and
 * the segment stays unknown (samples give no values).  Nothing needs to
 * be trusted: a wrong offer never matches a signed state.  One per stream
 * (the last call wins).  0, or ATT_EINVAL for records that do not
 * validate or do not belong together, ATT_ENOMEM.
 */
int att_verifier_offer_state(struct att_verifier *v, uint32_t stream,
			     const uint8_t *desc, size_t dlen,
			     const uint8_t *calib, size_t clen);

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

/* ------------------------------------------------------ TPM TLS key --- */

/*
 * A TLS client key that never leaves the TPM (user/lib/tlskey.c): ECC
 * P-256, sign only, unrestricted, fixedTPM, created under the EK and
 * persisted at @handle (0x81xxxxxx; a taken handle is refused).  @tcti as
 * for provisioning (NULL: $TPM2TOOLS_TCTI, $TCTI, device:/dev/tpmrm0).
 */
int att_tls_key_create(const char *tcti, uint32_t handle, struct att_err *err);
/*
 * An EVP_PKEY for the key at @handle whose ECDSA signatures TPM2_Sign
 * makes (the TPM connection stays open until EVP_PKEY_free); for
 * SSL_CTX_use_PrivateKey() and for writing the public key (PEM) a CA
 * certifies.  ATT_EKEY when the handle holds no such key.
 */
struct evp_pkey_st;
int att_tls_key_load(const char *tcti, uint32_t handle, struct evp_pkey_st **out,
		     struct att_err *err);

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
/* The bundle's bytes (what att_enroll_write writes), malloc'ed. */
int att_enroll_encode(const struct att_enroll_bundle *b, uint8_t **out,
		      size_t *len, struct att_err *err);
int att_enroll_parse(const uint8_t *buf, size_t len,
		     struct att_enroll_bundle *b, struct att_err *err);
void att_enroll_free(struct att_enroll_bundle *b);
/*
 * A gateway's id (DESIGN.md "Identity"): lowercase hex of the first 16
 * bytes of SHA-256 over the EK public area (@ek_pub is the TPM2B_PUBLIC,
 * its size prefix excluded from the hash).  attestiod, `attestio setup
 * gateway` and the oracle's admission use this one derivation.  0 or -1
 * (not a TPM2B_PUBLIC: the size prefix does not match @len).
 */
int att_gateway_id(const uint8_t *ek_pub, size_t len, char id[33]);
/*
 * The bundle's EK certificate checked against the CA certificates in
 * @ca_dir (every regular file: PEM, one or more certificates, or DER), with
 * OpenSSL's X509_STORE: the chain must verify and the certificate's public
 * key must be the EK in the bundle.  0; ATT_EINVAL (no certificate in the
 * bundle, or an unreadable directory); ATT_EKEY with the reason.
 */
int att_enroll_check_ek_cert(const struct att_enroll_bundle *b,
			     const char *ca_dir, struct att_err *err);

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

/* ------------------------------------ kernel-exclusive key (issue 8) --- */

/*
 * attestio.ko signs checkpoints with a kernel session key (KSK) it creates
 * at load with an authValue only the kernel knows, registers in PCR
 * ATTESTIO_MLOG_PCR (its measurement log, /sys/kernel/attestio/measurements,
 * format in <linux/attestio.h>) and has certified by the enrolled AK.
 * These functions decide whether a checkpoint's quote proves that the
 * kernel, and nothing else, made it (Documentation/design.md).
 */
struct att_mlog_event {
	uint16_t type;			/* ATTESTIO_MEV_* */
	uint64_t instance;
	const uint8_t *data;		/* points into the parsed buffer */
	uint32_t len;
	uint8_t digest[32];		/* what was extended */
};

struct att_mlog {
	struct att_mlog_event *ev;
	size_t n;
};

/* Strict parse of a measurement log; @buf must outlive @log. */
int att_mlog_parse(const uint8_t *buf, size_t len, struct att_mlog *log,
		   struct att_err *err);
void att_mlog_free(struct att_mlog *log);
/* PCR ATTESTIO_MLOG_PCR (SHA-256) after the first @n events. */
void att_mlog_replay(const struct att_mlog *log, size_t n, uint8_t pcr[32]);

struct att_ksk {
	uint64_t instance;		/* the load that registered it */
	uint8_t name[34];
	struct att_key *key;		/* its public key (att_ksk_clear) */
	int ak_certify_only;		/* the AK cannot quote (attestio AK) */
};

/*
 * The KSK of the first load in @log, checked: event 0 is a LOAD, event 1
 * its KEY (a restricted ECC P-256 signing key with attestio's KSK
 * attributes), and a CERT of the same load is a TPM2_Certify of exactly
 * that key by @ak (the enrolled AK; its TPM2B_PUBLIC, ak.pub, in
 * @ak_pub) with qualifying data SHA-256(ATTESTIO_TAG_KSK || instance ||
 * name).  ATT_EKEY with the reason otherwise.
 */
int att_mlog_ksk(const struct att_mlog *log, const struct att_key *ak,
		 const uint8_t *ak_pub, size_t ak_pub_len, struct att_ksk *ksk,
		 struct att_err *err);
void att_ksk_clear(struct att_ksk *ksk);

/*
 * THE VERIFIER HOOK, for every signed checkpoint of instance @instance:
 * the quote (@attest, @sig as carried by the checkpoint) must be signed by
 * @ksk, select SHA-256 PCR ATTESTIO_MLOG_PCR, and its PCR digest must
 * equal SHA-256 over the selected PCRs where PCR ATTESTIO_MLOG_PCR is the
 * replay of a prefix of @log that registered exactly one key (the KSK)
 * in exactly one load (@instance) and nothing else: no unload, no second
 * load or key.  The other selected PCRs come from @pcrs (bit i of
 * @pcrs_known set: pcrs[i] holds SHA-256 PCR i as the firmware policy
 * accepted it).  Returns 0, or ATT_EKEY / ATT_ESIG / ATT_EQUOTE with the
 * reason.  @prefix (may be NULL) receives the number of events matched.
 */
int att_mlog_check_quote(const struct att_mlog *log,
			 const struct att_ksk *ksk, uint64_t instance,
			 const uint8_t *attest, size_t attest_len,
			 const uint8_t *sig, size_t sig_len,
			 const uint8_t (*pcrs)[32], uint32_t pcrs_known,
			 size_t *prefix, struct att_err *err);

/*
 * One boot of a gateway as a verifier sees it: its measurement log (the
 * bytes of /sys/kernel/attestio/measurements, read any time during that
 * boot) and optionally its SHA-256 PCRs 0-23 (24 x 32 bytes, as
 * tpm2_pcrread writes them; untrusted: a quote only counts if they and
 * the log's replay give the quoted PCR digest).  att_boot_new() checks
 * the log's first load registered a kernel session key that @ak (the
 * enrolled AK, loaded from its TPM2B_PUBLIC or enrollment bundle)
 * certified; ATT_EKEY with the reason otherwise.
 */
struct att_boot;
int att_boot_new(const struct att_key *ak, const uint8_t *mlog,
		 size_t mlog_len, const uint8_t *pcrs, size_t pcrs_len,
		 struct att_boot **out, struct att_err *err);
void att_boot_free(struct att_boot *b);
/* The instance (module load) whose session key this boot registered. */
uint64_t att_boot_instance(const struct att_boot *b);
/* Does @key carry attestio's certify-only AK policy (it never quotes)? */
bool att_key_certify_only(const struct att_key *key);

#ifdef __cplusplus
}
#endif
#endif /* LIBATTESTIO_H */

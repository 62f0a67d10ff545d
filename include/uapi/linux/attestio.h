/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * attestio: attested sensor records captured at the IIO driver layer.
 *
 * This header is the one contract between attestio.ko and userspace.  Every
 * structure has fixed-width little-endian fields, natural alignment and
 * explicit padding, so the byte layout is identical on every architecture.
 * Documentation/wire-format.md describes the format in prose.
 *
 * A record is a header (struct attestio_rec_hdr) followed by a payload whose
 * layout depends on hdr.type.  Records are padded with zero bytes to a
 * multiple of ATTESTIO_REC_ALIGN; hdr.len counts header, payload and padding.
 */
#ifndef _UAPI_LINUX_ATTESTIO_H
#define _UAPI_LINUX_ATTESTIO_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Version of the record format below; bumped on any incompatible change. */
#define ATTESTIO_REC_VERSION		4

#define ATTESTIO_REC_ALIGN		8
/* Largest record the module ever emits (checkpoints with many streams). */
#define ATTESTIO_REC_MAX_LEN		16384
#define ATTESTIO_HASH_LEN		32	/* SHA-256 */
#define ATTESTIO_NAME_LEN		32
#define ATTESTIO_PATH_LEN		64
#define ATTESTIO_MAX_STREAMS		64
#define ATTESTIO_MAX_CHANNELS		16
#define ATTESTIO_MAX_SCAN_BYTES		256

/*
 * Domain separation tags, each exactly ATTESTIO_TAG_LEN bytes (NUL padded).
 * head(0)   = SHA-256(TAG_GENESIS || le64 instance || le32 stream ||
 *                     le32 generation)                       (v2)
 * identity  = SHA-256(TAG_IDENTITY || parent path || 0 || driver || 0 ||
 *                     IIO name || 0)                          (v2)
 * head(n+1) = SHA-256(TAG_CHAIN || head(n) || record bytes)
 * epoch     = SHA-256(TAG_EPOCH || le64 instance || le64 epoch ||
 *                     beacon[32] || le32 nheads ||
 *                     struct attestio_cp_head[nheads])          (v3)
 * where beacon is the value of the oracle beacon the daemon handed to the
 * module before the epoch (ATTESTIO_IOC_SET_BEACON), all zero when none.
 * state(n)  = SHA-256(TAG_STATE || desc[32] || calib[32])     (v4)
 * is what a head commits to besides the records: after record n, desc is
 * SHA-256 of the record bytes of the stream's open segment's descriptor
 * and calib of its newest calib record (all zero when the segment has
 * none); both are all zero before the first descriptor and after a
 * detach.  A verifier that meets a chain mid-way takes a descriptor (and
 * calib) as in force at a signed head only when they hash to its state.
 */
#define ATTESTIO_TAG_LEN		16
#define ATTESTIO_TAG_GENESIS		"attestio/genesis"
#define ATTESTIO_TAG_CHAIN		"attestio/chain\0\0"
#define ATTESTIO_TAG_EPOCH		"attestio/epoch\0\0"
#define ATTESTIO_TAG_IDENTITY		"attestio/identit"
#define ATTESTIO_TAG_STATE		"attestio/state\0\0"

enum attestio_rec_type {
	ATTESTIO_REC_DESCRIPTOR		= 1,
	ATTESTIO_REC_SAMPLE		= 2,
	ATTESTIO_REC_GAP		= 3,
	ATTESTIO_REC_CHECKPOINT		= 4,
	ATTESTIO_REC_DETACH		= 5,
	ATTESTIO_REC_ERROR		= 6,
	/* Reader-local: this reader fell behind; never chained. */
	ATTESTIO_REC_LOST		= 7,
	/* Chained: channel scale/offset or sampling frequency changed (v2). */
	ATTESTIO_REC_CALIB		= 8,
	ATTESTIO_REC_TYPE_MAX		= ATTESTIO_REC_CALIB,
};

/* hdr.flags */
#define ATTESTIO_RF_UNCHAINED		(1U << 0)	/* not part of a chain */
#define ATTESTIO_RF_ALL			(ATTESTIO_RF_UNCHAINED)

/* 40 bytes */
struct attestio_rec_hdr {
	__le16 version;		/* ATTESTIO_REC_VERSION */
	__le16 type;		/* enum attestio_rec_type */
	__le32 len;		/* whole record incl. header and padding */
	__le32 stream;		/* stream id, < ATTESTIO_MAX_STREAMS */
	__le32 flags;		/* ATTESTIO_RF_* */
	__le64 seq;		/* per-stream sequence number, no holes */
	__le64 boottime_ns;	/* CLOCK_BOOTTIME at capture */
	__le64 realtime_ns;	/* CLOCK_REALTIME at capture */
};

/* Capture modes (descriptor.mode) */
enum attestio_mode {
	ATTESTIO_MODE_BUFFERED		= 1,	/* in-kernel IIO buffer */
	ATTESTIO_MODE_POLLED		= 2,	/* read_raw every period */
};

/* Channel endianness in the scan (attestio_channel.endianness) */
enum attestio_endian {
	ATTESTIO_LE			= 0,
	ATTESTIO_BE			= 1,
};

/*
 * IIO value encodings (attestio_channel.scale_type/offset_type), equal to the
 * kernel's IIO_VAL_* constants: INT=1, INT_PLUS_MICRO=2, INT_PLUS_NANO=3,
 * INT_PLUS_MICRO_DB=4, INT_MULTIPLE=5, FRACTIONAL=10, FRACTIONAL_LOG2=11.
 * 0 means "not provided" (scale 1, offset 0).
 */

/* 48 bytes: one channel of the scan, enough to compute SI values. */
struct attestio_channel {
	__le16 type;		/* enum iio_chan_type */
	__le16 modifier;	/* enum iio_modifier */
	__le16 channel;		/* iio_chan_spec.channel */
	__le16 scan_index;
	__le16 offset;		/* byte offset of this channel in the scan */
	__u8 sign;		/* 's' or 'u' */
	__u8 endianness;	/* enum attestio_endian */
	__u8 realbits;
	__u8 storagebits;
	__u8 shift;
	__u8 repeat;
	__le32 scale_type;	/* IIO_VAL_* */
	__le32 scale_val;	/* two's complement s32 */
	__le32 scale_val2;	/* two's complement s32 */
	__le32 offset_type;	/* IIO_VAL_* */
	__le32 offset_val;
	__le32 offset_val2;
	__u8 reserved[8];
};

/*
 * ATTESTIO_REC_DESCRIPTOR, first record of every segment.  264 bytes
 * before chan[] since v2 (v1: 128 bytes, without generation, identity,
 * parent and driver).
 */
struct attestio_descriptor {
	__le64 instance;	/* random, chosen at module load */
	__le32 segment;		/* 0 at first attach, +1 at each re-attach */
	__le16 mode;		/* enum attestio_mode */
	__le16 nchannels;	/* entries in chan[] */
	__le32 scan_bytes;	/* length of a scan in sample records */
	__le32 poll_period_us;	/* polled mode only, else 0 */
	char device[ATTESTIO_NAME_LEN];	/* "iio:deviceN", NUL padded */
	char name[ATTESTIO_NAME_LEN];	/* IIO name attribute */
	char label[ATTESTIO_NAME_LEN];	/* IIO label, may be empty */
	__le16 ts_offset;	/* byte offset of the s64 timestamp in the scan */
	__u8 has_ts;		/* 1 if the scan carries an IIO timestamp */
	__u8 reserved[5];
	/* v2: which chain this is, and which physical device it reads */
	__le32 generation;	/* stream id allocation number; in the genesis */
	__le32 reserved2;
	__u8 identity[ATTESTIO_HASH_LEN];	/* SHA-256, see above */
	char parent[ATTESTIO_PATH_LEN];	/* parent under /sys/devices, tail */
	char driver[ATTESTIO_NAME_LEN];	/* the parent's driver, may be empty */
	struct attestio_channel chan[];
};

/* ATTESTIO_REC_SAMPLE */
struct attestio_sample {
	__le64 iio_timestamp;	/* the scan's IIO timestamp, 0 if none */
	__le32 scan_len;	/* bytes in scan[] (before padding) */
	__le32 reserved;
	__u8 scan[];		/* raw scan as the driver pushed it, with the
				 * bits the descriptor's layout calls padding
				 * zeroed (v2)
				 */
};

/* Why samples were lost (attestio_gap.reason) */
enum attestio_gap_reason {
	ATTESTIO_GAP_RING_FULL		= 1,	/* capture ring full */
	ATTESTIO_GAP_SCAN_TOO_BIG	= 2,	/* scan larger than a slot */
	ATTESTIO_GAP_READ_FAILED	= 3,	/* polled read_raw failed */
};

/* ATTESTIO_REC_GAP: chained; samples the capture path had to drop. */
struct attestio_gap {
	__le64 lost;		/* samples lost since the previous record */
	__le32 reason;		/* enum attestio_gap_reason */
	__le32 reserved;
};

/* Checkpoint status (attestio_checkpoint.status) */
enum attestio_cp_status {
	ATTESTIO_CP_SIGNED		= 0,	/* attest + sig are a TPM quote */
	ATTESTIO_CP_NO_TPM		= 1,	/* no TPM chip present */
	ATTESTIO_CP_NO_KEY		= 2,	/* no attestation key configured */
	ATTESTIO_CP_TPM_ERROR		= 3,	/* TPM failed, see tpm_rc */
	ATTESTIO_CP_BAD_RESPONSE	= 4,	/* TPM response failed parsing */
	ATTESTIO_CP_DISABLED		= 5,	/* signing disabled by admin */
};

/* 80 bytes (v3: 48): one stream's head as covered by an epoch digest. */
struct attestio_cp_head {
	__le32 stream;
	__le32 generation;	/* the chain's (its genesis); v2, was 0 */
	__le64 seq;		/* last record of the stream the head covers */
	__u8 head[ATTESTIO_HASH_LEN];
	__u8 state[ATTESTIO_HASH_LEN];	/* v4: state(seq), see above */
};

/*
 * ATTESTIO_REC_CHECKPOINT, 72 bytes (v2: 40, without beacon).
 * Followed by:
 *   struct attestio_cp_head heads[nheads];   (sorted by stream id)
 *   __u8 attest[attest_len];    TPMS_ATTEST as marshalled by the TPM
 *   __u8 sig[sig_len];          TPMT_SIGNATURE as marshalled by the TPM
 * The quote's qualifying data (extraData) is the epoch digest over heads[].
 */
struct attestio_checkpoint {
	__le64 epoch;
	__le64 instance;
	__le32 status;		/* enum attestio_cp_status */
	__le32 tpm_rc;		/* TPM response code, or -errno, of the quote */
	__le32 ak_handle;	/* persistent handle of the attestation key */
	__le16 nheads;
	__le16 self;		/* index of this record's stream in heads[] */
	__le16 attest_len;
	__le16 sig_len;
	__le32 pcr_mask;	/* SHA-256 PCRs selected in the quote */
	/*
	 * v3: value of the newest oracle beacon handed to the module before
	 * this epoch, covered by the epoch digest; all zero: none.
	 */
	__u8 beacon[ATTESTIO_HASH_LEN];
};

/* Why a segment ended (attestio_detach.reason) */
enum attestio_detach_reason {
	ATTESTIO_DETACH_USER		= 1,	/* written to sysfs detach */
	ATTESTIO_DETACH_REMOVED		= 2,	/* device unbound / unplugged */
	ATTESTIO_DETACH_UNLOAD		= 3,	/* module unloading */
	ATTESTIO_DETACH_ERROR		= 4,	/* capture failed */
	ATTESTIO_DETACH_SHUTDOWN	= 5,	/* reboot or power-off (v2) */
	/*
	 * The IIO core stopped the capture behind the module's back: it
	 * removes every buffer of a device when enabling or disabling any
	 * of them fails (v2).  A new segment follows once it re-attaches.
	 */
	ATTESTIO_DETACH_CAPTURE_LOST	= 6,
	/*
	 * The device's trigger went away (unregistered: its driver or
	 * configfs removed it), so no scan would come any more (v2).  The
	 * stream re-attaches once the device has a live trigger again.
	 */
	ATTESTIO_DETACH_TRIGGER_LOST	= 7,
	ATTESTIO_DETACH_REASON_MAX	= ATTESTIO_DETACH_TRIGGER_LOST,
};

/* ATTESTIO_REC_DETACH: last record of a segment. */
struct attestio_detach {
	__le32 reason;		/* enum attestio_detach_reason */
	__le32 segment;
	__le64 samples;		/* sample records in this segment */
};

/* Error sources (attestio_error.source) */
enum attestio_err_source {
	ATTESTIO_ERR_TPM		= 1,
	ATTESTIO_ERR_CAPTURE		= 2,
};

/* ATTESTIO_REC_ERROR */
struct attestio_error {
	__le32 source;		/* enum attestio_err_source */
	__le32 code;		/* TPM RC or -errno */
	char msg[48];		/* NUL terminated, human readable */
};

/* ATTESTIO_REC_LOST: reader-local, hdr.stream and hdr.seq are 0. */
struct attestio_lost {
	__le64 records;		/* records this reader skipped */
	__le64 bytes;
};

/* 24 bytes: one channel's value pairs, as in struct attestio_channel. */
struct attestio_calib_chan {
	__le32 scale_type;	/* IIO_VAL_*, 0: not provided */
	__le32 scale_val;
	__le32 scale_val2;
	__le32 offset_type;
	__le32 offset_val;
	__le32 offset_val2;
};

/*
 * ATTESTIO_REC_CALIB (v2): the driver's scale or offset of a channel, or
 * the device's sampling frequency, changed during the segment (root wrote
 * it).  Carries every channel of the segment's descriptor, in its order,
 * as read now; the samples after it decode with these values.  The module
 * looks for changes at most every 100 ms while samples flow, so samples
 * captured between the change and this record may carry either value.
 * Followed by struct attestio_calib_chan chan[nchannels].
 */
struct attestio_calib {
	__le32 segment;		/* the open segment */
	__le16 nchannels;	/* the descriptor's nchannels */
	__le16 reserved;
	__le32 freq_type;	/* IIO_VAL_* of in_sampling_frequency, 0: none */
	__le32 freq_val;
	__le32 freq_val2;
	__le32 reserved2;
};

/*
 * Measurement log: /sys/kernel/attestio/measurements (read-only).
 *
 * The module measures its own security-relevant events into PCR
 * ATTESTIO_MLOG_PCR (SHA-256 bank) and keeps every measured event in this
 * log, so that a verifier can replay the log against the PCR value a quote
 * covers.  The file is the concatenation of events, each a struct
 * attestio_mevent header followed by exactly hdr.len bytes of data (no
 * padding).  For each event, in order:
 *
 *   PCR := SHA-256(PCR || SHA-256(ATTESTIO_TAG_MEVENT || header || data))
 *
 * The kernel session key (KSK) that signs checkpoints is created by the
 * module at load, in the TPM, with an authValue only the module knows; it
 * is registered by one ATTESTIO_MEV_KEY event and certified (TPM2_Certify)
 * by the enrolled attestation key with
 *
 *   qualifyingData = SHA-256(ATTESTIO_TAG_KSK || le64 instance || KSK name)
 *
 * where the name is 0x000b || SHA-256(TPMT_PUBLIC of the KSK).
 * Documentation/wire-format.md and design.md give the verifier's rules.
 */
#define ATTESTIO_MLOG_PCR		13
#define ATTESTIO_TAG_MEVENT		"attestio/mevent\0"
#define ATTESTIO_TAG_KSK		"attestio/ksk\0\0\0\0"

enum attestio_mevent_type {
	ATTESTIO_MEV_LOAD	= 1,	/* struct attestio_mev_load */
	ATTESTIO_MEV_KEY	= 2,	/* the KSK's TPM2B_PUBLIC (TPM byte order) */
	ATTESTIO_MEV_CERT	= 3,	/* struct attestio_mev_cert + attest + sig */
	ATTESTIO_MEV_SETTING	= 4,	/* struct attestio_mev_setting */
	ATTESTIO_MEV_UNLOAD	= 5,	/* no data */
	ATTESTIO_MEV_KEY_ERROR	= 6,	/* struct attestio_mev_error */
	ATTESTIO_MEV_TYPE_MAX	= ATTESTIO_MEV_KEY_ERROR,
};

/* 16 bytes */
struct attestio_mevent {
	__le16 type;
	__le16 reserved;	/* zero */
	__le32 len;		/* bytes of data after this header */
	__le64 instance;	/* the load that measured it */
};

#define ATTESTIO_MEVENT_MAX_LEN		2048

/* 32 bytes */
struct attestio_mev_load {
	char version[16];	/* module version, NUL padded */
	__le32 key_handle;
	__le32 pcr_mask;
	__le32 sign;
	__le32 reserved;
};

/* 8 bytes + attest_len + sig_len (TPMS_ATTEST, TPMT_SIGNATURE marshalled) */
struct attestio_mev_cert {
	__le32 ak_handle;	/* the certifying (enrolled) key */
	__le16 attest_len;
	__le16 sig_len;
};

enum attestio_setting {
	ATTESTIO_SET_SIGN	= 1,
	ATTESTIO_SET_PCR_MASK	= 2,
	ATTESTIO_SET_KEY_HANDLE	= 3,
};

/* 16 bytes */
struct attestio_mev_setting {
	__le32 setting;		/* enum attestio_setting */
	__le32 old_value;
	__le32 new_value;
	__le32 reserved;
};

/* 8 bytes: creating or registering the KSK failed at this step */
struct attestio_mev_error {
	__le32 step;		/* 1 create, 2 load, 3 context save */
	__le32 rc;		/* TPM response code or -errno */
};

/* ioctls on /dev/attestio */
#define ATTESTIO_IOC_MAGIC		0xA7

/* Select streams: bit i of mask set = deliver stream i. All ones by default. */
struct attestio_filter {
	__u64 mask;
	__u64 reserved[3];	/* must be zero */
};

struct attestio_info {
	__u32 rec_version;	/* ATTESTIO_REC_VERSION */
	__u32 max_streams;
	__u64 instance;
	__u64 epoch;		/* last closed epoch */
	__u64 reserved[4];
};

#define ATTESTIO_IOC_SET_FILTER	_IOW(ATTESTIO_IOC_MAGIC, 1, struct attestio_filter)
#define ATTESTIO_IOC_GET_FILTER	_IOR(ATTESTIO_IOC_MAGIC, 2, struct attestio_filter)
#define ATTESTIO_IOC_GET_INFO	_IOR(ATTESTIO_IOC_MAGIC, 3, struct attestio_info)

/*
 * The newest oracle beacon (Documentation/protocol.md): the module puts
 * value[] into every epoch digest from the next epoch on, so each quote
 * proves it was made after the beacon was published.  Setting it needs
 * CAP_SYS_ADMIN of the opener; value all zero (with round and node 0)
 * clears it, round included.  round and node are informative (returned by
 * GET_BEACON, not quoted); reserved must be zero.  A round lower than the
 * held one is refused (EALREADY).  Getting it is open to every reader.
 */
struct attestio_beacon {
	__u8 value[ATTESTIO_HASH_LEN];
	__u64 round;
	__u32 node;		/* the issuing node's index in the oracle set */
	__u32 reserved[5];	/* must be zero */
};

#define ATTESTIO_IOC_SET_BEACON	_IOW(ATTESTIO_IOC_MAGIC, 4, struct attestio_beacon)
#define ATTESTIO_IOC_GET_BEACON	_IOR(ATTESTIO_IOC_MAGIC, 5, struct attestio_beacon)

#endif /* _UAPI_LINUX_ATTESTIO_H */

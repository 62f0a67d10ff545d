/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the parts of attestio.ko.  Each part has an
 * init/uninit pair called in order by main.c.
 */
#ifndef _ATTESTIO_H
#define _ATTESTIO_H

#include <linux/atomic.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/iio.h>
#include <linux/iio/trigger.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "record.h"

/* Module parameters (main.c) */
extern unsigned int attestio_epoch_ms;
extern unsigned int attestio_epoch_records;
extern unsigned int attestio_key_handle;
extern unsigned int attestio_pcr_mask;
extern unsigned int attestio_ring_slots;
extern unsigned int attestio_poll_ms;
extern unsigned int attestio_auth_backoff_s;
extern bool attestio_sign;

extern u64 attestio_instance;
extern struct workqueue_struct *attestio_wq;

/* log.c: the record log that /dev/attestio readers follow */
struct attestio_reader {
	u64 pos;		/* byte position of the next record */
	u64 index;		/* number of that record */
	u64 mask;		/* streams this reader wants */
	struct mutex lock;	/* one read() at a time per file */
	u8 *bounce;		/* ATTESTIO_REC_MAX_LEN bytes */
	/*
	 * Where the records last returned began, to give them back
	 * (attestio_reader_unread): the cursor and counts before them.
	 */
	u64 last_pos;
	u64 last_index;
	bool last_lost;
	/* a lost record given back: returned before anything else */
	u64 pending_records;
	u64 pending_bytes;
	/* records and bytes of each stream before pos, read or skipped */
	u64 passed[ATTESTIO_MAX_STREAMS];
	u64 passed_bytes[ATTESTIO_MAX_STREAMS];
	u64 last_passed[ATTESTIO_MAX_STREAMS];
	u64 last_passed_bytes[ATTESTIO_MAX_STREAMS];
};

struct attestio_log_stats {
	u64 records;
	u64 bytes;
	u64 overwritten;
	u32 size;
};

int attestio_log_init(unsigned int size_kb);
void attestio_log_uninit(void);
void attestio_log_append(const void *rec, u32 len);
void attestio_reader_start(struct attestio_reader *r);
int attestio_reader_next(struct attestio_reader *r, u32 cap);
void attestio_reader_unread(struct attestio_reader *r);
bool attestio_reader_ready(struct attestio_reader *r);
wait_queue_head_t *attestio_log_waitq(void);
void attestio_log_stats(struct attestio_log_stats *st);

/* dev.c: /dev/attestio */
int attestio_dev_init(void);
void attestio_dev_uninit(void);

/* stream.c: the lifecycle of streams */
/*
 * Locking.  Order, outermost first: epoch.c's run_lock,
 * attestio_streams_lock, a stream's emit_lock, the log's spinlock; a
 * capture buffer's cap->lock (taken in the driver's push, under the
 * driver's own locks), then ring_lock.
 *
 * attestio_streams_lock (stream.c) protects attestio_streams[], the
 * dying-device table, the rescan backoff, and every stream's attach state.
 * Per field of struct attestio_stream:
 *
 *   id, generation, kobj, spec     set before the stream is published
 *                                  in attestio_streams[], then constant
 *   want_polled, closing           attestio_streams_lock
 *   state, mode, indio_dev, device, cap, and the segment's layout
 *   (scan_bytes, has_ts, ts_offset, scan_keep, chans, nchans)
 *                                  written under attestio_streams_lock and
 *                                  emit_lock (start and stop take both),
 *                                  read under either; constant while a
 *                                  segment's capture runs, so capture and
 *                                  the poll work read them without locks;
 *                                  sysfs reads state and mode with
 *                                  READ_ONCE()
 *   ring, slot_size, nslots        as the attach state: (re)allocated and
 *                                  freed only while capture is stopped
 *   ring_head, ring_tail,
 *   pending_lost                   ring_lock (irqsave: any context)
 *   head, seq, segment,
 *   segment_samples,
 *   since_checkpoint, scratch,
 *   cal, calib, calib_next         emit_lock
 *   poll_work, drain_work          queued by capture; cancelled (synced)
 *                                  under attestio_streams_lock only
 *   produced ... last_tpm_rc       atomics, no lock
 *
 * The stream itself is freed by its kobject's release
 * (attestio_stream_destroy()), after attestio_stream_free() removed it
 * from attestio_streams[] under attestio_streams_lock.
 */
enum attestio_stream_state {
	ATTESTIO_STREAM_ATTACHED,
	ATTESTIO_STREAM_WAITING,	/* device gone, re-attach when back */
};

/* A captured scan waiting in the ring for the drain worker. */
struct attestio_slot {
	u64 boottime_ns;
	u64 realtime_ns;
	u64 lost_before;	/* samples dropped just before this one */
	u8 scan[];
};

struct attestio_stream {
	u32 id;
	u32 generation;			/* in the genesis and descriptors */
	struct kobject kobj;		/* streams/<id> */
	char spec[ATTESTIO_NAME_LEN];	/* what the operator attached */
	enum attestio_stream_state state;
	enum attestio_mode mode;
	bool want_polled;
	bool closing;			/* detached: freed after its last checkpoint */

	/* the device, while attached (reference held) */
	struct iio_dev *indio_dev;
	char device[ATTESTIO_NAME_LEN];
	struct attestio_capture *cap;	/* buffered mode */
	struct delayed_work poll_work;	/* polled mode */
	u32 scan_bytes;
	bool has_ts;
	u32 ts_offset;
	/* bits of the scan the layout says are data; the rest is zeroed */
	u8 scan_keep[ATTESTIO_MAX_SCAN_BYTES];
	/* the descriptor's channels and the values last recorded for them */
	const struct iio_chan_spec *chans[ATTESTIO_MAX_CHANNELS];
	u32 nchans;
	struct attestio_calib cal;
	struct attestio_calib_chan calib[ATTESTIO_MAX_CHANNELS];
	unsigned long calib_next;	/* jiffies: next look for changes */

	/* capture ring: filled in atomic context, drained by drain_work */
	spinlock_t ring_lock;
	u8 *ring;
	u32 slot_size;
	u32 nslots;
	u64 ring_head;
	u64 ring_tail;
	u64 pending_lost;
	struct work_struct drain_work;

	/* chain state: everything below is under emit_lock */
	struct mutex emit_lock;
	u8 head[ATTESTIO_HASH_LEN];
	struct attestio_seg_state seg_state;	/* what the head commits to */
	u64 seq;
	u32 segment;
	u64 segment_samples;
	u64 since_checkpoint;
	u8 *scratch;			/* ATTESTIO_REC_MAX_LEN bytes */

	/* counters, readable at any time */
	atomic64_t produced;		/* scans the driver pushed to us */
	atomic64_t samples;		/* sample records emitted */
	atomic64_t drops;		/* samples lost (declared in gaps) */
	atomic64_t records;
	atomic64_t last_epoch;
	atomic_t last_status;
	atomic_t last_tpm_rc;
};

extern struct mutex attestio_streams_lock;
extern struct attestio_stream *attestio_streams[ATTESTIO_MAX_STREAMS];

int attestio_stream_init(void);
void attestio_stream_uninit(void);
int attestio_stream_attach(const char *spec, bool polled);
int attestio_stream_expect(const char *spec);
int attestio_stream_detach(const char *spec);
void attestio_stream_stop_all(u32 reason);
void attestio_stream_destroy(struct attestio_stream *s);
void attestio_stream_watch_soon(void);
bool attestio_is_iio_dev(struct device *dev);
void attestio_stream_device_gone(struct device *dev);
void attestio_stream_device_removed(struct device *dev);
void attestio_stream_trigger_gone(struct iio_trigger *trig);
void attestio_stream_rescan_soon(void);

/* emit.c: encode, chain and log a stream's records (under emit_lock) */
void attestio_stream_emit(struct attestio_stream *s,
			  struct attestio_rec_info *info);
void attestio_info_now(struct attestio_rec_info *info, u16 type, u32 payload);
void attestio_emit_gap(struct attestio_stream *s, u64 lost, u32 reason);
void attestio_emit_detach(struct attestio_stream *s, u32 reason);
void attestio_emit_sample(struct attestio_stream *s,
			  const struct attestio_slot *slot);

/* hash.c: the chain's hash, accelerated where the CPU can */
int attestio_hash_init(void);
void attestio_hash_uninit(void);
const char *attestio_hash_name(void);
int attestio_hash_describe(char *buf);
void attestio_hash_extend(u8 head[ATTESTIO_HASH_LEN], const void *rec,
			  u32 len);

/* ring.c: the capture ring and its drain worker */
void attestio_ring_init(struct attestio_stream *s);
int attestio_ring_alloc(struct attestio_stream *s);
void attestio_ring_free(struct attestio_stream *s);
void attestio_stream_capture(struct attestio_stream *s, const void *scan);
void attestio_stream_drain_locked(struct attestio_stream *s);

/* poll.c: polled mode */
void attestio_poll_init(struct attestio_stream *s);
void attestio_poll_start(struct attestio_stream *s);
void attestio_poll_stop(struct attestio_stream *s);

/* layout.c: scan layout, descriptor and calibration records */
bool attestio_chan_has(const struct iio_chan_spec *ch,
		       enum iio_chan_info_enum what);
int attestio_read_chan(struct iio_dev *indio, const struct iio_chan_spec *ch,
		       enum iio_chan_info_enum what, int *val, int *val2);
int attestio_describe(struct attestio_stream *s);
void attestio_calib_check(struct attestio_stream *s);

/* dying.c: devices going away (under attestio_streams_lock) */
void attestio_dying_set(struct device *dev, bool dying);
bool attestio_dying_has(struct device *dev);

/* notify.c: the IIO bus notifier */
int attestio_notify_init(void);
void attestio_notify_uninit(void);

/* capture.c: the IIO buffer of one buffered segment */
struct attestio_capture;

struct attestio_capture *attestio_capture_alloc(struct iio_dev *indio);
const unsigned long *attestio_capture_mask(struct attestio_capture *cap);
void attestio_capture_free(struct attestio_capture *cap);
int attestio_capture_start(struct attestio_capture *cap, struct iio_dev *indio,
			   struct attestio_stream *s, bool timestamp);
void attestio_capture_stop(struct attestio_capture *cap, struct iio_dev *indio);

enum attestio_capture_health {
	ATTESTIO_CAPTURE_OK,		/* on the device's list, enabled */
	ATTESTIO_CAPTURE_SETTLING,	/* disabled: a buffer update is running */
	ATTESTIO_CAPTURE_LOST,		/* the core took it off the list */
};

enum attestio_capture_health attestio_capture_health(struct attestio_capture *cap);
void attestio_capture_uninit(void);

/* epoch.c */
struct attestio_epoch_stats {
	u64 epoch;
	u64 checkpoints;
	u64 signed_checkpoints;
	u32 last_status;
	s32 last_tpm_rc;
	u32 backoff_key;	/* 0: no key is backed off */
	s32 backoff_rc;		/* the failure that started it */
	u32 backoff_s;		/* its length */
	u32 backoff_left_ms;	/* until the next quote with backoff_key */
	u64 quotes_skipped;	/* epochs not quoted because of a backoff */
};

int attestio_epoch_init(void);
void attestio_epoch_uninit(void);
void attestio_epoch_kick(void);
void attestio_epoch_flush(const char *why);
void attestio_epoch_reschedule(void);
void attestio_epoch_stats(struct attestio_epoch_stats *st);
int attestio_beacon_set(const struct attestio_beacon *b);
void attestio_beacon_get(struct attestio_beacon *b);
const char *attestio_cp_status_name(u32 status);

/* tpm.c */
struct attestio_quote {
	u32 ak_handle;		/* in: key, read once per epoch */
	u32 pcr_mask;		/* in: PCR selection, read once per epoch */
	u8 *buf;		/* PAGE_SIZE; attest and sig point into it */
	const u8 *attest;
	u16 attest_len;
	const u8 *sig;
	u16 sig_len;
	s32 tpm_rc;		/* TPM RC, or -errno */
};

enum attestio_cp_status attestio_tpm_quote(const u8 *digest,
					   struct attestio_quote *q);
bool attestio_tpm_present(void);
struct tpm_chip;
struct attestio_tpm2_auth;
struct attestio_tpm2_rsp;
int attestio_tpm_xfer(struct tpm_chip *chip, u8 *page, int len, u32 cc,
		      unsigned int nhandles,
		      const struct attestio_tpm2_auth *auths,
		      unsigned int nauth, struct attestio_tpm2_rsp *rsp);

/* ksk.c: the kernel session key that signs checkpoints */
int attestio_ksk_init(void);
void attestio_ksk_uninit(void);
enum attestio_cp_status attestio_ksk_quote(struct tpm_chip *chip,
					   const u8 *digest,
					   struct attestio_quote *q);

/* salt.c: salted sessions with parameter encryption */
struct attestio_tpm2_sess;
struct attestio_tpm2_cmd;
void attestio_cfb_encrypt(const u8 *key, const u8 *iv, u8 *data, size_t len);
int attestio_salt_session(struct tpm_chip *chip, u8 *buf, u32 tpm_key,
			  const u8 *tx, const u8 *ty,
			  struct attestio_tpm2_sess *sess, u8 *session_key);
int attestio_salt_encrypt_param1(struct attestio_tpm2_cmd *c,
				 const struct attestio_tpm2_sess *sess,
				 const u8 *session_key);

/* mlog.c: measurements into PCR ATTESTIO_MLOG_PCR and their log */
int attestio_mlog_init(void);
void attestio_mlog_uninit(void);
int attestio_mlog_measure(u16 type, const void *a, u32 alen, const void *b,
			  u32 blen);
void attestio_mlog_setting(u32 setting, u32 old_value, u32 new_value);
ssize_t attestio_mlog_read(char *buf, loff_t off, size_t count);
u32 attestio_mlog_unmeasured(void);

/* pm.c: final checkpoints before reboot and suspend */
int attestio_pm_init(void);
void attestio_pm_uninit(void);

/* sysfs.c */
int attestio_sysfs_init(void);
void attestio_sysfs_uninit(void);
int attestio_stream_kobj_add(struct attestio_stream *s);

#endif /* _ATTESTIO_H */

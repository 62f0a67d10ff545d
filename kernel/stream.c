// SPDX-License-Identifier: GPL-2.0
/*
 * Streams: attach an IIO device, capture every scan its driver pushes (or
 * poll it), and turn the scans into chained records.
 *
 * Capture (store_to, atomic context) only copies the scan and two clock
 * readings into a fixed ring of slots.  When the ring is full the newest
 * scan is dropped and counted on the next slot, so the drain worker emits a
 * chained gap record exactly where the loss happened.  The drain worker
 * (process context) encodes, chains and logs the records under emit_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/iio/buffer.h>
#include <linux/iio/consumer.h>
#include <linux/iio/trigger.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attestio.h"
#include "compat.h"
#include "trace.h"

/* Protects attestio_streams[] and every stream's attach state. */
DEFINE_MUTEX(attestio_streams_lock);
struct attestio_stream *attestio_streams[ATTESTIO_MAX_STREAMS];
static bool attestio_streams_closing;
/* Stream id allocations so far: each chain's genesis has its own. */
static u32 attestio_generation;

static void attestio_rescan(struct work_struct *work);
static DECLARE_DELAYED_WORK(attestio_rescan_work, attestio_rescan);
static void attestio_watch(struct work_struct *work);
static DECLARE_DELAYED_WORK(attestio_watch_work, attestio_watch);

/* Let a new device's driver finish probing before attaching to it. */
#define ATTESTIO_RESCAN_DELAY (HZ / 2)
/* A failed re-attach is retried after 1 s, doubling up to 64 s. */
#define ATTESTIO_RETRY_MIN HZ
#define ATTESTIO_RETRY_MAX (64 * HZ)
static unsigned long attestio_retry_delay = ATTESTIO_RETRY_MIN;
/* How often the watch looks again while a buffer update is running. */
#define ATTESTIO_WATCH_DELAY (HZ / 20)

/* ------------------------------------------------------------ records --- */

/* Chain and log the record in s->scratch.  Caller holds s->emit_lock. */
void attestio_stream_emit(struct attestio_stream *s,
			  struct attestio_rec_info *info)
{
	info->stream = s->id;
	info->seq = s->seq++;
	attestio_rec_hdr_encode(s->scratch, info);
	attestio_chain_extend(s->head, s->scratch, info->len);
	attestio_log_append(s->scratch, info->len);
	s->since_checkpoint++;
	atomic64_inc(&s->records);
	trace_attestio_record(s->scratch, info->len);
}

static void attestio_info_now(struct attestio_rec_info *info, u16 type,
			      u32 payload)
{
	memset(info, 0, sizeof(*info));
	info->type = type;
	info->len = attestio_rec_len(payload);
	info->boottime_ns = ktime_get_boottime_ns();
	info->realtime_ns = ktime_get_real_ns();
}

static void attestio_emit_gap(struct attestio_stream *s, u64 lost, u32 reason)
{
	struct attestio_gap *gap = attestio_rec_payload(s->scratch);
	struct attestio_rec_info info;

	attestio_info_now(&info, ATTESTIO_REC_GAP, sizeof(*gap));
	memset(gap, 0, info.len - ATTESTIO_HDR_LEN);
	gap->lost = cpu_to_le64(lost);
	gap->reason = cpu_to_le32(reason);
	attestio_stream_emit(s, &info);
	atomic64_add(lost, &s->drops);
}

static void attestio_emit_detach(struct attestio_stream *s, u32 reason)
{
	struct attestio_detach *det = attestio_rec_payload(s->scratch);
	struct attestio_rec_info info;

	attestio_info_now(&info, ATTESTIO_REC_DETACH, sizeof(*det));
	memset(det, 0, info.len - ATTESTIO_HDR_LEN);
	det->reason = cpu_to_le32(reason);
	det->segment = cpu_to_le32(s->segment);
	det->samples = cpu_to_le64(s->segment_samples);
	attestio_stream_emit(s, &info);
}

static void attestio_emit_sample(struct attestio_stream *s,
				 const struct attestio_slot *slot)
{
	struct attestio_rec_info info = {
		.boottime_ns = slot->boottime_ns,
		.realtime_ns = slot->realtime_ns,
	};
	struct attestio_sample *sample = attestio_rec_payload(s->scratch);
	s64 ts = 0;
	u32 i;

	if (s->has_ts)
		memcpy(&ts, slot->scan + s->ts_offset, sizeof(ts));
	info.len = attestio_sample_encode(s->scratch, ATTESTIO_REC_MAX_LEN,
					  &info, ts, slot->scan, s->scan_bytes);
	info.type = ATTESTIO_REC_SAMPLE;
	/* what drivers leave in padding is not theirs to export */
	for (i = 0; i < s->scan_bytes; i++)
		sample->scan[i] &= s->scan_keep[i];
	attestio_stream_emit(s, &info);
	s->segment_samples++;
	atomic64_inc(&s->samples);
}

static struct attestio_slot *attestio_slot(struct attestio_stream *s, u64 i)
{
	return (void *)(s->ring + (i & (s->nslots - 1)) * s->slot_size);
}

/*
 * Turn every captured slot into records, then declare samples lost after
 * the last slot.  Caller holds s->emit_lock.
 */
void attestio_stream_drain_locked(struct attestio_stream *s)
{
	struct attestio_slot *slot;
	unsigned long flags;
	u64 head, tail, lost = 0;

	if (!s->ring)
		return;
	spin_lock_irqsave(&s->ring_lock, flags);
	head = s->ring_head;
	tail = s->ring_tail;
	spin_unlock_irqrestore(&s->ring_lock, flags);

	for (; tail != head; tail++) {
		slot = attestio_slot(s, tail);
		if (slot->lost_before)
			attestio_emit_gap(s, slot->lost_before,
					  ATTESTIO_GAP_RING_FULL);
		attestio_emit_sample(s, slot);
		spin_lock_irqsave(&s->ring_lock, flags);
		s->ring_tail = tail + 1;
		spin_unlock_irqrestore(&s->ring_lock, flags);
	}

	/* Losses after the newest slot belong here, unless a slot came in. */
	spin_lock_irqsave(&s->ring_lock, flags);
	if (s->ring_head == head) {
		lost = s->pending_lost;
		s->pending_lost = 0;
	}
	spin_unlock_irqrestore(&s->ring_lock, flags);
	if (lost)
		attestio_emit_gap(s, lost, ATTESTIO_GAP_RING_FULL);

	if (attestio_epoch_records && s->since_checkpoint >= attestio_epoch_records)
		attestio_epoch_kick();
}

static void attestio_read_pair(struct iio_dev *indio,
			       const struct iio_chan_spec *ch,
			       enum iio_chan_info_enum what, __le32 *type,
			       __le32 *v1, __le32 *v2);

/* What scale, offset and sampling frequency the driver says now. */
static void attestio_read_calib(struct attestio_stream *s,
				struct attestio_calib *cal,
				struct attestio_calib_chan *cc)
{
	struct iio_dev *indio = s->indio_dev;
	int i;

	memset(cal, 0, sizeof(*cal));
	memset(cc, 0, s->nchans * sizeof(*cc));
	cal->segment = cpu_to_le32(s->segment);
	cal->nchannels = cpu_to_le16(s->nchans);
	for (i = 0; i < s->nchans; i++) {
		attestio_read_pair(indio, s->chans[i], IIO_CHAN_INFO_SCALE,
				   &cc[i].scale_type, &cc[i].scale_val,
				   &cc[i].scale_val2);
		attestio_read_pair(indio, s->chans[i], IIO_CHAN_INFO_OFFSET,
				   &cc[i].offset_type, &cc[i].offset_val,
				   &cc[i].offset_val2);
	}
	for (i = 0; i < indio->num_channels && !cal->freq_type; i++)
		attestio_read_pair(indio, &indio->channels[i],
				   IIO_CHAN_INFO_SAMP_FREQ, &cal->freq_type,
				   &cal->freq_val, &cal->freq_val2);
}

/*
 * Root may change a channel's scale or offset, or the sampling frequency,
 * mid-segment: record the new values before the samples that follow, so
 * that verifiers compute SI values with them.  Caller holds s->emit_lock.
 */
static void attestio_check_calib(struct attestio_stream *s)
{
	struct attestio_calib *cal = attestio_rec_payload(s->scratch);
	struct attestio_calib_chan *cc = (void *)(cal + 1);
	struct attestio_rec_info info;
	u32 bytes = s->nchans * sizeof(*cc);

	lockdep_assert_held(&s->emit_lock);
	if (!s->indio_dev || !s->nchans ||
	    time_before(jiffies, s->calib_next))
		return;
	s->calib_next = jiffies + HZ / 10;
	attestio_read_calib(s, cal, cc);
	if (!memcmp(cal, &s->cal, sizeof(*cal)) &&
	    !memcmp(cc, s->calib, bytes))
		return;
	memcpy(&s->cal, cal, sizeof(*cal));
	memcpy(s->calib, cc, bytes);
	attestio_info_now(&info, ATTESTIO_REC_CALIB, sizeof(*cal) + bytes);
	memset((u8 *)cc + bytes, 0,
	       info.len - ATTESTIO_HDR_LEN - sizeof(*cal) - bytes);
	attestio_stream_emit(s, &info);
}

static void attestio_drain_work(struct work_struct *work)
{
	struct attestio_stream *s = container_of(work, struct attestio_stream,
						 drain_work);

	mutex_lock(&s->emit_lock);
	attestio_check_calib(s);
	attestio_stream_drain_locked(s);
	mutex_unlock(&s->emit_lock);
}

/* ------------------------------------------------------------ capture --- */

/* Any context: never sleeps, never allocates, never waits for readers. */
void attestio_stream_capture(struct attestio_stream *s, const void *scan)
{
	struct attestio_slot *slot;
	unsigned long flags;

	spin_lock_irqsave(&s->ring_lock, flags);
	if (s->ring_head - s->ring_tail >= s->nslots) {
		s->pending_lost++;
	} else {
		slot = attestio_slot(s, s->ring_head);
		slot->boottime_ns = ktime_get_boottime_ns();
		slot->realtime_ns = ktime_get_real_ns();
		slot->lost_before = s->pending_lost;
		s->pending_lost = 0;
		memcpy(slot->scan, scan, s->scan_bytes);
		s->ring_head++;
	}
	spin_unlock_irqrestore(&s->ring_lock, flags);
	atomic64_inc(&s->produced);
	queue_work(attestio_wq, &s->drain_work);
}

static bool attestio_chan_has(const struct iio_chan_spec *ch,
			      enum iio_chan_info_enum what)
{
	unsigned long all = ch->info_mask_separate | ch->info_mask_shared_by_type |
			    ch->info_mask_shared_by_dir |
			    ch->info_mask_shared_by_all;

	return all & BIT(what);
}

/*
 * Read one attribute of @ch the way an in-kernel consumer does
 * (iio_read_channel_raw()): under the core's info_exist_lock, failing once
 * the driver is gone, and without claiming direct mode, which drivers such
 * as hts221 claim themselves inside read_raw.
 */
static int attestio_read_chan(struct iio_dev *indio,
			      const struct iio_chan_spec *ch,
			      enum iio_chan_info_enum what, int *val, int *val2)
{
	struct iio_channel chan = { .indio_dev = indio, .channel = ch };

	return iio_read_channel_attribute(&chan, val, val2, what);
}

/* Polled mode: one s32 per channel with a raw value, then the timestamp. */
static void attestio_poll_work(struct work_struct *work)
{
	struct attestio_stream *s = container_of(to_delayed_work(work),
						 struct attestio_stream,
						 poll_work);
	struct iio_dev *indio = s->indio_dev;
	u8 scan[ATTESTIO_MAX_SCAN_BYTES] = { 0 };
	const struct iio_chan_spec *ch;
	int i, n = 0, val, val2, ret = 0;
	__le32 v;
	s64 ts;

	for (i = 0; i < indio->num_channels && !ret; i++) {
		ch = &indio->channels[i];
		if (ch->type == IIO_TIMESTAMP ||
		    !attestio_chan_has(ch, IIO_CHAN_INFO_RAW))
			continue;
		ret = attestio_read_chan(indio, ch, IIO_CHAN_INFO_RAW, &val,
					 &val2);
		ret = ret == IIO_VAL_INT ? 0 : (ret < 0 ? ret : -EINVAL);
		v = cpu_to_le32(val);
		memcpy(scan + 4 * n++, &v, sizeof(v));
	}
	if (ret) {
		pr_warn_ratelimited("%s: polled read failed: %d\n", s->device,
				    ret);
		/* declared right here, in order, with its own reason */
		atomic64_inc(&s->produced);
		mutex_lock(&s->emit_lock);
		attestio_stream_drain_locked(s);
		attestio_emit_gap(s, 1, ATTESTIO_GAP_READ_FAILED);
		mutex_unlock(&s->emit_lock);
	} else {
		ts = ktime_get_boottime_ns();
		memcpy(scan + s->ts_offset, &ts, sizeof(ts));
		attestio_stream_capture(s, scan);
	}
	queue_delayed_work(attestio_wq, &s->poll_work,
			   usecs_to_jiffies(attestio_poll_ms * 1000));
}

/* --------------------------------------------------------- descriptor --- */

static u32 attestio_chan_bytes(const struct iio_chan_spec *ch)
{
	const typeof(ch->scan_type) *st = &ch->scan_type;

	return st->storagebits / 8 * (st->repeat > 1 ? st->repeat : 1);
}

static const struct iio_chan_spec *
attestio_chan_by_si(struct iio_dev *indio, int si)
{
	int i;

	for (i = 0; i < indio->num_channels; i++)
		if (indio->channels[i].scan_index == si)
			return &indio->channels[i];
	return NULL;
}

static void attestio_read_pair(struct iio_dev *indio,
			       const struct iio_chan_spec *ch,
			       enum iio_chan_info_enum what, __le32 *type,
			       __le32 *v1, __le32 *v2)
{
	int val = 0, val2 = 0, ret;

	if (!attestio_chan_has(ch, what))
		return;
	ret = attestio_read_chan(indio, ch, what, &val, &val2);
	if (ret <= 0)
		return;
	*type = cpu_to_le32(ret);
	*v1 = cpu_to_le32(val);
	*v2 = cpu_to_le32(val2);
}

static void attestio_fill_channel(struct attestio_stream *s,
				  const struct iio_chan_spec *ch, u32 offset,
				  struct attestio_channel *c)
{
	const typeof(ch->scan_type) *st = &ch->scan_type;
	bool polled = s->mode == ATTESTIO_MODE_POLLED;

	memset(c, 0, sizeof(*c));
	c->type = cpu_to_le16(ch->type);
	c->modifier = cpu_to_le16(ch->modified ? ch->channel2 : 0);
	c->channel = cpu_to_le16(ch->channel);
	c->scan_index = cpu_to_le16(ch->scan_index);
	c->offset = cpu_to_le16(offset);
	c->sign = polled ? 's' : st->sign;
	c->realbits = polled ? 32 : st->realbits;
	c->storagebits = polled ? 32 : st->storagebits;
	c->shift = polled ? 0 : st->shift;
	c->repeat = polled ? 0 : st->repeat;
	if (polled || st->endianness == IIO_LE)
		c->endianness = ATTESTIO_LE;
	else if (st->endianness == IIO_BE)
		c->endianness = ATTESTIO_BE;
	else
		c->endianness = IS_ENABLED(CONFIG_CPU_BIG_ENDIAN) ?
				ATTESTIO_BE : ATTESTIO_LE;
	attestio_read_pair(s->indio_dev, ch, IIO_CHAN_INFO_SCALE,
			   &c->scale_type, &c->scale_val, &c->scale_val2);
	attestio_read_pair(s->indio_dev, ch, IIO_CHAN_INFO_OFFSET,
			   &c->offset_type, &c->offset_val, &c->offset_val2);
}

/*
 * Mark the bits of channel @c (as described) that carry data: realbits
 * from shift up, in each of its repeat storage words.
 */
static void attestio_keep_channel(struct attestio_stream *s,
				  const struct attestio_channel *c)
{
	u32 nbytes = c->storagebits / 8, off = le16_to_cpu(c->offset);
	u32 r, k, bit, top = min_t(u32, c->shift + c->realbits, 64);
	u64 data = c->realbits ? GENMASK_ULL(top - 1, c->shift) : 0;

	for (r = 0; r < max_t(u32, c->repeat, 1); r++) {
		for (k = 0; k < nbytes; k++, off++) {
			bit = 8 * (c->endianness == ATTESTIO_BE ?
				   nbytes - 1 - k : k);
			if (off < sizeof(s->scan_keep))
				s->scan_keep[off] = data >> bit;
		}
	}
}

/*
 * Which physical device this is, in a way a fake device with the same IIO
 * name cannot copy: its parent's place in the device tree and driver.
 */
static int attestio_describe_identity(struct iio_dev *indio,
				      struct attestio_descriptor *d)
{
	struct device *parent = indio->dev.parent;
	const char *driver = "";
	char *path = NULL;
	size_t len;

	if (parent) {
		path = kobject_get_path(&parent->kobj, GFP_KERNEL);
		if (!path)
			return -ENOMEM;
		if (parent->driver)
			driver = parent->driver->name;
	}
	attestio_identity(d->identity, path ?: "", driver, indio->name ?: "");
	len = path ? strlen(path) : 0;
	/* the tail says most: keep it when the path is too long */
	if (path)
		strscpy(d->parent, path + (len >= sizeof(d->parent) ?
					   len - sizeof(d->parent) + 1 : 0),
			sizeof(d->parent));
	strscpy(d->driver, driver, sizeof(d->driver));
	kfree(path);
	return 0;
}

/*
 * Work out the scan layout exactly as the IIO core lays out a demuxed scan
 * (each element aligned to its own size, timestamp last) and emit the
 * descriptor that lets a verifier compute SI values.
 */
static int attestio_describe(struct attestio_stream *s)
{
	struct attestio_descriptor *d = attestio_rec_payload(s->scratch);
	struct iio_dev *indio = s->indio_dev;
	const struct iio_chan_spec *ch;
	struct attestio_rec_info info;
	u32 n = 0, bytes = 0, len, largest = 1;
	int si, i, ret;

	memset(s->scratch, 0, ATTESTIO_REC_MAX_LEN);
	memset(s->scan_keep, 0, sizeof(s->scan_keep));
	for (i = 0, si = -1; i < indio->num_channels; i++) {
		ch = &indio->channels[i];
		if (ch->type == IIO_TIMESTAMP && ch->scan_index >= 0)
			s->has_ts = true;
	}
	if (s->mode == ATTESTIO_MODE_BUFFERED) {
		for_each_set_bit(si, attestio_capture_mask(s->cap),
				 iio_get_masklength(indio)) {
			ch = attestio_chan_by_si(indio, si);
			if (!ch || n == ATTESTIO_MAX_CHANNELS)
				return -EINVAL;
			len = attestio_chan_bytes(ch);
			bytes = ALIGN(bytes, len);
			s->chans[n] = ch;
			attestio_fill_channel(s, ch, bytes, &d->chan[n++]);
			bytes += len;
			largest = max(largest, len);
		}
	} else {
		for (i = 0; i < indio->num_channels; i++) {
			ch = &indio->channels[i];
			if (ch->type == IIO_TIMESTAMP ||
			    !attestio_chan_has(ch, IIO_CHAN_INFO_RAW))
				continue;
			if (n == ATTESTIO_MAX_CHANNELS)
				return -EINVAL;
			s->chans[n] = ch;
			attestio_fill_channel(s, ch, bytes, &d->chan[n++]);
			bytes += 4;
			largest = 4;
		}
		s->has_ts = true;
	}
	if (!n)
		return -EINVAL;
	if (s->has_ts) {
		bytes = ALIGN(bytes, 8);
		s->ts_offset = bytes;
		bytes += 8;
		largest = 8;
	}
	bytes = ALIGN(bytes, largest);
	if (bytes > ATTESTIO_MAX_SCAN_BYTES)
		return -E2BIG;
	for (i = 0; i < n; i++)
		attestio_keep_channel(s, &d->chan[i]);
	/* the values the descriptor carries are the ones recorded */
	s->nchans = n;
	s->calib_next = jiffies + HZ / 10;
	attestio_read_calib(s, &s->cal, s->calib);
	for (i = 0; i < n; i++) {
		s->calib[i].scale_type = d->chan[i].scale_type;
		s->calib[i].scale_val = d->chan[i].scale_val;
		s->calib[i].scale_val2 = d->chan[i].scale_val2;
		s->calib[i].offset_type = d->chan[i].offset_type;
		s->calib[i].offset_val = d->chan[i].offset_val;
		s->calib[i].offset_val2 = d->chan[i].offset_val2;
	}
	if (s->has_ts)
		memset(s->scan_keep + s->ts_offset, 0xff, 8);
	s->scan_bytes = bytes;

	attestio_info_now(&info, ATTESTIO_REC_DESCRIPTOR,
			  sizeof(*d) + n * sizeof(d->chan[0]));
	d->instance = cpu_to_le64(attestio_instance);
	d->segment = cpu_to_le32(s->segment);
	d->mode = cpu_to_le16(s->mode);
	d->nchannels = cpu_to_le16(n);
	d->scan_bytes = cpu_to_le32(bytes);
	if (s->mode == ATTESTIO_MODE_POLLED)
		d->poll_period_us = cpu_to_le32(attestio_poll_ms * 1000);
	strscpy(d->device, s->device, sizeof(d->device));
	strscpy(d->name, indio->name ?: "", sizeof(d->name));
	strscpy(d->label, indio->label ?: "", sizeof(d->label));
	d->generation = cpu_to_le32(s->generation);
	ret = attestio_describe_identity(indio, d);
	if (ret)
		return ret;
	d->has_ts = s->has_ts;
	d->ts_offset = cpu_to_le16(s->has_ts ? s->ts_offset : 0);
	attestio_stream_emit(s, &info);
	return 0;
}

/* ------------------------------------------------------ attach/detach --- */

static bool attestio_is_iio_dev(struct device *dev)
{
	return !strncmp(dev_name(dev), "iio:device", 10);
}

/*
 * Devices between BUS_NOTIFY_DEL_DEVICE and BUS_NOTIFY_REMOVED_DEVICE are
 * still on the bus but going away: never attach to them.  Under the
 * streams lock; a full table refuses every match until it drains.
 */
#define ATTESTIO_MAX_DYING 8
static struct device *attestio_dying[ATTESTIO_MAX_DYING];
static unsigned int attestio_dying_overflow;

static void attestio_dying_set(struct device *dev, bool dying)
{
	int i;

	for (i = 0; i < ATTESTIO_MAX_DYING; i++) {
		if (dying && !attestio_dying[i]) {
			attestio_dying[i] = dev;
			return;
		}
		if (!dying && attestio_dying[i] == dev) {
			attestio_dying[i] = NULL;
			return;
		}
	}
	if (dying)
		attestio_dying_overflow++;
	else if (attestio_dying_overflow)
		attestio_dying_overflow--;
}

static bool attestio_dev_in_use(struct device *dev)
{
	int i;

	if (attestio_dying_overflow)
		return true;
	for (i = 0; i < ATTESTIO_MAX_DYING; i++)
		if (attestio_dying[i] == dev)
			return true;

	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++)
		if (attestio_streams[i] && attestio_streams[i]->indio_dev &&
		    &attestio_streams[i]->indio_dev->dev == dev)
			return true;
	return false;
}

static int attestio_match(struct device *dev, const void *data)
{
	const char *spec = data;
	struct iio_dev *indio;

	if (!attestio_is_iio_dev(dev) || attestio_dev_in_use(dev))
		return 0;
	indio = dev_to_iio_dev(dev);
	return !strcmp(dev_name(dev), spec) ||
	       (indio->name && !strcmp(indio->name, spec)) ||
	       (indio->label && !strcmp(indio->label, spec));
}

static void attestio_ring_free(struct attestio_stream *s)
{
	kvfree(s->ring);
	s->ring = NULL;
}

static int attestio_ring_alloc(struct attestio_stream *s)
{
	s->nslots = roundup_pow_of_two(clamp(attestio_ring_slots, 16U, 65536U));
	s->slot_size = ALIGN(sizeof(struct attestio_slot) + s->scan_bytes, 8);
	s->ring = kvcalloc(s->nslots, s->slot_size, GFP_KERNEL);
	s->ring_head = 0;
	s->ring_tail = 0;
	s->pending_lost = 0;
	return s->ring ? 0 : -ENOMEM;
}

/* Start a new segment on @dev (referenced). */
static int attestio_stream_start(struct attestio_stream *s, struct device *dev)
{
	struct iio_dev *indio = dev_to_iio_dev(dev);
	bool buffered = !s->want_polled && (indio->modes & INDIO_BUFFER_TRIGGERED);
	int ret;

	lockdep_assert_held(&attestio_streams_lock);
	mutex_lock(&s->emit_lock);
	s->indio_dev = indio;
	strscpy(s->device, dev_name(dev), sizeof(s->device));
	s->mode = buffered ? ATTESTIO_MODE_BUFFERED : ATTESTIO_MODE_POLLED;
	s->has_ts = false;
	s->segment_samples = 0;
	if (buffered && indio->trig && !device_is_registered(&indio->trig->dev)) {
		/* a removed trigger would never fire: wait for a live one */
		ret = -ENODEV;
		goto err_clear;
	}
	if (buffered) {
		s->cap = attestio_capture_alloc(indio);
		if (!s->cap) {
			ret = -ENOMEM;
			goto err_clear;
		}
	}
	ret = attestio_describe(s);
	if (ret)
		goto err_free_capture;
	ret = attestio_ring_alloc(s);
	if (ret)
		goto err_end_segment;
	if (buffered) {
		ret = attestio_capture_start(s->cap, indio, s, s->has_ts);
		if (ret)
			goto err_free_ring;
	} else {
		queue_delayed_work(attestio_wq, &s->poll_work, 0);
	}
	s->state = ATTESTIO_STREAM_ATTACHED;
	mutex_unlock(&s->emit_lock);
	pr_info("stream %u: attached %s (%s, %s mode, segment %u)\n", s->id,
		s->device, indio->name ?: "", buffered ? "buffered" : "polled",
		s->segment);
	return 0;

err_free_ring:
	attestio_ring_free(s);
err_end_segment:
	/* The descriptor went out: close the segment it opened. */
	attestio_emit_detach(s, ATTESTIO_DETACH_ERROR);
	s->segment++;
err_free_capture:
	if (s->cap)
		attestio_capture_free(s->cap);
	s->cap = NULL;
err_clear:
	s->indio_dev = NULL;
	mutex_unlock(&s->emit_lock);
	/* a scan that came in before the failure queued the drain work */
	cancel_work_sync(&s->drain_work);
	put_device(dev);
	return ret;
}

/* End the current segment. */
static void attestio_stream_stop(struct attestio_stream *s, u32 reason)
{
	struct device *dev = &s->indio_dev->dev;

	lockdep_assert_held(&attestio_streams_lock);
	if (s->mode == ATTESTIO_MODE_BUFFERED)
		attestio_capture_stop(s->cap, s->indio_dev);
	else
		cancel_delayed_work_sync(&s->poll_work);
	cancel_work_sync(&s->drain_work);

	mutex_lock(&s->emit_lock);
	attestio_stream_drain_locked(s);
	attestio_emit_detach(s, reason);
	attestio_ring_free(s);
	s->cap = NULL;
	s->indio_dev = NULL;
	s->segment++;
	s->state = ATTESTIO_STREAM_WAITING;
	mutex_unlock(&s->emit_lock);
	put_device(dev);
	pr_info("stream %u: detached %s (reason %u)\n", s->id, s->device,
		reason);
	attestio_epoch_kick();
}

static struct attestio_stream *attestio_stream_find(const char *spec)
{
	struct attestio_stream *s;
	int i;

	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (s && !s->closing && (!strcmp(s->spec, spec) ||
					 (s->indio_dev &&
					  !strcmp(s->device, spec))))
			return s;
	}
	return NULL;
}

static struct attestio_stream *attestio_stream_new(const char *spec,
						   bool polled)
{
	struct attestio_stream *s;
	int id;

	for (id = 0; id < ATTESTIO_MAX_STREAMS; id++)
		if (!attestio_streams[id])
			break;
	if (id == ATTESTIO_MAX_STREAMS)
		return ERR_PTR(-ENOSPC);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->scratch = kmalloc(ATTESTIO_REC_MAX_LEN, GFP_KERNEL);
	if (!s->scratch) {
		kfree(s);
		return ERR_PTR(-ENOMEM);
	}
	s->id = id;
	s->want_polled = polled;
	s->state = ATTESTIO_STREAM_WAITING;
	strscpy(s->spec, spec, sizeof(s->spec));
	spin_lock_init(&s->ring_lock);
	mutex_init(&s->emit_lock);
	INIT_WORK(&s->drain_work, attestio_drain_work);
	INIT_DELAYED_WORK(&s->poll_work, attestio_poll_work);
	s->generation = ++attestio_generation;
	attestio_chain_genesis(s->head, attestio_instance, id, s->generation);
	if (attestio_stream_kobj_add(s)) {
		/* the kobject release frees s */
		return ERR_PTR(-ENOMEM);
	}
	attestio_streams[id] = s;
	return s;
}

static void attestio_stream_free(struct attestio_stream *s)
{
	lockdep_assert_held(&attestio_streams_lock);
	cancel_delayed_work_sync(&s->poll_work);
	cancel_work_sync(&s->drain_work);
	attestio_streams[s->id] = NULL;
	kobject_del(&s->kobj);
	kobject_put(&s->kobj);
}

int attestio_stream_attach(const char *spec, bool polled)
{
	struct attestio_stream *s;
	struct device *dev;
	bool fresh = false;
	int ret;

	mutex_lock(&attestio_streams_lock);
	s = attestio_stream_find(spec);
	if (attestio_streams_closing) {
		ret = -ENODEV;
		goto out;
	}
	if (s && s->state == ATTESTIO_STREAM_ATTACHED) {
		ret = -EBUSY;
		goto out;
	}
	dev = bus_find_device(&iio_bus_type, NULL, spec, attestio_match);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	if (!s) {
		s = attestio_stream_new(spec, polled);
		if (IS_ERR(s)) {
			put_device(dev);
			ret = PTR_ERR(s);
			goto out;
		}
		fresh = true;
	}
	s->want_polled = polled;
	ret = attestio_stream_start(s, dev);
	if (ret && fresh)
		attestio_stream_free(s);
out:
	mutex_unlock(&attestio_streams_lock);
	return ret;
}

/* Register a stream that attaches whenever a matching device appears. */
int attestio_stream_expect(const char *spec)
{
	struct attestio_stream *s;
	int ret = 0;

	mutex_lock(&attestio_streams_lock);
	if (!attestio_stream_find(spec)) {
		s = attestio_stream_new(spec, false);
		ret = PTR_ERR_OR_ZERO(s);
	}
	mutex_unlock(&attestio_streams_lock);
	mod_delayed_work(attestio_wq, &attestio_rescan_work, 0);
	return ret;
}

/*
 * End the stream: its detach record and every record before it are
 * covered by a final checkpoint before the stream goes away.
 */
int attestio_stream_detach(const char *spec)
{
	struct attestio_stream *s;

	mutex_lock(&attestio_streams_lock);
	s = attestio_stream_find(spec);
	if (!s) {
		mutex_unlock(&attestio_streams_lock);
		return -ENODEV;
	}
	if (s->state == ATTESTIO_STREAM_ATTACHED)
		attestio_stream_stop(s, ATTESTIO_DETACH_USER);
	s->closing = true;	/* found and re-attached no more */
	mutex_unlock(&attestio_streams_lock);

	attestio_epoch_flush("detach");

	mutex_lock(&attestio_streams_lock);
	if (attestio_streams[s->id] == s)
		attestio_stream_free(s);
	mutex_unlock(&attestio_streams_lock);
	return 0;
}

/*
 * Re-attach waiting streams whose device has come back.  A device that
 * is there but refuses the capture (its buffer update fails) is retried
 * with a backoff, each failed try a descriptor and a detach record.
 */
static void attestio_rescan(struct work_struct *work)
{
	struct attestio_stream *s;
	struct device *dev;
	bool failed = false;
	int i;

	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_STREAMS && !attestio_streams_closing; i++) {
		s = attestio_streams[i];
		if (!s || s->closing || s->state != ATTESTIO_STREAM_WAITING)
			continue;
		dev = bus_find_device(&iio_bus_type, NULL, s->spec,
				      attestio_match);
		if (dev && attestio_stream_start(s, dev)) {
			pr_warn_ratelimited("stream %u: re-attach to %s failed\n",
					    s->id, s->spec);
			failed = true;
		}
	}
	if (failed && !attestio_streams_closing) {
		mod_delayed_work(attestio_wq, &attestio_rescan_work,
				 attestio_retry_delay);
		attestio_retry_delay = min(2 * attestio_retry_delay,
					   (unsigned long)ATTESTIO_RETRY_MAX);
	} else if (!failed) {
		attestio_retry_delay = ATTESTIO_RETRY_MIN;
	}
	mutex_unlock(&attestio_streams_lock);
}

/*
 * End the segment of every buffered stream whose capture the IIO core
 * stopped (attestio_capture_health()), then re-attach.  Runs when a
 * capture buffer is disabled, and again while an update is still running.
 */
static void attestio_watch(struct work_struct *work)
{
	enum attestio_capture_health health;
	struct attestio_stream *s;
	bool lost = false, settling = false;
	int i;

	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (!s || s->state != ATTESTIO_STREAM_ATTACHED ||
		    s->mode != ATTESTIO_MODE_BUFFERED)
			continue;
		health = attestio_capture_health(s->cap);
		if (health == ATTESTIO_CAPTURE_SETTLING) {
			settling = true;
		} else if (health == ATTESTIO_CAPTURE_LOST) {
			pr_warn_ratelimited("stream %u: the IIO core removed the capture buffer of %s\n",
					    s->id, s->device);
			attestio_stream_stop(s, ATTESTIO_DETACH_CAPTURE_LOST);
			lost = true;
		}
	}
	if (settling && !attestio_streams_closing)
		mod_delayed_work(attestio_wq, &attestio_watch_work,
				 ATTESTIO_WATCH_DELAY);
	if (lost && !attestio_streams_closing)
		mod_delayed_work(attestio_wq, &attestio_rescan_work, 0);
	mutex_unlock(&attestio_streams_lock);
}

/* Any context: a capture buffer was disabled, look at it soon. */
void attestio_stream_watch_soon(void)
{
	mod_delayed_work(attestio_wq, &attestio_watch_work,
			 ATTESTIO_WATCH_DELAY);
}

static bool attestio_is_trigger(struct device *dev)
{
	return !strncmp(dev_name(dev), "trigger", 7);
}

/*
 * A trigger is going away (iio_trigger_unregister()): a device capturing
 * through it would get no scan any more, silently.  End those segments
 * while the trigger can still be detached from; the rescan re-attaches
 * once the device has a live trigger again.
 */
static void attestio_trigger_gone(struct device *dev)
{
	struct iio_trigger *trig = to_iio_trigger(dev);
	struct attestio_stream *s;
	bool lost = false;
	int i;

	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (!s || s->state != ATTESTIO_STREAM_ATTACHED ||
		    s->mode != ATTESTIO_MODE_BUFFERED ||
		    s->indio_dev->trig != trig)
			continue;
		pr_warn_ratelimited("stream %u: the trigger of %s went away\n",
				    s->id, s->device);
		attestio_stream_stop(s, ATTESTIO_DETACH_TRIGGER_LOST);
		lost = true;
	}
	if (lost && !attestio_streams_closing)
		mod_delayed_work(attestio_wq, &attestio_rescan_work,
				 ATTESTIO_RETRY_MIN);
	mutex_unlock(&attestio_streams_lock);
}

/*
 * A device going away must be detached here, while its driver still
 * works; a device appearing is attached later from the workqueue, outside
 * its driver's probe.
 */
static int attestio_bus_notify(struct notifier_block *nb, unsigned long action,
			       void *data)
{
	struct device *dev = data;
	struct attestio_stream *s;
	int i;

	if (attestio_is_trigger(dev)) {
		if (action == BUS_NOTIFY_DEL_DEVICE)
			attestio_trigger_gone(dev);
		else if (action == BUS_NOTIFY_ADD_DEVICE)
			mod_delayed_work(attestio_wq, &attestio_rescan_work,
					 ATTESTIO_RESCAN_DELAY);
		return NOTIFY_DONE;
	}
	if (!attestio_is_iio_dev(dev))
		return NOTIFY_DONE;
	switch (action) {
	case BUS_NOTIFY_DEL_DEVICE:
		mutex_lock(&attestio_streams_lock);
		attestio_dying_set(dev, true);
		for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
			s = attestio_streams[i];
			if (s && s->indio_dev && &s->indio_dev->dev == dev)
				attestio_stream_stop(s, ATTESTIO_DETACH_REMOVED);
		}
		mutex_unlock(&attestio_streams_lock);
		break;
	case BUS_NOTIFY_REMOVED_DEVICE:
		mutex_lock(&attestio_streams_lock);
		attestio_dying_set(dev, false);
		mutex_unlock(&attestio_streams_lock);
		break;
	case BUS_NOTIFY_ADD_DEVICE:
		mod_delayed_work(attestio_wq, &attestio_rescan_work,
				 ATTESTIO_RESCAN_DELAY);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block attestio_bus_nb = {
	.notifier_call = attestio_bus_notify,
};

int attestio_stream_init(void)
{
	return bus_register_notifier(&iio_bus_type, &attestio_bus_nb);
}

/*
 * End every segment (reboot, unload) and never attach again; the caller
 * then closes a final epoch.
 */
void attestio_stream_stop_all(u32 reason)
{
	struct attestio_stream *s;
	int i;

	mutex_lock(&attestio_streams_lock);
	attestio_streams_closing = true;
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (s && s->state == ATTESTIO_STREAM_ATTACHED)
			attestio_stream_stop(s, reason);
	}
	mutex_unlock(&attestio_streams_lock);
}

/* Unload: detach records, one final checkpoint over them, then free. */
void attestio_stream_uninit(void)
{
	int i;

	attestio_stream_stop_all(ATTESTIO_DETACH_UNLOAD);
	attestio_epoch_flush("unload");
	mutex_lock(&attestio_streams_lock);
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++)
		if (attestio_streams[i])
			attestio_stream_free(attestio_streams[i]);
	mutex_unlock(&attestio_streams_lock);
	bus_unregister_notifier(&iio_bus_type, &attestio_bus_nb);
	cancel_delayed_work_sync(&attestio_watch_work);
	cancel_delayed_work_sync(&attestio_rescan_work);
	attestio_capture_uninit();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The scan layout of a segment and the records that describe it: the
 * descriptor (channels, where each sits in the scan, scale and offset, the
 * device's identity) and calibration records when root changes scale,
 * offset or sampling frequency mid-segment.  The layout is worked out
 * exactly as the IIO core lays out a demuxed scan.
 */
#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/iio/consumer.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attestio.h"
#include "compat.h"

bool attestio_chan_has(const struct iio_chan_spec *ch,
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
int attestio_read_chan(struct iio_dev *indio, const struct iio_chan_spec *ch,
		       enum iio_chan_info_enum what, int *val, int *val2)
{
	struct iio_channel chan = { .indio_dev = indio, .channel = ch };

	return iio_read_channel_attribute(&chan, val, val2, what);
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
void attestio_calib_check(struct attestio_stream *s)
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
int attestio_describe(struct attestio_stream *s)
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

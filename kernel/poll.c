// SPDX-License-Identifier: GPL-2.0
/*
 * Polled mode: a device without a triggered buffer (or attached "polled")
 * is read channel by channel every poll_ms, the way an in-kernel consumer
 * reads it, and each set of readings goes through the capture ring.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iio/iio.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/string.h>

#include "attestio.h"

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

void attestio_poll_init(struct attestio_stream *s)
{
	INIT_DELAYED_WORK(&s->poll_work, attestio_poll_work);
}

void attestio_poll_start(struct attestio_stream *s)
{
	queue_delayed_work(attestio_wq, &s->poll_work, 0);
}

void attestio_poll_stop(struct attestio_stream *s)
{
	cancel_delayed_work_sync(&s->poll_work);
}

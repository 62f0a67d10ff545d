// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel IIO buffer that receives a device's scans, one per segment.
 *
 * The IIO core holds a reference to every buffer on a device's list and
 * may keep ours there after iio_update_buffers() failed to remove it (a
 * failed verification or allocation leaves the list unchanged).  So the
 * buffer is not part of the stream: it is a refcounted object of its own,
 * freed by its release callback when the last reference goes, and the
 * stream lets go of it by clearing cap->stream under cap->lock.  A buffer
 * the device refuses to give back becomes an orphan: it keeps a device
 * reference and a module reference until a retry removes it (or the device
 * unregisters and the core drops it), so attestio.ko cannot be unloaded
 * while a device still calls into it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/iio/buffer.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "attestio.h"
#include "compat.h"

struct attestio_capture {
	struct iio_buffer buffer;
	spinlock_t lock;		/* protects stream */
	struct attestio_stream *stream;	/* NULL once the stream let go */
	bool enabled;			/* between the core's enable and disable */
	unsigned long *scan_mask;
	struct iio_dev *indio_dev;	/* referenced while an orphan */
	struct list_head orphan;	/* on attestio_orphans */
};

static void attestio_reap(struct work_struct *work);
static DEFINE_MUTEX(attestio_orphans_lock);	/* protects attestio_orphans */
static LIST_HEAD(attestio_orphans);
static DECLARE_DELAYED_WORK(attestio_reap_work, attestio_reap);

/* Any context: the device's driver pushes here under its own locks. */
static int attestio_store_to(struct iio_buffer *buffer, const void *data)
{
	struct attestio_capture *cap = container_of(buffer,
						    struct attestio_capture,
						    buffer);
	unsigned long flags;

	spin_lock_irqsave(&cap->lock, flags);
	if (cap->stream)
		attestio_stream_capture(cap->stream, data);
	spin_unlock_irqrestore(&cap->lock, flags);
	return 0;
}

/*
 * The IIO core calls these around every change of the device's buffer
 * list, under the device's lock.  A disable not followed by an enable may
 * mean the core's error path removed every buffer, ours included: have
 * the watch look (attestio_stream_watch_soon()).
 */
static int attestio_capture_enable(struct iio_buffer *buffer,
				   struct iio_dev *indio)
{
	struct attestio_capture *cap = container_of(buffer,
						    struct attestio_capture,
						    buffer);

	WRITE_ONCE(cap->enabled, true);
	return 0;
}

static int attestio_capture_disable(struct iio_buffer *buffer,
				    struct iio_dev *indio)
{
	struct attestio_capture *cap = container_of(buffer,
						    struct attestio_capture,
						    buffer);
	unsigned long flags;
	bool watched;

	WRITE_ONCE(cap->enabled, false);
	spin_lock_irqsave(&cap->lock, flags);
	watched = cap->stream;
	spin_unlock_irqrestore(&cap->lock, flags);
	if (watched)
		attestio_stream_watch_soon();
	return 0;
}

/*
 * The IIO core's demux entries (struct iio_demux_table in
 * industrialio-buffer.c, unchanged since 3.x) are freed by the core only
 * when it rebuilds them; a buffer that goes away frees its own.
 */
struct attestio_demux_entry {
	unsigned int from;
	unsigned int to;
	unsigned int length;
	struct list_head l;
};

static void attestio_capture_release(struct iio_buffer *buffer)
{
	struct attestio_capture *cap = container_of(buffer,
						    struct attestio_capture,
						    buffer);
	struct attestio_demux_entry *p, *q;

	list_for_each_entry_safe(p, q, &buffer->demux_list, l) {
		list_del(&p->l);
		kfree(p);
	}
	kfree(buffer->demux_bounce);
	bitmap_free(cap->scan_mask);
	kfree(cap);
}

static const struct iio_buffer_access_funcs attestio_buffer_access = {
	.store_to = attestio_store_to,
	.enable = attestio_capture_enable,
	.disable = attestio_capture_disable,
	.release = attestio_capture_release,
	.modes = INDIO_BUFFER_TRIGGERED,
};

/* A buffer for @indio selecting every scan channel but the timestamp. */
struct attestio_capture *attestio_capture_alloc(struct iio_dev *indio)
{
	struct attestio_capture *cap;
	int i;

	cap = kzalloc(sizeof(*cap), GFP_KERNEL);
	if (!cap)
		return NULL;
	cap->scan_mask = bitmap_zalloc(iio_get_masklength(indio), GFP_KERNEL);
	if (!cap->scan_mask) {
		kfree(cap);
		return NULL;
	}
	for (i = 0; i < indio->num_channels; i++)
		if (indio->channels[i].scan_index >= 0 &&
		    indio->channels[i].type != IIO_TIMESTAMP)
			set_bit(indio->channels[i].scan_index, cap->scan_mask);
	spin_lock_init(&cap->lock);
	INIT_LIST_HEAD(&cap->orphan);
	iio_buffer_init(&cap->buffer);
	cap->buffer.access = &attestio_buffer_access;
	cap->buffer.scan_mask = cap->scan_mask;
	return cap;
}

const unsigned long *attestio_capture_mask(struct attestio_capture *cap)
{
	return cap->scan_mask;
}

/*
 * Whether the device still feeds the buffer of a started capture.  The
 * core's error path (iio_buffer_deactivate_all()) takes every buffer off
 * the device's list when an enable or disable of any buffer fails; it calls
 * no hook of ours, but it follows a disable.  Caller holds the streams lock
 * (a started capture is not stopped under it).
 */
enum attestio_capture_health attestio_capture_health(struct attestio_capture *cap)
{
	lockdep_assert_held(&attestio_streams_lock);
	if (list_empty(&cap->buffer.buffer_list))
		return ATTESTIO_CAPTURE_LOST;
	return READ_ONCE(cap->enabled) ? ATTESTIO_CAPTURE_OK :
					 ATTESTIO_CAPTURE_SETTLING;
}

/* Drop the stream's reference: a buffer never added is freed here. */
void attestio_capture_free(struct attestio_capture *cap)
{
	iio_buffer_put(&cap->buffer);
}

/* Add the buffer to @indio: from now on scans reach @s. */
int attestio_capture_start(struct attestio_capture *cap, struct iio_dev *indio,
			   struct attestio_stream *s, bool timestamp)
{
	unsigned long flags;
	int ret;

	cap->buffer.scan_timestamp = timestamp;
	spin_lock_irqsave(&cap->lock, flags);
	cap->stream = s;
	spin_unlock_irqrestore(&cap->lock, flags);
	/* a failed insert never leaves the buffer on the device's list */
	ret = iio_update_buffers(indio, &cap->buffer, NULL);
	if (ret) {
		spin_lock_irqsave(&cap->lock, flags);
		cap->stream = NULL;
		spin_unlock_irqrestore(&cap->lock, flags);
	}
	return ret;
}

/*
 * Remove the buffer from @indio and drop the stream's reference.  No scan
 * reaches the stream after this returns.  A buffer the device keeps
 * becomes an orphan, retried every second.
 */
void attestio_capture_stop(struct attestio_capture *cap, struct iio_dev *indio)
{
	unsigned long flags;
	int ret;

	ret = iio_update_buffers(indio, NULL, &cap->buffer);
	spin_lock_irqsave(&cap->lock, flags);
	cap->stream = NULL;
	spin_unlock_irqrestore(&cap->lock, flags);
	if (!ret) {
		iio_buffer_put(&cap->buffer);
		return;
	}
	pr_warn_ratelimited("%s: removing the capture buffer failed (%d); retrying until the device lets go\n",
			    dev_name(&indio->dev), ret);
	get_device(&indio->dev);
	cap->indio_dev = indio;
	__module_get(THIS_MODULE);
	mutex_lock(&attestio_orphans_lock);
	list_add_tail(&cap->orphan, &attestio_orphans);
	mutex_unlock(&attestio_orphans_lock);
	mod_delayed_work(attestio_wq, &attestio_reap_work, HZ);
}

/* Retry every orphan; true when none is left. */
static bool attestio_reap_once(void)
{
	struct attestio_capture *cap, *tmp;
	struct iio_dev *indio;
	bool empty;

	mutex_lock(&attestio_orphans_lock);
	list_for_each_entry_safe(cap, tmp, &attestio_orphans, orphan) {
		indio = cap->indio_dev;
		if (iio_update_buffers(indio, NULL, &cap->buffer))
			continue;
		list_del(&cap->orphan);
		pr_info("%s: capture buffer released\n", dev_name(&indio->dev));
		iio_buffer_put(&cap->buffer);
		put_device(&indio->dev);
		/* unload waits for this work item (capture_uninit) */
		module_put(THIS_MODULE);
	}
	empty = list_empty(&attestio_orphans);
	mutex_unlock(&attestio_orphans_lock);
	return empty;
}

static void attestio_reap(struct work_struct *work)
{
	if (!attestio_reap_once())
		queue_delayed_work(attestio_wq, &attestio_reap_work, HZ);
}

/*
 * Unloading: orphans made by stopping the streams at unload must be gone
 * before the module's code is, so wait for their devices to let go.
 */
void attestio_capture_uninit(void)
{
	cancel_delayed_work_sync(&attestio_reap_work);
	while (!attestio_reap_once()) {
		pr_warn_ratelimited("unload waits for a device to release its capture buffer\n");
		msleep(100);
	}
}

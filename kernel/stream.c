// SPDX-License-Identifier: GPL-2.0
/*
 * The lifecycle of streams: allocate and free them, start and end their
 * segments on an IIO device (attach, detach, device gone, trigger gone,
 * capture lost), and re-attach waiting streams when their device is back.
 * Elsewhere: the capture ring (ring.c), polling (poll.c), the scan
 * layout (layout.c), the records (emit.c), the bus notifier (notify.c),
 * the dying-device table (dying.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/iio/trigger.h>
#include <linux/lockdep.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attestio.h"

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

bool attestio_is_iio_dev(struct device *dev)
{
	return !strncmp(dev_name(dev), "iio:device", 10);
}

static bool attestio_dev_in_use(struct device *dev)
{
	int i;

	if (attestio_dying_has(dev))
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
		attestio_poll_start(s);
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
		attestio_poll_stop(s);
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

	lockdep_assert_held(&attestio_streams_lock);
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
	mutex_init(&s->emit_lock);
	attestio_ring_init(s);
	attestio_poll_init(s);
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
	attestio_poll_stop(s);
	cancel_work_sync(&s->drain_work);
	attestio_streams[s->id] = NULL;
	kobject_del(&s->kobj);
	kobject_put(&s->kobj);
}

/* The stream kobject's release: the last reference to @s is gone. */
void attestio_stream_destroy(struct attestio_stream *s)
{
	kfree(s->scratch);
	kfree(s);
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

/*
 * A trigger is going away (iio_trigger_unregister()): a device capturing
 * through it would get no scan any more, silently.  End those segments
 * while the trigger can still be detached from; the rescan re-attaches
 * once the device has a live trigger again.
 */
void attestio_stream_trigger_gone(struct iio_trigger *trig)
{
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
 * works: end its segments and keep it from being matched until it is
 * removed.
 */
void attestio_stream_device_gone(struct device *dev)
{
	struct attestio_stream *s;
	int i;

	mutex_lock(&attestio_streams_lock);
	attestio_dying_set(dev, true);
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s = attestio_streams[i];
		if (s && s->indio_dev && &s->indio_dev->dev == dev)
			attestio_stream_stop(s, ATTESTIO_DETACH_REMOVED);
	}
	mutex_unlock(&attestio_streams_lock);
}

void attestio_stream_device_removed(struct device *dev)
{
	mutex_lock(&attestio_streams_lock);
	attestio_dying_set(dev, false);
	mutex_unlock(&attestio_streams_lock);
}

/*
 * A device or trigger appeared: look for waiting streams later, from the
 * workqueue, outside its driver's probe.
 */
void attestio_stream_rescan_soon(void)
{
	mod_delayed_work(attestio_wq, &attestio_rescan_work,
			 ATTESTIO_RESCAN_DELAY);
}

int attestio_stream_init(void)
{
	return attestio_notify_init();
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
	attestio_notify_uninit();
	cancel_delayed_work_sync(&attestio_watch_work);
	cancel_delayed_work_sync(&attestio_rescan_work);
	attestio_capture_uninit();
}

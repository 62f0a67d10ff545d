// SPDX-License-Identifier: GPL-2.0
/*
 * The capture ring of a stream: capture (store_to or the poll work, any
 * context) only copies the scan and two clock readings into a fixed ring
 * of slots.  When the ring is full the newest scan is dropped and counted
 * on the next slot, so the drain worker emits a chained gap record exactly
 * where the loss happened.  The drain worker (process context) turns the
 * slots into records under emit_lock.
 */
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "attestio.h"

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

	lockdep_assert_held(&s->emit_lock);
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

static void attestio_drain_work(struct work_struct *work)
{
	struct attestio_stream *s = container_of(work, struct attestio_stream,
						 drain_work);

	mutex_lock(&s->emit_lock);
	attestio_calib_check(s);
	attestio_stream_drain_locked(s);
	mutex_unlock(&s->emit_lock);
}

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

void attestio_ring_free(struct attestio_stream *s)
{
	kvfree(s->ring);
	s->ring = NULL;
}

int attestio_ring_alloc(struct attestio_stream *s)
{
	s->nslots = roundup_pow_of_two(clamp(attestio_ring_slots, 16U, 65536U));
	s->slot_size = ALIGN(sizeof(struct attestio_slot) + s->scan_bytes, 8);
	s->ring = kvcalloc(s->nslots, s->slot_size, GFP_KERNEL);
	s->ring_head = 0;
	s->ring_tail = 0;
	s->pending_lost = 0;
	return s->ring ? 0 : -ENOMEM;
}

void attestio_ring_init(struct attestio_stream *s)
{
	spin_lock_init(&s->ring_lock);
	INIT_WORK(&s->drain_work, attestio_drain_work);
}

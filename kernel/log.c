// SPDX-License-Identifier: GPL-2.0
/*
 * The record log: a byte ring of whole records that every /dev/attestio
 * reader follows with its own cursor.  Writers never wait for readers: when
 * the ring is full the oldest records are overwritten and a reader that had
 * not read them is told exactly how many it lost.
 */
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "attestio.h"

static struct {
	spinlock_t lock;	/* protects everything below */
	u8 *buf;
	u32 size;		/* power of two */
	u64 head_pos;		/* byte position where the next record goes */
	u64 head_index;		/* number of the next record */
	u64 tail_pos;		/* oldest record still held */
	u64 tail_index;
	u64 overwritten;
	/* records and bytes of each stream overwritten so far */
	u64 gone[ATTESTIO_MAX_STREAMS];
	u64 gone_bytes[ATTESTIO_MAX_STREAMS];
	wait_queue_head_t waitq;
} attestio_log;

static void attestio_log_copy_out(u64 pos, void *dst, u32 len)
{
	u32 off = pos & (attestio_log.size - 1);
	u32 first = min(len, attestio_log.size - off);

	memcpy(dst, attestio_log.buf + off, first);
	memcpy((u8 *)dst + first, attestio_log.buf, len - first);
}

static void attestio_log_copy_in(u64 pos, const void *src, u32 len)
{
	u32 off = pos & (attestio_log.size - 1);
	u32 first = min(len, attestio_log.size - off);

	memcpy(attestio_log.buf + off, src, first);
	memcpy(attestio_log.buf, (const u8 *)src + first, len - first);
}

static u32 attestio_log_len_at(u64 pos, u32 *stream)
{
	struct attestio_rec_hdr h;

	attestio_log_copy_out(pos, &h, sizeof(h));
	/* the module only logs records of valid streams */
	*stream = le32_to_cpu(h.stream) % ATTESTIO_MAX_STREAMS;
	return le32_to_cpu(h.len);
}

/* Append one whole, valid record.  Process or softirq context. */
void attestio_log_append(const void *rec, u32 len)
{
	unsigned long flags;
	u32 gone, stream;

	spin_lock_irqsave(&attestio_log.lock, flags);
	while (attestio_log.head_pos + len - attestio_log.tail_pos >
	       attestio_log.size) {
		gone = attestio_log_len_at(attestio_log.tail_pos, &stream);
		attestio_log.gone[stream]++;
		attestio_log.gone_bytes[stream] += gone;
		attestio_log.tail_pos += gone;
		attestio_log.tail_index++;
		attestio_log.overwritten++;
	}
	attestio_log_copy_in(attestio_log.head_pos, rec, len);
	attestio_log.head_pos += len;
	attestio_log.head_index++;
	spin_unlock_irqrestore(&attestio_log.lock, flags);
	wake_up_interruptible(&attestio_log.waitq);
}

/* New readers start at the oldest record still held, like dmesg. */
void attestio_reader_start(struct attestio_reader *r)
{
	unsigned long flags;

	spin_lock_irqsave(&attestio_log.lock, flags);
	r->pos = attestio_log.tail_pos;
	r->index = attestio_log.tail_index;
	memcpy(r->passed, attestio_log.gone, sizeof(r->passed));
	memcpy(r->passed_bytes, attestio_log.gone_bytes,
	       sizeof(r->passed_bytes));
	spin_unlock_irqrestore(&attestio_log.lock, flags);
}

/*
 * Move a reader the log overtook to the oldest record held.  Returns the
 * records (and @bytes) it missed of the streams its filter selects;
 * other streams' records are none of its losses.  Caller holds the log
 * lock.
 */
static u64 attestio_reader_catch_up(struct attestio_reader *r, u64 *bytes)
{
	u64 records = 0;
	int i;

	lockdep_assert_held(&attestio_log.lock);
	*bytes = 0;
	for (i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		if (r->mask & BIT_ULL(i)) {
			records += attestio_log.gone[i] - r->passed[i];
			*bytes += attestio_log.gone_bytes[i] - r->passed_bytes[i];
		}
		r->passed[i] = attestio_log.gone[i];
		r->passed_bytes[i] = attestio_log.gone_bytes[i];
	}
	r->pos = attestio_log.tail_pos;
	r->index = attestio_log.tail_index;
	return records;
}

/* A lost record of @records records (@bytes) into r->bounce. */
static u32 attestio_reader_lost(struct attestio_reader *r, u64 records,
				u64 bytes)
{
	struct attestio_rec_info info = {
		.type = ATTESTIO_REC_LOST,
		.len = attestio_rec_len(sizeof(struct attestio_lost)),
		.flags = ATTESTIO_RF_UNCHAINED,
		.boottime_ns = ktime_get_boottime_ns(),
		.realtime_ns = ktime_get_real_ns(),
	};
	struct attestio_lost *lost = attestio_rec_payload(r->bounce);

	attestio_rec_hdr_encode(r->bounce, &info);
	lost->records = cpu_to_le64(records);
	lost->bytes = cpu_to_le64(bytes);
	r->last_lost = true;
	return info.len;
}

/*
 * Give back the records the last attestio_reader_next() returned (their
 * copy to userspace faulted): the next call returns them again (or, if the
 * log overwrote them meanwhile, a lost record that counts them).
 */
void attestio_reader_unread(struct attestio_reader *r)
{
	const struct attestio_lost *lost = attestio_rec_payload(r->bounce);

	lockdep_assert_held(&r->lock);
	if (r->last_lost) {
		r->pending_records += le64_to_cpu(lost->records);
		r->pending_bytes += le64_to_cpu(lost->bytes);
		return;
	}
	r->pos = r->last_pos;
	r->index = r->last_index;
	memcpy(r->passed, r->last_passed, sizeof(r->passed));
	memcpy(r->passed_bytes, r->last_passed_bytes, sizeof(r->passed_bytes));
}

/*
 * Headers a reader may skip (records its filter does not want) per hold of
 * the log lock, which disables interrupts: a narrow filter over a full
 * 256 MiB log would otherwise skip millions under one hold.
 */
#define ATTESTIO_LOG_SKIP_BATCH 256

/*
 * Copy the next records this reader wants, whole, into r->bounce: as many
 * as fit in @cap (at most ATTESTIO_REC_MAX_LEN bytes), under one hold of
 * the log lock (one hold per record made a reader slower than 8 streams at
 * 1 kHz on a debug kernel).  Returns their length, 0 when there is none
 * yet, or -ENOSPC (nothing consumed) when the next one is longer than
 * @cap.  A lost record comes alone.  Process context: may sleep between
 * batches of skipped headers.
 */
int attestio_reader_next(struct attestio_reader *r, u32 cap)
{
	const u32 lost_len = attestio_rec_len(sizeof(struct attestio_lost));
	unsigned long flags;
	unsigned int skipped;
	u64 records, bytes, more;
	u32 len, stream, done;
	int ret;

	lockdep_assert_held(&r->lock);
	r->last_lost = false;
	cap = min_t(u32, cap, ATTESTIO_REC_MAX_LEN);
again:
	ret = 0;
	done = 0;
	skipped = 0;
	spin_lock_irqsave(&attestio_log.lock, flags);
	if (r->pos < attestio_log.tail_pos || r->pending_records) {
		if (cap < lost_len) {
			ret = -ENOSPC;
			goto out;
		}
		records = r->pending_records;
		bytes = r->pending_bytes;
		if (r->pos < attestio_log.tail_pos) {
			records += attestio_reader_catch_up(r, &more);
			bytes += more;
		}
		r->pending_records = 0;
		r->pending_bytes = 0;
		if (records) {
			ret = attestio_reader_lost(r, records, bytes);
			goto out;
		}
	}
	while (r->pos < attestio_log.head_pos) {
		len = attestio_log_len_at(r->pos, &stream);
		if (!(r->mask & BIT_ULL(stream))) {
			r->pos += len;
			r->index++;
			r->passed[stream]++;
			r->passed_bytes[stream] += len;
			if (++skipped < ATTESTIO_LOG_SKIP_BATCH)
				continue;
			if (done)
				break;	/* what we have; the rest next time */
			spin_unlock_irqrestore(&attestio_log.lock, flags);
			cond_resched();
			goto again;
		}
		if (len > cap - done) {
			if (!done)
				ret = -ENOSPC;
			break;
		}
		if (!done) {
			r->last_pos = r->pos;
			r->last_index = r->index;
			memcpy(r->last_passed, r->passed, sizeof(r->passed));
			memcpy(r->last_passed_bytes, r->passed_bytes,
			       sizeof(r->passed_bytes));
		}
		attestio_log_copy_out(r->pos, r->bounce + done, len);
		r->pos += len;
		r->index++;
		r->passed[stream]++;
		r->passed_bytes[stream] += len;
		done += len;
		ret = done;
	}
out:
	spin_unlock_irqrestore(&attestio_log.lock, flags);
	return ret;
}

bool attestio_reader_ready(struct attestio_reader *r)
{
	return READ_ONCE(attestio_log.head_pos) != READ_ONCE(r->pos);
}

wait_queue_head_t *attestio_log_waitq(void)
{
	return &attestio_log.waitq;
}

void attestio_log_stats(struct attestio_log_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&attestio_log.lock, flags);
	st->records = attestio_log.head_index;
	st->bytes = attestio_log.head_pos;
	st->overwritten = attestio_log.overwritten;
	st->size = attestio_log.size;
	spin_unlock_irqrestore(&attestio_log.lock, flags);
}

int attestio_log_init(unsigned int size_kb)
{
	u32 size = roundup_pow_of_two(clamp(size_kb, 64U, 262144U) * 1024);

	attestio_log.buf = vzalloc(size);
	if (!attestio_log.buf)
		return -ENOMEM;
	attestio_log.size = size;
	spin_lock_init(&attestio_log.lock);
	init_waitqueue_head(&attestio_log.waitq);
	return 0;
}

void attestio_log_uninit(void)
{
	vfree(attestio_log.buf);
	attestio_log.buf = NULL;
}

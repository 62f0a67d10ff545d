// SPDX-License-Identifier: GPL-2.0
/*
 * A stream's records: encode them, extend the stream's hash chain over
 * them and append them to the log.  Process context, under the stream's
 * emit_lock.
 */
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/string.h>

#include "attestio.h"
#include "trace.h"

/* Chain and log the record in s->scratch.  Caller holds s->emit_lock. */
void attestio_stream_emit(struct attestio_stream *s,
			  struct attestio_rec_info *info)
{
	lockdep_assert_held(&s->emit_lock);
	info->stream = s->id;
	info->seq = s->seq++;
	attestio_rec_hdr_encode(s->scratch, info);
	attestio_hash_extend(s->head, s->scratch, info->len);
	attestio_seg_state_note(&s->seg_state, info->type, s->scratch,
				info->len);
	attestio_log_append(s->scratch, info->len);
	s->since_checkpoint++;
	atomic64_inc(&s->records);
	trace_attestio_record(s->scratch, info->len);
}

void attestio_info_now(struct attestio_rec_info *info, u16 type, u32 payload)
{
	memset(info, 0, sizeof(*info));
	info->type = type;
	info->len = attestio_rec_len(payload);
	info->boottime_ns = ktime_get_boottime_ns();
	info->realtime_ns = ktime_get_real_ns();
}

void attestio_emit_gap(struct attestio_stream *s, u64 lost, u32 reason)
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

void attestio_emit_detach(struct attestio_stream *s, u32 reason)
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

void attestio_emit_sample(struct attestio_stream *s,
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

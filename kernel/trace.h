/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints carrying each encoded record, for eBPF consumers
 * (attestiod's ring-buffer source, Documentation/attestiod.md).
 *
 * attestio_record fires for every record a stream emits, after it is in
 * the log; attestio_checkpoint fires once more for checkpoint records, so
 * a consumer attached to both sees checkpoints twice.  Records longer than
 * ATTESTIO_TRACE_REC_MAX are not traced: perf and BPF take at most
 * PERF_MAX_TRACE_SIZE (8 KiB) per event, and a bigger one would warn.  No
 * record the module emits today comes near it (a checkpoint of 64 streams
 * with an RSA-2048 quote is about 3.6 KiB); a consumer that ever sees a
 * gap in a stream's seq reads the missing records from /dev/attestio.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM attestio

#if !defined(_ATTESTIO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ATTESTIO_TRACE_H

#include <linux/tracepoint.h>

/* 8 KiB less the trace entry's fixed part and perf's size word */
#define ATTESTIO_TRACE_REC_MAX	(8192 - 64)

#define attestio_th(rec) ((const struct attestio_rec_hdr *)(rec))

DECLARE_EVENT_CLASS(attestio_rec_class,
		    TP_PROTO(const void *rec, u32 len),
		    TP_ARGS(rec, len),
		    TP_STRUCT__entry(__field(u32, stream)
				     __field(u16, type)
				     __field(u64, seq)
				     __field(u32, len)
				     __dynamic_array(u8, rec, len)),
		    TP_fast_assign(__entry->stream = le32_to_cpu(attestio_th(rec)->stream);
				   __entry->type = le16_to_cpu(attestio_th(rec)->type);
				   __entry->seq = le64_to_cpu(attestio_th(rec)->seq);
				   __entry->len = len;
				   memcpy(__get_dynamic_array(rec), rec, len);),
		    TP_printk("stream=%u type=%u seq=%llu len=%u",
			      __entry->stream, __entry->type, __entry->seq,
			      __entry->len));

DEFINE_EVENT_CONDITION(attestio_rec_class, attestio_record,
		       TP_PROTO(const void *rec, u32 len),
		       TP_ARGS(rec, len),
		       TP_CONDITION(len <= ATTESTIO_TRACE_REC_MAX));

DEFINE_EVENT_CONDITION(attestio_rec_class, attestio_checkpoint,
		       TP_PROTO(const void *rec, u32 len),
		       TP_ARGS(rec, len),
		       TP_CONDITION(len <= ATTESTIO_TRACE_REC_MAX));

#endif /* _ATTESTIO_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>

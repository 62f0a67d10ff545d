/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints carrying each encoded record, for eBPF consumers.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM attestio

#if !defined(_ATTESTIO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ATTESTIO_TRACE_H

#include <linux/tracepoint.h>

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

DEFINE_EVENT(attestio_rec_class, attestio_record,
	     TP_PROTO(const void *rec, u32 len),
	     TP_ARGS(rec, len));

DEFINE_EVENT(attestio_rec_class, attestio_checkpoint,
	     TP_PROTO(const void *rec, u32 len),
	     TP_ARGS(rec, len));

#endif /* _ATTESTIO_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>

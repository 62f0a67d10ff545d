// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod's record source: the module's tracepoints attestio:attestio_record
 * and attestio:attestio_checkpoint carry each record as a __data_loc byte
 * array; copy it through a per-CPU scratch buffer into a BPF ring buffer.
 * The ring is lossy: whatever cannot be output is counted, and attestiod
 * fills the seq holes from /dev/attestio (Documentation/attestiod.md).
 *
 * Plain "tp/" programs read the trace entry by offset, so no module BTF is
 * needed: attestiod reads the offsets from the event's format file and sets
 * them here before load.  attestio_record fires for every record,
 * attestio_checkpoint again for checkpoints: the record program leaves
 * checkpoints to the checkpoint program, so each record is output once.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/attestio.h>
#include <bpf/bpf_helpers.h>

#include "attestiod.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by attestiod from events/attestio/attestio_record/format. */
const volatile __u32 loc_off = 28;	/* the __data_loc word of "rec" */
const volatile __u32 type_off = 12;	/* the u16 "type" field */

struct scratch {
	__u8 buf[ATTESTIOD_BPF_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* attestiod sets source.ring_bytes */
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ATTESTIOD_BPF_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += 1;	/* per CPU: no other writer */
}

static __always_inline int out_record(void *ctx)
{
	__u32 zero = 0, loc, off, len;
	struct scratch *s;

	count(ATTESTIOD_BPF_SEEN);
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || bpf_probe_read_kernel(&loc, sizeof(loc), ctx + loc_off))
		goto bad;
	off = loc & 0xffff;
	len = loc >> 16;
	if (len < sizeof(struct attestio_rec_hdr) || len > ATTESTIOD_BPF_REC_MAX)
		goto bad;
	/* keep the mask below: clang would drop it, the verifier needs it */
	asm volatile("" : "+r"(len));
	len &= ATTESTIOD_BPF_SCRATCH - 1;
	if (bpf_probe_read_kernel(s->buf, len, ctx + off))
		goto bad;
	if (bpf_ringbuf_output(&records, s->buf, len, 0)) {
		count(ATTESTIOD_BPF_RING_FULL);
		return 0;
	}
	count(ATTESTIOD_BPF_OUT);
	return 0;
bad:
	count(ATTESTIOD_BPF_BAD);
	return 0;
}

SEC("tp/attestio/attestio_record")
int attestio_record(void *ctx)
{
	__u16 type;

	if (!bpf_probe_read_kernel(&type, sizeof(type), ctx + type_off) &&
	    type == ATTESTIO_REC_CHECKPOINT)
		return 0;	/* attestio_checkpoint follows */
	return out_record(ctx);
}

SEC("tp/attestio/attestio_checkpoint")
int attestio_checkpoint(void *ctx)
{
	return out_record(ctx);
}

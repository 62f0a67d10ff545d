/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What attestiod.bpf.c and attestiod share (libbpf-bootstrap layout): the
 * event is the raw record, exactly as the module logs it (uapi
 * struct attestio_rec_hdr first), so nothing else travels in the ring;
 * the counters below are one per-CPU array.
 */
#ifndef ATTESTIOD_BPF_H
#define ATTESTIOD_BPF_H

/* Largest record the tracepoints carry (kernel/trace.h). */
#define ATTESTIOD_BPF_REC_MAX	(8192 - 64)
/* The per-CPU scratch buffer: a power of two above the largest record. */
#define ATTESTIOD_BPF_SCRATCH	8192

enum attestiod_bpf_counter {
	ATTESTIOD_BPF_SEEN = 0,		/* tracepoint hits taken */
	ATTESTIOD_BPF_OUT,		/* records put into the ring */
	ATTESTIOD_BPF_RING_FULL,	/* bpf_ringbuf_output() failed */
	ATTESTIOD_BPF_BAD,		/* unreadable or oversized entry */
	ATTESTIOD_BPF_NCOUNTERS,
};

/* guard.bpf.c: a broker address (connect4/6 allow list key). */
struct attestiod_guard_addr {
	__u32 family;		/* 4 or 6 */
	__u32 port;		/* network byte order, in the low 16 bits */
	__u32 addr[4];		/* IPv4 in addr[0], network byte order */
};

enum attestiod_guard_counter {
	ATTESTIOD_GUARD_OPEN_DENIED = 0,
	ATTESTIOD_GUARD_CONNECT_DENIED,
	ATTESTIOD_GUARD_NCOUNTERS,
};

#endif

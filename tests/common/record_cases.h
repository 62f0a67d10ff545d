/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test cases for kernel/record.c, written once and run by two frameworks:
 * KUnit (tests/kunit, the kernel build of the code) and cmocka (tests/unit,
 * the userspace build).  The including file defines:
 *   CASE(name)            begin a case function taking the framework context
 *   EXPECT_EQ(a, b)       integers equal
 *   EXPECT_MEMEQ(a, b, n) n bytes equal
 * Known answers were computed independently (Python hashlib, struct) from
 * Documentation/wire-format.md, not from this code.
 */
#ifndef ATTESTIO_RECORD_CASES_H
#define ATTESTIO_RECORD_CASES_H

#include <linux/string.h>
#include <linux/stddef.h>

#include "record.h"

#define KAT_INSTANCE 0x0123456789abcdefULL

/* genesis of stream 3, generation 1 (record format v2) */
static const u8 kat_genesis[32] = {
	0x86, 0x37, 0xb7, 0xa8, 0x93, 0x28, 0xe5, 0x95, 0x6a, 0x18, 0x73,
	0x99, 0x58, 0xad, 0xaf, 0xaf, 0x64, 0x13, 0x23, 0x66, 0xdd, 0x53,
	0xdc, 0xbe, 0x74, 0x2e, 0x4f, 0x31, 0x6d, 0x69, 0x54, 0x68,
};

/* sample (v4): stream 3, seq 7, boottime 1000, realtime 2000, ts 42, scan 1..6 */
static const u8 kat_sample[64] = {
	0x04, 0x00, 0x02, 0x00, 0x40, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0,
	0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x00,
};

static const u8 kat_extend[32] = {
	0x95, 0xe6, 0x66, 0x5d, 0x51, 0x6b, 0x24, 0x40, 0x6a, 0x92, 0x51,
	0xdc, 0xed, 0x7f, 0x7e, 0x29, 0x5c, 0x63, 0x2d, 0xcd, 0x98, 0x09,
	0x54, 0x44, 0x22, 0x2c, 0xe1, 0x71, 0xe1, 0x05, 0x9e, 0x05,
};

/* identity of /devices/platform/attestio-testdev, its driver, IIO name */
static const u8 kat_identity[32] = {
	0x70, 0xae, 0xba, 0x2c, 0xa9, 0xe6, 0x0f, 0x8b, 0x9d, 0x94, 0x45,
	0x82, 0x90, 0xe0, 0xbe, 0x58, 0x8a, 0xa4, 0xb3, 0x5c, 0x90, 0x32,
	0xec, 0xcc, 0x56, 0xd4, 0x02, 0xb6, 0x55, 0xab, 0x48, 0xda,
};

/*
 * segment state (v4) after a descriptor record whose bytes are kat_sample's
 * (the state hashes record bytes whatever they are), no calib
 */
static const u8 kat_state[32] = {
	0x2f, 0x73, 0xcc, 0x50, 0x19, 0x1d, 0xec, 0x18, 0xbe, 0xb0, 0x81,
	0x4e, 0x74, 0xfe, 0x59, 0x94, 0xbd, 0xf5, 0xe5, 0xf0, 0x94, 0xad,
	0xc6, 0x89, 0x39, 0xb1, 0x7a, 0x00, 0x15, 0x34, 0x7b, 0x46,
};

/* ... then a calib record whose bytes are kat_sample's first 56 */
static const u8 kat_state_calib[32] = {
	0x78, 0x91, 0x92, 0x9b, 0x01, 0x87, 0x22, 0x2e, 0x3f, 0x76, 0x7c,
	0x48, 0xd3, 0x14, 0x26, 0xe6, 0xe8, 0xad, 0x44, 0x2a, 0xa0, 0x61,
	0x1b, 0x4c, 0x27, 0x0b, 0xa9, 0x39, 0x46, 0x9a, 0xb4, 0xe3,
};

/* no segment: before the first descriptor and after a detach */
static const u8 kat_state_none[32] = {
	0xbf, 0xe3, 0xce, 0x11, 0xec, 0xc2, 0x63, 0x19, 0x47, 0xf5, 0x53,
	0x83, 0x3c, 0xb9, 0x08, 0xb9, 0x5d, 0xaf, 0xdc, 0x35, 0x91, 0x2d,
	0x66, 0x25, 0x88, 0xad, 0x8c, 0xd0, 0x92, 0xbc, 0x85, 0xf6,
};

/*
 * epoch 5 over the single head {stream 3, generation 0, seq 7, kat_extend,
 * state kat_state}, no beacon (v4; computed independently with Python's
 * hashlib)
 */
static const u8 kat_epoch[32] = {
	0x4b, 0xcf, 0xb0, 0x0d, 0x7a, 0x67, 0x69, 0xe5, 0xf9, 0x03, 0x24,
	0x8f, 0x40, 0x2a, 0x1c, 0x86, 0xc5, 0x1b, 0x93, 0xcd, 0xd7, 0xe7,
	0x72, 0x14, 0xff, 0x28, 0x46, 0xe9, 0x59, 0xc6, 0x7b, 0x23,
};

/* the same epoch covering beacon 01 02 ... 20 (v4) */
static const u8 kat_epoch_beacon[32] = {
	0xb2, 0x8c, 0x2f, 0xd4, 0xcd, 0xfc, 0x15, 0x39, 0x95, 0x02, 0xf4,
	0x39, 0x3c, 0x79, 0x3b, 0x65, 0x7c, 0x14, 0xd9, 0xcc, 0x21, 0x09,
	0x0b, 0x75, 0x08, 0x4a, 0x69, 0xbc, 0xdb, 0xd5, 0x58, 0xa7,
};

static const struct attestio_rec_info kat_info = {
	.stream = 3, .seq = 7, .boottime_ns = 1000, .realtime_ns = 2000,
};

static const u8 kat_scan[6] = { 1, 2, 3, 4, 5, 6 };

static u32 cases_make_sample(u8 *buf, u32 cap)
{
	return attestio_sample_encode(buf, cap, &kat_info, 42, kat_scan,
				      sizeof(kat_scan));
}

CASE(hdr_roundtrip)
{
	struct attestio_rec_info in = {
		.type = ATTESTIO_REC_DETACH, .len = 56, .stream = 63,
		.seq = 0xfedcba9876543210ULL, .boottime_ns = 1,
		.realtime_ns = 0xffffffffffffffffULL,
	};
	struct attestio_rec_info out;
	u8 buf[56] = { 0 };

	attestio_rec_hdr_encode(buf, &in);
	EXPECT_EQ(attestio_rec_hdr_decode(buf, sizeof(buf), &out), 0);
	EXPECT_EQ(out.type, in.type);
	EXPECT_EQ(out.len, in.len);
	EXPECT_EQ(out.stream, in.stream);
	EXPECT_EQ(out.flags, in.flags);
	EXPECT_EQ(out.seq, in.seq);
	EXPECT_EQ(out.boottime_ns, in.boottime_ns);
	EXPECT_EQ(out.realtime_ns, in.realtime_ns);
	/* little endian on the wire whatever the CPU */
	EXPECT_EQ(buf[0], ATTESTIO_REC_VERSION);
	EXPECT_EQ(buf[0], 4);
	EXPECT_EQ(buf[2], ATTESTIO_REC_DETACH);
	EXPECT_EQ(buf[16], 0x10);
	EXPECT_EQ(buf[23], 0xfe);
}

CASE(sample_known_answer)
{
	struct attestio_rec_info info;
	u8 buf[128];

	EXPECT_EQ(cases_make_sample(buf, sizeof(buf)), sizeof(kat_sample));
	EXPECT_MEMEQ(buf, kat_sample, sizeof(kat_sample));
	EXPECT_EQ(attestio_rec_validate(buf, sizeof(kat_sample), &info), 0);
	EXPECT_EQ(info.type, ATTESTIO_REC_SAMPLE);
	EXPECT_EQ(info.seq, 7);
	/* does not fit, empty scan, oversized scan */
	EXPECT_EQ(cases_make_sample(buf, 63), 0);
	EXPECT_EQ(attestio_sample_encode(buf, sizeof(buf), &kat_info, 0,
					 kat_scan, 0), 0);
	EXPECT_EQ(attestio_sample_encode(buf, sizeof(buf), &kat_info, 0,
					 kat_scan, ATTESTIO_MAX_SCAN_BYTES + 1),
		  0);
}

CASE(truncated_records_rejected)
{
	struct attestio_rec_info info;
	u8 buf[64];
	u32 n;

	cases_make_sample(buf, sizeof(buf));
	for (n = 0; n < sizeof(buf); n++)
		EXPECT_EQ(attestio_rec_validate(buf, n, &info) != 0, 1);
}

CASE(bad_headers_rejected)
{
	struct attestio_rec_info info;
	u8 buf[64];
	static const struct {
		u8 off, val;
	} bad[] = {
		{ 0, 1 },	/* version 1 */
		{ 0, 2 },	/* version 2: 40-byte checkpoints */
		{ 0, 3 },	/* version 3: 48-byte heads */
		{ 0, 5 },	/* version 5 */
		{ 2, 0 },	/* type 0 */
		{ 2, 8 },	/* type past max */
		{ 4, 0x41 },	/* len not aligned */
		{ 4, 0x20 },	/* len below header + payload */
		{ 4, 0x48 },	/* len past the buffer */
		{ 6, 1 },	/* len past ATTESTIO_REC_MAX_LEN */
		{ 8, 64 },	/* stream id out of range */
		{ 12, 1 },	/* unchained flag on a sample */
		{ 13, 1 },	/* unknown flag */
		{ 52, 1 },	/* reserved word nonzero */
		{ 48, 17 },	/* scan_len disagrees with len */
		{ 62, 1 },	/* nonzero padding */
	};
	u32 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cases_make_sample(buf, sizeof(buf));
		buf[bad[i].off] = bad[i].val;
		EXPECT_EQ(attestio_rec_validate(buf, sizeof(buf), &info) != 0,
			  1);
	}
}

CASE(chain_known_answer)
{
	static const u8 zero[32];
	struct attestio_cp_head head = { 0 };
	u8 h[32], e[32], beacon[32];
	u32 i;

	attestio_chain_genesis(h, KAT_INSTANCE, 3, 1);
	EXPECT_MEMEQ(h, kat_genesis, 32);
	attestio_chain_extend(h, kat_sample, sizeof(kat_sample));
	EXPECT_MEMEQ(h, kat_extend, 32);
	head.stream = cpu_to_le32(3);
	head.seq = cpu_to_le64(7);
	memcpy(head.head, h, 32);
	memcpy(head.state, kat_state, 32);
	attestio_epoch_digest(e, KAT_INSTANCE, 5, zero, &head, 1);
	EXPECT_MEMEQ(e, kat_epoch, 32);
	/* the beacon is in the digest, between epoch and heads */
	for (i = 0; i < 32; i++)
		beacon[i] = (u8)(i + 1);
	attestio_epoch_digest(e, KAT_INSTANCE, 5, beacon, &head, 1);
	EXPECT_MEMEQ(e, kat_epoch_beacon, 32);
	/* any bit of the beacon changes the digest */
	for (i = 0; i < 32 * 8; i += 37) {
		beacon[i / 8] ^= (u8)(1 << (i % 8));
		attestio_epoch_digest(e, KAT_INSTANCE, 5, beacon, &head, 1);
		EXPECT_EQ(memcmp(e, kat_epoch_beacon, 32) != 0, 1);
		beacon[i / 8] ^= (u8)(1 << (i % 8));
	}
	/* any change of input changes the head */
	attestio_chain_genesis(h, KAT_INSTANCE, 4, 1);
	EXPECT_EQ(memcmp(h, kat_genesis, 32) != 0, 1);
	/* a reused stream id starts another chain */
	attestio_chain_genesis(h, KAT_INSTANCE, 3, 2);
	EXPECT_EQ(memcmp(h, kat_genesis, 32) != 0, 1);
	attestio_identity(h, "/devices/platform/attestio-testdev",
			  "attestio-testdev", "attestio-test");
	EXPECT_MEMEQ(h, kat_identity, 32);
	attestio_identity(h, "/devices/platform/attestio-testdev", "",
			  "attestio-test");
	EXPECT_EQ(memcmp(h, kat_identity, 32) != 0, 1);
}

CASE(segment_state)
{
	struct attestio_seg_state st;
	u8 d[32];

	memset(&st, 0, sizeof(st));
	attestio_seg_state_digest(d, &st);
	EXPECT_MEMEQ(d, kat_state_none, 32);
	attestio_seg_state_note(&st, ATTESTIO_REC_DESCRIPTOR, kat_sample,
				sizeof(kat_sample));
	attestio_seg_state_digest(d, &st);
	EXPECT_MEMEQ(d, kat_state, 32);
	/* samples, gaps, errors, checkpoints leave it */
	attestio_seg_state_note(&st, ATTESTIO_REC_SAMPLE, kat_extend, 32);
	attestio_seg_state_note(&st, ATTESTIO_REC_GAP, kat_extend, 32);
	attestio_seg_state_note(&st, ATTESTIO_REC_CHECKPOINT, kat_extend, 32);
	attestio_seg_state_digest(d, &st);
	EXPECT_MEMEQ(d, kat_state, 32);
	attestio_seg_state_note(&st, ATTESTIO_REC_CALIB, kat_sample, 56);
	attestio_seg_state_digest(d, &st);
	EXPECT_MEMEQ(d, kat_state_calib, 32);
	/* a detach closes the segment */
	attestio_seg_state_note(&st, ATTESTIO_REC_DETACH, kat_extend, 32);
	attestio_seg_state_digest(d, &st);
	EXPECT_MEMEQ(d, kat_state_none, 32);
	/* the next descriptor opens one without the old calibration */
	attestio_seg_state_note(&st, ATTESTIO_REC_CALIB, kat_sample, 56);
	attestio_seg_state_note(&st, ATTESTIO_REC_DESCRIPTOR, kat_sample,
				sizeof(kat_sample));
	attestio_seg_state_digest(d, &st);
	EXPECT_MEMEQ(d, kat_state, 32);
}

/* An unsigned checkpoint for stream 5 with heads of streams 2 and 5. */
static u32 cases_make_checkpoint(u8 *buf, u32 cap)
{
	struct attestio_rec_info info = {
		.type = ATTESTIO_REC_CHECKPOINT, .stream = 5, .seq = 9,
	};
	struct attestio_checkpoint *cp = attestio_rec_payload(buf);
	struct attestio_cp_head *heads;
	struct attestio_cp_layout lay;

	if (attestio_cp_layout(2, 0, 0, &lay) || attestio_rec_align(lay.end) > cap)
		return 0;
	memset(buf, 0, attestio_rec_align(lay.end));
	info.len = attestio_rec_align(lay.end);
	attestio_rec_hdr_encode(buf, &info);
	cp->epoch = cpu_to_le64(1);
	cp->status = cpu_to_le32(ATTESTIO_CP_NO_KEY);
	cp->nheads = cpu_to_le16(2);
	cp->self = cpu_to_le16(1);
	heads = (struct attestio_cp_head *)(buf + lay.heads);
	heads[0].stream = cpu_to_le32(2);
	heads[1].stream = cpu_to_le32(5);
	return info.len;
}

CASE(checkpoint_validation)
{
	struct attestio_rec_info info;
	struct attestio_checkpoint *cp;
	struct attestio_cp_head *heads;
	u8 buf[320];
	u32 len;

	len = cases_make_checkpoint(buf, sizeof(buf));
	EXPECT_EQ(len, 40 + 72 + 2 * 80);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	cp = attestio_rec_payload(buf);
	heads = (struct attestio_cp_head *)(buf + 112);
	/* v3: any beacon value is well-formed (the quote judges it) */
	memset(cp->beacon, 0xa5, sizeof(cp->beacon));
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	/* v4: any state value is well-formed (the verifier judges it) */
	memset(heads[1].state, 0x5a, sizeof(heads[1].state));
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	/* a v3 record (48-byte heads) is refused by version */
	buf[0] = 3;
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_checkpoint(buf, sizeof(buf));

	cp->status = cpu_to_le32(ATTESTIO_CP_SIGNED);	/* signed, no quote */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_checkpoint(buf, sizeof(buf));
	cp->self = cpu_to_le16(0);			/* self is stream 2 */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_checkpoint(buf, sizeof(buf));
	cp->self = cpu_to_le16(2);			/* self out of range */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_checkpoint(buf, sizeof(buf));
	heads[0].stream = cpu_to_le32(5);		/* not sorted */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_checkpoint(buf, sizeof(buf));
	cp->nheads = cpu_to_le16(3);			/* heads past len */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_checkpoint(buf, sizeof(buf));
	cp->status = cpu_to_le32(ATTESTIO_CP_DISABLED + 1);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	EXPECT_EQ(attestio_cp_layout(0, 0, 0, (struct attestio_cp_layout *)buf)
		  != 0, 1);
	EXPECT_EQ(attestio_cp_layout(ATTESTIO_MAX_STREAMS + 1, 0, 0,
				     (struct attestio_cp_layout *)buf) != 0, 1);
}

static u32 cases_make_fixed(u8 *buf, u16 type, u32 payload, u32 flags)
{
	struct attestio_rec_info info = {
		.type = type, .len = attestio_rec_len(payload), .flags = flags,
	};

	memset(buf, 0, info.len);
	attestio_rec_hdr_encode(buf, &info);
	return info.len;
}

CASE(fixed_records)
{
	struct attestio_rec_info info;
	u8 buf[128];
	struct attestio_gap *gap = attestio_rec_payload(buf);
	struct attestio_detach *det = attestio_rec_payload(buf);
	struct attestio_lost *lost = attestio_rec_payload(buf);
	struct attestio_error *err = attestio_rec_payload(buf);
	u32 len;

	len = cases_make_fixed(buf, ATTESTIO_REC_GAP, sizeof(*gap), 0);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1); /* lost 0 */
	gap->lost = cpu_to_le64(3);
	gap->reason = cpu_to_le32(ATTESTIO_GAP_RING_FULL);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);

	len = cases_make_fixed(buf, ATTESTIO_REC_DETACH, sizeof(*det), 0);
	det->reason = cpu_to_le32(ATTESTIO_DETACH_REASON_MAX + 1);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	det->reason = cpu_to_le32(ATTESTIO_DETACH_SHUTDOWN);	/* v2 */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	det->reason = cpu_to_le32(ATTESTIO_DETACH_REMOVED);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);

	len = cases_make_fixed(buf, ATTESTIO_REC_ERROR, sizeof(*err), 0);
	err->source = cpu_to_le32(ATTESTIO_ERR_TPM);
	memset(err->msg, 'x', sizeof(err->msg));		/* no NUL */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	err->msg[sizeof(err->msg) - 1] = 0;
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);

	len = cases_make_fixed(buf, ATTESTIO_REC_LOST, sizeof(*lost), 0);
	lost->records = cpu_to_le64(1);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1); /* chained */
	len = cases_make_fixed(buf, ATTESTIO_REC_LOST, sizeof(*lost),
			       ATTESTIO_RF_UNCHAINED);
	lost->records = cpu_to_le64(1);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	buf[16] = 1;						/* seq != 0 */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
}

static u32 cases_make_descriptor(u8 *buf)
{
	struct attestio_descriptor *d = attestio_rec_payload(buf);
	u32 used = sizeof(*d) + sizeof(d->chan[0]);
	u32 len = cases_make_fixed(buf, ATTESTIO_REC_DESCRIPTOR, used, 0);

	d->mode = cpu_to_le16(ATTESTIO_MODE_BUFFERED);
	d->nchannels = cpu_to_le16(1);
	d->scan_bytes = cpu_to_le32(16);
	d->has_ts = 1;
	d->ts_offset = cpu_to_le16(8);
	d->chan[0].sign = 's';
	d->chan[0].realbits = 32;
	d->chan[0].storagebits = 32;
	return len;
}

CASE(descriptor_validation)
{
	struct attestio_rec_info info;
	struct attestio_descriptor *d;
	u8 buf[512];
	u32 len;

	len = cases_make_descriptor(buf);
	d = attestio_rec_payload(buf);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	d->chan[0].storagebits = 24;
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	d->chan[0].offset = cpu_to_le16(13);		/* past the scan */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	d->ts_offset = cpu_to_le16(9);			/* ts past the scan */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	memset(d->name, 'a', sizeof(d->name));		/* unterminated */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	d->poll_period_us = cpu_to_le32(1000);		/* buffered + period */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	d->nchannels = cpu_to_le16(2);			/* channels past len */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	memset(d->parent, 'p', sizeof(d->parent));	/* unterminated */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	memset(d->driver, 'd', sizeof(d->driver));	/* unterminated */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	d->reserved2 = cpu_to_le32(1);
	EXPECT_EQ(attestio_rec_validate(buf, len, &info) != 0, 1);
	cases_make_descriptor(buf);
	d->generation = cpu_to_le32(7);			/* any generation */
	EXPECT_EQ(attestio_rec_validate(buf, len, &info), 0);
	/* v2 layout: fields the verifier reads at fixed offsets */
	EXPECT_EQ(offsetof(struct attestio_descriptor, generation), 128);
	EXPECT_EQ(offsetof(struct attestio_descriptor, identity), 136);
	EXPECT_EQ(offsetof(struct attestio_descriptor, parent), 168);
	EXPECT_EQ(offsetof(struct attestio_descriptor, driver), 232);
	EXPECT_EQ(sizeof(struct attestio_descriptor), 264);
	EXPECT_EQ(sizeof(struct attestio_cp_head), 80);
}

#define RECORD_CASES(X)			\
	X(hdr_roundtrip)		\
	X(sample_known_answer)		\
	X(truncated_records_rejected)	\
	X(bad_headers_rejected)		\
	X(chain_known_answer)		\
	X(segment_state)		\
	X(checkpoint_validation)	\
	X(fixed_records)		\
	X(descriptor_validation)

#endif /* ATTESTIO_RECORD_CASES_H */

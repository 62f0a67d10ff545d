/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure record logic: encoding, validation, hash chain and epoch digest.
 * No IIO, TPM or device dependencies: the same source is built into the
 * module, KUnit, the userspace unit tests, the fuzzers and libattestio.
 */
#ifndef _ATTESTIO_RECORD_H
#define _ATTESTIO_RECORD_H

#include <linux/types.h>
#include <asm/byteorder.h>
#include <linux/attestio.h>
#include <crypto/sha2.h>

#define ATTESTIO_HDR_LEN ((u32)sizeof(struct attestio_rec_hdr))

/* A record header in CPU byte order. */
struct attestio_rec_info {
	u16 type;
	u32 len;
	u32 stream;
	u32 flags;
	u64 seq;
	u64 boottime_ns;
	u64 realtime_ns;
};

static inline u32 attestio_rec_align(u32 len)
{
	return (len + ATTESTIO_REC_ALIGN - 1) & ~(u32)(ATTESTIO_REC_ALIGN - 1);
}

/* Total record length for a payload of @payload bytes. */
static inline u32 attestio_rec_len(u32 payload)
{
	return attestio_rec_align(ATTESTIO_HDR_LEN + payload);
}

static inline void *attestio_rec_payload(void *rec)
{
	return (u8 *)rec + ATTESTIO_HDR_LEN;
}

void attestio_rec_hdr_encode(void *rec, const struct attestio_rec_info *info);
int attestio_rec_hdr_decode(const void *buf, size_t avail,
			    struct attestio_rec_info *info);
int attestio_rec_validate(const void *rec, size_t avail,
			  struct attestio_rec_info *info);

u32 attestio_sample_encode(void *rec, u32 cap,
			   const struct attestio_rec_info *info,
			   u64 iio_timestamp, const void *scan, u32 scan_len);

void attestio_chain_genesis(u8 head[ATTESTIO_HASH_LEN], u64 instance,
			    u32 stream, u32 generation);
void attestio_identity(u8 out[ATTESTIO_HASH_LEN], const char *parent,
		       const char *driver, const char *name);
void attestio_chain_extend(u8 head[ATTESTIO_HASH_LEN], const void *rec,
			   u32 len);
void attestio_epoch_digest(u8 out[ATTESTIO_HASH_LEN], u64 instance, u64 epoch,
			   const u8 beacon[ATTESTIO_HASH_LEN],
			   const struct attestio_cp_head *heads, u16 nheads);

/*
 * The segment a stream's chain is in (v4): SHA-256 of the bytes of its
 * descriptor and newest calib record, all zero for none.
 */
struct attestio_seg_state {
	u8 desc[ATTESTIO_HASH_LEN];
	u8 calib[ATTESTIO_HASH_LEN];
};

void attestio_seg_state_note(struct attestio_seg_state *st, u16 type,
			     const void *rec, u32 len);
void attestio_seg_state_digest(u8 out[ATTESTIO_HASH_LEN],
			       const struct attestio_seg_state *st);

/* Offsets of the variable parts of a checkpoint record. */
struct attestio_cp_layout {
	u32 heads;
	u32 attest;
	u32 sig;
	u32 end;
};

int attestio_cp_layout(u16 nheads, u16 attest_len, u16 sig_len,
		       struct attestio_cp_layout *lay);

#endif /* _ATTESTIO_RECORD_H */

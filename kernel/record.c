// SPDX-License-Identifier: GPL-2.0
/*
 * Pure record logic shared by the module, KUnit, userspace tests, fuzzers
 * and libattestio.  Every function here treats its input as untrusted.
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "record.h"

static const u8 attestio_tag_genesis[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_GENESIS;
static const u8 attestio_tag_chain[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_CHAIN;
static const u8 attestio_tag_epoch[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_EPOCH;
static const u8 attestio_tag_identity[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_IDENTITY;
static const u8 attestio_tag_state[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_STATE;

void attestio_rec_hdr_encode(void *rec, const struct attestio_rec_info *info)
{
	struct attestio_rec_hdr *h = rec;

	h->version = cpu_to_le16(ATTESTIO_REC_VERSION);
	h->type = cpu_to_le16(info->type);
	h->len = cpu_to_le32(info->len);
	h->stream = cpu_to_le32(info->stream);
	h->flags = cpu_to_le32(info->flags);
	h->seq = cpu_to_le64(info->seq);
	h->boottime_ns = cpu_to_le64(info->boottime_ns);
	h->realtime_ns = cpu_to_le64(info->realtime_ns);
}

/*
 * Decode and check the header only: version, type, flags and a length that
 * is aligned, within limits and within @avail bytes.
 */
int attestio_rec_hdr_decode(const void *buf, size_t avail,
			    struct attestio_rec_info *info)
{
	const struct attestio_rec_hdr *h = buf;
	bool unchained, local;

	if (avail < ATTESTIO_HDR_LEN)
		return -EMSGSIZE;
	if (le16_to_cpu(h->version) != ATTESTIO_REC_VERSION)
		return -EPROTO;
	info->type = le16_to_cpu(h->type);
	info->len = le32_to_cpu(h->len);
	info->stream = le32_to_cpu(h->stream);
	info->flags = le32_to_cpu(h->flags);
	info->seq = le64_to_cpu(h->seq);
	info->boottime_ns = le64_to_cpu(h->boottime_ns);
	info->realtime_ns = le64_to_cpu(h->realtime_ns);
	if (info->type < ATTESTIO_REC_DESCRIPTOR ||
	    info->type > ATTESTIO_REC_TYPE_MAX)
		return -EBADMSG;
	if (info->flags & ~ATTESTIO_RF_ALL)
		return -EBADMSG;
	if (info->len < ATTESTIO_HDR_LEN || info->len > ATTESTIO_REC_MAX_LEN ||
	    info->len % ATTESTIO_REC_ALIGN)
		return -EBADMSG;
	if (info->len > avail)
		return -EMSGSIZE;
	if (info->stream >= ATTESTIO_MAX_STREAMS)
		return -EBADMSG;
	/* Only reader-local records are outside every chain. */
	unchained = info->flags & ATTESTIO_RF_UNCHAINED;
	local = info->type == ATTESTIO_REC_LOST;
	if (unchained != local)
		return -EBADMSG;
	return 0;
}

static bool attestio_zero(const u8 *p, u32 n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static bool attestio_has_nul(const char *s, u32 n)
{
	return !!memchr(s, 0, n);
}

static int attestio_check_channel(const struct attestio_channel *c,
				  u32 scan_bytes)
{
	u32 storage = c->storagebits, bytes;

	if (storage != 8 && storage != 16 && storage != 32 && storage != 64)
		return -EBADMSG;
	if (!c->realbits || c->realbits + c->shift > storage)
		return -EBADMSG;
	if (c->sign != 's' && c->sign != 'u')
		return -EBADMSG;
	if (c->endianness != ATTESTIO_LE && c->endianness != ATTESTIO_BE)
		return -EBADMSG;
	bytes = storage / 8 * (c->repeat ? c->repeat : 1);
	if ((u32)le16_to_cpu(c->offset) + bytes > scan_bytes)
		return -EBADMSG;
	if (!attestio_zero(c->reserved, sizeof(c->reserved)))
		return -EBADMSG;
	return 0;
}

static int attestio_check_descriptor(const u8 *p, u32 plen)
{
	const struct attestio_descriptor *d = (const void *)p;
	u32 n, scan, i, used;
	int ret;

	if (plen < sizeof(*d))
		return -EBADMSG;
	n = le16_to_cpu(d->nchannels);
	scan = le32_to_cpu(d->scan_bytes);
	if (n > ATTESTIO_MAX_CHANNELS || !scan ||
	    scan > ATTESTIO_MAX_SCAN_BYTES)
		return -EBADMSG;
	used = sizeof(*d) + n * sizeof(struct attestio_channel);
	if (plen != attestio_rec_len(used) - ATTESTIO_HDR_LEN)
		return -EBADMSG;
	switch (le16_to_cpu(d->mode)) {
	case ATTESTIO_MODE_BUFFERED:
		if (d->poll_period_us)
			return -EBADMSG;
		break;
	case ATTESTIO_MODE_POLLED:
		if (!d->poll_period_us)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	if (!attestio_has_nul(d->device, sizeof(d->device)) ||
	    !attestio_has_nul(d->name, sizeof(d->name)) ||
	    !attestio_has_nul(d->label, sizeof(d->label)))
		return -EBADMSG;
	if (d->has_ts > 1 ||
	    (d->has_ts && (u32)le16_to_cpu(d->ts_offset) + 8 > scan))
		return -EBADMSG;
	if (!attestio_zero(d->reserved, sizeof(d->reserved)) || d->reserved2)
		return -EBADMSG;
	if (!attestio_has_nul(d->parent, sizeof(d->parent)) ||
	    !attestio_has_nul(d->driver, sizeof(d->driver)))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		ret = attestio_check_channel(&d->chan[i], scan);
		if (ret)
			return ret;
	}
	return attestio_zero(p + used, plen - used) ? 0 : -EBADMSG;
}

static int attestio_check_sample(const u8 *p, u32 plen)
{
	const struct attestio_sample *s = (const void *)p;
	u32 used;

	if (plen < sizeof(*s))
		return -EBADMSG;
	if (!le32_to_cpu(s->scan_len) ||
	    le32_to_cpu(s->scan_len) > ATTESTIO_MAX_SCAN_BYTES || s->reserved)
		return -EBADMSG;
	used = sizeof(*s) + le32_to_cpu(s->scan_len);
	if (plen != attestio_rec_len(used) - ATTESTIO_HDR_LEN)
		return -EBADMSG;
	return attestio_zero(p + used, plen - used) ? 0 : -EBADMSG;
}

static int attestio_check_calib(const u8 *p, u32 plen)
{
	const struct attestio_calib *c = (const void *)p;
	u32 n, used;

	if (plen < sizeof(*c))
		return -EBADMSG;
	n = le16_to_cpu(c->nchannels);
	if (!n || n > ATTESTIO_MAX_CHANNELS || c->reserved || c->reserved2)
		return -EBADMSG;
	used = sizeof(*c) + n * sizeof(struct attestio_calib_chan);
	if (plen != attestio_rec_len(used) - ATTESTIO_HDR_LEN)
		return -EBADMSG;
	return attestio_zero(p + used, plen - used) ? 0 : -EBADMSG;
}

int attestio_cp_layout(u16 nheads, u16 attest_len, u16 sig_len,
		       struct attestio_cp_layout *lay)
{
	if (!nheads || nheads > ATTESTIO_MAX_STREAMS)
		return -EBADMSG;
	lay->heads = ATTESTIO_HDR_LEN + sizeof(struct attestio_checkpoint);
	lay->attest = lay->heads + nheads * sizeof(struct attestio_cp_head);
	lay->sig = lay->attest + attest_len;
	lay->end = lay->sig + sig_len;
	if (attestio_rec_align(lay->end) > ATTESTIO_REC_MAX_LEN)
		return -EMSGSIZE;
	return 0;
}

static int attestio_check_checkpoint(const u8 *rec, u32 len, u32 stream)
{
	const struct attestio_checkpoint *cp = attestio_rec_payload((void *)rec);
	const struct attestio_cp_head *heads;
	struct attestio_cp_layout lay;
	bool is_signed, has_quote;
	u16 n, self, i;
	u32 status;

	if (len < ATTESTIO_HDR_LEN + sizeof(*cp))
		return -EBADMSG;
	n = le16_to_cpu(cp->nheads);
	self = le16_to_cpu(cp->self);
	if (attestio_cp_layout(n, le16_to_cpu(cp->attest_len),
			       le16_to_cpu(cp->sig_len), &lay))
		return -EBADMSG;
	if (len != attestio_rec_align(lay.end) || self >= n)
		return -EBADMSG;
	status = le32_to_cpu(cp->status);
	if (status > ATTESTIO_CP_DISABLED)
		return -EBADMSG;
	/* A signed checkpoint has both parts, an unsigned one neither. */
	is_signed = status == ATTESTIO_CP_SIGNED;
	has_quote = cp->attest_len && cp->sig_len;
	if (is_signed != has_quote)
		return -EBADMSG;
	if (!is_signed && (cp->attest_len || cp->sig_len))
		return -EBADMSG;
	heads = (const void *)(rec + lay.heads);
	for (i = 0; i < n; i++) {
		if (le32_to_cpu(heads[i].stream) >= ATTESTIO_MAX_STREAMS)
			return -EBADMSG;
		if (i && le32_to_cpu(heads[i].stream) <=
			 le32_to_cpu(heads[i - 1].stream))
			return -EBADMSG;
	}
	if (le32_to_cpu(heads[self].stream) != stream)
		return -EBADMSG;
	return attestio_zero(rec + lay.end, len - lay.end) ? 0 : -EBADMSG;
}

static u32 attestio_fixed_payload(u16 type)
{
	switch (type) {
	case ATTESTIO_REC_GAP:
		return sizeof(struct attestio_gap);
	case ATTESTIO_REC_DETACH:
		return sizeof(struct attestio_detach);
	case ATTESTIO_REC_ERROR:
		return sizeof(struct attestio_error);
	case ATTESTIO_REC_LOST:
		return sizeof(struct attestio_lost);
	}
	return 0;
}

static int attestio_check_fixed(const u8 *p, u16 type)
{
	const struct attestio_gap *gap = (const void *)p;
	const struct attestio_detach *det = (const void *)p;
	const struct attestio_error *err = (const void *)p;
	const struct attestio_lost *lost = (const void *)p;
	u32 v;

	switch (type) {
	case ATTESTIO_REC_GAP:
		v = le32_to_cpu(gap->reason);
		if (!gap->lost || gap->reserved || v < ATTESTIO_GAP_RING_FULL ||
		    v > ATTESTIO_GAP_READ_FAILED)
			return -EBADMSG;
		return 0;
	case ATTESTIO_REC_DETACH:
		v = le32_to_cpu(det->reason);
		if (v < ATTESTIO_DETACH_USER || v > ATTESTIO_DETACH_REASON_MAX)
			return -EBADMSG;
		return 0;
	case ATTESTIO_REC_ERROR:
		v = le32_to_cpu(err->source);
		if (v < ATTESTIO_ERR_TPM || v > ATTESTIO_ERR_CAPTURE ||
		    !attestio_has_nul(err->msg, sizeof(err->msg)))
			return -EBADMSG;
		return 0;
	case ATTESTIO_REC_LOST:
		return lost->records ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

/*
 * Full validation of one record at @rec with @avail readable bytes: header,
 * exact length for the type, every payload field within bounds and zero
 * padding.  On success @info holds the decoded header.
 */
int attestio_rec_validate(const void *rec, size_t avail,
			  struct attestio_rec_info *info)
{
	const u8 *p = (const u8 *)rec + ATTESTIO_HDR_LEN;
	u32 plen, fixed;
	int ret;

	ret = attestio_rec_hdr_decode(rec, avail, info);
	if (ret)
		return ret;
	plen = info->len - ATTESTIO_HDR_LEN;
	switch (info->type) {
	case ATTESTIO_REC_DESCRIPTOR:
		return attestio_check_descriptor(p, plen);
	case ATTESTIO_REC_SAMPLE:
		return attestio_check_sample(p, plen);
	case ATTESTIO_REC_CALIB:
		return attestio_check_calib(p, plen);
	case ATTESTIO_REC_CHECKPOINT:
		return attestio_check_checkpoint(rec, info->len, info->stream);
	}
	fixed = attestio_fixed_payload(info->type);
	if (info->len != attestio_rec_len(fixed))
		return -EBADMSG;
	if (info->type == ATTESTIO_REC_LOST && (info->stream || info->seq))
		return -EBADMSG;
	if (!attestio_zero(p + fixed, plen - fixed))
		return -EBADMSG;
	return attestio_check_fixed(p, info->type);
}

/*
 * Encode a sample record into @rec (@cap bytes).  @info supplies stream, seq
 * and timestamps; its type and len are ignored.  Returns the record length,
 * or 0 if the scan is empty, too big, or does not fit.
 */
u32 attestio_sample_encode(void *rec, u32 cap,
			   const struct attestio_rec_info *info,
			   u64 iio_timestamp, const void *scan, u32 scan_len)
{
	struct attestio_rec_info hdr = *info;
	struct attestio_sample *s = attestio_rec_payload(rec);
	u32 used = sizeof(*s) + scan_len;
	u32 len = attestio_rec_len(used);

	if (!scan_len || scan_len > ATTESTIO_MAX_SCAN_BYTES || len > cap)
		return 0;
	hdr.type = ATTESTIO_REC_SAMPLE;
	hdr.len = len;
	attestio_rec_hdr_encode(rec, &hdr);
	s->iio_timestamp = cpu_to_le64(iio_timestamp);
	s->scan_len = cpu_to_le32(scan_len);
	s->reserved = 0;
	memcpy(s->scan, scan, scan_len);
	memset(s->scan + scan_len, 0, len - ATTESTIO_HDR_LEN - used);
	return len;
}

/*
 * The first head of a chain: unique per (instance, stream, generation),
 * so that a reused stream id never continues another device's chain.
 */
void attestio_chain_genesis(u8 head[ATTESTIO_HASH_LEN], u64 instance,
			    u32 stream, u32 generation)
{
	struct sha256_state st;
	__le64 inst = cpu_to_le64(instance);
	__le32 id = cpu_to_le32(stream);
	__le32 gen = cpu_to_le32(generation);

	sha256_init(&st);
	sha256_update(&st, attestio_tag_genesis, ATTESTIO_TAG_LEN);
	sha256_update(&st, (const u8 *)&inst, sizeof(inst));
	sha256_update(&st, (const u8 *)&id, sizeof(id));
	sha256_update(&st, (const u8 *)&gen, sizeof(gen));
	sha256_final(&st, head);
}

/*
 * A device's physical identity, stable across reboots and re-plugs: its
 * parent's path under /sys/devices, the parent's driver and its IIO name,
 * each followed by a NUL.
 */
void attestio_identity(u8 out[ATTESTIO_HASH_LEN], const char *parent,
		       const char *driver, const char *name)
{
	static const u8 nul;
	struct sha256_state st;

	sha256_init(&st);
	sha256_update(&st, attestio_tag_identity, ATTESTIO_TAG_LEN);
	sha256_update(&st, (const u8 *)parent, strlen(parent));
	sha256_update(&st, &nul, 1);
	sha256_update(&st, (const u8 *)driver, strlen(driver));
	sha256_update(&st, &nul, 1);
	sha256_update(&st, (const u8 *)name, strlen(name));
	sha256_update(&st, &nul, 1);
	sha256_final(&st, out);
}

void attestio_chain_extend(u8 head[ATTESTIO_HASH_LEN], const void *rec,
			   u32 len)
{
	struct sha256_state st;

	sha256_init(&st);
	sha256_update(&st, attestio_tag_chain, ATTESTIO_TAG_LEN);
	sha256_update(&st, head, ATTESTIO_HASH_LEN);
	sha256_update(&st, rec, len);
	sha256_final(&st, head);
}

/*
 * Follow the segment state (v4) over a chained record of @type: a
 * descriptor opens a segment (calib none yet), a calib record replaces
 * the calibration, a detach closes the segment.  Other records keep it.
 */
void attestio_seg_state_note(struct attestio_seg_state *st, u16 type,
			     const void *rec, u32 len)
{
	switch (type) {
	case ATTESTIO_REC_DESCRIPTOR:
		sha256(rec, len, st->desc);
		memset(st->calib, 0, sizeof(st->calib));
		break;
	case ATTESTIO_REC_CALIB:
		sha256(rec, len, st->calib);
		break;
	case ATTESTIO_REC_DETACH:
		memset(st, 0, sizeof(*st));
		break;
	}
}

/* state = SHA-256(state tag || desc || calib), what a head commits to */
void attestio_seg_state_digest(u8 out[ATTESTIO_HASH_LEN],
			       const struct attestio_seg_state *st)
{
	struct sha256_state sh;

	sha256_init(&sh);
	sha256_update(&sh, attestio_tag_state, ATTESTIO_TAG_LEN);
	sha256_update(&sh, st->desc, ATTESTIO_HASH_LEN);
	sha256_update(&sh, st->calib, ATTESTIO_HASH_LEN);
	sha256_final(&sh, out);
}

/*
 * The digest one quote signs (v3): the load, the epoch, the newest oracle
 * beacon the module held (all zero: none) and every stream's head.
 */
void attestio_epoch_digest(u8 out[ATTESTIO_HASH_LEN], u64 instance, u64 epoch,
			   const u8 beacon[ATTESTIO_HASH_LEN],
			   const struct attestio_cp_head *heads, u16 nheads)
{
	struct sha256_state st;
	__le64 inst = cpu_to_le64(instance);
	__le64 ep = cpu_to_le64(epoch);
	__le32 n = cpu_to_le32(nheads);

	sha256_init(&st);
	sha256_update(&st, attestio_tag_epoch, ATTESTIO_TAG_LEN);
	sha256_update(&st, (const u8 *)&inst, sizeof(inst));
	sha256_update(&st, (const u8 *)&ep, sizeof(ep));
	sha256_update(&st, beacon, ATTESTIO_HASH_LEN);
	sha256_update(&st, (const u8 *)&n, sizeof(n));
	sha256_update(&st, (const u8 *)heads, nheads * sizeof(*heads));
	sha256_final(&st, out);
}

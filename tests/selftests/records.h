/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading /dev/attestio in the selftests and checking what was read with
 * the same record code the module uses (built for userspace via kshim).
 */
#ifndef ATTESTIO_SELFTEST_RECORDS_H
#define ATTESTIO_SELFTEST_RECORDS_H

#include <stdbool.h>

#include "record.h"
#include "helpers.h"

struct recbuf {
	u8 *buf;
	size_t len;
	size_t cap;
};

static inline void recbuf_free(struct recbuf *rb)
{
	free(rb->buf);
	memset(rb, 0, sizeof(*rb));
}

/* Append whatever is readable now; -errno on a read error. */
static inline int recbuf_read(int fd, struct recbuf *rb, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	if (rb->cap - rb->len < ATTESTIO_REC_MAX_LEN * 4) {
		rb->cap = rb->cap * 2 + ATTESTIO_REC_MAX_LEN * 16;
		rb->buf = realloc(rb->buf, rb->cap);
		if (!rb->buf)
			return -ENOMEM;
	}
	r = read(fd, rb->buf + rb->len, rb->cap - rb->len);
	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	rb->len += r;
	return 0;
}

/* What one stream's records say, checked against its own chain. */
struct stream_check {
	u32 stream;
	int errors;		/* validation, sequence or chain failures */
	char why[160];		/* the first failure */
	u64 first_seq;
	u64 next_seq;
	bool started;
	u64 instance;
	u32 generation;		/* of the chain's descriptor */
	u8 head[ATTESTIO_HASH_LEN];
	u8 (*heads)[ATTESTIO_HASH_LEN];	/* head after record seq */
	u8 (*states)[ATTESTIO_HASH_LEN];	/* segment state after it (v4) */
	struct attestio_seg_state st;
	size_t nheads;
	long long *values;	/* first s32 of each sample's scan */
	size_t nvalues;
	u64 gap_lost;
	u64 lost_records;	/* reader-local: all streams */
	int descriptors;
	int detaches;
	u32 last_detach_reason;
	u32 detach_reasons;	/* bit per reason seen */
	size_t detach_nvalues;	/* nvalues at the last detach */
	u32 last_segment;
	int checkpoints;
	int signed_checkpoints;
	u32 last_status;
	u64 last_epoch;
	u64 last_covered_seq;	/* heads[self].seq of the last checkpoint */
	u16 last_nheads;
	int chain_checked;	/* checkpoints whose head matched ours */
};

static inline void check_fail(struct stream_check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->errors++) {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
}

static inline void check_free(struct stream_check *c)
{
	free(c->heads);
	free(c->states);
	free(c->values);
}

static inline void check_store_head(struct stream_check *c, u64 seq)
{
	size_t i = seq - c->first_seq;

	if (i >= c->nheads) {
		c->nheads = (i + 1) * 2;
		c->heads = realloc(c->heads, c->nheads * ATTESTIO_HASH_LEN);
		c->states = realloc(c->states, c->nheads * ATTESTIO_HASH_LEN);
	}
	memcpy(c->heads[i], c->head, ATTESTIO_HASH_LEN);
	attestio_seg_state_digest(c->states[i], &c->st);
}

static inline void check_checkpoint(struct stream_check *c, const u8 *rec,
				    u32 len)
{
	const struct attestio_checkpoint *cp = (const void *)(rec + ATTESTIO_HDR_LEN);
	const struct attestio_cp_head *heads;
	struct attestio_cp_layout lay;
	u16 self = le16_to_cpu(cp->self);
	u64 seq;

	attestio_cp_layout(le16_to_cpu(cp->nheads), le16_to_cpu(cp->attest_len),
			   le16_to_cpu(cp->sig_len), &lay);
	heads = (const void *)(rec + lay.heads);
	seq = le64_to_cpu(heads[self].seq);
	c->checkpoints++;
	c->last_status = le32_to_cpu(cp->status);
	c->last_epoch = le64_to_cpu(cp->epoch);
	c->last_nheads = le16_to_cpu(cp->nheads);
	c->last_covered_seq = seq;
	if (c->last_status == ATTESTIO_CP_SIGNED)
		c->signed_checkpoints++;
	if (seq < c->first_seq || seq >= c->next_seq) {
		check_fail(c, "checkpoint covers seq %llu outside what was read",
			   (unsigned long long)seq);
		return;
	}
	if (memcmp(c->heads[seq - c->first_seq], heads[self].head,
		   ATTESTIO_HASH_LEN))
		check_fail(c, "checkpoint epoch %llu: head of seq %llu differs",
			   (unsigned long long)c->last_epoch,
			   (unsigned long long)seq);
	else if (memcmp(c->states[seq - c->first_seq], heads[self].state,
			ATTESTIO_HASH_LEN))
		check_fail(c, "checkpoint epoch %llu: segment state after seq %llu differs from the descriptor and calib records read",
			   (unsigned long long)c->last_epoch,
			   (unsigned long long)seq);
	else
		c->chain_checked++;
	(void)len;
}

/*
 * Walk every record in @rb; check the records of @c->stream: strict
 * validation, consecutive sequence numbers from the first (which must be a
 * descriptor at seq 0 so that the chain starts at genesis), the chain
 * against every checkpoint.
 */
static inline void check_stream(struct recbuf *rb, struct stream_check *c)
{
	struct attestio_rec_info info;
	size_t off = 0;
	const u8 *rec;
	int ret;

	while (off < rb->len) {
		rec = rb->buf + off;
		ret = attestio_rec_validate(rec, rb->len - off, &info);
		if (ret) {
			check_fail(c, "record at offset %zu invalid: %d", off, ret);
			return;
		}
		off += info.len;
		if (info.type == ATTESTIO_REC_LOST) {
			const struct attestio_lost *l = (const void *)(rec + ATTESTIO_HDR_LEN);

			c->lost_records += le64_to_cpu(l->records);
			continue;
		}
		if (info.stream != c->stream)
			continue;
		if (!c->started) {
			const struct attestio_descriptor *d = (const void *)(rec + ATTESTIO_HDR_LEN);

			if (info.type != ATTESTIO_REC_DESCRIPTOR || info.seq) {
				check_fail(c, "stream starts with type %u seq %llu",
					   info.type, (unsigned long long)info.seq);
				return;
			}
			c->started = true;
			c->first_seq = c->next_seq = 0;
			c->instance = le64_to_cpu(d->instance);
			c->generation = le32_to_cpu(d->generation);
			attestio_chain_genesis(c->head, c->instance, c->stream,
					       c->generation);
		}
		if (info.seq != c->next_seq) {
			/* a reader-local loss may explain it; the chain restarts
			 * being checkable only from the module's side
			 */
			check_fail(c, "seq %llu follows %llu",
				   (unsigned long long)info.seq,
				   (unsigned long long)c->next_seq - 1);
			return;
		}
		attestio_chain_extend(c->head, rec, info.len);
		attestio_seg_state_note(&c->st, info.type, rec, info.len);
		check_store_head(c, info.seq);
		c->next_seq++;
		switch (info.type) {
		case ATTESTIO_REC_DESCRIPTOR:
			c->descriptors++;
			c->last_segment = le32_to_cpu(((const struct attestio_descriptor *)
						       (rec + ATTESTIO_HDR_LEN))->segment);
			break;
		case ATTESTIO_REC_SAMPLE: {
			const struct attestio_sample *s = (const void *)(rec + ATTESTIO_HDR_LEN);
			s32 v;

			memcpy(&v, s->scan, sizeof(v));
			c->values = realloc(c->values, (c->nvalues + 1) * sizeof(*c->values));
			c->values[c->nvalues++] = (s32)le32toh((u32)v);
			break;
		}
		case ATTESTIO_REC_GAP:
			c->gap_lost += le64_to_cpu(((const struct attestio_gap *)
						    (rec + ATTESTIO_HDR_LEN))->lost);
			break;
		case ATTESTIO_REC_DETACH:
			c->detaches++;
			c->last_detach_reason = le32_to_cpu(((const struct attestio_detach *)
							     (rec + ATTESTIO_HDR_LEN))->reason);
			c->detach_reasons |= 1U << (c->last_detach_reason & 31);
			c->detach_nvalues = c->nvalues;
			break;
		case ATTESTIO_REC_CHECKPOINT:
			check_checkpoint(c, rec, info.len);
			break;
		}
	}
}

/* Check @rb for @stream into a fresh @c. */
static inline void check_reset(struct stream_check *c, u32 stream)
{
	check_free(c);
	memset(c, 0, sizeof(*c));
	c->stream = stream;
}

/*
 * Read until @want samples of @stream have arrived and a checkpoint covers
 * them (when @covered), or the timeout.  @c holds the checked result.
 */
static inline void read_stream(int fd, struct recbuf *rb, struct stream_check *c,
			u32 stream, size_t want, bool covered, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	u64 target = 0;

	for (;;) {
		recbuf_read(fd, rb, 100);
		check_reset(c, stream);
		check_stream(rb, c);
		if (c->errors)
			return;
		if (c->nvalues >= want && !target)
			target = c->next_seq - 1;
		if (target && (!covered || (c->checkpoints &&
					    c->last_covered_seq >= target)))
			return;
		if (now_ms() > deadline)
			return;
	}
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Record source: /dev/attestio (or, for tests, any file or FIFO named by
 * source.device / ATTESTIO_DEV), or with source.type = bpf the module's
 * tracepoints through a BPF ring buffer (ring.c), with what the ring
 * dropped read back from /dev/attestio.  Whole records only; per-stream sequence
 * tracking: the chain (instance, generation) of each stream is learned from
 * descriptors and checkpoints, records already in the spool (a restart
 * re-reads what the module's log still holds) are skipped, holes are
 * counted and declared lost by seq (spool_hole).  Reader `lost` records
 * are passed on as they are.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/attestio.h>

#include "attestiod.h"

#define SRC_BUF		(256 * 1024)
#define BF_BUF		(64 * 1024)

struct sstate {
	bool known;		/* chain known */
	uint64_t instance;
	uint32_t gen;
	int64_t last;		/* last seq seen, -1 none */
};

struct source {
	int fd;
	bool pollable, paused, eof;
	char path[PATH_LEN];
	struct spool *spool;
	const struct config *c;
	uint8_t *buf;
	size_t have;
	uint64_t instance;	/* module instance (ioctl), 0 unknown */
	struct sstate st[ATTESTIO_MAX_STREAMS];
	/*
	 * source bpf: the ring; the log read through s->fd until it has
	 * nothing more (drained), then the ring only.  A seq hole in the
	 * ring is filled from the log through a reader of that stream alone,
	 * opened at the first hole and kept: its cursor only moves forward.
	 */
	struct ring *ring;
	bool bpf, drained, in_backfill;
	bool seen[ATTESTIO_MAX_STREAMS];
	int bf_fd[ATTESTIO_MAX_STREAMS];
	uint8_t *bfbuf;
};

static int ring_rec(void *ctx, const uint8_t *rec, uint32_t len);

int source_init(struct source **sp, const struct config *c, struct spool *spool)
{
	struct source *s = calloc(1, sizeof(*s));
	struct attestio_info info;
	struct stat sb;

	if (!s)
		return -ENOMEM;
	s->buf = malloc(SRC_BUF);
	s->fd = open(c->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (!s->buf || s->fd < 0) {
		int e = errno;

		logmsg(LOG_ERR, "source %s: %s", c->device, strerror(e));
		free(s->buf);
		free(s);
		return -e;
	}
	snprintf(s->path, sizeof(s->path), "%s", c->device);
	fstat(s->fd, &sb);
	s->pollable = !S_ISREG(sb.st_mode);
	if (S_ISCHR(sb.st_mode) && !ioctl(s->fd, ATTESTIO_IOC_GET_INFO, &info))
		s->instance = info.instance;
	s->spool = spool;
	s->c = c;
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		s->st[i].last = -1;
		s->bf_fd[i] = -1;
	}
	/*
	 * bpf by default; when it was not asked for by name, a file or FIFO
	 * (tests), or a kernel or privileges that do not let the program
	 * load, mean dev, and the log says so.
	 */
	if (!strcmp(c->source, "bpf") && (S_ISCHR(sb.st_mode) || c->source_set)) {
		int err;

		if (!S_ISCHR(sb.st_mode)) {
			logmsg(LOG_ERR, "source bpf: %s is not the module's device "
			       "(source.type = dev reads files and FIFOs)", c->device);
			source_fini(s);
			return -EINVAL;
		}
		s->bpf = true;
		s->bfbuf = malloc(BF_BUF);
		/* attach first, then read what the log holds: nothing between */
		err = s->bfbuf ? ring_init(&s->ring, c, ring_rec, s) : -ENOMEM;
		if (err && c->source_set) {
			source_fini(s);
			return err;
		}
		if (err) {
			logmsg(LOG_WARNING, "source: the BPF source is not available "
			       "(above); reading %s only (source.type = dev)", c->device);
			s->bpf = false;
		}
	}
	*sp = s;
	return 0;
}

void source_fini(struct source *s)
{
	if (!s)
		return;
	ring_fini(s->ring);
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++)
		if (s->bf_fd[i] >= 0)
			close(s->bf_fd[i]);
	if (s->fd >= 0)
		close(s->fd);
	free(s->bfbuf);
	free(s->buf);
	free(s);
}

int source_fd(const struct source *s)
{
	if (s->bpf && s->drained)
		return s->paused ? -1 : ring_fd(s->ring);
	return s->pollable && !s->paused && !s->eof ? s->fd : -1;
}

void source_tick(struct source *s)
{
	uint64_t v[RING_NCOUNTERS];

	if (!s->ring)
		return;
	/* an empty log never polls readable: find out by reading */
	for (int k = 0; !s->drained && !s->paused && k < 64; k++)
		if (source_read(s) <= 0)
			break;
	ring_counters(s->ring, v);
	M.bpf_seen = v[0];
	M.bpf_out = v[1];
	M.bpf_ring_full = v[2];
	M.bpf_bad = v[3];
}

void source_pause(struct source *s, bool paused)
{
	if (paused != s->paused)
		logmsg(paused ? LOG_WARNING : LOG_NOTICE, "source: reading %s",
		       paused ? "paused (spool bound or write failure)" : "resumed");
	s->paused = paused;
	M.source_paused = paused;
}

/* Learn the chain a record reveals: descriptor or checkpoint. */
static bool chain_of(const uint8_t *rec, uint32_t len, uint16_t type,
		     uint64_t *inst, uint32_t *gen)
{
	const uint8_t *pl = rec + sizeof(struct attestio_rec_hdr);

	if (type == ATTESTIO_REC_DESCRIPTOR) {
		const struct attestio_descriptor *d = (const void *)pl;

		*inst = le64toh(d->instance);
		*gen = le32toh(d->generation);
		return true;
	}
	if (type == ATTESTIO_REC_CHECKPOINT) {
		struct attestio_checkpoint cp;
		struct attestio_cp_head h;
		size_t off = sizeof(struct attestio_rec_hdr) + sizeof(cp);
		uint16_t self;

		memcpy(&cp, pl, sizeof(cp));
		self = le16toh(cp.self);
		if (off + (size_t)(self + 1) * sizeof(h) > len)
			return false;
		memcpy(&h, rec + off + self * sizeof(h), sizeof(h));
		*inst = le64toh(cp.instance);
		*gen = le32toh(h.generation);
		return true;
	}
	return false;
}

static int backfill(struct source *s, uint32_t stream, uint64_t upto);

static int one(struct source *s, const uint8_t *rec, uint32_t len)
{
	struct attestio_rec_hdr h;
	struct rec_meta m = { 0 };
	struct sstate *st;
	uint64_t inst;
	uint32_t gen;
	uint16_t type;

	memcpy(&h, rec, sizeof(h));
	type = le16toh(h.type);
	m.stream = le32toh(h.stream);
	m.seq = le64toh(h.seq);
	M.records_read++;
	if (le32toh(h.flags) & ATTESTIO_RF_UNCHAINED) {
		struct attestio_lost l;

		memcpy(&l, rec + sizeof(h), sizeof(l));
		M.records_lost_declared += le64toh(l.records);
		logmsg(LOG_WARNING, "source: the reader lost %" PRIu64
		       " records (passed on)", (uint64_t)le64toh(l.records));
		m.kind = RK_UNCHAINED;
		return spool_add(s->spool, &m, rec, len);
	}
	if (m.stream >= ATTESTIO_MAX_STREAMS)
		return 0;
	st = &s->st[m.stream];
	if (chain_of(rec, len, type, &inst, &gen) &&
	    (!st->known || st->instance != inst || st->gen != gen)) {
		bool was_unknown = !st->known;
		int64_t prev = st->last;

		st->known = true;
		st->instance = inst;
		st->gen = gen;
		if (was_unknown && prev >= 0)
			spool_resolve(s->spool, m.stream, inst, gen);
		/* what the spool already holds of this chain (a restart
		 * re-reads what the log still has) */
		st->last = spool_chain_last(s->spool, inst, m.stream, gen);
		if (was_unknown && prev > st->last)
			st->last = prev;
	}
	if (s->drained && !s->in_backfill &&
	    ((st->last >= 0 && (int64_t)m.seq > st->last + 1) ||
	     (st->last < 0 && !s->seen[m.stream] && m.seq > 0))) {
		/* the ring dropped records: read them from the log */
		if (backfill(s, m.stream, m.seq) < 0)
			return -ENOMEM;
	}
	s->seen[m.stream] = true;
	if ((st->known || s->drained) && (int64_t)m.seq <= st->last) {
		M.records_dup++;	/* already spooled (restart, backfill) */
		return 0;
	}
	if (st->last >= 0 && (int64_t)m.seq > st->last + 1)
		M.records_holes += m.seq - (uint64_t)st->last - 1;
	m.kind = st->known ? RK_CHAINED : RK_UNRESOLVED;
	m.instance = st->instance;
	m.gen = st->gen;
	/* Seqs of the chain this gateway never had and will not get: the
	 * module's log no longer holds them (reader loss, a backfill that
	 * came too late, or a log that begins after them).  Declared by
	 * seq, so that nodes excuse exactly these and wait for anything
	 * else (protocol.md, "Loss declarations"). */
	if ((int64_t)m.seq > st->last + 1 &&
	    spool_hole(s->spool, &m, (uint64_t)(st->last + 1), m.seq - 1))
		return -ENOMEM;
	st->last = (int64_t)m.seq;
	return spool_add(s->spool, &m, rec, len);
}

/* A lost record for what the log no longer holds (the module's own
 * reader-loss record, as /dev/attestio would have given it). */
static int declare_lost(struct source *s, uint32_t stream, uint64_t n)
{
	uint8_t rec[sizeof(struct attestio_rec_hdr) + sizeof(struct attestio_lost)];
	struct attestio_rec_hdr h = { 0 };
	struct attestio_lost l = { 0 };
	struct rec_meta m = { .kind = RK_UNCHAINED };
	struct timespec ts;

	h.version = htole16(ATTESTIO_REC_VERSION);
	h.type = htole16(ATTESTIO_REC_LOST);
	h.len = htole32(sizeof(rec));
	h.flags = htole32(ATTESTIO_RF_UNCHAINED);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	h.boottime_ns = htole64((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
	clock_gettime(CLOCK_REALTIME, &ts);
	h.realtime_ns = htole64((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
	l.records = htole64(n);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), &l, sizeof(l));
	M.records_lost_declared += n;
	M.records_backfill_lost += n;
	logmsg(LOG_WARNING, "source bpf: %" PRIu64 " records of stream %u were "
	       "dropped by the ring and are gone from the log: declared lost",
	       n, stream);
	return spool_add(s->spool, &m, rec, sizeof(rec));
}

/*
 * Records of @stream after the last one seen and before @upto, from the
 * log.  What it no longer holds is declared lost; records past @upto that
 * come in the same read are taken too (the ring's copies are then
 * duplicates).
 */
static int backfill(struct source *s, uint32_t stream, uint64_t upto)
{
	struct sstate *st = &s->st[stream];
	int fd = s->bf_fd[stream], ret = 0;

	if (fd < 0) {
		struct attestio_filter f = { .mask = 1ULL << stream };

		fd = open(s->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, ATTESTIO_IOC_SET_FILTER, &f)) {
			logmsg(LOG_ERR, "source bpf: backfill of stream %u: %s: %s",
			       stream, s->path, strerror(errno));
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		s->bf_fd[stream] = fd;
	}
	s->in_backfill = true;
	while (fd >= 0 && st->last + 1 < (int64_t)upto) {
		ssize_t n = read(fd, s->bfbuf, BF_BUF);
		size_t off = 0;

		if (n <= 0)
			break;		/* the log holds no more */
		while (off + sizeof(struct attestio_rec_hdr) <= (size_t)n) {
			struct attestio_rec_hdr h;
			uint32_t len;
			uint64_t seq;

			memcpy(&h, s->bfbuf + off, sizeof(h));
			len = le32toh(h.len);
			if (len < sizeof(h) || off + len > (size_t)n)
				break;	/* the module gives whole records */
			seq = le64toh(h.seq);
			/* this reader's own lost records: the seqs tell */
			if (!(le32toh(h.flags) & ATTESTIO_RF_UNCHAINED) &&
			    le32toh(h.stream) == stream && (int64_t)seq > st->last) {
				if ((int64_t)seq > st->last + 1 &&
				    declare_lost(s, stream, seq - (uint64_t)(st->last + 1)))
					ret = -ENOMEM;
				if (seq < upto)
					M.records_backfilled++;
				if (one(s, s->bfbuf + off, len))
					ret = -ENOMEM;
			}
			off += len;
		}
	}
	if (st->last + 1 < (int64_t)upto &&
	    declare_lost(s, stream, upto - (uint64_t)(st->last + 1)))
		ret = -ENOMEM;
	s->in_backfill = false;
	return ret;
}

/* A record from the BPF ring. */
static int ring_rec(void *ctx, const uint8_t *rec, uint32_t len)
{
	struct source *s = ctx;
	struct attestio_rec_hdr h;

	if (len < sizeof(h))
		goto bad;
	memcpy(&h, rec, sizeof(h));
	if (le32toh(h.len) != len || len % 8 ||
	    le16toh(h.version) != ATTESTIO_REC_VERSION)
		goto bad;
	return one(s, rec, len) < 0 ? -ENOMEM : 0;
bad:
	M.bad_records++;
	return 0;
}

/* Queue the whole records in the buffer (at most up to sync_records
 * unsynced); 1 if any. */
static int parse(struct source *s)
{
	size_t off = 0;
	int got = 0;

	while (s->have - off >= sizeof(struct attestio_rec_hdr) &&
	       spool_unsynced(s->spool) < s->c->sync_records) {
		struct attestio_rec_hdr h;
		uint32_t len;

		memcpy(&h, s->buf + off, sizeof(h));
		len = le32toh(h.len);
		if (len < sizeof(h) || len > ATTESTIO_REC_MAX_LEN || len % 8 ||
		    le16toh(h.version) != ATTESTIO_REC_VERSION) {
			/* Not a record boundary: a corrupt input.  Skip 8 bytes. */
			M.bad_records++;
			off += 8;
			continue;
		}
		if (s->have - off < len)
			break;
		if (one(s, s->buf + off, len) < 0)
			return -ENOMEM;
		off += len;
		got = 1;
	}
	memmove(s->buf, s->buf + off, s->have - off);
	s->have -= off;
	return got;
}

int source_read(struct source *s)
{
	ssize_t n;
	int got;

	if (s->bpf && s->drained) {
		if (s->paused)
			return 0;	/* the ring fills; the backfill follows */
		n = ring_consume(s->ring);
		return n < 0 ? (int)n : n > 0;
	}
	if (s->paused || s->eof || spool_unsynced(s->spool) >= s->c->sync_records)
		return 0;
	got = parse(s);		/* what an earlier read left */
	if (got)
		return got;
	n = read(s->fd, s->buf + s->have, SRC_BUF - s->have);
	if (n < 0 && errno == EAGAIN && s->bpf) {
		/* the log is read: from now on the ring */
		logmsg(LOG_NOTICE, "source bpf: the log is read; following the ring");
		close(s->fd);
		s->fd = -1;
		s->drained = true;
		return 0;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		if (s->pollable) {	/* FIFO: the writer is gone */
			s->eof = true;
			return -1;
		}
		return -1;	/* file: at its end for now */
	}
	s->have += (size_t)n;
	return parse(s);
}

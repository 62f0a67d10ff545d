// SPDX-License-Identifier: GPL-2.0
/*
 * Record source: /dev/attestio (or, for tests, any file or FIFO named by
 * source.device / ATTESTIO_DEV).  Whole records only; per-stream sequence
 * tracking: the chain (instance, generation) of each stream is learned from
 * descriptors and checkpoints, records already in the spool (a restart
 * re-reads what the module's log still holds) are skipped, holes are
 * counted.  Reader `lost` records are passed on as they are.
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
#include <unistd.h>

#include <linux/attestio.h>

#include "attestiod.h"

#define SRC_BUF		(256 * 1024)

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
};

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
	for (int i = 0; i < ATTESTIO_MAX_STREAMS; i++)
		s->st[i].last = -1;
	*sp = s;
	return 0;
}

void source_fini(struct source *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->buf);
	free(s);
}

int source_fd(const struct source *s)
{
	return s->pollable && !s->paused && !s->eof ? s->fd : -1;
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
	if (st->known && (int64_t)m.seq <= st->last) {
		M.records_dup++;	/* already spooled (restart) */
		return 0;
	}
	if (st->last >= 0 && (int64_t)m.seq > st->last + 1)
		M.records_holes += m.seq - (uint64_t)st->last - 1;
	st->last = (int64_t)m.seq;
	m.kind = st->known ? RK_CHAINED : RK_UNRESOLVED;
	m.instance = st->instance;
	m.gen = st->gen;
	return spool_add(s->spool, &m, rec, len);
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

	if (s->paused || s->eof || spool_unsynced(s->spool) >= s->c->sync_records)
		return 0;
	got = parse(s);		/* what an earlier read left */
	if (got)
		return got;
	n = read(s->fd, s->buf + s->have, SRC_BUF - s->have);
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

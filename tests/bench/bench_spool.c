// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: attestiod's spool (user/attestiod/spool.c, built in) against
 * a plain fsync'd append of the same bytes.  N records of REC bytes are
 * written in batches of B (the daemon's sync_records): the spool with
 * spool_add() x B then spool_sync() (one SQLite transaction, WAL,
 * synchronous=FULL: one fsync), the baseline with write() of the same B
 * records (one write of the batch) then fsync() on a file in the same
 * directory.  Prints one line
 * of key=value words.
 *   bench_spool DIR N REC B
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "attestiod.h"

struct metrics M;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct spool *s;
	unsigned long n, len, b;
	uint8_t *rec, *buf;
	double t0, ts, tp;
	char path[PATH_LEN];
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_spool DIR N REC B\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	len = strtoul(argv[3], NULL, 10);
	b = strtoul(argv[4], NULL, 10);
	if (!n || len < 40 || len > 8192 || !b || b > 100000) {
		fprintf(stderr, "bench_spool: bad arguments\n");
		return 2;
	}
	rec = calloc(1, len);
	if (!rec)
		return 1;
	snprintf(cfg.spool_path, sizeof(cfg.spool_path), "%s/spool.db", argv[1]);
	cfg.sync_records = (unsigned int)b;
	cfg.sync_ms = 60000;
	cfg.max_bytes = 1ull << 40;
	cfg.nnodes = 1;
	cfg.ack_quorum = 1;
	strcpy(cfg.node_ids[0], "node0");
	unlink(cfg.spool_path);
	if (spool_init(&s, &cfg)) {
		fprintf(stderr, "bench_spool: cannot open the spool\n");
		return 1;
	}
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		struct rec_meta m = { .instance = 9, .stream = (uint32_t)(i % 4),
				      .gen = 1, .seq = i / 4, .kind = RK_CHAINED };

		memcpy(rec + 16, &i, sizeof(i));	/* records differ */
		if (spool_add(s, &m, rec, len) ||
		    ((i + 1) % b == 0 && spool_sync(s))) {
			fprintf(stderr, "bench_spool: spool write failed\n");
			return 1;
		}
	}
	if (spool_sync(s))
		return 1;
	ts = now_s() - t0;
	spool_fini(s);

	snprintf(path, sizeof(path), "%s/plain.log", argv[1]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	buf = malloc(len * b);
	if (!buf)
		return 1;
	t0 = now_s();
	for (unsigned long i = 0, k = 0; i < n; i++) {
		memcpy(rec + 16, &i, sizeof(i));
		memcpy(buf + k * len, rec, len);
		if (++k == b || i + 1 == n) {	/* one write + fsync per batch */
			if (write(fd, buf, k * len) != (ssize_t)(k * len) || fsync(fd)) {
				fprintf(stderr, "bench_spool: plain write failed\n");
				return 1;
			}
			k = 0;
		}
	}
	tp = now_s() - t0;
	close(fd);
	unlink(path);
	printf("records=%lu rec_B=%lu batch=%lu spool_rec_per_s=%.0f plain_rec_per_s=%.0f ratio=%.3f\n",
	       n, len, b, (double)n / ts, (double)n / tp, tp / ts);
	free(rec);
	free(buf);
	return 0;
}

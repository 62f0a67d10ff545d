/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A progress line for long operations: `attestio verify` over a large file
 * ("\rWHAT  N records  X.X of Y.Y MiB (P%)  T s") and `attestiod --once`
 * draining its spool ("\rWHAT  N of M records (P%)  T s"), on stderr,
 * redrawn at most every PROGRESS_TICK_MS and cleared at the end.  Only
 * when both stdout and stderr are terminals and the output is not --json:
 * never in a pipe, a log or a script's capture.
 */
#ifndef ATTESTIO_CLI_PROGRESS_H
#define ATTESTIO_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PROGRESS_TICK_MS	200

struct progress {
	bool on;
	int fd;
	const char *what;
	uint64_t total;		/* bytes, 0 = unknown (a pipe) */
	struct timespec start, last;
	bool drawn;
	uint64_t last_done;	/* progress_update_records: at the last draw */
};

/* The line for @done of @total bytes (0: unknown) and @items after @ms
 * milliseconds (pure; no "\r"); returns snprintf's count. */
int progress_format(char *buf, size_t cap, const char *what, uint64_t done,
		    uint64_t total, uint64_t items, uint64_t ms);
/* On iff !@json and the output fds are terminals; @total from fstat of
 * @in_fd when it is a regular file. */
void progress_begin(struct progress *p, const char *what, int in_fd, bool json);
/* Redraw when PROGRESS_TICK_MS passed since the last draw (the first
 * call draws). */
void progress_update(struct progress *p, uint64_t done, uint64_t items);
/* The line for @done of @total records after @ms milliseconds (pure). */
int progress_format_records(char *buf, size_t cap, const char *what,
			    uint64_t done, uint64_t total, uint64_t ms);
/* Redraw as progress_update() does, with progress_format_records(); the
 * first call that reaches @total always draws. */
void progress_update_records(struct progress *p, uint64_t done, uint64_t total);
/* Clear the line (before the result is printed). */
void progress_end(struct progress *p);

#endif

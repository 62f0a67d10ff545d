// SPDX-License-Identifier: GPL-2.0
/*
 * The progress line of long operations (progress.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"

int progress_format(char *buf, size_t cap, const char *what, uint64_t done,
		    uint64_t total, uint64_t items, uint64_t ms)
{
	const double mib = 1024.0 * 1024.0;

	if (total)
		return snprintf(buf, cap, "%s  %" PRIu64 " records  %.1f of %.1f MiB "
				"(%u%%)  %" PRIu64 " s", what, items, (double)done / mib,
				(double)total / mib,
				(unsigned int)(done >= total ? 100 : done * 100 / total),
				ms / 1000);
	return snprintf(buf, cap, "%s  %" PRIu64 " records  %.1f MiB  %" PRIu64 " s",
			what, items, (double)done / mib, ms / 1000);
}

static uint64_t ms_since(const struct timespec *a, const struct timespec *b)
{
	int64_t ms = (int64_t)(b->tv_sec - a->tv_sec) * 1000 +
		     (b->tv_nsec - a->tv_nsec) / 1000000;

	return ms > 0 ? (uint64_t)ms : 0;
}

void progress_begin(struct progress *p, const char *what, int in_fd, bool json)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->fd = STDERR_FILENO;
	p->what = what;
	p->on = !json && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	if (!fstat(in_fd, &st) && S_ISREG(st.st_mode))
		p->total = (uint64_t)st.st_size;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

int progress_format_records(char *buf, size_t cap, const char *what,
			    uint64_t done, uint64_t total, uint64_t ms)
{
	return snprintf(buf, cap, "%s  %" PRIu64 " of %" PRIu64 " records (%u%%)  %"
			PRIu64 " s", what, done, total,
			(unsigned int)(!total || done >= total ? 100 : done * 100 / total),
			ms / 1000);
}

/* Is a redraw due (@force: now)?  Then @ms is the time since the start. */
static bool due(struct progress *p, bool force, uint64_t *ms)
{
	struct timespec now;

	if (!p->on)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && p->drawn && ms_since(&p->last, &now) < PROGRESS_TICK_MS)
		return false;
	p->last = now;
	*ms = ms_since(&p->start, &now);
	return true;
}

/* "\r" + the @n bytes formatted at line + 1 + "\033[K" */
static void draw(struct progress *p, char *line, size_t cap, int n)
{
	if (n <= 0)
		return;
	line[0] = '\r';
	n = n + 1 < (int)cap ? n + 1 : (int)cap - 1;
	/* "\033[K": clear what a longer earlier line left */
	if (write(p->fd, line, (size_t)n) < 0 || write(p->fd, "\033[K", 3) < 0)
		p->on = false;	/* the terminal went away */
	p->drawn = true;
}

void progress_update(struct progress *p, uint64_t done, uint64_t items)
{
	char line[160];
	uint64_t ms;

	if (due(p, false, &ms))
		draw(p, line, sizeof(line),
		     progress_format(line + 1, sizeof(line) - 1, p->what, done,
				     p->total, items, ms));
}

void progress_update_records(struct progress *p, uint64_t done, uint64_t total)
{
	char line[160];
	uint64_t ms;

	/* the end is always shown, however soon after the last draw */
	if (due(p, done >= total && done != p->last_done, &ms)) {
		p->last_done = done;
		draw(p, line, sizeof(line),
		     progress_format_records(line + 1, sizeof(line) - 1, p->what,
					     done, total, ms));
	}
}

void progress_end(struct progress *p)
{
	if (p->on && p->drawn && write(p->fd, "\r\033[K", 4) < 0)
		p->on = false;
	p->drawn = false;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the in-guest selftests: run commands, drive the emulated
 * sensors, read and write sysfs.
 */
#ifndef ATTESTIO_SELFTEST_HELPERS_H
#define ATTESTIO_SELFTEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SENSORS 8

struct sensor {
	pid_t pid;
	int n;
	char dev[MAX_SENSORS][32];
};

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run a shell command, capture up to cap-1 bytes of stdout; exit status. */
static inline int run(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[1024];
	size_t len = 0, n;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (out && len + 1 < cap &&
	       (n = fread(out + len, 1, cap - 1 - len, f)) > 0)
		len += n;
	if (out)
		out[len] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Start tests/sensors/hidsensor with @args; wait until it has printed
 * @count device names.  Returns 0 or -1 (and the sensor is stopped).
 */
static inline int sensor_start(struct sensor *s, int count, const char *args)
{
	char cmd[512], buf[512];
	long long deadline = now_ms() + 30000;
	size_t len = 0;
	int pfd[2];
	ssize_t r;
	char *nl;

	memset(s, 0, sizeof(*s));
	if (pipe(pfd))
		return -1;
	snprintf(cmd, sizeof(cmd), "exec tests/sensors/hidsensor %s", args);
	s->pid = fork();
	if (s->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (s->n < count && s->n < MAX_SENSORS) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int left = (int)(deadline - now_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		r = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += r;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			snprintf(s->dev[s->n++], sizeof(s->dev[0]), "%.31s", buf);
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len + 1);
		}
	}
	close(pfd[0]);
	if (s->n < count) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		return -1;
	}
	return 0;
}

/* SIGTERM the sensor; returns its exit status (0 when it exited cleanly). */
static inline int sensor_stop(struct sensor *s)
{
	int st;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	if (waitpid(s->pid, &st, 0) != s->pid)
		return -1;
	s->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Write @val to a sysfs file: 0 or -errno of the write. */
static inline int sysfs_write(const char *path, const char *val, size_t len)
{
	int fd = open(path, O_WRONLY);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = write(fd, val, len);
	r = r < 0 ? -errno : 0;
	close(fd);
	return (int)r;
}

static inline int sysfs_puts(const char *path, const char *val)
{
	return sysfs_write(path, val, strlen(val));
}

static inline int sysfs_gets(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read(fd, buf, cap - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = 0;
	if (r && buf[r - 1] == '\n')
		buf[r - 1] = 0;
	return 0;
}

static inline long long sysfs_ll(const char *fmt, ...)
{
	char path[256], buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (sysfs_gets(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

#endif

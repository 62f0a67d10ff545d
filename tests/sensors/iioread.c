// SPDX-License-Identifier: GPL-2.0
/*
 * iioread: a plain userspace IIO buffer reader for tests and benchmarks.
 * Enables every scan element of a device, enables its buffer, reads scans
 * from /dev/iio:deviceN and prints the first data channel's value (and
 * optionally the timestamp), or only a rate summary.  See usage().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2
#define EX_SHORT	3	/* timeout or signal before --count scans */

#define MAX_CHANNELS	64
#define READ_SCANS	4096	/* scans per read() at most */

struct chan {
	char name[128];		/* e.g. "in_temp" */
	unsigned index;
	bool be, is_signed;
	unsigned realbits, storagebits, shift, repeat;
	size_t offset, bytes;	/* in the scan; bytes = storage * repeat */
	bool timestamp;
};

static struct opts {
	uint64_t count;
	double timeout;
	unsigned buffer_len;
	unsigned watermark;
	bool timestamps, rate_only;
	const char *dev;
} o = { .timeout = 60, .buffer_len = 4096, .watermark = 1 };

static char sysdir[PATH_MAX];
static struct chan chans[MAX_CHANNELS];
static int nchans;
static size_t scan_size;
static volatile sig_atomic_t stop_sig;

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	fputs("iioread: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iioread [OPTIONS] iio:deviceN\n"
"\n"
"Enable all scan elements of the IIO device (timestamp included), set the\n"
"buffer length, enable the buffer, read scans from /dev/iio:deviceN and\n"
"print the first data channel's value, one per line: sign-extended and\n"
"shifted per its scan_elements/*_type (raw, unscaled).  The buffer is\n"
"disabled again on exit (also on SIGINT/SIGTERM).  The device may also be\n"
"given as a path ending in iio:deviceN.\n"
"\n"
"Options:\n"
"  -n, --count N        stop after N scans (default 0 = until the timeout\n"
"                       or a signal)\n"
"  -t, --timeout SEC    give up after SEC seconds in total (decimals ok;\n"
"                       default 60; 0 = never)\n"
"  -l, --buffer-len L   buffer length in scans (default 4096)\n"
"  -w, --watermark W    buffer watermark: wake up for W scans (default 1)\n"
"  -T, --timestamps     print 'VALUE TIMESTAMP_NS' per line (IIO timestamp)\n"
"  -R, --rate-only      print only one summary line at the end:\n"
"                       scans=N elapsed=S rate=R first=V last=V gaps=G\n"
"                       (elapsed: first to last scan received, monotonic\n"
"                       clock; rate=(N-1)/elapsed; gaps: steps where a value\n"
"                       is not the previous one + 1)\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 success (with --count 0: stopped by timeout or signal);\n"
"1 error (message names the file or step); 2 usage error; 3 timeout or\n"
"signal before --count scans were read (what was read is printed).\n");
}

/* ------------------------------------------------------------- sysfs i/o */

static int sysfs_path(char *buf, size_t len, const char *rel)
{
	if (snprintf(buf, len, "%s/%s", sysdir, rel) >= (int)len) {
		err("path too long: %s/%s", sysdir, rel);
		return -1;
	}
	return 0;
}

static int read_attr(const char *rel, char *buf, size_t len)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	if (sysfs_path(p, sizeof(p), rel))
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err("cannot open %s: %s", p, strerror(errno));
		return -1;
	}
	n = read(fd, buf, len - 1);
	if (n < 0) {
		err("cannot read %s: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_attr(const char *rel, const char *val, bool quiet)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	if (sysfs_path(p, sizeof(p), rel))
		return -1;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!quiet)
			err("cannot open %s: %s", p, strerror(errno));
		return -1;
	}
	n = write(fd, val, strlen(val));
	if (n < 0) {
		int e = errno;

		if (!quiet)
			err("writing '%s' to %s failed: %s", val, p, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* ------------------------------------------------------- scan elements */

/* Parse "le:s32/32>>0", "be:u12/16>>4", "le:s16/16X3>>0". */
static int parse_type(struct chan *c, const char *type)
{
	const char *t = type;
	char endian[3], sign;
	int n = 0;

	if (sscanf(t, "%2[bl]e:%c%u/%u%n", endian, &sign, &c->realbits,
		   &c->storagebits, &n) != 4)
		goto bad;
	c->be = endian[0] == 'b';
	if (sign != 's' && sign != 'u')
		goto bad;
	c->is_signed = sign == 's';
	t += n;
	c->repeat = 1;
	if (*t == 'X') {
		if (sscanf(t, "X%u%n", &c->repeat, &n) != 1 || !c->repeat)
			goto bad;
		t += n;
	}
	if (sscanf(t, ">>%u%n", &c->shift, &n) != 1 || t[n])
		goto bad;
	if (c->storagebits != 8 && c->storagebits != 16 &&
	    c->storagebits != 32 && c->storagebits != 64)
		goto bad;
	if (!c->realbits || c->realbits > c->storagebits ||
	    c->shift >= c->storagebits)
		goto bad;
	return 0;
bad:
	err("%s/scan_elements/%s_type: cannot parse type '%s'", sysdir, c->name,
	    type);
	return -1;
}

static int cmp_chan(const void *a, const void *b)
{
	const struct chan *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int setup_scan_elements(void)
{
	char p[PATH_MAX], rel[PATH_MAX], buf[128];
	struct dirent *de;
	size_t largest = 1;
	DIR *dir;

	if (sysfs_path(p, sizeof(p), "scan_elements"))
		return -1;
	dir = opendir(p);
	if (!dir) {
		err("cannot open %s: %s (device has no buffer support?)", p,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		struct chan *c;

		if (l < 4 || strcmp(de->d_name + l - 3, "_en"))
			continue;
		if (nchans == MAX_CHANNELS) {
			err("%s: more than %d channels", p, MAX_CHANNELS);
			goto fail;
		}
		c = &chans[nchans++];
		memset(c, 0, sizeof(*c));
		if (l - 3 >= sizeof(c->name)) {
			err("%s/%s: name too long", p, de->d_name);
			goto fail;
		}
		memcpy(c->name, de->d_name, l - 3);
		c->timestamp = !strcmp(c->name, "in_timestamp");

		snprintf(rel, sizeof(rel), "scan_elements/%s_en", c->name);
		if (write_attr(rel, "1", false))
			goto fail;
		snprintf(rel, sizeof(rel), "scan_elements/%s_index", c->name);
		if (read_attr(rel, buf, sizeof(buf)))
			goto fail;
		c->index = (unsigned)strtoul(buf, NULL, 10);
		snprintf(rel, sizeof(rel), "scan_elements/%s_type", c->name);
		if (read_attr(rel, buf, sizeof(buf)) || parse_type(c, buf))
			goto fail;
	}
	closedir(dir);
	if (!nchans) {
		err("%s: no scan elements", p);
		return -1;
	}
	qsort(chans, nchans, sizeof(chans[0]), cmp_chan);

	/* Same layout rule as the IIO core: natural alignment of each
	 * element (storage bytes * repeat), total aligned to the largest. */
	for (int i = 0; i < nchans; i++) {
		struct chan *c = &chans[i];

		c->bytes = c->storagebits / 8 * c->repeat;
		scan_size = (scan_size + c->bytes - 1) / c->bytes * c->bytes;
		c->offset = scan_size;
		scan_size += c->bytes;
		if (c->bytes > largest)
			largest = c->bytes;
	}
	scan_size = (scan_size + largest - 1) / largest * largest;
	return 0;
fail:
	closedir(dir);
	return -1;
}

static int64_t chan_value(const struct chan *c, const uint8_t *scan)
{
	const uint8_t *p = scan + c->offset;
	uint64_t v = 0;
	unsigned nb = c->storagebits / 8;

	for (unsigned i = 0; i < nb; i++) {
		unsigned b = c->be ? i : nb - 1 - i;

		v = (v << 8) | p[b];
	}
	v >>= c->shift;
	if (c->realbits < 64) {
		v &= (UINT64_C(1) << c->realbits) - 1;
		if (c->is_signed && (v >> (c->realbits - 1)) & 1)
			v |= ~((UINT64_C(1) << c->realbits) - 1);
	}
	return c->is_signed ? (int64_t)v : (int64_t)(v & INT64_MAX);
}

/* -------------------------------------------------------------- options */

static int parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "buffer-len", required_argument, NULL, 'l' },
		{ "watermark", required_argument, NULL, 'w' },
		{ "timestamps", no_argument, NULL, 'T' },
		{ "rate-only", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "n:t:l:w:TRh", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				err("--count: '%s' is not a count >= 0", optarg);
				return -1;
			}
			o.count = v;
			break;
		case 't':
			errno = 0;
			o.timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o.timeout >= 0) ||
			    o.timeout > 1e7) {
				err("--timeout: '%s' is not a number of seconds >= 0",
				    optarg);
				return -1;
			}
			break;
		case 'l':
		case 'w':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    !v || v > 1u << 24) {
				err("--%s: '%s' is not in 1..%u",
				    c == 'l' ? "buffer-len" : "watermark", optarg,
				    1u << 24);
				return -1;
			}
			if (c == 'l')
				o.buffer_len = (unsigned)v;
			else
				o.watermark = (unsigned)v;
			break;
		case 'T':
			o.timestamps = true;
			break;
		case 'R':
			o.rate_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			return -1;
		}
	}
	if (optind != argc - 1) {
		err(optind < argc ? "exactly one device expected" : "no device given");
		return -1;
	}
	o.dev = strrchr(argv[optind], '/');
	o.dev = o.dev ? o.dev + 1 : argv[optind];
	if (strncmp(o.dev, "iio:device", 10) || !o.dev[10] ||
	    strspn(o.dev + 10, "0123456789") != strlen(o.dev + 10)) {
		err("'%s' is not an IIO device name like iio:device0", argv[optind]);
		return -1;
	}
	if (o.watermark > o.buffer_len) {
		err("--watermark %u is larger than --buffer-len %u", o.watermark,
		    o.buffer_len);
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Make sure a trigger is selected (HID sensors preset their own). */
static int ensure_trigger(void)
{
	char cur[128], name[128], p[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	if (read_attr("trigger/current_trigger", cur, sizeof(cur)))
		return 0;	/* no trigger support: not a triggered buffer */
	if (cur[0])
		return 0;
	if (read_attr("name", name, sizeof(name)))
		return -1;
	dir = opendir("/sys/bus/iio/devices");
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char tname[128], want[160];
		FILE *f;

		if (strncmp(de->d_name, "trigger", 7))
			continue;
		snprintf(p, sizeof(p), "/sys/bus/iio/devices/%.64s/name", de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (!fgets(tname, sizeof(tname), f))
			tname[0] = '\0';
		fclose(f);
		tname[strcspn(tname, "\n")] = '\0';
		snprintf(want, sizeof(want), "%s-dev%s", name, o.dev + 10);
		if (!strcmp(tname, want)) {
			closedir(dir);
			return write_attr("trigger/current_trigger", tname, false);
		}
	}
	closedir(dir);
	return 0;	/* let enabling report the problem */
}

int main(int argc, char **argv)
{
	char buf[64], devnode[PATH_MAX];
	const struct chan *data = NULL, *ts = NULL;
	uint64_t got = 0, gaps = 0;
	int64_t first = 0, last = 0;
	double t_start, t_first = 0, t_last = 0;
	uint8_t *rbuf = NULL;
	bool enabled = false, timed_out = false;
	struct sigaction sa;
	int fd = -1, rc = EX_FAIL;

	if (parse_args(argc, argv)) {
		fprintf(stderr, "Try 'iioread --help'.\n");
		return EX_USAGE;
	}
	snprintf(sysdir, sizeof(sysdir), "/sys/bus/iio/devices/%s", o.dev);
	snprintf(devnode, sizeof(devnode), "/dev/%s", o.dev);
	if (access(sysdir, F_OK)) {
		err("no IIO device %s (%s: %s)", o.dev, sysdir, strerror(errno));
		return EX_FAIL;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: interrupt poll/read */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (read_attr("buffer/enable", buf, sizeof(buf)))
		return EX_FAIL;
	if (!strcmp(buf, "1")) {
		err("the buffer of %s is already enabled (another reader running, "
		    "or one that died? write 0 to %s/buffer/enable)", o.dev, sysdir);
		return EX_FAIL;
	}
	if (setup_scan_elements())
		return EX_FAIL;
	for (int i = 0; i < nchans; i++) {
		if (chans[i].timestamp && !ts)
			ts = &chans[i];
		if (!chans[i].timestamp && !data)
			data = &chans[i];
	}
	if (!data) {
		err("%s has no data channel, only a timestamp", o.dev);
		return EX_FAIL;
	}
	if (o.timestamps && !ts) {
		err("--timestamps: %s has no in_timestamp scan element", o.dev);
		return EX_FAIL;
	}

	snprintf(buf, sizeof(buf), "%u", o.buffer_len);
	if (write_attr("buffer/length", buf, false))
		return EX_FAIL;
	snprintf(buf, sizeof(buf), "%u", o.watermark);
	if (write_attr("buffer/watermark", buf, true) && o.watermark != 1) {
		err("cannot set buffer/watermark to %u: %s", o.watermark, strerror(errno));
		return EX_FAIL;
	}
	if (ensure_trigger())
		return EX_FAIL;

	fd = open(devnode, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err("cannot open %s: %s%s", devnode, strerror(errno),
		    errno == ENOENT ? " (no devtmpfs on /dev?)" : "");
		return EX_FAIL;
	}
	rbuf = malloc(scan_size * READ_SCANS);
	if (!rbuf) {
		err("out of memory");
		goto out;
	}

	t_start = mono();
	if (write_attr("buffer/enable", "1", true)) {
		err("enabling the buffer of %s failed: %s%s", o.dev, strerror(errno),
		    errno == EBUSY ? " (in use by another reader?)" :
		    errno == EINVAL ? " (no trigger selected, or bad scan mask?)" : "");
		goto out;
	}
	enabled = true;

	if (!o.rate_only)
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	while (!stop_sig && (!o.count || got < o.count)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int tmo = -1, n;
		size_t want = READ_SCANS;
		ssize_t r;

		if (o.timeout > 0) {
			double left = o.timeout - (mono() - t_start);

			if (left <= 0) {
				timed_out = true;
				break;
			}
			tmo = (int)(left * 1000) + 1;
		}
		/* poll() waits for a full watermark (the last scans may be
		 * fewer) and never wakes up for a removed device: read anyway
		 * every 20 ms (watermark > 1) or 250 ms. */
		if (tmo < 0 || tmo > (o.watermark > 1 ? 20 : 250))
			tmo = o.watermark > 1 ? 20 : 250;
		n = poll(&pfd, 1, tmo);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err("poll %s: %s", devnode, strerror(errno));
			goto out;
		}
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			err("%s: device gone (poll revents 0x%x)", devnode, pfd.revents);
			goto out;
		}
		if (o.count && o.count - got < want)
			want = o.count - got;
		r = read(fd, rbuf, want * scan_size);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENODEV) {
				err("%s was removed after %" PRIu64 " scans", o.dev, got);
				enabled = false;	/* nothing left to disable */
			} else {
				err("read %s: %s", devnode, strerror(errno));
			}
			goto out;
		}
		if (r % scan_size) {
			err("read %s: %zd bytes is not a multiple of the scan size %zu",
			    devnode, r, scan_size);
			goto out;
		}
		if (r > 0) {
			double now = mono();

			if (!got)
				t_first = now;
			t_last = now;
		}
		for (size_t off = 0; off < (size_t)r; off += scan_size) {
			int64_t v = chan_value(data, rbuf + off);

			if (got && v != last + 1)
				gaps++;
			if (!got)
				first = v;
			last = v;
			got++;
			if (o.rate_only)
				continue;
			if (o.timestamps)
				printf("%" PRId64 " %" PRId64 "\n", v,
				       chan_value(ts, rbuf + off));
			else
				printf("%" PRId64 "\n", v);
		}
		if (!o.rate_only)
			fflush(stdout);
	}

	if (o.count && got < o.count) {
		err("%s after %" PRIu64 " of %" PRIu64 " scans",
		    timed_out ? "timeout" : "interrupted", got, o.count);
		rc = EX_SHORT;
	} else {
		rc = EX_OK;
	}
	if (o.rate_only) {
		double el = got > 1 ? t_last - t_first : 0;

		printf("scans=%" PRIu64 " elapsed=%.3f rate=%.1f first=%" PRId64
		       " last=%" PRId64 " gaps=%" PRIu64 "\n", got, el,
		       el > 0 ? (got - 1) / el : 0.0, first, last, gaps);
	}
	fflush(stdout);
out:
	if (enabled && write_attr("buffer/enable", "0", false) && rc == EX_OK)
		rc = EX_FAIL;
	if (fd >= 0)
		close(fd);
	free(rbuf);
	return rc;
}

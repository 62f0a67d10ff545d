// SPDX-License-Identifier: GPL-2.0
/*
 * hidsensor: emulate HID sensor hubs through /dev/uhid so that the kernel's
 * own hid-sensor-hub + hid-sensor-temperature / hid-sensor-press drivers bind
 * and register real IIO devices with triggered buffers.  Run it inside the
 * test VM (tests/vm/run); see usage() for the options and exit codes.
 *
 * The emulated hub behaves like a real one: it answers GET_REPORT and
 * SET_REPORT, remembers Power State, Reporting State, Report Interval and
 * Change Sensitivity as the driver sets them, and produces samples only
 * while the host has the device open, powered to D0 and reporting all
 * events.  Samples are therefore never sent before the driver asks for
 * them (i.e. before a buffer is enabled), and the value sequence never
 * skips: a pause (power off) resumes where it stopped.
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/input.h>
#include <linux/uhid.h>

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

/* Instance i adds i * INSTANCE_OFFSET to every value it sends. */
#define INSTANCE_OFFSET	1000000
#define MAX_INSTANCES	64
/* At most this many input reports per device before servicing events. */
#define BURST_MAX	256
#define DISCOVER_TIMEOUT_S 60

/* Feature report 1 and input report 2, see build_descriptor(). */
#define FEATURE_ID	1
#define INPUT_ID	2
#define FEATURE_LEN	9	/* id, rep state, power, interval(4), sens(2) */
#define INPUT_LEN	5	/* id, value(4) */
#define INPUT_LEN_TS	13	/* id, value(4), timestamp(8) */

/*
 * Enum values as they appear in the feature report: the array fields have
 * Logical Minimum 1, so value v selects the (v-1)th usage of the list
 * (the kernel writes usage index + 1).
 */
enum { REP_NO_EVENTS = 1, REP_ALL_EVENTS, REP_THRESHOLD, REP_NO_EVENTS_WAKE,
	REP_ALL_EVENTS_WAKE, REP_THRESHOLD_WAKE };
enum { PWR_UNDEFINED = 1, PWR_D0, PWR_D1, PWR_D2, PWR_D3, PWR_D4 };

static const char *const rep_names[] = { "?", "no-events", "all-events",
	"threshold", "no-events-wake", "all-events-wake", "threshold-wake" };
static const char *const pwr_names[] = { "?", "undefined", "D0-full-power",
	"D1-low-power", "D2-standby-wake", "D3-sleep-wake", "D4-power-off" };

struct kind {
	const char *name;
	uint8_t sensor_usage;		/* page 0x20 */
	uint16_t data_usage;		/* page 0x20 */
	uint8_t unit_exponent;		/* HID 4-bit two's complement */
	uint32_t product;
	const char *module;
};

static const struct kind kinds[] = {
	/* 0x200033 Temperature, 0x200434 Environmental Temperature, 10^-2 */
	{ "temperature", 0x33, 0x0434, 0x0e, 0x0001, "hid-sensor-temperature" },
	/* 0x200031 Pressure, 0x200431 Atmospheric Pressure, 10^-5 */
	{ "pressure", 0x31, 0x0431, 0x0b, 0x0002, "hid-sensor-press" },
};

struct dev {
	int idx;
	int fd;			/* /dev/uhid */
	int tfd;		/* timerfd for the sample deadlines */
	char uniq[64];
	char iio[64];		/* "iio:deviceN" once discovered */
	bool started, opened;
	/* feature report state, as raw report values */
	uint8_t rep_state, power;
	uint32_t interval_ms;
	uint16_t sensitivity;
	bool active;		/* opened && D0 && all events */
	uint64_t sent;		/* samples produced so far */
	/* timeline of the current active period: sample k at t0 + k/rate */
	int64_t t0;
	uint64_t k;
};

static struct opts {
	const struct kind *kind;
	uint64_t rate_mhz;	/* rate in milli-Hz */
	uint64_t count;		/* 0: forever (or: to the end of --values) */
	int32_t start;
	const char *values_file;
	int32_t *values;
	size_t nvalues;
	int instances;
	bool modprobe;
	bool follow_interval;
	bool hw_timestamp;
	int verbose;
} o;

static struct dev devs[MAX_INSTANCES];
static uint8_t rdesc[256];
static size_t rdesc_len;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("hidsensor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define vlog(lvl, ...) do { if (o.verbose >= (lvl)) logmsg(__VA_ARGS__); } while (0)

static void usage(FILE *f)
{
	fprintf(f,
"Usage: hidsensor [OPTIONS]\n"
"\n"
"Create emulated HID sensor hubs through /dev/uhid so that the kernel's\n"
"hid-sensor-hub and hid-sensor-temperature / hid-sensor-press drivers bind\n"
"and register real IIO devices (with a triggered buffer).  Once all devices\n"
"exist, print their IIO names (\"iio:deviceN\"), one per line in instance\n"
"order, on stdout, then keep running until SIGTERM/SIGINT, which destroys\n"
"the devices.  Diagnostics go to stderr.  Needs root and the uhid module.\n"
"\n"
"A device produces samples only while the driver has it open, in power\n"
"state D0 and reporting all events, i.e. while an IIO buffer (or an\n"
"in-kernel consumer, or a read of in_*_raw) keeps it powered: the first\n"
"consumer to power it up gets the first value, and values never skip;\n"
"after a power-off the sequence resumes where it stopped.  Note that the\n"
"driver powers off only 3 s (runtime-PM autosuspend) after the last\n"
"consumer leaves; samples sent meanwhile reach no buffer.\n"
"\n"
"Options:\n"
"  -k, --kind KIND      temperature (default) or pressure\n"
"  -r, --rate HZ        samples per second per device while active\n"
"                       (default 100; decimals allowed; up to 1000000);\n"
"                       absolute deadlines, late samples are caught up\n"
"  -n, --count N        stop sending after N samples per device, but keep\n"
"                       the device present until killed; 0 = no limit\n"
"                       (default 0)\n"
"  -s, --start V        ramp of raw values V, V+1, V+2, ... (default 0)\n"
"  -f, --values FILE    send the raw integers of FILE (one per line; blank\n"
"                       lines and lines starting with '#' are ignored) in\n"
"                       order, once; the device stops sending after the\n"
"                       last one (or after --count N if that is smaller)\n"
"  -i, --instances K    create K independent hubs (default 1, max %d;\n"
"                       more than 1 only with --kind pressure: the kernel's\n"
"                       hid-sensor-temperature cannot run two devices);\n"
"                       instance i (0-based) adds i*%d to every value\n"
"                       it sends (ramp: V+i*%d, V+i*%d+1, ...; file:\n"
"                       value+i*%d); values wrap modulo 2^32 (s32)\n"
"      --follow-interval  when the driver writes Report Interval (e.g.\n"
"                       in_*_sampling_frequency), use 1000/interval Hz\n"
"                       instead of --rate\n"
"      --hw-timestamp   add a HID Timestamp (0x529, 8 bytes, units of 10 ns,\n"
"                       CLOCK_REALTIME when sent) to the input report;\n"
"                       hid-sensor-press then uses it as the IIO timestamp\n"
"                       (without it, hid-sensor-press repeats the first\n"
"                       sample's timestamp forever: a driver bug);\n"
"                       hid-sensor-temperature ignores it\n"
"      --no-modprobe    do not run modprobe (by default the program runs\n"
"                       'modprobe -a hid uhid hid-sensor-hub ... <driver>',\n"
"                       as no udev autoloads modules in the test VM)\n"
"  -v, --verbose        log state changes (-vv: every report request)\n"
"  -h, --help           this help\n"
"\n"
"Emulated device: HID descriptor with a Physical collection on usage page\n"
"0x20 (0x33 temperature / 0x31 pressure); feature report 1 = Reporting\n"
"State (0x316), Power State (0x319), Report Interval (0x30E, ms, initially\n"
"round(1000/rate), at least 1), Change Sensitivity Absolute (0x30F);\n"
"input report 2 = one s32 (0x434 temperature, unit exponent -2: raw in\n"
"0.01 degC, IIO scale 10 -> milli degC; 0x431 pressure, exponent -5: raw in\n"
"Pa, IIO scale 0.001 -> kPa).  A GET_REPORT of the input report produces\n"
"the next sample (it counts towards --count; once the samples are used\n"
"up it repeats the last value).\n"
"\n"
"Exit status: 0 on SIGTERM/SIGINT after destroying the devices; 1 on a\n"
"runtime error (no /dev/uhid, device creation failed, IIO device did not\n"
"appear within %d s, ...); 2 on a usage error.\n",
	MAX_INSTANCES, INSTANCE_OFFSET, INSTANCE_OFFSET, INSTANCE_OFFSET,
	INSTANCE_OFFSET, DISCOVER_TIMEOUT_S);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- options */

static bool parse_s64(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_rate(const char *s, uint64_t *mhz)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0.001) || d > 1000000.0)
		return false;
	*mhz = (uint64_t)(d * 1000.0 + 0.5);
	return *mhz > 0;
}

static int load_values(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t cap = 0;
	unsigned lineno = 0;

	if (!f) {
		logmsg("--values %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;
		long long v;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			logmsg("%s:%u: line too long", path, lineno);
			goto fail;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
				 e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!*p || *p == '#')
			continue;
		if (!parse_s64(p, INT32_MIN, INT32_MAX, &v)) {
			logmsg("%s:%u: not an integer in the s32 range: '%s'",
			       path, lineno, p);
			goto fail;
		}
		if (o.nvalues == cap) {
			int32_t *n;

			cap = cap ? cap * 2 : 1024;
			n = realloc(o.values, cap * sizeof(*n));
			if (!n) {
				logmsg("out of memory");
				goto fail;
			}
			o.values = n;
		}
		o.values[o.nvalues++] = (int32_t)v;
	}
	if (ferror(f)) {
		logmsg("--values %s: read error", path);
		goto fail;
	}
	fclose(f);
	if (!o.nvalues) {
		logmsg("--values %s: no values", path);
		return -1;
	}
	return 0;
fail:
	fclose(f);
	return -1;
}

static int parse_args(int argc, char **argv)
{
	enum { OPT_NO_MODPROBE = 256, OPT_FOLLOW, OPT_HW_TS };
	static const struct option lopts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "start", required_argument, NULL, 's' },
		{ "values", required_argument, NULL, 'f' },
		{ "instances", required_argument, NULL, 'i' },
		{ "follow-interval", no_argument, NULL, OPT_FOLLOW },
		{ "no-modprobe", no_argument, NULL, OPT_NO_MODPROBE },
		{ "hw-timestamp", no_argument, NULL, OPT_HW_TS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long long v;
	int c;

	o.kind = &kinds[0];
	o.rate_mhz = 100000;
	o.instances = 1;
	o.modprobe = true;

	while ((c = getopt_long(argc, argv, "k:r:n:s:f:i:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.kind = NULL;
			for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
				if (!strcmp(optarg, kinds[i].name))
					o.kind = &kinds[i];
			if (!o.kind) {
				logmsg("--kind: unknown kind '%s' (temperature, pressure)",
				       optarg);
				return -1;
			}
			break;
		case 'r':
			if (!parse_rate(optarg, &o.rate_mhz)) {
				logmsg("--rate: '%s' is not a rate in 0.001..1000000 Hz",
				       optarg);
				return -1;
			}
			break;
		case 'n':
			if (!parse_s64(optarg, 0, LLONG_MAX, &v)) {
				logmsg("--count: '%s' is not a count >= 0", optarg);
				return -1;
			}
			o.count = (uint64_t)v;
			break;
		case 's':
			if (!parse_s64(optarg, INT32_MIN, INT32_MAX, &v)) {
				logmsg("--start: '%s' is not an integer in the s32 range",
				       optarg);
				return -1;
			}
			o.start = (int32_t)v;
			break;
		case 'f':
			o.values_file = optarg;
			break;
		case 'i':
			if (!parse_s64(optarg, 1, MAX_INSTANCES, &v)) {
				logmsg("--instances: '%s' is not in 1..%d", optarg,
				       MAX_INSTANCES);
				return -1;
			}
			o.instances = (int)v;
			break;
		case OPT_FOLLOW:
			o.follow_interval = true;
			break;
		case OPT_HW_TS:
			o.hw_timestamp = true;
			break;
		case OPT_NO_MODPROBE:
			o.modprobe = false;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		logmsg("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o.values_file && load_values(o.values_file))
		return -1;
	if (o.kind == &kinds[0] && o.instances > 1) {
		logmsg("--kind temperature supports one instance only: the kernel's\n"
		       "  hid-sensor-temperature keeps its callbacks in one static struct,\n"
		       "  so every hub's samples go to the last-probed IIO device (and a\n"
		       "  removed one leaves a dangling pointer); use --kind pressure");
		return -1;
	}
	return 0;
}

/* Warn if another temperature IIO device exists (see parse_args()). */
static void check_other_temperature(void)
{
	struct dirent *de;
	DIR *dir;

	if (o.kind != &kinds[0])
		return;
	dir = opendir("/sys/bus/iio/devices");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char p[PATH_MAX], name[64] = "";
		FILE *f;

		if (strncmp(de->d_name, "iio:device", 10))
			continue;
		if (snprintf(p, sizeof(p), "/sys/bus/iio/devices/%s/name",
			     de->d_name) >= (int)sizeof(p))
			continue;
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strcmp(name, "temperature\n"))
			logmsg("warning: %s is already a temperature device: with two,\n"
			       "  hid-sensor-temperature routes all samples to the last one\n"
			       "  probed, and removing that one first may crash the kernel",
			       de->d_name);
		fclose(f);
	}
	closedir(dir);
}

/* --------------------------------------------------------------- modprobe */

static int run_modprobe(const char *const *mods, size_t n)
{
	const char *argv[20];
	size_t a = 0;
	pid_t pid;
	int st;

	argv[a++] = "modprobe";
	argv[a++] = "-q";
	argv[a++] = "-a";
	for (size_t i = 0; i < n && a < 19; i++)
		argv[a++] = mods[i];
	argv[a] = NULL;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp("modprobe", (char *const *)argv);
		execv("/sbin/modprobe", (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void ensure_modules(void)
{
	const char *mods[] = { "hid", "uhid", "hid-sensor-hub", "industrialio",
		"kfifo_buf", "industrialio-triggered-buffer",
		"hid-sensor-iio-common", "hid-sensor-trigger", o.kind->module };
	size_t n = sizeof(mods) / sizeof(mods[0]);
	int rc = run_modprobe(mods, n);

	if (rc == 0)
		return;
	if (rc == 127) {
		logmsg("warning: cannot run modprobe; assuming the modules are loaded");
		return;
	}
	/* Find out which one failed, for a clear message. */
	for (size_t i = 0; i < n; i++)
		if (run_modprobe(&mods[i], 1))
			logmsg("warning: modprobe %s failed", mods[i]);
}

/* ------------------------------------------------------------- descriptor */

static void rd(int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		rdesc[rdesc_len++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}

static void rd_usage16(uint16_t u)
{
	rd(3, 0x0a, u & 0xff, u >> 8);
}

static void build_descriptor(const struct kind *k)
{
	rdesc_len = 0;
	rd(2, 0x05, 0x20);			/* Usage Page (Sensor) */
	rd(2, 0x09, k->sensor_usage);		/* Usage (sensor type) */
	rd(2, 0xa1, 0x00);			/* Collection (Physical) */

	rd(2, 0x85, FEATURE_ID);		/*   Report ID */
	rd_usage16(0x0316);			/*   Usage (Reporting State) */
	rd(2, 0xa1, 0x02);			/*   Collection (Logical) */
	for (uint16_t u = 0x0840; u <= 0x0845; u++)
		rd_usage16(u);			/*     No/All/Threshold(+Wake) */
	rd(2, 0x15, 0x01);			/*     Logical Minimum (1) */
	rd(2, 0x25, 0x06);			/*     Logical Maximum (6) */
	rd(2, 0x75, 0x08);			/*     Report Size (8) */
	rd(2, 0x95, 0x01);			/*     Report Count (1) */
	rd(2, 0xb1, 0x00);			/*     Feature (Data,Array,Abs) */
	rd(1, 0xc0);				/*   End Collection */

	rd_usage16(0x0319);			/*   Usage (Power State) */
	rd(2, 0xa1, 0x02);			/*   Collection (Logical) */
	for (uint16_t u = 0x0850; u <= 0x0855; u++)
		rd_usage16(u);			/*     Undefined, D0 .. D4 */
	rd(2, 0x15, 0x01);			/*     Logical Minimum (1) */
	rd(2, 0x25, 0x06);			/*     Logical Maximum (6) */
	rd(2, 0x75, 0x08);			/*     Report Size (8) */
	rd(2, 0x95, 0x01);			/*     Report Count (1) */
	rd(2, 0xb1, 0x00);			/*     Feature (Data,Array,Abs) */
	rd(1, 0xc0);				/*   End Collection */

	rd_usage16(0x030e);			/*   Usage (Report Interval) */
	rd(2, 0x15, 0x00);			/*   Logical Minimum (0) */
	rd(5, 0x27, 0xff, 0xff, 0xff, 0x7f);	/*   Logical Maximum (2^31-1) */
	rd(2, 0x75, 0x20);			/*   Report Size (32) */
	rd(2, 0x95, 0x01);			/*   Report Count (1) */
	rd(2, 0x55, 0x00);			/*   Unit Exponent (0): ms */
	rd(2, 0xb1, 0x02);			/*   Feature (Data,Var,Abs) */

	rd_usage16(0x030f);			/*   Usage (Change Sens. Abs) */
	rd(2, 0x15, 0x00);			/*   Logical Minimum (0) */
	rd(5, 0x27, 0xff, 0xff, 0x00, 0x00);	/*   Logical Maximum (65535) */
	rd(2, 0x75, 0x10);			/*   Report Size (16) */
	rd(2, 0x95, 0x01);			/*   Report Count (1) */
	rd(2, 0x55, k->unit_exponent);		/*   Unit Exponent */
	rd(2, 0xb1, 0x02);			/*   Feature (Data,Var,Abs) */

	rd(2, 0x85, INPUT_ID);			/*   Report ID */
	rd_usage16(k->data_usage);		/*   Usage (data field) */
	rd(5, 0x17, 0x00, 0x00, 0x00, 0x80);	/*   Logical Minimum (-2^31) */
	rd(5, 0x27, 0xff, 0xff, 0xff, 0x7f);	/*   Logical Maximum (2^31-1) */
	rd(2, 0x75, 0x20);			/*   Report Size (32) */
	rd(2, 0x95, 0x01);			/*   Report Count (1) */
	rd(2, 0x55, k->unit_exponent);		/*   Unit Exponent */
	rd(2, 0x81, 0x02);			/*   Input (Data,Var,Abs) */
	if (o.hw_timestamp) {
		rd_usage16(0x0529);		/*   Usage (Timestamp) */
		rd(2, 0x15, 0x00);		/*   Logical Minimum (0) */
		rd(3, 0x26, 0xff, 0x00);	/*   Logical Maximum (255) */
		rd(2, 0x75, 0x08);		/*   Report Size (8) */
		rd(2, 0x95, 0x08);		/*   Report Count (8) */
		rd(2, 0x55, 0x08);		/*   Unit Exponent (-8) */
		rd(2, 0x81, 0x02);		/*   Input (Data,Var,Abs) */
	}
	rd(1, 0xc0);				/* End Collection */
}

/* ------------------------------------------------------------------ uhid */

static int uhid_write(struct dev *d, const struct uhid_event *ev, size_t len)
{
	ssize_t r;

	do
		r = write(d->fd, ev, len);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		logmsg("instance %d: uhid write (event %u): %s", d->idx,
		       ev->type, strerror(errno));
		return -1;
	}
	return 0;
}

static int create_dev(struct dev *d)
{
	struct uhid_event ev;

	d->fd = open("/dev/uhid", O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		logmsg("cannot open /dev/uhid: %s%s", strerror(errno),
		       errno == ENOENT ? " (uhid module not loaded or no devtmpfs on /dev?)" : "");
		return -1;
	}
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->tfd < 0) {
		logmsg("timerfd_create: %s", strerror(errno));
		return -1;
	}
	snprintf(d->uniq, sizeof(d->uniq), "hidsensor-%d-%d", (int)getpid(), d->idx);
	d->rep_state = REP_NO_EVENTS;
	d->power = PWR_D4;
	{
		uint64_t ms = (1000000 + o.rate_mhz / 2) / o.rate_mhz;

		d->interval_ms = ms ? (uint32_t)ms : 1;
	}

	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_CREATE2;
	snprintf((char *)ev.u.create2.name, sizeof(ev.u.create2.name),
		 "attestio emulated %s sensor %d", o.kind->name, d->idx);
	snprintf((char *)ev.u.create2.phys, sizeof(ev.u.create2.phys),
		 "hidsensor/%d", d->idx);
	snprintf((char *)ev.u.create2.uniq, sizeof(ev.u.create2.uniq), "%s", d->uniq);
	ev.u.create2.rd_size = (uint16_t)rdesc_len;
	ev.u.create2.bus = BUS_VIRTUAL;
	ev.u.create2.vendor = 0x1209;	/* pid.codes */
	ev.u.create2.product = o.kind->product;
	ev.u.create2.version = 1;
	memcpy(ev.u.create2.rd_data, rdesc, rdesc_len);
	return uhid_write(d, &ev, sizeof(ev));
}

static void destroy_dev(struct dev *d)
{
	struct uhid_event ev;

	if (d->fd < 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_DESTROY;
	uhid_write(d, &ev, offsetof(struct uhid_event, u));
	close(d->fd);
	d->fd = -1;
}

static int32_t sample_value(const struct dev *d, uint64_t k)
{
	uint32_t base;

	if (o.values)
		base = (uint32_t)o.values[k];
	else
		base = (uint32_t)o.start + (uint32_t)k;
	return (int32_t)(base + (uint32_t)d->idx * INSTANCE_OFFSET);
}

/* How many samples this device may still produce (UINT64_MAX: unlimited). */
static uint64_t sample_limit(void)
{
	uint64_t lim = o.count ? o.count : UINT64_MAX;

	if (o.values && o.nvalues < lim)
		lim = o.nvalues;
	return lim;
}

/* Input report 2 with value v; returns its length. */
static uint16_t fill_input(uint8_t *buf, int32_t v)
{
	buf[0] = INPUT_ID;
	memcpy(&buf[1], &v, 4);			/* x86: little endian */
	if (o.hw_timestamp) {
		struct timespec ts;
		uint64_t t;

		clock_gettime(CLOCK_REALTIME, &ts);
		t = ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec) / 10;
		memcpy(&buf[5], &t, 8);
		return INPUT_LEN_TS;
	}
	return INPUT_LEN;
}

static int send_sample(struct dev *d)
{
	struct {
		uint32_t type;
		struct uhid_input2_req in;
	} __attribute__((packed)) ev;

	ev.type = UHID_INPUT2;
	ev.in.size = fill_input(ev.in.data, sample_value(d, d->sent));
	if (uhid_write(d, (const struct uhid_event *)&ev,
		       offsetof(struct uhid_event, u.input2.data) + ev.in.size))
		return -1;
	d->sent++;
	return 0;
}

static int64_t deadline(const struct dev *d, uint64_t k)
{
	return d->t0 + (int64_t)((unsigned __int128)k * 1000000000000ULL / o.rate_mhz);
}

static void arm_timer(struct dev *d, int64_t at)
{
	struct itimerspec its = { 0 };

	if (at >= 0) {
		its.it_value.tv_sec = at / 1000000000;
		its.it_value.tv_nsec = at % 1000000000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Send every sample that is due; then arm the timer for the next one. */
static int pump(struct dev *d)
{
	uint64_t lim = sample_limit();
	int64_t now = now_ns();
	unsigned burst = 0;

	if (!d->active)
		return 0;
	while (d->sent < lim && deadline(d, d->k) <= now) {
		if (burst++ == BURST_MAX)
			break;		/* come back after servicing events */
		if (send_sample(d))
			return -1;
		d->k++;
	}
	if (d->sent >= lim) {
		vlog(1, "instance %d: all %" PRIu64 " samples sent", d->idx, d->sent);
		arm_timer(d, -1);
		return 0;
	}
	arm_timer(d, deadline(d, d->k));
	return 0;
}

static void update_active(struct dev *d)
{
	bool act = d->opened && d->power == PWR_D0 &&
		(d->rep_state == REP_ALL_EVENTS || d->rep_state == REP_ALL_EVENTS_WAKE);

	if (act == d->active)
		return;
	d->active = act;
	vlog(1, "instance %d: %s (sent %" PRIu64 ")", d->idx,
	     act ? "active, sampling" : "inactive, paused", d->sent);
	if (act) {
		d->t0 = now_ns();
		d->k = 0;
		arm_timer(d, d->t0);	/* first sample right away */
	} else {
		arm_timer(d, -1);
	}
}

static void fill_feature(const struct dev *d, uint8_t *buf)
{
	buf[0] = FEATURE_ID;
	buf[1] = d->rep_state;
	buf[2] = d->power;
	memcpy(&buf[3], &d->interval_ms, 4);
	memcpy(&buf[7], &d->sensitivity, 2);
}

static const char *enum_name(const char *const *names, unsigned v)
{
	return v <= 6 ? names[v] : "invalid";
}

static int handle_get_report(struct dev *d, const struct uhid_get_report_req *rq)
{
	struct uhid_event ev;
	struct uhid_get_report_reply_req *rp = &ev.u.get_report_reply;

	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_GET_REPORT_REPLY;
	rp->id = rq->id;
	if (rq->rtype == UHID_FEATURE_REPORT && rq->rnum == FEATURE_ID) {
		fill_feature(d, rp->data);
		rp->size = FEATURE_LEN;
	} else if (rq->rtype == UHID_INPUT_REPORT && rq->rnum == INPUT_ID) {
		/* A synchronous read (in_*_raw) is a fresh measurement. */
		uint64_t k = d->sent;

		if (k < sample_limit())
			d->sent++;
		else if (k)
			k--;
		rp->size = fill_input(rp->data, sample_value(d, k));
	} else {
		rp->err = EIO;
	}
	vlog(2, "instance %d: GET_REPORT type %u id %u -> %s", d->idx, rq->rtype,
	     rq->rnum, rp->err ? "EIO" : "ok");
	return uhid_write(d, &ev, offsetof(struct uhid_event, u.get_report_reply.data) + rp->size);
}

static int handle_set_report(struct dev *d, const struct uhid_set_report_req *rq)
{
	struct uhid_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_SET_REPORT_REPLY;
	ev.u.set_report_reply.id = rq->id;
	if (rq->rtype == UHID_FEATURE_REPORT && rq->rnum == FEATURE_ID &&
	    rq->size >= FEATURE_LEN && rq->data[0] == FEATURE_ID) {
		uint32_t iv;
		uint16_t sens;

		memcpy(&iv, &rq->data[3], 4);
		memcpy(&sens, &rq->data[7], 2);
		if (rq->data[1] != d->rep_state)
			vlog(1, "instance %d: reporting state %s -> %s", d->idx,
			     enum_name(rep_names, d->rep_state),
			     enum_name(rep_names, rq->data[1]));
		if (rq->data[2] != d->power)
			vlog(1, "instance %d: power state %s -> %s", d->idx,
			     enum_name(pwr_names, d->power),
			     enum_name(pwr_names, rq->data[2]));
		if (iv != d->interval_ms) {
			vlog(1, "instance %d: report interval %u -> %u ms", d->idx,
			     d->interval_ms, iv);
			if (o.follow_interval && iv > 0) {
				/* all instances share the rate */
				o.rate_mhz = 1000000 / iv;
				for (int i = 0; i < o.instances; i++)
					if (devs[i].active) {
						devs[i].t0 = now_ns();
						devs[i].k = 0;
					}
			}
		}
		if (sens != d->sensitivity)
			vlog(1, "instance %d: sensitivity %u -> %u", d->idx,
			     d->sensitivity, sens);
		/* only accept values that select a usage of the list */
		if (rq->data[1] >= 1 && rq->data[1] <= 6)
			d->rep_state = rq->data[1];
		if (rq->data[2] >= 1 && rq->data[2] <= 6)
			d->power = rq->data[2];
		d->interval_ms = iv;
		d->sensitivity = sens;
	} else {
		ev.u.set_report_reply.err = EIO;
	}
	vlog(2, "instance %d: SET_REPORT type %u id %u size %u -> %s", d->idx,
	     rq->rtype, rq->rnum, rq->size, ev.u.set_report_reply.err ? "EIO" : "ok");
	if (uhid_write(d, &ev, offsetof(struct uhid_event, u) +
		       sizeof(ev.u.set_report_reply)))
		return -1;
	update_active(d);
	return 0;
}

static int handle_uhid(struct dev *d)
{
	struct uhid_event ev;
	ssize_t r = read(d->fd, &ev, sizeof(ev));

	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		logmsg("instance %d: uhid read: %s", d->idx, strerror(errno));
		return -1;
	}
	if (r < (ssize_t)sizeof(ev.type)) {
		logmsg("instance %d: short uhid read", d->idx);
		return -1;
	}
	switch (ev.type) {
	case UHID_START:
		d->started = true;
		vlog(1, "instance %d: start (flags 0x%llx)", d->idx,
		     (unsigned long long)ev.u.start.dev_flags);
		break;
	case UHID_STOP:
		d->started = false;
		d->opened = false;
		vlog(1, "instance %d: stop", d->idx);
		update_active(d);
		break;
	case UHID_OPEN:
		d->opened = true;
		vlog(1, "instance %d: open", d->idx);
		update_active(d);
		break;
	case UHID_CLOSE:
		d->opened = false;
		vlog(1, "instance %d: close", d->idx);
		update_active(d);
		break;
	case UHID_OUTPUT:
		vlog(2, "instance %d: output report ignored", d->idx);
		break;
	case UHID_GET_REPORT:
		return handle_get_report(d, &ev.u.get_report);
	case UHID_SET_REPORT:
		return handle_set_report(d, &ev.u.set_report);
	default:
		vlog(2, "instance %d: uhid event %u ignored", d->idx, ev.type);
		break;
	}
	return 0;
}

/* ----------------------------------------------------------------- sysfs */

static bool hid_has_uniq(const char *dir, const char *uniq)
{
	char path[PATH_MAX], line[256], want[128];
	bool found = false;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/uevent", dir) >= (int)sizeof(path))
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	snprintf(want, sizeof(want), "HID_UNIQ=%s\n", uniq);
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, want);
	fclose(f);
	return found;
}

/* Fill d->iio if the IIO device of this hub exists. */
static bool discover(struct dev *d)
{
	char hidpath[PATH_MAX] = "", p[PATH_MAX], rp[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	size_t hl;
	int best = -1;

	dir = opendir("/sys/bus/hid/devices");
	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "/sys/bus/hid/devices/%s",
			     de->d_name) >= (int)sizeof(p))
			continue;
		if (hid_has_uniq(p, d->uniq) && realpath(p, hidpath))
			break;
		hidpath[0] = '\0';
	}
	closedir(dir);
	if (!hidpath[0])
		return false;
	hl = strlen(hidpath);

	dir = opendir("/sys/bus/iio/devices");
	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "iio:device", 10))
			continue;
		if (snprintf(p, sizeof(p), "/sys/bus/iio/devices/%s",
			     de->d_name) >= (int)sizeof(p))
			continue;
		if (!realpath(p, rp))
			continue;
		if (!strncmp(rp, hidpath, hl) && rp[hl] == '/') {
			int n = atoi(de->d_name + 10);

			if (best < 0 || n < best)
				best = n;
		}
	}
	closedir(dir);
	if (best < 0)
		return false;
	snprintf(d->iio, sizeof(d->iio), "iio:device%d", best);
	return true;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct pollfd pfd[1 + 2 * MAX_INSTANCES];
	int nfd, sfd, rc = EX_FAIL;
	bool announced = false;
	int64_t give_up;
	sigset_t mask;

	if (parse_args(argc, argv)) {
		fprintf(stderr, "Try 'hidsensor --help'.\n");
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAX_INSTANCES; i++)
		devs[i].fd = devs[i].tfd = -1;

	if (o.modprobe)
		ensure_modules();

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		logmsg("signalfd: %s", strerror(errno));
		return EX_FAIL;
	}

	check_other_temperature();
	build_descriptor(o.kind);
	for (int i = 0; i < o.instances; i++) {
		devs[i].idx = i;
		if (create_dev(&devs[i]))
			goto out;
	}

	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	nfd = 1;
	for (int i = 0; i < o.instances; i++) {
		pfd[nfd].fd = devs[i].fd;
		pfd[nfd++].events = POLLIN;
		pfd[nfd].fd = devs[i].tfd;
		pfd[nfd++].events = POLLIN;
	}

	give_up = now_ns() + (int64_t)DISCOVER_TIMEOUT_S * 1000000000;
	for (;;) {
		int n = poll(pfd, nfd, announced ? -1 : 20);

		if (n < 0 && errno != EINTR) {
			logmsg("poll: %s", strerror(errno));
			goto out;
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				vlog(1, "signal %u: destroying the devices", si.ssi_signo);
				rc = EX_OK;
				goto out;
			}
		}
		for (int i = 0; n > 0 && i < o.instances; i++) {
			struct pollfd *u = &pfd[1 + 2 * i], *t = &pfd[2 + 2 * i];

			if (u->revents & (POLLERR | POLLHUP | POLLNVAL)) {
				logmsg("instance %d: uhid error", i);
				goto out;
			}
			/* Drain the event queue first: the kernel waits on us. */
			if (u->revents & POLLIN) {
				for (int j = 0; j < 32; j++) {
					struct pollfd q = { .fd = devs[i].fd, .events = POLLIN };

					if (handle_uhid(&devs[i]))
						goto out;
					if (poll(&q, 1, 0) != 1)
						break;
				}
			}
			if (t->revents & POLLIN) {
				uint64_t exp;

				if (read(devs[i].tfd, &exp, sizeof(exp)) < 0 &&
				    errno != EAGAIN) {
					logmsg("timerfd read: %s", strerror(errno));
					goto out;
				}
				if (pump(&devs[i]))
					goto out;
			}
		}
		if (!announced) {
			bool all = true;

			for (int i = 0; i < o.instances; i++)
				if (!devs[i].iio[0] && !discover(&devs[i]))
					all = false;
			if (all) {
				for (int i = 0; i < o.instances; i++)
					printf("%s\n", devs[i].iio);
				fflush(stdout);
				announced = true;
				vlog(1, "devices ready");
			} else if (now_ns() > give_up) {
				logmsg("the IIO device(s) did not appear within %d s "
				       "(is %s loaded? see dmesg)", DISCOVER_TIMEOUT_S,
				       o.kind->module);
				goto out;
			}
		}
	}
out:
	for (int i = 0; i < o.instances; i++) {
		destroy_dev(&devs[i]);
		if (devs[i].tfd >= 0)
			close(devs[i].tfd);
	}
	free(o.values);
	return rc;
}

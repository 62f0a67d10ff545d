// SPDX-License-Identifier: GPL-2.0
/*
 * attestio attach DEV [--polled] / attestio detach DEV: write the module's
 * attach and detach files and explain refusals.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/attestio.h>

#include "cli.h"
#include "util.h"

#define IIO_DEVICES "/sys/bus/iio/devices"

static void attach_usage(FILE *f, bool detach)
{
	if (detach)
		fprintf(f,
			"Usage: attestio detach DEV\n"
			"\n"
			"Stop capturing DEV: the stream gets a detach record (reason \"user\")\n"
			"and is removed.  DEV is the spec it was attached with, or the IIO\n"
			"device name (iio:deviceN) of an attached stream.\n"
			"\n"
			"Options:\n");
	else
		fprintf(f,
			"Usage: attestio attach DEV [--polled]\n"
			"\n"
			"Start capturing an IIO device.  DEV is its device name (iio:deviceN),\n"
			"its name attribute (e.g. \"temperature\") or its label: 1..31\n"
			"characters without blanks.  A stream attached by name or label\n"
			"survives the device going away and resumes when it reappears.\n"
			"\n"
			"Options:\n"
			"  -p, --polled  read the device with read_raw every poll_ms instead\n"
			"                of an in-kernel IIO buffer (devices without a\n"
			"                triggered buffer are always polled)\n");
	fprintf(f,
		"  -h, --help    this help\n"
		"\n%s", exit_codes_help);
}

/* "iio:device0 (temperature), iio:device1 (press)" into @out. */
static void list_devices(char *out, size_t cap)
{
	struct dirent *de;
	size_t len = 0;
	DIR *d;

	out[0] = 0;
	d = opendir(IIO_DEVICES);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[512], name[64] = "";
		FILE *f;

		if (strncmp(de->d_name, "iio:device", 10))
			continue;
		snprintf(path, sizeof(path), IIO_DEVICES "/%s/name", de->d_name);
		f = fopen(path, "r");
		if (f) {
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\n")] = 0;
			fclose(f);
		}
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0,
					"%s%s (%s)", len ? ", " : "",
					de->d_name, name[0] ? name : "?");
		if (len >= cap)
			break;
	}
	closedir(d);
}

static int explain(const char *cmd, const char *dev, int err, bool detach)
{
	char devs[512];

	switch (-err) {
	case ENODEV:
		if (detach) {
			cli_error(cmd, "no stream matches '%s' (see attestio status)",
				  dev);
			break;
		}
		list_devices(devs, sizeof(devs));
		cli_error(cmd,
			  "no IIO device named '%s' (device name, name attribute or label); "
			  "see %s%s%s", dev, IIO_DEVICES,
			  devs[0] ? ": " : " (none present)", devs);
		break;
	case EBUSY:
		cli_error(cmd, "'%s' is already attached, or the device refused a "
			  "second buffer (see attestio status)", dev);
		break;
	case EINVAL:
		if (detach)
			cli_error(cmd, "'%s' was refused as a stream spec (EINVAL)",
				  dev);
		else
			cli_error(cmd, "'%s' was refused (EINVAL): the device has no "
				  "usable channel or more than %d, or the driver "
				  "rejected the buffer", dev, ATTESTIO_MAX_CHANNELS);
		break;
	case ENOSPC:
		cli_error(cmd, "all %d stream ids are in use; detach a stream first",
			  ATTESTIO_MAX_STREAMS);
		break;
	case E2BIG:
		cli_error(cmd, "the scan of '%s' would be larger than %d bytes",
			  dev, ATTESTIO_MAX_SCAN_BYTES);
		break;
	case EACCES:
	case EPERM:
		cli_error(cmd, "permission denied writing %s/%s (needs root)",
			  sysfs_root(), cmd);
		break;
	case ENOENT:
		return cli_no_module(cmd);
	default:
		cli_error(cmd, "writing '%s' to %s/%s failed: %s", dev,
			  sysfs_root(), cmd, strerror(-err));
	}
	return EXIT_NOMOD;
}

static int attach_detach(int argc, char **argv, bool detach)
{
	static const struct option opts[] = {
		{ "polled", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = detach ? "detach" : "attach";
	bool polled = false;
	char val[64];
	const char *dev, *p;
	int c, r;

	while ((c = getopt_long(argc, argv, detach ? "h" : "ph", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (detach)
				goto bad;
			polled = true;
			break;
		case 'h':
			attach_usage(stdout, detach);
			return EXIT_OK;
		default:
bad:
			attach_usage(stderr, detach);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		cli_error(cmd, optind == argc ? "missing DEV" :
			  "expected exactly one DEV");
		attach_usage(stderr, detach);
		return EXIT_USAGE;
	}
	dev = argv[optind];
	for (p = dev; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			break;
	if (!*dev || *p || strlen(dev) > ATTESTIO_NAME_LEN - 1) {
		cli_error(cmd, "'%s' is not a device: 1..%d characters without "
			  "blanks", dev, ATTESTIO_NAME_LEN - 1);
		return EXIT_USAGE;
	}
	if (!module_loaded())
		return cli_no_module(cmd);
	snprintf(val, sizeof(val), "%s%s\n", dev, polled ? " polled" : "");
	r = sysfs_set(cmd, val);
	if (r)
		return explain(cmd, dev, r, detach);
	printf("%s %s%s\n", detach ? "detached" : "attached", dev,
	       polled ? " (polled)" : "");
	return EXIT_OK;
}

int cmd_attach(int argc, char **argv)
{
	return attach_detach(argc, argv, false);
}

int cmd_detach(int argc, char **argv)
{
	return attach_detach(argc, argv, true);
}

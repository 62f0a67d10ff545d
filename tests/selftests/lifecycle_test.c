// SPDX-License-Identifier: GPL-2.0
/*
 * attestio.ko lifecycle under driver behaviour the emulated HID sensors
 * never show, driven through the test-only IIO device of tests/kmod
 * (attestio_testdev: read_raw that claims direct mode, buffer updates the
 * core refuses, failing postenable, a hook that holds misc_register()).
 * Each test fails without the fix it covers (see Documentation/testing.md).
 */
#include <pthread.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "records.h"

#define SYS "/sys/kernel/attestio/"
#define TESTDEV_PARAM "/sys/module/attestio_testdev/parameters/"
#define TESTDEV "attestio-test"

static int load(const char *params)
{
	run(NULL, 0, "rmmod attestio 2>/dev/null");
	return run(NULL, 0, "modprobe attestio %s", params);
}

/* The device holds its own trigger, and with it its module: unbind first. */
static void testdev_unload(void)
{
	run(NULL, 0, "d=/sys/bus/platform/drivers/attestio-testdev; "
	    "[ -e $d/attestio-testdev ] && echo attestio-testdev > $d/unbind; "
	    "rmmod attestio_testdev 2>/dev/null");
}

/* The test device: hrtimer-triggered buffer, name "attestio-test". */
static int testdev_load(const char *params)
{
	testdev_unload();
	return run(NULL, 0, "modprobe industrialio-triggered-buffer && "
		   "insmod build/$(uname -r)/testdev/attestio_testdev.ko %s",
		   params);
}

/* The iio:deviceN name of the test device into @dev. */
static int testdev_name(char *dev, size_t cap)
{
	char out[64];

	if (run(out, sizeof(out), "grep -lx " TESTDEV
		" /sys/bus/iio/devices/iio:device*/name | head -1 | "
		"xargs -r dirname | xargs -r basename"))
		return -1;
	out[strcspn(out, "\n")] = 0;
	snprintf(dev, cap, "%.31s", out);
	return out[0] ? 0 : -1;
}

/* Enable (1) or disable (0) the device's own buffer, as a reader would. */
static int testdev_buffer(const char *dev, int on)
{
	return run(NULL, 0, "cd /sys/bus/iio/devices/%s && "
		   "{ [ %d = 0 ] || echo 1 > scan_elements/in_voltage0_en; } && "
		   "echo %d > buffer/enable", dev, on, on);
}

/* No oops, BUG or warning so far (the VM harness checks again at the end). */
static int kernel_clean(void)
{
	return run(NULL, 0, "dmesg | grep -qE 'BUG:|Oops|WARNING:|general protection'");
}

/* Write to sysfs in a child that may hang: 0, -errno, or -ETIMEDOUT. */
static int write_within(const char *path, const char *val, int timeout_s)
{
	int rc = run(NULL, 0, "timeout %d sh -c 'echo %s > %s' 2>/dev/null",
		     timeout_s, val, path);

	return rc == 124 ? -ETIMEDOUT : rc ? -EIO : 0;
}

FIXTURE(lc) {
	struct recbuf rb;
	struct stream_check c;
	int fd;
};

FIXTURE_SETUP(lc)
{
	memset(&self->rb, 0, sizeof(self->rb));
	memset(&self->c, 0, sizeof(self->c));
	self->fd = -1;
	ASSERT_EQ(0, load("epoch_ms=250"));
}

FIXTURE_TEARDOWN(lc)
{
	if (self->fd >= 0)
		close(self->fd);
	recbuf_free(&self->rb);
	check_free(&self->c);
	run(NULL, 0, "rmmod attestio");
	testdev_unload();
}

/*
 * Defect 1: a driver that claims direct mode in read_raw (hts221 and
 * many more) deadlocked the poll work, and the next detach hung forever.
 */
TEST_F_TIMEOUT(lc, polled_read_raw_claiming_direct_mode, 60)
{
	size_t i;

	ASSERT_EQ(0, load("epoch_ms=250 poll_ms=20"));
	ASSERT_EQ(0, testdev_load("claim_direct=1"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV " polled"));
	read_stream(self->fd, &self->rb, &self->c, 0, 20, true, 15000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LE(20, self->c.nvalues);
	EXPECT_EQ(0, self->c.gap_lost);
	for (i = 1; i < self->c.nvalues; i++)
		EXPECT_LT(self->c.values[i - 1], self->c.values[i]);
	ASSERT_EQ(0, write_within(SYS "detach", TESTDEV, 10));
}

/*
 * Defect 2: when the IIO core refuses to remove the capture buffer, it
 * keeps calling it; the stream (and at rmmod the module) must outlive
 * that, and the buffer must be released once the device lets go.
 */
TEST_F_TIMEOUT(lc, buffer_the_core_keeps_is_not_freed, 60)
{
	long long deadline;
	char dev[32];
	int gone = 0;

	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	ASSERT_EQ(0, testdev_name(dev, sizeof(dev)));
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	ASSERT_EQ(0, testdev_buffer(dev, 1));	/* a second buffer stays */
	usleep(200000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "refuse_update", "1"));
	/* the removal fails: the detach still ends the segment */
	EXPECT_EQ(0, sysfs_puts(SYS "detach", TESTDEV));
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "refuse_update", "0"));
	usleep(300000);		/* the device keeps pushing into it */
	/* unload only once the buffer is back: never under the device */
	deadline = now_ms() + 10000;
	while (!gone && now_ms() < deadline) {
		gone = !run(NULL, 0, "rmmod attestio 2>/dev/null");
		usleep(100000);
	}
	EXPECT_TRUE(gone);
	usleep(300000);
	EXPECT_EQ(0, testdev_buffer(dev, 0));
	EXPECT_NE(0, kernel_clean());
	EXPECT_EQ(0, run(NULL, 0, "dmesg | grep -q 'capture buffer released'"));
}

TEST_HARNESS_MAIN

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
	run(NULL, 0, "echo attestio-testdev > "
	    "/sys/bus/platform/drivers/attestio-testdev/unbind 2>/dev/null; "
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

TEST_HARNESS_MAIN

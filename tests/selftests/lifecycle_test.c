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
#include <sys/mman.h>

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

/*
 * Read and check the stream until 50 samples followed its last detach
 * record (capture resumed in a new segment), an error, or @ms passed.
 */
static void read_until_resumed(int fd, struct recbuf *rb,
			       struct stream_check *c, int ms)
{
	long long deadline = now_ms() + ms;

	do {
		recbuf_read(fd, rb, 200);
		check_reset(c, 0);
		check_stream(rb, c);
	} while (!c->errors && now_ms() < deadline &&
		 c->nvalues < c->detach_nvalues + 50);
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

/* Read everything there is now (the writer has stopped). */
static void read_all(int fd, struct recbuf *rb)
{
	size_t prev;

	do {
		prev = rb->len;
		recbuf_read(fd, rb, 300);
	} while (rb->len != prev);
}

/* Type and seq of the last record of @stream in @rb. */
static int last_of(struct recbuf *rb, u32 stream, u64 *seq)
{
	struct attestio_rec_info info;
	size_t off;
	int type = 0;

	for (off = 0; off < rb->len; off += info.len) {
		if (attestio_rec_validate(rb->buf + off, rb->len - off, &info))
			return -1;
		if (info.type != ATTESTIO_REC_LOST && info.stream == stream) {
			type = info.type;
			*seq = info.seq;
		}
	}
	return type;
}

/*
 * Defect 5: a detached stream's tail and detach record were never
 * covered; now a final checkpoint does, before the stream goes away.
 */
TEST_F_TIMEOUT(lc, detach_ends_with_final_checkpoint, 60)
{
	u64 seq = 0;

	ASSERT_EQ(0, load("epoch_ms=3600000"));	/* no periodic epoch */
	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(500000);
	ASSERT_EQ(0, sysfs_puts(SYS "detach", TESTDEV));
	read_all(self->fd, &self->rb);
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LT(10, self->c.nvalues);
	EXPECT_EQ(1, self->c.detaches);
	ASSERT_EQ(1, self->c.checkpoints);
	EXPECT_EQ(1, self->c.chain_checked);
	/* the checkpoint is the last record and covers all before it */
	EXPECT_EQ(ATTESTIO_REC_CHECKPOINT, last_of(&self->rb, 0, &seq));
	EXPECT_EQ(seq - 1, self->c.last_covered_seq);
	EXPECT_NE(0, access(SYS "streams/0", F_OK));
}

/* Defect 5: suspend (here the PM core's freezer test) ends an epoch. */
TEST_F_TIMEOUT(lc, suspend_ends_with_final_checkpoint, 60)
{
	u64 seq = 0;

	if (access("/sys/power/pm_test", W_OK))
		SKIP(return, "no /sys/power/pm_test");
	ASSERT_EQ(0, load("epoch_ms=3600000"));
	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(300000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "paused", "1"));
	usleep(100000);
	ASSERT_EQ(0, run(NULL, 0, "echo freezer > /sys/power/pm_test && "
			 "echo freeze > /sys/power/state; r=$?; "
			 "echo none > /sys/power/pm_test; exit $r"));
	read_all(self->fd, &self->rb);
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_EQ(1, self->c.checkpoints);
	EXPECT_EQ(ATTESTIO_REC_CHECKPOINT, last_of(&self->rb, 0, &seq));
	EXPECT_EQ(seq - 1, self->c.last_covered_seq);
}

/*
 * Defect 8: an idle stream gets no checkpoint once its last records are
 * covered (it got one every epoch, wrapping the log for nothing).
 */
TEST_F_TIMEOUT(lc, idle_stream_gets_no_checkpoints, 60)
{
	int before;
	u64 seq = 0;

	ASSERT_EQ(0, load("epoch_ms=50"));
	ASSERT_EQ(0, testdev_load("rate_hz=500"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(500000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "paused", "1"));
	usleep(300000);		/* the last records get covered */
	read_all(self->fd, &self->rb);
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	before = self->c.checkpoints;
	EXPECT_EQ(ATTESTIO_REC_CHECKPOINT, last_of(&self->rb, 0, &seq));
	EXPECT_EQ(seq - 1, self->c.last_covered_seq);
	usleep(500000);		/* 10 epochs, nothing new */
	read_all(self->fd, &self->rb);
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	EXPECT_EQ(before, self->c.checkpoints);
}

/*
 * Defect 6: while modprobe is still in its last step, what sysfs offers
 * must already work: a stream attached then is detached by the bus
 * notifier when its device goes (the notifier used to come later).
 */
TEST_F_TIMEOUT(lc, interfaces_after_the_code_behind_them, 60)
{
	long long deadline;
	char state[32];
	int attached = -1;

	run(NULL, 0, "rmmod attestio");
	ASSERT_EQ(0, testdev_load("hold_ms=4000"));
	/* hold the misc core for 4 s, then load: misc_register() waits */
	ASSERT_EQ(0, run(NULL, 0, "{ cat /dev/attestio-hold; } >/dev/null 2>&1 &"
			 " sleep 0.3; { modprobe attestio & } >/dev/null 2>&1"));
	deadline = now_ms() + 3000;
	while (attached && now_ms() < deadline) {
		attached = access(SYS "attach", W_OK) ? -1 :
			   sysfs_puts(SYS "attach", TESTDEV);
		usleep(20000);
	}
	ASSERT_EQ(0, attached);
	ASSERT_NE(0, access("/dev/attestio", F_OK));	/* still loading */
	ASSERT_EQ(0, run(NULL, 0, "echo attestio-testdev > "
			 "/sys/bus/platform/drivers/attestio-testdev/unbind"));
	deadline = now_ms() + 8000;
	while (access("/dev/attestio", F_OK) && now_ms() < deadline)
		usleep(50000);
	ASSERT_EQ(0, sysfs_gets(SYS "streams/0/state", state, sizeof(state)));
	EXPECT_STREQ("waiting", state);
}

/*
 * Defect 4: a reused stream id starts a new chain (another generation in
 * genesis and descriptor), and the descriptor names the physical device.
 */
TEST_F_TIMEOUT(lc, reused_stream_id_is_a_new_chain, 60)
{
	struct stream_check c2 = { 0 };
	const struct attestio_descriptor *d;
	struct attestio_rec_info info;
	u8 id[ATTESTIO_HASH_LEN];
	size_t off, first_len;

	ASSERT_EQ(0, load("epoch_ms=100"));
	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(400000);
	ASSERT_EQ(0, sysfs_puts(SYS "detach", TESTDEV));
	read_all(self->fd, &self->rb);
	first_len = self->rb.len;
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LE(1, self->c.chain_checked);

	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));	/* id 0 again */
	usleep(400000);
	ASSERT_EQ(0, sysfs_puts(SYS "detach", TESTDEV));
	read_all(self->fd, &self->rb);
	/* the second chain, checked from its own descriptor's genesis */
	memmove(self->rb.buf, self->rb.buf + first_len,
		self->rb.len - first_len);
	self->rb.len -= first_len;
	check_reset(&c2, 0);
	check_stream(&self->rb, &c2);
	ASSERT_EQ(0, c2.errors) TH_LOG("%s", c2.why);
	ASSERT_LE(1, c2.chain_checked);
	EXPECT_NE(self->c.generation, c2.generation);
	EXPECT_EQ(self->c.instance, c2.instance);

	ASSERT_EQ(0, attestio_rec_validate(self->rb.buf, self->rb.len, &info));
	ASSERT_EQ(ATTESTIO_REC_DESCRIPTOR, info.type);
	d = (const void *)(self->rb.buf + ATTESTIO_HDR_LEN);
	EXPECT_STREQ("/devices/platform/attestio-testdev", d->parent);
	EXPECT_STREQ("attestio-testdev", d->driver);
	attestio_identity(id, d->parent, d->driver, d->name);
	EXPECT_EQ(0, memcmp(id, d->identity, sizeof(id)));
	(void)off;
	check_free(&c2);
}

/*
 * Defect 3: when enabling another buffer on the device fails, the IIO
 * core removes every buffer, the capture's included.  The segment ends
 * with a detach record saying so, and capture resumes in a new one once
 * the device accepts buffers again.
 */
TEST_F_TIMEOUT(lc, capture_removed_by_the_core_is_declared, 60)
{
	char dev[32], state[32];
	size_t before;

	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	ASSERT_EQ(0, testdev_name(dev, sizeof(dev)));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(300000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "fail_postenable", "-5"));
	EXPECT_NE(0, testdev_buffer(dev, 1));	/* the core removes all */
	usleep(300000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "fail_postenable", "0"));
	/* the stream re-attaches (retried after 1 s) and samples again */
	read_until_resumed(self->fd, &self->rb, &self->c, 8000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_TRUE(self->c.detach_reasons & (1U << ATTESTIO_DETACH_CAPTURE_LOST))
		TH_LOG("no detach record says the capture was lost "
		       "(%d detaches, last reason %u)", self->c.detaches,
		       self->c.last_detach_reason);
	before = self->c.detach_nvalues;
	EXPECT_LE(before + 50, self->c.nvalues);
	EXPECT_LE(2, self->c.descriptors);
	ASSERT_EQ(0, sysfs_gets(SYS "streams/0/state", state, sizeof(state)));
	EXPECT_STREQ("attached", state);
}

/*
 * Defect 3, triggers: a trigger unregistered under a capture (its driver
 * or configfs removed it) never fires again.  The segment ends with a
 * detach record saying so, and capture resumes in a new segment once the
 * device has a live trigger again.
 */
TEST_F_TIMEOUT(lc, removed_trigger_is_declared, 60)
{
	char dev[32], path[96], state[32];

	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	ASSERT_EQ(0, testdev_name(dev, sizeof(dev)));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(300000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "drop_trigger", "1"));
	usleep(300000);
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "drop_trigger", "0"));
	snprintf(path, sizeof(path),
		 "/sys/bus/iio/devices/%s/trigger/current_trigger", dev);
	/* the core refuses while a buffer is enabled: ours must be gone */
	ASSERT_EQ(0, sysfs_puts(path, "attestio-test-trig1"))
		TH_LOG("the capture still holds the removed trigger");
	read_until_resumed(self->fd, &self->rb, &self->c, 15000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_TRUE(self->c.detach_reasons & (1U << ATTESTIO_DETACH_TRIGGER_LOST))
		TH_LOG("no detach record says the trigger went away "
		       "(%d detaches, last reason %u)", self->c.detaches,
		       self->c.last_detach_reason);
	EXPECT_LE(self->c.detach_nvalues + 50, self->c.nvalues);
	EXPECT_LE(2, self->c.descriptors);
	ASSERT_EQ(0, sysfs_gets(SYS "streams/0/state", state, sizeof(state)));
	EXPECT_STREQ("attached", state);
	EXPECT_NE(0, kernel_clean());
}

/*
 * Defect 9: a record whose copy to userspace faults is not consumed (it
 * was, silently): here the stream's descriptor, so the chain no longer
 * starts at seq 0.
 */
TEST_F_TIMEOUT(lc, faulting_read_consumes_nothing, 60)
{
	void *bad;

	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(200000);
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	EXPECT_EQ(-1, read(self->fd, bad, 4096));
	EXPECT_EQ(EFAULT, errno);
	munmap(bad, 4096);
	read_stream(self->fd, &self->rb, &self->c, 0, 20, false, 10000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	EXPECT_EQ(0, self->c.lost_records);
	EXPECT_LE(20, self->c.nvalues);
}

/* Read all records there are now on @fd into @rb; @rb starts empty. */
static void drain_fd(int fd, struct recbuf *rb)
{
	size_t prev;

	do {
		prev = rb->len;
		recbuf_read(fd, rb, 200);
	} while (rb->len != prev);
}

/*
 * Defect 9: a reader's lost record counts only the records of the
 * streams it wants (it counted every record overwritten).
 */
TEST_F_TIMEOUT(lc, lost_counts_only_wanted_streams, 60)
{
	struct attestio_filter f = { .mask = 1ULL << 5 };
	struct attestio_rec_info info;
	struct recbuf other = { 0 };
	u64 lost = 0;
	size_t off;
	int fd5;

	ASSERT_EQ(0, load("epoch_ms=250 log_kb=64"));
	ASSERT_EQ(0, testdev_load("rate_hz=1000"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	fd5 = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_LE(0, fd5);
	ASSERT_EQ(0, ioctl(fd5, ATTESTIO_IOC_SET_FILTER, &f));
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	sleep(3);		/* > 64 KiB of stream 0 records */
	ASSERT_EQ(0, sysfs_puts(TESTDEV_PARAM "paused", "1"));
	usleep(600000);
	/* stream 5 never existed: nothing of it was lost */
	drain_fd(fd5, &other);
	EXPECT_EQ(0, other.len) TH_LOG("%zu bytes for a stream that never was",
				       other.len);
	recbuf_free(&other);
	close(fd5);
	/* stream 0: the count is exactly the seq where reading resumes */
	drain_fd(self->fd, &self->rb);
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type != ATTESTIO_REC_LOST)
			break;
		lost += le64_to_cpu(((const struct attestio_lost *)
				     (self->rb.buf + off + ATTESTIO_HDR_LEN))->records);
	}
	ASSERT_LT(0, lost);
	ASSERT_LT(off, self->rb.len);
	EXPECT_EQ(0, info.stream);
	EXPECT_EQ(lost, info.seq);
}

/*
 * Defect 9: bits and bytes the layout calls padding leave the module as
 * zeros (the test device fills them with garbage).
 */
TEST_F_TIMEOUT(lc, scan_padding_is_zeroed, 60)
{
	struct attestio_rec_info info;
	const struct attestio_sample *smp;
	int samples = 0, dirty = 0;
	size_t off;
	u16 v0;

	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	read_stream(self->fd, &self->rb, &self->c, 0, 20, false, 10000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type != ATTESTIO_REC_SAMPLE)
			continue;
		smp = (const void *)(self->rb.buf + off + ATTESTIO_HDR_LEN);
		ASSERT_EQ(16, le32_to_cpu(smp->scan_len));
		samples++;
		memcpy(&v0, smp->scan, 2);
		/* v0: 12 bits from bit 2; v1: byte 2; bytes 3..7: gap */
		if ((le16toh(v0) & 0xc003) || smp->scan[3] || smp->scan[4] ||
		    smp->scan[5] || smp->scan[6] || smp->scan[7])
			dirty++;
	}
	EXPECT_LE(20, samples);
	EXPECT_EQ(0, dirty) TH_LOG("%d of %d samples carry driver padding",
				   dirty, samples);
}

/*
 * Defect 9: root changing a channel's scale mid-segment is recorded (a
 * chained calib record before the samples that use it), so verifiers
 * decode those samples with the new scale.
 */
TEST_F_TIMEOUT(lc, scale_change_is_recorded, 60)
{
	const struct attestio_calib_chan *cc;
	const struct attestio_calib *cal;
	struct attestio_rec_info info;
	int calibs = 0, after = 0;
	char dev[32];
	size_t off;

	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	ASSERT_EQ(0, testdev_name(dev, sizeof(dev)));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(300000);
	ASSERT_EQ(0, run(NULL, 0, "echo 2.25 > /sys/bus/iio/devices/%s/in_voltage0_scale",
			 dev));
	usleep(500000);
	read_stream(self->fd, &self->rb, &self->c, 0, 80, false, 10000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type == ATTESTIO_REC_SAMPLE && calibs)
			after++;
		if (info.type != ATTESTIO_REC_CALIB)
			continue;
		calibs++;
		cal = (const void *)(self->rb.buf + off + ATTESTIO_HDR_LEN);
		cc = (const void *)(cal + 1);
		EXPECT_EQ(2, le16_to_cpu(cal->nchannels));
		EXPECT_EQ(2, le32_to_cpu(cc[0].scale_type));	/* INT_PLUS_MICRO */
		EXPECT_EQ(2, le32_to_cpu(cc[0].scale_val));
		EXPECT_EQ(250000, le32_to_cpu(cc[0].scale_val2));
	}
	EXPECT_EQ(1, calibs);
	EXPECT_LT(0, after);
}

static bool have_tpm(void)
{
	return access("/dev/tpmrm0", F_OK) == 0;
}

/* The TPM's dictionary-attack failure count. */
static long long tpm_lockout_counter(void)
{
	char out[64];

	if (run(out, sizeof(out), "tpm2_getcap properties-variable | "
		"awk '/TPM2_PT_LOCKOUT_COUNTER/ {print $2}'"))
		return -1;
	return strtoll(out, NULL, 0);
}

/*
 * Defect 8: a key whose authorization fails is not retried every epoch
 * (each failure counts towards the TPM's dictionary-attack lockout).
 */
TEST_F_TIMEOUT(lc, auth_failure_backs_off, 90)
{
	long long failures;

	if (!have_tpm())
		SKIP(return, "no TPM in this guest");
	/* a signing key that wants a password the module does not have */
	ASSERT_EQ(0, run(NULL, 0, "cd /tmp && "
			 "tpm2_createprimary -C o -G ecc -c authp.ctx >/dev/null && "
			 "tpm2_create -C authp.ctx -G ecc -p secret -c authk.ctx "
			 ">/dev/null && tpm2_evictcontrol -C o -c authk.ctx "
			 "0x81010005 >/dev/null && tpm2_flushcontext -t >/dev/null && "
			 "tpm2_dictionarylockout -c >/dev/null"));
	ASSERT_EQ(0, load("epoch_ms=100 key_handle=0x81010005"));
	ASSERT_EQ(0, testdev_load("rate_hz=100"));
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	sleep(2);		/* 20 epochs */
	failures = tpm_lockout_counter();
	EXPECT_EQ(0, run(NULL, 0, "grep -q 'unsigned: TPM error' " SYS "last_status"));
	EXPECT_EQ(0, run(NULL, 0, "dmesg | grep -q 'authorization failed'"));
	run(NULL, 0, "tpm2_dictionarylockout -c >/dev/null; "
	    "tpm2_evictcontrol -C o -c 0x81010005 >/dev/null");
	EXPECT_EQ(1, failures);
}

/* Defect 8: epoch_ms=10 does not mean 100 quotes a second. */
TEST_F_TIMEOUT(lc, quote_rate_is_bounded, 90)
{
	long long e0, e1;

	if (!have_tpm())
		SKIP(return, "no TPM in this guest");
	ASSERT_EQ(0, run(NULL, 0, "tpm2_readpublic -c 0x81010006 >/dev/null 2>&1 || "
			 "{ cd /tmp && tpm2_createek -c ek6.ctx -G ecc >/dev/null && "
			 "tpm2_createak -C ek6.ctx -c ak6.ctx -G ecc -g sha256 "
			 "-s ecdsa >/dev/null && tpm2_evictcontrol -C o -c ak6.ctx "
			 "0x81010006 >/dev/null && tpm2_flushcontext -t >/dev/null; }"));
	ASSERT_EQ(0, load("epoch_ms=10 key_handle=0x81010006"));
	ASSERT_EQ(0, testdev_load("rate_hz=200"));
	ASSERT_EQ(0, sysfs_puts(SYS "attach", TESTDEV));
	usleep(500000);
	e0 = sysfs_ll(SYS "epoch");
	sleep(2);
	e1 = sysfs_ll(SYS "epoch");
	EXPECT_EQ(0, run(NULL, 0, "grep -qx quoted " SYS "last_status"));
	/* at most one quote per 100 ms */
	EXPECT_GE(21, e1 - e0) TH_LOG("%lld quotes in 2 s", e1 - e0);
	EXPECT_LE(5, e1 - e0);
}

TEST_HARNESS_MAIN

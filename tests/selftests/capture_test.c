// SPDX-License-Identifier: GPL-2.0
/*
 * attestio.ko driven through the kernel's real hid-sensor drivers: exact
 * capture, chain, TPM-signed epochs, gaps, detach/re-attach, bad input,
 * several devices, lifecycle.  Runs in the VM with or without a TPM
 * (ATTESTIO_EXPECT_TPM=0 for a guest booted with --no-tpm).
 */
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "records.h"

#define SYS "/sys/kernel/attestio/"
#define AK_HANDLE "0x81010002"

static bool have_tpm(void)
{
	return access("/dev/tpmrm0", F_OK) == 0;
}

/* Create and persist an ECDSA P-256 AK once per boot; ak.pem for checks. */
static int provision_ak(void)
{
	if (!run(NULL, 0, "tpm2_readpublic -c " AK_HANDLE " >/dev/null 2>&1"))
		return 0;
	return run(NULL, 0,
		   "cd /tmp && tpm2_createek -c ek.ctx -G ecc >/dev/null && "
		   "tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa "
		   "-u ak.pem -f pem >/dev/null && "
		   "tpm2_evictcontrol -C o -c ak.ctx " AK_HANDLE " >/dev/null && "
		   "tpm2_flushcontext -t >/dev/null");
}

static int load(const char *params)
{
	run(NULL, 0, "rmmod attestio 2>/dev/null");
	return run(NULL, 0, "modprobe attestio %s", params);
}

FIXTURE(cap) {
	struct sensor s;
	struct recbuf rb;
	struct stream_check c;
	int fd;
};

FIXTURE_SETUP(cap)
{
	memset(&self->s, 0, sizeof(self->s));
	memset(&self->rb, 0, sizeof(self->rb));
	memset(&self->c, 0, sizeof(self->c));
	self->fd = -1;
	ASSERT_EQ(0, load("epoch_ms=250"));
}

FIXTURE_TEARDOWN(cap)
{
	if (self->fd >= 0)
		close(self->fd);
	sensor_stop(&self->s);
	recbuf_free(&self->rb);
	check_free(&self->c);
	run(NULL, 0, "rmmod attestio");
}

static void attach(struct __test_metadata *_metadata, const char *spec)
{
	ASSERT_EQ(0, sysfs_puts(SYS "attach", spec));
}

/* The scripted ramp arrives exactly, in order, chained, and covered. */
TEST_F_TIMEOUT(cap, ramp_exact_chained_checkpointed, 60)
{
	size_t i;

	ASSERT_EQ(0, sensor_start(&self->s, 1,
				  "--rate 200 --count 400 --start 1000"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	attach(_metadata, self->s.dev[0]);
	read_stream(self->fd, &self->rb, &self->c, 0, 400, true, 30000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_EQ(400, self->c.nvalues);
	for (i = 0; i < 400; i++)
		ASSERT_EQ(1000 + (long long)i, self->c.values[i]);
	EXPECT_EQ(1, self->c.descriptors);
	EXPECT_EQ(0, self->c.gap_lost);
	/* 2 s of data with 250 ms epochs: 8 epochs; allow for a busy host */
	EXPECT_LE(4, self->c.checkpoints);
	EXPECT_EQ(self->c.checkpoints, self->c.chain_checked);
	EXPECT_EQ(400, sysfs_ll(SYS "streams/0/samples"));
	EXPECT_EQ(0, sysfs_ll(SYS "streams/0/drops"));
	EXPECT_EQ((long long)self->c.next_seq - 1,
		  sysfs_ll(SYS "streams/0/last_seq"));
}

/* The descriptor carries what a verifier needs for SI values. */
TEST_F_TIMEOUT(cap, descriptor_describes_scan, 60)
{
	struct attestio_rec_info info;
	const struct attestio_descriptor *d;

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--kind pressure --rate 50"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, "press");	/* by name attribute */
	recbuf_read(self->fd, &self->rb, 2000);
	ASSERT_LT(0, self->rb.len);
	ASSERT_EQ(0, attestio_rec_validate(self->rb.buf, self->rb.len, &info));
	ASSERT_EQ(ATTESTIO_REC_DESCRIPTOR, info.type);
	d = (const void *)(self->rb.buf + ATTESTIO_HDR_LEN);
	EXPECT_STREQ("press", d->name);
	EXPECT_STREQ(self->s.dev[0], d->device);
	EXPECT_EQ(ATTESTIO_MODE_BUFFERED, le16_to_cpu(d->mode));
	EXPECT_EQ(1, le16_to_cpu(d->nchannels));
	EXPECT_EQ(16, le32_to_cpu(d->scan_bytes));
	EXPECT_EQ(1, d->has_ts);
	EXPECT_EQ(8, le16_to_cpu(d->ts_offset));
	EXPECT_EQ('s', d->chan[0].sign);
	EXPECT_EQ(32, d->chan[0].storagebits);
	EXPECT_NE(0, le32_to_cpu(d->chan[0].scale_type));
}

/*
 * Quotes verify with tpm2_checkquote against the session key the AK
 * certified; or say "unsigned".
 */
TEST_F_TIMEOUT(cap, checkpoints_signed_or_explicitly_unsigned, 90)
{
	const char *expect = getenv("ATTESTIO_EXPECT_TPM");
	struct attestio_rec_info info;
	const struct attestio_checkpoint *cp;
	const struct attestio_cp_head *heads;
	struct attestio_cp_layout lay;
	u8 digest[ATTESTIO_HASH_LEN];
	char hex[2 * ATTESTIO_HASH_LEN + 1];
	size_t off;
	int i, verified = 0;
	FILE *f;

	if (expect && !strcmp(expect, "0")) {
		ASSERT_FALSE(have_tpm());
	} else {
		ASSERT_TRUE(have_tpm());
		/* without a key first: unsigned, reason "no key" */
		ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
		attach(_metadata, self->s.dev[0]);
		usleep(700000);
		EXPECT_EQ(0, run(NULL, 0, "grep -q 'unsigned: no attestation key' "
				 SYS "last_status"));
		ASSERT_EQ(0, sensor_stop(&self->s));
		ASSERT_EQ(0, provision_ak());
		ASSERT_EQ(0, load("epoch_ms=250 key_handle=" AK_HANDLE));
		/* checkpoints are quoted by the module's session key */
		ASSERT_EQ(0, run(NULL, 0, "tpm2_readpublic -c " AK_HANDLE
				 " -o /tmp/ak.tpub >/dev/null 2>&1 && "
				 "build/bin/attestio measurements --ak /tmp/ak.tpub "
				 "--ksk-pem /tmp/ksk.pem >/dev/null 2>&1"));
	}
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, self->s.dev[0]);
	read_stream(self->fd, &self->rb, &self->c, 0, 100, true, 20000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LE(2, self->c.checkpoints);
	if (!have_tpm()) {
		EXPECT_EQ(0, self->c.signed_checkpoints);
		EXPECT_EQ(ATTESTIO_CP_NO_TPM, self->c.last_status);
		EXPECT_EQ(0, run(NULL, 0, "grep -q 'unsigned: no TPM' " SYS "last_status"));
		EXPECT_EQ(0, run(NULL, 0, "grep -q absent " SYS "tpm"));
		return;
	}
	EXPECT_EQ(self->c.checkpoints, self->c.signed_checkpoints);
	/* verify the last two quotes independently with tpm2-tools */
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type != ATTESTIO_REC_CHECKPOINT)
			continue;
		cp = (const void *)(self->rb.buf + off + ATTESTIO_HDR_LEN);
		attestio_cp_layout(le16_to_cpu(cp->nheads),
				   le16_to_cpu(cp->attest_len),
				   le16_to_cpu(cp->sig_len), &lay);
		heads = (const void *)(self->rb.buf + off + lay.heads);
		attestio_epoch_digest(digest, le64_to_cpu(cp->instance),
				      le64_to_cpu(cp->epoch), cp->beacon, heads,
				      le16_to_cpu(cp->nheads));
		for (i = 0; i < ATTESTIO_HASH_LEN; i++)
			sprintf(hex + 2 * i, "%02x", digest[i]);
		f = fopen("/tmp/quote.msg", "w");
		fwrite(self->rb.buf + off + lay.attest, 1, lay.sig - lay.attest, f);
		fclose(f);
		f = fopen("/tmp/quote.sig", "w");
		fwrite(self->rb.buf + off + lay.sig, 1, lay.end - lay.sig, f);
		fclose(f);
		EXPECT_EQ(0, run(NULL, 0, "tpm2_checkquote -u /tmp/ksk.pem "
				 "-m /tmp/quote.msg -s /tmp/quote.sig -q %s "
				 ">/dev/null 2>&1", hex));
		/* a different digest must not verify */
		hex[0] = hex[0] == '0' ? '1' : '0';
		EXPECT_NE(0, run(NULL, 0, "tpm2_checkquote -u /tmp/ksk.pem "
				 "-m /tmp/quote.msg -s /tmp/quote.sig -q %s "
				 ">/dev/null 2>&1", hex));
		verified++;
	}
	EXPECT_LE(2, verified);
}

/*
 * Oracle beacons (record v3): only a privileged opener hands one over, a
 * beacon never goes back a round, and the next checkpoints carry it in
 * the epoch digest the TPM quotes.
 */
TEST_F_TIMEOUT(cap, beacon_covered_by_next_checkpoint, 90)
{
	static const u8 none[ATTESTIO_HASH_LEN];
	struct attestio_beacon b = { .round = 7, .node = 2 }, got, old;
	const struct attestio_checkpoint *cp;
	const struct attestio_cp_head *heads;
	struct attestio_rec_info info;
	struct attestio_cp_layout lay;
	u8 digest[ATTESTIO_HASH_LEN];
	char hex[2 * ATTESTIO_HASH_LEN + 1];
	int i, covered = 0, verified = 0, st;
	size_t off;
	pid_t pid;
	FILE *f;

	if (have_tpm()) {
		ASSERT_EQ(0, provision_ak());
		ASSERT_EQ(0, load("epoch_ms=250 key_handle=" AK_HANDLE));
		ASSERT_EQ(0, run(NULL, 0, "tpm2_readpublic -c " AK_HANDLE
				 " -o /tmp/ak.tpub >/dev/null 2>&1 && "
				 "build/bin/attestio measurements --ak /tmp/ak.tpub "
				 "--ksk-pem /tmp/ksk.pem >/dev/null 2>&1"));
	}
	for (i = 0; i < ATTESTIO_HASH_LEN; i++)
		b.value[i] = (u8)(0x40 + i * 7);
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	/* a fresh load holds none */
	ASSERT_EQ(0, ioctl(self->fd, ATTESTIO_IOC_GET_BEACON, &got));
	EXPECT_EQ(0, got.round);
	/* an opener without CAP_SYS_ADMIN cannot set one */
	ASSERT_EQ(0, chmod("/dev/attestio", 0444));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		fd = open("/dev/attestio", O_RDONLY);
		if (fd < 0)
			_exit(3);
		_exit(ioctl(fd, ATTESTIO_IOC_SET_BEACON, &b) == -1 &&
		      errno == EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	chmod("/dev/attestio", 0440);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ASSERT_EQ(0, ioctl(self->fd, ATTESTIO_IOC_GET_BEACON, &got));
	EXPECT_EQ(0, got.round);
	/* reserved words must be zero */
	b.reserved[4] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, ATTESTIO_IOC_SET_BEACON, &b));
	EXPECT_EQ(EINVAL, errno);
	b.reserved[4] = 0;
	ASSERT_EQ(0, ioctl(self->fd, ATTESTIO_IOC_SET_BEACON, &b));
	ASSERT_EQ(0, ioctl(self->fd, ATTESTIO_IOC_GET_BEACON, &got));
	EXPECT_EQ(0, memcmp(&b, &got, sizeof(b)));
	/* never back to an older round; the held one stays */
	old = b;
	old.round = 6;
	old.value[0] ^= 0xff;
	EXPECT_EQ(-1, ioctl(self->fd, ATTESTIO_IOC_SET_BEACON, &old));
	EXPECT_EQ(EALREADY, errno);
	ASSERT_EQ(0, ioctl(self->fd, ATTESTIO_IOC_GET_BEACON, &got));
	EXPECT_EQ(0, memcmp(b.value, got.value, sizeof(b.value)));

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
	attach(_metadata, self->s.dev[0]);
	read_stream(self->fd, &self->rb, &self->c, 0, 100, true, 20000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LE(2, self->c.checkpoints);
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type != ATTESTIO_REC_CHECKPOINT)
			continue;
		cp = (const void *)(self->rb.buf + off + ATTESTIO_HDR_LEN);
		/* set before the first epoch: every checkpoint covers it */
		EXPECT_EQ(0, memcmp(cp->beacon, b.value, sizeof(b.value)));
		covered++;
		if (le32_to_cpu(cp->status) != ATTESTIO_CP_SIGNED)
			continue;
		attestio_cp_layout(le16_to_cpu(cp->nheads),
				   le16_to_cpu(cp->attest_len),
				   le16_to_cpu(cp->sig_len), &lay);
		heads = (const void *)(self->rb.buf + off + lay.heads);
		/* the quote signs the digest over the beacon we handed over */
		attestio_epoch_digest(digest, le64_to_cpu(cp->instance),
				      le64_to_cpu(cp->epoch), b.value, heads,
				      le16_to_cpu(cp->nheads));
		for (i = 0; i < ATTESTIO_HASH_LEN; i++)
			sprintf(hex + 2 * i, "%02x", digest[i]);
		f = fopen("/tmp/quote.msg", "w");
		fwrite(self->rb.buf + off + lay.attest, 1, lay.sig - lay.attest, f);
		fclose(f);
		f = fopen("/tmp/quote.sig", "w");
		fwrite(self->rb.buf + off + lay.sig, 1, lay.end - lay.sig, f);
		fclose(f);
		EXPECT_EQ(0, run(NULL, 0, "tpm2_checkquote -u /tmp/ksk.pem "
				 "-m /tmp/quote.msg -s /tmp/quote.sig -q %s "
				 ">/dev/null 2>&1", hex));
		/* the same digest without the beacon does not verify */
		attestio_epoch_digest(digest, le64_to_cpu(cp->instance),
				      le64_to_cpu(cp->epoch), none, heads, le16_to_cpu(cp->nheads));
		for (i = 0; i < ATTESTIO_HASH_LEN; i++)
			sprintf(hex + 2 * i, "%02x", digest[i]);
		EXPECT_NE(0, run(NULL, 0, "tpm2_checkquote -u /tmp/ksk.pem "
				 "-m /tmp/quote.msg -s /tmp/quote.sig -q %s "
				 ">/dev/null 2>&1", hex));
		verified++;
	}
	EXPECT_EQ(self->c.checkpoints, covered);
	if (have_tpm())
		EXPECT_LE(2, verified);
	/* the library verifier reports it and accepts it as issued */
	if (have_tpm()) {
		f = fopen("/tmp/beacon.rec", "w");
		ASSERT_NE(NULL, f);
		fwrite(self->rb.buf, 1, self->rb.len, f);
		fclose(f);
		for (i = 0; i < ATTESTIO_HASH_LEN; i++)
			sprintf(hex + 2 * i, "%02x", b.value[i]);
		EXPECT_EQ(0, run(NULL, 0, "build/bin/attestio verify --ak "
				 "/tmp/ksk.pem --allow-join --beacon %s "
				 "/tmp/beacon.rec >/dev/null 2>&1", hex));
		hex[0] = hex[0] == '0' ? '1' : '0';
		EXPECT_NE(0, run(NULL, 0, "build/bin/attestio verify --ak "
				 "/tmp/ksk.pem --allow-join --beacon %s "
				 "/tmp/beacon.rec >/dev/null 2>&1", hex));
	}
}

/* A failing quote is an error record plus unsigned checkpoints with the RC. */
TEST_F_TIMEOUT(cap, tpm_error_recorded, 60)
{
	struct attestio_rec_info info;
	const struct attestio_error *err;
	int errors = 0;
	size_t off;

	if (!have_tpm())
		SKIP(return, "no TPM in this guest");
	/* a persistent handle with no key behind it */
	ASSERT_EQ(0, load("epoch_ms=250 key_handle=0x81000099"));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, self->s.dev[0]);
	read_stream(self->fd, &self->rb, &self->c, 0, 50, true, 20000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	EXPECT_EQ(0, self->c.signed_checkpoints);
	EXPECT_EQ(ATTESTIO_CP_TPM_ERROR, self->c.last_status);
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type != ATTESTIO_REC_ERROR)
			continue;
		err = (const void *)(self->rb.buf + off + ATTESTIO_HDR_LEN);
		EXPECT_EQ(ATTESTIO_ERR_TPM, le32_to_cpu(err->source));
		/* TPM_RC_HANDLE for handle 1: the key does not exist */
		EXPECT_EQ(0x18b, le32_to_cpu(err->code));
		errors++;
	}
	/* once when the failure starts, not every epoch */
	EXPECT_EQ(1, errors);
	EXPECT_EQ(0, run(NULL, 0, "grep -q 'unsigned: TPM error' " SYS "last_status"));
	EXPECT_EQ(0, run(NULL, 0, "grep -q 0x18b " SYS "last_tpm_rc"));
}

/* The attach parameter attaches a device whenever it appears. */
TEST_F_TIMEOUT(cap, attach_parameter, 60)
{
	ASSERT_EQ(0, load("epoch_ms=250 attach=temperature"));
	EXPECT_EQ(0, run(NULL, 0, "grep -q waiting " SYS "streams/0/state"));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100 --start 42"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	read_stream(self->fd, &self->rb, &self->c, 0, 20, false, 20000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LE(20, self->c.nvalues);
	EXPECT_EQ(42, self->c.values[0]);
	EXPECT_EQ(0, run(NULL, 0, "grep -qx temperature " SYS "streams/0/spec"));
}

/* A reader that falls behind gets lost records that add up exactly. */
TEST_F_TIMEOUT(cap, stalled_reader_gets_exact_lost_counts, 60)
{
	struct attestio_rec_info info;
	char logbuf[256], *p;
	long long produced;
	u64 delivered = 0, lost = 0;
	size_t off;

	ASSERT_EQ(0, load("epoch_ms=250 log_kb=64"));
	ASSERT_EQ(0, sensor_start(&self->s, 1,
				  "--rate 2000 --count 6000 --start 0"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, self->s.dev[0]);
	sleep(5);	/* 6000 samples x 80 bytes: far more than 64 KiB */
	ASSERT_EQ(0, sysfs_puts(SYS "detach", self->s.dev[0]));
	do {
		off = self->rb.len;
		recbuf_read(self->fd, &self->rb, 200);
	} while (self->rb.len != off);
	for (off = 0; off < self->rb.len; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(self->rb.buf + off,
						   self->rb.len - off, &info));
		if (info.type == ATTESTIO_REC_LOST)
			lost += le64_to_cpu(((const struct attestio_lost *)
					     (self->rb.buf + off + ATTESTIO_HDR_LEN))->records);
		else
			delivered++;
	}
	EXPECT_LT(0, lost);
	/* every record the module made was delivered or declared lost */
	ASSERT_EQ(0, sysfs_gets(SYS "log", logbuf, sizeof(logbuf)));
	p = strstr(logbuf, "records ");
	ASSERT_NE(NULL, p);
	produced = strtoll(p + 8, NULL, 10);
	EXPECT_EQ(produced, (long long)(delivered + lost));
}

/* Capture-side accounting: produced = samples + declared drops, exactly. */
TEST_F_TIMEOUT(cap, capture_drops_are_declared, 60)
{
	long long produced, prev;

	ASSERT_EQ(0, load("epoch_ms=250 ring_slots=16"));
	ASSERT_EQ(0, sensor_start(&self->s, 1,
				  "--rate 20000 --count 40000 --start 0"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, self->s.dev[0]);
	sleep(4);	/* the sensor has sent all it will send */
	produced = sysfs_ll(SYS "streams/0/produced");
	ASSERT_EQ(0, sysfs_puts(SYS "detach", self->s.dev[0]));
	do {
		prev = self->rb.len;
		recbuf_read(self->fd, &self->rb, 200);
	} while ((long long)self->rb.len != prev);
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	EXPECT_LT(0, produced);
	EXPECT_EQ(produced, (long long)(self->c.nvalues + self->c.gap_lost))
		TH_LOG("samples %zu declared lost %llu", self->c.nvalues,
		       (unsigned long long)self->c.gap_lost);
	TH_LOG("produced %lld: %zu samples, %llu declared lost", produced,
	       self->c.nvalues, (unsigned long long)self->c.gap_lost);
}

/* Unplug mid-stream: detach record; plug back: same stream, new segment. */
TEST_F_TIMEOUT(cap, unplug_detaches_and_replug_resumes, 90)
{
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 200 --start 0"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, "temperature");	/* by name: survives replug */
	read_stream(self->fd, &self->rb, &self->c, 0, 100, false, 10000);
	ASSERT_EQ(0, sensor_stop(&self->s));	/* the HID device goes away */
	usleep(500000);
	recbuf_read(self->fd, &self->rb, 500);
	check_reset(&self->c, 0);
	check_stream(&self->rb, &self->c);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	EXPECT_EQ(1, self->c.detaches);
	EXPECT_EQ(ATTESTIO_DETACH_REMOVED, self->c.last_detach_reason);
	EXPECT_EQ(0, run(NULL, 0, "grep -q waiting " SYS "streams/0/state"));

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 200 --start 5000"));
	read_stream(self->fd, &self->rb, &self->c, 0, self->c.nvalues + 100,
		    true, 15000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	EXPECT_EQ(2, self->c.descriptors);
	EXPECT_EQ(1, self->c.last_segment);
	EXPECT_EQ(0, run(NULL, 0, "grep -q attached " SYS "streams/0/state"));
	EXPECT_EQ(0, run(NULL, 0, "grep -q 1 " SYS "streams/0/segment"));
	EXPECT_LE(1, self->c.chain_checked);
}

/* Unbinding the driver detaches; binding it again resumes the stream. */
TEST_F_TIMEOUT(cap, unbind_detaches_and_rebind_resumes, 90)
{
	long long deadline;
	char cmd[512];

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 200 --start 0"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, "temperature");
	read_stream(self->fd, &self->rb, &self->c, 0, 50, false, 10000);
	snprintf(cmd, sizeof(cmd),
		 "p=$(readlink -f /sys/bus/iio/devices/%s/..) && "
		 "drv=$(readlink -f $p/driver) && "
		 "echo ${p##*/} > $drv/unbind && sleep 0.5 && "
		 "grep -q waiting " SYS "streams/0/state && "
		 "echo ${p##*/} > $drv/bind", self->s.dev[0]);
	ASSERT_EQ(0, run(NULL, 0, "%s", cmd));
	/* the old segment's last samples are still arriving: wait for the new */
	deadline = now_ms() + 20000;
	do {
		recbuf_read(self->fd, &self->rb, 100);
		check_reset(&self->c, 0);
		check_stream(&self->rb, &self->c);
	} while (self->c.descriptors < 2 && !self->c.errors &&
		 now_ms() < deadline);
	read_stream(self->fd, &self->rb, &self->c, 0, self->c.nvalues + 50,
		    true, 20000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	EXPECT_EQ(1, self->c.detaches);
	EXPECT_EQ(2, self->c.descriptors);
	EXPECT_EQ(0, run(NULL, 0, "grep -q attached " SYS "streams/0/state"));
	EXPECT_LE(1, self->c.chain_checked);
}

static void expect_write(struct __test_metadata *_metadata, const char *file,
			 const char *val, size_t len, int err)
{
	char path[128];

	snprintf(path, sizeof(path), SYS "%s", file);
	EXPECT_EQ(err, sysfs_write(path, val, len))
		TH_LOG("write '%.40s' to %s", val, file);
}

/* Bad writes fail with a clear errno and change nothing. */
TEST_F_TIMEOUT(cap, bad_sysfs_writes_change_nothing, 60)
{
	static char huge[4096];

	memset(huge, 'A', sizeof(huge));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 50"));
	expect_write(_metadata, "attach", "", 0, 0);	/* no store call */
	expect_write(_metadata, "attach", " ", 1, -EINVAL);
	expect_write(_metadata, "attach", "\n", 1, -EINVAL);
	expect_write(_metadata, "attach", huge, sizeof(huge), -EINVAL);
	expect_write(_metadata, "attach", "\x01\x02garbage", 9, -ENODEV);
	expect_write(_metadata, "attach", "iio:device99", 12, -ENODEV);
	expect_write(_metadata, "attach", "temperature bogus", 17, -EINVAL);
	expect_write(_metadata, "attach", "temperature polled x", 20, -EINVAL);
	expect_write(_metadata, "detach", "nothing", 7, -ENODEV);
	EXPECT_EQ(-1, access(SYS "streams/0", F_OK));
	attach(_metadata, "temperature");
	expect_write(_metadata, "attach", "temperature", 11, -EBUSY);
	expect_write(_metadata, "attach", self->s.dev[0], strlen(self->s.dev[0]),
		     -EBUSY);
	EXPECT_EQ(-1, access(SYS "streams/1", F_OK));

	expect_write(_metadata, "epoch_ms", "0", 1, -ERANGE);
	expect_write(_metadata, "epoch_ms", "abc", 3, -EINVAL);
	expect_write(_metadata, "epoch_ms", "", 0, 0);	/* no store call */
	expect_write(_metadata, "epoch_ms", "\n", 1, -EINVAL);
	expect_write(_metadata, "epoch_ms", "99999999999999999999999", 23, -ERANGE);
	expect_write(_metadata, "epoch_ms", "-5", 2, -EINVAL);
	expect_write(_metadata, "pcr_mask", "0x1000000", 9, -ERANGE);
	expect_write(_metadata, "key_handle", "0x12345678", 10, -EINVAL);
	expect_write(_metadata, "key_handle", "junk", 4, -EINVAL);
	expect_write(_metadata, "poll_ms", "0", 1, -ERANGE);
	expect_write(_metadata, "sign", "maybe", 5, -EINVAL);
	EXPECT_EQ(250, sysfs_ll(SYS "epoch_ms"));
	EXPECT_EQ(0x23ff, sysfs_ll(SYS "pcr_mask"));	/* PCRs 0-9, 13 */
	EXPECT_EQ(0, sysfs_ll(SYS "key_handle"));
	expect_write(_metadata, "epoch_ms", "300\n", 4, 0);
	EXPECT_EQ(300, sysfs_ll(SYS "epoch_ms"));
	EXPECT_EQ(0, run(NULL, 0, "grep -q attached " SYS "streams/0/state"));
}

/* Several devices at once; one quote per epoch covers them all. */
TEST_F_TIMEOUT(cap, several_devices_one_quote_per_epoch, 60)
{
	struct stream_check c[3] = { 0 };
	int i, j;

	ASSERT_EQ(0, sensor_start(&self->s, 3,
				  "--kind pressure --rate 100 --start 7 --instances 3"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	for (i = 0; i < 3; i++)
		attach(_metadata, self->s.dev[i]);
	read_stream(self->fd, &self->rb, &self->c, 2, 100, true, 20000);
	for (i = 0; i < 3; i++) {
		check_reset(&c[i], i);
		check_stream(&self->rb, &c[i]);
		EXPECT_EQ(0, c[i].errors) TH_LOG("stream %d: %s", i, c[i].why);
		ASSERT_LE(50, c[i].nvalues);
		for (j = 0; j < 50; j++)
			EXPECT_EQ(7 + i * 1000000LL + j, c[i].values[j]);
		EXPECT_LE(1, c[i].chain_checked);
		EXPECT_EQ(3, c[i].last_nheads);
	}
	/* checkpoints went to every stream; the epoch counter counts quotes */
	EXPECT_GE(sysfs_ll(SYS "epoch") + 1, c[0].last_epoch);
	for (i = 0; i < 3; i++)
		check_free(&c[i]);
}

/* read() returns whole records only; poll and O_NONBLOCK behave. */
TEST_F_TIMEOUT(cap, read_semantics, 60)
{
	struct attestio_filter filter = { .mask = 0 };
	struct attestio_rec_info info;
	struct attestio_info ainfo;
	u8 small[8], buf[4096];
	struct pollfd p;
	ssize_t n, off;
	int fd;

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
	attach(_metadata, self->s.dev[0]);
	fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	p.fd = fd;
	p.events = POLLIN;
	usleep(300000);
	EXPECT_EQ(-1, read(fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(fd, ATTESTIO_IOC_GET_INFO, &ainfo));
	EXPECT_EQ(ATTESTIO_REC_VERSION, ainfo.rec_version);
	/* a filter selecting nothing: nothing to read */
	ASSERT_EQ(0, ioctl(fd, ATTESTIO_IOC_SET_FILTER, &filter));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	filter.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(fd, ATTESTIO_IOC_SET_FILTER, &filter));
	EXPECT_EQ(EINVAL, errno);
	filter.reserved[0] = 0;
	filter.mask = 1;
	ASSERT_EQ(0, ioctl(fd, ATTESTIO_IOC_SET_FILTER, &filter));
	EXPECT_EQ(1, poll(&p, 1, 3000));
	n = read(fd, buf, sizeof(buf));
	ASSERT_LT(0, n);
	/* whole records, back to back */
	for (off = 0; off < n; off += info.len) {
		ASSERT_EQ(0, attestio_rec_validate(buf + off, n - off, &info));
	}
	close(fd);
}

/* Polled mode reads read_raw at poll_ms. */
TEST_F_TIMEOUT(cap, polled_mode, 60)
{
	ASSERT_EQ(0, load("epoch_ms=250 poll_ms=50"));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 200 --start 100"));
	self->fd = open("/dev/attestio", O_RDONLY | O_NONBLOCK);
	attach(_metadata, "temperature polled");
	read_stream(self->fd, &self->rb, &self->c, 0, 10, true, 20000);
	ASSERT_EQ(0, self->c.errors) TH_LOG("%s", self->c.why);
	ASSERT_LE(10, self->c.nvalues);
	EXPECT_EQ(0, run(NULL, 0, "grep -q polled " SYS "streams/0/mode"));
	for (size_t i = 1; i < self->c.nvalues; i++)
		EXPECT_LT(self->c.values[i - 1], self->c.values[i]);
}

static void *blocked_reader(void *arg)
{
	u8 buf[4096];
	int fd = *(int *)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

/* rmmod with streams, a blocked reader and tracepoints: clean. */
TEST_F_TIMEOUT(cap, rmmod_with_everything_running, 60)
{
	pthread_t th;
	int fd;

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 500"));
	attach(_metadata, self->s.dev[0]);
	ASSERT_EQ(0, run(NULL, 0, "echo 1 > /sys/kernel/tracing/events/attestio/enable"));
	fd = open("/dev/attestio", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_reader, &fd));
	usleep(500000);
	EXPECT_LT(0, run(NULL, 0, "grep -c attestio_record /sys/kernel/tracing/trace"));
	/* an open reader pins the module: rmmod fails cleanly */
	EXPECT_NE(0, run(NULL, 0, "rmmod attestio 2>/dev/null"));
	EXPECT_EQ(0, access(SYS "streams/0", F_OK));
	pthread_cancel(th);
	pthread_join(th, NULL);
	close(fd);
	EXPECT_EQ(0, run(NULL, 0, "rmmod attestio"));
	EXPECT_NE(0, access(SYS, F_OK));
	run(NULL, 0, "echo 0 > /sys/kernel/tracing/events/enable");
}

static long long slab_objs(void)
{
	char out[64];

	if (run(out, sizeof(out), "awk '/^kmalloc-/ {n += $2} END {print n}' /proc/slabinfo"))
		return -1;
	return atoll(out);
}

/*
 * Load/unload 100 times: no kmalloc object is left per load.  The count is
 * global, so unrelated kernel activity adds noise: a leak of one object or
 * more per load shows in both halves of 50 loads, noise rarely does.
 */
TEST_F_TIMEOUT(cap, load_unload_100_no_leak, 240)
{
	long long n0, n1, n2;
	int i;

	run(NULL, 0, "rmmod attestio 2>/dev/null; modprobe attestio && rmmod attestio");
	n0 = slab_objs();
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, run(NULL, 0, "modprobe attestio && rmmod attestio"));
	n1 = slab_objs();
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, run(NULL, 0, "modprobe attestio && rmmod attestio"));
	n2 = slab_objs();
	EXPECT_FALSE(n1 - n0 >= 50 && n2 - n1 >= 50)
		TH_LOG("kmalloc objects %lld -> %lld -> %lld over 2 x 50 loads",
		       n0, n1, n2);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The test bed proves itself: the guest runs the requested kernel, the TPM
 * answers (or is absent with --no-tpm), the module loads, and the emulated
 * HID sensors make the kernel's real drivers deliver exactly the scripted
 * values, in order, at the requested rate, independently per instance.
 */
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "helpers.h"

TEST(kernel_series)
{
	const char *want = getenv("ATTESTIO_EXPECT_KERNEL");
	struct utsname u;
	char prefix[32];

	if (!want || !*want)
		SKIP(return, "ATTESTIO_EXPECT_KERNEL not set");
	ASSERT_EQ(0, uname(&u));
	snprintf(prefix, sizeof(prefix), "%s.", want);
	EXPECT_EQ(0, strncmp(u.release, prefix, strlen(prefix)))
		TH_LOG("running %s, expected %s", u.release, want);
}

TEST(tpm)
{
	const char *want = getenv("ATTESTIO_EXPECT_TPM");
	char out[128];
	size_t i;

	if (want && !strcmp(want, "0")) {
		EXPECT_NE(0, access("/dev/tpm0", F_OK));
		EXPECT_NE(0, access("/dev/tpmrm0", F_OK));
		return;
	}
	ASSERT_EQ(0, run(out, sizeof(out),
			 "TPM2TOOLS_TCTI=device:/dev/tpmrm0 tpm2_getrandom --hex 8"));
	EXPECT_EQ(16, (int)strlen(out)) TH_LOG("tpm2_getrandom said '%s'", out);
	for (i = 0; i < strlen(out); i++)
		EXPECT_NE(NULL, strchr("0123456789abcdefABCDEF", out[i]));
}

TEST(module_loads)
{
	char v[64];

	ASSERT_EQ(0, run(NULL, 0, "modprobe attestio"));
	ASSERT_EQ(0, sysfs_gets("/sys/kernel/attestio/version", v, sizeof(v)));
	EXPECT_EQ(0, run(NULL, 0, "test \"$(modinfo -F version attestio)\" = %s", v));
	EXPECT_EQ(0, access("/dev/attestio", F_OK));
	EXPECT_EQ(0, run(NULL, 0, "rmmod attestio"));
	EXPECT_NE(0, access("/sys/kernel/attestio", F_OK));
}

/* Read @n values (and IIO timestamps) from a userspace buffer. */
static int iio_values(const char *dev, int n, long long *vals, long long *ts)
{
	static char out[1 << 20];
	char *line, *save = NULL;
	int i = 0, rc;

	rc = run(out, sizeof(out), "tests/sensors/iioread -T -t 60 -n %d %s",
		 n, dev);
	if (rc)
		return -rc;
	for (line = strtok_r(out, "\n", &save); line && i < n;
	     line = strtok_r(NULL, "\n", &save), i++) {
		if (sscanf(line, "%lld %lld", &vals[i], &ts[i]) != 2)
			return -100;
	}
	return i;
}

static void check_ramp(struct __test_metadata *_metadata, const char *kind)
{
	long long vals[50], ts[50], period_ns;
	struct sensor s;
	char args[128];
	int i;

	/* hid-sensor-press stamps scans with the sensor's own time only */
	snprintf(args, sizeof(args),
		 "--kind %s --rate 100 --count 50 --start 1000%s", kind,
		 strcmp(kind, "pressure") ? "" : " --hw-timestamp");
	ASSERT_EQ(0, sensor_start(&s, 1, args));
	ASSERT_EQ(50, iio_values(s.dev[0], 50, vals, ts));
	for (i = 0; i < 50; i++)
		EXPECT_EQ(1000 + i, vals[i]);
	/* 100 Hz: 49 periods of 10 ms; generous bounds for TCG timing */
	period_ns = (ts[49] - ts[0]) / 49;
	EXPECT_GT(period_ns, 7000000) TH_LOG("period %lld ns", period_ns);
	EXPECT_LT(period_ns, 13000000) TH_LOG("period %lld ns", period_ns);
	EXPECT_EQ(0, sensor_stop(&s));
	/* the device is gone once the emulator exits */
	EXPECT_EQ(0, run(NULL, 0, "sleep 0.5; test ! -e /sys/bus/iio/devices/%s",
			 s.dev[0]));
}

TEST(ramp_temperature)
{
	check_ramp(_metadata, "temperature");
}

TEST(ramp_pressure)
{
	check_ramp(_metadata, "pressure");
}

TEST(instances_independent)
{
	static char a[4096], b[4096];
	struct sensor s;
	int i;

	/* hid-sensor-temperature keeps per-driver state: pressure it is */
	ASSERT_EQ(0, sensor_start(&s, 2,
				  "--kind pressure --rate 200 --count 30 --start 5 --instances 2"));
	EXPECT_NE(0, strcmp(s.dev[0], s.dev[1]));
	/* read both at once: each device delivers its own ramp */
	ASSERT_EQ(0, run(a, sizeof(a),
			 "tests/sensors/iioread -n 30 %s > /tmp/inst1 & "
			 "tests/sensors/iioread -n 30 %s; wait $!",
			 s.dev[0], s.dev[1]));
	ASSERT_EQ(0, run(b, sizeof(b), "cat /tmp/inst1"));
	for (i = 0; i < 30; i++) {
		char want[32];

		snprintf(want, sizeof(want), "%d\n", 5 + i);
		EXPECT_NE(NULL, strstr(b, want));
		snprintf(want, sizeof(want), "%d\n", 1000005 + i);
		EXPECT_NE(NULL, strstr(a, want));
	}
	EXPECT_EQ(NULL, strstr(a, "\n5\n"));
	EXPECT_EQ(0, sensor_stop(&s));
}

TEST(values_file)
{
	static const int v[] = { -40, 0, 7, -2147483647, 2147483647, 123456 };
	long long vals[6], ts[6];
	struct sensor s;
	FILE *f;
	int i;

	f = fopen("/tmp/values", "w");
	ASSERT_NE(NULL, f);
	for (i = 0; i < 6; i++)
		fprintf(f, "%d\n", v[i]);
	fclose(f);
	ASSERT_EQ(0, sensor_start(&s, 1, "--rate 50 --values /tmp/values"));
	ASSERT_EQ(6, iio_values(s.dev[0], 6, vals, ts));
	for (i = 0; i < 6; i++)
		EXPECT_EQ(v[i], vals[i]);
	EXPECT_EQ(0, sensor_stop(&s));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The attestio CLI end to end in the guest: provision an AK, load the
 * module with it, capture an emulated HID sensor, `attestio read --samples
 * 500 -o rec.bin`, `attestio verify --ak ak.pem rec.bin`; then every kind
 * of tampering (flipped bytes in each part of the records, dropped,
 * swapped and replayed records, a different key, unsigned checkpoints)
 * must make verify fail.  Also status --json, attach/detach errors, the
 * rendered read output, and --help / usage exit codes.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "records.h"

#define SYS "/sys/kernel/attestio/"
#define CLI "build/bin/attestio"
#define WORK "/tmp/cli_test"
#define AK1 "0x81010002"
#define AK2 "0x81010003"
#define REC WORK "/rec.bin"
#define OUT_CAP 65536

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * Persistent AK at @handle with its public part in @dir/ak.pem: with
 * `attestio provision` when it works, else with tpm2-tools.  Idempotent.
 */
static int provision(const char *handle, const char *dir)
{
	if (!exists("/dev/tpmrm0"))
		return -1;
	run(NULL, 0, "mkdir -p %s", dir);
	if (!run(NULL, 0, CLI " provision --handle %s --out %s >%s/provision.log 2>&1",
		 handle, dir, dir) &&
	    !run(NULL, 0, "test -s %s/ak.pem", dir))
		return 0;
	/* tpm2-tools: export an existing key at @handle, or make one */
	if (!run(NULL, 0, "tpm2_readpublic -c %s -f pem -o %s/ak.pem >/dev/null 2>&1",
		 handle, dir))
		return 0;
	return run(NULL, 0,
		   "cd %s && tpm2_createek -c ek.ctx -G ecc >/dev/null && "
		   "tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa "
		   "-u ak.pem -f pem >/dev/null && "
		   "tpm2_evictcontrol -C o -c ak.ctx %s >/dev/null && "
		   "tpm2_flushcontext -t >/dev/null", dir, handle);
}

/*
 * The module signs with its kernel session key (KSK), certified by the AK
 * at @handle: @dir/ksk.pem from the measurement log of the loaded module.
 */
static int ksk_pem(const char *handle, const char *dir)
{
	return run(NULL, 0, "tpm2_readpublic -c %s -o %s/ak.tpub >/dev/null 2>&1 && "
		   CLI " measurements --ak %s/ak.tpub --ksk-pem %s/ksk.pem "
		   ">%s/ksk.log 2>&1", handle, dir, dir, dir, dir);
}

static int load(const char *params)
{
	run(NULL, 0, "rmmod attestio 2>/dev/null");
	return run(NULL, 0, "modprobe attestio %s", params);
}

static size_t slurp(const char *path, u8 **buf)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, len = 0, n;

	*buf = NULL;
	if (!f)
		return 0;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap * 2 + 65536;
			*buf = realloc(*buf, cap);
		}
		n = fread(*buf + len, 1, cap - len, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	return len;
}

static int spit(const char *path, const u8 *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (len && fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Records of a recording: offset, length, type, stream of each. */
struct recs {
	u8 *buf;
	size_t len;
	size_t n;
	size_t off[8192];
	struct attestio_rec_info info[8192];
};

static int recs_load(struct recs *r, const char *path)
{
	size_t off = 0;

	r->n = 0;
	r->len = slurp(path, &r->buf);
	while (off < r->len && r->n < 8192) {
		if (attestio_rec_validate(r->buf + off, r->len - off, &r->info[r->n]))
			return -1;
		r->off[r->n] = off;
		off += r->info[r->n].len;
		r->n++;
	}
	return off == r->len && r->n ? 0 : -1;
}

/* Index of the @k-th record of @type (k from 0; negative: from the end). */
static long nth(const struct recs *r, u16 type, long k)
{
	long i, seen = 0, total = 0;

	for (i = 0; i < (long)r->n; i++)
		total += r->info[i].type == type;
	if (k < 0)
		k += total;
	for (i = 0; i < (long)r->n; i++)
		if (r->info[i].type == type && seen++ == k)
			return i;
	return -1;
}

static int verify_file(const char *path, const char *extra, char *out)
{
	return run(out, out ? OUT_CAP : 0, CLI " verify --ak " WORK "/ak1/ksk.pem %s %s 2>&1",
		   extra ? extra : "", path);
}

/* Write @buf (len) to a scratch file and verify it; the exit status. */
static int verify_bytes(const u8 *buf, size_t len, char *out)
{
	if (spit(WORK "/tampered.bin", buf, len))
		return -1;
	return verify_file(WORK "/tampered.bin", NULL, out);
}

/* Flip one byte at @off of a copy of @r and verify: the exit status. */
static int verify_flipped(const struct recs *r, size_t off, char *out)
{
	u8 *copy = malloc(r->len);
	int rc;

	memcpy(copy, r->buf, r->len);
	copy[off] ^= 0x01;
	rc = verify_bytes(copy, r->len, out);
	free(copy);
	return rc;
}

/*
 * One signed recording per boot, shared by the tests (each test runs in its
 * own process): module with AK1, a 200 Hz temperature sensor, `attestio
 * attach`, `attestio read --samples 500 -o rec.bin`.
 */
static int make_recording(char *log, size_t cap)
{
	struct sensor s;
	int rc;

	if (exists(REC))
		return 0;
	if (provision(AK1, WORK "/ak1")) {
		snprintf(log, cap, "provisioning " AK1 " failed");
		return -1;
	}
	if (load("epoch_ms=250 key_handle=" AK1)) {
		snprintf(log, cap, "modprobe failed");
		return -1;
	}
	if (ksk_pem(AK1, WORK "/ak1")) {
		snprintf(log, cap, "no certified kernel session key");
		return -1;
	}
	if (sensor_start(&s, 1, "--rate 200 --start 2000")) {
		snprintf(log, cap, "hidsensor failed");
		return -1;
	}
	rc = run(log, cap, CLI " attach %s 2>&1", s.dev[0]);
	if (!rc)
		rc = run(log, cap, CLI " read --samples 500 --timeout 60 -o "
			 WORK "/rec.tmp 2>&1 && mv " WORK "/rec.tmp " REC);
	run(NULL, 0, CLI " detach %s", s.dev[0]);
	sensor_stop(&s);
	run(NULL, 0, "rmmod attestio");
	return rc;
}

FIXTURE(cli) {
	struct sensor s;
	char *out;
};

FIXTURE_SETUP(cli)
{
	memset(&self->s, 0, sizeof(self->s));
	self->out = calloc(1, OUT_CAP);
	run(NULL, 0, "mkdir -p " WORK);
	ASSERT_EQ(0, run(NULL, 0, "test -x " CLI)) TH_LOG("build " CLI " first");
}

FIXTURE_TEARDOWN(cli)
{
	sensor_stop(&self->s);
	run(NULL, 0, "rmmod attestio 2>/dev/null");
	free(self->out);
}

#define NEED_RECORDING() do {						\
	if (!exists("/dev/tpmrm0"))					\
		SKIP(return, "no TPM in this guest");			\
	ASSERT_EQ(0, make_recording(self->out, OUT_CAP))		\
		TH_LOG("%s", self->out);				\
} while (0)

TEST_F(cli, help_and_usage)
{
	static const char *const cmds[] = {
		"status", "attach", "detach", "read", "verify",
	};
	size_t i;

	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " --help"));
	EXPECT_NE(NULL, strstr(self->out, "Exit status"));
	EXPECT_NE(NULL, strstr(self->out, "verify"));
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " --version"));
	EXPECT_NE(NULL, strstr(self->out, "attestio "));
	EXPECT_EQ(2, run(NULL, 0, CLI " 2>/dev/null"));
	EXPECT_EQ(2, run(NULL, 0, CLI " frobnicate 2>/dev/null"));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " %s --help", cmds[i]));
		EXPECT_NE(NULL, strstr(self->out, "Exit status")) TH_LOG("%s", cmds[i]);
		EXPECT_EQ(2, run(NULL, 0, CLI " %s --no-such-option 2>/dev/null",
				 cmds[i]));
	}
	EXPECT_EQ(2, run(NULL, 0, CLI " read --samples 0 2>/dev/null"));
	EXPECT_EQ(2, run(NULL, 0, CLI " read --stream 64 2>/dev/null"));
	EXPECT_EQ(2, run(NULL, 0, CLI " attach 2>/dev/null"));
	EXPECT_EQ(2, run(NULL, 0, CLI " attach 'a b' 2>/dev/null"));
	EXPECT_EQ(5, run(NULL, 0, CLI " verify /nonexistent 2>/dev/null"));
}

#define BIOS_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define PCR_DIR "/sys/class/tpm/tpm0/pcr-sha256"

/*
 * The firmware's own boot event log (SeaBIOS measures the boot: check.sh
 * boots this guest with tests/vm/run --seabios) replays to the PCRs the
 * TPM reports, and no longer does when one reported PCR differs.
 */
TEST_F_TIMEOUT(cli, firmware_event_log_replays, 60)
{
	if (!exists(BIOS_LOG))
		SKIP(return, "no firmware event log (boot with tests/vm/run --seabios)");
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " eventlog -q --pcrs " PCR_DIR
			 " --reference " BIOS_LOG " 2>&1"));
	EXPECT_NE(NULL, strstr(self->out, "replays to the reported PCRs"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "equal the reference's")) TH_LOG("%s", self->out);
	/* the same PCRs as 768 raw bytes, PCR 0's first bit flipped */
	ASSERT_EQ(0, run(self->out, OUT_CAP, "python3 -c 'import sys; "
			 "b = bytearray(b\"\".join(bytes.fromhex(open(\"" PCR_DIR
			 "/%%d\" %% i).read().strip()) for i in range(24))); "
			 "b[0] ^= 1; open(sys.argv[1], \"wb\").write(b)' "
			 WORK "/pcrs.bin 2>&1")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, run(self->out, OUT_CAP, CLI " eventlog -q --pcrs "
			 WORK "/pcrs.bin 2>&1"));
	EXPECT_NE(NULL, strstr(self->out, "does not replay to the reported PCR 0:"))
		TH_LOG("%s", self->out);
}

TEST_F(cli, module_not_loaded)
{
	run(NULL, 0, "rmmod attestio 2>/dev/null");
	EXPECT_EQ(4, run(self->out, OUT_CAP, CLI " status 2>&1"));
	EXPECT_NE(NULL, strstr(self->out, "not loaded")) TH_LOG("%s", self->out);
	EXPECT_EQ(4, run(NULL, 0, CLI " attach iio:device0 2>/dev/null"));
	EXPECT_EQ(4, run(NULL, 0, CLI " read 2>/dev/null"));
}

TEST_F_TIMEOUT(cli, status_and_attach_errors, 60)
{
	ASSERT_EQ(0, load("epoch_ms=250"));
	/* no streams yet: table and JSON */
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " status"));
	EXPECT_NE(NULL, strstr(self->out, "no streams"));
	EXPECT_EQ(0, run(NULL, 0, CLI " status --json | python3 -c "
			 "'import json,sys; d=json.load(sys.stdin); "
			 "assert d[\"streams\"]==[] and d[\"rec_version\"]==4'"));

	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 50"));
	EXPECT_EQ(4, run(self->out, OUT_CAP, CLI " attach no-such-sensor 2>&1"));
	EXPECT_NE(NULL, strstr(self->out, "no IIO device named 'no-such-sensor'"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, self->s.dev[0])) TH_LOG("%s", self->out);
	EXPECT_EQ(4, run(self->out, OUT_CAP, CLI " detach no-such-sensor 2>&1"));
	EXPECT_NE(NULL, strstr(self->out, "no stream matches")) TH_LOG("%s", self->out);

	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " attach %s 2>&1", self->s.dev[0]))
		TH_LOG("%s", self->out);
	EXPECT_EQ(4, run(self->out, OUT_CAP, CLI " attach %s 2>&1", self->s.dev[0]));
	EXPECT_NE(NULL, strstr(self->out, "already attached")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(NULL, 0, "grep -qx attached " SYS "streams/0/state"));
	usleep(600000);

	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " status"));
	EXPECT_NE(NULL, strstr(self->out, "attached")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, self->s.dev[0])) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " status --json | python3 -c "
			 "'import json,sys; d=json.load(sys.stdin); s=d[\"streams\"][0]; "
			 "assert s[\"id\"]==0 and s[\"state\"]==\"attached\" and "
			 "s[\"device\"]==\"%s\" and s[\"samples\"]>0, s; "
			 "assert d[\"checkpoints\"][\"total\"]>0; "
			 "assert d[\"totals\"][\"streams\"]==1' 2>&1", self->s.dev[0]))
		TH_LOG("%s", self->out);

	EXPECT_EQ(0, run(NULL, 0, CLI " detach %s >/dev/null", self->s.dev[0]));
	EXPECT_NE(0, run(NULL, 0, "test -d " SYS "streams/0"));
	/* polled mode through the CLI */
	EXPECT_EQ(0, run(NULL, 0, CLI " attach --polled %s >/dev/null", self->s.dev[0]));
	EXPECT_EQ(0, run(NULL, 0, "grep -qx polled " SYS "streams/0/mode"));
}

/* The recording verifies; the summary line is exact. */
TEST_F_TIMEOUT(cli, read_500_and_verify, 120)
{
	unsigned long long n = 0, m = 0;
	struct recs *r = calloc(1, sizeof(*r));

	NEED_RECORDING();
	ASSERT_EQ(0, recs_load(r, REC));
	EXPECT_EQ(ATTESTIO_REC_DESCRIPTOR, r->info[0].type);
	EXPECT_EQ(ATTESTIO_REC_CHECKPOINT, r->info[r->n - 1].type);
	EXPECT_EQ(0, verify_file(REC, NULL, self->out)) TH_LOG("%s", self->out);
	ASSERT_EQ(2, sscanf(self->out, "verified %llu samples, %llu checkpoints",
			    &n, &m)) TH_LOG("%s", self->out);
	EXPECT_LE(500, n);
	EXPECT_LE(2, m);
	/* from standard input, and as JSON */
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " verify --ak " WORK
			 "/ak1/ksk.pem - < " REC " 2>&1")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " verify --json --ak " WORK
			 "/ak1/ksk.pem " REC " | python3 -c 'import json,sys; "
			 "d=json.load(sys.stdin); assert d[\"ok\"] and "
			 "d[\"samples_verified\"]>=500, d' 2>&1")) TH_LOG("%s", self->out);
	/* without the key the signatures cannot be checked */
	EXPECT_EQ(1, run(NULL, 0, CLI " verify " REC " >/dev/null 2>&1"));
	free(r->buf);
	free(r);
}

/* Any single flipped byte, in any part of any record type, is caught. */
TEST_F_TIMEOUT(cli, flipped_bytes_fail, 120)
{
	struct recs *r = calloc(1, sizeof(*r));
	const struct attestio_checkpoint *cp;
	struct attestio_cp_layout lay;
	long d, s, c;
	size_t base, i;
	struct {
		const char *what;
		size_t off;
	} pos[32];
	int np = 0;

	NEED_RECORDING();
	ASSERT_EQ(0, recs_load(r, REC));
	d = nth(r, ATTESTIO_REC_DESCRIPTOR, 0);
	s = nth(r, ATTESTIO_REC_SAMPLE, 100);
	c = nth(r, ATTESTIO_REC_CHECKPOINT, 1);
	ASSERT_LE(0, d);
	ASSERT_LE(0, s);
	ASSERT_LE(0, c);

#define POS(w, o) do { pos[np].what = (w); pos[np].off = (o); np++; } while (0)
	base = r->off[d];
	POS("descriptor header type", base + 2);
	POS("descriptor instance", base + ATTESTIO_HDR_LEN + 1);
	POS("descriptor channel scale", base + ATTESTIO_HDR_LEN +
	    sizeof(struct attestio_descriptor) +
	    offsetof(struct attestio_channel, scale_val));
	base = r->off[s];
	POS("sample header length", base + 4);
	POS("sample header stream", base + 8);
	POS("sample header seq", base + 16);
	POS("sample header boottime", base + 24);
	POS("sample header realtime", base + 39);
	POS("sample iio timestamp", base + ATTESTIO_HDR_LEN);
	POS("sample scan value", base + ATTESTIO_HDR_LEN +
	    sizeof(struct attestio_sample));
	base = r->off[c];
	cp = (const void *)(r->buf + base + ATTESTIO_HDR_LEN);
	ASSERT_EQ(ATTESTIO_CP_SIGNED, le32_to_cpu(cp->status));
	ASSERT_EQ(0, attestio_cp_layout(le16_to_cpu(cp->nheads),
					le16_to_cpu(cp->attest_len),
					le16_to_cpu(cp->sig_len), &lay));
	POS("checkpoint header seq", base + 16);
	POS("checkpoint epoch", base + ATTESTIO_HDR_LEN);
	POS("checkpoint instance", base + ATTESTIO_HDR_LEN + 8);
	POS("checkpoint status", base + ATTESTIO_HDR_LEN + 16);
	POS("checkpoint beacon", base + ATTESTIO_HDR_LEN +
	    offsetof(struct attestio_checkpoint, beacon));
	POS("checkpoint beacon end", base + ATTESTIO_HDR_LEN +
	    offsetof(struct attestio_checkpoint, beacon) + ATTESTIO_HASH_LEN - 1);
	POS("checkpoint head seq", base + lay.heads + 8);
	POS("checkpoint head hash", base + lay.heads + 16);
	POS("checkpoint head hash end", base + lay.heads + 47);
	POS("checkpoint attest magic", base + lay.attest);
	POS("checkpoint attest middle", base + lay.attest +
	    le16_to_cpu(cp->attest_len) / 2);
	POS("checkpoint attest end", base + lay.sig - 1);
	POS("checkpoint signature start", base + lay.sig);
	POS("checkpoint signature end", base + lay.end - 1);
	if (r->off[c] + r->info[c].len > base + lay.end)
		POS("checkpoint padding", base + r->info[c].len - 1);
	POS("last record (checkpoint) signature", r->off[r->n - 1] +
	    r->info[r->n - 1].len - 9);
#undef POS
	for (i = 0; i < (size_t)np; i++) {
		int rc = verify_flipped(r, pos[i].off, self->out);

		EXPECT_EQ(1, rc) TH_LOG("%s (offset %zu): exit %d: %s", pos[i].what,
					pos[i].off, rc, self->out);
		EXPECT_NE(NULL, strstr(self->out, "FAILED")) TH_LOG("%s", pos[i].what);
	}
	free(r->buf);
	free(r);
}

/* Dropped, swapped, replayed and truncated records are caught. */
TEST_F_TIMEOUT(cli, dropped_swapped_replayed_fail, 120)
{
	struct recs *r = calloc(1, sizeof(*r));
	u8 *t;
	long s, c0, c1, cl;
	size_t a, b, la, lb;
	int rc;

	NEED_RECORDING();
	ASSERT_EQ(0, recs_load(r, REC));
	t = malloc(r->len + 2 * ATTESTIO_REC_MAX_LEN);
	s = nth(r, ATTESTIO_REC_SAMPLE, 200);
	c0 = nth(r, ATTESTIO_REC_CHECKPOINT, 0);
	c1 = nth(r, ATTESTIO_REC_CHECKPOINT, 1);
	cl = nth(r, ATTESTIO_REC_CHECKPOINT, -1);
	ASSERT_LT(c1, cl);

	/* drop a sample */
	a = r->off[s];
	la = r->info[s].len;
	memcpy(t, r->buf, a);
	memcpy(t + a, r->buf + a + la, r->len - a - la);
	rc = verify_bytes(t, r->len - la, self->out);
	EXPECT_EQ(1, rc) TH_LOG("dropped sample: %d %s", rc, self->out);

	/* drop a checkpoint in the middle */
	a = r->off[c1];
	la = r->info[c1].len;
	memcpy(t, r->buf, a);
	memcpy(t + a, r->buf + a + la, r->len - a - la);
	rc = verify_bytes(t, r->len - la, self->out);
	EXPECT_EQ(1, rc) TH_LOG("dropped checkpoint: %d %s", rc, self->out);

	/* swap two adjacent samples */
	ASSERT_EQ(ATTESTIO_REC_SAMPLE, r->info[s + 1].type);
	a = r->off[s];
	la = r->info[s].len;
	lb = r->info[s + 1].len;
	memcpy(t, r->buf, r->len);
	memcpy(t + a, r->buf + a + la, lb);
	memcpy(t + a + lb, r->buf + a, la);
	rc = verify_bytes(t, r->len, self->out);
	EXPECT_EQ(1, rc) TH_LOG("swapped samples: %d %s", rc, self->out);

	/* swap two checkpoints' positions (records in between stay) */
	memcpy(t, r->buf, r->len);
	if (r->info[c0].len == r->info[c1].len) {
		memcpy(t + r->off[c0], r->buf + r->off[c1], r->info[c1].len);
		memcpy(t + r->off[c1], r->buf + r->off[c0], r->info[c0].len);
		rc = verify_bytes(t, r->len, self->out);
		EXPECT_EQ(1, rc) TH_LOG("swapped checkpoints: %d %s", rc, self->out);
	}

	/* replay: an old checkpoint appended again at the end */
	memcpy(t, r->buf, r->len);
	memcpy(t + r->len, r->buf + r->off[c0], r->info[c0].len);
	rc = verify_bytes(t, r->len + r->info[c0].len, self->out);
	EXPECT_EQ(1, rc) TH_LOG("replayed checkpoint: %d %s", rc, self->out);

	/* replay: the last checkpoint's quote replaced by an older one's */
	{
		const struct attestio_checkpoint *o, *n;
		struct attestio_cp_layout lo, ln;

		o = (const void *)(r->buf + r->off[c0] + ATTESTIO_HDR_LEN);
		n = (const void *)(r->buf + r->off[cl] + ATTESTIO_HDR_LEN);
		attestio_cp_layout(le16_to_cpu(o->nheads), le16_to_cpu(o->attest_len),
				   le16_to_cpu(o->sig_len), &lo);
		attestio_cp_layout(le16_to_cpu(n->nheads), le16_to_cpu(n->attest_len),
				   le16_to_cpu(n->sig_len), &ln);
		if (o->attest_len == n->attest_len && o->sig_len == n->sig_len &&
		    o->nheads == n->nheads) {
			memcpy(t, r->buf, r->len);
			memcpy(t + r->off[cl] + ln.attest, r->buf + r->off[c0] + lo.attest,
			       lo.end - lo.attest);
			rc = verify_bytes(t, r->len, self->out);
			EXPECT_EQ(1, rc) TH_LOG("transplanted old quote: %d %s", rc,
						self->out);
		} else {
			TH_LOG("quote sizes differ; transplant case skipped");
		}
	}

	/* the whole file twice: every record repeated */
	memcpy(t, r->buf, r->len);
	b = r->len;
	if (spit(WORK "/twice.bin", r->buf, r->len) == 0) {
		run(NULL, 0, "cat " REC " >> " WORK "/twice.bin");
		rc = verify_file(WORK "/twice.bin", NULL, self->out);
		EXPECT_EQ(1, rc) TH_LOG("file twice: %d %s", rc, self->out);
	}

	/* truncated: half a record; empty */
	rc = verify_bytes(r->buf, b - 12, self->out);
	EXPECT_EQ(1, rc) TH_LOG("truncated: %d %s", rc, self->out);
	rc = verify_bytes(r->buf, 0, self->out);
	EXPECT_EQ(1, rc) TH_LOG("empty: %d %s", rc, self->out);
	free(t);
	free(r->buf);
	free(r);
}

/* A second AK in the same TPM: its public key does not verify AK1's quotes,
 * and AK1's key does not verify checkpoints signed by AK2.
 */
TEST_F_TIMEOUT(cli, different_key_fails, 120)
{
	NEED_RECORDING();
	ASSERT_EQ(0, provision(AK2, WORK "/ak2"));
	EXPECT_NE(0, run(NULL, 0, "cmp -s " WORK "/ak1/ak.pem " WORK "/ak2/ak.pem"));
	EXPECT_EQ(1, run(self->out, OUT_CAP, CLI " verify --ak " WORK
			 "/ak2/ak.pem " REC " 2>&1")) TH_LOG("%s", self->out);

	ASSERT_EQ(0, load("epoch_ms=250 key_handle=" AK2));
	ASSERT_EQ(0, ksk_pem(AK2, WORK "/ak2"));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
	ASSERT_EQ(0, run(NULL, 0, CLI " attach %s >/dev/null", self->s.dev[0]));
	ASSERT_EQ(0, run(self->out, OUT_CAP, CLI " read --samples 50 --timeout 60 -o "
			 WORK "/ak2.bin 2>&1")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, OUT_CAP, CLI " verify --ak " WORK "/ak2/ksk.pem "
			 WORK "/ak2.bin 2>&1")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, verify_file(WORK "/ak2.bin", NULL, self->out)) TH_LOG("%s", self->out);
}

/* No key: checkpoints are unsigned; verify refuses unless told to accept. */
TEST_F_TIMEOUT(cli, unsigned_checkpoints, 90)
{
	if (!exists("/dev/tpmrm0"))
		SKIP(return, "no TPM in this guest");
	ASSERT_EQ(0, provision(AK1, WORK "/ak1"));
	ASSERT_EQ(0, load("epoch_ms=250"));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 100"));
	ASSERT_EQ(0, run(NULL, 0, CLI " attach %s >/dev/null", self->s.dev[0]));
	ASSERT_EQ(0, run(self->out, OUT_CAP, CLI " read --samples 50 --timeout 60 -o "
			 WORK "/unsigned.bin 2>&1")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, verify_file(WORK "/unsigned.bin", NULL, self->out))
		TH_LOG("%s", self->out);
	/* accepting unsigned records does not make anything proven */
	EXPECT_EQ(1, verify_file(WORK "/unsigned.bin", "--allow-unsigned", self->out))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "verified 0 samples, 0 checkpoints"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "nothing is proven")) TH_LOG("%s", self->out);
}

/* The rendered stream: SI values and VERIFIED states; JSON lines parse. */
TEST_F_TIMEOUT(cli, read_rendered, 120)
{
	if (!exists("/dev/tpmrm0"))
		SKIP(return, "no TPM in this guest");
	ASSERT_EQ(0, provision(AK1, WORK "/ak1"));
	ASSERT_EQ(0, load("epoch_ms=250 key_handle=" AK1));
	/* this load's session key (not the recording's) */
	ASSERT_EQ(0, run(NULL, 0, "mkdir -p " WORK "/ak1r"));
	ASSERT_EQ(0, ksk_pem(AK1, WORK "/ak1r"));
	ASSERT_EQ(0, sensor_start(&self->s, 1, "--rate 50 --start 2150"));
	ASSERT_EQ(0, run(NULL, 0, CLI " attach %s >/dev/null", self->s.dev[0]));
	ASSERT_EQ(0, run(self->out, OUT_CAP, CLI " read --samples 20 --timeout 60 --ak "
			 WORK "/ak1r/ksk.pem 2>&1")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "descriptor")) TH_LOG("%s", self->out);
	/* hid-sensor-temperature: raw 2150 with scale 10 milli-degC = 21.5 degC */
	EXPECT_NE(NULL, strstr(self->out, "21.5")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "VERIFIED")) TH_LOG("%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "BAD")) TH_LOG("%s", self->out);
	/* --json: every line an object; samples carry values and a state */
	ASSERT_EQ(0, run(self->out, OUT_CAP, CLI " read --samples 20 --timeout 60 --json "
			 "--stream 0 --ak " WORK "/ak1r/ksk.pem | python3 -c '"
			 "import json,sys\n"
			 "recs=[json.loads(l) for l in sys.stdin]\n"
			 "s=[r for r in recs if r[\"type\"]==\"sample\"]\n"
			 "assert len(s)==20, len(s)\n"
			 "assert all(r[\"state\"]==\"VERIFIED\" for r in s), s[-1]\n"
			 "assert s[0][\"values\"][0][\"unit\"], s[0]\n"
			 "assert any(r[\"type\"]==\"checkpoint\" for r in recs)\n"
			 "' 2>&1")) TH_LOG("%s", self->out);
	/* a filter for a stream that does not exist: nothing, then timeout */
	EXPECT_EQ(1, run(NULL, 0, CLI " read --samples 1 --timeout 2 --stream 5 "
			 ">/dev/null 2>&1"));
}

TEST_HARNESS_MAIN

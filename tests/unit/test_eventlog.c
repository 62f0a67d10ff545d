// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the boot event log (user/lib/eventlog.c): a crypto-agile
 * log built here event by event (SHA-1 and SHA-256 banks) parses, replays
 * to the PCRs OpenSSL computes independently (StartupLocality included),
 * every truncation and each malformed field is refused, and the
 * explanation names a log that does not replay and the first event that
 * differs from a reference log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <libattestio.h>

#include "eventlog_build.h"

static void test_replay(void **st)
{
	uint8_t got[ATT_EVENTLOG_PCRS][32], p0[32] = { 0 }, p4[32] = { 0 },
		p7[32] = { 0 };
	struct att_eventlog l;
	struct att_err e = { 0 };
	uint32_t touched;
	struct lb b;

	(void)st;
	sample(&b, "grub");
	assert_int_equal(att_eventlog_parse(b.b, b.n, &l, &e), 0);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.ev[1].type, 8);
	assert_string_equal(att_eventlog_type_name(l.ev[2].type),
			    "EV_EFI_BOOT_SERVICES_APPLICATION");
	assert_false(att_eventlog_extends(&l.ev[5]));
	att_eventlog_replay(&l, got, &touched);
	assert_int_equal(touched, 1u << 0 | 1u << 4 | 1u << 7);
	p0[31] = 3;	/* StartupLocality 3 */
	extend(p0, "S-CRTM version");
	extend(p4, "shim");
	extend(p4, "grub");
	extend(p7, "separator");
	assert_memory_equal(got[0], p0, 32);
	assert_memory_equal(got[4], p4, 32);
	assert_memory_equal(got[7], p7, 32);
	for (int i = 1; i < ATT_EVENTLOG_PCRS; i++)
		if (i != 4 && i != 7)
			assert_memory_equal(got[i], (uint8_t[32]){ 0 }, 32);
	att_eventlog_free(&l);
}

/* Every prefix that is not an event boundary is refused, cleanly. */
static void test_truncated(void **st)
{
	struct att_eventlog l;
	struct att_err e;
	size_t ok = 0;
	struct lb b;

	(void)st;
	sample(&b, "grub");
	for (size_t n = 0; n < b.n; n++) {
		memset(&e, 0, sizeof(e));
		if (!att_eventlog_parse(b.b, n, &l, &e)) {
			ok++;	/* a boundary: the Spec ID event or whole events */
			att_eventlog_free(&l);
		} else {
			assert_int_equal(e.code, ATT_EPARSE);
			assert_non_null(strstr(e.msg, "boot event log"));
		}
	}
	assert_int_equal(ok, 6);	/* after Spec ID and after events 1-5 */
}

static void refused(struct lb *b, size_t at, const void *v, size_t n,
		    const char *why)
{
	struct att_eventlog l;
	struct att_err e = { 0 };

	memcpy(b->b + at, v, n);
	assert_int_equal(att_eventlog_parse(b->b, b->n, &l, &e), ATT_EPARSE);
	if (!strstr(e.msg, why))
		fail_msg("expected \"%s\" in \"%s\"", why, e.msg);
}

static void test_malformed(void **st)
{
	const size_t ev1 = 32 + 37;	/* first TCG_PCR_EVENT2 */
	struct lb b;

	(void)st;
	sample(&b, "grub");
	refused(&b, 4, "\x01", 1, "not the EV_NO_ACTION Spec ID");
	sample(&b, "grub");
	refused(&b, 32, "Spec ID Event02", 15, "not \"Spec ID Event03\"");
	sample(&b, "grub");
	refused(&b, 32 + 21, "\x01", 1, "specVersionMajor 1");
	sample(&b, "grub");
	refused(&b, 32 + 32, "\x0c", 1, "no SHA-256 bank");	/* SHA-384 id */
	sample(&b, "grub");
	refused(&b, 32 + 32, "\x04", 1, "named twice");
	sample(&b, "grub");
	refused(&b, 32 + 24, "\x09", 1, "9 digest algorithms");
	sample(&b, "grub");
	refused(&b, ev1, "\x18", 1, "extends PCR 24");
	sample(&b, "grub");
	refused(&b, ev1 + 8, "\x01", 1, "carries 1 digests");
	sample(&b, "grub");
	refused(&b, ev1 + 12, "\x0b", 1, "the Spec ID order");
	sample(&b, "grub");
	refused(&b, ev1 + 12 + 22 + 34, "\xff\xff", 2, "runs past the end");
}

static void test_explain(void **st)
{
	uint8_t pcrs[ATT_EVENTLOG_PCRS * 32], rp[ATT_EVENTLOG_PCRS][32];
	struct att_eventlog l;
	struct lb b, ref, ref2;
	uint32_t touched;
	char out[1024];

	(void)st;
	sample(&b, "grub");
	assert_int_equal(att_eventlog_parse(b.b, b.n, &l, NULL), 0);
	att_eventlog_replay(&l, rp, &touched);
	att_eventlog_free(&l);
	memcpy(pcrs, rp, sizeof(pcrs));
	/* replays, no reference */
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x91,
					      NULL, 0, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "(6 events) replays to the reported PCRs"));
	/* a reported PCR 4 the log does not produce */
	pcrs[4 * 32] ^= 1;
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x91,
					      NULL, 0, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "does not replay to the reported PCR 4: "));
	pcrs[4 * 32] ^= 1;
	/* the reference booted "grub", this gateway "evil-grub" */
	sample(&ref, "grub");
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x91,
					      ref.b, ref.n, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "equal the reference's"));
	sample(&b, "evil-grub");
	assert_int_equal(att_eventlog_parse(b.b, b.n, &l, NULL), 0);
	att_eventlog_replay(&l, rp, &touched);
	att_eventlog_free(&l);
	memcpy(pcrs, rp, sizeof(pcrs));
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x91,
					      ref.b, ref.n, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "; PCR 4: event 4 (EV_EFI_BOOT_SERVICES_APPLICATION, "
			       "sha256 "));
	assert_non_null(strstr(out, "differs from the reference's event 4"));
	assert_null(strstr(out, "PCR 0:"));
	/* outside the mask, the same difference is not named */
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x81,
					      ref.b, ref.n, out, sizeof(out)), 0);
	/* a reference with one more event in PCR 7 */
	sample(&ref2, "evil-grub");
	event(&ref2, 7, 0x800000e0, "db");
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x80,
					      ref2.b, ref2.n, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "PCR 7: the reference's event 7 "
			       "(EV_EFI_VARIABLE_AUTHORITY"));
	/* no log, a log that does not parse */
	assert_int_equal(att_eventlog_explain(NULL, 0, pcrs, sizeof(pcrs), 0x91,
					      NULL, 0, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no boot event log"));
	assert_int_equal(att_eventlog_explain(b.b, 40, pcrs, sizeof(pcrs), 0x91,
					      NULL, 0, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "boot event log: "));
	/* a tiny buffer is cut, never overrun */
	assert_int_equal(att_eventlog_explain(b.b, b.n, pcrs, sizeof(pcrs), 0x91,
					      ref.b, ref.n, out, 8), 1);
	assert_int_equal(strlen(out), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

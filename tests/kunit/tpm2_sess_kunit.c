// SPDX-License-Identifier: GPL-2.0
/* KUnit suite for the kernel build of kernel/tpm2_sess.c. */
#include <kunit/test.h>
#include <linux/string.h>

#define CASE(name) static void name(struct kunit *test)
#define EXPECT_EQ(a, b) KUNIT_EXPECT_EQ(test, (u64)(a), (u64)(b))
#define EXPECT_MEMEQ(a, b, n) KUNIT_EXPECT_EQ(test, memcmp((a), (b), (n)), 0)

#include "tpm2_sess_cases.h"

#define KCASE(name) KUNIT_CASE(name),
static struct kunit_case attestio_tpm2_sess_cases[] = {
	TPM2_SESS_CASES(KCASE)
	{}
};

static struct kunit_suite attestio_tpm2_sess_suite = {
	.name = "attestio_tpm2_sess",
	.test_cases = attestio_tpm2_sess_cases,
};
kunit_test_suite(attestio_tpm2_sess_suite);

MODULE_LICENSE("GPL");

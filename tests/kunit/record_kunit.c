// SPDX-License-Identifier: GPL-2.0
/* KUnit suite for the kernel build of kernel/record.c. */
#include <kunit/test.h>
#include <linux/string.h>

#define CASE(name) static void name(struct kunit *test)
#define EXPECT_EQ(a, b) KUNIT_EXPECT_EQ(test, (u64)(a), (u64)(b))
#define EXPECT_MEMEQ(a, b, n) KUNIT_EXPECT_EQ(test, memcmp((a), (b), (n)), 0)

#include "record_cases.h"

#define KCASE(name) KUNIT_CASE(name),
static struct kunit_case attestio_record_cases[] = {
	RECORD_CASES(KCASE)
	{}
};

static struct kunit_suite attestio_record_suite = {
	.name = "attestio_record",
	.test_cases = attestio_record_cases,
};
kunit_test_suite(attestio_record_suite);

MODULE_LICENSE("GPL");

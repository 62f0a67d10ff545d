/* SPDX-License-Identifier: GPL-2.0 */
/* Adapts the shared tests/common case files to cmocka. */
#ifndef ATTESTIO_CMOCKA_CASES_H
#define ATTESTIO_CMOCKA_CASES_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define CASE(name) static void name(void **state __attribute__((unused)))
#define EXPECT_EQ(a, b) assert_int_equal((uint64_t)(a), (uint64_t)(b))
#define EXPECT_MEMEQ(a, b, n) assert_memory_equal((a), (b), (n))
#define CMOCKA_CASE(name) cmocka_unit_test(name),
#endif

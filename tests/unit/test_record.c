// SPDX-License-Identifier: GPL-2.0
/* cmocka suite for the userspace build of kernel/record.c. */
#include "cmocka_cases.h"
#include "record_cases.h"

int main(void)
{
	const struct CMUnitTest tests[] = {
		RECORD_CASES(CMOCKA_CASE)
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}

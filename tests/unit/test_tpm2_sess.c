// SPDX-License-Identifier: GPL-2.0
/* cmocka suite for the userspace build of kernel/tpm2_sess.c. */
#include "cmocka_cases.h"
#include "tpm2_sess_cases.h"

int main(void)
{
	const struct CMUnitTest tests[] = {
		TPM2_SESS_CASES(CMOCKA_CASE)
	};

	return cmocka_run_group_tests_name("tpm2_sess", tests, NULL, NULL);
}

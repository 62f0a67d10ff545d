// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the progress line (user/firstrun/progress.c, used by
 * `attestio verify` and `attestiod --once`): its text, and that it is
 * drawn only when stdout and stderr are terminals and not with --json.
 * The terminal is a real pseudo-terminal (forkpty); the child runs the
 * progress calls as verify and attestiod do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

static void test_format(void **st)
{
	char b[160];

	(void)st;
	progress_format(b, sizeof(b), "verify", 3 << 20, 12 << 20, 4096, 2500);
	assert_string_equal(b, "verify  4096 records  3.0 of 12.0 MiB (25%)  2 s");
	progress_format(b, sizeof(b), "verify", 5 << 20, 0, 7, 999);
	assert_string_equal(b, "verify  7 records  5.0 MiB  0 s");
	progress_format(b, sizeof(b), "verify", 13, 12, 1, 0);
	assert_non_null(strstr(b, "(100%)"));
	progress_format_records(b, sizeof(b), "sync", 250, 1000, 61500);
	assert_string_equal(b, "sync  250 of 1000 records (25%)  61 s");
	progress_format_records(b, sizeof(b), "sync", 0, 0, 0);
	assert_string_equal(b, "sync  0 of 0 records (100%)  0 s");
}

/* The child: a 1 MiB input file, progress over it as verify runs it. */
static void child(bool json, bool pipe_stdout, bool records)
{
	char path[] = "/tmp/test_cli_progress.XXXXXX";
	int fd = mkstemp(path);
	struct progress p;

	if (fd < 0 || ftruncate(fd, 1 << 20))
		_exit(2);
	unlink(path);
	if (pipe_stdout) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
			_exit(2);
	}
	progress_begin(&p, "verify", fd, json);
	for (int i = 0; i <= 4; i++) {
		if (records)	/* attestiod --once: acked of spooled */
			progress_update_records(&p, (uint64_t)i * 25, 100);
		else
			progress_update(&p, (uint64_t)i << 18, (uint64_t)i * 100);
		usleep((PROGRESS_TICK_MS + 20) * 1000);
	}
	progress_end(&p);
	if (write(STDERR_FILENO, "END\n", 4) != 4)
		_exit(2);
	_exit(0);
}

/* What the child wrote on its terminal. */
static size_t run(bool json, bool pipe_stdout, bool records, char *out,
		  size_t cap)
{
	int master, status;
	size_t len = 0;
	ssize_t n;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);

	assert_true(pid >= 0);
	if (pid == 0)
		child(json, pipe_stdout, records);
	while (len + 1 < cap && (n = read(master, out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(master);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(out, "END"));
	return len;
}

static void test_terminal(void **st)
{
	char out[4096];

	(void)st;
	run(false, false, false, out, sizeof(out));
	/* drawn every tick, growing, then cleared before the result */
	assert_non_null(strstr(out, "\rverify  0 records  0.0 of 1.0 MiB (0%)  0 s\033[K"));
	assert_non_null(strstr(out, "verify  400 records  1.0 of 1.0 MiB (100%)"));
	assert_non_null(strstr(out, "\r\033[KEND"));
}

static void test_terminal_records(void **st)
{
	char out[4096];

	(void)st;
	run(false, false, true, out, sizeof(out));
	assert_non_null(strstr(out, "\rverify  0 of 100 records (0%)  0 s\033[K"));
	assert_non_null(strstr(out, "verify  75 of 100 records (75%)"));
	assert_non_null(strstr(out, "\r\033[KEND"));
	run(false, true, true, out, sizeof(out));
	assert_null(strstr(out, "records"));
}

static void test_not_terminal(void **st)
{
	char out[4096];

	(void)st;
	/* --json on a terminal, and stdout captured: nothing but the result */
	run(true, false, false, out, sizeof(out));
	assert_null(strstr(out, "records"));
	assert_null(strstr(out, "\033[K"));
	run(false, true, false, out, sizeof(out));
	assert_null(strstr(out, "records"));
	assert_null(strstr(out, "\033[K"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_terminal_records),
		cmocka_unit_test(test_not_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

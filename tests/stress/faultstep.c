// SPDX-License-Identifier: GPL-2.0
/*
 * faultstep: systematic fault injection into the system calls that reach
 * attestio (tests/stress/run.sh, faults).
 *
 *   faultstep [-v] sweep KO PARAMS DEVICE SECONDS
 *
 * For each step in turn (load: init_module() with the module's init;
 * attach and detach: the sysfs writes; read: open() and read() of
 * /dev/attestio; unload: delete_module() with the module's exit and its
 * final checkpoint), runs the step with its Nth allocation failing
 * (/proc/thread-self/fail-nth: failslab and fail_page_alloc, set up by the
 * caller with ignore-gfp-wait N and min-order 0), for N = 1, 2, ... until
 * a run of the step reaches no Nth allocation: then every allocation the
 * step makes has been failed once.  Between runs the state the step needs
 * is restored without injection (load the module, attach the device, or
 * undo what a run that absorbed its failure did).  SECONDS bounds the
 * sweep of each step (a step not swept to its end is reported so).
 *
 * After each run: a failed init_module() leaves no module, a
 * delete_module() that returned 0 leaves none either (/proc/modules
 * says), and a load or attach that absorbed its failure (returned 0)
 * leaves a module whose device attaches and whose records reach a reader.
 * Prints per step "STEP points P failed F absorbed A complete yes|no".
 *
 * Everything is read and opened before the injection, nothing is executed
 * during it, and the binary is static and run from a tmpfs copy: a process
 * under injection that maps files of the guest's 9p root file system
 * breaks the mount when it exits (a failed allocation in 9p's own paths;
 * every later exec() fails with EINVAL, seen on 6.1), which is 9p's
 * problem, not attestio's.
 *
 * Exit status: 0 every step swept (or timed out) and the module works
 * after each run; 1 a run left the module in a state it should not be in;
 * 2 usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SYS_ATTACH	"/sys/kernel/attestio/attach"
#define SYS_DETACH	"/sys/kernel/attestio/detach"
#define DEV_ATTESTIO	"/dev/attestio"

static int verbose;
static char *img;
static size_t img_len;
static const char *params, *device;
static int nth_fd = -1;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Arm the Nth allocation of this thread to fail (0: disarm). */
static int arm(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	if (pwrite(nth_fd, b, (size_t)l, 0) != l) {
		fprintf(stderr, "faultstep: cannot write fail-nth: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether the armed failure was injected (fail-nth reads 0); disarms. */
static bool fired(void)
{
	char b[16] = { 0 };
	bool f = pread(nth_fd, b, sizeof(b) - 1, 0) > 0 && atoi(b) == 0;

	arm(0);
	return f;
}

static bool loaded(void)
{
	char line[256];
	bool yes = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "attestio ", 9))
			yes = true;
	fclose(f);
	return yes;
}

static int do_load(void)
{
	return syscall(SYS_init_module, img, (unsigned long)img_len, params) ? -errno : 0;
}

static int do_unload(void)
{
	return syscall(SYS_delete_module, "attestio", O_NONBLOCK) ? -errno : 0;
}

static int do_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, device, strlen(device)) != (ssize_t)strlen(device))
		ret = -errno;
	close(fd);
	return ret;
}

/* Read /dev/attestio for @ms ms (@early: until the first records). */
static int do_read(long ms, bool early)
{
	static char buf[1 << 16];
	long end = now_ms() + ms;
	int fd = open(DEV_ATTESTIO, O_RDONLY | O_NONBLOCK | O_CLOEXEC), ret = -ENODATA;

	if (fd < 0)
		return -errno;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		poll(&p, 1, 50);
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			ret = 0;
			if (early)
				break;
		}
		else if (n < 0 && errno != EAGAIN && errno != EINTR && ret)
			ret = -errno;
	}
	close(fd);
	return ret;
}

/* Setup without injection: the module loaded (and the device attached). */
static int ensure(bool want_loaded, bool want_attached)
{
	if (!want_loaded) {
		if (loaded() && do_unload()) {
			do_write(SYS_DETACH);
			if (do_unload())
				return -1;
		}
		return 0;
	}
	if (!loaded() && do_load())
		return -1;
	if (want_attached) {
		int r = do_write(SYS_ATTACH);

		if (r && r != -EEXIST && r != -EBUSY && r != -EALREADY)
			return -1;
	}
	return 0;
}

enum step { S_LOAD, S_ATTACH, S_READ, S_DETACH, S_UNLOAD, S_N };
static const char *const step_name[S_N] = {
	"load", "attach", "read", "detach", "unload",
};

/* The state each step starts from: loaded? attached? */
static const bool need_loaded[S_N] = { false, true, true, true, true };
static const bool need_attached[S_N] = { false, false, true, true, true };

static int run_step(enum step s)
{
	switch (s) {
	case S_LOAD:
		return do_load();
	case S_ATTACH:
		return do_write(SYS_ATTACH);
	case S_READ:
		return do_read(300, false);
	case S_DETACH:
		return do_write(SYS_DETACH);
	case S_UNLOAD:
		return do_unload();
	default:
		return -EINVAL;
	}
}

/* FAULTSTEP_FROM=N: start each sweep at allocation N (a rerun of a
 * failure the full sweep found). */
static unsigned int first = 1;

static int sweep(enum step s, long budget_ms)
{
	long end = now_ms() + budget_ms;
	unsigned int n, failed = 0, absorbed = 0;
	bool complete = false;

	n = first;
	for (; now_ms() < end; n++) {
		int r;

		if (s == S_ATTACH)
			do_write(SYS_DETACH);
		if (ensure(need_loaded[s], need_attached[s])) {
			fprintf(stderr, "faultstep: %s run %u: cannot set up its start "
				"(module %s) without injection\n", step_name[s], n,
				loaded() ? "loaded" : "not loaded");
			return 1;
		}
		if (arm(n))
			return 2;
		r = run_step(s);
		if (!fired()) {
			complete = true;	/* no Nth allocation: swept */
			break;
		}
		if (r)
			failed++;
		else
			absorbed++;
		if (verbose)
			fprintf(stderr, "faultstep: %s: allocation %u failed: %s\n",
				step_name[s], n, r ? strerror(-r) : "absorbed");
		/* a failed load leaves nothing behind */
		if (s == S_LOAD && r && loaded()) {
			fprintf(stderr, "faultstep: load with allocation %u failed "
				"(%s) but the module is listed\n", n, strerror(-r));
			return 1;
		}
		/* a load or attach that absorbed its failure works: the
		 * device attaches and its records reach a reader */
		if ((s == S_LOAD || s == S_ATTACH) && !r) {
			/* (a workqueue whose worker creation failed gets one
			 * after the pool's cooldown, a second: wait for it) */
			int a = ensure(true, true), rd = a ? 0 : do_read(5000, true);

			if (a || rd) {
				fprintf(stderr, "faultstep: %s absorbed allocation %u, "
					"but then %s\n", step_name[s], n, a ?
					"the device did not attach" :
					"no records reached a reader");
				if (rd)
					fprintf(stderr, "faultstep: read: %s\n", strerror(-rd));
				return 1;
			}
		}
		if (s == S_UNLOAD && !r && loaded()) {
			fprintf(stderr, "faultstep: unload with allocation %u failed "
				"returned 0 but the module is listed\n", n);
			return 1;
		}
	}
	printf("%s points %u failed %u absorbed %u complete %s\n", step_name[s],
	       failed + absorbed, failed, absorbed, complete ? "yes" : "no");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct stat st;
	long budget_ms;
	int fd, ret = 0;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc != 6 || strcmp(argv[1], "sweep")) {
		fprintf(stderr, "usage: faultstep [-v] sweep KO PARAMS DEVICE SECONDS\n");
		return 2;
	}
	params = argv[3];
	device = argv[4];
	budget_ms = strtol(argv[5], NULL, 10) * 1000L;
	if (getenv("FAULTSTEP_FROM"))
		first = (unsigned int)strtoul(getenv("FAULTSTEP_FROM"), NULL, 10);
	if (!first)
		first = 1;
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !(img = malloc((size_t)st.st_size)) ||
	    read(fd, img, (size_t)st.st_size) != st.st_size) {
		fprintf(stderr, "faultstep: cannot read %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	close(fd);
	img_len = (size_t)st.st_size;
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0) {
		fprintf(stderr, "faultstep: cannot open /proc/thread-self/fail-nth: %s "
			"(CONFIG_FAULT_INJECTION?)\n", strerror(errno));
		return 2;
	}
	for (enum step s = S_LOAD; s < S_N && !ret; s++)
		ret = sweep(s, budget_ms);
	if (!ret && ensure(false, false)) {
		fprintf(stderr, "faultstep: cannot unload the module after the sweep\n");
		ret = 1;
	}
	return ret;
}

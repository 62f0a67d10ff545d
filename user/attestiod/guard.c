// SPDX-License-Identifier: GPL-2.0
/*
 * Guards (guard.mode, Documentation/attestiod.md "Guards"): guard.bpf.c's
 * BPF LSM file_open program, so that only this daemon's cgroup can open
 * /dev/attestio and the TPM devices, and its cgroup/connect4/6 programs,
 * so that this cgroup connects only to the configured brokers (and the
 * name servers of /etc/resolv.conf, which resolving them needs).  The
 * programs stay attached while the daemon runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attestiod.h"
#include "guard.skel.h"
#include "../bpf/attestiod.h"

struct guard {
	struct guard_bpf *skel;
	struct bpf_link *open, *c4, *c6;
	int cgfd;
};

/* Is the BPF LSM active?  1 yes, 0 no, -errno unknown. */
static int bpf_lsm_active(void)
{
	char buf[512];
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	char *tok, *save;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/* This process's cgroup (v2): an O_DIRECTORY fd and its id. */
static int own_cgroup(char *path, size_t cap, uint64_t *id)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	struct stat st;
	int fd = -1;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, cap, "/sys/fs/cgroup%s", line + 3);
			fd = 0;
		}
	fclose(f);
	if (fd)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fstat(fd, &st);
	*id = st.st_ino;	/* a cgroup2 directory's inode is the cgroup id */
	return fd;
}

static int allow_addr(struct guard *g, const struct sockaddr *sa)
{
	struct attestiod_guard_addr a = { 0 };
	uint8_t one = 1;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		a.family = 4;
		a.port = s4->sin_port;
		memcpy(a.addr, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		a.family = 6;
		a.port = s6->sin6_port;
		memcpy(a.addr, &s6->sin6_addr, 16);
	} else {
		return 0;
	}
	return bpf_map__update_elem(g->skel->maps.brokers, &a, sizeof(a), &one,
				    sizeof(one), BPF_ANY);
}

/* Every address HOST:PORT resolves to. */
static int allow_host(struct guard *g, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int err = getaddrinfo(host, port, &hints, &res), n = 0;

	if (err) {
		logmsg(LOG_ERR, "guard: cannot resolve broker %s: %s", host,
		       gai_strerror(err));
		return -ENOENT;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if (!allow_addr(g, ai->ai_addr))
			n++;
	freeaddrinfo(res);
	return n ? 0 : -ENOENT;
}

static int allow_brokers(struct guard *g, const struct config *c)
{
	char line[256], host[PATH_LEN];
	FILE *f;

	for (int i = 0; i < c->nbrokers; i++) {
		const char *u = strstr(c->brokers[i], "://") + 3, *colon;

		/* [v6]:port or host:port */
		if (*u == '[') {
			colon = strstr(u, "]:");
			if (!colon)
				return -EINVAL;
			snprintf(host, sizeof(host), "%.*s", (int)(colon - u - 1), u + 1);
			colon++;
		} else {
			colon = strrchr(u, ':');
			if (!colon)
				return -EINVAL;
			snprintf(host, sizeof(host), "%.*s", (int)(colon - u), u);
		}
		if (allow_host(g, host, colon + 1))
			return -ENOENT;
	}
	f = fopen("/etc/resolv.conf", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char ns[64];

		if (sscanf(line, "nameserver %63s", ns) == 1)
			allow_host(g, ns, "53");
	}
	if (f)
		fclose(f);
	return 0;
}

static int guard_device(struct guard *g, const char *path)
{
	struct stat st;
	uint32_t kdev;
	uint8_t one = 1;

	if (stat(path, &st) || !S_ISCHR(st.st_mode))
		return 0;	/* not on this machine */
	kdev = (major(st.st_rdev) << 20) | minor(st.st_rdev);
	return bpf_map__update_elem(g->skel->maps.devices, &kdev, sizeof(kdev),
				    &one, sizeof(one), BPF_ANY);
}

int guard_init(struct guard **gp, const struct config *c)
{
	static const char *const devs[] = { "/dev/attestio", "/dev/tpm0", "/dev/tpmrm0" };
	struct guard *g;
	char cgpath[600];
	uint64_t cgid = 0;
	int lsm, err;

	*gp = NULL;
	if (c->guard == GUARD_OFF)
		return 0;
	lsm = bpf_lsm_active();
	if (lsm <= 0) {
		logmsg(LOG_ERR, "guard: CANNOT BE ENFORCED: the BPF LSM is not active "
		       "(/sys/kernel/security/lsm %s); boot with lsm=<the list there>,bpf",
		       lsm ? "unreadable" : "does not list bpf");
		M.guard_enforced = 0;
		return c->guard == GUARD_REQUIRED ? -EPERM : 0;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cgfd = own_cgroup(cgpath, sizeof(cgpath), &cgid);
	if (g->cgfd < 0 || !strcmp(cgpath, "/sys/fs/cgroup/")) {
		logmsg(LOG_ERR, "guard: CANNOT BE ENFORCED: %s", g->cgfd < 0 ?
		       "this process's cgroup (v2) is unknown" :
		       "the daemon runs in the root cgroup; start it in its own "
		       "(systemd does)");
		err = -ENOENT;
		goto fail;
	}
	g->skel = guard_bpf__open();
	if (!g->skel) {
		err = -errno;
		goto fail;
	}
	g->skel->rodata->daemon_cgroup = cgid;
	err = guard_bpf__load(g->skel);
	for (size_t i = 0; !err && i < sizeof(devs) / sizeof(devs[0]); i++)
		err = guard_device(g, devs[i]);
	if (!err)
		err = allow_brokers(g, c);
	if (err) {
		logmsg(LOG_ERR, "guard: CANNOT BE ENFORCED: loading the programs "
		       "failed: %s", strerror(-err));
		goto fail;
	}
	g->open = bpf_program__attach_lsm(g->skel->progs.guard_open);
	g->c4 = bpf_program__attach_cgroup(g->skel->progs.guard_connect4, g->cgfd);
	g->c6 = bpf_program__attach_cgroup(g->skel->progs.guard_connect6, g->cgfd);
	if (!g->open || !g->c4 || !g->c6) {
		err = -errno;
		logmsg(LOG_ERR, "guard: CANNOT BE ENFORCED: attaching failed: %s "
		       "(file_open %s, connect4 %s, connect6 %s)", strerror(-err),
		       g->open ? "ok" : "failed", g->c4 ? "ok" : "failed",
		       g->c6 ? "ok" : "failed");
		goto fail;
	}
	M.guard_enforced = 1;
	logmsg(LOG_NOTICE, "guard: enforced: only cgroup %s (id %llu) opens "
	       "/dev/attestio and the TPM, and it connects only to the brokers",
	       cgpath + strlen("/sys/fs/cgroup"), (unsigned long long)cgid);
	*gp = g;
	return 0;
fail:
	guard_fini(g);
	M.guard_enforced = 0;
	return c->guard == GUARD_REQUIRED ? (err ? err : -EPERM) : 0;
}

void guard_fini(struct guard *g)
{
	if (!g)
		return;
	bpf_link__destroy(g->open);
	bpf_link__destroy(g->c4);
	bpf_link__destroy(g->c6);
	guard_bpf__destroy(g->skel);
	if (g->cgfd >= 0)
		close(g->cgfd);
	free(g);
}

void guard_counters(const struct guard *g, uint64_t *open_denied,
		    uint64_t *connect_denied)
{
	int fd;
	uint32_t k;

	if (!g)
		return;
	fd = bpf_map__fd(g->skel->maps.guard_counters);
	k = ATTESTIOD_GUARD_OPEN_DENIED;
	bpf_map_lookup_elem(fd, &k, open_denied);
	k = ATTESTIOD_GUARD_CONNECT_DENIED;
	bpf_map_lookup_elem(fd, &k, connect_denied);
}

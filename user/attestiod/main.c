// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod: carries every attested record of this gateway to the oracle
 * nodes over MQTT/TLS, durably (Documentation/attestiod.md).  This file
 * is the loop only: options, configuration, signals, the epoll loop and
 * sd_notify; the work is in source.c, spool.c, link.c, beacon.c and
 * metrics.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "attestiod.h"
#include "ack.h"
#include "gwstatus.h"
#include "progress.h"

struct metrics M;
static bool use_syslog, journal;
/* --once on a terminal: the drain's progress line (log lines clear it) */
static struct progress once_pg;
/* how often the gateway status report goes to the nodes */
#define GW_STATUS_MS	5000

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(int prio, const char *fmt, ...)
{
	static uint64_t window, suppressed;
	static unsigned int lines;
	uint64_t now = now_ms() / 1000;
	va_list ap;

	if (now != window) {
		if (suppressed)
			fprintf(stderr, "attestiod: %llu log lines suppressed\n",
				(unsigned long long)suppressed);
		window = now;
		lines = 0;
		suppressed = 0;
	}
	if (++lines > 20 && prio > LOG_CRIT) {
		suppressed++;
		return;
	}
	progress_end(&once_pg);	/* redrawn at the next tick */
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		if (journal)
			fprintf(stderr, "<%d>", prio);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: attestiod --config FILE [--foreground] [--once] [--source bpf|dev]\n"
"       attestiod --check-config --config FILE\n"
"\n"
"Carries the attested records of this gateway (/dev/attestio) to the oracle\n"
"nodes over MQTT with mutual TLS.  Every record is written to a durable\n"
"spool (SQLite, WAL) before it is published and deleted only when\n"
"ack_quorum oracle nodes acknowledged it end to end.\n"
"\n"
"  -c, --config FILE    INI configuration (Documentation/attestiod.md)\n"
"  -f, --foreground     stay in the foreground, log to stderr (also when\n"
"                       started by systemd, which Type=notify expects)\n"
"  -1, --once           read what the source holds now, publish everything\n"
"                       spooled, wait until all of it is acked, exit\n"
"  -s, --source TYPE    bpf: the module's tracepoints through a BPF ring\n"
"                       buffer, holes filled from /dev/attestio; dev:\n"
"                       /dev/attestio only (overrides [source] type)\n"
"  -n, --check-config   parse the configuration, report, exit\n"
"  -h, --help           this text\n"
"\n"
"Signals: SIGHUP reloads the configuration (spool, ack and retransmit\n"
"settings, oracle nodes; other changes need a restart); SIGTERM/SIGINT\n"
"write the spool and exit.\n"
"Environment: ATTESTIO_DEV overrides the default source.device.\n"
"Exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration,\n"
"3 spool cannot be opened, 4 source cannot be opened, 5 TLS/MQTT setup,\n"
"6 guard.mode = required and the guard cannot be enforced.\n");
}

enum { T_TIMER = 1, T_SIG, T_SRC, T_LINK, T_METRICS };

struct reg {
	int fd;
	uint32_t ev;
};

static int ep;

/*
 * Keep @fd registered with @ev.  A closed fd leaves the epoll set by
 * itself and its number may come back for a new socket (libmosquitto
 * reconnecting): MOD fails with ENOENT then, and the fd is added again.
 */
static void epoll_sync(struct reg *r, int fd, uint32_t ev, uint32_t tag)
{
	struct epoll_event e = { .events = ev, .data.u32 = tag };

	if (r->fd >= 0 && r->fd != fd)
		epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, NULL);
	if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) && errno == ENOENT)
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	r->fd = fd;
	r->ev = ev;
}

static void reload(const char *path, struct config *c, struct spool *spool)
{
	struct config n;
	char err[512];

	if (config_load(path, &n, err, sizeof(err))) {
		logmsg(LOG_ERR, "reload refused, configuration unchanged: %s", err);
		return;
	}
	strcpy(n.source, c->source);	/* --source, or the file's at start */
	n.source_set = c->source_set;
	if (strcmp(n.gw_id, c->gw_id) || strcmp(n.device, c->device) ||
	    n.ring_bytes != c->ring_bytes || n.guard != c->guard ||
	    strcmp(n.spool_path, c->spool_path) || strcmp(n.ca, c->ca) ||
	    strcmp(n.cert, c->cert) || strcmp(n.key, c->key) ||
	    strcmp(n.metrics, c->metrics) || n.nbrokers != c->nbrokers ||
	    memcmp(n.brokers, c->brokers, sizeof(n.brokers)))
		logmsg(LOG_WARNING, "reload: gateway id, source, guard, spool path, "
		       "brokers, TLS files and metrics need a restart; kept");
	c->sync_records = n.sync_records;
	c->sync_ms = n.sync_ms;
	c->max_bytes = n.max_bytes;
	c->max_age_s = n.max_age_s;
	c->on_full = n.on_full;
	c->retransmit_ms = n.retransmit_ms;
	c->backoff_min_ms = n.backoff_min_ms;
	c->backoff_max_ms = n.backoff_max_ms;
	c->batch_bytes = n.batch_bytes;
	memcpy(c->nodes, n.nodes, sizeof(n.nodes));
	memcpy(c->node_ids, n.node_ids, sizeof(n.node_ids));
	c->nnodes = n.nnodes;
	c->ack_quorum = n.ack_quorum;
	spool_reconfig(spool, c);	/* acks it queued name the old nodes */
	logmsg(LOG_NOTICE, "configuration reloaded (%d oracle nodes, quorum %u)",
	       c->nnodes, c->ack_quorum);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "once", no_argument, NULL, '1' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "source", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct config cfg;
	const char *path = NULL, *source = NULL;
	struct guard *guard = NULL;
	bool fg = false, once = false, check = false, stop = false;
	struct source *src = NULL;
	struct spool *spool = NULL;
	struct link *link = NULL;
	struct enroll *enr = NULL;
	struct beacon *beacon = NULL;
	struct metrics_srv *met = NULL;
	struct reg rsrc = { -1, 0 }, rlink = { -1, 0 };
	struct itimerspec its = { { 0, 50000000 }, { 0, 50000000 } };
	uint64_t wd_usec = 0, wd_last = 0, ev_last = 0, st_last = 0, gs_last = 0;
	bool src_done = false;
	char err[512];
	sigset_t ss;
	int o, tfd, sfd, ret = EX_RUNTIME;

	while ((o = getopt_long(argc, argv, "c:f1ns:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'f': fg = true; break;
		case '1': once = true; break;
		case 'n': check = true; break;
		case 's': source = optarg; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	journal = getenv("JOURNAL_STREAM") != NULL;
	if (source && strcmp(source, "bpf") && strcmp(source, "dev")) {
		fprintf(stderr, "attestiod: --source must be bpf or dev\n");
		return EX_USAGE;
	}
	if (config_load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "attestiod: %s\n", err);
		return EX_USAGE;
	}
	if (source) {
		strcpy(cfg.source, source);
		cfg.source_set = true;
	}
	if (check) {
		printf("%s: ok (gateway %s, %d brokers, %d oracle nodes, quorum %u)\n",
		       path, cfg.gw_id, cfg.nbrokers, cfg.nnodes, cfg.ack_quorum);
		return EX_OK;
	}
	if (!fg && !getenv("NOTIFY_SOCKET")) {
		if (daemon(0, 0)) {
			perror("attestiod: daemon");
			return EX_RUNTIME;
		}
		openlog("attestiod", LOG_PID, LOG_DAEMON);
		use_syslog = true;
	}
	srandom((unsigned int)(now_ms() ^ (uint64_t)getpid()));
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		logmsg(LOG_ERR, "cannot set up the event loop: %s", strerror(errno));
		return EX_RUNTIME;
	}
	if (spool_init(&spool, &cfg)) {
		ret = EX_SPOOL;
		goto out;
	}
	if (guard_init(&guard, &cfg)) {
		ret = EX_GUARD;
		goto out;
	}
	if (source_init(&src, &cfg, spool)) {
		ret = EX_SOURCE;
		goto out;
	}
	if (enroll_init(&enr, &cfg)) {	/* may set gateway.id: before link */
		ret = EX_USAGE;
		goto out;
	}
	if (link_init(&link, &cfg, spool)) {
		ret = EX_LINK;
		goto out;
	}
	if (enr) {
		size_t blen;
		const uint8_t *b = enroll_bundle(enr, &blen);

		if (link_enroll(link, b, blen, enroll_answer, enr)) {
			ret = EX_RUNTIME;
			goto out;
		}
	}
	if (beacon_init(&beacon, &cfg)) {
		ret = EX_RUNTIME;
		goto out;
	}
	link_beacons(link, beacon_message, beacon);
	if (metrics_init(&met, &cfg)) {
		ret = EX_USAGE;
		goto out;
	}
	{
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = T_TIMER };

		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e);
		e.data.u32 = T_SIG;
		epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
		if (met) {
			e.data.u32 = T_METRICS;
			epoll_ctl(ep, EPOLL_CTL_ADD, metrics_fd(met), &e);
		}
	}
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	sd_notifyf(0, "READY=1\nSTATUS=gateway %s, %d brokers", cfg.gw_id, cfg.nbrokers);
	logmsg(LOG_NOTICE, "attestiod %s: gateway %s, source %s %s, spool %s%s",
	       "started", cfg.gw_id, cfg.source, cfg.device, cfg.spool_path,
	       once ? " (once)" : "");
	if (once)
		progress_begin(&once_pg, "attestiod --once: acked", -1, false);

	while (!stop) {
		struct epoll_event evs[8];
		int n, lfd = link_fd(link);
		bool tick = false;

		epoll_sync(&rsrc, src_done ? -1 : source_fd(src), EPOLLIN, T_SRC);
		epoll_sync(&rlink, lfd, EPOLLIN | (link_want_write(link) ? EPOLLOUT : 0),
			   T_LINK);
		n = epoll_wait(ep, evs, 8, -1);
		if (n < 0 && errno != EINTR) {
			logmsg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t ev = evs[i].events;

			switch (evs[i].data.u32) {
			case T_TIMER: {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) > 0)
					tick = true;
				break;
			}
			case T_SIG: {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						sd_notify(0, "RELOADING=1");
						reload(path, &cfg, spool);
						sd_notify(0, "READY=1");
					} else {
						stop = true;
					}
				}
				break;
			}
			case T_SRC:
				for (int k = 0; k < 16; k++) {
					int r = source_read(src);

					if (r < 0) {
						if (r < -1)
							logmsg(LOG_ERR, "source: read error %d", r);
						src_done = true;
						break;
					}
					if (spool_unsynced(spool) >= cfg.sync_records)
						spool_sync(spool);
					if (!r)
						break;
				}
				break;
			case T_LINK:
				link_io(link, ev & (EPOLLIN | EPOLLERR | EPOLLHUP),
					ev & EPOLLOUT);
				break;
			case T_METRICS:
				metrics_run(met);
				break;
			}
		}
		if (!tick)
			continue;
		{
			uint64_t now = now_ms();

			if (source_fd(src) < 0 && !src_done) {	/* a regular file */
				for (int k = 0; k < 64; k++) {
					int r = source_read(src);

					if (spool_unsynced(spool) >= cfg.sync_records)
						spool_sync(spool);
					if (r < 0 && once)
						src_done = true;
					if (r <= 0)
						break;
				}
			} else if (once && source_fd(src) >= 0 && !src_done) {
				if (source_read(src) <= 0)
					src_done = true;	/* the device has no more now */
			}
			if (spool_sync_due(spool, now))
				spool_sync(spool);
			source_pause(src, spool_tick(spool, now));
			source_tick(src);
			guard_counters(guard, &M.guard_open_denied,
				       &M.guard_connect_denied);
			if (now - ev_last >= cfg.ev_interval_ms) {
				uint8_t *eb = NULL;
				size_t el = 0;

				ev_last = now;
				if (evidence_gather(&cfg, &eb, &el) == 1)
					link_evidence(link, eb, el);
				free(eb);
			}
			link_tick(link, now);
			beacon_tick(beacon, now);
			metrics_run(met);
			if (now - st_last >= 1000) {
				st_last = now;
				metrics_status_file(&cfg, false);
			}
			if (now - gs_last >= GW_STATUS_MS) {
				struct oracle_gwstatus gs = {
					.time = now / 1000,
					.spool_records = M.spool_records,
					.spool_bytes = M.spool_bytes,
					.spool_age_s = M.spool_age_s,
					.beacon_round = M.beacon_round,
				};

				gs_last = now;
				if (!oracle_unhex(cfg.gw_id, gs.gw, sizeof(gs.gw)))
					link_status(link, &gs);
			}
			if (wd_usec && now - wd_last >= wd_usec / 2000) {
				sd_notify(0, "WATCHDOG=1");
				wd_last = now;
			}
			if (once)
				progress_update_records(&once_pg, M.records_acked,
							M.records_acked + M.spool_records);
			if (once && src_done && spool_empty(spool)) {
				logmsg(LOG_NOTICE, "once: everything spooled was acked");
				stop = true;
			}
		}
	}
	sd_notify(0, "STOPPING=1");
	metrics_status_file(&cfg, true);
	ret = EX_OK;
	if (spool_sync(spool))
		logmsg(LOG_ERR, "exit: %u records could not be written to the spool",
		       spool_unsynced(spool));
	source_tick(src);
	logmsg(LOG_NOTICE, "stopped: %llu read, %llu holes, %llu declared lost, "
	       "%llu backfilled, %llu spooled, %llu published, "
	       "%llu acked, %llu still spooled",
	       (unsigned long long)M.records_read, (unsigned long long)M.records_holes,
	       (unsigned long long)M.records_lost_declared,
	       (unsigned long long)M.records_backfilled,
	       (unsigned long long)M.records_spooled,
	       (unsigned long long)M.records_published,
	       (unsigned long long)M.records_acked, (unsigned long long)M.spool_records);
out:
	metrics_fini(met);
	link_fini(link);
	enroll_fini(enr);
	beacon_fini(beacon);
	source_fini(src);
	guard_fini(guard);
	spool_fini(spool);
	return ret;
}

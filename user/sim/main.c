// SPDX-License-Identifier: GPL-2.0
/*
 * attestio-sim: many simulated gateways in single-threaded epoll loops, one
 * per worker process (Documentation/system.md).  Records: user/lib/sim.c; carried by
 * attestiod's spool.c and link.c, one spool and one MQTT session per
 * gateway, configured from an attestiod configuration file (the template).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/attestio.h>
#include <openssl/pem.h>

#include "attestiod.h"
#include "ack.h"
#include "fleet.h"
#include "sim.h"

#define EX_OK		0
#define EX_RUNTIME	1
#define EX_USAGE	2
#define EX_SPOOL	3
#define EX_LINK		5
#define EX_UNACKED	6

struct metrics M;	/* attestiod's counters, summed over all gateways */
static int verbose;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(int prio, const char *fmt, ...)
{
	static uint64_t window;
	static unsigned int lines;
	uint64_t now = now_ms() / 1000;
	va_list ap;

	if (prio > (verbose ? LOG_INFO : LOG_WARNING))
		return;
	if (now != window) {
		window = now;
		lines = 0;
	}
	if (++lines > 20)
		return;
	va_start(ap, fmt);
	fputs("attestio-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct srec {
	struct rec_meta m;
	uint8_t *data;
	uint32_t len;
};

struct sgw {
	int group, idx;
	char id[33];
	EVP_PKEY *key, *other;
	struct config cfg;
	struct spool *spool;
	struct link *link;
	struct att_sim_chain ch[ATTESTIO_MAX_STREAMS];
	long epoch;			/* epochs produced */
	int fd;				/* registered in epoll, -1 */
	uint32_t ev;
	struct srec *saved;		/* replay: epoch from - 1 */
	int nsaved;
	uint64_t produced, replayed;
};

static struct sim_conf sc;
static struct config tmpl;
static struct sgw *gws;
static int ngw, ep;
static int *mine, nmine;	/* this worker's gateways (indexes into gws) */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: attestio-sim init --config FILE\n"
"       attestio-sim run --config FILE [--verbose]\n"
"       attestio-sim check --config FILE\n"
"\n"
"A fleet of simulated gateways: genuine attestio records (the module's\n"
"record and chain code) with quotes signed by SOFTWARE P-256 keys in TPM\n"
"format, carried by attestiod's spool and MQTT link with end-to-end acks.\n"
"Their keys are written as \"ATTESTIO SIMULATED PUBLIC KEY\": an oracle\n"
"node admits them only with [node] allow_simulated = true.\n"
"\n"
"  init   create the gateways' keys in [sim] dir (kept if present) and\n"
"         write DIR/gateways.txt: id group site behaviour streams ak-file\n"
"  run    produce [sim] epochs epochs in real time, publish, wait up to\n"
"         drain_s for the acks, write DIR/report.json and a summary\n"
"  check  parse the configuration and the gateway template, report\n"
"\n"
"Exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration,\n"
"3 a spool cannot be created, 5 TLS/MQTT setup failed, 6 records still\n"
"unacked after drain_s.\n");
}

static int gw_path(const struct sgw *g, const char *ext, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.200s/%s.%s", sc.dir, g->id, ext);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int setup_gateways(bool create)
{
	int n = 0;

	for (int k = 0; k < sc.ngroups; k++)
		n += sc.group[k].count;
	gws = calloc((size_t)n, sizeof(*gws));
	if (!gws)
		return -1;
	for (int k = 0; k < sc.ngroups; k++) {
		for (int i = 0; i < sc.group[k].count; i++) {
			struct sgw *g = &gws[ngw++];
			char path[512];
			uint8_t id[16];
			FILE *f;

			g->group = k;
			g->idx = i;
			g->fd = -1;
			sim_gw_id(&sc, k, i, id);
			oracle_hex(id, 16, g->id);
			if (gw_path(g, "key", path, sizeof(path)))
				return -1;
			f = fopen(path, "r");
			if (f) {
				g->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
				fclose(f);
			} else if (create) {
				g->key = EVP_EC_gen("P-256");
				f = fopen(path, "w");
				if (!f || !g->key || !PEM_write_PrivateKey(f, g->key, NULL, NULL, 0, NULL, NULL) ||
				    fclose(f))
					return -1;
			}
			if (!g->key) {
				fprintf(stderr, "attestio-sim: %s: missing or bad (run init first)\n", path);
				return -1;
			}
			if (gw_path(g, "ak.pem", path, sizeof(path)) ||
			    (create && att_sim_write_ak(g->key, path)))
				return -1;
		}
	}
	return 0;
}

static int write_list(void)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/gateways.txt", sc.dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (int i = 0; i < ngw; i++) {
		const struct sim_group *gr = &sc.group[gws[i].group];

		fprintf(f, "%s %s %s %s %d %s/%s.ak.pem\n", gws[i].id, gr->name,
			sc.site[gr->site].name, sim_behaviour_name(gr->behaviour),
			gr->streams, sc.dir, gws[i].id);
	}
	return fclose(f);
}

/* ------------------------------------------------------------ records --- */

static void epoll_sync(struct sgw *g)
{
	int fd = g->link ? link_fd(g->link) : -1;
	uint32_t ev = EPOLLIN | (g->link && link_want_write(g->link) ? EPOLLOUT : 0);
	struct epoll_event e = { .events = ev, .data.u32 = (uint32_t)(g - gws) + 1 };

	if (fd == g->fd && ev == g->ev)
		return;
	if (g->fd >= 0 && g->fd != fd)
		epoll_ctl(ep, EPOLL_CTL_DEL, g->fd, NULL);
	if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) && errno == ENOENT)
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	g->fd = fd;
	g->ev = ev;
}

static int push(struct srec *rs, int *n, struct att_sim_chain *c, uint32_t len)
{
	rs[*n].data = calloc(1, len);
	if (!rs[*n].data)
		return -1;
	rs[*n].len = len;
	rs[*n].m = (struct rec_meta){ c->instance, c->id, c->gen, c->seq, RK_CHAINED };
	return (*n)++;
}

/* Epoch @e of gateway @g: records into its spool.  0 or -1. */
static int produce(struct sgw *g, long e)
{
	const struct sim_group *gr = &sc.group[g->group];
	bool act = sim_active(gr, e), first = e == gr->from;
	int S = gr->streams, cap = S * ((int)sc.samples + 2), n = 0, r = 0;
	uint64_t t0 = sc.start_ms + (uint64_t)(e - 1) * sc.epoch_ms;
	struct att_sim_chain *ss[ATTESTIO_MAX_STREAMS];
	struct att_sim_qopt q = { .key = g->key, .clock = 1000u * (uint64_t)e };
	struct att_sim_cp cp;
	struct srec *rs;

	if (gr->behaviour == B_SILENT && act)
		return 0;
	rs = calloc((size_t)cap, sizeof(*rs));
	if (!rs)
		return -1;
#define NS(t)	((t) * 1000000ull)
#define BOOT(t)	NS((t) - sc.start_ms + 1000)
	for (int s = 0; s < S; s++) {
		ss[s] = &g->ch[s];
		if (!g->ch[s].instance)
			att_sim_chain_init(&g->ch[s], strtoull(g->id + 16, NULL, 16) | 1,
					   (uint32_t)s, 1);
		if (!g->ch[s].seq) {
			int k = push(rs, &n, &g->ch[s], att_sim_desc_len());

			if (k < 0 || att_sim_desc(&g->ch[s], rs[k].data, BOOT(t0), NS(t0)))
				goto fail;
		}
	}
	for (long i = 0; i < sc.samples; i++) {
		uint64_t t = t0 + (uint64_t)i * sc.epoch_ms / (uint64_t)sc.samples;

		for (int s = 0; s < S; s++) {
			int k = push(rs, &n, &g->ch[s], att_sim_sample_len());

			if (k < 0 || att_sim_sample(&g->ch[s], rs[k].data,
						    sim_value(&sc, gr, g->idx * 64 + s, e, i, t),
						    BOOT(t), NS(t)))
				goto fail;
			if (act && first && gr->behaviour == B_TAMPER && i == 0 && s == 0)
				rs[k].data[sizeof(struct attestio_rec_hdr) +
					   sizeof(struct attestio_sample)] ^= 1;
		}
	}
	if (act && first && gr->behaviour == B_FORGE)
		q.key = g->other;
	if (act && gr->behaviour == B_UNSIGNED)	/* no quote in the window */
		q.status = 1;
	if (att_sim_cp_prepare(&cp, ss, S, (uint64_t)e, &q))
		goto fail;
	for (int s = 0; s < S; s++) {
		uint64_t t = t0 + sc.epoch_ms - 1;
		int k = push(rs, &n, &g->ch[s], cp.len);

		if (k < 0 || att_sim_cp_write(&cp, &g->ch[s], s, rs[k].data, BOOT(t), NS(t)))
			goto fail;
	}
	if (act && first && gr->behaviour == B_REORDER && n >= 3) {
		int a = e == 1 ? S : 0;	/* two samples of stream 0, swapped */
		struct srec tmp = rs[a];

		rs[a] = rs[a + S];
		rs[a + S] = tmp;
	}
	for (int i = 0; i < n; i++)
		if (spool_add(g->spool, &rs[i].m, rs[i].data, rs[i].len))
			goto fail;
	g->produced += (uint64_t)n;
	if (gr->behaviour == B_REPLAY && e == gr->from - 1) {
		g->saved = rs;	/* kept for the replays */
		g->nsaved = n;
		rs = NULL;
	}
	if (gr->behaviour == B_REPLAY && act && g->saved) {
		for (int i = 0; i < g->nsaved; i++)
			if (spool_add(g->spool, &g->saved[i].m, g->saved[i].data,
				      g->saved[i].len))
				goto fail;
		g->replayed += (uint64_t)g->nsaved;
	}
	r = spool_sync(g->spool) ? -1 : 0;
	goto out;
fail:
	r = -1;
out:
	for (int i = 0; rs && i < n; i++)
		free(rs[i].data);
	free(rs);
	return r;
}

/* How late the fleet produced each gateway's epoch after the epoch ended
 * (its records' capture times say when they should exist): part of the
 * sample -> verified latency the node's histogram shows that is the
 * simulator's, not the node's.  100 ms buckets up to 60 s. */
#define LAG_BUCKETS	601

/* What a worker's run adds up to (shared with the parent: MAP_SHARED). */
struct tally {
	uint64_t published, acks_ok, acks_bad, retransmits, rtx_batches, reconnects;
	uint64_t lag_hist[LAG_BUCKETS], lag_n, lag_max;
	long done;			/* epochs produced */
	int unacked;			/* gateways with records unacked */
	int rc;
};
static struct tally T;		/* this process's */

static void lag_note(uint64_t ms)
{
	T.lag_hist[ms / 100 < LAG_BUCKETS - 1 ? ms / 100 : LAG_BUCKETS - 1]++;
	T.lag_n++;
	if (ms > T.lag_max)
		T.lag_max = ms;
}

/* the upper bound (ms) of the bucket holding quantile @q */
static uint64_t lag_q(const struct tally *t, double q)
{
	uint64_t c = 0;

	for (int i = 0; i < LAG_BUCKETS; i++) {
		c += t->lag_hist[i];
		if (t->lag_n && (double)c >= q * (double)t->lag_n)
			return 100ull * (uint64_t)(i + 1);
	}
	return 0;
}

static void tally_add(struct tally *to, const struct tally *t)
{
	to->published += t->published;
	to->acks_ok += t->acks_ok;
	to->acks_bad += t->acks_bad;
	to->retransmits += t->retransmits;
	to->rtx_batches += t->rtx_batches;
	to->reconnects += t->reconnects;
	for (int i = 0; i < LAG_BUCKETS; i++)
		to->lag_hist[i] += t->lag_hist[i];
	to->lag_n += t->lag_n;
	if (t->lag_max > to->lag_max)
		to->lag_max = t->lag_max;
	if (t->done > to->done)
		to->done = t->done;
	to->unacked += t->unacked;
}

/* ------------------------------------------------------------- report --- */

static int report(uint64_t started, const struct tally *t)
{
	char path[512];
	uint64_t prod = 0, rep = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/report.json", sc.dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (int i = 0; i < ngw; i++) {
		prod += gws[i].produced;
		rep += gws[i].replayed;
	}
	fprintf(f, "{\"gateways\": %d, \"epochs\": %ld, \"elapsed_ms\": %" PRIu64
		", \"produced\": %" PRIu64 ", \"replayed\": %" PRIu64
		", \"published\": %llu, \"acks_ok\": %llu, \"acks_bad\": %llu"
		", \"retransmits\": %llu, \"batches_retransmitted\": %llu"
		", \"reconnects\": %llu, \"unacked_gateways\": %d"
		", \"lag_p50_ms\": %" PRIu64 ", \"lag_p99_ms\": %" PRIu64
		", \"lag_max_ms\": %" PRIu64 ", \"produced_by_gateway\": {",
		ngw, t->done, now_ms() - started, prod, rep,
		(unsigned long long)t->published, (unsigned long long)t->acks_ok,
		(unsigned long long)t->acks_bad, (unsigned long long)t->retransmits,
		(unsigned long long)t->rtx_batches,
		(unsigned long long)t->reconnects, t->unacked, lag_q(t, 0.5),
		lag_q(t, 0.99), t->lag_max);
	for (int i = 0; i < ngw; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", gws[i].id, gws[i].produced);
	fprintf(f, "}}\n");
	printf("attestio-sim: %d gateways, %ld epochs, %" PRIu64 " records produced "
	       "(+%" PRIu64 " replayed), %llu published, %llu acks, %llu retransmits, "
	       "%d gateways with unacked records; epochs produced after their end "
	       "by p50 %" PRIu64 " ms, p99 %" PRIu64 " ms, at most %" PRIu64 " ms\n",
	       ngw, t->done, prod, rep,
	       (unsigned long long)t->published, (unsigned long long)t->acks_ok,
	       (unsigned long long)t->retransmits, t->unacked, lag_q(t, 0.5),
	       lag_q(t, 0.99), t->lag_max);
	return fclose(f);
}

/* This worker's gateways, produced in real time until the last epoch is
 * acked or drain_s passed: T, 0 or EX_*. */
static int loop(void)
{
	struct itimerspec its = { { 0, 20000000 }, { 0, 20000000 } };
	uint64_t drain_until = 0, next_tick = 0;
	int tfd, sfd, ret = EX_OK, unacked = 0, pnext = 0;
	long done = 0;
	bool stop = false;
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0 || timerfd_settime(tfd, 0, &its, NULL))
		return EX_RUNTIME;
	{
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = 0 };

		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e);
		e.data.u32 = UINT32_MAX;
		epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
	}
	for (int j = 0; j < nmine; j++) {
		struct sgw *g = &gws[mine[j]];
		const struct sim_group *gr = &sc.group[g->group];
		char path[512];

		g->cfg = tmpl;
		strcpy(g->cfg.gw_id, g->id);
		strcpy(g->cfg.client_id, g->id);
		if (gr->behaviour == B_SPOOF) {	/* claims another gateway's topic */
			const struct sim_group *t = &sc.group[gr->target_group];
			int base = 0;

			for (int k = 0; k < gr->target_group; k++)
				base += sc.group[k].count;
			strcpy(g->cfg.gw_id, gws[base + g->idx % t->count].id);
		}
		g->cfg.metrics[0] = 0;
		gw_path(g, "spool", path, sizeof(path));
		unlink(path);	/* a run starts new chains: no old records */
		strcat(path, "-wal");
		unlink(path);
		if (gw_path(g, "spool", g->cfg.spool_path, sizeof(g->cfg.spool_path)))
			return EX_USAGE;
		g->other = EVP_EC_gen("P-256");
		if (!g->other)
			return EX_RUNTIME;
		if (spool_init(&g->spool, &g->cfg))
			return EX_SPOOL;
		if (link_init(&g->link, &g->cfg, g->spool))
			return EX_LINK;
	}
	while (!stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		bool tick = false;
		uint64_t now;

		for (int i = 0; i < n; i++) {
			uint32_t t = evs[i].data.u32;

			if (t == 0) {
				uint64_t x;

				tick = read(tfd, &x, sizeof(x)) > 0;
			} else if (t == UINT32_MAX) {
				stop = true;
			} else {
				struct sgw *g = &gws[t - 1];

				if (g->link)
					link_io(g->link, evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP),
						evs[i].events & EPOLLOUT);
				epoll_sync(g);
			}
		}
		if (!tick)
			continue;
		now = now_ms();
		/* epochs due: every gateway produces the epochs that ended, a
		 * slice at a time (at least 16 gateways, then up to 50 ms) so
		 * that the links keep running */
		for (uint64_t k = 0, budget = now_ms() + 50;
		     k < 16 || now_ms() < budget; k++) {
			struct sgw *g;
			const struct sim_group *gr;
			bool off;

			if (!pnext) {
				if ((sc.epochs && done >= sc.epochs) ||
				    now < sc.start_ms + (uint64_t)(done + 1) * sc.epoch_ms)
					break;
				done++;
			}
			g = &gws[mine[pnext]];
			gr = &sc.group[g->group];
			off = gr->behaviour == B_OFFLINE && sim_active(gr, done);
			if (off && g->link) {	/* network down: the spool keeps */
				link_fini(g->link);
				g->link = NULL;
				epoll_sync(g);
			} else if (!off && !g->link && link_init(&g->link, &g->cfg, g->spool)) {
				return EX_LINK;
			}
			lag_note(now_ms() - (sc.start_ms + (uint64_t)done * sc.epoch_ms));
			if (produce(g, done)) {
				logmsg(LOG_ERR, "gateway %s: epoch %ld could not be spooled", g->id, done);
				ret = EX_RUNTIME;
			}
			g->epoch = done;
			if (g->link)	/* publish now, not at the next tick */
				link_tick(g->link, now);
			epoll_sync(g);
			pnext = (pnext + 1) % nmine;
		}
		if (now >= next_tick) {	/* links: keepalive, retransmission */
			for (int j = 0; j < nmine; j++) {
				struct sgw *g = &gws[mine[j]];

				if (g->link)
					link_tick(g->link, now);
				epoll_sync(g);
			}
			next_tick = now + 100;
		}
		if (sc.epochs && done >= sc.epochs && !pnext) {
			unacked = 0;
			for (int j = 0; j < nmine; j++)
				unacked += !spool_empty(gws[mine[j]].spool);
			if (!drain_until)
				drain_until = now + 1000ull * sc.drain_s;
			if (!unacked || now >= drain_until)
				stop = true;
		}
	}
	T.published = M.records_published;
	T.acks_ok = M.acks_ok;
	T.acks_bad = M.acks_bad;
	T.retransmits = M.retransmits;
	T.rtx_batches = M.batches_retransmitted;
	T.reconnects = M.reconnects;
	T.done = done;
	T.unacked = unacked;
	for (int j = 0; j < nmine; j++) {
		link_fini(gws[mine[j]].link);
		spool_fini(gws[mine[j]].spool);
	}
	return ret;
}

/*
 * workers > 1: each of W processes runs the gateways i with i % W == its
 * index (a single thread saturated at 1,000 gateways: its epochs came up
 * to a minute late while it applied a burst of acks, system.md).  The
 * parent forwards SIGTERM/SIGINT, adds up what they report through a
 * shared mapping and writes the report.
 */
static int workers(uint64_t started)
{
	int W = sc.workers < ngw ? sc.workers : ngw, left = 0, ret = EX_OK;
	size_t sz = (size_t)W * sizeof(struct tally) + 2 * (size_t)ngw * sizeof(uint64_t);
	struct tally *sh, all = { 0 };
	pid_t pid[SIM_MAX_WORKERS];
	uint64_t *prod;
	sigset_t ss;

	sh = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return EX_RUNTIME;
	prod = (uint64_t *)(sh + W);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	fflush(NULL);
	for (int w = 0; w < W; w++) {
		pid[w] = fork();
		if (pid[w] < 0) {
			ret = EX_RUNTIME;
			break;
		}
		if (!pid[w]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			nmine = 0;
			for (int i = w; i < ngw; i += W)
				mine[nmine++] = i;
			sh[w].rc = loop();
			memcpy(&sh[w], &T, offsetof(struct tally, rc));
			for (int j = 0; j < nmine; j++) {
				prod[2 * mine[j]] = gws[mine[j]].produced;
				prod[2 * mine[j] + 1] = gws[mine[j]].replayed;
			}
			_exit(0);
		}
		left++;
	}
	while (left) {
		struct timespec ts = { 0, 200000000 };
		int sig = sigtimedwait(&ss, NULL, &ts), st;
		pid_t p;

		if (sig == SIGTERM || sig == SIGINT)
			for (int w = 0; w < W; w++)
				kill(pid[w], sig);
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			left--;
			for (int w = 0; w < W; w++)
				if (p == pid[w] && (!WIFEXITED(st) || WEXITSTATUS(st))) {
					logmsg(LOG_ERR, "worker %d failed", w);
					sh[w].rc = EX_RUNTIME;
				}
		}
	}
	for (int w = 0; w < W; w++) {
		tally_add(&all, &sh[w]);
		if (sh[w].rc && !ret)
			ret = sh[w].rc;
	}
	for (int i = 0; i < ngw; i++) {
		gws[i].produced = prod[2 * i];
		gws[i].replayed = prod[2 * i + 1];
	}
	munmap(sh, sz);
	if (report(started, &all))
		ret = EX_RUNTIME;
	return ret ? ret : all.unacked ? EX_UNACKED : EX_OK;
}

static int run(void)
{
	uint64_t started = now_ms();
	struct rlimit rl;
	int ret;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;	/* one socket and a spool per gateway */
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!sc.start_ms)
		sc.start_ms = (now_ms() / 1000 + 2) * 1000;
	signal(SIGPIPE, SIG_IGN);
	mine = calloc((size_t)ngw + 1, sizeof(*mine));
	if (!mine)
		return EX_RUNTIME;
	if (sc.workers > 1 && ngw > 1)
		return workers(started);
	for (nmine = 0; nmine < ngw; nmine++)
		mine[nmine] = nmine;
	ret = loop();
	if (report(started, &T))
		ret = EX_RUNTIME;
	return ret ? ret : T.unacked ? EX_UNACKED : EX_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = NULL, *cmd;
	char err[600];
	int o;

	while ((o = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (!path || optind != argc - 1) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "init") && strcmp(cmd, "run") && strcmp(cmd, "check")) {
		usage(stderr);
		return EX_USAGE;
	}
	if (sim_conf_load(path, &sc, err, sizeof(err))) {
		fprintf(stderr, "attestio-sim: %s\n", err);
		return EX_USAGE;
	}
	if (config_load(sc.gateway_conf, &tmpl, err, sizeof(err))) {
		fprintf(stderr, "attestio-sim: gateway template: %s\n", err);
		return EX_USAGE;
	}
	if (!strcmp(cmd, "check")) {
		int n = 0;

		for (int k = 0; k < sc.ngroups; k++)
			n += sc.group[k].count;
		printf("%s: ok (%d gateways in %d groups, %d sites, %d brokers, %d oracle nodes)\n",
		       path, n, sc.ngroups, sc.nsites, tmpl.nbrokers, tmpl.nnodes);
		return EX_OK;
	}
	if (mkdir(sc.dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "attestio-sim: %s: %s\n", sc.dir, strerror(errno));
		return EX_RUNTIME;
	}
	if (setup_gateways(!strcmp(cmd, "init")))
		return EX_RUNTIME;
	if (!strcmp(cmd, "init"))
		return write_list() ? EX_RUNTIME : EX_OK;
	return run();
}

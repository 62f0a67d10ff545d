// SPDX-License-Identifier: GPL-2.0
/*
 * attestio-sim: configuration (INI) and the value model, no I/O but the
 * configuration file.  Strict: every key is known, every value checked.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <openssl/sha.h>

#include "fleet.h"

static const char *const bnames[B_COUNT] = {
	"honest", "biased", "stuck", "noisy", "liar", "spoof", "replay",
	"offline", "silent", "tamper", "forge", "unsigned", "reorder",
};

const char *sim_behaviour_name(int b)
{
	return b >= 0 && b < B_COUNT ? bnames[b] : "?";
}

struct pctx {
	struct sim_conf *c;
	char *err;
	size_t len;
};

#define FAIL(...) do { snprintf(p->err, p->len, __VA_ARGS__); return 0; } while (0)

static int num(const char *v, double lo, double hi, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int inum(const char *v, long lo, long hi, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static bool good_name(const char *s)
{
	size_t n = strlen(s);

	return n && n < 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int handler(void *user, const char *sec, const char *name, const char *value)
{
	struct pctx *p = user;
	struct sim_conf *c = p->c;
	long x;

	if (!strcmp(sec, "sim")) {
		if (!strcmp(name, "gateway_conf") || !strcmp(name, "dir")) {
			char *dst = name[0] == 'g' ? c->gateway_conf : c->dir;

			if (!*value || strlen(value) >= 200)
				FAIL("sim.%s must be a path (< 200 characters)", name);
			strcpy(dst, value);
			return 1;
		}
		if (!strcmp(name, "epoch_ms")) {
			if (inum(value, 100, 3600000, &x))
				FAIL("sim.epoch_ms must be 100 ... 3600000");
			c->epoch_ms = (uint64_t)x;
			return 1;
		}
		if (!strcmp(name, "start_ms")) {
			if (inum(value, 0, 0x7fffffffffffL, &x))
				FAIL("sim.start_ms must be unix milliseconds (0 = soon)");
			c->start_ms = (uint64_t)x;
			return 1;
		}
		if (!strcmp(name, "epochs")) {
			if (inum(value, 0, 100000000, &c->epochs))
				FAIL("sim.epochs must be 0 (no end) ... 100000000");
			return 1;
		}
		if (!strcmp(name, "samples")) {
			if (inum(value, 1, 1000, &c->samples))
				FAIL("sim.samples must be 1 ... 1000 (per stream per epoch)");
			return 1;
		}
		if (!strcmp(name, "seed")) {
			if (inum(value, 0, 0x7fffffffffffffffL, &x))
				FAIL("sim.seed must be a non-negative integer");
			c->seed = (uint64_t)x;
			return 1;
		}
		if (!strcmp(name, "drain_s")) {
			if (inum(value, 0, 3600, &x))
				FAIL("sim.drain_s must be 0 ... 3600");
			c->drain_s = (unsigned int)x;
			return 1;
		}
		if (!strcmp(name, "workers")) {
			if (inum(value, 1, SIM_MAX_WORKERS, &x))
				FAIL("sim.workers must be 1 ... %d (processes)", SIM_MAX_WORKERS);
			c->workers = (int)x;
			return 1;
		}
		FAIL("unknown key sim.%s", name);
	}
	if (!strncmp(sec, "site ", 5)) {
		struct sim_site *s = NULL;

		for (int i = 0; i < c->nsites; i++)
			if (!strcmp(c->site[i].name, sec + 5))
				s = &c->site[i];
		if (!s) {
			if (!good_name(sec + 5) || c->nsites >= SIM_MAX_SITES)
				FAIL("[%s]: a site name is [A-Za-z0-9_.-]{1,63}, at most %d sites", sec, SIM_MAX_SITES);
			s = &c->site[c->nsites++];
			strcpy(s->name, sec + 5);
			s->base = 20;
			s->period_s = 600;
		}
		if (!strcmp(name, "base") && !num(value, -100, 300, &s->base))
			return 1;
		if (!strcmp(name, "amplitude") && !num(value, 0, 50, &s->amplitude))
			return 1;
		if (!strcmp(name, "period_s") && !num(value, 1, 1e9, &s->period_s))
			return 1;
		FAIL("[%s] %s: base (-100 ... 300 degC), amplitude (0 ... 50 degC) "
		     "or period_s (>= 1) expected", sec, name);
	}
	if (!strncmp(sec, "group ", 6)) {
		struct sim_group *g = NULL;

		for (int i = 0; i < c->ngroups; i++)
			if (!strcmp(c->group[i].name, sec + 6))
				g = &c->group[i];
		if (!g) {
			if (!good_name(sec + 6) || c->ngroups >= SIM_MAX_GROUPS)
				FAIL("[%s]: a group name is [A-Za-z0-9_.-]{1,63}, at most %d groups", sec, SIM_MAX_GROUPS);
			g = &c->group[c->ngroups++];
			strcpy(g->name, sec + 6);
			g->count = 1;
			g->streams = 1;
			g->site = -1;
			g->noise = 0.02;
			g->from = 1;
			g->target_group = -1;
		}
		if (!strcmp(name, "count")) {
			if (inum(value, 1, SIM_MAX_GW, &x))
				FAIL("[%s] count must be 1 ... %d", sec, SIM_MAX_GW);
			g->count = (int)x;
			return 1;
		}
		if (!strcmp(name, "streams")) {
			if (inum(value, 1, 64, &x))
				FAIL("[%s] streams must be 1 ... 64", sec);
			g->streams = (int)x;
			return 1;
		}
		if (!strcmp(name, "site")) {
			for (int i = 0; i < c->nsites; i++)
				if (!strcmp(c->site[i].name, value))
					g->site = i;
			if (g->site < 0)
				FAIL("[%s] site %s: no [site %s] above", sec, value, value);
			return 1;
		}
		if (!strcmp(name, "behaviour")) {
			for (int i = 0; i < B_COUNT; i++)
				if (!strcmp(bnames[i], value)) {
					g->behaviour = i;
					return 1;
				}
			FAIL("[%s] behaviour must be honest, biased, stuck, noisy, liar, "
			     "spoof, replay, offline, silent, tamper, forge, unsigned or reorder", sec);
		}
		if (!strcmp(name, "noise") && !num(value, 0, 100, &g->noise))
			return 1;
		if (!strcmp(name, "bias") && !num(value, -300, 300, &g->bias))
			return 1;
		if (!strcmp(name, "value") && !num(value, -300, 300, &g->value))
			return 1;
		if (!strcmp(name, "from") && !inum(value, 1, 100000000, &g->from))
			return 1;
		if (!strcmp(name, "until") && !inum(value, 0, 100000000, &g->until))
			return 1;
		if (!strcmp(name, "target")) {
			if (!good_name(value))
				FAIL("[%s] target must name a group", sec);
			strcpy(g->target, value);
			return 1;
		}
		FAIL("[%s] %s: unknown key or bad value (noise 0 ... 100, bias and "
		     "value -300 ... 300 degC, from >= 1, until >= 0)", sec, name);
	}
	FAIL("unknown section [%s] (sim, site NAME, group NAME)", sec);
}

static void conf_defaults(struct sim_conf *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->epoch_ms = 1000;
	c->samples = 10;
	c->seed = 1;
	c->drain_s = 30;
	c->workers = 1;
}

/* After parsing (@line from inih): the cross-section rules. */
static int conf_finish(struct sim_conf *c, int line, char *what, size_t wlen,
		       char *err, size_t len)
{
	const char *path = c->path;
	int total = 0;

	if (line < 0) {
		snprintf(err, len, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (line > 0) {
		snprintf(err, len, "%s:%d: %s", path, line, *what ? what : "syntax error");
		return -1;
	}
	if (!*c->gateway_conf || !*c->dir)
		snprintf(what, wlen, "[sim] gateway_conf and dir are required");
	else if (!c->ngroups)
		snprintf(what, wlen, "at least one [group NAME] is required");
	for (int i = 0; !*what && i < c->ngroups; i++) {
		struct sim_group *g = &c->group[i];

		total += g->count;
		if (g->site < 0 && c->nsites)
			g->site = 0;
		if (g->site < 0)
			snprintf(what, wlen, "group %s: no [site NAME] defined", g->name);
		else if (g->until && g->until < g->from)
			snprintf(what, wlen, "group %s: until < from", g->name);
		if (g->behaviour == B_SPOOF) {
			for (int k = 0; k < c->ngroups; k++)
				if (k != i && !strcmp(c->group[k].name, g->target))
					g->target_group = k;
			if (g->target_group < 0)
				snprintf(what, wlen, "group %s: spoof needs target = another group", g->name);
		}
		if (g->behaviour == B_REPLAY && g->from < 2)
			snprintf(what, wlen, "group %s: replay needs from >= 2 (it replays epoch from - 1)", g->name);
	}
	if (!*what && total > SIM_MAX_GW)
		snprintf(what, wlen, "%d gateways: at most %d", total, SIM_MAX_GW);
	if (*what) {
		snprintf(err, len, "%s: %s", path, what);
		return -1;
	}
	return 0;
}

int sim_conf_load(const char *path, struct sim_conf *c, char *err, size_t len)
{
	char what[256] = "";
	struct pctx p = { c, what, sizeof(what) };

	conf_defaults(c, path);
	return conf_finish(c, ini_parse(path, handler, &p), what, sizeof(what), err, len);
}

int sim_conf_parse(const char *name, const char *text, struct sim_conf *c,
		   char *err, size_t len)
{
	char what[256] = "";
	struct pctx p = { c, what, sizeof(what) };

	conf_defaults(c, name);
	return conf_finish(c, ini_parse_string(text, handler, &p), what, sizeof(what), err, len);
}

double sim_truth(const struct sim_site *s, uint64_t t_ms)
{
	double ph = fmod((double)t_ms / 1000.0, s->period_s) / s->period_s;

	return s->base + s->amplitude * sin(2 * M_PI * ph);
}

/* splitmix64: one deterministic draw per (seed, group, gateway, epoch, k) */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double gauss(uint64_t h)
{
	double u1 = ((double)(mix(h) >> 11) + 1) / 9007199254740993.0;
	double u2 = (double)(mix(h ^ 0x5555) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

bool sim_active(const struct sim_group *g, long epoch)
{
	return epoch >= g->from && (!g->until || epoch <= g->until);
}

int16_t sim_value(const struct sim_conf *c, const struct sim_group *g, int gw,
		  long epoch, long k, uint64_t t_ms)
{
	uint64_t h = mix(c->seed ^ mix((uint64_t)(g - c->group) << 40 ^
				      (uint64_t)gw << 20 ^ (uint64_t)k) ^ (uint64_t)epoch);
	double v = sim_truth(&c->site[g->site], t_ms), noise = g->noise;

	if (sim_active(g, epoch)) {
		switch (g->behaviour) {
		case B_BIASED: v += g->bias; break;
		case B_STUCK: v = g->value; noise = 0; break;
		case B_LIAR: v = g->value; break;	/* the whole group: coordinated */
		case B_NOISY: noise *= 10; break;
		default: break;
		}
	}
	v += noise * gauss(h);
	v = round(v * 100);
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

void sim_gw_id(const struct sim_conf *c, int g, int i, uint8_t id[16])
{
	char buf[160];
	uint8_t d[32];
	int n = snprintf(buf, sizeof(buf), "attestio-sim/%llu/%s/%d",
			 (unsigned long long)c->seed, c->group[g].name, i);

	SHA256((const uint8_t *)buf, (size_t)n, d);
	memcpy(id, d, 16);
}

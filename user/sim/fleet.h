/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attestio-sim: a fleet of simulated gateways in one process
 * (Documentation/system.md).  Each gateway makes genuine records
 * (user/lib/sim.c: kernel/record.c chains, software P-256 quotes in TPM
 * format) and carries them with attestiod's own spool and link
 * (user/attestiod/spool.c, link.c): the same durable queue, MQTT session,
 * retransmission and signed end-to-end acks.
 */
#ifndef ATTESTIO_SIM_FLEET_H
#define ATTESTIO_SIM_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_MAX_SITES	64
#define SIM_MAX_GROUPS	64
#define SIM_MAX_GW	4096

enum sim_behaviour {
	B_HONEST, B_BIASED, B_STUCK, B_NOISY, B_LIAR, B_SPOOF, B_REPLAY,
	B_OFFLINE, B_SILENT, B_TAMPER, B_FORGE, B_UNSIGNED, B_REORDER,
	B_COUNT
};

struct sim_site {
	char name[64];
	double base, amplitude, period_s;	/* degC, degC, s */
};

struct sim_group {
	char name[64];
	int count, site, streams;
	int behaviour;
	double noise, bias, value;	/* degC */
	long from, until;		/* epochs (until 0 = to the end) */
	char target[64];		/* spoof: the group whose topic it claims */
	int target_group;
};

#define SIM_MAX_WORKERS	16

struct sim_conf {
	const char *path;
	char gateway_conf[256];		/* attestiod configuration template */
	char dir[256];
	uint64_t epoch_ms, start_ms;
	long epochs, samples;
	uint64_t seed;
	unsigned int drain_s;		/* wait this long for acks at the end */
	int workers;			/* processes sharing the gateways */
	int nsites, ngroups;
	struct sim_site site[SIM_MAX_SITES];
	struct sim_group group[SIM_MAX_GROUPS];
};

/* model.c: configuration and the pure value model */
int sim_conf_load(const char *path, struct sim_conf *c, char *err, size_t len);
/* The same from a string (@name names it in errors): the fuzz target. */
int sim_conf_parse(const char *name, const char *text, struct sim_conf *c,
		   char *err, size_t len);
const char *sim_behaviour_name(int b);
/* The site's true temperature at @t_ms, degC. */
double sim_truth(const struct sim_site *s, uint64_t t_ms);
/*
 * The raw value (degC x 100, s16 as the simulated channel gives it) that
 * gateway @gw (index in its group) of @g reads at @t_ms in epoch @epoch,
 * sample @k: deterministic from the seed.
 */
int16_t sim_value(const struct sim_conf *c, const struct sim_group *g, int gw,
		  long epoch, long k, uint64_t t_ms);
/* Is @g's behaviour active in @epoch? */
bool sim_active(const struct sim_group *g, long epoch);
/* Gateway id (16 bytes) of gateway @i of group @g: from the seed. */
void sim_gw_id(const struct sim_conf *c, int g, int i, uint8_t id[16]);

#endif

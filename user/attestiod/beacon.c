// SPDX-License-Identifier: GPL-2.0
/*
 * Beacons (Documentation/attestiod.md, "Beacons"; protocol.md "Beacons"):
 * the oracle nodes' signed random values on attestio/v1/beacon/<node>,
 * checked against the configured [oracle] node keys and handed to the
 * module (ATTESTIO_IOC_SET_BEACON), which quotes the newest one in every
 * following epoch digest.  A beacon that does not parse, is not signed by
 * a configured node, names another node than its topic or is of an older
 * round than the one held changes nothing: it is counted and logged
 * (rate-limited).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/attestio.h>

#include "ack.h"
#include "attestiod.h"
#include "beacon.h"

struct beacon {
	const struct config *c;
	int fd;			/* the module's device, -1: none */
	bool not_module;	/* the device takes no beacons (a file) */
	bool held;
	struct attestio_beacon cur;	/* what the module should hold */
	uint64_t time;		/* the held beacon's signed time */
	uint64_t last_check;
	uint64_t seen[MAX_NODES];	/* per node: the highest round it signed */
};

static const char *const reason_name[BEACON_NREASONS] = {
	[BR_MALFORMED] = "malformed",
	[BR_UNKNOWN_NODE] = "unknown_node",
	[BR_BAD_SIGNATURE] = "bad_signature",
	[BR_TOPIC] = "topic",
	[BR_OLD_ROUND] = "old_round",
	[BR_MODULE] = "module",
	[BR_AHEAD] = "ahead",
};

/*
 * Whether round @r is one the network has reached: f + 1 of the n
 * configured nodes (f = (n - 1) / 3) signed a round of at least r - 1.
 * The module never goes back to an older round, and the oracle nodes
 * refuse a round that has not started: one node announcing a far-future
 * round would otherwise make every checkpoint cover a beacon no node
 * counts until then (review 6).  So with four nodes or more, at least
 * f + 1 of them must issue beacons.
 */
static bool corroborated(const struct beacon *bc, uint64_t r)
{
	int need = (bc->c->nnodes - 1) / 3 + 1, near = 0;

	for (int i = 0; i < bc->c->nnodes; i++)
		near += bc->seen[i] && bc->seen[i] + 1 >= r;
	return near >= need;
}

const char *beacon_reason_name(int r)
{
	return r >= 0 && r < BEACON_NREASONS ? reason_name[r] : "?";
}

static void reject(int reason, const char *node_hex, const char *why)
{
	M.beacons_rejected[reason]++;
	/* ahead: also each node's first retained beacon after a connect */
	logmsg(reason == BR_AHEAD ? LOG_INFO : LOG_WARNING,
	       "beacon: from %.40s ignored (%s): %s", node_hex,
	       reason_name[reason], why);
}

/* Hand @b to the module: 0, or -errno of the ioctl (ENOTTY etc.: not the
 * module, remembered, never tried again). */
static int set_module(struct beacon *bc, const struct attestio_beacon *b)
{
	if (bc->fd < 0 || bc->not_module)
		return 0;
	if (!ioctl(bc->fd, ATTESTIO_IOC_SET_BEACON, b)) {
		M.beacons_set++;
		return 0;
	}
	if (errno == ENOTTY || errno == EINVAL || errno == ENOSYS) {
		bc->not_module = true;
		logmsg(LOG_NOTICE, "beacon: %s takes no beacons (%s): they are "
		       "checked and counted, not quoted", bc->c->device,
		       strerror(errno));
		return 0;
	}
	return -errno;
}

int beacon_init(struct beacon **bp, const struct config *c)
{
	struct beacon *bc = calloc(1, sizeof(*bc));
	struct attestio_beacon got;
	struct stat st;

	if (!bc)
		return -ENOMEM;
	bc->c = c;
	*bp = bc;
	/* the module's device only: a file or FIFO source (tests, replays)
	 * has nothing to hand beacons to, and a second reader of a FIFO
	 * would be wrong */
	if (stat(c->device, &st) || !S_ISCHR(st.st_mode)) {
		bc->fd = -1;
		logmsg(LOG_NOTICE, "beacon: %s is not the module's device: beacons "
		       "are checked and counted, not quoted", c->device);
		return 0;
	}
	bc->fd = open(c->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (bc->fd < 0)
		logmsg(LOG_WARNING, "beacon: cannot open %s: %s (beacons are "
		       "checked and counted, not quoted)", c->device, strerror(errno));
	/* a restart: the module still holds what the last run handed it */
	else if (!ioctl(bc->fd, ATTESTIO_IOC_GET_BEACON, &got) && got.round) {
		bc->cur = got;
		bc->held = true;
	}
	return 0;
}

void beacon_fini(struct beacon *bc)
{
	if (!bc)
		return;
	if (bc->fd >= 0)
		close(bc->fd);
	free(bc);
}

void beacon_message(void *ctx, const char *node_hex, const uint8_t *buf,
		    size_t len)
{
	struct beacon *bc = ctx;
	const uint8_t (*keys)[ORACLE_PUB_LEN] =
		(const uint8_t (*)[ORACLE_PUB_LEN])bc->c->nodes;
	struct attestio_beacon nb = { 0 };
	struct oracle_beacon b;
	const char *why = NULL;
	char id[ORACLE_NODE_ID_HEX];
	size_t idx = 0;
	int ret;

	if (oracle_beacon_parse(buf, len, &b, &why)) {
		reject(BR_MALFORMED, node_hex, why);
		return;
	}
	ret = oracle_beacon_check(&b, keys, (size_t)bc->c->nnodes, &idx, &why);
	if (ret) {
		reject(ret == -ENOENT ? BR_UNKNOWN_NODE : BR_BAD_SIGNATURE,
		       node_hex, why);
		return;
	}
	for (int i = 0; i < ORACLE_NODE_ID_LEN; i++)
		snprintf(id + 2 * i, 3, "%02x", b.node_id[i]);
	if (strcmp(id, node_hex)) {
		reject(BR_TOPIC, node_hex, "signed by another node than the topic's");
		return;
	}
	if (bc->held && b.round == bc->cur.round &&
	    !memcmp(b.value, bc->cur.value, sizeof(b.value)))
		return;		/* the retained one again (a reconnect) */
	if (b.round > bc->seen[idx])
		bc->seen[idx] = b.round;
	if (!corroborated(bc, b.round)) {
		reject(BR_AHEAD, node_hex, "a round no other node has reached "
		       "(f + 1 nodes must be within one round of it)");
		return;
	}
	if (bc->held && b.round < bc->cur.round) {
		M.beacons_rejected[BR_OLD_ROUND]++;
		logmsg(LOG_INFO, "beacon: round %llu from %s older than the held "
		       "round %llu: ignored", (unsigned long long)b.round, id,
		       (unsigned long long)bc->cur.round);
		return;
	}
	memcpy(nb.value, b.value, sizeof(nb.value));
	nb.round = b.round;
	nb.node = (uint32_t)idx;
	ret = set_module(bc, &nb);
	if (ret == -EALREADY) {		/* someone handed it a later one */
		ioctl(bc->fd, ATTESTIO_IOC_GET_BEACON, &bc->cur);
		reject(BR_OLD_ROUND, node_hex, "the module holds a later round");
		return;
	}
	if (ret) {
		reject(BR_MODULE, node_hex, strerror(-ret));
		return;
	}
	bc->cur = nb;
	bc->time = b.time;
	bc->held = true;
	M.beacons_accepted++;
	M.beacon_round = b.round;
	M.beacon_time = b.time;
	logmsg(LOG_INFO, "beacon: round %llu from node %zu (%s) %s",
	       (unsigned long long)b.round, idx, id,
	       bc->fd >= 0 && !bc->not_module ? "handed to the module" : "held");
}

/* Once a second: a reloaded module starts without a beacon; hand it the
 * held one again (the next epochs quote it rather than none). */
void beacon_tick(struct beacon *bc, uint64_t now)
{
	struct attestio_beacon got;

	if (now - bc->last_check < 1000)
		return;
	bc->last_check = now;
	if (!bc->held || bc->fd < 0 || bc->not_module ||
	    ioctl(bc->fd, ATTESTIO_IOC_GET_BEACON, &got) ||
	    !memcmp(got.value, bc->cur.value, sizeof(got.value)))
		return;
	if (got.round > bc->cur.round) {	/* another setter: follow it */
		bc->cur = got;
		return;
	}
	if (!set_module(bc, &bc->cur))
		logmsg(LOG_NOTICE, "beacon: the module lost the beacon (reloaded?); "
		       "round %llu handed again", (unsigned long long)bc->cur.round);
}

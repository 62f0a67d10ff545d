// SPDX-License-Identifier: GPL-2.0
/*
 * attestiod's beacon intake (user/attestiod/beacon.c): a round is taken
 * only once f + 1 of the configured nodes signed a round at least one
 * below it, so one node announcing a far-future round cannot make the
 * module (which never goes back) quote a beacon no oracle node counts
 * (review 6).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "attestiod.h"
#include "beacon.h"
#include "report.h"

struct metrics M;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

#define NODES 4
static struct oracle_signer node[NODES];
static struct config cfg;

/* Node @i's beacon of round @r, as the gateway receives it. */
static void send(struct beacon *bc, int i, uint64_t r)
{
	struct oracle_beacon b = { .round = r, .time = 1700000000 + r };
	uint8_t buf[ORACLE_BEACON_MAX_LEN];
	char hex[ORACLE_NODE_ID_HEX];
	size_t len;

	memset(b.value, 0x40 + i, sizeof(b.value));
	memcpy(b.value + 8, &r, sizeof(r));
	assert_int_equal(0, oracle_beacon_sign(&b, &node[i]));
	assert_int_equal(0, oracle_beacon_encode(&b, 0, buf, sizeof(buf), &len));
	oracle_hex(node[i].node_id, ORACLE_NODE_ID_LEN, hex);
	beacon_message(bc, hex, buf, len);
}

static struct beacon *up(int n)
{
	struct beacon *bc;

	memset(&M, 0, sizeof(M));
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.device, "/");	/* not the module: checked, counted */
	cfg.nnodes = n;
	for (int i = 0; i < n; i++)
		memcpy(cfg.nodes[i], node[i].pub, ORACLE_PUB_LEN);
	assert_int_equal(0, beacon_init(&bc, &cfg));
	return bc;
}

static void t_far_future(void **state)
{
	struct beacon *bc = up(NODES);	/* f = 1: two nodes must agree */

	(void)state;
	send(bc, 0, 5);			/* alone so far */
	assert_int_equal(0, M.beacons_accepted);
	assert_int_equal(1, M.beacons_rejected[BR_AHEAD]);
	send(bc, 1, 5);			/* a second node at 5: taken */
	assert_int_equal(1, M.beacons_accepted);
	assert_int_equal(5, M.beacon_round);
	send(bc, 3, 1000000);		/* one node far ahead: refused */
	assert_int_equal(1, M.beacons_accepted);
	assert_int_equal(2, M.beacons_rejected[BR_AHEAD]);
	assert_int_equal(5, M.beacon_round);
	send(bc, 2, 6);			/* the next round: others at 5 */
	assert_int_equal(2, M.beacons_accepted);
	assert_int_equal(6, M.beacon_round);
	send(bc, 0, 7);			/* one ahead of the others: taken */
	assert_int_equal(3, M.beacons_accepted);
	assert_int_equal(7, M.beacon_round);
	beacon_fini(bc);
}

static void t_one_node(void **state)
{
	struct beacon *bc = up(1);	/* f = 0: its own word */

	(void)state;
	send(bc, 0, 9);
	assert_int_equal(1, M.beacons_accepted);
	assert_int_equal(9, M.beacon_round);
	assert_int_equal(0, M.beacons_rejected[BR_AHEAD]);
	beacon_fini(bc);
}

static int setup(void **state)
{
	uint8_t key[ORACLE_SECKEY_LEN];

	(void)state;
	for (int i = 0; i < NODES; i++) {
		memset(key, 0x11 * (i + 1), sizeof(key));
		if (oracle_signer_init(&node[i], key))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NODES; i++)
		oracle_signer_fini(&node[i]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_far_future),
		cmocka_unit_test(t_one_node),
	};

	return cmocka_run_group_tests_name("attestiod_beacon", tests, setup, teardown);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A signed oracle beacon (protocol.md "Beacons") for the attestiod
 * scenarios: the real ones, and forgeries the daemon must ignore.
 *   mkbeacon SECKEY_HEX ROUND [NODE_ID_HEX] > beacon.cbor
 * With NODE_ID_HEX the message claims that node while the signature is
 * SECKEY's (a forgery).  The value is random.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "ack.h"
#include "beacon.h"

int main(int argc, char **argv)
{
	struct oracle_signer s;
	struct oracle_beacon b = { 0 };
	uint8_t k[32], buf[ORACLE_BEACON_MAX_LEN];
	uint64_t round;
	size_t len;

	if ((argc != 3 && argc != 4) || oracle_unhex(argv[1], k, 32) ||
	    oracle_parse_u64(argv[2], 0, UINT64_MAX, &round) ||
	    oracle_signer_init(&s, k)) {
		fprintf(stderr, "usage: mkbeacon SECKEY_HEX ROUND [NODE_ID_HEX]\n");
		return 2;
	}
	b.round = round;
	b.time = (uint64_t)time(NULL);
	if (RAND_bytes(b.value, sizeof(b.value)) != 1 ||
	    oracle_beacon_sign(&b, &s))
		return 1;
	if (argc == 4 && oracle_unhex(argv[3], b.node_id, ORACLE_NODE_ID_LEN))
		return 2;
	if (oracle_beacon_encode(&b, 0, buf, sizeof(buf), &len) ||
	    fwrite(buf, 1, len, stdout) != len)
		return 1;
	oracle_signer_fini(&s);
	return 0;
}

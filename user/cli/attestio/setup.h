/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attestio setup: the parts without I/O (gateway id, argument checks, the
 * configuration text), shared with tests/unit/test_cli_setup.c.
 */
#ifndef ATTESTIO_CLI_SETUP_H
#define ATTESTIO_CLI_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SETUP_MAX_NODES 16
#define SETUP_MAX_BROKERS 8

/*
 * Gateway id (DESIGN.md): lowercase hex of the first 16 bytes of SHA-256
 * over the EK public area, i.e. the TPMT_PUBLIC inside the marshalled
 * TPM2B_PUBLIC @ek_pub (whose 2-byte big-endian size must equal len - 2).
 * 0, or -1 when @ek_pub is malformed.
 */
int setup_gateway_id(const uint8_t *ek_pub, size_t len, char id[33]);

/* mqtts://HOST:PORT or mqtt://HOST:PORT, PORT 1-65535.  0 or -1 + @why. */
int setup_check_broker(const char *url, char *why, size_t cap);

/* A node's public key: 130 hex digits, uncompressed point (04...). */
bool setup_node_key_ok(const char *hex);

struct setup_conf {
	const char *gateway_id;		/* 32 hex digits */
	const char *brokers[SETUP_MAX_BROKERS];
	int n_brokers;
	const char *nodes[SETUP_MAX_NODES];
	int n_nodes;
	const char *ca, *cert, *key;	/* paths */
};

/* The commented attestiod configuration; malloc'ed, NULL on ENOMEM. */
char *setup_render_config(const struct setup_conf *c);


#endif

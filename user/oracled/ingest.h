/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attestio-oracle ingest: records from gateways, verified per gateway with
 * libattestio, deduplicated by (instance, stream, generation, seq), stored
 * in SQLite, acknowledged with signed cumulative acks (protocol.md).
 */
#ifndef ATTESTIO_ORACLED_INGEST_H
#define ATTESTIO_ORACLED_INGEST_H

#include <stddef.h>
#include <stdint.h>

#define INGEST_MAX_GW	64

struct ingest_config {
	char db[256];
	uint8_t seckey[32];
	char brokers[8][256];
	int nbrokers;
	char ca[256], cert[256], key[256];
	int ngw;
	char gw_id[INGEST_MAX_GW][33];
	char gw_ak[INGEST_MAX_GW][256];
};

int ingest_config_load(const char *path, struct ingest_config *c, char *err,
		       size_t errlen);

struct ingest_stats {
	uint64_t messages, records, stored, dups, out_of_order, bad_gw;
	uint64_t acks_sent, verified, failed;
};

struct ingest;
int ingest_init(struct ingest **ip, const struct ingest_config *c);
void ingest_fini(struct ingest *in);
/* One records message of gateway @gw: store, verify; fills @ack (CBOR,
 * signed) with *acklen > 0 when an ack must be published. */
int ingest_message(struct ingest *in, const char *gw, const uint8_t *buf,
		   size_t len, uint8_t *ack, size_t cap, size_t *acklen);
const struct ingest_stats *ingest_stats(const struct ingest *in);
const char *ingest_node_id(const struct ingest *in);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a records batch from the network into an oracle node
 * (user/oracled/ingest.c over an in-memory SQLite store): batch framing,
 * dedup, ordering, the verifier, quarantine, readings, acks.  Every ack it
 * produces must parse strictly and verify to the node's key, and every
 * entry must name a chain the node stored up to that seq.  The seeds are
 * genuine records (tests/attestiod/gen_records) signed by the key below
 * (signed_stream.h's key1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "oracled.h"

static const char fuzz_ak_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEStMccdW3TkjcQJOMrk6vKIsLijHU\n"
	"yTpfgnyfx/BRmfri4PM9Ba15couMBrtaDnOy/mxtXHrgCv8xEXqwQegW+A==\n"
	"-----END PUBLIC KEY-----\n";
static const char gwid[] = "00112233445566778899aabbccddeeff";

static struct od_config cfg;
static struct store st;
static struct registry *reg;
static struct ingest *in;
static struct oracle_signer signer;
static uint8_t ack[ORACLE_ACK_MAX_LEN];

static char ak_path[] = "/tmp/fuzz_oracle_ak.XXXXXX";

static void rm_ak(void)
{
	unlink(ak_path);
}

/* A fresh node per input (an in-memory database): inputs are independent. */
static void setup(void)
{
	char err[600];
	uint8_t key[32];

	if (!cfg.ngw) {
		int fd = mkstemp(ak_path);

		if (fd < 0 || write(fd, fuzz_ak_pem, sizeof(fuzz_ak_pem) - 1) !=
		    (ssize_t)sizeof(fuzz_ak_pem) - 1)
			abort();
		close(fd);
		atexit(rm_ak);
		memset(key, 0x42, sizeof(key));
		cfg.ngw = 1;
		strcpy(cfg.gw[0].id, gwid);
		strcpy(cfg.gw[0].ak, ak_path);
		cfg.gw[0].tier = 1;
		cfg.retain_s = 86400;
		if (oracle_signer_init(&signer, key))
			abort();
	}
	if (store_init(&st, ":memory:", STORE_ADMIN, err, sizeof(err)) ||
	    registry_init(&reg, &cfg, &st, err, sizeof(err)) ||
	    ingest_init(&in, &cfg, &st, reg, &signer))
		abort();
}

static void teardown(void)
{
	ingest_fini(in);
	registry_fini(reg);
	store_fini(&st);
	in = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oracle_ack a;
	uint8_t pub[ORACLE_PUB_LEN];
	const char *why;
	size_t len = 0;

	setup();
	/* the batch twice: the second time every record is a duplicate */
	ingest_message(in, gwid, data, size, ack, sizeof(ack), &len);
	ingest_message(in, gwid, data, size, ack, sizeof(ack), &len);
	if (!len) {
		teardown();
		return 0;
	}
	if (oracle_ack_parse(ack, len, &a, &why) || oracle_ack_verify(&a, pub, &why) ||
	    memcmp(pub, signer.pub, ORACLE_PUB_LEN))
		abort();
	for (size_t i = 0; i < a.n; i++) {
		sqlite3_stmt *q = store_prep(&st, "SELECT count(*) FROM rec WHERE "
					     "gw=? AND instance=? AND stream=? AND "
					     "gen=? AND seq<=? AND seq>=? AND state=1");

		/* acked means final: no record the entry states (from ..
		 * upto; an entry with from = upto + 1 states nothing) is
		 * still pending */
		sqlite3_bind_text(q, 1, gwid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (int64_t)a.e[i].instance);
		sqlite3_bind_int64(q, 3, a.e[i].stream);
		sqlite3_bind_int64(q, 4, a.e[i].generation);
		sqlite3_bind_int64(q, 5, (int64_t)a.e[i].upto);
		sqlite3_bind_int64(q, 6, (int64_t)a.e[i].from);
		if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int(q, 0))
			abort();
		sqlite3_finalize(q);
	}
	teardown();
	return 0;
}

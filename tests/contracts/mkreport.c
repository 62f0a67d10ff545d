// SPDX-License-Identifier: GPL-2.0
/*
 * mkreport: signs report cores with liboracle exactly as attestio-oracle
 * nodes do (oracle_sign_core, collected with oracle_quorum_add), for the
 * contract tests (user/contracts/test) and the gas bench.
 *
 *   mkreport addr --key HEX [--key HEX ...]
 *       {"addresses": ["0x…", …], "node_ids": ["…", …]}
 *   mkreport sign --key HEX … --feed HEX --config HEX --round N
 *                 --value V --decimals D --status S [--evidence HEX]
 *                 [--out FINAL.cbor]
 *       {"core": "0x…", "sigs": "0x…", "final": "0x…"}: the ABI core, the
 *       signatures in key order (r || s || v, concatenated) and the final
 *       report (CBOR, Documentation/protocol.md), also written to --out.
 * Keys are node secret keys, 64 hex digits (an oracle node's [node] key).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "final.h"
#include "keccak.h"
#include "report.h"

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "mkreport: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static void hexout(const char *name, const uint8_t *b, size_t n, const char *sep)
{
	printf("\"%s\": \"0x", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\"%s", sep);
}

static int64_t num(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || !*s || *end)
		die("bad number for", what);
	return v;
}

int main(int argc, char **argv)
{
	static struct oracle_signer signers[ORACLE_QUORUM_MAX];
	static uint8_t keys[ORACLE_QUORUM_MAX][ORACLE_PUB_LEN];
	static struct oracle_quorum q;
	static struct oracle_final fin;
	struct oracle_core c = { 0 };
	const char *out = NULL, *why = NULL;
	uint8_t buf[ORACLE_FINAL_MAX], sk[32], core[ORACLE_CORE_LEN];
	size_t nkeys = 0, len;
	int sign;

	if (argc < 2 || (strcmp(argv[1], "addr") && strcmp(argv[1], "sign")))
		die("usage: mkreport addr|sign --key HEX ... (see the source)", NULL);
	sign = !strcmp(argv[1], "sign");
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("missing value after", o);
		i++;
		if (!strncmp(v, "0x", 2) && strcmp(o, "--round") && strcmp(o, "--value"))
			v += 2;
		if (!strcmp(o, "--key")) {
			if (nkeys == ORACLE_QUORUM_MAX || oracle_unhex(v, sk, 32) ||
			    oracle_signer_init(&signers[nkeys], sk))
				die("bad or too many keys", v);
			memcpy(keys[nkeys], signers[nkeys].pub, ORACLE_PUB_LEN);
			nkeys++;
		} else if (!strcmp(o, "--feed")) {
			if (oracle_unhex(v, c.feed_id, 32))
				die("bad --feed", v);
		} else if (!strcmp(o, "--config")) {
			if (oracle_unhex(v, c.config_digest, 32))
				die("bad --config", v);
		} else if (!strcmp(o, "--evidence")) {
			if (oracle_unhex(v, c.evidence_root, 32))
				die("bad --evidence", v);
		} else if (!strcmp(o, "--round")) {
			c.round = (uint64_t)num(v, o);
		} else if (!strcmp(o, "--value")) {
			c.value = num(v, o);
		} else if (!strcmp(o, "--decimals")) {
			c.decimals = (int8_t)num(v, o);
		} else if (!strcmp(o, "--status")) {
			c.status = (uint8_t)num(v, o);
		} else if (!strcmp(o, "--out")) {
			out = v;
		} else {
			die("unknown option", o);
		}
	}
	if (!nkeys)
		die("no --key given", NULL);
	if (!sign) {
		printf("{\"addresses\": [");
		for (size_t i = 0; i < nkeys; i++) {
			uint8_t a[ORACLE_ADDR_LEN];

			oracle_eth_address(signers[i].pub, a);
			printf("%s\"0x", i ? ", " : "");
			for (size_t k = 0; k < ORACLE_ADDR_LEN; k++)
				printf("%02x", a[k]);
			printf("\"");
		}
		printf("], \"node_ids\": [");
		for (size_t i = 0; i < nkeys; i++) {
			char id[ORACLE_NODE_ID_HEX];

			oracle_hex(signers[i].node_id, ORACLE_NODE_ID_LEN, id);
			printf("%s\"%s\"", i ? ", " : "", id);
		}
		printf("]}\n");
		return 0;
	}
	/* Each node signs; the collector checks and orders them (t = all). */
	if (oracle_quorum_init(&q, &c, (const uint8_t (*)[ORACLE_PUB_LEN])keys,
			       nkeys, nkeys, &why))
		die("quorum", why);
	for (size_t i = 0; i < nkeys; i++) {
		uint8_t sig[ORACLE_SIG_LEN];

		if (oracle_sign_core(&signers[i], &c, sig) ||
		    oracle_quorum_add(&q, sig, &why))
			die("signing failed", why);
		oracle_signer_fini(&signers[i]);
	}
	if (!oracle_quorum_final(&q))
		die("quorum not final", NULL);
	fin.nsigs = oracle_quorum_sigs(&q, fin.sigs, ORACLE_QUORUM_MAX);
	oracle_core_encode(&c, core);
	memcpy(fin.core, core, sizeof(core));
	if (oracle_final_encode(&fin, buf, sizeof(buf), &len))
		die("encoding the final report failed", NULL);
	if (out) {
		FILE *f = fopen(out, "wb");

		if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
			die("cannot write", out);
	}
	printf("{");
	hexout("core", core, sizeof(core), ", ");
	hexout("sigs", &fin.sigs[0][0], fin.nsigs * ORACLE_SIG_LEN, ", ");
	hexout("final", buf, len, "}\n");
	return 0;
}

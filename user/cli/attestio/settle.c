// SPDX-License-Identifier: GPL-2.0
/*
 * attestio settle --contract FILE [--evm OUT.json] [--json] REPORT...
 * The off-chain twin of the TemperatureOption contract: checks each final
 * report as AttestioFeedVerifier does, computes the payout with the
 * contract's integer arithmetic (liboracle: final.c, settle.c), and emits
 * the calldata that submits the reports on chain.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "final.h"
#include "keccak.h"
#include "settle.h"

#include "cli.h"
#include "util.h"

#define CMD "settle"
#define MAX_REPORTS 4096

static void settle_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio settle --contract FILE [--evm OUT.json] [--json] REPORT...\n"
		"\n"
		"Settle a TemperatureOption (Documentation/settlement.md) off chain from\n"
		"final reports (Documentation/protocol.md, \"Final report\": one report\n"
		"core and its node signatures, CBOR), exactly as the contract would once\n"
		"every REPORT is submitted and settle() has run to its end.\n"
		"\n"
		"Each report is checked as the contract's AttestioFeedVerifier checks it:\n"
		"the core decodes strictly, its config digest is the oracle set's, at\n"
		"least t = f + 1 signatures, each valid (v 27/28, low s), from a signer\n"
		"of the set (compared as Ethereum addresses), none twice; its feed and\n"
		"decimals are the option's and its round is in the option's window\n"
		"(with the extension) and given once.  Any failure refuses the run.\n"
		"\n"
		"A halted report (status != 0) is evidence that its round halted and is\n"
		"never used as a value.  The payout: mean = sum of the settled rounds'\n"
		"values / their count (truncated toward zero); buyer = mean > strike ?\n"
		"min((mean - strike) * notional, pool) : 0; seller = pool - buyer.  With\n"
		"fewer than min_rounds settled rounds in the window, the window extends\n"
		"once by extension_rounds; still too few, both deposits are refunded.\n"
		"\n"
		"Options:\n"
		"  -c, --contract FILE  the option's description: \"key = value\" lines\n"
		"                       (feed_id, decimals, first_round, last_round,\n"
		"                       extension_rounds, min_rounds, strike, notional,\n"
		"                       buyer_deposit, seller_deposit, config_digest, f,\n"
		"                       and one signer = <address> line per signer)\n"
		"  -e, --evm OUT.json   write the calldata to submit the reports (in round\n"
		"                       order, as the verifier requires) and to settle\n"
		"  -j, --json           print the result as one JSON object\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status:\n"
		"  0  the option settles; the payout is printed\n"
		"  1  a report was refused (malformed, under-signed, bad or unknown or\n"
		"     repeated signer, other config digest, feed, decimals or window, a\n"
		"     round given twice); nothing is computed\n"
		"  2  bad command line or contract description\n"
		"  5  a file could not be read or written\n"
		"  6  fallback: too few settled rounds (halted rounds are never values);\n"
		"     both deposits are refunded (the refund is printed)\n");
}

struct item {
	const char *path;
	struct oracle_final fin;
	struct oracle_core core;
};

static int by_round(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->core.round < y->core.round ? -1 : x->core.round > y->core.round;
}

static void hex_json(FILE *f, const uint8_t *b, size_t n)
{
	fputs("\"0x", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputc('"', f);
}

static void word_hex(FILE *f, uint64_t v)
{
	fprintf(f, "%048x%016" PRIx64, 0, v);
}

/* Solidity selector: first 4 bytes of Keccak-256 of the signature. */
static void selector(const char *sig, uint8_t out[4])
{
	uint8_t h[32];

	oracle_keccak256(sig, strlen(sig), h);
	memcpy(out, h, 4);
}

/* abi.encodeWithSignature("submit(bytes,bytes)", core, sigs) as hex. */
static void submit_calldata(FILE *f, const struct item *it)
{
	size_t slen = it->fin.nsigs * ORACLE_SIG_LEN;
	size_t spad = (slen + 31) / 32 * 32;
	uint8_t sel[4];

	selector("submit(bytes,bytes)", sel);
	fputs("\"0x", f);
	for (int i = 0; i < 4; i++)
		fprintf(f, "%02x", sel[i]);
	word_hex(f, 0x40);				/* offset of core */
	word_hex(f, 0x40 + 32 + ORACLE_CORE_LEN);	/* offset of sigs */
	word_hex(f, ORACLE_CORE_LEN);
	for (size_t i = 0; i < ORACLE_CORE_LEN; i++)
		fprintf(f, "%02x", it->fin.core[i]);
	word_hex(f, slen);
	for (size_t i = 0; i < spad; i++)
		fprintf(f, "%02x", i < slen ? it->fin.sigs[i / ORACLE_SIG_LEN][i % ORACLE_SIG_LEN] : 0);
	fputc('"', f);
}

static int write_evm(const char *path, const struct item *items, size_t n)
{
	uint8_t sel[4];
	FILE *f = fopen(path, "w");

	if (!f) {
		cli_error(CMD, "cannot write %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	fprintf(f, "{\n  \"contract\": \"TemperatureOption\",\n"
		   "  \"function\": \"submit(bytes,bytes)\",\n  \"submissions\": [");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\n    {\"round\": %" PRIu64 ", \"status\": %u, \"core\": ",
			i ? "," : "", items[i].core.round, items[i].core.status);
		hex_json(f, items[i].fin.core, ORACLE_CORE_LEN);
		fputs(", \"sigs\": ", f);
		hex_json(f, &items[i].fin.sigs[0][0], items[i].fin.nsigs * ORACLE_SIG_LEN);
		fputs(", \"calldata\": ", f);
		submit_calldata(f, &items[i]);
		fputc('}', f);
	}
	selector("settle()", sel);
	fputs("\n  ],\n  \"settle_calldata\": ", f);
	hex_json(f, sel, 4);
	selector("withdraw()", sel);
	fputs(",\n  \"withdraw_calldata\": ", f);
	hex_json(f, sel, 4);
	fputs("\n}\n", f);
	if (fclose(f)) {
		cli_error(CMD, "cannot write %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	return 0;
}

static const char *outcome_name(enum oracle_outcome o)
{
	switch (o) {
	case ORACLE_OUT_SETTLED:
		return "settled";
	case ORACLE_OUT_SETTLED_EXTENDED:
		return "settled-extended";
	default:
		return "refund";
	}
}

static void refuse_json(const char *path, const char *why)
{
	printf("{\"result\": \"refused\", \"file\": ");
	json_str(stdout, path);
	printf(", \"error\": ");
	json_str(stdout, why);
	printf("}\n");
}

/* Load and check one final report; EXIT_* on failure (already printed). */
static int load_one(struct item *it, const struct oracle_option *o, bool json)
{
	uint8_t *buf;
	size_t len;
	const char *why = NULL;
	int ret = cli_read_file(CMD, it->path, ORACLE_FINAL_MAX, &buf, &len);

	if (ret) {
		if (json)
			refuse_json(it->path, "cannot read the file");
		return ret;
	}
	if (oracle_final_parse(buf, len, &it->fin, &why) == 0 &&
	    oracle_final_check(&it->fin, &o->set, &it->core, &why) == 0 &&
	    memcmp(it->core.feed_id, o->feed_id, ORACLE_HASH_LEN))
		why = "the report's feed is not the option's";
	free(buf);
	if (why) {
		if (json)
			refuse_json(it->path, why);
		else
			cli_error(CMD, "%s: refused: %s", it->path, why);
		return EXIT_FAIL;
	}
	return 0;
}

static void print_text(const struct oracle_option *o, const struct item *items,
		       size_t n, const struct oracle_payout *p)
{
	char b[40], s[40], fid[65];

	oracle_hex(o->feed_id, 32, fid);
	printf("option on feed %s: rounds %" PRIu64 "..%" PRIu64 " (+%" PRIu64
	       " extension), strike %" PRId64 " at decimals %d, t = %u\n",
	       fid, o->first_round, o->last_round, o->extension_rounds, o->strike,
	       o->decimals, o->set.f + 1);
	for (size_t i = 0; i < n; i++) {
		const struct oracle_core *c = &items[i].core;

		if (c->status == 0)
			printf("  round %" PRIu64 ": %" PRId64 " (%zu signatures)\n",
			       c->round, c->value, items[i].fin.nsigs);
		else
			printf("  round %" PRIu64 ": halted (%u %s), not used as a value\n",
			       c->round, c->status, oracle_status_name(c->status));
	}
	oracle_u128_str(p->buyer, b);
	oracle_u128_str(p->seller, s);
	if (p->outcome == ORACLE_OUT_REFUND)
		printf("outcome: refund: %" PRIu64 " settled rounds < min_rounds %" PRIu64
		       " (%" PRIu64 " halted) up to round %" PRIu64 "\n",
		       p->settled, o->min_rounds, p->halted, p->window_end);
	else
		printf("outcome: %s: mean %" PRId64 " over %" PRIu64 " settled rounds (%"
		       PRIu64 " halted) up to round %" PRIu64 "\n", outcome_name(p->outcome),
		       p->mean, p->settled, p->halted, p->window_end);
	printf("payout: buyer %s wei, seller %s wei\n", b, s);
}

static void print_json(const struct item *items, size_t n,
		       const struct oracle_payout *p)
{
	char b[40], s[40];

	oracle_u128_str(p->buyer, b);
	oracle_u128_str(p->seller, s);
	printf("{\"result\": \"%s\", \"window_end\": %" PRIu64 ", \"settled_rounds\": %"
	       PRIu64 ", \"halted_rounds\": %" PRIu64 ", ", outcome_name(p->outcome),
	       p->window_end, p->settled, p->halted);
	if (p->outcome != ORACLE_OUT_REFUND)
		printf("\"mean\": %" PRId64 ", ", p->mean);
	printf("\"buyer\": \"%s\", \"seller\": \"%s\", \"rounds\": [", b, s);
	for (size_t i = 0; i < n; i++)
		printf("%s{\"round\": %" PRIu64 ", \"status\": %u, \"value\": %" PRId64
		       ", \"signatures\": %zu}", i ? ", " : "", items[i].core.round,
		       items[i].core.status, items[i].core.value, items[i].fin.nsigs);
	printf("]}\n");
}

int cmd_settle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "contract", required_argument, NULL, 'c' },
		{ "evm", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *contract = NULL, *evm = NULL, *why = NULL;
	struct oracle_option opt;
	struct oracle_round_in *rin = NULL;
	struct oracle_payout pay;
	struct item *items = NULL;
	bool json = false;
	uint8_t *text;
	size_t tlen, n;
	char err[256];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:e:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			contract = optarg;
			break;
		case 'e':
			evm = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			settle_usage(stdout);
			return EXIT_OK;
		default:
			settle_usage(stderr);
			return EXIT_USAGE;
		}
	}
	n = (size_t)(argc - optind);
	if (!contract || n == 0 || n > MAX_REPORTS) {
		cli_error(CMD, "need --contract FILE and 1..%d final reports", MAX_REPORTS);
		settle_usage(stderr);
		return EXIT_USAGE;
	}
	ret = cli_read_file(CMD, contract, ORACLE_OPTION_TEXT_MAX, &text, &tlen);
	if (ret)
		return ret == EXIT_FAIL ? EXIT_USAGE : ret;
	ret = oracle_option_parse((const char *)text, tlen, &opt, err, sizeof(err));
	free(text);
	if (ret) {
		cli_error(CMD, "%s: %s", contract, err);
		return EXIT_USAGE;
	}
	items = calloc(n, sizeof(*items));
	rin = calloc(n, sizeof(*rin));
	if (!items || !rin) {
		cli_error(CMD, "out of memory");
		ret = EXIT_IO;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].path = argv[optind + (int)i];
		ret = load_one(&items[i], &opt, json);
		if (ret)
			goto out;
	}
	qsort(items, n, sizeof(*items), by_round);
	for (size_t i = 0; i < n; i++)
		rin[i] = (struct oracle_round_in){ .round = items[i].core.round,
			.value = items[i].core.value, .decimals = items[i].core.decimals,
			.status = items[i].core.status };
	if (oracle_option_payout(&opt, rin, n, &pay, &why)) {
		if (json)
			refuse_json(contract, why);
		else
			cli_error(CMD, "refused: %s", why);
		ret = EXIT_FAIL;
		goto out;
	}
	if (evm) {
		ret = write_evm(evm, items, n);
		if (ret)
			goto out;
	}
	if (json)
		print_json(items, n, &pay);
	else
		print_text(&opt, items, n, &pay);
	ret = pay.outcome == ORACLE_OUT_REFUND ? EXIT_REFUND : EXIT_OK;
out:
	free(items);
	free(rin);
	return ret;
}

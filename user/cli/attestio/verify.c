// SPDX-License-Identifier: GPL-2.0
/*
 * attestio verify [--ak FILE] [--policy FILE] [--allow-unsigned]
 *                 [--allow-lost] [--allow-join] [--complete] [--state FILE]
 *                 [--beacon HEX]... [--beacons FILE] [--json] [FILE|-]
 * Feed every record of a raw record file (as written by attestio read -o)
 * or stream to libattestio's verifier.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libattestio.h"

#include "ack.h"
#include "cli.h"
#include "progress.h"
#include "util.h"

static void verify_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio verify [--ak FILE] [--policy FILE] [--allow-unsigned]\n"
		"                       [--allow-lost] [--allow-join] [--complete]\n"
		"                       [--state FILE] [--beacon HEX]... [--beacons FILE]\n"
		"                       [--json]\n"
		"                       [--measurements LOG [--pcrs FILE]]... [FILE|-]\n"
		"\n"
		"Verify raw attestio records (as written by attestio read -o, or\n"
		"/dev/attestio itself) from FILE or standard input: strict parsing,\n"
		"sequence numbers, every stream's SHA-256 chain, and each checkpoint's\n"
		"TPM quote (qualifying data = epoch digest, signature by the\n"
		"attestation key, TPM clock freshness, PCR policy).\n"
		"\n"
		"Every record ends in exactly one state (Documentation/wire-format.md,\n"
		"\"Verification rules\"):\n"
		"  VERIFIED      chained from an anchor (a stream's genesis or a verified\n"
		"                checkpoint's signed head) and covered by a verified quote\n"
		"  PENDING       chained, but no checkpoint covers it yet (end of input)\n"
		"  UNSIGNED      covered only by explicitly unsigned checkpoints\n"
		"  UNVERIFIABLE  can never be proven: before its stream's first anchor,\n"
		"                next to a sequence hole, or in a chain that broke\n"
		"  BAD           failed a check\n"
		"  LOCAL         a reader-local \"lost\" record\n"
		"and records known to exist but absent are MISSING (holes; withheld:\n"
		"proven by another stream's signed head).\n"
		"\n"
		"Prints one line\n"
		"  verified N samples, M checkpoints; P pending, U unsigned, X unverifiable, B bad\n"
		"(counts of sample records, and of verified checkpoint records), then one\n"
		"line per problem range (stream, state, seq range, reason) and events.\n"
		"\n"
		"Exit status 0 only if no record is BAD, UNVERIFIABLE or MISSING (unless\n"
		"excused below), none is UNSIGNED (unless --allow-unsigned), at least one\n"
		"checkpoint verified, and with --complete nothing is withheld.\n"
		"\n"
		"Options:\n"
		"  -k, --ak FILE         attestation key: TPM2B_PUBLIC (ak.pub), enrollment\n"
		"                        bundle (enroll.bin: also checks the quote's\n"
		"                        qualifiedSigner), or PEM (ak.pem: the key's TPM\n"
		"                        origin is then not checked, and the output says so)\n"
		"  -p, --policy FILE     allowed quoted PCR states, one line per state:\n"
		"                        \"<pcr_select hex mask> <pcr digest hex>\";\n"
		"                        default: any PCR state\n"
		"  -u, --allow-unsigned  UNSIGNED records are not a failure\n"
		"  -l, --allow-lost      sequence holes that the reader's own \"lost\" records\n"
		"                        account for (counted: a lost record excuses at most\n"
		"                        as many missing records as it declares), and the\n"
		"                        records they leave UNVERIFIABLE, are not a failure\n"
		"  -J, --allow-join      a stream may start mid-chain (a reader that opened\n"
		"                        after the log wrapped): its records before its first\n"
		"                        anchor are UNVERIFIABLE but not a failure\n"
		"  -c, --complete        fail if records that verified quotes prove to exist\n"
		"                        are absent (a withheld stream, or a stream's tail)\n"
		"  -s, --state FILE      replay protection across runs: refuse any quote not\n"
		"                        newer than those verified by earlier runs that used\n"
		"                        FILE; FILE is updated when the run succeeds\n"
		"  -b, --beacon HEX      an oracle beacon value the network issued (64 hex\n"
		"                        digits; repeatable).  Given any, every signed\n"
		"                        checkpoint must cover one of them (freshness: its\n"
		"                        quote was made after that beacon was published);\n"
		"                        one covering no beacon or another value is BAD.\n"
		"                        Without, the beacons covered are only reported\n"
		"  -B, --beacons FILE    the same, one value per line ('#' comments)\n"
		"  -j, --json            print the result as one JSON object instead\n"
		"%s"
		"  -h, --help            this help\n"
		"\n%s", cli_boots_help, exit_codes_help);
}

#define MAX_RANGES	64	/* problem ranges kept for the report */
#define MAX_ERR_LINES	20	/* per-record messages printed */

/* Consecutive records of one stream with the same non-verified verdict. */
struct vrange {
	uint32_t stream;
	enum att_rec_state state;
	enum att_cause cause;
	bool excused;
	uint64_t first, last, count;
	char why[160];
};

#define MAX_BEACONS	64	/* distinct beacons reported */

/* Verified checkpoints per beacon value they cover. */
struct vbeacon {
	uint8_t value[ATTESTIO_HASH_LEN];
	uint64_t first_epoch, last_epoch, checkpoints;
};

struct vreport {
	struct vbeacon beacon[MAX_BEACONS];
	size_t nbeacon;
	uint64_t beacon_dropped;	/* checkpoints of beacons not kept */
	uint64_t no_beacon;		/* verified checkpoints covering none */
	struct vrange open[ATTESTIO_MAX_STREAMS];
	bool have_open[ATTESTIO_MAX_STREAMS];
	struct vrange r[MAX_RANGES];
	size_t n;
	uint64_t dropped;	/* ranges beyond MAX_RANGES */
};

static void vr_close(struct vreport *vr, uint32_t stream)
{
	if (!vr->have_open[stream])
		return;
	if (vr->n < MAX_RANGES)
		vr->r[vr->n++] = vr->open[stream];
	else
		vr->dropped++;
	vr->have_open[stream] = false;
}

static void on_verdict(void *ctx, const struct att_verdict *vd)
{
	struct vreport *vr = ctx;
	struct vrange *o;
	uint32_t id = vd->stream;

	if (vd->state == ATT_REC_VERIFIED || vd->state == ATT_REC_LOCAL)
		return;
	if (id >= ATTESTIO_MAX_STREAMS)
		id = 0;	/* a malformed header: shown with its raw stream */
	o = &vr->open[id];
	if (vr->have_open[id] && o->state == vd->state &&
	    o->cause == vd->cause && o->excused == vd->excused &&
	    vd->state != ATT_REC_MISSING && vd->state != ATT_REC_BAD &&
	    vd->seq == o->last + 1) {
		o->last = vd->seq;
		o->count++;
		return;
	}
	vr_close(vr, id);
	memset(o, 0, sizeof(*o));
	o->stream = vd->stream;
	o->state = vd->state;
	o->cause = vd->cause;
	o->excused = vd->excused;
	o->first = vd->seq;
	o->count = vd->count;
	o->last = vd->seq + vd->count - 1;
	snprintf(o->why, sizeof(o->why), "%s", vd->why ? vd->why : "");
	vr->have_open[id] = true;
}

static void on_beacon(void *ctx, uint32_t stream, uint64_t instance,
		      uint64_t epoch, const uint8_t *beacon)
{
	struct vreport *vr = ctx;
	struct vbeacon *b = NULL;

	(void)stream;
	(void)instance;
	if (!beacon) {
		vr->no_beacon++;
		return;
	}
	for (size_t i = 0; i < vr->nbeacon && !b; i++)
		if (!memcmp(vr->beacon[i].value, beacon, ATTESTIO_HASH_LEN))
			b = &vr->beacon[i];
	if (!b && vr->nbeacon == MAX_BEACONS) {
		vr->beacon_dropped++;
		return;
	}
	if (!b) {
		b = &vr->beacon[vr->nbeacon++];
		memcpy(b->value, beacon, ATTESTIO_HASH_LEN);
		b->first_epoch = epoch;
	}
	if (epoch < b->first_epoch)
		b->first_epoch = epoch;
	if (epoch > b->last_epoch)
		b->last_epoch = epoch;
	b->checkpoints++;
}

static void hex32(char out[2 * ATTESTIO_HASH_LEN + 1], const uint8_t *v)
{
	for (int i = 0; i < ATTESTIO_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", v[i]);
}

struct beacon_set {
	uint8_t (*v)[ATTESTIO_HASH_LEN];
	size_t n, cap;
};

static int beacon_add(struct beacon_set *bs, const char *s, const char *where)
{
	if (bs->n == bs->cap) {
		size_t cap = bs->cap ? 2 * bs->cap : 16;
		void *p = realloc(bs->v, cap * sizeof(*bs->v));

		if (!p) {
			cli_error("verify", "out of memory");
			return -1;
		}
		bs->v = p;
		bs->cap = cap;
	}
	if (oracle_unhex(s, bs->v[bs->n], ATTESTIO_HASH_LEN)) {
		cli_error("verify", "%s: a beacon is 64 hex digits, not \"%s\"",
			  where, s);
		return -1;
	}
	bs->n++;
	return 0;
}

static int beacon_file(struct beacon_set *bs, const char *path)
{
	char line[256], where[300];
	unsigned int no = 0;
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f) {
		cli_error("verify", "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *p = line, *e;

		no++;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, "#\r\n");
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = 0;
		if (!*p)
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, no);
		ret = beacon_add(bs, p, where);
	}
	if (!ret && ferror(f)) {
		cli_error("verify", "%s: %s", path, strerror(errno));
		ret = -1;
	}
	fclose(f);
	return ret;
}

static void print_beacons(const struct vreport *vr)
{
	char hex[2 * ATTESTIO_HASH_LEN + 1];

	for (size_t i = 0; i < vr->nbeacon; i++) {
		const struct vbeacon *b = &vr->beacon[i];

		hex32(hex, b->value);
		printf("beacon %s: %llu verified checkpoint%s, epochs %llu..%llu\n",
		       hex, (unsigned long long)b->checkpoints,
		       b->checkpoints == 1 ? "" : "s",
		       (unsigned long long)b->first_epoch,
		       (unsigned long long)b->last_epoch);
	}
	if (vr->beacon_dropped)
		printf("(%llu more checkpoints of other beacons not shown)\n",
		       (unsigned long long)vr->beacon_dropped);
	if (vr->no_beacon)
		printf("beacon none: %llu verified checkpoint%s cover no oracle beacon (no freshness beyond the TPM clock)\n",
		       (unsigned long long)vr->no_beacon,
		       vr->no_beacon == 1 ? "" : "s");
}

static void json_beacons(const struct vreport *vr)
{
	char hex[2 * ATTESTIO_HASH_LEN + 1];

	printf(", \"beacons\": [");
	for (size_t i = 0; vr && i < vr->nbeacon; i++) {
		const struct vbeacon *b = &vr->beacon[i];

		hex32(hex, b->value);
		printf("%s{\"beacon\": \"%s\", \"checkpoints\": %llu, "
		       "\"first_epoch\": %llu, \"last_epoch\": %llu}",
		       i ? ", " : "", hex, (unsigned long long)b->checkpoints,
		       (unsigned long long)b->first_epoch,
		       (unsigned long long)b->last_epoch);
	}
	printf("], \"checkpoints_no_beacon\": %llu, \"beacons_not_shown\": %llu",
	       vr ? (unsigned long long)vr->no_beacon : 0ULL,
	       vr ? (unsigned long long)vr->beacon_dropped : 0ULL);
}

static const char *state_word(enum att_rec_state st)
{
	switch (st) {
	case ATT_REC_VERIFIED:
		return "verified";
	case ATT_REC_PENDING:
		return "pending";
	case ATT_REC_UNSIGNED:
		return "unsigned";
	case ATT_REC_LOCAL:
		return "local";
	case ATT_REC_BAD:
		return "bad";
	case ATT_REC_UNVERIFIABLE:
		return "unverifiable";
	case ATT_REC_MISSING:
		return "missing";
	}
	return "?";
}

static const char *cause_word(enum att_cause c)
{
	switch (c) {
	case ATT_CAUSE_NONE:
		return NULL;
	case ATT_CAUSE_JOIN:
		return "join";
	case ATT_CAUSE_HOLE:
		return "hole";
	case ATT_CAUSE_BROKEN:
		return "broken";
	case ATT_CAUSE_WITHHELD:
		return "withheld";
	}
	return NULL;
}

static void json_result(const struct att_summary *s, bool ok,
			const struct vreport *vr, const char *failure,
			uint64_t recno, uint64_t offset, const char *problem)
{
	static const char *const ev[] = { "reboot", "restart", "lost", "gap" };
	bool first = true;

	printf("{\"ok\": %s, \"records\": %llu, \"samples\": %llu, "
	       "\"samples_verified\": %llu, \"samples_pending\": %llu, "
	       "\"samples_unsigned\": %llu, \"samples_unverifiable\": %llu, "
	       "\"samples_bad\": %llu, "
	       "\"records_verified\": %llu, \"records_pending\": %llu, "
	       "\"records_unsigned\": %llu, \"records_unverifiable\": %llu, "
	       "\"records_bad\": %llu, \"records_local\": %llu, "
	       "\"unverifiable_excused\": %llu, \"missing\": %llu, "
	       "\"missing_excused\": %llu, \"withheld\": %llu, "
	       "\"checkpoints\": %llu, "
	       "\"checkpoints_verified\": %llu, \"checkpoints_unsigned\": %llu, "
	       "\"gap_lost\": %llu, \"lost_records\": %llu, \"streams\": %u, "
	       "\"key_origin_checked\": %s, \"kernel_key\": %s, \"events\": [",
	       ok ? "true" : "false", (unsigned long long)s->records,
	       (unsigned long long)s->samples,
	       (unsigned long long)s->samples_verified,
	       (unsigned long long)s->samples_pending,
	       (unsigned long long)s->samples_unsigned,
	       (unsigned long long)s->samples_unverifiable,
	       (unsigned long long)s->samples_bad,
	       (unsigned long long)s->records_verified,
	       (unsigned long long)s->records_pending,
	       (unsigned long long)s->records_unsigned,
	       (unsigned long long)s->records_unverifiable,
	       (unsigned long long)s->records_bad,
	       (unsigned long long)s->records_local,
	       (unsigned long long)s->unverifiable_excused,
	       (unsigned long long)s->missing,
	       (unsigned long long)s->missing_excused,
	       (unsigned long long)s->withheld,
	       (unsigned long long)s->checkpoints,
	       (unsigned long long)s->checkpoints_verified,
	       (unsigned long long)s->checkpoints_unsigned,
	       (unsigned long long)s->gap_lost,
	       (unsigned long long)s->lost_records, s->streams,
	       s->key_origin_checked ? "true" : "false",
	       s->kernel_key ? "true" : "false");
	for (unsigned int i = 0; i < 4; i++)
		if (s->events & (1u << i)) {
			printf("%s\"%s\"", first ? "" : ", ", ev[i]);
			first = false;
		}
	printf("], \"problems\": [");
	for (size_t i = 0; vr && i < vr->n; i++) {
		const struct vrange *r = &vr->r[i];
		const char *c = cause_word(r->cause);

		printf("%s{\"stream\": %u, \"state\": \"%s\", \"first\": %llu, "
		       "\"last\": %llu, \"count\": %llu, \"excused\": %s, "
		       "\"cause\": ", i ? ", " : "", r->stream,
		       state_word(r->state), (unsigned long long)r->first,
		       (unsigned long long)r->last,
		       (unsigned long long)r->count,
		       r->excused ? "true" : "false");
		if (c)
			json_str(stdout, c);
		else
			printf("null");
		printf(", \"reason\": ");
		json_str(stdout, r->why);
		printf("}");
	}
	printf("], \"problems_not_shown\": %llu",
	       vr ? (unsigned long long)vr->dropped : 0ULL);
	printf(", \"checkpoints_beacon\": %llu",
	       (unsigned long long)s->checkpoints_beacon);
	printf(", \"anchors_state\": %llu",
	       (unsigned long long)s->anchors_state);
	json_beacons(vr);
	if (problem) {
		printf(", \"error\": {\"code\": \"ATT_EPARSE\", \"record\": %llu, "
		       "\"offset\": %llu, \"message\": ",
		       (unsigned long long)recno, (unsigned long long)offset);
		json_str(stdout, problem);
		printf("}");
	} else if (failure) {
		printf(", \"error\": {\"message\": ");
		json_str(stdout, failure);
		printf("}");
	}
	printf("}\n");
}

/* The one summary line scripts read; its first part is fixed. */
static void print_summary_line(const struct att_summary *s)
{
	printf("verified %llu samples, %llu checkpoints; %llu pending, %llu unsigned, "
	       "%llu unverifiable, %llu bad\n",
	       (unsigned long long)s->samples_verified,
	       (unsigned long long)s->checkpoints_verified,
	       (unsigned long long)s->samples_pending,
	       (unsigned long long)s->samples_unsigned,
	       (unsigned long long)s->samples_unverifiable,
	       (unsigned long long)s->samples_bad);
}

static void print_ranges(const struct vreport *vr)
{
	for (size_t i = 0; i < vr->n; i++) {
		const struct vrange *r = &vr->r[i];

		printf("stream %u: %llu record%s %s (seq %llu", r->stream,
		       (unsigned long long)r->count, r->count == 1 ? "" : "s",
		       state_word(r->state), (unsigned long long)r->first);
		if (r->last != r->first)
			printf("..%llu", (unsigned long long)r->last);
		printf(")%s%s%s\n", r->why[0] ? ": " : "", r->why,
		       r->excused ? " [allowed]" : "");
	}
	if (vr->dropped)
		printf("(%llu more problem ranges not shown)\n",
		       (unsigned long long)vr->dropped);
}

static void print_events(const struct att_summary *s)
{
	if (s->events & ATT_EV_REBOOT)
		printf("event: the TPM was reset (reboot) between checkpoints\n");
	if (s->events & ATT_EV_RESTART)
		printf("event: the TPM was restarted between checkpoints\n");
	if (s->events & ATT_EV_GAP)
		printf("event: the capture path declared %llu samples lost (gap records)\n",
		       (unsigned long long)s->gap_lost);
	if (s->events & ATT_EV_LOST)
		printf("event: the reader lost %llu records (lost records)\n",
		       (unsigned long long)s->lost_records);
	if (s->withheld)
		printf("note: %llu records that verified quotes prove to exist are not in the input (use --complete to fail on this)\n",
		       (unsigned long long)s->withheld);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ak", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'p' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "allow-lost", no_argument, NULL, 'l' },
		{ "allow-join", no_argument, NULL, 'J' },
		{ "complete", no_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "measurements", required_argument, NULL, 'm' },
		{ "pcrs", required_argument, NULL, 'P' },
		{ "beacon", required_argument, NULL, 'b' },
		{ "beacons", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ak = NULL, *policy = NULL, *path = "-", *state = NULL;
	struct cli_boots boots = { 0 };
	struct beacon_set bs = { 0 };
	struct att_verifier_opts vo = { 0 };
	struct vreport *vr;
	bool json = false;
	struct cli_verifier cv;
	struct rec_reader rr;
	struct progress pg;
	struct att_summary sum;
	struct att_err err;
	char why[256];
	const uint8_t *rec;
	uint64_t recno = 0, nerr = 0;
	size_t len;
	int c, fd, r, rc;

	while ((c = getopt_long(argc, argv, "k:p:ulJcs:jm:P:b:B:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 'P':
			if (cli_boots_add("verify", &boots, c == 'm', optarg))
				return EXIT_USAGE;
			break;
		case 'b':
			if (beacon_add(&bs, optarg, "--beacon")) {
				free(bs.v);
				return EXIT_USAGE;
			}
			break;
		case 'B':
			if (beacon_file(&bs, optarg)) {
				free(bs.v);
				return EXIT_USAGE;
			}
			break;
		case 'k':
			ak = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'u':
			vo.allow_unsigned = true;
			break;
		case 'l':
			vo.allow_lost = true;
			break;
		case 'J':
			vo.allow_join = true;
			break;
		case 'c':
			vo.complete = true;
			break;
		case 's':
			state = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			free(bs.v);
			verify_usage(stdout);
			return EXIT_OK;
		default:
			free(bs.v);
			verify_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_error("verify", "expected at most one FILE");
		free(bs.v);
		return EXIT_USAGE;
	}
	if (boots.n && !ak) {
		cli_error("verify", "--measurements needs --ak: the enrolled AK certifies the session key");
		free(bs.v);
		return EXIT_USAGE;
	}
	if (state && !ak) {
		cli_error("verify", "--state needs --ak: only verified quotes are remembered");
		free(bs.v);
		return EXIT_USAGE;
	}
	if (bs.n && !ak) {
		cli_error("verify", "--beacon needs --ak: only a verified quote proves which beacon it covers");
		free(bs.v);
		return EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	vr = calloc(1, sizeof(*vr));
	if (!vr) {
		cli_error("verify", "out of memory");
		free(bs.v);
		return EXIT_IO;
	}
	vo.on_verdict = on_verdict;
	vo.on_beacon = on_beacon;
	vo.ctx = vr;
	vo.beacons = (const uint8_t (*)[ATTESTIO_HASH_LEN])bs.v;
	vo.nbeacons = bs.n;
	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
		path = "standard input";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("verify", "%s: %s", path, strerror(errno));
			free(vr);
			free(bs.v);
			return EXIT_IO;
		}
	}
	rc = verifier_setup("verify", &cv, ak, policy, &boots, &vo);
	if (rc)
		goto out_fd;
	if (state && att_verifier_state_load(cv.v, state, &err)) {
		cli_error("verify", "%s", err.msg);
		rc = EXIT_IO;
		goto out_v;
	}
	if (rec_reader_init(&rr, fd)) {
		cli_error("verify", "out of memory");
		rc = EXIT_IO;
		goto out_v;
	}
	rc = EXIT_OK;
	/* on a terminal only: never with --json or when stdout is captured */
	progress_begin(&pg, "verify", fd, json);
	for (;;) {
		progress_update(&pg, rr.next, recno);
		r = rec_reader_next(&rr, &rec, &len, why, sizeof(why));
		if (r == 0)
			break;
		if (r < 0) {
			progress_end(&pg);
			/* framing lost: nothing after this can be trusted */
			att_verifier_finish(cv.v, NULL);
			for (uint32_t i = 0; i < ATTESTIO_MAX_STREAMS; i++)
				vr_close(vr, i);
			att_verifier_summary(cv.v, &sum);
			if (json) {
				json_result(&sum, false, vr, NULL, recno, rr.next, why);
			} else {
				print_summary_line(&sum);
				print_ranges(vr);
				cli_error("verify", "FAILED: %s: %s", path, why);
			}
			rc = EXIT_FAIL;
			goto out;
		}
		r = att_verifier_feed(cv.v, rec, len, NULL, &err);
		if (r && !json)
			progress_end(&pg);	/* the problem line, not over it */
		if (r && !json && ++nerr == MAX_ERR_LINES + 1)
			fprintf(stderr, "attestio verify: more problems follow; the summary counts them all\n");
		if (r && !json && nerr <= MAX_ERR_LINES)
			/* err.msg names the stream, seq and what failed */
			fprintf(stderr,
				"attestio verify: record %llu (byte offset %llu): %s [check: %s]\n",
				(unsigned long long)recno,
				(unsigned long long)rr.offset,
				err.msg[0] ? err.msg : att_code_name(r),
				att_code_name(err.code ? err.code : r));
		recno++;
	}
	progress_end(&pg);
	r = att_verifier_finish(cv.v, &err);
	for (uint32_t i = 0; i < ATTESTIO_MAX_STREAMS; i++)
		vr_close(vr, i);
	att_verifier_summary(cv.v, &sum);
	if (!r && state && att_verifier_state_save(cv.v, state, &err)) {
		cli_error("verify", "%s", err.msg);
		rc = EXIT_IO;
	} else if (r) {
		rc = EXIT_FAIL;
	}
	if (json) {
		json_result(&sum, rc == EXIT_OK, vr, r ? err.msg : NULL, recno,
			    rr.next, NULL);
	} else {
		print_summary_line(&sum);
		print_ranges(vr);
		print_events(&sum);
		print_beacons(vr);
		if (sum.kernel_key)
			printf("key: every verified quote was made by the kernel session key that its boot's measurement log proves the only key registered, certified by the AK\n");
		else if (ak && sum.checkpoints_verified)
			printf("note: kernel-exclusive key use was not checked: quotes were verified with the given key itself, which anyone with TPM access may have used (pass --measurements)\n");
		if (ak && !sum.key_origin_checked)
			printf("note: the attestation key's TPM origin was not checked (a PEM key carries no TPM attributes: pass ak.pub or the enrollment bundle)\n");
		if (r)
			cli_error("verify", "FAILED: %s", err.msg);
	}
out:
	rec_reader_free(&rr);
out_v:
	verifier_done(&cv);
out_fd:
	if (fd != STDIN_FILENO)
		close(fd);
	free(vr);
	free(bs.v);
	if (fflush(stdout) && rc == EXIT_OK)
		rc = EXIT_IO;
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * attestio verify [--ak FILE] [--policy FILE] [--allow-unsigned] [--json]
 *                 [FILE|-]
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

#include "cli.h"
#include "util.h"

static void verify_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio verify [--ak FILE] [--policy FILE] [--allow-unsigned]\n"
		"                       [--allow-lost] [--json] [FILE|-]\n"
		"\n"
		"Verify raw attestio records (as written by attestio read -o, or\n"
		"/dev/attestio itself) from FILE or standard input: strict parsing,\n"
		"sequence numbers, every stream's SHA-256 chain, and each checkpoint's\n"
		"TPM quote (qualifying data = epoch digest, signature by the\n"
		"attestation key, TPM clock freshness, PCR policy).\n"
		"\n"
		"On success prints one line\n"
		"  verified N samples, M checkpoints; P pending, U unsigned\n"
		"where N counts samples covered by a verified checkpoint, P samples\n"
		"after the last checkpoint of their stream (reported, not verified)\n"
		"and U samples covered only by unsigned checkpoints (--allow-unsigned);\n"
		"following lines name events (TPM reboot/restart, declared gaps, reader\n"
		"losses).  On the first record that fails a check it prints which\n"
		"record, stream and sequence number, which check, and exits 1.\n"
		"\n"
		"Options:\n"
		"  -k, --ak FILE         attestation key: PEM public key or TPM2B_PUBLIC\n"
		"                        (ak.pem / ak.pub from attestio provision);\n"
		"                        without it signed checkpoints cannot verify\n"
		"  -p, --policy FILE     allowed quoted PCR states, one line per state:\n"
		"                        \"<pcr_select hex mask> <pcr digest hex>\";\n"
		"                        default: any PCR state\n"
		"  -u, --allow-unsigned  accept explicitly unsigned checkpoints (their\n"
		"                        samples are counted as unsigned, not verified)\n"
		"  -l, --allow-lost      accept reader-local \"lost\" records\n"
		"  -j, --json            print the result as one JSON object instead\n"
		"  -h, --help            this help\n"
		"\n"
		"The input must contain at least one checkpoint that verifies (or,\n"
		"with --allow-unsigned, an unsigned one); an empty input fails.\n"
		"\n%s", exit_codes_help);
}

static void json_result(const struct att_summary *s, bool ok,
			const struct att_err *err, uint64_t recno,
			uint64_t offset, const char *problem)
{
	printf("{\"ok\": %s, \"records\": %llu, \"samples\": %llu, "
	       "\"samples_verified\": %llu, \"samples_pending\": %llu, "
	       "\"samples_unsigned\": %llu, \"checkpoints\": %llu, "
	       "\"checkpoints_verified\": %llu, \"checkpoints_unsigned\": %llu, "
	       "\"gap_lost\": %llu, \"lost_records\": %llu, \"streams\": %u, "
	       "\"events\": [",
	       ok ? "true" : "false", (unsigned long long)s->records,
	       (unsigned long long)s->samples,
	       (unsigned long long)s->samples_verified,
	       (unsigned long long)s->samples_pending,
	       (unsigned long long)s->samples_unsigned,
	       (unsigned long long)s->checkpoints,
	       (unsigned long long)s->checkpoints_verified,
	       (unsigned long long)s->checkpoints_unsigned,
	       (unsigned long long)s->gap_lost,
	       (unsigned long long)s->lost_records, s->streams);
	{
		static const char *const ev[] = { "reboot", "restart", "lost", "gap" };
		bool first = true;
		unsigned int i;

		for (i = 0; i < 4; i++)
			if (s->events & (1u << i)) {
				printf("%s\"%s\"", first ? "" : ", ", ev[i]);
				first = false;
			}
	}
	printf("]");
	if (err) {
		printf(", \"error\": {\"code\": ");
		json_str(stdout, att_code_name(err->code));
		printf(", \"record\": %llu, \"offset\": %llu",
		       (unsigned long long)recno, (unsigned long long)offset);
		if (err->has_record)
			printf(", \"stream\": %u, \"seq\": %llu", err->stream,
			       (unsigned long long)err->seq);
		printf(", \"message\": ");
		json_str(stdout, err->msg);
		printf("}");
	} else if (problem) {
		printf(", \"error\": {\"code\": \"ATT_EPARSE\", \"record\": %llu, "
		       "\"offset\": %llu, \"message\": ",
		       (unsigned long long)recno, (unsigned long long)offset);
		json_str(stdout, problem);
		printf("}");
	}
	printf("}\n");
}

/* The one summary line scripts read; its first part is fixed. */
static void print_summary_line(const struct att_summary *s)
{
	printf("verified %llu samples, %llu checkpoints; %llu pending, %llu unsigned\n",
	       (unsigned long long)s->samples_verified,
	       (unsigned long long)s->checkpoints_verified,
	       (unsigned long long)s->samples_pending,
	       (unsigned long long)s->samples_unsigned);
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
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ak", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'p' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "allow-lost", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ak = NULL, *policy = NULL, *path = "-";
	bool allow_unsigned = false, allow_lost = false, json = false;
	struct cli_verifier cv;
	struct rec_reader rr;
	struct att_summary sum;
	struct att_err err;
	char why[256];
	const uint8_t *rec;
	uint64_t recno = 0;
	size_t len;
	int c, fd, r, rc;

	while ((c = getopt_long(argc, argv, "k:p:uljh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			ak = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'u':
			allow_unsigned = true;
			break;
		case 'l':
			allow_lost = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			verify_usage(stdout);
			return EXIT_OK;
		default:
			verify_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_error("verify", "expected at most one FILE");
		return EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
		path = "standard input";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("verify", "%s: %s", path, strerror(errno));
			return EXIT_IO;
		}
	}
	rc = verifier_setup("verify", &cv, ak, policy, allow_unsigned, allow_lost);
	if (rc) {
		if (fd != STDIN_FILENO)
			close(fd);
		return rc;
	}
	if (rec_reader_init(&rr, fd)) {
		cli_error("verify", "out of memory");
		verifier_done(&cv);
		return EXIT_IO;
	}
	memset(&err, 0, sizeof(err));
	rc = EXIT_OK;
	for (;;) {
		enum att_rec_state st;

		r = rec_reader_next(&rr, &rec, &len, why, sizeof(why));
		if (r == 0)
			break;
		if (r < 0) {
			att_verifier_summary(cv.v, &sum);
			if (json)
				json_result(&sum, false, NULL, recno, rr.next, why);
			else
				cli_error("verify", "FAILED: %s: %s", path, why);
			rc = EXIT_FAIL;
			goto out;
		}
		r = att_verifier_feed(cv.v, rec, len, &st, &err);
		if (r) {
			if (!err.code)
				err.code = r;
			if (!err.msg[0])
				snprintf(err.msg, sizeof(err.msg), "%s",
					 att_code_name(r));
			att_verifier_summary(cv.v, &sum);
			if (json) {
				json_result(&sum, false, &err, recno, rr.offset, NULL);
			} else {
				/* err.msg names the stream, seq and what failed */
				cli_error("verify",
					  "FAILED at record %llu (byte offset %llu): %s [check: %s]",
					  (unsigned long long)recno,
					  (unsigned long long)rr.offset, err.msg,
					  att_code_name(err.code));
			}
			rc = EXIT_FAIL;
			goto out;
		}
		recno++;
	}
	att_verifier_summary(cv.v, &sum);
	if (!recno) {
		if (json)
			json_result(&sum, false, NULL, 0, 0, "no records");
		else
			cli_error("verify", "FAILED: no records in %s", path);
		rc = EXIT_FAIL;
		goto out;
	}
	if (!sum.checkpoints_verified &&
	    !(allow_unsigned && sum.checkpoints_unsigned)) {
		const char *why2 = "no checkpoint covers the records: nothing is verified";

		if (json) {
			json_result(&sum, false, NULL, recno, rr.next, why2);
		} else {
			print_summary_line(&sum);
			cli_error("verify", "FAILED: %s", why2);
		}
		rc = EXIT_FAIL;
		goto out;
	}
	if (json) {
		json_result(&sum, true, NULL, recno, rr.next, NULL);
	} else {
		print_summary_line(&sum);
		print_events(&sum);
	}
out:
	rec_reader_free(&rr);
	verifier_done(&cv);
	if (fd != STDIN_FILENO)
		close(fd);
	if (fflush(stdout) && rc == EXIT_OK)
		rc = EXIT_IO;
	return rc;
}

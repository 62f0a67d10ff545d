// SPDX-License-Identifier: GPL-2.0
/*
 * attestio measurements: show the module's measurement log, check the
 * kernel session key it registered, and check that the checkpoints of a
 * record file were quoted by that key, and only that key, this boot.
 */
/* first: the kernel's sha2.h shim must precede OpenSSL's headers */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include <linux/attestio.h>

#include "cli.h"
#include "internal.h"
#include "util.h"

static const char *const mev_names[] = {
	[ATTESTIO_MEV_LOAD] = "load",
	[ATTESTIO_MEV_KEY] = "key",
	[ATTESTIO_MEV_CERT] = "cert",
	[ATTESTIO_MEV_SETTING] = "setting",
	[ATTESTIO_MEV_UNLOAD] = "unload",
	[ATTESTIO_MEV_KEY_ERROR] = "key-error",
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio measurements [OPTIONS] [RECORDS]\n"
		"\n"
		"Print attestio.ko's measurement log (PCR %d events).  With --ak, check\n"
		"that it registered one kernel session key certified by that AK; with\n"
		"RECORDS (a raw record file, - for stdin) also check that every signed\n"
		"checkpoint was quoted by that key while PCR %d proved it the only key\n"
		"registered this boot.\n"
		"\n"
		"Options:\n"
		"  -l, --log FILE     measurement log (default %s/measurements)\n"
		"  -a, --ak FILE      the enrolled AK's TPM2B_PUBLIC (ak.pub)\n"
		"  -p, --pcrs FILE    SHA-256 PCRs 0-23, 24 x 32 raw bytes (tpm2_pcrread\n"
		"                     sha256:0,...,23 -o FILE), for the other quoted PCRs\n"
		"  -k, --ksk-pem FILE write the kernel session key's public key (PEM)\n"
		"  -h, --help         this help\n"
		"\n%s", ATTESTIO_MLOG_PCR, ATTESTIO_MLOG_PCR, sysfs_root(),
		exit_codes_help);
}

static void print_log(const struct att_mlog *log)
{
	uint8_t pcr[32];
	size_t i;
	int j;

	for (i = 0; i < log->n; i++) {
		const struct att_mlog_event *e = &log->ev[i];

		printf("%3zu %-9s instance %016llx %5u bytes", i,
		       mev_names[e->type], (unsigned long long)e->instance,
		       e->len);
		if (e->type == ATTESTIO_MEV_SETTING && e->len == 16)
			printf("  setting %u: %u -> %u", get_le32(e->data),
			       get_le32(e->data + 4), get_le32(e->data + 8));
		if (e->type == ATTESTIO_MEV_CERT && e->len >= 8)
			printf("  by 0x%08x", get_le32(e->data));
		printf("\n");
	}
	att_mlog_replay(log, log->n, pcr);
	printf("PCR %d after %zu events: ", ATTESTIO_MLOG_PCR, log->n);
	for (j = 0; j < 32; j++)
		printf("%02x", pcr[j]);
	printf("\n");
}

static int write_pem(const char *path, const struct att_ksk *ksk)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_PUBKEY(f, att_key_pkey(ksk->key));
	return fclose(f) || !ok ? -1 : 0;
}

/* Check every signed checkpoint in @path; returns the number rejected. */
static int check_records(const char *path, const struct att_mlog *log,
			 const struct att_ksk *ksk, const uint8_t (*pcrs)[32],
			 uint32_t known, int *checked)
{
	struct rec_reader rr;
	const uint8_t *rec;
	size_t len;
	int fd, r, bad = 0;
	struct att_err err;
	char why[256];

	fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	if (fd < 0 || rec_reader_init(&rr, fd))
		return -1;
	while ((r = rec_reader_next(&rr, &rec, &len, why, sizeof(why))) == 1) {
		const struct attestio_rec_hdr *h = (const void *)rec;
		const struct attestio_checkpoint *cp;
		struct attestio_cp_layout lay;
		size_t prefix = 0;

		if (get_le16((const uint8_t *)&h->type) != ATTESTIO_REC_CHECKPOINT ||
		    len < ATTESTIO_HDR_LEN + sizeof(*cp))
			continue;
		cp = (const void *)(rec + ATTESTIO_HDR_LEN);
		if (get_le32((const uint8_t *)&cp->status) !=
		    ATTESTIO_CP_SIGNED)
			continue;
		if (attestio_cp_layout(get_le16((const uint8_t *)&cp->nheads),
				       get_le16((const uint8_t *)&cp->attest_len),
				       get_le16((const uint8_t *)&cp->sig_len),
				       &lay) || lay.end > len) {
			printf("checkpoint at seq %llu: malformed\n",
			       (unsigned long long)get_le64((const uint8_t *)&h->seq));
			bad++;
			continue;
		}
		(*checked)++;
		memset(&err, 0, sizeof(err));
		if (att_mlog_check_quote(log, ksk,
				get_le64((const uint8_t *)&cp->instance),
				rec + lay.attest, lay.sig - lay.attest,
				rec + lay.sig, lay.end - lay.sig, pcrs, known,
				&prefix, &err)) {
			printf("stream %u seq %llu epoch %llu: REJECTED: %s\n",
			       get_le32((const uint8_t *)&h->stream),
			       (unsigned long long)get_le64((const uint8_t *)&h->seq),
			       (unsigned long long)get_le64((const uint8_t *)&cp->epoch),
			       err.msg);
			bad++;
		}
	}
	rec_reader_free(&rr);
	if (fd)
		close(fd);
	return r < 0 ? bad + 1 : bad;
}

int cmd_measurements(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "ak", required_argument, NULL, 'a' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "ksk-pem", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *logpath = NULL, *akpath = NULL, *pcrpath = NULL;
	const char *pem = NULL;
	uint8_t *lbuf = NULL, *akbuf = NULL, *pbuf = NULL;
	size_t llen = 0, aklen = 0, plen = 0;
	char deflog[512];
	struct att_mlog log = { 0 };
	struct att_ksk ksk = { 0 };
	struct att_key *ak = NULL;
	struct att_err err = { 0 };
	int c, ret = EXIT_OK, bad, checked = 0;

	while ((c = getopt_long(argc, argv, "l:a:p:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': logpath = optarg; break;
		case 'a': akpath = optarg; break;
		case 'p': pcrpath = optarg; break;
		case 'k': pem = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || ((pem || optind < argc) && !akpath)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!logpath) {
		snprintf(deflog, sizeof(deflog), "%s/measurements", sysfs_root());
		logpath = deflog;
	}
	ret = cli_read_file("measurements", logpath, CLI_MLOG_MAX, &lbuf, &llen);
	if (ret)
		return ret;
	if (att_mlog_parse(lbuf, llen, &log, &err)) {
		cli_error("measurements", "%s: %s", logpath, err.msg);
		ret = EXIT_FAIL;
		goto out;
	}
	print_log(&log);
	if (!akpath)
		goto out;
	ret = cli_read_file("measurements", akpath, 64 * 1024, &akbuf, &aklen);
	if (ret)
		goto out;
	if (att_key_from_tpm2b_public(akbuf, aklen, &ak, &err)) {
		cli_error("measurements", "%s: not a TPM2B_PUBLIC key file%s%s",
			  akpath, err.code ? ": " : "", err.msg);
		ret = EXIT_IO;
		goto out;
	}
	if (att_mlog_ksk(&log, ak, akbuf, aklen, &ksk, &err)) {
		printf("REJECTED: %s\n", err.msg);
		ret = EXIT_FAIL;
		goto out;
	}
	printf("kernel session key of instance %016llx certified by the AK%s\n",
	       (unsigned long long)ksk.instance,
	       ksk.ak_certify_only ? "" :
	       " (warning: this AK has userWithAuth: anyone with TPM access can quote with it; provision a certify-only AK)");
	if (pem && write_pem(pem, &ksk)) {
		cli_error("measurements", "cannot write %s", pem);
		ret = EXIT_IO;
		goto out;
	}
	if (optind == argc)
		goto out;
	ret = pcrpath ? cli_read_file("measurements", pcrpath, 24 * 32, &pbuf,
				      &plen) : 0;
	if (ret)
		goto out;
	if (pcrpath && plen != 24 * 32) {
		cli_error("measurements", "%s: not 24 SHA-256 PCR values", pcrpath);
		ret = EXIT_IO;
		goto out;
	}
	bad = check_records(argv[optind], &log, &ksk,
			    (const uint8_t (*)[32])pbuf,
			    pbuf ? 0xffffff : 0, &checked);
	if (bad < 0) {
		cli_error("measurements", "cannot read %s", argv[optind]);
		ret = EXIT_IO;
		goto out;
	}
	printf("%d signed checkpoints checked, %d rejected\n", checked, bad);
	if (bad || !checked)
		ret = EXIT_FAIL;
out:
	att_ksk_clear(&ksk);
	att_key_free(ak);
	att_mlog_free(&log);
	free(lbuf);
	free(akbuf);
	free(pbuf);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the attestio subcommands.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/attestio.h>

#include "cli.h"
#include "util.h"

const char exit_codes_help[] =
	"Exit status:\n"
	"  0  success (verify: every record checked out)\n"
	"  1  verify/read: a record failed a check, or read timed out\n"
	"  2  bad command line\n"
	"  3  no TPM, or the TPM refused\n"
	"  4  attestio.ko not loaded, or a sysfs write was refused\n"
	"  5  a file or device could not be read or written\n"
	"  6  settle: too few settled rounds, deposits refunded\n";

const char *sysfs_root(void)
{
	const char *s = getenv("ATTESTIO_SYSFS");

	return s && *s ? s : "/sys/kernel/attestio";
}

const char *dev_path(void)
{
	const char *s = getenv("ATTESTIO_DEV");

	return s && *s ? s : "/dev/attestio";
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "attestio %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool module_loaded(void)
{
	struct stat st;

	return stat(sysfs_root(), &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_no_module(const char *cmd)
{
	cli_error(cmd, "the attestio module is not loaded (%s does not exist); "
		  "load it with: modprobe attestio", sysfs_root());
	return EXIT_NOMOD;
}

static void sysfs_path(char *path, size_t cap, const char *rel)
{
	snprintf(path, cap, "%s/%s", sysfs_root(), rel);
}

int sysfs_get(const char *rel, char *buf, size_t cap)
{
	char path[512];
	ssize_t r;
	size_t len = 0;
	int fd;

	sysfs_path(path, sizeof(path), rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = 0;
	while (len && (buf[len - 1] == '\n'))
		buf[--len] = 0;
	return 0;
}

int sysfs_set(const char *rel, const char *val)
{
	char path[512];
	ssize_t r;
	int fd, ret = 0;

	sysfs_path(path, sizeof(path), rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val));
	if (r < 0)
		ret = -errno;
	else if ((size_t)r != strlen(val))
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	if (*s == '0' && s[1])
		return false;	/* leading zeros are not JSON numbers */
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

const char *cp_status_name(unsigned int status)
{
	switch (status) {
	case ATTESTIO_CP_SIGNED:
		return "signed";
	case ATTESTIO_CP_NO_TPM:
		return "no TPM 2.0 chip";
	case ATTESTIO_CP_NO_KEY:
		return "no attestation key";
	case ATTESTIO_CP_TPM_ERROR:
		return "TPM error";
	case ATTESTIO_CP_BAD_RESPONSE:
		return "malformed TPM response";
	case ATTESTIO_CP_DISABLED:
		return "signing disabled";
	}
	return "unknown status";
}

/* ------------------------------------------------------- record reader --- */

int rec_reader_init(struct rec_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->buf = malloc(ATTESTIO_REC_MAX_LEN);
	return r->buf ? 0 : -1;
}

void rec_reader_free(struct rec_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Read exactly @n bytes; returns bytes read (< n only at end of input). */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int rec_reader_next(struct rec_reader *r, const uint8_t **rec, size_t *len,
		    char *why, size_t why_cap)
{
	const size_t hdr = sizeof(struct attestio_rec_hdr);
	ssize_t got;
	uint32_t rlen;

	got = read_full(r->fd, r->buf, hdr);
	if (got < 0) {
		snprintf(why, why_cap, "read error at offset %llu: %s",
			 (unsigned long long)r->next, strerror(errno));
		return -1;
	}
	if (got == 0)
		return 0;
	if ((size_t)got < hdr) {
		snprintf(why, why_cap,
			 "truncated record header at offset %llu (%zd of %zu bytes)",
			 (unsigned long long)r->next, got, hdr);
		return -1;
	}
	rlen = get_le32(r->buf + 4);
	if (rlen < hdr || rlen > ATTESTIO_REC_MAX_LEN ||
	    rlen % ATTESTIO_REC_ALIGN) {
		snprintf(why, why_cap,
			 "record at offset %llu has an impossible length %u",
			 (unsigned long long)r->next, rlen);
		return -1;
	}
	got = read_full(r->fd, r->buf + hdr, rlen - hdr);
	if (got < 0) {
		snprintf(why, why_cap, "read error at offset %llu: %s",
			 (unsigned long long)r->next, strerror(errno));
		return -1;
	}
	if ((size_t)got < rlen - hdr) {
		snprintf(why, why_cap,
			 "truncated record at offset %llu (%zu of %u bytes)",
			 (unsigned long long)r->next, (size_t)got + hdr, rlen);
		return -1;
	}
	r->offset = r->next;
	r->next += rlen;
	*rec = r->buf;
	*len = rlen;
	return 1;
}

/* ------------------------------------------------------------ verifier --- */

#include "libattestio.h"

const char cli_boots_help[] =
	"  -m, --measurements LOG  the gateway's measurement log of one boot (a copy\n"
	"                     of /sys/kernel/attestio/measurements): checkpoints of\n"
	"                     that boot then verify only if quoted by the kernel\n"
	"                     session key it registered and certified with --ak\n"
	"                     (repeat for several boots); needed for an AK made by\n"
	"                     attestio provision, which never quotes itself\n"
	"  -P, --pcrs FILE    SHA-256 PCRs 0-23 of the boot of the --measurements\n"
	"                     before it (24 x 32 bytes: tpm2_pcrread\n"
	"                     sha256:0,...,23 -o FILE); the quote confirms them\n";

int cli_boots_add(const char *cmd, struct cli_boots *b, bool is_log,
		  const char *arg)
{
	if (is_log) {
		if (b->n == CLI_MAX_BOOTS) {
			cli_error(cmd, "at most %d --measurements", CLI_MAX_BOOTS);
			return EXIT_USAGE;
		}
		b->log[b->n++] = arg;
		return 0;
	}
	if (!b->n || b->pcrs[b->n - 1]) {
		cli_error(cmd, "--pcrs %s: give it after the --measurements of its boot, once", arg);
		return EXIT_USAGE;
	}
	b->pcrs[b->n - 1] = arg;
	return 0;
}

/* One boot's measurement log and PCR values, as att_boot_new() wants. */
static int boot_load(const char *cmd, struct cli_verifier *cv,
		     const char *log, const char *pcrs)
{
	uint8_t *lb = NULL, *pb = NULL;
	size_t ll = 0, pl = 0;
	struct att_err err = { 0 };
	int ret;

	ret = cli_read_file(cmd, log, CLI_MLOG_MAX, &lb, &ll);
	if (ret)
		return ret;
	ret = pcrs ? cli_read_file(cmd, pcrs, 24 * 32, &pb, &pl) : 0;
	if (ret) {
		free(lb);
		return ret;
	}
	ret = att_boot_new(cv->ak, lb, ll, pb, pl, &cv->boot[cv->nboots], &err);
	free(lb);
	free(pb);
	if (ret) {
		cli_error(cmd, "measurement log %s%s%s: %s", log,
			  pcrs ? " with PCR values " : "", pcrs ? pcrs : "",
			  err.msg);
		return ret == ATT_EKEY || ret == ATT_ESIG || ret == ATT_EQUOTE ?
		       EXIT_FAIL : EXIT_IO;
	}
	cv->nboots++;
	return 0;
}

int verifier_setup(const char *cmd, struct cli_verifier *cv, const char *ak,
		   const char *policy, const struct cli_boots *boots,
		   const struct att_verifier_opts *base)
{
	struct att_verifier_opts o = *base;
	struct att_err err = { 0 };
	int ret;

	memset(cv, 0, sizeof(*cv));
	if (ak && att_key_load(ak, &cv->ak, &err)) {
		cli_error(cmd, "attestation key %s: %s", ak, err.msg);
		return EXIT_IO;
	}
	for (int i = 0; boots && i < boots->n; i++) {
		ret = boot_load(cmd, cv, boots->log[i], boots->pcrs[i]);
		if (ret) {
			verifier_done(cv);
			return ret;
		}
	}
	if (policy && att_policy_load(policy, &cv->policy, &err)) {
		cli_error(cmd, "policy %s: %s", policy, err.msg);
		verifier_done(cv);
		return EXIT_IO;
	}
	o.ak = cv->ak;
	o.policy = cv->policy;
	o.boots = (const struct att_boot *const *)cv->boot;
	o.nboots = (size_t)cv->nboots;
	cv->v = att_verifier_new(&o);
	if (!cv->v) {
		cli_error(cmd, "out of memory");
		verifier_done(cv);
		return EXIT_IO;
	}
	return 0;
}

void verifier_done(struct cli_verifier *cv)
{
	if (cv->v)
		att_verifier_free(cv->v);
	if (cv->policy)
		att_policy_free(cv->policy);
	for (int i = 0; i < cv->nboots; i++)
		att_boot_free(cv->boot[i]);
	if (cv->ak)
		att_key_free(cv->ak);
	memset(cv, 0, sizeof(*cv));
}

int parse_handle(const char *cmd, const char *arg, uint32_t *out)
{
	uint64_t h;

	if (parse_u64(arg, &h) || h < 0x81000000u || h > 0x817fffffu) {
		cli_error(cmd, "--handle %s: need a persistent handle "
			  "0x81000000-0x817fffff", arg);
		return -1;
	}
	*out = (uint32_t)h;
	return 0;
}

int cli_read_file(const char *cmd, const char *path, size_t max, uint8_t **out,
		  size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf;
	size_t n;

	if (!f) {
		cli_error(cmd, "cannot open %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	buf = malloc(max + 1);
	if (!buf) {
		if (f != stdin)
			fclose(f);
		cli_error(cmd, "out of memory");
		return EXIT_IO;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		cli_error(cmd, "cannot read %s: %s", path,
			  n > max ? "file too large" : strerror(errno));
		if (f != stdin)
			fclose(f);
		free(buf);
		return n > max ? EXIT_FAIL : EXIT_IO;
	}
	if (f != stdin)
		fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

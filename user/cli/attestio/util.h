/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the attestio subcommands: messages, sysfs access,
 * number parsing, JSON strings, and a record reader for files and pipes.
 */
#ifndef ATTESTIO_CLI_UTIL_H
#define ATTESTIO_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef ATTESTIO_VERSION
#define ATTESTIO_VERSION "0.1.0"
#endif

/* Paths; overridable for tests with ATTESTIO_SYSFS and ATTESTIO_DEV. */
const char *sysfs_root(void);		/* "/sys/kernel/attestio" */
const char *dev_path(void);		/* "/dev/attestio" */

/* "attestio <cmd>: <message>\n" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The message every subcommand prints when /sys/kernel/attestio is missing;
 * returns EXIT_NOMOD.
 */
int cli_no_module(const char *cmd);
bool module_loaded(void);

/*
 * Read <sysfs_root>/<rel> into @buf (trailing newline removed).
 * 0 or -errno.
 */
int sysfs_get(const char *rel, char *buf, size_t cap);
/* Write @val to <sysfs_root>/<rel> with a single write(). 0 or -errno. */
int sysfs_set(const char *rel, const char *val);

/* Strict unsigned parse: decimal or 0x hex, whole string. 0 or -1. */
int parse_u64(const char *s, uint64_t *out);

/*
 * --handle: a persistent TPM handle 0x81000000-0x817fffff.  0, or -1 after
 * telling the user (as @cmd) what is wrong.
 */
int parse_handle(const char *cmd, const char *arg, uint32_t *out);

/* Print @s as a JSON string literal (with quotes). */
void json_str(FILE *f, const char *s);
/* True when @s is a plain decimal integer (optionally negative). */
bool is_integer(const char *s);

/*
 * Record reader over a file descriptor (file, pipe, stdin).  Returns 1 and
 * sets *rec and *len for the next whole record (valid until the next call),
 * 0 at a clean end of input, or -1 with @why filled on a read error or a
 * truncated/implausible record (length not a multiple of 8, shorter than a
 * header or longer than ATTESTIO_REC_MAX_LEN).
 */
struct rec_reader {
	int fd;
	uint8_t *buf;
	uint64_t offset;	/* offset of the record last returned */
	uint64_t next;		/* offset of the next one */
};

int rec_reader_init(struct rec_reader *r, int fd);
int rec_reader_next(struct rec_reader *r, const uint8_t **rec, size_t *len,
		    char *why, size_t why_cap);
void rec_reader_free(struct rec_reader *r);

/* Little-endian field access inside a record (no alignment assumptions). */
uint16_t get_le16(const uint8_t *p);
uint32_t get_le32(const uint8_t *p);
uint64_t get_le64(const uint8_t *p);

/* Name of a record type ("sample", ...) and of a checkpoint status. */
const char *cp_status_name(unsigned int status);

/*
 * Read a whole file ("-" = standard input) of at most @max bytes into a
 * malloc'd buffer.  0, or an exit code after printing why: EXIT_IO when it
 * cannot be read, EXIT_FAIL when it is larger than @max.
 */
int cli_read_file(const char *cmd, const char *path, size_t max, uint8_t **out,
		  size_t *len);

/* Exit codes block shared by every --help. */
extern const char exit_codes_help[];

#endif

/*
 * Load --ak and --policy (either may be NULL) and make a verifier.  On
 * failure prints why and returns an exit code (EXIT_IO for unreadable or
 * malformed files); 0 on success.  verifier_done() frees all three.
 */
struct att_key;
struct att_policy;
struct att_verifier;
#define CLI_MAX_BOOTS	16

struct cli_verifier {
	struct att_key *ak;
	struct att_policy *policy;
	struct att_boot *boot[CLI_MAX_BOOTS];
	int nboots;
	struct att_verifier *v;
};

/* --measurements LOG, each with the --pcrs FILE given after it (or NULL). */
struct cli_boots {
	const char *log[CLI_MAX_BOOTS];
	const char *pcrs[CLI_MAX_BOOTS];
	int n;
};
/* Parse one of --measurements / --pcrs (@is_log) into @b; 0 or EXIT_USAGE. */
int cli_boots_add(const char *cmd, struct cli_boots *b, bool is_log,
		  const char *arg);
extern const char cli_boots_help[];

/* The largest measurement log read (4096 events of at most 2 KiB). */
#define CLI_MLOG_MAX	(9 * 1024 * 1024)

struct att_verifier_opts;
/*
 * @base: the verifier's flags and callback (ak, policy and the boots'
 * evidence, from @boots (may be NULL), are set here).
 */
int verifier_setup(const char *cmd, struct cli_verifier *cv, const char *ak,
		   const char *policy, const struct cli_boots *boots,
		   const struct att_verifier_opts *base);
void verifier_done(struct cli_verifier *cv);

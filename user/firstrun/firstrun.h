/* SPDX-License-Identifier: GPL-2.0 */
/*
 * First-run steps shared by `attestio setup gateway` and `attestio-oracle
 * setup`: each step keeps what is already right and says what it did (or,
 * with --dry-run, would do), as a line or in a JSON summary.  Files are
 * written atomically; keys 0600.
 */
#ifndef ATTESTIO_FIRSTRUN_H
#define ATTESTIO_FIRSTRUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define FR_MAX_STEPS 8

struct fr_step {
	const char *name;	/* key, provision, enroll, ca, certificate, config */
	const char *action;	/* created, reused, unchanged, would create ... */
	char detail[320];
};

struct fr_run {
	const char *prog;	/* error prefix: "attestio setup" */
	bool dry, json;
	struct fr_step steps[FR_MAX_STEPS];
	int n;
};

/* Record a step; printed as "NAME ACTION: DETAIL" unless r->json. */
void fr_say(struct fr_run *r, const char *name, const char *action,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "PROG: message" on stderr. */
void fr_error(const struct fr_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* {"<idkey>": "<id>"|null, "dry_run": bool, "steps": [...]} on @f. */
void fr_json(FILE *f, const struct fr_run *r, const char *idkey, const char *id);

/*
 * Progress of a step that blocks (TPM key generation): on a terminal, a
 * line "NAME  WHAT... N s" on @fd, redrawn every second by a thread until
 * fr_progress_end() clears it.  Nothing when @fd is not a terminal (unless
 * @force, for tests) or r->json.
 */
struct fr_progress {
	int fd;
	bool on;
	volatile bool stop;
	pthread_t tid;
	char line[160];
};
void fr_progress_begin(struct fr_progress *p, const struct fr_run *r, int fd,
		       bool force, const char *name, const char *what);
void fr_progress_end(struct fr_progress *p);

char *fr_path_join(const char *dir, const char *name);
/* Whole file into a malloc'ed NUL-terminated buffer; NULL + errno. */
char *fr_slurp(const char *path, size_t *len);
/* Write @len bytes to @path atomically (tmp + rename) with @mode; 0 or -errno. */
int fr_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p: @dir with @mode, missing parents 0755; 0 or -errno. */
int fr_make_dir(const char *dir, mode_t mode);

/*
 * Steps "ca" and "certificate": a test CA DIR/ca.pem + ca.key (P-256, 10
 * years; kept when present; a ca.pem without its key, a real CA's, stops
 * with what to do) and DIR/LEAF.pem + LEAF.key (CN = @id, clientAuth, 825
 * days, signed by the test CA; re-issued when its CN, signer, key or
 * validity is wrong).  0, or -1 after fr_error().
 */
int fr_step_certs(struct fr_run *r, const char *dir, const char *leaf,
		  const char *id);

/*
 * True when @text sets no key: only comments, blank lines and section
 * headers (the files the packages install).
 */
bool fr_config_is_template(const char *text);

/*
 * Step "config": @want to @path unless it is already there; a file that
 * sets keys (not fr_config_is_template()) and differs is kept unless
 * @force (then it is saved as PATH.bak).  0, or -1 after fr_error().
 */
int fr_step_config(struct fr_run *r, const char *path, const char *want,
		   bool force);

#endif

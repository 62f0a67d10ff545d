// SPDX-License-Identifier: GPL-2.0
/*
 * First-run steps shared by `attestio setup gateway` and `attestio-oracle
 * setup` (firstrun.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "firstrun.h"

void fr_say(struct fr_run *r, const char *name, const char *action,
	    const char *fmt, ...)
{
	struct fr_step *s = &r->steps[r->n < FR_MAX_STEPS ? r->n++ : FR_MAX_STEPS - 1];
	va_list ap;

	s->name = name;
	s->action = action;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	if (!r->json)
		printf("%-12s %s: %s\n", name, action, s->detail);
}

void fr_error(const struct fr_run *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", r->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void fr_json(FILE *f, const struct fr_run *r, const char *idkey, const char *id)
{
	fprintf(f, "{\"%s\":", idkey);
	if (id)
		jstr(f, id);
	else
		fprintf(f, "null");
	fprintf(f, ",\"dry_run\":%s,\"steps\":[", r->dry ? "true" : "false");
	for (int i = 0; i < r->n; i++) {
		fprintf(f, "%s{\"step\":", i ? "," : "");
		jstr(f, r->steps[i].name);
		fprintf(f, ",\"action\":");
		jstr(f, r->steps[i].action);
		fprintf(f, ",\"detail\":");
		jstr(f, r->steps[i].detail);
		fprintf(f, "}");
	}
	fprintf(f, "]}\n");
}

/* ---------------------------------------------------------- progress --- */

static void *progress_thread(void *arg)
{
	struct fr_progress *p = arg;
	struct timespec t0, now, tick = { 0, 100 * 1000 * 1000 };
	long last = -1, s;
	char buf[200];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!p->stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		s = (long)(now.tv_sec - t0.tv_sec);
		if (s != last) {
			last = s;
			n = snprintf(buf, sizeof(buf), "\r%s... %ld s", p->line, s);
			if (write(p->fd, buf, (size_t)n) < 0)
				break;
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

void fr_progress_begin(struct fr_progress *p, const struct fr_run *r, int fd,
		       bool force, const char *name, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	if (r->json || (!force && !isatty(fd)))
		return;
	snprintf(p->line, sizeof(p->line), "%-12s %s", name, what);
	p->on = !pthread_create(&p->tid, NULL, progress_thread, p);
}

void fr_progress_end(struct fr_progress *p)
{
	static const char clear[] = "\r\033[K";

	if (!p->on)
		return;
	p->stop = true;
	pthread_join(p->tid, NULL);
	p->on = false;
	if (write(p->fd, clear, sizeof(clear) - 1) < 0)
		return;	/* the terminal went away: nothing to clear */
}

/* ------------------------------------------------------------- files --- */

char *fr_path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

char *fr_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

int fr_write_file(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	char *tmp;
	int fd, ret = 0;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd))
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

int fr_make_dir(const char *dir, mode_t mode)
{
	char *p = strdup(dir);
	int ret = 0;

	if (!p)
		return -ENOMEM;
	/* parents first (0755), like mkdir -p */
	for (char *s = strchr(p + 1, '/'); s && !ret; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			ret = -errno;
		*s = '/';
	}
	if (!ret && mkdir(p, mode) && errno != EEXIST)
		ret = -errno;
	free(p);
	return ret;
}

/* ------------------------------------------------------ certificates --- */

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int ret;

	if (!b)
		return -ENOMEM;
	if (key ? !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
		: !PEM_write_bio_X509(b, cert)) {
		BIO_free(b);
		return -EIO;
	}
	len = BIO_get_mem_data(b, &data);
	ret = fr_write_file(path, data, (size_t)len, key ? 0600 : 0644);
	BIO_free(b);
	return ret;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/*
 * A certificate for @key named CN=@cn, valid @days, signed by @ca_key (self-
 * signed when @ca is NULL: then it is a CA).
 */
static X509 *make_cert(EVP_PKEY *key, const char *cn, long days, X509 *ca,
		       EVP_PKEY *ca_key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_get_subject_name(x);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), days * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name) ||
	    !X509_set_pubkey(x, key))
		goto out;
	if (ca) {
		if (add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
		    add_ext(x, ca, NID_key_usage, "critical,digitalSignature") ||
		    add_ext(x, ca, NID_ext_key_usage, "clientAuth") ||
		    add_ext(x, ca, NID_subject_key_identifier, "hash") ||
		    add_ext(x, ca, NID_authority_key_identifier, "keyid"))
			goto out;
	} else {
		if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
		    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
		    add_ext(x, x, NID_subject_key_identifier, "hash"))
			goto out;
	}
	ok = X509_sign(x, ca ? ca_key : key, EVP_sha256()) > 0;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Why @cert is not a good client certificate for @id, or NULL. */
static const char *cert_problem(X509 *cert, EVP_PKEY *key, X509 *ca,
				const char *id)
{
	char cn[80];
	EVP_PKEY *capub = X509_get0_pubkey(ca);

	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
				      cn, sizeof(cn)) < 0 || strcmp(cn, id))
		return "its CN is not this id";
	if (!capub || X509_verify(cert, capub) != 1)
		return "it is not signed by the CA in ca.pem";
	if (X509_check_private_key(cert, key) != 1)
		return "it does not match its key";
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return "it has expired";
	return NULL;
}

int fr_step_certs(struct fr_run *r, const char *dir, const char *leaf,
		  const char *id)
{
	char *ca_pem = fr_path_join(dir, "ca.pem"), *ca_key = fr_path_join(dir, "ca.key");
	char *gw_pem = NULL, *gw_key = NULL;
	EVP_PKEY *cak = NULL, *gwk = NULL;
	X509 *ca = NULL, *gw = NULL;
	const char *why;
	int ret = -1;

	if (asprintf(&gw_pem, "%s/%s.pem", dir, leaf) < 0)
		gw_pem = NULL;
	if (asprintf(&gw_key, "%s/%s.key", dir, leaf) < 0)
		gw_key = NULL;
	if (!ca_pem || !ca_key || !gw_pem || !gw_key)
		goto out;
	ca = load_cert(ca_pem);
	cak = load_key(ca_key);
	if (ca && (!cak || X509_check_private_key(ca, cak) != 1)) {
		fr_error(r, "%s exists but %s is missing or does not match "
			 "it: a real CA's certificate? Then put the %s's "
			 "certificate in %s and its key in %s yourself", ca_pem,
			 ca_key, leaf, gw_pem, gw_key);
		goto out;
	}
	if (ca) {
		fr_say(r, "ca", "kept", "test CA %s (key %s)", ca_pem, ca_key);
	} else if (r->dry) {
		fr_say(r, "ca", "would create", "test CA %s (key %s, P-256, 10 years)",
		    ca_pem, ca_key);
	} else {
		cak = EVP_EC_gen("P-256");
		ca = cak ? make_cert(cak, "attestio test CA", 3650, NULL, NULL) : NULL;
		if (!ca || write_pem(ca_key, cak, NULL) || write_pem(ca_pem, NULL, ca)) {
			fr_error(r, "cannot create the test CA in %s: %s", dir,
				  strerror(errno ? errno : EIO));
			goto out;
		}
		fr_say(r, "ca", "created", "test CA %s (key %s, P-256, 10 years; "
		    "for tests and demos)", ca_pem, ca_key);
	}

	gw = load_cert(gw_pem);
	gwk = load_key(gw_key);
	why = !gw ? "none yet" : !gwk ? "its key is missing" :
		!ca ? "no CA yet" : cert_problem(gw, gwk, ca, id);
	if (!why) {
		fr_say(r, "certificate", "kept", "%s (CN=%s, key %s)", gw_pem, id, gw_key);
	} else if (r->dry || !ca) {
		fr_say(r, "certificate", "would create", "%s (CN=%s, key %s): %s",
		    gw_pem, id, gw_key, why);
	} else {
		EVP_PKEY_free(gwk);
		X509_free(gw);
		gwk = EVP_EC_gen("P-256");
		gw = gwk ? make_cert(gwk, id, 825, ca, cak) : NULL;
		if (!gw || write_pem(gw_key, gwk, NULL) || write_pem(gw_pem, NULL, gw)) {
			fr_error(r, "cannot write %s / %s: %s", gw_pem, gw_key,
				  strerror(errno ? errno : EIO));
			goto out;
		}
		fr_say(r, "certificate", "created", "%s (CN=%s, clientAuth, 825 days; "
		    "key %s, 0600) signed by the test CA (was: %s)", gw_pem, id,
		    gw_key, why);
	}
	ret = 0;
out:
	X509_free(ca);
	X509_free(gw);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(gwk);
	free(ca_pem);
	free(ca_key);
	free(gw_pem);
	free(gw_key);
	return ret;
}

/* ------------------------------------------------------------ config --- */

bool fr_config_is_template(const char *text)
{
	const char *p = text;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '#' && *p != ';' && *p != '[' && *p != '\n' &&
		    *p != '\r')
			return false;
		p = strchrnul(p, '\n');
		if (*p)
			p++;
	}
	return true;
}

int fr_step_config(struct fr_run *r, const char *path, const char *want,
		   bool force)
{
	char *bak = NULL, *have = NULL;
	int ret = -1, e;

	if (!want || asprintf(&bak, "%s.bak", path) < 0) {
		bak = NULL;
		goto out;
	}
	have = fr_slurp(path, NULL);
	if (!have && errno != ENOENT) {
		fr_error(r, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (have && !strcmp(have, want)) {
		fr_say(r, "config", "unchanged", "%s", path);
		ret = 0;
		goto out;
	}
	if (have && !fr_config_is_template(have) && !force) {
		fr_say(r, "config", "kept", "%s sets keys and differs from what setup "
		    "would write; left as it is (--force replaces it, keeping "
		    "%s)", path, bak);
		ret = 0;
		goto out;
	}
	if (r->dry) {
		fr_say(r, "config", "would write", "%s", path);
		ret = 0;
		goto out;
	}
	if (have && !fr_config_is_template(have)) {
		e = fr_write_file(bak, have, strlen(have), 0644);
		if (e) {
			fr_error(r, "cannot save %s", bak);
			goto out;
		}
	}
	e = fr_write_file(path, want, strlen(want), 0644);
	if (e) {
		fr_error(r, "cannot write %s: %s", path, strerror(-e));
		goto out;
	}
	fr_say(r, "config", have ? "replaced" : "created", "%s%s%s%s", path,
	    have && !fr_config_is_template(have) ? " (old one in " :
	    have ? " (was the packaged template)" : "",
	    have && !fr_config_is_template(have) ? bak : "",
	    have && !fr_config_is_template(have) ? ")" : "");
	ret = 0;
out:
	free(bak);
	free(have);
	return ret;
}


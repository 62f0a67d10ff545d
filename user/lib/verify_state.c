// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The verifier's state file: replay protection across runs.
 *
 *   attestio-verify-state 1
 *   key <sha256 of the AK's SubjectPublicKeyInfo, 64 hex> <reset> <restart>
 *       <clock ms> <sha256 of that quote's TPMS_ATTEST, 64 hex>
 *   chain <instance, 16 hex> <stream> <last verified epoch>
 *
 * (one "key" line per attestation key, one "chain" line per instance and
 * stream; '#' starts a comment line).  Parsed strictly: anything else is
 * an error naming the line, and nothing is loaded.
 */
#include "record.h"	/* first: its SHA-256 shim configures OpenSSL */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "internal.h"
#include "verify_internal.h"

#define ATT_STATE_MAGIC		"attestio-verify-state 1"
#define ATT_STATE_MAX_LINES	100000
#define ATT_STATE_MAX_BYTES	(16u << 20)
#define ATT_STATE_KEEP_CHAINS	4096	/* chain lines kept when saving */

/* The fingerprint of the verifier's key, computed once. */
static bool att_state_fp(struct att_verifier *v)
{
	unsigned char *der = NULL;
	int n;

	if (v->st.have_fp)
		return true;
	if (!v->o.ak)
		return false;
	n = i2d_PUBKEY(att_key_pkey(v->o.ak), &der);
	if (n <= 0)
		return false;
	SHA256(der, (size_t)n, v->st.fp);
	OPENSSL_free(der);
	v->st.have_fp = true;
	return true;
}

static int att_key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct att_state_key *)a)->fp,
		      ((const struct att_state_key *)b)->fp, ATTESTIO_HASH_LEN);
}

static int att_chain_cmp(const void *a, const void *b)
{
	const struct att_state_chain *x = a, *y = b;

	if (x->instance != y->instance)
		return x->instance < y->instance ? -1 : 1;
	return x->stream < y->stream ? -1 : x->stream > y->stream;
}

/* Lookups in the sorted arrays (att_verifier_state_parse sorts them). */
static struct att_state_key *att_state_key_find(struct att_state *st,
						const uint8_t *fp)
{
	struct att_state_key k;

	memcpy(k.fp, fp, ATTESTIO_HASH_LEN);
	return st->nkeys ? bsearch(&k, st->keys, st->nkeys, sizeof(k),
				   att_key_cmp) : NULL;
}

static struct att_state_chain *att_state_chain_find(struct att_state *st,
						    uint64_t instance,
						    uint32_t stream)
{
	struct att_state_chain c = { .instance = instance, .stream = stream };

	return st->nchains ? bsearch(&c, st->chains, st->nchains, sizeof(c),
				     att_chain_cmp) : NULL;
}

/* Room for one more element in a growing array. */
static void *att_grow(void *arr, size_t n, size_t *cap, size_t esz)
{
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, (*cap ? 2 * *cap : 16) * esz);
	if (p)
		*cap = *cap ? 2 * *cap : 16;
	return p;
}

int att_state_check(struct att_verifier *v, const struct attestio_rec_info *ri,
		    const struct att_cp *c, const struct att_tpmtime *t,
		    const uint8_t *attest_hash, struct att_err *err)
{
	const struct att_state_key *k;
	const struct att_state_chain *ch;

	if (!v->st.nkeys && !v->st.nchains)
		return 0;
	ch = att_state_chain_find(&v->st, c->instance, ri->stream);
	if (ch && c->epoch <= ch->epoch)
		return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
				"checkpoint epoch %llu was already verified in an earlier run (state file: epoch %llu of instance %016llx)",
				(unsigned long long)c->epoch,
				(unsigned long long)ch->epoch,
				(unsigned long long)c->instance);
	if (!att_state_fp(v))
		return 0;
	k = att_state_key_find(&v->st, v->st.fp);
	if (k && !att_time_after(t, &k->t) &&
	    !(t->reset == k->t.reset && t->restart == k->t.restart &&
	      t->clock == k->t.clock &&
	      !memcmp(attest_hash, k->attest_hash, ATTESTIO_HASH_LEN)))
		return att_rerr(err, ATT_EREPLAY, ri->stream, ri->seq,
				"checkpoint epoch %llu: its quote (reset %u, restart %u, clock %llu ms) is older than the last one verified in an earlier run (reset %u, restart %u, clock %llu ms)",
				(unsigned long long)c->epoch, t->reset,
				t->restart, (unsigned long long)t->clock,
				k->t.reset, k->t.restart,
				(unsigned long long)k->t.clock);
	return 0;
}

void att_state_note(struct att_verifier *v, uint32_t stream, uint64_t instance,
		    uint64_t epoch, const struct att_tpmtime *t,
		    const uint8_t *attest_hash)
{
	struct att_vstream *s = &v->s[stream];

	if (!v->st.run.t.have || att_time_after(t, &v->st.run.t)) {
		v->st.run.t = *t;
		memcpy(v->st.run.attest_hash, attest_hash, ATTESTIO_HASH_LEN);
	}
	if (!s->have_run || s->run_instance != instance || epoch > s->run_epoch) {
		s->have_run = true;
		s->run_instance = instance;
		s->run_epoch = epoch;
	}
}

void att_state_free(struct att_verifier *v)
{
	free(v->st.keys);
	free(v->st.chains);
	v->st.keys = NULL;
	v->st.chains = NULL;
	v->st.nkeys = v->st.nchains = 0;
}

/* ----------------------------------------------------------- parsing --- */

static int att_hex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int hi, lo;
		char a = s[2 * i], b = s[2 * i + 1];

		hi = a >= '0' && a <= '9' ? (unsigned int)(a - '0') :
		     a >= 'a' && a <= 'f' ? (unsigned int)(a - 'a' + 10) : 16;
		lo = b >= '0' && b <= '9' ? (unsigned int)(b - '0') :
		     b >= 'a' && b <= 'f' ? (unsigned int)(b - 'a' + 10) : 16;
		if (hi > 15 || lo > 15)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A whole token of decimal digits (no sign, no leading zeros). */
static int att_dec(const char *tok, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*tok || (tok[0] == '0' && tok[1]))
		return -1;
	for (const char *p = tok; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* Split @line (modified) into at most @max space-separated tokens. */
static int att_tokens(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		if (!*p)
			return n;
		if (n == max)
			return -1;
		tok[n++] = p;
		p = strchr(p, ' ');
		if (!p)
			return n;
		*p++ = 0;
		if (*p == ' ' || !*p)
			return -1;	/* exactly one space between tokens */
	}
}

static int att_state_line(struct att_state *st, size_t *kcap, size_t *ccap,
			  char *line, size_t lineno, struct att_err *err)
{
	char *tok[7];
	uint64_t a, b, c;
	int n = att_tokens(line, tok, 7);

	if (n == 6 && !strcmp(tok[0], "key")) {
		struct att_state_key k = { .t.have = true };
		void *p;

		if (strlen(tok[1]) != 64 || att_hex(tok[1], 32, k.fp) ||
		    att_dec(tok[2], UINT32_MAX, &a) ||
		    att_dec(tok[3], UINT32_MAX, &b) ||
		    att_dec(tok[4], UINT64_MAX, &c) ||
		    strlen(tok[5]) != 64 || att_hex(tok[5], 32, k.attest_hash))
			return att_err(err, ATT_EPARSE,
				       "state line %zu: expected 'key <64 hex> <reset> <restart> <clock> <64 hex>'",
				       lineno);
		k.t.reset = (uint32_t)a;
		k.t.restart = (uint32_t)b;
		k.t.clock = c;
		p = att_grow(st->keys, st->nkeys, kcap, sizeof(k));
		if (!p)
			return att_err(err, ATT_ENOMEM, "out of memory loading the state");
		st->keys = p;
		st->keys[st->nkeys++] = k;
		return 0;
	}
	if (n == 4 && !strcmp(tok[0], "chain")) {
		struct att_state_chain ch;
		uint8_t inst[8];
		void *p;

		if (strlen(tok[1]) != 16 || att_hex(tok[1], 8, inst) ||
		    att_dec(tok[2], ATTESTIO_MAX_STREAMS - 1, &a) ||
		    att_dec(tok[3], UINT64_MAX, &b))
			return att_err(err, ATT_EPARSE,
				       "state line %zu: expected 'chain <16 hex instance> <stream 0..%d> <epoch>'",
				       lineno, ATTESTIO_MAX_STREAMS - 1);
		ch.instance = 0;
		for (int i = 0; i < 8; i++)
			ch.instance = ch.instance << 8 | inst[i];
		ch.stream = (uint32_t)a;
		ch.epoch = b;
		p = att_grow(st->chains, st->nchains, ccap, sizeof(ch));
		if (!p)
			return att_err(err, ATT_ENOMEM, "out of memory loading the state");
		st->chains = p;
		st->chains[st->nchains++] = ch;
		return 0;
	}
	return att_err(err, ATT_EPARSE,
		       "state line %zu: expected a 'key' or 'chain' line",
		       lineno);
}

int att_verifier_state_parse(struct att_verifier *v, const char *text,
			     size_t len, struct att_err *err)
{
	struct att_state st = { 0 };
	size_t pos = 0, lineno = 0, kcap = 0, ccap = 0;
	char line[256];
	int ret = 0;

	if (!v || (!text && len))
		return att_err(err, ATT_EINVAL, "att_verifier_state_parse: NULL argument");
	if (v->sum.records)
		return att_err(err, ATT_EINVAL, "load the state before feeding records");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;

		lineno++;
		if (lineno > ATT_STATE_MAX_LINES) {
			ret = att_err(err, ATT_EPARSE, "state: more than %u lines",
				      ATT_STATE_MAX_LINES);
			goto fail;
		}
		if (n >= sizeof(line) || memchr(text + pos, 0, n)) {
			ret = att_err(err, ATT_EPARSE,
				      "state line %zu: too long or contains a NUL byte",
				      lineno);
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = 0;
		pos += n + (nl ? 1 : 0);
		if (lineno == 1) {
			if (strcmp(line, ATT_STATE_MAGIC)) {
				ret = att_err(err, ATT_EPARSE,
					      "state: the first line is not '%s'",
					      ATT_STATE_MAGIC);
				goto fail;
			}
			continue;
		}
		if (line[0] == '#')
			continue;
		ret = att_state_line(&st, &kcap, &ccap, line, lineno, err);
		if (ret)
			goto fail;
	}
	if (!lineno) {
		ret = att_err(err, ATT_EPARSE, "state: empty (expected '%s')",
			      ATT_STATE_MAGIC);
		goto fail;
	}
	/* sorted for lookups; a repeated key or chain is an error */
	if (st.nkeys)
		qsort(st.keys, st.nkeys, sizeof(*st.keys), att_key_cmp);
	if (st.nchains)
		qsort(st.chains, st.nchains, sizeof(*st.chains), att_chain_cmp);
	for (size_t i = 1; i < st.nkeys; i++)
		if (!att_key_cmp(&st.keys[i - 1], &st.keys[i])) {
			ret = att_err(err, ATT_EPARSE, "state: two lines for the same key");
			goto fail;
		}
	for (size_t i = 1; i < st.nchains; i++)
		if (!att_chain_cmp(&st.chains[i - 1], &st.chains[i])) {
			ret = att_err(err, ATT_EPARSE,
				      "state: two lines for the same instance and stream");
			goto fail;
		}
	free(v->st.keys);
	free(v->st.chains);
	v->st.keys = st.keys;
	v->st.nkeys = st.nkeys;
	v->st.chains = st.chains;
	v->st.nchains = st.nchains;
	return 0;
fail:
	free(st.keys);
	free(st.chains);
	return ret;
}

int att_verifier_state_load(struct att_verifier *v, const char *path,
			    struct att_err *err)
{
	char *buf;
	size_t len = 0, n;
	FILE *f;
	int ret;

	if (!v || !path)
		return att_err(err, ATT_EINVAL, "att_verifier_state_load: NULL argument");
	f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return 0;	/* first run: empty state */
		return att_err(err, ATT_EIO, "state %s: %s", path, strerror(errno));
	}
	buf = malloc(ATT_STATE_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return att_err(err, ATT_ENOMEM, "out of memory reading %s", path);
	}
	while ((n = fread(buf + len, 1, ATT_STATE_MAX_BYTES + 1 - len, f)) > 0)
		len += n;
	if (ferror(f))
		ret = att_err(err, ATT_EIO, "state %s: read error", path);
	else if (len > ATT_STATE_MAX_BYTES)
		ret = att_err(err, ATT_EPARSE, "state %s: larger than %u bytes",
			      path, ATT_STATE_MAX_BYTES);
	else
		ret = att_verifier_state_parse(v, buf, len, err);
	if (ret && err && ret != ATT_EIO) {
		char tmp[sizeof(err->msg)];

		memcpy(tmp, err->msg, sizeof(tmp));
		snprintf(err->msg, sizeof(err->msg), "%s: %.200s", path, tmp);
	}
	free(buf);
	fclose(f);
	return ret;
}

static void att_hexout(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void att_state_write(const struct att_verifier *v, FILE *f)
{
	const struct att_state *st = &v->st;
	const struct att_state_key *run = st->run.t.have && st->have_fp ?
					  &st->run : NULL;
	bool run_written = false;

	fprintf(f, "%s\n", ATT_STATE_MAGIC);
	for (size_t i = 0; i < st->nkeys; i++) {
		const struct att_state_key *k = &st->keys[i];

		if (run && !memcmp(k->fp, st->fp, ATTESTIO_HASH_LEN)) {
			if (att_time_after(&run->t, &k->t))
				k = run;
			run_written = true;
		}
		fprintf(f, "key ");
		att_hexout(f, st->keys[i].fp, ATTESTIO_HASH_LEN);
		fprintf(f, " %u %u %llu ", k->t.reset, k->t.restart,
			(unsigned long long)k->t.clock);
		att_hexout(f, k->attest_hash, ATTESTIO_HASH_LEN);
		fputc('\n', f);
	}
	if (run && !run_written) {
		fprintf(f, "key ");
		att_hexout(f, st->fp, ATTESTIO_HASH_LEN);
		fprintf(f, " %u %u %llu ", run->t.reset, run->t.restart,
			(unsigned long long)run->t.clock);
		att_hexout(f, run->attest_hash, ATTESTIO_HASH_LEN);
		fputc('\n', f);
	}
	for (size_t i = 0; i < st->nchains; i++) {
		const struct att_state_chain *ch = &st->chains[i];
		const struct att_vstream *s = &v->s[ch->stream];
		uint64_t epoch = ch->epoch;

		/*
		 * Bounded: quotes of older instances are older in TPM time
		 * than the key line, which refuses them already; keep the
		 * last ATT_STATE_KEEP_CHAINS lines of other instances.
		 */
		if (st->nchains - i > ATT_STATE_KEEP_CHAINS &&
		    !(s->have_run && s->run_instance == ch->instance))
			continue;

		if (s->have_run && s->run_instance == ch->instance &&
		    s->run_epoch > epoch)
			epoch = s->run_epoch;
		fprintf(f, "chain %016llx %u %llu\n",
			(unsigned long long)ch->instance, ch->stream,
			(unsigned long long)epoch);
	}
	for (uint32_t i = 0; i < ATTESTIO_MAX_STREAMS; i++) {
		const struct att_vstream *s = &v->s[i];
		bool known = false;

		if (!s->have_run)
			continue;
		for (size_t j = 0; j < st->nchains; j++)
			if (st->chains[j].instance == s->run_instance &&
			    st->chains[j].stream == i)
				known = true;
		if (!known)
			fprintf(f, "chain %016llx %u %llu\n",
				(unsigned long long)s->run_instance, i,
				(unsigned long long)s->run_epoch);
	}
}

int att_verifier_state_save(const struct att_verifier *v, const char *path,
			    struct att_err *err)
{
	char tmp[4096];
	FILE *f;
	int fd, ret = 0;

	if (!v || !path)
		return att_err(err, ATT_EINVAL, "att_verifier_state_save: NULL argument");
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return att_err(err, ATT_EINVAL, "state path too long");
	fd = mkstemp(tmp);
	if (fd < 0)
		return att_err(err, ATT_EIO, "state %s: %s", tmp, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return att_err(err, ATT_EIO, "state %s: %s", tmp, strerror(errno));
	}
	att_state_write(v, f);
	if (fflush(f) || fsync(fileno(f)))
		ret = att_err(err, ATT_EIO, "state %s: %s", tmp, strerror(errno));
	if (fclose(f) && !ret)
		ret = att_err(err, ATT_EIO, "state %s: %s", tmp, strerror(errno));
	if (!ret && rename(tmp, path))
		ret = att_err(err, ATT_EIO, "state %s: %s", path, strerror(errno));
	if (ret)
		unlink(tmp);
	return ret;
}

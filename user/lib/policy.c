// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCR policy: the quoted (SHA-256 PCR selection, PCR digest) pairs that are
 * allowed.  One "<mask hex> <digest hex>" pair per line, '#' comments.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ATT_POLICY_FILE_MAX	(1024 * 1024)
#define ATT_POLICY_MAX_ENTRIES	4096

struct att_policy_entry {
	uint32_t mask;
	uint16_t len;
	uint8_t digest[64];
};

struct att_policy {
	size_t n;
	struct att_policy_entry e[];
};

void att_policy_free(struct att_policy *p)
{
	free(p);
}

static int att_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse one non-comment line; returns 0 or a message. */
static const char *att_policy_line(const char *s, size_t n,
				   struct att_policy_entry *e)
{
	size_t i = 0, start, digits;
	uint64_t mask = 0;
	int v;

	memset(e, 0, sizeof(*e));
	while (i < n && isblank((unsigned char)s[i]))
		i++;
	if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		i += 2;
	start = i;
	while (i < n && (v = att_hexval((unsigned char)s[i])) >= 0) {
		mask = mask << 4 | (uint64_t)v;
		if (mask > 0xffffff)
			return "PCR mask above PCR 23";
		i++;
	}
	if (i == start)
		return "expected a hex PCR mask";
	if (i >= n || !isblank((unsigned char)s[i]))
		return "expected blank after the PCR mask";
	if (!mask)
		return "empty PCR mask";
	e->mask = (uint32_t)mask;
	while (i < n && isblank((unsigned char)s[i]))
		i++;
	start = i;
	while (i < n && att_hexval((unsigned char)s[i]) >= 0)
		i++;
	digits = i - start;
	if (!digits || digits % 2 || digits / 2 > sizeof(e->digest))
		return "expected a hex PCR digest of 1 to 64 bytes";
	for (size_t k = 0; k < digits / 2; k++)
		e->digest[k] = (uint8_t)(att_hexval((unsigned char)s[start + 2 * k]) << 4 |
					 att_hexval((unsigned char)s[start + 2 * k + 1]));
	e->len = (uint16_t)(digits / 2);
	while (i < n && isblank((unsigned char)s[i]))
		i++;
	if (i < n && s[i] != '#')
		return "trailing characters after the PCR digest";
	return NULL;
}

int att_policy_parse(const char *text, size_t len, struct att_policy **out,
		     struct att_err *err)
{
	struct att_policy *p;
	size_t pos = 0, lines = 0, cap = 0, n;
	const char *line, *nl, *msg;
	struct att_policy_entry e;

	if (!text || !out)
		return att_err(err, ATT_EINVAL, "att_policy_parse: NULL argument");
	*out = NULL;
	if (memchr(text, 0, len))
		return att_err(err, ATT_EPARSE, "policy: contains a NUL byte");
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			cap++;
	cap++;
	if (cap > ATT_POLICY_MAX_ENTRIES)
		cap = ATT_POLICY_MAX_ENTRIES;
	p = calloc(1, sizeof(*p) + cap * sizeof(p->e[0]));
	if (!p)
		return att_err(err, ATT_ENOMEM, "out of memory for a policy");
	while (pos < len) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		lines++;
		if (n && line[n - 1] == '\r')
			n--;
		{
			size_t k = 0;

			while (k < n && isblank((unsigned char)line[k]))
				k++;
			if (k == n || line[k] == '#')
				continue;
		}
		msg = att_policy_line(line, n, &e);
		if (msg) {
			free(p);
			return att_err(err, ATT_EPARSE, "policy line %zu: %s",
				       lines, msg);
		}
		if (p->n == cap) {
			free(p);
			return att_err(err, ATT_EPARSE,
				       "policy: more than %d entries",
				       ATT_POLICY_MAX_ENTRIES);
		}
		p->e[p->n++] = e;
	}
	if (!p->n) {
		free(p);
		return att_err(err, ATT_EPARSE, "policy: no allowed PCR state");
	}
	*out = p;
	return 0;
}

int att_policy_load(const char *path, struct att_policy **out,
		    struct att_err *err)
{
	char *buf;
	size_t len = 0, n;
	FILE *f;
	int ret;

	if (!path || !out)
		return att_err(err, ATT_EINVAL, "att_policy_load: NULL argument");
	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return att_err(err, ATT_EIO, "%s: %s", path, strerror(errno));
	buf = malloc(ATT_POLICY_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return att_err(err, ATT_ENOMEM, "out of memory reading %s", path);
	}
	while ((n = fread(buf + len, 1, ATT_POLICY_FILE_MAX + 1 - len, f)) > 0)
		len += n;
	if (ferror(f))
		ret = att_err(err, ATT_EIO, "%s: read error", path);
	else if (len > ATT_POLICY_FILE_MAX)
		ret = att_err(err, ATT_EPARSE, "%s: too large for a policy", path);
	else
		ret = att_policy_parse(buf, len, out, err);
	free(buf);
	fclose(f);
	return ret;
}

int att_policy_check(const struct att_policy *p,
		     const struct att_quote_info *qi, struct att_err *err)
{
	char hex[2 * 64 + 1];

	if (!p)
		return 0;
	if (!qi)
		return att_err(err, ATT_EINVAL, "att_policy_check: NULL argument");
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].mask == qi->pcr_select &&
		    p->e[i].len == qi->pcr_digest_len &&
		    !memcmp(p->e[i].digest, qi->pcr_digest, p->e[i].len))
			return 0;
	for (size_t i = 0; i < qi->pcr_digest_len && i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", qi->pcr_digest[i]);
	hex[2 * (qi->pcr_digest_len < 64 ? qi->pcr_digest_len : 64)] = 0;
	return att_err(err, ATT_EPOLICY,
		       "quoted PCR state (mask 0x%06x, digest %.64s%s) is not in the policy",
		       qi->pcr_select, hex, qi->pcr_digest_len > 32 ? "..." : "");
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Evidence: what lets the oracle nodes check kernel-exclusive key use
 * (Documentation/protocol.md, "Evidence"): attestio.ko's measurement log,
 * the SHA-256 PCRs the quotes select besides PCR 13, and the boot event
 * log and IMA log when the kernel exposes them.  Gathered from files
 * (sysfs and securityfs by default), encoded with liboracle's codec, and
 * handed to the link, which publishes it retained whenever it changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ack.h"
#include "attestiod.h"
#include "evidence.h"

/* The whole of a (sysfs, securityfs or regular) file, up to @max bytes:
 * 0, -ENOENT when it does not exist, another -errno, -EFBIG. */
static int slurp(const char *path, size_t max, uint8_t **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	uint8_t *b = NULL, *nb;
	int fd, ret = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (!b || n == cap) {
			if (b)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			if (b && n == cap) {
				ret = -EFBIG;
				break;
			}
			nb = realloc(b, cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (ret) {
		free(b);
		return ret;
	}
	*out = b;
	*len = n;
	return 0;
}

/* An optional log: absent is empty; any other failure is an error. */
static int optional(const char *path, size_t max, uint8_t **out, size_t *len,
		    const char *what)
{
	int ret;

	*out = NULL;
	*len = 0;
	if (!*path)
		return 0;
	ret = slurp(path, max, out, len);
	if (ret == -ENOENT || ret == -EACCES || ret == -EPERM) {
		if (ret != -ENOENT)
			logmsg(LOG_WARNING, "evidence: %s %s: %s (left out)", what,
			       path, strerror(-ret));
		return 0;
	}
	if (ret)
		logmsg(LOG_ERR, "evidence: %s %s: %s", what, path,
		       ret == -EFBIG ? "larger than the evidence allows" :
		       strerror(-ret));
	return ret;
}

/* SHA-256 PCRs 0-23 from @dir/N (hex, as the kernel's pcr-sha256 files
 * show them): 0 with all 24, -ENOENT when the directory is absent. */
static int read_pcrs(const char *dir, uint8_t pcrs[ORACLE_EV_PCRS_LEN])
{
	for (int i = 0; i < 24; i++) {
		char path[PATH_LEN + 8], hex[80];
		uint8_t *b;
		size_t n;
		int ret;

		snprintf(path, sizeof(path), "%s/%d", dir, i);
		ret = slurp(path, sizeof(hex) - 1, &b, &n);
		if (ret)
			return ret;
		memcpy(hex, b, n);
		free(b);
		hex[n] = 0;
		hex[strcspn(hex, "\r\n")] = 0;
		if (oracle_unhex(hex, pcrs + 32 * i, 32)) {
			logmsg(LOG_ERR, "evidence: %s is not 64 hex digits", path);
			return -EINVAL;
		}
	}
	return 0;
}

int evidence_gather(const struct config *c, uint8_t **buf, size_t *len)
{
	static uint8_t last[32];
	static bool have_last, said_absent;
	static uint8_t pcrs[ORACLE_EV_PCRS_LEN];
	struct oracle_evidence e = { .time = (uint64_t)time(NULL) };
	uint8_t *mlog = NULL, *boot = NULL, *ima = NULL, d[32];
	size_t ml = 0, bl = 0, il = 0, n = 0;
	EVP_MD_CTX *h;
	int ret;

	*buf = NULL;
	*len = 0;
	if (!*c->ev_mlog)
		return 0;
	ret = slurp(c->ev_mlog, ORACLE_EV_MLOG_MAX, &mlog, &ml);
	if (ret == -ENOENT) {	/* module not loaded (yet) */
		if (!said_absent)
			logmsg(LOG_WARNING, "evidence: %s absent: nothing to publish "
			       "until the module is loaded", c->ev_mlog);
		said_absent = true;
		return 0;
	}
	said_absent = false;
	if (ret)
		goto fail;
	if ((ret = optional(c->ev_boot_log, ORACLE_EV_BOOTLOG_MAX, &boot, &bl,
			    "boot event log")) ||
	    (ret = optional(c->ev_ima_log, ORACLE_EV_IMALOG_MAX, &ima, &il,
			    "IMA log")))
		goto fail;
	oracle_unhex(c->gw_id, e.gw, sizeof(e.gw));
	e.mlog = mlog;
	e.mlog_len = ml;
	ret = *c->ev_pcrs ? read_pcrs(c->ev_pcrs, pcrs) : -ENOENT;
	if (!ret) {
		e.pcrs = pcrs;
		e.pcrs_len = sizeof(pcrs);
	} else if (ret != -ENOENT) {
		goto fail;
	}
	e.boot_log = boot;
	e.boot_log_len = bl;
	e.ima_log = ima;
	e.ima_log_len = il;
	/* changed?  (the time is not part of the comparison) */
	h = EVP_MD_CTX_new();
	ret = !h || !EVP_DigestInit_ex(h, EVP_sha256(), NULL) ||
	      !EVP_DigestUpdate(h, mlog, ml) ||
	      !EVP_DigestUpdate(h, e.pcrs ? pcrs : (const uint8_t *)"", e.pcrs_len) ||
	      !EVP_DigestUpdate(h, boot ? boot : (const uint8_t *)"", bl) ||
	      !EVP_DigestUpdate(h, ima ? ima : (const uint8_t *)"", il) ||
	      !EVP_DigestFinal_ex(h, d, NULL) ? -ENOMEM : 0;
	EVP_MD_CTX_free(h);
	if (ret)
		goto fail;
	if (have_last && !memcmp(d, last, sizeof(d)))
		goto out;
	if (oracle_evidence_encode(&e, NULL, 0, &n) != -ENOSPC ||
	    !(*buf = malloc(n)) || oracle_evidence_encode(&e, *buf, n, len)) {
		free(*buf);
		*buf = NULL;
		ret = -EINVAL;
		goto fail;
	}
	memcpy(last, d, sizeof(d));
	have_last = true;
	ret = 1;
	goto out;
fail:
	M.evidence_errors++;
	if (ret == -EFBIG)
		logmsg(LOG_ERR, "evidence: %s is larger than the evidence allows",
		       c->ev_mlog);
	else if (ret != -EINVAL)
		logmsg(LOG_ERR, "evidence: cannot gather it: %s", strerror(-ret));
out:
	free(mlog);
	free(boot);
	free(ima);
	return ret;
}

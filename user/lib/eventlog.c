// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The firmware's boot event log (/sys/kernel/security/tpm0/
 * binary_bios_measurements): TCG PC Client Platform Firmware Profile,
 * crypto-agile format (a TCG_PCClientPCREvent carrying the "Spec ID
 * Event03" header, then TCG_PCR_EVENT2 records), all integers little
 * endian.  Parsed strictly, replayed into the SHA-256 bank, and compared
 * with reported PCR values and with a reference log of the same device
 * class to say why a quoted PCR state is not the expected one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "internal.h"

#define EL_EV_NO_ACTION		3
#define EL_ALG_SHA256		0x000b
#define EL_MAX_ALGS		8
#define EL_MAX_DIGEST		64

static const uint8_t spec_id_sig[16] = "Spec ID Event03";
static const uint8_t locality_sig[16] = "StartupLocality";

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void att_eventlog_free(struct att_eventlog *l)
{
	if (!l)
		return;
	free(l->ev);
	memset(l, 0, sizeof(*l));
}

#define EFAIL(...) do {							\
	ret = att_err(err, ATT_EPARSE, "boot event log: " __VA_ARGS__);	\
	goto fail;							\
} while (0)

int att_eventlog_parse(const uint8_t *buf, size_t len, struct att_eventlog *l,
		       struct att_err *err)
{
	struct { uint16_t id, size; } alg[EL_MAX_ALGS];
	uint32_t nalg, dsize, vsize;
	size_t off, cap = 0;
	const uint8_t *d;
	int ret;

	memset(l, 0, sizeof(*l));
	if (!buf && len)
		return att_err(err, ATT_EINVAL, "att_eventlog_parse: NULL buffer");
	if (len > ATT_EVENTLOG_MAX)
		return att_err(err, ATT_EPARSE, "boot event log: %zu bytes, more "
			       "than the %u allowed", len, ATT_EVENTLOG_MAX);
	/* TCG_PCClientPCREvent: pcr, type, SHA-1 digest, size, Spec ID */
	if (len < 32)
		EFAIL("%zu bytes, too short for the first event", len);
	dsize = le32(buf + 28);
	if (le32(buf) != 0 || le32(buf + 4) != EL_EV_NO_ACTION)
		EFAIL("the first event is not the EV_NO_ACTION Spec ID event "
		      "(a TPM 1.2, SHA-1 only log is not supported)");
	if (dsize > len - 32 || dsize < 16 + 4 + 4 + 4)
		EFAIL("the Spec ID event's size %u does not fit", dsize);
	d = buf + 32;
	if (memcmp(d, spec_id_sig, 16))
		EFAIL("the first event is not \"Spec ID Event03\" (not a "
		      "crypto-agile TPM 2.0 log)");
	if (d[21] != 2)
		EFAIL("Spec ID specVersionMajor %u, expected 2", d[21]);
	nalg = le32(d + 24);
	if (!nalg || nalg > EL_MAX_ALGS)
		EFAIL("Spec ID names %u digest algorithms (1..%d allowed)",
		      nalg, EL_MAX_ALGS);
	if (28 + 4 * (size_t)nalg + 1 > dsize)
		EFAIL("the Spec ID event's %u algorithms do not fit", nalg);
	l->sha256_index = -1;
	for (uint32_t i = 0; i < nalg; i++) {
		alg[i].id = le16(d + 28 + 4 * i);
		alg[i].size = le16(d + 30 + 4 * i);
		if (!alg[i].size || alg[i].size > EL_MAX_DIGEST)
			EFAIL("algorithm 0x%04x has digest size %u", alg[i].id,
			      alg[i].size);
		for (uint32_t k = 0; k < i; k++)
			if (alg[k].id == alg[i].id)
				EFAIL("algorithm 0x%04x named twice", alg[i].id);
		if (alg[i].id == EL_ALG_SHA256) {
			if (alg[i].size != 32)
				EFAIL("SHA-256 with digest size %u", alg[i].size);
			l->sha256_index = (int)i;
		}
	}
	if (l->sha256_index < 0)
		EFAIL("no SHA-256 bank in the log");
	vsize = d[28 + 4 * nalg];
	if (28 + 4 * (size_t)nalg + 1 + vsize != dsize)
		EFAIL("the Spec ID event's size %u does not match its content", dsize);
	l->nalgs = nalg;
	off = 32 + dsize;
	/* TCG_PCR_EVENT2 */
	while (off < len) {
		struct att_eventlog_event *e;
		const size_t start = off;
		uint32_t count;
		bool have = false;

		if (l->n == ATT_EVENTLOG_MAX_EVENTS)
			EFAIL("more than %u events", ATT_EVENTLOG_MAX_EVENTS);
		if (len - off < 12)
			EFAIL("event %zu at byte %zu is truncated", l->n + 1, off);
		if (l->n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			void *nev = realloc(l->ev, ncap * sizeof(*l->ev));

			if (!nev) {
				ret = att_err(err, ATT_ENOMEM, "boot event log: out of memory");
				goto fail;
			}
			l->ev = nev;
			cap = ncap;
		}
		e = &l->ev[l->n];
		memset(e, 0, sizeof(*e));
		e->pcr = le32(buf + off);
		e->type = le32(buf + off + 4);
		count = le32(buf + off + 8);
		off += 12;
		if (e->pcr >= ATT_EVENTLOG_PCRS)
			EFAIL("event %zu extends PCR %u", l->n + 1, e->pcr);
		if (count != nalg)
			EFAIL("event %zu carries %u digests, the Spec ID names %u",
			      l->n + 1, count, nalg);
		for (uint32_t i = 0; i < count; i++) {
			uint16_t id;

			if (len - off < 2)
				EFAIL("event %zu is truncated in its digests", l->n + 1);
			id = le16(buf + off);
			if (id != alg[i].id)
				EFAIL("event %zu digest %u is algorithm 0x%04x, "
				      "expected 0x%04x (the Spec ID order)",
				      l->n + 1, i + 1, id, alg[i].id);
			if (len - off - 2 < alg[i].size)
				EFAIL("event %zu is truncated in its digests", l->n + 1);
			if ((int)i == l->sha256_index) {
				memcpy(e->sha256, buf + off + 2, 32);
				have = true;
			}
			off += 2 + (size_t)alg[i].size;
		}
		if (len - off < 4)
			EFAIL("event %zu is truncated before its data", l->n + 1);
		e->data_len = le32(buf + off);
		off += 4;
		if (e->data_len > len - off)
			EFAIL("event %zu's data (%u bytes) runs past the end",
			      l->n + 1, e->data_len);
		e->data = buf + off;
		e->offset = start;
		off += e->data_len;
		if (!have)	/* unreachable: count == nalg, SHA-256 among them */
			EFAIL("event %zu has no SHA-256 digest", l->n + 1);
		l->n++;
	}
	return 0;
fail:
	att_eventlog_free(l);
	return ret;
}

bool att_eventlog_extends(const struct att_eventlog_event *e)
{
	return e->type != EL_EV_NO_ACTION;
}

void att_eventlog_replay(const struct att_eventlog *l,
			 uint8_t pcr[ATT_EVENTLOG_PCRS][32], uint32_t *touched)
{
	uint8_t buf[64];

	memset(pcr, 0, ATT_EVENTLOG_PCRS * 32);
	*touched = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct att_eventlog_event *e = &l->ev[i];

		if (!att_eventlog_extends(e)) {
			/* H-CRTM at locality 3/4: PCR 0 starts at the locality */
			if (e->pcr == 0 && e->data_len == 17 &&
			    !memcmp(e->data, locality_sig, 16) &&
			    !(*touched & 1))
				pcr[0][31] = e->data[16];
			continue;
		}
		memcpy(buf, pcr[e->pcr], 32);
		memcpy(buf + 32, e->sha256, 32);
		SHA256(buf, sizeof(buf), pcr[e->pcr]);
		*touched |= 1u << e->pcr;
	}
}

const char *att_eventlog_type_name(uint32_t type)
{
	static const char *const tcg[] = {
		"EV_PREBOOT_CERT", "EV_POST_CODE", "EV_UNUSED", "EV_NO_ACTION",
		"EV_SEPARATOR", "EV_ACTION", "EV_EVENT_TAG",
		"EV_S_CRTM_CONTENTS", "EV_S_CRTM_VERSION", "EV_CPU_MICROCODE",
		"EV_PLATFORM_CONFIG_FLAGS", "EV_TABLE_OF_DEVICES",
		"EV_COMPACT_HASH", "EV_IPL", "EV_IPL_PARTITION_DATA",
		"EV_NONHOST_CODE", "EV_NONHOST_CONFIG", "EV_NONHOST_INFO",
		"EV_OMIT_BOOT_DEVICE_EVENTS",
	};
	static const char *const efi[] = {
		NULL, "EV_EFI_VARIABLE_DRIVER_CONFIG", "EV_EFI_VARIABLE_BOOT",
		"EV_EFI_BOOT_SERVICES_APPLICATION", "EV_EFI_BOOT_SERVICES_DRIVER",
		"EV_EFI_RUNTIME_SERVICES_DRIVER", "EV_EFI_GPT_EVENT",
		"EV_EFI_ACTION", "EV_EFI_PLATFORM_FIRMWARE_BLOB",
		"EV_EFI_HANDOFF_TABLES", "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
		"EV_EFI_HANDOFF_TABLES2", "EV_EFI_VARIABLE_BOOT2",
	};

	if (type < sizeof(tcg) / sizeof(tcg[0]))
		return tcg[type];
	if (type > 0x80000000u && type - 0x80000000u < sizeof(efi) / sizeof(efi[0]))
		return efi[type - 0x80000000u];
	if (type == 0x800000e0u)
		return "EV_EFI_VARIABLE_AUTHORITY";
	return "unknown event type";
}

/* "n (TYPE, sha256 0123456789ab…)" of event @i of @l */
static int ev_desc(char *b, size_t cap, const struct att_eventlog *l, size_t i)
{
	const struct att_eventlog_event *e = &l->ev[i];

	return snprintf(b, cap, "event %zu (%s, sha256 %02x%02x%02x%02x%02x%02x…)",
			i + 1, att_eventlog_type_name(e->type), e->sha256[0],
			e->sha256[1], e->sha256[2], e->sha256[3], e->sha256[4],
			e->sha256[5]);
}

/* The next event extending @pcr at or after @i, or l->n. */
static size_t next_on(const struct att_eventlog *l, size_t i, uint32_t pcr)
{
	while (i < l->n && (l->ev[i].pcr != pcr || !att_eventlog_extends(&l->ev[i])))
		i++;
	return i;
}

/* Append to @b (@cap, used @*pos) printf-style, never past @cap. */
static void add(char *b, size_t cap, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(char *b, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos = *pos + (size_t)n < cap ? *pos + (size_t)n : cap - 1;
}

int att_eventlog_explain(const uint8_t *log, size_t log_len, const uint8_t *pcrs,
			 size_t pcrs_len, uint32_t mask, const uint8_t *ref,
			 size_t ref_len, char *out, size_t cap)
{
	uint8_t rp[ATT_EVENTLOG_PCRS][32];
	struct att_eventlog l, r;
	struct att_err e = { 0 };
	uint32_t touched, bad = 0;
	size_t pos = 0;
	int ret = 0;

	if (!cap)
		return -1;
	out[0] = 0;
	if (!log_len) {
		add(out, cap, &pos, "no boot event log in the gateway's evidence");
		return 1;
	}
	if (att_eventlog_parse(log, log_len, &l, &e)) {
		add(out, cap, &pos, "%s", e.msg);
		return 1;
	}
	att_eventlog_replay(&l, rp, &touched);
	mask &= (1u << ATT_EVENTLOG_PCRS) - 1;
	if (pcrs && pcrs_len == ATT_EVENTLOG_PCRS * 32) {
		for (uint32_t p = 0; p < ATT_EVENTLOG_PCRS; p++)
			if ((mask & 1u << p) && (touched & 1u << p) &&
			    memcmp(rp[p], pcrs + 32 * p, 32))
				bad |= 1u << p;
		if (bad) {
			add(out, cap, &pos, "the boot event log (%zu events) does "
			    "not replay to the reported PCR", l.n);
			for (uint32_t p = 0; p < ATT_EVENTLOG_PCRS; p++)
				if (bad & 1u << p)
					add(out, cap, &pos, " %u", p);
			add(out, cap, &pos, ": the log is incomplete or altered");
			ret = 1;
			goto out;
		}
		add(out, cap, &pos, "the boot event log (%zu events) replays to "
		    "the reported PCRs", l.n);
	} else {
		add(out, cap, &pos, "the boot event log has %zu events (no PCR "
		    "values reported to replay against)", l.n);
	}
	if (!ref_len)
		goto out;
	if (att_eventlog_parse(ref, ref_len, &r, &e)) {
		add(out, cap, &pos, "; the reference log: %s", e.msg);
		ret = 1;
		goto out;
	}
	/* per PCR in @mask: the first event that differs from the reference */
	for (uint32_t p = 0; p < ATT_EVENTLOG_PCRS; p++) {
		size_t i = 0, k = 0;
		char a[96], b[96];

		if (!(mask & 1u << p))
			continue;
		for (;;) {
			i = next_on(&l, i, p);
			k = next_on(&r, k, p);
			if (i == l.n || k == r.n)
				break;
			if (l.ev[i].type != r.ev[k].type ||
			    memcmp(l.ev[i].sha256, r.ev[k].sha256, 32))
				break;
			i++;
			k++;
		}
		if (i == l.n && k == r.n)
			continue;
		ret = 1;
		if (i < l.n && k < r.n) {
			ev_desc(a, sizeof(a), &l, i);
			ev_desc(b, sizeof(b), &r, k);
			add(out, cap, &pos, "; PCR %u: %s differs from the "
			    "reference's %s", p, a, b);
		} else if (i < l.n) {
			ev_desc(a, sizeof(a), &l, i);
			add(out, cap, &pos, "; PCR %u: %s is not in the reference",
			    p, a);
		} else {
			ev_desc(b, sizeof(b), &r, k);
			add(out, cap, &pos, "; PCR %u: the reference's %s is "
			    "missing", p, b);
		}
	}
	if (!ret)
		add(out, cap, &pos, "; the events in the quoted PCRs equal the "
		    "reference's");
	att_eventlog_free(&r);
out:
	att_eventlog_free(&l);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/* attestiod configuration: INI parsed with inih; every key checked. */
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "attestiod.h"

struct pctx {
	struct config *c;
	char *err;
	size_t errlen;
};

static int copy_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return -1;
	strcpy(dst, v);
	return 0;
}

#define UINT_KEY(sec, k, field, lo, hi) \
	if (!strcmp(section, sec) && !strcmp(name, k)) { \
		uint64_t x; \
		if (oracle_parse_u64(value, lo, hi, &x)) { \
			snprintf(p->err, p->errlen, \
				 "%s.%s must be an integer in %llu..%llu", \
				 sec, k, (unsigned long long)(lo), \
				 (unsigned long long)(hi)); \
			return 0; \
		} \
		c->field = x; \
		return 1; \
	}

#define STR_KEY(sec, k, field) \
	if (!strcmp(section, sec) && !strcmp(name, k)) { \
		if (copy_str(c->field, sizeof(c->field), value)) { \
			snprintf(p->err, p->errlen, "%s.%s is too long", sec, k); \
			return 0; \
		} \
		return 1; \
	}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct pctx *p = user;
	struct config *c = p->c;

	/* ini_parse reports the first bad line: keep its message */
	if (*p->err)
		return 0;
	if (!strcmp(section, "gateway") && !strcmp(name, "id")) {
		uint8_t id[16];

		if (oracle_unhex(value, id, 16) || strspn(value, "0123456789abcdef") != 32) {
			snprintf(p->err, p->errlen,
				 "gateway.id must be 32 lowercase hex digits");
			return 0;
		}
		strcpy(c->gw_id, value);
		return 1;
	}
	if (!strcmp(section, "tpm") && !strcmp(name, "tcti")) {
		if (!*value || strlen(value) >= sizeof(c->tcti)) {
			snprintf(p->err, p->errlen, "tpm.tcti must be a TCTI "
				 "(device:/dev/tpmrm0, swtpm:host=H,port=P)");
			return 0;
		}
		strcpy(c->tcti, value);
		return 1;
	}
	if (!strcmp(section, "tpm") && !strcmp(name, "ak_handle")) {
		char *end;
		unsigned long h = strtoul(value, &end, 0);

		if (*end || strncmp(value, "0x81", 4) || strlen(value) != 10 ||
		    h < 0x81000000ul || h > 0x81ffffff) {
			snprintf(p->err, p->errlen, "tpm.ak_handle must be a "
				 "persistent handle 0x81xxxxxx");
			return 0;
		}
		c->ak_handle = (uint32_t)h;
		return 1;
	}
	if (!strcmp(section, "tpm") && !strcmp(name, "bundle")) {
		if (!*value || strlen(value) >= sizeof(c->bundle)) {
			snprintf(p->err, p->errlen, "tpm.bundle must be a file path");
			return 0;
		}
		strcpy(c->bundle, value);
		return 1;
	}
	if (!strcmp(section, "tpm") && !strcmp(name, "enroll")) {
		if (!strcmp(value, "auto"))
			c->enroll = ENROLL_AUTO;
		else if (!strcmp(value, "on"))
			c->enroll = ENROLL_ON;
		else if (!strcmp(value, "off"))
			c->enroll = ENROLL_OFF;
		else {
			snprintf(p->err, p->errlen, "tpm.enroll must be auto, on or off");
			return 0;
		}
		return 1;
	}
	if (!strcmp(section, "source") && !strcmp(name, "type")) {
		if (strcmp(value, "dev") && strcmp(value, "bpf")) {
			snprintf(p->err, p->errlen,
				 "source.type must be \"bpf\" or \"dev\"");
			return 0;
		}
		strcpy(c->source, value);
		c->source_set = true;
		return 1;
	}
	STR_KEY("source", "device", device);
	if (!strcmp(section, "source") && !strcmp(name, "ring_bytes")) {
		uint64_t x;

		if (oracle_parse_u64(value, 4096, 1u << 30, &x) || (x & (x - 1))) {
			snprintf(p->err, p->errlen,
				 "source.ring_bytes must be a power of two in 4096..1073741824");
			return 0;
		}
		c->ring_bytes = (unsigned int)x;
		return 1;
	}
	if (!strcmp(section, "guard") && !strcmp(name, "mode")) {
		if (!strcmp(value, "off"))
			c->guard = GUARD_OFF;
		else if (!strcmp(value, "on"))
			c->guard = GUARD_ON;
		else if (!strcmp(value, "required"))
			c->guard = GUARD_REQUIRED;
		else {
			snprintf(p->err, p->errlen,
				 "guard.mode must be \"off\", \"on\" or \"required\"");
			return 0;
		}
		return 1;
	}
	STR_KEY("spool", "path", spool_path);
	UINT_KEY("spool", "sync_records", sync_records, 1, 100000);
	UINT_KEY("spool", "sync_ms", sync_ms, 1, 60000);
	UINT_KEY("spool", "max_bytes", max_bytes, 65536, UINT64_MAX / 2);
	UINT_KEY("spool", "reserve_bytes", reserve_bytes, 0, UINT64_MAX / 2);
	UINT_KEY("spool", "max_age", max_age_s, 0, 10u * 365 * 86400);
	if (!strcmp(section, "spool") && !strcmp(name, "on_full")) {
		if (!strcmp(value, "stop"))
			c->on_full = ON_FULL_STOP;
		else if (!strcmp(value, "drop-oldest"))
			c->on_full = ON_FULL_DROP_OLDEST;
		else {
			snprintf(p->err, p->errlen,
				 "spool.on_full must be \"stop\" or \"drop-oldest\"");
			return 0;
		}
		return 1;
	}
	if (!strcmp(section, "link") && !strcmp(name, "broker")) {
		if (c->nbrokers >= MAX_BROKERS) {
			snprintf(p->err, p->errlen, "at most %d brokers", MAX_BROKERS);
			return 0;
		}
		if (strncmp(value, "mqtts://", 8) && strncmp(value, "mqtt://", 7)) {
			snprintf(p->err, p->errlen,
				 "link.broker must be mqtts://HOST:PORT (or mqtt:// for tests)");
			return 0;
		}
		if (copy_str(c->brokers[c->nbrokers], PATH_LEN, value)) {
			snprintf(p->err, p->errlen, "link.broker is too long");
			return 0;
		}
		c->nbrokers++;
		return 1;
	}
	STR_KEY("link", "ca", ca);
	STR_KEY("link", "cert", cert);
	if (!strcmp(section, "link") && !strcmp(name, "key") && !strncmp(value, "tpm:", 4)) {
		char *end;
		unsigned long h;

		errno = 0;
		h = strtoul(value + 4, &end, 16);
		if (errno || *end || end == value + 4 || h < 0x81000000ul || h > 0x81fffffful) {
			snprintf(p->err, p->errlen, "link.key = tpm:HANDLE needs a persistent "
				 "TPM handle 0x81000000-0x81ffffff, not \"%s\"", value + 4);
			return 0;
		}
		c->key_tpm = (uint32_t)h;
		snprintf(c->key, sizeof(c->key), "%s", value);
		return 1;
	}
	if (!strcmp(section, "link") && !strcmp(name, "key"))
		c->key_tpm = 0;		/* a PEM file (the last key = counts) */
	STR_KEY("link", "key", key);
	UINT_KEY("link", "max_inflight", max_inflight, 1, 1000);
	UINT_KEY("link", "batch_bytes", batch_bytes, 16384, BATCH_MAX_BYTES);
	UINT_KEY("link", "retransmit_ms", retransmit_ms, 100, 3600000);
	UINT_KEY("link", "backoff_min_ms", backoff_min_ms, 10, 600000);
	UINT_KEY("link", "backoff_max_ms", backoff_max_ms, 10, 3600000);
	UINT_KEY("link", "keepalive", keepalive_s, 5, 3600);
	if (!strcmp(section, "link") && !strcmp(name, "mqtt")) {
		if (!strcmp(value, "5"))
			c->mqtt_version = 5;
		else if (!strcmp(value, "3.1.1"))
			c->mqtt_version = 4;
		else {
			snprintf(p->err, p->errlen,
				 "link.mqtt must be \"5\" or \"3.1.1\"");
			return 0;
		}
		return 1;
	}
	/* 0 is refused: the session (subscription, queued acks) must outlive
	 * a disconnect; UINT32_MAX means "never expires" in MQTT v5. */
	UINT_KEY("link", "session_expiry", session_expiry_s, 1, UINT32_MAX);
	if (!strcmp(section, "oracle") && !strcmp(name, "node")) {
		uint8_t id[16];

		if (c->nnodes >= MAX_NODES) {
			snprintf(p->err, p->errlen, "at most %d oracle nodes", MAX_NODES);
			return 0;
		}
		if (oracle_unhex(value, c->nodes[c->nnodes], 65) ||
		    c->nodes[c->nnodes][0] != 4) {
			snprintf(p->err, p->errlen,
				 "oracle.node must be a 65-byte uncompressed secp256k1 key in hex (04…)");
			return 0;
		}
		oracle_node_id(c->nodes[c->nnodes], id);
		oracle_hex(id, 16, c->node_ids[c->nnodes]);
		for (int i = 0; i < c->nnodes; i++)
			if (!strcmp(c->node_ids[i], c->node_ids[c->nnodes])) {
				snprintf(p->err, p->errlen, "oracle.node repeated");
				return 0;
			}
		c->nnodes++;
		return 1;
	}
	UINT_KEY("oracle", "ack_quorum", ack_quorum, 1, MAX_NODES);
	if (!strcmp(section, "evidence") && !strcmp(name, "mlog") &&
	    !strcmp(value, "off")) {
		c->ev_mlog[0] = 0;
		return 1;
	}
	STR_KEY("evidence", "mlog", ev_mlog)
	STR_KEY("evidence", "pcrs", ev_pcrs)
	STR_KEY("evidence", "boot_log", ev_boot_log)
	STR_KEY("evidence", "ima_log", ev_ima_log)
	UINT_KEY("evidence", "interval_ms", ev_interval_ms, 100, 3600000)
	if (!strcmp(section, "metrics") && !strcmp(name, "status_file")) {
		if (strcmp(value, "off") && value[0] != '/') {
			snprintf(p->err, p->errlen,
				 "metrics.status_file must be an absolute path or off");
			return 0;
		}
		if (copy_str(c->status_file, sizeof(c->status_file),
			     strcmp(value, "off") ? value : "")) {
			snprintf(p->err, p->errlen, "metrics.status_file is too long");
			return 0;
		}
		return 1;
	}
	if (!strcmp(section, "metrics") && !strcmp(name, "listen")) {
		if (strcmp(value, "off") && strncmp(value, "127.0.0.1:", 10)) {
			snprintf(p->err, p->errlen,
				 "metrics.listen must be 127.0.0.1:PORT or off");
			return 0;
		}
		strcpy(c->metrics, strcmp(value, "off") ? value : "");
		return 1;
	}
	snprintf(p->err, p->errlen, "unknown key [%s] %s", section, name);
	return 0;
}

void config_defaults(struct config *c)
{
	const char *dev = getenv("ATTESTIO_DEV");

	memset(c, 0, sizeof(*c));
	strcpy(c->source, "bpf");	/* measured faster: attestiod.md */
	c->ring_bytes = 4u << 20;
	/* on by default under systemd, which sets INVOCATION_ID */
	c->guard = getenv("INVOCATION_ID") ? GUARD_ON : GUARD_OFF;
	snprintf(c->device, sizeof(c->device), "%s", dev ? dev : "/dev/attestio");
	strcpy(c->spool_path, "/var/lib/attestiod/spool.db");
	c->sync_records = 256;
	c->sync_ms = 100;
	c->max_bytes = 1ull << 30;
	c->reserve_bytes = 4ull << 20;
	c->max_age_s = 7 * 86400;
	c->on_full = ON_FULL_STOP;
	c->max_inflight = 16;
	c->batch_bytes = 64 * 1024;
	c->retransmit_ms = 10000;
	c->backoff_min_ms = 200;
	c->backoff_max_ms = 30000;
	c->keepalive_s = 30;
	c->mqtt_version = 4;	/* 5 is opt-in for now: attestiod.md, "Link" */
	c->session_expiry_s = 7 * 86400;
	strcpy(c->metrics, "127.0.0.1:9469");
	strcpy(c->ev_mlog, "/sys/kernel/attestio/measurements");
	strcpy(c->ev_pcrs, "/sys/class/tpm/tpm0/pcr-sha256");
	strcpy(c->ev_boot_log, "/sys/kernel/security/tpm0/binary_bios_measurements");
	strcpy(c->ev_ima_log, "/sys/kernel/security/ima/binary_runtime_measurements");
	c->ev_interval_ms = 1000;
	strcpy(c->tcti, "device:/dev/tpmrm0");
	strcpy(c->status_file, "/run/attestiod/metrics.prom");
	c->ak_handle = 0x81010002;
	c->enroll = ENROLL_AUTO;
}

int config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	char what[200] = "";
	struct pctx p = { .c = c, .err = what, .errlen = sizeof(what) };
	int line;

	config_defaults(c);

	line = ini_parse(path, handler, &p);
	if (line < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 *what ? what : "syntax error");
		return -1;
	}
	if (!*c->gw_id && c->enroll == ENROLL_OFF)
		snprintf(what, sizeof(what), "[gateway] id is required (with "
			 "tpm.enroll = off: nothing derives it from the EK)");
	else if (!c->nbrokers)
		snprintf(what, sizeof(what), "[link] broker is required");
	else if (!c->nnodes)
		snprintf(what, sizeof(what), "[oracle] node is required (at least one)");
	else if (c->ack_quorum > (unsigned int)c->nnodes)
		snprintf(what, sizeof(what), "oracle.ack_quorum exceeds the number of nodes");
	else if (c->backoff_min_ms > c->backoff_max_ms)
		snprintf(what, sizeof(what), "link.backoff_min_ms exceeds link.backoff_max_ms");
	else if (!*c->ca && !strncmp(c->brokers[0], "mqtts://", 8))
		snprintf(what, sizeof(what), "[link] ca is required for mqtts://");
	else if (!!*c->cert != !!*c->key)
		snprintf(what, sizeof(what), "[link] cert and key go together");
	if (*what) {
		snprintf(err, errlen, "%s: %s", path, what);
		return -1;
	}
	if (!c->ack_quorum)
		c->ack_quorum = (unsigned int)c->nnodes;
	return 0;
}

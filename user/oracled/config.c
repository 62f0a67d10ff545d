// SPDX-License-Identifier: GPL-2.0
/*
 * attestio-oracle configuration (INI, inih).  Every key is checked; an
 * error names the file, the line and what is allowed.  The keys are
 * documented in Documentation/oracle.md ("Configuration").
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/attestio.h>
#include <openssl/evp.h>

#include <libattestio.h>

#include "ack.h"
#include "oracled.h"

struct pctx {
	struct od_config *c;
	char *err;
	size_t errlen;
};

/*
 * "12.5" at @dec decimals -> 1250 (exact: more fraction digits than @dec
 * is an error, not a rounding).  Optional leading '-' when @neg_ok.
 */
static int parse_fixed(const char *v, int dec, bool neg_ok, int64_t *out)
{
	bool neg = false, frac = false;
	int fd = 0;
	__int128 x = 0;

	if (*v == '-') {
		if (!neg_ok)
			return -1;
		neg = true;
		v++;
	}
	if (!isdigit((unsigned char)*v))
		return -1;
	for (; *v; v++) {
		if (*v == '.' && !frac) {
			frac = true;
			continue;
		}
		if (!isdigit((unsigned char)*v) || (frac && ++fd > dec))
			return -1;
		x = x * 10 + (*v - '0');
		if (x > INT64_MAX)
			return -1;
	}
	for (; fd < dec; fd++) {
		x *= 10;
		if (x > INT64_MAX)
			return -1;
	}
	*out = (int64_t)(neg ? -x : x);
	return 0;
}

static int is_hexid(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

int config_gw_index(const struct od_config *c, const char *id)
{
	for (int i = 0; i < c->ngw; i++)
		if (!strcmp(c->gw[i].id, id))
			return i;
	return -1;
}

static struct od_gw_conf *gw_get(struct pctx *p, const char *id)
{
	struct od_config *c = p->c;
	int i = config_gw_index(c, id);

	if (i >= 0)
		return &c->gw[i];
	if (c->ngw >= OD_MAX_GW) {
		snprintf(p->err, p->errlen, "more than %d gateways", OD_MAX_GW);
		return NULL;
	}
	memset(&c->gw[c->ngw], 0, sizeof(c->gw[0]));
	strcpy(c->gw[c->ngw].id, id);
	c->gw[c->ngw].tier = 1;
	return &c->gw[c->ngw++];
}

static struct od_feed_conf *feed_get(struct pctx *p, const char *name)
{
	struct od_config *c = p->c;
	struct od_feed_conf *f;

	for (int i = 0; i < c->nfeeds; i++)
		if (!strcmp(c->feed[i].name, name))
			return &c->feed[i];
	if (!*name || strlen(name) >= sizeof(f->name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") != strlen(name)) {
		snprintf(p->err, p->errlen, "feed name \"%s\" must be 1-63 of "
			 "[A-Za-z0-9_.-] (it is an MQTT topic level)", name);
		return NULL;
	}
	if (c->nfeeds >= OD_MAX_FEEDS) {
		snprintf(p->err, p->errlen, "more than %d feeds", OD_MAX_FEEDS);
		return NULL;
	}
	f = &c->feed[c->nfeeds++];
	memset(f, 0, sizeof(*f));
	strcpy(f->name, name);
	f->p.decimals = 2;
	f->p.min_devices = 1;
	f->p.min_gateways = 1;
	f->p.heartbeat = 60;
	f->period = 60;
	f->grace = 2;
	f->chan_type = -1;
	return f;
}

#define FAIL(...) do { snprintf(p->err, p->errlen, __VA_ARGS__); return 0; } while (0)

static int str_key(struct pctx *p, char *dst, size_t cap, const char *sec,
		   const char *name, const char *value)
{
	if (strlen(value) >= cap || !*value)
		FAIL("%s.%s must be a non-empty string shorter than %zu bytes",
		     sec, name, cap);
	strcpy(dst, value);
	return 1;
}

static int u64_key(struct pctx *p, uint64_t *dst, uint64_t lo, uint64_t hi,
		   const char *sec, const char *name, const char *value)
{
	if (oracle_parse_u64(value, lo, hi, dst))
		FAIL("%s.%s must be an integer in %" PRIu64 "..%" PRIu64 ", not \"%s\"",
		     sec, name, lo, hi, value);
	return 1;
}

static int feed_streams(struct pctx *p, struct od_feed_conf *f, const char *v)
{
	char buf[4096], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		FAIL("feed %s: streams line too long (use several streams = lines)",
		     f->name);
	strcpy(buf, v);
	for (tok = strtok_r(buf, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		struct od_feed_stream *s = &f->s[f->nstreams];
		char *c1 = strchr(tok, ':'), *c2;
		uint64_t st = 0, ch = 0;

		if (f->nstreams >= OD_MAX_FEED_STREAMS)
			FAIL("feed %s: more than %d streams", f->name,
			     OD_MAX_FEED_STREAMS);
		if (!c1)
			goto bad;
		*c1++ = 0;
		c2 = strchr(c1, ':');
		if (c2)
			*c2++ = 0;
		if (!is_hexid(tok) || oracle_parse_u64(c1, 0, ATTESTIO_MAX_STREAMS - 1, &st) ||
		    (c2 && oracle_parse_u64(c2, 0, ATTESTIO_MAX_CHANNELS - 1, &ch)))
			goto bad;
		strcpy(s->gwid, tok);
		s->stream = (uint32_t)st;
		s->channel = (uint32_t)ch;
		for (size_t i = 0; i < f->nstreams; i++)
			if (!strcmp(f->s[i].gwid, s->gwid) && f->s[i].stream == s->stream)
				FAIL("feed %s: stream %s:%u listed twice (a device "
				     "counts once)", f->name, s->gwid, s->stream);
		f->nstreams++;
	}
	return 1;
bad:
	FAIL("feed %s: streams are GATEWAY:STREAM[:CHANNEL] (32 lowercase hex, "
	     "0..%d, 0..%d)", f->name, ATTESTIO_MAX_STREAMS - 1,
	     ATTESTIO_MAX_CHANNELS - 1);
}

/* identity = GATEWAY:STREAM IDENTITY (the descriptor's, 64 hex digits) */
static int feed_pin(struct pctx *p, struct od_feed_conf *f, const char *v)
{
	struct od_feed_pin *pin = &f->pin[f->npins];
	char gw[33], st[16], hex[65], extra[2];
	uint64_t x;

	if (f->npins >= OD_MAX_FEED_STREAMS)
		FAIL("feed %s: more than %d identity lines", f->name,
		     OD_MAX_FEED_STREAMS);
	if (sscanf(v, "%32[0-9a-f]:%15[0-9] %64s %1s", gw, st, hex, extra) != 3 ||
	    !is_hexid(gw) || oracle_parse_u64(st, 0, ATTESTIO_MAX_STREAMS - 1, &x) ||
	    strlen(hex) != 64 || oracle_unhex(hex, pin->identity, 32))
		FAIL("feed %s: identity is GATEWAY:STREAM IDENTITY (32 lowercase "
		     "hex, 0..%d, the 64 hex digits of the device's descriptor "
		     "identity the node logs per chain), not \"%s\"",
		     f->name, ATTESTIO_MAX_STREAMS - 1, v);
	for (size_t i = 0; i < f->npins; i++)
		if (!strcmp(f->pin[i].gwid, gw) && f->pin[i].stream == x)
			FAIL("feed %s: identity of %s:%u given twice", f->name,
			     gw, (unsigned int)x);
	strcpy(pin->gwid, gw);
	pin->stream = (uint32_t)x;
	f->npins++;
	return 1;
}

/* channel_type = an IIO channel type name ("temp") or number */
static int feed_chan_type(struct pctx *p, struct od_feed_conf *f, const char *v)
{
	uint64_t x;

	for (unsigned int t = 0; t < 64; t++)
		if (!strcmp(v, att_chan_type_name(t)) && strcmp(v, "unknown")) {
			f->chan_type = (int)t;
			return 1;
		}
	if (oracle_parse_u64(v, 0, 63, &x))
		FAIL("feed %s: channel_type must be an IIO channel type name "
		     "(temp, pressure, humidityrelative, …) or number 0..63, "
		     "not \"%s\"", f->name, v);
	f->chan_type = (int)x;
	return 1;
}

static int feed_key(struct pctx *p, struct od_feed_conf *f, const char *name,
		    const char *value)
{
	struct oracle_feed_params *fp = &f->p;
	const char *sec = f->name;
	char where[80];
	uint64_t x;

	snprintf(where, sizeof(where), "feed %s", f->name);
	if (!strcmp(name, "streams"))
		return feed_streams(p, f, value);
	if (!strcmp(name, "identity"))
		return feed_pin(p, f, value);
	if (!strcmp(name, "channel_type"))
		return feed_chan_type(p, f, value);
	if (!strcmp(name, "require_identity")) {
		if (strcmp(value, "true") && strcmp(value, "false"))
			FAIL("feed %s: require_identity must be true or false", sec);
		f->require_identity = value[0] == 't';
		return 1;
	}
	if (!strcmp(name, "decimals")) {
		if (oracle_parse_u64(value, 0, 18, &x))
			FAIL("feed %s: decimals must be 0..18 (set it before tau and delta)", sec);
		fp->decimals = (int8_t)x;
		return 1;
	}
	if (!strcmp(name, "tau") || !strcmp(name, "delta")) {
		int64_t *dst = name[0] == 't' ? &fp->tau : &fp->delta;

		if (parse_fixed(value, fp->decimals, false, dst))
			FAIL("feed %s: %s must be a number >= 0 with at most "
			     "`decimals` (%d) fraction digits, not \"%s\"", sec,
			     name, fp->decimals, value);
		return 1;
	}
#define FU(k, field, lo, hi) \
	if (!strcmp(name, k)) { \
		if (!u64_key(p, &x, lo, hi, where, k, value)) \
			return 0; \
		field = x; \
		return 1; \
	}
	FU("period", f->period, 1, 86400 * 366);
	FU("start", f->start, 1, UINT32_MAX * 4ULL);
	FU("grace", f->grace, 0, 3600);
	FU("heartbeat", fp->heartbeat, 1, 86400 * 366);
	FU("confirm_rounds", fp->confirm_rounds, 0, 1000);
	FU("min_devices", fp->min_devices, 1, ORACLE_AGG_MAX_DEVICES);
	FU("min_gateways", fp->min_gateways, 1, ORACLE_AGG_MAX_DEVICES);
	FU("min_weight", fp->min_weight, 0, UINT64_MAX);
	FU("gateway_cap", fp->gateway_cap, 0, UINT64_MAX);
	FU("site_cap", fp->site_cap, 0, UINT64_MAX);
#undef FU
	FAIL("unknown key \"%s\" in [feed %s]", name, sec);
}

static int handler(void *user, const char *sec, const char *name,
		   const char *value)
{
	struct pctx *p = user;
	struct od_config *c = p->c;
	uint64_t x;

	if (!strcmp(sec, "node")) {
		if (!strcmp(name, "key")) {
			if (oracle_unhex(value, c->seckey, 32))
				FAIL("node.key must be 64 hex digits (a secp256k1 secret key)");
			c->have_key = true;
			return 1;
		}
		if (!strcmp(name, "key_file")) {
			char hex[80] = "";
			FILE *f = fopen(value, "r");

			if (!f)
				FAIL("node.key_file %s: %s", value, strerror(errno));
			if (!fgets(hex, sizeof(hex), f))
				hex[0] = 0;
			fclose(f);
			hex[strcspn(hex, "\r\n")] = 0;
			if (oracle_unhex(hex, c->seckey, 32))
				FAIL("node.key_file %s must hold 64 hex digits", value);
			c->have_key = true;
			return 1;
		}
		if (!strcmp(name, "db"))
			return str_key(p, c->db, sizeof(c->db), sec, name, value);
		if (!strcmp(name, "retain"))
			return u64_key(p, &c->retain_s, 60, 86400 * 3660, sec, name, value);
		if (!strcmp(name, "max_clock_skew"))
			return u64_key(p, &c->max_clock_skew_s, 0, 86400, sec,
				       name, value);
		if (!strcmp(name, "evidence_timeout"))
			return u64_key(p, &c->evidence_timeout_s, 1, 86400, sec,
				       name, value);
		if (!strcmp(name, "join_period"))
			return u64_key(p, &c->join_period_s, 1, 3600, sec,
				       name, value);
		if (!strcmp(name, "allow_simulated")) {
			if (strcmp(value, "true") && strcmp(value, "false"))
				FAIL("node.allow_simulated must be true or false");
			c->allow_simulated = !strcmp(value, "true");
			return 1;
		}
		if (!strcmp(name, "ek_ca_dir"))
			return str_key(p, c->ek_ca_dir, sizeof(c->ek_ca_dir), sec,
				       name, value);
		if (!strcmp(name, "enroll_timeout"))
			return u64_key(p, &c->enroll_timeout_s, 5, 86400, sec,
				       name, value);
	} else if (!strcmp(sec, "link")) {
		if (!strcmp(name, "broker")) {
			const char *hp = value + (strncmp(value, "mqtts://", 8) ? 7 : 8);
			const char *colon = strrchr(hp, ':');

			if (c->nbrokers >= 8 || strlen(value) >= OD_PATH ||
			    (strncmp(value, "mqtts://", 8) && strncmp(value, "mqtt://", 7)) ||
			    !colon || colon == hp || oracle_parse_u64(colon + 1, 1, 65535, &x))
				FAIL("link.broker must be mqtts://HOST:PORT or mqtt://HOST:PORT (at most 8 lines)");
			strcpy(c->brokers[c->nbrokers++], value);
			return 1;
		}
		if (!strcmp(name, "ca"))
			return str_key(p, c->ca, sizeof(c->ca), sec, name, value);
		if (!strcmp(name, "cert"))
			return str_key(p, c->cert, sizeof(c->cert), sec, name, value);
		if (!strcmp(name, "key"))
			return str_key(p, c->key, sizeof(c->key), sec, name, value);
		if (!strcmp(name, "keepalive")) {
			if (!u64_key(p, &x, 5, 3600, sec, name, value))
				return 0;
			c->keepalive = (int)x;
			return 1;
		}
	} else if (!strcmp(sec, "metrics")) {
		if (!strcmp(name, "listen")) {
			const char *colon = strrchr(value, ':');

			if (!colon || oracle_parse_u64(colon + 1, 1, 65535, &x) ||
			    strlen(value) >= sizeof(c->metrics))
				FAIL("metrics.listen must be ADDRESS:PORT (e.g. 127.0.0.1:9478)");
			strcpy(c->metrics, value);
			return 1;
		}
	} else if (!strcmp(sec, "gateways")) {
		struct od_gw_conf *g;

		if (!is_hexid(name))
			FAIL("[gateways] lines are <gateway id: 32 lowercase hex> = <AK file>");
		g = gw_get(p, name);
		return g ? str_key(p, g->ak, sizeof(g->ak), sec, name, value) : 0;
	} else if (!strncmp(sec, "gateway ", 8)) {
		struct od_gw_conf *g;

		if (!is_hexid(sec + 8))
			FAIL("[gateway ID]: ID must be 32 lowercase hex digits");
		g = gw_get(p, sec + 8);
		if (!g)
			return 0;
		if (!strcmp(name, "ak"))
			return str_key(p, g->ak, sizeof(g->ak), sec, name, value);
		if (!strcmp(name, "policy"))
			return str_key(p, g->policy, sizeof(g->policy), sec, name, value);
		if (!strcmp(name, "boot_log_ref"))
			return str_key(p, g->boot_log_ref, sizeof(g->boot_log_ref),
				       sec, name, value);
		if (!strcmp(name, "site"))
			return str_key(p, g->site, sizeof(g->site), sec, name, value);
		if (!strcmp(name, "tier")) {
			if (!u64_key(p, &x, 0, ORACLE_TIER_MAX, sec, name, value))
				return 0;
			g->tier = (int)x;
			g->tier_set = true;
			return 1;
		}
		if (!strcmp(name, "enroll")) {
			if (strcmp(value, "true") && strcmp(value, "false"))
				FAIL("%s.enroll must be true or false", sec);
			g->enroll = !strcmp(value, "true");
			return 1;
		}
		if (!strcmp(name, "ek"))
			return str_key(p, g->ek, sizeof(g->ek), sec, name, value);
		if (!strcmp(name, "kernel_key")) {
			if (!strcmp(value, "auto"))
				g->kernel_key = OD_KK_AUTO;
			else if (!strcmp(value, "required"))
				g->kernel_key = OD_KK_REQUIRED;
			else if (!strcmp(value, "off"))
				g->kernel_key = OD_KK_OFF;
			else
				FAIL("%s.kernel_key must be auto, required or off", sec);
			return 1;
		}
	} else if (!strncmp(sec, "feed ", 5)) {
		struct od_feed_conf *f = feed_get(p, sec + 5);

		return f ? feed_key(p, f, name, value) : 0;
	} else if (!strcmp(sec, "beacon")) {
		if (!strcmp(name, "period"))
			return u64_key(p, &c->beacon_period, 1, 86400 * 366, sec,
				       name, value);
		if (!strcmp(name, "start"))
			return u64_key(p, &c->beacon_start, 1, UINT32_MAX * 4ULL,
				       sec, name, value);
		if (!strcmp(name, "max_age"))
			return u64_key(p, &c->beacon_max_age, 0, 1000000, sec,
				       name, value);
		if (!strcmp(name, "issue")) {
			if (strcmp(value, "true") && strcmp(value, "false"))
				FAIL("beacon.issue must be true or false");
			c->beacon_issue = !strcmp(value, "true");
			return 1;
		}
		if (!strcmp(name, "freshness")) {
			if (!strcmp(value, "optional"))
				c->beacon_freshness = OD_FRESH_OPTIONAL;
			else if (!strcmp(value, "required"))
				c->beacon_freshness = OD_FRESH_REQUIRED;
			else if (!strcmp(value, "off"))
				c->beacon_freshness = OD_FRESH_OFF;
			else
				FAIL("beacon.freshness must be optional, required or off");
			return 1;
		}
	} else if (!strcmp(sec, "quorum")) {
		if (!strcmp(name, "node")) {
			if (c->nnodes >= OD_MAX_NODES ||
			    oracle_unhex(value, c->nodes[c->nnodes], ORACLE_PUB_LEN) ||
			    c->nodes[c->nnodes][0] != 4)
				FAIL("quorum.node must be a 130-hex-digit uncompressed "
				     "secp256k1 key (04...), at most %d lines; "
				     "`attestio-oracle pubkey` prints it", OD_MAX_NODES);
			c->nnodes++;
			return 1;
		}
		if (!strcmp(name, "t"))
			return u64_key(p, &x, 1, OD_MAX_NODES, sec, name, value) ?
				(c->t = x, 1) : 0;
	}
	FAIL("unknown key \"%s\" in section [%s]", name, sec);
}

void config_nodes_sql(const struct od_config *c, char buf[OD_NODES_SQL_LEN])
{
	size_t len = 1;

	if (!c->nnodes) {
		strcpy(buf, "(SELECT node FROM beacon)");
		return;
	}
	strcpy(buf, "(");
	for (size_t i = 0; i < c->nnodes && i < OD_MAX_NODES; i++) {
		uint8_t id[ORACLE_NODE_ID_LEN];
		char hex[ORACLE_NODE_ID_HEX];

		oracle_node_id(c->nodes[i], id);
		oracle_hex(id, ORACLE_NODE_ID_LEN, hex);
		len += (size_t)snprintf(buf + len, OD_NODES_SQL_LEN - len, "%s'%s'",
					i ? "," : "", hex);
	}
	snprintf(buf + len, OD_NODES_SQL_LEN - len, ")");
}

/*
 * The canonical text of everything that decides a round's result (the
 * config digest's preimage, carried in the evidence bundle).  Writes at
 * most @cap bytes, returns the full length.
 */
size_t config_feed_text(const struct od_config *c, const struct od_feed_conf *f,
			char *buf, size_t cap)
{
	const struct oracle_feed_params *fp = &f->p;
	size_t len = 0;
	char line[512];
	int n;

#define PUT() do {							\
	if (len + (size_t)n <= cap)					\
		memcpy(buf + len, line, (size_t)n);			\
	len += (size_t)n;						\
} while (0)
	n = snprintf(line, sizeof(line),
		     "feed %s\ndecimals %d\nperiod %" PRIu64 "\nstart %" PRIu64
		     "\nheartbeat %" PRIu64 "\ntau %" PRId64 "\ndelta %" PRId64
		     "\nconfirm_rounds %u\nmin_devices %u\nmin_gateways %u\n"
		     "min_weight %" PRIu64 "\ngateway_cap %" PRIu64 "\nsite_cap %"
		     PRIu64 "\n", f->name, fp->decimals, f->period, f->start,
		     fp->heartbeat, fp->tau, fp->delta, fp->confirm_rounds,
		     fp->min_devices, fp->min_gateways, fp->min_weight,
		     fp->gateway_cap, fp->site_cap);
	PUT();
	if (f->chan_type >= 0) {	/* only when set: older digests stay */
		n = snprintf(line, sizeof(line), "channel_type %d\n", f->chan_type);
		PUT();
	}
	/* which readings count by the beacon their checkpoint covers
	 * (oracle.md "Beacons"); freshness = off: no line, all count */
	if (c->beacon_freshness != OD_FRESH_OFF) {
		n = snprintf(line, sizeof(line), "beacon %s period %" PRIu64
			     " start %" PRIu64 " max_age %" PRIu64 "\n",
			     c->beacon_freshness == OD_FRESH_REQUIRED ?
			     "required" : "optional", c->beacon_period,
			     c->beacon_start, c->beacon_max_age);
		PUT();
	}
	for (size_t i = 0; i < f->nstreams; i++) {
		const struct od_gw_conf *g = &c->gw[f->s[i].gw];
		char hex[65];

		n = snprintf(line, sizeof(line), "stream %s %u %u tier %d site %s\n",
			     g->id, f->s[i].stream, f->s[i].channel, g->tier,
			     *g->site ? g->site : g->id);
		PUT();
		if (!f->s[i].pinned)
			continue;
		oracle_hex(f->s[i].identity, 32, hex);
		n = snprintf(line, sizeof(line), "identity %s\n", hex);
		PUT();
	}
	/* each gateway of the feed once, in order of first appearance: the
	 * AK and PCR policy it is verified with (an enrolled gateway's AK
	 * comes from its admission: "enrolled") */
	for (size_t i = 0; i < f->nstreams; i++) {
		const struct od_gw_conf *g = &c->gw[f->s[i].gw];
		char ak[65] = "enrolled", pol[65] = "none";
		size_t j;

		for (j = 0; j < i && f->s[j].gw != f->s[i].gw; j++)
			;
		if (j < i)
			continue;
		if (!g->enroll)
			oracle_hex(g->ak_sha, 32, ak);
		if (*g->policy)
			oracle_hex(g->policy_sha, 32, pol);
		n = snprintf(line, sizeof(line), "gateway %s ak %s policy %s\n",
			     g->id, ak, pol);
		PUT();
	}
	for (size_t i = 0; i < c->nnodes; i++) {
		char hex[2 * ORACLE_PUB_LEN + 1];

		oracle_hex(c->nodes[i], ORACLE_PUB_LEN, hex);
		n = snprintf(line, sizeof(line), "node %s\n", hex);
		PUT();
	}
	n = snprintf(line, sizeof(line), "t %zu\n", c->t);
	PUT();
#undef PUT
	return len;
}

static void digest_feed(const struct od_config *c, struct od_feed_conf *f)
{
	size_t len = config_feed_text(c, f, NULL, 0);
	char *text = malloc(len);

	if (!text)		/* out of memory at startup */
		abort();
	config_feed_text(c, f, text, len);
	oracle_feed_id(f->name, f->feed_id);
	oracle_config_digest(text, len, f->config_digest);
	free(text);
}

/* SHA-256 of a whole file of at most 64 KiB (a bundle item's limit). */
static int file_sha256(const char *path, uint8_t out[32])
{
	uint8_t *buf = malloc(65537);
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	int ret = -1;

	if (f && buf) {
		n = fread(buf, 1, 65537, f);
		if (!ferror(f) && n <= 65536 &&
		    EVP_Digest(buf, n, out, NULL, EVP_sha256(), NULL))
			ret = 0;
	}
	if (f)
		fclose(f);
	free(buf);
	return ret;
}

/* Whether @path is a file that can be opened and has no bytes. */
static bool file_empty(const char *path)
{
	FILE *f = fopen(path, "rb");
	bool empty;

	if (!f)
		return false;	/* reported where it is read */
	empty = fgetc(f) == EOF && !ferror(f);
	fclose(f);
	return empty;
}

static int config_parse(const char *path, const char *text,
			struct od_config *c, char *err, size_t len)
{
	char what[512] = "";
	struct pctx p = { c, what, sizeof(what) };
	const char *why;
	int line;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->keepalive = 30;
	c->retain_s = 7 * 86400;
	c->evidence_timeout_s = 60;
	c->enroll_timeout_s = 60;
	c->join_period_s = 10;
	c->max_clock_skew_s = 10;
	c->beacon_issue = true;
	c->beacon_max_age = 10;
	line = text ? ini_parse_string(text, handler, &p) :
		      ini_parse(path, handler, &p);
	if (line) {
		snprintf(err, len, "%s:%d: %s", path, line,
			 line < 0 ? "cannot read the file" :
			 *what ? what : "syntax error (expected [section] or key = value)");
		return -1;
	}
#define REQ(cond, ...) if (!(cond)) { snprintf(err, len, __VA_ARGS__); return -1; }
	REQ(c->have_key, "%s: [node] key (or key_file) is required: the node's "
	    "secp256k1 secret key, 64 hex digits", path);
	REQ(*c->db, "%s: [node] db is required: the SQLite database path", path);
	REQ(c->nbrokers, "%s: [link] broker is required: mqtts://HOST:PORT", path);
	REQ(c->ngw, "%s: no gateways: add [gateways] ID = AK-FILE lines or "
	    "[gateway ID] sections", path);
	for (int i = 0; i < c->ngw; i++) {
		struct od_gw_conf *g = &c->gw[i];

		REQ(*g->ak || g->enroll, "%s: gateway %s has no ak = AK file "
		    "(or enroll = true: admitted by enrollment)", path, g->id);
		REQ(!*g->ak || !g->enroll, "%s: gateway %s: ak and enroll = true "
		    "exclude each other (the AK comes from the enrollment)",
		    path, g->id);
		REQ(!*g->ek || g->enroll, "%s: gateway %s: ek pins the EK of an "
		    "enrollment (needs enroll = true)", path, g->id);
		/* the config digest would commit to the empty file's hash
		 * while bundles carry no policy (and verify-report refuses
		 * them all): no policy is said by leaving policy out */
		REQ(!*g->policy || !file_empty(g->policy), "%s: gateway %s: policy "
		    "file %s is empty (a PCR policy needs at least one line; "
		    "for none, leave policy out)", path, g->id, g->policy);
		if (g->enroll && !g->tier_set)
			g->tier = ORACLE_TIER_MAX;	/* no cap below what is proved */
	}
	REQ(!c->nfeeds || c->nnodes, "%s: feeds need a [quorum] with the node "
	    "= public keys of every whitelisted node (this one included)", path);
	if (c->nnodes && !c->t)
		c->t = oracle_quorum_threshold(c->nnodes);
	REQ(c->t <= c->nnodes, "%s: quorum.t = %zu is more than the %zu "
	    "whitelisted nodes", path, c->t, c->nnodes);
	/* a round's bundle carries the beacons of its freshness window, one
	 * per node and beacon round (oracle_reading_fresh) */
	REQ(c->beacon_freshness == OD_FRESH_OFF || !c->nnodes ||
	    c->beacon_max_age + 2 <= ORACLE_BUNDLE_BEACONS_MAX / c->nnodes,
	    "%s: [beacon] max_age = %" PRIu64 " with %zu nodes: a round's "
	    "evidence bundle could need %zu x (max_age + 2) beacons, more than "
	    "it carries (%d); lower max_age", path, c->beacon_max_age,
	    c->nnodes, c->nnodes, ORACLE_BUNDLE_BEACONS_MAX);
	/* the beacon round clock: the first feed's unless given (before
	 * the digests: the feeds' config text names it) */
	if (!c->beacon_period)
		c->beacon_period = c->nfeeds ? c->feed[0].period : 60;
	if (!c->beacon_start)
		c->beacon_start = c->nfeeds && c->feed[0].start ? c->feed[0].start : 1;
	for (int i = 0; i < c->nfeeds; i++) {
		struct od_feed_conf *f = &c->feed[i];

		REQ(f->nstreams, "%s: feed %s has no streams", path, f->name);
		REQ(f->start, "%s: feed %s needs start = UNIX-TIME (round 1 "
		    "starts then; the same on every node)", path, f->name);
		for (size_t k = 0; k < f->nstreams; k++) {
			f->s[k].gw = config_gw_index(c, f->s[k].gwid);
			REQ(f->s[k].gw >= 0, "%s: feed %s: stream of unknown "
			    "gateway %s (declare it under [gateways])", path,
			    f->name, f->s[k].gwid);
		}
		for (size_t k = 0; k < f->npins; k++) {
			const struct od_feed_pin *pin = &f->pin[k];
			size_t j;

			for (j = 0; j < f->nstreams; j++)
				if (!strcmp(f->s[j].gwid, pin->gwid) &&
				    f->s[j].stream == pin->stream)
					break;
			REQ(j < f->nstreams, "%s: feed %s: identity of %s:%u, "
			    "which is not in its streams", path, f->name,
			    pin->gwid, pin->stream);
			f->s[j].pinned = true;
			memcpy(f->s[j].identity, pin->identity, 32);
		}
		for (size_t k = 0; k < f->nstreams; k++)
			REQ(f->s[k].pinned || !f->require_identity, "%s: feed %s: "
			    "stream %s:%u has no identity line (require_identity "
			    "= true)", path, f->name, f->s[k].gwid, f->s[k].stream);
		REQ(!oracle_feed_params_check(&f->p, &why), "%s: feed %s: %s",
		    path, f->name, why);
		/* the digest commits to the feed's gateways' AK and policy
		 * files (a gateway in no feed is not read here) */
		for (size_t k = 0; k < f->nstreams; k++) {
			struct od_gw_conf *g = &c->gw[f->s[k].gw];

			if (g->pins_read)
				continue;
			REQ(g->enroll || !file_sha256(g->ak, g->ak_sha), "%s: "
			    "gateway %s: cannot read its AK file %s (at most 64 "
			    "KiB; feed %s's config digest commits to its SHA-256)",
			    path, g->id, g->ak, f->name);
			REQ(!*g->policy || !file_sha256(g->policy, g->policy_sha),
			    "%s: gateway %s: cannot read its policy file %s (at "
			    "most 64 KiB; feed %s's config digest commits to its "
			    "SHA-256)", path, g->id, g->policy, f->name);
			g->pins_read = true;
		}
		digest_feed(c, f);
	}
	/* one device, one identity and one channel type, whichever feed reads
	 * it, stated in each feed: the node stores a stream's readings once,
	 * under every feed's pin and type, and verify-report knows only the
	 * feed config text of the bundle it checks */
	for (int i = 0; i < c->nfeeds; i++)
		for (size_t k = 0; k < c->feed[i].nstreams; k++)
			for (int j = i; j < c->nfeeds; j++)
				for (size_t l = j == i ? k + 1 : 0; l < c->feed[j].nstreams; l++) {
					const struct od_feed_stream *a = &c->feed[i].s[k];
					const struct od_feed_stream *b = &c->feed[j].s[l];

					if (a->gw != b->gw || a->stream != b->stream)
						continue;
					REQ(a->pinned == b->pinned && (!a->pinned ||
					    !memcmp(a->identity, b->identity, 32)),
					    "%s: feeds %s and %s pin different identities "
					    "for %s:%u (a stream read by several feeds "
					    "needs the same identity line in each, or none)",
					    path, c->feed[i].name, c->feed[j].name, a->gwid,
					    a->stream);
					REQ(a->channel != b->channel ||
					    c->feed[i].chan_type == c->feed[j].chan_type,
					    "%s: feeds %s and %s expect different channel "
					    "types for %s:%u:%u (a channel read by several "
					    "feeds needs the same channel_type in each, or "
					    "none)", path, c->feed[i].name, c->feed[j].name,
					    a->gwid, a->stream, a->channel);
				}
#undef REQ
	return 0;
}

int config_load(const char *path, struct od_config *c, char *err, size_t len)
{
	return config_parse(path, NULL, c, err, len);
}

int config_load_string(const char *name, const char *text,
		       struct od_config *c, char *err, size_t len)
{
	return config_parse(name, text, c, err, len);
}

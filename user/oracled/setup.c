// SPDX-License-Identifier: GPL-2.0
/*
 * `attestio-oracle setup`: first run of an oracle node.  Four steps, each
 * idempotent and each saying what it did (firstrun.h): the node's secret
 * key (STATE/node.key) and so its node id and public key, a test CA and
 * the node's TLS client certificate (CN = node id), and a commented
 * oracle.conf.  The configuration text is pure (setup_render), shared
 * with tests/unit/test_oracled_setup.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ack.h"
#include "firstrun.h"
#include "oracled.h"

#define PROG "attestio-oracle setup"

int setup_check_args(const struct od_setup *o, char *why, size_t cap)
{
	char tmp[OD_PATH];
	uint8_t pub[ORACLE_PUB_LEN];

	if (!o->nbrokers) {
		snprintf(why, cap, "--broker URL is required (the oracle network's "
			 "MQTT broker, mqtts://HOST:PORT)");
		return -1;
	}
	for (int i = 0; i < o->nbrokers; i++) {
		const char *u = o->brokers[i], *hp, *colon;
		char *end;
		long port;

		if (strncmp(u, "mqtts://", 8) && strncmp(u, "mqtt://", 7))
			goto bad_broker;
		hp = u + (strncmp(u, "mqtts://", 8) ? 7 : 8);
		colon = strrchr(hp, ':');
		if (!colon || colon == hp || strlen(u) >= OD_PATH ||
		    strcspn(hp, " \t\r\n;#") != strlen(hp))
			goto bad_broker;
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
			goto bad_broker;
		continue;
bad_broker:
		snprintf(why, cap, "--broker %s: need mqtts://HOST:PORT (or "
			 "mqtt://, plain, tests only)", u);
		return -1;
	}
	for (int i = 0; i < o->nnodes; i++)
		if (strlen(o->nodes[i]) != 2 * ORACLE_PUB_LEN ||
		    oracle_unhex(o->nodes[i], pub, ORACLE_PUB_LEN) || pub[0] != 4) {
			snprintf(why, cap, "--node %.20s...: need 130 hex digits "
				 "(uncompressed secp256k1 key, 04...)", o->nodes[i]);
			return -1;
		}
	for (int i = 0; i < o->ngws; i++) {
		const char *eq = strchr(o->gws[i], '=');

		if (!eq || eq - o->gws[i] != 32 || !eq[1] ||
		    strlen(eq + 1) >= OD_PATH ||
		    strcspn(eq + 1, "\r\n;#") != strlen(eq + 1)) {
			snprintf(why, cap, "--gateway %s: need ID=AK-FILE (32 lowercase "
				 "hex digits, the file: its enrollment bundle or AK)",
				 o->gws[i]);
			return -1;
		}
		snprintf(tmp, sizeof(tmp), "%.32s", o->gws[i]);
		if (strspn(tmp, "0123456789abcdef") != 32) {
			snprintf(why, cap, "--gateway %s: the id must be 32 lowercase "
				 "hex digits", o->gws[i]);
			return -1;
		}
	}
	if (o->metrics && *o->metrics &&
	    (strlen(o->metrics) >= 64 || !strchr(o->metrics, ':') ||
	     strcspn(o->metrics, " \t\r\n;#") != strlen(o->metrics))) {
		snprintf(why, cap, "--metrics %s: need IPv4:PORT, e.g. 127.0.0.1:9478",
			 o->metrics);
		return -1;
	}
	return 0;
}

char *setup_render(const struct od_setup *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"# attestio-oracle configuration, written by attestio-oracle setup.\n"
		"# Documentation/oracle.md lists every key.  Check it with\n"
		"#   attestio-oracle run --check-config --config THIS-FILE\n"
		"\n"
		"[node]\n"
		"# the node's secp256k1 secret key (first line of the file, 0600);\n"
		"# node id %s\n"
		"key_file = %s\n"
		"# SQLite database (WAL; DB.lock beside it)\n"
		"db = %s\n"
		"# records and readings are kept this many seconds\n"
		"# retain = 604800\n"
		"\n"
		"[link]\n"
		"# the oracle network's MQTT broker(s), tried in turn\n",
		o->node_id, o->key_file, o->db);
	for (int i = 0; i < o->nbrokers; i++)
		fprintf(f, "broker = %s\n", o->brokers[i]);
	fprintf(f,
		"# mutual TLS: the CA the broker's certificate chains to, and this\n"
		"# node's client certificate (CN = node id) and key\n"
		"ca = %s\n"
		"cert = %s\n"
		"key = %s\n"
		"# keepalive = 30\n"
		"\n"
		"[metrics]\n"
		"# the read-only status page, its JSON API and Prometheus /metrics;\n"
		"# keep it on loopback (no login): ssh -L or an authenticating proxy\n",
		o->ca, o->cert, o->key);
	if (o->metrics && *o->metrics)
		fprintf(f, "listen = %s\n", o->metrics);
	else
		fprintf(f, "# listen = 127.0.0.1:9478\n");
	fprintf(f,
		"\n"
		"[quorum]\n"
		"# every whitelisted node's public key, this one's too; the same\n"
		"# list on every node.  t (signatures per final report) defaults\n"
		"# to f + 1, f = (n - 1) / 3.\n"
		"node = %s\n", o->pubkey);
	for (int i = 0; i < o->nnodes; i++)
		if (strcmp(o->nodes[i], o->pubkey))
			fprintf(f, "node = %s\n", o->nodes[i]);
	fprintf(f,
		"\n"
		"[gateways]\n"
		"# one line per admitted gateway: ID = its enrollment bundle\n"
		"# (attestio setup gateway writes it) or AK file; [gateway ID]\n"
		"# sections set tier, site and a PCR policy.\n");
	for (int i = 0; i < o->ngws; i++)
		fprintf(f, "%.32s = %s\n", o->gws[i], o->gws[i] + 33);
	if (!o->ngws)
		fprintf(f, "# 00112233445566778899aabbccddeeff = /etc/attestio/gw/0011...eeff.bin\n");
	fprintf(f,
		"\n"
		"# Feeds: the same on every node (they decide rounds), e.g.\n"
		"# [feed temperature]\n"
		"# streams = 00112233445566778899aabbccddeeff:0\n"
		"# start = 1767225600\n"
		"# period = 60\n"
		"# decimals = 2\n"
		"# tau = 0.05\n"
		"# min_devices = 3\n");
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Step "key": STATE/node.key (64 hex digits and a newline, 0600). */
static int step_key(struct fr_run *r, const char *path, struct oracle_signer *s,
		    bool *have)
{
	char *text = fr_slurp(path, NULL), hex[65], id[ORACLE_NODE_ID_HEX];
	uint8_t k[32];
	int e;

	*have = false;
	if (text) {
		text[strcspn(text, "\r\n")] = 0;
		if (oracle_unhex(text, k, 32) || oracle_signer_init(s, k)) {
			fr_error(r, "%s is not a secp256k1 secret key (64 hex digits); "
				 "setup never replaces a key: move it away", path);
			free(text);
			return OD_EXIT_USAGE;
		}
		free(text);
		*have = true;
		oracle_hex(s->node_id, ORACLE_NODE_ID_LEN, id);
		fr_say(r, "key", "kept", "%s (node id %s)", path, id);
		return 0;
	}
	if (errno != ENOENT) {
		fr_error(r, "cannot read %s: %s", path, strerror(errno));
		return OD_EXIT_RUNTIME;
	}
	if (r->dry) {
		fr_say(r, "key", "would create", "%s (a new secp256k1 secret key, "
		       "0600; the node id comes from it)", path);
		return 0;
	}
	do {
		if (RAND_priv_bytes(k, sizeof(k)) != 1) {
			fr_error(r, "no random bytes for the key");
			return OD_EXIT_RUNTIME;
		}
	} while (oracle_signer_init(s, k));
	oracle_hex(k, 32, hex);
	hex[64] = '\n';
	e = fr_write_file(path, hex, 65, 0600);
	memset(hex, 0, sizeof(hex));
	memset(k, 0, sizeof(k));
	if (e) {
		oracle_signer_fini(s);
		fr_error(r, "cannot write %s: %s", path, strerror(-e));
		return OD_EXIT_RUNTIME;
	}
	*have = true;
	oracle_hex(s->node_id, ORACLE_NODE_ID_LEN, id);
	fr_say(r, "key", "created", "%s (node id %s)", path, id);
	return 0;
}

static void usage(FILE *f)
{
	fputs("Usage: attestio-oracle setup --broker URL [--broker URL]...\n"
	      "                             [--node PUBKEY]... [--gateway ID=FILE]...\n"
	      "                             [--metrics IP:PORT] [--conf-dir DIR]\n"
	      "                             [--state-dir DIR] [--force] [--dry-run] [--json]\n"
	      "\n"
	      "First run of an oracle node.  Every step keeps what is already right\n"
	      "and says what it did:\n"
	      "  key          STATE/node.key: the node's secret key (node id, public key)\n"
	      "  ca           a test CA (CONF/ca.pem, ca.key) for tests and demos\n"
	      "  certificate  CONF/oracle.pem + oracle.key, CN = node id\n"
	      "  config       CONF/oracle.conf, commented\n"
	      "\n"
	      "  -b, --broker URL     mqtts://HOST:PORT (repeatable, up to 8)\n"
	      "  -n, --node PUBKEY    another whitelisted node's public key (130 hex)\n"
	      "  -g, --gateway ID=FILE an admitted gateway and its enrollment bundle\n"
	      "  -m, --metrics IP:PORT the status page and /metrics (default off)\n"
	      "  -C, --conf-dir DIR   default /etc/attestio\n"
	      "  -s, --state-dir DIR  default /var/lib/attestio-oracle\n"
	      "  -f, --force          replace an oracle.conf that differs (.bak kept)\n"
	      "      --dry-run        say what would be done; change nothing\n"
	      "  -j, --json           a JSON summary on stdout instead of lines\n"
	      "\n"
	      "Exit status: 0 done, 1 a file could not be read or written,\n"
	      "2 bad usage or an existing node.key that is not a key.\n", f);
}

int setup_main(int argc, char **argv)
{
	enum { O_DRY = 256 };
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "node", required_argument, NULL, 'n' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "conf-dir", required_argument, NULL, 'C' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct fr_run r = { .prog = PROG };
	struct od_setup o = { 0 };
	struct oracle_signer s;
	const char *conf = "/etc/attestio", *state = "/var/lib/attestio-oracle";
	char why[300], id[ORACLE_NODE_ID_HEX] = "", pub[2 * ORACLE_PUB_LEN + 1] = "";
	char *key_file = NULL, *conf_file = NULL, *want = NULL;
	bool force = false, have = false;
	int ch, rc;

	optind = 2;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "b:n:g:m:C:s:fjh", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (o.nbrokers == 8) {
				fr_error(&r, "at most 8 --broker URLs");
				return OD_EXIT_USAGE;
			}
			o.brokers[o.nbrokers++] = optarg;
			break;
		case 'n':
			if (o.nnodes == OD_MAX_NODES - 1) {
				fr_error(&r, "at most %d --node keys", OD_MAX_NODES - 1);
				return OD_EXIT_USAGE;
			}
			o.nodes[o.nnodes++] = optarg;
			break;
		case 'g':
			if (o.ngws == OD_SETUP_MAX_GW) {
				fr_error(&r, "at most %d --gateway", OD_SETUP_MAX_GW);
				return OD_EXIT_USAGE;
			}
			o.gws[o.ngws++] = optarg;
			break;
		case 'm': o.metrics = optarg; break;
		case 'C': conf = optarg; break;
		case 's': state = optarg; break;
		case 'f': force = true; break;
		case O_DRY: r.dry = true; break;
		case 'j': r.json = true; break;
		case 'h': usage(stdout); return 0;
		default:
			fr_error(&r, "unknown or incomplete option %s (see --help)",
				 argv[optind - 1]);
			return OD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fr_error(&r, "unexpected argument %s", argv[optind]);
		return OD_EXIT_USAGE;
	}
	if (setup_check_args(&o, why, sizeof(why))) {
		fr_error(&r, "%s", why);
		return OD_EXIT_USAGE;
	}
	rc = OD_EXIT_RUNTIME;
	key_file = fr_path_join(state, "node.key");
	conf_file = fr_path_join(conf, "oracle.conf");
	if (!key_file || !conf_file)
		goto out;
	if (!r.dry && (fr_make_dir(state, 0700) || fr_make_dir(conf, 0755))) {
		fr_error(&r, "cannot create %s or %s: %s", state, conf, strerror(errno));
		goto out;
	}
	rc = step_key(&r, key_file, &s, &have);
	if (rc)
		goto out;
	if (!have) {	/* dry run without a key: no id yet */
		fr_say(&r, "ca", "would create", "test CA in %s", conf);
		fr_say(&r, "certificate", "would create", "%s/oracle.pem, CN = node id", conf);
		fr_say(&r, "config", "would write", "%s", conf_file);
		if (r.json)
			fr_json(stdout, &r, "node_id", NULL);
		goto out;
	}
	oracle_hex(s.node_id, ORACLE_NODE_ID_LEN, id);
	oracle_hex(s.pub, ORACLE_PUB_LEN, pub);
	oracle_signer_fini(&s);
	rc = OD_EXIT_RUNTIME;
	if (fr_step_certs(&r, conf, "oracle", id))
		goto out;
	o.node_id = id;
	o.pubkey = pub;
	o.key_file = key_file;
	o.db = NULL;
	{
		char *db = fr_path_join(state, "node.db");
		char *ca = fr_path_join(conf, "ca.pem");
		char *cert = fr_path_join(conf, "oracle.pem");
		char *key = fr_path_join(conf, "oracle.key");

		o.db = db;
		o.ca = ca;
		o.cert = cert;
		o.key = key;
		want = db && ca && cert && key ? setup_render(&o) : NULL;
		free(db);
		free(ca);
		free(cert);
		free(key);
	}
	if (!want || fr_step_config(&r, conf_file, want, force))
		goto out;
	if (r.json) {
		fr_json(stdout, &r, "node_id", id);
	} else {
		printf("\nnode id:    %s\npublic key: %s\n", id, pub);
		printf("\nGive the public key to the other nodes' operators (their\n"
		       "[quorum] node) and to the gateways' (attestio setup gateway\n"
		       "--node).  To use a real CA instead of the test CA:\n"
		       "  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \\\n"
		       "      -nodes -keyout %s/oracle.key -subj /CN=%s -out oracle.csr\n"
		       "  # have the CA sign it for TLS client authentication, put the\n"
		       "  # certificate in %s/oracle.pem, the CA bundle in %s/ca.pem\n"
		       "  # (and remove %s/ca.key).\n"
		       "Next: %sattestio-oracle run --check-config --config %s,\n"
		       "then systemctl enable --now attestio-oracle.\n",
		       conf, id, conf, conf, conf,
		       o.ngws ? "" : "add the gateways ([gateways] ID = bundle) and feeds, ",
		       conf_file);
	}
	rc = 0;
out:
	free(key_file);
	free(conf_file);
	free(want);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * attestio setup gateway: first run of a gateway.  Four steps, each
 * idempotent and each saying what it did: provision the attestation key
 * (att_provision), write the enrollment bundle and derive the gateway id,
 * make a small test CA and the gateway's TLS client certificate (CN = the
 * gateway id), and write a commented attestiod configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "libattestio.h"

#include "firstrun.h"

#include "cli.h"
#include "setup.h"
#include "util.h"

#define CMD "setup"

/* ------------------------------------------------------- pure parts --- */

int setup_gateway_id(const uint8_t *ek_pub, size_t len, char id[33])
{
	return att_gateway_id(ek_pub, len, id);	/* the one derivation */
}

int setup_check_broker(const char *url, char *why, size_t cap)
{
	const char *host, *colon, *p;
	unsigned long port;
	char *end;

	if (!strncmp(url, "mqtts://", 8))
		host = url + 8;
	else if (!strncmp(url, "mqtt://", 7))
		host = url + 7;
	else {
		snprintf(why, cap, "%s: need mqtts://HOST:PORT (mqtt:// only "
			 "for tests)", url);
		return -1;
	}
	colon = strrchr(host, ':');
	if (!colon || colon == host) {
		snprintf(why, cap, "%s: need HOST:PORT after the scheme", url);
		return -1;
	}
	for (p = host; p < colon; p++) {
		if (!isalnum((unsigned char)*p) && !strchr(".-_[]:", *p)) {
			snprintf(why, cap, "%s: bad character in the host name",
				 url);
			return -1;
		}
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535) {
		snprintf(why, cap, "%s: port must be 1-65535", url);
		return -1;
	}
	return 0;
}

bool setup_node_key_ok(const char *hex)
{
	size_t i;

	if (strlen(hex) != 130 || hex[0] != '0' || hex[1] != '4')
		return false;
	for (i = 0; i < 130; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return false;
	return true;
}

char *setup_render_config(const struct setup_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	if (!f)
		return NULL;
	fprintf(f,
		"# attestiod configuration written by `attestio setup gateway`\n"
		"# (Documentation/attestiod.md lists every key).  Check it with\n"
		"#   attestiod --check-config --config <this file>\n"
		"\n"
		"[gateway]\n"
		"# First 16 bytes of SHA-256 over this TPM's EK public area: the\n"
		"# MQTT client id and the CN of the TLS client certificate.\n"
		"id = %s\n"
		"\n"
		"[source]\n"
		"type = dev\n"
		"\n"
		"[spool]\n"
		"path = /var/lib/attestiod/spool.db\n"
		"\n"
		"[link]\n"
		"# Brokers, tried in turn.\n", c->gateway_id);
	for (i = 0; i < c->n_brokers; i++)
		fprintf(f, "broker = %s\n", c->brokers[i]);
	fprintf(f,
		"# CA bundle the broker's certificate must chain to.\n"
		"ca = %s\n"
		"# This gateway's client certificate (CN = id) and key.\n"
		"cert = %s\n"
		"key = %s\n"
		"\n"
		"[oracle]\n"
		"# Each oracle node's public key (130 hex digits; `attestio-oracle\n"
		"# pubkey` prints it).  attestiod refuses to start without one.\n",
		c->ca, c->cert, c->key);
	for (i = 0; i < c->n_nodes; i++)
		fprintf(f, "node = %s\n", c->nodes[i]);
	if (!c->n_nodes)
		fprintf(f, "# node = 04...\n");
	fprintf(f,
		"# Nodes that must acknowledge a record before it leaves the\n"
		"# spool (default: all).\n"
		"# ack_quorum = 1\n"
		"\n"
		"[metrics]\n"
		"listen = 127.0.0.1:9469\n");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------ config --- */

static int step_config(struct fr_run *r, const char *dir, struct setup_conf *c,
		       bool force)
{
	char *path = fr_path_join(dir, "attestiod.conf"), *want = NULL;
	int ret = EXIT_IO;

	c->ca = fr_path_join(dir, "ca.pem");
	c->cert = fr_path_join(dir, "gateway.pem");
	c->key = fr_path_join(dir, "gateway.key");
	if (path && c->ca && c->cert && c->key &&
	    (want = setup_render_config(c)) &&
	    !fr_step_config(r, path, want, force))
		ret = EXIT_OK;
	free(path);
	free(want);
	return ret;
}

/* -------------------------------------------------------------- main --- */

static void setup_usage(FILE *f)
{
	fprintf(f,
		"Usage: attestio setup gateway --oracle URL [--oracle URL]...\n"
		"                      [--node PUBKEY]... [--conf-dir DIR]\n"
		"                      [--state-dir DIR] [--handle H] [--tcti T]\n"
		"                      [--owner-auth PW] [--force] [--dry-run] [--json]\n"
		"\n"
		"First run of a gateway.  Every step keeps what is already right\n"
		"and says what it did:\n"
		"  provision    create or reuse the TPM attestation key\n"
		"  enroll       write the enrollment bundle (STATE/enroll.bin) for\n"
		"               the oracle operators; derive the gateway id\n"
		"  ca           a test CA (CONF/ca.pem, ca.key) for tests and demos\n"
		"  certificate  CONF/gateway.pem + gateway.key, CN = gateway id\n"
		"  config       CONF/attestiod.conf, commented\n"
		"\n"
		"Options:\n"
		"  -o, --oracle URL    MQTT broker of the oracle network,\n"
		"                      mqtts://HOST:PORT (repeatable, up to 8)\n"
		"  -n, --node PUBKEY   an oracle node's public key, 130 hex digits\n"
		"                      (repeatable, up to 16)\n"
		"  -c, --conf-dir DIR  default /etc/attestio\n"
		"  -s, --state-dir DIR default /var/lib/attestio\n"
		"  -H, --handle H      persistent AK handle (default 0x81010002)\n"
		"  -T, --tcti T        TPM connection (see attestio provision)\n"
		"  -P, --owner-auth PW owner hierarchy password (env:VAR)\n"
		"  -f, --force         replace an attestiod.conf that differs\n"
		"                      (the old one is kept as attestiod.conf.bak)\n"
		"      --dry-run       say what would be done; change nothing\n"
		"  -j, --json          a JSON summary on stdout instead of lines\n"
		"  -h, --help          this help\n"
		"\n%s", exit_codes_help);
}

static void real_ca_help(FILE *f, const char *dir, const char *id)
{
	fprintf(f,
		"\nTo use a real CA instead of the test CA:\n"
		"  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \\\n"
		"      -nodes -keyout %s/gateway.key -subj /CN=%s \\\n"
		"      -out gateway.csr\n"
		"  # have the CA sign gateway.csr for TLS client authentication,\n"
		"  # then put the certificate (chain) in %s/gateway.pem and the\n"
		"  # CA bundle the broker's certificate chains to in %s/ca.pem\n"
		"  # (and remove %s/ca.key).\n",
		dir, id, dir, dir, dir);
}

/* The JSON summary, or the gateway id and what to do next. */
static void summary(const struct fr_run *r, const char *conf_dir, const char *id,
		    int n_nodes)
{
	if (r->json) {
		fr_json(stdout, r, "gateway_id", id);
		return;
	}
	if (!id)
		return;
	printf("\ngateway id: %s\n", id);
	real_ca_help(stdout, conf_dir, id);
	printf("\nNext: %sattestiod --check-config --config %s/attestiod.conf,"
	       "\nthen systemctl enable --now attestiod.\n",
	       n_nodes ? "" : "add each oracle node's public key "
	       "([oracle] node), ", conf_dir);
}

static int gateway(const char *conf_dir, struct att_provision_opts *po,
		   struct setup_conf *c, bool force, struct fr_run *r)
{
	struct att_provision_result pr;
	struct fr_progress pg;
	struct att_enroll_bundle b;
	struct att_err err = { 0 };
	char id[33], *bundle = NULL, *tmp = NULL, *old = NULL, *neu = NULL;
	size_t old_len = 0, neu_len = 0;
	bool have_ak;
	int ret, rc = EXIT_NOTPM;

	memset(&b, 0, sizeof(b));
	/* 1. provision */
	have_ak = !att_enroll_collect(po->tcti, po->handle, NULL, &b, &err);
	if (r->dry) {
		fr_say(r, "provision", have_ak ? "would reuse" : "would create",
		    "attestation key at 0x%08x, public part in %s",
		    po->handle, po->out_dir);
	} else {
		att_enroll_free(&b);
		memset(&b, 0, sizeof(b));
		if (fr_make_dir(po->out_dir, 0755)) {
			cli_error(CMD, "cannot create %s: %s", po->out_dir,
				  strerror(errno));
			return EXIT_IO;
		}
		fr_progress_begin(&pg, r, STDERR_FILENO, false, "provision",
				  have_ak ? "checking the attestation key in the TPM" :
				  "creating the EK and the attestation key in the TPM");
		ret = att_provision(po, &pr, &err);
		fr_progress_end(&pg);
		if (ret) {
			cli_error(CMD, "provision: %s", err.msg);
			return ret == ATT_EIO ? EXIT_IO : EXIT_NOTPM;
		}
		fr_say(r, "provision", pr.created ? "created" : "reused",
		    "attestation key at 0x%08x (ak.pem, ak.pub, ak.name in %s)",
		    pr.handle, po->out_dir);
		have_ak = !att_enroll_collect(po->tcti, po->handle, NULL, &b, &err);
		if (!have_ak) {
			cli_error(CMD, "enroll: %s", err.msg);
			return EXIT_NOTPM;
		}
	}
	if (!have_ak) {
		fr_say(r, "enroll", "would write", "%s/enroll.bin once the key "
		    "exists; the gateway id comes from the EK", po->out_dir);
		fr_say(r, "ca", "would create", "test CA in %s", conf_dir);
		fr_say(r, "certificate", "would create", "%s/gateway.pem, CN = "
		    "gateway id", conf_dir);
		fr_say(r, "config", "would write", "%s/attestiod.conf", conf_dir);
		summary(r, conf_dir, NULL, c->n_nodes);
		return EXIT_OK;
	}

	/* 2. enrollment bundle and gateway id */
	if (setup_gateway_id(b.ek_pub, b.ek_pub_len, id)) {
		cli_error(CMD, "the TPM's EK public area is malformed");
		goto out;
	}
	rc = EXIT_IO;
	bundle = fr_path_join(po->out_dir, "enroll.bin");
	tmp = fr_path_join(po->out_dir, "enroll.bin.new");
	if (!bundle || !tmp)
		goto out;
	old = fr_slurp(bundle, &old_len);
	if (r->dry) {
		fr_say(r, "enroll", old ? "would check" : "would write",
		    "%s (gateway id %s)", bundle, id);
	} else {
		if (att_enroll_write(tmp, &b, &err) || !(neu = fr_slurp(tmp, &neu_len))) {
			cli_error(CMD, "enroll: %s", err.msg[0] ? err.msg : strerror(errno));
			unlink(tmp);
			goto out;
		}
		if (old && old_len == neu_len && !memcmp(old, neu, neu_len)) {
			unlink(tmp);
			fr_say(r, "enroll", "unchanged", "%s (gateway id %s)", bundle, id);
		} else if (rename(tmp, bundle)) {
			cli_error(CMD, "cannot write %s: %s", bundle, strerror(errno));
			unlink(tmp);
			goto out;
		} else {
			fr_say(r, "enroll", old ? "updated" : "created", "%s (gateway id "
			    "%s): send it to each oracle node's operator", bundle, id);
		}
	}

	/* 3. certificates, 4. configuration */
	if (!r->dry && fr_make_dir(conf_dir, 0755)) {
		cli_error(CMD, "cannot create %s: %s", conf_dir, strerror(errno));
		goto out;
	}
	rc = fr_step_certs(r, conf_dir, "gateway", id) ? EXIT_IO : EXIT_OK;
	if (rc)
		goto out;
	c->gateway_id = id;
	rc = step_config(r, conf_dir, c, force);
	if (rc)
		goto out;

	summary(r, conf_dir, id, c->n_nodes);
	rc = EXIT_OK;
out:
	free((char *)c->ca);
	free((char *)c->cert);
	free((char *)c->key);
	c->ca = c->cert = c->key = NULL;
	att_enroll_free(&b);
	free(bundle);
	free(tmp);
	free(old);
	free(neu);
	return rc;
}

int cmd_setup(int argc, char **argv)
{
	enum { O_DRY = 256 };
	static const struct option opts[] = {
		{ "oracle", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, 'n' },
		{ "conf-dir", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "handle", required_argument, NULL, 'H' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "owner-auth", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct att_provision_opts po = { .handle = 0x81010002,
					 .out_dir = "/var/lib/attestio" };
	struct setup_conf c = { 0 };
	struct fr_run r = { .prog = "attestio setup" };
	const char *conf_dir = "/etc/attestio";
	bool force = false;
	char why[256];
	int ch;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		setup_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "gateway")) {
		cli_error(CMD, "unknown role '%s' (this version sets up: gateway)",
			  argv[1]);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:n:c:s:H:T:P:fjh", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (setup_check_broker(optarg, why, sizeof(why))) {
				cli_error(CMD, "--oracle %s", why);
				return EXIT_USAGE;
			}
			if (c.n_brokers == SETUP_MAX_BROKERS) {
				cli_error(CMD, "at most %d --oracle URLs",
					  SETUP_MAX_BROKERS);
				return EXIT_USAGE;
			}
			c.brokers[c.n_brokers++] = optarg;
			break;
		case 'n':
			if (!setup_node_key_ok(optarg)) {
				cli_error(CMD, "--node %.20s...: need 130 hex digits "
					  "(uncompressed secp256k1 key, 04...)", optarg);
				return EXIT_USAGE;
			}
			if (c.n_nodes == SETUP_MAX_NODES) {
				cli_error(CMD, "at most %d --node keys",
					  SETUP_MAX_NODES);
				return EXIT_USAGE;
			}
			c.nodes[c.n_nodes++] = optarg;
			break;
		case 'c': conf_dir = optarg; break;
		case 's': po.out_dir = optarg; break;
		case 'H':
			if (parse_handle(CMD, optarg, &po.handle))
				return EXIT_USAGE;
			break;
		case 'T': po.tcti = optarg; break;
		case 'P':
			po.owner_auth = strncmp(optarg, "env:", 4) ? optarg :
				getenv(optarg + 4);
			if (!po.owner_auth) {
				cli_error(CMD, "--owner-auth %s: variable not set",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f': force = true; break;
		case O_DRY: r.dry = true; break;
		case 'j': r.json = true; break;
		case 'h':
			setup_usage(stdout);
			return EXIT_OK;
		default:
			cli_error(CMD, "unknown or incomplete option %s (see "
				  "attestio setup --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error(CMD, "unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	if (!c.n_brokers) {
		cli_error(CMD, "gateway: --oracle URL is required (the oracle "
			  "network's MQTT broker, mqtts://HOST:PORT)");
		return EXIT_USAGE;
	}
	setenv("TSS2_LOG", "all+none", 0);
	return gateway(conf_dir, &po, &c, force, &r);
}

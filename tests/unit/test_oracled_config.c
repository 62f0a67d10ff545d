// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for attestio-oracle's configuration (user/oracled/config.c):
 * a full configuration parses with its feeds' ids and digests; each bad
 * value is refused with FILE:LINE and the rule; fixed-point tau/delta are
 * exact; the config digest changes with anything that decides a round and
 * not with node-local settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "oracled.h"

#define GW "00112233445566778899aabbccddeeff"
#define KEY "4242424242424242424242424242424242424242424242424242424242424242"
#define PUB "04" "abababababababababababababababababababababababababababababababab" \
	    "abababababababababababababababababababababababababababababababab"

static struct od_config c, d;
static char err[600], text[8192];
/* the gateway's AK and a PCR policy: the config digest commits to their
 * bytes, so they must exist */
static char akf[] = "/tmp/test_oracled_config_akXXXXXX";
static char polf[] = "/tmp/test_oracled_config_polXXXXXX";

static void put(const char *path, const char *bytes)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(bytes, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int group_setup(void **s)
{
	int a = mkstemp(akf), b = mkstemp(polf);

	(void)s;
	if (a < 0 || b < 0)
		return -1;
	close(a);
	close(b);
	put(akf, "-----BEGIN PUBLIC KEY-----\nnot parsed here\n-----END PUBLIC KEY-----\n");
	put(polf, "81 cdcd\n");
	return 0;
}

static int group_teardown(void **s)
{
	(void)s;
	unlink(akf);
	unlink(polf);
	return 0;
}

/* The base configuration with @extra appended (lines 1-17 are fixed). */
static int load(const char *extra, struct od_config *out)
{
	snprintf(text, sizeof(text),
		 "[node]\n"				/* 1 */
		 "key = " KEY "\n"			/* 2 */
		 "db = /var/lib/x.db\n"			/* 3 */
		 "[link]\n"				/* 4 */
		 "broker = mqtts://localhost:8883\n"	/* 5 */
		 "[quorum]\n"				/* 6 */
		 "node = " PUB "\n"			/* 7 */
		 "[gateway " GW "]\n"			/* 8 */
		 "ak = %s\n"				/* 9 */
		 "tier = 2\n"				/* 10 */
		 "[feed temp]\n"			/* 11 */
		 "streams = " GW ":0 " GW ":1:2\n"	/* 12 */
		 "start = 1000\n"			/* 13 */
		 "decimals = 2\n"			/* 14 */
		 "tau = 0.05\n"				/* 15 */
		 "delta = 12.5\n"			/* 16 */
		 "period = 10\n"			/* 17 */
		 "%s", akf, extra);
	return config_load_string("t.conf", text, out, err, sizeof(err));
}

static void full(void **s)
{
	(void)s;
	assert_int_equal(0, load("", &c));
	assert_int_equal(1, c.ngw);
	assert_int_equal(2, c.gw[0].tier);
	assert_int_equal(1, c.nfeeds);
	assert_int_equal(2, c.feed[0].nstreams);
	assert_int_equal(1, c.feed[0].s[1].stream);
	assert_int_equal(2, c.feed[0].s[1].channel);
	assert_int_equal(0, c.feed[0].s[1].gw);
	assert_int_equal(5, c.feed[0].p.tau);	/* 0.05 at 2 decimals */
	assert_int_equal(1250, c.feed[0].p.delta);
	assert_int_equal(1, c.t);		/* f + 1 for one node */
	assert_int_equal(1000, c.feed[0].start);
}

static void digest(void **s)
{
	(void)s;
	assert_int_equal(0, load("", &c));
	/* node-local settings do not change the digest */
	assert_int_equal(0, load("[metrics]\nlisten = 127.0.0.1:9000\n", &d));
	assert_memory_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_memory_equal(c.feed[0].feed_id, d.feed[0].feed_id, 32);
	/* anything that decides a round does */
	assert_int_equal(0, load("min_devices = 2\n", &d));
	assert_memory_not_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("[gateway " GW "]\ntier = 3\n", &d));
	assert_memory_not_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("[quorum]\nt = 1\n", &d));
	assert_memory_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	/* evidence settings: defaults, values, and they decide no round */
	assert_int_equal(OD_KK_AUTO, c.gw[0].kernel_key);
	assert_int_equal(60, c.evidence_timeout_s);
	assert_int_equal(10, c.max_clock_skew_s);
	assert_int_equal(0, load("[node]\nmax_clock_skew = 120\n", &d));
	assert_int_equal(120, d.max_clock_skew_s);
	assert_memory_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("[gateway " GW "]\nkernel_key = off\n"
				 "[node]\nevidence_timeout = 5\n", &d));
	assert_int_equal(OD_KK_OFF, d.gw[0].kernel_key);
	assert_int_equal(5, d.evidence_timeout_s);
	assert_memory_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("[gateway " GW "]\nkernel_key = required\n", &d));
	assert_int_equal(OD_KK_REQUIRED, d.gw[0].kernel_key);
	/* the gateway's AK and PCR policy: their files' bytes */
	assert_non_null(strstr(text, akf));
	{
		char extra[200];
		struct od_config *e = malloc(sizeof(*e));

		assert_non_null(e);
		snprintf(extra, sizeof(extra), "[gateway " GW "]\npolicy = %s\n", polf);
		assert_int_equal(0, load(extra, &d));
		assert_memory_not_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
		put(polf, "81 abab\n");	/* another policy, same file */
		assert_int_equal(0, load(extra, e));
		assert_memory_not_equal(e->feed[0].config_digest, d.feed[0].config_digest, 32);
		/* another AK, same file */
		put(akf, "-----BEGIN PUBLIC KEY-----\nanother key\n-----END PUBLIC KEY-----\n");
		assert_int_equal(0, load("", e));
		assert_memory_not_equal(e->feed[0].config_digest, c.feed[0].config_digest, 32);
		put(akf, "-----BEGIN PUBLIC KEY-----\nnot parsed here\n-----END PUBLIC KEY-----\n");
		assert_int_equal(0, load("", e));
		assert_memory_equal(e->feed[0].config_digest, c.feed[0].config_digest, 32);
		free(e);
	}
}

#define ID64 "a1000000000000000000000000000000000000000000000000000000000000" "5e"

/* Pins of the device identity and channel type (finding: fake sensor). */
static void pins(void **s)
{
	(void)s;
	assert_int_equal(0, load("", &c));
	assert_int_equal(-1, c.feed[0].chan_type);
	assert_false(c.feed[0].s[0].pinned);
	assert_int_equal(0, load("identity = " GW ":1 " ID64 "\nchannel_type = temp\n", &d));
	assert_int_equal(9, d.feed[0].chan_type);
	assert_false(d.feed[0].s[0].pinned);
	assert_true(d.feed[0].s[1].pinned);
	assert_int_equal(0xa1, d.feed[0].s[1].identity[0]);
	assert_int_equal(0x5e, d.feed[0].s[1].identity[31]);
	/* both decide which readings count: part of the digest */
	assert_memory_not_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("identity = " GW ":1 " ID64 "\n", &d));
	assert_memory_not_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("channel_type = 9\n", &d));
	assert_int_equal(9, d.feed[0].chan_type);
	assert_memory_not_equal(c.feed[0].config_digest, d.feed[0].config_digest, 32);
	assert_int_equal(0, load("require_identity = true\nidentity = " GW ":1 " ID64
				 "\nidentity = " GW ":0 " ID64 "\n", &d));
	assert_true(d.feed[0].s[0].pinned && d.feed[0].s[1].pinned);
}

static void refused(const char *extra, const char *want)
{
	if (load(extra, &d) != -1)
		fail_msg("\"%s\" was accepted", extra);
	if (!strstr(err, want))
		fail_msg("\"%s\": got \"%s\", want \"%s\"", extra, err, want);
}

static void errors(void **s)
{
	(void)s;
	refused("tau = 0.001\n", "t.conf:18: feed temp: tau must be a number >= 0 with at most `decimals` (2)");
	refused("tau = -1\n", "t.conf:18: feed temp: tau must be");
	refused("period = 0\n", "t.conf:18: feed temp.period must be an integer in 1..");
	refused("period = 10s\n", "t.conf:18:");
	refused("colour = red\n", "t.conf:18: unknown key \"colour\" in [feed temp]");
	refused("streams = " GW ":64\n", "t.conf:18: feed temp: streams are GATEWAY:STREAM");
	refused("streams = " GW ":0\n", "t.conf:18: feed temp: stream " GW ":0 listed twice");
	refused("[feed a/b]\nstart = 5\n", "t.conf:19: feed name \"a/b\" must be");
	refused("[gateway 00]\ntier = 1\n", "t.conf:19: [gateway ID]: ID must be 32 lowercase hex");
	refused("[gateway " GW "]\ntier = 4\n", "t.conf:19: gateway " GW ".tier must be an integer in 0..3");
	refused("[link]\nbroker = http://x:1\n", "t.conf:19: link.broker must be mqtts://");
	refused("[quorum]\nnode = 0011\n", "t.conf:19: quorum.node must be a 130-hex-digit");
	refused("[quorum]\nt = 2\n", "quorum.t = 2 is more than the 1 whitelisted nodes");
	/* a bundle carries nodes x (max_age + 2) beacons at most: 1 x 4096 */
	refused("[beacon]\nmax_age = 4095\n", "[beacon] max_age = 4095 with 1 nodes: a round's "
		"evidence bundle could need 1 x (max_age + 2) beacons, more than it carries (4096)");
	refused("[feed late]\nstreams = " GW ":3\n", "t.conf: feed late needs start = UNIX-TIME");
	refused("[feed x]\nstart = 5\n", "t.conf: feed x has no streams");
	refused("[feed y]\nstart = 5\nstreams = ffeeddccbbaa99887766554433221100:0\n",
		"feed y: stream of unknown gateway ffeeddccbbaa99887766554433221100");
	refused("[feed temp]\nmin_gateways = 9\nmin_devices = 2\n", "t.conf: feed temp:");
	refused("garbage\n", "t.conf:18: syntax error");
	refused("[gateway " GW "]\nkernel_key = maybe\n",
		"t.conf:19: gateway " GW ".kernel_key must be auto, required or off");
	refused("identity = " GW ":1 a1\n", "t.conf:18: feed temp: identity is GATEWAY:STREAM IDENTITY");
	refused("identity = " GW ":1\n", "t.conf:18: feed temp: identity is GATEWAY:STREAM IDENTITY");
	refused("identity = " GW ":1 " ID64 " x\n", "t.conf:18: feed temp: identity is");
	refused("identity = " GW ":1 " ID64 "\nidentity = " GW ":1 " ID64 "\n",
		"t.conf:19: feed temp: identity of " GW ":1 given twice");
	refused("identity = " GW ":5 " ID64 "\n", "feed temp: identity of " GW ":5, which is not in its streams");
	refused("require_identity = true\n", "feed temp: stream " GW ":0 has no identity line");
	refused("require_identity = yes\n", "t.conf:18: feed temp: require_identity must be true or false");
	refused("channel_type = warmth\n", "t.conf:18: feed temp: channel_type must be an IIO channel type name");
	refused("identity = " GW ":1 " ID64 "\n[feed b]\nstart = 5\nstreams = " GW ":1\n"
		"identity = " GW ":1 " ID64 "\nidentity = " GW ":0 b" ID64 "\n",
		"feed b: identity is");
	refused("identity = " GW ":1 " ID64 "\n[feed b]\nstart = 5\nstreams = " GW ":1\n"
		"identity = " GW ":1 b1" ID64 "\n", "feed b: identity is");
	refused("identity = " GW ":1 " ID64 "\n[feed b]\nstart = 5\nstreams = " GW ":1\n"
		"identity = " GW ":1 000000000000000000000000000000000000000000000000000000000000005e\n",
		"feeds temp and b pin different identities for " GW ":1");
	refused("channel_type = temp\n[feed b]\nstart = 5\nstreams = " GW ":1:2\n"
		"channel_type = pressure\n", "feeds temp and b expect different channel types for " GW ":1:2");
	/* one feed pins or types what another reads without: refused too */
	refused("identity = " GW ":1 " ID64 "\n[feed b]\nstart = 5\nstreams = " GW ":1\n",
		"feeds temp and b pin different identities for " GW ":1");
	refused("channel_type = temp\n[feed b]\nstart = 5\nstreams = " GW ":1:2\n",
		"feeds temp and b expect different channel types for " GW ":1:2");
	refused("[node]\nmax_clock_skew = 86401\n",
		"t.conf:19: node.max_clock_skew must be an integer in 0..86400");
	refused("[node]\nevidence_timeout = 0\n",
		"t.conf:19: node.evidence_timeout must be an integer in 1..86400");
	refused("[gateway " GW "]\nak = /nonexistent/ak.pem\n", "gateway " GW ": cannot "
		"read its AK file /nonexistent/ak.pem (at most 64 KiB; feed temp's config "
		"digest commits to its SHA-256)");
	refused("[gateway " GW "]\npolicy = /nonexistent/p\n", "cannot read its policy file");
	/* review 4: an empty policy file was hashed into the config digest
	 * but carried in bundles as no policy (every bundle refused) */
	refused("[gateway " GW "]\npolicy = /dev/null\n", "gateway " GW ": policy "
		"file /dev/null is empty (a PCR policy needs at least one line; "
		"for none, leave policy out)");
}

/* [gateway ID] enroll: no ak (it comes from the enrollment), tier a cap
 * that defaults to 3; ek_ca_dir, enroll_timeout, ek pins. */
static void enroll(void **s)
{
	(void)s;
	assert_int_equal(0, load("[gateway ffeeddccbbaa99887766554433221100]\n"
				 "enroll = true\nek = /etc/ek.pub\n"
				 "[node]\nek_ca_dir = /etc/ek-ca\nenroll_timeout = 30\n", &c));
	assert_int_equal(2, c.ngw);
	assert_true(c.gw[1].enroll);
	assert_int_equal(3, c.gw[1].tier);
	assert_string_equal("/etc/ek.pub", c.gw[1].ek);
	assert_string_equal("/etc/ek-ca", c.ek_ca_dir);
	assert_int_equal(30, c.enroll_timeout_s);
	assert_false(c.gw[0].enroll);
	assert_int_equal(0, load("[gateway ffeeddccbbaa99887766554433221100]\n"
				 "enroll = true\ntier = 1\n", &c));
	assert_int_equal(1, c.gw[1].tier);
	assert_int_equal(60, c.enroll_timeout_s);
	refused("[gateway " GW "]\nenroll = true\n", "gateway " GW ": ak and enroll = true "
		"exclude each other");
	refused("[gateway ffeeddccbbaa99887766554433221100]\ntier = 1\n",
		"gateway ffeeddccbbaa99887766554433221100 has no ak = AK file (or enroll = true");
	refused("[gateway " GW "]\nek = /x\n", "ek pins the EK of an enrollment (needs enroll = true)");
	refused("[gateway " GW "]\nenroll = yes\n", "t.conf:19: gateway " GW ".enroll must be true or false");
	refused("[node]\nenroll_timeout = 1\n", "t.conf:19: node.enroll_timeout must be an integer in 5..86400");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full),
		cmocka_unit_test(digest),
		cmocka_unit_test(pins),
		cmocka_unit_test(errors),
		cmocka_unit_test(enroll),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

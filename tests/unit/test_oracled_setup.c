// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for `attestio-oracle setup`'s pure parts
 * (user/oracled/setup.c): argument checks refuse what the configuration
 * parser would refuse later, and the oracle.conf it writes loads with
 * config_load_string() as written: key file, database, broker, TLS files,
 * status page, this node and the others in [quorum], the gateways.
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
#define PUB1 "04" "abababababababababababababababababababababababababababababababab" \
	     "abababababababababababababababababababababababababababababababab"
#define PUB2 "04" "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd" \
	     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"

static int check(struct od_setup *o)
{
	char why[300] = "";
	int r = setup_check_args(o, why, sizeof(why));

	if (r)
		assert_true(strlen(why) > 10);
	return r;
}

static void test_args(void **st)
{
	struct od_setup o = { .brokers = { "mqtts://broker.example:8883" }, .nbrokers = 1 };

	(void)st;
	assert_int_equal(check(&o), 0);
	o.brokers[1] = "mqtt://127.0.0.1:1883";
	o.nbrokers = 2;
	assert_int_equal(check(&o), 0);
	static const char *bad_brokers[] = {
		"https://x:1", "mqtts://x", "mqtts://:8883", "mqtts://x:0",
		"mqtts://x:65536", "mqtts://x:88a", "mqtts://x y:1", "mqtts://x:1;c",
	};
	for (size_t i = 0; i < sizeof(bad_brokers) / sizeof(*bad_brokers); i++) {
		o.brokers[1] = bad_brokers[i];
		assert_int_equal(check(&o), -1);
	}
	o.nbrokers = 0;
	assert_int_equal(check(&o), -1);		/* a broker is required */
	o.nbrokers = 1;

	o.nodes[0] = PUB2;
	o.nnodes = 1;
	assert_int_equal(check(&o), 0);
	o.nodes[0] = "05cdcd";			/* short, not uncompressed */
	assert_int_equal(check(&o), -1);
	o.nodes[0] = PUB2 "00";
	assert_int_equal(check(&o), -1);
	o.nnodes = 0;

	o.gws[0] = GW "=/etc/attestio/gw/a.bin";
	o.ngws = 1;
	assert_int_equal(check(&o), 0);
	static const char *bad_gws[] = {
		GW, GW "=", "0011=/x", "00112233445566778899AABBCCDDEEFF=/x",
		"0011223344556677889900aabbccddeeff=/x", GW "=/x;y",
	};
	for (size_t i = 0; i < sizeof(bad_gws) / sizeof(*bad_gws); i++) {
		o.gws[0] = bad_gws[i];
		assert_int_equal(check(&o), -1);
	}
	o.ngws = 0;

	o.metrics = "127.0.0.1:9478";
	assert_int_equal(check(&o), 0);
	o.metrics = "127.0.0.1";
	assert_int_equal(check(&o), -1);
}

static void test_render_loads(void **st)
{
	char keyf[] = "/tmp/test_oracled_setup.XXXXXX";
	static struct od_config c;
	struct od_setup o = {
		.brokers = { "mqtts://broker.example:8883", "mqtts://b2.example:8883" },
		.nbrokers = 2,
		.nodes = { PUB2, PUB1 },	/* this node's own key given again */
		.nnodes = 2,
		.gws = { GW "=/etc/attestio/gw/a.bin" },
		.ngws = 1,
		.metrics = "127.0.0.1:9478",
		.node_id = "8191e1c3d1c5889de47f392232499c61",
		.pubkey = PUB1,
		.db = "/var/lib/attestio-oracle/node.db",
		.ca = "/etc/attestio/ca.pem",
		.cert = "/etc/attestio/oracle.pem",
		.key = "/etc/attestio/oracle.key",
	};
	char err[600] = "", *text;
	int fd = mkstemp(keyf);

	(void)st;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "4242424242424242424242424242424242424242424242424242424242424242\n", 65), 65);
	close(fd);
	o.key_file = keyf;
	text = setup_render(&o);
	assert_non_null(text);
	if (config_load_string("oracle.conf", text, &c, err, sizeof(err)))
		fail_msg("%s\n%s", err, text);
	assert_true(c.have_key);
	assert_int_equal(c.seckey[0], 0x42);
	assert_string_equal(c.db, o.db);
	assert_int_equal(c.nbrokers, 2);
	assert_string_equal(c.brokers[1], "mqtts://b2.example:8883");
	assert_string_equal(c.ca, o.ca);
	assert_string_equal(c.cert, o.cert);
	assert_string_equal(c.key, o.key);
	assert_string_equal(c.metrics, "127.0.0.1:9478");
	assert_int_equal(c.nnodes, 2);		/* own key once, then the other */
	assert_int_equal(c.ngw, 1);
	assert_string_equal(c.gw[0].id, GW);
	assert_string_equal(c.gw[0].ak, "/etc/attestio/gw/a.bin");
	assert_int_equal(c.nfeeds, 0);
	assert_non_null(strstr(text, "# node id 8191e1c3d1c5889de47f392232499c61"));
	free(text);

	/* without --metrics the status page stays off, only a comment */
	o.metrics = NULL;
	text = setup_render(&o);
	assert_int_equal(config_load_string("oracle.conf", text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.metrics, "");
	assert_non_null(strstr(text, "# listen = 127.0.0.1:9478"));
	free(text);
	unlink(keyf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_render_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

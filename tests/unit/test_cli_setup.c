// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the pure parts of `attestio setup` (user/cli/attestio/
 * setup.c, built in): the gateway id from the EK public area, the checks of
 * --oracle and --node, the configuration text and its template detection.
 * Run from the top of the tree (it reads the packaged attestiod.conf).
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

#include "firstrun.h"
#include "setup.h"

static void gateway_id_hashes_the_public_area(void **state)
{
	uint8_t pub[42];
	char id[33];
	int i;

	(void)state;
	pub[0] = 0;
	pub[1] = 40;
	for (i = 0; i < 40; i++)
		pub[2 + i] = (uint8_t)(i + 1);
	assert_int_equal(setup_gateway_id(pub, sizeof(pub), id), 0);
	/* SHA-256 of bytes 1..40, first 16 bytes (computed independently) */
	assert_string_equal(id, "5620dcd4c0ab4736a35122b1973e2d5d");
}

static void gateway_id_refuses_a_bad_size(void **state)
{
	uint8_t pub[42] = { 0, 41 };
	char id[33];

	(void)state;
	assert_int_equal(setup_gateway_id(pub, sizeof(pub), id), -1);
	pub[1] = 39;
	assert_int_equal(setup_gateway_id(pub, sizeof(pub), id), -1);
	assert_int_equal(setup_gateway_id(pub, 2, id), -1);
}

static void broker_urls(void **state)
{
	char why[200];

	(void)state;
	assert_int_equal(setup_check_broker("mqtts://broker.example.net:8883", why, sizeof(why)), 0);
	assert_int_equal(setup_check_broker("mqtt://127.0.0.1:1883", why, sizeof(why)), 0);
	assert_int_equal(setup_check_broker("https://x:1", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "mqtts://HOST:PORT"));
	assert_int_equal(setup_check_broker("mqtts://host", why, sizeof(why)), -1);
	assert_int_equal(setup_check_broker("mqtts://:8883", why, sizeof(why)), -1);
	assert_int_equal(setup_check_broker("mqtts://h:0", why, sizeof(why)), -1);
	assert_int_equal(setup_check_broker("mqtts://h:65536", why, sizeof(why)), -1);
	assert_int_equal(setup_check_broker("mqtts://h:88x", why, sizeof(why)), -1);
	assert_int_equal(setup_check_broker("mqtts://h\nx:1", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "bad character"));
}

static void node_keys(void **state)
{
	char k[131];

	(void)state;
	memset(k, 'a', 130);
	k[130] = 0;
	k[0] = '0';
	k[1] = '4';
	assert_true(setup_node_key_ok(k));
	k[1] = '2';
	assert_false(setup_node_key_ok(k));
	k[1] = '4';
	k[77] = 'g';
	assert_false(setup_node_key_ok(k));
	k[77] = 'a';
	k[129] = 0;
	assert_false(setup_node_key_ok(k));
}

static void config_text(void **state)
{
	struct setup_conf c = {
		.gateway_id = "00112233445566778899aabbccddeeff",
		.brokers = { "mqtts://a:8883", "mqtts://b:8883" }, .n_brokers = 2,
		.nodes = { "04aa" }, .n_nodes = 1,
		.ca = "/etc/attestio/ca.pem", .cert = "/etc/attestio/gateway.pem",
		.key = "/etc/attestio/gateway.key",
	};
	char *t = setup_render_config(&c);

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, "\nid = 00112233445566778899aabbccddeeff\n"));
	assert_non_null(strstr(t, "\nbroker = mqtts://a:8883\nbroker = mqtts://b:8883\n"));
	assert_non_null(strstr(t, "\nca = /etc/attestio/ca.pem\n"));
	assert_non_null(strstr(t, "\ncert = /etc/attestio/gateway.pem\n"));
	assert_non_null(strstr(t, "\nkey = /etc/attestio/gateway.key\n"));
	assert_non_null(strstr(t, "\nnode = 04aa\n"));
	assert_null(strstr(t, "# node = 04...\n"));
	assert_false(fr_config_is_template(t));
	free(t);
	c.n_nodes = 0;
	t = setup_render_config(&c);
	assert_non_null(t);
	assert_null(strstr(t, "\nnode = "));
	assert_non_null(strstr(t, "# node = 04...\n"));
	free(t);
}

static void template_detection(void **state)
{
	FILE *f = fopen("user/attestiod/attestiod.conf", "r");
	char buf[8192];
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_true(fr_config_is_template(buf));
	assert_true(fr_config_is_template(""));
	assert_true(fr_config_is_template("# x\n\n  ; y\n[gateway]\n"));
	assert_false(fr_config_is_template("[gateway]\nid = 1\n"));
	assert_false(fr_config_is_template("# x\n  id=1"));
}

/* The progress line of a blocking step: redrawn each second, cleared at
 * the end; nothing on a non-terminal or with --json. */
static void progress_line(void **state)
{
	struct fr_run r = { .prog = "test" };
	struct fr_progress p;
	char buf[512];
	ssize_t n;
	int fd[2];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	fr_progress_begin(&p, &r, fd[1], true, "provision", "creating the key");
	usleep(1300 * 1000);
	fr_progress_end(&p);
	n = read(fd[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, "\rprovision    creating the key... 0 s"));
	assert_non_null(strstr(buf, "\rprovision    creating the key... 1 s"));
	assert_true(n >= 4 && !strcmp(buf + n - 4, "\r\033[K"));

	fr_progress_begin(&p, &r, fd[1], false, "provision", "x");	/* a pipe */
	fr_progress_end(&p);
	r.json = true;
	fr_progress_begin(&p, &r, fd[1], true, "provision", "x");
	usleep(200 * 1000);
	fr_progress_end(&p);
	close(fd[1]);
	assert_int_equal(read(fd[0], buf, sizeof(buf)), 0);
	close(fd[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gateway_id_hashes_the_public_area),
		cmocka_unit_test(gateway_id_refuses_a_bad_size),
		cmocka_unit_test(broker_urls),
		cmocka_unit_test(node_keys),
		cmocka_unit_test(config_text),
		cmocka_unit_test(template_detection),
		cmocka_unit_test(progress_line),
	};

	return cmocka_run_group_tests_name("cli_setup", tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the status server's request check
 * (user/oracled/http.c): only GET/HEAD of the fixed paths, with no query
 * and no body, reach a handler; everything else gets its 4xx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "oracled.h"

static void test_routes(void **st)
{
	static const struct { const char *url; enum http_route r; } ok[] = {
		{ "/", HTTP_PAGE }, { "/index.html", HTTP_PAGE },
		{ "/status.js", HTTP_JS }, { "/status.css", HTTP_CSS },
		{ "/favicon.svg", HTTP_ICON },
		{ "/api/v1/status", HTTP_API }, { "/metrics", HTTP_METRICS },
	};
	enum http_route r;

	(void)st;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		r = (enum http_route)-1;
		assert_int_equal(http_route("GET", ok[i].url, 0, 0, &r), 200);
		assert_int_equal(r, ok[i].r);
		assert_int_equal(http_route("HEAD", ok[i].url, 0, 0, &r), 200);
	}
}

static void test_refused(void **st)
{
	enum http_route r = HTTP_PAGE;
	char longurl[HTTP_URL_MAX + 2];

	(void)st;
	/* read only: other methods, on a known path */
	assert_int_equal(http_route("POST", "/api/v1/status", 0, 0, &r), 405);
	assert_int_equal(http_route("PUT", "/", 0, 0, &r), 405);
	assert_int_equal(http_route("get", "/", 0, 0, &r), 405);
	/* unknown paths, traversal, prefixes, case */
	assert_int_equal(http_route("GET", "/api/v1/status/", 0, 0, &r), 404);
	assert_int_equal(http_route("GET", "/../etc/passwd", 0, 0, &r), 404);
	assert_int_equal(http_route("GET", "/METRICS", 0, 0, &r), 404);
	assert_int_equal(http_route("GET", "/api", 0, 0, &r), 404);
	/* query arguments, a body, odd bytes, no leading slash */
	assert_int_equal(http_route("GET", "/", 1, 0, &r), 400);
	assert_int_equal(http_route("GET", "/", 0, 1, &r), 400);
	assert_int_equal(http_route("GET", "/status.js\x01", 0, 0, &r), 400);
	assert_int_equal(http_route("GET", "/a b", 0, 0, &r), 400);
	assert_int_equal(http_route("GET", "/\xc3\xa9", 0, 0, &r), 400);
	assert_int_equal(http_route("GET", "metrics", 0, 0, &r), 400);
	assert_int_equal(http_route("GET", "", 0, 0, &r), 400);
	assert_int_equal(http_route(NULL, "/", 0, 0, &r), 400);
	/* too long, even if it would otherwise be fine */
	memset(longurl, '/', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = 0;
	assert_int_equal(http_route("GET", longurl, 0, 0, &r), 414);
	/* nothing refused touched the route */
	assert_int_equal(r, HTTP_PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

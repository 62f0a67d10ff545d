// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka suite for the status server's request check
 * (user/oracled/http.c): only GET/HEAD of the fixed paths and of the
 * per-round downloads (strict FEED/ROUND), with no query and no body,
 * reach a handler; everything else gets its 4xx.
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
	struct http_arg a;

	(void)st;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		r = (enum http_route)-1;
		assert_int_equal(http_route("GET", ok[i].url, 0, 0, &r, &a), 200);
		assert_int_equal(r, ok[i].r);
		assert_int_equal(http_route("HEAD", ok[i].url, 0, 0, &r, &a), 200);
	}
}

static void test_refused(void **st)
{
	enum http_route r = HTTP_PAGE;
	struct http_arg a = { "untouched", 7 };
	char longurl[HTTP_URL_MAX + 2];

	(void)st;
	/* read only: other methods, on a known path */
	assert_int_equal(http_route("POST", "/api/v1/status", 0, 0, &r, &a), 405);
	assert_int_equal(http_route("PUT", "/", 0, 0, &r, &a), 405);
	assert_int_equal(http_route("get", "/", 0, 0, &r, &a), 405);
	/* unknown paths, traversal, prefixes, case */
	assert_int_equal(http_route("GET", "/api/v1/status/", 0, 0, &r, &a), 404);
	assert_int_equal(http_route("GET", "/../etc/passwd", 0, 0, &r, &a), 404);
	assert_int_equal(http_route("GET", "/METRICS", 0, 0, &r, &a), 404);
	assert_int_equal(http_route("GET", "/api", 0, 0, &r, &a), 404);
	/* query arguments, a body, odd bytes, no leading slash */
	assert_int_equal(http_route("GET", "/", 1, 0, &r, &a), 400);
	assert_int_equal(http_route("GET", "/", 0, 1, &r, &a), 400);
	assert_int_equal(http_route("GET", "/status.js\x01", 0, 0, &r, &a), 400);
	assert_int_equal(http_route("GET", "/a b", 0, 0, &r, &a), 400);
	assert_int_equal(http_route("GET", "/\xc3\xa9", 0, 0, &r, &a), 400);
	assert_int_equal(http_route("GET", "metrics", 0, 0, &r, &a), 400);
	assert_int_equal(http_route("GET", "", 0, 0, &r, &a), 400);
	assert_int_equal(http_route(NULL, "/", 0, 0, &r, &a), 400);
	/* too long, even if it would otherwise be fine */
	memset(longurl, '/', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = 0;
	assert_int_equal(http_route("GET", longurl, 0, 0, &r, &a), 414);
	/* nothing refused touched the route */
	assert_int_equal(r, HTTP_PAGE);
	assert_string_equal(a.feed, "untouched");
	assert_int_equal(a.round, 7);
}

static void test_downloads(void **st)
{
	static const char *const bad[] = {
		"/api/v1/bundle/", "/api/v1/bundle/temp", "/api/v1/bundle/temp/",
		"/api/v1/bundle//3", "/api/v1/bundle/temp/03", "/api/v1/bundle/temp/-3",
		"/api/v1/bundle/temp/+3", "/api/v1/bundle/temp/3/", "/api/v1/bundle/temp/3x",
		"/api/v1/bundle/temp/3.bundle", "/api/v1/bundle/../3", "/api/v1/bundle/./3",
		"/api/v1/bundle/a/b/3", "/api/v1/bundle/te%2fmp/3", "/api/v1/bundle/te:mp/3",
		"/api/v1/final/temp/9223372036854775808", "/api/v1/final/temp/18446744073709551616",
		"/api/v1/final/temp/99999999999999999999", "/api/v1/bundles/temp/3",
		"/api/v1/bundle/0123456789012345678901234567890123456789012345678901234567890123/1",
	};
	enum http_route r = HTTP_PAGE;
	struct http_arg a = { "untouched", 7 };

	(void)st;
	assert_int_equal(http_route("GET", "/api/v1/bundle/temp.1_x-2/42", 0, 0, &r, &a), 200);
	assert_int_equal(r, HTTP_BUNDLE);
	assert_string_equal(a.feed, "temp.1_x-2");
	assert_int_equal(a.round, 42);
	assert_int_equal(http_route("HEAD", "/api/v1/final/t/0", 0, 0, &r, &a), 200);
	assert_int_equal(r, HTTP_FINAL);
	assert_string_equal(a.feed, "t");
	assert_int_equal(a.round, 0);
	assert_int_equal(http_route("GET", "/api/v1/final/..x/9223372036854775807", 0, 0,
				    &r, &a), 200);
	assert_string_equal(a.feed, "..x");
	assert_int_equal(a.round, INT64_MAX);
	/* 63 characters: the longest feed name config.c admits */
	assert_int_equal(http_route("GET", "/api/v1/bundle/"
				    "012345678901234567890123456789012345678901234567890123456789012/1",
				    0, 0, &r, &a), 200);
	assert_int_equal(strlen(a.feed), 63);
	r = HTTP_PAGE;
	a.feed[0] = 'Z';
	a.round = 7;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_route("GET", bad[i], 0, 0, &r, &a), 404);
	assert_int_equal(http_route("POST", "/api/v1/bundle/temp/3", 0, 0, &r, &a), 405);
	assert_int_equal(http_route("GET", "/api/v1/bundle/temp/3", 1, 0, &r, &a), 400);
	assert_int_equal(http_route("GET", "/api/v1/bundle/temp/3", 0, 9, &r, &a), 400);
	assert_int_equal(r, HTTP_PAGE);
	assert_int_equal(a.feed[0], 'Z');
	assert_int_equal(a.round, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_downloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the status server's request check
 * (user/oracled/http.c).  Input: method NUL url NUL nargs body.  Whatever
 * it accepts is GET or HEAD of one of the fixed paths, or of a download
 * whose URL is exactly PREFIX FEED/ROUND re-printed from what it parsed,
 * with no query and no body; everything else is a 4xx.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oracled.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[256];
	const char *method, *url;
	enum http_route r;
	struct http_arg a = { "", -1 };
	char again[HTTP_URL_MAX * 2];
	unsigned int nargs = 0;
	size_t body = 0, ml;
	int code;

	if (size + 1 >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	method = buf;
	ml = strlen(method);
	url = ml < size ? buf + ml + 1 : "";
	if (ml + 1 + strlen(url) + 1 < size) {
		nargs = (unsigned char)buf[ml + strlen(url) + 2] & 3;
		body = (unsigned char)buf[ml + strlen(url) + 2] >> 6;
	}
	code = http_route(method, url, nargs, body, &r, &a);
	if (code == 200) {
		if ((strcmp(method, "GET") && strcmp(method, "HEAD")) || nargs || body ||
		    url[0] != '/' || strlen(url) > HTTP_URL_MAX)
			abort();
		if (r > HTTP_BUNDLE)
			abort();
		if (r == HTTP_FINAL || r == HTTP_BUNDLE) {
			/* feed and round round-trip to the very URL */
			snprintf(again, sizeof(again), "/api/v1/%s/%s/%" PRId64,
				 r == HTTP_FINAL ? "final" : "bundle", a.feed, a.round);
			if (strcmp(again, url) || a.round < 0 || !a.feed[0] ||
			    strspn(a.feed, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_.-") != strlen(a.feed) ||
			    !strcmp(a.feed, ".") || !strcmp(a.feed, ".."))
				abort();
		} else if (strstr(url, "..")) {
			abort();
		}
	} else if (code != 400 && code != 404 && code != 405 && code != 414) {
		abort();
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The status server's request check, apart from libmicrohttpd (which
 * parses HTTP) so that unit tests and a fuzzer drive it: read-only GET or
 * HEAD of one of a fixed set of paths, or of a per-round download
 * (/api/v1/final/FEED/ROUND, /api/v1/bundle/FEED/ROUND) whose two
 * segments are checked byte by byte; no query, no body.  Everything else
 * is refused before any handler runs.
 */
#include <stdint.h>
#include <string.h>

#include "oracled.h"

static const struct {
	const char *path;
	enum http_route route;
} routes[] = {
	{ "/", HTTP_PAGE },
	{ "/index.html", HTTP_PAGE },
	{ "/status.js", HTTP_JS },
	{ "/status.css", HTTP_CSS },
	{ "/favicon.svg", HTTP_ICON },
	{ "/api/v1/status", HTTP_API },
	{ "/metrics", HTTP_METRICS },
};

static const struct {
	const char *prefix;
	enum http_route route;
} downloads[] = {
	{ "/api/v1/final/", HTTP_FINAL },
	{ "/api/v1/bundle/", HTTP_BUNDLE },
};

#define FEED_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/* "FEED/ROUND" (the rest of the URL after a download prefix) into @a;
 * false if it is anything else. */
static bool feed_round(const char *s, struct http_arg *a)
{
	size_t fl = strspn(s, FEED_CHARS);
	const char *d = s + fl + 1;
	size_t dl;
	uint64_t r = 0;

	if (fl == 0 || fl >= sizeof(a->feed) || s[fl] != '/' ||
	    (fl == 1 && s[0] == '.') || (fl == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	dl = strspn(d, "0123456789");
	if (dl == 0 || d[dl] || dl > 19 || (d[0] == '0' && dl > 1))
		return false;
	for (size_t i = 0; i < dl; i++)
		r = r * 10 + (uint64_t)(d[i] - '0');	/* < 10^19 < 2^64 */
	if (r > INT64_MAX)
		return false;
	memcpy(a->feed, s, fl);
	a->feed[fl] = 0;
	a->round = (int64_t)r;
	return true;
}

int http_route(const char *method, const char *url, unsigned int nargs,
	       size_t body, enum http_route *route, struct http_arg *arg)
{
	struct http_arg a;
	size_t n;

	if (!method || !url)
		return 400;
	n = strnlen(url, HTTP_URL_MAX + 1);
	if (n > HTTP_URL_MAX)
		return 414;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return 400;
	if (url[0] != '/' || nargs || body)
		return 400;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(url, routes[i].path)) {
			if (strcmp(method, "GET") && strcmp(method, "HEAD"))
				return 405;
			*route = routes[i].route;
			return 200;
		}
	for (size_t i = 0; i < sizeof(downloads) / sizeof(downloads[0]); i++) {
		size_t pl = strlen(downloads[i].prefix);

		if (strncmp(url, downloads[i].prefix, pl) || !feed_round(url + pl, &a))
			continue;
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return 405;
		*route = downloads[i].route;
		*arg = a;
		return 200;
	}
	return 404;
}

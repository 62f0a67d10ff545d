// SPDX-License-Identifier: GPL-2.0
/*
 * The status server's request check, apart from libmicrohttpd (which
 * parses HTTP) so that unit tests and a fuzzer drive it: read-only GET or
 * HEAD of one of a fixed set of paths, no query, no body.  Everything
 * else is refused before any handler runs.
 */
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

int http_route(const char *method, const char *url, unsigned int nargs,
	       size_t body, enum http_route *route)
{
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
	return 404;
}

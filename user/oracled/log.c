// SPDX-License-Identifier: GPL-2.0
/* attestio-oracle's log: stderr, one line per event (journald adds the time). */
#include <stdarg.h>
#include <stdio.h>

#include "oracled.h"

void od_log(const char *fmt, ...)
{
	va_list ap;

	fputs("attestio-oracle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

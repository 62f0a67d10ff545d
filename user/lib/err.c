// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error codes and messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *att_code_name(int code)
{
	switch (code) {
	case ATT_OK:		return "ok";
	case ATT_EPARSE:	return "malformed";
	case ATT_ESEQ:		return "sequence";
	case ATT_ECHAIN:	return "chain";
	case ATT_EQUOTE:	return "quote";
	case ATT_ESIG:		return "signature";
	case ATT_EREPLAY:	return "replay";
	case ATT_EPOLICY:	return "policy";
	case ATT_EUNSIGNED:	return "unsigned";
	case ATT_EKEY:		return "key";
	case ATT_EIO:		return "i/o";
	case ATT_ENOMEM:	return "out of memory";
	case ATT_ETPM:		return "tpm";
	case ATT_EINVAL:	return "invalid argument";
	}
	return "unknown";
}

static void att_verr(struct att_err *err, int code, const char *fmt,
		     va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int att_err(struct att_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	memset(err, 0, sizeof(*err));
	va_start(ap, fmt);
	att_verr(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int att_rerr(struct att_err *err, int code, uint32_t stream, uint64_t seq,
	     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	err->stream = stream;
	err->seq = seq;
	err->has_record = 1;
	n = snprintf(err->msg, sizeof(err->msg), "stream %u seq %llu: ",
		     stream, (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

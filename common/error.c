/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "error.h"

int mt_error_set(struct mt_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->code != 0)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

const char *mt_error_message(const struct mt_error *err, int code)
{
	if (err && err->code != 0 && err->message[0])
		return err->message;
	return strerror(code < 0 ? -code : code);
}

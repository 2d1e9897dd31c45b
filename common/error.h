/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error reports from library code: a negative errno plus a message naming
 * what was wrong (file, line, field). Library code never prints; callers
 * decide whether and where to show the message. */
#pragma once

#include "macro.h"

#define MT_ERROR_MAX 512

struct mt_error {
	int code;                     /* negative errno, 0 when unset */
	char message[MT_ERROR_MAX];
};

/* Record an error (the first one wins) and return code, which must be a
 * negative errno. err may be NULL. */
int mt_error_set(struct mt_error *err, int code, const char *fmt, ...) _printf_(3, 4);

/* Message of err, or strerror(-code) when none was recorded. */
const char *mt_error_message(const struct mt_error *err, int code);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name tables of enums: an array of strings indexed by the enum value,
 * looked up both ways. Shared by the model (policy/) and the daemon's
 * records, so every enum is spelled and parsed the same way. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The name of value v, or NULL when v is outside the table or unnamed. */
static inline const char *strtable_name(const char *const *names, size_t n, long v)
{
	return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

/* The value named s, or -EINVAL when s is NULL or not in the table. */
static inline int strtable_index(const char *const *names, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by every part of memtype: cleanup attributes and
 * ownership transfer, in the style of systemd's and kmod's macro.h. */
#pragma once

#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand a pointer over to a new owner, leaving NULL behind. */
#define TAKE_PTR(p)                                \
	({                                         \
		__typeof__(p) _tp_ = (p);          \
		(p) = NULL;                        \
		_tp_;                              \
	})

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
	static inline void func##p(type *p)             \
	{                                               \
		if (*p)                                 \
			func(*p);                       \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline int negative_errno(int e)
{
	return e > 0 ? -e : (e < 0 ? e : -EIO);
}

#define streq(a, b) (strcmp((a), (b)) == 0)

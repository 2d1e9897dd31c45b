/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded file reads used by the readers of host roots and input files,
 * and a complete write. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Read at most max bytes of path into a NUL-terminated buffer. Returns
 * -EFBIG when the file is larger than max, -errno on other failures. */
int read_file_bounded(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Write all of buf to fd, across short writes and EINTR. 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Read the first line of a small text file (trailing newline stripped). */
int read_one_line(const char *path, char *buf, size_t size);

/* Parse a whole string as an unsigned number in base (0: auto). -EINVAL on
 * garbage, -ERANGE on overflow. */
int parse_u64(const char *s, int base, uint64_t *ret);

/* Join root and an absolute path ("/sys/...") into buf; root "/" or NULL
 * leaves path as is. -ENAMETOOLONG when it does not fit. */
int root_path(const char *root, const char *path, char *buf, size_t size);

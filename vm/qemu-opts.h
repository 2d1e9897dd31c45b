/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU's option syntax, as used by -device/-set/-global arguments passed
 * through <qemu:commandline>: "driver,key=value,..." where ",," is a literal
 * comma, sizes with 1024-based suffixes, and QEMU's boolean words. Pure
 * functions, no libxml2. Internal to libmtvm.a. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qemu_opt {
	char *key;
	char *value;
};

struct qemu_opts {
	struct qemu_opt *opts;
	size_t n_opts;
};

/* Split s into key=value pairs. A first element without '=' is given the
 * key implied_key (may be NULL: then it is read as a flag); any other
 * element without '=' is a flag: "foo" means foo=on, "nofoo" foo=off. A
 * lone trailing ',' is ignored as QEMU does. -EINVAL on an empty key. */
int qemu_opts_parse(const char *s, const char *implied_key, struct qemu_opts *ret);
void qemu_opts_done(struct qemu_opts *opts);
/* Value of the last occurrence of key (QEMU lets the last one win). */
const char *qemu_opts_get(const struct qemu_opts *opts, const char *key);

/* A QEMU size (qemu_strtosz): decimal with an optional fraction, or 0x hex,
 * followed by an optional B, K, M, G, T, P or E suffix in either case,
 * 1024-based. -EINVAL when malformed, -ERANGE on overflow. */
int qemu_parse_size(const char *s, uint64_t *ret);

/* QEMU's booleans: on/yes/true/y and off/no/false/n. -EINVAL otherwise. */
int qemu_parse_bool(const char *s, bool *ret);

/* The virtio-gpu device family: virtio-gpu-pci, virtio-gpu-gl-pci,
 * virtio-vga, virtio-vga-gl, virtio-gpu-rutabaga-pci, ... */
bool qemu_driver_is_virtio_gpu(const char *driver);

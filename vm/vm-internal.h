/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the files of vm/: reading libvirt domain XML elements
 * and attributes, and reporting errors with the line they come from.
 * Internal to libmtvm.a; the tests include it to test the helpers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "common/error.h"
#include "policy/model.h"

#define QEMU_NS_URI "http://libvirt.org/schemas/domain/qemu/1.0"

static inline void xml_freep(void *p)
{
	xmlFree(*(void **)p);
}
#define _cleanup_xml_free_ _cleanup_(xml_freep)

/* Record err as "domain XML line N: <what>" for node n; returns code. */
int vm_xml_error(struct mt_error *err, const xmlNode *n, int code, const char *fmt, ...)
	_printf_(4, 5);

/* An element of libvirt's core schema (no namespace) named name. */
bool xml_is(const xmlNode *n, const char *name);
/* An element named name in the namespace with URI ns_uri. */
bool xml_is_ns(const xmlNode *n, const char *ns_uri, const char *name);
/* First core-schema child element of parent named name, or NULL. */
xmlNode *xml_child(const xmlNode *parent, const char *name);

/* Attribute (in no namespace) of n as a string to free with xmlFree(), or
 * NULL when absent. */
char *xml_attr(const xmlNode *n, const char *name);

/* Copy attribute name of n into buf. Returns 1 when copied, 0 when absent
 * (buf untouched), -ENAMETOOLONG when it does not fit. */
int xml_attr_copy(const xmlNode *n, const char *name, char *buf, size_t size,
		  struct mt_error *err);

/* A yes/no or on/off attribute. 1 when present, 0 when absent (ret
 * untouched), -EINVAL for any other value. */
int xml_attr_bool(const xmlNode *n, const char *name, bool *ret, struct mt_error *err);

/* An unsigned number attribute in base (0: 0x hex, 0 octal or decimal, as
 * libvirt's virStrToLong_ui does), at most max. 1 when present, 0 when
 * absent (ret untouched), -EINVAL/-ERANGE when malformed or above max. */
int xml_attr_u64(const xmlNode *n, const char *name, int base, uint64_t max,
		 uint64_t *ret, struct mt_error *err);

/* Text content of n with surrounding white space removed, to free with
 * free(); NULL on ENOMEM. */
char *xml_text(const xmlNode *n);

/* Canonical lower-case UUID ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") from the
 * canonical form or 32 hex digits, in either case. -EINVAL otherwise. */
int uuid_normalize(const char *in, char out[MT_UUID_MAX]);

/* value scaled by a libvirt unit (virScaleInteger): "b"/"bytes" = 1,
 * "k"/"KiB" = 1024, "KB" = 1000, likewise M, G, T, P, E; unit NULL or ""
 * means bytes. -EINVAL for an unknown unit, -ERANGE on overflow. */
int libvirt_scale(uint64_t value, const char *unit, uint64_t *ret);

/* Append a zeroed element of size bytes to *array of *n elements; NULL on
 * ENOMEM (array untouched). */
void *array_append(void *array, size_t *n, size_t size);

/* Parse each part of a domain; vm_parse_devices reads <devices>,
 * vm_parse_qemu_extensions reads <qemu:commandline> and <qemu:override>
 * (after vm_parse_devices, as it refers to the <video> devices). */
int vm_parse_devices(const xmlNode *domain, struct vm *vm, struct mt_error *err);
int vm_parse_qemu_extensions(const xmlNode *domain, struct vm *vm, struct mt_error *err);

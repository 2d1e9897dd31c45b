/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM model from libvirt domain XML (libxml2), parsed with no network
 * access, no entity expansion, and limits on size and depth. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "policy/model.h"

#define VM_XML_MAX_BYTES (4u << 20)
#define VM_XML_MAX_DEPTH 64
#define VM_MAX_DEVICES 256      /* hostdevs, videos, shmems: each */

int vm_parse_xml(const char *buf, size_t len, struct vm **ret, struct mt_error *err);
int vm_parse_xml_file(const char *path, struct vm **ret, struct mt_error *err);
void vm_free(struct vm *vm);

struct json_object;
int vm_to_json(const struct vm *vm, struct json_object **ret);

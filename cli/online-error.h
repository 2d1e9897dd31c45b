/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How memtypectl and the libvirt hook name memtyped's varlink errors: the
 * message for an error reply and the exit code it maps to. Depends on
 * json-c only, so the hook binary can use it. */
#pragma once

#include <stddef.h>

struct json_object;

#define MANAGER_METHOD(m) "io.memtype.Manager." m

/* "io.memtype.Manager.Plan" -> "Plan". */
const char *method_short_name(const char *method);

/* The message for a varlink error reply to method (with its parameters),
 * in buf; returns the exit code that error maps to. */
int online_error_message(const char *method, const char *error, struct json_object *parameters,
			 char *buf, size_t size);

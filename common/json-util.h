/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for building JSON documents with json-c: every adder takes over
 * the value it is given, even on failure, so that a chain of them can stop
 * at the first error without leaking. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"
#include "policy/model.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Add v under key to object o. v is consumed; NULL v is a failed
 * allocation and gives -ENOMEM (json null goes through mt_json_add_null()). */
int mt_json_add(struct json_object *o, const char *key, struct json_object *v);

/* Append v to array a, with the same rules as mt_json_add(). */
int mt_json_append(struct json_object *a, struct json_object *v);

int mt_json_add_null(struct json_object *o, const char *key);
int mt_json_add_bool(struct json_object *o, const char *key, bool b);
int mt_json_add_u64(struct json_object *o, const char *key, uint64_t v);

/* s must not be NULL (-EINVAL); see mt_json_add_string_or_null(). */
int mt_json_add_string(struct json_object *o, const char *key, const char *s);

/* s, or json null when s is NULL or "" (an unset field). */
int mt_json_add_string_or_null(struct json_object *o, const char *key, const char *s);

/* true/false, or json null for MT_UNKNOWN. */
int mt_json_add_tristate(struct json_object *o, const char *key, enum mt_tristate t);

/* "0x..." in lower case: 64-bit registers and masks do not survive JSON
 * numbers in every reader. */
struct json_object *mt_json_new_hex(uint64_t v);
int mt_json_add_hex(struct json_object *o, const char *key, uint64_t v);

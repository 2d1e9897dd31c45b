/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The json-c helpers of json-util.h, shared by the host, VM, policy and
 * plan documents. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"

int mt_json_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int mt_json_append(struct json_object *a, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int mt_json_add_null(struct json_object *o, const char *key)
{
	/* json-c 0.16 has no null object: a NULL value is json null. */
	return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
}

int mt_json_add_string(struct json_object *o, const char *key, const char *s)
{
	if (!s)
		return -EINVAL;
	return mt_json_add(o, key, json_object_new_string(s));
}

int mt_json_add_bool(struct json_object *o, const char *key, bool b)
{
	return mt_json_add(o, key, json_object_new_boolean(b));
}

int mt_json_add_u64(struct json_object *o, const char *key, uint64_t v)
{
	return mt_json_add(o, key, json_object_new_uint64(v));
}

int mt_json_add_string_or_null(struct json_object *o, const char *key, const char *s)
{
	if (!s || !*s)
		return mt_json_add_null(o, key);
	return mt_json_add_string(o, key, s);
}

int mt_json_add_tristate(struct json_object *o, const char *key, enum mt_tristate t)
{
	if (t == MT_UNKNOWN)
		return mt_json_add_null(o, key);
	return mt_json_add_bool(o, key, t == MT_YES);
}

struct json_object *mt_json_new_hex(uint64_t v)
{
	char buf[sizeof("0x") + 16];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

int mt_json_add_hex(struct json_object *o, const char *key, uint64_t v)
{
	return mt_json_add(o, key, mt_json_new_hex(v));
}

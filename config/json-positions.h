/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Line and column of every value of a JSON text, looked up by JSON pointer
 * ("/vms/0/quirks/IGNORE_GUEST_PAT"). json-c keeps no positions, so policy
 * errors get their file:line from this second, strict walk of the same text,
 * which also catches what json-c lets through: duplicate keys, single-quoted
 * strings, NaN, raw control characters, \u0000 and lone surrogates. */
#pragma once

#include <stddef.h>

struct json_position {
	unsigned line;                 /* 1-based */
	unsigned column;               /* 1-based, in characters */
};

struct json_scan_error {
	struct json_position pos;
	char message[192];
};

struct json_positions;

/* Position of byte offset in text (offset may be len: end of input). */
struct json_position json_text_position(const char *text, size_t offset);

/* Check that text has no NUL byte and is valid UTF-8 (no overlong forms,
 * surrogates or code points above U+10FFFF). -EBADMSG with err filled. */
int json_text_check_encoding(const char *text, size_t len, struct json_scan_error *err);

/* Scan text (one JSON value, at most max_depth nested containers). Object
 * members are placed at their key, array elements at their first character.
 * Returns 0, -ENOMEM, -EBADMSG (not strict JSON, too deep) or -ENOTUNIQ (a
 * key repeated in one object); err names what and where. */
int json_positions_scan(const char *text, size_t len, unsigned max_depth,
			struct json_positions **ret, struct json_scan_error *err);

/* Position of the value at pointer ("" is the whole document). -ENOENT. */
int json_positions_find(const struct json_positions *m, const char *pointer,
			struct json_position *ret);

/* Position of member key (unescaped) of the object at pointer. -ENOENT. */
int json_positions_find_child(const struct json_positions *m, const char *pointer,
			      const char *key, struct json_position *ret);

struct json_positions *json_positions_free(struct json_positions *m);

/* s made safe to quote in a one-line message: control characters and '"'
 * become '?', long text is cut (at a character boundary) with "...". */
void json_excerpt(const char *s, char *buf, size_t size);

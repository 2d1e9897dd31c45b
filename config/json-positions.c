/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small strict JSON scanner that records where each value is, so that the
 * policy validator can say "memtype.json:7" about a value json-c parsed. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "json-positions.h"

#define NO_PARENT SIZE_MAX

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

struct pos_entry {
	size_t parent;                 /* entry index, NO_PARENT for the root */
	size_t name;                   /* offset of the key (or index) in names */
	struct json_position pos;
};

struct json_positions {
	struct pos_entry *entries;     /* in document order */
	size_t n_entries, cap_entries;
	char *names;                   /* NUL-terminated keys, back to back */
	size_t names_len, names_cap;
	size_t *sorted;                /* entry indices by (parent, name, index) */
};

struct scanner {
	const char *text;
	size_t len, at;
	struct json_position pos;      /* of text[at] */
	unsigned max_depth;
	struct json_positions *map;
	struct json_scan_error *err;
};

struct json_position json_text_position(const char *text, size_t offset)
{
	struct json_position p = { 1, 1 };

	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n') {
			p.line++;
			p.column = 1;
		} else if ((c & 0xc0) != 0x80) {
			p.column++;
		}
	}
	return p;
}

static void set_error(struct json_scan_error *err, struct json_position pos, const char *fmt, ...)
	_printf_(3, 4);
static void set_error(struct json_scan_error *err, struct json_position pos, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Length of the UTF-8 sequence at t (at most len bytes), 0 if invalid. */
static size_t utf8_sequence_length(const unsigned char *t, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (t[0] < 0x80)
		return 1;
	if (t[0] >= 0xc2 && t[0] <= 0xdf)
		n = 2;
	else if (t[0] >= 0xe0 && t[0] <= 0xef)
		n = 3;
	else if (t[0] >= 0xf0 && t[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms, UTF-16 surrogates
	 * and code points above U+10FFFF. */
	if (t[0] == 0xe0)
		lo = 0xa0;
	else if (t[0] == 0xed)
		hi = 0x9f;
	else if (t[0] == 0xf0)
		lo = 0x90;
	else if (t[0] == 0xf4)
		hi = 0x8f;
	if (len < n || t[1] < lo || t[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((t[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

int json_text_check_encoding(const char *text, size_t len, struct json_scan_error *err)
{
	const unsigned char *t = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		size_t n;

		if (t[i] == '\0') {
			set_error(err, json_text_position(text, i), "NUL byte in file");
			return -EBADMSG;
		}
		n = utf8_sequence_length(t + i, len - i);
		if (n == 0) {
			set_error(err, json_text_position(text, i), "invalid UTF-8");
			return -EBADMSG;
		}
		i += n;
	}
	return 0;
}

static int scan_fail_at(struct scanner *s, struct json_position pos, int code, const char *fmt, ...)
	_printf_(4, 5);
static int scan_fail_at(struct scanner *s, struct json_position pos, int code, const char *fmt, ...)
{
	va_list ap;

	if (s->err) {
		s->err->pos = pos;
		va_start(ap, fmt);
		vsnprintf(s->err->message, sizeof(s->err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

#define scan_fail(s, code, ...) scan_fail_at((s), (s)->pos, (code), __VA_ARGS__)

static int peek(const struct scanner *s)
{
	return s->at < s->len ? (unsigned char)s->text[s->at] : -1;
}

static void advance(struct scanner *s)
{
	unsigned char c = (unsigned char)s->text[s->at++];

	if (c == '\n') {
		s->pos.line++;
		s->pos.column = 1;
	} else if ((c & 0xc0) != 0x80) {
		s->pos.column++;
	}
}

static void skip_whitespace(struct scanner *s)
{
	for (int c = peek(s); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(s))
		advance(s);
}

static int unexpected(struct scanner *s, const char *expected)
{
	if (peek(s) < 0)
		return scan_fail(s, -EBADMSG, "JSON syntax error: unexpected end of input, expected %s",
				 expected);
	return scan_fail(s, -EBADMSG, "JSON syntax error: unexpected character '%c', expected %s",
			 peek(s) >= 0x20 && peek(s) < 0x7f ? peek(s) : '?', expected);
}

static int names_append(struct json_positions *m, const char *p, size_t n)
{
	if (m->names_len + n > m->names_cap) {
		size_t cap = max_size(m->names_cap * 2, m->names_len + n + 256);
		char *names = realloc(m->names, cap);

		if (!names)
			return -ENOMEM;
		m->names = names;
		m->names_cap = cap;
	}
	memcpy(m->names + m->names_len, p, n);
	m->names_len += n;
	return 0;
}

static int add_entry(struct json_positions *m, size_t parent, size_t name,
		     struct json_position pos, size_t *ret_index)
{
	if (m->n_entries == m->cap_entries) {
		size_t cap = max_size(m->cap_entries * 2, 64);
		struct pos_entry *e = reallocarray(m->entries, cap, sizeof(*e));

		if (!e)
			return -ENOMEM;
		m->entries = e;
		m->cap_entries = cap;
	}
	m->entries[m->n_entries] = (struct pos_entry){ parent, name, pos };
	*ret_index = m->n_entries++;
	return 0;
}

static int scan_hex4(struct scanner *s, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = peek(s);

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (unsigned)((c | 0x20) - 'a' + 10);
		else
			return unexpected(s, "4 hex digits after \\u");
		advance(s);
	}
	*ret = v;
	return 0;
}

/* \uXXXX, possibly a surrogate pair; the backslash (at start) and 'u' are
 * consumed. */
static int scan_unicode_escape(struct scanner *s, struct json_position start, unsigned *ret)
{
	unsigned cp = 0, low = 0;
	int r;

	r = scan_hex4(s, &cp);
	if (r < 0)
		return r;
	if (cp == 0)
		return scan_fail_at(s, start, -EBADMSG, "\\u0000 (NUL) is not allowed in strings");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return scan_fail_at(s, start, -EBADMSG, "lone UTF-16 low surrogate in \\u escape");
	if (cp < 0xd800 || cp > 0xdbff) {
		*ret = cp;
		return 0;
	}
	if (peek(s) != '\\')
		return scan_fail_at(s, start, -EBADMSG, "lone UTF-16 high surrogate in \\u escape");
	advance(s);
	if (peek(s) != 'u')
		return scan_fail_at(s, start, -EBADMSG, "lone UTF-16 high surrogate in \\u escape");
	advance(s);
	r = scan_hex4(s, &low);
	if (r < 0)
		return r;
	if (low < 0xdc00 || low > 0xdfff)
		return scan_fail_at(s, start, -EBADMSG, "lone UTF-16 high surrogate in \\u escape");
	*ret = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	return 0;
}

static size_t utf8_encode(unsigned cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One escape after the backslash (at start), decoded into out. */
static int scan_escape(struct scanner *s, struct json_position start, char out[4], size_t *ret_len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	unsigned cp = 0;
	int c = peek(s), r;

	if (c == 'u') {
		advance(s);
		r = scan_unicode_escape(s, start, &cp);
		if (r < 0)
			return r;
		*ret_len = utf8_encode(cp, out);
		return 0;
	}
	e = c > 0 ? strchr(from, c) : NULL;
	if (!e)
		return unexpected(s, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)");
	advance(s);
	out[0] = to[e - from];
	*ret_len = 1;
	return 0;
}

/* A string; with keep, its decoded text goes to the names arena. */
static int scan_string(struct scanner *s, bool keep)
{
	advance(s);    /* opening quote */
	for (;;) {
		int c = peek(s), r;
		char buf[4];
		size_t n = 1;

		if (c < 0)
			return unexpected(s, "'\"' to end the string");
		if (c == '"')
			break;
		if (c < 0x20)
			return scan_fail(s, -EBADMSG,
					 "control character in string (write it as an escape)");
		if (c == '\\') {
			struct json_position start = s->pos;

			advance(s);
			r = scan_escape(s, start, buf, &n);
			if (r < 0)
				return r;
		} else {
			buf[0] = (char)c;
			advance(s);
		}
		if (keep && names_append(s->map, buf, n) < 0)
			return -ENOMEM;
	}
	advance(s);    /* closing quote */
	return keep ? names_append(s->map, "", 1) : 0;
}

static void skip_digits(struct scanner *s)
{
	while (peek(s) >= '0' && peek(s) <= '9')
		advance(s);
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int scan_number(struct scanner *s)
{
	if (peek(s) == '-')
		advance(s);
	if (peek(s) == '0')
		advance(s);
	else if (peek(s) >= '1' && peek(s) <= '9')
		skip_digits(s);
	else
		return unexpected(s, "a digit");
	if (peek(s) == '.') {
		advance(s);
		if (peek(s) < '0' || peek(s) > '9')
			return unexpected(s, "a digit after '.'");
		skip_digits(s);
	}
	if (peek(s) == 'e' || peek(s) == 'E') {
		advance(s);
		if (peek(s) == '+' || peek(s) == '-')
			advance(s);
		if (peek(s) < '0' || peek(s) > '9')
			return unexpected(s, "a digit in the exponent");
		skip_digits(s);
	}
	return 0;
}

static int scan_literal(struct scanner *s)
{
	static const char *const literals[] = { "true", "false", "null" };

	for (size_t i = 0; i < ELEMENTSOF(literals); i++) {
		size_t n = strlen(literals[i]);

		if (s->len - s->at >= n && memcmp(s->text + s->at, literals[i], n) == 0) {
			for (size_t j = 0; j < n; j++)
				advance(s);
			return 0;
		}
	}
	return unexpected(s, "a JSON value");
}

static int scan_value(struct scanner *s, size_t self, unsigned depth);

static int scan_member(struct scanner *s, size_t self, unsigned depth)
{
	struct json_position pos = s->pos;
	size_t name = s->map->names_len, child;
	int r;

	if (peek(s) != '"')
		return unexpected(s, "a string key");
	r = scan_string(s, true);
	if (r < 0)
		return r;
	r = add_entry(s->map, self, name, pos, &child);
	if (r < 0)
		return r;
	skip_whitespace(s);
	if (peek(s) != ':')
		return unexpected(s, "':'");
	advance(s);
	skip_whitespace(s);
	return scan_value(s, child, depth);
}

static int scan_element(struct scanner *s, size_t self, size_t index, unsigned depth)
{
	size_t name = s->map->names_len, child;
	char buf[24];
	int r;

	snprintf(buf, sizeof(buf), "%zu", index);
	r = names_append(s->map, buf, strlen(buf) + 1);
	if (r < 0)
		return r;
	r = add_entry(s->map, self, name, s->pos, &child);
	if (r < 0)
		return r;
	return scan_value(s, child, depth);
}

/* Object or array: members (or elements) separated by ',' up to close. */
static int scan_container(struct scanner *s, size_t self, unsigned depth)
{
	bool object = peek(s) == '{';
	char close = object ? '}' : ']';

	if (depth > s->max_depth)
		return scan_fail(s, -EBADMSG, "nesting deeper than %u levels", s->max_depth);
	advance(s);
	skip_whitespace(s);
	if (peek(s) == close) {
		advance(s);
		return 0;
	}
	for (size_t i = 0;; i++) {
		int r;

		skip_whitespace(s);
		r = object ? scan_member(s, self, depth) : scan_element(s, self, i, depth);
		if (r < 0)
			return r;
		skip_whitespace(s);
		if (peek(s) == close)
			break;
		if (peek(s) != ',')
			return unexpected(s, object ? "',' or '}'" : "',' or ']'");
		advance(s);
	}
	advance(s);
	return 0;
}

static int scan_value(struct scanner *s, size_t self, unsigned depth)
{
	int c = peek(s);

	if (c == '{' || c == '[')
		return scan_container(s, self, depth + 1);
	if (c == '"')
		return scan_string(s, false);
	if (c == '-' || (c >= '0' && c <= '9'))
		return scan_number(s);
	return scan_literal(s);
}

static int compare_entries(const void *a, const void *b, void *userdata)
{
	const struct json_positions *m = userdata;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct pos_entry *ea = &m->entries[ia], *eb = &m->entries[ib];
	int r;

	if (ea->parent != eb->parent)
		return ea->parent < eb->parent ? -1 : 1;
	r = strcmp(m->names + ea->name, m->names + eb->name);
	if (r != 0)
		return r;
	return ia < ib ? -1 : ia > ib;
}

/* Write the JSON pointer of entry i into buf (truncated if long). */
static void entry_pointer(const struct json_positions *m, size_t i, char *buf, size_t size)
{
	size_t len;

	if (m->entries[i].parent == NO_PARENT) {
		buf[0] = '\0';
		return;
	}
	entry_pointer(m, m->entries[i].parent, buf, size);
	len = strlen(buf);
	if (len + 1 < size)
		buf[len++] = '/';
	for (const char *p = m->names + m->entries[i].name; *p && len + 2 < size; p++) {
		if (*p == '~' || *p == '/') {
			buf[len++] = '~';
			buf[len++] = *p == '~' ? '0' : '1';
		} else {
			buf[len++] = *p;
		}
	}
	buf[len < size ? len : size - 1] = '\0';
}

/* Sort the index and report the first key (in document order) that repeats
 * one seen earlier in the same object: json-c would silently keep the last. */
static int sort_and_check_duplicates(struct json_positions *m, struct json_scan_error *err)
{
	size_t dup = NO_PARENT, first = 0;
	char where[128], key[64];

	m->sorted = reallocarray(NULL, max_size(m->n_entries, 1), sizeof(size_t));
	if (!m->sorted)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_entries; i++)
		m->sorted[i] = i;
	qsort_r(m->sorted, m->n_entries, sizeof(size_t), compare_entries, m);
	for (size_t i = 1, group = 0; i < m->n_entries; i++) {
		const struct pos_entry *a = &m->entries[m->sorted[i - 1]], *b = &m->entries[m->sorted[i]];

		if (a->parent != b->parent || !streq(m->names + a->name, m->names + b->name)) {
			group = i;
			continue;
		}
		if (m->sorted[i] < dup) {
			dup = m->sorted[i];
			first = m->sorted[group];
		}
	}
	if (dup == NO_PARENT)
		return 0;
	entry_pointer(m, m->entries[dup].parent, where, sizeof(where));
	json_excerpt(m->names + m->entries[dup].name, key, sizeof(key));
	set_error(err, m->entries[dup].pos, "duplicate key \"%s\" %s%s (first at line %u)", key,
		  where[0] ? "in " : "at top level", where, m->entries[first].pos.line);
	return -ENOTUNIQ;
}

int json_positions_scan(const char *text, size_t len, unsigned max_depth,
			struct json_positions **ret, struct json_scan_error *err)
{
	struct json_positions *m;
	struct scanner s = {
		.text = text, .len = len, .pos = { 1, 1 }, .max_depth = max_depth, .err = err,
	};
	size_t root;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	s.map = m;
	skip_whitespace(&s);
	r = names_append(m, "", 1);
	if (r >= 0)
		r = add_entry(m, NO_PARENT, 0, s.pos, &root);
	if (r >= 0)
		r = scan_value(&s, root, 0);
	if (r >= 0) {
		skip_whitespace(&s);
		if (s.at < s.len)
			r = scan_fail(&s, -EBADMSG, "JSON syntax error: trailing characters after the document");
	}
	if (r >= 0)
		r = sort_and_check_duplicates(m, err);
	if (r < 0) {
		if (r == -ENOMEM)
			set_error(err, s.pos, "out of memory");
		json_positions_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

/* Index into sorted of the first entry not less than (parent, key). */
static size_t lower_bound(const struct json_positions *m, size_t parent, const char *key)
{
	size_t lo = 0, hi = m->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pos_entry *e = &m->entries[m->sorted[mid]];
		int c = e->parent != parent ? (e->parent < parent ? -1 : 1)
					    : strcmp(m->names + e->name, key);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int find_child_index(const struct json_positions *m, size_t parent, const char *key,
			    size_t *ret)
{
	size_t i = lower_bound(m, parent, key);

	if (i >= m->n_entries)
		return -ENOENT;
	if (m->entries[m->sorted[i]].parent != parent ||
	    !streq(m->names + m->entries[m->sorted[i]].name, key))
		return -ENOENT;
	*ret = m->sorted[i];
	return 0;
}

/* Follow an RFC 6901 pointer from the root; ~1 is '/', ~0 is '~'. */
static int find_pointer_index(const struct json_positions *m, const char *pointer, size_t *ret)
{
	_cleanup_free_ char *segment = NULL;
	size_t at = 0;

	if (!pointer || (*pointer && *pointer != '/'))
		return -EINVAL;
	segment = malloc(strlen(pointer) + 1);
	if (!segment)
		return -ENOMEM;
	for (const char *p = pointer; *p;) {
		size_t n = 0;
		int r;

		for (p++; *p && *p != '/'; p++) {
			if (*p == '~' && (p[1] == '0' || p[1] == '1'))
				segment[n++] = *++p == '0' ? '~' : '/';
			else
				segment[n++] = *p;
		}
		segment[n] = '\0';
		r = find_child_index(m, at, segment, &at);
		if (r < 0)
			return r;
	}
	*ret = at;
	return 0;
}

int json_positions_find(const struct json_positions *m, const char *pointer,
			struct json_position *ret)
{
	size_t i;
	int r;

	if (!m)
		return -EINVAL;
	r = find_pointer_index(m, pointer, &i);
	if (r < 0)
		return r;
	*ret = m->entries[i].pos;
	return 0;
}

int json_positions_find_child(const struct json_positions *m, const char *pointer,
			      const char *key, struct json_position *ret)
{
	size_t i;
	int r;

	if (!m || !key)
		return -EINVAL;
	r = find_pointer_index(m, pointer, &i);
	if (r >= 0)
		r = find_child_index(m, i, key, &i);
	if (r < 0)
		return r;
	*ret = m->entries[i].pos;
	return 0;
}

struct json_positions *json_positions_free(struct json_positions *m)
{
	if (!m)
		return NULL;
	free(m->entries);
	free(m->names);
	free(m->sorted);
	free(m);
	return NULL;
}

void json_excerpt(const char *s, char *buf, size_t size)
{
	size_t n = 0, max = size > 4 ? size - 4 : 0;

	if (size == 0)
		return;
	/* Whole characters only, so that a cut never splits a UTF-8 sequence. */
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t len = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (strnlen(s, len) < len || n + len > max)
			break;
		for (size_t i = 0; i < len; i++, s++)
			buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' ? '?' : *s;
	}
	if (*s && n + 3 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

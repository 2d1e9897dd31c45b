/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl's output helpers: error messages, JSON printing and simple
 * column tables. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "output.h"

int cli_error(int exit_code, const char *fmt, ...)
{
	va_list ap;

	fputs("memtypectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return exit_code;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("memtypectl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int output_json(struct json_object *o, enum json_mode mode)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;

	flags |= mode == JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				     : JSON_C_TO_STRING_PLAIN;
	s = json_object_to_json_string_ext(o, flags);
	if (!s)
		return -ENOMEM;
	if (puts(s) == EOF)
		return -EIO;
	return 0;
}

void format_size(uint64_t size, char *buf, size_t buf_size)
{
	static const char units[] = "KMGTPE";
	unsigned u = 0;

	if (size == 0 || size % 1024 != 0) {
		snprintf(buf, buf_size, "%" PRIu64, size);
		return;
	}
	size /= 1024;
	while (size % 1024 == 0 && u + 1 < sizeof(units) - 1) {
		size /= 1024;
		u++;
	}
	snprintf(buf, buf_size, "%" PRIu64 "%c", size, units[u]);
}

struct table {
	size_t n_columns;
	size_t n_rows;                 /* including the header row */
	char **cells;                  /* n_rows * n_columns */
};

struct table *table_new(size_t n_columns, const char *const *headers)
{
	struct table *t;

	if (n_columns == 0 || n_columns > TABLE_MAX_COLUMNS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n_columns = n_columns;
	if (table_add_row(t, headers) < 0)
		return table_free(t);
	return t;
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}

int table_add_row(struct table *t, const char *const *cells)
{
	size_t base = t->n_rows * t->n_columns;
	char **n;

	n = realloc(t->cells, (base + t->n_columns) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->cells = n;
	for (size_t c = 0; c < t->n_columns; c++) {
		n[base + c] = strdup(cells[c] ? cells[c] : "-");
		if (!n[base + c]) {
			while (c-- > 0)
				free(n[base + c]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

int table_add_rowf(struct table *t, ...)
{
	const char *cells[TABLE_MAX_COLUMNS];
	va_list ap;

	va_start(ap, t);
	for (size_t c = 0; c < t->n_columns; c++)
		cells[c] = va_arg(ap, const char *);
	va_end(ap);
	return table_add_row(t, cells);
}

static size_t table_column_width(const struct table *t, size_t c)
{
	size_t w = 0;

	for (size_t r = 0; r < t->n_rows; r++) {
		size_t l = strlen(t->cells[r * t->n_columns + c]);

		if (l > w)
			w = l;
	}
	return w;
}

void table_print(const struct table *t, FILE *f)
{
	size_t widths[TABLE_MAX_COLUMNS] = {};

	for (size_t c = 0; c < t->n_columns; c++)
		widths[c] = table_column_width(t, c);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_columns; c++) {
			const char *cell = t->cells[r * t->n_columns + c];

			if (c + 1 == t->n_columns)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)widths[c], cell);
		}
	}
}

static struct json_object *json_field(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *json_field_string(struct json_object *o, const char *key, const char *fallback)
{
	struct json_object *v = json_field(o, key, json_type_string);

	return v ? json_object_get_string(v) : fallback;
}

bool json_field_bool(struct json_object *o, const char *key, bool fallback)
{
	struct json_object *v = json_field(o, key, json_type_boolean);

	return v ? json_object_get_boolean(v) : fallback;
}

int64_t json_field_int(struct json_object *o, const char *key, int64_t fallback)
{
	struct json_object *v = json_field(o, key, json_type_int);

	return v ? json_object_get_int64(v) : fallback;
}

struct json_object *json_field_array(struct json_object *o, const char *key)
{
	return json_field(o, key, json_type_array);
}

struct json_object *json_field_object(struct json_object *o, const char *key)
{
	return json_field(o, key, json_type_object);
}

const char *json_field_tristate(struct json_object *o, const char *key)
{
	struct json_object *v = json_field(o, key, json_type_boolean);

	return v ? yes_no(json_object_get_boolean(v)) : "?";
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl's output: exit codes (documented in memtypectl(8)), error
 * messages on stderr, JSON and plain-text tables on stdout. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/macro.h"

/* Exit codes. Scripts match on them: never renumber. */
enum mt_exit {
	MT_EXIT_SUCCESS = 0,
	MT_EXIT_FAILURE = 1,          /* the operation failed */
	MT_EXIT_USAGE = 2,            /* bad command line */
	MT_EXIT_BAD_INPUT = 3,        /* XML, JSON, policy file or host root is bad */
	MT_EXIT_PLAN_ERRORS = 4,      /* the plan was printed and has errors */
	MT_EXIT_PARTIAL_REFUSED = 5,  /* partial inventory, capture refused */
	MT_EXIT_DRIFT = 6,            /* verify found drift (reserved) */
	MT_EXIT_NO_DAEMON = 7,        /* needs memtyped (reserved) */
};

enum json_mode {
	JSON_OFF = 0,
	JSON_PLAIN,
	JSON_PRETTY,
};

/* Print "memtypectl: <message>" on stderr and return exit_code. */
int cli_error(int exit_code, const char *fmt, ...) _printf_(2, 3);
/* Print "memtypectl: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) _printf_(1, 2);

struct json_object;
/* Print o on stdout in the given mode (PLAIN or PRETTY) and a newline. */
int output_json(struct json_object *o, enum json_mode mode);

/* "16M", "16G", "4K", "512": BAR sizes are powers of two, so the largest
 * unit that divides the size exactly is used. */
void format_size(uint64_t size, char *buf, size_t buf_size);

static inline const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* A plain-text table: cells are copied; columns are padded to the widest
 * cell; the last column is not padded so long text does not leave trailing
 * blanks. */
#define TABLE_MAX_COLUMNS 16

struct table;

struct table *table_new(size_t n_columns, const char *const *headers);
struct table *table_free(struct table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct table *, table_free);
/* Add one row of exactly n_columns cells (NULL prints as "-"). */
int table_add_row(struct table *t, const char *const *cells);
int table_add_rowf(struct table *t, ...);   /* n_columns const char * args */
void table_print(const struct table *t, FILE *f);

/* Typed reads of one member of a JSON object (a plan, a daemon reply):
 * missing members, JSON null and members of another type give the
 * fallback, so output from an older or newer peer still prints. */
const char *json_field_string(struct json_object *o, const char *key, const char *fallback);
bool json_field_bool(struct json_object *o, const char *key, bool fallback);
int64_t json_field_int(struct json_object *o, const char *key, int64_t fallback);
/* NULL unless the member is an array (object). */
struct json_object *json_field_array(struct json_object *o, const char *key);
struct json_object *json_field_object(struct json_object *o, const char *key);
/* "yes", "no", or "?" for null/missing (an unknown tristate). */
const char *json_field_tristate(struct json_object *o, const char *key);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Operator policy files: /etc/memtype/memtype.json plus the *.json drop-ins
 * of policy.d/ in lexical order (man memtype.json(5)). */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "policy/model.h"

#define POLICY_FILE_MAX_BYTES (1u << 20)
#define POLICY_MAX_RULES 1024          /* vms + devices rules, all files together */
#define POLICY_MAX_DEPTH 16            /* nested objects/arrays in one document */
#define POLICY_SCHEMA "memtype.policy/1"

#define POLICY_MAIN_FILE "/etc/memtype/memtype.json"
#define POLICY_DROPIN_DIR "/etc/memtype/policy.d"
#define POLICY_VENDOR_DROPIN_DIR "/usr/lib/memtype/policy.d"

/* Merge one policy document (text of filename) into pol. Unknown keys and
 * bad values are errors naming filename:line. On error pol is unchanged. */
int policy_parse_text(const char *text, size_t len, const char *filename,
		      struct operator_policy *pol, struct mt_error *err);

int policy_parse_file(const char *path, struct operator_policy *pol, struct mt_error *err);

/* Load the main file (missing is fine) and the drop-ins of dirs (NULL
 * terminated; a later directory's file of the same name masks an earlier
 * one, as in systemd). Starts from operator_policy_init(). Drop-ins are the
 * "*.json" regular files (symlinks followed), not hidden, read in strcmp()
 * order of their names across all dirs; an empty file or a symlink to
 * /dev/null masks without being read. Missing dirs are fine. So pass
 * { POLICY_VENDOR_DROPIN_DIR, POLICY_DROPIN_DIR, NULL } for /etc to win.
 * All or nothing: on error *ret is untouched and err names file:line. */
int policy_load(const char *main_file, const char *const *dropin_dirs,
		struct operator_policy **ret, struct mt_error *err);

/* Frees a policy from policy_load() with its rules and sources; NULL is fine. */
void operator_policy_free(struct operator_policy *p);

/* The effective policy: the keys of memtype.json(5) with every known quirk,
 * plus "sources", each rule's "origin" and an "origins" object mapping the
 * JSON pointer of each file-set global setting ("/mode", "/quirks/NAME") to
 * {"file", "line"}. Settings still at their built-in default have none. */
struct json_object;
int operator_policy_to_json(const struct operator_policy *p, struct json_object **ret);

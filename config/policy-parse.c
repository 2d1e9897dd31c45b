/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One operator policy document (memtype.json(5)): json-c parses it, the
 * position scanner says where each value is, and dispatch tables validate
 * every object. The document is staged completely and merged into the
 * policy only when all of it is valid. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "common/macro.h"
#include "config.h"
#include "json-positions.h"
#include "policy/plan.h"

#define PATH_SIZE 256                  /* pointers built here: known keys and indices */

struct parse_ctx {
	const char *filename;
	const struct json_positions *positions;
	struct mt_error *err;
	size_t rules_before;           /* rules of earlier documents */
	struct operator_policy next;   /* scalars staged here; its arrays are not touched */
	struct vm_rule *vm_rules;      /* rules of this document */
	size_t n_vm_rules;
	struct device_rule *device_rules;
	size_t n_device_rules;
};

typedef int (*field_parser)(struct parse_ctx *c, const char *path, struct json_object *v,
			    void *dest);

/* One key of a JSON object: its type, where it goes, and whether it must be
 * there. Every object of the format is validated through such a table. */
struct field {
	const char *key;
	enum json_type type;
	field_parser parse;
	bool required;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_positions *, json_positions_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_tokener *, json_tokener_free)

/* ----- error reports ---------------------------------------------------- */

/* Line of the value at path, or of its nearest ancestor the scanner knows. */
static unsigned line_of(const struct parse_ctx *c, const char *path)
{
	char buf[PATH_SIZE];
	struct json_position pos;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		char *slash;

		if (json_positions_find(c->positions, buf, &pos) >= 0)
			return pos.line;
		slash = strrchr(buf, '/');
		if (!slash)
			return 1;
		*slash = '\0';
	}
}

static int fail_at_line(struct parse_ctx *c, unsigned line, int code, const char *fmt, ...)
	_printf_(4, 5);
static int fail_at_line(struct parse_ctx *c, unsigned line, int code, const char *fmt, ...)
{
	char msg[MT_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mt_error_set(c->err, code, "%s:%u: %s", c->filename, line, msg);
}

#define fail_at(c, path, ...) fail_at_line((c), line_of((c), (path)), -EINVAL, __VA_ARGS__)

/* "\"strict\"", "\"strict\" in /vms/0" or "/vms/0" (an array element). */
static const char *describe_path(const char *path, char *buf, size_t size)
{
	const char *last = strrchr(path, '/');
	const char *seg = last ? last + 1 : path;
	size_t parent_len = last ? (size_t)(last - path) : 0;

	if (*seg && strspn(seg, "0123456789") == strlen(seg))
		snprintf(buf, size, "%s", path);
	else if (parent_len == 0)
		snprintf(buf, size, "\"%s\"", seg);
	else
		snprintf(buf, size, "\"%s\" in %.*s", seg, (int)parent_len, path);
	return buf;
}

static const char *where(const char *path, char *buf, size_t size)
{
	if (!*path)
		snprintf(buf, size, "at top level");
	else
		snprintf(buf, size, "in %s", path);
	return buf;
}

static const char *json_type_description(enum json_type t)
{
	switch (t) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	case json_type_null:
		break;
	}
	return "null";
}

static int wrong_type(struct parse_ctx *c, const char *path, enum json_type expected,
		      struct json_object *v)
{
	char what[PATH_SIZE + 16];

	return fail_at(c, path, "wrong type for %s: expected %s, got %s",
		       describe_path(path, what, sizeof(what)), json_type_description(expected),
		       json_type_description(json_object_get_type(v)));
}

static int bad_value(struct parse_ctx *c, const char *path, const char *value, const char *expected)
{
	char what[PATH_SIZE + 16], excerpt[64];

	json_excerpt(value, excerpt, sizeof(excerpt));
	return fail_at(c, path, "bad value \"%s\" for %s: expected %s", excerpt,
		       describe_path(path, what, sizeof(what)), expected);
}

static int unknown_key(struct parse_ctx *c, const char *path, const char *key,
		       const struct field *fields, size_t n_fields)
{
	char expected[256] = "", excerpt[64], loc[PATH_SIZE + 8];
	struct json_position pos;
	unsigned line = line_of(c, path);

	if (json_positions_find_child(c->positions, path, key, &pos) >= 0)
		line = pos.line;
	for (size_t i = 0; i < n_fields; i++) {
		size_t len = strlen(expected);

		snprintf(expected + len, sizeof(expected) - len, "%s%s", i ? ", " : "", fields[i].key);
	}
	json_excerpt(key, excerpt, sizeof(excerpt));
	return fail_at_line(c, line, -EINVAL, "unknown key \"%s\" %s (expected one of: %s)", excerpt,
			    where(path, loc, sizeof(loc)), expected);
}

/* ----- the dispatcher --------------------------------------------------- */

static const struct field *field_find(const struct field *fields, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (streq(fields[i].key, key))
			return &fields[i];
	return NULL;
}

static int dispatch_object(struct parse_ctx *c, const char *path, struct json_object *obj,
			   const struct field *fields, size_t n_fields, void *dest)
{
	char loc[PATH_SIZE + 8];

	json_object_object_foreach(obj, key, value) {
		const struct field *f = field_find(fields, n_fields, key);
		char child[PATH_SIZE];
		int r;

		if (!f)
			return unknown_key(c, path, key, fields, n_fields);
		snprintf(child, sizeof(child), "%s/%s", path, f->key);
		if (!json_object_is_type(value, f->type))
			return wrong_type(c, child, f->type, value);
		r = f->parse(c, child, value, dest);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_fields; i++)
		if (fields[i].required && !json_object_object_get_ex(obj, fields[i].key, NULL))
			return fail_at(c, path, "missing key \"%s\" %s", fields[i].key,
				       where(path, loc, sizeof(loc)));
	return 0;
}

static void set_origin(struct parse_ctx *c, const char *path, struct policy_origin *origin)
{
	snprintf(origin->file, sizeof(origin->file), "%s", c->filename);
	origin->line = line_of(c, path);
}

static enum mt_tristate tristate_of(struct json_object *v)
{
	return json_object_get_boolean(v) ? MT_YES : MT_NO;
}

/* ----- values shared by several objects --------------------------------- */

static int parse_mode_value(struct parse_ctx *c, const char *path, struct json_object *v,
			    enum policy_mode *ret)
{
	int m = policy_mode_from_string(json_object_get_string(v));

	if (m < 0)
		return bad_value(c, path, json_object_get_string(v),
				 "conservative, balanced or performance");
	*ret = (enum policy_mode)m;
	return 0;
}

/* {"IGNORE_GUEST_PAT": "disable", ...}: keys name quirks, so no table. */
static int parse_quirk_map(struct parse_ctx *c, const char *path, struct json_object *obj,
			   enum quirk_setting *settings, struct policy_origin *origins)
{
	const char *seen_as[MT_QUIRK_BITS] = { NULL };

	json_object_object_foreach(obj, key, value) {
		int bit = kvm_quirk_from_name(key), setting;
		char child[PATH_SIZE], excerpt[64];
		struct json_position pos;

		if (bit < 0 || bit >= MT_QUIRK_BITS) {
			json_excerpt(key, excerpt, sizeof(excerpt));
			if (json_positions_find_child(c->positions, path, key, &pos) < 0)
				pos.line = line_of(c, path);
			return fail_at_line(c, pos.line, -EINVAL,
					    "\"%s\" is not a KVM quirk name (see memtype.json(5))",
					    excerpt);
		}
		snprintf(child, sizeof(child), "%s/%s", path, key);
		if (seen_as[bit])
			return fail_at(c, child, "quirk %s is given twice in %s (as \"%s\" and \"%s\")",
				       kvm_quirk_name((unsigned)bit), path, seen_as[bit], key);
		seen_as[bit] = key;
		if (!json_object_is_type(value, json_type_string))
			return wrong_type(c, child, json_type_string, value);
		setting = quirk_setting_from_string(json_object_get_string(value));
		if (setting < 0)
			return bad_value(c, child, json_object_get_string(value),
					 "auto, keep or disable");
		settings[bit] = (enum quirk_setting)setting;
		if (origins)
			set_origin(c, child, &origins[bit]);
	}
	return 0;
}

static int check_rule_room(struct parse_ctx *c, const char *path, size_t n)
{
	size_t used = c->rules_before + c->n_vm_rules + c->n_device_rules;
	char first_over[PATH_SIZE];

	if (used + n <= POLICY_MAX_RULES)
		return 0;
	snprintf(first_over, sizeof(first_over), "%s/%zu", path,
		 used < POLICY_MAX_RULES ? POLICY_MAX_RULES - used : 0);
	return fail_at_line(c, line_of(c, first_over), -E2BIG,
			    "too many rules: at most %u \"vms\" and \"devices\" rules in all files together",
			    POLICY_MAX_RULES);
}

/* ----- "vms" ------------------------------------------------------------ */

static int parse_match_name(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	struct vm_rule *rule = dest;
	const char *s = json_object_get_string(v);

	if (!*s)
		return bad_value(c, path, s, "a non-empty fnmatch(3) glob");
	if (strlen(s) >= sizeof(rule->name_glob))
		return bad_value(c, path, s, "at most 255 bytes");
	snprintf(rule->name_glob, sizeof(rule->name_glob), "%s", s);
	return 0;
}

static bool uuid_is_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static int parse_match_uuid(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	struct vm_rule *rule = dest;
	const char *s = json_object_get_string(v);

	if (!uuid_is_valid(s))
		return bad_value(c, path, s, "a UUID like 6f1d3c1e-8a4b-4f7e-9a53-0d2c1b7e4a10");
	for (size_t i = 0; i <= 36; i++)
		rule->uuid[i] = (char)tolower((unsigned char)s[i]);
	return 0;
}

static const struct field vm_match_fields[] = {
	{ "name", json_type_string, parse_match_name, false },
	{ "uuid", json_type_string, parse_match_uuid, false },
};

static int parse_vm_match(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	char what[PATH_SIZE + 16];

	if (json_object_object_length(v) == 0)
		return fail_at(c, path, "empty %s: give at least one of name, uuid",
			       describe_path(path, what, sizeof(what)));
	return dispatch_object(c, path, v, vm_match_fields, ELEMENTSOF(vm_match_fields), dest);
}

static int parse_vm_mode(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	struct vm_rule *rule = dest;
	int r = parse_mode_value(c, path, v, &rule->mode);

	if (r >= 0)
		rule->has_mode = true;
	return r;
}

static int parse_vm_strict(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	((struct vm_rule *)dest)->strict = tristate_of(v);
	return 0;
}

static int parse_vm_quirks(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	return parse_quirk_map(c, path, v, ((struct vm_rule *)dest)->quirks, NULL);
}

static int parse_vm_honor_shm(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	((struct vm_rule *)dest)->honor_shared_memory = tristate_of(v);
	return 0;
}

static const struct field vm_rule_fields[] = {
	{ "match", json_type_object, parse_vm_match, true },
	{ "mode", json_type_string, parse_vm_mode, false },
	{ "strict", json_type_boolean, parse_vm_strict, false },
	{ "quirks", json_type_object, parse_vm_quirks, false },
	{ "honor_shared_memory", json_type_boolean, parse_vm_honor_shm, false },
};

/* The members of a rule besides "match", for "sets nothing" errors. */
static void list_settings(const struct field *fields, size_t n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 1; i < n; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i > 1 ? ", " : "", fields[i].key);
	}
}

/* Validate element path of a rule array through fields into rule. */
static int parse_rule(struct parse_ctx *c, const char *path, struct json_object *elem,
		      const struct field *fields, size_t n_fields, void *rule)
{
	char settings[128];
	int r;

	if (!json_object_is_type(elem, json_type_object))
		return wrong_type(c, path, json_type_object, elem);
	r = dispatch_object(c, path, elem, fields, n_fields, rule);
	if (r < 0)
		return r;
	/* A rule with only "match" does nothing: most likely a typo'd setting. */
	if (json_object_object_length(elem) < 2) {
		list_settings(fields, n_fields, settings, sizeof(settings));
		return fail_at(c, path, "rule %s sets nothing: give at least one of %s", path, settings);
	}
	return 0;
}

static int parse_vm_rules(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	size_t n = json_object_array_length(v);
	struct vm_rule *rules;
	int r;

	r = check_rule_room(c, path, n);
	if (r < 0 || n == 0)
		return r;
	rules = reallocarray(c->vm_rules, c->n_vm_rules + n, sizeof(*rules));
	if (!rules)
		return mt_error_set(c->err, -ENOMEM, "%s: out of memory", c->filename);
	c->vm_rules = rules;
	for (size_t i = 0; i < n; i++) {
		struct vm_rule *rule = &c->vm_rules[c->n_vm_rules];
		char elem[PATH_SIZE];

		snprintf(elem, sizeof(elem), "%s/%zu", path, i);
		*rule = (struct vm_rule){
			.strict = MT_UNKNOWN,
			.honor_shared_memory = MT_UNKNOWN,
		};
		set_origin(c, elem, &rule->origin);
		r = parse_rule(c, elem, json_object_array_get_idx(v, i), vm_rule_fields,
			       ELEMENTSOF(vm_rule_fields), rule);
		if (r < 0)
			return r;
		c->n_vm_rules++;
	}
	return 0;
}

/* ----- "devices" -------------------------------------------------------- */

/* Exactly digits hex digits, nothing else. */
static bool parse_hex(const char *s, size_t digits, uint32_t *ret)
{
	uint32_t v = 0;

	if (strlen(s) != digits)
		return false;
	for (size_t i = 0; i < digits; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = v * 16 + (uint32_t)(isdigit((unsigned char)s[i]) ? s[i] - '0'
								   : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*ret = v;
	return true;
}

static int parse_match_id(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	struct device_rule *rule = dest;
	const char *s = json_object_get_string(v);
	uint32_t vendor, device = 0xffff;
	char vendor_part[5];

	if (strlen(s) < 6 || s[4] != ':')
		goto bad;
	memcpy(vendor_part, s, 4);
	vendor_part[4] = '\0';
	if (!parse_hex(vendor_part, 4, &vendor))
		goto bad;
	if (!streq(s + 5, "*") && !parse_hex(s + 5, 4, &device))
		goto bad;
	rule->match_id = true;
	rule->vendor_id = (uint16_t)vendor;
	rule->device_id = (uint16_t)device;
	return 0;
bad:
	return bad_value(c, path, s, "vendor:device with 4 hex digits each, device may be * (8086:a780, 10de:*)");
}

static int parse_match_class(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	struct device_rule *rule = dest;
	const char *s = json_object_get_string(v);
	size_t digits = strlen(s);
	unsigned shift;
	uint32_t value;

	if ((digits != 2 && digits != 4 && digits != 6) || !parse_hex(s, digits, &value))
		return bad_value(c, path, s,
				 "2, 4 or 6 hex digits: class, class+subclass, or with prog-if (03, 0300, 030000)");
	shift = (unsigned)(6 - digits) * 4;
	rule->match_class = true;
	rule->class_code = value << shift;
	rule->class_mask = (0xffffffu << shift) & 0xffffffu;
	return 0;
}

static int parse_match_bdf(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	struct device_rule *rule = dest;
	const char *s = json_object_get_string(v);

	if (bdf_normalize(s, rule->bdf) < 0)
		return bad_value(c, path, s, "a PCI address like 0000:01:00.0 or 01:00.0");
	return 0;
}

static const struct field device_match_fields[] = {
	{ "id", json_type_string, parse_match_id, false },
	{ "class", json_type_string, parse_match_class, false },
	{ "bdf", json_type_string, parse_match_bdf, false },
};

static int parse_device_match(struct parse_ctx *c, const char *path, struct json_object *v,
			      void *dest)
{
	char what[PATH_SIZE + 16];

	if (json_object_object_length(v) == 0)
		return fail_at(c, path, "empty %s: give at least one of id, class, bdf",
			       describe_path(path, what, sizeof(what)));
	return dispatch_object(c, path, v, device_match_fields, ELEMENTSOF(device_match_fields),
			       dest);
}

static int parse_device_noncoherent(struct parse_ctx *c, const char *path, struct json_object *v,
				    void *dest)
{
	((struct device_rule *)dest)->noncoherent = tristate_of(v);
	return 0;
}

static int parse_device_wc(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	((struct device_rule *)dest)->allow_wc = tristate_of(v);
	return 0;
}

static const struct field device_rule_fields[] = {
	{ "match", json_type_object, parse_device_match, true },
	{ "noncoherent", json_type_boolean, parse_device_noncoherent, false },
	{ "write_combining", json_type_boolean, parse_device_wc, false },
};

static int parse_device_rules(struct parse_ctx *c, const char *path, struct json_object *v,
			      void *dest)
{
	size_t n = json_object_array_length(v);
	struct device_rule *rules;
	int r;

	r = check_rule_room(c, path, n);
	if (r < 0 || n == 0)
		return r;
	rules = reallocarray(c->device_rules, c->n_device_rules + n, sizeof(*rules));
	if (!rules)
		return mt_error_set(c->err, -ENOMEM, "%s: out of memory", c->filename);
	c->device_rules = rules;
	for (size_t i = 0; i < n; i++) {
		struct device_rule *rule = &c->device_rules[c->n_device_rules];
		char elem[PATH_SIZE];

		snprintf(elem, sizeof(elem), "%s/%zu", path, i);
		*rule = (struct device_rule){
			.noncoherent = MT_UNKNOWN,
			.allow_wc = MT_UNKNOWN,
		};
		set_origin(c, elem, &rule->origin);
		r = parse_rule(c, elem, json_object_array_get_idx(v, i), device_rule_fields,
			       ELEMENTSOF(device_rule_fields), rule);
		if (r < 0)
			return r;
		c->n_device_rules++;
	}
	return 0;
}

/* ----- top level -------------------------------------------------------- */

static int parse_schema(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	if (!streq(json_object_get_string(v), POLICY_SCHEMA))
		return bad_value(c, path, json_object_get_string(v), "\"" POLICY_SCHEMA "\"");
	return 0;
}

static int parse_top_mode(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	int r = parse_mode_value(c, path, v, &c->next.mode);

	if (r >= 0)
		set_origin(c, path, &c->next.mode_origin);
	return r;
}

static int parse_top_strict(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	c->next.strict = json_object_get_boolean(v);
	set_origin(c, path, &c->next.strict_origin);
	return 0;
}

static int parse_top_quirks(struct parse_ctx *c, const char *path, struct json_object *v, void *dest)
{
	return parse_quirk_map(c, path, v, c->next.quirks, c->next.quirk_origin);
}

static int parse_honor_guest_pat(struct parse_ctx *c, const char *path, struct json_object *v,
				 void *dest)
{
	c->next.honor_shared_memory = json_object_get_boolean(v);
	set_origin(c, path, &c->next.honor_shared_memory_origin);
	return 0;
}

static const struct field shared_memory_fields[] = {
	{ "honor_guest_pat", json_type_boolean, parse_honor_guest_pat, false },
};

static int parse_shared_memory(struct parse_ctx *c, const char *path, struct json_object *v,
			       void *dest)
{
	return dispatch_object(c, path, v, shared_memory_fields, ELEMENTSOF(shared_memory_fields),
			       dest);
}

static const struct field top_fields[] = {
	{ "schema", json_type_string, parse_schema, false },
	{ "mode", json_type_string, parse_top_mode, false },
	{ "strict", json_type_boolean, parse_top_strict, false },
	{ "quirks", json_type_object, parse_top_quirks, false },
	{ "shared_memory", json_type_object, parse_shared_memory, false },
	{ "vms", json_type_array, parse_vm_rules, false },
	{ "devices", json_type_array, parse_device_rules, false },
};

/* ----- text to tree ----------------------------------------------------- */

static int scan_error(const char *filename, int code, const struct json_scan_error *se,
		      bool with_column, struct mt_error *err)
{
	if (!with_column)
		return mt_error_set(err, code, "%s:%u: %s", filename, se->pos.line, se->message);
	return mt_error_set(err, code, "%s:%u:%u: %s", filename, se->pos.line, se->pos.column,
			    se->message);
}

static bool is_blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", text[i]))
			return false;
	return true;
}

/* Encoding checks, then json-c in strict mode for syntax errors. */
static int parse_json(const char *text, size_t len, const char *filename,
		      struct json_object **ret, struct mt_error *err)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	struct json_scan_error se = { .pos = { 1, 1 } };
	enum json_tokener_error jerr;
	struct json_object *obj;
	size_t offset;
	int r;

	r = json_text_check_encoding(text, len, &se);
	if (r < 0)
		return scan_error(filename, r, &se, true, err);
	if (is_blank(text, len)) {
		se.pos = json_text_position(text, len);
		snprintf(se.message, sizeof(se.message), "empty document, expected a JSON object");
		return scan_error(filename, -EBADMSG, &se, true, err);
	}
	tok = json_tokener_new_ex(POLICY_MAX_DEPTH);
	if (!tok)
		return mt_error_set(err, -ENOMEM, "%s: out of memory", filename);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	offset = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* A bare number only ends at the end of input: say so. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		offset = len;
	}
	if (jerr != json_tokener_success) {
		se.pos = json_text_position(text, offset <= len ? offset : len);
		if (jerr == json_tokener_error_depth)
			snprintf(se.message, sizeof(se.message), "nesting deeper than %u levels",
				 POLICY_MAX_DEPTH);
		else
			snprintf(se.message, sizeof(se.message), "JSON syntax error: %s",
				 json_tokener_error_desc(jerr));
		return scan_error(filename, -EBADMSG, &se, true, err);
	}
	*ret = obj;
	return 0;
}

/* Append the staged rules and the source, then take the staged scalars.
 * Every allocation happens before anything in pol changes meaning. */
static int policy_commit(struct operator_policy *pol, struct parse_ctx *c)
{
	_cleanup_free_ char *source = strdup(c->filename);
	size_t n_vm = pol->n_vm_rules + c->n_vm_rules;
	size_t n_dev = pol->n_device_rules + c->n_device_rules;
	char **sources;

	if (!source)
		goto oom;
	sources = reallocarray(pol->sources, pol->n_sources + 1, sizeof(*sources));
	if (!sources)
		goto oom;
	pol->sources = sources;
	if (c->n_vm_rules > 0) {
		struct vm_rule *v = reallocarray(pol->vm_rules, n_vm, sizeof(*v));

		if (!v)
			goto oom;
		pol->vm_rules = v;
		memcpy(v + pol->n_vm_rules, c->vm_rules, c->n_vm_rules * sizeof(*v));
	}
	if (c->n_device_rules > 0) {
		struct device_rule *d = reallocarray(pol->device_rules, n_dev, sizeof(*d));

		if (!d)
			goto oom;
		pol->device_rules = d;
		memcpy(d + pol->n_device_rules, c->device_rules, c->n_device_rules * sizeof(*d));
	}
	pol->sources[pol->n_sources] = TAKE_PTR(source);
	c->next.sources = pol->sources;
	c->next.n_sources = pol->n_sources + 1;
	c->next.vm_rules = pol->vm_rules;
	c->next.n_vm_rules = n_vm;
	c->next.device_rules = pol->device_rules;
	c->next.n_device_rules = n_dev;
	*pol = c->next;
	return 0;
oom:
	return mt_error_set(c->err, -ENOMEM, "%s: out of memory", c->filename);
}

static int validate_document(struct parse_ctx *c, struct json_object *root)
{
	if (!json_object_is_type(root, json_type_object))
		return fail_at(c, "", "top level must be a JSON object, not %s",
			       json_type_description(json_object_get_type(root)));
	return dispatch_object(c, "", root, top_fields, ELEMENTSOF(top_fields), c);
}

int policy_parse_text(const char *text, size_t len, const char *filename,
		      struct operator_policy *pol, struct mt_error *err)
{
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_(json_positions_freep) struct json_positions *positions = NULL;
	struct json_scan_error se = { .pos = { 1, 1 } };
	struct parse_ctx c;
	int r;

	if (!text || !pol)
		return -EINVAL;
	if (!filename)
		filename = "<input>";
	if (len > POLICY_FILE_MAX_BYTES)
		return mt_error_set(err, -EFBIG, "%s: file is larger than %u bytes", filename,
				    POLICY_FILE_MAX_BYTES);
	r = parse_json(text, len, filename, &root, err);
	if (r < 0)
		return r;
	r = json_positions_scan(text, len, POLICY_MAX_DEPTH, &positions, &se);
	if (r == -ENOTUNIQ)
		return scan_error(filename, -EINVAL, &se, false, err);
	if (r < 0)
		return scan_error(filename, r, &se, true, err);

	c = (struct parse_ctx){
		.filename = filename,
		.positions = positions,
		.err = err,
		.rules_before = pol->n_vm_rules + pol->n_device_rules,
		.next = *pol,
	};
	r = validate_document(&c, root);
	if (r >= 0)
		r = policy_commit(pol, &c);
	free(c.vm_rules);
	free(c.device_rules);
	return r;
}

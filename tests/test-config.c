/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of config/: the operator policy files of memtype.json(5), their
 * file:line errors, drop-in ordering and masking, limits and the JSON view. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config/config.h"
#include "config/json-positions.h"
#include "policy/plan.h"

#define POLICY_DIR MT_TEST_DIR "/policy"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && streq(s + n - m, suffix);
}

/* ----- the position scanner --------------------------------------------- */

START_TEST(test_positions_lookup)
{
	static const char text[] =
		"{\n"
		"  \"a\": [1, {\"b\": true}],\n"
		"  \"x/y~z\": null,\n"
		"  \"\\u00e9t\\u00e9\": \"\\ud83d\\ude00\", \"k\": 2,\n"
		"  \"\xc3\xa9\xc3\xa9\": 1, \"m\": 3\n"
		"}\n";
	struct json_positions *m = NULL;
	struct json_scan_error se;
	struct json_position p;

	ck_assert_int_eq(json_positions_scan(text, strlen(text), 16, &m, &se), 0);
	ck_assert_int_eq(json_positions_find(m, "", &p), 0);
	ck_assert_uint_eq(p.line, 1);
	ck_assert_uint_eq(p.column, 1);
	ck_assert_int_eq(json_positions_find(m, "/a", &p), 0);
	ck_assert_uint_eq(p.line, 2);
	ck_assert_uint_eq(p.column, 3);
	ck_assert_int_eq(json_positions_find(m, "/a/1/b", &p), 0);
	ck_assert_uint_eq(p.line, 2);
	ck_assert_uint_eq(p.column, 13);
	ck_assert_int_eq(json_positions_find(m, "/x~1y~0z", &p), 0);
	ck_assert_uint_eq(p.line, 3);
	ck_assert_int_eq(json_positions_find_child(m, "", "x/y~z", &p), 0);
	ck_assert_uint_eq(p.line, 3);
	/* Keys are matched decoded; columns count characters, not bytes. */
	ck_assert_int_eq(json_positions_find_child(m, "", "\xc3\xa9t\xc3\xa9", &p), 0);
	ck_assert_uint_eq(p.line, 4);
	ck_assert_int_eq(json_positions_find(m, "/k", &p), 0);
	ck_assert_uint_eq(p.column, 36);
	ck_assert_int_eq(json_positions_find(m, "/m", &p), 0);
	ck_assert_uint_eq(p.line, 5);
	ck_assert_uint_eq(p.column, 12);
	ck_assert_int_eq(json_positions_find(m, "/a/2", &p), -ENOENT);
	ck_assert_int_eq(json_positions_find(m, "/b", &p), -ENOENT);
	ck_assert_int_eq(json_positions_find(m, "a", &p), -EINVAL);
	json_positions_free(m);
}
END_TEST

static const struct scan_case {
	const char *text;
	int code;
	unsigned line, column;
	const char *message;
} scan_cases[] = {
	{ "{\"a\": 1, \"a\": 2}", -ENOTUNIQ, 1, 10, "duplicate key \"a\" at top level (first at line 1)" },
	{ "{\"o\": [{\"k\": 1},\n {\"k\": 1,\n \"k\": 2}]}", -ENOTUNIQ, 3, 2, "in /o/1" },
	{ "{'a': 1}", -EBADMSG, 1, 2, "expected a string key" },
	{ "{\"a\": NaN}", -EBADMSG, 1, 7, "expected a JSON value" },
	{ "{\"a\": 01}", -EBADMSG, 1, 8, "expected ',' or '}'" },
	{ "{\"a\": 1.}", -EBADMSG, 1, 9, "a digit after '.'" },
	{ "{\"a\": \"x\ty\"}", -EBADMSG, 1, 9, "control character" },
	{ "{\"a\": \"\\u0000\"}", -EBADMSG, 1, 8, "\\u0000" },
	{ "{\"a\": \"\\ud800\"}", -EBADMSG, 1, 8, "lone UTF-16 high surrogate" },
	{ "{\"a\": \"\\ud800\\u0041\"}", -EBADMSG, 1, 8, "lone UTF-16 high surrogate" },
	{ "{\"a\": \"\\udc00\"}", -EBADMSG, 1, 8, "lone UTF-16 low surrogate" },
	{ "{\"a\": [1,]}", -EBADMSG, 1, 10, "expected a JSON value" },
	{ "{} {}", -EBADMSG, 1, 4, "trailing characters" },
	{ "[[[[1]]]]", -EBADMSG, 1, 4, "nesting deeper than 3 levels" },
	{ "{\"a\": \"abc", -EBADMSG, 1, 11, "unexpected end of input" },
};

START_TEST(test_positions_errors)
{
	const struct scan_case *t = &scan_cases[_i];
	struct json_positions *m = NULL;
	struct json_scan_error se = { { 0, 0 }, "" };

	ck_assert_int_eq(json_positions_scan(t->text, strlen(t->text), 3, &m, &se), t->code);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(se.message, t->message), "case %d: \"%s\" lacks \"%s\"", _i, se.message,
		      t->message);
	ck_assert_uint_eq(se.pos.line, t->line);
	ck_assert_uint_eq(se.pos.column, t->column);
}
END_TEST

START_TEST(test_excerpt)
{
	char buf[12];

	json_excerpt("a\"b\nc", buf, sizeof(buf));
	ck_assert_str_eq(buf, "a?b?c");
	json_excerpt("0123456789abcdef", buf, sizeof(buf));
	ck_assert_str_eq(buf, "01234567...");
	/* "\xc3\xa9" must not be cut in half. */
	json_excerpt("0123456\xc3\xa9xyz", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0123456...");
}
END_TEST

/* ----- good files ------------------------------------------------------- */

static void parse_ok(const char *name, struct operator_policy *pol)
{
	char path[512];
	struct mt_error err = { 0 };
	int r;

	snprintf(path, sizeof(path), POLICY_DIR "/%s", name);
	operator_policy_init(pol);
	r = policy_parse_file(path, pol, &err);
	ck_assert_msg(r == 0, "%s: %d %s", name, r, err.message);
	ck_assert_uint_eq(pol->n_sources, 1);
	ck_assert_str_eq(pol->sources[0], path);
}

static void policy_clear(struct operator_policy *pol)
{
	for (size_t i = 0; i < pol->n_sources; i++)
		free(pol->sources[i]);
	free(pol->sources);
	free(pol->vm_rules);
	free(pol->device_rules);
}

START_TEST(test_default_file)
{
	struct operator_policy pol;

	parse_ok("default.json", &pol);
	ck_assert_int_eq(pol.mode, POLICY_MODE_BALANCED);
	ck_assert_uint_eq(pol.mode_origin.line, 3);
	ck_assert(ends_with(pol.mode_origin.file, "/policy/default.json"));
	ck_assert(!pol.strict);
	ck_assert_uint_eq(pol.strict_origin.line, 4);
	ck_assert_int_eq(pol.quirks[KVM_QUIRK_IGNORE_GUEST_PAT], QUIRK_SETTING_AUTO);
	ck_assert_uint_eq(pol.quirk_origin[KVM_QUIRK_IGNORE_GUEST_PAT].line, 6);
	ck_assert_uint_eq(pol.quirk_origin[KVM_QUIRK_CD_NW_CLEARED].line, 7);
	ck_assert_uint_eq(pol.quirk_origin[KVM_QUIRK_LINT0_REENABLED].line, 0);
	ck_assert(!pol.honor_shared_memory);
	ck_assert_uint_eq(pol.honor_shared_memory_origin.line, 10);
	ck_assert_uint_eq(pol.n_vm_rules, 0);
	ck_assert_uint_eq(pol.n_device_rules, 0);
	policy_clear(&pol);
}
END_TEST

START_TEST(test_performance_file)
{
	struct operator_policy pol;

	parse_ok("performance.json", &pol);
	ck_assert_int_eq(pol.mode, POLICY_MODE_PERFORMANCE);
	ck_assert(pol.strict);
	/* Quirk names with the KVM_X86_QUIRK_ prefix and in any case. */
	ck_assert_int_eq(pol.quirks[KVM_QUIRK_CD_NW_CLEARED], QUIRK_SETTING_KEEP);
	ck_assert_uint_eq(pol.quirk_origin[KVM_QUIRK_CD_NW_CLEARED].line, 6);
	ck_assert_int_eq(pol.quirks[KVM_QUIRK_FIX_HYPERCALL_INSN], QUIRK_SETTING_DISABLE);
	ck_assert_int_eq(pol.quirks[KVM_QUIRK_IGNORE_GUEST_PAT], QUIRK_SETTING_AUTO);
	ck_assert(pol.honor_shared_memory);
	ck_assert_uint_eq(pol.honor_shared_memory_origin.line, 9);
	policy_clear(&pol);
}
END_TEST

START_TEST(test_per_vm_file)
{
	struct operator_policy pol;
	const struct vm_rule *r;

	parse_ok("per-vm.json", &pol);
	ck_assert_uint_eq(pol.n_vm_rules, 3);
	r = &pol.vm_rules[0];
	ck_assert_str_eq(r->name_glob, "win*");
	ck_assert_str_eq(r->uuid, "");
	ck_assert(r->has_mode);
	ck_assert_int_eq(r->mode, POLICY_MODE_PERFORMANCE);
	ck_assert_int_eq(r->quirks[KVM_QUIRK_IGNORE_GUEST_PAT], QUIRK_SETTING_DISABLE);
	ck_assert_int_eq(r->strict, MT_UNKNOWN);
	ck_assert_int_eq(r->honor_shared_memory, MT_UNKNOWN);
	ck_assert_uint_eq(r->origin.line, 4);
	r = &pol.vm_rules[1];
	ck_assert_str_eq(r->name_glob, "");
	ck_assert_str_eq(r->uuid, "6f1d3c1e-8a4b-4f7e-9a53-0d2c1b7e4a10");
	ck_assert(!r->has_mode);
	ck_assert_int_eq(r->strict, MT_YES);
	ck_assert_uint_eq(r->origin.line, 9);
	r = &pol.vm_rules[2];
	ck_assert_str_eq(r->name_glob, "lg-*");
	ck_assert_str_eq(r->uuid, "0b3c5d7e-1f2a-4b6c-8d9e-a1b2c3d4e5f6");
	ck_assert_int_eq(r->honor_shared_memory, MT_YES);
	ck_assert_int_eq(r->quirks[KVM_QUIRK_CD_NW_CLEARED], QUIRK_SETTING_KEEP);
	ck_assert_uint_eq(r->origin.line, 13);
	/* Global settings untouched by a file that has none. */
	ck_assert_int_eq(pol.mode, POLICY_MODE_BALANCED);
	ck_assert_str_eq(pol.mode_origin.file, "built-in default");
	policy_clear(&pol);
}
END_TEST

START_TEST(test_per_device_file)
{
	struct operator_policy pol;
	const struct device_rule *d;

	parse_ok("per-device.json", &pol);
	ck_assert_uint_eq(pol.n_device_rules, 5);
	d = &pol.device_rules[0];
	ck_assert(d->match_id && !d->match_class && !d->bdf[0]);
	ck_assert_uint_eq(d->vendor_id, 0x8086);
	ck_assert_uint_eq(d->device_id, 0xa780);
	ck_assert_int_eq(d->noncoherent, MT_YES);
	ck_assert_int_eq(d->allow_wc, MT_UNKNOWN);
	d = &pol.device_rules[1];
	ck_assert(d->match_id && d->match_class);
	ck_assert_uint_eq(d->vendor_id, 0x10de);
	ck_assert_uint_eq(d->device_id, 0xffff);
	ck_assert_uint_eq(d->class_code, 0x030000);
	ck_assert_uint_eq(d->class_mask, 0xffff00);
	ck_assert_int_eq(d->allow_wc, MT_NO);
	d = &pol.device_rules[2];
	ck_assert(!d->match_id && d->match_class);
	ck_assert_uint_eq(d->class_code, 0x020000);
	ck_assert_uint_eq(d->class_mask, 0xff0000);
	ck_assert_int_eq(d->noncoherent, MT_NO);
	d = &pol.device_rules[3];
	ck_assert_str_eq(d->bdf, "0000:01:00.0");
	ck_assert_int_eq(d->allow_wc, MT_YES);
	d = &pol.device_rules[4];
	ck_assert_uint_eq(d->class_code, 0x030200);
	ck_assert_uint_eq(d->class_mask, 0xffffff);
	ck_assert_str_eq(d->bdf, "0000:65:00.1");
	ck_assert_uint_eq(d->origin.line, 8);
	policy_clear(&pol);
}
END_TEST

/* ----- bad files -------------------------------------------------------- */

static const struct bad_case {
	const char *file;
	const char *location;          /* "line" or "line:column" */
	int code;
	const char *message;
} bad_cases[] = {
	{ "unknown-top-key.json", "3", -EINVAL,
	  "unknown key \"modes\" at top level (expected one of: schema, mode, strict, quirks, shared_memory, vms, devices)" },
	{ "unknown-nested-key.json", "7", -EINVAL,
	  "unknown key \"quirkz\" in /vms/0 (expected one of: match, mode, strict, quirks, honor_shared_memory)" },
	{ "bad-mode.json", "3", -EINVAL,
	  "bad value \"fast\" for \"mode\": expected conservative, balanced or performance" },
	{ "bad-quirk-name.json", "4", -EINVAL, "\"IGNORE_GUEST_PATT\" is not a KVM quirk name" },
	{ "bad-quirk-setting.json", "6", -EINVAL,
	  "bad value \"off\" for \"IGNORE_GUEST_PAT\" in /vms/0/quirks: expected auto, keep or disable" },
	{ "wrong-type.json", "3", -EINVAL, "wrong type for \"strict\": expected a boolean, got a string" },
	{ "duplicate-key.json", "5", -EINVAL, "duplicate key \"mode\" at top level (first at line 2)" },
	{ "syntax-error.json", "4:3", -EBADMSG, "JSON syntax error: object value separator ',' expected" },
	{ "bad-uuid.json", "4", -EINVAL, "for \"uuid\" in /vms/1/match: expected a UUID" },
	{ "bad-bdf.json", "4", -EINVAL, "bad value \"0000:01:20.0\" for \"bdf\" in /devices/0/match" },
	{ "bad-id.json", "3", -EINVAL, "bad value \"8086:a78\" for \"id\" in /devices/0/match" },
	{ "bad-class.json", "4", -EINVAL, "bad value \"030\" for \"class\"" },
	{ "empty-match.json", "7", -EINVAL, "empty \"match\" in /vms/0: give at least one of name, uuid" },
	{ "missing-match.json", "3", -EINVAL, "missing key \"match\" in /vms/0" },
	{ "rule-sets-nothing.json", "3", -EINVAL, "rule /devices/0 sets nothing" },
	{ "rule-not-object.json", "3", -EINVAL, "wrong type for /vms/0: expected an object, got a string" },
	{ "quirk-twice.json", "4", -EINVAL, "quirk IGNORE_GUEST_PAT is given twice in /quirks" },
	{ "bad-schema.json", "2", -EINVAL, "expected \"memtype.policy/1\"" },
	{ "trailing-garbage.json", "4:1", -EBADMSG, "JSON syntax error" },
	{ "not-object.json", "2", -EINVAL, "top level must be a JSON object, not an array" },
	{ "deep-nesting.json", "5:29", -EBADMSG, "nesting deeper than 16 levels" },
	{ "single-quotes.json", "2:11", -EBADMSG, "JSON syntax error" },
};

/* A deep copy of a policy's contents, to prove a failed parse changed nothing. */
struct snapshot {
	struct operator_policy pol;
	struct vm_rule *vm_rules;
	struct device_rule *device_rules;
};

static void snapshot_take(const struct operator_policy *p, struct snapshot *s)
{
	s->pol = *p;
	s->vm_rules = malloc(p->n_vm_rules * sizeof(*p->vm_rules) + 1);
	s->device_rules = malloc(p->n_device_rules * sizeof(*p->device_rules) + 1);
	ck_assert(s->vm_rules && s->device_rules);
	if (p->n_vm_rules > 0)
		memcpy(s->vm_rules, p->vm_rules, p->n_vm_rules * sizeof(*p->vm_rules));
	if (p->n_device_rules > 0)
		memcpy(s->device_rules, p->device_rules, p->n_device_rules * sizeof(*p->device_rules));
}

static void snapshot_check(const struct operator_policy *p, struct snapshot *s)
{
	ck_assert(memcmp(p, &s->pol, sizeof(*p)) == 0);
	ck_assert(p->n_vm_rules == 0 ||
		  memcmp(p->vm_rules, s->vm_rules, p->n_vm_rules * sizeof(*p->vm_rules)) == 0);
	ck_assert(p->n_device_rules == 0 ||
		  memcmp(p->device_rules, s->device_rules,
			 p->n_device_rules * sizeof(*p->device_rules)) == 0);
	free(s->vm_rules);
	free(s->device_rules);
}

START_TEST(test_bad_files)
{
	const struct bad_case *t = &bad_cases[_i];
	struct operator_policy pol;
	struct snapshot snap;
	struct mt_error err = { 0 };
	char path[512], prefix[600];
	int r;

	/* Start from a policy with rules and sources, which must survive. */
	parse_ok("per-vm.json", &pol);
	snapshot_take(&pol, &snap);
	snprintf(path, sizeof(path), POLICY_DIR "/bad/%s", t->file);
	snprintf(prefix, sizeof(prefix), "%s:%s: ", path, t->location);
	r = policy_parse_file(path, &pol, &err);
	ck_assert_msg(r == t->code, "%s: got %d (%s), expected %d", t->file, r, err.message, t->code);
	ck_assert_int_eq(err.code, r);
	ck_assert_msg(strncmp(err.message, prefix, strlen(prefix)) == 0, "%s: \"%s\" does not start with \"%s\"",
		      t->file, err.message, prefix);
	ck_assert_msg(strstr(err.message, t->message), "%s: \"%s\" lacks \"%s\"", t->file, err.message,
		      t->message);
	snapshot_check(&pol, &snap);
	policy_clear(&pol);
}
END_TEST

static const struct text_case {
	const char *text;
	size_t len;                    /* 0: strlen(text) */
	const char *location;
	const char *message;
} text_cases[] = {
	{ "{\"mode\": \"bal\0anced\"}", 21, "1:14", "NUL byte" },
	{ "{\n\"mode\": \"\xc3\x28\"}", 0, "2:10", "invalid UTF-8" },
	{ "{\"mode\": \"\xc0\xaf\"}", 0, "1:11", "invalid UTF-8" },         /* overlong '/' */
	{ "{\"mode\": \"\xed\xa0\x80\"}", 0, "1:11", "invalid UTF-8" },     /* U+D800 */
	{ "{\"mode\": \"\xf4\x90\x80\x80\"}", 0, "1:11", "invalid UTF-8" }, /* > U+10FFFF */
	{ "{\"mode\": \"\\u0000\"}", 0, "1:11", "\\u0000 (NUL) is not allowed" },
	{ "{\"mo\\ud800de\": 1}", 0, "1:5", "lone UTF-16 high surrogate" },
	{ "{'mode': 'balanced'}", 0, "1:", "JSON syntax error" },
	{ "{\"mode\": NaN}", 0, "1:10", "JSON syntax error" },
	{ "  \n ", 0, "2:2", "empty document" },
	{ "", 0, "1:1", "empty document" },
	{ "null", 0, "1", "top level must be a JSON object, not null" },
	{ "42", 0, "1", "top level must be a JSON object, not a number" },
	{ "{\"mode\": \"balanced\"", 0, "1:20", "unexpected end of data" },
	{ "{\"vms\": [{\"match\": {\"name\": \"\"}, \"strict\": true}]}", 0, "1",
	  "bad value \"\" for \"name\" in /vms/0/match: expected a non-empty fnmatch(3) glob" },
	{ "{\"devices\": [{\"match\": {\"id\": \"8086-a780\"}, \"noncoherent\": true}]}", 0, "1",
	  "for \"id\"" },
	{ "{\"devices\": [{\"match\": {\"id\": \"808g:*\"}, \"noncoherent\": true}]}", 0, "1",
	  "for \"id\"" },
	{ "{\"devices\": [{\"match\": {\"id\": \"8086:a7800\"}, \"noncoherent\": true}]}", 0, "1",
	  "for \"id\"" },
	{ "{\"quirks\": {\"IGNORE_GUEST_PAT\": true}}", 0, "1",
	  "wrong type for \"IGNORE_GUEST_PAT\" in /quirks: expected a string, got a boolean" },
	{ "{\"quirks\": {\"a/b\": \"keep\"}}", 0, "1", "\"a/b\" is not a KVM quirk name" },
	{ "{\"shared_memory\": {\"honor\": true}}", 0, "1",
	  "unknown key \"honor\" in /shared_memory (expected one of: honor_guest_pat)" },
	{ "{\n\"vms\": {}}", 0, "2", "wrong type for \"vms\": expected an array, got an object" },
	{ "{\"mode\": \"x\\ny\"}", 0, "1", "bad value \"x?y\" for \"mode\"" },
};

START_TEST(test_bad_texts)
{
	const struct text_case *t = &text_cases[_i];
	struct operator_policy pol;
	struct snapshot snap;
	struct mt_error err = { 0 };
	char prefix[64];
	int r;

	operator_policy_init(&pol);
	snapshot_take(&pol, &snap);
	snprintf(prefix, sizeof(prefix), "t.json:%s", t->location);
	r = policy_parse_text(t->text, t->len ? t->len : strlen(t->text), "t.json", &pol, &err);
	ck_assert_msg(r < 0, "case %d accepted", _i);
	ck_assert_msg(strncmp(err.message, prefix, strlen(prefix)) == 0,
		      "case %d: \"%s\" does not start with \"%s\"", _i, err.message, prefix);
	ck_assert_msg(strstr(err.message, t->message), "case %d: \"%s\" lacks \"%s\"", _i, err.message,
		      t->message);
	snapshot_check(&pol, &snap);
}
END_TEST

/* ----- loading: drop-ins, ordering, masking ----------------------------- */

static const char *const fixture_dirs[] = {
	POLICY_DIR "/dropins/usr/policy.d",
	POLICY_DIR "/dropins/etc/policy.d",
	NULL,
};

START_TEST(test_load_dropins)
{
	static const char *const order[] = {
		"dropins/memtype.json",
		"dropins/usr/policy.d/10-vendor.json",
		"dropins/etc/policy.d/20-site.json",
		"dropins/etc/policy.d/50-gpu.json",
		"dropins/usr/policy.d/90-last.json",
	};
	struct operator_policy *p = NULL;
	struct mt_error err = { 0 };
	int r;

	r = policy_load(POLICY_DIR "/dropins/memtype.json", fixture_dirs, &p, &err);
	ck_assert_msg(r == 0, "%d %s", r, err.message);
	/* Main file first, then drop-ins by name across both directories; the
	 * empty /etc 60-masked.json masks the vendor file, /etc's 50-gpu.json
	 * replaces the vendor's, hidden files and backups are skipped. */
	ck_assert_uint_eq(p->n_sources, ELEMENTSOF(order));
	for (size_t i = 0; i < ELEMENTSOF(order); i++)
		ck_assert_msg(ends_with(p->sources[i], order[i]), "source %zu: %s", i, p->sources[i]);

	/* Scalars: later files override key by key. */
	ck_assert_int_eq(p->mode, POLICY_MODE_PERFORMANCE);
	ck_assert(ends_with(p->mode_origin.file, "etc/policy.d/20-site.json"));
	ck_assert_uint_eq(p->mode_origin.line, 2);
	ck_assert(p->strict);
	ck_assert_uint_eq(p->strict_origin.line, 3);
	ck_assert_int_eq(p->quirks[KVM_QUIRK_CD_NW_CLEARED], QUIRK_SETTING_KEEP);
	ck_assert(ends_with(p->quirk_origin[KVM_QUIRK_CD_NW_CLEARED].file, "usr/policy.d/10-vendor.json"));
	ck_assert_uint_eq(p->quirk_origin[KVM_QUIRK_CD_NW_CLEARED].line, 3);
	ck_assert_int_eq(p->quirks[KVM_QUIRK_IGNORE_GUEST_PAT], QUIRK_SETTING_DISABLE);
	ck_assert(ends_with(p->quirk_origin[KVM_QUIRK_IGNORE_GUEST_PAT].file, "etc/policy.d/50-gpu.json"));
	ck_assert_uint_eq(p->quirk_origin[KVM_QUIRK_IGNORE_GUEST_PAT].line, 3);

	/* Rules append in file order; the masked vendor rule (ffff:*) is absent. */
	ck_assert_uint_eq(p->n_device_rules, 3);
	ck_assert_uint_eq(p->device_rules[0].vendor_id, 0x1af4);
	ck_assert(ends_with(p->device_rules[0].origin.file, "dropins/memtype.json"));
	ck_assert(p->device_rules[1].match_class);
	ck_assert_uint_eq(p->device_rules[1].class_code, 0x030000);
	ck_assert_uint_eq(p->device_rules[2].vendor_id, 0x8086);
	ck_assert(ends_with(p->device_rules[2].origin.file, "etc/policy.d/50-gpu.json"));
	ck_assert_uint_eq(p->device_rules[2].origin.line, 6);
	ck_assert_uint_eq(p->n_vm_rules, 2);
	ck_assert_str_eq(p->vm_rules[0].name_glob, "win*");
	ck_assert_str_eq(p->vm_rules[1].name_glob, "*");
	ck_assert(ends_with(p->vm_rules[1].origin.file, "usr/policy.d/90-last.json"));
	operator_policy_free(p);
	operator_policy_free(NULL);
}
END_TEST

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* A temporary tree: <tmp>/vendor and <tmp>/etc drop-in directories. */
static void make_tree(char *tmp, size_t size, char *vendor, char *etc, size_t dsize)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(tmp, size, "%s/memtype-test-config-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(vendor, dsize, "%s/vendor", tmp);
	snprintf(etc, dsize, "%s/etc", tmp);
	ck_assert_int_eq(mkdir(vendor, 0755), 0);
	ck_assert_int_eq(mkdir(etc, 0755), 0);
}

START_TEST(test_load_masking_and_skipping)
{
	char tmp[256], vendor[300], etc[300], path[400];
	const char *dirs[] = { vendor, etc, NULL };
	struct operator_policy *p = NULL;
	struct mt_error err = { 0 };
	int r;

	make_tree(tmp, sizeof(tmp), vendor, etc, sizeof(vendor));
	write_text(vendor, "70-vendor.json", "{\"mode\": \"conservative\"}");
	write_text(vendor, "80-kept.json", "{\"strict\": true}");
	/* A symlink to /dev/null masks the vendor file of the same name. */
	snprintf(path, sizeof(path), "%s/70-vendor.json", etc);
	ck_assert_int_eq(symlink("/dev/null", path), 0);
	/* Backups, hidden files, directories and dangling links are no drop-ins. */
	write_text(etc, "75-backup.json~", "garbage");
	write_text(etc, ".75-hidden.json", "garbage");
	write_text(etc, "75-notes.txt", "garbage");
	snprintf(path, sizeof(path), "%s/76-dir.json", etc);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/77-dangling.json", etc);
	ck_assert_int_eq(symlink("/nonexistent/memtype.json", path), 0);
	/* A symlink to a real file is followed. */
	snprintf(path, sizeof(path), "%s/85-linked.json", etc);
	ck_assert_int_eq(symlink(POLICY_DIR "/per-device.json", path), 0);

	r = policy_load(NULL, dirs, &p, &err);
	ck_assert_msg(r == 0, "%d %s", r, err.message);
	ck_assert_int_eq(p->mode, POLICY_MODE_BALANCED);
	ck_assert(p->strict);
	ck_assert_uint_eq(p->n_sources, 2);
	ck_assert(ends_with(p->sources[0], "/vendor/80-kept.json"));
	ck_assert(ends_with(p->sources[1], "/etc/85-linked.json"));
	ck_assert_uint_eq(p->n_device_rules, 5);
	operator_policy_free(p);
	rm_rf(tmp);
}
END_TEST

START_TEST(test_load_missing)
{
	static const char *const dirs[] = { "/nonexistent/memtype/a", "/nonexistent/memtype/b", NULL };
	struct operator_policy *p = NULL, defaults;
	struct mt_error err = { 0 };

	operator_policy_init(&defaults);
	ck_assert_int_eq(policy_load("/nonexistent/memtype.json", dirs, &p, &err), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert(memcmp(p, &defaults, sizeof(defaults)) == 0);
	operator_policy_free(p);
	p = NULL;
	ck_assert_int_eq(policy_load(NULL, NULL, &p, &err), 0);
	ck_assert_int_eq(p->mode, POLICY_MODE_BALANCED);
	ck_assert_uint_eq(p->n_sources, 0);
	operator_policy_free(p);
}
END_TEST

START_TEST(test_load_failure_keeps_ret)
{
	char tmp[256], vendor[300], etc[300];
	const char *dirs[] = { vendor, etc, NULL };
	struct operator_policy *good = NULL, *p;
	struct mt_error err = { 0 };
	int r;

	make_tree(tmp, sizeof(tmp), vendor, etc, sizeof(vendor));
	write_text(vendor, "10-ok.json", "{\"mode\": \"performance\"}");
	ck_assert_int_eq(policy_load(NULL, dirs, &good, &err), 0);
	ck_assert_int_eq(good->mode, POLICY_MODE_PERFORMANCE);

	/* One bad drop-in after a good one: the whole load fails, and the
	 * caller's last good policy is what it still holds. */
	write_text(etc, "20-bad.json", "{\n  \"mode\": \"conservative\",\n  \"strictt\": true\n}\n");
	p = good;
	r = policy_load(NULL, dirs, &p, &err);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_eq(p, good);
	ck_assert_int_eq(good->mode, POLICY_MODE_PERFORMANCE);
	ck_assert_msg(strstr(err.message, "/etc/20-bad.json:3: unknown key \"strictt\" at top level"),
		      "%s", err.message);

	/* A main file that is a directory is an error, not a silent default. */
	memset(&err, 0, sizeof(err));
	r = policy_load(vendor, NULL, &p, &err);
	ck_assert_int_eq(r, -EISDIR);
	ck_assert_ptr_eq(p, good);
	ck_assert_msg(strstr(err.message, "not a regular file"), "%s", err.message);
	operator_policy_free(good);
	rm_rf(tmp);
}
END_TEST

/* ----- limits ----------------------------------------------------------- */

/* A document of n device rules, one per line from line 3 on. */
static char *rules_document(size_t n)
{
	size_t size = 64 + n * 80;
	char *text = malloc(size);
	size_t len;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, size, "{\n\"devices\": [\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len,
					"{\"match\": {\"id\": \"8086:%04zx\"}, \"noncoherent\": true}%s\n",
					i, i + 1 < n ? "," : "");
	snprintf(text + len, size - len, "]\n}\n");
	return text;
}

START_TEST(test_limit_rules)
{
	struct operator_policy pol;
	struct snapshot snap;
	struct mt_error err = { 0 };
	char *text;
	int r;

	operator_policy_init(&pol);
	text = rules_document(POLICY_MAX_RULES);
	r = policy_parse_text(text, strlen(text), "max.json", &pol, &err);
	ck_assert_msg(r == 0, "%s", err.message);
	ck_assert_uint_eq(pol.n_device_rules, POLICY_MAX_RULES);
	ck_assert_uint_eq(pol.device_rules[POLICY_MAX_RULES - 1].device_id, POLICY_MAX_RULES - 1);
	ck_assert_uint_eq(pol.device_rules[POLICY_MAX_RULES - 1].origin.line, POLICY_MAX_RULES + 2);
	free(text);

	/* One more rule in a later file is over the limit for all files. */
	snapshot_take(&pol, &snap);
	text = rules_document(1);
	r = policy_parse_text(text, strlen(text), "one-more.json", &pol, &err);
	ck_assert_int_eq(r, -E2BIG);
	ck_assert_msg(strstr(err.message, "one-more.json:3: too many rules"), "%s", err.message);
	snapshot_check(&pol, &snap);
	free(text);
	policy_clear(&pol);

	/* In one file: the error is at the first rule over the limit. */
	operator_policy_init(&pol);
	memset(&err, 0, sizeof(err));
	text = rules_document(POLICY_MAX_RULES + 5);
	ck_assert_int_eq(policy_parse_text(text, strlen(text), "big.json", &pol, &err), -E2BIG);
	ck_assert_msg(strstr(err.message, "big.json:1027: too many rules"), "%s", err.message);
	ck_assert_uint_eq(pol.n_device_rules, 0);
	free(text);
}
END_TEST

START_TEST(test_limit_size)
{
	char tmp[256], vendor[300], etc[300], path[400];
	struct operator_policy pol;
	struct mt_error err = { 0 };
	size_t len = POLICY_FILE_MAX_BYTES;
	char *text = malloc(len + 2);
	FILE *f;

	/* Exactly the limit is fine: an object padded with blanks. */
	ck_assert_ptr_nonnull(text);
	memset(text, ' ', len + 1);
	memcpy(text, "{\"mode\": \"performance\"}", 23);
	text[len + 1] = '\0';
	operator_policy_init(&pol);
	ck_assert_int_eq(policy_parse_text(text, len, "limit.json", &pol, &err), 0);
	ck_assert_int_eq(pol.mode, POLICY_MODE_PERFORMANCE);
	policy_clear(&pol);

	operator_policy_init(&pol);
	ck_assert_int_eq(policy_parse_text(text, len + 1, "big.json", &pol, &err), -EFBIG);
	ck_assert_str_eq(err.message, "big.json: file is larger than 1048576 bytes");

	make_tree(tmp, sizeof(tmp), vendor, etc, sizeof(vendor));
	snprintf(path, sizeof(path), "%s/big.json", etc);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len + 1, f), len + 1);
	ck_assert_int_eq(fclose(f), 0);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(policy_parse_file(path, &pol, &err), -EFBIG);
	ck_assert_msg(strstr(err.message, "/etc/big.json: file is larger than"), "%s", err.message);
	ck_assert_uint_eq(pol.n_sources, 0);
	free(text);
	rm_rf(tmp);
}
END_TEST

/* ----- JSON view -------------------------------------------------------- */

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

START_TEST(test_to_json)
{
	struct operator_policy *p = NULL;
	struct json_object *j = NULL, *origins, *o, *rule;
	struct mt_error err = { 0 };

	ck_assert_int_eq(policy_load(POLICY_DIR "/dropins/memtype.json", fixture_dirs, &p, &err), 0);
	ck_assert_int_eq(operator_policy_to_json(p, &j), 0);
	ck_assert_str_eq(json_object_get_string(get(j, "schema")), POLICY_SCHEMA);
	ck_assert_uint_eq(json_object_array_length(get(j, "sources")), 5);
	ck_assert_str_eq(json_object_get_string(get(j, "mode")), "performance");
	ck_assert(json_object_get_boolean(get(j, "strict")));
	ck_assert_str_eq(json_object_get_string(get(get(j, "quirks"), "IGNORE_GUEST_PAT")), "disable");
	ck_assert_str_eq(json_object_get_string(get(get(j, "quirks"), "LINT0_REENABLED")), "auto");
	ck_assert(!json_object_get_boolean(get(get(j, "shared_memory"), "honor_guest_pat")));

	origins = get(j, "origins");
	o = get(origins, "/mode");
	ck_assert(ends_with(json_object_get_string(get(o, "file")), "etc/policy.d/20-site.json"));
	ck_assert_int_eq(json_object_get_int(get(o, "line")), 2);
	o = get(origins, "/quirks/CD_NW_CLEARED");
	ck_assert_int_eq(json_object_get_int(get(o, "line")), 3);
	/* Built-in defaults have no origin entry. */
	ck_assert(!json_object_object_get_ex(origins, "/quirks/LINT0_REENABLED", NULL));
	ck_assert(!json_object_object_get_ex(origins, "/shared_memory/honor_guest_pat", NULL));

	rule = json_object_array_get_idx(get(j, "devices"), 1);
	ck_assert_str_eq(json_object_get_string(get(get(rule, "match"), "class")), "0300");
	ck_assert(json_object_get_boolean(get(rule, "write_combining")));
	ck_assert(!json_object_object_get_ex(rule, "noncoherent", NULL));
	rule = json_object_array_get_idx(get(j, "devices"), 0);
	ck_assert_str_eq(json_object_get_string(get(get(rule, "match"), "id")), "1af4:*");
	rule = json_object_array_get_idx(get(j, "vms"), 0);
	ck_assert_str_eq(json_object_get_string(get(get(rule, "match"), "name")), "win*");
	ck_assert_str_eq(json_object_get_string(get(rule, "mode")), "balanced");
	ck_assert_int_eq(json_object_get_int(get(get(rule, "origin"), "line")), 9);
	json_object_put(j);
	operator_policy_free(p);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("positions");
	tcase_add_test(tc, test_positions_lookup);
	tcase_add_loop_test(tc, test_positions_errors, 0, ELEMENTSOF(scan_cases));
	tcase_add_test(tc, test_excerpt);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_default_file);
	tcase_add_test(tc, test_performance_file);
	tcase_add_test(tc, test_per_vm_file);
	tcase_add_test(tc, test_per_device_file);
	tcase_add_loop_test(tc, test_bad_files, 0, ELEMENTSOF(bad_cases));
	tcase_add_loop_test(tc, test_bad_texts, 0, ELEMENTSOF(text_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load_dropins);
	tcase_add_test(tc, test_load_masking_and_skipping);
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_failure_keeps_ret);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limit_rules);
	tcase_add_test(tc, test_limit_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

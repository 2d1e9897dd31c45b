/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl policy check FILE...: validate operator policy files read as
 * drop-ins in the given order, and show the policy they add up to. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "config/config.h"
#include "memtypectl.h"
#include "policy/plan.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct operator_policy *, operator_policy_free);

static const char *origin_text(const struct policy_origin *o, char *buf, size_t size)
{
	if (!o->file[0])
		return "built-in";
	snprintf(buf, size, "%s:%u", o->file, o->line);
	return buf;
}

static void format_quirk_settings(const enum quirk_setting *q, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned b = 0; b < MT_QUIRK_BITS && len < size; b++) {
		const char *name = kvm_quirk_name(b);

		if (q[b] == QUIRK_SETTING_AUTO)
			continue;
		len += snprintf(buf + len, size - len, "%s%s=%s", len ? "," : "",
				name ? name : "?", quirk_setting_to_string(q[b]));
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

static int print_vm_rules(const struct operator_policy *p)
{
	static const char *const headers[] = {
		"VM RULE", "UUID", "MODE", "QUIRKS", "SHMEM", "STRICT", "FROM",
	};
	_cleanup_(table_freep) struct table *t = NULL;

	if (p->n_vm_rules == 0)
		return 0;
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_vm_rules; i++) {
		const struct vm_rule *v = &p->vm_rules[i];
		char quirks[512], from[300];

		format_quirk_settings(v->quirks, quirks, sizeof(quirks));
		if (table_add_rowf(t, v->name_glob[0] ? v->name_glob : "*",
				   v->uuid[0] ? v->uuid : NULL,
				   v->has_mode ? policy_mode_to_string(v->mode) : NULL, quirks,
				   tristate_to_string(v->honor_shared_memory),
				   tristate_to_string(v->strict),
				   origin_text(&v->origin, from, sizeof(from))) < 0)
			return -ENOMEM;
	}
	printf("\n");
	table_print(t, stdout);
	return 0;
}

static void format_device_match(const struct device_rule *d, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (d->match_id) {
		if (d->device_id == 0xffff)
			len += snprintf(buf, size, "id=%04x:*", d->vendor_id);
		else
			len += snprintf(buf, size, "id=%04x:%04x", d->vendor_id, d->device_id);
	}
	if (d->match_class && len < size)
		len += snprintf(buf + len, size - len, "%sclass=%06x/%06x", len ? "," : "",
				(unsigned)d->class_code, (unsigned)d->class_mask);
	if (d->bdf[0] && len < size)
		snprintf(buf + len, size - len, "%sbdf=%s", len ? "," : "", d->bdf);
	if (buf[0] == '\0')
		snprintf(buf, size, "any");
}

static int print_device_rules(const struct operator_policy *p)
{
	static const char *const headers[] = {
		"DEVICE RULE", "NONCOHERENT", "ALLOW WC", "FROM",
	};
	_cleanup_(table_freep) struct table *t = NULL;

	if (p->n_device_rules == 0)
		return 0;
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_device_rules; i++) {
		const struct device_rule *d = &p->device_rules[i];
		char match[128], from[300];

		format_device_match(d, match, sizeof(match));
		if (table_add_rowf(t, match, tristate_to_string(d->noncoherent),
				   tristate_to_string(d->allow_wc),
				   origin_text(&d->origin, from, sizeof(from))) < 0)
			return -ENOMEM;
	}
	printf("\n");
	table_print(t, stdout);
	return 0;
}

static bool policy_has_quirk_settings(const struct operator_policy *p)
{
	for (unsigned b = 0; b < MT_QUIRK_BITS; b++)
		if (p->quirks[b] != QUIRK_SETTING_AUTO)
			return true;
	return false;
}

static int print_policy_table(const struct operator_policy *p)
{
	char from[300];
	int r;

	printf("Files:          ");
	for (size_t i = 0; i < p->n_sources; i++)
		printf("%s%s", i ? ", " : "", p->sources[i]);
	printf("%s\n", p->n_sources ? "" : "none");
	printf("Mode:           %s (%s)\n", policy_mode_to_string(p->mode),
	       origin_text(&p->mode_origin, from, sizeof(from)));
	printf("Strict:         %s\n", yes_no(p->strict));
	printf("Shared memory:  %s\n", p->honor_shared_memory ? "honor guest PAT" : "keep forced WB");
	printf("Quirks:        ");
	for (unsigned b = 0; b < MT_QUIRK_BITS; b++) {
		const char *name = kvm_quirk_name(b);

		if (p->quirks[b] == QUIRK_SETTING_AUTO)
			continue;
		printf(" %s=%s (%s)", name ? name : "?", quirk_setting_to_string(p->quirks[b]),
		       origin_text(&p->quirk_origin[b], from, sizeof(from)));
	}
	printf("%s\n", policy_has_quirk_settings(p) ? " (others auto)" : " all auto");
	r = print_vm_rules(p);
	if (r < 0)
		return r;
	return print_device_rules(p);
}

static int print_policy(const struct operator_policy *p, enum json_mode mode)
{
	_cleanup_json_ struct json_object *o = NULL;
	int r;

	if (mode == JSON_OFF)
		return print_policy_table(p);
	r = operator_policy_to_json(p, &o);
	if (r < 0)
		return r;
	return output_json(o, mode);
}

/* Merge one file into pol; on error pol is unchanged and the error has been
 * printed. Returns 0 or an exit code. */
static int check_one_file(const char *path, struct operator_policy *pol)
{
	struct mt_error err = {};
	const char *msg;
	int r;

	if (access(path, R_OK) < 0)
		return cli_error(MT_EXIT_BAD_INPUT, "cannot read policy file %s: %m", path);
	r = policy_parse_file(path, pol, &err);
	if (r == -ENOMEM)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	if (r < 0) {
		msg = mt_error_message(&err, r);
		if (strstr(msg, path))
			return cli_error(MT_EXIT_BAD_INPUT, "%s", msg);
		return cli_error(MT_EXIT_BAD_INPUT, "%s: %s", path, msg);
	}
	return 0;
}

/* Every file is checked, so that one run reports every bad file; the
 * effective policy is shown only when all of them are good. */
int verb_policy(int argc, char **argv, const struct cli_args *args)
{
	static const char *const no_dirs[] = { NULL };
	_cleanup_(operator_policy_freep) struct operator_policy *pol = NULL;
	struct mt_error err = {};
	int r, ret = MT_EXIT_SUCCESS;

	if (!streq(argv[1], "check"))
		return cli_error(MT_EXIT_USAGE, "unknown command 'policy %s' (see --help)", argv[1]);
	if (argc < 3)
		return cli_error(MT_EXIT_USAGE, "'policy check' needs at least one FILE");
	/* Start from the built-in defaults: no main file, no directories. */
	r = policy_load(NULL, no_dirs, &pol, &err);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot set up the default policy: %s",
				 mt_error_message(&err, r));
	for (int i = 2; i < argc; i++) {
		r = check_one_file(argv[i], pol);
		if (r != 0 && ret == MT_EXIT_SUCCESS)
			ret = r;
	}
	if (ret != MT_EXIT_SUCCESS)
		return ret;
	r = print_policy(pol, args->json);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the policy: %s", strerror(-r));
	return MT_EXIT_SUCCESS;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The merged, effective operator policy as JSON, with the file:line each
 * setting came from (memtypectl policy check --json). */
#include <errno.h>
#include <stdio.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "common/macro.h"
#include "config.h"
#include "policy/plan.h"

static struct json_object *origin_to_json(const struct policy_origin *o)
{
	_cleanup_json_ struct json_object *j = json_object_new_object();

	if (!j || mt_json_add_string(j, "file", o->file) < 0 ||
	    mt_json_add(j, "line", json_object_new_int64(o->line)) < 0)
		return NULL;
	return TAKE_PTR(j);
}

/* Origins only for what a file set: line 0 is a built-in default. */
static int add_origin(struct json_object *origins, const char *pointer,
		      const struct policy_origin *o)
{
	if (o->line == 0)
		return 0;
	return mt_json_add(origins, pointer, origin_to_json(o));
}

/* {"NAME": "setting"} for every known quirk (all) or the non-auto ones. */
static struct json_object *quirks_to_json(const enum quirk_setting *settings, bool all)
{
	_cleanup_json_ struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	for (unsigned bit = 0; bit < MT_QUIRK_BITS; bit++) {
		const char *name = kvm_quirk_name(bit);

		if (!name || (!all && settings[bit] == QUIRK_SETTING_AUTO))
			continue;
		if (mt_json_add_string(j, name, quirk_setting_to_string(settings[bit])) < 0)
			return NULL;
	}
	return TAKE_PTR(j);
}

/* Only what a rule sets: an unset tristate leaves the key out. */
static int add_tristate_if_set(struct json_object *o, const char *key, enum mt_tristate t)
{
	if (t == MT_UNKNOWN)
		return 0;
	return mt_json_add_tristate(o, key, t);
}

static struct json_object *vm_rule_to_json(const struct vm_rule *r)
{
	_cleanup_json_ struct json_object *j = json_object_new_object();
	_cleanup_json_ struct json_object *match = json_object_new_object();

	if (!j || !match)
		return NULL;
	if ((r->name_glob[0] && mt_json_add_string(match, "name", r->name_glob) < 0) ||
	    (r->uuid[0] && mt_json_add_string(match, "uuid", r->uuid) < 0) ||
	    mt_json_add(j, "match", TAKE_PTR(match)) < 0)
		return NULL;
	if (r->has_mode && mt_json_add_string(j, "mode", policy_mode_to_string(r->mode)) < 0)
		return NULL;
	if (add_tristate_if_set(j, "strict", r->strict) < 0 ||
	    mt_json_add(j, "quirks", quirks_to_json(r->quirks, false)) < 0 ||
	    add_tristate_if_set(j, "honor_shared_memory", r->honor_shared_memory) < 0 ||
	    mt_json_add(j, "origin", origin_to_json(&r->origin)) < 0)
		return NULL;
	return TAKE_PTR(j);
}

static struct json_object *device_match_to_json(const struct device_rule *r)
{
	_cleanup_json_ struct json_object *match = json_object_new_object();
	char buf[16];

	if (!match)
		return NULL;
	if (r->match_id) {
		if (r->device_id == 0xffff)
			snprintf(buf, sizeof(buf), "%04x:*", r->vendor_id);
		else
			snprintf(buf, sizeof(buf), "%04x:%04x", r->vendor_id, r->device_id);
		if (mt_json_add_string(match, "id", buf) < 0)
			return NULL;
	}
	if (r->match_class) {
		/* As many digits as the mask covers: "03", "0300" or "030000". */
		int digits = r->class_mask == 0xff0000 ? 2 : r->class_mask == 0xffff00 ? 4 : 6;

		snprintf(buf, sizeof(buf), "%06x", r->class_code);
		buf[digits] = '\0';
		if (mt_json_add_string(match, "class", buf) < 0)
			return NULL;
	}
	if (r->bdf[0] && mt_json_add_string(match, "bdf", r->bdf) < 0)
		return NULL;
	return TAKE_PTR(match);
}

static struct json_object *device_rule_to_json(const struct device_rule *r)
{
	_cleanup_json_ struct json_object *j = json_object_new_object();

	if (!j || mt_json_add(j, "match", device_match_to_json(r)) < 0 ||
	    add_tristate_if_set(j, "noncoherent", r->noncoherent) < 0 ||
	    add_tristate_if_set(j, "write_combining", r->allow_wc) < 0 ||
	    mt_json_add(j, "origin", origin_to_json(&r->origin)) < 0)
		return NULL;
	return TAKE_PTR(j);
}

static struct json_object *origins_to_json(const struct operator_policy *p)
{
	_cleanup_json_ struct json_object *j = json_object_new_object();
	char pointer[64];

	if (!j || add_origin(j, "/mode", &p->mode_origin) < 0 ||
	    add_origin(j, "/strict", &p->strict_origin) < 0 ||
	    add_origin(j, "/shared_memory/honor_guest_pat", &p->honor_shared_memory_origin) < 0)
		return NULL;
	for (unsigned bit = 0; bit < MT_QUIRK_BITS; bit++) {
		if (!kvm_quirk_name(bit))
			continue;
		snprintf(pointer, sizeof(pointer), "/quirks/%s", kvm_quirk_name(bit));
		if (add_origin(j, pointer, &p->quirk_origin[bit]) < 0)
			return NULL;
	}
	return TAKE_PTR(j);
}

static struct json_object *shared_memory_to_json(const struct operator_policy *p)
{
	_cleanup_json_ struct json_object *j = json_object_new_object();

	if (!j || mt_json_add_bool(j, "honor_guest_pat", p->honor_shared_memory) < 0)
		return NULL;
	return TAKE_PTR(j);
}

static int add_rules(struct json_object *o, const struct operator_policy *p)
{
	_cleanup_json_ struct json_object *vms = json_object_new_array();
	_cleanup_json_ struct json_object *devices = json_object_new_array();

	if (!vms || !devices)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_vm_rules; i++)
		if (mt_json_append(vms, vm_rule_to_json(&p->vm_rules[i])) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < p->n_device_rules; i++)
		if (mt_json_append(devices, device_rule_to_json(&p->device_rules[i])) < 0)
			return -ENOMEM;
	if (mt_json_add(o, "vms", TAKE_PTR(vms)) < 0 || mt_json_add(o, "devices", TAKE_PTR(devices)) < 0)
		return -ENOMEM;
	return 0;
}

int operator_policy_to_json(const struct operator_policy *p, struct json_object **ret)
{
	_cleanup_json_ struct json_object *j = NULL;
	_cleanup_json_ struct json_object *sources = NULL;

	if (!p || !ret)
		return -EINVAL;
	j = json_object_new_object();
	sources = json_object_new_array();
	if (!j || !sources)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_sources; i++)
		if (mt_json_append(sources, json_object_new_string(p->sources[i])) < 0)
			return -ENOMEM;
	if (mt_json_add_string(j, "schema", POLICY_SCHEMA) < 0 ||
	    mt_json_add(j, "sources", TAKE_PTR(sources)) < 0 ||
	    mt_json_add_string(j, "mode", policy_mode_to_string(p->mode)) < 0 ||
	    mt_json_add_bool(j, "strict", p->strict) < 0 ||
	    mt_json_add(j, "quirks", quirks_to_json(p->quirks, true)) < 0 ||
	    mt_json_add(j, "shared_memory", shared_memory_to_json(p)) < 0 || add_rules(j, p) < 0 ||
	    mt_json_add(j, "origins", origins_to_json(p)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(j);
	return 0;
}

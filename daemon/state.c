/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The records memtyped keeps of VMs: their string tables, the table of them
 * and their VM form of io.memtype.Manager.varlink. The state file that
 * stores them is state-file.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json-util.h"
#include "common/strtable.h"
#include "daemon/state.h"
#include "policy/plan.h"

static const char *const vm_source_names[_VM_SOURCE_MAX] = {
	[VM_SOURCE_LIBVIRT] = "libvirt",
	[VM_SOURCE_REGISTERED] = "registered",
};

static const char *const vm_run_state_names[_VM_RUN_STATE_MAX] = {
	[VM_PREPARED] = "prepared",
	[VM_STARTING] = "starting",
	[VM_RUNNING] = "running",
	[VM_STOPPED] = "stopped",
};

static const char *const apply_status_names[_APPLY_STATUS_MAX] = {
	[APPLY_PLANNED] = "planned",
	[APPLY_MODULE_UNAVAILABLE] = "module-unavailable",
	[APPLY_APPLIED] = "applied",
	[APPLY_APPLIED_LATE] = "applied-late",
	[APPLY_FAILED] = "failed",
	[APPLY_EXPIRED] = "expired",
	[APPLY_PENDING] = "pending",
};


const char *vm_source_to_string(enum vm_source s)
{
	return strtable_name(vm_source_names, ELEMENTSOF(vm_source_names), s);
}

int vm_source_from_string(const char *s)
{
	return strtable_index(vm_source_names, ELEMENTSOF(vm_source_names), s);
}

const char *vm_run_state_to_string(enum vm_run_state s)
{
	return strtable_name(vm_run_state_names, ELEMENTSOF(vm_run_state_names), s);
}

int vm_run_state_from_string(const char *s)
{
	return strtable_index(vm_run_state_names, ELEMENTSOF(vm_run_state_names), s);
}

const char *apply_status_to_string(enum apply_status s)
{
	return strtable_name(apply_status_names, ELEMENTSOF(apply_status_names), s);
}

int apply_status_from_string(const char *s)
{
	return strtable_index(apply_status_names, ELEMENTSOF(apply_status_names), s);
}

struct vm_record *vm_record_new(void)
{
	return calloc(1, sizeof(struct vm_record));
}

struct vm_record *vm_record_free(struct vm_record *r)
{
	if (!r)
		return NULL;
	free(r->plan_json);
	free(r->xml);
	state_text_free(r->text);
	free(r);
	return NULL;
}

int vm_record_set_xml(struct vm_record *r, const char *xml)
{
	char *copy = NULL;

	if (xml) {
		copy = strdup(xml);
		if (!copy)
			return -ENOMEM;
	}
	free(r->xml);
	r->xml = copy;
	r->text_gen++;
	return 0;
}

/* The plan's "disable_quirks_mask" is a "0x..." string (plan-json.c):
 * 64-bit masks do not survive JSON numbers in every reader. */
static int plan_disable_mask(struct json_object *plan, uint64_t *ret)
{
	struct json_object *v;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(plan, "disable_quirks_mask", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	if (strncmp(s, "0x", 2) != 0 || !s[2])
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s + 2, &end, 16);
	if (errno != 0 || *end)
		return -EINVAL;
	return 0;
}

int vm_record_set_plan(struct vm_record *r, struct json_object *plan)
{
	struct json_object *schema, *noncoherent;
	uint64_t mask;
	char *text;

	if (!r || !json_object_is_type(plan, json_type_object))
		return -EINVAL;
	if (!json_object_object_get_ex(plan, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_string) ||
	    !streq(json_object_get_string(schema), PLAN_SCHEMA))
		return -EINVAL;
	if (!json_object_object_get_ex(plan, "noncoherent_dma", &noncoherent) ||
	    !json_object_is_type(noncoherent, json_type_boolean))
		return -EINVAL;
	if (plan_disable_mask(plan, &mask) < 0)
		return -EINVAL;
	text = strdup(json_object_to_json_string_ext(plan, JSON_C_TO_STRING_PLAIN));
	if (!text)
		return -ENOMEM;
	free(r->plan_json);
	r->plan_json = text;
	r->text_gen++;
	r->disable_quirks_mask = mask;
	r->noncoherent_dma = json_object_get_boolean(noncoherent);
	return 0;
}

static struct json_object *quirk_names_json(uint64_t mask)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = kvm_quirk_name(bit);
		char unknown[16];

		if (!(mask & (UINT64_C(1) << bit)))
			continue;
		if (!name) {
			/* As the plan names a bit newer than this build. */
			snprintf(unknown, sizeof(unknown), "BIT_%u", bit);
			name = unknown;
		}
		if (mt_json_append(a, json_object_new_string(name)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

/* The "code" of each entry of the plan's diagnostics list key. */
static struct json_object *diag_codes_json(struct json_object *plan, const char *key)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();
	struct json_object *list;

	if (!a)
		return NULL;
	if (!plan || !json_object_object_get_ex(plan, key, &list) ||
	    !json_object_is_type(list, json_type_array))
		return TAKE_PTR(a);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *code;

		if (!json_object_object_get_ex(json_object_array_get_idx(list, i), "code", &code) ||
		    !json_object_is_type(code, json_type_string))
			continue;
		if (mt_json_append(a, json_object_get(code)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static struct json_object *readback_json(const struct vm_record *r)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_u64(o, "kvm_mask", r->readback_kvm_mask) < 0 ||
	    mt_json_add_u64(o, "memtype_mask", r->readback_memtype_mask) < 0 ||
	    mt_json_add(o, "noncoherent", json_object_new_int(r->readback_noncoherent)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static int add_identity(struct json_object *o, const struct vm_record *r)
{
	const char *source = vm_source_to_string(r->source);
	const char *state = vm_run_state_to_string(r->state);
	const char *apply = apply_status_to_string(r->apply);
	int k;

	if (!source || !state || !apply)
		return -EINVAL;
	if ((k = mt_json_add_string(o, "name", r->name)) < 0 ||
	    (k = mt_json_add_string(o, "uuid", r->uuid)) < 0 ||
	    (k = mt_json_add_string(o, "source", source)) < 0 ||
	    (k = mt_json_add_string(o, "state", state)) < 0)
		return k;
	k = r->pid > 0 ? mt_json_add(o, "pid", json_object_new_int(r->pid)) : mt_json_add_null(o, "pid");
	if (k < 0 || (k = mt_json_add_string(o, "apply", apply)) < 0 ||
	    (k = mt_json_add_string_or_null(o, "apply_reason", r->apply_reason)) < 0)
		return k;
	return 0;
}

static int add_plan_summary(struct json_object *o, const struct vm_record *r,
			    struct json_object *plan)
{
	if (mt_json_add(o, "disable_quirks", quirk_names_json(r->disable_quirks_mask)) < 0 ||
	    mt_json_add_u64(o, "disable_quirks_mask", r->disable_quirks_mask) < 0 ||
	    mt_json_add_bool(o, "noncoherent_dma", r->noncoherent_dma) < 0 ||
	    mt_json_add(o, "warnings", diag_codes_json(plan, "warnings")) < 0 ||
	    mt_json_add(o, "errors", diag_codes_json(plan, "errors")) < 0)
		return -ENOMEM;
	return 0;
}

int vm_record_to_json(const struct vm_record *r, bool with_plan, struct json_object **ret)
{
	_cleanup_json_ struct json_object *o = NULL, *plan = NULL;
	int k;

	if (!r || !ret)
		return -EINVAL;
	if (r->plan_json) {
		plan = json_tokener_parse(r->plan_json);
		if (!plan)
			return -EBADMSG;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	k = add_identity(o, r);
	if (k < 0)
		return k;
	if (add_plan_summary(o, r, plan) < 0 ||
	    mt_json_add_string_or_null(o, "last_phase", r->last_phase) < 0 ||
	    mt_json_add_u64(o, "updated_usec", r->updated_usec) < 0)
		return -ENOMEM;
	k = r->readback ? mt_json_add(o, "readback", readback_json(r)) : mt_json_add_null(o, "readback");
	if (k < 0)
		return k;
	if (with_plan) {
		k = plan ? mt_json_add(o, "plan", TAKE_PTR(plan)) : mt_json_add_null(o, "plan");
		if (k < 0)
			return k;
	}
	*ret = TAKE_PTR(o);
	return 0;
}

void vm_table_done(struct vm_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		vm_record_free(t->v[i]);
	free(t->v);
	*t = (struct vm_table){};
}

static ssize_t vm_table_index(const struct vm_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->v[i]->name, name))
			return (ssize_t)i;
	return -1;
}

struct vm_record *vm_table_find(const struct vm_table *t, const char *name_or_uuid)
{
	ssize_t i;

	if (!t || !name_or_uuid || !*name_or_uuid)
		return NULL;
	i = vm_table_index(t, name_or_uuid);
	if (i >= 0)
		return t->v[i];
	/* Clients may spell a UUID in upper case; libvirt prints lower. */
	for (size_t j = 0; j < t->n; j++)
		if (strcasecmp(t->v[j]->uuid, name_or_uuid) == 0)
			return t->v[j];
	return NULL;
}

int vm_table_add(struct vm_table *t, struct vm_record *r)
{
	if (!t || !r || !r->name[0])
		return -EINVAL;
	if (vm_table_index(t, r->name) >= 0)
		return -EEXIST;
	if (t->n >= STATE_MAX_VMS)
		return -ENOSPC;
	if (t->n == t->alloc) {
		size_t alloc = t->alloc ? t->alloc * 2 : 16;
		struct vm_record **v = reallocarray(t->v, alloc, sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->alloc = alloc;
	}
	t->v[t->n++] = r;
	return 0;
}

int vm_table_remove(struct vm_table *t, const char *name)
{
	ssize_t i;

	if (!t || !name)
		return -EINVAL;
	i = vm_table_index(t, name);
	if (i < 0)
		return -ENOENT;
	vm_record_free(t->v[i]);
	/* Keep the order: ListVMs shows records in the order they came. */
	memmove(t->v + i, t->v + i + 1, (t->n - (size_t)i - 1) * sizeof(*t->v));
	t->n--;
	return 0;
}

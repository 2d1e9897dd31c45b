/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memtype.plan/1 document (DESIGN.md "Decision") of a plan, in json-c. */
#include <errno.h>
#include <stdio.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "plan-internal.h"

static struct json_object *quirk_names(uint64_t mask)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = kvm_quirk_name(bit);
		char buf[16];

		if (!(mask & (1ULL << bit)))
			continue;
		if (!name) {
			/* A quirk newer than this build: keep it visible. */
			snprintf(buf, sizeof(buf), "BIT_%u", bit);
			name = buf;
		}
		if (mt_json_append(a, json_object_new_string(name)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static struct json_object *vm_json(const struct plan *p)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "name", p->vm_name) < 0 ||
	    mt_json_add_string_or_null(o, "uuid", p->vm_uuid) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *host_json(const struct plan *p)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	int r;

	if (!o || mt_json_add_string(o, "cpu_vendor", cpu_vendor_to_string(p->cpu_vendor)) < 0 ||
	    mt_json_add_bool(o, "self_snoop", p->self_snoop) < 0 ||
	    mt_json_add_string_or_null(o, "kernel", p->kernel) < 0)
		return NULL;
	if (p->kvm_quirks_known)
		r = mt_json_add(o, "kvm_supported_quirks", quirk_names(p->kvm_supported_quirks));
	else
		r = mt_json_add_null(o, "kvm_supported_quirks");
	return r < 0 ? NULL : TAKE_PTR(o);
}

static struct json_object *strings_json(const char *const *s, unsigned n)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < n; i++)
		if (mt_json_append(a, json_object_new_string(s[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static struct json_object *quirk_json(const struct plan_quirk *q)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	const char *name = kvm_quirk_name(q->bit);

	if (!o || mt_json_add_string_or_null(o, "name", name) < 0 ||
	    mt_json_add(o, "bit", json_object_new_int((int)q->bit)) < 0 ||
	    mt_json_add_string(o, "action", quirk_action_to_string(q->action)) < 0 ||
	    mt_json_add_string(o, "reason", q->reason) < 0 ||
	    mt_json_add(o, "rules", strings_json(q->rules, q->n_rules)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* The decision on one memory region, passed-through BAR or emulated. */
static int add_memtype(struct json_object *o, enum bar_memtype memtype, bool wc_possible,
		       const char *reason)
{
	if (mt_json_add_string(o, "memtype", bar_memtype_to_string(memtype)) < 0 ||
	    mt_json_add_bool(o, "wc_possible", wc_possible) < 0 ||
	    mt_json_add_string(o, "reason", reason ? reason : "") < 0)
		return -ENOMEM;
	return 0;
}

static struct json_object *bar_json(const struct plan_bar *b)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add(o, "index", json_object_new_int((int)b->index)) < 0 ||
	    mt_json_add_u64(o, "size", b->size) < 0 ||
	    mt_json_add_bool(o, "io", b->is_io) < 0 ||
	    mt_json_add_bool(o, "prefetchable", b->prefetchable) < 0 ||
	    add_memtype(o, b->memtype, b->wc_possible, b->reason) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static const char *device_kind_to_string(enum plan_device_kind k)
{
	switch (k) {
	case PLAN_DEVICE_PCI:
		return "pci";
	case PLAN_DEVICE_MDEV:
		return "mdev";
	case PLAN_DEVICE_INTERFACE:
		return "interface";
	case PLAN_DEVICE_INTERFACE_POOL:
		return "interface-pool";
	}
	return "invalid";
}

static int device_ids_json(struct json_object *o, const struct plan_device *d)
{
	char id[16], cls[8];

	if (!d->found) {
		if (mt_json_add_string_or_null(o, "id", NULL) < 0)
			return -ENOMEM;
		return mt_json_add_string_or_null(o, "class", NULL);
	}
	snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
	snprintf(cls, sizeof(cls), "%04x", (d->class_code >> 8) & 0xffff);
	if (mt_json_add_string(o, "id", id) < 0)
		return -ENOMEM;
	return mt_json_add_string(o, "class", cls);
}

static struct json_object *device_json(const struct plan_device *d)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	_cleanup_json_ struct json_object *bars = json_object_new_array();

	if (!o || !bars)
		return NULL;
	for (unsigned i = 0; i < d->n_bars; i++)
		if (mt_json_append(bars, bar_json(&d->bars[i])) < 0)
			return NULL;
	if (mt_json_add_string_or_null(o, "bdf", d->bdf) < 0 ||
	    mt_json_add_string(o, "kind", device_kind_to_string(d->kind)) < 0 ||
	    (d->kind == PLAN_DEVICE_MDEV && mt_json_add_string_or_null(o, "mdev_uuid", d->mdev_uuid) < 0) ||
	    mt_json_add_bool(o, "found", d->found) < 0 ||
	    device_ids_json(o, d) < 0 ||
	    mt_json_add_string_or_null(o, "iommu_unit", d->iommu_unit) < 0 ||
	    mt_json_add_tristate(o, "snoop_control", d->snoop_control) < 0 ||
	    mt_json_add_bool(o, "noncoherent", d->noncoherent) < 0 ||
	    mt_json_add_tristate(o, "nosnoop_enabled", d->nosnoop_enabled) < 0 ||
	    mt_json_add_string(o, "reason", d->reason) < 0 ||
	    mt_json_add(o, "bars", TAKE_PTR(bars)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *emulated_json(const struct plan_emulated *e)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "device", e->device) < 0 ||
	    mt_json_add_string(o, "model", e->model) < 0 ||
	    mt_json_add_string(o, "region", e->region) < 0 ||
	    mt_json_add_u64(o, "size", e->size) < 0 ||
	    add_memtype(o, e->memtype, e->wc_possible, e->reason) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *diags_json(const struct plan_diag *d, unsigned n)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (mt_json_append(a, o) < 0 ||
		    mt_json_add_string(o, "code", d[i].code) < 0 ||
		    mt_json_add_string(o, "message", d[i].message) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static struct json_object *trace_json(const struct plan *p)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < p->n_trace; i++) {
		const struct plan_trace *t = &p->trace[i];
		struct json_object *o = json_object_new_object();

		if (mt_json_append(a, o) < 0 ||
		    mt_json_add_string(o, "rule", t->rule) < 0 ||
		    mt_json_add_string(o, "fact", t->fact) < 0 ||
		    mt_json_add_string(o, "outcome", t->outcome) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static int add_lists(struct json_object *o, const struct plan *p)
{
	_cleanup_json_ struct json_object *quirks = json_object_new_array();
	_cleanup_json_ struct json_object *devices = json_object_new_array();
	_cleanup_json_ struct json_object *emulated = json_object_new_array();

	if (!quirks || !devices || !emulated)
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_quirks; i++)
		if (mt_json_append(quirks, quirk_json(&p->quirks[i])) < 0)
			return -ENOMEM;
	for (unsigned i = 0; i < p->n_devices; i++)
		if (mt_json_append(devices, device_json(&p->devices[i])) < 0)
			return -ENOMEM;
	for (unsigned i = 0; i < p->n_emulated; i++)
		if (mt_json_append(emulated, emulated_json(&p->emulated[i])) < 0)
			return -ENOMEM;
	if (mt_json_add(o, "quirks", TAKE_PTR(quirks)) < 0 ||
	    mt_json_add_hex(o, "disable_quirks_mask", p->disable_quirks_mask) < 0 ||
	    mt_json_add(o, "devices", TAKE_PTR(devices)) < 0 ||
	    mt_json_add(o, "emulated", TAKE_PTR(emulated)) < 0 ||
	    mt_json_add(o, "warnings", diags_json(p->warnings, p->n_warnings)) < 0 ||
	    mt_json_add(o, "errors", diags_json(p->errors, p->n_errors)) < 0 ||
	    mt_json_add(o, "trace", trace_json(p)) < 0)
		return -ENOMEM;
	return 0;
}

int plan_to_json(const struct plan *p, struct json_object **ret)
{
	_cleanup_json_ struct json_object *o = NULL;
	if (!p || !ret)
		return -EINVAL;
	/* Counts index fixed arrays below: refuse a plan that breaks them. */
	if (!plan_counts_valid(p))
		return -EINVAL;
	o = json_object_new_object();
	if (!o || mt_json_add_string(o, "schema", PLAN_SCHEMA) < 0 ||
	    mt_json_add(o, "vm", vm_json(p)) < 0 ||
	    mt_json_add(o, "host", host_json(p)) < 0 ||
	    mt_json_add_bool(o, "kvm_quirks_known", p->kvm_quirks_known) < 0 ||
	    mt_json_add_string(o, "mode", policy_mode_to_string(p->mode)) < 0 ||
	    mt_json_add_bool(o, "strict", p->strict) < 0 ||
	    mt_json_add_string(o, "launch_security", launch_security_to_string(p->launch_security)) < 0 ||
	    mt_json_add_bool(o, "noncoherent_dma", p->noncoherent_dma) < 0 ||
	    add_lists(o, p) < 0 ||
	    mt_json_add_bool(o, "truncated", p->truncated) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memtype.plan/1 document (DESIGN.md "Decision") of a plan, in json-c. */
#include <errno.h>
#include <stdio.h>

#include <json-c/json.h>

#include "plan-internal.h"

static inline void json_object_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Add v under key; v is consumed even on failure. NULL v means ENOMEM. */
static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int append(struct json_object *a, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* json null for "" (json_object_new_null() does not exist in 0.16: NULL is
 * json null, so it cannot go through add()). */
static int add_string_or_null(struct json_object *o, const char *key, const char *s)
{
	if (!s || !*s)
		return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
	return add(o, key, json_object_new_string(s));
}

static int add_tristate(struct json_object *o, const char *key, enum mt_tristate t)
{
	if (t == MT_UNKNOWN)
		return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
	return add(o, key, json_object_new_boolean(t == MT_YES));
}

static int add_hex(struct json_object *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return add(o, key, json_object_new_string(buf));
}

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
		if (append(a, json_object_new_string(name)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static struct json_object *vm_json(const struct plan *p)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || add(o, "name", json_object_new_string(p->vm_name)) < 0 ||
	    add_string_or_null(o, "uuid", p->vm_uuid) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *host_json(const struct plan *p)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	int r;

	if (!o || add(o, "cpu_vendor", json_object_new_string(cpu_vendor_to_string(p->cpu_vendor))) < 0 ||
	    add(o, "self_snoop", json_object_new_boolean(p->self_snoop)) < 0 ||
	    add_string_or_null(o, "kernel", p->kernel) < 0)
		return NULL;
	if (p->kvm_quirks_known)
		r = add(o, "kvm_supported_quirks", quirk_names(p->kvm_supported_quirks));
	else
		r = json_object_object_add(o, "kvm_supported_quirks", NULL) < 0 ? -ENOMEM : 0;
	return r < 0 ? NULL : TAKE_PTR(o);
}

static struct json_object *strings_json(const char *const *s, unsigned n)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < n; i++)
		if (append(a, json_object_new_string(s[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static struct json_object *quirk_json(const struct plan_quirk *q)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	const char *name = kvm_quirk_name(q->bit);

	if (!o || add_string_or_null(o, "name", name) < 0 ||
	    add(o, "bit", json_object_new_int((int)q->bit)) < 0 ||
	    add(o, "action", json_object_new_string(quirk_action_to_string(q->action))) < 0 ||
	    add(o, "reason", json_object_new_string(q->reason)) < 0 ||
	    add(o, "rules", strings_json(q->rules, q->n_rules)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *bar_json(const struct plan_bar *b)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || add(o, "index", json_object_new_int((int)b->index)) < 0 ||
	    add(o, "size", json_object_new_uint64(b->size)) < 0 ||
	    add(o, "io", json_object_new_boolean(b->is_io)) < 0 ||
	    add(o, "prefetchable", json_object_new_boolean(b->prefetchable)) < 0 ||
	    add(o, "memtype", json_object_new_string(bar_memtype_to_string(b->memtype))) < 0 ||
	    add(o, "wc_possible", json_object_new_boolean(b->wc_possible)) < 0 ||
	    add(o, "reason", json_object_new_string(b->reason ? b->reason : "")) < 0)
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
		if (add_string_or_null(o, "id", NULL) < 0)
			return -ENOMEM;
		return add_string_or_null(o, "class", NULL);
	}
	snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
	snprintf(cls, sizeof(cls), "%04x", (d->class_code >> 8) & 0xffff);
	if (add(o, "id", json_object_new_string(id)) < 0)
		return -ENOMEM;
	return add(o, "class", json_object_new_string(cls));
}

static struct json_object *device_json(const struct plan_device *d)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	_cleanup_json_ struct json_object *bars = json_object_new_array();

	if (!o || !bars)
		return NULL;
	for (unsigned i = 0; i < d->n_bars; i++)
		if (append(bars, bar_json(&d->bars[i])) < 0)
			return NULL;
	if (add_string_or_null(o, "bdf", d->bdf) < 0 ||
	    add(o, "kind", json_object_new_string(device_kind_to_string(d->kind))) < 0 ||
	    (d->kind == PLAN_DEVICE_MDEV && add_string_or_null(o, "mdev_uuid", d->mdev_uuid) < 0) ||
	    add(o, "found", json_object_new_boolean(d->found)) < 0 ||
	    device_ids_json(o, d) < 0 ||
	    add_string_or_null(o, "iommu_unit", d->iommu_unit) < 0 ||
	    add_tristate(o, "snoop_control", d->snoop_control) < 0 ||
	    add(o, "noncoherent", json_object_new_boolean(d->noncoherent)) < 0 ||
	    add_tristate(o, "nosnoop_enabled", d->nosnoop_enabled) < 0 ||
	    add(o, "reason", json_object_new_string(d->reason)) < 0 ||
	    add(o, "bars", TAKE_PTR(bars)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *emulated_json(const struct plan_emulated *e)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || add(o, "device", json_object_new_string(e->device)) < 0 ||
	    add(o, "model", json_object_new_string(e->model)) < 0 ||
	    add(o, "region", json_object_new_string(e->region)) < 0 ||
	    add(o, "size", json_object_new_uint64(e->size)) < 0 ||
	    add(o, "memtype", json_object_new_string(bar_memtype_to_string(e->memtype))) < 0 ||
	    add(o, "wc_possible", json_object_new_boolean(e->wc_possible)) < 0 ||
	    add(o, "reason", json_object_new_string(e->reason ? e->reason : "")) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *diags_json(const struct plan_diag *d, unsigned n)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (append(a, o) < 0 ||
		    add(o, "code", json_object_new_string(d[i].code)) < 0 ||
		    add(o, "message", json_object_new_string(d[i].message)) < 0)
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

		if (append(a, o) < 0 ||
		    add(o, "rule", json_object_new_string(t->rule)) < 0 ||
		    add(o, "fact", json_object_new_string(t->fact)) < 0 ||
		    add(o, "outcome", json_object_new_string(t->outcome)) < 0)
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
		if (append(quirks, quirk_json(&p->quirks[i])) < 0)
			return -ENOMEM;
	for (unsigned i = 0; i < p->n_devices; i++)
		if (append(devices, device_json(&p->devices[i])) < 0)
			return -ENOMEM;
	for (unsigned i = 0; i < p->n_emulated; i++)
		if (append(emulated, emulated_json(&p->emulated[i])) < 0)
			return -ENOMEM;
	if (add(o, "quirks", TAKE_PTR(quirks)) < 0 ||
	    add_hex(o, "disable_quirks_mask", p->disable_quirks_mask) < 0 ||
	    add(o, "devices", TAKE_PTR(devices)) < 0 ||
	    add(o, "emulated", TAKE_PTR(emulated)) < 0 ||
	    add(o, "warnings", diags_json(p->warnings, p->n_warnings)) < 0 ||
	    add(o, "errors", diags_json(p->errors, p->n_errors)) < 0 ||
	    add(o, "trace", trace_json(p)) < 0)
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
	if (!o || add(o, "schema", json_object_new_string(PLAN_SCHEMA)) < 0 ||
	    add(o, "vm", vm_json(p)) < 0 ||
	    add(o, "host", host_json(p)) < 0 ||
	    add(o, "kvm_quirks_known", json_object_new_boolean(p->kvm_quirks_known)) < 0 ||
	    add(o, "mode", json_object_new_string(policy_mode_to_string(p->mode))) < 0 ||
	    add(o, "strict", json_object_new_boolean(p->strict)) < 0 ||
	    add(o, "launch_security", json_object_new_string(launch_security_to_string(p->launch_security))) < 0 ||
	    add(o, "noncoherent_dma", json_object_new_boolean(p->noncoherent_dma)) < 0 ||
	    add_lists(o, p) < 0 ||
	    add(o, "truncated", json_object_new_boolean(p->truncated)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The methods of io.memtype.Manager (daemon/io.memtype.Manager.varlink is
 * their contract: names of methods, parameters, replies and errors come from
 * there). Each handler decodes nothing itself (the table does), turns the
 * call into Manager operations and the outcome into a reply or a named
 * error. Nothing here waits on libvirt: a call that needs a domain's XML
 * from libvirt is answered later, when the libvirt thread has it. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "config/config.h"
#include "daemon/kmod.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "inventory/inventory.h"

#define NO_READBACK_DETAIL "nothing can be read back from memtype.ko"

static struct manager *manager_of(struct varlink_request *r)
{
	return varlink_request_userdata(r);
}

/* ----- errors -------------------------------------------------------------- */

static int reply_error_string(struct varlink_request *r, const char *error, const char *key,
			      const char *value)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, key, value) < 0)
		return -ENOMEM;
	return varlink_request_error(r, error, o);
}

static int reply_failed(struct varlink_request *r, const char *reason)
{
	return reply_error_string(r, MANAGER_ERROR("Failed"), "reason", reason);
}

static int reply_no_such_vm(struct varlink_request *r, const char *name)
{
	return reply_error_string(r, MANAGER_ERROR("NoSuchVM"), "name", name);
}

static int reply_invalid_xml(struct varlink_request *r, const char *reason)
{
	return reply_error_string(r, MANAGER_ERROR("InvalidXML"), "reason", reason);
}

static int reply_limit(struct varlink_request *r, const char *what, unsigned limit)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "what", what) < 0 ||
	    mt_json_add_u64(o, "limit", limit) < 0)
		return -ENOMEM;
	return varlink_request_error(r, MANAGER_ERROR("LimitReached"), o);
}

static int reply_libvirt_unavailable(struct varlink_request *r, const char *reason)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "uri", manager_of(r)->opts.libvirt_uri) < 0 ||
	    mt_json_add_string(o, "reason", reason) < 0)
		return -ENOMEM;
	return varlink_request_error(r, MANAGER_ERROR("LibvirtUnavailable"), o);
}

/* The error of a failed manager_change_record() or manager_plan_xml(). */
static int reply_change_error(struct varlink_request *r, const char *name, int error,
			      const struct mt_error *err)
{
	switch (error) {
	case -ENOENT:
		return reply_no_such_vm(r, name);
	case -EBADMSG:
		return reply_invalid_xml(r, mt_error_message(err, error));
	case -ENOSPC:
		return reply_limit(r, "recorded VMs", STATE_MAX_VMS);
	default:
		return reply_failed(r, mt_error_message(err, error));
	}
}

/* Strict mode: a plan with errors must not start (DESIGN.md "Applying a
 * plan"). */
static bool plan_refuses_start(const struct plan *p)
{
	return p->strict && plan_has_errors(p);
}

static int reply_plan_refused(struct varlink_request *r, const char *name, const struct plan *p)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *codes = json_object_new_array();
	char message[512];

	snprintf(message, sizeof(message),
		 "memtype: the strict policy refuses to start %s: %s%s", name,
		 p->errors[0].message, p->n_errors > 1 ? " (and more errors)" : "");
	if (!o || mt_json_add(o, "errors", codes) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_errors; i++)
		if (mt_json_append(codes, json_object_new_string(p->errors[i].code)) < 0)
			return -ENOMEM;
	if (mt_json_add_string(o, "name", name) < 0 ||
	    mt_json_add_string(o, "message", message) < 0)
		return -ENOMEM;
	log_vm(LOG_WARNING, name, "refused", p->disable_quirks_mask, "%s", message);
	return varlink_request_error(r, MANAGER_ERROR("PlanRefused"), o);
}

/* ----- replies ------------------------------------------------------------- */

/* Reply with rec (or null) under key, added to extra (consumed) if given. */
static int reply_vm(struct varlink_request *r, const char *key, const struct vm_record *rec,
		    struct json_object *extra)
{
	_cleanup_json_ struct json_object *o = extra ? extra : json_object_new_object();
	struct json_object *vm = NULL;
	int ret;

	if (!o)
		return -ENOMEM;
	if (rec) {
		ret = vm_record_to_json(rec, false, &vm);
		if (ret < 0)
			return ret;
	}
	ret = vm ? mt_json_add(o, key, vm) : mt_json_add_null(o, key);
	if (ret < 0)
		return ret;
	return varlink_request_reply(r, o);
}

static int reply_plan(struct varlink_request *r, enum xml_purpose purpose, const struct plan *p)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	_cleanup_free_ char *text = NULL;
	struct json_object *plan = NULL;
	int ret;

	if (!o)
		return -ENOMEM;
	ret = plan_to_json(p, &plan);
	if (ret < 0)
		return ret;
	if (mt_json_add(o, "plan", plan) < 0)
		return -ENOMEM;
	if (purpose == XML_FOR_EXPLAIN) {
		ret = plan_explain(p, &text);
		if (ret < 0)
			return ret;
		if (mt_json_add_string(o, "text", text) < 0)
			return -ENOMEM;
	}
	return varlink_request_reply(r, o);
}

/* ----- GetStatus ------------------------------------------------------------ */

static struct json_object *strings_json(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		if (mt_json_append(a, json_object_new_string(v[i])) < 0)
			return json_object_put(a), NULL;
	return a;
}

static struct json_object *status_host(const struct manager *m)
{
	const struct host *h = m->host;
	struct json_object *o = json_object_new_object();

	if (!o ||
	    mt_json_add_string(o, "cpu_vendor", cpu_vendor_to_string(h->cpu.vendor)) < 0 ||
	    mt_json_add_string(o, "kernel", h->kernel_release) < 0 ||
	    mt_json_add_bool(o, "kvm", h->kvm.present == MT_YES) < 0 ||
	    mt_json_add_bool(o, "kvm_quirks_known", h->kvm.quirks_known) < 0 ||
	    mt_json_add_u64(o, "kvm_supported_quirks", h->kvm.supported_quirks) < 0 ||
	    mt_json_add_u64(o, "functions", h->n_functions) < 0 ||
	    mt_json_add_u64(o, "iommu_units", h->n_iommu_units) < 0 ||
	    mt_json_add_bool(o, "partial", h->partial) < 0 ||
	    mt_json_add(o, "partial_reasons", strings_json(h->notes, h->n_notes)) < 0 ||
	    mt_json_add_u64(o, "inventoried_usec", m->inventoried_usec) < 0)
		return json_object_put(o), NULL;
	return o;
}

static struct json_object *status_policy(const struct manager *m)
{
	const struct operator_policy *p = m->policy;
	struct json_object *o = json_object_new_object();

	if (!o ||
	    mt_json_add_string(o, "mode", policy_mode_to_string(p->mode)) < 0 ||
	    mt_json_add_bool(o, "strict", p->strict) < 0 ||
	    mt_json_add(o, "files", strings_json(p->sources, p->n_sources)) < 0 ||
	    mt_json_add_string_or_null(o, "last_error", m->policy_error) < 0)
		return json_object_put(o), NULL;
	return o;
}

static struct json_object *status_libvirt(const struct manager *m)
{
	struct json_object *o = json_object_new_object();
	char last_error[512] = "";

	if (m->libvirt)
		lv_monitor_last_error(m->libvirt, last_error, sizeof(last_error));
	if (!o ||
	    mt_json_add_string(o, "uri", m->opts.libvirt_uri) < 0 ||
	    mt_json_add_bool(o, "enabled", m->opts.libvirt_enabled) < 0 ||
	    mt_json_add_bool(o, "connected", manager_libvirt_connected(m)) < 0 ||
	    mt_json_add_u64(o, "reconnects", m->libvirt ? lv_monitor_reconnects(m->libvirt) : 0) < 0 ||
	    mt_json_add_string_or_null(o, "last_error", last_error) < 0)
		return json_object_put(o), NULL;
	return o;
}

static struct json_object *status_udev(const struct manager *m)
{
	struct json_object *o = json_object_new_object();

	if (!o ||
	    mt_json_add_bool(o, "monitoring", m->hotplug != NULL) < 0 ||
	    mt_json_add_string_or_null(o, "reason", m->hotplug ? NULL : m->udev_reason) < 0)
		return json_object_put(o), NULL;
	return o;
}

static struct json_object *status_applier(const struct manager *m)
{
	const struct applier *a = &m->applier;
	struct json_object *o = json_object_new_object();
	char reason[256] = "";
	bool available;

	available = a->ops->available(a->ctx, reason, sizeof(reason));
	if (!o ||
	    mt_json_add_string(o, "name", a->ops->name) < 0 ||
	    mt_json_add_bool(o, "available", available) < 0 ||
	    mt_json_add_string(o, "reason", reason) < 0 ||
	    mt_json_add(o, "module", kmod_status_json()) < 0)
		return json_object_put(o), NULL;
	return o;
}

static int method_get_status(const struct varlink_call *call, void *params, void *userdata)
{
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o ||
	    mt_json_add_string(o, "version", PACKAGE_VERSION) < 0 ||
	    mt_json_add_u64(o, "started_usec", m->started_usec) < 0 ||
	    mt_json_add(o, "host", status_host(m)) < 0 ||
	    mt_json_add(o, "policy", status_policy(m)) < 0 ||
	    mt_json_add(o, "libvirt", status_libvirt(m)) < 0 ||
	    mt_json_add(o, "udev", status_udev(m)) < 0 ||
	    mt_json_add(o, "applier", status_applier(m)) < 0 ||
	    mt_json_add_u64(o, "vms", m->vms.n) < 0 ||
	    mt_json_add_string(o, "state_file", m->opts.state_path) < 0)
		return -ENOMEM;
	return varlink_request_reply(r, o);
}

/* ----- ListDevices, ListVMs --------------------------------------------------- */

static int method_list_devices(const struct varlink_call *call, void *params, void *userdata)
{
	struct varlink_request *r = userdata;
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *host = NULL;
	int ret;

	if (!o)
		return -ENOMEM;
	ret = host_to_json(manager_of(r)->host, &host);
	if (ret < 0)
		return ret;
	if (mt_json_add(o, "host", host) < 0)
		return -ENOMEM;
	return varlink_request_reply(r, o);
}

struct list_vms_params {
	bool full;
};

static const struct varlink_param list_vms_params[] = {
	{ "full", json_type_boolean, offsetof(struct list_vms_params, full), false, NULL },
	{}
};

static int method_list_vms(const struct varlink_call *call, void *params, void *userdata)
{
	const struct list_vms_params *p = params;
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *vms = json_object_new_array();

	if (!o || mt_json_add(o, "vms", vms) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < m->vms.n; i++) {
		struct json_object *vm = NULL;
		int ret = vm_record_to_json(m->vms.v[i], p->full, &vm);

		if (ret < 0)
			return ret;
		if (mt_json_append(vms, vm) < 0)
			return -ENOMEM;
	}
	return varlink_request_reply(r, o);
}

/* ----- Plan, Explain, Apply: a VM by name needs its XML ------------------------ */

struct plan_params {
	const char *name;
	const char *xml;
};

static const struct varlink_param plan_params[] = {
	{ "name", json_type_string, offsetof(struct plan_params, name), false, NULL },
	{ "xml", json_type_string, offsetof(struct plan_params, xml), false, NULL },
	{}
};

static int plan_and_reply(struct varlink_request *r, enum xml_purpose purpose, const char *xml)
{
	_cleanup_free_ struct plan *p = NULL;
	struct mt_error err = {};
	int ret;

	ret = manager_plan_xml(manager_of(r), xml, strlen(xml), &p, &err);
	if (ret < 0)
		return reply_change_error(r, "", ret, &err);
	return reply_plan(r, purpose, p);
}

/* Re-plan a recorded VM from xml and put the plan in force: late when it
 * runs, pending when it is about to. */
static int apply_and_reply(struct varlink_request *r, const char *name, const char *xml)
{
	struct manager *m = manager_of(r);
	_cleanup_free_ struct plan *p = NULL;
	struct vm_record *rec = vm_table_find(&m->vms, name);
	struct mt_error err = {};
	struct record_change c = { .name = name, .action = "applied" };
	int ret;

	if (!rec)
		return reply_no_such_vm(r, name);
	ret = manager_plan_xml(m, xml, strlen(xml), &p, &err);
	if (ret < 0)
		return reply_change_error(r, name, ret, &err);
	c.source = rec->source;
	c.state = rec->state;
	c.plan = p;
	c.step = rec->state == VM_RUNNING ? STEP_LATE :
		 rec->state == VM_STOPPED ? STEP_NONE : STEP_PENDING;
	ret = manager_change_record(m, &c, &rec, &err);
	if (ret < 0)
		return reply_change_error(r, name, ret, &err);
	return reply_vm(r, "vm", rec, NULL);
}

/* Find the XML of the VM called name: a registered VM's own, else ask
 * libvirt and answer in manager_xml_answered(). */
static int with_vm_xml(struct varlink_request *r, const char *name, enum xml_purpose purpose)
{
	struct manager *m = manager_of(r);
	struct vm_record *rec = vm_table_find(&m->vms, name);
	int ret;

	if (rec && rec->source == VM_SOURCE_REGISTERED) {
		if (!rec->xml)
			return reply_failed(r, "the registered VM's XML was not kept");
		return purpose == XML_FOR_APPLY ? apply_and_reply(r, rec->name, rec->xml)
						: plan_and_reply(r, purpose, rec->xml);
	}
	if (!rec && purpose == XML_FOR_APPLY)
		return reply_no_such_vm(r, name);
	if (!m->opts.libvirt_enabled)
		return rec ? reply_libvirt_unavailable(r, "libvirt is disabled (--no-libvirt)")
			   : reply_no_such_vm(r, name);
	ret = manager_request_xml(m, rec ? rec->name : name, purpose, r);
	if (ret == -ENOTCONN)
		return reply_libvirt_unavailable(r, "not connected to libvirt");
	if (ret == -ENOSPC)
		return reply_limit(r, "calls waiting for libvirt", MANAGER_XML_WAITS_MAX);
	if (ret < 0)
		return reply_libvirt_unavailable(r, strerror(-ret));
	return 0;  /* answered when libvirt has the XML */
}

void manager_xml_answered(struct manager *m, struct xml_wait *w, const struct lv_event *e)
{
	struct varlink_request *r = w->request;

	if (!r)
		return;
	if (e->error == -ENOENT)
		(void)reply_no_such_vm(r, w->name);
	else if (e->error < 0 || !e->domain.xml)
		(void)reply_libvirt_unavailable(r, e->message[0] ? e->message : "no domain XML");
	else if (w->purpose == XML_FOR_APPLY)
		(void)apply_and_reply(r, w->name, e->domain.xml);
	else
		(void)plan_and_reply(r, w->purpose, e->domain.xml);
}

static int plan_or_explain(struct varlink_request *r, const struct plan_params *p,
			   enum xml_purpose purpose)
{
	if (!!p->name == !!p->xml)
		return varlink_request_error_invalid_parameter(r, p->name ? "xml" : "name");
	if (p->xml)
		return plan_and_reply(r, purpose, p->xml);
	return with_vm_xml(r, p->name, purpose);
}

static int method_plan(const struct varlink_call *call, void *params, void *userdata)
{
	return plan_or_explain(userdata, params, XML_FOR_PLAN);
}

static int method_explain(const struct varlink_call *call, void *params, void *userdata)
{
	return plan_or_explain(userdata, params, XML_FOR_EXPLAIN);
}

struct name_params {
	const char *name;
};

static const struct varlink_param name_params[] = {
	{ "name", json_type_string, offsetof(struct name_params, name), true, NULL },
	{}
};

static int method_apply(const struct varlink_call *call, void *params, void *userdata)
{
	const struct name_params *p = params;

	return with_vm_xml(userdata, p->name, XML_FOR_APPLY);
}

/* ----- Verify ------------------------------------------------------------------ */

/* What differs between the record and what the applier read back. */
static int drift_details(const struct vm_record *rec, const struct apply_result *res,
			 struct json_object *details)
{
	uint64_t missing = rec->disable_quirks_mask & ~(res->kvm_mask | res->memtype_mask);
	char line[256];

	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(missing & (1ULL << bit)))
			continue;
		snprintf(line, sizeof(line), "quirk %s is planned disabled but is in force",
			 kvm_quirk_name(bit) ?: "(unknown)");
		if (mt_json_append(details, json_object_new_string(line)) < 0)
			return -ENOMEM;
	}
	if (rec->noncoherent_dma != (res->noncoherent > 0)) {
		snprintf(line, sizeof(line), "non-coherent DMA predicted %s, KVM counts %d",
			 rec->noncoherent_dma ? "on" : "off", res->noncoherent);
		if (mt_json_append(details, json_object_new_string(line)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int verify_record(struct manager *m, const struct vm_record *rec,
			 struct json_object *o)
{
	_cleanup_free_ struct plan *p = calloc(1, sizeof(*p));
	struct apply_result res = {};
	struct json_object *details = json_object_new_array();
	int ret;

	if (!p || mt_json_add(o, "details", details) < 0)
		return -ENOMEM;
	snprintf(p->vm_name, sizeof(p->vm_name), "%s", rec->name);
	snprintf(p->vm_uuid, sizeof(p->vm_uuid), "%s", rec->uuid);
	p->disable_quirks_mask = rec->disable_quirks_mask;
	p->noncoherent_dma = rec->noncoherent_dma;
	ret = m->applier.ops->read_back(m->applier.ctx, p, rec->pid, &res);
	if (ret < 0 || !res.readback) {
		if (mt_json_append(details, json_object_new_string(ret >= 0 && res.reason[0]
									   ? res.reason
									   : NO_READBACK_DETAIL)) < 0)
			return -ENOMEM;
		return mt_json_add_null(o, "drift");
	}
	ret = drift_details(rec, &res, details);
	if (ret < 0)
		return ret;
	return mt_json_add_bool(o, "drift", json_object_array_length(details) > 0);
}

static int method_verify(const struct varlink_call *call, void *params, void *userdata)
{
	const struct name_params *p = params;
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	struct vm_record *rec = vm_table_find(&m->vms, p->name);
	struct json_object *o;
	int ret;

	if (!rec)
		return reply_no_such_vm(r, p->name);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	ret = verify_record(m, rec, o);
	if (ret < 0) {
		json_object_put(o);
		return ret;
	}
	return reply_vm(r, "vm", rec, o);
}

/* ----- Hook ---------------------------------------------------------------------- */

struct hook_params {
	const char *name;
	const char *phase;
	const char *subphase;
	const char *extra;
	const char *xml;
	int64_t pid;
};

static const struct varlink_param hook_params[] = {
	{ "name", json_type_string, offsetof(struct hook_params, name), true, NULL },
	{ "phase", json_type_string, offsetof(struct hook_params, phase), true, NULL },
	{ "subphase", json_type_string, offsetof(struct hook_params, subphase), false, NULL },
	{ "extra", json_type_string, offsetof(struct hook_params, extra), false, NULL },
	{ "xml", json_type_string, offsetof(struct hook_params, xml), false, NULL },
	{ "pid", json_type_int, offsetof(struct hook_params, pid), false, NULL },
	{}
};

static int reply_action(struct varlink_request *r, const char *action, const struct vm_record *rec)
{
	struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "action", action) < 0) {
		json_object_put(o);
		return -ENOMEM;
	}
	return reply_vm(r, "vm", rec, o);
}

/* Plan the XML a hook was given, which must be the named domain's. */
static int hook_plan(struct varlink_request *r, const struct hook_params *p, struct plan **ret)
{
	_cleanup_free_ struct plan *plan = NULL;
	struct mt_error err = {};
	char why[MT_NAME_MAX + 80];
	int ret_code;

	if (!p->xml) {
		snprintf(why, sizeof(why), "the %s hook of %s came without the domain XML",
			 p->phase, p->name);
		reply_invalid_xml(r, why);
		return -EBADMSG;
	}
	ret_code = manager_plan_xml(manager_of(r), p->xml, strlen(p->xml), &plan, &err);
	if (ret_code < 0) {
		reply_change_error(r, p->name, ret_code, &err);
		return ret_code;
	}
	if (!streq(plan->vm_name, p->name)) {
		snprintf(why, sizeof(why), "the XML is of domain '%.100s', the hook is for '%.100s'",
			 plan->vm_name, p->name);
		reply_invalid_xml(r, why);
		return -EBADMSG;
	}
	*ret = TAKE_PTR(plan);
	return 0;
}

static int hook_change(struct varlink_request *r, const struct record_change *c)
{
	struct vm_record *rec = NULL;
	struct mt_error err = {};
	int ret;

	ret = manager_change_record(manager_of(r), c, &rec, &err);
	if (ret < 0)
		return reply_change_error(r, c->name, ret, &err);
	return reply_action(r, c->action, rec);
}

/* prepare (also migration-in and restore) and start: plan before QEMU
 * exists; start re-plans from the final XML and replaces the plan. */
static int hook_pending(struct varlink_request *r, const struct hook_params *p, bool start)
{
	_cleanup_free_ struct plan *plan = NULL;
	struct record_change c = {
		.name = p->name, .source = VM_SOURCE_LIBVIRT, .phase = p->phase,
		.step = STEP_PENDING, .create = true,
		.action = start ? "replanned" : "planned",
		.state = start ? VM_STARTING : VM_PREPARED,
		.fresh = !start,
	};

	if (hook_plan(r, p, &plan) < 0)
		return 0;
	if (plan_refuses_start(plan))
		return reply_plan_refused(r, p->name, plan);
	c.plan = plan;
	return hook_change(r, &c);
}

static int hook_prepare(struct varlink_request *r, const struct hook_params *p)
{
	return hook_pending(r, p, false);
}

static int hook_start(struct varlink_request *r, const struct hook_params *p)
{
	return hook_pending(r, p, true);
}

/* started and reconnect: QEMU runs. A VM the daemon has no record of (the
 * earlier hooks failed open, or the record was lost) is planned from the
 * XML now; it is never refused: QEMU runs already, and a failed reconnect
 * hook would make libvirt kill it. */
static int hook_running(struct varlink_request *r, const struct hook_params *p,
			const char *action)
{
	struct manager *m = manager_of(r);
	_cleanup_free_ struct plan *plan = NULL;
	struct vm_record *rec = vm_table_find(&m->vms, p->name);
	struct record_change c = {
		.name = p->name, .action = action, .source = VM_SOURCE_LIBVIRT,
		.state = VM_RUNNING, .pid = (pid_t)p->pid, .phase = p->phase,
		.step = STEP_READ_BACK,
	};

	if (!rec || rec->state == VM_STOPPED) {
		if (hook_plan(r, p, &plan) < 0)
			return 0;
		c.plan = plan;
		c.create = true;
		c.fresh = true;
	}
	return hook_change(r, &c);
}

static int hook_started(struct varlink_request *r, const struct hook_params *p)
{
	return hook_running(r, p, "recorded-running");
}

static int hook_reconnect(struct varlink_request *r, const struct hook_params *p)
{
	return hook_running(r, p, "reconciled");
}

static int hook_stopped(struct varlink_request *r, const struct hook_params *p)
{
	struct vm_record *rec = vm_table_find(&manager_of(r)->vms, p->name);
	struct record_change c = {
		.name = p->name, .action = "stopped", .source = VM_SOURCE_LIBVIRT,
		.state = VM_STOPPED, .phase = p->phase, .step = STEP_FORGET,
	};

	if (!rec || rec->source != VM_SOURCE_LIBVIRT)
		return reply_action(r, "ignored", NULL);
	return hook_change(r, &c);
}

static int hook_release(struct varlink_request *r, const struct hook_params *p)
{
	struct manager *m = manager_of(r);
	struct vm_record *rec = vm_table_find(&m->vms, p->name);
	_cleanup_json_ struct json_object *o = NULL;
	struct json_object *vm = NULL;
	int ret;

	if (!rec || rec->source != VM_SOURCE_LIBVIRT)
		return reply_action(r, "ignored", NULL);
	/* The reply shows the record as it was last, then it goes. */
	rec->state = VM_STOPPED;
	rec->pid = 0;
	snprintf(rec->last_phase, sizeof(rec->last_phase), "%s", p->phase);
	ret = vm_record_to_json(rec, false, &vm);
	manager_remove_record(m, rec, "released", "libvirt released the domain");
	if (ret < 0)
		return ret;
	o = json_object_new_object();
	if (!o || mt_json_add_string(o, "action", "released") < 0 || mt_json_add(o, "vm", vm) < 0)
		return -ENOMEM;
	return varlink_request_reply(r, o);
}

struct hook_phase {
	const char *phase;
	const char *subphase;   /* what libvirt passes with it */
	int (*handle)(struct varlink_request *r, const struct hook_params *p);
};

/* FACTS §5. migrate and restore are XML filters the hook answers alone;
 * attach and phases libvirt may add later are ignored. */
static const struct hook_phase hook_phases[] = {
	{ "prepare", "begin", hook_prepare },
	{ "start", "begin", hook_start },
	{ "started", "begin", hook_started },
	{ "stopped", "end", hook_stopped },
	{ "release", "end", hook_release },
	{ "reconnect", "begin", hook_reconnect },
};

static int method_hook(const struct varlink_call *call, void *params, void *userdata)
{
	const struct hook_params *p = params;
	struct varlink_request *r = userdata;

	if (p->pid < 0 || p->pid > INT_MAX)
		return varlink_request_error_invalid_parameter(r, "pid");
	if (!p->name[0])
		return varlink_request_error_invalid_parameter(r, "name");
	for (size_t i = 0; i < ELEMENTSOF(hook_phases); i++) {
		const struct hook_phase *h = &hook_phases[i];

		if (!streq(h->phase, p->phase))
			continue;
		if (p->subphase && !streq(h->subphase, p->subphase))
			break;
		return h->handle(r, p);
	}
	log_vm(LOG_DEBUG, p->name, "ignored", MT_LOG_NO_QUIRKS, "hook %s %s: ignored", p->phase,
	       p->subphase ?: "-");
	return reply_action(r, "ignored",
			    vm_table_find(&manager_of(r)->vms, p->name));
}

/* ----- Register, Unregister -------------------------------------------------------- */

struct register_params {
	const char *xml;
	int64_t pid;
};

static const struct varlink_param register_params[] = {
	{ "xml", json_type_string, offsetof(struct register_params, xml), true, NULL },
	{ "pid", json_type_int, offsetof(struct register_params, pid), false, NULL },
	{}
};

static int method_register(const struct varlink_call *call, void *params, void *userdata)
{
	const struct register_params *p = params;
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	_cleanup_free_ struct plan *plan = NULL;
	struct vm_record *rec = NULL;
	struct mt_error err = {};
	struct record_change c = {
		.action = "registered", .source = VM_SOURCE_REGISTERED, .xml = p->xml,
		.pid = (pid_t)p->pid, .create = true,
		.state = p->pid > 0 ? VM_RUNNING : VM_PREPARED,
		.step = p->pid > 0 ? STEP_LATE : STEP_PENDING,
	};
	int ret;

	if (p->pid < 0 || p->pid > INT_MAX)
		return varlink_request_error_invalid_parameter(r, "pid");
	ret = manager_plan_xml(m, p->xml, strlen(p->xml), &plan, &err);
	if (ret < 0)
		return reply_change_error(r, "", ret, &err);
	/* Not refused in strict mode: memtyped does not start this VM, its
	 * VMM does, and sees the plan's errors in the reply. */
	if (!plan->vm_name[0])
		return reply_invalid_xml(r, "the domain XML has no <name>");
	rec = vm_table_find(&m->vms, plan->vm_name);
	c.name = plan->vm_name;
	c.plan = plan;
	/* Registering again with a pid is the same VM, now running. */
	c.fresh = !rec || !(p->pid > 0 && rec->state == VM_PREPARED);
	ret = manager_change_record(m, &c, &rec, &err);
	if (ret < 0)
		return reply_change_error(r, plan->vm_name, ret, &err);
	return reply_vm(r, "vm", rec, NULL);
}

static int method_unregister(const struct varlink_call *call, void *params, void *userdata)
{
	const struct name_params *p = params;
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	struct vm_record *rec = vm_table_find(&m->vms, p->name);
	char reason[MT_NAME_MAX + 80];

	if (!rec)
		return reply_no_such_vm(r, p->name);
	if (rec->source != VM_SOURCE_REGISTERED) {
		snprintf(reason, sizeof(reason),
			 "%s is managed by libvirt: its record goes when libvirt stops it", rec->name);
		return reply_failed(r, reason);
	}
	manager_remove_record(m, rec, "unregistered", "unregistered by its VMM");
	return varlink_request_reply(r, NULL);
}

/* ----- Reload, Monitor ------------------------------------------------------------------ */

static int method_reload(const struct varlink_call *call, void *params, void *userdata)
{
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *policy = NULL;
	struct mt_error err = {};
	int ret;

	if (!o)
		return -ENOMEM;
	ret = manager_reload_policy(m, &err);
	if (ret < 0)
		return reply_error_string(r, MANAGER_ERROR("PolicyInvalid"), "reason",
					  m->policy_error);
	ret = operator_policy_to_json(m->policy, &policy);
	if (ret < 0)
		return ret;
	if (mt_json_add(o, "policy", policy) < 0)
		return -ENOMEM;
	return varlink_request_reply(r, o);
}

static int method_monitor(const struct varlink_call *call, void *params, void *userdata)
{
	struct varlink_request *r = userdata;
	struct manager *m = manager_of(r);
	_cleanup_json_ struct json_object *event = NULL, *o = json_object_new_object();
	int ret;

	if (!o)
		return -ENOMEM;
	ret = manager_build_event("daemon", "subscribed", NULL, "subscribed to memtyped's events",
				  &event);
	if (ret < 0)
		return ret;
	if (mt_json_add(o, "event", json_object_get(event)) < 0)
		return -ENOMEM;
	ret = manager_add_subscriber(m, r);
	if (ret == -ENOSPC)
		return reply_limit(r, "Monitor subscribers", MANAGER_SUBSCRIBERS_MAX);
	if (ret < 0)
		return ret;
	return varlink_request_notify(r, o);
}

#define METHOD(name, fn, params_table, params_struct, flags) \
	{ MANAGER_INTERFACE "." name, fn, params_table, params_struct, flags }

const struct varlink_method manager_methods[] = {
	METHOD("GetStatus", method_get_status, NULL, 0, 0),
	METHOD("ListDevices", method_list_devices, NULL, 0, 0),
	METHOD("ListVMs", method_list_vms, list_vms_params, sizeof(struct list_vms_params), 0),
	METHOD("Plan", method_plan, plan_params, sizeof(struct plan_params), 0),
	METHOD("Explain", method_explain, plan_params, sizeof(struct plan_params), 0),
	METHOD("Apply", method_apply, name_params, sizeof(struct name_params),
	       VARLINK_METHOD_PRIVILEGED),
	METHOD("Verify", method_verify, name_params, sizeof(struct name_params), 0),
	METHOD("Hook", method_hook, hook_params, sizeof(struct hook_params),
	       VARLINK_METHOD_PRIVILEGED),
	METHOD("Register", method_register, register_params, sizeof(struct register_params),
	       VARLINK_METHOD_PRIVILEGED),
	METHOD("Unregister", method_unregister, name_params, sizeof(struct name_params),
	       VARLINK_METHOD_PRIVILEGED),
	METHOD("Reload", method_reload, NULL, 0, VARLINK_METHOD_PRIVILEGED),
	METHOD("Monitor", method_monitor, NULL, 0, VARLINK_METHOD_STREAMING),
	{}
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's VM records: planning a domain XML with the host and policy in
 * force, and every change of a record (hook phases, registration, libvirt
 * reconcile and events, re-plans) through one function that keeps the
 * rules in one place: a re-plan never re-enables a quirk, the applier is
 * asked, the change is logged, saved before anyone is told, and streamed
 * to Monitor subscribers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/fileio.h"
#include "common/json-util.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "vm/vm.h"

int manager_plan_xml(struct manager *m, const char *xml, size_t len, struct plan **ret,
		     struct mt_error *err)
{
	_cleanup_free_ struct plan *p = NULL;
	struct vm *vm = NULL;
	int r;

	r = vm_parse_xml(xml, len, &vm, err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* The parser's message names line and column; keep it. */
		mt_error_set(err, -EBADMSG, "domain XML could not be read: %s", strerror(-r));
		return -EBADMSG;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		vm_free(vm);
		return -ENOMEM;
	}
	r = policy_decide(m->host, vm, m->policy, p);
	vm_free(vm);
	if (r < 0)
		return mt_error_set(err, r, "planning failed");
	*ret = TAKE_PTR(p);
	return 0;
}

/* The record's plan as far as the applier needs it (the VM, the mask),
 * for steps that come without a new plan: records keep the plan as JSON,
 * not as the (large) struct. */
static struct plan *summary_plan(const struct vm_record *rec)
{
	struct plan *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->vm_name, sizeof(p->vm_name), "%s", rec->name);
	snprintf(p->vm_uuid, sizeof(p->vm_uuid), "%s", rec->uuid);
	p->disable_quirks_mask = rec->disable_quirks_mask;
	p->noncoherent_dma = rec->noncoherent_dma;
	return p;
}

static void record_apply_result(struct vm_record *rec, const struct apply_result *res)
{
	rec->apply = res->status;
	snprintf(rec->apply_reason, sizeof(rec->apply_reason), "%s", res->reason);
	rec->readback = res->readback;
	if (res->readback) {
		rec->readback_kvm_mask = res->kvm_mask;
		rec->readback_memtype_mask = res->memtype_mask;
		rec->readback_noncoherent = res->noncoherent;
	}
}

static int call_applier(struct manager *m, struct vm_record *rec, const struct plan *p,
			enum applier_step step, struct apply_result *res)
{
	const struct applier_ops *ops = m->applier.ops;
	void *ctx = m->applier.ctx;

	switch (step) {
	case STEP_PENDING:
		return ops->set_pending(ctx, p, m->opts.pending_ttl_usec, res);
	case STEP_READ_BACK:
		return ops->read_back(ctx, p, rec->pid, res);
	case STEP_LATE:
		return ops->apply_late(ctx, p, rec->pid, res);
	case STEP_FORGET:
		return ops->forget(ctx, rec->uuid);
	case STEP_NONE:
		break;
	}
	return 0;
}

/* Ask the applier to do step for rec with plan p (NULL: the record's). */
static void run_applier(struct manager *m, struct vm_record *rec, const struct plan *p,
			enum applier_step step)
{
	_cleanup_free_ struct plan *summary = NULL;
	struct apply_result res = { .status = rec->apply };
	int r;

	if (step == STEP_NONE)
		return;
	if (!p) {
		p = summary = summary_plan(rec);
		if (!p) {
			log_error_errno(-ENOMEM, "applier: no memory for %s", rec->name);
			return;
		}
	}
	r = call_applier(m, rec, p, step, &res);
	if (r < 0) {
		rec->apply = APPLY_FAILED;
		snprintf(rec->apply_reason, sizeof(rec->apply_reason), "applier %s: %s",
			 m->applier.ops->name, strerror(-r));
		return;
	}
	if (step == STEP_FORGET)
		return;
	record_apply_result(rec, &res);
	/* DESIGN.md "Data model": after start, KVM's own count confirms or
	 * refutes the prediction of non-coherent DMA. */
	if (res.readback && rec->noncoherent_dma != (res.noncoherent > 0))
		log_vm(LOG_WARNING, rec->name, "noncoherent-mismatch", rec->disable_quirks_mask,
		       "non-coherent DMA predicted %s, but KVM counts %d non-coherent device(s)",
		       rec->noncoherent_dma ? "on" : "off", res.noncoherent);
}

static int store_plan(struct vm_record *rec, const struct plan *p)
{
	_cleanup_json_ struct json_object *o = NULL;
	int r;

	r = plan_to_json(p, &o);
	if (r < 0)
		return r;
	r = vm_record_set_plan(rec, o);
	if (r < 0)
		return r;
	snprintf(rec->uuid, sizeof(rec->uuid), "%s", p->vm_uuid);
	return 0;
}

/* Replace rec's plan by p unless p would re-enable a quirk the record's
 * plan disables (FACTS §1.3). Returns 1 when the old plan was kept, with
 * why saying which quirk. */
static int replace_plan(struct vm_record *rec, const struct plan *p, bool fresh, char *why,
			size_t why_size)
{
	_cleanup_free_ struct plan *before = NULL;
	int r;

	if (!fresh && rec->plan_json) {
		before = summary_plan(rec);
		if (!before)
			return -ENOMEM;
		if (policy_check_no_reenable(before, p, why, why_size) < 0)
			return 1;
	}
	r = store_plan(rec, p);
	return r < 0 ? r : 0;
}

static int create_record(struct manager *m, const struct record_change *c,
			 struct vm_record **ret, struct mt_error *err)
{
	_cleanup_(vm_record_freep) struct vm_record *rec = NULL;
	int r;

	if (!c->plan)
		return mt_error_set(err, -EINVAL, "no plan to record %s with", c->name);
	rec = vm_record_new();
	if (!rec)
		return -ENOMEM;
	snprintf(rec->name, sizeof(rec->name), "%s", c->name);
	rec->source = c->source;
	r = vm_table_add(&m->vms, rec);
	if (r == -ENOSPC)
		return mt_error_set(err, r, "%d VMs are recorded already", STATE_MAX_VMS);
	if (r < 0)
		return mt_error_set(err, r, "cannot record %s", c->name);
	*ret = TAKE_PTR(rec);
	return 1;
}

static int find_or_create(struct manager *m, const struct record_change *c,
			  struct vm_record **ret, struct mt_error *err)
{
	struct vm_record *rec = vm_table_find(&m->vms, c->name);

	if (rec && rec->source != c->source)
		return mt_error_set(err, -EEXIST, "%s is a VM %s", rec->name,
				    rec->source == VM_SOURCE_LIBVIRT ? "managed by libvirt"
								     : "registered by another VMM");
	if (rec) {
		*ret = rec;
		return 0;
	}
	if (!c->create)
		return mt_error_set(err, -ENOENT, "no VM named %s is recorded", c->name);
	return create_record(m, c, ret, err);
}

static int set_xml(struct vm_record *rec, const char *xml)
{
	if (!xml || rec->source != VM_SOURCE_REGISTERED)
		return 0;
	return vm_record_set_xml(rec, xml);
}

static void move_state(struct manager *m, struct vm_record *rec, const struct record_change *c)
{
	rec->state = c->state;
	if (c->state == VM_STOPPED)
		rec->pid = 0;
	else if (c->pid > 0)
		rec->pid = c->pid;
	if (c->phase)
		snprintf(rec->last_phase, sizeof(rec->last_phase), "%s", c->phase);
	/* Pending plans expire, and so do records of libvirt VMs that stopped
	 * without a release hook; running and registered VMs do not. */
	if (c->state == VM_PREPARED || c->state == VM_STARTING ||
	    (c->state == VM_STOPPED && rec->source == VM_SOURCE_LIBVIRT))
		rec->expires_usec = now_realtime_usec() + m->opts.pending_ttl_usec;
	else
		rec->expires_usec = 0;
	rec->updated_usec = now_realtime_usec();
}

/* Log, save, tell: after every change, before the caller replies. */
static void announce(struct manager *m, const struct vm_record *rec, const char *action)
{
	log_vm(LOG_INFO, rec->name, action, rec->disable_quirks_mask,
	       "%s, state %s, %s%s%s", action, vm_run_state_to_string(rec->state),
	       apply_status_to_string(rec->apply), rec->apply_reason[0] ? ": " : "",
	       rec->apply_reason);
	manager_arm_expiry(m);
	manager_save_state(m);
	manager_emit(m, "vm", action, rec, "%s: %s", rec->name, action);
	manager_update_status(m);
}

static void note_kept_plan(struct vm_record *rec, const char *why)
{
	char reason[2 * sizeof(rec->apply_reason) + 32];

	/* Cut to the record's field; the log line below has it all. */
	snprintf(reason, sizeof(reason), "kept the earlier plan: %s%s%s", why,
		 rec->apply_reason[0] ? "; " : "", rec->apply_reason);
	memcpy(rec->apply_reason, reason, sizeof(rec->apply_reason) - 1);
	rec->apply_reason[sizeof(rec->apply_reason) - 1] = '\0';
	log_vm(LOG_WARNING, rec->name, "plan-kept", rec->disable_quirks_mask,
	       "kept the earlier plan: %s", why);
}

int manager_change_record(struct manager *m, const struct record_change *c,
			  struct vm_record **ret_rec, struct mt_error *err)
{
	struct vm_record *rec = NULL;
	char why[256] = "";
	bool fresh, kept = false;
	int r;

	r = find_or_create(m, c, &rec, err);
	if (r < 0)
		return r;
	/* A new record, or one of a VM that is not running any more, is a new
	 * VM instance: no earlier plan binds it. */
	fresh = r > 0 || c->fresh || rec->state == VM_STOPPED;
	if (c->plan) {
		r = replace_plan(rec, c->plan, fresh, why, sizeof(why));
		if (r < 0)
			return mt_error_set(err, r, "cannot store the plan of %s", c->name);
		kept = r > 0;
	}
	r = set_xml(rec, c->xml);
	if (r < 0)
		return mt_error_set(err, r, "cannot keep the XML of %s", c->name);
	move_state(m, rec, c);
	run_applier(m, rec, kept ? NULL : c->plan, c->step);
	if (kept)
		note_kept_plan(rec, why);
	announce(m, rec, c->action);
	if (ret_rec)
		*ret_rec = rec;
	return 0;
}

void manager_remove_record(struct manager *m, struct vm_record *rec, const char *action,
			   const char *why)
{
	char name[MT_NAME_MAX];

	if (m->applier.ops->forget)
		(void)m->applier.ops->forget(m->applier.ctx, rec->uuid);
	log_vm(LOG_INFO, rec->name, action, rec->disable_quirks_mask, "%s, record removed: %s",
	       action, why);
	manager_emit(m, "vm", action, rec, "%s: %s", rec->name, why);
	snprintf(name, sizeof(name), "%s", rec->name);
	(void)vm_table_remove(&m->vms, name);
	manager_arm_expiry(m);
	manager_save_state(m);
	manager_update_status(m);
}

pid_t manager_read_libvirt_pid(const struct manager *m, const char *name)
{
	char path[4096], line[32];
	uint64_t pid;

	if (strchr(name, '/') || streq(name, ".") || streq(name, ".."))
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s.pid", m->opts.libvirt_run_dir, name) >=
	    (int)sizeof(path))
		return 0;
	if (read_one_line(path, line, sizeof(line)) < 0 || parse_u64(line, 10, &pid) < 0 ||
	    pid == 0 || pid > INT32_MAX)
		return 0;
	return (pid_t)pid;
}

/* ----- libvirt: reconcile and events ----------------------------------- */

static int record_running_from_xml(struct manager *m, const char *name, const char *xml,
				   pid_t pid, const char *action, bool fresh)
{
	_cleanup_free_ struct plan *p = NULL;
	struct mt_error err = {};
	struct record_change c = {
		.name = name, .action = action, .source = VM_SOURCE_LIBVIRT,
		.state = VM_RUNNING, .pid = pid, .step = STEP_LATE, .create = true,
		.fresh = fresh,
	};
	int r;

	r = manager_plan_xml(m, xml, strlen(xml), &p, &err);
	if (r < 0)
		return log_vm(LOG_WARNING, name, "not-planned", MT_LOG_NO_QUIRKS,
			      "running but not planned: %s", mt_error_message(&err, r)), r;
	c.plan = p;
	r = manager_change_record(m, &c, NULL, &err);
	if (r < 0)
		log_warning_errno(r, "%s: %s", name, mt_error_message(&err, r));
	return r;
}

int manager_reconcile_domain(struct manager *m, const struct lv_domain *d, const char *why)
{
	struct vm_record *rec = vm_table_find(&m->vms, d->name);
	pid_t pid = manager_read_libvirt_pid(m, d->name);
	/* A VM found running that no started hook recorded (memtyped was
	 * down, or the module came later): put its plan in force late; the
	 * applier says "applied" when it already was, at creation. */
	struct record_change c = {
		.name = d->name, .action = why, .source = VM_SOURCE_LIBVIRT,
		.state = VM_RUNNING, .pid = pid, .step = STEP_LATE,
	};

	if (rec && rec->source != VM_SOURCE_LIBVIRT) {
		log_warning("libvirt: domain %s has the name of a registered VM; not recorded",
			    d->name);
		return -EEXIST;
	}
	/* Recorded as running already (by the started hook): at most the pid
	 * is news. */
	if (rec && rec->state == VM_RUNNING && (pid == 0 || pid == rec->pid))
		return 0;
	if (rec && rec->state == VM_RUNNING)
		return manager_change_record(m, &c, NULL, NULL);
	if (d->xml)
		return record_running_from_xml(m, d->name, d->xml, pid, why, !rec);
	if (rec)
		return manager_change_record(m, &c, NULL, NULL);
	return manager_request_xml(m, d->name, XML_FOR_RECONCILE, NULL);
}

static bool domain_listed(const struct lv_domain *domains, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(domains[i].name, name))
			return true;
	return false;
}

void manager_reconcile_all(struct manager *m, const struct lv_domain *domains, size_t n)
{
	size_t i = 0;

	for (size_t k = 0; k < n; k++)
		if (domains[k].active)
			(void)manager_reconcile_domain(m, &domains[k], "reconciled");
	/* Records of libvirt VMs that libvirt no longer runs. A prepared one
	 * belongs to a start in progress (or expires on its own). */
	while (i < m->vms.n) {
		struct vm_record *rec = m->vms.v[i];

		if (rec->source == VM_SOURCE_LIBVIRT &&
		    (rec->state == VM_RUNNING || rec->state == VM_STARTING) &&
		    !domain_listed(domains, n, rec->name)) {
			manager_remove_record(m, rec, "stopped", "libvirt does not run it any more");
			i = 0;
			continue;
		}
		i++;
	}
	log_info("libvirt: reconciled %zu running domain(s), %zu record(s)", n, m->vms.n);
}

void manager_domain_stopped(struct manager *m, const char *name)
{
	struct vm_record *rec = vm_table_find(&m->vms, name);

	/* A prepared or starting record is a new start of the same domain,
	 * whose stop event came late. */
	if (!rec || rec->source != VM_SOURCE_LIBVIRT ||
	    rec->state == VM_PREPARED || rec->state == VM_STARTING)
		return;
	manager_remove_record(m, rec, "stopped", "libvirt reports the domain stopped");
}

int manager_replan_running(struct manager *m, const char *name, const char *xml,
			   const char *why)
{
	_cleanup_free_ struct plan *p = NULL;
	struct vm_record *rec = vm_table_find(&m->vms, name);
	struct mt_error err = {};
	struct record_change c = {
		.name = name, .action = why, .state = VM_RUNNING, .step = STEP_LATE,
	};
	int r;

	if (!rec || rec->state != VM_RUNNING)
		return -ENOENT;
	r = manager_plan_xml(m, xml, strlen(xml), &p, &err);
	if (r < 0)
		return log_warning_errno(r, "%s: not re-planned, keeps its plan: %s", name,
					 mt_error_message(&err, r));
	c.source = rec->source;
	c.plan = p;
	/* Nothing to put in force when the quirks stay the same. */
	if (p->disable_quirks_mask == rec->disable_quirks_mask)
		c.step = STEP_NONE;
	r = manager_change_record(m, &c, NULL, &err);
	if (r < 0)
		log_warning_errno(r, "%s: %s", name, mt_error_message(&err, r));
	return r;
}

void manager_replan_all(struct manager *m)
{
	/* A re-plan changes records, never the table's order. The name and
	 * XML are copied since the record's own are replaced along the way. */
	for (size_t i = 0; i < m->vms.n; i++) {
		struct vm_record *rec = m->vms.v[i];
		int r;

		if (rec->state != VM_RUNNING)
			continue;
		if (rec->source == VM_SOURCE_REGISTERED && rec->xml) {
			_cleanup_free_ char *xml = strdup(rec->xml);
			_cleanup_free_ char *name = strdup(rec->name);

			if (xml && name)
				(void)manager_replan_running(m, name, xml, "replanned");
			continue;
		}
		r = manager_request_xml(m, rec->name, XML_FOR_REPLAN, NULL);
		if (r < 0)
			log_vm(LOG_NOTICE, rec->name, "not-replanned", rec->disable_quirks_mask,
			       "keeps its plan, libvirt cannot give its XML now (%s)",
			       strerror(-r));
	}
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's Manager: the one object that owns the event loop, the host
 * inventory, the operator policy, the VM records and the daemon's peers
 * (varlink clients, the applier, udev, the libvirt thread). Internal to
 * memtyped: manager.c runs it, manager-libvirt.c listens to libvirt,
 * manager-vms.c changes VM records, methods.c serves io.memtype.Manager on
 * top of them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/applier.h"
#include "daemon/hotplug.h"
#include "daemon/libvirt-monitor.h"
#include "daemon/state.h"
#include "daemon/varlink-server.h"
#include "policy/plan.h"

#define MANAGER_INTERFACE "io.memtype.Manager"
#define MANAGER_ERROR(name) MANAGER_INTERFACE "." name

#define MANAGER_POLICY_DIRS_MAX 16
#define MANAGER_SUBSCRIBERS_MAX 64
/* libvirt XML requests waiting for their answer (Plan/Explain/Apply of a
 * libvirt VM, re-plans after device events or a policy reload). */
#define MANAGER_XML_WAITS_MAX 256

#define MANAGER_SOCKET_DEFAULT "/run/memtype/io.memtype.Manager"
#define MANAGER_LIBVIRT_URI_DEFAULT "qemu:///system"
#define MANAGER_LIBVIRT_RUN_DIR_DEFAULT "/run/libvirt/qemu"
#define MANAGER_GROUP_DEFAULT "memtype"
#define MANAGER_PENDING_TTL_DEFAULT_SEC 300

/* The IDL served by GetInterfaceDescription: daemon/io.memtype.Manager.varlink
 * as it is in the repository, embedded at build time (daemon/idl.c). */
extern const char manager_idl[];

struct manager_options {
	const char *root;              /* host root to inventory */
	const char *policy_file;
	const char *policy_dirs[MANAGER_POLICY_DIRS_MAX + 1];  /* NULL-terminated */
	const char *state_path;
	const char *socket_path;
	const char *libvirt_uri;
	bool libvirt_enabled;
	const char *libvirt_run_dir;
	const char *group;
	uint64_t pending_ttl_usec;
	bool udev_enabled;
	bool module_enabled;           /* false: the "none" applier */
	const char *vmm_user;          /* NULL: qemu.conf's user (kmod_resolve_vmm_user) */
};

/* Sets the defaults of memtyped(8). */
void manager_options_init(struct manager_options *o);

/* What an XML request to libvirt is for. */
enum xml_purpose {
	XML_FOR_PLAN,          /* Plan: reply with the plan */
	XML_FOR_EXPLAIN,       /* Explain: reply with text and plan */
	XML_FOR_APPLY,         /* Apply: re-plan, apply late, reply with the VM */
	XML_FOR_REPLAN,        /* device change or policy reload: no caller */
	XML_FOR_RECONCILE,     /* a running domain with no record: no caller */
};

struct xml_wait {
	uint64_t id;
	enum xml_purpose purpose;
	struct varlink_request *request;   /* referenced; NULL without a caller */
	char name[MT_NAME_MAX];
};

struct manager {
	struct manager_options opts;
	sd_event *event;
	uint64_t started_usec;          /* CLOCK_REALTIME */

	struct host *host;
	uint64_t inventoried_usec;

	struct operator_policy *policy;
	char policy_error[MT_ERROR_MAX];   /* last failed (re)load, "" none */

	struct vm_table vms;
	sd_event_source *sync;          /* fsync of the state file, due */
	sd_event_source *expiry;        /* earliest expiry of a pending plan
					 * or a stopped VM's record */

	struct applier applier;

	struct varlink_server *server;
	gid_t privileged_gid;
	struct varlink_request *subscribers[MANAGER_SUBSCRIBERS_MAX];
	unsigned n_subscribers;

	struct hotplug *hotplug;
	char udev_reason[256];          /* why udev is not watched, "" when it is */

	struct lv_monitor *libvirt;
	sd_event_source *libvirt_source;
	struct xml_wait xml_waits[MANAGER_XML_WAITS_MAX];
	unsigned n_xml_waits;
	uint64_t next_xml_id;
};

/* manager.c: life cycle */
int manager_new(const struct manager_options *opts, struct manager **ret);
struct manager *manager_free(struct manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free);
/* Everything up to READY: policy, inventory, state, socket, udev, libvirt. */
int manager_startup(struct manager *m);
int manager_run(struct manager *m);

/* manager.c: services for the VM code and the methods */
uint64_t now_realtime_usec(void);
/* Load the policy again (SIGHUP, Reload). On failure keep the old one, set
 * policy_error and return -errno with err naming file:line; on success
 * re-plan the running VMs and tell Monitor subscribers. */
int manager_reload_policy(struct manager *m, struct mt_error *err);
/* Persist the records; failures are logged (the change stays in memory). */
void manager_save_state(struct manager *m);
/* sd_notify STATUS= of what the daemon does now. */
void manager_update_status(struct manager *m);
/* Send an Event to every Monitor subscriber. rec may be NULL. */
void manager_emit(struct manager *m, const char *subject, const char *action,
		  const struct vm_record *rec, const char *fmt, ...) _printf_(5, 6);
/* The Event of the IDL. */
int manager_build_event(const char *subject, const char *action, const struct vm_record *rec,
			const char *message, struct json_object **ret);
int manager_add_subscriber(struct manager *m, struct varlink_request *r);
/* Re-arm the expiry timer for the earliest pending plan or stopped
 * record (off when there is none: an idle daemon does not wake up). */
void manager_arm_expiry(struct manager *m);
/* Expire pending plans and stopped records due at now; returns how many. */
unsigned manager_expire_pending(struct manager *m, uint64_t now);
/* manager-libvirt.c */

/* Start the libvirt thread and watch its eventfd; failures are logged and
 * the daemon runs without libvirt. */
void manager_start_libvirt(struct manager *m);
bool manager_libvirt_connected(const struct manager *m);
/* Ask libvirt for a domain's XML; the answer goes to manager_xml_answered()
 * (methods.c) for a varlink call r (referenced until then), else to the
 * re-plan or reconcile that purpose names. -ENOTCONN when libvirt is not
 * connected, -ENOSPC when too many wait. */
int manager_request_xml(struct manager *m, const char *name, enum xml_purpose purpose,
			struct varlink_request *r);

/* manager-vms.c: plans and records */

/* Parse domain XML and plan it with the host and policy in force.
 * -EBADMSG (err: the parser's reason, with line:col) for bad XML. ret is
 * heap-allocated (a plan is large); free() it. */
int manager_plan_xml(struct manager *m, const char *xml, size_t len, struct plan **ret,
		     struct mt_error *err);

/* What the applier is asked when a record changes. */
enum applier_step {
	STEP_NONE,
	STEP_PENDING,          /* prepare/start: set_pending with the TTL */
	STEP_READ_BACK,        /* started, reconcile: what is in force */
	STEP_LATE,             /* Apply, policy change on a running VM */
	STEP_FORGET,           /* stopped: drop what is pending */
};

/* One change to the record called name, as a hook, a method or libvirt asks
 * for it. */
struct record_change {
	const char *name;
	const char *action;            /* for the log and the event: "planned", ... */
	enum vm_source source;
	enum vm_run_state state;
	pid_t pid;                     /* 0: keep what the record has */
	const char *phase;             /* hook phase, NULL: keep */
	const struct plan *plan;       /* NULL: keep the record's plan */
	const char *xml;               /* registered VMs keep their XML */
	enum applier_step step;
	bool create;                   /* make the record when missing */
	bool fresh;                    /* a new VM instance: no earlier plan
					* binds the new one (prepare, Register) */
};

/* Apply c: find or create the record, replace its plan (never re-enabling
 * a quirk: such a re-plan keeps the old plan and says so in apply_reason),
 * move its state, ask the applier, log, save, tell Monitor subscribers.
 * -ENOENT (no record, !create), -EEXIST (a record of the other source has
 * that name), -ENOSPC (STATE_MAX_VMS). *ret_rec stays valid until the next
 * change of the table. */
int manager_change_record(struct manager *m, const struct record_change *c,
			  struct vm_record **ret_rec, struct mt_error *err);

/* Forget a record: applier forget, event, log, remove, save. */
void manager_remove_record(struct manager *m, struct vm_record *rec, const char *action,
			   const char *why);

/* QEMU's pid from <libvirt-run-dir>/NAME.pid, 0 when unknown. */
pid_t manager_read_libvirt_pid(const struct manager *m, const char *name);

/* libvirt told us the domain runs (reconnect, STARTED event): make sure its
 * record says so, planning from xml when there is none yet. */
int manager_reconcile_domain(struct manager *m, const struct lv_domain *d, const char *why);
/* After a (re)connect: every running domain; libvirt records of domains no
 * longer running are dropped. */
void manager_reconcile_all(struct manager *m, const struct lv_domain *domains, size_t n);
/* STOPPED/CRASHED event: the domain is gone. */
void manager_domain_stopped(struct manager *m, const char *name);
/* An XML_FOR_REPLAN answer, or the XML of a registered VM after a reload:
 * re-plan a running VM and apply late. */
int manager_replan_running(struct manager *m, const char *name, const char *xml,
			   const char *why);
/* After a policy reload: re-plan every running VM. */
void manager_replan_all(struct manager *m);

/* methods.c */
extern const struct varlink_method manager_methods[];
/* The answer to an XML request made on behalf of a varlink call. */
void manager_xml_answered(struct manager *m, struct xml_wait *w, const struct lv_event *e);

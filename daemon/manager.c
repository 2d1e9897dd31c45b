/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's Manager: start-up in the order that lets READY mean "serving"
 * (policy, inventory, state, socket; never waiting for libvirt), the
 * sd-event loop with its signals, watchdog and status, and the daemon's
 * reactions to its peers: udev (re-inventory), the expiry timer of pending
 * plans, and Monitor subscribers. libvirt is in manager-libvirt.c. */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "common/json-util.h"
#include "config/config.h"
#include "daemon/kmod.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "inventory/inventory.h"

/* PCI add/remove events come in bursts (SR-IOV enabling adds many VFs):
 * re-inventory once they have settled. */
#define HOTPLUG_SETTLE_USEC (500 * 1000)
/* A pending plan may expire this much late: the timer need not wake the
 * daemon at an exact microsecond. */
#define EXPIRY_ACCURACY_USEC (1000 * 1000)

uint64_t now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void manager_options_init(struct manager_options *o)
{
	*o = (struct manager_options){
		.root = "/",
		.policy_file = POLICY_MAIN_FILE,
		.policy_dirs = { POLICY_VENDOR_DROPIN_DIR, POLICY_DROPIN_DIR, NULL },
		.state_path = STATE_PATH_DEFAULT,
		.socket_path = MANAGER_SOCKET_DEFAULT,
		.libvirt_uri = MANAGER_LIBVIRT_URI_DEFAULT,
		.libvirt_enabled = true,
		.libvirt_run_dir = MANAGER_LIBVIRT_RUN_DIR_DEFAULT,
		.group = MANAGER_GROUP_DEFAULT,
		.pending_ttl_usec = MANAGER_PENDING_TTL_DEFAULT_SEC * 1000000ULL,
		.udev_enabled = true,
		.module_enabled = true,
	};
}

/* memtype.ko, through which plans are put in force, unless told not to. */
static int make_applier(struct manager *m)
{
	struct mt_error err = {};
	uid_t uid;
	bool any;
	int r;

	if (!m->opts.module_enabled)
		return applier_none_new(&m->applier);
	r = kmod_resolve_vmm_user(m->opts.vmm_user, &uid, &any, &err);
	if (r < 0)
		return log_error_errno(r, "%s", mt_error_message(&err, r));
	if (any)
		log_info("memtype.ko: pending plans go to a VM created by any user");
	else
		log_info("memtype.ko: pending plans go only to VMs created by uid %u", (unsigned)uid);
	return applier_kmod_new(uid, any, &m->applier);
}

int manager_new(const struct manager_options *opts, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->opts = *opts;
	m->privileged_gid = (gid_t)-1;
	m->next_xml_id = 1;
	m->started_usec = now_realtime_usec();
	r = sd_event_default(&m->event);
	if (r < 0)
		return r;
	r = make_applier(m);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

static void drop_xml_waits(struct manager *m)
{
	for (unsigned i = 0; i < m->n_xml_waits; i++)
		varlink_request_unref(m->xml_waits[i].request);
	m->n_xml_waits = 0;
}

static int sync_state(sd_event_source *s, void *userdata);

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	drop_xml_waits(m);
	for (unsigned i = 0; i < m->n_subscribers; i++)
		varlink_request_unref(m->subscribers[i]);
	m->n_subscribers = 0;
	varlink_server_free(m->server);
	sd_event_source_unref(m->libvirt_source);
	lv_monitor_free(m->libvirt);
	hotplug_free(m->hotplug);
	sd_event_source_unref(m->expiry);
	if (m->sync)
		(void)sync_state(m->sync, m);
	applier_done(&m->applier);
	vm_table_done(&m->vms);
	operator_policy_free(m->policy);
	host_free(m->host);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}

/* ----- policy, inventory, state ----------------------------------------- */

/* Load the policy files into a new policy; only a good one replaces the
 * one in force. */
static int load_policy(struct manager *m, struct mt_error *err)
{
	struct operator_policy *p = NULL;
	int r;

	r = policy_load(m->opts.policy_file, m->opts.policy_dirs, &p, err);
	if (r < 0) {
		snprintf(m->policy_error, sizeof(m->policy_error), "%s", mt_error_message(err, r));
		return r;
	}
	operator_policy_free(m->policy);
	m->policy = p;
	m->policy_error[0] = '\0';
	return 0;
}

/* SIGHUP and the Reload method: a bad policy leaves the last good one in
 * force; a good one re-plans the running VMs. */
int manager_reload_policy(struct manager *m, struct mt_error *err)
{
	int r;

	r = load_policy(m, err);
	if (r < 0) {
		log_error_errno(r, "policy: reload failed, the previous policy stays in force: %s",
				m->policy_error);
		manager_emit(m, "policy", "invalid", NULL, "%s", m->policy_error);
		return r;
	}
	log_info("policy: reloaded, mode %s%s", policy_mode_to_string(m->policy->mode),
		 m->policy->strict ? ", strict" : "");
	manager_emit(m, "policy", "reloaded", NULL, "policy mode %s%s",
		     policy_mode_to_string(m->policy->mode), m->policy->strict ? ", strict" : "");
	manager_replan_all(m);
	manager_update_status(m);
	return 0;
}

static int read_inventory(struct manager *m, struct mt_error *err)
{
	struct inventory_options o = {
		.root = m->opts.root,
		.probe_kvm = streq(m->opts.root, "/"),
	};
	struct host *h = NULL;
	int r;

	r = inventory_read(&o, &h, err);
	if (r < 0)
		return r;
	host_free(m->host);
	m->host = h;
	m->inventoried_usec = now_realtime_usec();
	return 0;
}

static void on_hotplug(unsigned n_events, void *userdata)
{
	struct manager *m = userdata;
	struct mt_error err = {};
	int r;

	r = read_inventory(m, &err);
	if (r < 0) {
		log_error_errno(r, "udev: %u PCI change(s), re-inventory failed, keeping the previous host: %s",
				n_events, mt_error_message(&err, r));
		return;
	}
	log_info("udev: %u PCI change(s), host re-inventoried: %zu functions",
		 n_events, m->host->n_functions);
	manager_emit(m, "host", "reinventoried", NULL, "%zu PCI functions after %u change(s)",
		     m->host->n_functions, n_events);
}

/* Create the directory of path (one level) when it is missing. */
static int make_parent_dir(const char *path, mode_t mode)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Move an unreadable state file aside, so that starting empty loses
 * nothing an operator could still look at. */
static int move_state_aside(const char *path, char *ret_aside, size_t size)
{
	snprintf(ret_aside, size, "%s.corrupt-%llu", path,
		 (unsigned long long)now_realtime_usec());
	if (rename(path, ret_aside) < 0)
		return -errno;
	return 0;
}

static int load_state(struct manager *m)
{
	struct mt_error err = {};
	unsigned skipped = 0;
	char aside[4200];
	int r;

	r = make_parent_dir(m->opts.state_path, 0755);
	if (r < 0)
		return log_error_errno(r, "state: cannot create the directory of %s",
				       m->opts.state_path);
	r = state_load(m->opts.state_path, &m->vms, &skipped, &err);
	if (r == -EBADMSG) {
		vm_table_done(&m->vms);
		r = move_state_aside(m->opts.state_path, aside, sizeof(aside));
		if (r < 0)
			return log_error_errno(r, "state: %s is unusable (%s) and cannot be moved aside",
					       m->opts.state_path, err.message);
		log_warning("state: %s is unusable (%s); moved to %s, starting with no records",
			    m->opts.state_path, err.message, aside);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "state: %s", mt_error_message(&err, r));
	if (skipped > 0)
		log_warning("state: skipped %u bad record(s) of %s, first: %s", skipped,
			    m->opts.state_path, err.message);
	log_info("state: %zu record(s) from %s", m->vms.n, m->opts.state_path);
#ifdef __GLIBC__
	/* Parsing a large state file leaves its JSON tree's memory in malloc's
	 * free lists (about 20 MB for 1,000 records): hand it back once. */
	malloc_trim(0);
#endif
	return 0;
}

static int sync_state(sd_event_source *s _unused_, void *userdata)
{
	struct manager *m = userdata;
	struct mt_error err = {};
	int r;

	m->sync = sd_event_source_disable_unref(m->sync);
	r = state_sync(m->opts.state_path, &err);
	if (r < 0)
		log_warning_errno(r, "state: not synced to disk: %s", mt_error_message(&err, r));
#ifdef __GLIBC__
	/* After a burst of changes (VM starts, a re-list of libvirt's domains)
	 * the parse trees of their XML and plans sit in malloc's free lists;
	 * give them back while idle, so the daemon's footprint follows its
	 * records, not its busiest moment. */
	malloc_trim(0);
#endif
	return 0;
}

/* Saved before the change is answered (so a kill -9 right after loses
 * nothing), synced to disk from a defer source once the answer was sent:
 * the two fsyncs cost 1-20 ms here and would otherwise sit on every hook. */
void manager_save_state(struct manager *m)
{
	struct mt_error err = {};
	int r;

	r = state_save_unsynced(m->opts.state_path, &m->vms, &err);
	if (r < 0) {
		log_error_errno(r, "state: not saved, the change is only in memory: %s",
				mt_error_message(&err, r));
		return;
	}
	if (m->sync)
		return;
	r = sd_event_add_defer(m->event, &m->sync, sync_state, m);
	if (r >= 0)
		r = sd_event_source_set_priority(m->sync, SD_EVENT_PRIORITY_IDLE);
	if (r < 0) {
		m->sync = sd_event_source_disable_unref(m->sync);
		(void)sync_state(NULL, m);
	}
}

/* ----- status ------------------------------------------------------------ */

static const char *libvirt_status_word(const struct manager *m)
{
	if (!m->opts.libvirt_enabled)
		return "libvirt disabled";
	return manager_libvirt_connected(m) ? "libvirt connected" : "libvirt not connected";
}

void manager_update_status(struct manager *m)
{
	(void)sd_notifyf(false, "STATUS=Serving %zu VM%s; %s; policy mode %s%s", m->vms.n,
			 m->vms.n == 1 ? "" : "s", libvirt_status_word(m),
			 policy_mode_to_string(m->policy->mode), m->policy->strict ? " (strict)" : "");
}

/* ----- Monitor subscribers ------------------------------------------------ */

static void drop_subscriber(struct manager *m, struct varlink_request *r)
{
	for (unsigned i = 0; i < m->n_subscribers; i++)
		if (m->subscribers[i] == r) {
			m->subscribers[i] = m->subscribers[--m->n_subscribers];
			varlink_request_unref(r);
			return;
		}
}

static void on_subscriber_gone(struct varlink_request *r, void *userdata)
{
	drop_subscriber(userdata, r);
}

int manager_add_subscriber(struct manager *m, struct varlink_request *r)
{
	if (m->n_subscribers >= MANAGER_SUBSCRIBERS_MAX)
		return -ENOSPC;
	m->subscribers[m->n_subscribers++] = varlink_request_ref(r);
	varlink_request_on_disconnect(r, on_subscriber_gone, m);
	return 0;
}

int manager_build_event(const char *subject, const char *action, const struct vm_record *rec,
		       const char *message, struct json_object **ret)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *vm = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	if (rec) {
		r = vm_record_to_json(rec, false, &vm);
		if (r < 0)
			return r;
	}
	r = mt_json_add_u64(o, "time_usec", now_realtime_usec());
	if (r >= 0)
		r = mt_json_add_string(o, "subject", subject);
	if (r >= 0)
		r = mt_json_add_string(o, "action", action);
	if (r >= 0)
		r = mt_json_add_string_or_null(o, "vm", rec ? rec->name : NULL);
	if (r >= 0)
		r = mt_json_add_string(o, "message", message);
	if (r >= 0)
		r = vm ? mt_json_add(o, "record", vm) : mt_json_add_null(o, "record");
	else
		json_object_put(vm);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

static void notify_subscribers(struct manager *m, struct json_object *event)
{
	_cleanup_json_ struct json_object *params = json_object_new_object();
	struct varlink_request *snapshot[MANAGER_SUBSCRIBERS_MAX];
	unsigned n = m->n_subscribers;

	if (!params || mt_json_add(params, "event", json_object_get(event)) < 0)
		return;
	/* A failed notify may drop the peer, and with it (through the
	 * disconnect callback) entries of m->subscribers: walk a copy. */
	for (unsigned i = 0; i < n; i++)
		snapshot[i] = varlink_request_ref(m->subscribers[i]);
	for (unsigned i = 0; i < n; i++) {
		if (varlink_request_notify(snapshot[i], params) < 0)
			drop_subscriber(m, snapshot[i]);
		varlink_request_unref(snapshot[i]);
	}
}

void manager_emit(struct manager *m, const char *subject, const char *action,
		  const struct vm_record *rec, const char *fmt, ...)
{
	_cleanup_json_ struct json_object *event = NULL;
	char message[512];
	va_list ap;

	if (m->n_subscribers == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (manager_build_event(subject, action, rec, message, &event) < 0) {
		log_warning("monitor: could not build the %s/%s event", subject, action);
		return;
	}
	notify_subscribers(m, event);
}

/* ----- expiry of pending plans and stopped records ------------------------- */

/* Pending plans (prepare/start seen, the VM never started) and records of
 * stopped VMs (release never came) are not kept forever. */
static bool record_expires(const struct vm_record *rec)
{
	return rec->expires_usec > 0 &&
	       (rec->state == VM_PREPARED || rec->state == VM_STARTING || rec->state == VM_STOPPED);
}

static void expire_record(struct manager *m, struct vm_record *rec)
{
	unsigned long long ttl = m->opts.pending_ttl_usec / 1000000;
	char why[160];

	if (rec->state == VM_STOPPED) {
		snprintf(why, sizeof(why), "stopped %llu s ago, no release seen", ttl);
		manager_remove_record(m, rec, "removed", why);
		return;
	}
	snprintf(why, sizeof(why), "no VM started within %llu s of its %s hook", ttl,
		 rec->last_phase[0] ? rec->last_phase : "prepare");
	rec->apply = APPLY_EXPIRED;
	snprintf(rec->apply_reason, sizeof(rec->apply_reason), "%s", why);
	manager_remove_record(m, rec, "expired", why);
}

unsigned manager_expire_pending(struct manager *m, uint64_t now)
{
	unsigned n = 0;

	/* Removing reorders the table: start over after each removal. */
	for (size_t i = 0; i < m->vms.n;) {
		struct vm_record *rec = m->vms.v[i];

		if (!record_expires(rec) || rec->expires_usec > now) {
			i++;
			continue;
		}
		expire_record(m, rec);
		n++;
		i = 0;
	}
	return n;
}

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	manager_expire_pending(m, now_realtime_usec());
	manager_arm_expiry(m);
	return 0;
}

void manager_arm_expiry(struct manager *m)
{
	uint64_t earliest = UINT64_MAX;
	int r;

	for (size_t i = 0; i < m->vms.n; i++)
		if (record_expires(m->vms.v[i]) && m->vms.v[i]->expires_usec < earliest)
			earliest = m->vms.v[i]->expires_usec;
	if (earliest == UINT64_MAX) {
		if (m->expiry)
			(void)sd_event_source_set_enabled(m->expiry, SD_EVENT_OFF);
		return;
	}
	if (!m->expiry) {
		r = sd_event_add_time(m->event, &m->expiry, CLOCK_REALTIME, earliest,
				      EXPIRY_ACCURACY_USEC, on_expiry, m);
		if (r < 0)
			log_error_errno(r, "pending plans: cannot arm the expiry timer");
		return;
	}
	r = sd_event_source_set_time(m->expiry, earliest);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->expiry, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error_errno(r, "pending plans: cannot re-arm the expiry timer");
}

/* ----- start-up ------------------------------------------------------------ */

static void resolve_group(struct manager *m)
{
	struct group *g;

	errno = 0;
	g = getgrnam(m->opts.group);
	if (!g) {
		log_notice("group '%s' does not exist: changing methods are for root only",
			   m->opts.group);
		return;
	}
	m->privileged_gid = g->gr_gid;
}

static int start_server(struct manager *m)
{
	static const struct varlink_server_info info = {
		.vendor = "memtype",
		.product = "memtyped",
		.version = PACKAGE_VERSION,
		.url = "https://github.com/memtype/memtype",
	};
	struct varlink_server_limits limits;
	struct mt_error err = {};
	int r;

	resolve_group(m);
	varlink_server_limits_default(&limits);
	r = varlink_server_new(m->event, manager_methods, manager_idl, &info, &limits,
			       m->privileged_gid, MANAGER_ERROR("Failed"), m, &m->server, &err);
	if (r < 0)
		return log_error_errno(r, "varlink: %s", mt_error_message(&err, r));
	r = varlink_server_listen_systemd(m->server, &err);
	if (r < 0)
		return log_error_errno(r, "varlink: %s", mt_error_message(&err, r));
	if (r > 0) {
		log_info("varlink: serving on %d socket(s) passed by systemd", r);
		return 0;
	}
	r = make_parent_dir(m->opts.socket_path, 0755);
	if (r < 0)
		return log_error_errno(r, "varlink: cannot create the directory of %s",
				       m->opts.socket_path);
	r = varlink_server_listen_path(m->server, m->opts.socket_path, 0666, &err);
	if (r < 0)
		return log_error_errno(r, "varlink: %s", mt_error_message(&err, r));
	log_info("varlink: listening on %s", m->opts.socket_path);
	return 0;
}

static void start_udev(struct manager *m)
{
	int r;

	if (!m->opts.udev_enabled) {
		snprintf(m->udev_reason, sizeof(m->udev_reason), "disabled by --no-udev");
		return;
	}
	r = hotplug_start(m->event, HOTPLUG_SETTLE_USEC, on_hotplug, m, &m->hotplug,
			  m->udev_reason, sizeof(m->udev_reason));
	if (r < 0) {
		if (!m->udev_reason[0])
			snprintf(m->udev_reason, sizeof(m->udev_reason), "%s", strerror(-r));
		log_warning("udev: %s", m->udev_reason);
		m->hotplug = NULL;
		return;
	}
	m->udev_reason[0] = '\0';
	log_info("udev: watching PCI hot-plug");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;
	struct mt_error err = {};

	if (si->ssi_signo == SIGHUP) {
		log_info("SIGHUP: reloading the policy");
		(void)manager_reload_policy(m, &err);
		return 0;
	}
	log_info("%s: shutting down", strsignal((int)si->ssi_signo));
	(void)sd_notify(false, "STOPPING=1");
	return sd_event_exit(m->event, 0);
}

static int setup_signals(struct manager *m)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	for (size_t i = 0; i < ELEMENTSOF(signals); i++)
		sigaddset(&mask, signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
		r = sd_event_add_signal(m->event, NULL, signals[i], on_signal, m);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_initial_policy(struct manager *m)
{
	struct mt_error err = {};
	int r;

	r = load_policy(m, &err);
	if (r < 0)
		return log_error_errno(r, "policy: %s", m->policy_error);
	log_info("policy: mode %s%s, %zu file(s)", policy_mode_to_string(m->policy->mode),
		 m->policy->strict ? ", strict" : "", m->policy->n_sources);
	return 0;
}

static int load_initial_host(struct manager *m)
{
	struct mt_error err = {};
	int r;

	r = read_inventory(m, &err);
	if (r < 0)
		return log_error_errno(r, "inventory of %s: %s", m->opts.root,
				       mt_error_message(&err, r));
	log_info("inventory of %s: %zu PCI functions, %zu IOMMU units%s", m->opts.root,
		 m->host->n_functions, m->host->n_iommu_units,
		 m->host->partial ? " (partial)" : "");
	return 0;
}

int manager_startup(struct manager *m)
{
	unsigned expired;
	int r;

	r = setup_signals(m);
	if (r < 0)
		return log_error_errno(r, "cannot set up signal handling");
	r = load_initial_policy(m);
	if (r < 0)
		return r;
	r = load_initial_host(m);
	if (r < 0)
		return r;
	r = load_state(m);
	if (r < 0)
		return r;
	expired = manager_expire_pending(m, now_realtime_usec());
	if (expired > 0)
		log_info("state: %u pending plan(s) expired while memtyped was down", expired);
	manager_arm_expiry(m);
	r = start_server(m);
	if (r < 0)
		return r;
	start_udev(m);
	if (m->opts.libvirt_enabled)
		manager_start_libvirt(m);
	(void)sd_event_set_watchdog(m->event, true);
	(void)sd_notify(false, "READY=1");
	manager_update_status(m);
	log_info("memtyped %s ready: %zu VM record(s), %s", PACKAGE_VERSION, m->vms.n,
		 libvirt_status_word(m));
	return 0;
}

int manager_run(struct manager *m)
{
	int r;

	r = sd_event_loop(m->event);
	manager_save_state(m);
	if (r < 0)
		return log_error_errno(r, "event loop failed");
	return 0;
}

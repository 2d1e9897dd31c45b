/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's side of the libvirt thread: the eventfd it wakes the main loop
 * with, what each of its events means for the VM records (connection,
 * reconcile, lifecycle, device changes), and XML requests, whose answers
 * come back as events and go to the varlink call or re-plan that waits for
 * them. Nothing here blocks on libvirt. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "daemon/log.h"
#include "daemon/manager.h"

bool manager_libvirt_connected(const struct manager *m)
{
	return m->libvirt && lv_monitor_connected(m->libvirt);
}

static struct xml_wait *find_xml_wait(struct manager *m, uint64_t id)
{
	for (unsigned i = 0; i < m->n_xml_waits; i++)
		if (m->xml_waits[i].id == id)
			return &m->xml_waits[i];
	return NULL;
}

/* Unlink w from the list, handing its contents to ret. */
static void take_xml_wait(struct manager *m, struct xml_wait *w, struct xml_wait *ret)
{
	*ret = *w;
	*w = m->xml_waits[--m->n_xml_waits];
}

static void on_xml_caller_gone(struct varlink_request *r, void *userdata)
{
	struct manager *m = userdata;

	for (unsigned i = 0; i < m->n_xml_waits; i++)
		if (m->xml_waits[i].request == r) {
			struct xml_wait w;

			take_xml_wait(m, &m->xml_waits[i], &w);
			varlink_request_unref(w.request);
			return;
		}
}

int manager_request_xml(struct manager *m, const char *name, enum xml_purpose purpose,
			struct varlink_request *req)
{
	struct xml_wait *w;
	int r;

	if (!manager_libvirt_connected(m))
		return -ENOTCONN;
	if (m->n_xml_waits >= MANAGER_XML_WAITS_MAX)
		return -ENOSPC;
	w = &m->xml_waits[m->n_xml_waits];
	*w = (struct xml_wait){ .id = m->next_xml_id++, .purpose = purpose };
	snprintf(w->name, sizeof(w->name), "%s", name);
	r = lv_monitor_request_xml(m->libvirt, name, w->id);
	if (r < 0)
		return r;
	if (req) {
		w->request = varlink_request_ref(req);
		varlink_request_on_disconnect(req, on_xml_caller_gone, m);
	}
	m->n_xml_waits++;
	return 0;
}

static void answer_xml_wait(struct manager *m, const struct lv_event *e)
{
	struct xml_wait *found = find_xml_wait(m, e->request_id);
	struct xml_wait w;

	if (!found)
		return;  /* its caller went away */
	take_xml_wait(m, found, &w);
	switch (w.purpose) {
	case XML_FOR_REPLAN:
		if (e->error < 0 || !e->domain.xml)
			log_warning("libvirt: no XML for %s, it keeps its plan: %s", w.name,
				    e->message[0] ? e->message : "not found");
		else
			(void)manager_replan_running(m, w.name, e->domain.xml, "replanned");
		break;
	case XML_FOR_RECONCILE:
		if (e->error < 0 || !e->domain.xml)
			log_warning("libvirt: no XML for running domain %s, not recorded: %s",
				    w.name, e->message[0] ? e->message : "not found");
		else
			(void)manager_reconcile_domain(m, &e->domain, "reconciled");
		break;
	default:
		manager_xml_answered(m, &w, e);
		break;
	}
	varlink_request_unref(w.request);
}

/* libvirt went away: nothing will answer what is waiting. */
static void fail_xml_waits(struct manager *m, const char *reason)
{
	while (m->n_xml_waits > 0) {
		struct lv_event e = { .type = LV_XML, .error = -ENOTCONN };
		struct xml_wait *w = &m->xml_waits[m->n_xml_waits - 1];

		e.request_id = w->id;
		snprintf(e.message, sizeof(e.message), "%s", reason);
		answer_xml_wait(m, &e);
	}
}

static void on_lifecycle(struct manager *m, const struct lv_event *e)
{
	bool gone = e->event == VIR_DOMAIN_EVENT_STOPPED ||
		    (e->event == VIR_DOMAIN_EVENT_CRASHED && !e->domain.active);

	if (e->event == VIR_DOMAIN_EVENT_STARTED)
		(void)manager_reconcile_domain(m, &e->domain, "started");
	else if (gone)
		manager_domain_stopped(m, e->domain.name);
}

static void on_device_change(struct manager *m, const struct lv_event *e)
{
	struct vm_record *rec = vm_table_find(&m->vms, e->domain.name);
	int r;

	if (!rec || rec->source != VM_SOURCE_LIBVIRT || rec->state != VM_RUNNING)
		return;
	log_vm(LOG_INFO, rec->name, "device-changed", MT_LOG_NO_QUIRKS, "libvirt: device %s %s",
	       e->device_alias, e->type == LV_DEVICE_ADDED ? "added" : "removed");
	if (e->domain.xml) {
		(void)manager_replan_running(m, rec->name, e->domain.xml, "replanned");
		return;
	}
	r = manager_request_xml(m, rec->name, XML_FOR_REPLAN, NULL);
	if (r < 0)
		log_warning_errno(r, "libvirt: cannot ask for the XML of %s", rec->name);
}

static void on_connection_change(struct manager *m, const struct lv_event *e)
{
	if (e->type == LV_CONNECTED) {
		log_info("libvirt: connected to %s", m->opts.libvirt_uri);
		manager_emit(m, "libvirt", "connected", NULL, "connected to %s", m->opts.libvirt_uri);
	} else {
		log_warning("libvirt: not connected to %s: %s", m->opts.libvirt_uri,
			    e->message[0] ? e->message : "connection lost");
		fail_xml_waits(m, e->message[0] ? e->message : "libvirt disconnected");
		manager_emit(m, "libvirt", "disconnected", NULL, "%s",
			     e->message[0] ? e->message : "connection lost");
	}
	manager_update_status(m);
}

static void dispatch_libvirt_event(struct manager *m, const struct lv_event *e)
{
	switch (e->type) {
	case LV_CONNECTED:
	case LV_DISCONNECTED:
		on_connection_change(m, e);
		break;
	case LV_DOMAINS:
		manager_reconcile_all(m, e->domains, e->n_domains);
		break;
	case LV_LIFECYCLE:
		on_lifecycle(m, e);
		break;
	case LV_DEVICE_ADDED:
	case LV_DEVICE_REMOVED:
		on_device_change(m, e);
		break;
	case LV_XML:
		answer_xml_wait(m, e);
		break;
	}
}

static int on_libvirt_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;

	for (;;) {
		_cleanup_(lv_event_freep) struct lv_event *e = NULL;

		if (lv_monitor_pop(m->libvirt, &e) <= 0)
			return 0;
		dispatch_libvirt_event(m, e);
	}
}

void manager_start_libvirt(struct manager *m)
{
	int r;

	r = lv_monitor_start(m->opts.libvirt_uri, &m->libvirt);
	if (r < 0) {
		log_error_errno(r, "libvirt: cannot start the monitor thread for %s",
				m->opts.libvirt_uri);
		return;
	}
	r = sd_event_add_io(m->event, &m->libvirt_source, lv_monitor_fd(m->libvirt), EPOLLIN,
			    on_libvirt_fd, m);
	if (r < 0) {
		log_error_errno(r, "libvirt: cannot watch the monitor's eventfd");
		m->libvirt = (lv_monitor_free(m->libvirt), NULL);
		return;
	}
	log_info("libvirt: connecting to %s in the background", m->opts.libvirt_uri);
}


/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's link to libvirt. libvirt runs on a thread of its own with
 * libvirt's default event loop (bridging virEventRegisterImpl into sd-event
 * is fragile); the thread connects lazily, reconnects with backoff when
 * libvirtd goes away, lists every running domain after each (re)connect,
 * and forwards lifecycle and device events. It hands them to the main loop
 * as a queue of struct lv_event behind an eventfd. The main loop never
 * blocks on libvirt: it posts requests, whose answers come back as events.
 *
 * A libvirt hook must never wait on anything that waits on libvirt (libvirt
 * holds the domain lock while the hook runs), so the daemon serves hooks
 * from what it already knows and never through this thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"
#include "policy/model.h"

enum lv_event_type {
	LV_CONNECTED,        /* (re)connected; an LV_DOMAINS follows */
	LV_DISCONNECTED,     /* lost or failed; message says why */
	LV_DOMAINS,          /* every running domain (reconcile) */
	LV_LIFECYCLE,        /* a domain lifecycle event */
	LV_DEVICE_ADDED,
	LV_DEVICE_REMOVED,
	LV_XML,              /* answer to lv_monitor_request_xml() */
};

struct lv_domain {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_MAX];
	int id;              /* libvirt's domain id, -1 when inactive */
	bool active;
	char *xml;           /* live XML (inactive XML when not running);
			      * NULL when it could not be fetched */
};

struct lv_event {
	enum lv_event_type type;
	struct lv_domain domain;     /* LV_LIFECYCLE, LV_DEVICE_*, LV_XML */
	int event, detail;           /* LV_LIFECYCLE: virDomainEventType, detail */
	char device_alias[128];      /* LV_DEVICE_*: the device's alias */
	uint64_t request_id;         /* LV_XML: the request's id */
	int error;                   /* LV_XML, LV_DISCONNECTED: 0 or -errno */
	char message[512];           /* LV_DISCONNECTED, failed LV_XML */
	struct lv_domain *domains;   /* LV_DOMAINS */
	size_t n_domains;
};

void lv_event_free(struct lv_event *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct lv_event *, lv_event_free);

struct lv_monitor;

/* Start the thread for uri (e.g. "qemu:///system", "test:///default"). It
 * returns at once: connecting happens on the thread. Reconnect attempts
 * back off from 1 s to 30 s. */
int lv_monitor_start(const char *uri, struct lv_monitor **ret);

/* Stop the thread (bounded: it wakes libvirt's loop and joins), drop what
 * is queued, free m. NULL is fine. */
void lv_monitor_free(struct lv_monitor *m);

/* An eventfd, readable while events are queued; watch it with sd-event
 * (EPOLLIN) and then pop until empty. */
int lv_monitor_fd(const struct lv_monitor *m);

/* Take the next event (1, caller owns *ret), or 0 when none is queued. */
int lv_monitor_pop(struct lv_monitor *m, struct lv_event **ret);

/* Ask for the XML of the domain called name_or_uuid (running or defined);
 * answered by an LV_XML event with the same id. -ENOTCONN when libvirt is
 * not connected, -EINVAL for an empty name, -ENAMETOOLONG, -ENOBUFS when
 * 1024 requests already wait, -ENOMEM: no event follows any of these. */
int lv_monitor_request_xml(struct lv_monitor *m, const char *name_or_uuid, uint64_t request_id);

/* Status: connected now; connection attempts after the first, successful
 * or not; text of the last failure, cleared by a successful connect ("" none). */
bool lv_monitor_connected(const struct lv_monitor *m);
unsigned lv_monitor_reconnects(const struct lv_monitor *m);
void lv_monitor_last_error(const struct lv_monitor *m, char *buf, size_t size);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI hot-plug watch for memtyped: a udev monitor (libsystemd sd-device) on
 * subsystem "pci" attached to the daemon's sd-event loop. Events are
 * coalesced (SR-IOV enabling adds many functions at once): the callback
 * runs once, a short while after the last add/remove/bind/unbind. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

struct hotplug;

typedef void (*hotplug_cb_t)(unsigned n_events, void *userdata);

/* Start watching. On a host without udev (no netlink, no /run/udev) it
 * fails with -errno and reason says why, and the daemon runs without. */
int hotplug_start(sd_event *e, uint64_t settle_usec, hotplug_cb_t cb, void *userdata,
		  struct hotplug **ret, char *reason, size_t reason_size);
void hotplug_free(struct hotplug *h);

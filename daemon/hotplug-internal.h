/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The coalescing half of hotplug.c on its own, without a udev monitor, so
 * that tests can feed it events on a host without udev. */
#pragma once

#include "daemon/hotplug.h"

/* A watch with no event source of its own: events come from
 * hotplug_note_event(). */
int hotplug_new(sd_event *e, uint64_t settle_usec, hotplug_cb_t cb, void *userdata,
		struct hotplug **ret);

/* Count one PCI event and (re)arm the one-shot timer to settle_usec from
 * now: the callback runs once, that long after the last event. */
int hotplug_note_event(struct hotplug *h);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI hot-plug watch: a udev monitor on subsystem "pci" whose events are
 * coalesced by a one-shot timer, so that enabling a thousand SR-IOV VFs
 * costs memtyped one re-inventory, not a thousand. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-device.h>

#include "common/macro.h"
#include "daemon/hotplug-internal.h"

#define UDEV_CONTROL "/run/udev/control"
/* The timer need not be exact, but a test with a short settle time
 * should not wait for sd-event's default 250 ms slack. */
#define SETTLE_ACCURACY_USEC 1000

struct hotplug {
	sd_event *event;
	sd_device_monitor *monitor;
	sd_event_source *settle_timer;
	uint64_t settle_usec;
	unsigned n_pending;
	hotplug_cb_t cb;
	void *userdata;
};

void hotplug_free(struct hotplug *h)
{
	if (!h)
		return;
	sd_device_monitor_unref(h->monitor);
	sd_event_source_disable_unref(h->settle_timer);
	sd_event_unref(h->event);
	free(h);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hotplug *, hotplug_free);

int hotplug_new(sd_event *e, uint64_t settle_usec, hotplug_cb_t cb, void *userdata,
		struct hotplug **ret)
{
	struct hotplug *h;

	if (!e || !cb || !ret)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*h = (struct hotplug){
		.event = sd_event_ref(e),
		.settle_usec = settle_usec,
		.cb = cb,
		.userdata = userdata,
	};
	*ret = h;
	return 0;
}

static int on_settled(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	struct hotplug *h = userdata;
	unsigned n = h->n_pending;

	h->n_pending = 0;
	if (n > 0)
		h->cb(n, h->userdata);
	return 0;
}

int hotplug_note_event(struct hotplug *h)
{
	int r;

	if (!h)
		return -EINVAL;
	if (h->n_pending < UINT32_MAX)
		h->n_pending++;
	if (!h->settle_timer) {
		r = sd_event_add_time_relative(h->event, &h->settle_timer, CLOCK_MONOTONIC,
					       h->settle_usec, SETTLE_ACCURACY_USEC, on_settled, h);
		if (r < 0)
			return r;
		(void)sd_event_source_set_description(h->settle_timer, "pci-hotplug-settle");
		return 0;
	}
	r = sd_event_source_set_time_relative(h->settle_timer, h->settle_usec);
	if (r >= 0)
		r = sd_event_source_set_enabled(h->settle_timer, SD_EVENT_ONESHOT);
	return r < 0 ? r : 0;
}

/* Only changes of the set of functions or of their drivers matter to the
 * inventory; "change" and the like do not. */
static bool action_matters(sd_device_action_t a)
{
	return a == SD_DEVICE_ADD || a == SD_DEVICE_REMOVE || a == SD_DEVICE_BIND ||
	       a == SD_DEVICE_UNBIND;
}

static int on_device(sd_device_monitor *m _unused_, sd_device *d, void *userdata)
{
	struct hotplug *h = userdata;
	sd_device_action_t a;

	if (sd_device_get_action(d, &a) < 0 || !action_matters(a))
		return 0;
	/* A failure to arm the timer leaves the count for the next event. */
	(void)hotplug_note_event(h);
	return 0;
}

static int open_monitor(struct hotplug *h, const char **ret_step)
{
	int r;

	*ret_step = "open the udev monitor";
	r = sd_device_monitor_new(&h->monitor);
	if (r < 0)
		return r;
	*ret_step = "filter on subsystem pci";
	r = sd_device_monitor_filter_add_match_subsystem_devtype(h->monitor, "pci", NULL);
	if (r < 0)
		return r;
	*ret_step = "attach the udev monitor to the event loop";
	r = sd_device_monitor_attach_event(h->monitor, h->event);
	if (r < 0)
		return r;
	(void)sd_device_monitor_set_description(h->monitor, "pci-hotplug");
	*ret_step = "start the udev monitor";
	return sd_device_monitor_start(h->monitor, on_device, h);
}

int hotplug_start(sd_event *e, uint64_t settle_usec, hotplug_cb_t cb, void *userdata,
		  struct hotplug **ret, char *reason, size_t reason_size)
{
	_cleanup_(hotplug_freep) struct hotplug *h = NULL;
	const char *step = "allocate";
	char empty[1];
	int r;

	if (!reason || reason_size == 0) {
		reason = empty;
		reason_size = sizeof(empty);
	}
	reason[0] = '\0';
	if (!e || !cb || !ret)
		return -EINVAL;
	/* udevd creates its control socket on start: without it no one
	 * sends the monitor anything, so say so instead of waiting. */
	if (access(UDEV_CONTROL, F_OK) < 0) {
		snprintf(reason, reason_size,
			 "udev is not running (no " UDEV_CONTROL "): PCI hot-plug is not watched");
		return -ENXIO;
	}
	r = hotplug_new(e, settle_usec, cb, userdata, &h);
	if (r >= 0)
		r = open_monitor(h, &step);
	if (r < 0) {
		snprintf(reason, reason_size, "cannot %s: %s: PCI hot-plug is not watched", step,
			 strerror(-r));
		return r;
	}
	*ret = TAKE_PTR(h);
	return 0;
}

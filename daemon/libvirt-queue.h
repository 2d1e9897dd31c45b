/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded queue that carries struct lv_event from the libvirt thread to
 * the main loop, behind an eventfd that is readable exactly while the queue
 * holds something (so an idle main loop is never woken for nothing).
 * Private to libmtlibvirt.a. */
#pragma once

#include <stddef.h>

#include "daemon/libvirt-monitor.h"

struct lv_queue;

int lv_queue_new(size_t max_events, struct lv_queue **ret);
struct lv_queue *lv_queue_free(struct lv_queue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct lv_queue *, lv_queue_free);

int lv_queue_fd(const struct lv_queue *q);

/* Append e; the queue owns it from now on, whatever the result. A full
 * queue drops every queued lifecycle and device event (or, when there is
 * none, the oldest event) to make room and returns 1: the caller must then
 * send a fresh LV_DOMAINS so that the main loop is not left with a partial
 * history. Otherwise 0. */
int lv_queue_push(struct lv_queue *q, struct lv_event *e);

/* Take the oldest event (1) or report an empty queue (0). Taking the last
 * one resets the eventfd. */
int lv_queue_pop(struct lv_queue *q, struct lv_event **ret);

/* Events dropped so far because the queue was full. */
size_t lv_queue_dropped(const struct lv_queue *q);

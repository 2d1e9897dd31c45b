/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt thread's event queue: a ring of event pointers under a mutex
 * plus an eventfd for the main loop's epoll. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/libvirt-queue.h"

struct lv_queue {
	pthread_mutex_t lock;
	int fd; /* eventfd, non-zero while count > 0 */
	struct lv_event **ring;
	size_t max, head, count;
	size_t dropped;
};

int lv_queue_new(size_t max_events, struct lv_queue **ret)
{
	struct lv_queue *q;

	if (max_events == 0)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ring = calloc(max_events, sizeof(*q->ring));
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!q->ring || q->fd < 0) {
		int r = q->ring ? -errno : -ENOMEM;

		if (q->fd >= 0)
			close(q->fd);
		free(q->ring);
		free(q);
		return r;
	}
	pthread_mutex_init(&q->lock, NULL);
	q->max = max_events;
	*ret = q;
	return 0;
}

static struct lv_event **slot(struct lv_queue *q, size_t i)
{
	return &q->ring[(q->head + i) % q->max];
}

struct lv_queue *lv_queue_free(struct lv_queue *q)
{
	if (!q)
		return NULL;
	for (size_t i = 0; i < q->count; i++)
		lv_event_free(*slot(q, i));
	free(q->ring);
	close(q->fd);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return NULL;
}

int lv_queue_fd(const struct lv_queue *q)
{
	return q->fd;
}

static bool is_history(const struct lv_event *e)
{
	/* what a later LV_DOMAINS supersedes */
	return e->type == LV_LIFECYCLE || e->type == LV_DEVICE_ADDED ||
	       e->type == LV_DEVICE_REMOVED;
}

/* Make room in a full ring, keeping the order of what stays. */
static void make_room(struct lv_queue *q)
{
	size_t kept = 0, n = q->count;

	for (size_t i = 0; i < n; i++) {
		struct lv_event *e = *slot(q, i);

		if (is_history(e)) {
			lv_event_free(e);
			q->dropped++;
		} else
			*slot(q, kept++) = e;
	}
	q->count = kept;
	if (kept < n)
		return;
	lv_event_free(*slot(q, 0));
	q->head = (q->head + 1) % q->max;
	q->count--;
	q->dropped++;
}

static void signal_readable(struct lv_queue *q)
{
	/* Cannot fail short of a bug: the counter is far from its limit
	 * because it is reset whenever the queue drains. */
	(void)eventfd_write(q->fd, 1);
}

int lv_queue_push(struct lv_queue *q, struct lv_event *e)
{
	bool overflow = false;

	pthread_mutex_lock(&q->lock);
	if (q->count == q->max) {
		make_room(q);
		overflow = true;
	}
	*slot(q, q->count++) = e;
	/* Only the transition to non-empty wakes the main loop; while events
	 * are queued the fd stays readable anyway. */
	if (q->count == 1)
		signal_readable(q);
	pthread_mutex_unlock(&q->lock);
	return overflow;
}

int lv_queue_pop(struct lv_queue *q, struct lv_event **ret)
{
	struct lv_event *e = NULL;
	eventfd_t ignored;

	pthread_mutex_lock(&q->lock);
	if (q->count > 0) {
		e = *slot(q, 0);
		q->head = (q->head + 1) % q->max;
		q->count--;
	}
	if (q->count == 0)
		(void)eventfd_read(q->fd, &ignored);
	pthread_mutex_unlock(&q->lock);
	if (!e)
		return 0;
	*ret = e;
	return 1;
}

size_t lv_queue_dropped(const struct lv_queue *q)
{
	/* the lock is not part of the queue's logical state */
	pthread_mutex_t *lock = (pthread_mutex_t *)&q->lock;
	size_t n;

	pthread_mutex_lock(lock);
	n = q->dropped;
	pthread_mutex_unlock(lock);
	return n;
}

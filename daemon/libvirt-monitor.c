/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's libvirt thread: connects, reconnects with backoff, lists the
 * running domains after each connect, forwards domain events and answers
 * XML requests, all on libvirt's default event loop (see the header). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "daemon/libvirt-monitor.h"
#include "daemon/libvirt-queue.h"

#define LV_QUEUE_MAX	      4096 /* events waiting for the main loop */
#define LV_REQUESTS_MAX	      1024 /* XML requests waiting for the thread */
#define LV_BACKOFF_FIRST_MS   1000
#define LV_BACKOFF_MAX_MS     30000
#define LV_KEEPALIVE_INTERVAL 5 /* s; libvirtd is declared dead after */
#define LV_KEEPALIVE_COUNT    3 /* this many unanswered probes */
#define LV_JOIN_TIMEOUT_S     5

/* libvirt's event callbacks have different signatures behind one generic
 * type; go through void (*)(void) so the compiler accepts the cast. */
#define LV_CALLBACK(cb) ((virConnectDomainEventGenericCallback)(void (*)(void))(cb))

struct lv_request {
	struct lv_request *next;
	uint64_t id;
	char name_or_uuid[MT_NAME_MAX];
};

struct lv_monitor {
	char *uri;
	pthread_t thread;
	bool thread_started;
	int wake_fd;		     /* eventfd: a request or stop is pending */
	int wake_watch, retry_timer; /* libvirt event loop ids */
	struct lv_queue *queue;

	atomic_bool stop;
	atomic_bool connected;
	atomic_uint reconnects;

	pthread_mutex_t lock; /* guards what follows */
	struct lv_request *requests, **requests_tail;
	size_t n_requests;
	char last_error[sizeof(((struct lv_event *)0)->message)];

	/* Only the libvirt thread touches these. */
	virConnectPtr conn;
	int event_ids[3];
	bool attempted; /* the first attempt has been made */
	bool connect_due, lost, resync;
	unsigned failures;  /* failed attempts in a row */
	bool down_reported; /* LV_DISCONNECTED sent for this outage */
	char lost_reason[128];
};

/* Only one libvirt event loop exists per process, so only one monitor. */
static atomic_bool monitor_exists;
static pthread_once_t libvirt_once = PTHREAD_ONCE_INIT;
static int libvirt_init_result;

void lv_event_free(struct lv_event *e)
{
	if (!e)
		return;
	free(e->domain.xml);
	for (size_t i = 0; i < e->n_domains; i++)
		free(e->domains[i].xml);
	free(e->domains);
	free(e);
}

static void libvirt_error_ignore(void *userdata _unused_, virErrorPtr error _unused_)
{
	/* Library code never prints: errors are read back with
	 * virGetLastError() and reported through events. */
}

static void libvirt_init(void)
{
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		libvirt_init_result = -EIO;
		return;
	}
	virSetErrorFunc(NULL, libvirt_error_ignore);
}

static const char *libvirt_error_text(void)
{
	const char *msg = virGetLastErrorMessage();

	return msg && *msg ? msg : "unknown libvirt error";
}

static int libvirt_error_code(void)
{
	virErrorPtr err = virGetLastError();

	return err ? err->code : VIR_ERR_OK;
}

static struct lv_event *event_new(enum lv_event_type type)
{
	struct lv_event *e = calloc(1, sizeof(*e));

	if (e)
		e->type = type;
	return e;
}

static void set_last_error(struct lv_monitor *m, const char *text)
{
	pthread_mutex_lock(&m->lock);
	snprintf(m->last_error, sizeof(m->last_error), "%s", text);
	pthread_mutex_unlock(&m->lock);
}

/* Hand e to the main loop. Out of memory (e == NULL) loses an event; ask
 * for a re-list so that the main loop still ends up consistent. */
static void emit(struct lv_monitor *m, struct lv_event *e)
{
	if (!e || lv_queue_push(m->queue, e) > 0)
		m->resync = true;
}

static int domain_fill(virDomainPtr dom, bool want_xml, struct lv_domain *d)
{
	const char *name = virDomainGetName(dom);
	char uuid[VIR_UUID_STRING_BUFLEN];

	if (!name || virDomainGetUUIDString(dom, uuid) < 0)
		return -EIO;
	if (strlen(name) >= sizeof(d->name))
		return -ENAMETOOLONG;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	d->id = (int)virDomainGetID(dom); /* (unsigned) -1 when inactive */
	d->active = virDomainIsActive(dom) == 1;
	d->xml = want_xml ? virDomainGetXMLDesc(dom, 0) : NULL;
	return 0;
}

/* An event about dom; a domain we cannot describe still produces the event
 * (with error set), so that the main loop learns something happened. */
static struct lv_event *domain_event_new(enum lv_event_type type, virDomainPtr dom, bool want_xml)
{
	struct lv_event *e = event_new(type);
	int r;

	if (!e)
		return NULL;
	r = domain_fill(dom, want_xml, &e->domain);
	if (r < 0) {
		e->error = r;
		snprintf(e->message, sizeof(e->message), "cannot describe domain %.64s: %s",
			 virDomainGetName(dom) ?: "?",
			 r == -ENAMETOOLONG ? "name too long" : libvirt_error_text());
	}
	return e;
}

static int on_lifecycle(virConnectPtr conn _unused_, virDomainPtr dom, int event, int detail,
			void *userdata)
{
	struct lv_monitor *m = userdata;
	bool want_xml = event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_DEFINED ||
			event == VIR_DOMAIN_EVENT_RESUMED;
	struct lv_event *e = domain_event_new(LV_LIFECYCLE, dom, want_xml);

	if (e) {
		e->event = event;
		e->detail = detail;
	}
	emit(m, e);
	return 0;
}

/* Device events carry the XML as it is after the change: the main loop
 * re-plans from it without another round trip. */
static void device_event(struct lv_monitor *m, enum lv_event_type type, virDomainPtr dom,
			 const char *alias)
{
	struct lv_event *e = domain_event_new(type, dom, true);

	if (e)
		snprintf(e->device_alias, sizeof(e->device_alias), "%s", alias ?: "");
	emit(m, e);
}

static void on_device_added(virConnectPtr conn _unused_, virDomainPtr dom, const char *alias,
			    void *userdata)
{
	device_event(userdata, LV_DEVICE_ADDED, dom, alias);
}

static void on_device_removed(virConnectPtr conn _unused_, virDomainPtr dom, const char *alias,
			      void *userdata)
{
	device_event(userdata, LV_DEVICE_REMOVED, dom, alias);
}

static const char *close_reason(int reason)
{
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		return "I/O error";
	case VIR_CONNECT_CLOSE_REASON_EOF:
		return "libvirtd closed the connection";
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		return "keepalive timeout";
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		return "closed by the client";
	default:
		return "unknown reason";
	}
}

static void on_close(virConnectPtr conn _unused_, int reason, void *userdata)
{
	struct lv_monitor *m = userdata;

	/* The loop tears the connection down once this callback returned. */
	m->lost = true;
	snprintf(m->lost_reason, sizeof(m->lost_reason), "%s", close_reason(reason));
}

/* An outage is reported once, and again only when its cause changes, so
 * that a daemon waiting for libvirtd does not wake its main loop on every
 * retry. */
static void report_down(struct lv_monitor *m, int error, const char *text)
{
	struct lv_event *e;

	/* only this thread writes last_error, so reading it unlocked is fine */
	if (m->down_reported && streq(m->last_error, text))
		return;
	set_last_error(m, text);
	m->down_reported = true;
	e = event_new(LV_DISCONNECTED);
	if (e) {
		e->error = error;
		snprintf(e->message, sizeof(e->message), "%s", text);
	}
	emit(m, e);
}

static void schedule_retry(struct lv_monitor *m)
{
	unsigned shift = m->failures < 5 ? m->failures : 5;
	int delay = LV_BACKOFF_FIRST_MS << shift;

	if (delay > LV_BACKOFF_MAX_MS)
		delay = LV_BACKOFF_MAX_MS;
	m->failures++;
	virEventUpdateTimeout(m->retry_timer, delay);
}

static void on_retry_timer(int timer _unused_, void *userdata)
{
	struct lv_monitor *m = userdata;

	virEventUpdateTimeout(m->retry_timer, -1);
	m->connect_due = true;
}

static void on_wake(int watch _unused_, int fd, int events _unused_, void *userdata _unused_)
{
	eventfd_t ignored;

	/* what woke us (requests, stop) is looked at after dispatch */
	(void)eventfd_read(fd, &ignored);
}

static bool is_permission_error(int code)
{
	return code == VIR_ERR_AUTH_FAILED || code == VIR_ERR_AUTH_CANCELLED ||
	       code == VIR_ERR_AUTH_UNAVAILABLE || code == VIR_ERR_OPERATION_DENIED ||
	       code == VIR_ERR_ACCESS_DENIED;
}

/* Read-write first: memtyped runs as root. The monitor itself only lists,
 * reads XML and listens, which a read-only connection allows, so when
 * libvirt refuses read-write access (an unprivileged or confined memtyped,
 * a polkit rule) a read-only connection is better than none; note says so. */
static virConnectPtr open_connection(const char *uri, int *ret_error, char *note, size_t note_size)
{
	char refused[256];
	virConnectPtr conn = virConnectOpen(uri);

	if (conn)
		return conn;
	if (!is_permission_error(libvirt_error_code())) {
		*ret_error = -ENOTCONN;
		return NULL;
	}
	snprintf(refused, sizeof(refused), "%s", libvirt_error_text());
	conn = virConnectOpenReadOnly(uri);
	if (!conn) {
		*ret_error = -EACCES;
		return NULL;
	}
	snprintf(note, note_size, "read-only connection: read-write refused (%s)", refused);
	return conn;
}

static int register_events(struct lv_monitor *m, virConnectPtr conn)
{
	static const int ids[] = {
		VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
		VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
	};
	const virConnectDomainEventGenericCallback callbacks[] = {
		LV_CALLBACK(on_lifecycle),
		LV_CALLBACK(on_device_added),
		LV_CALLBACK(on_device_removed),
	};

	for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
		m->event_ids[i] =
			virConnectDomainEventRegisterAny(conn, NULL, ids[i], callbacks[i], m, NULL);
		if (m->event_ids[i] < 0)
			return -EIO;
	}
	return 0;
}

static void drop_connection(struct lv_monitor *m)
{
	if (!m->conn)
		return;
	for (size_t i = 0; i < ELEMENTSOF(m->event_ids); i++)
		if (m->event_ids[i] >= 0)
			virConnectDomainEventDeregisterAny(m->conn, m->event_ids[i]);
	virConnectUnregisterCloseCallback(m->conn, on_close);
	virConnectClose(m->conn);
	m->conn = NULL;
	atomic_store(&m->connected, false);
}

/* LV_DOMAINS: every running domain with its live XML. */
static int list_domains(struct lv_monitor *m)
{
	virDomainPtr *doms = NULL;
	struct lv_event *e;
	size_t skipped = 0;
	int n;

	n = virConnectListAllDomains(m->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return -EIO;
	e = event_new(LV_DOMAINS);
	if (e && n > 0)
		e->domains = calloc(n, sizeof(*e->domains));
	for (int i = 0; i < n; i++) {
		if (e && e->domains && domain_fill(doms[i], true, &e->domains[e->n_domains]) == 0)
			e->n_domains++;
		else
			skipped++;
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!e || (n > 0 && !e->domains)) {
		lv_event_free(e);
		return -ENOMEM;
	}
	if (skipped > 0) {
		e->error = -ENAMETOOLONG;
		snprintf(e->message, sizeof(e->message),
			 "%zu running domain(s) left out: name too long or gone while listing",
			 skipped);
	}
	m->resync = false;
	emit(m, e);
	return 0;
}

static void connect_failed(struct lv_monitor *m, int error, const char *what)
{
	char text[sizeof(m->last_error)];

	snprintf(text, sizeof(text), "%s %s: %s", what, m->uri, libvirt_error_text());
	drop_connection(m);
	report_down(m, error, text);
	schedule_retry(m);
}

static void connect_now(struct lv_monitor *m)
{
	char note[sizeof(((struct lv_event *)0)->message)] = "";
	struct lv_event *e;
	virConnectPtr conn;
	int error = 0;

	if (m->attempted)
		atomic_fetch_add(&m->reconnects, 1);
	m->attempted = true;

	conn = open_connection(m->uri, &error, note, sizeof(note));
	if (!conn) {
		connect_failed(m, error, "cannot connect to");
		return;
	}
	m->conn = conn;
	memset(m->event_ids, -1, sizeof(m->event_ids));
	if (virConnectRegisterCloseCallback(conn, on_close, m, NULL) < 0 ||
	    register_events(m, conn) < 0) {
		connect_failed(m, -EIO, "cannot subscribe to events of");
		return;
	}
	/* Only the remote driver has keepalive; local ones say unsupported. */
	(void)virConnectSetKeepAlive(conn, LV_KEEPALIVE_INTERVAL, LV_KEEPALIVE_COUNT);

	m->failures = 0;
	m->down_reported = false;
	m->lost = false;
	set_last_error(m, "");
	atomic_store(&m->connected, true);
	e = event_new(LV_CONNECTED);
	if (e)
		snprintf(e->message, sizeof(e->message), "%s", note);
	emit(m, e);
	if (list_domains(m) < 0)
		connect_failed(m, -EIO, "cannot list the domains of");
}

static struct lv_request *take_requests(struct lv_monitor *m)
{
	struct lv_request *list;

	pthread_mutex_lock(&m->lock);
	list = m->requests;
	m->requests = NULL;
	m->requests_tail = &m->requests;
	m->n_requests = 0;
	pthread_mutex_unlock(&m->lock);
	return list;
}

static virDomainPtr lookup_domain(virConnectPtr conn, const char *name_or_uuid)
{
	virDomainPtr dom = virDomainLookupByName(conn, name_or_uuid);

	if (!dom && libvirt_error_code() == VIR_ERR_NO_DOMAIN)
		dom = virDomainLookupByUUIDString(conn, name_or_uuid);
	return dom;
}

static void answer_error(struct lv_event *e, int error, const char *fmt, const char *name,
			 const char *why)
{
	e->error = error;
	snprintf(e->message, sizeof(e->message), fmt, name, why);
}

static struct lv_event *answer_request(struct lv_monitor *m, const struct lv_request *req)
{
	struct lv_event *e = event_new(LV_XML);
	virDomainPtr dom;
	int code;

	if (!e)
		return NULL;
	e->request_id = req->id;
	if (!m->conn) {
		answer_error(e, -ENOTCONN, "cannot look up %s: %s", req->name_or_uuid,
			     "not connected to libvirt");
		return e;
	}
	dom = lookup_domain(m->conn, req->name_or_uuid);
	if (!dom) {
		code = libvirt_error_code();
		if (code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_INVALID_ARG)
			answer_error(e, -ENOENT, "no domain named or with UUID '%s'%s",
				     req->name_or_uuid, "");
		else
			answer_error(e, -EIO, "cannot look up %s: %s", req->name_or_uuid,
				     libvirt_error_text());
		return e;
	}
	e->error = domain_fill(dom, true, &e->domain);
	if (e->error < 0)
		answer_error(e, e->error, "cannot describe %s: %s", req->name_or_uuid,
			     libvirt_error_text());
	else if (!e->domain.xml)
		answer_error(e, -EIO, "cannot get the XML of %s: %s", req->name_or_uuid,
			     libvirt_error_text());
	virDomainFree(dom);
	return e;
}

static void serve_requests(struct lv_monitor *m)
{
	struct lv_request *req = take_requests(m);

	while (req) {
		struct lv_request *next = req->next;

		emit(m, answer_request(m, req));
		free(req);
		req = next;
	}
}

static void connection_lost(struct lv_monitor *m)
{
	char text[sizeof(m->last_error)];

	snprintf(text, sizeof(text), "connection to %s lost: %s", m->uri, m->lost_reason);
	drop_connection(m);
	m->lost = false;
	m->failures = 0;
	report_down(m, -ECONNRESET, text);
	schedule_retry(m);
}

/* Work that needs libvirt calls is done here, between dispatches, rather
 * than inside libvirt's callbacks. */
static void after_dispatch(struct lv_monitor *m)
{
	if (m->connect_due) {
		m->connect_due = false;
		connect_now(m);
	}
	if (m->conn && m->resync && !m->lost && list_domains(m) < 0)
		connect_failed(m, -EIO, "cannot list the domains of");
	serve_requests(m);
	if (m->conn && m->lost)
		connection_lost(m);
}

static void *monitor_thread(void *userdata)
{
	struct lv_monitor *m = userdata;

	connect_now(m);
	while (!atomic_load(&m->stop)) {
		if (virEventRunDefaultImpl() < 0) {
			report_down(m, -EIO,
				    "libvirt's event loop failed; libvirt monitoring stopped");
			break;
		}
		after_dispatch(m);
	}
	drop_connection(m);
	return NULL;
}

static int start_thread(struct lv_monitor *m)
{
	sigset_t all, old;
	int r;

	/* The main loop takes signals through signalfd: keep them blocked
	 * here so none is delivered to this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&m->thread, NULL, monitor_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	m->thread_started = true;
	(void)pthread_setname_np(m->thread, "mt-libvirt");
	return 0;
}

static int monitor_new(const char *uri, struct lv_monitor **ret)
{
	struct lv_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->requests_tail = &m->requests;
	m->wake_watch = m->retry_timer = -1;
	memset(m->event_ids, -1, sizeof(m->event_ids));
	m->uri = strdup(uri);
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!m->uri || m->wake_fd < 0) {
		r = m->uri ? -errno : -ENOMEM;
		goto fail;
	}
	r = lv_queue_new(LV_QUEUE_MAX, &m->queue);
	if (r < 0)
		goto fail;
	/* The default event loop accepts additions from any thread. */
	m->wake_watch = virEventAddHandle(m->wake_fd, VIR_EVENT_HANDLE_READABLE, on_wake, m, NULL);
	m->retry_timer = virEventAddTimeout(-1, on_retry_timer, m, NULL);
	if (m->wake_watch < 0 || m->retry_timer < 0) {
		r = -EIO;
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	lv_monitor_free(m);
	return r;
}

int lv_monitor_start(const char *uri, struct lv_monitor **ret)
{
	struct lv_monitor *m = NULL;
	bool expected = false;
	int r;

	if (!uri || !*uri)
		return -EINVAL;
	pthread_once(&libvirt_once, libvirt_init);
	if (libvirt_init_result < 0)
		return libvirt_init_result;
	if (!atomic_compare_exchange_strong(&monitor_exists, &expected, true))
		return -EBUSY;
	r = monitor_new(uri, &m);
	if (r < 0)
		return r; /* monitor_new freed it, clearing the flag */
	r = start_thread(m);
	if (r < 0) {
		lv_monitor_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

static bool join_thread(struct lv_monitor *m)
{
	struct timespec deadline;

	atomic_store(&m->stop, true);
	(void)eventfd_write(m->wake_fd, 1);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += LV_JOIN_TIMEOUT_S;
	if (pthread_timedjoin_np(m->thread, NULL, &deadline) == 0)
		return true;
	/* Stuck inside a libvirt call (a hung libvirtd during connect): the
	 * thread still uses m, so leave both to the exiting process. */
	pthread_detach(m->thread);
	return false;
}

void lv_monitor_free(struct lv_monitor *m)
{
	struct lv_request *req;

	if (!m)
		return;
	if (m->thread_started && !join_thread(m))
		return;
	if (m->wake_watch >= 0)
		virEventRemoveHandle(m->wake_watch);
	if (m->retry_timer >= 0)
		virEventRemoveTimeout(m->retry_timer);
	while ((req = m->requests)) {
		m->requests = req->next;
		free(req);
	}
	lv_queue_free(m->queue);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	free(m->uri);
	pthread_mutex_destroy(&m->lock);
	free(m);
	atomic_store(&monitor_exists, false);
}

int lv_monitor_fd(const struct lv_monitor *m)
{
	return lv_queue_fd(m->queue);
}

int lv_monitor_pop(struct lv_monitor *m, struct lv_event **ret)
{
	return lv_queue_pop(m->queue, ret);
}

int lv_monitor_request_xml(struct lv_monitor *m, const char *name_or_uuid, uint64_t request_id)
{
	struct lv_request *req;

	if (!name_or_uuid || !*name_or_uuid)
		return -EINVAL;
	if (strlen(name_or_uuid) >= sizeof(req->name_or_uuid))
		return -ENAMETOOLONG;
	if (!atomic_load(&m->connected))
		return -ENOTCONN;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->id = request_id;
	snprintf(req->name_or_uuid, sizeof(req->name_or_uuid), "%s", name_or_uuid);

	pthread_mutex_lock(&m->lock);
	if (m->n_requests >= LV_REQUESTS_MAX) {
		pthread_mutex_unlock(&m->lock);
		free(req);
		return -ENOBUFS;
	}
	*m->requests_tail = req;
	m->requests_tail = &req->next;
	m->n_requests++;
	pthread_mutex_unlock(&m->lock);
	(void)eventfd_write(m->wake_fd, 1);
	return 0;
}

bool lv_monitor_connected(const struct lv_monitor *m)
{
	return atomic_load(&m->connected);
}

unsigned lv_monitor_reconnects(const struct lv_monitor *m)
{
	return atomic_load(&m->reconnects);
}

void lv_monitor_last_error(const struct lv_monitor *m, char *buf, size_t size)
{
	/* the lock is not part of the monitor's logical state */
	pthread_mutex_t *lock = (pthread_mutex_t *)&m->lock;

	pthread_mutex_lock(lock);
	snprintf(buf, size, "%s", m->last_error);
	pthread_mutex_unlock(lock);
}

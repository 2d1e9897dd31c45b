/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of memtyped's libvirt monitor thread (daemon/libvirt-monitor.c)
 * against libvirt's real test driver. test:///default is one shared
 * instance per process, so the test drives domains through a connection of
 * its own and watches the monitor report them; Check forks every test, so
 * each starts from the driver's pristine default host. A remote URI whose
 * socket does not exist stands in for a libvirtd that is down. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "daemon/libvirt-monitor.h"
#include "daemon/libvirt-queue.h"

#define TEST_URI "test:///default"
#define DOWN_URI "qemu+unix:///system?socket=/nonexistent/memtype-test/libvirt-sock"
#define WAIT_MS	 5000

static const char extra_domain_xml[] = "<domain type='test'>"
				       "  <name>%s</name>"
				       "  <memory>65536</memory>"
				       "  <os><type>hvm</type></os>"
				       "</domain>";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

/* The next event, waiting up to timeout_ms; NULL when none came. */
static struct lv_event *next_event(struct lv_monitor *m, int timeout_ms)
{
	struct lv_event *e = NULL;
	double deadline = now_s() + timeout_ms / 1000.0;

	for (;;) {
		if (lv_monitor_pop(m, &e) > 0)
			return e;
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0 || !fd_readable(lv_monitor_fd(m), left))
			return lv_monitor_pop(m, &e) > 0 ? e : NULL;
	}
}

static struct lv_event *expect_event(struct lv_monitor *m, enum lv_event_type type)
{
	struct lv_event *e = next_event(m, WAIT_MS);

	ck_assert_msg(e, "no event of type %d within %d ms", type, WAIT_MS);
	ck_assert_int_eq(e->type, type);
	return e;
}

static struct lv_monitor *start_connected(void)
{
	struct lv_monitor *m = NULL;

	ck_assert_int_eq(lv_monitor_start(TEST_URI, &m), 0);
	lv_event_free(expect_event(m, LV_CONNECTED));
	return m;
}

static virConnectPtr driver_connection(void)
{
	virConnectPtr conn = virConnectOpen(TEST_URI);

	ck_assert_msg(conn, "cannot open %s: %s", TEST_URI, virGetLastErrorMessage());
	return conn;
}

static const struct lv_domain *find_domain(const struct lv_event *e, const char *uuid)
{
	for (size_t i = 0; i < e->n_domains; i++)
		if (streq(e->domains[i].uuid, uuid))
			return &e->domains[i];
	return NULL;
}

static void assert_describes(const struct lv_domain *d, virDomainPtr dom, bool with_xml)
{
	char uuid[VIR_UUID_STRING_BUFLEN], name_tag[MT_NAME_MAX + 16];

	ck_assert_int_eq(virDomainGetUUIDString(dom, uuid), 0);
	ck_assert_str_eq(d->name, virDomainGetName(dom));
	ck_assert_str_eq(d->uuid, uuid);
	ck_assert_int_eq(d->active, virDomainIsActive(dom) == 1);
	ck_assert_int_eq(d->id, (int)virDomainGetID(dom));
	if (!with_xml) {
		ck_assert_ptr_null(d->xml);
		return;
	}
	ck_assert_ptr_nonnull(d->xml);
	snprintf(name_tag, sizeof(name_tag), "<name>%s</name>", d->name);
	ck_assert_ptr_nonnull(strstr(d->xml, name_tag));
	ck_assert_ptr_nonnull(strstr(d->xml, uuid));
}

START_TEST(test_connect_lists_running_domains)
{
	_cleanup_(lv_event_freep) struct lv_event *e = NULL;
	virConnectPtr conn = driver_connection();
	virDomainPtr *doms = NULL;
	struct lv_monitor *m = NULL;
	char err[64] = "x";
	int n;

	ck_assert_int_eq(lv_monitor_start(TEST_URI, &m), 0);
	e = expect_event(m, LV_CONNECTED);
	ck_assert_str_eq(e->message, "");
	lv_event_free(TAKE_PTR(e));
	ck_assert(lv_monitor_connected(m));
	lv_monitor_last_error(m, err, sizeof(err));
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(lv_monitor_reconnects(m), 0);

	/* the same running domains as libvirt lists, each described fully */
	e = expect_event(m, LV_DOMAINS);
	n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(e->n_domains, (size_t)n);
	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		const struct lv_domain *d;

		virDomainGetUUIDString(doms[i], uuid);
		d = find_domain(e, uuid);
		ck_assert_msg(d, "running domain %s missing", virDomainGetName(doms[i]));
		ck_assert(d->active);
		ck_assert_int_ge(d->id, 1);
		assert_describes(d, doms[i], true);
		virDomainFree(doms[i]);
	}
	free(doms);
	lv_monitor_free(m);
	virConnectClose(conn);
}
END_TEST

START_TEST(test_request_xml)
{
	struct lv_monitor *m = start_connected();
	_cleanup_(lv_event_freep) struct lv_event *domains = expect_event(m, LV_DOMAINS);
	char long_name[MT_NAME_MAX + 1];
	const struct {
		const char *key;
		uint64_t id;
		int error;
	} cases[] = {
		{ "test", 7, 0 },
		{ domains->domains[0].uuid, 8, 0 },
		{ "no-such-domain", 9, -ENOENT },
		{ "00000000-0000-0000-0000-000000000000", 10, -ENOENT },
	};

	ck_assert_uint_ge(domains->n_domains, 1);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		ck_assert_int_eq(lv_monitor_request_xml(m, cases[i].key, cases[i].id), 0);
	/* answered in order, each carrying its request's id */
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(lv_event_freep) struct lv_event *e = expect_event(m, LV_XML);

		ck_assert_uint_eq(e->request_id, cases[i].id);
		ck_assert_int_eq(e->error, cases[i].error);
		if (cases[i].error < 0) {
			ck_assert_ptr_null(e->domain.xml);
			ck_assert_ptr_nonnull(strstr(e->message, cases[i].key));
			continue;
		}
		ck_assert_str_eq(e->message, "");
		ck_assert_ptr_nonnull(e->domain.xml);
		ck_assert_str_eq(e->domain.uuid, domains->domains[0].uuid);
		ck_assert_str_eq(e->domain.name, domains->domains[0].name);
	}

	memset(long_name, 'a', MT_NAME_MAX);
	long_name[MT_NAME_MAX] = '\0';
	ck_assert_int_eq(lv_monitor_request_xml(m, long_name, 11), -ENAMETOOLONG);
	ck_assert_int_eq(lv_monitor_request_xml(m, "", 12), -EINVAL);
	ck_assert_int_eq(lv_monitor_request_xml(m, NULL, 13), -EINVAL);
	ck_assert_ptr_null(next_event(m, 200));
	lv_monitor_free(m);
}
END_TEST

static void expect_lifecycle(struct lv_monitor *m, virDomainPtr dom, int event, int detail,
			     bool with_xml)
{
	_cleanup_(lv_event_freep) struct lv_event *e = expect_event(m, LV_LIFECYCLE);

	ck_assert_int_eq(e->event, event);
	ck_assert_int_eq(e->detail, detail);
	ck_assert_int_eq(e->error, 0);
	assert_describes(&e->domain, dom, with_xml);
}

START_TEST(test_lifecycle_events)
{
	struct lv_monitor *m = start_connected();
	virConnectPtr conn = driver_connection();
	char xml[512];
	virDomainPtr dom;

	lv_event_free(expect_event(m, LV_DOMAINS));
	snprintf(xml, sizeof(xml), extra_domain_xml, "memtype-lifecycle");
	dom = virDomainDefineXML(conn, xml);
	ck_assert_ptr_nonnull(dom);
	expect_lifecycle(m, dom, VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED, true);

	ck_assert_int_eq(virDomainCreate(dom), 0);
	expect_lifecycle(m, dom, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, true);
	ck_assert_int_eq(virDomainSuspend(dom), 0);
	expect_lifecycle(m, dom, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED,
			 false);
	ck_assert_int_eq(virDomainResume(dom), 0);
	expect_lifecycle(m, dom, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, true);
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	expect_lifecycle(m, dom, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
			 false);
	ck_assert_int_eq(virDomainUndefine(dom), 0);
	{
		_cleanup_(lv_event_freep) struct lv_event *e = expect_event(m, LV_LIFECYCLE);

		ck_assert_int_eq(e->event, VIR_DOMAIN_EVENT_UNDEFINED);
		ck_assert_str_eq(e->domain.name, "memtype-lifecycle");
		ck_assert(!e->domain.active);
	}
	ck_assert_ptr_null(next_event(m, 200));
	virDomainFree(dom);
	virConnectClose(conn);
	lv_monitor_free(m);
}
END_TEST

START_TEST(test_libvirtd_down_backs_off)
{
	_cleanup_(lv_event_freep) struct lv_event *e = NULL;
	struct lv_monitor *m = NULL;
	char err[512];
	double t0 = now_s();

	ck_assert_int_eq(lv_monitor_start(DOWN_URI, &m), 0);
	e = expect_event(m, LV_DISCONNECTED);
	ck_assert_int_lt(e->error, 0);
	ck_assert_ptr_nonnull(strstr(e->message, DOWN_URI));
	ck_assert(!lv_monitor_connected(m));
	lv_monitor_last_error(m, err, sizeof(err));
	ck_assert_str_eq(err, e->message);
	ck_assert_int_eq(lv_monitor_request_xml(m, "test", 1), -ENOTCONN);

	/* attempts at 0, 1 and 3 s; the unchanged cause is reported once */
	ck_assert_ptr_null(next_event(m, (int)((t0 + 2.0 - now_s()) * 1000)));
	ck_assert_uint_eq(lv_monitor_reconnects(m), 1);
	ck_assert_ptr_null(next_event(m, (int)((t0 + 3.7 - now_s()) * 1000)));
	ck_assert_uint_eq(lv_monitor_reconnects(m), 2);
	ck_assert(!lv_monitor_connected(m));
	lv_monitor_free(m);
}
END_TEST

static void assert_free_is_prompt(struct lv_monitor *m)
{
	double t0 = now_s();

	lv_monitor_free(m);
	ck_assert_double_lt(now_s() - t0, 1.0);
}

START_TEST(test_free_is_prompt)
{
	struct lv_monitor *m = NULL, *other = NULL;

	/* right after start, while connecting */
	ck_assert_int_eq(lv_monitor_start(TEST_URI, &m), 0);
	ck_assert_int_eq(lv_monitor_start(TEST_URI, &other), -EBUSY);
	assert_free_is_prompt(m);

	/* connected, events and an answer left unread */
	m = start_connected();
	ck_assert_int_eq(lv_monitor_request_xml(m, "test", 1), 0);
	ck_assert(fd_readable(lv_monitor_fd(m), WAIT_MS));
	assert_free_is_prompt(m);

	/* waiting for a retry */
	ck_assert_int_eq(lv_monitor_start(DOWN_URI, &m), 0);
	lv_event_free(expect_event(m, LV_DISCONNECTED));
	assert_free_is_prompt(m);

	lv_monitor_free(NULL);
	ck_assert_int_eq(lv_monitor_start("", &m), -EINVAL);
}
END_TEST

/* The kernel's count of times the monitor thread went to sleep. */
static long monitor_thread_switches(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	long switches = -1;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) && switches < 0) {
		char path[300], line[128];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && streq(line, "mt-libvirt\n")) {
			fclose(f);
			snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
			f = fopen(path, "re");
			ck_assert_ptr_nonnull(f);
			while (fgets(line, sizeof(line), f))
				sscanf(line, "voluntary_ctxt_switches: %ld", &switches);
		}
		fclose(f);
	}
	closedir(d);
	ck_assert_int_ge(switches, 0);
	return switches;
}

START_TEST(test_idle_monitor_sleeps)
{
	struct lv_monitor *m = start_connected();
	long before, after;

	lv_event_free(expect_event(m, LV_DOMAINS));
	ck_assert(!fd_readable(lv_monitor_fd(m), 0));
	before = monitor_thread_switches();
	/* nothing happens for 3 s: the main loop's fd never becomes
	 * readable and the libvirt thread never wakes (no keepalive on a
	 * local driver, no timer armed while connected) */
	ck_assert(!fd_readable(lv_monitor_fd(m), 3000));
	after = monitor_thread_switches();
	fprintf(stderr, "idle monitor over 3 s: 0 eventfd wake-ups, %ld thread wake-ups\n",
		after - before);
	ck_assert_int_eq(after - before, 0);
	lv_monitor_free(m);
}
END_TEST

/* Flood the monitor with more lifecycle events than it queues: the oldest
 * are dropped and a fresh LV_DOMAINS follows, so what the main loop sees
 * still ends in the true state. */
START_TEST(test_overflow_forces_relist)
{
	enum { ROUNDS = 2100 }; /* 2 events each: more than the queue holds */
	struct lv_monitor *m = start_connected();
	virConnectPtr conn = driver_connection();
	_cleanup_(lv_event_freep) struct lv_event *e = NULL;
	size_t lifecycle = 0, relists = 0;
	bool marker = false;
	char xml[512];

	lv_event_free(expect_event(m, LV_DOMAINS));
	snprintf(xml, sizeof(xml), extra_domain_xml, "memtype-flood");
	for (int i = 0; i < ROUNDS; i++) {
		virDomainPtr dom = virDomainDefineXML(conn, xml);

		ck_assert_ptr_nonnull(dom);
		ck_assert_int_eq(virDomainUndefine(dom), 0);
		virDomainFree(dom);
	}
	snprintf(xml, sizeof(xml), extra_domain_xml, "memtype-marker");
	virDomainFree(virDomainDefineXML(conn, xml));

	while (!marker && (e = next_event(m, WAIT_MS))) {
		if (e->type == LV_DOMAINS)
			relists++;
		else if (e->type == LV_LIFECYCLE) {
			lifecycle++;
			marker = streq(e->domain.name, "memtype-marker");
		}
		lv_event_free(TAKE_PTR(e));
	}
	ck_assert_msg(marker, "the event after the flood never came");
	fprintf(stderr, "flood of %d events: %zu delivered, %zu re-list(s)\n", 2 * ROUNDS + 1,
		lifecycle, relists);
	ck_assert_uint_ge(relists, 1);
	ck_assert_uint_lt(lifecycle, 2 * ROUNDS + 1);
	virConnectClose(conn);
	lv_monitor_free(m);
}
END_TEST

static struct lv_event *queued(enum lv_event_type type, uint64_t id)
{
	struct lv_event *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	e->type = type;
	e->request_id = id;
	return e;
}

START_TEST(test_queue_drops_history_first)
{
	_cleanup_(lv_queue_freep) struct lv_queue *q = NULL;
	static const struct {
		enum lv_event_type type;
		uint64_t id;
	} pushed[] = {
		{ LV_LIFECYCLE, 1 },
		{ LV_XML, 2 },
		{ LV_DEVICE_ADDED, 3 },
		{ LV_LIFECYCLE, 4 },
	};
	static const uint64_t expected[] = { 2, 5 };
	struct lv_event *e;

	ck_assert_int_eq(lv_queue_new(ELEMENTSOF(pushed), &q), 0);
	ck_assert(!fd_readable(lv_queue_fd(q), 0));
	for (size_t i = 0; i < ELEMENTSOF(pushed); i++)
		ck_assert_int_eq(lv_queue_push(q, queued(pushed[i].type, pushed[i].id)), 0);
	ck_assert(fd_readable(lv_queue_fd(q), 0));
	ck_assert_int_eq(lv_queue_push(q, queued(LV_LIFECYCLE, 5)), 1);
	ck_assert_uint_eq(lv_queue_dropped(q), 3);

	for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
		ck_assert(fd_readable(lv_queue_fd(q), 0));
		ck_assert_int_eq(lv_queue_pop(q, &e), 1);
		ck_assert_uint_eq(e->request_id, expected[i]);
		lv_event_free(e);
	}
	/* drained: the fd must not wake anyone any more */
	ck_assert(!fd_readable(lv_queue_fd(q), 0));
	ck_assert_int_eq(lv_queue_pop(q, &e), 0);
}
END_TEST

START_TEST(test_queue_drops_oldest_without_history)
{
	_cleanup_(lv_queue_freep) struct lv_queue *q = NULL;
	struct lv_event *e;

	ck_assert_int_eq(lv_queue_new(2, &q), 0);
	ck_assert_int_eq(lv_queue_push(q, queued(LV_XML, 1)), 0);
	ck_assert_int_eq(lv_queue_push(q, queued(LV_DOMAINS, 2)), 0);
	ck_assert_int_eq(lv_queue_push(q, queued(LV_XML, 3)), 1);
	ck_assert_uint_eq(lv_queue_dropped(q), 1);
	for (uint64_t id = 2; id <= 3; id++) {
		ck_assert_int_eq(lv_queue_pop(q, &e), 1);
		ck_assert_uint_eq(e->request_id, id);
		lv_event_free(e);
	}
	ck_assert(!fd_readable(lv_queue_fd(q), 0));
	ck_assert_int_eq(lv_queue_new(0, &q), -EINVAL);
}
END_TEST

static Suite *libvirt_monitor_suite(void)
{
	Suite *s = suite_create("libvirt-monitor");
	TCase *queue = tcase_create("queue");
	TCase *monitor = tcase_create("monitor");

	tcase_add_test(queue, test_queue_drops_history_first);
	tcase_add_test(queue, test_queue_drops_oldest_without_history);
	suite_add_tcase(s, queue);

	tcase_add_test(monitor, test_connect_lists_running_domains);
	tcase_add_test(monitor, test_request_xml);
	tcase_add_test(monitor, test_lifecycle_events);
	tcase_add_test(monitor, test_libvirtd_down_backs_off);
	tcase_add_test(monitor, test_free_is_prompt);
	tcase_add_test(monitor, test_idle_monitor_sleeps);
	tcase_add_test(monitor, test_overflow_forces_relist);
	suite_add_tcase(s, monitor);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(libvirt_monitor_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

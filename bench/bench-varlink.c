/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-varlink: drives a running memtyped through daemon/varlink-client.c
 * for bench/daemon.
 *
 *   bench-varlink plan SOCKET XML N        N Plan(xml) round trips on one
 *       connection, then N/10 with a new connection per call (what the hook
 *       does); prints p50/p90/p99/max of each in microseconds
 *   bench-varlink register SOCKET XML N    Register N VMs made from XML
 *       (name and UUID replaced per VM), then unregisters none of them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench-util.h"
#include "common/fileio.h"
#include "daemon/varlink-client.h"

#define CALL_TIMEOUT_USEC (10 * 1000 * 1000ULL)
#define XML_MAX (8u << 20)

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

static void print_latencies(const char *what, double *usec, size_t n)
{
	qsort(usec, n, sizeof(*usec), compare_double);
	printf("%-28s n=%zu p50=%.0f us p90=%.0f us p99=%.0f us max=%.0f us\n", what, n,
	       percentile(usec, n, 0.50), percentile(usec, n, 0.90),
	       percentile(usec, n, 0.99), usec[n - 1]);
}

/* One call; a varlink error reply counts as a failure here. */
static int call(struct varlink_client *c, const char *method, struct json_object *params)
{
	struct varlink_client_reply reply = { 0 };
	struct mt_error err = { 0 };
	int r;

	r = varlink_client_call(c, method, params, CALL_TIMEOUT_USEC, &reply, &err);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", method, mt_error_message(&err, r));
	else if (r > 0)
		fprintf(stderr, "%s: error reply %s\n", method, reply.error);
	varlink_client_reply_done(&reply);
	return r == 0 ? 0 : -1;
}

static int connect_to(const char *sock, struct varlink_client **ret)
{
	struct mt_error err = { 0 };
	int r;

	r = varlink_client_connect(sock, CALL_TIMEOUT_USEC, ret, &err);
	if (r < 0)
		fprintf(stderr, "connect %s: %s\n", sock, mt_error_message(&err, r));
	return r;
}

static int bench_plan_reused(const char *sock, struct json_object *params, size_t n, double *usec)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;

	if (connect_to(sock, &c) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		double t0 = bench_now_s();
		if (call(c, "io.memtype.Manager.Plan", params) < 0)
			return -1;
		usec[i] = (bench_now_s() - t0) * 1e6;
	}
	print_latencies("Plan(xml), one connection", usec, n);
	return 0;
}

static int bench_plan_connect_each(const char *sock, struct json_object *params, size_t n,
				   double *usec)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
		double t0 = bench_now_s();
		if (connect_to(sock, &c) < 0 || call(c, "io.memtype.Manager.Plan", params) < 0)
			return -1;
		usec[i] = (bench_now_s() - t0) * 1e6;
	}
	print_latencies("Plan(xml), connect per call", usec, n);
	return 0;
}

static int cmd_plan(const char *sock, const char *xml, size_t n)
{
	struct json_object *params = json_object_new_object();
	double *usec = calloc(n, sizeof(*usec));
	int r = -1;

	if (!params || !usec)
		goto out;
	json_object_object_add(params, "xml", json_object_new_string(xml));
	if (bench_plan_reused(sock, params, n, usec) < 0)
		goto out;
	r = bench_plan_connect_each(sock, params, n / 10 ? n / 10 : 1, usec);
out:
	json_object_put(params);
	free(usec);
	return r < 0 ? 1 : 0;
}

/* XML with the text of its first <tag>...</tag> replaced by value. */
static char *replace_element(const char *xml, const char *tag, const char *value)
{
	char open[32], close[32];
	const char *a, *b;
	char *out;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(xml, open);
	b = a ? strstr(a, close) : NULL;
	if (!b)
		return NULL;
	a += strlen(open);
	if (asprintf(&out, "%.*s%s%s", (int)(a - xml), xml, value, b) < 0)
		return NULL;
	return out;
}

static char *numbered_vm_xml(const char *xml, size_t i)
{
	_cleanup_free_ char *named = NULL;
	char name[64], uuid[64];

	snprintf(name, sizeof(name), "bench-vm-%05zu", i);
	snprintf(uuid, sizeof(uuid), "6d74be9c-0000-4000-8000-%012zx", i);
	named = replace_element(xml, "name", name);
	return named ? replace_element(named, "uuid", uuid) : NULL;
}

static int cmd_register(const char *sock, const char *xml, size_t n)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	double t0 = bench_now_s();

	if (connect_to(sock, &c) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *vm_xml = numbered_vm_xml(xml, i);
		struct json_object *params;
		int r;

		if (!vm_xml) {
			fprintf(stderr, "register: the XML needs a <name> and a <uuid> element\n");
			return 1;
		}
		params = json_object_new_object();
		json_object_object_add(params, "xml", json_object_new_string(vm_xml));
		r = call(c, "io.memtype.Manager.Register", params);
		json_object_put(params);
		if (r < 0)
			return 1;
	}
	printf("Register x %zu: %.1f ms\n", n, (bench_now_s() - t0) * 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *xml = NULL;
	size_t len, n;
	int r;

	if (argc != 5 || (strcmp(argv[1], "plan") && strcmp(argv[1], "register")) ||
	    (n = strtoul(argv[4], NULL, 10)) == 0) {
		fprintf(stderr, "usage: %s plan|register SOCKET XML N\n", argv[0]);
		return 2;
	}
	r = read_file_bounded(argv[3], XML_MAX, &xml, &len);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", argv[3], strerror(-r));
		return 1;
	}
	if (streq(argv[1], "plan"))
		return cmd_plan(argv[2], xml, n);
	return cmd_register(argv[2], xml, n);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the varlink server (daemon/varlink-server.c) and client
 * (daemon/varlink-client.c): a real sd-event loop and real AF_UNIX sockets
 * in a temporary directory. The loop runs in the test process; peers are
 * raw non-blocking sockets of the same process (to send exactly the bytes a
 * case needs) or forked children using the blocking client (for calls, and
 * for peers with other credentials). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/json-util.h"
#include "daemon/varlink-client.h"
#include "daemon/varlink-server.h"

#define IFACE "org.example.test"
#define PRIVILEGED_GID 4242
#define NOBODY 65534
#define SECOND 1000000ULL

static const char test_idl[] =
	"# The interface of these tests.\n"
	"interface " IFACE "\n"
	"\n"
	"method Echo(text: string) -> (text: string)\n"
	"method Secret() -> (secret: int)\n"
	"method Count() -> (i: ?int, done: ?bool)\n"
	"method Later(delay_ms: int) -> (late: bool)\n"
	"method Typed(name: string, count: ?int, flag: ?bool) -> (name: string, count: int, flag: bool)\n"
	"method Fail() -> ()\n"
	"method Note() -> ()\n"
	"method Flood(size: int) -> ()\n"
	"method Big(size: int) -> (data: string)\n"
	"method Unimplemented() -> ()\n"
	"error Failed (reason: string)\n";

/* What the handlers saw, for the assertions. */
static struct {
	unsigned notes;
	struct varlink_request *later;  /* an asynchronous call waiting for its timer */
	unsigned disconnects;
	bool late_replied;
	int late_reply;                 /* what replying late returned */
	int flood_result;               /* what the notify that stopped the flood returned */
} seen;

static struct {
	char dir[64];
	char path[128];
	sd_event *event;
	struct varlink_server *server;
} fx;

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SECOND + (uint64_t)ts.tv_nsec / 1000;
}

/* ----- the methods ------------------------------------------------------- */

struct echo_params {
	const char *text;
};

static int method_echo(const struct varlink_call *call, void *params, void *userdata)
{
	const struct echo_params *p = params;
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "text", p->text) < 0)
		return -ENOMEM;
	return varlink_request_reply(userdata, o);
}

static int method_secret(const struct varlink_call *call, void *params, void *userdata)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add(o, "secret", json_object_new_int(42)) < 0)
		return -ENOMEM;
	return varlink_request_reply(userdata, o);
}

static int method_count(const struct varlink_call *call, void *params, void *userdata)
{
	_cleanup_json_ struct json_object *done = json_object_new_object();
	int r;

	for (int i = 0; i < 3; i++) {
		_cleanup_json_ struct json_object *o = json_object_new_object();

		if (!o || mt_json_add(o, "i", json_object_new_int(i)) < 0)
			return -ENOMEM;
		r = varlink_request_notify(userdata, o);
		if (r < 0)
			return r;
	}
	if (!done || mt_json_add_bool(done, "done", true) < 0)
		return -ENOMEM;
	return varlink_request_reply(userdata, done);
}

static int later_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct varlink_request *r = userdata;
	_cleanup_json_ struct json_object *o = json_object_new_object();

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(mt_json_add_bool(o, "late", true), 0);
	seen.late_reply = varlink_request_reply(r, o);
	seen.late_replied = true;
	seen.later = varlink_request_unref(r);
	return 0;
}

static void later_on_disconnect(struct varlink_request *r, void *userdata)
{
	ck_assert_ptr_eq(r, seen.later);
	ck_assert_ptr_eq(userdata, &seen);
	ck_assert(!varlink_request_is_connected(r));
	seen.disconnects++;
}

struct later_params {
	int64_t delay_ms;
};

static int method_later(const struct varlink_call *call, void *params, void *userdata)
{
	const struct later_params *p = params;
	struct varlink_request *r = userdata;
	int ret;

	ck_assert_ptr_eq(varlink_request_userdata(r), &fx);
	ret = sd_event_add_time_relative(fx.event, NULL, CLOCK_MONOTONIC, (uint64_t)p->delay_ms * 1000, 0,
					 later_on_timer, r);
	if (ret < 0)
		return ret;
	seen.later = varlink_request_ref(r);
	varlink_request_on_disconnect(r, later_on_disconnect, &seen);
	return 0;
}

struct typed_params {
	const char *name;
	int64_t count;
	bool flag;
};

static int method_typed(const struct varlink_call *call, void *params, void *userdata)
{
	const struct typed_params *p = params;
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "name", p->name) < 0 ||
	    mt_json_add(o, "count", json_object_new_int64(p->count)) < 0 ||
	    mt_json_add_bool(o, "flag", p->flag) < 0)
		return -ENOMEM;
	return varlink_request_reply(userdata, o);
}

static int method_fail(const struct varlink_call *call, void *params, void *userdata)
{
	return -EIO;
}

static int method_note(const struct varlink_call *call, void *params, void *userdata)
{
	seen.notes++;
	/* Dropped: the caller asked for no reply. */
	return varlink_request_reply(userdata, NULL);
}

struct flood_params {
	int64_t size;
};

/* Stream replies of size bytes to a peer that may never read them. */
static int method_flood(const struct varlink_call *call, void *params, void *userdata)
{
	const struct flood_params *p = params;
	_cleanup_free_ char *s = malloc((size_t)p->size + 1);
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!s || !o)
		return -ENOMEM;
	memset(s, 'f', (size_t)p->size);
	s[p->size] = '\0';
	if (mt_json_add_string(o, "data", s) < 0)
		return -ENOMEM;
	for (int i = 0; i < 1000; i++) {
		seen.flood_result = varlink_request_notify(userdata, o);
		if (seen.flood_result < 0)
			return 0;
	}
	return varlink_request_reply(userdata, NULL);
}

/* A reply of size bytes from a call of a few dozen. */
static int method_big(const struct varlink_call *call, void *params, void *userdata)
{
	const struct flood_params *p = params;
	_cleanup_free_ char *s = malloc((size_t)p->size + 1);
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!s || !o)
		return -ENOMEM;
	memset(s, 'b', (size_t)p->size);
	s[p->size] = '\0';
	if (mt_json_add_string(o, "data", s) < 0)
		return -ENOMEM;
	return varlink_request_reply(userdata, o);
}

static const struct varlink_param echo_table[] = {
	{ "text", json_type_string, offsetof(struct echo_params, text), true, NULL },
	{}
};
static const struct varlink_param later_table[] = {
	{ "delay_ms", json_type_int, offsetof(struct later_params, delay_ms), true, NULL },
	{}
};
static const struct varlink_param typed_table[] = {
	{ "name", json_type_string, offsetof(struct typed_params, name), true, NULL },
	{ "count", json_type_int, offsetof(struct typed_params, count), false, NULL },
	{ "flag", json_type_boolean, offsetof(struct typed_params, flag), false, NULL },
	{}
};
static const struct varlink_param flood_table[] = {
	{ "size", json_type_int, offsetof(struct flood_params, size), true, NULL },
	{}
};

static const struct varlink_method test_methods[] = {
	{ IFACE ".Echo", method_echo, echo_table, sizeof(struct echo_params), 0 },
	{ IFACE ".Secret", method_secret, NULL, 0, VARLINK_METHOD_PRIVILEGED },
	{ IFACE ".Count", method_count, NULL, 0, VARLINK_METHOD_STREAMING },
	{ IFACE ".Later", method_later, later_table, sizeof(struct later_params), 0 },
	{ IFACE ".Typed", method_typed, typed_table, sizeof(struct typed_params), 0 },
	{ IFACE ".Fail", method_fail, NULL, 0, 0 },
	{ IFACE ".Note", method_note, NULL, 0, 0 },
	{ IFACE ".Flood", method_flood, flood_table, sizeof(struct flood_params), VARLINK_METHOD_STREAMING },
	{ IFACE ".Big", method_big, flood_table, sizeof(struct flood_params), 0 },
	{ IFACE ".Unimplemented", NULL, NULL, 0, 0 },
	{}
};

static const struct varlink_server_info test_info = {
	.vendor = "memtype tests",
	.product = "test-varlink-server",
	.version = "1.2.3",
	.url = "https://example.org/memtype",
};

/* ----- the server under test --------------------------------------------- */

static void server_start(const struct varlink_server_limits *limits)
{
	const char *tmp = getenv("TMPDIR");
	struct mt_error err = { 0 };
	int r;

	memset(&seen, 0, sizeof(seen));
	snprintf(fx.dir, sizeof(fx.dir), "%s/mt-varlink-XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	/* Children that drop to nobody must reach the socket. */
	ck_assert_int_eq(chmod(fx.dir, 0755), 0);
	snprintf(fx.path, sizeof(fx.path), "%s/sock", fx.dir);
	ck_assert_int_eq(sd_event_new(&fx.event), 0);
	r = varlink_server_new(fx.event, test_methods, test_idl, &test_info, limits, PRIVILEGED_GID,
			       IFACE ".Failed", &fx, &fx.server, &err);
	ck_assert_msg(r == 0, "server_new: %s", mt_error_message(&err, r));
	r = varlink_server_listen_path(fx.server, fx.path, 0666, &err);
	ck_assert_msg(r == 0, "listen: %s", mt_error_message(&err, r));
}

static void server_start_limits(size_t max_message, unsigned max_connections, unsigned max_per_uid,
				size_t max_output, uint64_t idle_usec)
{
	struct varlink_server_limits l;

	varlink_server_limits_default(&l);
	if (max_message)
		l.max_message = l.max_message_privileged = max_message;
	if (max_connections)
		l.max_connections = max_connections;
	if (max_per_uid)
		l.max_per_uid = max_per_uid;
	if (max_output)
		l.max_output = max_output;
	l.idle_timeout_usec = idle_usec;
	server_start(&l);
}

static void server_stop(void)
{
	varlink_server_free(fx.server);
	fx.server = NULL;
	fx.event = sd_event_unref(fx.event);
	if (fx.path[0])
		unlink(fx.path);
	if (fx.dir[0])
		rmdir(fx.dir);
	memset(&fx, 0, sizeof(fx));
}

static struct varlink_server_stats stats(void)
{
	struct varlink_server_stats s;

	varlink_server_get_stats(fx.server, &s);
	return s;
}

/* Run the loop for up to ms milliseconds, or until done(arg). */
static bool pump_until(bool (*done)(void *), void *arg, unsigned ms)
{
	uint64_t end = now_usec() + ms * 1000ULL;

	while (now_usec() < end) {
		if (done && done(arg))
			return true;
		ck_assert_int_ge(sd_event_run(fx.event, 10 * 1000), 0);
	}
	return done && done(arg);
}

static void pump(unsigned ms)
{
	pump_until(NULL, NULL, ms);
}

static bool no_connections(void *arg)
{
	return varlink_server_n_connections(fx.server) == 0;
}

static bool one_connection(void *arg)
{
	return varlink_server_n_connections(fx.server) == 1;
}

/* ----- raw peers: exactly the bytes a case needs ------------------------- */

struct raw {
	int fd;
	size_t len;
	char buf[1024 * 1024];
};

static struct raw *raw_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct raw *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	strcpy(un.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(c->fd, 0);
	/* Completes at once into the backlog; the loop accepts later. */
	ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&un, sizeof(un)), 0);
	return c;
}

static void raw_close(struct raw *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Send all of data, running the loop while the socket is full. */
static void raw_send(struct raw *c, const void *data, size_t len)
{
	uint64_t end = now_usec() + 5 * SECOND;
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		ck_assert_msg(now_usec() < end, "cannot send in 5 s");
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_int_ge(sd_event_run(fx.event, 1000), 0);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void raw_send_str(struct raw *c, const char *s)
{
	raw_send(c, s, strlen(s) + 1);
}

/* Receive what is there; -1 when the server closed the connection. */
static int raw_fill(struct raw *c)
{
	ssize_t n;

	ck_assert_uint_lt(c->len, sizeof(c->buf));
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return -1;
	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		return 0;
	}
	c->len += (size_t)n;
	return 0;
}

/* The next message from the server while the loop runs, or NULL when the
 * server closed the connection. */
static struct json_object *raw_recv(struct raw *c)
{
	uint64_t end = now_usec() + 5 * SECOND;
	struct json_object *o;
	char *nul;
	size_t n;

	while (!(nul = memchr(c->buf, '\0', c->len))) {
		ck_assert_msg(now_usec() < end, "no reply in 5 s");
		if (raw_fill(c) < 0)
			return NULL;
		ck_assert_int_ge(sd_event_run(fx.event, 10 * 1000), 0);
	}
	o = json_tokener_parse(c->buf);
	ck_assert_msg(o != NULL, "reply is not JSON: %s", c->buf);
	n = (size_t)(nul - c->buf) + 1;
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	return o;
}

static bool raw_is_closed(void *arg)
{
	struct raw *c = arg;

	while (c->len < sizeof(c->buf)) {
		size_t before = c->len;

		if (raw_fill(c) < 0)
			return true;
		if (c->len == before)
			return false;
	}
	return false;
}

/* The string at parameters.key of a reply. */
static const char *reply_str(struct json_object *reply, const char *key)
{
	struct json_object *p, *v;

	if (!json_object_object_get_ex(reply, "parameters", &p) || !json_object_object_get_ex(p, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *reply_error(struct json_object *reply)
{
	struct json_object *v;

	return json_object_object_get_ex(reply, "error", &v) ? json_object_get_string(v) : NULL;
}

static void assert_echo_reply(struct raw *c, const char *text)
{
	_cleanup_json_ struct json_object *o = raw_recv(c);

	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_null(reply_error(o));
	ck_assert_str_eq(reply_str(o, "text"), text);
}

#define ECHO(text) "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"text\":\"" text "\"}}"

/* A fresh peer is served: what every misbehaving-peer case ends with. */
static void assert_still_serving(void)
{
	struct raw *c = raw_connect(fx.path);

	raw_send_str(c, ECHO("still here"));
	assert_echo_reply(c, "still here");
	raw_close(c);
}

/* ----- forked peers using the client library ----------------------------- */

#define CHILD_ASSERT(cond)                                                                    \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: in child: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                             \
		}                                                                             \
	} while (0)

/* Run fn in a child while this process runs the server; returns its exit
 * status (0: all its checks passed). */
static int run_child(int (*fn)(void *), void *arg)
{
	uint64_t end = now_usec() + 20 * SECOND;
	int status;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_usec() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("child took more than 20 s");
		}
		ck_assert_int_ge(sd_event_run(fx.event, 10 * 1000), 0);
	}
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct varlink_client *child_connect(void)
{
	struct varlink_client *c = NULL;
	struct mt_error err = { 0 };
	int r = varlink_client_connect(fx.path, 5 * SECOND, &c, &err);

	if (r < 0)
		fprintf(stderr, "child: %s\n", mt_error_message(&err, r));
	return c;
}

/* Call method with the JSON text params; *ret gets the reply. */
static int child_call(struct varlink_client *c, const char *method, const char *params,
		      struct varlink_client_reply *ret)
{
	_cleanup_json_ struct json_object *p = params ? json_tokener_parse(params) : NULL;
	struct mt_error err = { 0 };
	int r;

	r = varlink_client_call(c, method, p, 5 * SECOND, ret, &err);
	if (r < 0)
		fprintf(stderr, "child: %s: %s\n", method, mt_error_message(&err, r));
	return r;
}

static const char *param_str(const struct varlink_client_reply *r, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(r->parameters, key, &v) ? json_object_get_string(v) : "";
}

/* ----- server: calls ----------------------------------------------------- */

static int child_service(void *arg)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = child_connect();
	struct varlink_client_reply r = { 0 };
	struct json_object *ifaces;

	CHILD_ASSERT(c);
	CHILD_ASSERT(child_call(c, "org.varlink.service.GetInfo", NULL, &r) == 0);
	CHILD_ASSERT(streq(param_str(&r, "vendor"), "memtype tests"));
	CHILD_ASSERT(streq(param_str(&r, "version"), "1.2.3"));
	CHILD_ASSERT(json_object_object_get_ex(r.parameters, "interfaces", &ifaces));
	CHILD_ASSERT(json_object_array_length(ifaces) == 2);
	CHILD_ASSERT(streq(json_object_get_string(json_object_array_get_idx(ifaces, 0)), "org.varlink.service"));
	CHILD_ASSERT(streq(json_object_get_string(json_object_array_get_idx(ifaces, 1)), IFACE));
	varlink_client_reply_done(&r);

	CHILD_ASSERT(child_call(c, "org.varlink.service.GetInterfaceDescription",
				"{\"interface\":\"" IFACE "\"}", &r) == 0);
	CHILD_ASSERT(streq(param_str(&r, "description"), test_idl));
	varlink_client_reply_done(&r);

	CHILD_ASSERT(child_call(c, "org.varlink.service.GetInterfaceDescription",
				"{\"interface\":\"org.varlink.service\"}", &r) == 0);
	CHILD_ASSERT(strstr(param_str(&r, "description"), "interface org.varlink.service\n"));
	varlink_client_reply_done(&r);

	CHILD_ASSERT(child_call(c, "org.varlink.service.GetInterfaceDescription",
				"{\"interface\":\"org.example.nope\"}", &r) == 1);
	CHILD_ASSERT(streq(r.error, "org.varlink.service.InterfaceNotFound"));
	CHILD_ASSERT(streq(param_str(&r, "interface"), "org.example.nope"));
	varlink_client_reply_done(&r);

	CHILD_ASSERT(child_call(c, "org.varlink.service.GetInterfaceDescription", "{}", &r) == 1);
	CHILD_ASSERT(streq(r.error, "org.varlink.service.InvalidParameter"));
	CHILD_ASSERT(streq(param_str(&r, "parameter"), "interface"));
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_service_interface)
{
	server_start(NULL);
	ck_assert_int_eq(run_child(child_service, NULL), 0);
}
END_TEST

static int child_echo(void *arg)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = child_connect();
	struct varlink_client_reply r = { 0 };
	_cleanup_free_ char *big = malloc(200 * 1024);
	_cleanup_free_ char *params = malloc(220 * 1024);

	CHILD_ASSERT(c && big && params);
	/* Several calls on one connection, the last larger than any socket
	 * buffer, so both sides go through their partial-I/O paths. */
	CHILD_ASSERT(child_call(c, IFACE ".Echo", "{\"text\":\"hello\"}", &r) == 0);
	CHILD_ASSERT(streq(param_str(&r, "text"), "hello"));
	CHILD_ASSERT(!r.continues && !r.error);
	varlink_client_reply_done(&r);
	CHILD_ASSERT(child_call(c, IFACE ".Echo", "{\"text\":\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac\"}", &r) == 0);
	CHILD_ASSERT(streq(param_str(&r, "text"), "gr\xc3\xbc\xc3\x9f \xe2\x82\xac"));
	varlink_client_reply_done(&r);
	memset(big, 'b', 200 * 1024 - 1);
	big[200 * 1024 - 1] = '\0';
	snprintf(params, 220 * 1024, "{\"text\":\"%s\"}", big);
	CHILD_ASSERT(child_call(c, IFACE ".Echo", params, &r) == 0);
	CHILD_ASSERT(streq(param_str(&r, "text"), big));
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_echo_round_trip)
{
	server_start(NULL);
	ck_assert_int_eq(run_child(child_echo, NULL), 0);
	ck_assert_uint_eq(stats().calls, 3);
}
END_TEST

/* Calls the dispatcher or the server answers with an error. */
static const struct {
	const char *method;
	const char *params;
	const char *error;
	const char *key, *value;  /* an expected error parameter */
} error_cases[] = {
	{ IFACE ".Nope", NULL, "org.varlink.service.MethodNotFound", "method", IFACE ".Nope" },
	{ "org.example.other.Echo", NULL, "org.varlink.service.InterfaceNotFound", "interface", "org.example.other" },
	{ "org.varlink.service.Nope", NULL, "org.varlink.service.MethodNotFound", "method", "org.varlink.service.Nope" },
	{ IFACE ".Unimplemented", NULL, "org.varlink.service.MethodNotImplemented", "method", IFACE ".Unimplemented" },
	{ IFACE ".Typed", "{\"name\":\"a\",\"count\":\"7\"}", "org.varlink.service.InvalidParameter", "parameter", "count" },
	{ IFACE ".Typed", "{\"name\":1}", "org.varlink.service.InvalidParameter", "parameter", "name" },
	{ IFACE ".Typed", "{\"count\":1}", "org.varlink.service.InvalidParameter", "parameter", "name" },
	{ IFACE ".Typed", "{\"name\":\"a\",\"extra\":1}", "org.varlink.service.InvalidParameter", "parameter", "extra" },
	{ IFACE ".Fail", NULL, IFACE ".Failed", "reason", "Input/output error" },
	{ IFACE ".Count", NULL, "org.varlink.service.ExpectedMore", NULL, NULL },
};

static int child_errors(void *arg)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = child_connect();
	struct varlink_client_reply r = { 0 };

	CHILD_ASSERT(c);
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		if (child_call(c, error_cases[i].method, error_cases[i].params, &r) != 1 ||
		    !streq(r.error, error_cases[i].error) ||
		    (error_cases[i].key && !streq(param_str(&r, error_cases[i].key), error_cases[i].value))) {
			fprintf(stderr, "child: case %zu (%s): got %s %s\n", i, error_cases[i].method,
				r.error ? r.error : "no error", json_object_to_json_string(r.parameters));
			return 1;
		}
		varlink_client_reply_done(&r);
	}
	/* and the right types pass */
	CHILD_ASSERT(child_call(c, IFACE ".Typed", "{\"name\":\"n\",\"count\":-5,\"flag\":true}", &r) == 0);
	CHILD_ASSERT(streq(param_str(&r, "name"), "n"));
	CHILD_ASSERT(streq(param_str(&r, "count"), "-5"));
	CHILD_ASSERT(streq(param_str(&r, "flag"), "true"));
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_error_replies)
{
	server_start(NULL);
	ck_assert_int_eq(run_child(child_errors, NULL), 0);
	ck_assert_uint_eq(stats().protocol_errors, 0);
}
END_TEST

static int child_stream(void *arg)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = child_connect();
	struct varlink_client_reply r = { 0 };
	struct mt_error err = { 0 };
	char want[8];

	CHILD_ASSERT(c);
	CHILD_ASSERT(child_call(c, IFACE ".Count", NULL, &r) == 1);
	CHILD_ASSERT(streq(r.error, "org.varlink.service.ExpectedMore"));
	varlink_client_reply_done(&r);

	CHILD_ASSERT(varlink_client_send(c, IFACE ".Count", NULL, VARLINK_CALL_MORE, &err) == 0);
	for (int i = 0; i < 3; i++) {
		CHILD_ASSERT(varlink_client_recv(c, 5 * SECOND, &r, &err) == 0);
		snprintf(want, sizeof(want), "%d", i);
		CHILD_ASSERT(r.continues && !r.error);
		CHILD_ASSERT(streq(param_str(&r, "i"), want));
		varlink_client_reply_done(&r);
	}
	CHILD_ASSERT(varlink_client_recv(c, 5 * SECOND, &r, &err) == 0);
	CHILD_ASSERT(!r.continues && streq(param_str(&r, "done"), "true"));
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_streaming)
{
	server_start(NULL);
	ck_assert_int_eq(run_child(child_stream, NULL), 0);
}
END_TEST

START_TEST(test_oneway_no_reply)
{
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	/* Both in one write: the first reply must be the Echo's. Replying to
	 * a oneway call of a method that does not know it is dropped too. */
	raw_send_str(c, "{\"method\":\"" IFACE ".Note\",\"oneway\":true}");
	raw_send_str(c, "{\"method\":\"" IFACE ".Nope\",\"oneway\":true}");
	raw_send_str(c, ECHO("after"));
	assert_echo_reply(c, "after");
	ck_assert_uint_eq(seen.notes, 1);
	ck_assert(!raw_is_closed(c));
	ck_assert_uint_eq(c->len, 0);
	raw_close(c);
}
END_TEST

/* ----- server: framing --------------------------------------------------- */

START_TEST(test_pipelined_in_order)
{
	static const char calls[] = ECHO("one") "\0" ECHO("two") "\0" ECHO("three");
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	raw_send(c, calls, sizeof(calls));
	assert_echo_reply(c, "one");
	assert_echo_reply(c, "two");
	assert_echo_reply(c, "three");
	raw_close(c);
}
END_TEST

START_TEST(test_split_byte_by_byte)
{
	static const char call[] = ECHO("slowly");
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	for (size_t i = 0; i < sizeof(call); i++) {
		raw_send(c, call + i, 1);
		pump(1);
		if (i + 1 < sizeof(call))
			ck_assert_uint_eq(stats().calls, 0);
	}
	assert_echo_reply(c, "slowly");
	raw_close(c);
}
END_TEST

START_TEST(test_two_and_a_half)
{
	static const char part1[] = ECHO("a") "\0" ECHO("b") "\0{\"method\":\"" IFACE ".Ec";
	static const char part2[] = "ho\",\"parameters\":{\"text\":\"c\"}}";
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	raw_send(c, part1, sizeof(part1) - 1);
	assert_echo_reply(c, "a");
	assert_echo_reply(c, "b");
	pump(50);
	ck_assert_uint_eq(stats().calls, 2);
	ck_assert_uint_eq(c->len, 0);
	raw_send(c, part2, sizeof(part2));
	assert_echo_reply(c, "c");
	raw_close(c);
}
END_TEST

START_TEST(test_oversize_message)
{
	char big[2000];
	struct raw *c;

	server_start_limits(1024, 0, 0, 0, 0);
	c = raw_connect(fx.path);
	memset(big, 'x', sizeof(big));
	raw_send(c, big, sizeof(big));
	ck_assert(pump_until(raw_is_closed, c, 5000));
	ck_assert_uint_eq(stats().protocol_errors, 1);
	raw_close(c);
	assert_still_serving();
}
END_TEST

/* Messages that break the protocol: the peer loses its connection. */
static const struct {
	const char *msg;
	size_t len;
} malformed[] = {
#define M(s) { s, sizeof(s) }
	M("not json"),
	M("{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"text\":\"\xff\"}}"),
	M("{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"text\":\"\xed\xa0\x80\"}}"),
	M("[\"" IFACE ".Echo\"]"),
	M("42"),
	M("{\"parameters\":{}}"),
	M("{\"method\":\"Echo\"}"),
	M("{\"method\":\"" IFACE ".Echo\",\"more\":true,\"oneway\":true}"),
	M("{\"method\":\"" IFACE ".Echo\"} trailing"),
	M(""),
#undef M
};

START_TEST(test_malformed_closes)
{
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	/* a call first, so the peer is known to be served before the fault */
	raw_send_str(c, ECHO("ok"));
	assert_echo_reply(c, "ok");
	raw_send(c, malformed[_i].msg, malformed[_i].len);
	ck_assert_msg(pump_until(raw_is_closed, c, 5000), "case %d not closed", _i);
	ck_assert_uint_eq(c->len, 0);  /* and told nothing */
	ck_assert_uint_eq(stats().protocol_errors, 1);
	raw_close(c);
	assert_still_serving();
}
END_TEST

START_TEST(test_half_close_with_output_queued)
{
	enum { TEXT = 600 * 1024 };
	_cleanup_free_ char *text = malloc(TEXT + 1), *call = malloc(TEXT + 128);
	_cleanup_json_ struct json_object *o = NULL;
	struct raw *c;

	server_start(NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(call);
	memset(text, 't', TEXT);
	text[TEXT] = '\0';
	snprintf(call, TEXT + 128, ECHO("%s"), text);
	c = raw_connect(fx.path);
	raw_send_str(c, call);
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	/* The reply is larger than the socket takes: the server sees the
	 * end of input with output still queued, and must send it all. */
	pump(100);
	o = raw_recv(c);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(reply_str(o, "text"), text);
	ck_assert(pump_until(raw_is_closed, c, 5000));
	raw_close(c);
}
END_TEST

START_TEST(test_half_close_gets_reply)
{
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	raw_send_str(c, ECHO("bye"));
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	assert_echo_reply(c, "bye");
	ck_assert(pump_until(raw_is_closed, c, 5000));
	ck_assert(pump_until(no_connections, NULL, 5000));
	raw_close(c);
}
END_TEST

/* ----- server: credentials ----------------------------------------------- */

static const struct {
	const char *what;
	bool drop;                 /* become nobody */
	gid_t gid;                 /* primary group after dropping */
	gid_t groups[2];
	size_t n_groups;
	bool allowed;
} privilege_cases[] = {
	{ "root", false, 0, { 0 }, 0, true },
	{ "nobody", true, NOBODY, { 0 }, 0, false },
	{ "nobody, other groups", true, NOBODY, { 100, 4243 }, 2, false },
	/* only SO_PEERGROUPS can see this one */
	{ "nobody, supplementary group", true, NOBODY, { 100, PRIVILEGED_GID }, 2, true },
	{ "nobody, primary group", true, PRIVILEGED_GID, { 0 }, 0, true },
};

static int drop_privileges(gid_t gid, const gid_t *groups, size_t n)
{
	if (setgroups(n, groups) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0) {
		fprintf(stderr, "child: cannot drop privileges: %m\n");
		return -1;
	}
	return 0;
}

static int child_privileged(void *arg)
{
	int i = *(int *)arg;
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct varlink_client_reply r = { 0 };
	int ret;

	if (privilege_cases[i].drop)
		CHILD_ASSERT(drop_privileges(privilege_cases[i].gid, privilege_cases[i].groups,
					     privilege_cases[i].n_groups) == 0);
	c = child_connect();
	CHILD_ASSERT(c);
	/* open methods are open to everyone */
	CHILD_ASSERT(child_call(c, IFACE ".Echo", "{\"text\":\"x\"}", &r) == 0);
	varlink_client_reply_done(&r);
	ret = child_call(c, IFACE ".Secret", NULL, &r);
	if (privilege_cases[i].allowed) {
		CHILD_ASSERT(ret == 0);
		CHILD_ASSERT(streq(param_str(&r, "secret"), "42"));
	} else {
		CHILD_ASSERT(ret == 1);
		CHILD_ASSERT(streq(r.error, "org.varlink.service.PermissionDenied"));
	}
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_privileged_method)
{
	int i = _i;

	if (geteuid() != 0) {
		fprintf(stderr, "test_privileged_method: not root, cannot switch credentials, skipped\n");
		return;
	}
	server_start(NULL);
	ck_assert_msg(run_child(child_privileged, &i) == 0, "case \"%s\"", privilege_cases[i].what);
}
END_TEST

/* A message above max_message but within max_message_privileged: served
 * for privileged peers (the hook's large domain XML), and a protocol
 * error that closes the connection for the others. */
static int child_large_message(void *arg)
{
	int i = *(int *)arg;
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct varlink_client_reply r = { 0 };
	char params[2100];
	int ret;

	if (privilege_cases[i].drop)
		CHILD_ASSERT(drop_privileges(privilege_cases[i].gid, privilege_cases[i].groups,
					     privilege_cases[i].n_groups) == 0);
	snprintf(params, sizeof(params), "{\"text\":\"%02000d\"}", 7);
	c = child_connect();
	CHILD_ASSERT(c);
	ret = child_call(c, IFACE ".Echo", params, &r);
	if (privilege_cases[i].allowed) {
		CHILD_ASSERT(ret == 0);
		CHILD_ASSERT(strlen(param_str(&r, "text")) == 2000);
	} else {
		CHILD_ASSERT(ret < 0);
	}
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_privileged_message_limit)
{
	struct varlink_server_limits l;
	int i = _i;

	if (geteuid() != 0) {
		fprintf(stderr, "test_privileged_message_limit: not root, skipped\n");
		return;
	}
	varlink_server_limits_default(&l);
	l.max_message = 1024;
	l.max_message_privileged = 4096;
	server_start(&l);
	ck_assert_msg(run_child(child_large_message, &i) == 0, "case \"%s\"",
		      privilege_cases[i].what);
	ck_assert_uint_eq(stats().protocol_errors, privilege_cases[i].allowed ? 0 : 1);
	assert_still_serving();
}
END_TEST

/* ----- server: requests that outlive their call or peer ------------------ */

static bool later_pending(void *arg)
{
	return seen.later != NULL;
}

static bool late_replied(void *arg)
{
	return seen.late_replied;
}

START_TEST(test_async_reply_then_pipelined)
{
	struct raw *c;
	_cleanup_json_ struct json_object *o = NULL;

	server_start(NULL);
	c = raw_connect(fx.path);
	/* The Echo waits in the buffer until Later is answered, and is
	 * served then without any new input arriving. */
	raw_send_str(c, "{\"method\":\"" IFACE ".Later\",\"parameters\":{\"delay_ms\":200}}");
	raw_send_str(c, ECHO("behind"));
	ck_assert(pump_until(later_pending, NULL, 5000));
	pump(30);
	ck_assert_uint_eq(stats().calls, 1);
	o = raw_recv(c);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "{\"parameters\":{\"late\":true}}");
	ck_assert_int_eq(seen.late_reply, 0);
	assert_echo_reply(c, "behind");
	ck_assert_uint_eq(seen.disconnects, 0);
	raw_close(c);
}
END_TEST

START_TEST(test_not_read_during_call)
{
	_cleanup_json_ struct json_object *o = NULL;
	uint64_t before, after;
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	raw_send_str(c, "{\"method\":\"" IFACE ".Later\",\"parameters\":{\"delay_ms\":200}}");
	ck_assert(pump_until(later_pending, NULL, 5000));
	/* This one stays in the socket while Later is in flight, and the
	 * loop sleeps (about one iteration per 10 ms pump step) instead of
	 * spinning on the readable connection. */
	raw_send_str(c, ECHO("waited"));
	ck_assert_int_eq(sd_event_get_iteration(fx.event, &before), 0);
	pump(50);
	ck_assert_int_eq(sd_event_get_iteration(fx.event, &after), 0);
	ck_assert_uint_lt(after - before, 30);
	ck_assert_uint_eq(stats().calls, 1);
	o = raw_recv(c);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(reply_str(o, "late"), "true");
	assert_echo_reply(c, "waited");
	raw_close(c);
}
END_TEST

START_TEST(test_disconnect_during_async_call)
{
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	raw_send_str(c, "{\"method\":\"" IFACE ".Later\",\"parameters\":{\"delay_ms\":300}}");
	ck_assert(pump_until(later_pending, NULL, 5000));
	ck_assert(varlink_request_is_connected(seen.later));
	ck_assert_uint_eq(varlink_request_peer(seen.later)->uid, geteuid());
	ck_assert_int_eq(varlink_request_peer(seen.later)->pid, getpid());
	raw_close(c);
	ck_assert(pump_until(no_connections, NULL, 5000));
	ck_assert_uint_eq(seen.disconnects, 1);
	ck_assert(pump_until(late_replied, NULL, 5000));
	ck_assert_int_eq(seen.late_reply, -ENOTCONN);
	ck_assert_uint_eq(seen.disconnects, 1);
	assert_still_serving();
}
END_TEST

START_TEST(test_server_freed_during_async_call)
{
	struct raw *c;

	server_start(NULL);
	c = raw_connect(fx.path);
	raw_send_str(c, "{\"method\":\"" IFACE ".Later\",\"parameters\":{\"delay_ms\":100}}");
	ck_assert(pump_until(later_pending, NULL, 5000));
	varlink_server_free(fx.server);
	fx.server = NULL;
	ck_assert_uint_eq(seen.disconnects, 1);
	ck_assert(raw_is_closed(c));
	/* the request outlives its server; replying is refused, not a crash */
	ck_assert(pump_until(late_replied, NULL, 5000));
	ck_assert_int_eq(seen.late_reply, -ENOTCONN);
	raw_close(c);
}
END_TEST

/* ----- server: limits ---------------------------------------------------- */

START_TEST(test_max_connections)
{
	struct raw *a, *b, *extra;

	server_start_limits(0, 2, 0, 0, 0);
	a = raw_connect(fx.path);
	b = raw_connect(fx.path);
	raw_send_str(a, ECHO("a"));
	raw_send_str(b, ECHO("b"));
	assert_echo_reply(a, "a");
	assert_echo_reply(b, "b");
	extra = raw_connect(fx.path);
	ck_assert(pump_until(raw_is_closed, extra, 5000));
	ck_assert_uint_eq(stats().refused, 1);
	ck_assert_uint_eq(varlink_server_n_connections(fx.server), 2);
	raw_send_str(a, ECHO("a again"));
	assert_echo_reply(a, "a again");
	/* a slot that frees up is taken again */
	raw_close(b);
	raw_close(extra);
	ck_assert(pump_until(one_connection, NULL, 5000));
	extra = raw_connect(fx.path);
	raw_send_str(extra, ECHO("now"));
	assert_echo_reply(extra, "now");
	raw_close(extra);
	raw_close(a);
}
END_TEST

static int child_per_uid(void *arg)
{
	_cleanup_(varlink_client_freep) struct varlink_client *first = NULL, *second = NULL;
	struct varlink_client_reply r = { 0 };
	struct mt_error err = { 0 };

	CHILD_ASSERT(drop_privileges(NOBODY, NULL, 0) == 0);
	first = child_connect();
	CHILD_ASSERT(first);
	CHILD_ASSERT(child_call(first, IFACE ".Echo", "{\"text\":\"1\"}", &r) == 0);
	varlink_client_reply_done(&r);
	second = child_connect();  /* accepted by the kernel, closed by the server */
	CHILD_ASSERT(second);
	CHILD_ASSERT(varlink_client_recv(second, 5 * SECOND, &r, &err) == -ECONNRESET);
	CHILD_ASSERT(child_call(first, IFACE ".Echo", "{\"text\":\"2\"}", &r) == 0);
	varlink_client_reply_done(&r);
	return 0;
}

START_TEST(test_max_per_uid)
{
	struct raw *root[3];

	if (geteuid() != 0) {
		fprintf(stderr, "test_max_per_uid: not root, cannot switch credentials, skipped\n");
		return;
	}
	server_start_limits(0, 0, 1, 0, 0);
	ck_assert_int_eq(run_child(child_per_uid, NULL), 0);
	ck_assert_uint_eq(stats().refused, 1);
	/* uid 0 is not limited per uid */
	for (size_t i = 0; i < ELEMENTSOF(root); i++) {
		root[i] = raw_connect(fx.path);
		raw_send_str(root[i], ECHO("root"));
	}
	for (size_t i = 0; i < ELEMENTSOF(root); i++) {
		assert_echo_reply(root[i], "root");
		raw_close(root[i]);
	}
}
END_TEST

static bool overflowed(void *arg)
{
	return stats().output_overflows > 0;
}

START_TEST(test_output_overflow_drops_peer)
{
	struct raw *c;

	server_start_limits(0, 0, 0, 256 * 1024, 0);
	c = raw_connect(fx.path);
	/* never read: the socket buffer fills, then the queue */
	raw_send_str(c, "{\"method\":\"" IFACE ".Flood\",\"parameters\":{\"size\":65536},\"more\":true}");
	ck_assert(pump_until(overflowed, NULL, 5000));
	ck_assert(pump_until(no_connections, NULL, 5000));
	ck_assert_uint_eq(stats().output_overflows, 1);
	ck_assert_int_eq(seen.flood_result, -ENOTCONN);
	raw_close(c);
	assert_still_serving();
}
END_TEST

START_TEST(test_pipelining_non_reader_held_back)
{
	static const char call[] = "{\"method\":\"" IFACE ".Big\",\"parameters\":{\"size\":8192}}";
	enum { CALLS = 100 };
	char calls[CALLS * sizeof(call)];
	struct raw *c;

	/* 5 KiB of calls, read at once, ask for 800 KiB of replies, three
	 * times max_output: the server stops taking calls while replies
	 * wait, and goes on with the ones it holds as the peer reads. */
	server_start_limits(0, 0, 0, 256 * 1024, 0);
	for (size_t i = 0; i < CALLS; i++)
		memcpy(calls + i * sizeof(call), call, sizeof(call));
	c = raw_connect(fx.path);
	raw_send(c, calls, sizeof(calls));
	pump(200);
	ck_assert_uint_lt(stats().calls, CALLS);
	ck_assert_uint_eq(stats().output_overflows, 0);
	for (size_t i = 0; i < CALLS; i++) {
		_cleanup_json_ struct json_object *o = raw_recv(c);

		ck_assert_msg(o != NULL, "connection lost at reply %zu", i);
		ck_assert_uint_eq(strlen(reply_str(o, "data")), 8192);
	}
	ck_assert_uint_eq(stats().calls, CALLS);
	ck_assert_uint_eq(stats().output_overflows, 0);
	raw_close(c);
}
END_TEST

START_TEST(test_idle_timeout)
{
	struct raw *idle, *busy;
	_cleanup_json_ struct json_object *o = NULL;
	uint64_t start = now_usec();

	server_start_limits(0, 0, 0, 0, 100 * 1000);
	idle = raw_connect(fx.path);
	busy = raw_connect(fx.path);
	/* a call in flight longer than the idle timeout keeps its peer */
	raw_send_str(busy, "{\"method\":\"" IFACE ".Later\",\"parameters\":{\"delay_ms\":400}}");
	ck_assert(pump_until(raw_is_closed, idle, 5000));
	ck_assert_uint_ge(now_usec() - start, 100 * 1000);
	ck_assert_uint_eq(stats().idle_timeouts, 1);
	o = raw_recv(busy);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(reply_str(o, "late"), "true");
	/* and idles out after its call */
	ck_assert(pump_until(no_connections, NULL, 5000));
	ck_assert_uint_eq(stats().idle_timeouts, 2);
	raw_close(idle);
	raw_close(busy);
}
END_TEST

/* A listening socket of our own that never accepts: connections wait in
 * its backlog, unanswered. */
static int listen_silently(const char *file, int backlog)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(un.sun_path, file);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	return fd;
}

/* ----- server: setting up -------------------------------------------------- */

static const struct varlink_method other_methods[] = {
	{ "org.example.other.Echo", method_echo, echo_table, sizeof(struct echo_params), 0 },
	{}
};

static const struct {
	const struct varlink_method *methods;
	const char *idl;
	const char *failed;
	const char *message;
} bad_servers[] = {
	{ test_methods, "# no interface\nmethod X() -> ()\n", IFACE ".Failed", "does not start with \"interface NAME\"" },
	{ test_methods, "interface 9bad\n", IFACE ".Failed", "no valid interface" },
	{ other_methods, test_idl, IFACE ".Failed", "\"org.example.other.Echo\" is not a method of interface " IFACE },
	{ test_methods, test_idl, "Failed", "\"Failed\" is not a valid varlink error name" },
	{ test_methods, test_idl, NULL, "not a valid varlink error name" },
};

START_TEST(test_server_new_refuses)
{
	struct varlink_server *s = NULL;
	struct mt_error err = { 0 };
	sd_event *e = NULL;

	ck_assert_int_eq(sd_event_new(&e), 0);
	ck_assert_int_eq(varlink_server_new(e, bad_servers[_i].methods, bad_servers[_i].idl, NULL, NULL,
					    (gid_t)-1, bad_servers[_i].failed, NULL, &s, &err), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.message, bad_servers[_i].message), "got \"%s\"", err.message);
	sd_event_unref(e);
}
END_TEST

START_TEST(test_listen_path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct mt_error err = { 0 };
	char file[160];
	struct stat st;
	int fd;

	server_start(NULL);
	ck_assert_int_eq(stat(fx.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0666);

	/* a stale socket (nothing listens) is replaced */
	snprintf(file, sizeof(file), "%s/stale", fx.dir);
	strcpy(un.sun_path, file);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	close(fd);
	ck_assert_int_eq(varlink_server_listen_path(fx.server, file, 0600, &err), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	{
		struct raw *c = raw_connect(file);

		raw_send_str(c, ECHO("second socket"));
		assert_echo_reply(c, "second socket");
		raw_close(c);
	}
	unlink(file);

	/* anything else is not ours to remove */
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(varlink_server_listen_path(fx.server, file, 0666, &err), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err.message, "is not a socket"));
	ck_assert_int_eq(access(file, F_OK), 0);
	unlink(file);

	memset(file, 'x', sizeof(file) - 1);
	file[sizeof(file) - 1] = '\0';
	ck_assert_int_eq(varlink_server_listen_path(fx.server, file, 0666, NULL), -EINVAL);
}
END_TEST

/* Pretend systemd passed fd as SD_LISTEN_FDS_START to this process. */
static void pass_as_activated(int fd)
{
	char pid[32];

	if (fd != SD_LISTEN_FDS_START) {
		dup2(fd, SD_LISTEN_FDS_START);
		close(fd);
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
}

/* In a child of its own, whose fd 3 (Check's in the test process) is free
 * to take, with a server and loop of its own. */
static int child_activation(void *arg)
{
	const char *file = arg;
	struct mt_error err = { 0 };
	struct raw *c;

	CHILD_ASSERT(sd_event_new(&fx.event) == 0);
	CHILD_ASSERT(varlink_server_new(fx.event, test_methods, test_idl, NULL, NULL, (gid_t)-1,
					IFACE ".Failed", &fx, &fx.server, &err) == 0);
	/* a passed fd that is no listening AF_UNIX stream socket is refused */
	pass_as_activated(open("/dev/null", O_RDONLY | O_CLOEXEC));
	CHILD_ASSERT(varlink_server_listen_systemd(fx.server, &err) == -EINVAL);
	CHILD_ASSERT(strstr(err.message, "fd 3 passed by systemd is not a listening AF_UNIX stream socket"));

	pass_as_activated(listen_silently(file, 8));
	CHILD_ASSERT(varlink_server_listen_systemd(fx.server, &err) == 1);
	CHILD_ASSERT(!getenv("LISTEN_FDS"));
	c = raw_connect(file);
	raw_send_str(c, ECHO("activated"));
	assert_echo_reply(c, "activated");
	raw_close(c);
	return 0;
}

START_TEST(test_listen_systemd)
{
	struct mt_error err = { 0 };
	char file[160];

	server_start(NULL);
	unsetenv("LISTEN_FDS");
	ck_assert_int_eq(varlink_server_listen_systemd(fx.server, &err), 0);
	snprintf(file, sizeof(file), "%s/activated", fx.dir);
	ck_assert_int_eq(run_child(child_activation, file), 0);
	unlink(file);
}
END_TEST

/* ----- client ------------------------------------------------------------- */

START_TEST(test_client_connect_nothing_there)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct varlink_client *c = NULL;
	struct mt_error err = { 0 };
	char file[160];
	int fd;

	server_start(NULL);
	snprintf(file, sizeof(file), "%s/missing", fx.dir);
	ck_assert_int_eq(varlink_client_connect(file, SECOND, &c, &err), -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.message, file));

	/* a socket file nobody listens on */
	snprintf(file, sizeof(file), "%s/stale", fx.dir);
	strcpy(un.sun_path, file);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	close(fd);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(varlink_client_connect(file, SECOND, &c, &err), -ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(err.message, file));
	unlink(file);
}
END_TEST


START_TEST(test_client_connect_timeout)
{
	struct varlink_client *c[8] = { 0 };
	struct mt_error err = { 0 };
	char file[160];
	uint64_t start;
	int fd, r = 0;
	size_t i;

	server_start(NULL);
	snprintf(file, sizeof(file), "%s/full", fx.dir);
	fd = listen_silently(file, 0);
	/* fill the backlog, then one more connect must give up in time */
	for (i = 0; i < ELEMENTSOF(c); i++) {
		start = now_usec();
		r = varlink_client_connect(file, 100 * 1000, &c[i], &err);
		if (r < 0)
			break;
	}
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_uint_ge(now_usec() - start, 90 * 1000);
	ck_assert_uint_lt(now_usec() - start, 2 * SECOND);
	ck_assert_ptr_nonnull(strstr(err.message, "timed out connecting"));
	for (i = 0; i < ELEMENTSOF(c); i++)
		varlink_client_free(c[i]);
	close(fd);
	unlink(file);
}
END_TEST

START_TEST(test_client_recv_timeout)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct varlink_client_reply r = { 0 };
	struct mt_error err = { 0 };
	char file[160];
	uint64_t start;
	int fd;

	server_start(NULL);
	snprintf(file, sizeof(file), "%s/silent", fx.dir);
	fd = listen_silently(file, 8);
	ck_assert_int_eq(varlink_client_connect(file, SECOND, &c, &err), 0);
	start = now_usec();
	ck_assert_int_eq(varlink_client_call(c, IFACE ".Echo", NULL, 100 * 1000, &r, &err), -ETIMEDOUT);
	ck_assert_uint_ge(now_usec() - start, 100 * 1000);
	ck_assert_uint_lt(now_usec() - start, 2 * SECOND);
	ck_assert_ptr_nonnull(strstr(err.message, "no reply"));
	ck_assert_ptr_null(r.parameters);
	close(fd);
	unlink(file);
}
END_TEST

/* Bytes a broken server answers with, and what the client says. */
static const struct {
	const char *reply;
	size_t len;
	int ret;
	const char *message;
} bad_replies[] = {
#define R(s, ret, message) { s, sizeof(s), ret, message }
	R("[1]", -EBADMSG, "not a JSON object"),
	R("{\"error\":\"nope\"}", -EBADMSG, "not of the form interface.Error"),
	R("{\"error\":\"a.b.C\",\"continues\":true}", -EBADMSG, "error that continues"),
	R("{\"parameters\":[]}", -EBADMSG, "\"parameters\" is not an object"),
	R("{\"parameters\":{}", -EBADMSG, "truncated JSON"),
	R("{\"parameters\":{}}x", -EBADMSG, "not valid JSON"),
	R("{\"parameters\":{},\"continues\":true}", -EBADMSG, "without \"more\""),
	R("{\"parameters\":{\"s\":\"\xc3\"}}", -EBADMSG, "not valid UTF-8"),
#undef R
	/* the server hangs up without a complete reply */
	{ "{\"parameters\":{}", 16, -ECONNRESET, "closed the connection" },
	{ "", 0, -ECONNRESET, "closed the connection" },
};

START_TEST(test_client_bad_replies)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct varlink_client_reply r = { 0 };
	struct mt_error err = { 0 };
	char file[160];
	int fd, peer;

	server_start(NULL);
	snprintf(file, sizeof(file), "%s/broken", fx.dir);
	fd = listen_silently(file, 8);
	ck_assert_int_eq(varlink_client_connect(file, SECOND, &c, &err), 0);
	peer = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(peer, 0);
	if (bad_replies[_i].len > 0)
		ck_assert_int_eq(send(peer, bad_replies[_i].reply, bad_replies[_i].len, 0), (ssize_t)bad_replies[_i].len);
	shutdown(peer, SHUT_WR);
	ck_assert_int_eq(varlink_client_call(c, IFACE ".Echo", NULL, SECOND, &r, &err), bad_replies[_i].ret);
	ck_assert_msg(strstr(err.message, bad_replies[_i].message), "got \"%s\"", err.message);
	ck_assert_ptr_null(r.parameters);
	close(peer);
	close(fd);
	unlink(file);
}
END_TEST

/* A server that answers the first peer with 17 MiB and no NUL, until the
 * peer gives up and hangs up. */
static int serve_too_much(int listen_fd)
{
	static char chunk[64 * 1024];
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return 2;
	memset(chunk, 'z', sizeof(chunk));
	for (int i = 0; i < 17 * 16; i++)
		if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
			return errno == EPIPE || errno == ECONNRESET ? 0 : 1;
	return 0;
}

START_TEST(test_client_reply_too_big)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct varlink_client_reply r = { 0 };
	struct mt_error err = { 0 };
	char file[160];
	int fd, status;
	pid_t pid;

	server_start(NULL);
	snprintf(file, sizeof(file), "%s/huge", fx.dir);
	fd = listen_silently(file, 8);
	/* fork first: the child must not hold the client's end open */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(serve_too_much(fd));
	ck_assert_int_eq(varlink_client_connect(file, SECOND, &c, &err), 0);
	ck_assert_int_eq(varlink_client_recv(c, 10 * SECOND, &r, &err), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err.message, "longer than"));
	varlink_client_free(TAKE_PTR(c));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	unlink(file);
}
END_TEST

START_TEST(test_client_refuses_bad_calls)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	_cleanup_json_ struct json_object *array = json_object_new_array();
	struct mt_error err = { 0 };

	server_start(NULL);
	ck_assert_int_eq(varlink_client_connect(fx.path, SECOND, &c, &err), 0);
	ck_assert_int_eq(varlink_client_send(c, "Echo", NULL, 0, &err), -EINVAL);
	ck_assert_int_eq(varlink_client_send(c, IFACE ".Echo", array, 0, NULL), -EINVAL);
	ck_assert_int_eq(varlink_client_send(c, IFACE ".Echo", NULL, VARLINK_CALL_MORE | VARLINK_CALL_ONEWAY, NULL),
			 -EINVAL);
	/* nothing reached the server */
	pump(50);
	ck_assert_uint_eq(stats().calls, 0);
	ck_assert_uint_eq(stats().protocol_errors, 0);
}
END_TEST

START_TEST(test_client_default_path)
{
	setenv("MEMTYPE_SOCKET", "/tmp/elsewhere", 1);
	ck_assert_str_eq(varlink_client_default_path(), "/tmp/elsewhere");
	setenv("MEMTYPE_SOCKET", "", 1);
	ck_assert_str_eq(varlink_client_default_path(), MEMTYPE_SOCKET_DEFAULT);
	unsetenv("MEMTYPE_SOCKET");
	ck_assert_str_eq(varlink_client_default_path(), "/run/memtype/io.memtype.Manager");
}
END_TEST

static Suite *varlink_server_suite(void)
{
	Suite *s = suite_create("varlink-server");
	TCase *tc;

	tc = tcase_create("calls");
	tcase_add_checked_fixture(tc, NULL, server_stop);
	tcase_add_test(tc, test_service_interface);
	tcase_add_test(tc, test_echo_round_trip);
	tcase_add_test(tc, test_error_replies);
	tcase_add_test(tc, test_streaming);
	tcase_add_test(tc, test_oneway_no_reply);
	tcase_add_loop_test(tc, test_privileged_method, 0, ELEMENTSOF(privilege_cases));
	tcase_add_loop_test(tc, test_privileged_message_limit, 0, ELEMENTSOF(privilege_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, NULL, server_stop);
	tcase_add_test(tc, test_pipelined_in_order);
	tcase_add_test(tc, test_split_byte_by_byte);
	tcase_add_test(tc, test_two_and_a_half);
	tcase_add_test(tc, test_oversize_message);
	tcase_add_loop_test(tc, test_malformed_closes, 0, ELEMENTSOF(malformed));
	tcase_add_test(tc, test_half_close_gets_reply);
	tcase_add_test(tc, test_half_close_with_output_queued);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_checked_fixture(tc, NULL, server_stop);
	tcase_add_test(tc, test_async_reply_then_pipelined);
	tcase_add_test(tc, test_not_read_during_call);
	tcase_add_test(tc, test_disconnect_during_async_call);
	tcase_add_test(tc, test_server_freed_during_async_call);
	tcase_add_test(tc, test_max_connections);
	tcase_add_test(tc, test_max_per_uid);
	tcase_add_test(tc, test_output_overflow_drops_peer);
	tcase_add_test(tc, test_pipelining_non_reader_held_back);
	tcase_add_test(tc, test_idle_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("setup");
	tcase_add_checked_fixture(tc, NULL, server_stop);
	tcase_add_loop_test(tc, test_server_new_refuses, 0, ELEMENTSOF(bad_servers));
	tcase_add_test(tc, test_listen_path);
	tcase_add_test(tc, test_listen_systemd);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_checked_fixture(tc, NULL, server_stop);
	tcase_add_test(tc, test_client_connect_nothing_there);
	tcase_add_test(tc, test_client_connect_timeout);
	tcase_add_test(tc, test_client_recv_timeout);
	tcase_add_loop_test(tc, test_client_bad_replies, 0, ELEMENTSOF(bad_replies));
	tcase_add_test(tc, test_client_reply_too_big);
	tcase_add_test(tc, test_client_refuses_bad_calls);
	tcase_add_test(tc, test_client_default_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(varlink_server_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

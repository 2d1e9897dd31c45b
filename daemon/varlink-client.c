/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The blocking varlink client of varlink-client.h: one AF_UNIX connection,
 * calls written whole, replies cut by the codec's framer (so the receive
 * buffer is reused across calls and bounded), every wait under a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>

#include "common/json-util.h"
#include "daemon/varlink-client.h"
#include "daemon/varlink.h"

#define CLIENT_REPLY_MAX (16 * 1024 * 1024)
#define NO_DEADLINE UINT64_MAX

struct varlink_client {
	int fd;
	char *path;
	uint64_t send_timeout_usec;  /* for varlink_client_send(): the connect timeout */
	struct varlink_framer framer;
};

const char *varlink_client_default_path(void)
{
	const char *e = secure_getenv("MEMTYPE_SOCKET");

	return e && *e ? e : MEMTYPE_SOCKET_DEFAULT;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t deadline_after(uint64_t timeout_usec)
{
	return timeout_usec ? now_usec() + timeout_usec : NO_DEADLINE;
}

/* Wait until fd is ready for events or the deadline passes (-ETIMEDOUT). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now, ms;
	int r;

	for (;;) {
		int timeout = -1;

		if (deadline != NO_DEADLINE) {
			now = now_usec();
			if (now >= deadline)
				return -ETIMEDOUT;
			ms = (deadline - now + 999) / 1000;
			timeout = ms > INT_MAX ? INT_MAX : (int)ms;
		}
		r = poll(&p, 1, timeout);
		if (r > 0)
			return 0;  /* ready, or an error the next call reports */
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* A non-blocking connect() on AF_UNIX fails with EAGAIN when the listen
 * backlog is full and offers nothing to poll for; a blocking connect()
 * waits for room for at most SO_SNDTIMEO, so the deadline goes there. */
static int connect_with_timeout(int fd, const struct sockaddr_un *un, socklen_t len, uint64_t timeout_usec)
{
	uint64_t deadline = deadline_after(timeout_usec), now;
	struct timeval tv = { 0 };

	for (;;) {
		if (deadline != NO_DEADLINE) {
			now = now_usec();
			if (now >= deadline)
				return -ETIMEDOUT;
			tv.tv_sec = (time_t)((deadline - now) / 1000000);
			tv.tv_usec = (suseconds_t)((deadline - now) % 1000000);
		}
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
			return -errno;
		if (connect(fd, (const struct sockaddr *)un, len) >= 0)
			return 0;
		if (errno == EAGAIN || errno == EINPROGRESS)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int client_connect_fd(const char *path, uint64_t timeout_usec, int *ret_fd, struct mt_error *err)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct timeval none = { 0 };
	size_t len = strlen(path);
	_cleanup_close_ int fd = -1;
	int r;

	if (len == 0 || len >= sizeof(un.sun_path))
		return mt_error_set(err, -EINVAL, "socket path \"%s\" is empty or longer than %zu bytes", path,
				    sizeof(un.sun_path) - 1);
	memcpy(un.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mt_error_set(err, -errno, "cannot create socket: %s", strerror(errno));
	r = connect_with_timeout(fd, &un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1),
				 timeout_usec);
	if (r == -ETIMEDOUT)
		return mt_error_set(err, r, "timed out connecting to %s", path);
	if (r < 0)
		return mt_error_set(err, r, "cannot connect to %s: %s", path, strerror(-r));
	/* From here on every wait is a poll() with its own deadline. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none)) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return mt_error_set(err, -errno, "cannot set up the socket of %s: %s", path, strerror(errno));
	*ret_fd = fd;
	fd = -1;
	return 0;
}

int varlink_client_connect(const char *path, uint64_t timeout_usec, struct varlink_client **ret,
			   struct mt_error *err)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->send_timeout_usec = timeout_usec;
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	r = varlink_framer_init(&c->framer, CLIENT_REPLY_MAX);
	if (r < 0)
		return r;
	r = client_connect_fd(path, timeout_usec, &c->fd, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

void varlink_client_free(struct varlink_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	varlink_framer_done(&c->framer);
	free(c->path);
	free(c);
}

static int client_send_bytes(struct varlink_client *c, const char *data, size_t len, uint64_t deadline,
			     struct mt_error *err)
{
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return mt_error_set(err, -ECONNRESET, "%s closed the connection", c->path);
		if (errno != EAGAIN)
			return mt_error_set(err, -errno, "cannot send to %s: %s", c->path, strerror(errno));
		r = wait_fd(c->fd, POLLOUT, deadline);
		if (r == -ETIMEDOUT)
			return mt_error_set(err, r, "timed out sending to %s", c->path);
		if (r < 0)
			return mt_error_set(err, r, "cannot wait for %s: %s", c->path, strerror(-r));
	}
	return 0;
}

static int call_encode(const char *method, struct json_object *parameters, unsigned flags,
		       struct json_object **ret)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	r = mt_json_add_string(o, "method", method);
	if (r >= 0 && parameters)
		r = mt_json_add(o, "parameters", json_object_get(parameters));
	if (r >= 0 && (flags & VARLINK_CALL_MORE))
		r = mt_json_add_bool(o, "more", true);
	if (r >= 0 && (flags & VARLINK_CALL_ONEWAY))
		r = mt_json_add_bool(o, "oneway", true);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

static int client_send_call(struct varlink_client *c, const char *method, struct json_object *parameters,
			    unsigned flags, uint64_t deadline, struct mt_error *err)
{
	_cleanup_json_ struct json_object *o = NULL;
	const char *s;
	size_t len;
	int r;

	if (!varlink_method_name_is_valid(method))
		return mt_error_set(err, -EINVAL, "\"%s\" is not a varlink method name", method ? method : "");
	if (parameters && !json_object_is_type(parameters, json_type_object))
		return mt_error_set(err, -EINVAL, "parameters of %s are not a JSON object", method);
	if ((flags & VARLINK_CALL_MORE) && (flags & VARLINK_CALL_ONEWAY))
		return mt_error_set(err, -EINVAL, "a varlink call cannot be both \"more\" and \"oneway\"");
	r = call_encode(method, parameters, flags, &o);
	if (r < 0)
		return r;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s)
		return -ENOMEM;
	/* json-c's string ends in a NUL: the varlink message terminator. */
	return client_send_bytes(c, s, len + 1, deadline, err);
}

int varlink_client_send(struct varlink_client *c, const char *method, struct json_object *parameters,
			unsigned flags, struct mt_error *err)
{
	return client_send_call(c, method, parameters, flags, deadline_after(c->send_timeout_usec), err);
}

void varlink_client_reply_done(struct varlink_client_reply *r)
{
	json_object_put(r->parameters);
	free(r->error);
	*r = (struct varlink_client_reply){ 0 };
}

/* Read what the socket has into the framer, waiting until the deadline. */
static int client_fill(struct varlink_client *c, uint64_t deadline, struct mt_error *err)
{
	char buf[64 * 1024];
	size_t room = varlink_framer_room(&c->framer), used;
	ssize_t n;
	int r;

	if (room == 0)
		return mt_error_set(err, -EMSGSIZE, "reply from %s longer than %d bytes", c->path,
				    CLIENT_REPLY_MAX);
	for (;;) {
		n = recv(c->fd, buf, room < sizeof(buf) ? room : sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			break;
		if (n == 0 || errno == ECONNRESET)
			return mt_error_set(err, -ECONNRESET, "%s closed the connection", c->path);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mt_error_set(err, -errno, "cannot receive from %s: %s", c->path, strerror(errno));
		r = wait_fd(c->fd, POLLIN, deadline);
		if (r == -ETIMEDOUT)
			return mt_error_set(err, r, "no reply from %s in time", c->path);
		if (r < 0)
			return mt_error_set(err, r, "cannot wait for %s: %s", c->path, strerror(-r));
	}
	r = varlink_framer_feed(&c->framer, buf, (size_t)n, &used, NULL);
	if (r == -EMSGSIZE)
		return mt_error_set(err, r, "reply from %s longer than %d bytes", c->path, CLIENT_REPLY_MAX);
	return r;
}

static int client_recv_until(struct varlink_client *c, uint64_t deadline, struct varlink_client_reply *ret,
			     struct mt_error *err)
{
	struct varlink_client_reply reply = { 0 };
	struct mt_error why = { 0 };
	const char *msg;
	size_t len;
	int r;

	while (varlink_framer_pop(&c->framer, &msg, &len) == 0) {
		r = client_fill(c, deadline, err);
		if (r < 0)
			return r;
	}
	r = varlink_reply_parse(msg, len, &reply.parameters, &reply.error, &reply.continues, &why);
	if (r < 0)
		return mt_error_set(err, r, "bad reply from %s: %s", c->path, mt_error_message(&why, r));
	*ret = reply;
	return 0;
}

int varlink_client_recv(struct varlink_client *c, uint64_t timeout_usec, struct varlink_client_reply *ret,
			struct mt_error *err)
{
	return client_recv_until(c, deadline_after(timeout_usec), ret, err);
}

int varlink_client_call(struct varlink_client *c, const char *method, struct json_object *parameters,
			uint64_t timeout_usec, struct varlink_client_reply *ret, struct mt_error *err)
{
	uint64_t deadline = deadline_after(timeout_usec);
	struct varlink_client_reply reply;
	int r;

	r = client_send_call(c, method, parameters, 0, deadline, err);
	if (r < 0)
		return r;
	r = client_recv_until(c, deadline, &reply, err);
	if (r < 0)
		return r;
	if (reply.continues) {
		varlink_client_reply_done(&reply);
		return mt_error_set(err, -EBADMSG, "%s streamed a reply to %s, called without \"more\"",
				    c->path, method);
	}
	*ret = reply;
	return reply.error ? 1 : 0;
}

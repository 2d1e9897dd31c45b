/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server of varlink-server.h on sd-event: listening sockets,
 * connections with their peer credentials, input framing, one call in
 * flight per connection, bounded output queues and refcounted requests. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>

#include "common/json-util.h"
#include "daemon/varlink-server.h"

#define SERVICE_INTERFACE "org.varlink.service"
#define USEC_PER_SEC UINT64_C(1000000)
/* How long accepting pauses when the process is out of file descriptors. */
#define ACCEPT_RETRY_USEC USEC_PER_SEC
/* Read at most this much per wake-up, so busy peers take turns. */
#define READ_CHUNK (16 * 1024)
/* No new call is taken from a peer while this much of its output waits: one
 * that pipelines calls without reading the replies is held back by its own
 * socket instead of growing its queue towards max_output, which is then
 * reached only by one huge reply or a stream. */
#define OUTPUT_HIGH_WATER (64 * 1024)

/* The interface every varlink service serves, described for
 * GetInterfaceDescription("org.varlink.service"). */
static const char service_idl[] =
	"# Introspection, served by every varlink service.\n"
	"interface org.varlink.service\n"
	"\n"
	"# Who serves this socket and which interfaces it implements.\n"
	"method GetInfo() -> (\n"
	"\tvendor: string,\n"
	"\tproduct: string,\n"
	"\tversion: string,\n"
	"\turl: string,\n"
	"\tinterfaces: []string\n"
	")\n"
	"\n"
	"# The description text of one of those interfaces.\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n"
	"\n"
	"error InterfaceNotFound (interface: string)\n"
	"error MethodNotFound (method: string)\n"
	"error MethodNotImplemented (method: string)\n"
	"error InvalidParameter (parameter: string)\n"
	"error PermissionDenied ()\n"
	"error ExpectedMore ()\n";

struct listener {
	struct varlink_server *server;
	struct listener *next;
	int fd;
	sd_event_source *io;
};

/* Refcounted: the server holds one reference while the connection is open,
 * each request one more, so that a request outliving its peer still finds
 * its connection, closed (server NULL, fd -1). */
struct connection {
	unsigned n_ref;
	struct varlink_server *server;
	struct connection *prev, *next;
	int fd;
	sd_event_source *io;
	sd_event_source *idle;   /* NULL without an idle timeout */
	sd_event_source *defer;  /* runs buffered calls, closes dying connections */
	struct varlink_peer peer;
	struct varlink_framer framer;
	char *out;               /* [out_start, out_end) waits to be written */
	size_t out_start, out_end, out_alloc;
	struct varlink_request *current;  /* the call in flight, referenced */
	bool eof;                /* the peer sends nothing more */
	bool dying;              /* to be closed from the event loop */
	bool processing;         /* inside connection_process() */
};

struct varlink_request {
	unsigned n_ref;
	struct connection *conn;  /* referenced */
	void *userdata;
	struct varlink_call call;
	bool finished;
	varlink_disconnect_t on_disconnect;
	void *on_disconnect_userdata;
};

struct varlink_server {
	sd_event *event;
	const struct varlink_method *methods;
	char *idl;
	char *interface;
	char *failed_error;
	char *vendor, *product, *version, *url;
	struct varlink_server_limits limits;
	gid_t privileged_gid;
	void *userdata;
	struct listener *listeners;
	struct connection *connections;
	unsigned n_connections;
	sd_event_source *accept_retry;  /* set while accepting is paused */
	struct varlink_server_stats stats;
};

void varlink_server_limits_default(struct varlink_server_limits *ret)
{
	*ret = (struct varlink_server_limits){
		.max_message = VARLINK_MESSAGE_MAX_DEFAULT,
		.max_message_privileged = 8 * 1024 * 1024 + 64 * 1024,
		.max_connections = 256,
		.max_per_uid = 32,
		.max_output = 8 * 1024 * 1024,
		.idle_timeout_usec = 60 * USEC_PER_SEC,
	};
}

static int take_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

/* ----- requests ---------------------------------------------------------- */

static void connection_unref(struct connection *c);
static void connection_request_finished(struct connection *c);
static int connection_queue(struct connection *c, char *bytes, size_t len);

static struct varlink_request *request_new(struct connection *c, struct varlink_call *call)
{
	struct varlink_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->n_ref = 1;
	r->conn = c;
	c->n_ref++;
	r->userdata = c->server->userdata;
	r->call = *call;
	*call = (struct varlink_call){ 0 };
	return r;
}

void *varlink_request_userdata(struct varlink_request *r)
{
	return r->userdata;
}

struct varlink_request *varlink_request_ref(struct varlink_request *r)
{
	if (r)
		r->n_ref++;
	return r;
}

struct varlink_request *varlink_request_unref(struct varlink_request *r)
{
	if (!r || --r->n_ref > 0)
		return NULL;
	varlink_call_done(&r->call);
	connection_unref(r->conn);
	free(r);
	return NULL;
}

const struct varlink_peer *varlink_request_peer(const struct varlink_request *r)
{
	return &r->conn->peer;
}

bool varlink_request_wants_more(const struct varlink_request *r)
{
	return r->call.more;
}

bool varlink_request_is_connected(const struct varlink_request *r)
{
	return r->conn->server && !r->conn->dying;
}

void varlink_request_on_disconnect(struct varlink_request *r, varlink_disconnect_t cb, void *userdata)
{
	r->on_disconnect = cb;
	r->on_disconnect_userdata = userdata;
}

/* The call is answered: the connection may read its next one. */
static void request_finish(struct varlink_request *r)
{
	r->finished = true;
	if (r->conn->current == r)
		connection_request_finished(r->conn);
}

/* The peer is gone while r was in flight. */
static void request_disconnected(struct varlink_request *r)
{
	varlink_disconnect_t cb = r->on_disconnect;

	r->on_disconnect = NULL;
	if (!r->finished && cb)
		cb(r, r->on_disconnect_userdata);
}

/* Send encoded bytes (taken over) as an answer to r; final ends the call. */
static int request_send(struct varlink_request *r, char *bytes, size_t len, bool final)
{
	int ret;

	if (!varlink_request_is_connected(r)) {
		free(bytes);
		return -ENOTCONN;
	}
	if (r->finished) {
		free(bytes);
		return -EALREADY;
	}
	if (r->call.oneway) {
		/* The peer asked for no answer: whatever the handler says is
		 * dropped, but a final one still ends the call. */
		free(bytes);
		if (final)
			request_finish(r);
		return 0;
	}
	ret = connection_queue(r->conn, bytes, len);
	if (ret < 0)
		return ret;
	if (final)
		request_finish(r);
	return 0;
}

int varlink_request_reply(struct varlink_request *r, struct json_object *parameters)
{
	char *bytes;
	size_t len;
	int ret;

	ret = varlink_reply(parameters, false, &bytes, &len);
	if (ret < 0)
		return ret;
	return request_send(r, bytes, len, true);
}

int varlink_request_notify(struct varlink_request *r, struct json_object *parameters)
{
	char *bytes;
	size_t len;
	int ret;

	if (!r->call.more)
		return -EINVAL;
	ret = varlink_reply(parameters, true, &bytes, &len);
	if (ret < 0)
		return ret;
	return request_send(r, bytes, len, false);
}

int varlink_request_error(struct varlink_request *r, const char *error, struct json_object *parameters)
{
	char *bytes;
	size_t len;
	int ret;

	ret = varlink_error(error, parameters, &bytes, &len);
	if (ret < 0)
		return ret;
	return request_send(r, bytes, len, true);
}

int varlink_request_error_invalid_parameter(struct varlink_request *r, const char *name)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();
	int ret;

	if (!p)
		return -ENOMEM;
	ret = mt_json_add_string(p, "parameter", name);
	if (ret < 0)
		return ret;
	return varlink_request_error(r, VARLINK_ERROR_INVALID_PARAMETER, p);
}

/* ----- org.varlink.service ----------------------------------------------- */

static struct varlink_server *request_server(struct varlink_request *r)
{
	return r->conn->server;
}

static int service_get_info(const struct varlink_call *call, void *params, void *userdata)
{
	struct varlink_request *r = userdata;
	struct varlink_server *s = request_server(r);
	_cleanup_json_ struct json_object *o = json_object_new_object();
	_cleanup_json_ struct json_object *ifaces = json_object_new_array();
	int ret;

	if (!o || !ifaces)
		return -ENOMEM;
	ret = mt_json_append(ifaces, json_object_new_string(SERVICE_INTERFACE));
	if (ret >= 0)
		ret = mt_json_append(ifaces, json_object_new_string(s->interface));
	if (ret >= 0)
		ret = mt_json_add_string(o, "vendor", s->vendor);
	if (ret >= 0)
		ret = mt_json_add_string(o, "product", s->product);
	if (ret >= 0)
		ret = mt_json_add_string(o, "version", s->version);
	if (ret >= 0)
		ret = mt_json_add_string(o, "url", s->url);
	if (ret >= 0)
		ret = mt_json_add(o, "interfaces", TAKE_PTR(ifaces));
	if (ret < 0)
		return ret;
	return varlink_request_reply(r, o);
}

struct describe_params {
	const char *interface;
};

static int service_get_interface_description(const struct varlink_call *call, void *params,
					     void *userdata)
{
	struct varlink_request *r = userdata;
	struct varlink_server *s = request_server(r);
	const struct describe_params *p = params;
	_cleanup_json_ struct json_object *o = json_object_new_object();
	const char *text = NULL;
	int ret;

	if (!o)
		return -ENOMEM;
	if (streq(p->interface, s->interface))
		text = s->idl;
	else if (streq(p->interface, SERVICE_INTERFACE))
		text = service_idl;
	if (!text) {
		ret = mt_json_add_string(o, "interface", p->interface);
		return ret < 0 ? ret : varlink_request_error(r, VARLINK_ERROR_INTERFACE_NOT_FOUND, o);
	}
	ret = mt_json_add_string(o, "description", text);
	return ret < 0 ? ret : varlink_request_reply(r, o);
}

static const struct varlink_param describe_params_table[] = {
	{ "interface", json_type_string, offsetof(struct describe_params, interface), true, NULL },
	{}
};

static const struct varlink_method service_methods[] = {
	{ SERVICE_INTERFACE ".GetInfo", service_get_info, NULL, 0, 0 },
	{ SERVICE_INTERFACE ".GetInterfaceDescription", service_get_interface_description,
	  describe_params_table, sizeof(struct describe_params), 0 },
	{}
};

static bool method_is_service(const char *method)
{
	size_t n = strlen(SERVICE_INTERFACE);

	return strncmp(method, SERVICE_INTERFACE, n) == 0 && method[n] == '.' &&
	       !strchr(method + n + 1, '.');
}

/* ----- connections ------------------------------------------------------- */

static void connection_unref(struct connection *c)
{
	if (!c || --c->n_ref > 0)
		return;
	varlink_framer_done(&c->framer);
	free(c->out);
	free(c);
}

static void server_resume_accepting(struct varlink_server *s);

/* Close c now: its event sources, its socket, its call in flight (which
 * becomes disconnected). Drops the server's reference: a caller that goes
 * on using c must hold its own. */
static void connection_close(struct connection *c)
{
	struct varlink_server *s = c->server;
	struct varlink_request *r;

	if (!s)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->connections = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->n_connections--;
	c->io = sd_event_source_disable_unref(c->io);
	c->idle = sd_event_source_disable_unref(c->idle);
	c->defer = sd_event_source_disable_unref(c->defer);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->server = NULL;
	/* Requests may keep c for long (a stream nobody ended): keep only
	 * the small struct, not its buffers. */
	varlink_framer_done(&c->framer);
	free(c->out);
	c->out = NULL;
	c->out_start = c->out_end = c->out_alloc = 0;
	server_resume_accepting(s);
	r = TAKE_PTR(c->current);
	if (r) {
		request_disconnected(r);
		varlink_request_unref(r);
	}
	connection_unref(c);
}

/* Mark c to be closed from the event loop rather than from inside a reply
 * of a handler, which must not see its disconnect callback run under it. */
static void connection_fail(struct connection *c)
{
	c->dying = true;
	c->out_start = c->out_end = 0;
	if (c->defer)
		sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static size_t connection_output_pending(const struct connection *c)
{
	return c->out_end - c->out_start;
}

/* Whether c may start its next call now. */
static bool connection_takes_calls(const struct connection *c)
{
	return c->server && !c->dying && !c->current &&
	       connection_output_pending(c) < OUTPUT_HIGH_WATER;
}

static void connection_update_events(struct connection *c)
{
	uint32_t events = 0;

	if (!c->server || c->dying)
		return;
	if (connection_takes_calls(c) && !c->eof)
		events |= EPOLLIN;
	if (c->out_end > c->out_start)
		events |= EPOLLOUT;
	/* EPOLLHUP is reported even with no events: a peer that goes away
	 * during a call is noticed, and its call disconnected. */
	if (sd_event_source_set_io_events(c->io, events) < 0)
		connection_fail(c);
}

static void connection_idle_arm(struct connection *c)
{
	if (!c->idle)
		return;
	if (sd_event_source_set_time_relative(c->idle, c->server->limits.idle_timeout_usec) < 0 ||
	    sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT) < 0)
		connection_fail(c);
}

static void connection_idle_disarm(struct connection *c)
{
	if (c->idle)
		sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
}

static void connection_flush(struct connection *c)
{
	bool was_full = connection_output_pending(c) >= OUTPUT_HIGH_WATER;
	ssize_t n;

	while (c->out_end > c->out_start) {
		n = send(c->fd, c->out + c->out_start, c->out_end - c->out_start,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				connection_fail(c);
			break;
		}
		c->out_start += (size_t)n;
	}
	if (c->out_start == c->out_end) {
		c->out_start = c->out_end = 0;
		/* A peer that shut down its side gets its answers, then goes. */
		if (c->eof && !c->dying)
			connection_fail(c);
	}
	/* Calls that waited for the queue to drain may be in the framer. */
	if (was_full && connection_takes_calls(c) && !c->processing && c->defer)
		sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
	connection_update_events(c);
}

/* Append bytes (taken over) to the output of c and write what the socket
 * takes now. A peer that lets more than max_output pile up is dropped. */
static int connection_queue(struct connection *c, char *bytes, size_t len)
{
	_cleanup_free_ char *data = bytes;
	size_t pending = connection_output_pending(c), need;
	char *p;

	if (pending + len > c->server->limits.max_output) {
		c->server->stats.output_overflows++;
		connection_fail(c);
		return -ENOTCONN;
	}
	if (c->out_start > 0) {
		memmove(c->out, c->out + c->out_start, pending);
		c->out_start = 0;
		c->out_end = pending;
	}
	need = pending + len;
	if (need > c->out_alloc) {
		size_t n = c->out_alloc * 2 > need ? c->out_alloc * 2 : need;

		p = realloc(c->out, n);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_alloc = n;
	}
	memcpy(c->out + c->out_end, data, len);
	c->out_end += len;
	connection_flush(c);
	return c->dying ? -ENOTCONN : 0;
}

static void connection_process(struct connection *c);

static void connection_request_finished(struct connection *c)
{
	struct varlink_request *r = TAKE_PTR(c->current);

	varlink_request_unref(r);
	if (!c->server || c->dying)
		return;
	connection_idle_arm(c);
	connection_update_events(c);
	/* Calls the peer pipelined behind this one are in the framer
	 * already; no new input may come to wake us for them. */
	if (!c->processing && c->defer)
		sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static int connection_send_failed(struct connection *c, struct varlink_request *r, int error)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();
	int ret;

	if (!p)
		return -ENOMEM;
	ret = mt_json_add_string(p, "reason", strerror(-error));
	if (ret < 0)
		return ret;
	return varlink_request_error(r, c->server->failed_error, p);
}

/* Route r to its handler, or answer it with the dispatcher's error. */
static int connection_dispatch(struct connection *c, struct varlink_request *r)
{
	const struct varlink_method *table = method_is_service(r->call.method) ? service_methods
									       : c->server->methods;
	struct mt_error err = { 0 };
	char *reply = NULL;
	size_t len = 0;
	int ret;

	ret = varlink_dispatch(table, &r->call, c->peer.privileged, r, &reply, &len, &err);
	if (ret != 1)
		return ret;
	if (!reply) {
		request_finish(r);
		return 0;
	}
	return request_send(r, reply, len, true);
}

static void connection_handle_message(struct connection *c, const char *msg, size_t len)
{
	struct varlink_call call;
	struct varlink_request *r;
	int ret;

	if (varlink_call_parse(msg, len, &call, NULL) < 0) {
		c->server->stats.protocol_errors++;
		c->dying = true;
		return;
	}
	c->server->stats.calls++;
	r = request_new(c, &call);
	if (!r) {
		varlink_call_done(&call);
		c->dying = true;
		return;
	}
	c->current = varlink_request_ref(r);
	connection_idle_disarm(c);
	ret = connection_dispatch(c, r);
	if (ret < 0 && !r->finished && varlink_request_is_connected(r))
		ret = connection_send_failed(c, r, ret);
	if (ret < 0 && !r->finished && varlink_request_is_connected(r))
		c->dying = true;  /* cannot even say so: out of memory */
	if (r->call.oneway && !r->finished)
		request_finish(r);
	varlink_request_unref(r);
}

/* Run the complete calls already read, one at a time. */
static void connection_process(struct connection *c)
{
	const char *msg;
	size_t len;

	if (c->processing)
		return;
	c->processing = true;
	while (connection_takes_calls(c) && varlink_framer_pop(&c->framer, &msg, &len) > 0)
		connection_handle_message(c, msg, len);
	c->processing = false;
}

static void connection_read(struct connection *c)
{
	char buf[READ_CHUNK];
	size_t room, used;
	ssize_t n;

	connection_process(c);
	if (!connection_takes_calls(c) || c->eof)
		return;
	/* Never read more than the framer takes in full: no bytes need to be
	 * kept aside while a call is in flight. */
	room = varlink_framer_room(&c->framer);
	if (room == 0)
		return;
	n = recv(c->fd, buf, room < sizeof(buf) ? room : sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dying = true;
		return;
	}
	if (n == 0) {
		c->eof = true;
		if (c->out_end == c->out_start)
			c->dying = true;
		return;
	}
	if (varlink_framer_feed(&c->framer, buf, (size_t)n, &used, NULL) < 0 || used != (size_t)n) {
		c->server->stats.protocol_errors++;
		c->dying = true;
		return;
	}
	connection_process(c);
}

static int connection_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct connection *c = userdata;

	c->n_ref++;
	if (revents & EPOLLOUT)
		connection_flush(c);
	if (connection_takes_calls(c) && !c->eof && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		connection_read(c);
	else if (revents & (EPOLLHUP | EPOLLERR))
		c->dying = true;  /* gone with a call or output pending, or for good */
	if (c->dying)
		connection_close(c);
	else
		connection_update_events(c);
	connection_unref(c);
	return 0;
}

static int connection_on_defer(sd_event_source *source, void *userdata)
{
	struct connection *c = userdata;

	c->n_ref++;
	if (!c->dying)
		connection_process(c);
	if (c->dying)
		connection_close(c);
	else
		connection_update_events(c);
	connection_unref(c);
	return 0;
}

static int connection_on_idle(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct connection *c = userdata;

	if (c->current)
		return 0;
	c->server->stats.idle_timeouts++;
	connection_close(c);
	return 0;
}

/* ----- accepting --------------------------------------------------------- */

/* 1 when the peer on fd has gid among its supplementary groups. */
static int peer_has_group(int fd, gid_t gid)
{
	_cleanup_free_ gid_t *groups = NULL;
	socklen_t len = 32 * sizeof(gid_t), alloc;

	for (;;) {
		gid_t *p = realloc(groups, len);

		if (!p)
			return -ENOMEM;
		groups = p;
		alloc = len;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) >= 0)
			break;
		if (errno != ERANGE)
			return -errno;
		/* The kernel said how much it needs; insist on growth. */
		if (len <= alloc)
			len = alloc * 2;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

static int peer_read(int fd, gid_t privileged_gid, struct varlink_peer *ret)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	bool privileged;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	privileged = uc.uid == 0;
	if (!privileged && privileged_gid != (gid_t)-1)
		/* A failure to read the groups refuses, as not a member. */
		privileged = uc.gid == privileged_gid || peer_has_group(fd, privileged_gid) > 0;
	*ret = (struct varlink_peer){ .uid = uc.uid, .gid = uc.gid, .pid = uc.pid, .privileged = privileged };
	return 0;
}

static bool server_allows(const struct varlink_server *s, const struct varlink_peer *peer)
{
	unsigned same_uid = 0;

	if (s->n_connections >= s->limits.max_connections)
		return false;
	if (peer->uid == 0)
		return true;
	for (const struct connection *c = s->connections; c; c = c->next)
		if (c->peer.uid == peer->uid)
			same_uid++;
	return same_uid < s->limits.max_per_uid;
}

static int connection_add_sources(struct connection *c)
{
	sd_event *e = c->server->event;
	int r;

	r = sd_event_add_io(e, &c->io, c->fd, EPOLLIN, connection_on_io, c);
	if (r >= 0)
		r = sd_event_source_set_description(c->io, "varlink-connection");
	if (r >= 0)
		r = sd_event_add_defer(e, &c->defer, connection_on_defer, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_source_set_description(c->defer, "varlink-connection-pending");
	if (r < 0 || c->server->limits.idle_timeout_usec == 0)
		return r;
	r = sd_event_add_time_relative(e, &c->idle, CLOCK_MONOTONIC, c->server->limits.idle_timeout_usec,
				       c->server->limits.idle_timeout_usec / 8, connection_on_idle, c);
	if (r >= 0)
		r = sd_event_source_set_description(c->idle, "varlink-connection-idle");
	return r;
}

/* Take over the accepted fd: a new connection, or closed at once. */
static void server_add_connection(struct varlink_server *s, int fd)
{
	struct varlink_peer peer;
	struct connection *c;

	if (peer_read(fd, s->privileged_gid, &peer) < 0 || !server_allows(s, &peer)) {
		s->stats.refused++;
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	*c = (struct connection){ .n_ref = 1, .server = s, .fd = fd, .peer = peer, .next = s->connections };
	if (s->connections)
		s->connections->prev = c;
	s->connections = c;
	s->n_connections++;
	s->stats.accepted++;
	if (varlink_framer_init(&c->framer, peer.privileged && s->limits.max_message_privileged
							? s->limits.max_message_privileged
							: s->limits.max_message) < 0 ||
	    connection_add_sources(c) < 0)
		connection_close(c);
}

static void server_set_accepting(struct varlink_server *s, bool on)
{
	for (struct listener *l = s->listeners; l; l = l->next)
		sd_event_source_set_enabled(l->io, on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static void server_resume_accepting(struct varlink_server *s)
{
	if (!s->accept_retry)
		return;
	s->accept_retry = sd_event_source_disable_unref(s->accept_retry);
	server_set_accepting(s, true);
}

static int server_on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
	server_resume_accepting(userdata);
	return 0;
}

/* Out of file descriptors: the pending connection would wake us forever.
 * Wait for one of ours to close, or a while. */
static void server_pause_accepting(struct varlink_server *s)
{
	if (s->accept_retry)
		return;
	if (sd_event_add_time_relative(s->event, &s->accept_retry, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
				       server_on_accept_retry, s) < 0)
		return;
	sd_event_source_set_description(s->accept_retry, "varlink-accept-retry");
	server_set_accepting(s, false);
}

static int listener_on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct listener *l = userdata;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			server_add_connection(l->server, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			server_pause_accepting(l->server);
		return 0;
	}
}

/* ----- the server -------------------------------------------------------- */

/* The name after "interface", the first statement of an IDL. */
static int idl_interface_name(const char *idl, char **ret, struct mt_error *err)
{
	const char *p = idl, *name;
	size_t len;

	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p != '#')
			break;
		p += strcspn(p, "\n");
	}
	if (strncmp(p, "interface", 9) != 0 || !isspace((unsigned char)p[9]))
		return mt_error_set(err, -EINVAL, "interface description does not start with \"interface NAME\"");
	name = p + 9 + strspn(p + 9, " \t");
	len = strcspn(name, " \t\r\n#");
	*ret = strndup(name, len);
	if (!*ret)
		return -ENOMEM;
	if (!varlink_interface_name_is_valid(*ret)) {
		free(*ret);
		*ret = NULL;
		return mt_error_set(err, -EINVAL, "interface description names no valid interface");
	}
	return 0;
}

/* Every method served must belong to the interface described. */
static int methods_check(const struct varlink_method *methods, const char *interface, struct mt_error *err)
{
	size_t n = strlen(interface);

	for (const struct varlink_method *m = methods; m->name; m++)
		if (strncmp(m->name, interface, n) != 0 || m->name[n] != '.' ||
		    !varlink_method_name_is_valid(m->name) || strchr(m->name + n + 1, '.'))
			return mt_error_set(err, -EINVAL, "method \"%s\" is not a method of interface %s",
					    m->name, interface);
	return 0;
}

static int server_copy_info(struct varlink_server *s, const struct varlink_server_info *info)
{
	s->vendor = strdup(info && info->vendor ? info->vendor : "");
	s->product = strdup(info && info->product ? info->product : "");
	s->version = strdup(info && info->version ? info->version : "");
	s->url = strdup(info && info->url ? info->url : "");
	return s->vendor && s->product && s->version && s->url ? 0 : -ENOMEM;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct varlink_server *, varlink_server_free)

int varlink_server_new(sd_event *e, const struct varlink_method *methods, const char *idl,
		       const struct varlink_server_info *info,
		       const struct varlink_server_limits *limits, gid_t privileged_gid,
		       const char *failed_error, void *userdata, struct varlink_server **ret,
		       struct mt_error *err)
{
	_cleanup_(varlink_server_freep) struct varlink_server *s = NULL;
	int r;

	if (!e || !methods || !idl)
		return mt_error_set(err, -EINVAL, "varlink server needs an event loop, methods and an interface description");
	if (!failed_error || !varlink_method_name_is_valid(failed_error))
		return mt_error_set(err, -EINVAL, "\"%s\" is not a valid varlink error name",
				    failed_error ? failed_error : "(null)");
	if (limits && (limits->max_message == 0 || limits->max_connections == 0 ||
		       limits->max_per_uid == 0 || limits->max_output == 0))
		return mt_error_set(err, -EINVAL, "varlink server limits must not be 0 (but the idle timeout)");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->event = sd_event_ref(e);
	s->methods = methods;
	s->privileged_gid = privileged_gid;
	s->userdata = userdata;
	if (limits)
		s->limits = *limits;
	else
		varlink_server_limits_default(&s->limits);
	s->idl = strdup(idl);
	s->failed_error = strdup(failed_error);
	if (!s->idl || !s->failed_error || server_copy_info(s, info) < 0)
		return -ENOMEM;
	r = idl_interface_name(idl, &s->interface, err);
	if (r < 0)
		return r;
	r = methods_check(methods, s->interface, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int varlink_server_listen_fd(struct varlink_server *s, int fd, struct mt_error *err)
{
	_cleanup_close_ int owned = fd;
	struct listener *l;
	int flags, r;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return mt_error_set(err, -errno, "cannot make listening socket %d non-blocking: %s", fd,
				    strerror(errno));
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	r = sd_event_add_io(s->event, &l->io, fd, EPOLLIN, listener_on_accept, l);
	if (r < 0) {
		free(l);
		return mt_error_set(err, r, "cannot watch listening socket %d: %s", fd, strerror(-r));
	}
	sd_event_source_set_description(l->io, "varlink-listen");
	if (s->accept_retry)
		sd_event_source_set_enabled(l->io, SD_EVENT_OFF);
	l->server = s;
	l->fd = take_fd(&owned);
	l->next = s->listeners;
	s->listeners = l;
	return 0;
}

/* A socket file left by a previous run is replaced; anything else at path
 * is not ours to remove. */
static int remove_stale_socket(const char *path, struct mt_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : mt_error_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return mt_error_set(err, -EEXIST, "%s exists and is not a socket", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return mt_error_set(err, -errno, "cannot remove stale socket %s: %s", path, strerror(errno));
	return 0;
}

int varlink_server_listen_path(struct varlink_server *s, const char *path, mode_t mode, struct mt_error *err)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t len = strlen(path);
	int r;

	if (len == 0 || len >= sizeof(un.sun_path))
		return mt_error_set(err, -EINVAL, "socket path \"%s\" is empty or longer than %zu bytes", path,
				    sizeof(un.sun_path) - 1);
	memcpy(un.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mt_error_set(err, -errno, "cannot create socket: %s", strerror(errno));
	r = remove_stale_socket(path, err);
	if (r < 0)
		return r;
	if (bind(fd, (struct sockaddr *)&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1)) < 0)
		return mt_error_set(err, -errno, "cannot bind to %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		return mt_error_set(err, -errno, "cannot set the mode of %s: %s", path, strerror(errno));
	if (listen(fd, SOMAXCONN) < 0)
		return mt_error_set(err, -errno, "cannot listen on %s: %s", path, strerror(errno));
	return varlink_server_listen_fd(s, take_fd(&fd), err);
}

int varlink_server_listen_systemd(struct varlink_server *s, struct mt_error *err)
{
	int n, r;

	n = sd_listen_fds(1);
	if (n < 0)
		return mt_error_set(err, n, "cannot read the sockets passed by systemd: %s", strerror(-n));
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
		if (r < 0)
			return mt_error_set(err, r, "cannot check socket %d passed by systemd: %s", fd,
					    strerror(-r));
		if (r == 0)
			return mt_error_set(err, -EINVAL,
					    "fd %d passed by systemd is not a listening AF_UNIX stream socket", fd);
		r = varlink_server_listen_fd(s, fd, err);
		if (r < 0)
			return r;
	}
	return n;
}

unsigned varlink_server_n_connections(const struct varlink_server *s)
{
	return s->n_connections;
}

void varlink_server_get_stats(const struct varlink_server *s, struct varlink_server_stats *ret)
{
	*ret = s->stats;
}

void varlink_server_free(struct varlink_server *s)
{
	if (!s)
		return;
	while (s->listeners) {
		struct listener *l = s->listeners;

		s->listeners = l->next;
		sd_event_source_disable_unref(l->io);
		close(l->fd);
		free(l);
	}
	s->accept_retry = sd_event_source_disable_unref(s->accept_retry);
	while (s->connections)
		connection_close(s->connections);
	sd_event_unref(s->event);
	free(s->idl);
	free(s->interface);
	free(s->failed_error);
	free(s->vendor);
	free(s->product);
	free(s->version);
	free(s->url);
	free(s);
}

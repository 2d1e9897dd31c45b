/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server of memtyped on sd-event: listening sockets (its own or
 * one passed by systemd socket activation), one connection object per
 * client with the peer's credentials, the codec of varlink.h to cut and
 * route calls, bounded output queues, and requests that a handler may
 * answer later (asynchronous replies) or keep answering (streaming).
 *
 * Each connection has at most one call in flight: while a call waits for
 * its reply, or streams, the server stops reading from that connection.
 * Together with the framer's bound, the output bound and the connection
 * limit this caps what any client can make the daemon hold, and a client
 * that sends garbage, stalls or never reads only loses its own connection. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "daemon/varlink.h"

struct varlink_server;
struct varlink_request;

struct varlink_server_limits {
	size_t max_message;          /* bytes of one incoming message */
	size_t max_message_privileged; /* the same for uid 0 and the privileged
					* group (the libvirt hook's domain XML);
					* 0: max_message */
	unsigned max_connections;    /* all peers together */
	unsigned max_per_uid;        /* connections of one uid (not uid 0) */
	size_t max_output;           /* bytes queued for one peer; beyond: drop it */
	uint64_t idle_timeout_usec;  /* close a connection with no call in flight
				      * after this long without a complete
				      * message; 0: never */
};

/* The defaults memtyped uses: 1 MiB messages from anyone, and from
 * privileged peers room for a domain XML as large as the parser takes
 * (4 MiB, escaped in JSON: 8 MiB + 64 KiB), so that the hook, which runs
 * as root, is never refused a domain the parser would read; 256
 * connections, 32 per uid, 8 MiB of output, 60 s idle. */
void varlink_server_limits_default(struct varlink_server_limits *ret);

/* What the daemon tells GetInfo. */
struct varlink_server_info {
	const char *vendor;
	const char *product;
	const char *version;
	const char *url;
};

/* A server on event loop e (referenced) serving methods (a table of
 * varlink.h, kept by pointer) of the interface whose description text is
 * idl (copied; its "interface NAME" line gives the name served), plus
 * org.varlink.service.GetInfo and GetInterfaceDescription. privileged_gid
 * is the group whose members may call VARLINK_METHOD_PRIVILEGED methods
 * besides uid 0 ((gid_t)-1: uid 0 only). failed_error is the error name
 * sent when a handler returns a negative errno without having replied
 * (e.g. "io.memtype.Manager.Failed", with parameter "reason"). userdata is
 * what varlink_request_userdata() returns. */
int varlink_server_new(sd_event *e, const struct varlink_method *methods, const char *idl,
		       const struct varlink_server_info *info,
		       const struct varlink_server_limits *limits, gid_t privileged_gid,
		       const char *failed_error, void *userdata, struct varlink_server **ret,
		       struct mt_error *err);

/* Listen on an AF_UNIX stream socket at path (its directory must exist; a
 * stale socket file is replaced), with permissions mode (0666: the access
 * check is per method, by peer credentials). */
int varlink_server_listen_path(struct varlink_server *s, const char *path, mode_t mode,
			       struct mt_error *err);

/* Listen on an already listening socket fd (taken over). */
int varlink_server_listen_fd(struct varlink_server *s, int fd, struct mt_error *err);

/* Take the sockets systemd passed (sd_listen_fds); returns how many (0 when
 * not socket-activated) or -errno. */
int varlink_server_listen_systemd(struct varlink_server *s, struct mt_error *err);

/* Connections open now, for status and tests. */
unsigned varlink_server_n_connections(const struct varlink_server *s);

/* What the server did about misbehaving peers, since it was created: the
 * library does not log, so the daemon (status) and tests read it here. */
struct varlink_server_stats {
	uint64_t accepted;         /* connections taken */
	uint64_t refused;          /* closed at once: a connection limit */
	uint64_t calls;            /* calls parsed */
	uint64_t protocol_errors;  /* malformed or oversize message: dropped */
	uint64_t output_overflows; /* more than max_output queued: dropped */
	uint64_t idle_timeouts;    /* idle too long: closed */
};
void varlink_server_get_stats(const struct varlink_server *s, struct varlink_server_stats *ret);

/* Close every connection and listening socket (pending requests become
 * disconnected), free s. NULL is fine. */
void varlink_server_free(struct varlink_server *s);

/* ----- requests: one call being answered -------------------------------- */

/* The handlers of the method table get a struct varlink_request * as their
 * userdata. A handler either replies before returning, or takes a
 * reference and replies later from the event loop. Replying on a request
 * whose peer went away is a no-op returning -ENOTCONN. */

void *varlink_request_userdata(struct varlink_request *r);
struct varlink_request *varlink_request_ref(struct varlink_request *r);
struct varlink_request *varlink_request_unref(struct varlink_request *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct varlink_request *, varlink_request_unref);

struct varlink_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool privileged;
};
const struct varlink_peer *varlink_request_peer(const struct varlink_request *r);

/* Whether the call asked for "more" (streaming) / is oneway. */
bool varlink_request_wants_more(const struct varlink_request *r);
bool varlink_request_is_connected(const struct varlink_request *r);

/* Final reply with parameters (not consumed; NULL: empty). Ends the call:
 * the connection reads its next call. */
int varlink_request_reply(struct varlink_request *r, struct json_object *parameters);

/* One streamed reply ("continues": true); only on a call with "more". */
int varlink_request_notify(struct varlink_request *r, struct json_object *parameters);

/* Final error reply; ends the call. */
int varlink_request_error(struct varlink_request *r, const char *error,
			  struct json_object *parameters);

/* Error reply org.varlink.service.InvalidParameter {"parameter": name}. */
int varlink_request_error_invalid_parameter(struct varlink_request *r, const char *name);

/* Called once when the peer of r disconnects while r is not finished (for
 * streaming subscribers and deferred replies). */
typedef void (*varlink_disconnect_t)(struct varlink_request *r, void *userdata);
void varlink_request_on_disconnect(struct varlink_request *r, varlink_disconnect_t cb,
				   void *userdata);

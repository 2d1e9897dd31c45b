/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small blocking varlink client for memtypectl, the libvirt hook, tests
 * and benchmarks: connect to an AF_UNIX socket, send a call, wait for its
 * reply (or its stream of replies) with a deadline. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/* Where memtyped listens unless told otherwise; $MEMTYPE_SOCKET overrides
 * it for every client (memtypectl, the hook). */
#define MEMTYPE_SOCKET_DEFAULT "/run/memtype/io.memtype.Manager"

/* $MEMTYPE_SOCKET when set and not empty, else MEMTYPE_SOCKET_DEFAULT. */
const char *varlink_client_default_path(void);

struct varlink_client;

/* Connect within timeout_usec (0: no deadline). -ENOENT/-ECONNREFUSED
 * when nothing listens, -ETIMEDOUT, other -errno; err says which path. */
int varlink_client_connect(const char *path, uint64_t timeout_usec,
			   struct varlink_client **ret, struct mt_error *err);
void varlink_client_free(struct varlink_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct varlink_client *, varlink_client_free);

enum {
	VARLINK_CALL_MORE = 1 << 0,
	VARLINK_CALL_ONEWAY = 1 << 1,
};

/* Send one call: method, parameters (not consumed; NULL: none), flags.
 * Waits for the socket at most the timeout given to connect. */
int varlink_client_send(struct varlink_client *c, const char *method,
			struct json_object *parameters, unsigned flags, struct mt_error *err);

struct varlink_client_reply {
	struct json_object *parameters;  /* owned; an empty object when absent */
	char *error;                     /* owned; NULL unless an error reply */
	bool continues;
};
void varlink_client_reply_done(struct varlink_client_reply *r);

/* Wait up to timeout_usec (0: forever) for the next reply. -ETIMEDOUT,
 * -ECONNRESET when the server closed, -EBADMSG for a malformed reply
 * (err names what), -EMSGSIZE beyond the client's 16 MiB bound. */
int varlink_client_recv(struct varlink_client *c, uint64_t timeout_usec,
			struct varlink_client_reply *ret, struct mt_error *err);

/* send + recv of one non-streaming call. Returns 0 when the reply is not
 * an error, 1 when it is (ret->error set), or -errno from either step. */
int varlink_client_call(struct varlink_client *c, const char *method,
			struct json_object *parameters, uint64_t timeout_usec,
			struct varlink_client_reply *ret, struct mt_error *err);

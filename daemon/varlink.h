/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink wire codec of memtyped, independent of any transport: a
 * bounded framer that cuts a byte stream into NUL-terminated messages, a
 * strict parser of calls, a table-driven decoder of call parameters, a
 * method dispatcher and the encoders of replies and errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/* A sane default for varlink_framer_init()'s max_message. */
#define VARLINK_MESSAGE_MAX_DEFAULT (1024 * 1024)

/* Longest accepted "interface.Method" name, without its NUL. */
#define VARLINK_METHOD_NAME_MAX 255

#define VARLINK_ERROR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VARLINK_ERROR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VARLINK_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define VARLINK_ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VARLINK_ERROR_PERMISSION_DENIED "org.varlink.service.PermissionDenied"
#define VARLINK_ERROR_EXPECTED_MORE "org.varlink.service.ExpectedMore"

/* Input side of one connection. The buffer never holds more than one
 * maximal message plus its NUL, so a peer cannot make the daemon allocate
 * more than that however it splits or floods its writes. */
struct varlink_framer {
	char *buf;
	size_t alloc;        /* bytes allocated, at most max_message + 1 */
	size_t used;         /* bytes held */
	size_t start;        /* first byte not yet popped */
	size_t scanned;      /* [start, scanned) is known to hold no NUL */
	size_t max_message;  /* longest message, its NUL not counted */
	bool broken;         /* an oversize message was seen */
};

/* max_message must be at least 1 (else -EINVAL). Allocates lazily, on
 * the first feed. */
int varlink_framer_init(struct varlink_framer *f, size_t max_message);
void varlink_framer_done(struct varlink_framer *f);

/* Append up to len bytes of data and store in *ret_consumed how many were
 * taken: fewer than len when the buffer is full of complete messages, which
 * the caller must then pop before feeding the rest. Returns -EMSGSIZE when
 * a message grows beyond max_message without its NUL: the framer stays
 * broken (every later feed fails the same way, pop finds nothing) and the
 * connection must be closed, since the stream cannot be resynchronised. */
int varlink_framer_feed(struct varlink_framer *f, const void *data, size_t len,
			size_t *ret_consumed, struct mt_error *err);

/* Take the next complete message: returns 1 and points *ret_msg at its
 * bytes (NUL-terminated, *ret_len excludes the NUL) inside the framer's
 * buffer, valid until the next feed; 0 when no complete message is held. */
int varlink_framer_pop(struct varlink_framer *f, const char **ret_msg, size_t *ret_len);

/* Bytes held of a message not yet complete (e.g. a peer that stalls). */
size_t varlink_framer_pending(const struct varlink_framer *f);

/* How many bytes one feed takes in full once every complete message was
 * popped: a reader that reads no more than this never has to keep bytes
 * the framer refused. 0 when broken. */
size_t varlink_framer_room(const struct varlink_framer *f);

/* One decoded call. */
struct varlink_call {
	char method[VARLINK_METHOD_NAME_MAX + 1];
	struct json_object *parameters;  /* owned; an empty object when absent */
	bool more;
	bool oneway;
	bool upgrade;
};

/* Parse one message (len bytes, no NUL inside) into a call: valid UTF-8,
 * exactly one JSON object, a string "method" of the form
 * "reverse.domain.Interface.Method", optional object "parameters" and
 * optional booleans "more", "oneway", "upgrade"; other keys are ignored as
 * the varlink specification asks. Returns -EBADMSG with err naming the fault
 * for any malformed message: the peer broke the protocol and the connection
 * is to be closed. *ret is set only on success; release it with
 * varlink_call_done(). */
int varlink_call_parse(const char *msg, size_t len, struct varlink_call *ret, struct mt_error *err);
void varlink_call_done(struct varlink_call *c);

/* Whether name is "iface.Method" with a valid interface (two or more
 * dot-separated segments) and method name (an upper-case letter, then
 * letters and digits), within VARLINK_METHOD_NAME_MAX. */
bool varlink_method_name_is_valid(const char *name);

/* Whether name is a valid interface name ("org.example.Name"). */
bool varlink_interface_name_is_valid(const char *name);

/* Converts one JSON value (already checked to be of the entry's json type)
 * into the C field at field. Returns 0 or -errno; err names the fault. */
typedef int (*varlink_param_parser_t)(struct json_object *v, void *field, struct mt_error *err);

/* One entry of a parameter table, ended by an entry with name NULL. With
 * parser NULL, the field gets the default for type: json_type_boolean ->
 * bool, json_type_int -> int64_t, json_type_double -> double (integers
 * accepted), json_type_string -> const char * and json_type_object or
 * json_type_array -> struct json_object *; strings and objects are borrowed
 * from the call's parameters and live as long as the call. A JSON null is
 * taken as an absent field. */
struct varlink_param {
	const char *name;
	json_type type;
	size_t offset;
	bool required;
	varlink_param_parser_t parser;
};

/* Parser for a uint64_t field of json_type_int: rejects negative values. */
int varlink_param_uint64(struct json_object *v, void *field, struct mt_error *err);

/* Fill the size-byte struct at ret from parameters (a JSON object, or NULL
 * for none) after table. Fields not in parameters keep what ret had. On a
 * missing required, wrong-typed, unknown or unparsable field returns
 * -EINVAL, points *ret_bad_name (if not NULL) at that field's name (valid
 * as long as table and parameters) and leaves ret untouched. */
int varlink_params_decode(const struct varlink_param *table, struct json_object *parameters,
			  void *ret, size_t size, const char **ret_bad_name, struct mt_error *err);

enum {
	VARLINK_METHOD_PRIVILEGED = 1 << 0,  /* only for privileged peers */
	VARLINK_METHOD_STREAMING = 1 << 1,   /* replies continue: "more" required */
};

/* Handles a call whose parameters were decoded into params (a zeroed
 * struct of the method's params_size). It sends its own replies through
 * userdata (the connection); returns 0 or -errno. */
typedef int (*varlink_handler_t)(const struct varlink_call *call, void *params, void *userdata);

/* One entry of a method table, ended by an entry with name NULL. */
struct varlink_method {
	const char *name;                    /* "io.memtype.Manager.GetStatus" */
	varlink_handler_t handler;           /* NULL: MethodNotImplemented */
	const struct varlink_param *params;  /* NULL: no parameters accepted */
	size_t params_size;
	unsigned flags;
};

/* Route call to its method in table. Returns the handler's result when
 * the call reached it. Otherwise returns 1 and stores in *ret_reply and
 * *ret_reply_len the encoded varlink error to send (NULL and 0 for a oneway
 * call): InterfaceNotFound, MethodNotFound, MethodNotImplemented,
 * PermissionDenied (privileged false on a privileged method), ExpectedMore
 * (a streaming method called without "more") or InvalidParameter, whose
 * reason (e.g. the expected type) is then also recorded in err. Returns
 * -ENOMEM when the error reply cannot be built. */
int varlink_dispatch(const struct varlink_method *table, const struct varlink_call *call,
		     bool privileged, void *userdata, char **ret_reply, size_t *ret_reply_len,
		     struct mt_error *err);

/* Encode {"parameters":parameters,"continues":true} (continues only when
 * set) as NUL-terminated bytes; *ret_len counts the NUL. parameters may be
 * NULL (an empty object) and is not consumed. */
int varlink_reply(struct json_object *parameters, bool continues, char **ret, size_t *ret_len);

/* Encode {"error":name,"parameters":parameters} the same way; name must be
 * a valid error name ("iface.ErrorName"), else -EINVAL. */
int varlink_error(const char *name, struct json_object *parameters, char **ret, size_t *ret_len);

/* Parse one reply message (len bytes, no NUL inside), the client's side of
 * varlink_reply()/varlink_error(): a JSON object with optional object
 * "parameters" (an empty object when absent), optional boolean "continues"
 * and optional string "error", a valid error name. Returns -EBADMSG with
 * err naming the fault; the outputs are set only on success, and
 * *ret_error is NULL unless the reply is an error. */
int varlink_reply_parse(const char *msg, size_t len, struct json_object **ret_parameters,
			char **ret_error, bool *ret_continues, struct mt_error *err);

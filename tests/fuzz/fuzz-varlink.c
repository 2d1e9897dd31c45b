/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the varlink wire codec (daemon/varlink.c): the
 * input is cut into chunks of sizes taken from its own bytes, fed to a small
 * framer, and every message that comes out is parsed as a call and
 * dispatched to a table whose handler answers with a reply. Not built by
 * default; tests/fuzz/run-fuzzers builds and runs it, or from the top of
 * the tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *         $(pkg-config --cflags json-c) tests/fuzz/fuzz-varlink.c \
 *         daemon/varlink.c common/error.c common/json-util.c \
 *         $(pkg-config --libs json-c) -o fuzz-varlink
 *   ./fuzz-varlink -max_total_time=60 -max_len=8192
 *
 * Checked: the framer never holds more than one maximal message, a
 * refused message leaves the framer broken, a parse failure always carries
 * a message, every encoded reply parses back (as JSON, and through the
 * client's reply parser to what was encoded), every message the client's
 * reply parser accepts is an object with object parameters, and the
 * framer's room is always taken in full. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "daemon/varlink.h"

#define FUZZ_MAX_MESSAGE 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct params {
	const char *vm;
	bool verbose;
	int64_t limit;
	uint64_t mask;
	struct json_object *filter;
};

static const struct varlink_param params_table[] = {
	{ "vm", json_type_string, offsetof(struct params, vm), true, NULL },
	{ "verbose", json_type_boolean, offsetof(struct params, verbose), false, NULL },
	{ "limit", json_type_int, offsetof(struct params, limit), false, NULL },
	{ "mask", json_type_int, offsetof(struct params, mask), false, varlink_param_uint64 },
	{ "filter", json_type_array, offsetof(struct params, filter), false, NULL },
	{}
};

/* What a client makes of s must be what it says: parameters an object,
 * an error only with a valid name, never an error that continues. */
static int check_reply_parse(const char *s, size_t len, bool *ret_continues, char **ret_error)
{
	struct json_object *parameters = NULL;
	struct mt_error err = { 0 };
	char *error = NULL;
	bool continues = false;
	int r;

	r = varlink_reply_parse(s, len, &parameters, &error, &continues, &err);
	if (r < 0) {
		if (err.code != r || !err.message[0] || parameters || error)
			abort();
		return r;
	}
	if (!json_object_is_type(parameters, json_type_object) || (error && continues) ||
	    (error && !varlink_method_name_is_valid(error)))
		abort();
	json_object_put(parameters);
	*ret_continues = continues;
	*ret_error = error;
	return 0;
}

static void check_encoded(char *s, size_t len)
{
	struct json_object *o, *v;
	char *error = NULL;
	bool continues;

	if (len == 0 || s[len - 1] != '\0' || strlen(s) != len - 1)
		abort();
	o = json_tokener_parse(s);
	if (!o)
		abort();
	if (check_reply_parse(s, len - 1, &continues, &error) < 0)
		abort();
	if (continues != json_object_object_get_ex(o, "continues", NULL))
		abort();
	if (!!error != json_object_object_get_ex(o, "error", &v) || (error && strcmp(error, json_object_get_string(v))))
		abort();
	free(error);
	json_object_put(o);
	free(s);
}

static int handle(const struct varlink_call *call, void *userdata, struct json_object *echo)
{
	char *s;
	size_t len;

	(void)userdata;
	if (varlink_reply(echo, call->more, &s, &len) < 0)
		abort();
	check_encoded(s, len);
	return 0;
}

static int handle_status(const struct varlink_call *call, void *params, void *userdata)
{
	struct params *p = params;
	struct json_object *o = json_object_new_object();
	int r;

	if (!o || !p->vm || mt_json_add_string(o, "vm", p->vm) < 0)
		abort();
	r = handle(call, userdata, o);
	json_object_put(o);
	return r;
}

static const struct varlink_method methods[] = {
	{ "io.memtype.Manager.GetStatus", handle_status, params_table, sizeof(struct params), 0 },
	{ "io.memtype.Manager.Watch", handle_status, params_table, sizeof(struct params),
	  VARLINK_METHOD_STREAMING },
	{ "io.memtype.Manager.Apply", handle_status, params_table, sizeof(struct params),
	  VARLINK_METHOD_PRIVILEGED },
	{ "io.memtype.Manager.Reload", NULL, NULL, 0, 0 },
	{}
};

static void handle_message(const char *msg, size_t len, bool privileged)
{
	struct varlink_call call;
	struct mt_error err = { 0 };
	char *reply = NULL;
	size_t reply_len = 0;
	int r;

	{
		/* the same bytes, read as a reply */
		char *error = NULL;
		bool continues;

		if (check_reply_parse(msg, len, &continues, &error) >= 0)
			free(error);
	}
	r = varlink_call_parse(msg, len, &call, &err);
	if (r < 0) {
		if (err.code != r || !err.message[0])
			abort();
		return;
	}
	if (!call.parameters || !varlink_method_name_is_valid(call.method))
		abort();
	r = varlink_dispatch(methods, &call, privileged, NULL, &reply, &reply_len, &err);
	if (r < 0)
		abort();
	if (r == 1 && call.oneway && reply)
		abort();
	if (r == 1 && !call.oneway)
		check_encoded(reply, reply_len);
	varlink_call_done(&call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct varlink_framer f;
	struct mt_error err = { 0 };
	const char *msg;
	size_t msg_len, used, chunk;
	bool privileged;

	if (size < 1)
		return 0;
	/* first byte: chunk size seed and privilege of the peer */
	chunk = (data[0] & 0x7f) + 1;
	privileged = data[0] & 0x80;
	data++;
	size--;
	if (varlink_framer_init(&f, FUZZ_MAX_MESSAGE) < 0)
		abort();
	while (size > 0) {
		size_t step = chunk < size ? chunk : size;
		size_t room = varlink_framer_room(&f);

		if (varlink_framer_feed(&f, data, step, &used, &err) < 0) {
			if (!f.broken || err.code != -EMSGSIZE)
				abort();
			break;
		}
		if (used > step || f.alloc > FUZZ_MAX_MESSAGE + 1 || used < (step < room ? step : room))
			abort();
		data += used;
		size -= used;
		while (varlink_framer_pop(&f, &msg, &msg_len) > 0) {
			if (msg_len > FUZZ_MAX_MESSAGE || msg[msg_len] != '\0')
				abort();
			handle_message(msg, msg_len, privileged);
		}
		/* vary the split as the stream goes on */
		chunk = chunk * 7 % 97 + 1;
	}
	varlink_framer_done(&f);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the varlink wire codec (daemon/varlink.c): framing under
 * any split of the stream, strict call parsing, the parameter decoder, the
 * dispatcher and the reply encoders. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json-util.h"
#include "daemon/varlink.h"

/* Feed all of data, popping complete messages into out (joined by '|'). */
static int feed_all(struct varlink_framer *f, const char *data, size_t len, size_t chunk,
		    char *out, size_t out_size, unsigned *n_msgs)
{
	struct mt_error err = { 0 };
	const char *m;
	size_t ml, used, step;
	int r;

	while (len > 0) {
		step = chunk < len ? chunk : len;
		r = varlink_framer_feed(f, data, step, &used, &err);
		if (r < 0)
			return r;
		data += used;
		len -= used;
		while (varlink_framer_pop(f, &m, &ml) > 0) {
			ck_assert_uint_eq(strlen(m), ml);
			if (*n_msgs > 0)
				strncat(out, "|", out_size - strlen(out) - 1);
			strncat(out, m, out_size - strlen(out) - 1);
			(*n_msgs)++;
		}
	}
	return 0;
}

static const char three_msgs[] = "{\"a\":1}\0{\"method\":\"x.y.Z\"}\0{}\0{\"partial";

START_TEST(test_framer_splits)
{
	/* every chunk size, from byte-by-byte to all at once */
	for (size_t chunk = 1; chunk <= sizeof(three_msgs); chunk++) {
		struct varlink_framer f;
		char out[256] = "";
		unsigned n = 0;

		ck_assert_int_eq(varlink_framer_init(&f, 64), 0);
		ck_assert_int_eq(feed_all(&f, three_msgs, sizeof(three_msgs) - 1, chunk, out, sizeof(out), &n), 0);
		ck_assert_uint_eq(n, 3);
		ck_assert_str_eq(out, "{\"a\":1}|{\"method\":\"x.y.Z\"}|{}");
		ck_assert_uint_eq(varlink_framer_pending(&f), strlen("{\"partial"));
		varlink_framer_done(&f);
	}
}
END_TEST

START_TEST(test_framer_small_buffer_backpressure)
{
	/* max 8: the buffer holds 9 bytes, less than the stream; feed must
	 * take part of it and deliver everything after pops */
	static const char s[] = "1234567\0abcdefgh\0\0x\0";
	struct varlink_framer f;
	char out[64] = "";
	unsigned n = 0;

	ck_assert_int_eq(varlink_framer_init(&f, 8), 0);
	ck_assert_int_eq(feed_all(&f, s, sizeof(s) - 1, sizeof(s), out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(out, "1234567|abcdefgh||x");
	ck_assert_uint_le(f.alloc, 9);
	varlink_framer_done(&f);
}
END_TEST

START_TEST(test_framer_max_sizes)
{
	enum { MAX = 1000 };
	char *buf = malloc(MAX + 2);
	struct varlink_framer f;
	struct mt_error err = { 0 };
	const char *m;
	size_t ml, used;

	ck_assert_ptr_nonnull(buf);
	/* exactly max_message bytes plus NUL: accepted */
	memset(buf, 'a', MAX + 1);
	buf[MAX] = '\0';
	ck_assert_int_eq(varlink_framer_init(&f, MAX), 0);
	ck_assert_int_eq(varlink_framer_feed(&f, buf, MAX + 1, &used, &err), 0);
	ck_assert_uint_eq(used, MAX + 1);
	ck_assert_int_eq(varlink_framer_pop(&f, &m, &ml), 1);
	ck_assert_uint_eq(ml, MAX);
	ck_assert_int_eq(varlink_framer_pop(&f, &m, &ml), 0);
	varlink_framer_done(&f);

	/* max + 1 bytes: refused, and the framer stays broken */
	memset(buf, 'a', MAX + 2);
	buf[MAX + 1] = '\0';
	ck_assert_int_eq(varlink_framer_init(&f, MAX), 0);
	for (size_t i = 0; i < MAX; i += 100)
		ck_assert_int_eq(varlink_framer_feed(&f, buf + i, 100, &used, &err), 0);
	ck_assert_int_eq(varlink_framer_feed(&f, buf + MAX, 2, &used, &err), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err.message, "longer than 1000 bytes"));
	ck_assert_int_eq(varlink_framer_feed(&f, "\0", 1, &used, NULL), -EMSGSIZE);
	ck_assert_int_eq(varlink_framer_pop(&f, &m, &ml), 0);
	ck_assert_uint_le(f.alloc, MAX + 1);
	varlink_framer_done(&f);
	free(buf);

	ck_assert_int_eq(varlink_framer_init(&f, 0), -EINVAL);
}
END_TEST

static int parse(const char *s, size_t len, struct varlink_call *c, struct mt_error *err)
{
	memset(err, 0, sizeof(*err));
	return varlink_call_parse(s, len, c, err);
}

#define PARSE(s, c, err) parse((s), sizeof(s) - 1, (c), (err))

START_TEST(test_call_parse_ok)
{
	struct varlink_call c;
	struct mt_error err;

	ck_assert_int_eq(PARSE("{\"method\":\"io.memtype.Manager.GetStatus\",\"more\":true,"
			       "\"parameters\":{\"vm\":\"a\"},\"future\":[1]} \n", &c, &err), 0);
	ck_assert_str_eq(c.method, "io.memtype.Manager.GetStatus");
	ck_assert(c.more);
	ck_assert(!c.oneway);
	ck_assert(!c.upgrade);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(c.parameters, "vm")), "a");
	varlink_call_done(&c);

	ck_assert_int_eq(PARSE("{\"method\":\"org.varlink.service.GetInfo\",\"oneway\":true,\"upgrade\":false}",
			       &c, &err), 0);
	ck_assert(!c.more);
	ck_assert(c.oneway);
	ck_assert(json_object_is_type(c.parameters, json_type_object));
	ck_assert_int_eq(json_object_object_length(c.parameters), 0);
	varlink_call_done(&c);

	/* UTF-8 in strings is fine */
	ck_assert_int_eq(PARSE("{\"method\":\"a.b.C\",\"parameters\":{\"n\":\"gr\xc3\xbc\xc3\x9f\"}}", &c, &err), 0);
	varlink_call_done(&c);
}
END_TEST

static const struct {
	const char *msg;
	size_t len;      /* 0: strlen(msg) */
	const char *why; /* part of the error message */
} bad_calls[] = {
	{ "", 0, "empty" },
	{ "{\"method\":\"a.b.C\",\"x\":\"\xff\"}", 0, "UTF-8 at byte 23" },
	{ "{\"method\":\"a.b.C\",\"x\":\"\xc0\xaf\"}", 0, "UTF-8" },        /* overlong */
	{ "{\"method\":\"a.b.C\",\"x\":\"\xed\xa0\x80\"}", 0, "UTF-8" },    /* surrogate */
	{ "{\"method\":\"a.b.C\",\"x\":\"\xe2\x82\"}", 0, "UTF-8" },        /* truncated */
	{ "{\"method\":\"a.b.C\"\0}", 19, "UTF-8" },                       /* NUL inside */
	{ "{\"method\":\"a.b.C\"", 0, "truncated" },
	{ "{\"method\":\"a.b.C\",}", 0, "not valid JSON" },
	{ "{'method':'a.b.C'}", 0, "not valid JSON" },
	{ "{\"method\":\"a.b.C\"} {}", 0, "not valid JSON at byte 19" },
	{ "[{\"method\":\"a.b.C\"}]", 0, "not a JSON object but a array" },
	{ "\"a.b.C\"", 0, "not a JSON object" },
	{ "null", 0, "not a JSON object" },
	{ "{}", 0, "no \"method\"" },
	{ "{\"method\":null}", 0, "no \"method\"" },
	{ "{\"method\":7}", 0, "not a string" },
	{ "{\"method\":\"GetStatus\"}", 0, "interface.Method" },
	{ "{\"method\":\"Manager.GetStatus\"}", 0, "interface.Method" },
	{ "{\"method\":\"io.memtype.Manager.getStatus\"}", 0, "interface.Method" },
	{ "{\"method\":\"io..Manager.GetStatus\"}", 0, "interface.Method" },
	{ "{\"method\":\"io.memtype.Manager.\"}", 0, "interface.Method" },
	{ "{\"method\":\"a.b.C\",\"parameters\":[]}", 0, "\"parameters\" is not an object" },
	{ "{\"method\":\"a.b.C\",\"more\":1}", 0, "\"more\" is not a boolean" },
	{ "{\"method\":\"a.b.C\",\"oneway\":\"yes\"}", 0, "\"oneway\" is not a boolean" },
	{ "{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}", 0, "both" },
};

START_TEST(test_call_parse_bad)
{
	struct varlink_call c = { .parameters = NULL };
	struct mt_error err;
	const char *msg = bad_calls[_i].msg;
	size_t len = bad_calls[_i].len ? bad_calls[_i].len : strlen(msg);

	ck_assert_int_eq(parse(msg, len, &c, &err), -EBADMSG);
	ck_assert_int_eq(err.code, -EBADMSG);
	ck_assert_msg(strstr(err.message, bad_calls[_i].why), "case %d: \"%s\" lacks \"%s\"", _i,
		      err.message, bad_calls[_i].why);
	ck_assert_ptr_null(c.parameters);  /* untouched */
}
END_TEST

START_TEST(test_call_parse_method_length)
{
	char name[VARLINK_METHOD_NAME_MAX + 2], msg[VARLINK_METHOD_NAME_MAX + 64];
	struct varlink_call c;
	struct mt_error err;

	/* "a.b." + 'M' + x...: exactly the maximum */
	memset(name, 'x', sizeof(name));
	memcpy(name, "a.b.M", 5);
	name[VARLINK_METHOD_NAME_MAX] = '\0';
	snprintf(msg, sizeof(msg), "{\"method\":\"%s\"}", name);
	ck_assert_int_eq(parse(msg, strlen(msg), &c, &err), 0);
	ck_assert_uint_eq(strlen(c.method), VARLINK_METHOD_NAME_MAX);
	varlink_call_done(&c);

	name[VARLINK_METHOD_NAME_MAX] = 'x';
	name[VARLINK_METHOD_NAME_MAX + 1] = '\0';
	snprintf(msg, sizeof(msg), "{\"method\":\"%s\"}", name);
	ck_assert_int_eq(parse(msg, strlen(msg), &c, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "longer than 255"));
}
END_TEST

struct get_status_params {
	const char *vm;
	bool verbose;
	int64_t limit;
	uint64_t mask;
	struct json_object *filter;
};

static int parse_vm_name(struct json_object *v, void *field, struct mt_error *err)
{
	const char *s = json_object_get_string(v);

	if (!*s)
		return mt_error_set(err, -EINVAL, "empty VM name");
	*(const char **)field = s;
	return 0;
}

static const struct varlink_param get_status_params[] = {
	{ "vm", json_type_string, offsetof(struct get_status_params, vm), true, parse_vm_name },
	{ "verbose", json_type_boolean, offsetof(struct get_status_params, verbose), false, NULL },
	{ "limit", json_type_int, offsetof(struct get_status_params, limit), false, NULL },
	{ "mask", json_type_int, offsetof(struct get_status_params, mask), false, varlink_param_uint64 },
	{ "filter", json_type_object, offsetof(struct get_status_params, filter), false, NULL },
	{}
};

/* Decode json into *p; on failure copy the offending name into bad. The
 * parsed parameters, which p's strings point into, go to *ret_o. */
static int decode(const char *json, struct get_status_params *p, char bad[static 64],
		  struct json_object **ret_o)
{
	struct json_object *o = json_tokener_parse(json);
	struct mt_error err = { 0 };
	const char *b = NULL;
	int r;

	ck_assert_ptr_nonnull(o);
	bad[0] = '\0';
	r = varlink_params_decode(get_status_params, o, p, sizeof(*p), &b, &err);
	if (r < 0) {
		ck_assert_int_eq(err.code, r);
		ck_assert_ptr_nonnull(b);
		ck_assert_ptr_nonnull(strstr(err.message, b));
		snprintf(bad, 64, "%s", b);
	}
	*ret_o = o;
	return r;
}

START_TEST(test_params_decode_ok)
{
	struct get_status_params p = { .limit = 5 };
	_cleanup_json_ struct json_object *o1 = NULL, *o2 = NULL;
	char bad[64];

	ck_assert_int_eq(decode("{\"vm\":\"web1\",\"verbose\":true,\"mask\":18446744073709551615,"
				"\"filter\":{\"x\":1}}", &p, bad, &o1), 0);
	ck_assert_str_eq(p.vm, "web1");
	ck_assert(p.verbose);
	ck_assert_int_eq(p.limit, 5);   /* absent: kept */
	ck_assert_uint_eq(p.mask, UINT64_MAX);
	ck_assert_ptr_nonnull(p.filter);

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(decode("{\"vm\":\"a\",\"limit\":-3,\"verbose\":null}", &p, bad, &o2), 0);
	ck_assert_int_eq(p.limit, -3);
	ck_assert(!p.verbose);
}
END_TEST

static const struct {
	const char *json;
	const char *bad;
} bad_params[] = {
	{ "{}", "vm" },                                   /* missing required */
	{ "{\"vm\":null}", "vm" },                        /* null is absent */
	{ "{\"vm\":7}", "vm" },                           /* wrong type */
	{ "{\"vm\":\"\"}", "vm" },                        /* parser refuses */
	{ "{\"vm\":\"a\",\"verbose\":\"yes\"}", "verbose" },
	{ "{\"vm\":\"a\",\"verbose\":1}", "verbose" },
	{ "{\"vm\":\"a\",\"limit\":1.5}", "limit" },
	{ "{\"vm\":\"a\",\"limit\":\"1\"}", "limit" },
	{ "{\"vm\":\"a\",\"limit\":9223372036854775808}", "limit" },
	{ "{\"vm\":\"a\",\"mask\":-1}", "mask" },
	{ "{\"vm\":\"a\",\"filter\":[]}", "filter" },
	{ "{\"vm\":\"a\",\"colour\":\"red\"}", "colour" }, /* unknown */
};

START_TEST(test_params_decode_bad)
{
	struct get_status_params p = { .vm = "before", .limit = 42 }, saved = p;
	_cleanup_json_ struct json_object *o = NULL;
	char bad[64];

	ck_assert_int_eq(decode(bad_params[_i].json, &p, bad, &o), -EINVAL);
	ck_assert_str_eq(bad, bad_params[_i].bad);
	ck_assert_mem_eq(&p, &saved, sizeof(p));  /* untouched on failure */
}
END_TEST

struct handler_log {
	unsigned calls;
	char vm[32];
	bool more;
};

static int handle_get_status(const struct varlink_call *call, void *params, void *userdata)
{
	struct get_status_params *p = params;
	struct handler_log *log = userdata;

	log->calls++;
	snprintf(log->vm, sizeof(log->vm), "%s", p->vm);
	log->more = call->more;
	return 0;
}

static int handle_fail(const struct varlink_call *call _unused_, void *params _unused_, void *userdata _unused_)
{
	return -EIO;
}

static const struct varlink_method methods[] = {
	{ "io.memtype.Manager.GetStatus", handle_get_status, get_status_params,
	  sizeof(struct get_status_params), 0 },
	{ "io.memtype.Manager.Watch", handle_get_status, get_status_params,
	  sizeof(struct get_status_params), VARLINK_METHOD_STREAMING },
	{ "io.memtype.Manager.Apply", handle_get_status, get_status_params,
	  sizeof(struct get_status_params), VARLINK_METHOD_PRIVILEGED },
	{ "io.memtype.Manager.Reload", NULL, NULL, 0, 0 },
	{ "io.memtype.Manager.Broken", handle_fail, NULL, 0, 0 },
	{}
};

static const struct {
	const char *call;
	bool privileged;
	int ret;
	const char *reply;  /* expected error reply, or NULL */
	unsigned calls;
} dispatch_cases[] = {
	{ "{\"method\":\"io.memtype.Manager.GetStatus\",\"parameters\":{\"vm\":\"x\"}}", false, 0, NULL, 1 },
	{ "{\"method\":\"io.memtype.Manager.GetStatus\",\"more\":true,\"parameters\":{\"vm\":\"x\"}}",
	  false, 0, NULL, 1 },
	{ "{\"method\":\"io.memtype.Manager.Nope\"}", false, 1,
	  "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"io.memtype.Manager.Nope\"}}", 0 },
	{ "{\"method\":\"io.memtype.Other.GetStatus\"}", false, 1,
	  "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":\"io.memtype.Other\"}}", 0 },
	{ "{\"method\":\"io.memtype.GetStatus\"}", false, 1,
	  "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":\"io.memtype\"}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.Reload\"}", false, 1,
	  "{\"error\":\"org.varlink.service.MethodNotImplemented\",\"parameters\":{\"method\":\"io.memtype.Manager.Reload\"}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.Watch\",\"parameters\":{\"vm\":\"x\"}}", false, 1,
	  "{\"error\":\"org.varlink.service.ExpectedMore\",\"parameters\":{}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.Watch\",\"more\":true,\"parameters\":{\"vm\":\"x\"}}", false, 0, NULL, 1 },
	{ "{\"method\":\"io.memtype.Manager.Apply\",\"parameters\":{\"vm\":\"x\"}}", false, 1,
	  "{\"error\":\"org.varlink.service.PermissionDenied\",\"parameters\":{}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.Apply\",\"parameters\":{\"vm\":\"x\"}}", true, 0, NULL, 1 },
	{ "{\"method\":\"io.memtype.Manager.GetStatus\",\"parameters\":{\"vm\":true}}", false, 1,
	  "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"vm\"}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.GetStatus\",\"parameters\":{\"vm\":\"x\",\"y\":1}}", false, 1,
	  "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"y\"}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.Reload\",\"parameters\":{\"y\":1}}", false, 1,
	  "{\"error\":\"org.varlink.service.MethodNotImplemented\",\"parameters\":{\"method\":\"io.memtype.Manager.Reload\"}}", 0 },
	{ "{\"method\":\"io.memtype.Manager.Broken\"}", false, -EIO, NULL, 0 },
	{ "{\"method\":\"io.memtype.Manager.Broken\",\"parameters\":{\"z\":0}}", false, 1,
	  "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"z\"}}", 0 },
	/* oneway: no error reply at all */
	{ "{\"method\":\"io.memtype.Manager.Nope\",\"oneway\":true}", false, 1, "", 0 },
};

START_TEST(test_dispatch)
{
	struct handler_log log = { 0 };
	struct varlink_call c;
	struct mt_error err = { 0 };
	char *reply = (char *)"sentinel";
	size_t len = 99;
	int r;

	ck_assert_int_eq(varlink_call_parse(dispatch_cases[_i].call, strlen(dispatch_cases[_i].call), &c, &err), 0);
	r = varlink_dispatch(methods, &c, dispatch_cases[_i].privileged, &log, &reply, &len, &err);
	ck_assert_int_eq(r, dispatch_cases[_i].ret);
	ck_assert_uint_eq(log.calls, dispatch_cases[_i].calls);
	if (log.calls) {
		ck_assert_str_eq(log.vm, "x");
		ck_assert_int_eq(log.more, c.more);
	}
	if (r == 1 && dispatch_cases[_i].reply[0]) {
		ck_assert_uint_eq(len, strlen(reply) + 1);
		ck_assert_str_eq(reply, dispatch_cases[_i].reply);
		free(reply);
	} else if (r == 1) {
		ck_assert_ptr_null(reply);
		ck_assert_uint_eq(len, 0);
	}
	varlink_call_done(&c);
}
END_TEST

START_TEST(test_reply_encoding)
{
	_cleanup_json_ struct json_object *p = json_object_new_object(), *back = NULL;
	struct varlink_framer f;
	struct mt_error err = { 0 };
	const char *m;
	char *s;
	size_t len, used, ml;

	ck_assert_int_eq(mt_json_add_string(p, "vm", "web/1 \"q\""), 0);
	ck_assert_int_eq(mt_json_add_u64(p, "n", 3), 0);

	ck_assert_int_eq(varlink_reply(p, true, &s, &len), 0);
	ck_assert_uint_eq(s[len - 1], '\0');
	ck_assert_str_eq(s, "{\"parameters\":{\"vm\":\"web/1 \\\"q\\\"\",\"n\":3},\"continues\":true}");
	/* round trip through the framer and json-c */
	ck_assert_int_eq(varlink_framer_init(&f, 4096), 0);
	ck_assert_int_eq(varlink_framer_feed(&f, s, len, &used, &err), 0);
	ck_assert_int_eq(varlink_framer_pop(&f, &m, &ml), 1);
	ck_assert_uint_eq(ml, len - 1);
	back = json_tokener_parse(m);
	ck_assert(json_object_equal(json_object_object_get(back, "parameters"), p));
	varlink_framer_done(&f);
	free(s);

	ck_assert_int_eq(varlink_reply(NULL, false, &s, &len), 0);
	ck_assert_str_eq(s, "{\"parameters\":{}}");
	ck_assert_uint_eq(len, strlen(s) + 1);
	free(s);

	ck_assert_int_eq(varlink_error("io.memtype.Manager.NoSuchVM", p, &s, &len), 0);
	ck_assert_str_eq(s, "{\"error\":\"io.memtype.Manager.NoSuchVM\",\"parameters\":{\"vm\":\"web/1 \\\"q\\\"\",\"n\":3}}");
	free(s);
	ck_assert_int_eq(json_object_object_length(p), 2);  /* not consumed */

	s = NULL;
	ck_assert_int_eq(varlink_error("NoSuchVM", NULL, &s, &len), -EINVAL);
	ck_assert_int_eq(varlink_error("io.memtype.Manager.noSuchVM", NULL, &s, &len), -EINVAL);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_method_names)
{
	ck_assert(varlink_method_name_is_valid("org.varlink.service.GetInfo"));
	ck_assert(varlink_method_name_is_valid("io.mem-type.A1.B2"));
	ck_assert(!varlink_method_name_is_valid("org.varlink.service.Get_Info"));
	ck_assert(!varlink_method_name_is_valid("1o.x.A"));
	ck_assert(!varlink_method_name_is_valid("io.x-.A"));
	ck_assert(!varlink_method_name_is_valid(".io.x.A"));
	ck_assert(!varlink_method_name_is_valid("io.x.A."));
	ck_assert(!varlink_method_name_is_valid(""));
	ck_assert(!varlink_method_name_is_valid(NULL));

	ck_assert(varlink_interface_name_is_valid("io.memtype.Manager"));
	ck_assert(varlink_interface_name_is_valid("org.varlink.service"));
	ck_assert(!varlink_interface_name_is_valid("memtype"));
	ck_assert(!varlink_interface_name_is_valid("io.memtype."));
	ck_assert(!varlink_interface_name_is_valid("io..memtype"));
	ck_assert(!varlink_interface_name_is_valid("9io.memtype"));
	ck_assert(!varlink_interface_name_is_valid(""));
	ck_assert(!varlink_interface_name_is_valid(NULL));
}
END_TEST

START_TEST(test_framer_room)
{
	struct varlink_framer f;
	struct mt_error err = { 0 };
	const char *m;
	size_t used, ml;

	ck_assert_int_eq(varlink_framer_init(&f, 16), 0);
	ck_assert_uint_eq(varlink_framer_room(&f), 17);
	ck_assert_int_eq(varlink_framer_feed(&f, "{}\0{\"a\"", 7, &used, &err), 0);
	ck_assert_uint_eq(varlink_framer_room(&f), 10);
	ck_assert_int_eq(varlink_framer_pop(&f, &m, &ml), 1);
	/* popped bytes count as room again; the partial message does not */
	ck_assert_uint_eq(varlink_framer_room(&f), 13);
	ck_assert_int_eq(varlink_framer_feed(&f, "0123456789ab", 12, &used, &err), 0);
	ck_assert_uint_eq(used, 12);
	ck_assert_uint_eq(varlink_framer_room(&f), 1);
	/* the 17th byte of a message without NUL breaks it: no room left */
	ck_assert_int_eq(varlink_framer_feed(&f, "c", 1, &used, &err), -EMSGSIZE);
	ck_assert_uint_eq(varlink_framer_room(&f), 0);
	varlink_framer_done(&f);
}
END_TEST

/* Replies as a client reads them. */
static const struct {
	const char *msg;
	int ret;
	const char *params;    /* expected parameters, or the error message */
	const char *error;
	bool continues;
} replies[] = {
	{ "{\"parameters\":{\"a\":1}}", 0, "{\"a\":1}", NULL, false },
	{ "{}", 0, "{}", NULL, false },
	{ "{\"parameters\":{},\"continues\":true}", 0, "{}", NULL, true },
	{ "{\"error\":\"io.memtype.Manager.NoSuchVM\",\"parameters\":{\"name\":\"x\"}}", 0,
	  "{\"name\":\"x\"}", "io.memtype.Manager.NoSuchVM", false },
	{ "{\"error\":\"a.b.C\",\"continues\":false,\"extra\":1}", 0, "{}", "a.b.C", false },
	{ "{\"error\":\"a.b.C\",\"continues\":true}", -EBADMSG, "error that continues", NULL, false },
	{ "{\"error\":\"C\"}", -EBADMSG, "not of the form interface.Error", NULL, false },
	{ "{\"error\":7}", -EBADMSG, "\"error\" is not a string", NULL, false },
	{ "{\"continues\":\"yes\"}", -EBADMSG, "\"continues\" is not a boolean", NULL, false },
	{ "{\"parameters\":null}", 0, "{}", NULL, false },
	{ "{\"parameters\":7}", -EBADMSG, "\"parameters\" is not an object", NULL, false },
	{ "[]", -EBADMSG, "not a JSON object", NULL, false },
	{ "{\"parameters\":{\"s\":\"\xc0\x80\"}}", -EBADMSG, "not valid UTF-8", NULL, false },
};

START_TEST(test_reply_parse)
{
	_cleanup_json_ struct json_object *parameters = NULL, *want = NULL;
	_cleanup_free_ char *error = NULL;
	struct mt_error err = { 0 };
	bool continues = false;
	int r;

	r = varlink_reply_parse(replies[_i].msg, strlen(replies[_i].msg), &parameters, &error, &continues, &err);
	ck_assert_int_eq(r, replies[_i].ret);
	if (r < 0) {
		ck_assert_msg(strstr(err.message, replies[_i].params), "got \"%s\"", err.message);
		ck_assert_ptr_null(parameters);
		ck_assert_ptr_null(error);
		return;
	}
	want = json_tokener_parse(replies[_i].params);
	ck_assert(json_object_equal(parameters, want));
	if (replies[_i].error)
		ck_assert_str_eq(error, replies[_i].error);
	else
		ck_assert_ptr_null(error);
	ck_assert(continues == replies[_i].continues);
}
END_TEST

static Suite *varlink_suite(void)
{
	Suite *s = suite_create("varlink");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_framer_splits);
	tcase_add_test(tc, test_framer_small_buffer_backpressure);
	tcase_add_test(tc, test_framer_max_sizes);
	tcase_add_test(tc, test_call_parse_ok);
	tcase_add_loop_test(tc, test_call_parse_bad, 0, ELEMENTSOF(bad_calls));
	tcase_add_test(tc, test_call_parse_method_length);
	tcase_add_test(tc, test_params_decode_ok);
	tcase_add_loop_test(tc, test_params_decode_bad, 0, ELEMENTSOF(bad_params));
	tcase_add_loop_test(tc, test_dispatch, 0, ELEMENTSOF(dispatch_cases));
	tcase_add_test(tc, test_reply_encoding);
	tcase_add_test(tc, test_method_names);
	tcase_add_test(tc, test_framer_room);
	tcase_add_loop_test(tc, test_reply_parse, 0, ELEMENTSOF(replies));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(varlink_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

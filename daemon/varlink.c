/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink wire codec of varlink.h: framing, call parsing, parameter
 * decoding, dispatch and reply encoding, on json-c and plain buffers. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json-util.h"
#include "varlink.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_tokener *, json_tokener_free)

int varlink_framer_init(struct varlink_framer *f, size_t max_message)
{
	if (max_message == 0 || max_message >= SIZE_MAX / 2)
		return -EINVAL;
	*f = (struct varlink_framer){ .max_message = max_message };
	return 0;
}

void varlink_framer_done(struct varlink_framer *f)
{
	free(f->buf);
	*f = (struct varlink_framer){ 0 };
}

/* Move what was not popped yet to the front, so that the space freed by
 * popped messages can take new bytes. */
static void framer_compact(struct varlink_framer *f)
{
	if (f->start == 0)
		return;
	memmove(f->buf, f->buf + f->start, f->used - f->start);
	f->used -= f->start;
	f->scanned -= f->start;
	f->start = 0;
}

/* Grow the buffer towards need bytes, geometrically, never past the cap of
 * one maximal message and its NUL. */
static int framer_reserve(struct varlink_framer *f, size_t need)
{
	size_t cap = f->max_message + 1, n;
	char *p;

	if (need > cap)
		need = cap;
	if (need <= f->alloc)
		return 0;
	n = f->alloc < 4096 ? 4096 : f->alloc * 2;
	if (n < need)
		n = need;
	if (n > cap)
		n = cap;
	p = realloc(f->buf, n);
	if (!p)
		return -ENOMEM;
	f->buf = p;
	f->alloc = n;
	return 0;
}

int varlink_framer_feed(struct varlink_framer *f, const void *data, size_t len,
			size_t *ret_consumed, struct mt_error *err)
{
	size_t cap = f->max_message + 1, n;
	int r;

	if (f->broken)
		return mt_error_set(err, -EMSGSIZE, "varlink message longer than %zu bytes",
				    f->max_message);
	if (len == 0) {
		*ret_consumed = 0;
		return 0;
	}
	framer_compact(f);
	r = framer_reserve(f, f->used + len);
	if (r < 0)
		return mt_error_set(err, r, "cannot grow varlink input buffer");
	n = cap - f->used < len ? cap - f->used : len;
	memcpy(f->buf + f->used, data, n);
	f->used += n;
	/* A full buffer without any NUL holds one message of more than
	 * max_message bytes: nothing can complete it any more. */
	if (f->used == cap && !memchr(f->buf + f->scanned, '\0', f->used - f->scanned)) {
		f->broken = true;
		return mt_error_set(err, -EMSGSIZE, "varlink message longer than %zu bytes",
				    f->max_message);
	}
	*ret_consumed = n;
	return 0;
}

int varlink_framer_pop(struct varlink_framer *f, const char **ret_msg, size_t *ret_len)
{
	const char *end;

	if (f->broken || f->start >= f->used)
		return 0;
	/* Each byte is searched once, however the peer trickles its bytes. */
	end = memchr(f->buf + f->scanned, '\0', f->used - f->scanned);
	if (!end) {
		f->scanned = f->used;
		return 0;
	}
	*ret_msg = f->buf + f->start;
	*ret_len = (size_t)(end - *ret_msg);
	f->start += *ret_len + 1;
	f->scanned = f->start;
	return 1;
}

size_t varlink_framer_pending(const struct varlink_framer *f)
{
	return f->used - f->start;
}

size_t varlink_framer_room(const struct varlink_framer *f)
{
	if (f->broken)
		return 0;
	return f->max_message + 1 - (f->used - f->start);
}

/* Length of the UTF-8 sequence at s (at most left bytes), or 0 when it is
 * not well-formed: overlong forms, surrogates and code points above
 * U+10FFFF are rejected as RFC 3629 asks. */
static size_t utf8_sequence_length(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return c != 0;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Offset of the first byte that is not valid UTF-8 (a NUL included), or
 * len when all of s is valid. */
static size_t utf8_invalid_offset(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_sequence_length(u + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

static bool interface_segment_char(char c, bool first)
{
	if (isascii(c) && isalpha(c))
		return true;
	return !first && ((isascii(c) && isdigit(c)) || c == '-');
}

/* "org.example.Name": two or more segments, each starting with a letter. */
static bool interface_is_valid(const char *s, size_t len)
{
	size_t dots = 0;
	bool first = true;

	if (len == 0 || s[len - 1] == '.' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (first)
				return false;
			dots++;
			first = true;
			continue;
		}
		if (!interface_segment_char(s[i], first))
			return false;
		first = false;
	}
	return dots > 0;
}

/* A method or error name: an upper-case letter, then letters and digits. */
static bool member_is_valid(const char *s)
{
	if (!(isascii(*s) && isupper(*s)))
		return false;
	for (s++; *s; s++)
		if (!(isascii(*s) && isalnum(*s)))
			return false;
	return true;
}

bool varlink_method_name_is_valid(const char *name)
{
	const char *dot;
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, VARLINK_METHOD_NAME_MAX + 1);
	if (len > VARLINK_METHOD_NAME_MAX)
		return false;
	dot = strrchr(name, '.');
	return dot && interface_is_valid(name, (size_t)(dot - name)) && member_is_valid(dot + 1);
}

bool varlink_interface_name_is_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, VARLINK_METHOD_NAME_MAX + 1);
	return len <= VARLINK_METHOD_NAME_MAX && interface_is_valid(name, len);
}

/* Parse all of msg as one JSON value; whitespace may follow it. */
static int json_parse_whole(const char *msg, size_t len, struct json_object **ret, struct mt_error *err)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT32_MAX)
		return mt_error_set(err, -EBADMSG, "varlink message too long to parse");
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, msg, (int)len);
	jerr = json_tokener_get_error(tok);
	/* A bare literal or number ("null", "7") is only complete once its
	 * end is seen: give the tokener the end of the input. */
	if (jerr == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_success)
			return mt_error_set(err, -EBADMSG, "varlink message is truncated JSON");
		*ret = o;
		return 0;  /* not an object: the caller says so */
	}
	if (jerr != json_tokener_success)
		return mt_error_set(err, -EBADMSG, "varlink message is not valid JSON at byte %zu: %s",
				    json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (!strchr(" \t\r\n", msg[end])) {
			json_object_put(o);
			return mt_error_set(err, -EBADMSG,
					    "varlink message has data after its JSON object at byte %zu", end);
		}
	*ret = o;
	return 0;
}

/* Optional boolean key of a call or reply: absent is false. */
static int message_get_bool(struct json_object *o, const char *key, bool *ret, struct mt_error *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v) {
		*ret = false;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return mt_error_set(err, -EBADMSG, "varlink message: \"%s\" is not a boolean", key);
	*ret = json_object_get_boolean(v);
	return 0;
}

static int call_get_method(struct json_object *o, char *ret, struct mt_error *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, "method", &v) || !v)
		return mt_error_set(err, -EBADMSG, "varlink call has no \"method\"");
	if (!json_object_is_type(v, json_type_string))
		return mt_error_set(err, -EBADMSG, "varlink call: \"method\" is not a string");
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) > VARLINK_METHOD_NAME_MAX)
		return mt_error_set(err, -EBADMSG, "varlink call: method name longer than %d bytes",
				    VARLINK_METHOD_NAME_MAX);
	if (strlen(s) != (size_t)json_object_get_string_len(v) || !varlink_method_name_is_valid(s))
		return mt_error_set(err, -EBADMSG,
				    "varlink call: method \"%.64s\" is not of the form interface.Method", s);
	strcpy(ret, s);
	return 0;
}

static int message_get_parameters(struct json_object *o, struct json_object **ret, struct mt_error *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, "parameters", &v) || !v) {
		*ret = json_object_new_object();
		return *ret ? 0 : -ENOMEM;
	}
	if (!json_object_is_type(v, json_type_object))
		return mt_error_set(err, -EBADMSG, "varlink message: \"parameters\" is not an object");
	*ret = json_object_get(v);
	return 0;
}

/* The envelope shared by calls and replies: one JSON object in valid UTF-8. */
static int message_parse_object(const char *msg, size_t len, struct json_object **ret,
				struct mt_error *err)
{
	_cleanup_json_ struct json_object *o = NULL;
	size_t bad;
	int r;

	if (len == 0)
		return mt_error_set(err, -EBADMSG, "empty varlink message");
	bad = utf8_invalid_offset(msg, len);
	if (bad < len)
		return mt_error_set(err, -EBADMSG, "varlink message is not valid UTF-8 at byte %zu", bad);
	r = json_parse_whole(msg, len, &o, err);
	if (r < 0)
		return r;
	if (!json_object_is_type(o, json_type_object))
		return mt_error_set(err, -EBADMSG, "varlink message is not a JSON object but a %s",
				    json_type_to_name(json_object_get_type(o)));
	*ret = TAKE_PTR(o);
	return 0;
}

int varlink_call_parse(const char *msg, size_t len, struct varlink_call *ret, struct mt_error *err)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct varlink_call c = { 0 };
	int r;

	r = message_parse_object(msg, len, &o, err);
	if (r < 0)
		return r;
	r = call_get_method(o, c.method, err);
	if (r >= 0)
		r = message_get_bool(o, "more", &c.more, err);
	if (r >= 0)
		r = message_get_bool(o, "oneway", &c.oneway, err);
	if (r >= 0)
		r = message_get_bool(o, "upgrade", &c.upgrade, err);
	if (r >= 0 && c.more && c.oneway)
		r = mt_error_set(err, -EBADMSG, "varlink call sets both \"more\" and \"oneway\"");
	if (r >= 0)
		r = message_get_parameters(o, &c.parameters, err);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

void varlink_call_done(struct varlink_call *c)
{
	json_object_put(c->parameters);
	c->parameters = NULL;
}

int varlink_param_uint64(struct json_object *v, void *field, struct mt_error *err)
{
	if (json_object_get_int64(v) < 0)
		return mt_error_set(err, -EINVAL, "negative value for an unsigned parameter");
	*(uint64_t *)field = json_object_get_uint64(v);
	return 0;
}

static int param_default(json_type type, struct json_object *v, void *field, struct mt_error *err)
{
	switch (type) {
	case json_type_boolean:
		*(bool *)field = json_object_get_boolean(v);
		return 0;
	case json_type_int:
		/* json-c holds integers above INT64_MAX as uint64 and clamps them. */
		if (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) > INT64_MAX)
			return mt_error_set(err, -ERANGE, "integer out of range");
		*(int64_t *)field = json_object_get_int64(v);
		return 0;
	case json_type_double:
		*(double *)field = json_object_get_double(v);
		return 0;
	case json_type_string:
		*(const char **)field = json_object_get_string(v);
		return 0;
	case json_type_object:
	case json_type_array:
		*(struct json_object **)field = v;
		return 0;
	default:
		return mt_error_set(err, -EINVAL, "unsupported parameter type in table");
	}
}

static bool param_type_matches(json_type want, struct json_object *v)
{
	if (want == json_type_double && json_object_is_type(v, json_type_int))
		return true;
	return json_object_is_type(v, want);
}

static const struct varlink_param *param_find(const struct varlink_param *table, const char *name)
{
	for (; table && table->name; table++)
		if (streq(table->name, name))
			return table;
	return NULL;
}

/* Every key of parameters must be in table; returns the first that is not. */
static const char *params_find_unknown(const struct varlink_param *table, struct json_object *parameters)
{
	json_object_object_foreach(parameters, key, val) {
		(void)val;
		if (!param_find(table, key))
			return key;
	}
	return NULL;
}

static int param_decode_one(const struct varlink_param *p, struct json_object *parameters,
			    char *scratch, struct mt_error *err)
{
	struct mt_error why = { 0 };
	struct json_object *v = NULL;
	int r;

	if (parameters)
		json_object_object_get_ex(parameters, p->name, &v);
	if (!v) {
		if (p->required)
			return mt_error_set(err, -EINVAL, "parameter \"%s\" is missing", p->name);
		return 0;
	}
	if (!param_type_matches(p->type, v))
		return mt_error_set(err, -EINVAL, "parameter \"%s\" must be a %s, not a %s", p->name,
				    json_type_to_name(p->type), json_type_to_name(json_object_get_type(v)));
	if (p->parser)
		r = p->parser(v, scratch + p->offset, &why);
	else
		r = param_default(p->type, v, scratch + p->offset, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return mt_error_set(err, -EINVAL, "parameter \"%s\": %s", p->name, mt_error_message(&why, r));
	return 0;
}

int varlink_params_decode(const struct varlink_param *table, struct json_object *parameters,
			  void *ret, size_t size, const char **ret_bad_name, struct mt_error *err)
{
	_cleanup_free_ char *scratch = NULL;
	const char *unknown = NULL;
	int r;

	if (parameters && !json_object_is_type(parameters, json_type_object))
		return mt_error_set(err, -EINVAL, "parameters are not an object");
	if (parameters)
		unknown = params_find_unknown(table, parameters);
	if (unknown) {
		if (ret_bad_name)
			*ret_bad_name = unknown;
		return mt_error_set(err, -EINVAL, "unknown parameter \"%s\"", unknown);
	}
	scratch = malloc(size ? size : 1);
	if (!scratch)
		return -ENOMEM;
	memcpy(scratch, ret, size);
	for (const struct varlink_param *p = table; p && p->name; p++) {
		r = param_decode_one(p, parameters, scratch, err);
		if (r < 0) {
			if (ret_bad_name)
				*ret_bad_name = p->name;
			return r == -ENOMEM ? r : -EINVAL;
		}
	}
	memcpy(ret, scratch, size);
	return 0;
}

static int encode_message(struct json_object *o, char **ret, size_t *ret_len)
{
	const char *s;
	size_t len;
	char *p;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	if (!s)
		return -ENOMEM;
	p = malloc(len + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, s, len + 1);  /* json-c's string ends in the NUL we need */
	*ret = p;
	*ret_len = len + 1;
	return 0;
}

/* Add parameters, not consumed, or an empty object when NULL. */
static int add_parameters(struct json_object *o, struct json_object *parameters)
{
	if (parameters && !json_object_is_type(parameters, json_type_object))
		return -EINVAL;
	return mt_json_add(o, "parameters", parameters ? json_object_get(parameters) : json_object_new_object());
}

int varlink_reply(struct json_object *parameters, bool continues, char **ret, size_t *ret_len)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	r = add_parameters(o, parameters);
	if (r >= 0 && continues)
		r = mt_json_add_bool(o, "continues", true);
	if (r < 0)
		return r;
	return encode_message(o, ret, ret_len);
}

int varlink_error(const char *name, struct json_object *parameters, char **ret, size_t *ret_len)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	int r;

	if (!varlink_method_name_is_valid(name))
		return -EINVAL;
	if (!o)
		return -ENOMEM;
	r = mt_json_add_string(o, "error", name);
	if (r >= 0)
		r = add_parameters(o, parameters);
	if (r < 0)
		return r;
	return encode_message(o, ret, ret_len);
}

/* Encode error name, with parameters {key: value} when key is set, as
 * dispatch's answer (1); nothing for a oneway call. */
static int dispatch_error(const struct varlink_call *call, const char *name, const char *key,
			  const char *value, char **ret, size_t *ret_len)
{
	_cleanup_json_ struct json_object *p = NULL;
	int r;

	if (call->oneway) {
		*ret = NULL;
		*ret_len = 0;
		return 1;
	}
	p = json_object_new_object();
	if (!p)
		return -ENOMEM;
	if (key) {
		r = mt_json_add_string(p, key, value);
		if (r < 0)
			return r;
	}
	r = varlink_error(name, p, ret, ret_len);
	return r < 0 ? r : 1;
}

static const struct varlink_method *method_find(const struct varlink_method *table, const char *name,
						bool *ret_interface_known)
{
	size_t iface_len = (size_t)(strrchr(name, '.') - name);

	*ret_interface_known = false;
	for (; table->name; table++) {
		if (streq(table->name, name))
			return table;
		if (strncmp(table->name, name, iface_len) == 0 && table->name[iface_len] == '.' &&
		    !strchr(table->name + iface_len + 1, '.'))
			*ret_interface_known = true;
	}
	return NULL;
}

int varlink_dispatch(const struct varlink_method *table, const struct varlink_call *call,
		     bool privileged, void *userdata, char **ret_reply, size_t *ret_reply_len,
		     struct mt_error *err)
{
	const struct varlink_method *m;
	_cleanup_free_ void *params = NULL;
	const char *bad = NULL;
	bool iface_known;
	int r;

	m = method_find(table, call->method, &iface_known);
	if (!m && !iface_known) {
		_cleanup_free_ char *iface = strndup(call->method, (size_t)(strrchr(call->method, '.') - call->method));

		if (!iface)
			return -ENOMEM;
		return dispatch_error(call, VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", iface,
				      ret_reply, ret_reply_len);
	}
	if (!m)
		return dispatch_error(call, VARLINK_ERROR_METHOD_NOT_FOUND, "method", call->method,
				      ret_reply, ret_reply_len);
	if (!m->handler)
		return dispatch_error(call, VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, "method", call->method,
				      ret_reply, ret_reply_len);
	if ((m->flags & VARLINK_METHOD_PRIVILEGED) && !privileged)
		return dispatch_error(call, VARLINK_ERROR_PERMISSION_DENIED, NULL, NULL, ret_reply, ret_reply_len);
	if ((m->flags & VARLINK_METHOD_STREAMING) && !call->more)
		return dispatch_error(call, VARLINK_ERROR_EXPECTED_MORE, NULL, NULL, ret_reply, ret_reply_len);
	params = calloc(1, m->params_size ? m->params_size : 1);
	if (!params)
		return -ENOMEM;
	r = varlink_params_decode(m->params, call->parameters, params, m->params_size, &bad, err);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return dispatch_error(call, VARLINK_ERROR_INVALID_PARAMETER, "parameter", bad,
				      ret_reply, ret_reply_len);
	return m->handler(call, params, userdata);
}

static int reply_get_error(struct json_object *o, char **ret, struct mt_error *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, "error", &v) || !v) {
		*ret = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return mt_error_set(err, -EBADMSG, "varlink reply: \"error\" is not a string");
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) || !varlink_method_name_is_valid(s))
		return mt_error_set(err, -EBADMSG,
				    "varlink reply: error \"%.64s\" is not of the form interface.Error", s);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int varlink_reply_parse(const char *msg, size_t len, struct json_object **ret_parameters,
			char **ret_error, bool *ret_continues, struct mt_error *err)
{
	_cleanup_json_ struct json_object *o = NULL, *parameters = NULL;
	_cleanup_free_ char *error = NULL;
	bool continues;
	int r;

	r = message_parse_object(msg, len, &o, err);
	if (r >= 0)
		r = message_get_bool(o, "continues", &continues, err);
	if (r >= 0)
		r = reply_get_error(o, &error, err);
	if (r >= 0 && error && continues)
		r = mt_error_set(err, -EBADMSG, "varlink reply is an error that continues");
	if (r >= 0)
		r = message_get_parameters(o, &parameters, err);
	if (r < 0)
		return r;
	*ret_parameters = TAKE_PTR(parameters);
	*ret_error = TAKE_PTR(error);
	*ret_continues = continues;
	return 0;
}

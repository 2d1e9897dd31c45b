/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* varlink-call: call one varlink method and print its replies, for shell
 * tests and for poking at a running memtyped by hand.
 *
 *   varlink-call [OPTIONS] SOCKET METHOD [JSON]
 *     --more              ask for a stream of replies ("more": true)
 *     --count N           with --more: stop after N replies
 *     --timeout MS        per reply (default 5000)
 *     --string KEY=FILE   add parameter KEY with FILE's content as a string
 *                         (e.g. a domain XML; "-" reads stdin)
 *     --get KEY           print only the reply parameter KEY, strings as
 *                         their exact bytes with no newline added
 *
 * Every reply is printed on a line of its own, as it came on the wire:
 * {"parameters":{...}} or {"error":"NAME","parameters":{...}}, with
 * "continues":true on streamed replies. Exit status: 0 when the last reply
 * is not an error, 1 when it is, 2 on usage errors, 3 when the daemon
 * could not be reached or broke the protocol. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/fileio.h"
#include "common/json-util.h"
#include "daemon/varlink-client.h"

#define STRING_PARAM_MAX (16u << 20)

enum {
	EXIT_REPLY_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_TRANSPORT = 3,
};

struct options {
	bool more;
	unsigned long count;           /* 0: until the stream ends */
	uint64_t timeout_usec;
	const char *get;
	const char *socket;
	const char *method;
	struct json_object *parameters;
};

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "varlink-call: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: varlink-call [--more] [--count N] [--timeout MS] "
			"[--string KEY=FILE] [--get KEY] SOCKET METHOD [JSON]\n");
	return -EINVAL;
}

/* Read FILE ("-": stdin) into a string parameter KEY of o. */
static int add_string_param(struct json_object *o, const char *spec)
{
	_cleanup_free_ char *key = strdup(spec), *text = NULL;
	char *eq;
	size_t len;
	int r;

	if (!key)
		return -ENOMEM;
	eq = strchr(key, '=');
	if (!eq || eq == key)
		return usage("--string wants KEY=FILE, not '%s'", spec);
	*eq = '\0';
	r = read_file_bounded(streq(eq + 1, "-") ? "/dev/stdin" : eq + 1, STRING_PARAM_MAX,
			      &text, &len);
	if (r < 0) {
		fprintf(stderr, "varlink-call: %s: %s\n", eq + 1, strerror(-r));
		return r;
	}
	return mt_json_add(o, key, json_object_new_string_len(text, (int)len));
}

static int parse_number(const char *opt, const char *s, unsigned long *ret)
{
	uint64_t v;

	if (parse_u64(s, 10, &v) < 0 || v > 0xffffffffu)
		return usage("bad number for %s", opt);
	*ret = (unsigned long)v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o,
			 struct json_object *strings)
{
	static const struct option longopts[] = {
		{ "more", no_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "string", required_argument, NULL, 's' },
		{ "get", required_argument, NULL, 'g' },
		{}
	};
	unsigned long ms = 5000;
	int c, r = 0;

	while (r >= 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) >= 0) {
		switch (c) {
		case 'm': o->more = true; break;
		case 'c': r = parse_number("--count", optarg, &o->count); break;
		case 't': r = parse_number("--timeout", optarg, &ms); break;
		case 's': r = add_string_param(strings, optarg); break;
		case 'g': o->get = optarg; break;
		default: return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (argc - optind < 2 || argc - optind > 3)
		return usage("%s", "expected SOCKET METHOD [JSON]");
	o->timeout_usec = (uint64_t)ms * 1000;
	o->socket = argv[optind];
	o->method = argv[optind + 1];
	if (argc - optind == 3) {
		o->parameters = json_tokener_parse(argv[optind + 2]);
		if (!o->parameters || !json_object_is_type(o->parameters, json_type_object))
			return usage("parameters are not a JSON object: %s", argv[optind + 2]);
	} else {
		o->parameters = json_object_new_object();
		if (!o->parameters)
			return -ENOMEM;
	}
	json_object_object_foreach(strings, key, val)
		if (mt_json_add(o->parameters, key, json_object_get(val)) < 0)
			return -ENOMEM;
	return 0;
}

static void print_reply(const struct varlink_client_reply *reply, const char *get)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct json_object *v;

	if (get && !reply->error) {
		if (!json_object_object_get_ex(reply->parameters, get, &v))
			return;
		if (json_object_is_type(v, json_type_string))
			fwrite(json_object_get_string(v), 1, (size_t)json_object_get_string_len(v),
			       stdout);
		else
			puts(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		return;
	}
	o = json_object_new_object();
	if (!o)
		return;
	if (reply->error)
		(void)mt_json_add_string(o, "error", reply->error);
	(void)mt_json_add(o, "parameters", json_object_get(reply->parameters));
	if (reply->continues)
		(void)mt_json_add_bool(o, "continues", true);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Receive and print replies until the call ends (or --count is reached).
 * Returns the exit status. */
static int receive_replies(struct varlink_client *c, const struct options *o)
{
	unsigned long n = 0;
	bool error = false;

	for (;;) {
		struct varlink_client_reply reply = {};
		struct mt_error err = {};
		int r;

		r = varlink_client_recv(c, o->timeout_usec, &reply, &err);
		if (r < 0) {
			fprintf(stderr, "varlink-call: %s\n", mt_error_message(&err, r));
			return EXIT_TRANSPORT;
		}
		print_reply(&reply, o->get);
		fflush(stdout);
		error = reply.error != NULL;
		n++;
		if (!reply.continues || (o->count && n >= o->count)) {
			varlink_client_reply_done(&reply);
			return error ? EXIT_REPLY_ERROR : 0;
		}
		varlink_client_reply_done(&reply);
	}
}

int main(int argc, char **argv)
{
	_cleanup_json_ struct json_object *strings = json_object_new_object();
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct options o = {};
	struct mt_error err = {};
	int r, status;

	if (!strings)
		return EXIT_TRANSPORT;
	r = parse_options(argc, argv, &o, strings);
	if (r < 0) {
		json_object_put(o.parameters);
		return EXIT_USAGE;
	}
	r = varlink_client_connect(o.socket, o.timeout_usec, &c, &err);
	if (r >= 0)
		r = varlink_client_send(c, o.method, o.parameters,
					o.more ? VARLINK_CALL_MORE : 0, &err);
	json_object_put(o.parameters);
	if (r < 0) {
		fprintf(stderr, "varlink-call: %s\n", mt_error_message(&err, r));
		return EXIT_TRANSPORT;
	}
	status = receive_replies(c, &o);
	return status;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-get: print the values at a path of the JSON document on stdin, for
 * shell tests that must not depend on jq or python.
 *
 *   json-get PATH      PATH is '/'-separated steps:
 *     key              member of an object
 *     N                element N of an array
 *     key=value        the first array element whose member key is the
 *                      string (or number, boolean) value
 *     *                every element of an array (one output line each)
 *     #                the length of an array or object (last step only)
 *
 * Strings print raw, other values as plain JSON, one per line. Exit status:
 * 0 found, 1 path not found, 2 usage or bad JSON. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static int print_value(struct json_object *o)
{
	if (json_object_is_type(o, json_type_string))
		puts(json_object_get_string(o));
	else
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static bool member_matches(struct json_object *elem, const char *key, const char *value)
{
	struct json_object *m;

	if (!json_object_is_type(elem, json_type_object) ||
	    !json_object_object_get_ex(elem, key, &m))
		return false;
	if (json_object_is_type(m, json_type_string))
		return strcmp(json_object_get_string(m), value) == 0;
	return strcmp(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN), value) == 0;
}

static struct json_object *select_element(struct json_object *array, char *step)
{
	char *eq = strchr(step, '=');
	size_t n = json_object_array_length(array);
	char *end;
	unsigned long i;

	if (eq) {
		*eq = '\0';
		for (i = 0; i < n; i++)
			if (member_matches(json_object_array_get_idx(array, i), step, eq + 1))
				return json_object_array_get_idx(array, i);
		return NULL;
	}
	errno = 0;
	i = strtoul(step, &end, 10);
	if (errno || end == step || *end || i >= n)
		return NULL;
	return json_object_array_get_idx(array, i);
}

/* Walk path (modified in place) from o; prints what it finds and returns
 * the number of values printed. */
static int walk(struct json_object *o, char *path)
{
	char *slash, *step = path;
	struct json_object *next = NULL;
	int found = 0;

	if (!path || !*path)
		return print_value(o) == 0;
	slash = strchr(path, '/');
	if (slash)
		*slash = '\0';
	if (strcmp(step, "#") == 0 && !slash) {
		if (json_object_is_type(o, json_type_array))
			printf("%zu\n", json_object_array_length(o));
		else if (json_object_is_type(o, json_type_object))
			printf("%d\n", json_object_object_length(o));
		else
			return 0;
		return 1;
	}
	if (strcmp(step, "*") == 0 && json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			/* Each branch needs its own copy: walk() cuts the path. */
			char *rest = slash ? strdup(slash + 1) : NULL;

			if (slash && !rest)
				return found;
			found += walk(json_object_array_get_idx(o, i), rest);
			free(rest);
		}
		return found;
	}
	if (json_object_is_type(o, json_type_array))
		next = select_element(o, step);
	else if (json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, step, &next);
	if (!next)
		return 0;
	return walk(next, slash ? slash + 1 : NULL);
}

int main(int argc, char **argv)
{
	struct json_tokener *tok;
	struct json_object *doc;
	char buf[1 << 16];
	size_t len;
	int found;

	if (argc != 2) {
		fprintf(stderr, "usage: json-get PATH < FILE.json\n");
		return 2;
	}
	tok = json_tokener_new();
	doc = NULL;
	while ((len = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		doc = json_tokener_parse_ex(tok, buf, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_continue)
			break;
	}
	if (!doc) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		fprintf(stderr, "json-get: stdin is not JSON: %s\n",
			e == json_tokener_continue || e == json_tokener_success ?
				"unexpected end of input" : json_tokener_error_desc(e));
		json_tokener_free(tok);
		return 2;
	}
	json_tokener_free(tok);
	found = walk(doc, argv[1]);
	json_object_put(doc);
	return found > 0 ? 0 : 1;
}

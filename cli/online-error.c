/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/online-error.h"
#include "cli/output.h"
#include "common/json-util.h"
#include "common/macro.h"
#include "daemon/varlink.h"

const char *method_short_name(const char *method)
{
	const char *dot = strrchr(method, '.');

	return dot ? dot + 1 : method;
}

/* The varlink error replies memtypectl knows, each with its exit code and
 * the message it prints; the others are shown by name and parameters. */
struct error_map {
	const char *name;
	int exit_code;
	void (*describe)(const char *method, struct json_object *p, char *buf, size_t size);
};

static void describe_no_such_vm(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "no VM named %s", json_field_string(p, "name", "(unnamed)"));
}

static void describe_invalid_xml(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "invalid domain XML: %s",
		 json_field_string(p, "reason", "(no reason given)"));
}

static void describe_plan_refused(const char *method, struct json_object *p, char *buf, size_t size)
{
	const char *msg = json_field_string(p, "message", NULL);

	if (msg)
		snprintf(buf, size, "%s", msg);
	else
		snprintf(buf, size, "the plan of %s has errors; strict mode refuses it",
			 json_field_string(p, "name", "the VM"));
}

static void describe_permission(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "permission denied: %s needs root or the memtype group",
		 method_short_name(method));
}

static void describe_libvirt(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "libvirt (%s) is not available: %s", json_field_string(p, "uri", "?"),
		 json_field_string(p, "reason", "no reason given"));
}

static void describe_policy(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "the policy could not be loaded, the previous one stays in force: %s",
		 json_field_string(p, "reason", "no reason given"));
}

static void describe_host(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "memtyped cannot read the host: %s",
		 json_field_string(p, "reason", "no reason given"));
}

static void describe_limit(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "memtyped refused %s: limit of %" PRId64 " %s reached",
		 method_short_name(method), json_field_int(p, "limit", 0),
		 json_field_string(p, "what", "?"));
}

static void describe_failed(const char *method, struct json_object *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s failed: %s", method_short_name(method),
		 json_field_string(p, "reason", "no reason given"));
}

static void describe_not_implemented(const char *method, struct json_object *p, char *buf,
				     size_t size)
{
	snprintf(buf, size, "this memtyped does not implement %s", method_short_name(method));
}

static void describe_invalid_parameter(const char *method, struct json_object *p, char *buf,
				       size_t size)
{
	snprintf(buf, size, "memtyped rejected parameter '%s' of %s",
		 json_field_string(p, "parameter", "?"), method_short_name(method));
}

static const struct error_map error_map[] = {
	{ MANAGER_METHOD("NoSuchVM"), MT_EXIT_FAILURE, describe_no_such_vm },
	{ MANAGER_METHOD("InvalidXML"), MT_EXIT_BAD_INPUT, describe_invalid_xml },
	{ MANAGER_METHOD("PlanRefused"), MT_EXIT_PLAN_ERRORS, describe_plan_refused },
	{ MANAGER_METHOD("PolicyInvalid"), MT_EXIT_BAD_INPUT, describe_policy },
	{ MANAGER_METHOD("LibvirtUnavailable"), MT_EXIT_FAILURE, describe_libvirt },
	{ MANAGER_METHOD("HostUnavailable"), MT_EXIT_FAILURE, describe_host },
	{ MANAGER_METHOD("LimitReached"), MT_EXIT_FAILURE, describe_limit },
	{ MANAGER_METHOD("Failed"), MT_EXIT_FAILURE, describe_failed },
	{ VARLINK_ERROR_PERMISSION_DENIED, MT_EXIT_FAILURE, describe_permission },
	{ VARLINK_ERROR_METHOD_NOT_FOUND, MT_EXIT_FAILURE, describe_not_implemented },
	{ VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, MT_EXIT_FAILURE, describe_not_implemented },
	{ VARLINK_ERROR_INTERFACE_NOT_FOUND, MT_EXIT_FAILURE, describe_not_implemented },
	{ VARLINK_ERROR_INVALID_PARAMETER, MT_EXIT_FAILURE, describe_invalid_parameter },
};

int online_error_message(const char *method, const char *error, struct json_object *parameters,
			 char *buf, size_t size)
{
	for (size_t i = 0; i < ELEMENTSOF(error_map); i++)
		if (streq(error_map[i].name, error)) {
			error_map[i].describe(method, parameters, buf, size);
			return error_map[i].exit_code;
		}
	snprintf(buf, size, "%s failed with %s %s", method_short_name(method), error,
		 json_object_to_json_string_ext(
			 parameters, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return MT_EXIT_FAILURE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl's online verbs: status, vms, plan/explain NAME, apply, verify,
 * monitor, register, unregister, reload. Each is one call of the
 * io.memtype.Manager interface (daemon/io.memtype.Manager.varlink) whose
 * reply is printed as text or, with --json, as the JSON it came in. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/fileio.h"
#include "common/json-util.h"
#include "daemon/varlink-client.h"
#include "daemon/varlink.h"
#include "cli/hook.h"
#include "cli/online-error.h"
#include "memtypectl.h"
#include "policy/plan.h"

#define USEC_PER_SEC UINT64_C(1000000)
/* memtyped answers from memory; only a Plan of a libvirt domain it has no
 * record of waits for libvirt, which it bounds itself. */
#define CONNECT_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define CALL_TIMEOUT_USEC    (30 * USEC_PER_SEC)
/* A domain XML of a few KiB is usual; memtyped takes messages of 1 MiB. */
#define REGISTER_XML_MAX (1024 * 1024)



static void varlink_client_reply_donep(struct varlink_client_reply *r)
{
	varlink_client_reply_done(r);
}
#define _cleanup_reply_ _cleanup_(varlink_client_reply_donep)

static const char *socket_path(const struct cli_args *a)
{
	return a->socket ? a->socket : varlink_client_default_path();
}

/* ----- connecting and calling ---------------------------------------------- */

static int online_connect(const struct cli_args *a, struct varlink_client **ret)
{
	const char *path = socket_path(a);
	struct mt_error err = {};
	int r;

	r = varlink_client_connect(path, CONNECT_TIMEOUT_USEC, ret, &err);
	if (r == -ENOENT)
		return cli_error(MT_EXIT_NO_DAEMON, "memtyped is not running (no socket at %s)",
				 path);
	if (r == -ECONNREFUSED)
		return cli_error(MT_EXIT_NO_DAEMON,
				 "memtyped is not running (nothing listens on %s)", path);
	if (r < 0)
		return cli_error(MT_EXIT_NO_DAEMON, "cannot reach memtyped at %s: %s", path,
				 strerror(-r));
	return 0;
}


static int transport_error(const char *method, const struct mt_error *err, int r)
{
	if (r == -ETIMEDOUT)
		return cli_error(MT_EXIT_FAILURE, "memtyped did not answer %s in time",
				 method_short_name(method));
	if (r == -ECONNRESET || r == -EPIPE)
		return cli_error(MT_EXIT_FAILURE, "memtyped closed the connection during %s",
				 method_short_name(method));
	return cli_error(MT_EXIT_FAILURE, "%s: %s", method_short_name(method),
			 mt_error_message(err, r));
}

static int report_error_reply(const char *method, const struct varlink_client_reply *reply)
{
	struct json_object *errors = json_field_array(reply->parameters, "errors");
	char msg[1024];
	int code;

	code = online_error_message(method, reply->error, reply->parameters, msg, sizeof(msg));
	cli_error(code, "%s", msg);
	/* A refused plan: say which errors, the message may only count them. */
	for (size_t i = 0; errors && i < json_object_array_length(errors); i++)
		fprintf(stderr, "  %s\n",
			json_object_get_string(json_object_array_get_idx(errors, i)));
	return code;
}

/* Connect, call method with parameters (may be NULL) and check the reply.
 * Returns 0 with *ret filled, or an exit code after printing why. */
static int online_call(const struct cli_args *a, const char *method, struct json_object *parameters,
		       struct varlink_client_reply *ret)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct varlink_client_reply reply = {};
	struct mt_error err = {};
	int r;

	r = online_connect(a, &c);
	if (r != 0)
		return r;
	r = varlink_client_call(c, method, parameters, CALL_TIMEOUT_USEC, &reply, &err);
	if (r < 0)
		return transport_error(method, &err, r);
	if (r > 0) {
		r = report_error_reply(method, &reply);
		varlink_client_reply_done(&reply);
		return r;
	}
	*ret = reply;
	return 0;
}

/* One call whose parameters are just {"name": name}. */
static int online_call_name(const struct cli_args *a, const char *method, const char *name,
			    struct varlink_client_reply *ret)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();

	if (!p || mt_json_add_string(p, "name", name) < 0)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	return online_call(a, method, p, ret);
}

static int print_json_or_fail(struct json_object *o, enum json_mode mode)
{
	int r = output_json(o, mode);

	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the reply: %s", strerror(-r));
	return MT_EXIT_SUCCESS;
}

/* ----- formatting helpers --------------------------------------------------- */

static void format_timestamp(int64_t usec, char *buf, size_t size)
{
	time_t sec = (time_t)(usec / (int64_t)USEC_PER_SEC);
	struct tm tm;

	if (usec <= 0 || !localtime_r(&sec, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "unknown");
}

static void format_duration(uint64_t sec, char *buf, size_t size)
{
	if (sec >= 86400)
		snprintf(buf, size, "%" PRIu64 "d %" PRIu64 "h", sec / 86400, sec % 86400 / 3600);
	else if (sec >= 3600)
		snprintf(buf, size, "%" PRIu64 "h %" PRIu64 "min", sec / 3600, sec % 3600 / 60);
	else if (sec >= 60)
		snprintf(buf, size, "%" PRIu64 "min %" PRIu64 "s", sec / 60, sec % 60);
	else
		snprintf(buf, size, "%" PRIu64 "s", sec);
}

/* Join the strings of a JSON array with sep; "-" for none. */
static void join_strings(struct json_object *a, const char *sep, const char *prefix, char *buf,
			 size_t size)
{
	size_t n = a ? json_object_array_length(a) : 0, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s%s", i ? sep : "", prefix,
				json_object_get_string(json_object_array_get_idx(a, i)));
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

/* "0x202 (CD_NW_CLEARED, IGNORE_GUEST_PAT)", or "none". */
static void format_quirk_mask(uint64_t mask, char *buf, size_t size)
{
	const char *sep = " (";
	size_t len;

	if (mask == 0) {
		snprintf(buf, size, "none");
		return;
	}
	len = snprintf(buf, size, "0x%" PRIx64, mask);

	for (unsigned bit = 0; bit < 64 && len < size; bit++) {
		const char *name = kvm_quirk_name(bit);

		if (!(mask & (UINT64_C(1) << bit)))
			continue;
		if (name)
			len += snprintf(buf + len, size - len, "%s%s", sep, name);
		else
			len += snprintf(buf + len, size - len, "%sBIT_%u", sep, bit);
		sep = ", ";
	}
	if (len < size)
		snprintf(buf + len, size - len, ")");
}

/* ----- status ---------------------------------------------------------------- */

static void print_status_daemon(struct json_object *s)
{
	int64_t started = json_field_int(s, "started_usec", 0);
	char when[64], up[64] = "?";
	struct timespec now;

	format_timestamp(started, when, sizeof(when));
	if (started > 0 && clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    now.tv_sec >= started / (int64_t)USEC_PER_SEC)
		format_duration((uint64_t)(now.tv_sec - started / (int64_t)USEC_PER_SEC), up,
				sizeof(up));
	printf("Daemon:   memtyped %s, running since %s (%s)\n",
	       json_field_string(s, "version", "?"), when, up);
	printf("State:    %s\n", json_field_string(s, "state_file", "?"));
}

static void print_status_host(struct json_object *h)
{
	char quirks[512] = "unknown", when[64], reasons[1024];

	if (json_field_bool(h, "kvm_quirks_known", false))
		format_quirk_mask((uint64_t)json_field_int(h, "kvm_supported_quirks", 0), quirks,
				  sizeof(quirks));
	format_timestamp(json_field_int(h, "inventoried_usec", 0), when, sizeof(when));
	printf("Host:     %s, kernel %s, KVM %s\n", json_field_string(h, "cpu_vendor", "?"),
	       json_field_string(h, "kernel", "?"), yes_no(json_field_bool(h, "kvm", false)));
	printf("          KVM quirks supported: %s\n", quirks);
	printf("          %" PRId64 " PCI functions, %" PRId64 " IOMMU units, inventoried %s\n",
	       json_field_int(h, "functions", 0), json_field_int(h, "iommu_units", 0), when);
	if (json_field_bool(h, "partial", false)) {
		join_strings(json_field_array(h, "partial_reasons"), "; ", "", reasons,
			     sizeof(reasons));
		printf("          partial inventory: %s\n", reasons);
	}
}

static void print_status_policy(struct json_object *p)
{
	const char *last_error = json_field_string(p, "last_error", NULL);
	char files[1024];

	join_strings(json_field_array(p, "files"), ", ", "", files, sizeof(files));
	printf("Policy:   %s%s; files: %s\n", json_field_string(p, "mode", "?"),
	       json_field_bool(p, "strict", false) ? ", strict" : "",
	       streq(files, "-") ? "none (built-in defaults)" : files);
	if (last_error)
		printf("          last reload failed: %s\n", last_error);
}

/* memtype.ko as memtyped sees it: ABI, kernel, what it can do here. */
static void print_status_module(struct json_object *mod)
{
	char caps[512], state[256];

	if (!mod)
		return;
	if (!json_field_bool(mod, "loaded", false) || json_field_string(mod, "error", NULL)) {
		printf("Module:   %s\n", json_field_string(mod, "error", "memtype.ko is not loaded"));
		return;
	}
	join_strings(json_field_array(mod, "caps"), ", ", "", caps, sizeof(caps));
	join_strings(json_field_array(mod, "state"), ", ", "", state, sizeof(state));
	printf("Module:   memtype.ko ABI %" PRId64 ", built for %s; %s\n",
	       json_field_int(mod, "abi_version", 0), json_field_string(mod, "kernel", "?"),
	       streq(state, "-") ? "working" : state);
	printf("          can: %s\n", streq(caps, "-") ? "nothing on this kernel" : caps);
	printf("          %" PRId64 " VMs tracked, %" PRId64 " pending; %" PRId64
	       " VMs created since load, %" PRId64 " changed at creation\n",
	       json_field_int(mod, "vms", 0), json_field_int(mod, "pending", 0),
	       json_field_int(mod, "vms_created", 0), json_field_int(mod, "vms_applied", 0));
}

static void print_status_peers(struct json_object *s)
{
	struct json_object *lv = json_field_object(s, "libvirt");
	struct json_object *udev = json_field_object(s, "udev");
	struct json_object *ap = json_field_object(s, "applier");
	const char *err = json_field_string(lv, "last_error", NULL);

	if (!json_field_bool(lv, "enabled", false))
		printf("libvirt:  disabled\n");
	else
		printf("libvirt:  %s, %s, %" PRId64 " reconnects%s%s\n",
		       json_field_string(lv, "uri", "?"),
		       json_field_bool(lv, "connected", false) ? "connected" : "not connected",
		       json_field_int(lv, "reconnects", 0), err ? "; last error: " : "",
		       err ? err : "");
	if (json_field_bool(udev, "monitoring", false))
		printf("udev:     monitoring PCI hot-plug\n");
	else
		printf("udev:     not monitoring (%s)\n",
		       json_field_string(udev, "reason", "no reason given"));
	printf("Applier:  %s, %s%s%s\n", json_field_string(ap, "name", "?"),
	       json_field_bool(ap, "available", false) ? "available" : "unavailable",
	       *json_field_string(ap, "reason", "") ? ": " : "",
	       json_field_string(ap, "reason", ""));
	print_status_module(json_field_object(ap, "module"));
	printf("VMs:      %" PRId64 "\n", json_field_int(s, "vms", 0));
}

int verb_status(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	int r;

	r = online_call(args, MANAGER_METHOD("GetStatus"), NULL, &reply);
	if (r != 0)
		return r;
	if (args->json != JSON_OFF)
		return print_json_or_fail(reply.parameters, args->json);
	print_status_daemon(reply.parameters);
	print_status_host(json_field_object(reply.parameters, "host"));
	print_status_policy(json_field_object(reply.parameters, "policy"));
	print_status_peers(reply.parameters);
	return MT_EXIT_SUCCESS;
}

/* ----- vms ------------------------------------------------------------------- */

static int add_vm_row(struct table *t, struct json_object *vm)
{
	char quirks[256], warnings[512], errors[512];

	join_strings(json_field_array(vm, "disable_quirks"), ",", "", quirks, sizeof(quirks));
	join_strings(json_field_array(vm, "warnings"), ",", "", warnings, sizeof(warnings));
	join_strings(json_field_array(vm, "errors"), ",", "", errors, sizeof(errors));
	return table_add_rowf(
		t, json_field_string(vm, "name", "?"), json_field_string(vm, "state", "?"),
		json_field_string(vm, "apply", "?"), quirks,
		yes_no(json_field_bool(vm, "noncoherent_dma", false)), warnings, errors);
}

static int print_vms_table(struct json_object *vms)
{
	static const char *const headers[] = {
		"NAME", "STATE", "APPLY", "DISABLED-QUIRKS", "NONCOHERENT", "WARNINGS", "ERRORS",
	};
	size_t n = vms ? json_object_array_length(vms) : 0;
	_cleanup_(table_freep) struct table *t = NULL;

	if (n == 0) {
		printf("No VMs recorded.\n");
		return 0;
	}
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (add_vm_row(t, json_object_array_get_idx(vms, i)) < 0)
			return -ENOMEM;
	table_print(t, stdout);
	return 0;
}

int verb_vms(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	struct json_object *vms;
	int r;

	r = online_call(args, MANAGER_METHOD("ListVMs"), NULL, &reply);
	if (r != 0)
		return r;
	vms = json_field_array(reply.parameters, "vms");
	if (!vms)
		return cli_error(MT_EXIT_FAILURE, "memtyped's ListVMs reply has no 'vms' array");
	if (args->json != JSON_OFF)
		return print_json_or_fail(vms, args->json);
	if (print_vms_table(vms) < 0)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	return MT_EXIT_SUCCESS;
}

/* ----- one VM record: apply, verify, register ----------------------------- */

/* What the applier read back from the kernel, kept apart by who set it:
 * KVM's own defaults are not memtype's doing. */
static void print_readback(struct json_object *rb)
{
	char kvm[512], ours[512];

	if (!rb) {
		printf("In force:         unknown (nothing to read back from)\n");
		return;
	}
	format_quirk_mask((uint64_t)json_field_int(rb, "kvm_mask", 0), kvm, sizeof(kvm));
	format_quirk_mask((uint64_t)json_field_int(rb, "memtype_mask", 0), ours, sizeof(ours));
	printf("In force:         disabled by memtype %s, by KVM itself %s\n", ours, kvm);
	printf("                  %" PRId64 " non-coherent DMA device(s) registered with KVM\n",
	       json_field_int(rb, "noncoherent", 0));
}

static void print_vm_record(struct json_object *vm)
{
	const char *uuid = json_field_string(vm, "uuid", NULL);
	const char *reason = json_field_string(vm, "apply_reason", NULL);
	const char *phase = json_field_string(vm, "last_phase", NULL);
	int64_t pid = json_field_int(vm, "pid", 0);
	char quirks[512], warnings[512], errors[512], when[64];

	format_quirk_mask((uint64_t)json_field_int(vm, "disable_quirks_mask", 0), quirks,
			  sizeof(quirks));
	join_strings(json_field_array(vm, "warnings"), ", ", "", warnings, sizeof(warnings));
	join_strings(json_field_array(vm, "errors"), ", ", "", errors, sizeof(errors));
	format_timestamp(json_field_int(vm, "updated_usec", 0), when, sizeof(when));

	printf("VM:               %s%s%s%s\n", json_field_string(vm, "name", "?"), uuid ? " (" : "",
	       uuid ? uuid : "", uuid ? ")" : "");
	printf("Source:           %s\n", json_field_string(vm, "source", "?"));
	printf("State:            %s", json_field_string(vm, "state", "?"));
	if (pid > 0)
		printf(", pid %" PRId64, pid);
	printf("%s%s\n", phase ? ", last hook phase " : "", phase ? phase : "");
	printf("Apply:            %s%s%s\n", json_field_string(vm, "apply", "?"),
	       reason ? ": " : "", reason ? reason : "");
	printf("Disabled quirks:  %s\n", quirks);
	printf("Non-coherent DMA: %s\n", yes_no(json_field_bool(vm, "noncoherent_dma", false)));
	printf("Warnings:         %s\n", streq(warnings, "-") ? "none" : warnings);
	printf("Errors:           %s\n", streq(errors, "-") ? "none" : errors);
	print_readback(json_field_object(vm, "readback"));
	printf("Updated:          %s\n", when);
}

/* Print the record under key "vm" of a reply, or the whole reply in JSON. */
static int print_vm_reply(struct json_object *parameters, enum json_mode mode)
{
	struct json_object *vm = json_field_object(parameters, "vm");

	if (!vm)
		return cli_error(MT_EXIT_FAILURE, "memtyped's reply has no 'vm' record");
	if (mode != JSON_OFF)
		return print_json_or_fail(vm, mode);
	print_vm_record(vm);
	return MT_EXIT_SUCCESS;
}

int verb_apply(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	int r;

	r = online_call_name(args, MANAGER_METHOD("Apply"), argv[1], &reply);
	if (r != 0)
		return r;
	r = print_vm_reply(reply.parameters, args->json);
	if (r != 0)
		return r;
	/* The record was printed; a failed apply is still a failure. */
	if (streq(json_field_string(json_field_object(reply.parameters, "vm"), "apply", ""),
		  "failed"))
		return MT_EXIT_FAILURE;
	return MT_EXIT_SUCCESS;
}

static void print_verify_result(struct json_object *parameters)
{
	struct json_object *drift, *details = json_field_array(parameters, "details");
	size_t n = details ? json_object_array_length(details) : 0;

	if (!json_object_object_get_ex(parameters, "drift", &drift) || !drift)
		printf("Drift:            unknown (nothing can be read back)\n");
	else
		printf("Drift:            %s\n", yes_no(json_object_get_boolean(drift)));
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", json_object_get_string(json_object_array_get_idx(details, i)));
}

int verb_verify(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	struct json_object *vm;
	int r;

	r = online_call_name(args, MANAGER_METHOD("Verify"), argv[1], &reply);
	if (r != 0)
		return r;
	vm = json_field_object(reply.parameters, "vm");
	if (!vm)
		return cli_error(MT_EXIT_FAILURE, "memtyped's reply has no 'vm' record");
	if (args->json != JSON_OFF) {
		r = print_json_or_fail(reply.parameters, args->json);
		if (r != 0)
			return r;
	} else {
		print_vm_record(vm);
		print_verify_result(reply.parameters);
	}
	/* drift null: nothing could be read back, which is not drift. */
	return json_field_bool(reply.parameters, "drift", false) ? MT_EXIT_DRIFT : MT_EXIT_SUCCESS;
}

/* ----- plan NAME, explain NAME --------------------------------------------- */

static int print_plan_reply(struct json_object *parameters, const char *explanation,
			    enum json_mode mode)
{
	struct json_object *plan = json_field_object(parameters, "plan");
	int r;

	if (!plan)
		return cli_error(MT_EXIT_FAILURE, "memtyped's reply has no plan");
	r = plan_print(plan, explanation, mode);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the plan: %s", strerror(-r));
	return plan_json_has_errors(plan) ? MT_EXIT_PLAN_ERRORS : MT_EXIT_SUCCESS;
}

/* --root and --policy describe an offline plan; memtyped plans with its own
 * host and policy. */
static int check_online_plan_args(const char *verb, const struct cli_args *args)
{
	if (args->given & (OPT_ROOT | OPT_POLICY))
		return cli_error(MT_EXIT_USAGE,
				 "'%s NAME' asks memtyped, which uses its own host and policy; "
				 "--root and --policy go with --xml FILE",
				 verb);
	return 0;
}

int verb_plan_online(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	int r;

	r = check_online_plan_args(argv[0], args);
	if (r != 0)
		return r;
	r = online_call_name(args, MANAGER_METHOD("Plan"), argv[1], &reply);
	if (r != 0)
		return r;
	return print_plan_reply(reply.parameters, NULL, args->json);
}

int verb_explain_online(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	const char *text;
	int r;

	r = check_online_plan_args(argv[0], args);
	if (r != 0)
		return r;
	r = online_call_name(args, MANAGER_METHOD("Explain"), argv[1], &reply);
	if (r != 0)
		return r;
	text = json_field_string(reply.parameters, "text", NULL);
	if (!text)
		return cli_error(MT_EXIT_FAILURE, "memtyped's Explain reply has no text");
	return print_plan_reply(reply.parameters, text, args->json);
}

/* ----- register, unregister, reload ---------------------------------------- */

static int parse_pid_option(const char *s, int64_t *ret)
{
	uint64_t v;

	if (parse_u64(s, 10, &v) < 0 || v == 0 || v > INT32_MAX)
		return cli_error(MT_EXIT_USAGE, "--pid: '%s' is not a process id", s);
	*ret = (int64_t)v;
	return 0;
}

static int register_parameters(const char *path, const struct cli_args *args,
			       struct json_object **ret)
{
	_cleanup_json_ struct json_object *p = NULL;
	_cleanup_free_ char *xml = NULL;
	int64_t pid = 0;
	size_t len;
	int r;

	if (args->pid) {
		r = parse_pid_option(args->pid, &pid);
		if (r != 0)
			return r;
	}
	r = read_file_bounded(path, REGISTER_XML_MAX, &xml, &len);
	if (r == -EFBIG)
		return cli_error(MT_EXIT_BAD_INPUT, "domain XML %s is larger than %d bytes", path,
				 REGISTER_XML_MAX);
	if (r < 0)
		return cli_error(MT_EXIT_BAD_INPUT, "cannot read domain XML %s: %s", path,
				 strerror(-r));
	if (strlen(xml) != len)
		return cli_error(MT_EXIT_BAD_INPUT, "domain XML %s contains a NUL byte", path);
	p = json_object_new_object();
	if (!p || mt_json_add_string(p, "xml", xml) < 0 ||
	    (pid > 0 && mt_json_add(p, "pid", json_object_new_int64(pid)) < 0))
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	*ret = TAKE_PTR(p);
	return 0;
}

int verb_register(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	_cleanup_json_ struct json_object *p = NULL;
	int r;

	r = register_parameters(argv[1], args, &p);
	if (r != 0)
		return r;
	r = online_call(args, MANAGER_METHOD("Register"), p, &reply);
	if (r != 0)
		return r;
	return print_vm_reply(reply.parameters, args->json);
}

int verb_unregister(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};

	return online_call_name(args, MANAGER_METHOD("Unregister"), argv[1], &reply);
}

int verb_reload(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	struct json_object *policy;
	int r;

	r = online_call(args, MANAGER_METHOD("Reload"), NULL, &reply);
	if (r != 0)
		return r;
	policy = json_field_object(reply.parameters, "policy");
	if (args->json != JSON_OFF)
		return print_json_or_fail(policy ? policy : reply.parameters, args->json);
	printf("Policy reloaded: mode %s%s.\n", json_field_string(policy, "mode", "?"),
	       json_field_bool(policy, "strict", false) ? ", strict" : "");
	return MT_EXIT_SUCCESS;
}

/* ----- monitor ----------------------------------------------------------------- */

static void print_event(struct json_object *e)
{
	const char *vm = json_field_string(e, "vm", NULL);
	int64_t usec = json_field_int(e, "time_usec", 0);
	char when[64];

	format_timestamp(usec, when, sizeof(when));
	printf("%s.%03" PRId64 " %s %s%s%s: %s\n", when, usec / 1000 % 1000,
	       json_field_string(e, "subject", "?"), json_field_string(e, "action", "?"),
	       vm ? " " : "", vm ? vm : "", json_field_string(e, "message", ""));
}

/* One reply of the stream: 0 to go on, 1 at its end, or an exit code. */
static int monitor_one(struct varlink_client *c, const struct cli_args *args)
{
	_cleanup_reply_ struct varlink_client_reply reply = {};
	struct json_object *event;
	struct mt_error err = {};
	int r;

	r = varlink_client_recv(c, 0, &reply, &err);
	if (r == -ECONNRESET)
		return cli_error(MT_EXIT_FAILURE, "memtyped closed the connection (stopped?)");
	if (r < 0)
		return transport_error(MANAGER_METHOD("Monitor"), &err, r);
	if (reply.error)
		return report_error_reply(MANAGER_METHOD("Monitor"), &reply);
	event = json_field_object(reply.parameters, "event");
	if (event && args->json != JSON_OFF)
		r = output_json(event, JSON_PLAIN); /* one object per line */
	else if (event)
		print_event(event);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the event: %s", strerror(-r));
	return reply.continues ? 0 : 1;
}

int verb_monitor(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	struct mt_error err = {};
	int r;

	/* Events as they come, also into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	r = online_connect(args, &c);
	if (r != 0)
		return r;
	r = varlink_client_send(c, MANAGER_METHOD("Monitor"), NULL, VARLINK_CALL_MORE, &err);
	if (r < 0)
		return transport_error(MANAGER_METHOD("Monitor"), &err, r);
	do
		r = monitor_one(c, args);
	while (r == 0);
	return r == 1 ? MT_EXIT_SUCCESS : r;
}

int verb_libvirt_hook(int argc, char **argv, const struct cli_args *args)
{
	return hook_main(argc - 1, argv + 1, args->socket);
}

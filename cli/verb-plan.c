/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl plan and explain: decide a libvirt domain's memory-type policy
 * on a host, offline, and show it as a table, as memtype.plan/1 JSON or as
 * the explanation built from the plan's trace. The table printer reads the
 * plan document, so plans from memtyped (verb-online.c) print the same. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "config/config.h"
#include "inventory/inventory.h"
#include "memtypectl.h"
#include "policy/plan.h"
#include "vm/vm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vm *, vm_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct operator_policy *, operator_policy_free);

/* Library messages usually name the file already; make sure they do. */
static int input_error(const char *path, const char *what, const struct mt_error *err, int r)
{
	const char *msg = mt_error_message(err, r);

	if (strstr(msg, path))
		return cli_error(MT_EXIT_BAD_INPUT, "%s", msg);
	return cli_error(MT_EXIT_BAD_INPUT, "%s %s: %s", what, path, msg);
}

static int load_vm(const char *path, struct vm **ret)
{
	struct mt_error err = {};
	int r;

	r = vm_parse_xml_file(path, ret, &err);
	if (r == -ENOMEM)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	if (r < 0)
		return input_error(path, "domain XML", &err, r);
	return 0;
}

/* --policy FILE: that file alone, which must exist. Otherwise the system
 * policy: the main file and the drop-ins, /etc masking /usr/lib. */
static int load_policy(const char *path, struct operator_policy **ret)
{
	static const char *const system_dirs[] = {
		POLICY_VENDOR_DROPIN_DIR, POLICY_DROPIN_DIR, NULL,
	};
	static const char *const no_dirs[] = { NULL };
	struct mt_error err = {};
	int r;

	if (path && access(path, R_OK) < 0)
		return cli_error(MT_EXIT_BAD_INPUT, "cannot read policy file %s: %m", path);
	r = policy_load(path ? path : POLICY_MAIN_FILE, path ? no_dirs : system_dirs, ret, &err);
	if (r == -ENOMEM)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	if (r < 0)
		return input_error(path ? path : POLICY_MAIN_FILE, "policy", &err, r);
	return 0;
}

static int check_plan_args(int argc, char **argv, const struct cli_args *a)
{
	if (argc > 1 && a->xml)
		return cli_error(MT_EXIT_USAGE, "'%s' takes a VM name or --xml FILE, not both", argv[0]);
	if (!a->xml)
		return cli_error(MT_EXIT_USAGE, "'%s' needs --xml FILE (see --help)", argv[0]);
	return 0;
}

/* Read host, VM and policy, and decide. Returns 0 or an exit code. */
static int make_plan(int argc, char **argv, const struct cli_args *a, struct plan **ret)
{
	int r = check_plan_args(argc, argv, a);

	if (r != 0)
		return r;
	return cli_make_plan(a, ret);
}

int cli_make_plan(const struct cli_args *a, struct plan **ret)
{
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_(vm_freep) struct vm *vm = NULL;
	_cleanup_(operator_policy_freep) struct operator_policy *pol = NULL;
	_cleanup_free_ struct plan *p = NULL;
	int r;

	r = load_vm(a->xml, &vm);
	if (r != 0)
		return r;
	r = load_policy(a->policy, &pol);
	if (r != 0)
		return r;
	r = cli_read_host(a, &h);
	if (r != 0)
		return r;
	p = malloc(sizeof(*p));
	if (!p)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	r = policy_decide(h, vm, pol, p);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot plan %s: %s", a->xml, strerror(-r));
	*ret = TAKE_PTR(p);
	return 0;
}

/* ----- the plan as a table, from its memtype.plan/1 document ---------------
 * Printing from the document rather than from struct plan lets a plan that
 * came from memtyped print exactly like one made here. */

static void format_bar(struct json_object *b, char *buf, size_t size)
{
	int64_t index = json_field_int(b, "index", -1);
	int64_t bytes = json_field_int(b, "size", 0);
	char sz[32] = "?";

	if (json_field_bool(b, "io", false)) {
		snprintf(buf, size, "%" PRId64 ":io", index);
		return;
	}
	if (bytes > 0)
		format_size((uint64_t)bytes, sz, sizeof(sz));
	snprintf(buf, size, "%" PRId64 ":%s%s %s%s", index, sz,
		 json_field_bool(b, "prefetchable", false) ? "(p)" : "",
		 json_field_string(b, "memtype", "?"),
		 json_field_bool(b, "wc_possible", false) ? ",wc" : "");
}

static void format_device_bars(struct json_object *d, char *buf, size_t size)
{
	struct json_object *bars = json_field_array(d, "bars");
	size_t n = bars ? json_object_array_length(bars) : 0, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		char one[96];

		format_bar(json_object_array_get_idx(bars, i), one, sizeof(one));
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", one);
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

static const char *device_name(struct json_object *d)
{
	const char *s = json_field_string(d, "bdf", NULL);

	if (s)
		return s;
	s = json_field_string(d, "mdev_uuid", NULL);
	if (s)
		return s;
	return streq(json_field_string(d, "kind", ""), "interface-pool") ? "(pool VF)" : "?";
}

static int add_plan_device_row(struct table *t, struct json_object *d)
{
	const char *id = "not found";
	char bars[512];

	if (json_field_bool(d, "found", false))
		id = json_field_string(d, "id", "?");
	format_device_bars(d, bars, sizeof(bars));
	return table_add_rowf(t, device_name(d), id, json_field_string(d, "iommu_unit", NULL),
			      json_field_tristate(d, "snoop_control"),
			      yes_no(!json_field_bool(d, "noncoherent", false)),
			      json_field_tristate(d, "nosnoop_enabled"), bars);
}

static int print_plan_devices(struct json_object *plan)
{
	static const char *const headers[] = {
		"DEVICE", "ID", "UNIT", "SC", "COHERENT", "NOSNOOP", "BARS (memtype)",
	};
	struct json_object *devices = json_field_array(plan, "devices");
	size_t n = devices ? json_object_array_length(devices) : 0;
	_cleanup_(table_freep) struct table *t = NULL;

	if (n == 0) {
		printf("No assigned devices.\n");
		return 0;
	}
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (add_plan_device_row(t, json_object_array_get_idx(devices, i)) < 0)
			return -ENOMEM;
	table_print(t, stdout);
	return 0;
}

static int add_plan_emulated_row(struct table *t, struct json_object *e)
{
	int64_t bytes = json_field_int(e, "size", 0);
	char sz[32] = "?";

	if (bytes > 0)
		format_size((uint64_t)bytes, sz, sizeof(sz));
	return table_add_rowf(t, json_field_string(e, "device", "?"),
			      json_field_string(e, "model", "?"), json_field_string(e, "region", "?"),
			      sz, json_field_string(e, "memtype", "?"),
			      yes_no(json_field_bool(e, "wc_possible", false)));
}

static int print_plan_emulated(struct json_object *plan)
{
	static const char *const headers[] = {
		"EMULATED", "MODEL", "REGION", "SIZE", "MEMTYPE", "WC",
	};
	struct json_object *emulated = json_field_array(plan, "emulated");
	size_t n = emulated ? json_object_array_length(emulated) : 0;
	_cleanup_(table_freep) struct table *t = NULL;

	if (n == 0)
		return 0;
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (add_plan_emulated_row(t, json_object_array_get_idx(emulated, i)) < 0)
			return -ENOMEM;
	printf("\n");
	table_print(t, stdout);
	return 0;
}

static int print_plan_quirks(struct json_object *plan)
{
	static const char *const headers[] = { "QUIRK", "BIT", "ACTION", "REASON" };
	struct json_object *quirks = json_field_array(plan, "quirks");
	size_t n = quirks ? json_object_array_length(quirks) : 0;
	_cleanup_(table_freep) struct table *t = NULL;

	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(quirks, i);
		char bit[24];

		snprintf(bit, sizeof(bit), "%" PRId64, json_field_int(q, "bit", -1));
		if (table_add_rowf(t, json_field_string(q, "name", "?"), bit,
				   json_field_string(q, "action", "?"),
				   json_field_string(q, "reason", "")) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	printf("Disable mask: %s\n", json_field_string(plan, "disable_quirks_mask", "?"));
	return 0;
}

static void print_diags(const char *title, struct json_object *diags)
{
	size_t n = diags ? json_object_array_length(diags) : 0;

	printf("\n%s:%s\n", title, n ? "" : " none");
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(diags, i);

		printf("  %s: %s\n", json_field_string(d, "code", "?"),
		       json_field_string(d, "message", ""));
	}
}

/* The plan document lists supported quirks by name ("BIT_n" for bits this
 * build does not know); the table shows the mask. */
static bool quirk_names_to_mask(struct json_object *names, uint64_t *ret)
{
	size_t n = names ? json_object_array_length(names) : 0;
	uint64_t mask = 0;

	if (!names)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(names, i));
		unsigned bit;
		int r;

		if (s && sscanf(s, "BIT_%u", &bit) == 1 && bit < 64) {
			mask |= 1ULL << bit;
			continue;
		}
		r = s ? kvm_quirk_from_name(s) : -EINVAL;
		if (r < 0)
			return false;
		mask |= 1ULL << r;
	}
	*ret = mask;
	return true;
}

static void print_plan_header(struct json_object *plan)
{
	struct json_object *vm = json_field_object(plan, "vm");
	struct json_object *host = json_field_object(plan, "host");
	const char *name = json_field_string(vm, "name", "");
	const char *uuid = json_field_string(vm, "uuid", NULL);
	uint64_t supported;

	printf("VM:               %s%s%s%s\n", name[0] ? name : "(unnamed)",
	       uuid ? " (" : "", uuid ? uuid : "", uuid ? ")" : "");
	printf("Host:             %s, self-snoop %s, kernel %s, KVM quirks ",
	       json_field_string(host, "cpu_vendor", "unknown"),
	       yes_no(json_field_bool(host, "self_snoop", false)),
	       json_field_string(host, "kernel", "unknown"));
	if (json_field_bool(plan, "kvm_quirks_known", false) &&
	    quirk_names_to_mask(json_field_array(host, "kvm_supported_quirks"), &supported))
		printf("0x%" PRIx64 "\n", supported);
	else
		printf("unknown\n");
	printf("Policy:           %s%s\n", json_field_string(plan, "mode", "unknown"),
	       json_field_bool(plan, "strict", false) ? ", strict" : "");
	printf("Non-coherent DMA: %s\n\n", yes_no(json_field_bool(plan, "noncoherent_dma", false)));
}

int plan_print_table(struct json_object *plan)
{
	int r;

	print_plan_header(plan);
	r = print_plan_quirks(plan);
	if (r < 0)
		return r;
	printf("\n");
	r = print_plan_devices(plan);
	if (r < 0)
		return r;
	r = print_plan_emulated(plan);
	if (r < 0)
		return r;
	print_diags("Warnings", json_field_array(plan, "warnings"));
	print_diags("Errors", json_field_array(plan, "errors"));
	if (json_field_bool(plan, "truncated", false))
		printf("\nSome lists were too long and were cut short.\n");
	return 0;
}

bool plan_json_has_errors(struct json_object *plan)
{
	struct json_object *errors = json_field_array(plan, "errors");

	return errors && json_object_array_length(errors) > 0;
}

int plan_print(struct json_object *plan, const char *explanation, enum json_mode mode)
{
	if (mode == JSON_OFF)
		return explanation ? (fputs(explanation, stdout) == EOF ? -EIO : 0)
				   : plan_print_table(plan);
	if (explanation && mt_json_add_string(plan, "explanation", explanation) < 0)
		return -ENOMEM;
	return output_json(plan, mode);
}

static int print_plan(const struct plan *p, const char *explanation, enum json_mode mode)
{
	_cleanup_json_ struct json_object *o = NULL;
	int r;

	r = plan_to_json(p, &o);
	if (r < 0)
		return r;
	return plan_print(o, explanation, mode);
}

static int plan_exit_code(const struct plan *p)
{
	return plan_has_errors(p) ? MT_EXIT_PLAN_ERRORS : MT_EXIT_SUCCESS;
}

/* "plan NAME" (no --xml) asks memtyped about a VM it knows. */
static bool wants_daemon(int argc, const struct cli_args *args)
{
	return argc > 1 && !args->xml;
}

int verb_plan(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_free_ struct plan *p = NULL;
	int r;

	if (wants_daemon(argc, args))
		return verb_plan_online(argc, argv, args);
	r = make_plan(argc, argv, args, &p);
	if (r != 0)
		return r;
	r = print_plan(p, NULL, args->json);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the plan: %s", strerror(-r));
	return plan_exit_code(p);
}

/* The explanation; --json gives the plan document with it added as
 * "explanation", so a program gets the trace and the text together. */
int verb_explain(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_free_ struct plan *p = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	if (wants_daemon(argc, args))
		return verb_explain_online(argc, argv, args);
	r = make_plan(argc, argv, args, &p);
	if (r != 0)
		return r;
	r = plan_explain(p, &text);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot explain the plan: %s", strerror(-r));
	r = print_plan(p, text, args->json);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the explanation: %s", strerror(-r));
	return plan_exit_code(p);
}

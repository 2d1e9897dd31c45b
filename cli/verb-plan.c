/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl plan and explain: decide a libvirt domain's memory-type policy
 * on a host, offline, and show it as a table, as memtype.plan/1 JSON or as
 * the explanation built from the plan's trace. */
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
	if (argc > 1)
		return cli_error(MT_EXIT_NO_DAEMON,
				 "'%s %s' needs the memtyped daemon, which is not part of this build yet (use --xml FILE)",
				 argv[0], argv[1]);
	if (!a->xml)
		return cli_error(MT_EXIT_USAGE, "'%s' needs --xml FILE (see --help)", argv[0]);
	return 0;
}

/* Read host, VM and policy, and decide. Returns 0 or an exit code. */
static int make_plan(int argc, char **argv, const struct cli_args *a, struct plan **ret)
{
	_cleanup_(host_freep) struct host *h = NULL;
	_cleanup_(vm_freep) struct vm *vm = NULL;
	_cleanup_(operator_policy_freep) struct operator_policy *pol = NULL;
	_cleanup_free_ struct plan *p = NULL;
	int r;

	r = check_plan_args(argc, argv, a);
	if (r != 0)
		return r;
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

static void format_bar(const struct plan_bar *b, char *buf, size_t size)
{
	char sz[32] = "?";

	if (b->is_io) {
		snprintf(buf, size, "%u:io", b->index);
		return;
	}
	if (b->size)
		format_size(b->size, sz, sizeof(sz));
	snprintf(buf, size, "%u:%s%s %s%s", b->index, sz, b->prefetchable ? "(p)" : "",
		 bar_memtype_to_string(b->memtype), b->wc_possible ? ",wc" : "");
}

static void format_device_bars(const struct plan_device *d, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < d->n_bars && len < size; i++) {
		char one[96];

		format_bar(&d->bars[i], one, sizeof(one));
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", one);
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

static const char *device_name(const struct plan_device *d)
{
	if (d->bdf[0])
		return d->bdf;
	if (d->mdev_uuid[0])
		return d->mdev_uuid;
	return d->kind == PLAN_DEVICE_INTERFACE_POOL ? "(pool VF)" : "?";
}

static const char *tristate_short(enum mt_tristate t)
{
	return t == MT_UNKNOWN ? "?" : yes_no(t == MT_YES);
}

static int add_plan_device_row(struct table *t, const struct plan_device *d)
{
	char id[16] = "not found", bars[512];

	if (d->found)
		snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
	format_device_bars(d, bars, sizeof(bars));
	return table_add_rowf(t, device_name(d), id, d->iommu_unit[0] ? d->iommu_unit : NULL,
			      tristate_short(d->snoop_control), yes_no(!d->noncoherent),
			      tristate_short(d->nosnoop_enabled), bars);
}

static int print_plan_devices(const struct plan *p)
{
	static const char *const headers[] = {
		"DEVICE", "ID", "UNIT", "SC", "COHERENT", "NOSNOOP", "BARS (memtype)",
	};
	_cleanup_(table_freep) struct table *t = NULL;

	if (p->n_devices == 0) {
		printf("No assigned devices.\n");
		return 0;
	}
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_devices; i++)
		if (add_plan_device_row(t, &p->devices[i]) < 0)
			return -ENOMEM;
	table_print(t, stdout);
	return 0;
}

static int print_plan_emulated(const struct plan *p)
{
	static const char *const headers[] = {
		"EMULATED", "MODEL", "REGION", "SIZE", "MEMTYPE", "WC",
	};
	_cleanup_(table_freep) struct table *t = NULL;

	if (p->n_emulated == 0)
		return 0;
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_emulated; i++) {
		const struct plan_emulated *e = &p->emulated[i];
		char sz[32] = "?";

		if (e->size)
			format_size(e->size, sz, sizeof(sz));
		if (table_add_rowf(t, e->device, e->model, e->region, sz,
				   bar_memtype_to_string(e->memtype), yes_no(e->wc_possible)) < 0)
			return -ENOMEM;
	}
	printf("\n");
	table_print(t, stdout);
	return 0;
}

static int print_plan_quirks(const struct plan *p)
{
	static const char *const headers[] = { "QUIRK", "BIT", "ACTION", "REASON" };
	_cleanup_(table_freep) struct table *t = NULL;

	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_quirks; i++) {
		const struct plan_quirk *q = &p->quirks[i];
		const char *name = kvm_quirk_name(q->bit);
		char bit[8];

		snprintf(bit, sizeof(bit), "%u", q->bit);
		if (table_add_rowf(t, name ? name : "?", bit, quirk_action_to_string(q->action),
				   q->reason) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	printf("Disable mask: 0x%" PRIx64 "\n", p->disable_quirks_mask);
	return 0;
}

static void print_diags(const char *title, const struct plan_diag *d, unsigned n)
{
	printf("\n%s:%s\n", title, n ? "" : " none");
	for (unsigned i = 0; i < n; i++)
		printf("  %s: %s\n", d[i].code, d[i].message);
}

static void print_plan_header(const struct plan *p)
{
	printf("VM:               %s%s%s%s\n", p->vm_name[0] ? p->vm_name : "(unnamed)",
	       p->vm_uuid[0] ? " (" : "", p->vm_uuid, p->vm_uuid[0] ? ")" : "");
	printf("Host:             %s, self-snoop %s, kernel %s, KVM quirks ",
	       cpu_vendor_to_string(p->cpu_vendor), yes_no(p->self_snoop),
	       p->kernel[0] ? p->kernel : "unknown");
	if (p->kvm_quirks_known)
		printf("0x%" PRIx64 "\n", p->kvm_supported_quirks);
	else
		printf("unknown\n");
	printf("Policy:           %s%s\n", policy_mode_to_string(p->mode), p->strict ? ", strict" : "");
	printf("Non-coherent DMA: %s\n\n", yes_no(p->noncoherent_dma));
}

static int print_plan_table(const struct plan *p)
{
	int r;

	print_plan_header(p);
	r = print_plan_quirks(p);
	if (r < 0)
		return r;
	printf("\n");
	r = print_plan_devices(p);
	if (r < 0)
		return r;
	r = print_plan_emulated(p);
	if (r < 0)
		return r;
	print_diags("Warnings", p->warnings, p->n_warnings);
	print_diags("Errors", p->errors, p->n_errors);
	if (p->truncated)
		printf("\nSome lists were too long and were cut short.\n");
	return 0;
}

static int print_plan_json(const struct plan *p, const char *explanation, enum json_mode mode)
{
	_cleanup_json_ struct json_object *o = NULL;
	int r;

	r = plan_to_json(p, &o);
	if (r < 0)
		return r;
	if (explanation && mt_json_add_string(o, "explanation", explanation) < 0)
		return -ENOMEM;
	return output_json(o, mode);
}

static int plan_exit_code(const struct plan *p)
{
	return plan_has_errors(p) ? MT_EXIT_PLAN_ERRORS : MT_EXIT_SUCCESS;
}

int verb_plan(int argc, char **argv, const struct cli_args *args)
{
	_cleanup_free_ struct plan *p = NULL;
	int r;

	r = make_plan(argc, argv, args, &p);
	if (r != 0)
		return r;
	if (args->json != JSON_OFF)
		r = print_plan_json(p, NULL, args->json);
	else
		r = print_plan_table(p);
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

	r = make_plan(argc, argv, args, &p);
	if (r != 0)
		return r;
	r = plan_explain(p, &text);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot explain the plan: %s", strerror(-r));
	if (args->json != JSON_OFF)
		r = print_plan_json(p, text, args->json);
	else
		r = fputs(text, stdout) == EOF ? -EIO : 0;
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the explanation: %s", strerror(-r));
	return plan_exit_code(p);
}

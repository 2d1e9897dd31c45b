/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl inventory, devices and iommu: what memtype reads of a host
 * (the live one, a captured host root, or an lspci dump). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/json-util.h"
#include "inventory/inventory.h"
#include "memtypectl.h"
#include "policy/plan.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free);

static const char *host_input_name(const struct cli_args *a, char *buf, size_t size)
{
	if (a->lspci_dump)
		snprintf(buf, size, "lspci dump %s", a->lspci_dump);
	else if (a->root)
		snprintf(buf, size, "host root %s", a->root);
	else
		snprintf(buf, size, "the live host");
	return buf;
}

static bool is_live_root(const char *root)
{
	return !root || streq(root, "/");
}

int cli_read_host(const struct cli_args *a, struct host **ret)
{
	struct inventory_options o = {
		.root = a->root,
		.lspci_dump = a->lspci_dump,
		.probe_kvm = is_live_root(a->root) && !a->lspci_dump,
	};
	struct mt_error err = {};
	struct host *h = NULL;
	char what[4200];
	int r;

	r = inventory_read(&o, &h, &err);
	if (r < 0) {
		/* Anything the user named is bad input; the live host failing
		 * to read is a failure of the operation. */
		int code = (a->root || a->lspci_dump) && r != -ENOMEM ? MT_EXIT_BAD_INPUT
								       : MT_EXIT_FAILURE;
		return cli_error(code, "cannot read %s: %s",
				 host_input_name(a, what, sizeof(what)), mt_error_message(&err, r));
	}
	if (h->partial)
		cli_warn("the inventory of %s is partial (see its notes)",
			 host_input_name(a, what, sizeof(what)));
	*ret = h;
	return 0;
}

static void print_bar_summary(const struct pci_function *f, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < PCI_BAR_COUNT && len < size; i++) {
		const struct pci_bar *b = &f->bars[i];
		char sz[32];

		if (!b->present)
			continue;
		if (b->is_io)
			snprintf(sz, sizeof(sz), "io");
		else if (f->sizes_known && b->size)
			format_size(b->size, sz, sizeof(sz));
		else
			snprintf(sz, sizeof(sz), "mem");
		len += snprintf(buf + len, size - len, "%s%u:%s%s%s%s", len ? " " : "", i, sz,
				b->prefetchable ? "(p" : "",
				b->prefetchable && b->has_wc_file ? ",wc" : "",
				b->prefetchable ? ")" : "");
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

static const char *unit_snoop_control(const struct host *h, const struct pci_function *f)
{
	const struct iommu_unit *u;

	if (!f->iommu_unit[0])
		return "-";
	u = host_find_iommu_unit(h, f->iommu_unit);
	if (!u || !u->regs_valid)
		return "?";
	return yes_no(u->snoop_control);
}

static const char *tristate_short(enum mt_tristate t)
{
	return t == MT_UNKNOWN ? "?" : yes_no(t == MT_YES);
}

static int add_device_row(struct table *t, const struct host *h, const struct pci_function *f)
{
	char id[16], class[16], group[16], bars[256];

	snprintf(id, sizeof(id), "%04x:%04x", f->vendor_id, f->device_id);
	snprintf(class, sizeof(class), "%06x", (unsigned)f->class_code);
	if (f->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", f->iommu_group);
	else
		snprintf(group, sizeof(group), "-");
	print_bar_summary(f, bars, sizeof(bars));
	return table_add_rowf(t, f->bdf, id, class, f->driver[0] ? f->driver : NULL, group,
			      f->iommu_unit[0] ? f->iommu_unit : NULL, unit_snoop_control(h, f),
			      tristate_short(f->nosnoop_enabled), bars);
}

static int print_devices_table(const struct host *h)
{
	static const char *const headers[] = {
		"BDF", "ID", "CLASS", "DRIVER", "GROUP", "UNIT", "SC", "NOSNOOP", "BARS",
	};
	_cleanup_(table_freep) struct table *t = NULL;

	if (h->n_functions == 0) {
		printf("No PCI functions.\n");
		return 0;
	}
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_functions; i++)
		if (add_device_row(t, h, &h->functions[i]) < 0)
			return -ENOMEM;
	table_print(t, stdout);
	return 0;
}

static int add_unit_row(struct table *t, const struct iommu_unit *u)
{
	char cap[24] = "-", ecap[24] = "-", n[16];
	const char *sc = "?", *c = "-";

	if (u->regs_valid) {
		snprintf(cap, sizeof(cap), "0x%" PRIx64, u->cap);
		snprintf(ecap, sizeof(ecap), "0x%" PRIx64, u->ecap);
		sc = yes_no(u->snoop_control);
		/* The C bit is a VT-d register field; other kinds have none. */
		if (u->kind == IOMMU_KIND_INTEL_VTD)
			c = yes_no(u->pagewalk_coherent);
	} else if (u->kind == IOMMU_KIND_AMD_VI) {
		sc = yes_no(u->snoop_control);
	}
	snprintf(n, sizeof(n), "%zu", u->n_devices);
	return table_add_rowf(t, u->name, iommu_kind_to_string(u->kind), cap, ecap, sc, c, n);
}

static int print_iommu_table(const struct host *h)
{
	static const char *const headers[] = {
		"UNIT", "KIND", "CAP", "ECAP", "SC", "C", "DEVICES",
	};
	_cleanup_(table_freep) struct table *t = NULL;

	if (h->vfio_noiommu)
		printf("vfio no-IOMMU mode is enabled: its devices count as non-coherent.\n");
	if (h->amd_iommu_v2)
		printf("AMD-Vi uses v2 page tables: its coherency claim is not reliable.\n");
	if (h->n_iommu_units == 0 && !h->root[0]) {
		printf("IOMMU unknown: an lspci dump does not show it.\n");
		return 0;
	}
	if (h->n_iommu_units == 0) {
		printf("No IOMMU.\n");
		return 0;
	}
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_iommu_units; i++)
		if (add_unit_row(t, &h->iommu_units[i]) < 0)
			return -ENOMEM;
	table_print(t, stdout);
	return 0;
}

static void print_kvm_summary(const struct host *h)
{
	const struct host_kvm *k = &h->kvm;

	if (k->present == MT_UNKNOWN)
		printf("KVM:       unknown (no KVM state in this root)\n");
	else if (k->present == MT_NO)
		printf("KVM:       not present\n");
	else
		printf("KVM:       present%s%s%s, TDP %s\n", k->module[0] ? " (" : "", k->module,
		       k->module[0] ? ")" : "", k->tdp == MT_UNKNOWN ? "unknown" : yes_no(k->tdp == MT_YES));
	if (!k->quirks_known) {
		printf("Quirks:    unknown\n");
		return;
	}
	printf("Quirks:    0x%" PRIx64 " (from %s):", k->supported_quirks,
	       k->quirks_source[0] ? k->quirks_source : "?");
	for (unsigned b = 0; b < 64; b++) {
		const char *name;

		if (!(k->supported_quirks & (UINT64_C(1) << b)))
			continue;
		name = kvm_quirk_name(b);
		if (name)
			printf(" %s", name);
		else
			printf(" bit%u", b);
	}
	printf("\n");
}

static void print_host_summary(const struct host *h)
{
	if (h->partial)
		printf("PARTIAL INVENTORY: parts of the host could not be read (see the notes).\n\n");
	if (h->root[0])
		printf("Source:    %s of %s\n", h->source, h->root);
	else
		printf("Source:    %s\n", h->source);
	printf("Kernel:    %s (%s)\n", h->kernel_release[0] ? h->kernel_release : "unknown",
	       h->arch[0] ? h->arch : "unknown arch");
	printf("CPU:       %s", cpu_vendor_to_string(h->cpu.vendor));
	if (h->cpu.model_name[0])
		printf(", %s", h->cpu.model_name);
	if (h->cpu.family)
		printf(" (family %u model %u)", h->cpu.family, h->cpu.model);
	printf("; PAT %s, self-snoop %s\n", yes_no(h->cpu.pat), yes_no(h->cpu.self_snoop));
	print_kvm_summary(h);
	printf("IOMMU:     %zu unit%s\n", h->n_iommu_units, h->n_iommu_units == 1 ? "" : "s");
	printf("PCI:       %zu function%s\n", h->n_functions, h->n_functions == 1 ? "" : "s");
	if (h->n_notes > 0) {
		printf("Notes:\n");
		for (size_t i = 0; i < h->n_notes; i++)
			printf("  - %s\n", h->notes[i]);
	}
}

static int print_host_json(const struct host *h, const char *member, enum json_mode mode)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct json_object *part = NULL;
	int r;

	r = host_to_json(h, &o);
	if (r < 0)
		return r;
	if (member && !json_object_object_get_ex(o, member, &part))
		return -EPROTO;
	return output_json(member ? part : o, mode);
}

static int print_capture_json(const char *dir, enum json_mode mode)
{
	_cleanup_json_ struct json_object *o = NULL;

	o = json_object_new_object();
	if (!o || mt_json_add_string(o, "captured", dir) < 0)
		return cli_error(MT_EXIT_FAILURE, "out of memory");
	if (output_json(o, mode) < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the result");
	return MT_EXIT_SUCCESS;
}

static int capture_host(const struct cli_args *a)
{
	struct mt_error err = {};
	int r;

	if (a->root || a->lspci_dump)
		return cli_error(MT_EXIT_USAGE,
				 "--capture reads the live host: it cannot be combined with --root or --lspci-dump");
	r = inventory_capture(a->capture, &err);
	if (r == -EPERM)
		return cli_error(MT_EXIT_PARTIAL_REFUSED, "refusing to capture a partial inventory: %s",
				 mt_error_message(&err, r));
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot capture the live host into %s: %s",
				 a->capture, mt_error_message(&err, r));
	if (a->json == JSON_OFF) {
		printf("Captured the live host into %s; read it with: memtypectl inventory --root %s\n",
		       a->capture, a->capture);
		return MT_EXIT_SUCCESS;
	}
	return print_capture_json(a->capture, a->json);
}

/* Read the host, then print it with the table printer or as (a member of)
 * the host JSON. */
static int show_host(const struct cli_args *a, const char *json_member,
		     int (*print_table)(const struct host *h))
{
	_cleanup_(host_freep) struct host *h = NULL;
	int r;

	r = cli_read_host(a, &h);
	if (r != 0)
		return r;
	if (a->json != JSON_OFF)
		r = print_host_json(h, json_member, a->json);
	else
		r = print_table(h);
	if (r < 0)
		return cli_error(MT_EXIT_FAILURE, "cannot print the inventory: %s", strerror(-r));
	return MT_EXIT_SUCCESS;
}

static int print_inventory_table(const struct host *h)
{
	int r;

	print_host_summary(h);
	printf("\n");
	r = print_iommu_table(h);
	if (r < 0)
		return r;
	printf("\n");
	return print_devices_table(h);
}

int verb_inventory(int argc, char **argv, const struct cli_args *args)
{
	if (args->capture)
		return capture_host(args);
	return show_host(args, NULL, print_inventory_table);
}

int verb_devices(int argc, char **argv, const struct cli_args *args)
{
	return show_host(args, "devices", print_devices_table);
}

int verb_iommu(int argc, char **argv, const struct cli_args *args)
{
	return show_host(args, "iommu", print_iommu_table);
}

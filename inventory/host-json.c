/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host_to_json(): the memtype.host/1 document (memtypectl inventory --json).
 * Unknown values are JSON null, never a guessed default. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "common/macro.h"
#include "inventory.h"
#include "policy/plan.h"

#define HOST_SCHEMA "memtype.host/1"

static json_object *json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

/* NULL (JSON null) for "". */
static json_object *json_string_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *json_tristate(enum mt_tristate t)
{
	return t == MT_UNKNOWN ? NULL : json_object_new_boolean(t == MT_YES);
}

static json_object *cpu_to_json(const struct host *h)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "vendor", json_object_new_string(cpu_vendor_to_string(h->cpu.vendor)));
	json_object_object_add(o, "model_name", json_string_or_null(h->cpu.model_name));
	json_object_object_add(o, "family", h->cpu.family ? json_object_new_int64(h->cpu.family) : NULL);
	json_object_object_add(o, "model", h->cpu.vendor == CPU_VENDOR_INTEL || h->cpu.vendor == CPU_VENDOR_AMD
						   ? json_object_new_int64(h->cpu.model)
						   : NULL);
	json_object_object_add(o, "pat", json_object_new_boolean(h->cpu.pat));
	json_object_object_add(o, "self_snoop", json_object_new_boolean(h->cpu.self_snoop));
	return o;
}

static json_object *kernel_to_json(const struct host *h)
{
	json_object *o = json_object_new_object();
	char version[40];

	snprintf(version, sizeof(version), "%u.%u.%u", h->kernel.major, h->kernel.minor, h->kernel.patch);
	json_object_object_add(o, "release", json_string_or_null(h->kernel_release));
	json_object_object_add(o, "version", h->kernel.major ? json_object_new_string(version) : NULL);
	return o;
}

static json_object *kvm_to_json(const struct host_kvm *k)
{
	json_object *o = json_object_new_object();
	json_object *names = NULL;

	if (k->quirks_known) {
		names = json_object_new_array();
		for (unsigned bit = 0; bit < 64; bit++) {
			const char *name;
			char unknown[16];

			if (!(k->supported_quirks & (1ULL << bit)))
				continue;
			name = kvm_quirk_name(bit);
			if (!name) {
				/* a quirk newer than memtype: still say it is there */
				snprintf(unknown, sizeof(unknown), "BIT%u", bit);
				name = unknown;
			}
			json_object_array_add(names, json_object_new_string(name));
		}
	}
	json_object_object_add(o, "present", json_tristate(k->present));
	json_object_object_add(o, "module", json_string_or_null(k->module));
	json_object_object_add(o, "tdp", json_tristate(k->tdp));
	json_object_object_add(o, "supported_quirks", k->quirks_known ? json_hex(k->supported_quirks) : NULL);
	json_object_object_add(o, "supported_quirk_names", names);
	json_object_object_add(o, "quirks_source", json_string_or_null(k->quirks_source));
	return o;
}

static json_object *bdf_array(char (*bdfs)[MT_BDF_MAX], size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(bdfs[i]));
	return a;
}

static json_object *unit_to_json(const struct iommu_unit *u)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "kind", json_object_new_string(iommu_kind_to_string(u->kind)));
	json_object_object_add(o, "cap", u->regs_valid ? json_hex(u->cap) : NULL);
	json_object_object_add(o, "ecap", u->regs_valid ? json_hex(u->ecap) : NULL);
	json_object_object_add(o, "snoop_control",
			       u->regs_valid || u->kind == IOMMU_KIND_AMD_VI ? json_object_new_boolean(u->snoop_control) : NULL);
	json_object_object_add(o, "pagewalk_coherent",
			       u->regs_valid && u->kind == IOMMU_KIND_INTEL_VTD ? json_object_new_boolean(u->pagewalk_coherent) : NULL);
	json_object_object_add(o, "devices", bdf_array(u->devices, u->n_devices));
	return o;
}

static json_object *iommu_to_json(const struct host *h)
{
	json_object *o = json_object_new_object();
	json_object *units = json_object_new_array();

	for (size_t i = 0; i < h->n_iommu_units; i++)
		json_object_array_add(units, unit_to_json(&h->iommu_units[i]));
	json_object_object_add(o, "present", json_object_new_boolean(h->n_iommu_units > 0));
	json_object_object_add(o, "amd_v2_page_tables", json_object_new_boolean(h->amd_iommu_v2));
	json_object_object_add(o, "vfio_noiommu", json_object_new_boolean(h->vfio_noiommu));
	json_object_object_add(o, "units", units);
	return o;
}

static json_object *bar_to_json(const struct pci_function *f, unsigned i)
{
	const struct pci_bar *b = &f->bars[i];
	json_object *o = json_object_new_object();

	json_object_object_add(o, "index", json_object_new_int(i));
	json_object_object_add(o, "type", json_object_new_string(b->is_io ? "io" : "mem"));
	json_object_object_add(o, "start", json_hex(b->start));
	json_object_object_add(o, "size", f->sizes_known ? json_object_new_int64((int64_t)b->size) : NULL);
	json_object_object_add(o, "prefetchable", json_object_new_boolean(b->prefetchable));
	json_object_object_add(o, "64bit", json_object_new_boolean(b->is_64bit));
	json_object_object_add(o, "wc_file", json_object_new_boolean(b->has_wc_file));
	return o;
}

static json_object *msix_to_json(const struct pci_function *f)
{
	json_object *o;

	if (!f->has_msix)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "entries", json_object_new_int(f->msix_table_size));
	json_object_object_add(o, "table_bar", json_object_new_int(f->msix_table_bar));
	json_object_object_add(o, "table_offset", json_hex(f->msix_table_offset));
	json_object_object_add(o, "pba_bar", json_object_new_int(f->msix_pba_bar));
	json_object_object_add(o, "pba_offset", json_hex(f->msix_pba_offset));
	return o;
}

static json_object *sriov_to_json(const struct pci_function *f)
{
	json_object *o;

	if (!f->sriov_capable)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "total_vfs", json_object_new_int(f->sriov_total_vfs));
	json_object_object_add(o, "num_vfs", json_object_new_int(f->sriov_num_vfs));
	json_object_object_add(o, "vfs", bdf_array(f->virtfns, f->n_virtfns));
	return o;
}

static void add_ids(json_object *o, const struct pci_function *f)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%04x:%04x", f->vendor_id, f->device_id);
	json_object_object_add(o, "id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x", f->vendor_id);
	json_object_object_add(o, "vendor_id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x", f->device_id);
	json_object_object_add(o, "device_id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x:%04x", f->subsys_vendor_id, f->subsys_device_id);
	json_object_object_add(o, "subsystem", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%06x", f->class_code);
	json_object_object_add(o, "class", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%02x", f->revision);
	json_object_object_add(o, "revision", json_object_new_string(buf));
}

static json_object *function_to_json(const struct pci_function *f)
{
	json_object *o = json_object_new_object();
	json_object *bars = json_object_new_array();

	json_object_object_add(o, "bdf", json_object_new_string(f->bdf));
	add_ids(o, f);
	json_object_object_add(o, "driver", json_string_or_null(f->driver));
	json_object_object_add(o, "iommu_group", f->iommu_group >= 0 ? json_object_new_int(f->iommu_group) : NULL);
	json_object_object_add(o, "iommu_group_type", json_string_or_null(f->iommu_group_type));
	json_object_object_add(o, "iommu_unit", json_string_or_null(f->iommu_unit));
	json_object_object_add(o, "pcie", f->config_partial ? NULL : json_object_new_boolean(f->is_pcie));
	json_object_object_add(o, "nosnoop_enabled", json_tristate(f->nosnoop_enabled));
	json_object_object_add(o, "config_partial", json_object_new_boolean(f->config_partial));
	json_object_object_add(o, "sizes_known", json_object_new_boolean(f->sizes_known));
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++)
		if (f->bars[i].present)
			json_object_array_add(bars, bar_to_json(f, i));
	json_object_object_add(o, "bars", bars);
	json_object_object_add(o, "msix", msix_to_json(f));
	json_object_object_add(o, "sriov", sriov_to_json(f));
	json_object_object_add(o, "physfn", f->is_vf ? json_object_new_string(f->physfn) : NULL);
	return o;
}

int host_to_json(const struct host *h, struct json_object **ret)
{
	json_object *o, *notes, *devices;

	if (!h || !ret)
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	notes = json_object_new_array();
	for (size_t i = 0; i < h->n_notes; i++)
		json_object_array_add(notes, json_object_new_string(h->notes[i]));
	devices = json_object_new_array();
	for (size_t i = 0; i < h->n_functions; i++)
		json_object_array_add(devices, function_to_json(&h->functions[i]));
	json_object_object_add(o, "schema", json_object_new_string(HOST_SCHEMA));
	json_object_object_add(o, "root", json_string_or_null(h->root));
	json_object_object_add(o, "source", json_string_or_null(h->source));
	json_object_object_add(o, "partial", json_object_new_boolean(h->partial));
	json_object_object_add(o, "notes", notes);
	json_object_object_add(o, "kernel", kernel_to_json(h));
	json_object_object_add(o, "arch", json_string_or_null(h->arch));
	json_object_object_add(o, "cpu", cpu_to_json(h));
	json_object_object_add(o, "kvm", kvm_to_json(&h->kvm));
	json_object_object_add(o, "iommu", iommu_to_json(h));
	json_object_object_add(o, "devices", devices);
	*ret = o;
	return 0;
}

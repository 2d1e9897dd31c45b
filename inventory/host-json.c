/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host_to_json(): the memtype.host/1 document (memtypectl inventory --json).
 * Unknown values are JSON null, never a guessed default. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

#include "common/json-util.h"
#include "common/macro.h"
#include "inventory.h"
#include "policy/plan.h"

#define HOST_SCHEMA "memtype.host/1"

static int add_int64_if(json_object *o, const char *key, bool known, int64_t v)
{
	if (!known)
		return mt_json_add_null(o, key);
	return mt_json_add(o, key, json_object_new_int64(v));
}

static int add_int_if(json_object *o, const char *key, bool known, int v)
{
	if (!known)
		return mt_json_add_null(o, key);
	return mt_json_add(o, key, json_object_new_int(v));
}

static int add_bool_if(json_object *o, const char *key, bool known, bool v)
{
	if (!known)
		return mt_json_add_null(o, key);
	return mt_json_add_bool(o, key, v);
}

static int add_hex_if(json_object *o, const char *key, bool known, uint64_t v)
{
	if (!known)
		return mt_json_add_null(o, key);
	return mt_json_add_hex(o, key, v);
}

static json_object *cpu_to_json(const struct host *h)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	bool model_known = h->cpu.vendor == CPU_VENDOR_INTEL || h->cpu.vendor == CPU_VENDOR_AMD;

	if (!o || mt_json_add_string(o, "vendor", cpu_vendor_to_string(h->cpu.vendor)) < 0 ||
	    mt_json_add_string_or_null(o, "model_name", h->cpu.model_name) < 0 ||
	    add_int64_if(o, "family", h->cpu.family, h->cpu.family) < 0 ||
	    add_int64_if(o, "model", model_known, h->cpu.model) < 0 ||
	    mt_json_add_bool(o, "pat", h->cpu.pat) < 0 ||
	    mt_json_add_bool(o, "self_snoop", h->cpu.self_snoop) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *kernel_to_json(const struct host *h)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	char version[40];

	snprintf(version, sizeof(version), "%u.%u.%u", h->kernel.major, h->kernel.minor, h->kernel.patch);
	if (!o || mt_json_add_string_or_null(o, "release", h->kernel_release) < 0 ||
	    mt_json_add_string_or_null(o, "version", h->kernel.major ? version : NULL) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *quirk_names_to_json(uint64_t mask)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	for (unsigned bit = 0; a && bit < 64; bit++) {
		const char *name;
		char unknown[16];

		if (!(mask & (1ULL << bit)))
			continue;
		name = kvm_quirk_name(bit);
		if (!name) {
			/* a quirk newer than memtype: still say it is there */
			snprintf(unknown, sizeof(unknown), "BIT_%u", bit);
			name = unknown;
		}
		if (mt_json_append(a, json_object_new_string(name)) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static int add_quirk_names(json_object *o, const struct host_kvm *k)
{
	if (!k->quirks_known)
		return mt_json_add_null(o, "supported_quirk_names");
	return mt_json_add(o, "supported_quirk_names", quirk_names_to_json(k->supported_quirks));
}

static json_object *kvm_to_json(const struct host_kvm *k)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || mt_json_add_tristate(o, "present", k->present) < 0 ||
	    mt_json_add_string_or_null(o, "module", k->module) < 0 ||
	    mt_json_add_tristate(o, "tdp", k->tdp) < 0 ||
	    add_hex_if(o, "supported_quirks", k->quirks_known, k->supported_quirks) < 0 ||
	    add_quirk_names(o, k) < 0 ||
	    mt_json_add_string_or_null(o, "quirks_source", k->quirks_source) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *bdf_array(char (*bdfs)[MT_BDF_MAX], size_t n)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		if (mt_json_append(a, json_object_new_string(bdfs[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_object *unit_to_json(const struct iommu_unit *u)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	bool sc_known = u->regs_valid || u->kind == IOMMU_KIND_AMD_VI;
	bool pwc_known = u->regs_valid && u->kind == IOMMU_KIND_INTEL_VTD;

	if (!o || mt_json_add_string(o, "name", u->name) < 0 ||
	    mt_json_add_string(o, "kind", iommu_kind_to_string(u->kind)) < 0 ||
	    add_hex_if(o, "cap", u->regs_valid, u->cap) < 0 ||
	    add_hex_if(o, "ecap", u->regs_valid, u->ecap) < 0 ||
	    add_bool_if(o, "snoop_control", sc_known, u->snoop_control) < 0 ||
	    add_bool_if(o, "pagewalk_coherent", pwc_known, u->pagewalk_coherent) < 0 ||
	    mt_json_add(o, "devices", bdf_array(u->devices, u->n_devices)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *iommu_to_json(const struct host *h)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_json_ json_object *units = json_object_new_array();

	if (!o || !units)
		return NULL;
	for (size_t i = 0; i < h->n_iommu_units; i++)
		if (mt_json_append(units, unit_to_json(&h->iommu_units[i])) < 0)
			return NULL;
	if (mt_json_add_bool(o, "present", h->n_iommu_units > 0) < 0 ||
	    mt_json_add_bool(o, "amd_v2_page_tables", h->amd_iommu_v2) < 0 ||
	    mt_json_add_bool(o, "vfio_noiommu", h->vfio_noiommu) < 0 ||
	    mt_json_add(o, "units", TAKE_PTR(units)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *bar_to_json(const struct pci_function *f, unsigned i)
{
	const struct pci_bar *b = &f->bars[i];
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || mt_json_add(o, "index", json_object_new_int(i)) < 0 ||
	    mt_json_add_string(o, "type", b->is_io ? "io" : "mem") < 0 ||
	    mt_json_add_hex(o, "start", b->start) < 0 ||
	    add_int64_if(o, "size", f->sizes_known, (int64_t)b->size) < 0 ||
	    mt_json_add_bool(o, "prefetchable", b->prefetchable) < 0 ||
	    mt_json_add_bool(o, "64bit", b->is_64bit) < 0 ||
	    mt_json_add_bool(o, "wc_file", b->has_wc_file) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static int add_msix(json_object *parent, const struct pci_function *f)
{
	_cleanup_json_ json_object *o = NULL;

	if (!f->has_msix)
		return mt_json_add_null(parent, "msix");
	o = json_object_new_object();
	if (!o || mt_json_add(o, "entries", json_object_new_int(f->msix_table_size)) < 0 ||
	    mt_json_add(o, "table_bar", json_object_new_int(f->msix_table_bar)) < 0 ||
	    mt_json_add_hex(o, "table_offset", f->msix_table_offset) < 0 ||
	    mt_json_add(o, "pba_bar", json_object_new_int(f->msix_pba_bar)) < 0 ||
	    mt_json_add_hex(o, "pba_offset", f->msix_pba_offset) < 0)
		return -ENOMEM;
	return mt_json_add(parent, "msix", TAKE_PTR(o));
}

static int add_sriov(json_object *parent, const struct pci_function *f)
{
	_cleanup_json_ json_object *o = NULL;

	if (!f->sriov_capable)
		return mt_json_add_null(parent, "sriov");
	o = json_object_new_object();
	if (!o || mt_json_add(o, "total_vfs", json_object_new_int(f->sriov_total_vfs)) < 0 ||
	    mt_json_add(o, "num_vfs", json_object_new_int(f->sriov_num_vfs)) < 0 ||
	    mt_json_add(o, "vfs", bdf_array(f->virtfns, f->n_virtfns)) < 0)
		return -ENOMEM;
	return mt_json_add(parent, "sriov", TAKE_PTR(o));
}

static int add_ids(json_object *o, const struct pci_function *f)
{
	char id[16], vendor[8], device[8], subsystem[16], class[8], revision[4];

	snprintf(id, sizeof(id), "%04x:%04x", f->vendor_id, f->device_id);
	snprintf(vendor, sizeof(vendor), "%04x", f->vendor_id);
	snprintf(device, sizeof(device), "%04x", f->device_id);
	snprintf(subsystem, sizeof(subsystem), "%04x:%04x", f->subsys_vendor_id, f->subsys_device_id);
	snprintf(class, sizeof(class), "%06x", f->class_code);
	snprintf(revision, sizeof(revision), "%02x", f->revision);
	if (mt_json_add_string(o, "id", id) < 0 ||
	    mt_json_add_string(o, "vendor_id", vendor) < 0 ||
	    mt_json_add_string(o, "device_id", device) < 0 ||
	    mt_json_add_string(o, "subsystem", subsystem) < 0 ||
	    mt_json_add_string(o, "class", class) < 0 ||
	    mt_json_add_string(o, "revision", revision) < 0)
		return -ENOMEM;
	return 0;
}

static json_object *bars_to_json(const struct pci_function *f)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < PCI_BAR_COUNT; i++)
		if (f->bars[i].present && mt_json_append(a, bar_to_json(f, i)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_object *function_to_json(const struct pci_function *f)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "bdf", f->bdf) < 0 ||
	    add_ids(o, f) < 0 ||
	    mt_json_add_string_or_null(o, "driver", f->driver) < 0 ||
	    add_int_if(o, "iommu_group", f->iommu_group >= 0, f->iommu_group) < 0 ||
	    mt_json_add_string_or_null(o, "iommu_group_type", f->iommu_group_type) < 0 ||
	    mt_json_add_string_or_null(o, "iommu_unit", f->iommu_unit) < 0 ||
	    add_bool_if(o, "pcie", !f->config_partial, f->is_pcie) < 0 ||
	    mt_json_add_tristate(o, "nosnoop_enabled", f->nosnoop_enabled) < 0 ||
	    mt_json_add_bool(o, "config_partial", f->config_partial) < 0 ||
	    mt_json_add_bool(o, "sizes_known", f->sizes_known) < 0 ||
	    mt_json_add(o, "bars", bars_to_json(f)) < 0 ||
	    add_msix(o, f) < 0 ||
	    add_sriov(o, f) < 0 ||
	    (f->is_vf ? mt_json_add_string(o, "physfn", f->physfn) : mt_json_add_null(o, "physfn")) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *notes_to_json(const struct host *h)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < h->n_notes; i++)
		if (mt_json_append(a, json_object_new_string(h->notes[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_object *functions_to_json(const struct host *h)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < h->n_functions; i++)
		if (mt_json_append(a, function_to_json(&h->functions[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

int host_to_json(const struct host *h, struct json_object **ret)
{
	_cleanup_json_ json_object *o = NULL;

	if (!h || !ret)
		return -EINVAL;
	o = json_object_new_object();
	if (!o || mt_json_add_string(o, "schema", HOST_SCHEMA) < 0 ||
	    mt_json_add_string_or_null(o, "root", h->root) < 0 ||
	    mt_json_add_string_or_null(o, "source", h->source) < 0 ||
	    mt_json_add_bool(o, "partial", h->partial) < 0 ||
	    mt_json_add(o, "notes", notes_to_json(h)) < 0 ||
	    mt_json_add(o, "kernel", kernel_to_json(h)) < 0 ||
	    mt_json_add_string_or_null(o, "arch", h->arch) < 0 ||
	    mt_json_add(o, "cpu", cpu_to_json(h)) < 0 ||
	    mt_json_add(o, "kvm", kvm_to_json(&h->kvm)) < 0 ||
	    mt_json_add(o, "iommu", iommu_to_json(h)) < 0 ||
	    mt_json_add(o, "devices", functions_to_json(h)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

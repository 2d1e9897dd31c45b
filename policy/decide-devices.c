/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-device half of the decision: will KVM see non-coherent DMA (FACTS §2,
 * §11), which memory type each assigned BAR gets (FACTS §2, §3, §6), and
 * which type the RAM-backed regions of emulated devices get. */
#include <stdio.h>
#include <string.h>

#include "plan-internal.h"

/* The per-device coherency question exists from 6.2; before it KVM asked
 * the VFIO container (FACTS §2, §11). An unknown kernel counts as new. */
static bool per_device_coherency(const struct decide_ctx *c)
{
	return !c->kernel_known || kernel_version_cmp(&c->h->kernel, 6, 2) >= 0;
}

/* Bounded copy without padding: cheaper than snprintf on the hot path. */
static void set_text(char *dst, size_t size, const char *text)
{
	size_t n = 0;

	while (n + 1 < size && text[n]) {
		dst[n] = text[n];
		n++;
	}
	dst[n] = '\0';
}

#define set_reason(d, text) set_text((d)->reason, sizeof((d)->reason), (text))

static void coherency_unit_uncertain(struct decide_ctx *c, struct plan_device *d,
				     const char *kind)
{
	/* Registers unreadable or an IOMMU we cannot judge: assume the worse. */
	d->snoop_control = MT_UNKNOWN;
	d->noncoherent = true;
	set_reason(d, "IOMMU unit's snoop control unknown: assumed non-coherent");
	plan_warn(c->p, "coherency-uncertain",
		  "%s: cannot tell whether IOMMU unit %s enforces coherency; assuming it does not",
		  d->bdf, d->iommu_unit);
	plan_trace(c->p, "dma.unit-unknown", "FACTS §3",
		   "%s behind %s (%s): snoop control unknown, assumed non-coherent",
		   d->bdf, d->iommu_unit, kind);
}

static void coherency_amd_vi(struct decide_ctx *c, struct plan_device *d)
{
	d->snoop_control = MT_YES;
	d->noncoherent = false;
	set_reason(d, "AMD-Vi always enforces cache coherency (IOMMU_PTE_FC)");
	plan_trace(c->p, "dma.amdvi", "FACTS §2",
		   "%s behind %s: coherent (AMD-Vi reports enforced coherency)", d->bdf, d->iommu_unit);
	if (c->h->amd_iommu_v2)
		plan_warn(c->p, "coherency-uncertain",
			  "%s: AMD-Vi v2 page tables claim coherency they may not enforce", d->bdf);
}

static void coherency_vtd(struct decide_ctx *c, struct plan_device *d, bool sc)
{
	d->snoop_control = sc ? MT_YES : MT_NO;
	d->noncoherent = !sc;
	set_reason(d, sc ? "VT-d unit has Snoop Control (ecap bit 7): coherency enforced" :
		   "VT-d unit lacks Snoop Control (ecap bit 7): non-snooped DMA stays non-coherent");
	plan_trace(c->p, sc ? "dma.vtd.sc" : "dma.vtd.no-sc", "FACTS §2", "%s behind %s: %s",
		   d->bdf, d->iommu_unit,
		   sc ? "Snoop Control present, coherent" :
		   "no Snoop Control, KVM registers non-coherent DMA");
}

static void coherency_noiommu(struct decide_ctx *c, struct plan_device *d)
{
	const char *why = c->h->vfio_noiommu ? "vfio no-IOMMU mode" : "no IOMMU unit";

	d->noncoherent = true;
	d->snoop_control = MT_NO;
	set_reason(d, c->h->vfio_noiommu ? "vfio no-IOMMU mode: nothing enforces coherency" :
		   "not behind an IOMMU unit: nothing enforces coherency");
	plan_warn(c->p, "noiommu", "%s is assigned without an IOMMU (%s): its DMA is non-coherent and unisolated",
		  d->bdf, why);
	plan_trace(c->p, "dma.noiommu", "FACTS §2",
		   "%s: %s, so the device cannot enforce coherency: non-coherent (inference, UNVERIFIED)",
		   d->bdf, why);
}

static void coherency_of_function(struct decide_ctx *c, struct plan_device *d,
				  const struct device_settings *ds)
{
	const struct iommu_unit *u;
	char where[300];

	if (ds->noncoherent != MT_UNKNOWN) {
		d->noncoherent = ds->noncoherent == MT_YES;
		set_reason(d, d->noncoherent ? "operator rule: non-coherent" : "operator rule: coherent");
		plan_trace(c->p, "dma.operator", "FACTS §2", "%s: operator override, %s (%s)", d->bdf,
			   d->noncoherent ? "non-coherent" : "coherent",
			   policy_origin_format(ds->noncoherent_origin, where, sizeof(where)));
		return;
	}
	if (c->h->vfio_noiommu || !d->iommu_unit[0]) {
		coherency_noiommu(c, d);
		return;
	}
	u = host_find_iommu_unit(c->h, d->iommu_unit);
	if (u && u->kind == IOMMU_KIND_AMD_VI)
		coherency_amd_vi(c, d);
	else if (u && u->kind == IOMMU_KIND_INTEL_VTD && u->regs_valid)
		coherency_vtd(c, d, u->snoop_control);
	else
		coherency_unit_uncertain(c, d, u ? iommu_kind_to_string(u->kind) : "not in the inventory");
}

/* ----- BARs ------------------------------------------------------------ */

static bool bar_holds_msix(const struct pci_function *f, unsigned index)
{
	return f->has_msix && ((int)index == f->msix_table_bar || (int)index == f->msix_pba_bar);
}

/* Memory type and WC verdict of one BAR. Reasons are static: this runs for
 * every BAR of every decision. */
static void plan_one_bar(const struct decide_ctx *c, const struct pci_function *f,
			 unsigned index, bool wc_forbidden, struct plan_bar *b)
{
	const struct pci_bar *src = &f->bars[index];
	enum cpu_vendor v = c->h->cpu.vendor;

	b->index = index;
	b->size = src->size;
	b->is_io = src->is_io;
	b->prefetchable = src->prefetchable;
	b->is_64bit = src->is_64bit;
	b->wc_possible = false;
	if (src->is_io) {
		b->memtype = BAR_MEMTYPE_IO;
		b->reason = "I/O port BAR: no memory type";
		return;
	}
	if (v == CPU_VENDOR_ARM64) {
		if (c->kernel_known && kernel_version_cmp(&c->h->kernel, 6, 9) >= 0) {
			b->memtype = BAR_MEMTYPE_NORMAL_NC;
			b->wc_possible = src->prefetchable;
			b->reason = src->prefetchable ?
				"vfio-pci sets VM_ALLOW_ANY_UNCACHED: stage-2 Normal-NC, the guest picks" :
				"stage-2 Normal-NC, but non-prefetchable: reads may have side effects, no WC";
		} else {
			b->memtype = BAR_MEMTYPE_DEVICE;
			b->reason = c->kernel_known ? "arm64 before 6.9: stage-2 Device, no WC" :
				"kernel unknown: assuming stage-2 Device (pre-6.9), no WC";
		}
	} else if (v != CPU_VENDOR_INTEL && v != CPU_VENDOR_AMD) {
		b->memtype = BAR_MEMTYPE_UNKNOWN;
		b->reason = "memory types not modelled for this architecture";
		return;
	} else if (!src->prefetchable) {
		b->memtype = BAR_MEMTYPE_UC;
		b->reason = "non-prefetchable: reads may have side effects, UC";
	} else if (c->shadow_paging) {
		/* Shadow PTEs carry no guest PAT bits (FACTS §1.3). */
		b->memtype = BAR_MEMTYPE_UC;
		b->reason = "TDP off (shadow paging): KVM ignores guest PAT, host MTRRs keep MMIO UC, no WC";
	} else {
		b->memtype = BAR_MEMTYPE_GUEST_PAT;
		b->wc_possible = true;
		b->reason = "prefetchable host MMIO: EPT/NPT UC without IPAT, guest PAT may pick WC";
	}
	if (b->wc_possible && bar_holds_msix(f, index)) {
		b->wc_possible = false;
		b->reason = "holds the MSI-X table/PBA, trapped by the VMM: never WC";
	}
	if (b->wc_possible && wc_forbidden) {
		b->wc_possible = false;
		b->reason = "operator rule forbids write-combining on this device";
	}
}

static void plan_bars(struct decide_ctx *c, struct plan_device *d, const struct pci_function *f,
		      const struct device_settings *ds)
{
	bool wc_forbidden = ds->allow_wc == MT_NO;
	char where[300];

	d->n_bars = 0;
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++)
		if (f->bars[i].present)
			plan_one_bar(c, f, i, wc_forbidden, &d->bars[d->n_bars++]);
	if (wc_forbidden)
		plan_trace(c->p, "bar.operator.no-wc", "FACTS §6",
			   "%s: operator forbids write-combining on its BARs (%s)", d->bdf,
			   policy_origin_format(ds->allow_wc_origin, where, sizeof(where)));
}

/* ----- devices --------------------------------------------------------- */

static void plan_pci_device(struct decide_ctx *c, struct plan_device *d, const char *bdf)
{
	const struct pci_function *f = host_lookup_function(c->h, bdf);
	struct device_settings ds;

	if (!f) {
		set_text(d->bdf, sizeof(d->bdf), bdf);
		set_reason(d, "not in the host inventory: coherency unknown");
		plan_error(c->p, "device-not-found", "hostdev %s is not a PCI function of this host", bdf);
		return;
	}
	d->found = true;
	memcpy(d->bdf, f->bdf, sizeof(d->bdf));
	d->vendor_id = f->vendor_id;
	d->device_id = f->device_id;
	d->class_code = f->class_code;
	set_text(d->iommu_unit, sizeof(d->iommu_unit), f->iommu_unit);
	d->nosnoop_enabled = f->nosnoop_enabled;
	policy_device_settings(c->pol, f, &ds);

	if (!c->x86) {
		set_reason(d, "the x86 non-coherent-DMA machinery of KVM does not apply here");
		plan_trace(c->p, "dma.not-x86", "FACTS §2",
			   "%s: KVM's non-coherent DMA tracking is x86-only; nothing to predict on %s",
			   d->bdf, cpu_vendor_to_string(c->h->cpu.vendor));
	} else
		coherency_of_function(c, d, &ds);
	if (f->nosnoop_enabled == MT_YES)
		plan_warn(c->p, "nosnoop-enabled",
			  "%s has PCIe No-Snoop enabled; the guest controls that bit, so treat its DMA as possibly non-snooped",
			  d->bdf);
	plan_bars(c, d, f, &ds);
}

static void plan_mdev(struct decide_ctx *c, struct plan_device *d, const struct vm_hostdev *hd)
{
	set_text(d->mdev_uuid, sizeof(d->mdev_uuid), hd->mdev_uuid);
	if (!c->x86) {
		set_reason(d, "the x86 non-coherent-DMA machinery of KVM does not apply here");
		return;
	}
	if (per_device_coherency(c)) {
		d->noncoherent = true;
		set_reason(d, "mediated device has no IOMMU capability: non-coherent (inference, UNVERIFIED)");
		plan_trace(c->p, "dma.mdev", "FACTS §2",
			   "mdev %s: per-device check finds no enforced coherency: non-coherent (inference, UNVERIFIED)",
			   d->mdev_uuid);
	} else {
		set_reason(d, "kernel <= 6.1 asks the VFIO container: an mdev adds no IOMMU domain, coherent");
		plan_trace(c->p, "dma.mdev.container", "FACTS §11",
			   "mdev %s: on <= 6.1 the container answer ignores mdevs (empty domain list is coherent)",
			   d->mdev_uuid);
	}
}

static void plan_pool(struct decide_ctx *c, struct plan_device *d, const struct vm_hostdev *hd)
{
	set_reason(d, "VF not chosen yet: libvirt picks it at start; re-planned then");
	plan_warn(c->p, "device-unresolved",
		  "interface from network pool '%s': the VF is chosen by libvirt at start; re-planned then",
		  hd->network);
}

static void plan_hostdev(struct decide_ctx *c, struct plan_device *d, const struct vm_hostdev *hd)
{
	switch (hd->kind) {
	case VM_HOSTDEV_MDEV:
		d->kind = PLAN_DEVICE_MDEV;
		plan_mdev(c, d, hd);
		break;
	case VM_HOSTDEV_INTERFACE_POOL:
		d->kind = PLAN_DEVICE_INTERFACE_POOL;
		plan_pool(c, d, hd);
		break;
	case VM_HOSTDEV_INTERFACE:
		d->kind = PLAN_DEVICE_INTERFACE;
		plan_pci_device(c, d, hd->bdf);
		break;
	case VM_HOSTDEV_PCI:
	default:
		d->kind = PLAN_DEVICE_PCI;
		plan_pci_device(c, d, hd->bdf);
		break;
	}
}

static void device_reset(struct plan_device *d)
{
	d->kind = PLAN_DEVICE_PCI;
	d->bdf[0] = '\0';
	d->mdev_uuid[0] = '\0';
	d->found = false;
	d->vendor_id = d->device_id = 0;
	d->class_code = 0;
	d->iommu_unit[0] = '\0';
	d->snoop_control = MT_UNKNOWN;
	d->noncoherent = false;
	d->nosnoop_enabled = MT_UNKNOWN;
	d->reason[0] = '\0';
	d->n_bars = 0;
}

/* What registered non-coherent DMA changes (FACTS §2): WBINVD is emulated
 * everywhere; guest PAT is honored because of it only with EPT. */
static const char *noncoherent_effect(const struct decide_ctx *c)
{
	if (c->h->cpu.vendor == CPU_VENDOR_INTEL && !c->shadow_paging)
		return "it honors guest PAT and emulates WBINVD";
	if (c->shadow_paging)
		return "it emulates WBINVD (guest PAT stays ignored under shadow paging)";
	return "it emulates WBINVD (NPT applies guest PAT anyway)";
}

void decide_devices(struct decide_ctx *c)
{
	struct plan *p = c->p;
	size_t n = c->vm->hostdevs ? c->vm->n_hostdevs : 0;

	if (n > 0 && c->x86 && !c->kernel_known)
		plan_trace(p, "dma.kernel-unknown", "FACTS §11",
			   "kernel version unknown: predicting as for >= 6.2 (per-device coherency)");
	else if (n > 0 && c->x86 && !per_device_coherency(c))
		plan_trace(p, "dma.container", "FACTS §11",
			   "kernel <= 6.1: KVM asks the VFIO container, not each device");
	for (size_t i = 0; i < n; i++) {
		struct plan_device *d;

		if (p->n_devices >= PLAN_MAX_DEVICES) {
			p->truncated = true;
			plan_error(p, "too-many-devices",
				   "the VM assigns %zu devices; only the first %d are planned",
				   n, PLAN_MAX_DEVICES);
			break;
		}
		d = &p->devices[p->n_devices++];
		device_reset(d);
		plan_hostdev(c, d, &c->vm->hostdevs[i]);
		p->noncoherent_dma |= d->noncoherent;
	}
	if (p->noncoherent_dma)
		plan_warn(p, "noncoherent-dma", "KVM will register non-coherent DMA for this VM: %s",
			  noncoherent_effect(c));
}

/* ----- emulated RAM-backed regions -------------------------------------- */

static bool video_has_vram(enum video_model m)
{
	return m == VIDEO_MODEL_VGA || m == VIDEO_MODEL_BOCHS || m == VIDEO_MODEL_CIRRUS ||
	       m == VIDEO_MODEL_QXL || m == VIDEO_MODEL_VMVGA;
}

static bool quirk_disabled(const struct plan *p, unsigned bit)
{
	return p->disable_quirks_mask & (1ULL << bit);
}

/* Memory type of guest RAM-like memory (FACTS §2 table, §8). */
static void emulated_memtype(const struct decide_ctx *c, struct plan_emulated *e)
{
	const struct plan *p = c->p;
	enum cpu_vendor v = c->h->cpu.vendor;

	e->wc_possible = true;
	e->memtype = BAR_MEMTYPE_GUEST_PAT;
	if (c->shadow_paging) {
		e->memtype = BAR_MEMTYPE_FORCED_WB;
		e->wc_possible = false;
		e->reason = "TDP off (shadow paging): KVM ignores guest PAT, RAM stays WB";
	} else if (v == CPU_VENDOR_AMD)
		e->reason = "NPT always applies guest PAT";
	else if (v != CPU_VENDOR_INTEL) {
		e->memtype = BAR_MEMTYPE_UNKNOWN;
		e->wc_possible = false;
		e->reason = "memory types of RAM-backed regions not modelled for this architecture";
	} else if (c->tdx)
		e->reason = "TDX forces IGNORE_GUEST_PAT off: guest PAT honored";
	else if (quirk_disabled(p, KVM_QUIRK_IGNORE_GUEST_PAT))
		e->reason = "IGNORE_GUEST_PAT disabled: EPT WB without IPAT, guest PAT honored";
	else if (p->noncoherent_dma)
		e->reason = "non-coherent DMA registered: KVM honors guest PAT";
	else {
		e->memtype = BAR_MEMTYPE_FORCED_WB;
		e->wc_possible = false;
		e->reason = "IGNORE_GUEST_PAT in force: EPT WB with IPAT, guest PAT ignored";
	}
}

static struct plan_emulated *emulated_add(struct decide_ctx *c, const char *model,
					  const char *region, uint64_t size)
{
	struct plan *p = c->p;
	struct plan_emulated *e;

	if (p->n_emulated >= PLAN_MAX_EMULATED) {
		if (!plan_has_warning(p, "too-many-regions"))
			plan_warn(p, "too-many-regions",
				  "more than %d emulated RAM-backed regions; the rest are not listed",
				  PLAN_MAX_EMULATED);
		p->truncated = true;
		return NULL;
	}
	e = &p->emulated[p->n_emulated++];
	set_text(e->model, sizeof(e->model), model);
	set_text(e->region, sizeof(e->region), region);
	e->size = size;
	emulated_memtype(c, e);
	return e;
}

void decide_emulated(struct decide_ctx *c)
{
	const struct vm *vm = c->vm;
	struct plan_emulated *e;

	for (size_t i = 0; vm->videos && i < vm->n_videos; i++) {
		const struct vm_video *v = &vm->videos[i];

		if (!video_has_vram(v->model))
			continue;
		e = emulated_add(c, video_model_to_string(v->model), "vram", v->vram_kib * 1024);
		if (e)
			snprintf(e->device, sizeof(e->device), "video%zu", i);
	}
	if (vm->virtio_gpu_hostmem || vm->venus) {
		e = emulated_add(c, "virtio", "hostmem", vm->hostmem_bytes);
		if (e)
			set_text(e->device, sizeof(e->device), "virtio-gpu");
	}
	for (size_t i = 0; vm->shmems && i < vm->n_shmems; i++) {
		const struct vm_shmem *s = &vm->shmems[i];

		e = emulated_add(c, s->model, "shmem", s->size_bytes);
		if (e)
			snprintf(e->device, sizeof(e->device), "shmem:%.25s", s->name);
	}
}

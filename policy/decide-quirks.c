/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quirk half of the decision: IGNORE_GUEST_PAT (FACTS §1.2–1.4, §2, §11),
 * CD_NW_CLEARED (FACTS §1.2) and quirks the operator names explicitly. A
 * quirk is disabled only through quirk_disable_if_supported(). */
#include <stdarg.h>
#include <stdio.h>

#include "plan-internal.h"

#define BIT_PAT KVM_QUIRK_IGNORE_GUEST_PAT
#define BIT_CDNW KVM_QUIRK_CD_NW_CLEARED

/* Set the verdict of q and trace it under rule. */
_printf_(6, 7)
static void quirk_decide(struct decide_ctx *c, struct plan_quirk *q, enum quirk_action action,
			 const char *rule, const char *fact, const char *fmt, ...)
{
	va_list ap;

	q->action = action;
	plan_quirk_add_rule(q, rule);
	va_start(ap, fmt);
	vsnprintf(q->reason, sizeof(q->reason), fmt, ap);
	va_end(ap);
	plan_trace(c->p, rule, fact, "%s: %s, %s", kvm_quirk_name(q->bit),
		   quirk_action_to_string(action), q->reason);
}

static const char *origin_of(const struct decide_ctx *c, unsigned bit, char *buf, size_t size)
{
	return policy_origin_format(c->set.quirk_origins[bit], buf, size);
}

/* Verdicts that hold for every quirk: no KVM, or a TD (FACTS §8). */
static bool quirk_not_applicable(struct decide_ctx *c, struct plan_quirk *q)
{
	if (!c->uses_kvm) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "kvm.not-used", "FACTS §1.3",
			     "domain type '%s' does not use KVM", c->vm->domain_type);
		return true;
	}
	if (c->h->kvm.present == MT_NO) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "kvm.absent", "FACTS §1.3",
			     "KVM is absent on this host");
		return true;
	}
	if (c->tdx) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "quirk.tdx", "FACTS §8",
			     "TDX: KVM fixes a TD's quirks itself (IGNORE_GUEST_PAT forced off); memtype changes nothing");
		return true;
	}
	return false;
}

/* The only path to QUIRK_ACTION_DISABLE: KVM must report the bit. */
static void quirk_disable_if_supported(struct decide_ctx *c, struct plan_quirk *q,
				       const char *rule, const char *fact, const char *why)
{
	const struct host_kvm *k = &c->h->kvm;
	const char *name = kvm_quirk_name(q->bit);

	if (!k->quirks_known) {
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "kvm.unknown", "FACTS §1.3",
			     "KVM state unknown: keeping KVM's defaults (wanted: %s)", why);
		return;
	}
	if (!(k->supported_quirks & (1ULL << q->bit))) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "quirk.unsupported", "FACTS §1.3",
			     "KVM does not report %s supported (wanted: %s)", name, why);
		plan_warn(c->p, "quirk-unsupported",
			  "this kernel's KVM cannot disable %s, which the VM would want: %s", name, why);
		return;
	}
	quirk_decide(c, q, QUIRK_ACTION_DISABLE, rule, fact, "%s", why);
}

/* ----- IGNORE_GUEST_PAT ------------------------------------------------- */

/* An operator setting that the facts make moot still shows in the trace. */
static void trace_moot_setting(struct decide_ctx *c, unsigned bit, const char *fact)
{
	char where[300];

	if (c->set.quirks[bit] == QUIRK_SETTING_AUTO)
		return;
	plan_trace(c->p, "quirk.operator.moot", fact, "%s: operator setting '%s' (%s) has no effect here",
		   kvm_quirk_name(bit), quirk_setting_to_string(c->set.quirks[bit]),
		   origin_of(c, bit, where, sizeof(where)));
}

static bool vm_has_video(const struct vm *vm, bool (*pred)(const struct vm_video *))
{
	for (size_t i = 0; vm->videos && i < vm->n_videos; i++)
		if (pred(&vm->videos[i]))
			return true;
	return false;
}

/* bochs-drm and cirrus map VRAM UC-: slow on ICX/SPR with guest PAT (FACTS §11). */
static bool video_maps_uc(const struct vm_video *v)
{
	return v->model == VIDEO_MODEL_VGA || v->model == VIDEO_MODEL_BOCHS ||
	       v->model == VIDEO_MODEL_CIRRUS;
}

static bool video_needs_caution(const struct vm_video *v)
{
	return v->model == VIDEO_MODEL_QXL || v->model == VIDEO_MODEL_VMVGA ||
	       (v->model == VIDEO_MODEL_VIRTIO && v->primary);
}

static bool video_is_blob(const struct vm_video *v)
{
	return v->model == VIDEO_MODEL_VIRTIO && v->blob;
}

static bool vm_wants_hostmem(const struct vm *vm)
{
	return vm->virtio_gpu_hostmem || vm->venus;
}

static bool vm_has_pci_hostdev(const struct vm *vm)
{
	for (size_t i = 0; vm->hostdevs && i < vm->n_hostdevs; i++)
		if (vm->hostdevs[i].kind != VM_HOSTDEV_MDEV)
			return true;
	return false;
}

/* Why this VM needs guest-chosen memory types, or NULL. Adds the rule. */
static const char *pat_need(struct decide_ctx *c, struct plan_quirk *q, char *buf, size_t size)
{
	const struct vm_settings *s = &c->set;
	char where[300];

	if (vm_wants_hostmem(c->vm)) {
		plan_quirk_add_rule(q, "pat.need.hostmem");
		return "virtio-gpu hostmem/venus maps host GPU memory: guest needs WC";
	}
	if (s->quirks[BIT_PAT] == QUIRK_SETTING_DISABLE) {
		plan_quirk_add_rule(q, "pat.operator.disable");
		snprintf(buf, size, "operator disables it (%s)", origin_of(c, BIT_PAT, where, sizeof(where)));
		return buf;
	}
	if (c->vm->n_shmems > 0 && s->honor_shared_memory) {
		plan_quirk_add_rule(q, "pat.need.shmem");
		snprintf(buf, size, "operator opted in shared memory (ivshmem/Looking Glass) to guest PAT (%s)",
			 policy_origin_format(s->honor_shared_memory_origin, where, sizeof(where)));
		return buf;
	}
	if (s->mode == POLICY_MODE_PERFORMANCE) {
		plan_quirk_add_rule(q, "pat.need.mode");
		snprintf(buf, size, "performance mode honors guest PAT in every VM without a UC-mapping display (%s)",
			 policy_origin_format(s->mode_origin, where, sizeof(where)));
		return buf;
	}
	return NULL;
}

static void pat_keep_not_needed(struct decide_ctx *c, struct plan_quirk *q)
{
	const struct vm *vm = c->vm;
	const char *why = "nothing in this VM needs guest-chosen memory types";

	if (c->p->noncoherent_dma) {
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "pat.keep.noncoherent", "FACTS §2",
			     "KVM honors guest PAT anyway while non-coherent DMA is registered (FACTS §2)");
		return;
	}
	if (vm_has_video(vm, video_is_blob))
		why = "virtio-gpu blob resources without hostmem live in guest RAM: forced WB is right";
	else if (vm->n_shmems > 0)
		why = "ivshmem/Looking Glass is host WB memory: forced WB is coherent and fastest (operator has not opted in)";
	else if (vm_has_pci_hostdev(vm))
		why = "passed-through BARs are host MMIO: EPT UC without IPAT already lets guest PAT pick WC";
	quirk_decide(c, q, QUIRK_ACTION_KEEP, "pat.keep.not-needed", "FACTS §2", "%s", why);
}

/* Needed: disable when KVM can honor guest PAT, else say why not. */
static void pat_try_disable(struct decide_ctx *c, struct plan_quirk *q, const char *why)
{
	const struct host_kvm *k = &c->h->kvm;

	if (k->quirks_known && (k->supported_quirks & (1ULL << BIT_PAT))) {
		quirk_decide(c, q, QUIRK_ACTION_DISABLE, q->rules[q->n_rules - 1], "FACTS §1.2",
			     "%s; %s%s", why,
			     vm_has_video(c->vm, video_maps_uc) ? "despite a UC-mapping display" :
			     "no UC-mapping display",
			     c->p->noncoherent_dma ? "; stays right if the non-coherent device goes away" : "");
	} else if (!c->h->cpu.self_snoop) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "pat.no-self-snoop", "FACTS §1.3",
			     "CPU lacks self-snoop: KVM cannot safely honor guest PAT (wanted: %s)", why);
		plan_warn(c->p, "no-self-snoop",
			  "CPU without self-snoop ('ss'): KVM offers no IGNORE_GUEST_PAT control");
	} else
		quirk_disable_if_supported(c, q, "pat.need", "FACTS §1.3", why);
}

static void pat_after(struct decide_ctx *c, const struct plan_quirk *q)
{
	if (q->action == QUIRK_ACTION_DISABLE && vm_has_video(c->vm, video_needs_caution))
		plan_warn(c->p, "display-caution",
			  "qxl, vmvga or a primary virtio-vga: their guest drivers may map VRAM in ways that are slow with guest PAT on ICX/SPR");
	/* Non-coherent DMA rescues the memory type only with EPT (FACTS §2). */
	if (q->action != QUIRK_ACTION_DISABLE && vm_wants_hostmem(c->vm) &&
	    (!c->p->noncoherent_dma || c->shadow_paging))
		plan_warn(c->p, "hostmem-forced-wb",
			  "host GPU memory sits in a RAM memslot with forced WB: wrong memory type and a machine-check risk");
}

/* TDP off, on Intel and AMD alike: KVM ignores guest PAT and offers no
 * control (FACTS §1.3). Warn only when the VM wanted guest PAT. */
static void pat_shadow_paging(struct decide_ctx *c, struct plan_quirk *q)
{
	const char *module = c->h->kvm.module[0] ? c->h->kvm.module : "KVM";
	char buf[PLAN_TEXT];
	const char *why = NULL;

	if (c->set.quirks[BIT_PAT] != QUIRK_SETTING_KEEP)
		why = pat_need(c, q, buf, sizeof(buf));
	if (!why) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "pat.shadow-paging", "FACTS §1.3",
			     "TDP is off (%s): KVM ignores guest PAT under shadow paging; nothing in this VM needs it",
			     module);
		trace_moot_setting(c, BIT_PAT, "FACTS §1.3");
		return;
	}
	quirk_decide(c, q, QUIRK_ACTION_NA, "pat.shadow-paging", "FACTS §1.3",
		     "TDP is off (%s): KVM always ignores guest PAT under shadow paging (wanted: %s)",
		     module, why);
	plan_warn(c->p, "shadow-paging",
		  "%s runs without TDP (EPT/NPT): guest PAT cannot be honored under shadow paging", module);
	pat_after(c, q);
}

static void pat_intel(struct decide_ctx *c, struct plan_quirk *q)
{
	enum quirk_setting setting = c->set.quirks[BIT_PAT];
	bool uc_display = vm_has_video(c->vm, video_maps_uc);
	char buf[PLAN_TEXT], where[300];
	const char *why;

	if (setting == QUIRK_SETTING_KEEP) {
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "pat.operator.keep", "FACTS §1.2",
			     "operator keeps it (%s)", origin_of(c, BIT_PAT, where, sizeof(where)));
		pat_after(c, q);
		return;
	}
	why = pat_need(c, q, buf, sizeof(buf));
	if (!why) {
		pat_keep_not_needed(c, q);
		return;
	}
	if (uc_display) {
		plan_warn(c->p, "uc-display",
			  "bochs/std VGA or cirrus display maps VRAM uncached: honoring guest PAT makes it slow on ICX/SPR");
		if (setting != QUIRK_SETTING_DISABLE) {
			quirk_decide(c, q, QUIRK_ACTION_KEEP, "pat.keep.uc-display", "FACTS §11",
				     "UC-mapping display (bochs/std VGA, cirrus) present; would disable: %s", why);
			pat_after(c, q);
			return;
		}
	}
	pat_try_disable(c, q, why);
	pat_after(c, q);
}

static void decide_ignore_guest_pat(struct decide_ctx *c)
{
	struct plan_quirk *q = plan_quirk_add(c->p, BIT_PAT);

	if (!q || quirk_not_applicable(c, q))
		return;
	if (c->shadow_paging) {
		pat_shadow_paging(c, q);
		return;
	}
	switch (c->h->cpu.vendor) {
	case CPU_VENDOR_INTEL:
		pat_intel(c, q);
		break;
	case CPU_VENDOR_AMD:
		quirk_decide(c, q, QUIRK_ACTION_NA, "pat.amd", "FACTS §2",
			     "NPT always applies guest PAT; KVM disables this quirk itself on AMD");
		trace_moot_setting(c, BIT_PAT, "FACTS §2");
		break;
	default:
		quirk_decide(c, q, QUIRK_ACTION_NA, "pat.not-x86", "FACTS §1.1",
			     "x86 KVM quirk: does not exist on %s", cpu_vendor_to_string(c->h->cpu.vendor));
		trace_moot_setting(c, BIT_PAT, "FACTS §1.1");
		break;
	}
}

/* ----- CD_NW_CLEARED ---------------------------------------------------- */

/* Operator keep/disable for a quirk; false when the setting is auto. */
static bool cdnw_operator(struct decide_ctx *c, struct plan_quirk *q)
{
	char where[300], why[PLAN_TEXT];

	origin_of(c, BIT_CDNW, where, sizeof(where));
	if (c->set.quirks[BIT_CDNW] == QUIRK_SETTING_KEEP) {
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "cdnw.operator.keep", "FACTS §1.2",
			     "operator keeps it (%s)", where);
		return true;
	}
	if (c->set.quirks[BIT_CDNW] == QUIRK_SETTING_DISABLE) {
		snprintf(why, sizeof(why), "operator disables it (%.200s)", where);
		quirk_disable_if_supported(c, q, "cdnw.operator.disable", "FACTS §1.2", why);
		return true;
	}
	return false;
}

static void cdnw_intel_old(struct decide_ctx *c, struct plan_quirk *q)
{
	char where[300], why[PLAN_TEXT];

	if (cdnw_operator(c, q))
		return;
	if (!c->kernel_known) {
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "cdnw.intel.kernel-unknown", "FACTS §1.2",
			     "kernel version unknown: keeping KVM's default");
		return;
	}
	if (c->set.mode != POLICY_MODE_CONSERVATIVE) {
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "cdnw.intel.keep", "FACTS §1.2",
			     "KVM default with non-coherent DMA on <= 6.10: WB while guest CR0.CD=1, fast firmware (%s mode)",
			     policy_mode_to_string(c->set.mode));
		return;
	}
	snprintf(why, sizeof(why),
		 "conservative mode (%s): guest CR0.CD=1 gets UC+IPAT, correct for non-snooping devices during firmware, slower boot",
		 policy_origin_format(c->set.mode_origin, where, sizeof(where)));
	quirk_disable_if_supported(c, q, "cdnw.intel.conservative", "FACTS §1.2", why);
}

static void cdnw_intel(struct decide_ctx *c, struct plan_quirk *q)
{
	const struct kernel_version *k = &c->h->kernel;

	if (c->kernel_known && kernel_version_cmp(k, 6, 15) >= 0) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "cdnw.intel.inapplicable", "FACTS §1.2",
			     "inapplicable on Intel from 6.15: KVM disables it itself for every Intel VM");
		trace_moot_setting(c, BIT_CDNW, "FACTS §1.2");
	} else if (c->kernel_known && kernel_version_cmp(k, 6, 11) >= 0) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "cdnw.intel.no-effect", "FACTS §1.2",
			     "no effect on VMX since 6.11 (e1548088ff54: CR0.CD no longer virtualized)");
		trace_moot_setting(c, BIT_CDNW, "FACTS §1.2");
	} else if (!c->p->noncoherent_dma) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "cdnw.intel.coherent", "FACTS §1.2",
			     "on VMX up to 6.10 it acts only with non-coherent DMA, which this VM has not");
		trace_moot_setting(c, BIT_CDNW, "FACTS §1.2");
	} else
		cdnw_intel_old(c, q);
}

static void decide_cd_nw_cleared(struct decide_ctx *c)
{
	struct plan_quirk *q = plan_quirk_add(c->p, BIT_CDNW);

	if (!q || quirk_not_applicable(c, q))
		return;
	if (c->vm->launch_security == LAUNCH_SECURITY_SEV_SNP) {
		quirk_decide(c, q, QUIRK_ACTION_NA, "cdnw.sev-snp", "FACTS §8",
			     "SEV-SNP guest owns its register state, KVM cannot clear CR0.CD/NW (UNVERIFIED: not sourced in FACTS)");
		trace_moot_setting(c, BIT_CDNW, "FACTS §8");
		return;
	}
	switch (c->h->cpu.vendor) {
	case CPU_VENDOR_INTEL:
		cdnw_intel(c, q);
		break;
	case CPU_VENDOR_AMD:
		if (!cdnw_operator(c, q))
			quirk_decide(c, q, QUIRK_ACTION_KEEP, "cdnw.amd.keep", "FACTS §1.2",
				     "AMD: KVM clears CR0.CD/NW in the hardware CR0 so firmware running with caches disabled is not slow");
		break;
	default:
		quirk_decide(c, q, QUIRK_ACTION_NA, "cdnw.not-x86", "FACTS §1.1",
			     "x86 KVM quirk: does not exist on %s", cpu_vendor_to_string(c->h->cpu.vendor));
		break;
	}
}

/* ----- quirks the operator names ---------------------------------------- */

static void decide_operator_quirk(struct decide_ctx *c, unsigned bit)
{
	struct plan_quirk *q;
	char where[300], why[PLAN_TEXT];

	q = plan_quirk_add(c->p, bit);
	if (!q || quirk_not_applicable(c, q))
		return;
	origin_of(c, bit, where, sizeof(where));
	if (!c->x86)
		quirk_decide(c, q, QUIRK_ACTION_NA, "quirk.not-x86", "FACTS §1.1",
			     "x86 KVM quirk: does not exist on %s (operator setting from %s)",
			     cpu_vendor_to_string(c->h->cpu.vendor), where);
	else if (c->set.quirks[bit] == QUIRK_SETTING_KEEP)
		quirk_decide(c, q, QUIRK_ACTION_KEEP, "quirk.operator.keep", "FACTS §1.1",
			     "operator keeps it (%s)", where);
	else {
		snprintf(why, sizeof(why), "operator disables it (%.200s)", where);
		quirk_disable_if_supported(c, q, "quirk.operator.disable", "FACTS §1.3", why);
	}
}

void decide_quirks(struct decide_ctx *c)
{
	struct plan *p = c->p;

	decide_ignore_guest_pat(c);
	decide_cd_nw_cleared(c);
	for (unsigned bit = 0; bit < KVM_QUIRK_COUNT_KNOWN; bit++)
		if (bit != BIT_PAT && bit != BIT_CDNW && c->set.quirks[bit] != QUIRK_SETTING_AUTO)
			decide_operator_quirk(c, bit);
	for (unsigned i = 0; i < p->n_quirks; i++)
		if (p->quirks[i].action == QUIRK_ACTION_DISABLE)
			p->disable_quirks_mask |= 1ULL << p->quirks[i].bit;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy_decide(): host + VM + operator policy -> memtype.plan/1. Pure: no
 * I/O, no logging, no allocation. The stages live in decide-devices.c and
 * decide-quirks.c; this file sets up the plan and checks the result. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plan-internal.h"

/* Copy a string into a fixed buffer without padding the rest (plan buffers
 * are large and the plan is never zeroed as a whole). */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void plan_init(struct decide_ctx *c)
{
	const struct host *h = c->h;
	struct plan *p = c->p;

	copy_text(p->vm_name, sizeof(p->vm_name), c->vm->name);
	copy_text(p->vm_uuid, sizeof(p->vm_uuid), c->vm->uuid);
	p->cpu_vendor = h->cpu.vendor;
	p->self_snoop = h->cpu.self_snoop;
	if (h->kernel_release[0])
		copy_text(p->kernel, sizeof(p->kernel), h->kernel_release);
	else if (c->kernel_known)
		snprintf(p->kernel, sizeof(p->kernel), "%u.%u.%u",
			 h->kernel.major, h->kernel.minor, h->kernel.patch);
	else
		p->kernel[0] = '\0';
	p->kvm_quirks_known = h->kvm.quirks_known;
	p->kvm_supported_quirks = h->kvm.quirks_known ? h->kvm.supported_quirks : 0;
	p->launch_security = c->vm->launch_security;
	p->mode = c->set.mode;
	p->strict = c->set.strict;
	p->noncoherent_dma = false;
	p->n_quirks = 0;
	p->disable_quirks_mask = 0;
	p->n_devices = 0;
	p->n_emulated = 0;
	p->n_warnings = 0;
	p->n_errors = 0;
	p->n_trace = 0;
	p->truncated = false;
}

/* libvirt domain types that run on /dev/kvm; "" is a VM registered by a
 * non-libvirt VMM, which memtype only sees when it uses KVM. */
static bool domain_uses_kvm(const char *type)
{
	return !type[0] || streq(type, "kvm");
}

static void decide_kvm_state(struct decide_ctx *c)
{
	const struct host_kvm *k = &c->h->kvm;
	struct plan *p = c->p;

	if (!c->uses_kvm) {
		plan_trace(p, "kvm.not-used", "FACTS §1.3",
			   "domain type '%s' does not run on KVM: no KVM quirk applies",
			   c->vm->domain_type);
		return;
	}
	if (k->present == MT_NO) {
		plan_error(p, "kvm-absent", "domain type kvm, but this host has no /dev/kvm");
		plan_trace(p, "kvm.absent", "FACTS §1.3",
			   "KVM is absent: the VM cannot start here; no quirk change planned");
		return;
	}
	if (!k->quirks_known) {
		plan_warn(p, "kvm-unknown",
			  "KVM's supported quirks are unknown (snapshot without KVM state): keeping KVM's defaults");
		plan_trace(p, "kvm.unknown", "FACTS §1.3",
			   "KVM state unknown: keeping KVM's defaults (support is probed on /dev/kvm, never inferred from the kernel version)");
	}
}

static void decide_confidential(struct decide_ctx *c)
{
	enum launch_security ls = c->vm->launch_security;

	if (ls != LAUNCH_SECURITY_TDX && ls != LAUNCH_SECURITY_SEV &&
	    ls != LAUNCH_SECURITY_SEV_SNP)
		return;
	/* TDX is an Intel technology (KVM's TDX code is in vmx/tdx.c), SEV and
	 * SEV-SNP are AMD's: such a VM cannot start on the other vendor, and a
	 * plan for it would describe a VM that does not exist. */
	if (c->h->cpu.vendor != (ls == LAUNCH_SECURITY_TDX ? CPU_VENDOR_INTEL : CPU_VENDOR_AMD)) {
		plan_error(c->p, "launch-security-unsupported",
			   "%s guest on a%s %s host: %s needs an %s CPU",
			   launch_security_to_string(ls),
			   c->h->cpu.vendor == CPU_VENDOR_INTEL || c->h->cpu.vendor == CPU_VENDOR_AMD ? "n" : "",
			   cpu_vendor_to_string(c->h->cpu.vendor), launch_security_to_string(ls),
			   ls == LAUNCH_SECURITY_TDX ? "Intel" : "AMD");
		plan_trace(c->p, "cvm.vendor", "FACTS §8",
			   "%s cannot run on this CPU vendor: the VM will not start here",
			   launch_security_to_string(ls));
	}
	plan_warn(c->p, "confidential-vm",
		  "%s guest: guest kernels ignore MTRRs; MMIO below 4 GiB is UC only on guest kernels with the CVE-2025-40181 fix",
		  launch_security_to_string(ls));
	plan_trace(c->p, "cvm.mtrr", "FACTS §8",
		   "%s: host policy cannot rely on guest MTRRs (forced WB in the guest; legacy PCI hole UC only with the CVE-2025-40181 fix)",
		   launch_security_to_string(ls));
}

static void trace_mode(struct decide_ctx *c)
{
	char where[300];

	if (!c->set.mode_origin && !c->set.strict_origin)
		return;
	plan_trace(c->p, "policy.mode", "FACTS §9", "operator mode %s%s (%s)",
		   policy_mode_to_string(c->set.mode), c->set.strict ? ", strict" : "",
		   policy_origin_format(c->set.mode_origin ? c->set.mode_origin
							   : c->set.strict_origin,
					where, sizeof(where)));
}

/* TDP (EPT/NPT) off: KVM builds shadow page tables and "always ignores guest
 * PAT for shadow paging", so it also stops reporting IGNORE_GUEST_PAT (FACTS
 * §1.3). A KVM that does report that quirk has TDP, whatever the module
 * parameter seemed to say: the probe wins. */
static bool uses_shadow_paging(const struct host *h)
{
	bool x86 = h->cpu.vendor == CPU_VENDOR_INTEL || h->cpu.vendor == CPU_VENDOR_AMD;
	bool pat_quirk = h->kvm.quirks_known &&
			 (h->kvm.supported_quirks & (1ULL << KVM_QUIRK_IGNORE_GUEST_PAT));

	return x86 && h->kvm.tdp == MT_NO && !pat_quirk;
}

/* Built-in defaults, so that a NULL policy costs nothing per decision. */
static const struct operator_policy default_policy = {
	.mode = POLICY_MODE_BALANCED,
};

int policy_decide(const struct host *h, const struct vm *vm,
		  const struct operator_policy *pol, struct plan *ret)
{
	struct decide_ctx c = {
		.h = h,
		.vm = vm,
		.pol = pol ? pol : &default_policy,
		.p = ret,
	};
	char why[PLAN_TEXT];

	if (!h || !vm || !ret)
		return -EINVAL;
	c.x86 = h->cpu.vendor == CPU_VENDOR_INTEL || h->cpu.vendor == CPU_VENDOR_AMD;
	c.kernel_known = h->kernel.major > 0;
	c.uses_kvm = domain_uses_kvm(vm->domain_type);
	c.tdx = vm->launch_security == LAUNCH_SECURITY_TDX;
	c.shadow_paging = uses_shadow_paging(h);
	policy_vm_settings(c.pol, vm->name, vm->uuid, &c.set);
	plan_init(&c);

	trace_mode(&c);
	decide_kvm_state(&c);
	decide_confidential(&c);
	decide_devices(&c);
	decide_quirks(&c);
	decide_emulated(&c);

	if (policy_check_invariants(ret, why, sizeof(why)) < 0)
		plan_fail_safe(ret, why);
	return 0;
}

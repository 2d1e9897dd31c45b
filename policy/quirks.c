/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of KVM's x86 quirk bits (FACTS §1.1) and of the plan's enums, shared
 * by the JSON output, the config parser and the apply path. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>

#include "common/macro.h"
#include "plan.h"

#define KVM_QUIRK_PREFIX "KVM_X86_QUIRK_"

static const char *const kvm_quirk_names[KVM_QUIRK_COUNT_KNOWN] = {
	[KVM_QUIRK_LINT0_REENABLED] = "LINT0_REENABLED",
	[KVM_QUIRK_CD_NW_CLEARED] = "CD_NW_CLEARED",
	[KVM_QUIRK_LAPIC_MMIO_HOLE] = "LAPIC_MMIO_HOLE",
	[KVM_QUIRK_OUT_7E_INC_RIP] = "OUT_7E_INC_RIP",
	[KVM_QUIRK_MISC_ENABLE_NO_MWAIT] = "MISC_ENABLE_NO_MWAIT",
	[KVM_QUIRK_FIX_HYPERCALL_INSN] = "FIX_HYPERCALL_INSN",
	[KVM_QUIRK_MWAIT_NEVER_UD_FAULTS] = "MWAIT_NEVER_UD_FAULTS",
	[KVM_QUIRK_SLOT_ZAP_ALL] = "SLOT_ZAP_ALL",
	[KVM_QUIRK_STUFF_FEATURE_MSRS] = "STUFF_FEATURE_MSRS",
	[KVM_QUIRK_IGNORE_GUEST_PAT] = "IGNORE_GUEST_PAT",
	[KVM_QUIRK_VMCS12_ALLOW_FREEZE_IN_SMM] = "VMCS12_ALLOW_FREEZE_IN_SMM",
};

const char *kvm_quirk_name(unsigned bit)
{
	if (bit >= ELEMENTSOF(kvm_quirk_names))
		return NULL;
	return kvm_quirk_names[bit];
}

void kvm_quirk_list(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (unsigned bit = 0; bit < 64 && len < size; bit++) {
		const char *name = kvm_quirk_name(bit);
		int n;

		if (!(mask & (UINT64_C(1) << bit)))
			continue;
		if (name)
			n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
		else
			n = snprintf(buf + len, size - len, "%sBIT_%u", len ? ", " : "", bit);
		if (n < 0)
			return;
		len += (size_t)n;
	}
}

int kvm_quirk_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	if (strncasecmp(name, KVM_QUIRK_PREFIX, strlen(KVM_QUIRK_PREFIX)) == 0)
		name += strlen(KVM_QUIRK_PREFIX);
	for (unsigned i = 0; i < ELEMENTSOF(kvm_quirk_names); i++)
		if (strcasecmp(kvm_quirk_names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

const char *quirk_action_to_string(enum quirk_action a)
{
	switch (a) {
	case QUIRK_ACTION_NA:
		return "n/a";
	case QUIRK_ACTION_KEEP:
		return "keep";
	case QUIRK_ACTION_DISABLE:
		return "disable";
	}
	return "invalid";
}

static const char *const bar_memtype_names[] = {
	[BAR_MEMTYPE_IO] = "io",
	[BAR_MEMTYPE_UC] = "uc",
	[BAR_MEMTYPE_GUEST_PAT] = "guest-pat",
	[BAR_MEMTYPE_FORCED_WB] = "forced-wb",
	[BAR_MEMTYPE_DEVICE] = "device",
	[BAR_MEMTYPE_NORMAL_NC] = "normal-nc",
	[BAR_MEMTYPE_UNKNOWN] = "unknown",
};

const char *bar_memtype_to_string(enum bar_memtype m)
{
	if ((unsigned)m >= ELEMENTSOF(bar_memtype_names))
		return "invalid";
	return bar_memtype_names[m];
}

bool bar_memtype_is_cacheable(enum bar_memtype m)
{
	/* Guest PAT may pick WB for a RAM-backed range; on host MMIO the EPT/NPT
	 * type is UC and guest PAT can only weaken it to WC, never cache it
	 * (FACTS §2), so only forced WB counts as cacheable. Normal-NC on arm64
	 * is non-cacheable by definition (FACTS §6). */
	return m == BAR_MEMTYPE_FORCED_WB;
}

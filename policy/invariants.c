/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The invariants of DESIGN.md, checked on a finished plan: policy_decide()
 * runs them on every plan it makes and fails safe when one breaks. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "plan-internal.h"

_printf_(3, 4)
static int violation(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

static const char *quirk_label(unsigned bit)
{
	const char *name = kvm_quirk_name(bit);

	return name ? name : "unknown quirk";
}

bool plan_counts_valid(const struct plan *p)
{
	if (p->n_quirks > MT_QUIRK_BITS || p->n_devices > PLAN_MAX_DEVICES ||
	    p->n_emulated > PLAN_MAX_EMULATED || p->n_warnings > PLAN_MAX_DIAGS ||
	    p->n_errors > PLAN_MAX_DIAGS || p->n_trace > PLAN_MAX_TRACE)
		return false;
	for (unsigned d = 0; d < p->n_devices; d++)
		if (p->devices[d].n_bars > PCI_BAR_COUNT)
			return false;
	return true;
}

/* Host MMIO (an assigned device's BAR) is never planned cacheable. */
static int check_host_mmio(const struct plan *p, char *why, size_t size)
{
	for (unsigned d = 0; d < p->n_devices; d++) {
		const struct plan_device *dev = &p->devices[d];

		for (unsigned b = 0; b < dev->n_bars; b++)
			if (bar_memtype_is_cacheable(dev->bars[b].memtype))
				return violation(why, size,
						 "host MMIO planned cacheable: %s BAR %u is %s",
						 dev->bdf[0] ? dev->bdf : "device", dev->bars[b].index,
						 bar_memtype_to_string(dev->bars[b].memtype));
	}
	return 0;
}

static int check_quirks(const struct plan *p, char *why, size_t size)
{
	uint64_t seen = 0, disabled = 0;

	for (unsigned i = 0; i < p->n_quirks; i++) {
		const struct plan_quirk *q = &p->quirks[i];

		if (q->bit >= MT_QUIRK_BITS)
			return violation(why, size, "quirk bit %u out of range", q->bit);
		if (seen & (1ULL << q->bit))
			return violation(why, size, "%s listed twice", quirk_label(q->bit));
		seen |= 1ULL << q->bit;
		if (q->action == QUIRK_ACTION_DISABLE)
			disabled |= 1ULL << q->bit;
	}
	if (disabled != p->disable_quirks_mask)
		return violation(why, size, "disable_quirks_mask 0x%llx does not match the disable actions 0x%llx",
				 (unsigned long long)p->disable_quirks_mask,
				 (unsigned long long)disabled);
	if (p->disable_quirks_mask && !p->kvm_quirks_known)
		return violation(why, size, "quirks disabled although KVM's supported quirks are unknown");
	if (p->disable_quirks_mask & ~p->kvm_supported_quirks)
		return violation(why, size, "disables quirks KVM does not report supported: 0x%llx",
				 (unsigned long long)(p->disable_quirks_mask & ~p->kvm_supported_quirks));
	if (p->launch_security == LAUNCH_SECURITY_TDX && p->disable_quirks_mask)
		return violation(why, size, "TDX VM gets a quirk change (mask 0x%llx)",
				 (unsigned long long)p->disable_quirks_mask);
	return 0;
}

int policy_check_invariants(const struct plan *p, char *why, size_t why_size)
{
	int r;

	if (!p)
		return -EINVAL;
	if (!plan_counts_valid(p))
		return violation(why, why_size, "a list count exceeds its capacity");
	r = check_host_mmio(p, why, why_size);
	if (r == 0)
		r = check_quirks(p, why, why_size);
	if (r == 0 && why && why_size > 0)
		why[0] = '\0';
	return r;
}

int policy_check_no_reenable(const struct plan *before, const struct plan *after,
			     char *why, size_t why_size)
{
	uint64_t lost;

	if (!before || !after)
		return -EINVAL;
	lost = before->disable_quirks_mask & ~after->disable_quirks_mask;
	if (lost) {
		unsigned bit = (unsigned)__builtin_ctzll(lost);

		return violation(why, why_size,
				 "re-plan would re-enable %s, which the earlier plan disabled (KVM cannot turn a quirk back on)",
				 quirk_label(bit));
	}
	if (why && why_size > 0)
		why[0] = '\0';
	return 0;
}

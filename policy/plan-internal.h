/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the stages of policy_decide(): the decision context and the
 * helpers that append to a plan's fixed-capacity lists. Not installed. */
#pragma once

#include "common/macro.h"
#include "overrides.h"
#include "plan.h"

struct decide_ctx {
	const struct host *h;
	const struct vm *vm;
	const struct operator_policy *pol;
	struct vm_settings set;
	struct plan *p;
	bool x86;                      /* Intel or AMD host */
	bool kernel_known;
	bool uses_kvm;                 /* the domain runs on KVM */
	bool tdx;
	/* x86 KVM without TDP: guest PAT is ignored everywhere (FACTS §1.3) */
	bool shadow_paging;
};

/* Appending never overflows: a full list sets p->truncated instead. */
void plan_trace(struct plan *p, const char *rule, const char *fact,
		const char *fmt, ...) _printf_(4, 5);
void plan_warn(struct plan *p, const char *code, const char *fmt, ...) _printf_(3, 4);
void plan_error(struct plan *p, const char *code, const char *fmt, ...) _printf_(3, 4);
bool plan_has_warning(const struct plan *p, const char *code);

/* Start a quirk entry (at most one per bit). NULL when the bit is listed
 * already or the list is full. */
struct plan_quirk *plan_quirk_add(struct plan *p, unsigned bit);
void plan_quirk_add_rule(struct plan_quirk *q, const char *rule);

/* Stages of policy_decide(), in the order it runs them. */
void decide_devices(struct decide_ctx *c);
void decide_quirks(struct decide_ctx *c);
void decide_emulated(struct decide_ctx *c);

/* No count of p exceeds its array: safe to walk the lists. */
bool plan_counts_valid(const struct plan *p);

/* Turn a plan that broke an invariant into one that changes nothing, with
 * an "internal-invariant" error carrying why. */
void plan_fail_safe(struct plan *p, const char *why);

/* Function with this BDF: binary search when h->functions is sorted by BDF
 * (the inventory sorts it), a linear scan otherwise. */
const struct pci_function *host_lookup_function(const struct host *h, const char *bdf);

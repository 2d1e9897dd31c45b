/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The decision engine's output (schema memtype.plan/1, DESIGN.md "Decision")
 * and the pure function that makes it. Fixed-capacity arrays so that a
 * decision allocates nothing: decide() runs on every VM start. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define PLAN_SCHEMA "memtype.plan/1"
#define PLAN_MAX_DEVICES 64
#define PLAN_MAX_EMULATED 16
#define PLAN_MAX_DIAGS 32
#define PLAN_MAX_TRACE 96
#define PLAN_MAX_RULES 4
#define PLAN_TEXT 240

/* KVM_X86_QUIRK_* bits (FACTS §1.1). */
enum kvm_quirk {
	KVM_QUIRK_LINT0_REENABLED = 0,
	KVM_QUIRK_CD_NW_CLEARED = 1,
	KVM_QUIRK_LAPIC_MMIO_HOLE = 2,
	KVM_QUIRK_OUT_7E_INC_RIP = 3,
	KVM_QUIRK_MISC_ENABLE_NO_MWAIT = 4,
	KVM_QUIRK_FIX_HYPERCALL_INSN = 5,
	KVM_QUIRK_MWAIT_NEVER_UD_FAULTS = 6,
	KVM_QUIRK_SLOT_ZAP_ALL = 7,
	KVM_QUIRK_STUFF_FEATURE_MSRS = 8,
	KVM_QUIRK_IGNORE_GUEST_PAT = 9,
	KVM_QUIRK_VMCS12_ALLOW_FREEZE_IN_SMM = 10,
	KVM_QUIRK_COUNT_KNOWN = 11,
};

/* Name of a quirk bit without the KVM_X86_QUIRK_ prefix, NULL if unknown. */
const char *kvm_quirk_name(unsigned bit);
/* "CD_NW_CLEARED, IGNORE_GUEST_PAT" into buf, in bit order; an unknown
 * bit as BIT_n. Truncated to size. */
void kvm_quirk_list(uint64_t mask, char *buf, size_t size);
/* Bit of a quirk name (with or without the prefix, any case), -EINVAL. */
int kvm_quirk_from_name(const char *name);

enum quirk_action {
	QUIRK_ACTION_NA = 0,           /* inapplicable, or KVM decides alone */
	QUIRK_ACTION_KEEP,             /* left enabled on purpose */
	QUIRK_ACTION_DISABLE,          /* memtype disables it */
};
const char *quirk_action_to_string(enum quirk_action a);  /* "n/a", "keep", "disable" */

struct plan_quirk {
	unsigned bit;
	enum quirk_action action;
	char reason[PLAN_TEXT];
	const char *rules[PLAN_MAX_RULES];  /* rule ids, static strings */
	unsigned n_rules;
};

enum bar_memtype {
	BAR_MEMTYPE_IO = 0,            /* I/O port BAR: no memory type */
	BAR_MEMTYPE_UC,                /* uncached: non-prefetchable MMIO */
	BAR_MEMTYPE_GUEST_PAT,         /* EPT/NPT UC without IPAT: guest PAT picks UC or WC */
	BAR_MEMTYPE_FORCED_WB,         /* RAM forced write-back (IGNORE_GUEST_PAT in force) */
	BAR_MEMTYPE_DEVICE,            /* arm64 stage-2 Device */
	BAR_MEMTYPE_NORMAL_NC,         /* arm64 stage-2 Normal-NC: guest picks */
	BAR_MEMTYPE_UNKNOWN,
};
const char *bar_memtype_to_string(enum bar_memtype m);
/* True for memory types that let the CPU cache the range. */
bool bar_memtype_is_cacheable(enum bar_memtype m);

struct plan_bar {
	unsigned index;
	uint64_t size;                 /* 0 when unknown */
	bool is_io, prefetchable, is_64bit;
	enum bar_memtype memtype;
	bool wc_possible;
	const char *reason;            /* static text */
};

enum plan_device_kind {
	PLAN_DEVICE_PCI = 0,
	PLAN_DEVICE_MDEV,
	PLAN_DEVICE_INTERFACE,
	PLAN_DEVICE_INTERFACE_POOL,
};

struct plan_device {
	enum plan_device_kind kind;
	char bdf[MT_BDF_MAX];          /* "" for mdev and unresolved pools */
	char mdev_uuid[MT_UUID_MAX];
	bool found;                    /* present in the host inventory */
	uint16_t vendor_id, device_id;
	uint32_t class_code;
	char iommu_unit[MT_UNIT_MAX];
	enum mt_tristate snoop_control;
	bool noncoherent;
	enum mt_tristate nosnoop_enabled;
	char reason[PLAN_TEXT];        /* why (non-)coherent */
	struct plan_bar bars[PCI_BAR_COUNT];
	unsigned n_bars;
};

/* A RAM-backed region an emulated device exposes as a BAR (VRAM, ivshmem,
 * virtio-gpu hostmem): its type follows IGNORE_GUEST_PAT. */
struct plan_emulated {
	char device[32];               /* "video0", "shmem:looking-glass" */
	char model[32];                /* "vga", "virtio", "ivshmem-plain" */
	char region[16];               /* "vram", "hostmem", "shmem" */
	uint64_t size;                 /* bytes, 0 when unknown */
	enum bar_memtype memtype;      /* FORCED_WB or GUEST_PAT */
	bool wc_possible;
	const char *reason;
};

struct plan_diag {
	const char *code;              /* stable code, e.g. "uc-display" */
	char message[PLAN_TEXT];
};

struct plan_trace {
	const char *rule;              /* e.g. "pat.honor.hostmem" */
	const char *fact;              /* e.g. "FACTS §1.2" */
	char outcome[PLAN_TEXT];
};

struct plan {
	char vm_name[MT_NAME_MAX];
	char vm_uuid[MT_UUID_MAX];
	/* host summary */
	enum cpu_vendor cpu_vendor;
	bool self_snoop;
	char kernel[80];
	bool kvm_quirks_known;
	uint64_t kvm_supported_quirks;
	/* operator policy in force for this VM */
	enum policy_mode mode;
	bool strict;
	/* the VM's launch security: a TD gets no quirk change (FACTS §8) */
	enum launch_security launch_security;
	/* decision */
	bool noncoherent_dma;
	struct plan_quirk quirks[MT_QUIRK_BITS];
	unsigned n_quirks;
	uint64_t disable_quirks_mask;
	struct plan_device devices[PLAN_MAX_DEVICES];
	unsigned n_devices;
	struct plan_emulated emulated[PLAN_MAX_EMULATED];
	unsigned n_emulated;
	struct plan_diag warnings[PLAN_MAX_DIAGS];
	unsigned n_warnings;
	struct plan_diag errors[PLAN_MAX_DIAGS];
	unsigned n_errors;
	struct plan_trace trace[PLAN_MAX_TRACE];
	unsigned n_trace;
	bool truncated;                /* some list overflowed its capacity */
};

/* Decide the policy of vm on host. pol may be NULL (built-in defaults).
 * Pure: no I/O, no logging, no allocation; ret is fully (re)initialised.
 * Returns 0, or -EINVAL when an argument is NULL. Problems with the inputs
 * are reported as plan errors, not as a failure of the call. */
int policy_decide(const struct host *h, const struct vm *vm,
		  const struct operator_policy *pol, struct plan *ret);

/* Check the invariants of DESIGN.md on a finished plan: host MMIO never
 * cacheable; only quirks KVM reports supported are disabled; mask and
 * actions agree; a TDX VM gets no quirk change. Returns 0 or -EPROTO with
 * a description of the first violation in why. */
int policy_check_invariants(const struct plan *p, char *why, size_t why_size);

/* Number of plan errors that refuse a start in strict mode. */
static inline bool plan_has_errors(const struct plan *p)
{
	return p->n_errors > 0;
}

/* A re-plan (start after prepare, a policy reload, a late apply) never asks
 * to re-enable a quirk the earlier plan disabled: KVM ≥ 6.15 refuses and on
 * ≤ 6.14 it would silently undo the first plan (FACTS §1.3). Returns 0 or
 * -EPROTO naming the quirk in why. */
int policy_check_no_reenable(const struct plan *before, const struct plan *after,
			     char *why, size_t why_size);

/* ----- output: JSON (json-c) and human explanation --------------------- */

struct json_object;

/* The memtype.plan/1 document of DESIGN.md. */
int plan_to_json(const struct plan *p, struct json_object **ret);

/* Human explanation built from the same trace (memtypectl explain);
 * malloc'd text. */
int plan_explain(const struct plan *p, char **ret_text);

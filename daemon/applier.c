/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The appliers. "none" changes nothing and says so in the record:
 * "planned" when the plan asks for no change, "module-unavailable" naming
 * the quirks that stay enabled. "memtype.ko" hands plans to the kernel
 * module (DESIGN.md "Applying a plan"): a pending policy by UUID before
 * QEMU exists, read-back of what KVM holds once it runs, late apply for
 * VMs found running; where the module is not loaded it answers as "none"
 * does, so loading the module later needs no restart of memtyped. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/applier.h"
#include "daemon/kmod.h"

static bool none_available(void *ctx _unused_, char *reason, size_t reason_size)
{
	if (reason && reason_size > 0)
		snprintf(reason, reason_size, "memtyped runs without memtype.ko (--no-module)");
	return false;
}

/* What a plan comes to without the module: why is the reason. */
static int unapplied_result(const struct plan *p, const char *why, struct apply_result *ret)
{
	struct apply_result res = { .status = APPLY_PLANNED };
	char quirks[160];

	if (!p || !ret)
		return -EINVAL;
	if (p->disable_quirks_mask != 0) {
		kvm_quirk_list(p->disable_quirks_mask, quirks, sizeof(quirks));
		res.status = APPLY_MODULE_UNAVAILABLE;
		snprintf(res.reason, sizeof(res.reason), "%s stay%s enabled: %s", quirks,
			 strchr(quirks, ',') ? "" : "s", why);
	}
	*ret = res;
	return 0;
}

static int none_result(const struct plan *p, struct apply_result *ret)
{
	return unapplied_result(p, "memtyped runs without memtype.ko", ret);
}

static int none_set_pending(void *ctx _unused_, const struct plan *p, uint64_t ttl_usec _unused_,
			    struct apply_result *ret)
{
	return none_result(p, ret);
}

static int none_read_back(void *ctx _unused_, const struct plan *p, pid_t pid _unused_,
			  struct apply_result *ret)
{
	return none_result(p, ret);
}

static int none_apply_late(void *ctx _unused_, const struct plan *p, pid_t pid _unused_,
			   struct apply_result *ret)
{
	return none_result(p, ret);
}

static int none_forget(void *ctx _unused_, const char *uuid _unused_)
{
	return 0;
}

static void none_free(void *ctx _unused_)
{
}

static const struct applier_ops applier_none_ops = {
	.name = "none",
	.available = none_available,
	.set_pending = none_set_pending,
	.read_back = none_read_back,
	.apply_late = none_apply_late,
	.forget = none_forget,
	.free = none_free,
};

int applier_none_new(struct applier *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = (struct applier){ .ops = &applier_none_ops, .ctx = NULL };
	return 0;
}

/* ----- memtype.ko ---------------------------------------------------------------- */

struct kmod_applier {
	uid_t trusted_uid;
	bool any_uid;
};

/* The module, open; or the answer without it in *ret and a negative errno. */
static int kmod_or_unapplied(struct kmod *k, const struct plan *p, struct apply_result *ret)
{
	struct mt_error err = {};
	int r = kmod_open(k, &err);

	if (r < 0) {
		(void)unapplied_result(p, mt_error_message(&err, r), ret);
		return r;
	}
	if (k->info.state & MEMTYPE_STATE_LAYOUT_MISMATCH) {
		kmod_close(k);
		(void)unapplied_result(p, "memtype.ko refuses to act: struct kvm does not have the "
					  "layout it was built for", ret);
		return -EPROTO;
	}
	return 0;
}

static bool kmod_available(void *ctx _unused_, char *reason, size_t reason_size)
{
	struct mt_error err = {};
	struct kmod k;
	int r = kmod_open(&k, &err);
	bool ok;

	if (r < 0) {
		snprintf(reason, reason_size, "%s", mt_error_message(&err, r));
		return false;
	}
	ok = !(k.info.state & (MEMTYPE_STATE_KVM_ABSENT | MEMTYPE_STATE_LAYOUT_MISMATCH)) &&
	     (k.info.caps & MEMTYPE_CAP_CREATE_PROBE);
	if (k.info.state & MEMTYPE_STATE_LAYOUT_MISMATCH)
		snprintf(reason, reason_size, "memtype.ko refuses to act: struct kvm layout mismatch");
	else if (k.info.state & MEMTYPE_STATE_KVM_ABSENT)
		snprintf(reason, reason_size, "memtype.ko is loaded but kvm is not");
	else if (!(k.info.caps & MEMTYPE_CAP_CREATE_PROBE))
		snprintf(reason, reason_size, "memtype.ko cannot watch VM creation on this kernel");
	else
		snprintf(reason, reason_size, "memtype.ko ABI %u on %s%s", k.info.abi_version,
			 k.info.kernel_release,
			 (k.info.state & MEMTYPE_STATE_MISSED_EVENTS)
				 ? " (missed KVM events: records of older VMs untrusted)" : "");
	kmod_close(&k);
	return ok;
}

static int kmod_set_pending(void *ctx, const struct plan *p, uint64_t ttl_usec,
			    struct apply_result *ret)
{
	struct kmod_applier *a = ctx;
	struct mt_error err = {};
	uint64_t ttl_ms = ttl_usec / 1000;
	struct kmod k;
	int r;

	if (!p || !ret)
		return -EINVAL;
	if (kmod_or_unapplied(&k, p, ret) < 0)
		return 0;
	if (p->disable_quirks_mask == 0) {
		/* Nothing to do for this VM; an earlier plan's entry goes. */
		r = kmod_del_pending(&k, p->vm_uuid, &err);
		kmod_close(&k);
		*ret = (struct apply_result){ .status = APPLY_PLANNED };
		return r < 0 && r != -EINVAL ? r : 0;
	}
	if (ttl_ms == 0)
		ttl_ms = 1;
	if (ttl_ms > 3600000)
		ttl_ms = 3600000;
	r = kmod_add_pending(&k, p->vm_uuid, p->disable_quirks_mask, p->kvm_supported_quirks,
			     (uint32_t)ttl_ms, a->trusted_uid,
			     /* libvirt's QEMU runs in machine.slice under systemd */
			     (a->any_uid ? MEMTYPE_PENDING_ANY_UID : 0) |
				     MEMTYPE_PENDING_TRUST_MACHINE_SLICE,
			     &err);
	kmod_close(&k);
	*ret = (struct apply_result){ .status = r < 0 ? APPLY_FAILED : APPLY_PENDING };
	if (r < 0)
		snprintf(ret->reason, sizeof(ret->reason), "%s", mt_error_message(&err, r));
	else
		snprintf(ret->reason, sizeof(ret->reason),
			 "memtype.ko applies it when QEMU creates the VM (pending for %" PRIu64 " s)",
			 ttl_ms / 1000);
	return 0;
}

/* ret from what the module reports of vm against plan p. */
static void kmod_judge(const struct plan *p, const struct memtype_vm *vm, struct apply_result *ret)
{
	uint64_t missing = p->disable_quirks_mask & ~vm->disabled_quirks;
	char state[128], quirks[100];

	*ret = (struct apply_result){
		.readback = !(vm->state & MEMTYPE_VM_STALE),
		.kvm_mask = vm->kvm_quirks,
		.memtype_mask = vm->memtype_quirks,
		.noncoherent = (int)vm->noncoherent_dma,
	};
	kmod_vm_state_text(vm->state, state, sizeof(state));
	if (vm->state & MEMTYPE_VM_STALE) {
		ret->status = APPLY_FAILED;
		snprintf(ret->reason, sizeof(ret->reason), "%s", state);
		return;
	}
	if (missing) {
		kvm_quirk_list(missing, quirks, sizeof(quirks));
		ret->status = APPLY_FAILED;
		snprintf(ret->reason, sizeof(ret->reason), "%s still enabled in KVM: %s", quirks,
			 state);
		return;
	}
	if (p->disable_quirks_mask == 0) {
		ret->status = APPLY_PLANNED;
		return;
	}
	if ((p->disable_quirks_mask & ~vm->kvm_quirks) == 0) {
		/* KVM disabled them itself (IGNORE_GUEST_PAT on AMD): not memtype's doing. */
		ret->status = APPLY_APPLIED;
		snprintf(ret->reason, sizeof(ret->reason), "KVM disables them by itself on this host");
		return;
	}
	ret->status = (vm->state & MEMTYPE_VM_LATE) ? APPLY_APPLIED_LATE : APPLY_APPLIED;
	snprintf(ret->reason, sizeof(ret->reason), "%s", state);
}

static int kmod_read_back(void *ctx _unused_, const struct plan *p, pid_t pid,
			  struct apply_result *ret)
{
	struct mt_error err = {};
	struct memtype_vm vm;
	struct kmod k;
	int r;

	if (!p || !ret)
		return -EINVAL;
	if (kmod_or_unapplied(&k, p, ret) < 0)
		return 0;
	r = kmod_find_vm(&k, pid, p->vm_uuid, &vm, &err);
	kmod_close(&k);
	if (r < 0) {
		*ret = (struct apply_result){
			.status = p->disable_quirks_mask ? APPLY_FAILED : APPLY_PLANNED,
		};
		if (p->disable_quirks_mask)
			snprintf(ret->reason, sizeof(ret->reason), "%s", mt_error_message(&err, r));
		return 0;
	}
	kmod_judge(p, &vm, ret);
	return 0;
}

static int kmod_apply_late(void *ctx _unused_, const struct plan *p, pid_t pid,
			   struct apply_result *ret)
{
	struct mt_error err = {};
	struct memtype_apply res;
	struct memtype_vm vm;
	struct kmod k;
	size_t len;
	int r;

	if (!p || !ret)
		return -EINVAL;
	if (kmod_or_unapplied(&k, p, ret) < 0)
		return 0;
	r = kmod_find_vm(&k, pid, p->vm_uuid, &vm, &err);
	if (r == 0 && (p->disable_quirks_mask & ~vm.disabled_quirks) == 0) {
		/* In force already (applied at creation, or nothing to do). */
		kmod_close(&k);
		kmod_judge(p, &vm, ret);
		return 0;
	}
	if (r < 0) {
		kmod_close(&k);
		*ret = (struct apply_result){ .status = APPLY_FAILED };
		snprintf(ret->reason, sizeof(ret->reason), "%s: restart the VM to apply its plan",
			 mt_error_message(&err, r));
		return 0;
	}
	r = kmod_apply(&k, pid, p->vm_uuid, p->disable_quirks_mask, p->kvm_supported_quirks, true,
		       &res, &err);
	kmod_close(&k);
	if (r < 0) {
		*ret = (struct apply_result){ .status = APPLY_FAILED };
		snprintf(ret->reason, sizeof(ret->reason), "%s", mt_error_message(&err, r));
		return 0;
	}
	kmod_judge(p, &res.vm, ret);
	len = strlen(ret->reason);
	if (res.result & MEMTYPE_RESULT_ZAPPED)
		snprintf(ret->reason + len, sizeof(ret->reason) - len,
			 "; KVM's page tables were zapped so the new memory types take effect");
	else if (res.result & MEMTYPE_RESULT_RESTART_REQUIRED)
		snprintf(ret->reason + len, sizeof(ret->reason) - len,
			 "; restart required: this kernel does not let memtype.ko rebuild KVM's "
			 "page tables");
	return 0;
}

static int kmod_forget(void *ctx _unused_, const char *uuid)
{
	struct mt_error err = {};
	struct kmod k;
	int r;

	if (kmod_open(&k, &err) < 0)
		return 0;
	r = kmod_del_pending(&k, uuid, &err);
	kmod_close(&k);
	return r == -EINVAL ? 0 : r;
}

static void kmod_free(void *ctx)
{
	free(ctx);
}

static const struct applier_ops applier_kmod_ops = {
	.name = "memtype.ko",
	.available = kmod_available,
	.set_pending = kmod_set_pending,
	.read_back = kmod_read_back,
	.apply_late = kmod_apply_late,
	.forget = kmod_forget,
	.free = kmod_free,
};

int applier_kmod_new(uid_t trusted_uid, bool any_uid, struct applier *ret)
{
	struct kmod_applier *a;

	if (!ret)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->trusted_uid = trusted_uid;
	a->any_uid = any_uid;
	*ret = (struct applier){ .ops = &applier_kmod_ops, .ctx = a };
	return 0;
}

void applier_done(struct applier *a)
{
	if (!a || !a->ops)
		return;
	if (a->ops->free)
		a->ops->free(a->ctx);
	*a = (struct applier){};
}

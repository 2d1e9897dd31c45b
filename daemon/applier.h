/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How memtyped puts a plan into force: an interface with one implementation
 * per mechanism. Here: "none", used when there is no kernel module, which
 * records truthfully that the plan is only a plan ("planned" when it asks
 * for nothing, "module-unavailable" when it asks for quirk changes), and
 * "memtype.ko", which puts plans in force through the kernel module. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/state.h"
#include "policy/plan.h"

struct apply_result {
	enum apply_status status;
	char reason[256];
	bool readback;                 /* the fields below are valid */
	uint64_t kvm_mask;
	uint64_t memtype_mask;
	int noncoherent;
};

struct applier_ops {
	const char *name;
	/* Whether this applier can act on this host, and why not. */
	bool (*available)(void *ctx, char *reason, size_t reason_size);
	/* prepare/start: announce p for the VM of p->vm_uuid, to be applied
	 * when QEMU creates it; expires after ttl_usec. */
	int (*set_pending)(void *ctx, const struct plan *p, uint64_t ttl_usec,
			   struct apply_result *ret);
	/* started / lifecycle / reconcile: what is in force for the VM of
	 * uuid owned by pid (0: unknown). */
	int (*read_back)(void *ctx, const struct plan *p, pid_t pid, struct apply_result *ret);
	/* Apply p to a VM already running (daemon start, policy change). */
	int (*apply_late)(void *ctx, const struct plan *p, pid_t pid, struct apply_result *ret);
	/* stopped/release/expiry: drop what is pending for uuid. */
	int (*forget)(void *ctx, const char *uuid);
	void (*free)(void *ctx);
};

struct applier {
	const struct applier_ops *ops;
	void *ctx;
};

/* The applier that changes nothing (memtyped --no-module). */
int applier_none_new(struct applier *ret);
/* The memtype.ko applier: pending policies trust a creator with euid
 * trusted_uid (libvirt's QEMU user), or any creator when any_uid. */
int applier_kmod_new(uid_t trusted_uid, bool any_uid, struct applier *ret);
void applier_done(struct applier *a);

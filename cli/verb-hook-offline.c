/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl --xml FILE hook-offline NAME PHASE: what the libvirt hook
 * does for prepare and start when memtyped does not answer (DESIGN.md
 * "Applying a plan", step 1): plan here, with this host and the system
 * policy, and hand the plan to memtype.ko itself, so that the VM still
 * gets its quirks when QEMU creates it. The hook runs it as root, only
 * when the module is loaded. Exit 1 refuses the start (strict mode and a
 * plan error); anything else is said on stderr, which libvirt logs, and
 * the VM starts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/memtypectl.h"
#include "common/macro.h"
#include "daemon/kmod.h"
#include "policy/plan.h"

/* Pending plans made offline live this long: the VM is being started now. */
#define OFFLINE_TTL_MS (300 * 1000)

int verb_hook_offline(int argc _unused_, char **argv, const struct cli_args *args)
{
	_cleanup_free_ struct plan *p = NULL;
	const char *vm = argv[1], *phase = argv[2];
	struct mt_error err = {};
	char quirks[256];
	struct kmod k;
	uid_t uid;
	bool any;
	int r;

	if (!args->xml)
		return cli_error(MT_EXIT_USAGE, "hook-offline needs --xml FILE");
	r = cli_make_plan(args, &p);
	if (r != 0) {
		fprintf(stderr, "memtype hook: %s %s: memtyped is down and the offline plan failed; "
				"VM starts with KVM's defaults\n", phase, vm);
		return MT_EXIT_SUCCESS;
	}
	if (plan_has_errors(p) && p->strict) {
		fprintf(stderr, "memtype hook: %s %s refused (offline plan, memtyped is down): "
				"%u plan error(s) in strict mode\n", phase, vm, p->n_errors);
		for (unsigned i = 0; i < p->n_errors; i++)
			fprintf(stderr, "memtype hook:   %s: %s\n", p->errors[i].code,
				p->errors[i].message);
		return MT_EXIT_FAILURE;
	}
	if (p->disable_quirks_mask == 0) {
		fprintf(stderr, "memtype hook: %s %s: memtyped is down; the offline plan keeps "
				"KVM's defaults\n", phase, vm);
		return MT_EXIT_SUCCESS;
	}
	kvm_quirk_list(p->disable_quirks_mask, quirks, sizeof(quirks));
	r = kmod_resolve_vmm_user(NULL, &uid, &any, &err);
	if (r >= 0)
		r = kmod_open(&k, &err);
	if (r >= 0) {
		r = kmod_add_pending(&k, p->vm_uuid, p->disable_quirks_mask, p->kvm_supported_quirks,
				     OFFLINE_TTL_MS, uid,
				     (any ? MEMTYPE_PENDING_ANY_UID : 0) |
					     MEMTYPE_PENDING_TRUST_MACHINE_SLICE,
				     &err);
		kmod_close(&k);
	}
	if (r < 0) {
		fprintf(stderr, "memtype hook: %s %s: memtyped is down and %s; %s stay%s enabled\n",
			phase, vm, mt_error_message(&err, r), quirks, strchr(quirks, ',') ? "" : "s");
		return MT_EXIT_SUCCESS;
	}
	fprintf(stderr, "memtype hook: %s %s: memtyped is down; planned offline, memtype.ko "
			"disables %s when QEMU creates the VM\n", phase, vm, quirks);
	return MT_EXIT_SUCCESS;
}

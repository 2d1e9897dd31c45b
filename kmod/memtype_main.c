// SPDX-License-Identifier: GPL-2.0
/*
 * memtype.ko: applies a per-VM KVM quirk policy (KVM_CAP_DISABLE_QUIRKS2
 * bits) registered by memtyped, at VM creation, before any vCPU exists;
 * and reads back what is in force. See README.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "memtype_internal.h"

#ifndef CONFIG_X86_64
#error "memtype.ko is for x86-64 KVM only"
#endif

static int __init memtype_init(void)
{
	int r;

	r = memtype_table_init();
	if (r)
		return r;
	r = memtype_probes_init();
	if (r)
		goto undo_table;
	r = memtype_ioctl_init();
	if (r)
		goto undo_probes;
	memtype_debugfs_init();
	return 0;

undo_probes:
	memtype_probes_exit();
undo_table:
	memtype_table_exit();
	return r;
}

static void __exit memtype_exit(void)
{
	memtype_debugfs_exit();
	memtype_ioctl_exit();
	/* Probes first: after this no handler runs and no work is queued. */
	memtype_probes_exit();
	memtype_table_exit();
}

module_init(memtype_init);
module_exit(memtype_exit);

MODULE_DESCRIPTION("Per-VM KVM quirk policy applied at VM creation");
MODULE_AUTHOR("memtype project");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: kvm");

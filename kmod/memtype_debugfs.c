// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only operator view: /sys/kernel/debug/memtype/{info,vms,pending}.
 * The same data as MEMTYPE_IOC_GET_INFO / GET_VMS, as text.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "memtype_internal.h"

static struct dentry *memtype_dir;

static int info_show(struct seq_file *m, void *v)
{
	struct memtype_info info = {};

	memtype_fill_info(&info);
	seq_printf(m, "abi_version %u\n", info.abi_version);
	seq_printf(m, "kernel_release %s\n", info.kernel_release);
	seq_printf(m, "caps %#x\n", info.caps);
	seq_printf(m, "state %#x\n", info.state);
	seq_printf(m, "vms %u/%u\n", info.nr_vms, info.max_vms);
	seq_printf(m, "pending %u/%u\n", info.nr_pending, info.max_pending);
	seq_printf(m, "kvm_default_quirks %#llx\n", info.kvm_default_quirks);
	seq_printf(m, "nmissed %llu\n", info.nmissed);
	seq_printf(m, "vms_created %llu\n", info.vms_created);
	seq_printf(m, "vms_applied %llu\n", info.vms_applied);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(info);

static int vms_show(struct seq_file *m, void *v)
{
	struct memtype_vm_filter f = {};
	struct memtype_vm *vms;
	u32 total;
	int n, i;

	vms = kvcalloc(MEMTYPE_MAX_VMS, sizeof(*vms), GFP_KERNEL);
	if (!vms)
		return -ENOMEM;
	n = memtype_collect_vms(&f, vms, MEMTYPE_MAX_VMS, &total);
	if (n < 0) {
		kvfree(vms);
		return n;
	}
	seq_puts(m, "id pid uuid state kvm_quirks memtype_quirks disabled_quirks noncoherent_dma vm_type online_vcpus first_entry_cpu\n");
	for (i = 0; i < n; i++) {
		const struct memtype_vm *vm = &vms[i];

		seq_printf(m, "%llu %d ", vm->id, vm->pid);
		if (vm->state & MEMTYPE_VM_HAS_UUID)
			seq_printf(m, "%pUb", vm->uuid);
		else
			seq_puts(m, "-");
		seq_printf(m, " %#x %#llx %#llx %#llx %u %u %u %d\n", vm->state,
			   vm->kvm_quirks, vm->memtype_quirks,
			   vm->disabled_quirks, vm->noncoherent_dma,
			   vm->vm_type, vm->online_vcpus, vm->first_entry_cpu);
	}
	kvfree(vms);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vms);

static int pending_show(struct seq_file *m, void *v)
{
	struct memtype_pending_entry *copy;
	unsigned long flags, now = jiffies;
	u32 i, n = 0;

	copy = kvcalloc(MEMTYPE_MAX_PENDING, sizeof(*copy), GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	spin_lock_irqsave(&memtype.lock, flags);
	memtype_pending_expire_locked();
	for (i = 0; i < MEMTYPE_MAX_PENDING; i++)
		if (memtype.pending[i].used)
			copy[n++] = memtype.pending[i];
	spin_unlock_irqrestore(&memtype.lock, flags);

	seq_puts(m, "uuid disable_quirks supported_quirks trusted_uid expires_ms\n");
	for (i = 0; i < n; i++) {
		seq_printf(m, "%pUb %#llx %#llx ", copy[i].uuid,
			   copy[i].disable_quirks, copy[i].supported_quirks);
		if (copy[i].flags & MEMTYPE_PENDING_ANY_UID)
			seq_puts(m, "any");
		else
			seq_printf(m, "%u", from_kuid(&init_user_ns,
						      copy[i].trusted_uid));
		if (copy[i].flags & MEMTYPE_PENDING_TRUST_MACHINE_SLICE)
			seq_puts(m, "+machine.slice");
		seq_printf(m, " %u\n", jiffies_to_msecs(copy[i].expires - now));
	}
	kvfree(copy);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pending);

void memtype_debugfs_init(void)
{
	memtype_dir = debugfs_create_dir("memtype", NULL);
	debugfs_create_file("info", 0400, memtype_dir, NULL, &info_fops);
	debugfs_create_file("vms", 0400, memtype_dir, NULL, &vms_fops);
	debugfs_create_file("pending", 0400, memtype_dir, NULL, &pending_fops);
}

void memtype_debugfs_exit(void)
{
	debugfs_remove_recursive(memtype_dir);
}

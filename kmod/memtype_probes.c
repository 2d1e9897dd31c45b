// SPDX-License-Identifier: GPL-2.0
/*
 * The probes on KVM: VM creation (kretprobe on kvm_arch_init_vm), VM
 * destruction (kprobe on kvm_arch_destroy_vm) and, up to 6.14, the VMM's
 * own KVM_ENABLE_CAP(DISABLE_QUIRKS[2]) (kretprobe on
 * kvm_vm_ioctl_enable_cap). They are armed while kvm.ko is loaded and
 * re-armed when it is loaded again; memtype.ko holds no reference on it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/version.h>

#include "memtype_internal.h"

/* Up to 6.14 KVM_ENABLE_CAP(DISABLE_QUIRKS2) assigns instead of ORing. */
#define MEMTYPE_WANT_REAPPLY	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 15, 0))

static DEFINE_MUTEX(probes_mutex);	/* arming and disarming */
static bool probes_armed;
static bool reapply_armed;
static u64 nmissed_base;		/* under memtype.lock */

struct init_vm_data {
	struct kvm *kvm;
	unsigned long type;
};

static int init_vm_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct init_vm_data *d = (struct init_vm_data *)ri->data;

	d->kvm = (struct kvm *)regs_get_kernel_argument(regs, 0);
	d->type = regs_get_kernel_argument(regs, 1);
	return 0;
}

static int init_vm_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct init_vm_data *d = (struct init_vm_data *)ri->data;

	/* On failure kvm_create_vm() does not call kvm_arch_destroy_vm(). */
	if ((int)regs_return_value(regs) == 0)
		memtype_vm_created(d->kvm, d->type);
	return 0;
}

static struct kretprobe init_vm_probe;

static int destroy_vm_pre(struct kprobe *p, struct pt_regs *regs)
{
	memtype_vm_destroyed((struct kvm *)regs_get_kernel_argument(regs, 0));
	return 0;
}

static struct kprobe destroy_vm_probe;

struct enable_cap_data {
	struct kvm *kvm;
	u32 cap;
};

static int enable_cap_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct enable_cap_data *d = (struct enable_cap_data *)ri->data;
	struct kvm_enable_cap *cap;

	d->kvm = (struct kvm *)regs_get_kernel_argument(regs, 0);
	cap = (struct kvm_enable_cap *)regs_get_kernel_argument(regs, 1);
	if (get_kernel_nofault(d->cap, &cap->cap))
		return 1;	/* skip the return handler */
	if (d->cap != KVM_CAP_DISABLE_QUIRKS2 && d->cap != KVM_CAP_DISABLE_QUIRKS)
		return 1;
	return 0;
}

static int enable_cap_return(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct enable_cap_data *d = (struct enable_cap_data *)ri->data;

	if ((int)regs_return_value(regs) == 0)
		memtype_vm_enable_cap_done(d->kvm);
	return 0;
}

static struct kretprobe enable_cap_probe;

/* A registered probe keeps state: start from a clean one every time. */
static void probes_prepare(void)
{
	int maxactive = 32 + 4 * num_possible_cpus();

	memset(&init_vm_probe, 0, sizeof(init_vm_probe));
	init_vm_probe.kp.symbol_name = "kvm_arch_init_vm";
	init_vm_probe.entry_handler = init_vm_entry;
	init_vm_probe.handler = init_vm_return;
	init_vm_probe.data_size = sizeof(struct init_vm_data);
	init_vm_probe.maxactive = maxactive;

	memset(&destroy_vm_probe, 0, sizeof(destroy_vm_probe));
	destroy_vm_probe.symbol_name = "kvm_arch_destroy_vm";
	destroy_vm_probe.pre_handler = destroy_vm_pre;

	memset(&enable_cap_probe, 0, sizeof(enable_cap_probe));
	enable_cap_probe.kp.symbol_name = "kvm_vm_ioctl_enable_cap";
	enable_cap_probe.entry_handler = enable_cap_entry;
	enable_cap_probe.handler = enable_cap_return;
	enable_cap_probe.data_size = sizeof(struct enable_cap_data);
	enable_cap_probe.maxactive = maxactive;
}

static u64 probes_live_nmissed(void)
{
	u64 n;

	if (!probes_armed)
		return 0;
	n = READ_ONCE(init_vm_probe.nmissed) + READ_ONCE(init_vm_probe.kp.nmissed) +
	    READ_ONCE(destroy_vm_probe.nmissed);
	if (reapply_armed)
		n += READ_ONCE(enable_cap_probe.nmissed) +
		     READ_ONCE(enable_cap_probe.kp.nmissed);
	return n;
}

/* Under memtype.lock. */
u64 memtype_probes_nmissed(void)
{
	return nmissed_base + probes_live_nmissed();
}

bool memtype_probes_armed(void)
{
	return READ_ONCE(probes_armed);
}

bool memtype_reapply_armed(void)
{
	return READ_ONCE(reapply_armed);
}

static int probes_arm_locked(void)
{
	int r;

	if (probes_armed)
		return 0;
	probes_prepare();
	/* Destroy first: a VM we see created must never be missed going. */
	r = register_kprobe(&destroy_vm_probe);
	if (r)
		return r;
	r = register_kretprobe(&init_vm_probe);
	if (r) {
		unregister_kprobe(&destroy_vm_probe);
		return r;
	}
	if (MEMTYPE_WANT_REAPPLY) {
		r = register_kretprobe(&enable_cap_probe);
		if (r)
			pr_warn("cannot probe kvm_vm_ioctl_enable_cap (%d): a VMM's own DISABLE_QUIRKS2 may erase memtype's quirks\n",
				r);
		WRITE_ONCE(reapply_armed, !r);
	}
	WRITE_ONCE(probes_armed, true);
	pr_info("probes armed on kvm (reapply %s)\n",
		reapply_armed ? "on" : "off");
	return 0;
}

static void probes_disarm_locked(void)
{
	unsigned long flags;

	if (!probes_armed)
		return;
	unregister_kretprobe(&init_vm_probe);
	if (reapply_armed)
		unregister_kretprobe(&enable_cap_probe);
	unregister_kprobe(&destroy_vm_probe);

	/* Keep the miss count continuous across re-arming. */
	spin_lock_irqsave(&memtype.lock, flags);
	nmissed_base += probes_live_nmissed();
	WRITE_ONCE(probes_armed, false);
	WRITE_ONCE(reapply_armed, false);
	spin_unlock_irqrestore(&memtype.lock, flags);
}

static int memtype_module_notify(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_DONE;

	mutex_lock(&probes_mutex);
	if (action == MODULE_STATE_LIVE) {
		int r = probes_arm_locked();

		if (r)
			pr_warn("cannot arm probes on kvm (%d)\n", r);
	} else if (action == MODULE_STATE_GOING) {
		probes_disarm_locked();
		memtype_table_clear();
		pr_info("kvm unloaded: probes disarmed\n");
	}
	mutex_unlock(&probes_mutex);
	return NOTIFY_OK;
}

static struct notifier_block memtype_module_nb = {
	.notifier_call = memtype_module_notify,
};

int memtype_probes_init(void)
{
	int r;

	/* Notifier first, so that a kvm.ko loading meanwhile is not missed. */
	r = register_module_notifier(&memtype_module_nb);
	if (r)
		return r;
	mutex_lock(&probes_mutex);
	r = probes_arm_locked();
	mutex_unlock(&probes_mutex);
	if (r)
		pr_info("kvm not loaded (%d): probes armed when it is\n", r);
	return 0;
}

void memtype_probes_exit(void)
{
	unregister_module_notifier(&memtype_module_nb);
	mutex_lock(&probes_mutex);
	probes_disarm_locked();
	mutex_unlock(&probes_mutex);
}

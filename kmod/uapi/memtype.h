/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR LGPL-2.1-or-later */
/*
 * memtype.ko userspace ABI: the misc device /dev/memtype.
 *
 * Shared by the kernel module (kmod/), memtyped and memtypectl. Every ioctl
 * struct starts with argsz (the size userspace passes: sizeof the struct it
 * was compiled with) and flags. The module rejects:
 *   - argsz smaller than the struct's first published size   -> EINVAL
 *   - argsz larger than the module knows, unless every byte beyond what the
 *     module knows is zero                                      -> E2BIG
 *   - flags or reserved fields with bits it does not know     -> EINVAL
 * Structs only grow at the end; a new field is valid when argsz covers it.
 *
 * Changing anything (ADD_PENDING, DEL_PENDING, APPLY) needs CAP_SYS_ADMIN
 * (EPERM otherwise). Reading (GET_INFO, GET_VMS) is open to whoever can open
 * the device (0600 root by default).
 *
 * ABI additions (version stays 1; old modules reject what they do not know
 * with EINVAL, as above):
 *   - MEMTYPE_PENDING_TRUST_MACHINE_SLICE (ADD_PENDING flag, bit 2): also
 *     trust a creator in systemd's machine.slice cgroup (cgroup v2).
 *     Userspace that sets it may retry without it on EINVAL.
 *
 * Quirk masks are KVM_X86_QUIRK_* bit masks (KVM_CAP_DISABLE_QUIRKS2). The
 * module never sets a bit outside the supported mask the daemon passes
 * (KVM_CHECK_EXTENSION(KVM_CAP_DISABLE_QUIRKS2) on /dev/kvm: struct kvm_caps
 * is private to KVM) nor outside MEMTYPE_QUIRKS_VALID.
 */
#ifndef _UAPI_LINUX_MEMTYPE_H
#define _UAPI_LINUX_MEMTYPE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MEMTYPE_DEVICE_NAME	"memtype"
#define MEMTYPE_ABI_VERSION	1

/*
 * Not registered in ioctl-number.rst; private to /dev/memtype. The numbers
 * carry no size (as in VFIO): argsz versions the structs.
 */
#define MEMTYPE_IOC_MAGIC	0xEA

/* KVM_X86_QUIRK_* bits 0..10 (FACTS §1.1). */
#define MEMTYPE_QUIRKS_VALID	0x7ffULL

#define MEMTYPE_UUID_LEN	16

/* --- MEMTYPE_IOC_GET_INFO: what the module is and can do here --- */

/* caps: what this build can do on the running kernel */
#define MEMTYPE_CAP_CREATE_PROBE   (1U << 0) /* kretprobe on kvm_arch_init_vm armed */
#define MEMTYPE_CAP_DESTROY_PROBE  (1U << 1) /* destroy tracked (kvm_arch_destroy_vm) */
#define MEMTYPE_CAP_REAPPLY        (1U << 2) /* re-applies after the VMM's own DISABLE_QUIRKS2 */
#define MEMTYPE_CAP_LATE_APPLY     (1U << 3) /* MEMTYPE_IOC_APPLY on a running VM */
#define MEMTYPE_CAP_EPT_ZAP        (1U << 4) /* late IGNORE_GUEST_PAT takes effect (kvm_zap_gfn_range) */
#define MEMTYPE_CAP_NONCOHERENT    (1U << 5) /* noncoherent_dma_count is read back */
#define MEMTYPE_CAP_ENTRY_CHECK    (1U << 6) /* "before first guest entry" is checked (last_vmentry_cpu) */
#define MEMTYPE_CAP_ARGV_UUID      (1U << 7) /* creator identified by its -uuid argv token */

/* state: conditions that limit what the module does now */
#define MEMTYPE_STATE_KVM_ABSENT      (1U << 0) /* kvm.ko not loaded: probes not armed */
#define MEMTYPE_STATE_LAYOUT_MISMATCH (1U << 1) /* struct kvm check failed: module refuses to act */
#define MEMTYPE_STATE_MISSED_EVENTS   (1U << 2) /* a probe missed a hit: tracked VMs untrusted */
#define MEMTYPE_STATE_TABLE_FULL      (1U << 3) /* a VM or pending entry was dropped for space */
#define MEMTYPE_STATE_NO_SUPPORTED    (1U << 4) /* no supported-quirks mask known yet */

struct memtype_info {
	__u32 argsz;
	__u32 flags;		/* in: 0 */
	__u32 abi_version;	/* out: MEMTYPE_ABI_VERSION */
	__u32 caps;		/* out: MEMTYPE_CAP_* */
	__u32 state;		/* out: MEMTYPE_STATE_* */
	__u32 nr_vms;		/* out: VMs tracked now */
	__u32 nr_pending;	/* out: pending policies now */
	__u32 max_vms;		/* out: table limits */
	__u32 max_pending;
	__u32 reserved;
	__u64 kvm_default_quirks; /* out: disabled_quirks KVM set by itself on the last VM created (0 if none yet) */
	__u64 nmissed;		/* out: sum of probe misses since load */
	__u64 vms_created;	/* out: VMs KVM created since load */
	__u64 vms_applied;	/* out: VMs memtype changed at creation */
	char kernel_release[65]; /* out: utsname release the module was built for */
	char pad[7];
};

/* --- MEMTYPE_IOC_ADD_PENDING / MEMTYPE_IOC_DEL_PENDING --- */

/* ADD_PENDING flags */
#define MEMTYPE_PENDING_REPLACE	(1U << 0) /* replace an existing entry for uuid (else EEXIST) */
#define MEMTYPE_PENDING_ANY_UID	(1U << 1) /* trust a creator of any euid (tests; non-libvirt VMMs) */
/*
 * Also trust a creator whose cgroup on the default (v2) hierarchy is in
 * /machine.slice or below it (systemd puts libvirt's QEMU in
 * machine.slice/machine-qemu\x2dN\x2dNAME.scope), whatever its euid.
 * Only the top-level /machine.slice counts: a "machine.slice" deeper in
 * the tree (e.g. in a delegated user subtree) does not. No cgroup v2, or
 * the root cgroup: not in machine.slice. trusted_uid is still honoured.
 */
#define MEMTYPE_PENDING_TRUST_MACHINE_SLICE (1U << 2)

struct memtype_pending {
	__u32 argsz;
	__u32 flags;		/* MEMTYPE_PENDING_* */
	__u8  uuid[MEMTYPE_UUID_LEN]; /* binary; matched against "-uuid" in the creator's argv */
	__u64 disable_quirks;	/* quirks to disable (subset of supported_quirks) */
	__u64 supported_quirks;	/* KVM_CHECK_EXTENSION(KVM_CAP_DISABLE_QUIRKS2) */
	__u32 ttl_ms;		/* expiry if no VM claims it; 1..3600000 */
	__u32 trusted_uid;	/* euid the VMM runs as (libvirt's qemu user) */
};

/* DEL_PENDING takes a struct memtype_pending; only uuid is read. ENOENT if absent. */

/* --- MEMTYPE_IOC_GET_VMS: read-back --- */

/* memtype_vm.state */
#define MEMTYPE_VM_APPLIED	(1U << 0) /* memtype set bits on this VM */
#define MEMTYPE_VM_AT_CREATE	(1U << 1) /* ...inside kvm_arch_init_vm (before any vCPU exists) */
#define MEMTYPE_VM_LATE		(1U << 2) /* ...by MEMTYPE_IOC_APPLY */
#define MEMTYPE_VM_BEFORE_ENTRY	(1U << 3) /* no vCPU had entered the guest when memtype applied */
#define MEMTYPE_VM_CONFLICT	(1U << 4) /* a second creator claimed this uuid; it got nothing */
#define MEMTYPE_VM_UNTRUSTED	(1U << 5) /* a pending uuid matched but the creator was not trusted */
#define MEMTYPE_VM_REAPPLIED	(1U << 6) /* the VMM's own DISABLE_QUIRKS2 was followed by a re-apply */
#define MEMTYPE_VM_RESTART_REQUIRED (1U << 7) /* late IGNORE_GUEST_PAT could not zap: restart the VM */
#define MEMTYPE_VM_HAS_UUID	(1U << 8) /* uuid is valid (from argv or from APPLY) */
#define MEMTYPE_VM_STALE	(1U << 9) /* tracking untrusted (missed probe): values not read */

struct memtype_vm {
	__u64 id;		/* module-local id, unique since load */
	__s32 pid;		/* creator's tgid */
	__u32 state;		/* MEMTYPE_VM_* */
	__u8  uuid[MEMTYPE_UUID_LEN];
	__u64 kvm_quirks;	/* disabled_quirks as KVM set it at creation */
	__u64 memtype_quirks;	/* bits memtype added (not in kvm_quirks) */
	__u64 disabled_quirks;	/* kvm->arch.disabled_quirks now */
	__u32 noncoherent_dma;	/* kvm->arch.noncoherent_dma_count now */
	__u32 vm_type;		/* KVM_X86_*_VM */
	__u32 online_vcpus;
	__s32 first_entry_cpu;	/* vcpu0's last_vmentry_cpu at apply time (-1: not entered) */
	__u64 created_ns;	/* ktime_get_boottime_ns() at creation */
};

/* GET_VMS flags */
#define MEMTYPE_GET_BY_PID	(1U << 0) /* only the VM(s) created by pid */
#define MEMTYPE_GET_BY_UUID	(1U << 1) /* only the VM with uuid */

struct memtype_get_vms {
	__u32 argsz;
	__u32 flags;		/* MEMTYPE_GET_* */
	__s32 pid;		/* with MEMTYPE_GET_BY_PID */
	__u32 capacity;		/* in: entries at vms_ptr (<= 4096) */
	__u32 count;		/* out: entries written */
	__u32 total;		/* out: entries that matched (may exceed capacity) */
	__u8  uuid[MEMTYPE_UUID_LEN]; /* with MEMTYPE_GET_BY_UUID */
	__u64 vms_ptr;		/* user pointer to struct memtype_vm[capacity] */
	__u32 vm_size;		/* in: sizeof(struct memtype_vm) userspace knows */
	__u32 reserved;
};

/* --- MEMTYPE_IOC_APPLY: late apply / apply by pid (uevent fallback) --- */

/* APPLY flags */
#define MEMTYPE_APPLY_ZAP	(1U << 0) /* zap EPT if IGNORE_GUEST_PAT changed and the kernel allows */
#define MEMTYPE_APPLY_BY_UUID	(1U << 1) /* select the VM by uuid instead of pid */

/* APPLY result */
#define MEMTYPE_RESULT_APPLIED		(1U << 0)
#define MEMTYPE_RESULT_BEFORE_ENTRY	(1U << 1)
#define MEMTYPE_RESULT_ZAPPED		(1U << 2)
#define MEMTYPE_RESULT_RESTART_REQUIRED	(1U << 3)

struct memtype_apply {
	__u32 argsz;
	__u32 flags;		/* MEMTYPE_APPLY_* */
	__s32 pid;		/* the VM's creator (unless BY_UUID) */
	__u32 result;		/* out: MEMTYPE_RESULT_* */
	__u8  uuid[MEMTYPE_UUID_LEN]; /* recorded on the VM; selects it with BY_UUID */
	__u64 disable_quirks;
	__u64 supported_quirks;
	struct memtype_vm vm;	/* out: the VM after applying */
};

#define MEMTYPE_IOC_GET_INFO	_IO(MEMTYPE_IOC_MAGIC, 0x00)
#define MEMTYPE_IOC_ADD_PENDING	_IO(MEMTYPE_IOC_MAGIC, 0x01)
#define MEMTYPE_IOC_DEL_PENDING	_IO(MEMTYPE_IOC_MAGIC, 0x02)
#define MEMTYPE_IOC_GET_VMS	_IO(MEMTYPE_IOC_MAGIC, 0x03)
#define MEMTYPE_IOC_APPLY	_IO(MEMTYPE_IOC_MAGIC, 0x04)

#endif /* _UAPI_LINUX_MEMTYPE_H */

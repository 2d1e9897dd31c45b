/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtype.ko internals: the VM and pending-policy tables shared by the
 * probes (atomic context), the ioctls and debugfs (process context).
 */
#ifndef MEMTYPE_INTERNAL_H
#define MEMTYPE_INTERNAL_H

#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>

#include "memtype-exports.h"
#include "uapi/memtype.h"

#define MEMTYPE_MAX_VMS		4096
#define MEMTYPE_MAX_PENDING	1024
#define MEMTYPE_TTL_MAX_MS	3600000U
#define MEMTYPE_ARGV_MAX	(64 * 1024)	/* argv bytes searched for -uuid */

/* Internal per-VM flags (not ABI). */
#define MEMTYPE_VMI_NEED_ARGV	(1U << 0)	/* argv unreadable in probe context */
#define MEMTYPE_VMI_CLAIMED	(1U << 1)	/* took a pending policy for uuid */
#define MEMTYPE_VMI_POLICY_TYPE	(1U << 2)	/* default/sw-protected VM type */
#define MEMTYPE_VMI_STALE	(1U << 3)	/* a probe missed after we saw it */
#define MEMTYPE_VMI_MACHINE_SLICE (1U << 4)	/* creator was in /machine.slice (cgroup v2) */

struct memtype_vm_entry {
	struct hlist_node by_kvm;	/* memtype.vm_hash, key kvm */
	struct list_head link;		/* memtype.vms (creation order) or free */
	struct kvm *kvm;		/* never dereferenced when STALE */
	u64 id;
	pid_t tgid;			/* in the initial pid namespace */
	kuid_t euid;			/* creator's euid at creation */
	u32 state;			/* MEMTYPE_VM_* */
	u32 internal;			/* MEMTYPE_VMI_* */
	u8 uuid[MEMTYPE_UUID_LEN];
	u64 kvm_quirks;
	u64 memtype_quirks;
	u32 vm_type;
	s32 first_entry_cpu;
	u64 created_ns;
};

struct memtype_pending_entry {
	bool used;
	u32 flags;
	u8 uuid[MEMTYPE_UUID_LEN];
	u64 disable_quirks;
	u64 supported_quirks;
	kuid_t trusted_uid;
	u32 ttl_ms;
	unsigned long expires;		/* jiffies */
};

struct memtype_core {
	spinlock_t lock;		/* everything below; never sleep under it */
	struct memtype_vm_entry *vm_slots;
	struct list_head vms;
	struct list_head free_vms;
	DECLARE_HASHTABLE(vm_hash, 10);
	u32 nr_vms;
	struct memtype_pending_entry *pending;
	u32 nr_pending;
	u32 state;			/* MEMTYPE_STATE_* */
	u64 next_id;
	u64 kvm_default_quirks;
	u64 vms_created;
	u64 vms_applied;
	u64 nmissed_seen;		/* probe misses already acted on */
	u64 supported_quirks;		/* last mask the daemon passed */
	bool have_supported;
	bool layout_checked;
	struct work_struct argv_work;
	struct delayed_work expire_work;
};

extern struct memtype_core memtype;

/* memtype_table.c */
int memtype_table_init(void);
void memtype_table_exit(void);
void memtype_table_clear(void);
void memtype_vm_created(struct kvm *kvm, unsigned long type);
void memtype_vm_destroyed(struct kvm *kvm);
void memtype_vm_enable_cap_done(struct kvm *kvm);
void memtype_check_missed_locked(void);
bool memtype_uuid_is_null(const u8 *uuid);
int memtype_pending_add(const struct memtype_pending *p, kuid_t trusted);
int memtype_pending_del(const u8 *uuid);
void memtype_pending_expire_locked(void);
void memtype_note_supported_locked(u64 supported);

struct memtype_vm_filter {
	u32 flags;			/* MEMTYPE_GET_* */
	pid_t pid;
	u8 uuid[MEMTYPE_UUID_LEN];
};

int memtype_collect_vms(const struct memtype_vm_filter *f,
			struct memtype_vm *out, u32 capacity, u32 *ret_total);
int memtype_apply_late(const struct memtype_apply *req, u32 *ret_result,
		       struct memtype_vm *ret_vm);
u32 memtype_caps(void);
void memtype_fill_info(struct memtype_info *info);

/* memtype_probes.c */
int memtype_probes_init(void);
void memtype_probes_exit(void);
bool memtype_probes_armed(void);
bool memtype_reapply_armed(void);
u64 memtype_probes_nmissed(void);

/* memtype_argv.c */
int memtype_argv_uuid_nofault(struct mm_struct *mm, u8 *ret_uuid);
int memtype_argv_uuid_task(struct task_struct *task, struct mm_struct *mm,
			   u8 *ret_uuid);

/* memtype_ioctl.c */
int memtype_ioctl_init(void);
void memtype_ioctl_exit(void);

/* memtype_debugfs.c */
void memtype_debugfs_init(void);
void memtype_debugfs_exit(void);

#endif /* MEMTYPE_INTERNAL_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The VM table and the pending-policy table, and what the module does to a
 * VM: claim a pending policy at creation, re-apply after the VMM's own
 * DISABLE_QUIRKS2, apply late on request, and read back what is in force.
 *
 * Locking: memtype.lock is a spinlock taken from the probes (atomic
 * context) and from process context; nothing sleeps under it and
 * kvm_put_kvm() is never called under it (the last put destroys the VM,
 * which fires our destroy probe and sleeps). A tracked struct kvm is valid
 * while its entry is in the table and not STALE: the destroy probe removes
 * the entry, under the lock, before KVM frees anything.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/cgroup.h>
#include <linux/jiffies.h>
#include <linux/kernfs.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <generated/utsrelease.h>

#include "memtype_internal.h"

#ifndef KVM_X86_DEFAULT_VM		/* before 6.8 there were no VM types */
#define KVM_X86_DEFAULT_VM	0
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM	1
#endif

#define MEMTYPE_QUIRK_IGNORE_GUEST_PAT	(1ULL << 9)

#define MEMTYPE_MACHINE_SLICE		"machine.slice"

struct memtype_core memtype;

static bool defer_argv;
module_param(defer_argv, bool, 0600);
MODULE_PARM_DESC(defer_argv,
		 "Testing: always take the process-context argv fallback");

/* KVM exports, resolved per use so that memtype.ko does not pin kvm.ko. */
struct memtype_kvm_ops {
	bool (*get)(struct kvm *kvm);
	void (*put)(struct kvm *kvm);
	void (*zap)(struct kvm *kvm, gfn_t start, gfn_t end);
};

static bool memtype_kvm_ops_get(struct memtype_kvm_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
#if MEMTYPE_HAVE_KVM_GET_KVM_SAFE && MEMTYPE_HAVE_KVM_PUT_KVM
	ops->get = symbol_get(kvm_get_kvm_safe);
	ops->put = symbol_get(kvm_put_kvm);
#endif
#if MEMTYPE_HAVE_KVM_ZAP_GFN_RANGE
	ops->zap = symbol_get(kvm_zap_gfn_range);
#endif
	return ops->get && ops->put;
}

static void memtype_kvm_ops_put(struct memtype_kvm_ops *ops)
{
#if MEMTYPE_HAVE_KVM_GET_KVM_SAFE && MEMTYPE_HAVE_KVM_PUT_KVM
	if (ops->get)
		symbol_put(kvm_get_kvm_safe);
	if (ops->put)
		symbol_put(kvm_put_kvm);
#endif
#if MEMTYPE_HAVE_KVM_ZAP_GFN_RANGE
	if (ops->zap)
		symbol_put(kvm_zap_gfn_range);
#endif
	memset(ops, 0, sizeof(*ops));
}

bool memtype_uuid_is_null(const u8 *uuid)
{
	return !memchr_inv(uuid, 0, MEMTYPE_UUID_LEN);
}

/* ORs bits into kvm->arch.disabled_quirks; returns the previous value. */
static u64 memtype_or_quirks(struct kvm *kvm, u64 bits)
{
	u64 old = READ_ONCE(kvm->arch.disabled_quirks);

	while ((old | bits) != old) {
		u64 seen = cmpxchg64(&kvm->arch.disabled_quirks, old, old | bits);

		if (seen == old)
			break;
		old = seen;
	}
	return old;
}

/*
 * Has any vCPU entered the guest? Call after writing the quirks: if none
 * has, the quirks were in force before the first entry.
 */
static bool memtype_vm_entered(struct kvm *kvm, s32 *ret_first_cpu)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;
	bool entered = false;

	smp_mb();	/* the quirk write before the last_vmentry_cpu reads */
	*ret_first_cpu = -1;
	kvm_for_each_vcpu(i, vcpu, kvm) {
		int cpu = READ_ONCE(vcpu->arch.last_vmentry_cpu);

		if (i == 0)
			*ret_first_cpu = cpu;
		if (cpu != -1)
			entered = true;
	}
	return entered;
}

static struct memtype_vm_entry *vm_find_locked(struct kvm *kvm)
{
	struct memtype_vm_entry *e;

	hash_for_each_possible(memtype.vm_hash, e, by_kvm, (unsigned long)kvm)
		if (e->kvm == kvm)
			return e;
	return NULL;
}

static void vm_free_locked(struct memtype_vm_entry *e)
{
	hash_del(&e->by_kvm);
	list_move(&e->link, &memtype.free_vms);
	e->kvm = NULL;
	memtype.nr_vms--;
}

static bool vm_usable(const struct memtype_vm_entry *e)
{
	return !(e->internal & MEMTYPE_VMI_STALE) &&
	       !(memtype.state & MEMTYPE_STATE_LAYOUT_MISMATCH);
}

/* A probe missed a hit: stop trusting every pointer we hold now. */
void memtype_check_missed_locked(void)
{
	struct memtype_vm_entry *e;
	u64 n = memtype_probes_nmissed();

	if (n == memtype.nmissed_seen)
		return;
	memtype.nmissed_seen = n;
	memtype.state |= MEMTYPE_STATE_MISSED_EVENTS;
	list_for_each_entry(e, &memtype.vms, link) {
		e->internal |= MEMTYPE_VMI_STALE;
		e->state |= MEMTYPE_VM_STALE;
	}
}

void memtype_note_supported_locked(u64 supported)
{
	memtype.supported_quirks = supported;
	memtype.have_supported = true;
}

static struct memtype_pending_entry *pending_find_locked(const u8 *uuid)
{
	u32 i;

	for (i = 0; i < MEMTYPE_MAX_PENDING; i++) {
		struct memtype_pending_entry *p = &memtype.pending[i];

		if (p->used && !memcmp(p->uuid, uuid, MEMTYPE_UUID_LEN))
			return p;
	}
	return NULL;
}

static void pending_free_locked(struct memtype_pending_entry *p)
{
	p->used = false;
	memtype.nr_pending--;
}

void memtype_pending_expire_locked(void)
{
	u32 i;

	for (i = 0; i < MEMTYPE_MAX_PENDING && memtype.nr_pending; i++) {
		struct memtype_pending_entry *p = &memtype.pending[i];

		if (p->used && time_after_eq(jiffies, p->expires))
			pending_free_locked(p);
	}
}

static void memtype_expire_work(struct work_struct *work)
{
	unsigned long flags;
	bool again;

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_pending_expire_locked();
	again = memtype.nr_pending > 0;
	spin_unlock_irqrestore(&memtype.lock, flags);
	if (again)
		schedule_delayed_work(&memtype.expire_work, HZ);
}

int memtype_pending_add(const struct memtype_pending *req, kuid_t trusted)
{
	struct memtype_pending_entry *p;
	unsigned long flags;
	int r = 0;
	u32 i;

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_pending_expire_locked();
	memtype_note_supported_locked(req->supported_quirks);
	p = pending_find_locked(req->uuid);
	if (p && !(req->flags & MEMTYPE_PENDING_REPLACE)) {
		r = -EEXIST;
		goto out;
	}
	for (i = 0; !p && i < MEMTYPE_MAX_PENDING; i++) {
		if (!memtype.pending[i].used) {
			p = &memtype.pending[i];
			p->used = true;
			memtype.nr_pending++;
		}
	}
	if (!p) {
		memtype.state |= MEMTYPE_STATE_TABLE_FULL;
		r = -ENOSPC;
		goto out;
	}
	p->flags = req->flags & (MEMTYPE_PENDING_ANY_UID |
				 MEMTYPE_PENDING_TRUST_MACHINE_SLICE);
	memcpy(p->uuid, req->uuid, MEMTYPE_UUID_LEN);
	p->disable_quirks = req->disable_quirks;
	p->supported_quirks = req->supported_quirks;
	p->trusted_uid = trusted;
	p->ttl_ms = req->ttl_ms;
	p->expires = jiffies + msecs_to_jiffies(req->ttl_ms);
out:
	spin_unlock_irqrestore(&memtype.lock, flags);
	if (!r)
		schedule_delayed_work(&memtype.expire_work, HZ);
	return r;
}

int memtype_pending_del(const u8 *uuid)
{
	struct memtype_pending_entry *p;
	unsigned long flags;
	int r = -ENOENT;

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_pending_expire_locked();
	p = pending_find_locked(uuid);
	if (p) {
		pending_free_locked(p);
		r = 0;
	}
	spin_unlock_irqrestore(&memtype.lock, flags);
	return r;
}

/*
 * Is current in systemd's machine.slice: is the top-level ancestor of its
 * cgroup on the default (v2) hierarchy named "machine.slice"? Runs in the
 * kretprobe return handler (atomic, preemption off): no sleeping, no mutex.
 *
 * Name accessor: cgroup_name() is an inline wrapper of kernfs_name(), which
 * is not exported (Debian 6.12's and 6.1's Module.symvers list neither;
 * cgroup_path_ns() is, but takes css_set_lock with spin_lock_irq and would
 * re-enable interrupts here; kernfs_path_from_node() formats whole paths).
 * So the name is read from cgrp->kn->name under rcu_read_lock(), which is
 * safe here: current's css_set and its cgroups are RCU-protected (cgroups
 * are freed after a grace period), each cgroup holds a reference on its kn
 * until it is freed, and the parents are pinned by the child; kernfs_name()
 * only takes kernfs_rename_lock against renames, and the default hierarchy
 * has none (cgroup v2's kernfs_syscall_ops have no .rename, only v1's do),
 * so a v2 cgroup's name is fixed from mkdir to free. rcu_dereference(): kn
 * ->name is a plain pointer up to 6.14 and __rcu from 6.15.
 *
 * Only the top level counts: a "machine.slice" deeper in the tree may be
 * made by anyone with a delegated subtree (systemd user instances). No
 * cgroup v2 mounted (everyone in the root cgroup) or the root cgroup
 * itself: not in machine.slice.
 */
static bool memtype_current_in_machine_slice(void)
{
	bool in = false;
#ifdef CONFIG_CGROUPS
	struct cgroup *cgrp, *parent;
	const char *name;

	rcu_read_lock();
	cgrp = task_dfl_cgroup(current);
	parent = cgrp ? cgroup_parent(cgrp) : NULL;
	if (parent) {
		while (cgroup_parent(parent)) {	/* up to the child of the root */
			cgrp = parent;
			parent = cgroup_parent(cgrp);
		}
		name = cgrp->kn ? rcu_dereference(cgrp->kn->name) : NULL;
		in = name && !strcmp(name, MEMTYPE_MACHINE_SLICE);
	}
	rcu_read_unlock();
#endif
	return in;
}

/*
 * Does the pending policy p trust the creator of e? Its euid is the
 * trusted uid, or p says ANY_UID, or p trusts machine.slice and the
 * creator was in it when it created the VM.
 */
static bool vm_trusted_locked(const struct memtype_vm_entry *e,
			      const struct memtype_pending_entry *p)
{
	if (p->flags & MEMTYPE_PENDING_ANY_UID)
		return true;
	if (uid_eq(e->euid, p->trusted_uid))
		return true;
	return (p->flags & MEMTYPE_PENDING_TRUST_MACHINE_SLICE) &&
	       (e->internal & MEMTYPE_VMI_MACHINE_SLICE);
}

/*
 * The VM e (usable, kvm valid) was created by a process whose argv says
 * "-uuid uuid": give it the pending policy for uuid if it may have it.
 */
static void vm_claim_locked(struct memtype_vm_entry *e, const u8 *uuid,
			    bool at_create)
{
	struct memtype_pending_entry *p;
	struct memtype_vm_entry *o;
	u64 add, old;

	memcpy(e->uuid, uuid, MEMTYPE_UUID_LEN);
	e->state |= MEMTYPE_VM_HAS_UUID;
	if (!(e->internal & MEMTYPE_VMI_POLICY_TYPE))
		return;

	list_for_each_entry(o, &memtype.vms, link) {
		if (o != e && (o->internal & MEMTYPE_VMI_CLAIMED) &&
		    !memcmp(o->uuid, uuid, MEMTYPE_UUID_LEN)) {
			e->state |= MEMTYPE_VM_CONFLICT;
			return;
		}
	}

	memtype_pending_expire_locked();
	p = pending_find_locked(uuid);
	if (!p)
		return;
	if (!vm_trusted_locked(e, p)) {
		e->state |= MEMTYPE_VM_UNTRUSTED;
		return;
	}

	add = p->disable_quirks & p->supported_quirks & MEMTYPE_QUIRKS_VALID;
	old = memtype_or_quirks(e->kvm, add);
	e->memtype_quirks |= add & ~old;
	e->state |= MEMTYPE_VM_APPLIED;
	e->internal |= MEMTYPE_VMI_CLAIMED;
	if (at_create) {
		/* Inside kvm_arch_init_vm: no vCPU can exist yet. */
		e->state |= MEMTYPE_VM_AT_CREATE | MEMTYPE_VM_BEFORE_ENTRY;
		e->first_entry_cpu = -1;
		memtype.vms_applied++;
	} else if (!memtype_vm_entered(e->kvm, &e->first_entry_cpu)) {
		e->state |= MEMTYPE_VM_BEFORE_ENTRY;
	}
	pending_free_locked(p);	/* one policy, one VM */
}

static bool memtype_layout_ok(struct kvm *kvm, u64 quirks)
{
	return kvm->mm == current->mm &&
	       !(quirks & ~MEMTYPE_QUIRKS_VALID) &&
	       !atomic_read(&kvm->online_vcpus) && !kvm->created_vcpus &&
	       !atomic_read(&kvm->arch.noncoherent_dma_count);
}

/* Return of a successful kvm_arch_init_vm(kvm, type): atomic context. */
void memtype_vm_created(struct kvm *kvm, unsigned long type)
{
	struct memtype_vm_entry *e;
	u64 quirks = READ_ONCE(kvm->arch.disabled_quirks);
	bool layout_ok = memtype_layout_ok(kvm, quirks);
	/* Recorded now: the argv fallback claims later, from a work item. */
	bool machine_slice = memtype_current_in_machine_slice();
	u8 uuid[MEMTYPE_UUID_LEN];
	bool queue = false;
	unsigned long flags;
	int argv_r;

	/* Read argv before taking the lock: it touches user memory. */
	if (READ_ONCE(defer_argv))
		argv_r = -EFAULT;
	else
		argv_r = memtype_argv_uuid_nofault(current->mm, uuid);

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_check_missed_locked();
	memtype.vms_created++;
	memtype.kvm_default_quirks = quirks;
	if (!layout_ok && !(memtype.state & MEMTYPE_STATE_LAYOUT_MISMATCH)) {
		memtype.state |= MEMTYPE_STATE_LAYOUT_MISMATCH;
		pr_warn_ratelimited("struct kvm layout check failed (quirks %#llx); not acting\n",
				    quirks);
	}
	memtype.layout_checked = true;

	/* Same address as an entry we hold: that VM is gone (missed destroy). */
	e = vm_find_locked(kvm);
	if (e)
		vm_free_locked(e);
	if (list_empty(&memtype.free_vms)) {
		memtype.state |= MEMTYPE_STATE_TABLE_FULL;
		goto out;
	}
	e = list_first_entry(&memtype.free_vms, struct memtype_vm_entry, link);
	list_move_tail(&e->link, &memtype.vms);
	hash_add(memtype.vm_hash, &e->by_kvm, (unsigned long)kvm);
	memtype.nr_vms++;

	e->kvm = kvm;
	e->id = ++memtype.next_id;
	e->tgid = task_tgid_nr(current);
	e->euid = current_euid();
	e->state = 0;
	e->internal = machine_slice ? MEMTYPE_VMI_MACHINE_SLICE : 0;
	memset(e->uuid, 0, sizeof(e->uuid));
	e->kvm_quirks = quirks;
	e->memtype_quirks = 0;
	e->vm_type = type;
	e->first_entry_cpu = -1;
	e->created_ns = ktime_get_boottime_ns();
	if (type == KVM_X86_DEFAULT_VM || type == KVM_X86_SW_PROTECTED_VM)
		e->internal |= MEMTYPE_VMI_POLICY_TYPE;

	if (!vm_usable(e))
		goto out;
	if (!argv_r) {
		vm_claim_locked(e, uuid, true);
	} else if (argv_r == -EFAULT) {
		e->internal |= MEMTYPE_VMI_NEED_ARGV;
		queue = true;
	}
out:
	spin_unlock_irqrestore(&memtype.lock, flags);
	if (queue)
		schedule_work(&memtype.argv_work);
}

/* Entry of kvm_arch_destroy_vm(kvm): atomic context. */
void memtype_vm_destroyed(struct kvm *kvm)
{
	struct memtype_vm_entry *e;
	unsigned long flags;

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_check_missed_locked();
	e = vm_find_locked(kvm);
	if (e)
		vm_free_locked(e);
	spin_unlock_irqrestore(&memtype.lock, flags);
}

/*
 * Return of a successful KVM_ENABLE_CAP(DISABLE_QUIRKS[2]) on kvm, in the
 * VMM's ioctl (kvm is alive). Up to 6.14 KVM assigns the mask; put back
 * what memtype had set.
 */
void memtype_vm_enable_cap_done(struct kvm *kvm)
{
	struct memtype_vm_entry *e;
	unsigned long flags;
	u64 missing;

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_check_missed_locked();
	e = vm_find_locked(kvm);
	if (e && vm_usable(e) && e->memtype_quirks) {
		missing = e->memtype_quirks & ~READ_ONCE(kvm->arch.disabled_quirks);
		if (missing) {
			memtype_or_quirks(kvm, missing);
			e->state |= MEMTYPE_VM_REAPPLIED;
		}
	}
	spin_unlock_irqrestore(&memtype.lock, flags);
}

static int vm_read_uuid_late(pid_t tgid, struct kvm *kvm, u8 *ret_uuid)
{
	struct task_struct *task;
	struct mm_struct *mm;
	int r;

	rcu_read_lock();
	task = pid_task(find_pid_ns(tgid, &init_pid_ns), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	if (mm == kvm->mm)	/* the pid was not reused */
		r = memtype_argv_uuid_task(task, mm, ret_uuid);
	else
		r = -ESRCH;
	if (mm)
		mmput(mm);
	put_task_struct(task);
	return r;
}

/* Fallback for VMs whose creator's argv was not resident in probe context. */
static void memtype_argv_work(struct work_struct *work)
{
	struct memtype_kvm_ops ops;
	struct memtype_vm_entry *e;
	unsigned long flags;
	bool have_ops = memtype_kvm_ops_get(&ops);

	for (;;) {
		u8 uuid[MEMTYPE_UUID_LEN];
		struct kvm *kvm = NULL;
		pid_t tgid = 0;
		u64 id = 0;
		int r;

		spin_lock_irqsave(&memtype.lock, flags);
		memtype_check_missed_locked();
		list_for_each_entry(e, &memtype.vms, link) {
			if (!(e->internal & MEMTYPE_VMI_NEED_ARGV))
				continue;
			e->internal &= ~MEMTYPE_VMI_NEED_ARGV;
			if (have_ops && vm_usable(e) && ops.get(e->kvm)) {
				kvm = e->kvm;
				tgid = e->tgid;
				id = e->id;
				break;
			}
		}
		spin_unlock_irqrestore(&memtype.lock, flags);
		if (!kvm)
			break;

		r = vm_read_uuid_late(tgid, kvm, uuid);
		if (!r) {
			spin_lock_irqsave(&memtype.lock, flags);
			memtype_check_missed_locked();
			e = vm_find_locked(kvm);
			if (e && e->id == id && vm_usable(e))
				vm_claim_locked(e, uuid, false);
			spin_unlock_irqrestore(&memtype.lock, flags);
		}
		ops.put(kvm);	/* outside the lock: may destroy the VM */
	}
	memtype_kvm_ops_put(&ops);
}

static bool vm_matches(const struct memtype_vm_entry *e,
		       const struct memtype_vm_filter *f)
{
	if ((f->flags & MEMTYPE_GET_BY_PID) && e->tgid != f->pid)
		return false;
	if ((f->flags & MEMTYPE_GET_BY_UUID) &&
	    (!(e->state & MEMTYPE_VM_HAS_UUID) ||
	     memcmp(e->uuid, f->uuid, MEMTYPE_UUID_LEN)))
		return false;
	return true;
}

static void vm_fill_static(const struct memtype_vm_entry *e,
			   struct memtype_vm *v)
{
	memset(v, 0, sizeof(*v));
	v->id = e->id;
	v->pid = e->tgid;
	v->state = e->state;
	memcpy(v->uuid, e->uuid, MEMTYPE_UUID_LEN);
	v->kvm_quirks = e->kvm_quirks;
	v->memtype_quirks = e->memtype_quirks;
	v->vm_type = e->vm_type;
	v->first_entry_cpu = e->first_entry_cpu;
	v->created_ns = e->created_ns;
}

/* Caller holds a reference on kvm. */
static void vm_fill_live(struct kvm *kvm, struct memtype_vm *v)
{
	v->disabled_quirks = READ_ONCE(kvm->arch.disabled_quirks);
	v->noncoherent_dma = atomic_read(&kvm->arch.noncoherent_dma_count);
	v->online_vcpus = atomic_read(&kvm->online_vcpus);
}

/*
 * Snapshot the VMs matching f into out[0..capacity). Live values are read
 * holding a VM reference taken under the lock and dropped after it.
 */
int memtype_collect_vms(const struct memtype_vm_filter *f,
			struct memtype_vm *out, u32 capacity, u32 *ret_total)
{
	struct memtype_kvm_ops ops;
	struct memtype_vm_entry *e;
	struct kvm **refs = NULL;
	unsigned long flags;
	u32 n = 0, total = 0, i;
	bool have_ops;

	if (capacity) {
		refs = kvcalloc(capacity, sizeof(*refs), GFP_KERNEL);
		if (!refs)
			return -ENOMEM;
	}
	have_ops = memtype_kvm_ops_get(&ops);

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_check_missed_locked();
	list_for_each_entry(e, &memtype.vms, link) {
		if (!vm_matches(e, f))
			continue;
		total++;
		if (n >= capacity)
			continue;
		vm_fill_static(e, &out[n]);
		if (have_ops && vm_usable(e) && ops.get(e->kvm))
			refs[n] = e->kvm;
		n++;
	}
	spin_unlock_irqrestore(&memtype.lock, flags);

	for (i = 0; i < n; i++) {
		if (!refs[i])
			continue;
		vm_fill_live(refs[i], &out[i]);
		ops.put(refs[i]);
	}
	memtype_kvm_ops_put(&ops);
	kvfree(refs);
	*ret_total = total;
	return n;
}

static struct memtype_vm_entry *vm_select_locked(const struct memtype_apply *req)
{
	struct memtype_vm_entry *e, *found = NULL;

	/* The newest VM of that creator (or with that uuid). */
	list_for_each_entry(e, &memtype.vms, link) {
		if (req->flags & MEMTYPE_APPLY_BY_UUID) {
			if (!(e->state & MEMTYPE_VM_HAS_UUID) ||
			    memcmp(e->uuid, req->uuid, MEMTYPE_UUID_LEN))
				continue;
		} else if (e->tgid != req->pid) {
			continue;
		}
		found = e;
	}
	return found;
}

/* MEMTYPE_IOC_APPLY, process context. */
int memtype_apply_late(const struct memtype_apply *req, u32 *ret_result,
		       struct memtype_vm *ret_vm)
{
	struct memtype_kvm_ops ops;
	struct memtype_vm_entry *e;
	struct kvm *kvm = NULL;
	unsigned long flags;
	u64 add, old, newly, id = 0;
	u32 result;
	s32 first_cpu;
	bool entered;
	int r = 0;

	if (!memtype_kvm_ops_get(&ops)) {
		memtype_kvm_ops_put(&ops);
		return -EOPNOTSUPP;
	}

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_check_missed_locked();
	memtype_note_supported_locked(req->supported_quirks);
	e = vm_select_locked(req);
	if (!e)
		r = -ENOENT;		/* untracked: created before load, or gone */
	else if (memtype.state & MEMTYPE_STATE_LAYOUT_MISMATCH)
		r = -EOPNOTSUPP;
	else if (e->internal & MEMTYPE_VMI_STALE)
		r = -ESTALE;
	else if (!(e->internal & MEMTYPE_VMI_POLICY_TYPE))
		r = -EOPNOTSUPP;
	else if (!ops.get(e->kvm))
		r = -ENOENT;		/* being destroyed */
	if (!r) {
		kvm = e->kvm;
		id = e->id;
	}
	spin_unlock_irqrestore(&memtype.lock, flags);
	if (r)
		goto out;

	add = req->disable_quirks & req->supported_quirks & MEMTYPE_QUIRKS_VALID;
	old = memtype_or_quirks(kvm, add);
	newly = add & ~old;
	entered = memtype_vm_entered(kvm, &first_cpu);
	result = MEMTYPE_RESULT_APPLIED;
	if (!entered)
		result |= MEMTYPE_RESULT_BEFORE_ENTRY;
	if (newly & MEMTYPE_QUIRK_IGNORE_GUEST_PAT) {
		/* KVM does not zap on a quirk change: existing SPTEs keep IPAT. */
		if ((req->flags & MEMTYPE_APPLY_ZAP) && ops.zap) {
			int idx = srcu_read_lock(&kvm->srcu);

			ops.zap(kvm, 0, gpa_to_gfn(~0ULL));
			srcu_read_unlock(&kvm->srcu, idx);
			result |= MEMTYPE_RESULT_ZAPPED;
		} else if (entered) {
			result |= MEMTYPE_RESULT_RESTART_REQUIRED;
		}
	}

	spin_lock_irqsave(&memtype.lock, flags);
	e = vm_find_locked(kvm);
	if (e && e->id == id) {
		e->memtype_quirks |= newly;
		e->state |= MEMTYPE_VM_APPLIED | MEMTYPE_VM_LATE;
		if (newly && entered)
			e->state &= ~MEMTYPE_VM_BEFORE_ENTRY;
		else if (!entered)
			e->state |= MEMTYPE_VM_BEFORE_ENTRY;
		if (result & MEMTYPE_RESULT_RESTART_REQUIRED)
			e->state |= MEMTYPE_VM_RESTART_REQUIRED;
		if (!(req->flags & MEMTYPE_APPLY_BY_UUID) &&
		    !memtype_uuid_is_null(req->uuid)) {
			memcpy(e->uuid, req->uuid, MEMTYPE_UUID_LEN);
			e->state |= MEMTYPE_VM_HAS_UUID;
		}
		e->first_entry_cpu = first_cpu;
		vm_fill_static(e, ret_vm);
	} else {
		memset(ret_vm, 0, sizeof(*ret_vm));
	}
	spin_unlock_irqrestore(&memtype.lock, flags);
	vm_fill_live(kvm, ret_vm);
	*ret_result = result;
	ops.put(kvm);		/* outside the lock */
out:
	memtype_kvm_ops_put(&ops);
	return r;
}

u32 memtype_caps(void)
{
	u32 caps = MEMTYPE_CAP_ARGV_UUID | MEMTYPE_CAP_ENTRY_CHECK |
		   MEMTYPE_CAP_NONCOHERENT;

	if (memtype_probes_armed())
		caps |= MEMTYPE_CAP_CREATE_PROBE | MEMTYPE_CAP_DESTROY_PROBE;
	if (memtype_reapply_armed())
		caps |= MEMTYPE_CAP_REAPPLY;
	if (MEMTYPE_HAVE_KVM_GET_KVM_SAFE && MEMTYPE_HAVE_KVM_PUT_KVM) {
		caps |= MEMTYPE_CAP_LATE_APPLY;
		if (MEMTYPE_HAVE_KVM_ZAP_GFN_RANGE)
			caps |= MEMTYPE_CAP_EPT_ZAP;
	}
	return caps;
}

void memtype_fill_info(struct memtype_info *info)
{
	unsigned long flags;
	bool armed = memtype_probes_armed();

	info->abi_version = MEMTYPE_ABI_VERSION;
	info->caps = memtype_caps();
	info->max_vms = MEMTYPE_MAX_VMS;
	info->max_pending = MEMTYPE_MAX_PENDING;
	strscpy(info->kernel_release, UTS_RELEASE, sizeof(info->kernel_release));

	spin_lock_irqsave(&memtype.lock, flags);
	memtype_check_missed_locked();
	memtype_pending_expire_locked();
	info->state = memtype.state;
	if (!armed)
		info->state |= MEMTYPE_STATE_KVM_ABSENT;
	if (!memtype.have_supported)
		info->state |= MEMTYPE_STATE_NO_SUPPORTED;
	info->nr_vms = memtype.nr_vms;
	info->nr_pending = memtype.nr_pending;
	info->kvm_default_quirks = memtype.kvm_default_quirks;
	info->nmissed = memtype.nmissed_seen;
	info->vms_created = memtype.vms_created;
	info->vms_applied = memtype.vms_applied;
	spin_unlock_irqrestore(&memtype.lock, flags);
}

/* kvm.ko went away: every VM is gone with it. */
void memtype_table_clear(void)
{
	struct memtype_vm_entry *e, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&memtype.lock, flags);
	list_for_each_entry_safe(e, tmp, &memtype.vms, link)
		vm_free_locked(e);
	spin_unlock_irqrestore(&memtype.lock, flags);
}

int memtype_table_init(void)
{
	u32 i;

	spin_lock_init(&memtype.lock);
	INIT_LIST_HEAD(&memtype.vms);
	INIT_LIST_HEAD(&memtype.free_vms);
	hash_init(memtype.vm_hash);
	INIT_WORK(&memtype.argv_work, memtype_argv_work);
	INIT_DELAYED_WORK(&memtype.expire_work, memtype_expire_work);

	memtype.vm_slots = kvcalloc(MEMTYPE_MAX_VMS, sizeof(*memtype.vm_slots),
				    GFP_KERNEL);
	if (!memtype.vm_slots)
		return -ENOMEM;
	memtype.pending = kvcalloc(MEMTYPE_MAX_PENDING, sizeof(*memtype.pending),
				   GFP_KERNEL);
	if (!memtype.pending) {
		kvfree(memtype.vm_slots);
		return -ENOMEM;
	}
	for (i = 0; i < MEMTYPE_MAX_VMS; i++)
		list_add_tail(&memtype.vm_slots[i].link, &memtype.free_vms);
	return 0;
}

/* After the probes are gone: no new work can be queued. */
void memtype_table_exit(void)
{
	cancel_work_sync(&memtype.argv_work);
	cancel_delayed_work_sync(&memtype.expire_work);
	kvfree(memtype.pending);
	kvfree(memtype.vm_slots);
}

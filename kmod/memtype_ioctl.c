// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/memtype: the ioctls of uapi/memtype.h. Every struct is copied in by
 * argsz (copy_struct_from_user: a larger struct is accepted only if the
 * bytes this module does not know are zero) and copied back up to argsz.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memtype_internal.h"

#define MEMTYPE_VM_SIZE_MAX	4096	/* bound on a future struct memtype_vm */

/* Copy in a struct whose first field is argsz; returns argsz or -errno. */
static long memtype_copy_in(void *kbuf, size_t ksize, size_t minsz,
			    void __user *ubuf)
{
	u32 argsz;
	int r;

	if (get_user(argsz, (u32 __user *)ubuf))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	r = copy_struct_from_user(kbuf, ksize, ubuf, argsz);
	if (r)
		return r;
	return argsz;
}

static int memtype_copy_out(void __user *ubuf, const void *kbuf, size_t ksize,
			    u32 argsz)
{
	if (copy_to_user(ubuf, kbuf, min_t(size_t, ksize, argsz)))
		return -EFAULT;
	return 0;
}

static long memtype_ioc_get_info(void __user *ubuf)
{
	struct memtype_info info;
	long argsz;

	argsz = memtype_copy_in(&info, sizeof(info), sizeof(info), ubuf);
	if (argsz < 0)
		return argsz;
	if (info.flags || info.reserved)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	info.argsz = argsz;
	memtype_fill_info(&info);
	return memtype_copy_out(ubuf, &info, sizeof(info), argsz);
}

static int memtype_check_quirks(u64 disable, u64 supported)
{
	if (disable & ~(supported & MEMTYPE_QUIRKS_VALID))
		return -EINVAL;
	return 0;
}

static long memtype_ioc_add_pending(void __user *ubuf)
{
	struct memtype_pending p;
	kuid_t trusted = INVALID_UID;
	long argsz;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	argsz = memtype_copy_in(&p, sizeof(p), sizeof(p), ubuf);
	if (argsz < 0)
		return argsz;
	if (p.flags & ~(MEMTYPE_PENDING_REPLACE | MEMTYPE_PENDING_ANY_UID |
			MEMTYPE_PENDING_TRUST_MACHINE_SLICE))
		return -EINVAL;
	if (memtype_uuid_is_null(p.uuid))
		return -EINVAL;
	if (!p.ttl_ms || p.ttl_ms > MEMTYPE_TTL_MAX_MS)
		return -EINVAL;
	if (memtype_check_quirks(p.disable_quirks, p.supported_quirks))
		return -EINVAL;
	if (!(p.flags & MEMTYPE_PENDING_ANY_UID)) {
		trusted = make_kuid(current_user_ns(), p.trusted_uid);
		if (!uid_valid(trusted))
			return -EINVAL;
	}
	return memtype_pending_add(&p, trusted);
}

static long memtype_ioc_del_pending(void __user *ubuf)
{
	struct memtype_pending p;
	long argsz;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	argsz = memtype_copy_in(&p, sizeof(p), sizeof(p), ubuf);
	if (argsz < 0)
		return argsz;
	if (p.flags)
		return -EINVAL;
	if (memtype_uuid_is_null(p.uuid))
		return -EINVAL;
	return memtype_pending_del(p.uuid);
}

static long memtype_ioc_get_vms(void __user *ubuf)
{
	struct memtype_vm_filter f = {};
	struct memtype_get_vms req;
	struct memtype_vm *vms = NULL;
	u8 __user *dst;
	u32 total = 0, i;
	long argsz;
	int n, r = 0;

	argsz = memtype_copy_in(&req, sizeof(req), sizeof(req), ubuf);
	if (argsz < 0)
		return argsz;
	if (req.flags & ~(MEMTYPE_GET_BY_PID | MEMTYPE_GET_BY_UUID))
		return -EINVAL;
	if (req.reserved || req.capacity > MEMTYPE_MAX_VMS)
		return -EINVAL;
	if (req.capacity && (!req.vm_size || req.vm_size > MEMTYPE_VM_SIZE_MAX))
		return -EINVAL;
	if ((req.flags & MEMTYPE_GET_BY_UUID) && memtype_uuid_is_null(req.uuid))
		return -EINVAL;
	if ((req.flags & MEMTYPE_GET_BY_PID) && req.pid <= 0)
		return -EINVAL;

	f.flags = req.flags;
	f.pid = req.pid;
	memcpy(f.uuid, req.uuid, MEMTYPE_UUID_LEN);
	if (req.capacity) {
		vms = kvcalloc(req.capacity, sizeof(*vms), GFP_KERNEL);
		if (!vms)
			return -ENOMEM;
	}
	n = memtype_collect_vms(&f, vms, req.capacity, &total);
	if (n < 0) {
		r = n;
		goto out;
	}

	/* Entries are vm_size apart; each gets the prefix both sides know. */
	dst = u64_to_user_ptr(req.vms_ptr);
	for (i = 0; i < n; i++, dst += req.vm_size) {
		size_t known = min_t(size_t, req.vm_size, sizeof(*vms));

		if (copy_to_user(dst, &vms[i], known) ||
		    (req.vm_size > known &&
		     clear_user(dst + known, req.vm_size - known))) {
			r = -EFAULT;
			goto out;
		}
	}
	req.count = n;
	req.total = total;
	r = memtype_copy_out(ubuf, &req, sizeof(req), argsz);
out:
	kvfree(vms);
	return r;
}

static long memtype_ioc_apply(void __user *ubuf)
{
	struct memtype_apply req;
	long argsz;
	int r;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	argsz = memtype_copy_in(&req, sizeof(req), sizeof(req), ubuf);
	if (argsz < 0)
		return argsz;
	if (req.flags & ~(MEMTYPE_APPLY_ZAP | MEMTYPE_APPLY_BY_UUID))
		return -EINVAL;
	if (memtype_check_quirks(req.disable_quirks, req.supported_quirks))
		return -EINVAL;
	if ((req.flags & MEMTYPE_APPLY_BY_UUID) ? memtype_uuid_is_null(req.uuid)
						 : req.pid <= 0)
		return -EINVAL;

	req.result = 0;
	r = memtype_apply_late(&req, &req.result, &req.vm);
	if (r)
		return r;
	return memtype_copy_out(ubuf, &req, sizeof(req), argsz);
}

static long memtype_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *ubuf = (void __user *)arg;

	switch (cmd) {
	case MEMTYPE_IOC_GET_INFO:
		return memtype_ioc_get_info(ubuf);
	case MEMTYPE_IOC_ADD_PENDING:
		return memtype_ioc_add_pending(ubuf);
	case MEMTYPE_IOC_DEL_PENDING:
		return memtype_ioc_del_pending(ubuf);
	case MEMTYPE_IOC_GET_VMS:
		return memtype_ioc_get_vms(ubuf);
	case MEMTYPE_IOC_APPLY:
		return memtype_ioc_apply(ubuf);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations memtype_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = memtype_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice memtype_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = MEMTYPE_DEVICE_NAME,
	.fops = &memtype_fops,
	.mode = 0600,
};

int memtype_ioctl_init(void)
{
	return misc_register(&memtype_misc);
}

void memtype_ioctl_exit(void)
{
	misc_deregister(&memtype_misc);
}

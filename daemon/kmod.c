/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/json-util.h"
#include "common/macro.h"
#include "daemon/kmod.h"

const char *kmod_device_path(void)
{
	const char *e = secure_getenv("MEMTYPE_DEVICE");

	return e && *e ? e : MEMTYPE_DEVICE_PATH;
}

int kmod_refresh_info(struct kmod *k, struct mt_error *err)
{
	struct memtype_info info = { .argsz = sizeof(info) };

	if (ioctl(k->fd, MEMTYPE_IOC_GET_INFO, &info) < 0)
		return mt_error_set(err, -errno, "%s: GET_INFO: %s", kmod_device_path(),
				    strerror(errno));
	if (info.abi_version != MEMTYPE_ABI_VERSION)
		return mt_error_set(err, -EPROTO,
				    "%s speaks ABI version %u, this memtype speaks %u: "
				    "install matching memtype.ko and userspace",
				    kmod_device_path(), info.abi_version, MEMTYPE_ABI_VERSION);
	info.kernel_release[sizeof(info.kernel_release) - 1] = '\0';
	k->info = info;
	return 0;
}

int kmod_open(struct kmod *k, struct mt_error *err)
{
	const char *path = kmod_device_path();
	int r;

	*k = (struct kmod){ .fd = -1 };
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0 && (errno == EACCES || errno == EPERM))
		k->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (k->fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENXIO || r == -ENODEV)
			return mt_error_set(err, -ENOENT, "memtype.ko is not loaded (no %s)", path);
		return mt_error_set(err, r, "%s: %s", path, strerror(-r));
	}
	r = kmod_refresh_info(k, err);
	if (r < 0)
		kmod_close(k);
	return r;
}

void kmod_close(struct kmod *k)
{
	if (k && k->fd >= 0)
		close(k->fd);
	if (k)
		k->fd = -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kmod_parse_uuid(const char *s, uint8_t ret[MEMTYPE_UUID_LEN])
{
	size_t len, n = 0;
	bool dashed;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len != 36 && len != 32)
		return -EINVAL;
	dashed = len == 36;
	for (size_t i = 0; i < len;) {
		int hi, lo;

		if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || n >= MEMTYPE_UUID_LEN)
			return -EINVAL;
		ret[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return n == MEMTYPE_UUID_LEN ? 0 : -EINVAL;
}

void kmod_format_uuid(const uint8_t u[MEMTYPE_UUID_LEN], char ret[37])
{
	snprintf(ret, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static int ioctl_error(struct mt_error *err, const char *what, const char *uuid, pid_t pid)
{
	int r = -errno;
	const char *why = strerror(-r);

	if (r == -EPERM)
		why = "changing memtype.ko's policies needs CAP_SYS_ADMIN";
	else if (r == -ENOSPC)
		why = "memtype.ko's table is full";
	if (pid > 0)
		return mt_error_set(err, r, "memtype.ko %s for pid %d: %s", what, (int)pid, why);
	return mt_error_set(err, r, "memtype.ko %s for %s: %s", what, uuid ? uuid : "?", why);
}

int kmod_add_pending(struct kmod *k, const char *uuid, uint64_t disable, uint64_t supported,
		     uint32_t ttl_ms, uid_t trusted_uid, uint32_t trust, struct mt_error *err)
{
	struct memtype_pending p = {
		.argsz = sizeof(p),
		.flags = MEMTYPE_PENDING_REPLACE |
			 (trust & (MEMTYPE_PENDING_ANY_UID | MEMTYPE_PENDING_TRUST_MACHINE_SLICE)),
		.disable_quirks = disable,
		.supported_quirks = supported,
		.ttl_ms = ttl_ms,
		.trusted_uid = (uint32_t)trusted_uid,
	};

	if (kmod_parse_uuid(uuid, p.uuid) < 0)
		return mt_error_set(err, -EINVAL, "VM UUID '%s' is not a UUID", uuid ? uuid : "");
	if (ioctl(k->fd, MEMTYPE_IOC_ADD_PENDING, &p) == 0)
		return 0;
	if (errno == EINVAL && (p.flags & MEMTYPE_PENDING_TRUST_MACHINE_SLICE)) {
		/* a module older than the machine.slice flag: trust by euid only */
		p.flags &= ~MEMTYPE_PENDING_TRUST_MACHINE_SLICE;
		if (ioctl(k->fd, MEMTYPE_IOC_ADD_PENDING, &p) == 0)
			return 0;
	}
	return ioctl_error(err, "could not take the pending policy", uuid, 0);
}

int kmod_del_pending(struct kmod *k, const char *uuid, struct mt_error *err)
{
	struct memtype_pending p = { .argsz = sizeof(p) };

	if (kmod_parse_uuid(uuid, p.uuid) < 0)
		return mt_error_set(err, -EINVAL, "VM UUID '%s' is not a UUID", uuid ? uuid : "");
	if (ioctl(k->fd, MEMTYPE_IOC_DEL_PENDING, &p) < 0) {
		if (errno == ENOENT)
			return 0;
		return ioctl_error(err, "could not drop the pending policy", uuid, 0);
	}
	return 0;
}

int kmod_find_vm(struct kmod *k, pid_t pid, const char *uuid, struct memtype_vm *ret,
		 struct mt_error *err)
{
	struct memtype_vm vms[4];
	struct memtype_get_vms g = {
		.argsz = sizeof(g),
		.capacity = ELEMENTSOF(vms),
		.vms_ptr = (uintptr_t)vms,
		.vm_size = sizeof(vms[0]),
	};

	if (pid > 0) {
		g.flags = MEMTYPE_GET_BY_PID;
		g.pid = pid;
	} else {
		g.flags = MEMTYPE_GET_BY_UUID;
		if (kmod_parse_uuid(uuid, g.uuid) < 0)
			return mt_error_set(err, -EINVAL, "VM UUID '%s' is not a UUID",
					    uuid ? uuid : "");
	}
	if (ioctl(k->fd, MEMTYPE_IOC_GET_VMS, &g) < 0)
		return ioctl_error(err, "could not list its VMs", uuid, pid);
	if (g.count == 0) {
		if (pid > 0)
			return mt_error_set(err, -ENOENT,
					    "memtype.ko tracks no VM created by pid %d (created "
					    "before the module was loaded, or not a KVM VM)",
					    (int)pid);
		return mt_error_set(err, -ENOENT, "memtype.ko tracks no VM with UUID %s", uuid);
	}
	/* A VMM with several VMs (not QEMU): the one with the UUID, else the
	 * newest. */
	for (unsigned i = 0; i < g.count; i++) {
		uint8_t want[MEMTYPE_UUID_LEN];

		if (uuid && kmod_parse_uuid(uuid, want) == 0 && (vms[i].state & MEMTYPE_VM_HAS_UUID) &&
		    memcmp(vms[i].uuid, want, sizeof(want)) == 0) {
			*ret = vms[i];
			return 0;
		}
	}
	*ret = vms[g.count - 1];
	return 0;
}

int kmod_apply(struct kmod *k, pid_t pid, const char *uuid, uint64_t disable,
	       uint64_t supported, bool zap, struct memtype_apply *ret, struct mt_error *err)
{
	struct memtype_apply a = {
		.argsz = sizeof(a),
		.flags = (zap ? MEMTYPE_APPLY_ZAP : 0) | (pid > 0 ? 0 : MEMTYPE_APPLY_BY_UUID),
		.pid = pid,
		.disable_quirks = disable,
		.supported_quirks = supported,
	};

	if (uuid && kmod_parse_uuid(uuid, a.uuid) < 0)
		return mt_error_set(err, -EINVAL, "VM UUID '%s' is not a UUID", uuid);
	if (!uuid && pid <= 0)
		return mt_error_set(err, -EINVAL, "late apply needs a pid or a UUID");
	if (ioctl(k->fd, MEMTYPE_IOC_APPLY, &a) < 0)
		return ioctl_error(err, "could not apply late", uuid, pid);
	*ret = a;
	return 0;
}

struct bit_name {
	uint32_t bit;
	const char *name;
};

static const struct bit_name cap_names[] = {
	{ MEMTYPE_CAP_CREATE_PROBE, "apply-at-creation" },
	{ MEMTYPE_CAP_DESTROY_PROBE, "forget-at-destroy" },
	{ MEMTYPE_CAP_REAPPLY, "reapply-after-vmm" },
	{ MEMTYPE_CAP_LATE_APPLY, "late-apply" },
	{ MEMTYPE_CAP_EPT_ZAP, "ept-zap" },
	{ MEMTYPE_CAP_NONCOHERENT, "noncoherent-readback" },
	{ MEMTYPE_CAP_ENTRY_CHECK, "first-entry-check" },
	{ MEMTYPE_CAP_ARGV_UUID, "argv-uuid" },
};

static const struct bit_name state_names[] = {
	{ MEMTYPE_STATE_KVM_ABSENT, "kvm-absent" },
	{ MEMTYPE_STATE_LAYOUT_MISMATCH, "layout-mismatch" },
	{ MEMTYPE_STATE_MISSED_EVENTS, "missed-events" },
	{ MEMTYPE_STATE_TABLE_FULL, "table-full" },
	{ MEMTYPE_STATE_NO_SUPPORTED, "awaiting-supported-mask" },
};

static const struct bit_name vm_state_names[] = {
	{ MEMTYPE_VM_APPLIED, "applied" },
	{ MEMTYPE_VM_AT_CREATE, "at-creation" },
	{ MEMTYPE_VM_LATE, "late" },
	{ MEMTYPE_VM_BEFORE_ENTRY, "before-first-entry" },
	{ MEMTYPE_VM_CONFLICT, "conflict" },
	{ MEMTYPE_VM_UNTRUSTED, "untrusted-creator" },
	{ MEMTYPE_VM_REAPPLIED, "reapplied" },
	{ MEMTYPE_VM_RESTART_REQUIRED, "restart-required" },
	{ MEMTYPE_VM_HAS_UUID, "uuid" },
	{ MEMTYPE_VM_STALE, "stale" },
};

static struct json_object *bits_json(const struct bit_name *t, size_t n, uint32_t bits)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		if ((bits & t[i].bit) && mt_json_append(a, json_object_new_string(t[i].name)) < 0)
			return json_object_put(a), NULL;
	return a;
}

struct json_object *kmod_caps_json(uint32_t caps)
{
	return bits_json(cap_names, ELEMENTSOF(cap_names), caps);
}

struct json_object *kmod_state_json(uint32_t state)
{
	return bits_json(state_names, ELEMENTSOF(state_names), state);
}

struct json_object *kmod_vm_state_json(uint32_t state)
{
	return bits_json(vm_state_names, ELEMENTSOF(vm_state_names), state);
}

void kmod_vm_state_text(uint32_t s, char *buf, size_t size)
{
	if (s & MEMTYPE_VM_STALE)
		snprintf(buf, size, "memtype.ko missed a KVM event: its record of this VM is not trusted");
	else if (s & MEMTYPE_VM_CONFLICT)
		snprintf(buf, size, "another process claimed this VM's UUID first: nothing applied");
	else if (s & MEMTYPE_VM_UNTRUSTED)
		snprintf(buf, size, "the creating process is not the trusted VMM user: nothing applied");
	else if ((s & MEMTYPE_VM_AT_CREATE) && (s & MEMTYPE_VM_APPLIED))
		snprintf(buf, size, "applied by memtype.ko at VM creation%s%s",
			 (s & MEMTYPE_VM_BEFORE_ENTRY) ? ", before the first guest entry" : "",
			 (s & MEMTYPE_VM_REAPPLIED) ? "; re-applied after the VMM's own quirk change" : "");
	else if (s & MEMTYPE_VM_LATE)
		snprintf(buf, size, "applied late by memtype.ko%s%s",
			 (s & MEMTYPE_VM_BEFORE_ENTRY) ? ", before the first guest entry"
						       : ", after the guest had run",
			 (s & MEMTYPE_VM_RESTART_REQUIRED)
				 ? "; IGNORE_GUEST_PAT takes effect only after a restart" : "");
	else
		snprintf(buf, size, "memtype.ko changed nothing on this VM");
}

struct json_object *kmod_status_json(void)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct mt_error err = {};
	struct kmod k;
	int r;

	if (!o)
		return NULL;
	r = kmod_open(&k, &err);
	if (mt_json_add_string(o, "device", kmod_device_path()) < 0 ||
	    mt_json_add_bool(o, "loaded", r != -ENOENT) < 0)
		return NULL;
	if (r < 0) {
		if (mt_json_add_string(o, "error", mt_error_message(&err, r)) < 0)
			return NULL;
		return TAKE_PTR(o);
	}
	if (mt_json_add_u64(o, "abi_version", k.info.abi_version) < 0 ||
	    mt_json_add_string(o, "kernel", k.info.kernel_release) < 0 ||
	    mt_json_add(o, "caps", kmod_caps_json(k.info.caps)) < 0 ||
	    mt_json_add(o, "state", kmod_state_json(k.info.state)) < 0 ||
	    mt_json_add_u64(o, "vms", k.info.nr_vms) < 0 ||
	    mt_json_add_u64(o, "pending", k.info.nr_pending) < 0 ||
	    mt_json_add_u64(o, "vms_created", k.info.vms_created) < 0 ||
	    mt_json_add_u64(o, "vms_applied", k.info.vms_applied) < 0 ||
	    mt_json_add_hex(o, "kvm_default_quirks", k.info.kvm_default_quirks) < 0 ||
	    mt_json_add_u64(o, "nmissed", k.info.nmissed) < 0) {
		kmod_close(&k);
		return NULL;
	}
	kmod_close(&k);
	return TAKE_PTR(o);
}

#define QEMU_CONF "/etc/libvirt/qemu.conf"
#define VMM_USER_DEFAULT "libvirt-qemu"

/* The value of `user = "..."` in qemu.conf, if set. */
static bool qemu_conf_user(char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen(QEMU_CONF, "re");
	char line[512];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *q;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "user", 4) != 0)
			continue;
		p += 4;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '=')
			continue;
		p = strchr(p, '"');
		if (!p || !(q = strchr(p + 1, '"')))
			continue;
		*q = '\0';
		snprintf(buf, size, "%s", p + 1);
		return buf[0] != '\0';
	}
	return false;
}

int kmod_resolve_vmm_user(const char *spec, uid_t *ret_uid, bool *ret_any, struct mt_error *err)
{
	char conf[256];
	struct passwd *pw;
	uint64_t uid;
	bool from_default = false;

	*ret_any = false;
	if (!spec) {
		from_default = !qemu_conf_user(conf, sizeof(conf));
		spec = from_default ? VMM_USER_DEFAULT : conf;
	}
	if (streq(spec, "any")) {
		*ret_any = true;
		*ret_uid = 0;
		return 0;
	}
	if (spec[0] == '+' || (spec[0] >= '0' && spec[0] <= '9')) {
		if (parse_u64(spec + (spec[0] == '+'), 10, &uid) < 0 || uid >= UINT32_MAX)
			return mt_error_set(err, -EINVAL, "VMM user '%s' is not a uid", spec);
		*ret_uid = (uid_t)uid;
		return 0;
	}
	pw = getpwnam(spec);
	if (pw) {
		*ret_uid = pw->pw_uid;
		return 0;
	}
	if (from_default) {
		*ret_uid = 0;
		return 0;
	}
	return mt_error_set(err, -ENOENT, "VMM user '%s' does not exist", spec);
}

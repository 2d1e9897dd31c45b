/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Userspace side of memtype.ko's ABI (kmod/uapi/memtype.h): open the
 * device, check its ABI version, and the five ioctls, with VM UUIDs as
 * libvirt spells them. Used by memtyped's module applier and by the
 * libvirt hook when memtyped is down. No allocation; errors are negative
 * errnos with a message in err. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "common/error.h"
#include "kmod/uapi/memtype.h"

#define MEMTYPE_DEVICE_PATH "/dev/" MEMTYPE_DEVICE_NAME

struct kmod {
	int fd;
	struct memtype_info info;
};

/* The device: $MEMTYPE_DEVICE (tests), else /dev/memtype. */
const char *kmod_device_path(void);

/* Open the device and read its info. -ENOENT: not loaded (no device);
 * -EPROTO: an ABI this userspace does not speak. */
int kmod_open(struct kmod *k, struct mt_error *err);
void kmod_close(struct kmod *k);
int kmod_refresh_info(struct kmod *k, struct mt_error *err);

/* "01234567-89ab-cdef-0123-456789abcdef" (any case) or 32 hex digits. */
int kmod_parse_uuid(const char *s, uint8_t ret[MEMTYPE_UUID_LEN]);
void kmod_format_uuid(const uint8_t uuid[MEMTYPE_UUID_LEN], char ret[37]);

/* Register (or replace) the pending policy of the VM with uuid. trust: 0 or
 * MEMTYPE_PENDING_ANY_UID and/or MEMTYPE_PENDING_TRUST_MACHINE_SLICE (also
 * trust a QEMU in systemd's machine.slice; dropped, with a retry, when an
 * older module rejects it). */
int kmod_add_pending(struct kmod *k, const char *uuid, uint64_t disable, uint64_t supported,
		     uint32_t ttl_ms, uid_t trusted_uid, uint32_t trust, struct mt_error *err);
/* Drop it; 0 when there was none. */
int kmod_del_pending(struct kmod *k, const char *uuid, struct mt_error *err);
/* The VM created by pid (pid > 0), else the one with uuid. -ENOENT if the
 * module does not track it. */
int kmod_find_vm(struct kmod *k, pid_t pid, const char *uuid, struct memtype_vm *ret,
		 struct mt_error *err);
/* Late apply to the VM created by pid (pid > 0), else the one with uuid. */
int kmod_apply(struct kmod *k, pid_t pid, const char *uuid, uint64_t disable,
	       uint64_t supported, bool zap, struct memtype_apply *ret, struct mt_error *err);

/* Names of the MEMTYPE_CAP_* and MEMTYPE_STATE_* and MEMTYPE_VM_* bits,
 * as JSON arrays of strings. */
struct json_object *kmod_caps_json(uint32_t caps);
struct json_object *kmod_state_json(uint32_t state);
struct json_object *kmod_vm_state_json(uint32_t state);
/* One line for people: "applied at creation, before the first guest entry". */
void kmod_vm_state_text(uint32_t state, char *buf, size_t size);
/* memtype.ko as GetStatus shows it: loaded, abi, caps, state, counts. */
struct json_object *kmod_status_json(void);

/* The euid memtype.ko trusts as the VMM: spec is a user name, a uid
 * ("+0" as libvirt writes it too), or "any"; NULL: the `user` of
 * /etc/libvirt/qemu.conf, else Debian's "libvirt-qemu", else root. */
int kmod_resolve_vmm_user(const char *spec, uid_t *ret_uid, bool *ret_any,
			  struct mt_error *err);

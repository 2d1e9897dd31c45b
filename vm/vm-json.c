/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A JSON view of the VM model, for `memtypectl plan`/`show` and the
 * daemon's API. Absent strings are null; sizes are bytes or KiB as named. */
#include <errno.h>
#include <json-c/json.h>

#include "common/macro.h"
#include "vm.h"

static const char *const hostdev_kind_names[] = {
	[VM_HOSTDEV_PCI] = "pci",
	[VM_HOSTDEV_MDEV] = "mdev",
	[VM_HOSTDEV_INTERFACE] = "interface",
	[VM_HOSTDEV_INTERFACE_POOL] = "interface-pool",
};

static const char *const firmware_names[] = {
	[VM_FIRMWARE_UNKNOWN] = "unknown",
	[VM_FIRMWARE_BIOS] = "bios",
	[VM_FIRMWARE_EFI] = "efi",
};

static const char *name_or(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] ? names[v] : "invalid";
}

/* Add key: value to o, taking value over; false on ENOMEM. */
static bool add(json_object *o, const char *key, json_object *value)
{
	if (!value || json_object_object_add(o, key, value) < 0) {
		json_object_put(value);
		return false;
	}
	return true;
}

/* s, or null for "" (an unset field). */
static bool add_string(json_object *o, const char *key, const char *s)
{
	if (!s || !*s)
		return json_object_object_add(o, key, NULL) == 0;
	return add(o, key, json_object_new_string(s));
}

static bool add_bool(json_object *o, const char *key, bool b)
{
	return add(o, key, json_object_new_boolean(b));
}

static bool add_u64(json_object *o, const char *key, uint64_t v)
{
	return add(o, key, json_object_new_uint64(v));
}

static json_object *done_or_put(json_object *o, bool ok)
{
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *hostdev_to_json(const struct vm_hostdev *h)
{
	json_object *o = json_object_new_object();
	bool ok;

	if (!o)
		return NULL;
	ok = add_string(o, "kind", name_or(hostdev_kind_names, ELEMENTSOF(hostdev_kind_names),
					    h->kind)) &&
	     add_string(o, "bdf", h->bdf) &&
	     add_bool(o, "managed", h->managed);
	if (ok && h->kind == VM_HOSTDEV_MDEV)
		ok = add_string(o, "mdev_uuid", h->mdev_uuid) &&
		     add_string(o, "mdev_model", h->mdev_model);
	if (ok && (h->kind == VM_HOSTDEV_INTERFACE || h->kind == VM_HOSTDEV_INTERFACE_POOL))
		ok = add_string(o, "network", h->network);
	return done_or_put(o, ok);
}

static json_object *video_to_json(const struct vm_video *v)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	return done_or_put(o, add_string(o, "model", video_model_to_string(v->model)) &&
			      add_bool(o, "primary", v->primary) &&
			      add_bool(o, "blob", v->blob) &&
			      add_bool(o, "accel3d", v->accel3d) &&
			      add_u64(o, "vram_kib", v->vram_kib));
}

static json_object *shmem_to_json(const struct vm_shmem *s)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	return done_or_put(o, add_string(o, "name", s->name) &&
			      add_string(o, "model", s->model) &&
			      add_u64(o, "size_bytes", s->size_bytes) &&
			      add_bool(o, "looking_glass", s->looking_glass));
}

/* An array of items (n of them, each size bytes) converted by to_json. */
static json_object *array_to_json(const void *items, size_t n, size_t size,
				  json_object *(*to_json)(const void *item))
{
	json_object *a = json_object_new_array_ext((int)n);

	for (size_t i = 0; a && i < n; i++) {
		json_object *item = to_json((const char *)items + i * size);

		if (!item || json_object_array_add(a, item) < 0) {
			json_object_put(item);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static json_object *hostdev_item(const void *p) { return hostdev_to_json(p); }
static json_object *video_item(const void *p) { return video_to_json(p); }
static json_object *shmem_item(const void *p) { return shmem_to_json(p); }

int vm_to_json(const struct vm *vm, struct json_object **ret)
{
	json_object *o;
	bool ok;

	if (!vm || !ret)
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	ok = add_string(o, "name", vm->name) &&
	     add_string(o, "uuid", vm->uuid) &&
	     add_string(o, "type", vm->domain_type) &&
	     add(o, "hostdevs", array_to_json(vm->hostdevs, vm->n_hostdevs,
					      sizeof(*vm->hostdevs), hostdev_item)) &&
	     add(o, "videos", array_to_json(vm->videos, vm->n_videos,
					    sizeof(*vm->videos), video_item)) &&
	     add(o, "shmems", array_to_json(vm->shmems, vm->n_shmems,
					    sizeof(*vm->shmems), shmem_item)) &&
	     add_bool(o, "virtio_gpu_hostmem", vm->virtio_gpu_hostmem) &&
	     add_u64(o, "hostmem_bytes", vm->hostmem_bytes) &&
	     add_bool(o, "venus", vm->venus) &&
	     add_string(o, "launch_security", launch_security_to_string(vm->launch_security)) &&
	     add_string(o, "firmware",
			name_or(firmware_names, ELEMENTSOF(firmware_names), vm->firmware)) &&
	     add_string(o, "cpu_mode", vm->cpu_mode);
	if (!ok) {
		json_object_put(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

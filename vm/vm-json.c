/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A JSON view of the VM model, for `memtypectl plan`/`show` and the
 * daemon's API. Absent strings are null; sizes are bytes or KiB as named. */
#include <errno.h>
#include <json-c/json.h>

#include "common/json-util.h"
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

static json_object *hostdev_to_json(const struct vm_hostdev *h)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *kind = name_or(hostdev_kind_names, ELEMENTSOF(hostdev_kind_names), h->kind);

	if (!o || mt_json_add_string(o, "kind", kind) < 0 ||
	    mt_json_add_string_or_null(o, "bdf", h->bdf) < 0 ||
	    mt_json_add_bool(o, "managed", h->managed) < 0)
		return NULL;
	if (h->kind == VM_HOSTDEV_MDEV &&
	    (mt_json_add_string_or_null(o, "mdev_uuid", h->mdev_uuid) < 0 ||
	     mt_json_add_string_or_null(o, "mdev_model", h->mdev_model) < 0))
		return NULL;
	if ((h->kind == VM_HOSTDEV_INTERFACE || h->kind == VM_HOSTDEV_INTERFACE_POOL) &&
	    mt_json_add_string_or_null(o, "network", h->network) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *video_to_json(const struct vm_video *v)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || mt_json_add_string(o, "model", video_model_to_string(v->model)) < 0 ||
	    mt_json_add_bool(o, "primary", v->primary) < 0 ||
	    mt_json_add_bool(o, "blob", v->blob) < 0 ||
	    mt_json_add_bool(o, "accel3d", v->accel3d) < 0 ||
	    mt_json_add_u64(o, "vram_kib", v->vram_kib) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *shmem_to_json(const struct vm_shmem *s)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || mt_json_add_string_or_null(o, "name", s->name) < 0 ||
	    mt_json_add_string_or_null(o, "model", s->model) < 0 ||
	    mt_json_add_u64(o, "size_bytes", s->size_bytes) < 0 ||
	    mt_json_add_bool(o, "looking_glass", s->looking_glass) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* An array of items (n of them, each size bytes) converted by to_json. */
static json_object *array_to_json(const void *items, size_t n, size_t size,
				  json_object *(*to_json)(const void *item))
{
	_cleanup_json_ json_object *a = json_object_new_array_ext((int)n);

	for (size_t i = 0; a && i < n; i++)
		if (mt_json_append(a, to_json((const char *)items + i * size)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_object *hostdev_item(const void *p) { return hostdev_to_json(p); }
static json_object *video_item(const void *p) { return video_to_json(p); }
static json_object *shmem_item(const void *p) { return shmem_to_json(p); }

int vm_to_json(const struct vm *vm, struct json_object **ret)
{
	_cleanup_json_ json_object *o = NULL;

	if (!vm || !ret)
		return -EINVAL;
	o = json_object_new_object();
	if (!o || mt_json_add_string_or_null(o, "name", vm->name) < 0 ||
	    mt_json_add_string_or_null(o, "uuid", vm->uuid) < 0 ||
	    mt_json_add_string_or_null(o, "type", vm->domain_type) < 0 ||
	    mt_json_add(o, "hostdevs", array_to_json(vm->hostdevs, vm->n_hostdevs,
						     sizeof(*vm->hostdevs), hostdev_item)) < 0 ||
	    mt_json_add(o, "videos", array_to_json(vm->videos, vm->n_videos,
						   sizeof(*vm->videos), video_item)) < 0 ||
	    mt_json_add(o, "shmems", array_to_json(vm->shmems, vm->n_shmems,
						   sizeof(*vm->shmems), shmem_item)) < 0 ||
	    mt_json_add_bool(o, "virtio_gpu_hostmem", vm->virtio_gpu_hostmem) < 0 ||
	    mt_json_add_u64(o, "hostmem_bytes", vm->hostmem_bytes) < 0 ||
	    mt_json_add_bool(o, "venus", vm->venus) < 0 ||
	    mt_json_add_string(o, "launch_security", launch_security_to_string(vm->launch_security)) < 0 ||
	    mt_json_add_string(o, "firmware",
			       name_or(firmware_names, ELEMENTSOF(firmware_names), vm->firmware)) < 0 ||
	    mt_json_add_string_or_null(o, "cpu_mode", vm->cpu_mode) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

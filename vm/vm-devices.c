/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The devices of a libvirt domain that matter for memory types: assigned
 * PCI functions and mdevs (<hostdev>, <interface type='hostdev'>, resolved
 * hostdev network pools), emulated displays (<video>) and shared memory
 * (<shmem>). Every other device is skipped. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "vm-internal.h"
#include "vm.h"

struct pci_address_field {
	const char *name;
	uint64_t max;
	bool required;
};

/* One PCI address attribute in libvirt's number syntax (base 0). */
static int pci_address_field(const xmlNode *addr, const char *owner,
			     const struct pci_address_field *f, unsigned *ret,
			     struct mt_error *err)
{
	_cleanup_xml_free_ char *v = xml_attr(addr, f->name);
	uint64_t value;

	if (!v) {
		if (f->required)
			return vm_xml_error(err, addr, -EINVAL, "%s PCI address has no %s attribute",
					    owner, f->name);
		*ret = 0;
		return 0;
	}
	if (parse_u64(v, 0, &value) < 0)
		return vm_xml_error(err, addr, -EINVAL, "%s PCI address: %s='%.32s' is not a number",
				    owner, f->name, v);
	if (value > f->max)
		return vm_xml_error(err, addr, -ERANGE,
				    "%s PCI address: %s='%.32s' is out of range (at most %#llx)",
				    owner, f->name, v, (unsigned long long)f->max);
	*ret = (unsigned)value;
	return 0;
}

/* <address [type='pci'] domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
 * below <source> (may be NULL) of device into a normalised BDF; owner names
 * the device in errors. The device's own <address> is the guest's: unused. */
static int parse_pci_source(const xmlNode *device, const xmlNode *source, const char *owner,
			    char ret_bdf[MT_BDF_MAX], struct mt_error *err)
{
	static const struct pci_address_field fields[] = {
		{ "domain", 0xffff, false },
		{ "bus", 0xff, true },
		{ "slot", 0x1f, true },
		{ "function", 0x7, true },
	};
	const xmlNode *addr = source ? xml_child(source, "address") : NULL;
	_cleanup_xml_free_ char *type = NULL;
	unsigned v[ELEMENTSOF(fields)];
	char bdf[32];

	if (!addr)
		return vm_xml_error(err, source ?: device, -EINVAL, "%s has no <source><address>",
				    owner);
	type = xml_attr(addr, "type");
	if (type && !streq(type, "pci"))
		return vm_xml_error(err, addr, -EINVAL, "%s source address type='%.32s' is not 'pci'",
				    owner, type);
	for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
		int r = pci_address_field(addr, owner, &fields[i], &v[i], err);

		if (r < 0)
			return r;
	}
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", v[0], v[1], v[2], v[3]);
	if (bdf_normalize(bdf, ret_bdf) < 0)
		return vm_xml_error(err, addr, -EINVAL, "%s PCI address %s is not valid", owner, bdf);
	return 0;
}

static int hostdev_append(struct vm *vm, const xmlNode *n, struct vm_hostdev **ret,
			  struct mt_error *err)
{
	if (vm->n_hostdevs >= VM_MAX_DEVICES)
		return vm_xml_error(err, n, -E2BIG,
				    "more than %u host devices (<hostdev>, <interface>)",
				    VM_MAX_DEVICES);
	*ret = array_append(&vm->hostdevs, &vm->n_hostdevs, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

static int parse_mdev_source(const xmlNode *n, struct vm_hostdev *h, struct mt_error *err)
{
	const xmlNode *source = xml_child(n, "source");
	const xmlNode *addr = source ? xml_child(source, "address") : NULL;
	_cleanup_xml_free_ char *uuid = NULL;
	int r;

	if (!addr)
		return vm_xml_error(err, n, -EINVAL, "<hostdev type='mdev'> has no <source><address>");
	uuid = xml_attr(addr, "uuid");
	if (!uuid)
		return vm_xml_error(err, addr, -EINVAL, "<hostdev type='mdev'> address has no uuid");
	if (uuid_normalize(uuid, h->mdev_uuid) < 0)
		return vm_xml_error(err, addr, -EINVAL,
				    "<hostdev type='mdev'> address uuid='%.64s' is not a valid UUID", uuid);
	r = xml_attr_copy(n, "model", h->mdev_model, sizeof(h->mdev_model), err);
	return r < 0 ? r : 0;
}

static int parse_hostdev(const xmlNode *n, struct vm *vm, struct mt_error *err)
{
	_cleanup_xml_free_ char *mode = xml_attr(n, "mode"), *type = xml_attr(n, "type");
	struct vm_hostdev *h = NULL;
	int r;

	/* mode='capabilities' (storage, misc, net) and USB/SCSI hostdevs assign
	 * no PCI function. */
	if (mode && !streq(mode, "subsystem"))
		return 0;
	if (!type)
		return vm_xml_error(err, n, -EINVAL, "<hostdev> has no type attribute");
	if (!streq(type, "pci") && !streq(type, "mdev"))
		return 0;
	r = hostdev_append(vm, n, &h, err);
	if (r < 0)
		return r;
	r = xml_attr_bool(n, "managed", &h->managed, err);
	if (r < 0)
		return r;
	if (streq(type, "mdev")) {
		h->kind = VM_HOSTDEV_MDEV;
		return parse_mdev_source(n, h, err);
	}
	h->kind = VM_HOSTDEV_PCI;
	return parse_pci_source(n, xml_child(n, "source"), "<hostdev type='pci'>", h->bdf, err);
}

/* <interface type='network'> as libvirt's status XML shows it once the
 * network was resolved: <actual type='hostdev'> with the VF's address, or
 * without one while the VF is still to be picked from the pool. */
static int parse_network_interface(const xmlNode *n, struct vm *vm, struct mt_error *err)
{
	const xmlNode *actual = xml_child(n, "actual"), *source;
	_cleanup_xml_free_ char *actual_type = actual ? xml_attr(actual, "type") : NULL;
	struct vm_hostdev *h = NULL;
	int r;

	if (!actual_type || !streq(actual_type, "hostdev"))
		return 0;  /* an ordinary NIC, or a network not resolved yet */
	r = hostdev_append(vm, n, &h, err);
	if (r < 0)
		return r;
	r = xml_attr_bool(actual, "managed", &h->managed, err);
	if (r < 0)
		return r;
	source = xml_child(n, "source");
	if (source) {
		r = xml_attr_copy(source, "network", h->network, sizeof(h->network), err);
		if (r < 0)
			return r;
	}
	source = xml_child(actual, "source");
	if (!source || !xml_child(source, "address")) {
		h->kind = VM_HOSTDEV_INTERFACE_POOL;
		return 0;
	}
	h->kind = VM_HOSTDEV_INTERFACE;
	return parse_pci_source(actual, source, "<interface type='network'> <actual type='hostdev'>",
				h->bdf, err);
}

static int parse_interface(const xmlNode *n, struct vm *vm, struct mt_error *err)
{
	_cleanup_xml_free_ char *type = xml_attr(n, "type");
	struct vm_hostdev *h = NULL;
	int r;

	if (type && streq(type, "network"))
		return parse_network_interface(n, vm, err);
	if (!type || !streq(type, "hostdev"))
		return 0;
	r = hostdev_append(vm, n, &h, err);
	if (r < 0)
		return r;
	h->kind = VM_HOSTDEV_INTERFACE;
	r = xml_attr_bool(n, "managed", &h->managed, err);
	if (r < 0)
		return r;
	return parse_pci_source(n, xml_child(n, "source"), "<interface type='hostdev'>",
				h->bdf, err);
}

/* <driver blob='on'/> sits under <video> since libvirt 9.2; accept it
 * under <model> too, where it was first proposed. */
static int parse_video_blob(const xmlNode *video, const xmlNode *model, struct vm_video *v,
			    struct mt_error *err)
{
	const xmlNode *parents[] = { video, model };

	for (size_t i = 0; i < ELEMENTSOF(parents); i++) {
		const xmlNode *driver = parents[i] ? xml_child(parents[i], "driver") : NULL;
		int r = driver ? xml_attr_bool(driver, "blob", &v->blob, err) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_video_model(const xmlNode *model, struct vm_video *v, bool *ret_primary,
			     struct mt_error *err)
{
	_cleanup_xml_free_ char *type = xml_attr(model, "type");
	const xmlNode *accel = xml_child(model, "acceleration");
	uint64_t vram = 0, vgamem = 0;
	int m, r;

	m = type ? video_model_from_string(type) : -EINVAL;
	v->model = m < 0 ? VIDEO_MODEL_OTHER : (enum video_model)m;
	r = xml_attr_bool(model, "primary", ret_primary, err);
	if (r >= 0)
		r = xml_attr_u64(model, "vram", 10, UINT32_MAX, &vram, err);
	if (r >= 0)
		r = xml_attr_u64(model, "vgamem", 10, UINT32_MAX, &vgamem, err);
	if (r >= 0 && accel)
		r = xml_attr_bool(accel, "accel3d", &v->accel3d, err);
	if (r < 0)
		return r;
	/* qxl's VGA-compatible framebuffer is vgamem; vram is its surface area. */
	v->vram_kib = v->model == VIDEO_MODEL_QXL && vgamem ? vgamem : vram;
	return 0;
}

static int parse_video(const xmlNode *n, struct vm *vm, struct mt_error *err)
{
	const xmlNode *model = xml_child(n, "model");
	bool primary = false;
	struct vm_video *v;
	int r;

	if (vm->n_videos >= VM_MAX_DEVICES)
		return vm_xml_error(err, n, -E2BIG, "more than %u <video> devices", VM_MAX_DEVICES);
	v = array_append(&vm->videos, &vm->n_videos, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (model) {
		r = parse_video_model(model, v, &primary, err);
		if (r < 0)
			return r;
	}
	/* libvirt allows one primary; keep the first that claims it. */
	if (primary) {
		for (size_t i = 0; i + 1 < vm->n_videos; i++)
			primary &= !vm->videos[i].primary;
		v->primary = primary;
	}
	return parse_video_blob(n, model, v, err);
}

/* Looking Glass is recognised by name only: libvirt has no marker for it,
 * and its documentation and every guide name the device "looking-glass"
 * (some use "looking_glass"). Any other shmem is just shared memory. */
static bool shmem_name_is_looking_glass(const char *name)
{
	return strcasestr(name, "looking-glass") || strcasestr(name, "looking_glass");
}

/* <size unit='M'>32</size>; libvirt's default unit here is bytes. */
static int parse_shmem_size(const xmlNode *size, struct vm_shmem *s, struct mt_error *err)
{
	_cleanup_xml_free_ char *unit = xml_attr(size, "unit");
	_cleanup_free_ char *text = xml_text(size);
	uint64_t value;
	int r;

	if (!text)
		return -ENOMEM;
	if (parse_u64(text, 10, &value) < 0)
		return vm_xml_error(err, size, -EINVAL, "<shmem> <size> '%.32s' is not a number", text);
	r = libvirt_scale(value, unit, &s->size_bytes);
	if (r == -EINVAL)
		return vm_xml_error(err, size, r, "<shmem> <size unit='%.32s'> is not a known unit",
				    unit);
	if (r < 0)
		return vm_xml_error(err, size, r, "<shmem> <size> %s %s is too large", text,
				    unit ?: "bytes");
	return 0;
}

static int parse_shmem(const xmlNode *n, struct vm *vm, struct mt_error *err)
{
	const xmlNode *model = xml_child(n, "model"), *size = xml_child(n, "size");
	struct vm_shmem *s;
	int r;

	if (vm->n_shmems >= VM_MAX_DEVICES)
		return vm_xml_error(err, n, -E2BIG, "more than %u <shmem> devices", VM_MAX_DEVICES);
	s = array_append(&vm->shmems, &vm->n_shmems, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = xml_attr_copy(n, "name", s->name, sizeof(s->name), err);
	if (r == 0)
		return vm_xml_error(err, n, -EINVAL, "<shmem> has no name attribute");
	if (r > 0 && model)
		r = xml_attr_copy(model, "type", s->model, sizeof(s->model), err);
	if (r >= 0 && size)
		r = parse_shmem_size(size, s, err);
	if (r < 0)
		return r;
	s->looking_glass = shmem_name_is_looking_glass(s->name);
	return 0;
}

static const struct {
	const char *element;
	int (*parse)(const xmlNode *n, struct vm *vm, struct mt_error *err);
} device_parsers[] = {
	{ "hostdev", parse_hostdev },
	{ "interface", parse_interface },
	{ "video", parse_video },
	{ "shmem", parse_shmem },
};

static int parse_device(const xmlNode *n, struct vm *vm, struct mt_error *err)
{
	for (size_t i = 0; i < ELEMENTSOF(device_parsers); i++)
		if (xml_is(n, device_parsers[i].element))
			return device_parsers[i].parse(n, vm, err);
	return 0;
}

int vm_parse_devices(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	for (xmlNode *d = xmlFirstElementChild((xmlNode *)domain); d; d = xmlNextElementSibling(d)) {
		if (!xml_is(d, "devices"))
			continue;
		for (xmlNode *n = xmlFirstElementChild(d); n; n = xmlNextElementSibling(n)) {
			int r = parse_device(n, vm, err);

			if (r < 0)
				return r;
		}
	}
	/* Without primary='yes', libvirt makes the first <video> the primary. */
	if (vm->n_videos > 0) {
		bool any = false;

		for (size_t i = 0; i < vm->n_videos; i++)
			any |= vm->videos[i].primary;
		if (!any)
			vm->videos[0].primary = true;
	}
	return 0;
}

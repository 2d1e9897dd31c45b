/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-gpu hostmem and venus, which libvirt has no element for and which
 * reach QEMU through libvirt's QEMU namespace: <qemu:commandline> (-device,
 * -set device.ID.PROP=, -global DRIVER.PROP=) or <qemu:override> (libvirt
 * >= 8.2). The namespace is matched by URI, whatever its prefix. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "qemu-opts.h"
#include "vm-internal.h"
#include "vm.h"

/* More passthrough arguments than any real configuration uses; it bounds
 * the work a hostile document can cause. */
#define QEMU_MAX_ARGS (VM_MAX_DEVICES * 16)

struct gpu_props {
	bool has_hostmem;
	uint64_t hostmem;
	bool has_venus;
	bool venus;
};

/* A device QEMU will create that may be a virtio-gpu: one of libvirt's
 * <video> devices or a -device argument. Its own properties win over
 * -global defaults, whatever the order they are given in. */
struct gpu_candidate {
	char id[64];            /* libvirt alias or -device id= */
	char driver[64];        /* "" for <video>: libvirt picks the driver */
	bool virtio_gpu;
	struct gpu_props own, global;
};

struct gpu_set {
	struct gpu_candidate *c;
	size_t n;
};

/* One <qemu:arg>, kept with its node to name it in errors. */
struct qemu_arg {
	const xmlNode *node;
	char *value;
};

struct qemu_args {
	struct qemu_arg *a;
	size_t n;
};

static void qemu_args_done(struct qemu_args *args)
{
	for (size_t i = 0; i < args->n; i++)
		xmlFree(args->a[i].value);
	free(args->a);
}

static void gpu_set_done(struct gpu_set *set)
{
	free(set->c);
}

static struct gpu_candidate *gpu_set_find(struct gpu_set *set, const char *id)
{
	for (size_t i = 0; id && *id && i < set->n; i++)
		if (streq(set->c[i].id, id))
			return &set->c[i];
	return NULL;
}

/* Set one property of interest; others are QEMU's business. what names the
 * argument or element in errors. */
static int gpu_props_set(struct gpu_props *p, const char *key, const char *value,
			 const xmlNode *n, const char *what, struct mt_error *err)
{
	if (streq(key, "hostmem")) {
		if (qemu_parse_size(value, &p->hostmem) < 0)
			return vm_xml_error(err, n, -EINVAL, "%s: hostmem='%.32s' is not a valid size",
					    what, value);
		p->has_hostmem = true;
	} else if (streq(key, "venus")) {
		if (qemu_parse_bool(value, &p->venus) < 0)
			return vm_xml_error(err, n, -EINVAL, "%s: venus='%.32s' is not a boolean",
					    what, value);
		p->has_venus = true;
	}
	return 0;
}

static struct gpu_candidate *gpu_set_add(struct gpu_set *set, const char *id, const char *driver)
{
	struct gpu_candidate *c = array_append(&set->c, &set->n, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id ?: "");
	snprintf(c->driver, sizeof(c->driver), "%s", driver ?: "");
	return c;
}

/* libvirt's <video> devices, by alias: <alias name='...'/> when the XML has
 * one (live XML, user aliases), otherwise "videoN" as libvirt assigns. */
static int gpu_set_add_videos(struct gpu_set *set, const xmlNode *domain)
{
	size_t index = 0;

	for (xmlNode *d = xmlFirstElementChild((xmlNode *)domain); d; d = xmlNextElementSibling(d)) {
		for (xmlNode *n = xml_is(d, "devices") ? xmlFirstElementChild(d) : NULL; n;
		     n = xmlNextElementSibling(n)) {
			const xmlNode *model = xml_child(n, "model"), *alias = xml_child(n, "alias");
			_cleanup_xml_free_ char *type = NULL, *name = NULL;
			struct gpu_candidate *c;
			char id[32];

			if (!xml_is(n, "video"))
				continue;
			type = model ? xml_attr(model, "type") : NULL;
			name = alias ? xml_attr(alias, "name") : NULL;
			snprintf(id, sizeof(id), "video%zu", index++);
			c = gpu_set_add(set, name ?: id, NULL);
			if (!c)
				return -ENOMEM;
			c->virtio_gpu = type && streq(type, "virtio");
		}
	}
	return 0;
}

/* <qemu:property name='hostmem' type='unsigned' value='4294967296'/> */
static int apply_override_property(struct gpu_candidate *c, const xmlNode *p,
				   struct mt_error *err)
{
	_cleanup_xml_free_ char *name = xml_attr(p, "name"), *type = xml_attr(p, "type");
	_cleanup_xml_free_ char *value = xml_attr(p, "value");
	bool is_bool = type && streq(type, "bool");

	if (!name)
		return vm_xml_error(err, p, -EINVAL, "<qemu:property> has no name attribute");
	if (type && streq(type, "remove")) {
		if (streq(name, "hostmem"))
			c->own.has_hostmem = false;
		else if (streq(name, "venus"))
			c->own.has_venus = false;
		return 0;
	}
	if (!value)
		return vm_xml_error(err, p, -EINVAL, "<qemu:property name='%.32s'> has no value",
				    name);
	/* libvirt's bool type takes only true/false. */
	if (is_bool && !streq(value, "true") && !streq(value, "false"))
		return vm_xml_error(err, p, -EINVAL,
				    "<qemu:property name='%.32s' type='bool'>: value '%.32s' is not true or false",
				    name, value);
	return gpu_props_set(&c->own, name, value, p, "<qemu:property>", err);
}

/* <qemu:override><qemu:device alias='video0'><qemu:frontend><qemu:property .../> */
static int apply_override(struct gpu_set *set, const xmlNode *override, struct mt_error *err)
{
	for (xmlNode *dev = xmlFirstElementChild((xmlNode *)override); dev;
	     dev = xmlNextElementSibling(dev)) {
		_cleanup_xml_free_ char *alias = NULL;
		struct gpu_candidate *c;

		if (!xml_is_ns(dev, QEMU_NS_URI, "device"))
			continue;
		alias = xml_attr(dev, "alias");
		c = gpu_set_find(set, alias);
		if (!c)
			continue;  /* libvirt overrides only the devices it defines */
		for (xmlNode *fe = xmlFirstElementChild(dev); fe; fe = xmlNextElementSibling(fe)) {
			if (!xml_is_ns(fe, QEMU_NS_URI, "frontend"))
				continue;
			for (xmlNode *p = xmlFirstElementChild(fe); p; p = xmlNextElementSibling(p)) {
				int r = xml_is_ns(p, QEMU_NS_URI, "property") ?
						apply_override_property(c, p, err) : 0;

				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static int collect_args(const xmlNode *cmdline, struct qemu_args *args, struct mt_error *err)
{
	for (xmlNode *n = xmlFirstElementChild((xmlNode *)cmdline); n; n = xmlNextElementSibling(n)) {
		struct qemu_arg *a;

		if (!xml_is_ns(n, QEMU_NS_URI, "arg"))
			continue;
		if (args->n >= QEMU_MAX_ARGS)
			return vm_xml_error(err, n, -E2BIG, "more than %u <qemu:arg> elements",
					    QEMU_MAX_ARGS);
		a = array_append(&args->a, &args->n, sizeof(*a));
		if (!a)
			return -ENOMEM;
		a->node = n;
		a->value = xml_attr(n, "value");
		if (!a->value)
			return vm_xml_error(err, n, -EINVAL, "<qemu:arg> has no value attribute");
	}
	return 0;
}

/* The JSON form of -device: {"driver": "...", "id": "...", "hostmem": N}. */
static int add_json_device(struct gpu_set *set, const struct qemu_arg *a, struct mt_error *err)
{
	json_object *obj = json_tokener_parse(a->value), *v;
	struct gpu_candidate *c;
	char what[96];
	int r = 0;

	snprintf(what, sizeof(what), "-device '%.64s'", a->value);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return vm_xml_error(err, a->node, -EINVAL,
				    "<qemu:arg value='%.48s'>: -device JSON is not a JSON object", a->value);
	}
	v = json_object_object_get(obj, "driver");
	if (!qemu_driver_is_virtio_gpu(json_object_get_string(v)))
		goto out;
	c = gpu_set_add(set, json_object_get_string(json_object_object_get(obj, "id")),
			json_object_get_string(v));
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	c->virtio_gpu = true;
	json_object_object_foreach(obj, key, value) {
		/* Numbers and booleans read back as QEMU's own syntax. */
		const char *s = json_object_get_string(value);

		r = gpu_props_set(&c->own, key, s ?: "", a->node, what, err);
		if (r < 0)
			break;
	}
out:
	json_object_put(obj);
	return r;
}

static int add_device(struct gpu_set *set, const struct qemu_arg *a, struct mt_error *err)
{
	struct qemu_opts opts = {};
	struct gpu_candidate *c;
	const char *driver;
	char what[96];
	int r;

	if (a->value[0] == '{')
		return add_json_device(set, a, err);
	if (qemu_opts_parse(a->value, "driver", &opts) < 0)
		return vm_xml_error(err, a->node, -EINVAL,
				    "<qemu:arg value='%.48s'>: -device has an empty property name", a->value);
	driver = qemu_opts_get(&opts, "driver");
	snprintf(what, sizeof(what), "-device '%.64s'", a->value);
	r = 0;
	if (qemu_driver_is_virtio_gpu(driver)) {
		c = gpu_set_add(set, qemu_opts_get(&opts, "id"), driver);
		if (!c)
			r = -ENOMEM;
		for (size_t i = 0; c && r >= 0 && i < opts.n_opts; i++)
			r = gpu_props_set(&c->own, opts.opts[i].key, opts.opts[i].value, a->node,
					  what, err);
		if (c)
			c->virtio_gpu = true;
	}
	qemu_opts_done(&opts);
	return r;
}

/* -set device.ID.PROP=VALUE */
static int apply_set(struct gpu_set *set, const struct qemu_arg *a, struct mt_error *err)
{
	char group[64], id[64], prop[64];
	struct gpu_candidate *c;
	char what[96];
	int offset = 0;

	if (sscanf(a->value, "%63[^.].%63[^.].%63[^=]%n", group, id, prop, &offset) != 3 ||
	    a->value[offset] != '=')
		return vm_xml_error(err, a->node, -EINVAL,
				    "<qemu:arg value='%.48s'>: -set expects GROUP.ID.PROPERTY=VALUE",
				    a->value);
	if (!streq(group, "device"))
		return 0;
	c = gpu_set_find(set, id);
	if (!c)
		return 0;  /* not a display device we know of */
	snprintf(what, sizeof(what), "-set '%.64s'", a->value);
	return gpu_props_set(&c->own, prop, a->value + offset + 1, a->node, what, err);
}

/* Whether -global DRIVER applies to c. libvirt picks virtio-vga(-gl) or
 * virtio-gpu(-gl)-pci for a virtio <video> by primary and accel3d; any
 * virtio-gpu driver is taken to reach it, erring towards seeing hostmem. */
static bool global_applies(const struct gpu_candidate *c, const char *driver)
{
	if (c->driver[0])
		return streq(c->driver, driver);
	return c->virtio_gpu && qemu_driver_is_virtio_gpu(driver);
}

/* -global DRIVER.PROP=VALUE or -global driver=D,property=P,value=V */
static int apply_global(struct gpu_set *set, const struct qemu_arg *a, struct mt_error *err)
{
	char driver[64], prop[64], what[96];
	struct qemu_opts opts = {};
	const char *value;
	int offset = 0, r = 0;

	if (sscanf(a->value, "%63[^.=].%63[^=]%n", driver, prop, &offset) == 2 &&
	    a->value[offset] == '=') {
		value = a->value + offset + 1;
	} else if (qemu_opts_parse(a->value, NULL, &opts) == 0 && qemu_opts_get(&opts, "driver") &&
		   qemu_opts_get(&opts, "property") && qemu_opts_get(&opts, "value")) {
		snprintf(driver, sizeof(driver), "%s", qemu_opts_get(&opts, "driver"));
		snprintf(prop, sizeof(prop), "%s", qemu_opts_get(&opts, "property"));
		value = qemu_opts_get(&opts, "value");
	} else {
		qemu_opts_done(&opts);
		return vm_xml_error(err, a->node, -EINVAL,
				    "<qemu:arg value='%.48s'>: -global expects DRIVER.PROPERTY=VALUE",
				    a->value);
	}
	snprintf(what, sizeof(what), "-global '%.64s'", a->value);
	for (size_t i = 0; r >= 0 && i < set->n; i++)
		if (global_applies(&set->c[i], driver))
			r = gpu_props_set(&set->c[i].global, prop, value, a->node, what, err);
	/* Validate even when no device is reached: QEMU would fail on it. */
	if (r >= 0 && qemu_driver_is_virtio_gpu(driver)) {
		struct gpu_props scratch = {};

		r = gpu_props_set(&scratch, prop, value, a->node, what, err);
	}
	qemu_opts_done(&opts);
	return r;
}

static bool arg_is(const char *arg, const char *option)
{
	/* QEMU accepts every option with one dash or two. */
	if (arg[0] == '-' && arg[1] == '-')
		arg++;
	return streq(arg, option);
}

typedef int (*arg_handler)(struct gpu_set *set, const struct qemu_arg *a, struct mt_error *err);

static const struct {
	const char *option;
	arg_handler handle;
	bool defines_device;
} qemu_options[] = {
	{ "-device", add_device, true },
	{ "-set", apply_set, false },
	{ "-global", apply_global, false },
};

static int qemu_option_index(const char *arg)
{
	for (size_t o = 0; o < ELEMENTSOF(qemu_options); o++)
		if (arg_is(arg, qemu_options[o].option))
			return (int)o;
	return -1;
}

/* Devices in a first pass, -set and -global in a second: they refer to
 * devices, whatever their order on the command line. */
static int apply_commandline(struct gpu_set *set, const struct qemu_args *args,
			     struct mt_error *err)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < args->n; i++) {
			int o = qemu_option_index(args->a[i].value), r;

			if (o < 0)
				continue;
			if (i + 1 >= args->n)
				return vm_xml_error(err, args->a[i].node, -EINVAL,
						    "<qemu:arg value='%s'> is not followed by its value",
						    qemu_options[o].option);
			i++;
			if (qemu_options[o].defines_device != (pass == 0))
				continue;
			r = qemu_options[o].handle(set, &args->a[i], err);
			if (r < 0)
				return r;
		}
	return 0;
}

static void gpu_set_to_vm(const struct gpu_set *set, struct vm *vm)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct gpu_candidate *c = &set->c[i];
		uint64_t hostmem = c->own.has_hostmem ? c->own.hostmem :
				   c->global.has_hostmem ? c->global.hostmem : 0;
		bool venus = c->own.has_venus ? c->own.venus : c->global.has_venus && c->global.venus;

		if (!c->virtio_gpu)
			continue;
		if (hostmem > 0) {
			vm->virtio_gpu_hostmem = true;
			if (hostmem > vm->hostmem_bytes)
				vm->hostmem_bytes = hostmem;  /* the largest window */
		}
		vm->venus |= venus;
	}
}

int vm_parse_qemu_extensions(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	_cleanup_(gpu_set_done) struct gpu_set set = {};
	_cleanup_(qemu_args_done) struct qemu_args args = {};
	int r;

	r = gpu_set_add_videos(&set, domain);
	for (xmlNode *n = xmlFirstElementChild((xmlNode *)domain); r >= 0 && n;
	     n = xmlNextElementSibling(n)) {
		if (xml_is_ns(n, QEMU_NS_URI, "override"))
			r = apply_override(&set, n, err);
		else if (xml_is_ns(n, QEMU_NS_URI, "commandline"))
			r = collect_args(n, &args, err);
	}
	if (r >= 0)
		r = apply_commandline(&set, &args, err);
	if (r < 0)
		return r;
	gpu_set_to_vm(&set, vm);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* KVM state: presence and KVM_CAP_DISABLE_QUIRKS2 asked of /dev/kvm on the
 * live host, or taken from memtype-snapshot.json in a captured root (only
 * an ioctl can tell it); vendor module and TDP from its parameters. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/json-util.h"
#include "common/macro.h"
#include "inventory-internal.h"

#define SNAPSHOT_MAX (1024 * 1024)

const struct kvm_module_info kvm_modules[] = {
	{ "kvm_intel", "ept" },
	{ "kvm_amd", "npt" },
	/* PVM runs guests with shadow paging only (FACTS §1, §10). */
	{ "kvm_pvm", NULL },
};
const size_t n_kvm_modules = ELEMENTSOF(kvm_modules);


static int read_tdp_param(const char *root, const struct kvm_module_info *m, struct host *h)
{
	char rel[128], path[4096], value[16];
	bool on;
	int r;

	if (!m->tdp_param) {
		h->kvm.tdp = MT_NO;
		return 0;
	}
	snprintf(rel, sizeof(rel), "/sys/module/%s/parameters/%s", m->name, m->tdp_param);
	r = root_path(root, rel, path, sizeof(path));
	if (r < 0)
		return r;
	if (read_one_line(path, value, sizeof(value)) < 0)
		return host_add_note(h, "cannot read %s: TDP mode unknown", path);
	if (parse_kernel_bool(value, &on) < 0)
		return host_add_note(h, "%s: \"%s\" is not Y/N/1/0: TDP mode unknown", path, value);
	h->kvm.tdp = on ? MT_YES : MT_NO;
	return 0;
}

static int read_kvm_module(const char *root, struct host *h)
{
	for (size_t i = 0; i < n_kvm_modules; i++) {
		char rel[64], path[4096];
		int r;

		snprintf(rel, sizeof(rel), "/sys/module/%s", kvm_modules[i].name);
		r = root_path(root, rel, path, sizeof(path));
		if (r < 0)
			return r;
		if (access(path, F_OK) < 0)
			continue;
		snprintf(h->kvm.module, sizeof(h->kvm.module), "%s", kvm_modules[i].name);
		return read_tdp_param(root, &kvm_modules[i], h);
	}
	return 0;
}

static int probe_dev_kvm(struct host *h)
{
	_cleanup_close_ int fd = -1;
	int mask;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		h->kvm.present = MT_NO;
		return 0;
	}
	if (fd < 0) {
		h->kvm.present = MT_YES;
		return host_add_note(h, "cannot open /dev/kvm: %s: supported KVM quirks unknown",
				     strerror(errno));
	}
	h->kvm.present = MT_YES;
	/* 0 is a real answer: a kernel without KVM_CAP_DISABLE_QUIRKS2. */
	mask = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2);
	if (mask < 0)
		return host_add_note(h, "KVM_CHECK_EXTENSION(KVM_CAP_DISABLE_QUIRKS2) failed: %s: supported KVM quirks unknown",
				     strerror(errno));
	h->kvm.quirks_known = true;
	h->kvm.supported_quirks = (unsigned)mask;
	snprintf(h->kvm.quirks_source, sizeof(h->kvm.quirks_source), "ioctl");
	return 0;
}

static int snapshot_get_kvm(json_object *kvm, const char *name, struct host_kvm *ret,
			    struct mt_error *err)
{
	json_object *present, *quirks;

	if (json_object_object_get_ex(kvm, "present", &present)) {
		if (!json_object_is_type(present, json_type_boolean))
			return mt_error_set(err, -EINVAL, "%s: key \"kvm.present\": expected true or false", name);
		ret->present = json_object_get_boolean(present) ? MT_YES : MT_NO;
	}
	if (json_object_object_get_ex(kvm, "supported_quirks", &quirks)) {
		int64_t v;

		if (!json_object_is_type(quirks, json_type_int))
			return mt_error_set(err, -EINVAL, "%s: key \"kvm.supported_quirks\": expected an integer",
					    name);
		v = json_object_get_int64(quirks);
		if (v < 0 || v > UINT32_MAX)
			return mt_error_set(err, -ERANGE, "%s: key \"kvm.supported_quirks\": %lld is not a quirk mask",
					    name, (long long)v);
		ret->quirks_known = true;
		ret->supported_quirks = (uint64_t)v;
		snprintf(ret->quirks_source, sizeof(ret->quirks_source), "snapshot");
	}
	return 0;
}

int snapshot_parse(const char *text, const char *name, struct host_kvm *ret_kvm,
		   struct mt_error *err)
{
	_cleanup_json_ json_object *doc = NULL;
	enum json_tokener_error jerr = json_tokener_success;
	struct host_kvm kvm = { .present = MT_UNKNOWN, .tdp = MT_UNKNOWN };
	json_object *schema, *o;
	int r;

	doc = json_tokener_parse_verbose(text, &jerr);
	if (!doc)
		return mt_error_set(err, -EINVAL, "%s: not valid JSON: %s", name,
				    json_tokener_error_desc(jerr));
	if (!json_object_is_type(doc, json_type_object))
		return mt_error_set(err, -EINVAL, "%s: expected a JSON object", name);
	if (!json_object_object_get_ex(doc, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_string) ||
	    !streq(json_object_get_string(schema), SNAPSHOT_SCHEMA))
		return mt_error_set(err, -EINVAL, "%s: key \"schema\": expected \"%s\"", name, SNAPSHOT_SCHEMA);
	if (json_object_object_get_ex(doc, "kvm", &o)) {
		if (!json_object_is_type(o, json_type_object))
			return mt_error_set(err, -EINVAL, "%s: key \"kvm\": expected an object", name);
		r = snapshot_get_kvm(o, name, &kvm, err);
		if (r < 0)
			return r;
	}
	ret_kvm->present = kvm.present;
	ret_kvm->quirks_known = kvm.quirks_known;
	ret_kvm->supported_quirks = kvm.supported_quirks;
	memcpy(ret_kvm->quirks_source, kvm.quirks_source, sizeof(kvm.quirks_source));
	return 0;
}

int snapshot_format(const struct host_kvm *kvm, char **ret_text)
{
	_cleanup_json_ json_object *doc = json_object_new_object();
	json_object *k = json_object_new_object();
	char *text;

	if (!doc || !k) {
		json_object_put(k);
		return -ENOMEM;
	}
	json_object_object_add(doc, "schema", json_object_new_string(SNAPSHOT_SCHEMA));
	json_object_object_add(doc, "kvm", k);
	if (kvm->present != MT_UNKNOWN)
		json_object_object_add(k, "present", json_object_new_boolean(kvm->present == MT_YES));
	if (kvm->quirks_known)
		json_object_object_add(k, "supported_quirks", json_object_new_int64((int64_t)kvm->supported_quirks));
	if (asprintf(&text, "%s\n",
		     json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

static int read_snapshot(const char *root, struct host *h, struct mt_error *err)
{
	_cleanup_free_ char *text = NULL;
	char path[4096];
	int r;

	r = root_path(root, "/" SNAPSHOT_FILE, path, sizeof(path));
	if (r < 0)
		return mt_error_set(err, r, "%s: root path too long", root);
	r = read_file_bounded(path, SNAPSHOT_MAX, &text, NULL);
	if (r == -ENOENT)
		return host_add_note(h, "no %s in %s: KVM presence and supported quirks unknown",
				     SNAPSHOT_FILE, root);
	if (r < 0)
		return mt_error_set(err, r, "cannot read %s: %s", path, strerror(-r));
	return snapshot_parse(text, path, &h->kvm, err);
}

int inventory_read_kvm(const char *root, bool probe, struct host *h, struct mt_error *err)
{
	int r;

	h->kvm.present = MT_UNKNOWN;
	h->kvm.tdp = MT_UNKNOWN;
	r = read_kvm_module(root, h);
	if (r < 0)
		return r;
	if (!root_is_live(root))
		return read_snapshot(root, h, err);
	if (probe)
		return probe_dev_kvm(h);
	h->kvm.present = access("/dev/kvm", F_OK) == 0 ? MT_YES : MT_NO;
	return 0;
}
